/* mod_sslorders: SSL orders: the order list (GET /ssl/orders: filters, CSV, the page cache) (see so_api_orders.c). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_br.h"
#include "so_api.h"
#include "so_api_ssl.h"
#include "so_order_rules.h"
#include "so_api_svc.h"
#include "../svc/so_issuance.h"
#include "../svc/so_order_view.h"
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

#define EXPIRING_DAYS 30

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
        return so_api_errorf(req, SO_E_INVALID, "%s must be a date (YYYY-MM-DD)", key);
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
/* how long a request waits for the page another request of its process is building
 * before it builds the page itself */
#define PAGE_WAIT_MS 2000

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
 * the version, and the whole filter (so_store_orders_list_key). */
static const char *page_key(so_req_t *req, const so_order_filter_t *f, apr_int64_t version)
{
    return apr_psprintf(req->pool, "%pp %" APR_INT64_T_FMT " %s", (void *)req->cfg, version,
                        so_store_orders_list_key(so_req_db(req), req->pool, f));
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

/* The list's text filters (they cannot fail): common_name_pattern, contact_handle,
 * search, organization_unit. */
static void list_text_filters(so_req_t *req, so_order_filter_t *q)
{
    apr_pool_t *p = req->pool;
    const char *v;

    if ((v = so_req_query(req, "common_name_pattern")) && *v) {
        /* names are stored in lower case; a literal prefix also bounds an index range
         * in byte order (SQLite's BINARY, PostgreSQL's COLLATE "C": orders_team_cn_bytes) */
        const char *lc = so_str_lower(p, v);
        apr_size_t plen = strcspn(lc, "*");
        q->cn_like = so_like_pattern(p, lc, 0);
        if (plen > 0) {
            char *hi = apr_pstrndup(p, lc, plen);
            if ((unsigned char)hi[plen - 1] < 0x7f) {
                hi[plen - 1]++;
                q->cn_from = apr_pstrndup(p, lc, plen);
                q->cn_before = hi;
            }
        }
    }
    if ((v = so_req_query(req, "contact_handle")) && *v) {
        q->contact_handle = v;
    }
    if ((v = so_req_query(req, "search")) && *v) {
        apr_int64_t id;
        q->search_like = so_like_pattern(p, so_str_trim(p, v), 1);
        if (so_parse_int64(so_str_trim(p, v), 1, 0x7fffffff, &id) == APR_SUCCESS) {
            q->search_id = id;
        }
    }
    if ((v = so_req_query(req, "organization_unit")) && *v) {
        q->ou_like = so_like_pattern(p, v, 1);
    }
}

/* CSV (format=csv, or an Accept of text/csv without JSON) or JSON. */
static apr_status_t list_format(so_req_t *req, int *csv)
{
    const char *accept = so_req_header(req, "Accept"), *format = so_req_query(req, "format");

    if (format && *format) {
        if (!strcmp(format, "csv")) {
            *csv = 1;
        }
        else if (strcmp(format, "json")) {
            return so_api_error(req, SO_E_INVALID, "format must be json or csv", format);
        }
    }
    else if (accept && strstr(accept, "text/csv") && !strstr(accept, "application/json")) {
        *csv = 1;
    }
    return APR_SUCCESS;
}

/* The page's JSON: {"results": [...], "total": N} */
static const char *page_json(so_svc_ctx_t *ctx, const apr_array_header_t *list,
                             apr_int64_t total, apr_size_t *len)
{
    so_jw_t *w = so_jw_make(ctx->pool, 2048 * (apr_size_t)(list->nelts + 1));
    int i;
    so_jw_obj(w);
    so_jw_key(w, "results");
    so_jw_arr(w);
    for (i = 0; i < list->nelts; i++) {
        so_order_view_write(w, ctx, APR_ARRAY_IDX(list, i, so_order_t *));
    }
    so_jw_arr_end(w);
    so_jw_kint(w, "total", total);
    so_jw_obj_end(w);
    return so_jw_text(w, len);
}

apr_status_t so_api_orders_list(so_req_t *req)
{
    static const char *const sort_keys[] = {
        "common_name", "o.common_name", "order_date", "o.order_date", "active_date",
        "o.active_date", "expiration_date", "o.expiration_date", "status", "o.status",
        "product_name", "p.name", NULL};
    apr_pool_t *p = req->pool;
    so_order_filter_t *q = so_order_filter_make(p, req->auth->team_id);
    apr_array_header_t *statuses = so_req_query_all(req, "status"), *list;
    const char *key = NULL;
    apr_int64_t limit, offset, total, product_id, version;
    int show_expiring, csv = 0, claimed = 0, i;
    apr_status_t rv;
    so_svc_ctx_t *ctx = NULL;
    const char *text;
    apr_size_t len;

    if (list_format(req, &csv) != APR_SUCCESS) {
        return APR_EINVAL;
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
        for (i = 0; i < statuses->nelts; i++) {
            const char *s = APR_ARRAY_IDX(statuses, i, const char *);
            if (!is_status(s)) {
                return so_api_errorf(req, SO_E_INVALID,
                                     "status '%s' is not one of PAI, REQ, ACT, REJ, FAI, EXP", s);
            }
        }
        q->statuses = statuses;
    }
    list_text_filters(req, q);
    if (show_expiring) {
        q->expiring = 1;
        q->expiring_after = req->now;
        q->expiring_until = req->now + EXPIRING_DAYS * 86400;
    }
    q->product_id = product_id;
    /* q_date gives SO_ORDER_FILTER_NONE (-1) for an absent bound */
    if (q_date(req, "order_date_from", 0, &q->order_from)
        || q_date(req, "order_date_to", 1, &q->order_before)
        || q_date(req, "expiration_date_from", 0, &q->expires_from)
        || q_date(req, "expiration_date_to", 1, &q->expires_before)) {
        return APR_EINVAL;
    }
    for (i = 0; extra_filters[i]; i++) {
        if ((rv = extra_filters[i](req, q)) != APR_SUCCESS) {
            return rv;
        }
    }
    /* JSON pages that do not depend on the time (show_expiring does); of concurrent
     * requests for a page that is not cached, one builds it, the others wait for it */
    if (pages && req->cfg->list_cache && !csv && !show_expiring
        && list_version(req, p, q->team_id, &version) == APR_SUCCESS
        && so_memo_get_or_claim(pages, key = page_key(req, q, version), p, &text, &len, NULL,
                                PAGE_WAIT_MS, &claimed)) {
        so_metrics_inc(SO_MC_LIST_CACHE_HIT);
        return so_api_ok_raw(req, text, len);
    }
    if (key) {
        so_metrics_inc(SO_MC_LIST_CACHE_MISS);
    }
    /* the page's names go in one batch with the view's lookups (so_order_view_prepare) */
    so_db_batch_begin(so_req_db(req));
    rv = so_store_orders_list(so_req_db(req), p, q, &list, &total);
    if (rv == APR_SUCCESS) {
        ctx = so_api_svc_ctx(req);
        rv = so_order_view_prepare(ctx, list);
    }
    else {
        so_db_batch_cancel(so_req_db(req));
    }
    if (rv != APR_SUCCESS) {
        if (claimed) {
            so_memo_release(pages, key);
        }
        return rv;
    }
    if (csv) {
        return list_csv(req, list);
    }
    text = page_json(ctx, list, total, &len);
    if (key) {
        so_memo_put(pages, key, text, len, NULL);
    }
    return so_api_ok_raw(req, text, len);
}
