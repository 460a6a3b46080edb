/* mod_sslorders: the team's shopping cart (items: a product, a period, what the
 * names cost, a quantity; or the renewal of an order) and the ledger as a list. */
#ifndef SO_STORE_CART_H
#define SO_STORE_CART_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    apr_int64_t product_id;
    int period;
    int domain_amount;          /* non-wildcard names paid for */
    int wildcard_domain_amount; /* wildcard names paid for */
    int quantity;
    apr_int64_t renewal_of;     /* the order renewed, 0 = a new order */
    apr_int64_t created_by;
    apr_int64_t created_at, updated_at;
    int version;
} so_cart_item_t;

/* Oldest first; limit 0 = all. */
apr_status_t so_store_cart(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int limit, int offset,
                           apr_array_header_t **out, apr_int64_t *total);
apr_status_t so_store_cart_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                               so_cart_item_t **out);
/* SO_EDBUNIQUE when the order is in the cart for renewal already. */
apr_status_t so_store_cart_insert(so_db_t *db, apr_pool_t *p, so_cart_item_t *it);
/* Set the quantity and period of the item when it is still at it->version (else SO_EDBSTALE). */
apr_status_t so_store_cart_update(so_db_t *db, apr_pool_t *p, so_cart_item_t *it);
apr_status_t so_store_cart_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id);
/* Take the item out for checkout when it is unchanged since it was read (else SO_EDBSTALE). */
apr_status_t so_store_cart_take(so_db_t *db, apr_pool_t *p, const so_cart_item_t *it);
apr_status_t so_store_cart_clear(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int *removed);

typedef struct {
    apr_int64_t id;
    apr_int64_t amount;
    apr_int64_t balance_after;
    const char *kind;
    apr_int64_t order_id; /* 0 = none */
    const char *note;
    const char *username; /* "" = the system */
    apr_int64_t created_at;
} so_ledger_row_t;

/* The team's ledger, newest first; order_id 0 and kind NULL = any. */
apr_status_t so_store_ledger(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t order_id,
                             const char *kind, int limit, int offset, apr_array_header_t **out,
                             apr_int64_t *total);

#endif
