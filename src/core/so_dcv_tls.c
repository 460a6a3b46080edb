/* mod_sslorders: domain control validation by ACME tls-alpn-01 (RFC 8737): a TLS
 * handshake with the name (OpenSSL). See so_dcv.h. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include <apr_strings.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "so_dcv.h"

/* ---- tls-alpn-01 (RFC 8737) ------------------------------------------------------- */

/* Where a probe of name:443 goes: a connect-to entry for this name, else one for any
 * name, else the name itself. */
static const char *tls_target(apr_pool_t *p, const char *name, const so_dcv_opts_t *o)
{
    const char *any = NULL;
    int i;
    for (i = 0; o->connect_to && i < o->connect_to->nelts; i++) {
        const char *e = APR_ARRAY_IDX(o->connect_to, i, const char *);
        const char *c1 = strchr(e, ':');
        apr_size_t hl = c1 ? (apr_size_t)(c1 - e) : 0;
        if (!c1 || strncmp(c1 + 1, "443:", 4)) {
            continue;
        }
        if (hl == 0 && !any) {
            any = c1 + 5;
        }
        else if (hl == strlen(name) && !strncasecmp(e, name, hl)) {
            return c1 + 5;
        }
    }
    return any ? any : apr_pstrcat(p, name, ":443", NULL);
}

apr_status_t so_dcv_check_tls_alpn(apr_pool_t *p, const char *name, const unsigned char *digest,
                                   const so_dcv_opts_t *opts, const char **why)
{
    static const unsigned char alpn[] = "\x0a" "acme-tls/1";
    so_dcv_opts_t o;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    GENERAL_NAMES *sans = NULL;
    ASN1_OBJECT *oid = NULL;
    const unsigned char *sel = NULL;
    unsigned int sel_len = 0;
    const char *target;
    int idx, timeout;
    apr_status_t rv = APR_EGENERAL;

    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    *why = NULL;
    timeout = (o.timeout_ms > 0 ? o.timeout_ms : 10000) / 1000 + 1;
    target = tls_target(p, name, &o);
    if (!(ctx = SSL_CTX_new(TLS_client_method())) || !(ssl = SSL_new(ctx))
        || !(bio = BIO_new_connect(target))) {
        *why = "out of memory";
        goto leave;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
    BIO_set_nbio(bio, 1);
    if (BIO_do_connect_retry(bio, timeout, 100) <= 0) {
        *why = apr_psprintf(p, "cannot connect to %s:443 for tls-alpn-01", name);
        goto leave;
    }
    {
        int fd = (int)BIO_get_fd(bio, NULL);
        struct timeval tv;
        int fl = fcntl(fd, F_GETFL);
        tv.tv_sec = timeout;
        tv.tv_usec = 0;
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        BIO_set_nbio(bio, 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    SSL_set_bio(ssl, bio, bio);
    bio = NULL; /* the SSL owns it now */
    if (SSL_connect(ssl) != 1) {
        *why = apr_psprintf(p, "the TLS handshake with %s:443 (ALPN acme-tls/1) failed", name);
        goto leave;
    }
    SSL_get0_alpn_selected(ssl, &sel, &sel_len);
    if (sel_len != 10 || memcmp(sel, "acme-tls/1", 10)) {
        *why = apr_psprintf(p, "%s:443 did not select the ALPN protocol acme-tls/1", name);
        goto leave;
    }
    if (!(x = SSL_get1_peer_certificate(ssl))) {
        *why = "no certificate in the tls-alpn-01 handshake";
        goto leave;
    }
    sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    {
        const GENERAL_NAME *gn = sans && sk_GENERAL_NAME_num(sans) == 1
                                     ? sk_GENERAL_NAME_value(sans, 0) : NULL;
        const ASN1_IA5STRING *dns = gn && gn->type == GEN_DNS ? gn->d.dNSName : NULL;
        if (!dns || (apr_size_t)ASN1_STRING_length(dns) != strlen(name)
            || strncasecmp((const char *)ASN1_STRING_get0_data(dns), name, strlen(name))) {
            *why = apr_psprintf(p, "the tls-alpn-01 certificate must name exactly %s", name);
            rv = APR_EMISMATCH;
            goto leave;
        }
    }
    oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    idx = oid ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
    {
        X509_EXTENSION *ext = idx >= 0 ? X509_get_ext(x, idx) : NULL;
        const ASN1_OCTET_STRING *v = ext ? X509_EXTENSION_get_data(ext) : NULL;
        const unsigned char *d = v ? ASN1_STRING_get0_data(v) : NULL;
        if (!ext || !X509_EXTENSION_get_critical(ext) || ASN1_STRING_length(v) != 34
            || d[0] != 0x04 || d[1] != 0x20 || memcmp(d + 2, digest, 32)) {
            *why = "the tls-alpn-01 certificate lacks the critical acmeIdentifier extension "
                   "with this key authorization's digest";
            rv = APR_EMISMATCH;
            goto leave;
        }
    }
    rv = APR_SUCCESS;
leave:
    ASN1_OBJECT_free(oid);
    GENERAL_NAMES_free(sans);
    X509_free(x);
    BIO_free_all(bio);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rv;
}
