/* mod_sslorders: warming a new database connection (so_store_warm.c). */
#ifndef SO_STORE_WARM_H
#define SO_STORE_WARM_H

#include "so_db.h"

/* Runs the statements most requests use once, with values that match nothing, so that
 * the connection has them prepared and its server process has read what they touch.
 * *ran: how many ran. Changes nothing. */
apr_status_t so_store_warm(so_db_t *db, apr_pool_t *p, int *ran);

#endif
