/* mod_sslorders: multi-perspective issuance corroboration around issuance: the perspective
 * handler and the primary's corroboration of an order. See so_br.h and so_mpic.h. */
#include <string.h>

#include <apr_strings.h>

#include "so_br.h"
#include "so_api_ssl.h"
#include "../svc/so_svc_br.h"
#include "../core/so_ca.h"
#include "../core/so_caa.h"
#include "../core/so_dcv.h"
#include "../core/so_jsonw.h"
#include "../core/so_log.h"
#include "../core/so_mpic.h"
#include "../core/so_persist.h"
#include "../core/so_util.h"
#include "../store/so_store_br.h"

#define MAX_NAMES 250

int so_br_mpic_mode(const so_config_t *cfg)
{
    const so_br_config_t *b = cfg->br;
    if (!b || !b->perspectives || b->perspectives->nelts == 0) {
        return SO_MPIC_OFF;
    }
    return b->mpic == -1 ? SO_MPIC_ON : b->mpic;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static so_dcv_method_t dcv_method(const char *m)
{
    return !m                      ? 0
           : !strcmp(m, "http")    ? SO_DCV_HTTP
           : !strcmp(m, "https")   ? SO_DCV_HTTPS
           : !strcmp(m, "dns")     ? SO_DCV_DNS
           : !strcmp(m, "cname")   ? SO_DCV_CNAME
           : !strcmp(m, "txt")     ? SO_DCV_TXT
           : !strcmp(m, "dns-account") ? SO_DCV_TXT /* at the account's label */
                                   : 0;
}

/* A check's outcome as the primary reads it */
static json_t *outcome(apr_status_t rv, const char *why)
{
    return json_pack("{s:b,s:s}", "ok", rv == APR_SUCCESS, "detail",
                     rv == APR_SUCCESS ? "validated" : why ? why : "not validated");
}

/* An ACME challenge of cname, as the primary's ACME server checked it (so_dcv_check_acme):
 * the "dcv" outcome, or NULL and *bad */
static json_t *serve_acme(so_req_t *req, const char *cname, json_t *acme,
                          const so_dcv_opts_t *opts, const char **bad)
{
    const char *type = jstr(acme, "type"), *token = jstr(acme, "token"), *why = NULL;
    const char *keyauth = jstr(acme, "key_authorization"), *account = jstr(acme, "account");
    apr_status_t rv;
    if (!type || !token || !*token || !keyauth || strncmp(keyauth, token, strlen(token))
        || keyauth[strlen(token)] != '.'
        || (strcmp(type, "http-01") && strcmp(type, "dns-01") && strcmp(type, "tls-alpn-01")
            && strcmp(type, "dns-account-01"))) {
        *bad = "acme needs type (http-01, dns-01, dns-account-01, tls-alpn-01), token and "
               "key_authorization (the token, \".\", the account key's thumbprint)";
        return NULL;
    }
    rv = so_dcv_check_acme(req->pool, type, cname, token, keyauth, account, opts, &why);
    return outcome(rv, why); /* not in one expression: why is set by the check */
}

/* The order API's validation of cname from the order's token hashes: the "dcv" outcome,
 * or NULL and *bad */
static json_t *serve_dcv(so_req_t *req, const char *cname, json_t *dcv,
                         const so_dcv_opts_t *opts, const char **bad)
{
    so_dcv_method_t m = dcv_method(jstr(dcv, "method"));
    so_dcv_token_t *tok = NULL;
    apr_status_t rv;
    const char *unique = jstr(dcv, "unique"), *account = jstr(dcv, "account"), *why = NULL;
    int labelled = !strcmp(jstr(dcv, "method") ? jstr(dcv, "method") : "", "dns-account");
    if (!m || !jstr(dcv, "md5") || !jstr(dcv, "sha256") || !jstr(dcv, "ca_tag")
        || (labelled && (!account || !*account))) {
        *bad = "dcv needs method (http, https, dns, cname, txt, dns-account), md5, sha256 "
               "and ca_tag (and account for dns-account)";
        return NULL;
    }
    rv = so_dcv_token_hashes(&tok, req->pool, jstr(dcv, "md5"), jstr(dcv, "sha256"),
                             jstr(dcv, "ca_tag"), unique && *unique ? unique : NULL, &why);
    if (rv != APR_SUCCESS) {
        *bad = apr_pstrcat(req->pool, "dcv: ", why ? why : "bad token", NULL);
        return NULL;
    }
    if (m == SO_DCV_HTTP || m == SO_DCV_HTTPS) {
        rv = so_dcv_check_http(req->pool, tok, cname, m == SO_DCV_HTTPS, opts, &why);
    }
    else if (labelled) {
        rv = so_dcv_check_account(req->pool, tok, cname, account, opts, &why);
    }
    else {
        rv = so_dcv_check_dns(req->pool, tok, cname, m, opts, &why);
    }
    return outcome(rv, why);
}

/* The strings of a JSON array (NULL when it is none or holds no string) */
static apr_array_header_t *str_list(apr_pool_t *p, json_t *arr)
{
    apr_array_header_t *l = apr_array_make(p, 2, sizeof(const char *));
    json_t *v;
    size_t i;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && *json_string_value(v)) {
            APR_ARRAY_PUSH(l, const char *) = apr_pstrdup(p, json_string_value(v));
        }
    }
    return l->nelts ? l : NULL;
}

/* dns-persist (BR 3.2.2.4.22) of name from here (so_persist_check_any): the "dcv"
 * outcome, or NULL and *bad. A wildcard name keeps its "*." (it needs policy=wildcard). */
static json_t *serve_persist(so_req_t *req, const char *name, json_t *persist,
                             const so_dcv_opts_t *opts, const char **bad)
{
    apr_array_header_t *ids = str_list(req->pool, json_object_get(persist, "identities"));
    apr_array_header_t *uris = str_list(req->pool, json_object_get(persist, "accounturis"));
    const char *why = NULL;
    apr_status_t rv;
    if (!ids || !uris) {
        *bad = "persist needs identities and accounturis (arrays of strings)";
        return NULL;
    }
    rv = so_persist_check_any(req->pool, opts, name, ids, uris, &why);
    return outcome(rv, why); /* not in one expression: why is set by the check */
}

/* CAA of cname from here: the "caa" result, or NULL and *bad */
static json_t *serve_caa(so_req_t *req, const char *cname, json_t *caa,
                         struct so_resolver_t *resolver, const char **bad)
{
    json_t *ids = json_object_get(caa, "identities"), *v;
    apr_array_header_t *idl = apr_array_make(req->pool, 2, sizeof(const char *));
    so_caa_opts_t co;
    so_caa_result_t res;
    size_t i;
    json_array_foreach(ids, i, v) {
        if (json_is_string(v)) {
            APR_ARRAY_PUSH(idl, const char *) = apr_pstrdup(req->pool, json_string_value(v));
        }
    }
    if (idl->nelts == 0) {
        *bad = "caa needs identities";
        return NULL;
    }
    memset(&co, 0, sizeof(co));
    memset(&res, 0, sizeof(res));
    co.identities = idl;
    co.method = jstr(caa, "method");
    co.accounturi = jstr(caa, "accounturi");
    co.resolver = resolver;
    co.retries = 1;
    if (!resolver) {
        res.status = "error";
        res.detail = "no resolver";
        res.record = "";
    }
    else {
        so_caa_check_name(req->pool, cname, &co, &res);
    }
    return json_pack("{s:s,s:s,s:s}", "status", res.status, "record", res.record ? res.record : "",
                     "detail", res.detail ? res.detail : "");
}

/* One name's checks from here: the result object (stolen by the caller), or NULL and *bad. */
static json_t *serve_name(so_req_t *req, json_t *in, const so_dcv_opts_t *opts,
                          struct so_resolver_t *resolver, const char **bad)
{
    const char *name = jstr(in, "name"), *why = NULL, *cname;
    json_t *dcv = json_object_get(in, "dcv"), *caa = json_object_get(in, "caa");
    json_t *acme = json_object_get(in, "acme"), *persist = json_object_get(in, "persist");
    json_t *out, *part;

    if (!name || so_ca_check_name(&cname, req->pool, name, &why) != APR_SUCCESS) {
        *bad = "a name is missing or not a DNS name";
        return NULL;
    }
    out = json_pack("{s:s}", "name", cname);
    if (json_is_object(acme) || json_is_object(dcv) || json_is_object(persist)) {
        part = json_is_object(acme)      ? serve_acme(req, cname, acme, opts, bad)
               : json_is_object(persist) ? serve_persist(req, cname, persist, opts, bad)
                                         : serve_dcv(req, cname, dcv, opts, bad);
        if (!part) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "dcv", part);
    }
    if (json_is_object(caa)) {
        if (!(part = serve_caa(req, cname, caa, resolver, bad))) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "caa", part);
    }
    return out;
}

apr_status_t so_br_perspective_serve(so_req_t *req, apr_int64_t wall_now)
{
    const so_br_config_t *b = req->cfg->br;
    const char *why = NULL, *bad = NULL;
    json_t *body, *names, *one, *results;
    so_dcv_opts_t opts;
    struct so_resolver_t *resolver = NULL;
    size_t i;

    if (!req->method || strcmp(req->method, "POST")) {
        return so_api_error(req, SO_E_INVALID, "A perspective answers POST only", "");
    }
    if (so_mpic_verify(req->pool, b ? b->perspective_secret : NULL,
                       so_req_header(req, "X-SSLOrders-MPIC-Time"),
                       so_req_header(req, "X-SSLOrders-MPIC-Nonce"),
                       so_req_header(req, "X-SSLOrders-MPIC-Signature"),
                       req->body ? req->body : "", req->body_len, wall_now,
                       b ? b->nonce_dir : NULL, &why)
        != APR_SUCCESS) {
        so_log_perror(SO_LOG_MARK, SO_LOG_NOTICE, 0,
                      SOLOGNO(00850) "perspective: request from %s refused: %s", req->client_ip,
                      why);
        return so_api_error(req, SO_E_PERSPECTIVE_AUTH,
                            "The perspective request is not authenticated", why);
    }
    body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    names = body ? json_object_get(body, "names") : NULL;
    if (!json_is_array(names) || json_array_size(names) == 0
        || json_array_size(names) > MAX_NAMES) {
        json_decref(body);
        return so_api_error(req, SO_E_INVALID,
                            "The body must be {\"names\": [...]} with 1 to 250 names", "names");
    }
    so_svc_dcv_opts(req->cfg, &opts);
    if (so_dcv_resolver(&resolver, req->pool, &opts, &why) == APR_SUCCESS) {
        opts.resolver = resolver;
    }
    results = json_array();
    json_array_foreach(names, i, one) {
        json_t *r = json_is_object(one) ? serve_name(req, one, &opts, resolver, &bad) : NULL;
        if (!r) {
            json_decref(results);
            json_decref(body);
            return so_api_error(req, SO_E_INVALID, bad ? bad : "a name is not an object",
                                "names");
        }
        json_array_append_new(results, r);
    }
    json_decref(body);
    so_api_ok(req, json_pack("{s:o}", "results", results));
    {
        /* the answer, signed for the request's nonce (so_mpic_sign_answer) */
        apr_size_t len = 0;
        const char *text = so_api_answer_json(req, &len);
        apr_table_setn(req->headers_out, "X-SSLOrders-MPIC-Answer-Signature",
                       so_mpic_sign_answer(req->pool, b->perspective_secret,
                                           so_req_header(req, "X-SSLOrders-MPIC-Nonce"), text,
                                           len));
        return so_api_ok_bytes(req, text, len, "application/json");
    }
}

void so_br_write_mpic(so_jw_t *w, so_req_t *req, const apr_array_header_t *checks,
                      const char *host)
{
    int i;
    so_jw_key(w, "mpic");
    for (i = 0; i < checks->nelts; i++) {
        const so_br_check_t *c = &APR_ARRAY_IDX(checks, i, so_br_check_t);
        json_t *list, *e;
        size_t k;
        if (strcmp(c->host_name, host) || strcmp(c->kind, "mpic")) {
            continue;
        }
        so_jw_obj(w);
        so_jw_kstr(w, "status", c->status);
        so_jw_kstr(w, "mode", c->domain);
        so_jw_kstr(w, "detail", c->detail);
        so_jw_key(w, "perspectives");
        so_jw_arr(w);
        list = json_loads(c->record ? c->record : "[]", 0, NULL);
        json_array_foreach(list, k, e) {
            so_jw_obj(w);
            so_jw_kstr(w, "name", jstr(e, "name"));
            so_jw_kbool(w, "agreed", json_is_true(json_object_get(e, "agreed")));
            so_jw_kstr(w, "detail", jstr(e, "detail"));
            so_jw_obj_end(w);
        }
        json_decref(list);
        so_jw_arr_end(w);
        so_jw_kstr(w, "checked_at", so_time_fmt(req->pool, c->checked_at));
        so_jw_obj_end(w);
        return;
    }
    so_jw_null(w);
}
