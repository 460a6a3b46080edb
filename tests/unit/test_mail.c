/* Composing mail: the exact header layout, RFC 2047 subjects and names, quoted-printable
 * bodies, CRLF everywhere, refusals (header injection, bad addresses), and a cross-check of
 * every message with Python's email parser (run through so_exec). */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "test_common.h"
#include "../../src/core/so_exec.h"
#include "../../src/core/so_mail.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static apr_array_header_t *addrs(const char *const *a)
{
    apr_array_header_t *arr = apr_array_make(pool, 4, sizeof(const char *));
    for (; *a; a++) {
        APR_ARRAY_PUSH(arr, const char *) = *a;
    }
    return arr;
}

static so_mail_msg_t msg(const char *subject, const char *body)
{
    static const char *const to[] = {"alice@example.com", "bob@example.org", NULL};
    so_mail_msg_t m;
    memset(&m, 0, sizeof(m));
    m.from = "ca@sslorders.example.net";
    m.from_name = "SSL Orders";
    m.to = addrs(to);
    m.subject = subject;
    m.body = body;
    m.date = 1795478400; /* Tue, 24 Nov 2026 00:00:00 UTC */
    return m;
}

static const char *compose_ok(const so_mail_msg_t *m)
{
    const char *out = NULL, *why = NULL;
    apr_size_t len = 0;
    ck_assert_msg(so_mail_compose(&out, &len, pool, m, &why) == APR_SUCCESS, "%s", why);
    ck_assert_uint_eq(len, strlen(out));
    return out;
}

static const char *compose_fails(const so_mail_msg_t *m)
{
    const char *out = (const char *)1, *why = NULL;
    ck_assert_int_eq(so_mail_compose(&out, NULL, pool, m, &why), APR_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(why);
    return why;
}

/* CRLF only; header lines at most 78 characters, body lines at most 998 (76 for QP) */
static void check_lines(const char *s, int qp)
{
    const char *p, *line = s;
    int in_body = 0;
    for (p = s; *p; p++) {
        if (*p == '\r') {
            ck_assert_msg(p[1] == '\n', "a bare CR at %ld", (long)(p - s));
        }
        if (*p == '\n') {
            apr_size_t n;
            ck_assert_msg(p > s && p[-1] == '\r', "a bare LF at %ld", (long)(p - s));
            n = (apr_size_t)(p - 1 - line);
            if (!in_body) {
                ck_assert_msg(n <= 78, "header line of %lu characters: %.*s", (unsigned long)n,
                              (int)n, line);
                if (n == 0) {
                    in_body = 1;
                }
            }
            else {
                ck_assert_uint_le(n, qp ? 76 : 998);
            }
            line = p + 1;
        }
    }
    ck_assert(in_body);
}

/* Python's email package (policy.default) reading the message. */
static json_t *python_parse(const char *message)
{
    static const char *const script =
        "import sys, json, email, email.policy\n"
        "m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)\n"
        "defects = [type(d).__name__ for d in m.defects]\n"
        "for k in m.keys():\n"
        "    defects += [type(d).__name__ for d in m[k].defects]\n"
        "print(json.dumps({'subject': str(m['subject']),\n"
        "  'from_name': m['from'].addresses[0].display_name,\n"
        "  'from': m['from'].addresses[0].addr_spec,\n"
        "  'to': [a.addr_spec for a in m['to'].addresses],\n"
        "  'date': int(m['date'].datetime.timestamp()),\n"
        "  'cte': str(m['content-transfer-encoding']), 'type': m.get_content_type(),\n"
        "  'charset': m.get_content_charset(), 'body': m.get_content().replace('\\r\\n', '\\n'),\n"
        "  'msgid': str(m['message-id']), 'defects': defects}))\n";
    const char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
    so_exec_cmd_t c = {.argv = argv, .input = message, .input_len = strlen(message),
                       .timeout = apr_time_from_sec(10)};
    so_exec_result_t *r = NULL;
    const char *why = NULL;
    json_error_t err;
    json_t *j;

    ck_assert_msg(so_exec_run(&r, pool, &c, &why) == APR_SUCCESS, "python: %s", why);
    j = json_loads(r->out, 0, &err);
    ck_assert_msg(j != NULL, "python said: %s", r->out);
    ck_assert_int_eq(json_array_size(json_object_get(j, "defects")), 0);
    return j;
}

static const char *jstr(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    ck_assert_msg(json_is_string(v), "%s missing", key);
    return apr_pstrdup(pool, json_string_value(v));
}

START_TEST(ascii_message)
{
    so_mail_msg_t m = msg("Your certificate for www.example.com is ready",
                          "Hello,\n\nthe certificate is attached.\n-- \nSSL Orders\n");
    const char *out = compose_ok(&m), *id;
    char rnd[64];
    json_t *j;

    id = strstr(out, "Message-ID: <");
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(sscanf(id, "Message-ID: <%24[0-9a-f].1795478400@sslorders.example.net>", rnd),
                     1);
    ck_assert_uint_eq(strlen(rnd), 24);
    ck_assert_str_eq(out, apr_pstrcat(pool,
        "Date: Tue, 24 Nov 2026 00:00:00 +0000\r\n"
        "From: \"SSL Orders\" <ca@sslorders.example.net>\r\n"
        "To: alice@example.com, bob@example.org\r\n"
        "Subject: Your certificate for www.example.com is ready\r\n"
        "Message-ID: <", rnd, ".1795478400@sslorders.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "\r\n"
        "Hello,\r\n\r\nthe certificate is attached.\r\n-- \r\nSSL Orders\r\n", NULL));
    check_lines(out, 0);

    j = python_parse(out);
    ck_assert_str_eq(jstr(j, "subject"), m.subject);
    ck_assert_str_eq(jstr(j, "from_name"), "SSL Orders");
    ck_assert_str_eq(jstr(j, "from"), "ca@sslorders.example.net");
    ck_assert_int_eq(json_array_size(json_object_get(j, "to")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to"), 1)),
                     "bob@example.org");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "date")), 1795478400);
    ck_assert_str_eq(jstr(j, "type"), "text/plain");
    ck_assert_str_eq(jstr(j, "charset"), "utf-8");
    ck_assert_str_eq(jstr(j, "body"), m.body);
    json_decref(j);

    /* two messages never share a Message-ID */
    ck_assert_str_ne(compose_ok(&m), out);
}
END_TEST

START_TEST(utf8_subject_name_and_body)
{
    const char *subject = "Zertifikat f\xc3\xbcr m\xc3\xbcller-b\xc3\xa4""ckerei.de ist fertig \xe2\x9c\x85 "
                          "\xe2\x80\x94 bitte pr\xc3\xbc""fen Sie die Daten \xe6\x97\xa5\xe6\x9c\xac "
                          "und \xf0\x9f\x94\x90 best\xc3\xa4tigen";
    const char *body = "Gr\xc3\xbc\xc3\x9f""e,\n"
                       "a line with trailing space \n"
                       "a very long line that goes on and on and on and on and on and on and on "
                       "and on and on and on and on and on = with an equals sign and more text\n"
                       ".\n"
                       "From here on\n"
                       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n";
    so_mail_msg_t m = msg(subject, body);
    const char *out, *s, *e;
    json_t *j;

    m.from_name = "Z\xc3\xa9ro \"Trust\" CA";
    out = compose_ok(&m);
    check_lines(out, 1);
    ck_assert_ptr_nonnull(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n"));
    /* encoded words: short, and none splits a character (each decodes on its own: Python
     * would report a defect otherwise) */
    ck_assert_ptr_nonnull(strstr(out, "Subject: =?UTF-8?B?"));
    for (s = strstr(out, "=?UTF-8?B?"); s; s = strstr(e, "=?UTF-8?B?")) {
        e = strstr(s, "?=");
        ck_assert_ptr_nonnull(e);
        ck_assert_int_le(e + 2 - s, 75);
    }
    /* the body: =2E for a leading dot, =46 for "From ", =20 for a trailing space */
    ck_assert_ptr_nonnull(strstr(out, "\r\n=2E\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n=46rom here on\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "trailing space=20\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "=3D with"));

    j = python_parse(out);
    ck_assert_str_eq(jstr(j, "subject"), subject);
    ck_assert_str_eq(jstr(j, "from_name"), m.from_name);
    ck_assert_str_eq(jstr(j, "cte"), "quoted-printable");
    ck_assert_str_eq(jstr(j, "body"), body);
    json_decref(j);

    /* an ASCII name with quotes and backslashes is a quoted-string */
    m.from_name = "Ann \"The CA\" Back\\slash";
    m.subject = "plain";
    out = compose_ok(&m);
    ck_assert_ptr_nonnull(strstr(out, "From: \"Ann \\\"The CA\\\" Back\\\\slash\" <ca@"));
    j = python_parse(out);
    ck_assert_str_eq(jstr(j, "from_name"), m.from_name);
    json_decref(j);

    /* text that looks like an encoded word is encoded itself */
    m.subject = "=?UTF-8?B?aGk=?=";
    j = python_parse(compose_ok(&m));
    ck_assert_str_eq(jstr(j, "subject"), m.subject);
    json_decref(j);
}
END_TEST

START_TEST(folding)
{
    static const char *const many[] = {
        "a.very.long.recipient.address.number.one@example.com",
        "another.long.recipient.address.number.two@example.com",
        "third@example.com", "fourth.recipient.with.a.long.name@sub.example.org", NULL};
    so_mail_msg_t m = msg("A long ASCII subject that certainly needs folding because it is far "
                          "longer than seventy-eight characters in total, really",
                          "x");
    const char *out;
    json_t *j;
    int i;

    m.to = addrs(many);
    out = compose_ok(&m);
    check_lines(out, 0);
    ck_assert_ptr_nonnull(strstr(out, ",\r\n a")); /* To: folded between addresses */
    ck_assert_ptr_nonnull(strstr(out, "Subject: A long ASCII subject"));
    ck_assert(strstr(out, "\r\n ") != NULL);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nx\r\n")); /* a body without a final newline */
    j = python_parse(out);
    ck_assert_str_eq(jstr(j, "subject"), m.subject);
    ck_assert_int_eq(json_array_size(json_object_get(j, "to")), 4);
    for (i = 0; i < 4; i++) {
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "to"), (size_t)i)),
                         many[i]);
    }
    json_decref(j);

    /* an empty body, a Reply-To, an explicit Message-ID domain */
    m.body = "";
    m.reply_to = "support@example.net";
    m.message_id_domain = "mid.example.net";
    out = compose_ok(&m);
    ck_assert_ptr_nonnull(strstr(out, "\r\nReply-To: support@example.net\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "@mid.example.net>\r\n"));
    check_lines(out, 0);
}
END_TEST

START_TEST(no_header_injection)
{
    static const char *const bad_to[] = {"alice@example.com\r\nBcc: eve@evil.example", NULL};
    static const char *const bad_addrs[] = {"a b@example.com", "a@", "@example.com",
                                            "a..b@example.com", ".a@example.com",
                                            "a@example", "a@-x.example.com", "a@x_y.example.com",
                                            "\"q\"@example.com", "a@[127.0.0.1]",
                                            "<a@example.com>", "a@example.com, b@example.com",
                                            "m\xc3\xbcller@example.com", "", NULL};
    so_mail_msg_t m = msg("Hello", "body\n");
    int i;

    m.subject = "Hi\r\nBcc: eve@evil.example";
    ck_assert_ptr_nonnull(strstr(compose_fails(&m), "subject contains a line break"));
    m.subject = "Hi\nBcc: eve@evil.example";
    compose_fails(&m);
    m.subject = "Hi\x1b[31m";
    ck_assert_ptr_nonnull(strstr(compose_fails(&m), "control characters"));
    m.subject = "bad \xc3 utf-8";
    compose_fails(&m);
    m.subject = "Hello";
    m.from_name = "Eve\r\nBcc: eve@evil.example";
    ck_assert_ptr_nonnull(strstr(compose_fails(&m), "sender name"));
    m.from_name = NULL;
    m.to = addrs(bad_to);
    ck_assert_str_eq(compose_fails(&m), "the recipient is not a valid e-mail address");
    m.to = addrs(bad_addrs + 1);
    for (i = 0; bad_addrs[i]; i++) {
        ck_assert_msg(!so_mail_addr_ok(bad_addrs[i]), "%s accepted", bad_addrs[i]);
        m.from = bad_addrs[i];
        compose_fails(&m);
    }
    ck_assert(so_mail_addr_ok("first.last+tag@sub-domain.example.co.uk"));
    ck_assert(so_mail_addr_ok("o'brien@example.ie"));
    m.from = "ca@example.com";
    m.reply_to = "x\r\n@example.com";
    compose_fails(&m);
    m.reply_to = NULL;
    m.body = "bad \xff utf-8\n";
    ck_assert_ptr_nonnull(strstr(compose_fails(&m), "UTF-8"));
    m.body = "ok";
    m.to = apr_array_make(pool, 1, sizeof(const char *));
    ck_assert_ptr_nonnull(strstr(compose_fails(&m), "recipients"));
}
END_TEST

TCase *so_test_mail_case(void)
{
    TCase *tc = tcase_create("mail");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ascii_message);
    tcase_add_test(tc, utf8_subject_name_and_body);
    tcase_add_test(tc, folding);
    tcase_add_test(tc, no_header_injection);
    return tc;
}
