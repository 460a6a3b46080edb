/* mod_sslorders: the audit log (issue 14): a row for every write, in the transaction of
 * its change (a commit hook), the answer's status written after; GET /audit (JSON or CSV);
 * the job's pruning. Routed from so_api_security.c. */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_security.h"
#include "so_api_security_int.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_security.h"


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

/* the commit hook: the row goes into the transaction of the request's (first) change, right
 * after its BEGIN (before the change takes its locks); its result is the answer's, written
 * by so_api_audit (until then: 200, the change committed) */
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
    if (req->audit_id || req->audit_pending) {
        /* an earlier transaction of this request has the row, or this one (at BEGUN) */
        return APR_SUCCESS;
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
apr_status_t so_api_audit_list(so_req_t *req)
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
        return so_api_error(req, SO_E_INVALID, "query parameter 'format' is json or csv", "");
    }
    if ((f.actor && strlen(f.actor) > 64) || (f.method && strlen(f.method) > 8)) {
        return so_api_error(req, SO_E_INVALID, "query parameter 'actor' or 'method' too long", "");
    }
    if ((since && *since && so_time_parse(since, &f.since) != APR_SUCCESS)
        || (until && *until && so_time_parse(until, &f.until) != APR_SUCCESS)) {
        return so_api_error(req, SO_E_INVALID,
                            "query parameters 'since' and 'until' are times (YYYY-MM-DD HH:MM:SS)",
                            "");
    }
    if (result && *result) {
        f.result = !strcmp(result, "success") ? 1 : !strcmp(result, "failure") ? 2 : -1;
        if (f.result < 0) {
            return so_api_error(req, SO_E_INVALID, "query parameter 'result' is success or failure",
                                "");
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
