/* mod_sslorders: JSON Web Signature for ACME (see so_jws.h). */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "so_jws.h"

#define MAX_JWS (256 * 1024)

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *so_b64url(apr_pool_t *p, const unsigned char *d, apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;
    for (i = 0; i + 2 < len; i += 3) {
        *o++ = b64url_chars[d[i] >> 2];
        *o++ = b64url_chars[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = b64url_chars[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = b64url_chars[d[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = b64url_chars[d[i] >> 2];
        *o++ = b64url_chars[(d[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_chars[d[i] >> 2];
        *o++ = b64url_chars[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = b64url_chars[(d[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

apr_status_t so_unb64url(apr_pool_t *p, const char *s, const unsigned char **out,
                         apr_size_t *len)
{
    apr_size_t n = strlen(s), i, o = 0;
    unsigned char *buf;
    unsigned int acc = 0;
    int bits = 0;

    if (n % 4 == 1) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            return APR_EINVAL;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* non-canonical trailing bits */
        return APR_EINVAL;
    }
    buf[o] = 0;
    *out = buf;
    *len = o;
    return APR_SUCCESS;
}

static apr_status_t free_pkey(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

static const char *member(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* decode a base64url member; exact length when want > 0 */
static apr_status_t b64_member(apr_pool_t *p, json_t *o, const char *k, apr_size_t want,
                               const unsigned char **out, apr_size_t *len, const char **why)
{
    const char *s = member(o, k);
    if (!s || so_unb64url(p, s, out, len) != APR_SUCCESS || *len == 0
        || (want && *len != want)) {
        *why = apr_psprintf(p, "the JWK member \"%s\" is missing or not valid base64url", k);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The key from params. EC keys are checked (the point is on the curve). RSA keys are not
 * given to EVP_PKEY_public_check: its SP 800-56B check runs a Miller-Rabin test on n,
 * seconds for an 8192-bit modulus that anyone may send (a fuzzed input took 25 s); the
 * caller checks what a signature check needs (n and e odd, e > 1), and a key that is not
 * an RSA key only fails to verify. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pk = NULL;
    if (ctx && EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
            pk = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    if (pk && strcmp(type, "RSA")) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        int ok = c && EVP_PKEY_public_check(c) > 0;
        EVP_PKEY_CTX_free(c);
        if (!ok) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
    }
    return pk;
}

/* so_jwk_import for kty "EC": P-256 or P-384, the point checked by OpenSSL */
static apr_status_t import_ec(apr_pool_t *p, json_t *jwk, so_jwk_t *k, EVP_PKEY **pk,
                              const char **why)
{
    const unsigned char *a, *b;
    apr_size_t alen, blen;
    const char *crv = member(jwk, "crv");
    apr_size_t sz;
    const char *group;
    unsigned char *pt;
    OSSL_PARAM params[3];
    if (crv && !strcmp(crv, "P-256")) {
        sz = 32;
        group = "P-256";
    }
    else if (crv && !strcmp(crv, "P-384")) {
        sz = 48;
        group = "P-384";
    }
    else {
        *why = "an EC JWK must use the curve P-256 or P-384";
        return APR_EINVAL;
    }
    if (b64_member(p, jwk, "x", sz, &a, &alen, why) != APR_SUCCESS
        || b64_member(p, jwk, "y", sz, &b, &blen, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    pt = apr_palloc(p, 1 + 2 * sz);
    pt[0] = 4;
    memcpy(pt + 1, a, sz);
    memcpy(pt + 1 + sz, b, sz);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * sz);
    params[2] = OSSL_PARAM_construct_end();
    if (!(*pk = from_params("EC", params))) {
        *why = "the EC JWK is not a point on its curve";
        return APR_EINVAL;
    }
    k->bits = (int)sz * 8;
    k->canonical = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                                group, so_b64url(p, a, alen), so_b64url(p, b, blen));
    return APR_SUCCESS;
}

/* so_jwk_import for kty "RSA": 2048 to 8192 bits, minimal encodings, odd n and e */
static apr_status_t import_rsa(apr_pool_t *p, json_t *jwk, so_jwk_t *k, EVP_PKEY **pk,
                               const char **why)
{
    const unsigned char *a, *b;
    apr_size_t alen, blen;
    OSSL_PARAM_BLD *bld;
    OSSL_PARAM *params = NULL;
    BIGNUM *n = NULL, *e = NULL;
    if (b64_member(p, jwk, "n", 0, &a, &alen, why) != APR_SUCCESS
        || b64_member(p, jwk, "e", 0, &b, &blen, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (a[0] == 0 || b[0] == 0 || blen > 8) {
        *why = "the RSA JWK's n or e has leading zero bytes or is too long";
        return APR_EINVAL;
    }
    if (alen < 256 || alen > 1024) {
        *why = "an RSA account key has 2048 to 8192 bits";
        return APR_EINVAL;
    }
    if (!(a[alen - 1] & 1) || !(b[blen - 1] & 1) || (blen == 1 && b[0] < 3)) {
        *why = "the RSA JWK's n and e must be odd and e at least 3";
        return APR_EINVAL;
    }
    n = BN_bin2bn(a, (int)alen, NULL);
    e = BN_bin2bn(b, (int)blen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        params = OSSL_PARAM_BLD_to_param(bld);
    }
    if (params) {
        *pk = from_params("RSA", params);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    if (!*pk) {
        *why = "the RSA JWK is not a valid public key";
        return APR_EINVAL;
    }
    k->bits = (int)alen * 8;
    k->canonical = apr_psprintf(p, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                                so_b64url(p, b, blen), so_b64url(p, a, alen));
    return APR_SUCCESS;
}

/* so_jwk_import for kty "OKP": Ed25519 only */
static apr_status_t import_okp(apr_pool_t *p, json_t *jwk, so_jwk_t *k, EVP_PKEY **pk,
                               const char **why)
{
    const unsigned char *a;
    apr_size_t alen;
    const char *crv = member(jwk, "crv");
    if (!crv || strcmp(crv, "Ed25519")) {
        *why = "an OKP JWK must use the curve Ed25519";
        return APR_EINVAL;
    }
    if (b64_member(p, jwk, "x", 32, &a, &alen, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!(*pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, alen))) {
        *why = "the Ed25519 JWK is not a valid public key";
        return APR_EINVAL;
    }
    k->bits = 256;
    k->canonical = apr_psprintf(p, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                                so_b64url(p, a, alen));
    return APR_SUCCESS;
}

apr_status_t so_jwk_import(apr_pool_t *p, json_t *jwk, so_jwk_t **out, const char **why)
{
    so_jwk_t *k;
    const char *kty;
    EVP_PKEY *pk = NULL;
    unsigned char dig[SHA256_DIGEST_LENGTH];

    *why = NULL;
    if (!json_is_object(jwk) || !(kty = member(jwk, "kty"))) {
        *why = "the JWK is not an object with a \"kty\"";
        return APR_EINVAL;
    }
    if (json_object_get(jwk, "d") || json_object_get(jwk, "p") || json_object_get(jwk, "k")) {
        *why = "the JWK holds private key material";
        return APR_EINVAL;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->kty = apr_pstrdup(p, kty);
    if (!strcmp(kty, "EC")) {
        if (import_ec(p, jwk, k, &pk, why) != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    else if (!strcmp(kty, "RSA")) {
        if (import_rsa(p, jwk, k, &pk, why) != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    else if (!strcmp(kty, "OKP")) {
        if (import_okp(p, jwk, k, &pk, why) != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    else {
        *why = "the JWK's kty is not EC, RSA or OKP";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, pk, free_pkey, apr_pool_cleanup_null);
    k->pkey = pk;
    SHA256((const unsigned char *)k->canonical, strlen(k->canonical), dig);
    k->thumbprint = so_b64url(p, dig, sizeof(dig));
    *out = k;
    return APR_SUCCESS;
}

/* The keys so_jwk_parse() built, per process, by their JWK text: every request of an ACME
 * account names the same stored key, and building an EVP_PKEY from a JWK (with its
 * public-key check) costs more than the signature check it serves. The EVP_PKEYs are
 * shared (reference counted, only read); the strings are copied out. When full, all go. */
static struct {
    apr_pool_t *pool;
    apr_thread_mutex_t *lock;
    apr_hash_t *keys;   /* text -> so_jwk_t (in pool) */
    apr_hash_t *owners; /* owner (apr_int64_t) -> the text it was last verified with */
    unsigned n, nowners, max;
} kc;

/* p is going: no cache from now on (its keys go with kc.pool, a sub-pool of p) */
static apr_status_t cache_gone(void *unused)
{
    (void)unused;
    kc.lock = NULL;
    return APR_SUCCESS;
}

apr_status_t so_jwk_cache_init(apr_pool_t *p, unsigned max)
{
    apr_status_t rv;
    kc.lock = NULL;
    if (max == 0) {
        return APR_SUCCESS;
    }
    if ((rv = apr_pool_create(&kc.pool, p)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&kc.lock, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS) {
        kc.lock = NULL;
        return rv;
    }
    kc.keys = apr_hash_make(kc.pool);
    kc.owners = apr_hash_make(kc.pool);
    kc.n = kc.nowners = 0;
    kc.max = max;
    apr_pool_pre_cleanup_register(p, NULL, cache_gone);
    return APR_SUCCESS;
}

void so_jwk_cache_stats(unsigned *entries)
{
    *entries = kc.lock ? kc.n : 0;
}

/* a copy of k in p: the strings copied, the key shared (one more reference, freed with p) */
static so_jwk_t *jwk_copy(apr_pool_t *p, const so_jwk_t *k)
{
    so_jwk_t *c = apr_pmemdup(p, k, sizeof(*c));
    c->kty = apr_pstrdup(p, k->kty);
    c->canonical = apr_pstrdup(p, k->canonical);
    c->thumbprint = apr_pstrdup(p, k->thumbprint);
    EVP_PKEY_up_ref(k->pkey);
    apr_pool_cleanup_register(p, k->pkey, free_pkey, apr_pool_cleanup_null);
    return c;
}

static so_jwk_t *cache_get(apr_pool_t *p, const char *text)
{
    so_jwk_t *k, *c = NULL;
    if (!kc.lock || apr_thread_mutex_lock(kc.lock) != APR_SUCCESS) {
        return NULL;
    }
    if ((k = apr_hash_get(kc.keys, text, APR_HASH_KEY_STRING))) {
        c = jwk_copy(p, k);
    }
    apr_thread_mutex_unlock(kc.lock);
    return c;
}

/* with kc.lock held: everything goes (the keys' references are freed) */
static void cache_clear(void)
{
    apr_pool_clear(kc.pool);
    kc.keys = apr_hash_make(kc.pool);
    kc.owners = apr_hash_make(kc.pool);
    kc.n = kc.nowners = 0;
}

static void cache_put(const char *text, const so_jwk_t *k)
{
    if (!kc.lock || apr_thread_mutex_lock(kc.lock) != APR_SUCCESS) {
        return;
    }
    if (!apr_hash_get(kc.keys, text, APR_HASH_KEY_STRING)) {
        if (kc.n >= kc.max) {
            cache_clear();
        }
        apr_hash_set(kc.keys, apr_pstrdup(kc.pool, text), APR_HASH_KEY_STRING,
                     jwk_copy(kc.pool, k));
        kc.n++;
    }
    apr_thread_mutex_unlock(kc.lock);
}

void so_jwk_cache_note(apr_int64_t owner, const char *text)
{
    const char *had;
    if (!kc.lock || apr_thread_mutex_lock(kc.lock) != APR_SUCCESS) {
        return;
    }
    had = apr_hash_get(kc.owners, &owner, sizeof(owner));
    if (!had || strcmp(had, text)) {
        if (!had && kc.nowners >= kc.max) {
            cache_clear();
        }
        /* a changed text leaves the old copy in the pool until the next clear */
        apr_hash_set(kc.owners, apr_pmemdup(kc.pool, &owner, sizeof(owner)), sizeof(owner),
                     apr_pstrdup(kc.pool, text));
        kc.nowners += !had;
    }
    apr_thread_mutex_unlock(kc.lock);
}

const char *so_jwk_cache_text(apr_pool_t *p, apr_int64_t owner)
{
    const char *text, *c = NULL;
    if (!kc.lock || apr_thread_mutex_lock(kc.lock) != APR_SUCCESS) {
        return NULL;
    }
    if ((text = apr_hash_get(kc.owners, &owner, sizeof(owner)))) {
        c = apr_pstrdup(p, text);
    }
    apr_thread_mutex_unlock(kc.lock);
    return c;
}

apr_status_t so_jwk_parse(apr_pool_t *p, const char *text, so_jwk_t **out, const char **why)
{
    json_error_t err;
    json_t *j;
    apr_status_t rv;

    *why = NULL;
    if ((*out = cache_get(p, text))) {
        return APR_SUCCESS;
    }
    if (!(j = json_loads(text, JSON_REJECT_DUPLICATES, &err))) {
        *why = "the JWK is not valid JSON";
        return APR_EINVAL;
    }
    rv = so_jwk_import(p, j, out, why);
    json_decref(j);
    if (rv == APR_SUCCESS) {
        cache_put(text, *out);
    }
    return rv;
}

static apr_status_t json_free(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

apr_status_t so_jws_parse(apr_pool_t *p, const char *body, apr_size_t len, so_jws_t **out,
                          const char **why)
{
    json_error_t err;
    json_t *j, *hdr, *v;
    so_jws_t *s;
    const char *prot, *payload, *sig;
    const unsigned char *raw;
    apr_size_t rawlen;

    *why = NULL;
    if (len > MAX_JWS) {
        *why = "the JWS is too large";
        return APR_EINVAL;
    }
    j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        *why = "the request body is not JSON";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, j, json_free, apr_pool_cleanup_null);
    if (!json_is_object(j) || !(prot = member(j, "protected")) || !(payload = member(j, "payload"))
        || !(sig = member(j, "signature"))) {
        *why = "the request body is not a flattened JWS (protected, payload, signature)";
        return APR_EINVAL;
    }
    if (json_object_get(j, "header") || json_object_get(j, "signatures")) {
        *why = "a JWS with an unprotected header or several signatures is not accepted";
        return APR_EINVAL;
    }
    s = apr_pcalloc(p, sizeof(*s));
    if (so_unb64url(p, prot, &raw, &rawlen) != APR_SUCCESS) {
        *why = "the protected header is not base64url";
        return APR_EINVAL;
    }
    hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &err);
    if (!hdr) {
        *why = "the protected header is not JSON";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, hdr, json_free, apr_pool_cleanup_null);
    if (!json_is_object(hdr)) {
        *why = "the protected header is not a JSON object";
        return APR_EINVAL;
    }
    s->protected_hdr = hdr;
    if (!(s->alg = member(hdr, "alg"))) {
        *why = "the protected header has no \"alg\"";
        return APR_EINVAL;
    }
    if ((v = json_object_get(hdr, "nonce")) && !(s->nonce = member(hdr, "nonce"))) {
        *why = "the nonce is not a string";
        return APR_EINVAL;
    }
    if ((v = json_object_get(hdr, "url")) && !(s->url = member(hdr, "url"))) {
        *why = "the url is not a string";
        return APR_EINVAL;
    }
    if ((v = json_object_get(hdr, "kid")) && !(s->kid = member(hdr, "kid"))) {
        *why = "the kid is not a string";
        return APR_EINVAL;
    }
    if ((v = json_object_get(hdr, "jwk"))) {
        if (!json_is_object(v)) {
            *why = "the jwk is not an object";
            return APR_EINVAL;
        }
        s->jwk = v;
    }
    if (json_object_get(hdr, "crit") || json_object_get(hdr, "b64")) {
        *why = "the protected header has members this server does not understand (crit, b64)";
        return APR_EINVAL;
    }
    s->payload_b64 = payload;
    if (so_unb64url(p, payload, &s->payload, &s->payload_len) != APR_SUCCESS) {
        *why = "the payload is not base64url";
        return APR_EINVAL;
    }
    if (so_unb64url(p, sig, &s->sig, &s->sig_len) != APR_SUCCESS || s->sig_len == 0) {
        *why = "the signature is not base64url";
        return APR_EINVAL;
    }
    s->signing_input = apr_pstrcat(p, prot, ".", payload, NULL);
    *out = s;
    return APR_SUCCESS;
}

int so_jws_alg_ok(const char *alg)
{
    return alg && (!strcmp(alg, "ES256") || !strcmp(alg, "ES384") || !strcmp(alg, "RS256")
                   || !strcmp(alg, "EdDSA"));
}

apr_status_t so_jws_verify(apr_pool_t *p, const so_jws_t *jws, const so_jwk_t *key,
                           const char **why)
{
    EVP_MD_CTX *ctx;
    const EVP_MD *md = NULL;
    const unsigned char *sig = jws->sig;
    apr_size_t siglen = jws->sig_len;
    unsigned char *der = NULL;
    int ok;

    *why = NULL;
    if (!strcmp(jws->alg, "ES256") || !strcmp(jws->alg, "ES384")) {
        apr_size_t sz = !strcmp(jws->alg, "ES256") ? 32 : 48;
        ECDSA_SIG *es;
        BIGNUM *r, *s;
        int dlen;
        if (strcmp(key->kty, "EC") || (apr_size_t)key->bits != sz * 8) {
            *why = apr_psprintf(p, "%s does not fit the account key", jws->alg);
            return APR_EINVAL;
        }
        if (siglen != 2 * sz) {
            *why = "the ECDSA signature has the wrong length";
            return APR_EGENERAL;
        }
        md = sz == 32 ? EVP_sha256() : EVP_sha384();
        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, (int)sz, NULL);
        s = BN_bin2bn(sig + sz, (int)sz, NULL);
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
            ECDSA_SIG_free(es);
            BN_free(r);
            BN_free(s);
            return APR_ENOMEM;
        }
        dlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (dlen <= 0) {
            return APR_ENOMEM;
        }
        sig = der;
        siglen = (apr_size_t)dlen;
    }
    else if (!strcmp(jws->alg, "RS256")) {
        if (strcmp(key->kty, "RSA")) {
            *why = "RS256 does not fit the account key";
            return APR_EINVAL;
        }
        md = EVP_sha256();
    }
    else if (!strcmp(jws->alg, "EdDSA")) {
        if (strcmp(key->kty, "OKP")) {
            *why = "EdDSA does not fit the account key";
            return APR_EINVAL;
        }
    }
    else {
        *why = "unsupported algorithm";
        return APR_EINVAL;
    }
    ctx = EVP_MD_CTX_new();
    ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) > 0
         && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jws->signing_input,
                             strlen(jws->signing_input)) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    if (!ok) {
        *why = "the JWS signature is not valid";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static const EVP_MD *hmac_md(const char *alg)
{
    if (!strcmp(alg, "HS256")) {
        return EVP_sha256();
    }
    if (!strcmp(alg, "HS384")) {
        return EVP_sha384();
    }
    if (!strcmp(alg, "HS512")) {
        return EVP_sha512();
    }
    return NULL;
}

apr_status_t so_jws_verify_hmac(const so_jws_t *jws, const unsigned char *key, apr_size_t keylen,
                                const char **why)
{
    const EVP_MD *md = hmac_md(jws->alg);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (!md) {
        *why = "the external account binding must use HS256, HS384 or HS512";
        return APR_EINVAL;
    }
    if (!HMAC(md, key, (int)keylen, (const unsigned char *)jws->signing_input,
              strlen(jws->signing_input), mac, &maclen)
        || maclen != jws->sig_len || CRYPTO_memcmp(mac, jws->sig, maclen) != 0) {
        *why = "the external account binding's MAC is wrong";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

json_t *so_jws_payload_json(apr_pool_t *p, const so_jws_t *jws)
{
    json_error_t err;
    json_t *j;
    if (jws->payload_len == 0) {
        return NULL;
    }
    j = json_loadb((const char *)jws->payload, jws->payload_len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        return NULL;
    }
    apr_pool_cleanup_register(p, j, json_free, apr_pool_cleanup_null);
    if (!json_is_object(j)) {
        return NULL;
    }
    return j;
}

const char *so_jws_sign_hmac(apr_pool_t *p, const char *protected_json, const char *payload,
                             const unsigned char *key, apr_size_t keylen)
{
    const char *prot = so_b64url(p, (const unsigned char *)protected_json, strlen(protected_json));
    const char *pl = so_b64url(p, (const unsigned char *)payload, strlen(payload));
    const char *input = apr_pstrcat(p, prot, ".", pl, NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)input, strlen(input), mac, &maclen);
    return apr_psprintf(p, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", prot,
                        pl, so_b64url(p, mac, maclen));
}
