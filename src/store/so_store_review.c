/* mod_sslorders: the staff's queue of organizations to validate. */
#include "so_store_review.h"
#include "so_store.h"

/* the columns of the query, in order */
enum { C_ID, C_TEAM, C_SLUG, C_CN, C_HANDLE, C_STATUS, C_REASON, C_PRODUCT };

apr_status_t so_store_org_reviews(so_db_t *db, apr_pool_t *p, const char *status, int limit,
                                  apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = so_db_select_sql(db, p,
                          "SELECT o.id, o.team_id, t.slug, o.common_name, o.organization_handle, "
                          "o.org_status, o.org_reason, p.name FROM orders o JOIN teams t ON "
                          "t.id = o.team_id JOIN products p ON p.id = o.product_id WHERE "
                          "o.org_status = %s ORDER BY o.id LIMIT %lld",
                          &rows, SO_A(status, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows, sizeof(so_org_review_t));
    for (i = 0; i < rows->nrows; i++) {
        so_org_review_t *r = apr_array_push(*out);
        r->order_id = so_cell_i64(rows, i, C_ID);
        r->team_id = so_cell_i64(rows, i, C_TEAM);
        r->team_slug = so_cell(rows, i, C_SLUG);
        r->common_name = so_cell(rows, i, C_CN);
        r->org_handle = so_cell(rows, i, C_HANDLE);
        r->status = so_cell(rows, i, C_STATUS);
        r->reason = so_cell(rows, i, C_REASON);
        r->product_name = so_cell(rows, i, C_PRODUCT);
    }
    return APR_SUCCESS;
}
