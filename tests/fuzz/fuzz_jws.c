/* libFuzzer harness: ACME request bodies (flattened JWS), their protected headers and
 * payloads, the JWKs inside (every key type), signature checks against the key a JWS
 * names, the HMAC check of External Account Binding, the account key cache, and the nonce
 * a JWS (or the bytes) carries checked against the shared-memory nonce table. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_jws.h"
#include "../../src/core/so_nonce.h"

SO_FUZZ_ROOT_POOL(root)

static apr_uint64_t nonce_table[1 + 8]; /* the table's header and 8 slots */

/* the nonce as a client sent it: never accepted unless it is one the table issued */
static void nonce_check(apr_pool_t *p, const char *nonce)
{
    const char *mine;
    so_nonce_mem_attach(nonce_table, 8);
    mine = so_nonce_mem_issue(p, 5000);
    if (!mine) {
        __builtin_trap();
    }
    if (so_nonce_mem_use(p, nonce, 5000, 3600) == APR_SUCCESS && strcmp(nonce, mine)) {
        /* an older nonce still in its slot: accepted once, never twice */
        if (so_nonce_mem_use(p, nonce, 5000, 3600) != APR_ENOENT) {
            __builtin_trap();
        }
    }
    so_nonce_mem_use(p, mine, 5000, 3600);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    so_jws_t *jws;
    so_jwk_t *k;
    const char *why;
    const unsigned char *raw;
    apr_size_t rawlen;
    static const unsigned char key[32] = {1, 2, 3};
    apr_pool_t *cp;
    const char *text;

    apr_pool_create(&p, root);
    if (so_jws_parse(p, (const char *)data, size, &jws, &why) == APR_SUCCESS) {
        so_jws_payload_json(p, jws);
        so_jws_alg_ok(jws->alg);
        if (jws->jwk && so_jwk_import(p, jws->jwk, &k, &why) == APR_SUCCESS) {
            so_jws_verify(p, jws, k, &why);
        }
        so_jws_verify_hmac(jws, key, sizeof(key), &why);
        if (jws->nonce) {
            nonce_check(p, jws->nonce);
        }
    }
    /* the bytes as a JWK (twice: the second from the process's key cache, which must
     * answer the same key), and as base64url */
    /* the cache lives in a pool of this input: APR's pool memory is not scanned by the leak
     * checker, so keys it held across inputs would look leaked */
    apr_pool_create(&cp, root);
    so_jwk_cache_init(cp, 4);
    text = apr_pstrmemdup(p, (const char *)data, size);
    if (so_jwk_parse(p, text, &k, &why) == APR_SUCCESS) {
        so_jwk_t *again;
        if (so_jwk_parse(p, text, &again, &why) != APR_SUCCESS
            || strcmp(again->thumbprint, k->thumbprint) || again->bits != k->bits) {
            __builtin_trap();
        }
    }
    apr_pool_destroy(cp);
    so_unb64url(p, apr_pstrmemdup(p, (const char *)data, size), &raw, &rawlen);
    nonce_check(p, apr_pstrmemdup(p, (const char *)data, size));
    so_b64url(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
