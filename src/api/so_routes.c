/* mod_sslorders: the one route table. Paths are relative to where
 * `SetHandler sslorders-api` is mounted (e.g. /v1beta). The first route whose
 * pattern and method match wins; a path that matches only other methods answers
 * 405 with Allow. Every route says the least role it needs in the caller's team. */
#include <stdlib.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_org.h"
#include "so_api_seal.h"
#include "so_auth.h"
#include "so_api_webhooks.h"

static const so_route_t account_routes[] = {
    /* accounts and authentication */
    {"POST", "/auth/login", so_api_auth_login, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"POST", "/auth/session", so_api_session_create, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/auth/session", so_api_session_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/auth/session", so_api_session_team, SO_ROLE_VIEWER, 0},
    {"DELETE", "/auth/session", so_api_session_delete, SO_ROLE_VIEWER, 0},
    {"GET", "/me", so_api_me, SO_ROLE_VIEWER, 0},
    {"GET", "/teams", so_api_teams_list, SO_ROLE_VIEWER, 0},

    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};

/* Every feature's table, in the order they are matched. */
static const so_route_t *const tables[] = {
    account_routes,     so_routes_catalog,   so_routes_customers, so_routes_orders,
    so_routes_issuance, so_routes_downloads, so_routes_seal_api,  so_routes_documents,
    so_routes_folders,  so_routes_tags,      so_routes_csrs,      so_routes_cart,
    so_routes_teams,    so_routes_webhooks, NULL};

#define SO_MAX_ROUTES 512
static so_route_t all[SO_MAX_ROUTES + 1];
static int built;

const so_route_t *so_routes(void)
{
    if (!built) {
        /* built once at startup (so_api_init), before threads */
        int n = 0, i;
        const so_route_t *r;
        for (i = 0; tables[i]; i++) {
            for (r = tables[i]; r->method && n < SO_MAX_ROUTES; r++) {
                all[n++] = *r;
            }
        }
        all[n].method = NULL;
        built = 1;
    }
    return all;
}
