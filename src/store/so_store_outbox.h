/* mod_sslorders: the transactional outbox and the teams' webhook endpoints.
 *
 * An outbox row is one thing to deliver for one event: consumer 0 is the server itself
 * (mail, SSLOrdersMessageCmd), consumer N the webhook endpoint N. The rows of an event
 * are written in the transaction of the change that causes it and share its event_id
 * (the webhook-id). A worker claims a row (claim_owner, claim_until) before it
 * delivers it, so several servers on one database never deliver a row twice at once. */
#ifndef SO_STORE_OUTBOX_H
#define SO_STORE_OUTBOX_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    const char *url;
    const char *events;      /* "*" or a comma separated list of types */
    const char *description;
    int enabled;
    const char *secret;      /* whsec_... */
    const char *old_secret;  /* signs too until old_secret_until ("" = none) */
    apr_int64_t old_secret_until;
    apr_int64_t failing_since; /* 0: the last delivery worked */
    const char *disabled_reason;
    apr_int64_t created_at, updated_at;
} so_webhook_t;

typedef struct {
    apr_int64_t id;
    const char *event_id;
    apr_int64_t team_id;
    apr_int64_t order_id; /* 0: not about an order */
    const char *type;
    apr_int64_t consumer; /* 0: the server (mail, message command); else a webhook id */
    const char *payload;  /* consumer 0: the event's detail; webhooks: the body sent */
    apr_int64_t created_at;
    const char *status;   /* pending, done, failed */
    int attempts;
    apr_int64_t next_at;
    int last_status;      /* HTTP status of the last attempt (0: none or no answer) */
} so_outbox_item_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t outbox_id;
    apr_int64_t at;
    int http_status;
    int latency_ms;
    const char *response; /* the first KiB of the answer */
    const char *error;
    apr_int64_t next_retry; /* 0: none */
} so_webhook_attempt_t;

/* ---- endpoints ---- */
apr_status_t so_store_webhook_insert(so_db_t *db, apr_pool_t *p, so_webhook_t *w);
apr_status_t so_store_webhook_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                  so_webhook_t **out);
/* The team's endpoints, oldest first (so_webhook_t*); enabled_only: the enabled ones. */
apr_status_t so_store_webhooks(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int enabled_only,
                               apr_array_header_t **out);
/* url, events, description, enabled, secrets, failing_since, disabled_reason */
apr_status_t so_store_webhook_update(so_db_t *db, apr_pool_t *p, const so_webhook_t *w);
apr_status_t so_store_webhook_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t id);
/* The e-mail addresses of the team's owners. */
apr_status_t so_store_team_owner_emails(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_array_header_t **out);

/* ---- the outbox ---- */
apr_status_t so_store_outbox_insert(so_db_t *db, apr_pool_t *p, so_outbox_item_t *it);
apr_status_t so_store_outbox_get(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_outbox_item_t **out);
/* Pending rows due at now and not claimed, oldest first, that no older pending row of the
 * same consumer and order precedes (one order's events in order). */
apr_status_t so_store_outbox_due(so_db_t *db, apr_pool_t *p, apr_int64_t now, int limit,
                                 apr_array_header_t **out);
/* Claim a due row until `until` (attempts + 1); APR_EBUSY when it is not (or no longer) due
 * or another worker holds it. */
apr_status_t so_store_outbox_claim(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *owner,
                                   apr_int64_t now, apr_int64_t until);
/* Claim the first pending row of an order for a consumer (0: the server itself) when it is
 * due, until `until`, and read it (attempts: the earlier ones): APR_ENOENT when there is
 * none, or it is not due yet, or another worker holds it. */
apr_status_t so_store_outbox_claim_first(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t consumer, const char *owner, apr_int64_t now,
                                         apr_int64_t until, so_outbox_item_t **out);
/* Pending rows claimed now (up to limit): their ids and claim owners, for a sweep of claims
 * whose holder is gone (so_claim.h). */
apr_status_t so_store_outbox_claimed(so_db_t *db, apr_pool_t *p, apr_int64_t now, int limit,
                                     apr_array_header_t **ids, apr_array_header_t **owners);
/* Drop owner's claim of a pending row (due again at once); APR_EBUSY when it changed. */
apr_status_t so_store_outbox_unclaim(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     const char *owner);
/* The outcome of the claimed row: status, the next attempt's time, the last HTTP status. */
apr_status_t so_store_outbox_finish(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *owner,
                                    const char *status, apr_int64_t next_at, int last_status);
/* Deliver the row again now (keeps its event id). */
apr_status_t so_store_outbox_redeliver(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                       apr_int64_t now);
/* The rows of one webhook, newest first (so_outbox_item_t*). */
apr_status_t so_store_webhook_deliveries(so_db_t *db, apr_pool_t *p, apr_int64_t webhook_id,
                                         int limit, apr_array_header_t **out);
apr_status_t so_store_webhook_attempt_add(so_db_t *db, apr_pool_t *p, apr_int64_t webhook_id,
                                          const so_webhook_attempt_t *a);
/* The attempts of one delivery, oldest first (so_webhook_attempt_t*). */
apr_status_t so_store_webhook_attempts(so_db_t *db, apr_pool_t *p, apr_int64_t outbox_id,
                                       apr_array_header_t **out);
/* Record a reminder as sent (inside a transaction: no failing statement when it was
 * recorded before); SO_EDBUNIQUE when it was. */
apr_status_t so_store_reminder_mark_once(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t expiry, int offset, apr_int64_t now);
/* Counts for the bench and the tests: rows by status. */
apr_status_t so_store_outbox_pending(so_db_t *db, apr_pool_t *p, apr_int64_t *pending);

#endif
