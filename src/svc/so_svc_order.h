/* mod_sslorders: orders as services (no HTTP request): the product and its price, the
 * order itself, its input's checks, what it pays for, what it still lacks before
 * validation, storing it with its "created" event and charging the team
 * (so_svc_order.c); update, cancel and the approver address (so_svc_order_change.c).
 * See so_svc.h for the context.
 *
 * POST /ssl/orders, the cart's checkout and the ACME server's product-bound orders all
 * make their orders with these: the same rules, prices, ledger rows and events. The
 * team is the context's (actor.team_id); the ledger rows and events name the actor. */
#ifndef SO_SVC_ORDER_H
#define SO_SVC_ORDER_H

#include "so_svc.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_order.h"

/* The fields of an order's body (create, update, reissue) as the API read them;
 * has_x: x was present. */
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
} so_svc_order_in_t;

/* Apply the present fields of in to o (the order's product is prod; creating: a new
 * order) and check them: the CSR and its key, the names (recomputed when the CSR or
 * host_names change; an existing order's must fit what was paid for), the validation
 * methods, the contact handles (of the context's team), the approver address, autorenew,
 * the signature algorithm, software, DNS automation. APR_EINVAL with res->code, detail
 * and field (the error's data); warnings in res->warnings. */
apr_status_t so_svc_order_apply(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                const so_svc_order_in_t *in, int creating, so_result_t *res);

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

/* Inside the caller's transaction: insert the order, link it to the order it renews
 * (renewal_of, 0: none) and write its "created" event (extra: more detail for it, may be
 * NULL, stolen), so the event shows the order with its renewal link. The caller charges it
 * with so_svc_order_charge() in the same transaction. */
apr_status_t so_svc_order_store(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                apr_int64_t renewal_of, json_t *extra);

/* Inside the caller's transaction: charge the stored order's price to its team with a
 * ledger row (and team.balance_low when the balance no longer covers it again).
 * SO_ENOFUNDS when the balance does not cover the price. The charge locks the team's
 * balance until the commit: callers make it their last write. */
apr_status_t so_svc_order_charge(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o);

/* An Idempotency-Key of a create: key (NULL: none) and hash (what the request was). On a
 * key used before by the same request, replayed is set and response is the first answer
 * (JSON text); by another request: APR_EINVAL, SO_E_IDEMPOTENCY. */
typedef struct {
    const char *key;
    const char *hash;
    int replayed;
    const char *response;
} so_svc_idem_t;

/* A new order of the context's team from in (product_id and period present): the
 * product and its price in currency, the input applied and checked, the price of its
 * names; start_provision: complete (SO_E_INCOMPLETE otherwise) and REQ. Then in one
 * transaction: the idempotency key (idem may be NULL), the order and its events, and the
 * charge as the last write (SO_E_FUNDS when the balance does not cover it: nothing is
 * written). Validation starts from the outbox ("provisioning_requested") after the
 * commit. APR_EINVAL with res->code etc.; other statuses come from the database. */
apr_status_t so_svc_order_create(so_svc_ctx_t *ctx, const so_svc_order_in_t *in,
                                 const char *currency, so_svc_idem_t *idem, so_order_t **out,
                                 so_result_t *res);

/* Cancel the order order_id of team_id: PAI or REQ become FAI with their price refunded
 * ("cancelled"); ACT becomes REJ ("cancellation_requested", refunded within 30 days of
 * issue), its live certificates are revoked (cessationOfOperation) and then it is FAI
 * ("cancelled" after revocation). Version-checked writes, retried (SO_E_CONCURRENT when
 * the order kept changing). APR_ENOENT (SO_E_NOT_FOUND) when the team has no such
 * order; APR_EINVAL with SO_E_STATUS in another status. */
apr_status_t so_svc_order_cancel(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                 so_result_t *res);

/* Update the order order_id of team_id with in. keys: the body's field names as given
 * (managed_csr_id counts as csr; id and unknown names are skipped): one tied to the
 * product, not allowed in the order's status, or (an order token's context) other than
 * domain_validation_methods refuses the whole update (SO_E_STATUS_FIELD). Then in is
 * applied (so_svc_order_apply), start_provision makes it REQ when complete
 * (SO_E_INCOMPLETE otherwise), and the order is written with its "updated" event
 * (and "provisioning_requested"); a stale version: again from the start (SO_E_CONCURRENT
 * when it kept changing). APR_ENOENT (SO_E_NOT_FOUND) when the team has no such order. */
apr_status_t so_svc_order_update(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                 const so_svc_order_in_t *in, const apr_array_header_t *keys,
                                 so_result_t *res);

/* An order in REQ: email given: its approver address becomes email (an approver of every
 * name validated by e-mail and of the common name: SO_E_APPROVER otherwise;
 * "approver_email_changed"); email NULL: the approval mail again ("approver_email_resend_
 * requested"; SO_E_STATUS when no name is validated by e-mail). Then the approval mail
 * is sent (best effort). Another status: SO_E_STATUS. */
apr_status_t so_svc_order_approver(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                   const char *email, so_result_t *res);

/* E-mail validation of host after the Baseline Requirements retire it: refused (res failed,
 * SO_E_EMAIL_DCV_RETIRED) from 2028-03-15, a warning in res (when it has none yet) from
 * 2026-03-15. The API's read of domain_validation_methods uses it too (so_br_email_check). */
apr_status_t so_svc_email_check(so_svc_ctx_t *ctx, so_result_t *res, const char *host);

#endif
