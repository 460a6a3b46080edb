/* mod_sslorders: the CSR Manager (/ssl/managed-csrs): a team's saved CSRs with
 * their parsed data and the orders using them. Only CSRs are stored, never keys. */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_org.h"
#include "so_api_svc.h"
#include "../svc/so_svc_br.h"
#include "../core/so_csr.h"
#include "../core/so_util.h"
#include "../store/so_store_csr.h"

#define FRIENDLY_MAX 255
#define ORDERS_SHOWN 100

static json_t *names_json(so_req_t *req, const char *names)
{
    json_t *a = json_array();
    char *copy = apr_pstrdup(req->pool, names), *last = NULL, *tok;
    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        json_array_append_new(a, so_json_str(tok));
    }
    return a;
}

static json_t *csr_json(so_req_t *req, const so_managed_csr_t *c, apr_array_header_t *orders)
{
    json_t *j = json_pack(
        "{s:I,s:o,s:o,s:o,s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o},s:o,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,"
        "s:o,s:o,s:I}",
        "id", (json_int_t)c->id, "friendly_name", so_json_str(c->friendly_name), "csr",
        so_json_str(c->csr), "common_name", so_json_str(c->common_name), "subject", "common_name",
        so_json_str(c->common_name), "country", so_json_str(c->country), "email",
        so_json_str(c->email), "locality", so_json_str(c->locality), "organization",
        so_json_str(c->organization), "state", so_json_str(c->state), "unit", so_json_str(c->unit),
        "names", names_json(req, c->names), "key_type", c->key_type, "key_bits", c->key_bits,
        "curve", c->curve, "public_key_sha1", c->public_key_sha1, "md5", c->md5, "sha1", c->sha1,
        "sha256", c->sha256, "signature_algorithm", c->signature_algorithm, "created_at",
        so_json_time(req->pool, c->created_at), "updated_at",
        so_json_time(req->pool, c->updated_at), "orders_count", (json_int_t)c->orders);
    if (orders) {
        json_t *a = json_array();
        int i;
        for (i = 0; i < orders->nelts; i++) {
            so_csr_order_t *o = &APR_ARRAY_IDX(orders, i, so_csr_order_t);
            json_array_append_new(a, json_pack("{s:I,s:o,s:s,s:o}", "id", (json_int_t)o->id,
                                               "common_name", so_json_str(o->common_name), "status",
                                               o->status, "order_date",
                                               so_json_time(req->pool, o->order_date)));
        }
        json_object_set_new(j, "orders", a);
    }
    return j;
}

static apr_status_t not_found(so_req_t *req, apr_int64_t id)
{
    return so_api_errorf(req, SO_E_NOT_FOUND, "No managed CSR %" APR_INT64_T_FMT, id);
}

static apr_status_t read_friendly(so_req_t *req, int required, const char **out, int *present)
{
    if (so_in_str(req, req->json, "friendly_name", required, FRIENDLY_MAX, out, present)
        != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (*out && !so_str_is_printable_utf8(*out, strlen(*out))) {
        return so_api_error(req, SO_E_INVALID, "field 'friendly_name' must be printable text", "");
    }
    if (*out) {
        *out = so_str_trim(req->pool, *out);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */

apr_status_t so_api_managed_csr_pem(so_req_t *req, apr_int64_t id, const char **pem)
{
    so_managed_csr_t *c;
    apr_status_t rv = so_store_csr_get(so_req_db(req), req->pool, req->auth->team_id, id, &c);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "managed_csr_id: no managed CSR %" APR_INT64_T_FMT, id);
    }
    if (rv != APR_SUCCESS) {
        so_api_fail(req, rv);
        return rv;
    }
    *pem = c->csr;
    return APR_SUCCESS;
}

apr_status_t so_api_managed_csr_save(so_req_t *req, const char *pem, const char *friendly_name,
                                     apr_int64_t *id)
{
    so_db_t *db = so_req_db(req);
    so_managed_csr_t *c, *existing;
    so_csr_t *parsed;
    const char *why = NULL, *names = "";
    apr_status_t rv;
    int i;

    if (req->auth->role < SO_ROLE_MEMBER) {
        return so_api_errorf(req, SO_E_FORBIDDEN, "Your role in team %s (%s) does not allow saving CSRs",
                             req->auth->team_slug, so_role_name(req->auth->role));
    }
    if (so_csr_parse(req->pool, pem, &parsed, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_CSR, "The CSR is not valid", why);
    }
    if (so_csr_check_key(parsed, &why) != APR_SUCCESS
        || (rv = so_svc_key_blocked(so_api_svc_ctx(req), parsed, &why)) == APR_EINVAL) {
        return so_api_error(req, SO_E_CSR_KEY, "The CSR's key is not accepted", why);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < parsed->names->nelts; i++) {
        names = apr_pstrcat(req->pool, names, i ? " " : "", APR_ARRAY_IDX(parsed->names, i, const char *),
                            NULL);
    }
    c = apr_pcalloc(req->pool, sizeof(*c));
    c->team_id = req->auth->team_id;
    c->friendly_name = friendly_name ? friendly_name : "";
    c->csr = parsed->pem;
    c->common_name = parsed->common_name;
    c->organization = parsed->organization ? parsed->organization : "";
    c->unit = parsed->unit ? parsed->unit : "";
    c->locality = parsed->locality ? parsed->locality : "";
    c->state = parsed->state ? parsed->state : "";
    c->country = parsed->country ? parsed->country : "";
    c->email = parsed->email ? parsed->email : "";
    c->names = names;
    c->key_type = parsed->key_type;
    c->key_bits = parsed->key_bits;
    c->curve = parsed->curve ? parsed->curve : "";
    c->public_key_sha1 = parsed->pubkey_sha1 ? parsed->pubkey_sha1 : "";
    c->md5 = parsed->md5;
    c->sha1 = parsed->sha1;
    c->sha256 = parsed->sha256;
    c->signature_algorithm = parsed->sig_alg ? parsed->sig_alg : "";
    c->created_by = req->auth->user_id;
    c->created_at = c->updated_at = req->now;

    rv = so_store_csr_by_md5(db, req->pool, req->auth->team_id, c->md5, &existing);
    if (rv == APR_SUCCESS) {
        return so_api_error(req, SO_E_MANAGED_CSR_EXISTS,
                            apr_psprintf(req->pool, "This CSR is in the CSR Manager already (id %" APR_INT64_T_FMT ")",
                                  existing->id),
                            so_i64str(req->pool, existing->id));
    }
    if (rv == APR_ENOENT && (rv = so_db_begin(db)) == APR_SUCCESS) {
        rv = so_store_csr_insert(db, req->pool, c);
        rv = so_db_end(db, rv);
    }
    if (rv == SO_EDBUNIQUE) {
        return so_api_error(req, SO_E_MANAGED_CSR_EXISTS, "This CSR is in the CSR Manager already", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *id = c->id;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */

static apr_status_t csrs_list(so_req_t *req)
{
    const char *pattern = so_req_query(req, "pattern");
    apr_array_header_t *list;
    apr_int64_t total;
    json_t *results;
    apr_status_t rv;
    int limit, offset, i;

    if (so_api_paging(req, 100, 1000, &limit, &offset) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (pattern && strlen(pattern) > 255) {
        return so_api_error(req, SO_E_INVALID, "pattern is too long", "");
    }
    rv = so_store_csrs(so_req_db(req), req->pool, req->auth->team_id,
                       pattern && *pattern ? so_like_pattern(req->pool, so_str_lower(req->pool, pattern), 1)
                                           : "",
                       limit, offset, &list, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results, csr_json(req, APR_ARRAY_IDX(list, i, so_managed_csr_t *), NULL));
    }
    return so_api_ok_list(req, results, total);
}

static apr_status_t csr_get(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_managed_csr_t *c;
    apr_array_header_t *orders;
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_csr_get(db, req->pool, req->auth->team_id, id, &c);
    if (rv == APR_ENOENT) {
        return not_found(req, id);
    }
    if (rv != APR_SUCCESS
        || (rv = so_store_csr_orders(db, req->pool, req->auth->team_id, c->md5, ORDERS_SHOWN, &orders))
               != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, csr_json(req, c, orders));
}

static apr_status_t csr_add(so_req_t *req)
{
    const char *pem = NULL, *friendly = NULL;
    apr_int64_t id;
    apr_status_t rv;

    if (so_in_str(req, req->json, "csr", 1, SO_CSR_MAX_PEM, &pem, NULL) != APR_SUCCESS
        || read_friendly(req, 0, &friendly, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_api_managed_csr_save(req, pem, friendly, &id)) != APR_SUCCESS) {
        return rv == APR_EACCES ? APR_EINVAL : rv;
    }
    return so_api_ok_id(req, id);
}

static apr_status_t csr_rename(so_req_t *req)
{
    const char *friendly = NULL;
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (read_friendly(req, 1, &friendly, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = so_store_csr_rename(so_req_db(req), req->pool, req->auth->team_id, id, friendly, req->now);
    if (rv == APR_ENOENT) {
        return not_found(req, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

static apr_status_t csr_delete(so_req_t *req)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    /* orders keep their own copy of the CSR */
    rv = so_store_csr_delete(so_req_db(req), req->pool, req->auth->team_id, id);
    if (rv == APR_ENOENT) {
        return not_found(req, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

const so_route_t so_routes_csrs[] = {
    {"GET", "/ssl/managed-csrs", csrs_list, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/managed-csrs", csr_add, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/managed-csrs/{id}", csr_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/ssl/managed-csrs/{id}", csr_rename, SO_ROLE_MEMBER, 0},
    {"DELETE", "/ssl/managed-csrs/{id}", csr_delete, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
