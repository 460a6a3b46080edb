/* libFuzzer harness: the ACME request payloads (src/acme/so_acme_body.c) as the server
 * gets them once the JWS is verified: the bytes are the payload JSON of newAccount and
 * the account URL, newOrder, finalize (the CSR inside), revokeCert (the certificate DER
 * inside, read by OpenSSL as the server does) and an authorization POST. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "../../src/acme/so_acme_body.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *pl;
    json_error_t err;
    so_acme_bad_t bad;
    apr_array_header_t *names;
    const char *contact, *profile, *replaces;
    const unsigned char *der;
    apr_size_t der_len;
    so_csr_t *csr;
    int only, deact, reason;

    if (size > 65536) {
        return 0; /* the server's body cap */
    }
    pl = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    if (!pl) {
        return 0;
    }
    apr_pool_create(&p, root);
    so_acme_body_account(p, pl, 1, &contact, &only, &deact, &bad);
    so_acme_body_account(p, pl, 0, &contact, &only, &deact, &bad);
    so_acme_body_new_order(p, pl, &names, &profile, &replaces, &bad);
    so_acme_body_csr(p, pl, &csr, &bad);
    if (so_acme_body_revoke(p, pl, &der, &der_len, &reason, &bad) == APR_SUCCESS) {
        const unsigned char *q = der;
        X509 *x = d2i_X509(NULL, &q, (long)der_len);
        X509_free(x);
    }
    so_acme_body_authz(p, pl, &deact, &bad);
    json_decref(pl);
    apr_pool_destroy(p);
    /* the server's threads leave OpenSSL's error queue as it is; here it would look like
     * a leak to libFuzzer (and make it hunt for one after each refused CSR) */
    ERR_clear_error();
    return 0;
}
