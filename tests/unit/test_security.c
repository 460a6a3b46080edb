/* Unit tests of issue 14's core parts: TOTP (RFC 6238 test vectors), base32, token scopes
 * and allowed networks. */
#include <stdio.h>
#include <string.h>

#include <apr_pools.h>
#include <check.h>

#include "test_common.h"
#include "../../src/core/so_qr.h"
#include "../../src/core/so_scopes.h"
#include "../../src/core/so_totp.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(totp_rfc6238_vectors)
{
    /* RFC 6238 appendix B, SHA-1, the low six digits */
    static const struct {
        apr_int64_t t;
        int code;
    } v[] = {{59, 287082}, {1111111109, 81804}, {1111111111, 50471}, {1234567890, 5924},
             {2000000000, 279037}, {20000000000LL, 353130}};
    const unsigned char *key = (const unsigned char *)"12345678901234567890";
    const char *b32 = so_base32_encode(pool, key, 20);
    unsigned i;

    ck_assert_str_eq(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        apr_int64_t step = 0;
        char code[8];
        ck_assert_int_eq(so_hotp(key, 20, (apr_uint64_t)(v[i].t / 30)), v[i].code);
        snprintf(code, sizeof(code), "%06d", v[i].code);
        ck_assert_int_eq(so_totp_verify(pool, b32, code, v[i].t, 0, &step), APR_SUCCESS);
        ck_assert_int_eq(step, v[i].t / 30);
        /* once: not at or before the last accepted step */
        ck_assert_int_eq(so_totp_verify(pool, b32, code, v[i].t, step, &step), APR_EMISMATCH);
        /* a step of drift either way, not two */
        ck_assert_int_eq(so_totp_verify(pool, b32, code, v[i].t + 30, 0, &step), APR_SUCCESS);
        ck_assert_int_eq(so_totp_verify(pool, b32, code, v[i].t + 90, 0, &step), APR_EMISMATCH);
    }
    {
        apr_int64_t step;
        ck_assert_int_eq(so_totp_verify(pool, b32, "28708", 59, 0, &step), APR_EMISMATCH);
        ck_assert_int_eq(so_totp_verify(pool, b32, "2870822", 59, 0, &step), APR_EMISMATCH);
        ck_assert_int_eq(so_totp_verify(pool, b32, "28708a", 59, 0, &step), APR_EMISMATCH);
        ck_assert_int_eq(so_totp_verify(pool, "!!", "287082", 59, 0, &step), APR_EMISMATCH);
    }
}
END_TEST

START_TEST(base32_round_trip)
{
    unsigned char data[37], *out;
    apr_size_t len, n;
    for (n = 0; n < sizeof(data); n++) {
        data[n] = (unsigned char)(n * 37 + 11);
    }
    for (n = 1; n <= sizeof(data); n++) {
        const char *t = so_base32_encode(pool, data, n);
        ck_assert_int_eq(so_base32_decode(pool, t, &out, &len), APR_SUCCESS);
        ck_assert_uint_eq(len, n);
        ck_assert(!memcmp(out, data, n));
    }
    ck_assert_int_eq(so_base32_decode(pool, "gezd gnbv", &out, &len), APR_SUCCESS);
    ck_assert_int_eq(so_base32_decode(pool, "GEZ1", &out, &len), APR_EINVAL);
    {
        const char *s;
        ck_assert_int_eq(so_totp_secret(&s, pool), APR_SUCCESS);
        ck_assert_uint_eq(strlen(s), 32);
        ck_assert_ptr_nonnull(strstr(so_totp_uri(pool, "SSLOrders", "a b", s), "secret="));
    }
}
END_TEST

START_TEST(scopes_and_networks)
{
    unsigned m = 0;
    const char *why = NULL, *canon = NULL;

    ck_assert_int_eq(so_scopes_parse("orders:write, orders:read", &m, &why, pool), APR_SUCCESS);
    ck_assert_uint_eq(m, SO_SCOPE_ORDERS_READ | SO_SCOPE_ORDERS_WRITE);
    ck_assert_str_eq(so_scopes_text(pool, m), "orders:read orders:write");
    ck_assert_int_eq(so_scopes_parse("orders:read root", &m, &why, pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "root"));
    ck_assert_uint_eq(so_scopes_of_role(1), SO_SCOPE_ORDERS_READ);
    ck_assert_uint_eq(so_scopes_of_role(4), SO_SCOPE_ALL);

    ck_assert_int_eq(so_networks_parse("10.0.0.0/8,192.0.2.7 2001:db8::/32", &canon, &why, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(canon, "10.0.0.0/8 192.0.2.7 2001:db8::/32");
    ck_assert(so_networks_allow(canon, "10.200.1.1", pool));
    ck_assert(so_networks_allow(canon, "192.0.2.7", pool));
    ck_assert(!so_networks_allow(canon, "192.0.2.8", pool));
    ck_assert(so_networks_allow(canon, "2001:db8::1", pool));
    ck_assert(!so_networks_allow(canon, "2001:db9::1", pool));
    ck_assert(!so_networks_allow(canon, "example.com", pool));
    ck_assert(so_networks_allow("", "198.51.100.1", pool));
    ck_assert(!so_networks_allow("10.0.0.0/8", "", pool));
    {
        static const char *bad[] = {"10.1", "10.0.0.0/33", "1.2.3.4/", "example.com",
                                    "1.2.3.4/x", "::/129", "1.2.3.4/-1"};
        unsigned i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ck_assert_msg(so_networks_parse(bad[i], &canon, &why, pool) == APR_EINVAL, "%s",
                          bad[i]);
        }
    }
}
END_TEST

START_TEST(qr_svg)
{
    const char *svg, *uri = "otpauth://totp/SSLOrders:sam?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                            "&issuer=SSLOrders&algorithm=SHA1&digits=6&period=30";
    char *big = apr_palloc(pool, 8001);
    int size = 0, w = 0;

    ck_assert_int_eq(so_qr_svg(&svg, pool, uri, 4), APR_SUCCESS);
    ck_assert(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 52));
    ck_assert_int_eq(sscanf(svg + 52, "%d %*d\" width=\"%d\"", &size, &w), 2);
    /* 21 + 4 modules per version, a quiet zone of 4 each side, 4 units per module */
    ck_assert((size - 8 - 21) % 4 == 0 && size > 29 && size <= 177 + 8);
    ck_assert_int_eq(w, size * 4);
    /* the top-left finder pattern's corner is dark, right after the quiet zone */
    ck_assert_ptr_nonnull(strstr(svg, "d=\"M4 4h1v1h-1z"));
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert(strlen(svg) > 9 && !strcmp(svg + strlen(svg) - 9, "\"/></svg>"));
    /* nothing to encode, too much to encode, a silly scale */
    ck_assert_int_eq(so_qr_svg(&svg, pool, "", 4), APR_EINVAL);
    memset(big, 'a', 8000);
    big[8000] = '\0';
    ck_assert_int_eq(so_qr_svg(&svg, pool, big, 4), APR_EINVAL);
    ck_assert_int_eq(so_qr_svg(&svg, pool, uri, 0), APR_EINVAL);
}
END_TEST

TCase *so_test_security_case(void)
{
    TCase *tc = tcase_create("security");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, totp_rfc6238_vectors);
    tcase_add_test(tc, base32_round_trip);
    tcase_add_test(tc, scopes_and_networks);
    tcase_add_test(tc, qr_svg);
    return tc;
}
