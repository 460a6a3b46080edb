/* mod_sslorders: request_rec <-> so_req_t for the ACME server (SetHandler sslorders-acme). */
#include <apr_strings.h>
#include <apr_shm.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "so_httpd.h"
#include "../acme/so_acme.h"
#include "../acme/so_acme_issue.h"
#include "../api/so_auth.h"
#include "../core/so_log.h"
#include "../core/so_nonce.h"
#include "../core/so_util.h"

APLOG_USE_MODULE(sslorders);

/* ACME nonces of SQLite servers (so_nonce.h): a ring of 2^20 (8 MiB, pages taken as used):
 * at 300 requests a second a nonce lasts about an hour, as in the database */
#define NONCE_SLOTS (1u << 20)

static so_acme_nonces_t nonces_where; /* SSLOrdersACMENonces */

const char *so_httpd_set_acme_nonces(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "auto")) {
        nonces_where = SO_ACME_NONCES_AUTO;
    }
    else if (!strcasecmp(arg, "memory")) {
        nonces_where = SO_ACME_NONCES_MEMORY;
    }
    else if (!strcasecmp(arg, "database")) {
        nonces_where = SO_ACME_NONCES_DATABASE;
    }
    else {
        return "SSLOrdersACMENonces: expects auto, memory or database";
    }
    return NULL;
}

void so_httpd_acme_pre_config(void)
{
    nonces_where = SO_ACME_NONCES_AUTO; /* each configuration pass starts from the default */
}

/* The ring lives in the process pool: a graceful restart keeps the nonces clients hold. */
void so_httpd_acme_post_config(server_rec *s)
{
    static const char key[] = "mod_sslorders_acme_nonces";
    void *shm = NULL;
    apr_status_t rv;

    so_acme_nonces_set(nonces_where);
    so_nonce_mem_attach(NULL, 0);
    if (nonces_where == SO_ACME_NONCES_DATABASE) {
        return;
    }
    apr_pool_userdata_get(&shm, key, s->process->pool);
    if (!shm) {
        apr_shm_t *made = NULL;
        /* anonymous shared memory is zeroed by the system: every slot unused */
        rv = apr_shm_create(&made, so_nonce_mem_size(NONCE_SLOTS), NULL, s->process->pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                         SOLOGNO(00986) "no shared memory for ACME nonces (%" APR_SIZE_T_FMT
                                        " bytes): they are kept in the database",
                         so_nonce_mem_size(NONCE_SLOTS));
            return;
        }
        apr_pool_userdata_set(made, key, apr_pool_cleanup_null, s->process->pool);
        shm = made;
    }
    so_nonce_mem_attach(apr_shm_baseaddr_get(shm), NONCE_SLOTS);
}

static so_db_t *acquire(so_req_t *req)
{
    return so_httpd_db_acquire((request_rec *)req->acquire_baton);
}

/* the <Location> the handler is mounted at, without a trailing slash */
static const char *mount(request_rec *r)
{
    so_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &sslorders_module);
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    const char *loc = dc && dc->location ? dc->location : (cd ? cd->d : NULL);
    apr_size_t n;
    if (!loc || loc[0] != '/') {
        return "";
    }
    n = strlen(loc);
    while (n > 0 && loc[n - 1] == '/') {
        n--;
    }
    return apr_pstrndup(r->pool, loc, n);
}

static int copy_header(void *rec, const char *key, const char *value)
{
    request_rec *r = rec;
    apr_table_add(r->err_headers_out, key, value);
    return 1;
}

int so_httpd_acme_handler(request_rec *r)
{
    so_srv_conf_t *sc;
    so_req_t *req;
    const char *loc, *base;
    int rc, over = 0;

    if (!r->handler || strcmp(r->handler, "sslorders-acme")) {
        return DECLINED;
    }
    sc = so_httpd_srv_conf(r->server);
    req = so_req_create(r->pool, &sc->api);
    loc = mount(r);
    req->method = r->method;
    req->path = !strncmp(r->uri, loc, strlen(loc)) ? r->uri + strlen(loc) : r->uri;
    if (!*req->path) {
        req->path = "/";
    }
    so_httpd_req_from(r, sc, req);
    req->acquire = acquire;
    req->acquire_baton = r;
    if (sc->api.public_url && *sc->api.public_url) {
        base = apr_pstrcat(r->pool, sc->api.public_url, loc, NULL);
    }
    else {
        const char *host = apr_table_get(r->headers_in, "Host");
        base = apr_pstrcat(r->pool, req->secure ? "https://" : "http://",
                           host ? host : r->server->server_hostname, loc, NULL);
    }
    if ((rc = so_httpd_read_body(r, req, SO_ACME_MAX_BODY, &over)) != OK) {
        return rc;
    }
    if (over) {
        r->connection->keepalive = AP_CONN_CLOSE;
        req->body_len = SO_ACME_MAX_BODY + 1;
    }
    so_acme_handle(req, base);
    /* mail and messages of the events this request committed (the outbox), as the API does */
    if (req->db) {
        so_acme_iss_flush(req);
    }
    if (req->db) {
        so_httpd_db_state(r->server, req->status == 503, req->db->errmsg);
    }
    so_auth_request_done(req);
    r->status = req->status;
    apr_table_do(copy_header, r, req->headers_out, NULL);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    if (req->raw_ctype) {
        ap_set_content_type(r, req->raw_ctype);
    }
    ap_set_content_length(r, (apr_off_t)req->raw_len);
    if (!r->header_only && req->raw_len) {
        ap_rwrite(req->raw_body, (int)req->raw_len, r);
    }
    return OK;
}
