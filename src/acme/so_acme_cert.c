/* mod_sslorders: ACME certificates: download, revocation (RFC 8555 7.4.2, 7.6) and
 * renewal information (RFC 9773). See so_acme_int.h. */
#include "so_acme_int.h"

apr_status_t so_acme_certificate(so_acme_ctx_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    const char *chain, *pem, *intermediate;
    apr_status_t rv;
    so_store_acme_ahead(a->db, SO_ACME_AHEAD_CERT, id); /* with the nonce */
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS) {
        return rv;
    }
    /* the order with its certificate, one statement */
    rv = so_store_acme_order_cert(a->db, a->p, id, &o, &pem, &intermediate);
    if (rv == APR_SUCCESS && o->account_id != a->acct->id) {
        rv = APR_ENOENT; /* another account's order: as if it did not exist */
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (strcmp(o->status, "valid") || o->cert_id <= 0) {
        return so_acme_problem(a, 404, "malformed", "The order has no certificate");
    }
    if (!pem || !*pem) {
        return so_acme_db_problem(a, APR_ENOENT);
    }
    chain = apr_pstrcat(a->p, pem, pem[strlen(pem) - 1] == '\n' ? "" : "\n", intermediate,
                        NULL);
    a->req->status = 200;
    a->req->raw_body = chain;
    a->req->raw_len = strlen(chain);
    a->req->raw_ctype = "application/pem-certificate-chain";
    return APR_SUCCESS;
}

/* ---- certificates: revocation, renewal information (RFC 9773) --------------------- */

static const char *bn_hex(apr_pool_t *p, BIGNUM *bn)
{
    char *h = bn ? BN_bn2hex(bn) : NULL;
    const char *s = h ? so_str_lower(p, h) : NULL;
    OPENSSL_free(h);
    BN_free(bn);
    return s;
}

/* the certificate named by an ARI certID: base64url(AKI keyIdentifier) "." base64url(serial) */
static apr_status_t cert_by_ari_id(so_acme_ctx_t *a, const char *cert_id, so_acme_cert_t **c)
{
    const char *dot = strchr(cert_id, '.');
    const unsigned char *aki, *ser;
    apr_size_t aki_len, ser_len;
    const char *serial;
    X509 *x = NULL;
    BIO *bio;
    const ASN1_OCTET_STRING *kid;
    int same = 0;
    apr_status_t rv;

    if (!dot || strlen(cert_id) > 512
        || so_unb64url(a->p, apr_pstrndup(a->p, cert_id, (apr_size_t)(dot - cert_id)), &aki,
                       &aki_len) != APR_SUCCESS
        || so_unb64url(a->p, dot + 1, &ser, &ser_len) != APR_SUCCESS || aki_len == 0
        || ser_len == 0 || ser_len > 20) {
        return APR_EINVAL;
    }
    serial = bn_hex(a->p, BN_bin2bn(ser, (int)ser_len, NULL));
    if (!serial || (rv = so_store_acme_cert(a->db, a->p, serial, c)) == APR_ENOENT) {
        return APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    bio = BIO_new_mem_buf((*c)->pem, -1);
    if (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))
        && (kid = X509_get0_authority_key_id(x))) {
        same = (apr_size_t)ASN1_STRING_length(kid) == aki_len
               && !memcmp(ASN1_STRING_get0_data(kid), aki, aki_len);
    }
    X509_free(x);
    BIO_free(bio);
    return same ? APR_SUCCESS : APR_ENOENT;
}

apr_status_t so_acme_renewal_info(so_acme_ctx_t *a, const char *cert_id)
{
    so_acme_cert_t *c;
    apr_int64_t start, end, life;
    json_t *j;
    apr_status_t rv = cert_by_ari_id(a, cert_id, &c);

    if (rv == APR_EINVAL) {
        return so_acme_problem(a, 400, "malformed", "Not a certificate identifier (RFC 9773)");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    life = c->not_after - c->not_before;
    start = c->not_after - life / 3;
    end = c->not_after - life / 6;
    if (c->revoked_at || (c->renew_early_at && c->renew_early_at >= c->created_at)) {
        /* revoked, or the provider asked for early renewal: now */
        start = a->req->now - 3600;
        end = a->req->now;
    }
    j = json_pack("{s:{s:s,s:s}}", "suggestedWindow", "start", so_acme_rfc3339(a->p, start), "end",
                  so_acme_rfc3339(a->p, end));
    if (start < a->req->now - 60) {
        json_object_set_new(j, "explanationURL", json_string(so_acme_url(a, "/terms")));
    }
    apr_table_setn(a->req->headers_out, "Retry-After", ARI_RETRY);
    so_acme_send_json(a, 200, j);
    return APR_SUCCESS;
}

/* the account may act on the certificate: same team and an order its EAB covers */
static int account_covers(so_acme_ctx_t *a, const so_acme_cert_t *c)
{
    so_acme_eab_t *eab;
    apr_array_header_t *ids;
    int i;
    if (c->team_id != a->acct->team_id
        || so_acme_eab_of(a, &eab) != APR_SUCCESS
        || eab->disabled) {
        return 0;
    }
    if (eab->order_id > 0) {
        return eab->order_id == c->order_id;
    }
    if (so_store_acme_eab_orders(a->db, a->p, eab->kid, &ids) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < ids->nelts; i++) {
        if (APR_ARRAY_IDX(ids, i, apr_int64_t) == c->order_id) {
            return 1;
        }
    }
    return 0;
}

apr_status_t so_acme_revoke_cert(so_acme_ctx_t *a)
{
    const char *serial;
    const unsigned char *der, *q;
    apr_size_t der_len;
    X509 *x;
    so_acme_cert_t *c;
    so_acme_bad_t bad;
    int reason = 0, ok = 0;
    apr_status_t rv;

    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_EITHER)) != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_revoke(a->p, a->payload, &der, &der_len, &reason, &bad) != APR_SUCCESS) {
        return so_acme_bad_problem(a, &bad);
    }
    q = der;
    if (!(x = d2i_X509(NULL, &q, (long)der_len))) {
        return so_acme_problem(a, 400, "malformed", "certificate is not a DER certificate");
    }
    serial = bn_hex(a->p, ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL));
    if (a->acct == NULL) {
        /* signed with the certificate's key */
        unsigned char *k1 = NULL, *k2 = NULL;
        int l1 = i2d_PUBKEY(X509_get0_pubkey(x), &k1), l2 = i2d_PUBKEY(a->key->pkey, &k2);
        ok = l1 > 0 && l1 == l2 && !memcmp(k1, k2, (size_t)l1);
        OPENSSL_free(k1);
        OPENSSL_free(k2);
    }
    X509_free(x);
    rv = serial ? so_store_acme_cert(a->db, a->p, serial, &c) : APR_ENOENT;
    if (rv == APR_SUCCESS) {
        /* the stored certificate must be this one, not another with the same serial */
        so_acme_cert_t *cc = c;
        BIO *bio = BIO_new_mem_buf(cc->pem, -1);
        X509 *mine = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        unsigned char *md = NULL;
        int l = mine ? i2d_X509(mine, &md) : 0;
        if (l <= 0 || (apr_size_t)l != der_len || memcmp(md, der, der_len)) {
            rv = APR_ENOENT;
        }
        OPENSSL_free(md);
        X509_free(mine);
        BIO_free(bio);
    }
    if (rv == APR_ENOENT) {
        return so_acme_problem(a, 404, "malformed", "This server did not issue the certificate");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (a->acct) {
        ok = account_covers(a, c);
    }
    if (!ok) {
        return so_acme_problem(a, 403, "unauthorized", "Not signed by the certificate's key or account");
    }
    if (c->revoked_at) {
        return so_acme_problem(a, 400, "alreadyRevoked", "The certificate is revoked already");
    }
    rv = so_acme_iss_revoke(a->req, c->team_id, c->order_id, c->id, reason);
    if (rv == APR_EEXIST) {
        return so_acme_problem(a, 400, "alreadyRevoked", "The certificate is revoked already");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    a->req->status = 200;
    a->req->raw_body = "";
    a->req->raw_len = 0;
    a->req->raw_ctype = "text/plain";
    return APR_SUCCESS;
}

/* newOrder's replaces (RFC 9773 5): a certificate of this account, names overlapping, not
 * replaced already */
apr_status_t so_acme_replaces_check(so_acme_ctx_t *a, const char *cert_id, apr_array_header_t *names)
{
    so_acme_cert_t *c;
    so_acme_order_t *prev;
    char *s, *tok, *last = NULL;
    int n = 0, overlap = 0;
    apr_status_t rv = cert_by_ari_id(a, cert_id, &c);

    if (rv == APR_EINVAL || rv == APR_ENOENT) {
        return so_acme_problem(a, 400, "malformed", "replaces does not name a certificate of this server");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    rv = so_store_acme_order_by_cert(a->db, a->p, c->id, &prev);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && prev->account_id != a->acct->id)) {
        return so_acme_problem(a, 400, "malformed", "replaces names a certificate of another account");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    s = apr_pstrdup(a->p, c->names);
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        overlap += so_strs_has(names, tok);
    }
    if (!overlap) {
        return so_acme_problem(a, 400, "malformed", "The order has none of the replaced certificate's names");
    }
    if ((rv = so_store_acme_replaced(a->db, a->p, cert_id, &n)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (n > 0) {
        return so_acme_problem(a, 409, "alreadyReplaced", "Another order replaces this certificate already");
    }
    return APR_SUCCESS;
}

