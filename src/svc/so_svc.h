/* mod_sslorders: the service layer (no httpd types, no HTTP request).
 *
 * A service is a function over a context (the pool, the database, the configuration,
 * the clock and who acts) that does one piece of the domain (issuance, validation,
 * renewal, ...) and tells the outcome. The API handlers (src/api) parse, authorize,
 * build a context from their request (so_api_svc_ctx), call a service and write the
 * answer; the background job (src/httpd/so_httpd_ca.c), the CLI (src/cli) and the ACME
 * server (src/acme) build a context of their own (so_svc_ctx_make) and call the same
 * services. Nothing under src/svc, src/core or src/store knows the API request (a Makefile
 * check, `make check-layers`, part of `make build`, fails otherwise).
 *
 * The order events (history and outbox rows, so_outbox.h) and the order's JSON of the
 * webhook events (so_order_view.h) are services too. */
#ifndef SO_SVC_H
#define SO_SVC_H

#include <apr_pools.h>
#include <jansson.h>

#include "../core/so_errors.h"
#include "../store/so_db.h"
#include "../store/so_store_order.h"
/* so_config_t (the module configuration the layers below httpd need) is declared in
 * so_api.h; nothing else of the API is used here */
#include "../api/so_api.h"

/* Who acts: events name them, claims and logs tell them apart. */
typedef enum {
    SO_ACTOR_JOB = 0, /* the background job (events name "system") */
    SO_ACTOR_USER,    /* a customer's user (API token or portal session) */
    SO_ACTOR_TOKEN,   /* an order's one-time token (OTP link) */
    SO_ACTOR_STAFF,   /* a staff user */
    SO_ACTOR_CLI,     /* sslordersctl */
    SO_ACTOR_ACME     /* the ACME server on behalf of an account's team */
} so_actor_kind_t;

typedef struct {
    so_actor_kind_t kind;
    apr_int64_t user_id;    /* users and staff (0: none) */
    apr_int64_t team_id;    /* the team acted for (0: none, or every team: job, CLI) */
    apr_int64_t order_id;   /* order tokens: their order */
    const char *name;       /* events' actor: the user name, "order token", "system" */
    const char *request_id; /* for logs (NULL: none) */
} so_actor_t;

typedef struct so_svc_ctx_t so_svc_ctx_t;
struct so_svc_ctx_t {
    apr_pool_t *pool;       /* the work's pool (the job swaps in a subpool per order) */
    so_db_t *db;
    const so_config_t *cfg;
    apr_int64_t now;        /* seconds since the epoch (the caller's clock: test clock aware) */
    so_actor_t actor;
    const char *owner;      /* the name orders are claimed under (unique per thread) */
    /* an order whose claim the caller holds under owner for the whole work (0: none):
     * so_iss_issue_claimed then neither claims it again nor releases it (the caller does) */
    apr_int64_t claimed;
    /* the certificate this work stored last (set by the issuance; 0: none) */
    apr_int64_t issued_cert;
    /* where the outbox notes the orders this work wrote events for (so_outbox.c), delivered
     * by so_svc_after / so_outbox_after: the API points it at its request's slot, which
     * every context made for the request shares; NULL: outbox_own */
    void **outbox;
    void *outbox_own;
};

/* The outcome of a service: status (APR_SUCCESS, APR_EINVAL, APR_ENOENT, SO_ENOFUNDS, ...),
 * the public error code (so_errors.h; 0: none) and its detail; field names the input at
 * fault (NULL: none); warnings: a JSON array of {code, desc} (NULL: none). */
typedef struct {
    apr_status_t status;
    int code;
    const char *detail;
    const char *field;
    json_t *warnings;
} so_result_t;

/* A context for work without an HTTP request (job, CLI, ACME): actor kind as given,
 * events name "system"; owner: instance plus a random part (like a request's). */
so_svc_ctx_t *so_svc_ctx_make(apr_pool_t *p, so_db_t *db, const so_config_t *cfg,
                              apr_int64_t now, so_actor_kind_t kind);
/* After the work of a context made by so_svc_ctx_make: deliver the server's own outbox
 * rows (mail, message command) of the orders it wrote events for (best effort). */
void so_svc_after(so_svc_ctx_t *ctx);

void so_result_init(so_result_t *res);
/* Set the failure (status, code, detail printf-style); returns status. */
apr_status_t so_result_fail(so_result_t *res, apr_pool_t *p, apr_status_t status, int code,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same with res->field (the error envelope's data) set to data (NULL: none). */
apr_status_t so_result_fail_data(so_result_t *res, apr_pool_t *p, apr_status_t status, int code,
                                 const char *data, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Add a warning {code, desc, data} to res->warnings (the array lives as long as p). */
void so_result_warn(so_result_t *res, apr_pool_t *p, int code, const char *desc,
                    const char *data);

/* An order event in the caller's transaction: the order's history row (the context's
 * actor: its user and name, "system" without one) and the lifecycle events into the
 * outbox (so_outbox.h); detail is taken (decref'd). */
apr_status_t so_svc_order_event(so_svc_ctx_t *ctx, const so_order_t *o, const char *kind,
                                json_t *detail);
/* An event that is not about an order (team.balance_low) into the outbox, in the caller's
 * transaction; data is taken (decref'd). */
apr_status_t so_svc_team_event(so_svc_ctx_t *ctx, apr_int64_t team_id, const char *type,
                               json_t *data);
/* The audit log's retention (SSLOrdersAuditRetention): rows older than it go. */
apr_status_t so_svc_audit_prune(so_svc_ctx_t *ctx, int *pruned);

#endif
