/* mod_sslorders: certificate bundles for download.
 *   GET /ssl/download-formats              the formats (the portal's download table)
 *   GET /ssl/orders/{id}/download          ?format=...&certificate_id=... */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_seal.h"
#include "../core/so_metrics.h"
#include "../core/so_bundle.h"
#include "../core/so_doctype.h"
#include "../core/so_memo.h"
#include "../core/so_text.h"
#include "../core/so_util.h"
#include "../store/so_store_cert.h"

/* Built bundles by certificate and format: a certificate never changes, and building
 * checks the chain's signatures (about 1 ms with a P-384 CA). */
static so_memo_t *bundles;

void so_downloads_cache_init(apr_pool_t *p)
{
    if (so_memo_create(&bundles, p, 32 * 1024 * 1024) != APR_SUCCESS) {
        bundles = NULL;
    }
}

static const char *ctype_of_ext(const char *ext)
{
    if (!strcmp(ext, "zip")) {
        return "application/zip";
    }
    if (!strcmp(ext, "p7b") || !strcmp(ext, "cer")) {
        return "application/x-pkcs7-certificates";
    }
    if (!strcmp(ext, "der")) {
        return "application/pkix-cert";
    }
    return "application/x-pem-file";
}

static apr_status_t list_formats(so_req_t *req)
{
    const so_bundle_format_t *f;
    const so_bundle_software_t *sw;
    json_t *formats = json_array(), *software = json_array();

    for (f = so_bundle_formats(); f->name; f++) {
        json_array_append_new(formats,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", f->name, "label",
                                        f->label, "description", f->description, "extension",
                                        f->extension, "content_type", ctype_of_ext(f->extension),
                                        "portal", f->portal));
    }
    for (sw = so_bundle_software_list(); sw->id; sw++) {
        json_array_append_new(software, json_pack("{s:s,s:s,s:s}", "id", sw->id, "label", sw->label,
                                                  "format", sw->format));
    }
    return so_api_ok(req, json_pack("{s:o,s:I,s:o}", "results", formats, "total",
                                    (json_int_t)json_array_size(formats), "software", software));
}

/* The order's certificate asked for by certificate_id, else its current one; not found,
   another order's or none issued yet: the error answer */
static apr_status_t pick_cert(so_req_t *req, so_db_t *db, const so_order_t *o,
                              apr_int64_t cert_id, so_cert_t **cp)
{
    apr_status_t rv;

    *cp = NULL;
    if (cert_id) {
        rv = so_store_cert_get(db, req->pool, o->team_id, cert_id, cp);
        if (rv == APR_ENOENT || (rv == APR_SUCCESS && (*cp)->order_id != o->id)) {
            return so_api_errorf(req, SO_E_NOT_FOUND,
                                 "Order %" APR_INT64_T_FMT " has no certificate %" APR_INT64_T_FMT,
                                 o->id, cert_id);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        apr_array_header_t *certs;
        int i;
        if ((rv = so_store_certs_of_order(db, req->pool, o->team_id, o->id, &certs)) != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < certs->nelts; i++) {
            so_cert_t *x = APR_ARRAY_IDX(certs, i, so_cert_t *);
            if (x->is_current) {
                *cp = x;
            }
        }
        if (!*cp) {
            return so_api_errorf(req, SO_E_NOT_ISSUED,
                                 "Order %" APR_INT64_T_FMT " has no certificate yet (it is %s)",
                                 o->id, o->status);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t download(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    so_cert_t *c = NULL;
    so_bundle_t *b;
    so_bundle_input_t in;
    const so_bundle_format_t *fmt;
    const char *format = so_req_query(req, "format"), *why = NULL, *key, *meta = NULL;
    apr_int64_t cert_id = 0;
    apr_status_t rv;

    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (so_q_int(req, "certificate_id", 0, 1, (apr_int64_t)1 << 53, &cert_id) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!format || !*format) {
        format = so_bundle_default_for_software(o->software);
    }
    if (!(fmt = so_bundle_format_find(format))) {
        return so_api_errorf(req, SO_E_FORMAT, "Unknown download format %s",
                             so_text_clean(req->pool, format, 40));
    }
    if ((rv = pick_cert(req, db, o, cert_id, &c)) != APR_SUCCESS) {
        return rv;
    }
    if (c->revoked_at > 0) {
        return so_api_errorf(req, SO_E_REVOKED,
                             "Certificate %s was revoked on %s: it is not offered for download",
                             c->serial, so_time_fmt(req->pool, c->revoked_at));
    }
    key = apr_pstrcat(req->pool, "bundle:", c->sha256, ":", fmt->name, NULL);
    b = apr_pcalloc(req->pool, sizeof(*b));
    if (so_memo_get(bundles, key, req->pool, &b->data, &b->len, &meta)) {
        char *ct = apr_pstrdup(req->pool, meta), *nl = strchr(ct, '\n');
        if (!nl) {
            return APR_EGENERAL;
        }
        *nl = '\0';
        so_metrics_inc(SO_MC_BUNDLE_CACHE_HIT);
        b->format = fmt->name;
        b->content_type = ct;
        b->filename = nl + 1;
    }
    else {
        so_metrics_inc(SO_MC_BUNDLE_CACHE_MISS);
        memset(&in, 0, sizeof(in));
        in.leaf_pem = c->pem;
        in.chain_pem = c->intermediate_pem;
        in.root_pem = c->root_pem;
        in.common_name = c->common_name;
        rv = so_bundle_build(&b, req->pool, &in, fmt->name, &why);
        if (rv != APR_SUCCESS) {
            return rv == APR_ENOENT
                       ? so_api_error(req, SO_E_FORMAT, why ? why : "Unknown format", "")
                       : APR_EGENERAL;
        }
        so_memo_put(bundles, key, b->data, b->len,
                    apr_pstrcat(req->pool, b->content_type, "\n", b->filename, NULL));
    }
    apr_table_setn(req->headers_out, "Content-Disposition",
                   so_doctype_content_disposition(req->pool, "attachment", b->filename));
    apr_table_setn(req->headers_out, "Cache-Control", "private, no-cache");
    apr_table_setn(req->headers_out, "ETag",
                   apr_pstrcat(req->pool, "\"",
                               apr_pstrndup(req->pool, so_sha256_hex(req->pool, b->data, b->len, 0), 32),
                               "\"", NULL));
    req->mtime = c->created_at;
    return so_api_ok_bytes(req, b->data, b->len, b->content_type);
}

const so_route_t so_routes_downloads[] = {
    {"GET", "/ssl/download-formats", list_formats, SO_ROLE_VIEWER, 0},
    {"GET", "/ssl/orders/{id}/download", download, SO_ROLE_VIEWER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
