#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "so_store_cert.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_crypto.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_cert[] = {
    {200, "issuance",
     "ALTER TABLE order_hostnames ADD COLUMN dcv_status TEXT NOT NULL DEFAULT 'pending';\n"
     "ALTER TABLE order_hostnames ADD COLUMN validated_at BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE order_hostnames ADD COLUMN last_check_at BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE order_hostnames ADD COLUMN last_error TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE order_hostnames ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN org_status TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN org_reason TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN org_checked_at BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN next_check_at BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN reissue_pending INTEGER NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN reminder_days TEXT NOT NULL DEFAULT '60,30,7,1,-30';\n"
     "ALTER TABLE orders ADD COLUMN reminder_recipients TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN reminders_enabled INTEGER NOT NULL DEFAULT 1;\n"
     "ALTER TABLE orders ADD COLUMN autorenew_notified_at BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN next_reminder_at BIGINT NOT NULL DEFAULT 0;\n"
     "CREATE INDEX orders_check ON orders (status, next_check_at);\n"
     "CREATE INDEX orders_expiry ON orders (status, expiration_date);\n"
     "CREATE INDEX orders_reissue ON orders (status, reissue_at);\n"
     "CREATE INDEX orders_ends ON orders (status, order_ends_at);\n"
     "CREATE INDEX orders_reminder ON orders (next_reminder_at);\n"
     "CREATE TABLE certificates (\n"
     "  id {{ID}},\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  serial TEXT NOT NULL UNIQUE,\n"
     "  pem TEXT NOT NULL,\n"
     "  intermediate_pem TEXT NOT NULL,\n"
     "  root_pem TEXT NOT NULL,\n"
     "  common_name TEXT NOT NULL,\n"
     "  names TEXT NOT NULL,\n"
     "  not_before BIGINT NOT NULL,\n"
     "  not_after BIGINT NOT NULL,\n"
     "  sha256 TEXT NOT NULL,\n"
     "  revoked_at BIGINT NOT NULL DEFAULT 0,\n"
     "  revoke_reason INTEGER NOT NULL DEFAULT 0,\n"
     "  is_current INTEGER NOT NULL DEFAULT 1,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE INDEX certificates_order ON certificates (order_id, is_current);\n"
     "CREATE INDEX certificates_revoked ON certificates (revoked_at);\n"
     "CREATE TABLE approvals (\n"
     "  id {{ID}},\n"
     "  token_hash TEXT NOT NULL UNIQUE,\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  email TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  used_at BIGINT NOT NULL DEFAULT 0);\n"
     "CREATE INDEX approvals_order ON approvals (order_id);\n"
     "CREATE TABLE reminders_sent (\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  expiry BIGINT NOT NULL,\n"
     "  offset_days INTEGER NOT NULL,\n"
     "  sent_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (order_id, expiry, offset_days))"},
    {201, "certificates: the SHA-256 of the key (SubjectPublicKeyInfo)",
     "ALTER TABLE certificates ADD COLUMN spki_sha256 VARCHAR(64) NOT NULL DEFAULT '';\n"
     "CREATE INDEX certificates_spki ON certificates (spki_sha256)"},
    /* an order's certificates by id: its newest (so_acme_ord_process), those after one
     * (so_acme_certs_after) and its history in order without a visit to each of them
     * (certificates_order ends at is_current: an order reissued every few days by ACME
     * has hundreds, each row on a page of its own) */
    {953, "an order's certificates by id",
     "CREATE INDEX certificates_order_id ON certificates (order_id, id)"},
    {0, NULL, NULL}};

/* a certificate */
#define CERT_COLUMNS(X)                                                                       \
    X(CERT_ID, "id") X(CERT_ORDER_ID, ", order_id") X(CERT_TEAM_ID, ", team_id")              \
    X(CERT_SERIAL, ", serial") X(CERT_PEM, ", pem")                                           \
    X(CERT_INTERMEDIATE_PEM, ", intermediate_pem") X(CERT_ROOT_PEM, ", root_pem")             \
    X(CERT_COMMON_NAME, ", common_name") X(CERT_NAMES, ", names")                             \
    X(CERT_NOT_BEFORE, ", not_before") X(CERT_NOT_AFTER, ", not_after")                       \
    X(CERT_SHA256, ", sha256") X(CERT_REVOKED_AT, ", revoked_at")                             \
    X(CERT_REVOKE_REASON, ", revoke_reason") X(CERT_IS_CURRENT, ", is_current")               \
    X(CERT_CREATED_AT, ", created_at")
enum { CERT_COLUMNS(SO_COL_POS) CERT_NCOLS };
#define CERT_COLS CERT_COLUMNS(SO_COL_SQL)

/* the validation state of an order's host names */
#define HOST_COLUMNS(X)                                                                       \
    X(HOST_NAME, "host_name") X(HOST_METHOD, ", method") X(HOST_DCV_STATUS, ", dcv_status")   \
    X(HOST_VALIDATED_AT, ", validated_at") X(HOST_LAST_CHECK_AT, ", last_check_at")           \
    X(HOST_LAST_ERROR, ", last_error") X(HOST_CHECKS, ", checks")
enum { HOST_COLUMNS(SO_COL_POS) HOST_NCOLS };
#define HOST_COLS HOST_COLUMNS(SO_COL_SQL)

/* the issuance state of an order */
#define ISS_COLUMNS(X)                                                                        \
    X(ISS_ORG_STATUS, "org_status") X(ISS_ORG_REASON, ", org_reason")                         \
    X(ISS_ORG_CHECKED_AT, ", org_checked_at") X(ISS_NEXT_CHECK_AT, ", next_check_at")         \
    X(ISS_REISSUE_PENDING, ", reissue_pending") X(ISS_REMINDER_DAYS, ", reminder_days")       \
    X(ISS_REMINDER_RECIPIENTS, ", reminder_recipients")                                       \
    X(ISS_REMINDERS_ENABLED, ", reminders_enabled")                                           \
    X(ISS_AUTORENEW_NOTIFIED_AT, ", autorenew_notified_at")
enum { ISS_COLUMNS(SO_COL_POS) ISS_NCOLS };
#define ISS_COLS ISS_COLUMNS(SO_COL_SQL)

/* an order whose organization validation may be reused */
#define REUSE_COLUMNS(X) X(REUSE_ID, "o.id") X(REUSE_ORG_CHECKED_AT, ", o.org_checked_at")
enum { REUSE_COLUMNS(SO_COL_POS) REUSE_NCOLS };
#define REUSE_COLS REUSE_COLUMNS(SO_COL_SQL)

/* a revoked certificate (for the CRL) */
#define REV_COLUMNS(X)                                                                        \
    X(REV_SERIAL, "serial") X(REV_REVOKED_AT, ", revoked_at")                                 \
    X(REV_REVOKE_REASON, ", revoke_reason")
enum { REV_COLUMNS(SO_COL_POS) REV_NCOLS };
#define REV_COLS REV_COLUMNS(SO_COL_SQL)

/* an open approval */
#define APPR_COLUMNS(X)                                                                       \
    X(APPR_ID, "id") X(APPR_TEAM_ID, ", team_id") X(APPR_ORDER_ID, ", order_id")              \
    X(APPR_EMAIL, ", email")
enum { APPR_COLUMNS(SO_COL_POS) APPR_NCOLS };
#define APPR_COLS APPR_COLUMNS(SO_COL_SQL)

/* an order a background job works on */
#define JOB_COLUMNS(X) X(JOB_ID, "id") X(JOB_TEAM_ID, ", team_id")
enum { JOB_COLUMNS(SO_COL_POS) JOB_NCOLS };
#define JOB_COLS JOB_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_cert[] = {
    {"so_hosts_state",
     "SELECT " HOST_COLS " FROM order_hostnames WHERE order_id = %lld ORDER BY position",
     HOST_NCOLS},
    {"so_host_state_set",
     "UPDATE order_hostnames SET dcv_status = %s, validated_at = %lld, last_check_at = %lld, "
     "last_error = %s, checks = checks + 1 WHERE order_id = %lld AND host_name = %s", 0},
    {"so_hosts_reset",
     "UPDATE order_hostnames SET dcv_status = 'pending', last_error = '', checks = 0 "
     "WHERE order_id = %lld", 0},
    {"so_issuance_get",
     "SELECT " ISS_COLS " FROM orders WHERE id = %lld", ISS_NCOLS},
    {"so_org_set",
     "UPDATE orders SET org_status = %s, org_reason = %s, org_checked_at = %lld WHERE id = %lld", 0},
    {"so_org_reusable",
     "SELECT " REUSE_COLS " FROM orders o JOIN products p ON p.id = o.product_id "
     "WHERE o.team_id = %lld AND o.organization_handle = %s AND p.validation_method = %s "
     "AND o.id <> %lld AND o.org_status = 'approved' AND o.org_checked_at > %lld "
     "ORDER BY o.org_checked_at DESC, o.id DESC LIMIT 1", REUSE_NCOLS},
    {"so_next_check_set", "UPDATE orders SET next_check_at = %lld WHERE id = %lld", 0},
    {"so_reissue_start",
     "UPDATE orders SET reissue_pending = 1, next_check_at = %lld WHERE id = %lld", 0},
    {"so_reminders_set",
     "UPDATE orders SET reminder_days = %s, reminder_recipients = %s, reminders_enabled = %d "
     "WHERE id = %lld", 0},
    {"so_autorenew_notified_set", "UPDATE orders SET autorenew_notified_at = %lld WHERE id = %lld", 0},
    /* the claim, and the order's issuance state as it is then */
    {"so_order_claim",
     "UPDATE orders SET claim_owner = %s, claim_until = %lld WHERE id = %lld AND "
     "(claim_until < %lld OR claim_owner = %s) RETURNING " ISS_COLS, ISS_NCOLS},
    {"so_order_release",
     "UPDATE orders SET claim_owner = '', claim_until = 0 WHERE id = %lld AND claim_owner = %s", 0},
    {"so_order_claim_holder",
     "SELECT claim_owner FROM orders WHERE id = %lld AND claim_until >= %lld", 1},
    {"so_order_claim_take",
     "UPDATE orders SET claim_owner = %s, claim_until = %lld WHERE id = %lld AND claim_owner = %s",
     0},
    {"so_cert_uncurrent", "UPDATE certificates SET is_current = 0 WHERE order_id = %lld AND is_current = 1", 0},
#define CERT_INSERT                                                                               \
    "INSERT INTO certificates (order_id, team_id, serial, pem, intermediate_pem, root_pem, "      \
    "common_name, names, not_before, not_after, sha256, is_current, created_at, spki_sha256) "    \
    "VALUES (%lld, %lld, %s, %s, %s, %s, %s, %s, %lld, %lld, %s, 1, %lld, %s) RETURNING id"
    {"so_cert_insert", CERT_INSERT, 1},
    /* PostgreSQL: the new certificate is inserted and the order's current one is no longer
     * current, in one statement (the UPDATE's snapshot does not see the row inserted); its
     * arguments are so_cert_insert's */
    {"so_cert_insert_current",
     SO_SQL_PGSQL_ONLY "WITH n AS (" CERT_INSERT ", order_id), u AS (UPDATE certificates SET "
     "is_current = 0 WHERE order_id = (SELECT order_id FROM n) AND is_current = 1) "
     "SELECT id FROM n", 1},
    {"so_certs_compromised",
     "SELECT " CERT_COLS " FROM certificates WHERE revoked_at = 0 AND not_after >= %lld AND "
     "spki_sha256 IN (SELECT spki_sha256 FROM blocked_keys) ORDER BY id LIMIT 100", CERT_NCOLS},
    {"so_certs_spki_missing",
     "SELECT " CERT_COLS " FROM certificates WHERE spki_sha256 = '' AND revoked_at = 0 AND "
     "not_after >= %lld ORDER BY id LIMIT 200", CERT_NCOLS},
    {"so_cert_spki_set", "UPDATE certificates SET spki_sha256 = %s WHERE id = %lld", 0},
    {"so_cert_get",
     "SELECT " CERT_COLS " FROM certificates WHERE team_id = %lld AND id = %lld", CERT_NCOLS},
    {"so_certs_of_order",
     "SELECT " CERT_COLS " FROM certificates WHERE team_id = %lld AND order_id = %lld ORDER BY id",
     CERT_NCOLS},
    {"so_cert_revoke",
     "UPDATE certificates SET revoked_at = %lld, revoke_reason = %d WHERE id = %lld AND revoked_at = 0", 0},
    {"so_certs_revoked",
     "SELECT " REV_COLS " FROM certificates WHERE revoked_at > 0 AND "
     "not_after >= %lld ORDER BY id", REV_NCOLS},
    {"so_approval_insert",
     "INSERT INTO approvals (token_hash, order_id, team_id, email, created_at, expires_at) "
     "VALUES (%s, %lld, %lld, %s, %lld, %lld)", 0},
    {"so_approval_lookup",
     "SELECT " APPR_COLS " FROM approvals WHERE token_hash = %s AND used_at = 0 "
     "AND expires_at > %lld", APPR_NCOLS},
    {"so_approval_use", "UPDATE approvals SET used_at = %lld WHERE id = %lld AND used_at = 0", 0},
    {"so_approvals_drop", "DELETE FROM approvals WHERE order_id = %lld AND used_at = 0", 0},
    {"so_approval_open",
     "SELECT COUNT(*) FROM approvals WHERE order_id = %lld AND used_at = 0 AND expires_at > %lld", 1},
    {"so_reminder_mark",
     "INSERT INTO reminders_sent (order_id, expiry, offset_days, sent_at) VALUES (%lld, %lld, %d, %lld)", 0},
    {"so_job_dcv",
     "SELECT " JOB_COLS " FROM orders WHERE (status = 'REQ' OR (status IN ('ACT', 'EXP') AND "
     "reissue_pending = 1)) AND next_check_at <= %lld AND claim_until < %lld "
     "ORDER BY next_check_at LIMIT %d", JOB_NCOLS},
    {"so_job_expire",
     "SELECT " JOB_COLS " FROM orders WHERE status = 'ACT' AND expiration_date > 0 AND "
     "expiration_date <= %lld AND claim_until < %lld LIMIT %d", JOB_NCOLS},
    {"so_job_reissue",
     "SELECT " JOB_COLS " FROM orders WHERE status = 'ACT' AND reissue_at > 0 AND "
     "reissue_at <= %lld AND reissue_pending = 0 AND claim_until < %lld LIMIT %d", JOB_NCOLS},
    {"so_job_autorenew",
     "SELECT " JOB_COLS " FROM orders WHERE status = 'ACT' AND autorenew = 1 AND order_ends_at > 0 "
     "AND order_ends_at <= %lld AND claim_until < %lld LIMIT %d", JOB_NCOLS},
    {"so_job_reminders",
     "SELECT " JOB_COLS " FROM orders WHERE next_reminder_at > 0 AND next_reminder_at <= %lld AND "
     "reminders_enabled = 1 AND status IN ('ACT', 'EXP') AND claim_until < %lld LIMIT %d",
     JOB_NCOLS},
    {"so_next_reminder_set", "UPDATE orders SET next_reminder_at = %lld WHERE id = %lld", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

apr_status_t so_store_host_states(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                  apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_hosts_state", &r, SO_A(order_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(so_host_state_t));
    for (i = 0; i < r->nrows; i++) {
        so_host_state_t *h = apr_array_push(*out);
        h->host_name = so_cell(r, i, HOST_NAME);
        h->method = so_cell(r, i, HOST_METHOD);
        h->status = so_cell(r, i, HOST_DCV_STATUS);
        h->validated_at = so_cell_i64(r, i, HOST_VALIDATED_AT);
        h->last_check_at = so_cell_i64(r, i, HOST_LAST_CHECK_AT);
        h->last_error = so_cell(r, i, HOST_LAST_ERROR);
        h->checks = so_cell_int(r, i, HOST_CHECKS);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_host_state_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     const char *host, const char *status, apr_int64_t validated_at,
                                     apr_int64_t checked_at, const char *error)
{
    return so_db_exec_later(db, p, "so_host_state_set",
                      SO_A(status, validated_at, checked_at, error ? error : "",
                           order_id, host));
}

apr_status_t so_store_hosts_reset(so_db_t *db, apr_pool_t *p, apr_int64_t order_id)
{
    return so_db_exec(db, p, "so_hosts_reset", NULL, SO_A(order_id));
}

static so_issuance_state_t *iss_from(apr_pool_t *p, const so_rows_t *r)
{
    so_issuance_state_t *s = apr_pcalloc(p, sizeof(*s));
    s->org_status = so_cell(r, 0, ISS_ORG_STATUS);
    s->org_reason = so_cell(r, 0, ISS_ORG_REASON);
    s->org_checked_at = so_cell_i64(r, 0, ISS_ORG_CHECKED_AT);
    s->next_check_at = so_cell_i64(r, 0, ISS_NEXT_CHECK_AT);
    s->reissue_pending = so_cell_int(r, 0, ISS_REISSUE_PENDING);
    s->reminder_days = so_cell(r, 0, ISS_REMINDER_DAYS);
    s->reminder_recipients = so_cell(r, 0, ISS_REMINDER_RECIPIENTS);
    s->reminders_enabled = so_cell_int(r, 0, ISS_REMINDERS_ENABLED);
    s->renewed_until = so_cell_i64(r, 0, ISS_AUTORENEW_NOTIFIED_AT);
    return s;
}

apr_status_t so_store_issuance_get(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                   so_issuance_state_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_issuance_get", &r, SO_A(order_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *out = iss_from(p, r);
    return APR_SUCCESS;
}

apr_status_t so_store_org_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, const char *status,
                              const char *reason, apr_int64_t now)
{
    return so_db_exec(db, p, "so_org_set", NULL,
                      SO_A(status, reason ? reason : "", now, order_id));
}

apr_status_t so_store_org_reusable(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const char *handle, const char *method, apr_int64_t order_id,
                                   apr_int64_t since, apr_int64_t *src_id, apr_int64_t *checked_at)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_org_reusable", &r,
                                   SO_A(team_id, handle, method, order_id, since));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *src_id = so_cell_i64(r, 0, REUSE_ID);
    *checked_at = so_cell_i64(r, 0, REUSE_ORG_CHECKED_AT);
    return APR_SUCCESS;
}

apr_status_t so_store_next_check_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     apr_int64_t when)
{
    return so_db_exec(db, p, "so_next_check_set", NULL, SO_A(when, order_id));
}

apr_status_t so_store_reissue_start(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t next_check)
{
    return so_db_exec(db, p, "so_reissue_start", NULL, SO_A(next_check, order_id));
}

apr_status_t so_store_reminders_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    const char *days, const char *recipients, int enabled)
{
    return so_db_exec_later(db, p, "so_reminders_set",
                      SO_A(days, recipients, enabled ? 1 : 0, order_id));
}

apr_status_t so_store_renewed_until_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        apr_int64_t until)
{
    return so_db_exec(db, p, "so_autorenew_notified_set", NULL, SO_A(until, order_id));
}

apr_status_t so_store_next_reminder_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       apr_int64_t when)
{
    return so_db_exec(db, p, "so_next_reminder_set", NULL, SO_A(when, order_id));
}

apr_status_t so_store_order_claim_state(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char *owner, apr_int64_t now, apr_int64_t until,
                                        so_issuance_state_t **st)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_order_claim", &r,
                                   SO_A(owner, until, order_id, now, owner));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows != 1) {
        return APR_EBUSY;
    }
    if (st) {
        *st = iss_from(p, r);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_order_claim(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                  const char *owner, apr_int64_t now, apr_int64_t until)
{
    return so_store_order_claim_state(db, p, order_id, owner, now, until, NULL);
}

apr_status_t so_store_order_release(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    const char *owner)
{
    return so_db_exec(db, p, "so_order_release", NULL, SO_A(order_id, owner));
}

apr_status_t so_store_order_claim_holder(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t now, const char **owner)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_order_claim_holder", &r, SO_A(order_id, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *owner = r->nrows ? so_cell(r, 0, 0) : "";
    return APR_SUCCESS;
}

apr_status_t so_store_order_claim_take(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                       const char *from, const char *owner, apr_int64_t until)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_order_claim_take", &n,
                                 SO_A(owner, until, order_id, from));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return n == 1 ? APR_SUCCESS : APR_EBUSY;
}

static so_cert_t *cert_from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_cert_t *c = apr_pcalloc(p, sizeof(*c));
    c->id = so_cell_i64(r, i, CERT_ID);
    c->order_id = so_cell_i64(r, i, CERT_ORDER_ID);
    c->team_id = so_cell_i64(r, i, CERT_TEAM_ID);
    c->serial = so_cell(r, i, CERT_SERIAL);
    c->pem = so_cell(r, i, CERT_PEM);
    c->intermediate_pem = so_cell(r, i, CERT_INTERMEDIATE_PEM);
    c->root_pem = so_cell(r, i, CERT_ROOT_PEM);
    c->common_name = so_cell(r, i, CERT_COMMON_NAME);
    c->names = so_cell(r, i, CERT_NAMES);
    c->not_before = so_cell_i64(r, i, CERT_NOT_BEFORE);
    c->not_after = so_cell_i64(r, i, CERT_NOT_AFTER);
    c->sha256 = so_cell(r, i, CERT_SHA256);
    c->revoked_at = so_cell_i64(r, i, CERT_REVOKED_AT);
    c->revoke_reason = so_cell_int(r, i, CERT_REVOKE_REASON);
    c->is_current = so_cell_int(r, i, CERT_IS_CURRENT);
    c->created_at = so_cell_i64(r, i, CERT_CREATED_AT);
    return c;
}

apr_status_t so_store_cert_insert(so_db_t *db, apr_pool_t *p, so_cert_t *c)
{
    so_rows_t *r;
    int pg = db->kind == SO_DB_PGSQL; /* (one statement there, two on SQLite) */
    apr_status_t rv = pg ? APR_SUCCESS
                         : so_db_exec(db, p, "so_cert_uncurrent", NULL, SO_A(c->order_id));
    if (rv == APR_SUCCESS) {
        rv = so_db_select(db, p, pg ? "so_cert_insert_current" : "so_cert_insert", &r,
                          SO_A(c->order_id, c->team_id, c->serial, c->pem,
                               c->intermediate_pem, c->root_pem, c->common_name, c->names,
                               c->not_before, c->not_after, c->sha256, c->created_at,
                               c->spki_sha256 ? c->spki_sha256 : ""));
    }
    if (rv == APR_SUCCESS) {
        c->id = so_cell_i64(r, 0, 0);
        c->is_current = 1;
    }
    return rv;
}

apr_status_t so_store_cert_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                               so_cert_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_cert_get", &r, SO_A(team_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *out = cert_from_row(p, r, 0);
    return APR_SUCCESS;
}

/* the certificates a statement selects (CERT_COLS) */
static apr_status_t certs_of(so_db_t *db, apr_pool_t *p, const char *stmt, apr_array_header_t **out,
                             int nargs, const so_arg_t *args)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, stmt, &r, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(so_cert_t *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_cert_t *) = cert_from_row(p, r, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_certs_compromised(so_db_t *db, apr_pool_t *p, apr_int64_t now,
                                        apr_array_header_t **out)
{
    return certs_of(db, p, "so_certs_compromised", out, SO_A(now));
}

apr_status_t so_store_certs_spki_missing(so_db_t *db, apr_pool_t *p, apr_int64_t now,
                                         apr_array_header_t **out)
{
    return certs_of(db, p, "so_certs_spki_missing", out, SO_A(now));
}

apr_status_t so_store_cert_spki_set(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *spki)
{
    return so_db_exec(db, p, "so_cert_spki_set", NULL, SO_A(spki, id));
}

apr_status_t so_store_certs_of_order(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t order_id, apr_array_header_t **out)
{
    return certs_of(db, p, "so_certs_of_order", out, SO_A(team_id, order_id));
}

static void current_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    apr_hash_t *by_order = baton;
    int i;
    for (i = 0; i < rows->nrows; i++) {
        so_cert_t *c = cert_from_row(p, rows, i);
        apr_hash_set(by_order, apr_pmemdup(p, &c->order_id, sizeof(c->order_id)),
                     sizeof(c->order_id), c);
    }
}

apr_status_t so_store_certs_current(so_db_t *db, apr_pool_t *p, apr_array_header_t *orders,
                                    apr_hash_t **by_order)
{
    apr_array_header_t *ids = apr_array_make(p, orders->nelts ? orders->nelts : 1,
                                             sizeof(apr_int64_t));
    int i;

    *by_order = apr_hash_make(p);
    for (i = 0; i < orders->nelts; i++) {
        so_order_t *o = APR_ARRAY_IDX(orders, i, so_order_t *);
        if (o->active_date != 0) { /* never issued: nothing to fetch */
            APR_ARRAY_PUSH(ids, apr_int64_t) = o->id;
        }
    }
    return so_db_select_in(db, p,
                           "SELECT " CERT_COLS " FROM certificates WHERE is_current = 1 AND "
                           "order_id IN (",
                           ")", 0, NULL, ids, current_rows, *by_order);
}

apr_status_t so_store_cert_revoke(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t when,
                                  int reason)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_cert_revoke", &n, SO_A(when, reason, id));
    return rv == APR_SUCCESS && n == 0 ? APR_EBUSY : rv;
}

apr_status_t so_store_certs_revoked(so_db_t *db, apr_pool_t *p, apr_int64_t since,
                                    apr_array_header_t **out)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_certs_revoked", &r, SO_A(since));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(so_cert_t *));
    for (i = 0; i < r->nrows; i++) {
        so_cert_t *c = apr_pcalloc(p, sizeof(*c));
        c->serial = so_cell(r, i, REV_SERIAL);
        c->revoked_at = so_cell_i64(r, i, REV_REVOKED_AT);
        c->revoke_reason = so_cell_int(r, i, REV_REVOKE_REASON);
        APR_ARRAY_PUSH(*out, so_cert_t *) = c;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_approval_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t order_id, const char *email, apr_int64_t now,
                                      apr_int64_t ttl, const char **token)
{
    const char *t;
    apr_status_t rv = so_random_hex(&t, p, 20);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = so_db_exec(db, p, "so_approval_insert", NULL,
                    SO_A(so_secret_hash(p, t), order_id, team_id, email, now,
                         now + ttl));
    if (rv == APR_SUCCESS) {
        *token = t;
    }
    return rv;
}

apr_status_t so_store_approval_lookup(so_db_t *db, apr_pool_t *p, const char *token,
                                      apr_int64_t now, apr_int64_t *team_id, apr_int64_t *order_id,
                                      const char **email, apr_int64_t *approval_id)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_approval_lookup", &r,
                                   SO_A(so_secret_hash(p, token), now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *approval_id = so_cell_i64(r, 0, APPR_ID);
    *team_id = so_cell_i64(r, 0, APPR_TEAM_ID);
    *order_id = so_cell_i64(r, 0, APPR_ORDER_ID);
    *email = so_cell(r, 0, APPR_EMAIL);
    return APR_SUCCESS;
}

apr_status_t so_store_approval_use(so_db_t *db, apr_pool_t *p, apr_int64_t approval_id,
                                   apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_approval_use", &n, SO_A(now, approval_id));
    return rv == APR_SUCCESS && n == 0 ? APR_EBUSY : rv;
}

apr_status_t so_store_approvals_drop(so_db_t *db, apr_pool_t *p, apr_int64_t order_id)
{
    return so_db_exec_later(db, p, "so_approvals_drop", SO_A(order_id));
}

apr_status_t so_store_approval_open(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t now, int *open)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_approval_open", &r, SO_A(order_id, now));
    if (rv == APR_SUCCESS) {
        *open = so_cell_int(r, 0, 0) > 0;
    }
    return rv;
}

apr_status_t so_store_reminder_mark(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                    apr_int64_t expiry, int offset, apr_int64_t now)
{
    return so_db_exec(db, p, "so_reminder_mark", NULL,
                      SO_A(order_id, expiry, offset, now));
}

apr_status_t so_store_job_orders(so_db_t *db, apr_pool_t *p, const char *what, apr_int64_t now,
                                 int limit, apr_array_header_t **ids, apr_array_header_t **teams)
{
    const char *label;
    apr_int64_t when = now;
    so_rows_t *r;
    apr_status_t rv;
    int i;

    if (!strcmp(what, "dcv")) {
        label = "so_job_dcv";
    }
    else if (!strcmp(what, "expire")) {
        label = "so_job_expire";
    }
    else if (!strcmp(what, "reissue")) {
        label = "so_job_reissue";
    }
    else if (!strcmp(what, "autorenew")) {
        label = "so_job_autorenew";
        when = now + 30 * 86400;
    }
    else if (!strcmp(what, "reminders")) {
        label = "so_job_reminders";
    }
    else {
        return APR_EINVAL;
    }
    rv = so_db_select(db, p, label, &r, SO_A(when, now, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *ids = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(apr_int64_t));
    *teams = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(apr_int64_t));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) = so_cell_i64(r, i, JOB_ID);
        APR_ARRAY_PUSH(*teams, apr_int64_t) = so_cell_i64(r, i, JOB_TEAM_ID);
    }
    return APR_SUCCESS;
}
