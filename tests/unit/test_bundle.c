/* Certificate bundles: every format built from a real chain made here with OpenSSL,
 * unpacked (libzip) and parsed (OpenSSL) back; exactly which certificates are in
 * which file, in which order, under which name. */
#include <string.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zip.h>

#include "test_common.h"
#include "../../src/core/so_bundle.h"

/* 2026-01-02 03:04:06 UTC: the notBefore of every test certificate */
#define NOT_BEFORE 1767323046L

static apr_pool_t *pool;

/* a chain: certs[0] = leaf, then intermediates (issuer first), last = root */
typedef struct {
    int n;
    X509 *certs[5];
    EVP_PKEY *keys[5];
    const char *pem[5];
    const char *der[5];
    apr_size_t der_len[5];
} tchain_t;

static tchain_t chain3, chain4;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    ck_assert_ptr_nonnull(e);
    ck_assert(X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

static X509 *mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
                    const char *san, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX ctx;

    ck_assert(X509_set_version(x, 2));
    ck_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notBefore(x), NOT_BEFORE));
    ck_assert_ptr_nonnull(ASN1_TIME_set(X509_getm_notAfter(x), NOT_BEFORE + 90L * 86400));
    name = X509_get_subject_name(x);
    ck_assert(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                         (const unsigned char *)"Bundle Test", -1, -1, 0));
    ck_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                         -1, -1, 0));
    ck_assert(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
    ck_assert(X509_set_pubkey(x, key));
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, &ctx, NID_key_usage,
            ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (issuer) {
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    if (san) {
        add_ext(x, &ctx, NID_subject_alt_name, san);
    }
    ck_assert(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static const char *pem_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *d;
    long n;
    const char *s;

    ck_assert(PEM_write_bio_X509(b, x));
    n = BIO_get_mem_data(b, &d);
    s = apr_pstrmemdup(pool, d, (apr_size_t)n);
    BIO_free(b);
    return s;
}

/* names[0] is the root's CN, the last the leaf's */
static void make_chain(tchain_t *c, int n, const char *const *names)
{
    int i;

    memset(c, 0, sizeof(*c));
    c->n = n;
    for (i = n - 1; i >= 0; i--) {
        int lvl = n - 1 - i; /* 0 = root */
        c->keys[i] = EVP_EC_gen("P-256");
        ck_assert_ptr_nonnull(c->keys[i]);
        c->certs[i] = mkcert(names[lvl], c->keys[i], i == n - 1 ? NULL : c->certs[i + 1],
                             i == n - 1 ? NULL : c->keys[i + 1], i != 0,
                             i == 0 ? "DNS:*.example.com,DNS:example.com" : NULL, 100 + lvl);
    }
    for (i = 0; i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(c->certs[i], &der);
        ck_assert_int_gt(len, 0);
        c->der[i] = apr_pmemdup(pool, der, (apr_size_t)len);
        c->der_len[i] = (apr_size_t)len;
        OPENSSL_free(der);
        c->pem[i] = pem_of(c->certs[i]);
    }
}

static void free_chain(tchain_t *c)
{
    int i;
    for (i = 0; i < c->n; i++) {
        X509_free(c->certs[i]);
        EVP_PKEY_free(c->keys[i]);
    }
}

static void setup(void)
{
    static const char *const n3[] = {"Test Root CA", "Test Issuing CA (R1)", "*.example.com"};
    static const char *const n4[] = {"Test Root CA", "Test Policy CA", "Test Issuing CA 2",
                                     "*.example.com"};
    apr_pool_create(&pool, NULL);
    make_chain(&chain3, 3, n3);
    make_chain(&chain4, 4, n4);
}

static void teardown(void)
{
    free_chain(&chain3);
    free_chain(&chain4);
    apr_pool_destroy(pool);
}

/* input: leaf, intermediates (issuer first), root */
static so_bundle_input_t input_of(const tchain_t *c)
{
    so_bundle_input_t in;
    int i;
    const char *ints = "";

    for (i = 1; i < c->n - 1; i++) {
        ints = apr_pstrcat(pool, ints, c->pem[i], NULL);
    }
    in.leaf_pem = c->pem[0];
    in.chain_pem = ints;
    in.root_pem = c->pem[c->n - 1];
    in.common_name = "*.example.com";
    return in;
}

/* "L" leaf, "1".."3" intermediate i (1 = issuer of the leaf), "R" root: the
 * certificates of a PEM text, in order, as such a string. Fails on anything else. */
static const char *ids_of_certs(const tchain_t *c, STACK_OF(X509) *sk)
{
    char *ids = apr_pcalloc(pool, 16);
    int i, k;

    for (i = 0; i < sk_X509_num(sk); i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(sk, i), &der);
        char id = '?';
        for (k = 0; k < c->n; k++) {
            if ((apr_size_t)len == c->der_len[k] && !memcmp(der, c->der[k], (apr_size_t)len)) {
                id = k == 0 ? 'L' : k == c->n - 1 ? 'R' : (char)('0' + k);
            }
        }
        OPENSSL_free(der);
        ck_assert_msg(id != '?', "a certificate that is not from the chain");
        ids[i] = id;
    }
    return ids;
}

static const char *ids_of_pem(const tchain_t *c, const char *data, apr_size_t len)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    const char *ids, *s;
    int begins = 0;

    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        sk_X509_push(sk, x);
    }
    ERR_clear_error();
    /* nothing but certificates: one BEGIN line per certificate, LF line ends */
    for (s = data; (s = strstr(s, "-----BEGIN ")); s++) {
        begins++;
    }
    ck_assert_int_eq(begins, sk_X509_num(sk));
    ck_assert_ptr_null(memchr(data, '\r', len));
    ck_assert(len > 0 && data[len - 1] == '\n');
    ids = ids_of_certs(c, sk);
    sk_X509_pop_free(sk, X509_free);
    BIO_free(b);
    return ids;
}

static const char *ids_of_pkcs7(const tchain_t *c, const char *data, apr_size_t len)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    PKCS7 *p7 = PEM_read_bio_PKCS7(b, NULL, NULL, NULL);
    const char *ids;

    ck_assert_ptr_nonnull(p7);
    ck_assert(PKCS7_type_is_signed(p7));
    ck_assert_int_eq(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
    ids = ids_of_certs(c, p7->d.sign->cert);
    PKCS7_free(p7);
    BIO_free(b);
    return ids;
}

/* "name=IDS;name=IDS;" of a ZIP: every entry in order, each parsed as PEM */
static const char *zip_listing(const tchain_t *c, const so_bundle_t *b)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za;
    zip_int64_t n, i;
    const char *out = "";

    zip_error_init(&ze);
    src = zip_source_buffer_create(b->data, b->len, 0, &ze);
    ck_assert_ptr_nonnull(src);
    za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    ck_assert_msg(za != NULL, "libzip cannot open the bundle: %s", zip_error_strerror(&ze));
    n = zip_get_num_entries(za, 0);
    for (i = 0; i < n; i++) {
        zip_stat_t st;
        zip_file_t *zf;
        char *buf;
        ck_assert_int_eq(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
        buf = apr_palloc(pool, (apr_size_t)st.size + 1);
        zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        ck_assert_ptr_nonnull(zf);
        ck_assert_int_eq(zip_fread(zf, buf, st.size), (zip_int64_t)st.size);
        zip_fclose(zf);
        buf[st.size] = '\0';
        out = apr_psprintf(pool, "%s%s=%s;", out, st.name,
                           ids_of_pem(c, buf, (apr_size_t)st.size));
    }
    zip_close(za);
    zip_error_fini(&ze);
    return out;
}

/* The expected result of every format for chain3 (leaf *.example.com). */
static const struct {
    const char *format;
    const char *filename;
    const char *ctype;
    char kind; /* P = PEM, 7 = PKCS#7, D = DER, Z = ZIP */
    const char *contents;
} expect3[] = {
    {"iis", "STAR_example_com.p7b", "application/x-pkcs7-certificates", '7', "L1R"},
    {"cpanel", "STAR_example_com.zip", "application/zip", 'Z',
     "STAR_example_com.ca-bundle=1R;STAR_example_com.crt=L;"},
    {"apache", "STAR_example_com.zip", "application/zip", 'Z',
     "ca-bundle-client.crt=1;STAR_example_com.crt=L;"},
    {"amazon", "STAR_example_com.zip", "application/zip", 'Z',
     "ca-chain-amazon.crt=1R;STAR_example_com.crt=L;"},
    {"nginx", "STAR_example_com.chained.crt", "application/x-pem-file", 'P', "L1"},
    {"nodejs", "STAR_example_com.chained.crt", "application/x-pem-file", 'P', "L1"},
    {"tomcat", "STAR_example_com.zip", "application/zip", 'Z',
     "TEST_ROOT_CA.crt=R;TEST_ISSUING_CA__R1_.crt=1;STAR_example_com.crt=L;"},
    {"other", "STAR_example_com.zip", "application/zip", 'Z',
     "TEST_ROOT_CA.crt=R;TEST_ISSUING_CA__R1_.crt=1;STAR_example_com.crt=L;"},
    {"ca-bundle", "STAR_example_com.ca-bundle", "application/x-pem-file", 'P', "1R"},
    {"pem", "STAR_example_com.crt", "application/x-pem-file", 'P', "L"},
    {"der", "STAR_example_com.der", "application/pkix-cert", 'D', "L"},
    {"default", "STAR_example_com.zip", "application/zip", 'Z',
     "TEST_ROOT_CA.crt=R;TEST_ISSUING_CA__R1_.crt=1;STAR_example_com.crt=L;"},
    {"default_pem", "STAR_example_com.zip", "application/zip", 'Z',
     "TEST_ROOT_CA.crt=R;TEST_ISSUING_CA__R1_.crt=1;STAR_example_com.crt=L;"},
    {"default_cer", "STAR_example_com.zip", "application/zip", 'Z',
     "TEST_ROOT_CA.cer=R;TEST_ISSUING_CA__R1_.cer=1;STAR_example_com.cer=L;"},
    {"cer", "STAR_example_com.cer", "application/x-pkcs7-certificates", '7', "L1R"},
    {"p7b", "STAR_example_com.p7b", "application/x-pkcs7-certificates", '7', "L1R"},
    {"pem_all", "STAR_example_com.pem", "application/x-pem-file", 'P', "L1R"},
    {"pem_noroot", "STAR_example_com.pem", "application/x-pem-file", 'P', "L1"},
    {"pem_nointermediate", "STAR_example_com.pem", "application/x-pem-file", 'P', "L"},
};

static const char *contents_of(const tchain_t *c, const so_bundle_t *b, char kind)
{
    switch (kind) {
    case 'P': return ids_of_pem(c, b->data, b->len);
    case '7':
        ck_assert(!strncmp(b->data, "-----BEGIN PKCS7-----\n", 22));
        return ids_of_pkcs7(c, b->data, b->len);
    case 'Z': return zip_listing(c, b);
    case 'D': {
        const unsigned char *d = (const unsigned char *)b->data;
        X509 *x = d2i_X509(NULL, &d, (long)b->len);
        STACK_OF(X509) *sk = sk_X509_new_null();
        const char *ids;
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_eq(d, (const unsigned char *)b->data + b->len); /* nothing after it */
        sk_X509_push(sk, x);
        ids = ids_of_certs(c, sk);
        sk_X509_pop_free(sk, X509_free);
        return ids;
    }
    }
    ck_abort_msg("bad kind");
    return NULL;
}

START_TEST(every_format)
{
    so_bundle_input_t in = input_of(&chain3);
    const so_bundle_format_t *f;
    size_t i;

    for (i = 0; i < sizeof(expect3) / sizeof(expect3[0]); i++) {
        so_bundle_t *b = NULL;
        const char *why = NULL;
        apr_status_t rv = so_bundle_build(&b, pool, &in, expect3[i].format, &why);
        ck_assert_msg(rv == APR_SUCCESS, "%s: %s", expect3[i].format, why ? why : "?");
        ck_assert_str_eq(b->format, expect3[i].format);
        ck_assert_str_eq(b->filename, expect3[i].filename);
        ck_assert_str_eq(b->content_type, expect3[i].ctype);
        ck_assert_msg(!strcmp(contents_of(&chain3, b, expect3[i].kind), expect3[i].contents),
                      "%s: got %s, want %s", expect3[i].format,
                      contents_of(&chain3, b, expect3[i].kind), expect3[i].contents);
    }
    /* every listed format has its expectation above */
    for (f = so_bundle_formats(); f->name; f++) {
        int found = 0;
        for (i = 0; i < sizeof(expect3) / sizeof(expect3[0]); i++) {
            found |= !strcmp(expect3[i].format, f->name);
        }
        ck_assert_msg(found, "format %s is not tested", f->name);
        ck_assert(f->label && *f->label && f->description && *f->description);
    }
}
END_TEST

/* two intermediates: which way round each bundle holds them */
START_TEST(chain_order)
{
    so_bundle_input_t in = input_of(&chain4);
    static const struct {
        const char *format;
        char kind;
        const char *contents;
    } want[] = {
        {"nginx", 'P', "L12"},
        {"ca-bundle", 'P', "12R"},
        {"pem_all", 'P', "L12R"},
        {"pem_noroot", 'P', "L12"},
        {"iis", '7', "L12R"},
        {"apache", 'Z', "ca-bundle-client.crt=21;STAR_example_com.crt=L;"},
        {"amazon", 'Z', "ca-chain-amazon.crt=12R;STAR_example_com.crt=L;"},
        {"cpanel", 'Z', "STAR_example_com.ca-bundle=12R;STAR_example_com.crt=L;"},
        {"tomcat", 'Z',
         "TEST_ROOT_CA.crt=R;TEST_POLICY_CA.crt=2;TEST_ISSUING_CA_2.crt=1;"
         "STAR_example_com.crt=L;"},
    };
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        so_bundle_t *b;
        const char *why = NULL, *got;
        ck_assert_int_eq(so_bundle_build(&b, pool, &in, want[i].format, &why), APR_SUCCESS);
        got = contents_of(&chain4, b, want[i].kind);
        ck_assert_msg(!strcmp(got, want[i].contents), "%s: got %s, want %s", want[i].format,
                      got, want[i].contents);
    }
}
END_TEST

START_TEST(root_in_chain_and_no_root)
{
    so_bundle_input_t in = input_of(&chain3);
    so_bundle_t *b;
    const char *why;

    /* the root at the end of the chain and no root: taken as the root */
    in.chain_pem = apr_pstrcat(pool, chain3.pem[1], chain3.pem[2], NULL);
    in.root_pem = NULL;
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "ca-bundle", &why), APR_SUCCESS);
    ck_assert_str_eq(ids_of_pem(&chain3, b->data, b->len), "1R");
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "nginx", &why), APR_SUCCESS);
    ck_assert_str_eq(ids_of_pem(&chain3, b->data, b->len), "L1");
    /* ... and given twice: once only */
    in.root_pem = chain3.pem[2];
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem_all", &why), APR_SUCCESS);
    ck_assert_str_eq(ids_of_pem(&chain3, b->data, b->len), "L1R");
    /* no root at all */
    in.chain_pem = chain3.pem[1];
    in.root_pem = "";
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "other", &why), APR_SUCCESS);
    ck_assert_str_eq(zip_listing(&chain3, b), "TEST_ISSUING_CA__R1_.crt=1;STAR_example_com.crt=L;");
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "p7b", &why), APR_SUCCESS);
    ck_assert_str_eq(ids_of_pkcs7(&chain3, b->data, b->len), "L1");
    /* no common name given: the leaf's */
    in.common_name = NULL;
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem", &why), APR_SUCCESS);
    ck_assert_str_eq(b->filename, "STAR_example_com.crt");
}
END_TEST

START_TEST(bad_input)
{
    so_bundle_input_t in = input_of(&chain4);
    so_bundle_t *b = NULL;
    const char *why;

    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "zip-of-everything", &why), APR_ENOENT);
    ck_assert_ptr_nonnull(why);
    /* intermediates issuer last */
    in.chain_pem = apr_pstrcat(pool, chain4.pem[2], chain4.pem[1], NULL);
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "nginx", &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "not in order"));
    /* a root that did not issue the chain */
    in = input_of(&chain4);
    in.root_pem = chain3.pem[2];
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "nginx", &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "root"));
    /* a server certificate of another chain with the very same names */
    {
        static const char *const n3[] = {"Test Root CA", "Test Issuing CA (R1)",
                                         "*.example.com"};
        tchain_t other;
        make_chain(&other, 3, n3);
        in = input_of(&chain3);
        in.leaf_pem = other.pem[0];
        ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem", &why), APR_EINVAL);
        ck_assert_ptr_nonnull(strstr(why, "not issued by \"Test Issuing CA (R1)\""));
        free_chain(&other);
    }
    /* no server certificate, two, damaged PEM */
    in = input_of(&chain3);
    in.leaf_pem = "";
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem", &why), APR_EINVAL);
    ck_assert_str_eq(why, "the server certificate is missing");
    in.leaf_pem = apr_pstrcat(pool, chain3.pem[0], chain3.pem[0], NULL);
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem", &why), APR_EINVAL);
    in.leaf_pem = "-----BEGIN CERTIFICATE-----\nMIIBzz==\n-----END CERTIFICATE-----\n";
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "pem", &why), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "not a valid PEM"));
    ck_assert_int_eq(so_bundle_build(&b, pool, NULL, "pem", &why), APR_EINVAL);
}
END_TEST

START_TEST(only_certificates_leave)
{
    so_bundle_input_t in = input_of(&chain3);
    so_bundle_t *b;
    const char *why;
    BIO *bio = BIO_new(BIO_s_mem());
    char *key;
    long n;

    /* a private key stored along with the certificate never reaches a bundle */
    ck_assert(PEM_write_bio_PrivateKey(bio, chain3.keys[0], NULL, NULL, 0, NULL, NULL));
    n = BIO_get_mem_data(bio, &key);
    in.leaf_pem = apr_pstrcat(pool, apr_pstrmemdup(pool, key, (apr_size_t)n), "junk\n",
                              chain3.pem[0], NULL);
    BIO_free(bio);
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "nginx", &why), APR_SUCCESS);
    ck_assert_ptr_null(strstr(b->data, "PRIVATE KEY"));
    ck_assert_str_eq(ids_of_pem(&chain3, b->data, b->len), "L1");
}
END_TEST

START_TEST(zip_is_deterministic)
{
    so_bundle_input_t in = input_of(&chain3);
    so_bundle_t *a, *b;
    const char *why;
    const unsigned char *d;
    unsigned dtime, ddate;

    ck_assert_int_eq(so_bundle_build(&a, pool, &in, "other", &why), APR_SUCCESS);
    ck_assert_int_eq(so_bundle_build(&b, pool, &in, "other", &why), APR_SUCCESS);
    ck_assert_uint_eq(a->len, b->len);
    ck_assert(!memcmp(a->data, b->data, a->len));
    /* the first local file header carries the leaf's notBefore: 2026-01-02 03:04:06 */
    d = (const unsigned char *)a->data;
    ck_assert(!memcmp(d, "PK\x03\x04", 4));
    dtime = (unsigned)(d[10] | d[11] << 8);
    ddate = (unsigned)(d[12] | d[13] << 8);
    ck_assert_uint_eq(dtime, (3u << 11) | (4u << 5) | 3u);
    ck_assert_uint_eq(ddate, ((2026u - 1980u) << 9) | (1u << 5) | 2u);
}
END_TEST

START_TEST(names_and_lists)
{
    const so_bundle_format_t *f;
    const so_bundle_software_t *s;
    static const char *const portal[] = {"iis",    "cpanel", "apache", "amazon",   "nginx",
                                         "nodejs", "tomcat", "other",  "ca-bundle", NULL};
    int i = 0;

    ck_assert_str_eq(so_bundle_cn_filename(pool, "*.example.com"), "STAR_example_com");
    ck_assert_str_eq(so_bundle_cn_filename(pool, "www.example.com"), "www_example_com");
    ck_assert_str_eq(so_bundle_cn_filename(pool, "a b/../c\"d"), "a_b____c_d");
    ck_assert_str_eq(so_bundle_cn_filename(pool, ""), "certificate");
    ck_assert_str_eq(so_bundle_cn_filename(pool, NULL), "certificate");

    for (f = so_bundle_formats(); f->name && f->portal; f++) {
        ck_assert_ptr_nonnull(portal[i]);
        ck_assert_str_eq(f->name, portal[i++]);
    }
    ck_assert_ptr_null(portal[i]);
    for (; f->name; f++) {
        ck_assert_int_eq(f->portal, 0);
    }
    f = so_bundle_format_find("other");
    ck_assert_str_eq(f->label, "Other platforms");
    ck_assert_ptr_nonnull(strstr(f->description, "1 root, 1 intermediate, 1 server certificate"));
    f = so_bundle_format_find("CA_Bundle");
    ck_assert_str_eq(f->name, "ca-bundle");
    ck_assert_str_eq(f->label, "CA bundle (intermediate certs)");
    ck_assert_ptr_nonnull(strstr(f->description, "NOT the server certificate"));
    ck_assert_str_eq(so_bundle_format_find("AWS")->name, "amazon");
    ck_assert_ptr_null(so_bundle_format_find("zip"));
    ck_assert_ptr_null(so_bundle_format_find(NULL));

    ck_assert_str_eq(so_bundle_default_for_software("windows"), "iis");
    ck_assert_str_eq(so_bundle_default_for_software("IIS"), "iis");
    ck_assert_str_eq(so_bundle_default_for_software("linux"), "other");
    ck_assert_str_eq(so_bundle_default_for_software("nginx"), "nginx");
    ck_assert_str_eq(so_bundle_default_for_software("apache"), "apache");
    ck_assert_str_eq(so_bundle_default_for_software("cpanel"), "cpanel");
    ck_assert_str_eq(so_bundle_default_for_software("amazon"), "amazon");
    ck_assert_str_eq(so_bundle_default_for_software("tomcat"), "tomcat");
    ck_assert_str_eq(so_bundle_default_for_software("nodejs"), "nodejs");
    ck_assert_str_eq(so_bundle_default_for_software("plan9"), "other");
    ck_assert_str_eq(so_bundle_default_for_software(NULL), "other");
    for (i = 0, s = so_bundle_software_list(); s->id; s++, i++) {
        ck_assert_ptr_nonnull(so_bundle_format_find(s->format));
        ck_assert_str_eq(so_bundle_default_for_software(s->id), s->format);
    }
    ck_assert_int_eq(i, 10);
}
END_TEST

TCase *so_test_bundle_case(void)
{
    TCase *tc = tcase_create("bundle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_format);
    tcase_add_test(tc, chain_order);
    tcase_add_test(tc, root_in_chain_and_no_root);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, only_certificates_leave);
    tcase_add_test(tc, zip_is_deterministic);
    tcase_add_test(tc, names_and_lists);
    return tc;
}
