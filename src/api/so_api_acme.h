/* mod_sslorders: the API routes of the ACME feature (EAB credentials, accounts). */
#ifndef SO_API_ACME_H
#define SO_API_ACME_H

#include "so_api.h"

extern const so_route_t so_routes_acme[];

#endif
