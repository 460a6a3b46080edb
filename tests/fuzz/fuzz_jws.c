/* libFuzzer harness: ACME request bodies (flattened JWS), their protected headers and
 * payloads, the JWKs inside (every key type), signature checks against the key a JWS
 * names, the HMAC check of External Account Binding, and the account key cache. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_jws.h"

SO_FUZZ_ROOT_POOL(root)

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
    so_b64url(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
