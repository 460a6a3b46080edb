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
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_api.h"
#include "so_auth.h"
#include "so_api_security.h"
#include "../core/so_crypto.h"
#include "../core/so_log.h"
#include "../core/so_scopes.h"
#include "../core/so_qr.h"
#include "../core/so_totp.h"
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
                            ""),
               APR_EINVAL;
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
                             so_role_name(existing)),
               APR_EINVAL;
    }
    rv = so_store_invitation_create(db, req->pool, req->auth->team_id, name, role,
                                    req->auth->user_id, req->now, &id);
    if (rv == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_MEMBER_EXISTS, "%s is invited already", name), APR_EINVAL;
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
        return so_api_errorf(req, SO_E_NOT_FOUND, "No pending invitation %" APR_INT64_T_FMT, id),
               APR_ENOENT;
    }
    if (rv == SO_EDBUNIQUE) {
        return so_api_error(req, SO_E_MEMBER_EXISTS, "You are a member of this team already", ""),
               APR_EINVAL;
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
        return so_api_errorf(req, SO_E_NOT_FOUND, "No pending invitation %" APR_INT64_T_FMT, id),
               APR_ENOENT;
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
        return so_api_errorf(req, SO_E_NOT_FOUND, "No session %" APR_INT64_T_FMT, id), APR_ENOENT;
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
                             MIN_PASSWORD),
               APR_EINVAL;
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
        return so_api_error(req, SO_E_RATE_LIMIT, "Too many failed attempts, try again later", ""),
               APR_EACCES;
    }
    if ((rv = so_store_user_by_id(db, req->pool, req->auth->user_id, &u)) != APR_SUCCESS) {
        return rv;
    }
    if (so_password_verify(req->pool, old_pw, u->password_hash) != APR_SUCCESS) {
        if ((rv = so_login_failed(req, db, req->auth->username, key)) != APR_SUCCESS) {
            return rv;
        }
        return so_api_error(req, SO_E_PASSWORD, "The old password is wrong", ""), APR_EACCES;
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
            return so_api_errorf(req, SO_E_INVALID, "field '%s' must be a list of strings", key),
                   APR_EINVAL;
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
        return so_api_error(req, SO_E_INVALID, why, ""), APR_EINVAL;
    }
    if (json_object_get(req->json, "scopes") && !mask) {
        return so_api_error(req, SO_E_INVALID, "field 'scopes' needs at least one scope", ""),
               APR_EINVAL;
    }
    if (mask & ~allowed) {
        return so_api_errorf(req, SO_E_FORBIDDEN, "As %s you cannot give the scope %s",
                             so_role_name(req->auth->role),
                             so_scopes_text(req->pool, mask & ~allowed)),
               APR_EINVAL;
    }
    *scopes = so_scopes_text(req->pool, mask);
    if (string_list(req, "networks", SO_SCOPES_MAX_NETWORKS, &text) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (so_networks_parse(text, networks, &why, req->pool) != APR_SUCCESS) {
        return so_api_errorf(req, SO_E_INVALID, "field 'networks': %s", why), APR_EINVAL;
    }
    e = json_object_get(req->json, "expires_at");
    if (e && !json_is_null(e)) {
        if (json_object_get(req->json, "ttl_hours")) {
            return so_api_error(req, SO_E_INVALID, "give expires_at or ttl_hours, not both", ""),
                   APR_EINVAL;
        }
        if (so_in_str(req, req->json, "expires_at", 0, 32, &until, NULL) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        if (so_time_parse(until, &at) != APR_SUCCESS || at <= req->now
            || at - req->now > MAX_TOKEN_SECS) {
            return so_api_error(req, SO_E_INVALID,
                                "field 'expires_at' must be a time (YYYY-MM-DD HH:MM:SS, UTC) in "
                                "the next ten years",
                                until),
                   APR_EINVAL;
        }
        *ttl = at - req->now;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* the audit log                                                               */

static const char *actor_kind(const so_principal_t *a)
{
    switch (a->kind) {
    case SO_AUTH_TOKEN: return "token";
    case SO_AUTH_SESSION: return "session";
    case SO_AUTH_OTP: return "order_token";
    }
    return "other";
}

static int audited(const so_req_t *req)
{
    return req->route && req->auth && strcmp(req->method, "GET") && strcmp(req->method, "HEAD");
}

static void audit_fill(so_req_t *req, so_audit_entry_t *e, int status, int code)
{
    memset(e, 0, sizeof(*e));
    e->team_id = req->auth->team_id;
    e->at = req->now;
    /* the provider's staff acting through a staff route */
    e->actor_kind = (req->route->flags & SO_RF_STAFF) ? "staff" : actor_kind(req->auth);
    e->actor_id = req->auth->user_id;
    e->actor = req->auth->username ? req->auth->username : "";
    e->credential_id = req->auth->credential_id;
    e->ip = req->client_ip;
    e->method = req->method;
    e->route = req->route->pattern;
    e->path = apr_pstrndup(req->pool, req->path, 512);
    e->status = status;
    e->code = code;
}

/* the commit hook: the row goes into the transaction of the request's (first) change; its
 * result is the answer's, written by so_api_audit (until then: 200, the change committed) */
static apr_status_t audit_hook(so_db_t *db, void *baton, int phase)
{
    so_req_t *req = baton;
    so_audit_entry_t e;

    if (phase == SO_DB_HOOK_COMMITTED) {
        if (req->audit_pending) {
            req->audit_id = req->audit_pending;
        }
        req->audit_pending = 0;
        return APR_SUCCESS;
    }
    if (phase == SO_DB_HOOK_FAILED) {
        req->audit_pending = 0;
        return APR_SUCCESS;
    }
    if (req->audit_id) {
        return APR_SUCCESS; /* an earlier transaction of this request has the row */
    }
    audit_fill(req, &e, 200, 0);
    return so_store_audit_insert(db, req->pool, &e, &req->audit_pending);
}

void so_api_audit_begin(so_req_t *req)
{
    if (audited(req) && req->db && !req->db->trans) {
        so_db_set_commit_hook(req->db, audit_hook, req);
    }
}

void so_api_audit_end(so_req_t *req)
{
    if (req->db && req->db->commit_hook == audit_hook) {
        so_db_set_commit_hook(req->db, NULL, NULL);
    }
}

void so_api_audit(so_req_t *req)
{
    so_audit_entry_t e;
    so_db_t *db;
    apr_status_t rv;

    if (!audited(req) || !(db = req->db) || db->trans || db->broken) {
        return;
    }
    if (req->audit_id) {
        /* the row committed with the change: now with the answer's status */
        if ((req->status != 200 || req->err_code)
            && (rv = so_store_audit_result(db, req->pool, req->audit_id, req->status,
                                           req->err_code)) != APR_SUCCESS) {
            so_log_perror(SO_LOG_MARK, SO_LOG_WARNING, rv,
                          SOLOGNO(00870) "audit log: the result of %s %s (row %" APR_INT64_T_FMT
                          ") not recorded: %s", req->method, req->path, req->audit_id,
                          db->errmsg ? db->errmsg : so_db_strerror(rv));
        }
        return;
    }
    if (req->status == 503) {
        return; /* (a database that is down records nothing: nothing was changed either) */
    }
    /* nothing was committed: the attempt and its answer */
    audit_fill(req, &e, req->status, req->err_code);
    if ((rv = so_store_audit_add(db, req->pool, &e)) != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
        so_log_perror(SO_LOG_MARK, SO_LOG_WARNING, rv,
                      SOLOGNO(00654) "audit log: %s %s by %s not recorded: %s", req->method,
                      req->path, e.actor, db->errmsg ? db->errmsg : so_db_strerror(rv));
    }
    else if (rv == APR_SUCCESS) {
        db->committed = 1;
    }
}

apr_status_t so_api_audit_prune(so_req_t *req, int *pruned)
{
    *pruned = 0;
    if (req->cfg->audit_retention_days <= 0 || !so_req_db(req)) {
        return APR_SUCCESS;
    }
    return so_store_audit_prune(so_req_db(req), req->pool,
                                req->now - req->cfg->audit_retention_days * 86400, pruned);
}

static const char *csv_field(apr_pool_t *p, const char *v)
{
    const char *c;
    char *out, *o;
    /* formulas are not run by spreadsheets: a leading =, +, -, @ gets a quote */
    int guard = v && (*v == '=' || *v == '+' || *v == '-' || *v == '@');
    if (!v) {
        return "";
    }
    if (!strpbrk(v, ",\"\r\n") && !guard) {
        return v;
    }
    out = o = apr_palloc(p, strlen(v) * 2 + 4);
    *o++ = '"';
    if (guard) {
        *o++ = '\'';
    }
    for (c = v; *c; c++) {
        if (*c == '"') {
            *o++ = '"';
        }
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* GET /audit?actor=&method=&since=&until=&result=success|failure&limit=&offset=&format=csv */
static apr_status_t audit_list(so_req_t *req)
{
    so_audit_filter_t f;
    const char *since = so_req_query(req, "since"), *until = so_req_query(req, "until");
    const char *result = so_req_query(req, "result"), *format = so_req_query(req, "format");
    apr_array_header_t *rows;
    apr_int64_t total, limit, offset;
    apr_status_t rv;
    int i, csv = format && !strcmp(format, "csv");

    memset(&f, 0, sizeof(f));
    f.actor = so_req_query(req, "actor");
    f.method = so_req_query(req, "method");
    f.until = (apr_int64_t)1 << 62;
    if (format && !csv && strcmp(format, "json")) {
        return so_api_error(req, SO_E_INVALID, "query parameter 'format' is json or csv", ""),
               APR_EINVAL;
    }
    if ((f.actor && strlen(f.actor) > 64) || (f.method && strlen(f.method) > 8)) {
        return so_api_error(req, SO_E_INVALID, "query parameter 'actor' or 'method' too long", ""),
               APR_EINVAL;
    }
    if ((since && *since && so_time_parse(since, &f.since) != APR_SUCCESS)
        || (until && *until && so_time_parse(until, &f.until) != APR_SUCCESS)) {
        return so_api_error(req, SO_E_INVALID,
                            "query parameters 'since' and 'until' are times (YYYY-MM-DD HH:MM:SS)",
                            ""),
               APR_EINVAL;
    }
    if (result && *result) {
        f.result = !strcmp(result, "success") ? 1 : !strcmp(result, "failure") ? 2 : -1;
        if (f.result < 0) {
            return so_api_error(req, SO_E_INVALID, "query parameter 'result' is success or failure",
                                ""),
                   APR_EINVAL;
        }
    }
    if (so_q_int(req, "limit", csv ? 10000 : 100, 1, csv ? 100000 : 1000, &limit)
        || so_q_int(req, "offset", 0, 0, 1 << 30, &offset)) {
        return APR_EINVAL;
    }
    rv = so_store_audit_list(so_req_db(req), req->pool, req->auth->team_id, &f, (int)limit,
                             (int)offset, &rows, &total);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (csv) {
        apr_array_header_t *lines = apr_array_make(req->pool, rows->nelts + 1, sizeof(char *));
        const char *body;
        APR_ARRAY_PUSH(lines, const char *) =
            "id,at,actor_kind,actor,ip,method,route,path,status,code\r\n";
        for (i = 0; i < rows->nelts; i++) {
            so_audit_entry_t *e = &APR_ARRAY_IDX(rows, i, so_audit_entry_t);
            APR_ARRAY_PUSH(lines, const char *) = apr_psprintf(
                req->pool, "%" APR_INT64_T_FMT ",%s,%s,%s,%s,%s,%s,%s,%d,%d\r\n", e->id,
                so_time_fmt(req->pool, e->at), e->actor_kind, csv_field(req->pool, e->actor),
                csv_field(req->pool, e->ip), e->method, csv_field(req->pool, e->route),
                csv_field(req->pool, e->path), e->status, e->code);
        }
        body = apr_array_pstrcat(req->pool, lines, 0);
        apr_table_setn(req->headers_out, "Content-Disposition",
                       "attachment; filename=\"audit.csv\"");
        return so_api_ok_bytes(req, body, strlen(body), "text/csv; charset=utf-8");
    }
    {
        json_t *results = json_array();
        for (i = 0; i < rows->nelts; i++) {
            so_audit_entry_t *e = &APR_ARRAY_IDX(rows, i, so_audit_entry_t);
            json_array_append_new(
                results,
                json_pack("{s:I,s:o,s:s,s:I,s:o,s:o,s:s,s:s,s:o,s:i,s:i}", "id", (json_int_t)e->id,
                          "at", so_json_time(req->pool, e->at), "actor_kind", e->actor_kind,
                          "actor_id", (json_int_t)e->actor_id, "actor", so_json_str(e->actor),
                          "ip", so_json_str(e->ip), "method", e->method, "route", e->route,
                          "path", so_json_str(e->path), "status", e->status, "code", e->code));
        }
        return so_api_ok_list(req, results, total);
    }
}

/* ------------------------------------------------------------------------- */
/* two-factor sign-in (TOTP)                                                   */

#define RECOVERY_CODES 10

/* A recovery code as typed: "abcde-12345" (case and the dash do not matter). */
static const char *recovery_key(apr_pool_t *p, const char *code)
{
    char *k = apr_palloc(p, strlen(code) + 1), *o = k;
    const char *c;
    for (c = code; *c; c++) {
        if (*c != '-' && *c != ' ') {
            *o++ = (char)apr_tolower(*c);
        }
    }
    *o = '\0';
    return so_secret_hash(p, apr_pstrcat(p, "recovery|", k, NULL));
}

apr_status_t so_tfa_check(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *secret,
                          apr_int64_t last_step, const char *otp)
{
    apr_int64_t step = 0;
    apr_status_t rv;
    if (!otp || !*otp || strlen(otp) > 32) {
        return APR_EMISMATCH;
    }
    if (so_totp_verify(req->pool, secret, otp, req->now, last_step, &step) == APR_SUCCESS) {
        /* each step once, also when two requests race with the same code */
        return so_store_tfa_use_step(db, req->pool, user_id, step);
    }
    if (strlen(otp) == 6) {
        return APR_EMISMATCH;
    }
    rv = so_store_tfa_use_code(db, req->pool, user_id, recovery_key(req->pool, otp), req->now);
    if (rv == APR_SUCCESS) {
        so_log_info(SO_LOG_MARK, SOLOGNO(00655) "user %" APR_INT64_T_FMT " used a recovery code",
                    user_id);
    }
    return rv;
}

apr_status_t so_tfa_login(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *name,
                          const char *key)
{
    const char *secret, *pending, *otp = NULL;
    apr_int64_t last = 0;
    apr_status_t rv = so_store_tfa_get(db, req->pool, user_id, &secret, &pending, &last);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return APR_SUCCESS;
    }
    if (so_in_str(req, req->json, "otp", 0, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!otp || !*otp) {
        return so_api_error(req, SO_E_OTP_REQUIRED, "Two-factor sign-in: send the code as otp", ""),
               APR_EACCES;
    }
    rv = so_tfa_check(req, db, user_id, secret, last, otp);
    if (rv == APR_EMISMATCH) {
        if ((rv = so_login_failed(req, db, name, key)) != APR_SUCCESS) {
            return rv;
        }
        so_log_perror(SO_LOG_MARK, SO_LOG_INFO, APR_SUCCESS,
                      SOLOGNO(00656) "wrong second factor for '%s' from %s", name, req->client_ip);
        return so_api_error(req, SO_E_AUTH, "Authentication failed",
                            "wrong or already used two-factor code"),
               APR_EACCES;
    }
    return rv;
}

apr_status_t so_tfa_team_allows(so_req_t *req, so_db_t *db, apr_int64_t user_id,
                                apr_int64_t team_id)
{
    const char *secret, *pending;
    apr_int64_t last;
    int required = 0;
    apr_status_t rv = so_store_team_require_2fa(db, req->pool, team_id, -1, &required);
    if (rv != APR_SUCCESS || !required) {
        return rv;
    }
    if ((rv = so_store_tfa_get(db, req->pool, user_id, &secret, &pending, &last)) != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return so_api_error(req, SO_E_2FA_REQUIRED,
                            "This team requires two-factor sign-in: turn it on first", ""),
               APR_EACCES;
    }
    return APR_SUCCESS;
}

static apr_status_t tfa_get(so_req_t *req)
{
    const char *secret, *pending;
    apr_int64_t last;
    apr_status_t rv =
        so_store_tfa_get(so_req_db(req), req->pool, req->auth->user_id, &secret, &pending, &last);
    return rv != APR_SUCCESS ? rv
                             : so_api_ok(req, json_pack("{s:b,s:b}", "enabled", *secret != '\0',
                                                        "pending", *pending != '\0'));
}

/* POST /me/2fa: a new secret to enrol (confirmed with a code before it counts) */
static apr_status_t tfa_enrol(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *fresh, *uri, *qr;
    apr_int64_t last;
    apr_status_t rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (*secret) {
        return so_api_error(req, SO_E_2FA_STATE, "Two-factor sign-in is on already", ""),
               APR_EINVAL;
    }
    if ((rv = so_totp_secret(&fresh, req->pool)) != APR_SUCCESS
        || (rv = so_store_tfa_set_pending(db, req->pool, req->auth->user_id, fresh))
               != APR_SUCCESS) {
        return rv;
    }
    uri = so_totp_uri(req->pool, "SSLOrders", req->auth->username, fresh);
    /* the same URI as a QR code for the authenticator app's camera */
    if ((rv = so_qr_svg(&qr, req->pool, uri, 4)) != APR_SUCCESS) {
        so_log_perror(SO_LOG_MARK, SO_LOG_ERR, rv,
                      SOLOGNO(00872) "two-factor enrolment: no QR code for %s",
                      req->auth->username);
        return rv;
    }
    return so_api_ok(req, json_pack("{s:s,s:s,s:s}", "secret", fresh, "otpauth_uri", uri,
                                    "qr_svg", qr));
}

/* POST /me/2fa/confirm {otp}: on; ten single-use recovery codes, shown once */
static apr_status_t tfa_confirm(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *otp = NULL, *hashes[RECOVERY_CODES];
    apr_int64_t last, step = 0;
    json_t *codes;
    apr_status_t rv;
    int i;

    if (so_in_str(req, req->json, "otp", 1, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
        != APR_SUCCESS) {
        return rv;
    }
    if (*secret || !*pending) {
        return so_api_error(req, SO_E_2FA_STATE,
                            *secret ? "Two-factor sign-in is on already"
                                    : "Nothing to confirm: POST /me/2fa first",
                            ""),
               APR_EINVAL;
    }
    if (so_totp_verify(req->pool, pending, otp, req->now, 0, &step) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, "The code does not match: check the device's clock",
                            ""),
               APR_EINVAL;
    }
    codes = json_array();
    for (i = 0; i < RECOVERY_CODES; i++) {
        const char *hex;
        if ((rv = so_random_hex(&hex, req->pool, 5)) != APR_SUCCESS) {
            json_decref(codes);
            return rv;
        }
        json_array_append_new(codes, json_string(apr_psprintf(req->pool, "%.5s-%.5s", hex, hex + 5)));
        hashes[i] = recovery_key(req->pool, hex);
    }
    /* the confirming step counts as used: that code is not accepted again */
    rv = so_store_tfa_enable(db, req->pool, req->auth->user_id, pending, step, hashes,
                             RECOVERY_CODES);
    if (rv != APR_SUCCESS) {
        json_decref(codes);
        return rv == APR_ENOENT ? (so_api_error(req, SO_E_2FA_STATE, "The enrolment changed", ""),
                                   APR_EINVAL)
                                : rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00657) "%s turned two-factor sign-in on", req->auth->username);
    return so_api_ok(req, json_pack("{s:b,s:o}", "enabled", 1, "recovery_codes", codes));
}

/* DELETE /me/2fa {otp} */
static apr_status_t tfa_disable(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *otp = NULL, *key;
    apr_int64_t last;
    apr_status_t rv;

    if (so_in_str(req, req->json, "otp", 1, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
        != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return so_api_error(req, SO_E_2FA_STATE, "Two-factor sign-in is off", ""), APR_EINVAL;
    }
    rv = so_tfa_check(req, db, req->auth->user_id, secret, last, otp);
    if (rv == APR_EMISMATCH) {
        key = apr_pstrcat(req->pool, req->auth->username, "|", req->client_ip, NULL);
        if ((rv = so_login_failed(req, db, req->auth->username, key)) != APR_SUCCESS) {
            return rv;
        }
        return so_api_error(req, SO_E_INVALID, "Wrong or already used code", ""), APR_EINVAL;
    }
    if (rv != APR_SUCCESS || (rv = so_store_tfa_disable(db, req->pool, req->auth->user_id))
                                 != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00658) "%s turned two-factor sign-in off", req->auth->username);
    return so_api_ok(req, json_pack("{s:b}", "enabled", 0));
}

/* PUT /team {require_2fa} (admins who sign in with two factors themselves) */
static apr_status_t team_settings(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    int require = 0, present = 0, ended = 0;
    apr_status_t rv;

    if (so_in_bool(req, req->json, "require_2fa", 1, &require, &present) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (require) {
        const char *secret, *pending;
        apr_int64_t last;
        if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
            != APR_SUCCESS) {
            return rv;
        }
        if (!*secret) {
            return so_api_error(req, SO_E_2FA_REQUIRED,
                                "Turn on two-factor sign-in yourself before requiring it", ""),
                   APR_EACCES;
        }
    }
    /* required from now on: the sessions of members without a second factor end with it
     * (in one transaction: never required with such sessions left) */
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_team_require_2fa(db, req->pool, req->auth->team_id, require, NULL);
    if (rv == APR_SUCCESS && require) {
        rv = so_store_team_end_sessions_without_2fa(db, req->pool, req->auth->team_id, req->now,
                                                    &ended);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    if (ended) {
        so_log_info(SO_LOG_MARK,
                    SOLOGNO(00871) "team %s requires two-factor sign-in: %d sessions of members "
                    "without it ended", req->auth->team_slug, ended);
    }
    return so_api_ok(req, json_pack("{s:s,s:b,s:i}", "slug", req->auth->team_slug, "require_2fa",
                                    require, "sessions_ended", ended));
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
    {"GET", "/audit", audit_list, SO_ROLE_ADMIN, 0},
    {"GET", "/me/2fa", tfa_get, SO_ROLE_VIEWER, 0},
    {"POST", "/me/2fa", tfa_enrol, SO_ROLE_VIEWER, 0},
    {"POST", "/me/2fa/confirm", tfa_confirm, SO_ROLE_VIEWER, 0},
    {"DELETE", "/me/2fa", tfa_disable, SO_ROLE_VIEWER, 0},
    {"PUT", "/team", team_settings, SO_ROLE_ADMIN, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
