/* mod_sslorders: an SSL/TLS certificate order system for Apache httpd 2.4.
 *
 * Glue only: the module struct, hook registration and the directive table.
 * Everything else lives in src/ (see docs/architecture.md and README.md).
 * Nothing here changes state shared with other modules of the process unless a
 * directive asks for it (src/httpd/so_httpd_process.c).
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <jansson.h>

#include "src/httpd/so_httpd.h"
#include "src/api/so_api_seal.h"
#include "src/api/so_authcache.h"
#include "src/core/so_jws.h"
#include "src/svc/so_claim.h"

static int so_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    so_httpd_process_pre_config();
    so_httpd_acme_pre_config();
    return so_httpd_dbd_pre_config(pconf, plog, ptemp);
}

static int so_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    void *counter = NULL;
    const char *key = "mod_sslorders_init_counter";
    server_rec *sp;
    int real_pass, rv;

    /* httpd runs the configuration twice at startup: do expensive work (migrations)
     * only on the real pass, as mod_md does */
    apr_pool_userdata_get(&counter, key, s->process->pool);
    real_pass = counter != NULL;
    if (!counter) {
        apr_pool_userdata_set((const void *)1, key, apr_pool_cleanup_null, s->process->pool);
    }
    so_httpd_log_init(s, pconf);
    so_httpd_process_post_config(s); /* before anything here opens SQLite */
    json_object_seed(0);
    so_api_init();
    for (sp = s; sp; sp = sp->next) {
        so_httpd_srv_finalize(sp);
    }
    so_httpd_metrics_post_config(pconf, s);
    so_httpd_acme_post_config(s);
    so_authcache_origin_init();
    if (real_pass) {
        so_httpd_br_post_config(ptemp, s);
    }
    rv = so_httpd_dbd_post_config(pconf, plog, ptemp, s, real_pass);
    if (rv != OK) {
        return rv;
    }
    return so_httpd_ca_post_config(pconf, ptemp, s, real_pass);
}

static void so_child_init(apr_pool_t *p, server_rec *s)
{
    so_httpd_process_child_init(s);
    so_httpd_ca_child_init(p, s);
    so_seal_cache_init(p);
    so_downloads_cache_init(p);
    so_httpd_list_cache_init(p, s);
    so_httpd_auth_cache_init(p, s);
    so_httpd_auth_listen_start(p, s);
    so_jwk_cache_init(p, 1024); /* ACME account keys */
    so_claims_init(p);          /* order claims this process holds */
}

static void so_register_hooks(apr_pool_t *p)
{
    /* statements must reach mod_dbd before it builds its connection groups, and the
     * background job mod_watchdog before it starts its threads */
    static const char *const before_dbd[] = {"mod_dbd.c", "mod_watchdog.c", NULL};
    (void)p;
    ap_hook_pre_config(so_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(so_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(so_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(so_httpd_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(so_httpd_acme_handler, NULL, NULL, APR_HOOK_MIDDLE);
    so_httpd_dbd_register_hooks();
    so_httpd_metrics_register_hooks();
}

AP_DECLARE_MODULE(sslorders) = {
    STANDARD20_MODULE_STUFF,
    so_httpd_create_dir,
    so_httpd_merge_dir,
    so_httpd_create_srv,
    so_httpd_merge_srv,
    so_httpd_cmds,
    so_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
