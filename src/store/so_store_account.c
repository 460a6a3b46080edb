#include <string.h>

#include <apr_strings.h>

#include "so_store_account.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "so_store_org.h"
#include "../core/so_crypto.h"
#include "../core/so_util.h"

/* PostgreSQL: a statement that changes what a token stands for tells the listeners of
 * SSLOrdersAuthCache (so_httpd_listen.c). Not balances or order lists: they change with
 * every order, and the transactions that NOTIFY commit one at a time; the servers tell
 * each other of those after their commits instead (SO_AUTH_NOTIFY_SQL). */
#define AUTH_NOTIFY(tbl, ev)                                                                  \
    "{{PGSQL}}CREATE TRIGGER " tbl "_auth_notify AFTER " ev " ON " tbl                        \
    " FOR EACH STATEMENT EXECUTE FUNCTION so_auth_notify();\n"

const so_migration_t so_migrations_account[] = {
    {1, "accounts",
     "CREATE TABLE users (\n"
     "  id {{ID}},\n"
     "  username TEXT NOT NULL UNIQUE,\n"
     "  email TEXT NOT NULL DEFAULT '',\n"
     "  password_hash TEXT NOT NULL,\n"
     "  is_staff INTEGER NOT NULL DEFAULT 0,\n"
     "  disabled INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE TABLE teams (\n"
     "  id {{ID}},\n"
     "  slug TEXT NOT NULL UNIQUE,\n"
     "  name TEXT NOT NULL,\n"
     "  currency TEXT NOT NULL DEFAULT 'EUR',\n"
     "  balance BIGINT NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE TABLE memberships (\n"
     "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (user_id, team_id));\n"
     "CREATE INDEX memberships_team ON memberships (team_id);\n"
     "CREATE TABLE api_tokens (\n"
     "  id {{ID}},\n"
     "  token_hash TEXT NOT NULL UNIQUE,\n"
     "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  name TEXT NOT NULL DEFAULT '',\n"
     "  ip TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  last_used_at BIGINT NOT NULL DEFAULT 0,\n"
     "  revoked_at BIGINT);\n"
     "CREATE INDEX api_tokens_user ON api_tokens (user_id);\n"
     "CREATE INDEX api_tokens_expires ON api_tokens (expires_at);\n"
     "CREATE TABLE sessions (\n"
     "  id {{ID}},\n"
     "  session_hash TEXT NOT NULL UNIQUE,\n"
     "  csrf_token TEXT NOT NULL,\n"
     "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  last_used_at BIGINT NOT NULL DEFAULT 0);\n"
     "CREATE INDEX sessions_expires ON sessions (expires_at);\n"
     "CREATE TABLE login_failures (\n"
     "  key_hash TEXT PRIMARY KEY,\n"
     "  failures INTEGER NOT NULL,\n"
     "  first_at BIGINT NOT NULL,\n"
     "  last_at BIGINT NOT NULL);\n"
     "CREATE TABLE ledger (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  amount BIGINT NOT NULL,\n"
     "  balance_after BIGINT NOT NULL,\n"
     "  kind TEXT NOT NULL,\n"
     "  order_id BIGINT,\n"
     "  note TEXT NOT NULL DEFAULT '',\n"
     "  user_id BIGINT,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE INDEX ledger_team ON ledger (team_id, id);\n"
     "CREATE INDEX ledger_order ON ledger (order_id);\n"
     "CREATE TABLE settings (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  value TEXT NOT NULL)"},
    /* Each charge changes the balance row, and every insert that references a team (an
     * order, its event, the ledger line, the audit line) takes a key-share lock on the
     * team's row for its foreign key. With the balance in the teams row, concurrent
     * orders of one team turned those locks into PostgreSQL multixacts (GetMultiXactIdMembers
     * was the busiest function of order creation); no foreign key points at this table. */
    {800, "team balances in a row of their own",
     "CREATE TABLE team_balances (\n"
     "  team_id BIGINT PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  balance BIGINT NOT NULL DEFAULT 0);\n"
     "INSERT INTO team_balances (team_id, balance) SELECT id, balance FROM teams;\n"
     "ALTER TABLE teams DROP COLUMN balance"},
    /* PostgreSQL: how a statement committed in its own round trip says no (so_db.h:
     * so_db_select_commit); VOLATILE, so that it runs only where it is reached */
    {801, "so_refuse(): a statement's refusal as an error",
     "{{PGSQL}}CREATE OR REPLACE FUNCTION so_refuse() RETURNS bigint LANGUAGE plpgsql VOLATILE "
     "AS $$BEGIN RAISE EXCEPTION USING ERRCODE = '" SO_DB_REFUSED_SQLSTATE "', "
     "MESSAGE = 'refused by the statement (so_refuse)'; END$$"},
    {950, "notifications of changed credentials (PostgreSQL)",
     "{{PGSQL}}CREATE FUNCTION so_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN PERFORM pg_notify('sslorders_auth', ''); RETURN NULL; END $$;\n"
     AUTH_NOTIFY("api_tokens", "DELETE OR UPDATE OF revoked_at, expires_at, ip, scopes, networks, "
                               "user_id, team_id")
     AUTH_NOTIFY("memberships", "INSERT OR UPDATE OR DELETE")
     AUTH_NOTIFY("users", "DELETE OR UPDATE OF disabled, is_staff, username")
     AUTH_NOTIFY("teams", "DELETE OR UPDATE OF slug, name, currency")},
    {0, NULL, NULL}};


/* a user */
#define USER_COLUMNS(X)                                                                       \
    X(USER_ID, "id") X(USER_USERNAME, ", username") X(USER_EMAIL, ", email")                  \
    X(USER_PASSWORD_HASH, ", password_hash") X(USER_IS_STAFF, ", is_staff")                   \
    X(USER_DISABLED, ", disabled") X(USER_CREATED_AT, ", created_at")
enum { USER_COLUMNS(SO_COL_POS) USER_NCOLS };
#define USER_COLS USER_COLUMNS(SO_COL_SQL)

/* a team's balance (t: the team); a team without its row (one created by hand) has 0 */
#define TEAM_BALANCE_SQL "COALESCE(b.balance, 0)"
#define TEAM_BALANCE_JOIN "LEFT JOIN team_balances b ON b.team_id = t.id "
#define TEAM_COLUMNS(X)                                                                       \
    X(TEAM_ID, "t.id") X(TEAM_SLUG, ", t.slug") X(TEAM_NAME, ", t.name")                      \
    X(TEAM_CURRENCY, ", t.currency") X(TEAM_BALANCE, ", " TEAM_BALANCE_SQL)                   \
    X(TEAM_CREATED_AT, ", t.created_at")
enum { TEAM_COLUMNS(SO_COL_POS) TEAM_NCOLS };
#define TEAM_COLS TEAM_COLUMNS(SO_COL_SQL)
/* a team of a user's, with the user's role in it */
enum { TEAM_ROLE = TEAM_NCOLS, TEAM_ROLE_NCOLS };

/* whether the team has an enabled webhook (c: the credential): a request of a team without
 * one reads no webhooks when it emits its events (so_outbox) */
#define TEAM_WEBHOOKS(c)                                                                     \
    "CASE WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.team_id = " c ".team_id AND "      \
    "w.enabled = 1) THEN 1 ELSE 0 END"

/* the columns a credential lookup starts with (c: the credential, own: its column after
 * last_used_at, a token's ip or a session's csrf_token) */
#define CRED_COLUMNS(X, c, own)                                                               \
    X(CRED_ID, c ".id") X(CRED_USER_ID, ", " c ".user_id") X(CRED_TEAM_ID, ", " c ".team_id") \
    X(CRED_EXPIRES_AT, ", " c ".expires_at") X(CRED_LAST_USED_AT, ", " c ".last_used_at")     \
    X(CRED_OWN, ", " c "." own) X(CRED_USERNAME, ", u.username")                              \
    X(CRED_IS_STAFF, ", u.is_staff") X(CRED_ROLE, ", m.role") X(CRED_TEAM_SLUG, ", t.slug")   \
    X(CRED_TEAM_NAME, ", t.name") X(CRED_TEAM_CURRENCY, ", t.currency")                       \
    X(CRED_TEAM_BALANCE, ", " TEAM_BALANCE_SQL)
enum { CRED_COLUMNS(SO_COL_POS, "", "") CRED_NCOLS };
/* then a token's scopes, networks and webhooks flag, a session's created_at and webhooks flag;
 * the _lv variants (order list routes) add the team's order list version (as
 * so_orders_version reads it) and whether the team has any tags, any renewal links */
enum { TOK_SCOPES = CRED_NCOLS, TOK_NETWORKS, TOK_WEBHOOKS, TOK_NCOLS };
enum { TOK_LIST_VERSION = TOK_NCOLS, TOK_HAS_TAGS, TOK_HAS_RENEWALS, TOK_LV_NCOLS };
enum { SES_CREATED_AT = CRED_NCOLS, SES_WEBHOOKS, SES_NCOLS };
enum { SES_LIST_VERSION = SES_NCOLS, SES_HAS_TAGS, SES_HAS_RENEWALS, SES_LV_NCOLS };

#define TOKEN_LOOKUP(extra)                                                                   \
    "SELECT " CRED_COLUMNS(SO_COL_SQL, "k", "ip") ", k.scopes, k.networks, "                  \
    TEAM_WEBHOOKS("k") extra " "                                                              \
    "FROM api_tokens k JOIN users u ON u.id = k.user_id JOIN teams t ON t.id = k.team_id "    \
    TEAM_BALANCE_JOIN                                                                         \
    "LEFT JOIN memberships m ON m.user_id = k.user_id AND m.team_id = k.team_id "             \
    "WHERE k.token_hash = %s AND k.revoked_at IS NULL AND u.disabled = 0"
#define SESSION_LOOKUP(extra)                                                                 \
    "SELECT " CRED_COLUMNS(SO_COL_SQL, "s", "csrf_token") ", s.created_at, "                  \
    TEAM_WEBHOOKS("s") extra " "                                                              \
    "FROM sessions s JOIN users u ON u.id = s.user_id JOIN teams t ON t.id = s.team_id "      \
    TEAM_BALANCE_JOIN                                                                         \
    "LEFT JOIN memberships m ON m.user_id = s.user_id AND m.team_id = s.team_id "             \
    "WHERE s.session_hash = %s AND u.disabled = 0"
#define LIST_VERSION(c)                                                                      \
    ", (SELECT COALESCE(SUM(v.version), 0) FROM team_list_versions v WHERE v.team_id IN (0, " \
    c ".team_id))" \
    ", CASE WHEN EXISTS (SELECT 1 FROM tags g WHERE g.team_id = " c ".team_id) THEN 1 ELSE 0 " \
    "END, CASE WHEN EXISTS (SELECT 1 FROM order_renewals n WHERE n.team_id = " c ".team_id) "  \
    "THEN 1 ELSE 0 END"

/* a key's failed logins */
#define LF_COLUMNS(X) X(LF_FAILURES, "failures") X(LF_FIRST_AT, ", first_at")
enum { LF_COLUMNS(SO_COL_POS) LF_NCOLS };
#define LF_COLS LF_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_account[] = {
    {"so_user_insert",
     "INSERT INTO users (username, password_hash, is_staff, created_at) "
     "VALUES (%s, %s, %d, %lld) RETURNING id", 1},
    {"so_user_by_name", "SELECT " USER_COLS " FROM users WHERE username = %s", USER_NCOLS},
    {"so_user_by_id", "SELECT " USER_COLS " FROM users WHERE id = %lld", USER_NCOLS},
    {"so_user_set_password", "UPDATE users SET password_hash = %s WHERE id = %lld", 0},
    {"so_user_set_staff", "UPDATE users SET is_staff = %d WHERE id = %lld", 0},
    {"so_team_insert",
     "INSERT INTO teams (slug, name, currency, created_at) VALUES (%s, %s, %s, %lld) RETURNING id", 1},
    {"so_team_balance_insert",
     "INSERT INTO team_balances (team_id, balance) SELECT id, 0 FROM teams WHERE id = %lld "
     "ON CONFLICT (team_id) DO NOTHING", 0},
    {"so_team_by_slug",
     "SELECT " TEAM_COLS " FROM teams t " TEAM_BALANCE_JOIN "WHERE t.slug = %s", TEAM_NCOLS},
    {"so_team_by_id",
     "SELECT " TEAM_COLS " FROM teams t " TEAM_BALANCE_JOIN "WHERE t.id = %lld", TEAM_NCOLS},
    {"so_member_upsert",
     "INSERT INTO memberships (user_id, team_id, role, created_at) VALUES (%lld, %lld, %s, %lld) "
     "ON CONFLICT (user_id, team_id) DO UPDATE SET role = excluded.role", 0},
    {"so_teams_of_user",
     "SELECT " TEAM_COLS ", m.role "
     "FROM memberships m JOIN teams t ON t.id = m.team_id " TEAM_BALANCE_JOIN
     "WHERE m.user_id = %lld ORDER BY m.created_at, t.id", TEAM_ROLE_NCOLS},
    {"so_token_insert",
     "INSERT INTO api_tokens (token_hash, user_id, team_id, name, ip, created_at, expires_at) "
     "VALUES (%s, %lld, %lld, %s, %s, %lld, %lld)", 0},
    {"so_token_lookup", TOKEN_LOOKUP(""), TOK_NCOLS},
    {"so_token_lookup_lv", TOKEN_LOOKUP(LIST_VERSION("k")), TOK_LV_NCOLS},
    {"so_token_touch", "UPDATE api_tokens SET last_used_at = %lld WHERE id = %lld", 0},
    {"so_auth_notify_change", SO_SQL_PGSQL_ONLY SO_AUTH_NOTIFY_SQL("%s"), 2},
    {"so_tokens_purge", "DELETE FROM api_tokens WHERE expires_at < %lld", 0},
    {"so_session_insert",
     "INSERT INTO sessions (session_hash, csrf_token, user_id, team_id, created_at, expires_at, "
     "last_used_at) VALUES (%s, %s, %lld, %lld, %lld, %lld, %lld)", 0},
    {"so_session_lookup", SESSION_LOOKUP(""), SES_NCOLS},
    {"so_session_lookup_lv", SESSION_LOOKUP(LIST_VERSION("s")), SES_LV_NCOLS},
    {"so_session_touch", "UPDATE sessions SET last_used_at = %lld, expires_at = %lld WHERE id = %lld", 0},
    {"so_session_set_team", "UPDATE sessions SET team_id = %lld WHERE id = %lld", 0},
    {"so_session_delete", "DELETE FROM sessions WHERE id = %lld", 0},
    {"so_sessions_purge", "DELETE FROM sessions WHERE expires_at < %lld", 0},
    {"so_login_fail_get",
     "SELECT " LF_COLS " FROM login_failures WHERE key_hash = %s AND last_at >= %lld", LF_NCOLS},
    {"so_login_fail_reset",
     "DELETE FROM login_failures WHERE key_hash = %s AND last_at < %lld", 0},
    {"so_login_fail_add",
     "INSERT INTO login_failures (key_hash, failures, first_at, last_at) VALUES (%s, 1, %lld, %lld) "
     "ON CONFLICT (key_hash) DO UPDATE SET failures = login_failures.failures + 1, "
     "last_at = excluded.last_at", 0},
    {"so_login_fail_clear", "DELETE FROM login_failures WHERE key_hash = %s", 0},
    {"so_balance_add",
     "UPDATE team_balances SET balance = balance + %lld WHERE team_id = %lld "
     "AND balance + %lld >= %lld "
     "RETURNING balance", 1},
    /* PostgreSQL: the charge and its ledger row in one round trip (the balance row stays
     * locked until COMMIT: one statement less while other requests of the team wait) */
    {"so_balance_charge",
     SO_SQL_PGSQL_ONLY
     "WITH b AS (UPDATE team_balances SET balance = balance + %lld WHERE team_id = %lld "
     "AND balance + %lld >= %lld RETURNING team_id, balance) "
     "INSERT INTO ledger (team_id, amount, balance_after, kind, order_id, note, user_id, "
     "created_at) SELECT b.team_id, %lld, b.balance, %s, %lld, %s, %lld, %lld FROM b "
     "RETURNING balance_after", 1},
    /* PostgreSQL: the same as the transaction's last statement, committed in its round trip
     * (so_db_select_commit): a charge that would leave less than the floor, or a team
     * without its balance row, calls so_refuse() (an error: nothing of the transaction is
     * kept), since the COMMIT right behind it would keep the rest without the charge */
    {"so_balance_charge_last",
     SO_SQL_PGSQL_ONLY
     "WITH b AS (UPDATE team_balances SET balance = balance + %lld WHERE team_id = %lld "
     "AND balance + %lld >= %lld RETURNING team_id, balance) "
     "INSERT INTO ledger (team_id, amount, balance_after, kind, order_id, note, user_id, "
     "created_at) SELECT COALESCE(b.team_id, so_refuse()), %lld, b.balance, %s, %lld, %s, "
     "%lld, %lld FROM (VALUES (1)) AS one LEFT JOIN b ON true "
     "RETURNING balance_after", 1},
    {"so_ledger_insert",
     "INSERT INTO ledger (team_id, amount, balance_after, kind, order_id, note, user_id, "
     "created_at) VALUES (%lld, %lld, %lld, %s, %lld, %s, %lld, %lld)", 0},
    {"so_setting_get", "SELECT value FROM settings WHERE name = %s", 1},
    {"so_setting_set",
     "INSERT INTO settings (name, value) VALUES (%s, %s) "
     "ON CONFLICT (name) DO UPDATE SET value = excluded.value", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

so_role_t so_role_parse(const char *s)
{
    if (!s) {
        return SO_ROLE_NONE;
    }
    if (!strcmp(s, "owner")) {
        return SO_ROLE_OWNER;
    }
    if (!strcmp(s, "admin")) {
        return SO_ROLE_ADMIN;
    }
    if (!strcmp(s, "member")) {
        return SO_ROLE_MEMBER;
    }
    if (!strcmp(s, "viewer")) {
        return SO_ROLE_VIEWER;
    }
    return SO_ROLE_NONE;
}

const char *so_role_name(so_role_t role)
{
    switch (role) {
    case SO_ROLE_OWNER:
        return "owner";
    case SO_ROLE_ADMIN:
        return "admin";
    case SO_ROLE_MEMBER:
        return "member";
    case SO_ROLE_VIEWER:
        return "viewer";
    default:
        return "";
    }
}

static apr_status_t insert_returning_id(so_db_t *db, apr_pool_t *p, const char *label,
                                        apr_int64_t *id, int nargs, const so_arg_t *args)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, label, &rows, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows != 1) {
        return SO_EDB;
    }
    *id = so_cell_i64(rows, 0, 0);
    if (!db->trans) {
        db->committed = 1;
    }
    return APR_SUCCESS;
}

static so_user_t *user_from_row(apr_pool_t *p, so_rows_t *rows, int r)
{
    so_user_t *u = apr_pcalloc(p, sizeof(*u));
    u->id = so_cell_i64(rows, r, USER_ID);
    u->username = so_cell(rows, r, USER_USERNAME);
    u->email = so_cell(rows, r, USER_EMAIL);
    u->password_hash = so_cell(rows, r, USER_PASSWORD_HASH);
    u->is_staff = so_cell_int(rows, r, USER_IS_STAFF);
    u->disabled = so_cell_int(rows, r, USER_DISABLED);
    u->created_at = so_cell_i64(rows, r, USER_CREATED_AT);
    return u;
}

static so_team_t *team_from_row(apr_pool_t *p, so_rows_t *rows, int r)
{
    so_team_t *t = apr_pcalloc(p, sizeof(*t));
    t->id = so_cell_i64(rows, r, TEAM_ID);
    t->slug = so_cell(rows, r, TEAM_SLUG);
    t->name = so_cell(rows, r, TEAM_NAME);
    t->currency = so_cell(rows, r, TEAM_CURRENCY);
    t->balance = so_cell_i64(rows, r, TEAM_BALANCE);
    t->created_at = so_cell_i64(rows, r, TEAM_CREATED_AT);
    if (rows->ncols > TEAM_ROLE) {
        t->role = so_role_parse(so_cell(rows, r, TEAM_ROLE));
    }
    return t;
}

apr_status_t so_store_user_create(so_db_t *db, apr_pool_t *p, const char *username,
                                  const char *password_hash, int is_staff, apr_int64_t now,
                                  apr_int64_t *id)
{
    return insert_returning_id(db, p, "so_user_insert", id,
                               SO_A(username, password_hash, is_staff ? 1 : 0, now));
}

apr_status_t so_store_user_by_name(so_db_t *db, apr_pool_t *p, const char *username, so_user_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_user_by_name", &rows, SO_A(username));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = user_from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_user_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_user_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_user_by_id", &rows, SO_A(id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = user_from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_user_set_password(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        const char *password_hash)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_user_set_password", &n, SO_A(password_hash, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_user_set_staff(so_db_t *db, apr_pool_t *p, apr_int64_t id, int is_staff)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_user_set_staff", &n, SO_A(is_staff ? 1 : 0, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_team_create(so_db_t *db, apr_pool_t *p, const char *slug, const char *name,
                                  const char *currency, apr_int64_t now, apr_int64_t *id)
{
    /* a team is created with its five original folders, in one transaction */
    int own = !db->trans;
    apr_status_t rv = own ? so_db_begin(db) : APR_SUCCESS;
    if (rv == APR_SUCCESS) {
        rv = insert_returning_id(db, p, "so_team_insert", id, SO_A(slug, name, currency, now));
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_team_balance_insert", NULL, SO_A(*id));
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_folders_create_defaults(db, p, *id, now);
    }
    return own ? so_db_end(db, rv) : rv;
}

static apr_status_t team_select(so_db_t *db, apr_pool_t *p, const char *label, so_arg_t arg,
                                so_team_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, label, &rows, SO_A(arg));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = team_from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_team_by_slug(so_db_t *db, apr_pool_t *p, const char *slug, so_team_t **out)
{
    return team_select(db, p, "so_team_by_slug", so_arg_text(slug), out);
}

apr_status_t so_store_team_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_team_t **out)
{
    return team_select(db, p, "so_team_by_id", so_arg_int(id), out);
}

apr_status_t so_store_member_set(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t user_id, so_role_t role, apr_int64_t now)
{
    return so_db_exec(db, p, "so_member_upsert", NULL,
                      SO_A(user_id, team_id, so_role_name(role), now));
}

apr_status_t so_store_teams_of_user(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                    apr_array_header_t **teams)
{
    so_rows_t *rows;
    int r;
    apr_status_t rv = so_db_select(db, p, "so_teams_of_user", &rows, SO_A(user_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *teams = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_team_t *));
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(*teams, so_team_t *) = team_from_row(p, rows, r);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_token_create(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   apr_int64_t team_id, const char *ip, const char *name,
                                   apr_int64_t now, apr_int64_t ttl_secs, const char **token,
                                   apr_int64_t *expires_at)
{
    const char *plain;
    apr_status_t rv;

    if ((rv = so_random_hex(&plain, p, 16)) != APR_SUCCESS) {
        return rv;
    }
    if (!ip || !strcmp(ip, "0.0.0.0")) {
        ip = "";
    }
    *expires_at = now + ttl_secs;
    rv = so_db_exec(db, p, "so_token_insert", NULL,
                    SO_A(so_secret_hash(p, plain), user_id, team_id, name ? name : "",
                         ip, now, *expires_at));
    if (rv == APR_SUCCESS) {
        *token = plain;
    }
    return rv;
}

static so_credential_t *cred_from_row(apr_pool_t *p, so_rows_t *rows, int is_session)
{
    so_credential_t *c = apr_pcalloc(p, sizeof(*c));
    c->credential_id = so_cell_i64(rows, 0, CRED_ID);
    c->user_id = so_cell_i64(rows, 0, CRED_USER_ID);
    c->team_id = so_cell_i64(rows, 0, CRED_TEAM_ID);
    c->expires_at = so_cell_i64(rows, 0, CRED_EXPIRES_AT);
    c->last_used_at = so_cell_i64(rows, 0, CRED_LAST_USED_AT);
    if (is_session) {
        c->ip = "";
        c->csrf_token = so_cell(rows, 0, CRED_OWN);
    }
    else {
        c->ip = so_cell(rows, 0, CRED_OWN);
    }
    c->username = so_cell(rows, 0, CRED_USERNAME);
    c->is_staff = so_cell_int(rows, 0, CRED_IS_STAFF);
    c->role = so_role_parse(so_cell(rows, 0, CRED_ROLE));
    c->team_slug = so_cell(rows, 0, CRED_TEAM_SLUG);
    c->team_name = so_cell(rows, 0, CRED_TEAM_NAME);
    c->team_currency = so_cell(rows, 0, CRED_TEAM_CURRENCY);
    c->team_balance = so_cell_i64(rows, 0, CRED_TEAM_BALANCE);
    c->scopes = c->networks = "";
    if (is_session) {
        c->created_at = so_cell_i64(rows, 0, SES_CREATED_AT);
    }
    else {
        c->scopes = so_cell(rows, 0, TOK_SCOPES);
        c->networks = so_cell(rows, 0, TOK_NETWORKS);
    }
    c->team_webhooks = so_cell_int(rows, 0, is_session ? SES_WEBHOOKS : TOK_WEBHOOKS);
    c->team_has_tags = c->team_has_renewals = 1; /* (not asked: nothing is skipped) */
    return c;
}

static apr_status_t cred_lookup(so_db_t *db, apr_pool_t *p, const char *label, const char *secret,
                                int is_session, int with_version, so_credential_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, label, &rows, SO_A(so_secret_hash(p, secret)));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = cred_from_row(p, rows, is_session);
    if (with_version) {
        /* the last columns: after created_at (sessions) or scopes, networks (tokens), and
         * the webhooks flag */
        (*out)->list_version =
            so_cell_i64(rows, 0, is_session ? SES_LIST_VERSION : TOK_LIST_VERSION);
        (*out)->team_has_tags = so_cell_int(rows, 0, is_session ? SES_HAS_TAGS : TOK_HAS_TAGS);
        (*out)->team_has_renewals =
            so_cell_int(rows, 0, is_session ? SES_HAS_RENEWALS : TOK_HAS_RENEWALS);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_token_lookup(so_db_t *db, apr_pool_t *p, const char *token,
                                   so_credential_t **out)
{
    return cred_lookup(db, p, "so_token_lookup", token, 0, 0, out);
}

apr_status_t so_store_token_lookup_lv(so_db_t *db, apr_pool_t *p, const char *token,
                                      so_credential_t **out)
{
    return cred_lookup(db, p, "so_token_lookup_lv", token, 0, 1, out);
}

apr_status_t so_store_session_lookup_lv(so_db_t *db, apr_pool_t *p, const char *session_id,
                                        so_credential_t **out)
{
    return cred_lookup(db, p, "so_session_lookup_lv", session_id, 1, 1, out);
}

apr_status_t so_store_token_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t now)
{
    return so_db_exec(db, p, "so_token_touch", NULL, SO_A(now, id));
}

apr_status_t so_store_auth_notify_change(so_db_t *db, apr_pool_t *p, const char *origin)
{
    so_rows_t *r;
    if (db->kind != SO_DB_PGSQL) {
        return APR_ENOTIMPL;
    }
    return so_db_select(db, p, "so_auth_notify_change", &r, SO_A(origin));
}

apr_status_t so_store_tokens_purge(so_db_t *db, apr_pool_t *p, apr_int64_t now)
{
    apr_status_t rv = so_db_exec(db, p, "so_tokens_purge", NULL, SO_A(now));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_sessions_purge", NULL, SO_A(now));
    }
    return rv;
}

apr_status_t so_store_session_create(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                     apr_int64_t team_id, apr_int64_t now, apr_int64_t ttl_secs,
                                     const char **session_id, const char **csrf_token)
{
    const char *sid, *csrf;
    apr_status_t rv;

    if ((rv = so_random_hex(&sid, p, 32)) != APR_SUCCESS
        || (rv = so_random_hex(&csrf, p, 16)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_db_exec(db, p, "so_session_insert", NULL,
                    SO_A(so_secret_hash(p, sid), csrf, user_id, team_id, now,
                         now + ttl_secs, now));
    if (rv == APR_SUCCESS) {
        *session_id = sid;
        *csrf_token = csrf;
    }
    return rv;
}

apr_status_t so_store_session_lookup(so_db_t *db, apr_pool_t *p, const char *session_id,
                                     so_credential_t **out)
{
    return cred_lookup(db, p, "so_session_lookup", session_id, 1, 0, out);
}

apr_status_t so_store_session_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t now,
                                    apr_int64_t expires_at)
{
    return so_db_exec(db, p, "so_session_touch", NULL, SO_A(now, expires_at, id));
}

apr_status_t so_store_session_set_team(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                       apr_int64_t team_id)
{
    return so_db_exec(db, p, "so_session_set_team", NULL, SO_A(team_id, id));
}

apr_status_t so_store_session_delete(so_db_t *db, apr_pool_t *p, apr_int64_t id)
{
    return so_db_exec(db, p, "so_session_delete", NULL, SO_A(id));
}

apr_status_t so_store_login_failures(so_db_t *db, apr_pool_t *p, const char *key,
                                     apr_int64_t since, int *count, apr_int64_t *first_at)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_login_fail_get", &rows,
                                   SO_A(so_secret_hash(p, key), since));
    *count = 0;
    *first_at = 0;
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *count = so_cell_int(rows, 0, LF_FAILURES);
        *first_at = so_cell_i64(rows, 0, LF_FIRST_AT);
    }
    return rv;
}

apr_status_t so_store_login_failed(so_db_t *db, apr_pool_t *p, const char *key, apr_int64_t now,
                                   apr_int64_t window)
{
    const char *h = so_secret_hash(p, key);
    /* a window that has passed starts over */
    apr_status_t rv = so_db_exec(db, p, "so_login_fail_reset", NULL, SO_A(h, now - window));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_login_fail_add", NULL, SO_A(h, now, now));
    }
    return rv;
}

apr_status_t so_store_login_clear(so_db_t *db, apr_pool_t *p, const char *key)
{
    return so_db_exec(db, p, "so_login_fail_clear", NULL, SO_A(so_secret_hash(p, key)));
}

apr_status_t so_store_ledger_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t amount, const char *kind, apr_int64_t order_id,
                                 const char *note, apr_int64_t user_id, apr_int64_t now,
                                 apr_int64_t *balance_after)
{
    so_rows_t *rows;
    apr_status_t rv;
    /* a credit may not be refused, a charge may not take the balance below 0 */
    apr_int64_t floor = amount < 0 ? 0 : -((apr_int64_t)1 << 62);

    if (db->kind == SO_DB_PGSQL) {
        rv = so_db_select(db, p, "so_balance_charge", &rows,
                          SO_A(amount, team_id, amount, floor, amount, kind, SO_ID(order_id),
                               note ? note : "", SO_ID(user_id), now));
        if (rv == APR_SUCCESS && rows->nrows > 0) {
            *balance_after = so_cell_i64(rows, 0, 0);
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        /* no balance row, or too low: as below */
    }
    rv = so_db_select(db, p, "so_balance_add", &rows,
                      SO_A(amount, team_id, amount, floor));
    if (rv == APR_SUCCESS && rows->nrows == 0) {
        /* a team without its balance row (created by hand) gets it, once */
        int added = 0;
        rv = so_db_exec(db, p, "so_team_balance_insert", &added, SO_A(team_id));
        if (rv == APR_SUCCESS && added > 0) {
            rv = so_db_select(db, p, "so_balance_add", &rows,
                              SO_A(amount, team_id, amount, floor));
        }
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        so_team_t *t;
        rv = so_store_team_by_id(db, p, team_id, &t);
        return rv == APR_SUCCESS ? SO_ENOFUNDS : rv;
    }
    *balance_after = so_cell_i64(rows, 0, 0);
    return so_db_exec(db, p, "so_ledger_insert", NULL,
                      SO_A(team_id, amount, *balance_after, kind,
                           SO_ID(order_id), note ? note : "",
                           SO_ID(user_id), now));
}

apr_status_t so_store_charge_commit(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t price, apr_int64_t keep, const char *kind,
                                    apr_int64_t order_id, const char *note, apr_int64_t user_id,
                                    apr_int64_t now)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select_commit(db, p, "so_balance_charge_last", &rows,
                                          SO_A(-price, team_id, -price, keep, -price, kind,
                                               SO_ID(order_id), note ? note : "", SO_ID(user_id),
                                               now));
    if (rv == APR_SUCCESS && rows->nrows != 1) {
        return SO_EDB; /* (committed, yet without its ledger row: cannot be) */
    }
    return rv;
}

apr_status_t so_store_setting_get(so_db_t *db, apr_pool_t *p, const char *name, const char **value)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_setting_get", &rows, SO_A(name));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *value = so_cell(rows, 0, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_setting_set(so_db_t *db, apr_pool_t *p, const char *name, const char *value)
{
    return so_db_exec(db, p, "so_setting_set", NULL, SO_A(name, value));
}
