/* mod_sslorders: metrics in one (shared) segment; see so_metrics.h. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "so_metrics.h"

const apr_int64_t so_metrics_bounds_us[SO_M_BUCKETS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
    2500000, 10000000};

/* the same in seconds, as "le" labels (written out: apr's %g drops the leading zero) */
static const char *const bounds_le[SO_M_BUCKETS] = {
    "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5", "1", "2.5", "10"};

/* statuses with a series of their own; the rest count as "other" */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
                               405, 409, 413, 415, 422, 429, 500, 503};
#define NSTATUS ((int)(sizeof(statuses) / sizeof(statuses[0])))

typedef struct {
    apr_uint64_t bucket[SO_M_BUCKETS + 1]; /* per bucket (not cumulative); last: +Inf */
    apr_uint64_t sum_us;
} hist_t;

typedef struct {
    apr_uint64_t status[NSTATUS + 1];
    hist_t latency;
} route_t;

typedef struct {
    apr_uint64_t counters[SO_MC_COUNT];
    apr_int64_t gauges[SO_MG_COUNT];
    hist_t db_wait;
    route_t routes[]; /* nroutes + 1: the last one for requests no route matched */
} segment_t;

static segment_t *seg;
static int seg_routes;
static const char *const *route_names;
/* without a segment of its own (CLI, unit tests) a process counts here */
static segment_t private_seg;

apr_size_t so_metrics_size(int nroutes)
{
    return sizeof(segment_t) + sizeof(route_t) * (apr_size_t)(nroutes + 1);
}

void so_metrics_attach(void *mem, int nroutes, const char *const *names)
{
    seg = mem;
    seg_routes = mem ? nroutes : 0;
    route_names = names;
}

int so_metrics_attached(void)
{
    return seg != NULL;
}

static segment_t *S(void)
{
    return seg ? seg : &private_seg;
}

void so_metrics_add(so_counter_t c, apr_uint64_t n)
{
    if ((int)c >= 0 && c < SO_MC_COUNT) {
        __atomic_fetch_add(&S()->counters[c], n, __ATOMIC_RELAXED);
    }
}

void so_metrics_gauge_set(so_gauge_t g, apr_int64_t v)
{
    if ((int)g >= 0 && g < SO_MG_COUNT) {
        __atomic_store_n(&S()->gauges[g], v, __ATOMIC_RELAXED);
    }
}

void so_metrics_gauge_add(so_gauge_t g, apr_int64_t v)
{
    if ((int)g >= 0 && g < SO_MG_COUNT) {
        __atomic_fetch_add(&S()->gauges[g], v, __ATOMIC_RELAXED);
    }
}

static void hist_add(hist_t *h, apr_int64_t usec)
{
    int i = 0;
    if (usec < 0) {
        usec = 0;
    }
    while (i < SO_M_BUCKETS && usec > so_metrics_bounds_us[i]) {
        i++;
    }
    __atomic_fetch_add(&h->bucket[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_us, (apr_uint64_t)usec, __ATOMIC_RELAXED);
}

void so_metrics_request(int route, int status, apr_int64_t usec)
{
    route_t *r;
    int i;
    if (!seg) {
        return; /* per route only in a segment that knows the routes */
    }
    r = &seg->routes[route >= 0 && route < seg_routes ? route : seg_routes];
    for (i = 0; i < NSTATUS && statuses[i] != status; i++) {
    }
    __atomic_fetch_add(&r->status[i], 1, __ATOMIC_RELAXED);
    hist_add(&r->latency, usec);
}

void so_metrics_db_wait(apr_int64_t usec)
{
    hist_add(&S()->db_wait, usec);
}

/* ---- rendering ---------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;
} out_t;

static void emit(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    APR_ARRAY_PUSH(o->parts, const char *) = apr_pvsprintf(o->p, fmt, ap);
    va_end(ap);
}

static void head(out_t *o, const char *name, const char *type, const char *help)
{
    emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static apr_uint64_t rd(const apr_uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* a label value: backslash, quote and newline escaped */
static const char *lv(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 1), *d = out;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *d++ = '\\';
            *d++ = *s;
        }
        else if (*s == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        }
        else {
            *d++ = *s;
        }
    }
    *d = '\0';
    return out;
}

static void hist(out_t *o, const char *name, const char *labels, const hist_t *h)
{
    apr_uint64_t cum = 0;
    int i;
    const char *sep = *labels ? "," : "";
    for (i = 0; i <= SO_M_BUCKETS; i++) {
        cum += rd(&h->bucket[i]);
        if (i < SO_M_BUCKETS) {
            emit(o, "%s_bucket{%s%sle=\"%s\"} %" APR_UINT64_T_FMT "\n", name, labels, sep,
                 bounds_le[i], cum);
        }
        else {
            emit(o, "%s_bucket{%s%sle=\"+Inf\"} %" APR_UINT64_T_FMT "\n", name, labels, sep, cum);
        }
    }
    /* the count is the +Inf bucket, read once: consistent even while others add */
    emit(o, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
         (double)rd(&h->sum_us) / 1e6);
    emit(o, "%s_count%s%s%s %" APR_UINT64_T_FMT "\n", name, *labels ? "{" : "", labels,
         *labels ? "}" : "", cum);
}

static void counter(out_t *o, const char *name, const char *help, so_counter_t c)
{
    head(o, name, "counter", help);
    emit(o, "%s %" APR_UINT64_T_FMT "\n", name, rd(&S()->counters[c]));
}

static void pair(out_t *o, const char *name, const char *type, const char *help,
                 const char *label, const char *v1, so_counter_t c1, const char *v2,
                 so_counter_t c2)
{
    head(o, name, type, help);
    emit(o, "%s{%s=\"%s\"} %" APR_UINT64_T_FMT "\n", name, label, v1, rd(&S()->counters[c1]));
    emit(o, "%s{%s=\"%s\"} %" APR_UINT64_T_FMT "\n", name, label, v2, rd(&S()->counters[c2]));
}

apr_uint64_t so_metrics_counter(so_counter_t c)
{
    return rd(&S()->counters[c]);
}

static apr_int64_t gauge(so_gauge_t g)
{
    return __atomic_load_n(&S()->gauges[g], __ATOMIC_RELAXED);
}

static void render_db(out_t *o, segment_t *s)
{
    head(o, "sslorders_db_connections_in_use", "gauge",
         "Database connections held by requests now, all processes");
    emit(o, "sslorders_db_connections_in_use %" APR_INT64_T_FMT "\n", gauge(SO_MG_DB_IN_USE));
    counter(o, "sslorders_db_acquired_total", "Database connections handed to requests",
            SO_MC_DB_ACQUIRED);
    counter(o, "sslorders_db_unavailable_total", "Requests that found no database connection",
            SO_MC_DB_UNAVAILABLE);
    pair(o, "sslorders_db_connections_opened_total", "counter",
         "Database connections opened: by a child before it took requests (start, "
         "SSLOrdersDBWarm) or when a request needed one (demand)",
         "when", "start", SO_MC_DB_OPENED_START, "demand", SO_MC_DB_OPENED_DEMAND);
    counter(o, "sslorders_db_statements_prepared_total",
            "Statements prepared on a database connection, at their first use on it (a "
            "child's start runs the hot ones on each connection it opens)",
            SO_MC_DB_PREPARED);
    pair(o, "sslorders_db_pipelined_total", "counter",
         "PostgreSQL: batches of statements sent in one round trip (a page's lookups), and "
         "the statements they held",
         "what", "batches", SO_MC_DB_BATCHES, "statements", SO_MC_DB_BATCHED);
    counter(o, "sslorders_db_deferred_total",
            "PostgreSQL: changes of a transaction sent with its next statement or its COMMIT, "
            "in one round trip, instead of in a round trip of their own",
            SO_MC_DB_DEFERRED);
    pair(o, "sslorders_db_read_ahead_total", "counter",
         "PostgreSQL: reads sent ahead in the round trip of a request's statement before "
         "them (an ACME request's nonce and the resource it names), and those the request "
         "took instead of a round trip of their own",
         "what", "sent", SO_MC_DB_AHEAD_SENT, "taken", SO_MC_DB_AHEAD_TAKEN);
    head(o, "sslorders_db_acquire_wait_seconds", "histogram",
         "Time a request waited for a database connection of its process's pool");
    hist(o, "sslorders_db_acquire_wait_seconds", "", &s->db_wait);
    counter(o, "sslorders_db_busy_waits_total", "SQLite statements that waited for a lock",
            SO_MC_DB_BUSY_WAITS);
    head(o, "sslorders_db_busy_wait_seconds_total", "counter", "Time SQLite statements waited for locks");
    emit(o, "sslorders_db_busy_wait_seconds_total %.6f\n",
         (double)rd(&s->counters[SO_MC_DB_BUSY_WAIT_US]) / 1e6);
}

char *so_metrics_render(apr_pool_t *p)
{
    out_t o = {p, apr_array_make(p, 512, sizeof(const char *))};
    segment_t *s = S();
    apr_int64_t last_run = gauge(SO_MG_JOB_LAST_RUN);
    static const char *const jobs[] = {"expire", "reissue", "autorenew", "dcv", "reminders"};
    int i, k;

    head(&o, "sslorders_http_requests_total", "counter",
         "Requests answered by mod_sslorders, by route and status");
    for (i = 0; seg && i <= seg_routes; i++) {
        const char *route = i < seg_routes ? lv(p, route_names[i]) : "unmatched";
        for (k = 0; k <= NSTATUS; k++) {
            apr_uint64_t n = rd(&s->routes[i].status[k]);
            if (n) {
                emit(&o, "sslorders_http_requests_total{route=\"%s\",status=\"%s\"} %" APR_UINT64_T_FMT
                         "\n",
                     route, k < NSTATUS ? apr_itoa(p, statuses[k]) : "other", n);
            }
        }
    }
    head(&o, "sslorders_http_request_duration_seconds", "histogram",
         "Time from the request line to the handler's end, by route");
    for (i = 0; seg && i <= seg_routes; i++) {
        const route_t *r = &s->routes[i];
        apr_uint64_t n = 0;
        for (k = 0; k <= SO_M_BUCKETS; k++) {
            n += rd(&r->latency.bucket[k]);
        }
        if (n) {
            hist(&o, "sslorders_http_request_duration_seconds",
                 apr_psprintf(p, "route=\"%s\"", i < seg_routes ? lv(p, route_names[i]) : "unmatched"),
                 &r->latency);
        }
    }
    render_db(&o, s);
    head(&o, "sslorders_cache_hits_total", "counter", "Answers served from a process cache");
    emit(&o, "sslorders_cache_hits_total{cache=\"list\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_LIST_CACHE_HIT]));
    emit(&o, "sslorders_cache_hits_total{cache=\"seal\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_SEAL_CACHE_HIT]));
    emit(&o, "sslorders_cache_hits_total{cache=\"bundle\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_BUNDLE_CACHE_HIT]));
    emit(&o, "sslorders_cache_hits_total{cache=\"auth\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_AUTH_CACHE_HIT]));
    head(&o, "sslorders_cache_misses_total", "counter", "Answers built because no cache held them");
    emit(&o, "sslorders_cache_misses_total{cache=\"list\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_LIST_CACHE_MISS]));
    emit(&o, "sslorders_cache_misses_total{cache=\"seal\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_SEAL_CACHE_MISS]));
    emit(&o, "sslorders_cache_misses_total{cache=\"bundle\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_BUNDLE_CACHE_MISS]));
    emit(&o, "sslorders_cache_misses_total{cache=\"auth\"} %" APR_UINT64_T_FMT "\n",
         rd(&s->counters[SO_MC_AUTH_CACHE_MISS]));
    counter(&o, "sslorders_auth_changes_total",
            "Requests through this server that may have changed a credential, and changes "
            "of credentials notified by PostgreSQL (each one retires what SSLOrdersAuthCache "
            "read before it)",
            SO_MC_AUTH_CHANGES);
    counter(&o, "sslorders_auth_notices_sent_total",
            "Notifications of this server's commits sent to the other servers (PostgreSQL, "
            "SSLOrdersAuthCache; one covers a process's commits of up to 20 ms)",
            SO_MC_AUTH_NOTICES_SENT);
    head(&o, "sslorders_auth_listeners", "gauge",
         "Processes listening for changes of credentials made on other servers (PostgreSQL, "
         "SSLOrdersAuthCache)");
    emit(&o, "sslorders_auth_listeners %" APR_INT64_T_FMT "\n", gauge(SO_MG_AUTH_LISTENERS));
    pair(&o, "sslorders_validations_total", "counter", "Domain control checks of a name, by result",
         "result", "valid", SO_MC_VALIDATION_VALID, "pending", SO_MC_VALIDATION_PENDING);
    pair(&o, "sslorders_issuances_total", "counter", "Certificates signed, by result", "result",
         "issued", SO_MC_ISSUED, "failed", SO_MC_ISSUE_FAILED);
    counter(&o, "sslorders_job_runs_total", "Background passes run", SO_MC_JOB_RUNS);
    counter(&o, "sslorders_job_failures_total", "Background passes that failed", SO_MC_JOB_FAILED);
    counter(&o, "sslorders_job_orders_worked_total", "Orders the background passes worked on",
            SO_MC_JOB_WORKED);
    head(&o, "sslorders_job_last_run_timestamp_seconds", "gauge",
         "When the last background pass ended (0: none yet)");
    emit(&o, "sslorders_job_last_run_timestamp_seconds %" APR_INT64_T_FMT "\n", last_run);
    head(&o, "sslorders_job_lag_seconds", "gauge",
         "Seconds since the last background pass ended (-1: none yet)");
    emit(&o, "sslorders_job_lag_seconds %" APR_INT64_T_FMT "\n",
         last_run ? apr_time_sec(apr_time_now()) - last_run : -1);
    head(&o, "sslorders_job_last_duration_seconds", "gauge", "How long the last background pass took");
    emit(&o, "sslorders_job_last_duration_seconds %.6f\n",
         (double)gauge(SO_MG_JOB_LAST_DURATION_US) / 1e6);
    head(&o, "sslorders_job_queue", "gauge", "Orders the last background pass found due, by job");
    for (i = 0; i < 5; i++) {
        emit(&o, "sslorders_job_queue{job=\"%s\"} %" APR_INT64_T_FMT "\n", jobs[i],
             gauge((so_gauge_t)(SO_MG_JOB_QUEUE_EXPIRE + i)));
    }
    /* the webhook outbox backlog (sslorders_outbox_backlog) goes here */
    return apr_array_pstrcat(p, o.parts, '\0');
}

void so_metrics_totals(apr_uint64_t *requests, apr_uint64_t *errors5xx, apr_uint64_t *mean_us,
                       apr_uint64_t *db_in_use)
{
    apr_uint64_t n = 0, e = 0, sum = 0;
    int i, k;
    for (i = 0; seg && i <= seg_routes; i++) {
        for (k = 0; k <= NSTATUS; k++) {
            apr_uint64_t c = rd(&seg->routes[i].status[k]);
            n += c;
            if (k < NSTATUS && statuses[k] >= 500) {
                e += c;
            }
        }
        sum += rd(&seg->routes[i].latency.sum_us);
    }
    *requests = n;
    *errors5xx = e;
    *mean_us = n ? sum / n : 0;
    *db_in_use = (apr_uint64_t)gauge(SO_MG_DB_IN_USE);
}
