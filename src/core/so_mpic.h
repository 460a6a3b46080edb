/* mod_sslorders: multi-perspective issuance corroboration (MPIC, Baseline Requirements
 * 3.2.2.9 and 3.2.2.8.1), no httpd types.
 *
 * A perspective is mod_sslorders on another network location (SetHandler
 * sslorders-perspective). The primary POSTs one JSON request per perspective, all at once
 * (libcurl multi), and each perspective repeats the domain validation and CAA checks from
 * where it stands. Requests are authenticated with a shared secret:
 *   X-SSLOrders-MPIC-Time       seconds since the epoch (wall clock)
 *   X-SSLOrders-MPIC-Nonce      32 hex characters, never accepted twice
 *   X-SSLOrders-MPIC-Signature  hex HMAC-SHA256(secret, time "\n" nonce "\n" body)
 * A perspective refuses a request older or newer than SO_MPIC_MAX_SKEW seconds, a nonce
 * it has seen (a file per nonce in a directory: safe across processes) and a wrong
 * signature (constant-time comparison). It signs its answer for the request's nonce:
 *   X-SSLOrders-MPIC-Answer-Signature  hex HMAC-SHA256(secret, "answer" "\n" nonce "\n" body)
 * and the primary counts no answer without that signature, so a perspective reached over
 * plain HTTP cannot be spoken for by someone on the way.
 *
 * Quorum (BR 3.2.2.9): with 1 perspective none may disagree, with 2-5 at most one, with 6
 * or more at most two; and at least so_mpic_required(now) perspectives must be configured
 * (3 from 2026-03-15, 4 from 2026-06-15, 5 from 2026-12-15). A perspective that cannot be
 * reached or answers an error disagrees. */
#ifndef SO_MPIC_H
#define SO_MPIC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#define SO_MPIC_FROM_3 1773532800 /* 2026-03-15 */
#define SO_MPIC_FROM_4 1781481600 /* 2026-06-15 */
#define SO_MPIC_FROM_5 1797292800 /* 2026-12-15 */
#define SO_MPIC_MAX_SKEW 300
#define SO_MPIC_SECRET_MIN 16

typedef struct {
    const char *name;
    const char *url;
} so_mpic_perspective_t;

/* The perspectives that may disagree among n. */
int so_mpic_allowed_disagree(int n);
/* The least number of remote perspectives the BR ask for at now (0 before 2026-03-15). */
int so_mpic_required(apr_int64_t now);
/* Whether agree of n perspectives corroborate at now (n >= required, n - agree <= allowed).
 * *why (may be NULL) says why not. */
int so_mpic_quorum(apr_pool_t *p, int n, int agree, apr_int64_t now, const char **why);

/* The secret of a file (trailing white space removed); APR_EINVAL when shorter than
 * SO_MPIC_SECRET_MIN bytes. */
apr_status_t so_mpic_secret_load(apr_pool_t *p, const char *file, const char **secret,
                                 const char **why);
/* Hex HMAC-SHA256 of time "\n" nonce "\n" body. */
const char *so_mpic_sign(apr_pool_t *p, const char *secret, const char *time, const char *nonce,
                         const char *body, apr_size_t len);
/* The signature of a perspective's answer to the request with nonce: hex HMAC-SHA256 of
 * "answer" "\n" nonce "\n" body (the word keeps a request's signature from passing as an
 * answer's). Sent as X-SSLOrders-MPIC-Answer-Signature; so_mpic_query refuses an answer
 * without it or with another. */
const char *so_mpic_sign_answer(apr_pool_t *p, const char *secret, const char *nonce,
                                const char *body, apr_size_t len);
/* Check a request's headers: APR_SUCCESS, or APR_EACCES and *why. now is the wall clock;
 * nonce_dir (NULL: no replay check) remembers nonces for SO_MPIC_MAX_SKEW seconds. */
apr_status_t so_mpic_verify(apr_pool_t *p, const char *secret, const char *time,
                            const char *nonce, const char *sig, const char *body, apr_size_t len,
                            apr_int64_t now, const char *nonce_dir, const char **why);

/* One perspective's answer. */
typedef struct {
    const char *name;
    int reached;      /* answered 200 with a JSON envelope signed with the secret */
    json_t *data;     /* its "data" (or NULL) */
    const char *error; /* when not reached: why */
} so_mpic_answer_t;

/* POST body to every perspective at once, signed with secret, within timeout_ms; answers
 * (so_mpic_answer_t, in the order of perspectives). */
apr_status_t so_mpic_query(apr_pool_t *p, const apr_array_header_t *perspectives,
                           const char *secret, const char *body, int timeout_ms,
                           apr_array_header_t **answers);

#endif
