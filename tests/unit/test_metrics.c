/* so_metrics: the segment's counters and their Prometheus rendering. */
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <check.h>

#include "test_common.h"
#include "../../src/core/so_metrics.h"

static int has(const char *text, const char *line)
{
    return strstr(text, line) != NULL;
}

START_TEST(metrics_render)
{
    apr_pool_t *p;
    static const char *const names[] = {"GET /me", "GET /say/\"hi\""};
    void *mem;
    char *text;

    apr_pool_create(&p, NULL);
    mem = calloc(1, so_metrics_size(2));
    so_metrics_attach(mem, 2, names);
    so_metrics_request(0, 200, 300);     /* 0.3 ms: the 0.5 ms bucket */
    so_metrics_request(0, 200, 20000);   /* 20 ms */
    so_metrics_request(0, 599, 100);     /* an unlisted status */
    so_metrics_request(1, 404, 99000000); /* beyond the last bucket */
    so_metrics_request(-1, 404, 1);
    so_metrics_inc(SO_MC_LIST_CACHE_HIT);
    so_metrics_add(SO_MC_DB_BUSY_WAIT_US, 1500000);
    so_metrics_gauge_set(SO_MG_DB_IN_USE, 3);
    so_metrics_gauge_add(SO_MG_DB_IN_USE, -1);
    text = so_metrics_render(p);
    ck_assert(has(text, "sslorders_http_requests_total{route=\"GET /me\",status=\"200\"} 2\n"));
    ck_assert(has(text, "sslorders_http_requests_total{route=\"GET /me\",status=\"other\"} 1\n"));
    ck_assert(has(text, "sslorders_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    /* a quote in a label value is escaped */
    ck_assert(has(text, "route=\"GET /say/\\\"hi\\\"\",status=\"404\"} 1\n"));
    /* cumulative buckets; the count is the +Inf bucket */
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /me\",le=\"0.00025\"} 1\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /me\",le=\"0.0005\"} 2\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /me\",le=\"0.025\"} 3\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /me\",le=\"+Inf\"} 3\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_count{route=\"GET /me\"} 3\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_sum{route=\"GET /me\"} 0.020400\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /say/\\\"hi\\\"\",le=\"10\"} 0\n"));
    ck_assert(has(text, "sslorders_http_request_duration_seconds_bucket{route=\"GET /say/\\\"hi\\\"\",le=\"+Inf\"} 1\n"));
    ck_assert(has(text, "sslorders_cache_hits_total{cache=\"list\"} 1\n"));
    ck_assert(has(text, "sslorders_db_busy_wait_seconds_total 1.500000\n"));
    ck_assert(has(text, "sslorders_db_connections_in_use 2\n"));
    ck_assert(has(text, "sslorders_job_lag_seconds -1\n"));
    ck_assert(has(text, "# TYPE sslorders_http_request_duration_seconds histogram\n"));
    so_metrics_attach(NULL, 0, NULL);
    free(mem);
    apr_pool_destroy(p);
}
END_TEST

TCase *so_test_metrics_case(void)
{
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, metrics_render);
    return tc;
}
