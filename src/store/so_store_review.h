/* mod_sslorders: the staff's queue of organizations to validate (OV/EV orders). */
#ifndef SO_STORE_REVIEW_H
#define SO_STORE_REVIEW_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t order_id;
    apr_int64_t team_id;
    const char *team_slug;
    const char *common_name;
    const char *org_handle;   /* "" when the order names no organization */
    const char *status;       /* pending, approved, rejected */
    const char *reason;
    const char *product_name;
} so_org_review_t;

/* Orders whose organization validation is in `status`, oldest first, at most `limit`:
 * an array of so_org_review_t. */
apr_status_t so_store_org_reviews(so_db_t *db, apr_pool_t *p, const char *status, int limit,
                                  apr_array_header_t **out);

#endif
