#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "so_csr.h"
#include "so_keyblock.h"
#include "so_domain.h"
#include "so_util.h"

static const char *bio_text(apr_pool_t *p, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? apr_pstrmemdup(p, data, (apr_size_t)n) : "";
}

static const char *name_entry(apr_pool_t *p, X509_NAME *name, int nid)
{
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    ASN1_STRING *s;
    unsigned char *utf8 = NULL;
    int n;
    const char *out;

    if (idx < 0) {
        return "";
    }
    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) {
        return "";
    }
    out = apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)n);
    OPENSSL_free(utf8);
    return out;
}

static void add_name(apr_array_header_t *names, const char *n)
{
    int i;
    for (i = 0; i < names->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(names, i, const char *), n)) {
            return;
        }
    }
    APR_ARRAY_PUSH(names, const char *) = n;
}

static const char *curve_name(EVP_PKEY *pk, apr_pool_t *p)
{
    char group[64] = "";
    size_t len = 0;
    if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len)) {
        return "";
    }
    if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
        return "P-256";
    }
    if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384")) {
        return "P-384";
    }
    if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521")) {
        return "P-521";
    }
    return apr_pstrdup(p, group);
}

/* floor(sqrt(a)) by Newton's method. */
static int bn_isqrt(BIGNUM *r, const BIGNUM *a, BN_CTX *ctx)
{
    BIGNUM *x = BN_CTX_get(ctx), *y = BN_CTX_get(ctx);
    if (!y) {
        return 0;
    }
    if (BN_is_zero(a)) {
        BN_zero(r);
        return 1;
    }
    BN_zero(x);
    if (!BN_set_bit(x, (BN_num_bits(a) + 1) / 2 + 1)) {
        return 0;
    }
    for (;;) {
        /* y = (x + a / x) / 2 */
        if (!BN_div(y, NULL, a, x, ctx) || !BN_add(y, y, x) || !BN_rshift1(y, y)) {
            return 0;
        }
        if (BN_cmp(y, x) >= 0) {
            break;
        }
        if (!BN_copy(x, y)) {
            return 0;
        }
    }
    return BN_copy(r, x) != NULL;
}

const char *so_csr_rsa_weak(const BIGNUM *n, const BIGNUM *e)
{
    const char *weak = NULL;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *a, *b2, *r, *sq, *max;
    unsigned int q;
    int i;

    if (!ctx) {
        return NULL;
    }
    BN_CTX_start(ctx);
    a = BN_CTX_get(ctx);
    b2 = BN_CTX_get(ctx);
    r = BN_CTX_get(ctx);
    sq = BN_CTX_get(ctx);
    max = BN_CTX_get(ctx);
    if (!max) {
        goto leave;
    }
    /* the exponent: odd, 65537 to 2^256-1 */
    BN_zero(max);
    BN_set_bit(max, 256);
    if (!BN_is_odd(e) || BN_cmp(e, max) >= 0 || BN_get_word(e) < 65537) {
        weak = "the RSA public exponent is not an odd number from 65537 to 2^256-1";
        goto leave;
    }
    /* a prime factor below 752 */
    for (q = 2; q < 752; q++) {
        unsigned int d;
        int prime = 1;
        for (d = 2; d * d <= q; d++) {
            if (q % d == 0) {
                prime = 0;
                break;
            }
        }
        if (prime && BN_mod_word(n, q) == 0) {
            weak = "the RSA modulus has a small prime factor";
            goto leave;
        }
    }
    /* Fermat: a = ceil(sqrt(n)); a^2 - n a perfect square within 100 steps */
    if (!bn_isqrt(a, n, ctx) || !BN_sqr(sq, a, ctx)) {
        goto leave;
    }
    if (BN_cmp(sq, n) < 0 && !BN_add_word(a, 1)) {
        goto leave;
    }
    for (i = 0; i < 100; i++) {
        if (!BN_sqr(b2, a, ctx) || !BN_sub(b2, b2, n) || !bn_isqrt(r, b2, ctx)
            || !BN_sqr(sq, r, ctx)) {
            goto leave;
        }
        if (BN_cmp(sq, b2) == 0) {
            weak = "the RSA modulus has factors close enough to be found (Fermat)";
            goto leave;
        }
        if (!BN_add_word(a, 1)) {
            goto leave;
        }
    }
leave:
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return weak;
}

/* The one request of a PEM: the DER must be exactly one request, bytes after it are refused
 * (BR: a CSR is what is signed, nothing hides behind it); NULL with *why set otherwise */
static X509_REQ *read_one_request(BIO *bio, const char **why)
{
    X509_REQ *req = NULL;
    char *pname = NULL, *pheader = NULL;
    unsigned char *pdata = NULL;
    const unsigned char *q;
    long plen = 0;
    if (!bio || !PEM_read_bio(bio, &pname, &pheader, &pdata, &plen)
        || (strcmp(pname, PEM_STRING_X509_REQ) && strcmp(pname, PEM_STRING_X509_REQ_OLD))) {
        *why = "the CSR cannot be read: truncated or damaged PEM";
    }
    else if (q = pdata, !(req = d2i_X509_REQ(NULL, &q, plen))) {
        *why = "the CSR cannot be read: truncated or damaged PEM";
    }
    else if (q != pdata + plen) {
        *why = "the CSR has bytes after its DER encoding";
    }
    OPENSSL_free(pname);
    OPENSSL_free(pheader);
    OPENSSL_free(pdata);
    if (*why) {
        X509_REQ_free(req);
        return NULL;
    }
    return req;
}

/* The DNS names of the subjectAltName extension into c->sans: other kinds are refused */
static apr_status_t read_sans(apr_pool_t *p, X509_REQ *req, so_csr_t *c, const char **why)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *gens = NULL;
    apr_status_t rv = APR_EINVAL;
    int i;

    exts = X509_REQ_get_extensions(req);
    if (exts) {
        int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
        if (idx >= 0) {
            gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, idx));
            if (!gens) {
                *why = "the subject alternative name extension of the CSR cannot be read";
                goto out;
            }
            for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
                if (g->type == GEN_DNS) {
                    const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
                    int n = ASN1_STRING_length(g->d.dNSName);
                    if (n <= 0 || memchr(d, 0, (size_t)n)) {
                        *why = "the CSR has an empty or invalid DNS name";
                        goto out;
                    }
                    APR_ARRAY_PUSH(c->sans, const char *) =
                        so_str_lower(p, apr_pstrmemdup(p, (const char *)d, (apr_size_t)n));
                }
                else {
                    *why = "the CSR asks for a subject alternative name that is not a DNS name "
                           "(IP addresses and e-mail addresses are not issued)";
                    goto out;
                }
            }
        }
    }
    rv = APR_SUCCESS;

out:
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rv;
}

/* The openssl-blacklist fingerprint of an RSA modulus (so_keyblock.h): the last 20 hex
 * digits of the SHA-1 of "Modulus=<HEX>\n", HEX as BN_print writes it (no leading zero) */
static const char *debian_fp(apr_pool_t *p, const BIGNUM *n)
{
    char *hex = BN_bn2hex(n);
    const char *h = hex, *line, *fp;
    if (!hex) {
        return NULL;
    }
    while (h[0] == '0' && h[1]) {
        h++;
    }
    line = apr_pstrcat(p, "Modulus=", h, "\n", NULL);
    OPENSSL_free(hex);
    fp = so_sha1_hex(p, line, strlen(line), 0);
    return fp + 20;
}

/* The key's type, size, curve and known weakness, and the signature's algorithm */
static void key_info(apr_pool_t *p, X509_REQ *req, EVP_PKEY *pk, so_csr_t *c)
{
    int md_nid = NID_undef, pk_nid;

    pk_nid = EVP_PKEY_get_base_id(pk);
    c->key_bits = EVP_PKEY_get_bits(pk);
    if (pk_nid == EVP_PKEY_RSA) {
        BIGNUM *bn_n = NULL, *bn_e = NULL;
        c->key_type = "rsa";
        c->curve = "";
        if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn_n)
            && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bn_e)) {
            c->key_weak = so_csr_rsa_weak(bn_n, bn_e);
            c->debian_fp = debian_fp(p, bn_n);
        }
        BN_free(bn_n);
        BN_free(bn_e);
    }
    else if (pk_nid == EVP_PKEY_EC) {
        c->key_type = "ec";
        c->curve = curve_name(pk, p);
    }
    else {
        c->key_type = apr_pstrdup(p, OBJ_nid2sn(pk_nid));
        c->curve = "";
    }
    if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid, NULL)) {
        md_nid = NID_undef;
    }
    c->sig_alg = apr_pstrdup(p, OBJ_nid2ln(X509_REQ_get_signature_nid(req)));
    c->sig_hash = (md_nid == NID_sha1 || md_nid == NID_md5) ? "sha1" : "sha2";
}

/* The DER, its fingerprints, the PEM forms of the request and of its public key */
static apr_status_t encodings(apr_pool_t *p, X509_REQ *req, EVP_PKEY *pk, so_csr_t *c,
                              const char **why)
{
    BIO *mem = NULL;
    unsigned char *der = NULL, *pubder = NULL;
    int len;
    apr_status_t rv = APR_EINVAL;

    len = i2d_X509_REQ(req, &der);
    if (len <= 0) {
        *why = "the CSR cannot be encoded";
        goto out;
    }
    c->der = (const unsigned char *)apr_pmemdup(p, der, (apr_size_t)len);
    c->der_len = (apr_size_t)len;
    c->md5 = so_md5_hex(p, der, (apr_size_t)len, 1);
    c->sha1 = so_sha1_hex(p, der, (apr_size_t)len, 1);
    c->sha256 = so_sha256_hex(p, der, (apr_size_t)len, 1);
    len = i2d_PUBKEY(pk, &pubder);
    if (len > 0) {
        c->pubkey_sha1 = so_sha1_hex(p, pubder, (apr_size_t)len, 0);
        c->spki_sha256 = so_sha256_hex(p, pubder, (apr_size_t)len, 0);
    }
    c->spki_req_sha256 = so_keyblock_spki_sha256(p, X509_REQ_get_X509_PUBKEY(req));
    mem = BIO_new(BIO_s_mem());
    if (!mem || !PEM_write_bio_X509_REQ(mem, req)) {
        *why = "the CSR cannot be encoded";
        goto out;
    }
    c->pem = bio_text(p, mem);
    BIO_free(mem);
    /* the PEM of the DER just made (PEM_write_bio_PUBKEY would encode the key again) */
    mem = BIO_new(BIO_s_mem());
    if (!mem || !pubder || !PEM_write_bio(mem, PEM_STRING_PUBLIC, "", pubder, len)) {
        *why = "the public key cannot be encoded";
        goto out;
    }
    c->pubkey_pem = bio_text(p, mem);
    rv = APR_SUCCESS;

out:
    OPENSSL_free(der);
    OPENSSL_free(pubder);
    BIO_free(mem);
    return rv;
}

static apr_status_t parse_pem(apr_pool_t *p, const char *pem, so_csr_t **out, X509_REQ **keep,
                              const char **why)
{
    BIO *bio = NULL;
    X509_REQ *req = NULL;
    EVP_PKEY *pk;
    X509_NAME *subj;
    so_csr_t *c;
    int i;
    apr_status_t rv = APR_EINVAL;

    *why = NULL;
    if (!pem || !*pem) {
        *why = "the CSR is empty";
        return APR_EINVAL;
    }
    if (strlen(pem) > SO_CSR_MAX_PEM) {
        *why = "the CSR is too large";
        return APR_EINVAL;
    }
    if (!strstr(pem, "-----BEGIN") || !strstr(pem, "REQUEST-----")) {
        *why = "not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST----- missing)";
        return APR_EINVAL;
    }
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, -1);
    if (!(req = read_one_request(bio, why))) {
        goto leave;
    }
    pk = X509_REQ_get0_pubkey(req);
    if (!pk) {
        *why = "the CSR holds no readable public key";
        goto leave;
    }
    if (X509_REQ_verify(req, pk) != 1) {
        *why = "the signature of the CSR does not verify";
        goto leave;
    }

    c = apr_pcalloc(p, sizeof(*c));
    c->sans = apr_array_make(p, 4, sizeof(const char *));
    c->names = apr_array_make(p, 4, sizeof(const char *));

    subj = X509_REQ_get_subject_name(req);
    c->common_name = so_str_lower(p, so_str_trim(p, name_entry(p, subj, NID_commonName)));
    c->country = name_entry(p, subj, NID_countryName);
    c->state = name_entry(p, subj, NID_stateOrProvinceName);
    c->locality = name_entry(p, subj, NID_localityName);
    c->organization = name_entry(p, subj, NID_organizationName);
    c->unit = name_entry(p, subj, NID_organizationalUnitName);
    c->email = name_entry(p, subj, NID_pkcs9_emailAddress);

    if (read_sans(p, req, c, why) != APR_SUCCESS) {
        goto leave;
    }
    if (*c->common_name) {
        add_name(c->names, c->common_name);
    }
    for (i = 0; i < c->sans->nelts; i++) {
        add_name(c->names, APR_ARRAY_IDX(c->sans, i, const char *));
    }
    if (c->names->nelts == 0) {
        *why = "the CSR names no host (no common name and no DNS names)";
        goto leave;
    }
    if (!*c->common_name) {
        /* no CN: the first DNS name stands for it */
        c->common_name = APR_ARRAY_IDX(c->names, 0, const char *);
    }

    key_info(p, req, pk, c);

    if (encodings(p, req, pk, c, why) != APR_SUCCESS) {
        goto leave;
    }
    *out = c;
    if (keep) {
        *keep = req; /* the caller's now */
        req = NULL;
    }
    rv = APR_SUCCESS;

leave:
    X509_REQ_free(req);
    BIO_free(bio);
    ERR_clear_error();
    return rv;
}

/* The parses made in a pool, by PEM text (the input and the canonical form): one request
 * reads the same CSR several times (an ACME finalize: the body, the order, the issuance, the
 * blocked-key check), and each parse decodes the key and verifies the signature again. The
 * table is the pool's own (userdata of that pool only, never of a parent shared by other
 * threads) and dies with it. */
#define MEMO_KEY "so_csr_memo"
#define REQ_MEMO_KEY "so_csr_req_memo" /* the parsed requests, signatures verified */

static apr_hash_t *memo_of(apr_pool_t *p, const char *key, int create)
{
    void *h = NULL;
    apr_pool_userdata_get(&h, key, p);
    if (!h && create) {
        h = apr_hash_make(p);
        apr_pool_userdata_setn(h, key, NULL, p);
    }
    return h;
}

static apr_status_t req_free(void *data)
{
    X509_REQ_free(data);
    return APR_SUCCESS;
}

X509_REQ *so_csr_req_of(apr_pool_t *p, const char *pem)
{
    apr_hash_t *memo = pem ? memo_of(p, REQ_MEMO_KEY, 0) : NULL;
    return memo ? apr_hash_get(memo, pem, APR_HASH_KEY_STRING) : NULL;
}

apr_status_t so_csr_parse(apr_pool_t *p, const char *pem, so_csr_t **out, const char **why)
{
    apr_hash_t *memo = pem ? memo_of(p, MEMO_KEY, 0) : NULL;
    const so_csr_t *seen = memo ? apr_hash_get(memo, pem, APR_HASH_KEY_STRING) : NULL;
    so_csr_t *c;
    X509_REQ *req = NULL;
    apr_status_t rv;

    if (seen) {
        /* a copy: the caller may change the struct or push onto its arrays */
        c = apr_pmemdup(p, seen, sizeof(*c));
        c->sans = apr_array_copy(p, seen->sans);
        c->names = apr_array_copy(p, seen->names);
        *why = NULL;
        *out = c;
        return APR_SUCCESS;
    }
    if ((rv = parse_pem(p, pem, &c, &req, why)) != APR_SUCCESS) {
        return rv;
    }
    memo = memo_of(p, MEMO_KEY, 1);
    apr_hash_set(memo, apr_pstrdup(p, pem), APR_HASH_KEY_STRING, c);
    apr_hash_set(memo, c->pem, APR_HASH_KEY_STRING, c);
    if (req) {
        apr_pool_cleanup_register(p, req, req_free, apr_pool_cleanup_null);
        memo = memo_of(p, REQ_MEMO_KEY, 1);
        apr_hash_set(memo, apr_pstrdup(p, pem), APR_HASH_KEY_STRING, req);
        apr_hash_set(memo, c->pem, APR_HASH_KEY_STRING, req);
    }
    /* the caller's copy, so that the remembered one stays as parsed */
    return so_csr_parse(p, pem, out, why);
}

apr_status_t so_csr_check_key(const so_csr_t *csr, const char **why)
{
    if (!strcmp(csr->key_type, "rsa")) {
        if (csr->key_bits < 2048) {
            *why = "the RSA key is shorter than 2048 bits";
            return APR_EINVAL;
        }
        if (csr->key_bits > 8192) {
            *why = "the RSA key is longer than 8192 bits";
            return APR_EINVAL;
        }
        if (csr->key_weak) {
            *why = csr->key_weak;
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (!strcmp(csr->key_type, "ec")) {
        if (!strcmp(csr->curve, "P-256") || !strcmp(csr->curve, "P-384")) {
            return APR_SUCCESS;
        }
        *why = "the EC key is not on curve P-256 or P-384";
        return APR_EINVAL;
    }
    *why = "the key is neither RSA nor EC (P-256, P-384)";
    return APR_EINVAL;
}

static int add_entry(X509_NAME *n, const char *field, const char *value)
{
    if (!value || !*value) {
        return 1;
    }
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
                                      0);
}

static const char *cnf_escape(apr_pool_t *p, const char *s)
{
    /* OpenSSL config values: quote what could be read as syntax */
    if (strpbrk(s, "#$\\\"=,")) {
        char *out = apr_palloc(p, strlen(s) * 2 + 3), *o = out;
        *o++ = '"';
        for (; *s; s++) {
            if (*s == '"' || *s == '\\' || *s == '$') {
                *o++ = '\\';
            }
            *o++ = *s;
        }
        *o++ = '"';
        *o = '\0';
        return out;
    }
    return s;
}

/* the openssl req configuration that makes the same request */
static const char *openssl_config(apr_pool_t *p, const so_csr_gen_t *in, const char *san)
{
    int i;
    const char *dn = "";
    struct {
        const char *k, *v;
    } f[] = {{"C", in->country},      {"ST", in->state}, {"L", in->locality},
             {"O", in->organization}, {"OU", in->unit},  {"CN", in->common_name},
             {"emailAddress", in->email}};
    for (i = 0; i < (int)(sizeof(f) / sizeof(f[0])); i++) {
        if (f[i].v && *f[i].v) {
            dn = apr_pstrcat(p, dn, f[i].k, " = ", cnf_escape(p, f[i].v), "\n", NULL);
        }
    }
    return apr_pstrcat(p,
                      "[ req ]\nprompt = no\ndistinguished_name = dn\nreq_extensions = ext\n"
                       "default_md = sha256\n\n[ dn ]\n",
                      dn, "\n[ ext ]\nsubjectAltName = ", san, "\n", NULL);
}

/* the openssl command line that uses that configuration */
static const char *openssl_command(apr_pool_t *p, const so_csr_gen_t *in, const char *keyspec)
{
    /* file names: the common name with "*" as "STAR", as the bundles name files */
    char *base = apr_pstrdup(p, in->common_name), *c;
    for (c = base; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '-' || *c == '.')) {
            *c = '_';
        }
    }
    if (base[0] == '_' && base[1] == '.') {
        base = apr_pstrcat(p, "STAR", base + 1, NULL);
    }
    return apr_psprintf(p,
                        "openssl req -new -newkey %s -nodes -keyout %s.key -out %s.csr "
                        "-config %s.cnf",
                        keyspec, base, base, base);
}

/* a new EC (P-256 or P-384) or RSA key, and its -newkey argument for openssl req */
static EVP_PKEY *new_key(apr_pool_t *p, const so_csr_gen_t *in, const char **keyspec)
{
    EVP_PKEY *pk;

    if (in->key_type && !strcmp(in->key_type, "ec")) {
        const char *group = in->curve && !strcmp(in->curve, "P-384") ? "P-384" : "P-256";
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
        *keyspec = apr_pstrcat(p, "ec -pkeyopt ec_paramgen_curve:", group, NULL);
    }
    else {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)in->bits);
        *keyspec = apr_psprintf(p, "rsa:%d", in->bits);
    }
    return pk;
}

apr_status_t so_csr_generate(apr_pool_t *p, const so_csr_gen_t *in, const char **csr_pem,
                             const char **key_pem, const char **config, const char **command,
                             const char **why)
{
    EVP_PKEY *pk = NULL;
    X509_REQ *req = NULL;
    X509_NAME *name;
    BIO *bio = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_EXTENSION *ext = NULL;
    apr_array_header_t *all;
    const char *san = "", *keyspec;
    int i;
    apr_status_t rv = APR_EINVAL;

    *why = NULL;
    if (!in->common_name || !*in->common_name) {
        *why = "common_name is required";
        return APR_EINVAL;
    }
    all = apr_array_make(p, 4, sizeof(const char *));
    add_name(all, in->common_name);
    for (i = 0; in->sans && i < in->sans->nelts; i++) {
        add_name(all, APR_ARRAY_IDX(in->sans, i, const char *));
    }
    for (i = 0; i < all->nelts; i++) {
        san = apr_pstrcat(p, san, i ? "," : "", "DNS:", APR_ARRAY_IDX(all, i, const char *), NULL);
    }
    ERR_clear_error();
    pk = new_key(p, in, &keyspec);
    if (!pk) {
        *why = "the key could not be generated";
        goto leave;
    }
    req = X509_REQ_new();
    name = X509_NAME_new();
    if (!req || !name || !X509_REQ_set_version(req, 0)
        || !add_entry(name, "C", in->country) || !add_entry(name, "ST", in->state)
        || !add_entry(name, "L", in->locality) || !add_entry(name, "O", in->organization)
        || !add_entry(name, "OU", in->unit) || !add_entry(name, "CN", in->common_name)
        || !add_entry(name, "emailAddress", in->email) || !X509_REQ_set_subject_name(req, name)) {
        X509_NAME_free(name);
        *why = "the subject could not be encoded (check the country: two letters)";
        goto leave;
    }
    X509_NAME_free(name);
    exts = sk_X509_EXTENSION_new_null();
    ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    if (!exts || !ext || !sk_X509_EXTENSION_push(exts, ext)) {
        X509_EXTENSION_free(ext);
        *why = "a subject alternative name could not be encoded";
        goto leave;
    }
    if (!X509_REQ_add_extensions(req, exts) || !X509_REQ_set_pubkey(req, pk)
        || X509_REQ_sign(req, pk, EVP_sha256()) <= 0) {
        *why = "the CSR could not be signed";
        goto leave;
    }
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509_REQ(bio, req)) {
        *why = "the CSR could not be encoded";
        goto leave;
    }
    *csr_pem = bio_text(p, bio);
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL)) {
        *why = "the key could not be encoded";
        goto leave;
    }
    *key_pem = bio_text(p, bio);
    {
        /* clear the key text in the BIO before it is freed */
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0) {
            OPENSSL_cleanse(data, (size_t)n);
        }
    }
    if (config) {
        *config = openssl_config(p, in, san);
    }
    if (command) {
        *command = openssl_command(p, in, keyspec);
    }
    rv = APR_SUCCESS;

leave:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    EVP_PKEY_free(pk);
    BIO_free(bio);
    ERR_clear_error();
    return rv;
}
