/* mod_sslorders: the issuance endpoints: validation state and "check now",
 * certificates of an order, revocation, reminders, staff organization validation and
 * the background pass. The public routes (CA certificates, CRL, approval links):
 * so_api_public.c. */
#include <string.h>

#include <apr_strings.h>

#include "so_br.h"
#include "../store/so_store_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../acme/so_acme.h"
#include "../core/so_ca.h"
#include "../core/so_dcv.h"
#include "../svc/so_svc_br.h"
#include "../core/so_domain.h"
#include "../core/so_jsonw.h"
#include "../core/so_mail.h"
#include "../core/so_text.h"
#include "../core/so_util.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_review.h"
#include "../store/so_store_seal.h"

/* Certificate tags: is serial (upper hex without leading zeros) one of the order's? */
apr_status_t so_iss_cert_lookup(so_req_t *req, const so_order_t *o, const char *serial, int *found)
{
    apr_array_header_t *certs;
    int i;
    apr_status_t rv = so_store_certs_of_order(so_req_db(req), req->pool, o->team_id, o->id, &certs);

    *found = 0;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts && !*found; i++) {
        const char *c = so_str_upper(req->pool, APR_ARRAY_IDX(certs, i, so_cert_t *)->serial);
        while (c[0] == '0' && c[1]) {
            c++;
        }
        *found = !strcmp(c, serial);
    }
    return APR_SUCCESS;
}

/* ---- validation state -------------------------------------------------------------------- */

/* What to publish for a name by its method (NULL: nothing to show, or no token) */
static so_dcv_instructions_t *name_instructions(so_req_t *req, const so_order_t *o,
                                                const so_host_state_t *h,
                                                const so_dcv_token_t *tok)
{
    so_dcv_instructions_t *ins = NULL;
    const char *why = NULL;
    if (!strcmp(h->method, "dns-persist")) {
        ins = apr_pcalloc(req->pool, sizeof(*ins));
        ins->record_type = "TXT";
        so_svc_persist_instructions(req->pool, req->cfg, o->team_id, h->host_name,
                                    &ins->record_name, &ins->record_value, &ins->text);
        return ins;
    }
    if (!strcmp(h->method, "dns-account")) {
        /* BR 3.2.2.4.21: the dns value at the label of the team's account URI */
        if (!tok
            || so_dcv_account_instructions(&ins, req->pool, tok, h->host_name,
                                           so_svc_persist_account(req->pool, req->cfg, o->team_id),
                                           &why)
                   != APR_SUCCESS) {
            return NULL;
        }
        return ins;
    }
    if (tok && *h->method && strcmp(h->method, "email")) {
        so_dcv_method_t m = !strcmp(h->method, "dns")     ? SO_DCV_CNAME
                            : !strcmp(h->method, "https") ? SO_DCV_HTTPS
                                                          : SO_DCV_HTTP;
        if (so_dcv_instructions(&ins, req->pool, tok, h->host_name, m, &why) != APR_SUCCESS) {
            return NULL;
        }
    }
    return ins;
}

/* "instructions" of a name: the file or record, the approval link (email), or null */
static void write_instructions(so_jw_t *w, so_req_t *req, const so_order_t *o,
                               const so_host_state_t *h, const so_dcv_token_t *tok)
{
    so_dcv_instructions_t *ins = name_instructions(req, o, h, tok);
    so_jw_key(w, "instructions");
    if (ins) {
        so_jw_obj(w);
        so_jw_kstr(w, "text", ins->text);
        if (ins->url) {
            so_jw_kstr(w, "url", ins->url);
            so_jw_kstr(w, "file_name", ins->file_name);
            so_jw_kstr(w, "file_body", ins->file_body);
        }
        if (ins->record_name) {
            so_jw_kstr(w, "record_name", ins->record_name);
            so_jw_kstr(w, "record_type", ins->record_type);
            so_jw_kstr(w, "record_value", ins->record_value);
            so_jw_kstr(w, "txt_record_name",
                       !strcmp(h->method, "dns-persist") || !strcmp(h->method, "dns-account")
                           ? ins->record_name
                           : apr_pstrcat(req->pool, SO_DCV_TXT_LABEL ".",
                                         so_hostname_base(h->host_name), NULL));
        }
        so_jw_obj_end(w);
    }
    else if (!strcmp(h->method, "email")) {
        so_jw_obj(w);
        so_jw_kstr(w, "text",
                   apr_psprintf(req->pool,
                                "An approval link is sent to %s; open it and approve the "
                                "request.",
                                *o->approver_email ? o->approver_email : "the approver address"));
        so_jw_obj_end(w);
    }
    else {
        so_jw_null(w);
    }
}

/* "organization": the OV/EV check of the order, its reuse period and documents */
static void write_organization(so_jw_t *w, so_req_t *req, const so_order_t *o,
                               const so_issuance_state_t *st)
{
    const char *ids = "";
    char *list, *id, *last = NULL;

    so_jw_key(w, "organization");
    so_jw_obj(w);
    so_jw_kbool(w, "required", strcmp(o->validation_method, "domain") != 0);
    so_jw_kstr(w, "status", *st->org_status ? st->org_status
                            : strcmp(o->validation_method, "domain") ? "pending" : "not_required");
    so_jw_kstr(w, "reason", st->org_reason);
    so_jw_kstr(w, "checked_at", st->org_checked_at > 0 ? so_time_fmt(req->pool, st->org_checked_at) : "");
    /* an approval is used (by this order and the team's others) this long: BR 4.2.1 */
    so_jw_kstr(w, "valid_until",
               !strcmp(st->org_status, "approved") && st->org_checked_at > 0
                   ? so_time_fmt(req->pool,
                                 st->org_checked_at + (apr_int64_t)SO_ORG_REUSE_DAYS * 86400)
                   : "");
    so_jw_key(w, "documents");
    so_jw_arr(w);
    so_store_org_documents_get(so_req_db(req), req->pool, o->id, &ids);
    list = apr_pstrdup(req->pool, ids);
    for (id = apr_strtok(list, ",", &last); id; id = apr_strtok(NULL, ",", &last)) {
        so_jw_int(w, apr_atoi64(id));
    }
    so_jw_arr_end(w);
    so_jw_obj_end(w);
}

static apr_status_t validation_answer(so_req_t *req, so_order_t *o)
{
    so_db_t *db = so_req_db(req);
    so_issuance_state_t *st;
    apr_array_header_t *states, *brc;
    so_dcv_token_t *tok = NULL;
    const char *why;
    so_jw_t *w;
    const char *text;
    apr_size_t len;
    apr_status_t rv;
    int i, valid = 0;

    if ((rv = so_store_issuance_get(db, req->pool, o->id, &st)) != APR_SUCCESS
        || (rv = so_store_host_states(db, req->pool, o->id, &states)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_br_checks(db, req->pool, o->id, &brc)) != APR_SUCCESS) {
        return rv;
    }
    if (*o->csr) {
        so_dcv_token_pem(&tok, req->pool, o->csr, req->cfg->ca_tag,
                         *o->dcv_unique ? o->dcv_unique : NULL, &why);
    }
    w = so_jw_make(req->pool, 2048);
    so_jw_obj(w);
    so_jw_kint(w, "order_id", o->id);
    so_jw_kstr(w, "status", o->status);
    so_jw_kbool(w, "reissue_pending", st->reissue_pending);
    so_jw_kstr(w, "approver_email", o->approver_email);
    so_jw_kstr(w, "next_check_at", st->next_check_at > 0 ? so_time_fmt(req->pool, st->next_check_at) : "");
    so_jw_key(w, "names");
    so_jw_arr(w);
    for (i = 0; i < states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(states, i, so_host_state_t);
        valid += !strcmp(h->status, "valid");
        so_jw_obj(w);
        so_jw_kstr(w, "host_name", h->host_name);
        so_jw_kstr(w, "method", h->method);
        so_jw_kstr(w, "state", h->status);
        so_jw_kstr(w, "validated_at", h->validated_at > 0 ? so_time_fmt(req->pool, h->validated_at) : "");
        so_jw_kstr(w, "last_check_at", h->last_check_at > 0 ? so_time_fmt(req->pool, h->last_check_at) : "");
        so_jw_kstr(w, "last_error", h->last_error);
        so_jw_kint(w, "checks", h->checks);
        so_br_write_checks(w, req, brc, h->host_name);
        write_instructions(w, req, o, h, tok);
        so_jw_obj_end(w);
    }
    so_jw_arr_end(w);
    so_jw_kint(w, "validated", valid);
    so_jw_kint(w, "total", states->nelts);
    write_organization(w, req, o, st);
    so_jw_obj_end(w);
    text = so_jw_text(w, &len);
    return so_api_ok_raw(req, text, len);
}

static apr_status_t get_validation(so_req_t *req)
{
    so_order_t *o;
    apr_status_t rv = so_api_order_load(req, &o);
    return rv != APR_SUCCESS ? rv : validation_answer(req, o);
}

static apr_status_t post_validate(so_req_t *req)
{
    so_order_t *o;
    so_issuance_state_t *st;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_issuance_get(so_req_db(req), req->pool, o->id, &st)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(o->status, "REQ") && !st->reissue_pending) {
        return so_api_errorf(req, SO_E_STATUS,
                             "Nothing to validate: the order is %s", o->status);
    }
    rv = so_iss_check(so_api_svc_ctx(req), o);
    if (rv == APR_EBUSY) {
        so_api_warning(req, 1, "Another server is checking this order right now", "");
    }
    else if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    return validation_answer(req, o);
}

/* ---- certificates, revocation ------------------------------------------------------------- */

static void cert_write(so_jw_t *w, so_req_t *req, const so_cert_t *c)
{
    so_jw_obj(w);
    so_jw_kint(w, "id", c->id);
    so_jw_kint(w, "order_id", c->order_id);
    so_jw_kstr(w, "serial", c->serial);
    so_jw_kstr(w, "common_name", c->common_name);
    so_jw_key(w, "names");
    so_jw_arr(w);
    {
        char *names = apr_pstrdup(req->pool, c->names), *tok, *last = NULL;
        for (tok = apr_strtok(names, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
            so_jw_str(w, tok);
        }
    }
    so_jw_arr_end(w);
    so_jw_kstr(w, "not_before", so_time_fmt(req->pool, c->not_before));
    so_jw_kstr(w, "not_after", so_time_fmt(req->pool, c->not_after));
    so_jw_kstr(w, "sha256", c->sha256);
    so_jw_kbool(w, "current", c->is_current);
    so_jw_kstr(w, "revoked_at", c->revoked_at > 0 ? so_time_fmt(req->pool, c->revoked_at) : "");
    so_jw_kint(w, "revoke_reason", c->revoke_reason);
    so_jw_kstr(w, "state", c->revoked_at > 0                ? "revoked"
                           : c->not_after < req->now        ? "expired"
                           : c->is_current                  ? "valid"
                                                            : "superseded");
    so_jw_kstr(w, "certificate", c->pem);
    so_jw_obj_end(w);
}

static apr_status_t list_certificates(so_req_t *req)
{
    so_order_t *o;
    apr_array_header_t *certs;
    so_jw_t *w;
    const char *text;
    apr_size_t len;
    apr_status_t rv = so_api_order_load(req, &o);
    int i;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_certs_of_order(so_req_db(req), req->pool, o->team_id, o->id, &certs))
        != APR_SUCCESS) {
        return rv;
    }
    w = so_jw_make(req->pool, 4096);
    so_jw_obj(w);
    so_jw_key(w, "results");
    so_jw_arr(w);
    for (i = 0; i < certs->nelts; i++) {
        cert_write(w, req, APR_ARRAY_IDX(certs, i, so_cert_t *));
    }
    so_jw_arr_end(w);
    so_jw_kint(w, "total", certs->nelts);
    so_jw_obj_end(w);
    text = so_jw_text(w, &len);
    return so_api_ok_raw(req, text, len);
}

static const struct {
    const char *name;
    int code;
} reasons[] = {{"unspecified", 0},           {"key_compromise", 1},  {"affiliation_changed", 3},
               {"superseded", 4},            {"cessation_of_operation", 5},
               {"privilege_withdrawn", 9},   {NULL, 0}};

int so_api_revoke_reason(const char *name)
{
    int i;
    for (i = 0; reasons[i].name; i++) {
        if (!strcmp(reasons[i].name, name)) {
            return reasons[i].code;
        }
    }
    return -1;
}

static apr_status_t revoke_cert(so_req_t *req)
{
    so_order_t *o;
    so_cert_t *c = NULL;
    apr_array_header_t *certs;
    apr_int64_t cert_id = 0;
    const char *reason_name = "unspecified";
    int reason, i;
    apr_status_t rv;

    if (so_in_int(req, req->json, "certificate_id", 0, 1, (apr_int64_t)1 << 40, &cert_id, NULL)
        || so_in_str(req, req->json, "reason", 0, 40, &reason_name, NULL)) {
        return APR_EINVAL;
    }
    if ((reason = so_api_revoke_reason(reason_name)) < 0) {
        return so_api_errorf(req, SO_E_INVALID,
                             "reason must be unspecified, key_compromise, affiliation_changed, "
                             "superseded, cessation_of_operation or privilege_withdrawn");
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_certs_of_order(so_req_db(req), req->pool, o->team_id, o->id, &certs))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts; i++) {
        so_cert_t *x = APR_ARRAY_IDX(certs, i, so_cert_t *);
        if (cert_id ? x->id == cert_id : x->is_current) {
            c = x;
        }
    }
    if (!c) {
        return so_api_error(req, SO_E_NOT_FOUND, "No such certificate in this order", "");
    }
    if (c->revoked_at > 0) {
        return so_api_error(req, SO_E_REVOKED, "The certificate is revoked already", c->serial);
    }
    if ((rv = so_iss_revoke(so_api_svc_ctx(req), o, c, reason)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:I,s:s}", "id", (json_int_t)o->id, "certificate_id",
                                    (json_int_t)c->id, "serial", c->serial));
}

/* ---- reminders ------------------------------------------------------------------------- */

static apr_status_t reminders_answer(so_req_t *req, so_order_t *o)
{
    so_issuance_state_t *st;
    apr_array_header_t *days;
    json_t *before = json_array(), *after = json_array(), *to = json_array();
    const char *why;
    apr_status_t rv;
    int i;

    if ((rv = so_store_issuance_get(so_req_db(req), req->pool, o->id, &st)) != APR_SUCCESS) {
        json_decref(before);
        json_decref(after);
        json_decref(to);
        return rv;
    }
    if (so_iss_reminder_days_parse(req->pool, st->reminder_days, &days, &why) == APR_SUCCESS) {
        for (i = 0; i < days->nelts; i++) {
            int d = APR_ARRAY_IDX(days, i, int);
            json_array_append_new(d > 0 ? before : after, json_integer(d > 0 ? d : -d));
        }
    }
    {
        char *list = apr_pstrdup(req->pool, st->reminder_recipients), *tok, *last = NULL;
        for (tok = apr_strtok(list, ", ", &last); tok; tok = apr_strtok(NULL, ", ", &last)) {
            json_array_append_new(to, json_string(tok));
        }
    }
    return so_api_ok(req, json_pack("{s:b,s:o,s:o,s:o}", "enabled", st->reminders_enabled,
                                    "days_before", before, "days_after", after, "recipients", to));
}

static apr_status_t get_reminders(so_req_t *req)
{
    so_order_t *o;
    apr_status_t rv = so_api_order_load(req, &o);
    return rv != APR_SUCCESS ? rv : reminders_answer(req, o);
}

static apr_status_t read_days(so_req_t *req, const char *field, int sign, const char **list)
{
    json_t *a = NULL;
    int present = 0;
    size_t i;
    if (so_in_array(req, req->json, field, 0, 10, &a, &present) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!present) {
        return APR_SUCCESS;
    }
    for (i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 365) {
            return so_api_errorf(req, SO_E_INVALID, "%s holds whole days from 1 to 365", field);
        }
        *list = apr_psprintf(req->pool, "%s%s%d", *list, **list ? "," : "",
                             sign * (int)json_integer_value(v));
    }
    return APR_SUCCESS;
}

static apr_status_t put_reminders(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    so_issuance_state_t *st;
    const char *before = "", *after = "", *days, *recipients = NULL, *why;
    apr_array_header_t *parsed;
    json_t *to = NULL;
    int enabled = 1, has_enabled = 0, has_to = 0;
    apr_status_t rv;
    size_t i;

    if (so_in_bool(req, req->json, "enabled", 0, &enabled, &has_enabled)
        || read_days(req, "days_before", 1, &before) || read_days(req, "days_after", -1, &after)
        || so_in_array(req, req->json, "recipients", 0, 10, &to, &has_to)) {
        return APR_EINVAL;
    }
    if (has_to) {
        recipients = "";
        for (i = 0; i < json_array_size(to); i++) {
            json_t *v = json_array_get(to, i);
            const char *a = json_is_string(v) ? json_string_value(v) : NULL;
            if (!a || !so_mail_addr_ok(a)) {
                return so_api_errorf(req, SO_E_INVALID, "recipients holds e-mail addresses (%s)",
                                     a ? a : "not a string");
            }
            recipients = apr_pstrcat(req->pool, recipients, *recipients ? "," : "", a, NULL);
        }
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_issuance_get(db, req->pool, o->id, &st)) != APR_SUCCESS) {
        return rv;
    }
    if (json_object_get(req->json, "days_before") || json_object_get(req->json, "days_after")) {
        days = apr_pstrcat(req->pool, before, *before && *after ? "," : "", after, NULL);
    }
    else {
        days = st->reminder_days;
    }
    if (so_iss_reminder_days_parse(req->pool, days, &parsed, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, why, "");
    }
    if (!has_enabled) {
        enabled = st->reminders_enabled;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_reminders_set(db, req->pool, o->id, days,
                                recipients ? recipients : st->reminder_recipients, enabled);
    if (rv == APR_SUCCESS) {
        apr_int64_t end = o->order_ends_at > 0 ? o->order_ends_at : o->expiration_date;
        rv = so_store_next_reminder_set(db, req->pool, o->id,
                                        enabled ? so_iss_next_reminder(days, end, req->now) : 0);
    }
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "reminders_changed",
                                json_pack("{s:s,s:b}", "days", days, "enabled", enabled));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return reminders_answer(req, o);
}

/* ---- staff --------------------------------------------------------------------------- */

static apr_status_t staff_organizations(so_req_t *req)
{
    apr_array_header_t *reviews;
    json_t *results;
    apr_status_t rv;
    const char *status = so_req_query(req, "status");
    int i;

    if (!status || !*status) {
        status = "pending";
    }
    if (strcmp(status, "pending") && strcmp(status, "approved") && strcmp(status, "rejected")) {
        return so_api_error(req, SO_E_INVALID, "status is pending, approved or rejected", "");
    }
    rv = so_store_org_reviews(so_req_db(req), req->pool, status, 500, &reviews);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < reviews->nelts; i++) {
        const so_org_review_t *r = &APR_ARRAY_IDX(reviews, i, so_org_review_t);
        so_customer_t *c = NULL;
        json_t *org = json_null();
        if (*r->org_handle
            && so_store_customer_get(so_req_db(req), req->pool, r->team_id, r->org_handle, &c)
                   == APR_SUCCESS) {
            org = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "handle", c->handle, "company_name",
                            c->company_name, "city", c->city, "state", c->state, "country",
                            c->country, "vat", c->vat);
        }
        json_array_append_new(results,
                              json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "order_id",
                                        (json_int_t)r->order_id, "team", r->team_slug,
                                        "common_name", r->common_name, "product_name",
                                        r->product_name, "status", r->status, "reason",
                                        r->reason, "organization", org));
    }
    return so_api_ok_list(req, results, reviews->nelts);
}

apr_status_t so_api_org_decide(so_req_t *req, apr_int64_t order_id, int approve, const char *reason)
{
    so_result_t res;
    so_order_t *o = NULL;
    int issued = 0;

    so_result_init(&res);
    if (so_iss_org_decide(so_api_svc_ctx(req), order_id, approve, reason, &o, &issued, &res)
        != APR_SUCCESS) {
        return so_api_svc_answer(req, &res);
    }
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)o->id, "organization",
                                    approve ? "approved" : "rejected", "status", o->status,
                                    "issued", issued));
}

static apr_status_t staff_organization(so_req_t *req)
{
    apr_int64_t id;
    const char *decision = NULL, *reason = "", *ids = "";
    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (so_in_str(req, req->json, "decision", 1, 16, &decision, NULL)
        || so_in_str(req, req->json, "reason", 0, 500, &reason, NULL)) {
        return APR_EINVAL;
    }
    if (strcmp(decision, "approve") && strcmp(decision, "reject")) {
        return so_api_error(req, SO_E_INVALID, "decision is approve or reject", decision);
    }
    if (!strcmp(decision, "reject") && !*reason) {
        return so_api_error(req, SO_E_INVALID, "a rejection needs a reason", "");
    }
    if (json_object_get(req->json, "documents")) {
        /* the accepted validation documents of the order the decision rests on */
        json_t *docs = json_object_get(req->json, "documents"), *v;
        size_t i;
        if (!json_is_array(docs) || json_array_size(docs) > 50) {
            return so_api_error(req, SO_E_INVALID, "documents is a list of document ids", "");
        }
        json_array_foreach(docs, i, v)
        {
            so_doc_t *d;
            apr_status_t rv;
            if (!json_is_integer(v)) {
                return so_api_error(req, SO_E_INVALID, "documents is a list of document ids", "");
            }
            rv = so_store_doc_get(so_req_db(req), req->pool, -1, 0, json_integer_value(v), &d);
            if (rv != APR_SUCCESS && rv != APR_ENOENT) {
                return rv;
            }
            if (rv == APR_ENOENT || d->order_id != id || strcmp(d->status, "accepted")) {
                return so_api_errorf(req, SO_E_INVALID,
                                     "documents: %" APR_INT64_T_FMT " is not an accepted "
                                     "document of order %" APR_INT64_T_FMT,
                                     (apr_int64_t)json_integer_value(v), id);
            }
            ids = apr_psprintf(req->pool, "%s%s%" APR_INT64_T_FMT, ids, *ids ? "," : "",
                               (apr_int64_t)json_integer_value(v));
        }
    }
    {
        apr_status_t rv = so_api_org_decide(req, id, !strcmp(decision, "approve"), reason);
        if (rv == APR_SUCCESS && !req->err_code && *ids) {
            so_store_org_documents_set(so_req_db(req), req->pool, id, ids);
            json_object_set_new(req->data, "documents", json_copy(json_object_get(req->json, "documents")));
        }
        return rv;
    }
}

static apr_status_t staff_jobs_run(so_req_t *req)
{
    int worked = 0;
    apr_status_t rv = so_acme_all_jobs_run(so_api_svc_ctx(req), &worked);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:i}", "worked", worked));
}

const so_route_t so_routes_issuance[] = {
    {"GET", "/ssl/orders/{id}/validation", get_validation, SO_ROLE_VIEWER, SO_RF_OTP},
    {"POST", "/ssl/orders/{id}/validate", post_validate, SO_ROLE_MEMBER, SO_RF_OTP},
    {"GET", "/ssl/orders/{id}/certificates", list_certificates, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/orders/{id}/revoke", revoke_cert, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}/reminders", get_reminders, SO_ROLE_VIEWER, 0},
    {"PUT", "/ssl/orders/{id}/reminders", put_reminders, SO_ROLE_MEMBER, 0},
    {"GET", "/staff/organizations", staff_organizations, SO_ROLE_VIEWER, SO_RF_STAFF},
    {"POST", "/staff/orders/{id}/organization", staff_organization, SO_ROLE_VIEWER, SO_RF_STAFF},
    {"POST", "/staff/jobs/run", staff_jobs_run, SO_ROLE_VIEWER, SO_RF_STAFF},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
