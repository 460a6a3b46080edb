/* Webhooks: Standard Webhooks signatures (the specification's test vector), secrets,
 * the retry schedule, event lists, URL rules and address classes. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/svc/so_outbox.h"
#include "../../src/core/so_util.h"
#include "../../src/core/so_webhook.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(signature_vector)
{
    /* the test vector of the Standard Webhooks reference libraries */
    const char *body = "{\"test\": 2432232314}", *sig = NULL;
    ck_assert_int_eq(so_wh_sign(pool, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                &sig),
                     APR_SUCCESS);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* not a secret */
    ck_assert_int_eq(so_wh_sign(pool, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "", 0, &sig),
                     APR_EINVAL);
    ck_assert_int_eq(so_wh_sign(pool, "whsec_", "m", 1, "", 0, &sig), APR_EINVAL);
    ck_assert_int_eq(so_wh_sign(pool, "whsec_!!!", "m", 1, "", 0, &sig), APR_EINVAL);
}
END_TEST

START_TEST(secrets)
{
    const char *a, *b;
    const unsigned char *raw;
    apr_size_t len;
    ck_assert_int_eq(so_wh_secret_new(pool, &a), APR_SUCCESS);
    ck_assert_int_eq(so_wh_secret_new(pool, &b), APR_SUCCESS);
    ck_assert(!strncmp(a, "whsec_", 6));
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(so_unbase64(&raw, &len, pool, a + 6), APR_SUCCESS);
    ck_assert_uint_eq(len, 32);
}
END_TEST

START_TEST(backoff_schedule)
{
    static const apr_int64_t base[] = {5, 300, 1800, 7200, 18000, 36000, 36000, 36000};
    int i, k;
    for (i = 0; i < 8; i++) {
        for (k = 0; k < 50; k++) {
            apr_int64_t s = so_wh_backoff(i + 1);
            ck_assert_int_ge(s, base[i] - base[i] / 10 - 1);
            ck_assert_int_le(s, base[i] + base[i] / 10 + 1);
        }
    }
}
END_TEST

START_TEST(event_lists)
{
    ck_assert(so_webhook_wants("*", "order.created"));
    ck_assert(so_webhook_wants("order.paid,order.created", "order.created"));
    ck_assert(!so_webhook_wants("order.created", "order.create"));
    ck_assert(!so_webhook_wants("order.creat", "order.created"));
    ck_assert(so_webhook_wants("order.created", "ping"));
    ck_assert(so_webhook_type_known("team.balance_low"));
    ck_assert(!so_webhook_type_known("order.nope"));
}
END_TEST

static int pub4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return so_wh_addr_public((struct sockaddr *)&s);
}

static int pub6(const char *a)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
    return so_wh_addr_public((struct sockaddr *)&s);
}

START_TEST(address_classes)
{
    const char *no4[] = {"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                         "192.168.0.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1",
                         "255.255.255.255", NULL};
    const char *no6[] = {"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
                         "::ffff:127.0.0.1", "::ffff:10.0.0.1", NULL};
    int i;
    for (i = 0; no4[i]; i++) {
        ck_assert_msg(!pub4(no4[i]), "%s", no4[i]);
    }
    for (i = 0; no6[i]; i++) {
        ck_assert_msg(!pub6(no6[i]), "%s", no6[i]);
    }
    ck_assert(pub4("93.184.216.34"));
    ck_assert(pub4("172.32.0.1"));
    ck_assert(pub6("2606:4700::6810:84e5"));
}
END_TEST

START_TEST(url_rules)
{
    const char *why = NULL;
    ck_assert_int_eq(so_wh_url_check(pool, "https://hooks.example.com/x", 0, 0, &why), APR_SUCCESS);
    ck_assert_int_eq(so_wh_url_check(pool, "http://hooks.example.com/x", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "http://hooks.example.com/x", 1, 0, &why), APR_SUCCESS);
    ck_assert_int_eq(so_wh_url_check(pool, "ftp://hooks.example.com/x", 1, 1, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "https://u:p@hooks.example.com/", 0, 0, &why),
                     APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "https://127.0.0.1/", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "https://127.0.0.1/", 0, 1, &why), APR_SUCCESS);
    ck_assert_int_eq(so_wh_url_check(pool, "https://[::1]:8443/", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "https://2130706433/", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "https://LOCALHOST/", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "hooks.example.com", 0, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_wh_url_check(pool, "", 0, 0, &why), APR_EINVAL);
}
END_TEST

TCase *so_test_webhook_case(void)
{
    TCase *tc = tcase_create("webhook");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature_vector);
    tcase_add_test(tc, secrets);
    tcase_add_test(tc, backoff_schedule);
    tcase_add_test(tc, event_lists);
    tcase_add_test(tc, address_classes);
    tcase_add_test(tc, url_rules);
    return tc;
}
