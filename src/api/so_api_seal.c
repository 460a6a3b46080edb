/* mod_sslorders: site seals.
 *
 * Public routes (SetHandler sslorders-seal, paths below its mount, e.g. /seal):
 *   GET /<id>.js                 the embed script
 *   GET /<id>.svg[?host=]        the badge
 *   GET /<id>/report[?host=]     the report page
 *   GET /<id>/documents/<doc>    a published validation document
 * and the customer's settings (GET/PUT /ssl/orders/{id}/seal).
 *
 * Hot seals are served without a database round trip: what a seal shows is kept per
 * process for half of SSLOrdersSealMaxAge, and answers may be cached for the other
 * half (Cache-Control max-age), so that any change (revocation, expiry, the customer's
 * switch) shows within SSLOrdersSealMaxAge. The state itself (expired or not, the page
 * host) is worked out on every request from the kept facts. */
#include <string.h>

#include <apr_strings.h>
#include <apr_escape.h>
#include <apr_thread_rwlock.h>
#include <apr_uri.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_seal.h"
#include "../core/so_metrics.h"
#include "../core/so_ca.h"
#include "../core/so_doctype.h"
#include "../core/so_log.h"
#include "../core/so_seal.h"
#include "../core/so_util.h"
#include "../store/so_store_seal.h"

/* ---- the per-process cache -------------------------------------------------------------- */

#define CACHE_MAX 20000
#define SEAL_STATES 6 /* so_seal_state_t */

/* An answer rendered once for an entry (the script; the badge of one state). */
typedef struct {
    const char *body;
    apr_size_t len;
    const char *etag;
    const so_config_t *cfg; /* the server (virtual host) it was made for: its base, brand */
} rendered_t;

typedef struct {
    apr_pool_t *pool;   /* the entry's own: written under the write lock only */
    apr_uint64_t gen;   /* which fetch this is (0: not cached) */
    apr_time_t fetched;
    so_seal_facts_t *facts;
    const char *issuer;
    apr_array_header_t *docs; /* so_doc_t *: published documents (artifacts on) */
    apr_array_header_t *names; /* const char *: the certificate's names (or the CN) */
    rendered_t js;
    rendered_t svg[SEAL_STATES];
} seal_entry_t;

static apr_pool_t *cache_pool;
static apr_thread_rwlock_t *cache_lock;
static apr_hash_t *cache;
static apr_hash_t *cache_orders; /* the same entries by their order's id (apr_int64_t) */
static apr_uint64_t cache_gen;

void so_seal_cache_init(apr_pool_t *p)
{
    if (apr_pool_create(&cache_pool, p) != APR_SUCCESS
        || apr_thread_rwlock_create(&cache_lock, cache_pool) != APR_SUCCESS) {
        cache_lock = NULL;
        return;
    }
    cache = apr_hash_make(cache_pool);
    cache_orders = apr_hash_make(cache_pool);
}

static void entry_free(seal_entry_t *e)
{
    apr_pool_destroy(e->pool); /* e lives in its own pool */
}

/* with the write lock held: e out of the cache, and freed */
static void cache_drop(seal_entry_t *e)
{
    const apr_int64_t *order = &e->facts->seal.order_id;
    apr_hash_set(cache, e->facts->seal.seal_id, APR_HASH_KEY_STRING, NULL);
    if (apr_hash_get(cache_orders, order, sizeof(*order)) == e) {
        apr_hash_set(cache_orders, order, sizeof(*order), NULL);
    }
    entry_free(e);
}

/* with the write lock held */
static void cache_trim(apr_time_t now, apr_time_t ttl)
{
    apr_hash_index_t *hi;
    if (apr_hash_count(cache) < CACHE_MAX) {
        return;
    }
    for (hi = apr_hash_first(NULL, cache); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        if (now - ((seal_entry_t *)val)->fetched >= ttl) {
            cache_drop(val);
        }
    }
    if (apr_hash_count(cache) >= CACHE_MAX) {
        for (hi = apr_hash_first(NULL, cache); hi; hi = apr_hash_next(hi)) {
            const void *key;
            void *val;
            apr_hash_this(hi, &key, NULL, &val);
            cache_drop(val);
        }
    }
}

void so_seal_cache_forget(const char *seal_id)
{
    seal_entry_t *e;
    if (!cache_lock) {
        return;
    }
    apr_thread_rwlock_wrlock(cache_lock);
    if ((e = apr_hash_get(cache, seal_id, APR_HASH_KEY_STRING))) {
        cache_drop(e);
    }
    apr_thread_rwlock_unlock(cache_lock);
}

void so_seal_cache_forget_order(apr_int64_t order_id)
{
    seal_entry_t *e;
    if (!cache_lock) {
        return;
    }
    apr_thread_rwlock_wrlock(cache_lock);
    if ((e = apr_hash_get(cache_orders, &order_id, sizeof(order_id)))) {
        cache_drop(e);
    }
    apr_thread_rwlock_unlock(cache_lock);
}

static const char *sdup(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

/* A copy of e's data in pool p (readers never hold on to cache memory). */
static seal_entry_t *entry_copy(apr_pool_t *p, const seal_entry_t *e)
{
    seal_entry_t *c = apr_pcalloc(p, sizeof(*c));
    so_seal_facts_t *f = apr_pmemdup(p, e->facts, sizeof(*f));
    int i;

    f->seal.seal_id = sdup(p, f->seal.seal_id);
    f->common_name = sdup(p, f->common_name);
    f->status = sdup(p, f->status);
    f->validation_method = sdup(p, f->validation_method);
    f->names = sdup(p, f->names);
    f->cert_pem = NULL; /* not needed once the issuer is known */
    f->org_name = sdup(p, f->org_name);
    f->org_city = sdup(p, f->org_city);
    f->org_state = sdup(p, f->org_state);
    f->org_country = sdup(p, f->org_country);
    c->facts = f;
    c->issuer = sdup(p, e->issuer);
    c->fetched = e->fetched;
    c->gen = e->gen;
    c->names = apr_array_make(p, e->names ? e->names->nelts : 1, sizeof(const char *));
    for (i = 0; e->names && i < e->names->nelts; i++) {
        APR_ARRAY_PUSH(c->names, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(e->names, i, const char *));
    }
    c->docs = apr_array_make(p, e->docs ? e->docs->nelts : 1, sizeof(so_doc_t *));
    for (i = 0; e->docs && i < e->docs->nelts; i++) {
        so_doc_t *d = apr_pmemdup(p, APR_ARRAY_IDX(e->docs, i, so_doc_t *), sizeof(so_doc_t));
        d->name = sdup(p, d->name);
        d->type = sdup(p, d->type);
        APR_ARRAY_PUSH(c->docs, so_doc_t *) = d;
    }
    return c;
}

static apr_array_header_t *split_names(apr_pool_t *p, const char *names, const char *cn)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *list = apr_pstrdup(p, names ? names : ""), *tok, *last = NULL;
    for (tok = apr_strtok(list, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = tok;
    }
    if (a->nelts == 0 && cn && *cn) {
        APR_ARRAY_PUSH(a, const char *) = cn;
    }
    return a;
}

static apr_status_t facts_fetch(so_req_t *req, apr_pool_t *p, const char *seal_id,
                                seal_entry_t **out)
{
    so_db_t *db = so_req_db(req);
    seal_entry_t *e = apr_pcalloc(p, sizeof(*e));
    apr_status_t rv;

    if (!db) {
        return SO_EDBDOWN;
    }
    if ((rv = so_store_seal_facts(db, p, seal_id, &e->facts)) != APR_SUCCESS) {
        return rv;
    }
    if (e->facts->has_cert && so_ca_cert_issuer(&e->issuer, p, e->facts->cert_pem) != APR_SUCCESS) {
        e->issuer = NULL;
    }
    if (e->facts->seal.artifacts) {
        if ((rv = so_store_docs_published(db, p, e->facts->seal.order_id, &e->docs)) != APR_SUCCESS) {
            return rv;
        }
    }
    e->names = split_names(p, e->facts->names, e->facts->common_name);
    e->fetched = apr_time_now();
    *out = e;
    return APR_SUCCESS;
}

static apr_time_t cache_ttl(const so_req_t *req)
{
    return apr_time_from_sec(req->cfg->seal_max_age / 2);
}

/* What seal_id shows, from the cache or the database (then cached). */
static apr_status_t seal_lookup(so_req_t *req, const char *seal_id, seal_entry_t **out)
{
    apr_time_t now = apr_time_now(), ttl = cache_ttl(req);
    seal_entry_t *e;
    apr_pool_t *ep;
    apr_status_t rv;

    if (cache_lock && ttl > 0) {
        apr_thread_rwlock_rdlock(cache_lock);
        e = apr_hash_get(cache, seal_id, APR_HASH_KEY_STRING);
        if (e && now - e->fetched < ttl) {
            *out = entry_copy(req->pool, e);
            apr_thread_rwlock_unlock(cache_lock);
            so_metrics_inc(SO_MC_SEAL_CACHE_HIT);
            return APR_SUCCESS;
        }
        apr_thread_rwlock_unlock(cache_lock);
    }
    so_metrics_inc(SO_MC_SEAL_CACHE_MISS);
    if (!cache_lock || ttl <= 0) {
        return facts_fetch(req, req->pool, seal_id, out);
    }
    /* fetched into a pool of its own that the cache keeps */
    if ((rv = apr_pool_create_unmanaged_ex(&ep, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = facts_fetch(req, ep, seal_id, &e)) != APR_SUCCESS) {
        apr_pool_destroy(ep);
        return rv;
    }
    e->pool = ep;
    e->facts->cert_pem = NULL;
    apr_thread_rwlock_wrlock(cache_lock);
    {
        seal_entry_t *old = apr_hash_get(cache, e->facts->seal.seal_id, APR_HASH_KEY_STRING);
        if (old) {
            cache_drop(old);
        }
        cache_trim(now, ttl);
        e->gen = ++cache_gen;
        apr_hash_set(cache, e->facts->seal.seal_id, APR_HASH_KEY_STRING, e);
        apr_hash_set(cache_orders, &e->facts->seal.order_id, sizeof(apr_int64_t), e);
        *out = entry_copy(req->pool, e);
    }
    apr_thread_rwlock_unlock(cache_lock);
    return APR_SUCCESS;
}

/* ---- what a seal shows ---------------------------------------------------------------- */

const char *so_seal_base(const so_req_t *req)
{
    if (req->cfg->seal_url && *req->cfg->seal_url) {
        return req->cfg->seal_url;
    }
    if (req->cfg->public_url && *req->cfg->public_url) {
        return apr_pstrcat(req->pool, req->cfg->public_url, "/seal", NULL);
    }
    return "";
}

static so_seal_level_t level_of(const char *validation_method)
{
    return !strcmp(validation_method, "extended")       ? SO_SEAL_EV
           : !strcmp(validation_method, "organization") ? SO_SEAL_OV
                                                        : SO_SEAL_DV;
}

/* The state only (the hot path: no allocation). */
static so_seal_state_t state_of(const so_req_t *req, const seal_entry_t *e, const char *host)
{
    const so_seal_facts_t *f = e->facts;
    so_seal_info_t info;
    int enabled = f->seal.enabled;

    memset(&info, 0, sizeof(info));
    info.domain = f->common_name;
    info.names = e->names;
    info.host = host;
    info.not_before = f->not_before;
    info.not_after = f->not_after;
    info.revoked_at = f->revoked_at;
    info.now = req->now;
    /* a cancelled order without a certificate shows as switched off */
    if (!f->has_cert && (!strcmp(f->status, "FAI") || !strcmp(f->status, "REJ"))) {
        enabled = 0;
    }
    return so_seal_state_of(&info, enabled, f->has_cert);
}

static void info_fill(so_req_t *req, const seal_entry_t *e, const char *host, so_seal_info_t *info)
{
    const so_seal_facts_t *f = e->facts;
    int i;
    const char *base = so_seal_base(req);

    memset(info, 0, sizeof(*info));
    info->seal_id = f->seal.seal_id;
    info->domain = *f->common_name ? f->common_name : "-";
    info->names = e->names;
    info->level = level_of(f->validation_method);
    info->host = host;
    if (info->level != SO_SEAL_DV) {
        info->org_name = f->org_name;
        info->org_city = f->org_city;
        info->org_state = f->org_state;
        info->org_country = f->org_country;
    }
    info->issuer = e->issuer;
    info->not_before = f->not_before;
    info->not_after = f->not_after;
    info->revoked_at = f->revoked_at;
    info->now = req->now;
    info->seal_base = *base ? base : NULL;
    {
        so_brand_t b;
        so_brand(req->cfg, &b);
        info->brand_name = *req->cfg->brand_name ? b.name : NULL;
        info->brand_color = b.color;
        info->support_url = b.support_url;
    }
    info->artifacts = f->seal.artifacts;
    if (f->seal.artifacts && e->docs && e->docs->nelts) {
        apr_array_header_t *docs = apr_array_make(req->pool, e->docs->nelts, sizeof(so_seal_doc_t));
        for (i = 0; i < e->docs->nelts; i++) {
            const so_doc_t *d = APR_ARRAY_IDX(e->docs, i, so_doc_t *);
            so_seal_doc_t *sd = apr_array_push(docs);
            const so_doctype_t *t = so_doctype_by_name(d->type);
            sd->name = d->name;
            sd->type = t ? t->label : d->type;
            sd->url = *base ? apr_psprintf(req->pool, "%s/%s/documents/%" APR_INT64_T_FMT, base,
                                           f->seal.seal_id, d->id)
                            : NULL;
        }
        info->documents = docs;
    }
    info->state = state_of(req, e, host);
}

/* The page host: the Referer's or the Origin's host when the browser sends one (a page
 * cannot choose them), else ?host= (the script passes location.hostname; browsers that
 * send neither header). NULL when unknown; *from_headers tells the answer varies on
 * them (it always does: whether they are sent decides whether ?host= counts). */
static const char *page_host(so_req_t *req, int *from_headers)
{
    const char *h = so_req_query(req, "host");
    const char *hdrs[] = {"Referer", "Origin"};
    unsigned i;

    *from_headers = 1;
    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        const char *v = so_req_header(req, hdrs[i]);
        apr_uri_t uri;
        if (v && *v) {
            if (apr_uri_parse(req->pool, v, &uri) == APR_SUCCESS && uri.hostname
                && *uri.hostname) {
                return uri.hostname;
            }
            /* sent but unreadable ("null" of a sandboxed frame): no claim can stand */
            return "-";
        }
    }
    if (h && *h) {
        return apr_pstrndup(req->pool, h, 255);
    }
    return NULL;
}

static apr_int64_t last_modified(const so_req_t *req, const so_seal_facts_t *f)
{
    apr_int64_t t = f->seal.updated_at;
    if (f->not_before > t && f->not_before <= req->now) {
        t = f->not_before;
    }
    if (f->revoked_at > t) {
        t = f->revoked_at;
    }
    if (f->not_after > 0 && f->not_after <= req->now && f->not_after > t) {
        t = f->not_after; /* the expiry is a change */
    }
    return t;
}

static const char *etag_of(so_req_t *req, const void *body, apr_size_t len)
{
    return apr_pstrcat(req->pool, "\"",
                       apr_pstrndup(req->pool, so_sha256_hex(req->pool, body, len, 0), 32), "\"",
                       NULL);
}

static void cache_headers(so_req_t *req, const char *etag, int varies)
{
    int age = req->cfg->seal_max_age / 2;
    apr_table_setn(req->headers_out, "Cache-Control",
                   age > 0 ? apr_psprintf(req->pool, "public, max-age=%d", age) : "no-cache");
    apr_table_setn(req->headers_out, "ETag", etag);
    apr_table_setn(req->headers_out, "Cross-Origin-Resource-Policy", "cross-origin");
    apr_table_setn(req->headers_out, "Access-Control-Allow-Origin", "*");
    if (varies) {
        apr_table_setn(req->headers_out, "Vary", "Referer, Origin");
    }
}

/* A hot seal's script or badge as rendered before for the same entry (and, for the
 * badge, the same state, worked out here on the entry's own data under the read lock):
 * 1 with a copy in out. */
static int rendered_get(so_req_t *req, const char *seal_id, int js, const char *host,
                        rendered_t *out, apr_int64_t *mtime)
{
    apr_time_t ttl = cache_ttl(req);
    seal_entry_t *e;
    int hit = 0;

    if (!cache_lock || ttl <= 0) {
        return 0;
    }
    apr_thread_rwlock_rdlock(cache_lock);
    e = apr_hash_get(cache, seal_id, APR_HASH_KEY_STRING);
    if (e && apr_time_now() - e->fetched < ttl) {
        const rendered_t *r;
        if (js) {
            r = &e->js;
        }
        else {
            r = &e->svg[state_of(req, e, host)];
        }
        if (r->body && r->cfg == req->cfg) {
            out->body = apr_pmemdup(req->pool, r->body, r->len);
            out->len = r->len;
            out->etag = apr_pstrdup(req->pool, r->etag);
            *mtime = js ? e->facts->seal.created_at : last_modified(req, e->facts);
            hit = 1;
        }
    }
    apr_thread_rwlock_unlock(cache_lock);
    if (hit) {
        so_metrics_inc(SO_MC_SEAL_CACHE_HIT);
    }
    return hit;
}

/* Keep what was rendered with the entry it was rendered from (gen), if still cached. */
static void rendered_keep(const so_req_t *req, const char *seal_id, apr_uint64_t gen, int js,
                          so_seal_state_t state, const rendered_t *r)
{
    seal_entry_t *e;
    if (!cache_lock || gen == 0 || (unsigned)state >= SEAL_STATES) {
        return;
    }
    apr_thread_rwlock_wrlock(cache_lock);
    e = apr_hash_get(cache, seal_id, APR_HASH_KEY_STRING);
    if (e && e->gen == gen) {
        rendered_t *slot = js ? &e->js : &e->svg[state];
        if (!slot->body) {
            slot->etag = apr_pstrdup(e->pool, r->etag);
            slot->len = r->len;
            slot->body = apr_pmemdup(e->pool, r->body, r->len);
            slot->cfg = req->cfg;
        }
    }
    apr_thread_rwlock_unlock(cache_lock);
}

static apr_status_t not_found(so_req_t *req)
{
    return so_api_error(req, SO_E_NOT_FOUND, "No such seal", "");
}

static apr_status_t load(so_req_t *req, const char *id, seal_entry_t **e)
{
    apr_status_t rv;
    if (!so_seal_id_valid(id)) {
        return not_found(req);
    }
    rv = seal_lookup(req, id, e);
    if (rv == APR_ENOENT) {
        return not_found(req);
    }
    return rv;
}

/* GET /<id>.js, /<id>.svg */
static apr_status_t seal_file(so_req_t *req)
{
    const char *file = so_req_param(req, "file"), *dot = strrchr(file, '.'), *id, *why = NULL;
    const char *base = so_seal_base(req), *host = NULL;
    seal_entry_t *e;
    so_seal_info_t info;
    rendered_t r;
    apr_status_t rv;
    int varies = 0, js;

    if (!dot || (strcmp(dot, ".js") && strcmp(dot, ".svg"))) {
        return not_found(req);
    }
    js = !strcmp(dot, ".js");
    id = apr_pstrmemdup(req->pool, file, (apr_size_t)(dot - file));
    if (!so_seal_id_valid(id)) {
        return not_found(req);
    }
    if (!js) {
        host = page_host(req, &varies);
    }
    if (!rendered_get(req, id, js, host, &r, &req->mtime)) {
        if ((rv = load(req, id, &e)) != APR_SUCCESS) {
            return rv;
        }
        if (js) {
            if (!*base) {
                return so_api_error(req, SO_E_NOT_FOUND,
                                    "Seals need SSLOrdersPublicURL (or SSLOrdersSealURL)", "");
            }
            if (so_seal_script(&r.body, &r.len, req->pool, base, id, &why) != APR_SUCCESS) {
                return so_api_error(req, SO_E_NOT_FOUND, why ? why : "No such seal", "");
            }
            info.state = SO_SEAL_VALID; /* not used for the script */
            req->mtime = e->facts->seal.created_at;
        }
        else {
            info_fill(req, e, host, &info);
            if (so_seal_svg(&r.body, &r.len, req->pool, &info) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
            req->mtime = last_modified(req, e->facts);
        }
        r.etag = etag_of(req, r.body, r.len);
        rendered_keep(req, id, e->gen, js, info.state, &r);
    }
    cache_headers(req, r.etag, varies);
    if (js) {
        return so_api_ok_bytes(req, r.body, r.len, "application/javascript; charset=utf-8");
    }
    apr_table_setn(req->headers_out, "Content-Security-Policy", "default-src 'none'");
    return so_api_ok_bytes(req, r.body, r.len, "image/svg+xml");
}

/* GET /<id>/report */
static apr_status_t seal_report(so_req_t *req)
{
    const char *id = so_req_param(req, "id"), *body, *host;
    seal_entry_t *e;
    so_seal_info_t info;
    apr_size_t len;
    apr_status_t rv;
    int varies = 0;

    if ((rv = load(req, id, &e)) != APR_SUCCESS) {
        return rv;
    }
    host = page_host(req, &varies);
    info_fill(req, e, host, &info);
    if (so_seal_report_html(&body, &len, req->pool, &info) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    cache_headers(req, etag_of(req, body, len), varies);
    apr_table_setn(req->headers_out, "Content-Security-Policy",
                   "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                   "frame-ancestors *; base-uri 'none'; form-action 'none'");
    apr_table_setn(req->headers_out, "Referrer-Policy", "no-referrer");
    req->mtime = last_modified(req, e->facts);
    return so_api_ok_bytes(req, body, len, "text/html; charset=utf-8");
}

/* GET /<id>/documents/<doc>: a document the customer published on the seal */
static apr_status_t seal_document(so_req_t *req)
{
    const char *id = so_req_param(req, "id"), *b64;
    apr_int64_t doc_id;
    seal_entry_t *e;
    const unsigned char *data;
    apr_size_t len;
    apr_status_t rv;
    int i;

    if (so_req_param_id(req, "doc", &doc_id) != APR_SUCCESS) {
        return not_found(req);
    }
    if ((rv = load(req, id, &e)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; e->facts->seal.enabled && e->docs && i < e->docs->nelts; i++) {
        const so_doc_t *d = APR_ARRAY_IDX(e->docs, i, so_doc_t *);
        const so_doctype_t *t;
        if (d->id != doc_id) {
            continue;
        }
        if ((rv = so_store_doc_data(so_req_db(req), req->pool, d->id, &b64)) != APR_SUCCESS) {
            return rv == APR_ENOENT ? not_found(req) : rv;
        }
        if (so_unbase64(&data, &len, req->pool, b64) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        t = so_doctype_by_name(d->type);
        cache_headers(req, etag_of(req, data, len), 0);
        apr_table_setn(req->headers_out, "Content-Disposition",
                       so_doctype_content_disposition(req->pool, "attachment", d->name));
        apr_table_setn(req->headers_out, "Content-Security-Policy", "default-src 'none'; sandbox");
        return so_api_ok_bytes(req, data, len, t ? t->mime : "application/octet-stream");
    }
    return so_api_error(req, SO_E_NOT_FOUND, "No such document", "");
}

const so_route_t so_routes_seal[] = {
    {"GET", "/{file}", seal_file, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/{id}/report", seal_report, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/{id}/documents/{doc}", seal_document, SO_ROLE_NONE, SO_RF_PUBLIC},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};

/* ---- the customer's settings ---------------------------------------------------------- */

static apr_status_t settings_answer(so_req_t *req, const so_order_t *o, const so_seal_row_t *s)
{
    const char *base = so_seal_base(req), *why = NULL;
    so_seal_snippets_t *snip = NULL;
    seal_entry_t *e;
    apr_array_header_t *docs;
    so_seal_state_t state;
    json_t *j;
    int published;
    apr_status_t rv;

    if (*base && so_seal_snippets(&snip, req->pool, base, s->seal_id, &why) != APR_SUCCESS) {
        snip = NULL;
    }
    /* the state as the order's own site sees it, read now (the owner sees changes at once) */
    if ((rv = facts_fetch(req, req->pool, s->seal_id, &e)) != APR_SUCCESS
        || (rv = so_store_docs_published(so_req_db(req), req->pool, o->id, &docs)) != APR_SUCCESS) {
        return rv;
    }
    state = state_of(req, e, o->common_name);
    published = docs->nelts;
    j = json_pack("{s:I,s:s,s:b,s:b,s:s,s:s,s:s,s:i,s:o,s:o}", "order_id", (json_int_t)o->id,
                  "seal_id", s->seal_id, "enabled", s->enabled, "artifacts_enabled", s->artifacts,
                  "state", so_seal_state_name(state),
                  "level", so_seal_level_name(level_of(e->facts->validation_method)),
                  "domain", o->common_name, "published_documents", published, "created_at",
                  so_json_time(req->pool, s->created_at), "updated_at",
                  so_json_time(req->pool, s->updated_at));
    if (snip) {
        json_object_set_new(j, "snippet", json_string(snip->combined));
        json_object_set_new(j, "snippet_script", json_string(snip->script));
        json_object_set_new(j, "snippet_nojs", json_string(snip->nojs));
        json_object_set_new(j, "csp_origin", json_string(snip->origin));
        json_object_set_new(j, "script_url",
                            json_string(apr_psprintf(req->pool, "%s/%s.js", base, s->seal_id)));
        json_object_set_new(j, "image_url",
                            json_string(apr_psprintf(req->pool, "%s/%s.svg", base, s->seal_id)));
        json_object_set_new(j, "report_url",
                            json_string(apr_psprintf(req->pool, "%s/%s/report", base, s->seal_id)));
        json_object_set_new(
            j, "preview_url",
            json_string(apr_psprintf(req->pool, "%s/%s.svg?host=%s", base, s->seal_id,
                                     apr_pescape_urlencoded(req->pool, o->common_name))));
    }
    else {
        so_api_warning(req, 1,
                       "Set SSLOrdersPublicURL (or SSLOrdersSealURL) to get the seal's snippet", "");
    }
    return so_api_ok(req, j);
}

static apr_status_t get_seal(so_req_t *req)
{
    so_order_t *o;
    so_seal_row_t *s;
    apr_status_t rv = so_api_order_load(req, &o);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_seal_ensure(so_req_db(req), req->pool, o->team_id, o->id, req->now, &s))
        != APR_SUCCESS) {
        return rv;
    }
    return settings_answer(req, o, s);
}

static apr_status_t put_seal(so_req_t *req)
{
    so_order_t *o;
    so_seal_row_t *s;
    so_db_t *db = so_req_db(req);
    int enabled, artifacts, has_e = 0, has_a = 0;
    apr_status_t rv;

    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (so_in_bool(req, req->json, "enabled", 0, &enabled, &has_e) != APR_SUCCESS
        || so_in_bool(req, req->json, "artifacts_enabled", 0, &artifacts, &has_a) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_seal_ensure(db, req->pool, o->team_id, o->id, req->now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (!has_e) {
        enabled = s->enabled;
    }
    if (!has_a) {
        artifacts = s->artifacts;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_seal_set(db, req->pool, o->id, enabled, artifacts, req->now);
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "seal_changed",
                                json_pack("{s:b,s:b}", "enabled", enabled, "artifacts_enabled",
                                          artifacts));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_seal_cache_forget(s->seal_id);
    s->enabled = enabled;
    s->artifacts = artifacts;
    s->updated_at = req->now;
    return settings_answer(req, o, s);
}

const so_route_t so_routes_seal_api[] = {
    {"GET", "/ssl/orders/{id}/seal", get_seal, SO_ROLE_VIEWER, 0},
    {"PUT", "/ssl/orders/{id}/seal", put_seal, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
