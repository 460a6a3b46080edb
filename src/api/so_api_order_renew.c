/* mod_sslorders: SSL orders: reissue, renew, organization validation (see so_api_orders.c). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_issuance.h"
#include "../core/so_metrics.h"
#include "so_outbox.h"
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

/* ------------------------------------------------------------------------- */
/* reissue, renew, organization validation                                     */

apr_status_t so_api_order_reissue(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    so_order_in_t in;
    so_order_t *o = NULL;
    so_product_t *prod;
    int use_prev = 0, attempt;
    const char *unique;
    apr_status_t rv = APR_SUCCESS;
    static const char *const refused[] = {"product_id", "period", "domain_amount",
                                          "wildcard_domain_amount", "start_provision", NULL};
    int i;

    if (so_order_in_read(req, &in) != APR_SUCCESS
        || so_in_bool(req, req->json, "use_previous_csr", 0, &use_prev, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    for (i = 0; refused[i]; i++) {
        if (json_object_get(req->json, refused[i])) {
            return so_api_errorf(req, SO_E_STATUS_FIELD, "%s cannot be changed by a reissue",
                                 refused[i]),
                   APR_EINVAL;
        }
    }
    if (use_prev && in.has_csr) {
        return so_api_error(req, SO_E_INVALID, "give either csr or use_previous_csr", ""), APR_EINVAL;
    }
    if (!use_prev && (!in.has_csr || !*in.csr)) {
        return so_api_error(req, SO_E_INVALID,
                            "a reissue needs a new csr (or use_previous_csr: true)", ""),
               APR_EINVAL;
    }
    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_api_write_backoff(attempt);
        if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
            return rv;
        }
        if (so_order_in_id_check(req, &in, o->id) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (strcmp(o->status, "ACT")) {
            return so_api_errorf(req, SO_E_STATUS,
                                 "Only an active order can be reissued (this one is %s)", o->status),
                   APR_EINVAL;
        }
        if ((rv = so_order_product_load(req, o->product_id, &prod)) != APR_SUCCESS) {
            return rv;
        }
        if (so_order_in_apply(req, db, prod, o, &in, 0) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (so_dcv_unique(&unique, p) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        o->dcv_unique = unique;
        o->updated_at = req->now;
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        rv = so_store_order_update(db, p, o, 1);
        if (rv == APR_SUCCESS) {
            rv = so_api_order_event(req, o, "reissue_requested",
                                    json_pack("{s:b,s:i}", "new_csr", !use_prev, "names",
                                              o->hosts->nelts));
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_api_error(req, SO_E_CONCURRENT, "The order kept changing; retry", ""), APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_iss_reissue(req, o)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok_id(req, o->id);
}

apr_status_t so_api_order_renew_charge(so_req_t *req, so_order_t *o, int automatic)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    so_product_t *prod;
    const so_price_t *pr;
    apr_int64_t amount, after, until;
    apr_status_t rv;

    rv = so_store_product_get(db, p, o->product_id, &prod);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !prod->active)) {
        return so_api_errorf(req, SO_E_PRODUCT, "%s is no longer sold", o->product_name), APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!(pr = so_product_price(prod, o->period, o->currency))) {
        return so_api_errorf(req, SO_E_CURRENCY, "%s has no %d-year price in %s", prod->name,
                             o->period, o->currency),
               APR_EINVAL;
    }
    amount = so_rules_price(prod, pr, o->domain_amount, o->wildcard_domain_amount);
    until = so_iss_add_years(o->order_ends_at > 0 ? o->order_ends_at : req->now, o->period);
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_ledger_add(db, p, o->team_id, -amount, "charge", o->id,
                             apr_psprintf(p, "renewal of order %" APR_INT64_T_FMT ", %d year%s%s",
                                          o->id, o->period, o->period > 1 ? "s" : "",
                                          automatic ? " (automatic)" : ""),
                             req->auth ? req->auth->user_id : 0, req->now, &after);
    if (rv == APR_SUCCESS) {
        o->order_ends_at = until;
        o->updated_at = req->now;
        rv = so_store_order_update(db, p, o, 0);
    }
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "renewed",
                                json_pack("{s:s,s:s,s:s,s:b}", "price", so_money_fmt(p, amount),
                                          "currency", o->currency, "order_ends_at",
                                          so_time_fmt(p, until), "automatic", automatic));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return so_iss_renewed(req, o);
}

apr_status_t so_api_order_renew(so_req_t *req)
{
    so_order_t *o;
    so_order_in_t in;
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
    if (strcmp(o->status, "ACT") || o->order_ends_at <= req->now) {
        return so_api_errorf(req, SO_E_RENEW_WINDOW, "Only an active order can be renewed (this one "
                                                     "is %s)", o->status),
               APR_EINVAL;
    }
    if (o->order_ends_at - req->now > 30 * 86400) {
        return so_api_errorf(req, SO_E_RENEW_WINDOW,
                             "The order ends on %s: it can be renewed from %s (30 days before)",
                             so_time_fmt(req->pool, o->order_ends_at),
                             so_time_fmt(req->pool, o->order_ends_at - 30 * 86400)),
               APR_EINVAL;
    }
    {
        /* a renewal bought in the cart renews it already */
        int code = 0;
        const char *why = NULL;
        if ((rv = so_api_renewal_check(req, o->id, &code, &why)) != APR_SUCCESS) {
            return rv;
        }
        if (code) {
            return so_api_error(req, code, why, ""), APR_EINVAL;
        }
    }
    rv = so_api_order_renew_charge(req, o, 0);
    if (rv == SO_ENOFUNDS) {
        return so_api_error(req, SO_E_FUNDS, "The balance does not cover the renewal", ""),
               APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok_id(req, o->id);
}

apr_status_t so_api_org_decide(so_req_t *req, apr_int64_t order_id, int approve, const char *reason)
{
    so_db_t *db = so_req_db(req);
    apr_int64_t team_id, after;
    so_order_t *o;
    int issued = 0;
    apr_status_t rv;

    rv = so_store_order_team(db, req->pool, order_id, &team_id);
    if (rv == APR_SUCCESS) {
        rv = so_store_order_get(db, req->pool, team_id, order_id, &o);
    }
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, order_id), APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!strcmp(o->validation_method, "domain")) {
        return so_api_error(req, SO_E_STATUS, "A DV order has no organization validation", ""),
               APR_EINVAL;
    }
    if (strcmp(o->status, "REQ") && strcmp(o->status, "PAI") && strcmp(o->status, "ACT")) {
        return so_api_errorf(req, SO_E_STATUS, "The order is %s", o->status), APR_EINVAL;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_org_set(db, req->pool, o->id, approve ? "approved" : "rejected", reason, req->now);
    if (rv == APR_SUCCESS && !approve && !strcmp(o->status, "REQ")) {
        /* the organization could not be validated: the order fails and is refunded */
        o->status = "FAI";
        o->cancelled_at = o->updated_at = req->now;
        rv = so_store_order_update(db, req->pool, o, 0);
        if (rv == APR_SUCCESS && o->price > 0) {
            rv = so_store_ledger_add(db, req->pool, o->team_id, o->price, "refund", o->id,
                                     apr_psprintf(req->pool, "refund of order %" APR_INT64_T_FMT
                                                             ": organization not validated",
                                                  o->id),
                                     req->auth ? req->auth->user_id : 0, req->now, &after);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, approve ? "organization_approved" : "organization_rejected",
                                json_pack("{s:s}", "reason", reason ? reason : ""));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    if (approve && (rv = so_iss_issue_claimed(req, o, &issued)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)o->id, "organization",
                                    approve ? "approved" : "rejected", "status", o->status,
                                    "issued", issued));
}
