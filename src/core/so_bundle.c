#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zip.h>

#include "so_bundle.h"
#include "so_log.h"

#define MAX_INTS 8
#define MAX_CN_BYTES 200

/* what goes into a PEM file, in this order */
#define S_LEAF 0x01
#define S_INTS 0x02     /* issuer of the leaf first */
#define S_INTS_REV 0x04 /* root side first */
#define S_ROOT 0x08

typedef enum {
    B_PKCS7,    /* one PKCS#7 file (PEM): leaf, ints, root */
    B_PEM,      /* one PEM file with sel */
    B_DER,      /* the leaf in DER */
    B_ZIP_PAIR, /* ZIP: a CA file with sel + <cn>.crt */
    B_ZIP_SEP   /* ZIP: every certificate its own file */
} build_t;

typedef struct {
    build_t how;
    unsigned sel;        /* B_PEM, B_ZIP_PAIR (the CA file) */
    const char *ca_file; /* B_ZIP_PAIR: fixed name, NULL: <cn>.ca-bundle */
    const char *sep_ext; /* B_ZIP_SEP: extension of every file */
} recipe_t;

/* so_bundle_formats() and recipes[] are in the same order */
static const so_bundle_format_t formats[] = {
    {"iis", "Microsoft IIS (*.p7b)",
     "PKCS#7 file with the server certificate and the CA chain, for the IIS certificate import.",
     "p7b", 1},
    {"cpanel", "WHM/cPanel",
     "ZIP file with the CA bundle (.ca-bundle) and the server certificate (.crt).", "zip", 1},
    {"apache", "Apache",
     "ZIP file with ca-bundle-client.crt (the intermediate certificates) and the server "
     "certificate (.crt).",
     "zip", 1},
    {"amazon", "Amazon",
     "ZIP file with ca-chain-amazon.crt (the chain, issuing CA first) and the server "
     "certificate (.crt).",
     "zip", 1},
    {"nginx", "Nginx",
     "Single file with the server certificate followed by the intermediate certificates.",
     "chained.crt", 1},
    {"nodejs", "V8+Node.js",
     "Single file with the server certificate followed by the intermediate certificates.",
     "chained.crt", 1},
    {"tomcat", "Java/Tomcat",
     "ZIP file with the root, the intermediate and the server certificate as separate files.",
     "zip", 1},
    {"other", "Other platforms",
     "ZIP file with all the relevant certificates (1 root, 1 intermediate, 1 server "
     "certificate).",
     "zip", 1},
    {"ca-bundle", "CA bundle (intermediate certs)",
     "Single concatenated file containing the intermediate and root certificates, NOT the "
     "server certificate.",
     "ca-bundle", 1},
    {"pem", "Server certificate (PEM)", "The server certificate alone, PEM encoded.", "crt", 0},
    {"der", "Server certificate (DER)", "The server certificate alone, DER encoded.", "der", 0},
    {"default", "All certificates (ZIP, .crt)",
     "ZIP file with the root, the intermediate(s) and the server certificate as separate .crt "
     "files.",
     "zip", 0},
    {"default_pem", "All certificates (ZIP, PEM)",
     "ZIP file with the root, the intermediate(s) and the server certificate as separate .crt "
     "files.",
     "zip", 0},
    {"default_cer", "All certificates (ZIP, .cer)",
     "ZIP file with the root, the intermediate(s) and the server certificate as separate .cer "
     "files.",
     "zip", 0},
    {"cer", "PKCS#7 (.cer)",
     "PKCS#7 file with the server certificate, the intermediate(s) and the root.", "cer", 0},
    {"p7b", "PKCS#7 (.p7b)",
     "PKCS#7 file with the server certificate, the intermediate(s) and the root.", "p7b", 0},
    {"pem_all", "PEM, full chain",
     "Single PEM file: the server certificate, the intermediate(s), the root.", "pem", 0},
    {"pem_noroot", "PEM, without root",
     "Single PEM file: the server certificate and the intermediate(s).", "pem", 0},
    {"pem_nointermediate", "PEM, server certificate only",
     "Single PEM file with the server certificate alone.", "pem", 0},
    {NULL, NULL, NULL, NULL, 0}};

static const recipe_t recipes[] = {
    {B_PKCS7, 0, NULL, NULL},                             /* iis */
    {B_ZIP_PAIR, S_INTS | S_ROOT, NULL, NULL},            /* cpanel */
    {B_ZIP_PAIR, S_INTS_REV, "ca-bundle-client.crt", NULL}, /* apache */
    {B_ZIP_PAIR, S_INTS | S_ROOT, "ca-chain-amazon.crt", NULL}, /* amazon */
    {B_PEM, S_LEAF | S_INTS, NULL, NULL},                 /* nginx */
    {B_PEM, S_LEAF | S_INTS, NULL, NULL},                 /* nodejs */
    {B_ZIP_SEP, 0, NULL, "crt"},                          /* tomcat */
    {B_ZIP_SEP, 0, NULL, "crt"},                          /* other */
    {B_PEM, S_INTS | S_ROOT, NULL, NULL},                 /* ca-bundle */
    {B_PEM, S_LEAF, NULL, NULL},                          /* pem */
    {B_DER, 0, NULL, NULL},                               /* der */
    {B_ZIP_SEP, 0, NULL, "crt"},                          /* default */
    {B_ZIP_SEP, 0, NULL, "crt"},                          /* default_pem */
    {B_ZIP_SEP, 0, NULL, "cer"},                          /* default_cer */
    {B_PKCS7, 0, NULL, NULL},                             /* cer */
    {B_PKCS7, 0, NULL, NULL},                             /* p7b */
    {B_PEM, S_LEAF | S_INTS | S_ROOT, NULL, NULL},        /* pem_all */
    {B_PEM, S_LEAF | S_INTS, NULL, NULL},                 /* pem_noroot */
    {B_PEM, S_LEAF, NULL, NULL},                          /* pem_nointermediate */
};

_Static_assert(sizeof(recipes) / sizeof(recipes[0]) == sizeof(formats) / sizeof(formats[0]) - 1,
               "one recipe per format");

static const struct {
    const char *alias;
    const char *name;
} aliases[] = {{"ca_bundle", "ca-bundle"}, {"cabundle", "ca-bundle"}, {"node", "nodejs"},
               {"whm", "cpanel"},          {"aws", "amazon"},         {"java", "tomcat"},
               {"pkcs7", "p7b"},           {"crt", "pem"},            {NULL, NULL}};

static const so_bundle_software_t software[] = {
    {"linux", "Linux", "other"},
    {"windows", "Microsoft Windows", "iis"},
    {"apache", "Apache", "apache"},
    {"nginx", "Nginx", "nginx"},
    {"iis", "Microsoft IIS", "iis"},
    {"tomcat", "Java/Tomcat", "tomcat"},
    {"nodejs", "V8+Node.js", "nodejs"},
    {"cpanel", "WHM/cPanel", "cpanel"},
    {"amazon", "Amazon", "amazon"},
    {"other", "Other", "other"},
    {NULL, NULL, NULL}};

const so_bundle_format_t *so_bundle_formats(void)
{
    return formats;
}

const so_bundle_software_t *so_bundle_software_list(void)
{
    return software;
}

const so_bundle_format_t *so_bundle_format_find(const char *name)
{
    int i;

    if (!name) {
        return NULL;
    }
    for (i = 0; aliases[i].alias; i++) {
        if (!strcasecmp(name, aliases[i].alias)) {
            name = aliases[i].name;
            break;
        }
    }
    for (i = 0; formats[i].name; i++) {
        if (!strcasecmp(name, formats[i].name)) {
            return &formats[i];
        }
    }
    return NULL;
}

const char *so_bundle_default_for_software(const char *sw)
{
    int i;

    for (i = 0; sw && software[i].id; i++) {
        if (!strcasecmp(sw, software[i].id)) {
            return software[i].format;
        }
    }
    return "other";
}

const char *so_bundle_cn_filename(apr_pool_t *p, const char *cn)
{
    apr_size_t o = 0;
    char *out;
    const char *c;

    if (!cn || !*cn) {
        return "certificate";
    }
    out = apr_palloc(p, MAX_CN_BYTES + 1);
    for (c = cn; *c && o < MAX_CN_BYTES; c++) {
        if (*c == '*') {
            if (o + 4 > MAX_CN_BYTES) {
                break;
            }
            memcpy(out + o, "STAR", 4);
            o += 4;
        }
        else if (apr_isalnum(*c) || *c == '-' || *c == '_') {
            out[o++] = *c;
        }
        else {
            out[o++] = '_';
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- certificates ---------------------------------------------------------------- */

typedef struct {
    X509 *leaf;
    X509 *ints[MAX_INTS + 1];
    int nints;
    X509 *root;
} chain_t;

static void chain_free(chain_t *c)
{
    int i;

    X509_free(c->leaf);
    for (i = 0; i < c->nints; i++) {
        X509_free(c->ints[i]);
    }
    X509_free(c->root);
}

/* Read every CERTIFICATE block of pem into certs (at most max; *n of them). Other
 * PEM blocks are skipped. APR_EINVAL with *why on a damaged block or too many (and
 * nothing is kept). */
static apr_status_t read_certs(const char *pem, X509 **certs, int max, int *n, const char *what,
                               apr_pool_t *p, const char **why)
{
    BIO *bio = NULL;
    apr_status_t rv = APR_SUCCESS;

    *n = 0;
    if (!pem || !*pem) {
        goto leave;
    }
    if (!(bio = BIO_new_mem_buf(pem, -1))) {
        rv = APR_ENOMEM;
        goto leave;
    }
    ERR_clear_error();
    for (;;) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!x) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                break;
            }
            *why = apr_psprintf(p, "the %s is not a valid PEM certificate", what);
            rv = APR_EINVAL;
            goto leave;
        }
        if (*n >= max) {
            X509_free(x);
            *why = max == 1 ? apr_psprintf(p, "the %s must hold one certificate only", what)
                            : apr_psprintf(p, "the %s holds more than %d certificates", what, max);
            rv = APR_EINVAL;
            goto leave;
        }
        certs[(*n)++] = x;
    }
leave:
    if (rv != APR_SUCCESS) {
        while (*n > 0) {
            X509_free(certs[--(*n)]);
        }
    }
    ERR_clear_error();
    BIO_free(bio);
    return rv;
}

/* The subject CN of x as UTF-8, or NULL. */
static const char *subject_cn(apr_pool_t *p, X509 *x)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    const char *cn = NULL;
    int n;

    if (i < 0) {
        return NULL;
    }
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) {
        cn = apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)n);
    }
    OPENSSL_free(utf8);
    return cn;
}

static const char *display_name(apr_pool_t *p, X509 *x)
{
    const char *cn = subject_cn(p, x);
    return cn ? apr_psprintf(p, "\"%s\"", cn) : "a certificate without a common name";
}

/* issuer issued subject: names, key identifiers, key usage and the signature */
static int issued_by(X509 *subject, X509 *issuer)
{
    EVP_PKEY *key;
    int ok;

    if (X509_check_issued(issuer, subject) != X509_V_OK) {
        return 0;
    }
    key = X509_get0_pubkey(issuer);
    ok = key && X509_verify(subject, key) == 1;
    ERR_clear_error();
    return ok;
}

static apr_status_t load_chain(chain_t *c, apr_pool_t *p, const so_bundle_input_t *in,
                               const char **why)
{
    X509 *tmp[2] = {NULL, NULL};
    int n, i;
    apr_status_t rv;

    if ((rv = read_certs(in->leaf_pem, tmp, 1, &n, "server certificate", p, why))
        != APR_SUCCESS) {
        return rv;
    }
    if (n == 0) {
        *why = "the server certificate is missing";
        return APR_EINVAL;
    }
    c->leaf = tmp[0];
    if ((rv = read_certs(in->chain_pem, c->ints, MAX_INTS + 1, &c->nints,
                         "intermediate certificate list", p, why))
        != APR_SUCCESS) {
        return rv;
    }
    if ((rv = read_certs(in->root_pem, tmp, 1, &n, "root certificate", p, why)) != APR_SUCCESS) {
        return rv;
    }
    c->root = n ? tmp[0] : NULL;
    /* a root at the end of the chain: take it as the root, or drop the repeat */
    if (c->nints > 0 && X509_check_issued(c->ints[c->nints - 1], c->ints[c->nints - 1])
                            == X509_V_OK) {
        X509 *last = c->ints[c->nints - 1];
        if (!c->root) {
            c->root = last;
            c->nints--;
        }
        else if (!X509_cmp(last, c->root)) {
            X509_free(last);
            c->nints--;
        }
    }
    ERR_clear_error();
    if (c->nints > MAX_INTS) {
        *why = apr_psprintf(p, "more than %d intermediate certificates", MAX_INTS);
        return APR_EINVAL;
    }
    for (i = 0; i < c->nints; i++) {
        X509 *subject = i == 0 ? c->leaf : c->ints[i - 1];
        if (!issued_by(subject, c->ints[i])) {
            *why = apr_psprintf(p,
                                "the intermediate certificates are not in order (issuer first): "
                                "%s is not issued by %s",
                                display_name(p, subject), display_name(p, c->ints[i]));
            return APR_EINVAL;
        }
    }
    if (c->root) {
        X509 *subject = c->nints ? c->ints[c->nints - 1] : c->leaf;
        if (!issued_by(subject, c->root)) {
            *why = apr_psprintf(p, "%s is not issued by the root certificate %s",
                                display_name(p, subject), display_name(p, c->root));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t x509_pem(const char **out, apr_size_t *len, apr_pool_t *p, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    apr_status_t rv = APR_EGENERAL;

    if (bio && PEM_write_bio_X509(bio, x) && (n = BIO_get_mem_data(bio, &data)) > 0) {
        *out = apr_pstrmemdup(p, data, (apr_size_t)n);
        *len = (apr_size_t)n;
        rv = APR_SUCCESS;
    }
    BIO_free(bio);
    return rv;
}

/* The PEM text of the certificates sel selects, in the order of the flags. */
static apr_status_t pem_select(const char **out, apr_size_t *len, apr_pool_t *p,
                               const chain_t *c, unsigned sel)
{
    X509 *list[MAX_INTS + 2];
    int n = 0, i;
    char *buf;
    const char *pems[MAX_INTS + 2];
    apr_size_t lens[MAX_INTS + 2], total = 0, o = 0;
    apr_status_t rv;

    if (sel & S_LEAF) {
        list[n++] = c->leaf;
    }
    if (sel & S_INTS) {
        for (i = 0; i < c->nints; i++) {
            list[n++] = c->ints[i];
        }
    }
    if (sel & S_INTS_REV) {
        for (i = c->nints - 1; i >= 0; i--) {
            list[n++] = c->ints[i];
        }
    }
    if ((sel & S_ROOT) && c->root) {
        list[n++] = c->root;
    }
    for (i = 0; i < n; i++) {
        if ((rv = x509_pem(&pems[i], &lens[i], p, list[i])) != APR_SUCCESS) {
            return rv;
        }
        total += lens[i];
    }
    buf = apr_palloc(p, total + 1);
    for (i = 0; i < n; i++) {
        memcpy(buf + o, pems[i], lens[i]);
        o += lens[i];
    }
    buf[o] = '\0';
    *out = buf;
    *len = o;
    return APR_SUCCESS;
}

static apr_status_t build_pkcs7(const char **out, apr_size_t *len, apr_pool_t *p,
                                const chain_t *c)
{
    PKCS7 *p7 = NULL;
    BIO *bio = NULL;
    char *data;
    long n;
    int i;
    apr_status_t rv = APR_EGENERAL;

    /* a degenerate SignedData (no signers), as `openssl crl2pkcs7 -nocrl` makes */
    if (!(p7 = PKCS7_new()) || !PKCS7_set_type(p7, NID_pkcs7_signed)
        || !PKCS7_content_new(p7, NID_pkcs7_data) || !PKCS7_add_certificate(p7, c->leaf)) {
        goto leave;
    }
    for (i = 0; i < c->nints; i++) {
        if (!PKCS7_add_certificate(p7, c->ints[i])) {
            goto leave;
        }
    }
    if (c->root && !PKCS7_add_certificate(p7, c->root)) {
        goto leave;
    }
    if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_PKCS7(bio, p7)
        || (n = BIO_get_mem_data(bio, &data)) <= 0) {
        goto leave;
    }
    *out = apr_pstrmemdup(p, data, (apr_size_t)n);
    *len = (apr_size_t)n;
    rv = APR_SUCCESS;
leave:
    if (rv != APR_SUCCESS) {
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00300) "bundle: cannot build PKCS#7: %s",
                     ERR_reason_error_string(ERR_peek_last_error()));
    }
    ERR_clear_error();
    PKCS7_free(p7);
    BIO_free(bio);
    return rv;
}

static apr_status_t build_der(const char **out, apr_size_t *len, apr_pool_t *p, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);

    if (n <= 0) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    *out = apr_pmemdup(p, der, (apr_size_t)n);
    *len = (apr_size_t)n;
    OPENSSL_free(der);
    return APR_SUCCESS;
}

/* ---- ZIP ----------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *data;
    apr_size_t len;
} zfile_t;

/* MS-DOS date and time of the leaf's notBefore (UTC), clamped to 1980..2107 */
static void dos_time(X509 *leaf, zip_uint16_t *dtime, zip_uint16_t *ddate)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (!ASN1_TIME_to_tm(X509_get0_notBefore(leaf), &tm) || tm.tm_year < 80) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = 80;
        tm.tm_mday = 1;
    }
    if (tm.tm_year > 207) {
        tm.tm_year = 207;
        tm.tm_mon = 11;
        tm.tm_mday = 31;
        tm.tm_hour = 23;
        tm.tm_min = 59;
        tm.tm_sec = 58;
    }
    *dtime = (zip_uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    *ddate = (zip_uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

static apr_status_t build_zip(const char **out, apr_size_t *len, apr_pool_t *p,
                              const zfile_t *files, int nfiles, X509 *leaf)
{
    zip_error_t ze;
    zip_source_t *src = NULL, *fs;
    zip_t *za = NULL;
    zip_stat_t st;
    zip_uint16_t dtime, ddate;
    zip_int64_t idx;
    char *buf;
    int i, opened = 0;
    apr_status_t rv = APR_EGENERAL;
    const char *step = "create";

    zip_error_init(&ze);
    dos_time(leaf, &dtime, &ddate);
    if (!(src = zip_source_buffer_create(NULL, 0, 0, &ze))) {
        goto leave;
    }
    if (!(za = zip_open_from_source(src, ZIP_TRUNCATE, &ze))) {
        step = "open";
        goto leave;
    }
    /* keep the buffer source alive after zip_close() to read the archive back */
    zip_source_keep(src);
    for (i = 0; i < nfiles; i++) {
        step = files[i].name;
        if (!(fs = zip_source_buffer(za, files[i].data, files[i].len, 0))) {
            goto leave;
        }
        if ((idx = zip_file_add(za, files[i].name, fs, ZIP_FL_ENC_UTF_8)) < 0) {
            zip_source_free(fs);
            goto leave;
        }
        if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9) < 0
            || zip_file_set_dostime(za, (zip_uint64_t)idx, dtime, ddate, 0) < 0
            || zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                                (zip_uint32_t)0100644 << 16)
                   < 0) {
            goto leave;
        }
    }
    step = "close";
    if (zip_close(za) < 0) {
        goto leave;
    }
    za = NULL;
    step = "read back";
    zip_stat_init(&st);
    if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)
        || zip_source_open(src) < 0) {
        goto leave;
    }
    opened = 1;
    buf = apr_palloc(p, (apr_size_t)st.size + 1);
    if (zip_source_read(src, buf, st.size) != (zip_int64_t)st.size) {
        goto leave;
    }
    *out = buf;
    *len = (apr_size_t)st.size;
    rv = APR_SUCCESS;
leave:
    if (rv != APR_SUCCESS) {
        const char *msg = za ? zip_strerror(za) : zip_error_strerror(&ze);
        so_log_error(SO_LOG_MARK, rv, SOLOGNO(00301) "bundle: cannot build the ZIP file (%s): %s",
                     step, msg);
    }
    if (za) {
        zip_discard(za);
    }
    if (opened) {
        zip_source_close(src);
    }
    if (src) {
        zip_source_free(src);
    }
    zip_error_fini(&ze);
    return rv;
}

/* The file name of a CA certificate in the separate-files ZIPs. */
static const char *ca_file_name(apr_pool_t *p, X509 *x, int n, const char *ext,
                                const zfile_t *files, int nfiles)
{
    const char *cn = subject_cn(p, x);
    char *base;
    const char *name;
    apr_size_t i;
    int k, dup, suffix = 1;

    if (!cn || !*cn) {
        base = apr_psprintf(p, "CA_%d", n);
    }
    else {
        base = apr_pstrndup(p, cn, MAX_CN_BYTES);
        for (i = 0; base[i]; i++) {
            unsigned char ch = (unsigned char)base[i];
            base[i] = (apr_isalnum(ch) && ch < 0x80) || ch == '-' || ch == '_'
                          ? (char)apr_toupper(ch)
                          : '_';
        }
    }
    do {
        name = suffix == 1 ? apr_psprintf(p, "%s.%s", base, ext)
                           : apr_psprintf(p, "%s_%d.%s", base, suffix, ext);
        for (k = 0, dup = 0; k < nfiles; k++) {
            dup |= !strcasecmp(files[k].name, name);
        }
        suffix++;
    } while (dup);
    return name;
}

apr_status_t so_bundle_build(so_bundle_t **out, apr_pool_t *p, const so_bundle_input_t *in,
                             const char *format, const char **why)
{
    chain_t c;
    const so_bundle_format_t *f;
    const recipe_t *r;
    so_bundle_t *b;
    const char *cn, *data = NULL;
    apr_size_t len = 0;
    zfile_t files[MAX_INTS + 3];
    int nfiles = 0, i;
    apr_status_t rv;

    memset(&c, 0, sizeof(c));
    *why = NULL;
    if (!format || !*format) {
        format = "other";
    }
    if (!(f = so_bundle_format_find(format))) {
        *why = "unknown certificate bundle format";
        rv = APR_ENOENT;
        goto leave;
    }
    r = &recipes[f - formats];
    if (!in || (rv = load_chain(&c, p, in, why)) != APR_SUCCESS) {
        if (!in) {
            *why = "the server certificate is missing";
            rv = APR_EINVAL;
        }
        goto leave;
    }
    cn = so_bundle_cn_filename(p, in->common_name && *in->common_name
                                      ? in->common_name
                                      : subject_cn(p, c.leaf));
    b = apr_pcalloc(p, sizeof(*b));
    b->format = f->name;
    b->filename = apr_psprintf(p, "%s.%s", cn, f->extension);

    switch (r->how) {
    case B_PKCS7:
        b->content_type = "application/x-pkcs7-certificates";
        rv = build_pkcs7(&data, &len, p, &c);
        break;
    case B_PEM:
        b->content_type = "application/x-pem-file";
        rv = pem_select(&data, &len, p, &c, r->sel);
        break;
    case B_DER:
        b->content_type = "application/pkix-cert";
        rv = build_der(&data, &len, p, c.leaf);
        break;
    case B_ZIP_PAIR:
        b->content_type = "application/zip";
        files[0].name = r->ca_file ? r->ca_file : apr_psprintf(p, "%s.ca-bundle", cn);
        if ((rv = pem_select(&files[0].data, &files[0].len, p, &c, r->sel)) != APR_SUCCESS) {
            break;
        }
        files[1].name = apr_psprintf(p, "%s.crt", cn);
        if ((rv = x509_pem(&files[1].data, &files[1].len, p, c.leaf)) != APR_SUCCESS) {
            break;
        }
        rv = build_zip(&data, &len, p, files, 2, c.leaf);
        break;
    case B_ZIP_SEP:
        b->content_type = "application/zip";
        /* root, intermediates from the root side, the server certificate */
        for (i = c.nints - (c.root ? 0 : 1); i >= 0 && rv == APR_SUCCESS; i--) {
            X509 *x = i == c.nints ? c.root : c.ints[i];
            files[nfiles].name = ca_file_name(p, x, nfiles + 1, r->sep_ext, files, nfiles);
            rv = x509_pem(&files[nfiles].data, &files[nfiles].len, p, x);
            nfiles++;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
        files[nfiles].name = apr_psprintf(p, "%s.%s", cn, r->sep_ext);
        for (i = 0; i < nfiles; i++) {
            if (!strcasecmp(files[i].name, files[nfiles].name)) {
                /* a CA named like the server certificate: keep both */
                files[nfiles].name = apr_psprintf(p, "%s_server.%s", cn, r->sep_ext);
            }
        }
        if ((rv = x509_pem(&files[nfiles].data, &files[nfiles].len, p, c.leaf)) != APR_SUCCESS) {
            break;
        }
        nfiles++;
        rv = build_zip(&data, &len, p, files, nfiles, c.leaf);
        break;
    }
    if (rv != APR_SUCCESS) {
        *why = "the bundle could not be built";
        goto leave;
    }
    b->data = data;
    b->len = len;
    *out = b;
leave:
    chain_free(&c);
    return rv;
}
