/* mod_sslorders: account security (issue 14).
 *
 *   POST   /team/members               (so_api_teams.c) invites; nobody joins without consent
 *   GET    /invitations                the caller's pending invitations
 *   POST   /invitations/{id}/accept    join the team with the invitation's role
 *   POST   /invitations/{id}/decline
 *   GET    /team/invitations           (admin) the team's pending invitations
 *   DELETE /team/invitations/{id}      (admin) withdraw one
 *   GET    /auth/sessions              the user's portal sessions
 *   DELETE /auth/sessions/{id}         end one
 *   DELETE /auth/sessions              end every other one
 *   PUT    /me/password                change the password: ends every other session and,
 *                                      with end_tokens, the user's API tokens
 * and the limits of scoped API tokens; the audit log (GET /audit) is in so_api_audit.c,
 * two-factor sign-in (/me/2fa, PUT /team) in so_api_tfa.c; this file has the route table
 * of all three.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_api.h"
#include "so_auth.h"
#include "so_api_security.h"
#include "so_api_security_int.h"
#include "../core/so_crypto.h"
#include "../core/so_log.h"
#include "../core/so_scopes.h"
#include "../core/so_util.h"
#include "../store/so_store_security.h"
#include "../store/so_store_team.h"

#define MIN_PASSWORD 10

static json_t *invitation_json(so_req_t *req, const so_invitation_t *v)
{
    return json_pack("{s:I,s:{s:I,s:s,s:s},s:s,s:s,s:s,s:s,s:o,s:o}", "id", (json_int_t)v->id,
                     "team", "id", (json_int_t)v->team_id, "slug", v->team_slug, "name",
                     v->team_name, "username", v->username, "role", so_role_name(v->role),
                     "invited_by", v->invited_by, "state", "pending", "created_at",
                     so_json_time(req->pool, v->created_at), "expires_at",
                     so_json_time(req->pool, v->expires_at));
}

static apr_status_t invitations_answer(so_req_t *req, apr_int64_t team_id, const char *username)
{
    apr_array_header_t *list;
    json_t *results;
    int i;
    apr_status_t rv =
        so_store_invitations(so_req_db(req), req->pool, team_id, username, req->now, &list);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        json_array_append_new(results,
                              invitation_json(req, &APR_ARRAY_IDX(list, i, so_invitation_t)));
    }
    return so_api_ok_list(req, results, list->nelts);
}

apr_status_t so_api_member_invite(so_req_t *req, const char *username, so_role_t role)
{
    so_db_t *db = so_req_db(req);
    const char *name = so_str_lower(req->pool, username);
    so_role_t existing = SO_ROLE_NONE;
    so_user_t *u = NULL;
    apr_int64_t id = 0;
    apr_status_t rv;

    if (!so_is_username(name)) {
        return so_api_error(req, SO_E_INVALID, "a user name is 1 to 64 of A-Z a-z 0-9 . _ @ -",
                            "");
    }
    /* a member of this team is no secret to its admins; whether a user exists elsewhere is */
    rv = so_store_user_by_name(db, req->pool, name, &u);
    if (rv == APR_SUCCESS) {
        rv = so_store_member_role(db, req->pool, req->auth->team_id, u->id, &existing);
    }
    else if (rv == APR_ENOENT) {
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (existing != SO_ROLE_NONE) {
        return so_api_errorf(req, SO_E_MEMBER_EXISTS, "%s is %s of this team already", name,
                             so_role_name(existing));
    }
    rv = so_store_invitation_create(db, req->pool, req->auth->team_id, name, role,
                                    req->auth->user_id, req->now, &id);
    if (rv == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_MEMBER_EXISTS, "%s is invited already", name);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00650) "%s invited '%s' to team %s as %s",
                req->auth->username, name, req->auth->team_slug, so_role_name(role));
    return so_api_ok(req, json_pack("{s:I,s:s,s:s,s:s,s:o}", "id", (json_int_t)id, "username",
                                    name, "role", so_role_name(role), "state", "pending",
                                    "expires_at",
                                    so_json_time(req->pool, req->now + SO_INVITATION_TTL)));
}

static apr_status_t my_invitations(so_req_t *req)
{
    return invitations_answer(req, 0, req->auth->username);
}

static apr_status_t team_invitations(so_req_t *req)
{
    return invitations_answer(req, req->auth->team_id, NULL);
}

static apr_status_t decide(so_req_t *req, int accept)
{
    apr_int64_t id, team_id = 0;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_invitation_decide(so_req_db(req), req->pool, id, req->auth->user_id,
                                    req->auth->username, accept, req->now, &team_id);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No pending invitation %" APR_INT64_T_FMT, id);
    }
    if (rv == SO_EDBUNIQUE) {
        return so_api_error(req, SO_E_MEMBER_EXISTS, "You are a member of this team already", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00651) "%s %s invitation %" APR_INT64_T_FMT,
                req->auth->username, accept ? "accepted" : "declined", id);
    return so_api_ok(req, json_pack("{s:I,s:s,s:I}", "id", (json_int_t)id, "state",
                                    accept ? "accepted" : "declined", "team_id",
                                    (json_int_t)team_id));
}

static apr_status_t invitation_accept(so_req_t *req)
{
    return decide(req, 1);
}

static apr_status_t invitation_decline(so_req_t *req)
{
    return decide(req, 0);
}

static apr_status_t invitation_withdraw(so_req_t *req)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_invitation_withdraw(so_req_db(req), req->pool, req->auth->team_id, id, req->now);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No pending invitation %" APR_INT64_T_FMT, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

/* ------------------------------------------------------------------------- */
/* sessions                                                                    */

static apr_int64_t current_session(so_req_t *req)
{
    return req->auth->kind == SO_AUTH_SESSION ? req->auth->credential_id : 0;
}

static apr_status_t sessions_list(so_req_t *req)
{
    apr_array_header_t *list;
    json_t *results;
    int i;
    apr_status_t rv =
        so_store_user_sessions(so_req_db(req), req->pool, req->auth->user_id, req->now, &list);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    results = json_array();
    for (i = 0; i < list->nelts; i++) {
        so_session_info_t *s = &APR_ARRAY_IDX(list, i, so_session_info_t);
        json_array_append_new(
            results,
            json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:b}", "id", (json_int_t)s->id, "team",
                      s->team_slug, "ip", so_json_str(s->ip), "user_agent",
                      so_json_str(s->user_agent), "created_at",
                      so_json_time(req->pool, s->created_at), "last_used_at",
                      so_json_time(req->pool, s->last_used_at), "expires_at",
                      so_json_time(req->pool, s->expires_at), "current",
                      s->id == current_session(req)));
    }
    return so_api_ok_list(req, results, list->nelts);
}

static apr_status_t session_end(so_req_t *req)
{
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_user_session_end(so_req_db(req), req->pool, req->auth->user_id, id);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No session %" APR_INT64_T_FMT, id);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

static apr_status_t sessions_end_others(so_req_t *req)
{
    apr_status_t rv = so_store_user_credentials_end(so_req_db(req), req->pool, req->auth->user_id,
                                                    current_session(req), 0, req->now);
    return rv != APR_SUCCESS ? rv : so_api_ok(req, NULL);
}

/* PUT /me/password {old_password, new_password, end_tokens} */
static apr_status_t password_change(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *old_pw = NULL, *new_pw = NULL, *hash, *key;
    int end_tokens = 0, failures = 0;
    apr_int64_t first_at = 0;
    so_user_t *u;
    apr_status_t rv;

    if (so_in_str(req, req->json, "old_password", 1, 1024, &old_pw, NULL)
        || so_in_str(req, req->json, "new_password", 1, 1024, &new_pw, NULL)
        || so_in_bool(req, req->json, "end_tokens", 0, &end_tokens, NULL)) {
        return APR_EINVAL;
    }
    if (strlen(new_pw) < MIN_PASSWORD) {
        return so_api_errorf(req, SO_E_INVALID, "new_password must have at least %d characters",
                             MIN_PASSWORD);
    }
    /* guessing the old password is guessing a login: the same limits */
    key = apr_pstrcat(req->pool, req->auth->username, "|", req->client_ip, NULL);
    if ((rv = so_login_limited(req, db, req->auth->username, key, &failures, &first_at))
        != APR_SUCCESS) {
        return rv;
    }
    if (failures < 0) {
        apr_int64_t wait = first_at + req->cfg->login_window - req->now;
        apr_table_setn(req->headers_out, "Retry-After", so_i64str(req->pool, wait > 1 ? wait : 1));
        return so_api_error(req, SO_E_RATE_LIMIT, "Too many failed attempts, try again later", "");
    }
    if ((rv = so_store_user_by_id(db, req->pool, req->auth->user_id, &u)) != APR_SUCCESS) {
        return rv;
    }
    if (so_password_verify(req->pool, old_pw, u->password_hash) != APR_SUCCESS) {
        if ((rv = so_login_failed(req, db, req->auth->username, key)) != APR_SUCCESS) {
            return rv;
        }
        return so_api_error(req, SO_E_PASSWORD, "The old password is wrong", "");
    }
    if ((rv = so_password_hash(&hash, req->pool, new_pw)) != APR_SUCCESS
        || (rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_user_set_password(db, req->pool, u->id, hash);
    if (rv == APR_SUCCESS) {
        rv = so_store_user_credentials_end(db, req->pool, u->id, current_session(req), end_tokens,
                                           req->now);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00652) "%s changed the password from %s%s", u->username,
                req->client_ip, end_tokens ? " and ended every API token" : "");
    return so_api_ok(req, json_pack("{s:b}", "tokens_ended", end_tokens));
}

/* ------------------------------------------------------------------------- */
/* scoped tokens                                                               */

#define MAX_TOKEN_SECS ((apr_int64_t)24 * 3650 * 3600)

static apr_status_t string_list(so_req_t *req, const char *key, apr_size_t max, const char **out)
{
    json_t *arr = NULL, *v;
    size_t i;
    const char *text = "";

    if (so_in_array(req, req->json, key, 0, max, &arr, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64
            || strpbrk(json_string_value(v), " ,\t")
            || strlen(json_string_value(v)) != json_string_length(v)) {
            return so_api_errorf(req, SO_E_INVALID, "field '%s' must be a list of strings", key);
        }
        text = *text ? apr_pstrcat(req->pool, text, " ", json_string_value(v), NULL)
                     : apr_pstrdup(req->pool, json_string_value(v));
    }
    *out = text;
    return APR_SUCCESS;
}

apr_status_t so_api_token_limits(so_req_t *req, const char **scopes, const char **networks,
                                 apr_int64_t *ttl)
{
    const char *text = "", *why = NULL, *until = NULL;
    unsigned mask = 0, allowed = so_scopes_of_role(req->auth->role);
    apr_int64_t at;
    json_t *e;

    *scopes = *networks = "";
    if (string_list(req, "scopes", 16, &text) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (so_scopes_parse(text, &mask, &why, req->pool) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, why, "");
    }
    if (json_object_get(req->json, "scopes") && !mask) {
        return so_api_error(req, SO_E_INVALID, "field 'scopes' needs at least one scope", "");
    }
    if (mask & ~allowed) {
        return so_api_errorf(req, SO_E_FORBIDDEN, "As %s you cannot give the scope %s",
                             so_role_name(req->auth->role),
                             so_scopes_text(req->pool, mask & ~allowed));
    }
    *scopes = so_scopes_text(req->pool, mask);
    if (string_list(req, "networks", SO_SCOPES_MAX_NETWORKS, &text) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (so_networks_parse(text, networks, &why, req->pool) != APR_SUCCESS) {
        return so_api_errorf(req, SO_E_INVALID, "field 'networks': %s", why);
    }
    e = json_object_get(req->json, "expires_at");
    if (e && !json_is_null(e)) {
        if (json_object_get(req->json, "ttl_hours")) {
            return so_api_error(req, SO_E_INVALID, "give expires_at or ttl_hours, not both", "");
        }
        if (so_in_str(req, req->json, "expires_at", 0, 32, &until, NULL) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (so_time_parse(until, &at) != APR_SUCCESS || at <= req->now
            || at - req->now > MAX_TOKEN_SECS) {
            return so_api_error(req, SO_E_INVALID,
                                "field 'expires_at' must be a time (YYYY-MM-DD HH:MM:SS, UTC) in "
                                "the next ten years",
                                until);
        }
        *ttl = at - req->now;
    }
    return APR_SUCCESS;
}

const so_route_t so_routes_security[] = {
    {"GET", "/invitations", my_invitations, SO_ROLE_VIEWER, 0},
    {"POST", "/invitations/{id}/accept", invitation_accept, SO_ROLE_VIEWER, 0},
    {"POST", "/invitations/{id}/decline", invitation_decline, SO_ROLE_VIEWER, 0},
    {"GET", "/team/invitations", team_invitations, SO_ROLE_ADMIN, 0},
    {"DELETE", "/team/invitations/{id}", invitation_withdraw, SO_ROLE_ADMIN, 0},
    {"GET", "/auth/sessions", sessions_list, SO_ROLE_VIEWER, 0},
    {"DELETE", "/auth/sessions/{id}", session_end, SO_ROLE_VIEWER, 0},
    {"DELETE", "/auth/sessions", sessions_end_others, SO_ROLE_VIEWER, 0},
    {"PUT", "/me/password", password_change, SO_ROLE_VIEWER, 0},
    {"GET", "/audit", so_api_audit_list, SO_ROLE_ADMIN, 0},
    {"GET", "/me/2fa", so_api_tfa_get, SO_ROLE_VIEWER, 0},
    {"POST", "/me/2fa", so_api_tfa_enrol, SO_ROLE_VIEWER, 0},
    {"POST", "/me/2fa/confirm", so_api_tfa_confirm, SO_ROLE_VIEWER, 0},
    {"DELETE", "/me/2fa", so_api_tfa_disable, SO_ROLE_VIEWER, 0},
    {"PUT", "/team", so_api_team_settings, SO_ROLE_ADMIN, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
