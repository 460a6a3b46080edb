#include <string.h>

#include <apr_strings.h>

#include "so_store_cart.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_cart[] = {
    {420, "cart",
     "CREATE TABLE cart_items (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  product_id BIGINT NOT NULL REFERENCES products(id),\n"
     "  period INTEGER NOT NULL,\n"
     "  domain_amount INTEGER NOT NULL DEFAULT 0,\n"
     "  wildcard_domain_amount INTEGER NOT NULL DEFAULT 0,\n"
     "  quantity INTEGER NOT NULL DEFAULT 1,\n"
     "  renewal_of BIGINT REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  created_by BIGINT,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  version INTEGER NOT NULL DEFAULT 1);\n"
     "CREATE INDEX cart_items_team ON cart_items (team_id, id);\n"
     "CREATE UNIQUE INDEX cart_items_renewal ON cart_items (team_id, renewal_of) "
     "WHERE renewal_of IS NOT NULL"},
    {0, NULL, NULL}};

#define CART_COLUMNS(X) X(CART_ID, "id") X(CART_TEAM_ID, ", team_id") \
    X(CART_PRODUCT_ID, ", product_id") X(CART_PERIOD, ", period") \
    X(CART_DOMAIN_AMOUNT, ", domain_amount") \
    X(CART_WILDCARD_DOMAIN_AMOUNT, ", wildcard_domain_amount") X(CART_QUANTITY, ", quantity") \
    X(CART_RENEWAL_OF, ", renewal_of") X(CART_CREATED_BY, ", created_by") \
    X(CART_CREATED_AT, ", created_at") X(CART_UPDATED_AT, ", updated_at") \
    X(CART_VERSION, ", version")
enum { CART_COLUMNS(SO_COL_POS) CART_NCOLS };
#define CART_COLS CART_COLUMNS(SO_COL_SQL)

/* a ledger row with the name of its user */
#define LEDGER_COLUMNS(X) X(LEDGER_ID, "l.id") X(LEDGER_AMOUNT, ", l.amount") \
    X(LEDGER_BALANCE_AFTER, ", l.balance_after") X(LEDGER_KIND, ", l.kind") \
    X(LEDGER_ORDER_ID, ", l.order_id") X(LEDGER_NOTE, ", l.note") \
    X(LEDGER_USERNAME, ", u.username") X(LEDGER_CREATED_AT, ", l.created_at")
enum { LEDGER_COLUMNS(SO_COL_POS) LEDGER_NCOLS };
#define LEDGER_COLS LEDGER_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_cart[] = {
    {"so_cart_count", "SELECT COUNT(*) FROM cart_items WHERE team_id = %lld", 1},
    {"so_cart_list",
     "SELECT " CART_COLS " FROM cart_items WHERE team_id = %lld ORDER BY id LIMIT %d OFFSET %d",
     CART_NCOLS},
    {"so_cart_get", "SELECT " CART_COLS " FROM cart_items WHERE team_id = %lld AND id = %lld",
     CART_NCOLS},
    {"so_cart_insert",
     "INSERT INTO cart_items (team_id, product_id, period, domain_amount, wildcard_domain_amount, "
     "quantity, renewal_of, created_by, created_at, updated_at) "
     "VALUES (%lld, %lld, %d, %d, %d, %d, %lld, %lld, %lld, %lld) RETURNING id", 1},
    {"so_cart_update",
     "UPDATE cart_items SET quantity = %d, period = %d, updated_at = %lld, version = version + 1 "
     "WHERE team_id = %lld AND id = %lld AND version = %d", 0},
    {"so_cart_delete", "DELETE FROM cart_items WHERE team_id = %lld AND id = %lld", 0},
    {"so_cart_take", "DELETE FROM cart_items WHERE team_id = %lld AND id = %lld AND version = %d", 0},
    {"so_cart_clear", "DELETE FROM cart_items WHERE team_id = %lld", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

static so_cart_item_t *from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_cart_item_t *it = apr_pcalloc(p, sizeof(*it));
    it->id = so_cell_i64(r, i, CART_ID);
    it->team_id = so_cell_i64(r, i, CART_TEAM_ID);
    it->product_id = so_cell_i64(r, i, CART_PRODUCT_ID);
    it->period = so_cell_int(r, i, CART_PERIOD);
    it->domain_amount = so_cell_int(r, i, CART_DOMAIN_AMOUNT);
    it->wildcard_domain_amount = so_cell_int(r, i, CART_WILDCARD_DOMAIN_AMOUNT);
    it->quantity = so_cell_int(r, i, CART_QUANTITY);
    it->renewal_of = so_cell_i64(r, i, CART_RENEWAL_OF);
    it->created_by = so_cell_i64(r, i, CART_CREATED_BY);
    it->created_at = so_cell_i64(r, i, CART_CREATED_AT);
    it->updated_at = so_cell_i64(r, i, CART_UPDATED_AT);
    it->version = so_cell_int(r, i, CART_VERSION);
    return it;
}

apr_status_t so_store_cart(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int limit, int offset,
                           apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_cart_count", &count, SO_A(team_id))) != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_cart_list", &rows,
                              SO_A(team_id, limit > 0 ? limit : 1000000, offset)))
               != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_cart_item_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_cart_item_t *) = from_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_cart_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                               so_cart_item_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_cart_get", &rows, SO_A(team_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_cart_insert(so_db_t *db, apr_pool_t *p, so_cart_item_t *it)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(
        db, p, "so_cart_insert", &rows,
        SO_A(it->team_id, it->product_id, it->period, it->domain_amount,
             it->wildcard_domain_amount, it->quantity,
             SO_ID(it->renewal_of), SO_ID(it->created_by),
             it->created_at, it->updated_at));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    it->id = so_cell_i64(rows, 0, 0);
    it->version = 1;
    if (!db->trans) {
        db->committed = 1;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_cart_update(so_db_t *db, apr_pool_t *p, so_cart_item_t *it)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_cart_update", &n,
                                 SO_A(it->quantity, it->period, it->updated_at,
                                      it->team_id, it->id, it->version));
    if (rv == APR_SUCCESS && n == 0) {
        return SO_EDBSTALE;
    }
    it->version++;
    return rv;
}

apr_status_t so_store_cart_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_cart_delete", &n, SO_A(team_id, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_cart_take(so_db_t *db, apr_pool_t *p, const so_cart_item_t *it)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_cart_take", &n,
                                 SO_A(it->team_id, it->id, it->version));
    return rv == APR_SUCCESS && n == 0 ? SO_EDBSTALE : rv;
}

apr_status_t so_store_cart_clear(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int *removed)
{
    return so_db_exec(db, p, "so_cart_clear", removed, SO_A(team_id));
}

apr_status_t so_store_ledger(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t order_id,
                             const char *kind, int limit, int offset, apr_array_header_t **out,
                             apr_int64_t *total)
{
    const char *where = "l.team_id = %lld";
    so_arg_t args[5];
    so_rows_t *rows, *count;
    apr_status_t rv;
    int n = 0, i;

    /* a few fixed variants of the text: each is one cached statement */
    args[n++] = so_arg_int(team_id);
    if (order_id) {
        where = apr_pstrcat(p, where, " AND l.order_id = %lld", NULL);
        args[n++] = so_arg_int(order_id);
    }
    if (kind) {
        where = apr_pstrcat(p, where, " AND l.kind = %s", NULL);
        args[n++] = so_arg_text(kind);
    }
    rv = so_db_select_sql(db, p, apr_pstrcat(p, "SELECT COUNT(*) FROM ledger l WHERE ", where, NULL),
                          &count, n, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    args[n++] = so_arg_int(limit);
    args[n++] = so_arg_int(offset);
    rv = so_db_select_sql(db, p,
                          apr_pstrcat(p,
                                      "SELECT " LEDGER_COLS " FROM ledger l LEFT JOIN users "
                                      "u ON u.id = l.user_id WHERE ",
                                      where, " ORDER BY l.id DESC LIMIT %d OFFSET %d", NULL),
                          &rows, n, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_ledger_row_t));
    for (i = 0; i < rows->nrows; i++) {
        so_ledger_row_t *l = apr_array_push(*out);
        l->id = so_cell_i64(rows, i, LEDGER_ID);
        l->amount = so_cell_i64(rows, i, LEDGER_AMOUNT);
        l->balance_after = so_cell_i64(rows, i, LEDGER_BALANCE_AFTER);
        l->kind = so_cell(rows, i, LEDGER_KIND);
        l->order_id = so_cell_i64(rows, i, LEDGER_ORDER_ID);
        l->note = so_cell(rows, i, LEDGER_NOTE);
        l->username = so_cell(rows, i, LEDGER_USERNAME);
        l->created_at = so_cell_i64(rows, i, LEDGER_CREATED_AT);
    }
    return APR_SUCCESS;
}
