/* mod_sslorders: contact handles, Openprovider's /customers (team-scoped). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "../core/so_util.h"
#include "../store/so_store_customer.h"

static json_t *customer_json(so_req_t *req, const so_customer_t *c)
{
    const char *full = apr_pstrcat(req->pool, c->first_name, " ", *c->prefix ? c->prefix : "",
                                   *c->prefix ? " " : "", c->last_name, NULL);
    return json_pack(
        "{s:I,s:s,s:s,s:{s:o,s:o,s:o,s:o,s:o},s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o},"
        "s:{s:o,s:o,s:o},s:o,s:o,s:o,s:o,s:I,s:b,s:o,s:o}",
        "id", (json_int_t)c->id, "handle", c->handle, "company_name", c->company_name, "name",
        "first_name", so_json_str(c->first_name), "last_name", so_json_str(c->last_name),
        "initials", so_json_str(c->initials), "prefix", so_json_str(c->prefix), "full_name",
        so_json_str(full), "address", "street", so_json_str(c->street), "number",
        so_json_str(c->number), "suffix", so_json_str(c->suffix), "zipcode",
        so_json_str(c->zipcode), "city", so_json_str(c->city), "state", so_json_str(c->state),
        "country", so_json_str(c->country), "phone", "country_code",
        so_json_str(c->phone_country_code), "area_code", so_json_str(c->phone_area_code),
        "subscriber_number", so_json_str(c->phone_subscriber_number), "email",
        so_json_str(c->email), "vat", so_json_str(c->vat), "locale", so_json_str(c->locale),
        "comments", so_json_str(c->comments), "reseller_id", (json_int_t)c->team_id, "is_deleted",
        0, "created_at", so_json_time(req->pool, c->created_at), "updated_at",
        so_json_time(req->pool, c->updated_at));
}

static int printable(const char *s)
{
    return so_str_is_printable_utf8(s, strlen(s));
}

/* Read the contact fields present in obj into c (partial: absent fields stay). */
static apr_status_t read_contact(so_req_t *req, json_t *obj, so_customer_t *c, int create)
{
    json_t *name = json_object_get(obj, "name"), *addr = json_object_get(obj, "address"),
           *phone = json_object_get(obj, "phone");
    struct {
        json_t *o;
        const char *key;
        const char **dst;
        apr_size_t max;
        int required;
    } f[] = {{obj, "company_name", &c->company_name, 200, 0},
             {obj, "email", &c->email, 254, 1},
             {obj, "vat", &c->vat, 40, 0},
             {obj, "locale", &c->locale, 20, 0},
             {obj, "comments", &c->comments, 2000, 0},
             {name, "first_name", &c->first_name, 100, 1},
             {name, "last_name", &c->last_name, 100, 1},
             {name, "initials", &c->initials, 20, 0},
             {name, "prefix", &c->prefix, 20, 0},
             {addr, "street", &c->street, 200, 1},
             {addr, "number", &c->number, 20, 0},
             {addr, "suffix", &c->suffix, 20, 0},
             {addr, "zipcode", &c->zipcode, 20, 0},
             {addr, "city", &c->city, 100, 1},
             {addr, "state", &c->state, 100, 0},
             {addr, "country", &c->country, 2, 1},
             {phone, "country_code", &c->phone_country_code, 8, 1},
             {phone, "area_code", &c->phone_area_code, 10, 0},
             {phone, "subscriber_number", &c->phone_subscriber_number, 20, 1}};
    unsigned i;

    if ((name && !json_is_object(name)) || (addr && !json_is_object(addr))
        || (phone && !json_is_object(phone))) {
        return so_api_error(req, SO_E_CONTACT, "name, address and phone must be objects", "");
    }
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const char *v = NULL;
        int present = 0;
        if (so_in_str(req, f[i].o, f[i].key, 0, f[i].max, &v, &present) != APR_SUCCESS) {
            req->err_code = SO_E_CONTACT;
            return APR_EINVAL;
        }
        if (present) {
            v = so_str_trim(req->pool, v);
            if (!printable(v)) {
                return so_api_errorf(req, SO_E_CONTACT, "field '%s' holds control characters",
                                     f[i].key);
            }
            *f[i].dst = v;
        }
        else if (!*f[i].dst) {
            *f[i].dst = "";
        }
        if (create && f[i].required && !**f[i].dst) {
            return so_api_errorf(req, SO_E_CONTACT, "field '%s' is required", f[i].key);
        }
    }
    if (*c->country) {
        char *cc = apr_pstrdup(req->pool, c->country);
        if (strlen(cc) != 2 || !apr_isalpha(cc[0]) || !apr_isalpha(cc[1])) {
            return so_api_error(req, SO_E_CONTACT, "address.country must be a two-letter code", "");
        }
        cc[0] = (char)apr_toupper(cc[0]);
        cc[1] = (char)apr_toupper(cc[1]);
        c->country = cc;
    }
    if (*c->email) {
        const char *at = strchr(c->email, '@');
        if (!at || at == c->email || !strchr(at + 1, '.') || strchr(at + 1, '@')
            || strpbrk(c->email, " \t<>()[],;:\"")) {
            return so_api_error(req, SO_E_CONTACT, "email is not an e-mail address", c->email);
        }
    }
    {
        const char *digits[] = {c->phone_country_code, c->phone_area_code,
                                c->phone_subscriber_number};
        for (i = 0; i < 3; i++) {
            const char *s = digits[i];
            if (*s == '+') {
                s++;
            }
            for (; *s; s++) {
                if (!apr_isdigit(*s) && *s != ' ' && *s != '-') {
                    return so_api_error(req, SO_E_CONTACT, "phone numbers hold digits only", "");
                }
            }
        }
    }
    if (create && !*c->first_name && !*c->last_name) {
        return so_api_error(req, SO_E_CONTACT, "name is required", "");
    }
    return APR_SUCCESS;
}

static apr_status_t customers_create(so_req_t *req)
{
    so_customer_t *c = apr_pcalloc(req->pool, sizeof(*c));
    apr_status_t rv;

    if (read_contact(req, req->json, c, 1) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    c->team_id = req->auth->team_id;
    if ((rv = so_store_customer_create(so_req_db(req), req->pool, c, req->now)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:s,s:I}", "handle", c->handle, "id", (json_int_t)c->id));
}

static apr_status_t customers_list(so_req_t *req)
{
    static const char *const patterns[] = {"pattern", "handle_pattern", "email_pattern",
                                           "last_name_pattern", "first_name_pattern",
                                           "company_name_pattern", NULL};
    apr_int64_t limit, offset, total;
    apr_array_header_t *list;
    const char *pattern = NULL;
    json_t *results;
    apr_status_t rv;
    int i;

    if (so_q_int(req, "limit", 100, 1, 1000, &limit)
        || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)) {
        return APR_EINVAL;
    }
    for (i = 0; patterns[i]; i++) {
        const char *v = so_req_query(req, patterns[i]);
        if (v && *v) {
            pattern = so_like_pattern(req->pool, v, strchr(v, '*') == NULL);
            break;
        }
    }
    rv = so_store_customers_list(so_req_db(req), req->pool, req->auth->team_id, pattern, (int)limit,
                                 (int)offset, &list, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results, customer_json(req, APR_ARRAY_IDX(list, i, so_customer_t *)));
    }
    return so_api_ok_list(req, results, total);
}

static apr_status_t load(so_req_t *req, so_customer_t **c)
{
    const char *handle = so_req_param(req, "handle");
    apr_status_t rv = so_store_customer_get(so_req_db(req), req->pool, req->auth->team_id,
                                            handle ? handle : "", c);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No contact handle %s", handle ? handle : "");
    }
    return rv;
}

static apr_status_t customers_get(so_req_t *req)
{
    so_customer_t *c;
    apr_status_t rv = load(req, &c);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, customer_json(req, c));
}

static apr_status_t customers_update(so_req_t *req)
{
    so_customer_t *c;
    const char *handle = NULL;
    apr_status_t rv = load(req, &c);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_in_str(req, req->json, "handle", 0, 64, &handle, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (handle && strcmp(handle, c->handle)) {
        return so_api_error(req, SO_E_CONTACT, "a handle cannot be renamed", handle);
    }
    if (read_contact(req, req->json, c, 0) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!*c->email || !*c->first_name || !*c->last_name || !*c->country) {
        return so_api_error(req, SO_E_CONTACT, "email, name and address.country cannot be emptied", "");
    }
    if ((rv = so_store_customer_update(so_req_db(req), req->pool, c, req->now)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:b}", "success", 1));
}

static apr_status_t customers_delete(so_req_t *req)
{
    const char *handle = so_req_param(req, "handle");
    apr_status_t rv = so_store_customer_delete(so_req_db(req), req->pool, req->auth->team_id, handle);
    if (rv == SO_EDBFOREIGN) {
        return so_api_errorf(req, SO_E_HANDLE_IN_USE, "Contact handle %s is used by an order", handle);
    }
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No contact handle %s", handle);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:b}", "success", 1));
}

const so_route_t so_routes_customers[] = {
    {"GET", "/customers", customers_list, SO_ROLE_VIEWER, 0},
    {"POST", "/customers", customers_create, SO_ROLE_MEMBER, 0},
    {"GET", "/customers/{handle}", customers_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/customers/{handle}", customers_update, SO_ROLE_MEMBER, 0},
    {"DELETE", "/customers/{handle}", customers_delete, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
