/* mod_sslorders: issuance glue: the CA loaded (or created) in the parent at startup,
 * and the background job in a mod_watchdog thread of one child (singleton). */
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <curl/curl.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <apr_atomic.h>
#include <unixd.h>

#include "so_httpd.h"
#include "../api/so_api_ssl.h"
#include "../api/so_authcache.h"
#include "../svc/so_issuance.h"
#include "../acme/so_acme.h"
#include "../core/so_ca.h"
#include "../core/so_log.h"

APLOG_USE_MODULE(sslorders);

#define SO_WATCHDOG "sslorders"
#define SO_WATCHDOG_FOLD "sslorders-versions"

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_set_callback_interval) *wd_set_interval;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close_fn;

static void give_to_user(server_rec *s, const char *path)
{
    if (geteuid() == 0 && chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s,
                     SOLOGNO(00230) "cannot give %s to the httpd User", path);
    }
}

static apr_status_t init_ca(server_rec *s, apr_pool_t *pconf, so_srv_conf_t *c)
{
    so_ca_opts_t opts;
    so_ca_t *ca = NULL;
    const char *why = NULL;
    apr_status_t rv;

    memset(&opts, 0, sizeof(opts));
    /* a CA created here names the provider (SSLOrdersBrandName) unless told otherwise */
    opts.organization = c->ca_org ? c->ca_org : c->brand_name;
    opts.root_key = (so_ca_key_type_t)c->ca_root_key; /* SSLOrdersCAKey (a new CA only) */
    opts.issuing_key = (so_ca_key_type_t)c->ca_issuing_key;
    opts.tag = c->api.ca_tag;
    opts.max_days = c->api.max_validity_days;
    if (apr_dir_make_recursive(c->ca_dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE,
                               pconf)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, SOLOGNO(00231) "cannot create %s", c->ca_dir);
    }
    rv = so_ca_init(&ca, pconf, c->ca_dir, &opts, apr_time_sec(apr_time_now()), &why);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     SOLOGNO(00232) "SSLOrdersCA %s: %s: no certificates are issued", c->ca_dir,
                     why ? why : "cannot load the CA");
        return rv;
    }
    if (so_ca_created(ca)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     SOLOGNO(00233) "created a new CA (root and issuing intermediate) in %s",
                     c->ca_dir);
    }
    /* the children run as the User: the CA directory and its files are theirs */
    give_to_user(s, c->ca_dir);
    give_to_user(s, apr_pstrcat(pconf, c->ca_dir, "/" SO_CA_ROOT_CRT, NULL));
    give_to_user(s, apr_pstrcat(pconf, c->ca_dir, "/" SO_CA_ROOT_KEY, NULL));
    give_to_user(s, apr_pstrcat(pconf, c->ca_dir, "/" SO_CA_INTER_CRT, NULL));
    give_to_user(s, apr_pstrcat(pconf, c->ca_dir, "/" SO_CA_INTER_KEY, NULL));
    give_to_user(s, apr_pstrcat(pconf, c->ca_dir, "/.ca.lock", NULL));
    c->api.ca = ca;
    return APR_SUCCESS;
}

/* The background callbacks of this process that hold a database connection now. A child
 * that stops waits for them (pre-cleanup of its pool, bounded below the MPM's SIGKILL at
 * 9 s): mod_dbd's pool goes after that, and apr_reslist aborts the process when a
 * connection is still out then (SIGABRT at every stop during a pass). */
static apr_uint32_t jobs_busy;

#define JOBS_STOP_WAIT_MS 6000

static apr_status_t jobs_stop(void *data)
{
    server_rec *s = data;
    int waited = 0;
    so_iss_jobs_stop();
    while (apr_atomic_read32(&jobs_busy) && waited < JOBS_STOP_WAIT_MS) {
        apr_sleep(apr_time_from_msec(10));
        waited += 10;
    }
    if (apr_atomic_read32(&jobs_busy)) {
        /* still in a step that cannot be stopped (a command, a webhook delivery): the
         * child ends here rather than abort in mod_dbd's cleanup (the MPM would send
         * SIGKILL 3 s later); the database is consistent (every write is a transaction) */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     SOLOGNO(00974) "the background job did not end within %d s of the stop: "
                                    "this process exits without closing its database "
                                    "connections",
                     JOBS_STOP_WAIT_MS / 1000);
        _exit(0);
    }
    return APR_SUCCESS;
}

/* A callback's connection: NULL when the process stops (or there is none); released with
 * job_conn_close. */
static ap_dbd_t *job_conn_open(apr_pool_t *ptemp, server_rec *s)
{
    ap_dbd_t *rec = NULL;
    apr_atomic_inc32(&jobs_busy);
    if (so_iss_jobs_stopping() || !(rec = dbd_open_fn(ptemp, s))) {
        apr_atomic_dec32(&jobs_busy);
        return NULL;
    }
    return rec;
}

static void job_conn_close(server_rec *s, ap_dbd_t *rec)
{
    dbd_close_fn(s, rec);
    apr_atomic_dec32(&jobs_busy);
}

static apr_status_t run_jobs(int state, void *baton, apr_pool_t *ptemp)
{
    server_rec *s = baton;
    so_srv_conf_t *c = so_httpd_srv_conf(s);
    ap_dbd_t *rec;
    so_db_t *db;
    so_svc_ctx_t *ctx;
    int worked = 0;
    apr_status_t rv;

    if (state != AP_WATCHDOG_STATE_RUNNING || !dbd_open_fn) {
        return APR_SUCCESS;
    }
    if (so_iss_jobs_stopping()) {
        return APR_SUCCESS;
    }
    rec = job_conn_open(ptemp, s);
    if (!rec) {
        if (!so_iss_jobs_stopping()) {
            so_httpd_db_state(s, 1, "the background job has no database connection");
        }
        return APR_SUCCESS;
    }
    so_db_wrap(&db, ptemp, rec->driver, rec->handle, rec->prepared, rec->pool);
    ctx = so_svc_ctx_make(ptemp, db, &c->api, apr_time_sec(apr_time_now()), SO_ACTOR_JOB);
    rv = so_acme_all_jobs_run(ctx, &worked);
    if (SO_DB_IS_UNAVAILABLE(rv)) {
        so_httpd_db_state(s, 1, db->errmsg);
    }
    else if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, SOLOGNO(00234) "the background job failed: %s",
                     db->errmsg ? db->errmsg : "?");
    }
    else if (worked) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, SOLOGNO(00235) "background job: %d orders",
                     worked);
    }
    if (worked || db->committed) {
        /* issued, charged, expired: the cached token lookups (balances, list versions)
         * are read again, here and on the servers this one notifies */
        so_authcache_committed(db);
    }
    job_conn_close(s, rec);
    return APR_SUCCESS;
}

/* PostgreSQL: fold the order list versions' change log every second, so that reading a
 * team's version stays a short index scan under a stream of writes (on its own
 * watchdog: a long background job does not hold it up). Nothing to do on SQLite. */
static apr_status_t fold_versions(int state, void *baton, apr_pool_t *ptemp)
{
    server_rec *s = baton;
    ap_dbd_t *rec;
    so_db_t *db;
    int folded = 0;
    apr_status_t rv;

    if (state != AP_WATCHDOG_STATE_RUNNING || !dbd_open_fn) {
        return APR_SUCCESS;
    }
    if (!(rec = job_conn_open(ptemp, s))) {
        return APR_SUCCESS; /* the background job reports a database that is away */
    }
    so_db_wrap(&db, ptemp, rec->driver, rec->handle, rec->prepared, rec->pool);
    if (db->kind == SO_DB_PGSQL) {
        rv = so_store_orders_versions_fold(db, ptemp, &folded);
        if (rv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         SOLOGNO(00238) "folding the order list versions failed: %s",
                         db->errmsg ? db->errmsg : "?");
        }
    }
    job_conn_close(s, rec);
    return APR_SUCCESS;
}

int so_httpd_ca_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, int real_pass)
{
    server_rec *sp;
    apr_hash_t *done = apr_hash_make(ptemp);
    so_srv_conf_t *main_conf = so_httpd_srv_conf(s);

    if (real_pass) {
        /* process-wide, once, in the parent before the children start threads, as libcurl
         * asks; reference counted, so other modules' own calls are unaffected; DCV probes
         * (so_dcv.c) rely on it */
        curl_global_init(CURL_GLOBAL_DEFAULT);
    }
    for (sp = s; sp; sp = sp->next) {
        so_srv_conf_t *c = so_httpd_srv_conf(sp);
        so_ca_t *ca;
        if (!c->ca_dir) {
            continue;
        }
        if ((ca = apr_hash_get(done, c->ca_dir, APR_HASH_KEY_STRING))) {
            c->api.ca = ca;
            continue;
        }
        if (real_pass && init_ca(sp, pconf, c) == APR_SUCCESS) {
            apr_hash_set(done, c->ca_dir, APR_HASH_KEY_STRING, c->api.ca);
        }
    }
    if (!real_pass) {
        return OK;
    }
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    wd_set_interval = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_set_callback_interval);
    dbd_open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!wd_get_instance || !wd_register_callback) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00236) "mod_watchdog is not available: validation, issuance, "
                                    "expiry and reminders run only through POST "
                                    "/v1beta/staff/jobs/run");
        return OK;
    }
    {
        ap_watchdog_t *wd = NULL;
        apr_status_t rv = wd_get_instance(&wd, SO_WATCHDOG, 0, 1, pconf);
        if (rv == APR_SUCCESS) {
            rv = wd_register_callback(wd, apr_time_from_sec(main_conf->api.job_interval), s,
                                      run_jobs);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         SOLOGNO(00237) "cannot start the background job (mod_watchdog)");
        }
        wd = NULL;
        rv = wd_get_instance(&wd, SO_WATCHDOG_FOLD, 0, 1, pconf);
        if (rv == APR_SUCCESS) {
            rv = wd_register_callback(wd, apr_time_from_sec(1), s, fold_versions);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         SOLOGNO(00239) "cannot start folding the order list versions "
                                        "(mod_watchdog)");
        }
    }
    (void)wd_set_interval;
    return OK;
}

/* The largest SSLOrdersListCache (auth 0) or SSLOrdersAuthCache (auth 1) of the servers:
 * one cache per process is sized (or timed) by it; a server with "off" does not use it. */
static apr_int64_t largest(server_rec *s, int auth)
{
    apr_int64_t v = 0;
    for (; s; s = s->next) {
        const so_config_t *c = &so_httpd_srv_conf(s)->api;
        apr_int64_t mine = auth ? (apr_int64_t)c->auth_cache_secs : (apr_int64_t)c->list_cache;
        v = mine > v ? mine : v;
    }
    return v;
}

void so_httpd_list_cache_init(apr_pool_t *pchild, server_rec *s)
{
    so_orders_cache_init(pchild, (apr_size_t)largest(s, 0));
}

void so_httpd_auth_cache_init(apr_pool_t *pchild, server_rec *s)
{
    int secs = (int)largest(s, 1);
    if (so_authcache_init(pchild, secs) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00706) "SSLOrdersAuthCache: no memory for the cache; token lookups "
                                    "all go to the database");
    }
    else if (secs > 0 && !so_authcache_on()) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00707) "SSLOrdersAuthCache is off: the server's processes share no "
                                    "memory to retire what they read when something changes");
    }
}

void so_httpd_ca_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;
    char host[256] = "";
    const char *instance;

    if (gethostname(host, sizeof(host) - 1) != 0) {
        apr_cpystrn(host, "localhost", sizeof(host));
    }
    instance = apr_psprintf(pchild, "%s:%d", host, (int)getpid());
    /* before any of the child's pools (mod_dbd's among them) is destroyed */
    apr_pool_pre_cleanup_register(pchild, s, jobs_stop);
    for (sp = s; sp; sp = sp->next) {
        so_httpd_srv_conf(sp)->api.instance = instance;
    }
}
