/* The parse caches of the ACME path: the process's JWK cache (so_jwk_parse) and the pool's
 * CSR memo (so_csr_parse). Each answers exactly what an uncached parse answers, stays
 * correct after the pool of the first parse is gone, and is bounded. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "test_common.h"
#include "../../src/core/so_csr.h"
#include "../../src/core/so_jws.h"
#include "../../src/core/so_nonce.h"

/* an ES256 public JWK as stored, and a flattened JWS of msg signed by its key */
static const char *ec_jwk(apr_pool_t *p, EVP_PKEY **key)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char bx[32], by[32];
    *key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(*key);
    ck_assert(EVP_PKEY_get_bn_param(*key, "qx", &x) && EVP_PKEY_get_bn_param(*key, "qy", &y));
    ck_assert_int_eq(BN_bn2binpad(x, bx, 32), 32);
    ck_assert_int_eq(BN_bn2binpad(y, by, 32), 32);
    BN_free(x);
    BN_free(y);
    return apr_psprintf(p, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                        so_b64url(p, bx, 32), so_b64url(p, by, 32));
}

static so_jws_t *signed_by(apr_pool_t *p, EVP_PKEY *key, const char *msg)
{
    const char *prot = so_b64url(p, (const unsigned char *)"{\"alg\":\"ES256\"}", 15);
    const char *pl = so_b64url(p, (const unsigned char *)msg, strlen(msg));
    const char *input = apr_pstrcat(p, prot, ".", pl, NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80], raw[64];
    const unsigned char *q = der;
    size_t len = sizeof(der);
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;
    so_jws_t *jws;
    const char *why = NULL;

    ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    ck_assert(EVP_DigestSign(md, der, &len, (const unsigned char *)input, strlen(input)) == 1);
    EVP_MD_CTX_free(md);
    sig = d2i_ECDSA_SIG(NULL, &q, (long)len);
    ck_assert_ptr_nonnull(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    ECDSA_SIG_free(sig);
    input = apr_psprintf(p, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                         prot, pl, so_b64url(p, raw, 64));
    ck_assert_int_eq(so_jws_parse(p, input, strlen(input), &jws, &why), APR_SUCCESS);
    return jws;
}

START_TEST(jwk_cache)
{
    apr_pool_t *root, *p1, *p2, *p3;
    EVP_PKEY *key, *other;
    const char *text, *text2, *why = NULL;
    so_jwk_t *a, *b, *c;
    unsigned n = 99;

    apr_pool_create(&root, NULL);
    apr_pool_create(&p1, root);
    apr_pool_create(&p2, root);
    text = ec_jwk(root, &key);
    text2 = ec_jwk(root, &other);

    /* no cache made: every parse builds its key */
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(so_jwk_parse(p1, text, &a, &why), APR_SUCCESS);
    ck_assert_int_eq(so_jwk_parse(p2, text, &b, &why), APR_SUCCESS);
    ck_assert_ptr_ne(a->pkey, b->pkey);

    /* a cache of two keys: the second parse shares the first one's key, answers the same */
    ck_assert_int_eq(so_jwk_cache_init(root, 2), APR_SUCCESS);
    ck_assert_int_eq(so_jwk_parse(p1, text, &a, &why), APR_SUCCESS);
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(so_jwk_parse(p2, text, &b, &why), APR_SUCCESS);
    ck_assert_ptr_eq(a->pkey, b->pkey);
    ck_assert_str_eq(a->thumbprint, b->thumbprint);
    ck_assert_str_eq(a->canonical, b->canonical);
    ck_assert_str_eq(b->kty, "EC");
    ck_assert_int_eq(b->bits, a->bits);

    /* the first pool gone, the cached key still verifies, and refuses another key's JWS */
    apr_pool_destroy(p1);
    ck_assert_int_eq(so_jws_verify(p2, signed_by(p2, key, "hello"), b, &why), APR_SUCCESS);
    ck_assert_int_ne(so_jws_verify(p2, signed_by(p2, other, "hello"), b, &why), APR_SUCCESS);

    /* bad text is refused each time, never cached */
    ck_assert_int_eq(so_jwk_parse(p2, "{\"kty\":\"EC\"", &c, &why), APR_EINVAL);
    ck_assert_int_eq(so_jwk_parse(p2, "{\"kty\":\"EC\"}", &c, &why), APR_EINVAL);
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 1);

    /* full: a third key drops all; the keys handed out stay usable */
    ck_assert_int_eq(so_jwk_parse(p2, text2, &c, &why), APR_SUCCESS);
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 2);
    apr_pool_create(&p3, root);
    ck_assert_int_eq(so_jwk_parse(p3, apr_pstrcat(p3, text, " ", NULL), &a, &why), APR_SUCCESS);
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(so_jws_verify(p2, signed_by(p2, key, "again"), b, &why), APR_SUCCESS);
    ck_assert_int_eq(so_jws_verify(p2, signed_by(p2, other, "again"), c, &why), APR_SUCCESS);
    ck_assert_int_eq(so_jws_verify(p3, signed_by(p3, key, "again"), a, &why), APR_SUCCESS);

    /* the text an owner was last verified with: a copy, replaced by a changed one; a third
     * owner in a cache of two drops everything, keys too */
    ck_assert_ptr_null(so_jwk_cache_text(p3, 7));
    so_jwk_cache_note(7, text);
    ck_assert_str_eq(so_jwk_cache_text(p3, 7), text);
    ck_assert_ptr_ne(so_jwk_cache_text(p3, 7), text);
    so_jwk_cache_note(7, text2);
    ck_assert_str_eq(so_jwk_cache_text(p3, 7), text2);
    ck_assert_ptr_null(so_jwk_cache_text(p3, 8));
    so_jwk_cache_note(8, text);
    ck_assert_str_eq(so_jwk_cache_text(p3, 8), text);
    so_jwk_cache_note(9, text);
    ck_assert_ptr_null(so_jwk_cache_text(p3, 7));
    ck_assert_ptr_null(so_jwk_cache_text(p3, 8));
    ck_assert_str_eq(so_jwk_cache_text(p3, 9), text);
    so_jwk_cache_stats(&n);
    ck_assert_uint_eq(n, 0);

    apr_pool_destroy(root); /* the cache with it */
    ck_assert_ptr_null(so_jwk_cache_text(NULL, 9));
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(csr_memo)
{
    static const char *const names[] = {"memo.example.com", "www.memo.example.com", NULL};
    apr_pool_t *p, *sub;
    const char *pem, *why = NULL;
    so_csr_t *a, *b, *c;

    apr_pool_create(&p, NULL);
    pem = so_test_csr(p, "ec256", names, NULL, NULL);
    ck_assert_int_eq(so_csr_parse(p, pem, &a, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(a->spki_req_sha256);
    ck_assert_str_eq(a->spki_req_sha256, a->spki_sha256); /* a plain EC key: same encoding */

    /* again in the same pool, by the input or the canonical form: an equal copy of its own */
    ck_assert_int_eq(so_csr_parse(p, pem, &b, &why), APR_SUCCESS);
    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_ne(a->names, b->names);
    ck_assert_str_eq(a->sha256, b->sha256);
    ck_assert_str_eq(a->spki_sha256, b->spki_sha256);
    ck_assert_int_eq(b->names->nelts, 2);
    APR_ARRAY_PUSH(b->names, const char *) = "changed.example.com";
    ck_assert_int_eq(so_csr_parse(p, a->pem, &c, &why), APR_SUCCESS);
    ck_assert_int_eq(c->names->nelts, 2); /* a caller's change does not reach the memo */
    ck_assert_str_eq(APR_ARRAY_IDX(c->names, 1, const char *), "www.memo.example.com");

    /* a sub-pool parses on its own (never the parent's table), and dies with its memo */
    apr_pool_create(&sub, p);
    ck_assert_int_eq(so_csr_parse(sub, pem, &c, &why), APR_SUCCESS);
    ck_assert_str_eq(c->sha256, a->sha256);
    apr_pool_destroy(sub);

    /* a broken CSR is refused every time (a memo holds only what parsed) */
    ck_assert_int_eq(so_csr_parse(p, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                     "-----END CERTIFICATE REQUEST-----\n", &c, &why),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(why);
    apr_pool_destroy(p);
}
END_TEST

/* ACME nonces in shared memory (SQLite): each accepted once, until it expires or the ring
 * overwrote its slot; anything else is not ours */
START_TEST(nonce_mem)
{
    apr_pool_t *p;
    void *base;
    const char *n[5], *forged;
    const unsigned char *raw;
    unsigned char copy[12];
    apr_size_t len;
    apr_int64_t t = 1000;
    int i;

    apr_pool_create(&p, NULL);
    so_nonce_mem_attach(NULL, 0);
    ck_assert(!so_nonce_mem_on());
    ck_assert_ptr_null(so_nonce_mem_issue(p, t));
    ck_assert_int_eq(so_nonce_mem_use(p, "AAAAAAAAAAAAAAAA", t, 3600), APR_ENOTIMPL);
    base = apr_pcalloc(p, so_nonce_mem_size(4));
    so_nonce_mem_attach(base, 3); /* not a power of two: refused */
    ck_assert(!so_nonce_mem_on());
    so_nonce_mem_attach(base, 4);
    ck_assert(so_nonce_mem_on());

    /* once */
    n[0] = so_nonce_mem_issue(p, t);
    ck_assert_ptr_nonnull(n[0]);
    ck_assert_int_eq(strlen(n[0]), 16);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t, 3600), APR_SUCCESS);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t, 3600), APR_ENOENT);

    /* expiry: valid for ttl seconds; a little "in the future" (the clock stepped back) too */
    n[0] = so_nonce_mem_issue(p, t);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t + 3600, 3600), APR_ENOENT);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t + 3599, 3600), APR_SUCCESS);
    n[0] = so_nonce_mem_issue(p, t);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t - 30, 3600), APR_SUCCESS);
    n[0] = so_nonce_mem_issue(p, t);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t - 3000, 3600), APR_ENOENT);
    /* across the wrap of the 24 bits of time */
    n[0] = so_nonce_mem_issue(p, (1 << 24) - 5);
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], (1 << 24) + 5, 3600), APR_SUCCESS);

    /* the ring: a fifth nonce in four slots overwrites the first */
    for (i = 0; i < 5; i++) {
        n[i] = so_nonce_mem_issue(p, t);
        ck_assert_ptr_nonnull(n[i]);
    }
    ck_assert_int_eq(so_nonce_mem_use(p, n[0], t, 3600), APR_ENOENT);
    /* a changed value or slot index, another length, another alphabet: not ours */
    ck_assert_int_eq(so_unb64url(p, n[1], &raw, &len), APR_SUCCESS);
    ck_assert_int_eq(len, 12);
    memcpy(copy, raw, 12);
    copy[11] ^= 2;
    forged = so_b64url(p, copy, 12);
    ck_assert_int_eq(so_nonce_mem_use(p, forged, t, 3600), APR_ENOENT);
    copy[11] ^= 2;
    copy[0] = 0x7f; /* slot beyond the ring */
    ck_assert_int_eq(so_nonce_mem_use(p, so_b64url(p, copy, 12), t, 3600), APR_ENOENT);
    memset(copy + 4, 0, 8); /* the value of a used slot */
    copy[0] = raw[0];
    ck_assert_int_eq(so_nonce_mem_use(p, so_b64url(p, copy, 12), t, 3600), APR_ENOENT);
    ck_assert_int_eq(so_nonce_mem_use(p, apr_pstrcat(p, n[1], "A", NULL), t, 3600), APR_ENOENT);
    ck_assert_int_eq(so_nonce_mem_use(p, "", t, 3600), APR_ENOENT);
    ck_assert_int_eq(so_nonce_mem_use(p, NULL, t, 3600), APR_ENOENT);
    ck_assert_int_eq(so_nonce_mem_use(p, "AAAAAAAAAAAAAA+/", t, 3600), APR_ENOENT);
    for (i = 1; i < 5; i++) {
        ck_assert_int_eq(so_nonce_mem_use(p, n[i], t, 3600), APR_SUCCESS);
    }
    so_nonce_mem_attach(NULL, 0);
    apr_pool_destroy(p);
}
END_TEST

TCase *so_test_jws_case(void)
{
    TCase *tc = tcase_create("jws");
    tcase_add_test(tc, jwk_cache);
    tcase_add_test(tc, csr_memo);
    tcase_add_test(tc, nonce_mem);
    return tc;
}
