/* mod_sslorders: the team's ACME credentials and accounts (/v1beta/acme/...). */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_acme.h"
#include "../acme/so_acme.h"
#include "../core/so_util.h"
#include "../store/so_store_acme.h"

/* the ACME directory of this server: SSLOrdersPublicURL (else the Host) + /acme/directory */
static const char *directory_url(so_req_t *req)
{
    const char *host;
    if (req->cfg->public_url && *req->cfg->public_url) {
        return apr_pstrcat(req->pool, req->cfg->public_url, "/acme/directory", NULL);
    }
    host = so_req_header(req, "Host");
    return apr_pstrcat(req->pool, req->secure ? "https://" : "http://", host ? host : "localhost",
                       "/acme/directory", NULL);
}

static apr_status_t eab_create(so_req_t *req)
{
    apr_int64_t order_id = 0, product_id = 0, period = 1;
    const char *desc = "", *why;
    so_acme_eab_t *e;
    apr_status_t rv;

    if (so_in_int(req, req->json, "order_id", 0, 1, APR_INT64_MAX, &order_id, NULL) != APR_SUCCESS
        || so_in_int(req, req->json, "product_id", 0, 1, APR_INT64_MAX, &product_id, NULL)
               != APR_SUCCESS
        || so_in_int(req, req->json, "period", 0, 1, 5, &period, NULL) != APR_SUCCESS
        || so_in_str(req, req->json, "description", 0, 255, &desc, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = so_acme_eab_create(req->pool, so_req_db(req), req->now, req->auth->team_id, order_id,
                            product_id, (int)period, desc, req->auth->user_id, &e, &why);
    if (rv == APR_EINVAL) {
        return so_api_error(req, SO_E_INVALID, why, "");
    }
    if (rv != APR_SUCCESS) {
        return so_api_fail(req, rv);
    }
    return so_api_ok(req, so_acme_eab_json(req->pool, e, directory_url(req), 1));
}

static apr_status_t eab_list(so_req_t *req)
{
    apr_array_header_t *list;
    json_t *results;
    const char *dir = directory_url(req);
    int i;
    apr_status_t rv = so_store_acme_eab_list(so_req_db(req), req->pool, req->auth->team_id, &list);
    if (rv != APR_SUCCESS) {
        return so_api_fail(req, rv);
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results, so_acme_eab_json(req->pool,
                                                        APR_ARRAY_IDX(list, i, so_acme_eab_t *),
                                                        dir, 0));
    }
    return so_api_ok_list(req, results, list->nelts);
}

static apr_status_t eab_disable(so_req_t *req)
{
    const char *kid = so_req_param(req, "kid");
    apr_status_t rv = so_store_acme_eab_disable(so_req_db(req), req->pool, req->auth->team_id,
                                                kid ? kid : "");
    if (rv != APR_SUCCESS) {
        return so_api_fail(req, rv);
    }
    return so_api_ok(req, json_pack("{s:s,s:b}", "kid", kid, "disabled", 1));
}

static apr_status_t accounts_list(so_req_t *req)
{
    apr_array_header_t *list;
    json_t *results;
    int i;
    apr_status_t rv = so_store_acme_accounts_team(so_req_db(req), req->pool, req->auth->team_id,
                                                  &list);
    if (rv != APR_SUCCESS) {
        return so_api_fail(req, rv);
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        so_acme_account_t *a = APR_ARRAY_IDX(list, i, so_acme_account_t *);
        json_error_t err;
        json_t *contact = json_loads(a->contact, 0, &err);
        json_array_append_new(
            results, json_pack("{s:I,s:s,s:s,s:o,s:s,s:s,s:s}", "id", (json_int_t)a->id, "kid",
                               a->eab_kid, "thumbprint", a->thumbprint, "contact",
                               contact ? contact : json_array(), "status", a->status, "created_at",
                               so_time_fmt(req->pool, a->created_at), "last_used_at",
                               so_time_fmt(req->pool, a->last_used_at)));
    }
    return so_api_ok_list(req, results, list->nelts);
}

const so_route_t so_routes_acme[] = {
    {"POST", "/acme/eab", eab_create, SO_ROLE_MEMBER, 0},
    {"GET", "/acme/eab", eab_list, SO_ROLE_VIEWER, 0},
    {"DELETE", "/acme/eab/{kid}", eab_disable, SO_ROLE_MEMBER, 0},
    {"GET", "/acme/accounts", accounts_list, SO_ROLE_VIEWER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
