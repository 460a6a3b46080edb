/* mod_sslorders: the ACME server (RFC 8555, RFC 9773 ARI) without httpd types.
 *
 * The glue (src/httpd/so_httpd_acme.c) fills a so_req_t (method, path below the
 * <Location>, headers, body, client address, clock, database) and calls
 * so_acme_handle() with the absolute URL of the mount point; the answer is left in the
 * request's status, headers_out and raw_body/raw_ctype (problem documents are
 * application/problem+json). */
#ifndef SO_ACME_H
#define SO_ACME_H

#include "../api/so_api.h"
#include "../svc/so_svc.h"

/* Request bodies above this are refused (JWS of a CSR with many names fits easily). */
#define SO_ACME_MAX_BODY (64 * 1024)

/* base: e.g. "https://ca.example/acme" (no trailing slash). */
void so_acme_handle(so_req_t *req, const char *base);

/* Where nonces live (SSLOrdersACMENonces): AUTO (the default) in the memory the server's
 * processes share (so_nonce.h) when the database is SQLite, in the database when it is
 * PostgreSQL (accepted by every server on it); MEMORY: in memory on either (one server);
 * DATABASE: in the database on either. Memory needs a table attached (so_nonce_mem_attach),
 * else the database. */
typedef enum { SO_ACME_NONCES_AUTO, SO_ACME_NONCES_MEMORY, SO_ACME_NONCES_DATABASE } so_acme_nonces_t;
void so_acme_nonces_set(so_acme_nonces_t where);

/* The background job's part: orders finalized at least 10 s before now and not issued
 * yet (their SSL order was busy, a CAA lookup failed, the client stopped polling) are
 * issued, or made invalid, as the client's next poll would. Up to 25 per run; *worked
 * grows by the orders that changed. APR_SUCCESS unless the database failed. */
apr_status_t so_acme_jobs_run(apr_pool_t *p, so_db_t *db, const so_config_t *cfg, apr_int64_t now,
                              int *worked);

/* Every background pass, in order: the order jobs (so_iss_jobs_run), then, unless the
 * process is stopping, the ACME one. The one entry of the server's background job and of
 * POST /staff/jobs/run; *worked counts what they did. */
apr_status_t so_acme_all_jobs_run(so_svc_ctx_t *ctx, int *worked);

#endif

#ifndef SO_ACME_EAB_DECL
#define SO_ACME_EAB_DECL
#include "../store/so_store_acme.h"
/* Create EAB credentials for a team, bound to its order (order_id > 0) or to a product
 * (product_id > 0). APR_ENOENT: not the team's order / no such product; APR_EINVAL with
 * *why: anything else wrong. The HMAC key is in (*out)->hmac_key: show it once. */
apr_status_t so_acme_eab_create(apr_pool_t *p, so_db_t *db, apr_int64_t now, apr_int64_t team_id,
                                apr_int64_t order_id, apr_int64_t product_id, int period,
                                const char *description, apr_int64_t user_id, so_acme_eab_t **out,
                                const char **why);
/* The JSON of EAB credentials (with_key: the HMAC key too, only right after creation). */
json_t *so_acme_eab_json(apr_pool_t *p, const so_acme_eab_t *e, const char *directory_url,
                         int with_key);
#endif
