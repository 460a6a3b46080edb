/* mod_sslorders: what so_db.c and so_db_exec.c share (not for other files). */
#ifndef SO_DB_INT_H
#define SO_DB_INT_H

#include "so_db.h"

#define SO_MAX_ARGS 64

/* A registered statement and its placeholder types. */
typedef struct {
    const char *label;
    const char *sql;
    int nargs;
    int ncols; /* the columns its rows have (0: none) */
    int pg_only; /* PostgreSQL alone ("{{PGSQL}}" before its SQL): not prepared on SQLite */
    char types[SO_MAX_ARGS]; /* 's' string, 'd' int, 'l' int64, 'b' blob */
} so_stmt_info_t;

/* The placeholder types of sql, as apr_dbd_prepare() reads them (-1: one we do not use). */
int so_db_sql_types(const char *sql, char *types, int max);
/* The columns of the rows sql returns, counted in its text: the list after the top-level
 * SELECT (up to its FROM), or after RETURNING for INSERT, UPDATE and DELETE; 0 for a
 * statement that returns none. */
int so_db_sql_ncols(const char *sql);
/* Turn a driver error into one of our codes; repair the connection where we can. */
apr_status_t so_db_classify(so_db_t *db, int ret, const char *what);
/* The same for an error's message (libpq's, in so_db_pg.c). */
apr_status_t so_db_classify_msg(so_db_t *db, const char *msg, const char *what);
/* so_db_commit in two halves: the commit hook's rows (SO_DB_HOOK_BEFORE), then COMMIT (a
 * ROLLBACK when a statement failed) and the hook's outcome. */
apr_status_t so_db_commit_begin(so_db_t *db);
apr_status_t so_db_commit_end(so_db_t *db);
/* The registered statement label and its prepared form on this connection (prepared on
 * first use). */
apr_status_t so_db_lookup(so_db_t *db, const char *label, so_stmt_info_t **info,
                          apr_dbd_prepared_t **stmt);

/* PostgreSQL transactions of our own (so_db_pg.c; db->pg_begun): whether something is due
 * before a statement of the transaction (its BEGIN, queued changes of so_db_exec_later) */
int so_db_pg_due(const so_db_t *db);
/* What is due, now, alone (one round trip; none when nothing is due). */
apr_status_t so_db_pg_flush(so_db_t *db);
/* What is due and the registered statement info (prepared) in one round trip: rows for a
 * select (rows not NULL), *nrows for a change. Returns 1 when it ran them (*rv: the
 * outcome), 0 when the statement is to run as usual (a blob argument: what was due went
 * alone). */
int so_db_pg_with(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                  const so_arg_t *args, so_rows_t **rows, int *nrows, apr_status_t *rv);
/* A statement of a batch (so_db_batch_begin): its name on this connection, its text
 * values, and what to call with its rows. */
typedef struct {
    const char *label;  /* the statement's name on this connection */
    const char *sql;
    const so_arg_t *args;
    const char **values; /* its arguments as text (NULL: SQL NULL) */
    int nargs;
    so_rows_cb *cb;
    void *baton;
    apr_pool_t *p;      /* the rows' pool */
    so_rows_t *rows;    /* set by so_db_pg_run_batch */
} so_db_queued_t;
/* Send n queued statements in one pipeline and read their rows. APR_ENOTIMPL: nothing
 * sent (no pipeline on this connection). The connection is blocking: all of them are
 * written before any result is read, so n stays small (SO_DB_BATCH_MAX) for their
 * messages to fit the socket's buffer while the server may be blocked writing results. */
#define SO_DB_BATCH_MAX 16
apr_status_t so_db_pg_run_batch(so_db_t *db, so_db_queued_t *q, int n);
/* The text of arguments as libpq sends them (NULL for SQL NULL; a blob is refused); copy:
 * texts copied into p (a statement sent after the caller's memory is gone), else shared. */
apr_status_t so_db_pg_text_args(apr_pool_t *p, const char *label, int nargs,
                                const so_arg_t *args, int copy, const char ***out);
/* so_db_ahead's reads: those of label with these values (they run now: not ahead) left out
 * of the queue when not sent yet; when sent, the rows of the first not taken yet are taken
 * (returns 1), else every read ahead is dropped (returns 0). */
int so_db_pg_ahead_take(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                        const so_arg_t *args, so_rows_t **rows);
/* The reads ahead sent with a select: [the statement, sync, the reads, sync] in one round
 * trip. Returns 1 when it ran them (*rv: the statement's outcome; a read that failed
 * leaves no rows and runs again when asked), 0 when the statement is to run as usual
 * (nothing sent, the reads dropped). */
int so_db_pg_select_ahead(so_db_t *db, apr_pool_t *p, const so_stmt_info_t *info, int nargs,
                          const so_arg_t *args, so_rows_t **rows, apr_status_t *rv);
/* Another statement of the use: the reads ahead already sent are dropped. */
void so_db_ahead_forget(so_db_t *db);
/* COMMIT (commit 1; with the queued changes) or ROLLBACK (the queued changes dropped) what
 * BEGIN started; nothing when nothing was sent. */
apr_status_t so_db_pg_end(so_db_t *db, int commit);

#endif
