/* mod_sslorders: idempotency keys (a request answered once per key) and the one-time
 * tokens of downloads; their tables are created by so_store_order.c's migrations. */
#include <apr_strings.h>

#include "so_store_order.h"
#include "so_stmts.h"
#include "../core/so_crypto.h"
#include "../core/so_util.h"

/* a stored idempotent request */
#define IDEM_COLUMNS(X) X(IDEM_REQUEST_HASH, "request_hash") X(IDEM_STATUS, ", status") \
    X(IDEM_RESPONSE, ", response")
enum { IDEM_COLUMNS(SO_COL_POS) IDEM_NCOLS };
#define IDEM_COLS IDEM_COLUMNS(SO_COL_SQL)

/* what a one-time token opens */
#define OTP_COLUMNS(X) X(OTP_TEAM_ID, "team_id") X(OTP_ORDER_ID, ", order_id")
enum { OTP_COLUMNS(SO_COL_POS) OTP_NCOLS };
#define OTP_COLS OTP_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_idem[] = {
    {"so_idem_insert",
     "INSERT INTO idempotency_keys (team_id, idem_key, request_hash, created_at) "
     "VALUES (%lld, %s, %s, %lld)", 0},
    {"so_idem_finish",
     "UPDATE idempotency_keys SET status = %d, response = %s WHERE team_id = %lld AND idem_key = %s", 0},
    {"so_idem_get",
     "SELECT " IDEM_COLS " FROM idempotency_keys WHERE team_id = %lld AND idem_key = %s",
     IDEM_NCOLS},
    {"so_idem_purge", "DELETE FROM idempotency_keys WHERE created_at < %lld", 0},
    {"so_otp_insert",
     "INSERT INTO otp_tokens (token_hash, order_id, team_id, created_at, expires_at) "
     "VALUES (%s, %lld, %lld, %lld, %lld)", 0},
    {"so_otp_lookup",
     "SELECT " OTP_COLS " FROM otp_tokens WHERE token_hash = %s AND expires_at > %lld", OTP_NCOLS},
    {NULL, NULL, 0}};

apr_status_t so_store_idem_claim(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                                 const char *request_hash, apr_int64_t now)
{
    return so_db_exec(db, p, "so_idem_insert", NULL, SO_A(team_id, key, request_hash, now));
}

apr_status_t so_store_idem_finish(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                                  int status, const char *response)
{
    return so_db_exec(db, p, "so_idem_finish", NULL, SO_A(status, response, team_id, key));
}

apr_status_t so_store_idem_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                               const char **request_hash, int *status, const char **response)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_idem_get", &rows, SO_A(team_id, key));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *request_hash = so_cell(rows, 0, IDEM_REQUEST_HASH);
    *status = so_cell_int(rows, 0, IDEM_STATUS);
    *response = so_cell(rows, 0, IDEM_RESPONSE);
    return APR_SUCCESS;
}

apr_status_t so_store_idem_purge(so_db_t *db, apr_pool_t *p, apr_int64_t before)
{
    return so_db_exec(db, p, "so_idem_purge", NULL, SO_A(before));
}

apr_status_t so_store_otp_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, apr_int64_t now, apr_int64_t ttl,
                                 const char **token, apr_int64_t *expires_at)
{
    const char *t;
    apr_status_t rv;

    if ((rv = so_random_chars(&t, p, 32,
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"))
        != APR_SUCCESS) {
        return rv;
    }
    *expires_at = now + ttl;
    rv = so_db_exec(db, p, "so_otp_insert", NULL,
                    SO_A(so_secret_hash(p, t), order_id, team_id, now, *expires_at));
    if (rv == APR_SUCCESS) {
        *token = t;
    }
    return rv;
}

apr_status_t so_store_otp_lookup(so_db_t *db, apr_pool_t *p, const char *token, apr_int64_t now,
                                 apr_int64_t *team_id, apr_int64_t *order_id)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_otp_lookup", &rows, SO_A(so_secret_hash(p, token), now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *team_id = so_cell_i64(rows, 0, OTP_TEAM_ID);
    *order_id = so_cell_i64(rows, 0, OTP_ORDER_ID);
    return APR_SUCCESS;
}
