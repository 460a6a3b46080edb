/* mod_sslorders: mod_dbd glue.
 *
 * - Statements are prepared on a connection at their first use (so_db.c), not when
 *   mod_dbd opens it: mod_dbd opens a process's connections one at a time, under its
 *   pool's lock, and preparing the whole registry there (20-180 ms per connection
 *   under load) made every request of the first seconds wait behind the others.
 * - Migrations run in the parent at startup (real pass only), before any child
 *   opens mod_dbd connections: mod_dbd prepares our statements when it connects,
 *   and that would fail on a database without our tables. To reach the database
 *   the parent reads DBDriver/DBDParams from mod_dbd's server config (the public
 *   dbd_cfg_t of mod_dbd.h, which is the first member of its server config in
 *   every 2.4 release) and opens a connection of its own for the migration.
 *   A child that finds the database unreachable retries the migration, rate
 *   limited, so a database that was down at startup is brought up to date once it
 *   is back.
 * - The SQLite file (and its -wal/-shm) is given to the User httpd runs as.
 * - Each new mod_dbd connection gets our session settings (dbd post_connect hook).
 */
#include <unistd.h>
#include <sys/stat.h>
#include <strings.h>

#include <sqlite3.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_optional.h>
#include <apr_optional_hooks.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_main.h>
#include <unixd.h>
#include <mpm_common.h>
#include <ap_mpm.h>

#include "so_httpd.h"
#include "../core/so_log.h"
#include "../core/so_metrics.h"
#include "../core/so_util.h"
#include "../store/so_schema.h"
#include "../store/so_store_warm.h"

APLOG_USE_MODULE(sslorders);

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close_fn;
/* SSLOrdersDBWarm: -1 auto (PostgreSQL: min(ThreadsPerChild, DBDMax); SQLite: none),
 * 0 off, N connections */
static int db_warm = -1;
/* set while this thread opens the child's connections at its start */
static __thread int warming;
/* this thread's warm-up: hot statements run, and the connections they ran on */
static __thread int warmed_stmts, warmed_conns;

/* what the children need to retry a migration */
static const char *mig_driver;
static const char *mig_params;
static volatile apr_uint32_t migrated_ok;
static volatile apr_uint32_t db_down;
/* seconds of the last retry: one thread of the process claims each retry (apr_atomic) */
static volatile apr_uint32_t last_migrate_try;

const char *so_httpd_dbd_pg_params(void)
{
    return mig_driver && !strcmp(mig_driver, "pgsql") ? mig_params : NULL;
}

int so_httpd_dbd_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    db_warm = -1;
    mig_driver = NULL;
    mig_params = NULL;
    return OK;
}

static dbd_cfg_t *dbd_cfg_of(server_rec *s)
{
    module *m = ap_find_linked_module("mod_dbd.c");
    void *svr;
    if (!m) {
        return NULL;
    }
    svr = ap_get_module_config(s->module_config, m);
    /* mod_dbd's svr_cfg starts with its dbd_cfg_t pointer */
    return svr ? *(dbd_cfg_t **)svr : NULL;
}

static int dbd_configured(dbd_cfg_t *cfg)
{
    return cfg && cfg->name && cfg->name[0] != '[' && cfg->params;
}

static void give_to_user(server_rec *s, const char *path)
{
    struct stat st;
    if (geteuid() != 0 || stat(path, &st) != 0 || st.st_uid == ap_unixd_config.user_id) {
        return;
    }
    if (chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s,
                     SOLOGNO(00020) "cannot give %s to the httpd User", path);
    }
}

static void sqlite_ownership(server_rec *s, apr_pool_t *p, const char *path)
{
    char *dir, *slash;
    struct stat st;

    give_to_user(s, path);
    give_to_user(s, apr_pstrcat(p, path, "-wal", NULL));
    give_to_user(s, apr_pstrcat(p, path, "-shm", NULL));
    dir = apr_pstrdup(p, path);
    slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        if (stat(dir, &st) == 0 && geteuid() == 0 && st.st_uid != ap_unixd_config.user_id
            && !((st.st_mode & S_IWGRP) && st.st_gid == ap_unixd_config.group_id)
            && !(st.st_mode & S_IWOTH)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         SOLOGNO(00021) "the directory %s of the SQLite database is not writable "
                                        "by the httpd User: SQLite needs it for its WAL files",
                         dir);
        }
    }
}

static apr_status_t migrate(server_rec *s, apr_pool_t *p, const char *driver, const char *params)
{
    so_db_t *db = NULL;
    const char *err = NULL;
    int applied = 0;
    apr_status_t rv;

    rv = so_db_open(&db, p, driver, params, 0, &err);
    if (rv == APR_SUCCESS) {
        rv = so_schema_migrate(db, p, &applied, &err);
        so_db_close(db);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     SOLOGNO(00022) "database schema migration (%s) failed: %s", driver,
                     err ? err : "(no detail)");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 SOLOGNO(00023) "database schema (%s) is current (version %d, %d applied now)",
                 driver, so_schema_latest(), applied);
    return APR_SUCCESS;
}

static apr_status_t migrate_as_user(server_rec *s, apr_pool_t *p, const char *driver,
                                    const char *params)
{
    apr_status_t rv;
    int switched = 0;

    if (geteuid() == 0 && ap_unixd_config.user_id != 0) {
        if (setegid(ap_unixd_config.group_id) == 0 && seteuid(ap_unixd_config.user_id) == 0) {
            switched = 1;
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s,
                         SOLOGNO(00029) "cannot switch to the httpd User for the migration");
        }
    }
    rv = migrate(s, p, driver, params);
    if (switched && (seteuid(0) != 0 || setegid(0) != 0)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, APR_FROM_OS_ERROR(errno), s,
                     SOLOGNO(00030) "cannot switch back to root after the migration");
        return APR_EGENERAL;
    }
    return rv;
}

/* A request holds a connection of its process's pool while it runs: with fewer
 * connections than threads, requests queue for one (and on PostgreSQL a slow query
 * holds up unrelated requests). */
static void pool_size_check(server_rec *s, dbd_cfg_t *cfg)
{
    int threads = 0;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads <= 1) {
        return;
    }
    if (cfg->nmax < threads) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00701) "DBDMax %d is below ThreadsPerChild %d: requests of a "
                                    "process will wait for a database connection under load; "
                                    "set DBDMax to at least ThreadsPerChild",
                     cfg->nmax, threads);
    }
}

/* How many connections a child opens before it takes requests (SSLOrdersDBWarm): at
 * most DBDMax - 1. The warm-up holds every connection it opens until it has them all, and
 * the background job's watchdog thread may start in the same child meanwhile and take one
 * (then wait on a web site that does not answer): a warm-up that wanted all DBDMax waited
 * for that one, in child_init, and the child could not stop (SIGKILL after 6 s). */
static int warm_count(dbd_cfg_t *cfg)
{
    int threads = 0, most = cfg->nmax - 1;
    if (db_warm >= 0) {
        return db_warm < most ? db_warm : most;
    }
    if (strcmp(cfg->name, "pgsql")
        || ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        return 0;
    }
    return threads < most ? threads : most;
}

/* mod_dbd closes connections that stayed idle for DBDExptime (measured: all of them, not
 * only those above DBDKeep), and a burst after a quiet time opens them again one at a
 * time, under the pool's lock: the slow first requests after an idle hour. */
static void pool_keep_check(server_rec *s, dbd_cfg_t *cfg)
{
    int want = warm_count(cfg);
    if (want > 0 && cfg->exptime > 0) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     SOLOGNO(00972) "DBDExptime %d: the %d connections a child opens at start "
                                    "(SSLOrdersDBWarm) are closed after %d s idle, and the next "
                                    "burst of requests waits while they are opened again one "
                                    "at a time; set DBDExptime 0 to keep them",
                     cfg->exptime, want, cfg->exptime);
    }
}

const char *so_httpd_set_db_warm(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t v;
    (void)dc;
    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "auto")) {
        db_warm = -1;
    }
    else if (!strcasecmp(arg, "off")) {
        db_warm = 0;
    }
    else if (so_parse_int64(arg, 0, 1000, &v) == APR_SUCCESS) {
        db_warm = (int)v;
    }
    else {
        return "SSLOrdersDBWarm: expects auto, off or a number of connections (0 to 1000)";
    }
    return NULL;
}

/* A new child opens its database connections before it takes requests. mod_dbd
 * (apr_reslist) opens a connection while it holds its pool's lock, so connections
 * opened on demand are opened one after the other while every request that needs
 * one waits: about 25 ms each on PostgreSQL, so the 25th request of a fresh child
 * waited over half a second, and under load 1.5 s. A child the MPM starts while the
 * database is away skips this quietly (one connection of our own tells) and opens
 * its connections on demand, as before. */
static void dbd_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;
    apr_pool_t *p;
    apr_hash_t *seen;

    if (!dbd_open_fn || !dbd_close_fn || apr_pool_create(&p, pchild) != APR_SUCCESS) {
        return;
    }
    seen = apr_hash_make(p);
    for (sp = s; sp; sp = sp->next) {
        dbd_cfg_t *cfg = dbd_cfg_of(sp);
        const char *key;
        ap_dbd_t **held;
        so_db_t *probe = NULL;
        const char *err = NULL;
        apr_time_t t0 = apr_time_now();
        int want, got = 0, i;

        if (!dbd_configured(cfg) || (want = warm_count(cfg)) <= 0) {
            continue;
        }
        key = apr_pstrcat(p, cfg->name, "|", cfg->params, NULL);
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, "");
        if (so_db_open(&probe, p, cfg->name, cfg->params, 0, &err) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, sp,
                         SOLOGNO(00973) "database not reachable at child start (%s): its "
                                        "connections are opened on demand",
                         err ? err : "?");
            continue;
        }
        so_db_close(probe);
        held = apr_pcalloc(p, sizeof(*held) * (apr_size_t)want);
        warming = 1;
        warmed_stmts = warmed_conns = 0;
        for (i = 0; i < want; i++) {
            if (!(held[i] = dbd_open_fn(p, sp))) {
                break;
            }
            got++;
        }
        warming = 0;
        for (i = 0; i < got; i++) {
            dbd_close_fn(sp, held[i]);
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, sp,
                     SOLOGNO(00971) "opened %d of %d database connections of this child in %"
                                    APR_TIME_T_FMT " ms; %d hot statements run once on the "
                                    "%d of them it opened new (SSLOrdersDBWarm)",
                     got, want, apr_time_as_msec(apr_time_now() - t0), warmed_stmts,
                     warmed_conns);
    }
    apr_pool_destroy(p);
}

int so_httpd_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s, int real_pass)
{
    server_rec *sp;
    apr_hash_t *seen = apr_hash_make(ptemp);
    int any = 0;
    (void)plog;

    if (!dbd_prepare_fn || !dbd_acquire_fn) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     SOLOGNO(00024) "mod_sslorders needs mod_dbd: LoadModule dbd_module");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    so_stmts_init();
    for (sp = s; sp; sp = sp->next) {
        dbd_cfg_t *cfg = dbd_cfg_of(sp);
        if (!dbd_configured(cfg)) {
            continue;
        }
        any = 1;
        so_httpd_srv_db_driver(sp, cfg->name);
        pool_size_check(sp, cfg);
        pool_keep_check(sp, cfg);
        if (!apr_hash_get(seen, apr_pstrcat(ptemp, cfg->name, "|", cfg->params, NULL),
                          APR_HASH_KEY_STRING)) {
            const char *key = apr_pstrcat(ptemp, cfg->name, "|", cfg->params, NULL);
            apr_hash_set(seen, key, APR_HASH_KEY_STRING, "");
            if (!mig_driver) {
                mig_driver = apr_pstrdup(pconf, cfg->name);
                mig_params = apr_pstrdup(pconf, cfg->params);
            }
            if (real_pass) {
                apr_status_t rv;
                if (!strcmp(cfg->name, "sqlite3")) {
                    /* the files SQLite creates (database, WAL) belong to the User the
                     * children run as: migrate as that user */
                    sqlite_ownership(sp, ptemp, cfg->params);
                    rv = migrate_as_user(sp, ptemp, cfg->name, cfg->params);
                }
                else {
                    rv = migrate(sp, ptemp, cfg->name, cfg->params);
                }
                apr_atomic_set32(&migrated_ok, rv == APR_SUCCESS);
            }
        }
    }
    if (!any) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00025) "no DBDriver is configured: mod_sslorders answers 503 until "
                                    "DBDriver and DBDParams are set");
    }
    return OK;
}

/* SQLite's busy handler on our connections: a request that waits for a lock polls
 * in short steps (50 us doubling to 2 ms) for up to SO_DB_BUSY_WAIT (so_db_busy_step),
 * instead of apr_dbd's 100 ms sleeps. apr_dbd's SQLite driver holds one process-wide mutex
 * around every SQLite call (it releases it only for its own sleeps): we release it
 * while we sleep too, or one waiting writer would stop every thread of the process.
 * When we give up, apr_dbd still retries the statement (15 x 100 ms): a call that
 * comes within SO_DB_BUSY_SAME of our giving up is such a retry and gives up at once,
 * so a database locked for good answers 503 after about SO_DB_BUSY_WAIT + 1.5 s.
 * Each wait of a statement has its own SO_DB_BUSY_WAIT. (Before, a wait that began within
 * 250 ms of the thread's previous one continued it: under steady load a thread's
 * waits never ended, and after 3 s every wait of that thread went to apr_dbd's 100 ms
 * sleeps. make bench acme on SQLite, 16 clients: finalize p99 1.5-2.4 s and one request
 * in about 2,000 answered 503 "database is locked"; fixed: p99 under 0.4 s, none.) */
/* exported by libaprutil, declared only in its private apr_dbd_internal.h */
APU_DECLARE(apr_status_t) apr_dbd_mutex_lock(void);
APU_DECLARE(apr_status_t) apr_dbd_mutex_unlock(void);
static __thread so_db_busy_t busy;

static int sqlite_busy(void *baton, int count)
{
    int new_wait;
    apr_interval_time_t step = so_db_busy_step(&busy, count, apr_time_now(), &new_wait);
    (void)baton;
    if (new_wait) {
        so_metrics_inc(SO_MC_DB_BUSY_WAITS);
    }
    if (!step) {
        return 0;
    }
    so_metrics_add(SO_MC_DB_BUSY_WAIT_US, (apr_uint64_t)step);
    apr_dbd_mutex_unlock();
    apr_sleep(step);
    apr_dbd_mutex_lock();
    return 1;
}

/* SSLOrdersSQLiteSynchronous normal: the WAL is synced at checkpoints, not at every
 * commit. What SQLite took is logged once per process. */
static apr_status_t sqlite_sync_normal(so_db_t *db)
{
    static int logged;
    int level = -1;
    apr_status_t rv = so_db_sqlite_sync_normal(db, &level);
    if (!logged) {
        logged = 1;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ap_server_conf,
                     SOLOGNO(00970) "SQLite connections of process %d: synchronous = %d "
                                    "(1 normal, 2 full; SSLOrdersSQLiteSynchronous)",
                     (int)getpid(), level);
    }
    return rv;
}

/* SSLOrdersSQLiteMmap: the connection reads the database through a memory map of that
 * size. Off by default: SQLite drops a connection's map whenever another connection wrote
 * (WAL: at its next read transaction), and under writes every transaction unmapped and
 * mapped again (munmap's TLB shootdowns took half of httpd's CPU under ACME load on the
 * test VM). What SQLite took is logged once per process. */
static apr_status_t sqlite_mmap(so_db_t *db)
{
    static int logged;
    apr_int64_t took = -1;
    apr_status_t rv = so_db_sqlite_mmap(db, so_httpd_sqlite_mmap(), &took);
    if (!logged) {
        logged = 1;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, ap_server_conf,
                     SOLOGNO(00985) "SQLite connections of process %d: mmap_size = %" APR_INT64_T_FMT
                                    " (SSLOrdersSQLiteMmap)",
                     (int)getpid(), took);
    }
    return rv;
}

/* A connection opened at a child's start runs the hot statements once (so_store_warm):
 * a fresh PostgreSQL backend's first run of each took 80-100 ms in the first second of
 * load, on every connection of the child. A failure only costs that warm-up. */
static void warm_connection(so_db_t *db, apr_pool_t *pool)
{
    apr_pool_t *tmp;
    int ran = 0;
    if (apr_pool_create(&tmp, pool) != APR_SUCCESS) {
        return;
    }
    db->pool = tmp;
    if (so_store_warm(db, tmp, &ran) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, NULL,
                     SOLOGNO(00981) "warming a new database connection: %s",
                     db->errmsg ? db->errmsg : "?");
    }
    warmed_stmts += ran;
    warmed_conns++;
    apr_pool_destroy(tmp);
}

/* A new mod_dbd connection: apply our per-connection settings. */
static apr_status_t post_connect(apr_pool_t *pool, dbd_cfg_t *cfg, ap_dbd_t *rec)
{
    so_db_t *db;
    (void)cfg;
    so_metrics_inc(warming ? SO_MC_DB_OPENED_START : SO_MC_DB_OPENED_DEMAND);
    so_db_wrap(&db, pool, rec->driver, rec->handle, rec->prepared, rec->pool);
    if (db->kind == SO_DB_SQLITE3) {
        sqlite3 *conn = apr_dbd_native_handle(rec->driver, rec->handle);
        if (conn) {
            sqlite3_busy_handler(conn, sqlite_busy, NULL);
        }
    }
    if (so_db_session_init(db) != APR_SUCCESS
        || (db->kind == SO_DB_SQLITE3 && so_httpd_sqlite_sync_normal()
            && sqlite_sync_normal(db) != APR_SUCCESS)
        || (db->kind == SO_DB_SQLITE3 && so_httpd_sqlite_mmap() > 0
            && sqlite_mmap(db) != APR_SUCCESS)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, NULL, SOLOGNO(00028) "new database connection: %s",
                     db->errmsg ? db->errmsg : "?");
        return APR_EGENERAL;
    }
    if (warming) {
        warm_connection(db, pool);
    }
    return OK;
}

void so_httpd_dbd_register_hooks(void)
{
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};
    APR_OPTIONAL_HOOK(dbd, post_connect, post_connect, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(dbd_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
}

void so_httpd_db_state(server_rec *s, int down, const char *why)
{
    if (down) {
        if (apr_atomic_xchg32(&db_down, 1) == 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         SOLOGNO(00026) "the database is unavailable (%s): answering 503 until it "
                                        "is back",
                         why ? why : "no connection");
        }
    }
    else if (apr_atomic_read32(&db_down) && apr_atomic_xchg32(&db_down, 0) == 1) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     SOLOGNO(00027) "the database is available again");
    }
}

so_db_t *so_httpd_db_acquire(request_rec *r)
{
    apr_time_t t0 = apr_time_now();
    ap_dbd_t *rec = dbd_acquire_fn ? dbd_acquire_fn(r) : NULL;
    so_db_t *db;

    so_httpd_metrics_db(r, rec != NULL, apr_time_now() - t0);
    if (!rec) {
        so_httpd_db_state(r->server, 1, "mod_dbd has no connection");
        apr_uint32_t now_s = (apr_uint32_t)apr_time_sec(apr_time_now());
        apr_uint32_t last = apr_atomic_read32(&last_migrate_try);
        if (!apr_atomic_read32(&migrated_ok) && mig_driver && now_s - last > 10
            && apr_atomic_cas32(&last_migrate_try, now_s, last) == last) {
            /* the database may be back without our schema: bring it up to date so that
             * mod_dbd can prepare our statements on its next attempt */
            if (migrate(r->server, r->pool, mig_driver, mig_params) == APR_SUCCESS) {
                apr_atomic_set32(&migrated_ok, 1);
                rec = dbd_acquire_fn(r);
            }
        }
        if (!rec) {
            return NULL;
        }
    }
    so_db_wrap(&db, r->pool, rec->driver, rec->handle, rec->prepared, rec->pool);
    return db;
}
