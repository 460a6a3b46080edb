/* mod_sslorders: domain control validation: the values (tokens, instructions, the ACME
 * account label) and connect-to. The probes: so_dcv_http.c (http, https, http-01),
 * so_dcv_dns.c (CNAME, TXT), so_dcv_tls.c (tls-alpn-01). See so_dcv.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/sha.h>

#include "so_ca.h"
#include "so_dcv.h"
#include "so_dcv_int.h"
#include "so_jws.h"
#include "so_totp.h"
#include "so_util.h"

/* ---- values ----------------------------------------------------------------------- */

static int is_hex(const char *s, apr_size_t n)
{
    apr_size_t i;
    if (!s || strlen(s) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_dcv_unique(const char **out, apr_pool_t *p)
{
    return so_random_chars(out, p, SO_DCV_UNIQUE_LEN, "0123456789abcdef");
}

apr_status_t so_dcv_token(so_dcv_token_t **out, apr_pool_t *p, const unsigned char *csr_der,
                          apr_size_t csr_len, const char *ca_tag, const char *unique,
                          const char **why)
{
    *out = NULL;
    if (!csr_der || csr_len == 0) {
        *why = "no CSR";
        return APR_EINVAL;
    }
    return so_dcv_token_hashes(out, p, so_md5_hex(p, csr_der, csr_len, 1),
                               so_sha256_hex(p, csr_der, csr_len, 1), ca_tag, unique, why);
}

apr_status_t so_dcv_token_hashes(so_dcv_token_t **out, apr_pool_t *p, const char *md5,
                                 const char *sha256, const char *ca_tag, const char *unique,
                                 const char **why)
{
    so_dcv_token_t *t;
    const char *tag;

    *out = NULL;
    if (!md5 || strlen(md5) != 32 || !sha256 || strlen(sha256) != 64) {
        *why = "no CSR hashes";
        return APR_EINVAL;
    }
    if (!ca_tag || so_ca_check_name(&tag, p, ca_tag, why) != APR_SUCCESS || tag[0] == '*') {
        *why = "the CA tag is not a valid domain name";
        return APR_EINVAL;
    }
    if (unique && !is_hex(unique, SO_DCV_UNIQUE_LEN)) {
        *why = "the unique value must be 10 hexadecimal characters";
        return APR_EINVAL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->md5 = so_str_upper(p, md5);
    t->sha256 = so_str_upper(p, sha256);
    t->unique = unique ? so_str_lower(p, unique) : NULL;
    t->ca_tag = tag;
    t->dns_value = apr_pstrcat(p, apr_pstrndup(p, t->sha256, 32), ".", t->sha256 + 32,
                               t->unique ? "." : "", t->unique ? t->unique : "", ".", tag, NULL);
    t->file_body = apr_pstrcat(p, t->sha256, "\n", tag, t->unique ? "\n" : "",
                               t->unique ? t->unique : "", NULL);
    *out = t;
    return APR_SUCCESS;
}

apr_status_t so_dcv_token_pem(so_dcv_token_t **out, apr_pool_t *p, const char *csr_pem,
                              const char *ca_tag, const char *unique, const char **why)
{
    BIO *b = csr_pem ? BIO_new_mem_buf(csr_pem, -1) : NULL;
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, *q;
    int n = req ? i2d_X509_REQ(req, NULL) : -1;
    apr_status_t rv;

    *out = NULL;
    if (n <= 0) {
        *why = "the CSR is not a PEM encoded PKCS#10 request";
        rv = APR_EINVAL;
        goto leave;
    }
    der = q = apr_palloc(p, (apr_size_t)n);
    i2d_X509_REQ(req, &q);
    rv = so_dcv_token(out, p, der, (apr_size_t)n, ca_tag, unique, why);
leave:
    X509_REQ_free(req);
    BIO_free(b);
    ERR_clear_error();
    return rv;
}

/* name checked and lower-cased; *base without "*." */
apr_status_t so_dcv_name(const char **name, const char **base, apr_pool_t *p,
                             const char *in, const char **why)
{
    apr_status_t rv = so_ca_check_name(name, p, in, why);
    if (rv == APR_SUCCESS) {
        *base = strncmp(*name, "*.", 2) == 0 ? *name + 2 : *name;
    }
    return rv;
}

static const char *wildcard_http_why(apr_pool_t *p, const char *name)
{
    return apr_psprintf(p, "%s is a wildcard name: the HTTP file method cannot validate "
                           "wildcards, use a DNS CNAME or TXT record", name);
}

apr_status_t so_dcv_instructions(so_dcv_instructions_t **out, apr_pool_t *p,
                                 const so_dcv_token_t *t, const char *name,
                                 so_dcv_method_t method, const char **why)
{
    so_dcv_instructions_t *in;
    apr_status_t rv;

    *out = NULL;
    in = apr_pcalloc(p, sizeof(*in));
    if ((rv = so_dcv_name(&in->name, &in->base, p, name, why)) != APR_SUCCESS) {
        return rv;
    }
    in->method = method;
    switch (method) {
    case SO_DCV_HTTP:
    case SO_DCV_HTTPS:
        if (in->base != in->name) {
            *why = wildcard_http_why(p, in->name);
            return APR_EINVAL;
        }
        in->file_name = apr_pstrcat(p, t->md5, ".txt", NULL);
        in->path = apr_pstrcat(p, SO_DCV_PATH_PREFIX, in->file_name, NULL);
        in->url = apr_pstrcat(p, method == SO_DCV_HTTPS ? "https://" : "http://", in->base,
                              in->path, NULL);
        in->file_body = t->file_body;
        in->text = apr_psprintf(
            p, "Create the file %s in the directory %s of the web site %s, so that %s answers "
               "with status 200 and this text (the first line exactly; the other lines as "
               "shown):\n%s",
            in->file_name, SO_DCV_PATH_PREFIX, in->base, in->url, t->file_body);
        break;
    case SO_DCV_CNAME:
        in->record_name = apr_pstrcat(p, "_", t->md5, ".", in->base, NULL);
        in->record_type = "CNAME";
        in->record_value = t->dns_value;
        in->text = apr_psprintf(p, "In the DNS zone of %s, add a CNAME record named %s that "
                                   "points to %s",
                                in->base, in->record_name, in->record_value);
        break;
    case SO_DCV_TXT:
        in->record_name = apr_pstrcat(p, SO_DCV_TXT_LABEL ".", in->base, NULL);
        in->record_type = "TXT";
        in->record_value = t->dns_value;
        in->text = apr_psprintf(p, "In the DNS zone of %s, add a TXT record named %s with "
                                   "the value %s",
                                in->base, in->record_name, in->record_value);
        break;
    default:
        *why = "unknown validation method";
        return APR_EINVAL;
    }
    *out = in;
    return APR_SUCCESS;
}

/* ---- connect-to ------------------------------------------------------------------- */

/* "host:port" -> host, port; host may be "[v6]". */
static int split_host_port(apr_pool_t *p, const char *s, const char **host, long *port)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char *end;
    apr_size_t i;

    if (!colon || colon == s || !colon[1]) {
        return 0;
    }
    *port = strtol(colon + 1, &end, 10);
    if (*end || *port < 1 || *port > 65535) {
        return 0;
    }
    *host = apr_pstrmemdup(p, s, (apr_size_t)(colon - s));
    if ((*host)[0] == '[') {
        return (*host)[strlen(*host) - 1] == ']';
    }
    if (!strcmp(*host, "*")) {
        return 1; /* any host */
    }
    for (i = 0; (*host)[i]; i++) {
        unsigned char c = (unsigned char)(*host)[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_dcv_connect_to_add(apr_array_header_t **list, apr_pool_t *p, const char *from,
                                   const char *to, const char **why)
{
    const char *fh, *th;
    long fp, tp;

    if (!split_host_port(p, from, &fh, &fp) || fh[0] == '[') {
        *why = apr_psprintf(p, "\"%s\" is not host:port", from ? from : "");
        return APR_EINVAL;
    }
    if (!split_host_port(p, to, &th, &tp)) {
        *why = apr_psprintf(p, "\"%s\" is not address:port", to ? to : "");
        return APR_EINVAL;
    }
    if (!*list) {
        *list = apr_array_make(p, 4, sizeof(const char *));
    }
    /* "*" (any host) is curl's empty host */
    APR_ARRAY_PUSH(*list, const char *) =
        apr_psprintf(p, "%s:%ld:%s:%ld", strcmp(fh, "*") ? so_str_lower(p, fh) : "", fp, th, tp);
    return APR_SUCCESS;
}

const char *so_dcv_account_label(apr_pool_t *p, const char *account_url)
{
    unsigned char dig[SHA256_DIGEST_LENGTH];
    char *label;
    apr_size_t i;

    SHA256((const unsigned char *)account_url, strlen(account_url), dig);
    label = apr_pstrcat(p, "_", so_base32_encode(p, dig, 10), NULL);
    for (i = 0; label[i]; i++) {
        label[i] = (char)tolower((unsigned char)label[i]);
    }
    return label;
}

const char *so_dcv_account_record(apr_pool_t *p, const char *account_url, const char *name,
                                  const char **why)
{
    const char *n, *base;
    if (!account_url || so_dcv_name(&n, &base, p, name, why) != APR_SUCCESS) {
        if (!account_url) {
            *why = "no account for the dns-account method";
        }
        return NULL;
    }
    return apr_pstrcat(p, so_dcv_account_label(p, account_url), "._acme-challenge.", base, NULL);
}

apr_status_t so_dcv_account_instructions(so_dcv_instructions_t **out, apr_pool_t *p,
                                         const so_dcv_token_t *t, const char *name,
                                         const char *account_url, const char **why)
{
    so_dcv_instructions_t *in;
    apr_status_t rv;

    *out = NULL;
    in = apr_pcalloc(p, sizeof(*in));
    if ((rv = so_dcv_name(&in->name, &in->base, p, name, why)) != APR_SUCCESS) {
        return rv;
    }
    if (!(in->record_name = so_dcv_account_record(p, account_url, in->name, why))) {
        return APR_EINVAL;
    }
    in->method = SO_DCV_TXT;
    in->record_type = "TXT";
    in->record_value = t->dns_value;
    in->text = apr_psprintf(p, "In the DNS zone of %s, add a TXT record named %s (the label "
                               "of your account) with the value %s",
                            in->base, in->record_name, in->record_value);
    *out = in;
    return APR_SUCCESS;
}

apr_status_t so_dcv_check_acme(apr_pool_t *p, const char *type, const char *name,
                               const char *token, const char *keyauth, const char *account_url,
                               const so_dcv_opts_t *opts, const char **why)
{
    unsigned char dig[SHA256_DIGEST_LENGTH];
    const char *qname;

    SHA256((const unsigned char *)keyauth, strlen(keyauth), dig);
    if (!strcmp(type, "http-01")) {
        return so_dcv_check_acme_http(p, name, token, keyauth, opts, why);
    }
    if (!strcmp(type, "tls-alpn-01")) {
        return so_dcv_check_tls_alpn(p, name, dig, opts, why);
    }
    if (strcmp(type, "dns-01") && strcmp(type, "dns-account-01")) {
        *why = apr_psprintf(p, "%s is not a challenge type this check knows", type);
        return APR_ENOTIMPL;
    }
    /* dns-01: _acme-challenge.<name>; dns-account-01 (draft-ietf-acme-dns-account-label):
     * _<account label>._acme-challenge.<name>; the same value */
    qname = apr_pstrcat(p, "_acme-challenge.", name, NULL);
    if (!strcmp(type, "dns-account-01")) {
        if (!account_url || !*account_url) {
            *why = "dns-account-01 needs the account URL";
            return APR_EINVAL;
        }
        qname = apr_pstrcat(p, so_dcv_account_label(p, account_url), ".", qname, NULL);
    }
    return so_dcv_check_txt(p, qname, so_b64url(p, dig, sizeof(dig)), opts, why);
}
