/* mod_sslorders: the one route table. Paths are relative to where
 * `SetHandler sslorders-api` is mounted (e.g. /v1beta). The first route whose
 * pattern and method match wins; a path that matches only other methods answers
 * 405 with Allow. Every route says the least role it needs in the caller's team. */
#include <stdlib.h>
#include <string.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_org.h"
#include "so_api_seal.h"
#include "so_auth.h"
#include "so_api_webhooks.h"
#include "so_api_security.h"
#include "../core/so_scopes.h"
#include "so_api_brand.h"
#include "so_api_acme.h"

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
    so_routes_teams,    so_routes_webhooks, so_routes_security, so_routes_brand,
    so_routes_acme,     NULL};

/* The scope an API token needs for a route (issue 14), by path prefix, next to the roles
 * above: GET (and HEAD) routes need the read scope, the other methods the write scope. A
 * prefix that is not listed needs no scope (accounts: /me, /auth, /teams, /invitations;
 * staff routes check the staff flag). A token without scopes may do what its role allows. */
static const struct {
    const char *prefix;
    unsigned read, write;
} route_scopes[] = {
    {"/ssl/", SO_SCOPE_ORDERS_READ, SO_SCOPE_ORDERS_WRITE},
    {"/customers", SO_SCOPE_ORDERS_READ, SO_SCOPE_ORDERS_WRITE},
    {"/folders", SO_SCOPE_ORDERS_READ, SO_SCOPE_ORDERS_WRITE},
    {"/tags", SO_SCOPE_ORDERS_READ, SO_SCOPE_ORDERS_WRITE},
    {"/cart", SO_SCOPE_BILLING, SO_SCOPE_BILLING},
    {"/balance", SO_SCOPE_BILLING, SO_SCOPE_BILLING},
    {"/ledger", SO_SCOPE_BILLING, SO_SCOPE_BILLING},
    {"/team/", SO_SCOPE_TEAM_ADMIN, SO_SCOPE_TEAM_ADMIN},
    {"/team", SO_SCOPE_ORDERS_READ, SO_SCOPE_TEAM_ADMIN},
    {"/audit", SO_SCOPE_TEAM_ADMIN, SO_SCOPE_TEAM_ADMIN},
    {"/acme", SO_SCOPE_ACME, SO_SCOPE_ACME},
    {"/webhooks", SO_SCOPE_WEBHOOKS, SO_SCOPE_WEBHOOKS},
    {NULL, 0, 0}};

unsigned so_route_scope(const so_route_t *r)
{
    int i;
    if (!r) {
        return 0;
    }
    for (i = 0; route_scopes[i].prefix; i++) {
        apr_size_t n = strlen(route_scopes[i].prefix);
        if (!strncmp(r->pattern, route_scopes[i].prefix, n)
            && (route_scopes[i].prefix[n - 1] == '/' || r->pattern[n] == '\0'
                || r->pattern[n] == '/')) {
            return !strcmp(r->method, "GET") ? route_scopes[i].read : route_scopes[i].write;
        }
    }
    return 0;
}

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
