/* mod_sslorders: new orders as services (see so_svc_order.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_svc_order.h"
#include "so_issuance.h"
#include "so_order_rules.h"
#include "so_svc_br.h"
#include "../api/so_br.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_renewal.h"

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
                                apr_int64_t renewal_of, json_t *extra)
{
    apr_pool_t *p = ctx->pool;
    json_t *detail;
    apr_status_t rv = so_store_order_insert(ctx->db, p, o);

    if (rv == APR_SUCCESS && renewal_of > 0) {
        rv = so_store_renewal_add(ctx->db, p, o->team_id, o->id, renewal_of, ctx->now);
    }
    if (rv != APR_SUCCESS) {
        if (extra) {
            json_decref(extra);
        }
        return rv;
    }
    detail = json_pack("{s:I,s:s,s:i,s:s,s:s,s:s}", "product_id", (json_int_t)prod->id, "product",
                       prod->name, "period", o->period, "price", so_money_fmt(p, o->price),
                       "currency", o->currency, "status", o->status);
    if (renewal_of > 0) {
        json_object_set_new(detail, "renewal_of", json_integer(renewal_of));
    }
    if (extra) {
        json_object_update(detail, extra);
        json_decref(extra);
    }
    return so_svc_order_event(ctx, o, "created", detail);
}

static const char *charge_note(apr_pool_t *p, const so_product_t *prod, const so_order_t *o)
{
    return apr_psprintf(p, "order %" APR_INT64_T_FMT ": %s, %d year%s", o->id, prod->name,
                        o->period, o->period > 1 ? "s" : "");
}

apr_status_t so_svc_order_charge(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o)
{
    apr_pool_t *p = ctx->pool;
    apr_int64_t balance_after;
    apr_status_t rv = so_store_ledger_add(ctx->db, p, o->team_id, -o->price, "charge", o->id,
                                          charge_note(p, prod, o), ctx->actor.user_id, ctx->now,
                                          &balance_after);

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

/* The charge as the transaction's last statement, committed in its round trip (PostgreSQL:
 * the team's balance row is locked for the statement, not for a round trip to httpd and
 * back), when the balance still covers this price afterwards. Otherwise (SO_EDBREFUSED,
 * rolled back) team.balance_low is due, or the balance does not cover it: the caller does
 * the transaction again with so_svc_order_charge. APR_ENOTIMPL (SQLite): nothing done. */
static apr_status_t charge_commit(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o)
{
    return so_store_charge_commit(ctx->db, ctx->pool, o->team_id, o->price, o->price, "charge",
                                  o->id, charge_note(ctx->pool, prod, o), ctx->actor.user_id,
                                  ctx->now);
}

/* ------------------------------------------------------------------------- */
/* the order's input (create, update, reissue)                                 */

static apr_status_t err(so_result_t *res, apr_pool_t *p, int code, const char *desc,
                        const char *data)
{
    return so_result_fail_data(res, p, APR_EINVAL, code, data, "%s", desc);
}

apr_status_t so_svc_email_check(so_svc_ctx_t *ctx, so_result_t *res, const char *host)
{
    switch (so_br_email_phase(ctx->now)) {
    case 2:
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_EMAIL_DCV_RETIRED,
                              "e-mail validation of %s is not allowed from 2028-03-15 (Baseline "
                              "Requirements 3.2.2.4): use dns, dns-persist, http or https",
                              host);
    case 1:
        if (!res->warnings || json_array_size(res->warnings) == 0) {
            so_result_warn(res, ctx->pool, SO_E_EMAIL_DCV_RETIRED,
                           "E-mail domain validation is deprecated since 2026-03-15 and refused "
                           "from 2028-03-15 (Baseline Requirements): prefer dns, dns-persist, "
                           "http or https",
                           host);
        }
        return APR_SUCCESS;
    default:
        return APR_SUCCESS;
    }
}

static apr_status_t check_handle(so_svc_ctx_t *ctx, const char *field, const char *handle,
                                 so_result_t *res)
{
    so_customer_t *c;
    apr_status_t rv;
    if (!handle || !*handle) {
        return APR_SUCCESS;
    }
    rv = so_store_customer_get(ctx->db, ctx->pool, ctx->actor.team_id, handle, &c);
    if (rv == APR_ENOENT) {
        return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_HANDLE,
                              "%s: no contact handle %s in this team", field, handle);
    }
    return rv;
}

/* Long: one field after the other, in the order the API reports errors in; each block
 * is a few lines that depend on the ones before (names before DCV, CSR before names). */
static apr_status_t apply(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                const so_svc_order_in_t *in, int creating, so_result_t *res)
{
    apr_pool_t *p = ctx->pool;
    so_csr_t *c = NULL;
    const char *why = NULL;
    apr_status_t rv;
    int i, j, code;

    if (in->has_csr && *in->csr) {
        if (so_csr_parse(p, in->csr, &c, &why) != APR_SUCCESS) {
            return err(res, p, SO_E_CSR, "The CSR is not valid", why);
        }
        if (so_csr_check_key(c, &why) != APR_SUCCESS) {
            return err(res, p, SO_E_CSR_KEY, "The CSR's key is not accepted", why);
        }
        if ((rv = so_svc_key_blocked(ctx, c, &why)) == APR_EINVAL) {
            return err(res, p, SO_E_CSR_KEY, "The CSR's key is not accepted", why);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        o->csr = c->pem;
        o->csr_md5 = c->md5;
        o->csr_sha1 = c->sha1;
        o->csr_sha256 = c->sha256;
        o->common_name = c->common_name;
        o->organization_unit = c->unit;
    }
    else if (in->has_csr && !*in->csr) {
        if (!creating) {
            return err(res, p, SO_E_CSR, "The CSR cannot be removed", "");
        }
    }
    else if (*o->csr) {
        if (so_csr_parse(p, o->csr, &c, &why) != APR_SUCCESS) {
            c = NULL;
        }
    }
    if ((in->has_csr && c) || in->host_names) {
        so_names_t *names;
        apr_array_header_t *old = o->hosts;
        if (!c) {
            return err(res, p, SO_E_NAMES, "host_names needs the order's CSR first", "");
        }
        if (so_rules_names(p, prod, c->common_name, c->sans, in->host_names, &names, &code, &why)
            != APR_SUCCESS) {
            return err(res, p, code, "The names do not fit the product", why);
        }
        if (!creating) {
            int d, w;
            if (so_rules_amounts(p, prod, names, o->domain_amount, o->wildcard_domain_amount, &d, &w,
                                 &why)
                != APR_SUCCESS) {
                return err(res, p, SO_E_NAMES, "The names do not fit what was paid for", why);
            }
        }
        o->hosts = apr_array_make(p, names->names->nelts, sizeof(so_order_host_t));
        for (i = 0; i < names->names->nelts; i++) {
            so_order_host_t *h = apr_array_push(o->hosts);
            h->host_name = APR_ARRAY_IDX(names->names, i, const char *);
            h->method = "";
            for (j = 0; old && j < old->nelts; j++) {
                so_order_host_t *oh = &APR_ARRAY_IDX(old, j, so_order_host_t);
                if (!strcmp(oh->host_name, h->host_name)) {
                    h->method = oh->method;
                }
            }
        }
    }
    if (in->dcv) {
        for (i = 0; i < in->dcv->nelts; i++) {
            so_order_host_t *d = &APR_ARRAY_IDX(in->dcv, i, so_order_host_t);
            int found = 0;
            for (j = 0; j < o->hosts->nelts; j++) {
                so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, j, so_order_host_t);
                if (!strcmp(h->host_name, d->host_name)) {
                    if (so_hostname_is_wildcard(h->host_name) && !strncmp(d->method, "http", 4)) {
                        return so_result_fail(res, p, APR_EINVAL, SO_E_DCV_METHOD,
                                             "%s is a wildcard: it cannot be validated with %s; use "
                                             "dns or email",
                                             h->host_name, d->method);
                    }
                    h->method = d->method;
                    found = 1;
                }
            }
            if (!found) {
                return so_result_fail(res, p, APR_EINVAL, SO_E_DCV_METHOD,
                                     "domain_validation_methods names %s, which is not a name of the "
                                     "order",
                                     d->host_name);
            }
        }
    }
    if (in->has_org) {
        if ((rv = check_handle(ctx, "organization_handle", in->organization_handle, res)) != APR_SUCCESS) {
            return rv;
        }
        o->organization_handle = in->organization_handle;
    }
    if (in->has_tech) {
        if ((rv = check_handle(ctx, "technical_handle", in->technical_handle, res)) != APR_SUCCESS) {
            return rv;
        }
        o->technical_handle = in->technical_handle;
    }
    if (in->has_admin) {
        if ((rv = check_handle(ctx, "administrative_handle", in->administrative_handle, res))
            != APR_SUCCESS) {
            return rv;
        }
        o->administrative_handle = in->administrative_handle;
    }
    if (in->has_billing) {
        if ((rv = check_handle(ctx, "billing_handle", in->billing_handle, res)) != APR_SUCCESS) {
            return rv;
        }
        o->billing_handle = in->billing_handle;
    }
    if (in->has_approver) {
        if (*in->approver_email) {
            if (!*o->common_name) {
                return err(res, p, SO_E_APPROVER,
                                    "approver_email needs the order's names: send the CSR too", "");
            }
            if (so_svc_email_check(ctx, res, o->common_name) != APR_SUCCESS) {
                return APR_EINVAL;
            }
            if (!so_approver_email_ok(p, o->common_name, in->approver_email)) {
                return so_result_fail(res, p, APR_EINVAL, SO_E_APPROVER,
                                     "%s is not an approver address of %s (see "
                                     "/ssl/approver-emails)",
                                     in->approver_email, o->common_name);
            }
        }
        o->approver_email = in->approver_email;
    }
    else if (c && *o->approver_email && !so_approver_email_ok(p, o->common_name, o->approver_email)) {
        /* a new CSR for another domain: the old approver no longer fits */
        o->approver_email = "";
    }
    if (in->has_autorenew) {
        o->autorenew = !strcmp(in->autorenew, "on");
    }
    if (in->has_sha) {
        o->signature_hash_algorithm = in->sha;
        if (!strcmp(in->sha, "sha1")) {
            so_result_warn(res, p, 1, "SHA-1 is deprecated: the certificate is signed with SHA-256", "");
        }
    }
    if (in->has_software) {
        o->software = in->software;
    }
    if (in->has_dns_auto) {
        o->enable_dns_automation = in->dns_auto;
    }
    return APR_SUCCESS;
}

apr_status_t so_svc_order_apply(so_svc_ctx_t *ctx, const so_product_t *prod, so_order_t *o,
                                const so_svc_order_in_t *in, int creating, so_result_t *res)
{
    apr_status_t rv = apply(ctx, prod, o, in, creating, res);
    if (rv != APR_SUCCESS && res->status == APR_SUCCESS) {
        res->status = rv; /* the database's */
    }
    return rv;
}

/* ------------------------------------------------------------------------- */
/* a new order (POST /ssl/orders)                                              */

/* the transaction's end when the key was used before: its first answer, or refused */
static apr_status_t idem_replay(so_svc_ctx_t *ctx, apr_int64_t team_id, so_svc_idem_t *idem,
                                so_result_t *res)
{
    const char *hash, *response;
    int status;
    apr_status_t rv = so_store_idem_get(ctx->db, ctx->pool, team_id, idem->key, &hash, &status,
                                        &response);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(hash, idem->hash)) {
        return err(res, ctx->pool, SO_E_IDEMPOTENCY,
                   "This Idempotency-Key was used for another request", idem->key);
    }
    idem->replayed = 1;
    idem->response = response;
    return APR_SUCCESS;
}

/* the order checked and priced, nothing written yet */
static apr_status_t create_prepare(so_svc_ctx_t *ctx, const so_svc_order_in_t *in,
                                   const char *currency, so_product_t **prod, so_order_t **out,
                                   so_result_t *res)
{
    const so_price_t *price = NULL;
    so_order_t *o = NULL;
    apr_status_t rv;

    if ((rv = so_svc_order_product(ctx, in->product_id, in->period, currency, prod, &price, res))
            != APR_SUCCESS
        || (rv = so_svc_order_new(ctx, *prod, price, (int)in->period, &o)) != APR_SUCCESS
        || (rv = so_svc_order_apply(ctx, *prod, o, in, 1, res)) != APR_SUCCESS) {
        return rv;
    }
    if (so_svc_order_price(ctx, *prod, price, o, in->host_names,
                           in->has_domain_amount ? (int)in->domain_amount : -1,
                           in->has_wildcard_amount ? (int)in->wildcard_amount : -1, res)
        != APR_SUCCESS) {
        return err(res, ctx->pool, res->code, "The names do not fit the product", res->detail);
    }
    if (in->has_start && in->start) {
        const char *what = so_svc_order_missing(ctx, *prod, o);
        if (what) {
            return so_result_fail(res, ctx->pool, APR_EINVAL, SO_E_INCOMPLETE,
                                  "The order cannot be sent for validation: it lacks %s", what);
        }
        o->status = "REQ";
    }
    *out = o;
    return APR_SUCCESS;
}

static apr_status_t create(so_svc_ctx_t *ctx, const so_svc_order_in_t *in, const char *currency,
                           so_svc_idem_t *idem, so_order_t **out, so_result_t *res)
{
    so_db_t *db = ctx->db;
    apr_pool_t *p = ctx->pool;
    so_product_t *prod = NULL;
    so_order_t *o = NULL;
    apr_status_t rv;
    /* the charge and the COMMIT in one round trip (PostgreSQL), unless the idempotency key's
     * answer is written after the charge */
    int fast = !idem;

    if ((rv = create_prepare(ctx, in, currency, &prod, &o, res)) != APR_SUCCESS) {
        return rv;
    }
again:
    /* one transaction: the idempotency key, the order, the charge, the events */
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    if (idem) {
        rv = so_store_idem_claim(db, p, o->team_id, idem->key, idem->hash, ctx->now);
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_store(ctx, prod, o, 0, NULL);
    }
    if (rv == APR_SUCCESS && !strcmp(o->status, "REQ")) {
        rv = so_svc_order_event(ctx, o, "provisioning_requested", NULL);
    }
    if (rv == APR_SUCCESS && fast) {
        fast = 0;
        rv = charge_commit(ctx, prod, o);
        if (rv == APR_SUCCESS) {
            goto created;
        }
        if (rv == SO_EDBREFUSED) {
            goto again; /* rolled back: the usual way says why, or writes balance_low */
        }
        if (rv != APR_ENOTIMPL) {
            return rv; /* rolled back */
        }
        rv = APR_SUCCESS; /* SQLite: the usual way */
    }
    if (rv == APR_SUCCESS) {
        /* last: the charge holds the team's balance until the commit */
        rv = so_svc_order_charge(ctx, prod, o);
    }
    if (rv == APR_SUCCESS && idem) {
        rv = so_store_idem_finish(db, p, o->team_id, idem->key, 200,
                                  apr_psprintf(p, "{\"id\":%" APR_INT64_T_FMT "}", o->id));
    }
    if (rv == SO_EDBUNIQUE && idem) {
        /* the key was used before: answer what the first request got */
        so_db_rollback(db);
        return idem_replay(ctx, o->team_id, idem, res);
    }
    if (rv == SO_ENOFUNDS) {
        so_team_t *t;
        so_db_rollback(db);
        if (so_store_team_by_id(db, p, o->team_id, &t) != APR_SUCCESS) {
            t = NULL;
        }
        return so_result_fail(res, p, APR_EINVAL, SO_E_FUNDS,
                              "The balance (%s %s) does not cover the price (%s %s)",
                              t ? so_money_fmt(p, t->balance) : "?", o->currency,
                              so_money_fmt(p, o->price), o->currency);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
created:
    so_log_debug(SO_LOG_MARK, "order %" APR_INT64_T_FMT " created for team %" APR_INT64_T_FMT,
                 o->id, o->team_id);
    *out = o;
    return APR_SUCCESS;
}

apr_status_t so_svc_order_create(so_svc_ctx_t *ctx, const so_svc_order_in_t *in,
                                 const char *currency, so_svc_idem_t *idem, so_order_t **out,
                                 so_result_t *res)
{
    apr_status_t rv;
    *out = NULL;
    rv = create(ctx, in, currency, idem && idem->key ? idem : NULL, out, res);
    if (rv != APR_SUCCESS && res->status == APR_SUCCESS) {
        res->status = rv; /* the database's */
    }
    return rv;
}
