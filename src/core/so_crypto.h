/* mod_sslorders: password hashing (scrypt through OpenSSL). */
#ifndef SO_CRYPTO_H
#define SO_CRYPTO_H

#include <apr_pools.h>

/* Work factor: N = 2^SO_SCRYPT_LOG_N, r = 8, p = 1 (about 16 MiB and 30-40 ms). */
#define SO_SCRYPT_LOG_N 14

/* Hash a password: "scrypt$<logN>$<r>$<p>$<salt hex>$<hash hex>". */
apr_status_t so_password_hash(const char **out, apr_pool_t *p, const char *password);
/* APR_SUCCESS when password matches stored, APR_EMISMATCH when it does not,
 * APR_EINVAL when stored is not a hash we know. Always runs the slow hash. */
apr_status_t so_password_verify(apr_pool_t *p, const char *password, const char *stored);

/* A hash of a random secret (token, session id) for storage: SHA-256 hex. */
const char *so_secret_hash(apr_pool_t *p, const char *secret);

#endif
