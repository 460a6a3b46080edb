/* mod_sslorders: the order's JSON, SslOrder of the Openprovider spec plus the portal's
 * fields (no HTTP request): written by the API's answers (one order, list pages) and by
 * the webhook events (so_outbox.c).
 *
 *   so_order_view_prepare(ctx, orders);      one query per feature for the batch
 *   so_order_view_write(w, ctx, o);          for each order
 *
 * The fields of the features over orders (current certificate, folder, tags, renewals)
 * come after the order's own, in that order. */
#ifndef SO_ORDER_VIEW_H
#define SO_ORDER_VIEW_H

#include "so_svc.h"
#include "../core/so_jsonw.h"
#include "../store/so_store_order.h"

/* Load what the orders' features add (hung on so_order_t.ext); the orders are one team's. */
apr_status_t so_order_view_prepare(so_svc_ctx_t *ctx, apr_array_header_t *orders);
/* The request's credential said whether the team has any tags, any renewal links: views
 * prepared on p (the request's pool) skip the lookups of what it has none of (a tag added
 * meanwhile moves the list version: the next page is built again). */
void so_order_view_team_has(apr_pool_t *p, apr_int64_t team_id, int tags, int renewals);
/* Write one prepared order as a JSON object. */
void so_order_view_write(so_jw_t *w, so_svc_ctx_t *ctx, const so_order_t *o);

#endif
