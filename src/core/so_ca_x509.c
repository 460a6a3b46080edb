/* mod_sslorders: the built-in CA: OpenSSL helpers (keys, certificates, extensions)
 * and the CA's files. See so_ca_int.h. */
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

/* ---- helpers ------------------------------------------------------------------------ */

/* The most recent OpenSSL error as text (or fallback), and the queue cleared. */
const char *so_ca_ossl_why(apr_pool_t *p, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? apr_psprintf(p, "%s: %s", what, r) : what;
}

apr_status_t so_ca_free_x509(void *d)
{
    X509_free(d);
    return APR_SUCCESS;
}

apr_status_t so_ca_free_pkey(void *d)
{
    EVP_PKEY_free(d);
    return APR_SUCCESS;
}

static apr_status_t free_req(void *d)
{
    X509_REQ_free(d);
    return APR_SUCCESS;
}

static apr_status_t free_name(void *d)
{
    X509_NAME_free(d);
    return APR_SUCCESS;
}

static apr_status_t free_asn1_int(void *d)
{
    ASN1_INTEGER_free(d);
    return APR_SUCCESS;
}

/* ---- pool-owned OpenSSL objects: freed with the pool, NULL when OpenSSL fails ---------- */

X509 *so_ca_x509_new(apr_pool_t *p)
{
    X509 *x = X509_new();
    if (x) {
        apr_pool_cleanup_register(p, x, so_ca_free_x509, apr_pool_cleanup_null);
    }
    return x;
}

X509_NAME *so_ca_name_new(apr_pool_t *p)
{
    X509_NAME *n = X509_NAME_new();
    if (n) {
        apr_pool_cleanup_register(p, n, free_name, apr_pool_cleanup_null);
    }
    return n;
}

X509_REQ *so_ca_req_read(apr_pool_t *p, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (req) {
        apr_pool_cleanup_register(p, req, free_req, apr_pool_cleanup_null);
    }
    return req;
}

ASN1_INTEGER *so_ca_serial_new(apr_pool_t *p)
{
    ASN1_INTEGER *serial = NULL;
    if (so_ca_random_serial(&serial) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_cleanup_register(p, serial, free_asn1_int, apr_pool_cleanup_null);
    return serial;
}

const char *so_ca_bio_text(apr_pool_t *p, BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    return apr_pstrmemdup(p, data, n > 0 ? (apr_size_t)n : 0);
}

const char *so_ca_x509_pem(apr_pool_t *p, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    const char *s = NULL;
    if (b && PEM_write_bio_X509(b, x)) {
        s = so_ca_bio_text(p, b);
    }
    BIO_free(b);
    return s;
}

const unsigned char *so_ca_x509_der(apr_pool_t *p, X509 *x, apr_size_t *len)
{
    int n = i2d_X509(x, NULL);
    unsigned char *buf, *q;
    if (n <= 0) {
        return NULL;
    }
    buf = q = apr_palloc(p, (apr_size_t)n);
    i2d_X509(x, &q);
    *len = (apr_size_t)n;
    return buf;
}

/* The digest a key signs with: SHA-384 for P-384, SHA-256 otherwise. */
const EVP_MD *so_ca_md_for(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256) {
        return EVP_sha384();
    }
    return EVP_sha256();
}

int so_ca_set_time(ASN1_TIME *t, apr_int64_t epoch)
{
    return ASN1_TIME_set(t, (time_t)epoch) != NULL;
}

/* A random positive serial of 16 bytes (top bit cleared, never zero). */
apr_status_t so_ca_random_serial(ASN1_INTEGER **out)
{
    unsigned char b[16];
    BIGNUM *bn = NULL;
    apr_status_t rv = APR_EGENERAL;

    do {
        if (so_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
            goto leave;
        }
        b[0] &= 0x7f;
        BN_free(bn);
        if (!(bn = BN_bin2bn(b, sizeof(b), NULL))) {
            goto leave;
        }
    } while (BN_is_zero(bn));
    if ((*out = BN_to_ASN1_INTEGER(bn, NULL)) != NULL) {
        rv = APR_SUCCESS;
    }
leave:
    BN_free(bn);
    return rv;
}

const char *so_ca_serial_hex(apr_pool_t *p, const ASN1_INTEGER *ai)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL;
    const char *s = h ? so_str_lower(p, h) : NULL;
    OPENSSL_free(h);
    BN_free(bn);
    return s;
}

/* Add an extension given in OpenSSL's configuration syntax (constant values only). */
int so_ca_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static GENERAL_NAME *so_ca_uri_name(const char *uri)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (!gn || !s || !ASN1_STRING_set(s, uri, (int)strlen(uri))) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    return gn;
}

int so_ca_add_aia(X509 *x, const char *url)
{
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    int ok = 0;

    if (!aia || !ad) {
        goto leave;
    }
    GENERAL_NAME_free(ad->location);
    if (!(ad->location = so_ca_uri_name(url))) {
        goto leave;
    }
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(NID_ad_ca_issuers);
    if (!sk_ACCESS_DESCRIPTION_push(aia, ad)) {
        goto leave;
    }
    ad = NULL;
    ok = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) == 1;
leave:
    ACCESS_DESCRIPTION_free(ad);
    AUTHORITY_INFO_ACCESS_free(aia);
    return ok;
}

int so_ca_add_cdp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *cdp = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    GENERAL_NAME *gn = NULL;
    int ok = 0;

    if (!cdp || !dp || !(dp->distpoint = DIST_POINT_NAME_new())) {
        goto leave;
    }
    dp->distpoint->type = 0; /* fullName */
    if (!(dp->distpoint->name.fullname = GENERAL_NAMES_new()) || !(gn = so_ca_uri_name(url))
        || !sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn)) {
        goto leave;
    }
    gn = NULL;
    if (!sk_DIST_POINT_push(cdp, dp)) {
        goto leave;
    }
    dp = NULL;
    ok = X509_add1_ext_i2d(x, NID_crl_distribution_points, cdp, 0, X509V3_ADD_DEFAULT) == 1;
leave:
    GENERAL_NAME_free(gn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(cdp);
    return ok;
}

/* certificatePolicies with one policy OID and no qualifiers (BR 7.1.2.7.9). */
int so_ca_add_policy(X509 *x, const char *oid)
{
    CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
    POLICYINFO *pi = POLICYINFO_new();
    int ok = 0;

    if (!pols || !pi) {
        goto leave;
    }
    ASN1_OBJECT_free(pi->policyid);
    if (!(pi->policyid = OBJ_txt2obj(oid, 1)) || !sk_POLICYINFO_push(pols, pi)) {
        goto leave;
    }
    pi = NULL;
    ok = X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT) == 1;
leave:
    POLICYINFO_free(pi);
    CERTIFICATEPOLICIES_free(pols);
    return ok;
}

int so_ca_add_san(X509 *x, const apr_array_header_t *names)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    int i, ok = 0;

    if (!gens) {
        return 0;
    }
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (!gn || !s || !ASN1_STRING_set(s, n, (int)strlen(n))) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(s);
            goto leave;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, s);
        if (!sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            goto leave;
        }
    }
    ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
leave:
    GENERAL_NAMES_free(gens);
    return ok;
}

/* The certificate's SubjectPublicKeyInfo as a copy of the CSR's (X509_set_pubkey would
 * encode the key again through OpenSSL's encoders: slower than signing an EC certificate). */
int so_ca_copy_spki(X509 *x, X509_REQ *req)
{
    X509_PUBKEY *src = X509_REQ_get_X509_PUBKEY(req), *dst = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *alg_obj;
    const unsigned char *bits;
    int nbits, ptype;
    X509_ALGOR *alg;
    const void *pval;
    void *param = NULL;
    unsigned char *copy;

    if (!src || !dst || !X509_PUBKEY_get0_param(&alg_obj, &bits, &nbits, &alg, src) || !alg
        || nbits <= 0) {
        return 0;
    }
    X509_ALGOR_get0((const ASN1_OBJECT **)&alg_obj, &ptype, &pval, alg);
    if (ptype == V_ASN1_OBJECT) {
        param = OBJ_dup(pval);
    }
    else if (ptype == V_ASN1_SEQUENCE) {
        param = ASN1_STRING_dup(pval);
    }
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
        return 0;
    }
    if ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) && !param) {
        return 0;
    }
    if (!(copy = OPENSSL_memdup(bits, (size_t)nbits))
        || !X509_PUBKEY_set0_param(dst, OBJ_dup(alg_obj), ptype, param, copy, nbits)) {
        OPENSSL_free(copy);
        if (ptype == V_ASN1_OBJECT) {
            ASN1_OBJECT_free(param);
        }
        else {
            ASN1_STRING_free(param);
        }
        return 0;
    }
    return 1;
}

int so_ca_add_name_entry(X509_NAME *n, int nid, const char *value)
{
    return X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                      -1, 0);
}

/* A subject attribute value: printable UTF-8 without control characters, 1..max bytes. */
int so_ca_attr_ok(const char *s, apr_size_t max)
{
    apr_size_t i, n = s ? strlen(s) : 0;
    if (n == 0 || n > max || !so_str_is_printable_utf8(s, n)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return s[0] != ' ' && s[n - 1] != ' ';
}

int so_ca_country_ok(const char *s)
{
    return s && strlen(s) == 2 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]);
}

apr_status_t so_ca_key_type_parse(const char *name, so_ca_key_type_t *out)
{
    static const struct {
        const char *name;
        so_ca_key_type_t type;
    } types[] = {{"ec-p256", SO_CA_KEY_EC_P256},   {"ec-p384", SO_CA_KEY_EC_P384},
                 {"rsa-2048", SO_CA_KEY_RSA2048}, {"rsa-3072", SO_CA_KEY_RSA3072},
                 {"rsa-4096", SO_CA_KEY_RSA4096}};
    size_t i;
    for (i = 0; name && i < sizeof(types) / sizeof(types[0]); i++) {
        if (!strcmp(name, types[i].name)) {
            *out = types[i].type;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

EVP_PKEY *so_ca_gen_key(so_ca_key_type_t type)
{
    switch (type) {
    case SO_CA_KEY_EC_P256:
        return EVP_EC_gen("P-256");
    case SO_CA_KEY_RSA2048:
        return EVP_RSA_gen(2048);
    case SO_CA_KEY_RSA3072:
        return EVP_RSA_gen(3072);
    case SO_CA_KEY_RSA4096:
        return EVP_RSA_gen(4096);
    case SO_CA_KEY_EC_P384:
    case SO_CA_KEY_DEFAULT:
    default:
        return EVP_EC_gen("P-384");
    }
}

/* ---- files -------------------------------------------------------------------------- */

/* Write data to dir/name through a temporary file and a rename, with mode perms. */
apr_status_t so_ca_write_atomic(apr_pool_t *p, const char *dir, const char *name, const char *data,
                                 apr_fileperms_t perms, const char **why)
{
    char *tmpl = apr_pstrcat(p, dir, "/.", name, ".XXXXXX", NULL);
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_file_t *f = NULL;
    apr_size_t len = strlen(data);
    apr_status_t rv;

    if ((rv = apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p))
        != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot create a file in %s", dir);
        goto leave;
    }
    if ((rv = apr_file_perms_set(tmpl, perms)) != APR_SUCCESS
        || (rv = apr_file_write_full(f, data, len, NULL)) != APR_SUCCESS
        || (rv = apr_file_sync(f)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot write %s", tmpl);
        goto leave;
    }
    rv = apr_file_close(f);
    f = NULL;
    if (rv != APR_SUCCESS || (rv = apr_file_rename(tmpl, path, p)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot write %s", path);
        goto leave;
    }
leave:
    if (f) {
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        apr_file_remove(tmpl, p);
    }
    return rv;
}

void so_ca_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

const char *so_ca_key_pem(apr_pool_t *p, EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    const char *s = NULL;
    if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
        s = so_ca_bio_text(p, b);
    }
    BIO_free(b);
    return s;
}

apr_status_t so_ca_read_cert(X509 **out, apr_pool_t *p, const char *path, const char **why)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x) {
        *why = so_ca_ossl_why(p, apr_psprintf(p, "cannot read the certificate %s", path));
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, x, so_ca_free_x509, apr_pool_cleanup_null);
    *out = x;
    return APR_SUCCESS;
}

apr_status_t so_ca_read_key(EVP_PKEY **out, apr_pool_t *p, const char *path, const char **why)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    apr_finfo_t fi;

    BIO_free(b);
    if (!k) {
        *why = so_ca_ossl_why(p, apr_psprintf(p, "cannot read the private key %s (PEM, unencrypted)",
                                        path));
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, k, so_ca_free_pkey, apr_pool_cleanup_null);
    if (apr_stat(&fi, path, APR_FINFO_PROT, p) == APR_SUCCESS
        && (fi.protection & (APR_FPROT_GREAD | APR_FPROT_WREAD | APR_FPROT_GWRITE
                             | APR_FPROT_WWRITE))) {
        so_log_warn(SO_LOG_MARK, APR_SUCCESS,
                    SOLOGNO(00200) "the CA key %s is readable by others than its owner "
                                   "(chmod 600 it)", path);
    }
    *out = k;
    return APR_SUCCESS;
}

