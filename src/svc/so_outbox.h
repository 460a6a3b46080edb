/* mod_sslorders: the transactional outbox (no httpd types).
 *
 * so_svc_order_event() hands every order event to so_outbox_order_event() inside the
 * transaction of the change: the lifecycle events become outbox rows there, one for the
 * server itself (mail, SSLOrdersMessageCmd; see so_iss_deliver) and one per subscribed
 * webhook endpoint of the team, all with one event id. After the request the server's
 * own rows of the orders it touched are delivered at once (so_outbox_after);
 * the background pass (so_outbox_run) delivers everything due, claimed row by row, and
 * retries on the server's clock. A process killed at any moment loses nothing: what it
 * committed is in the outbox, what it claimed is taken up again when the claim ends. */
#ifndef SO_OUTBOX_H
#define SO_OUTBOX_H

#include "so_svc.h"
#include "../store/so_store_order.h"
#include "../store/so_store_outbox.h"

#define SO_OUTBOX_CLAIM_SECS 120
#define SO_WEBHOOK_RETRY_SECS (3 * 86400)   /* a delivery is retried for 3 days */
#define SO_WEBHOOK_DISABLE_SECS (5 * 86400) /* an endpoint failing this long is disabled */

/* The webhook event types, NULL terminated. */
extern const char *const so_webhook_types[];
int so_webhook_type_known(const char *type);

/* Inside the caller's transaction: the outbox rows of an order event (kind as in
 * so_svc_order_event, detail its JSON text). Kinds that are no lifecycle event: nothing. */
apr_status_t so_outbox_order_event(so_svc_ctx_t *ctx, const so_order_t *o, const char *kind,
                                   const char *detail);

/* Inside the caller's transaction: an event that is not about an order (team.balance_low). */
/* The credential said the team has no enabled webhook: the events written on this pool (the
 * request's) read none (a webhook added meanwhile counts from the next request on, as
 * with team_hooks). */
void so_outbox_no_hooks(apr_pool_t *p, apr_int64_t team_id);

apr_status_t so_outbox_team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                                  json_t *data);

/* After a request (or a context's work, so_svc_after): deliver the server's own rows (mail,
 * message command) of the orders it wrote events for. Best effort: the background pass
 * retries. */
void so_outbox_after(so_svc_ctx_t *ctx);

/* The background pass: no notes of touched orders (it delivers everything due itself). */
void so_outbox_background(so_svc_ctx_t *ctx);

/* The background pass: every due row, *worked counts the delivered ones. */
apr_status_t so_outbox_run(so_svc_ctx_t *ctx, int *worked);

/* Deliver one webhook row now (claimed here); *res tells what the receiver answered. */
apr_status_t so_outbox_deliver_one(so_svc_ctx_t *ctx, so_outbox_item_t *it, int *delivered);

/* The row of a ping to one endpoint (not delivered yet). */
apr_status_t so_outbox_ping(so_svc_ctx_t *ctx, const so_webhook_t *w, so_outbox_item_t **out);

/* Whether an endpoint's event list takes this type. */
int so_webhook_wants(const char *events, const char *type);

#endif
