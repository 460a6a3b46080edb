/* mod_sslorders: the provider's brand (GET /branding). so_brand() is in so_api.h. */
#ifndef SO_API_BRAND_H
#define SO_API_BRAND_H

#include "so_api.h"

extern const so_route_t so_routes_brand[];

#endif
