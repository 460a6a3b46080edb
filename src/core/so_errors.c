#include <stddef.h>

#include "so_errors.h"

/* Keep in sync with README.md ("Error codes"); tests/unit checks that. */
static const so_error_def_t defs[] = {
    {SO_E_BAD_JSON, 400, "bad_json", "The request body is not valid JSON (or not a JSON object)."},
    {SO_E_INVALID, 400, "invalid",
     "A parameter or field is missing, has the wrong type or an invalid value; desc names it."},
    {SO_E_NOT_FOUND, 404, "not_found",
     "No such object in the caller's team (another team's objects answer the same)."},
    {SO_E_NO_ROUTE, 404, "no_route", "No endpoint at this path."},
    {SO_E_METHOD, 405, "method", "The endpoint exists but not for this method; see Allow."},
    {SO_E_TOO_LARGE, 413, "too_large", "The request body is larger than SSLOrdersMaxBody."},
    {SO_E_MEDIA_TYPE, 415, "media_type",
     "The request body has a Content-Type the endpoint does not accept."},
    {SO_E_FORBIDDEN, 403, "forbidden", "The caller's role in the team does not allow this."},
    {SO_E_CONFLICT, 409, "conflict", "The object already exists or is in use."},
    {SO_E_CSRF, 403, "csrf", "A portal session request that changes data lacks a valid X-CSRF-Token."},
    {SO_E_NOT_ACCEPTABLE, 406, "not_acceptable", "The Accept header asks for a format the endpoint cannot give."},
    {SO_E_AUTH, 401, "auth",
     "Authentication failed: wrong credentials, or a missing, wrong, expired or IP-bound token."},
    {SO_E_RATE_LIMIT, 429, "rate_limited",
     "Too many failed logins for this user from this address; retry after Retry-After seconds."},
    {SO_E_DB_UNAVAILABLE, 503, "db_unavailable",
     "The database is unavailable or busy; nothing was changed, retry later."},
    {SO_E_INTERNAL, 500, "internal", "An unexpected server error (logged with an SO tag)."},
    {0, 0, NULL, NULL}};

const so_error_def_t *so_error_defs(void)
{
    return defs;
}

const so_error_def_t *so_error_def(int code)
{
    const so_error_def_t *d;
    for (d = defs; d->code; d++) {
        if (d->code == code) {
            return d;
        }
    }
    return NULL;
}

int so_error_http(int code)
{
    const so_error_def_t *d = so_error_def(code);
    return d ? d->http : 500;
}
