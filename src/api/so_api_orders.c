/* mod_sslorders: SSL orders (Openprovider CreateOrder, ListOrders, GetOrder,
 * UpdateOrder, UpdateApproverEmailAddress, ResendApproverEmail, CancelOrder,
 * CreateOtpToken) and the order's audit events. */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../core/so_metrics.h"
#include "so_outbox.h"
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

#define MAX_NAMES 1000
#define OTP_TTL (72 * 3600)
#define IDEM_TTL (24 * 3600)
#define REFUND_DAYS 30
#define EXPIRING_DAYS 30

static const char *const software_ids[] = {"linux", "windows", "apache", "nginx", "iis", "tomcat",
                                           "nodejs", "cpanel", "amazon", "other", NULL};

/* ------------------------------------------------------------------------- */
/* JSON                                                                        */

/* What the customer publishes for host h: the values of so_dcv (one format for the
 * API, the portal and the checks). */
static void dcv_instructions(so_jw_t *w, so_req_t *req, const so_order_t *o,
                             const so_order_host_t *h, so_dcv_token_t *tok)
{
    apr_pool_t *p = req->pool;
    const char *why;

    so_jw_obj(w);
    so_jw_kstr(w, "domain", h->host_name);
    so_jw_kstr(w, "method", h->method);
    if (tok) {
        so_dcv_instructions_t *file = NULL, *dns = NULL;
        int wild = so_hostname_is_wildcard(h->host_name);
        if (!wild) {
            so_dcv_instructions(&file, p, tok, h->host_name,
                                !strcmp(h->method ? h->method : "", "https") ? SO_DCV_HTTPS
                                                                            : SO_DCV_HTTP,
                                &why);
        }
        so_dcv_instructions(&dns, p, tok, h->host_name, SO_DCV_CNAME, &why);
        so_jw_kstr(w, "md5", o->csr_md5);
        so_jw_kstr(w, "sha1", o->csr_sha1);
        so_jw_kstr(w, "sha256", o->csr_sha256);
        so_jw_kstr(w, "file_name", file ? file->file_name : "");
        so_jw_kstr(w, "file_content", file ? file->file_body : "");
        so_jw_kstr(w, "file_location", file ? file->url : "");
        so_jw_kstr(w, "file_contents", file ? file->file_body : "");
        so_jw_kstr(w, "url", file ? file->url : "");
        so_jw_kstr(w, "dns_record", dns ? dns->record_name : "");
        so_jw_kstr(w, "dns_value", dns ? dns->record_value : "");
        so_jw_kstr(w, "dns_txt_record",
                   apr_pstrcat(p, SO_DCV_TXT_LABEL ".", so_hostname_base(h->host_name), NULL));
        so_jw_kstr(w, "dns", dns ? dns->record_value : "");
        so_jw_kstr(w, "token", o->dcv_unique);
        {
            /* dns-persist (BR 3.2.2.4.22): one TXT record for every order of the team */
            const char *pn = NULL, *pv = NULL, *pt = NULL;
            so_br_persist_instructions(req, o->team_id, h->host_name, &pn, &pv, &pt);
            so_jw_kstr(w, "dns_persist_record", pn);
            so_jw_kstr(w, "dns_persist_value", pv);
        }
        so_jw_kstr(w, "approver_email", o->approver_email);
    }
    so_jw_key(w, "old_cert_format");
    so_jw_arr(w);
    so_jw_arr_end(w);
    so_jw_obj_end(w);
}

static void dcv_statuses(so_jw_t *w, const char *status)
{
    const char *op = "", *cos = "", *cs = "", *st = "open";
    if (!strcmp(status, "REQ")) {
        op = "request";
        cos = "in_progress";
        cs = "requested";
    }
    else if (!strcmp(status, "ACT") || !strcmp(status, "EXP")) {
        op = "request";
        cos = "completed";
        cs = !strcmp(status, "ACT") ? "issued" : "expired";
        st = "closed";
    }
    else if (!strcmp(status, "REJ") || !strcmp(status, "FAI")) {
        op = "cancel";
        cos = !strcmp(status, "REJ") ? "in_progress" : "completed";
        cs = !strcmp(status, "REJ") ? "cancelling" : "cancelled";
        st = "closed";
    }
    so_jw_obj(w);
    so_jw_kstr(w, "ca_operation", op);
    so_jw_kstr(w, "ca_order_status", cos);
    so_jw_kstr(w, "ca_status", cs);
    so_jw_kstr(w, "status", st);
    so_jw_obj_end(w);
}

static void kdate(so_jw_t *w, apr_pool_t *p, const char *key, apr_int64_t t)
{
    so_jw_kstr(w, key, t > 0 ? so_time_fmt(p, t) : "");
}

/* Features that add fields to orders (certificates, folders, tags) register here. */
static const so_order_hook_t *order_hooks[16];

void so_api_orders_add_hook(const so_order_hook_t *hook)
{
    int i;
    for (i = 0; i < 15; i++) {
        if (!order_hooks[i] || order_hooks[i] == hook) {
            order_hooks[i] = hook;
            return;
        }
    }
}

apr_status_t so_api_orders_prepare(so_req_t *req, apr_array_header_t *orders)
{
    int i;
    apr_status_t rv;
    for (i = 0; order_hooks[i]; i++) {
        if (order_hooks[i]->load && (rv = order_hooks[i]->load(req, orders)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

void so_api_order_write(so_jw_t *w, so_req_t *req, const so_order_t *o)
{
    apr_pool_t *p = req->pool;
    int i, k;

    so_jw_obj(w);
    so_jw_kint(w, "id", o->id);
    so_jw_kint(w, "product_id", o->product_id);
    so_jw_kstr(w, "product_name", o->product_name);
    so_jw_kstr(w, "brand_name", o->brand_name);
    so_jw_kstr(w, "status", o->status);
    so_jw_kstr(w, "common_name", o->common_name);
    so_jw_key(w, "host_names");
    so_jw_arr(w);
    for (i = 0; i < o->hosts->nelts; i++) {
        so_jw_str(w, APR_ARRAY_IDX(o->hosts, i, so_order_host_t).host_name);
    }
    so_jw_arr_end(w);
    so_jw_kint(w, "period", o->period);
    kdate(w, p, "order_date", o->order_date);
    kdate(w, p, "active_date", o->active_date);
    kdate(w, p, "expiration_date", o->expiration_date);
    kdate(w, p, "order_ends_at", o->order_ends_at);
    kdate(w, p, "reissue_at", o->reissue_at);
    so_jw_kstr(w, "autorenew", o->autorenew ? "on" : "off");
    so_jw_kstr(w, "csr", o->csr);
    so_jw_kstr(w, "certificate", o->certificate);
    so_jw_kstr(w, "intermediate_certificate", o->intermediate_certificate);
    so_jw_kstr(w, "root_certificate", o->root_certificate);
    so_jw_kstr(w, "software", o->software);
    so_jw_kstr(w, "validation_method", o->validation_method);
    so_jw_kstr(w, "email_approver", o->approver_email);
    so_jw_kstr(w, "email_reissue", "");
    so_jw_kstr(w, "organization_handle", o->organization_handle);
    so_jw_kstr(w, "administrative_handle", o->administrative_handle);
    so_jw_kstr(w, "technical_handle", o->technical_handle);
    so_jw_kstr(w, "billing_handle", o->billing_handle);
    so_jw_key(w, "domain_validation_methods");
    so_jw_arr(w);
    for (i = 0; i < o->hosts->nelts; i++) {
        const so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        if (h->method && *h->method) {
            so_jw_obj(w);
            so_jw_kstr(w, "host_name", h->host_name);
            so_jw_kstr(w, "method", h->method);
            so_jw_obj_end(w);
        }
    }
    so_jw_arr_end(w);
    so_jw_key(w, "domain_validation_statuses");
    dcv_statuses(w, o->status);
    so_jw_key(w, "additional_data");
    so_jw_arr(w);
    {
        so_dcv_token_t *tok = NULL;
        const char *why;
        if (*o->csr && so_dcv_token_hashes(&tok, p, o->csr_md5, o->csr_sha256, req->cfg->ca_tag,
                                           *o->dcv_unique ? o->dcv_unique : NULL, &why)
                           != APR_SUCCESS) {
            tok = NULL;
        }
        for (i = 0; i < o->hosts->nelts; i++) {
            dcv_instructions(w, req, o, &APR_ARRAY_IDX(o->hosts, i, so_order_host_t), tok);
        }
    }
    so_jw_arr_end(w);
    so_jw_kstr(w, "features", "");
    so_jw_key(w, "options");
    so_jw_obj(w);
    so_jw_kstr(w, "features", "");
    so_jw_obj_end(w);
    so_jw_kstr(w, "vendor_order_id", "");
    so_jw_kstr(w, "vendor_reference_id", "");
    so_jw_kstr(w, "sslinhva_order_id", "");
    /* extensions */
    so_jw_kstr(w, "organization_unit", o->organization_unit);
    so_jw_kint(w, "domain_amount", o->domain_amount);
    so_jw_kint(w, "wildcard_domain_amount", o->wildcard_domain_amount);
    so_jw_kstr(w, "signature_hash_algorithm", o->signature_hash_algorithm);
    so_jw_kbool(w, "enable_dns_automation", o->enable_dns_automation);
    so_jw_kstr(w, "price", so_money_fmt(p, o->price));
    so_jw_kstr(w, "currency", o->currency);
    kdate(w, p, "cancelled_at", o->cancelled_at);
    kdate(w, p, "updated_at", o->updated_at);
    so_jw_kint(w, "version", o->version);
    for (k = 0; order_hooks[k]; k++) {
        if (order_hooks[k]->write) {
            order_hooks[k]->write(w, req, o);
        }
    }
    so_jw_obj_end(w);
}

json_t *so_api_order_json(so_req_t *req, const so_order_t *o)
{
    so_jw_t *w = so_jw_make(req->pool, 4096);
    const char *text;
    apr_size_t len;
    so_api_order_write(w, req, o);
    text = so_jw_text(w, &len);
    return json_loadb(text, len, 0, NULL);
}

/* ------------------------------------------------------------------------- */
/* input                                                                       */

typedef struct {
    apr_int64_t product_id, period, domain_amount, wildcard_amount, id;
    int has_product, has_period, has_domain_amount, has_wildcard_amount, has_id;
    const char *csr;
    const char *software;
    const char *organization_handle, *technical_handle, *administrative_handle, *billing_handle;
    const char *approver_email;
    const char *autorenew;
    const char *sha;
    apr_array_header_t *host_names; /* NULL when absent */
    apr_array_header_t *dcv;        /* so_order_host_t, NULL when absent */
    int dns_auto, start;
    int has_csr, has_software, has_org, has_tech, has_admin, has_billing, has_approver,
        has_autorenew, has_sha, has_dns_auto, has_start;
    apr_int64_t managed_csr_id; /* a CSR of the CSR Manager in place of csr */
    int has_managed_csr;
} order_in_t;

static apr_status_t read_names(so_req_t *req, json_t *a, const char *field,
                               apr_array_header_t **out)
{
    size_t i;
    *out = apr_array_make(req->pool, (int)json_array_size(a) + 1, sizeof(const char *));
    for (i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 253) {
            return so_api_errorf(req, SO_E_INVALID, "%s must hold host names (strings)", field),
                   APR_EINVAL;
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
                                "domain_validation_methods holds objects {host_name, method}", ""),
                   APR_EINVAL;
        }
        if (so_in_str(req, v, "host_name", 1, 253, &host, NULL)
            || so_in_str(req, v, "method", 1, 16, &method, NULL)) {
            return APR_EINVAL;
        }
        method = so_str_lower(req->pool, method);
        if (!so_rules_dcv_method_ok(method)) {
            return so_api_errorf(req, SO_E_DCV_METHOD,
                                 "method '%s' of %s is not one of email, dns, dns-persist, http, "
                                 "https", method,
                                 host),
                   APR_EINVAL;
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

static apr_status_t read_input(so_req_t *req, order_in_t *in)
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
            return so_api_error(req, SO_E_INVALID, "give csr or managed_csr_id, not both", ""),
                   APR_EINVAL;
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
        return so_api_error(req, SO_E_INVALID, "autorenew must be \"on\" or \"off\"", ""), APR_EINVAL;
    }
    if (in->has_sha && strcmp(in->sha, "sha2") && strcmp(in->sha, "sha1")) {
        return so_api_error(req, SO_E_INVALID, "signature_hash_algorithm must be sha2 (or sha1)", ""),
               APR_EINVAL;
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
                                 in->software),
                   APR_EINVAL;
        }
    }
    if (in->has_approver) {
        in->approver_email = so_str_lower(req->pool, so_str_trim(req->pool, in->approver_email));
    }
    return APR_SUCCESS;
}

static apr_status_t check_handle(so_req_t *req, so_db_t *db, const char *field, const char *handle)
{
    so_customer_t *c;
    apr_status_t rv;
    if (!handle || !*handle) {
        return APR_SUCCESS;
    }
    rv = so_store_customer_get(db, req->pool, req->auth->team_id, handle, &c);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_HANDLE, "%s: no contact handle %s in this team", field, handle),
               APR_EINVAL;
    }
    return rv;
}

/* Apply the present fields of in to o (the order's product is prod) and check
 * them. Names are recomputed when the CSR or host_names change. */
static apr_status_t apply_input(so_req_t *req, so_db_t *db, const so_product_t *prod, so_order_t *o,
                                const order_in_t *in, int creating)
{
    apr_pool_t *p = req->pool;
    so_csr_t *c = NULL;
    const char *why = NULL;
    apr_status_t rv;
    int i, j, code;

    if (in->has_csr && *in->csr) {
        if (so_csr_parse(p, in->csr, &c, &why) != APR_SUCCESS) {
            return so_api_error(req, SO_E_CSR, "The CSR is not valid", why), APR_EINVAL;
        }
        if (so_csr_check_key(c, &why) != APR_SUCCESS) {
            return so_api_error(req, SO_E_CSR_KEY, "The CSR's key is not accepted", why), APR_EINVAL;
        }
        o->csr = c->pem;
        o->csr_md5 = c->md5;
        o->csr_sha1 = c->sha1;
        o->csr_sha256 = c->sha256;
        o->common_name = c->common_name;
        o->organization_unit = c->unit;
    }
    else if (in->has_csr && !*in->csr) {
        if (!creating) {
            return so_api_error(req, SO_E_CSR, "The CSR cannot be removed", ""), APR_EINVAL;
        }
    }
    else if (*o->csr) {
        if (so_csr_parse(p, o->csr, &c, &why) != APR_SUCCESS) {
            c = NULL;
        }
    }
    if ((in->has_csr && c) || in->host_names) {
        so_names_t *names;
        apr_array_header_t *old = o->hosts;
        if (!c) {
            return so_api_error(req, SO_E_NAMES, "host_names needs the order's CSR first", ""),
                   APR_EINVAL;
        }
        if (so_rules_names(p, prod, c->common_name, c->sans, in->host_names, &names, &code, &why)
            != APR_SUCCESS) {
            return so_api_error(req, code, "The names do not fit the product", why), APR_EINVAL;
        }
        if (!creating) {
            int d, w;
            if (so_rules_amounts(p, prod, names, o->domain_amount, o->wildcard_domain_amount, &d, &w,
                                 &why)
                != APR_SUCCESS) {
                return so_api_error(req, SO_E_NAMES, "The names do not fit what was paid for", why),
                       APR_EINVAL;
            }
        }
        o->hosts = apr_array_make(p, names->names->nelts, sizeof(so_order_host_t));
        for (i = 0; i < names->names->nelts; i++) {
            so_order_host_t *h = apr_array_push(o->hosts);
            h->host_name = APR_ARRAY_IDX(names->names, i, const char *);
            h->method = "";
            for (j = 0; old && j < old->nelts; j++) {
                so_order_host_t *oh = &APR_ARRAY_IDX(old, j, so_order_host_t);
                if (!strcmp(oh->host_name, h->host_name)) {
                    h->method = oh->method;
                }
            }
        }
    }
    if (in->dcv) {
        for (i = 0; i < in->dcv->nelts; i++) {
            so_order_host_t *d = &APR_ARRAY_IDX(in->dcv, i, so_order_host_t);
            int found = 0;
            for (j = 0; j < o->hosts->nelts; j++) {
                so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, j, so_order_host_t);
                if (!strcmp(h->host_name, d->host_name)) {
                    if (so_hostname_is_wildcard(h->host_name) && !strncmp(d->method, "http", 4)) {
                        return so_api_errorf(req, SO_E_DCV_METHOD,
                                             "%s is a wildcard: it cannot be validated with %s; use "
                                             "dns or email",
                                             h->host_name, d->method),
                               APR_EINVAL;
                    }
                    h->method = d->method;
                    found = 1;
                }
            }
            if (!found) {
                return so_api_errorf(req, SO_E_DCV_METHOD,
                                     "domain_validation_methods names %s, which is not a name of the "
                                     "order",
                                     d->host_name),
                       APR_EINVAL;
            }
        }
    }
    if (in->has_org) {
        if ((rv = check_handle(req, db, "organization_handle", in->organization_handle)) != APR_SUCCESS) {
            return rv;
        }
        o->organization_handle = in->organization_handle;
    }
    if (in->has_tech) {
        if ((rv = check_handle(req, db, "technical_handle", in->technical_handle)) != APR_SUCCESS) {
            return rv;
        }
        o->technical_handle = in->technical_handle;
    }
    if (in->has_admin) {
        if ((rv = check_handle(req, db, "administrative_handle", in->administrative_handle))
            != APR_SUCCESS) {
            return rv;
        }
        o->administrative_handle = in->administrative_handle;
    }
    if (in->has_billing) {
        if ((rv = check_handle(req, db, "billing_handle", in->billing_handle)) != APR_SUCCESS) {
            return rv;
        }
        o->billing_handle = in->billing_handle;
    }
    if (in->has_approver) {
        if (*in->approver_email) {
            if (!*o->common_name) {
                return so_api_error(req, SO_E_APPROVER,
                                    "approver_email needs the order's names: send the CSR too", ""),
                       APR_EINVAL;
            }
            if (so_br_email_check(req, o->common_name) != APR_SUCCESS) {
                return APR_EINVAL;
            }
            if (!so_approver_email_ok(p, o->common_name, in->approver_email)) {
                return so_api_errorf(req, SO_E_APPROVER,
                                     "%s is not an approver address of %s (see "
                                     "/ssl/approver-emails)",
                                     in->approver_email, o->common_name),
                       APR_EINVAL;
            }
        }
        o->approver_email = in->approver_email;
    }
    else if (c && *o->approver_email && !so_approver_email_ok(p, o->common_name, o->approver_email)) {
        /* a new CSR for another domain: the old approver no longer fits */
        o->approver_email = "";
    }
    if (in->has_autorenew) {
        o->autorenew = !strcmp(in->autorenew, "on");
    }
    if (in->has_sha) {
        o->signature_hash_algorithm = in->sha;
        if (!strcmp(in->sha, "sha1")) {
            so_api_warning(req, 1, "SHA-1 is deprecated: the certificate is signed with SHA-256", "");
        }
    }
    if (in->has_software) {
        o->software = in->software;
    }
    if (in->has_dns_auto) {
        o->enable_dns_automation = in->dns_auto;
    }
    return APR_SUCCESS;
}

/* What start_provision still needs; NULL when the order is complete. Names
 * without a method get "email" when an approver address is set. */
static const char *missing(so_req_t *req, const so_product_t *prod, so_order_t *o)
{
    apr_pool_t *p = req->pool;
    const char *what = NULL;
    int i;

    if (!*o->csr) {
        return "csr";
    }
    if (strcmp(prod->validation_method, "domain") && !*o->organization_handle) {
        what = "organization_handle (an OV/EV certificate names the organization)";
    }
    else if (strcmp(prod->validation_method, "domain")) {
        so_order_t as_sold = *o;
        const char *why = NULL;
        as_sold.validation_method = prod->validation_method;
        if (so_iss_org_check(so_api_svc_ctx(req), &as_sold, &why) != APR_SUCCESS) {
            what = apr_psprintf(p, "an organization handle whose data fits a certificate (%s)",
                                why ? why : "?");
        }
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        if (!*h->method && *o->approver_email) {
            h->method = "email";
        }
        if (!*h->method) {
            const char *m = apr_psprintf(p, "a domain_validation_methods entry for %s", h->host_name);
            what = what ? apr_pstrcat(p, what, ", ", m, NULL) : m;
        }
        else if (!strcmp(h->method, "email")) {
            if (!*o->approver_email) {
                const char *m = apr_psprintf(p, "approver_email (%s uses email validation)",
                                             h->host_name);
                what = what ? apr_pstrcat(p, what, ", ", m, NULL) : m;
            }
            else if (!so_approver_email_ok(p, h->host_name, o->approver_email)) {
                const char *m = apr_psprintf(p, "an approver of %s's domain (%s cannot approve it; "
                                                "use dns or http)",
                                             h->host_name, o->approver_email);
                what = what ? apr_pstrcat(p, what, ", ", m, NULL) : m;
            }
        }
    }
    return what;
}

const char *so_api_order_missing(so_req_t *req, const so_product_t *prod, so_order_t *o)
{
    return missing(req, prod, o);
}

/* ------------------------------------------------------------------------- */
/* helpers                                                                     */

static const char *actor(so_req_t *req)
{
    if (!req->auth) {
        return "system";
    }
    return req->auth->kind == SO_AUTH_OTP ? "order token" : req->auth->username;
}

apr_status_t so_api_order_event(so_req_t *req, const so_order_t *o, const char *kind, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    apr_status_t rv = so_store_order_event(
        so_req_db(req), req->pool, o->team_id, o->id,
        req->auth && req->auth->kind != SO_AUTH_OTP ? req->auth->user_id : 0, actor(req), kind,
        text ? text : "{}", req->now);
    if (rv == APR_SUCCESS) {
        /* the lifecycle events into the outbox, in the same transaction */
        rv = so_outbox_order_event(req, o, kind, text);
    }
    free(text);
    if (detail) {
        json_decref(detail);
    }
    return rv;
}

apr_status_t so_api_order_load(so_req_t *req, so_order_t **out)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (req->auth->kind == SO_AUTH_OTP && id != req->auth->otp_order_id) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, id);
        return APR_ENOENT;
    }
    rv = so_store_order_get(so_req_db(req), req->pool, req->auth->team_id, id, out);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, id);
    }
    return rv;
}

static apr_status_t load_product(so_req_t *req, apr_int64_t id, so_product_t **prod)
{
    apr_status_t rv = so_store_product_get(so_req_db(req), req->pool, id, prod);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !(*prod)->active)) {
        so_api_errorf(req, SO_E_PRODUCT, "No product %" APR_INT64_T_FMT " on sale", id);
        return APR_EINVAL;
    }
    return rv;
}

static apr_status_t body_id_matches(so_req_t *req, const order_in_t *in, apr_int64_t id)
{
    if (in->has_id && in->id != id) {
        return so_api_errorf(req, SO_E_INVALID,
                             "the body's id %" APR_INT64_T_FMT " is not the order of the path (%" APR_INT64_T_FMT ")",
                             in->id, id),
               APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* new orders (POST /ssl/orders and the cart's checkout)                       */

apr_status_t so_api_order_product(so_req_t *req, apr_int64_t product_id, apr_int64_t period,
                                  so_product_t **prod, const so_price_t **price, int *code,
                                  const char **why)
{
    apr_status_t rv = so_store_product_get(so_req_db(req), req->pool, product_id, prod);

    if (rv == APR_ENOENT || (rv == APR_SUCCESS && !(*prod)->active)) {
        *code = SO_E_PRODUCT;
        *why = apr_psprintf(req->pool, "No product %" APR_INT64_T_FMT " on sale", product_id);
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (period < 1 || period > (*prod)->max_period
        || (!so_product_price(*prod, (int)period, (*prod)->base_currency)
            && !so_product_price(*prod, (int)period, req->auth->team_currency))) {
        *code = SO_E_PERIOD;
        *why = apr_psprintf(req->pool, "%s is sold for 1 to %d years, not %" APR_INT64_T_FMT,
                            (*prod)->name, (*prod)->max_period, period);
        return APR_EINVAL;
    }
    *price = so_product_price(*prod, (int)period, req->auth->team_currency);
    if (!*price) {
        *code = SO_E_CURRENCY;
        *why = apr_psprintf(req->pool, "%s has no price in %s", (*prod)->name,
                            req->auth->team_currency);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t so_api_order_new(so_req_t *req, const so_product_t *prod, const so_price_t *price,
                              int period, so_order_t **out)
{
    apr_pool_t *p = req->pool;
    so_order_t *o = apr_pcalloc(p, sizeof(*o));
    const char *unique;

    o->team_id = req->auth->team_id;
    o->product_id = prod->id;
    o->product_name = prod->name;
    o->brand_name = prod->brand_name;
    o->validation_method = prod->validation_method;
    o->status = "PAI";
    o->period = period;
    o->common_name = o->csr = o->organization_unit = o->software = "";
    o->organization_handle = o->technical_handle = o->administrative_handle = o->billing_handle = "";
    o->approver_email = "";
    o->signature_hash_algorithm = "sha2";
    o->hosts = apr_array_make(p, 2, sizeof(so_order_host_t));
    o->currency = price->currency;
    o->order_date = o->updated_at = req->now;
    o->created_by = req->auth->user_id;
    if (so_dcv_unique(&unique, p) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    o->dcv_unique = unique;
    *out = o;
    return APR_SUCCESS;
}

apr_status_t so_api_order_price(so_req_t *req, const so_product_t *prod, const so_price_t *price,
                                so_order_t *o, const apr_array_header_t *host_names,
                                int domain_amount, int wildcard_amount, int *code, const char **why)
{
    apr_pool_t *p = req->pool;
    so_names_t *names = NULL;
    int dom, wild;

    if (*o->csr) {
        so_csr_t *c;
        if (so_csr_parse(p, o->csr, &c, why) != APR_SUCCESS) {
            *code = SO_E_CSR;
            return APR_EINVAL;
        }
        if (so_rules_names(p, prod, c->common_name, c->sans, host_names, &names, code, why)
            != APR_SUCCESS) {
            return APR_EINVAL;
        }
    }
    if (so_rules_amounts(p, prod, names, domain_amount, wildcard_amount, &dom, &wild, why)
        != APR_SUCCESS) {
        *code = SO_E_NAMES;
        return APR_EINVAL;
    }
    o->domain_amount = dom;
    o->wildcard_domain_amount = wild;
    o->price = so_rules_price(prod, price, dom, wild);
    return APR_SUCCESS;
}

apr_status_t so_api_order_store(so_req_t *req, const so_product_t *prod, so_order_t *o,
                                json_t *extra)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    apr_int64_t balance_after;
    json_t *detail;
    apr_status_t rv = so_store_order_insert(db, p, o);

    if (rv == APR_SUCCESS) {
        rv = so_store_ledger_add(db, p, o->team_id, -o->price, "charge", o->id,
                                 apr_psprintf(p, "order %" APR_INT64_T_FMT ": %s, %d year%s", o->id,
                                              prod->name, o->period, o->period > 1 ? "s" : ""),
                                 req->auth->user_id, req->now, &balance_after);
    }
    if (rv != APR_SUCCESS) {
        if (extra) {
            json_decref(extra);
        }
        return rv;
    }
    detail = json_pack("{s:I,s:s,s:i,s:s,s:s,s:s}", "product_id", (json_int_t)prod->id, "product",
                       prod->name, "period", o->period, "price", so_money_fmt(p, o->price),
                       "currency", o->currency, "status", o->status);
    if (extra) {
        json_object_update(detail, extra);
        json_decref(extra);
    }
    rv = so_api_order_event(req, o, "created", detail);
    if (rv == APR_SUCCESS && o->price > 0 && balance_after < o->price) {
        /* the balance no longer covers this purchase again: team.balance_low (outbox) */
        rv = so_outbox_team_event(req, o->team_id, "team.balance_low",
                                  json_pack("{s:I,s:s,s:s,s:I,s:s}", "team_id",
                                            (json_int_t)o->team_id, "balance",
                                            so_money_fmt(p, balance_after), "currency",
                                            o->currency, "order_id", (json_int_t)o->id, "price",
                                            so_money_fmt(p, o->price)));
    }
    return rv;
}

/* ------------------------------------------------------------------------- */
/* POST /ssl/orders                                                            */

static apr_status_t create_order(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    order_in_t in;
    so_product_t *prod;
    const so_price_t *price;
    so_order_t *o;
    const char *why, *idem_key = so_req_header(req, "Idempotency-Key"), *idem_hash = NULL;
    int code;
    apr_status_t rv;

    if (read_input(req, &in) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!in.has_product || !in.has_period) {
        return so_api_error(req, SO_E_INVALID, "product_id and period are required", ""), APR_EINVAL;
    }
    if (idem_key) {
        if (!*idem_key || strlen(idem_key) > 200 || !so_str_is_printable_utf8(idem_key, strlen(idem_key))) {
            return so_api_error(req, SO_E_INVALID, "Idempotency-Key must be 1 to 200 printable characters",
                                ""),
                   APR_EINVAL;
        }
        idem_hash = so_sha256_hex(p, req->body, req->body_len, 0);
    }
    rv = so_api_order_product(req, in.product_id, in.period, &prod, &price, &code, &why);
    if (rv == APR_EINVAL) {
        return so_api_error(req, code, why, ""), APR_EINVAL;
    }
    if (rv != APR_SUCCESS || (rv = so_api_order_new(req, prod, price, (int)in.period, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (apply_input(req, db, prod, o, &in, 1) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (so_api_order_price(req, prod, price, o, in.host_names,
                           in.has_domain_amount ? (int)in.domain_amount : -1,
                           in.has_wildcard_amount ? (int)in.wildcard_amount : -1, &code, &why)
        != APR_SUCCESS) {
        return so_api_error(req, code, "The names do not fit the product", why), APR_EINVAL;
    }
    if (in.has_start && in.start) {
        const char *what = missing(req, prod, o);
        if (what) {
            return so_api_errorf(req, SO_E_INCOMPLETE, "The order cannot be sent for validation: "
                                                       "it lacks %s", what),
                   APR_EINVAL;
        }
        o->status = "REQ";
    }

    /* one transaction: the idempotency key, the order, the charge, the events */
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    if (idem_key) {
        rv = so_store_idem_claim(db, p, o->team_id, idem_key, idem_hash, req->now);
    }
    if (rv == APR_SUCCESS) {
        rv = so_api_order_store(req, prod, o, NULL);
    }
    if (rv == APR_SUCCESS && !strcmp(o->status, "REQ")) {
        rv = so_api_order_event(req, o, "provisioning_requested", NULL);
    }
    if (rv == APR_SUCCESS && idem_key) {
        rv = so_store_idem_finish(db, p, o->team_id, idem_key, 200,
                                  apr_psprintf(p, "{\"id\":%" APR_INT64_T_FMT "}", o->id));
    }
    if (rv == SO_EDBUNIQUE && idem_key) {
        /* the key was used before: answer what the first request got */
        const char *hash, *response;
        int status;
        so_db_rollback(db);
        rv = so_store_idem_get(db, p, o->team_id, idem_key, &hash, &status, &response);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (strcmp(hash, idem_hash)) {
            return so_api_error(req, SO_E_IDEMPOTENCY,
                                "This Idempotency-Key was used for another request", idem_key),
                   APR_EINVAL;
        }
        apr_table_setn(req->headers_out, "Idempotent-Replayed", "true");
        return so_api_ok(req, json_loads(response, 0, NULL));
    }
    if (rv == SO_ENOFUNDS) {
        so_team_t *t;
        so_db_rollback(db);
        if (so_store_team_by_id(db, p, o->team_id, &t) != APR_SUCCESS) {
            t = NULL;
        }
        return so_api_errorf(req, SO_E_FUNDS,
                             "The balance (%s %s) does not cover the price (%s %s)",
                             t ? so_money_fmt(p, t->balance) : "?", o->currency,
                             so_money_fmt(p, o->price), o->currency),
               APR_EINVAL;
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_log_debug(SO_LOG_MARK, "order %" APR_INT64_T_FMT " created for team %" APR_INT64_T_FMT,
                 o->id, o->team_id);
    /* validation starts from the outbox ("provisioning_requested"), after the request */
    return so_api_ok_id(req, o->id);
}

/* ------------------------------------------------------------------------- */
/* GET /ssl/orders                                                             */

static int is_status(const char *s)
{
    return !strcmp(s, "PAI") || !strcmp(s, "REQ") || !strcmp(s, "ACT") || !strcmp(s, "REJ")
           || !strcmp(s, "FAI") || !strcmp(s, "EXP");
}

static apr_status_t q_date(so_req_t *req, const char *key, int end, apr_int64_t *out)
{
    const char *v = so_req_query(req, key);
    *out = -1;
    if (!v || !*v) {
        return APR_SUCCESS;
    }
    if (so_time_parse(v, out) != APR_SUCCESS) {
        return so_api_errorf(req, SO_E_INVALID, "%s must be a date (YYYY-MM-DD)", key), APR_EINVAL;
    }
    if (end && strlen(v) == 10) {
        *out += 86400; /* a date-only end is inclusive */
    }
    return APR_SUCCESS;
}

static const char *csv_field(apr_pool_t *p, const char *v)
{
    const char *out = v ? v : "";
    /* spreadsheets run cells that start like formulas */
    if (*out == '=' || *out == '+' || *out == '-' || *out == '@' || *out == '\t' || *out == '\r') {
        out = apr_pstrcat(p, "'", out, NULL);
    }
    if (strpbrk(out, ",\"\r\n")) {
        char *q = apr_palloc(p, strlen(out) * 2 + 3), *d = q;
        const char *s;
        *d++ = '"';
        for (s = out; *s; s++) {
            if (*s == '"') {
                *d++ = '"';
            }
            *d++ = *s;
        }
        *d++ = '"';
        *d = '\0';
        return q;
    }
    return out;
}

static apr_status_t list_csv(so_req_t *req, apr_array_header_t *list)
{
    apr_pool_t *p = req->pool;
    struct iovec_s {
        const char *s;
    };
    apr_array_header_t *parts = apr_array_make(p, list->nelts * 14 + 16, sizeof(const char *));
    int i, j;

    APR_ARRAY_PUSH(parts, const char *) = "id,common_name,host_names,product_name,status,order_date,"
                                          "active_date,expiration_date,period,organization_unit,"
                                          "autorenew,price,currency\r\n";
    for (i = 0; i < list->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(list, i, so_order_t *);
        const char *hosts = "";
        for (j = 0; j < o->hosts->nelts; j++) {
            hosts = apr_pstrcat(p, hosts, j ? " " : "",
                                APR_ARRAY_IDX(o->hosts, j, so_order_host_t).host_name, NULL);
        }
        APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
            p, "%" APR_INT64_T_FMT ",%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s\r\n", o->id,
            csv_field(p, o->common_name), csv_field(p, hosts), csv_field(p, o->product_name),
            o->status, o->order_date ? so_time_fmt(p, o->order_date) : "",
            o->active_date ? so_time_fmt(p, o->active_date) : "",
            o->expiration_date ? so_time_fmt(p, o->expiration_date) : "", o->period,
            csv_field(p, o->organization_unit), o->autorenew ? "on" : "off",
            so_money_fmt(p, o->price), o->currency);
    }
    req->raw_body = apr_array_pstrcat(p, parts, 0);
    req->raw_len = strlen(req->raw_body);
    req->raw_ctype = "text/csv; charset=utf-8";
    apr_table_setn(req->headers_out, "Content-Disposition",
                   apr_psprintf(p, "attachment; filename=\"orders-%s.csv\"",
                                apr_pstrndup(p, so_time_fmt(p, req->now), 10)));
    return APR_SUCCESS;
}

/* Hooks that later features use to add list filters (folders, tags). */
static so_order_filter_fn *extra_filters[8];

/* Order list pages by team version. A page costs about eight queries and
 * tens of kilobytes of JSON; the same page asked again (the portal's list, clients
 * polling) costs one indexed read of the team's version (so_store_orders_version),
 * which every change of what a page shows increases. Entries of older versions are
 * never asked for again and go when the cache is full. */
static so_memo_t *pages;

void so_orders_cache_init(apr_pool_t *p, apr_size_t bytes)
{
    if (bytes == 0 || so_memo_create(&pages, p, bytes) != APR_SUCCESS) {
        pages = NULL;
    }
}

/* The team's order list version: read with the credential when the route asked for it
 * (one round trip for a cached page), else on its own. Read before the page's queries
 * either way, so a cached page is never older than its key. */
static apr_status_t list_version(so_req_t *req, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t *version)
{
    if (req->auth && req->auth->has_list_version && req->auth->team_id == team_id) {
        *version = req->auth->list_version;
        return APR_SUCCESS;
    }
    return so_store_orders_version(so_req_db(req), p, team_id, version);
}

/* Everything a page depends on besides the data: the server's settings (DCV values),
 * the team and version, and the whole query. Values carry their length, so that no
 * two queries share a key. */
static const char *page_key(so_req_t *req, const so_order_query_t *q, apr_int64_t version)
{
    apr_pool_t *p = req->pool;
    apr_array_header_t *parts = apr_array_make(p, 1 + q->where->nelts + q->args->nelts,
                                               sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(p, "%pp %" APR_INT64_T_FMT " %" APR_INT64_T_FMT " %d %d %s",
                     (void *)req->cfg, q->team_id, version, q->limit, q->offset,
                     q->order_by ? q->order_by : "-");
    for (i = 0; i < q->where->nelts; i++) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, "|", APR_ARRAY_IDX(q->where, i, const char *), NULL);
    }
    for (i = 0; i < q->args->nelts; i++) {
        const char *a = APR_ARRAY_IDX(q->args, i, const char *);
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p, "|%" APR_SIZE_T_FMT ":%s", a ? strlen(a) : 0, a ? a : "");
    }
    return apr_array_pstrcat(p, parts, 0);
}

void so_api_orders_add_filter(so_order_filter_fn *fn)
{
    int i;
    for (i = 0; i < 7; i++) {
        if (!extra_filters[i] || extra_filters[i] == fn) {
            extra_filters[i] = fn;
            return;
        }
    }
}

static apr_status_t list_orders(so_req_t *req)
{
    static const char *const sort_keys[] = {
        "common_name", "o.common_name", "order_date", "o.order_date", "active_date",
        "o.active_date", "expiration_date", "o.expiration_date", "status", "o.status",
        "product_name", "p.name", NULL};
    apr_pool_t *p = req->pool;
    so_order_query_t *q = so_order_query_make(p, req->auth->team_id);
    apr_array_header_t *statuses = so_req_query_all(req, "status"), *list;
    const char *v, *accept = so_req_header(req, "Accept"), *format = so_req_query(req, "format");
    const char *key = NULL;
    apr_int64_t limit, offset, total, product_id, d, version;
    int show_expiring, csv = 0, i;
    apr_status_t rv;
    so_jw_t *w;
    const char *text;
    apr_size_t len;

    if (format && *format) {
        if (!strcmp(format, "csv")) {
            csv = 1;
        }
        else if (strcmp(format, "json")) {
            return so_api_error(req, SO_E_INVALID, "format must be json or csv", format), APR_EINVAL;
        }
    }
    else if (accept && strstr(accept, "text/csv") && !strstr(accept, "application/json")) {
        csv = 1;
    }
    if (so_q_int(req, "limit", csv ? 100000 : 100, 1, csv ? 100000 : 1000, &limit)
        || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)
        || so_q_bool(req, "show_expiring", 0, &show_expiring)
        || so_q_int(req, "product_id", 0, 0, 0x7fffffff, &product_id)
        || so_api_order_by(req, sort_keys, &q->order_by)) {
        return APR_EINVAL;
    }
    q->limit = (int)limit;
    q->offset = (int)offset;
    if (statuses->nelts > 0) {
        const char *in = "o.status IN (";
        for (i = 0; i < statuses->nelts; i++) {
            const char *s = APR_ARRAY_IDX(statuses, i, const char *);
            if (!is_status(s)) {
                return so_api_errorf(req, SO_E_INVALID,
                                     "status '%s' is not one of PAI, REQ, ACT, REJ, FAI, EXP", s),
                       APR_EINVAL;
            }
            in = apr_pstrcat(p, in, i ? ", %s" : "%s", NULL);
            APR_ARRAY_PUSH(q->args, const char *) = s;
        }
        APR_ARRAY_PUSH(q->where, const char *) = apr_pstrcat(p, in, ")", NULL);
    }
    if ((v = so_req_query(req, "common_name_pattern")) && *v) {
        /* names are stored in lower case; a literal prefix also bounds an index range */
        const char *lc = so_str_lower(p, v);
        apr_size_t plen = strcspn(lc, "*");
        so_order_query_add(q, "o.common_name LIKE %s ESCAPE '\\'", 1, so_like_pattern(p, lc, 0));
        /* SQLite compares bytes (BINARY): the range is exact there; PostgreSQL's
         * collation may order punctuation otherwise, so it gets the LIKE alone */
        if (plen > 0 && so_req_db(req) && so_req_db(req)->kind == SO_DB_SQLITE3) {
            char *hi = apr_pstrndup(p, lc, plen);
            if ((unsigned char)hi[plen - 1] < 0x7f) {
                hi[plen - 1]++;
                so_order_query_add(q, "o.common_name >= %s AND o.common_name < %s", 2,
                                   apr_pstrndup(p, lc, plen), hi);
            }
        }
    }
    if ((v = so_req_query(req, "contact_handle")) && *v) {
        so_order_query_add(q,
                           "(o.organization_handle = %s OR o.technical_handle = %s OR "
                           "o.administrative_handle = %s OR o.billing_handle = %s)",
                           4, v, v, v, v);
    }
    if (show_expiring) {
        so_order_query_add(q, "o.status = 'ACT' AND o.expiration_date > %lld AND o.expiration_date <= %lld",
                           2, so_i64str(p, req->now), so_i64str(p, req->now + EXPIRING_DAYS * 86400));
    }
    if ((v = so_req_query(req, "search")) && *v) {
        const char *like = so_like_pattern(p, so_str_trim(p, v), 1);
        apr_int64_t id;
        if (so_parse_int64(so_str_trim(p, v), 1, 0x7fffffff, &id) == APR_SUCCESS) {
            so_order_query_add(q,
                               "(o.id = %lld OR LOWER(o.common_name) LIKE %s ESCAPE '\\' OR "
                               "LOWER(o.organization_unit) LIKE %s ESCAPE '\\' OR EXISTS (SELECT 1 "
                               "FROM order_hostnames h WHERE h.order_id = o.id AND h.host_name LIKE "
                               "%s ESCAPE '\\'))",
                               4, so_i64str(p, id), like, like, like);
        }
        else {
            so_order_query_add(q,
                               "(LOWER(o.common_name) LIKE %s ESCAPE '\\' OR "
                               "LOWER(o.organization_unit) LIKE %s ESCAPE '\\' OR EXISTS (SELECT 1 "
                               "FROM order_hostnames h WHERE h.order_id = o.id AND h.host_name LIKE "
                               "%s ESCAPE '\\'))",
                               3, like, like, like);
        }
    }
    if ((v = so_req_query(req, "organization_unit")) && *v) {
        so_order_query_add(q, "LOWER(o.organization_unit) LIKE %s ESCAPE '\\'", 1,
                           so_like_pattern(p, v, 1));
    }
    if (product_id) {
        so_order_query_add(q, "o.product_id = %lld", 1, so_i64str(p, product_id));
    }
    if (q_date(req, "order_date_from", 0, &d)) {
        return APR_EINVAL;
    }
    if (d >= 0) {
        so_order_query_add(q, "o.order_date >= %lld", 1, so_i64str(p, d));
    }
    if (q_date(req, "order_date_to", 1, &d)) {
        return APR_EINVAL;
    }
    if (d >= 0) {
        so_order_query_add(q, "o.order_date < %lld", 1, so_i64str(p, d));
    }
    if (q_date(req, "expiration_date_from", 0, &d)) {
        return APR_EINVAL;
    }
    if (d >= 0) {
        so_order_query_add(q, "o.expiration_date >= %lld", 1, so_i64str(p, d));
    }
    if (q_date(req, "expiration_date_to", 1, &d)) {
        return APR_EINVAL;
    }
    if (d >= 0) {
        so_order_query_add(q, "o.expiration_date > 0 AND o.expiration_date < %lld", 1, so_i64str(p, d));
    }
    for (i = 0; extra_filters[i]; i++) {
        if ((rv = extra_filters[i](req, q)) != APR_SUCCESS) {
            return rv;
        }
    }
    /* JSON pages that do not depend on the time (show_expiring does) */
    if (pages && req->cfg->list_cache && !csv && !show_expiring
        && list_version(req, p, q->team_id, &version) == APR_SUCCESS
        && so_memo_get(pages, key = page_key(req, q, version), p, &text, &len, NULL)) {
        so_metrics_inc(SO_MC_LIST_CACHE_HIT);
        return so_api_ok_raw(req, text, len);
    }
    if (key) {
        so_metrics_inc(SO_MC_LIST_CACHE_MISS);
    }
    rv = so_store_orders_list(so_req_db(req), p, q, &list, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_api_orders_prepare(req, list)) != APR_SUCCESS) {
        return rv;
    }
    if (csv) {
        return list_csv(req, list);
    }
    w = so_jw_make(p, 2048 * (apr_size_t)(list->nelts + 1));
    so_jw_obj(w);
    so_jw_key(w, "results");
    so_jw_arr(w);
    for (i = 0; i < list->nelts; i++) {
        so_api_order_write(w, req, APR_ARRAY_IDX(list, i, so_order_t *));
    }
    so_jw_arr_end(w);
    so_jw_kint(w, "total", total);
    so_jw_obj_end(w);
    text = so_jw_text(w, &len);
    if (key) {
        so_memo_put(pages, key, text, len, NULL);
    }
    return so_api_ok_raw(req, text, len);
}

/* ------------------------------------------------------------------------- */
/* GET /ssl/orders/{id}                                                        */

static apr_status_t get_order(so_req_t *req)
{
    so_order_t *o;
    apr_array_header_t *one;
    so_jw_t *w;
    const char *text;
    apr_size_t len;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    one = apr_array_make(req->pool, 1, sizeof(so_order_t *));
    APR_ARRAY_PUSH(one, so_order_t *) = o;
    if ((rv = so_api_orders_prepare(req, one)) != APR_SUCCESS) {
        return rv;
    }
    w = so_jw_make(req->pool, 4096);
    so_api_order_write(w, req, o);
    text = so_jw_text(w, &len);
    return so_api_ok_raw(req, text, len);
}

/* ------------------------------------------------------------------------- */
/* PUT /ssl/orders/{id} (and POST)                                             */

static apr_status_t update_order(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    order_in_t in;
    so_order_t *o;
    so_product_t *prod;
    const char *key, *jkey;
    json_t *val, *fields;
    void *iter;
    apr_status_t rv;
    int attempt;

    if (read_input(req, &in) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_api_write_backoff(attempt);
        int started = 0;
        if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
            return rv;
        }
        if (body_id_matches(req, &in, o->id) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        /* the whole request is refused when one field is not allowed */
        fields = json_array();
        json_object_foreach(req->json, jkey, val)
        {
            /* managed_csr_id is the same change as a csr */
            key = !strcmp(jkey, "managed_csr_id") ? "csr" : jkey;
            if (!strcmp(key, "id") || !so_rules_field_known(key)) {
                continue;
            }
            if (so_rules_field_product(key)) {
                json_decref(fields);
                return so_api_errorf(req, SO_E_STATUS_FIELD,
                                     "%s is tied to the product and cannot be changed", key),
                       APR_EINVAL;
            }
            if (!so_rules_field_allowed(o->status, key)
                || (req->auth->kind == SO_AUTH_OTP && strcmp(key, "domain_validation_methods"))) {
                json_decref(fields);
                return so_api_errorf(req, SO_E_STATUS_FIELD,
                                     "%s cannot be changed while the order is %s%s", jkey, o->status,
                                     req->auth->kind == SO_AUTH_OTP
                                         ? " (an order token may only change "
                                           "domain_validation_methods)"
                                         : ""),
                       APR_EINVAL;
            }
            json_array_append_new(fields, json_string(key));
        }
        (void)iter;
        if ((rv = load_product(req, o->product_id, &prod)) != APR_SUCCESS) {
            json_decref(fields);
            return rv;
        }
        if (apply_input(req, db, prod, o, &in, 0) != APR_SUCCESS) {
            json_decref(fields);
            return APR_EINVAL;
        }
        if (in.has_start && in.start) {
            const char *what = missing(req, prod, o);
            if (what) {
                json_decref(fields);
                return so_api_errorf(req, SO_E_INCOMPLETE,
                                     "The order cannot be sent for validation: it lacks %s", what),
                       APR_EINVAL;
            }
            o->status = "REQ";
            started = 1;
        }
        o->updated_at = req->now;
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            json_decref(fields);
            return rv;
        }
        rv = so_store_order_update(db, p, o, 1);
        if (rv == APR_SUCCESS) {
            rv = so_api_order_event(req, o, "updated", json_pack("{s:o}", "fields", fields));
            fields = NULL;
        }
        if (rv == APR_SUCCESS && started) {
            rv = so_api_order_event(req, o, "provisioning_requested", NULL);
        }
        if (fields) {
            json_decref(fields);
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
        /* another writer came first: read its result and apply this request again */
        if (req->warnings) {
            json_decref(req->warnings);
            req->warnings = NULL;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_api_error(req, SO_E_CONCURRENT, "The order kept changing; retry", ""), APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* validation starts from the outbox ("provisioning_requested"), after the request */
    return so_api_ok_id(req, o->id);
}

/* ------------------------------------------------------------------------- */
/* approver e-mail, cancel, OTP, events                                        */

/* Load, check the status, run change() and write the order with an event, retried
 * on concurrent updates. change() answers and returns non-success to refuse. */
typedef apr_status_t change_fn(so_req_t *req, so_order_t *o, void *baton, json_t **event_detail,
                               const char **event_kind);

static apr_status_t change_order(so_req_t *req, change_fn *change, void *baton)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o = NULL;
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_api_write_backoff(attempt);
        json_t *detail = NULL;
        const char *kind = NULL;
        if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
            return rv;
        }
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        rv = change(req, o, baton, &detail, &kind);
        if (rv != APR_SUCCESS) {
            so_db_rollback(db);
            if (detail) {
                json_decref(detail);
            }
            return rv;
        }
        o->updated_at = req->now;
        rv = so_store_order_update(db, req->pool, o, 0);
        if (rv == APR_SUCCESS && kind) {
            rv = so_api_order_event(req, o, kind, detail);
            detail = NULL;
        }
        if (detail) {
            json_decref(detail);
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_api_error(req, SO_E_CONCURRENT, "The order kept changing; retry", ""), APR_EINVAL;
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, o->id);
}

static apr_status_t change_approver(so_req_t *req, so_order_t *o, void *baton, json_t **detail,
                                    const char **kind)
{
    const char *email = baton;
    int i;
    if (strcmp(o->status, "REQ")) {
        return so_api_errorf(req, SO_E_STATUS,
                             "The approver address can be changed only while the order is REQ (it "
                             "is %s)",
                             o->status),
               APR_EINVAL;
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        if (!strcmp(h->method, "email") && !so_approver_email_ok(req->pool, h->host_name, email)) {
            return so_api_errorf(req, SO_E_APPROVER, "%s is not an approver address of %s", email,
                                 h->host_name),
                   APR_EINVAL;
        }
    }
    if (!so_approver_email_ok(req->pool, o->common_name, email)) {
        return so_api_errorf(req, SO_E_APPROVER,
                             "%s is not an approver address of %s (see /ssl/approver-emails)", email,
                             o->common_name),
               APR_EINVAL;
    }
    *detail = json_pack("{s:s,s:s}", "from", o->approver_email, "to", email);
    *kind = "approver_email_changed";
    o->approver_email = email;
    return APR_SUCCESS;
}

static apr_status_t approver_email_update(so_req_t *req)
{
    const char *email = NULL;
    apr_int64_t id = 0;
    int has_id = 0;
    so_order_t *o;
    apr_status_t rv;
    if (so_in_str(req, req->json, "approver_email", 1, 254, &email, NULL)
        || so_in_int(req, req->json, "id", 0, 0, 0x7fffffff, &id, &has_id)) {
        return APR_EINVAL;
    }
    if (has_id && (!so_req_param(req, "id") || id != apr_atoi64(so_req_param(req, "id")))) {
        return so_api_error(req, SO_E_INVALID, "the body's id is not the order of the path", ""),
               APR_EINVAL;
    }
    rv = change_order(req, change_approver,
                      (void *)so_str_lower(req->pool, so_str_trim(req->pool, email)));
    if (rv == APR_SUCCESS && !req->err_code && so_api_order_load(req, &o) == APR_SUCCESS) {
        so_iss_send_approval(so_api_svc_ctx(req), o, 1);
    }
    return rv;
}

static apr_status_t change_resend(so_req_t *req, so_order_t *o, void *baton, json_t **detail,
                                  const char **kind)
{
    int i, email = 0;
    (void)baton;
    if (strcmp(o->status, "REQ")) {
        return so_api_errorf(req, SO_E_STATUS,
                             "The approval e-mail is sent only while the order is REQ (it is %s)",
                             o->status),
               APR_EINVAL;
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        email |= !strcmp(APR_ARRAY_IDX(o->hosts, i, so_order_host_t).method, "email");
    }
    if (!email || !*o->approver_email) {
        return so_api_error(req, SO_E_STATUS, "No name of this order is validated by e-mail", ""),
               APR_EINVAL;
    }
    *detail = json_pack("{s:s}", "to", o->approver_email);
    *kind = "approver_email_resend_requested";
    return APR_SUCCESS;
}

static apr_status_t approver_email_resend(so_req_t *req)
{
    so_order_t *o;
    apr_status_t rv = change_order(req, change_resend, NULL);
    if (rv == APR_SUCCESS && !req->err_code && so_api_order_load(req, &o) == APR_SUCCESS) {
        so_iss_send_approval(so_api_svc_ctx(req), o, 1);
    }
    return rv;
}

static apr_status_t change_cancel(so_req_t *req, so_order_t *o, void *baton, json_t **detail,
                                  const char **kind)
{
    apr_int64_t after;
    int refund = 0;
    apr_status_t rv;
    (void)baton;

    if (!strcmp(o->status, "PAI") || !strcmp(o->status, "REQ")) {
        refund = 1;
        *kind = "cancelled";
        o->status = "FAI";
    }
    else if (!strcmp(o->status, "ACT")) {
        refund = o->active_date > 0 && req->now - o->active_date <= REFUND_DAYS * 86400;
        *kind = "cancellation_requested";
        o->status = "REJ"; /* FAI once the certificate is revoked */
    }
    else {
        return so_api_errorf(req, SO_E_STATUS, "An order in status %s cannot be cancelled", o->status),
               APR_EINVAL;
    }
    o->cancelled_at = req->now;
    if (refund && o->price > 0) {
        rv = so_store_ledger_add(so_req_db(req), req->pool, o->team_id, o->price, "refund", o->id,
                                 apr_psprintf(req->pool, "refund of order %" APR_INT64_T_FMT, o->id),
                                 req->auth->user_id, req->now, &after);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *detail = json_pack("{s:b,s:s,s:s}", "refunded", refund, "amount",
                        refund ? so_money_fmt(req->pool, o->price) : "0.00", "currency", o->currency);
    return APR_SUCCESS;
}

static apr_status_t change_failed(so_req_t *req, so_order_t *o, void *baton, json_t **detail,
                                   const char **kind)
{
    (void)baton;
    if (strcmp(o->status, "REJ")) {
        *kind = NULL;
        return APR_SUCCESS;
    }
    o->status = "FAI";
    *kind = "cancelled";
    *detail = json_pack("{s:s}", "after", "revocation");
    (void)req;
    return APR_SUCCESS;
}

static apr_status_t cancel_order(so_req_t *req)
{
    so_order_t *o;
    apr_array_header_t *certs;
    apr_status_t rv = change_order(req, change_cancel, NULL);
    int i;

    if (rv != APR_SUCCESS || req->err_code || so_api_order_load(req, &o) != APR_SUCCESS
        || strcmp(o->status, "REJ")) {
        return rv;
    }
    /* an active certificate: revoke it (our CA does at once), then the order is FAI */
    if ((rv = so_store_certs_of_order(so_req_db(req), req->pool, o->team_id, o->id, &certs))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts; i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        if (c->revoked_at == 0 && c->not_after > req->now
            && (rv = so_iss_revoke(so_api_svc_ctx(req), o, c, 5 /* cessationOfOperation */)) != APR_SUCCESS) {
            return rv;
        }
    }
    return change_order(req, change_failed, NULL);
}

static apr_status_t create_otp(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    const char *token, *base;
    apr_int64_t expires;
    apr_status_t rv;

    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_otp_create(db, req->pool, o->team_id, o->id, req->now, OTP_TTL, &token, &expires);
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "otp_token_created",
                                json_pack("{s:s}", "expire_at", so_time_fmt(req->pool, expires)));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    base = req->cfg->public_url && *req->cfg->public_url ? req->cfg->public_url : "";
    return so_api_ok(req, json_pack("{s:s,s:s,s:s}", "uri",
                                    apr_psprintf(req->pool, "%s/otp.html#order=%" APR_INT64_T_FMT
                                                 "&token=%s", base, o->id, token), "token",
                                    token, "expire_at", so_time_fmt(req->pool, expires)));
}

static apr_status_t list_events(so_req_t *req)
{
    so_order_t *o;
    apr_int64_t limit, offset, total;
    apr_array_header_t *events;
    json_t *results;
    apr_status_t rv;
    int i;

    if (so_q_int(req, "limit", 100, 1, 1000, &limit) || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)) {
        return APR_EINVAL;
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_order_events(so_req_db(req), req->pool, o->team_id, o->id, (int)limit,
                               (int)offset, &events, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < events->nelts; i++) {
        so_order_event_t *e = &APR_ARRAY_IDX(events, i, so_order_event_t);
        json_t *detail = json_loads(e->detail, 0, NULL);
        json_array_append_new(results,
                              json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)e->id, "kind",
                                        e->kind, "actor", e->actor, "created_at",
                                        so_json_time(req->pool, e->created_at), "detail",
                                        detail ? detail : json_object()));
    }
    return so_api_ok_list(req, results, total);
}

/* ------------------------------------------------------------------------- */
/* reissue, renew, organization validation                                     */

static apr_status_t reissue_order(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_pool_t *p = req->pool;
    order_in_t in;
    so_order_t *o = NULL;
    so_product_t *prod;
    int use_prev = 0, attempt;
    const char *unique;
    apr_status_t rv = APR_SUCCESS;
    static const char *const refused[] = {"product_id", "period", "domain_amount",
                                          "wildcard_domain_amount", "start_provision", NULL};
    int i;

    if (read_input(req, &in) != APR_SUCCESS
        || so_in_bool(req, req->json, "use_previous_csr", 0, &use_prev, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    for (i = 0; refused[i]; i++) {
        if (json_object_get(req->json, refused[i])) {
            return so_api_errorf(req, SO_E_STATUS_FIELD, "%s cannot be changed by a reissue",
                                 refused[i]),
                   APR_EINVAL;
        }
    }
    if (use_prev && in.has_csr) {
        return so_api_error(req, SO_E_INVALID, "give either csr or use_previous_csr", ""), APR_EINVAL;
    }
    if (!use_prev && (!in.has_csr || !*in.csr)) {
        return so_api_error(req, SO_E_INVALID,
                            "a reissue needs a new csr (or use_previous_csr: true)", ""),
               APR_EINVAL;
    }
    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_api_write_backoff(attempt);
        if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
            return rv;
        }
        if (body_id_matches(req, &in, o->id) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (strcmp(o->status, "ACT")) {
            return so_api_errorf(req, SO_E_STATUS,
                                 "Only an active order can be reissued (this one is %s)", o->status),
                   APR_EINVAL;
        }
        if ((rv = load_product(req, o->product_id, &prod)) != APR_SUCCESS) {
            return rv;
        }
        if (apply_input(req, db, prod, o, &in, 0) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (so_dcv_unique(&unique, p) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        o->dcv_unique = unique;
        o->updated_at = req->now;
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        rv = so_store_order_update(db, p, o, 1);
        if (rv == APR_SUCCESS) {
            rv = so_api_order_event(req, o, "reissue_requested",
                                    json_pack("{s:b,s:i}", "new_csr", !use_prev, "names",
                                              o->hosts->nelts));
        }
        rv = so_db_end(db, rv);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        return so_api_error(req, SO_E_CONCURRENT, "The order kept changing; retry", ""), APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_iss_reissue(so_api_svc_ctx(req), o)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok_id(req, o->id);
}

static apr_status_t renew_order(so_req_t *req)
{
    so_order_t *o;
    order_in_t in;
    apr_status_t rv;

    if (read_input(req, &in) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (body_id_matches(req, &in, o->id) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (strcmp(o->status, "ACT") || o->order_ends_at <= req->now) {
        return so_api_errorf(req, SO_E_RENEW_WINDOW, "Only an active order can be renewed (this one "
                                                     "is %s)", o->status),
               APR_EINVAL;
    }
    if (o->order_ends_at - req->now > 30 * 86400) {
        return so_api_errorf(req, SO_E_RENEW_WINDOW,
                             "The order ends on %s: it can be renewed from %s (30 days before)",
                             so_time_fmt(req->pool, o->order_ends_at),
                             so_time_fmt(req->pool, o->order_ends_at - 30 * 86400)),
               APR_EINVAL;
    }
    {
        /* a renewal bought in the cart renews it already */
        int code = 0;
        const char *why = NULL;
        if ((rv = so_api_renewal_check(req, o->id, &code, &why)) != APR_SUCCESS) {
            return rv;
        }
        if (code) {
            return so_api_error(req, code, why, ""), APR_EINVAL;
        }
    }
    {
        so_result_t res;
        so_result_init(&res);
        rv = so_iss_renew_charge(so_api_svc_ctx(req), o, 0, &res);
        if (rv == SO_ENOFUNDS) {
            return so_api_error(req, SO_E_FUNDS, "The balance does not cover the renewal", ""),
                   APR_EINVAL;
        }
        if (rv != APR_SUCCESS) {
            return so_api_svc_answer(req, &res);
        }
    }
    return so_api_ok_id(req, o->id);
}

const so_route_t so_routes_orders[] = {
    {"GET", "/ssl/orders", list_orders, SO_ROLE_VIEWER, SO_RF_LISTVER},
    {"POST", "/ssl/orders", create_order, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}", get_order, SO_ROLE_VIEWER, SO_RF_OTP},
    {"PUT", "/ssl/orders/{id}", update_order, SO_ROLE_MEMBER, SO_RF_OTP},
    {"POST", "/ssl/orders/{id}", update_order, SO_ROLE_MEMBER, SO_RF_OTP},
    {"PUT", "/ssl/orders/{id}/approver-email", approver_email_update, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/approver-email/resend", approver_email_resend, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/cancel", cancel_order, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/otp-tokens", create_otp, SO_ROLE_MEMBER, 0},
    {"GET", "/ssl/orders/{id}/events", list_events, SO_ROLE_VIEWER, 0},
    {"POST", "/ssl/orders/{id}/reissue", reissue_order, SO_ROLE_MEMBER, 0},
    {"POST", "/ssl/orders/{id}/renew", renew_order, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
