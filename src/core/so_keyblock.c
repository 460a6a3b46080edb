/* mod_sslorders: lists of public keys that are never certified. See so_keyblock.h. */
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "so_keyblock.h"
#include "so_util.h"

#define SO_KEYBLOCK_MAX_FILE (64 * 1024 * 1024)

struct so_keyblock_t {
    apr_pool_t *pool;
    apr_hash_t *debian; /* 20 lower hex digits -> the list's name */
    apr_hash_t *spki;   /* 64 lower hex digits -> the list's name */
};

so_keyblock_t *so_keyblock_make(apr_pool_t *p)
{
    so_keyblock_t *kb = apr_pcalloc(p, sizeof(*kb));
    kb->pool = p;
    kb->debian = apr_hash_make(p);
    kb->spki = apr_hash_make(p);
    return kb;
}

/* the line [s, e) without surrounding blanks, in lower case; NULL when not all hex */
static char *hex_token(apr_pool_t *p, const char *s, const char *e)
{
    char *t, *o;
    while (s < e && apr_isspace(*s)) {
        s++;
    }
    while (e > s && apr_isspace(e[-1])) {
        e--;
    }
    t = apr_pstrmemdup(p, s, (apr_size_t)(e - s));
    for (o = t; *o; o++) {
        if (!apr_isxdigit(*o)) {
            return NULL;
        }
        *o = (char)apr_tolower(*o);
    }
    return t;
}

apr_status_t so_keyblock_add_text(so_keyblock_t *kb, const char *name, const char *text,
                                  apr_size_t len, const char **why)
{
    const char *s = text, *end = text + len;
    const char *list = apr_pstrdup(kb->pool, name);
    int line = 0;

    while (s < end) {
        const char *e = memchr(s, '\n', (apr_size_t)(end - s));
        const char *b = s;
        char *t;
        if (!e) {
            e = end;
        }
        line++;
        s = e < end ? e + 1 : end;
        while (b < e && apr_isspace(*b)) {
            b++;
        }
        if (b == e || *b == '#') {
            continue;
        }
        t = hex_token(kb->pool, b, e);
        if (t && strlen(t) == 20) {
            apr_hash_set(kb->debian, t, 20, list);
        }
        else if (t && strlen(t) == 64) {
            apr_hash_set(kb->spki, t, 64, list);
        }
        else {
            *why = apr_psprintf(kb->pool, "%s, line %d: not a key fingerprint (20 hex digits, "
                                          "Debian's openssl-blacklist form, or 64: the SHA-256 "
                                          "of a SubjectPublicKeyInfo)", name, line);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_keyblock_add_file(so_keyblock_t *kb, apr_pool_t *tmp, const char *path,
                                  const char **why)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;
    apr_status_t rv;

    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, tmp))
        != APR_SUCCESS) {
        *why = apr_psprintf(kb->pool, "%s cannot be read", path);
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && (fi.size < 0 || fi.size > SO_KEYBLOCK_MAX_FILE)) {
        apr_file_close(f);
        *why = apr_psprintf(kb->pool, "%s is larger than 64 MiB", path);
        return APR_EINVAL;
    }
    n = rv == APR_SUCCESS ? (apr_size_t)fi.size : 0;
    buf = apr_palloc(tmp, n + 1);
    if (rv == APR_SUCCESS && n > 0) {
        rv = apr_file_read_full(f, buf, n, &n);
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(kb->pool, "%s cannot be read", path);
        return rv;
    }
    return so_keyblock_add_text(kb, path, buf, n, why);
}

int so_keyblock_count(const so_keyblock_t *kb)
{
    return kb ? (int)(apr_hash_count(kb->debian) + apr_hash_count(kb->spki)) : 0;
}

const char *so_keyblock_find(apr_pool_t *p, const so_keyblock_t *kb, const so_csr_t *csr)
{
    const char *list;

    if (!kb) {
        return NULL;
    }
    if (csr->debian_fp && (list = apr_hash_get(kb->debian, csr->debian_fp, 20))) {
        return apr_psprintf(p, "the RSA key is a known weak key (Debian's openssl-blacklist "
                               "form, CVE-2008-0166) listed in %s", list);
    }
    if (csr->spki_sha256 && (list = apr_hash_get(kb->spki, csr->spki_sha256, 64))) {
        return apr_psprintf(p, "the key is a blocked key listed in %s", list);
    }
    return NULL;
}

const char *so_keyblock_spki_sha256(apr_pool_t *p, const X509_PUBKEY *spki)
{
    unsigned char *der = NULL;
    int len = spki ? i2d_X509_PUBKEY(spki, &der) : -1;
    const char *hex = len > 0 ? so_sha256_hex(p, der, (apr_size_t)len, 0) : NULL;
    OPENSSL_free(der);
    return hex;
}

apr_status_t so_keyblock_cert_spki(apr_pool_t *p, const char *cert_pem, const char **spki_sha256)
{
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    const char *hex = x ? so_keyblock_spki_sha256(p, X509_get_X509_PUBKEY(x)) : NULL;
    apr_status_t rv = APR_EINVAL;

    if (hex) {
        *spki_sha256 = hex;
        rv = APR_SUCCESS;
    }
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return rv;
}
