/* mod_sslorders: authentication (bearer tokens, portal sessions) and the account
 * endpoints: /auth/login, /auth/session, /me, /teams. */
#ifndef SO_AUTH_H
#define SO_AUTH_H

#include "so_api.h"

#define SO_SESSION_COOKIE "so_session"
#define SO_SIGNED_IN_COOKIE "so_signed_in" /* readable by the portal: "1" while signed in */

/* Resolve the caller of req into req->auth and check the route's role. Returns
 * APR_SUCCESS, SO_ANSWERED after answering 401/403/429, or a database status (not
 * answered, so that the dispatcher may retry). */
apr_status_t so_auth_resolve(so_req_t *req);
/* Before a request's answer goes out: when it may have changed something (it reached the
 * database and was not a read, or it committed), the token lookups cached before it
 * (SSLOrdersAuthCache) are not used again. */
void so_auth_request_done(const so_req_t *req);

apr_status_t so_api_auth_login(so_req_t *req);
apr_status_t so_api_session_create(so_req_t *req);
apr_status_t so_api_session_get(so_req_t *req);
apr_status_t so_api_session_team(so_req_t *req);
apr_status_t so_api_session_delete(so_req_t *req);
apr_status_t so_api_me(so_req_t *req);
apr_status_t so_api_teams_list(so_req_t *req);

/* Failed logins (also wrong old passwords): *failures -1 when the caller is over a limit
 * (per name and address, per address, per name), with *first_at its window's start. */
apr_status_t so_login_limited(so_req_t *req, so_db_t *db, const char *name, const char *key,
                              int *failures, apr_int64_t *first_at);
apr_status_t so_login_failed(so_req_t *req, so_db_t *db, const char *name, const char *key);

#endif
