/* mod_sslorders: team tags on orders and on individual certificates, the order
 * list's tag filter and the orders' tag fields. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "so_api.h"
#include "so_api_org.h"
#include "../core/so_folder.h"
#include "../core/so_jsonw.h"
#include "../core/so_util.h"
#include "../store/so_store_org.h"

#define MAX_TAGS_PER_OBJECT 100 /* tags on one order or certificate */
#define MAX_TAGS_PER_TEAM 10000
#define MAX_FILTER_TAGS 10      /* tag= keys of one order list */
#define MAX_SERIAL 64           /* hex digits */

/* ------------------------------------------------------------------------- */
/* certificates                                                                */

/* The serial of a PEM certificate, upper hex without leading zeros. */
static const char *pem_serial(apr_pool_t *p, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    const char *out = NULL;
    if (x) {
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *hex = bn ? BN_bn2hex(bn) : NULL;
        if (hex) {
            out = apr_pstrdup(p, hex);
            OPENSSL_free(hex);
        }
        BN_free(bn);
        X509_free(x);
    }
    BIO_free(bio);
    return out;
}

static apr_status_t current_cert_lookup(so_req_t *req, const so_order_t *o, const char *serial,
                                        int *found)
{
    const char *s = o->certificate && *o->certificate ? pem_serial(req->pool, o->certificate) : NULL;
    *found = s && !strcmp(s, serial);
    return APR_SUCCESS;
}

static so_cert_lookup_fn *cert_lookup = current_cert_lookup;

void so_api_set_cert_lookup(so_cert_lookup_fn *fn)
{
    cert_lookup = fn ? fn : current_cert_lookup;
}

/* The serial of the route, normalised: upper hex, no colons, no leading zeros. */
static const char *route_serial(so_req_t *req)
{
    const char *v = so_req_param(req, "serial"), *s;
    char *out, *d;

    if (!v || strlen(v) > 3 * MAX_SERIAL) {
        return NULL;
    }
    out = d = apr_palloc(req->pool, strlen(v) + 1);
    for (s = v; *s; s++) {
        if (*s == ':') {
            continue;
        }
        if (!apr_isxdigit(*s)) {
            return NULL;
        }
        *d++ = (char)apr_toupper(*s);
    }
    *d = '\0';
    while (out[0] == '0' && out[1]) {
        out++;
    }
    return *out && strlen(out) <= MAX_SERIAL ? out : NULL;
}

/* The order of the route and, for certificate routes, the serial of one of its
 * certificates. Answers 404 otherwise. */
static apr_status_t load_target(so_req_t *req, so_order_t **o, const char **serial)
{
    apr_status_t rv = so_api_order_load(req, o);
    int found = 0;

    *serial = NULL;
    if (rv != APR_SUCCESS || !so_req_param(req, "serial")) {
        return rv;
    }
    if (!(*serial = route_serial(req))) {
        return so_api_error(req, SO_E_NOT_FOUND, "No such certificate", "a serial number is hex");
    }
    if ((rv = cert_lookup(req, *o, *serial, &found)) != APR_SUCCESS) {
        return rv;
    }
    if (!found) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "Order %" APR_INT64_T_FMT " has no certificate %s",
                             (*o)->id, *serial);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* input                                                                       */

/* The tag names of a body: "tags": [names] or "name": "x". */
static apr_status_t read_names(so_req_t *req, int allow_empty, apr_array_header_t **out)
{
    json_t *arr = NULL;
    const char *one = NULL, *why, *name;
    int has_arr = 0, has_one = 0, i, j;

    if (so_in_array(req, req->json, "tags", 0, MAX_TAGS_PER_OBJECT, &arr, &has_arr) != APR_SUCCESS
        || so_in_str(req, req->json, "name", 0, 4 * SO_TAG_NAME_MAX, &one, &has_one) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!has_arr && !has_one) {
        return so_api_error(req, SO_E_INVALID, "field 'tags' is required (an array of tag names)", "");
    }
    *out = apr_array_make(req->pool, has_arr ? (int)json_array_size(arr) + 1 : 1, sizeof(const char *));
    for (i = 0; has_arr && i < (int)json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, (size_t)i);
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
            return so_api_error(req, SO_E_INVALID, "field 'tags' holds tag names (strings)", "");
        }
        if ((why = so_tag_name_check(req->pool, json_string_value(v), &name)) != NULL) {
            return so_api_error(req, SO_E_TAG_NAME, why, json_string_value(v));
        }
        for (j = 0; j < (*out)->nelts && strcmp(APR_ARRAY_IDX(*out, j, const char *), name); j++) {
        }
        if (j == (*out)->nelts) {
            APR_ARRAY_PUSH(*out, const char *) = name;
        }
    }
    if (has_one) {
        if ((why = so_tag_name_check(req->pool, one, &name)) != NULL) {
            return so_api_error(req, SO_E_TAG_NAME, why, "");
        }
        APR_ARRAY_PUSH(*out, const char *) = name;
    }
    if (!allow_empty && (*out)->nelts == 0) {
        return so_api_error(req, SO_E_INVALID, "field 'tags' lists no tag", "");
    }
    return APR_SUCCESS;
}

static json_t *tag_json(so_req_t *req, const so_tag_t *t)
{
    return json_pack("{s:I,s:s,s:I,s:I,s:I,s:o}", "id", (json_int_t)t->id, "name", t->name, "orders",
                     (json_int_t)t->orders, "certificates", (json_int_t)t->certificates, "uses",
                     (json_int_t)(t->orders + t->certificates), "created_at",
                     so_json_time(req->pool, t->created_at));
}

/* ------------------------------------------------------------------------- */
/* /tags                                                                       */

static apr_status_t tags_list(so_req_t *req)
{
    const char *pattern = so_req_query(req, "pattern");
    apr_array_header_t *tags;
    apr_int64_t total;
    json_t *results;
    apr_status_t rv;
    int limit, offset, i;

    if (so_api_paging(req, 100, 1000, &limit, &offset) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (pattern && strlen(pattern) > 4 * SO_TAG_NAME_MAX) {
        return so_api_error(req, SO_E_INVALID, "pattern is too long", "");
    }
    rv = so_store_tags(so_req_db(req), req->pool, req->auth->team_id,
                       pattern && *pattern ? so_like_pattern(req->pool, so_str_lower(req->pool, pattern), 1)
                                           : "",
                       limit, offset, &tags, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < tags->nelts; i++) {
        json_array_append_new(results, tag_json(req, APR_ARRAY_IDX(tags, i, so_tag_t *)));
    }
    return so_api_ok_list(req, results, total);
}

static apr_status_t tag_get(so_req_t *req)
{
    so_tag_t *t;
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_tag_get(so_req_db(req), req->pool, req->auth->team_id, id, &t);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No tag %" APR_INT64_T_FMT, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok(req, tag_json(req, t));
}

static apr_status_t tag_create(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *name = NULL, *why;
    apr_array_header_t *all;
    apr_int64_t id, total;
    apr_status_t rv;

    if (so_in_str(req, req->json, "name", 1, 4 * SO_TAG_NAME_MAX, &name, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((why = so_tag_name_check(req->pool, name, &name)) != NULL) {
        return so_api_error(req, SO_E_TAG_NAME, why, "");
    }
    if ((rv = so_store_tags(db, req->pool, req->auth->team_id, "", 1, 0, &all, &total)) != APR_SUCCESS) {
        return rv;
    }
    if (total >= MAX_TAGS_PER_TEAM) {
        return so_api_errorf(req, SO_E_LIMIT, "A team has at most %d tags", MAX_TAGS_PER_TEAM);
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_tag_insert(db, req->pool, req->auth->team_id, name, req->now, &id);
    if ((rv = so_db_end(db, rv)) == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_TAG_EXISTS, "There is a tag named %s already", name);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

static apr_status_t tag_rename(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *name = NULL, *why;
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (so_in_str(req, req->json, "name", 1, 4 * SO_TAG_NAME_MAX, &name, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((why = so_tag_name_check(req->pool, name, &name)) != NULL) {
        return so_api_error(req, SO_E_TAG_NAME, why, "");
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_tag_rename(db, req->pool, req->auth->team_id, id, name);
    rv = so_db_end(db, rv);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No tag %" APR_INT64_T_FMT, id);
    }
    if (rv == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_TAG_EXISTS, "There is a tag named %s already", name);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

static apr_status_t tag_delete(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_tag_delete(db, req->pool, req->auth->team_id, id);
    rv = so_db_end(db, rv);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No tag %" APR_INT64_T_FMT, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

/* ------------------------------------------------------------------------- */
/* tags of an order or of one of its certificates                             */

static apr_status_t answer_tags(so_req_t *req, const so_order_t *o, const char *serial, int limit,
                                int offset)
{
    apr_array_header_t *tags;
    json_t *results = json_array();
    apr_status_t rv = so_store_tags_of(so_req_db(req), req->pool, req->auth->team_id, o->id, serial,
                                       &tags);
    int i;
    if (rv != APR_SUCCESS) {
        json_decref(results);
        return rv;
    }
    for (i = offset; i < tags->nelts && i < offset + limit; i++) {
        so_tag_t *t = APR_ARRAY_IDX(tags, i, so_tag_t *);
        json_array_append_new(results, json_pack("{s:I,s:s}", "id", (json_int_t)t->id, "name", t->name));
    }
    return so_api_ok(req, json_pack("{s:I,s:o,s:o,s:I}", "order_id", (json_int_t)o->id, "serial",
                                    serial ? json_string(serial) : json_null(), "results", results,
                                    "total", (json_int_t)tags->nelts));
}

static apr_status_t object_tags(so_req_t *req)
{
    so_order_t *o;
    const char *serial;
    int limit, offset;
    apr_status_t rv;

    if (so_api_paging(req, MAX_TAGS_PER_OBJECT, MAX_TAGS_PER_OBJECT, &limit, &offset) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = load_target(req, &o, &serial);
    return rv != APR_SUCCESS ? rv : answer_tags(req, o, serial, limit, offset);
}

/* POST adds, PUT replaces the whole set. */
static apr_status_t object_tags_set(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    int replace = !strcmp(req->method, "PUT");
    apr_array_header_t *names, *now_tags;
    so_order_t *o;
    const char *serial;
    apr_status_t rv;
    int i;

    if (read_names(req, replace, &names) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = load_target(req, &o, &serial)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    if (replace) {
        rv = so_store_tags_clear(db, req->pool, req->auth->team_id, o->id, serial);
    }
    for (i = 0; rv == APR_SUCCESS && i < names->nelts; i++) {
        apr_int64_t tag_id;
        rv = so_store_tag_ensure(db, req->pool, req->auth->team_id,
                                 APR_ARRAY_IDX(names, i, const char *), req->now, &tag_id);
        if (rv == APR_SUCCESS) {
            rv = so_store_tag_attach(db, req->pool, req->auth->team_id, o->id, serial, tag_id,
                                     req->now);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_tags_of(db, req->pool, req->auth->team_id, o->id, serial, &now_tags);
        if (rv == APR_SUCCESS && now_tags->nelts > MAX_TAGS_PER_OBJECT) {
            so_db_rollback(db);
            return so_api_errorf(req, SO_E_LIMIT, "An order or certificate has at most %d tags",
                                 MAX_TAGS_PER_OBJECT);
        }
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return answer_tags(req, o, serial, MAX_TAGS_PER_OBJECT, 0);
}

static apr_status_t object_tag_remove(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    const char *serial;
    apr_int64_t tag_id;
    int removed = 0;
    apr_status_t rv;

    if ((rv = load_target(req, &o, &serial)) != APR_SUCCESS) {
        return rv;
    }
    if (so_req_param_id(req, "tag_id", &tag_id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_tag_detach(db, req->pool, req->auth->team_id, o->id, serial, tag_id, &removed);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!removed) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "Tag %" APR_INT64_T_FMT " is not on this %s", tag_id,
                             serial ? "certificate" : "order");
    }
    return answer_tags(req, o, serial, MAX_TAGS_PER_OBJECT, 0);
}

/* ------------------------------------------------------------------------- */
/* the order list filter and the orders' fields                                */

/* tag=<name> (repeatable): orders with one of the tags (tag_match=all: with all of
 * them), on the order itself or on one of its certificates. */
static apr_status_t tag_filter(so_req_t *req, so_order_filter_t *q)
{
    apr_array_header_t *tags = so_req_query_all(req, "tag");
    const char *match = so_req_query(req, "tag_match"), *name;
    int all = 0, i;

    if (match && *match) {
        if (!strcmp(match, "all")) {
            all = 1;
        }
        else if (strcmp(match, "any")) {
            return so_api_error(req, SO_E_INVALID, "tag_match must be any or all", "");
        }
    }
    if (tags->nelts == 0) {
        return APR_SUCCESS;
    }
    if (tags->nelts > MAX_FILTER_TAGS) {
        return so_api_errorf(req, SO_E_INVALID, "at most %d tag parameters", MAX_FILTER_TAGS);
    }
    for (i = 0; i < tags->nelts; i++) {
        if (so_tag_name_check(req->pool, APR_ARRAY_IDX(tags, i, const char *), &name) != NULL) {
            return so_api_error(req, SO_E_INVALID, "query parameter 'tag' must be a tag name", "");
        }
        APR_ARRAY_IDX(tags, i, const char *) = name;
    }
    q->tags = tags;
    q->tags_all = all;
    return APR_SUCCESS;
}


void so_api_tags_init(void)
{
    so_api_orders_add_filter(tag_filter);
}

const so_route_t so_routes_tags[] = {
    {"GET", "/tags", tags_list, SO_ROLE_VIEWER, 0},
    {"POST", "/tags", tag_create, SO_ROLE_MEMBER, 0},
    {"GET", "/tags/{id}", tag_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/tags/{id}", tag_rename, SO_ROLE_MEMBER, 0},
    {"DELETE", "/tags/{id}", tag_delete, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}/tags", object_tags, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/orders/{id}/tags", object_tags_set, SO_ROLE_MEMBER, 0},
    {"PUT", "/ssl/orders/{id}/tags", object_tags_set, SO_ROLE_MEMBER, 0},
    {"DELETE", "/ssl/orders/{id}/tags/{tag_id}", object_tag_remove, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}/certificates/{serial}/tags", object_tags, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/orders/{id}/certificates/{serial}/tags", object_tags_set, SO_ROLE_MEMBER, 0},
    {"PUT", "/ssl/orders/{id}/certificates/{serial}/tags", object_tags_set, SO_ROLE_MEMBER, 0},
    {"DELETE", "/ssl/orders/{id}/certificates/{serial}/tags/{tag_id}", object_tag_remove,
     SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
