/* mod_sslorders: the certificate linter run on every leaf before it is stored (no httpd
 * types). Checks the Baseline Requirements profile of a subscriber TLS certificate:
 *   validity     notAfter - notBefore + 1 s within so_ca_br_max_days(now) days
 *   key          RSA 2048-8192 bits, size a multiple of 8, exponent odd, >= 65537 and
 *                < 2^256; EC on P-256 or P-384
 *   signature    SHA-256/384/512 (RSA, ECDSA), matching the inner algorithm
 *   names        a subjectAltName of dNSName entries only, each a valid host name; the
 *                CN, when present, is one of them
 *   EKU          serverAuth, optionally clientAuth, nothing else
 *   key usage    present, critical, digitalSignature (RSA may add keyEncipherment), no CA bits
 *   basic c.     not a CA
 *   policies     exactly one of the BR reserved OIDs (DV 2.23.140.1.2.1, OV .2.2, EV .1.1)
 *   AIA          a caIssuers http:// URL; CRL distribution point http:// URL
 *   serial       positive, 9 to 20 octets (at least 64 random bits), not zero
 *   issuer       the issuing CA certificate (when given) is a CA and not a CT
 *                precertificate signing CA (EKU 1.3.6.1.4.1.11129.2.4.4); the leaf carries
 *                no CT poison extension
 */
#ifndef SO_LINT_H
#define SO_LINT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/x509.h>

/* APR_SUCCESS when the certificate passes; APR_EGENERAL and *problems (const char *,
 * one sentence each) when not; APR_EINVAL when der is not a certificate. issuer_pem may
 * be NULL. */
apr_status_t so_lint_cert(apr_pool_t *p, const unsigned char *der, apr_size_t len,
                          const char *issuer_pem, apr_int64_t now,
                          apr_array_header_t **problems);
/* The same with the issuing CA certificate parsed (NULL: none given; not freed): the
 * issuance path lints with the CA's own object instead of parsing its PEM each time. */
apr_status_t so_lint_cert_x509(apr_pool_t *p, const unsigned char *der, apr_size_t len,
                               X509 *issuer, apr_int64_t now, apr_array_header_t **problems);
/* The same for the certificate as the CA built and signed it (not freed), without
 * decoding its DER again: the issuance lints the object whose encoding it stores. req (may
 * be NULL): the request it was signed for; when the certificate carries the request's
 * SubjectPublicKeyInfo byte for byte, the key decoded with the request is the one
 * checked (decoding a key is the dear part of reading a certificate). */
apr_status_t so_lint_cert_obj(apr_pool_t *p, X509 *x, X509_REQ *req, X509 *issuer,
                              apr_int64_t now, apr_array_header_t **problems);

#endif
