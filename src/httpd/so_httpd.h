/* mod_sslorders: httpd glue (the only code that sees request_rec/server_rec). */
#ifndef SO_HTTPD_H
#define SO_HTTPD_H

#include <httpd.h>
#include <http_config.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "../api/so_api.h"

extern module AP_MODULE_DECLARE_DATA sslorders_module;

#define SO_UNSET (-1)

/* Per-server configuration. */
typedef struct {
    so_config_t api;          /* the API's view (merged values) */
    apr_int64_t max_body;     /* SO_UNSET when not set here */
    const char *public_url;   /* NULL when not set here */
    int test_clock;           /* SO_UNSET when not set here */
    const char *ca_dir;       /* SSLOrdersCA */
    const char *ca_tag;
    const char *ca_org;
    /* SSLOrdersCAKey: the keys of a CA created here (SO_CA_KEY_DEFAULT: P-384, the
     * intermediate the root's type) */
    int ca_root_key, ca_issuing_key;
    int max_validity_days;    /* SO_UNSET when not set here */
    const char *pki_url;
    apr_array_header_t *dcv_connect_to;
    const char *dcv_nameserver;
    const char **mail_argv;
    const char *mail_from;
    const char **message_argv;
    int job_interval;         /* SO_UNSET when not set here */
    apr_int64_t max_upload;   /* SO_UNSET when not set here */
    const char *seal_url;
    int seal_max_age;         /* SO_UNSET when not set here */
    apr_int64_t list_cache;   /* SO_UNSET when not set here */
    struct so_br_config_t *br_set; /* Baseline Requirements directives given here (or NULL) */
    int webhook_http;         /* SSLOrdersWebhookAllowHTTP, SO_UNSET when not set here */
    int webhook_private;      /* SSLOrdersWebhookAllowPrivate, SO_UNSET when not set here */
    apr_int64_t session_max_age; /* SO_UNSET when not set here (SSLOrdersSessionMaxAge) */
    apr_int64_t audit_retention; /* SO_UNSET when not set here (SSLOrdersAuditRetention) */
    const char *brand_name;   /* white-label (NULL when not set here) */
    const char *brand_logo;
    const char *brand_color;
    const char *support_url;
    int acme_orders;          /* SSLOrdersACMERateLimit (SO_UNSET when not set here) */
    int acme_accounts;
    int auth_cache;           /* SSLOrdersAuthCache seconds (SO_UNSET when not set here) */
} so_srv_conf_t;

/* Per-directory configuration: where the handler is mounted. */
typedef struct {
    const char *location; /* the <Location> path, e.g. "/v1beta" */
} so_dir_conf_t;

void *so_httpd_create_srv(apr_pool_t *p, server_rec *s);
void *so_httpd_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *so_httpd_create_dir(apr_pool_t *p, char *dir);
void *so_httpd_merge_dir(apr_pool_t *p, void *basev, void *addv);
extern const command_rec so_httpd_cmds[];
so_srv_conf_t *so_httpd_srv_conf(server_rec *s);
/* headers, client address, scheme and the test clock of r into req (so_httpd_handler.c) */
void so_httpd_req_from(request_rec *r, const so_srv_conf_t *sc, so_req_t *req);
void so_httpd_srv_finalize(server_rec *s);
/* SSLOrdersAuthCache's default, once the server's database driver is known */
#define SO_AUTH_CACHE_PGSQL_SECS 5
void so_httpd_srv_db_driver(server_rec *s, const char *driver);
/* Baseline Requirements directives (so_httpd_br.c) */
const char *so_httpd_br_dnssec(cmd_parms *cmd, void *dc, int flag);
const char *so_httpd_br_trust_anchor(cmd_parms *cmd, void *dc, const char *arg);
const char *so_httpd_br_caa_identity(cmd_parms *cmd, void *dc, const char *arg);
const char *so_httpd_br_caa(cmd_parms *cmd, void *dc, int flag);
const char *so_httpd_br_blocked_keys(cmd_parms *cmd, void *dc, const char *arg);
const char *so_httpd_br_perspective(cmd_parms *cmd, void *dc, const char *name, const char *url);
const char *so_httpd_br_mpic(cmd_parms *cmd, void *dc, const char *arg);
const char *so_httpd_br_mpic_timeout(cmd_parms *cmd, void *dc, const char *arg);
const char *so_httpd_br_perspective_auth(cmd_parms *cmd, void *dc, const char *kind,
                                         const char *arg);
void *so_httpd_br_merge(apr_pool_t *p, void *base, void *add);
void so_httpd_br_finalize(server_rec *s);
void so_httpd_br_post_config(apr_pool_t *ptemp, server_rec *s);

/* database glue (so_httpd_dbd.c) */
int so_httpd_dbd_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
/* registers statements (every pass) and migrates (real pass) */
int so_httpd_dbd_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s, int real_pass);
void so_httpd_dbd_register_hooks(void);
so_db_t *so_httpd_db_acquire(request_rec *r);
/* Record the state of the database after a request (logs transitions once). */
void so_httpd_db_state(server_rec *s, int down, const char *why);

/* request handling (so_httpd_handler.c): sslorders-api, sslorders-public, sslorders-seal */
int so_httpd_api_handler(request_rec *r);
/* The request body into req->body, at most limit bytes (*too_large when longer). */
int so_httpd_read_body(request_rec *r, so_req_t *req, apr_size_t limit, int *too_large);
/* the ACME server (so_httpd_acme.c): sslorders-acme */
int so_httpd_acme_handler(request_rec *r);

/* issuance glue (so_httpd_ca.c): the CA at startup, the background watchdog */
int so_httpd_ca_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, int real_pass);
void so_httpd_ca_child_init(apr_pool_t *pchild, server_rec *s);
/* the order list page cache of this process (SSLOrdersListCache) */
void so_httpd_list_cache_init(apr_pool_t *pchild, server_rec *s);
/* SSLOrdersAuthCache: the process's token cache, as long as the longest of the servers' */
void so_httpd_auth_cache_init(apr_pool_t *pchild, server_rec *s);
/* PostgreSQL: a thread per child that LISTENs for changes of credentials made anywhere
 * and retires the cached lookups (so_httpd_listen.c); nothing without the cache. */
void so_httpd_auth_listen_start(apr_pool_t *pchild, server_rec *s);
/* The first server's DBDParams when its DBDriver is pgsql, else NULL. */
const char *so_httpd_dbd_pg_params(void);

/* settings of the whole process, each behind its own directive (so_httpd_process.c) */
const char *so_httpd_set_sqlite_mt(cmd_parms *cmd, void *dc, int on);
const char *so_httpd_set_mmap_threshold(cmd_parms *cmd, void *dc, const char *arg);
void so_httpd_process_pre_config(void);
/* SSLOrdersSQLiteSynchronous full|normal (global): PRAGMA synchronous of every SQLite
 * connection; so_httpd_sqlite_sync_normal() is 1 for normal */
const char *so_httpd_set_sqlite_sync(cmd_parms *cmd, void *dc, const char *arg);
int so_httpd_sqlite_sync_normal(void);
/* SSLOrdersSQLiteMmap MiB (global): PRAGMA mmap_size of every SQLite connection, 0 (the
 * default): none; so_httpd_sqlite_mmap() in bytes */
const char *so_httpd_set_sqlite_mmap(cmd_parms *cmd, void *dc, const char *arg);
apr_int64_t so_httpd_sqlite_mmap(void);
/* SSLOrdersDBWarm auto|off|N (global): connections a child opens before it takes
 * requests (so_httpd_dbd.c) */
const char *so_httpd_set_db_warm(cmd_parms *cmd, void *dc, const char *arg);
void so_httpd_process_post_config(server_rec *s);
void so_httpd_process_child_init(server_rec *s);
/* metrics (so_httpd_metrics.c): the shared segment, the sslorders-metrics handler, the
 * mod_status section */
int so_httpd_metrics_post_config(apr_pool_t *pconf, server_rec *s);
/* SSLOrdersACMENonces auto|memory|database (global, so_acme_nonces_t); the shared memory
 * of ACME nonces, kept across graceful restarts */
const char *so_httpd_set_acme_nonces(cmd_parms *cmd, void *dc, const char *arg);
void so_httpd_acme_pre_config(void);
void so_httpd_acme_post_config(server_rec *s);
void so_httpd_metrics_register_hooks(void);
int so_httpd_metrics_handler(request_rec *r);
/* a request answered by one of our handlers (route may be NULL) */
void so_httpd_metrics_request(request_rec *r, const so_route_t *route);
/* a database connection asked for: ok or not, after waiting so long */
void so_httpd_metrics_db(request_rec *r, int ok, apr_interval_time_t waited);

/* log bridge (so_httpd_log.c) */
void so_httpd_log_init(server_rec *s, apr_pool_t *pconf);

#endif
