/* mod_sslorders: site seals, bundles and validation documents: what other parts need. */
#ifndef SO_API_SEAL_H
#define SO_API_SEAL_H

#include "so_api.h"

/* The per-process seal cache: once per child process, before threads serve requests
 * (without it every seal request reads the database). */
void so_seal_cache_init(apr_pool_t *p);
/* The per-process cache of built certificate bundles (once per child process). */
void so_downloads_cache_init(apr_pool_t *p);
/* Drop what this process keeps of a seal (after its owner changed it). */
void so_seal_cache_forget(const char *seal_id);
/* The same for the seal of an order (its certificate changed), when this process has it. */
void so_seal_cache_forget_order(apr_int64_t order_id);
/* Where seals are served: SSLOrdersSealURL, else <SSLOrdersPublicURL>/seal; "" unknown. */
const char *so_seal_base(const so_req_t *req);

extern const so_route_t so_routes_seal_api[];
extern const so_route_t so_routes_downloads[];
extern const so_route_t so_routes_documents[];

#endif
