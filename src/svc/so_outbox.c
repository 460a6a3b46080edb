#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "so_outbox.h"
#include "so_issuance.h"
#include "so_claim.h"
#include "so_order_view.h"
#include "../core/so_jsonw.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../core/so_webhook.h"

#define RUN_BATCH 50
#define RUN_MAX_ITEMS 5000
#define RUN_MAX_USEC apr_time_from_sec(50)

const char *const so_webhook_types[] = {
    "order.created",        "order.paid",          "order.validation_requested",
    "order.name_validated", "order.validation_failed", "order.issued",
    "order.reissued",       "order.renewed",       "order.revoked",
    "order.cancelled",      "order.refunded",      "order.expiring",
    "order.expired",        "order.autorenew_failed", "document.accepted",
    "document.rejected",    "team.balance_low",    "ping",
    NULL};

/* the types the server itself acts on (mail, SSLOrdersMessageCmd) */
static const char *const internal_types[] = {
    "order.validation_requested", "order.issued", "order.reissued", "order.renewed",
    "order.revoked", "order.expiring", "order.expired", "order.autorenew_failed", NULL};

/* Whether this server acts on an event of that type at all: the approval of
 * order.validation_requested always; the others only run the mail command (issued,
 * reissued, expiring, autorenew_failed) or SSLOrdersMessageCmd (all of them). A server with
 * neither writes no row for itself for those: the servers sharing a database carry the
 * same commands (docs/webhooks.md). sslordersctl does not know the servers' commands:
 * its rows are always written, for the servers to deliver. */
static int server_acts(const so_svc_ctx_t *ctx, const char *type)
{
    if (!strcmp(type, "order.validation_requested") || ctx->actor.kind == SO_ACTOR_CLI
        || ctx->cfg->message_argv) {
        return 1;
    }
    return ctx->cfg->mail_argv
           && (!strcmp(type, "order.issued") || !strcmp(type, "order.reissued")
               || !strcmp(type, "order.expiring") || !strcmp(type, "order.autorenew_failed"));
}

/* Rows this thread wrote to the outbox: flush_order delivers more than the rows it was
 * told of only when its deliveries wrote some (an approval mail, ...). */
static __thread unsigned long rows_written;
#define FLUSH_MAX 20

static apr_status_t outbox_insert(so_db_t *db, apr_pool_t *p, so_outbox_item_t *it)
{
    apr_status_t rv = so_store_outbox_insert(db, p, it);
    rows_written += rv == APR_SUCCESS;
    return rv;
}

static int in_list(const char *const *list, const char *s)
{
    int i;
    for (i = 0; list[i]; i++) {
        if (!strcmp(list[i], s)) {
            return 1;
        }
    }
    return 0;
}

int so_webhook_type_known(const char *type)
{
    return in_list(so_webhook_types, type);
}

int so_webhook_wants(const char *events, const char *type)
{
    const char *s = events;
    size_t n = strlen(type);
    if (!strcmp(type, "ping")) {
        return 1;
    }
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if ((len == 1 && *s == '*') || (len == n && !strncmp(s, type, n))) {
            return 1;
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

static const char *iso_time(apr_pool_t *p, apr_int64_t t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(p, buf);
}

/* ------------------------------------------------------------------------- */
/* writing events                                                              */

typedef struct {
    apr_int64_t order_id;
    int rows;
} noted_t;

typedef struct {
    apr_array_header_t *orders; /* noted_t: orders with rows for the server itself */
} note_t;

/* the background pass delivers everything itself (and swaps request pools): no notes */
static note_t background;

/* where the context keeps its note (the API: its request's slot, which every context made
 * for the request shares) */
static void **note_slot(so_svc_ctx_t *ctx)
{
    return ctx->outbox ? ctx->outbox : &ctx->outbox_own;
}

void so_outbox_background(so_svc_ctx_t *ctx)
{
    *note_slot(ctx) = &background;
}

static void note_order(so_svc_ctx_t *ctx, apr_int64_t order_id)
{
    note_t *n = *note_slot(ctx);
    int i;
    if (n == &background) {
        return;
    }
    if (!n) {
        n = *note_slot(ctx) = apr_pcalloc(ctx->pool, sizeof(*n));
        n->orders = apr_array_make(ctx->pool, 2, sizeof(noted_t));
    }
    for (i = 0; i < n->orders->nelts; i++) {
        if (APR_ARRAY_IDX(n->orders, i, noted_t).order_id == order_id) {
            APR_ARRAY_IDX(n->orders, i, noted_t).rows++;
            return;
        }
    }
    APR_ARRAY_PUSH(n->orders, noted_t) = (noted_t){order_id, 1};
}

static const char *event_body(apr_pool_t *p, const char *type, apr_int64_t at, const char *data,
                              apr_size_t dlen)
{
    so_jw_t *w = so_jw_make(p, dlen + 128);
    apr_size_t len;
    so_jw_obj(w);
    so_jw_kstr(w, "type", type);
    so_jw_kstr(w, "timestamp", iso_time(p, at));
    so_jw_key(w, "data");
    so_jw_raw(w, data, dlen);
    so_jw_obj_end(w);
    return so_jw_text(w, &len);
}

static apr_status_t order_data(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                               const char **data, apr_size_t *len)
{
    so_order_t *o;
    apr_array_header_t *one;
    so_jw_t *w;
    apr_status_t rv = so_store_order_get(ctx->db, ctx->pool, team_id, order_id, &o);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    one = apr_array_make(ctx->pool, 1, sizeof(so_order_t *));
    APR_ARRAY_PUSH(one, so_order_t *) = o;
    if ((rv = so_order_view_prepare(ctx, one)) != APR_SUCCESS) {
        return rv;
    }
    w = so_jw_make(ctx->pool, 4096);
    so_order_view_write(w, ctx, o);
    *data = so_jw_text(w, len);
    return APR_SUCCESS;
}

static const char *hooks_key(apr_pool_t *p, apr_int64_t team_id)
{
    return apr_psprintf(p, "so_outbox_hooks:%" APR_INT64_T_FMT, team_id);
}

/* The team's enabled webhooks, read once per request and team: an order's creation emits
 * two events (order.created, order.paid), a cancellation up to three. Each request (and
 * each order of a background pass) has its own pool, so a webhook added meanwhile counts
 * from the next one on. */
static apr_status_t team_hooks(so_svc_ctx_t *ctx, so_db_t *db, apr_int64_t team_id,
                               apr_array_header_t **hooks)
{
    const char *key = hooks_key(ctx->pool, team_id);
    void *seen = NULL;
    apr_status_t rv;

    if (apr_pool_userdata_get(&seen, key, ctx->pool) == APR_SUCCESS && seen) {
        *hooks = seen;
        return APR_SUCCESS;
    }
    rv = so_store_webhooks(db, ctx->pool, team_id, 1, hooks);
    if (rv == APR_SUCCESS) {
        apr_pool_userdata_set(*hooks, key, NULL, ctx->pool);
    }
    return rv;
}

void so_outbox_no_hooks(apr_pool_t *p, apr_int64_t team_id)
{
    apr_pool_userdata_set(apr_array_make(p, 1, sizeof(so_webhook_t *)), hooks_key(p, team_id),
                          NULL, p);
}

/* One event: the server's own row (internal types) and one row per endpoint that wants it.
 * data: the event's data as JSON text, NULL for the order's JSON (made when needed). */
static apr_status_t emit(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                         const char *type, const char *detail, const char *data)
{
    so_db_t *db = ctx->db;
    apr_array_header_t *hooks;
    const char *event_id, *body = NULL;
    so_outbox_item_t it;
    apr_status_t rv;
    int i;

    if ((rv = so_random_hex(&event_id, ctx->pool, 12)) != APR_SUCCESS) {
        return rv;
    }
    event_id = apr_pstrcat(ctx->pool, "msg_", event_id, NULL);
    memset(&it, 0, sizeof(it));
    it.event_id = event_id;
    it.team_id = team_id;
    it.order_id = order_id;
    it.type = type;
    it.created_at = ctx->now;
    it.next_at = ctx->now;
    if (order_id > 0 && in_list(internal_types, type) && server_acts(ctx, type)) {
        it.consumer = 0;
        it.payload = detail && *detail ? detail : "{}";
        if ((rv = outbox_insert(db, ctx->pool, &it)) != APR_SUCCESS) {
            return rv;
        }
        note_order(ctx, order_id);
    }
    if ((rv = team_hooks(ctx, db, team_id, &hooks)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < hooks->nelts; i++) {
        so_webhook_t *w = APR_ARRAY_IDX(hooks, i, so_webhook_t *);
        if (!so_webhook_wants(w->events, type)) {
            continue;
        }
        if (!body) {
            apr_size_t dlen = 0;
            if (!data) {
                if ((rv = order_data(ctx, team_id, order_id, &data, &dlen)) != APR_SUCCESS) {
                    return rv;
                }
            }
            else {
                dlen = strlen(data);
            }
            body = event_body(ctx->pool, type, ctx->now, data, dlen);
        }
        it.consumer = w->id;
        it.payload = body;
        if ((rv = outbox_insert(db, ctx->pool, &it)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_outbox_order_event(so_svc_ctx_t *ctx, const so_order_t *o, const char *kind,
                                   const char *detail)
{
    json_t *d = NULL;
    apr_status_t rv = APR_SUCCESS;
    const char *types[2] = {NULL, NULL};
    const char *data = NULL;
    int refunded = 0, i;

    if (!strcmp(kind, "created")) {
        types[0] = "order.created";
        types[1] = "order.paid"; /* the price is charged to the balance with the order */
    }
    else if (!strcmp(kind, "provisioning_requested")) {
        types[0] = "order.validation_requested";
    }
    else if (!strcmp(kind, "name_validated") || !strcmp(kind, "approved_by_email")) {
        types[0] = "order.name_validated";
    }
    else if (!strcmp(kind, "validation_failed") || !strcmp(kind, "organization_rejected")) {
        types[0] = "order.validation_failed";
    }
    else if (!strcmp(kind, "issued") || !strcmp(kind, "reissued") || !strcmp(kind, "renewed")
             || !strcmp(kind, "revoked") || !strcmp(kind, "expired")
             || !strcmp(kind, "autorenew_failed")) {
        types[0] = apr_pstrcat(ctx->pool, "order.", kind, NULL);
    }
    else if (!strcmp(kind, "reminder_sent")) {
        types[0] = "order.expiring";
    }
    else if (!strcmp(kind, "cancelled") || !strcmp(kind, "cancellation_requested")) {
        d = detail ? json_loads(detail, 0, NULL) : NULL;
        refunded = d && json_is_true(json_object_get(d, "refunded"));
        if (!strcmp(kind, "cancelled")) {
            types[0] = "order.cancelled";
        }
        if (refunded) {
            types[types[0] ? 1 : 0] = "order.refunded";
        }
    }
    else if (!strcmp(kind, "document_accepted") || !strcmp(kind, "document_rejected")) {
        d = detail ? json_loads(detail, 0, NULL) : json_object();
        if (d) {
            char *text;
            json_object_set_new(d, "order_id", json_integer((json_int_t)o->id));
            text = json_dumps(d, JSON_COMPACT);
            data = apr_pstrdup(ctx->pool, text ? text : "{}");
            free(text);
        }
        types[0] = !strcmp(kind, "document_accepted") ? "document.accepted" : "document.rejected";
    }
    if (d) {
        json_decref(d);
    }
    for (i = 0; i < 2 && rv == APR_SUCCESS && types[i]; i++) {
        rv = emit(ctx, o->team_id, o->id, types[i], detail, data);
    }
    return rv;
}

apr_status_t so_outbox_team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                                  json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    apr_status_t rv = emit(ctx, team_id, 0, type, NULL, text ? apr_pstrdup(ctx->pool, text) : "{}");
    free(text);
    json_decref(data);
    return rv;
}

apr_status_t so_outbox_ping(so_svc_ctx_t *ctx, const so_webhook_t *w, so_outbox_item_t **out)
{
    so_outbox_item_t *it = apr_pcalloc(ctx->pool, sizeof(*it));
    const char *id;
    apr_status_t rv = so_random_hex(&id, ctx->pool, 12);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    it->event_id = apr_pstrcat(ctx->pool, "msg_", id, NULL);
    it->team_id = w->team_id;
    it->type = "ping";
    it->consumer = w->id;
    it->created_at = it->next_at = ctx->now;
    it->payload = event_body(ctx->pool, "ping", ctx->now,
                             apr_psprintf(ctx->pool, "{\"webhook_id\":%" APR_INT64_T_FMT "}", w->id),
                             strlen(apr_psprintf(ctx->pool, "{\"webhook_id\":%" APR_INT64_T_FMT "}",
                                                 w->id)));
    if ((rv = outbox_insert(ctx->db, ctx->pool, it)) != APR_SUCCESS) {
        return rv;
    }
    *out = it;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* delivering                                                                  */

/* The outcome of a failed attempt: when the next is due, or failed after the retry time. */
static void retry_at(const so_outbox_item_t *it, apr_int64_t now, const char **status,
                     apr_int64_t *next)
{
    *next = now + so_wh_backoff(it->attempts + 1);
    *status = "pending";
    if (*next > it->created_at + SO_WEBHOOK_RETRY_SECS) {
        *status = "failed";
        *next = now;
    }
}

static apr_status_t deliver_internal(so_svc_ctx_t *ctx, so_outbox_item_t *it)
{
    so_db_t *db = ctx->db;
    so_order_t *o;
    const char *status = "done";
    apr_int64_t next = ctx->now;
    apr_status_t rv = so_store_order_get(db, ctx->pool, it->team_id, it->order_id, &o);

    if (rv == APR_SUCCESS) {
        rv = so_iss_deliver(ctx, o, it->type, it->payload, it->attempts);
    }
    else if (rv == APR_ENOENT) {
        rv = APR_SUCCESS; /* the order is gone: nothing to tell */
    }
    if (rv != APR_SUCCESS) {
        so_log_warn(SO_LOG_MARK, rv,
                    SOLOGNO(00600) "outbox %s of order %" APR_INT64_T_FMT " (attempt %d): %s",
                    it->type, it->order_id, it->attempts + 1,
                    db->errmsg ? db->errmsg : so_db_strerror(rv));
        retry_at(it, ctx->now, &status, &next);
    }
    return so_store_outbox_finish(db, ctx->pool, it->id, ctx->owner, status, next, 0);
}

static void endpoint_failed(so_svc_ctx_t *ctx, so_webhook_t *w)
{
    so_db_t *db = ctx->db;
    if (w->failing_since == 0) {
        w->failing_since = ctx->now;
    }
    else if (ctx->now - w->failing_since >= SO_WEBHOOK_DISABLE_SECS && w->enabled) {
        apr_array_header_t *to;
        w->enabled = 0;
        w->disabled_reason = apr_psprintf(ctx->pool, "every delivery failed since %s",
                                          so_time_fmt(ctx->pool, w->failing_since));
        so_log_warn(SO_LOG_MARK, APR_EGENERAL,
                    SOLOGNO(00601) "webhook %" APR_INT64_T_FMT " of team %" APR_INT64_T_FMT
                                   " disabled: %s",
                    w->id, w->team_id, w->disabled_reason);
        if (so_store_team_owner_emails(db, ctx->pool, w->team_id, &to) == APR_SUCCESS
            && to->nelts) {
            so_iss_mail(ctx, to, "A webhook endpoint was disabled",
                        apr_psprintf(ctx->pool,
                                     "The webhook endpoint %" APR_INT64_T_FMT " (%s) of your team "
                                     "was disabled: %s UTC.\n\nFix the receiver, then enable it "
                                     "again (PUT /v1beta/webhooks/%" APR_INT64_T_FMT " with "
                                     "{\"enabled\": true}) and redeliver what it missed.\n",
                                     w->id, w->url, w->disabled_reason, w->id));
        }
    }
    else {
        return;
    }
    w->updated_at = ctx->now;
    so_store_webhook_update(db, ctx->pool, w);
}

static apr_status_t deliver_webhook(so_svc_ctx_t *ctx, so_outbox_item_t *it, int *delivered)
{
    so_db_t *db = ctx->db;
    so_webhook_t *w;
    so_wh_post_t post;
    so_wh_result_t res;
    so_webhook_attempt_t a;
    const char *sig, *status = "done", *headers[4];
    apr_int64_t ts = apr_time_sec(apr_time_now()), next = ctx->now;
    apr_status_t rv2, rv = so_store_webhook_get(db, ctx->pool, it->team_id, it->consumer, &w);
    int ok;

    *delivered = 0;
    memset(&a, 0, sizeof(a));
    a.outbox_id = it->id;
    a.at = ctx->now;
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !w->enabled)) {
        /* the endpoint was removed or disabled: nothing is sent */
        return so_store_outbox_finish(db, ctx->pool, it->id, ctx->owner, "failed", next, 0);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* webhook-timestamp is the moment of sending (receivers compare it with their clock) */
    if ((rv = so_wh_sign(ctx->pool, w->secret, it->event_id, ts, it->payload,
                         strlen(it->payload), &sig))
        != APR_SUCCESS) {
        return rv;
    }
    if (*w->old_secret && w->old_secret_until > ctx->now) {
        const char *old;
        if (so_wh_sign(ctx->pool, w->old_secret, it->event_id, ts, it->payload,
                       strlen(it->payload), &old)
            == APR_SUCCESS) {
            sig = apr_pstrcat(ctx->pool, sig, " ", old, NULL);
        }
    }
    headers[0] = apr_pstrcat(ctx->pool, "webhook-id: ", it->event_id, NULL);
    headers[1] = apr_psprintf(ctx->pool, "webhook-timestamp: %" APR_INT64_T_FMT, ts);
    headers[2] = apr_pstrcat(ctx->pool, "webhook-signature: ", sig, NULL);
    headers[3] = NULL;
    memset(&post, 0, sizeof(post));
    post.url = w->url;
    post.headers = headers;
    post.body = it->payload;
    post.body_len = strlen(it->payload);
    post.allow_http = ctx->cfg->webhook_allow_http;
    post.allow_private = ctx->cfg->webhook_allow_private;
    rv = so_wh_post(ctx->pool, &post, &res);
    a.http_status = res.http_status;
    a.latency_ms = res.latency_ms;
    a.response = res.response;
    a.error = res.error;
    /* the outcome in one transaction: the attempt, the row, the endpoint's state */
    ok = rv == APR_SUCCESS && res.http_status >= 200 && res.http_status < 300;
    if ((rv2 = so_db_begin(db)) != APR_SUCCESS) {
        return rv2;
    }
    if (ok) {
        *delivered = 1;
        if (w->failing_since) {
            w->failing_since = 0;
            w->updated_at = ctx->now;
            so_store_webhook_update(db, ctx->pool, w);
        }
    }
    else {
        if (rv == APR_SUCCESS) {
            a.error = apr_psprintf(ctx->pool, "HTTP status %d", res.http_status);
        }
        retry_at(it, ctx->now, &status, &next);
        a.next_retry = strcmp(status, "pending") ? 0 : next;
        endpoint_failed(ctx, w);
    }
    rv = so_store_webhook_attempt_add(db, ctx->pool, w->id, &a);
    if (rv == APR_SUCCESS) {
        rv = so_store_outbox_finish(db, ctx->pool, it->id, ctx->owner, status, next,
                                    res.http_status);
    }
    return so_db_end(db, rv);
}

/* Claim and deliver one row; APR_EBUSY when another worker has it. */
static apr_status_t process(so_svc_ctx_t *ctx, so_outbox_item_t *it, int *delivered)
{
    so_db_t *db = ctx->db;
    apr_status_t rv = so_store_outbox_claim(db, ctx->pool, it->id, ctx->owner, ctx->now,
                                            ctx->now + SO_OUTBOX_CLAIM_SECS);
    *delivered = 0;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (it->consumer == 0) {
        rv = deliver_internal(ctx, it);
        *delivered = rv == APR_SUCCESS;
        return rv;
    }
    return deliver_webhook(ctx, it, delivered);
}

apr_status_t so_outbox_deliver_one(so_svc_ctx_t *ctx, so_outbox_item_t *it, int *delivered)
{
    return process(ctx, it, delivered);
}

/* Deliver the server's own rows of an order, first to last: the `rows` this work wrote, and
 * as many more as the deliveries write (an approval mail, ...). Each is claimed and read
 * in one statement; a row not due yet (an earlier one failed) or held by another worker
 * stops the flush: the background pass delivers the rest. */
static apr_status_t flush_order(so_svc_ctx_t *ctx, apr_int64_t order_id, int rows)
{
    int k;
    for (k = 0; k < rows && k < FLUSH_MAX; k++) {
        unsigned long before = rows_written;
        so_outbox_item_t *it;
        apr_status_t rv = so_store_outbox_claim_first(ctx->db, ctx->pool, order_id, 0, ctx->owner,
                                                      ctx->now, ctx->now + SO_OUTBOX_CLAIM_SECS,
                                                      &it);
        if (rv == APR_SUCCESS) {
            rv = deliver_internal(ctx, it);
        }
        if (rv != APR_SUCCESS) {
            return rv == APR_ENOENT || rv == APR_EBUSY ? APR_SUCCESS : rv;
        }
        rows += (int)(rows_written - before);
    }
    return APR_SUCCESS;
}

void so_outbox_after(so_svc_ctx_t *ctx)
{
    note_t *n = *note_slot(ctx);
    int i;
    *note_slot(ctx) = NULL;
    if (!n || n == &background) {
        return;
    }
    for (i = 0; i < n->orders->nelts; i++) {
        noted_t *o = &APR_ARRAY_IDX(n->orders, i, noted_t);
        apr_status_t rv = flush_order(ctx, o->order_id, o->rows);
        if (rv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
            so_log_warn(SO_LOG_MARK, rv,
                        SOLOGNO(00602) "the outbox of order %" APR_INT64_T_FMT
                                       " waits for the background job: %s",
                        o->order_id, so_db_strerror(rv));
        }
    }
    *note_slot(ctx) = NULL;
}

/* Rows claimed by a process of this host that no longer runs (killed mid-delivery) are due
 * again now, not when their claim runs out (SO_OUTBOX_CLAIM_SECS): delivered at least once,
 * as a retry after a lost answer is. */
static void sweep_gone_claims(so_svc_ctx_t *ctx)
{
    apr_array_header_t *ids, *owners;
    apr_pool_t *sub;
    int i;

    apr_pool_create(&sub, ctx->pool);
    if (so_store_outbox_claimed(ctx->db, sub, ctx->now, RUN_BATCH, &ids, &owners) == APR_SUCCESS) {
        for (i = 0; i < ids->nelts; i++) {
            const char *owner = APR_ARRAY_IDX(owners, i, const char *);
            apr_int64_t id = APR_ARRAY_IDX(ids, i, apr_int64_t);
            if (so_claim_holder_gone(ctx->cfg->instance, owner)
                && so_store_outbox_unclaim(ctx->db, sub, id, owner) == APR_SUCCESS) {
                so_log_warn(SO_LOG_MARK, APR_SUCCESS,
                            SOLOGNO(00603) "outbox row %" APR_INT64_T_FMT " was claimed by %s, "
                            "which is gone (its process ended): due again now", id, owner);
            }
        }
    }
    apr_pool_destroy(sub);
}

apr_status_t so_outbox_run(so_svc_ctx_t *ctx, int *worked)
{
    apr_time_t start = apr_time_now();
    int total = 0;
    apr_status_t rv = APR_SUCCESS;

    so_outbox_background(ctx);
    sweep_gone_claims(ctx);
    while (total < RUN_MAX_ITEMS && apr_time_now() - start < RUN_MAX_USEC) {
        apr_array_header_t *due;
        apr_pool_t *saved = ctx->pool, *sub;
        int i, claimed = 0;

        apr_pool_create(&sub, saved);
        ctx->pool = sub;
        rv = so_store_outbox_due(ctx->db, sub, ctx->now, RUN_BATCH, &due);
        for (i = 0; rv == APR_SUCCESS && i < due->nelts; i++) {
            int delivered = 0;
            apr_status_t r = process(ctx, APR_ARRAY_IDX(due, i, so_outbox_item_t *), &delivered);
            if (r == APR_EBUSY) {
                continue;
            }
            claimed++;
            total++;
            *worked += delivered;
            if (r != APR_SUCCESS) {
                rv = r;
            }
        }
        ctx->pool = saved;
        apr_pool_destroy(sub);
        if (rv != APR_SUCCESS || claimed == 0) {
            break;
        }
    }
    return rv;
}
