/* Unit tests of the SSL core: CSRs, host names, order rules, the order store. */
#include <string.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/api/so_order_rules.h"
#include "../../src/core/so_csr.h"
#include "../../src/core/so_domain.h"
#include "../../src/core/so_errors.h"
#include "../../src/store/so_store_account.h"
#include "../../src/store/so_store_catalog.h"
#include "../../src/store/so_store_order.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *gen_csr(const char *cn, const char *san, const char *key_type, int bits,
                           const char **key)
{
    so_csr_gen_t g;
    const char *csr, *k, *cfg, *cmd, *why;
    memset(&g, 0, sizeof(g));
    g.key_type = key_type;
    g.bits = bits;
    g.common_name = cn;
    g.country = "NL";
    g.unit = "Ops";
    g.sans = apr_array_make(pool, 1, sizeof(const char *));
    if (san) {
        APR_ARRAY_PUSH(g.sans, const char *) = san;
    }
    ck_assert_int_eq(so_csr_generate(pool, &g, &csr, &k, &cfg, &cmd, &why), APR_SUCCESS);
    if (key) {
        *key = k;
    }
    return csr;
}

START_TEST(csr_roundtrip)
{
    const char *key, *why = NULL;
    const char *pem = gen_csr("shop.example.com", "www.shop.example.com", "rsa", 2048, &key);
    so_csr_t *c;

    ck_assert(strstr(key, "BEGIN PRIVATE KEY") != NULL);
    ck_assert_int_eq(so_csr_parse(pool, pem, &c, &why), APR_SUCCESS);
    ck_assert_str_eq(c->common_name, "shop.example.com");
    ck_assert_int_eq(c->names->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->names, 1, const char *), "www.shop.example.com");
    ck_assert_str_eq(c->key_type, "rsa");
    ck_assert_int_eq(c->key_bits, 2048);
    ck_assert_str_eq(c->unit, "Ops");
    ck_assert_str_eq(c->country, "NL");
    ck_assert_str_eq(c->sig_hash, "sha2");
    ck_assert_int_eq(strlen(c->md5), 32);
    ck_assert_int_eq(strlen(c->sha256), 64);
    ck_assert_int_eq(so_csr_check_key(c, &why), APR_SUCCESS);

    pem = gen_csr("ec.example.com", NULL, "ec", 0, NULL);
    ck_assert_int_eq(so_csr_parse(pool, pem, &c, &why), APR_SUCCESS);
    ck_assert_str_eq(c->key_type, "ec");
    ck_assert_str_eq(c->curve, "P-256");
    ck_assert_int_eq(so_csr_check_key(c, &why), APR_SUCCESS);
}
END_TEST

START_TEST(csr_garbage)
{
    const char *why = NULL;
    so_csr_t *c;
    char *pem = apr_pstrdup(pool, gen_csr("a.example.com", NULL, "rsa", 2048, NULL));
    char *mid;

    ck_assert_int_eq(so_csr_parse(pool, "", &c, &why), APR_EINVAL);
    ck_assert_int_eq(so_csr_parse(pool, "not a csr", &c, &why), APR_EINVAL);
    ck_assert(strstr(why, "PEM") != NULL);
    ck_assert_int_eq(so_csr_parse(pool, apr_pstrndup(pool, pem, strlen(pem) / 2), &c, &why),
                     APR_EINVAL);
    /* a changed byte in the body: the signature no longer verifies (or it does not parse) */
    mid = pem + strlen(pem) / 2;
    *mid = *mid == 'A' ? 'B' : 'A';
    ck_assert_int_eq(so_csr_parse(pool, pem, &c, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(hostnames)
{
    const char *d;
    ck_assert_ptr_null(so_hostname_check("example.com", 0));
    ck_assert_ptr_null(so_hostname_check("xn--bcher-kva.example", 0));
    ck_assert_ptr_null(so_hostname_check("*.example.com", 1));
    ck_assert_ptr_nonnull(so_hostname_check("*.example.com", 0));
    ck_assert_ptr_nonnull(so_hostname_check("*.com", 1));
    ck_assert_ptr_nonnull(so_hostname_check("co.uk", 0));
    ck_assert_ptr_nonnull(so_hostname_check("a.*.example.com", 1));
    ck_assert_ptr_nonnull(so_hostname_check("localhost", 0));
    ck_assert_ptr_nonnull(so_hostname_check("Example.com", 0));
    ck_assert_ptr_nonnull(so_hostname_check("-a.example.com", 0));
    ck_assert_ptr_nonnull(so_hostname_check("a..example.com", 0));
    ck_assert_ptr_nonnull(so_hostname_check("10.0.0.1", 0));
    ck_assert_ptr_nonnull(so_hostname_check("a_b.example.com", 0));
    ck_assert_int_eq(so_registrable_domain(pool, "www.example.co.uk", &d), APR_SUCCESS);
    ck_assert_str_eq(d, "example.co.uk");
    ck_assert_int_eq(so_registrable_domain(pool, "*.a.b.example.com", &d), APR_SUCCESS);
    ck_assert_str_eq(d, "example.com");
    ck_assert(so_approver_email_ok(pool, "www.example.co.uk", "Webmaster@example.co.uk"));
    /* every Authorization Domain Name: the FQDN and each parent down to the registrable domain */
    ck_assert(so_approver_email_ok(pool, "www.example.co.uk", "admin@www.example.co.uk"));
    ck_assert(so_approver_email_ok(pool, "*.a.b.example.com", "postmaster@a.b.example.com"));
    ck_assert(so_approver_email_ok(pool, "*.a.b.example.com", "hostmaster@b.example.com"));
    ck_assert(!so_approver_email_ok(pool, "a.b.example.com", "admin@x.a.b.example.com"));
    ck_assert(!so_approver_email_ok(pool, "www.example.co.uk", "admin@co.uk"));
    ck_assert(!so_approver_email_ok(pool, "www.example.co.uk", "root@www.example.co.uk"));
}
END_TEST

static so_product_t *product(int multi, int wildcard, int wmulti, int included, int max)
{
    so_product_t *x = apr_pcalloc(pool, sizeof(*x));
    x->name = "P";
    x->is_multidomain = multi;
    x->is_wildcard = wildcard;
    x->is_wildcard_multidomain = wmulti;
    x->included_domains_count = included;
    x->max_domains = max;
    return x;
}

static apr_array_header_t *list(const char *a, const char *b, const char *c)
{
    apr_array_header_t *l = apr_array_make(pool, 3, sizeof(const char *));
    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(l, const char *) = b;
    }
    if (c) {
        APR_ARRAY_PUSH(l, const char *) = c;
    }
    return l;
}

START_TEST(rules_names)
{
    so_names_t *n;
    int code, d, w;
    const char *why;
    so_product_t *single = product(0, 0, 0, 1, 1), *wild = product(0, 1, 0, -1, 1),
                 *multi = product(1, 0, 1, 3, 5);

    ck_assert_int_eq(so_rules_names(pool, single, "example.com", list("www.example.com", NULL, NULL),
                                    NULL, &n, &code, &why),
                     APR_SUCCESS);
    ck_assert_int_eq(n->names->nelts, 2);
    ck_assert_int_eq(so_rules_names(pool, single, "example.com", list("mail.example.com", NULL, NULL),
                                    NULL, &n, &code, &why),
                     APR_EINVAL);
    ck_assert_int_eq(code, SO_E_NAMES);
    ck_assert_int_eq(so_rules_names(pool, single, "example.com", NULL, list("example.com", NULL, NULL),
                                    &n, &code, &why),
                     APR_SUCCESS);
    ck_assert_int_eq(so_rules_names(pool, wild, "*.example.com", list("example.com", NULL, NULL), NULL,
                                    &n, &code, &why),
                     APR_SUCCESS);
    ck_assert_int_eq(n->n_wild, 1);
    ck_assert_int_eq(so_rules_names(pool, wild, "example.com", NULL, NULL, &n, &code, &why), APR_EINVAL);
    ck_assert_int_eq(so_rules_names(pool, multi, "a.example.com",
                                    list("b.example.com", "*.example.com", "c.example.com"), NULL,
                                    &n, &code, &why),
                     APR_SUCCESS);
    ck_assert_int_eq(n->n_plain, 3);
    ck_assert_int_eq(n->n_wild, 1);
    /* amounts: 3 plain included, one wildcard to pay for */
    ck_assert_int_eq(so_rules_amounts(pool, multi, n, -1, -1, &d, &w, &why), APR_SUCCESS);
    ck_assert_int_eq(d, 3);
    ck_assert_int_eq(w, 1);
    ck_assert_int_eq(so_rules_amounts(pool, multi, n, -1, 0, &d, &w, &why), APR_EINVAL);
    ck_assert_int_eq(so_rules_amounts(pool, multi, NULL, 5, 1, &d, &w, &why), APR_EINVAL); /* > max */
    ck_assert_int_eq(so_rules_amounts(pool, multi, NULL, 4, 1, &d, &w, &why), APR_SUCCESS);
    {
        so_price_t pr = {1, "EUR", 1000, 100, 500};
        ck_assert_int_eq(so_rules_price(multi, &pr, 4, 1), 1000 + 100 + 500);
        ck_assert_int_eq(so_rules_price(single, &pr, 1, 0), 1000);
    }
    /* too many names */
    ck_assert_int_eq(so_rules_names(pool, product(1, 0, 0, 1, 2), "a.example.com",
                                    list("b.example.com", "c.example.com", NULL), NULL, &n, &code,
                                    &why),
                     APR_EINVAL);
}
END_TEST

START_TEST(rules_status_fields)
{
    ck_assert(so_rules_field_allowed("PAI", "csr"));
    ck_assert(so_rules_field_allowed("PAI", "start_provision"));
    ck_assert(!so_rules_field_allowed("PAI", "product_id"));
    ck_assert(so_rules_field_allowed("REQ", "domain_validation_methods"));
    ck_assert(so_rules_field_allowed("REQ", "autorenew"));
    ck_assert(!so_rules_field_allowed("REQ", "approver_email"));
    ck_assert(so_rules_field_allowed("ACT", "autorenew"));
    ck_assert(!so_rules_field_allowed("ACT", "domain_validation_methods"));
    ck_assert(!so_rules_field_allowed("FAI", "autorenew"));
    ck_assert(!so_rules_field_allowed("EXP", "autorenew"));
    ck_assert(so_rules_field_product("period"));
    ck_assert(so_rules_dcv_method_ok("https"));
    ck_assert(!so_rules_dcv_method_ok("ftp"));
}
END_TEST

START_TEST(order_store_versions)
{
    so_db_t *db = so_test_db(pool);
    apr_int64_t tid, after;
    so_order_t o, *got, *again;
    so_order_host_t *h;

    ck_assert_int_eq(so_store_team_create(db, pool, "ord", "Ord", "EUR", 1, &tid), APR_SUCCESS);
    memset(&o, 0, sizeof(o));
    o.team_id = tid;
    o.product_id = 3;
    o.status = "PAI";
    o.period = 1;
    o.common_name = "a.example.com";
    o.csr = o.organization_unit = o.software = o.organization_handle = o.technical_handle = "";
    o.administrative_handle = o.billing_handle = o.approver_email = "";
    o.signature_hash_algorithm = "sha2";
    o.dcv_unique = "U";
    o.price = 100;
    o.currency = "EUR";
    o.order_date = o.updated_at = 10;
    o.hosts = apr_array_make(pool, 2, sizeof(so_order_host_t));
    h = apr_array_push(o.hosts);
    h->host_name = "a.example.com";
    h->method = "dns";
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_order_insert(db, pool, &o), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, tid, 1000, "credit", 0, "", 0, 1, &after), APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_order_get(db, pool, tid, o.id, &got), APR_SUCCESS);
    ck_assert_str_eq(got->product_name, "Essential DV Multi-Domain");
    ck_assert_int_eq(got->hosts->nelts, 1);
    ck_assert_int_eq(so_store_order_get(db, pool, tid + 1, o.id, &again), APR_ENOENT);
    /* two writers from the same version: the second is told */
    ck_assert_int_eq(so_store_order_get(db, pool, tid, o.id, &again), APR_SUCCESS);
    got->autorenew = 1;
    ck_assert_int_eq(so_store_order_update(db, pool, got, 0), APR_SUCCESS);
    ck_assert_int_eq(got->version, 2);
    again->software = "nginx";
    ck_assert_int_eq(so_store_order_update(db, pool, again, 0), SO_EDBSTALE);
    so_db_close(db);
}
END_TEST

TCase *so_test_ssl_case(void)
{
    TCase *tc = tcase_create("ssl");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, csr_roundtrip);
    tcase_add_test(tc, csr_garbage);
    tcase_add_test(tc, hostnames);
    tcase_add_test(tc, rules_names);
    tcase_add_test(tc, rules_status_fields);
    tcase_add_test(tc, order_store_versions);
    return tc;
}
