/* mod_sslorders: GET /ssl/products, GET /ssl/products/{id} (Openprovider ListProducts,
 * GetProduct), GET /ssl/approver-emails, POST /ssl/csr, POST /ssl/csr/decode. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_org.h"
#include "so_api_svc.h"
#include "../svc/so_svc_br.h"
#include "../core/so_csr.h"
#include "../core/so_domain.h"
#include "../core/so_util.h"
#include "../store/so_store_catalog.h"

static json_t *money(apr_int64_t minor)
{
    return json_real((double)minor / 100.0);
}

static json_t *price_group(const char *pcur, apr_int64_t pval, const char *rcur, apr_int64_t rval)
{
    return json_pack("{s:{s:s,s:o},s:{s:s,s:o}}", "product", "currency", pcur, "price", money(pval),
                     "reseller", "currency", rcur, "price", money(rval));
}

static json_t *parse_json_text(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_array();
}

json_t *so_api_product_json(so_req_t *req, const so_product_t *x, int with_price, int with_software,
                            int with_description)
{
    const char *team_cur = req->auth && req->auth->team_currency && *req->auth->team_currency
                               ? req->auth->team_currency
                               : x->base_currency;
    json_t *o, *prices = json_array();

    if (with_price) {
        int period;
        for (period = 1; period <= x->max_period; period++) {
            /* the list price in the catalogue currency, what the team pays in its own */
            const so_price_t *base = so_product_price(x, period, x->base_currency);
            const so_price_t *res = so_product_price(x, period, team_cur);
            if (!base) {
                base = res;
            }
            if (!res) {
                res = base;
            }
            if (!base) {
                continue;
            }
            json_array_append_new(
                prices,
                json_pack("{s:i,s:o,s:o,s:o}", "period", period, "price",
                          price_group(base->currency, base->price, res->currency, res->price),
                          "extra_domain_price",
                          price_group(base->currency, base->extra_domain, res->currency,
                                      res->extra_domain),
                          "extra_wildcard_domain_price",
                          price_group(base->currency, base->extra_wildcard, res->currency,
                                      res->extra_wildcard)));
        }
    }
    o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)x->id,
                  "name", x->name, "brand_name", x->brand_name, "category", x->category,
                  "sub_category", x->sub_category, "validation_method", x->validation_method,
                  "order_module", x->order_module, "description",
                  with_description ? x->description : "", "delivery_time", x->delivery_time,
                  "encryption", x->encryption, "free_refund_period", x->free_refund_period,
                  "free_reissue_period", x->free_reissue_period, "root", x->root);
    json_object_set_new(o, "included_domains_count", json_integer(x->included_domains_count));
    json_object_set_new(o, "number_of_domains", json_integer(x->number_of_domains));
    json_object_set_new(o, "max_domains", json_integer(x->max_domains));
    json_object_set_new(o, "max_period", json_integer(x->max_period));
    json_object_set_new(o, "is_wildcard_supported", json_boolean(x->is_wildcard));
    json_object_set_new(o, "is_wildcard_multidomain_supported", json_boolean(x->is_wildcard_multidomain));
    json_object_set_new(o, "is_extended_validation_supported", json_boolean(x->is_ev));
    json_object_set_new(o, "is_idn_supported", json_boolean(x->is_idn));
    json_object_set_new(o, "is_mobile_supported", json_false());
    json_object_set_new(o, "is_sgc_supported", json_false());
    json_object_set_new(o, "bypass_san", json_false());
    json_object_set_new(o, "supported_software",
                        with_software ? parse_json_text(x->supported_software) : json_array());
    json_object_set_new(o, "warranty", price_group(x->base_currency, x->warranty, x->base_currency,
                                                   x->warranty));
    json_object_set_new(o, "prices", prices);
    json_object_set_new(o, "level_prices", json_array());
    /* extensions for the portal */
    json_object_set_new(o, "is_multidomain", json_boolean(x->is_multidomain));
    json_object_set_new(o, "features", parse_json_text(x->features));
    json_object_set_new(o, "currency", json_string(team_cur));
    return o;
}

/* order_by.<key>=asc|desc in the order given; keys from allowed (NULL-terminated
 * pairs of query key and SQL column). Answers 400 and returns APR_EINVAL on bad input. */
apr_status_t so_api_order_by(so_req_t *req, const char *const *allowed, const char **out)
{
    const char *sql = "";
    int i, j;

    for (i = 0; i < req->query->nelts; i++) {
        so_kv_t *kv = &APR_ARRAY_IDX(req->query, i, so_kv_t);
        const char *col = NULL, *dir;
        if (strncmp(kv->key, "order_by.", 9)) {
            continue;
        }
        for (j = 0; allowed[j]; j += 2) {
            if (!strcmp(kv->key + 9, allowed[j])) {
                col = allowed[j + 1];
            }
        }
        if (!col) {
            return so_api_errorf(req, SO_E_INVALID, "unknown sort key '%s'", kv->key);
        }
        if (!strcasecmp(kv->value, "asc")) {
            dir = " ASC";
        }
        else if (!strcasecmp(kv->value, "desc")) {
            dir = " DESC";
        }
        else {
            return so_api_errorf(req, SO_E_INVALID, "%s must be asc or desc", kv->key);
        }
        sql = apr_pstrcat(req->pool, sql, *sql ? ", " : "", col, dir, NULL);
    }
    *out = *sql ? sql : NULL;
    return APR_SUCCESS;
}

static apr_status_t products_list(so_req_t *req)
{
    static const char *const sort_keys[] = {
        "name", "name", "brand_name", "brand_name", "category", "category", "sub_category",
        "sub_category", "brand_seqno", "brand_seqno", "product_seqno", "product_seqno", NULL};
    apr_int64_t limit, offset, total;
    int with_price, with_sw, with_desc, i;
    const char *order_by;
    apr_array_header_t *list;
    json_t *results;
    apr_status_t rv;

    if (so_q_int(req, "limit", 0, 0, 1000, &limit) || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)
        || so_q_bool(req, "with_price", 0, &with_price)
        || so_q_bool(req, "with_supported_software", 0, &with_sw)
        || so_q_bool(req, "with_description", 0, &with_desc)
        || so_api_order_by(req, sort_keys, &order_by)) {
        return APR_EINVAL;
    }
    rv = so_store_products_list(so_req_db(req), req->pool, order_by, limit ? (int)limit : 1000,
                                (int)offset, &list, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results, so_api_product_json(req, APR_ARRAY_IDX(list, i, so_product_t *),
                                                           with_price, with_sw, with_desc));
    }
    return so_api_ok_list(req, results, total);
}

static apr_status_t product_get(so_req_t *req)
{
    apr_int64_t id;
    so_product_t *x;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_product_get(so_req_db(req), req->pool, id, &x);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !x->active)) {
        return so_api_error(req, SO_E_NOT_FOUND, "No such product", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, so_api_product_json(req, x, 1, 1, 1));
}

static apr_status_t approver_emails(so_req_t *req)
{
    const char *domain = so_req_query(req, "domain"), *bad;
    apr_int64_t product_id;
    apr_array_header_t *list;
    json_t *results;
    int i;

    if (!domain || !*domain) {
        return so_api_error(req, SO_E_INVALID, "query parameter 'domain' is required", "");
    }
    domain = so_str_lower(req->pool, domain);
    if ((bad = so_hostname_check(domain, 1)) != NULL) {
        return so_api_errorf(req, SO_E_HOSTNAME, "domain: %s", bad);
    }
    if (so_q_int(req, "product_id", 0, 0, 0x7fffffff, &product_id) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (product_id) {
        so_product_t *x;
        apr_status_t rv = so_store_product_get(so_req_db(req), req->pool, product_id, &x);
        if (rv == APR_ENOENT || (rv == APR_SUCCESS && !x->active)) {
            return so_api_errorf(req, SO_E_PRODUCT, "No such product: %" APR_INT64_T_FMT, product_id);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (so_approver_emails(req->pool, domain, &list) != APR_SUCCESS) {
        return so_api_errorf(req, SO_E_HOSTNAME, "%s has no registrable domain", domain);
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results, json_string(APR_ARRAY_IDX(list, i, const char *)));
    }
    return so_api_ok(req, json_pack("{s:o}", "results", results));
}

json_t *so_api_csr_json(so_req_t *req, const so_csr_t *c)
{
    json_t *sans = json_array(), *names = json_array();
    const char *why = NULL;
    int i;
    for (i = 0; i < c->sans->nelts; i++) {
        json_array_append_new(sans, so_json_str(APR_ARRAY_IDX(c->sans, i, const char *)));
    }
    for (i = 0; i < c->names->nelts; i++) {
        json_array_append_new(names, so_json_str(APR_ARRAY_IDX(c->names, i, const char *)));
    }
    if (so_csr_check_key(c, &why) == APR_SUCCESS
        && so_svc_key_blocked(so_api_svc_ctx(req), c, &why) != APR_EINVAL) {
        why = NULL; /* a database error is no verdict: the order's own check will tell */
    }
    return json_pack("{s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o},s:{s:i,s:o},s:s,s:o,s:i,"
                     "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:s}",
                     "subject", "common_name", so_json_str(c->common_name), "country",
                     so_json_str(c->country), "email", so_json_str(c->email), "locality",
                     so_json_str(c->locality), "organization", so_json_str(c->organization),
                     "state", so_json_str(c->state), "unit", so_json_str(c->unit), "public_key",
                     "bits", c->key_bits, "key", so_json_str(c->pubkey_pem),
                     "signature_hash_algorithm", c->sig_hash, "subject_alternative_name", sans,
                     "domain_names_count", c->names->nelts, "key_type", c->key_type, "curve",
                     c->curve, "signature_algorithm", c->sig_alg, "md5", c->md5, "sha1", c->sha1,
                     "sha256", c->sha256, "public_key_sha1", c->pubkey_sha1 ? c->pubkey_sha1 : "",
                     "names", names, "key_ok", why == NULL, "key_problem", why ? why : "");
}

static apr_status_t csr_decode(so_req_t *req)
{
    const char *pem = NULL, *why = NULL;
    so_csr_t *c;

    if (so_in_str(req, req->json, "csr", 1, SO_CSR_MAX_PEM, &pem, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (so_csr_parse(req->pool, pem, &c, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_CSR, "The CSR is not valid", why);
    }
    return so_api_ok(req, so_api_csr_json(req, c));
}

static apr_status_t csr_create(so_req_t *req)
{
    so_csr_gen_t g;
    apr_int64_t bits = 2048, managed_id = 0;
    json_t *sans = NULL, *answer;
    int with_config = 0, save = 0, i;
    const char *csr, *key, *config, *command, *why, *sha = NULL, *bad, *friendly = NULL;

    memset(&g, 0, sizeof(g));
    g.key_type = "rsa";
    if (so_in_str(req, req->json, "common_name", 1, 253, &g.common_name, NULL)
        || so_in_str(req, req->json, "country", 1, 2, &g.country, NULL)
        || so_in_str(req, req->json, "email", 0, 254, &g.email, NULL)
        || so_in_str(req, req->json, "locality", 0, 128, &g.locality, NULL)
        || so_in_str(req, req->json, "organization", 0, 64, &g.organization, NULL)
        || so_in_str(req, req->json, "state", 0, 128, &g.state, NULL)
        || so_in_str(req, req->json, "unit", 0, 64, &g.unit, NULL)
        || so_in_str(req, req->json, "key_type", 0, 8, &g.key_type, NULL)
        || so_in_str(req, req->json, "curve", 0, 8, &g.curve, NULL)
        || so_in_str(req, req->json, "signature_hash_algorithm", 0, 8, &sha, NULL)
        || so_in_int(req, req->json, "bits", 0, 0, 16384, &bits, NULL)
        || so_in_bool(req, req->json, "with_config", 0, &with_config, NULL)
        || so_in_array(req, req->json, "subject_alternative_name", 0, 100, &sans, NULL)
        || so_in_bool(req, req->json, "save_to_csr_manager", 0, &save, NULL)
        || so_in_str(req, req->json, "friendly_name", 0, 255, &friendly, NULL)) {
        return APR_EINVAL;
    }
    if (save && req->auth->role < SO_ROLE_MEMBER) {
        return so_api_errorf(req, SO_E_FORBIDDEN,
                             "Your role in team %s (%s) does not allow saving CSRs",
                             req->auth->team_slug, so_role_name(req->auth->role));
    }
    g.common_name = so_str_lower(req->pool, g.common_name);
    if ((bad = so_hostname_check(g.common_name, 1)) != NULL) {
        return so_api_errorf(req, SO_E_HOSTNAME, "common_name: %s", bad);
    }
    if (strlen(g.country) != 2 || !apr_isalpha(g.country[0]) || !apr_isalpha(g.country[1])) {
        return so_api_error(req, SO_E_INVALID, "country must be a two-letter code (NL, US, ...)", "");
    }
    g.country = apr_pstrdup(req->pool, g.country);
    ((char *)g.country)[0] = (char)apr_toupper(g.country[0]);
    ((char *)g.country)[1] = (char)apr_toupper(g.country[1]);
    if (strcmp(g.key_type, "rsa") && strcmp(g.key_type, "ec")) {
        return so_api_error(req, SO_E_INVALID, "key_type must be rsa or ec", "");
    }
    if (!strcmp(g.key_type, "rsa") && bits != 2048 && bits != 3072 && bits != 4096) {
        return so_api_error(req, SO_E_INVALID, "bits must be 2048, 3072 or 4096", "");
    }
    if (!strcmp(g.key_type, "ec") && g.curve && strcmp(g.curve, "P-256") && strcmp(g.curve, "P-384")) {
        return so_api_error(req, SO_E_INVALID, "curve must be P-256 or P-384", "");
    }
    if (sha && strcmp(sha, "sha2") && strcmp(sha, "sha256")) {
        return so_api_error(req, SO_E_INVALID, "signature_hash_algorithm must be sha2 (SHA-1 is not signed)", "");
    }
    g.bits = (int)bits;
    g.sans = apr_array_make(req->pool, 4, sizeof(const char *));
    for (i = 0; sans && i < (int)json_array_size(sans); i++) {
        json_t *v = json_array_get(sans, (size_t)i);
        const char *h;
        if (!json_is_string(v)) {
            return so_api_error(req, SO_E_INVALID, "subject_alternative_name holds strings", "");
        }
        h = so_str_lower(req->pool, json_string_value(v));
        if ((bad = so_hostname_check(h, 1)) != NULL) {
            return so_api_errorf(req, SO_E_HOSTNAME, "%s: %s", h, bad);
        }
        APR_ARRAY_PUSH(g.sans, const char *) = h;
    }
    if (so_csr_generate(req->pool, &g, &csr, &key, &config, &command, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, "The CSR could not be generated", why);
    }
    if (save) {
        /* the CSR Manager keeps the CSR only, never the key */
        apr_status_t rv = so_api_managed_csr_save(req, csr, friendly ? so_str_trim(req->pool, friendly) : "",
                                                  &managed_id);
        if (rv != APR_SUCCESS) {
            return rv == APR_EACCES ? APR_EINVAL : rv;
        }
    }
    answer = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "csr", csr, "key", key, "command", command,
                       "config", with_config ? config : "", "config_path",
                       with_config ? apr_pstrcat(req->pool, g.common_name, ".cnf", NULL) : "",
                       "key_path", apr_pstrcat(req->pool, g.common_name, ".key", NULL));
    if (save) {
        json_object_set_new(answer, "managed_csr_id", json_integer(managed_id));
    }
    return so_api_ok(req, answer);
}

const so_route_t so_routes_catalog[] = {
    {"GET", "/ssl/products", products_list, SO_ROLE_VIEWER, 0},
    {"GET", "/ssl/products/{id}", product_get, SO_ROLE_VIEWER, 0},
    {"GET", "/ssl/approver-emails", approver_emails, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/csr/decode", csr_decode, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/csr", csr_create, SO_ROLE_VIEWER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
