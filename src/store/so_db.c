/* mod_sslorders: the database layer: the statement registry, errors, connections,
 * transactions. Running statements and reading rows: so_db_exec.c. See so_db.h. */
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "so_db.h"
#include "so_db_int.h"
#include "so_stmts.h"
#include "../core/so_log.h"
#include "../core/so_metrics.h"
#include "../core/so_util.h"

/* PostgreSQL: the settings of each session of ours (so_db_session_init) */
#define SO_DB_PG_SESSION_SQL                                                                  \
    "SELECT set_config('client_min_messages', 'warning', false), "                           \
    "set_config('plan_cache_mode', CASE WHEN source = 'default' THEN 'force_generic_plan' "  \
    "ELSE setting END, false) FROM pg_settings WHERE name = 'plan_cache_mode'"

/* ---------------------------------------------------------------------------
 * statement registry
 */


static apr_pool_t *reg_pool;
static apr_hash_t *reg_hash;
static apr_array_header_t *reg_list;
static int rejected; /* statements registration refused */

/* The placeholder types of sql, as apr_dbd_prepare() reads them. */
/* whether the word at w (length n) is kw, ignoring case */
static int word_is(const char *w, apr_size_t n, const char *kw)
{
    return strlen(kw) == n && !strncasecmp(w, kw, n);
}

int so_db_sql_ncols(const char *sql)
{
    const char *q = sql, *verb = NULL;
    int depth = 0, counting = 0, commas = 0;

    while (*q) {
        if (*q == '\'' || *q == '"') { /* a literal or a quoted name ('' and "" inside) */
            char quote = *q++;
            while (*q && !(q[0] == quote && q[1] != quote)) {
                q += q[0] == quote ? 2 : 1;
            }
            q += *q ? 1 : 0;
            continue;
        }
        if (*q == '(' || *q == ')') {
            depth += *q++ == '(' ? 1 : -1;
            continue;
        }
        if (*q == ',' && depth == 0 && counting) {
            commas++;
        }
        if (apr_isalpha(*q) || *q == '_') {
            const char *w = q;
            apr_size_t n;
            while (apr_isalnum(*q) || *q == '_') {
                q++;
            }
            n = (apr_size_t)(q - w);
            if (depth != 0) {
                continue;
            }
            if (counting && (word_is(w, n, "FROM") || word_is(w, n, "WHERE")
                             || word_is(w, n, "UNION") || word_is(w, n, "ORDER")
                             || word_is(w, n, "GROUP") || word_is(w, n, "LIMIT"))) {
                break;
            }
            if (!verb && (word_is(w, n, "SELECT") || word_is(w, n, "INSERT")
                          || word_is(w, n, "UPDATE") || word_is(w, n, "DELETE"))) {
                verb = w;
                counting = word_is(w, n, "SELECT");
            }
            else if (verb && !counting && word_is(w, n, "RETURNING")) {
                counting = 1;
            }
            continue;
        }
        q++;
    }
    return counting ? commas + 1 : 0;
}

int so_db_sql_types(const char *sql, char *types, int max)
{
    const char *q;
    int n = 0;

    for (q = sql; *q; q++) {
        if (q[0] != '%') {
            continue;
        }
        if (q[1] == '%') {
            q++;
            continue;
        }
        if (!((q[1] >= 'a' && q[1] <= 'z') || (q[1] >= 'A' && q[1] <= 'Z'))) {
            continue;
        }
        if (n >= max) {
            return -1;
        }
        if (q[1] == 'd') {
            types[n++] = 'd';
        }
        else if (q[1] == 'l' && q[2] == 'l' && q[3] == 'd') {
            types[n++] = 'l';
        }
        else if (q[1] == 'p' && q[2] == 'D' && q[3] == 'b') {
            types[n++] = 'b';
        }
        else if (q[1] == 's' || (q[1] == 'p' && q[2] == 'D' && q[3] == 't')) {
            types[n++] = 's';
        }
        else {
            return -1; /* a placeholder we do not use: refuse rather than guess */
        }
    }
    return n;
}

void so_stmts_init(void)
{
    int i;
    const so_stmt_def_t *const *tables;

    if (reg_pool) {
        return;
    }
    apr_pool_create(&reg_pool, NULL);
    apr_pool_tag(reg_pool, "so_stmt_registry");
    reg_hash = apr_hash_make(reg_pool);
    reg_list = apr_array_make(reg_pool, 256, sizeof(so_stmt_info_t *));
    tables = so_stmt_tables();
    for (i = 0; tables[i]; i++) {
        const so_stmt_def_t *d;
        for (d = tables[i]; d->label; d++) {
            so_stmt_info_t *info = apr_pcalloc(reg_pool, sizeof(*info));
            info->label = d->label;
            info->sql = d->sql;
            if (!strncmp(d->sql, SO_SQL_PGSQL_ONLY, sizeof(SO_SQL_PGSQL_ONLY) - 1)) {
                info->sql += sizeof(SO_SQL_PGSQL_ONLY) - 1;
                info->pg_only = 1;
            }
            info->nargs = so_db_sql_types(info->sql, info->types, SO_MAX_ARGS);
            if (info->nargs < 0) {
                so_log_error(SO_LOG_MARK, APR_EINVAL,
                             SOLOGNO(00001) "statement %s uses an unsupported placeholder",
                             d->label);
                rejected++;
                continue;
            }
            info->ncols = so_db_sql_ncols(info->sql);
            if (info->ncols != d->ncols) {
                so_log_error(SO_LOG_MARK, APR_EINVAL,
                             SOLOGNO(00031) "statement %s: its readers take %d columns, its SQL "
                             "has %d", d->label, d->ncols, info->ncols);
                rejected++;
                continue;
            }
            if (apr_hash_get(reg_hash, d->label, APR_HASH_KEY_STRING)) {
                so_log_error(SO_LOG_MARK, APR_EINVAL,
                             SOLOGNO(00002) "statement label %s is registered twice", d->label);
                rejected++;
                continue;
            }
            apr_hash_set(reg_hash, info->label, APR_HASH_KEY_STRING, info);
            APR_ARRAY_PUSH(reg_list, so_stmt_info_t *) = info;
        }
    }
}

int so_stmts_rejected(void)
{
    so_stmts_init();
    return rejected;
}

void so_stmts_each(so_stmt_cb *cb, void *baton)
{
    int i;
    so_stmts_init();
    for (i = 0; i < reg_list->nelts; i++) {
        so_stmt_info_t *info = APR_ARRAY_IDX(reg_list, i, so_stmt_info_t *);
        cb(baton, info->label, info->sql);
    }
}

const char *so_stmt_sql(const char *label)
{
    so_stmt_info_t *info;
    so_stmts_init();
    info = apr_hash_get(reg_hash, label, APR_HASH_KEY_STRING);
    return info ? info->sql : NULL;
}

/* ---------------------------------------------------------------------------
 * errors
 */

const char *so_db_strerror(apr_status_t rv)
{
    switch (rv) {
    case SO_EDB:
        return "database statement failed";
    case SO_EDBDOWN:
        return "database unavailable";
    case SO_EDBBUSY:
        return "database busy";
    case SO_EDBRETRY:
        return "database connection was re-established";
    case SO_EDBUNIQUE:
        return "unique constraint violated";
    case SO_EDBFOREIGN:
        return "foreign key constraint violated";
    case SO_EDBSTALE:
        return "the row changed concurrently";
    case SO_EDBREFUSED:
        return "the statement refused its change";
    default:
        return "error";
    }
}

static int msg_has(const char *msg, const char *needle)
{
    return msg && strstr(msg, needle) != NULL;
}

/* Turn a driver error into one of our codes; repair the connection where we can. */
apr_status_t so_db_classify(so_db_t *db, int ret, const char *what)
{
    return so_db_classify_msg(db, apr_dbd_error(db->driver, db->handle, ret), what);
}

apr_status_t so_db_classify_msg(so_db_t *db, const char *msg, const char *what)
{
    apr_status_t rv = SO_EDB;

    db->errmsg = so_str_trim(db->pool, msg ? msg : "(no message)");
    if (db->trans) {
        db->trans_failed = 1;
    }
    if (msg_has(msg, "UNIQUE constraint") || msg_has(msg, "duplicate key")) {
        return SO_EDBUNIQUE;
    }
    if (msg_has(msg, "FOREIGN KEY constraint") || msg_has(msg, "foreign key constraint")) {
        return SO_EDBFOREIGN;
    }
    if (db->kind == SO_DB_SQLITE3) {
        if (msg_has(msg, "locked") || msg_has(msg, "busy")) {
            db->trans_busy = db->trans != NULL;
            return SO_EDBBUSY;
        }
        if (msg_has(msg, "schema has changed") || msg_has(msg, "not an error")) {
            /* apr_dbd prepares with the legacy sqlite3_prepare(): after a schema change
             * (another process migrated) its statements expire; prepare them again */
            db->broken = 1;
            if (!db->trans) {
                so_db_repair(db);
            }
            return SO_EDBDOWN;
        }
        if (msg_has(msg, "unable to open") || msg_has(msg, "disk I/O")
            || msg_has(msg, "readonly database")) {
            rv = SO_EDBDOWN;
        }
    }
    else if (db->kind == SO_DB_PGSQL) {
        if (msg_has(msg, "deadlock detected") || msg_has(msg, "could not serialize")
            || msg_has(msg, "lock timeout") || msg_has(msg, "could not obtain lock")) {
            /* another transaction won: the request may be sent again */
            db->trans_busy = db->trans != NULL;
            return SO_EDBBUSY;
        }
        if ((msg_has(msg, "prepared statement") && msg_has(msg, "does not exist"))
            || msg_has(msg, "server closed the connection") || msg_has(msg, "terminating connection")
            || msg_has(msg, "no connection to the server") || msg_has(msg, "could not receive")
            || msg_has(msg, "could not send") || msg_has(msg, "connection to server")
            || msg_has(msg, "the database system is") || msg_has(msg, "administrator command")
            || msg_has(msg, "Connection refused") || msg_has(msg, "connection not open")) {
            /* The connection died, or was reset (PQreset) and lost our prepared
             * statements. Repair it now, or when the transaction has ended. */
            db->broken = 1;
            if (!db->trans) {
                so_db_repair(db);
            }
            return SO_EDBDOWN;
        }
    }
    if (rv == SO_EDB) {
        so_log_error(SO_LOG_MARK, APR_EGENERAL, SOLOGNO(00003) "%s failed: %s", what,
                     db->errmsg);
    }
    return rv;
}

/* ---------------------------------------------------------------------------
 * connections
 */

apr_status_t so_db_repair(so_db_t *db)
{
    apr_status_t rv;
    if (!db->broken || db->trans) {
        return APR_SUCCESS;
    }
    rv = apr_dbd_check_conn(db->driver, db->pool, db->handle);
    if (rv != APR_SUCCESS) {
        return SO_EDBDOWN;
    }
    if (db->kind == SO_DB_PGSQL) {
        /* a reset session lost its statements, a healthy one still has them: drop them
         * all either way, they are prepared again on first use */
        int n = 0;
        apr_dbd_query(db->driver, db->handle, &n, "DEALLOCATE ALL");
        if (db->prepared) {
            apr_hash_clear(db->prepared);
        }
        /* a reset session also lost its settings */
        if (so_db_raw_select(db, SO_DB_PG_SESSION_SQL) != APR_SUCCESS) {
            return SO_EDBDOWN;
        }
    }
    else if (db->prepared && so_db_reprepare(db) != APR_SUCCESS) {
        return SO_EDBDOWN;
    }
    db->broken = 0;
    return APR_SUCCESS;
}

so_db_kind_t so_db_kind_of(const apr_dbd_driver_t *driver)
{
    const char *name = apr_dbd_name(driver);
    return (name && !strcmp(name, "pgsql")) ? SO_DB_PGSQL : SO_DB_SQLITE3;
}

apr_status_t so_db_wrap(so_db_t **out, apr_pool_t *p, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle, apr_hash_t *prepared, apr_pool_t *conn_pool)
{
    so_db_t *db = apr_pcalloc(p, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->conn_pool = conn_pool;
    db->pool = p;
    db->kind = so_db_kind_of(driver);
    db->has_statements = 1;
    *out = db;
    return APR_SUCCESS;
}

static apr_status_t db_close_cleanup(void *data)
{
    so_db_t *db = data;
    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t so_db_open(so_db_t **out, apr_pool_t *p, const char *driver, const char *params,
                        int prepare, const char **err)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *handle = NULL;
    so_db_t *db;
    apr_status_t rv;
    const char *e = NULL;

    *err = NULL;
    so_stmts_init();
    apr_dbd_init(p);
    if ((rv = apr_dbd_get_driver(p, driver, &drv)) != APR_SUCCESS) {
        *err = apr_psprintf(p,
                            "cannot load the apr_dbd driver '%s' (install "
                            "libaprutil1-dbd-%s)",
                            driver, driver);
        return rv;
    }
    if ((rv = apr_dbd_open_ex(drv, p, params, &handle, &e)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open the %s database: %s", driver, e ? e : "(no detail)");
        return SO_EDBDOWN;
    }
    so_db_wrap(&db, p, drv, handle, apr_hash_make(p), p);
    db->own = 1;
    db->has_statements = 0;
    apr_pool_cleanup_register(p, db, db_close_cleanup, apr_pool_cleanup_null);
    if ((rv = so_db_session_init(db)) != APR_SUCCESS) {
        *err = db->errmsg;
        return rv;
    }
    if (prepare && (rv = so_db_prepare_all(db)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot prepare statements: %s",
                            db->errmsg ? db->errmsg : "(no detail)");
        return rv;
    }
    *out = db;
    return APR_SUCCESS;
}

void so_db_close(so_db_t *db)
{
    if (db && db->own) {
        apr_pool_cleanup_run(db->conn_pool, db, db_close_cleanup);
    }
}

apr_status_t so_db_session_init(so_db_t *db)
{
    if (db->kind == SO_DB_SQLITE3) {
        /* no busy_timeout here: in httpd, so_httpd_dbd.c installs a busy handler that
         * polls in short steps and releases apr_dbd's mutex while it sleeps; elsewhere
         * (CLI) apr_dbd's driver retries a busy statement itself (15 x 100 ms) */
        /* (no memory map unless asked: so_db_sqlite_mmap) */
        return so_db_raw(db, "PRAGMA foreign_keys = ON");
    }
    /* One round trip: keep NOTICEs (e.g. "relation already exists, skipping") out of the
     * error log; and plan each prepared statement once, unless the database's operator
     * chose a plan_cache_mode (postgresql.conf, ALTER DATABASE/ROLE, DBDParams options).
     * PostgreSQL's default (auto) plans a statement anew at every run when a plan for its
     * values looks cheaper than the generic one: with LIMIT and OFFSET parameters (a list
     * page), or an IN list padded with repeats (ids of a page), it always does. Measured on
     * the 2-core test machine: an uncached order list page cost PostgreSQL 1.1-1.3 ms of
     * CPU, 0.8-1.0 ms with generic plans (docs/operations.md). Every query
     * of ours is bound to indexes by its keys (team, order, hash), where a generic plan is
     * the plan a custom one would be. */
    return so_db_raw_select(db, SO_DB_PG_SESSION_SQL);
}

void so_db_forget_adhoc(so_db_t *db)
{
    apr_hash_index_t *hi;
    for (hi = apr_hash_first(db->pool, db->prepared); hi; hi = apr_hash_next(hi)) {
        const void *key;
        apr_hash_this(hi, &key, NULL, NULL);
        if (((const char *)key)[0] == '#') {
            apr_hash_set(db->prepared, key, APR_HASH_KEY_STRING, NULL);
        }
    }
}

/* Prepare one registry statement on this connection (kept in its statement hash). */
static apr_status_t prepare_one(so_db_t *db, so_stmt_info_t *info, apr_dbd_prepared_t **out)
{
    apr_dbd_prepared_t *stmt = db->prepared ? apr_hash_get(db->prepared, info->label,
                                                           APR_HASH_KEY_STRING) : NULL;
    /* an existing statement object is re-prepared in place */
    int ret = apr_dbd_prepare(db->driver, db->conn_pool, db->handle, info->sql, info->label, &stmt);
    if (ret != 0) {
        apr_status_t rv = so_db_classify(db, ret, info->label);
        db->errmsg = apr_psprintf(db->pool, "%s: %s", info->label, db->errmsg);
        return rv;
    }
    if (db->prepared) {
        apr_hash_set(db->prepared, info->label, APR_HASH_KEY_STRING, stmt);
    }
    so_metrics_inc(SO_MC_DB_PREPARED);
    *out = stmt;
    return APR_SUCCESS;
}

apr_status_t so_db_prepare_all(so_db_t *db)
{
    int i;

    so_stmts_init();
    so_db_forget_adhoc(db);
    for (i = 0; i < reg_list->nelts; i++) {
        so_stmt_info_t *info = APR_ARRAY_IDX(reg_list, i, so_stmt_info_t *);
        apr_dbd_prepared_t *stmt;
        if (info->pg_only && db->kind != SO_DB_PGSQL) {
            continue;
        }
        if (prepare_one(db, info, &stmt) != APR_SUCCESS) {
            return SO_EDB;
        }
    }
    db->has_statements = 1;
    return APR_SUCCESS;
}

apr_status_t so_db_reprepare(so_db_t *db)
{
    int i;

    so_stmts_init();
    so_db_forget_adhoc(db);
    for (i = 0; i < reg_list->nelts; i++) {
        so_stmt_info_t *info = APR_ARRAY_IDX(reg_list, i, so_stmt_info_t *);
        apr_dbd_prepared_t *stmt;
        if (apr_hash_get(db->prepared, info->label, APR_HASH_KEY_STRING)
            && prepare_one(db, info, &stmt) != APR_SUCCESS) {
            return SO_EDB;
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_db_lookup(so_db_t *db, const char *label, so_stmt_info_t **info,
                           apr_dbd_prepared_t **stmt)
{
    so_stmts_init();
    *info = apr_hash_get(reg_hash, label, APR_HASH_KEY_STRING);
    *stmt = db->prepared ? apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING) : NULL;
    if (!*info || !db->prepared || ((*info)->pg_only && db->kind != SO_DB_PGSQL)) {
        so_log_error(SO_LOG_MARK, APR_ENOENT,
                     SOLOGNO(00004) "statement %s is not prepared on this connection", label);
        return SO_EDB;
    }
    /* statements are prepared on first use: a new connection costs an open, not the
     * whole registry (which made the first seconds after a start wait in line behind
     * connection setups, one at a time per process) */
    return *stmt ? APR_SUCCESS : prepare_one(db, *info, stmt);
}

#define SO_DB_BEGIN_ATTEMPTS 4

/* apr_dbd_pgsql's struct apr_dbd_transaction_t (apr-util 1.6: mode, errnum, handle) */
typedef struct {
    int mode;
    int errnum;
    void *handle;
} pg_trans_mirror_t;

/* the transaction is over (committed, rolled back or gone): no state of it remains */
static void trans_forget(so_db_t *db)
{
    db->trans = NULL;
    db->trans_failed = 0;
    db->trans_busy = 0;
}

/* the request's pool goes with our PostgreSQL transaction open (a caller that neither
 * committed nor rolled back): roll it back before the connection goes back to its pool */
static apr_status_t pg_trans_gone(void *data)
{
    so_db_t *db = data;
    if (db->trans) {
        trans_forget(db);
        so_db_pg_end(db, 0);
    }
    return APR_SUCCESS;
}

/* the commit hook's rows at phase (inside the transaction): when it fails, nothing of the
 * transaction is kept */
static apr_status_t run_hook(so_db_t *db, int phase)
{
    apr_status_t rv;
    if (!db->commit_hook || db->in_hook) {
        return APR_SUCCESS;
    }
    db->in_hook = 1;
    rv = db->commit_hook(db, db->commit_hook_baton, phase);
    db->in_hook = 0;
    if (rv != APR_SUCCESS) {
        so_db_rollback(db); /* (tells the hook: SO_DB_HOOK_FAILED) */
        return SO_DB_IS_UNAVAILABLE(rv) || rv == SO_EDB ? rv : SO_EDB;
    }
    return APR_SUCCESS;
}

apr_status_t so_db_begin(so_db_t *db)
{
    int ret, attempt;
    apr_status_t rv;
    if (db->trans) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00007) "nested transaction");
        return SO_EDB;
    }
    so_db_ahead_forget(db);
    if (db->kind == SO_DB_PGSQL) {
        /* ours: BEGIN goes out with the first statement (so_db_pg_with) */
        if (db->broken && so_db_repair(db) != APR_SUCCESS) {
            return SO_EDBDOWN;
        }
        db->trans = (apr_dbd_transaction_t *)(void *)&db->pg_begun;
        db->pg_begun = 0;
        apr_pool_cleanup_register(db->pool, db, pg_trans_gone, apr_pool_cleanup_null);
        return run_hook(db, SO_DB_HOOK_BEGUN);
    }
    for (attempt = 0;; attempt++) {
        /* apr-util 1.6's pgsql driver writes through *trans when BEGIN comes back with an
         * error result, allocating it only on success: a pooled connection whose server
         * went away (a PostgreSQL restart) took the child down with SIGSEGV. Hand it a
         * zeroed transaction to fill (its private struct is {int mode; int errnum;
         * apr_dbd_t *handle}: 64 bytes cover it). The sqlite3 driver fills only a NULL
         * one, so it gets NULL. */
        db->trans = db->kind == SO_DB_PGSQL ? apr_pcalloc(db->pool, 64) : NULL;
        ret = apr_dbd_transaction_start(db->driver, db->pool, db->handle, &db->trans);
        if (ret == 0) {
            return run_hook(db, SO_DB_HOOK_BEGUN);
        }
        if (db->trans) {
            /* both drivers leave the connection pointing at the failed transaction, and
             * apr_dbd_transaction_start registered a pool cleanup that ends it when the
             * request's pool goes (a COMMIT, maybe after the connection went back to the
             * pool): end it now, as a rollback, which also removes that cleanup. pgsql
             * sets the transaction's handle only when BEGIN got a result; without one it
             * was left NULL, and the cleanup followed it when the request ended (SIGSEGV
             * in the cluster test after a failover): give it the connection first. */
            pg_trans_mirror_t *m = (pg_trans_mirror_t *)(void *)db->trans;
            if (db->kind == SO_DB_PGSQL && !m->handle) {
                m->handle = db->handle;
            }
            apr_dbd_transaction_mode_set(db->driver, db->trans, APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(db->driver, db->pool, db->trans);
        }
        db->trans = NULL;
        rv = so_db_classify(db, ret, "starting a transaction");
        /* SQLite (BEGIN IMMEDIATE): apr_dbd polls for the write lock every 100 ms for
         * 1.5 s, and a stream of other writers can take it between the polls every
         * time (16 clients creating orders at once): poll for a while longer */
        if (rv != SO_EDBBUSY || db->kind != SO_DB_SQLITE3 || attempt == SO_DB_BEGIN_ATTEMPTS - 1) {
            return rv;
        }
    }
}

apr_status_t so_db_commit_begin(so_db_t *db)
{
    if (!db->trans) {
        return SO_EDB;
    }
    /* the hook's rows (the audit log) are written inside the transaction: when they cannot
     * be, nothing of it is kept */
    return db->trans_failed ? APR_SUCCESS : run_hook(db, SO_DB_HOOK_BEFORE);
}

apr_status_t so_db_commit_end(so_db_t *db)
{
    int ret;
    apr_dbd_transaction_t *t = db->trans;
    int failed, busy;
    apr_status_t rv;

    if (!t) {
        return SO_EDB;
    }
    /* apr_dbd rolls back when a statement of the transaction failed */
    failed = db->trans_failed;
    busy = db->trans_busy;
    if (db->kind == SO_DB_PGSQL) {
        apr_pool_cleanup_kill(db->pool, db, pg_trans_gone);
        trans_forget(db);
        rv = so_db_pg_end(db, !failed);
        ret = rv != APR_SUCCESS;
    }
    else {
        if (failed) {
            apr_dbd_transaction_mode_set(db->driver, t, APR_DBD_TRANSACTION_ROLLBACK);
        }
        ret = apr_dbd_transaction_end(db->driver, db->pool, t);
        trans_forget(db);
        rv = ret != 0 ? so_db_classify(db, ret, "committing") : APR_SUCCESS;
    }
    if (ret != 0) {
        so_db_repair(db);
        if (db->commit_hook) {
            db->commit_hook(db, db->commit_hook_baton, SO_DB_HOOK_FAILED);
        }
        return rv;
    }
    so_db_repair(db);
    if (db->commit_hook) {
        db->commit_hook(db, db->commit_hook_baton,
                        failed ? SO_DB_HOOK_FAILED : SO_DB_HOOK_COMMITTED);
    }
    if (failed) {
        /* a transaction that failed because the database was busy (a lock wait that gave
         * up, a deadlock) is an answer to retry (503), also when the caller went on past
         * the failed statement: not a server error (500) */
        return db->broken ? SO_EDBDOWN : busy ? SO_EDBBUSY : SO_EDB;
    }
    db->committed = 1;
    return APR_SUCCESS;
}

apr_status_t so_db_commit(so_db_t *db)
{
    apr_status_t rv = so_db_commit_begin(db);
    return rv == APR_SUCCESS ? so_db_commit_end(db) : rv;
}

void so_db_set_commit_hook(so_db_t *db, so_db_commit_hook_fn *fn, void *baton)
{
    db->commit_hook = fn;
    db->commit_hook_baton = baton;
    db->in_hook = 0;
}

void so_db_rollback(so_db_t *db)
{
    if (db->trans) {
        if (db->kind == SO_DB_PGSQL) {
            apr_pool_cleanup_kill(db->pool, db, pg_trans_gone);
            trans_forget(db);
            so_db_pg_end(db, 0);
        }
        else {
            apr_dbd_transaction_mode_set(db->driver, db->trans, APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(db->driver, db->pool, db->trans);
            trans_forget(db);
        }
        /* what the hook wrote at BEGUN is gone: it writes again in the next transaction */
        if (db->commit_hook && !db->in_hook) {
            db->commit_hook(db, db->commit_hook_baton, SO_DB_HOOK_FAILED);
        }
    }
    so_db_repair(db);
}

apr_status_t so_db_end(so_db_t *db, apr_status_t rv)
{
    if (rv == APR_SUCCESS) {
        return so_db_commit(db);
    }
    so_db_rollback(db);
    return rv;
}

apr_interval_time_t so_db_busy_step(so_db_busy_t *b, int count, apr_time_t now, int *new_wait)
{
    *new_wait = 0;
    if (count == 0) {
        if (b->gave_up_at && now - b->gave_up_at < SO_DB_BUSY_SAME) {
            b->gave_up_at = now; /* apr_dbd's retry of the statement we gave up on */
            return 0;
        }
        b->gave_up_at = 0;
        b->since = now;
        *new_wait = 1;
    }
    if (now - b->since > SO_DB_BUSY_WAIT) {
        b->gave_up_at = now;
        return 0;
    }
    return count < 4 ? (apr_interval_time_t)50 << count : 500;
}
