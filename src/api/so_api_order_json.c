/* mod_sslorders: SSL orders: the order's JSON (see so_api_orders.c). */
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
#include "../svc/so_svc_br.h"
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
        {
            /* dns-account (BR 3.2.2.4.21): the dns value at the team account's label */
            const char *an = so_dcv_account_record(
                p, so_svc_persist_account(p, req->cfg, o->team_id), h->host_name, &why);
            so_jw_kstr(w, "dns_account_record", an ? an : "");
            so_jw_kstr(w, "dns_account_value", an && dns ? dns->record_value : "");
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
