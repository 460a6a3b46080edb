#include <string.h>

#include <apr_strings.h>

#include "so_store_renewal.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

/* issue 17: migrations 900-949 */
const so_migration_t so_migrations_renewal[] = {
    {900, "order renewals",
     "CREATE TABLE order_renewals (\n"
     "  renewal_id BIGINT PRIMARY KEY REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  renewed_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE INDEX order_renewals_renewed ON order_renewals (renewed_id, renewal_id)"},
    /* whether a team has any (asked with every order list page's credential) */
    {952, "order renewals by team", "CREATE INDEX order_renewals_team ON order_renewals (team_id)"},
    {0, NULL, NULL}};

/* a renewal that was cancelled (REJ, FAI) does not count: the order may be renewed again */
#define LIVE "o.status NOT IN ('REJ', 'FAI')"

/* a renewal link with its renewal's status */
#define REN_COLUMNS(X) X(REN_RENEWAL_ID, "r.renewal_id") X(REN_RENEWED_ID, ", r.renewed_id") \
    X(REN_STATUS, ", o.status")
enum { REN_COLUMNS(SO_COL_POS) REN_NCOLS };
#define REN_COLS REN_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_renewal[] = {
    {"so_renewal_add",
     "INSERT INTO order_renewals (renewal_id, renewed_id, team_id, created_at) "
     "VALUES (%lld, %lld, %lld, %lld)", 0},
    {"so_renewal_of",
     "SELECT " REN_COLS " FROM order_renewals r JOIN orders o ON o.id = r.renewal_id "
     "WHERE r.team_id = %lld AND r.renewed_id = %lld AND " LIVE
     " ORDER BY r.renewal_id DESC LIMIT 1", REN_NCOLS},
    {NULL, NULL, 0}};


apr_status_t so_store_renewal_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t renewal_id, apr_int64_t renewed_id, apr_int64_t now)
{
    return so_db_exec(db, p, "so_renewal_add", NULL,
                      SO_A(renewal_id, renewed_id, team_id, now));
}

static so_renewal_t *from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_renewal_t *x = apr_pcalloc(p, sizeof(*x));
    x->renewal_id = so_cell_i64(r, i, REN_RENEWAL_ID);
    x->renewed_id = so_cell_i64(r, i, REN_RENEWED_ID);
    x->status = apr_pstrdup(p, so_cell(r, i, REN_STATUS));
    return x;
}

apr_status_t so_store_renewal_of(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t renewed_id, so_renewal_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_renewal_of", &rows, SO_A(team_id, renewed_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = from_row(p, rows, 0);
    return APR_SUCCESS;
}

typedef struct {
    apr_hash_t *map;
    int by_renewed;
} batch_t;

static void rows_cb(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    batch_t *b = baton;
    int i;
    for (i = 0; i < rows->nrows; i++) {
        so_renewal_t *x = from_row(p, rows, i);
        apr_int64_t *key = b->by_renewed ? &x->renewed_id : &x->renewal_id;
        so_renewal_t *had = apr_hash_get(b->map, key, sizeof(*key));
        /* the newest live renewal of an order */
        if (!had || had->renewal_id < x->renewal_id) {
            apr_hash_set(b->map, key, sizeof(*key), x);
        }
    }
}

apr_status_t so_store_renewals_for(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const apr_array_header_t *ids, apr_hash_t **by_renewed,
                                   apr_hash_t **by_renewal)
{
    so_arg_t team = so_arg_int(team_id);
    /* in the pool: with a batch (so_db_batch_begin) the rows come after this returns */
    batch_t *a = apr_palloc(p, sizeof(*a)), *b = apr_palloc(p, sizeof(*b));
    apr_status_t rv;

    a->map = *by_renewed = apr_hash_make(p);
    a->by_renewed = 1;
    b->map = *by_renewal = apr_hash_make(p);
    b->by_renewed = 0;
    rv = so_db_select_in(db, p,
                         "SELECT " REN_COLS " FROM order_renewals r "
                         "JOIN orders o ON o.id = r.renewal_id WHERE r.team_id = %lld AND " LIVE
                         " AND r.renewed_id IN (",
                         ")", 1, &team, ids, rows_cb, a);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_db_select_in(db, p,
                           "SELECT " REN_COLS " FROM order_renewals r "
                           "JOIN orders o ON o.id = r.renewal_id WHERE r.team_id = %lld AND "
                           "r.renewal_id IN (",
                           ")", 1, &team, ids, rows_cb, b);
}
