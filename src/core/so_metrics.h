/* mod_sslorders: metrics (no httpd types).
 *
 * Counters, gauges and latency histograms live in one memory segment. In httpd the
 * glue (src/httpd/so_httpd_metrics.c) creates it as shared memory in the parent
 * before the children are forked and attaches it here, so every process adds to the
 * same numbers and /metrics shows the server's totals, not one process's. Without a
 * segment (CLI, unit tests) the functions count into a private one.
 *
 * Every update is one atomic add: no locks on the request path.
 */
#ifndef SO_METRICS_H
#define SO_METRICS_H

#include <apr_pools.h>
#include <apr_strings.h>

/* counters (monotonic) */
typedef enum {
    SO_MC_DB_ACQUIRED = 0,   /* database connections handed to requests */
    SO_MC_DB_UNAVAILABLE,    /* requests that found no connection */
    SO_MC_DB_BUSY_WAITS,     /* SQLite: statements that waited for a lock */
    SO_MC_DB_BUSY_WAIT_US,   /* ... and the time they waited, microseconds */
    SO_MC_LIST_CACHE_HIT,
    SO_MC_LIST_CACHE_MISS,
    SO_MC_SEAL_CACHE_HIT,
    SO_MC_SEAL_CACHE_MISS,
    SO_MC_BUNDLE_CACHE_HIT,
    SO_MC_BUNDLE_CACHE_MISS,
    SO_MC_VALIDATION_VALID,   /* name checks that succeeded */
    SO_MC_VALIDATION_PENDING, /* name checks that did not (yet) */
    SO_MC_ISSUED,             /* certificates issued (first and reissues) */
    SO_MC_ISSUE_FAILED,       /* signing failed */
    SO_MC_JOB_RUNS,           /* background passes */
    SO_MC_JOB_FAILED,
    SO_MC_JOB_WORKED,         /* orders the passes worked on */
    SO_MC_DB_OPENED_START,    /* database connections a child opened before its requests */
    SO_MC_DB_OPENED_DEMAND,   /* ... and those opened when a request needed one */
    SO_MC_DB_PREPARED,        /* statements prepared on a connection (at their first use) */
    SO_MC_DB_BATCHES,         /* PostgreSQL: batches of statements sent in one round trip */
    SO_MC_DB_BATCHED,         /* ... and the statements they held */
    SO_MC_DB_DEFERRED,        /* PostgreSQL: changes sent with their transaction's next statement */
    SO_MC_DB_AHEAD_SENT,      /* PostgreSQL: reads sent ahead with a request's statement */
    SO_MC_DB_AHEAD_TAKEN,     /* ... and those whose rows the request took */
    SO_MC_AUTH_CACHE_HIT,     /* token lookups served by the process (SSLOrdersAuthCache) */
    SO_MC_AUTH_CACHE_MISS,
    SO_MC_AUTH_CHANGES,       /* changes made through this server: the auth cache's generation */
    SO_MC_AUTH_NOTICES_SENT,  /* PostgreSQL: notifications of this server's commits sent */
    SO_MC_COUNT
} so_counter_t;

/* gauges (set or added) */
typedef enum {
    SO_MG_DB_IN_USE = 0,      /* connections held by requests right now (all processes) */
    SO_MG_JOB_LAST_RUN,       /* unix time the last background pass ended */
    SO_MG_JOB_LAST_DURATION_US,
    SO_MG_JOB_QUEUE_EXPIRE,   /* orders the last pass found due, per job */
    SO_MG_JOB_QUEUE_REISSUE,
    SO_MG_JOB_QUEUE_AUTORENEW,
    SO_MG_JOB_QUEUE_DCV,
    SO_MG_JOB_QUEUE_REMINDERS,
    SO_MG_AUTH_LISTENERS,     /* processes listening for changes of credentials (PostgreSQL) */
    /* SO_MG_OUTBOX_BACKLOG: the webhook outbox (another branch) adds its gauge here and
     * its line in so_metrics_render() */
    SO_MG_COUNT
} so_gauge_t;

/* The latency buckets, in microseconds (Prometheus "le" in seconds). */
#define SO_M_BUCKETS 14
extern const apr_int64_t so_metrics_bounds_us[SO_M_BUCKETS];

/* Bytes of the segment for nroutes routes. */
apr_size_t so_metrics_size(int nroutes);
/* Use mem (zeroed, so_metrics_size(nroutes) bytes) from now on; names[i] is route i's
 * label ("GET /ssl/orders/{id}"), kept by the caller. */
void so_metrics_attach(void *mem, int nroutes, const char *const *names);
int so_metrics_attached(void);

void so_metrics_add(so_counter_t c, apr_uint64_t n);
#define so_metrics_inc(c) so_metrics_add((c), 1)
apr_uint64_t so_metrics_counter(so_counter_t c);
void so_metrics_gauge_set(so_gauge_t g, apr_int64_t v);
void so_metrics_gauge_add(so_gauge_t g, apr_int64_t v);
/* A finished request: route index (-1: none matched), HTTP status, duration. */
void so_metrics_request(int route, int status, apr_int64_t usec);
/* Time a request waited for a database connection. */
void so_metrics_db_wait(apr_int64_t usec);

/* The Prometheus text exposition (format 0.0.4) of everything. */
char *so_metrics_render(apr_pool_t *p);
/* A few totals for mod_status: requests, 5xx, mean latency in microseconds. */
void so_metrics_totals(apr_uint64_t *requests, apr_uint64_t *errors5xx, apr_uint64_t *mean_us,
                       apr_uint64_t *db_in_use);

#endif
