#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_atomic.h>
#include <arpa/inet.h>

#include "so_auth.h"
#include "so_authcache.h"
#include "../store/so_store_order.h"
#include "../store/so_store_security.h"
#include "so_api_security.h"
#include "../svc/so_order_view.h"
#include "../svc/so_outbox.h"
#include "../core/so_crypto.h"
#include "../core/so_scopes.h"
#include "../core/so_log.h"
#include "../core/so_util.h"

#define TOUCH_EVERY 60 /* seconds between last-used updates of a credential */

/* Which credentials this process touched lately: the first of many concurrent requests
 * with a credential not touched for TOUCH_EVERY seconds claims the write, the others
 * do not queue for the write lock behind it. A slot packs 32 bits of the credential
 * (id and kind) with the time; two credentials sharing a slot only cost a write more. */
#define TOUCH_SLOTS 1024
static volatile apr_uint64_t touch_slots[TOUCH_SLOTS];

static int touch_claim(apr_int64_t id, int session, apr_int64_t now)
{
    apr_uint64_t key = ((apr_uint64_t)id << 1 | (apr_uint64_t)(session != 0)) & 0xffffffffu;
    volatile apr_uint64_t *slot = &touch_slots[key % TOUCH_SLOTS];
    apr_uint64_t old = apr_atomic_read64(slot);
    apr_uint64_t mine = key << 32 | ((apr_uint64_t)now & 0xffffffffu);

    if ((old >> 32) == key && (apr_uint32_t)((apr_uint32_t)now - (apr_uint32_t)old) < TOUCH_EVERY) {
        return 0;
    }
    return apr_atomic_cas64(slot, mine, old) == old;
}

static apr_status_t deny(so_req_t *req, const char *desc)
{
    return so_api_error(req, SO_E_AUTH, "Authentication failed", desc);
}

static const char *bearer_token(so_req_t *req)
{
    const char *h = so_req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return *h ? h : NULL;
}

/* a route whose answer is cached by the team's order list version (SO_RF_LISTVER) */
static int list_route(const so_req_t *req)
{
    return req->route && (req->route->flags & SO_RF_LISTVER);
}

static int is_safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

static void principal_from(so_req_t *req, so_credential_t *c, so_auth_kind_t kind)
{
    so_principal_t *a = apr_pcalloc(req->pool, sizeof(*a));
    a->kind = kind;
    a->user_id = c->user_id;
    a->team_id = c->team_id;
    a->role = c->role;
    a->is_staff = c->is_staff;
    a->username = c->username;
    a->team_slug = c->team_slug;
    a->team_name = c->team_name;
    a->team_currency = c->team_currency;
    a->team_balance = c->team_balance;
    a->credential_id = c->credential_id;
    a->csrf_token = c->csrf_token;
    if (list_route(req)) {
        a->has_list_version = 1;
        a->list_version = c->list_version;
        if (!c->team_has_tags || !c->team_has_renewals) {
            so_order_view_team_has(req->pool, c->team_id, c->team_has_tags,
                                   c->team_has_renewals);
        }
    }
    a->session_created_at = c->created_at;
    req->auth = a;
    if (!c->team_webhooks) {
        so_outbox_no_hooks(req->pool, c->team_id);
    }
}

static apr_status_t check_role(so_req_t *req)
{
    const so_route_t *r = req->route;
    if (!r) {
        return APR_SUCCESS;
    }
    if ((r->flags & SO_RF_STAFF) && !req->auth->is_staff) {
        return so_api_error(req, SO_E_FORBIDDEN, "Only staff may do this", "");
    }
    if (req->auth->role < r->min_role) {
        return so_api_errorf(req, SO_E_FORBIDDEN, "Your role in team %s (%s) does not allow this",
                             req->auth->team_slug, so_role_name(req->auth->role));
    }
    return APR_SUCCESS;
}

/* An order token (POST /ssl/orders/{id}/otp-tokens): its holder may read that one
 * order and change its validation methods, nothing else. */
static apr_status_t resolve_otp(so_req_t *req, so_db_t *db, const char *token)
{
    apr_int64_t team_id, order_id;
    so_principal_t *a;
    apr_status_t rv = so_store_otp_lookup(db, req->pool, token, req->now, &team_id, &order_id);

    if (rv == APR_ENOENT) {
        return deny(req, "invalid or expired token");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!req->route || !(req->route->flags & SO_RF_OTP)) {
        return so_api_error(req, SO_E_OTP_SCOPE,
                            "An order token may only read its order and change its validation methods", "");
    }
    a = apr_pcalloc(req->pool, sizeof(*a));
    a->kind = SO_AUTH_OTP;
    a->team_id = team_id;
    a->otp_order_id = order_id;
    a->role = SO_ROLE_MEMBER;
    a->username = "";
    a->team_slug = a->team_name = a->team_currency = "";
    req->auth = a;
    return APR_SUCCESS;
}

static apr_status_t token_read(so_req_t *req, so_db_t *db, const char *token,
                               so_credential_t **c)
{
    return list_route(req) ? so_store_token_lookup_lv(db, req->pool, token, c)
                           : so_store_token_lookup(db, req->pool, token, c);
}

/* The token's credential (with the team's order list version on list routes): from the
 * process's cache (SSLOrdersAuthCache) for a read, else from the database (and then kept
 * for the next read). Writes always read the database: what they decide on (role,
 * scopes, the team's webhooks, its balance) is never older than the request. */
static apr_status_t token_lookup(so_req_t *req, so_db_t *db, const char *token,
                                 so_credential_t **c)
{
    const char *key;
    apr_uint64_t gen;
    apr_status_t rv;

    if (!so_authcache_on() || req->cfg->auth_cache_secs <= 0 || !is_safe_method(req->method)) {
        return token_read(req, db, token, c);
    }
    key = apr_pstrcat(req->pool, so_secret_hash(req->pool, token), list_route(req) ? "/lv" : "",
                      NULL);
    if ((*c = so_authcache_get(req->pool, key, req->cfg->auth_cache_secs))) {
        return APR_SUCCESS;
    }
    gen = so_authcache_gen();
    rv = token_read(req, db, token, c);
    if (rv == APR_SUCCESS) {
        so_authcache_put(key, gen, *c);
    }
    return rv;
}

static apr_status_t resolve_token(so_req_t *req, so_db_t *db, const char *token)
{
    so_credential_t *c = NULL;
    apr_status_t rv;

    if (strlen(token) > 128) {
        return deny(req, "invalid token");
    }
    rv = token_lookup(req, db, token, &c);
    if (rv == APR_ENOENT) {
        return resolve_otp(req, db, token);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (req->now >= c->expires_at) {
        return deny(req, "the token has expired");
    }
    if (*c->ip && strcmp(c->ip, req->client_ip)) {
        return deny(req, "the token is bound to another IP address");
    }
    if (!so_networks_allow(c->networks, req->client_ip, req->pool)) {
        return deny(req, "the token may not be used from this address");
    }
    if (c->role == SO_ROLE_NONE) {
        return deny(req, "the user is no longer a member of the token's team");
    }
    if (req->now - c->last_used_at >= TOUCH_EVERY && touch_claim(c->credential_id, 0, req->now)) {
        /* best effort: a busy database must not fail a read */
        so_store_token_touch(db, req->pool, c->credential_id, req->now);
        db->committed = 0;
    }
    principal_from(req, c, SO_AUTH_TOKEN);
    if (c->scopes && *c->scopes) {
        unsigned need = so_route_scope(req->route);
        const char *why = NULL;
        if (so_scopes_parse(c->scopes, &req->auth->scopes, &why, req->pool) != APR_SUCCESS) {
            return deny(req, "the token's scopes cannot be read");
        }
        if (need && !(req->auth->scopes & need)) {
            so_api_errorf(req, SO_E_SCOPE, "The token lacks the scope %s", so_scope_name(need));
            req->err_data = so_scope_name(need);
            return APR_EACCES;
        }
    }
    return check_role(req);
}

static apr_status_t resolve_session(so_req_t *req, so_db_t *db, const char *sid)
{
    so_credential_t *c = NULL;
    apr_status_t rv;

    if (strlen(sid) > 128) {
        return deny(req, "invalid session");
    }
    rv = list_route(req) ? so_store_session_lookup_lv(db, req->pool, sid, &c)
                         : so_store_session_lookup(db, req->pool, sid, &c);
    if (rv == APR_ENOENT) {
        return deny(req, "invalid session");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (req->now >= c->expires_at
        || (req->cfg->session_max_age > 0 && req->now >= c->created_at + req->cfg->session_max_age)) {
        return deny(req, "the session has expired, please sign in again");
    }
    if (c->role == SO_ROLE_NONE) {
        return deny(req, "you are no longer a member of this team");
    }
    if (!is_safe_method(req->method) && !(req->route && (req->route->flags & SO_RF_NOCSRF))) {
        const char *csrf = so_req_header(req, "X-CSRF-Token");
        if (!csrf || !so_str_ct_equal(csrf, c->csrf_token)) {
            return so_api_error(req, SO_E_CSRF, "Missing or wrong X-CSRF-Token", "");
        }
    }
    if (req->now - c->last_used_at >= TOUCH_EVERY && touch_claim(c->credential_id, 1, req->now)) {
        apr_int64_t until = req->now + req->cfg->session_ttl;
        if (req->cfg->session_max_age > 0 && until > c->created_at + req->cfg->session_max_age) {
            until = c->created_at + req->cfg->session_max_age;
        }
        so_store_session_touch(db, req->pool, c->credential_id, req->now, until);
        db->committed = 0;
    }
    principal_from(req, c, SO_AUTH_SESSION);
    return check_role(req);
}

void so_auth_request_done(const so_req_t *req)
{
    if (req->db && (req->db->committed || !is_safe_method(req->method))) {
        so_authcache_committed(req->db);
    }
}

apr_status_t so_auth_resolve(so_req_t *req)
{
    const char *token = bearer_token(req);
    const char *sid = NULL;
    so_db_t *db;

    if (!token) {
        sid = so_req_cookie(req, SO_SESSION_COOKIE);
        if (!sid || !*sid) {
            return deny(req, "send Authorization: Bearer <token> (POST /auth/login gives one)");
        }
    }
    if (!(db = so_req_db(req))) {
        return SO_EDBDOWN;
    }
    return token ? resolve_token(req, db, token) : resolve_session(req, db, sid);
}

/* ------------------------------------------------------------------------- */
/* login                                                                       */

typedef struct {
    so_user_t *user;
    so_team_t *team;
    apr_array_header_t *teams;
} login_t;

static int valid_ip(const char *ip)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}

/* Failed logins are counted per user name and address (SSLOrdersLoginMaxFailures), and,
 * with SO_LOGIN_WIDE times that limit, per address across user names (one password
 * sprayed over many names) and per name across addresses (one name tried from many). */
#define SO_LOGIN_WIDE 5

static const char *wide_key(so_req_t *req, int by_name, const char *name)
{
    return by_name ? apr_pstrcat(req->pool, "name|", name, NULL)
                   : apr_pstrcat(req->pool, "addr|", req->client_ip, NULL);
}

apr_status_t so_login_limited(so_req_t *req, so_db_t *db, const char *name, const char *key,
                              int *failures, apr_int64_t *first_at)
{
    apr_int64_t since = req->now - req->cfg->login_window;
    int i;
    apr_status_t rv = so_store_login_failures(db, req->pool, key, since, failures, first_at);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (*failures >= req->cfg->login_max_failures) {
        *failures = -1;
        return APR_SUCCESS;
    }
    for (i = 0; i < 2; i++) {
        int n = 0;
        apr_int64_t first = 0;
        rv = so_store_login_failures(db, req->pool, wide_key(req, i, name), since, &n, &first);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (n >= req->cfg->login_max_failures * SO_LOGIN_WIDE) {
            *failures = -1;
            *first_at = first;
            return APR_SUCCESS;
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_login_failed(so_req_t *req, so_db_t *db, const char *name, const char *key)
{
    apr_status_t rv = so_store_login_failed(db, req->pool, key, req->now, req->cfg->login_window);
    int i;
    for (i = 0; i < 2 && rv == APR_SUCCESS; i++) {
        rv = so_store_login_failed(db, req->pool, wide_key(req, i, name), req->now,
                                   req->cfg->login_window);
    }
    return rv;
}

/* Check the credentials of a login body; answers and returns non-success on failure. */
static apr_status_t login_check(so_req_t *req, so_db_t *db, login_t *out)
{
    const char *username = NULL, *password = NULL, *team = NULL, *key, *name;
    int failures = 0, i;
    apr_int64_t first_at = 0;
    so_user_t *user = NULL;
    apr_status_t rv;

    if (so_in_str(req, req->json, "username", 1, 256, &username, NULL) != APR_SUCCESS
        || so_in_str(req, req->json, "password", 1, 1024, &password, NULL) != APR_SUCCESS
        || so_in_str(req, req->json, "team", 0, 64, &team, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    name = so_str_lower(req->pool, username);
    key = apr_pstrcat(req->pool, name, "|", req->client_ip, NULL);
    rv = so_login_limited(req, db, name, key, &failures, &first_at);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (failures < 0) {
        apr_int64_t wait = first_at + req->cfg->login_window - req->now;
        apr_table_setn(req->headers_out, "Retry-After", so_i64str(req->pool, wait > 1 ? wait : 1));
        return so_api_error(req, SO_E_RATE_LIMIT, "Too many failed logins, try again later", "");
    }
    rv = so_store_user_by_name(db, req->pool, name, &user);
    if (rv != APR_SUCCESS && rv != APR_ENOENT) {
        return rv;
    }
    if (rv == APR_ENOENT || user->disabled) {
        /* spend the same time as for a real user */
        so_password_verify(req->pool, password,
                           "scrypt$14$8$1$00000000000000000000000000000000$"
                           "0000000000000000000000000000000000000000000000000000000000000000");
        rv = APR_EMISMATCH;
    }
    else {
        rv = so_password_verify(req->pool, password, user->password_hash);
    }
    if (rv != APR_SUCCESS) {
        apr_status_t rv2 = so_login_failed(req, db, name, key);
        if (rv2 != APR_SUCCESS) {
            return rv2;
        }
        so_log_perror(SO_LOG_MARK, SO_LOG_INFO, APR_SUCCESS,
                      SOLOGNO(00010) "failed login for '%s' from %s", name, req->client_ip);
        return so_api_error(req, SO_E_AUTH, "Authentication failed", "wrong user name or password");
    }
    /* the second factor, when the user has one (so_api_security.c) */
    if ((rv = so_tfa_login(req, db, user->id, name, key)) != APR_SUCCESS) {
        return rv;
    }
    if (failures > 0 && (rv = so_store_login_clear(db, req->pool, key)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_teams_of_user(db, req->pool, user->id, &out->teams)) != APR_SUCCESS) {
        return rv;
    }
    out->user = user;
    out->team = NULL;
    for (i = 0; i < out->teams->nelts; i++) {
        so_team_t *t = APR_ARRAY_IDX(out->teams, i, so_team_t *);
        if (!team || !strcmp(team, t->slug)) {
            out->team = t;
            break;
        }
    }
    if (!out->team) {
        return so_api_error(req, SO_E_AUTH, "Authentication failed",
                            team ? apr_psprintf(req->pool, "you are not a member of team '%s'", team)
                          : "the user is not a member of any team");
    }
    return so_tfa_team_allows(req, db, user->id, out->team->id);
}

apr_status_t so_api_auth_login(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *ip = NULL, *token;
    apr_int64_t expires_at;
    login_t login;
    apr_status_t rv;
    unsigned char dice;

    if (!db) {
        return SO_EDBDOWN;
    }
    if (so_in_str(req, req->json, "ip", 0, 64, &ip, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (ip && *ip && strcmp(ip, "0.0.0.0") && !valid_ip(ip)) {
        return so_api_error(req, SO_E_INVALID, "field 'ip' must be an IPv4 or IPv6 address", ip);
    }
    if ((rv = login_check(req, db, &login)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_token_create(db, req->pool, login.user->id, login.team->id, ip, "login", req->now,
                               req->cfg->token_ttl, &token, &expires_at);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* clients log in before every call: drop expired tokens now and then */
    if (so_random_bytes(&dice, 1) == APR_SUCCESS && dice < 4) {
        so_store_tokens_purge(db, req->pool, req->now);
    }
    return so_api_ok(req, json_pack("{s:s,s:I}", "token", token, "reseller_id",
                                    (json_int_t)login.team->id));
}

static json_t *team_json(so_team_t *t)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)t->id, "slug", t->slug, "name",
                     t->name, "role", so_role_name(t->role), "currency", t->currency);
}

static json_t *teams_json(apr_array_header_t *teams)
{
    json_t *a = json_array();
    int i;
    for (i = 0; i < teams->nelts; i++) {
        json_array_append_new(a, team_json(APR_ARRAY_IDX(teams, i, so_team_t *)));
    }
    return a;
}

static void set_session_cookie(so_req_t *req, const char *value, apr_int64_t max_age)
{
    apr_table_add(req->headers_out, "Set-Cookie",
                  apr_psprintf(req->pool, "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT
                                          "; HttpOnly; SameSite=Strict%s",
                               SO_SESSION_COOKIE, value, max_age, req->secure ? "; Secure" : ""));
    /* a hint the portal can read (no secret in it): without it, a signed-out visit does
     * not ask GET /auth/session (which would answer 401) */
    apr_table_add(req->headers_out, "Set-Cookie",
                  apr_psprintf(req->pool, "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT
                                          "; SameSite=Strict%s",
                               SO_SIGNED_IN_COOKIE, *value ? "1" : "", max_age,
                               req->secure ? "; Secure" : ""));
}

apr_status_t so_api_session_create(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *sid, *csrf;
    login_t login;
    apr_status_t rv;

    if (!db) {
        return SO_EDBDOWN;
    }
    if ((rv = login_check(req, db, &login)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_session_create(db, req->pool, login.user->id, login.team->id, req->now,
                                 req->cfg->session_ttl, &sid, &csrf);
    if (rv == APR_SUCCESS) {
        const char *ua = so_req_header(req, "User-Agent");
        rv = so_store_session_describe(db, req->pool, sid, req->client_ip,
                                       ua ? apr_pstrndup(req->pool, ua, 256) : "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    set_session_cookie(req, sid, req->cfg->session_ttl);
    return so_api_ok(req, json_pack("{s:s,s:s,s:b,s:o,s:o}", "csrf_token", csrf, "username",
                                    login.user->username, "is_staff", login.user->is_staff,
                                    "team", team_json(login.team), "teams",
                                    teams_json(login.teams)));
}

apr_status_t so_api_session_get(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *teams;
    so_team_t *team;
    apr_status_t rv;

    if (req->auth->kind != SO_AUTH_SESSION) {
        return so_api_error(req, SO_E_INVALID, "This endpoint is for portal sessions", "");
    }
    if ((rv = so_store_teams_of_user(db, req->pool, req->auth->user_id, &teams)) != APR_SUCCESS
        || (rv = so_store_team_by_id(db, req->pool, req->auth->team_id, &team)) != APR_SUCCESS) {
        return rv;
    }
    team->role = req->auth->role;
    return so_api_ok(req, json_pack("{s:s,s:s,s:b,s:o,s:o}", "csrf_token", req->auth->csrf_token,
                                    "username", req->auth->username, "is_staff",
                                    req->auth->is_staff, "team", team_json(team), "teams",
                                    teams_json(teams)));
}

apr_status_t so_api_session_team(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *slug = NULL;
    apr_array_header_t *teams;
    apr_status_t rv;
    int i;

    if (req->auth->kind != SO_AUTH_SESSION) {
        return so_api_error(req, SO_E_INVALID, "This endpoint is for portal sessions", "");
    }
    if (so_in_str(req, req->json, "team", 1, 64, &slug, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_teams_of_user(db, req->pool, req->auth->user_id, &teams)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < teams->nelts; i++) {
        so_team_t *t = APR_ARRAY_IDX(teams, i, so_team_t *);
        if (!strcmp(t->slug, slug)) {
            if ((rv = so_store_session_set_team(db, req->pool, req->auth->credential_id, t->id))
                != APR_SUCCESS) {
                return rv;
            }
            return so_api_ok(req, json_pack("{s:o}", "team", team_json(t)));
        }
    }
    return so_api_error(req, SO_E_NOT_FOUND, "Not found", apr_psprintf(req->pool, "no team '%s'", slug));
}

apr_status_t so_api_session_delete(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_status_t rv;

    if (req->auth->kind == SO_AUTH_SESSION) {
        if ((rv = so_store_session_delete(db, req->pool, req->auth->credential_id)) != APR_SUCCESS) {
            return rv;
        }
        set_session_cookie(req, "", 0);
    }
    return so_api_ok(req, NULL);
}

apr_status_t so_api_me(so_req_t *req)
{
    so_principal_t *a = req->auth;
    const char *kind = a->kind == SO_AUTH_SESSION ? "session" : "token";

    return so_api_ok(req, json_pack("{s:I,s:s,s:b,s:s,s:{s:I,s:s,s:s,s:s,s:s,s:s}}", "id",
                                    (json_int_t)a->user_id, "username", a->username, "is_staff",
                                    a->is_staff, "auth", kind, "team", "id", (json_int_t)a->team_id,
                                    "slug", a->team_slug, "name", a->team_name, "role",
                                    so_role_name(a->role), "currency", a->team_currency, "balance",
                                    so_money_fmt(req->pool, a->team_balance)));
}

apr_status_t so_api_teams_list(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *teams, *page;
    apr_int64_t limit, offset;
    apr_status_t rv;
    int i;

    if (so_q_int(req, "limit", 100, 1, 1000, &limit) || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)) {
        return APR_EINVAL;
    }
    if ((rv = so_store_teams_of_user(db, req->pool, req->auth->user_id, &teams)) != APR_SUCCESS) {
        return rv;
    }
    page = apr_array_make(req->pool, 1, sizeof(so_team_t *));
    for (i = (int)offset; i < teams->nelts && i < offset + limit; i++) {
        APR_ARRAY_PUSH(page, so_team_t *) = APR_ARRAY_IDX(teams, i, so_team_t *);
    }
    return so_api_ok_list(req, teams_json(page), teams->nelts);
}
