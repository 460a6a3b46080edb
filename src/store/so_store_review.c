/* mod_sslorders: the staff's queue of organizations to validate. */
#include "so_store_review.h"
#include "so_store.h"

/* the columns of the query, in order */
#define REV_COLUMNS(X) X(REV_ID, "o.id") X(REV_TEAM, ", o.team_id") X(REV_SLUG, ", t.slug") \
    X(REV_CN, ", o.common_name") X(REV_HANDLE, ", o.organization_handle") \
    X(REV_STATUS, ", o.org_status") X(REV_REASON, ", o.org_reason") X(REV_PRODUCT, ", p.name")
enum { REV_COLUMNS(SO_COL_POS) REV_NCOLS };
#define REV_COLS REV_COLUMNS(SO_COL_SQL)

apr_status_t so_store_org_reviews(so_db_t *db, apr_pool_t *p, const char *status, int limit,
                                  apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = so_db_select_sql(db, p,
                          "SELECT " REV_COLS " FROM orders o JOIN teams t ON "
                          "t.id = o.team_id JOIN products p ON p.id = o.product_id WHERE "
                          "o.org_status = %s ORDER BY o.id LIMIT %lld",
                          &rows, SO_A(status, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(so_org_review_t));
    for (i = 0; i < rows->nrows; i++) {
        so_org_review_t *r = apr_array_push(*out);
        r->order_id = so_cell_i64(rows, i, REV_ID);
        r->team_id = so_cell_i64(rows, i, REV_TEAM);
        r->team_slug = so_cell(rows, i, REV_SLUG);
        r->common_name = so_cell(rows, i, REV_CN);
        r->org_handle = so_cell(rows, i, REV_HANDLE);
        r->status = so_cell(rows, i, REV_STATUS);
        r->reason = so_cell(rows, i, REV_REASON);
        r->product_name = so_cell(rows, i, REV_PRODUCT);
    }
    return APR_SUCCESS;
}
