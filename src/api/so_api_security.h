/* mod_sslorders: account security (issue 14): invitations, sessions, password changes. */
#ifndef SO_API_SECURITY_H
#define SO_API_SECURITY_H

#include "so_api.h"

/* POST /team/members: an invitation of username with role (checked by the caller); the
 * same answer whether or not such a user exists. */
apr_status_t so_api_member_invite(so_req_t *req, const char *username, so_role_t role);

/* POST /team/tokens: read scopes (array), networks (array of CIDR) and expires_at (a time,
 * instead of ttl_hours) of the body into canonical texts and *ttl (seconds). Answers 400
 * and returns APR_EINVAL on bad input; scopes beyond the caller's role are refused. */
apr_status_t so_api_token_limits(so_req_t *req, const char **scopes, const char **networks,
                                 apr_int64_t *ttl);

/* The audit log: called by the dispatcher after every request (writes only are kept). */
void so_api_audit(so_req_t *req);
/* Before the handler of a write: its audit row is written inside the transaction that
 * commits its change (a commit hook on the request's connection); after it, the hook is
 * removed (so_api_audit_end) and so_api_audit writes the final answer into that row, or a
 * row of its own when nothing was committed. */
void so_api_audit_begin(so_req_t *req);
void so_api_audit_end(so_req_t *req);
/* The background job's retention of audit rows: so_svc_audit_prune (so_svc.h). */

/* Sign-in: when the user has two-factor sign-in, the body's otp must be a fresh code or an
 * unused recovery code (a wrong one counts as a failed login under key). Answers and
 * returns non-success when refused. */
apr_status_t so_tfa_login(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *name,
                          const char *key);
/* Sign-in into a team that requires two-factor sign-in: refused (answered) without it. */
apr_status_t so_tfa_team_allows(so_req_t *req, so_db_t *db, apr_int64_t user_id,
                                apr_int64_t team_id);
/* A code or a recovery code of the user, each accepted once: APR_SUCCESS or APR_EMISMATCH. */
apr_status_t so_tfa_check(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *secret,
                          apr_int64_t last_step, const char *otp);

extern const so_route_t so_routes_security[];

#endif
