/* mod_sslorders: the API's side of the service layer (see so_api_svc.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_api_svc.h"
#include "so_api_security.h"
#include "so_api_ssl.h"
#include "../svc/so_outbox.h"
#include "../svc/so_claim.h"

so_svc_ctx_t *so_api_svc_ctx(so_req_t *req)
{
    so_svc_ctx_t *ctx = apr_pcalloc(req->pool, sizeof(*ctx));
    const so_principal_t *a = req->auth;

    ctx->pool = req->pool;
    ctx->db = so_req_db(req);
    ctx->cfg = req->cfg;
    ctx->now = req->now;
    ctx->owner = so_req_owner(req);
    if (ctx->db) {
        so_claims_settle(ctx->db, req->pool); /* releases that failed (cheap when none) */
    }
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
    /* the outbox's note of the orders the request wrote events for: one per request,
     * delivered after it (so_api.c) */
    ctx->outbox = &req->outbox;
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
