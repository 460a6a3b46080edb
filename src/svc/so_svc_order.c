/* mod_sslorders: new orders as services (see so_svc_order.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_svc_order.h"
#include "so_issuance.h"
#include "so_order_rules.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"

apr_status_t so_svc_order_product(so_svc_ctx_t *ctx, apr_int64_t product_id, apr_int64_t period,
                                  const char *currency, so_product_t **prod,
                                  const so_price_t **price, so_result_t *res)
{
    apr_pool_t *p = ctx->pool;
    apr_status_t rv = so_store_product_get(ctx->db, p, product_id, prod);

    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !(*prod)->active)) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_PRODUCT,
                              "No product %" APR_INT64_T_FMT " on sale", product_id);
    }
    if (rv != APR_SUCCESS) {
        return res->status = rv;
    }
    if (period < 1 || period > (*prod)->max_period
        || (!so_product_price(*prod, (int)period, (*prod)->base_currency)
            && !so_product_price(*prod, (int)period, currency))) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_PERIOD,
                              "%s is sold for 1 to %d years, not %" APR_INT64_T_FMT,
                              (*prod)->name, (*prod)->max_period, period);
    }
    *price = so_product_price(*prod, (int)period, currency);
    if (!*price) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_CURRENCY, "%s has no price in %s",
                              (*prod)->name, currency);
    }
    return APR_SUCCESS;
}

apr_status_t so_svc_order_new(so_svc_ctx_t *ctx, const so_product_t *prod,
                              const so_price_t *price, int period, so_order_t **out)
{
    apr_pool_t *p = ctx->pool;
    so_order_t *o = apr_pcalloc(p, sizeof(*o));
    const char *unique;

    o->team_id = ctx->actor.team_id;
    o->product_id = prod->id;
    o->product_name = prod->name;
    o->brand_name = prod->brand_name;
    o->validation_method = prod->validation_method;
    o->status = "PAI";
    o->period = period;
    o->common_name = o->csr = o->organization_unit = o->software = "";
    o->organization_handle = o->technical_handle = o->administrative_handle = o->billing_handle = "";
    o->approver_email = "";
    o->signature_hash_algorithm = "sha2";
    o->hosts = apr_array_make(p, 2, sizeof(so_order_host_t));
    o->currency = price->currency;
    o->order_date = o->updated_at = ctx->now;
    o->created_by = ctx->actor.user_id;
    if (so_dcv_unique(&unique, p) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    o->dcv_unique = unique;
    *out = o;
    return APR_SUCCESS;
}

apr_status_t so_svc_order_price(so_svc_ctx_t *ctx, const so_product_t *prod,
                                const so_price_t *price, so_order_t *o,
                                const apr_array_header_t *host_names, int domain_amount,
                                int wildcard_amount, so_result_t *res)
{
    apr_pool_t *p = ctx->pool;
    so_names_t *names = NULL;
    const char *why = NULL;
    int dom, wild, code;

    if (*o->csr) {
        so_csr_t *c;
        if (so_csr_parse(p, o->csr, &c, &why) != APR_SUCCESS) {
            return so_result_fail(res, p, APR_EINVAL, SO_E_CSR, "%s", why ? why : "");
        }
        if (so_rules_names(p, prod, c->common_name, c->sans, host_names, &names, &code, &why)
            != APR_SUCCESS) {
            return so_result_fail(res, p, APR_EINVAL, code, "%s", why ? why : "");
        }
    }
    if (so_rules_amounts(p, prod, names, domain_amount, wildcard_amount, &dom, &wild, &why)
        != APR_SUCCESS) {
        return so_result_fail(res, p, APR_EINVAL, SO_E_NAMES, "%s", why ? why : "");
    }
    o->domain_amount = dom;
    o->wildcard_domain_amount = wild;
    o->price = so_rules_price(prod, price, dom, wild);
    return APR_SUCCESS;
}

static const char *also(apr_pool_t *p, const char *what, const char *more)
{
    return what ? apr_pstrcat(p, what, ", ", more, NULL) : more;
}

const char *so_svc_order_missing(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o)
{
    apr_pool_t *p = ctx->pool;
    const char *what = NULL;
    int i;

    if (!*o->csr) {
        return "csr";
    }
    if (strcmp(prod->validation_method, "domain") && !*o->organization_handle) {
        what = "organization_handle (an OV/EV certificate names the organization)";
    }
    else if (strcmp(prod->validation_method, "domain")) {
        so_order_t as_sold = *o;
        const char *why = NULL;
        as_sold.validation_method = prod->validation_method;
        if (so_iss_org_check(ctx, &as_sold, &why) != APR_SUCCESS) {
            what = apr_psprintf(p, "an organization handle whose data fits a certificate (%s)",
                                why ? why : "?");
        }
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        if (!*h->method && *o->approver_email) {
            h->method = "email";
        }
        if (!*h->method) {
            what = also(p, what, apr_psprintf(p, "a domain_validation_methods entry for %s",
                                              h->host_name));
        }
        else if (!strcmp(h->method, "email")) {
            if (!*o->approver_email) {
                what = also(p, what, apr_psprintf(p, "approver_email (%s uses email validation)",
                                                  h->host_name));
            }
            else if (!so_approver_email_ok(p, h->host_name, o->approver_email)) {
                what = also(p, what, apr_psprintf(p, "an approver of %s's domain (%s cannot "
                                                     "approve it; use dns or http)",
                                                  h->host_name, o->approver_email));
            }
        }
    }
    return what;
}

apr_status_t so_svc_order_store(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                json_t *extra)
{
    apr_pool_t *p = ctx->pool;
    json_t *detail;
    apr_status_t rv = so_store_order_insert(ctx->db, p, o);

    if (rv != APR_SUCCESS) {
        if (extra) {
            json_decref(extra);
        }
        return rv;
    }
    detail = json_pack("{s:I,s:s,s:i,s:s,s:s,s:s}", "product_id", (json_int_t)prod->id, "product",
                       prod->name, "period", o->period, "price", so_money_fmt(p, o->price),
                       "currency", o->currency, "status", o->status);
    if (extra) {
        json_object_update(detail, extra);
        json_decref(extra);
    }
    return so_svc_order_event(ctx, o, "created", detail);
}

apr_status_t so_svc_order_charge(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o)
{
    apr_pool_t *p = ctx->pool;
    apr_int64_t balance_after;
    apr_status_t rv = so_store_ledger_add(
        ctx->db, p, o->team_id, -o->price, "charge", o->id,
        apr_psprintf(p, "order %" APR_INT64_T_FMT ": %s, %d year%s", o->id, prod->name, o->period,
                     o->period > 1 ? "s" : ""),
        ctx->actor.user_id, ctx->now, &balance_after);

    if (rv == APR_SUCCESS && o->price > 0 && balance_after < o->price) {
        /* the balance no longer covers this purchase again: team.balance_low (outbox) */
        rv = so_svc_team_event(ctx, o->team_id, "team.balance_low",
                               json_pack("{s:I,s:s,s:s,s:I,s:s}", "team_id",
                                         (json_int_t)o->team_id, "balance",
                                         so_money_fmt(p, balance_after), "currency", o->currency,
                                         "order_id", (json_int_t)o->id, "price",
                                         so_money_fmt(p, o->price)));
    }
    return rv;
}
