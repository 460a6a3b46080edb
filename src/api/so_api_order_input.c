/* mod_sslorders: SSL orders: reading the order input (the body of create, update and reissue; its
 * checks are the service so_svc_order_apply, src/svc/so_svc_order.c). See so_api_orders.c. */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../svc/so_svc_order.h"
#include "../core/so_metrics.h"
#include "../svc/so_outbox.h"
#include "../core/so_dcv.h"
#include "../core/so_crypto.h"
#include "../core/so_csr.h"
#include "../core/so_domain.h"
#include "../core/so_jsonw.h"
#include "../core/so_memo.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_order.h"
#include "../store/so_store_cert.h"
#include "so_api_order_int.h"

#define MAX_NAMES 1000

static const char *const software_ids[] = {"linux", "windows", "apache", "nginx", "iis", "tomcat",
                                           "nodejs", "cpanel", "amazon", "other", NULL};

/* ------------------------------------------------------------------------- */
/* input                                                                       */

static apr_status_t read_names(so_req_t *req, json_t *a, const char *field,
                               apr_array_header_t **out)
{
    size_t i;
    *out = apr_array_make(req->pool, (int)json_array_size(a) + 1, sizeof(const char *));
    for (i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 253) {
            return so_api_errorf(req, SO_E_INVALID, "%s must hold host names (strings)", field);
        }
        APR_ARRAY_PUSH(*out, const char *) = so_str_lower(req->pool, json_string_value(v));
    }
    return APR_SUCCESS;
}

static apr_status_t read_dcv(so_req_t *req, json_t *a, apr_array_header_t **out)
{
    size_t i;
    *out = apr_array_make(req->pool, (int)json_array_size(a) + 1, sizeof(so_order_host_t));
    for (i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        so_order_host_t *h;
        const char *host = NULL, *method = NULL;
        if (!json_is_object(v)) {
            return so_api_error(req, SO_E_INVALID,
                                "domain_validation_methods holds objects {host_name, method}", "");
        }
        if (so_in_str(req, v, "host_name", 1, 253, &host, NULL)
            || so_in_str(req, v, "method", 1, 16, &method, NULL)) {
            return APR_EINVAL;
        }
        method = so_str_lower(req->pool, method);
        if (!so_rules_dcv_method_ok(method)) {
            return so_api_errorf(req, SO_E_DCV_METHOD,
                                 "method '%s' of %s is not one of email, dns, dns-persist, "
                                 "dns-account, http, https", method,
                                 host);
        }
        if (!strcmp(method, "email") && so_br_email_check(req, host) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        h = apr_array_push(*out);
        h->host_name = so_str_lower(req->pool, host);
        h->method = method;
    }
    return APR_SUCCESS;
}

apr_status_t so_order_in_read(so_req_t *req, so_order_in_t *in)
{
    json_t *b = req->json, *hn = NULL, *dcv = NULL;
    int has_hn = 0, has_dcv = 0;

    memset(in, 0, sizeof(*in));
    if (so_in_int(req, b, "id", 0, 0, 0x7fffffff, &in->id, &in->has_id)
        || so_in_int(req, b, "product_id", 0, 1, 0x7fffffff, &in->product_id, &in->has_product)
        || so_in_int(req, b, "period", 0, 1, 10, &in->period, &in->has_period)
        || so_in_int(req, b, "domain_amount", 0, 0, MAX_NAMES, &in->domain_amount,
                     &in->has_domain_amount)
        || so_in_int(req, b, "wildcard_domain_amount", 0, 0, MAX_NAMES, &in->wildcard_amount,
                     &in->has_wildcard_amount)
        || so_in_str(req, b, "csr", 0, SO_CSR_MAX_PEM, &in->csr, &in->has_csr)
        || so_in_int(req, b, "managed_csr_id", 0, 1, 0x7fffffff, &in->managed_csr_id,
                     &in->has_managed_csr)
        || so_in_str(req, b, "software_id", 0, 32, &in->software, &in->has_software)
        || so_in_str(req, b, "organization_handle", 0, 64, &in->organization_handle, &in->has_org)
        || so_in_str(req, b, "technical_handle", 0, 64, &in->technical_handle, &in->has_tech)
        || so_in_str(req, b, "administrative_handle", 0, 64, &in->administrative_handle,
                     &in->has_admin)
        || so_in_str(req, b, "billing_handle", 0, 64, &in->billing_handle, &in->has_billing)
        || so_in_str(req, b, "approver_email", 0, 254, &in->approver_email, &in->has_approver)
        || so_in_str(req, b, "autorenew", 0, 8, &in->autorenew, &in->has_autorenew)
        || so_in_str(req, b, "signature_hash_algorithm", 0, 32, &in->sha, &in->has_sha)
        || so_in_bool(req, b, "enable_dns_automation", 0, &in->dns_auto, &in->has_dns_auto)
        || so_in_bool(req, b, "start_provision", 0, &in->start, &in->has_start)
        || so_in_array(req, b, "host_names", 0, MAX_NAMES, &hn, &has_hn)
        || so_in_array(req, b, "domain_validation_methods", 0, MAX_NAMES, &dcv, &has_dcv)) {
        return APR_EINVAL;
    }
    if (in->has_managed_csr) {
        /* the CSR Manager's copy stands in for csr from here on (the order keeps its own) */
        if (in->has_csr) {
            return so_api_error(req, SO_E_INVALID, "give csr or managed_csr_id, not both", "");
        }
        if (so_api_managed_csr_pem(req, in->managed_csr_id, &in->csr) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        in->has_csr = 1;
    }
    if (has_hn && read_names(req, hn, "host_names", &in->host_names) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (has_dcv && read_dcv(req, dcv, &in->dcv) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (in->has_autorenew && strcmp(in->autorenew, "on") && strcmp(in->autorenew, "off")) {
        return so_api_error(req, SO_E_INVALID, "autorenew must be \"on\" or \"off\"", "");
    }
    if (in->has_sha && strcmp(in->sha, "sha2") && strcmp(in->sha, "sha1")) {
        return so_api_error(req, SO_E_INVALID, "signature_hash_algorithm must be sha2 (or sha1)", "");
    }
    if (in->has_software && *in->software) {
        int i, ok = 0;
        for (i = 0; software_ids[i]; i++) {
            ok |= !strcmp(software_ids[i], in->software);
        }
        if (!ok) {
            return so_api_errorf(req, SO_E_INVALID,
                                 "software_id must be one of linux, windows, apache, nginx, iis, "
                                 "tomcat, nodejs, cpanel, amazon, other (not %s)",
                                 in->software);
        }
    }
    if (in->has_approver) {
        in->approver_email = so_str_lower(req->pool, so_str_trim(req->pool, in->approver_email));
    }
    return APR_SUCCESS;
}

apr_status_t so_order_in_apply(so_req_t *req, so_db_t *db, const so_product_t *prod, so_order_t *o,
                                const so_order_in_t *in, int creating)
{
    so_svc_ctx_t *ctx = so_api_svc_ctx(req);
    so_result_t res;
    apr_status_t rv;

    so_result_init(&res);
    ctx->db = db;
    rv = so_svc_order_apply(ctx, prod, o, in, creating, &res);
    so_api_svc_answer(req, &res);
    return rv;
}

apr_status_t so_order_product_load(so_req_t *req, apr_int64_t id, so_product_t **prod)
{
    apr_status_t rv = so_store_product_get(so_req_db(req), req->pool, id, prod);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !(*prod)->active)) {
        return so_api_errorf(req, SO_E_PRODUCT, "No product %" APR_INT64_T_FMT " on sale", id);
    }
    return rv;
}

apr_status_t so_order_in_id_check(so_req_t *req, const so_order_in_t *in, apr_int64_t id)
{
    if (in->has_id && in->id != id) {
        return so_api_errorf(req, SO_E_INVALID,
                             "the body's id %" APR_INT64_T_FMT " is not the order of the path (%" APR_INT64_T_FMT ")",
                             in->id, id);
    }
    return APR_SUCCESS;
}
