/* mod_sslorders: the Baseline Requirements checks of the services (no httpd types):
 * the DCV options, dns-persist, the CAA check before every issuance. The settings
 * (so_br_config_t) and the API's parts are in src/api/so_br.h; see
 * docs/baseline-requirements.md. */
#include <string.h>

#include <apr_strings.h>

#include "so_svc_br.h"
#include "so_issuance.h"
#include "../core/so_keyblock.h"
#include "../core/so_log.h"
#include "../core/so_persist.h"
#include "../core/so_util.h"
#include "../core/so_resolve.h"
#include "../store/so_store_br.h"

const char *so_svc_persist_account(apr_pool_t *p, const so_config_t *cfg, apr_int64_t team_id)
{
    return so_persist_account_uri(p, cfg->ca_tag, team_id);
}

apr_status_t so_svc_persist_check(so_svc_ctx_t *ctx, const so_order_t *o, const char *host,
                                 const so_dcv_opts_t *opts, const char **why)
{
    return so_persist_check(ctx->pool, opts, host, so_svc_caa_identities(ctx->pool, ctx->cfg),
                            so_svc_persist_account(ctx->pool, ctx->cfg, o->team_id), why);
}

void so_svc_dcv_opts(const so_config_t *cfg, so_dcv_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->connect_to = cfg->dcv_connect_to;
    opts->nameserver = cfg->dcv_nameserver;
    opts->dnssec = so_br_dnssec(cfg);
    opts->trust_anchor = cfg->br ? cfg->br->trust_anchor : NULL;
    opts->cancelled = so_iss_jobs_stopping; /* a probe ends when the process stops */
}

apr_array_header_t *so_svc_caa_identities(apr_pool_t *p, const so_config_t *cfg)
{
    apr_array_header_t *ids;
    if (cfg->br && cfg->br->caa_identities) {
        return cfg->br->caa_identities;
    }
    ids = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = cfg->ca_tag;
    return ids;
}

/* the CAA check of names with a resolver (NULL: a new one); *resolver is the one used */
static apr_status_t caa_check(so_svc_ctx_t *ctx, so_resolver_t **resolver,
                              const apr_array_header_t *names, const char *method,
                              const char *accounturi, apr_array_header_t **results,
                              const char **why)
{
    so_dcv_opts_t dopts;
    so_caa_opts_t o;
    apr_status_t rv, worst = APR_SUCCESS;
    int i;

    *why = NULL;
    *results = apr_array_make(ctx->pool, names->nelts, sizeof(so_caa_result_t));
    memset(&o, 0, sizeof(o));
    if (!*resolver) {
        so_svc_dcv_opts(ctx->cfg, &dopts);
        if ((rv = so_dcv_resolver(resolver, ctx->pool, &dopts, why)) != APR_SUCCESS) {
            return rv;
        }
    }
    o.resolver = *resolver;
    o.identities = so_svc_caa_identities(ctx->pool, ctx->cfg);
    o.method = so_caa_method_label(method);
    o.accounturi = accounturi;
    o.retries = 1;
    for (i = 0; i < names->nelts; i++) {
        so_caa_result_t *res = apr_array_push(*results);
        rv = so_caa_check_name(ctx->pool, APR_ARRAY_IDX(names, i, const char *), &o, res);
        if (rv != APR_SUCCESS && worst == APR_SUCCESS) {
            worst = rv;
            *why = res->detail;
        }
    }
    return worst;
}

apr_status_t so_svc_caa_check(so_svc_ctx_t *ctx, const apr_array_header_t *names, const char *method,
                             const char *accounturi, apr_array_header_t **results,
                             const char **why)
{
    so_resolver_t *r = NULL;
    return caa_check(ctx, &r, names, method, accounturi, results, why);
}

/* The order's stored CAA result of host when it may stand in for a lookup now: no CAA
 * record anywhere above the name, found less than SO_CAA_REUSE_SECS ago (BR 3.2.2.8: a CA
 * issues within the TTL of the CAA record or 8 hours, whichever is greater). A result that
 * named a record is looked up again: it depends on the method and the account. */
static const so_br_check_t *caa_reusable(const apr_array_header_t *checks, const char *host,
                                         apr_int64_t now)
{
    int i;
    for (i = 0; checks && i < checks->nelts; i++) {
        const so_br_check_t *c = &APR_ARRAY_IDX(checks, i, so_br_check_t);
        if (!strcmp(c->kind, "caa") && !strcmp(c->host_name, host)
            && !strcmp(c->status, "permitted") && !*c->domain && c->checked_at <= now
            && now - c->checked_at < SO_CAA_REUSE_SECS) {
            return c;
        }
    }
    return NULL;
}

apr_status_t so_svc_caa_order(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *states,
                             const char **why)
{
    return so_svc_caa_order_acme(ctx, o, states, NULL, why);
}

apr_status_t so_svc_caa_order_acme(so_svc_ctx_t *ctx, so_order_t *o,
                                   const apr_array_header_t *states, const char *accounturi,
                                   const char **why)
{
    so_db_t *db = ctx->db;
    /* one resolver for every name of the order: one context (and its thread) per issuance,
     * not per name; names of the order that share a parent domain reuse its answers within
     * this check only (a new resolver, with an empty cache, for every issuance) */
    so_resolver_t *resolver = NULL;
    so_caa_result_t *results;
    apr_array_header_t *earlier = NULL;
    apr_status_t worst = APR_SUCCESS, *rvs, wrv = APR_SUCCESS;
    int i, j, own_trans, looked = 0;

    *why = NULL;
    /* multi-perspective corroboration of the validation and CAA (off: nothing asked) */
    if ((worst = so_svc_mpic_order(ctx, o, states, why)) != APR_SUCCESS) {
        return worst;
    }
    if (ctx->cfg->br && ctx->cfg->br->caa == 0) {
        return APR_SUCCESS;
    }
    results = apr_pcalloc(ctx->pool, sizeof(*results) * (apr_size_t)(states->nelts + 1));
    rvs = apr_pcalloc(ctx->pool, sizeof(*rvs) * (apr_size_t)(states->nelts + 1));
    if (so_store_br_checks(db, ctx->pool, o->id, &earlier) != APR_SUCCESS) {
        earlier = NULL; /* looked up again */
    }
    /* the lookups first, with no transaction open (no lock held while the DNS answers) */
    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        apr_array_header_t *one = apr_array_make(ctx->pool, 1, sizeof(const char *)), *res;
        const char *w = NULL;

        if (caa_reusable(earlier, h->host_name, ctx->now)) {
            results[i].status = NULL; /* reused: its row stays as it is */
            continue;
        }
        looked++;
        APR_ARRAY_PUSH(one, const char *) = h->host_name;
        rvs[i] = caa_check(ctx, &resolver, one, h->method, accounturi, &res, &w);
        if (res->nelts == 0) { /* the resolver could not be made */
            *why = w;
            return rvs[i];
        }
        results[i] = APR_ARRAY_IDX(res, 0, so_caa_result_t);
    }
    if (!looked) {
        return APR_SUCCESS; /* every name's earlier result stands */
    }
    /* then the rows and events of every name: one transaction (one commit) */
    own_trans = db->trans == NULL && so_db_begin(db) == APR_SUCCESS;
    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        const so_caa_result_t *r = &results[i];
        apr_status_t rv = rvs[i], one_rv;
        so_br_check_t row;

        if (!r->status) {
            continue; /* reused */
        }
        memset(&row, 0, sizeof(row));
        row.host_name = h->host_name;
        row.kind = "caa";
        row.status = r->status;
        row.domain = r->domain;
        row.record = r->record;
        row.detail = r->detail;
        row.secure = r->secure;
        row.checked_at = ctx->now;
        one_rv = so_store_br_check_set(db, ctx->pool, o->id, &row);
        if (one_rv != APR_SUCCESS && wrv == APR_SUCCESS) {
            wrv = one_rv;
        }
        for (j = 0; j < r->iodef->nelts; j++) {
            so_svc_order_event(ctx, o, "caa_iodef",
                               json_pack("{s:s,s:s,s:s}", "host_name", h->host_name, "iodef",
                                         APR_ARRAY_IDX(r->iodef, j, const char *), "status",
                                         r->status));
        }
        if (rv != APR_SUCCESS) {
            so_svc_order_event(ctx, o, rv == SO_ECAA ? "caa_refused" : "caa_failed",
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
    if (own_trans) {
        so_db_end(db, wrv); /* the records are best effort: the check's outcome stands */
    }
    return worst;
}

/* ------------------------------------------------------------------------- */
/* blocked keys (BR 6.1.1.3)                                                    */

#define KEY_OK "so_svc_key_ok" /* pool data: the key hash found unblocked last */

apr_status_t so_svc_key_blocked(so_svc_ctx_t *ctx, const so_csr_t *csr, const char **why)
{
    const char *serial = NULL, *listed;
    void *seen = NULL;
    apr_status_t rv;

    if (ctx->cfg->br && (listed = so_keyblock_find(ctx->pool, ctx->cfg->br->blocked_keys, csr))) {
        *why = listed;
        return APR_EINVAL;
    }
    if (!csr->spki_sha256) {
        return APR_SUCCESS;
    }
    /* found unblocked already in this work (an ACME finalize checks the key for its answer,
     * then the issuance checks it again): the pool is a request's or one order's pass */
    if (apr_pool_userdata_get(&seen, KEY_OK, ctx->pool) == APR_SUCCESS && seen
        && !strcmp(seen, csr->spki_sha256)) {
        return APR_SUCCESS;
    }
    rv = so_store_key_blocked(ctx->db, ctx->pool, csr->spki_sha256, &serial);
    if (rv == APR_SUCCESS) {
        *why = apr_psprintf(ctx->pool, "the key is compromised: certificate %s with this key "
                                       "was revoked for key compromise", serial);
        return APR_EINVAL;
    }
    if (rv == APR_ENOENT) {
        apr_pool_userdata_set(apr_pstrdup(ctx->pool, csr->spki_sha256), KEY_OK, NULL, ctx->pool);
        return APR_SUCCESS;
    }
    return rv;
}

apr_status_t so_svc_key_compromised(so_svc_ctx_t *ctx, const so_cert_t *c, int reason)
{
    const char *spki;

    if (reason != 1 /* keyCompromise */) {
        return APR_SUCCESS;
    }
    if (so_keyblock_cert_spki(ctx->pool, c->pem, &spki) != APR_SUCCESS) {
        so_log_warn(SO_LOG_MARK, APR_EINVAL,
                    SOLOGNO(00976) "certificate %s: its key cannot be read and is not blocked",
                    c->serial);
        return APR_SUCCESS;
    }
    return so_store_key_block(ctx->db, ctx->pool, spki, reason, c->serial, ctx->now);
}

void so_svc_persist_instructions(apr_pool_t *p, const so_config_t *cfg, apr_int64_t team_id,
                                 const char *host, const char **record_name,
                                 const char **record_value, const char **text)
{
    const char *issuer = APR_ARRAY_IDX(so_svc_caa_identities(p, cfg), 0, const char *);
    *record_name = so_persist_record_name(p, host);
    *record_value = so_persist_record_value(p, issuer, so_svc_persist_account(p, cfg, team_id),
                                            !strncmp(host, "*.", 2));
    *text = apr_psprintf(p,
                         "Add a TXT record named %s with the value \"%s\". Set it once: it "
                         "validates %s for every later order of your team as long as it stays.",
                         *record_name ? *record_name : "?", *record_value, host);
}
