/* mod_sslorders: a team's members and API tokens, as the team's admins see them
 * (users, teams and the token lookup itself are in so_store_account.h). */
#ifndef SO_STORE_TEAM_H
#define SO_STORE_TEAM_H

#include <apr_tables.h>

#include "so_db.h"
#include "so_store_account.h"

typedef struct {
    apr_int64_t user_id;
    const char *username;
    so_role_t role;
    apr_int64_t joined_at;
} so_member_t;

/* Owners first, then admins, members, viewers; by user name. */
apr_status_t so_store_members(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int limit,
                              int offset, apr_array_header_t **out, apr_int64_t *total);
/* The role of user_id in the team (SO_ROLE_NONE when not a member). */
apr_status_t so_store_member_role(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t user_id, so_role_t *role);
apr_status_t so_store_member_owners(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int *owners);
/* Lock the team's memberships until the end of the caller's transaction, so that
 * the last-owner rule holds under concurrent changes. */
apr_status_t so_store_members_lock(so_db_t *db, apr_pool_t *p, apr_int64_t team_id);
/* SO_EDBUNIQUE when user_id is a member already. */
apr_status_t so_store_member_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t user_id, so_role_t role, apr_int64_t now);
apr_status_t so_store_member_remove(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t user_id);
/* A member who left or was removed: revoke the user's tokens for the team and end
 * the user's portal sessions in it. */
apr_status_t so_store_member_credentials_end(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                             apr_int64_t user_id, apr_int64_t now);
/* How many teams user_id owns. */
apr_status_t so_store_teams_owned(so_db_t *db, apr_pool_t *p, apr_int64_t user_id, int *count);

typedef struct {
    apr_int64_t id;
    apr_int64_t user_id;
    const char *username;
    const char *name;
    const char *ip;
    apr_int64_t created_at, expires_at, last_used_at, revoked_at;
    const char *scopes, *networks; /* "" = what the role allows, any address */
} so_token_info_t;

/* The team's tokens, newest first; all = 0 leaves out revoked and expired ones. */
apr_status_t so_store_team_tokens(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int all,
                                  apr_int64_t now, int limit, int offset, apr_array_header_t **out,
                                  apr_int64_t *total);
/* A token for user_id acting in team_id; the plain token is returned once. */
apr_status_t so_store_team_token_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_int64_t user_id, const char *name, const char *ip,
                                        apr_int64_t now, apr_int64_t ttl, apr_int64_t *id,
                                        const char **token);
/* Revoke (APR_ENOENT when not the team's or already revoked). */
apr_status_t so_store_team_token_revoke(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_int64_t id, apr_int64_t now);

#endif
