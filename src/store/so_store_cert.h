/* mod_sslorders: what issuance keeps: the validation state of every name, the
 * organization validation, certificates (with revocation), e-mail approval tokens,
 * reminders sent, and claims that keep two servers off the same order. */
#ifndef SO_STORE_CERT_H
#define SO_STORE_CERT_H

#include <apr_tables.h>

#include "so_db.h"
#include "so_store_order.h"

/* Validation state of the names of an order, in position order. */
typedef struct {
    const char *host_name;
    const char *method;
    const char *status;     /* pending, valid, failed */
    apr_int64_t validated_at;
    apr_int64_t last_check_at;
    const char *last_error; /* plain words, "" when none */
    int checks;
} so_host_state_t;

/* The issuance state of an order (columns of orders). */
typedef struct {
    const char *org_status;  /* "" (DV), pending, approved, rejected */
    const char *org_reason;
    apr_int64_t org_checked_at;
    apr_int64_t next_check_at;
    int reissue_pending;     /* a reissue waits for validation */
    const char *reminder_days;       /* "60,30,7,1,-30": days before (+) / after (-) expiry */
    const char *reminder_recipients; /* extra addresses, comma separated */
    int reminders_enabled;
    apr_int64_t renewed_until;       /* order_ends_at covered by the last renewal (autorenew) */
} so_issuance_state_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t order_id;
    apr_int64_t team_id;
    const char *serial;
    const char *pem;
    const char *intermediate_pem;
    const char *root_pem;
    const char *common_name;
    const char *names;       /* space separated */
    apr_int64_t not_before;
    apr_int64_t not_after;
    const char *sha256;
    const char *spki_sha256; /* of the key's SubjectPublicKeyInfo, lower hex (written on
                              * insert; not read back by the CERT_COLS statements) */
    apr_int64_t revoked_at;
    int revoke_reason;
    int is_current;
    apr_int64_t created_at;
} so_cert_t;

apr_status_t so_store_host_states(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                  apr_array_header_t **out);
apr_status_t so_store_host_state_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     const char *host, const char *status, apr_int64_t validated_at,
                                     apr_int64_t checked_at, const char *error);
/* Every name of the order back to pending (a reissue), keeping validated_at. */
apr_status_t so_store_hosts_reset(so_db_t *db, apr_pool_t *p, apr_int64_t order_id);

apr_status_t so_store_issuance_get(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                   so_issuance_state_t **out);
/* The newest identity check of the organization (customer handle) approved for another
 * order of the team with the same validation method after since: its order and check
 * time; APR_ENOENT when none. */
apr_status_t so_store_org_reusable(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const char *handle, const char *method, apr_int64_t order_id,
                                   apr_int64_t since, apr_int64_t *src_id, apr_int64_t *checked_at);
apr_status_t so_store_org_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, const char *status,
                              const char *reason, apr_int64_t now);
apr_status_t so_store_next_check_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     apr_int64_t when);
/* reissue_pending = 1 and next_check_at in one statement (a reissue starts) */
apr_status_t so_store_reissue_start(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t next_check);
apr_status_t so_store_reminders_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    const char *days, const char *recipients, int enabled);
apr_status_t so_store_renewed_until_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        apr_int64_t until);

/* When the next reminder of the order is due (0: none). */
apr_status_t so_store_next_reminder_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       apr_int64_t when);

/* Claim an order for owner until `until` (another server's live claim wins):
 * APR_SUCCESS when claimed, APR_EBUSY when somebody else holds it. */
apr_status_t so_store_order_claim(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                  const char *owner, apr_int64_t now, apr_int64_t until);
/* The same, and the order's issuance state as the claim found it (*st, when st is not
 * NULL and the order was claimed). */
apr_status_t so_store_order_claim_state(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char *owner, apr_int64_t now, apr_int64_t until,
                                        so_issuance_state_t **st);
apr_status_t so_store_order_release(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    const char *owner);
/* Who holds the order's claim now (*owner "" when nobody does, or it ran out). */
apr_status_t so_store_order_claim_holder(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t now, const char **owner);
/* Take over the claim `from` holds (its holder is gone): APR_SUCCESS when taken, APR_EBUSY
 * when the claim changed meanwhile. */
apr_status_t so_store_order_claim_take(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       const char *from, const char *owner, apr_int64_t until);

/* Certificates: insert (the order's other certificates stop being current). */
apr_status_t so_store_cert_insert(so_db_t *db, apr_pool_t *p, so_cert_t *c);
apr_status_t so_store_cert_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                               so_cert_t **out);
apr_status_t so_store_certs_of_order(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t order_id, apr_array_header_t **out);
/* The current certificates of several orders (one query), keyed by order id. */
apr_status_t so_store_certs_current(so_db_t *db, apr_pool_t *p, apr_array_header_t *orders,
                                    apr_hash_t **by_order);
apr_status_t so_store_cert_revoke(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t when,
                                  int reason);
/* Up to 100 live certificates (not revoked, valid at now) whose key is blocked (table
 * blocked_keys: revoked for key compromise with another certificate). */
apr_status_t so_store_certs_compromised(so_db_t *db, apr_pool_t *p, apr_int64_t now,
                                        apr_array_header_t **out);
/* Up to 200 live certificates stored before their key's hash was (spki_sha256 ''). */
apr_status_t so_store_certs_spki_missing(so_db_t *db, apr_pool_t *p, apr_int64_t now,
                                         apr_array_header_t **out);
apr_status_t so_store_cert_spki_set(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *spki);
/* Every revoked certificate whose validity has not ended before `since` (for the CRL). */
apr_status_t so_store_certs_revoked(so_db_t *db, apr_pool_t *p, apr_int64_t since,
                                    apr_array_header_t **out);

/* E-mail approval tokens (the plain token is returned once). */
apr_status_t so_store_approval_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t order_id, const char *email, apr_int64_t now,
                                      apr_int64_t ttl, const char **token);
/* The order of an unused, unexpired token; APR_ENOENT otherwise. */
apr_status_t so_store_approval_lookup(so_db_t *db, apr_pool_t *p, const char *token,
                                      apr_int64_t now, apr_int64_t *team_id, apr_int64_t *order_id,
                                      const char **email, apr_int64_t *approval_id);
/* Mark used (once): APR_EBUSY when it was used meanwhile. */
apr_status_t so_store_approval_use(so_db_t *db, apr_pool_t *p, apr_int64_t approval_id,
                                   apr_int64_t now);
/* Drop the open tokens of an order (a new approver address). */
apr_status_t so_store_approvals_drop(so_db_t *db, apr_pool_t *p, apr_int64_t order_id);
/* Is there an unused, unexpired token for the order? */
apr_status_t so_store_approval_open(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t now, int *open);

/* Reminders: record (order, the expiry it is about, the offset) once. APR_SUCCESS when
 * recorded now, SO_EDBUNIQUE when it was sent before. */
apr_status_t so_store_reminder_mark(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t expiry, int offset, apr_int64_t now);

/* Orders of every team the background job looks at (ids only, at most limit):
 * what: "dcv" (REQ or a pending reissue, check due), "issue" (REQ/reissue with every
 * name valid), "expire" (ACT past its expiry), "reissue" (ACT whose reissue_at
 * passed), "autorenew", "reminders" (ACT/EXP with reminders on). */
apr_status_t so_store_job_orders(so_db_t *db, apr_pool_t *p, const char *what, apr_int64_t now,
                                 int limit, apr_array_header_t **ids, apr_array_header_t **teams);

#endif
