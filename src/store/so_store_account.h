/* mod_sslorders: users, teams, memberships, API tokens, portal sessions, login
 * failures, team balances and the ledger. */
#ifndef SO_STORE_ACCOUNT_H
#define SO_STORE_ACCOUNT_H

#include <apr_tables.h>

#include "so_db.h"

#define SO_ENOFUNDS (APR_OS_START_USERERR + 120) /* the balance does not cover a charge */

typedef enum {
    SO_ROLE_NONE = 0,
    SO_ROLE_VIEWER = 1,
    SO_ROLE_MEMBER = 2,
    SO_ROLE_ADMIN = 3,
    SO_ROLE_OWNER = 4
} so_role_t;

so_role_t so_role_parse(const char *s);
const char *so_role_name(so_role_t role);

typedef struct {
    apr_int64_t id;
    const char *username;
    const char *email;
    const char *password_hash;
    int is_staff;
    int disabled;
    apr_int64_t created_at;
} so_user_t;

typedef struct {
    apr_int64_t id;
    const char *slug;
    const char *name;
    const char *currency;
    apr_int64_t balance; /* minor units */
    apr_int64_t created_at;
    so_role_t role; /* the caller's role, where the query knows it */
} so_team_t;

/* What a bearer token or a session cookie stands for. */
typedef struct {
    apr_int64_t credential_id; /* api_tokens.id or sessions.id */
    apr_int64_t user_id;
    apr_int64_t team_id;
    apr_int64_t expires_at;
    apr_int64_t last_used_at;
    const char *ip; /* "" = any address */
    const char *username;
    int is_staff;
    so_role_t role; /* SO_ROLE_NONE when the user left the team */
    const char *team_slug;
    const char *team_name;
    const char *team_currency;
    apr_int64_t team_balance;
    int team_webhooks; /* the team has an enabled webhook */
    const char *csrf_token; /* sessions only */
    apr_int64_t list_version; /* the team's order list version, when asked for (*_lv) */
    /* whether the team has any tags, any renewal links (asked for with the list version;
     * 1 when not asked): an order list page of a team without skips their lookups */
    int team_has_tags, team_has_renewals;
    apr_int64_t created_at; /* sessions only: for SSLOrdersSessionMaxAge */
    const char *scopes;     /* tokens only: "" = what the role allows */
    const char *networks;   /* tokens only: allowed source networks ("" = any) */
} so_credential_t;

/* users */
apr_status_t so_store_user_create(so_db_t *db, apr_pool_t *p, const char *username,
                                  const char *password_hash, int is_staff, apr_int64_t now,
                                  apr_int64_t *id);
apr_status_t so_store_user_by_name(so_db_t *db, apr_pool_t *p, const char *username, so_user_t **out);
apr_status_t so_store_user_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_user_t **out);
apr_status_t so_store_user_set_password(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        const char *password_hash);
apr_status_t so_store_user_set_staff(so_db_t *db, apr_pool_t *p, apr_int64_t id, int is_staff);

/* teams and memberships */
apr_status_t so_store_team_create(so_db_t *db, apr_pool_t *p, const char *slug, const char *name,
                                  const char *currency, apr_int64_t now, apr_int64_t *id);
apr_status_t so_store_team_by_slug(so_db_t *db, apr_pool_t *p, const char *slug, so_team_t **out);
apr_status_t so_store_team_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_team_t **out);
apr_status_t so_store_member_set(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t user_id, so_role_t role, apr_int64_t now);
/* The teams of a user with the user's role, oldest membership first (so_team_t*). */
apr_status_t so_store_teams_of_user(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                    apr_array_header_t **teams);

/* API tokens: the plain token (32 hex characters) is returned once, its SHA-256
 * is stored. ip "" or "0.0.0.0" binds to no address. */
apr_status_t so_store_token_create(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   apr_int64_t team_id, const char *ip, const char *name,
                                   apr_int64_t now, apr_int64_t ttl_secs, const char **token,
                                   apr_int64_t *expires_at);
/* APR_ENOENT when unknown or revoked (expiry is checked by the caller). */
apr_status_t so_store_token_lookup(so_db_t *db, apr_pool_t *p, const char *token,
                                   so_credential_t **out);
apr_status_t so_store_token_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t now);
/* PostgreSQL: tell the SSLOrdersAuthCache listeners that something was committed
 * (payload: the server that did, arg its placeholder). Its own transaction, committed
 * without waiting for the disk: the commit of a transaction that notifies holds a
 * database-wide lock (PostgreSQL serializes them), and a notice lost in a crash only
 * leaves the cache's seconds as the bound. */
#define SO_AUTH_NOTIFY_SQL(arg)                                                               \
    "SELECT set_config('synchronous_commit', 'off', true), pg_notify('sslorders_auth', " arg ")"
/* The same through db (sslordersctl); APR_ENOTIMPL on SQLite. Outside a transaction. */
apr_status_t so_store_auth_notify_change(so_db_t *db, apr_pool_t *p, const char *origin);
apr_status_t so_store_tokens_purge(so_db_t *db, apr_pool_t *p, apr_int64_t now);

/* Portal sessions: like tokens, plus a CSRF token. */
apr_status_t so_store_session_create(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                     apr_int64_t team_id, apr_int64_t now, apr_int64_t ttl_secs,
                                     const char **session_id, const char **csrf_token);
apr_status_t so_store_session_lookup(so_db_t *db, apr_pool_t *p, const char *session_id,
                                     so_credential_t **out);
/* The same, with the team's order list version (credential->list_version) read by the same
 * statement: a cached list page then costs one round trip. */
apr_status_t so_store_token_lookup_lv(so_db_t *db, apr_pool_t *p, const char *token,
                                      so_credential_t **out);
apr_status_t so_store_session_lookup_lv(so_db_t *db, apr_pool_t *p, const char *session_id,
                                        so_credential_t **out);
apr_status_t so_store_session_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t now,
                                    apr_int64_t expires_at);
apr_status_t so_store_session_set_team(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                       apr_int64_t team_id);
apr_status_t so_store_session_delete(so_db_t *db, apr_pool_t *p, apr_int64_t id);

/* Failed logins, counted per key (user name and address) in a sliding window. */
apr_status_t so_store_login_failures(so_db_t *db, apr_pool_t *p, const char *key,
                                     apr_int64_t since, int *count, apr_int64_t *first_at);
apr_status_t so_store_login_failed(so_db_t *db, apr_pool_t *p, const char *key, apr_int64_t now,
                                   apr_int64_t window);
apr_status_t so_store_login_clear(so_db_t *db, apr_pool_t *p, const char *key);

/* PostgreSQL: charge price to the team's balance, write its ledger row and COMMIT the
 * caller's transaction, in one round trip (so_db_select_commit), when the balance keeps at
 * least keep. APR_SUCCESS: committed. SO_EDBREFUSED: the balance would keep less (or the
 * team has no balance row): rolled back, the caller does it again the usual way
 * (so_store_ledger_add, which tells SO_ENOFUNDS apart). APR_ENOTIMPL (SQLite): nothing
 * done, the transaction goes on. Another error: rolled back. */
apr_status_t so_store_charge_commit(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t price, apr_int64_t keep, const char *kind,
                                    apr_int64_t order_id, const char *note, apr_int64_t user_id,
                                    apr_int64_t now);
/* Balance: add amount (negative = charge) to a team's balance and write a ledger
 * row, inside the caller's transaction. A charge that would make the balance
 * negative fails with SO_ENOFUNDS and changes nothing. order_id 0 = none,
 * user_id 0 = the system. */
apr_status_t so_store_ledger_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t amount, const char *kind, apr_int64_t order_id,
                                 const char *note, apr_int64_t user_id, apr_int64_t now,
                                 apr_int64_t *balance_after);

/* settings (key/value) */
apr_status_t so_store_setting_get(so_db_t *db, apr_pool_t *p, const char *name, const char **value);
apr_status_t so_store_setting_set(so_db_t *db, apr_pool_t *p, const char *name, const char *value);

#endif
