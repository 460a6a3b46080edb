/* mod_sslorders: the background pass of the issuance service, reissue and renewal, the
 * organization decision of staff, the renewal charge (see so_iss_int.h). */
#include "so_iss_int.h"
#include "so_outbox.h"

#include <apr_atomic.h>

/* ------------------------------------------------------------------------- */
/* the background pass                                                         */

typedef apr_status_t job_fn(so_svc_ctx_t *ctx, so_order_t *o, int *did);

/* Set once when the process stops: a running pass ends after the order in hand (the
 * process waits for it before its database connections go). */
static volatile apr_uint32_t jobs_stopping;

void so_iss_jobs_stop(void)
{
    apr_atomic_set32(&jobs_stopping, 1);
}

int so_iss_jobs_stopping(void)
{
    return apr_atomic_read32(&jobs_stopping) != 0;
}

static apr_status_t job_check(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    apr_status_t rv = so_iss_check(ctx, o);
    *did = 1;
    return rv == APR_EBUSY ? APR_SUCCESS : rv;
}

static apr_status_t job_expire(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    so_db_t *db = so_iss_db(ctx);
    apr_status_t rv;
    if (strcmp(o->status, "ACT") || o->expiration_date > ctx->now) {
        return APR_SUCCESS;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    o->status = "EXP";
    o->updated_at = ctx->now;
    rv = so_store_order_update(db, ctx->pool, o, 0);
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "expired",
                                json_pack("{s:s}", "expiration_date",
                                          so_time_fmt(ctx->pool, o->expiration_date)));
    }
    if ((rv = so_db_end(db, rv)) == APR_SUCCESS) {
        *did = 1;
        if (o->order_ends_at > ctx->now + 86400) {
            /* the certificate lapsed inside a running subscription (the jobs did not run
             * when its reissue was due): reissue now */
            so_issuance_state_t *st;
            if (so_store_issuance_get(db, ctx->pool, o->id, &st) == APR_SUCCESS
                && !st->reissue_pending) {
                so_svc_order_event(ctx, o, "subscription_reissue", NULL);
                rv = so_iss_reissue(ctx, o);
            }
        }
    }
    return rv == SO_EDBSTALE ? APR_SUCCESS : rv;
}

static apr_status_t job_reissue(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    if (strcmp(o->status, "ACT") || o->reissue_at == 0 || o->reissue_at > ctx->now) {
        return APR_SUCCESS;
    }
    *did = 1;
    if (o->order_ends_at <= o->expiration_date + 86400) {
        /* the certificate covers the order: nothing to reissue */
        o->reissue_at = 0;
        o->updated_at = ctx->now;
        return so_store_order_update(so_iss_db(ctx), ctx->pool, o, 0);
    }
    so_svc_order_event(ctx, o, "subscription_reissue", NULL);
    return so_iss_reissue(ctx, o);
}

static apr_status_t job_autorenew(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    so_db_t *db = so_iss_db(ctx);
    so_issuance_state_t *st;
    apr_status_t rv;

    if (strcmp(o->status, "ACT") || !o->autorenew || o->order_ends_at > ctx->now + 30 * 86400) {
        return APR_SUCCESS;
    }
    so_result_t res;
    so_result_init(&res);
    rv = so_iss_renew_charge(ctx, o, 1, &res);
    if (rv == SO_ENOFUNDS) {
        /* told once a day */
        if (so_store_issuance_get(db, ctx->pool, o->id, &st) == APR_SUCCESS
            && st->renewed_until < ctx->now - 86400) {
            /* the event (mail and message command from the outbox) and the mark: one transaction */
            if ((rv = so_db_begin(db)) != APR_SUCCESS) {
                return rv;
            }
            rv = so_svc_order_event(ctx, o, "autorenew_failed",
                                    json_pack("{s:s}", "reason",
                                              "the balance does not cover the price"));
            if (rv == APR_SUCCESS) {
                rv = so_store_renewed_until_set(db, ctx->pool, o->id, ctx->now);
            }
            if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
                return rv;
            }
        }
        *did = 1;
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        *did = 1;
    }
    return rv;
}

static apr_status_t job_reminders(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    *did = 1;
    return so_iss_reminders(ctx, o);
}

/* the metrics gauge of a job's queue (the orders a pass found due, up to JOB_BATCH) */
static so_gauge_t job_queue_gauge(const char *what)
{
    static const char *const names[] = {"expire", "reissue", "autorenew", "dcv", "reminders"};
    int i;
    for (i = 0; i < 4 && strcmp(names[i], what); i++) {
    }
    return (so_gauge_t)(SO_MG_JOB_QUEUE_EXPIRE + i);
}

static apr_status_t run_jobs(so_svc_ctx_t *ctx, const char *what, job_fn *fn, int claim, int *worked)
{
    so_db_t *db = so_iss_db(ctx);
    apr_array_header_t *ids, *teams;
    apr_status_t rv;
    int i;

    if ((rv = so_store_job_orders(db, ctx->pool, what, ctx->now, JOB_BATCH, &ids, &teams))
        != APR_SUCCESS) {
        return rv;
    }
    so_metrics_gauge_set(job_queue_gauge(what), ids->nelts);
    for (i = 0; i < ids->nelts; i++) {
        apr_int64_t id = APR_ARRAY_IDX(ids, i, apr_int64_t);
        apr_int64_t team = APR_ARRAY_IDX(teams, i, apr_int64_t);
        so_order_t *o;
        int did = 0;
        apr_pool_t *saved = ctx->pool, *sub;

        if (so_iss_jobs_stopping()) {
            return APR_SUCCESS; /* the rest waits for the next pass (of another process) */
        }
        apr_pool_create(&sub, saved);
        ctx->pool = sub;
        if (claim && so_svc_order_claim(ctx, sub, id, CLAIM_SECS) != APR_SUCCESS) {
            ctx->pool = saved;
            apr_pool_destroy(sub);
            continue; /* another server works on it */
        }
        rv = so_store_order_get(db, sub, team, id, &o);
        if (rv == APR_SUCCESS) {
            rv = fn(ctx, o, &did);
        }
        if (claim) {
            so_svc_order_release(ctx, sub, id);
        }
        if (rv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
            so_log_error(SO_LOG_MARK, rv,
                         SOLOGNO(00220) "background %s of order %" APR_INT64_T_FMT " failed: %s", what,
                         id, db->errmsg ? db->errmsg : so_db_strerror(rv));
            rv = APR_SUCCESS;
        }
        *worked += did;
        ctx->pool = saved;
        apr_pool_destroy(sub);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t jobs_run(so_svc_ctx_t *ctx, int *worked);

apr_status_t so_iss_jobs_run(so_svc_ctx_t *ctx, int *worked)
{
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = jobs_run(ctx, worked);

    so_metrics_inc(SO_MC_JOB_RUNS);
    so_metrics_add(SO_MC_JOB_WORKED, (apr_uint64_t)(*worked > 0 ? *worked : 0));
    if (rv != APR_SUCCESS) {
        so_metrics_inc(SO_MC_JOB_FAILED);
    }
    so_metrics_gauge_set(SO_MG_JOB_LAST_DURATION_US, (apr_int64_t)(apr_time_now() - t0));
    so_metrics_gauge_set(SO_MG_JOB_LAST_RUN, apr_time_sec(apr_time_now()));
    return rv;
}

static apr_status_t jobs_run(so_svc_ctx_t *ctx, int *worked)
{
    apr_status_t rv;
    const unsigned char *der;
    apr_size_t len;
    apr_int64_t tu;

    *worked = 0;
    so_outbox_background(ctx);
    /* reissues and renewals first: the names they send back to validation are checked in
     * the same run */
    if ((rv = run_jobs(ctx, "expire", job_expire, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "reissue", job_reissue, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "autorenew", job_autorenew, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "dcv", job_check, 0, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "reminders", job_reminders, 1, worked)) != APR_SUCCESS
        || so_iss_jobs_stopping()
        || (rv = so_iss_revoke_compromised(ctx, worked)) != APR_SUCCESS
        || (rv = so_outbox_run(ctx, worked)) != APR_SUCCESS) {
        return rv;
    }
    {
        /* PostgreSQL: the order list versions' change log into totals */
        int folded = 0;
        if ((rv = so_store_orders_versions_fold(ctx->db, ctx->pool, &folded))
            != APR_SUCCESS) {
            return rv;
        }
    }
    {
        /* the audit log's retention (SSLOrdersAuditRetention) */
        int pruned = 0;
        if ((rv = so_svc_audit_prune(ctx, &pruned)) != APR_SUCCESS) {
            return rv;
        }
    }
    if (ctx->cfg->ca) {
        /* keep a fresh CRL (regenerated a day before its nextUpdate) */
        so_iss_crl(ctx, &der, &len, &tu);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* organization validation: staff's decision                                   */

apr_status_t so_iss_org_decide(so_svc_ctx_t *ctx, apr_int64_t order_id, int approve,
                               const char *reason, so_order_t **out, int *issued,
                               so_result_t *res)
{
    so_db_t *db = ctx->db;
    apr_int64_t team_id, after;
    so_order_t *o;
    apr_status_t rv;

    *issued = 0;
    rv = so_store_order_team(db, ctx->pool, order_id, &team_id);
    if (rv == APR_SUCCESS) {
        rv = so_store_order_get(db, ctx->pool, team_id, order_id, &o);
    }
    if (rv == APR_ENOENT) {
        return so_result_fail(res, ctx->pool, APR_ENOENT, SO_E_NOT_FOUND,
                              "No order %" APR_INT64_T_FMT, order_id);
    }
    if (rv != APR_SUCCESS) {
        return res->status = rv;
    }
    *out = o;
    if (!strcmp(o->validation_method, "domain")) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS,
                              "A DV order has no organization validation");
    }
    if (strcmp(o->status, "REQ") && strcmp(o->status, "PAI") && strcmp(o->status, "ACT")) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS, "The order is %s",
                              o->status);
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return res->status = rv;
    }
    rv = so_store_org_set(db, ctx->pool, o->id, approve ? "approved" : "rejected", reason, ctx->now);
    if (rv == APR_SUCCESS && !approve && !strcmp(o->status, "REQ")) {
        /* the organization could not be validated: the order fails and is refunded */
        o->status = "FAI";
        o->cancelled_at = o->updated_at = ctx->now;
        rv = so_store_order_update(db, ctx->pool, o, 0);
        if (rv == APR_SUCCESS && o->price > 0) {
            rv = so_store_ledger_add(db, ctx->pool, o->team_id, o->price, "refund", o->id,
                                     apr_psprintf(ctx->pool, "refund of order %" APR_INT64_T_FMT
                                                             ": organization not validated",
                                                  o->id),
                                     ctx->actor.user_id, ctx->now, &after);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, approve ? "organization_approved" : "organization_rejected",
                                json_pack("{s:s}", "reason", reason ? reason : ""));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return res->status = rv;
    }
    if (approve && (rv = so_iss_issue_claimed(ctx, o, issued)) != APR_SUCCESS) {
        return res->status = rv;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* renewal: the charge                                                         */

static apr_status_t renew_charge(so_svc_ctx_t *ctx, so_order_t *o, int automatic, so_result_t *res)
{
    so_db_t *db = ctx->db;
    apr_pool_t *p = ctx->pool;
    so_product_t *prod;
    const so_price_t *pr;
    apr_int64_t amount, after, until;
    apr_status_t rv;

    rv = so_store_product_get(db, p, o->product_id, &prod);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !prod->active)) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_PRODUCT, "%s is no longer sold",
                              o->product_name);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!(pr = so_product_price(prod, o->period, o->currency))) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_CURRENCY, "%s has no %d-year price in %s",
                              prod->name, o->period, o->currency);
    }
    amount = so_rules_price(prod, pr, o->domain_amount, o->wildcard_domain_amount);
    until = so_iss_add_years(o->order_ends_at > 0 ? o->order_ends_at : ctx->now, o->period);
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_ledger_add(db, p, o->team_id, -amount, "charge", o->id,
                             apr_psprintf(p, "renewal of order %" APR_INT64_T_FMT ", %d year%s%s",
                                          o->id, o->period, o->period > 1 ? "s" : "",
                                          automatic ? " (automatic)" : ""),
                             ctx->actor.user_id, ctx->now, &after);
    if (rv == APR_SUCCESS) {
        o->order_ends_at = until;
        o->updated_at = ctx->now;
        rv = so_store_order_update(db, p, o, 0);
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "renewed",
                                json_pack("{s:s,s:s,s:s,s:b}", "price", so_money_fmt(p, amount),
                                          "currency", o->currency, "order_ends_at",
                                          so_time_fmt(p, until), "automatic", automatic));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return so_iss_renewed(ctx, o);
}

apr_status_t so_iss_renew_charge(so_svc_ctx_t *ctx, so_order_t *o, int automatic,
                                 so_result_t *res)
{
    return res->status = renew_charge(ctx, o, automatic, res);
}

/* ------------------------------------------------------------------------- */
/* reissue, renewal                                                            */

apr_status_t so_iss_reissue(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = so_iss_db(ctx);
    apr_array_header_t *states;
    int i, pending = 0, issued = 0;
    apr_status_t rv;

    if ((rv = so_store_host_states(db, ctx->pool, o->id, &states)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; rv == APR_SUCCESS && i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        int still = so_iss_validation_fresh(ctx->now, h->validated_at);
        pending += !still;
        if (still && !strcmp(h->status, "valid") && !*h->last_error) {
            continue; /* valid and stays valid: nothing to write */
        }
        rv = so_store_host_state_set(db, ctx->pool, o->id, h->host_name, still ? "valid" : "pending",
                                     h->validated_at, h->last_check_at, "");
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_reissue_start(db, ctx->pool, o->id, ctx->now);
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_approvals_drop(db, ctx->pool, o->id);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    if (pending) {
        return so_iss_send_approval(ctx, o, 0);
    }
    /* every name is still validated: issue now */
    return so_iss_issue_claimed(ctx, o, &issued);
}

apr_status_t so_iss_renewed(so_svc_ctx_t *ctx, so_order_t *o)
{
    /* the message command: from the outbox ("renewed" event of the caller) */
    return so_iss_reissue(ctx, o);
}
