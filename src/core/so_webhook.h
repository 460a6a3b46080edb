/* mod_sslorders: webhooks in the Standard Webhooks format (standardwebhooks.com), no
 * httpd types: secrets, signatures, the retry schedule, the URL rules and the delivery
 * with libcurl (10 s, no redirects, TLS verified, every connected address checked). */
#ifndef SO_WEBHOOK_H
#define SO_WEBHOOK_H

#include <apr_pools.h>
#include <apr_tables.h>

/* A new secret: "whsec_" + base64 of 32 random bytes. */
apr_status_t so_wh_secret_new(apr_pool_t *p, const char **secret);

/* "v1,<base64 HMAC-SHA256(secret bytes, id.timestamp.body)>"; APR_EINVAL for a secret that
 * is not whsec_ + base64. */
apr_status_t so_wh_sign(apr_pool_t *p, const char *secret, const char *msg_id, apr_int64_t ts,
                        const char *body, apr_size_t len, const char **sig);

/* Seconds until attempt number `attempt` (1: after the first failure) with +-10 % jitter:
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ... */
apr_int64_t so_wh_backoff(int attempt);

/* Whether url is a webhook URL we deliver to: https (http when allow_http), a host, no user
 * name or password; a literal address must be public unless allow_private. */
apr_status_t so_wh_url_check(apr_pool_t *p, const char *url, int allow_http, int allow_private,
                             const char **why);

/* Whether a connection to this address is allowed (loopback, private, link-local, unique
 * local, multicast, unspecified and this host's own addresses are not). */
int so_wh_addr_public(const struct sockaddr *sa);

typedef struct {
    const char *url;
    const char *const *headers; /* "Name: value", NULL terminated */
    const char *body;
    apr_size_t body_len;
    int allow_http;
    int allow_private;
    long timeout_ms;            /* 10000 when 0 */
    const char *ca_file;        /* extra trust (tests), NULL: the system's */
} so_wh_post_t;

typedef struct {
    int http_status;    /* 0: no answer */
    int latency_ms;
    const char *response; /* the first KiB of the answer */
    const char *error;    /* why there was no answer ("" otherwise) */
    int refused;          /* the address or URL is not allowed */
} so_wh_result_t;

/* POST the body; APR_SUCCESS when an answer came (any status), else the error in res. */
apr_status_t so_wh_post(apr_pool_t *p, const so_wh_post_t *req, so_wh_result_t *res);

#endif
