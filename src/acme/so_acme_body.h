/* mod_sslorders: the ACME request payloads (RFC 8555), parsed and checked without the
 * database: what a client may send to newAccount and its account URL (contact, status,
 * onlyReturnExisting, termsOfServiceAgreed), newOrder (identifiers, profile, replaces),
 * finalize (csr), revokeCert (certificate, reason) and an authorization (status).
 * Each returns APR_SUCCESS, or APR_EINVAL with the problem to answer in *bad. Fuzzed by
 * tests/fuzz/fuzz_acme_body.c. No httpd types. */
#ifndef SO_ACME_BODY_H
#define SO_ACME_BODY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "../core/so_csr.h"

typedef struct {
    int status;         /* HTTP status */
    const char *type;   /* RFC 8555 error type without the namespace */
    const char *detail;
} so_acme_bad_t;

/* newAccount (creating) / account update. *contact: the JSON text of the contact array,
 * or NULL when the payload has none; *only: onlyReturnExisting; *deactivate: status
 * "deactivated" (an update only). */
apr_status_t so_acme_body_account(apr_pool_t *p, json_t *pl, int creating, const char **contact,
                                  int *only, int *deactivate, so_acme_bad_t *bad);

/* newOrder: the names (lower case, host-name checked, without duplicates), profile
 * ("classic" by default) and replaces ("" when none). */
apr_status_t so_acme_body_new_order(apr_pool_t *p, json_t *pl, apr_array_header_t **names,
                                    const char **profile, const char **replaces,
                                    so_acme_bad_t *bad);

/* finalize: the CSR (parsed, its signature and key checked). */
apr_status_t so_acme_body_csr(apr_pool_t *p, json_t *pl, so_csr_t **csr, so_acme_bad_t *bad);

/* revokeCert: the certificate's DER and the reason (0 when none). */
apr_status_t so_acme_body_revoke(apr_pool_t *p, json_t *pl, const unsigned char **der,
                                 apr_size_t *der_len, int *reason, so_acme_bad_t *bad);

/* an authorization POST: *deactivate when the payload asks for it. */
apr_status_t so_acme_body_authz(apr_pool_t *p, json_t *pl, int *deactivate, so_acme_bad_t *bad);

#endif
