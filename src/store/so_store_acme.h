/* mod_sslorders: what the ACME server keeps (RFC 8555): External Account Binding
 * credentials, accounts, orders, authorizations (their challenges are columns) and
 * nonces. Migrations 600-649. No httpd types. */
#ifndef SO_STORE_ACME_H
#define SO_STORE_ACME_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    const char *kid;
    apr_int64_t team_id;
    const char *hmac_key;     /* base64url */
    apr_int64_t order_id;     /* bound to an order (0: a product) */
    apr_int64_t product_id;   /* bound to a product (0: an order) */
    int period;               /* years of the orders a product-bound EAB creates */
    const char *names;        /* order-bound: the names it may issue for (space separated) */
    const char *description;
    apr_int64_t created_by;
    apr_int64_t created_at;
    int disabled;
} so_acme_eab_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    const char *eab_kid;
    const char *thumbprint;
    const char *jwk;          /* canonical RFC 7638 JSON */
    const char *status;       /* valid, deactivated, revoked */
    const char *contact;      /* JSON array text */
    apr_int64_t created_at;
    apr_int64_t last_used_at;
    /* its EAB when read in the same statement (so_store_acme_nonce_account), else NULL */
    so_acme_eab_t *eab;
    /* read in that statement too: 1 when the team has no enabled webhook (0: it has, or
     * not known) */
    int no_hooks;
} so_acme_account_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t account_id;
    apr_int64_t team_id;
    apr_int64_t order_id;     /* the SSL order (0 until known) */
    const char *status;       /* pending, ready, processing, valid, invalid */
    const char *identifiers;  /* space separated names */
    const char *profile;
    const char *replaces;
    apr_int64_t cert_id;
    const char *error;        /* problem JSON text, "" when none */
    apr_int64_t expires_at;
    apr_int64_t created_at;
    const char *csr;          /* PEM, from finalize on ("" before) */
    const char *account_url;  /* the account's URL when finalized ("" before schema 603) */
    apr_int64_t finalized_at; /* 0 before finalize (and before schema 603) */
} so_acme_order_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t acme_order_id;
    apr_int64_t account_id;
    const char *name;
    const char *status;       /* pending, valid, invalid, deactivated, expired */
    const char *token;
    const char *chall_type;   /* the challenge tried or that validated it ("" none; "reuse") */
    apr_int64_t validated_at;
    const char *error;        /* problem JSON text */
    apr_int64_t expires_at;
} so_acme_authz_t;

apr_status_t so_store_acme_eab_insert(so_db_t *db, apr_pool_t *p, const so_acme_eab_t *e);
apr_status_t so_store_acme_eab_get(so_db_t *db, apr_pool_t *p, const char *kid,
                                   so_acme_eab_t **out);
apr_status_t so_store_acme_eab_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_array_header_t **out);
/* Disable a team's EAB and revoke its accounts; APR_ENOENT when not the team's. */
apr_status_t so_store_acme_eab_disable(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                       const char *kid);

/* The SSL orders issued through the EAB's accounts (newest first). */
apr_status_t so_store_acme_eab_orders(so_db_t *db, apr_pool_t *p, const char *kid,
                                      apr_array_header_t **ids);

apr_status_t so_store_acme_account_insert(so_db_t *db, apr_pool_t *p, so_acme_account_t *a);
apr_status_t so_store_acme_account_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                       so_acme_account_t **out);
apr_status_t so_store_acme_account_by_key(so_db_t *db, apr_pool_t *p, const char *thumbprint,
                                          so_acme_account_t **out);
apr_status_t so_store_acme_account_set(so_db_t *db, apr_pool_t *p, const so_acme_account_t *a);
/* Replace the key unless another account has it (SO_EDBUNIQUE). */
apr_status_t so_store_acme_account_rekey(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                         const char *old_thumb, const char *jwk,
                                         const char *thumbprint, int *changed);
apr_status_t so_store_acme_account_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                         apr_int64_t now);
apr_status_t so_store_acme_accounts_team(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_array_header_t **out);

apr_status_t so_store_acme_order_insert(so_db_t *db, apr_pool_t *p, so_acme_order_t *o);
apr_status_t so_store_acme_order_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     so_acme_order_t **out);
/* An order with its authorizations (so_acme_authz_t *, oldest first) in one statement. */
apr_status_t so_store_acme_order_authzs(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        so_acme_order_t **out, apr_array_header_t **authzs);
/* An order with its certificate's PEM and intermediate PEM (*pem NULL: none) in one
 * statement. */
apr_status_t so_store_acme_order_cert(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                      so_acme_order_t **out, const char **pem,
                                      const char **intermediate);
apr_status_t so_store_acme_order_set(so_db_t *db, apr_pool_t *p, const so_acme_order_t *o);
/* pending/ready -> processing with o's order_id and csr, once: APR_EBUSY when the order
 * is no longer pending or ready (another finalize won). o->cert_id becomes -(the newest
 * certificate of the SSL order o->order_id, 0 for none) - 1. */
apr_status_t so_store_acme_order_process(so_db_t *db, apr_pool_t *p, so_acme_order_t *o);
/* A processing product-bound order gets its new paid SSL order: APR_EBUSY when it has one
 * already (another worker created it first; the caller's transaction rolls back). */
apr_status_t so_store_acme_order_bind(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                      apr_int64_t order_id);
/* Up to limit processing orders without their certificate, finalized at or before
 * before (oldest first): the background job issues them. */
apr_status_t so_store_acme_orders_stuck(so_db_t *db, apr_pool_t *p, apr_int64_t before, int limit,
                                        apr_array_header_t **out);
/* The account's orders, newest first (ids). */
apr_status_t so_store_acme_orders_of(so_db_t *db, apr_pool_t *p, apr_int64_t account_id,
                                     apr_array_header_t **ids);
/* The ACME order that got certificate cert_id (APR_ENOENT: none). */
apr_status_t so_store_acme_order_by_cert(so_db_t *db, apr_pool_t *p, apr_int64_t cert_id,
                                         so_acme_order_t **out);

/* Read ahead (so_db_ahead): this use's next so_store_acme_authz_get
 * (SO_ACME_AHEAD_AUTHZ), so_store_acme_order_authzs (SO_ACME_AHEAD_ORDER) or
 * so_store_acme_order_cert (SO_ACME_AHEAD_CERT) of id, sent with its next statement (an
 * ACME request's nonce): one round trip for both. */
typedef enum { SO_ACME_AHEAD_AUTHZ, SO_ACME_AHEAD_ORDER, SO_ACME_AHEAD_CERT } so_acme_ahead_t;
void so_store_acme_ahead(so_db_t *db, so_acme_ahead_t what, apr_int64_t id);

/* An authorization (a->id set). ended not NULL: it is its transaction's last statement,
 * committed with it in one round trip where the driver can (so_db_select_commit): *ended 1
 * when the transaction has ended (committed on APR_SUCCESS, else rolled back), 0 when the
 * caller ends it as usual. */
apr_status_t so_store_acme_authz_insert(so_db_t *db, apr_pool_t *p, so_acme_authz_t *a,
                                        int *ended);
apr_status_t so_store_acme_authz_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     so_acme_authz_t **out);
apr_status_t so_store_acme_authz_of(so_db_t *db, apr_pool_t *p, apr_int64_t acme_order_id,
                                    apr_array_header_t **out);
apr_status_t so_store_acme_authz_set(so_db_t *db, apr_pool_t *p, const so_acme_authz_t *a);
/* The latest validation of name by the account after since (0: none). */
apr_status_t so_store_acme_authz_fresh(so_db_t *db, apr_pool_t *p, apr_int64_t account_id,
                                       const char *name, apr_int64_t since, apr_int64_t *at);

apr_status_t so_store_acme_nonce_add(so_db_t *db, apr_pool_t *p, const char *nonce,
                                     apr_int64_t expires_at);
/* Consume a nonce: APR_SUCCESS once, APR_ENOENT when unknown, used or expired. */
apr_status_t so_store_acme_nonce_use(so_db_t *db, apr_pool_t *p, const char *nonce,
                                     apr_int64_t now);
/* Consume a nonce and issue the next one in one statement (the consumed row is renamed):
 * APR_SUCCESS once (next is then valid until expires_at), APR_ENOENT when the nonce is
 * unknown, used or expired (next is not stored). */
apr_status_t so_store_acme_nonce_swap(so_db_t *db, apr_pool_t *p, const char *nonce,
                                      apr_int64_t now, const char *next, apr_int64_t expires_at);
/* PostgreSQL: so_store_acme_nonce_swap and so_store_acme_account_get(id) in one statement.
 * APR_SUCCESS: the nonce was consumed, *out the account or NULL when there is none;
 * APR_ENOENT: the nonce is unknown, used or expired (nothing changed, *out NULL);
 * APR_ENOTIMPL on SQLite (nothing sent). */
apr_status_t so_store_acme_nonce_account(so_db_t *db, apr_pool_t *p, const char *nonce,
                                        apr_int64_t now, const char *next,
                                        apr_int64_t expires_at, apr_int64_t id,
                                        so_acme_account_t **out);
apr_status_t so_store_acme_nonce_purge(so_db_t *db, apr_pool_t *p, apr_int64_t now);

/* A certificate by serial (lower hex, as the CA writes it) with what ACME needs. */
typedef struct {
    apr_int64_t id, order_id, team_id;
    const char *names; /* space separated */
    apr_int64_t not_before, not_after, revoked_at, created_at;
    const char *pem;
    apr_int64_t renew_early_at; /* sslordersctl acme renew-early (0: never) */
    const char *spki_sha256;    /* of its SubjectPublicKeyInfo DER ("": not known yet; only
                                 * so_store_acme_certs_after() reads it) */
} so_acme_cert_t;
apr_status_t so_store_acme_cert(so_db_t *db, apr_pool_t *p, const char *serial,
                                so_acme_cert_t **out);
/* The newest certificate id of an SSL order (0: none). */
apr_status_t so_store_acme_cert_last(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t order_id, apr_int64_t *cert_id);
/* The SSL order's certificates newer than id after (id, names, pem), oldest first. */
apr_status_t so_store_acme_certs_after(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                       apr_int64_t order_id, apr_int64_t after,
                                       apr_array_header_t **out);
/* How many live ACME orders replace the certificate (ARI certID). */
apr_status_t so_store_acme_replaced(so_db_t *db, apr_pool_t *p, const char *cert_id, int *n);

/* Count one request of key in the hour starting at window_start; *hits: the count so far. */
apr_status_t so_store_acme_rate_hit(so_db_t *db, apr_pool_t *p, const char *key,
                                    apr_int64_t window_start, int *hits);

/* ARI: early renewal asked for an order (all: every order with an ACME certificate). */
apr_status_t so_store_acme_renew_early(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       apr_int64_t at, int *n);

#endif
