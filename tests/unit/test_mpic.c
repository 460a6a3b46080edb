/* MPIC: the quorum of the Baseline Requirements, the schedule of minimum perspective counts
 * by date, and the request signatures (the integration tests run real perspectives,
 * tests/integration/test_mpic.py). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <check.h>

#include "test_common.h"
#include <openssl/bn.h>

#include "../../src/core/so_csr.h"
#include "../../src/core/so_mpic.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(mpic_quorum)
{
    const apr_int64_t before = SO_MPIC_FROM_3 - 1, later = SO_MPIC_FROM_5 + 86400;
    const char *why = NULL;
    /* allowed disagreement: none with 1, one with 2-5, two with 6 or more */
    ck_assert_int_eq(so_mpic_allowed_disagree(1), 0);
    ck_assert_int_eq(so_mpic_allowed_disagree(2), 1);
    ck_assert_int_eq(so_mpic_allowed_disagree(5), 1);
    ck_assert_int_eq(so_mpic_allowed_disagree(6), 2);
    ck_assert_int_eq(so_mpic_allowed_disagree(9), 2);
    /* before the rule: any count, the quorum still applies */
    ck_assert(so_mpic_quorum(pool, 1, 1, before, NULL));
    ck_assert(!so_mpic_quorum(pool, 1, 0, before, NULL));
    ck_assert(so_mpic_quorum(pool, 3, 2, before, NULL));
    ck_assert(!so_mpic_quorum(pool, 3, 1, before, &why));
    ck_assert_ptr_nonnull(strstr(why, "2 of 3"));
    ck_assert(!so_mpic_quorum(pool, 0, 0, before, NULL));
    /* with 5 (the count from 2026-12-15): 4 agree is enough, 3 is not */
    ck_assert(so_mpic_quorum(pool, 5, 5, later, NULL));
    ck_assert(so_mpic_quorum(pool, 5, 4, later, NULL));
    ck_assert(!so_mpic_quorum(pool, 5, 3, later, NULL));
    /* with 6: 4 agree is enough, 3 is not */
    ck_assert(so_mpic_quorum(pool, 6, 4, later, NULL));
    ck_assert(!so_mpic_quorum(pool, 6, 3, later, NULL));
    /* too few perspectives for the date: refused even when all agree */
    ck_assert(!so_mpic_quorum(pool, 4, 4, later, &why));
    ck_assert_ptr_nonnull(strstr(why, "at least 5"));
}
END_TEST

START_TEST(mpic_schedule)
{
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_3 - 1), 0);
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_3), 3);   /* 2026-03-15 */
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_4 - 1), 3);
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_4), 4);   /* 2026-06-15 */
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_5 - 1), 4);
    ck_assert_int_eq(so_mpic_required(SO_MPIC_FROM_5), 5);   /* 2026-12-15 */
    ck_assert_int_eq(so_mpic_required(1893456000), 5);       /* 2030 */
    ck_assert_int_eq(SO_MPIC_FROM_3, 1773532800);
    ck_assert_int_eq(SO_MPIC_FROM_4, 1781481600);
    ck_assert_int_eq(SO_MPIC_FROM_5, 1797292800);
}
END_TEST

START_TEST(mpic_signature)
{
    const char *secret = "0123456789abcdef-secret", *body = "{\"names\":[]}", *why = NULL;
    const char *nonce = "00112233445566778899aabbccddeeff", *t = "1800000000", *sig;
    char dir[] = "/tmp/so-mpic-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sig = so_mpic_sign(pool, secret, t, nonce, body, strlen(body));
    ck_assert_int_eq(strlen(sig), 64);
    /* good, then the same nonce again: replayed */
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, nonce, sig, body, strlen(body),
                                    1800000010, dir, &why), APR_SUCCESS);
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, nonce, sig, body, strlen(body),
                                    1800000010, dir, &why), APR_EACCES);
    ck_assert_ptr_nonnull(strstr(why, "replayed"));
    /* another secret, another body, a stale or future time, nothing signed */
    ck_assert_int_eq(so_mpic_verify(pool, "another-secret-of-16", t, nonce, sig, body,
                                    strlen(body), 1800000010, NULL, &why), APR_EACCES);
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, nonce, sig, "{}", 2, 1800000010, NULL, &why),
                     APR_EACCES);
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, nonce, sig, body, strlen(body),
                                    1800000000 + SO_MPIC_MAX_SKEW + 1, NULL, &why), APR_EACCES);
    ck_assert_ptr_nonnull(strstr(why, "stale"));
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, nonce, sig, body, strlen(body),
                                    1800000000 - SO_MPIC_MAX_SKEW - 1, NULL, &why), APR_EACCES);
    ck_assert_int_eq(so_mpic_verify(pool, secret, NULL, nonce, sig, body, strlen(body),
                                    1800000000, NULL, &why), APR_EACCES);
    ck_assert_int_eq(so_mpic_verify(pool, NULL, t, nonce, sig, body, strlen(body), 1800000000,
                                    NULL, &why), APR_EACCES);
    ck_assert_int_eq(so_mpic_verify(pool, secret, t, "xyz", sig, body, strlen(body), 1800000000,
                                    NULL, &why), APR_EACCES);
    /* the signature binds the time */
    ck_assert_int_eq(so_mpic_verify(pool, secret, "1800000001", nonce, sig, body, strlen(body),
                                    1800000000, NULL, &why), APR_EACCES);
    unlink(apr_pstrcat(pool, dir, "/", nonce, NULL));
    rmdir(dir);
}
END_TEST

START_TEST(mpic_unreachable)
{
    /* a perspective that cannot be reached is an answer that disagrees, not an error */
    apr_array_header_t *ps = apr_array_make(pool, 1, sizeof(so_mpic_perspective_t)), *ans;
    so_mpic_perspective_t *p = apr_array_push(ps);
    p->name = "nowhere";
    p->url = "http://127.0.0.1:1/";
    ck_assert_int_eq(so_mpic_query(pool, ps, "0123456789abcdef", "{}", 3000, &ans), APR_SUCCESS);
    ck_assert_int_eq(ans->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(ans, 0, so_mpic_answer_t).reached, 0);
    ck_assert_str_eq(APR_ARRAY_IDX(ans, 0, so_mpic_answer_t).error, "could not be reached");
}
END_TEST

/* Weak RSA keys refused in CSRs (BR 6.1.1.3, 6.1.6): small factors, Fermat-close primes,
 * bad exponents; a key of two random primes passes. */
START_TEST(csr_weak_rsa)
{
    BIGNUM *p = BN_new(), *q = BN_new(), *n = BN_new(), *e = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    ck_assert(BN_generate_prime_ex(p, 1024, 0, NULL, NULL, NULL));
    ck_assert(BN_generate_prime_ex(q, 1024, 0, NULL, NULL, NULL));
    ck_assert(BN_set_word(e, 65537));
    ck_assert(BN_mul(n, p, q, ctx));
    ck_assert_ptr_null(so_csr_rsa_weak(n, e));
    /* exponents: 3, even, 2^256 */
    ck_assert(BN_set_word(e, 3));
    ck_assert_ptr_nonnull(so_csr_rsa_weak(n, e));
    ck_assert(BN_set_word(e, 65538));
    ck_assert_ptr_nonnull(so_csr_rsa_weak(n, e));
    BN_zero(e);
    ck_assert(BN_set_bit(e, 256));
    ck_assert(BN_add_word(e, 1));
    ck_assert_ptr_nonnull(so_csr_rsa_weak(n, e));
    ck_assert(BN_set_word(e, 65537));
    /* a factor below 752 */
    ck_assert(BN_mul_word(p, 743) && BN_copy(n, p));
    ck_assert_ptr_nonnull(strstr(so_csr_rsa_weak(n, e), "small prime"));
    /* q = the next prime after p: Fermat finds them at once */
    ck_assert(BN_generate_prime_ex(p, 1024, 0, NULL, NULL, NULL));
    ck_assert(BN_copy(q, p));
    do {
        ck_assert(BN_add_word(q, 2));
    } while (BN_check_prime(q, ctx, NULL) != 1);
    ck_assert(BN_mul(n, p, q, ctx));
    ck_assert_ptr_nonnull(strstr(so_csr_rsa_weak(n, e), "Fermat"));
    BN_free(p);
    BN_free(q);
    BN_free(n);
    BN_free(e);
    BN_CTX_free(ctx);
}
END_TEST

TCase *so_test_mpic_case(void)
{
    TCase *tc = tcase_create("mpic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mpic_quorum);
    tcase_add_test(tc, mpic_schedule);
    tcase_add_test(tc, mpic_signature);
    tcase_add_test(tc, mpic_unreachable);
    tcase_add_test(tc, csr_weak_rsa);
    return tc;
}
