/* mod_sslorders: the API layer (no httpd types).
 *
 * The glue (src/httpd) turns an httpd request into a so_req_t, calls
 * so_api_dispatch() and writes what it left in the response fields back. One
 * route table (so_routes.c) maps method + path pattern to a handler, the role the
 * caller needs and flags; the dispatcher does body parsing, authentication, team
 * scoping and role checks for every route, so that a handler cannot forget them.
 *
 * A handler returns what so_api_ok*() (APR_SUCCESS) or so_api_error() (SO_ANSWERED)
 * returned; a helper that answers an error returns SO_ANSWERED too, which its callers
 * pass up like any other failure (a transaction ends in a rollback). A status
 * returned without an answer is mapped (APR_ENOENT -> 404, database unavailable ->
 * 503, anything else -> 500, logged).
 */
#ifndef SO_API_H
#define SO_API_H

#include <apr_hash.h>
#include <apr_tables.h>
#include <jansson.h>

#include "../core/so_errors.h"
#include "../store/so_db.h"
#include "../store/so_store_account.h"

/* Mirror of the module configuration the API needs (filled by the glue). */
typedef struct so_config_t {
    apr_size_t max_body;       /* SSLOrdersMaxBody: JSON bodies */
    apr_size_t max_upload;     /* bodies of SO_RF_RAW routes (uploads) */
    const char *public_url;    /* SSLOrdersPublicURL, no trailing slash ("" = unset) */
    int test_clock;            /* SSLOrdersTestClock: honour X-SSLOrders-Clock */
    apr_int64_t token_ttl;     /* seconds, 48 h */
    apr_int64_t session_ttl;   /* seconds of inactivity */
    int login_max_failures;    /* per user name and address in login_window */
    apr_int64_t login_window;  /* seconds */
    /* issuance (NULL ca: SSLOrdersCA is not set and nothing is issued) */
    struct so_ca_t *ca;
    const char *ca_tag;            /* SSLOrdersCATag: the domain in DCV values */
    int max_validity_days;         /* SSLOrdersMaxValidityDays (0: the BR maximum) */
    const char *pki_url;           /* http base of AIA and CRL URLs (SSLOrdersPKIURL) */
    apr_array_header_t *dcv_connect_to; /* curl CONNECT_TO entries (SSLOrdersDCVConnectTo) */
    const char *dcv_nameserver;    /* SSLOrdersDCVNameserver */
    const char *const *mail_argv;  /* SSLOrdersMailCommand, NULL terminated (NULL: no mail) */
    const char *mail_from;         /* SSLOrdersMailFrom */
    const char *const *message_argv; /* SSLOrdersMessageCmd (NULL: none) */
    apr_int64_t job_interval;      /* SSLOrdersJobInterval, seconds */
    const char *instance;          /* who claims orders: host:pid (set per process) */
    /* seals and documents */
    const char *seal_url;          /* SSLOrdersSealURL (NULL: <public_url>/seal) */
    int seal_max_age;              /* SSLOrdersSealMaxAge: a change shows within this (s) */
    /* SSLOrdersListCache: bytes of order list pages each process keeps (0: none) */
    apr_size_t list_cache;
    /* Baseline Requirements (issue 12): DNSSEC, CAA, MPIC (see so_br.h) */
    struct so_br_config_t *br;
    /* webhooks: http URLs (SSLOrdersWebhookAllowHTTP), internal addresses
     * (SSLOrdersWebhookAllowPrivate) */
    int webhook_allow_http;
    int webhook_allow_private;
    /* security (issue 14) */
    apr_int64_t session_max_age;   /* SSLOrdersSessionMaxAge: seconds since sign-in, 7 days */
    apr_int64_t audit_retention_days; /* SSLOrdersAuditRetention: days (0: kept for ever) */
    void *ext;                     /* later features hang their settings here */
    /* white-label (issue 17): "" = unset; so_brand() gives the values in force */
    const char *brand_name;        /* SSLOrdersBrandName */
    const char *brand_logo;        /* SSLOrdersBrandLogo: a URL path or http(s) URL */
    const char *brand_color;       /* SSLOrdersBrandColor: #rrggbb */
    const char *support_url;       /* SSLOrdersSupportURL: http(s):// or mailto: */
    /* SSLOrdersACMERateLimit: ACME newOrder per account and newAccount per client address,
     * per hour (0: no limit) */
    int acme_orders_per_hour;
    int acme_accounts_per_hour;
    /* SSLOrdersAuthCache: seconds a process may answer reads from a token lookup it made
     * (0: off; unset: 5 on PostgreSQL, off on SQLite; so_authcache.h) */
    int auth_cache_secs;
} so_config_t;

/* The provider's brand as shown to customers: the configured values or the defaults
 * (name "SSL Orders", logo /img/logo.svg, color #0b5394, no support URL). */
typedef struct {
    const char *name, *logo, *color, *support_url;
} so_brand_t;
void so_brand(const so_config_t *cfg, so_brand_t *out);
#define SO_BRAND_DEFAULT_NAME "SSL Orders"
#define SO_BRAND_DEFAULT_LOGO "/img/logo.svg"
#define SO_BRAND_DEFAULT_COLOR "#0b5394"

void so_config_defaults(so_config_t *cfg);

typedef enum { SO_AUTH_TOKEN = 1, SO_AUTH_SESSION = 2, SO_AUTH_OTP = 3 } so_auth_kind_t;

typedef struct {
    so_auth_kind_t kind;
    apr_int64_t user_id;
    apr_int64_t team_id;
    so_role_t role;
    int is_staff;
    const char *username;
    const char *team_slug;
    const char *team_name;
    const char *team_currency;
    apr_int64_t team_balance; /* at authentication time */
    apr_int64_t credential_id;
    apr_int64_t otp_order_id; /* SO_AUTH_OTP: the one order it may see */
    int has_list_version;     /* SO_RF_LISTVER routes: list_version was read with the credential */
    apr_int64_t list_version;
    const char *csrf_token;   /* SO_AUTH_SESSION */
    apr_int64_t session_created_at; /* SO_AUTH_SESSION */
    unsigned scopes;          /* SO_AUTH_TOKEN with scopes (0: what the role allows) */
} so_principal_t;

typedef struct {
    const char *key;
    const char *value;
} so_kv_t;

typedef struct so_req_t so_req_t;
typedef apr_status_t so_handler_fn(so_req_t *req);
typedef so_db_t *so_db_acquire_fn(so_req_t *req);

/* route flags */
#define SO_RF_PUBLIC 0x01  /* no authentication */
#define SO_RF_STAFF 0x02   /* staff only */
#define SO_RF_OTP 0x04     /* an order OTP token may call it (for its order) */
#define SO_RF_RAW 0x08     /* the handler reads the body itself (not JSON) */
#define SO_RF_NOCSRF 0x10  /* a session may call it without the CSRF header (login) */
#define SO_RF_LISTVER 0x20 /* the credential check also reads the team's order list version */

typedef struct {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/ssl/orders/{id}" */
    so_handler_fn *fn;
    so_role_t min_role;  /* SO_ROLE_NONE for public routes */
    unsigned flags;
} so_route_t;

struct so_req_t {
    apr_pool_t *pool;
    int plain_errors;          /* public pages: errors as text/plain, not the JSON envelope */
    const so_config_t *cfg;
    const so_route_t *routes;  /* the table to dispatch on (so_routes() by default) */
    const char *method;
    const char *path;          /* below the API mount, starts with '/' */
    const so_route_t *route;   /* matched route */
    apr_table_t *params;       /* route parameters ({id} -> "12") */
    apr_array_header_t *query; /* so_kv_t, in order, repeated keys kept */
    apr_table_t *headers_in;
    const char *client_ip;
    int secure;                /* over TLS */
    const char *body;
    apr_size_t body_len;
    json_t *json;              /* the parsed body (an object), never NULL after dispatch */
    apr_int64_t now;           /* seconds since the epoch (test clock aware) */
    so_principal_t *auth;

    so_db_acquire_fn *acquire;
    void *acquire_baton;
    so_db_t *db;
    const char *owner;         /* who claims orders in this request (so_req_owner) */

    /* the answer */
    int status;
    json_t *data;
    const char *data_raw;      /* the answer's data as JSON text (instead of data) */
    apr_size_t data_raw_len;
    json_t *warnings;
    int err_code;
    const char *err_desc;
    const char *err_data;
    apr_table_t *headers_out;
    const char *raw_body; /* set for non-JSON answers (CSV, ZIP, ...) */
    apr_size_t raw_len;
    const char *raw_ctype;
    apr_int64_t mtime;    /* raw answers: Last-Modified (seconds; 0: none); with an ETag in
                           * headers_out the glue answers conditional requests (304) */
    void *outbox;         /* the outbox's note of the orders this request wrote events for */
    apr_int64_t audit_id;      /* the audit row committed with this request's change */
    apr_int64_t audit_pending; /* the audit row of the transaction being committed */
};

/* One-time setup before threads start: the route table, the statement registry,
 * the Public Suffix List. */
void so_api_init(void);

/* Fill the defaults of a request (pools, tables); the glue sets the rest. */
so_req_t *so_req_create(apr_pool_t *p, const so_config_t *cfg);
/* The name this request claims orders under: the instance (host:pid) and a random part,
 * so that two threads of one process never share a claim; the same all through a request. */
const char *so_req_owner(so_req_t *req);
/* Optimistic concurrency: how often a write that lost to another writer is re-applied, and
 * the pause before the next attempt (random, growing with the attempt: lets a crowd of
 * writers of one row spread out). */
#define SO_WRITE_ATTEMPTS 12
void so_api_write_backoff(int attempt);
/* Route, parse, authenticate, check, run. Leaves the answer in req. */
void so_api_dispatch(so_req_t *req);
/* The JSON text of the answer (envelope included). */
const char *so_api_answer_json(so_req_t *req, apr_size_t *len);

/* The database of this request (NULL when unavailable: the caller answers 503). */
so_db_t *so_req_db(so_req_t *req);

/* answers */
apr_status_t so_api_ok(so_req_t *req, json_t *data); /* steals data */
apr_status_t so_api_ok_id(so_req_t *req, apr_int64_t id);
/* data given as JSON text (written with so_jw for large answers) */
apr_status_t so_api_ok_raw(so_req_t *req, const char *json, apr_size_t len);
apr_status_t so_api_ok_list(so_req_t *req, json_t *results, apr_int64_t total); /* steals */
/* A non-JSON answer (200): the bytes (not copied: pool memory), their Content-Type. */
apr_status_t so_api_ok_bytes(so_req_t *req, const void *data, apr_size_t len, const char *ctype);
/* An error answer (code: so_errors.h; its HTTP status follows from it). Both return
 * SO_ANSWERED, inline, so that the compiler sees which paths answered. */
#define SO_ANSWERED (APR_OS_START_USERERR + 90)
void so_api_error_set(so_req_t *req, int code, const char *desc, const char *data);
void so_api_errorf_set(so_req_t *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline apr_status_t so_api_error(so_req_t *req, int code, const char *desc,
                                        const char *data)
{
    so_api_error_set(req, code, desc, data);
    return SO_ANSWERED;
}
#define so_api_errorf(req, code, ...)                                                        \
    __extension__({                                                                          \
        so_api_errorf_set((req), (code), __VA_ARGS__);                                       \
        (apr_status_t) SO_ANSWERED;                                                          \
    })
void so_api_warning(so_req_t *req, int code, const char *desc, const char *data);
/* Map a store status to an answer (503 for an unavailable database, 404 for
 * APR_ENOENT, 500 otherwise) and return SO_ANSWERED; SO_ANSWERED is passed through. */
apr_status_t so_api_fail(so_req_t *req, apr_status_t rv);

/* request data */
const char *so_req_param(so_req_t *req, const char *name);
/* Route parameter as a positive id; answers 404 and returns APR_ENOENT when it is not one. */
apr_status_t so_req_param_id(so_req_t *req, const char *name, apr_int64_t *id);
const char *so_req_query(so_req_t *req, const char *key);        /* first value or NULL */
apr_array_header_t *so_req_query_all(so_req_t *req, const char *key); /* const char* */
const char *so_req_header(so_req_t *req, const char *name);
const char *so_req_cookie(so_req_t *req, const char *name);

/* Query parameter helpers: answer 400 naming the parameter on bad input and
 * return APR_EINVAL. */
apr_status_t so_q_int(so_req_t *req, const char *key, apr_int64_t def, apr_int64_t min,
                      apr_int64_t max, apr_int64_t *out);
apr_status_t so_q_bool(so_req_t *req, const char *key, int def, int *out);

/* JSON body field helpers (obj may be req->json or a nested object). On a wrong
 * type or value they answer 400 naming the field and return APR_EINVAL; an absent
 * optional field leaves *out as it was and *present (may be NULL) 0. */
apr_status_t so_in_str(so_req_t *req, json_t *obj, const char *key, int required,
                       apr_size_t maxlen, const char **out, int *present);
apr_status_t so_in_int(so_req_t *req, json_t *obj, const char *key, int required, apr_int64_t min,
                       apr_int64_t max, apr_int64_t *out, int *present);
apr_status_t so_in_bool(so_req_t *req, json_t *obj, const char *key, int required, int *out,
                        int *present);
apr_status_t so_in_array(so_req_t *req, json_t *obj, const char *key, int required,
                         apr_size_t max_items, json_t **out, int *present);

/* The route table (so_routes.c). */
const so_route_t *so_routes(void);
/* The scope (SO_SCOPE_* of so_scopes.h) an API token needs for route r (0: none). */
unsigned so_route_scope(const so_route_t *r);
/* Match path against pattern; fills params (may be NULL). */
int so_route_match(const char *pattern, const char *path, apr_table_t *params, apr_pool_t *p);

/* jansson helpers */
json_t *so_json_i64(apr_int64_t v);
json_t *so_json_str(const char *s); /* NULL -> "" */
json_t *so_json_time(apr_pool_t *p, apr_int64_t epoch); /* 0 -> "" */
/* Register json_decref(j) on pool p; returns j. */
json_t *so_json_pool(apr_pool_t *p, json_t *j);

#endif
