/* mod_sslorders: a new connection's first use of the statements most requests run.
 *
 * A new PostgreSQL backend starts with empty catalog caches: the first time it runs a
 * statement it reads the definitions of every table, index and column the statement
 * touches (and prepares it: statements are prepared on a connection at their first use).
 * Measured on the 2-core test machine: 80 to 100 ms for the token lookup or the seal
 * query on each of a fresh child's 25 connections while the first requests arrive, the
 * p99 of the first second after a start. Run once on each connection a child opens at
 * its start (SSLOrdersDBWarm), with values that match nothing, they cost the child's
 * start a few milliseconds per connection instead. */
#include "so_store_warm.h"

#include "so_store.h"

/* ids: 0 for one text argument (a hash, a seal id), else how many integer ids (all 0) */
static const struct {
    const char *label;
    int ids;
} hot[] = {
    {"so_token_lookup", 0},   {"so_token_lookup_lv", 0}, {"so_session_lookup", 0},
    {"so_session_lookup_lv", 0}, {"so_seal_facts", 0}, {"so_product_get", 1},
    {"so_order_get", 3},      {"so_team_by_id", 1},
};

apr_status_t so_store_warm(so_db_t *db, apr_pool_t *p, int *ran)
{
    apr_size_t i;
    *ran = 0;
    for (i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
        so_rows_t *rows;
        apr_status_t rv;
        if (hot[i].ids == 0) {
            rv = so_db_select(db, p, hot[i].label, &rows, SO_A(""));
        }
        else if (hot[i].ids == 1) {
            rv = so_db_select(db, p, hot[i].label, &rows, SO_A((apr_int64_t)0));
        }
        else { /* so_order_get: team, order, order (its names) */
            rv = so_db_select(db, p, hot[i].label, &rows,
                              SO_A((apr_int64_t)0, (apr_int64_t)0, (apr_int64_t)0));
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        (*ran)++;
    }
    return APR_SUCCESS;
}
