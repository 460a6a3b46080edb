/* The built-in CA: creating and reloading the hierarchy, the leaf profile (DV, OV, EV),
 * the validity caps, refusals, CRLs, and `openssl verify -x509_strict` on the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_common.h"
#include "../../src/core/so_ca.h"
#include "../../src/core/so_csr.h"
#include "../../src/core/so_keyblock.h"
#include "../../src/core/so_lint.h"
#include "../../src/core/so_util.h"

/* 2026-06-01 00:00:00 UTC: after the 200-day cap started, before the 100-day one */
#define NOW 1780272000

static apr_pool_t *pool;
static const char *tmp;

/* ---- helpers shared with the other tests (test_common.h) ----------------------------- */

const char *so_test_csr_key(apr_pool_t *p, const char *type, const char *const *names,
                            const unsigned char **der, apr_size_t *der_len, EVP_PKEY **keyp)
{
    EVP_PKEY *key;
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subj = X509_NAME_new();
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext;
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *pem;
    int i;

    if (strcmp(type, "rsa2048") == 0) {
        key = EVP_RSA_gen(2048);
    }
    else if (strcmp(type, "rsa1024") == 0) {
        key = EVP_RSA_gen(1024);
    }
    else if (strcmp(type, "ec384") == 0) {
        key = EVP_EC_gen("P-384");
    }
    else if (strcmp(type, "ec521") == 0) {
        key = EVP_EC_gen("P-521");
    }
    else if (strcmp(type, "ed25519") == 0) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    else {
        key = EVP_EC_gen("P-256");
    }
    ck_assert_ptr_nonnull(key);
    X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                               (const unsigned char *)names[0], -1, -1, 0);
    X509_REQ_set_subject_name(req, subj);
    for (i = 0; names[i]; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, names[i], -1);
        GENERAL_NAME_set0_value(gn, GEN_DNS, s);
        sk_GENERAL_NAME_push(gens, gn);
    }
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req, exts);
    X509_REQ_set_pubkey(req, key);
    ck_assert_int_gt(X509_REQ_sign(req, key, strcmp(type, "ed25519") ? EVP_sha256() : NULL), 0);
    PEM_write_bio_X509_REQ(b, req);
    n = BIO_get_mem_data(b, &data);
    pem = apr_pstrmemdup(p, data, (apr_size_t)n);
    if (der) {
        unsigned char *q;
        int len = i2d_X509_REQ(req, NULL);
        *der = q = apr_palloc(p, (apr_size_t)len);
        i2d_X509_REQ(req, &q);
        *der_len = (apr_size_t)len;
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(subj);
    X509_REQ_free(req);
    BIO_free(b);
    if (keyp) {
        *keyp = key;
    }
    else {
        EVP_PKEY_free(key);
    }
    return pem;
}

const char *so_test_csr(apr_pool_t *p, const char *type, const char *const *names,
                        const unsigned char **der, apr_size_t *der_len)
{
    return so_test_csr_key(p, type, names, der, der_len, NULL);
}

/* ---- local helpers --------------------------------------------------------------------- */

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    tmp = so_test_tmpdir(pool);
}

static void teardown(void)
{
    so_test_rmtree(tmp);
    apr_pool_destroy(pool);
}

static so_ca_t *new_ca(const char *dir, const so_ca_opts_t *opts)
{
    so_ca_t *ca = NULL;
    const char *why = NULL;
    apr_status_t rv = so_ca_init(&ca, pool, dir, opts, NOW, &why);
    ck_assert_msg(rv == APR_SUCCESS, "so_ca_init: %s", why ? why : "?");
    return ca;
}

static X509 *pem_x509(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    ck_assert_ptr_nonnull(x);
    return x;
}

static apr_array_header_t *names_of(const char *const *names)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(const char *));
    int i;
    for (i = 0; names[i]; i++) {
        APR_ARRAY_PUSH(a, const char *) = names[i];
    }
    return a;
}

static so_ca_issue_req_t dv_req(const char *csr, const char *const *names)
{
    so_ca_issue_req_t r;
    memset(&r, 0, sizeof(r));
    r.csr_pem = csr;
    r.names = names_of(names);
    r.validation = SO_CA_DV;
    r.days = 365;
    r.base_url = "http://ca.example.net/";
    r.now = NOW;
    return r;
}

static so_ca_cert_t *issue_ok(so_ca_t *ca, const so_ca_issue_req_t *r)
{
    so_ca_cert_t *c = NULL;
    const char *why = NULL;
    apr_status_t rv = so_ca_issue(&c, ca, pool, r, &why);
    ck_assert_msg(rv == APR_SUCCESS, "so_ca_issue: %s", why ? why : "?");
    ck_assert_ptr_nonnull(c);
    return c;
}

static const char *issue_fails(so_ca_t *ca, const so_ca_issue_req_t *r)
{
    so_ca_cert_t *c = NULL;
    const char *why = NULL;
    ck_assert_int_ne(so_ca_issue(&c, ca, pool, r, &why), APR_SUCCESS);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(why);
    return why;
}

/* X509_verify_cert with X509_V_FLAG_X509_STRICT at time t; returns the error code. */
static int verify_strict(so_ca_t *ca, X509 *leaf, apr_int64_t t, X509_CRL *crl)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok, err;

    X509_STORE_add_cert(store, so_ca_root_x509(ca));
    if (crl) {
        X509_STORE_add_crl(store, crl);
    }
    sk_X509_push(untrusted, so_ca_intermediate_x509(ca));
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT | (crl ? X509_V_FLAG_CRL_CHECK : 0));
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)t);
    ok = X509_verify_cert(ctx);
    err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    ck_assert(ok == 1 || err != X509_V_OK);
    return ok == 1 ? X509_V_OK : err;
}

static int ext_critical(X509 *x, int nid)
{
    int loc = X509_get_ext_by_NID(x, nid, -1);
    ck_assert_msg(loc >= 0, "extension %s missing", OBJ_nid2sn(nid));
    return X509_EXTENSION_get_critical(X509_get_ext(x, loc));
}

static apr_int64_t asn1_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    ck_assert(ASN1_TIME_to_tm(t, &tm));
    return (apr_int64_t)timegm(&tm);
}

/* The subject as "C=..,ST=..,CN=.." in DER order. */
static const char *subject_str(X509 *x)
{
    X509_NAME *n = X509_get_subject_name(x);
    const char *s = "";
    int i;
    for (i = 0; i < X509_NAME_entry_count(n); i++) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
        unsigned char *u = NULL;
        ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
        s = apr_psprintf(pool, "%s%s%s=%s", s, i ? "," : "",
                         OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))), u);
        OPENSSL_free(u);
    }
    return s;
}

static const char *sans_str(X509 *x)
{
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const char *s = "";
    int i;
    ck_assert_ptr_nonnull(g);
    for (i = 0; i < sk_GENERAL_NAME_num(g); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
        ck_assert_int_eq(gn->type, GEN_DNS);
        s = apr_psprintf(pool, "%s%s%s", s, i ? "," : "",
                         (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
    }
    GENERAL_NAMES_free(g);
    return s;
}

static const char *policies_str(X509 *x)
{
    CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
    const char *s = "";
    char buf[80];
    int i;
    ck_assert_ptr_nonnull(cp);
    for (i = 0; i < sk_POLICYINFO_num(cp); i++) {
        POLICYINFO *pi = sk_POLICYINFO_value(cp, i);
        OBJ_obj2txt(buf, sizeof(buf), pi->policyid, 1);
        ck_assert_ptr_null(pi->qualifiers);
        s = apr_psprintf(pool, "%s%s%s", s, i ? "," : "", buf);
    }
    CERTIFICATEPOLICIES_free(cp);
    return s;
}

static const char *aia_str(X509 *x)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    const char *s = "";
    int i;
    ck_assert_ptr_nonnull(aia);
    for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        ck_assert_int_eq(ad->location->type, GEN_URI);
        s = apr_psprintf(pool, "%s%s%s=%s", s, i ? "," : "", OBJ_nid2sn(OBJ_obj2nid(ad->method)),
                         (const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier));
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return s;
}

static const char *cdp_str(X509 *x)
{
    CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    DIST_POINT *dp;
    GENERAL_NAME *gn;
    const char *s;
    ck_assert_ptr_nonnull(cdp);
    ck_assert_int_eq(sk_DIST_POINT_num(cdp), 1);
    dp = sk_DIST_POINT_value(cdp, 0);
    ck_assert_int_eq(dp->distpoint->type, 0);
    ck_assert_int_eq(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
    gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
    ck_assert_int_eq(gn->type, GEN_URI);
    s = apr_pstrdup(pool, (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
    CRL_DIST_POINTS_free(cdp);
    return s;
}

/* The checks every leaf must pass, whatever its level and key. */
static X509 *check_leaf(so_ca_t *ca, so_ca_cert_t *c, int rsa)
{
    X509 *x = pem_x509(c->pem), *inter = so_ca_intermediate_x509(ca);
    const unsigned char *d = c->der;
    X509 *xd = d2i_X509(NULL, &d, (long)c->der_len);
    BASIC_CONSTRAINTS *bc;
    EXTENDED_KEY_USAGE *eku;
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    char *hex = BN_bn2hex(bn);
    unsigned char md[32];
    unsigned int mdlen = sizeof(md);

    /* DER and PEM are the same certificate; the chain is leaf + intermediate */
    ck_assert_ptr_nonnull(xd);
    ck_assert_int_eq(X509_cmp(x, xd), 0);
    X509_free(xd);
    ck_assert_str_eq(c->chain_pem, apr_pstrcat(pool, c->pem, so_ca_intermediate_pem(ca), NULL));
    ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
    /* the key's fingerprint, as the blocked-key checks compute it from the PEM */
    {
        const char *spki = NULL;
        ck_assert_int_eq(so_keyblock_cert_spki(pool, c->pem, &spki), APR_SUCCESS);
        ck_assert_str_eq(c->spki_sha256, spki);
    }

    /* chain, strictly, as a TLS server certificate */
    ck_assert_int_eq(verify_strict(ca, x, NOW + 60, NULL), X509_V_OK);
    ck_assert_int_eq(verify_strict(ca, x, c->not_after + 1, NULL), X509_V_ERR_CERT_HAS_EXPIRED);
    ck_assert_int_eq(verify_strict(ca, x, NOW - 1, NULL), X509_V_ERR_CERT_NOT_YET_VALID);

    /* serial: positive, 16 bytes at most, at least 64 bits, reported in lower-case hex */
    ck_assert_int_eq(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    ck_assert(!BN_is_negative(bn) && !BN_is_zero(bn));
    ck_assert_int_le(ASN1_STRING_length(sn), 16);
    ck_assert_int_ge(BN_num_bits(bn), 64);
    ck_assert_int_le(BN_num_bits(bn), 127);
    ck_assert_str_eq(c->serial, so_str_lower(pool, hex));
    OPENSSL_free(hex);
    BN_free(bn);

    /* fingerprint */
    X509_digest(x, EVP_sha256(), md, &mdlen);
    ck_assert_str_eq(c->sha256, so_hex(pool, md, mdlen, 0));

    /* validity */
    ck_assert_int_eq(asn1_epoch(X509_get0_notBefore(x)), c->not_before);
    ck_assert_int_eq(asn1_epoch(X509_get0_notAfter(x)), c->not_after);
    ck_assert_int_eq(c->not_after - c->not_before + 1, (apr_int64_t)c->days * 86400);

    /* basicConstraints critical CA:FALSE */
    ck_assert(ext_critical(x, NID_basic_constraints));
    bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    ck_assert_int_eq(bc->ca, 0);
    BASIC_CONSTRAINTS_free(bc);
    ck_assert_int_eq(X509_check_ca(x), 0);

    /* keyUsage critical, by key type */
    ck_assert(ext_critical(x, NID_key_usage));
    ck_assert_uint_eq(X509_get_key_usage(x),
                      rsa ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) : KU_DIGITAL_SIGNATURE);

    /* EKU: serverAuth only, not critical */
    ck_assert(!ext_critical(x, NID_ext_key_usage));
    eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    ck_assert_int_eq(sk_ASN1_OBJECT_num(eku), 1);
    ck_assert_int_eq(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);

    /* key identifiers: AKI = the intermediate's SKI, an SKI of our own */
    ck_assert(!ext_critical(x, NID_subject_key_identifier));
    ck_assert(!ext_critical(x, NID_authority_key_identifier));
    ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
    ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                           X509_get0_subject_key_id(inter)), 0);

    /* AIA and CDP from the base URL (trailing slash dropped) */
    ck_assert_str_eq(aia_str(x), "caIssuers=http://ca.example.net/pki/intermediate.crt");
    ck_assert_str_eq(cdp_str(x), "http://ca.example.net/pki/crl");
    ck_assert(!ext_critical(x, NID_subject_alt_name));
    ck_assert(!ext_critical(x, NID_certificate_policies));

    /* issuer, signature algorithm of the P-384 intermediate */
    ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(inter)), 0);
    ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
    return x;
}

#include <openssl/core_names.h>
#include <openssl/param_build.h>

/* A CSR signed by an RSA key whose 2048-bit modulus is 3 * q (a broken key that still signs). */
static const char *small_factor_csr(void)
{
    BIGNUM *q = BN_new(), *n = BN_new(), *three = BN_new(), *e = BN_new(), *d = BN_new(),
           *qm1 = BN_new();
    BN_CTX *bctx = BN_CTX_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;
    X509_REQ *req = X509_REQ_new();
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len;
    const char *pem;

    BN_set_word(three, 3);
    BN_set_word(e, 65537);
    do {
        ck_assert(BN_generate_prime_ex(q, 2046, 0, NULL, NULL, NULL));
        BN_mul(n, q, three, bctx);
        BN_sub(qm1, q, BN_value_one());
    } while (BN_num_bits(n) != 2048 || !BN_mod_inverse(d, e, qm1, bctx));
    /* q has its top two bits set, so 3q has 2048 bits; d = e^-1 mod lcm(2, q-1) = (q-1) */
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_int_eq(EVP_PKEY_fromdata_init(kctx), 1);
    ck_assert_int_eq(EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_KEYPAIR, params), 1);
    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName, MBSTRING_UTF8,
                               (const unsigned char *)"www.example.com", -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
    PEM_write_bio_X509_REQ(b, req);
    len = BIO_get_mem_data(b, &data);
    pem = apr_pstrmemdup(pool, data, (apr_size_t)len);
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(kctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_CTX_free(bctx);
    BN_free(q);
    BN_free(n);
    BN_free(three);
    BN_free(e);
    BN_free(d);
    BN_free(qm1);
    return pem;
}

/* ---- tests --------------------------------------------------------------------------- */

START_TEST(ca_create_and_reload)
{
    so_ca_opts_t o = {.organization = "Example Trust", .country = "NL", .tag = "Pki.Example.NET"};
    so_ca_t *ca = new_ca(tmp, &o), *again;
    X509 *root = so_ca_root_x509(ca), *inter = so_ca_intermediate_x509(ca);
    BASIC_CONSTRAINTS *bc;
    struct stat st;
    const unsigned char *der;
    apr_size_t len;
    const char *why = NULL;

    ck_assert_int_eq(so_ca_created(ca), 1);
    ck_assert_str_eq(so_ca_tag(ca), "pki.example.net");
    ck_assert_str_eq(subject_str(root), "C=NL,O=Example Trust,CN=Example Trust Root CA");
    ck_assert_str_eq(subject_str(inter), "C=NL,O=Example Trust,CN=Example Trust Issuing CA");

    /* files and modes */
    ck_assert_int_eq(stat(apr_pstrcat(pool, tmp, "/root.key", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(apr_pstrcat(pool, tmp, "/intermediate.key", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(apr_pstrcat(pool, tmp, "/root.crt", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(stat(apr_pstrcat(pool, tmp, "/intermediate.crt", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);

    /* root: self-signed P-384, 20 years, CA extensions */
    ck_assert_int_eq(X509_check_issued(root, root), X509_V_OK);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_get0_pubkey(root)), 384);
    ck_assert_int_eq(asn1_epoch(X509_get0_notBefore(root)), NOW);
    ck_assert_int_eq(asn1_epoch(X509_get0_notAfter(root)), NOW + 7305LL * 86400 - 1);
    ck_assert(ext_critical(root, NID_basic_constraints));
    bc = X509_get_ext_d2i(root, NID_basic_constraints, NULL, NULL);
    ck_assert(bc->ca);
    ck_assert_int_eq(ASN1_INTEGER_get(bc->pathlen), 1);
    BASIC_CONSTRAINTS_free(bc);
    ck_assert(ext_critical(root, NID_key_usage));
    ck_assert_uint_eq(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    ck_assert_ptr_nonnull(X509_get0_subject_key_id(root));

    /* intermediate: signed by the root, 10 years, pathlen 0, AKI = root SKI */
    ck_assert_int_eq(X509_check_issued(root, inter), X509_V_OK);
    ck_assert_int_eq(X509_verify(inter, X509_get0_pubkey(root)), 1);
    ck_assert_int_eq(asn1_epoch(X509_get0_notAfter(inter)), NOW + 3653LL * 86400 - 1);
    ck_assert(ext_critical(inter, NID_basic_constraints));
    bc = X509_get_ext_d2i(inter, NID_basic_constraints, NULL, NULL);
    ck_assert(bc->ca);
    ck_assert_int_eq(ASN1_INTEGER_get(bc->pathlen), 0);
    BASIC_CONSTRAINTS_free(bc);
    ck_assert(ext_critical(inter, NID_key_usage));
    ck_assert_uint_eq(X509_get_key_usage(inter), KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    ck_assert_ptr_nonnull(X509_get0_subject_key_id(inter));
    ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter),
                                           X509_get0_subject_key_id(root)), 0);
    ck_assert_int_eq(X509_get_extended_key_usage(inter), XKU_SSL_SERVER | XKU_SSL_CLIENT);
    ck_assert_int_eq(verify_strict(ca, inter, NOW + 1, NULL), X509_V_OK);

    /* getters agree with each other */
    der = so_ca_root_der(ca, &len);
    {
        const unsigned char *d = der;
        X509 *x = d2i_X509(NULL, &d, (long)len);
        ck_assert_int_eq(X509_cmp(x, root), 0);
        X509_free(x);
    }
    der = so_ca_intermediate_der(ca, &len);
    ck_assert_uint_gt(len, 300);
    ck_assert_str_eq(so_ca_chain_pem(ca),
                     apr_pstrcat(pool, so_ca_intermediate_pem(ca), so_ca_root_pem(ca), NULL));

    /* reloaded from disk: the same certificates, not created again, a default tag */
    again = new_ca(tmp, NULL);
    ck_assert_int_eq(so_ca_created(again), 0);
    ck_assert_str_eq(so_ca_root_pem(again), so_ca_root_pem(ca));
    ck_assert_str_eq(so_ca_intermediate_pem(again), so_ca_intermediate_pem(ca));
    ck_assert_str_eq(so_ca_tag(again), SO_CA_DEFAULT_TAG);

    /* an expired intermediate is refused */
    ck_assert_int_ne(so_ca_init(&again, pool, tmp, NULL, NOW + 3653LL * 86400, &why), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(why, "expired"));
}
END_TEST

START_TEST(ca_broken_dirs)
{
    so_ca_t *ca = NULL, *other;
    const char *why = NULL, *dir2 = apr_pstrcat(pool, tmp, "/b", NULL);
    char cmd[1024];
    so_ca_opts_t o = {.root_key = SO_CA_KEY_EC_P256};

    new_ca(tmp, &o);
    other = new_ca(dir2, &o);
    ck_assert_int_eq(so_ca_created(other), 1);

    /* a key that does not belong to the certificate */
    snprintf(cmd, sizeof(cmd), "cp %s/b/intermediate.key %s/intermediate.key", tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(so_ca_init(&ca, pool, tmp, NULL, NOW, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "intermediate.key does not belong to intermediate.crt"));

    /* an intermediate of another root */
    snprintf(cmd, sizeof(cmd), "cp %s/b/intermediate.key %s/b/intermediate.crt %s/", tmp, tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(so_ca_init(&ca, pool, tmp, NULL, NOW, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "is not signed by root.crt"));

    /* an incomplete directory is never completed or overwritten */
    snprintf(cmd, sizeof(cmd), "rm %s/b/root.key", tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(so_ca_init(&ca, pool, dir2, NULL, NOW, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "root.key is missing"));
    ck_assert_ptr_null(ca);

    /* garbage in a certificate file */
    snprintf(cmd, sizeof(cmd), "echo garbage > %s/b/root.key", tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(so_ca_init(&ca, pool, dir2, NULL, NOW, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "cannot read the private key"));

    /* bad options */
    o.country = "Netherlands";
    ck_assert_int_eq(so_ca_init(&ca, pool, apr_pstrcat(pool, tmp, "/c", NULL), &o, NOW, &why),
                     APR_EINVAL);
    o.country = NULL;
    o.tag = "not a domain";
    ck_assert_int_eq(so_ca_init(&ca, pool, apr_pstrcat(pool, tmp, "/c", NULL), &o, NOW, &why),
                     APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "CA tag"));
}
END_TEST

/* the key types by name (sslordersctl ca init --key, SSLOrdersCAKey) */
START_TEST(key_type_names)
{
    static const struct {
        const char *name;
        so_ca_key_type_t type;
    } ok[] = {{"ec-p256", SO_CA_KEY_EC_P256},   {"ec-p384", SO_CA_KEY_EC_P384},
              {"rsa-2048", SO_CA_KEY_RSA2048}, {"rsa-3072", SO_CA_KEY_RSA3072},
              {"rsa-4096", SO_CA_KEY_RSA4096}};
    static const char *const bad[] = {"", "p256", "EC-P256", "rsa-1024", "ec-p521", "rsa"};
    so_ca_key_type_t t;
    size_t i;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        t = SO_CA_KEY_DEFAULT;
        ck_assert_int_eq(so_ca_key_type_parse(ok[i].name, &t), APR_SUCCESS);
        ck_assert_int_eq(t, ok[i].type);
        ck_assert_ptr_nonnull(strstr(SO_CA_KEY_NAMES, ok[i].name));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = SO_CA_KEY_RSA4096;
        ck_assert_int_eq(so_ca_key_type_parse(bad[i], &t), APR_EINVAL);
        ck_assert_int_eq(t, SO_CA_KEY_RSA4096);
    }
    ck_assert_int_eq(so_ca_key_type_parse(NULL, &t), APR_EINVAL);
}
END_TEST

START_TEST(issue_dv_ec)
{
    static const char *const names[] = {"www.example.com", "Example.COM", "*.shop.example.com",
                                        "www.example.com", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    EVP_PKEY *key = NULL;
    so_ca_issue_req_t r = dv_req(so_test_csr_key(pool, "ec256", names, NULL, NULL, &key), names);
    so_ca_cert_t *c = issue_ok(ca, &r);
    X509 *x = check_leaf(ca, c, 0);

    /* the key of the CSR, its SubjectPublicKeyInfo as the CSR encodes it */
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
    EVP_PKEY_free(key);
    {
        so_csr_t *csr;
        const char *why = NULL;
        ck_assert_int_eq(so_csr_parse(pool, r.csr_pem, &csr, &why), APR_SUCCESS);
        ck_assert_str_eq(c->spki_sha256, csr->spki_req_sha256);
    }

    /* DV: CN only, the first name; every name in the SAN once, lower case */
    ck_assert_str_eq(subject_str(x), "CN=www.example.com");
    ck_assert_str_eq(sans_str(x), "www.example.com,example.com,*.shop.example.com");
    ck_assert_str_eq(policies_str(x), "2.23.140.1.2.1");
    /* 365 days requested, 200 granted (BR since 2026-03-15) */
    ck_assert_int_eq(c->days, 200);
    ck_assert_int_eq(c->not_before, NOW);
    ck_assert_int_eq(c->not_after, NOW + 200LL * 86400 - 1);
    ck_assert_int_eq(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
    X509_free(x);

    /* two leaves never share a serial */
    ck_assert_str_ne(issue_ok(ca, &r)->serial, c->serial);
}
END_TEST

START_TEST(issue_ov_rsa)
{
    static const char *const names[] = {"shop.example.org", "example.org", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    EVP_PKEY *key = NULL;
    so_ca_issue_req_t r = dv_req(so_test_csr_key(pool, "rsa2048", names, NULL, NULL, &key), names);
    so_ca_cert_t *c;
    X509 *x;

    r.validation = SO_CA_OV;
    r.organization = "Example B.V.";
    r.locality = "Amsterdam";
    r.state = "Noord-Holland";
    r.country = "NL";
    r.days = 90;
    c = issue_ok(ca, &r);
    x = check_leaf(ca, c, 1);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
    EVP_PKEY_free(key);
    ck_assert_str_eq(subject_str(x), "C=NL,ST=Noord-Holland,L=Amsterdam,O=Example B.V.,"
                                     "CN=shop.example.org");
    ck_assert_str_eq(sans_str(x), "shop.example.org,example.org");
    ck_assert_str_eq(policies_str(x), "2.23.140.1.2.2");
    ck_assert_int_eq(c->days, 90);
    /* countryName is a PrintableString, the others UTF8String */
    ck_assert_int_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
                         X509_NAME_get_entry(X509_get_subject_name(x), 0))), V_ASN1_PRINTABLESTRING);
    ck_assert_int_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
                         X509_NAME_get_entry(X509_get_subject_name(x), 3))), V_ASN1_UTF8STRING);
    X509_free(x);

    /* OV without an organization, or with a bad country, is refused */
    r.organization = NULL;
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "organization"));
    r.organization = "Example B.V.";
    r.country = "nl";
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "country"));
    r.country = "NL";
    r.locality = r.state = NULL;
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "locality"));
}
END_TEST

START_TEST(issue_ev)
{
    static const char *const names[] = {"www.example.com", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    so_ca_issue_req_t r = dv_req(so_test_csr(pool, "ec384", names, NULL, NULL), names);
    X509 *x;

    r.validation = SO_CA_EV;
    r.organization = "Example Inc.";
    r.locality = "Wilmington";
    r.state = "Delaware";
    r.country = "US";
    r.business_category = "Private Organization";
    r.jurisdiction_country = "US";
    r.registration_number = "1234567";
    x = check_leaf(ca, issue_ok(ca, &r), 0);
    ck_assert_str_eq(subject_str(x), "businessCategory=Private Organization,"
                                     "jurisdictionC=US,serialNumber=1234567,C=US,ST=Delaware,"
                                     "L=Wilmington,O=Example Inc.,CN=www.example.com");
    ck_assert_str_eq(policies_str(x), "2.23.140.1.1");
    X509_free(x);

    r.business_category = "Charity";
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "business_category"));
    r.business_category = "Private Organization";
    r.jurisdiction_country = NULL;
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "jurisdiction_country"));
}
END_TEST

START_TEST(validity_caps)
{
    static const char *const names[] = {"www.example.com", NULL};
    so_ca_opts_t o = {.max_days = 30};
    so_ca_t *ca = new_ca(tmp, &o);
    so_ca_issue_req_t r = dv_req(so_test_csr(pool, "ec256", names, NULL, NULL), names);
    so_ca_cert_t *c;

    ck_assert_int_eq(so_ca_br_max_days(1773532800 - 1), 398);
    ck_assert_int_eq(so_ca_br_max_days(1773532800), 200);
    ck_assert_int_eq(so_ca_br_max_days(1805068800 - 1), 200);
    ck_assert_int_eq(so_ca_br_max_days(1805068800), 100);
    ck_assert_int_eq(so_ca_br_max_days(1868227200 - 1), 100); /* 2029-03-15 00:00 UTC */
    ck_assert_int_eq(so_ca_br_max_days(1868227200), 47);

    /* the configured maximum */
    c = issue_ok(ca, &r);
    ck_assert_int_eq(c->days, 30);
    r.days = 7;
    ck_assert_int_eq(issue_ok(ca, &r)->days, 7);
    r.days = 0;
    issue_fails(ca, &r);

    /* a year later, the BR cap is 100 days */
    ca = new_ca(apr_pstrcat(pool, tmp, "/b", NULL), NULL);
    r.days = 365;
    r.now = 1805068800 + 86400;
    c = issue_ok(ca, &r);
    ck_assert_int_eq(c->days, 100);
    ck_assert_int_eq(c->not_after - c->not_before + 1, 100LL * 86400);
}
END_TEST

START_TEST(issue_refusals)
{
    static const char *const names[] = {"www.example.com", NULL};
    static const char *const bad_names[] = {"*.com", "com", "co.uk", "*.co.uk", "exa mple.com",
                                            "-a.example.com", "a-.example.com", "a..example.com",
                                            "example.com.", "1.2.3.4", "www.*.example.com",
                                            "ex_ample.com", "localhost", "", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    const char *csr = so_test_csr(pool, "ec256", names, NULL, NULL), *why, *n;
    so_ca_issue_req_t r = dv_req(csr, names);
    char *tampered;
    int i;

    for (i = 0; bad_names[i]; i++) {
        const char *one[] = {bad_names[i], NULL};
        r.names = names_of(one);
        why = issue_fails(ca, &r);
        ck_assert_msg(strstr(why, bad_names[i]) || !*bad_names[i], "%s: %s", bad_names[i], why);
    }
    ck_assert_int_eq(so_ca_check_name(&n, pool, "*.Example.co.uk", &why), APR_SUCCESS);
    ck_assert_str_eq(n, "*.example.co.uk");
    ck_assert_int_ne(so_ca_check_name(&n, pool, apr_psprintf(pool, "%s.com",
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &why),
                     APR_SUCCESS);
    r.names = names_of(names);

    /* a CN longer than 64 characters cannot be the first name */
    {
        const char *one[] = {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", NULL};
        r.names = names_of(one);
        ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "64"));
        r.names = names_of(names);
    }

    /* https (BR: AIA and CRL URLs are http) and junk base URLs */
    r.base_url = "https://ca.example.net";
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "http://"));
    r.base_url = "http://ca.example.net/x?y";
    issue_fails(ca, &r);
    r.base_url = "http://ca.example.net/a b";
    issue_fails(ca, &r);
    r.base_url = "http://ca.example.net";

    /* a CSR whose signature does not verify: one byte of the signature changed */
    tampered = apr_pstrdup(pool, csr);
    {
        char *end = strstr(tampered, "\n-----END");
        ck_assert_ptr_nonnull(end);
        end[-6] = end[-6] == 'A' ? 'B' : 'A';
    }
    r.csr_pem = tampered;
    why = issue_fails(ca, &r);
    ck_assert_msg(strstr(why, "signature") || strstr(why, "PEM"), "%s", why);

    /* keys the BR do not allow */
    r.csr_pem = so_test_csr(pool, "rsa1024", names, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "1024-bit"));
    r.csr_pem = so_test_csr(pool, "ec521", names, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "curve"));
    r.csr_pem = so_test_csr(pool, "ed25519", names, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "ED25519"));
    r.csr_pem = small_factor_csr();
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "small prime factor"));
    r.csr_pem = "not a CSR";
    ck_assert_ptr_nonnull(strstr(issue_fails(ca, &r), "PKCS#10"));
}
END_TEST

START_TEST(crl_revoked)
{
    static const char *const names[] = {"www.example.com", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    so_ca_issue_req_t r = dv_req(so_test_csr(pool, "ec256", names, NULL, NULL), names);
    so_ca_cert_t *a = issue_ok(ca, &r), *b = issue_ok(ca, &r), *good = issue_ok(ca, &r);
    apr_array_header_t *revoked = apr_array_make(pool, 3, sizeof(so_ca_revoked_t));
    so_ca_revoked_t *e;
    so_ca_crl_t *crl = NULL;
    const char *why = NULL;
    X509_CRL *x;
    BIO *bio;
    X509_REVOKED *rev = NULL;
    ASN1_INTEGER *num;
    ASN1_ENUMERATED *reason;
    X509 *leaf;
    int crit;

    e = &APR_ARRAY_PUSH(revoked, so_ca_revoked_t);
    e->serial = apr_pstrdup(pool, a->serial);
    e->revoked_at = NOW + 100;
    e->reason = 1; /* keyCompromise */
    e = &APR_ARRAY_PUSH(revoked, so_ca_revoked_t);
    e->serial = so_str_lower(pool, b->serial); /* either case */
    e->revoked_at = NOW + 200;
    e->reason = 4; /* superseded */
    e = &APR_ARRAY_PUSH(revoked, so_ca_revoked_t);
    e->serial = "0123456789abcdef";
    e->revoked_at = NOW + 300;
    e->reason = 0; /* unspecified: no reasonCode */

    ck_assert_msg(so_ca_crl(&crl, ca, pool, revoked, NOW + 1000, 0, 42, &why) == APR_SUCCESS,
                  "%s", why);
    ck_assert_int_eq(crl->this_update, NOW + 1000);
    ck_assert_int_eq(crl->next_update, NOW + 1000 + 7 * 86400);
    bio = BIO_new_mem_buf(crl->pem, -1);
    x = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ck_assert_ptr_nonnull(x);
    {
        const unsigned char *d = crl->der;
        X509_CRL *xd = d2i_X509_CRL(NULL, &d, (long)crl->der_len);
        ck_assert_int_eq(X509_CRL_cmp(x, xd), 0);
        X509_CRL_free(xd);
    }

    /* signed by the intermediate, v2, AKI, number, times */
    ck_assert_int_eq(X509_CRL_verify(x, X509_get0_pubkey(so_ca_intermediate_x509(ca))), 1);
    ck_assert_int_eq(X509_CRL_get_version(x), X509_CRL_VERSION_2);
    ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(x),
                                   X509_get_subject_name(so_ca_intermediate_x509(ca))), 0);
    num = X509_CRL_get_ext_d2i(x, NID_crl_number, &crit, NULL);
    ck_assert_int_eq(ASN1_INTEGER_get(num), 42);
    ck_assert_int_eq(crit, 0);
    ASN1_INTEGER_free(num);
    {
        AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
        ck_assert_ptr_nonnull(akid);
        ck_assert_int_eq(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(
                                                   so_ca_intermediate_x509(ca))), 0);
        AUTHORITY_KEYID_free(akid);
    }
    ck_assert_int_eq(asn1_epoch(X509_CRL_get0_lastUpdate(x)), NOW + 1000);
    ck_assert_int_eq(asn1_epoch(X509_CRL_get0_nextUpdate(x)), NOW + 1000 + 7 * 86400);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x)), 3);

    /* entries: reasons and dates */
    leaf = pem_x509(a->pem);
    ck_assert_int_eq(X509_CRL_get0_by_cert(x, &rev, leaf), 1);
    reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    ck_assert_int_eq(ASN1_ENUMERATED_get(reason), 1);
    ASN1_ENUMERATED_free(reason);
    ck_assert_int_eq(asn1_epoch(X509_REVOKED_get0_revocationDate(rev)), NOW + 100);
    ck_assert_int_eq(verify_strict(ca, leaf, NOW + 2000, x), X509_V_ERR_CERT_REVOKED);
    X509_free(leaf);

    leaf = pem_x509(b->pem);
    ck_assert_int_eq(X509_CRL_get0_by_cert(x, &rev, leaf), 1);
    reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    ck_assert_int_eq(ASN1_ENUMERATED_get(reason), 4);
    ASN1_ENUMERATED_free(reason);
    X509_free(leaf);
    {
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_INTEGER_set_uint64(sn, 0x0123456789abcdefULL);
        ck_assert_int_eq(X509_CRL_get0_by_serial(x, &rev, sn), 1);
        ck_assert_ptr_null(X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL));
        ASN1_INTEGER_free(sn);
    }

    /* a certificate that is not on the list still verifies with CRL checking */
    leaf = pem_x509(good->pem);
    ck_assert_int_eq(X509_CRL_get0_by_cert(x, &rev, leaf), 0);
    ck_assert_int_eq(verify_strict(ca, leaf, NOW + 2000, x), X509_V_OK);
    X509_free(leaf);
    X509_CRL_free(x);

    /* refusals: bad serial, reason, duplicate, next update too far; an empty CRL is fine */
    e->reason = 6; /* certificateHold */
    ck_assert_int_eq(so_ca_crl(&crl, ca, pool, revoked, NOW, 0, 0, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "reason code 6"));
    e->reason = 0;
    e->serial = "xyz";
    ck_assert_int_eq(so_ca_crl(&crl, ca, pool, revoked, NOW, 0, 0, &why), APR_EINVAL);
    e->serial = a->serial;
    ck_assert_int_eq(so_ca_crl(&crl, ca, pool, revoked, NOW, 0, 0, &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "twice"));
    ck_assert_int_eq(so_ca_crl(&crl, ca, pool, NULL, NOW, 11 * 86400, 0, &why), APR_EINVAL);
    ck_assert_int_eq(so_ca_crl(&crl, ca, pool, NULL, NOW, 0, 0, &why), APR_SUCCESS);
    ck_assert_int_eq(crl->number, NOW);
}
END_TEST

static int write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(data, f) >= 0;
    if (f) {
        fclose(f);
    }
    return ok;
}

START_TEST(openssl_verify_cli)
{
    static const char *const names[] = {"www.example.com", "example.com", NULL};
    apr_int64_t now = (apr_int64_t)time(NULL) - 60;
    so_ca_t *ca = NULL;
    so_ca_cert_t *c = NULL;
    so_ca_issue_req_t r = dv_req(so_test_csr(pool, "rsa2048", names, NULL, NULL), names);
    const char *why = NULL, *cmd;
    char out[4096] = "";
    FILE *f;
    size_t n;

    ck_assert_msg(so_ca_init(&ca, pool, tmp, NULL, now, &why) == APR_SUCCESS, "%s", why);
    r.now = now;
    ck_assert_msg(so_ca_issue(&c, ca, pool, &r, &why) == APR_SUCCESS, "%s", why);
    ck_assert(write_file(apr_pstrcat(pool, tmp, "/leaf.pem", NULL), c->pem));
    cmd = apr_psprintf(pool, "cd %s && openssl verify -x509_strict -purpose sslserver "
                             "-CAfile root.crt -untrusted intermediate.crt leaf.pem 2>&1", tmp);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_str_eq(out, "leaf.pem: OK\n");

    /* and the CLI refuses the leaf against another root */
    new_ca(apr_pstrcat(pool, tmp, "/other", NULL), NULL);
    cmd = apr_psprintf(pool, "cd %s && openssl verify -x509_strict -CAfile other/root.crt "
                             "-untrusted intermediate.crt leaf.pem >/dev/null 2>&1", tmp);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

/* The public key's PEM of a parsed request is OpenSSL's own (PEM_write_bio_PUBKEY) for
 * every key type, and its SHA-256 that of the key's DER */
START_TEST(csr_public_key_pem)
{
    static const char *const names[] = {"pub.example.com", NULL};
    static const char *const kinds[] = {"ec256", "ec384", "rsa2048", "ed25519", NULL};
    int i;
    for (i = 0; kinds[i]; i++) {
        apr_pool_t *p;
        so_csr_t *csr;
        const char *pem, *why = NULL;
        BIO *mem = BIO_new(BIO_s_mem());
        char *text;
        long n;
        apr_pool_create(&p, pool);
        pem = so_test_csr(p, kinds[i], names, NULL, NULL);
        ck_assert_msg(so_csr_parse(p, pem, &csr, &why) == APR_SUCCESS, "%s: %s", kinds[i], why);
        ck_assert_int_eq(PEM_write_bio_PUBKEY(mem, X509_REQ_get0_pubkey(so_csr_req_of(p, pem))), 1);
        n = BIO_get_mem_data(mem, &text);
        ck_assert_str_eq(csr->pubkey_pem, apr_pstrmemdup(p, text, (apr_size_t)n));
        ck_assert_str_eq(csr->spki_sha256, csr->spki_req_sha256); /* DER forms: the same bytes */
        BIO_free(mem);
        apr_pool_destroy(p);
    }
}
END_TEST

/* A request parsed in the pool (so_csr_parse) is signed as parsed there: its key, with the
 * key checks still made; a pool that did not parse it has none. */
START_TEST(issue_from_parsed_request)
{
    static const char *const names[] = {"parsed.example.com", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    apr_pool_t *p, *sub;
    so_csr_t *csr, *weak;
    X509_REQ *req;
    so_ca_issue_req_t r;
    so_ca_cert_t *from_pem, *from_req;
    const char *pem, *why = NULL;

    apr_pool_create(&p, pool);
    pem = so_test_csr(p, "ec256", names, NULL, NULL);
    ck_assert_ptr_null(so_csr_req_of(p, pem));
    ck_assert_int_eq(so_csr_parse(p, pem, &csr, &why), APR_SUCCESS);
    req = so_csr_req_of(p, pem);
    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_eq(so_csr_req_of(p, csr->pem), req); /* the canonical form too */
    apr_pool_create(&sub, p);
    ck_assert_ptr_null(so_csr_req_of(sub, pem)); /* never the parent's */
    apr_pool_destroy(sub);

    r = dv_req(pem, names);
    from_pem = issue_ok(ca, &r);
    /* with the parsed request the PEM is not read again: a wrong one changes nothing */
    r.csr_req = req;
    r.csr_pem = "not a request";
    from_req = issue_ok(ca, &r);
    ck_assert_str_eq(from_req->spki_sha256, from_pem->spki_sha256);
    ck_assert_str_eq(from_req->spki_sha256, csr->spki_sha256);
    ck_assert_str_ne(from_req->serial, from_pem->serial);

    /* the linter on the certificate as built (its key not decoded): with its request's key,
     * with a key of its own decoding, and never with another request's key */
    {
        apr_array_header_t *pr = NULL;
        so_csr_t *other;
        const char *weak_pem = so_test_csr(p, "rsa1024", names, NULL, NULL);
        ck_assert_ptr_nonnull(from_req->x509);
        ck_assert_int_eq(so_lint_cert_obj(p, from_req->x509, req, so_ca_intermediate_x509(ca),
                                          NOW, &pr), APR_SUCCESS);
        ck_assert_int_eq(so_lint_cert_obj(p, from_pem->x509, NULL, so_ca_intermediate_x509(ca),
                                          NOW, &pr), APR_SUCCESS);
        ck_assert_int_eq(so_csr_parse(p, weak_pem, &other, &why), APR_SUCCESS);
        ck_assert_int_eq(so_lint_cert_obj(p, from_req->x509, so_csr_req_of(p, weak_pem),
                                          so_ca_intermediate_x509(ca), NOW, &pr), APR_SUCCESS);
        ck_assert_int_eq(pr->nelts, 0);
    }

    /* the key rules still hold for a parsed request (so_csr_parse takes a 1024-bit key) */
    pem = so_test_csr(p, "rsa1024", names, NULL, NULL);
    ck_assert_int_eq(so_csr_parse(p, pem, &weak, &why), APR_SUCCESS);
    r = dv_req(pem, names);
    r.csr_req = so_csr_req_of(p, pem);
    ck_assert_ptr_nonnull(r.csr_req);
    ck_assert_str_eq(issue_fails(ca, &r), issue_fails(ca, &(so_ca_issue_req_t){
                                                         .csr_pem = pem, .names = r.names,
                                                         .validation = SO_CA_DV, .days = 365,
                                                         .base_url = r.base_url, .now = NOW}));
    apr_pool_destroy(p);
}
END_TEST

/* The linter passes what the CA issues and names what is wrong in altered copies. */
static apr_array_header_t *lint_of(X509 *x, const char *issuer, apr_int64_t now, apr_status_t want)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    apr_array_header_t *pr = NULL;
    apr_status_t rv;
    apr_array_header_t *obj = NULL;
    X509 *ix = issuer ? pem_x509(issuer) : NULL;
    int i;
    ck_assert_int_gt(n, 0);
    rv = so_lint_cert(pool, der, (apr_size_t)n, issuer, now, &pr);
    OPENSSL_free(der);
    ck_assert_msg(rv == want, "lint: %d, %s", rv,
                  pr->nelts ? APR_ARRAY_IDX(pr, 0, const char *) : "no problem");
    /* the object as it is (no DER decoded again) finds the same problems */
    ck_assert_int_eq(so_lint_cert_obj(pool, x, NULL, ix, now, &obj), rv);
    ck_assert_int_eq(obj->nelts, pr->nelts);
    for (i = 0; i < pr->nelts; i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(obj, i, const char *), APR_ARRAY_IDX(pr, i, const char *));
    }
    X509_free(ix);
    return pr;
}

/* sign again after a change (re-encodes the changed parts; the linter does not check the
 * signature itself) */
static void resign(X509 *x)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    EVP_PKEY_free(k);
}

static int has_problem(const apr_array_header_t *pr, const char *part)
{
    int i;
    for (i = 0; i < pr->nelts; i++) {
        if (strstr(APR_ARRAY_IDX(pr, i, const char *), part)) {
            return 1;
        }
    }
    return 0;
}

static X509 *copy_of(const so_ca_cert_t *c)
{
    const unsigned char *q = c->der;
    X509 *x = d2i_X509(NULL, &q, (long)c->der_len);
    ck_assert_ptr_nonnull(x);
    return x;
}

START_TEST(lint_issued_and_broken)
{
    static const char *const names[] = {"lint.example.com", "www.lint.example.com", NULL};
    so_ca_t *ca = new_ca(tmp, NULL);
    const char *inter = so_ca_intermediate_pem(ca);
    so_ca_issue_req_t r = dv_req(so_test_csr(pool, "ec256", names, NULL, NULL), names);
    so_ca_cert_t *c = issue_ok(ca, &r);
    so_ca_cert_t *rsa;
    apr_array_header_t *pr = NULL;
    X509 *x;
    unsigned char *junk;

    /* what the CA issues passes, EC and RSA */
    x = copy_of(c);
    lint_of(x, inter, NOW, APR_SUCCESS);
    X509_free(x);
    r = dv_req(so_test_csr(pool, "rsa2048", names, NULL, NULL), names);
    rsa = issue_ok(ca, &r);
    x = copy_of(rsa);
    lint_of(x, inter, NOW, APR_SUCCESS);
    X509_free(x);

    /* validity beyond the date's maximum: 200 days are too many from 2027-03-15 */
    x = copy_of(c);
    pr = lint_of(x, inter, 1805068800, APR_EGENERAL);
    ck_assert(has_problem(pr, "exceeds the 100 days"));
    X509_free(x);

    /* a small serial, codeSigning, no policies, a CA flag */
    x = copy_of(c);
    {
        ASN1_INTEGER *s = ASN1_INTEGER_new();
        EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
        BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
        ASN1_INTEGER_set(s, 12345);
        X509_set_serialNumber(x, s);
        ASN1_INTEGER_free(s);
        sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth));
        sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_code_sign));
        X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_REPLACE);
        sk_ASN1_OBJECT_free(eku);
        bc->ca = 0xff;
        X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_REPLACE);
        BASIC_CONSTRAINTS_free(bc);
        X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_certificate_policies, -1)));
    }
    resign(x);
    pr = lint_of(x, inter, NOW, APR_EGENERAL);
    ck_assert(has_problem(pr, "fewer than 64 random bits"));
    ck_assert(has_problem(pr, "is not allowed (serverAuth, clientAuth only)"));
    ck_assert(has_problem(pr, "basicConstraints says cA"));
    ck_assert(has_problem(pr, "no certificatePolicies"));
    X509_free(x);

    /* no SAN, no CRL URL, no AIA; checked against another issuer */
    x = copy_of(c);
    X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_subject_alt_name, -1)));
    X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_crl_distribution_points, -1)));
    X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_info_access, -1)));
    resign(x);
    pr = lint_of(x, so_ca_root_pem(ca), NOW, APR_EGENERAL);
    ck_assert(has_problem(pr, "no subjectAltName"));
    ck_assert(has_problem(pr, "no CRL distribution point"));
    ck_assert(has_problem(pr, "no caIssuers"));
    ck_assert(has_problem(pr, "not issued by the given CA"));
    X509_free(x);

    /* not a certificate, or bytes after it */
    junk = apr_palloc(pool, c->der_len + 1);
    memcpy(junk, c->der, c->der_len);
    junk[c->der_len] = 0;
    ck_assert_int_eq(so_lint_cert(pool, junk, c->der_len + 1, NULL, NOW, &pr), APR_EINVAL);
    ck_assert_int_eq(so_lint_cert(pool, junk, 10, NULL, NOW, &pr), APR_EINVAL);

    /* the issuer as the CA's object (the issuance path): the same verdicts */
    ck_assert_int_eq(so_lint_cert_x509(pool, c->der, c->der_len, so_ca_intermediate_x509(ca), NOW,
                                       &pr), APR_SUCCESS);
    ck_assert_int_eq(so_lint_cert_x509(pool, c->der, c->der_len, so_ca_root_x509(ca), NOW, &pr),
                     APR_EGENERAL);
    ck_assert(has_problem(pr, "not issued by the given CA"));
    ck_assert_int_eq(so_lint_cert_x509(pool, c->der, c->der_len, NULL, NOW, &pr), APR_SUCCESS);
    /* an issuer PEM that cannot be read is a problem of its own */
    ck_assert_int_eq(so_lint_cert(pool, c->der, c->der_len, "not a PEM", NOW, &pr), APR_EGENERAL);
    ck_assert_int_eq(pr->nelts, 1);
    ck_assert(has_problem(pr, "the issuing CA certificate cannot be read"));
    ck_assert_int_eq(so_lint_cert(pool, junk, 10, "not a PEM", NOW, &pr), APR_EINVAL);
}
END_TEST

TCase *so_test_ca_case(void)
{
    TCase *tc = tcase_create("ca");
    tcase_add_unchecked_fixture(tc, so_test_root_setup, so_test_root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ca_create_and_reload);
    tcase_add_test(tc, ca_broken_dirs);
    tcase_add_test(tc, key_type_names);
    tcase_add_test(tc, issue_dv_ec);
    tcase_add_test(tc, issue_ov_rsa);
    tcase_add_test(tc, issue_ev);
    tcase_add_test(tc, validity_caps);
    tcase_add_test(tc, issue_refusals);
    tcase_add_test(tc, crl_revoked);
    tcase_add_test(tc, openssl_verify_cli);
    tcase_add_test(tc, issue_from_parsed_request);
    tcase_add_test(tc, csr_public_key_pem);
    tcase_add_test(tc, lint_issued_and_broken);
    return tc;
}
