/* mod_sslorders: new orders as services (no HTTP request): the product and its price,
 * the order itself, what it pays for, what it still lacks before validation, storing it
 * with its "created" event and charging the team (see so_svc.h for the context).
 *
 * POST /ssl/orders, the cart's checkout and the ACME server's product-bound orders all
 * make their orders with these: the same rules, prices, ledger rows and events. The
 * team is the context's (actor.team_id); the ledger rows and events name the actor. */
#ifndef SO_SVC_ORDER_H
#define SO_SVC_ORDER_H

#include "so_svc.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_order.h"

/* The product on sale, sold for period, and its price in currency (the team's).
 * APR_EINVAL with res->code SO_E_PRODUCT (not on sale), SO_E_PERIOD or SO_E_CURRENCY and
 * res->detail; other statuses come from the database. */
apr_status_t so_svc_order_product(so_svc_ctx_t *ctx, apr_int64_t product_id, apr_int64_t period,
                                  const char *currency, so_product_t **prod,
                                  const so_price_t **price, so_result_t *res);

/* A new order of the context's team: PAI, no CSR, made by the actor, lands in the
 * default folder when stored. */
apr_status_t so_svc_order_new(so_svc_ctx_t *ctx, const so_product_t *prod,
                              const so_price_t *price, int period, so_order_t **out);

/* What the order pays for (from its CSR's names and host_names, or domain_amount /
 * wildcard_amount, -1 when not given) and its price. APR_EINVAL with res->code
 * (SO_E_CSR, SO_E_NAMES, ...) and res->detail saying why. */
apr_status_t so_svc_order_price(so_svc_ctx_t *ctx, const so_product_t *prod,
                                const so_price_t *price, so_order_t *o,
                                const apr_array_header_t *host_names, int domain_amount,
                                int wildcard_amount, so_result_t *res);

/* What the order still needs before it can be sent for validation (a phrase for people),
 * NULL when it is complete. Names without a method get "email" when an approver is set
 * (o->hosts is changed). */
const char *so_svc_order_missing(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o);

/* Inside the caller's transaction: insert the order and write its "created" event
 * (extra: more detail for it, may be NULL, stolen). The caller charges it with
 * so_svc_order_charge() in the same transaction. */
apr_status_t so_svc_order_store(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                json_t *extra);

/* Inside the caller's transaction: charge the stored order's price to its team with a
 * ledger row (and team.balance_low when the balance no longer covers it again).
 * SO_ENOFUNDS when the balance does not cover the price. The charge locks the team's
 * balance until the commit: callers make it their last write. */
apr_status_t so_svc_order_charge(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o);

#endif
