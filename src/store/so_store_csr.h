/* mod_sslorders: the CSR Manager: a team's saved CSRs (never a private key) with
 * their parsed data. Orders keep their own copy of a CSR; the orders "using" a
 * managed CSR are those whose CSR is the same request (same DER MD5). */
#ifndef SO_STORE_CSR_H
#define SO_STORE_CSR_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    const char *friendly_name;
    const char *csr; /* PEM */
    const char *common_name, *organization, *unit, *locality, *state, *country, *email;
    const char *names; /* space separated: the common name first, then the SANs */
    const char *key_type;
    int key_bits;
    const char *curve;
    const char *public_key_sha1;
    const char *md5, *sha1, *sha256; /* of the DER, upper hex */
    const char *signature_algorithm;
    apr_int64_t created_by;
    apr_int64_t created_at, updated_at;
    apr_int64_t orders; /* orders of the team using it */
} so_managed_csr_t;

/* SO_EDBUNIQUE when the team has saved this CSR already. */
apr_status_t so_store_csr_insert(so_db_t *db, apr_pool_t *p, so_managed_csr_t *c);
apr_status_t so_store_csr_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                              so_managed_csr_t **out);
/* The team's saved CSR with this MD5, APR_ENOENT when none. */
apr_status_t so_store_csr_by_md5(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *md5,
                                 so_managed_csr_t **out);
/* Newest first; pattern ("" = all): a LIKE pattern on the friendly name, the
 * common name or the names (lower case). */
apr_status_t so_store_csrs(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *pattern,
                           int limit, int offset, apr_array_header_t **out, apr_int64_t *total);
apr_status_t so_store_csr_rename(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 const char *friendly_name, apr_int64_t now);
apr_status_t so_store_csr_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id);

typedef struct {
    apr_int64_t id;
    const char *common_name;
    const char *status;
    apr_int64_t order_date;
} so_csr_order_t;
/* The team's orders whose CSR has this MD5 (newest first, at most limit). */
apr_status_t so_store_csr_orders(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *md5,
                                 int limit, apr_array_header_t **out);

#endif
