/* mod_sslorders: webhook endpoints of a team: create (the secret is shown once), list,
 * read, change, remove, rotate the secret (the old one signs too for 24 hours), send a
 * ping, the delivery log and redelivery. Another team's endpoint answers 404. */
#include <string.h>

#include <apr_strings.h>

#include "so_api_webhooks.h"
#include "../svc/so_outbox.h"
#include "so_api_svc.h"
#include "../core/so_util.h"
#include "../core/so_webhook.h"
#include "../store/so_store_outbox.h"

#define MAX_ENDPOINTS 20
#define ROTATE_OVERLAP 86400
#define DELIVERIES_MAX 200

static json_t *events_json(const char *events)
{
    json_t *a = json_array();
    char *list = strdup(events), *tok, *last = NULL;
    for (tok = list ? strtok_r(list, ",", &last) : NULL; tok; tok = strtok_r(NULL, ",", &last)) {
        json_array_append_new(a, json_string(tok));
    }
    free(list);
    return a;
}

static const char *tfmt(so_req_t *req, apr_int64_t t)
{
    return t > 0 ? so_time_fmt(req->pool, t) : "";
}

static json_t *webhook_json(so_req_t *req, const so_webhook_t *w)
{
    return json_pack("{s:I,s:s,s:o,s:s,s:b,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)w->id, "url",
                     w->url, "events", events_json(w->events), "description", w->description,
                     "enabled", w->enabled, "disabled_reason", w->disabled_reason, "failing_since",
                     tfmt(req, w->failing_since), "old_secret_until",
                     w->old_secret_until > req->now ? tfmt(req, w->old_secret_until) : "",
                     "created_at", tfmt(req, w->created_at), "updated_at",
                     tfmt(req, w->updated_at));
}

static json_t *delivery_json(so_req_t *req, const so_outbox_item_t *it)
{
    apr_array_header_t *attempts;
    json_t *a = json_array();
    int i;
    if (so_store_webhook_attempts(so_req_db(req), req->pool, it->id, &attempts) == APR_SUCCESS) {
        for (i = 0; i < attempts->nelts; i++) {
            so_webhook_attempt_t *t = APR_ARRAY_IDX(attempts, i, so_webhook_attempt_t *);
            json_array_append_new(
                a, json_pack("{s:s,s:i,s:i,s:s,s:s,s:s}", "at", tfmt(req, t->at), "http_status",
                             t->http_status, "latency_ms", t->latency_ms, "response", t->response,
                             "error", t->error, "next_retry", tfmt(req, t->next_retry)));
        }
    }
    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:s,s:i,s:s,s:o}", "id", (json_int_t)it->id,
                     "event_id", it->event_id, "type", it->type, "order_id",
                     (json_int_t)it->order_id, "created_at", tfmt(req, it->created_at), "status",
                     it->status, "last_status", it->last_status, "next_retry",
                     strcmp(it->status, "pending") ? "" : tfmt(req, it->next_at), "attempts", a);
}

/* events: ["*"] or known types; *out the stored list ("*" or "a,b") */
static apr_status_t read_events(so_req_t *req, json_t *a, const char **out)
{
    const char *list = "";
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 32) {
        return so_api_error(req, SO_E_WEBHOOK_EVENTS,
                            "events is a list of 1 to 32 event types, or [\"*\"]", "");
    }
    json_array_foreach(a, i, v)
    {
        const char *t = json_string_value(v);
        if (t && !strcmp(t, "*")) {
            *out = "*";
            return APR_SUCCESS;
        }
        if (!t || !so_webhook_type_known(t)) {
            return so_api_errorf(req, SO_E_WEBHOOK_EVENTS, "Unknown event type %s",
                                 t ? t : "(not a string)");
        }
        list = *list ? apr_pstrcat(req->pool, list, ",", t, NULL) : t;
    }
    *out = list;
    return APR_SUCCESS;
}

static apr_status_t read_url(so_req_t *req, const char *url)
{
    const char *why = NULL;
    if (so_wh_url_check(req->pool, url, req->cfg->webhook_allow_http,
                        req->cfg->webhook_allow_private, &why)
        != APR_SUCCESS) {
        return so_api_error(req, SO_E_WEBHOOK_URL, why ? why : "url: not accepted", url);
    }
    return APR_SUCCESS;
}

static apr_status_t load(so_req_t *req, so_webhook_t **w)
{
    apr_int64_t id;
    apr_status_t rv;
    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return so_api_error(req, SO_E_NOT_FOUND, "No such webhook", "");
    }
    rv = so_store_webhook_get(so_req_db(req), req->pool, req->auth->team_id, id, w);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No webhook %" APR_INT64_T_FMT, id);
    }
    return rv;
}

static apr_status_t create(so_req_t *req)
{
    so_webhook_t w;
    const char *url = NULL, *desc = "", *events = NULL;
    json_t *ev = NULL;
    apr_array_header_t *all;
    int enabled = 1;
    apr_status_t rv;

    if (so_in_str(req, req->json, "url", 1, 2000, &url, NULL)
        || so_in_array(req, req->json, "events", 1, 32, &ev, NULL)
        || so_in_str(req, req->json, "description", 0, 500, &desc, NULL)
        || so_in_bool(req, req->json, "enabled", 0, &enabled, NULL)) {
        return APR_EINVAL;
    }
    if (read_url(req, url) != APR_SUCCESS || read_events(req, ev, &events) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_webhooks(so_req_db(req), req->pool, req->auth->team_id, 0, &all))
        != APR_SUCCESS) {
        return rv;
    }
    if (all->nelts >= MAX_ENDPOINTS) {
        return so_api_errorf(req, SO_E_WEBHOOK_LIMIT, "A team has at most %d webhook endpoints",
                             MAX_ENDPOINTS);
    }
    memset(&w, 0, sizeof(w));
    w.team_id = req->auth->team_id;
    w.url = url;
    w.events = events;
    w.description = desc;
    w.enabled = enabled;
    w.created_at = w.updated_at = req->now;
    if ((rv = so_wh_secret_new(req->pool, &w.secret)) != APR_SUCCESS
        || (rv = so_store_webhook_insert(so_req_db(req), req->pool, &w)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s}", "id", (json_int_t)w.id, "secret", w.secret));
}

static apr_status_t list(so_req_t *req)
{
    apr_array_header_t *all;
    json_t *a;
    int i;
    apr_status_t rv = so_store_webhooks(so_req_db(req), req->pool, req->auth->team_id, 0, &all);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    a = json_array();
    for (i = 0; i < all->nelts; i++) {
        json_array_append_new(a, webhook_json(req, APR_ARRAY_IDX(all, i, so_webhook_t *)));
    }
    return so_api_ok_list(req, a, all->nelts);
}

static apr_status_t get(so_req_t *req)
{
    so_webhook_t *w;
    apr_status_t rv = load(req, &w);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, webhook_json(req, w));
}

static apr_status_t update(so_req_t *req)
{
    so_webhook_t *w;
    const char *url = NULL, *desc = NULL, *events = NULL;
    json_t *ev = NULL;
    int enabled = -1, has_enabled = 0;
    apr_status_t rv;

    if ((rv = load(req, &w)) != APR_SUCCESS) {
        return rv;
    }
    if (so_in_str(req, req->json, "url", 0, 2000, &url, NULL)
        || so_in_array(req, req->json, "events", 0, 32, &ev, NULL)
        || so_in_str(req, req->json, "description", 0, 500, &desc, NULL)
        || so_in_bool(req, req->json, "enabled", 0, &enabled, &has_enabled)) {
        return APR_EINVAL;
    }
    if ((url && read_url(req, url) != APR_SUCCESS)
        || (ev && read_events(req, ev, &events) != APR_SUCCESS)) {
        return APR_EINVAL;
    }
    if (url) {
        w->url = url;
    }
    if (events) {
        w->events = events;
    }
    if (desc) {
        w->description = desc;
    }
    if (has_enabled) {
        if (enabled && !w->enabled) {
            w->failing_since = 0; /* a fresh start */
            w->disabled_reason = "";
        }
        w->enabled = enabled;
    }
    w->updated_at = req->now;
    if ((rv = so_store_webhook_update(so_req_db(req), req->pool, w)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, webhook_json(req, w));
}

static apr_status_t remove_webhook(so_req_t *req)
{
    so_webhook_t *w;
    apr_status_t rv = load(req, &w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_webhook_delete(so_req_db(req), req->pool, w->team_id, w->id))
        != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok_id(req, w->id);
}

static apr_status_t rotate(so_req_t *req)
{
    so_webhook_t *w;
    const char *secret;
    apr_status_t rv = load(req, &w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_wh_secret_new(req->pool, &secret)) != APR_SUCCESS) {
        return rv;
    }
    w->old_secret = w->secret;
    w->old_secret_until = req->now + ROTATE_OVERLAP;
    w->secret = secret;
    w->updated_at = req->now;
    if ((rv = so_store_webhook_update(so_req_db(req), req->pool, w)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)w->id, "secret", secret,
                                    "old_secret_until", tfmt(req, w->old_secret_until)));
}

static apr_status_t answer_delivery(so_req_t *req, apr_int64_t id)
{
    so_outbox_item_t *it;
    apr_status_t rv = so_store_outbox_get(so_req_db(req), req->pool, id, &it);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, delivery_json(req, it));
}

static apr_status_t ping(so_req_t *req)
{
    so_webhook_t *w;
    so_outbox_item_t *it;
    int delivered = 0;
    apr_status_t rv = load(req, &w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_outbox_ping(so_api_svc_ctx(req), w, &it)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_outbox_deliver_one(so_api_svc_ctx(req), it, &delivered);
    if (rv != APR_SUCCESS && rv != APR_EBUSY) {
        return rv;
    }
    return answer_delivery(req, it->id);
}

static apr_status_t deliveries(so_req_t *req)
{
    so_webhook_t *w;
    apr_array_header_t *all;
    apr_int64_t limit = 50;
    json_t *a;
    int i;
    apr_status_t rv = load(req, &w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_q_int(req, "limit", 50, 1, DELIVERIES_MAX, &limit) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_webhook_deliveries(so_req_db(req), req->pool, w->id, (int)limit, &all))
        != APR_SUCCESS) {
        return rv;
    }
    a = json_array();
    for (i = 0; i < all->nelts; i++) {
        json_array_append_new(a, delivery_json(req, APR_ARRAY_IDX(all, i, so_outbox_item_t *)));
    }
    return so_api_ok_list(req, a, all->nelts);
}

static apr_status_t redeliver(so_req_t *req)
{
    so_webhook_t *w;
    so_outbox_item_t *it;
    apr_int64_t d;
    int delivered = 0;
    apr_status_t rv = load(req, &w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_req_param_id(req, "d", &d) != APR_SUCCESS
        || (rv = so_store_outbox_get(so_req_db(req), req->pool, d, &it)) == APR_ENOENT
        || (rv == APR_SUCCESS && (it->consumer != w->id || it->team_id != w->team_id))) {
        return so_api_error(req, SO_E_NOT_FOUND, "No such delivery of this webhook", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_outbox_redeliver(so_req_db(req), req->pool, it->id, req->now))
        != APR_SUCCESS) {
        return rv;
    }
    if (w->enabled) {
        /* at once (the same webhook-id); a waiting earlier event of the order goes first
         * in the background pass */
        it->status = "pending";
        rv = so_outbox_deliver_one(so_api_svc_ctx(req), it, &delivered);
        if (rv != APR_SUCCESS && rv != APR_EBUSY) {
            return rv;
        }
    }
    return answer_delivery(req, it->id);
}

const so_route_t so_routes_webhooks[] = {
    {"POST", "/webhooks", create, SO_ROLE_ADMIN, 0},
    {"GET", "/webhooks", list, SO_ROLE_ADMIN, 0},
    {"GET", "/webhooks/{id}", get, SO_ROLE_ADMIN, 0},
    {"PUT", "/webhooks/{id}", update, SO_ROLE_ADMIN, 0},
    {"DELETE", "/webhooks/{id}", remove_webhook, SO_ROLE_ADMIN, 0},
    {"POST", "/webhooks/{id}/rotate", rotate, SO_ROLE_ADMIN, 0},
    {"POST", "/webhooks/{id}/test", ping, SO_ROLE_ADMIN, 0},
    {"GET", "/webhooks/{id}/deliveries", deliveries, SO_ROLE_ADMIN, 0},
    {"POST", "/webhooks/{id}/deliveries/{d}/redeliver", redeliver, SO_ROLE_ADMIN, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
