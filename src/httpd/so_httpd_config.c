#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "so_httpd.h"
#include "../core/so_util.h"

APLOG_USE_MODULE(sslorders);

void *so_httpd_create_srv(apr_pool_t *p, server_rec *s)
{
    so_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    so_config_defaults(&c->api);
    c->max_body = SO_UNSET;
    c->public_url = NULL;
    c->test_clock = SO_UNSET;
    return c;
}

void *so_httpd_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    so_srv_conf_t *base = basev, *add = addv;
    so_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->max_body = add->max_body != SO_UNSET ? add->max_body : base->max_body;
    c->public_url = add->public_url ? add->public_url : base->public_url;
    c->test_clock = add->test_clock != SO_UNSET ? add->test_clock : base->test_clock;
    so_config_defaults(&c->api);
    if (c->max_body != SO_UNSET) {
        c->api.max_body = (apr_size_t)c->max_body;
    }
    if (c->public_url) {
        c->api.public_url = c->public_url;
    }
    c->api.test_clock = c->test_clock == 1;
    return c;
}

so_srv_conf_t *so_httpd_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &sslorders_module);
}

void so_httpd_srv_finalize(server_rec *s)
{
    /* the main server is never merged: fill its API view at post_config */
    so_srv_conf_t *c = so_httpd_srv_conf(s);
    if (c->max_body != SO_UNSET) {
        c->api.max_body = (apr_size_t)c->max_body;
    }
    if (c->public_url) {
        c->api.public_url = c->public_url;
    }
    c->api.test_clock = c->test_clock == 1;
}

void *so_httpd_create_dir(apr_pool_t *p, char *dir)
{
    so_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->location = dir ? apr_pstrdup(p, dir) : NULL;
    return c;
}

void *so_httpd_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    so_dir_conf_t *base = basev, *add = addv;
    so_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->location = add->location ? add->location : base->location;
    return c;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    so_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &sslorders_module);
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 1024, (apr_int64_t)1 << 31, &v) != APR_SUCCESS) {
        return "SSLOrdersMaxBody: expects a number of bytes from 1024 to 2147483648";
    }
    c->max_body = v;
    return NULL;
}

static const char *set_public_url(cmd_parms *cmd, void *dc, const char *arg)
{
    so_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &sslorders_module);
    apr_size_t n = strlen(arg);
    (void)dc;
    if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8)) {
        return "SSLOrdersPublicURL: expects an http:// or https:// URL";
    }
    while (n > 0 && arg[n - 1] == '/') {
        n--;
    }
    c->public_url = apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *set_test_clock(cmd_parms *cmd, void *dc, int flag)
{
    so_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &sslorders_module);
    (void)dc;
    c->test_clock = flag ? 1 : 0;
    return NULL;
}

const command_rec so_httpd_cmds[] = {
    AP_INIT_TAKE1("SSLOrdersMaxBody", set_max_body, NULL, RSRC_CONF,
                  "Largest request body accepted, in bytes (default 1048576)"),
    AP_INIT_TAKE1("SSLOrdersPublicURL", set_public_url, NULL, RSRC_CONF,
                  "Base URL of this server as customers reach it (seal snippets, AIA/CRL, mail)"),
    AP_INIT_FLAG("SSLOrdersTestClock", set_test_clock, NULL, RSRC_CONF,
                 "Test only: honour the X-SSLOrders-Clock request header as the current time"),
    {NULL}};
