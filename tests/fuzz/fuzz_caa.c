/* libFuzzer harness: CAA records as the CAA check receives them from the DNS: the rdata
 * parser (so_caa_parse_rr), the issue value parser (so_caa_parse_issue) and the decision
 * (so_caa_evaluate) on what they produce. Input: one CAA rdata (flags, tag length, tag,
 * value); the value is also parsed as an issue value on its own. */
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_caa.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    so_caa_rr_t rr;
    so_caa_issue_t is;
    const char *why = NULL;

    apr_pool_create(&p, root);
    if (so_caa_parse_rr(p, data, size, &rr, &why) == APR_SUCCESS) {
        apr_array_header_t *rrs = apr_array_make(p, 1, sizeof(so_caa_rr_t));
        apr_array_header_t *ids = apr_array_make(p, 1, sizeof(const char *));
        so_caa_opts_t o;
        so_caa_result_t res;
        int wild;
        APR_ARRAY_PUSH(rrs, so_caa_rr_t) = rr;
        APR_ARRAY_PUSH(ids, const char *) = "sslorders.local";
        memset(&o, 0, sizeof(o));
        o.identities = ids;
        o.method = "http-01";
        for (wild = 0; wild < 2; wild++) {
            memset(&res, 0, sizeof(res));
            so_caa_evaluate(p, wild ? "*.example.test" : "example.test", "example.test", rrs, &o,
                            &res);
            if (!res.status || !res.detail || strlen(res.detail) == 0) {
                __builtin_trap();
            }
        }
        if (so_caa_parse_issue(p, rr.value, &is, &why) == APR_SUCCESS && !is.issuer) {
            __builtin_trap();
        }
    }
    /* the whole input as an issue value */
    {
        char *v = apr_pstrmemdup(p, (const char *)data, size);
        if (strlen(v) == size) {
            so_caa_parse_issue(p, v, &is, &why);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
