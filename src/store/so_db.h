/* mod_sslorders: the database layer over apr_dbd (no httpd types).
 *
 * In httpd a so_db_t wraps the ap_dbd_t that mod_dbd hands out for the request
 * (its statements were registered with ap_dbd_prepare at configuration time);
 * in the CLI and the unit tests it wraps a connection opened here. The same SQL
 * runs on sqlite3 and pgsql:
 *   - placeholders are apr_dbd's: %s (text), %d (int), %lld (bigint), %pDb (blob);
 *     a literal percent sign is written %%;
 *   - arguments are typed (so_db_args.h: SO_A() picks the type of each from its C
 *     type) and bound with the type of their placeholder, so both drivers get
 *     integers as integers;
 *   - times are BIGINT seconds since the epoch, flags INTEGER 0/1, money BIGINT
 *     minor units.
 */
#ifndef SO_DB_H
#define SO_DB_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_dbd.h>

#include "so_db_args.h"

/* Status codes of this layer (apr_status_t). */
#define SO_EDB (APR_OS_START_USERERR + 100)        /* a statement failed (bug or bad data) */
#define SO_EDBDOWN (APR_OS_START_USERERR + 101)    /* no connection to the database */
#define SO_EDBBUSY (APR_OS_START_USERERR + 102)    /* locked / busy (SQLite) */
#define SO_EDBRETRY (APR_OS_START_USERERR + 103)   /* connection was re-established: retry */
#define SO_EDBUNIQUE (APR_OS_START_USERERR + 104)  /* unique constraint violated */
#define SO_EDBFOREIGN (APR_OS_START_USERERR + 105) /* foreign key violated */
#define SO_EDBSTALE (APR_OS_START_USERERR + 106)   /* optimistic version check failed */
#define SO_EDBREFUSED (APR_OS_START_USERERR + 107) /* so_refuse() (SO_DB_REFUSED_SQLSTATE) */

#define SO_DB_IS_UNAVAILABLE(rv) ((rv) == SO_EDBDOWN || (rv) == SO_EDBBUSY || (rv) == SO_EDBRETRY)

typedef enum { SO_DB_SQLITE3 = 1, SO_DB_PGSQL = 2 } so_db_kind_t;

/* One statement of the registry. Labels are SQL identifiers: so_[a-z0-9_]+. ncols: the
 * columns of its rows as its readers expect them (0: it returns no rows). Registration
 * counts the columns its SQL selects (or returns) and drops a statement that differs; a
 * select whose result has another number of columns fails with SO_EDB. SQL that starts
 * with SO_SQL_PGSQL_ONLY is PostgreSQL's alone (a data-modifying CTE): it is not prepared
 * on SQLite, where using it fails with SO_EDB; its caller picks by so_db_t.kind. */
#define SO_SQL_PGSQL_ONLY "{{PGSQL}}"
typedef struct {
    const char *label;
    const char *sql;
    int ncols;
} so_stmt_def_t;

/* A statement's columns as one X-macro list, X(id, sql) per column, where the sql of every
 * column after the first starts with ", ":
 *     #define ORD_COLUMNS(X) X(ORD_ID, "id") X(ORD_STATUS, ", status")
 *     enum { ORD_COLUMNS(SO_COL_POS) ORD_NCOLS };
 *     #define ORD_COLS ORD_COLUMNS(SO_COL_SQL)
 * gives the positions the readers use (so_cell(r, i, ORD_STATUS)), their count for the
 * statement's ncols, and the SELECT list ("SELECT " ORD_COLS " FROM ..."), from one list. */
#define SO_COL_POS(id, sql) id,
#define SO_COL_SQL(id, sql) sql

typedef struct so_db_t so_db_t;
/* Called around a transaction: SO_DB_HOOK_BEGUN by so_db_begin right after BEGIN, and
 * SO_DB_HOOK_BEFORE by so_db_commit before COMMIT, both inside it (what the hook writes
 * commits or rolls back with the transaction; an error rolls the transaction back); then
 * SO_DB_HOOK_COMMITTED or SO_DB_HOOK_FAILED. A hook writes at BEGUN when it can: rows
 * written first are not written while the transaction holds its contended locks (the
 * team's balance row, taken last). */
#define SO_DB_HOOK_BEFORE 0
#define SO_DB_HOOK_COMMITTED 1
#define SO_DB_HOOK_FAILED 2
#define SO_DB_HOOK_BEGUN 3
typedef apr_status_t so_db_commit_hook_fn(so_db_t *db, void *baton, int phase);

struct so_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;  /* label -> apr_dbd_prepared_t* */
    apr_pool_t *conn_pool; /* lives as long as the connection */
    apr_pool_t *pool;      /* the pool of this use (request) */
    so_db_kind_t kind;
    apr_dbd_transaction_t *trans;
    int committed; /* something was written for good during this use */
    int own;       /* opened by so_db_open (closed by so_db_close) */
    int trans_failed; /* a statement of the current transaction failed */
    int trans_busy;   /* ... because the database was busy (SO_EDBBUSY) */
    /* PostgreSQL: the transaction is ours, not apr_dbd's (trans points at this struct):
     * its BEGIN goes out with its first statement, in one round trip (so_db_pg.c), and a
     * transaction that ran nothing ends without a round trip. pg_begun: BEGIN was sent. */
    int pg_begun;
    int broken;    /* the connection must be repaired (reconnect, re-prepare) */
    int has_statements; /* the registry statements are prepared on this connection */
    const char *errmsg;
    /* with a commit hook, a change outside a transaction runs in one of its own (so that
     * the hook's rows commit with it); set by so_db_set_commit_hook, cleared before the
     * connection goes back to its pool */
    so_db_commit_hook_fn *commit_hook;
    void *commit_hook_baton;
    int in_hook;
    /* so_db_batch_begin .. so_db_batch_run: the so_db_select_in statements queued
     * (so_db_queued_t, so_db_int.h), NULL when no batch is open */
    apr_array_header_t *batch;
    /* so_db_exec_later's changes not sent yet (so_db_queued_t; PostgreSQL, in one of our
     * transactions), NULL or empty when none */
    apr_array_header_t *later;
    /* so_db_ahead's reads (so_db_queued_t; PostgreSQL, outside a transaction), NULL or
     * empty when none; ahead_sent: they went out (their rows are in them) */
    apr_array_header_t *ahead;
    int ahead_sent;
};

/* Rows of a result, fully read. cell() is "" for SQL NULL, isnull() tells. */
typedef struct {
    int nrows;
    int ncols;
    const char **cells; /* nrows * ncols, NULL for SQL NULL */
} so_rows_t;

/* ---- statement registry --------------------------------------------------- */
/* Registers a NULL-label-terminated table. Call from the owning file's
 * so_stmts_<x>() function, listed in so_stmts.c; done once at startup. */
void so_stmts_init(void);
/* Calls cb for every registered statement. */
typedef void so_stmt_cb(void *baton, const char *label, const char *sql);
void so_stmts_each(so_stmt_cb *cb, void *baton);
const char *so_stmt_sql(const char *label);
/* How many statements registration refused (a placeholder, a label twice, a column count
 * that differs from ncols); 0 in a sound build (a unit test checks it). */
int so_stmts_rejected(void);

/* ---- connections ---------------------------------------------------------- */
apr_status_t so_db_wrap(so_db_t **out, apr_pool_t *p, const apr_dbd_driver_t *driver,
                        apr_dbd_t *handle, apr_hash_t *prepared, apr_pool_t *conn_pool);
/* Open a connection of our own (CLI, tests, migrations). With prepare=1 every
 * registered statement is prepared (the schema must be current). */
apr_status_t so_db_open(so_db_t **out, apr_pool_t *p, const char *driver, const char *params,
                        int prepare, const char **err);
void so_db_close(so_db_t *db);
/* (Re)prepare every registered statement on this connection (statements are otherwise
 * prepared on their first use on a connection). */
apr_status_t so_db_prepare_all(so_db_t *db);
/* Prepare again, in place, the registry statements this connection has prepared (after
 * SQLite expired them); the others are prepared on first use. */
apr_status_t so_db_reprepare(so_db_t *db);
/* Drop the statements built at run time that this connection has cached (after
 * DDL on it: SQLite expires them). */
void so_db_forget_adhoc(so_db_t *db);
/* After a lost connection: reconnect and re-prepare (no-op when healthy). */
apr_status_t so_db_repair(so_db_t *db);
/* Per-connection settings (SQLite: foreign keys, busy timeout). */
apr_status_t so_db_session_init(so_db_t *db);
so_db_kind_t so_db_kind_of(const apr_dbd_driver_t *driver);

/* ---- statements ------------------------------------------------------------ */
/* Run a registered statement (by label) that returns rows. */
apr_status_t so_db_select(so_db_t *db, apr_pool_t *p, const char *label, so_rows_t **rows, int nargs,
                          const so_arg_t *args);
/* Reads ahead (PostgreSQL, outside a transaction): a registered select this use is about
 * to run, queued to go out with the use's next so_db_select outside a transaction, in the
 * same round trip (after it, in a transaction of its own: a read that fails does not undo
 * that statement). The use's next statement then, when it is that select with the same
 * arguments, takes the rows read ahead instead of a round trip; any other statement drops
 * them first (read after a change of this use, they might differ), and the select runs as
 * usual. So a request whose first statement and next read are known before it runs (an
 * ACME request: its nonce, then the resource of its URL) makes one round trip for both.
 * SQLite, a transaction, a blob argument: nothing is queued. At most SO_DB_AHEAD_MAX. */
#define SO_DB_AHEAD_MAX 4
void so_db_ahead(so_db_t *db, const char *label, int nargs, const so_arg_t *args);
/* Run a registered statement that changes rows; nrows may be NULL. */
apr_status_t so_db_exec(so_db_t *db, apr_pool_t *p, const char *label, int *nrows, int nargs,
                        const so_arg_t *args);
/* The same for SQL built at run time (whitelisted identifiers, placeholders for
 * every value); prepared as an unnamed statement for this call. */
apr_status_t so_db_select_sql(so_db_t *db, apr_pool_t *p, const char *sql, so_rows_t **rows,
                              int nargs, const so_arg_t *args);

/* Rows for a list of ids (apr_int64_t): head ends with "<column> IN (" (not NOT IN) and
 * tail begins with ")". SQLite: runs head + "%lld, ..." (SO_DB_IN_BATCH placeholders) +
 * tail for the ids in batches, the last one padded with its last id, so that the SQL text never
 * changes (one cached statement) and no statement exceeds the placeholder limit.
 * PostgreSQL: one statement, "<column> = ANY(%s::bigint[])" with the ids in one array.
 * nfixed arguments (at most 3) come before the ids; cb gets each statement's rows. */
#define SO_DB_IN_BATCH 60
typedef void so_rows_cb(void *baton, apr_pool_t *p, so_rows_t *rows);
apr_status_t so_db_select_in(so_db_t *db, apr_pool_t *p, const char *head, const char *tail,
                             int nfixed, const so_arg_t *fixed, const apr_array_header_t *ids,
                             so_rows_cb *cb, void *baton);
/* Batches (PostgreSQL): between so_db_batch_begin and so_db_batch_run, so_db_select_in
 * outside a transaction queues its statements, and so_db_batch_run sends them all in one
 * round trip (libpq's pipeline mode), then calls their callbacks in the order they were
 * queued. What the callbacks fill is read after so_db_batch_run. SQLite, a transaction,
 * or a statement that has no name on the connection: the statement runs at once, as
 * without a batch. so_db_batch_run ends the batch, also when it fails (the callbacks of
 * the statements it could not read are not called); so_db_batch_cancel drops it unrun. */
void so_db_batch_begin(so_db_t *db);
/* so_db_select_sql, its rows given to cb: queued in a batch when one is open (as
 * so_db_select_in's), else at once. */
apr_status_t so_db_select_sql_cb(so_db_t *db, apr_pool_t *p, const char *sql, int nargs,
                                 const so_arg_t *args, so_rows_cb *cb, void *baton);
apr_status_t so_db_batch_run(so_db_t *db);
void so_db_batch_cancel(so_db_t *db);
apr_status_t so_db_exec_sql(so_db_t *db, apr_pool_t *p, const char *sql, int *nrows, int nargs,
                            const so_arg_t *args);
/* Run raw SQL without parameters (DDL, migrations). */
apr_status_t so_db_raw(so_db_t *db, const char *sql);
/* The same for SQL that returns rows (PRAGMA, SELECT pg_advisory_lock(...)); rows are dropped. */
/* SQLite: PRAGMA synchronous = NORMAL on this connection, and what SQLite took (level: 1
 * normal, 2 full); APR_EGENERAL when it is not NORMAL afterwards. */
apr_status_t so_db_sqlite_sync_normal(so_db_t *db, int *level);

/* SQLite: PRAGMA mmap_size = bytes on this connection, and what SQLite took (*took: bytes,
 * -1 when unknown). */
apr_status_t so_db_sqlite_mmap(so_db_t *db, apr_int64_t bytes, apr_int64_t *took);

/* SQLite lock waits (the glue's busy handler): how long to sleep before polling again,
 * or 0 to give up. count is SQLite's (0: the first call of a statement's wait). Each wait
 * gets SO_DB_BUSY_WAIT; a first call within SO_DB_BUSY_SAME of giving up is apr_dbd
 * retrying the statement we gave up on (15 x 100 ms), and gives up at once. One state
 * per thread. */
#define SO_DB_BUSY_WAIT apr_time_from_sec(3)
#define SO_DB_BUSY_SAME apr_time_from_msec(250)
typedef struct {
    apr_time_t since;      /* this wait began */
    apr_time_t gave_up_at; /* 0, or when we last gave up */
} so_db_busy_t;
apr_interval_time_t so_db_busy_step(so_db_busy_t *b, int count, apr_time_t now, int *new_wait);
apr_status_t so_db_raw_select(so_db_t *db, const char *sql);

/* Transactions: begin, then commit (which fails if any statement failed) or
 * rollback. SQLite begins with BEGIN IMMEDIATE. */
apr_status_t so_db_begin(so_db_t *db);
apr_status_t so_db_commit(so_db_t *db);
void so_db_rollback(so_db_t *db);
/* PostgreSQL: run a registered statement as the transaction's last and COMMIT in the same
 * round trip (libpq's pipeline mode): its row locks go with the statement's execution,
 * not after a round trip to httpd and back. The commit hook's rows are written first.
 * APR_SUCCESS: committed, *rows the statement's. SO_EDBREFUSED: the statement called
 * so_refuse() (the SQL function of migration 801, SQLSTATE SO_DB_REFUSED_SQLSTATE), which
 * is how such a statement says no: the transaction is rolled back. Another error: rolled
 * back. Either way the transaction has ended, except APR_ENOTIMPL (SQLite, or no pipeline
 * on this connection): nothing was sent, the caller goes on as usual. */
#define SO_DB_REFUSED_SQLSTATE "SO001"
apr_status_t so_db_select_commit(so_db_t *db, apr_pool_t *p, const char *label, so_rows_t **rows,
                                 int nargs, const so_arg_t *args);
/* A change whose row count the caller does not need, in a transaction: on PostgreSQL it is
 * queued and goes out with the transaction's next statement, or with its COMMIT, in one
 * round trip (libpq's pipeline mode), instead of a round trip of its own. Its failure is
 * the failure of that statement or COMMIT (the transaction fails as it would have). Runs
 * at once as so_db_exec elsewhere (SQLite, outside a transaction, a blob argument). */
apr_status_t so_db_exec_later(so_db_t *db, apr_pool_t *p, const char *label, int nargs,
                              const so_arg_t *args);
/* Install (fn NULL: remove) the commit hook of this connection. */
void so_db_set_commit_hook(so_db_t *db, so_db_commit_hook_fn *fn, void *baton);
/* Convenience: commit when rv is APR_SUCCESS, else roll back; returns rv or the commit error. */
apr_status_t so_db_end(so_db_t *db, apr_status_t rv);


/* ---- rows ----------------------------------------------------------------- */
const char *so_cell(const so_rows_t *rows, int r, int c);
int so_cell_isnull(const so_rows_t *rows, int r, int c);
apr_int64_t so_cell_i64(const so_rows_t *rows, int r, int c);
int so_cell_int(const so_rows_t *rows, int r, int c);

/* Human readable text for a status of this layer. */
const char *so_db_strerror(apr_status_t rv);

#endif
