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


