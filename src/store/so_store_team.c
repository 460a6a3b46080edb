#include <string.h>

#include <apr_strings.h>

#include "so_store_team.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_crypto.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_team[] = {
    {430, "team_tokens", "CREATE INDEX api_tokens_team ON api_tokens (team_id, id)"},
    {0, NULL, NULL}};

/* a team's API token with its user's name */
#define TOKEN_COLUMNS(X)                                                                      \
    X(TOKEN_ID, "k.id") X(TOKEN_USER_ID, ", k.user_id") X(TOKEN_USERNAME, ", u.username")     \
    X(TOKEN_NAME, ", k.name") X(TOKEN_IP, ", k.ip") X(TOKEN_CREATED_AT, ", k.created_at")     \
    X(TOKEN_EXPIRES_AT, ", k.expires_at") X(TOKEN_LAST_USED_AT, ", k.last_used_at")           \
    X(TOKEN_REVOKED_AT, ", k.revoked_at") X(TOKEN_SCOPES, ", k.scopes")                       \
    X(TOKEN_NETWORKS, ", k.networks")
enum { TOKEN_COLUMNS(SO_COL_POS) TOKEN_NCOLS };
#define TOKEN_COLS TOKEN_COLUMNS(SO_COL_SQL)

/* a member of a team */
#define MEM_COLUMNS(X)                                                                        \
    X(MEM_USER_ID, "m.user_id") X(MEM_USERNAME, ", u.username") X(MEM_ROLE, ", m.role")       \
    X(MEM_CREATED_AT, ", m.created_at")
enum { MEM_COLUMNS(SO_COL_POS) MEM_NCOLS };
#define MEM_COLS MEM_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_team[] = {
    {"so_members_count", "SELECT COUNT(*) FROM memberships WHERE team_id = %lld", 1},
    {"so_members_list",
     "SELECT " MEM_COLS " FROM memberships m "
     "JOIN users u ON u.id = m.user_id WHERE m.team_id = %lld ORDER BY CASE m.role "
     "WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, u.username "
     "LIMIT %d OFFSET %d", MEM_NCOLS},
    {"so_member_role", "SELECT role FROM memberships WHERE team_id = %lld AND user_id = %lld", 1},
    {"so_member_owners",
     "SELECT COUNT(*) FROM memberships WHERE team_id = %lld AND role = 'owner'", 1},
    {"so_members_lock", "UPDATE memberships SET created_at = created_at WHERE team_id = %lld", 0},
    {"so_member_insert",
     "INSERT INTO memberships (user_id, team_id, role, created_at) VALUES (%lld, %lld, %s, %lld)", 0},
    {"so_member_delete", "DELETE FROM memberships WHERE team_id = %lld AND user_id = %lld", 0},
    {"so_teams_owned", "SELECT COUNT(*) FROM memberships WHERE user_id = %lld AND role = 'owner'", 1},
    {"so_team_tokens_count",
     "SELECT COUNT(*) FROM api_tokens k WHERE k.team_id = %lld AND (%d = 1 OR "
     "(k.revoked_at IS NULL AND k.expires_at > %lld))", 1},
    {"so_team_tokens",
     "SELECT " TOKEN_COLS " FROM api_tokens k JOIN users u ON u.id = k.user_id "
     "WHERE k.team_id = %lld AND (%d = 1 OR (k.revoked_at IS NULL AND k.expires_at > %lld)) "
     "ORDER BY k.id DESC LIMIT %d OFFSET %d", TOKEN_NCOLS},
    {"so_team_token_insert",
     "INSERT INTO api_tokens (token_hash, user_id, team_id, name, ip, created_at, expires_at) "
     "VALUES (%s, %lld, %lld, %s, %s, %lld, %lld) RETURNING id", 1},
    {"so_team_token_revoke",
     "UPDATE api_tokens SET revoked_at = %lld WHERE team_id = %lld AND id = %lld "
     "AND revoked_at IS NULL", 0},
    {"so_member_tokens_revoke",
     "UPDATE api_tokens SET revoked_at = %lld WHERE team_id = %lld AND user_id = %lld "
     "AND revoked_at IS NULL", 0},
    {"so_member_sessions_delete", "DELETE FROM sessions WHERE team_id = %lld AND user_id = %lld", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

apr_status_t so_store_members(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int limit,
                              int offset, apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_members_count", &count, SO_A(team_id))) != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_members_list", &rows,
                              SO_A(team_id, limit, offset)))
               != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_member_t));
    for (i = 0; i < rows->nrows; i++) {
        so_member_t *m = apr_array_push(*out);
        m->user_id = so_cell_i64(rows, i, MEM_USER_ID);
        m->username = so_cell(rows, i, MEM_USERNAME);
        m->role = so_role_parse(so_cell(rows, i, MEM_ROLE));
        m->joined_at = so_cell_i64(rows, i, MEM_CREATED_AT);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_member_role(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t user_id, so_role_t *role)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_member_role", &rows, SO_A(team_id, user_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *role = rows->nrows ? so_role_parse(so_cell(rows, 0, 0)) : SO_ROLE_NONE;
    return APR_SUCCESS;
}

apr_status_t so_store_member_owners(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int *owners)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_member_owners", &rows, SO_A(team_id));
    if (rv == APR_SUCCESS) {
        *owners = so_cell_int(rows, 0, 0);
    }
    return rv;
}

apr_status_t so_store_members_lock(so_db_t *db, apr_pool_t *p, apr_int64_t team_id)
{
    return so_db_exec(db, p, "so_members_lock", NULL, SO_A(team_id));
}

apr_status_t so_store_member_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t user_id, so_role_t role, apr_int64_t now)
{
    return so_db_exec(db, p, "so_member_insert", NULL,
                      SO_A(user_id, team_id, so_role_name(role), now));
}

apr_status_t so_store_member_remove(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t user_id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_member_delete", &n, SO_A(team_id, user_id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_teams_owned(so_db_t *db, apr_pool_t *p, apr_int64_t user_id, int *count)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_teams_owned", &rows, SO_A(user_id));
    if (rv == APR_SUCCESS) {
        *count = so_cell_int(rows, 0, 0);
    }
    return rv;
}

apr_status_t so_store_team_tokens(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int all,
                                  apr_int64_t now, int limit, int offset, apr_array_header_t **out,
                                  apr_int64_t *total)
{
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_team_tokens_count", &count,
                           SO_A(team_id, all ? 1 : 0, now)))
            != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_team_tokens", &rows,
                              SO_A(team_id, all ? 1 : 0, now, limit,
                                   offset)))
               != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_token_info_t));
    for (i = 0; i < rows->nrows; i++) {
        so_token_info_t *t = apr_array_push(*out);
        t->id = so_cell_i64(rows, i, TOKEN_ID);
        t->user_id = so_cell_i64(rows, i, TOKEN_USER_ID);
        t->username = so_cell(rows, i, TOKEN_USERNAME);
        t->name = so_cell(rows, i, TOKEN_NAME);
        t->ip = so_cell(rows, i, TOKEN_IP);
        t->created_at = so_cell_i64(rows, i, TOKEN_CREATED_AT);
        t->expires_at = so_cell_i64(rows, i, TOKEN_EXPIRES_AT);
        t->last_used_at = so_cell_i64(rows, i, TOKEN_LAST_USED_AT);
        t->revoked_at = so_cell_i64(rows, i, TOKEN_REVOKED_AT);
        t->scopes = so_cell(rows, i, TOKEN_SCOPES);
        t->networks = so_cell(rows, i, TOKEN_NETWORKS);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_team_token_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_int64_t user_id, const char *name, const char *ip,
                                        apr_int64_t now, apr_int64_t ttl, apr_int64_t *id,
                                        const char **token)
{
    const char *plain;
    so_rows_t *rows;
    apr_status_t rv;

    /* the same form as so_store_token_create: 128 random bits, stored hashed */
    if ((rv = so_random_hex(&plain, p, 16)) != APR_SUCCESS) {
        return rv;
    }
    if (!ip || !strcmp(ip, "0.0.0.0")) {
        ip = "";
    }
    rv = so_db_select(db, p, "so_team_token_insert", &rows,
                      SO_A(so_secret_hash(p, plain), user_id, team_id, name ? name : "",
                           ip, now, now + ttl));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!db->trans) {
        db->committed = 1;
    }
    *id = so_cell_i64(rows, 0, 0);
    *token = plain;
    return APR_SUCCESS;
}

apr_status_t so_store_team_token_revoke(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_int64_t id, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv =
        so_db_exec(db, p, "so_team_token_revoke", &n, SO_A(now, team_id, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_member_credentials_end(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                             apr_int64_t user_id, apr_int64_t now)
{
    apr_status_t rv = so_db_exec(db, p, "so_member_tokens_revoke", NULL,
                                 SO_A(now, team_id, user_id));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_member_sessions_delete", NULL, SO_A(team_id, user_id));
    }
    return rv;
}
