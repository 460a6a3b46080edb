/* mod_sslorders: what the files of the order API share (so_api_orders.c,
 * so_api_order_json.c, so_api_order_input.c, so_api_order_list.c,
 * so_api_order_renew.c); not for the rest of the module (see so_api_ssl.h). */
#ifndef SO_API_ORDER_INT_H
#define SO_API_ORDER_INT_H

#include "so_api.h"
#include "so_api_ssl.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_order.h"

/* The fields of an order's body (create, update, reissue); has_x: x was present. */
typedef struct {
    apr_int64_t product_id, period, domain_amount, wildcard_amount, id;
    int has_product, has_period, has_domain_amount, has_wildcard_amount, has_id;
    const char *csr;
    const char *software;
    const char *organization_handle, *technical_handle, *administrative_handle, *billing_handle;
    const char *approver_email;
    const char *autorenew;
    const char *sha;
    apr_array_header_t *host_names; /* NULL when absent */
    apr_array_header_t *dcv;        /* so_order_host_t, NULL when absent */
    int dns_auto, start;
    int has_csr, has_software, has_org, has_tech, has_admin, has_billing, has_approver,
        has_autorenew, has_sha, has_dns_auto, has_start;
    apr_int64_t managed_csr_id; /* a CSR of the CSR Manager in place of csr */
    int has_managed_csr;
} so_order_in_t;

/* Read the body into in (a 4xx answer on bad input). */
apr_status_t so_order_in_read(so_req_t *req, so_order_in_t *in);
/* Apply the present fields of in to o (see so_api_order_input.c). */
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
