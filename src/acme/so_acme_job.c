/* mod_sslorders: the background job's part of the ACME server: finalized orders that
 * their client stopped polling are issued (see so_acme.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_acme.h"
#include "so_acme_int.h"
#include "so_acme_issue.h"
#include "../svc/so_issuance.h"

/* A finalized order is the job's once its client has had this long to poll (clients
 * are told Retry-After: 2). */
#define JOB_AFTER 10
/* orders per run: the rest wait for the next run */
#define JOB_BATCH 25

/* One order, in its own pool: APR_SUCCESS unless the database failed. */
static apr_status_t finish_one(so_req_t *req, apr_pool_t *p, so_acme_order_t *o, int *worked)
{
    so_acme_ctx_t a;
    apr_array_header_t *authzs;
    const char *why = NULL;
    apr_status_t rv;

    memset(&a, 0, sizeof(a));
    a.req = req;
    a.p = p;
    a.db = req->db;
    a.base = ""; /* so_acme_order_issue uses the account URL kept at finalize */
    if ((rv = so_store_acme_account_get(a.db, p, o->account_id, &a.acct)) != APR_SUCCESS
        || (rv = so_store_acme_authz_of(a.db, p, o->id, &authzs)) != APR_SUCCESS) {
        return rv == APR_ENOENT ? APR_SUCCESS : rv;
    }
    rv = so_acme_order_issue(&a, o, authzs, &why);
    if (rv == APR_EINVAL || rv == SO_ECAA) {
        so_log_info(SO_LOG_MARK, SOLOGNO(00979) "ACME order %" APR_INT64_T_FMT
                    " (finalized, not polled) is invalid: %s", o->id, why ? why : "");
        (*worked)++;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(o->status, "processing")) {
        so_log_info(SO_LOG_MARK, SOLOGNO(00980) "ACME order %" APR_INT64_T_FMT
                    " (finalized, not polled) is %s", o->id, o->status);
        (*worked)++;
    }
    return APR_SUCCESS;
}

#define NONCE_PURGE_EVERY 600 /* seconds */
static apr_int64_t nonces_purged; /* the job's thread only */

apr_status_t so_acme_jobs_run(apr_pool_t *p, so_db_t *db, const so_config_t *cfg, apr_int64_t now,
                              int *worked)
{
    so_req_t *req = so_req_create(p, cfg);
    apr_array_header_t *stuck;
    apr_pool_t *sub;
    apr_status_t rv;
    int i;

    req->method = "JOB";
    req->path = "/";
    req->db = db;
    req->now = now;
    if (now - nonces_purged >= NONCE_PURGE_EVERY) {
        /* nonces kept in memory (SQLite) leave the requests nothing to purge: expired rows of
         * earlier versions or of SSLOrdersACMENonces database go here */
        nonces_purged = now;
        so_store_acme_nonce_purge(db, p, now);
    }
    if ((rv = so_store_acme_orders_stuck(db, p, now - JOB_AFTER, JOB_BATCH, &stuck))
        != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&sub, p);
    for (i = 0; i < stuck->nelts && rv == APR_SUCCESS; i++) {
        apr_pool_clear(sub);
        rv = finish_one(req, sub, APR_ARRAY_IDX(stuck, i, so_acme_order_t *), worked);
    }
    /* the mail and message command of what was issued (as after a request) */
    so_acme_iss_flush(req);
    apr_pool_destroy(sub);
    return rv;
}

apr_status_t so_acme_all_jobs_run(so_svc_ctx_t *ctx, int *worked)
{
    apr_status_t rv = so_iss_jobs_run(ctx, worked);
    if (rv == APR_SUCCESS && ctx->db && !so_iss_jobs_stopping()) {
        rv = so_acme_jobs_run(ctx->pool, ctx->db, ctx->cfg, ctx->now, worked);
    }
    return rv;
}
