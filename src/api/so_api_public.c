/* mod_sslorders: the public routes (SetHandler sslorders-public): the CA certificates and
 * CRL (/pki/...) and the approval links of e-mail validation (/approve/{token}). */
#include <string.h>

#include <apr_strings.h>

#include "so_br.h"
#include "../store/so_store_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../core/so_ca.h"
#include "../core/so_dcv.h"
#include "../svc/so_svc_br.h"
#include "../core/so_domain.h"
#include "../core/so_jsonw.h"
#include "../core/so_mail.h"
#include "../core/so_text.h"
#include "../core/so_util.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_review.h"
#include "../store/so_store_seal.h"


/* ---- public routes (SetHandler sslorders-public) ------------------------------------------ */


static apr_status_t pki_file(so_req_t *req)
{
    const char *name = so_req_param(req, "file");
    const unsigned char *der;
    apr_size_t len;
    apr_int64_t tu;
    apr_status_t rv;

    if (!req->cfg->ca) {
        return so_api_error(req, SO_E_NOT_FOUND, "No CA is configured here", "");
    }
    apr_table_setn(req->headers_out, "Cache-Control", "public, max-age=3600");
    if (!strcmp(name, "root.crt")) {
        der = so_ca_root_der(req->cfg->ca, &len);
        return so_api_ok_bytes(req, der, len, "application/pkix-cert");
    }
    if (!strcmp(name, "intermediate.crt")) {
        der = so_ca_intermediate_der(req->cfg->ca, &len);
        return so_api_ok_bytes(req, der, len, "application/pkix-cert");
    }
    if (!strcmp(name, "root.pem")) {
        const char *pem = so_ca_root_pem(req->cfg->ca);
        return so_api_ok_bytes(req, pem, strlen(pem), "application/x-pem-file");
    }
    if (!strcmp(name, "chain.pem")) {
        const char *pem = so_ca_chain_pem(req->cfg->ca);
        return so_api_ok_bytes(req, pem, strlen(pem), "application/x-pem-file");
    }
    if (!strcmp(name, "crl")) {
        if ((rv = so_iss_crl(so_api_svc_ctx(req), &der, &len, &tu)) != APR_SUCCESS) {
            return rv;
        }
        apr_table_setn(req->headers_out, "Cache-Control", "public, max-age=300");
        apr_table_setn(req->headers_out, "Last-Modified", so_time_http(req->pool, tu));
        return so_api_ok_bytes(req, der, len, "application/pkix-crl");
    }
    return so_api_error(req, SO_E_NOT_FOUND, "No such file", name);
}

static const char *page(so_req_t *req, const char *title, const char *body)
{
    return apr_pstrcat(
        req->pool,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>",
        so_text_html_escape(req->pool, title),
        "</title><style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;"
        "padding:0 1em;color:#222}li{font-family:monospace}button{font-size:1.1em;"
        "padding:.5em 1.5em}</style></head><body><h1>",
        so_text_html_escape(req->pool, title), "</h1>", body, "</body></html>\n", NULL);
}

static apr_status_t html(so_req_t *req, int status, const char *text)
{
    req->status = status;
    req->raw_body = text;
    req->raw_len = strlen(text);
    req->raw_ctype = "text/html; charset=utf-8";
    apr_table_setn(req->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'");
    apr_table_setn(req->headers_out, "Referrer-Policy", "no-referrer");
    return APR_SUCCESS;
}

static apr_status_t approval(so_req_t *req)
{
    const char *token = so_req_param(req, "token"), *email = NULL, *list = "";
    int approve = !strcmp(req->method, "POST");
    apr_array_header_t *names;
    so_order_t *o;
    apr_status_t rv;
    int i;

    rv = so_iss_approval(so_api_svc_ctx(req), token, approve, &o, &names, &email);
    if (rv == APR_ENOENT) {
        return html(req, 404,
                    page(req, "Approval link not valid",
                         "<p>This approval link is unknown, was used already, or has expired. "
                         "Ask for a new one from the certificate's owner.</p>"));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < names->nelts; i++) {
        list = apr_pstrcat(req->pool, list, "<li>",
                           so_text_html_escape(req->pool, APR_ARRAY_IDX(names, i, const char *)),
                           "</li>", NULL);
    }
    if (approve) {
        return html(req, 200,
                    page(req, "Approved",
                         apr_pstrcat(req->pool, "<p>Thank you. You approved the certificate for:</p><ul>",
                                     list, "</ul>", NULL)));
    }
    return html(req, 200,
                page(req, "Approve a certificate request",
                     apr_pstrcat(req->pool,
                                 "<p>A certificate was requested (order ",
                                 so_i64str(req->pool, o->id), ", ",
                                 so_text_html_escape(req->pool, o->product_name),
                                 ") for these names:</p><ul>", list,
                                 "</ul><p>You receive this as ",
                                 so_text_html_escape(req->pool, email),
                                 ", an approver address of their domain. Approve only if you "
                                 "expect this request.</p><form method=\"post\"><button "
                                 "type=\"submit\">Approve</button></form>",
                                 NULL)));
}

const so_route_t so_routes_public[] = {
    {"GET", "/pki/{file}", pki_file, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/approve/{token}", approval, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"POST", "/approve/{token}", approval, SO_ROLE_NONE, SO_RF_PUBLIC | SO_RF_RAW},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
