/* libFuzzer harness: DNS answers as so_dcv_check_dns receives them from the network,
 * through the same parser (so_dcv_dns_parse), for CNAME and TXT queries. Input: the raw
 * DNS message. */
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <arpa/nameser.h>

#include "fuzz.h"
#include "../../src/core/so_dcv.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {ns_t_cname, ns_t_txt};
    apr_pool_t *p;
    unsigned t;

    apr_pool_create(&p, root);
    for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        apr_array_header_t *values = NULL;
        const char *why = NULL;
        int rcode = 0, i;
        if (so_dcv_dns_parse(p, data, size, types[t], &rcode, &values, &why) == APR_SUCCESS) {
            for (i = 0; i < values->nelts; i++) {
                /* NUL terminated strings: a CNAME target in presentation form (pointers
                 * expand it, escapes lengthen it) fits NS_MAXDNAME; TXT data is copied */
                const char *v = APR_ARRAY_IDX(values, i, const char *);
                if (strlen(v) >= (types[t] == ns_t_cname ? (size_t)NS_MAXDNAME : size)) {
                    __builtin_trap();
                }
            }
        }
        else if (!why) {
            __builtin_trap();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
