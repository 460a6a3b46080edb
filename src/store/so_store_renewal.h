/* mod_sslorders: which order renews which (a renewal bought in the cart is a new
 * order; the order it renews is renewed only once while that renewal lives). */
#ifndef SO_STORE_RENEWAL_H
#define SO_STORE_RENEWAL_H

#include <apr_hash.h>

#include "so_db.h"

typedef struct {
    apr_int64_t renewal_id;  /* the new order */
    apr_int64_t renewed_id;  /* the order it renews */
    const char *status;      /* the new order's status */
} so_renewal_t;

/* Record that order renewal_id renews renewed_id (inside the checkout's transaction). */
apr_status_t so_store_renewal_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t renewal_id, apr_int64_t renewed_id, apr_int64_t now);

/* The live renewal of an order (not cancelled): APR_ENOENT when there is none. */
apr_status_t so_store_renewal_of(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t renewed_id, so_renewal_t **out);

/* For a page of orders (ids): by_renewed maps an order id to its newest live
 * renewal, by_renewal maps a renewal's id to the order it renews (so_renewal_t *,
 * keyed by the apr_int64_t id). */
apr_status_t so_store_renewals_for(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const apr_array_header_t *ids, apr_hash_t **by_renewed,
                                   apr_hash_t **by_renewal);

#endif
