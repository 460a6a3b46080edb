/* mod_sslorders: a team's order list version (the page cache's key, so_api_order_list.c)
 * and, on PostgreSQL, the fold of its change log (the background job, every second). */
#include <string.h>

#include <apr_atomic.h>

#include "so_store_order.h"
#include "../core/so_log.h"

apr_status_t so_store_orders_version(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t *version)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_orders_version", &rows, SO_A(team_id));
    if (rv == APR_SUCCESS) {
        *version = so_cell_i64(rows, 0, 0);
    }
    return rv;
}

#define SO_PG_FOLD_LOCK "7270212"

/* Change log rows the folds of this process moved since it last vacuumed the log. Each
 * fold leaves the rows it moved dead, with their index entries, until a VACUUM: autovacuum
 * gets to a small table about once a minute, and meanwhile every read of a team's version
 * (each order list request) walks the dead entries. Measured after 100,000 changes folded:
 * a cached list page cost PostgreSQL 0.60 ms of CPU (2,286 pages/s), 0.22 ms after a
 * VACUUM of the log (4,338/s). */
static volatile apr_uint32_t moved_since_vacuum;
#define FOLD_VACUUM_ROWS 1000

apr_status_t so_store_orders_versions_fold(so_db_t *db, apr_pool_t *p, int *folded)
{
    so_rows_t *rows;
    apr_status_t rv;

    *folded = 0;
    if (db->kind != SO_DB_PGSQL) {
        return APR_SUCCESS; /* SQLite keeps one counter row per team */
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    /* one server at a time; the others skip */
    rv = so_db_select_sql(db, p, "SELECT pg_try_advisory_xact_lock(" SO_PG_FOLD_LOCK ")", &rows,
                          SO_A0);
    if (rv == APR_SUCCESS && rows->nrows == 1 && !strcmp(so_cell(rows, 0, 0), "t")) {
        /* (a data-modifying WITH runs whether or not the query reads it) */
        rv = so_db_select_sql(db, p,
                              "WITH moved AS (DELETE FROM team_change_log RETURNING team_id), "
                              "totals AS (INSERT INTO team_change_base (team_id, changes) "
                              "SELECT team_id, COUNT(*) FROM moved GROUP BY team_id ON CONFLICT "
                              "(team_id) DO UPDATE SET changes = team_change_base.changes + "
                              "EXCLUDED.changes) SELECT COUNT(*) FROM moved",
                              &rows, SO_A0);
        if (rv == APR_SUCCESS) {
            *folded = rows->nrows == 1 ? so_cell_int(rows, 0, 0) : 0;
        }
    }
    rv = so_db_end(db, rv);
    if (rv == APR_SUCCESS && *folded > 0
        && apr_atomic_add32(&moved_since_vacuum, (apr_uint32_t)*folded) + (apr_uint32_t)*folded
               >= FOLD_VACUUM_ROWS) {
        apr_status_t vrv;
        apr_atomic_set32(&moved_since_vacuum, 0);
        /* outside the transaction; another server's VACUUM of it is not waited for.
         * TRUNCATE false: giving the emptied pages back takes the table's exclusive
         * lock, which VACUUM polls for in 50 ms steps while order changes insert into
         * the log, and those inserts wait while it holds it; the log grows again at once
         * anyway (under ACME load: 78 ms a VACUUM before, 2.3 ms without). Its WARNINGs
         * (skipped: locked, or not the table's owner) would go to libpq's stderr, the
         * error log: errors only, meanwhile (the session's setting after) */
        if ((vrv = so_db_raw(db, "SET client_min_messages TO error")) == APR_SUCCESS) {
            vrv = so_db_raw(db, "VACUUM (SKIP_LOCKED, TRUNCATE false) team_change_log");
            if (so_db_raw(db, "SET client_min_messages TO warning") != APR_SUCCESS
                && vrv == APR_SUCCESS) {
                vrv = SO_EDB;
            }
        }
        if (vrv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(vrv)) {
            /* (the database away: the job's next pass says so) */
            so_log_warn(SO_LOG_MARK, vrv,
                        SOLOGNO(00705) "vacuuming the order list change log: %s (autovacuum "
                                       "does it later)",
                        db->errmsg ? db->errmsg : "?");
        }
    }
    return rv;
}
