#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "so_httpd.h"
#include "../core/so_ca.h"
#include "../core/so_dcv.h"
#include "../core/so_mail.h"
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
    c->max_validity_days = SO_UNSET;
    c->job_interval = SO_UNSET;
    c->max_upload = SO_UNSET;
    c->seal_max_age = SO_UNSET;
    c->list_cache = SO_UNSET;
    c->webhook_http = SO_UNSET;
    c->webhook_private = SO_UNSET;
    c->session_max_age = SO_UNSET;
    c->audit_retention = SO_UNSET;
    c->acme_orders = SO_UNSET;
    c->acme_accounts = SO_UNSET;
    c->auth_cache = SO_UNSET;
    return c;
}

void *so_httpd_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    so_srv_conf_t *base = basev, *add = addv;
    so_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->max_body = add->max_body != SO_UNSET ? add->max_body : base->max_body;
    c->public_url = add->public_url ? add->public_url : base->public_url;
    c->test_clock = add->test_clock != SO_UNSET ? add->test_clock : base->test_clock;
#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_INT(f) c->f = add->f != SO_UNSET ? add->f : base->f
    MERGE_PTR(ca_dir);
    MERGE_PTR(ca_tag);
    MERGE_PTR(ca_org);
    c->ca_root_key = add->ca_root_key ? add->ca_root_key : base->ca_root_key; /* 0: default */
    c->ca_issuing_key = add->ca_root_key ? add->ca_issuing_key : base->ca_issuing_key;
    MERGE_INT(max_validity_days);
    MERGE_PTR(pki_url);
    MERGE_PTR(dcv_connect_to);
    MERGE_PTR(dcv_nameserver);
    MERGE_PTR(mail_argv);
    MERGE_PTR(mail_from);
    MERGE_PTR(message_argv);
    MERGE_INT(job_interval);
    MERGE_INT(max_upload);
    MERGE_PTR(seal_url);
    MERGE_INT(seal_max_age);
    MERGE_INT(list_cache);
    c->br_set = so_httpd_br_merge(p, base->br_set, add->br_set);
    MERGE_INT(webhook_http);
    MERGE_INT(webhook_private);
    MERGE_INT(session_max_age);
    MERGE_INT(audit_retention);
    MERGE_PTR(brand_name);
    MERGE_PTR(brand_logo);
    MERGE_PTR(brand_color);
    MERGE_PTR(support_url);
    MERGE_INT(acme_orders);
    MERGE_INT(acme_accounts);
    MERGE_INT(auth_cache);
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
    if (c->ca_tag) {
        c->api.ca_tag = c->ca_tag;
    }
    if (c->max_validity_days != SO_UNSET) {
        c->api.max_validity_days = c->max_validity_days;
    }
    if (c->pki_url) {
        c->api.pki_url = c->pki_url;
    }
    c->api.dcv_connect_to = c->dcv_connect_to;
    c->api.dcv_nameserver = c->dcv_nameserver;
    c->api.mail_argv = c->mail_argv;
    if (c->mail_from) {
        c->api.mail_from = c->mail_from;
    }
    c->api.message_argv = c->message_argv;
    if (c->job_interval != SO_UNSET) {
        c->api.job_interval = c->job_interval;
    }
    if (c->max_body != SO_UNSET) {
        c->api.max_body = (apr_size_t)c->max_body;
    }
    if (c->public_url) {
        c->api.public_url = c->public_url;
    }
    c->api.test_clock = c->test_clock == 1;
    if (c->max_upload != SO_UNSET) {
        c->api.max_upload = (apr_size_t)c->max_upload;
    }
    if (c->seal_url) {
        c->api.seal_url = c->seal_url;
    }
    else if (c->public_url) {
        /* derived once here, not on every seal request */
        c->api.seal_url = apr_pstrcat(s->process->pconf, c->public_url, "/seal", NULL);
    }
    if (c->seal_max_age != SO_UNSET) {
        c->api.seal_max_age = c->seal_max_age;
    }
    if (c->list_cache != SO_UNSET) {
        c->api.list_cache = (apr_size_t)c->list_cache;
    }
    so_httpd_br_finalize(s);
    c->api.webhook_allow_http = c->webhook_http == 1;
    c->api.webhook_allow_private = c->webhook_private == 1;
    if (c->session_max_age != SO_UNSET) {
        c->api.session_max_age = c->session_max_age;
    }
    if (c->audit_retention != SO_UNSET) {
        c->api.audit_retention_days = c->audit_retention;
    }
    c->api.brand_name = c->brand_name ? c->brand_name : "";
    c->api.brand_logo = c->brand_logo ? c->brand_logo : "";
    c->api.brand_color = c->brand_color ? c->brand_color : "";
    c->api.support_url = c->support_url ? c->support_url : "";
    if (c->acme_orders != SO_UNSET) {
        c->api.acme_orders_per_hour = c->acme_orders;
        c->api.acme_accounts_per_hour = c->acme_accounts;
    }
    c->api.auth_cache_secs = c->auth_cache != SO_UNSET ? c->auth_cache : 0;
}

void so_httpd_srv_db_driver(server_rec *s, const char *driver)
{
    so_srv_conf_t *c = so_httpd_srv_conf(s);
    if (c->auth_cache == SO_UNSET) {
        /* on PostgreSQL, where changes made anywhere are notified (so_httpd_listen.c) */
        c->api.auth_cache_secs = !strcmp(driver, "pgsql") ? SO_AUTH_CACHE_PGSQL_SECS : 0;
    }
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

static so_srv_conf_t *conf_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &sslorders_module);
}

static const char *set_webhook_http(cmd_parms *cmd, void *dc, int flag)
{
    (void)dc;
    conf_of(cmd)->webhook_http = flag ? 1 : 0;
    return NULL;
}

static const char *set_webhook_private(cmd_parms *cmd, void *dc, int flag)
{
    (void)dc;
    conf_of(cmd)->webhook_private = flag ? 1 : 0;
    return NULL;
}

static const char *set_ca(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (arg[0] != '/') {
        return "SSLOrdersCA: expects an absolute directory path";
    }
    conf_of(cmd)->ca_dir = arg;
    return NULL;
}

static const char *set_ca_tag(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (!strchr(arg, '.') || strpbrk(arg, " /:@*")) {
        return "SSLOrdersCATag: expects a domain name (e.g. ca.example.net)";
    }
    conf_of(cmd)->ca_tag = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_ca_org(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    conf_of(cmd)->ca_org = arg;
    return NULL;
}

static const char *set_ca_key(cmd_parms *cmd, void *dc, const char *root, const char *issuing)
{
    so_ca_key_type_t r, i;
    (void)dc;
    if (so_ca_key_type_parse(root, &r) != APR_SUCCESS
        || (issuing && so_ca_key_type_parse(issuing, &i) != APR_SUCCESS)) {
        return "SSLOrdersCAKey: expects one or two of " SO_CA_KEY_NAMES;
    }
    conf_of(cmd)->ca_root_key = (int)r;
    conf_of(cmd)->ca_issuing_key = issuing ? (int)i : (int)r;
    return NULL;
}

static const char *set_max_validity(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 1, 398, &v) != APR_SUCCESS) {
        return "SSLOrdersMaxValidityDays: expects days from 1 to 398 (it can only lower the "
               "Baseline Requirements' maximum)";
    }
    conf_of(cmd)->max_validity_days = (int)v;
    return NULL;
}

static const char *set_pki_url(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_size_t n = strlen(arg);
    (void)dc;
    if (strncmp(arg, "http://", 7)) {
        return "SSLOrdersPKIURL: expects an http:// URL (the Baseline Requirements want AIA and "
               "CRL URLs over http)";
    }
    while (n > 0 && arg[n - 1] == '/') {
        n--;
    }
    conf_of(cmd)->pki_url = apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *set_connect_to(cmd_parms *cmd, void *dc, const char *from, const char *to)
{
    const char *why = NULL;
    so_srv_conf_t *c = conf_of(cmd);
    (void)dc;
    if (so_dcv_connect_to_add(&c->dcv_connect_to, cmd->pool, from, to, &why) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "SSLOrdersDCVConnectTo: ", why, NULL);
    }
    return NULL;
}

static const char *set_nameserver(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    conf_of(cmd)->dcv_nameserver = arg;
    return NULL;
}

static const char *argv_of(cmd_parms *cmd, const char *name, const char *args, const char ***out)
{
    char **argv = NULL;
    if (apr_tokenize_to_argv(args, &argv, cmd->pool) != APR_SUCCESS || !argv || !argv[0]) {
        return apr_pstrcat(cmd->pool, name, ": expects a command and its arguments", NULL);
    }
    if (argv[0][0] != '/') {
        return apr_pstrcat(cmd->pool, name, ": the command must be an absolute path", NULL);
    }
    *out = (const char **)argv;
    return NULL;
}

static const char *set_mail_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    (void)dc;
    return argv_of(cmd, "SSLOrdersMailCommand", args, &conf_of(cmd)->mail_argv);
}

static const char *set_message_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    (void)dc;
    return argv_of(cmd, "SSLOrdersMessageCmd", args, &conf_of(cmd)->message_argv);
}

static const char *set_mail_from(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (!so_mail_addr_ok(arg)) {
        return "SSLOrdersMailFrom: expects an e-mail address";
    }
    conf_of(cmd)->mail_from = arg;
    return NULL;
}

static const char *set_max_upload(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 1024, (apr_int64_t)1 << 30, &v) != APR_SUCCESS) {
        return "SSLOrdersMaxUpload: expects a number of bytes from 1024 to 1073741824";
    }
    conf_of(cmd)->max_upload = v;
    return NULL;
}

static const char *set_seal_url(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_size_t n = strlen(arg);
    (void)dc;
    if (strncmp(arg, "https://", 8) && strncmp(arg, "http://", 7)) {
        return "SSLOrdersSealURL: expects an http(s):// URL (where SetHandler sslorders-seal is "
               "mounted, as visitors reach it)";
    }
    while (n > 0 && arg[n - 1] == '/') {
        n--;
    }
    conf_of(cmd)->seal_url = apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *set_seal_max_age(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 0, 86400, &v) != APR_SUCCESS) {
        return "SSLOrdersSealMaxAge: expects seconds from 0 to 86400";
    }
    conf_of(cmd)->seal_max_age = (int)v;
    return NULL;
}

static const char *set_acme_rate(cmd_parms *cmd, void *dc, const char *orders,
                                 const char *accounts)
{
    apr_int64_t o, a;
    (void)dc;
    if (so_parse_int64(orders, 0, 1000000, &o) != APR_SUCCESS
        || so_parse_int64(accounts, 0, 1000000, &a) != APR_SUCCESS) {
        return "SSLOrdersACMERateLimit: expects two counts per hour (0: no limit)";
    }
    conf_of(cmd)->acme_orders = (int)o;
    conf_of(cmd)->acme_accounts = (int)a;
    return NULL;
}

static const char *set_auth_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (!strcasecmp(arg, "off")) {
        v = 0;
    }
    else if (so_parse_int64(arg, 0, 60, &v) != APR_SUCCESS) {
        return "SSLOrdersAuthCache: expects off or seconds from 0 to 60";
    }
    conf_of(cmd)->auth_cache = (int)v;
    return NULL;
}

static const char *set_list_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (!strcasecmp(arg, "off")) {
        v = 0;
    }
    else if (so_parse_int64(arg, 0, (apr_int64_t)1 << 30, &v) != APR_SUCCESS) {
        return "SSLOrdersListCache: expects off or a number of bytes from 0 to 1073741824";
    }
    conf_of(cmd)->list_cache = v;
    return NULL;
}

static const char *set_session_max_age(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 300, 366 * 86400, &v) != APR_SUCCESS) {
        return "SSLOrdersSessionMaxAge: expects seconds from 300 to 31622400";
    }
    conf_of(cmd)->session_max_age = v;
    return NULL;
}

static const char *set_audit_retention(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 0, 36500, &v) != APR_SUCCESS) {
        return "SSLOrdersAuditRetention: expects days from 0 (kept for ever) to 36500";
    }
    conf_of(cmd)->audit_retention = v;
    return NULL;
}

static const char *set_job_interval(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 1, 86400, &v) != APR_SUCCESS) {
        return "SSLOrdersJobInterval: expects seconds from 1 to 86400";
    }
    conf_of(cmd)->job_interval = (int)v;
    return NULL;
}

/* ---- white-label (issue 17) ---- */

static const char *set_brand_name(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_size_t n = strlen(arg);
    (void)dc;
    if (n == 0 || n > 64 || !so_str_is_printable_utf8(arg, n)) {
        return "SSLOrdersBrandName: expects 1 to 64 bytes of printable text";
    }
    conf_of(cmd)->brand_name = arg;
    return NULL;
}

static int url_ok(const char *s, int path_ok, int mailto_ok)
{
    apr_size_t n = strlen(s);
    if (n == 0 || n > 512 || strpbrk(s, " \t\r\n\"'<>`\\")) {
        return 0;
    }
    return (path_ok && s[0] == '/' && s[1] != '/') || !strncmp(s, "https://", 8)
           || !strncmp(s, "http://", 7) || (mailto_ok && !strncmp(s, "mailto:", 7) && s[7]);
}

static const char *set_brand_logo(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (!url_ok(arg, 1, 0)) {
        return "SSLOrdersBrandLogo: expects a path on this server (/img/brand.svg) or an "
               "http(s):// URL, without spaces or quotes";
    }
    conf_of(cmd)->brand_logo = arg;
    return NULL;
}

static const char *set_brand_color(cmd_parms *cmd, void *dc, const char *arg)
{
    int i;
    (void)dc;
    for (i = 1; arg[0] == '#' && i < 7 && apr_isxdigit(arg[i]); i++) {
    }
    if (i != 7 || arg[7]) {
        return "SSLOrdersBrandColor: expects a color as #rrggbb";
    }
    conf_of(cmd)->brand_color = apr_pstrdup(cmd->pool, arg);
    ap_str_tolower((char *)conf_of(cmd)->brand_color);
    return NULL;
}

static const char *set_support_url(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (!url_ok(arg, 0, 1)) {
        return "SSLOrdersSupportURL: expects an http(s):// or mailto: URL, without spaces or "
               "quotes";
    }
    conf_of(cmd)->support_url = arg;
    return NULL;
}

const command_rec so_httpd_cmds[] = {
    AP_INIT_TAKE1("SSLOrdersCA", set_ca, NULL, RSRC_CONF,
                  "Directory of the built-in CA (root and issuing intermediate); created on "
                  "first start when empty"),
    AP_INIT_TAKE1("SSLOrdersCATag", set_ca_tag, NULL, RSRC_CONF,
                  "The CA's domain in domain validation values (default sslorders.local)"),
    AP_INIT_TAKE1("SSLOrdersCAOrganization", set_ca_org, NULL, RSRC_CONF,
                  "O of a CA created here (default mod_sslorders)"),
    AP_INIT_TAKE12("SSLOrdersCAKey", set_ca_key, NULL, RSRC_CONF,
                   "Key types of a CA created here: the root's, then the issuing "
                   "intermediate's (default ec-p384; the intermediate: the root's)"),
    AP_INIT_TAKE1("SSLOrdersMaxValidityDays", set_max_validity, NULL, RSRC_CONF,
                  "Shorter certificate validity than the Baseline Requirements allow"),
    AP_INIT_TAKE1("SSLOrdersPKIURL", set_pki_url, NULL, RSRC_CONF,
                  "http:// base of the CA certificate and CRL URLs in certificates"),
    AP_INIT_TAKE2("SSLOrdersDCVConnectTo", set_connect_to, NULL, RSRC_CONF,
                  "Route validation probes of host:port (* for any host) to addr:port"),
    AP_INIT_TAKE1("SSLOrdersDCVNameserver", set_nameserver, NULL, RSRC_CONF,
                  "DNS server (addr[:port]) for DNS validation"),
    AP_INIT_RAW_ARGS("SSLOrdersMailCommand", set_mail_cmd, NULL, RSRC_CONF,
                     "Command (absolute path and arguments, no shell) that sends a mail read "
                     "from its stdin, e.g. /usr/sbin/sendmail -t -i"),
    AP_INIT_TAKE1("SSLOrdersMailFrom", set_mail_from, NULL, RSRC_CONF,
                  "Sender address of mails"),
    AP_INIT_RAW_ARGS("SSLOrdersMessageCmd", set_message_cmd, NULL, RSRC_CONF,
                     "Command run on lifecycle events with: event order-id common-name"),
    AP_INIT_TAKE1("SSLOrdersJobInterval", set_job_interval, NULL, RSRC_CONF,
                  "Seconds between runs of the background job (default 60)"),
    AP_INIT_TAKE1("SSLOrdersMaxUpload", set_max_upload, NULL, RSRC_CONF,
                  "Largest document upload accepted, in bytes (default 10485760)"),
    AP_INIT_TAKE1("SSLOrdersSealURL", set_seal_url, NULL, RSRC_CONF,
                  "Base URL of the site seals as visitors reach them (default <PublicURL>/seal)"),
    AP_INIT_TAKE1("SSLOrdersSealMaxAge", set_seal_max_age, NULL, RSRC_CONF,
                  "Seconds within which a seal shows a change (default 300)"),
    AP_INIT_TAKE2("SSLOrdersACMERateLimit", set_acme_rate, NULL, RSRC_CONF,
                  "ACME: new orders per account and new accounts per client address, per hour "
                  "(default 300 50; 0: no limit)"),
    AP_INIT_TAKE1("SSLOrdersAuthCache", set_auth_cache, NULL, RSRC_CONF,
                  "Seconds each process may answer GET requests from an API token's lookup it "
                  "made, or off (default 5 on PostgreSQL, off on SQLite; changes through any "
                  "server with the cache show at once, changes made by SQL within these "
                  "seconds)"),
    AP_INIT_TAKE1("SSLOrdersListCache", set_list_cache, NULL, RSRC_CONF,
                  "Bytes of order list pages each process keeps, or off (default 16777216)"),
    AP_INIT_TAKE1("SSLOrdersSessionMaxAge", set_session_max_age, NULL, RSRC_CONF,
                  "Seconds a portal session lasts after sign-in however often it is used "
                  "(default 604800, 7 days)"),
    AP_INIT_TAKE1("SSLOrdersAuditRetention", set_audit_retention, NULL, RSRC_CONF,
                  "Days the audit log keeps its rows, pruned by the background job (default "
                  "365; 0 keeps them for ever)"),
    AP_INIT_TAKE1("SSLOrdersMaxBody", set_max_body, NULL, RSRC_CONF,
                  "Largest request body accepted, in bytes (default 1048576)"),
    AP_INIT_TAKE1("SSLOrdersPublicURL", set_public_url, NULL, RSRC_CONF,
                  "Base URL of this server as customers reach it (seal snippets, AIA/CRL, mail)"),
    AP_INIT_FLAG("SSLOrdersTestClock", set_test_clock, NULL, RSRC_CONF,
                 "Test only: honour the X-SSLOrders-Clock request header as the current time"),
    AP_INIT_FLAG("SSLOrdersSQLiteMultithread", so_httpd_set_sqlite_mt, NULL, RSRC_CONF,
                 "Process-wide: SQLite in multi-thread instead of serialized mode (default off)"),
    AP_INIT_TAKE1("SSLOrdersSQLiteSynchronous", so_httpd_set_sqlite_sync, NULL, RSRC_CONF,
                  "SQLite: full (default: every commit is on disk) or normal (WAL synced at "
                  "checkpoints: survives a crash of httpd, may lose the last commits to a "
                  "power loss)"),
    AP_INIT_TAKE1("SSLOrdersSQLiteMmap", so_httpd_set_sqlite_mmap, NULL, RSRC_CONF,
                  "SQLite: MiB of the database each connection reads through a memory map "
                  "(default 0: none; a map is dropped whenever another connection wrote)"),
    AP_INIT_TAKE1("SSLOrdersACMENonces", so_httpd_set_acme_nonces, NULL, RSRC_CONF,
                  "ACME nonces: auto (default: in the memory of the server's processes on "
                  "SQLite, in the database on PostgreSQL), memory (one server) or database"),
    AP_INIT_TAKE1("SSLOrdersDBWarm", so_httpd_set_db_warm, NULL, RSRC_CONF,
                  "Database connections a child opens before it takes requests: auto "
                  "(default: PostgreSQL min(ThreadsPerChild, DBDMax), SQLite none), off, or N"),
    AP_INIT_TAKE1("SSLOrdersMallocMmapThreshold", so_httpd_set_mmap_threshold, NULL, RSRC_CONF,
                  "Process-wide: glibc M_MMAP_THRESHOLD in bytes for every child, or off (default)"),
    AP_INIT_FLAG("SSLOrdersDNSSEC", so_httpd_br_dnssec, NULL, RSRC_CONF,
                 "Validate DNSSEC in DCV and CAA lookups (default on)"),
    AP_INIT_TAKE1("SSLOrdersDNSTrustAnchor", so_httpd_br_trust_anchor, NULL, RSRC_CONF,
                  "DNSSEC trust anchor file (DS or DNSKEY records; default the root key)"),
    AP_INIT_ITERATE("SSLOrdersCAAIdentity", so_httpd_br_caa_identity, NULL, RSRC_CONF,
                    "Issuer domain names that CAA issue/issuewild records may name (default the "
                    "CA tag)"),
    AP_INIT_TAKE2("SSLOrdersPerspective", so_httpd_br_perspective, NULL, RSRC_CONF,
                  "A remote perspective of MPIC: name and URL (repeatable)"),
    AP_INIT_TAKE1("SSLOrdersMPIC", so_httpd_br_mpic, NULL, RSRC_CONF,
                  "Multi-perspective issuance corroboration: on, off or report"),
    AP_INIT_TAKE1("SSLOrdersMPICTimeout", so_httpd_br_mpic_timeout, NULL, RSRC_CONF,
                  "Seconds the perspectives have to answer (20)"),
    AP_INIT_TAKE2("SSLOrdersPerspectiveAuth", so_httpd_br_perspective_auth, NULL, RSRC_CONF,
                  "secret-file PATH: the secret shared by the primary and its perspectives"),
    AP_INIT_FLAG("SSLOrdersCAA", so_httpd_br_caa, NULL, RSRC_CONF,
                 "Check CAA records before every issuance (default on)"),
    AP_INIT_TAKE1("SSLOrdersBlockedKeys", so_httpd_br_blocked_keys, NULL, RSRC_CONF,
                  "A file of key fingerprints never certified (Debian's openssl-blacklist form "
                  "or SHA-256 of the SubjectPublicKeyInfo; repeatable)"),
    AP_INIT_FLAG("SSLOrdersWebhookAllowHTTP", set_webhook_http, NULL, RSRC_CONF,
                 "Accept http:// webhook URLs (default off: https only)"),
    AP_INIT_FLAG("SSLOrdersWebhookAllowPrivate", set_webhook_private, NULL, RSRC_CONF,
                 "Deliver webhooks to loopback, private and link-local addresses (default off)"),
    AP_INIT_TAKE1("SSLOrdersBrandName", set_brand_name, NULL, RSRC_CONF,
                  "The provider's name in the portal, mails, seals and a new CA (default SSL Orders)"),
    AP_INIT_TAKE1("SSLOrdersBrandLogo", set_brand_logo, NULL, RSRC_CONF,
                  "The provider's logo in the portal header: a path or http(s) URL"),
    AP_INIT_TAKE1("SSLOrdersBrandColor", set_brand_color, NULL, RSRC_CONF,
                  "The provider's color (#rrggbb) in the portal, the seal and its report"),
    AP_INIT_TAKE1("SSLOrdersSupportURL", set_support_url, NULL, RSRC_CONF,
                  "Where customers get help (http(s):// or mailto:): portal, mails, seal report"),
    {NULL}};
