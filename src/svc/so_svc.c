/* mod_sslorders: the service layer's context, results and events (see so_svc.h). */
#include <stdarg.h>

#include <apr_strings.h>

#include <stdlib.h>

#include "so_svc.h"
#include "so_outbox.h"
#include "so_claim.h"
#include "../store/so_store_security.h"
#include "../core/so_util.h"

so_svc_ctx_t *so_svc_ctx_make(apr_pool_t *p, so_db_t *db, const so_config_t *cfg,
                              apr_int64_t now, so_actor_kind_t kind)
{
    so_svc_ctx_t *ctx = apr_pcalloc(p, sizeof(*ctx));
    const char *r = NULL;

    ctx->pool = p;
    ctx->db = db;
    ctx->cfg = cfg;
    ctx->now = now;
    ctx->actor.kind = kind;
    ctx->actor.name = "system";
    if (so_random_hex(&r, p, 8) != APR_SUCCESS) {
        r = apr_psprintf(p, "%pp", (void *)ctx);
    }
    ctx->owner = apr_pstrcat(p, cfg->instance ? cfg->instance : "", ":", r, NULL);
    if (db) {
        so_claims_settle(db, p); /* releases of this process that failed (cheap when none) */
    }
    return ctx;
}

void so_svc_after(so_svc_ctx_t *ctx)
{
    so_outbox_after(ctx);
}

void so_result_init(so_result_t *res)
{
    res->status = APR_SUCCESS;
    res->code = 0;
    res->detail = NULL;
    res->field = NULL;
    res->warnings = NULL;
}

apr_status_t so_result_fail(so_result_t *res, apr_pool_t *p, apr_status_t status, int code,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->status = status;
    res->code = code;
    res->detail = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return status;
}

apr_status_t so_result_fail_data(so_result_t *res, apr_pool_t *p, apr_status_t status, int code,
                                 const char *data, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->status = status;
    res->code = code;
    res->detail = apr_pvsprintf(p, fmt, ap);
    res->field = data;
    va_end(ap);
    return status;
}

static apr_status_t json_cleanup(void *j)
{
    json_decref((json_t *)j);
    return APR_SUCCESS;
}

void so_result_warn(so_result_t *res, apr_pool_t *p, int code, const char *desc,
                    const char *data)
{
    if (!res->warnings) {
        res->warnings = json_array();
        apr_pool_cleanup_register(p, res->warnings, json_cleanup, apr_pool_cleanup_null);
    }
    json_array_append_new(res->warnings, json_pack("{s:i,s:s,s:s}", "code", code, "desc",
                                                   desc ? desc : "", "data", data ? data : ""));
}

apr_status_t so_svc_order_event(so_svc_ctx_t *ctx, const so_order_t *o, const char *kind,
                                json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    apr_status_t rv = so_store_order_event(ctx->db, ctx->pool, o->team_id, o->id,
                                           ctx->actor.user_id,
                                           ctx->actor.name ? ctx->actor.name : "system", kind,
                                           text ? text : "{}", ctx->now);
    if (rv == APR_SUCCESS) {
        /* the lifecycle events into the outbox, in the same transaction */
        rv = so_outbox_order_event(ctx, o, kind, text);
    }
    free(text);
    if (detail) {
        json_decref(detail);
    }
    return rv;
}

apr_status_t so_svc_team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                               json_t *data)
{
    return so_outbox_team_event(ctx, team_id, type, data);
}

apr_status_t so_svc_audit_prune(so_svc_ctx_t *ctx, int *pruned)
{
    *pruned = 0;
    if (ctx->cfg->audit_retention_days <= 0 || !ctx->db) {
        return APR_SUCCESS;
    }
    return so_store_audit_prune(ctx->db, ctx->pool,
                                ctx->now - ctx->cfg->audit_retention_days * 86400, pruned);
}
