/* libFuzzer harness: the scopes and allowed networks of an API token (POST /team/tokens)
 * and the check of a client address against stored networks.
 * Input: "SCOPES\nNETWORKS\nCLIENT-IP". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_scopes.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text, *nl1, *nl2, *scopes, *nets, *ip = "";
    const char *why = NULL, *canon = NULL, *canon2 = NULL;
    unsigned mask = 0, mask2 = 0;

    if (size > 4096) {
        return 0;
    }
    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data, size);
    scopes = text;
    nets = "";
    if ((nl1 = strchr(text, '\n'))) {
        *nl1 = '\0';
        nets = nl1 + 1;
        if ((nl2 = strchr(nets, '\n'))) {
            *nl2 = '\0';
            ip = nl2 + 1;
        }
    }
    if (so_scopes_parse(scopes, &mask, &why, p) == APR_SUCCESS) {
        /* the canonical text parses back to the same mask */
        if (so_scopes_parse(so_scopes_text(p, mask), &mask2, &why, p) != APR_SUCCESS
            || mask2 != mask || (mask & ~SO_SCOPE_ALL)) {
            abort();
        }
    }
    else if (!why) {
        abort();
    }
    if (so_networks_parse(nets, &canon, &why, p) == APR_SUCCESS) {
        if (so_networks_parse(canon, &canon2, &why, p) != APR_SUCCESS || strcmp(canon, canon2)) {
            abort();
        }
        (void)so_networks_allow(canon, ip, p);
    }
    (void)so_networks_allow(nets, ip, p);
    apr_pool_destroy(p);
    return 0;
}
