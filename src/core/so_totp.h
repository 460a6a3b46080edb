/* mod_sslorders: time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1,
 * 6 digits, 30 second steps), as authenticator apps make them; secrets in base32
 * (RFC 4648, no padding). */
#ifndef SO_TOTP_H
#define SO_TOTP_H

#include <apr_pools.h>

#define SO_TOTP_STEP 30
#define SO_TOTP_SECRET_BYTES 20

/* A new random secret in base32 (32 characters). */
apr_status_t so_totp_secret(const char **out, apr_pool_t *p);
/* base32 <-> bytes; decoding ignores case, spaces and '=' and fails on other characters. */
const char *so_base32_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);
apr_status_t so_base32_decode(apr_pool_t *p, const char *text, unsigned char **out,
                              apr_size_t *len);
/* The 6-digit code of a secret (bytes) for a time step (RFC 4226 with counter = step). */
int so_hotp(const unsigned char *key, apr_size_t keylen, apr_uint64_t counter);
/* Check a code (6 digits as text) at time now, allowing one step of clock drift either way;
 * a step at or before last_step is not accepted (each code once). *step gets the matched
 * step. APR_SUCCESS or APR_EMISMATCH. */
apr_status_t so_totp_verify(apr_pool_t *p, const char *secret_b32, const char *code,
                            apr_int64_t now, apr_int64_t last_step, apr_int64_t *step);
/* The otpauth:// URI authenticator apps read from a QR code. */
const char *so_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                        const char *secret_b32);

#endif
