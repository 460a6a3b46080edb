/* mod_sslorders: the process's cache of API token lookups (SSLOrdersAuthCache).
 *
 * A bearer token's lookup (its user, team, role, balance, scopes; on order list routes
 * also the team's list version) is one database round trip, and on PostgreSQL that round
 * trip is most of a GET /v1beta/me or of a cached order list page. With the cache on, a
 * process keeps what a lookup returned for SSLOrdersAuthCache seconds and answers read
 * requests (GET, HEAD) from it. What keeps it honest:
 * - a change made through this server (a request that is not a read, a read that
 *   committed something, a background pass that worked) bumps a generation shared by all
 *   its processes (the metrics' shared memory) before it answers; an entry read before
 *   the bump is not used after it: a token revoked, a member's role changed, a balance
 *   charged or an order created here shows at once;
 * - on PostgreSQL, a change of what a token stands for made anywhere (revoked, a
 *   membership, a user disabled) is notified by triggers; a server with the cache that
 *   committed a change (a balance, an order list) notifies the others after the commit
 *   (so_authcache_committed: within milliseconds, several commits in one notification),
 *   as sslordersctl does; each notification bumps the generation of the servers that
 *   receive it (so_httpd_listen.c);
 * - other changes made elsewhere (SQL; on SQLite, sslordersctl) show when the entry's
 *   time is up: at most SSLOrdersAuthCache seconds;
 * - writes (POST, PUT, PATCH, DELETE) always read the credential from the database.
 * Without shared memory (the generation would be one process's) the cache stays off.
 * Portal sessions are not cached. No httpd types: so_auth.c uses it, the glue configures
 * it and bumps the generation. */
#ifndef SO_AUTHCACHE_H
#define SO_AUTHCACHE_H

#include <apr_pools.h>

#include "../store/so_store_account.h"

/* Once per process (child_init): on when some server has SSLOrdersAuthCache (ttl_secs,
 * the longest), off with 0. */
apr_status_t so_authcache_init(apr_pool_t *p, int ttl_secs);
int so_authcache_on(void);
/* The generation to record with a lookup: read it before the lookup. */
apr_uint64_t so_authcache_gen(void);
/* A copy in p of the entry of key (so_secret_hash of the token, "/lv" added for a lookup
 * with the list version), when it is younger than ttl_secs (the server's
 * SSLOrdersAuthCache) and no change was made through this server since it was read. */
so_credential_t *so_authcache_get(apr_pool_t *p, const char *key, int ttl_secs);
/* Keep what a lookup that started at generation gen returned. */
void so_authcache_put(const char *key, apr_uint64_t gen, const so_credential_t *c);
/* Something may have changed a credential: what was read before is not used again. */
void so_authcache_changed(void);
/* Once, in the parent: this server's name in its notifications. */
void so_authcache_origin_init(void);
/* Whether a notification's payload is this server's own (already bumped here). */
int so_authcache_mine(const char *payload);
/* The server's name in its notifications. */
const char *so_authcache_origin(void);
/* Once per process: what tells the other servers that this one committed a change
 * (PostgreSQL's listener thread); none: nothing is told. */
void so_authcache_set_notifier(void (*fn)(void));
/* A request or a background pass through db may have changed something: bump the
 * generation, and when it committed something, have the other servers told. */
void so_authcache_committed(const so_db_t *db);

#endif
