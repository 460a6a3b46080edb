/* mod_sslorders: the issuance service's mail, message command, reminders, the e-mail
 * approval links and the delivery of order events (see so_iss_int.h). */
#include "so_iss_int.h"

/* ------------------------------------------------------------------------- */
/* mail and the message command                                                */

apr_status_t so_iss_send_mail(so_svc_ctx_t *ctx, apr_array_header_t *to, const char *subject,
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
            && so_store_customer_get(so_iss_db(ctx), ctx->pool, o->team_id, handles[i], &c) == APR_SUCCESS) {
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

apr_status_t so_iss_reminders(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_db_t *db = so_iss_db(ctx);
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
    so_db_t *db = so_iss_db(ctx);
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
        if (ctx->cfg->mail_argv /* (no mail: no recipients to look up) */
            && (rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = so_iss_send_mail(ctx, to,
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
        if (ctx->cfg->mail_argv /* (no mail: no recipients to look up) */
            && (rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = so_iss_send_mail(ctx, to,
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
        if (ctx->cfg->mail_argv /* (no mail: no recipients to look up) */
            && (rv = so_store_issuance_get(db, ctx->pool, o->id, &st)) == APR_SUCCESS
            && (to = contacts(ctx, o, st->reminder_recipients))->nelts) {
            rv = so_iss_send_mail(ctx, to,
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
    return so_iss_send_mail(ctx, to, subject, body);
}

/* ------------------------------------------------------------------------- */
/* e-mail approval                                                             */

apr_status_t so_iss_approval(so_svc_ctx_t *ctx, const char *token, int approve, so_order_t **out,
                             apr_array_header_t **names, const char **email)
{
    so_db_t *db = so_iss_db(ctx);
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
