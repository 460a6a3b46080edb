/* mod_sslorders: request_rec <-> so_req_t for the sslorders-api handler. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "so_httpd.h"
#include "../api/so_br.h"
#include "../api/so_api_ssl.h"
#include "../api/so_auth.h"
#include "../core/so_log.h"
#include "../core/so_util.h"

APLOG_USE_MODULE(sslorders);


static so_db_t *acquire(so_req_t *req)
{
    return so_httpd_db_acquire((request_rec *)req->acquire_baton);
}

/* The path below the <Location> the handler is mounted at: the section of our own
 * directives if there is one, else the section core merged last (the one holding
 * SetHandler). */
static const char *api_path(request_rec *r, so_dir_conf_t *dc)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    const char *loc = dc && dc->location ? dc->location : (cd ? cd->d : NULL);
    apr_size_t n;

    if (!loc || loc[0] != '/') {
        return r->uri;
    }
    n = strlen(loc);
    while (n > 0 && loc[n - 1] == '/') {
        n--;
    }
    if (!strncmp(r->uri, loc, n) && (r->uri[n] == '/' || r->uri[n] == '\0')) {
        return r->uri[n] ? r->uri + n : "/";
    }
    return r->uri;
}

static int parse_query(request_rec *r, so_req_t *req)
{
    char *args, *tok, *last = NULL;

    if (!r->args || !*r->args) {
        return OK;
    }
    args = apr_pstrdup(r->pool, r->args);
    for (tok = apr_strtok(args, "&", &last); tok; tok = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(tok, '=');
        so_kv_t *kv;
        if (eq) {
            *eq++ = '\0';
        }
        if (ap_unescape_urlencoded(tok) != OK || (eq && ap_unescape_urlencoded(eq) != OK)) {
            return HTTP_BAD_REQUEST;
        }
        if (!*tok) {
            continue;
        }
        kv = apr_array_push(req->query);
        kv->key = tok;
        kv->value = eq ? eq : "";
    }
    return OK;
}

/* Read the request body up to limit bytes; *too_large when it is longer. */
int so_httpd_read_body(request_rec *r, so_req_t *req, apr_size_t limit, int *too_large)
{
    char *buf;
    apr_size_t cap, len = 0;
    long n;
    int rc;

    *too_large = 0;
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    if (r->remaining > (apr_off_t)limit) {
        *too_large = 1;
        return OK;
    }
    cap = r->remaining > 0 ? (apr_size_t)r->remaining + 1 : 16384;
    buf = apr_palloc(r->pool, cap);
    for (;;) {
        if (cap - len < 8193) {
            char *bigger;
            cap *= 2;
            bigger = apr_palloc(r->pool, cap);
            memcpy(bigger, buf, len);
            buf = bigger;
        }
        n = ap_get_client_block(r, buf + len, cap - len - 1);
        if (n <= 0) {
            break;
        }
        len += (apr_size_t)n;
        if (len > limit) {
            *too_large = 1;
            return OK;
        }
    }
    if (n < 0) {
        return HTTP_BAD_REQUEST;
    }
    buf[len] = '\0';
    req->body = buf;
    req->body_len = len;
    return OK;
}

static int copy_header(void *rec, const char *key, const char *value)
{
    request_rec *r = rec;
    apr_table_add(r->err_headers_out, key, value);
    return 1;
}

static int send_answer(request_rec *r, so_req_t *req)
{
    const char *body, *ctype;
    apr_size_t len;

    if (req->err_code && req->plain_errors) {
        /* public pages: a short text, not the API envelope */
        body = apr_psprintf(r->pool, "%d %s\n", req->status, req->err_desc ? req->err_desc : "");
        len = strlen(body);
        ctype = "text/plain; charset=utf-8";
    }
    else if (req->raw_body && !req->err_code) {
        body = req->raw_body;
        len = req->raw_len;
        ctype = req->raw_ctype ? req->raw_ctype : "application/octet-stream";
    }
    else {
        body = so_api_answer_json(req, &len);
        ctype = "application/json";
    }
    r->status = req->status;
    apr_table_do(copy_header, r, req->headers_out, NULL);
    if (req->raw_body && !req->err_code && req->status == HTTP_OK) {
        /* cacheable answers (downloads, seals): httpd answers If-None-Match and
         * If-Modified-Since itself */
        const char *etag = apr_table_get(req->headers_out, "ETag");
        int rc;
        if (etag) {
            apr_table_unset(r->err_headers_out, "ETag");
            apr_table_setn(r->headers_out, "ETag", etag);
        }
        if (req->mtime > 0) {
            ap_update_mtime(r, apr_time_from_sec(req->mtime));
            ap_set_last_modified(r);
        }
        if ((etag || req->mtime > 0) && (rc = ap_meets_conditions(r)) != OK) {
            r->status = rc;
            return rc;
        }
    }
    if (!apr_table_get(r->err_headers_out, "Cache-Control")) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    }
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

/* What every handler's so_req_t takes from the request: headers, client address, scheme,
 * and the test clock (X-SSLOrders-Clock, only with SSLOrdersTestClock on). */
void so_httpd_req_from(request_rec *r, const so_srv_conf_t *sc, so_req_t *req)
{
    const char *clock;
    req->headers_in = r->headers_in;
    req->client_ip = r->useragent_ip ? r->useragent_ip : "";
    req->secure = !strcmp(ap_run_http_scheme(r) ? ap_run_http_scheme(r) : "http", "https");
    if (sc->api.test_clock && (clock = apr_table_get(r->headers_in, "X-SSLOrders-Clock"))) {
        apr_int64_t t;
        if (so_parse_int64(clock, 0, (apr_int64_t)1 << 40, &t) == APR_SUCCESS) {
            req->now = t;
        }
    }
}

int so_httpd_api_handler(request_rec *r)
{
    so_srv_conf_t *sc;
    so_dir_conf_t *dc;
    so_req_t *req;
    apr_size_t limit;
    int rc, too_large = 0, kind;

    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, "sslorders-api")) {
        kind = 0;
    }
    else if (!strcmp(r->handler, "sslorders-public")) {
        kind = 1;
    }
    else if (!strcmp(r->handler, "sslorders-seal")) {
        kind = 2;
    }
    else if (!strcmp(r->handler, "sslorders-perspective")) {
        kind = 3;
    }
    else {
        return DECLINED;
    }
    sc = so_httpd_srv_conf(r->server);
    dc = ap_get_module_config(r->per_dir_config, &sslorders_module);
    req = so_req_create(r->pool, &sc->api);
    req->method = r->method;
    if (kind == 0) {
        req->path = api_path(r, dc);
    }
    else if (kind == 1) {
        /* public routes match the whole path (/pki/crl, /approve/...) */
        req->path = r->uri;
        req->routes = so_routes_public;
        req->plain_errors = 1;
    }
    else if (kind == 3) {
        req->path = r->uri; /* a perspective: one answer, JSON errors */
    }
    else {
        /* seals: below where the handler is mounted (/seal/<id>.js -> /<id>.js) */
        req->path = api_path(r, dc);
        req->routes = so_routes_seal;
        req->plain_errors = 1;
    }
    so_httpd_req_from(r, sc, req);
    req->acquire = acquire;
    req->acquire_baton = r;

    if (parse_query(r, req) != OK) {
        so_api_error(req, SO_E_INVALID, "The query string is not valid URL encoding", "");
        return send_answer(r, req);
    }
    /* JSON routes are held to max_body by the dispatcher, uploads to max_upload */
    limit = sc->api.max_body > sc->api.max_upload ? sc->api.max_body : sc->api.max_upload;
    if ((rc = so_httpd_read_body(r, req, limit, &too_large)) != OK) {
        if (rc == HTTP_BAD_REQUEST) {
            so_api_error(req, SO_E_INVALID, "The request body could not be read", "");
            return send_answer(r, req);
        }
        return rc;
    }
    if (too_large) {
        /* the rest of the body is not read: close the connection after answering */
        r->connection->keepalive = AP_CONN_CLOSE;
        so_api_errorf(req, SO_E_TOO_LARGE,
                      "The request body is larger than %" APR_SIZE_T_FMT " bytes", limit);
        return send_answer(r, req);
    }

    if (kind == 3) {
        /* MPIC: a perspective answers the primary's signed check requests (wall clock) */
        so_br_perspective_serve(req, (apr_int64_t)apr_time_sec(apr_time_now()));
    }
    else {
        so_api_dispatch(req);
    }

    if (req->err_code == SO_E_DB_UNAVAILABLE) {
        so_httpd_db_state(r->server, 1, req->db && req->db->errmsg ? req->db->errmsg : NULL);
    }
    else if (req->db) {
        so_httpd_db_state(r->server, 0, NULL);
    }
    if (APLOGrdebug(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, SOLOGNO(00011) "%s %s -> %s %s -> %d (code %d)",
                      r->method, r->uri, req->route ? req->route->method : "-",
                      req->route ? req->route->pattern : "-", req->status, req->err_code);
    }
    so_auth_request_done(req);
    rc = send_answer(r, req);
    so_httpd_metrics_request(r, req->route);
    return rc;
}
