/* mod_sslorders: the certificate linter. See so_lint.h. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "so_ca.h"
#include "so_domain.h"
#include "so_lint.h"

#define CT_PRECERT_EKU "1.3.6.1.4.1.11129.2.4.4"
#define CT_POISON "1.3.6.1.4.1.11129.2.4.3"

static void add(apr_array_header_t *pr, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(apr_array_header_t *pr, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    APR_ARRAY_PUSH(pr, const char *) = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
}

static apr_int64_t epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return (apr_int64_t)timegm(&tm);
}

static int has_ext_oid(const X509 *x, const char *oid)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    int found = o && X509_get_ext_by_OBJ(x, o, -1) >= 0;
    ASN1_OBJECT_free(o);
    return found;
}

static void lint_key(apr_pool_t *p, apr_array_header_t *pr, EVP_PKEY *pk)
{
    int bits;
    if (!pk) {
        add(pr, p, "the public key cannot be read");
        return;
    }
    bits = EVP_PKEY_get_bits(pk);
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
        BIGNUM *e = NULL;
        if (bits < 2048 || bits > 8192 || bits % 8) {
            add(pr, p, "the RSA key has %d bits (2048 to 8192, a multiple of 8)", bits);
        }
        if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) || !e) {
            add(pr, p, "the RSA exponent cannot be read");
        }
        else {
            if (!BN_is_odd(e) || BN_num_bits(e) < 17 || BN_num_bits(e) > 256) {
                char *dec = BN_bn2dec(e);
                add(pr, p, "the RSA exponent %s is not odd between 65537 and 2^256-1",
                    dec ? dec : "?");
                OPENSSL_free(dec);
            }
            BN_free(e);
        }
    }
    else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
        char curve[64] = "";
        size_t cl = 0;
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &cl);
        if (strcmp(curve, "prime256v1") && strcmp(curve, "secp384r1")) {
            add(pr, p, "the EC key is on curve %s (P-256 or P-384 only)", *curve ? curve : "?");
        }
    }
    else {
        add(pr, p, "the key is neither RSA nor EC");
    }
}

static void lint_sig(apr_pool_t *p, apr_array_header_t *pr, X509 *x)
{
    int nid = X509_get_signature_nid(x), md = NID_undef, pknid = NID_undef;
    const X509_ALGOR *outer = NULL, *inner = X509_get0_tbs_sigalg(x);
    X509_get0_signature(NULL, &outer, x);
    if (!OBJ_find_sigid_algs(nid, &md, &pknid)
        || (md != NID_sha256 && md != NID_sha384 && md != NID_sha512)) {
        add(pr, p, "the signature algorithm %s is not SHA-2 with RSA or ECDSA", OBJ_nid2sn(nid));
    }
    if (!outer || !inner || X509_ALGOR_cmp(outer, inner) != 0) {
        add(pr, p, "the signature algorithm differs from the one in the signed part");
    }
}

static void lint_names(apr_pool_t *p, apr_array_header_t *pr, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    X509_NAME *subj = X509_get_subject_name(x);
    int i, cn_idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1), cn_found = 0;
    const char *cn = NULL;

    if (cn_idx >= 0) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, cn_idx));
        cn = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(d), (apr_size_t)ASN1_STRING_length(d));
        if (X509_NAME_get_index_by_NID(subj, NID_commonName, cn_idx) >= 0) {
            add(pr, p, "the subject has more than one common name");
        }
    }
    if (!gens || sk_GENERAL_NAME_num(gens) == 0) {
        add(pr, p, "there is no subjectAltName");
        GENERAL_NAMES_free(gens);
        return;
    }
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *name, *bad;
        if (g->type != GEN_DNS) {
            add(pr, p, "subjectAltName entry %d is not a DNS name", i + 1);
            continue;
        }
        name = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                              (apr_size_t)ASN1_STRING_length(g->d.dNSName));
        if (strlen(name) != (apr_size_t)ASN1_STRING_length(g->d.dNSName)) {
            add(pr, p, "subjectAltName entry %d holds a NUL byte", i + 1);
            continue;
        }
        if ((bad = so_hostname_check(name, 1)) != NULL) {
            add(pr, p, "subjectAltName %s: %s", name, bad);
        }
        if (cn && !strcmp(cn, name)) {
            cn_found = 1;
        }
    }
    if (cn && !cn_found) {
        add(pr, p, "the common name %s is not one of the subjectAltNames", cn);
    }
    GENERAL_NAMES_free(gens);
}

static void lint_usage(apr_pool_t *p, apr_array_header_t *pr, X509 *x, EVP_PKEY *pk)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
    int i, server = 0, ku_idx = X509_get_ext_by_NID(x, NID_key_usage, -1);

    if (!eku) {
        add(pr, p, "there is no extendedKeyUsage");
    }
    for (i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
        int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
        if (nid == NID_server_auth) {
            server = 1;
        }
        else if (nid != NID_client_auth) {
            char oid[80];
            OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
            add(pr, p, "the extendedKeyUsage %s is not allowed (serverAuth, clientAuth only)", oid);
        }
    }
    if (eku && !server) {
        add(pr, p, "the extendedKeyUsage lacks serverAuth");
    }
    if (bc && bc->ca) {
        add(pr, p, "basicConstraints says cA");
    }
    if (!ku || ku_idx < 0) {
        add(pr, p, "there is no keyUsage");
    }
    else {
        if (!X509_EXTENSION_get_critical(X509_get_ext(x, ku_idx))) {
            add(pr, p, "keyUsage is not critical");
        }
        if (!ASN1_BIT_STRING_get_bit(ku, 0)) {
            add(pr, p, "keyUsage lacks digitalSignature");
        }
        if (ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6)) {
            add(pr, p, "keyUsage has keyCertSign or cRLSign");
        }
        if (ASN1_BIT_STRING_get_bit(ku, 2) && pk && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
            add(pr, p, "keyUsage has keyEncipherment for a non-RSA key");
        }
    }
    EXTENDED_KEY_USAGE_free(eku);
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
}

static void lint_policies(apr_pool_t *p, apr_array_header_t *pr, X509 *x)
{
    CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
    int i, reserved = 0;
    if (!pols) {
        add(pr, p, "there are no certificatePolicies");
        return;
    }
    for (i = 0; i < sk_POLICYINFO_num(pols); i++) {
        char oid[80];
        OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(pols, i)->policyid, 1);
        if (!strcmp(oid, "2.23.140.1.2.1") || !strcmp(oid, "2.23.140.1.2.2")
            || !strcmp(oid, "2.23.140.1.1") || !strcmp(oid, "2.23.140.1.2.3")) {
            reserved++;
        }
        else if (!strcmp(oid, "2.5.29.32.0")) {
            add(pr, p, "anyPolicy is not allowed in a subscriber certificate");
        }
    }
    if (reserved != 1) {
        add(pr, p, "certificatePolicies must hold exactly one CA/Browser Forum reserved policy "
                   "(found %d)", reserved);
    }
    CERTIFICATEPOLICIES_free(pols);
}

static int http_url(const GENERAL_NAME *g)
{
    return g && g->type == GEN_URI
           && ASN1_STRING_length(g->d.uniformResourceIdentifier) > 7
           && !strncmp((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
                       "http://", 7);
}

static void lint_urls(apr_pool_t *p, apr_array_header_t *pr, X509 *x)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    int i, j, ca_issuers = 0, crl = 0;
    for (i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        int nid = OBJ_obj2nid(ad->method);
        if (!http_url(ad->location)) {
            add(pr, p, "an authorityInformationAccess entry is not an http:// URL");
        }
        else if (nid == NID_ad_ca_issuers) {
            ca_issuers = 1;
        }
    }
    if (!ca_issuers) {
        add(pr, p, "authorityInformationAccess has no caIssuers http:// URL");
    }
    for (i = 0; cdp && i < sk_DIST_POINT_num(cdp); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);
        if (!dp->distpoint || dp->distpoint->type != 0) {
            continue;
        }
        for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
            if (http_url(sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j))) {
                crl = 1;
            }
            else {
                add(pr, p, "a CRL distribution point is not an http:// URL");
            }
        }
    }
    if (!crl) {
        add(pr, p, "there is no CRL distribution point http:// URL");
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    CRL_DIST_POINTS_free(cdp);
}

static void lint_serial(apr_pool_t *p, apr_array_header_t *pr, X509 *x)
{
    const ASN1_INTEGER *s = X509_get0_serialNumber(x);
    BIGNUM *bn = s ? ASN1_INTEGER_to_BN(s, NULL) : NULL;
    if (!bn || BN_is_negative(bn) || BN_is_zero(bn)) {
        add(pr, p, "the serial number is not positive");
    }
    else if (BN_num_bytes(bn) > 20) {
        add(pr, p, "the serial number is longer than 20 octets");
    }
    else if (BN_num_bits(bn) < 65) {
        add(pr, p, "the serial number has fewer than 64 random bits");
    }
    BN_free(bn);
}

static void lint_issuer(apr_pool_t *p, apr_array_header_t *pr, X509 *x, X509 *ca)
{
    if (has_ext_oid(x, CT_POISON)) {
        add(pr, p, "the certificate carries the CT precertificate poison extension");
    }
    if (!ca) {
        return;
    }
    if (X509_check_ca(ca) == 0) {
        add(pr, p, "the issuer is not a CA");
    }
    else {
        EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(ca, NID_ext_key_usage, NULL, NULL);
        int i;
        for (i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
            char oid[80];
            OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
            if (!strcmp(oid, CT_PRECERT_EKU)) {
                add(pr, p, "the issuer is a precertificate signing CA");
            }
        }
        EXTENDED_KEY_USAGE_free(eku);
    }
    if (X509_check_issued(ca, x) != X509_V_OK) {
        add(pr, p, "the certificate was not issued by the given CA");
    }
}

apr_status_t so_lint_cert(apr_pool_t *p, const unsigned char *der, apr_size_t len,
                          const char *issuer_pem, apr_int64_t now,
                          apr_array_header_t **problems)
{
    BIO *b;
    X509 *ca = NULL;
    apr_status_t rv;

    if (issuer_pem) {
        b = BIO_new_mem_buf(issuer_pem, -1);
        ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!ca) {
            ERR_clear_error();
            rv = so_lint_cert_x509(p, der, len, NULL, now, problems);
            if (rv != APR_EINVAL) {
                add(*problems, p, "the issuing CA certificate cannot be read");
                rv = APR_EGENERAL;
            }
            return rv;
        }
    }
    rv = so_lint_cert_x509(p, der, len, ca, now, problems);
    X509_free(ca);
    return rv;
}

apr_status_t so_lint_cert_x509(apr_pool_t *p, const unsigned char *der, apr_size_t len,
                               X509 *issuer, apr_int64_t now, apr_array_header_t **problems)
{
    const unsigned char *q = der;
    X509 *x = der ? d2i_X509(NULL, &q, (long)len) : NULL;
    apr_status_t rv;

    if (!x || q != der + len) {
        X509_free(x);
        ERR_clear_error();
        *problems = apr_array_make(p, 1, sizeof(const char *));
        add(*problems, p, "not a DER certificate (or bytes after it)");
        return APR_EINVAL;
    }
    rv = so_lint_cert_obj(p, x, NULL, issuer, now, problems);
    X509_free(x);
    return rv;
}

/* the DER of a SubjectPublicKeyInfo (OPENSSL_free it), its length in *len (0: none) */
static unsigned char *spki_der(X509_PUBKEY *k, int *len)
{
    unsigned char *der = NULL;
    *len = k ? i2d_X509_PUBKEY(k, &der) : 0;
    return *len > 0 ? der : NULL;
}

/* The certificate's key: decoded already (a parsed certificate), the request's when the
 * certificate carries the request's SubjectPublicKeyInfo byte for byte, else decoded from
 * it (*own: to free) */
static EVP_PKEY *cert_key(X509 *x, X509_REQ *req, EVP_PKEY **own)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    unsigned char *a, *b;
    const unsigned char *q;
    int alen, blen;

    *own = NULL;
    ERR_clear_error(); /* (a certificate built by the CA has no decoded key: not an error) */
    if (pk) {
        return pk;
    }
    a = spki_der(X509_get_X509_PUBKEY(x), &alen);
    b = req ? spki_der(X509_REQ_get_X509_PUBKEY(req), &blen) : NULL;
    if (a && b && alen == blen && !memcmp(a, b, (size_t)alen)) {
        pk = X509_REQ_get0_pubkey(req);
    }
    if (!pk && a) {
        q = a;
        pk = *own = d2i_PUBKEY(NULL, &q, alen);
    }
    OPENSSL_free(a);
    OPENSSL_free(b);
    return pk;
}

apr_status_t so_lint_cert_obj(apr_pool_t *p, X509 *x, X509_REQ *req, X509 *issuer,
                              apr_int64_t now, apr_array_header_t **problems)
{
    apr_array_header_t *pr = apr_array_make(p, 4, sizeof(const char *));
    apr_int64_t nb, na;
    int max = so_ca_br_max_days(now);
    EVP_PKEY *own, *pk = cert_key(x, req, &own);

    *problems = pr;
    if (X509_get_version(x) != X509_VERSION_3) {
        add(pr, p, "not an X.509 v3 certificate");
    }
    nb = epoch(X509_get0_notBefore(x));
    na = epoch(X509_get0_notAfter(x));
    if (!nb || !na || na < nb) {
        add(pr, p, "the validity period cannot be read or ends before it starts");
    }
    else if (na - nb + 1 > (apr_int64_t)max * 86400) {
        add(pr, p, "the validity of %" APR_INT64_T_FMT " seconds exceeds the %d days allowed at "
                   "this date", na - nb + 1, max);
    }
    if (nb > now + 86400 || nb < now - 2 * 86400) {
        add(pr, p, "notBefore is more than a day away from the issuance time");
    }
    lint_key(p, pr, pk);
    lint_sig(p, pr, x);
    lint_names(p, pr, x);
    lint_usage(p, pr, x, pk);
    lint_policies(p, pr, x);
    lint_urls(p, pr, x);
    lint_serial(p, pr, x);
    lint_issuer(p, pr, x, issuer);
    EVP_PKEY_free(own);
    ERR_clear_error();
    return pr->nelts ? APR_EGENERAL : APR_SUCCESS;
}
