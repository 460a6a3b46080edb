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

#endif
