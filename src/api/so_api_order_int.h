/* mod_sslorders: what the files of the order API share (so_api_orders.c,
 * so_api_order_input.c, so_api_order_list.c,
 * so_api_order_renew.c); not for the rest of the module (see so_api_ssl.h). */
#ifndef SO_API_ORDER_INT_H
#define SO_API_ORDER_INT_H

#include "so_api.h"
#include "so_api_ssl.h"
#include "../svc/so_svc_order.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_order.h"

/* The fields of an order's body (create, update, reissue): the service's input. */
typedef so_svc_order_in_t so_order_in_t;

/* Read the body into in (a 4xx answer on bad input). */
apr_status_t so_order_in_read(so_req_t *req, so_order_in_t *in);
/* Apply the present fields of in to o (so_svc_order_apply; answers on failure). */
apr_status_t so_order_in_apply(so_req_t *req, so_db_t *db, const so_product_t *prod, so_order_t *o,
                               const so_order_in_t *in, int creating);
/* The product on sale (SO_E_PRODUCT and APR_EINVAL otherwise). */
apr_status_t so_order_product_load(so_req_t *req, apr_int64_t id, so_product_t **prod);
/* The body's id, when present, is the order of the path. */
apr_status_t so_order_in_id_check(so_req_t *req, const so_order_in_t *in, apr_int64_t id);

/* Handlers of so_routes_orders that live in the other files. */
apr_status_t so_api_orders_list(so_req_t *req);
apr_status_t so_api_order_reissue(so_req_t *req);
apr_status_t so_api_order_renew(so_req_t *req);

#endif
