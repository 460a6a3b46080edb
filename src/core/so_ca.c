/* mod_sslorders: the built-in issuing CA. See so_ca.h. */
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
#include "so_keyblock.h"
#include "so_log.h"
#include "so_util.h"
#include "so_ca_int.h"

/* ---- creating a CA ------------------------------------------------------------------ */

static X509 *make_ca_cert(apr_pool_t *p, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                          const so_ca_opts_t *o, const char *cn, int days, apr_int64_t now,
                          const char **why)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_INTEGER *serial = NULL;
    X509V3_CTX ctx;
    int root = issuer == NULL;

    if (!x || !name || so_ca_random_serial(&serial) != APR_SUCCESS
        || !X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial)) {
        goto fail;
    }
    if ((o->country && !so_ca_add_name_entry(name, NID_countryName, o->country))
        || !so_ca_add_name_entry(name, NID_organizationName, o->organization)
        || !so_ca_add_name_entry(name, NID_commonName, cn) || !X509_set_subject_name(x, name)
        || !X509_set_issuer_name(x, root ? name : X509_get_subject_name(issuer))) {
        goto fail;
    }
    if (!so_ca_set_time(X509_getm_notBefore(x), now)
        || !so_ca_set_time(X509_getm_notAfter(x), now + (apr_int64_t)days * 86400 - 1)
        || !X509_set_pubkey(x, key)) {
        goto fail;
    }
    X509V3_set_ctx(&ctx, root ? x : issuer, x, NULL, NULL, 0);
    if (!so_ca_add_ext(x, &ctx, NID_basic_constraints,
                 root ? "critical,CA:TRUE,pathlen:1" : "critical,CA:TRUE,pathlen:0")
        || !so_ca_add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign")
        || !so_ca_add_ext(x, &ctx, NID_subject_key_identifier, "hash")
        || !so_ca_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) {
        goto fail;
    }
    if (!root && (!so_ca_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth")
                  || !so_ca_add_policy(x, "2.5.29.32.0"))) {
        goto fail;
    }
    if (!X509_sign(x, root ? key : issuer_key, so_ca_md_for(root ? key : issuer_key))) {
        goto fail;
    }
    ASN1_INTEGER_free(serial);
    X509_NAME_free(name);
    return x;
fail:
    *why = so_ca_ossl_why(p, apr_psprintf(p, "cannot create the certificate \"%s\"", cn));
    ASN1_INTEGER_free(serial);
    X509_NAME_free(name);
    X509_free(x);
    return NULL;
}

static apr_status_t ca_create(so_ca_t *ca, const so_ca_opts_t *o, apr_int64_t now,
                              const char **why)
{
    apr_pool_t *p = ca->pool;
    const char *prefix = o->cn_prefix ? o->cn_prefix : o->organization;
    const char *rk, *ik;
    apr_status_t rv = APR_EGENERAL;

    if (!(ca->root_key = so_ca_gen_key(o->root_key))
        || !(ca->inter_key = so_ca_gen_key(o->issuing_key ? o->issuing_key : o->root_key))) {
        *why = so_ca_ossl_why(p, "cannot generate the CA keys");
        goto leave;
    }
    apr_pool_cleanup_register(p, ca->root_key, so_ca_free_pkey, apr_pool_cleanup_null);
    apr_pool_cleanup_register(p, ca->inter_key, so_ca_free_pkey, apr_pool_cleanup_null);
    if (!(ca->root = make_ca_cert(p, ca->root_key, NULL, NULL, o,
                                  apr_pstrcat(p, prefix, " Root CA", NULL), SO_CA_ROOT_DAYS, now,
                                  why))) {
        goto leave;
    }
    apr_pool_cleanup_register(p, ca->root, so_ca_free_x509, apr_pool_cleanup_null);
    if (!(ca->inter = make_ca_cert(p, ca->inter_key, ca->root, ca->root_key, o,
                                   apr_pstrcat(p, prefix, " Issuing CA", NULL), SO_CA_INTER_DAYS,
                                   now, why))) {
        goto leave;
    }
    apr_pool_cleanup_register(p, ca->inter, so_ca_free_x509, apr_pool_cleanup_null);
    if (!(rk = so_ca_key_pem(p, ca->root_key)) || !(ik = so_ca_key_pem(p, ca->inter_key))) {
        *why = so_ca_ossl_why(p, "cannot encode the CA keys");
        goto leave;
    }
    /* keys first: a directory with both certificates always has both keys */
    if ((rv = so_ca_write_atomic(p, ca->dir, SO_CA_ROOT_KEY, rk, APR_FPROT_UREAD | APR_FPROT_UWRITE,
                           why)) != APR_SUCCESS
        || (rv = so_ca_write_atomic(p, ca->dir, SO_CA_INTER_KEY, ik, APR_FPROT_UREAD | APR_FPROT_UWRITE,
                              why)) != APR_SUCCESS
        || (rv = so_ca_write_atomic(p, ca->dir, SO_CA_ROOT_CRT, so_ca_x509_pem(p, ca->root),
                              CERT_PERMS, why)) != APR_SUCCESS
        || (rv = so_ca_write_atomic(p, ca->dir, SO_CA_INTER_CRT, so_ca_x509_pem(p, ca->inter),
                              CERT_PERMS, why)) != APR_SUCCESS) {
        goto leave;
    }
    so_ca_sync_dir(ca->dir);
    ca->created = 1;
    so_log_info(SO_LOG_MARK, SOLOGNO(00201) "created a new CA \"%s Root CA\" in %s", prefix,
                ca->dir);
    rv = APR_SUCCESS;
leave:
    return rv;
}

/* ---- loading and checking ----------------------------------------------------------- */

static apr_status_t ca_check(so_ca_t *ca, apr_int64_t now, const char **why)
{
    apr_pool_t *p = ca->pool;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    apr_status_t rv = APR_EINVAL;
    int err;

    if (X509_check_private_key(ca->root, ca->root_key) != 1) {
        *why = apr_psprintf(p, "%s/%s does not belong to %s", ca->dir, SO_CA_ROOT_KEY,
                            SO_CA_ROOT_CRT);
        goto leave;
    }
    if (X509_check_private_key(ca->inter, ca->inter_key) != 1) {
        *why = apr_psprintf(p, "%s/%s does not belong to %s", ca->dir, SO_CA_INTER_KEY,
                            SO_CA_INTER_CRT);
        goto leave;
    }
    if (X509_verify(ca->root, X509_get0_pubkey(ca->root)) != 1) {
        *why = apr_psprintf(p, "%s/%s is not a self-signed root", ca->dir, SO_CA_ROOT_CRT);
        goto leave;
    }
    if (X509_verify(ca->inter, X509_get0_pubkey(ca->root)) != 1
        || X509_check_issued(ca->root, ca->inter) != X509_V_OK) {
        *why = apr_psprintf(p, "%s/%s is not signed by %s", ca->dir, SO_CA_INTER_CRT,
                            SO_CA_ROOT_CRT);
        goto leave;
    }
    if (X509_check_ca(ca->inter) != 1) {
        *why = apr_psprintf(p, "%s/%s is not a CA certificate", ca->dir, SO_CA_INTER_CRT);
        goto leave;
    }
    /* the whole chain as a relying party sees it, at now */
    if (!(store = X509_STORE_new()) || !X509_STORE_add_cert(store, ca->root)
        || !(ctx = X509_STORE_CTX_new()) || !X509_STORE_CTX_init(ctx, store, ca->inter, NULL)) {
        *why = so_ca_ossl_why(p, "cannot check the CA chain");
        goto leave;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
    if (X509_verify_cert(ctx) != 1) {
        err = X509_STORE_CTX_get_error(ctx);
        *why = apr_psprintf(p, "the CA chain in %s does not verify: %s", ca->dir,
                            X509_verify_cert_error_string(err));
        goto leave;
    }
    if (X509_cmp_time(X509_get0_notAfter(ca->inter), &(time_t){(time_t)now + 400 * 86400}) < 0) {
        so_log_warn(SO_LOG_MARK, APR_SUCCESS,
                    SOLOGNO(00202) "the intermediate %s/%s expires within 400 days: "
                                   "certificates it issues will be cut short",
                    ca->dir, SO_CA_INTER_CRT);
    }
    rv = APR_SUCCESS;
leave:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return rv;
}

/* Long: load or create, then check, then keep the PEM/DER forms: one sequence whose
 * failures each say which file is wrong. */
apr_status_t so_ca_init(so_ca_t **out, apr_pool_t *p, const char *dir, const so_ca_opts_t *opts,
                        apr_int64_t now, const char **why)
{
    static const char *const files[4] = {SO_CA_ROOT_CRT, SO_CA_ROOT_KEY, SO_CA_INTER_CRT,
                                         SO_CA_INTER_KEY};
    so_ca_opts_t o;
    so_ca_t *ca;
    apr_file_t *lock = NULL;
    apr_finfo_t fi;
    const char *missing = NULL;
    int i, present = 0;
    apr_status_t rv;

    *why = NULL;
    *out = NULL;
    ERR_clear_error();
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    if (!o.organization) {
        o.organization = SO_CA_DEFAULT_ORG;
    }
    if (!dir || !*dir || !so_ca_attr_ok(o.organization, 64)
        || (o.cn_prefix && !so_ca_attr_ok(o.cn_prefix, 40)) || (o.country && !so_ca_country_ok(o.country))
        || o.max_days < 0) {
        *why = "invalid CA options (directory, organization, CN prefix, country or tag)";
        rv = APR_EINVAL;
        goto leave;
    }
    ca = apr_pcalloc(p, sizeof(*ca));
    ca->pool = p;
    ca->dir = apr_pstrdup(p, dir);
    if (so_ca_check_name(&ca->tag, p, o.tag ? o.tag : SO_CA_DEFAULT_TAG, why) != APR_SUCCESS
        || ca->tag[0] == '*') {
        *why = apr_psprintf(p, "the CA tag \"%s\" is not a domain name", o.tag);
        rv = APR_EINVAL;
        goto leave;
    }
    ca->max_days = o.max_days;

    if ((rv = apr_dir_make_recursive(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE,
                                     p)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot create the CA directory %s", dir);
        goto leave;
    }
    if ((rv = apr_file_open(&lock, apr_pstrcat(p, dir, "/.ca.lock", NULL),
                            APR_FOPEN_CREATE | APR_FOPEN_WRITE, APR_FPROT_UREAD | APR_FPROT_UWRITE,
                            p)) != APR_SUCCESS
        || (rv = apr_file_lock(lock, APR_FLOCK_EXCLUSIVE)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot lock the CA directory %s", dir);
        goto leave;
    }
    for (i = 0; i < 4; i++) {
        if (apr_stat(&fi, apr_pstrcat(p, dir, "/", files[i], NULL), APR_FINFO_TYPE, p)
            == APR_SUCCESS) {
            present++;
        }
        else if (!missing) {
            missing = files[i];
        }
    }
    if (present == 0) {
        rv = ca_create(ca, &o, now, why);
    }
    else if (present < 4) {
        *why = apr_psprintf(p, "the CA directory %s is incomplete: %s is missing "
                               "(it needs %s, %s, %s and %s, or none of them to create a new CA)",
                            dir, missing, files[0], files[1], files[2], files[3]);
        rv = APR_EINVAL;
    }
    else if ((rv = so_ca_read_cert(&ca->root, p, apr_pstrcat(p, dir, "/", SO_CA_ROOT_CRT, NULL), why))
                 == APR_SUCCESS
             && (rv = so_ca_read_key(&ca->root_key, p, apr_pstrcat(p, dir, "/", SO_CA_ROOT_KEY, NULL),
                               why)) == APR_SUCCESS
             && (rv = so_ca_read_cert(&ca->inter, p, apr_pstrcat(p, dir, "/", SO_CA_INTER_CRT, NULL),
                                why)) == APR_SUCCESS
             && (rv = so_ca_read_key(&ca->inter_key, p,
                               apr_pstrcat(p, dir, "/", SO_CA_INTER_KEY, NULL), why))
                    == APR_SUCCESS) {
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        rv = ca_check(ca, now, why);
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    ca->inter_md = so_ca_md_for(ca->inter_key);
    ca->root_pem = so_ca_x509_pem(p, ca->root);
    ca->inter_pem = so_ca_x509_pem(p, ca->inter);
    ca->root_der = so_ca_x509_der(p, ca->root, &ca->root_der_len);
    ca->inter_der = so_ca_x509_der(p, ca->inter, &ca->inter_der_len);
    if (!ca->root_pem || !ca->inter_pem || !ca->root_der || !ca->inter_der) {
        *why = so_ca_ossl_why(p, "cannot encode the CA certificates");
        rv = APR_EGENERAL;
        goto leave;
    }
    ca->chain_pem = apr_pstrcat(p, ca->inter_pem, ca->root_pem, NULL);
    *out = ca;
leave:
    if (lock) {
        apr_file_close(lock); /* releases the lock */
    }
    if (rv != APR_SUCCESS && !*why) {
        *why = "cannot set up the CA";
    }
    ERR_clear_error();
    return rv;
}

int so_ca_created(const so_ca_t *ca)
{
    return ca->created;
}

const char *so_ca_root_pem(const so_ca_t *ca)
{
    return ca->root_pem;
}

const unsigned char *so_ca_root_der(const so_ca_t *ca, apr_size_t *len)
{
    *len = ca->root_der_len;
    return ca->root_der;
}

const char *so_ca_intermediate_pem(const so_ca_t *ca)
{
    return ca->inter_pem;
}

const unsigned char *so_ca_intermediate_der(const so_ca_t *ca, apr_size_t *len)
{
    *len = ca->inter_der_len;
    return ca->inter_der;
}

const char *so_ca_chain_pem(const so_ca_t *ca)
{
    return ca->chain_pem;
}

X509 *so_ca_root_x509(const so_ca_t *ca)
{
    return ca->root;
}

X509 *so_ca_intermediate_x509(const so_ca_t *ca)
{
    return ca->inter;
}

const char *so_ca_tag(const so_ca_t *ca)
{
    return ca->tag;
}

const char *so_ca_dir(const so_ca_t *ca)
{
    return ca->dir;
}

/* ---- names ------------------------------------------------------------------------- */

int so_ca_br_max_days(apr_int64_t now)
{
    if (now >= 1868227200) { /* 2029-03-15 */
        return 47;
    }
    if (now >= 1805068800) { /* 2027-03-15 */
        return 100;
    }
    if (now >= 1773532800) { /* 2026-03-15 */
        return 200;
    }
    return 398;
}

apr_status_t so_ca_check_name(const char **out, apr_pool_t *p, const char *name, const char **why)
{
    const psl_ctx_t *psl = psl_builtin();
    char *n;
    const char *base, *label;
    apr_size_t len, i, llen = 0;
    int labels = 1, wildcard, alldigits = 1;

    if (!name || !*name) {
        *why = "an empty name";
        return APR_EINVAL;
    }
    len = strlen(name);
    if (len > 253) {
        *why = apr_psprintf(p, "the name %.40s... is longer than 253 characters", name);
        return APR_EINVAL;
    }
    n = so_str_lower(p, name);
    wildcard = strncmp(n, "*.", 2) == 0;
    base = wildcard ? n + 2 : n;
    label = base;
    for (i = 0; base[i]; i++) {
        char c = base[i];
        if (c == '.') {
            if (llen == 0 || label[0] == '-' || base[i - 1] == '-') {
                goto bad;
            }
            labels++;
            llen = 0;
            label = base + i + 1;
            alldigits = 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            goto bad;
        }
        if (!(c >= '0' && c <= '9')) {
            alldigits = 0;
        }
        if (++llen > 63) {
            goto bad;
        }
    }
    if (llen == 0 || label[0] == '-' || base[i - 1] == '-' || labels < 2) {
        goto bad;
    }
    if (alldigits) {
        *why = apr_psprintf(p, "%s looks like an IP address, not a DNS name", name);
        return APR_EINVAL;
    }
    if (psl && psl_is_public_suffix2(psl, base, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
        *why = wildcard ? apr_psprintf(p, "%s is a wildcard for a public suffix", name)
                        : apr_psprintf(p, "%s is a public suffix", name);
        return APR_EINVAL;
    }
    *out = n;
    return APR_SUCCESS;
bad:
    *why = apr_psprintf(p, "%s is not a valid DNS name", name);
    return APR_EINVAL;
}

/* ---- issuing ----------------------------------------------------------------------- */

/* The BR 6.1.6 checks of a subscriber key. RSA: odd modulus of 2048-8192 bits (a multiple
 * of 8) without prime factors below 752, odd exponent in [2^16+1, 2^256-1]. EC: P-256 or
 * P-384, a point on the curve (the partial public key validation of NIST SP 800-56A,
 * which the BR allow). OpenSSL's full RSA check (a primality test of the modulus) costs
 * more than signing the certificate and is not asked for. */
static apr_status_t check_csr_key(apr_pool_t *p, EVP_PKEY *pk, int *is_rsa, const char **why)
{
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    apr_status_t rv = APR_EINVAL;
    int bits = EVP_PKEY_get_bits(pk);
    BN_ULONG q;

    if (EVP_PKEY_is_a(pk, "RSA")) {
        *is_rsa = 1;
        if (bits < 2048 || bits > 8192 || bits % 8) {
            *why = apr_psprintf(p, "the CSR has a %d-bit RSA key: 2048 to 8192 bits, a multiple "
                                   "of 8, are accepted", bits);
            goto leave;
        }
        if (!EVP_PKEY_get_bn_param(pk, "e", &e) || !BN_is_odd(e) || BN_num_bits(e) < 17
            || BN_num_bits(e) > 256) {
            *why = "the CSR's RSA public exponent must be odd, from 65537 to 2^256-1";
            goto leave;
        }
        if (!EVP_PKEY_get_bn_param(pk, "n", &n) || !BN_is_odd(n)) {
            *why = "the CSR's RSA modulus is even";
            goto leave;
        }
        for (q = 3; q < 752; q += 2) {
            BN_ULONG d;
            for (d = 3; d * d <= q && q % d; d += 2) {
            }
            if (d * d > q && BN_mod_word(n, q) == 0) {
                *why = "the CSR's RSA modulus has a small prime factor (a broken key)";
                goto leave;
            }
        }
    }
    else if (EVP_PKEY_is_a(pk, "EC")) {
        char curve[64];
        *is_rsa = 0;
        if (!EVP_PKEY_get_utf8_string_param(pk, "group", curve, sizeof(curve), NULL)
            || (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0)) {
            *why = "the CSR has an EC key on a curve other than P-256 and P-384";
            goto leave;
        }
        if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL))
            || EVP_PKEY_public_check_quick(ctx) != 1) {
            *why = "the CSR's EC public key is not a valid point on its curve";
            goto leave;
        }
    }
    else {
        *why = apr_psprintf(p, "the CSR has a %s key: only RSA and EC (P-256, P-384) keys are "
                               "accepted", EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk)
                                                                       : "unknown");
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    BN_free(n);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return rv;
}

/* "http://host[:port][/path]" without query, fragment, white space or control characters;
 * returned without a trailing slash. */
static const char *check_base_url(apr_pool_t *p, const char *url)
{
    apr_size_t i, n;
    if (!url || strncmp(url, "http://", 7) != 0 || (n = strlen(url)) <= 7 || n > 200) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '"' || c == '<' || c == '>'
            || c == '\\') {
            return NULL;
        }
    }
    if (url[7] == '/') {
        return NULL;
    }
    while (n > 8 && url[n - 1] == '/') {
        n--;
    }
    return apr_pstrmemdup(p, url, n);
}

static apr_status_t build_subject(X509_NAME *name, apr_pool_t *p, const so_ca_issue_req_t *r,
                                  const char *cn, const char **why)
{
    static const char *const categories[] = {"Private Organization", "Government Entity",
                                             "Business Entity", "Non-Commercial Entity", NULL};
    int i, ok = 0;

    if (r->validation == SO_CA_EV) {
        for (i = 0; categories[i]; i++) {
            if (r->business_category && strcmp(r->business_category, categories[i]) == 0) {
                ok = 1;
            }
        }
        if (!ok) {
            *why = "EV needs business_category: Private Organization, Government Entity, "
                   "Business Entity or Non-Commercial Entity";
            return APR_EINVAL;
        }
        if (!so_ca_country_ok(r->jurisdiction_country)) {
            *why = "EV needs jurisdiction_country (two upper-case letters)";
            return APR_EINVAL;
        }
        if (!so_ca_attr_ok(r->registration_number, 64)) {
            *why = "EV needs the registration number (1 to 64 characters)";
            return APR_EINVAL;
        }
    }
    if (r->validation == SO_CA_OV || r->validation == SO_CA_EV) {
        if (!so_ca_attr_ok(r->organization, 64)) {
            *why = "the organization name is missing, longer than 64 bytes or has control "
                   "characters";
            return APR_EINVAL;
        }
        if (!so_ca_country_ok(r->country)) {
            *why = "the country must be two upper-case letters (ISO 3166)";
            return APR_EINVAL;
        }
        if ((r->locality && !so_ca_attr_ok(r->locality, 128)) || (r->state && !so_ca_attr_ok(r->state, 128))
            || (!r->locality && !r->state)) {
            *why = "a locality or a state (at most 128 bytes each) is required";
            return APR_EINVAL;
        }
    }
    /* the order of BR 7.1.4.2 (EV attributes first, as the EV Guidelines examples do) */
    if (r->validation == SO_CA_EV
        && (!so_ca_add_name_entry(name, NID_businessCategory, r->business_category)
            || !so_ca_add_name_entry(name, NID_jurisdictionCountryName, r->jurisdiction_country)
            || !so_ca_add_name_entry(name, NID_serialNumber, r->registration_number))) {
        *why = so_ca_ossl_why(p, "invalid EV subject attribute (the registration number must be "
                           "letters, digits, spaces and '()+,-./:=?)");
        return APR_EINVAL;
    }
    if ((r->validation == SO_CA_OV || r->validation == SO_CA_EV)
        && (!so_ca_add_name_entry(name, NID_countryName, r->country)
            || (r->state && !so_ca_add_name_entry(name, NID_stateOrProvinceName, r->state))
            || (r->locality && !so_ca_add_name_entry(name, NID_localityName, r->locality))
            || !so_ca_add_name_entry(name, NID_organizationName, r->organization))) {
        *why = so_ca_ossl_why(p, "invalid subject attribute");
        return APR_EINVAL;
    }
    if (!so_ca_add_name_entry(name, NID_commonName, cn)) {
        *why = so_ca_ossl_why(p, "invalid common name");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t so_ca_subject_check(apr_pool_t *p, const so_ca_issue_req_t *r, const char **why)
{
    X509_NAME *name = X509_NAME_new();
    apr_status_t rv;
    if (!name) {
        *why = "out of memory";
        return APR_ENOMEM;
    }
    rv = build_subject(name, p, r, "example.com", why);
    X509_NAME_free(name);
    ERR_clear_error();
    return rv;
}

/* The request's checks that need no CSR: the distinct checked names (the first one
 * becomes the common name) and the public base URL. */
static apr_status_t issue_names(apr_pool_t *p, const so_ca_issue_req_t *r,
                                apr_array_header_t **out, const char **base, const char **why)
{
    apr_array_header_t *names;
    const char *n;
    apr_status_t rv;
    int i, j;

    if (!r || !r->csr_pem || !r->names || r->names->nelts < 1) {
        *why = "a CSR and at least one name are required";
        return APR_EINVAL;
    }
    if (r->validation < SO_CA_DV || r->validation > SO_CA_EV) {
        *why = "the validation level must be DV, OV or EV";
        return APR_EINVAL;
    }
    if (r->days < 1) {
        *why = "the validity must be at least one day";
        return APR_EINVAL;
    }
    if (!(*base = check_base_url(p, r->base_url))) {
        *why = "the public base URL for the CA's certificate and CRL must be an http:// URL "
               "(the Baseline Requirements require http for both)";
        return APR_EINVAL;
    }
    if (r->names->nelts > SO_CA_MAX_NAMES) {
        *why = apr_psprintf(p, "at most %d names fit in one certificate", SO_CA_MAX_NAMES);
        return APR_EINVAL;
    }
    names = apr_array_make(p, r->names->nelts, sizeof(const char *));
    for (i = 0; i < r->names->nelts; i++) {
        if ((rv = so_ca_check_name(&n, p, APR_ARRAY_IDX(r->names, i, const char *), why))
            != APR_SUCCESS) {
            return rv;
        }
        for (j = 0; j < names->nelts && strcmp(APR_ARRAY_IDX(names, j, const char *), n); j++) {
        }
        if (j == names->nelts) {
            APR_ARRAY_PUSH(names, const char *) = n;
        }
    }
    n = APR_ARRAY_IDX(names, 0, const char *);
    if (strlen(n) > 64) {
        *why = apr_psprintf(p, "the first name %s is longer than the 64 characters a common "
                               "name may have: list a shorter name first", n);
        return APR_EINVAL;
    }
    *out = names;
    return APR_SUCCESS;
}

/* The CSR: parsed (owned by p), its self-signature checked, its key acceptable. */
static apr_status_t issue_csr(apr_pool_t *p, const so_ca_t *ca, const so_ca_issue_req_t *r,
                              X509_REQ **out, int *is_rsa, const char **why)
{
    X509_REQ *csr = r->csr_req;
    EVP_PKEY *pk;
    apr_status_t rv;

    if (csr) {
        if (!(pk = X509_REQ_get0_pubkey(csr))) { /* (verified by the caller's parse) */
            *why = "the CSR holds no readable public key";
            return APR_EINVAL;
        }
    }
    else if (!(csr = so_ca_req_read(p, r->csr_pem))) {
        *why = "the CSR is not a PEM encoded PKCS#10 request";
        return APR_EINVAL;
    }
    else if (!(pk = X509_REQ_get0_pubkey(csr)) || X509_REQ_verify(csr, pk) != 1) {
        *why = "the CSR's signature does not verify";
        return APR_EINVAL;
    }
    if ((rv = check_csr_key(p, pk, is_rsa, why)) != APR_SUCCESS) {
        return rv;
    }
    if (EVP_PKEY_eq(pk, ca->inter_key) == 1 || EVP_PKEY_eq(pk, ca->root_key) == 1) {
        *why = "the CSR uses the CA's own key";
        return APR_EINVAL;
    }
    *out = csr;
    return APR_SUCCESS;
}

/* The certificate's fields and extensions, signed by the intermediate; 0 on an
 * OpenSSL failure. */
static int issue_sign(X509 *x, apr_pool_t *p, const so_ca_t *ca, const so_ca_issue_req_t *r,
                      X509_REQ *csr, X509_NAME *subject, ASN1_INTEGER *serial,
                      const apr_array_header_t *names, const char *base, int days, int is_rsa)
{
    static const char *const policies[] = {NULL, "2.23.140.1.2.1", "2.23.140.1.2.2",
                                           "2.23.140.1.1"};
    X509V3_CTX ctx;

    if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial)
        || !X509_set_issuer_name(x, X509_get_subject_name(ca->inter))
        || !X509_set_subject_name(x, subject) || !so_ca_set_time(X509_getm_notBefore(x), r->now)
        || !so_ca_set_time(X509_getm_notAfter(x), r->now + (apr_int64_t)days * 86400 - 1)
        || !so_ca_copy_spki(x, csr)) {
        return 0;
    }
    X509V3_set_ctx(&ctx, ca->inter, x, NULL, NULL, 0);
    return so_ca_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")
           && so_ca_add_ext(x, &ctx, NID_key_usage,
                            is_rsa ? "critical,digitalSignature,keyEncipherment"
                                   : "critical,digitalSignature")
           && so_ca_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth")
           && so_ca_add_ext(x, &ctx, NID_subject_key_identifier, "hash")
           && so_ca_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")
           && so_ca_add_aia(x, apr_pstrcat(p, base, SO_CA_AIA_PATH, NULL))
           && so_ca_add_cdp(x, apr_pstrcat(p, base, SO_CA_CRL_PATH, NULL))
           && so_ca_add_policy(x, policies[r->validation]) && so_ca_add_san(x, names)
           && X509_sign(x, ca->inter_key, ca->inter_md);
}

/* Checks, then signs; the OpenSSL objects belong to p (freed with it). */
static apr_status_t issue(so_ca_cert_t **out, const so_ca_t *ca, apr_pool_t *p,
                          const so_ca_issue_req_t *r, const char **why)
{
    X509_REQ *csr;
    X509 *x;
    X509_NAME *subject;
    ASN1_INTEGER *serial;
    apr_array_header_t *names;
    so_ca_cert_t *c;
    const char *base;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    int days, is_rsa = 0;
    apr_status_t rv;

    if ((rv = issue_names(p, r, &names, &base, why)) != APR_SUCCESS
        || (rv = issue_csr(p, ca, r, &csr, &is_rsa, why)) != APR_SUCCESS) {
        return rv;
    }
    days = r->days;
    if (days > so_ca_br_max_days(r->now)) {
        days = so_ca_br_max_days(r->now);
    }
    if (ca->max_days > 0 && days > ca->max_days) {
        days = ca->max_days;
    }
    if (!(subject = so_ca_name_new(p))) {
        return APR_EGENERAL;
    }
    if ((rv = build_subject(subject, p, r, APR_ARRAY_IDX(names, 0, const char *), why))
        != APR_SUCCESS) {
        return rv;
    }
    c = apr_pcalloc(p, sizeof(*c));
    if (!(x = so_ca_x509_new(p)) || !(serial = so_ca_serial_new(p))
        || !issue_sign(x, p, ca, r, csr, subject, serial, names, base, days, is_rsa)
        || !(c->pem = so_ca_x509_pem(p, x)) || !(c->der = so_ca_x509_der(p, x, &c->der_len))
        || !(c->serial = so_ca_serial_hex(p, serial))
        || !EVP_Digest(c->der, c->der_len, md, &mdlen, EVP_sha256(), NULL)) {
        return APR_EGENERAL;
    }
    if (!(c->spki_sha256 = so_keyblock_spki_sha256(p, X509_get_X509_PUBKEY(x)))) {
        return APR_EGENERAL;
    }
    c->chain_pem = apr_pstrcat(p, c->pem, ca->inter_pem, NULL);
    c->sha256 = so_hex(p, md, mdlen, 0);
    c->not_before = r->now;
    c->not_after = r->now + (apr_int64_t)days * 86400 - 1;
    c->days = days;
    c->x509 = x;
    *out = c;
    return APR_SUCCESS;
}

apr_status_t so_ca_issue(so_ca_cert_t **out, const so_ca_t *ca, apr_pool_t *p,
                         const so_ca_issue_req_t *r, const char **why)
{
    apr_status_t rv;

    *out = NULL;
    *why = NULL;
    ERR_clear_error();
    rv = issue(out, ca, p, r, why);
    if (rv == APR_EGENERAL) {
        /* OpenSSL failed (the checks answer APR_EINVAL or a name's status) */
        *why = so_ca_ossl_why(p, "cannot sign the certificate");
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00203) "issuing for %s failed: %s",
                     APR_ARRAY_IDX(r->names, 0, const char *), *why);
    }
    ERR_clear_error();
    return rv;
}

