/* mod_sslorders: PostgreSQL's pipeline mode, on the connection apr_dbd holds (libpq): a
 * transaction's last statement and its COMMIT in one round trip (so_db_select_commit), its
 * BEGIN and the changes queued by so_db_exec_later with its next statement.
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
#include "../core/so_metrics.h"

apr_status_t so_db_pg_text_args(apr_pool_t *p, const char *label, int nargs,
                                const so_arg_t *args, int copy, const char ***out)
{
    const char **v = apr_pcalloc(p, sizeof(*v) * (apr_size_t)(nargs + 1));
    int i;
    for (i = 0; i < nargs; i++) {
        switch (args[i].kind) {
        case SO_ARG_INT:
            v[i] = apr_psprintf(p, "%" APR_INT64_T_FMT, args[i].v.i);
            break;
        case SO_ARG_TEXT:
            v[i] = copy && args[i].v.s ? apr_pstrdup(p, args[i].v.s) : args[i].v.s;
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
    return so_db_pg_text_args(p, info->label, nargs, args, 0, out);
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
    int begin_at;         /* BEGIN's result (-1: not sent) */
    int stmt_at;          /* the statement's (-1: none) */
    int commit_at;        /* COMMIT's (-1: not sent) */
    so_rows_t *rows;      /* the statement's (none for a statement that returns no rows) */
    int nrows;            /* rows the statement returned or changed */
    int ran;              /* the statement succeeded */
    int begun;            /* the BEGIN (when sent) succeeded */
    int ended;            /* the COMMIT (when sent) ran: the transaction is over */
    int committed;        /* ... and it committed (an aborted one's COMMIT answers ROLLBACK) */
    const char *error;    /* the first failed or unexpected result's message */
    const char *sqlstate; /* and its SQLSTATE ("" when it has none) */
    int error_at;         /* and which result it was */
    const char *failed;   /* the statement of that result (pipe_round), NULL: unknown */
    int results;          /* results read before the sync */
} pipe_out_t;

/* Read a pipeline's results up to its sync: [BEGIN's,] the queued changes', [the
 * statement's,] [COMMIT's]. A result that is not a success where one is due (an error, or
 * one aborted by an earlier error) keeps the first message. SO_EDBDOWN when the
 * connection broke before the sync. */
static apr_status_t read_pipeline(PGconn *conn, apr_pool_t *p, pipe_out_t *o)
{
    for (;;) {
        PGresult *r = PQgetResult(conn);
        ExecStatusType st;
        int k = o->results;
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
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            if (k == o->begin_at) {
                o->begun = 1;
            }
            else if (k == o->stmt_at) {
                if (st == PGRES_TUPLES_OK) {
                    o->rows = copy_rows(p, r);
                }
                o->nrows = atoi(PQcmdTuples(r));
                o->ran = 1;
            }
            else if (k == o->commit_at) {
                o->ended = 1;
                o->committed = !strcmp(PQcmdStatus(r), "COMMIT");
                if (!o->committed && !o->error) {
                    o->error = apr_psprintf(p, "COMMIT answered %s", PQcmdStatus(r));
                    o->sqlstate = "";
                    o->error_at = k;
                }
            }
        }
        else if (!o->error) {
            const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *m = PQresultErrorMessage(r);
            o->error = apr_pstrdup(p, m && *m ? m : PQresStatus(st));
            o->sqlstate = apr_pstrdup(p, s ? s : "");
            o->error_at = k;
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

/* the changes queued by so_db_exec_later and not sent yet */
static int later_n(const so_db_t *db)
{
    return db->later ? db->later->nelts : 0;
}

/* One round trip: [BEGIN, when the transaction's was not sent,] the queued changes, [the
 * statement label (prepared on this connection), when given,] [COMMIT, when commit]. The
 * queue is emptied (its changes went, or failed with the transaction). *o: what came
 * back; SO_EDBDOWN when it could not be sent or read (the connection was reset).
 * db->pg_begun tells, after it, whether our transaction is open on the server. */
static apr_status_t pipe_round(so_db_t *db, PGconn *conn, apr_pool_t *p, const char *label,
                               int nargs, const char **values, int commit, pipe_out_t *o)
{
    so_db_queued_t *q = db->later ? (so_db_queued_t *)db->later->elts : NULL;
    int i, n = later_n(db), k = 0, sent;
    apr_status_t rv = APR_SUCCESS;
    const char *left;

    memset(o, 0, sizeof(*o));
    o->begin_at = o->stmt_at = o->commit_at = -1;
    if (db->later) {
        db->later->nelts = 0;
    }
    sent = PQenterPipelineMode(conn) == 1;
    if (sent && !db->pg_begun) {
        o->begin_at = k++;
        sent = PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1;
    }
    for (i = 0; sent && i < n; i++, k++) {
        sent = PQsendQueryPrepared(conn, q[i].label, q[i].nargs, q[i].values, NULL, NULL, 0) == 1;
    }
    if (sent && label) {
        o->stmt_at = k++;
        sent = PQsendQueryPrepared(conn, label, nargs, values, NULL, NULL, 0) == 1;
    }
    if (sent && commit) {
        o->commit_at = k++;
        sent = PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1;
    }
    if (!sent || PQpipelineSync(conn) != 1 || read_pipeline(conn, p, o) != APR_SUCCESS) {
        rv = SO_EDBDOWN;
        o->error = apr_pstrdup(p, PQerrorMessage(conn));
    }
    if ((left = pipeline_leave(db, conn, p, rv == APR_SUCCESS ? NULL : o->error))
        && rv == APR_SUCCESS) {
        rv = SO_EDBDOWN;
        o->error = left;
    }
    if (rv == APR_SUCCESS && !o->error && o->results != k) {
        o->error = apr_psprintf(p, "%d results for %d statements", o->results, k);
    }
    else if (rv == APR_SUCCESS && o->error) {
        /* the statement that failed (those after it were not run) */
        int first = o->begin_at + 1; /* the queue's first (0 when no BEGIN went) */
        o->failed = o->error_at == o->begin_at   ? "BEGIN"
                    : o->error_at == o->stmt_at   ? label
                    : o->error_at == o->commit_at ? "COMMIT"
                    : o->error_at - first < n     ? q[o->error_at - first].label
                                                  : NULL;
    }
    /* (a connection reset ended it on the server: the ROLLBACK that follows fails, which
     * so_db_pg_end takes as ended) */
    db->pg_begun = (db->pg_begun || o->begun || rv != APR_SUCCESS) && !o->ended;
    return rv;
}

/* the error of a round trip, classified (what: the statement's label, when the failed
 * statement is not known) */
static apr_status_t pipe_error(so_db_t *db, const pipe_out_t *o, const char *what)
{
    apr_status_t rv;
    what = o->failed ? o->failed : what;
    if (o->sqlstate && !strcmp(o->sqlstate, SO_DB_REFUSED_SQLSTATE)) {
        if (db->trans) {
            db->trans_failed = 1;
        }
        return SO_EDBREFUSED;
    }
    rv = so_db_classify_msg(db, o->error ? o->error : "the pipeline ended early", what);
    return rv == APR_SUCCESS ? SO_EDB : rv;
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
    /* [BEGIN,] [the queued changes,] the statement, COMMIT. The transaction is ours
     * (so_db_begin): nothing follows. */
    rv = pipe_round(db, conn, p, label, nargs, values, 1, &o);
    if (rv == APR_SUCCESS && !o.error && o.committed && o.rows) {
        if (o.rows->ncols != info->ncols) {
            so_log_error(SO_LOG_MARK, SO_EDB,
                         SOLOGNO(00984) "%s: the rows have %d columns, its readers take %d", label,
                         o.rows->ncols, info->ncols);
        }
        *rows = o.rows;
        return so_db_commit_end(db);
    }
    /* a statement failed (COMMIT did not run: the transaction is aborted), or the COMMIT
     * did (the transaction is gone), or the connection */
    rv = pipe_error(db, &o, apr_pstrcat(p, label, " and COMMIT", NULL));
    db->trans_failed = 1;
    so_db_commit_end(db);
    return rv;
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

int so_db_pg_due(const so_db_t *db)
{
    return db->kind == SO_DB_PGSQL && db->trans && (!db->pg_begun || later_n(db));
}

apr_status_t so_db_pg_flush(so_db_t *db)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    PGresult *r;
    pipe_out_t o;
    apr_status_t rv = APR_SUCCESS;

    if (!so_db_pg_due(db)) {
        return APR_SUCCESS;
    }
    if (!conn || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        if (db->later) {
            db->later->nelts = 0; /* (lost with the transaction, which fails) */
        }
        return so_db_classify_msg(db, "connection not open", "starting a transaction");
    }
    if (later_n(db)) {
        rv = pipe_round(db, conn, db->pool, NULL, 0, NULL, 0, &o);
        return rv == APR_SUCCESS && !o.error ? APR_SUCCESS : pipe_error(db, &o, "queued changes");
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

int so_db_pg_with(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                  const so_arg_t *args, so_rows_t **rows, int *nrows, apr_status_t *rv)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    const char **values;
    pipe_out_t o;

    if (has_blob(nargs, args) || nargs != info->nargs || !conn
        || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF
        || text_values(p, info, nargs, args, &values) != APR_SUCCESS) {
        /* not in a pipeline: what is due on its own, then the statement as usual */
        *rv = so_db_pg_flush(db);
        return *rv != APR_SUCCESS;
    }
    *rv = pipe_round(db, conn, p, info->label, nargs, values, 0, &o);
    if (*rv == APR_SUCCESS && !o.error && o.ran) {
        if (rows) {
            *rows = o.rows ? o.rows : copy_rows(p, NULL);
        }
        if (nrows) {
            *nrows = o.nrows;
        }
        return 1;
    }
    *rv = pipe_error(db, &o, info->label);
    return 1;
}

apr_status_t so_db_pg_end(so_db_t *db, int commit)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    PGresult *r;
    pipe_out_t o;
    const char *err = NULL;

    if (!commit && db->later) {
        db->later->nelts = 0; /* never sent: nothing to undo */
    }
    if (!db->pg_begun && !later_n(db)) {
        return APR_SUCCESS; /* nothing was sent: nothing to end */
    }
    if (!conn || PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
        db->pg_begun = 0;
        if (db->later) {
            db->later->nelts = 0;
        }
        return commit ? SO_EDBDOWN : APR_SUCCESS;
    }
    if (later_n(db)) {
        /* the queued changes and the COMMIT in one round trip */
        if (pipe_round(db, conn, db->pool, NULL, 0, NULL, 1, &o) == APR_SUCCESS && !o.error
            && o.committed) {
            return APR_SUCCESS;
        }
        if (db->pg_begun) {
            so_db_pg_end(db, 0); /* a change failed: the transaction is still open */
        }
        return pipe_error(db, &o, "committing");
    }
    db->pg_begun = 0;
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

/* The results of n queued selects up to the pipeline's sync: each one's rows into it (in
 * its pool p, or db->pool), the first failure's message in *error (and its statement in
 * *at). Returns how many results came. */
static int read_rows_of(so_db_t *db, PGconn *conn, so_db_queued_t *q, int n, const char **error,
                        const char **at)
{
    int k = 0;
    for (;;) {
        PGresult *r = PQgetResult(conn);
        ExecStatusType st;
        if (!r) {
            if (PQstatus(conn) != CONNECTION_OK) {
                *error = *error ? *error : apr_pstrdup(db->pool, PQerrorMessage(conn));
                return k;
            }
            continue; /* the end of one statement's results */
        }
        st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return k;
        }
        if (st == PGRES_TUPLES_OK && k < n) {
            q[k].rows = copy_rows(q[k].p ? q[k].p : db->pool, r);
        }
        else if (!*error) {
            const char *m = PQresultErrorMessage(r);
            *error = apr_pstrdup(db->pool, m && *m ? m : PQresStatus(st));
            *at = k < n ? q[k].label : "a batch";
        }
        k++;
        PQclear(r);
    }
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
    if (synced) {
        k = read_rows_of(db, conn, q, n, &error, &at);
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

/* ---- reads ahead (so_db_ahead) --------------------------------------------------------- */

void so_db_ahead_forget(so_db_t *db)
{
    if (db->ahead && db->ahead_sent) {
        db->ahead->nelts = 0;
        db->ahead_sent = 0;
    }
}

/* whether a queued read is label with these values */
static int same_read(const so_db_queued_t *q, const char *label, int nargs, const char **values)
{
    int i;
    if (strcmp(q->label, label) || q->nargs != nargs) {
        return 0;
    }
    for (i = 0; i < nargs; i++) {
        if ((q->values[i] == NULL) != (values[i] == NULL)
            || (values[i] && strcmp(q->values[i], values[i]))) {
            return 0;
        }
    }
    return 1;
}

int so_db_pg_ahead_take(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                        const so_arg_t *args, so_rows_t **rows)
{
    so_db_queued_t *q = (so_db_queued_t *)db->ahead->elts;
    const char **values;
    int i, j, n = db->ahead->nelts;

    if (has_blob(nargs, args) || nargs != info->nargs
        || so_db_pg_text_args(p, info->label, nargs, args, 0, &values) != APR_SUCCESS) {
        so_db_ahead_forget(db);
        return 0;
    }
    if (!db->ahead_sent) {
        /* this one runs now, not ahead */
        for (i = j = 0; i < n; i++) {
            if (!same_read(&q[i], info->label, nargs, values)) {
                q[j++] = q[i];
            }
        }
        db->ahead->nelts = j;
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (q[i].rows && same_read(&q[i], info->label, nargs, values)) {
            *rows = q[i].rows;
            q[i].rows = NULL; /* taken once; the others stay while reads follow */
            so_metrics_inc(SO_MC_DB_AHEAD_TAKEN);
            return 1;
        }
    }
    so_db_ahead_forget(db);
    return 0;
}

int so_db_pg_select_ahead(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                          const so_arg_t *args, so_rows_t **rows, apr_status_t *rv)
{
    PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
    so_db_queued_t *q = (so_db_queued_t *)db->ahead->elts;
    int i, n = db->ahead->nelts, sent;
    const char **values, *error = NULL, *at = NULL, *left;
    pipe_out_t o;

    if (db->trans || db->ahead_sent || !n || has_blob(nargs, args) || nargs != info->nargs
        || !conn || PQstatus(conn) != CONNECTION_OK
        || PQpipelineStatus(conn) != PQ_PIPELINE_OFF
        || text_values(p, info, nargs, args, &values) != APR_SUCCESS
        || PQenterPipelineMode(conn) != 1) {
        db->ahead->nelts = 0;
        db->ahead_sent = 0;
        return 0;
    }
    /* the statement, a sync (it commits on its own), the reads, a sync */
    memset(&o, 0, sizeof(o));
    o.begin_at = o.commit_at = -1;
    o.stmt_at = 0;
    sent = PQsendQueryPrepared(conn, info->label, nargs, values, NULL, NULL, 0) == 1
           && PQpipelineSync(conn) == 1;
    for (i = 0; sent && i < n; i++) {
        q[i].rows = NULL;
        sent = PQsendQueryPrepared(conn, q[i].label, q[i].nargs, q[i].values, NULL, NULL, 0) == 1;
    }
    sent = sent && PQpipelineSync(conn) == 1;
    db->ahead_sent = 1;
    so_metrics_add(SO_MC_DB_AHEAD_SENT, n);
    if (!sent || read_pipeline(conn, p, &o) != APR_SUCCESS) {
        o.error = apr_pstrdup(p, PQerrorMessage(conn));
        *rv = SO_EDBDOWN;
    }
    else {
        *rv = APR_SUCCESS;
        read_rows_of(db, conn, q, n, &error, &at); /* (a read that failed runs again) */
    }
    if ((left = pipeline_leave(db, conn, p, *rv == APR_SUCCESS ? NULL : o.error))) {
        for (i = 0; i < n; i++) {
            q[i].rows = NULL; /* (the connection was reset: what came may be incomplete) */
        }
        if (*rv == APR_SUCCESS && !o.ran) {
            *rv = SO_EDBDOWN;
            o.error = left;
        }
    }
    if (*rv == APR_SUCCESS && o.ran && !o.error) {
        *rows = o.rows ? o.rows : copy_rows(p, NULL);
        return 1;
    }
    *rv = pipe_error(db, &o, info->label);
    return 1;
}
