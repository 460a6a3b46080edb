/* mod_sslorders: the teams' webhook endpoints (/webhooks). */
#ifndef SO_API_WEBHOOKS_H
#define SO_API_WEBHOOKS_H

#include "so_api.h"

extern const so_route_t so_routes_webhooks[];

#endif
