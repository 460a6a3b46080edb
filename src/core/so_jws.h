/* mod_sslorders: JSON Web Signature for ACME (RFC 7515, 7517, 7518, 7638, 8037, 8555)
 * with OpenSSL and jansson (no httpd types).
 *
 * Flattened JWS JSON serialization only ({"protected", "payload", "signature"}), the
 * form RFC 8555 6.2 requires. Account keys: ES256 (P-256), ES384 (P-384), RS256 (RSA
 * 2048..8192 bits) and EdDSA (Ed25519); the MAC of External Account Binding: HS256
 * (HS384, HS512 too). */
#ifndef SO_JWS_H
#define SO_JWS_H

#include <apr_pools.h>
#include <jansson.h>

/* base64url without padding (RFC 7515 2). */
const char *so_b64url(apr_pool_t *p, const unsigned char *data, apr_size_t len);
/* Strict decode: only the URL-safe alphabet, no padding, no white space. APR_EINVAL else. */
apr_status_t so_unb64url(apr_pool_t *p, const char *s, const unsigned char **out,
                         apr_size_t *len);

typedef struct so_jwk_t {
    const char *kty;        /* "EC", "RSA", "OKP" */
    const char *canonical;  /* the RFC 7638 JSON (required members, sorted, no spaces) */
    const char *thumbprint; /* base64url(SHA-256(canonical)) */
    void *pkey;             /* EVP_PKEY * (freed with the pool) */
    int bits;               /* RSA modulus / EC field size */
} so_jwk_t;

/* Import a public JWK (an object). APR_EINVAL and *why for anything else (private
 * members are refused too). */
apr_status_t so_jwk_import(apr_pool_t *p, json_t *jwk, so_jwk_t **out, const char **why);
/* The same from its JSON text (as stored); answered from the process's key cache when
 * so_jwk_cache_init() made one and the text was parsed before. */
apr_status_t so_jwk_parse(apr_pool_t *p, const char *text, so_jwk_t **out, const char **why);
/* A cache of at most max keys for so_jwk_parse() in this process, living in p (a child
 * process's pool: thread-safe; none once p is destroyed); max 0: none. */
apr_status_t so_jwk_cache_init(apr_pool_t *p, unsigned max);
/* The JWK text an owner (an ACME account id) was last verified with, in the same cache
 * (cleared with it): so_jwk_cache_note remembers it, so_jwk_cache_text gives a copy in p
 * or NULL. A hint only: the stored key decides. */
void so_jwk_cache_note(apr_int64_t owner, const char *text);
const char *so_jwk_cache_text(apr_pool_t *p, apr_int64_t owner);
/* Keys held (for tests). */
void so_jwk_cache_stats(unsigned *entries);

typedef struct {
    json_t *protected_hdr;     /* the decoded protected header (an object; pool-owned) */
    const char *alg;
    const char *nonce;         /* NULL when absent */
    const char *url;           /* NULL when absent */
    const char *kid;           /* NULL when absent */
    json_t *jwk;               /* NULL when absent */
    const char *payload_b64;   /* as sent */
    const unsigned char *payload; /* decoded ("" for POST-as-GET) */
    apr_size_t payload_len;
    const char *signing_input; /* protected "." payload */
    const unsigned char *sig;
    apr_size_t sig_len;
} so_jws_t;

/* Parse a flattened JWS (text). APR_EINVAL and *why when malformed. Does not verify. */
apr_status_t so_jws_parse(apr_pool_t *p, const char *body, apr_size_t len, so_jws_t **out,
                          const char **why);
/* Whether alg is an account-key algorithm we accept. */
int so_jws_alg_ok(const char *alg);
/* Verify the signature with key: APR_EINVAL (*why) when alg does not fit the key,
 * APR_EGENERAL when the signature is wrong. */
apr_status_t so_jws_verify(apr_pool_t *p, const so_jws_t *jws, const so_jwk_t *key,
                           const char **why);
/* Verify an HMAC JWS (EAB) with a raw key: APR_SUCCESS when alg is HS256/384/512 and it fits. */
apr_status_t so_jws_verify_hmac(const so_jws_t *jws, const unsigned char *key, apr_size_t keylen,
                                const char **why);
/* The payload as a JSON object (NULL for an empty payload or not an object). */
json_t *so_jws_payload_json(apr_pool_t *p, const so_jws_t *jws);

/* Sign (tests and the fuzzer's seeds): a flattened JWS with an HS256 key. */
const char *so_jws_sign_hmac(apr_pool_t *p, const char *protected_json, const char *payload,
                             const unsigned char *key, apr_size_t keylen);

#endif
