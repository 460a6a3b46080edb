/* mod_sslorders: what the Baseline Requirements checks found per name of an order
 * (CAA today), shown by GET /ssl/orders/{id}/validation. */
#ifndef SO_STORE_BR_H
#define SO_STORE_BR_H

#include "so_db.h"

typedef struct {
    const char *host_name;
    const char *kind;    /* "caa" */
    const char *status;  /* "permitted", "refused", "error" */
    const char *domain;  /* where the relevant records were */
    const char *record;  /* the record that decided */
    const char *detail;
    int secure;          /* DNSSEC-validated answer */
    apr_int64_t checked_at;
} so_br_check_t;

apr_status_t so_store_br_check_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                   const so_br_check_t *c);
/* Every check of the order (so_br_check_t). */
apr_status_t so_store_br_checks(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                apr_array_header_t **out);

/* Blocks a key (the SHA-256 of its SubjectPublicKeyInfo) for every later certificate:
 * reason is the RFC 5280 code of the revocation that blocked it (1: keyCompromise). */
apr_status_t so_store_key_block(so_db_t *db, apr_pool_t *p, const char *spki_sha256, int reason,
                                const char *serial, apr_int64_t now);
/* Whether a key is blocked: APR_SUCCESS with the serial of the certificate whose revocation
 * blocked it, APR_ENOENT when it is not. */
apr_status_t so_store_key_blocked(so_db_t *db, apr_pool_t *p, const char *spki_sha256,
                                  const char **serial);

#endif
