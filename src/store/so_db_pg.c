/* mod_sslorders: PostgreSQL's pipeline mode, on the connection apr_dbd holds (libpq): a
 * transaction's last statement and its COMMIT in one round trip (so_db_select_commit).
 * apr_dbd runs one statement per round trip: a row a transaction locks last (a team's
 * balance) stayed locked while its result went to httpd and the COMMIT came back, and
 * under load that wait, not the work, bounded how fast one team's orders went. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "so_db.h"
#include "so_db_int.h"
#include "../core/so_log.h"

apr_status_t so_db_pg_text_args(apr_pool_t *p, const char *label, int nargs,
                                const so_arg_t *args, const char ***out)
{
    const char **v = apr_pcalloc(p, sizeof(*v) * (apr_size_t)(nargs + 1));
    int i;
    for (i = 0; i < nargs; i++) {
        switch (args[i].kind) {
        case SO_ARG_INT:
            v[i] = apr_psprintf(p, "%" APR_INT64_T_FMT, args[i].v.i);
            break;
        case SO_ARG_TEXT:
            v[i] = args[i].v.s;
            break;
        case SO_ARG_NULL:
            v[i] = NULL;
            break;
        case SO_ARG_BLOB:
            so_log_error(SO_LOG_MARK, APR_EINVAL,
                         SOLOGNO(00983) "%s: argument %d is a blob (not in a pipeline)", label,
                         i + 1);
            return SO_EDB;
        }
    }
    *out = v;
    return APR_SUCCESS;
}

/* The arguments of a registered statement as libpq sends them. */
static apr_status_t text_values(apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                                const so_arg_t *args, const char ***out)
{
    if (nargs != info->nargs) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00982) "%s: %d arguments given, %d expected",
                     info->label, nargs, info->nargs);
        return SO_EDB;
    }
    return so_db_pg_text_args(p, info->label, nargs, args, out);
}

/* the rows of a PGRES_TUPLES_OK result, copied into p */
static so_rows_t *copy_rows(apr_pool_t *p, PGresult *r)
{
    so_rows_t *rows = apr_pcalloc(p, sizeof(*rows));
    int i, c;
    rows->nrows = PQntuples(r);
    rows->ncols = PQnfields(r);
    rows->cells = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(rows->nrows * rows->ncols + 1));
    for (i = 0; i < rows->nrows; i++) {
        for (c = 0; c < rows->ncols; c++) {
            rows->cells[i * rows->ncols + c] =
                PQgetisnull(r, i, c) ? NULL : apr_pstrdup(p, PQgetvalue(r, i, c));
        }
    }
    return rows;
}

typedef struct {
    int stmt_at;          /* the statement's result (1 after a BEGIN, else 0) */
    so_rows_t *rows;      /* the statement's (none for a statement that returns no rows) */
    int nrows;            /* rows the statement returned or changed */
    int ran;              /* the statement succeeded */
    int begun;            /* the BEGIN before it (when sent) succeeded */
    int committed;        /* the COMMIT after it (when sent) succeeded */
    const char *error;    /* the first failed or unexpected result's message */
    const char *sqlstate; /* and its SQLSTATE ("" when it has none) */
    int results;          /* results read before the sync */
} pipe_out_t;

/* Read a pipeline's results up to its sync: [BEGIN's,] the statement's[, COMMIT's]. A
 * result that is not a success where one is due (an error, or one aborted by an earlier
 * error) keeps the first message. SO_EDBDOWN when the connection broke before the sync. */
static apr_status_t read_pipeline(PGconn *conn, apr_pool_t *p, pipe_out_t *o)
{
    for (;;) {
        PGresult *r = PQgetResult(conn);
        ExecStatusType st;
        if (!r) {
            if (PQstatus(conn) != CONNECTION_OK) {
                return SO_EDBDOWN;
            }
            continue; /* the end of one command's results */
        }
        st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return APR_SUCCESS;
        }
        if (o->results < o->stmt_at && st == PGRES_COMMAND_OK) {
            o->begun = 1;
        }
        else if (o->results == o->stmt_at && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
            if (st == PGRES_TUPLES_OK) {
                o->rows = copy_rows(p, r);
            }
            o->nrows = atoi(PQcmdTuples(r));
            o->ran = 1;
        }
        else if (o->results == o->stmt_at + 1 && st == PGRES_COMMAND_OK) {
            o->committed = 1;
        }
        else if (!o->error) {
            const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *m = PQresultErrorMessage(r);
            o->error = apr_pstrdup(p, m && *m ? m : PQresStatus(st));
            o->sqlstate = apr_pstrdup(p, s ? s : "");
        }
        o->results++;
        PQclear(r);
    }
}

/* Leave pipeline mode. Results left unread (the connection broke in the middle): apr_dbd
 * cannot run a statement on it in pipeline mode, so a new session (and statements prepared
 * again, so_db_repair) is the way out. Returns the error to report then (the one given,
 * else libpq's), NULL when the pipeline ended cleanly. */
static const char *pipeline_leave(so_db_t *db, PGconn *conn, apr_pool_t *p, const char *error)
{
    if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF || PQexitPipelineMode(conn) == 1) {
        return NULL;
    }
    error = error ? error : apr_pstrdup(p, PQerrorMessage(conn));
    PQreset(conn);
    db->broken = 1;
    return error;
}

apr_status_t so_db_select_commit(so_db_t *db, apr_pool_t *p, const char *label, so_rows_t **rows,
                                 int nargs, const so_arg_t *args)
{
    PGconn *conn;
    so_stmt_info_t *info;
    apr_dbd_prepared_t *stmt;
    const char **values, *left;
    pipe_out_t o;
    apr_status_t rv;

    if (db->kind != SO_DB_PGSQL) {
        return APR_ENOTIMPL;
    }
    if (!db->trans || db->trans_failed) {
        return SO_EDB;
    }
    conn = apr_dbd_native_handle(db->driver, db->handle);
    if (!conn || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        return APR_ENOTIMPL; /* (nothing sent: the caller commits as usual) */
    }
    /* prepared on this connection (apr_dbd names it by its label) */
    if ((rv = so_db_lookup(db, label, &info, &stmt)) != APR_SUCCESS
        || (rv = text_values(p, info, nargs, args, &values)) != APR_SUCCESS) {
        /* ended here, as promised: left open, the request pool's cleanup would commit the
         * transaction without this statement */
        so_db_rollback(db);
        return rv;
    }
    if ((rv = so_db_commit_begin(db)) != APR_SUCCESS) {
        return rv; /* (a failed hook rolled it back) */
    }
    memset(&o, 0, sizeof(o));
    /* [BEGIN, when the transaction ran nothing yet;] the statement; COMMIT. The transaction
     * is ours (so_db_begin): nothing follows. */
    o.stmt_at = !db->pg_begun;
    if (PQenterPipelineMode(conn) != 1) {
        rv = SO_EDBDOWN;
        o.error = apr_pstrdup(p, PQerrorMessage(conn));
    }
    else if ((o.stmt_at && PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1)
        || PQsendQueryPrepared(conn, label, nargs, values, NULL, NULL, 0) != 1
        || PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1
        || PQpipelineSync(conn) != 1) {
        rv = SO_EDBDOWN;
        o.error = apr_pstrdup(p, PQerrorMessage(conn));
    }
    else {
        rv = read_pipeline(conn, p, &o);
        if (rv != APR_SUCCESS) {
            o.error = apr_pstrdup(p, PQerrorMessage(conn));
        }
    }
    if ((left = pipeline_leave(db, conn, p, rv == APR_SUCCESS ? NULL : o.error))
        && rv == APR_SUCCESS) {
        rv = SO_EDBDOWN;
        o.error = left;
    }
    /* sent: a ROLLBACK may be due (the statement failed), the COMMIT ended it (below) */
    db->pg_begun = 1;
    if (rv == APR_SUCCESS && o.committed && o.rows) {
        db->pg_begun = 0; /* ended by its COMMIT: so_db_commit_end sends nothing */
        if (o.rows->ncols != info->ncols) {
            so_log_error(SO_LOG_MARK, SO_EDB,
                         SOLOGNO(00984) "%s: the rows have %d columns, its readers take %d", label,
                         o.rows->ncols, info->ncols);
        }
        *rows = o.rows;
        return so_db_commit_end(db);
    }
    /* the statement failed (COMMIT and BEGIN did not run: the transaction is aborted), or
     * the COMMIT did (the transaction is gone), or the connection */
    if (o.sqlstate && !strcmp(o.sqlstate, SO_DB_REFUSED_SQLSTATE)) {
        db->trans_failed = 1;
        so_db_commit_end(db);
        return SO_EDBREFUSED;
    }
    rv = so_db_classify_msg(db, o.error ? o.error : "the pipeline ended early",
                            apr_pstrcat(p, label, " and COMMIT", NULL));
    db->trans_failed = 1;
    so_db_commit_end(db);
    return rv == APR_SUCCESS ? SO_EDB : rv;
}

/* ---- transactions of our own (PostgreSQL) -------------------------------------------- */

/* libpq's message of a failed result (or of the connection), copied into p */
static const char *pg_error(apr_pool_t *p, PGconn *conn, PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    return apr_pstrdup(p, m && *m ? m : PQerrorMessage(conn));
}

static int has_blob(int nargs, const so_arg_t *args)
{
    int i;
    for (i = 0; i < nargs; i++) {
        if (args[i].kind == SO_ARG_BLOB) {
            return 1;
        }
    }
    return 0;
}

apr_status_t so_db_pg_begin_now(so_db_t *db)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    PGresult *r;
    apr_status_t rv = APR_SUCCESS;

    if (!conn || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        return so_db_classify_msg(db, "connection not open", "starting a transaction");
    }
    r = PQexec(conn, "BEGIN");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        rv = so_db_classify_msg(db, pg_error(db->pool, conn, r), "starting a transaction");
    }
    else {
        db->pg_begun = 1;
    }
    PQclear(r);
    return rv;
}

int so_db_pg_begin_with(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                        const so_arg_t *args, so_rows_t **rows, int *nrows, apr_status_t *rv)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    const char **values, *left;
    pipe_out_t o;

    if (has_blob(nargs, args) || nargs != info->nargs || !conn
        || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF
        || text_values(p, info, nargs, args, &values) != APR_SUCCESS) {
        /* not in a pipeline: BEGIN on its own, then the statement as usual */
        *rv = so_db_pg_begin_now(db);
        return *rv != APR_SUCCESS;
    }
    memset(&o, 0, sizeof(o));
    o.stmt_at = 1;
    if (PQenterPipelineMode(conn) != 1
        || PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1
        || PQsendQueryPrepared(conn, info->label, nargs, values, NULL, NULL, 0) != 1
        || PQpipelineSync(conn) != 1 || read_pipeline(conn, p, &o) != APR_SUCCESS) {
        o.error = o.error ? o.error : apr_pstrdup(p, PQerrorMessage(conn));
    }
    if ((left = pipeline_leave(db, conn, p, o.error))) {
        o.error = left;
        o.begun = 0;
    }
    db->pg_begun = o.begun;
    if (o.begun && o.ran && !o.error) {
        if (rows) {
            *rows = o.rows ? o.rows : copy_rows(p, NULL);
        }
        if (nrows) {
            *nrows = o.nrows;
        }
        if (!db->trans) {
            db->committed = 1;
        }
        *rv = APR_SUCCESS;
        return 1;
    }
    *rv = so_db_classify_msg(db, o.error ? o.error : "the pipeline ended early", info->label);
    if (*rv == APR_SUCCESS) {
        *rv = SO_EDB;
    }
    return 1;
}

apr_status_t so_db_pg_end(so_db_t *db, int commit)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    PGresult *r;
    const char *err = NULL;

    if (!db->pg_begun) {
        return APR_SUCCESS; /* nothing was sent: nothing to end */
    }
    db->pg_begun = 0;
    if (!conn || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        return commit ? SO_EDBDOWN : APR_SUCCESS;
    }
    r = PQexec(conn, commit ? "COMMIT" : "ROLLBACK");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        err = pg_error(db->pool, conn, r);
    }
    else if (commit && strcmp(PQcmdStatus(r), "COMMIT")) {
        /* an aborted transaction's COMMIT answers ROLLBACK */
        err = apr_psprintf(db->pool, "COMMIT answered %s", PQcmdStatus(r));
    }
    PQclear(r);
    if (!err) {
        return APR_SUCCESS;
    }
    if (!commit) {
        return APR_SUCCESS; /* (a rollback that failed: the session ends the transaction) */
    }
    return so_db_classify_msg(db, err, "committing");
}

apr_status_t so_db_pg_run_batch(so_db_t *db, so_db_queued_t *q, int n)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    const char *error = NULL, *at = NULL, *left;
    int i, k = 0, sent = 1, synced;

    if (!conn || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF
        || PQenterPipelineMode(conn) != 1) {
        return APR_ENOTIMPL; /* (nothing sent: they run one by one) */
    }
    for (i = 0; i < n && sent; i++) {
        sent = PQsendQueryPrepared(conn, q[i].label, q[i].nargs, q[i].values, NULL, NULL, 0) == 1;
    }
    synced = sent && PQpipelineSync(conn) == 1;
    if (!synced) {
        error = apr_pstrdup(db->pool, PQerrorMessage(conn));
    }
    /* each statement's result (then a NULL), up to the sync */
    while (synced) {
        PGresult *r = PQgetResult(conn);
        ExecStatusType st;
        if (!r) {
            if (PQstatus(conn) != CONNECTION_OK) {
                error = error ? error : apr_pstrdup(db->pool, PQerrorMessage(conn));
                break;
            }
            continue;
        }
        st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_TUPLES_OK && k < n) {
            q[k].rows = copy_rows(q[k].p, r);
        }
        else if (!error) {
            const char *m = PQresultErrorMessage(r);
            error = apr_pstrdup(db->pool, m && *m ? m : PQresStatus(st));
            at = k < n ? q[k].label : "a batch";
        }
        k++;
        PQclear(r);
    }
    if ((left = pipeline_leave(db, conn, db->pool, error))) {
        error = left;
    }
    if (!error && k != n) {
        error = apr_psprintf(db->pool, "%d results for %d statements", k, n);
    }
    if (error) {
        apr_status_t rv = so_db_classify_msg(db, error, at ? at : "a batch of statements");
        return rv == APR_SUCCESS ? SO_EDB : rv;
    }
    return APR_SUCCESS;
}
