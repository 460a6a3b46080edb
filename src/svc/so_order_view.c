/* mod_sslorders: the order's JSON (SslOrder of the Openprovider spec plus the portal's
 * fields): the API's answers and the webhook events write it (see so_order_view.h). */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "so_order_view.h"
#include "so_svc_br.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_jsonw.h"
#include "../core/so_util.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_org.h"
#include "../store/so_store_renewal.h"

/* ------------------------------------------------------------------------- */
/* the order's own fields                                                      */

/* What the customer publishes for host h: the values of so_dcv (one format for the
 * API, the portal and the checks). */
static void dcv_instructions(so_jw_t *w, so_svc_ctx_t *ctx, const so_order_t *o,
                             const so_order_host_t *h, so_dcv_token_t *tok)
{
    apr_pool_t *p = ctx->pool;
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
            so_svc_persist_instructions(p, ctx->cfg, o->team_id, h->host_name, &pn, &pv, &pt);
            so_jw_kstr(w, "dns_persist_record", pn);
            so_jw_kstr(w, "dns_persist_value", pv);
        }
        {
            /* dns-account (BR 3.2.2.4.21): the dns value at the team account's label */
            const char *an = so_dcv_account_record(
                p, so_svc_persist_account(p, ctx->cfg, o->team_id), h->host_name, &why);
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

/* ------------------------------------------------------------------------- */
/* the fields of the features over orders: the current certificate, the folder, the tags,
 * renewals. load() fetches their data for a batch of orders (one query per feature for a
 * whole list page) and hangs it on so_order_t.ext; write() adds the fields. */

#define EXT_CERT "so_cert"
#define EXT_FOLDER "so_folder"
#define EXT_TAGS "so_tags"
#define EXT_CERT_TAGS "so_cert_tags"
#define EXT_RENEWED_BY "so_renewed_by"
#define EXT_RENEWAL_OF "so_renewal_of"

/* the ids of a batch of orders (one team's, in list order) */
static apr_array_header_t *order_ids(apr_pool_t *p, const apr_array_header_t *orders)
{
    apr_array_header_t *ids = apr_array_make(p, orders->nelts + 1, sizeof(apr_int64_t));
    int i;
    for (i = 0; i < orders->nelts; i++) {
        APR_ARRAY_PUSH(ids, apr_int64_t) = APR_ARRAY_IDX(orders, i, so_order_t *)->id;
    }
    return ids;
}

static apr_int64_t orders_team(const apr_array_header_t *orders)
{
    return APR_ARRAY_IDX(orders, 0, so_order_t *)->team_id;
}

/* hang v (when there is one) on the order under key */
static void ext_set(apr_pool_t *p, so_order_t *o, const char *key, void *v)
{
    if (!v) {
        return;
    }
    if (!o->ext) {
        o->ext = apr_hash_make(p);
    }
    apr_hash_set(o->ext, key, APR_HASH_KEY_STRING, v);
}

static void *ext_get(const so_order_t *o, const char *key)
{
    return o->ext ? apr_hash_get(o->ext, key, APR_HASH_KEY_STRING) : NULL;
}

/* the row of an order id in a part's lookup (a part not looked up: none) */
static void *row_of(apr_hash_t *h, const apr_int64_t *id)
{
    return h ? apr_hash_get(h, id, sizeof(*id)) : NULL;
}

/* "key": id, or null when there is none */
static void write_id(so_jw_t *w, const char *key, int has, apr_int64_t id)
{
    so_jw_key(w, key);
    if (has) {
        so_jw_int(w, id);
    }
    else {
        so_jw_null(w);
    }
}

/* What the loaders read for a page of orders: each load queues its lookups (one batch,
 * so_db_batch_begin), and its apply hangs the rows on the orders after the batch ran. */
typedef struct {
    apr_hash_t *certs;                  /* order id -> so_cert_t* (current) */
    apr_hash_t *folders;                /* folder id -> so_folder_t* */
    apr_hash_t *order_tags, *cert_tags; /* order id -> names; -> so_cert_tags_t* */
    apr_hash_t *renewed_by, *renewal_of; /* order id -> so_renewal_t* */
} loaded_t;

static apr_status_t certs_load(so_svc_ctx_t *ctx, apr_array_header_t *orders, loaded_t *l)
{
    return so_store_certs_current(ctx->db, ctx->pool, orders, &l->certs);
}

static void certs_apply(so_svc_ctx_t *ctx, apr_array_header_t *orders, const loaded_t *l)
{
    int i;
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        so_cert_t *c = row_of(l->certs, &o->id);
        if (c) {
            o->certificate = c->pem;
            o->intermediate_certificate = c->intermediate_pem;
            o->root_certificate = c->root_pem;
        }
        ext_set(ctx->pool, o, EXT_CERT, c);
    }
}

static void certs_write(so_jw_t *w, const so_order_t *o)
{
    so_cert_t *c = ext_get(o, EXT_CERT);
    write_id(w, "certificate_id", c != NULL, c ? c->id : 0);
    so_jw_kstr(w, "certificate_serial", c ? c->serial : "");
    so_jw_kbool(w, "certificate_revoked", c && c->revoked_at > 0);
}

static apr_status_t folders_load(so_svc_ctx_t *ctx, apr_array_header_t *orders, loaded_t *l)
{
    apr_array_header_t *ids = apr_array_make(ctx->pool, orders->nelts + 1, sizeof(apr_int64_t));
    int i;

    for (i = 0; i < orders->nelts; i++) {
        apr_int64_t folder = APR_ARRAY_IDX(orders, i, so_order_t *)->folder_id;
        if (folder && (!ids->nelts || APR_ARRAY_IDX(ids, ids->nelts - 1, apr_int64_t) != folder)) {
            APR_ARRAY_PUSH(ids, apr_int64_t) = folder; /* neighbours often share a folder */
        }
    }
    return so_store_folders_by_id(ctx->db, ctx->pool, orders_team(orders), ids, &l->folders);
}

static void folders_apply(so_svc_ctx_t *ctx, apr_array_header_t *orders, const loaded_t *l)
{
    int i;
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        if (o->folder_id) {
            ext_set(ctx->pool, o, EXT_FOLDER, row_of(l->folders, &o->folder_id));
        }
    }
}

static void folders_write(so_jw_t *w, const so_order_t *o)
{
    so_folder_t *f = ext_get(o, EXT_FOLDER);
    write_id(w, "folder_id", f != NULL, f ? f->id : 0);
    so_jw_kstr(w, "folder_name", f ? f->name : "");
}

static apr_status_t tags_load(so_svc_ctx_t *ctx, apr_array_header_t *orders, loaded_t *l)
{
    return so_store_orders_tags(ctx->db, ctx->pool, orders_team(orders),
                                order_ids(ctx->pool, orders), &l->order_tags, &l->cert_tags);
}

static void tags_apply(so_svc_ctx_t *ctx, apr_array_header_t *orders, const loaded_t *l)
{
    int i;
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        ext_set(ctx->pool, o, EXT_TAGS, row_of(l->order_tags, &o->id));
        ext_set(ctx->pool, o, EXT_CERT_TAGS, row_of(l->cert_tags, &o->id));
    }
}

static void write_names(so_jw_t *w, apr_array_header_t *names)
{
    int i;
    so_jw_arr(w);
    for (i = 0; names && i < names->nelts; i++) {
        so_jw_str(w, APR_ARRAY_IDX(names, i, const char *));
    }
    so_jw_arr_end(w);
}

static void tags_write(so_jw_t *w, const so_order_t *o)
{
    apr_array_header_t *certs = ext_get(o, EXT_CERT_TAGS);
    int i;
    so_jw_key(w, "tags");
    write_names(w, ext_get(o, EXT_TAGS));
    so_jw_key(w, "certificate_tags");
    so_jw_arr(w);
    for (i = 0; certs && i < certs->nelts; i++) {
        so_cert_tags_t *c = APR_ARRAY_IDX(certs, i, so_cert_tags_t *);
        so_jw_obj(w);
        so_jw_kstr(w, "serial", c->serial);
        so_jw_key(w, "tags");
        write_names(w, c->tags);
        so_jw_obj_end(w);
    }
    so_jw_arr_end(w);
}

static apr_status_t renewals_load(so_svc_ctx_t *ctx, apr_array_header_t *orders, loaded_t *l)
{
    return so_store_renewals_for(ctx->db, ctx->pool, orders_team(orders),
                                 order_ids(ctx->pool, orders), &l->renewed_by, &l->renewal_of);
}

static void renewals_apply(so_svc_ctx_t *ctx, apr_array_header_t *orders, const loaded_t *l)
{
    int i;
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        ext_set(ctx->pool, o, EXT_RENEWED_BY, row_of(l->renewed_by, &o->id));
        ext_set(ctx->pool, o, EXT_RENEWAL_OF, row_of(l->renewal_of, &o->id));
    }
}

static void renewals_write(so_jw_t *w, const so_order_t *o)
{
    so_renewal_t *by = ext_get(o, EXT_RENEWED_BY);
    so_renewal_t *of = ext_get(o, EXT_RENEWAL_OF);
    write_id(w, "renewal_of", of != NULL, of ? of->renewed_id : 0);
    so_jw_key(w, "renewed_by");
    if (by) {
        so_jw_obj(w);
        so_jw_kint(w, "id", by->renewal_id);
        so_jw_kstr(w, "status", by->status);
        so_jw_obj_end(w);
    }
    else {
        so_jw_null(w);
    }
}

/* which of what a team may have none of (so_order_view_team_has) a part shows */
typedef enum { PART_ALWAYS, PART_TAGS, PART_RENEWALS } part_gate_t;

typedef struct {
    apr_status_t (*load)(so_svc_ctx_t *ctx, apr_array_header_t *orders, loaded_t *l);
    void (*apply)(so_svc_ctx_t *ctx, apr_array_header_t *orders, const loaded_t *l);
    void (*write)(so_jw_t *w, const so_order_t *o);
    part_gate_t gate;
} part_t;

/* in the order of their fields in the object */
static const part_t parts[] = {
    {certs_load, certs_apply, certs_write, PART_ALWAYS},
    {folders_load, folders_apply, folders_write, PART_ALWAYS},
    {tags_load, tags_apply, tags_write, PART_TAGS},
    {renewals_load, renewals_apply, renewals_write, PART_RENEWALS},
};

/* what a team has none of (so_order_view_team_has), by the request's pool */
typedef struct {
    int tags, renewals;
} team_has_t;

static const char *has_key(apr_pool_t *p, apr_int64_t team_id)
{
    return apr_psprintf(p, "so_view_has:%" APR_INT64_T_FMT, team_id);
}

void so_order_view_team_has(apr_pool_t *p, apr_int64_t team_id, int tags, int renewals)
{
    team_has_t *h = apr_palloc(p, sizeof(*h));
    h->tags = tags;
    h->renewals = renewals;
    apr_pool_userdata_set(h, has_key(p, team_id), NULL, p);
}

/* whether part i has to be looked up: not for a team that has none of it */
static int part_needed(const part_t *part, const team_has_t *has)
{
    return !has || (part->gate == PART_TAGS ? has->tags
                    : part->gate == PART_RENEWALS ? has->renewals : 1);
}

apr_status_t so_order_view_prepare(so_svc_ctx_t *ctx, apr_array_header_t *orders)
{
    loaded_t l;
    void *has = NULL;
    apr_status_t rv = APR_SUCCESS;
    size_t i, n = sizeof(parts) / sizeof(parts[0]);

    memset(&l, 0, sizeof(l)); /* a part not looked up finds no rows (row_of) */
    if (orders->nelts) {
        (void)apr_pool_userdata_get(&has, has_key(ctx->pool, orders_team(orders)), ctx->pool);
    }
    /* PostgreSQL: every lookup (and what the caller queued before, the orders' names)
     * in one round trip instead of one each */
    so_db_batch_begin(ctx->db);
    for (i = 0; i < n && rv == APR_SUCCESS && orders->nelts; i++) {
        if (part_needed(&parts[i], has)) {
            rv = parts[i].load(ctx, orders, &l);
        }
    }
    if (rv != APR_SUCCESS) {
        so_db_batch_cancel(ctx->db);
        return rv;
    }
    if ((rv = so_db_batch_run(ctx->db)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < n && orders->nelts; i++) {
        parts[i].apply(ctx, orders, &l);
    }
    return APR_SUCCESS;
}

void so_order_view_write(so_jw_t *w, so_svc_ctx_t *ctx, const so_order_t *o)
{
    apr_pool_t *p = ctx->pool;
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
        if (*o->csr && so_dcv_token_hashes(&tok, p, o->csr_md5, o->csr_sha256, ctx->cfg->ca_tag,
                                           *o->dcv_unique ? o->dcv_unique : NULL, &why)
                           != APR_SUCCESS) {
            tok = NULL;
        }
        for (i = 0; i < o->hosts->nelts; i++) {
            dcv_instructions(w, ctx, o, &APR_ARRAY_IDX(o->hosts, i, so_order_host_t), tok);
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
    for (k = 0; k < (int)(sizeof(parts) / sizeof(parts[0])); k++) {
        parts[k].write(w, o);
    }
    so_jw_obj_end(w);
}

