/* mod_sslorders: account security (issue 14): team invitations, the user's portal
 * sessions, credentials ended at a password change, owners' tokens, the audit log. */
#ifndef SO_STORE_SECURITY_H
#define SO_STORE_SECURITY_H

#include <apr_tables.h>

#include "so_db.h"
#include "so_store_account.h"

#define SO_INVITATION_TTL (7 * 86400)

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    const char *team_slug;
    const char *team_name;
    const char *username;
    so_role_t role;
    const char *invited_by; /* user name ("" when unknown) */
    apr_int64_t created_at;
    apr_int64_t expires_at;
} so_invitation_t;

/* A pending invitation of username (lower case) to team_id; an expired pending one is
 * dropped first. SO_EDBUNIQUE when one is pending already. */
apr_status_t so_store_invitation_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        const char *username, so_role_t role,
                                        apr_int64_t invited_by, apr_int64_t now, apr_int64_t *id);
/* Pending, unexpired invitations: of a user (team_id 0) or of a team (username NULL). */
apr_status_t so_store_invitations(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  const char *username, apr_int64_t now,
                                  apr_array_header_t **out);
/* Decide the user's pending invitation id: accept (a member with its role, in one
 * transaction) or decline. APR_ENOENT when not the user's, not pending or expired;
 * SO_EDBUNIQUE when the user is a member already (nothing changed). */
apr_status_t so_store_invitation_decide(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        apr_int64_t user_id, const char *username, int accept,
                                        apr_int64_t now, apr_int64_t *team_id);
/* An admin withdraws a pending invitation of the team (APR_ENOENT otherwise). */
apr_status_t so_store_invitation_withdraw(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                          apr_int64_t id, apr_int64_t now);

/* The user who holds an active token of the team (APR_ENOENT when none). */
apr_status_t so_store_team_token_user(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t token_id, apr_int64_t *user_id);

/* sessions */
typedef struct {
    apr_int64_t id;
    const char *team_slug;
    const char *ip;
    const char *user_agent;
    apr_int64_t created_at, last_used_at, expires_at;
} so_session_info_t;

/* Where a new session comes from (by its plain id). */
apr_status_t so_store_session_describe(so_db_t *db, apr_pool_t *p, const char *session_id,
                                       const char *ip, const char *user_agent);
apr_status_t so_store_user_sessions(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                    apr_int64_t now, apr_array_header_t **out);
/* End one session of the user (APR_ENOENT when not the user's). */
apr_status_t so_store_user_session_end(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                       apr_int64_t id);
/* End every session of the user but keep (0: none); with tokens, revoke every API token
 * of the user too. */
apr_status_t so_store_user_credentials_end(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                           apr_int64_t keep_session, int tokens,
                                           apr_int64_t now);

/* API tokens: scopes and networks (canonical texts, "" = no restriction). */
apr_status_t so_store_token_restrict(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     const char *scopes, const char *networks);

/* The audit log: one row per write. */
typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;     /* 0: none */
    apr_int64_t at;
    const char *actor_kind;  /* token, session, otp, cli, acme */
    apr_int64_t actor_id;    /* the user (0: none) */
    const char *actor;       /* the user name (or what the CLI says) */
    apr_int64_t credential_id;
    const char *ip;
    const char *method;
    const char *route;       /* the route's pattern */
    const char *path;        /* the request's path (the object) */
    int status;              /* the HTTP status of the answer */
    int code;                /* the API error code (0: none) */
} so_audit_entry_t;

typedef struct {
    const char *actor;  /* NULL: any */
    const char *method; /* NULL: any */
    apr_int64_t since, until;
    int result;         /* 0 any, 1 success, 2 failure */
} so_audit_filter_t;

apr_status_t so_store_audit_add(so_db_t *db, apr_pool_t *p, const so_audit_entry_t *e);
/* The same, returning the row's id (written inside the request's transaction), and the
 * request's final answer written into it afterwards. */
apr_status_t so_store_audit_insert(so_db_t *db, apr_pool_t *p, const so_audit_entry_t *e,
                                   apr_int64_t *id);
apr_status_t so_store_audit_result(so_db_t *db, apr_pool_t *p, apr_int64_t id, int status, int code);
apr_status_t so_store_audit_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 const so_audit_filter_t *f, int limit, int offset,
                                 apr_array_header_t **out, apr_int64_t *total);
apr_status_t so_store_audit_prune(so_db_t *db, apr_pool_t *p, apr_int64_t before, int *pruned);

/* Two-factor sign-in (TOTP): the user's secret ("" when off), the one being enrolled, the
 * last accepted time step. */
apr_status_t so_store_tfa_get(so_db_t *db, apr_pool_t *p, apr_int64_t user_id, const char **secret,
                              const char **pending, apr_int64_t *last_step);
apr_status_t so_store_tfa_set_pending(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                      const char *secret);
/* The pending secret becomes the user's with its first accepted step and the recovery
 * codes (hashed), in one transaction; APR_ENOENT when pending changed or 2FA is on. */
apr_status_t so_store_tfa_enable(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                 const char *pending, apr_int64_t step,
                                 const char *const *code_hashes, int ncodes);
apr_status_t so_store_tfa_disable(so_db_t *db, apr_pool_t *p, apr_int64_t user_id);
/* Accept a time step once (APR_EMISMATCH when it or a later one was used). */
apr_status_t so_store_tfa_use_step(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   apr_int64_t step);
/* Use a recovery code once (APR_EMISMATCH when unknown or used). */
apr_status_t so_store_tfa_use_code(so_db_t *db, apr_pool_t *p, apr_int64_t user_id,
                                   const char *code_hash, apr_int64_t now);
/* A team's require_2fa: set >= 0 sets it, else *value gets it. */
apr_status_t so_store_team_require_2fa(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int set,
                                       int *value);

/* A team now requires 2FA: end the portal sessions and the sign-in tokens (POST /auth/login,
 * named "login") of its members who have no second factor; *ended counts them. */
apr_status_t so_store_team_end_sessions_without_2fa(so_db_t *db, apr_pool_t *p,
                                                    apr_int64_t team_id, apr_int64_t now,
                                                    int *ended);

#endif
