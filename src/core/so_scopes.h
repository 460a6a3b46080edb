/* mod_sslorders: API token scopes and allowed source networks (issue 14).
 *
 * A scope names what a token may do: orders:read, orders:write, billing, team:admin, acme,
 * webhooks. A token's scopes are a bit mask, kept as their names separated by spaces; no
 * scopes ("") means whatever the holder's role allows. Networks are CIDR blocks or single
 * addresses (IPv4 or IPv6), also kept separated by spaces; "" allows every address. */
#ifndef SO_SCOPES_H
#define SO_SCOPES_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SO_SCOPE_ORDERS_READ 0x01u
#define SO_SCOPE_ORDERS_WRITE 0x02u
#define SO_SCOPE_BILLING 0x04u
#define SO_SCOPE_TEAM_ADMIN 0x08u
#define SO_SCOPE_ACME 0x10u
#define SO_SCOPE_WEBHOOKS 0x20u
#define SO_SCOPE_ALL 0x3fu

#define SO_SCOPES_MAX_NETWORKS 32

/* The name of one scope bit ("" when not exactly one known bit). */
const char *so_scope_name(unsigned scope);
/* Parse a list of scope names separated by spaces or commas into *mask; unknown names fail
 * with *why naming the first. An empty list gives 0. */
apr_status_t so_scopes_parse(const char *text, unsigned *mask, const char **why, apr_pool_t *p);
/* The canonical text of a mask (names in a fixed order, separated by one space). */
const char *so_scopes_text(apr_pool_t *p, unsigned mask);
/* The scopes a role grants by default (so_role_t values: 1 viewer .. 4 owner). */
unsigned so_scopes_of_role(int role);

/* Parse networks (CIDR or addresses, separated by spaces or commas, at most
 * SO_SCOPES_MAX_NETWORKS) into a canonical space-separated text (*canon, may be NULL). */
apr_status_t so_networks_parse(const char *text, const char **canon, const char **why,
                               apr_pool_t *p);
/* 1 when ip (text) is inside one of the networks (canonical or not), or networks is "". */
int so_networks_allow(const char *networks, const char *ip, apr_pool_t *p);

#endif
