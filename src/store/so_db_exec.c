/* mod_sslorders: the database layer: running statements (registered and built at run
 * time), raw SQL, reading rows. The registry, connections and transactions: so_db.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "so_db.h"
#include "so_db_int.h"
#include "../core/so_log.h"
#include "../core/so_metrics.h"

/* ---------------------------------------------------------------------------
 * statements
 */

/* Build the typed value array apr_dbd_pb*() expects from typed arguments; each binds
 * with the type of its placeholder (so_db_args.h). */
static apr_status_t bind_values(apr_pool_t *p, const char *types, int nargs, int given,
                                const so_arg_t *args, const void ***values, const char **why)
{
    int i, j = 0, nblobs = 0;
    const void **v;

    if (given != nargs) {
        *why = apr_psprintf(p, "%d arguments given, %d expected", given, nargs);
        return APR_EINVAL;
    }
    for (i = 0; i < nargs; i++) {
        nblobs += types[i] == 'b';
    }
    v = apr_pcalloc(p, sizeof(void *) * (size_t)(nargs + 3 * nblobs + 1));
    for (i = 0; i < nargs; i++) {
        const so_arg_t *a = &args[i];
        if (a->kind == SO_ARG_BLOB && types[i] != 'b') {
            *why = apr_psprintf(p, "argument %d is a blob for a %%%c placeholder", i + 1, types[i]);
            return APR_EINVAL;
        }
        switch (types[i]) {
        case 'd':
            if (a->kind != SO_ARG_NULL) {
                int *iv = apr_palloc(p, sizeof(int));
                *iv = a->kind == SO_ARG_INT ? (int)a->v.i : atoi(a->v.s);
                v[j] = iv;
            }
            j++;
            break;
        case 'l':
            if (a->kind != SO_ARG_NULL) {
                apr_int64_t *lv = apr_palloc(p, sizeof(apr_int64_t));
                *lv = a->kind == SO_ARG_INT ? a->v.i : apr_atoi64(a->v.s);
                v[j] = lv;
            }
            j++;
            break;
        case 'b':
            if (a->kind == SO_ARG_BLOB) {
                apr_size_t *len = apr_palloc(p, sizeof(apr_size_t));
                *len = a->v.b->len;
                v[j] = a->v.b->data ? a->v.b->data : "";
                v[j + 1] = len;
                v[j + 2] = "";
                v[j + 3] = "";
            }
            else if (a->kind != SO_ARG_NULL) {
                *why = apr_psprintf(p, "argument %d is not a blob for a %%pDb placeholder", i + 1);
                return APR_EINVAL;
            }
            j += 4;
            break;
        default:
            v[j++] = a->kind == SO_ARG_INT ? apr_psprintf(p, "%" APR_INT64_T_FMT, a->v.i)
                                           : a->v.s;
            break;
        }
    }
    *values = v;
    return APR_SUCCESS;
}

static apr_status_t read_rows(so_db_t *db, apr_pool_t *p, apr_dbd_results_t *res, so_rows_t **out)
{
    so_rows_t *rows = apr_pcalloc(p, sizeof(*rows));
    apr_array_header_t *cells;
    apr_dbd_row_t *row = NULL;
    int ret, c;

    rows->ncols = apr_dbd_num_cols(db->driver, res);
    cells = apr_array_make(p, 16 * (rows->ncols ? rows->ncols : 1), sizeof(const char *));
    while ((ret = apr_dbd_get_row(db->driver, p, res, &row, -1)) == 0) {
        for (c = 0; c < rows->ncols; c++) {
            const char *v = apr_dbd_get_entry(db->driver, row, c);
            if (v && !*v && db->kind == SO_DB_PGSQL) {
                char *dummy = NULL;
                if (apr_dbd_datum_get(db->driver, row, c, APR_DBD_TYPE_STRING, &dummy)
                    == APR_ENOENT) {
                    v = NULL;
                }
            }
            /* SQLite's values are pool copies that live as long as p; PostgreSQL's live
             * in the PGresult, which the driver clears after the last row */
            APR_ARRAY_PUSH(cells, const char *) =
                v && db->kind == SO_DB_PGSQL ? apr_pstrdup(p, v) : v;
        }
        rows->nrows++;
    }
    if (ret != -1) {
        return so_db_classify(db, ret, "reading rows");
    }
    rows->cells = (const char **)cells->elts;
    *out = rows;
    return APR_SUCCESS;
}

static apr_status_t run_select(so_db_t *db, apr_pool_t *p, apr_dbd_prepared_t *stmt,
                               const char *types, int nargs, const char *what, so_rows_t **rows,
                               int given, const so_arg_t *args)
{
    apr_dbd_results_t *res = NULL;
    const void **values;
    const char *why = NULL;
    int ret;

    so_db_ahead_forget(db);
    if (bind_values(p, types, nargs, given, args, &values, &why) != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00005) "%s: %s", what, why);
        return SO_EDB;
    }
    ret = apr_dbd_pbselect(db->driver, p, db->handle, &res, stmt, 1, values);
    if (ret != 0) {
        return so_db_classify(db, ret, what);
    }
    return read_rows(db, p, res, rows);
}

static apr_status_t run_exec(so_db_t *db, apr_pool_t *p, apr_dbd_prepared_t *stmt,
                             const char *types, int nargs, const char *what, int *nrows, int given,
                             const so_arg_t *args)
{
    const void **values;
    const char *why = NULL;
    int ret, n = 0;

    so_db_ahead_forget(db);
    if (bind_values(p, types, nargs, given, args, &values, &why) != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00006) "%s: %s", what, why);
        return SO_EDB;
    }
    ret = apr_dbd_pbquery(db->driver, p, db->handle, &n, stmt, values);
    if (ret != 0) {
        return so_db_classify(db, ret, what);
    }
    if (nrows) {
        *nrows = n;
    }
    if (!db->trans) {
        db->committed = 1;
    }
    return APR_SUCCESS;
}

/* A change outside a transaction while a commit hook is set runs in a transaction of its
 * own, so that what the hook writes commits with it. */
static int needs_own_trans(const so_db_t *db)
{
    return db->commit_hook && !db->trans && !db->in_hook;
}

/* Whether SQL run by so_db_select changes rows (INSERT/UPDATE/DELETE ... RETURNING, or a
 * PostgreSQL WITH whose queries do). */
static int sql_writes(const char *sql)
{
    while (sql && apr_isspace(*sql)) {
        sql++;
    }
    if (sql && !strncasecmp(sql, "WITH", 4)) {
        return strstr(sql, "INSERT INTO") || strstr(sql, "UPDATE ") || strstr(sql, "DELETE FROM");
    }
    return sql && (!strncasecmp(sql, "INSERT", 6) || !strncasecmp(sql, "UPDATE", 6)
                   || !strncasecmp(sql, "DELETE", 6));
}

/* SQLite: apr_dbd prepares with the legacy sqlite3_prepare(), so a schema change by
 * another connection (a migration, a trigger replaced) makes this connection's next
 * statement fail with "schema has changed" before it runs. so_db_classify() prepared them
 * again; outside a transaction the statement is simply run once more, so callers without
 * a request-level retry (ACME, the seal, the job) do not see a 503 for it. */
static int retry_after_schema_change(so_db_t *db, apr_status_t rv)
{
    return rv == SO_EDBDOWN && db->kind == SO_DB_SQLITE3 && !db->trans && !db->broken
           && db->errmsg && strstr(db->errmsg, "schema has changed");
}

/* PostgreSQL: our transaction's BEGIN, or changes queued for later, not sent yet: now,
 * alone (before a statement that does not go with them in one round trip) */
static apr_status_t begin_now(so_db_t *db)
{
    so_db_ahead_forget(db);
    return so_db_pg_due(db) ? so_db_pg_flush(db) : APR_SUCCESS;
}

apr_status_t so_db_select(so_db_t *db, apr_pool_t *p, const char *label, so_rows_t **rows, int nargs,
                          const so_arg_t *args)
{
    apr_dbd_prepared_t *stmt;
    so_stmt_info_t *info;
    apr_status_t rv;
    if (needs_own_trans(db) && sql_writes(so_stmt_sql(label))) {
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        return so_db_end(db, so_db_select(db, p, label, rows, nargs, args));
    }
    rv = so_db_lookup(db, label, &info, &stmt);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (db->ahead && db->ahead->nelts && !db->trans) {
        /* rows read ahead, or the reads ahead sent with this statement */
        if (so_db_pg_ahead_take(db, p, info, nargs, args, rows)
            || (db->ahead->nelts && so_db_pg_select_ahead(db, p, info, nargs, args, rows, &rv))) {
            goto ran;
        }
    }
    if (!so_db_pg_due(db) || !so_db_pg_with(db, p, info, nargs, args, rows, NULL, &rv)) {
        rv = run_select(db, p, stmt, info->types, info->nargs, label, rows, nargs, args);
    }
    if (retry_after_schema_change(db, rv) && so_db_lookup(db, label, &info, &stmt) == APR_SUCCESS) {
        rv = run_select(db, p, stmt, info->types, info->nargs, label, rows, nargs, args);
    }
ran:
    if (rv == APR_SUCCESS && (*rows)->ncols != info->ncols) {
        so_log_error(SO_LOG_MARK, SO_EDB,
                     SOLOGNO(00032) "%s: the rows have %d columns, its readers take %d", label,
                     (*rows)->ncols, info->ncols);
        return SO_EDB;
    }
    return rv;
}

apr_status_t so_db_exec(so_db_t *db, apr_pool_t *p, const char *label, int *nrows, int nargs,
                        const so_arg_t *args)
{
    apr_dbd_prepared_t *stmt;
    so_stmt_info_t *info;
    apr_status_t rv;
    if (needs_own_trans(db)) {
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        return so_db_end(db, so_db_exec(db, p, label, nrows, nargs, args));
    }
    rv = so_db_lookup(db, label, &info, &stmt);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_db_pg_due(db) && so_db_pg_with(db, p, info, nargs, args, NULL, nrows, &rv)) {
        return rv;
    }
    rv = run_exec(db, p, stmt, info->types, info->nargs, label, nrows, nargs, args);
    if (retry_after_schema_change(db, rv) && so_db_lookup(db, label, &info, &stmt) == APR_SUCCESS) {
        rv = run_exec(db, p, stmt, info->types, info->nargs, label, nrows, nargs, args);
    }
    return rv;
}

apr_status_t so_db_exec_later(so_db_t *db, apr_pool_t *p, const char *label, int nargs,
                              const so_arg_t *args)
{
    apr_dbd_prepared_t *stmt;
    so_stmt_info_t *info;
    so_db_queued_t *q;
    const char **values;
    apr_status_t rv;

    if (db->kind != SO_DB_PGSQL || !db->trans || db->trans_failed) {
        return so_db_exec(db, p, label, NULL, nargs, args);
    }
    if ((rv = so_db_lookup(db, label, &info, &stmt)) != APR_SUCCESS) {
        return rv;
    }
    /* the values live until the queue goes out, in this use's pool (not the caller's
     * memory: an event's text is freed when the call returns) */
    if (nargs != info->nargs
        || so_db_pg_text_args(db->pool, label, nargs, args, 1, &values) != APR_SUCCESS) {
        return so_db_exec(db, p, label, NULL, nargs, args); /* (a blob: at once) */
    }
    /* a few at a time: the connection blocks while it writes them (SO_DB_BATCH_MAX) */
    if (db->later && db->later->nelts >= SO_DB_BATCH_MAX
        && (rv = so_db_pg_flush(db)) != APR_SUCCESS) {
        return rv;
    }
    if (!db->later) {
        db->later = apr_array_make(db->pool, 8, sizeof(so_db_queued_t));
    }
    q = apr_array_push(db->later);
    memset(q, 0, sizeof(*q));
    q->label = label;
    q->values = values;
    q->nargs = nargs;
    so_metrics_inc(SO_MC_DB_DEFERRED);
    return APR_SUCCESS;
}

void so_db_ahead(so_db_t *db, const char *label, int nargs, const so_arg_t *args)
{
    apr_dbd_prepared_t *stmt;
    so_stmt_info_t *info;
    so_db_queued_t *q;
    const char **values;
    int i;

    if (db->kind != SO_DB_PGSQL || db->trans || db->ahead_sent
        || (db->ahead && db->ahead->nelts >= SO_DB_AHEAD_MAX)
        || so_db_lookup(db, label, &info, &stmt) != APR_SUCCESS || nargs != info->nargs) {
        return;
    }
    for (i = 0; i < nargs; i++) {
        if (args[i].kind == SO_ARG_BLOB) {
            return;
        }
    }
    if (so_db_pg_text_args(db->pool, label, nargs, args, 1, &values) != APR_SUCCESS) {
        return;
    }
    if (!db->ahead) {
        db->ahead = apr_array_make(db->pool, SO_DB_AHEAD_MAX, sizeof(so_db_queued_t));
    }
    q = apr_array_push(db->ahead);
    memset(q, 0, sizeof(*q));
    q->label = label;
    q->values = values;
    q->nargs = nargs;
    q->p = db->pool;
}

/* Statements built at run time (list filters, IN batches) are prepared once per
 * connection and kept in the connection's statement hash under "#<sql>". SQLite keeps
 * every statement it prepared until the connection closes, so preparing per call would
 * grow without bound. PostgreSQL: named after a hash of their text, so that a list page
 * is parsed and planned once per connection instead of at every request (about 0.2 ms
 * per statement, seven statements per uncached page); past SO_DB_PG_ADHOC_MAX statements
 * on a connection (each holds a plan in its backend), the others run unnamed
 * (PQexecParams), as do those whose PREPARE fails. */
#define SO_DB_PG_ADHOC_MAX 64

/* the name of a statement built at run time, from its text */
static const char *adhoc_label(apr_pool_t *p, const char *sql)
{
    apr_uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    const unsigned char *c;
    for (c = (const unsigned char *)sql; *c; c++) {
        h = (h ^ *c) * 1099511628211ULL;
    }
    return apr_psprintf(p, "so_ah_%016" APR_UINT64_T_HEX_FMT, h);
}

/* *label: the statement's name on the connection, NULL when it runs unnamed */
static apr_status_t prepare_adhoc_pg(so_db_t *db, apr_pool_t *p, const char *sql,
                                     apr_dbd_prepared_t **stmt, const char **label)
{
    const char *key;
    int ret, named = 0;
    apr_hash_index_t *hi;

    *label = NULL;
    if (db->prepared) {
        key = apr_pstrcat(p, "#", sql, NULL);
        if ((*stmt = apr_hash_get(db->prepared, key, APR_HASH_KEY_STRING))) {
            *label = adhoc_label(p, sql);
            return APR_SUCCESS;
        }
        for (hi = apr_hash_first(p, db->prepared); hi && named < SO_DB_PG_ADHOC_MAX;
             hi = apr_hash_next(hi)) {
            const void *k;
            apr_hash_this(hi, &k, NULL, NULL);
            named += ((const char *)k)[0] == '#';
        }
        if (named < SO_DB_PG_ADHOC_MAX && !db->trans) {
            const char *name = adhoc_label(db->conn_pool, sql);
            ret = apr_dbd_prepare(db->driver, db->conn_pool, db->handle, sql, name, stmt);
            if (ret == 0) {
                apr_hash_set(db->prepared, apr_pstrdup(db->conn_pool, key), APR_HASH_KEY_STRING,
                             *stmt);
                *label = name;
                return APR_SUCCESS;
            }
            /* e.g. the name is taken (a statement this connection forgot): unnamed */
            *stmt = NULL;
        }
    }
    ret = apr_dbd_prepare(db->driver, p, db->handle, sql, NULL, stmt);
    return ret != 0 ? so_db_classify(db, ret, "preparing a statement") : APR_SUCCESS;
}

static apr_status_t prepare_adhoc(so_db_t *db, apr_pool_t *p, const char *sql, char *types,
                                  int *ntypes, apr_dbd_prepared_t **stmt, const char **label)
{
    const char *key = NULL;
    int ret;

    *label = NULL;
    *ntypes = so_db_sql_types(sql, types, SO_MAX_ARGS);
    if (*ntypes < 0) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00012) "unsupported placeholder in: %s",
                     sql);
        return SO_EDB;
    }
    *stmt = NULL;
    if (db->kind == SO_DB_PGSQL) {
        return prepare_adhoc_pg(db, p, sql, stmt, label);
    }
    key = apr_pstrcat(p, "#", sql, NULL);
    *stmt = db->prepared ? apr_hash_get(db->prepared, key, APR_HASH_KEY_STRING) : NULL;
    if (*stmt) {
        return APR_SUCCESS;
    }
    ret = apr_dbd_prepare(db->driver, db->conn_pool, db->handle, sql, NULL, stmt);
    if (ret != 0) {
        *stmt = NULL;
        return so_db_classify(db, ret, "preparing a statement");
    }
    if (db->prepared) {
        apr_hash_set(db->prepared, apr_pstrdup(db->conn_pool, key), APR_HASH_KEY_STRING, *stmt);
    }
    return APR_SUCCESS;
}

apr_status_t so_db_select_sql(so_db_t *db, apr_pool_t *p, const char *sql, so_rows_t **rows,
                              int nargs, const so_arg_t *args)
{
    char types[SO_MAX_ARGS];
    int n;
    apr_dbd_prepared_t *stmt;
    const char *label;
    apr_status_t rv = prepare_adhoc(db, p, sql, types, &n, &stmt, &label);
    if (rv != APR_SUCCESS || (rv = begin_now(db)) != APR_SUCCESS) {
        return rv;
    }
    return run_select(db, p, stmt, types, n, "query", rows, nargs, args);
}

#define IN_5 "%lld, %lld, %lld, %lld, %lld"
#define IN_20 IN_5 ", " IN_5 ", " IN_5 ", " IN_5
#define IN_60 IN_20 ", " IN_20 ", " IN_20
_Static_assert(SO_DB_IN_BATCH == 60, "IN_60 holds SO_DB_IN_BATCH placeholders");
_Static_assert(3 + SO_DB_IN_BATCH <= SO_MAX_ARGS, "a batch fits a statement");

/* Queue a statement of a batch when it can go in one (see so_db_batch_begin): 1 when it
 * was queued (*rv: APR_SUCCESS), 0 when it is to run now (*rv untouched), or an error. */
static int batch_queue(so_db_t *db, apr_pool_t *p, const char *sql, int nargs,
                       const so_arg_t *args, so_rows_cb *cb, void *baton, apr_status_t *rv)
{
    char types[SO_MAX_ARGS];
    int n;
    apr_dbd_prepared_t *stmt;
    const char *label;
    so_db_queued_t *q;
    const char **values;

    if (!db->batch || db->kind != SO_DB_PGSQL || db->trans) {
        return 0;
    }
    if ((*rv = prepare_adhoc(db, p, sql, types, &n, &stmt, &label)) != APR_SUCCESS) {
        return 1;
    }
    if (!label || n != nargs
        || so_db_pg_text_args(p, label, nargs, args, 0, &values) != APR_SUCCESS) {
        return 0; /* unnamed (or not for a pipeline): now, as usual */
    }
    q = apr_array_push(db->batch);
    q->label = label;
    q->sql = sql;
    q->args = apr_pmemdup(p, args, sizeof(*args) * (apr_size_t)nargs);
    q->values = values;
    q->nargs = nargs;
    q->cb = cb;
    q->baton = baton;
    q->p = p;
    q->rows = NULL;
    return 1;
}

/* so_db_select_in on PostgreSQL: "x IN (" ids ")" becomes "x = ANY(%s::bigint[])" with
 * every id in one array parameter: one statement for any number of ids, and bound and
 * run faster than a list of 60 parameters (measured with pgbench on a page's names:
 * 30,800 statements/s against 23,800) */
static apr_status_t select_any(so_db_t *db, apr_pool_t *p, const char *head, const char *tail,
                               int nfixed, so_arg_t *args, const apr_array_header_t *ids,
                               so_rows_cb *cb, void *baton)
{
    apr_size_t hl = strlen(head);
    char *list = apr_palloc(p, (apr_size_t)ids->nelts * 21 + 3), *at = list;
    const char *sql;
    int i;

    if (hl < 5 || strcmp(head + hl - 5, " IN (") != 0 || tail[0] != ')'
        || (hl >= 9 && strcasecmp(head + hl - 9, " NOT IN (") == 0)) {
        return APR_EINVAL; /* the contract of so_db_select_in */
    }
    sql = apr_pstrcat(p, apr_pstrndup(p, head, hl - 5), " = ANY(%s::bigint[])", tail + 1, NULL);
    *at++ = '{';
    for (i = 0; i < ids->nelts; i++) {
        at += apr_snprintf(at, 22, "%s%" APR_INT64_T_FMT, i ? "," : "",
                           APR_ARRAY_IDX(ids, i, apr_int64_t));
    }
    *at++ = '}';
    *at = '\0';
    args[nfixed] = so_arg_text(list);
    return so_db_select_sql_cb(db, p, sql, nfixed + 1, args, cb, baton);
}

apr_status_t so_db_select_in(so_db_t *db, apr_pool_t *p, const char *head, const char *tail,
                             int nfixed, const so_arg_t *fixed, const apr_array_header_t *ids,
                             so_rows_cb *cb, void *baton)
{
    so_arg_t args[3 + SO_DB_IN_BATCH];
    const char *sql;
    so_rows_t *rows;
    apr_status_t rv;
    int i, j;

    if (ids->nelts == 0) {
        return APR_SUCCESS;
    }
    if (nfixed < 0 || nfixed > 3) {
        return APR_EINVAL;
    }
    for (j = 0; j < nfixed; j++) {
        args[j] = fixed[j];
    }
    if (db->kind == SO_DB_PGSQL) {
        return select_any(db, p, head, tail, nfixed, args, ids, cb, baton);
    }
    sql = apr_pstrcat(p, head, IN_60, tail, NULL);
    for (i = 0; i < ids->nelts; i += SO_DB_IN_BATCH) {
        for (j = 0; j < SO_DB_IN_BATCH; j++) {
            int k = i + j < ids->nelts ? i + j : ids->nelts - 1;
            args[nfixed + j] = so_arg_int(APR_ARRAY_IDX(ids, k, apr_int64_t));
        }
        if (batch_queue(db, p, sql, nfixed + SO_DB_IN_BATCH, args, cb, baton, &rv)) {
            if (rv != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        rv = so_db_select_sql(db, p, sql, &rows, nfixed + SO_DB_IN_BATCH, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        cb(baton, p, rows);
    }
    return APR_SUCCESS;
}

static apr_status_t run_queued(so_db_t *db, so_db_queued_t *q)
{
    return so_db_select_sql(db, q->p, q->sql, &q->rows, q->nargs, q->args);
}

apr_status_t so_db_select_sql_cb(so_db_t *db, apr_pool_t *p, const char *sql, int nargs,
                                 const so_arg_t *args, so_rows_cb *cb, void *baton)
{
    so_rows_t *rows;
    apr_status_t rv;
    if (batch_queue(db, p, sql, nargs, args, cb, baton, &rv)) {
        return rv;
    }
    if ((rv = so_db_select_sql(db, p, sql, &rows, nargs, args)) == APR_SUCCESS) {
        cb(baton, p, rows);
    }
    return rv;
}

void so_db_batch_begin(so_db_t *db)
{
    if (!db->batch) {
        db->batch = apr_array_make(db->pool, 8, sizeof(so_db_queued_t));
    }
}

void so_db_batch_cancel(so_db_t *db)
{
    db->batch = NULL;
}

apr_status_t so_db_batch_run(so_db_t *db)
{
    apr_array_header_t *queued = db->batch;
    so_db_queued_t *q;
    apr_status_t rv = APR_SUCCESS;
    int i, at, n;

    db->batch = NULL;
    so_db_ahead_forget(db);
    if (!queued || queued->nelts == 0) {
        return APR_SUCCESS;
    }
    q = (so_db_queued_t *)queued->elts;
    /* in pipelines of at most SO_DB_BATCH_MAX (a CSV export of many orders queues many) */
    for (at = 0; at < queued->nelts && rv == APR_SUCCESS; at += n) {
        n = queued->nelts - at < SO_DB_BATCH_MAX ? queued->nelts - at : SO_DB_BATCH_MAX;
        rv = n > 1 ? so_db_pg_run_batch(db, q + at, n) : APR_ENOTIMPL;
        if (rv == APR_ENOTIMPL) {
            /* one statement (a pipeline saves nothing), or no pipeline: one by one */
            for (i = at, rv = APR_SUCCESS; i < at + n && rv == APR_SUCCESS; i++) {
                rv = run_queued(db, &q[i]);
            }
        }
        else {
            so_metrics_inc(SO_MC_DB_BATCHES);
            so_metrics_add(SO_MC_DB_BATCHED, (apr_uint64_t)n);
        }
    }
    for (i = 0; rv == APR_SUCCESS && i < queued->nelts; i++) {
        q[i].cb(q[i].baton, q[i].p, q[i].rows);
    }
    return rv;
}

apr_status_t so_db_exec_sql(so_db_t *db, apr_pool_t *p, const char *sql, int *nrows, int nargs,
                            const so_arg_t *args)
{
    char types[SO_MAX_ARGS];
    int n;
    apr_dbd_prepared_t *stmt;
    const char *label;
    apr_status_t rv;
    if (needs_own_trans(db)) {
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        return so_db_end(db, so_db_exec_sql(db, p, sql, nrows, nargs, args));
    }
    rv = prepare_adhoc(db, p, sql, types, &n, &stmt, &label);
    if (rv != APR_SUCCESS || (rv = begin_now(db)) != APR_SUCCESS) {
        return rv;
    }
    return run_exec(db, p, stmt, types, n, "statement", nrows, nargs, args);
}

apr_status_t so_db_raw(so_db_t *db, const char *sql)
{
    int n = 0, ret;
    apr_status_t rv = begin_now(db);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ret = apr_dbd_query(db->driver, db->handle, &n, sql);
    if (ret != 0) {
        return so_db_classify(db, ret, "raw statement");
    }
    return APR_SUCCESS;
}

apr_status_t so_db_raw_select(so_db_t *db, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int ret;
    apr_status_t rv = begin_now(db);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ret = apr_dbd_select(db->driver, db->pool, db->handle, &res, sql, 1);
    if (ret != 0) {
        return so_db_classify(db, ret, "raw query");
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        /* drain */
    }
    return APR_SUCCESS;
}

/* SQLite: a PRAGMA's value, the first column of its first row (-1: none) */
static apr_status_t pragma_value(so_db_t *db, const char *sql, const char *what, apr_int64_t *v)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int ret;

    *v = -1;
    ret = apr_dbd_select(db->driver, db->pool, db->handle, &res, sql, 1);
    if (ret != 0) {
        return so_db_classify(db, ret, what);
    }
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        const char *e = apr_dbd_get_entry(db->driver, row, 0);
        if (*v < 0 && e) {
            *v = apr_atoi64(e);
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_db_sqlite_mmap(so_db_t *db, apr_int64_t bytes, apr_int64_t *took)
{
    *took = -1;
    if (db->kind != SO_DB_SQLITE3) {
        return APR_ENOTIMPL;
    }
    /* (an integer of ours: no value of anyone else's in the text) */
    return pragma_value(db, apr_psprintf(db->pool, "PRAGMA mmap_size = %" APR_INT64_T_FMT, bytes),
                        "PRAGMA mmap_size", took);
}

apr_status_t so_db_sqlite_sync_normal(so_db_t *db, int *level)
{
    apr_int64_t v = -1;
    apr_status_t rv;

    *level = -1;
    if (db->kind != SO_DB_SQLITE3) {
        return APR_ENOTIMPL;
    }
    if ((rv = so_db_raw(db, "PRAGMA synchronous = NORMAL")) != APR_SUCCESS
        || (rv = pragma_value(db, "PRAGMA synchronous", "raw query", &v)) != APR_SUCCESS) {
        return rv;
    }
    *level = (int)v;
    return *level == 1 ? APR_SUCCESS : APR_EGENERAL;
}

/* ---------------------------------------------------------------------------
 * rows
 */

const char *so_cell(const so_rows_t *rows, int r, int c)
{
    const char *v;
    if (!rows || r < 0 || r >= rows->nrows || c < 0 || c >= rows->ncols) {
        return "";
    }
    v = rows->cells[r * rows->ncols + c];
    return v ? v : "";
}

int so_cell_isnull(const so_rows_t *rows, int r, int c)
{
    if (!rows || r < 0 || r >= rows->nrows || c < 0 || c >= rows->ncols) {
        return 1;
    }
    return rows->cells[r * rows->ncols + c] == NULL;
}

apr_int64_t so_cell_i64(const so_rows_t *rows, int r, int c)
{
    return apr_atoi64(so_cell(rows, r, c));
}

int so_cell_int(const so_rows_t *rows, int r, int c)
{
    return (int)so_cell_i64(rows, r, c);
}
