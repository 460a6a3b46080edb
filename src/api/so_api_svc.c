/* mod_sslorders: the API's side of the service layer (see so_api_svc.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_api_svc.h"
#include "so_api_security.h"
#include "so_api_ssl.h"
#include "so_outbox.h"

/* What a context carries for the hooks (so_svc_ctx_t.caller): the request the hooks
 * hand to the API's functions. own: made for a context without a request (job, CLI,
 * ACME): it follows the context's pool, database and clock, and its outbox rows are
 * delivered by so_svc_after; otherwise it is the API request itself. */
typedef struct {
    so_req_t *req;
    int own;
} caller_t;

static so_db_t *ctx_db(so_req_t *req)
{
    return (so_db_t *)req->acquire_baton;
}

so_svc_ctx_t *so_api_svc_ctx(so_req_t *req)
{
    so_svc_ctx_t *ctx = apr_pcalloc(req->pool, sizeof(*ctx));
    caller_t *c = apr_pcalloc(req->pool, sizeof(*c));
    const so_principal_t *a = req->auth;

    ctx->pool = req->pool;
    ctx->db = so_req_db(req);
    ctx->cfg = req->cfg;
    ctx->now = req->now;
    ctx->owner = so_req_owner(req);
    if (!a) {
        ctx->actor.kind = SO_ACTOR_JOB; /* public pages (the approval link): "system" */
        ctx->actor.name = "system";
    }
    else {
        ctx->actor.kind = a->kind == SO_AUTH_OTP ? SO_ACTOR_TOKEN
                          : a->is_staff          ? SO_ACTOR_STAFF
                                                 : SO_ACTOR_USER;
        ctx->actor.user_id = a->kind == SO_AUTH_OTP ? 0 : a->user_id;
        ctx->actor.team_id = a->team_id;
        ctx->actor.order_id = a->kind == SO_AUTH_OTP ? a->otp_order_id : 0;
        ctx->actor.name = a->kind == SO_AUTH_OTP ? "order token" : a->username;
    }
    ctx->actor.request_id = apr_table_get(req->headers_in, "X-Request-Id");
    c->req = req;
    ctx->caller = c;
    return ctx;
}

/* whether the answer has this warning already (the request's parsing may have given
 * the one a service gives again, e.g. e-mail validation's retirement) */
static int warned(so_req_t *req, int code, const char *desc)
{
    size_t i;
    json_t *w;
    json_array_foreach(req->warnings, i, w)
    {
        if (json_integer_value(json_object_get(w, "code")) == code
            && !strcmp(json_string_value(json_object_get(w, "desc")), desc ? desc : "")) {
            return 1;
        }
    }
    return 0;
}

apr_status_t so_api_svc_answer(so_req_t *req, const so_result_t *res)
{
    if (res->warnings) {
        size_t i;
        json_t *w;
        json_array_foreach(res->warnings, i, w)
        {
            int code = (int)json_integer_value(json_object_get(w, "code"));
            const char *desc = json_string_value(json_object_get(w, "desc"));
            if (!warned(req, code, desc)) {
                so_api_warning(req, code, desc, json_string_value(json_object_get(w, "data")));
            }
        }
    }
    if (res->status != APR_SUCCESS && res->code) {
        return so_api_error(req, res->code, res->detail ? res->detail : "",
                            res->field ? res->field : "");
    }
    return res->status;
}

/* the request the API's functions get for ctx (made on first use for a context without
 * one, kept in step with the context) */
static so_req_t *req_of(so_svc_ctx_t *ctx)
{
    caller_t *c = ctx->caller;
    so_req_t *req;

    if (!c) {
        /* so_svc_ctx_make's contexts get theirs from attach; one made by hand: here */
        c = apr_pcalloc(ctx->pool, sizeof(*c));
        c->own = 1;
        ctx->caller = c;
    }
    if (!c->req) {
        c->req = so_req_create(ctx->pool, ctx->cfg);
        c->req->method = ctx->actor.kind == SO_ACTOR_CLI ? "CLI" : "JOB";
        c->req->path = "/";
        c->req->owner = ctx->owner;
        c->req->acquire = ctx_db;
    }
    req = c->req;
    if (c->own) {
        req->pool = ctx->pool;
        req->db = ctx->db;
        req->acquire_baton = ctx->db;
        req->cfg = ctx->cfg;
        req->now = ctx->now;
    }
    return req;
}

static void attach(so_svc_ctx_t *ctx)
{
    caller_t *c = apr_pcalloc(ctx->pool, sizeof(*c));
    c->own = 1;
    ctx->caller = c;
    req_of(ctx);
}

static apr_status_t order_event(so_svc_ctx_t *ctx, const so_order_t *o, const char *kind,
                                json_t *detail)
{
    caller_t *c = ctx->caller;
    if (c && c->own) {
        /* no request: the context's actor ("system" unless its maker named one) */
        return so_api_order_event_by(req_of(ctx), o, kind, detail, ctx->actor.user_id,
                                     ctx->actor.name ? ctx->actor.name : "system");
    }
    return so_api_order_event(req_of(ctx), o, kind, detail);
}

static apr_status_t team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                               json_t *data)
{
    return so_outbox_team_event(req_of(ctx), team_id, type, data);
}

static void background(so_svc_ctx_t *ctx)
{
    so_outbox_background(req_of(ctx));
}

static apr_status_t outbox_run(so_svc_ctx_t *ctx, int *worked)
{
    return so_outbox_run(req_of(ctx), worked);
}

static apr_status_t audit_prune(so_svc_ctx_t *ctx, int *pruned)
{
    return so_api_audit_prune(req_of(ctx), pruned);
}

static void after(so_svc_ctx_t *ctx)
{
    caller_t *c = ctx->caller;
    if (c && c->own && c->req) {
        so_outbox_after_request(req_of(ctx));
    }
}

static const so_svc_hooks_t api_hooks = {
    order_event, background, outbox_run, audit_prune, after, attach, team_event,
};

void so_api_svc_init(void)
{
    so_svc_set_hooks(&api_hooks);
}
