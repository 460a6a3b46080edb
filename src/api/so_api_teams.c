/* mod_sslorders: teams (POST /teams), the current team's members and API tokens.
 *
 * Roles: viewers read; admins and owners manage members and tokens. Owners may do
 * anything; admins never touch an owner or make one (so_member_change_allowed).
 * The last owner of a team cannot leave it or lose the owner role. A member who
 * leaves or is removed loses their tokens and sessions for the team at once. */
#include <string.h>

#include <apr_strings.h>
#include <arpa/inet.h>

#include "so_api.h"
#include "so_api_org.h"
#include "so_api_security.h"
#include "../core/so_folder.h"
#include "../core/so_scopes.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_team.h"
#include "../store/so_store_security.h"

#define MAX_OWNED_TEAMS 20
#define MAX_TOKEN_HOURS (24 * 3650)

static json_t *team_json(so_req_t *req, const so_team_t *t, so_role_t role)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)t->id, "slug", t->slug,
                     "name", t->name, "currency", t->currency, "balance",
                     so_money_fmt(req->pool, t->balance), "role", so_role_name(role), "created_at",
                     so_json_time(req->pool, t->created_at));
}

/* ------------------------------------------------------------------------- */
/* POST /teams, GET /team                                                      */

#define SLUG_SUFFIX_LEN 6
#define SLUG_SUFFIX_ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"

static apr_status_t team_create(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *slug = NULL, *name = NULL, *currency = "EUR";
    const char *full;
    so_team_t *t;
    apr_int64_t id;
    int owned = 0, attempt;
    apr_status_t rv;

    if (so_in_str(req, req->json, "slug", 1, 63, &slug, NULL)
        || so_in_str(req, req->json, "name", 0, 200, &name, NULL)
        || so_in_str(req, req->json, "currency", 0, 3, &currency, NULL)) {
        return APR_EINVAL;
    }
    if (!so_is_slug(slug)) {
        return so_api_error(req, SO_E_INVALID,
                            "slug is 1 to 63 of a-z 0-9 - (not starting with -)", slug);
    }
    if (name && (!*so_str_trim(req->pool, name) || !so_str_is_printable_utf8(name, strlen(name)))) {
        return so_api_error(req, SO_E_INVALID, "name must be 1 to 200 printable characters", "");
    }
    if (strlen(currency) != 3 || strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
        return so_api_error(req, SO_E_INVALID, "currency is an ISO 4217 code such as EUR", "");
    }
    if ((rv = so_store_teams_owned(db, req->pool, req->auth->user_id, &owned)) != APR_SUCCESS) {
        return rv;
    }
    if (owned >= MAX_OWNED_TEAMS) {
        return so_api_errorf(req, SO_E_TEAM_LIMIT, "You own %d teams: no more can be created",
                             owned);
    }
    /* the slug asked for is a prefix: the server adds a random suffix, the same whether or
     * not a team has that slug already (the answer never tells an outsider which slugs are
     * taken; staff choose exact slugs with `sslordersctl team add`) */
    for (attempt = 0;; attempt++) {
        const char *suffix;
        if ((rv = so_random_chars(&suffix, req->pool, SLUG_SUFFIX_LEN, SLUG_SUFFIX_ALPHABET))
            != APR_SUCCESS) {
            return rv;
        }
        full = apr_pstrcat(req->pool, apr_pstrndup(req->pool, slug, 63 - 1 - SLUG_SUFFIX_LEN),
                           "-", suffix, NULL);
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            return rv;
        }
        /* the team with its five folders, and the caller as its owner */
        rv = so_store_team_create(db, req->pool, full, name ? so_str_trim(req->pool, name) : slug,
                                  currency, req->now, &id);
        if (rv == APR_SUCCESS) {
            rv = so_store_member_set(db, req->pool, id, req->auth->user_id, SO_ROLE_OWNER,
                                     req->now);
        }
        if ((rv = so_db_end(db, rv)) != SO_EDBUNIQUE || attempt == 3) {
            break; /* (a suffix drawn twice: 1 in 36^6 per team of the prefix) */
        }
    }
    if (rv != APR_SUCCESS || (rv = so_store_team_by_id(db, req->pool, id, &t)) != APR_SUCCESS) {
        return rv;
    }
    slug = full;
    so_log_info(SO_LOG_MARK, "%s created team %s", req->auth->username, slug);
    return so_api_ok(req, team_json(req, t, SO_ROLE_OWNER));
}

static apr_status_t team_get(so_req_t *req)
{
    so_team_t *t;
    apr_status_t rv = so_store_team_by_id(so_req_db(req), req->pool, req->auth->team_id, &t);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, team_json(req, t, req->auth->role));
}

/* ------------------------------------------------------------------------- */
/* members                                                                     */

static apr_status_t members_list(so_req_t *req)
{
    apr_array_header_t *members;
    apr_int64_t total;
    json_t *results;
    int limit, offset, i;
    apr_status_t rv;

    if (so_api_paging(req, 100, 1000, &limit, &offset) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = so_store_members(so_req_db(req), req->pool, req->auth->team_id, limit, offset, &members,
                          &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < members->nelts; i++) {
        so_member_t *m = &APR_ARRAY_IDX(members, i, so_member_t);
        json_array_append_new(results, json_pack("{s:I,s:s,s:s,s:o}", "user_id", (json_int_t)m->user_id,
                                                 "username", m->username, "role",
                                                 so_role_name(m->role), "joined_at",
                                                 so_json_time(req->pool, m->joined_at)));
    }
    return so_api_ok_list(req, results, total);
}

static apr_status_t read_role(so_req_t *req, so_role_t *role)
{
    const char *r = NULL;
    if (so_in_str(req, req->json, "role", 1, 16, &r, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    *role = so_role_parse(r);
    if (*role == SO_ROLE_NONE) {
        return so_api_error(req, SO_E_INVALID, "role is owner, admin, member or viewer", r);
    }
    return APR_SUCCESS;
}

static apr_status_t not_allowed(so_req_t *req, so_role_t from, so_role_t to)
{
    return so_api_errorf(req, SO_E_FORBIDDEN, "As %s you cannot %s %s", so_role_name(req->auth->role),
                         to == SO_ROLE_NONE ? "remove" : from == SO_ROLE_NONE ? "add" : "change",
                         to == SO_ROLE_OWNER || from == SO_ROLE_OWNER ? "an owner" : "this member");
}

/* Inside a transaction with the memberships locked: change user's role from
 * `from` to `to` (SO_ROLE_NONE = remove), keeping an owner. */
static apr_status_t change_member(so_req_t *req, apr_int64_t user_id, int self)
{
    so_db_t *db = so_req_db(req);
    so_role_t from = SO_ROLE_NONE, to = SO_ROLE_NONE;
    int owners = 0, removing = !strcmp(req->method, "DELETE") || self;
    apr_status_t rv;

    if (!removing && read_role(req, &to) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_members_lock(db, req->pool, req->auth->team_id);
    if (rv == APR_SUCCESS) {
        rv = so_store_member_role(db, req->pool, req->auth->team_id, user_id, &from);
    }
    if (rv == APR_SUCCESS && from == SO_ROLE_NONE) {
        so_db_rollback(db);
        return so_api_errorf(req, SO_E_NOT_FOUND, "No member %" APR_INT64_T_FMT, user_id);
    }
    if (rv == APR_SUCCESS && !self && !so_member_change_allowed(req->auth->role, from, to)) {
        so_db_rollback(db);
        return not_allowed(req, from, to);
    }
    if (rv == APR_SUCCESS && from == SO_ROLE_OWNER && to != SO_ROLE_OWNER) {
        rv = so_store_member_owners(db, req->pool, req->auth->team_id, &owners);
        if (rv == APR_SUCCESS && owners <= 1) {
            so_db_rollback(db);
            return so_api_error(req, SO_E_LAST_OWNER,
                                removing ? "The last owner cannot leave the team: make another "
                                           "member owner first"
                                         : "The last owner cannot give up the owner role: make "
                                           "another member owner first",
                                "");
        }
    }
    if (rv == APR_SUCCESS) {
        if (removing) {
            rv = so_store_member_remove(db, req->pool, req->auth->team_id, user_id);
            if (rv == APR_SUCCESS) {
                rv = so_store_member_credentials_end(db, req->pool, req->auth->team_id, user_id,
                                                     req->now);
            }
        }
        else if (to != from) {
            rv = so_store_member_set(db, req->pool, req->auth->team_id, user_id, to, req->now);
        }
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s}", "user_id", (json_int_t)user_id, "role",
                                    removing ? "" : so_role_name(to)));
}

/* POST /team/members: an invitation (so_api_security.c); the invitee accepts or declines.
 * The same answer whether or not a user of that name exists. */
static apr_status_t member_add(so_req_t *req)
{
    const char *username = NULL;
    so_role_t role;

    if (so_in_str(req, req->json, "username", 1, 64, &username, NULL) != APR_SUCCESS
        || read_role(req, &role) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!so_member_change_allowed(req->auth->role, SO_ROLE_NONE, role)) {
        return not_allowed(req, SO_ROLE_NONE, role);
    }
    return so_api_member_invite(req, username, role);
}

static apr_status_t member_change(so_req_t *req)
{
    apr_int64_t user_id;
    if (so_req_param_id(req, "user_id", &user_id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    return change_member(req, user_id, 0);
}

static apr_status_t team_leave(so_req_t *req)
{
    return change_member(req, req->auth->user_id, 1);
}

/* ------------------------------------------------------------------------- */
/* API tokens                                                                  */

static apr_status_t tokens_list(so_req_t *req)
{
    apr_array_header_t *tokens;
    apr_int64_t total;
    json_t *results;
    int limit, offset, all, i;
    apr_status_t rv;

    if (so_api_paging(req, 100, 1000, &limit, &offset) || so_q_bool(req, "all", 0, &all)) {
        return APR_EINVAL;
    }
    rv = so_store_team_tokens(so_req_db(req), req->pool, req->auth->team_id, all, req->now, limit,
                              offset, &tokens, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < tokens->nelts; i++) {
        so_token_info_t *t = &APR_ARRAY_IDX(tokens, i, so_token_info_t);
        const char *state = t->revoked_at ? "revoked" : t->expires_at <= req->now ? "expired" : "active";
        json_array_append_new(
            results,
            json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:b}", "id", (json_int_t)t->id,
                      "user_id", (json_int_t)t->user_id, "username", t->username, "name", t->name,
                      "ip", t->ip, "created_at", so_json_time(req->pool, t->created_at),
                      "expires_at", so_json_time(req->pool, t->expires_at), "last_used_at",
                      so_json_time(req->pool, t->last_used_at), "revoked_at",
                      so_json_time(req->pool, t->revoked_at), "state", state, "current",
                      req->auth->kind == SO_AUTH_TOKEN && req->auth->credential_id == t->id));
        json_object_set_new(json_array_get(results, json_array_size(results) - 1), "scopes",
                            so_json_str(t->scopes));
        json_object_set_new(json_array_get(results, json_array_size(results) - 1), "networks",
                            so_json_str(t->networks));
    }
    return so_api_ok_list(req, results, total);
}

static int valid_ip(const char *ip)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}

static apr_status_t token_create(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *name = NULL, *ip = NULL, *token, *scopes = "", *networks = "";
    apr_int64_t hours = 48, id;
    apr_status_t rv;

    if (so_in_str(req, req->json, "name", 1, 100, &name, NULL)
        || so_in_int(req, req->json, "ttl_hours", 0, 1, MAX_TOKEN_HOURS, &hours, NULL)
        || so_in_str(req, req->json, "ip", 0, 64, &ip, NULL)) {
        return APR_EINVAL;
    }
    if (!*so_str_trim(req->pool, name) || !so_str_is_printable_utf8(name, strlen(name))) {
        return so_api_error(req, SO_E_INVALID, "name must be 1 to 100 printable characters", "");
    }
    if (ip && *ip && strcmp(ip, "0.0.0.0") && !valid_ip(ip)) {
        return so_api_error(req, SO_E_INVALID, "field 'ip' must be an IPv4 or IPv6 address", ip);
    }
    hours *= 3600; /* seconds from here on */
    /* scopes, allowed networks, an expiry (so_api_security.c) */
    if (so_api_token_limits(req, &scopes, &networks, &hours) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_team_token_create(db, req->pool, req->auth->team_id, req->auth->user_id,
                                    so_str_trim(req->pool, name), ip, req->now, hours, &id,
                                    &token);
    if (rv == APR_SUCCESS && (*scopes || *networks)) {
        rv = so_store_token_restrict(db, req->pool, id, scopes, networks);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:o,s:s,s:s}", "id", (json_int_t)id, "token",
                                    token, "name", so_str_trim(req->pool, name), "expires_at",
                                    so_json_time(req->pool, req->now + hours), "scopes",
                                    *scopes ? scopes
                                            : so_scopes_text(req->pool,
                                                             so_scopes_of_role(req->auth->role)),
                                    "networks", networks));
}

static apr_status_t token_revoke(so_req_t *req)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (req->auth->role < SO_ROLE_OWNER) {
        /* admins never touch an owner, nor an owner's tokens */
        apr_int64_t holder = 0;
        so_role_t holder_role = SO_ROLE_NONE;
        rv = so_store_team_token_user(so_req_db(req), req->pool, req->auth->team_id, id, &holder);
        if (rv == APR_SUCCESS) {
            rv = so_store_member_role(so_req_db(req), req->pool, req->auth->team_id, holder,
                                      &holder_role);
        }
        if (rv == APR_SUCCESS && holder_role == SO_ROLE_OWNER && holder != req->auth->user_id) {
            return so_api_errorf(req, SO_E_FORBIDDEN, "As %s you cannot revoke an owner's token",
                                 so_role_name(req->auth->role));
        }
        if (rv != APR_SUCCESS && rv != APR_ENOENT) {
            return rv;
        }
    }
    rv = so_store_team_token_revoke(so_req_db(req), req->pool, req->auth->team_id, id, req->now);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No active token %" APR_INT64_T_FMT, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

const so_route_t so_routes_teams[] = {
    {"POST", "/teams", team_create, SO_ROLE_VIEWER, 0},
    {"GET", "/team", team_get, SO_ROLE_VIEWER, 0},
    {"GET", "/team/members", members_list, SO_ROLE_VIEWER, 0},
    {"POST", "/team/members", member_add, SO_ROLE_ADMIN, 0},
    {"PUT", "/team/members/{user_id}", member_change, SO_ROLE_ADMIN, 0},
    {"DELETE", "/team/members/{user_id}", member_change, SO_ROLE_ADMIN, 0},
    {"POST", "/team/leave", team_leave, SO_ROLE_VIEWER, 0},
    {"GET", "/team/tokens", tokens_list, SO_ROLE_ADMIN, 0},
    {"POST", "/team/tokens", token_create, SO_ROLE_ADMIN, 0},
    {"DELETE", "/team/tokens/{id}", token_revoke, SO_ROLE_ADMIN, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
