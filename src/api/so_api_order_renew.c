/* mod_sslorders: SSL orders: reissue, renew, organization validation (see so_api_orders.c). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
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
                                 refused[i]);
        }
    }
    if (use_prev && in.has_csr) {
        return so_api_error(req, SO_E_INVALID, "give either csr or use_previous_csr", "");
    }
    if (!use_prev && (!in.has_csr || !*in.csr)) {
        return so_api_error(req, SO_E_INVALID,
                            "a reissue needs a new csr (or use_previous_csr: true)", "");
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
                                 "Only an active order can be reissued (this one is %s)", o->status);
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
        return so_api_error(req, SO_E_CONCURRENT, "The order kept changing; retry", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_iss_reissue(so_api_svc_ctx(req), o)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok_id(req, o->id);
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
                                                     "is %s)", o->status);
    }
    if (o->order_ends_at - req->now > 30 * 86400) {
        return so_api_errorf(req, SO_E_RENEW_WINDOW,
                             "The order ends on %s: it can be renewed from %s (30 days before)",
                             so_time_fmt(req->pool, o->order_ends_at),
                             so_time_fmt(req->pool, o->order_ends_at - 30 * 86400));
    }
    {
        /* a renewal bought in the cart renews it already */
        int code = 0;
        const char *why = NULL;
        if ((rv = so_api_renewal_check(req, o->id, &code, &why)) != APR_SUCCESS) {
            return rv;
        }
        if (code) {
            return so_api_error(req, code, why, "");
        }
    }
    {
        so_result_t res;
        so_result_init(&res);
        rv = so_iss_renew_charge(so_api_svc_ctx(req), o, 0, &res);
        if (rv == SO_ENOFUNDS) {
            return so_api_error(req, SO_E_FUNDS, "The balance does not cover the renewal", "");
        }
        if (rv != APR_SUCCESS) {
            return so_api_svc_answer(req, &res);
        }
    }
    return so_api_ok_id(req, o->id);
}

