/* multipart/form-data: normal, quoted, UTF-8, RFC 5987 and hostile input, truncation
 * and limits. */
#include <string.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/core/so_multipart.h"

#define CRLF "\r\n"
#define CT "multipart/form-data; boundary=XyZ"

static apr_pool_t *pool;
static so_multipart_limits_t lim;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    lim.max_parts = 4;
    lim.max_header_bytes = 512;
    lim.max_total = 1 << 20;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* parse body (a C string) sent with ct; the status, *parts and *why */
static apr_status_t parse(apr_array_header_t **parts, const char **why, const char *ct,
                          const char *body)
{
    *parts = NULL;
    *why = NULL;
    return so_multipart_parse(parts, pool, ct, body, strlen(body), &lim, why);
}

static const so_multipart_part_t *part_at(apr_array_header_t *parts, int i)
{
    ck_assert_int_gt(parts->nelts, i);
    return &APR_ARRAY_IDX(parts, i, so_multipart_part_t);
}

/* one part with the given Content-Disposition parameters, data "x" */
static const char *one_part(const char *cd_params)
{
    return apr_pstrcat(pool, "--XyZ" CRLF "Content-Disposition: form-data", cd_params,
                       CRLF CRLF "x" CRLF "--XyZ--" CRLF, NULL);
}

START_TEST(normal_upload)
{
    /* as a browser sends it: a text field, a file with binary data, an empty file field */
    static const char bin[] = "%PDF-1.4\n--XyZ is not a delimiter without the CRLF\0\xff\r\n--Xy\r\n";
    const char *head = "--XyZ" CRLF "Content-Disposition: form-data; name=\"comment\"" CRLF CRLF
                       "first line" CRLF "second line" CRLF
                       "--XyZ" CRLF
                       "Content-Disposition: form-data; name=\"document\"; filename=\"scan.pdf\"" CRLF
                       "Content-Type: application/pdf" CRLF CRLF;
    const char *tail = CRLF "--XyZ" CRLF
                       "Content-Disposition: form-data; name=\"extra\"; filename=\"\"" CRLF
                       "Content-Type: application/octet-stream" CRLF CRLF
                       CRLF "--XyZ--" CRLF;
    apr_size_t hl = strlen(head), bl = sizeof(bin) - 1, tl = strlen(tail);
    char *body = apr_palloc(pool, hl + bl + tl);
    apr_array_header_t *parts;
    const so_multipart_part_t *pt;
    const char *why = NULL;

    memcpy(body, head, hl);
    memcpy(body + hl, bin, bl);
    memcpy(body + hl + bl, tail, tl);
    ck_assert_int_eq(so_multipart_parse(&parts, pool, CT, body, hl + bl + tl, &lim, &why),
                     APR_SUCCESS);
    ck_assert_ptr_null(why);
    ck_assert_int_eq(parts->nelts, 3);
    pt = part_at(parts, 0);
    ck_assert_str_eq(pt->name, "comment");
    ck_assert_ptr_null(pt->filename);
    ck_assert_ptr_null(pt->content_type);
    ck_assert_uint_eq(pt->len, strlen("first line" CRLF "second line"));
    ck_assert(!memcmp(pt->data, "first line" CRLF "second line", pt->len));
    ck_assert_ptr_eq(pt->data, body + strlen("--XyZ" CRLF
                                             "Content-Disposition: form-data; name=\"comment\""
                                             CRLF CRLF));
    pt = part_at(parts, 1);
    ck_assert_str_eq(pt->name, "document");
    ck_assert_str_eq(pt->filename, "scan.pdf");
    ck_assert_str_eq(pt->content_type, "application/pdf");
    ck_assert_uint_eq(pt->len, bl);
    ck_assert(!memcmp(pt->data, bin, bl));
    ck_assert_ptr_eq(pt->data, body + hl);
    pt = part_at(parts, 2);
    ck_assert_str_eq(pt->filename, "");
    ck_assert_uint_eq(pt->len, 0);
    ck_assert_ptr_eq(so_multipart_find(parts, "document"), part_at(parts, 1));
    ck_assert_ptr_null(so_multipart_find(parts, "Document"));
    ck_assert_ptr_null(so_multipart_find(NULL, "document"));
}
END_TEST

START_TEST(quoting_and_utf8)
{
    apr_array_header_t *parts;
    const char *why, *b;

    /* a quoted boundary with the special bchars; other parameters; padding; preamble
     * and epilogue */
    ck_assert_int_eq(
        parse(&parts, &why,
              "Multipart/Form-Data ; charset=utf-8; boundary=\"a'()+_,-./:=? b\"",
              "preamble to ignore" CRLF "--a'()+_,-./:=? b \t" CRLF
              "content-disposition:form-data;name=f;filename=a.txt" CRLF
              "X-Other: ignored" CRLF CRLF "data" CRLF
              "--a'()+_,-./:=? b--" CRLF "epilogue" CRLF),
        APR_SUCCESS);
    ck_assert_str_eq(part_at(parts, 0)->name, "f");
    ck_assert_str_eq(part_at(parts, 0)->filename, "a.txt");
    ck_assert_uint_eq(part_at(parts, 0)->len, 4);
    ck_assert_int_eq(so_multipart_boundary(&b, pool, "multipart/form-data;boundary=abc;", &why),
                     APR_SUCCESS);
    ck_assert_str_eq(b, "abc");

    /* UTF-8 sent raw, escapes in quoted strings, a semicolon inside quotes */
    ck_assert_int_eq(parse(&parts, &why, CT,
                           one_part("; name=\"caf\xc3\xa9\"; filename=\"R\xc3\xa9sum\xc3\xa9 "
                                    "\xe2\x9c\x93; \\\"final\\\".pdf\"")),
                     APR_SUCCESS);
    ck_assert_str_eq(part_at(parts, 0)->name, "caf\xc3\xa9");
    ck_assert_str_eq(part_at(parts, 0)->filename,
                     "R\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93; \"final\".pdf");
    /* an old browser's full path: backslashes are kept */
    ck_assert_int_eq(parse(&parts, &why, CT,
                           one_part("; name=f; filename=\"C:\\Users\\me\\id.pdf\"")),
                     APR_SUCCESS);
    ck_assert_str_eq(part_at(parts, 0)->filename, "C:\\Users\\me\\id.pdf");
    /* RFC 5987: UTF-8 and ISO-8859-1; filename* wins over filename */
    ck_assert_int_eq(parse(&parts, &why, CT,
                           one_part("; name=f; filename=\"rates.pdf\"; "
                                    "filename*=UTF-8''%E2%82%AC%20rates.pdf")),
                     APR_SUCCESS);
    ck_assert_str_eq(part_at(parts, 0)->filename, "\xe2\x82\xac rates.pdf");
    ck_assert_int_eq(parse(&parts, &why, CT,
                           one_part("; filename*=iso-8859-1'en'%A3%20rates.txt; name=f")),
                     APR_SUCCESS);
    ck_assert_str_eq(part_at(parts, 0)->filename, "\xc2\xa3 rates.txt");
}
END_TEST

START_TEST(malformed)
{
    static const struct {
        const char *ct;
        const char *body;
        const char *why; /* a part of the reason */
    } bad[] = {
        {"application/json", "{}", "not multipart/form-data"},
        {"multipart/mixed; boundary=XyZ", "--XyZ--", "not multipart/form-data"},
        {"multipart/form-data", "--XyZ--", "no valid boundary"},
        {"multipart/form-data; boundary=", "--XyZ--", "without value"},
        {"multipart/form-data; boundary=\"XyZ", "--XyZ--", "unterminated"},
        {"multipart/form-data; boundary=XyZ; boundary=XyZ", "--XyZ--", "repeats"},
        {"multipart/form-data; boundary=\"a\\\"b\"", "--XyZ--", "no valid boundary"},
        {"multipart/form-data; boundary=\"ends with space \"", "--x--", "no valid boundary"},
        {"multipart/form-data; boundary="
         "12345678901234567890123456789012345678901234567890123456789012345678901",
         "--x--", "no valid boundary"},
        {"multipart/form-data; boundary=XyZ\r\nX: y", "--XyZ--", "not multipart"},
        {CT, "--XyZ--" CRLF, "no parts"},
        {CT, "no boundary here", "does not hold the multipart boundary"},
        {CT, "--XyZ" CRLF CRLF "x" CRLF "--XyZ--", "no Content-Disposition"},
        {CT, "--XyZ" CRLF "Content-Type: text/plain" CRLF CRLF "x" CRLF "--XyZ--",
         "no Content-Disposition"},
        {CT, "--XyZ" CRLF "Content-Disposition: attachment; name=a" CRLF CRLF "x" CRLF "--XyZ--",
         "not form-data"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF
             "Content-Disposition: form-data; name=b" CRLF CRLF "x" CRLF "--XyZ--",
         "two Content-Disposition"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF "Content-Type: a/b" CRLF
             "Content-Type: c/d" CRLF CRLF "x" CRLF "--XyZ--",
         "two Content-Type"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF " ; filename=b" CRLF CRLF "x" CRLF
             "--XyZ--",
         "folded"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a\nX: y" CRLF CRLF "x" CRLF
             "--XyZ--",
         "bare LF"},
        {CT, "--XyZ" CRLF "Content-Disposition : form-data; name=a" CRLF CRLF "x" CRLF "--XyZ--",
         "malformed"},
        {CT, "--XyZ" CRLF "no colon" CRLF CRLF "x" CRLF "--XyZ--", "malformed"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=\"a\x01\"" CRLF CRLF "x" CRLF
             "--XyZ--",
         "control character"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF
             "Content-Transfer-Encoding: base64" CRLF CRLF "eA==" CRLF "--XyZ--",
         "base64 is not supported"},
        {CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "x" CRLF
             "--XyZnot-a-delimiter" CRLF "--XyZ--",
         "boundary line is malformed"},
        {CT, "--XyZjunk" CRLF, "boundary line is malformed"},
    };
    static const struct {
        const char *params;
        const char *why;
    } bad_cd[] = {
        {"", "no field name"},
        {"; name=\"\"", "no field name"},
        {"; filename=a.txt", "no field name"},
        {"; name=a; name=b", "repeats the parameter name"},
        {"; name=a; filename=x; filename=y", "repeats the parameter filename"},
        {"; name=a; filename=\"unterminated", "unterminated"},
        {"; name=a; filename", "malformed parameter"},
        {"; name=a b", "';' expected"},
        {"; name=\"\xc3\x28\"", "field name is not valid UTF-8"},
        {"; name=a; filename=\"caf\xe9.txt\"", "file name is not valid UTF-8"},
        {"; name=a; filename*=UTF-8''%ZZ", "bad percent-encoding"},
        {"; name=a; filename*=UTF-8''%4", "bad percent-encoding"},
        {"; name=a; filename*=UTF-8''%00x", "NUL"},
        {"; name=a; filename*=UTF-8''%C3%28", "not valid UTF-8"},
        {"; name=a; filename*=koi8-r''x", "charset"},
        {"; name=a; filename*=UTF-8", "malformed"},
        {"; name=a; filename*=\"UTF-8''x\"", "malformed"},
    };
    apr_array_header_t *parts;
    const char *why;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_status_t rv = parse(&parts, &why, bad[i].ct, bad[i].body);
        ck_assert_msg(rv == APR_EINVAL, "case %d: status %d (%s)", (int)i, rv, why ? why : "");
        ck_assert_msg(why && strstr(why, bad[i].why), "case %d: %s", (int)i, why ? why : "");
        ck_assert_ptr_null(parts);
    }
    for (i = 0; i < sizeof(bad_cd) / sizeof(bad_cd[0]); i++) {
        apr_status_t rv = parse(&parts, &why, CT, one_part(bad_cd[i].params));
        ck_assert_msg(rv == APR_EINVAL, "cd %d: status %d (%s)", (int)i, rv, why ? why : "");
        ck_assert_msg(why && strstr(why, bad_cd[i].why), "cd %d: %s", (int)i, why ? why : "");
    }
}
END_TEST

START_TEST(truncated)
{
    const char *full = one_part("; name=a; filename=\"x.pdf\"");
    apr_size_t n = strlen(full), cut;
    apr_array_header_t *parts;
    const char *why;

    ck_assert_int_eq(parse(&parts, &why, CT, full), APR_SUCCESS);
    /* every prefix that stops before the close delimiter is truncated; one that stops
     * inside the close delimiter's dashes too */
    for (cut = 0; cut < n - strlen(CRLF); cut++) {
        apr_status_t rv = so_multipart_parse(&parts, pool, CT, full, cut, &lim, &why);
        ck_assert_msg(rv == APR_INCOMPLETE, "cut at %d: status %d (%s)", (int)cut, rv,
                      why ? why : "");
        ck_assert_ptr_nonnull(why);
    }
    /* the close delimiter without its line end is complete */
    ck_assert_int_eq(so_multipart_parse(&parts, pool, CT, full, n - 2, &lim, &why), APR_SUCCESS);
    ck_assert_int_eq(parse(&parts, &why, CT, "--XyZ" CRLF "Content-Disposition: form-data; name=a"
                                             CRLF CRLF "data without end"),
                     APR_INCOMPLETE);
    ck_assert_str_eq(why, "the upload is truncated (no final boundary)");
}
END_TEST

START_TEST(limits)
{
    apr_array_header_t *parts;
    const char *why, *body, *hdr;
    apr_size_t hdr_bytes;

    /* four parts pass with max_parts 4, five do not */
    body = "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF "1" CRLF
           "--XyZ" CRLF "Content-Disposition: form-data; name=b" CRLF CRLF "2" CRLF
           "--XyZ" CRLF "Content-Disposition: form-data; name=c" CRLF CRLF "3" CRLF
           "--XyZ" CRLF "Content-Disposition: form-data; name=d" CRLF CRLF "4" CRLF "--XyZ--";
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_SUCCESS);
    ck_assert_int_eq(parts->nelts, 4);
    lim.max_parts = 3;
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_ENOSPC);
    ck_assert_str_eq(why, "the upload has more than 3 parts");

    /* the whole body */
    lim.max_total = strlen(body) - 1;
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_ENOSPC);
    ck_assert_str_eq(why, "the upload is too large");
    lim.max_total = 0;
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_EINVAL);
    lim.max_total = 1 << 20;

    /* headers: exactly max_header_bytes (lines with CRLFs and the empty line) pass */
    hdr = apr_pstrcat(pool, "Content-Disposition: form-data; name=a" CRLF "X-Pad: ",
                      apr_psprintf(pool, "%0400d", 0), CRLF CRLF, NULL);
    hdr_bytes = strlen(hdr);
    body = apr_pstrcat(pool, "--XyZ" CRLF, hdr, "x" CRLF "--XyZ--", NULL);
    lim.max_header_bytes = hdr_bytes;
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_SUCCESS);
    lim.max_header_bytes = hdr_bytes - 1;
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_ENOSPC);
    ck_assert_str_eq(why, "a part's headers are too large");
    /* a header line that never ends: too large, not merely truncated */
    lim.max_header_bytes = 64;
    body = apr_pstrcat(pool, "--XyZ" CRLF "X: ", apr_psprintf(pool, "%0200d", 0), NULL);
    ck_assert_int_eq(parse(&parts, &why, CT, body), APR_ENOSPC);
}
END_TEST

TCase *so_test_multipart_case(void)
{
    TCase *tc = tcase_create("multipart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, normal_upload);
    tcase_add_test(tc, quoting_and_utf8);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, limits);
    return tc;
}
