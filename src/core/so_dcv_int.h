/* mod_sslorders: what the so_dcv*.c files share (not for other files). */
#ifndef SO_DCV_INT_H
#define SO_DCV_INT_H

#include <apr_pools.h>

/* name checked and lower-cased; *base without "*." */
apr_status_t so_dcv_name(const char **name, const char **base, apr_pool_t *p, const char *in,
                         const char **why);

#endif
