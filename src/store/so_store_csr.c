#include <string.h>

#include <apr_strings.h>

#include "so_store_csr.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_csr[] = {
    {410, "managed_csrs",
     "CREATE TABLE managed_csrs (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  friendly_name TEXT NOT NULL DEFAULT '',\n"
     "  csr TEXT NOT NULL,\n"
     "  common_name TEXT NOT NULL DEFAULT '',\n"
     "  organization TEXT NOT NULL DEFAULT '',\n"
     "  unit TEXT NOT NULL DEFAULT '',\n"
     "  locality TEXT NOT NULL DEFAULT '',\n"
     "  state TEXT NOT NULL DEFAULT '',\n"
     "  country TEXT NOT NULL DEFAULT '',\n"
     "  email TEXT NOT NULL DEFAULT '',\n"
     "  names TEXT NOT NULL DEFAULT '',\n"
     "  key_type TEXT NOT NULL,\n"
     "  key_bits INTEGER NOT NULL,\n"
     "  curve TEXT NOT NULL DEFAULT '',\n"
     "  public_key_sha1 TEXT NOT NULL,\n"
     "  md5 TEXT NOT NULL,\n"
     "  sha1 TEXT NOT NULL,\n"
     "  sha256 TEXT NOT NULL,\n"
     "  signature_algorithm TEXT NOT NULL DEFAULT '',\n"
     "  created_by BIGINT,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL);\n"
     "CREATE UNIQUE INDEX managed_csrs_md5 ON managed_csrs (team_id, md5);\n"
     "CREATE INDEX managed_csrs_team ON managed_csrs (team_id, id);\n"
     "CREATE INDEX orders_team_csr_md5 ON orders (team_id, csr_md5)"},
    {0, NULL, NULL}};

/* a managed CSR with the number of the team's orders made from it */
#define CSR_COLUMNS(X)                                                                            \
    X(CSR_ID, "m.id") X(CSR_TEAM_ID, ", m.team_id") X(CSR_FRIENDLY_NAME, ", m.friendly_name")     \
    X(CSR_CSR, ", m.csr") X(CSR_COMMON_NAME, ", m.common_name")                                   \
    X(CSR_ORGANIZATION, ", m.organization") X(CSR_UNIT, ", m.unit")                               \
    X(CSR_LOCALITY, ", m.locality") X(CSR_STATE, ", m.state") X(CSR_COUNTRY, ", m.country")       \
    X(CSR_EMAIL, ", m.email") X(CSR_NAMES, ", m.names") X(CSR_KEY_TYPE, ", m.key_type")           \
    X(CSR_KEY_BITS, ", m.key_bits") X(CSR_CURVE, ", m.curve")                                     \
    X(CSR_PUBLIC_KEY_SHA1, ", m.public_key_sha1") X(CSR_MD5, ", m.md5") X(CSR_SHA1, ", m.sha1")   \
    X(CSR_SHA256, ", m.sha256") X(CSR_SIGNATURE_ALGORITHM, ", m.signature_algorithm")             \
    X(CSR_CREATED_BY, ", m.created_by") X(CSR_CREATED_AT, ", m.created_at")                       \
    X(CSR_UPDATED_AT, ", m.updated_at")                                                           \
    X(CSR_ORDERS,                                                                                 \
      ", (SELECT COUNT(*) FROM orders o WHERE o.team_id = m.team_id AND o.csr_md5 = m.md5)")
enum { CSR_COLUMNS(SO_COL_POS) CSR_NCOLS };
#define CSR_COLS CSR_COLUMNS(SO_COL_SQL)

/* an order made from a CSR */
#define CSRO_COLUMNS(X) X(CSRO_ID, "id") X(CSRO_COMMON_NAME, ", common_name") \
    X(CSRO_STATUS, ", status") X(CSRO_ORDER_DATE, ", order_date")
enum { CSRO_COLUMNS(SO_COL_POS) CSRO_NCOLS };
#define CSRO_COLS CSRO_COLUMNS(SO_COL_SQL)

#define CSR_MATCH                                                                                 \
    "m.team_id = %lld AND (%s = '' OR LOWER(m.friendly_name) LIKE %s ESCAPE '\\' OR "              \
    "m.common_name LIKE %s ESCAPE '\\' OR m.names LIKE %s ESCAPE '\\')"

const so_stmt_def_t so_stmts_csr[] = {
    {"so_csr_insert",
     "INSERT INTO managed_csrs (team_id, friendly_name, csr, common_name, organization, unit, "
     "locality, state, country, email, names, key_type, key_bits, curve, public_key_sha1, md5, "
     "sha1, sha256, signature_algorithm, created_by, created_at, updated_at) VALUES (%lld, %s, %s, "
     "%s, %s, %s, %s, %s, %s, %s, %s, %s, %d, %s, %s, %s, %s, %s, %s, %lld, %lld, %lld) RETURNING id", 1},
    {"so_csr_get",
     "SELECT " CSR_COLS " FROM managed_csrs m WHERE m.team_id = %lld AND m.id = %lld", CSR_NCOLS},
    {"so_csr_by_md5",
     "SELECT " CSR_COLS " FROM managed_csrs m WHERE m.team_id = %lld AND m.md5 = %s", CSR_NCOLS},
    {"so_csrs_count", "SELECT COUNT(*) FROM managed_csrs m WHERE " CSR_MATCH, 1},
    {"so_csrs_list",
     "SELECT " CSR_COLS " FROM managed_csrs m WHERE " CSR_MATCH
     " ORDER BY m.id DESC LIMIT %d OFFSET %d", CSR_NCOLS},
    {"so_csr_rename",
     "UPDATE managed_csrs SET friendly_name = %s, updated_at = %lld WHERE team_id = %lld AND id = %lld", 0},
    {"so_csr_delete", "DELETE FROM managed_csrs WHERE team_id = %lld AND id = %lld", 0},
    {"so_csr_orders",
     "SELECT " CSRO_COLS " FROM orders WHERE team_id = %lld AND csr_md5 = %s "
     "ORDER BY id DESC LIMIT %d", CSRO_NCOLS},
    {NULL, NULL, 0}};

#include "so_store.h"

static so_managed_csr_t *from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_managed_csr_t *c = apr_pcalloc(p, sizeof(*c));
    c->id = so_cell_i64(r, i, CSR_ID);
    c->team_id = so_cell_i64(r, i, CSR_TEAM_ID);
    c->friendly_name = so_cell(r, i, CSR_FRIENDLY_NAME);
    c->csr = so_cell(r, i, CSR_CSR);
    c->common_name = so_cell(r, i, CSR_COMMON_NAME);
    c->organization = so_cell(r, i, CSR_ORGANIZATION);
    c->unit = so_cell(r, i, CSR_UNIT);
    c->locality = so_cell(r, i, CSR_LOCALITY);
    c->state = so_cell(r, i, CSR_STATE);
    c->country = so_cell(r, i, CSR_COUNTRY);
    c->email = so_cell(r, i, CSR_EMAIL);
    c->names = so_cell(r, i, CSR_NAMES);
    c->key_type = so_cell(r, i, CSR_KEY_TYPE);
    c->key_bits = so_cell_int(r, i, CSR_KEY_BITS);
    c->curve = so_cell(r, i, CSR_CURVE);
    c->public_key_sha1 = so_cell(r, i, CSR_PUBLIC_KEY_SHA1);
    c->md5 = so_cell(r, i, CSR_MD5);
    c->sha1 = so_cell(r, i, CSR_SHA1);
    c->sha256 = so_cell(r, i, CSR_SHA256);
    c->signature_algorithm = so_cell(r, i, CSR_SIGNATURE_ALGORITHM);
    c->created_by = so_cell_i64(r, i, CSR_CREATED_BY);
    c->created_at = so_cell_i64(r, i, CSR_CREATED_AT);
    c->updated_at = so_cell_i64(r, i, CSR_UPDATED_AT);
    c->orders = so_cell_i64(r, i, CSR_ORDERS);
    return c;
}

apr_status_t so_store_csr_insert(so_db_t *db, apr_pool_t *p, so_managed_csr_t *c)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(
        db, p, "so_csr_insert", &rows,
        SO_A(c->team_id, c->friendly_name, c->csr, c->common_name, c->organization, c->unit,
             c->locality, c->state, c->country, c->email, c->names, c->key_type, c->key_bits,
             c->curve, c->public_key_sha1, c->md5, c->sha1, c->sha256, c->signature_algorithm,
             SO_ID(c->created_by), c->created_at, c->updated_at));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->id = so_cell_i64(rows, 0, 0);
    return APR_SUCCESS;
}

static apr_status_t get_one(so_db_t *db, apr_pool_t *p, const char *label, so_managed_csr_t **out,
                            int nargs, const so_arg_t *args)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, label, &rows, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_csr_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                              so_managed_csr_t **out)
{
    return get_one(db, p, "so_csr_get", out, SO_A(team_id, id));
}

apr_status_t so_store_csr_by_md5(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *md5,
                                 so_managed_csr_t **out)
{
    return get_one(db, p, "so_csr_by_md5", out, SO_A(team_id, md5));
}

apr_status_t so_store_csrs(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *pattern,
                           int limit, int offset, apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    const char *pat = pattern ? pattern : "";
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_csrs_count", &count, SO_A(team_id, pat, pat, pat, pat)))
            != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_csrs_list", &rows,
                              SO_A(team_id, pat, pat, pat, pat, limit, offset)))
               != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_managed_csr_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_managed_csr_t *) = from_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_csr_rename(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 const char *friendly_name, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_csr_rename", &n,
                                 SO_A(friendly_name, now, team_id, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_csr_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_csr_delete", &n, SO_A(team_id, id));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_csr_orders(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *md5,
                                 int limit, apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_csr_orders", &rows, SO_A(team_id, md5, limit));
    int i;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_csr_order_t));
    for (i = 0; i < rows->nrows; i++) {
        so_csr_order_t *o = apr_array_push(*out);
        o->id = so_cell_i64(rows, i, CSRO_ID);
        o->common_name = so_cell(rows, i, CSRO_COMMON_NAME);
        o->status = so_cell(rows, i, CSRO_STATUS);
        o->order_date = so_cell_i64(rows, i, CSRO_ORDER_DATE);
    }
    return APR_SUCCESS;
}
