/* mod_sslorders: Baseline Requirements check results per name. See so_store_br.h. */
#include <apr_strings.h>

#include "so_migrations.h"
#include "so_stmts.h"
#include "so_store_br.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_br[] = {
    {650, "br_checks",
     "CREATE TABLE order_br_checks (order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE "
     "CASCADE, host_name VARCHAR(255) NOT NULL, kind VARCHAR(16) NOT NULL, status VARCHAR(16) "
     "NOT NULL, domain VARCHAR(255) NOT NULL DEFAULT '', record TEXT NOT NULL DEFAULT '', detail "
     "TEXT NOT NULL DEFAULT '', secure INTEGER NOT NULL DEFAULT 0, checked_at BIGINT NOT NULL, "
     "PRIMARY KEY (order_id, host_name, kind))"},
    {651, "blocked keys (revoked for key compromise)",
     "CREATE TABLE blocked_keys (spki_sha256 VARCHAR(64) PRIMARY KEY, reason INTEGER NOT NULL, "
     "serial TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL)"},
    {0, NULL, NULL}};

/* a name's check result */
#define BR_COLUMNS(X) X(BR_HOST_NAME, "host_name") X(BR_KIND, ", kind") X(BR_STATUS, ", status") \
    X(BR_DOMAIN, ", domain") X(BR_RECORD, ", record") X(BR_DETAIL, ", detail") \
    X(BR_SECURE, ", secure") X(BR_CHECKED_AT, ", checked_at")
enum { BR_COLUMNS(SO_COL_POS) BR_NCOLS };
#define BR_COLS BR_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_br[] = {
    {"so_br_check_set",
     "INSERT INTO order_br_checks (order_id, host_name, kind, status, domain, record, detail, "
     "secure, checked_at) VALUES (%lld, %s, %s, %s, %s, %s, %s, %d, %lld) "
     "ON CONFLICT (order_id, host_name, kind) DO UPDATE SET status = excluded.status, "
     "domain = excluded.domain, record = excluded.record, detail = excluded.detail, "
     "secure = excluded.secure, checked_at = excluded.checked_at", 0},
    {"so_br_checks",
     "SELECT " BR_COLS " FROM order_br_checks WHERE order_id = %lld "
     "ORDER BY host_name, kind", BR_NCOLS},
    {"so_key_block",
     "INSERT INTO blocked_keys (spki_sha256, reason, serial, created_at) VALUES (%s, %d, %s, "
     "%lld) ON CONFLICT (spki_sha256) DO NOTHING", 0},
    {"so_key_blocked", "SELECT serial FROM blocked_keys WHERE spki_sha256 = %s", 1},
    {NULL, NULL, 0}};


apr_status_t so_store_br_check_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                   const so_br_check_t *c)
{
    /* one statement (the row's key is the primary key) */
    return so_db_exec(db, p, "so_br_check_set", NULL,
                      SO_A(order_id, c->host_name, c->kind, c->status,
                           c->domain ? c->domain : "", c->record ? c->record : "",
                           c->detail ? c->detail : "", c->secure ? 1 : 0,
                           c->checked_at));
}

apr_status_t so_store_br_checks(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_br_checks", &r, SO_A(order_id));
    *out = apr_array_make(p, r && rv == APR_SUCCESS ? r->nrows : 0, sizeof(so_br_check_t));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < r->nrows; i++) {
        so_br_check_t *c = apr_array_push(*out);
        c->host_name = so_cell(r, i, BR_HOST_NAME);
        c->kind = so_cell(r, i, BR_KIND);
        c->status = so_cell(r, i, BR_STATUS);
        c->domain = so_cell(r, i, BR_DOMAIN);
        c->record = so_cell(r, i, BR_RECORD);
        c->detail = so_cell(r, i, BR_DETAIL);
        c->secure = so_cell_int(r, i, BR_SECURE);
        c->checked_at = so_cell_i64(r, i, BR_CHECKED_AT);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_key_block(so_db_t *db, apr_pool_t *p, const char *spki_sha256, int reason,
                                const char *serial, apr_int64_t now)
{
    /* a key blocked before keeps its first row (ON CONFLICT DO NOTHING) */
    return so_db_exec(db, p, "so_key_block", NULL,
                      SO_A(spki_sha256, reason, serial, now));
}

apr_status_t so_store_key_blocked(so_db_t *db, apr_pool_t *p, const char *spki_sha256,
                                  const char **serial)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_key_blocked", &r, SO_A(spki_sha256));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *serial = so_cell(r, 0, 0);
    return APR_SUCCESS;
}
