/* mod_sslorders: changes of an order as services (see so_svc_order.h): update, cancel,
 * the approver address; each a version-checked write retried on a concurrent change. */
#include <string.h>

#include <apr_strings.h>

#include "so_svc_order.h"
#include "so_issuance.h"
#include "so_order_rules.h"
#include "../core/so_domain.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_cert.h"

/* ------------------------------------------------------------------------- */
/* changes of an order: cancel                                                 */

#define REFUND_DAYS 30

/* change() sets the order's new state, the event (kind NULL: none) and its detail;
 * non-success refuses (res set) and nothing is written */
typedef apr_status_t change_fn(so_svc_ctx_t *ctx, so_order_t *o, void *baton, json_t **detail,
                               const char **kind, so_result_t *res);

/* Load the order, run change() and write it with its event in one transaction, again
 * on a stale version; *out: the order as written */
static apr_status_t change_order(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                 change_fn *change, void *baton, so_order_t **out,
                                 so_result_t *res)
{
    so_db_t *db = ctx->db;
    so_order_t *o = NULL;
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        json_t *detail = NULL;
        const char *kind = NULL;
        so_write_backoff(attempt);
        rv = so_store_order_get(db, ctx->pool, team_id, order_id, &o);
        if (rv == APR_ENOENT) {
            return so_result_fail(res, ctx->pool, APR_ENOENT, SO_E_NOT_FOUND,
                                  "No order %" APR_INT64_T_FMT, order_id);
        }
        if (rv != APR_SUCCESS || (rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        rv = change(ctx, o, baton, &detail, &kind, res);
        if (rv != APR_SUCCESS) {
            so_db_rollback(db);
            if (detail) {
                json_decref(detail);
            }
            return rv;
        }
        o->updated_at = ctx->now;
        rv = so_store_order_update(db, ctx->pool, o, 0);
        if (rv == APR_SUCCESS && kind) {
            rv = so_svc_order_event(ctx, o, kind, detail);
            detail = NULL;
        }
        if (detail) {
            json_decref(detail);
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_CONCURRENT,
                              "The order kept changing; retry");
    }
    *out = o;
    return rv;
}

static apr_status_t change_cancel(so_svc_ctx_t *ctx, so_order_t *o, void *baton,
                                  json_t **detail, const char **kind, so_result_t *res)
{
    apr_pool_t *p = ctx->pool;
    apr_int64_t after;
    int refund = 0;
    apr_status_t rv;

    (void)baton;
    if (!strcmp(o->status, "PAI") || !strcmp(o->status, "REQ")) {
        refund = 1;
        *kind = "cancelled";
        o->status = "FAI";
    }
    else if (!strcmp(o->status, "ACT")) {
        refund = o->active_date > 0 && ctx->now - o->active_date <= REFUND_DAYS * 86400;
        *kind = "cancellation_requested";
        o->status = "REJ"; /* FAI once the certificate is revoked */
    }
    else {
        return so_result_fail(res, p, APR_EINVAL, SO_E_STATUS,
                              "An order in status %s cannot be cancelled", o->status);
    }
    o->cancelled_at = ctx->now;
    if (refund && o->price > 0) {
        rv = so_store_ledger_add(ctx->db, p, o->team_id, o->price, "refund", o->id,
                                 apr_psprintf(p, "refund of order %" APR_INT64_T_FMT, o->id),
                                 ctx->actor.user_id, ctx->now, &after);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *detail = json_pack("{s:b,s:s,s:s}", "refunded", refund, "amount",
                        refund ? so_money_fmt(p, o->price) : "0.00", "currency", o->currency);
    return APR_SUCCESS;
}

static apr_status_t change_failed(so_svc_ctx_t *ctx, so_order_t *o, void *baton,
                                  json_t **detail, const char **kind, so_result_t *res)
{
    (void)ctx;
    (void)baton;
    (void)res;
    if (strcmp(o->status, "REJ")) {
        *kind = NULL;
        return APR_SUCCESS;
    }
    o->status = "FAI";
    *kind = "cancelled";
    *detail = json_pack("{s:s}", "after", "revocation");
    return APR_SUCCESS;
}

static apr_status_t cancel(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                           so_result_t *res)
{
    so_order_t *o;
    apr_array_header_t *certs;
    apr_status_t rv = change_order(ctx, team_id, order_id, change_cancel, NULL, &o, res);
    int i;

    if (rv != APR_SUCCESS || so_store_order_get(ctx->db, ctx->pool, team_id, order_id, &o)
                                 != APR_SUCCESS
        || strcmp(o->status, "REJ")) {
        return rv;
    }
    /* an active certificate: revoke it (our CA does at once), then the order is FAI */
    if ((rv = so_store_certs_of_order(ctx->db, ctx->pool, o->team_id, o->id, &certs))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts; i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        if (c->revoked_at == 0 && c->not_after > ctx->now
            && (rv = so_iss_revoke(ctx, o, c, 5 /* cessationOfOperation */)) != APR_SUCCESS) {
            return rv;
        }
    }
    return change_order(ctx, team_id, order_id, change_failed, NULL, &o, res);
}

apr_status_t so_svc_order_cancel(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                 so_result_t *res)
{
    apr_status_t rv = cancel(ctx, team_id, order_id, res);
    if (rv != APR_SUCCESS && res->status == APR_SUCCESS) {
        res->status = rv; /* the database's */
    }
    return rv;
}

/* ------------------------------------------------------------------------- */
/* changes of an order: update                                                 */

/* the fields of the update that the order's status and the actor allow, as a JSON array
 * (the "updated" event's); NULL and res set when one is refused */
static json_t *update_fields(so_svc_ctx_t *ctx, const so_order_t *o,
                             const apr_array_header_t *keys, so_result_t *res)
{
    int token = ctx->actor.kind == SO_ACTOR_TOKEN, i;
    json_t *fields = json_array();

    for (i = 0; keys && i < keys->nelts; i++) {
        const char *jkey = APR_ARRAY_IDX(keys, i, const char *);
        /* managed_csr_id is the same change as a csr */
        const char *key = !strcmp(jkey, "managed_csr_id") ? "csr" : jkey;
        if (!strcmp(key, "id") || !so_rules_field_known(key)) {
            continue;
        }
        if (so_rules_field_product(key)) {
            json_decref(fields);
            so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS_FIELD,
                           "%s is tied to the product and cannot be changed", key);
            return NULL;
        }
        if (!so_rules_field_allowed(o->status, key)
            || (token && strcmp(key, "domain_validation_methods"))) {
            json_decref(fields);
            so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS_FIELD,
                           "%s cannot be changed while the order is %s%s", jkey, o->status,
                           token ? " (an order token may only change "
                                   "domain_validation_methods)"
                                 : "");
            return NULL;
        }
        json_array_append_new(fields, json_string(key));
    }
    return fields;
}

/* one attempt; SO_EDBSTALE: another writer came first */
static apr_status_t update_once(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                const so_svc_order_in_t *in, const apr_array_header_t *keys,
                                so_result_t *res)
{
    so_db_t *db = ctx->db;
    apr_pool_t *p = ctx->pool;
    so_order_t *o;
    so_product_t *prod;
    json_t *fields;
    int started = 0;
    apr_status_t rv = so_store_order_get(db, p, team_id, order_id, &o);

    if (rv == APR_ENOENT) {
        return so_result_fail(res, p, APR_ENOENT, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT,
                              order_id);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* the whole request is refused when one field is not allowed */
    if (!(fields = update_fields(ctx, o, keys, res))) {
        return APR_EINVAL;
    }
    rv = so_store_product_get(db, p, o->product_id, &prod);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !prod->active)) {
        rv = so_result_fail(res, p, APR_EINVAL, SO_E_PRODUCT,
                            "No product %" APR_INT64_T_FMT " on sale", o->product_id);
    }
    if (rv != APR_SUCCESS || (rv = so_svc_order_apply(ctx, prod, o, in, 0, res)) != APR_SUCCESS) {
        json_decref(fields);
        return rv;
    }
    if (in->has_start && in->start) {
        const char *what = so_svc_order_missing(ctx, prod, o);
        if (what) {
            json_decref(fields);
            return so_result_fail(res, p, APR_EINVAL, SO_E_INCOMPLETE,
                                  "The order cannot be sent for validation: it lacks %s", what);
        }
        o->status = "REQ";
        started = 1;
    }
    o->updated_at = ctx->now;
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        json_decref(fields);
        return rv;
    }
    rv = so_store_order_update(db, p, o, 1);
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "updated", json_pack("{s:o}", "fields", fields));
        fields = NULL;
    }
    if (rv == APR_SUCCESS && started) {
        rv = so_svc_order_event(ctx, o, "provisioning_requested", NULL);
    }
    if (fields) {
        json_decref(fields);
    }
    return so_db_end(db, rv);
}

apr_status_t so_svc_order_update(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                 const so_svc_order_in_t *in, const apr_array_header_t *keys,
                                 so_result_t *res)
{
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_write_backoff(attempt);
        /* again: this attempt's warnings only */
        res->warnings = NULL;
        rv = update_once(ctx, team_id, order_id, in, keys, res);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_CONCURRENT,
                              "The order kept changing; retry");
    }
    if (rv != APR_SUCCESS && res->status == APR_SUCCESS) {
        res->status = rv; /* the database's */
    }
    return rv;
}

/* ------------------------------------------------------------------------- */
/* changes of an order: the approver address and its mail                      */

static apr_status_t change_approver(so_svc_ctx_t *ctx, so_order_t *o, void *baton,
                                    json_t **detail, const char **kind, so_result_t *res)
{
    const char *email = baton;
    int i;
    if (strcmp(o->status, "REQ")) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS,
                              "The approver address can be changed only while the order is REQ "
                              "(it is %s)",
                              o->status);
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        if (!strcmp(h->method, "email") && !so_approver_email_ok(ctx->pool, h->host_name, email)) {
            return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_APPROVER,
                                  "%s is not an approver address of %s", email, h->host_name);
        }
    }
    if (!so_approver_email_ok(ctx->pool, o->common_name, email)) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_APPROVER,
                              "%s is not an approver address of %s (see /ssl/approver-emails)",
                              email, o->common_name);
    }
    *detail = json_pack("{s:s,s:s}", "from", o->approver_email, "to", email);
    *kind = "approver_email_changed";
    o->approver_email = email;
    return APR_SUCCESS;
}

static apr_status_t change_resend(so_svc_ctx_t *ctx, so_order_t *o, void *baton,
                                  json_t **detail, const char **kind, so_result_t *res)
{
    int i, email = 0;
    (void)baton;
    if (strcmp(o->status, "REQ")) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS,
                              "The approval e-mail is sent only while the order is REQ (it is %s)",
                              o->status);
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        email |= !strcmp(APR_ARRAY_IDX(o->hosts, i, so_order_host_t).method, "email");
    }
    if (!email || !*o->approver_email) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_STATUS,
                              "No name of this order is validated by e-mail");
    }
    *detail = json_pack("{s:s}", "to", o->approver_email);
    *kind = "approver_email_resend_requested";
    return APR_SUCCESS;
}

apr_status_t so_svc_order_approver(so_svc_ctx_t *ctx, apr_int64_t team_id, apr_int64_t order_id,
                                   const char *email, so_result_t *res)
{
    so_order_t *o;
    apr_status_t rv = change_order(ctx, team_id, order_id, email ? change_approver : change_resend,
                                   (void *)email, &o, res);
    if (rv == APR_SUCCESS
        && so_store_order_get(ctx->db, ctx->pool, team_id, order_id, &o) == APR_SUCCESS) {
        so_iss_send_approval(ctx, o, 1);
    }
    if (rv != APR_SUCCESS && res->status == APR_SUCCESS) {
        res->status = rv; /* the database's */
    }
    return rv;
}
