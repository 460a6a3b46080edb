/* mod_sslorders: the SSL endpoints (Openprovider compatible) and their JSON shapes,
 * shared with the features that build on them. */
#ifndef SO_API_SSL_H
#define SO_API_SSL_H

#include "so_api.h"
#include "../core/so_csr.h"
#include "../core/so_jsonw.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_order.h"

extern const so_route_t so_routes_catalog[];
extern const so_route_t so_routes_customers[];
extern const so_route_t so_routes_orders[];
extern const so_route_t so_routes_issuance[];
extern const so_route_t so_routes_public[];
extern const so_route_t so_routes_seal[];

/* SslProduct of the spec (plus portal extensions). */
json_t *so_api_product_json(so_req_t *req, const so_product_t *x, int with_price, int with_software,
                            int with_description);
/* DecodeCsr data of the spec (plus hashes, key type, names). */
json_t *so_api_csr_json(so_req_t *req, const so_csr_t *c);
/* SslOrder of the spec (plus portal extensions): src/svc/so_order_view.h. */
/* order_by.<key>=asc|desc -> "col ASC, col2 DESC" from (key, column) pairs. */
apr_status_t so_api_order_by(so_req_t *req, const char *const *allowed, const char **out);

/* A later feature reads its query parameters of the order list (e.g. folder_id, tag)
 * into the filter (the store makes the SQL); registered once at startup. */
typedef apr_status_t so_order_filter_fn(so_req_t *req, so_order_filter_t *f);
void so_api_orders_add_filter(so_order_filter_fn *fn);
/* The process's cache of order list pages (SSLOrdersListCache), made in each child;
 * bytes 0: none. */
void so_orders_cache_init(apr_pool_t *p, apr_size_t bytes);

/* New orders (POST /ssl/orders, the cart's checkout, ACME): the services of
 * src/svc/so_svc_order.h (prices, charges, ledger rows and events come from there only). */

/* Renewals bought in the cart (so_api_renewals.c): code/why set (1140) when the order
 * has a live renewal already; the orders' renewal_of / renewed_by fields. */
apr_status_t so_api_renewal_check(so_req_t *req, apr_int64_t order_id, int *code, const char **why);

/* The CSR Manager (so_api_csrs.c): the PEM of the team's managed CSR id, for
 * orders that give managed_csr_id in place of csr. Answers 404 otherwise. */
apr_status_t so_api_managed_csr_pem(so_req_t *req, apr_int64_t id, const char **pem);

/* Load the order {id} of the route for the caller (404 when not the team's or
 * not the OTP token's order). Answers and returns non-success on failure. */
apr_status_t so_api_order_load(so_req_t *req, so_order_t **out);
/* Append an audit event (inside or outside a transaction). */
apr_status_t so_api_order_event(so_req_t *req, const so_order_t *o, const char *kind, json_t *detail);

/* Staff: approve or reject the organization of an OV/EV order (any team). */
apr_status_t so_api_org_decide(so_req_t *req, apr_int64_t order_id, int approve, const char *reason);
/* RFC 5280 reason code of a reason name ("key_compromise", ...), -1 when unknown. */
int so_api_revoke_reason(const char *name);

/* Certificate tags: whether serial (upper hex, no leading zeros) names one of the
 * order's certificates (registered with so_api_set_cert_lookup). */
apr_status_t so_iss_cert_lookup(so_req_t *req, const so_order_t *o, const char *serial, int *found);

#endif
