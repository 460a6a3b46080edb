/* mod_sslorders: the ACME server's adapter to orders and issuance (see so_acme_issue.h). */
#include <string.h>

#include <apr_strings.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "so_acme_issue.h"
#include "../svc/so_issuance.h"
#include "../svc/so_claim.h"
#include "../svc/so_svc_order.h"
#include "../svc/so_order_rules.h"
#include "../core/so_util.h"
#include "../core/so_domain.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../core/so_log.h"
#include "../svc/so_outbox.h"
#include "../api/so_br.h"
#include "../svc/so_svc_br.h"
#include "../core/so_caa.h"
#include "../core/so_persist.h"
#include "../store/so_store_acme.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_order.h"

#define CLAIM_SECS 300 /* as the issuance's own claims (so_issuance.c) */

/* a service context of the ACME server (events name "system") on the caller's database
 * and clock; the outbox notes the orders it wrote events for in the request's slot, which
 * so_acme_iss_flush delivers */
static so_svc_ctx_t *job_ctx(so_req_t *req, int max_days)
{
    so_svc_ctx_t *ctx;
    const so_config_t *cfg = req->cfg;

    if (max_days > 0) {
        so_config_t *c = apr_pmemdup(req->pool, req->cfg, sizeof(*c));
        if (c->max_validity_days <= 0 || c->max_validity_days > max_days) {
            c->max_validity_days = max_days;
        }
        cfg = c;
    }
    ctx = so_svc_ctx_make(req->pool, so_req_db(req), cfg, req->now, SO_ACTOR_ACME);
    ctx->outbox = &req->outbox;
    return ctx;
}

void so_acme_iss_flush(so_req_t *req)
{
    if (req->outbox) {
        so_svc_after(job_ctx(req, 0));
    }
}

apr_int64_t so_acme_iss_reuse_seconds(apr_int64_t now)
{
    return (apr_int64_t)so_iss_reuse_days(now) * 86400;
}

apr_status_t so_acme_iss_bound_db(apr_pool_t *p, so_db_t *db, apr_int64_t team_id,
                                  apr_int64_t order_id, so_acme_bound_t **out)
{
    so_order_t *o;
    so_acme_bound_t *b;
    int i;
    apr_status_t rv;

    if (!db) {
        return SO_EDBDOWN;
    }
    if ((rv = so_store_order_get(db, p, team_id, order_id, &o)) != APR_SUCCESS) {
        return rv;
    }
    b = apr_pcalloc(p, sizeof(*b));
    b->order_id = o->id;
    b->status = o->status;
    b->names = apr_array_make(p, o->hosts->nelts + 1, sizeof(const char *));
    b->validated = apr_hash_make(p);
    b->domain_amount = o->domain_amount;
    b->wildcard_amount = o->wildcard_domain_amount;
    b->allow_wildcard = o->product_wildcard || o->wildcard_domain_amount > 0;
    b->ends_at = o->order_ends_at;
    for (i = 0; i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        APR_ARRAY_PUSH(b->names, const char *) = h->host_name;
        apr_hash_set(b->validated, h->host_name, APR_HASH_KEY_STRING, &h->validated_at);
    }
    *out = b;
    return APR_SUCCESS;
}

apr_status_t so_acme_iss_bound(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                               so_acme_bound_t **out)
{
    return so_acme_iss_bound_db(req->pool, so_req_db(req), team_id, order_id, out);
}

void so_acme_iss_validated(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                           const char *name, apr_int64_t at)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    int i;

    if (!db || order_id <= 0
        || so_store_order_get(db, req->pool, team_id, order_id, &o) != APR_SUCCESS) {
        return;
    }
    for (i = 0; i < o->hosts->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(o->hosts, i, so_order_host_t).host_name, name)) {
            /* the state stays as the order's issuance sees it; only the validation time
             * moves (a later reissue reuses it) */
            apr_array_header_t *states;
            int j;
            if (so_store_host_states(db, req->pool, order_id, &states) != APR_SUCCESS) {
                return;
            }
            for (j = 0; j < states->nelts; j++) {
                so_host_state_t *h = &APR_ARRAY_IDX(states, j, so_host_state_t);
                if (!strcmp(h->host_name, name)) {
                    so_store_host_state_set(db, req->pool, order_id, name,
                                            !strcmp(h->status, "valid") || !strcmp(o->status, "ACT")
                                                ? "valid" : h->status,
                                            at, at, "");
                }
            }
            return;
        }
    }
}

/* whether cert (PEM) is for exactly these names and the CSR's key */
static int cert_fits(apr_pool_t *p, const so_acme_cert_t *c, const so_csr_t *csr,
                     const apr_array_header_t *names)
{
    char *list = apr_pstrdup(p, c->names), *tok, *last = NULL;
    unsigned char *der = NULL;
    const char *sha1 = NULL;
    X509 *x;
    BIO *b;
    int n = 0, len, i, found;

    for (tok = apr_strtok(list, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        for (i = 0, found = 0; i < names->nelts && !found; i++) {
            found = !strcmp(APR_ARRAY_IDX(names, i, const char *), tok);
        }
        if (!found) {
            return 0;
        }
        n++;
    }
    if (n != names->nelts) {
        return 0;
    }
    if (c->spki_sha256 && *c->spki_sha256 && csr->spki_req_sha256) {
        /* the key as the certificate carries it, copied from the request: no parse */
        return !strcmp(c->spki_sha256, csr->spki_req_sha256);
    }
    if (!(b = BIO_new_mem_buf(c->pem, -1))) {
        return 0;
    }
    x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!x) {
        return 0;
    }
    len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
    if (len > 0) {
        sha1 = so_sha1_hex(p, der, (apr_size_t)len, 0);
    }
    OPENSSL_free(der);
    X509_free(x);
    return sha1 && csr->pubkey_sha1 && !strcmp(sha1, csr->pubkey_sha1);
}

/* the order's certificate newer than after for the names and the CSR's key (0: none) */
static apr_status_t cert_issued(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                                apr_int64_t after, const so_csr_t *csr,
                                const apr_array_header_t *names, apr_int64_t *cert_id)
{
    apr_array_header_t *certs;
    int i;
    apr_status_t rv = so_store_acme_certs_after(so_req_db(req), req->pool, team_id, order_id,
                                                after, &certs);
    *cert_id = 0;
    for (i = 0; rv == APR_SUCCESS && i < certs->nelts && !*cert_id; i++) {
        so_acme_cert_t *c = APR_ARRAY_IDX(certs, i, so_acme_cert_t *);
        if (cert_fits(req->pool, c, csr, names)) {
            *cert_id = c->id;
        }
    }
    return rv;
}

apr_status_t so_acme_iss_last(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                              apr_int64_t *cert_id)
{
    return so_store_acme_cert_last(so_req_db(req), req->pool, team_id, order_id, cert_id);
}

/* CAA (RFC 8659) with the account (RFC 8657 accounturi) and MPIC under the order's claim;
 * the issuance's own checks are then skipped (one lookup per issuance) */
static apr_status_t caa(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *names,
                        const char *const *methods, const char *account_url, const char **why)
{
    apr_array_header_t *states = apr_array_make(ctx->pool, names->nelts, sizeof(so_host_state_t));
    so_config_t *cfg;
    so_br_config_t *br;
    int i;
    apr_status_t rv;

    for (i = 0; i < names->nelts; i++) {
        so_host_state_t *h = apr_array_push(states);
        memset(h, 0, sizeof(*h));
        int k;
        h->host_name = APR_ARRAY_IDX(names, i, const char *);
        h->method = so_hostname_is_wildcard(h->host_name) ? "dns" : "http";
        h->status = "valid";
        for (k = 0; o->hosts && k < o->hosts->nelts; k++) {
            /* validated earlier (portal): the order's method */
            so_order_host_t *oh = &APR_ARRAY_IDX(o->hosts, k, so_order_host_t);
            if (!strcmp(oh->host_name, h->host_name) && oh->method && *oh->method) {
                h->method = oh->method;
            }
        }
        if (methods && methods[i] && *methods[i]) {
            h->method = methods[i]; /* the ACME challenge that validated it */
        }
    }
    if ((rv = so_svc_caa_order_acme(ctx, o, states, account_url, why)) != APR_SUCCESS) {
        return rv;
    }
    cfg = apr_pmemdup(ctx->pool, ctx->cfg, sizeof(*cfg));
    br = apr_pcalloc(ctx->pool, sizeof(*br));
    if (cfg->br) {
        *br = *cfg->br;
    }
    br->caa = 0;
    /* the perspectives were asked with the ACME methods just now: not again with the
     * order's (whose files or records the ACME client never published) */
    br->mpic = SO_MPIC_OFF;
    cfg->br = br;
    ctx->cfg = cfg;
    return APR_SUCCESS;
}

/* An order ACME may issue for now: ACT, PAI or REQ, inside its subscription (else
 * APR_EINVAL and *why) */
static apr_status_t issuable(apr_pool_t *p, const so_order_t *o, apr_int64_t now,
                             const char **why)
{
    if (strcmp(o->status, "ACT") && strcmp(o->status, "PAI") && strcmp(o->status, "REQ")) {
        *why = apr_psprintf(p, "order %" APR_INT64_T_FMT " is %s: it cannot be issued", o->id,
                            o->status);
        return APR_EINVAL;
    }
    if (o->order_ends_at > 0 && o->order_ends_at <= now) {
        *why = apr_psprintf(p, "the subscription of order %" APR_INT64_T_FMT " has ended", o->id);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* whether two lists of names and methods are the same, in the same order */
static int hosts_same(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;
    if (!a || !b || a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; i++) {
        const so_order_host_t *x = &APR_ARRAY_IDX(a, i, so_order_host_t);
        const so_order_host_t *y = &APR_ARRAY_IDX(b, i, so_order_host_t);
        if (strcmp(x->host_name, y->host_name) || strcmp(x->method ? x->method : "",
                                                         y->method ? y->method : "")) {
            return 0;
        }
    }
    return 1;
}

/* An ACME request on its order: the names, what the order was, whether it is a reissue
 * with every name fresh, the names' states as the challenges found them (so_host_state_t,
 * valid) and the order's issuance state */
typedef struct {
    const apr_array_header_t *names;
    const char *was;
    int reissue;
    apr_array_header_t *states;
    so_issuance_state_t *st;
} request_t;

/* The ACME CSR and names put on the order in memory (PAI -> REQ); *same: the order has
 * these names already (a renewal) */
static apr_status_t prepare_request(so_svc_ctx_t *ctx, so_order_t *o, const so_csr_t *csr,
                                    const apr_array_header_t *names,
                                    const apr_int64_t *validated, request_t *rq, int *same)
{
    apr_pool_t *p = ctx->pool;
    const apr_array_header_t *old = o->hosts;
    const char *unique;
    int i;

    if (so_dcv_unique(&unique, p) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    o->csr = csr->pem;
    o->csr_md5 = csr->md5;
    o->csr_sha1 = csr->sha1;
    o->csr_sha256 = csr->sha256;
    o->common_name = APR_ARRAY_IDX(names, 0, const char *);
    o->hosts = apr_array_make(p, names->nelts, sizeof(so_order_host_t));
    rq->states = apr_array_make(p, names->nelts, sizeof(so_host_state_t));
    for (i = 0; i < names->nelts; i++) {
        so_order_host_t *h = apr_array_push(o->hosts);
        so_host_state_t *s = apr_array_push(rq->states);
        h->host_name = APR_ARRAY_IDX(names, i, const char *);
        h->method = so_hostname_is_wildcard(h->host_name) ? "dns" : "http";
        memset(s, 0, sizeof(*s));
        s->host_name = h->host_name;
        s->method = h->method;
        s->status = "valid";
        s->validated_at = validated[i];
        s->last_check_at = ctx->now;
        s->last_error = "";
    }
    *same = hosts_same(old, o->hosts);
    o->dcv_unique = unique;
    if (!strcmp(o->status, "PAI")) {
        o->status = "REQ";
    }
    o->updated_at = ctx->now;
    rq->names = names;
    return APR_SUCCESS;
}

/* What the request writes besides the order's row, in the caller's transaction after it:
 * its names valid, reminders off for an order issued through ACME, a reissue's pending
 * approvals dropped, and the event (so_iss_with_t.fn) */
static apr_status_t request_writes(so_svc_ctx_t *ctx, so_order_t *o, void *baton)
{
    request_t *rq = baton;
    so_db_t *db = ctx->db;
    apr_pool_t *p = ctx->pool;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < rq->states->nelts; i++) {
        so_host_state_t *h = &APR_ARRAY_IDX(rq->states, i, so_host_state_t);
        rv = so_store_host_state_set(db, p, o->id, h->host_name, h->status, h->validated_at,
                                     h->last_check_at, h->last_error);
    }
    if (rv == APR_SUCCESS && !rq->st) {
        /* as written (the issuance that follows does not read it again) */
        rv = so_store_issuance_get(db, p, o->id, &rq->st);
    }
    if (rv == APR_SUCCESS && strcmp(rq->was, "ACT")) {
        /* an order issued through ACME: its renewals come from the ACME client, not
         * from reminders (the customer can turn them on again) */
        rv = so_store_reminders_set(db, p, o->id, rq->st->reminder_days,
                                    rq->st->reminder_recipients, 0);
        rq->st->reminders_enabled = 0;
    }
    if (rv == APR_SUCCESS && rq->reissue) {
        rv = so_store_approvals_drop(db, p, o->id);
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "acme_issuance_requested",
                                json_pack("{s:i,s:s}", "names", rq->names->nelts, "previous",
                                          rq->was));
    }
    return rv;
}

/* The request written to the order on its own (its issuance follows), one transaction:
 * SO_EDBSTALE when the order changed meanwhile */
static apr_status_t write_request(so_svc_ctx_t *ctx, so_order_t *o, const so_csr_t *csr,
                                  const apr_array_header_t *names,
                                  const apr_int64_t *validated, request_t *rq)
{
    so_order_sched_t sched = SO_ORDER_SCHED_KEEP;
    apr_status_t rv;
    int same;

    if ((rv = prepare_request(ctx, o, csr, names, validated, rq, &same))
        != APR_SUCCESS) {
        return rv;
    }
    rq->st = NULL;
    if (rq->reissue) {
        /* what so_iss_reissue writes first, when every name stays valid (here: as the
         * challenges found them): with this request, not in a transaction of its own */
        sched.reissue_pending = 1;
        sched.next_check_at = ctx->now;
    }
    if ((rv = so_db_begin(ctx->db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_order_update_sched(ctx->db, ctx->pool, o, !same, &sched);
    if (rv == APR_SUCCESS) {
        rv = request_writes(ctx, o, rq);
    }
    return so_db_end(ctx->db, rv);
}

/* A reissue of a DV order whose names are all fresh: signed first, then the request and
 * the certificate written in one transaction (so_iss_with_t); an order changed meanwhile
 * gets nothing (the next poll tries again) */
static apr_status_t issue_with_request(so_svc_ctx_t *ctx, so_order_t *o, const so_csr_t *csr,
                                       const apr_array_header_t *names,
                                       const apr_int64_t *validated, request_t *rq,
                                       int *issued)
{
    so_iss_with_t with;
    apr_status_t rv;
    int same;

    if ((rv = prepare_request(ctx, o, csr, names, validated, rq, &same)) != APR_SUCCESS
        || (!rq->st && (rv = so_store_issuance_get(ctx->db, ctx->pool, o->id, &rq->st))
                           != APR_SUCCESS)) {
        return rv;
    }
    rq->st->reissue_pending = 1; /* as so_iss_reissue's start would have written it */
    with.hosts = !same;
    with.fn = request_writes;
    with.baton = rq;
    with.release = 1; /* nothing is left to do under the claim once it is stored */
    return so_iss_issue_written(ctx, o, rq->st, rq->states, &with, issued);
}

/* whether every name's validation is recent enough for a reissue to use it as it is
 * (so_iss_reissue's rule): then its start is written with the request */
static int all_fresh(const so_svc_ctx_t *ctx, const apr_array_header_t *names,
                     const apr_int64_t *validated)
{
    int i;
    for (i = 0; i < names->nelts; i++) {
        if (!so_iss_validation_fresh(ctx->now, validated[i])) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_acme_iss_issue(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                               const char *account_url, const char *csr_pem,
                               const apr_array_header_t *names, const apr_int64_t *validated,
                               const char *const *methods, int max_days, apr_int64_t after,
                               apr_int64_t *cert_id, const char **why)
{
    so_svc_ctx_t *ctx = job_ctx(req, max_days);
    so_db_t *db = ctx->db;
    so_order_t *o = NULL;
    so_issuance_state_t *claimed_st = NULL;
    so_csr_t *csr;
    request_t rq;
    const char *was = "";
    int attempt, issued = 0, reissue = 0, together = 0;
    apr_status_t rv = APR_SUCCESS;

    *cert_id = 0;
    *why = NULL;
    if (so_csr_parse(req->pool, csr_pem, &csr, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    /* The SSL order is claimed from writing this CSR to storing its certificate: another
     * ACME order of the same SSL order (or the background job) waits for its turn, and
     * never issues, nor answers, this one's CSR. Busy: not now (the client polls). */
    rv = so_svc_order_claim_state(ctx, req->pool, order_id, CLAIM_SECS, &claimed_st);
    if (rv == APR_EBUSY) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ctx->claimed = order_id; /* held until leave: the issuance neither re-claims nor releases */
    /* issued already (an earlier try, or the background job)? */
    if ((rv = cert_issued(req, team_id, order_id, after, csr, names, cert_id)) != APR_SUCCESS
        || *cert_id) {
        goto leave;
    }
    for (attempt = 0; attempt < SO_WRITE_ATTEMPTS; attempt++) {
        so_api_write_backoff(attempt);
        if ((rv = so_store_order_get(db, req->pool, team_id, order_id, &o)) != APR_SUCCESS) {
            goto leave;
        }
        was = o->status;
        if ((rv = issuable(req->pool, o, req->now, why)) != APR_SUCCESS) {
            goto leave;
        }
        if (attempt == 0 && (rv = caa(ctx, o, names, methods, account_url, why)) != APR_SUCCESS) {
            if (rv != SO_ECAA) {
                rv = APR_SUCCESS; /* the lookup failed: not now, the next poll tries again */
            }
            goto leave;
        }
        reissue = !strcmp(was, "ACT") && all_fresh(ctx, names, validated);
        memset(&rq, 0, sizeof(rq));
        rq.was = was;
        rq.reissue = reissue;
        if (reissue && !strcmp(o->validation_method, "domain")) {
            together = 1; /* written with the certificate */
            rq.st = claimed_st; /* the issuance state as the claim read it (none: read it) */
            break;
        }
        rv = write_request(ctx, o, csr, names, validated, &rq);
        if (rv != SO_EDBSTALE) {
            break;
        }
    }
    if (rv == SO_EDBSTALE) {
        rv = APR_SUCCESS; /* the order kept changing: the next poll tries again */
        goto leave;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    /* the issuance claims the order again under the same owner (and releases it) */
    ctx->issued_cert = 0;
    if (together) {
        rv = issue_with_request(ctx, o, csr, names, validated, &rq, &issued);
    }
    else if (!strcmp(was, "ACT") && !reissue) {
        rv = so_iss_reissue(ctx, o);
    }
    else {
        /* the order, its state and its names as just written: not read again */
        rv = so_iss_issue_written(ctx, o, rq.st, rq.states, NULL, &issued);
    }
    if (rv == APR_SUCCESS && ctx->issued_cert) {
        *cert_id = ctx->issued_cert; /* this CSR's, for these names: stored under our claim */
    }
    else if (rv == APR_SUCCESS) {
        rv = cert_issued(req, team_id, order_id, after, csr, names, cert_id);
    }

leave:
    if (!(together && issued)) { /* a certificate stored with its request released it */
        so_svc_order_release(ctx, req->pool, order_id);
    }
    return rv;
}

apr_status_t so_acme_iss_revoke(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                                apr_int64_t cert_id, int reason)
{
    so_svc_ctx_t *ctx = job_ctx(req, 0);
    so_order_t *o;
    so_cert_t *c;
    apr_status_t rv;

    if ((rv = so_store_order_get(ctx->db, req->pool, team_id, order_id, &o)) != APR_SUCCESS
        || (rv = so_store_cert_get(ctx->db, req->pool, team_id, cert_id, &c)) != APR_SUCCESS) {
        return rv;
    }
    if (c->revoked_at) {
        return APR_EEXIST;
    }
    return so_iss_revoke(ctx, o, c, reason);
}

/* ---- EAB bound to a product ---------------------------------------------------------- */

/* the service context of the team's EAB creator: new orders are the team's, made and
 * charged by that user (events name "acme") */
static so_svc_ctx_t *team_ctx(so_req_t *req, apr_int64_t team_id, apr_int64_t user_id,
                              so_team_t **team, apr_status_t *rv)
{
    so_svc_ctx_t *ctx;
    if ((*rv = so_store_team_by_id(so_req_db(req), req->pool, team_id, team)) != APR_SUCCESS) {
        return NULL;
    }
    ctx = job_ctx(req, 0);
    ctx->actor.user_id = user_id;
    ctx->actor.team_id = team_id;
    ctx->actor.name = "acme";
    return ctx;
}

static apr_status_t product_prepare(so_svc_ctx_t *ctx, const so_team_t *team,
                                    apr_int64_t product_id, int period, const char *csr_pem,
                                    const apr_array_header_t *names, so_product_t **prod,
                                    so_order_t **o, const char **why)
{
    apr_pool_t *p = ctx->pool;
    const so_price_t *price;
    so_names_t *n;
    apr_array_header_t *sans;
    so_result_t res;
    int code, dom, wild, i;
    apr_status_t rv;

    so_result_init(&res);
    rv = so_svc_order_product(ctx, product_id, period, team->currency, prod, &price, &res);
    if (rv != APR_SUCCESS) {
        *why = res.detail;
        return rv == APR_ENOENT ? APR_EINVAL : rv;
    }
    sans = apr_array_make(p, names->nelts, sizeof(const char *));
    for (i = 0; i < names->nelts; i++) {
        APR_ARRAY_PUSH(sans, const char *) = APR_ARRAY_IDX(names, i, const char *);
    }
    if (so_rules_names(p, *prod, APR_ARRAY_IDX(names, 0, const char *), sans, NULL, &n, &code,
                       why) != APR_SUCCESS
        || so_rules_amounts(p, *prod, n, -1, -1, &dom, &wild, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_svc_order_new(ctx, *prod, price, period, o)) != APR_SUCCESS) {
        return rv;
    }
    (*o)->csr = csr_pem ? csr_pem : "";
    (*o)->hosts = apr_array_make(p, names->nelts, sizeof(so_order_host_t));
    for (i = 0; i < names->nelts; i++) {
        so_order_host_t *h = apr_array_push((*o)->hosts);
        h->host_name = APR_ARRAY_IDX(names, i, const char *);
        h->method = so_hostname_is_wildcard(h->host_name) ? "dns" : "http";
    }
    (*o)->common_name = APR_ARRAY_IDX(names, 0, const char *);
    if (csr_pem) {
        so_csr_t *c;
        if (so_csr_parse(p, csr_pem, &c, why) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        (*o)->csr = c->pem;
        (*o)->csr_md5 = c->md5;
        (*o)->csr_sha1 = c->sha1;
        (*o)->csr_sha256 = c->sha256;
        if (so_svc_order_price(ctx, *prod, price, *o, NULL, -1, -1, &res) != APR_SUCCESS) {
            *why = res.detail;
            return APR_EINVAL;
        }
    }
    else {
        (*o)->domain_amount = dom;
        (*o)->wildcard_domain_amount = wild;
        (*o)->price = so_rules_price(*prod, price, dom, wild);
    }
    if (team->balance < (*o)->price) {
        *why = apr_psprintf(p, "The team's balance (%s %s) does not cover the price (%s %s) "
                            "of a new %s order for these names",
                            so_money_fmt(p, team->balance), (*o)->currency,
                            so_money_fmt(p, (*o)->price), (*o)->currency, (*prod)->name);
        return SO_ENOFUNDS;
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_iss_product_check(so_req_t *req, apr_int64_t team_id,
                                       apr_int64_t product_id, int period,
                                       const apr_array_header_t *names, const char **why)
{
    so_team_t *team;
    so_product_t *prod;
    so_order_t *o;
    apr_status_t rv;
    so_svc_ctx_t *ctx = team_ctx(req, team_id, 0, &team, &rv);
    if (!ctx) {
        return rv;
    }
    return product_prepare(ctx, team, product_id, period, NULL, names, &prod, &o, why);
}

apr_status_t so_acme_iss_product_order(so_req_t *req, apr_int64_t acme_order_id,
                                       apr_int64_t team_id, apr_int64_t user_id,
                                       apr_int64_t product_id, int period, const char *csr_pem,
                                       const apr_array_header_t *names, apr_int64_t *order_id,
                                       const char **why)
{
    so_team_t *team;
    so_product_t *prod;
    so_order_t *o;
    apr_status_t rv;
    so_svc_ctx_t *ctx = team_ctx(req, team_id, user_id, &team, &rv);

    *why = NULL;
    if (!ctx) {
        return rv;
    }
    if ((rv = product_prepare(ctx, team, product_id, period, csr_pem, names, &prod, &o, why))
        != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(ctx->db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_svc_order_store(ctx, prod, o, 0, json_pack("{s:s}", "via", "acme"));
    if (rv == APR_SUCCESS) {
        rv = so_store_acme_order_bind(ctx->db, req->pool, acme_order_id, o->id);
    }
    if (rv == APR_EBUSY) {
        so_db_rollback(ctx->db);
        return rv;
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_charge(ctx, prod, o); /* last: it holds the team's balance */
    }
    if (rv == SO_ENOFUNDS) {
        so_db_rollback(ctx->db);
        *why = apr_psprintf(req->pool, "The team's balance does not cover the price (%s %s) of "
                            "a new %s order", so_money_fmt(req->pool, o->price), o->currency,
                            prod->name);
        return rv;
    }
    if ((rv = so_db_end(ctx->db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00502) "ACME: order %" APR_INT64_T_FMT " of %s created and "
                "charged for team %" APR_INT64_T_FMT, o->id, prod->name, team_id);
    *order_id = o->id;
    return APR_SUCCESS;
}

apr_status_t so_acme_iss_key_blocked(so_req_t *req, const so_csr_t *csr, const char **why)
{
    return so_svc_key_blocked(job_ctx(req, 0), csr, why);
}

/* ---- dns-persist-01 ------------------------------------------------------------------- */

apr_status_t so_acme_iss_mpic(so_req_t *req, apr_int64_t order_id,
                              const char *name, const char *type, const char *token,
                              const char *keyauth, const char *account_url, const char **why)
{
    return so_svc_mpic_acme(job_ctx(req, 0), order_id, name, type, token, keyauth, account_url,
                            why);
}

void so_acme_iss_dcv_opts(so_req_t *req, so_dcv_opts_t *opts)
{
    so_svc_dcv_opts(req->cfg, opts);
}

void so_acme_iss_persist_ids(so_req_t *req, apr_int64_t team_id, const char *account_url,
                             apr_array_header_t **identities, apr_array_header_t **accounturis)
{
    *identities = so_svc_caa_identities(req->pool, req->cfg);
    *accounturis = apr_array_make(req->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(*accounturis, const char *) = account_url;
    APR_ARRAY_PUSH(*accounturis, const char *) = so_svc_persist_account(req->pool, req->cfg,
                                                                        team_id);
}

apr_status_t so_acme_iss_mpic_persist(so_req_t *req, apr_int64_t order_id, apr_int64_t team_id,
                                      const char *account_url, const char *name,
                                      const char **why)
{
    apr_array_header_t *ids, *uris;
    so_acme_iss_persist_ids(req, team_id, account_url, &ids, &uris);
    return so_svc_mpic_persist(job_ctx(req, 0), order_id, name, uris, why);
}

apr_status_t so_acme_iss_persist_check(so_req_t *req, apr_int64_t team_id, const char *account_url,
                                       const char *name, const so_dcv_opts_t *opts,
                                       const char **why)
{
    apr_array_header_t *ids, *uris;
    so_acme_iss_persist_ids(req, team_id, account_url, &ids, &uris);
    return so_persist_check_any(req->pool, opts, name, ids, uris, why);
}
