/* mod_sslorders: revocation, the CRL and blocked keys of the issuance service (see
 * so_iss_int.h). */
#include <limits.h>

#include "so_iss_int.h"

/* ------------------------------------------------------------------------- */
/* revocation and the CRL                                                      */

static apr_status_t crl_build(so_svc_ctx_t *ctx, const unsigned char **der, apr_size_t *len,
                              apr_int64_t *this_update)
{
    so_db_t *db = so_iss_db(ctx);
    apr_array_header_t *certs, *revoked;
    so_ca_crl_t *crl;
    const char *why = NULL;
    apr_status_t rv;
    int i;

    if (!ctx->cfg->ca) {
        return APR_ENOTIMPL;
    }
    if ((rv = so_store_certs_revoked(db, ctx->pool, ctx->now - 86400, &certs)) != APR_SUCCESS) {
        return rv;
    }
    revoked = apr_array_make(ctx->pool, certs->nelts + 1, sizeof(so_ca_revoked_t));
    for (i = 0; i < certs->nelts; i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        so_ca_revoked_t *r = apr_array_push(revoked);
        r->serial = c->serial;
        r->revoked_at = c->revoked_at;
        r->reason = c->revoke_reason;
    }
    rv = so_ca_crl(&crl, ctx->cfg->ca, ctx->pool, revoked, ctx->now, 0, 0, &why);
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00218) "cannot make the CRL: %s", why ? why : "?");
        return rv;
    }
    rv = so_store_setting_set(db, ctx->pool, "crl_der", so_base64(ctx->pool, crl->der, crl->der_len));
    if (rv == APR_SUCCESS) {
        rv = so_store_setting_set(db, ctx->pool, "crl_next_update",
                                  so_i64str(ctx->pool, crl->next_update));
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_setting_set(db, ctx->pool, "crl_this_update",
                                  so_i64str(ctx->pool, crl->this_update));
    }
    *der = crl->der;
    *len = crl->der_len;
    *this_update = crl->this_update;
    return rv;
}

apr_status_t so_iss_crl(so_svc_ctx_t *ctx, const unsigned char **der, apr_size_t *len,
                        apr_int64_t *this_update)
{
    so_db_t *db = so_iss_db(ctx);
    const char *b64, *next, *thisu;

    if (so_store_setting_get(db, ctx->pool, "crl_der", &b64) == APR_SUCCESS
        && so_store_setting_get(db, ctx->pool, "crl_next_update", &next) == APR_SUCCESS
        && so_store_setting_get(db, ctx->pool, "crl_this_update", &thisu) == APR_SUCCESS
        && apr_atoi64(next) - 86400 > ctx->now && apr_atoi64(thisu) <= ctx->now) {
        apr_size_t n = strlen(b64);
        unsigned char *buf = apr_palloc(ctx->pool, n);
        int dl = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
        if (dl > 0) {
            while (n > 0 && b64[n - 1] == '=') { /* EVP_DecodeBlock counts padding */
                dl--;
                n--;
            }
            *der = buf;
            *len = (apr_size_t)dl;
            *this_update = apr_atoi64(thisu);
            return APR_SUCCESS;
        }
    }
    return crl_build(ctx, der, len, this_update);
}

apr_status_t so_iss_revoke(so_svc_ctx_t *ctx, so_order_t *o, so_cert_t *c, int reason)
{
    so_db_t *db = so_iss_db(ctx);
    const unsigned char *der;
    apr_size_t len;
    apr_int64_t tu;
    apr_status_t rv;

    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_cert_revoke(db, ctx->pool, c->id, ctx->now, reason);
    if (rv == APR_SUCCESS) {
        rv = so_svc_key_compromised(ctx, c, reason);
    }
    if (rv == APR_SUCCESS) {
        rv = so_svc_order_event(ctx, o, "revoked",
                                json_pack("{s:I,s:s,s:i}", "certificate_id", (json_int_t)c->id,
                                          "serial", c->serial, "reason", reason));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    c->revoked_at = ctx->now;
    c->revoke_reason = reason;
    if (crl_build(ctx, &der, &len, &tu) != APR_SUCCESS) {
        so_log_warn(SO_LOG_MARK, APR_EGENERAL, SOLOGNO(00219) "the CRL was not refreshed after "
                                                              "revoking %s", c->serial);
    }
    return APR_SUCCESS; /* the message command: from the outbox */
}

/* ------------------------------------------------------------------------- */
/* blocked keys (BR 6.1.1.3) and key compromise (BR 4.9.1.1)                   */

/* Whether the order's last event is issuance_failed for this reason (told already) */
static int told(so_svc_ctx_t *ctx, const so_order_t *o, const char *reason)
{
    apr_array_header_t *ev;
    apr_int64_t total = 0;
    const so_order_event_t *e;
    json_t *d;
    int same;

    if (so_store_order_events(ctx->db, ctx->pool, o->team_id, o->id, 1, 0, &ev, &total)
            != APR_SUCCESS
        || total < 1 || total > INT_MAX
        || so_store_order_events(ctx->db, ctx->pool, o->team_id, o->id, 1, (int)(total - 1), &ev,
                                 &total) != APR_SUCCESS
        || ev->nelts < 1) {
        return 0;
    }
    e = &APR_ARRAY_IDX(ev, 0, so_order_event_t);
    if (strcmp(e->kind, "issuance_failed") || !(d = json_loads(e->detail, 0, NULL))) {
        return 0;
    }
    same = json_is_string(json_object_get(d, "reason"))
           && !strcmp(json_string_value(json_object_get(d, "reason")), reason);
    json_decref(d);
    return same;
}

/* Whether the order's key is blocked now (a list, or revoked for key compromise since the
 * order took its CSR): the order event issuance_failed says why and the lifecycle message
 * errored goes out, once (the hourly checks after it are silent until the order changes);
 * a database error is not a refusal but no issuance now either */
int so_iss_key_blocked(so_svc_ctx_t *ctx, so_order_t *o)
{
    so_csr_t *csr;
    const char *why = NULL, *reason;
    apr_status_t rv;

    if (so_csr_parse(ctx->pool, o->csr, &csr, &why) != APR_SUCCESS) {
        return 0; /* so_ca_issue tells why it cannot be signed */
    }
    rv = so_svc_key_blocked(ctx, csr, &why);
    if (rv != APR_EINVAL) {
        return rv != APR_SUCCESS; /* the database cannot tell: not now */
    }
    reason = apr_pstrcat(ctx->pool, "The CSR's key is not accepted: ", why, NULL);
    if (told(ctx, o, reason)) {
        return 1;
    }
    /* the customer's to act on (a new key): notice, not a server fault */
    so_log_perror(SO_LOG_MARK, SO_LOG_NOTICE, APR_SUCCESS,
                  SOLOGNO(00977) "order %" APR_INT64_T_FMT ": not issued: %s", o->id, why);
    so_svc_order_event(ctx, o, "issuance_failed", json_pack("{s:s}", "reason", reason));
    so_iss_notify(ctx, o, "errored", why);
    return 1;
}


/* the key hash of live certificates stored before it was recorded (a few per pass) */
static apr_status_t spki_backfill(so_svc_ctx_t *ctx)
{
    apr_array_header_t *certs;
    apr_status_t rv;
    int i;

    if ((rv = so_store_certs_spki_missing(ctx->db, ctx->pool, ctx->now, &certs)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts && rv == APR_SUCCESS && !so_iss_jobs_stopping(); i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        const char *spki;
        if (so_keyblock_cert_spki(ctx->pool, c->pem, &spki) != APR_SUCCESS) {
            spki = "-"; /* unreadable: not looked at again */
        }
        rv = so_store_cert_spki_set(ctx->db, ctx->pool, c->id, spki);
    }
    return rv;
}

apr_status_t so_iss_revoke_compromised(so_svc_ctx_t *ctx, int *worked)
{
    apr_array_header_t *certs;
    apr_status_t rv;
    int i;

    if ((rv = spki_backfill(ctx)) != APR_SUCCESS
        || (rv = so_store_certs_compromised(ctx->db, ctx->pool, ctx->now, &certs)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < certs->nelts && !so_iss_jobs_stopping(); i++) {
        so_cert_t *c = APR_ARRAY_IDX(certs, i, so_cert_t *);
        so_order_t *o;
        if ((rv = so_store_order_get(ctx->db, ctx->pool, c->team_id, c->order_id, &o))
            != APR_SUCCESS) {
            return rv;
        }
        rv = so_iss_revoke(ctx, o, c, 1 /* keyCompromise */);
        if (rv == APR_EBUSY) {
            continue; /* revoked meanwhile (another server's pass, the customer) */
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        so_log_perror(SO_LOG_MARK, SO_LOG_NOTICE, APR_SUCCESS,
                      SOLOGNO(00978) "order %" APR_INT64_T_FMT ": certificate %s revoked: its key "
                                     "was revoked for key compromise with another certificate",
                      o->id, c->serial);
        (*worked)++;
    }
    return APR_SUCCESS;
}
