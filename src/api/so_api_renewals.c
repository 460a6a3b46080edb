/* mod_sslorders: renewals bought in the cart. A renewal is a new order; the order
 * it renews is linked to it (order_renewals) so that both show the link
 * (renewal_of on the new order, renewed_by on the old one) and a second renewal of
 * the same order is refused (1140) while the first one lives (not cancelled). */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "../core/so_util.h"
#include "../store/so_store_renewal.h"

#define EXT_RENEWED_BY "renewals.renewed_by"
#define EXT_RENEWAL_OF "renewals.renewal_of"

apr_status_t so_api_renewal_check(so_req_t *req, apr_int64_t order_id, int *code, const char **why)
{
    so_renewal_t *r;
    apr_status_t rv = so_store_renewal_of(so_req_db(req), req->pool, req->auth->team_id, order_id, &r);
    if (rv == APR_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *code = SO_E_RENEWED;
    *why = apr_psprintf(req->pool,
                        "order %" APR_INT64_T_FMT " was renewed already by order %" APR_INT64_T_FMT
                        " (%s): cancel that one to renew it again",
                        order_id, r->renewal_id, r->status);
    return APR_SUCCESS;
}

static apr_status_t renewals_load(so_req_t *req, apr_array_header_t *orders)
{
    apr_array_header_t *ids;
    apr_hash_t *by_renewed, *by_renewal;
    apr_status_t rv;
    int i;

    if (orders->nelts == 0 || !req->auth) {
        return APR_SUCCESS;
    }
    ids = apr_array_make(req->pool, orders->nelts, sizeof(apr_int64_t));
    for (i = 0; i < orders->nelts; i++) {
        APR_ARRAY_PUSH(ids, apr_int64_t) = APR_ARRAY_IDX(orders, i, so_order_t *)->id;
    }
    rv = so_store_renewals_for(so_req_db(req), req->pool, req->auth->team_id, ids, &by_renewed,
                               &by_renewal);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        void *a = apr_hash_get(by_renewed, &o->id, sizeof(o->id));
        void *b = apr_hash_get(by_renewal, &o->id, sizeof(o->id));
        if (!o->ext) {
            o->ext = apr_hash_make(req->pool);
        }
        apr_hash_set(o->ext, EXT_RENEWED_BY, APR_HASH_KEY_STRING, a);
        apr_hash_set(o->ext, EXT_RENEWAL_OF, APR_HASH_KEY_STRING, b);
    }
    return APR_SUCCESS;
}

static void renewals_write(so_jw_t *w, so_req_t *req, const so_order_t *o)
{
    so_renewal_t *by = o->ext ? apr_hash_get(o->ext, EXT_RENEWED_BY, APR_HASH_KEY_STRING) : NULL;
    so_renewal_t *of = o->ext ? apr_hash_get(o->ext, EXT_RENEWAL_OF, APR_HASH_KEY_STRING) : NULL;
    (void)req;
    so_jw_key(w, "renewal_of");
    if (of) {
        so_jw_int(w, of->renewed_id);
    }
    else {
        so_jw_null(w);
    }
    so_jw_key(w, "renewed_by");
    if (by) {
        so_jw_obj(w);
        so_jw_kint(w, "id", by->renewal_id);
        so_jw_kstr(w, "status", by->status);
        so_jw_obj_end(w);
    }
    else {
        so_jw_null(w);
    }
}

static const so_order_hook_t renewals_hook = {renewals_load, renewals_write};

void so_api_renewals_init(void)
{
    so_api_orders_add_hook(&renewals_hook);
}
