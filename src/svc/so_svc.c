/* mod_sslorders: the service layer's context, results and hooks (see so_svc.h). */
#include <stdarg.h>

#include <apr_strings.h>

#include "so_svc.h"
#include "../core/so_util.h"

static const so_svc_hooks_t *hooks;

void so_svc_set_hooks(const so_svc_hooks_t *h)
{
    hooks = h;
}

const so_svc_hooks_t *so_svc_hooks(void)
{
    return hooks;
}

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
    if (hooks && hooks->attach) {
        hooks->attach(ctx);
    }
    return ctx;
}

void so_svc_after(so_svc_ctx_t *ctx)
{
    if (hooks && hooks->after) {
        hooks->after(ctx);
    }
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
    if (!hooks || !hooks->order_event) {
        if (detail) {
            json_decref(detail);
        }
        return APR_ENOTIMPL;
    }
    return hooks->order_event(ctx, o, kind, detail);
}

apr_status_t so_svc_team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                               json_t *data)
{
    if (!hooks || !hooks->team_event) {
        if (data) {
            json_decref(data);
        }
        return APR_ENOTIMPL;
    }
    return hooks->team_event(ctx, team_id, type, data);
}
