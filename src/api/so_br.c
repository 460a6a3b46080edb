/* mod_sslorders: Baseline Requirements checks around issuance. See so_br.h. */
#include <string.h>

#include <apr_strings.h>

#include "so_br.h"
#include "../svc/so_svc_br.h"
#include "../svc/so_svc_order.h"
#include "so_api_svc.h"
#include "so_api_ssl.h"
#include "../core/so_jsonw.h"
#include "../core/so_log.h"
#include "../core/so_persist.h"
#include "../core/so_util.h"
#include "../core/so_resolve.h"
#include "../store/so_store_br.h"

void so_br_write_checks(so_jw_t *w, so_req_t *req, const apr_array_header_t *checks,
                        const char *host)
{
    int i;
    so_jw_key(w, "caa");
    for (i = 0; i < checks->nelts; i++) {
        const so_br_check_t *c = &APR_ARRAY_IDX(checks, i, so_br_check_t);
        if (strcmp(c->host_name, host) || strcmp(c->kind, "caa")) {
            continue;
        }
        so_jw_obj(w);
        so_jw_kstr(w, "status", c->status);
        so_jw_kstr(w, "domain", c->domain);
        so_jw_kstr(w, "record", c->record);
        so_jw_kstr(w, "detail", c->detail);
        so_jw_kstr(w, "dnssec", c->secure ? "secure" : "insecure");
        so_jw_kstr(w, "checked_at", so_time_fmt(req->pool, c->checked_at));
        so_jw_obj_end(w);
        so_br_write_mpic(w, req, checks, host);
        return;
    }
    so_jw_null(w);
    so_br_write_mpic(w, req, checks, host);
}

int so_br_email_phase(apr_int64_t now)
{
    return now >= SO_BR_EMAIL_END ? 2 : now >= SO_BR_EMAIL_WARN_FROM ? 1 : 0;
}

apr_status_t so_br_email_check(so_req_t *req, const char *host)
{
    so_result_t res;
    /* one deprecation warning per answer, whatever else it warns of already */
    if (so_br_email_phase(req->now) == 1 && req->warnings && json_array_size(req->warnings) > 0) {
        return APR_SUCCESS;
    }
    so_result_init(&res);
    so_svc_email_check(so_api_svc_ctx(req), &res, host);
    return so_api_svc_answer(req, &res);
}

int so_br_dnssec(const so_config_t *cfg)
{
    return !cfg->br || cfg->br->dnssec != 0;
}
