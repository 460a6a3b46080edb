/* mod_sslorders: PostgreSQL's pipeline mode, on the connection apr_dbd holds (libpq): a
 * transaction's last statement and its COMMIT in one round trip (so_db_select_commit).
 * apr_dbd runs one statement per round trip: a row a transaction locks last (a team's
 * balance) stayed locked while its result went to httpd and the COMMIT came back, and
 * under load that wait, not the work, bounded how fast one team's orders went. */
#include <string.h>

#include <apr_strings.h>
#include <libpq-fe.h>

#include "so_db.h"
#include "so_db_int.h"
#include "../core/so_log.h"

/* The arguments as libpq sends them: text, NULL for SQL NULL (no blobs here). */
static apr_status_t text_values(apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                                const so_arg_t *args, const char ***out)
{
    const char **v;
    int i;
    if (nargs != info->nargs) {
        so_log_error(SO_LOG_MARK, APR_EINVAL, SOLOGNO(00982) "%s: %d arguments given, %d expected",
                     info->label, nargs, info->nargs);
        return SO_EDB;
    }
    v = apr_pcalloc(p, sizeof(*v) * (apr_size_t)(nargs + 1));
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
                         SOLOGNO(00983) "%s: argument %d is a blob (not in a pipeline)",
                         info->label, i + 1);
            return SO_EDB;
        }
    }
    *out = v;
    return APR_SUCCESS;
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
    so_rows_t *rows;      /* the statement's */
    const char *error;    /* the first error's message */
    const char *sqlstate; /* and its SQLSTATE */
    int results;          /* results read before the sync (3 when all ran) */
    int committed;        /* the COMMIT's result was COMMAND_OK */
} pipe_out_t;

/* Read the pipeline's results up to its sync: the statement's, COMMIT's, BEGIN's. */
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
        if (st == PGRES_TUPLES_OK && o->results == 0) {
            o->rows = copy_rows(p, r);
        }
        else if (st == PGRES_COMMAND_OK && o->results == 1) {
            o->committed = 1;
        }
        else if (st == PGRES_FATAL_ERROR && !o->error) {
            const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            o->error = apr_pstrdup(p, PQresultErrorMessage(r));
            o->sqlstate = apr_pstrdup(p, s ? s : "");
        }
        o->results++;
        PQclear(r);
    }
}

apr_status_t so_db_select_commit(so_db_t *db, apr_pool_t *p, const char *label, so_rows_t **rows,
                                 int nargs, const so_arg_t *args)
{
    PGconn *conn;
    so_stmt_info_t *info;
    apr_dbd_prepared_t *stmt;
    const char **values;
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
    /* the statement; COMMIT; and a BEGIN that apr_dbd's transaction then ends (it sends
     * its COMMIT in any case: an empty transaction's, after the locks went) */
    if (PQenterPipelineMode(conn) != 1) {
        rv = SO_EDBDOWN;
        o.error = apr_pstrdup(p, PQerrorMessage(conn));
    }
    else if (PQsendQueryPrepared(conn, label, nargs, values, NULL, NULL, 0) != 1
        || PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1
        || PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1
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
    if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF && PQexitPipelineMode(conn) != 1) {
        /* results left unread (the connection broke in the middle): apr_dbd cannot run a
         * statement on it in pipeline mode; a new session (and statements prepared again,
         * so_db_repair) is the way out */
        if (rv == APR_SUCCESS) {
            rv = SO_EDBDOWN;
            o.error = apr_pstrdup(p, PQerrorMessage(conn));
        }
        PQreset(conn);
        db->broken = 1;
    }
    if (rv == APR_SUCCESS && o.committed && o.rows) {
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
