/* mod_sslorders: the issuance service: validation, issuance, e-mail approval, reissue
 * (see so_issuance.h; the other parts: so_iss_int.h). */
#include "so_iss_int.h"

/* ------------------------------------------------------------------------- */
/* small helpers                                                               */

int so_iss_validation_fresh(apr_int64_t now, apr_int64_t validated_at)
{
    return validated_at > 0 && now - validated_at <= (apr_int64_t)so_iss_reuse_days(now) * 86400;
}

int so_iss_reuse_days(apr_int64_t now)
{
    if (now >= 1868227200) { /* 2029-03-15 */
        return 10;
    }
    if (now >= 1805068800) { /* 2027-03-15 */
        return 100;
    }
    if (now >= 1773532800) { /* 2026-03-15 */
        return 200;
    }
    return 398;
}

apr_int64_t so_iss_add_years(apr_int64_t t, int years)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm)) {
        return t + (apr_int64_t)years * 365 * 86400;
    }
    tm.tm_year += years;
    if (tm.tm_mon == 1 && tm.tm_mday == 29) {
        tm.tm_mday = 28; /* 29 February of a year that has none */
    }
    return (apr_int64_t)timegm(&tm);
}

so_db_t *so_iss_db(so_svc_ctx_t *ctx)
{
    return ctx->db;
}

static const char *pki_base(so_svc_ctx_t *ctx)
{
    const char *b = ctx->cfg->pki_url;
    if (b && *b) {
        return b;
    }
    b = ctx->cfg->public_url;
    if (b && !strncmp(b, "https://", 8)) {
        return apr_pstrcat(ctx->pool, "http://", b + 8, NULL);
    }
    return b && *b ? b : "http://localhost";
}

static const char *public_base(so_svc_ctx_t *ctx)
{
    return ctx->cfg->public_url && *ctx->cfg->public_url ? ctx->cfg->public_url : "";
}

/* ------------------------------------------------------------------------- */
/* validation                                                                  */

static apr_status_t token_of(so_svc_ctx_t *ctx, const so_order_t *o, so_dcv_token_t **t)
{
    const char *why = NULL;
    apr_status_t rv;
    if (!o->csr || !*o->csr) {
        return APR_ENOENT; /* nothing to validate until a CSR comes */
    }
    rv = so_dcv_token_pem(t, ctx->pool, o->csr, ctx->cfg->ca_tag,
                          *o->dcv_unique ? o->dcv_unique : NULL, &why);
    if (rv != APR_SUCCESS) {
        /* the API takes no such CSR: data from elsewhere (an import, the database) */
        so_log_warn(SO_LOG_MARK, rv,
                    SOLOGNO(00213) "order %" APR_INT64_T_FMT ": no DCV token: %s; "
                                   "checked again in a day or when the order changes",
                    o->id, why ? why : "?");
    }
    return rv;
}

/* An identity check of the organization (OV/EV) is used for SO_ORG_REUSE_DAYS after it
 * was made (BR 4.2.1): by its order, and by the team's later orders of the same validation
 * method for the same organization (customer handle) whose record has not changed since. */
static int org_fresh(const so_svc_ctx_t *ctx, const so_issuance_state_t *st)
{
    return !strcmp(st->org_status, "approved")
           && ctx->now - st->org_checked_at <= (apr_int64_t)SO_ORG_REUSE_DAYS * 86400;
}

/* Another order's check of the organization, when there is one to reuse: recorded as this
 * order's, with the time of the check (not of the reuse). */
static apr_status_t org_reuse(so_svc_ctx_t *ctx, const so_order_t *o, int *reused)
{
    so_db_t *db = so_iss_db(ctx);
    so_customer_t *c;
    apr_int64_t src = 0, at = 0;
    const char *reason;
    apr_status_t rv;

    *reused = 0;
    if (!*o->organization_handle) {
        return APR_SUCCESS;
    }
    rv = so_store_org_reusable(db, ctx->pool, o->team_id, o->organization_handle,
                               o->validation_method, o->id,
                               ctx->now - (apr_int64_t)SO_ORG_REUSE_DAYS * 86400, &src, &at);
    if (rv == APR_SUCCESS) {
        rv = so_store_customer_get(db, ctx->pool, o->team_id, o->organization_handle, &c);
    }
    if (rv == APR_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (c->updated_at > at) {
        return APR_SUCCESS; /* the organization's record changed after that check */
    }
    reason = apr_psprintf(ctx->pool,
                          "reused: the organization was validated for order %" APR_INT64_T_FMT
                          " on %s UTC",
                          src, so_time_fmt(ctx->pool, at));
    if ((rv = so_store_org_set(db, ctx->pool, o->id, "approved", reason, at)) != APR_SUCCESS) {
        return rv;
    }
    *reused = 1;
    return so_svc_order_event(ctx, (so_order_t *)o, "organization_reused",
                              json_pack("{s:I,s:s}", "from_order", (json_int_t)src, "checked_at",
                                        so_time_fmt(ctx->pool, at)));
}

/* May the order be issued as far as its organization goes? An approval older than
 * SO_ORG_REUSE_DAYS is reused from a fresh one of the team, or goes back to staff. */
static apr_status_t org_ok(so_svc_ctx_t *ctx, const so_order_t *o, so_issuance_state_t *st,
                           int *ok)
{
    apr_status_t rv;
    int reused;

    *ok = !strcmp(o->validation_method, "domain") || org_fresh(ctx, st);
    if (*ok || strcmp(st->org_status, "approved")) {
        return APR_SUCCESS; /* pending or rejected: staff decide (reuse was tried at request) */
    }
    if ((rv = org_reuse(ctx, o, &reused)) != APR_SUCCESS || reused) {
        *ok = reused;
        return rv;
    }
    rv = so_store_org_set(so_iss_db(ctx), ctx->pool, o->id, "pending",
                          apr_psprintf(ctx->pool,
                                       "the organization validation of %s UTC is older than %d "
                                       "days: validate it again",
                                       so_time_fmt(ctx->pool, st->org_checked_at),
                                       SO_ORG_REUSE_DAYS),
                          0);
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, (so_order_t *)o, "organization_expired",
                                json_pack("{s:s}", "checked_at",
                                          so_time_fmt(ctx->pool, st->org_checked_at)));
    }
    return rv;
}

void so_iss_requested(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = so_iss_db(ctx);
    apr_status_t rv = APR_SUCCESS;

    if (strcmp(o->validation_method, "domain")) {
        so_issuance_state_t *st;
        int reused = 0;
        if (so_store_issuance_get(db, ctx->pool, o->id, &st) == APR_SUCCESS
            && !org_fresh(ctx, st)) {
            /* a recent check of the same organization for another order, or staff */
            rv = org_reuse(ctx, o, &reused);
            if (rv == APR_SUCCESS && !reused) {
                rv = so_store_org_set(db, ctx->pool, o->id, "pending", "", 0);
            }
        }
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_next_check_set(db, ctx->pool, o->id, ctx->now);
    }
    if (rv == APR_SUCCESS) {
        rv = so_iss_send_approval(ctx, o, 0);
    }
    if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
        so_log_warn(SO_LOG_MARK, rv, SOLOGNO(00214) "order %" APR_INT64_T_FMT
                                                    ": preparing validation failed: %s",
                    o->id, so_db_strerror(rv));
    }
}

apr_status_t so_iss_send_approval(so_svc_ctx_t *ctx, so_order_t *o, int force)
{
    so_db_t *db = so_iss_db(ctx);
    apr_array_header_t *states, *to;
    const char *names = "", *token, *link, *body;
    int i, any = 0, open = 0;
    apr_status_t rv;

    if (!*o->approver_email) {
        return APR_SUCCESS;
    }
    if ((rv = so_store_host_states(db, ctx->pool, o->id, &states)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        if (!strcmp(h->method, "email") && strcmp(h->status, "valid")) {
            names = apr_pstrcat(ctx->pool, names, "  ", h->host_name, "\n", NULL);
            any = 1;
        }
    }
    if (!any) {
        return APR_SUCCESS;
    }
    if (!force && (rv = so_store_approval_open(db, ctx->pool, o->id, ctx->now, &open)) != APR_SUCCESS) {
        return rv;
    }
    if (open && !force) {
        return APR_SUCCESS;
    }
    if (force && (rv = so_store_approvals_drop(db, ctx->pool, o->id)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_approval_create(db, ctx->pool, o->team_id, o->id, o->approver_email, ctx->now,
                                  APPROVAL_TTL, &token);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    link = apr_pstrcat(ctx->pool, public_base(ctx), "/approve/", token, NULL);
    body = apr_psprintf(ctx->pool,
                        "Hello,\n\n"
                        "a certificate was requested for these names:\n\n%s\n"
                        "You receive this message because %s is an approver address of their "
                        "domain. To review the request and approve it, open:\n\n  %s\n\n"
                        "The link is valid for 14 days. If you did not expect this request, "
                        "do nothing: without your approval no certificate is issued.\n\n"
                        "Order %" APR_INT64_T_FMT " (%s)\n",
                        names, o->approver_email, link, o->id, o->product_name);
    to = apr_array_make(ctx->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(to, const char *) = o->approver_email;
    rv = so_iss_send_mail(ctx, to, apr_psprintf(ctx->pool, "Approve the certificate for %s",
                                         o->common_name),
                   body);
    so_svc_order_event(ctx, o, "approval_mail_sent",
                       json_pack("{s:s,s:b}", "to", o->approver_email, "sent", rv == APR_SUCCESS));
    return rv == APR_ENOTIMPL ? APR_SUCCESS : APR_SUCCESS;
}

static apr_int64_t backoff(int checks)
{
    static const apr_int64_t steps[] = {60, 120, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600};
    int n = (int)(sizeof(steps) / sizeof(steps[0]));
    return steps[checks < n ? checks : n - 1];
}

static int reissuing(const so_order_t *o, const so_issuance_state_t *st)
{
    return (!strcmp(o->status, "ACT") || !strcmp(o->status, "EXP")) && st->reissue_pending;
}

/* One name's check by its method (not e-mail): APR_SUCCESS when it validates, else *why */
static apr_status_t probe(so_svc_ctx_t *ctx, const so_order_t *o, const so_dcv_token_t *tok,
                          const so_host_state_t *h, const so_dcv_opts_t *opts, const char **why)
{
    if (!strcmp(h->method, "dns")) {
        return so_dcv_check_dns(ctx->pool, tok, h->host_name, SO_DCV_DNS, opts, why);
    }
    if (!strcmp(h->method, "dns-persist")) {
        return so_svc_persist_check(ctx, o, h->host_name, opts, why);
    }
    if (!strcmp(h->method, "dns-account")) {
        /* BR 3.2.2.4.21: the dns value at the team account's label */
        return so_dcv_check_account(ctx->pool, tok, h->host_name,
                                    so_svc_persist_account(ctx->pool, ctx->cfg, o->team_id), opts,
                                    why);
    }
    return so_dcv_check_http(ctx->pool, tok, h->host_name, !strcmp(h->method, "https"), opts, why);
}

/* A check's outcome (crv, why) as the name's state and its event (outbox), in one
 * transaction; h->status follows */
static apr_status_t record_check(so_svc_ctx_t *ctx, so_order_t *o, so_host_state_t *h,
                                 apr_status_t crv, const char *why)
{
    so_db_t *db = so_iss_db(ctx);
    apr_status_t rv;

    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    if (crv == APR_SUCCESS) {
        rv = so_store_host_state_set(db, ctx->pool, o->id, h->host_name, "valid", ctx->now,
                                     ctx->now, "");
        if (rv == APR_SUCCESS) {
            rv = so_svc_order_event(ctx, o, "name_validated",
                                    json_pack("{s:s,s:s}", "host_name", h->host_name, "method",
                                              h->method));
        }
        h->status = "valid";
    }
    else {
        rv = so_store_host_state_set(db, ctx->pool, o->id, h->host_name, "pending",
                                     h->validated_at, ctx->now, why ? why : "not validated yet");
        if (rv == APR_SUCCESS && h->checks == 0) {
            /* told once: the first check of the name failed */
            rv = so_svc_order_event(ctx, o, "validation_failed",
                                    json_pack("{s:s,s:s,s:s}", "host_name", h->host_name,
                                              "method", h->method, "reason",
                                              why ? why : "not validated yet"));
        }
    }
    return so_db_end(db, rv);
}

apr_status_t so_iss_check(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = so_iss_db(ctx);
    so_issuance_state_t *st;
    apr_array_header_t *states;
    so_dcv_token_t *tok = NULL;
    so_dcv_opts_t opts;
    apr_int64_t next = 0;
    int i, pending = 0, issued = 0, min_checks = 1000;
    apr_status_t rv;

    rv = so_svc_order_claim(ctx, ctx->pool, o->id, CLAIM_SECS);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    {
        /* the order as it is now that we hold it: another worker may have issued meanwhile */
        so_order_t *fresh;
        if ((rv = so_store_order_get(db, ctx->pool, o->team_id, o->id, &fresh)) != APR_SUCCESS) {
            goto leave;
        }
        *o = *fresh;
    }
    if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) != APR_SUCCESS
        || (rv = so_store_host_states(db, ctx->pool, o->id, &states)) != APR_SUCCESS) {
        goto leave;
    }
    if (strcmp(o->status, "REQ") && !reissuing(o, st)) {
        goto leave;
    }
    so_svc_dcv_opts(ctx->cfg, &opts);
    for (i = 0; i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        const char *why = NULL;
        apr_status_t crv;
        if (!strcmp(h->status, "valid")) {
            continue;
        }
        if (!strcmp(h->method, "email") || !*h->method) {
            pending++;
            continue; /* waits for the approval link (or a method) */
        }
        if (!tok && token_of(ctx, o, &tok) != APR_SUCCESS) {
            /* no CSR, or one that cannot be read: nothing to probe for now */
            rv = so_store_next_check_set(db, ctx->pool, o->id, ctx->now + 86400);
            goto leave;
        }
        crv = probe(ctx, o, tok, h, &opts, &why);
        if (crv == APR_EINTR && so_iss_jobs_stopping()) {
            goto leave; /* stopped by the process stopping: not a check of the name */
        }
        so_metrics_inc(crv == APR_SUCCESS ? SO_MC_VALIDATION_VALID : SO_MC_VALIDATION_PENDING);
        if (crv != APR_SUCCESS) {
            pending++;
            if (h->checks < min_checks) {
                min_checks = h->checks;
            }
        }
        if ((rv = record_check(ctx, o, h, crv, why)) != APR_SUCCESS) {
            goto leave;
        }
    }
    if (pending == 0) {
        rv = so_iss_try_issue(ctx, o, &issued);
        if (rv != APR_SUCCESS || issued) {
            goto leave;
        }
        next = ctx->now + 3600; /* waits for the organization validation */
    }
    else {
        next = ctx->now + (min_checks < 1000 ? backoff(min_checks) : 3600);
    }
    rv = so_store_next_check_set(db, ctx->pool, o->id, next);

leave:
    so_svc_order_release(ctx, ctx->pool, o->id);
    return rv;
}

/* ------------------------------------------------------------------------- */
/* issuance                                                                    */

static apr_status_t org_subject(so_svc_ctx_t *ctx, const so_order_t *o, so_ca_issue_req_t *ir)
{
    so_customer_t *c;
    apr_status_t rv;
    if (!*o->organization_handle) {
        return APR_EINVAL;
    }
    rv = so_store_customer_get(so_iss_db(ctx), ctx->pool, o->team_id, o->organization_handle, &c);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ir->organization = *c->company_name
                           ? c->company_name
                           : apr_pstrcat(ctx->pool, c->first_name, " ", c->last_name, NULL);
    ir->locality = c->city;
    ir->state = *c->state ? c->state : NULL;
    ir->country = c->country;
    if (ir->validation == SO_CA_EV) {
        ir->business_category = "Private Organization";
        ir->jurisdiction_country = c->country;
        ir->registration_number = *c->vat ? c->vat : c->handle;
    }
    return APR_SUCCESS;
}

apr_status_t so_iss_issue_claimed(so_svc_ctx_t *ctx, so_order_t *o, int *issued)
{
    apr_status_t rv = APR_SUCCESS;
    *issued = 0;
    if (ctx->claimed == o->id) {
        return so_iss_try_issue(ctx, o, issued); /* the caller holds the claim */
    }
    if (so_svc_order_claim(ctx, ctx->pool, o->id, CLAIM_SECS) == APR_SUCCESS) {
        rv = so_iss_try_issue(ctx, o, issued);
        so_svc_order_release(ctx, ctx->pool, o->id);
    }
    return rv;
}

apr_status_t so_iss_org_check(so_svc_ctx_t *ctx, const so_order_t *o, const char **why)
{
    so_ca_issue_req_t ir;
    memset(&ir, 0, sizeof(ir));
    ir.validation = !strcmp(o->validation_method, "extended")       ? SO_CA_EV
                    : !strcmp(o->validation_method, "organization") ? SO_CA_OV
                                                                    : SO_CA_DV;
    if (ir.validation == SO_CA_DV) {
        return APR_SUCCESS;
    }
    if (org_subject(ctx, o, &ir) != APR_SUCCESS) {
        *why = "the organization handle is missing";
        return APR_EINVAL;
    }
    return so_ca_subject_check(ctx->pool, &ir, why);
}

/* The names of states when every one is valid (NULL: one is not, or there are none) */
static apr_array_header_t *valid_names(apr_pool_t *p, const apr_array_header_t *states)
{
    apr_array_header_t *n = apr_array_make(p, states->nelts, sizeof(const char *));
    int i;
    for (i = 0; i < states->nelts; i++) {
        const so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        if (strcmp(h->status, "valid")) {
            return NULL;
        }
        APR_ARRAY_PUSH(n, const char *) = h->host_name;
    }
    return n->nelts ? n : NULL;
}

/* The order as it is now (called with it claimed: another worker may have issued, or the
 * customer cancelled, since the caller loaded it), its issuance state and names: *names
 * NULL when it is not to be issued now (not REQ nor reissuing, a name not valid yet) */
static apr_status_t ready_names(so_svc_ctx_t *ctx, so_order_t *o, so_issuance_state_t **st,
                                apr_array_header_t **states, apr_array_header_t **names)
{
    so_db_t *db = so_iss_db(ctx);
    so_order_t *fresh;
    apr_status_t rv;

    *names = NULL;
    if ((rv = so_store_order_get(db, ctx->pool, o->team_id, o->id, &fresh)) != APR_SUCCESS) {
        return rv;
    }
    *o = *fresh;
    if ((rv = so_store_issuance_get(db, ctx->pool, o->id, st)) != APR_SUCCESS
        || (rv = so_store_host_states(db, ctx->pool, o->id, states)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(o->status, "REQ") && !reissuing(o, *st)) {
        return APR_SUCCESS;
    }
    *names = valid_names(ctx->pool, *states);
    return APR_SUCCESS;
}

/* The certificate's days: up to the order's end, the Baseline Requirements' maximum of the
 * day and SSLOrdersMaxValidityDays; at least 1 */
static int cert_days(const so_svc_ctx_t *ctx, apr_int64_t ends)
{
    int br = so_ca_br_max_days(ctx->now);
    int days = (int)((ends - ctx->now) / 86400); /* never beyond the order's end */
    if (days > br) {
        days = br;
    }
    if (ctx->cfg->max_validity_days > 0 && days > ctx->cfg->max_validity_days) {
        days = ctx->cfg->max_validity_days;
    }
    return days < 1 ? 1 : days;
}

/* The organization's subject (OV/EV), CAA and MPIC, the signature and the profile linter:
 * *cert, or NULL when it is not issued now (the order event issuance_failed says why) */
static void sign(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *states,
                 apr_array_header_t *names, int days, so_ca_cert_t **cert)
{
    so_ca_issue_req_t ir;
    apr_array_header_t *problems = NULL;
    const char *why = NULL, *all;
    apr_status_t rv;

    *cert = NULL;
    memset(&ir, 0, sizeof(ir));
    ir.csr_pem = o->csr;
    ir.csr_req = so_csr_req_of(ctx->pool, o->csr); /* parsed in this request already? */
    ir.names = names;
    ir.validation = !strcmp(o->validation_method, "extended")       ? SO_CA_EV
                    : !strcmp(o->validation_method, "organization") ? SO_CA_OV
                                                                    : SO_CA_DV;
    ir.days = days;
    ir.base_url = pki_base(ctx);
    ir.now = ctx->now;
    if (ir.validation != SO_CA_DV && org_subject(ctx, o, &ir) != APR_SUCCESS) {
        so_svc_order_event(ctx, o, "issuance_failed",
                           json_pack("{s:s}", "reason", "the organization handle is missing"));
        return;
    }
    if (so_iss_key_blocked(ctx, o)) {
        return;
    }
    if (so_svc_caa_order(ctx, o, states, &why) != APR_SUCCESS) {
        /* CAA refuses (or could not be checked): not issued; the next check tries again */
        if (so_iss_jobs_stopping()) {
            return; /* stopped by the process stopping: nothing to tell */
        }
        so_svc_order_event(ctx, o, "issuance_failed",
                           json_pack("{s:s}", "reason", why ? why : "the CAA check failed"));
        return;
    }
    if ((rv = so_ca_issue(cert, ctx->cfg->ca, ctx->pool, &ir, &why)) != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00216) "order %" APR_INT64_T_FMT ": signing failed: %s",
                     o->id, why ? why : "?");
        so_metrics_inc(SO_MC_ISSUE_FAILED);
        so_svc_order_event(ctx, o, "issuance_failed", json_pack("{s:s}", "reason", why ? why : "?"));
        so_iss_notify(ctx, o, "errored", why);
        *cert = NULL;
        return;
    }
    /* the profile linter: a certificate that fails it is not stored nor handed out */
    if (so_lint_cert_obj(ctx->pool, (*cert)->x509, ir.csr_req,
                         so_ca_intermediate_x509(ctx->cfg->ca), ctx->now, &problems)
        != APR_SUCCESS) {
        all = problems && problems->nelts ? apr_array_pstrcat(ctx->pool, problems, ';') : "?";
        so_log_error(SO_LOG_MARK, APR_EGENERAL,
                     SOLOGNO(00556) "order %" APR_INT64_T_FMT ": certificate %s fails the "
                                    "profile linter and is not issued: %s",
                     o->id, (*cert)->serial, all);
        so_svc_order_event(ctx, o, "issuance_failed",
                           json_pack("{s:s,s:s}", "reason", "issuance failed, staff notified",
                                     "lint", all));
        so_iss_notify(ctx, o, "errored", "issuance failed, staff notified");
        *cert = NULL;
    }
}

/* The certificate stored with the order's new state, its reminder and its event, in one
 * transaction; a concurrent change of the order (autorenew, ...) is applied first.
 * *stored 0: cancelled or issued by another worker meanwhile. */
static apr_status_t store_cert(so_svc_ctx_t *ctx, so_order_t *o, so_issuance_state_t *st,
                               const so_ca_cert_t *cert, so_cert_t *row, int first,
                               apr_int64_t ends, const so_iss_with_t *with, int *stored)
{
    so_db_t *db = so_iss_db(ctx);
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    *stored = 0;
    for (attempt = 0; attempt < 3; attempt++) {
        so_order_t *fresh;
        if (attempt > 0 && with) {
            return APR_SUCCESS; /* the caller's request is not written over a changed order */
        }
        if (attempt > 0) {
            if ((rv = so_store_order_get(db, ctx->pool, o->team_id, o->id, &fresh)) != APR_SUCCESS) {
                return rv;
            }
            *o = *fresh;
            if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) != APR_SUCCESS) {
                return rv;
            }
            if (strcmp(o->status, "REQ") && !reissuing(o, st)) {
                return APR_SUCCESS;
            }
        }
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        o->status = "ACT";
        if (first) {
            o->active_date = ctx->now;
        }
        o->order_ends_at = ends;
        o->expiration_date = cert->not_after;
        o->reissue_at = ends > cert->not_after + 86400
                            ? cert->not_after - (cert->days > 90 ? 30 : cert->days / 3) * 86400
                            : 0;
        o->updated_at = ctx->now;
        rv = so_store_cert_insert(db, ctx->pool, row);
        if (rv == APR_SUCCESS) {
            /* reissue_pending cleared and the next reminder: with the order, one statement */
            so_order_sched_t sched = SO_ORDER_SCHED_KEEP;
            if (with && with->release) {
                sched.release = ctx->owner;
            }
            if (st->reminders_enabled) {
                sched.reissue_pending = 0;
                sched.next_reminder_at = so_iss_next_reminder(st->reminder_days, ends, ctx->now);
            }
            else if (st->reissue_pending) {
                sched.reissue_pending = 0;
            }
            rv = so_store_order_update_sched(db, ctx->pool, o, with && with->hosts, &sched);
        }
        if (rv == APR_SUCCESS && with && with->fn) {
            rv = with->fn(ctx, o, with->baton); /* after the order's row and names */
        }
        if (rv == APR_SUCCESS) {
            rv = so_svc_order_event(ctx, o, first ? "issued" : "reissued",
                                    json_pack("{s:I,s:s,s:s,s:s,s:s}", "certificate_id",
                                              (json_int_t)row->id, "serial", cert->serial,
                                              "not_before", so_time_fmt(ctx->pool, cert->not_before),
                                              "not_after", so_time_fmt(ctx->pool, cert->not_after),
                                              "names", row->names));
        }
        if (rv == APR_SUCCESS) {
            /* every issued order has a seal */
            rv = so_store_seal_add(db, ctx->pool, o->team_id, o->id, ctx->now);
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    *stored = rv == APR_SUCCESS;
    return rv;
}

/* The issuance of an order ready for it (REQ or reissuing, every name of states valid,
 * names: theirs) under the caller's claim */
static apr_status_t issue_ready(so_svc_ctx_t *ctx, so_order_t *o, so_issuance_state_t *st,
                                const apr_array_header_t *states, apr_array_header_t *names,
                                const so_iss_with_t *with, int *issued)
{
    so_ca_cert_t *cert = NULL;
    so_cert_t row;
    const char *was;
    apr_int64_t ends;
    int first, org, stored;
    apr_status_t rv;

    was = o->status;
    if ((rv = org_ok(ctx, o, st, &org)) != APR_SUCCESS || !org) {
        return rv;
    }
    if (!ctx->cfg->ca) {
        so_log_warn(SO_LOG_MARK, APR_ENOTIMPL,
                    SOLOGNO(00215) "order %" APR_INT64_T_FMT " is validated but SSLOrdersCA is not "
                                   "set: nothing is issued",
                    o->id);
        return APR_SUCCESS;
    }
    first = o->active_date == 0;
    ends = o->order_ends_at > 0 ? o->order_ends_at : so_iss_add_years(ctx->now, o->period);
    sign(ctx, o, states, names, cert_days(ctx, ends), &cert);
    if (!cert) {
        return APR_SUCCESS;
    }
    memset(&row, 0, sizeof(row));
    row.order_id = o->id;
    row.team_id = o->team_id;
    row.serial = cert->serial;
    row.pem = cert->pem;
    row.intermediate_pem = so_ca_intermediate_pem(ctx->cfg->ca);
    row.root_pem = so_ca_root_pem(ctx->cfg->ca);
    row.common_name = APR_ARRAY_IDX(names, 0, const char *);
    row.names = apr_array_pstrcat(ctx->pool, names, ' ');
    row.not_before = cert->not_before;
    row.not_after = cert->not_after;
    row.sha256 = cert->sha256;
    row.spki_sha256 = cert->spki_sha256;
    row.created_at = ctx->now;
    if ((rv = store_cert(ctx, o, st, cert, &row, first, ends, with, &stored)) != APR_SUCCESS || !stored) {
        return rv;
    }
    *issued = 1;
    ctx->issued_cert = row.id;
    so_metrics_inc(SO_MC_ISSUED);
    so_seal_cache_forget_order(o->id); /* (its seal was written with the certificate) */
    so_log_perror(SO_LOG_MARK, SO_LOG_INFO, APR_SUCCESS,
                  SOLOGNO(00217) "order %" APR_INT64_T_FMT ": certificate %s issued (%s)", o->id,
                  cert->serial, strcmp(was, "REQ") ? "reissue" : "first");
    /* the message command and the mail: from the outbox (so_iss_deliver) */
    return APR_SUCCESS;
}

apr_status_t so_iss_try_issue(so_svc_ctx_t *ctx, so_order_t *o, int *issued)
{
    so_issuance_state_t *st;
    apr_array_header_t *states, *names;
    apr_status_t rv;

    *issued = 0;
    if ((rv = ready_names(ctx, o, &st, &states, &names)) != APR_SUCCESS || !names) {
        return rv;
    }
    return issue_ready(ctx, o, st, states, names, NULL, issued);
}

apr_status_t so_iss_issue_written(so_svc_ctx_t *ctx, so_order_t *o, so_issuance_state_t *st,
                                  const apr_array_header_t *states, const so_iss_with_t *with,
                                  int *issued)
{
    apr_array_header_t *names;

    *issued = 0;
    if (ctx->claimed != o->id || (strcmp(o->status, "REQ") && !reissuing(o, st))
        || !states->nelts) {
        /* read again, as any caller (a request to write with it: not now) */
        return with ? APR_SUCCESS : so_iss_issue_claimed(ctx, o, issued);
    }
    if (!(names = valid_names(ctx->pool, states))) {
        return APR_SUCCESS; /* as ready_names: not now */
    }
    return issue_ready(ctx, o, st, states, names, with, issued);
}
