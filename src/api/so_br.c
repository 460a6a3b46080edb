/* mod_sslorders: Baseline Requirements checks around issuance. See so_br.h. */
#include <string.h>

#include <apr_strings.h>

#include "so_br.h"
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
    switch (so_br_email_phase(req->now)) {
    case 2:
        return so_api_errorf(req, SO_E_EMAIL_DCV_RETIRED,
                             "e-mail validation of %s is not allowed from 2028-03-15 (Baseline "
                             "Requirements 3.2.2.4): use dns, dns-persist, http or https",
                             host),
               APR_EINVAL;
    case 1:
        if (!req->warnings || json_array_size(req->warnings) == 0) {
            so_api_warning(req, SO_E_EMAIL_DCV_RETIRED,
                           "E-mail domain validation is deprecated since 2026-03-15 and refused "
                           "from 2028-03-15 (Baseline Requirements): prefer dns, dns-persist, "
                           "http or https",
                           host);
        }
        return APR_SUCCESS;
    default:
        return APR_SUCCESS;
    }
}

const char *so_br_persist_account(so_req_t *req, apr_int64_t team_id)
{
    return so_persist_account_uri(req->pool, req->cfg->ca_tag, team_id);
}

void so_br_persist_instructions(so_req_t *req, apr_int64_t team_id, const char *host,
                                const char **record_name, const char **record_value,
                                const char **text)
{
    const char *issuer = APR_ARRAY_IDX(so_br_caa_identities(req), 0, const char *);
    *record_name = so_persist_record_name(req->pool, host);
    *record_value = so_persist_record_value(req->pool, issuer, so_br_persist_account(req, team_id),
                                            !strncmp(host, "*.", 2));
    *text = apr_psprintf(req->pool,
                         "Add a TXT record named %s with the value \"%s\". Set it once: it "
                         "validates %s for every later order of your team as long as it stays.",
                         *record_name ? *record_name : "?", *record_value, host);
}

apr_status_t so_br_persist_check(so_req_t *req, const so_order_t *o, const char *host,
                                 const so_dcv_opts_t *opts, const char **why)
{
    return so_persist_check(req->pool, opts, host, so_br_caa_identities(req),
                            so_br_persist_account(req, o->team_id), why);
}

int so_br_dnssec(const so_config_t *cfg)
{
    return !cfg->br || cfg->br->dnssec != 0;
}

void so_br_dcv_opts(so_req_t *req, so_dcv_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->connect_to = req->cfg->dcv_connect_to;
    opts->nameserver = req->cfg->dcv_nameserver;
    opts->dnssec = so_br_dnssec(req->cfg);
    opts->trust_anchor = req->cfg->br ? req->cfg->br->trust_anchor : NULL;
}

apr_array_header_t *so_br_caa_identities(so_req_t *req)
{
    apr_array_header_t *ids;
    if (req->cfg->br && req->cfg->br->caa_identities) {
        return req->cfg->br->caa_identities;
    }
    ids = apr_array_make(req->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = req->cfg->ca_tag;
    return ids;
}

apr_status_t so_br_caa_check(so_req_t *req, const apr_array_header_t *names, const char *method,
                             const char *accounturi, apr_array_header_t **results,
                             const char **why)
{
    so_dcv_opts_t dopts;
    so_caa_opts_t o;
    apr_status_t rv, worst = APR_SUCCESS;
    int i;

    *why = NULL;
    *results = apr_array_make(req->pool, names->nelts, sizeof(so_caa_result_t));
    so_br_dcv_opts(req, &dopts);
    memset(&o, 0, sizeof(o));
    if ((rv = so_dcv_resolver(&o.resolver, req->pool, &dopts, why)) != APR_SUCCESS) {
        return rv;
    }
    o.identities = so_br_caa_identities(req);
    o.method = so_caa_method_label(method);
    o.accounturi = accounturi;
    o.retries = 1;
    for (i = 0; i < names->nelts; i++) {
        so_caa_result_t *res = apr_array_push(*results);
        rv = so_caa_check_name(req->pool, APR_ARRAY_IDX(names, i, const char *), &o, res);
        if (rv != APR_SUCCESS && worst == APR_SUCCESS) {
            worst = rv;
            *why = res->detail;
        }
    }
    return worst;
}

apr_status_t so_br_caa_order(so_req_t *req, so_order_t *o, const apr_array_header_t *states,
                             const char **why)
{
    return so_br_caa_order_acme(req, o, states, NULL, why);
}

apr_status_t so_br_caa_order_acme(so_req_t *req, so_order_t *o, const apr_array_header_t *states,
                                  const char *accounturi, const char **why)
{
    so_db_t *db = so_req_db(req);
    apr_status_t worst = APR_SUCCESS;
    int i;

    *why = NULL;
    /* multi-perspective corroboration of the validation and CAA (off: nothing asked) */
    if ((worst = so_br_mpic_order(req, o, states, why)) != APR_SUCCESS) {
        return worst;
    }
    if (req->cfg->br && req->cfg->br->caa == 0) {
        return APR_SUCCESS;
    }
    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        apr_array_header_t *one = apr_array_make(req->pool, 1, sizeof(const char *)), *res;
        const char *w = NULL;
        so_caa_result_t *r;
        so_br_check_t row;
        apr_status_t rv;
        int j;

        APR_ARRAY_PUSH(one, const char *) = h->host_name;
        rv = so_br_caa_check(req, one, h->method, accounturi, &res, &w);
        if (res->nelts == 0) { /* the resolver could not be made */
            *why = w;
            return rv;
        }
        r = &APR_ARRAY_IDX(res, 0, so_caa_result_t);
        memset(&row, 0, sizeof(row));
        row.host_name = h->host_name;
        row.kind = "caa";
        row.status = r->status;
        row.domain = r->domain;
        row.record = r->record;
        row.detail = r->detail;
        row.secure = r->secure;
        row.checked_at = req->now;
        so_store_br_check_set(db, req->pool, o->id, &row);
        for (j = 0; j < r->iodef->nelts; j++) {
            so_api_order_event(req, o, "caa_iodef",
                               json_pack("{s:s,s:s,s:s}", "host_name", h->host_name, "iodef",
                                         APR_ARRAY_IDX(r->iodef, j, const char *), "status",
                                         r->status));
        }
        if (rv != APR_SUCCESS) {
            so_api_order_event(req, o, rv == SO_ECAA ? "caa_refused" : "caa_failed",
                               json_pack("{s:s,s:s,s:s}", "host_name", h->host_name, "record",
                                         r->record, "reason", r->detail));
            so_log_perror(SO_LOG_MARK, SO_LOG_INFO, rv,
                          SOLOGNO(00554) "order %" APR_INT64_T_FMT ": CAA %s for %s: %s", o->id,
                          r->status, h->host_name, r->detail);
            if (worst == APR_SUCCESS) {
                worst = rv;
                *why = r->detail;
            }
        }
    }
    return worst;
}
