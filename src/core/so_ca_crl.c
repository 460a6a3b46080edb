/* mod_sslorders: the built-in CA: CRLs and the issuer of a certificate. See so_ca.h. */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include <libpsl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "so_ca.h"
#include "so_log.h"
#include "so_util.h"
#include "so_ca_int.h"

/* ---- CRL --------------------------------------------------------------------------- */

static int hex_serial_ok(const char *s)
{
    apr_size_t i, n = s ? strlen(s) : 0;
    if (n == 0 || n > 40) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* Long: every OpenSSL object of the CRL is freed at one exit (goto done); it shrinks
 * when they are pool-owned (so_ca_free_x509/so_ca_free_pkey as cleanups). */
apr_status_t so_ca_crl(so_ca_crl_t **out, const so_ca_t *ca, apr_pool_t *p,
                       const apr_array_header_t *revoked, apr_int64_t now, apr_int64_t next_secs,
                       apr_int64_t number, const char **why)
{
    X509_CRL *crl = NULL;
    X509_REVOKED *rev = NULL;
    ASN1_TIME *t = NULL;
    ASN1_INTEGER *num = NULL;
    ASN1_ENUMERATED *reason = NULL;
    BIGNUM *bn = NULL;
    X509_EXTENSION *ext = NULL;
    X509V3_CTX ctx;
    BIO *bio = NULL;
    so_ca_crl_t *c;
    unsigned char *q;
    int i, n;
    apr_status_t rv = APR_EINVAL;

    *out = NULL;
    *why = NULL;
    ERR_clear_error();
    if (next_secs == 0) {
        next_secs = SO_CA_CRL_DEFAULT_SECS;
    }
    if (next_secs < 3600 || next_secs > SO_CA_CRL_MAX_SECS) {
        *why = "the CRL's nextUpdate must be between one hour and ten days after thisUpdate";
        goto leave;
    }
    if (number == 0) {
        number = now;
    }
    if (number < 0) {
        *why = "the CRL number must be positive";
        goto leave;
    }
    rv = APR_EGENERAL;
    if (!(crl = X509_CRL_new()) || !X509_CRL_set_version(crl, X509_CRL_VERSION_2)
        || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->inter))
        || !(t = ASN1_TIME_new()) || !so_ca_set_time(t, now) || !X509_CRL_set1_lastUpdate(crl, t)
        || !so_ca_set_time(t, now + next_secs) || !X509_CRL_set1_nextUpdate(crl, t)) {
        goto fail;
    }
    for (i = 0; revoked && i < revoked->nelts; i++) {
        const so_ca_revoked_t *e = &APR_ARRAY_IDX(revoked, i, so_ca_revoked_t);
        if (!hex_serial_ok(e->serial)) {
            *why = apr_psprintf(p, "entry %d: \"%s\" is not a hexadecimal serial number", i + 1,
                                e->serial ? e->serial : "");
            rv = APR_EINVAL;
            goto leave;
        }
        if (e->reason != 0 && e->reason != 1 && e->reason != 3 && e->reason != 4
            && e->reason != 5 && e->reason != 9) {
            *why = apr_psprintf(p, "entry %d: reason code %d is not allowed (0, 1, 3, 4, 5 or 9)",
                                i + 1, e->reason);
            rv = APR_EINVAL;
            goto leave;
        }
        if (!BN_hex2bn(&bn, e->serial) || BN_is_zero(bn) || !(num = BN_to_ASN1_INTEGER(bn, NULL))
            || !(rev = X509_REVOKED_new()) || !X509_REVOKED_set_serialNumber(rev, num)
            || !so_ca_set_time(t, e->revoked_at) || !X509_REVOKED_set_revocationDate(rev, t)) {
            goto fail;
        }
        ASN1_INTEGER_free(num);
        num = NULL;
        if (e->reason != 0) {
            if (!(reason = ASN1_ENUMERATED_new()) || !ASN1_ENUMERATED_set(reason, e->reason)
                || X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1) {
                goto fail;
            }
            ASN1_ENUMERATED_free(reason);
            reason = NULL;
        }
        if (!X509_CRL_add0_revoked(crl, rev)) {
            goto fail;
        }
        rev = NULL;
    }
    if (!X509_CRL_sort(crl)) {
        goto fail;
    }
    {
        STACK_OF(X509_REVOKED) *all = X509_CRL_get_REVOKED(crl);
        for (i = 1; i < sk_X509_REVOKED_num(all); i++) {
            const ASN1_INTEGER *a = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(all, i - 1));
            const ASN1_INTEGER *b = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(all, i));
            if (ASN1_INTEGER_cmp(a, b) == 0) {
                *why = apr_psprintf(p, "serial %s is listed twice", so_ca_serial_hex(p, a));
                rv = APR_EINVAL;
                goto leave;
            }
        }
    }
    X509V3_set_ctx(&ctx, ca->inter, NULL, NULL, crl, 0);
    if (!(ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always"))
        || !X509_CRL_add_ext(crl, ext, -1) || !(num = ASN1_INTEGER_new())
        || !ASN1_INTEGER_set_int64(num, number)
        || X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1
        || !X509_CRL_sign(crl, ca->inter_key, ca->inter_md)) {
        goto fail;
    }
    c = apr_pcalloc(p, sizeof(*c));
    if ((n = i2d_X509_CRL(crl, NULL)) <= 0) {
        goto fail;
    }
    c->der = q = apr_palloc(p, (apr_size_t)n);
    i2d_X509_CRL(crl, &q);
    c->der_len = (apr_size_t)n;
    if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509_CRL(bio, crl)) {
        goto fail;
    }
    c->pem = so_ca_bio_text(p, bio);
    c->this_update = now;
    c->next_update = now + next_secs;
    c->number = number;
    *out = c;
    rv = APR_SUCCESS;
    goto leave;
fail:
    *why = so_ca_ossl_why(p, "cannot create the CRL");
    rv = APR_EGENERAL;
    so_log_error(SO_LOG_MARK, rv, SOLOGNO(00204) "%s", *why);
leave:
    BIO_free(bio);
    X509_EXTENSION_free(ext);
    BN_free(bn);
    ASN1_ENUMERATED_free(reason);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(t);
    X509_REVOKED_free(rev);
    X509_CRL_free(crl);
    ERR_clear_error();
    return rv;
}

apr_status_t so_ca_cert_issuer(const char **out, apr_pool_t *p, const char *pem)
{
    BIO *bio;
    X509 *x;
    const X509_NAME *issuer;
    int nids[] = {NID_organizationName, NID_commonName}, i, idx;

    if (!pem || !*pem || !(bio = BIO_new_mem_buf(pem, -1))) {
        return APR_EINVAL;
    }
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!x) {
        ERR_clear_error();
        return APR_EINVAL;
    }
    issuer = X509_get_issuer_name(x);
    *out = NULL;
    for (i = 0; i < 2 && !*out; i++) {
        if ((idx = X509_NAME_get_index_by_NID(issuer, nids[i], -1)) >= 0) {
            const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, idx));
            unsigned char *utf8 = NULL;
            int n = ASN1_STRING_to_UTF8(&utf8, v);
            if (n >= 0) {
                *out = apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)n);
                OPENSSL_free(utf8);
            }
        }
    }
    X509_free(x);
    return *out ? APR_SUCCESS : APR_ENOENT;
}
