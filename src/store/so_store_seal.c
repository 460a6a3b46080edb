/* mod_sslorders: seals and validation documents (see so_store_seal.h). */
#include <string.h>

#include <apr_strings.h>

#include "so_store_seal.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_seal.h"
#include "../core/so_util.h"

#include "so_store.h"

const so_migration_t so_migrations_seal[] = {
    {300, "seals and validation documents",
     "CREATE TABLE seals (\n"
     "  order_id BIGINT PRIMARY KEY REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  seal_id TEXT NOT NULL UNIQUE,\n"
     "  enabled INTEGER NOT NULL DEFAULT 1,\n"
     "  artifacts_enabled INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL);\n"
     "CREATE TABLE documents (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL,\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  name TEXT NOT NULL,\n"
     "  doc_type TEXT NOT NULL,\n"
     "  size BIGINT NOT NULL,\n"
     "  sha256 TEXT NOT NULL,\n"
     "  status TEXT NOT NULL DEFAULT 'pending',\n"
     "  reason TEXT NOT NULL DEFAULT '',\n"
     "  published INTEGER NOT NULL DEFAULT 0,\n"
     "  uploaded_by TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  decided_at BIGINT NOT NULL DEFAULT 0,\n"
     "  decided_by TEXT NOT NULL DEFAULT '');\n"
     "CREATE INDEX documents_order ON documents (order_id, id);\n"
     "CREATE INDEX documents_status ON documents (status, id);\n"
     "CREATE TABLE document_data (\n"
     "  document_id BIGINT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,\n"
     "  data TEXT NOT NULL);\n"
     "ALTER TABLE orders ADD COLUMN org_documents TEXT NOT NULL DEFAULT ''"},
    {0, NULL, NULL}};

/* a seal; T names the table ("" or "s.") so so_seal_facts reads it at the same positions */
#define SEAL_COLUMNS(X, T)                                                                       \
    X(SEAL_ORDER_ID, T "order_id") X(SEAL_TEAM_ID, ", " T "team_id")                             \
    X(SEAL_SEAL_ID, ", " T "seal_id") X(SEAL_ENABLED, ", " T "enabled")                          \
    X(SEAL_ARTIFACTS, ", " T "artifacts_enabled") X(SEAL_CREATED_AT, ", " T "created_at")        \
    X(SEAL_UPDATED_AT, ", " T "updated_at")
enum { SEAL_COLUMNS(SO_COL_POS, "") SEAL_NCOLS };
#define SEAL_COLS SEAL_COLUMNS(SO_COL_SQL, "")

/* so_seal_facts: the seal (as "s."), then its order, certificate and organization */
#define FACT_COLUMNS(X)                                                                          \
    X(FACT_COMMON_NAME, ", o.common_name") X(FACT_STATUS, ", o.status")                          \
    X(FACT_VALIDATION_METHOD, ", p.validation_method") X(FACT_CERT_ID, ", c.id")                 \
    X(FACT_NAMES, ", c.names") X(FACT_PEM, ", c.pem") X(FACT_NOT_BEFORE, ", c.not_before")       \
    X(FACT_NOT_AFTER, ", c.not_after") X(FACT_REVOKED_AT, ", c.revoked_at")                      \
    X(FACT_COMPANY_NAME, ", cu.company_name") X(FACT_FIRST_NAME, ", cu.first_name")              \
    X(FACT_LAST_NAME, ", cu.last_name") X(FACT_CITY, ", cu.city") X(FACT_STATE, ", cu.state")    \
    X(FACT_COUNTRY, ", cu.country")
enum { FACT_SEAL_LAST = SEAL_NCOLS - 1, FACT_COLUMNS(SO_COL_POS) FACT_NCOLS };
#define FACT_COLS SEAL_COLUMNS(SO_COL_SQL, "s.") FACT_COLUMNS(SO_COL_SQL)

#define DOC_COLUMNS(X)                                                                           \
    X(DOC_ID, "d.id") X(DOC_TEAM_ID, ", d.team_id") X(DOC_ORDER_ID, ", d.order_id")              \
    X(DOC_NAME, ", d.name") X(DOC_TYPE, ", d.doc_type") X(DOC_SIZE, ", d.size")                  \
    X(DOC_SHA256, ", d.sha256") X(DOC_STATUS, ", d.status") X(DOC_REASON, ", d.reason")          \
    X(DOC_PUBLISHED, ", d.published") X(DOC_UPLOADED_BY, ", d.uploaded_by")                      \
    X(DOC_CREATED_AT, ", d.created_at") X(DOC_DECIDED_AT, ", d.decided_at")                      \
    X(DOC_DECIDED_BY, ", d.decided_by")
enum { DOC_COLUMNS(SO_COL_POS) DOC_NCOLS };
#define DOC_COLS DOC_COLUMNS(SO_COL_SQL)

/* so_docs_by_status: a document, then its team's slug and order's common name */
#define DOC_QUEUE_COLUMNS(X) X(DOC_TEAM_SLUG, ", t.slug") X(DOC_COMMON_NAME, ", o.common_name")
enum { DOC_LAST = DOC_NCOLS - 1, DOC_QUEUE_COLUMNS(SO_COL_POS) DOC_QUEUE_NCOLS };
#define DOC_QUEUE_COLS DOC_COLS DOC_QUEUE_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_seal[] = {
    {"so_seal_insert",
     "INSERT INTO seals (order_id, team_id, seal_id, created_at, updated_at) VALUES "
     "(%lld, %lld, %s, %lld, %lld) ON CONFLICT (order_id) DO NOTHING", 0},
    {"so_seal_get",
     "SELECT " SEAL_COLS " FROM seals WHERE order_id = %lld AND team_id = %lld", SEAL_NCOLS},
    {"so_seal_set",
     "UPDATE seals SET enabled = %d, artifacts_enabled = %d, updated_at = %lld "
     "WHERE order_id = %lld", 0},
    {"so_seal_facts",
     "SELECT " FACT_COLS " FROM seals s JOIN orders o ON o.id = s.order_id "
     "JOIN products p ON p.id = o.product_id "
     "LEFT JOIN certificates c ON c.order_id = o.id AND c.is_current = 1 "
     "LEFT JOIN customers cu ON cu.team_id = o.team_id AND cu.handle = o.organization_handle "
     "WHERE s.seal_id = %s", FACT_NCOLS},
    {"so_doc_insert",
     "INSERT INTO documents (team_id, order_id, name, doc_type, size, sha256, uploaded_by, "
     "created_at) VALUES (%lld, %lld, %s, %s, %lld, %s, %s, %lld) RETURNING id", 1},
    {"so_doc_data_insert", "INSERT INTO document_data (document_id, data) VALUES (%lld, %s)", 0},
    {"so_doc_count", "SELECT COUNT(*) FROM documents WHERE order_id = %lld", 1},
    {"so_docs_of_order",
     "SELECT " DOC_COLS " FROM documents d WHERE d.team_id = %lld AND d.order_id = %lld "
     "ORDER BY d.id", DOC_NCOLS},
    {"so_docs_published",
     "SELECT " DOC_COLS " FROM documents d WHERE d.order_id = %lld AND d.published = 1 AND "
     "d.status = 'accepted' ORDER BY d.id", DOC_NCOLS},
    {"so_doc_get",
     "SELECT " DOC_COLS " FROM documents d WHERE d.team_id = %lld AND d.order_id = %lld AND "
     "d.id = %lld", DOC_NCOLS},
    {"so_doc_get_any", "SELECT " DOC_COLS " FROM documents d WHERE d.id = %lld", DOC_NCOLS},
    {"so_doc_data", "SELECT data FROM document_data WHERE document_id = %lld", 1},
    {"so_doc_delete", "DELETE FROM documents WHERE id = %lld AND status = 'pending'", 0},
    {"so_doc_publish",
     "UPDATE documents SET published = %d WHERE id = %lld AND status = 'accepted'", 0},
    {"so_doc_decide",
     "UPDATE documents SET status = %s, reason = %s, decided_by = %s, decided_at = %lld, "
     "published = 0 WHERE id = %lld AND status = 'pending'", 0},
    {"so_docs_by_status",
     "SELECT " DOC_QUEUE_COLS " FROM documents d JOIN teams t ON t.id = d.team_id "
     "JOIN orders o ON o.id = d.order_id WHERE d.status = %s ORDER BY d.id LIMIT %d",
     DOC_QUEUE_NCOLS},
    {"so_org_documents_set", "UPDATE orders SET org_documents = %s WHERE id = %lld", 0},
    {"so_org_documents_get", "SELECT org_documents FROM orders WHERE id = %lld", 1},
    {NULL, NULL, 0}};

static so_seal_row_t *seal_from(apr_pool_t *p, so_rows_t *r, int i, so_seal_row_t *s)
{
    if (!s) {
        s = apr_pcalloc(p, sizeof(*s));
    }
    s->order_id = so_cell_i64(r, i, SEAL_ORDER_ID);
    s->team_id = so_cell_i64(r, i, SEAL_TEAM_ID);
    s->seal_id = apr_pstrdup(p, so_cell(r, i, SEAL_SEAL_ID));
    s->enabled = so_cell_int(r, i, SEAL_ENABLED);
    s->artifacts = so_cell_int(r, i, SEAL_ARTIFACTS);
    s->created_at = so_cell_i64(r, i, SEAL_CREATED_AT);
    s->updated_at = so_cell_i64(r, i, SEAL_UPDATED_AT);
    return s;
}

apr_status_t so_store_seal_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                               apr_int64_t order_id, apr_int64_t now)
{
    const char *id;
    apr_status_t rv = so_seal_new_id(&id, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_db_exec_later(db, p, "so_seal_insert", SO_A(order_id, team_id, id, now, now));
}

apr_status_t so_store_seal_ensure(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t order_id, apr_int64_t now, so_seal_row_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_seal_get", &r, SO_A(order_id, team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        /* (in a PostgreSQL transaction the insert goes with the read that follows) */
        if ((rv = so_store_seal_add(db, p, team_id, order_id, now)) != APR_SUCCESS) {
            return rv;
        }
        rv = so_db_select(db, p, "so_seal_get", &r, SO_A(order_id, team_id));
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (r->nrows == 0) {
            return APR_ENOENT;
        }
    }
    *out = seal_from(p, r, 0, NULL);
    return APR_SUCCESS;
}

apr_status_t so_store_seal_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, int enabled,
                               int artifacts, apr_int64_t now)
{
    return so_db_exec(db, p, "so_seal_set", NULL,
                      SO_A(enabled, artifacts, now, order_id));
}

apr_status_t so_store_seal_facts(so_db_t *db, apr_pool_t *p, const char *seal_id,
                                 so_seal_facts_t **out)
{
    so_rows_t *r;
    so_seal_facts_t *f;
    apr_status_t rv = so_db_select(db, p, "so_seal_facts", &r, SO_A(seal_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    f = apr_pcalloc(p, sizeof(*f));
    seal_from(p, r, 0, &f->seal);
    f->common_name = apr_pstrdup(p, so_cell(r, 0, FACT_COMMON_NAME));
    f->status = apr_pstrdup(p, so_cell(r, 0, FACT_STATUS));
    f->validation_method = apr_pstrdup(p, so_cell(r, 0, FACT_VALIDATION_METHOD));
    f->has_cert = !so_cell_isnull(r, 0, FACT_CERT_ID);
    f->names = apr_pstrdup(p, so_cell(r, 0, FACT_NAMES));
    f->cert_pem = apr_pstrdup(p, so_cell(r, 0, FACT_PEM));
    f->not_before = so_cell_i64(r, 0, FACT_NOT_BEFORE);
    f->not_after = so_cell_i64(r, 0, FACT_NOT_AFTER);
    f->revoked_at = so_cell_i64(r, 0, FACT_REVOKED_AT);
    if (!so_cell_isnull(r, 0, FACT_COMPANY_NAME)) {
        const char *company = so_cell(r, 0, FACT_COMPANY_NAME);
        f->org_name = *company ? apr_pstrdup(p, company)
                               : apr_pstrcat(p, so_cell(r, 0, FACT_FIRST_NAME), " ",
                                             so_cell(r, 0, FACT_LAST_NAME), NULL);
        f->org_city = apr_pstrdup(p, so_cell(r, 0, FACT_CITY));
        f->org_state = apr_pstrdup(p, so_cell(r, 0, FACT_STATE));
        f->org_country = apr_pstrdup(p, so_cell(r, 0, FACT_COUNTRY));
    }
    *out = f;
    return APR_SUCCESS;
}

static so_doc_t *doc_from(apr_pool_t *p, so_rows_t *r, int i)
{
    so_doc_t *d = apr_pcalloc(p, sizeof(*d));
    d->id = so_cell_i64(r, i, DOC_ID);
    d->team_id = so_cell_i64(r, i, DOC_TEAM_ID);
    d->order_id = so_cell_i64(r, i, DOC_ORDER_ID);
    d->name = apr_pstrdup(p, so_cell(r, i, DOC_NAME));
    d->type = apr_pstrdup(p, so_cell(r, i, DOC_TYPE));
    d->size = so_cell_i64(r, i, DOC_SIZE);
    d->sha256 = apr_pstrdup(p, so_cell(r, i, DOC_SHA256));
    d->status = apr_pstrdup(p, so_cell(r, i, DOC_STATUS));
    d->reason = apr_pstrdup(p, so_cell(r, i, DOC_REASON));
    d->published = so_cell_int(r, i, DOC_PUBLISHED);
    d->uploaded_by = apr_pstrdup(p, so_cell(r, i, DOC_UPLOADED_BY));
    d->created_at = so_cell_i64(r, i, DOC_CREATED_AT);
    d->decided_at = so_cell_i64(r, i, DOC_DECIDED_AT);
    d->decided_by = apr_pstrdup(p, so_cell(r, i, DOC_DECIDED_BY));
    if (r->ncols > DOC_COMMON_NAME) {
        d->team_slug = apr_pstrdup(p, so_cell(r, i, DOC_TEAM_SLUG));
        d->common_name = apr_pstrdup(p, so_cell(r, i, DOC_COMMON_NAME));
    }
    return d;
}

static apr_array_header_t *docs_from(apr_pool_t *p, so_rows_t *r)
{
    apr_array_header_t *a = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(so_doc_t *));
    int i;
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(a, so_doc_t *) = doc_from(p, r, i);
    }
    return a;
}

apr_status_t so_store_doc_insert(so_db_t *db, apr_pool_t *p, so_doc_t *d, const char *data_b64)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_doc_insert", &r,
                                   SO_A(d->team_id, d->order_id, d->name, d->type,
                                        d->size, d->sha256, d->uploaded_by ? d->uploaded_by : "",
                                        d->created_at));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows != 1) {
        return APR_EGENERAL;
    }
    d->id = so_cell_i64(r, 0, 0);
    d->status = "pending";
    d->reason = "";
    d->decided_by = "";
    return so_db_exec(db, p, "so_doc_data_insert", NULL, SO_A(d->id, data_b64));
}

apr_status_t so_store_doc_count(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, int *n)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_doc_count", &r, SO_A(order_id));
    if (rv == APR_SUCCESS) {
        *n = so_cell_int(r, 0, 0);
    }
    return rv;
}

apr_status_t so_store_docs_of_order(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t order_id, apr_array_header_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_docs_of_order", &r, SO_A(team_id, order_id));
    if (rv == APR_SUCCESS) {
        *out = docs_from(p, r);
    }
    return rv;
}

apr_status_t so_store_docs_published(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     apr_array_header_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_docs_published", &r, SO_A(order_id));
    if (rv == APR_SUCCESS) {
        *out = docs_from(p, r);
    }
    return rv;
}

apr_status_t so_store_doc_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_int64_t order_id, apr_int64_t id, so_doc_t **out)
{
    so_rows_t *r;
    apr_status_t rv = team_id < 0
                          ? so_db_select(db, p, "so_doc_get_any", &r, SO_A(id))
                          : so_db_select(db, p, "so_doc_get", &r,
                                         SO_A(team_id, order_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *out = doc_from(p, r, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_doc_data(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char **b64)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_doc_data", &r, SO_A(id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (r->nrows == 0) {
        return APR_ENOENT;
    }
    *b64 = apr_pstrdup(p, so_cell(r, 0, 0));
    return APR_SUCCESS;
}

apr_status_t so_store_doc_delete(so_db_t *db, apr_pool_t *p, apr_int64_t id)
{
    int n = 0;
    /* only while pending; the bytes go with it (ON DELETE CASCADE) */
    apr_status_t rv = so_db_exec(db, p, "so_doc_delete", &n, SO_A(id));
    return rv != APR_SUCCESS ? rv : n == 1 ? APR_SUCCESS : APR_EBUSY;
}

apr_status_t so_store_doc_publish(so_db_t *db, apr_pool_t *p, apr_int64_t id, int published)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_doc_publish", &n,
                                 SO_A(published ? 1 : 0, id));
    return rv != APR_SUCCESS ? rv : n == 1 ? APR_SUCCESS : APR_EBUSY;
}

apr_status_t so_store_doc_decide(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *status,
                                 const char *reason, const char *by, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_doc_decide", &n,
                                 SO_A(status, reason ? reason : "", by ? by : "", now, id));
    return rv != APR_SUCCESS ? rv : n == 1 ? APR_SUCCESS : APR_EBUSY;
}

apr_status_t so_store_docs_by_status(so_db_t *db, apr_pool_t *p, const char *status, int limit,
                                     apr_array_header_t **out)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_docs_by_status", &r, SO_A(status, limit));
    if (rv == APR_SUCCESS) {
        *out = docs_from(p, r);
    }
    return rv;
}

apr_status_t so_store_org_documents_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char *ids)
{
    return so_db_exec(db, p, "so_org_documents_set", NULL, SO_A(ids, order_id));
}

apr_status_t so_store_org_documents_get(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char **ids)
{
    so_rows_t *r;
    apr_status_t rv = so_db_select(db, p, "so_org_documents_get", &r, SO_A(order_id));
    if (rv == APR_SUCCESS) {
        *ids = apr_pstrdup(p, so_cell(r, 0, 0));
    }
    return rv;
}
