/* mod_sslorders: compose plain-text mail. See so_mail.h. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "so_mail.h"
#include "so_util.h"

#define LINE_MAX_HEADER 78
#define QP_LINE 76
#define WORD_BYTES 39 /* raw bytes per encoded-word: 52 base64 characters, 64 in all */

/* ---- checks ------------------------------------------------------------------------- */

/* Valid UTF-8 (no overlong forms, no surrogates); control characters only as allowed:
 * ctl = 0 none, 1 tab, CR and LF too. */
static int utf8_ok(const char *s, apr_size_t len, int ctl)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = u[i];
        unsigned long cp;
        int n, k;
        if (c < 0x80) {
            if ((c < 0x20 && !(ctl && (c == '\t' || c == '\r' || c == '\n'))) || c == 0x7f) {
                return 0;
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        }
        else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (i + (apr_size_t)n >= len) {
            return 0;
        }
        for (k = 1; k <= n; k++) {
            if ((u[i + (apr_size_t)k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (u[i + (apr_size_t)k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) {
            return 0; /* overlong, out of range, surrogate or a C1 control */
        }
        i += (apr_size_t)n + 1;
    }
    return 1;
}

int so_mail_addr_ok(const char *addr)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    const char *at, *s, *label;
    apr_size_t n;

    if (!addr || (n = strlen(addr)) < 3 || n > 254 || !(at = strrchr(addr, '@'))
        || at == addr || at - addr > 64) {
        return 0;
    }
    for (s = addr; s < at; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '.') {
            if (s == addr || s[1] == '@' || s[1] == '.') {
                return 0;
            }
        }
        else if (!(isalnum(c) && c < 0x80) && !strchr(atext, c)) {
            return 0;
        }
    }
    label = at + 1;
    if (!*label || !strchr(label, '.')) {
        return 0;
    }
    for (s = label;; s++) {
        if (*s == '.' || *s == '\0') {
            if (s == label || s - label > 63 || label[0] == '-' || s[-1] == '-') {
                return 0;
            }
            if (!*s) {
                break;
            }
            label = s + 1;
        }
        else if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
                   || *s == '-')) {
            return 0;
        }
    }
    return 1;
}

/* ---- header text -------------------------------------------------------------------- */

static int is_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* RFC 2047 B encoded-words of at most WORD_BYTES bytes each, never splitting a UTF-8
 * sequence, joined by fold ("\r\n "). */
static const char *encode_words(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t len = strlen(s), i = 0;
    const char *out = "";

    while (i < len) {
        apr_size_t n = len - i < WORD_BYTES ? len - i : WORD_BYTES;
        while (i + n < len && (u[i + n] & 0xc0) == 0x80) {
            n--; /* do not cut before a continuation byte */
        }
        out = apr_pstrcat(p, out, *out ? "\r\n " : "", "=?UTF-8?B?",
                          so_base64(p, u + i, n), "?=", NULL);
        i += n;
    }
    return out;
}

/* Unstructured text (Subject): ASCII folded at spaces, or encoded-words. */
static const char *header_text(apr_pool_t *p, const char *name, const char *s)
{
    apr_size_t col, i, n = strlen(s);
    char *out;
    const char *word;

    if (!is_ascii(s) || strstr(s, "=?")) {
        return apr_pstrcat(p, name, ": ", encode_words(p, s), "\r\n", NULL);
    }
    /* fold at spaces before column 78 where possible (never inside a word) */
    out = apr_palloc(p, strlen(name) + 2 + n * 3 + 3);
    strcpy(out, name);
    strcat(out, ": ");
    col = strlen(out);
    i = 0;
    while (i < n) {
        apr_size_t wl = 0;
        word = s + i;
        while (i + wl < n && s[i + wl] != ' ') {
            wl++;
        }
        if (col + wl > LINE_MAX_HEADER && col > strlen(name) + 2 && out[strlen(out) - 1] == ' ') {
            out[strlen(out) - 1] = '\0';
            strcat(out, "\r\n ");
            col = 1;
        }
        strncat(out, word, wl);
        col += wl;
        i += wl;
        if (i < n) { /* the space */
            strcat(out, " ");
            col++;
            i++;
        }
    }
    return apr_pstrcat(p, out, "\r\n", NULL);
}

/* A display name: a quoted-string for ASCII, encoded-words otherwise. */
static const char *display_name(apr_pool_t *p, const char *s)
{
    char *q, *o;
    if (!is_ascii(s) || strstr(s, "=?")) {
        return encode_words(p, s);
    }
    q = o = apr_palloc(p, strlen(s) * 2 + 3);
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

static const char *rfc5322_date(apr_pool_t *p, apr_int64_t epoch)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        return NULL;
    }
    return apr_psprintf(p, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                        months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- body --------------------------------------------------------------------------- */

/* The body's lines (CRLF or LF ends), and whether 7bit will do. */
static int body_is_7bit(const char *b)
{
    const char *line = b;
    for (;;) {
        const char *e = strchr(line, '\n');
        apr_size_t n = e ? (apr_size_t)(e - line) : strlen(line);
        apr_size_t i;
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (n > 998 || (n > 0 && line[0] == '.') || strncmp(line, "From ", 5) == 0) {
            return 0;
        }
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            if (c >= 0x80 || c == '\r' || (c < 0x20 && c != '\t')) {
                return 0;
            }
        }
        if (!e) {
            return 1;
        }
        line = e + 1;
    }
}

static void append(char **o, const char *s, apr_size_t n)
{
    memcpy(*o, s, n);
    *o += n;
}

/* Quoted-printable (RFC 2045 6.7) with CRLF hard breaks and "=" soft breaks. */
static const char *body_qp(apr_pool_t *p, const char *b)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t len = strlen(b);
    char *out = apr_palloc(p, len * 3 + len / 20 * 3 + 16), *o = out;
    const char *line = b;

    for (;;) {
        const char *e = strchr(line, '\n');
        apr_size_t n = e ? (apr_size_t)(e - line) : strlen(line), i, col = 0;
        if (n > 0 && line[n - 1] == '\r' && e) {
            n--;
        }
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            char enc[3];
            apr_size_t w;
            int literal = c >= 33 && c <= 126 && c != '=';
            if ((c == ' ' || c == '\t') && i + 1 < n) {
                literal = 1; /* white space only encoded at the end of a line */
            }
            if (i == 0 && (c == '.' || (c == 'F' && strncmp(line, "From ", 5) == 0))) {
                literal = 0;
            }
            w = literal ? 1 : 3;
            if (col + w > QP_LINE - 1) { /* room for the "=" of a soft break */
                append(&o, "=\r\n", 3);
                col = 0;
            }
            if (literal) {
                *o++ = (char)c;
            }
            else {
                enc[0] = '=';
                enc[1] = hex[c >> 4];
                enc[2] = hex[c & 15];
                append(&o, enc, 3);
            }
            col += w;
        }
        if (!e) {
            break;
        }
        append(&o, "\r\n", 2);
        line = e + 1;
    }
    *o = '\0';
    return out;
}

/* 7bit: the lines with CRLF ends */
static const char *body_crlf(apr_pool_t *p, const char *b)
{
    apr_size_t len = strlen(b);
    char *out = apr_palloc(p, len * 2 + 1), *o = out;
    for (; *b; b++) {
        if (*b == '\n' && (o == out || o[-1] != '\r')) {
            *o++ = '\r';
        }
        *o++ = *b;
    }
    *o = '\0';
    return out;
}

/* ---- the message -------------------------------------------------------------------- */

static apr_status_t header_value_ok(apr_pool_t *p, const char *what, const char *v,
                                    const char **why)
{
    if (strpbrk(v, "\r\n")) {
        *why = apr_psprintf(p, "the %s contains a line break", what);
        return APR_EINVAL;
    }
    if (!utf8_ok(v, strlen(v), 0)) {
        *why = apr_psprintf(p, "the %s contains control characters or is not UTF-8", what);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t addr_check(apr_pool_t *p, const char *what, const char *a, const char **why)
{
    if (!a || !so_mail_addr_ok(a)) {
        *why = a && !strpbrk(a, "\r\n")
                   ? apr_psprintf(p, "the %s \"%s\" is not a valid e-mail address", what, a)
                   : apr_psprintf(p, "the %s is not a valid e-mail address", what);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t so_mail_compose(const char **out, apr_size_t *len, apr_pool_t *p,
                             const so_mail_msg_t *m, const char **why)
{
    const char *to = "", *from, *date, *domain, *rnd, *body, *msg;
    apr_size_t col;
    int i, qp;
    apr_status_t rv;

    *out = NULL;
    *why = NULL;
    if (!m || !m->subject || !m->body || !m->to) {
        *why = "a message needs a sender, recipients, a subject and a body";
        return APR_EINVAL;
    }
    if ((rv = addr_check(p, "sender", m->from, why)) != APR_SUCCESS
        || (m->reply_to && (rv = addr_check(p, "reply-to address", m->reply_to, why))
                               != APR_SUCCESS)
        || (m->from_name && (rv = header_value_ok(p, "sender name", m->from_name, why))
                                != APR_SUCCESS)
        || (rv = header_value_ok(p, "subject", m->subject, why)) != APR_SUCCESS) {
        return rv;
    }
    if (strlen(m->subject) > SO_MAIL_MAX_SUBJECT || (m->from_name && strlen(m->from_name) > 200)) {
        *why = "the subject or the sender name is too long";
        return APR_EINVAL;
    }
    if (m->to->nelts < 1 || m->to->nelts > SO_MAIL_MAX_RECIPIENTS) {
        *why = apr_psprintf(p, "a message needs 1 to %d recipients", SO_MAIL_MAX_RECIPIENTS);
        return APR_EINVAL;
    }
    if (strlen(m->body) > SO_MAIL_MAX_BODY || !utf8_ok(m->body, strlen(m->body), 1)) {
        *why = "the body is not UTF-8 text (or larger than 1 MiB)";
        return APR_EINVAL;
    }
    /* To: folded between addresses */
    col = 4;
    for (i = 0; i < m->to->nelts; i++) {
        const char *a = APR_ARRAY_IDX(m->to, i, const char *);
        if ((rv = addr_check(p, "recipient", a, why)) != APR_SUCCESS) {
            return rv;
        }
        if (i > 0 && col + 2 + strlen(a) > LINE_MAX_HEADER) {
            to = apr_pstrcat(p, to, ",\r\n ", a, NULL);
            col = 1 + strlen(a);
        }
        else {
            to = apr_pstrcat(p, to, i ? ", " : "", a, NULL);
            col += (i ? 2 : 0) + strlen(a);
        }
    }
    from = m->from_name && *m->from_name
               ? apr_pstrcat(p, display_name(p, m->from_name), " <", m->from, ">", NULL)
               : m->from;
    if (!(date = rfc5322_date(p, m->date))) {
        *why = "invalid date";
        return APR_EINVAL;
    }
    domain = m->message_id_domain ? m->message_id_domain : strrchr(m->from, '@') + 1;
    if (!so_mail_addr_ok(apr_pstrcat(p, "x@", domain, NULL))) {
        *why = "the Message-ID domain is not a domain name";
        return APR_EINVAL;
    }
    if ((rv = so_random_hex(&rnd, p, 12)) != APR_SUCCESS) {
        *why = "no random numbers";
        return rv;
    }
    qp = !body_is_7bit(m->body);
    body = qp ? body_qp(p, m->body) : body_crlf(p, m->body);
    msg = apr_pstrcat(p, "Date: ", date, "\r\n",
                      "From: ", from, "\r\n",
                      "To: ", to, "\r\n",
                      m->reply_to ? "Reply-To: " : "", m->reply_to ? m->reply_to : "",
                      m->reply_to ? "\r\n" : "",
                      header_text(p, "Subject", m->subject),
                      "Message-ID: <", rnd, ".", so_i64str(p, m->date), "@", domain, ">\r\n",
                      "MIME-Version: 1.0\r\n",
                      "Content-Type: text/plain; charset=utf-8\r\n",
                      "Content-Transfer-Encoding: ", qp ? "quoted-printable" : "7bit", "\r\n",
                      "Auto-Submitted: auto-generated\r\n",
                      "\r\n", body, NULL);
    /* the message ends with a line end */
    if (!*body || msg[strlen(msg) - 1] != '\n') {
        msg = apr_pstrcat(p, msg, "\r\n", NULL);
    }
    *out = msg;
    if (len) {
        *len = strlen(msg);
    }
    return APR_SUCCESS;
}
