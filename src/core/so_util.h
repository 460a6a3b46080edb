/* mod_sslorders: small helpers shared by every layer (no httpd types). */
#ifndef SO_UTIL_H
#define SO_UTIL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* Cryptographically random bytes (OpenSSL RAND_bytes). */
apr_status_t so_random_bytes(unsigned char *buf, apr_size_t len);
/* Before the attempt-th retry of a version-checked write: sleep a random 0 to 1..64 ms
 * (doubling per attempt); nothing before the first. */
void so_write_backoff(int attempt);
/* A random token of nbytes bytes, lower-case hex (2*nbytes characters). */
apr_status_t so_random_hex(const char **out, apr_pool_t *p, apr_size_t nbytes);
/* A random string of n characters from alphabet. */
apr_status_t so_random_chars(const char **out, apr_pool_t *p, apr_size_t n, const char *alphabet);

const char *so_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len, int upper);
/* SHA-256 / SHA-1 / MD5 of data as hex */
const char *so_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper);
const char *so_sha1_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper);
const char *so_md5_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper);

/* Constant time comparison of two NUL terminated strings. */
int so_str_ct_equal(const char *a, const char *b);

/* Seconds since the epoch <-> "YYYY-MM-DD HH:MM:SS" (UTC), the format of the API. */
const char *so_time_fmt(apr_pool_t *p, apr_int64_t epoch);
/* Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" and "YYYY-MM-DDTHH:MM:SS[Z]" (UTC). */
apr_status_t so_time_parse(const char *s, apr_int64_t *epoch);
/* "Tue, 24 Nov 2026 10:00:00 GMT" */
const char *so_time_http(apr_pool_t *p, apr_int64_t epoch);

/* Strict decimal integer parsing: the whole string, no spaces, in range. */
apr_status_t so_parse_int64(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out);
const char *so_i64str(apr_pool_t *p, apr_int64_t v);

/* Money: minor units <-> "12.34" (2 decimals). */
apr_status_t so_money_parse(const char *s, apr_int64_t *minor);
const char *so_money_fmt(apr_pool_t *p, apr_int64_t minor);

/* Lower-case / upper-case ASCII copy. */
char *so_str_lower(apr_pool_t *p, const char *s);
/* Whether the array of strings a (NULL: empty) holds s. */
int so_strs_has(const apr_array_header_t *a, const char *s);
char *so_str_upper(apr_pool_t *p, const char *s);
/* Trim ASCII white space at both ends (copy). */
char *so_str_trim(apr_pool_t *p, const char *s);
int so_str_is_printable_utf8(const char *s, apr_size_t len);
/* A slug: [a-z0-9][a-z0-9-]{0,62} */
int so_is_slug(const char *s);
/* User names: [A-Za-z0-9._@-]{1,64} */
int so_is_username(const char *s);

/* A LIKE pattern (used with ESCAPE '\\') for a user pattern where '*' is the
 * wildcard: %, _ and \ are escaped; contains=1 also matches anywhere. */
const char *so_like_pattern(apr_pool_t *p, const char *user, int contains);

/* base64 (standard alphabet, padded) */
const char *so_base64(apr_pool_t *p, const unsigned char *data, apr_size_t len);
/* ... and back (white space not allowed); APR_EINVAL for text that is not base64. */
apr_status_t so_unbase64(const unsigned char **out, apr_size_t *len, apr_pool_t *p, const char *b64);

#endif
