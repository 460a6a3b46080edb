/* Leaf certificates signed per second through so_ca_issue(), for an EC P-384 (the
 * default), an EC P-256 and an RSA 2048 issuing intermediate (one thread). Each issue
 * parses and verifies the CSR, builds the profile and signs: compare with
 * `openssl speed ecdsap384 ecdsap256 rsa2048` (sign/s).
 *
 *   build/ca_speed [SECONDS]     (default 3 seconds per key type)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../src/core/so_ca.h"

static const char *make_csr(apr_pool_t *p, EVP_PKEY *key)
{
    X509_REQ *req = X509_REQ_new();
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *pem;

    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName, MBSTRING_UTF8,
                               (const unsigned char *)"www.example.com", -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    X509_REQ_sign(req, key, EVP_sha256());
    PEM_write_bio_X509_REQ(b, req);
    n = BIO_get_mem_data(b, &data);
    pem = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    X509_REQ_free(req);
    return pem;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(apr_pool_t *p, const char *label, so_ca_key_type_t type, EVP_PKEY *leaf_key,
               double seconds)
{
    char dir[] = "/tmp/so-ca-speed-XXXXXX";
    so_ca_opts_t o;
    so_ca_t *ca;
    so_ca_issue_req_t r;
    apr_array_header_t *names = apr_array_make(p, 2, sizeof(const char *));
    const char *why = NULL;
    double start, elapsed;
    long n = 0;
    char cmd[128];

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    memset(&o, 0, sizeof(o));
    o.root_key = o.issuing_key = type;
    if (so_ca_init(&ca, p, dir, &o, (apr_int64_t)time(NULL), &why) != APR_SUCCESS) {
        fprintf(stderr, "so_ca_init: %s\n", why);
        return 1;
    }
    APR_ARRAY_PUSH(names, const char *) = "www.example.com";
    APR_ARRAY_PUSH(names, const char *) = "example.com";
    memset(&r, 0, sizeof(r));
    r.csr_pem = make_csr(p, leaf_key);
    r.names = names;
    r.validation = SO_CA_DV;
    r.days = 90;
    r.base_url = "http://pki.example.net";
    r.now = (apr_int64_t)time(NULL);

    start = now_s();
    do {
        apr_pool_t *iter;
        so_ca_cert_t *c;
        int i;
        apr_pool_create(&iter, p);
        for (i = 0; i < 20; i++, n++) {
            if (so_ca_issue(&c, ca, iter, &r, &why) != APR_SUCCESS) {
                fprintf(stderr, "so_ca_issue: %s\n", why);
                return 1;
            }
        }
        apr_pool_destroy(iter);
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    printf("%-28s %8.1f certificates/s  (%ld in %.2f s)\n", label, (double)n / elapsed, n,
           elapsed);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) != 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);
    int rc = 0;

    if (seconds <= 0) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&p, NULL);
    printf("so_ca_issue, one thread, %.0f s each (leaf key: P-256 / RSA 2048 CSR)\n", seconds);
    rc |= run(p, "EC P-384 intermediate", SO_CA_KEY_EC_P384, ec, seconds); /* the default */
    rc |= run(p, "EC P-256 intermediate", SO_CA_KEY_EC_P256, ec, seconds);
    rc |= run(p, "RSA 2048 intermediate", SO_CA_KEY_RSA2048, rsa, seconds);
    printf("compare: openssl speed -seconds %.0f ecdsap384 ecdsap256 rsa2048 (sign/s)\n", seconds);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
