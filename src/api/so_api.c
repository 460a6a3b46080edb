#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_api.h"
#include "so_auth.h"
#include "so_api_security.h"
#include "so_api_ssl.h"
#include "so_api_org.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../svc/so_outbox.h"
#include "../core/so_domain.h"
#include "../core/so_log.h"
#include "../core/so_util.h"

void so_api_init(void)
{
    so_routes();
    so_stmts_init();
    so_domain_init();
    so_api_org_init();
    so_api_set_cert_lookup(so_iss_cert_lookup);
}

void so_config_defaults(so_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_body = 1024 * 1024;
    cfg->max_upload = 10 * 1024 * 1024;
    cfg->seal_max_age = 300;
    cfg->acme_orders_per_hour = 300;
    cfg->acme_accounts_per_hour = 50;
    cfg->list_cache = 16 * 1024 * 1024;
    cfg->public_url = "";
    cfg->token_ttl = 48 * 3600;
    cfg->session_ttl = 8 * 3600;
    cfg->session_max_age = 7 * 86400;
    cfg->audit_retention_days = 365;
    cfg->login_max_failures = 10;
    cfg->login_window = 15 * 60;
    cfg->ca_tag = "sslorders.local";
    cfg->pki_url = "";
    cfg->mail_from = "";
    cfg->brand_name = "";
    cfg->brand_logo = "";
    cfg->brand_color = "";
    cfg->support_url = "";
    cfg->job_interval = 60;
    cfg->instance = "sslorders";
}

/* ------------------------------------------------------------------------- */
/* jansson helpers                                                             */

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *so_json_pool(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

json_t *so_json_i64(apr_int64_t v)
{
    return json_integer((json_int_t)v);
}

json_t *so_json_str(const char *s)
{
    json_t *j = json_string(s ? s : "");
    /* invalid UTF-8 from a database row must not make the answer fail */
    return j ? j : json_string("");
}

json_t *so_json_time(apr_pool_t *p, apr_int64_t epoch)
{
    return json_string(epoch > 0 ? so_time_fmt(p, epoch) : "");
}

/* ------------------------------------------------------------------------- */
/* requests                                                                    */

void so_api_write_backoff(int attempt)
{
    so_write_backoff(attempt);
}

const char *so_req_owner(so_req_t *req)
{
    if (!req->owner) {
        const char *r = NULL;
        if (so_random_hex(&r, req->pool, 8) != APR_SUCCESS) {
            r = apr_psprintf(req->pool, "%pp", (void *)req);
        }
        req->owner = apr_pstrcat(req->pool, req->cfg->instance, ":", r, NULL);
    }
    return req->owner;
}

static apr_status_t answer_cleanup(void *data);

so_req_t *so_req_create(apr_pool_t *p, const so_config_t *cfg)
{
    so_req_t *req = apr_pcalloc(p, sizeof(*req));
    req->pool = p;
    /* the answer's JSON values go with the pool, whoever fills them (dispatch, the CLI) */
    apr_pool_cleanup_register(p, req, answer_cleanup, apr_pool_cleanup_null);
    req->cfg = cfg;
    req->params = apr_table_make(p, 4);
    req->query = apr_array_make(p, 8, sizeof(so_kv_t));
    req->headers_in = apr_table_make(p, 8);
    req->headers_out = apr_table_make(p, 4);
    req->client_ip = "";
    req->body = "";
    req->now = apr_time_sec(apr_time_now());
    req->status = 200;
    return req;
}

so_db_t *so_req_db(so_req_t *req)
{
    if (!req->db && req->acquire) {
        req->db = req->acquire(req);
    }
    return req->db;
}

const char *so_req_param(so_req_t *req, const char *name)
{
    return apr_table_get(req->params, name);
}

apr_status_t so_req_param_id(so_req_t *req, const char *name, apr_int64_t *id)
{
    const char *v = so_req_param(req, name);
    if (!v || so_parse_int64(v, 1, 0x7fffffff, id) != APR_SUCCESS) {
        return so_api_error(req, SO_E_NOT_FOUND, "Not found", apr_psprintf(req->pool, "no such %s", name));
    }
    return APR_SUCCESS;
}

const char *so_req_query(so_req_t *req, const char *key)
{
    int i;
    for (i = 0; i < req->query->nelts; i++) {
        so_kv_t *kv = &APR_ARRAY_IDX(req->query, i, so_kv_t);
        if (!strcmp(kv->key, key)) {
            return kv->value;
        }
    }
    return NULL;
}

apr_array_header_t *so_req_query_all(so_req_t *req, const char *key)
{
    apr_array_header_t *a = apr_array_make(req->pool, 4, sizeof(const char *));
    int i;
    for (i = 0; i < req->query->nelts; i++) {
        so_kv_t *kv = &APR_ARRAY_IDX(req->query, i, so_kv_t);
        if (!strcmp(kv->key, key)) {
            APR_ARRAY_PUSH(a, const char *) = kv->value;
        }
    }
    return a;
}

const char *so_req_header(so_req_t *req, const char *name)
{
    return apr_table_get(req->headers_in, name);
}

const char *so_req_cookie(so_req_t *req, const char *name)
{
    const char *hdr = so_req_header(req, "Cookie");
    apr_size_t nlen = strlen(name);
    const char *s = hdr;

    while (s && *s) {
        const char *end;
        while (*s == ' ' || *s == ';' || *s == '\t') {
            s++;
        }
        end = strchr(s, ';');
        if (!strncmp(s, name, nlen) && s[nlen] == '=') {
            const char *v = s + nlen + 1;
            return end ? apr_pstrmemdup(req->pool, v, (apr_size_t)(end - v))
                       : apr_pstrdup(req->pool, v);
        }
        s = end;
    }
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* answers                                                                     */

static void reset_answer(so_req_t *req)
{
    req->status = 200;
    if (req->data) {
        json_decref(req->data);
        req->data = NULL;
    }
    if (req->warnings) {
        json_decref(req->warnings);
        req->warnings = NULL;
    }
    req->err_code = 0;
    req->err_desc = NULL;
    req->err_data = NULL;
    req->raw_body = NULL;
    req->raw_len = 0;
    req->raw_ctype = NULL;
    req->data_raw = NULL;
}

static apr_status_t answer_cleanup(void *data)
{
    so_req_t *req = data;
    if (req->data) {
        json_decref(req->data);
        req->data = NULL;
    }
    if (req->warnings) {
        json_decref(req->warnings);
        req->warnings = NULL;
    }
    if (req->json) {
        json_decref(req->json);
        req->json = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t so_api_ok(so_req_t *req, json_t *data)
{
    if (req->data) {
        json_decref(req->data);
    }
    req->status = 200;
    req->err_code = 0;
    req->data = data ? data : json_object();
    return APR_SUCCESS;
}

apr_status_t so_api_ok_raw(so_req_t *req, const char *json, apr_size_t len)
{
    if (req->data) {
        json_decref(req->data);
        req->data = NULL;
    }
    req->status = 200;
    req->err_code = 0;
    req->data_raw = json;
    req->data_raw_len = len;
    return APR_SUCCESS;
}

apr_status_t so_api_ok_id(so_req_t *req, apr_int64_t id)
{
    return so_api_ok(req, json_pack("{s:I}", "id", (json_int_t)id));
}

apr_status_t so_api_ok_bytes(so_req_t *req, const void *data, apr_size_t len, const char *ctype)
{
    req->status = 200;
    req->raw_body = data;
    req->raw_len = len;
    req->raw_ctype = ctype;
    return APR_SUCCESS;
}

apr_status_t so_api_ok_list(so_req_t *req, json_t *results, apr_int64_t total)
{
    return so_api_ok(req, json_pack("{s:o,s:I}", "results", results, "total", (json_int_t)total));
}

void so_api_error_set(so_req_t *req, int code, const char *desc, const char *data)
{
    if (req->data) {
        json_decref(req->data);
        req->data = NULL;
    }
    req->data_raw = NULL;
    req->err_code = code;
    req->status = so_error_http(code);
    req->err_desc = desc ? desc : "";
    req->err_data = data ? data : "";
    req->raw_body = NULL;
}

void so_api_errorf_set(so_req_t *req, int code, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    va_start(ap, fmt);
    msg = apr_pvsprintf(req->pool, fmt, ap);
    va_end(ap);
    so_api_error_set(req, code, msg, "");
}

void so_api_warning(so_req_t *req, int code, const char *desc, const char *data)
{
    if (!req->warnings) {
        req->warnings = json_array();
    }
    json_array_append_new(req->warnings, json_pack("{s:i,s:s,s:s}", "code", code, "desc",
                                                   desc ? desc : "", "data", data ? data : ""));
}

apr_status_t so_api_fail(so_req_t *req, apr_status_t rv)
{
    if (rv == SO_ANSWERED) {
        return rv; /* answered already */
    }
    if (SO_DB_IS_UNAVAILABLE(rv)) {
        so_api_error(req, SO_E_DB_UNAVAILABLE, "The database is unavailable, please retry",
                     so_db_strerror(rv));
        apr_table_setn(req->headers_out, "Retry-After", "5");
    }
    else if (rv == APR_ENOENT) {
        so_api_error(req, SO_E_NOT_FOUND, "Not found", "");
    }
    else {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00009) "%s %s failed: %s", req->method, req->path,
                     req->db && req->db->errmsg ? req->db->errmsg : so_db_strerror(rv));
        so_api_error(req, SO_E_INTERNAL, "Internal error", "");
    }
    return SO_ANSWERED;
}

const char *so_api_answer_json(so_req_t *req, apr_size_t *len)
{
    json_t *env;
    char *text;
    const char *out;

    if (!req->err_code && req->data_raw) {
        /* data is already JSON text: the envelope is put around it */
        char *w = req->warnings ? json_dumps(req->warnings, JSON_COMPACT) : NULL;
#define LIT(s) {(void *)(s), sizeof(s) - 1}
        /* one copy of a page that may be tens of kilobytes */
        struct iovec v[] = {LIT("{\"code\":0,\"desc\":\"\",\"data\":"),
                            {(void *)req->data_raw, req->data_raw_len},
                            LIT(",\"maintenance\":false"),
                            LIT(",\"warnings\":"),
                            {w, w ? strlen(w) : 0},
                            LIT("}")};
#undef LIT
        if (!w) {
            v[3].iov_len = 0;
        }
        out = apr_pstrcatv(req->pool, v, sizeof(v) / sizeof(v[0]), len);
        free(w);
        return out;
    }
    if (req->err_code) {
        env = json_pack("{s:i,s:s,s:s}", "code", req->err_code, "desc", req->err_desc ? req->err_desc : "",
                        "data", req->err_data ? req->err_data : "");
    }
    else {
        env = json_pack("{s:i,s:s,s:O,s:b}", "code", 0, "desc", "", "data",
                        req->data ? req->data : json_null(), "maintenance", 0);
        if (env && req->warnings) {
            json_object_set(env, "warnings", req->warnings);
        }
    }
    if (!env) {
        env = json_pack("{s:i,s:s,s:s}", "code", SO_E_INTERNAL, "desc", "Internal error", "data",
                        "the answer could not be encoded");
        req->status = 500;
    }
    text = json_dumps(env, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(env);
    out = apr_pstrdup(req->pool, text ? text : "{}");
    free(text);
    *len = strlen(out);
    return out;
}

/* ------------------------------------------------------------------------- */
/* input helpers                                                               */

static apr_status_t bad(so_req_t *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static apr_status_t bad(so_req_t *req, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    va_start(ap, fmt);
    msg = apr_pvsprintf(req->pool, fmt, ap);
    va_end(ap);
    return so_api_error(req, SO_E_INVALID, msg, "");
}

apr_status_t so_q_int(so_req_t *req, const char *key, apr_int64_t def, apr_int64_t min,
                      apr_int64_t max, apr_int64_t *out)
{
    const char *v = so_req_query(req, key);
    if (!v || !*v) {
        *out = def;
        return APR_SUCCESS;
    }
    if (so_parse_int64(v, min, max, out) != APR_SUCCESS) {
        return bad(req,
                   "query parameter '%s' must be an integer from %" APR_INT64_T_FMT
                   " to %" APR_INT64_T_FMT,
                   key, min, max);
    }
    return APR_SUCCESS;
}

apr_status_t so_q_bool(so_req_t *req, const char *key, int def, int *out)
{
    const char *v = so_req_query(req, key);
    if (!v || !*v) {
        *out = def;
    }
    else if (!strcmp(v, "true") || !strcmp(v, "1")) {
        *out = 1;
    }
    else if (!strcmp(v, "false") || !strcmp(v, "0")) {
        *out = 0;
    }
    else {
        return bad(req, "query parameter '%s' must be true or false", key);
    }
    return APR_SUCCESS;
}

apr_status_t so_in_str(so_req_t *req, json_t *obj, const char *key, int required,
                       apr_size_t maxlen, const char **out, int *present)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (present) {
        *present = 0;
    }
    if (!v || json_is_null(v)) {
        return required ? bad(req, "field '%s' is required", key) : APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        return bad(req, "field '%s' must be a string", key);
    }
    if (json_string_length(v) > maxlen) {
        return bad(req, "field '%s' is longer than %" APR_SIZE_T_FMT " characters", key, maxlen);
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        return bad(req, "field '%s' contains a NUL character", key);
    }
    *out = apr_pstrdup(req->pool, json_string_value(v));
    if (present) {
        *present = 1;
    }
    return APR_SUCCESS;
}

apr_status_t so_in_int(so_req_t *req, json_t *obj, const char *key, int required, apr_int64_t min,
                       apr_int64_t max, apr_int64_t *out, int *present)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    apr_int64_t val;

    if (present) {
        *present = 0;
    }
    if (!v || json_is_null(v)) {
        return required ? bad(req, "field '%s' is required", key) : APR_SUCCESS;
    }
    if (json_is_integer(v)) {
        val = (apr_int64_t)json_integer_value(v);
    }
    else if (json_is_string(v) && so_parse_int64(json_string_value(v), min, max, &val) == APR_SUCCESS) {
        /* Openprovider clients send ids as strings too ("id": "1") */
    }
    else {
        return bad(req, "field '%s' must be an integer", key);
    }
    if (val < min || val > max) {
        return bad(req,
                   "field '%s' must be from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT, key, min,
                   max);
    }
    *out = val;
    if (present) {
        *present = 1;
    }
    return APR_SUCCESS;
}

apr_status_t so_in_bool(so_req_t *req, json_t *obj, const char *key, int required, int *out,
                        int *present)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (present) {
        *present = 0;
    }
    if (!v || json_is_null(v)) {
        return required ? bad(req, "field '%s' is required", key) : APR_SUCCESS;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    }
    else if (json_is_string(v)
             && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false"))) {
        *out = !strcmp(json_string_value(v), "true");
    }
    else {
        return bad(req, "field '%s' must be true or false", key);
    }
    if (present) {
        *present = 1;
    }
    return APR_SUCCESS;
}

apr_status_t so_in_array(so_req_t *req, json_t *obj, const char *key, int required,
                         apr_size_t max_items, json_t **out, int *present)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (present) {
        *present = 0;
    }
    if (!v || json_is_null(v)) {
        return required ? bad(req, "field '%s' is required", key) : APR_SUCCESS;
    }
    if (!json_is_array(v)) {
        return bad(req, "field '%s' must be an array", key);
    }
    if (json_array_size(v) > max_items) {
        return bad(req, "field '%s' has more than %" APR_SIZE_T_FMT " items", key, max_items);
    }
    *out = v;
    if (present) {
        *present = 1;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* routing                                                                     */

int so_route_match(const char *pattern, const char *path, apr_table_t *params, apr_pool_t *p)
{
    const char *pp = pattern, *sp = path;

    while (*pp && *sp) {
        if (*pp == '{') {
            const char *pe = strchr(pp, '}');
            const char *se = sp;
            if (!pe) {
                return 0;
            }
            while (*se && *se != '/') {
                se++;
            }
            if (se == sp) {
                return 0;
            }
            if (params) {
                apr_table_setn(params, apr_pstrmemdup(p, pp + 1, (apr_size_t)(pe - pp - 1)),
                               apr_pstrmemdup(p, sp, (apr_size_t)(se - sp)));
            }
            pp = pe + 1;
            sp = se;
            continue;
        }
        if (*pp != *sp) {
            return 0;
        }
        pp++;
        sp++;
    }
    /* a trailing slash on the request is tolerated */
    if (*sp == '/' && sp[1] == '\0') {
        sp++;
    }
    return *pp == '\0' && *sp == '\0';
}

static int method_is(const char *m, const char *want)
{
    return !strcmp(m, want) || (!strcmp(want, "GET") && !strcmp(m, "HEAD"));
}

static const so_route_t *find_route(so_req_t *req, int *path_known, const char **allow)
{
    const so_route_t *r;
    const so_route_t *found = NULL;
    char *allowed = NULL;

    *path_known = 0;
    for (r = req->routes ? req->routes : so_routes(); r->method; r++) {
        if (!so_route_match(r->pattern, req->path, NULL, req->pool)) {
            continue;
        }
        *path_known = 1;
        if (!allowed || !strstr(allowed, r->method)) {
            allowed = allowed ? apr_pstrcat(req->pool, allowed, ", ", r->method, NULL)
                              : apr_pstrdup(req->pool, r->method);
            if (!strcmp(r->method, "GET")) {
                allowed = apr_pstrcat(req->pool, allowed, ", HEAD", NULL);
            }
        }
        if (!found && method_is(req->method, r->method)) {
            found = r;
            apr_table_clear(req->params);
            so_route_match(r->pattern, req->path, req->params, req->pool);
        }
    }
    *allow = allowed;
    return found;
}

static int has_body_method(const char *m)
{
    return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE");
}

static int is_json_ctype(const char *ct)
{
    apr_size_t n = strlen("application/json");
    if (!ct) {
        return 0;
    }
    while (*ct == ' ') {
        ct++;
    }
    return !strncasecmp(ct, "application/json", n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static apr_status_t parse_body(so_req_t *req)
{
    json_error_t jerr;
    json_t *j;

    if (req->body_len == 0 || !has_body_method(req->method)
        || (req->route && (req->route->flags & SO_RF_RAW))) {
        req->json = json_object();
        return APR_SUCCESS;
    }
    if (!is_json_ctype(so_req_header(req, "Content-Type"))) {
        return so_api_error(req, SO_E_MEDIA_TYPE, "The request body must be application/json",
                            so_req_header(req, "Content-Type") ? so_req_header(req, "Content-Type") : "");
    }
    j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        return so_api_error(req, SO_E_BAD_JSON, "The request body is not valid JSON",
                            apr_psprintf(req->pool, "line %d, column %d: %s", jerr.line, jerr.column,
                                  jerr.text));
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return so_api_error(req, SO_E_BAD_JSON, "The request body must be a JSON object", "");
    }
    req->json = j;
    return APR_SUCCESS;
}

void so_api_dispatch(so_req_t *req)
{
    const so_route_t *route;
    const char *allow = NULL;
    int path_known = 0, attempt;
    apr_status_t rv;

    route = find_route(req, &path_known, &allow);
    if (!route) {
        if (path_known) {
            apr_table_setn(req->headers_out, "Allow", allow);
            so_api_errorf(req, SO_E_METHOD, "Method %s is not allowed here", req->method);
        }
        else {
            so_api_error(req, SO_E_NO_ROUTE, "No such endpoint", req->path);
        }
        return;
    }
    req->route = route;
    if (!(route->flags & SO_RF_RAW) && req->body_len > req->cfg->max_body) {
        so_api_errorf(req, SO_E_TOO_LARGE,
                      "The request body is larger than %" APR_SIZE_T_FMT " bytes",
                      req->cfg->max_body);
        return;
    }
    if (parse_body(req) != APR_SUCCESS) {
        return;
    }

    for (attempt = 0; attempt < 2; attempt++) {
        rv = APR_SUCCESS;
        if (!(route->flags & SO_RF_PUBLIC)) {
            rv = so_auth_resolve(req);
        }
        if (rv == APR_SUCCESS) {
            so_api_audit_begin(req);
            rv = route->fn(req);
            so_api_audit_end(req);
        }
        if ((rv == SO_EDBDOWN || rv == SO_EDBRETRY) && attempt == 0
            && (!req->db || !req->db->committed)) {
            /* the connection was lost (and maybe repaired); nothing was written: once more */
            so_log_debug(SO_LOG_MARK, "retrying %s %s after a database failure", req->method,
                         req->path);
            reset_answer(req);
            req->auth = NULL;
            continue;
        }
        if (rv == APR_EACCES || rv == SO_ANSWERED) {
            break; /* answered (by so_auth_resolve or the handler) */
        }
        if (rv != APR_SUCCESS
            && (SO_DB_IS_UNAVAILABLE(rv)
                || (!req->err_code && !req->data && !req->raw_body && !req->data_raw))) {
            reset_answer(req);
            so_api_fail(req, rv);
        }
        break;
    }
    if (!req->err_code && !req->data && !req->raw_body && !req->data_raw) {
        so_api_ok(req, NULL);
    }
    /* mail and messages of the events this request committed (the outbox) */
    if (req->outbox) {
        so_outbox_after(so_api_svc_ctx(req));
    }
    so_api_audit(req); /* every write, with its result (so_api_security.c) */
}
