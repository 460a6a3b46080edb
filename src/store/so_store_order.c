#include <stdarg.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "so_store_order.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "so_store_org.h"
#include "../core/so_log.h"
#include "../core/so_util.h"

/* one trigger: AFTER ev ON tbl, team is an SQL expression of NEW or OLD */
#define VERSION_TRIGGER(tbl, ev, team)                                                         \
    "{{SQLITE}}CREATE TRIGGER " tbl "_version_" ev " AFTER " ev " ON " tbl " BEGIN "          \
    "INSERT INTO team_versions (team_id, version) VALUES (" team ", 1) "                      \
    "ON CONFLICT (team_id) DO UPDATE SET version = version + 1; END;\n"
/* the same through the order of the row (a cascade may have removed it already: the
 * order's own trigger counts then) */
#define VERSION_TRIGGER_VIA(tbl, ev, row)                                                     \
    "{{SQLITE}}CREATE TRIGGER " tbl "_version_" ev " AFTER " ev " ON " tbl " BEGIN "          \
    "INSERT INTO team_versions (team_id, version) SELECT team_id, 1 FROM orders WHERE "       \
    "id = " row ".order_id ON CONFLICT (team_id) DO UPDATE SET version = version + 1; END;\n"
/* INSERT, UPDATE and DELETE of tbl, which has a team_id or (_ORDER) an order_id */
#define VERSION_TRIGGERS_TEAM(tbl)                                                             \
    VERSION_TRIGGER(tbl, "INSERT", "NEW.team_id")                                              \
    VERSION_TRIGGER(tbl, "UPDATE", "NEW.team_id")                                              \
    VERSION_TRIGGER(tbl, "DELETE", "OLD.team_id")
#define VERSION_TRIGGERS_ORDER(tbl)                                                            \
    VERSION_TRIGGER_VIA(tbl, "INSERT", "NEW")                                                  \
    VERSION_TRIGGER_VIA(tbl, "UPDATE", "NEW")                                                  \
    VERSION_TRIGGER_VIA(tbl, "DELETE", "OLD")

/* PostgreSQL: a statement trigger per event, each with its rows as "changed" */
#define CHANGE_TRIGGER(tbl, ev, rows, fn)                                                      \
    "{{PGSQL}}CREATE TRIGGER " tbl "_changes_" ev " AFTER " ev " ON " tbl " REFERENCING "    \
    rows " TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION " fn "();\n"
#define CHANGE_TRIGGERS(tbl, fn)                                                               \
    CHANGE_TRIGGER(tbl, "INSERT", "NEW", fn)                                                   \
    CHANGE_TRIGGER(tbl, "UPDATE", "NEW", fn)                                                   \
    CHANGE_TRIGGER(tbl, "DELETE", "OLD", fn)

const so_migration_t so_migrations_order[] = {
    {110, "orders",
     "CREATE TABLE orders (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  product_id BIGINT NOT NULL REFERENCES products(id),\n"
     "  status TEXT NOT NULL,\n"
     "  period INTEGER NOT NULL,\n"
     "  domain_amount INTEGER NOT NULL DEFAULT 0,\n"
     "  wildcard_domain_amount INTEGER NOT NULL DEFAULT 0,\n"
     "  common_name TEXT NOT NULL DEFAULT '',\n"
     "  csr TEXT NOT NULL DEFAULT '',\n"
     "  organization_unit TEXT NOT NULL DEFAULT '',\n"
     "  software TEXT NOT NULL DEFAULT '',\n"
     "  organization_handle TEXT NOT NULL DEFAULT '',\n"
     "  technical_handle TEXT NOT NULL DEFAULT '',\n"
     "  administrative_handle TEXT NOT NULL DEFAULT '',\n"
     "  billing_handle TEXT NOT NULL DEFAULT '',\n"
     "  approver_email TEXT NOT NULL DEFAULT '',\n"
     "  autorenew INTEGER NOT NULL DEFAULT 0,\n"
     "  signature_hash_algorithm TEXT NOT NULL DEFAULT 'sha2',\n"
     "  enable_dns_automation INTEGER NOT NULL DEFAULT 0,\n"
     "  dcv_unique TEXT NOT NULL DEFAULT '',\n"
     "  csr_md5 TEXT NOT NULL DEFAULT '',\n"
     "  csr_sha1 TEXT NOT NULL DEFAULT '',\n"
     "  csr_sha256 TEXT NOT NULL DEFAULT '',\n"
     "  price BIGINT NOT NULL,\n"
     "  currency TEXT NOT NULL,\n"
     "  order_date BIGINT NOT NULL,\n"
     "  active_date BIGINT NOT NULL DEFAULT 0,\n"
     "  expiration_date BIGINT NOT NULL DEFAULT 0,\n"
     "  order_ends_at BIGINT NOT NULL DEFAULT 0,\n"
     "  reissue_at BIGINT NOT NULL DEFAULT 0,\n"
     "  cancelled_at BIGINT NOT NULL DEFAULT 0,\n"
     "  version INTEGER NOT NULL DEFAULT 1,\n"
     "  created_by BIGINT,\n"
     "  updated_at BIGINT NOT NULL);\n"
     "CREATE INDEX orders_team_date ON orders (team_id, order_date);\n"
     "CREATE INDEX orders_team_status_exp ON orders (team_id, status, expiration_date);\n"
     "CREATE INDEX orders_team_exp ON orders (team_id, expiration_date);\n"
     "CREATE INDEX orders_team_cn ON orders (team_id, common_name);\n"
     "CREATE TABLE order_hostnames (\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  position INTEGER NOT NULL,\n"
     "  host_name TEXT NOT NULL,\n"
     "  method TEXT NOT NULL DEFAULT '',\n"
     "  PRIMARY KEY (order_id, host_name));\n"
     "CREATE INDEX order_hostnames_name ON order_hostnames (host_name);\n"
     "CREATE TABLE order_events (\n"
     "  id {{ID}},\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  user_id BIGINT,\n"
     "  actor TEXT NOT NULL DEFAULT '',\n"
     "  kind TEXT NOT NULL,\n"
     "  detail TEXT NOT NULL DEFAULT '{}',\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE INDEX order_events_order ON order_events (order_id, id);\n"
     "CREATE TABLE idempotency_keys (\n"
     "  team_id BIGINT NOT NULL,\n"
     "  idem_key TEXT NOT NULL,\n"
     "  request_hash TEXT NOT NULL,\n"
     "  status INTEGER NOT NULL DEFAULT 0,\n"
     "  response TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (team_id, idem_key));\n"
     "CREATE INDEX idempotency_created ON idempotency_keys (created_at);\n"
     "CREATE TABLE otp_tokens (\n"
     "  id {{ID}},\n"
     "  token_hash TEXT NOT NULL UNIQUE,\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL)"},
    /* SQLite: a version per team that every change of what an order list shows
     * increases (the list page cache, so_api_orders.c). Triggers see every writer:
     * the API, background jobs, sslordersctl and cascades. SQLite has one writer at a
     * time, so the counter costs no lock order; on PostgreSQL a counter row would make
     * a team's writers wait for each other (and deadlock): see 501. */
    {500, "order list versions",
     "CREATE INDEX order_hostnames_position ON order_hostnames (order_id, position, host_name, "
     "method);\n"
     "{{SQLITE}}CREATE TABLE team_versions (team_id INTEGER PRIMARY KEY, version BIGINT NOT NULL);\n"
     VERSION_TRIGGERS_TEAM("orders")
     VERSION_TRIGGERS_ORDER("order_hostnames")
     VERSION_TRIGGERS_TEAM("certificates")
     VERSION_TRIGGERS_TEAM("folders")
     VERSION_TRIGGERS_TEAM("tags")
     VERSION_TRIGGERS_TEAM("order_tags")
     VERSION_TRIGGERS_TEAM("certificate_tags")
     /* the catalogue (product names) is every team's: version row 0 */
     VERSION_TRIGGER("products", "INSERT", "0")
     VERSION_TRIGGER("products", "UPDATE", "0")
     VERSION_TRIGGER("products", "DELETE", "0")},
    /* PostgreSQL: the same version without a row every writer of a team would lock.
     * Statement triggers append a row per team to team_change_log (no lock shared by
     * writers); a team's version is the number of its committed changes: the rows of
     * the log plus what the background job folded into team_change_base (one
     * statement moves them, so a reader sees the same sum before and after). Any
     * commit adds a row: the number only grows, out of order commits included. */
    {501, "order list versions for PostgreSQL",
     "{{PGSQL}}CREATE TABLE team_change_log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY "
     "KEY, team_id BIGINT NOT NULL);\n"
     "{{PGSQL}}CREATE INDEX team_change_log_team ON team_change_log (team_id);\n"
     "{{PGSQL}}CREATE TABLE team_change_base (team_id BIGINT PRIMARY KEY, changes BIGINT NOT "
     "NULL);\n"
     "{{PGSQL}}CREATE FUNCTION so_changes_by_team() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN INSERT INTO team_change_log (team_id) SELECT DISTINCT team_id FROM changed; "
     "RETURN NULL; END $$;\n"
     "{{PGSQL}}CREATE FUNCTION so_changes_by_order() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN INSERT INTO team_change_log (team_id) SELECT DISTINCT o.team_id FROM changed c "
     "JOIN orders o ON o.id = c.order_id; RETURN NULL; END $$;\n"
     "{{PGSQL}}CREATE FUNCTION so_changes_everyone() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN IF EXISTS (SELECT 1 FROM changed) THEN INSERT INTO team_change_log (team_id) "
     "VALUES (0); END IF; RETURN NULL; END $$;\n"
     CHANGE_TRIGGERS("orders", "so_changes_by_team")
     CHANGE_TRIGGERS("order_hostnames", "so_changes_by_order")
     CHANGE_TRIGGERS("certificates", "so_changes_by_team")
     CHANGE_TRIGGERS("folders", "so_changes_by_team")
     CHANGE_TRIGGERS("tags", "so_changes_by_team")
     CHANGE_TRIGGERS("order_tags", "so_changes_by_team")
     CHANGE_TRIGGERS("certificate_tags", "so_changes_by_team")
     CHANGE_TRIGGERS("products", "so_changes_everyone")
     /* one query for both: a team's version and that of the catalogue (team 0) */
     "{{PGSQL}}CREATE VIEW team_list_versions AS SELECT team_id, SUM(n) AS version FROM "
     "(SELECT team_id, changes AS n FROM team_change_base UNION ALL SELECT team_id, 1 FROM "
     "team_change_log) x GROUP BY team_id;\n"
     "{{SQLITE}}CREATE VIEW team_list_versions AS SELECT team_id, version FROM team_versions"},
    /* PostgreSQL: common_name_pattern's literal prefix as a range of an index in byte
     * order (SQLite's BINARY order: orders_team_cn), whatever the database's collation */
    {951, "order names in byte order (PostgreSQL)",
     "{{PGSQL}}CREATE INDEX orders_team_cn_bytes ON orders (team_id, common_name COLLATE \"C\")"},
    {0, NULL, NULL}};

/* an order with its product's names */
#define ORD_COLUMNS(X) X(ORD_ID, "o.id") X(ORD_TEAM_ID, ", o.team_id") \
    X(ORD_PRODUCT_ID, ", o.product_id") X(ORD_STATUS, ", o.status") X(ORD_PERIOD, ", o.period") \
    X(ORD_DOMAIN_AMOUNT, ", o.domain_amount") \
    X(ORD_WILDCARD_DOMAIN_AMOUNT, ", o.wildcard_domain_amount") \
    X(ORD_COMMON_NAME, ", o.common_name") X(ORD_CSR, ", o.csr") \
    X(ORD_ORGANIZATION_UNIT, ", o.organization_unit") X(ORD_SOFTWARE, ", o.software") \
    X(ORD_ORGANIZATION_HANDLE, ", o.organization_handle") \
    X(ORD_TECHNICAL_HANDLE, ", o.technical_handle") \
    X(ORD_ADMINISTRATIVE_HANDLE, ", o.administrative_handle") \
    X(ORD_BILLING_HANDLE, ", o.billing_handle") X(ORD_APPROVER_EMAIL, ", o.approver_email") \
    X(ORD_AUTORENEW, ", o.autorenew") \
    X(ORD_SIGNATURE_HASH_ALGORITHM, ", o.signature_hash_algorithm") \
    X(ORD_ENABLE_DNS_AUTOMATION, ", o.enable_dns_automation") X(ORD_DCV_UNIQUE, ", o.dcv_unique") \
    X(ORD_CSR_MD5, ", o.csr_md5") X(ORD_CSR_SHA1, ", o.csr_sha1") \
    X(ORD_CSR_SHA256, ", o.csr_sha256") X(ORD_PRICE, ", o.price") X(ORD_CURRENCY, ", o.currency") \
    X(ORD_ORDER_DATE, ", o.order_date") X(ORD_ACTIVE_DATE, ", o.active_date") \
    X(ORD_EXPIRATION_DATE, ", o.expiration_date") X(ORD_ORDER_ENDS_AT, ", o.order_ends_at") \
    X(ORD_REISSUE_AT, ", o.reissue_at") X(ORD_CANCELLED_AT, ", o.cancelled_at") \
    X(ORD_UPDATED_AT, ", o.updated_at") X(ORD_CREATED_BY, ", o.created_by") \
    X(ORD_VERSION, ", o.version") X(ORD_FOLDER_ID, ", o.folder_id") \
    X(ORD_PRODUCT_NAME, ", p.name") X(ORD_BRAND_NAME, ", p.brand_name") \
    X(ORD_VALIDATION_METHOD, ", p.validation_method") \
    X(ORD_PRODUCT_WILDCARD, ", p.is_wildcard + p.is_wildcard_multidomain")
enum { ORD_COLUMNS(SO_COL_POS) ORD_NCOLS };
#define ORD_COLS ORD_COLUMNS(SO_COL_SQL)
/* so_order_get: the order's columns, then a name, its method, the row's kind and position */
#define ORD_NULL(id, sql) "NULL, "
#define ORD_NULLS ORD_COLUMNS(ORD_NULL)
enum {
    ORD_GET_HOST = ORD_NCOLS,
    ORD_GET_METHOD,
    ORD_GET_VALIDATED,
    ORD_GET_KIND,
    ORD_GET_POS,
    ORD_GET_NCOLS
};

/* an order's names, in order */
#define HOST_COLUMNS(X) X(HOST_ORDER_ID, "order_id") X(HOST_NAME, ", host_name") \
    X(HOST_METHOD, ", method")
enum { HOST_COLUMNS(SO_COL_POS) HOST_NCOLS };
#define HOST_COLS HOST_COLUMNS(SO_COL_SQL)

/* an event of an order */
#define EVT_COLUMNS(X) X(EVT_ID, "id") X(EVT_ACTOR, ", actor") X(EVT_KIND, ", kind") \
    X(EVT_DETAIL, ", detail") X(EVT_CREATED_AT, ", created_at")
enum { EVT_COLUMNS(SO_COL_POS) EVT_NCOLS };
#define EVT_COLS EVT_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_order[] = {
    {"so_order_insert",
     "INSERT INTO orders (team_id, product_id, status, period, domain_amount, "
     "wildcard_domain_amount, common_name, csr, organization_unit, software, organization_handle, "
     "technical_handle, administrative_handle, billing_handle, approver_email, autorenew, "
     "signature_hash_algorithm, enable_dns_automation, dcv_unique, csr_md5, csr_sha1, csr_sha256, "
     "price, currency, order_date, created_by, updated_at, folder_id) VALUES (%lld, %lld, %s, %d, "
     "%d, %d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %d, %s, %d, %s, %s, %s, %s, %lld, %s, %lld, %lld, "
     "%lld, (SELECT f.id FROM folders f WHERE f.team_id = %lld AND f.is_default = 1)) "
     "RETURNING id", 1},
    /* the order (so_k 0) and its names (so_k 1, in order) in one round trip: a UNION, not
     * a join, so that an order of many names does not repeat its columns (the CSR) for each */
    {"so_order_get",
     "SELECT " ORD_COLS ", NULL AS so_host, NULL AS so_method, 0 AS so_validated, 0 AS so_k, "
     "0 AS so_pos FROM orders o JOIN products p ON p.id = o.product_id "
     "WHERE o.team_id = %lld AND o.id = %lld UNION ALL SELECT " ORD_NULLS
     "h.host_name, h.method, h.validated_at, 1, h.position FROM order_hostnames h "
     "WHERE h.order_id = %lld "
     "ORDER BY so_k, so_pos", ORD_GET_NCOLS},
    {"so_order_update",
     "UPDATE orders SET status = %s, domain_amount = %d, wildcard_domain_amount = %d, "
     "common_name = %s, csr = %s, organization_unit = %s, software = %s, "
     "organization_handle = %s, technical_handle = %s, administrative_handle = %s, "
     "billing_handle = %s, approver_email = %s, autorenew = %d, signature_hash_algorithm = %s, "
     "enable_dns_automation = %d, dcv_unique = %s, csr_md5 = %s, csr_sha1 = %s, csr_sha256 = %s, "
     "active_date = %lld, expiration_date = %lld, "
     "order_ends_at = %lld, reissue_at = %lld, cancelled_at = %lld, updated_at = %lld, "
     "reissue_pending = COALESCE(NULLIF(%d, -1), reissue_pending), "
     "next_check_at = COALESCE(NULLIF(%lld, -1), next_check_at), "
     "next_reminder_at = COALESCE(NULLIF(%lld, -1), next_reminder_at), "
     /* a release (so_order_sched_t; "": none, and an order claimed by no one keeps '', 0) */
     "claim_until = CASE WHEN claim_owner = %s THEN 0 ELSE claim_until END, "
     "claim_owner = CASE WHEN claim_owner = %s THEN '' ELSE claim_owner END, "
     "version = version + 1 WHERE team_id = %lld AND id = %lld AND version = %d", 0},
    {"so_order_hosts",
     "SELECT " HOST_COLS " FROM order_hostnames WHERE order_id = %lld ORDER BY position",
     HOST_NCOLS},
    {"so_order_host_upsert",
     "INSERT INTO order_hostnames (order_id, position, host_name, method) VALUES (%lld, %d, %s, %s) "
     "ON CONFLICT (order_id, host_name) DO UPDATE SET position = excluded.position, "
     "method = excluded.method", 0},
    {"so_order_team", "SELECT team_id FROM orders WHERE id = %lld", 1},
    {"so_order_event_insert",
     "INSERT INTO order_events (order_id, team_id, user_id, actor, kind, detail, created_at) "
     "VALUES (%lld, %lld, %lld, %s, %s, %s, %lld)", 0},
    /* a team's version and the catalogue's (team 0): both only grow */
    {"so_orders_version",
     "SELECT COALESCE(SUM(version), 0) FROM team_list_versions WHERE team_id IN (0, %lld)", 1},
    {"so_order_events_count", "SELECT COUNT(*) FROM order_events WHERE team_id = %lld AND order_id = %lld", 1},
    {"so_order_events",
     "SELECT " EVT_COLS " FROM order_events "
     "WHERE team_id = %lld AND order_id = %lld ORDER BY id LIMIT %d OFFSET %d", EVT_NCOLS},
    {NULL, NULL, 0}};

#include "so_store.h"
#define SAFE(s) ((s) ? (s) : "")

static so_order_t *from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_order_t *o = apr_pcalloc(p, sizeof(*o));
    o->id = so_cell_i64(r, i, ORD_ID);
    o->team_id = so_cell_i64(r, i, ORD_TEAM_ID);
    o->product_id = so_cell_i64(r, i, ORD_PRODUCT_ID);
    o->status = so_cell(r, i, ORD_STATUS);
    o->period = so_cell_int(r, i, ORD_PERIOD);
    o->domain_amount = so_cell_int(r, i, ORD_DOMAIN_AMOUNT);
    o->wildcard_domain_amount = so_cell_int(r, i, ORD_WILDCARD_DOMAIN_AMOUNT);
    o->common_name = so_cell(r, i, ORD_COMMON_NAME);
    o->csr = so_cell(r, i, ORD_CSR);
    o->organization_unit = so_cell(r, i, ORD_ORGANIZATION_UNIT);
    o->software = so_cell(r, i, ORD_SOFTWARE);
    o->organization_handle = so_cell(r, i, ORD_ORGANIZATION_HANDLE);
    o->technical_handle = so_cell(r, i, ORD_TECHNICAL_HANDLE);
    o->administrative_handle = so_cell(r, i, ORD_ADMINISTRATIVE_HANDLE);
    o->billing_handle = so_cell(r, i, ORD_BILLING_HANDLE);
    o->approver_email = so_cell(r, i, ORD_APPROVER_EMAIL);
    o->autorenew = so_cell_int(r, i, ORD_AUTORENEW);
    o->signature_hash_algorithm = so_cell(r, i, ORD_SIGNATURE_HASH_ALGORITHM);
    o->enable_dns_automation = so_cell_int(r, i, ORD_ENABLE_DNS_AUTOMATION);
    o->dcv_unique = so_cell(r, i, ORD_DCV_UNIQUE);
    o->csr_md5 = so_cell(r, i, ORD_CSR_MD5);
    o->csr_sha1 = so_cell(r, i, ORD_CSR_SHA1);
    o->csr_sha256 = so_cell(r, i, ORD_CSR_SHA256);
    o->price = so_cell_i64(r, i, ORD_PRICE);
    o->currency = so_cell(r, i, ORD_CURRENCY);
    o->order_date = so_cell_i64(r, i, ORD_ORDER_DATE);
    o->active_date = so_cell_i64(r, i, ORD_ACTIVE_DATE);
    o->expiration_date = so_cell_i64(r, i, ORD_EXPIRATION_DATE);
    o->order_ends_at = so_cell_i64(r, i, ORD_ORDER_ENDS_AT);
    o->reissue_at = so_cell_i64(r, i, ORD_REISSUE_AT);
    o->cancelled_at = so_cell_i64(r, i, ORD_CANCELLED_AT);
    o->updated_at = so_cell_i64(r, i, ORD_UPDATED_AT);
    o->created_by = so_cell_i64(r, i, ORD_CREATED_BY);
    o->version = so_cell_int(r, i, ORD_VERSION);
    o->folder_id = so_cell_i64(r, i, ORD_FOLDER_ID);
    o->product_name = so_cell(r, i, ORD_PRODUCT_NAME);
    o->brand_name = so_cell(r, i, ORD_BRAND_NAME);
    o->validation_method = so_cell(r, i, ORD_VALIDATION_METHOD);
    o->product_wildcard = so_cell_int(r, i, ORD_PRODUCT_WILDCARD) > 0;
    o->hosts = apr_array_make(p, 4, sizeof(so_order_host_t));
    return o;
}

/* Make the stored names those of o: names that stay keep their validation state. A new
 * order (fresh) has no stored names to remove. */
static apr_status_t write_hosts(so_db_t *db, apr_pool_t *p, so_order_t *o, int fresh)
{
    const char *sql = "DELETE FROM order_hostnames WHERE order_id = %lld";
    so_arg_t *args = apr_palloc(p, sizeof(so_arg_t) * (size_t)(o->hosts->nelts + 1));
    apr_status_t rv;
    int i;

    args[0] = so_arg_int(o->id);
    for (i = 0; i < o->hosts->nelts; i++) {
        sql = apr_pstrcat(p, sql, i ? ", %s" : " AND host_name NOT IN (%s", NULL);
        args[i + 1] = so_arg_text(APR_ARRAY_IDX(o->hosts, i, so_order_host_t).host_name);
    }
    if (o->hosts->nelts) {
        sql = apr_pstrcat(p, sql, ")", NULL);
    }
    rv = fresh ? APR_SUCCESS : so_db_exec_sql(db, p, sql, NULL, o->hosts->nelts + 1, args);
    for (i = 0; rv == APR_SUCCESS && i < o->hosts->nelts; i++) {
        so_order_host_t *h = &APR_ARRAY_IDX(o->hosts, i, so_order_host_t);
        rv = so_db_exec(db, p, "so_order_host_upsert", NULL,
                        SO_A(o->id, i, h->host_name, h->method ? h->method : ""));
    }
    return rv;
}

apr_status_t so_store_order_insert(so_db_t *db, apr_pool_t *p, so_order_t *o)
{
    so_rows_t *rows;
    apr_status_t rv;

    rv = so_db_select(
        db, p, "so_order_insert", &rows,
        SO_A(o->team_id, o->product_id, o->status, o->period, o->domain_amount,
             o->wildcard_domain_amount, o->common_name, o->csr, o->organization_unit,
             o->software, o->organization_handle, o->technical_handle, o->administrative_handle,
             o->billing_handle, o->approver_email, o->autorenew, o->signature_hash_algorithm,
             o->enable_dns_automation, o->dcv_unique, SAFE(o->csr_md5), SAFE(o->csr_sha1),
             SAFE(o->csr_sha256), o->price, o->currency,
             o->order_date, SO_ID(o->created_by), o->updated_at,
             o->team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    o->id = so_cell_i64(rows, 0, 0);
    o->version = 1;
    return write_hosts(db, p, o, 1);
}

apr_status_t so_store_order_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                so_order_t **out)
{
    so_rows_t *rows;
    so_order_t *o;
    apr_status_t rv;
    int i;

    rv = so_db_select(db, p, "so_order_get", &rows, SO_A(team_id, id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* no order row (another team's order, or none): the names that came alone are not read */
    if (rows->nrows == 0 || so_cell_i64(rows, 0, ORD_GET_KIND) != 0) {
        return APR_ENOENT;
    }
    o = from_row(p, rows, 0);
    for (i = 1; i < rows->nrows; i++) {
        so_order_host_t *h = apr_array_push(o->hosts);
        h->host_name = so_cell(rows, i, ORD_GET_HOST);
        h->method = so_cell(rows, i, ORD_GET_METHOD);
        h->validated_at = so_cell_i64(rows, i, ORD_GET_VALIDATED);
    }
    *out = o;
    return APR_SUCCESS;
}

apr_status_t so_store_order_update(so_db_t *db, apr_pool_t *p, so_order_t *o, int write)
{
    static const so_order_sched_t keep = SO_ORDER_SCHED_KEEP;
    return so_store_order_update_sched(db, p, o, write, &keep);
}

apr_status_t so_store_order_update_sched(so_db_t *db, apr_pool_t *p, so_order_t *o, int write,
                                         const so_order_sched_t *s)
{
    int n = 0;
    const char *rel = s->release ? s->release : "";
    apr_status_t rv = so_db_exec(
        db, p, "so_order_update", &n,
        SO_A(o->status, o->domain_amount, o->wildcard_domain_amount, o->common_name,
             o->csr, o->organization_unit, o->software, o->organization_handle, o->technical_handle,
             o->administrative_handle, o->billing_handle, o->approver_email, o->autorenew,
             o->signature_hash_algorithm, o->enable_dns_automation, o->dcv_unique,
             SAFE(o->csr_md5), SAFE(o->csr_sha1), SAFE(o->csr_sha256), o->active_date, o->expiration_date, o->order_ends_at,
             o->reissue_at, o->cancelled_at, o->updated_at, s->reissue_pending,
             s->next_check_at, s->next_reminder_at, rel, rel, o->team_id, o->id, o->version));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (n == 0) {
        return SO_EDBSTALE;
    }
    o->version++;
    return write ? write_hosts(db, p, o, 0) : APR_SUCCESS;
}

static void hosts_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    apr_hash_t *by_id = baton;
    int j;
    (void)p;
    for (j = 0; j < rows->nrows; j++) {
        apr_int64_t id = so_cell_i64(rows, j, HOST_ORDER_ID);
        so_order_t *o = apr_hash_get(by_id, &id, sizeof(id));
        if (o) {
            so_order_host_t *h = apr_array_push(o->hosts);
            h->host_name = so_cell(rows, j, HOST_NAME);
            h->method = so_cell(rows, j, HOST_METHOD);
        }
    }
}

apr_status_t so_store_orders_hosts(so_db_t *db, apr_pool_t *p, apr_array_header_t *orders)
{
    apr_hash_t *by_id = apr_hash_make(p);
    apr_array_header_t *ids = apr_array_make(p, orders->nelts ? orders->nelts : 1,
                                             sizeof(apr_int64_t));
    int i;

    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        apr_hash_set(by_id, &o->id, sizeof(o->id), o);
        APR_ARRAY_PUSH(ids, apr_int64_t) = o->id;
    }
    return so_db_select_in(db, p,
                           "SELECT " HOST_COLS " FROM order_hostnames WHERE order_id IN (",
                           ") ORDER BY order_id, position", 0, NULL, ids, hosts_rows, by_id);
}

so_order_filter_t *so_order_filter_make(apr_pool_t *p, apr_int64_t team_id)
{
    so_order_filter_t *f = apr_pcalloc(p, sizeof(*f));
    f->team_id = team_id;
    f->order_from = f->order_before = SO_ORDER_FILTER_NONE;
    f->expires_from = f->expires_before = SO_ORDER_FILTER_NONE;
    f->limit = 100;
    return f;
}

/* The WHERE clause of a filter: conditions ANDed, their values in order. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *where; /* const char*: SQL conditions on o (orders) */
    apr_array_header_t *args;  /* so_arg_t: the values of their placeholders */
} where_t;

static void where_add(where_t *w, const char *cond, int nargs, const so_arg_t *args)
{
    int i;
    APR_ARRAY_PUSH(w->where, const char *) = cond;
    for (i = 0; i < nargs; i++) {
        APR_ARRAY_PUSH(w->args, so_arg_t) = args[i];
    }
}
/* WHERE_ADD(w, "o.x = %lld AND o.y = %s", x, y): a condition and its typed values */
#define WHERE_ADD(w, cond, ...) where_add((w), (cond), SO_A(__VA_ARGS__))

/* "%s, %s, ..." for n values */
static const char *placeholders(apr_pool_t *p, int n)
{
    const char *in = "";
    int i;
    for (i = 0; i < n; i++) {
        in = apr_pstrcat(p, in, i ? ", %s" : "%s", NULL);
    }
    return in;
}

#define ON_ORDER_TAG                                                                          \
    "EXISTS (SELECT 1 FROM order_tags x JOIN tags t ON t.id = x.tag_id WHERE x.order_id = o.id " \
    "AND t.name "
#define ON_CERT_TAG                                                                           \
    "EXISTS (SELECT 1 FROM certificate_tags x JOIN tags t ON t.id = x.tag_id WHERE x.order_id " \
    "= o.id AND t.name "
#define SEARCH_TAIL                                                                           \
    "LOWER(o.organization_unit) LIKE %s ESCAPE '\\' OR EXISTS (SELECT 1 FROM order_hostnames h " \
    "WHERE h.order_id = o.id AND h.host_name LIKE %s ESCAPE '\\'))"

static void tags_where(where_t *w, const so_order_filter_t *f)
{
    const char *in;
    int i, n = f->tags->nelts;

    if (f->tags_all) {
        for (i = 0; i < n; i++) {
            const char *t = APR_ARRAY_IDX(f->tags, i, const char *);
            WHERE_ADD(w, "(" ON_ORDER_TAG "= %s) OR " ON_CERT_TAG "= %s))", t, t);
        }
        return;
    }
    in = placeholders(w->p, n);
    APR_ARRAY_PUSH(w->where, const char *) =
        apr_pstrcat(w->p, "(" ON_ORDER_TAG "IN (", in, ")) OR " ON_CERT_TAG "IN (", in, ")))", NULL);
    for (i = 0; i < 2 * n; i++) {
        APR_ARRAY_PUSH(w->args, so_arg_t) = so_arg_text(APR_ARRAY_IDX(f->tags, i % n, const char *));
    }
}

static void filter_where(so_db_t *db, apr_pool_t *p, const so_order_filter_t *f, where_t *w)
{
    int i;

    w->p = p;
    w->where = apr_array_make(p, 16, sizeof(const char *));
    w->args = apr_array_make(p, 16, sizeof(so_arg_t));
    WHERE_ADD(w, "o.team_id = %lld", f->team_id);
    if (f->statuses && f->statuses->nelts > 0) {
        APR_ARRAY_PUSH(w->where, const char *) =
            apr_pstrcat(p, "o.status IN (", placeholders(p, f->statuses->nelts), ")", NULL);
        for (i = 0; i < f->statuses->nelts; i++) {
            APR_ARRAY_PUSH(w->args, so_arg_t) = so_arg_text(APR_ARRAY_IDX(f->statuses, i, const char *));
        }
    }
    if (f->cn_like) {
        WHERE_ADD(w, "o.common_name LIKE %s ESCAPE '\\'", f->cn_like);
    }
    if (f->cn_from && f->cn_before && db && db->kind == SO_DB_PGSQL) {
        WHERE_ADD(w, "o.common_name COLLATE \"C\" >= %s AND o.common_name COLLATE \"C\" < %s",
                  f->cn_from, f->cn_before);
    }
    else if (f->cn_from && f->cn_before) {
        WHERE_ADD(w, "o.common_name >= %s AND o.common_name < %s", f->cn_from, f->cn_before);
    }
    if (f->contact_handle) {
        const char *v = f->contact_handle;
        WHERE_ADD(w,
                  "(o.organization_handle = %s OR o.technical_handle = %s OR "
                  "o.administrative_handle = %s OR o.billing_handle = %s)",
                  v, v, v, v);
    }
    if (f->expiring) {
        WHERE_ADD(w, "o.status = 'ACT' AND o.expiration_date > %lld AND o.expiration_date <= %lld",
                  f->expiring_after, f->expiring_until);
    }
    if (f->search_like && f->search_id > 0) {
        const char *like = f->search_like;
        WHERE_ADD(w, "(o.id = %lld OR LOWER(o.common_name) LIKE %s ESCAPE '\\' OR " SEARCH_TAIL,
                  f->search_id, like, like, like);
    }
    else if (f->search_like) {
        const char *like = f->search_like;
        WHERE_ADD(w, "(LOWER(o.common_name) LIKE %s ESCAPE '\\' OR " SEARCH_TAIL, like, like, like);
    }
    if (f->ou_like) {
        WHERE_ADD(w, "LOWER(o.organization_unit) LIKE %s ESCAPE '\\'", f->ou_like);
    }
    if (f->product_id) {
        WHERE_ADD(w, "o.product_id = %lld", f->product_id);
    }
    if (f->order_from >= 0) {
        WHERE_ADD(w, "o.order_date >= %lld", f->order_from);
    }
    if (f->order_before >= 0) {
        WHERE_ADD(w, "o.order_date < %lld", f->order_before);
    }
    if (f->expires_from >= 0) {
        WHERE_ADD(w, "o.expiration_date >= %lld", f->expires_from);
    }
    if (f->expires_before >= 0) {
        WHERE_ADD(w, "o.expiration_date > 0 AND o.expiration_date < %lld", f->expires_before);
    }
    if (f->folder_id && f->folder_subtree) {
        WHERE_ADD(w, so_store_folder_subtree_cond, f->folder_id, f->team_id);
    }
    else if (f->folder_id) {
        WHERE_ADD(w, "o.folder_id = %lld", f->folder_id);
    }
    if (f->tags && f->tags->nelts > 0) {
        tags_where(w, f);
    }
}

const char *so_store_orders_list_key(so_db_t *db, apr_pool_t *p, const so_order_filter_t *f)
{
    where_t w;
    apr_array_header_t *parts;
    int i;

    filter_where(db, p, f, &w);
    parts = apr_array_make(p, 1 + w.where->nelts + w.args->nelts, sizeof(const char *));
    /* values carry their length, so that no two filters share a key */
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(p, "%d %" APR_INT64_T_FMT " %d %d %s", db ? (int)db->kind : 0, f->team_id,
                     f->limit, f->offset, f->order_by ? f->order_by : "-");
    for (i = 0; i < w.where->nelts; i++) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, "|", APR_ARRAY_IDX(w.where, i, const char *), NULL);
    }
    for (i = 0; i < w.args->nelts; i++) {
        const so_arg_t *a = &APR_ARRAY_IDX(w.args, i, so_arg_t);
        const char *v = a->kind == SO_ARG_INT    ? apr_psprintf(p, "%" APR_INT64_T_FMT, a->v.i)
                        : a->kind == SO_ARG_TEXT ? a->v.s
                                                 : "";
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p, "|%d%" APR_SIZE_T_FMT ":%s", (int)a->kind, strlen(v), v);
    }
    return apr_array_pstrcat(p, parts, 0);
}

static void count_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    (void)p;
    *(apr_int64_t *)baton = rows->nrows ? so_cell_i64(rows, 0, 0) : 0;
}

apr_status_t so_store_orders_list(so_db_t *db, apr_pool_t *p, const so_order_filter_t *f,
                                  apr_array_header_t **out, apr_int64_t *total)
{
    const char *where = "", *sql, *order_by, *first, *first_comma;
    so_arg_t *args;
    so_rows_t *rows;
    apr_status_t rv;
    where_t w;
    int i, n;

    filter_where(db, p, f, &w);
    n = w.args->nelts;
    for (i = 0; i < w.where->nelts; i++) {
        where = apr_pstrcat(p, where, i ? " AND " : "", APR_ARRAY_IDX(w.where, i, const char *), NULL);
    }
    args = apr_palloc(p, sizeof(so_arg_t) * (size_t)(n + 2));
    memcpy(args, w.args->elts, sizeof(so_arg_t) * (size_t)n);
    args[n] = so_arg_int(f->limit);
    args[n + 1] = so_arg_int(f->offset);
    /* ties are broken by id in the direction of the first key, so that an index on
     * (team_id, [status,] key) delivers the rows in order and LIMIT stops early */
    order_by = f->order_by ? f->order_by : "o.order_date DESC";
    first_comma = strchr(order_by, ',');
    first = first_comma ? apr_pstrndup(p, order_by, (apr_size_t)(first_comma - order_by)) : order_by;
    sql = apr_pstrcat(p, "SELECT " ORD_COLS " FROM orders o JOIN products p ON p.id = o.product_id "
                         "WHERE ", where, " ORDER BY ", order_by,
                      strstr(first, " DESC") ? ", o.id DESC" : ", o.id ASC", " LIMIT %d OFFSET %d",
                      NULL);
    rv = so_db_select_sql(db, p, sql, &rows, n + 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_order_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_order_t *) = from_row(p, rows, i);
    }
    if (rows->nrows < f->limit && (rows->nrows > 0 || f->offset == 0)) {
        /* the page is not full: it holds the last match */
        *total = f->offset + rows->nrows;
    }
    else {
        /* every order has a product: counting needs no join (the conditions use o.*).
         * With a batch open, it goes with the batch: *total is set when the batch ran. */
        rv = so_db_select_sql_cb(db, p,
                                 apr_pstrcat(p, "SELECT COUNT(*) FROM orders o WHERE ", where, NULL),
                                 n, (const so_arg_t *)w.args->elts, count_rows, total);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return so_store_orders_hosts(db, p, *out);
}

apr_status_t so_store_order_event(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t order_id, apr_int64_t user_id, const char *actor,
                                  const char *kind, const char *detail, apr_int64_t now)
{
    return so_db_exec_later(db, p, "so_order_event_insert",
                      SO_A(order_id, team_id, SO_ID(user_id),
                           actor ? actor : "", kind, detail ? detail : "{}", now));
}

apr_status_t so_store_order_events(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   apr_int64_t order_id, int limit, int offset,
                                   apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;

    rv = so_db_select(db, p, "so_order_events_count", &count, SO_A(team_id, order_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    rv = so_db_select(db, p, "so_order_events", &rows,
                      SO_A(team_id, order_id, limit, offset));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_order_event_t));
    for (i = 0; i < rows->nrows; i++) {
        so_order_event_t *e = apr_array_push(*out);
        e->id = so_cell_i64(rows, i, EVT_ID);
        e->actor = so_cell(rows, i, EVT_ACTOR);
        e->kind = so_cell(rows, i, EVT_KIND);
        e->detail = so_cell(rows, i, EVT_DETAIL);
        e->created_at = so_cell_i64(rows, i, EVT_CREATED_AT);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_order_team(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t *team_id)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_order_team", &rows, SO_A(id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *team_id = so_cell_i64(rows, 0, 0);
    return APR_SUCCESS;
}
