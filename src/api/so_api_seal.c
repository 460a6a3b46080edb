/* mod_sslorders: the public seal routes (SetHandler sslorders-seal). */
#include "so_api.h"
#include "so_api_ssl.h"

const so_route_t so_routes_seal[] = {{NULL, NULL, NULL, SO_ROLE_NONE, 0}};
