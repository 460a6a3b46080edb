/* mod_sslorders: the one route table. Paths are relative to where
 * `SetHandler sslorders-api` is mounted (e.g. /v1beta). The first route whose
 * pattern and method match wins; a path that matches only other methods answers
 * 405 with Allow. Every route says the least role it needs in the caller's team. */
#include "so_api.h"
#include "so_auth.h"

static const so_route_t routes[] = {
    /* accounts and authentication */
    {"POST", "/auth/login", so_api_auth_login, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"POST", "/auth/session", so_api_session_create, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/auth/session", so_api_session_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/auth/session", so_api_session_team, SO_ROLE_VIEWER, 0},
    {"DELETE", "/auth/session", so_api_session_delete, SO_ROLE_VIEWER, 0},
    {"GET", "/me", so_api_me, SO_ROLE_VIEWER, 0},
    {"GET", "/teams", so_api_teams_list, SO_ROLE_VIEWER, 0},

    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};

const so_route_t *so_routes(void)
{
    return routes;
}
