/* libFuzzer harness: CSRs from customers (PEM text, and arbitrary DER inside PEM
 * armour), then the name rules of an order on what was parsed. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/api/so_order_rules.h"
#include "../../src/core/so_csr.h"
#include "../../src/core/so_domain.h"
#include "../../src/core/so_util.h"

static apr_pool_t *root;
static so_product_t multi;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    so_domain_init();
    multi.name = "fuzz";
    multi.is_multidomain = 1;
    multi.is_wildcard_multidomain = 1;
    multi.included_domains_count = 3;
    multi.max_domains = 100;
    return 0;
}

static void one(apr_pool_t *p, const char *pem)
{
    so_csr_t *c;
    const char *why;
    if (so_csr_parse(p, pem, &c, &why) == APR_SUCCESS) {
        so_names_t *n;
        int code, d, w;
        so_csr_check_key(c, &why);
        if (so_rules_names(p, &multi, c->common_name, c->sans, NULL, &n, &code, &why) == APR_SUCCESS) {
            so_rules_amounts(p, &multi, n, -1, -1, &d, &w, &why);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, root);
    /* the bytes as PEM text */
    one(p, apr_pstrmemdup(p, (const char *)data, size));
    /* the bytes as the DER of a request */
    one(p, apr_pstrcat(p, "-----BEGIN CERTIFICATE REQUEST-----\n",
                       so_base64(p, data, size), "\n-----END CERTIFICATE REQUEST-----\n", NULL));
    /* host name checks on the raw text */
    so_hostname_check(apr_pstrmemdup(p, (const char *)data, size > 300 ? 300 : size), 1);
    apr_pool_destroy(p);
    return 0;
}
