#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <jansson.h>

#include "test_common.h"
#include "../../src/core/so_crypto.h"
#include "../../src/core/so_errors.h"
#include "../../src/core/so_jsonw.h"
#include "../../src/core/so_memo.h"
#include <apr_thread_proc.h>
#include <apr_atomic.h>
#include "../../src/core/so_util.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(time_roundtrip)
{
    apr_int64_t t;
    ck_assert_str_eq(so_time_fmt(pool, 0), "1970-01-01 00:00:00");
    ck_assert_str_eq(so_time_fmt(pool, 1795478400), "2026-11-24 00:00:00");
    ck_assert_int_eq(so_time_parse("2026-11-24 00:00:00", &t), APR_SUCCESS);
    ck_assert_int_eq(t, 1795478400);
    ck_assert_int_eq(so_time_parse("2026-11-24", &t), APR_SUCCESS);
    ck_assert_int_eq(t, 1795478400);
    ck_assert_int_eq(so_time_parse("2026-11-24T01:02:03Z", &t), APR_SUCCESS);
    ck_assert_int_eq(t, 1795478400 + 3723);
    ck_assert_int_eq(so_time_parse("2026-02-31", &t), APR_EINVAL);
    ck_assert_int_eq(so_time_parse("2026-13-01", &t), APR_EINVAL);
    ck_assert_int_eq(so_time_parse("26-11-24", &t), APR_EINVAL);
    ck_assert_int_eq(so_time_parse("2026-11-24 1:00:00", &t), APR_EINVAL);
    ck_assert_int_eq(so_time_parse("2026-11-24x", &t), APR_EINVAL);
    ck_assert_int_eq(so_time_parse("", &t), APR_EINVAL);
}
END_TEST

/* the direct formatting of years 1970-9999 agrees with gmtime_r and strftime: every
 * day's midnight and last second around the leap days of 1972, 2000 (divisible by 400),
 * 2100 (by 100 only), and a second picked every ~11 days up to the end of 9999 */
static const char *reference_fmt(apr_int64_t epoch)
{
    static char buf[32];
    struct tm tm;
    time_t t = (time_t)epoch;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

START_TEST(time_fmt_agrees_with_strftime)
{
    static const apr_int64_t around[] = {0, 63072000, 946598400, 4107456000};
    apr_int64_t t;
    size_t i;

    for (i = 0; i < sizeof(around) / sizeof(around[0]); i++) {
        for (t = around[i]; t < around[i] + 800 * 86400; t += 86400) {
            ck_assert_str_eq(so_time_fmt(pool, t), reference_fmt(t));
            ck_assert_str_eq(so_time_fmt(pool, t + 86399), reference_fmt(t + 86399));
        }
    }
    for (t = 0; t < APR_INT64_C(253402300800); t += 999983) {
        ck_assert_str_eq(so_time_fmt(pool, t), reference_fmt(t));
    }
    ck_assert_str_eq(so_time_fmt(pool, APR_INT64_C(253402300799)), "9999-12-31 23:59:59");
    /* outside the direct range: gmtime_r as before */
    ck_assert_str_eq(so_time_fmt(pool, -1), "1969-12-31 23:59:59");
    ck_assert_str_eq(so_time_fmt(pool, APR_INT64_C(253402300800)), reference_fmt(APR_INT64_C(253402300800)));
}
END_TEST

START_TEST(money)
{
    apr_int64_t m;
    ck_assert_int_eq(so_money_parse("12.34", &m), APR_SUCCESS);
    ck_assert_int_eq(m, 1234);
    ck_assert_int_eq(so_money_parse("12.5", &m), APR_SUCCESS);
    ck_assert_int_eq(m, 1250);
    ck_assert_int_eq(so_money_parse("100", &m), APR_SUCCESS);
    ck_assert_int_eq(m, 10000);
    ck_assert_int_eq(so_money_parse("-0.01", &m), APR_SUCCESS);
    ck_assert_int_eq(m, -1);
    ck_assert_int_eq(so_money_parse("1.234", &m), APR_EINVAL);
    ck_assert_int_eq(so_money_parse("1.", &m), APR_EINVAL);
    ck_assert_int_eq(so_money_parse("abc", &m), APR_EINVAL);
    ck_assert_int_eq(so_money_parse("", &m), APR_EINVAL);
    ck_assert_str_eq(so_money_fmt(pool, 1234), "12.34");
    ck_assert_str_eq(so_money_fmt(pool, -5), "-0.05");
    ck_assert_str_eq(so_money_fmt(pool, 0), "0.00");
}
END_TEST

START_TEST(ints_and_names)
{
    apr_int64_t v;
    ck_assert_int_eq(so_parse_int64("42", 0, 100, &v), APR_SUCCESS);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(so_parse_int64("101", 0, 100, &v), APR_EINVAL);
    ck_assert_int_eq(so_parse_int64(" 1", 0, 100, &v), APR_EINVAL);
    ck_assert_int_eq(so_parse_int64("1x", 0, 100, &v), APR_EINVAL);
    ck_assert_int_eq(so_parse_int64("+1", 0, 100, &v), APR_EINVAL);
    ck_assert_int_eq(so_parse_int64("99999999999999999999", 0, 100, &v), APR_EINVAL);
    ck_assert(so_is_slug("acme-1"));
    ck_assert(!so_is_slug("-acme"));
    ck_assert(!so_is_slug("Acme"));
    ck_assert(!so_is_slug(""));
    ck_assert(so_is_username("alice@example.com"));
    ck_assert(!so_is_username("alice smith"));
    ck_assert(so_str_is_printable_utf8("h\xc3\xa9llo", 6));
    ck_assert(!so_str_is_printable_utf8("h\xc3", 2));
    ck_assert(!so_str_is_printable_utf8("a\nb", 3));
    ck_assert_str_eq(so_str_trim(pool, "  a b \n"), "a b");
}
END_TEST

START_TEST(hashes_and_random)
{
    const char *a, *b;
    ck_assert_str_eq(so_sha256_hex(pool, "abc", 3, 0),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_str_eq(so_md5_hex(pool, "abc", 3, 1), "900150983CD24FB0D6963F7D28E17F72");
    ck_assert_int_eq(so_random_hex(&a, pool, 16), APR_SUCCESS);
    ck_assert_int_eq(so_random_hex(&b, pool, 16), APR_SUCCESS);
    ck_assert_int_eq(strlen(a), 32);
    ck_assert_str_ne(a, b);
    ck_assert(so_str_ct_equal("abc", "abc"));
    ck_assert(!so_str_ct_equal("abc", "abd"));
    ck_assert(!so_str_ct_equal("abc", "abcd"));
    ck_assert_str_eq(so_base64(pool, (const unsigned char *)"hi", 2), "aGk=");
}
END_TEST

START_TEST(password_hash)
{
    const char *h1, *h2;
    ck_assert_int_eq(so_password_hash(&h1, pool, "correct horse"), APR_SUCCESS);
    ck_assert_int_eq(so_password_hash(&h2, pool, "correct horse"), APR_SUCCESS);
    ck_assert_str_ne(h1, h2); /* salted */
    ck_assert(!strncmp(h1, "scrypt$14$8$1$", 14));
    ck_assert_int_eq(so_password_verify(pool, "correct horse", h1), APR_SUCCESS);
    ck_assert_int_eq(so_password_verify(pool, "correct horsE", h1), APR_EMISMATCH);
    ck_assert_int_eq(so_password_verify(pool, "x", "md5$abc"), APR_EINVAL);
    ck_assert_int_eq(so_password_verify(pool, "x", "scrypt$99$8$1$00$00"), APR_EINVAL);
}
END_TEST

/* A whole file as a string ("" when it does not exist). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    long n;

    if (!f) {
        return "";
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = apr_palloc(pool, (apr_size_t)n + 1);
    ck_assert_int_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Every error code is documented with its HTTP status, in README.md's error table or in
 * the reference (docs/api.md): features append their rows to either. */
START_TEST(errors_documented)
{
    const so_error_def_t *d;
    char *text;

    ck_assert_msg(access("README.md", R_OK) == 0,
                  "README.md not found (run the unit tests from the top directory)");
    text = apr_pstrcat(pool, slurp("README.md"), "\n", slurp("docs/api.md"), NULL);
    for (d = so_error_defs(); d->code; d++) {
        const char *row = apr_psprintf(pool, "| %d | %d |", d->code, d->http);
        ck_assert_msg(strstr(text, row) != NULL, "README.md and docs/api.md lack the row '%s'",
                      row);
    }
    ck_assert_int_eq(so_error_http(196), 401);
    ck_assert_int_eq(so_error_http(12345), 500);
}
END_TEST

START_TEST(base64_roundtrip)
{
    static const unsigned char bin[] = {0x00, 0xff, 0x10, 'a', 0x80, 0x00, 0x7f};
    apr_size_t n;
    for (n = 0; n <= sizeof(bin); n++) {
        const unsigned char *back;
        apr_size_t len;
        const char *b64 = so_base64(pool, bin, n);
        ck_assert_int_eq(so_unbase64(&back, &len, pool, b64), APR_SUCCESS);
        ck_assert_uint_eq(len, n);
        ck_assert(memcmp(back, bin, n) == 0);
    }
    {
        const unsigned char *back;
        apr_size_t len;
        ck_assert_int_eq(so_unbase64(&back, &len, pool, "abc"), APR_EINVAL);   /* not 4k */
        ck_assert_int_eq(so_unbase64(&back, &len, pool, "ab!="), APR_EINVAL);  /* not base64 */
    }
}
END_TEST

START_TEST(memo_cache)
{
    so_memo_t *m;
    const char *data, *meta;
    apr_size_t len, bytes;
    unsigned entries;
    char big[300];
    int i;

    ck_assert_int_eq(so_memo_create(&m, pool, 1000), APR_SUCCESS);
    ck_assert_int_eq(so_memo_get(m, "a", pool, &data, &len, &meta), 0);
    so_memo_put(m, "a", "hello\0world", 11, "text/plain\nhello.txt");
    ck_assert_int_eq(so_memo_get(m, "a", pool, &data, &len, &meta), 1);
    ck_assert_uint_eq(len, 11);
    ck_assert(memcmp(data, "hello\0world", 11) == 0);
    ck_assert_str_eq(meta, "text/plain\nhello.txt");
    /* replaced under the same key */
    so_memo_put(m, "a", "bye", 3, NULL);
    ck_assert_int_eq(so_memo_get(m, "a", pool, &data, &len, &meta), 1);
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(meta);
    so_memo_stats(m, &entries, &bytes);
    ck_assert_uint_eq(entries, 1);
    /* too large for a quarter of the cache: not kept */
    memset(big, 'x', sizeof(big));
    so_memo_put(m, "big", big, sizeof(big), NULL);
    ck_assert_int_eq(so_memo_get(m, "big", pool, &data, &len, NULL), 0);
    /* filling it empties it and stays within the bound */
    for (i = 0; i < 40; i++) {
        so_memo_put(m, apr_psprintf(pool, "k%d", i), big, 200, NULL);
        so_memo_stats(m, &entries, &bytes);
        ck_assert_uint_le(bytes, 1000);
    }
    ck_assert_int_eq(so_memo_get(m, "k39", pool, &data, &len, NULL), 1);
    ck_assert_int_eq(so_memo_get(m, "k0", pool, &data, &len, NULL), 0);
    /* no cache: nothing, no crash */
    ck_assert_int_eq(so_memo_get(NULL, "a", pool, &data, &len, NULL), 0);
    so_memo_put(NULL, "a", "x", 1, NULL);
}
END_TEST

/* Single flight: of 8 threads asking for one missing key, one builds it and the others get
 * its value; a released claim lets the next one build it; a slow builder is waited for at
 * most wait_ms. */
typedef struct {
    so_memo_t *m;
    const char *key;
    volatile apr_uint32_t *builds;
    int found;
} flight_t;

static void *APR_THREAD_FUNC flight_run(apr_thread_t *t, void *data)
{
    flight_t *f = data;
    apr_pool_t *p;
    const char *v;
    apr_size_t len;
    int claimed = 0;

    apr_pool_create(&p, NULL);
    f->found = so_memo_get_or_claim(f->m, f->key, p, &v, &len, NULL, 5000, &claimed);
    if (claimed) {
        apr_atomic_inc32(f->builds);
        apr_sleep(apr_time_from_msec(50)); /* the build takes a while */
        so_memo_put(f->m, f->key, "page", 4, NULL);
    }
    else {
        ck_assert_int_eq(f->found, 1);
        ck_assert_uint_eq(len, 4);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(memo_single_flight)
{
    so_memo_t *m;
    apr_thread_t *th[8];
    flight_t f[8];
    volatile apr_uint32_t builds = 0;
    const char *v;
    apr_size_t len;
    apr_status_t trv;
    apr_time_t t0;
    int i, claimed = 0, claimed2 = 0;

    ck_assert_int_eq(so_memo_create(&m, pool, 100000), APR_SUCCESS);
    for (i = 0; i < 8; i++) {
        f[i].m = m;
        f[i].key = "page-1";
        f[i].builds = &builds;
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, flight_run, &f[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < 8; i++) {
        apr_thread_join(&trv, th[i]);
    }
    ck_assert_uint_eq(apr_atomic_read32(&builds), 1);
    /* a claim that is released: the next caller claims it */
    ck_assert_int_eq(so_memo_get_or_claim(m, "page-2", pool, &v, &len, NULL, 10, &claimed), 0);
    ck_assert_int_eq(claimed, 1);
    so_memo_release(m, "page-2");
    ck_assert_int_eq(so_memo_get_or_claim(m, "page-2", pool, &v, &len, NULL, 10, &claimed2), 0);
    ck_assert_int_eq(claimed2, 1);
    /* a claim held too long: a second caller waits wait_ms, then builds it unclaimed */
    t0 = apr_time_now();
    ck_assert_int_eq(so_memo_get_or_claim(m, "page-2", pool, &v, &len, NULL, 30, &claimed), 0);
    ck_assert_int_eq(claimed, 0);
    ck_assert_int_ge(apr_time_now() - t0, apr_time_from_msec(25));
    so_memo_put(m, "page-2", "p2", 2, NULL); /* the claimer's put ends the claim */
    ck_assert_int_eq(so_memo_get_or_claim(m, "page-2", pool, &v, &len, NULL, 10, &claimed), 1);
    ck_assert_int_eq(claimed, 0);
    /* no cache */
    ck_assert_int_eq(so_memo_get_or_claim(NULL, "x", pool, &v, &len, NULL, 10, &claimed), 0);
    ck_assert_int_eq(claimed, 0);
    so_memo_release(NULL, "x");
}
END_TEST

/* What so_jw writes parses back (jansson) to what was written: strings with every kind of
 * byte at every offset of the 8-byte scan, invalid UTF-8 as U+FFFD, 64-bit integers. */
static json_t *jw_roundtrip(const char *s)
{
    so_jw_t *w = so_jw_make(pool, 16);
    apr_size_t len;
    const char *text;
    json_t *doc;
    json_error_t err;
    so_jw_arr(w);
    so_jw_str(w, s);
    so_jw_arr_end(w);
    text = so_jw_text(w, &len);
    ck_assert_uint_eq(strlen(text), len);
    doc = json_loadb(text, len, 0, &err);
    ck_assert_msg(doc != NULL, "not JSON: %s (%s)", text, err.text);
    return doc;
}

START_TEST(json_writer)
{
    static const char *const same[] = {"", "plain", "a\"b", "back\\slash", "tab\there",
                                       "line\nfeed\r", "\x01\x1f", "m\xc3\xbcnchen \xe2\x9c\x93",
                                       "\xf0\x9f\x94\x92 lock", "0123456789abcdef\"", NULL};
    static const struct {
        const char *in, *out;
    } fixed[] = {{"\xff", "\xef\xbf\xbd"},
                 {"ab\xc3(", "ab\xef\xbf\xbd("},
                 {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
                 {"\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"},
                 {"01234567\x80", "01234567\xef\xbf\xbd"},
                 {NULL, NULL}};
    static const char alphabet[] = "aZ09-.\"\\\n\x01\x1f\x7f \xc3\xa9\xe2\x9c\x93\xff\x80/";
    unsigned seed = 12345;
    char buf[64];
    int i, j, k;
    json_t *doc;
    so_jw_t *w;
    const char *text;

    for (i = 0; same[i]; i++) {
        doc = jw_roundtrip(same[i]);
        ck_assert_str_eq(json_string_value(json_array_get(doc, 0)), same[i]);
        json_decref(doc);
    }
    for (i = 0; fixed[i].in; i++) {
        doc = jw_roundtrip(fixed[i].in);
        ck_assert_str_eq(json_string_value(json_array_get(doc, 0)), fixed[i].out);
        json_decref(doc);
    }
    /* one special byte at each offset of a long run, and random strings */
    for (k = 0; k < 40; k++) {
        for (j = 0; j < 40; j++) {
            buf[j] = 'x';
        }
        buf[40] = '\0';
        buf[k] = (char)"\"\\\n\x02"[k % 4];
        doc = jw_roundtrip(buf);
        ck_assert_str_eq(json_string_value(json_array_get(doc, 0)), buf);
        json_decref(doc);
    }
    for (i = 0; i < 5000; i++) {
        json_t *ref;
        int n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 48;
        for (j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            buf[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        buf[n] = '\0';
        doc = jw_roundtrip(buf);
        /* valid UTF-8 (jansson's own check) comes back unchanged */
        if ((ref = json_string(buf)) != NULL) {
            ck_assert_str_eq(json_string_value(json_array_get(doc, 0)), buf);
            json_decref(ref);
        }
        else {
            ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(doc, 0)), "\xef\xbf\xbd"));
        }
        json_decref(doc);
    }
    /* objects, integers at the edges, nesting */
    w = so_jw_make(pool, 1);
    so_jw_obj(w);
    so_jw_kint(w, "min", INT64_MIN);
    so_jw_kint(w, "max", INT64_MAX);
    so_jw_kint(w, "zero", 0);
    so_jw_kint(w, "neg", -42);
    so_jw_kbool(w, "t", 1);
    so_jw_key(w, "list");
    so_jw_arr(w);
    so_jw_null(w);
    so_jw_raw(w, "{\"a\":1}", 7);
    so_jw_arr_end(w);
    so_jw_kstr(w, "s", NULL);
    so_jw_obj_end(w);
    text = so_jw_text(w, NULL);
    ck_assert_str_eq(text, "{\"min\":-9223372036854775808,\"max\":9223372036854775807,\"zero\":0,"
                           "\"neg\":-42,\"t\":true,\"list\":[null,{\"a\":1}],\"s\":\"\"}");
}
END_TEST

TCase *so_test_util_case(void)
{
    TCase *tc = tcase_create("util");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, time_roundtrip);
    tcase_add_test(tc, time_fmt_agrees_with_strftime);
    tcase_add_test(tc, money);
    tcase_add_test(tc, ints_and_names);
    tcase_add_test(tc, hashes_and_random);
    tcase_add_test(tc, password_hash);
    tcase_add_test(tc, errors_documented);
    tcase_add_test(tc, base64_roundtrip);
    tcase_add_test(tc, memo_cache);
    tcase_add_test(tc, memo_single_flight);
    tcase_add_test(tc, json_writer);
    return tc;
}
