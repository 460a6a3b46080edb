#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "so_issuance.h"
#include "so_svc_br.h"
#include "../api/so_api_seal.h"
#include "so_order_rules.h"
#include "../store/so_store_seal.h"
#include "../core/so_metrics.h"
#include "../core/so_ca.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_exec.h"
#include "../core/so_lint.h"
#include "../core/so_log.h"
#include "../core/so_mail.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_outbox.h"

#define CLAIM_SECS 300
#define APPROVAL_TTL (14 * 86400)
#define JOB_BATCH 100
#define MAIL_TIMEOUT apr_time_from_sec(30)

/* ------------------------------------------------------------------------- */
/* small helpers                                                               */

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

static so_db_t *DB(so_svc_ctx_t *ctx)
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
/* mail and the message command                                                */

static apr_status_t send_mail(so_svc_ctx_t *ctx, apr_array_header_t *to, const char *subject,
                              const char *body)
{
    so_mail_msg_t m;
    so_exec_cmd_t cmd;
    so_exec_result_t *res = NULL;
    const char *msg, *why = NULL, *from;
    apr_size_t len;
    apr_status_t rv;
    so_brand_t brand;

    if (!ctx->cfg->mail_argv || to->nelts == 0) {
        return APR_ENOTIMPL;
    }
    /* the provider's name signs every mail, with where to get help */
    so_brand(ctx->cfg, &brand);
    body = apr_pstrcat(ctx->pool, body, "\n-- \n", brand.name,
                       *brand.support_url ? "\nHelp: " : "", brand.support_url, "\n", NULL);
    from = ctx->cfg->mail_from && *ctx->cfg->mail_from
               ? ctx->cfg->mail_from
               : apr_pstrcat(ctx->pool, "no-reply@", ctx->cfg->ca_tag, NULL);
    memset(&m, 0, sizeof(m));
    m.from = from;
    m.from_name = brand.name;
    m.to = to;
    m.subject = subject;
    m.body = body;
    m.date = ctx->now;
    if ((rv = so_mail_compose(&msg, &len, ctx->pool, &m, &why)) != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00210) "cannot compose mail \"%s\": %s", subject,
                     why ? why : "?");
        return rv;
    }
    memset(&cmd, 0, sizeof(cmd));
    cmd.argv = ctx->cfg->mail_argv;
    cmd.input = msg;
    cmd.input_len = len;
    cmd.timeout = MAIL_TIMEOUT;
    rv = so_exec_run(&res, ctx->pool, &cmd, &why);
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00211) "SSLOrdersMailCommand failed for \"%s\": %s",
                     subject, why ? why : "?");
    }
    return rv;
}

static void add_addr(apr_array_header_t *to, const char *a)
{
    int i;
    if (!a || !*a || !so_mail_addr_ok(a)) {
        return;
    }
    for (i = 0; i < to->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(to, i, const char *), a)) {
            return;
        }
    }
    APR_ARRAY_PUSH(to, const char *) = a;
}

/* The order's contacts: the e-mail of its handles and the reminder recipients. */
static apr_array_header_t *contacts(so_svc_ctx_t *ctx, const so_order_t *o, const char *extra)
{
    apr_array_header_t *to = apr_array_make(ctx->pool, 4, sizeof(const char *));
    const char *handles[] = {o->technical_handle, o->administrative_handle,
                             o->organization_handle, o->billing_handle};
    unsigned i;
    for (i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
        so_customer_t *c;
        if (handles[i] && *handles[i]
            && so_store_customer_get(DB(ctx), ctx->pool, o->team_id, handles[i], &c) == APR_SUCCESS) {
            add_addr(to, c->email);
        }
    }
    if (extra && *extra) {
        char *list = apr_pstrdup(ctx->pool, extra), *tok, *last = NULL;
        for (tok = apr_strtok(list, ", ", &last); tok; tok = apr_strtok(NULL, ", ", &last)) {
            add_addr(to, tok);
        }
    }
    return to;
}

void so_iss_notify(so_svc_ctx_t *ctx, const so_order_t *o, const char *event, const char *detail)
{
    const char *const *m = ctx->cfg->message_argv;
    if (m) {
        so_exec_cmd_t cmd;
        so_exec_result_t *res = NULL;
        const char *why = NULL;
        int n = 0, i;
        const char **argv;
        while (m[n]) {
            n++;
        }
        argv = apr_palloc(ctx->pool, sizeof(char *) * (size_t)(n + 4));
        for (i = 0; i < n; i++) {
            argv[i] = m[i];
        }
        argv[n] = event;
        argv[n + 1] = so_i64str(ctx->pool, o->id);
        argv[n + 2] = *o->common_name ? o->common_name : "-";
        argv[n + 3] = NULL;
        memset(&cmd, 0, sizeof(cmd));
        cmd.argv = argv;
        cmd.timeout = MAIL_TIMEOUT;
        if (so_exec_run(&res, ctx->pool, &cmd, &why) != APR_SUCCESS) {
            so_log_error(SO_LOG_MARK, APR_EGENERAL,
                         SOLOGNO(00212) "SSLOrdersMessageCmd %s for order %" APR_INT64_T_FMT
                                        " failed: %s",
                         event, o->id, why ? why : "?");
        }
    }
    (void)detail;
}

/* ------------------------------------------------------------------------- */
/* validation                                                                  */

static apr_status_t token_of(so_svc_ctx_t *ctx, const so_order_t *o, so_dcv_token_t **t)
{
    const char *why = NULL;
    apr_status_t rv = so_dcv_token_pem(t, ctx->pool, o->csr, ctx->cfg->ca_tag,
                                       *o->dcv_unique ? o->dcv_unique : NULL, &why);
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00213) "order %" APR_INT64_T_FMT ": no DCV token: %s",
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
    so_db_t *db = DB(ctx);
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
    rv = so_store_org_set(DB(ctx), ctx->pool, o->id, "pending",
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
    so_db_t *db = DB(ctx);
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
    so_db_t *db = DB(ctx);
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
    rv = send_mail(ctx, to, apr_psprintf(ctx->pool, "Approve the certificate for %s",
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

apr_status_t so_iss_check(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = DB(ctx);
    const char *owner = ctx->owner;
    so_issuance_state_t *st;
    apr_array_header_t *states;
    so_dcv_token_t *tok = NULL;
    so_dcv_opts_t opts;
    apr_int64_t next = 0;
    int i, pending = 0, issued = 0, min_checks = 1000;
    apr_status_t rv;

    rv = so_store_order_claim(db, ctx->pool, o->id, owner, ctx->now, ctx->now + CLAIM_SECS);
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
        if (!tok && (rv = token_of(ctx, o, &tok)) != APR_SUCCESS) {
            goto leave;
        }
        if (!strcmp(h->method, "dns")) {
            crv = so_dcv_check_dns(ctx->pool, tok, h->host_name, SO_DCV_DNS, &opts, &why);
        }
        else if (!strcmp(h->method, "dns-persist")) {
            crv = so_svc_persist_check(ctx, o, h->host_name, &opts, &why);
        }
        else {
            crv = so_dcv_check_http(ctx->pool, tok, h->host_name, !strcmp(h->method, "https"), &opts,
                                    &why);
        }
        so_metrics_inc(crv == APR_SUCCESS ? SO_MC_VALIDATION_VALID : SO_MC_VALIDATION_PENDING);
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            goto leave;
        }
        /* the state and its event (outbox) in one transaction */
        if (crv == APR_SUCCESS) {
            rv = so_store_host_state_set(db, ctx->pool, o->id, h->host_name, "valid", ctx->now,
                                         ctx->now, "");
            if (rv == APR_SUCCESS) {
                rv = so_svc_order_event(ctx, o, "name_validated",
                                        json_pack("{s:s,s:s}", "host_name", h->host_name,
                                                  "method", h->method));
            }
            h->status = "valid";
        }
        else {
            pending++;
            if (h->checks < min_checks) {
                min_checks = h->checks;
            }
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
        rv = so_db_end(db, rv);
        if (rv != APR_SUCCESS) {
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
    so_store_order_release(db, ctx->pool, o->id, owner);
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
    rv = so_store_customer_get(DB(ctx), ctx->pool, o->team_id, o->organization_handle, &c);
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
    so_db_t *db = DB(ctx);
    apr_status_t rv = APR_SUCCESS;
    *issued = 0;
    if (ctx->claimed == o->id) {
        return so_iss_try_issue(ctx, o, issued); /* the caller holds the claim */
    }
    if (so_store_order_claim(db, ctx->pool, o->id, ctx->owner, ctx->now,
                             ctx->now + CLAIM_SECS)
        == APR_SUCCESS) {
        rv = so_iss_try_issue(ctx, o, issued);
        so_store_order_release(db, ctx->pool, o->id, ctx->owner);
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

apr_status_t so_iss_try_issue(so_svc_ctx_t *ctx, so_order_t *o, int *issued)
{
    so_db_t *db = DB(ctx);
    so_issuance_state_t *st;
    apr_array_header_t *states, *names;
    so_ca_issue_req_t ir;
    so_ca_cert_t *cert = NULL;
    so_cert_t row;
    const char *why = NULL, *was = o->status;
    apr_int64_t ends;
    int i, attempt, first, days, br, org;
    apr_status_t rv;

    *issued = 0;
    {
        /* called with the order claimed: read it as it is now (another worker may have
         * issued, or the customer cancelled, since the caller loaded it) */
        so_order_t *fresh;
        if ((rv = so_store_order_get(db, ctx->pool, o->team_id, o->id, &fresh)) != APR_SUCCESS) {
            return rv;
        }
        *o = *fresh;
        was = o->status;
    }
    if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) != APR_SUCCESS
        || (rv = so_store_host_states(db, ctx->pool, o->id, &states)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(o->status, "REQ") && !reissuing(o, st)) {
        return APR_SUCCESS;
    }
    names = apr_array_make(ctx->pool, states->nelts, sizeof(const char *));
    for (i = 0; i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        if (strcmp(h->status, "valid")) {
            return APR_SUCCESS;
        }
        APR_ARRAY_PUSH(names, const char *) = h->host_name;
    }
    if (names->nelts == 0) {
        return APR_SUCCESS;
    }
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
    br = so_ca_br_max_days(ctx->now);
    days = (int)((ends - ctx->now) / 86400); /* never beyond the order's end */
    if (days > br) {
        days = br;
    }
    if (ctx->cfg->max_validity_days > 0 && days > ctx->cfg->max_validity_days) {
        days = ctx->cfg->max_validity_days;
    }
    if (days < 1) {
        days = 1;
    }
    memset(&ir, 0, sizeof(ir));
    ir.csr_pem = o->csr;
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
        return APR_SUCCESS;
    }
    if (so_svc_caa_order(ctx, o, states, &why) != APR_SUCCESS) {
        /* CAA refuses (or could not be checked): not issued; the next check tries again */
        so_svc_order_event(ctx, o, "issuance_failed",
                           json_pack("{s:s}", "reason", why ? why : "the CAA check failed"));
        return APR_SUCCESS;
    }
    rv = so_ca_issue(&cert, ctx->cfg->ca, ctx->pool, &ir, &why);
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00216) "order %" APR_INT64_T_FMT ": signing failed: %s",
                     o->id, why ? why : "?");
        so_metrics_inc(SO_MC_ISSUE_FAILED);
        so_svc_order_event(ctx, o, "issuance_failed", json_pack("{s:s}", "reason", why ? why : "?"));
        so_iss_notify(ctx, o, "errored", why);
        return APR_SUCCESS;
    }
    {
        /* the profile linter: a certificate that fails it is not stored nor handed out */
        apr_array_header_t *problems = NULL;
        if (so_lint_cert(ctx->pool, cert->der, cert->der_len, so_ca_intermediate_pem(ctx->cfg->ca),
                         ctx->now, &problems) != APR_SUCCESS) {
            const char *all = problems && problems->nelts ? apr_array_pstrcat(ctx->pool, problems, ';')
                                                          : "?";
            so_log_error(SO_LOG_MARK, APR_EGENERAL,
                         SOLOGNO(00556) "order %" APR_INT64_T_FMT ": certificate %s fails the "
                                        "profile linter and is not issued: %s",
                         o->id, cert->serial, all);
            so_svc_order_event(ctx, o, "issuance_failed",
                               json_pack("{s:s,s:s}", "reason", "issuance failed, staff notified",
                                         "lint", all));
            so_iss_notify(ctx, o, "errored", "issuance failed, staff notified");
            return APR_SUCCESS;
        }
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
    row.created_at = ctx->now;

    /* store it; a concurrent change of the order (autorenew, ...) is applied first */
    for (attempt = 0; attempt < 3; attempt++) {
        so_order_t *fresh;
        if (attempt > 0) {
            if ((rv = so_store_order_get(db, ctx->pool, o->team_id, o->id, &fresh)) != APR_SUCCESS) {
                return rv;
            }
            *o = *fresh;
            if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) != APR_SUCCESS) {
                return rv;
            }
            if (strcmp(o->status, "REQ") && !reissuing(o, st)) {
                return APR_SUCCESS; /* cancelled or issued by another worker meanwhile */
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
        rv = so_store_cert_insert(db, ctx->pool, &row);
        if (rv == APR_SUCCESS) {
            rv = so_store_order_update(db, ctx->pool, o, 0);
        }
        /* reissue_pending cleared and the next reminder: one statement */
        if (rv == APR_SUCCESS && st->reminders_enabled) {
            rv = so_store_reissued_reminder(db, ctx->pool, o->id,
                                            so_iss_next_reminder(st->reminder_days, ends, ctx->now));
        }
        else if (rv == APR_SUCCESS && st->reissue_pending) {
            rv = so_store_reissue_pending_set(db, ctx->pool, o->id, 0);
        }
        if (rv == APR_SUCCESS) {
            rv = so_svc_order_event(ctx, o, first ? "issued" : "reissued",
                                    json_pack("{s:I,s:s,s:s,s:s,s:s}", "certificate_id",
                                              (json_int_t)row.id, "serial", cert->serial,
                                              "not_before", so_time_fmt(ctx->pool, cert->not_before),
                                              "not_after", so_time_fmt(ctx->pool, cert->not_after),
                                              "names", row.names));
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *issued = 1;
    so_metrics_inc(SO_MC_ISSUED);
    {
        /* every issued order has a seal */
        so_seal_row_t *seal;
        if (so_store_seal_ensure(db, ctx->pool, o->team_id, o->id, ctx->now, &seal) == APR_SUCCESS) {
            so_seal_cache_forget(seal->seal_id);
        }
    }
    so_log_perror(SO_LOG_MARK, SO_LOG_INFO, APR_SUCCESS,
                  SOLOGNO(00217) "order %" APR_INT64_T_FMT ": certificate %s issued (%s)", o->id,
                  cert->serial, strcmp(was, "REQ") ? "reissue" : "first");
    /* the message command and the mail: from the outbox (so_iss_deliver) */
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* e-mail approval                                                             */

apr_status_t so_iss_approval(so_svc_ctx_t *ctx, const char *token, int approve, so_order_t **out,
                             apr_array_header_t **names, const char **email)
{
    so_db_t *db = DB(ctx);
    apr_int64_t team_id, order_id, approval_id;
    apr_array_header_t *states;
    so_order_t *o;
    int i, issued;
    apr_status_t rv;

    if (!token || strlen(token) != 40) {
        return APR_ENOENT;
    }
    rv = so_store_approval_lookup(db, ctx->pool, token, ctx->now, &team_id, &order_id, email,
                                  &approval_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_order_get(db, ctx->pool, team_id, order_id, &o)) != APR_SUCCESS
        || (rv = so_store_host_states(db, ctx->pool, order_id, &states)) != APR_SUCCESS) {
        return rv;
    }
    *out = o;
    *names = apr_array_make(ctx->pool, 4, sizeof(const char *));
    for (i = 0; i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        if (!strcmp(h->method, "email") && so_approver_email_ok(ctx->pool, h->host_name, *email)) {
            APR_ARRAY_PUSH(*names, const char *) = h->host_name;
        }
    }
    if (!approve) {
        return APR_SUCCESS;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_approval_use(db, ctx->pool, approval_id, ctx->now);
    for (i = 0; rv == APR_SUCCESS && i < (*names)->nelts; i++) {
        rv = so_store_host_state_set(db, ctx->pool, order_id, APR_ARRAY_IDX(*names, i, const char *),
                                     "valid", ctx->now, ctx->now, "");
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "approved_by_email", json_pack("{s:s}", "by", *email));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv == APR_EBUSY ? APR_ENOENT : rv;
    }
    /* issue now when that was the last step */
    return so_iss_issue_claimed(ctx, o, &issued);
}

/* ------------------------------------------------------------------------- */
/* revocation and the CRL                                                      */

static apr_status_t crl_build(so_svc_ctx_t *ctx, const unsigned char **der, apr_size_t *len,
                              apr_int64_t *this_update)
{
    so_db_t *db = DB(ctx);
    apr_array_header_t *certs, *revoked;
    so_ca_crl_t *crl;
    const char *why = NULL;
    apr_status_t rv;
    int i;

    if (!ctx->cfg->ca) {
        return APR_ENOTIMPL;
    }
    if ((rv = so_store_certs_revoked(db, ctx->pool, ctx->now - 86400, &certs)) != APR_SUCCESS) {
        return rv;
    }
    revoked = apr_array_make(ctx->pool, certs->nelts + 1, sizeof(so_ca_revoked_t));
    for (i = 0; i < certs->nelts; i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        so_ca_revoked_t *r = apr_array_push(revoked);
        r->serial = c->serial;
        r->revoked_at = c->revoked_at;
        r->reason = c->revoke_reason;
    }
    rv = so_ca_crl(&crl, ctx->cfg->ca, ctx->pool, revoked, ctx->now, 0, 0, &why);
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00218) "cannot make the CRL: %s", why ? why : "?");
        return rv;
    }
    rv = so_store_setting_set(db, ctx->pool, "crl_der", so_base64(ctx->pool, crl->der, crl->der_len));
    if (rv == APR_SUCCESS) {
        rv = so_store_setting_set(db, ctx->pool, "crl_next_update",
                                  so_i64str(ctx->pool, crl->next_update));
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_setting_set(db, ctx->pool, "crl_this_update",
                                  so_i64str(ctx->pool, crl->this_update));
    }
    *der = crl->der;
    *len = crl->der_len;
    *this_update = crl->this_update;
    return rv;
}

apr_status_t so_iss_crl(so_svc_ctx_t *ctx, const unsigned char **der, apr_size_t *len,
                        apr_int64_t *this_update)
{
    so_db_t *db = DB(ctx);
    const char *b64, *next, *thisu;

    if (so_store_setting_get(db, ctx->pool, "crl_der", &b64) == APR_SUCCESS
        && so_store_setting_get(db, ctx->pool, "crl_next_update", &next) == APR_SUCCESS
        && so_store_setting_get(db, ctx->pool, "crl_this_update", &thisu) == APR_SUCCESS
        && apr_atoi64(next) - 86400 > ctx->now && apr_atoi64(thisu) <= ctx->now) {
        apr_size_t n = strlen(b64);
        unsigned char *buf = apr_palloc(ctx->pool, n);
        int dl = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
        if (dl > 0) {
            while (n > 0 && b64[n - 1] == '=') { /* EVP_DecodeBlock counts padding */
                dl--;
                n--;
            }
            *der = buf;
            *len = (apr_size_t)dl;
            *this_update = apr_atoi64(thisu);
            return APR_SUCCESS;
        }
    }
    return crl_build(ctx, der, len, this_update);
}

apr_status_t so_iss_revoke(so_svc_ctx_t *ctx, so_order_t *o, so_cert_t *c, int reason)
{
    so_db_t *db = DB(ctx);
    const unsigned char *der;
    apr_size_t len;
    apr_int64_t tu;
    apr_status_t rv;

    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_cert_revoke(db, ctx->pool, c->id, ctx->now, reason);
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "revoked",
                                json_pack("{s:I,s:s,s:i}", "certificate_id", (json_int_t)c->id,
                                          "serial", c->serial, "reason", reason));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    c->revoked_at = ctx->now;
    c->revoke_reason = reason;
    if (crl_build(ctx, &der, &len, &tu) != APR_SUCCESS) {
        so_log_warn(SO_LOG_MARK, APR_EGENERAL, SOLOGNO(00219) "the CRL was not refreshed after "
                                                              "revoking %s", c->serial);
    }
    return APR_SUCCESS; /* the message command: from the outbox */
}

/* ------------------------------------------------------------------------- */
/* reissue, renewal                                                            */

apr_status_t so_iss_reissue(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = DB(ctx);
    apr_array_header_t *states;
    apr_int64_t reuse = (apr_int64_t)so_iss_reuse_days(ctx->now) * 86400;
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
        int still = h->validated_at > 0 && ctx->now - h->validated_at <= reuse;
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

/* ------------------------------------------------------------------------- */
/* reminders                                                                   */

apr_status_t so_iss_reminder_days_parse(apr_pool_t *p, const char *s, apr_array_header_t **days,
                                        const char **why)
{
    char *list = apr_pstrdup(p, s ? s : ""), *tok, *last = NULL;
    *days = apr_array_make(p, 8, sizeof(int));
    for (tok = apr_strtok(list, ", ", &last); tok; tok = apr_strtok(NULL, ", ", &last)) {
        apr_int64_t d;
        int i;
        if (so_parse_int64(tok, -365, 365, &d) != APR_SUCCESS || d == 0) {
            *why = "reminder days are integers from -365 to 365, not 0 (positive: before the "
                   "expiry, negative: after it)";
            return APR_EINVAL;
        }
        for (i = 0; i < (*days)->nelts; i++) {
            if (APR_ARRAY_IDX(*days, i, int) == (int)d) {
                break;
            }
        }
        if (i == (*days)->nelts) {
            if ((*days)->nelts >= 20) {
                *why = "at most 20 reminders";
                return APR_EINVAL;
            }
            APR_ARRAY_PUSH(*days, int) = (int)d;
        }
    }
    return APR_SUCCESS;
}

apr_int64_t so_iss_next_reminder(const char *days, apr_int64_t end, apr_int64_t after)
{
    apr_pool_t *p;
    apr_array_header_t *list;
    const char *why;
    apr_int64_t best = 0;
    int i;

    if (end <= 0) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    if (so_iss_reminder_days_parse(p, days, &list, &why) == APR_SUCCESS) {
        for (i = 0; i < list->nelts; i++) {
            apr_int64_t t = end - (apr_int64_t)APR_ARRAY_IDX(list, i, int) * 86400;
            if (t > after && (best == 0 || t < best)) {
                best = t;
            }
        }
    }
    apr_pool_destroy(p);
    return best;
}

static apr_status_t reminders(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = DB(ctx);
    so_issuance_state_t *st;
    apr_array_header_t *days, *to;
    apr_int64_t end = o->order_ends_at > 0 ? o->order_ends_at : o->expiration_date;
    const char *why;
    int i, newest = 0, have = 0;
    apr_status_t rv;

    if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) != APR_SUCCESS) {
        return rv;
    }
    if (so_iss_reminder_days_parse(ctx->pool, st->reminder_days, &days, &why) != APR_SUCCESS) {
        return so_store_next_reminder_set(db, ctx->pool, o->id, 0);
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < days->nelts; i++) {
        int d = APR_ARRAY_IDX(days, i, int);
        apr_int64_t t = end - (apr_int64_t)d * 86400;
        if (t > ctx->now) {
            continue;
        }
        /* every due reminder is recorded once; only the latest of them is sent */
        rv = so_store_reminder_mark_once(db, ctx->pool, o->id, end, d, ctx->now);
        if (rv == SO_EDBUNIQUE) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            so_db_rollback(db);
            return rv;
        }
        if (!have || d < newest) {
            newest = d;
            have = 1;
        }
    }
    rv = APR_SUCCESS;
    if (have) {
        /* the mail and the message command: from the outbox (so_iss_deliver) */
        to = contacts(ctx, o, st->reminder_recipients);
        rv = so_svc_order_event(ctx, o, "reminder_sent",
                                json_pack("{s:i,s:i,s:I}", "days", newest, "recipients", to->nelts,
                                          "ends", (json_int_t)end));
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_next_reminder_set(db, ctx->pool, o->id,
                                        so_iss_next_reminder(st->reminder_days, end, ctx->now));
    }
    return so_db_end(db, rv);
}

/* The outbox's deliveries of the lifecycle events to the server itself: the mail to the
 * order's contacts and SSLOrdersMessageCmd (attempts: earlier attempts of this one). */
apr_status_t so_iss_deliver(so_svc_ctx_t *ctx, so_order_t *o, const char *type, const char *detail,
                            int attempts)
{
    so_db_t *db = DB(ctx);
    json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
    const char *serial = d ? json_string_value(json_object_get(d, "serial")) : NULL;
    apr_array_header_t *to;
    so_issuance_state_t *st;
    apr_status_t rv = APR_SUCCESS;

    if (!strcmp(type, "order.validation_requested")) {
        if (!strcmp(o->status, "REQ")) {
            if (attempts > 0) {
                /* an earlier attempt may have made the link and died before mailing it */
                so_store_approvals_drop(db, ctx->pool, o->id);
            }
            so_iss_requested(ctx, o);
        }
    }
    else if (!strcmp(type, "order.issued") || !strcmp(type, "order.reissued")) {
        const char *names = d ? json_string_value(json_object_get(d, "names")) : NULL;
        const char *until = d ? json_string_value(json_object_get(d, "not_after")) : NULL;
        so_iss_notify(ctx, o, type + 6, serial);
        if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = send_mail(ctx, to,
                           apr_psprintf(ctx->pool, "Your certificate for %s is issued",
                                        o->common_name),
                           apr_psprintf(ctx->pool,
                                        "The certificate of order %" APR_INT64_T_FMT
                                        " (%s) was issued.\n\nNames: %s\nSerial: %s\nValid until: "
                                        "%s UTC\n\nDownload it from the portal or with GET "
                                        "/ssl/orders/%" APR_INT64_T_FMT ".\n",
                                        o->id, o->product_name, names ? names : o->common_name,
                                        serial ? serial : "?", until ? until : "?", o->id));
        }
    }
    else if (!strcmp(type, "order.renewed") || !strcmp(type, "order.expired")) {
        so_iss_notify(ctx, o, type + 6, NULL);
    }
    else if (!strcmp(type, "order.revoked")) {
        so_iss_notify(ctx, o, "revoked", serial);
    }
    else if (!strcmp(type, "order.autorenew_failed")) {
        so_iss_notify(ctx, o, "autorenew_failed", NULL);
        if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = send_mail(ctx, to,
                           apr_psprintf(ctx->pool, "Automatic renewal of %s failed",
                                        o->common_name),
                           apr_psprintf(ctx->pool,
                                        "Order %" APR_INT64_T_FMT " (%s) could not be renewed "
                                        "automatically: the team's balance does not cover the "
                                        "price. Add funds before %s UTC.\n",
                                        o->id, o->common_name,
                                        so_time_fmt(ctx->pool, o->order_ends_at)));
        }
    }
    else if (!strcmp(type, "order.expiring")) {
        int newest = d ? (int)json_integer_value(json_object_get(d, "days")) : 0;
        apr_int64_t end = d ? (apr_int64_t)json_integer_value(json_object_get(d, "ends")) : 0;
        const char *when = newest > 0 ? apr_psprintf(ctx->pool, "expires in %d day%s", newest,
                                                     newest == 1 ? "" : "s")
                                      : apr_psprintf(ctx->pool, "expired %d day%s ago", -newest,
                                                     newest == -1 ? "" : "s");
        if (end <= 0) {
            end = o->order_ends_at > 0 ? o->order_ends_at : o->expiration_date;
        }
        if ((rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = send_mail(ctx, to,
                           apr_psprintf(ctx->pool, "Your certificate for %s %s", o->common_name, when),
                           apr_psprintf(ctx->pool,
                                        "Order %" APR_INT64_T_FMT " (%s, %s) %s: %s UTC.\n\n%s",
                                        o->id, o->product_name, o->common_name, when,
                                        so_time_fmt(ctx->pool, end),
                                        newest > 0 ? "Renew it in the portal or with POST "
                                                     "/ssl/orders/{id}/renew to keep it valid.\n"
                                                   : "Order a new certificate to secure the names "
                                                     "again.\n"));
        }
        so_iss_notify(ctx, o, newest > 0 ? "expiring" : "expired", when);
    }
    if (d) {
        json_decref(d);
    }
    return rv == APR_ENOTIMPL ? APR_SUCCESS : rv;
}

apr_status_t so_iss_mail(so_svc_ctx_t *ctx, apr_array_header_t *to, const char *subject,
                         const char *body)
{
    return send_mail(ctx, to, subject, body);
}

/* ------------------------------------------------------------------------- */
/* the background pass                                                         */

typedef apr_status_t job_fn(so_svc_ctx_t *ctx, so_order_t *o, int *did);

static apr_status_t job_check(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    apr_status_t rv = so_iss_check(ctx, o);
    *did = 1;
    return rv == APR_EBUSY ? APR_SUCCESS : rv;
}

static apr_status_t job_expire(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    so_db_t *db = DB(ctx);
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
        return so_store_order_update(DB(ctx), ctx->pool, o, 0);
    }
    so_svc_order_event(ctx, o, "subscription_reissue", NULL);
    return so_iss_reissue(ctx, o);
}

static apr_status_t job_autorenew(so_svc_ctx_t *ctx, so_order_t *o, int *did)
{
    so_db_t *db = DB(ctx);
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
    return reminders(ctx, o);
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
    so_db_t *db = DB(ctx);
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

        apr_pool_create(&sub, saved);
        ctx->pool = sub;
        if (claim && so_store_order_claim(db, sub, id, ctx->owner, ctx->now,
                                          ctx->now + CLAIM_SECS)
                         != APR_SUCCESS) {
            ctx->pool = saved;
            apr_pool_destroy(sub);
            continue; /* another server works on it */
        }
        rv = so_store_order_get(db, sub, team, id, &o);
        if (rv == APR_SUCCESS) {
            rv = fn(ctx, o, &did);
        }
        if (claim) {
            so_store_order_release(db, sub, id, ctx->owner);
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
    so_svc_hooks()->background(ctx);
    /* reissues and renewals first: the names they send back to validation are checked in
     * the same run */
    if ((rv = run_jobs(ctx, "expire", job_expire, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "reissue", job_reissue, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "autorenew", job_autorenew, 1, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "dcv", job_check, 0, worked)) != APR_SUCCESS
        || (rv = run_jobs(ctx, "reminders", job_reminders, 1, worked)) != APR_SUCCESS
        || (rv = so_svc_hooks()->outbox_run(ctx, worked)) != APR_SUCCESS) {
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
        if ((rv = so_svc_hooks()->audit_prune(ctx, &pruned)) != APR_SUCCESS) {
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
