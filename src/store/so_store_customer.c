#include <ctype.h>
#include <string.h>

#include <apr_strings.h>

#include "so_store_customer.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_customer[] = {
    {102, "contact handles",
     "CREATE TABLE customers (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  handle TEXT NOT NULL UNIQUE,\n"
     "  company_name TEXT NOT NULL DEFAULT '',\n"
     "  first_name TEXT NOT NULL,\n"
     "  last_name TEXT NOT NULL,\n"
     "  initials TEXT NOT NULL DEFAULT '',\n"
     "  prefix TEXT NOT NULL DEFAULT '',\n"
     "  street TEXT NOT NULL DEFAULT '',\n"
     "  number TEXT NOT NULL DEFAULT '',\n"
     "  suffix TEXT NOT NULL DEFAULT '',\n"
     "  zipcode TEXT NOT NULL DEFAULT '',\n"
     "  city TEXT NOT NULL DEFAULT '',\n"
     "  state TEXT NOT NULL DEFAULT '',\n"
     "  country TEXT NOT NULL,\n"
     "  phone_country_code TEXT NOT NULL DEFAULT '',\n"
     "  phone_area_code TEXT NOT NULL DEFAULT '',\n"
     "  phone_subscriber_number TEXT NOT NULL DEFAULT '',\n"
     "  email TEXT NOT NULL,\n"
     "  vat TEXT NOT NULL DEFAULT '',\n"
     "  locale TEXT NOT NULL DEFAULT '',\n"
     "  comments TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL);\n"
     "CREATE INDEX customers_team ON customers (team_id, handle)"},
    {0, NULL, NULL}};

#define CUSTOMER_COLUMNS(X)                                                                      \
    X(CUST_ID, "id") X(CUST_TEAM_ID, ", team_id") X(CUST_HANDLE, ", handle")                     \
    X(CUST_COMPANY_NAME, ", company_name") X(CUST_FIRST_NAME, ", first_name")                    \
    X(CUST_LAST_NAME, ", last_name") X(CUST_INITIALS, ", initials") X(CUST_PREFIX, ", prefix")   \
    X(CUST_STREET, ", street") X(CUST_NUMBER, ", number") X(CUST_SUFFIX, ", suffix")             \
    X(CUST_ZIPCODE, ", zipcode") X(CUST_CITY, ", city") X(CUST_STATE, ", state")                 \
    X(CUST_COUNTRY, ", country") X(CUST_PHONE_COUNTRY_CODE, ", phone_country_code")              \
    X(CUST_PHONE_AREA_CODE, ", phone_area_code")                                                 \
    X(CUST_PHONE_SUBSCRIBER_NUMBER, ", phone_subscriber_number") X(CUST_EMAIL, ", email")        \
    X(CUST_VAT, ", vat") X(CUST_LOCALE, ", locale") X(CUST_COMMENTS, ", comments")               \
    X(CUST_CREATED_AT, ", created_at") X(CUST_UPDATED_AT, ", updated_at")
enum { CUSTOMER_COLUMNS(SO_COL_POS) CUSTOMER_NCOLS };
#define CUSTOMER_COLS CUSTOMER_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_customer[] = {
    {"so_customer_insert",
     "INSERT INTO customers (team_id, handle, company_name, first_name, last_name, initials, "
     "prefix, street, number, suffix, zipcode, city, state, country, phone_country_code, "
     "phone_area_code, phone_subscriber_number, email, vat, locale, comments, created_at, "
     "updated_at) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
     "%s, %s, %s, %s, %lld, %lld) RETURNING id", 1},
    {"so_customer_get",
     "SELECT " CUSTOMER_COLS " FROM customers WHERE team_id = %lld AND handle = %s",
     CUSTOMER_NCOLS},
    {"so_customer_update",
     "UPDATE customers SET company_name = %s, first_name = %s, last_name = %s, initials = %s, "
     "prefix = %s, street = %s, number = %s, suffix = %s, zipcode = %s, city = %s, state = %s, "
     "country = %s, phone_country_code = %s, phone_area_code = %s, "
     "phone_subscriber_number = %s, email = %s, vat = %s, locale = %s, comments = %s, "
     "updated_at = %lld WHERE team_id = %lld AND handle = %s", 0},
    {"so_customer_in_use",
     "SELECT id FROM orders WHERE team_id = %lld AND (organization_handle = %s OR "
     "technical_handle = %s OR administrative_handle = %s OR billing_handle = %s) LIMIT 1", 1},
    {"so_customer_delete", "DELETE FROM customers WHERE team_id = %lld AND handle = %s", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

static so_customer_t *from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_customer_t *c = apr_pcalloc(p, sizeof(*c));
    c->id = so_cell_i64(r, i, CUST_ID);
    c->team_id = so_cell_i64(r, i, CUST_TEAM_ID);
    c->handle = so_cell(r, i, CUST_HANDLE);
    c->company_name = so_cell(r, i, CUST_COMPANY_NAME);
    c->first_name = so_cell(r, i, CUST_FIRST_NAME);
    c->last_name = so_cell(r, i, CUST_LAST_NAME);
    c->initials = so_cell(r, i, CUST_INITIALS);
    c->prefix = so_cell(r, i, CUST_PREFIX);
    c->street = so_cell(r, i, CUST_STREET);
    c->number = so_cell(r, i, CUST_NUMBER);
    c->suffix = so_cell(r, i, CUST_SUFFIX);
    c->zipcode = so_cell(r, i, CUST_ZIPCODE);
    c->city = so_cell(r, i, CUST_CITY);
    c->state = so_cell(r, i, CUST_STATE);
    c->country = so_cell(r, i, CUST_COUNTRY);
    c->phone_country_code = so_cell(r, i, CUST_PHONE_COUNTRY_CODE);
    c->phone_area_code = so_cell(r, i, CUST_PHONE_AREA_CODE);
    c->phone_subscriber_number = so_cell(r, i, CUST_PHONE_SUBSCRIBER_NUMBER);
    c->email = so_cell(r, i, CUST_EMAIL);
    c->vat = so_cell(r, i, CUST_VAT);
    c->locale = so_cell(r, i, CUST_LOCALE);
    c->comments = so_cell(r, i, CUST_COMMENTS);
    c->created_at = so_cell_i64(r, i, CUST_CREATED_AT);
    c->updated_at = so_cell_i64(r, i, CUST_UPDATED_AT);
    return c;
}

static char initial(const char *s)
{
    for (; s && *s; s++) {
        if (isalpha((unsigned char)*s)) {
            return (char)toupper((unsigned char)*s);
        }
    }
    return 'X';
}

apr_status_t so_store_customer_create(so_db_t *db, apr_pool_t *p, so_customer_t *c, apr_int64_t now)
{
    int attempt;
    apr_status_t rv = APR_EGENERAL;

    for (attempt = 0; attempt < 8; attempt++) {
        const char *digits;
        so_rows_t *rows;
        if ((rv = so_random_chars(&digits, p, 6, "0123456789")) != APR_SUCCESS) {
            return rv;
        }
        c->handle = apr_psprintf(p, "%c%c%s-%s", initial(c->first_name), initial(c->last_name),
                                 digits, c->country);
        rv = so_db_select(db, p, "so_customer_insert", &rows,
                          SO_A(c->team_id, c->handle, c->company_name, c->first_name,
                               c->last_name, c->initials, c->prefix, c->street, c->number,
                               c->suffix, c->zipcode, c->city, c->state, c->country,
                               c->phone_country_code, c->phone_area_code,
                               c->phone_subscriber_number, c->email, c->vat, c->locale,
                               c->comments, now, now));
        if (rv == APR_SUCCESS) {
            c->id = so_cell_i64(rows, 0, 0);
            c->created_at = c->updated_at = now;
            if (!db->trans) {
                db->committed = 1;
            }
            return APR_SUCCESS;
        }
        if (rv != SO_EDBUNIQUE || db->trans) {
            return rv; /* inside a transaction a failed statement ends it */
        }
    }
    return rv;
}

apr_status_t so_store_customer_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   const char *handle, so_customer_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_customer_get", &rows, SO_A(team_id, handle));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_customers_list(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     const char *pattern, int limit, int offset,
                                     apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    const char *where = pattern ? " AND (LOWER(handle) LIKE %s ESCAPE '\\' OR LOWER(first_name) "
                                  "LIKE %s ESCAPE '\\' OR LOWER(last_name) LIKE %s ESCAPE '\\' OR "
                                  "LOWER(company_name) LIKE %s ESCAPE '\\' OR LOWER(email) LIKE %s "
                                  "ESCAPE '\\')"
                                : "";
    const char *pl = pattern;
    apr_int64_t t = team_id;
    apr_status_t rv;
    int i;

    if (pattern) {
        rv = so_db_select_sql(db, p, apr_pstrcat(p, "SELECT COUNT(*) FROM customers WHERE team_id = %lld", where, NULL),
                              &count, SO_A(t, pl, pl, pl, pl, pl));
    }
    else {
        rv = so_db_select_sql(db, p, "SELECT COUNT(*) FROM customers WHERE team_id = %lld", &count,
                              SO_A(t));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    if (pattern) {
        rv = so_db_select_sql(db, p,
                              apr_pstrcat(p, "SELECT " CUSTOMER_COLS
                                          " FROM customers WHERE team_id = %lld", where,
                                          " ORDER BY id LIMIT %d OFFSET %d", NULL),
                              &rows, SO_A(t, pl, pl, pl, pl, pl, limit, offset));
    }
    else {
        rv = so_db_select_sql(db, p,
                              "SELECT " CUSTOMER_COLS " FROM customers WHERE team_id = %lld "
                              "ORDER BY id LIMIT %d OFFSET %d",
                              &rows, SO_A(t, limit, offset));
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_customer_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_customer_t *) = from_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_customer_update(so_db_t *db, apr_pool_t *p, const so_customer_t *c,
                                      apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_customer_update", &n,
                                 SO_A(c->company_name, c->first_name, c->last_name, c->initials,
                                      c->prefix, c->street, c->number, c->suffix, c->zipcode,
                                      c->city, c->state, c->country, c->phone_country_code,
                                      c->phone_area_code, c->phone_subscriber_number, c->email,
                                      c->vat, c->locale, c->comments, now, c->team_id,
                                      c->handle));
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_customer_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      const char *handle)
{
    so_rows_t *rows;
    int n = 0;
    apr_status_t rv;
    apr_int64_t t = team_id;

    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_db_select(db, p, "so_customer_in_use", &rows, SO_A(t, handle, handle, handle, handle));
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        rv = SO_EDBFOREIGN;
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_customer_delete", &n, SO_A(t, handle));
        if (rv == APR_SUCCESS && n == 0) {
            rv = APR_ENOENT;
        }
    }
    return so_db_end(db, rv);
}
