#include <string.h>

#include <apr_strings.h>

#include "so_store_security.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_crypto.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_security[] = {
    {750, "invitations",
     "CREATE TABLE invitations (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  username TEXT NOT NULL,\n"
     "  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),\n"
     "  invited_by BIGINT,\n"
     "  state TEXT NOT NULL DEFAULT 'pending',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  decided_at BIGINT);\n"
     "CREATE UNIQUE INDEX invitations_pending ON invitations (team_id, username) "
     "WHERE state = 'pending';\n"
     "CREATE INDEX invitations_user ON invitations (username, state)"},
    {751, "session_origin",
     "ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';\n"
     "CREATE INDEX sessions_user ON sessions (user_id)"},
    {752, "token_scopes",
     "ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE api_tokens ADD COLUMN networks TEXT NOT NULL DEFAULT ''"},
    {753, "audit_log",
     "CREATE TABLE audit_log (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT,\n"
     "  at BIGINT NOT NULL,\n"
     "  actor_kind TEXT NOT NULL,\n"
     "  actor_id BIGINT,\n"
     "  actor TEXT NOT NULL DEFAULT '',\n"
     "  credential_id BIGINT,\n"
     "  ip TEXT NOT NULL DEFAULT '',\n"
     "  method TEXT NOT NULL,\n"
     "  route TEXT NOT NULL,\n"
     "  path TEXT NOT NULL,\n"
     "  status INTEGER NOT NULL,\n"
     "  code INTEGER NOT NULL DEFAULT 0);\n"
     "CREATE INDEX audit_log_team ON audit_log (team_id, id);\n"
     "CREATE INDEX audit_log_at ON audit_log (at)"},
    {754, "two_factor",
     "ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE teams ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0;\n"
     "CREATE TABLE recovery_codes (\n"
     "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
     "  code_hash TEXT NOT NULL,\n"
     "  used_at BIGINT,\n"
     "  PRIMARY KEY (user_id, code_hash))"},
    {0, NULL, NULL}};

#define INV_COLUMNS(X)                                                                           \
    X(INV_ID, "i.id") X(INV_TEAM_ID, ", i.team_id") X(INV_TEAM_SLUG, ", t.slug")                 \
    X(INV_TEAM_NAME, ", t.name") X(INV_USERNAME, ", i.username") X(INV_ROLE, ", i.role")         \
    X(INV_INVITED_BY, ", COALESCE(u.username, '')") X(INV_CREATED_AT, ", i.created_at")          \
    X(INV_EXPIRES_AT, ", i.expires_at")
enum { INV_COLUMNS(SO_COL_POS) INV_NCOLS };
#define INV_COLS INV_COLUMNS(SO_COL_SQL)

/* what so_inv_decide returns */
#define INVD_COLUMNS(X) X(INVD_TEAM_ID, "team_id") X(INVD_ROLE, ", role")
enum { INVD_COLUMNS(SO_COL_POS) INVD_NCOLS };
#define INVD_COLS INVD_COLUMNS(SO_COL_SQL)

#define SESS_COLUMNS(X)                                                                          \
    X(SESS_ID, "s.id") X(SESS_TEAM_SLUG, ", t.slug") X(SESS_IP, ", s.ip")                        \
    X(SESS_USER_AGENT, ", s.user_agent") X(SESS_CREATED_AT, ", s.created_at")                    \
    X(SESS_LAST_USED_AT, ", s.last_used_at") X(SESS_EXPIRES_AT, ", s.expires_at")
enum { SESS_COLUMNS(SO_COL_POS) SESS_NCOLS };
#define SESS_COLS SESS_COLUMNS(SO_COL_SQL)

#define TFA_COLUMNS(X)                                                                           \
    X(TFA_SECRET, "totp_secret") X(TFA_PENDING, ", totp_pending")                                \
    X(TFA_LAST_STEP, ", totp_last_step")
enum { TFA_COLUMNS(SO_COL_POS) TFA_NCOLS };
#define TFA_COLS TFA_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_security[] = {
    {"so_inv_expire",
     "UPDATE invitations SET state = 'expired' WHERE team_id = %lld AND username = %s "
     "AND state = 'pending' AND expires_at <= %lld", 0},
    {"so_inv_insert",
     "INSERT INTO invitations (team_id, username, role, invited_by, created_at, expires_at) "
     "VALUES (%lld, %s, %s, %lld, %lld, %lld) RETURNING id", 1},
    {"so_inv_of_user",
     "SELECT " INV_COLS " FROM invitations i JOIN teams t ON t.id = i.team_id "
     "LEFT JOIN users u ON u.id = i.invited_by "
     "WHERE i.username = %s AND i.state = 'pending' AND i.expires_at > %lld ORDER BY i.id",
     INV_NCOLS},
    {"so_inv_of_team",
     "SELECT " INV_COLS " FROM invitations i JOIN teams t ON t.id = i.team_id "
     "LEFT JOIN users u ON u.id = i.invited_by "
     "WHERE i.team_id = %lld AND i.state = 'pending' AND i.expires_at > %lld ORDER BY i.id",
     INV_NCOLS},
    {"so_inv_decide",
     "UPDATE invitations SET state = %s, decided_at = %lld WHERE id = %lld AND username = %s "
     "AND state = 'pending' AND expires_at > %lld RETURNING " INVD_COLS, INVD_NCOLS},
    {"so_inv_withdraw",
     "UPDATE invitations SET state = 'withdrawn', decided_at = %lld WHERE id = %lld "
     "AND team_id = %lld AND state = 'pending'", 0},
    {"so_sec_token_user",
     "SELECT user_id FROM api_tokens WHERE team_id = %lld AND id = %lld AND revoked_at IS NULL", 1},
    {"so_sec_session_describe", "UPDATE sessions SET ip = %s, user_agent = %s WHERE session_hash = %s", 0},
    {"so_sec_sessions",
     "SELECT " SESS_COLS " FROM sessions s JOIN teams t ON t.id = s.team_id "
     "WHERE s.user_id = %lld AND s.expires_at > %lld ORDER BY s.id", SESS_NCOLS},
    {"so_sec_session_end", "DELETE FROM sessions WHERE id = %lld AND user_id = %lld", 0},
    {"so_sec_sessions_end", "DELETE FROM sessions WHERE user_id = %lld AND id <> %lld", 0},
    {"so_sec_tokens_end",
     "UPDATE api_tokens SET revoked_at = %lld WHERE user_id = %lld AND revoked_at IS NULL", 0},
    {"so_sec_token_restrict", "UPDATE api_tokens SET scopes = %s, networks = %s WHERE id = %lld", 0},
    {"so_audit_insert",
     "INSERT INTO audit_log (team_id, at, actor_kind, actor_id, actor, credential_id, ip, method, "
     "route, path, status, code) VALUES (%lld, %lld, %s, %lld, %s, %lld, %s, %s, %s, %s, %d, %d)", 0},
    {"so_audit_insert_id",
     "INSERT INTO audit_log (team_id, at, actor_kind, actor_id, actor, credential_id, ip, method, "
     "route, path, status, code) VALUES (%lld, %lld, %s, %lld, %s, %lld, %s, %s, %s, %s, %d, %d) "
     "RETURNING id", 1},
    {"so_audit_result", "UPDATE audit_log SET status = %d, code = %d WHERE id = %lld", 0},
    {"so_audit_prune", "DELETE FROM audit_log WHERE at < %lld", 0},
    {"so_tfa_get", "SELECT " TFA_COLS " FROM users WHERE id = %lld", TFA_NCOLS},
    {"so_tfa_set_pending", "UPDATE users SET totp_pending = %s WHERE id = %lld", 0},
    {"so_tfa_enable",
     "UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = %lld "
     "WHERE id = %lld AND totp_pending = %s AND totp_secret = ''", 0},
    {"so_tfa_disable",
     "UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE id = %lld", 0},
    {"so_tfa_step",
     "UPDATE users SET totp_last_step = %lld WHERE id = %lld AND totp_last_step < %lld", 0},
    {"so_tfa_codes_clear", "DELETE FROM recovery_codes WHERE user_id = %lld", 0},
    {"so_tfa_code_add", "INSERT INTO recovery_codes (user_id, code_hash) VALUES (%lld, %s)", 0},
    {"so_tfa_code_use",
     "UPDATE recovery_codes SET used_at = %lld WHERE user_id = %lld AND code_hash = %s "
     "AND used_at IS NULL", 0},
    {"so_tfa_team_get", "SELECT require_2fa FROM teams WHERE id = %lld", 1},
    {"so_tfa_team_set", "UPDATE teams SET require_2fa = %d WHERE id = %lld", 0},
    {"so_tfa_team_end_sessions",
     "DELETE FROM sessions WHERE team_id = %lld AND user_id IN "
     "(SELECT id FROM users WHERE totp_secret = '')", 0},
    {"so_tfa_team_end_logins",
     "UPDATE api_tokens SET revoked_at = %lld WHERE team_id = %lld AND name = 'login' "
     "AND revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE totp_secret = '')", 0},
    {NULL, NULL, 0}};


apr_status_t so_store_invitation_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        const char *username, so_role_t role,
                                        apr_int64_t invited_by, apr_int64_t now, apr_int64_t *id)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_exec(db, p, "so_inv_expire", NULL,
                                 SO_A(team_id, username, now));
    if (rv == APR_SUCCESS) {
        rv = so_db_select(db, p, "so_inv_insert", &rows,
                          SO_A(team_id, username, so_role_name(role), invited_by,
                               now, now + SO_INVITATION_TTL));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!db->trans) {
        db->committed = 1;
    }
    *id = rows->nrows ? so_cell_i64(rows, 0, 0) : 0;
    return rows->nrows ? APR_SUCCESS : SO_EDB;
}

apr_status_t so_store_invitations(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  const char *username, apr_int64_t now,
                                  apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = username ? so_db_select(db, p, "so_inv_of_user", &rows, SO_A(username, now))
                  : so_db_select(db, p, "so_inv_of_team", &rows, SO_A(team_id, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_invitation_t));
    for (i = 0; i < rows->nrows; i++) {
        so_invitation_t *v = apr_array_push(*out);
        v->id = so_cell_i64(rows, i, INV_ID);
        v->team_id = so_cell_i64(rows, i, INV_TEAM_ID);
        v->team_slug = so_cell(rows, i, INV_TEAM_SLUG);
        v->team_name = so_cell(rows, i, INV_TEAM_NAME);
        v->username = so_cell(rows, i, INV_USERNAME);
        v->role = so_role_parse(so_cell(rows, i, INV_ROLE));
        v->invited_by = so_cell(rows, i, INV_INVITED_BY);
        v->created_at = so_cell_i64(rows, i, INV_CREATED_AT);
        v->expires_at = so_cell_i64(rows, i, INV_EXPIRES_AT);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_invitation_decide(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        apr_int64_t user_id, const char *username, int accept,
                                        apr_int64_t now, apr_int64_t *team_id)
{
    so_rows_t *rows;
    apr_status_t rv;

    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_db_select(db, p, "so_inv_decide", &rows,
                      SO_A(accept ? "accepted" : "declined", now, id, username, now));
    if (rv == APR_SUCCESS && rows->nrows == 0) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        *team_id = so_cell_i64(rows, 0, INVD_TEAM_ID);
        if (accept) {
            rv = so_db_exec(db, p, "so_member_insert", NULL,
                            SO_A(user_id, *team_id, so_cell(rows, 0, INVD_ROLE), now));
        }
    }
    if (rv != APR_SUCCESS) {
        so_db_rollback(db);
        return rv;
    }
    return so_db_commit(db);
}

apr_status_t so_store_invitation_withdraw(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                          apr_int64_t id, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv =
        so_db_exec(db, p, "so_inv_withdraw", &n, SO_A(now, id, team_id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_team_token_user(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t token_id, apr_int64_t *user_id)
{
    so_rows_t *rows;
    apr_status_t rv =
        so_db_select(db, p, "so_sec_token_user", &rows, SO_A(team_id, token_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *user_id = so_cell_i64(rows, 0, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_session_describe(so_db_t *db, apr_pool_t *p, const char *session_id,
                                       const char *ip, const char *user_agent)
{
    return so_db_exec(db, p, "so_sec_session_describe", NULL,
                      SO_A(ip ? ip : "", user_agent ? user_agent : "",
                           so_secret_hash(p, session_id)));
}

apr_status_t so_store_user_sessions(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                    apr_int64_t now, apr_array_header_t **out)
{
    so_rows_t *rows;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_sec_sessions", &rows, SO_A(user_id, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_session_info_t));
    for (i = 0; i < rows->nrows; i++) {
        so_session_info_t *s = apr_array_push(*out);
        s->id = so_cell_i64(rows, i, SESS_ID);
        s->team_slug = so_cell(rows, i, SESS_TEAM_SLUG);
        s->ip = so_cell(rows, i, SESS_IP);
        s->user_agent = so_cell(rows, i, SESS_USER_AGENT);
        s->created_at = so_cell_i64(rows, i, SESS_CREATED_AT);
        s->last_used_at = so_cell_i64(rows, i, SESS_LAST_USED_AT);
        s->expires_at = so_cell_i64(rows, i, SESS_EXPIRES_AT);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_user_session_end(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                       apr_int64_t id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_sec_session_end", &n, SO_A(id, user_id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_user_credentials_end(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                           apr_int64_t keep_session, int tokens,
                                           apr_int64_t now)
{
    apr_status_t rv =
        so_db_exec(db, p, "so_sec_sessions_end", NULL, SO_A(user_id, keep_session));
    if (rv == APR_SUCCESS && tokens) {
        rv = so_db_exec(db, p, "so_sec_tokens_end", NULL, SO_A(now, user_id));
    }
    return rv;
}

apr_status_t so_store_token_restrict(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     const char *scopes, const char *networks)
{
    return so_db_exec(db, p, "so_sec_token_restrict", NULL,
                      SO_A(scopes ? scopes : "", networks ? networks : "", id));
}

apr_status_t so_store_audit_add(so_db_t *db, apr_pool_t *p, const so_audit_entry_t *e)
{
    return so_db_exec(db, p, "so_audit_insert", NULL,
                      SO_A(SO_ID(e->team_id), e->at, e->actor_kind,
                           SO_ID(e->actor_id), e->actor ? e->actor : "",
                           SO_ID(e->credential_id), e->ip ? e->ip : "",
                           e->method, e->route, e->path, e->status,
                           e->code));
}

apr_status_t so_store_audit_insert(so_db_t *db, apr_pool_t *p, const so_audit_entry_t *e,
                                   apr_int64_t *id)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(
        db, p, "so_audit_insert_id", &rows,
        SO_A(SO_ID(e->team_id), e->at, e->actor_kind,
             SO_ID(e->actor_id), e->actor ? e->actor : "",
             SO_ID(e->credential_id), e->ip ? e->ip : "", e->method,
             e->route, e->path, e->status, e->code));
    if (rv == APR_SUCCESS) {
        *id = rows->nrows ? so_cell_i64(rows, 0, 0) : 0;
    }
    return rv;
}

apr_status_t so_store_audit_result(so_db_t *db, apr_pool_t *p, apr_int64_t id, int status, int code)
{
    return so_db_exec(db, p, "so_audit_result", NULL,
                      SO_A(status, code, id));
}

apr_status_t so_store_audit_prune(so_db_t *db, apr_pool_t *p, apr_int64_t before, int *pruned)
{
    return so_db_exec(db, p, "so_audit_prune", pruned, SO_A(before));
}

/* an audit_log entry as so_store_audit_list reads it */
#define AUD_COLUMNS(X)                                                                           \
    X(AUD_ID, "id") X(AUD_AT, ", at") X(AUD_ACTOR_KIND, ", actor_kind")                          \
    X(AUD_ACTOR_ID, ", COALESCE(actor_id, 0)") X(AUD_ACTOR, ", actor")                           \
    X(AUD_CREDENTIAL_ID, ", COALESCE(credential_id, 0)") X(AUD_IP, ", ip")                       \
    X(AUD_METHOD, ", method") X(AUD_ROUTE, ", route") X(AUD_PATH, ", path")                      \
    X(AUD_STATUS, ", status") X(AUD_CODE, ", code")
enum { AUD_COLUMNS(SO_COL_POS) AUD_NCOLS };
#define AUD_COLS AUD_COLUMNS(SO_COL_SQL)

/* The filters are fixed SQL with placeholders; an absent filter passes its "any" value. */
#define AUDIT_WHERE                                                                               \
    " FROM audit_log WHERE team_id = %lld AND (%s = '' OR actor = %s) AND (%s = '' OR method = %s) " \
    "AND at >= %lld AND at < %lld AND (%d = 0 OR (%d = 1 AND status < 400) OR (%d = 2 AND status >= 400))"

apr_status_t so_store_audit_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 const so_audit_filter_t *f, int limit, int offset,
                                 apr_array_header_t **out, apr_int64_t *total)
{
    static const char *count_sql = "SELECT COUNT(*)" AUDIT_WHERE;
    static const char *list_sql =
        "SELECT " AUD_COLS AUDIT_WHERE " ORDER BY id DESC LIMIT %d OFFSET %d";
    const char *actor = f->actor ? f->actor : "", *method = f->method ? f->method : "";
    int result = f->result;
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;

    rv = so_db_select_sql(db, p, count_sql, &count,
                          SO_A(team_id, actor, actor, method, method, f->since,
                               f->until, result, result, result));
    if (rv == APR_SUCCESS) {
        rv = so_db_select_sql(db, p, list_sql, &rows,
                              SO_A(team_id, actor, actor, method, method, f->since,
                                   f->until, result, result, result, limit,
                                   offset));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_audit_entry_t));
    for (i = 0; i < rows->nrows; i++) {
        so_audit_entry_t *e = apr_array_push(*out);
        e->id = so_cell_i64(rows, i, AUD_ID);
        e->team_id = team_id;
        e->at = so_cell_i64(rows, i, AUD_AT);
        e->actor_kind = so_cell(rows, i, AUD_ACTOR_KIND);
        e->actor_id = so_cell_i64(rows, i, AUD_ACTOR_ID);
        e->actor = so_cell(rows, i, AUD_ACTOR);
        e->credential_id = so_cell_i64(rows, i, AUD_CREDENTIAL_ID);
        e->ip = so_cell(rows, i, AUD_IP);
        e->method = so_cell(rows, i, AUD_METHOD);
        e->route = so_cell(rows, i, AUD_ROUTE);
        e->path = so_cell(rows, i, AUD_PATH);
        e->status = so_cell_int(rows, i, AUD_STATUS);
        e->code = so_cell_int(rows, i, AUD_CODE);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_tfa_get(so_db_t *db, apr_pool_t *p, apr_int64_t user_id, const char **secret,
                              const char **pending, apr_int64_t *last_step)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_tfa_get", &rows, SO_A(user_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *secret = so_cell(rows, 0, TFA_SECRET);
    *pending = so_cell(rows, 0, TFA_PENDING);
    *last_step = so_cell_i64(rows, 0, TFA_LAST_STEP);
    return APR_SUCCESS;
}

apr_status_t so_store_tfa_set_pending(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                      const char *secret)
{
    return so_db_exec(db, p, "so_tfa_set_pending", NULL, SO_A(secret, user_id));
}

apr_status_t so_store_tfa_enable(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                 const char *pending, apr_int64_t step,
                                 const char *const *code_hashes, int ncodes)
{
    int n = 0, i;
    apr_status_t rv = so_db_begin(db);
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tfa_enable", &n, SO_A(step, user_id, pending));
        if (rv == APR_SUCCESS && n == 0) {
            rv = APR_ENOENT;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tfa_codes_clear", NULL, SO_A(user_id));
    }
    for (i = 0; rv == APR_SUCCESS && i < ncodes; i++) {
        rv = so_db_exec(db, p, "so_tfa_code_add", NULL, SO_A(user_id, code_hashes[i]));
    }
    return so_db_end(db, rv);
}

apr_status_t so_store_tfa_disable(so_db_t *db, apr_pool_t *p, apr_int64_t user_id)
{
    apr_status_t rv = so_db_begin(db);
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tfa_disable", NULL, SO_A(user_id));
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tfa_codes_clear", NULL, SO_A(user_id));
    }
    return so_db_end(db, rv);
}

apr_status_t so_store_tfa_use_step(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   apr_int64_t step)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_tfa_step", &n, SO_A(step, user_id, step));
    return rv == APR_SUCCESS && n == 0 ? APR_EMISMATCH : rv;
}

apr_status_t so_store_tfa_use_code(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   const char *code_hash, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv =
        so_db_exec(db, p, "so_tfa_code_use", &n, SO_A(now, user_id, code_hash));
    return rv == APR_SUCCESS && n == 0 ? APR_EMISMATCH : rv;
}

apr_status_t so_store_team_require_2fa(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int set,
                                       int *value)
{
    so_rows_t *rows;
    apr_status_t rv;
    if (set >= 0) {
        return so_db_exec(db, p, "so_tfa_team_set", NULL, SO_A(set, team_id));
    }
    rv = so_db_select(db, p, "so_tfa_team_get", &rows, SO_A(team_id));
    if (rv == APR_SUCCESS) {
        *value = rows->nrows ? so_cell_int(rows, 0, 0) : 0;
    }
    return rv;
}

apr_status_t so_store_team_end_sessions_without_2fa(so_db_t *db, apr_pool_t *p,
                                                    apr_int64_t team_id, apr_int64_t now,
                                                    int *ended)
{
    int sessions = 0, logins = 0;
    apr_status_t rv =
        so_db_exec(db, p, "so_tfa_team_end_sessions", &sessions, SO_A(team_id));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tfa_team_end_logins", &logins, SO_A(now, team_id));
    }
    *ended = sessions + logins;
    return rv;
}
