/* CAA (RFC 8659, RFC 8657): the record and value parsers and the decision, without DNS
 * (the integration tests check CAA against real DNS, tests/integration/test_br.py). */
#include <ctype.h>
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "test_common.h"
#include <openssl/bio.h>
#include <openssl/evp.h>

#include "../../src/core/so_caa.h"
#include "../../src/core/so_csr.h"
#include "../../src/core/so_keyblock.h"
#include "../../src/core/so_resolve.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static so_caa_rr_t rr(int flags, const char *tag, const char *value)
{
    so_caa_rr_t r = {flags, tag, value};
    return r;
}

static apr_status_t decide(const char *name, const char *method, const char *acct,
                           so_caa_result_t *res, int n, const so_caa_rr_t *rrs)
{
    apr_array_header_t *a = apr_array_make(pool, n, sizeof(so_caa_rr_t));
    apr_array_header_t *ids = apr_array_make(pool, 2, sizeof(const char *));
    so_caa_opts_t o;
    int i;
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, so_caa_rr_t) = rrs[i];
    }
    APR_ARRAY_PUSH(ids, const char *) = "ca.example";
    APR_ARRAY_PUSH(ids, const char *) = "ca2.example";
    memset(&o, 0, sizeof(o));
    o.identities = ids;
    o.method = method;
    o.accounturi = acct;
    memset(res, 0, sizeof(*res));
    return so_caa_evaluate(pool, name, "example.test", a, &o, res);
}

START_TEST(caa_parse)
{
    so_caa_rr_t r;
    so_caa_issue_t is;
    const char *why = NULL;
    const unsigned char ok[] = "\x80\x05IssUEca.example", bad_tag[] = "\x00\x03i-sx",
                        nul[] = "\x00\x05issuea" "\x00" "b";

    ck_assert_int_eq(so_caa_parse_rr(pool, ok, sizeof(ok) - 1, &r, &why), APR_SUCCESS);
    ck_assert_int_eq(r.flags, 128);
    ck_assert_str_eq(r.tag, "issue");
    ck_assert_str_eq(r.value, "ca.example");
    ck_assert_int_eq(so_caa_parse_rr(pool, ok, 1, &r, &why), APR_EINVAL);
    ck_assert_int_eq(so_caa_parse_rr(pool, ok, 5, &r, &why), APR_EINVAL); /* tag cut */
    ck_assert_int_eq(so_caa_parse_rr(pool, bad_tag, sizeof(bad_tag) - 1, &r, &why), APR_EINVAL);
    ck_assert_int_eq(so_caa_parse_rr(pool, nul, sizeof(nul) - 1, &r, &why), APR_EINVAL);

    ck_assert_int_eq(so_caa_parse_issue(pool, " CA.Example. ; accountURI = https://a/1 ;"
                                              "validationmethods=dns-01,http-01", &is, &why),
                     APR_SUCCESS);
    ck_assert_str_eq(is.issuer, "ca.example");
    ck_assert_int_eq(is.params->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(is.params, 0, so_caa_param_t).key, "accounturi");
    ck_assert_str_eq(APR_ARRAY_IDX(is.params, 0, so_caa_param_t).value, "https://a/1");
    ck_assert_int_eq(so_caa_parse_issue(pool, ";", &is, &why), APR_SUCCESS);
    ck_assert_str_eq(is.issuer, "");
    ck_assert_int_eq(so_caa_parse_issue(pool, "", &is, &why), APR_SUCCESS);
    ck_assert_int_eq(so_caa_parse_issue(pool, "ca..example", &is, &why), APR_EINVAL);
    ck_assert_int_eq(so_caa_parse_issue(pool, "ca.example; key", &is, &why), APR_EINVAL);
    ck_assert_int_eq(so_caa_parse_issue(pool, "ca.example; k=a b", &is, &why), APR_EINVAL);
    ck_assert_int_eq(so_caa_parse_issue(pool, "ca.example; =b", &is, &why), APR_EINVAL);
}
END_TEST

START_TEST(caa_decide)
{
    so_caa_result_t res;
    const so_caa_rr_t ours[] = {rr(0, "issue", "other.example"), rr(0, "issue", "ca2.example")};
    const so_caa_rr_t theirs[] = {rr(0, "issue", "other.example"), rr(0, "iodef", "mailto:a@b")};
    const so_caa_rr_t only_iodef[] = {rr(0, "iodef", "mailto:a@b")};
    const so_caa_rr_t wild[] = {rr(0, "issue", ";"), rr(0, "issuewild", "ca.example")};
    const so_caa_rr_t nowild[] = {rr(0, "issue", "ca.example")};
    const so_caa_rr_t crit[] = {rr(128, "future", "x"), rr(0, "issue", "ca.example")};
    const so_caa_rr_t noncrit[] = {rr(0, "future", "x"), rr(0, "issue", "ca.example")};
    const so_caa_rr_t vm[] = {rr(0, "issue", "ca.example; validationmethods=dns-01")};
    const so_caa_rr_t acct[] = {rr(0, "issue", "ca.example; accounturi=https://acme/acct/7")};

    ck_assert_int_eq(decide("example.test", "http-01", NULL, &res, 2, ours), APR_SUCCESS);
    ck_assert_str_eq(res.record, "example.test CAA 0 issue \"ca2.example\"");
    ck_assert_int_eq(decide("example.test", "http-01", NULL, &res, 2, theirs), SO_ECAA);
    ck_assert_str_eq(res.status, "refused");
    ck_assert_str_eq(res.record, "example.test CAA 0 issue \"other.example\"");
    ck_assert_int_eq(res.iodef->nelts, 1);
    ck_assert_int_eq(decide("example.test", "http-01", NULL, &res, 1, only_iodef), APR_SUCCESS);
    /* issuewild for wildcards, issue for the others */
    ck_assert_int_eq(decide("*.example.test", "dns-01", NULL, &res, 2, wild), APR_SUCCESS);
    ck_assert_int_eq(decide("example.test", "dns-01", NULL, &res, 2, wild), SO_ECAA);
    ck_assert_int_eq(decide("*.example.test", "dns-01", NULL, &res, 1, nowild), APR_SUCCESS);
    /* critical unknown property */
    ck_assert_int_eq(decide("example.test", "dns-01", NULL, &res, 2, crit), SO_ECAA);
    ck_assert_ptr_nonnull(strstr(res.detail, "critical"));
    ck_assert_int_eq(decide("example.test", "dns-01", NULL, &res, 2, noncrit), APR_SUCCESS);
    /* RFC 8657 */
    ck_assert_int_eq(decide("example.test", "dns-01", NULL, &res, 1, vm), APR_SUCCESS);
    ck_assert_int_eq(decide("example.test", "http-01", NULL, &res, 1, vm), SO_ECAA);
    ck_assert_int_eq(decide("example.test", NULL, NULL, &res, 1, vm), SO_ECAA);
    ck_assert_int_eq(decide("example.test", "dns-01", "https://acme/acct/7", &res, 1, acct),
                     APR_SUCCESS);
    ck_assert_int_eq(decide("example.test", "dns-01", "https://acme/acct/8", &res, 1, acct),
                     SO_ECAA);
    ck_assert_int_eq(decide("example.test", "dns-01", NULL, &res, 1, acct), SO_ECAA);
    ck_assert_str_eq(so_caa_method_label("https"), "http-01");
    ck_assert_str_eq(so_caa_method_label("dns"), "dns-01");
    ck_assert_str_eq(so_caa_method_label("dns-persist"), "dns-persist-01");
    ck_assert_str_eq(so_caa_method_label("dns-account"), "dns-account-01");
}
END_TEST

START_TEST(csr_trailing_bytes)
{
    static const char *const names[] = {"trail.example.com", NULL};
    const unsigned char *der = NULL;
    apr_size_t len = 0;
    const char *pem = so_test_csr(pool, "ec256", names, &der, &len), *why = NULL;
    unsigned char *more = apr_palloc(pool, len + 2);
    so_csr_t *c = NULL;
    BIO *b64 = BIO_new(BIO_f_base64()), *mem = BIO_new(BIO_s_mem());
    char *text = NULL;
    long n;

    ck_assert_int_eq(so_csr_parse(pool, pem, &c, &why), APR_SUCCESS);
    memcpy(more, der, len);
    more[len] = 0x05; /* an ASN.1 NULL after the request */
    more[len + 1] = 0x00;
    b64 = BIO_push(b64, mem);
    BIO_write(b64, more, (int)len + 2);
    (void)BIO_flush(b64);
    n = BIO_get_mem_data(mem, &text);
    pem = apr_psprintf(pool, "-----BEGIN CERTIFICATE REQUEST-----\n%.*s-----END CERTIFICATE "
                             "REQUEST-----\n", (int)n, text);
    BIO_free_all(b64);
    ck_assert_int_eq(so_csr_parse(pool, pem, &c, &why), APR_EINVAL);
    ck_assert_str_eq(why, "the CSR has bytes after its DER encoding");
}
END_TEST

START_TEST(keyblock_lists)
{
    static const char *const names[] = {"blocked.example.com", NULL};
    so_csr_t *rsa = NULL, *ec = NULL;
    const char *why = NULL, *text;
    so_keyblock_t *kb = so_keyblock_make(pool);

    ck_assert_int_eq(so_csr_parse(pool, so_test_csr(pool, "rsa2048", names, NULL, NULL), &rsa,
                                  &why), APR_SUCCESS);
    ck_assert_int_eq(so_csr_parse(pool, so_test_csr(pool, "ec256", names, NULL, NULL), &ec,
                                  &why), APR_SUCCESS);
    ck_assert_uint_eq(strlen(rsa->debian_fp), 20);
    ck_assert_ptr_null(ec->debian_fp);
    ck_assert_uint_eq(strlen(ec->spki_sha256), 64);
    /* not listed yet */
    ck_assert_ptr_null(so_keyblock_find(pool, NULL, rsa));
    ck_assert_ptr_null(so_keyblock_find(pool, kb, rsa));
    /* comments, blank lines, CRLF, upper case: the RSA key in Debian's form */
    text = apr_psprintf(pool, "# generated\r\n\r\n  %s  \r\n00000000000000000000\n",
                        apr_pstrdup(pool, rsa->debian_fp));
    for (char *u = strstr(text, rsa->debian_fp); u && *u != ' '; u++) {
        *u = (char)toupper((unsigned char)*u);
    }
    ck_assert_int_eq(so_keyblock_add_text(kb, "deb.list", text, strlen(text), &why), APR_SUCCESS);
    ck_assert_int_eq(so_keyblock_count(kb), 2);
    ck_assert_ptr_nonnull(strstr(so_keyblock_find(pool, kb, rsa), "CVE-2008-0166) listed in deb.list"));
    ck_assert_ptr_null(so_keyblock_find(pool, kb, ec));
    /* the EC key by the SHA-256 of its SubjectPublicKeyInfo */
    ck_assert_int_eq(so_keyblock_add_text(kb, "spki.list", ec->spki_sha256,
                                          strlen(ec->spki_sha256), &why), APR_SUCCESS);
    ck_assert_str_eq(so_keyblock_find(pool, kb, ec), "the key is a blocked key listed in spki.list");
    /* a line of neither form names the file and line; a list without a final newline */
    text = "# ok\n0123456789abcdef0123\nnot-hex\n";
    ck_assert_int_eq(so_keyblock_add_text(kb, "bad.list", text, strlen(text), &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "bad.list, line 3: not a key fingerprint"));
    text = "0123456789abcdef012"; /* 19 digits */
    ck_assert_int_eq(so_keyblock_add_text(kb, "short.list", text, strlen(text), &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "short.list, line 1"));
    ck_assert_int_eq(so_keyblock_add_file(kb, pool, "/nonexistent/blocked", &why), APR_ENOENT);
}
END_TEST

START_TEST(resolve_nameserver)
{
    ck_assert_str_eq(so_resolve_fwd_addr(pool, "127.0.0.1:5353"), "127.0.0.1@5353");
    ck_assert_str_eq(so_resolve_fwd_addr(pool, "[::1]:53"), "::1@53");
    ck_assert_str_eq(so_resolve_fwd_addr(pool, "::1"), "::1");
    ck_assert_ptr_null(so_resolve_fwd_addr(pool, "dns.example"));
    ck_assert_ptr_null(so_resolve_fwd_addr(pool, "127.0.0.1:0"));
    ck_assert_ptr_null(so_resolve_fwd_addr(pool, "[::1"));
}
END_TEST

TCase *so_test_caa_case(void)
{
    TCase *tc = tcase_create("caa");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, caa_parse);
    tcase_add_test(tc, caa_decide);
    tcase_add_test(tc, resolve_nameserver);
    tcase_add_test(tc, csr_trailing_bytes);
    tcase_add_test(tc, keyblock_lists);
    return tc;
}
