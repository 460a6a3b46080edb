/* mod_sslorders: contact handles ("customers" in the Openprovider API), team-scoped.
 * Handles look like AB123456-NL: initials, six digits, the country. */
#ifndef SO_STORE_CUSTOMER_H
#define SO_STORE_CUSTOMER_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    const char *handle;
    const char *company_name;
    const char *first_name, *last_name, *initials, *prefix;
    const char *street, *number, *suffix, *zipcode, *city, *state, *country;
    const char *phone_country_code, *phone_area_code, *phone_subscriber_number;
    const char *email;
    const char *vat;
    const char *locale;
    const char *comments;
    apr_int64_t created_at;
    apr_int64_t updated_at;
} so_customer_t;

/* Create with a new handle (c->handle is set). */
apr_status_t so_store_customer_create(so_db_t *db, apr_pool_t *p, so_customer_t *c, apr_int64_t now);
/* APR_ENOENT when the handle does not exist in the team. */
apr_status_t so_store_customer_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const char *handle, so_customer_t **out);
/* pattern: NULL, or a LIKE pattern (so_like_pattern) matched case-insensitively
 * against handle, names, company and e-mail. */
apr_status_t so_store_customers_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     const char *pattern, int limit, int offset,
                                     apr_array_header_t **out, apr_int64_t *total);
/* Write every field of c (found by team and handle). */
apr_status_t so_store_customer_update(so_db_t *db, apr_pool_t *p, const so_customer_t *c,
                                      apr_int64_t now);
/* SO_EDBFOREIGN when an order of the team uses the handle, APR_ENOENT when unknown. */
apr_status_t so_store_customer_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      const char *handle);

#endif
