/* mod_sslorders: what the files of the built-in CA share (so_ca.c: creating, loading
 * and issuing; so_ca_x509.c: OpenSSL helpers and files; so_ca_crl.c: CRLs). Not for
 * the rest of the module (see so_ca.h). */
#ifndef SO_CA_INT_H
#define SO_CA_INT_H

#include <apr_file_info.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "so_ca.h"

struct so_ca_t {
    apr_pool_t *pool;
    const char *dir;
    const char *tag;
    int max_days;
    int created;
    X509 *root;
    X509 *inter;
    EVP_PKEY *root_key;
    EVP_PKEY *inter_key;
    const EVP_MD *inter_md; /* digest the intermediate signs with */
    const char *root_pem, *inter_pem, *chain_pem;
    const unsigned char *root_der, *inter_der;
    apr_size_t root_der_len, inter_der_len;
};

#define CERT_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD)

/* so_ca_x509.c (see the comments there) */
/* Pool-owned OpenSSL objects: their free is a cleanup of p; NULL when OpenSSL fails. */
X509 *so_ca_x509_new(apr_pool_t *p);
X509_NAME *so_ca_name_new(apr_pool_t *p);
X509_REQ *so_ca_req_read(apr_pool_t *p, const char *pem); /* a PEM PKCS#10 request */
ASN1_INTEGER *so_ca_serial_new(apr_pool_t *p);             /* random, positive, 16 bytes */
const char *so_ca_ossl_why(apr_pool_t *p, const char *what);
apr_status_t so_ca_free_x509(void *d);
apr_status_t so_ca_free_pkey(void *d);
const char *so_ca_bio_text(apr_pool_t *p, BIO *b);
const char *so_ca_x509_pem(apr_pool_t *p, X509 *x);
const unsigned char *so_ca_x509_der(apr_pool_t *p, X509 *x, apr_size_t *len);
const EVP_MD *so_ca_md_for(EVP_PKEY *key);
int so_ca_set_time(ASN1_TIME *t, apr_int64_t epoch);
apr_status_t so_ca_random_serial(ASN1_INTEGER **out);
const char *so_ca_serial_hex(apr_pool_t *p, const ASN1_INTEGER *ai);
int so_ca_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value);

int so_ca_add_aia(X509 *x, const char *url);
int so_ca_add_cdp(X509 *x, const char *url);
int so_ca_add_policy(X509 *x, const char *oid);
int so_ca_add_san(X509 *x, const apr_array_header_t *names);
int so_ca_copy_spki(X509 *x, X509_REQ *req);
int so_ca_add_name_entry(X509_NAME *n, int nid, const char *value);
int so_ca_attr_ok(const char *s, apr_size_t max);
int so_ca_country_ok(const char *s);
EVP_PKEY *so_ca_gen_key(so_ca_key_type_t type);
apr_status_t so_ca_write_atomic(apr_pool_t *p, const char *dir, const char *name, const char *data,
                              apr_fileperms_t perms, const char **why);
void so_ca_sync_dir(const char *dir);
const char *so_ca_key_pem(apr_pool_t *p, EVP_PKEY *key);
apr_status_t so_ca_read_cert(X509 **out, apr_pool_t *p, const char *path, const char **why);
apr_status_t so_ca_read_key(EVP_PKEY **out, apr_pool_t *p, const char *path, const char **why);

#endif
