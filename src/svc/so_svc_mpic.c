/* mod_sslorders: multi-perspective issuance corroboration of an order before it is signed
 * (the primary's side; the perspective's handler is src/api/so_br_mpic.c). See so_mpic.h
 * and docs/baseline-requirements.md. */
#include <string.h>

#include <apr_strings.h>

#include "so_svc_br.h"
#include "../core/so_dcv.h"
#include "../core/so_log.h"
#include "../core/so_mpic.h"
#include "../core/so_util.h"
#include "../store/so_store_br.h"

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* What a perspective said about name: 1 agrees, 0 not (*reason). */
static int agrees(apr_pool_t *p, const so_mpic_answer_t *a, const char *name, int dcv,
                  int caa, const char **reason)
{
    json_t *results, *r;
    size_t i;
    if (!a->reached) {
        *reason = a->error ? a->error : "could not be reached";
        return 0;
    }
    results = json_object_get(a->data, "results");
    json_array_foreach(results, i, r) {
        json_t *d, *c;
        if (!jstr(r, "name") || strcmp(jstr(r, "name"), name)) {
            continue;
        }
        d = json_object_get(r, "dcv");
        c = json_object_get(r, "caa");
        if (dcv && !json_is_true(json_object_get(d, "ok"))) {
            *reason = apr_pstrcat(p, "domain validation: ",
                                  jstr(d, "detail") ? jstr(d, "detail") : "no answer", NULL);
            return 0;
        }
        if (caa && (!jstr(c, "status") || strcmp(jstr(c, "status"), "permitted"))) {
            *reason = apr_pstrcat(p, "CAA: ", jstr(c, "detail") ? jstr(c, "detail") : "no answer",
                                  NULL);
            return 0;
        }
        *reason = "";
        return 1;
    }
    *reason = "no answer for this name";
    return 0;
}

/* A method of the order API a perspective repeats from the order's token (ACME challenges
 * are repeated when they are validated: so_svc_mpic_acme) */
static int repeatable(const char *method)
{
    return !strcmp(method, "http") || !strcmp(method, "https") || !strcmp(method, "dns")
           || !strcmp(method, "dns-account");
}

/* The "persist" request of a name: the CA's identities and the account URIs a dns-persist
 * record may name (so_persist_check_any) */
static json_t *persist_request(apr_pool_t *p, const apr_array_header_t *ids,
                               const apr_array_header_t *uris)
{
    json_t *ji = json_array(), *ju = json_array();
    int j;
    for (j = 0; j < ids->nelts; j++) {
        json_array_append_new(ji, json_string(APR_ARRAY_IDX(ids, j, const char *)));
    }
    for (j = 0; j < uris->nelts; j++) {
        json_array_append_new(ju, json_string(APR_ARRAY_IDX(uris, j, const char *)));
    }
    (void)p;
    return json_pack("{s:o,s:o}", "identities", ji, "accounturis", ju);
}

/* Every perspective asked root (a request, stolen), in parallel: their answers */
static apr_array_header_t *ask(so_svc_ctx_t *ctx, json_t *root)
{
    const so_br_config_t *b = ctx->cfg->br;
    apr_array_header_t *answers;
    char *txt = root ? json_dumps(root, JSON_COMPACT) : NULL;
    const char *body = apr_pstrdup(ctx->pool, txt ? txt : "{}");
    free(txt);
    json_decref(root);
    so_mpic_query(ctx->pool, b->perspectives, b->perspective_secret ? b->perspective_secret : "",
                  body, b->mpic_timeout_ms, &answers);
    return answers;
}

/* The perspectives' answers about name (its domain validation when dcv, CAA when caa):
 * the quorum, recorded as the order's "mpic" check of the name (what: "" or what was
 * corroborated, for the detail) and logged when not met. 1: met. */
static int judge(so_svc_ctx_t *ctx, const apr_array_header_t *answers, apr_int64_t order_id,
                 const char *name, int dcv, int caa, const char *what, const char **qwhy)
{
    int mode = so_br_mpic_mode(ctx->cfg), agree = 0, ok, j;
    json_t *list = json_array();
    char *txt;
    so_br_check_t row;

    for (j = 0; j < answers->nelts; j++) {
        const so_mpic_answer_t *a = &APR_ARRAY_IDX(answers, j, so_mpic_answer_t);
        const char *reason = NULL;
        int yes = agrees(ctx->pool, a, name, dcv, caa, &reason);
        agree += yes;
        json_array_append_new(list, json_pack("{s:s,s:b,s:s}", "name", a->name, "agreed", yes,
                                              "detail", reason ? reason : ""));
    }
    ok = so_mpic_quorum(ctx->pool, answers->nelts, agree, ctx->now, qwhy);
    txt = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    memset(&row, 0, sizeof(row));
    row.host_name = name;
    row.kind = "mpic";
    row.status = ok ? "corroborated" : mode == SO_MPIC_REPORT ? "reported" : "refused";
    row.domain = mode == SO_MPIC_REPORT ? "report" : "on";
    row.record = apr_pstrdup(ctx->pool, txt ? txt : "[]");
    free(txt);
    row.detail = ok ? apr_psprintf(ctx->pool, "%d of %d remote perspectives corroborated%s",
                                   agree, answers->nelts, what)
                    : *qwhy;
    row.checked_at = ctx->now;
    if (order_id > 0) {
        so_store_br_check_set(ctx->db, ctx->pool, order_id, &row);
    }
    if (!ok) {
        so_log_perror(SO_LOG_MARK, SO_LOG_NOTICE, 0,
                      SOLOGNO(00851) "order %" APR_INT64_T_FMT ": MPIC for %s%s not met%s: %s",
                      order_id, name, what, mode == SO_MPIC_REPORT ? " (report mode: issued)" : "",
                      *qwhy);
    }
    return ok;
}

apr_status_t so_svc_mpic_order(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *states,
                               const char **why)
{
    const so_br_config_t *b = ctx->cfg->br;
    int mode = so_br_mpic_mode(ctx->cfg), caa, i, j;
    so_dcv_token_t *tok = NULL;
    apr_array_header_t *answers, *ids;
    json_t *names;
    const char *w = NULL;
    apr_status_t worst = APR_SUCCESS;

    *why = NULL;
    if (mode == SO_MPIC_OFF || states->nelts == 0) {
        return APR_SUCCESS;
    }
    caa = !b || b->caa != 0;
    ids = so_svc_caa_identities(ctx->pool, ctx->cfg);
    if (so_dcv_token_pem(&tok, ctx->pool, o->csr, ctx->cfg->ca_tag,
                         *o->dcv_unique ? o->dcv_unique : NULL, &w) != APR_SUCCESS) {
        tok = NULL;
    }
    names = json_array();
    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        json_t *one = json_pack("{s:s}", "name", h->host_name);
        if (!strcmp(h->method, "dns-persist")) { /* the team's record, from everywhere */
            apr_array_header_t *uris = apr_array_make(ctx->pool, 1, sizeof(const char *));
            APR_ARRAY_PUSH(uris, const char *) = so_svc_persist_account(ctx->pool, ctx->cfg,
                                                                        o->team_id);
            json_object_set_new(one, "persist", persist_request(ctx->pool, ids, uris));
        }
        else if (tok && repeatable(h->method)) {
            json_t *dcv = json_pack("{s:s,s:s,s:s,s:s,s:s}", "method", h->method, "md5",
                                    tok->md5, "sha256", tok->sha256, "unique",
                                    tok->unique ? tok->unique : "", "ca_tag", tok->ca_tag);
            if (!strcmp(h->method, "dns-account")) { /* the label comes from the account */
                json_object_set_new(dcv, "account",
                                    json_string(so_svc_persist_account(ctx->pool, ctx->cfg,
                                                                       o->team_id)));
            }
            json_object_set_new(one, "dcv", dcv);
        }
        if (caa) {
            json_t *jids = json_array();
            for (j = 0; j < ids->nelts; j++) {
                json_array_append_new(jids, json_string(APR_ARRAY_IDX(ids, j, const char *)));
            }
            json_object_set_new(one, "caa", json_pack("{s:o,s:s}", "identities", jids, "method",
                                                      so_caa_method_label(h->method)));
        }
        json_array_append_new(names, one);
    }
    answers = ask(ctx, json_pack("{s:o}", "names", names));

    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        int dcv = (tok && repeatable(h->method)) || !strcmp(h->method, "dns-persist");
        /* a name an ACME challenge validated: the perspectives repeated the challenge then
         * (so_svc_mpic_acme); now CAA */
        const char *what = !dcv && strstr(h->method, "-01") ? " for CAA" : "";
        const char *qwhy = NULL;
        if (!judge(ctx, answers, o->id, h->host_name, dcv, caa, what, &qwhy)) {
            so_svc_order_event(ctx, o, "mpic_not_corroborated",
                               json_pack("{s:s,s:s,s:s}", "host_name", h->host_name, "reason",
                                         qwhy, "mode", mode == SO_MPIC_REPORT ? "report" : "on"));
            if (mode == SO_MPIC_ON && worst == APR_SUCCESS) {
                worst = SO_EMPIC;
                *why = apr_psprintf(ctx->pool, "multi-perspective corroboration of %s failed: %s",
                                    h->host_name, qwhy);
            }
        }
    }
    return worst;
}


apr_status_t so_svc_mpic_acme(so_svc_ctx_t *ctx, apr_int64_t order_id, const char *name,
                              const char *type, const char *token, const char *keyauth,
                              const char *account_url, const char **why)
{
    int mode = so_br_mpic_mode(ctx->cfg);
    apr_array_header_t *answers;
    const char *qwhy = NULL, *what;

    *why = NULL;
    if (mode == SO_MPIC_OFF || !strcmp(type, "dns-persist-01")) {
        return APR_SUCCESS; /* dns-persist-01: so_svc_mpic_persist */
    }
    answers = ask(ctx, json_pack("{s:[{s:s,s:{s:s,s:s,s:s,s:s}}]}", "names", "name", name,
                                 "acme", "type", type, "token", token, "key_authorization",
                                 keyauth, "account", account_url ? account_url : ""));
    what = apr_pstrcat(ctx->pool, " (the ACME ", type, " challenge)", NULL);
    if (judge(ctx, answers, order_id, name, 1, 0, what, &qwhy) || mode != SO_MPIC_ON) {
        return APR_SUCCESS;
    }
    *why = apr_psprintf(ctx->pool, "multi-perspective corroboration of the %s challenge of %s "
                                   "failed: %s", type, name, qwhy);
    return SO_EMPIC;
}

apr_status_t so_svc_mpic_persist(so_svc_ctx_t *ctx, apr_int64_t order_id, const char *name,
                                 const apr_array_header_t *accounturis, const char **why)
{
    int mode = so_br_mpic_mode(ctx->cfg);
    apr_array_header_t *answers;
    const char *qwhy = NULL;

    *why = NULL;
    if (mode == SO_MPIC_OFF) {
        return APR_SUCCESS;
    }
    answers = ask(ctx, json_pack("{s:[{s:s,s:o}]}", "names", "name", name, "persist",
                                 persist_request(ctx->pool,
                                                 so_svc_caa_identities(ctx->pool, ctx->cfg),
                                                 accounturis)));
    if (judge(ctx, answers, order_id, name, 1, 0, " (the dns-persist record)", &qwhy)
        || mode != SO_MPIC_ON) {
        return APR_SUCCESS;
    }
    *why = apr_psprintf(ctx->pool, "multi-perspective corroboration of the dns-persist record "
                                   "of %s failed: %s", name, qwhy);
    return SO_EMPIC;
}
