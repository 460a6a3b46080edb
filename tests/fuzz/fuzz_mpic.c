/* libFuzzer harness: what a perspective receives from the network before it trusts a
 * request: the three authentication headers and the body (so_mpic_verify). Input: time,
 * nonce, signature and body separated by newlines; also verified with the signature the
 * secret gives, so the comparison past the signature check runs too (no replay directory). */
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_mpic.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *parts[4] = {"", "", "", ""}, *why = NULL, *secret = "fuzz-secret-0123456789";
    char *copy, *s;
    int i = 0;

    apr_pool_create(&p, root);
    copy = apr_pstrmemdup(p, (const char *)data, size);
    s = copy;
    while (i < 3 && s) {
        char *nl = strchr(s, '\n');
        parts[i++] = s;
        if (nl) {
            *nl = 0;
            s = nl + 1;
        }
        else {
            s = NULL;
        }
    }
    parts[3] = s ? s : "";
    so_mpic_verify(p, secret, parts[0], parts[1], parts[2], parts[3], strlen(parts[3]),
                   1800000000, NULL, &why);
    so_mpic_verify(p, secret, parts[0], parts[1],
                   so_mpic_sign(p, secret, parts[0], parts[1], parts[3], strlen(parts[3])),
                   parts[3], strlen(parts[3]), 1800000000, NULL, &why);
    apr_pool_destroy(p);
    return 0;
}
