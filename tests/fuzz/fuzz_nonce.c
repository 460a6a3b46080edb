/* libFuzzer harness: a nonce as a client sends it (the protected header's "nonce") against
 * the shared-memory nonce table (so_nonce.h): never accepted unless the table issued it,
 * accepted once, and the table's own nonces always accepted once. The first byte picks
 * the clock of the check (within, at and past the lifetime, and "in the future"). */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_nonce.h"

SO_FUZZ_ROOT_POOL(root)

static apr_uint64_t table[1 + 16]; /* header and 16 slots */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const apr_int64_t offsets[] = {0, 1, 3599, 3600, -30, -61, 1 << 24, -(1 << 24)};
    apr_pool_t *p;
    const char *text, *mine;
    apr_int64_t issued = 16777000, at;
    apr_status_t rv;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, root);
    so_nonce_mem_attach(table, 16);
    at = issued + offsets[data[0] % 8];
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    mine = so_nonce_mem_issue(p, issued);
    if (!mine) {
        __builtin_trap();
    }
    rv = so_nonce_mem_use(p, text, at, 3600);
    if (rv == APR_SUCCESS) {
        if (so_nonce_mem_use(p, text, at, 3600) != APR_ENOENT) {
            __builtin_trap(); /* twice */
        }
    }
    else if (rv != APR_ENOENT) {
        __builtin_trap();
    }
    /* the table's own nonce: accepted while fresh, unless the input was it and took it */
    rv = so_nonce_mem_use(p, mine, issued + 10, 3600);
    if (strcmp(text, mine) && rv != APR_SUCCESS) {
        __builtin_trap();
    }
    apr_pool_destroy(p);
    return 0;
}
