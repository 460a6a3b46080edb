/* mod_sslorders: SSL orders (Openprovider CreateOrder, ListOrders, GetOrder,
 * UpdateOrder, UpdateApproverEmailAddress, ResendApproverEmail, CancelOrder,
 * CreateOtpToken) and the order's audit events: the handlers and the route table.
 * The order's JSON is src/svc/so_order_view.c; the input and new orders are in
 * so_api_order_input.c, the list in so_api_order_list.c, reissue, renew and
 * organization validation in so_api_order_renew.c (so_api_order_int.h joins them). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../svc/so_order_view.h"
#include "../core/so_metrics.h"
#include "../svc/so_outbox.h"
#include "../core/so_dcv.h"
#include "../core/so_crypto.h"
#include "../core/so_csr.h"
#include "../core/so_domain.h"
#include "../core/so_jsonw.h"
#include "../core/so_memo.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_order.h"
#include "../store/so_store_cert.h"
#include "so_api_order_int.h"

#define OTP_TTL (72 * 3600)
#define IDEM_TTL (24 * 3600)

/* ------------------------------------------------------------------------- */
/* helpers                                                                     */

apr_status_t so_api_order_event(so_req_t *req, const so_order_t *o, const char *kind, json_t *detail)
{
    return so_svc_order_event(so_api_svc_ctx(req), o, kind, detail);
}

apr_status_t so_api_order_load(so_req_t *req, so_order_t **out)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (req->auth->kind == SO_AUTH_OTP && id != req->auth->otp_order_id) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, id);
    }
    rv = so_store_order_get(so_req_db(req), req->pool, req->auth->team_id, id, out);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, id);
    }
    return rv;
}

/* ------------------------------------------------------------------------- */
/* POST /ssl/orders                                                            */

/* Read the body and the Idempotency-Key; the service checks, prices, stores and charges
 * (so_svc_order_create). */
static apr_status_t create_order(so_req_t *req)
{
    so_order_in_t in;
    so_order_t *o;
    so_svc_idem_t idem;
    so_result_t res;
    apr_status_t rv;

    memset(&idem, 0, sizeof(idem));
    idem.key = so_req_header(req, "Idempotency-Key");
    if (so_order_in_read(req, &in) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!in.has_product || !in.has_period) {
        return so_api_error(req, SO_E_INVALID, "product_id and period are required", "");
    }
    if (idem.key) {
        if (!*idem.key || strlen(idem.key) > 200
            || !so_str_is_printable_utf8(idem.key, strlen(idem.key))) {
            return so_api_error(req, SO_E_INVALID, "Idempotency-Key must be 1 to 200 printable characters",
                                "");
        }
        idem.hash = so_sha256_hex(req->pool, req->body, req->body_len, 0);
    }
    so_result_init(&res);
    rv = so_svc_order_create(so_api_svc_ctx(req), &in, req->auth->team_currency, &idem, &o, &res);
    so_api_svc_answer(req, &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (idem.replayed) {
        apr_table_setn(req->headers_out, "Idempotent-Replayed", "true");
        return so_api_ok(req, json_loads(idem.response, 0, NULL));
    }
    /* validation starts from the outbox ("provisioning_requested"), after the request */
    return so_api_ok_id(req, o->id);
}

/* ------------------------------------------------------------------------- */
/* GET /ssl/orders/{id}                                                        */

static apr_status_t get_order(so_req_t *req)
{
    so_order_t *o;
    apr_array_header_t *one;
    so_svc_ctx_t *ctx;
    so_jw_t *w;
    const char *text;
    apr_size_t len;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    one = apr_array_make(req->pool, 1, sizeof(so_order_t *));
    APR_ARRAY_PUSH(one, so_order_t *) = o;
    ctx = so_api_svc_ctx(req);
    if ((rv = so_order_view_prepare(ctx, one)) != APR_SUCCESS) {
        return rv;
    }
    w = so_jw_make(req->pool, 4096);
    so_order_view_write(w, ctx, o);
    text = so_jw_text(w, &len);
    return so_api_ok_raw(req, text, len);
}

/* ------------------------------------------------------------------------- */
/* PUT /ssl/orders/{id} (and POST)                                             */

/* Read the body, authorize (the caller's order); the service checks the fields against
 * the order's status, applies and writes (so_svc_order_update). */
static apr_status_t update_order(so_req_t *req)
{
    so_order_in_t in;
    so_order_t *o;
    apr_array_header_t *keys;
    const char *jkey;
    json_t *val;
    so_result_t res;
    apr_status_t rv;

    if (so_order_in_read(req, &in) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (so_order_in_id_check(req, &in, o->id) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    keys = apr_array_make(req->pool, 8, sizeof(const char *));
    json_object_foreach(req->json, jkey, val)
    {
        APR_ARRAY_PUSH(keys, const char *) = jkey;
    }
    so_result_init(&res);
    rv = so_svc_order_update(so_api_svc_ctx(req), o->team_id, o->id, &in, keys, &res);
    so_api_svc_answer(req, &res);
    /* validation starts from the outbox ("provisioning_requested"), after the request */
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, o->id);
}

/* ------------------------------------------------------------------------- */
/* approver e-mail, cancel, OTP, events                                        */

/* The order of the path for the caller, then the service (approver address or the
 * approval mail again) */
static apr_status_t approver_change(so_req_t *req, const char *email)
{
    so_order_t *o;
    so_result_t res;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    so_result_init(&res);
    rv = so_svc_order_approver(so_api_svc_ctx(req), o->team_id, o->id, email, &res);
    so_api_svc_answer(req, &res);
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, o->id);
}

static apr_status_t approver_email_update(so_req_t *req)
{
    const char *email = NULL;
    apr_int64_t id = 0;
    int has_id = 0;
    if (so_in_str(req, req->json, "approver_email", 1, 254, &email, NULL)
        || so_in_int(req, req->json, "id", 0, 0, 0x7fffffff, &id, &has_id)) {
        return APR_EINVAL;
    }
    if (has_id && (!so_req_param(req, "id") || id != apr_atoi64(so_req_param(req, "id")))) {
        return so_api_error(req, SO_E_INVALID, "the body's id is not the order of the path", "");
    }
    return approver_change(req, so_str_lower(req->pool, so_str_trim(req->pool, email)));
}

static apr_status_t approver_email_resend(so_req_t *req)
{
    return approver_change(req, NULL);
}

static apr_status_t cancel_order(so_req_t *req)
{
    so_order_t *o;
    so_result_t res;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    so_result_init(&res);
    rv = so_svc_order_cancel(so_api_svc_ctx(req), o->team_id, o->id, &res);
    so_api_svc_answer(req, &res);
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, o->id);
}

static apr_status_t create_otp(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    const char *token, *base;
    apr_int64_t expires;
    apr_status_t rv;

    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_otp_create(db, req->pool, o->team_id, o->id, req->now, OTP_TTL, &token, &expires);
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "otp_token_created",
                                json_pack("{s:s}", "expire_at", so_time_fmt(req->pool, expires)));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    base = req->cfg->public_url && *req->cfg->public_url ? req->cfg->public_url : "";
    return so_api_ok(req, json_pack("{s:s,s:s,s:s}", "uri",
                                    apr_psprintf(req->pool, "%s/otp.html#order=%" APR_INT64_T_FMT
                                                 "&token=%s", base, o->id, token), "token",
                                    token, "expire_at", so_time_fmt(req->pool, expires)));
}

static apr_status_t list_events(so_req_t *req)
{
    so_order_t *o;
    apr_int64_t limit, offset, total;
    apr_array_header_t *events;
    json_t *results;
    apr_status_t rv;
    int i;

    if (so_q_int(req, "limit", 100, 1, 1000, &limit) || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)) {
        return APR_EINVAL;
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_order_events(so_req_db(req), req->pool, o->team_id, o->id, (int)limit,
                               (int)offset, &events, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < events->nelts; i++) {
        so_order_event_t *e = &APR_ARRAY_IDX(events, i, so_order_event_t);
        json_t *detail = json_loads(e->detail, 0, NULL);
        json_array_append_new(results,
                              json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)e->id, "kind",
                                        e->kind, "actor", e->actor, "created_at",
                                        so_json_time(req->pool, e->created_at), "detail",
                                        detail ? detail : json_object()));
    }
    return so_api_ok_list(req, results, total);
}

const so_route_t so_routes_orders[] = {
    {"GET", "/ssl/orders", so_api_orders_list, SO_ROLE_VIEWER, SO_RF_LISTVER},
    {"POST", "/ssl/orders", create_order, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}", get_order, SO_ROLE_VIEWER, SO_RF_OTP},
    {"PUT", "/ssl/orders/{id}", update_order, SO_ROLE_MEMBER, SO_RF_OTP},
    {"POST", "/ssl/orders/{id}", update_order, SO_ROLE_MEMBER, SO_RF_OTP},
    {"PUT", "/ssl/orders/{id}/approver-email", approver_email_update, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/approver-email/resend", approver_email_resend, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/cancel", cancel_order, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/otp-tokens", create_otp, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}/events", list_events, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/orders/{id}/reissue", so_api_order_reissue, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/renew", so_api_order_renew, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
