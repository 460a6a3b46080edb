/* mod_sslorders: quotes, the team's cart and its checkout, the balance, the
 * ledger, and the staff's credit to a team.
 *
 * Checkout creates every order of the cart the way POST /ssl/orders does
 * (the services of src/svc/so_svc_order.h: the same rules, price, charge, ledger
 * row and event) in one transaction: an invalid item or a balance that does not cover
 * the total creates nothing and charges nothing. */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_org.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_svc_order.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_cart.h"
#include "../store/so_store_order.h"
#include "../store/so_store_renewal.h"

#define MAX_ITEMS 100
#define MAX_QUANTITY 100
#define MAX_CREDIT 100000000000LL /* minor units */

static int renewable(const char *status)
{
    return !strcmp(status, "ACT") || !strcmp(status, "EXP");
}

/* ------------------------------------------------------------------------- */
/* pricing an item (the same functions as orders)                              */

typedef struct {
    so_cart_item_t *it;
    so_product_t *prod;
    const so_price_t *price;
    so_order_t *renewed; /* the order a renewal item renews */
    int dom, wild;
    apr_int64_t unit;    /* the price of one */
    int code;            /* != 0: the item cannot be bought; why says why */
    const char *why;
} priced_t;

static apr_status_t price_item(so_req_t *req, so_cart_item_t *it, priced_t *out)
{
    so_result_t res;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    out->it = it;
    so_result_init(&res);
    rv = so_svc_order_product(so_api_svc_ctx(req), it->product_id, it->period,
                              req->auth->team_currency, &out->prod, &out->price, &res);
    if (rv == APR_EINVAL) {
        out->code = res.code;
        out->why = res.detail;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (it->renewal_of) {
        rv = so_store_order_get(so_req_db(req), req->pool, it->team_id, it->renewal_of, &out->renewed);
        if (rv == APR_ENOENT) {
            out->code = SO_E_NOT_FOUND;
            out->why = apr_psprintf(req->pool, "No order %" APR_INT64_T_FMT, it->renewal_of);
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!renewable(out->renewed->status)) {
            out->code = SO_E_STATUS;
            out->why = apr_psprintf(req->pool,
                                    "order %" APR_INT64_T_FMT " is %s: only active (ACT) or expired "
                                    "(EXP) orders are renewed",
                                    it->renewal_of, out->renewed->status);
            return APR_SUCCESS;
        }
        /* an order is renewed once: a second renewal is refused while the first lives */
        rv = so_api_renewal_check(req, it->renewal_of, &out->code, &out->why);
        if (rv != APR_SUCCESS || out->code) {
            return rv;
        }
    }
    if (so_rules_amounts(req->pool, out->prod, NULL, it->domain_amount, it->wildcard_domain_amount,
                         &out->dom, &out->wild, &out->why)
        != APR_SUCCESS) {
        out->code = SO_E_NAMES;
        return APR_SUCCESS;
    }
    out->unit = so_rules_price(out->prod, out->price, out->dom, out->wild);
    return APR_SUCCESS;
}

static json_t *item_json(so_req_t *req, const priced_t *x)
{
    const so_cart_item_t *it = x->it;
    apr_pool_t *p = req->pool;
    return json_pack("{s:I,s:I,s:s,s:i,s:i,s:i,s:i,s:o,s:s,s:s,s:s,s:s,s:b,s:i,s:s,s:o,s:o}", "id",
                     (json_int_t)it->id, "product_id", (json_int_t)it->product_id, "product_name",
                     x->prod ? x->prod->name : "", "period", it->period, "domain_amount",
                     it->domain_amount, "wildcard_domain_amount", it->wildcard_domain_amount,
                     "quantity", it->quantity, "renewal_of",
                     it->renewal_of ? json_integer(it->renewal_of) : json_null(),
                     "renewal_common_name", x->renewed ? x->renewed->common_name : "",
                     "unit_price", x->code ? "" : so_money_fmt(p, x->unit), "amount",
                     x->code ? "" : so_money_fmt(p, x->unit * it->quantity), "currency",
                     req->auth->team_currency, "valid", x->code == 0, "problem_code", x->code,
                     "problem", x->code ? x->why : "", "created_at", so_json_time(p, it->created_at),
                     "updated_at", so_json_time(p, it->updated_at));
}

/* ------------------------------------------------------------------------- */
/* GET /ssl/products/{id}/quote                                                */

static apr_status_t quote(so_req_t *req)
{
    apr_pool_t *p = req->pool;
    so_product_t *prod;
    const so_price_t *price;
    const char *why;
    apr_int64_t id, period, domains, wild, total;
    int code, d, w, included;
    so_result_t res;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (so_q_int(req, "period", 1, 1, 10, &period) || so_q_int(req, "domains", -1, 0, 1000, &domains)
        || so_q_int(req, "wildcard_domains", -1, 0, 1000, &wild)) {
        return APR_EINVAL;
    }
    so_result_init(&res);
    rv = so_svc_order_product(so_api_svc_ctx(req), id, period, req->auth->team_currency, &prod,
                              &price, &res);
    code = res.code;
    why = res.detail;
    if (rv == APR_EINVAL) {
        return so_api_error(req, code == SO_E_PRODUCT ? SO_E_NOT_FOUND : code, why, ""),
               code == SO_E_PRODUCT ? APR_ENOENT : APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_rules_amounts(p, prod, NULL, (int)domains, (int)wild, &d, &w, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_NAMES, "The names do not fit the product", why);
    }
    total = so_rules_price(prod, price, d, w);
    included = prod->included_domains_count > 0 ? prod->included_domains_count : 1;
    return so_api_ok(req,
                     json_pack("{s:I,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "product_id",
                               (json_int_t)prod->id, "product_name", prod->name, "period",
                               (int)period, "domain_amount", d, "wildcard_domain_amount", w,
                               "price", so_money_fmt(p, total), "currency", price->currency,
                               "base_price", so_money_fmt(p, price->price), "included_domains",
                               prod->is_multidomain ? included : d, "extra_domain_price",
                               so_money_fmt(p, price->extra_domain), "extra_wildcard_domain_price",
                               so_money_fmt(p, price->extra_wildcard), "per_year",
                               so_money_fmt(p, total / period)));
}

/* ------------------------------------------------------------------------- */
/* /cart                                                                       */

static apr_status_t load_item(so_req_t *req, so_cart_item_t **it)
{
    apr_int64_t id;
    apr_status_t rv;
    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_cart_get(so_req_db(req), req->pool, req->auth->team_id, id, it);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No cart item %" APR_INT64_T_FMT, id);
    }
    return rv;
}

static apr_status_t cart_list(so_req_t *req)
{
    apr_array_header_t *items;
    apr_int64_t total, amount = 0;
    json_t *results = json_array();
    int limit, offset, i, valid = 1, quantity = 0;
    apr_status_t rv;

    so_json_pool(req->pool, results);
    if (so_api_paging(req, 100, 1000, &limit, &offset) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    /* every item is priced (the total covers them all); the page is cut here */
    rv = so_store_cart(so_req_db(req), req->pool, req->auth->team_id, 0, 0, &items, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < items->nelts; i++) {
        priced_t x;
        if ((rv = price_item(req, APR_ARRAY_IDX(items, i, so_cart_item_t *), &x)) != APR_SUCCESS) {
            return rv;
        }
        if (x.code) {
            valid = 0;
        }
        else {
            amount += x.unit * x.it->quantity;
        }
        quantity += x.it->quantity;
        if (i >= offset && i < offset + limit) {
            json_array_append_new(results, item_json(req, &x));
        }
    }
    return so_api_ok(req, json_pack("{s:O,s:I,s:s,s:s,s:i,s:b}", "results", results, "total",
                                    (json_int_t)total, "amount", so_money_fmt(req->pool, amount),
                                    "currency", req->auth->team_currency, "quantity", quantity,
                                    "valid", valid));
}

static apr_status_t cart_get(so_req_t *req)
{
    so_cart_item_t *it;
    priced_t x;
    apr_status_t rv = load_item(req, &it);
    if (rv != APR_SUCCESS || (rv = price_item(req, it, &x)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, item_json(req, &x));
}

static apr_status_t cart_add(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    so_cart_item_t *it = apr_pcalloc(p, sizeof(*it));
    apr_array_header_t *items;
    apr_int64_t product_id = 0, period = 0, dom = -1, wild = -1, quantity = 1, renewal_of = 0, total;
    int has_product = 0, has_period = 0, has_dom = 0, has_wild = 0, has_qty = 0, has_renewal = 0;
    priced_t x;
    apr_status_t rv;

    if (so_in_int(req, req->json, "product_id", 0, 1, 0x7fffffff, &product_id, &has_product)
        || so_in_int(req, req->json, "period", 0, 1, 10, &period, &has_period)
        || so_in_int(req, req->json, "domain_amount", 0, 0, 1000, &dom, &has_dom)
        || so_in_int(req, req->json, "wildcard_domain_amount", 0, 0, 1000, &wild, &has_wild)
        || so_in_int(req, req->json, "quantity", 0, 1, MAX_QUANTITY, &quantity, &has_qty)
        || so_in_int(req, req->json, "renewal_of", 0, 1, 0x7fffffff, &renewal_of, &has_renewal)) {
        return APR_EINVAL;
    }
    it->team_id = req->auth->team_id;
    it->quantity = (int)quantity;
    it->created_by = req->auth->user_id;
    it->created_at = it->updated_at = req->now;
    if (has_renewal) {
        /* a renewal buys the same product with the same names as the order */
        so_order_t *o;
        if (has_dom || has_wild) {
            return so_api_error(req, SO_E_INVALID,
                                "a renewal pays for the names of the order renewed: no domain_amount "
                                "or wildcard_domain_amount",
                                "");
        }
        if (quantity != 1) {
            return so_api_error(req, SO_E_INVALID, "a renewal has quantity 1", "");
        }
        rv = so_store_order_get(db, p, req->auth->team_id, renewal_of, &o);
        if (rv == APR_ENOENT) {
            return so_api_errorf(req, SO_E_NOT_FOUND, "renewal_of: no order %" APR_INT64_T_FMT,
                                 renewal_of);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (has_product && product_id != o->product_id) {
            return so_api_errorf(req, SO_E_INVALID,
                                 "a renewal buys the product of the order (%" APR_INT64_T_FMT ")",
                                 o->product_id);
        }
        it->renewal_of = o->id;
        it->product_id = o->product_id;
        it->period = has_period ? (int)period : o->period;
        it->domain_amount = o->domain_amount;
        it->wildcard_domain_amount = o->wildcard_domain_amount;
    }
    else {
        if (!has_product || !has_period) {
            return so_api_error(req, SO_E_INVALID,
                                "product_id and period are required (or renewal_of)", "");
        }
        it->product_id = product_id;
        it->period = (int)period;
        it->domain_amount = (int)dom;
        it->wildcard_domain_amount = (int)wild;
    }
    if ((rv = price_item(req, it, &x)) != APR_SUCCESS) {
        return rv;
    }
    if (x.code) {
        return so_api_error(req, x.code, x.why, "");
    }
    it->domain_amount = x.dom;
    it->wildcard_domain_amount = x.wild;
    if ((rv = so_store_cart(db, p, req->auth->team_id, 1, 0, &items, &total)) != APR_SUCCESS) {
        return rv;
    }
    if (total >= MAX_ITEMS) {
        return so_api_errorf(req, SO_E_LIMIT, "A cart holds at most %d items", MAX_ITEMS);
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_cart_insert(db, p, it);
    if ((rv = so_db_end(db, rv)) == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_CART_DUPLICATE,
                             "Order %" APR_INT64_T_FMT " is in the cart for renewal already",
                             it->renewal_of);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, it->id);
}

static apr_status_t cart_change(so_req_t *req)
{
    so_cart_item_t *it;
    apr_int64_t quantity = 0, period = 0;
    int has_qty = 0, has_period = 0;
    priced_t x;
    apr_status_t rv;

    if (so_in_int(req, req->json, "quantity", 0, 1, MAX_QUANTITY, &quantity, &has_qty)
        || so_in_int(req, req->json, "period", 0, 1, 10, &period, &has_period)) {
        return APR_EINVAL;
    }
    if (!has_qty && !has_period) {
        return so_api_error(req, SO_E_INVALID, "give quantity or period", "");
    }
    if ((rv = load_item(req, &it)) != APR_SUCCESS) {
        return rv;
    }
    if (has_qty && it->renewal_of && quantity != 1) {
        return so_api_error(req, SO_E_INVALID, "a renewal has quantity 1", "");
    }
    if (has_qty) {
        it->quantity = (int)quantity;
    }
    if (has_period) {
        it->period = (int)period;
    }
    if ((rv = price_item(req, it, &x)) != APR_SUCCESS) {
        return rv;
    }
    if (x.code && x.code != SO_E_STATUS) {
        return so_api_error(req, x.code, x.why, "");
    }
    it->updated_at = req->now;
    rv = so_store_cart_update(so_req_db(req), req->pool, it);
    if (rv == SO_EDBSTALE) {
        return so_api_error(req, SO_E_CART_CHANGED, "The cart item changed meanwhile; retry", "");
    }
    return rv != APR_SUCCESS ? rv : so_api_ok(req, item_json(req, &x));
}

static apr_status_t cart_remove(so_req_t *req)
{
    so_cart_item_t *it;
    apr_status_t rv = load_item(req, &it);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_cart_delete(so_req_db(req), req->pool, req->auth->team_id, it->id);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No cart item %" APR_INT64_T_FMT, it->id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, it->id);
}

static apr_status_t cart_clear(so_req_t *req)
{
    int removed = 0;
    apr_status_t rv = so_store_cart_clear(so_req_db(req), req->pool, req->auth->team_id, &removed);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, json_pack("{s:i}", "removed", removed));
}

/* ------------------------------------------------------------------------- */
/* POST /cart/checkout                                                         */

typedef struct {
    so_order_t *o;
    priced_t *x;
} made_t;

/* A renewal is a new order of the same product carrying the renewed order's CSR,
 * names, methods and contacts, ready to be sent for validation. */
static void copy_renewed(apr_pool_t *p, so_order_t *o, const so_order_t *from,
                         apr_array_header_t **host_names)
{
    int i;
    o->csr = from->csr;
    o->csr_md5 = from->csr_md5;
    o->csr_sha1 = from->csr_sha1;
    o->csr_sha256 = from->csr_sha256;
    o->common_name = from->common_name;
    o->organization_unit = from->organization_unit;
    o->software = from->software;
    o->organization_handle = from->organization_handle;
    o->technical_handle = from->technical_handle;
    o->administrative_handle = from->administrative_handle;
    o->billing_handle = from->billing_handle;
    o->approver_email = from->approver_email;
    o->autorenew = from->autorenew;
    o->signature_hash_algorithm = from->signature_hash_algorithm;
    o->enable_dns_automation = from->enable_dns_automation;
    o->hosts = apr_array_copy(p, from->hosts);
    *host_names = apr_array_make(p, from->hosts->nelts + 1, sizeof(const char *));
    for (i = 1; i < from->hosts->nelts; i++) {
        APR_ARRAY_PUSH(*host_names, const char *) =
            APR_ARRAY_IDX(from->hosts, i, so_order_host_t).host_name;
    }
}

static apr_status_t item_refused(so_req_t *req, const so_cart_item_t *it, int code, const char *why)
{
    return so_api_error(req, code,
                        apr_psprintf(req->pool, "Cart item %" APR_INT64_T_FMT ": %s", it->id, why),
                        so_i64str(req->pool, it->id));
}

static apr_status_t replay(so_req_t *req, const char *key, const char *hash)
{
    const char *stored_hash, *response;
    int status;
    apr_status_t rv = so_store_idem_get(so_req_db(req), req->pool, req->auth->team_id, key,
                                        &stored_hash, &status, &response);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(stored_hash, hash)) {
        return so_api_error(req, SO_E_IDEMPOTENCY, "This Idempotency-Key was used for another request",
                            key);
    }
    apr_table_setn(req->headers_out, "Idempotent-Replayed", "true");
    return so_api_ok(req, json_loads(response, 0, NULL));
}

/* Every order of the cart made and priced before anything is written: *made (made_t) and
 * *amount; a refused item is answered (item_refused) */
static apr_status_t make_orders(so_req_t *req, so_svc_ctx_t *ctx, const apr_array_header_t *items,
                                apr_array_header_t **made, apr_int64_t *amount)
{
    apr_pool_t *p = req->pool;
    apr_status_t rv;
    int i, q;

    *made = apr_array_make(p, items->nelts * 2, sizeof(made_t));
    *amount = 0;
    for (i = 0; i < items->nelts; i++) {
        priced_t *x = apr_palloc(p, sizeof(*x));
        so_cart_item_t *it = APR_ARRAY_IDX(items, i, so_cart_item_t *);
        if ((rv = price_item(req, it, x)) != APR_SUCCESS) {
            return rv;
        }
        if (x->code) {
            return item_refused(req, it, x->code, x->why);
        }
        for (q = 0; q < it->quantity; q++) {
            made_t *m = apr_array_push(*made);
            apr_array_header_t *host_names = NULL;
            m->x = x;
            so_result_t res;
            so_result_init(&res);
            if ((rv = so_svc_order_new(ctx, x->prod, x->price, it->period, &m->o)) != APR_SUCCESS) {
                return rv;
            }
            if (x->renewed) {
                copy_renewed(p, m->o, x->renewed, &host_names);
            }
            if (so_svc_order_price(ctx, x->prod, x->price, m->o, host_names, it->domain_amount,
                                   it->wildcard_domain_amount, &res)
                != APR_SUCCESS) {
                return item_refused(req, it, res.code, res.detail);
            }
            /* a renewal with the renewed order's CSR, names and methods needs nothing
             * more: it goes to validation by itself (else it waits for what is missing) */
            if (x->renewed && *m->o->csr) {
                so_order_t probe = *m->o;
                probe.hosts = apr_array_copy(p, m->o->hosts);
                if (!so_svc_order_missing(ctx, x->prod, &probe)) {
                    m->o->hosts = probe.hosts;
                    m->o->status = "REQ";
                }
            }
            *amount += m->o->price;
        }
    }
    return APR_SUCCESS;
}

/* In the open transaction: the Idempotency-Key claimed, the cart taken, the orders stored
 * with their events, then charged (last: a charge holds the team's balance until the
 * commit); ids gets the new orders' ids */
static apr_status_t store_orders(so_req_t *req, so_svc_ctx_t *ctx, const apr_array_header_t *items,
                                 const apr_array_header_t *made, const char *key,
                                 const char *hash, json_t *ids)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (key) {
        rv = so_store_idem_claim(db, p, req->auth->team_id, key, hash, req->now);
    }
    for (i = 0; rv == APR_SUCCESS && i < items->nelts; i++) {
        rv = so_store_cart_take(db, p, APR_ARRAY_IDX(items, i, so_cart_item_t *));
    }
    for (i = 0; rv == APR_SUCCESS && i < made->nelts; i++) {
        made_t *m = &APR_ARRAY_IDX(made, i, made_t);
        rv = so_svc_order_store(ctx, m->x->prod, m->o, m->x->renewed ? m->x->renewed->id : 0,
                                json_pack("{s:s}", "source", "cart"));
        if (rv == APR_SUCCESS && m->x->renewed) {
            rv = so_svc_order_event(ctx, m->x->renewed, "renewal_ordered",
                                    json_pack("{s:I}", "order_id", (json_int_t)m->o->id));
        }
        if (rv == APR_SUCCESS && !strcmp(m->o->status, "REQ")) {
            rv = so_svc_order_event(ctx, m->o, "provisioning_requested",
                                    json_pack("{s:s}", "reason", "renewal with an unchanged CSR and names"));
        }
        json_array_append_new(ids, json_integer(m->o->id));
    }
    for (i = 0; rv == APR_SUCCESS && i < made->nelts; i++) {
        made_t *m = &APR_ARRAY_IDX(made, i, made_t);
        rv = so_svc_order_charge(ctx, m->x->prod, m->o);
    }
    return rv;
}

/* A checkout whose writes failed in a way the customer is told about (rolled back):
 * another request with the key came first, the cart changed, the balance is short.
 * APR_ENOENT: none of those (the caller ends the transaction). */
static apr_status_t refused_write(so_req_t *req, apr_status_t rv, const char *key,
                                  const char *hash, apr_int64_t amount)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    so_team_t *t;

    if (rv == SO_EDBUNIQUE && key) {
        /* the same key is being (or was) used by a request that came first */
        so_db_rollback(db);
        return replay(req, key, hash);
    }
    if (rv == SO_EDBSTALE) {
        so_db_rollback(db);
        if (key && (rv = replay(req, key, hash)) != APR_ENOENT) {
            return rv;
        }
        return so_api_error(req, SO_E_CART_CHANGED,
                            "The cart changed while it was checked out; nothing was created or "
                            "charged, retry",
                            "");
    }
    if (rv != SO_ENOFUNDS) {
        return APR_ENOENT;
    }
    so_db_rollback(db);
    if (so_store_team_by_id(db, p, req->auth->team_id, &t) != APR_SUCCESS) {
        t = NULL;
    }
    return so_api_errorf(req, SO_E_FUNDS,
                         "The balance (%s %s) does not cover the cart (%s %s); nothing was "
                         "created or charged",
                         t ? so_money_fmt(p, t->balance) : "?", req->auth->team_currency,
                         so_money_fmt(p, amount), req->auth->team_currency);
}

static apr_status_t checkout(so_req_t *req)
{
    so_svc_ctx_t *ctx = so_api_svc_ctx(req);
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    const char *key = so_req_header(req, "Idempotency-Key"), *hash = NULL;
    apr_array_header_t *items, *made;
    apr_int64_t total_items, amount = 0, balance = 0;
    json_t *ids, *answer;
    char *text;
    apr_status_t rv, told;

    if (key) {
        if (!*key || strlen(key) > 200 || !so_str_is_printable_utf8(key, strlen(key))) {
            return so_api_error(req, SO_E_INVALID, "Idempotency-Key must be 1 to 200 printable characters",
                                "");
        }
        hash = so_sha256_hex(p, apr_pstrcat(p, "POST /cart/checkout\n",
                                            apr_pstrmemdup(p, req->body, req->body_len), NULL),
                             strlen("POST /cart/checkout\n") + req->body_len, 0);
        /* a retry of a checkout that went through (the answer was lost) gets its answer */
        rv = replay(req, key, hash);
        if (rv != APR_ENOENT) {
            return rv;
        }
    }
    if ((rv = so_store_cart(db, p, req->auth->team_id, 0, 0, &items, &total_items)) != APR_SUCCESS) {
        return rv;
    }
    if (items->nelts == 0) {
        /* a request with the same key may have emptied it since we looked */
        if (key && (rv = replay(req, key, hash)) != APR_ENOENT) {
            return rv;
        }
        return so_api_error(req, SO_E_CART_EMPTY, "The cart is empty", "");
    }
    if ((rv = make_orders(req, ctx, items, &made, &amount)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    ids = so_json_pool(p, json_array());
    rv = store_orders(req, ctx, items, made, key, hash, ids);
    if (rv == APR_SUCCESS) {
        so_team_t *t;
        rv = so_store_team_by_id(db, p, req->auth->team_id, &t);
        balance = rv == APR_SUCCESS ? t->balance : 0;
    }
    answer = so_json_pool(p, json_pack("{s:O,s:i,s:s,s:s,s:s}", "orders", ids, "count",
                                       (int)json_array_size(ids), "amount", so_money_fmt(p, amount),
                                       "currency", req->auth->team_currency, "balance",
                                       so_money_fmt(p, balance)));
    if (rv == APR_SUCCESS && key) {
        text = json_dumps(answer, JSON_COMPACT);
        rv = text ? so_store_idem_finish(db, p, req->auth->team_id, key, 200, apr_pstrdup(p, text))
                  : APR_ENOMEM;
        free(text);
    }
    if ((told = refused_write(req, rv, key, hash, amount)) != APR_ENOENT) {
        return told;
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_log_debug(SO_LOG_MARK, "checkout of team %" APR_INT64_T_FMT ": %d orders",
                 req->auth->team_id, made->nelts);
    return so_api_ok(req, json_incref(answer));
}

/* ------------------------------------------------------------------------- */
/* balance, ledger, staff credit                                               */

static apr_status_t balance_get(so_req_t *req)
{
    so_team_t *t;
    apr_status_t rv = so_store_team_by_id(so_req_db(req), req->pool, req->auth->team_id, &t);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:s}", "team_id", (json_int_t)t->id, "team",
                                    t->slug, "balance", so_money_fmt(req->pool, t->balance),
                                    "currency", t->currency));
}

static apr_status_t ledger_list(so_req_t *req)
{
    const char *kind = so_req_query(req, "kind");
    apr_array_header_t *rows;
    apr_int64_t order_id, total;
    json_t *results;
    int limit, offset, i;
    apr_status_t rv;

    if (so_api_paging(req, 100, 1000, &limit, &offset)
        || so_q_int(req, "order_id", 0, 0, 0x7fffffff, &order_id)) {
        return APR_EINVAL;
    }
    if (kind && *kind && strcmp(kind, "charge") && strcmp(kind, "refund") && strcmp(kind, "credit")
        && strcmp(kind, "debit")) {
        return so_api_error(req, SO_E_INVALID, "kind must be charge, refund, credit or debit", "");
    }
    rv = so_store_ledger(so_req_db(req), req->pool, req->auth->team_id, order_id,
                         kind && *kind ? kind : NULL, limit, offset, &rows, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < rows->nelts; i++) {
        so_ledger_row_t *l = &APR_ARRAY_IDX(rows, i, so_ledger_row_t);
        json_array_append_new(
            results, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "id", (json_int_t)l->id,
                               "amount", so_money_fmt(req->pool, l->amount), "balance_after",
                               so_money_fmt(req->pool, l->balance_after), "kind", l->kind,
                               "order_id", l->order_id ? json_integer(l->order_id) : json_null(),
                               "note", so_json_str(l->note), "user", so_json_str(l->username),
                               "created_at", so_json_time(req->pool, l->created_at), "currency",
                               req->auth->team_currency));
    }
    return so_api_ok_list(req, results, total);
}

/* POST /staff/teams/{team}/credit: {amount: "25.50" (negative debits), note} */
static apr_status_t staff_credit(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    const char *team = so_req_param(req, "team"), *note = NULL;
    json_t *a = json_object_get(req->json, "amount");
    apr_int64_t amount = 0, id, after = 0;
    so_team_t *t;
    apr_status_t rv;

    if (so_in_str(req, req->json, "note", 0, 200, &note, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!a || json_is_null(a)) {
        return so_api_error(req, SO_E_INVALID, "field 'amount' is required", "");
    }
    if (json_is_integer(a)) {
        json_int_t v = json_integer_value(a);
        amount = v > MAX_CREDIT / 100 || v < -MAX_CREDIT / 100 ? MAX_CREDIT + 1 : (apr_int64_t)v * 100;
    }
    else if (!json_is_string(a) || so_money_parse(json_string_value(a), &amount) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID,
                            "field 'amount' must be an amount such as \"25.50\" (negative to debit)",
                            "");
    }
    if (amount == 0 || amount > MAX_CREDIT || amount < -MAX_CREDIT) {
        return so_api_error(req, SO_E_INVALID, "field 'amount' must be a non-zero amount", "");
    }
    rv = so_parse_int64(team, 1, 0x7fffffff, &id) == APR_SUCCESS
             ? so_store_team_by_id(db, p, id, &t)
             : so_store_team_by_slug(db, p, team, &t);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No team %s", team);
    }
    if (rv != APR_SUCCESS || (rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_ledger_add(db, p, t->id, amount, amount > 0 ? "credit" : "debit", 0,
                             note && *note ? note
                                           : apr_psprintf(p, "%s by %s", amount > 0 ? "credit" : "debit",
                                                          req->auth->username),
                             req->auth->user_id, req->now, &after);
    if (rv == SO_ENOFUNDS) {
        so_db_rollback(db);
        return so_api_errorf(req, SO_E_FUNDS, "The balance of %s (%s %s) does not cover %s", t->slug,
                             so_money_fmt(p, t->balance), t->currency, so_money_fmt(p, -amount));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_log_perror(SO_LOG_MARK, SO_LOG_NOTICE, APR_SUCCESS,
                  SOLOGNO(00400) "%s changed the balance of team %s by %s %s (now %s)",
                  req->auth->username, t->slug, so_money_fmt(p, amount), t->currency,
                  so_money_fmt(p, after));
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:s,s:s}", "team_id", (json_int_t)t->id, "team",
                                    t->slug, "amount", so_money_fmt(p, amount), "balance",
                                    so_money_fmt(p, after), "currency", t->currency));
}

const so_route_t so_routes_cart[] = {
    {"GET", "/ssl/products/{id}/quote", quote, SO_ROLE_VIEWER, 0},
    {"GET", "/cart", cart_list, SO_ROLE_VIEWER, 0},
    {"POST", "/cart", cart_add, SO_ROLE_MEMBER, 0},
    {"DELETE", "/cart", cart_clear, SO_ROLE_MEMBER, 0},
    {"POST", "/cart/checkout", checkout, SO_ROLE_MEMBER, 0},
    {"GET", "/cart/{id}", cart_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/cart/{id}", cart_change, SO_ROLE_MEMBER, 0},
    {"DELETE", "/cart/{id}", cart_remove, SO_ROLE_MEMBER, 0},
    {"GET", "/balance", balance_get, SO_ROLE_VIEWER, 0},
    {"GET", "/ledger", ledger_list, SO_ROLE_VIEWER, 0},
    {"POST", "/staff/teams/{team}/credit", staff_credit, SO_ROLE_VIEWER, SO_RF_STAFF},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
