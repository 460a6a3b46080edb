/* mod_sslorders: the metrics segment shared by every httpd process, the
 * sslorders-metrics handler (Prometheus text format) and the mod_status section.
 *
 * The segment is anonymous shared memory created in post_config, in the parent,
 * before the children are forked: they all add to it, so a scrape sees the server's
 * totals whichever child answers it. A restart creates a new one (counters start
 * again from zero, which Prometheus treats as a counter reset). */
#include <apr_shm.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>

#include "so_httpd.h"
#include "../api/so_api_ssl.h"
#include "../core/so_log.h"
#include "../core/so_metrics.h"

APLOG_USE_MODULE(sslorders);

/* the route tables requests are counted by, in label order */
static const so_route_t *tables[3];
static int table_len[3];
static int nroutes;

static int count_routes(const so_route_t *t)
{
    int n = 0;
    while (t[n].method) {
        n++;
    }
    return n;
}

int so_httpd_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm = NULL;
    const char **names;
    apr_size_t size;
    apr_status_t rv;
    int i, k, n = 0;

    tables[0] = so_routes();
    tables[1] = so_routes_public;
    tables[2] = so_routes_seal;
    nroutes = 0;
    for (i = 0; i < 3; i++) {
        table_len[i] = count_routes(tables[i]);
        nroutes += table_len[i];
    }
    names = apr_palloc(pconf, sizeof(*names) * (apr_size_t)(nroutes + 1));
    for (i = 0; i < 3; i++) {
        for (k = 0; k < table_len[i]; k++) {
            /* public routes match whole paths; seal routes are below the seal mount */
            names[n++] = apr_pstrcat(pconf, tables[i][k].method, " ", i == 2 ? "seal:" : "",
                                     tables[i][k].pattern, NULL);
        }
    }
    size = so_metrics_size(nroutes);
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     SOLOGNO(00702) "no shared memory for the metrics (%" APR_SIZE_T_FMT
                                    " bytes): each process counts its own",
                     size);
        so_metrics_attach(NULL, 0, NULL);
        return OK;
    }
    memset(apr_shm_baseaddr_get(shm), 0, size);
    so_metrics_attach(apr_shm_baseaddr_get(shm), nroutes, names);
    return OK;
}

static int route_index(const so_route_t *r)
{
    int i, base = 0;
    if (!r) {
        return -1;
    }
    for (i = 0; i < 3; i++) {
        if (r >= tables[i] && r < tables[i] + table_len[i]) {
            return base + (int)(r - tables[i]);
        }
        base += table_len[i];
    }
    return -1;
}

void so_httpd_metrics_request(request_rec *r, const so_route_t *route)
{
    so_metrics_request(route_index(route), r->status, (apr_int64_t)(apr_time_now() - r->request_time));
}

static apr_status_t release_db(void *data)
{
    (void)data;
    so_metrics_gauge_add(SO_MG_DB_IN_USE, -1);
    return APR_SUCCESS;
}

void so_httpd_metrics_db(request_rec *r, int ok, apr_interval_time_t waited)
{
    so_metrics_db_wait(waited);
    if (!ok) {
        so_metrics_inc(SO_MC_DB_UNAVAILABLE);
        return;
    }
    so_metrics_inc(SO_MC_DB_ACQUIRED);
    so_metrics_gauge_add(SO_MG_DB_IN_USE, 1);
    apr_pool_cleanup_register(r->pool, NULL, release_db, apr_pool_cleanup_null);
}

int so_httpd_metrics_handler(request_rec *r)
{
    char *text;
    if (!r->handler || strcmp(r->handler, "sslorders-metrics")) {
        return DECLINED;
    }
    r->allowed = AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    text = so_metrics_render(r->pool);
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

/* mod_status: a few totals (?auto: key: value lines) */
static int status_section(request_rec *r, int flags)
{
    apr_uint64_t n, e, mean, inuse;
    so_metrics_totals(&n, &e, &mean, &inuse);
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "SSLOrdersRequests: %" APR_UINT64_T_FMT "\nSSLOrders5xx: %" APR_UINT64_T_FMT
                      "\nSSLOrdersMeanLatencyUs: %" APR_UINT64_T_FMT
                      "\nSSLOrdersDBConnectionsInUse: %" APR_UINT64_T_FMT "\n",
                   n, e, mean, inuse);
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_sslorders</h2>\n<table>\n", r);
    ap_rprintf(r, "<tr><th>Requests</th><td>%" APR_UINT64_T_FMT "</td></tr>\n"
                  "<tr><th>5xx answers</th><td>%" APR_UINT64_T_FMT "</td></tr>\n"
                  "<tr><th>Mean latency</th><td>%" APR_UINT64_T_FMT " &micro;s</td></tr>\n"
                  "<tr><th>Database connections in use</th><td>%" APR_UINT64_T_FMT "</td></tr>\n",
               n, e, mean, inuse);
    ap_rputs("</table>\n<p>Every series: the <code>sslorders-metrics</code> handler.</p>\n", r);
    return OK;
}

void so_httpd_metrics_register_hooks(void)
{
    ap_hook_handler(so_httpd_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_section, NULL, NULL, APR_HOOK_MIDDLE);
}
