/* so_metrics: the segment's counters and their Prometheus rendering. */
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <check.h>

#include "test_common.h"
#include "../../src/core/so_metrics.h"
#include "../../src/api/so_authcache.h"

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

/* so_authcache: what a lookup returned comes back whole, until the server's generation
 * moves or the entry's seconds are up; off without a shared segment. */
START_TEST(authcache_generation_and_age)
{
    apr_pool_t *p;
    void *mem = calloc(1, so_metrics_size(0));
    so_credential_t c, *got;
    apr_uint64_t gen;

    apr_pool_create(&p, NULL);
    /* no segment: the generation would be this process's, so no cache */
    so_metrics_attach(NULL, 0, NULL);
    ck_assert_int_eq(so_authcache_init(p, 5), APR_SUCCESS);
    ck_assert(!so_authcache_on());
    so_metrics_attach(mem, 0, NULL);
    ck_assert_int_eq(so_authcache_init(p, 0), APR_SUCCESS);
    ck_assert(!so_authcache_on());
    ck_assert_int_eq(so_authcache_init(p, 5), APR_SUCCESS);
    ck_assert(so_authcache_on());

    memset(&c, 0, sizeof(c));
    c.credential_id = 7;
    c.team_id = 3;
    c.team_balance = 2500;
    c.list_version = 41;
    c.role = SO_ROLE_ADMIN;
    c.username = "ann";
    c.team_slug = "acme";
    c.team_name = "Acme";
    c.team_currency = "EUR";
    c.ip = "";
    c.scopes = "orders:read";
    c.networks = NULL; /* kept as "" */
    ck_assert_ptr_null(so_authcache_get(p, "k1", 5));
    gen = so_authcache_gen();
    so_authcache_put("k1", gen, &c);
    got = so_authcache_get(p, "k1", 5);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->credential_id, 7);
    ck_assert_int_eq(got->team_balance, 2500);
    ck_assert_int_eq(got->list_version, 41);
    ck_assert_int_eq(got->role, SO_ROLE_ADMIN);
    ck_assert_str_eq(got->username, "ann");
    ck_assert_str_eq(got->team_name, "Acme");
    ck_assert_str_eq(got->scopes, "orders:read");
    ck_assert_str_eq(got->networks, "");
    ck_assert_ptr_null(got->csrf_token);
    ck_assert_ptr_null(so_authcache_get(p, "k2", 5));
    /* a change through the server: what was read before is not used again */
    so_authcache_changed();
    ck_assert_uint_eq(so_authcache_gen(), gen + 1);
    ck_assert_ptr_null(so_authcache_get(p, "k1", 5));
    /* a lookup that started before a change is not kept as current */
    so_authcache_put("k1", gen, &c);
    ck_assert_ptr_null(so_authcache_get(p, "k1", 5));
    so_authcache_put("k1", so_authcache_gen(), &c);
    ck_assert_ptr_nonnull(so_authcache_get(p, "k1", 5));
    /* a server with fewer seconds sees it expire sooner */
    ck_assert_ptr_null(so_authcache_get(p, "k1", 0));
    ck_assert_uint_eq(so_metrics_counter(SO_MC_AUTH_CACHE_HIT), 2);

    so_authcache_init(p, 0);
    so_metrics_attach(NULL, 0, NULL);
    apr_pool_destroy(p);
    free(mem);
}
END_TEST

static int notified;
static void count_notice(void)
{
    notified++;
}

/* so_authcache_committed: every change bumps the generation; one that committed something
 * has the other servers told (the notifier), when the cache is on; this server knows its
 * own notices by their payload. */
START_TEST(authcache_committed_notifies)
{
    apr_pool_t *p;
    void *mem = calloc(1, so_metrics_size(0));
    so_db_t db;
    apr_uint64_t gen;
    char mine[32];

    apr_pool_create(&p, NULL);
    so_metrics_attach(mem, 0, NULL);
    so_authcache_origin_init();
    ck_assert_uint_eq(strlen(so_authcache_origin()), 16);
    ck_assert_uint_eq(strspn(so_authcache_origin(), "0123456789abcdef"), 16);
    ck_assert(so_authcache_mine(so_authcache_origin()));
    ck_assert(!so_authcache_mine(""));
    ck_assert(!so_authcache_mine(NULL));
    ck_assert(!so_authcache_mine("sslordersctl"));
    strcpy(mine, so_authcache_origin());
    so_authcache_origin_init(); /* a restart: another name */
    ck_assert(!so_authcache_mine(mine));

    memset(&db, 0, sizeof(db));
    db.kind = SO_DB_PGSQL;
    notified = 0;
    ck_assert_int_eq(so_authcache_init(p, 5), APR_SUCCESS);
    so_authcache_set_notifier(count_notice);
    gen = so_authcache_gen();
    so_authcache_committed(&db); /* a write that committed nothing */
    ck_assert_uint_eq(so_authcache_gen(), gen + 1);
    ck_assert_int_eq(notified, 0);
    db.committed = 1;
    so_authcache_committed(&db);
    ck_assert_uint_eq(so_authcache_gen(), gen + 2);
    ck_assert_int_eq(notified, 1);
    so_authcache_committed(NULL);
    ck_assert_int_eq(notified, 1);
    /* the cache off: nothing to retire, nobody told */
    so_authcache_init(p, 0);
    so_authcache_committed(&db);
    ck_assert_int_eq(notified, 1);
    so_authcache_set_notifier(NULL);
    so_metrics_attach(NULL, 0, NULL);
    apr_pool_destroy(p);
    free(mem);
}
END_TEST

TCase *so_test_metrics_case(void)
{
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, metrics_render);
    tcase_add_test(tc, authcache_generation_and_age);
    tcase_add_test(tc, authcache_committed_notifies);
    return tc;
}
