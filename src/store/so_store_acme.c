/* mod_sslorders: the ACME server's tables (see so_store_acme.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_store_acme.h"
#include "so_stmts.h"
#include "../core/so_util.h"

/* an external account binding key (the insert names the same columns) */
#define EAB_COLUMNS_OF(X, T)                                                                  \
    X(EAB_KID, T "kid") X(EAB_TEAM_ID, ", " T "team_id") X(EAB_HMAC_KEY, ", " T "hmac_key")   \
    X(EAB_ORDER_ID, ", " T "order_id") X(EAB_PRODUCT_ID, ", " T "product_id")                 \
    X(EAB_PERIOD, ", " T "period") X(EAB_NAMES, ", " T "names")                               \
    X(EAB_DESCRIPTION, ", " T "description") X(EAB_CREATED_BY, ", " T "created_by")           \
    X(EAB_CREATED_AT, ", " T "created_at") X(EAB_DISABLED, ", " T "disabled")
#define EAB_COLUMNS(X) EAB_COLUMNS_OF(X, "")
enum { EAB_COLUMNS(SO_COL_POS) EAB_NCOLS };
#define EAB_COLS EAB_COLUMNS(SO_COL_SQL)

/* an account */
#define ACC_COLUMNS_OF(X, T)                                                                  \
    X(ACC_ID, T "id") X(ACC_TEAM_ID, ", " T "team_id") X(ACC_EAB_KID, ", " T "eab_kid")       \
    X(ACC_THUMBPRINT, ", " T "thumbprint") X(ACC_JWK, ", " T "jwk")                           \
    X(ACC_STATUS, ", " T "status") X(ACC_CONTACT, ", " T "contact")                           \
    X(ACC_CREATED_AT, ", " T "created_at") X(ACC_LAST_USED_AT, ", " T "last_used_at")
#define ACC_COLUMNS(X) ACC_COLUMNS_OF(X, "")
enum { ACC_COLUMNS(SO_COL_POS) ACC_NCOLS };
#define ACC_COLS ACC_COLUMNS(SO_COL_SQL)

/* an ACME order */
#define ORD_COLUMNS_OF(X, T)                                                                  \
    X(ORD_ID, T "id") X(ORD_ACCOUNT_ID, ", " T "account_id") X(ORD_TEAM_ID, ", " T "team_id") \
    X(ORD_ORDER_ID, ", " T "order_id") X(ORD_STATUS, ", " T "status")                         \
    X(ORD_IDENTIFIERS, ", " T "identifiers") X(ORD_PROFILE, ", " T "profile")                 \
    X(ORD_REPLACES, ", " T "replaces") X(ORD_CERT_ID, ", " T "cert_id")                       \
    X(ORD_ERROR, ", " T "error") X(ORD_EXPIRES_AT, ", " T "expires_at")                       \
    X(ORD_CREATED_AT, ", " T "created_at") X(ORD_CSR, ", " T "csr")                           \
    X(ORD_ACCOUNT_URL, ", " T "account_url") X(ORD_FINALIZED_AT, ", " T "finalized_at")
#define ORD_COLUMNS(X) ORD_COLUMNS_OF(X, "")
enum { ORD_COLUMNS(SO_COL_POS) ORD_NCOLS };
#define ORD_COLS ORD_COLUMNS(SO_COL_SQL)

/* an authorization */
#define AUTHZ_COLUMNS_OF(X, T)                                                                \
    X(AUTHZ_ID, T "id") X(AUTHZ_ACME_ORDER_ID, ", " T "acme_order_id")                        \
    X(AUTHZ_ACCOUNT_ID, ", " T "account_id") X(AUTHZ_NAME, ", " T "name")                     \
    X(AUTHZ_STATUS, ", " T "status") X(AUTHZ_TOKEN, ", " T "token")                           \
    X(AUTHZ_CHALL_TYPE, ", " T "chall_type") X(AUTHZ_VALIDATED_AT, ", " T "validated_at")     \
    X(AUTHZ_ERROR, ", " T "error") X(AUTHZ_EXPIRES_AT, ", " T "expires_at")
#define AUTHZ_COLUMNS(X) AUTHZ_COLUMNS_OF(X, "")
enum { AUTHZ_COLUMNS(SO_COL_POS) AUTHZ_NCOLS };
#define AUTHZ_COLS AUTHZ_COLUMNS(SO_COL_SQL)

/* a certificate of an order issued after a given one */
#define AFTER_COLUMNS(X)                                                                      \
    X(AFTER_ID, "id") X(AFTER_NAMES, ", names") X(AFTER_PEM, ", pem")                         \
    X(AFTER_SPKI, ", spki_sha256")
enum { AFTER_COLUMNS(SO_COL_POS) AFTER_NCOLS };
#define AFTER_COLS AFTER_COLUMNS(SO_COL_SQL)

/* a certificate by its serial, with the time its order is to renew early (0: none) */
#define SER_COLUMNS(X)                                                                        \
    X(SER_ID, "c.id") X(SER_ORDER_ID, ", c.order_id") X(SER_TEAM_ID, ", c.team_id")           \
    X(SER_NAMES, ", c.names") X(SER_NOT_BEFORE, ", c.not_before")                             \
    X(SER_NOT_AFTER, ", c.not_after") X(SER_REVOKED_AT, ", c.revoked_at")                     \
    X(SER_CREATED_AT, ", c.created_at") X(SER_PEM, ", c.pem")                                 \
    X(SER_RENEW_EARLY_AT, ", COALESCE(r.at, 0)")
enum { SER_COLUMNS(SO_COL_POS) SER_NCOLS };
#define SER_COLS SER_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_acme[] = {
    {"so_acme_eab_insert",
     "INSERT INTO acme_eab (" EAB_COLS ") VALUES (%s, %lld, %s, %lld, %lld, %d, %s, %s, %lld, "
     "%lld, 0)", 0},
    {"so_acme_eab_get", "SELECT " EAB_COLS " FROM acme_eab WHERE kid = %s", EAB_NCOLS},
    {"so_acme_eab_list",
     "SELECT " EAB_COLS " FROM acme_eab WHERE team_id = %lld ORDER BY created_at, kid",
     EAB_NCOLS},
    {"so_acme_eab_disable", "UPDATE acme_eab SET disabled = 1 WHERE team_id = %lld AND kid = %s", 0},
    {"so_acme_eab_accounts_revoke",
     "UPDATE acme_accounts SET status = 'revoked' WHERE eab_kid = %s AND status = 'valid'", 0},
    {"so_acme_acc_insert",
     "INSERT INTO acme_accounts (team_id, eab_kid, thumbprint, jwk, status, contact, created_at, "
     "last_used_at) VALUES (%lld, %s, %s, %s, %s, %s, %lld, %lld) RETURNING id", 1},
    {"so_acme_acc_get", "SELECT " ACC_COLS " FROM acme_accounts WHERE id = %lld", ACC_NCOLS},
    {"so_acme_acc_by_key",
     "SELECT " ACC_COLS " FROM acme_accounts WHERE thumbprint = %s", ACC_NCOLS},
    {"so_acme_acc_set", "UPDATE acme_accounts SET status = %s, contact = %s WHERE id = %lld", 0},
    {"so_acme_acc_rekey",
     "UPDATE acme_accounts SET jwk = %s, thumbprint = %s WHERE id = %lld AND thumbprint = %s "
     "AND status = 'valid'", 0},
    {"so_acme_acc_touch",
     "UPDATE acme_accounts SET last_used_at = %lld WHERE id = %lld AND last_used_at < %lld", 0},
    {"so_acme_acc_team",
     "SELECT " ACC_COLS " FROM acme_accounts WHERE team_id = %lld ORDER BY id", ACC_NCOLS},
    {"so_acme_ord_insert",
     "INSERT INTO acme_orders (account_id, team_id, order_id, status, identifiers, profile, "
     "replaces, cert_id, error, expires_at, created_at) VALUES (%lld, %lld, %lld, %s, %s, %s, %s, "
     "%lld, %s, %lld, %lld) RETURNING id", 1},
    {"so_acme_ord_get", "SELECT " ORD_COLS " FROM acme_orders WHERE id = %lld", ORD_NCOLS},
    /* an order with its authorizations (a row each), or with its certificate */
    {"so_acme_ord_authzs",
     "SELECT " ORD_COLUMNS_OF(SO_COL_SQL, "o.") ", " AUTHZ_COLUMNS_OF(SO_COL_SQL, "z.")
     " FROM acme_orders o LEFT JOIN acme_authz z ON z.acme_order_id = o.id WHERE o.id = %lld "
     "ORDER BY z.id", ORD_NCOLS + AUTHZ_NCOLS},
    {"so_acme_ord_cert",
     "SELECT " ORD_COLUMNS_OF(SO_COL_SQL, "o.") ", c.pem, c.intermediate_pem FROM acme_orders o "
     "LEFT JOIN certificates c ON c.id = o.cert_id AND c.team_id = o.team_id WHERE o.id = %lld",
     ORD_NCOLS + 2},
    {"so_acme_ord_set",
     "UPDATE acme_orders SET status = %s, order_id = %lld, cert_id = %lld, error = %s "
     "WHERE id = %lld", 0},
    /* cert_id: -(the SSL order's newest certificate) - 1, read in the same statement */
    {"so_acme_ord_process",
     "UPDATE acme_orders SET status = 'processing', order_id = %lld, cert_id = -1 - "
     "(SELECT COALESCE(MAX(c.id), 0) FROM certificates c WHERE c.team_id = %lld AND "
     "c.order_id = %lld), csr = %s, account_url = %s, finalized_at = %lld, error = '' "
     "WHERE id = %lld AND status IN ('pending', 'ready') RETURNING cert_id", 1},
    /* a product-bound order gets its paid SSL order once */
    {"so_acme_ord_bind",
     "UPDATE acme_orders SET order_id = %lld, cert_id = -1 WHERE id = %lld AND order_id = 0 AND "
     "status = 'processing'", 0},
    /* finalized, not issued, finalized before a time: the background job's (orders
     * finalized before schema 603 only when they need no account URL) */
    {"so_acme_ord_stuck",
     "SELECT " ORD_COLS " FROM acme_orders WHERE status = 'processing' AND cert_id < 0 AND "
     "finalized_at <= %lld AND (account_url <> '' OR csr = '') ORDER BY finalized_at, id "
     "LIMIT %d", ORD_NCOLS},
    {"so_acme_cert_last",
     "SELECT COALESCE(MAX(id), 0) FROM certificates WHERE team_id = %lld AND order_id = %lld", 1},
    {"so_acme_certs_after",
     "SELECT " AFTER_COLS " FROM certificates WHERE team_id = %lld AND order_id = %lld AND "
     "id > %lld ORDER BY id LIMIT 100", AFTER_NCOLS},
    {"so_acme_ord_of",
     "SELECT id FROM acme_orders WHERE account_id = %lld ORDER BY id DESC LIMIT 1000", 1},
    {"so_acme_eab_orders",
     "SELECT DISTINCT o.order_id FROM acme_orders o JOIN acme_accounts a ON a.id = o.account_id "
     "WHERE a.eab_kid = %s AND o.order_id > 0 AND o.status = 'valid' ORDER BY o.order_id DESC "
     "LIMIT 1000", 1},
    {"so_acme_ord_by_cert",
     "SELECT " ORD_COLS " FROM acme_orders WHERE cert_id = %lld ORDER BY id LIMIT 1", ORD_NCOLS},
    {"so_acme_authz_insert",
     "INSERT INTO acme_authz (acme_order_id, account_id, name, status, token, chall_type, "
     "validated_at, error, expires_at) VALUES (%lld, %lld, %s, %s, %s, %s, %lld, %s, %lld) "
     "RETURNING id", 1},
    {"so_acme_authz_get", "SELECT " AUTHZ_COLS " FROM acme_authz WHERE id = %lld", AUTHZ_NCOLS},
    {"so_acme_authz_of",
     "SELECT " AUTHZ_COLS " FROM acme_authz WHERE acme_order_id = %lld ORDER BY id",
     AUTHZ_NCOLS},
    {"so_acme_authz_set",
     "UPDATE acme_authz SET status = %s, chall_type = %s, validated_at = %lld, error = %s "
     "WHERE id = %lld", 0},
    {"so_acme_authz_fresh",
     "SELECT MAX(validated_at) FROM acme_authz WHERE account_id = %lld AND name = %s AND "
     "status = 'valid' AND validated_at > %lld", 1},
    {"so_acme_nonce_add", "INSERT INTO acme_nonces (nonce, expires_at) VALUES (%s, %lld)", 0},
    {"so_acme_nonce_use", "DELETE FROM acme_nonces WHERE nonce = %s AND expires_at > %lld", 0},
    {"so_acme_nonce_swap",
     "UPDATE acme_nonces SET nonce = %s, expires_at = %lld WHERE nonce = %s AND expires_at > %lld", 0},
    /* PostgreSQL: the same swap and the account in one round trip (so_store_acme_nonce_account):
     * one row always, the account's columns NULL when there is none, then 1 when the nonce
     * was consumed (a data-modifying CTE runs once, read or not) */
    {"so_acme_nonce_account",
     SO_SQL_PGSQL_ONLY
     "WITH n AS (UPDATE acme_nonces SET nonce = %s, expires_at = %lld WHERE nonce = %s AND "
     "expires_at > %lld RETURNING 1) "
     "SELECT " ACC_COLUMNS_OF(SO_COL_SQL, "a.") ", (SELECT COUNT(*) FROM n), "
     EAB_COLUMNS_OF(SO_COL_SQL, "e.") ", "
     "(SELECT COUNT(*) FROM webhooks w WHERE w.team_id = a.team_id AND w.enabled = 1) "
     "FROM (SELECT 1 AS one) x "
     "LEFT JOIN acme_accounts a ON a.id = %lld LEFT JOIN acme_eab e ON e.kid = a.eab_kid",
     ACC_NCOLS + 1 + EAB_NCOLS + 1},
    {"so_acme_nonce_purge", "DELETE FROM acme_nonces WHERE expires_at <= %lld", 0},
    {"so_acme_cert_by_serial",
     "SELECT " SER_COLS " FROM certificates c "
     "LEFT JOIN acme_renew_early r ON r.order_id = c.order_id WHERE c.serial = %s", SER_NCOLS},
    {"so_acme_replaced",
     "SELECT COUNT(*) FROM acme_orders WHERE replaces = %s AND status <> 'invalid'", 1},
    {"so_acme_rate_hit",
     "INSERT INTO acme_rate (rkey, window_start, hits) VALUES (%s, %lld, 1) ON CONFLICT (rkey) "
     "DO UPDATE SET hits = CASE WHEN acme_rate.window_start = excluded.window_start THEN "
     "acme_rate.hits + 1 ELSE 1 END, window_start = excluded.window_start RETURNING hits", 1},
    {"so_acme_rate_purge", "DELETE FROM acme_rate WHERE window_start < %lld", 0},
    {"so_acme_renew_early_one",
     "INSERT INTO acme_renew_early (order_id, at) VALUES (%lld, %lld) ON CONFLICT (order_id) "
     "DO UPDATE SET at = excluded.at", 0},
    {"so_acme_renew_early_all",
     "INSERT INTO acme_renew_early (order_id, at) SELECT DISTINCT order_id, %lld FROM acme_orders "
     "WHERE order_id > 0 AND cert_id > 0 ON CONFLICT (order_id) DO UPDATE SET at = excluded.at", 0},
    {NULL, NULL, 0}};

static const char *cell_dup(apr_pool_t *p, const so_rows_t *r, int i, int c)
{
    return apr_pstrdup(p, so_cell(r, i, c));
}

/* an EAB from row i, its columns from column `at` on */
static so_acme_eab_t *eab_at(apr_pool_t *p, const so_rows_t *r, int i, int at)
{
    so_acme_eab_t *e = apr_pcalloc(p, sizeof(*e));
    e->kid = cell_dup(p, r, i, at + EAB_KID);
    e->team_id = so_cell_i64(r, i, at + EAB_TEAM_ID);
    e->hmac_key = cell_dup(p, r, i, at + EAB_HMAC_KEY);
    e->order_id = so_cell_i64(r, i, at + EAB_ORDER_ID);
    e->product_id = so_cell_i64(r, i, at + EAB_PRODUCT_ID);
    e->period = so_cell_int(r, i, at + EAB_PERIOD);
    e->names = cell_dup(p, r, i, at + EAB_NAMES);
    e->description = cell_dup(p, r, i, at + EAB_DESCRIPTION);
    e->created_by = so_cell_i64(r, i, at + EAB_CREATED_BY);
    e->created_at = so_cell_i64(r, i, at + EAB_CREATED_AT);
    e->disabled = so_cell_int(r, i, at + EAB_DISABLED);
    return e;
}

static so_acme_eab_t *eab_from(apr_pool_t *p, const so_rows_t *r, int i)
{
    return eab_at(p, r, i, 0);
}

static so_acme_account_t *acc_from(apr_pool_t *p, const so_rows_t *r, int i)
{
    so_acme_account_t *a = apr_pcalloc(p, sizeof(*a));
    a->id = so_cell_i64(r, i, ACC_ID);
    a->team_id = so_cell_i64(r, i, ACC_TEAM_ID);
    a->eab_kid = cell_dup(p, r, i, ACC_EAB_KID);
    a->thumbprint = cell_dup(p, r, i, ACC_THUMBPRINT);
    a->jwk = cell_dup(p, r, i, ACC_JWK);
    a->status = cell_dup(p, r, i, ACC_STATUS);
    a->contact = cell_dup(p, r, i, ACC_CONTACT);
    a->created_at = so_cell_i64(r, i, ACC_CREATED_AT);
    a->last_used_at = so_cell_i64(r, i, ACC_LAST_USED_AT);
    return a;
}

static so_acme_order_t *ord_from(apr_pool_t *p, const so_rows_t *r, int i)
{
    so_acme_order_t *o = apr_pcalloc(p, sizeof(*o));
    o->id = so_cell_i64(r, i, ORD_ID);
    o->account_id = so_cell_i64(r, i, ORD_ACCOUNT_ID);
    o->team_id = so_cell_i64(r, i, ORD_TEAM_ID);
    o->order_id = so_cell_i64(r, i, ORD_ORDER_ID);
    o->status = cell_dup(p, r, i, ORD_STATUS);
    o->identifiers = cell_dup(p, r, i, ORD_IDENTIFIERS);
    o->profile = cell_dup(p, r, i, ORD_PROFILE);
    o->replaces = cell_dup(p, r, i, ORD_REPLACES);
    o->cert_id = so_cell_i64(r, i, ORD_CERT_ID);
    o->error = cell_dup(p, r, i, ORD_ERROR);
    o->expires_at = so_cell_i64(r, i, ORD_EXPIRES_AT);
    o->created_at = so_cell_i64(r, i, ORD_CREATED_AT);
    o->csr = cell_dup(p, r, i, ORD_CSR);
    o->account_url = cell_dup(p, r, i, ORD_ACCOUNT_URL);
    o->finalized_at = so_cell_i64(r, i, ORD_FINALIZED_AT);
    return o;
}

/* an authorization from row i, its columns from column `at` on */
static so_acme_authz_t *authz_at(apr_pool_t *p, const so_rows_t *r, int i, int at)
{
    so_acme_authz_t *a = apr_pcalloc(p, sizeof(*a));
    a->id = so_cell_i64(r, i, at + AUTHZ_ID);
    a->acme_order_id = so_cell_i64(r, i, at + AUTHZ_ACME_ORDER_ID);
    a->account_id = so_cell_i64(r, i, at + AUTHZ_ACCOUNT_ID);
    a->name = cell_dup(p, r, i, at + AUTHZ_NAME);
    a->status = cell_dup(p, r, i, at + AUTHZ_STATUS);
    a->token = cell_dup(p, r, i, at + AUTHZ_TOKEN);
    a->chall_type = cell_dup(p, r, i, at + AUTHZ_CHALL_TYPE);
    a->validated_at = so_cell_i64(r, i, at + AUTHZ_VALIDATED_AT);
    a->error = cell_dup(p, r, i, at + AUTHZ_ERROR);
    a->expires_at = so_cell_i64(r, i, at + AUTHZ_EXPIRES_AT);
    return a;
}

static so_acme_authz_t *authz_from(apr_pool_t *p, const so_rows_t *r, int i)
{
    return authz_at(p, r, i, 0);
}

/* one row by a statement: APR_ENOENT when none */
static apr_status_t one(so_db_t *db, apr_pool_t *p, const char *label, int nargs,
                        const so_arg_t *args, so_rows_t **r)
{
    apr_status_t rv = so_db_select(db, p, label, r, nargs, args);
    if (rv == APR_SUCCESS && (*r)->nrows == 0) {
        return APR_ENOENT;
    }
    return rv;
}

apr_status_t so_store_acme_eab_insert(so_db_t *db, apr_pool_t *p, const so_acme_eab_t *e)
{
    return so_db_exec(db, p, "so_acme_eab_insert", NULL,
                      SO_A(e->kid, e->team_id, e->hmac_key, e->order_id,
                           e->product_id, e->period, e->names, e->description,
                           e->created_by, e->created_at));
}

apr_status_t so_store_acme_eab_get(so_db_t *db, apr_pool_t *p, const char *kid,
                                   so_acme_eab_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_eab_get", SO_A(kid), &r);
    if (rv == APR_SUCCESS) {
        *out = eab_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_eab_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_eab_list", &r, SO_A(team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows + 1, sizeof(so_acme_eab_t *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_acme_eab_t *) = eab_from(p, r, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_eab_disable(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                       const char *kid)
{
    int n = 0;
    apr_status_t rv = so_db_begin(db);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = so_db_exec(db, p, "so_acme_eab_disable", &n, SO_A(team_id, kid));
    if (rv == APR_SUCCESS && n == 0) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_acme_eab_accounts_revoke", NULL, SO_A(kid));
    }
    return so_db_end(db, rv);
}

apr_status_t so_store_acme_account_insert(so_db_t *db, apr_pool_t *p, so_acme_account_t *a)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_acc_insert",
                          SO_A(a->team_id, a->eab_kid, a->thumbprint, a->jwk, a->status,
                               a->contact, a->created_at, a->last_used_at),
                          &r);
    if (rv == APR_SUCCESS) {
        a->id = so_cell_i64(r, 0, 0);
    }
    return rv;
}

apr_status_t so_store_acme_account_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                       so_acme_account_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_acc_get", SO_A(id), &r);
    if (rv == APR_SUCCESS) {
        *out = acc_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_account_by_key(so_db_t *db, apr_pool_t *p, const char *thumbprint,
                                          so_acme_account_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_acc_by_key", SO_A(thumbprint), &r);
    if (rv == APR_SUCCESS) {
        *out = acc_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_account_set(so_db_t *db, apr_pool_t *p, const so_acme_account_t *a)
{
    return so_db_exec(db, p, "so_acme_acc_set", NULL, SO_A(a->status, a->contact, a->id));
}

apr_status_t so_store_acme_account_rekey(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                         const char *old_thumb, const char *jwk,
                                         const char *thumbprint, int *changed)
{
    return so_db_exec(db, p, "so_acme_acc_rekey", changed,
                      SO_A(jwk, thumbprint, id, old_thumb));
}

apr_status_t so_store_acme_account_touch(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                         apr_int64_t now)
{
    /* at most once a minute per account: a busy client does not write on every request */
    return so_db_exec(db, p, "so_acme_acc_touch", NULL, SO_A(now, id, now - 60));
}

apr_status_t so_store_acme_accounts_team(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_acc_team", &r, SO_A(team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows + 1, sizeof(so_acme_account_t *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_acme_account_t *) = acc_from(p, r, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_order_insert(so_db_t *db, apr_pool_t *p, so_acme_order_t *o)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_ord_insert",
                          SO_A(o->account_id, o->team_id, o->order_id, o->status,
                               o->identifiers, o->profile, o->replaces, o->cert_id,
                               o->error, o->expires_at, o->created_at),
                          &r);
    if (rv == APR_SUCCESS) {
        o->id = so_cell_i64(r, 0, 0);
    }
    return rv;
}

/* the reads so_store_acme_ahead sends ahead, by their readers' statements */
#define AHEAD_AUTHZ "so_acme_authz_get"
#define AHEAD_ORDER "so_acme_ord_authzs"
#define AHEAD_CERT "so_acme_ord_cert"

void so_store_acme_ahead(so_db_t *db, so_acme_ahead_t what, apr_int64_t id)
{
    so_db_ahead(db,
                what == SO_ACME_AHEAD_AUTHZ   ? AHEAD_AUTHZ
                : what == SO_ACME_AHEAD_ORDER ? AHEAD_ORDER
                                              : AHEAD_CERT,
                SO_A(id));
}

apr_status_t so_store_acme_order_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     so_acme_order_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_ord_get", SO_A(id), &r);
    if (rv == APR_SUCCESS) {
        *out = ord_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_order_authzs(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                        so_acme_order_t **out, apr_array_header_t **authzs)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = one(db, p, AHEAD_ORDER, SO_A(id), &r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = ord_from(p, r, 0);
    *authzs = apr_array_make(p, r->nrows + 1, sizeof(so_acme_authz_t *));
    for (i = 0; i < r->nrows && !so_cell_isnull(r, i, ORD_NCOLS + AUTHZ_ID); i++) {
        APR_ARRAY_PUSH(*authzs, so_acme_authz_t *) = authz_at(p, r, i, ORD_NCOLS);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_order_cert(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                      so_acme_order_t **out, const char **pem,
                                      const char **intermediate)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, AHEAD_CERT, SO_A(id), &r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = ord_from(p, r, 0);
    *pem = so_cell_isnull(r, 0, ORD_NCOLS) ? NULL : cell_dup(p, r, 0, ORD_NCOLS);
    *intermediate = so_cell_isnull(r, 0, ORD_NCOLS + 1) ? "" : cell_dup(p, r, 0, ORD_NCOLS + 1);
    return APR_SUCCESS;
}

apr_status_t so_store_acme_order_set(so_db_t *db, apr_pool_t *p, const so_acme_order_t *o)
{
    return so_db_exec(db, p, "so_acme_ord_set", NULL,
                      SO_A(o->status, o->order_id, o->cert_id, o->error, o->id));
}

apr_status_t so_store_acme_orders_of(so_db_t *db, apr_pool_t *p, apr_int64_t account_id,
                                     apr_array_header_t **ids)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_ord_of", &r, SO_A(account_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *ids = apr_array_make(p, r->nrows + 1, sizeof(apr_int64_t));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) = so_cell_i64(r, i, 0);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_order_process(so_db_t *db, apr_pool_t *p, so_acme_order_t *o)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_acme_ord_process", &r,
                                   SO_A(o->order_id, o->team_id, o->order_id, o->csr,
                                        o->account_url, o->finalized_at, o->id));
    if (rv == APR_SUCCESS && r->nrows != 1) {
        return APR_EBUSY;
    }
    if (rv == APR_SUCCESS) {
        o->cert_id = so_cell_i64(r, 0, 0);
        o->status = "processing";
        o->error = "";
    }
    return rv;
}

apr_status_t so_store_acme_order_bind(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                      apr_int64_t order_id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_acme_ord_bind", &n, SO_A(order_id, id));
    return rv == APR_SUCCESS && n != 1 ? APR_EBUSY : rv;
}

apr_status_t so_store_acme_orders_stuck(so_db_t *db, apr_pool_t *p, apr_int64_t before, int limit,
                                        apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_ord_stuck", &r, SO_A(before, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows + 1, sizeof(so_acme_order_t *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_acme_order_t *) = ord_from(p, r, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_cert_last(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t order_id, apr_int64_t *cert_id)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_cert_last", SO_A(team_id, order_id), &r);
    *cert_id = rv == APR_SUCCESS ? so_cell_i64(r, 0, 0) : 0;
    return rv;
}

apr_status_t so_store_acme_certs_after(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                       apr_int64_t order_id, apr_int64_t after,
                                       apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_certs_after", &r,
                                   SO_A(team_id, order_id, after));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows + 1, sizeof(so_acme_cert_t *));
    for (i = 0; i < r->nrows; i++) {
        so_acme_cert_t *c = apr_pcalloc(p, sizeof(*c));
        c->id = so_cell_i64(r, i, AFTER_ID);
        c->order_id = order_id;
        c->team_id = team_id;
        c->names = cell_dup(p, r, i, AFTER_NAMES);
        c->pem = cell_dup(p, r, i, AFTER_PEM);
        c->spki_sha256 = cell_dup(p, r, i, AFTER_SPKI);
        APR_ARRAY_PUSH(*out, so_acme_cert_t *) = c;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_order_by_cert(so_db_t *db, apr_pool_t *p, apr_int64_t cert_id,
                                         so_acme_order_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_ord_by_cert", SO_A(cert_id), &r);
    if (rv == APR_SUCCESS) {
        *out = ord_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_authz_insert(so_db_t *db, apr_pool_t *p, so_acme_authz_t *a,
                                        int *ended)
{
    so_rows_t *r;
    apr_status_t rv = APR_ENOTIMPL;
#define AUTHZ_ARGS                                                                          \
    SO_A(a->acme_order_id, a->account_id, a->name, a->status, a->token, a->chall_type,      \
         a->validated_at, a->error, a->expires_at)
    if (ended) {
        rv = so_db_select_commit(db, p, "so_acme_authz_insert", &r, AUTHZ_ARGS);
        *ended = rv != APR_ENOTIMPL;
    }
    if (rv == APR_ENOTIMPL) {
        rv = so_db_select(db, p, "so_acme_authz_insert", &r, AUTHZ_ARGS);
    }
#undef AUTHZ_ARGS
    if (rv == APR_SUCCESS && r->nrows == 0) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        a->id = so_cell_i64(r, 0, 0);
    }
    return rv;
}

apr_status_t so_store_acme_authz_get(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     so_acme_authz_t **out)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, AHEAD_AUTHZ, SO_A(id), &r);
    if (rv == APR_SUCCESS) {
        *out = authz_from(p, r, 0);
    }
    return rv;
}

apr_status_t so_store_acme_authz_of(so_db_t *db, apr_pool_t *p, apr_int64_t acme_order_id,
                                    apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_authz_of", &r, SO_A(acme_order_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows + 1, sizeof(so_acme_authz_t *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_acme_authz_t *) = authz_from(p, r, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_authz_set(so_db_t *db, apr_pool_t *p, const so_acme_authz_t *a)
{
    return so_db_exec(db, p, "so_acme_authz_set", NULL,
                      SO_A(a->status, a->chall_type, a->validated_at, a->error, a->id));
}

apr_status_t so_store_acme_authz_fresh(so_db_t *db, apr_pool_t *p, apr_int64_t account_id,
                                       const char *name, apr_int64_t since, apr_int64_t *at)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_acme_authz_fresh", &r,
                                   SO_A(account_id, name, since));
    *at = 0;
    if (rv == APR_SUCCESS && r->nrows && !so_cell_isnull(r, 0, 0)) {
        *at = so_cell_i64(r, 0, 0);
    }
    return rv;
}

apr_status_t so_store_acme_nonce_add(so_db_t *db, apr_pool_t *p, const char *nonce,
                                     apr_int64_t expires_at)
{
    return so_db_exec(db, p, "so_acme_nonce_add", NULL, SO_A(nonce, expires_at));
}

apr_status_t so_store_acme_nonce_use(so_db_t *db, apr_pool_t *p, const char *nonce,
                                     apr_int64_t now)
{
    int n = 0;
    /* one DELETE: of two servers consuming the same nonce at once, one deletes the row */
    apr_status_t rv = so_db_exec(db, p, "so_acme_nonce_use", &n, SO_A(nonce, now));
    if (rv == APR_SUCCESS && n != 1) {
        return APR_ENOENT;
    }
    return rv;
}

apr_status_t so_store_acme_nonce_swap(so_db_t *db, apr_pool_t *p, const char *nonce,
                                      apr_int64_t now, const char *next, apr_int64_t expires_at)
{
    int n = 0;
    /* one UPDATE: the row of the nonce consumed becomes the next one's; of two servers
     * consuming the same nonce at once, one changes the row, the other finds none */
    apr_status_t rv = so_db_exec(db, p, "so_acme_nonce_swap", &n,
                                 SO_A(next, expires_at, nonce, now));
    if (rv == APR_SUCCESS && n != 1) {
        return APR_ENOENT;
    }
    return rv;
}

apr_status_t so_store_acme_nonce_account(so_db_t *db, apr_pool_t *p, const char *nonce,
                                        apr_int64_t now, const char *next,
                                        apr_int64_t expires_at, apr_int64_t id,
                                        so_acme_account_t **out)
{
    so_rows_t *r;
    apr_status_t rv;
    *out = NULL;
    if (db->kind != SO_DB_PGSQL) {
        return APR_ENOTIMPL;
    }
    rv = so_db_select(db, p, "so_acme_nonce_account", &r, SO_A(next, expires_at, nonce, now, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows != 1 || so_cell_i64(r, 0, ACC_NCOLS) != 1) {
        return APR_ENOENT;
    }
    if (!so_cell_isnull(r, 0, ACC_ID)) {
        *out = acc_from(p, r, 0);
        if (!so_cell_isnull(r, 0, ACC_NCOLS + 1 + EAB_KID)) {
            (*out)->eab = eab_at(p, r, 0, ACC_NCOLS + 1);
        }
        (*out)->no_hooks = so_cell_i64(r, 0, ACC_NCOLS + 1 + EAB_NCOLS) == 0;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_nonce_purge(so_db_t *db, apr_pool_t *p, apr_int64_t now)
{
    apr_status_t rv = so_db_exec(db, p, "so_acme_nonce_purge", NULL, SO_A(now));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_acme_rate_purge", NULL, SO_A(now - 7200));
    }
    return rv;
}

apr_status_t so_store_acme_rate_hit(so_db_t *db, apr_pool_t *p, const char *key,
                                    apr_int64_t window_start, int *hits)
{
    so_rows_t *r;
    apr_status_t rv = one(db, p, "so_acme_rate_hit", SO_A(key, window_start), &r);
    *hits = rv == APR_SUCCESS ? so_cell_int(r, 0, 0) : 0;
    return rv;
}

apr_status_t so_store_acme_renew_early(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       apr_int64_t at, int *n)
{
    if (order_id > 0) {
        return so_db_exec(db, p, "so_acme_renew_early_one", n, SO_A(order_id, at));
    }
    return so_db_exec(db, p, "so_acme_renew_early_all", n, SO_A(at));
}

apr_status_t so_store_acme_eab_orders(so_db_t *db, apr_pool_t *p, const char *kid,
                                      apr_array_header_t **ids)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_acme_eab_orders", &r, SO_A(kid));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *ids = apr_array_make(p, r->nrows + 1, sizeof(apr_int64_t));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) = so_cell_i64(r, i, 0);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_acme_cert(so_db_t *db, apr_pool_t *p, const char *serial,
                                so_acme_cert_t **out)
{
    so_rows_t *r;
    so_acme_cert_t *c;
    apr_status_t rv = one(db, p, "so_acme_cert_by_serial", SO_A(serial), &r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->id = so_cell_i64(r, 0, SER_ID);
    c->order_id = so_cell_i64(r, 0, SER_ORDER_ID);
    c->team_id = so_cell_i64(r, 0, SER_TEAM_ID);
    c->names = cell_dup(p, r, 0, SER_NAMES);
    c->not_before = so_cell_i64(r, 0, SER_NOT_BEFORE);
    c->not_after = so_cell_i64(r, 0, SER_NOT_AFTER);
    c->revoked_at = so_cell_i64(r, 0, SER_REVOKED_AT);
    c->created_at = so_cell_i64(r, 0, SER_CREATED_AT);
    c->pem = cell_dup(p, r, 0, SER_PEM);
    c->renew_early_at = so_cell_i64(r, 0, SER_RENEW_EARLY_AT);
    *out = c;
    return APR_SUCCESS;
}

apr_status_t so_store_acme_replaced(so_db_t *db, apr_pool_t *p, const char *cert_id, int *n)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_acme_replaced", &r, SO_A(cert_id));
    *n = rv == APR_SUCCESS && r->nrows ? so_cell_int(r, 0, 0) : 0;
    return rv;
}
