#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "so_store_org.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_folder.h"
#include "../core/so_util.h"

/* The five original folders of every existing team, inserted by the migration. */
#define DEFAULT_FOLDER_SQL(role, dflt)                                                            \
    "INSERT INTO folders (team_id, parent_id, name, name_key, role, is_default, created_at) "     \
    "SELECT id, 0, '" role "', '" role "', '" role "', " dflt ", created_at FROM teams;\n"

const so_migration_t so_migrations_org[] = {
    {400, "folders",
     "CREATE TABLE folders (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  parent_id BIGINT NOT NULL DEFAULT 0,\n"
     "  name TEXT NOT NULL,\n"
     "  name_key TEXT NOT NULL,\n"
     "  role TEXT NOT NULL DEFAULT '',\n"
     "  is_default INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE UNIQUE INDEX folders_name ON folders (team_id, parent_id, name_key);\n"
     "CREATE UNIQUE INDEX folders_role ON folders (team_id, role) WHERE role <> '';\n"
     "CREATE UNIQUE INDEX folders_default ON folders (team_id) WHERE is_default = 1;\n"
     DEFAULT_FOLDER_SQL("archived", "0")
     DEFAULT_FOLDER_SQL("default", "1")
     DEFAULT_FOLDER_SQL("expired", "0")
     DEFAULT_FOLDER_SQL("active", "0")
     DEFAULT_FOLDER_SQL("revoked", "0")
     "ALTER TABLE orders ADD COLUMN folder_id BIGINT REFERENCES folders(id);\n"
     "UPDATE orders SET folder_id = (SELECT f.id FROM folders f WHERE f.team_id = orders.team_id "
     "AND f.is_default = 1);\n"
     "CREATE INDEX orders_team_folder ON orders (team_id, folder_id)"},
    {401, "tags",
     "CREATE TABLE tags (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  name TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE UNIQUE INDEX tags_team_name ON tags (team_id, name);\n"
     "CREATE TABLE order_tags (\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (order_id, tag_id));\n"
     "CREATE INDEX order_tags_tag ON order_tags (tag_id);\n"
     "CREATE TABLE certificate_tags (\n"
     "  order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n"
     "  serial TEXT NOT NULL,\n"
     "  tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (order_id, serial, tag_id));\n"
     "CREATE INDEX certificate_tags_tag ON certificate_tags (tag_id)"},
    {0, NULL, NULL}};

/* folder_id and everything below it (recursive; UNION stops on cycles) */
#define SUBTREE                                                                                   \
    "(WITH RECURSIVE sub(id) AS (SELECT CAST(%lld AS BIGINT) UNION SELECT f.id FROM folders f "    \
    "JOIN sub ON f.parent_id = sub.id WHERE f.team_id = %lld) SELECT id FROM sub)"

const char *const so_store_folder_subtree_cond = "o.folder_id IN " SUBTREE;

/* a folder */
#define FD_COLUMNS(X)                                                                             \
    X(FD_ID, "id") X(FD_TEAM_ID, ", team_id") X(FD_PARENT_ID, ", parent_id") X(FD_NAME, ", name") \
    X(FD_ROLE, ", role") X(FD_IS_DEFAULT, ", is_default") X(FD_CREATED_AT, ", created_at")
enum { FD_COLUMNS(SO_COL_POS) FD_NCOLS };
#define FD_COLS FD_COLUMNS(SO_COL_SQL)
/* the number of orders in a folder */
#define FC_COLUMNS(X) X(FC_FOLDER_ID, "folder_id") X(FC_ORDERS, ", COUNT(*)")
enum { FC_COLUMNS(SO_COL_POS) FC_NCOLS };
#define FC_COLS FC_COLUMNS(SO_COL_SQL)
/* a folder by id (so_store_folders_by_id) */
#define FB_COLUMNS(X)                                                                             \
    X(FB_ID, "id") X(FB_TEAM_ID, ", team_id") X(FB_NAME, ", name") X(FB_ROLE, ", role")          \
    X(FB_IS_DEFAULT, ", is_default")
enum { FB_COLUMNS(SO_COL_POS) FB_NCOLS };
#define FB_COLS FB_COLUMNS(SO_COL_SQL)
/* a tag with the number of its orders and certificates (so_tag_get; tag_from_row) */
#define TAG_COLUMNS(X)                                                                            \
    X(TAG_ID, "t.id") X(TAG_NAME, ", t.name") X(TAG_CREATED_AT, ", t.created_at")                \
    X(TAG_ORDERS, ", (SELECT COUNT(*) FROM order_tags ot WHERE ot.tag_id = t.id)")               \
    X(TAG_CERTS, ", (SELECT COUNT(*) FROM certificate_tags ct WHERE ct.tag_id = t.id)")
enum { TAG_COLUMNS(SO_COL_POS) TAG_NCOLS };
#define TAG_COLS TAG_COLUMNS(SO_COL_SQL)
/* the same columns as the outer list of so_tags_list (tag_from_row reads both) */
#define TAGS_COLUMNS(X)                                                                           \
    X(TAGS_ID, "id") X(TAGS_NAME, ", name") X(TAGS_CREATED_AT, ", created_at")                   \
    X(TAGS_ORDERS, ", n_orders") X(TAGS_CERTS, ", n_certs")
enum { TAGS_COLUMNS(SO_COL_POS) TAGS_NCOLS };
#define TAGS_COLS TAGS_COLUMNS(SO_COL_SQL)
_Static_assert((int)TAGS_NCOLS == (int)TAG_NCOLS && (int)TAGS_ID == (int)TAG_ID
                   && (int)TAGS_NAME == (int)TAG_NAME
                   && (int)TAGS_CREATED_AT == (int)TAG_CREATED_AT
                   && (int)TAGS_ORDERS == (int)TAG_ORDERS && (int)TAGS_CERTS == (int)TAG_CERTS,
               "so_tags_list and so_tag_get select the same columns");
/* a tag of an order or a certificate */
#define TN_COLUMNS(X) X(TN_ID, "t.id") X(TN_NAME, ", t.name")
enum { TN_COLUMNS(SO_COL_POS) TN_NCOLS };
#define TN_COLS TN_COLUMNS(SO_COL_SQL)
/* the tags of a page of orders */
#define OT_COLUMNS(X) X(OT_ORDER_ID, "x.order_id") X(OT_NAME, ", t.name")
enum { OT_COLUMNS(SO_COL_POS) OT_NCOLS };
#define OT_COLS OT_COLUMNS(SO_COL_SQL)
/* the tags of their certificates */
#define CT_COLUMNS(X) X(CT_ORDER_ID, "x.order_id") X(CT_SERIAL, ", x.serial") X(CT_NAME, ", t.name")
enum { CT_COLUMNS(SO_COL_POS) CT_NCOLS };
#define CT_COLS CT_COLUMNS(SO_COL_SQL)

const so_stmt_def_t so_stmts_org[] = {
    {"so_folders_list",
     "SELECT " FD_COLS " FROM folders WHERE team_id = %lld ORDER BY parent_id, name_key, id",
     FD_NCOLS},
    {"so_folder_get", "SELECT " FD_COLS " FROM folders WHERE team_id = %lld AND id = %lld",
     FD_NCOLS},
    {"so_folders_counts",
     "SELECT " FC_COLS " FROM orders WHERE team_id = %lld GROUP BY folder_id", FC_NCOLS},
    {"so_folders_lock", "UPDATE folders SET created_at = created_at WHERE team_id = %lld", 0},
    {"so_folder_insert",
     "INSERT INTO folders (team_id, parent_id, name, name_key, role, is_default, created_at) "
     "VALUES (%lld, %lld, %s, %s, %s, %d, %lld) RETURNING id", 1},
    {"so_folder_by_name",
     "SELECT id FROM folders WHERE team_id = %lld AND parent_id = %lld AND name_key = %s", 1},
    {"so_folder_update",
     "UPDATE folders SET parent_id = %lld, name = %s, name_key = %s "
     "WHERE team_id = %lld AND id = %lld", 0},
    {"so_folder_set_role", "UPDATE folders SET role = %s WHERE team_id = %lld AND id = %lld", 0},
    {"so_folder_default_clear",
     "UPDATE folders SET is_default = 0 WHERE team_id = %lld AND is_default = 1", 0},
    {"so_folder_default_set",
     "UPDATE folders SET is_default = 1 WHERE team_id = %lld AND id = %lld", 0},
    {"so_folder_release_tree",
     "UPDATE orders SET folder_id = NULL WHERE team_id = %lld AND folder_id IN " SUBTREE, 0},
    {"so_folder_delete_tree", "DELETE FROM folders WHERE team_id = %lld AND id IN " SUBTREE, 0},
    {"so_orders_refile",
     "UPDATE orders SET folder_id = %lld WHERE team_id = %lld AND folder_id IS NULL", 0},
    {"so_order_move", "UPDATE orders SET folder_id = %lld WHERE team_id = %lld AND id = %lld", 0},
    {"so_orders_arrange",
     /* keep in step with so_folder_arrange_role() */
     "UPDATE orders SET folder_id = CASE "
     "WHEN status = 'EXP' OR (status = 'ACT' AND expiration_date > 0 AND expiration_date <= %lld) "
     "THEN CAST(%lld AS BIGINT) "
     "WHEN status IN ('REJ', 'FAI') THEN CAST(%lld AS BIGINT) "
     "WHEN status IN ('PAI', 'REQ') THEN CAST(%lld AS BIGINT) "
     "ELSE CAST(%lld AS BIGINT) END WHERE team_id = %lld", 0},
    /* tags */
    {"so_tags_count",
     "SELECT COUNT(*) FROM tags WHERE team_id = %lld AND (%s = '' OR LOWER(name) LIKE %s ESCAPE '\\')", 1},
    {"so_tags_list",
     "SELECT " TAGS_COLS " FROM (SELECT t.id, t.name, t.created_at, "
     "(SELECT COUNT(*) FROM order_tags ot WHERE ot.tag_id = t.id) AS n_orders, "
     "(SELECT COUNT(*) FROM certificate_tags ct WHERE ct.tag_id = t.id) AS n_certs "
     "FROM tags t WHERE t.team_id = %lld AND (%s = '' OR LOWER(t.name) LIKE %s ESCAPE '\\')) x "
     "ORDER BY n_orders + n_certs DESC, name, id LIMIT %d OFFSET %d", TAGS_NCOLS},
    {"so_tag_get", "SELECT " TAG_COLS " FROM tags t WHERE t.team_id = %lld AND t.id = %lld",
     TAG_NCOLS},
    {"so_tag_by_name", "SELECT id FROM tags WHERE team_id = %lld AND name = %s", 1},
    {"so_tag_insert",
     "INSERT INTO tags (team_id, name, created_at) VALUES (%lld, %s, %lld) RETURNING id", 1},
    {"so_tag_ensure",
     "INSERT INTO tags (team_id, name, created_at) VALUES (%lld, %s, %lld) "
     "ON CONFLICT (team_id, name) DO NOTHING", 0},
    {"so_tag_rename", "UPDATE tags SET name = %s WHERE team_id = %lld AND id = %lld", 0},
    {"so_tag_unuse_orders", "DELETE FROM order_tags WHERE team_id = %lld AND tag_id = %lld", 0},
    {"so_tag_unuse_certs", "DELETE FROM certificate_tags WHERE team_id = %lld AND tag_id = %lld", 0},
    {"so_tag_delete", "DELETE FROM tags WHERE team_id = %lld AND id = %lld", 0},
    {"so_order_tags",
     "SELECT " TN_COLS " FROM order_tags x JOIN tags t ON t.id = x.tag_id "
     "WHERE x.team_id = %lld AND x.order_id = %lld ORDER BY t.name", TN_NCOLS},
    {"so_cert_tags",
     "SELECT " TN_COLS " FROM certificate_tags x JOIN tags t ON t.id = x.tag_id "
     "WHERE x.team_id = %lld AND x.order_id = %lld AND x.serial = %s ORDER BY t.name", TN_NCOLS},
    {"so_order_tag_add",
     "INSERT INTO order_tags (order_id, tag_id, team_id, created_at) VALUES (%lld, %lld, %lld, %lld) "
     "ON CONFLICT (order_id, tag_id) DO NOTHING", 0},
    {"so_cert_tag_add",
     "INSERT INTO certificate_tags (order_id, serial, tag_id, team_id, created_at) "
     "VALUES (%lld, %s, %lld, %lld, %lld) ON CONFLICT (order_id, serial, tag_id) DO NOTHING", 0},
    {"so_order_tag_remove",
     "DELETE FROM order_tags WHERE team_id = %lld AND order_id = %lld AND tag_id = %lld", 0},
    {"so_cert_tag_remove",
     "DELETE FROM certificate_tags WHERE team_id = %lld AND order_id = %lld AND serial = %s "
     "AND tag_id = %lld", 0},
    {"so_order_tags_clear", "DELETE FROM order_tags WHERE team_id = %lld AND order_id = %lld", 0},
    {"so_cert_tags_clear",
     "DELETE FROM certificate_tags WHERE team_id = %lld AND order_id = %lld AND serial = %s", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

/* ---- helpers --------------------------------------------------------------- */

/* Queries about a page of orders bind a fixed number of ids (the last one repeated
 * as padding), so that their SQL text is always the same (one cached statement)
 * and stays within the placeholders a statement may have. */
/* the rows of ids of the team, in batches (so_db_select_in) */
static apr_status_t select_in(so_db_t *db, apr_pool_t *p, const char *head, const char *tail,
                              apr_int64_t team_id, const apr_array_header_t *ids, so_rows_cb *cb,
                              void *baton)
{
    so_arg_t team = so_arg_int(team_id);
    return so_db_select_in(db, p, head, tail, 1, &team, ids, cb, baton);
}

static apr_status_t select_id(so_db_t *db, apr_pool_t *p, const char *label, apr_int64_t *id,
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
    *id = so_cell_i64(rows, 0, 0);
    return APR_SUCCESS;
}

static apr_status_t exec_one(so_db_t *db, apr_pool_t *p, const char *label, int nargs,
                             const so_arg_t *args)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, label, &n, nargs, args);
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

/* ---- folders ----------------------------------------------------------------- */

apr_status_t so_store_folders(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_array_header_t **out)
{
    so_rows_t *rows, *counts;
    apr_hash_t *by_id = apr_hash_make(p);
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_folders_list", &rows, SO_A(team_id))) != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_folders_counts", &counts, SO_A(team_id)))
               != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_folder_t *));
    for (i = 0; i < rows->nrows; i++) {
        so_folder_t *f = apr_pcalloc(p, sizeof(*f));
        f->id = so_cell_i64(rows, i, FD_ID);
        f->team_id = so_cell_i64(rows, i, FD_TEAM_ID);
        f->parent_id = so_cell_i64(rows, i, FD_PARENT_ID);
        f->name = so_cell(rows, i, FD_NAME);
        f->role = so_cell(rows, i, FD_ROLE);
        f->is_default = so_cell_int(rows, i, FD_IS_DEFAULT);
        f->created_at = so_cell_i64(rows, i, FD_CREATED_AT);
        apr_hash_set(by_id, &f->id, sizeof(f->id), f);
        APR_ARRAY_PUSH(*out, so_folder_t *) = f;
    }
    for (i = 0; i < counts->nrows; i++) {
        apr_int64_t fid = so_cell_i64(counts, i, FC_FOLDER_ID);
        so_folder_t *f = apr_hash_get(by_id, &fid, sizeof(fid));
        if (f) {
            f->orders = so_cell_i64(counts, i, FC_ORDERS);
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_store_folder_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 so_folder_t **out)
{
    so_rows_t *rows;
    so_folder_t *f;
    apr_status_t rv = so_db_select(db, p, "so_folder_get", &rows, SO_A(team_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    f = apr_pcalloc(p, sizeof(*f));
    f->id = so_cell_i64(rows, 0, FD_ID);
    f->team_id = so_cell_i64(rows, 0, FD_TEAM_ID);
    f->parent_id = so_cell_i64(rows, 0, FD_PARENT_ID);
    f->name = so_cell(rows, 0, FD_NAME);
    f->role = so_cell(rows, 0, FD_ROLE);
    f->is_default = so_cell_int(rows, 0, FD_IS_DEFAULT);
    f->created_at = so_cell_i64(rows, 0, FD_CREATED_AT);
    *out = f;
    return APR_SUCCESS;
}

apr_status_t so_store_folders_lock(so_db_t *db, apr_pool_t *p, apr_int64_t team_id)
{
    return so_db_exec(db, p, "so_folders_lock", NULL, SO_A(team_id));
}

static apr_status_t folder_insert(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t parent_id, const char *name, const char *role,
                                  int is_default, apr_int64_t now, apr_int64_t *id)
{
    return select_id(db, p, "so_folder_insert", id,
                     SO_A(team_id, parent_id, name, so_folder_name_key(p, name),
                          role ? role : "", is_default, now));
}

apr_status_t so_store_folders_create_defaults(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                              apr_int64_t now)
{
    apr_status_t rv = APR_SUCCESS;
    apr_int64_t id;
    int i;
    for (i = 0; rv == APR_SUCCESS && so_folder_roles[i]; i++) {
        rv = folder_insert(db, p, team_id, 0, so_folder_roles[i], so_folder_roles[i],
                           !strcmp(so_folder_roles[i], "default"), now, &id);
    }
    return rv;
}

apr_status_t so_store_folder_by_name(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t parent_id, const char *name, apr_int64_t *id)
{
    return select_id(db, p, "so_folder_by_name", id,
                     SO_A(team_id, parent_id, so_folder_name_key(p, name)));
}

apr_status_t so_store_folder_insert(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t parent_id, const char *name, const char *role,
                                    apr_int64_t now, apr_int64_t *id)
{
    return folder_insert(db, p, team_id, parent_id, name, role, 0, now, id);
}

apr_status_t so_store_folder_update(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t id, apr_int64_t parent_id, const char *name)
{
    return exec_one(db, p, "so_folder_update",
                    SO_A(parent_id, name, so_folder_name_key(p, name), team_id, id));
}

apr_status_t so_store_folder_set_role(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t id, const char *role)
{
    return exec_one(db, p, "so_folder_set_role", SO_A(role, team_id, id));
}

apr_status_t so_store_folder_set_default(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_int64_t id)
{
    apr_status_t rv = so_db_exec(db, p, "so_folder_default_clear", NULL, SO_A(team_id));
    return rv == APR_SUCCESS ? exec_one(db, p, "so_folder_default_set", SO_A(team_id, id))
                             : rv;
}

apr_status_t so_store_folder_delete_tree(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_int64_t id, int *released, int *deleted)
{
    apr_status_t rv = so_db_exec(db, p, "so_folder_release_tree", released,
                                 SO_A(team_id, id, team_id));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_folder_delete_tree", deleted,
                        SO_A(team_id, id, team_id));
    }
    return rv;
}

apr_status_t so_store_orders_refile(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t folder_id, int *moved)
{
    return so_db_exec(db, p, "so_orders_refile", moved, SO_A(folder_id, team_id));
}

apr_status_t so_store_order_move(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, apr_int64_t folder_id)
{
    return exec_one(db, p, "so_order_move", SO_A(folder_id, team_id, order_id));
}

apr_status_t so_store_orders_arrange(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t now, apr_int64_t expired, apr_int64_t revoked,
                                     apr_int64_t dflt, apr_int64_t active, int *moved)
{
    return so_db_exec(db, p, "so_orders_arrange", moved,
                      SO_A(now, expired, revoked, dflt, active,
                           team_id));
}

typedef struct {
    apr_hash_t *out;
    apr_int64_t team_id;
} folders_baton_t;

static void folders_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    folders_baton_t *b = baton;
    int i;
    for (i = 0; i < rows->nrows; i++) {
        so_folder_t *f;
        if (so_cell_i64(rows, i, FB_TEAM_ID) != b->team_id) {
            continue;
        }
        f = apr_pcalloc(p, sizeof(*f));
        f->id = so_cell_i64(rows, i, FB_ID);
        f->name = so_cell(rows, i, FB_NAME);
        f->role = so_cell(rows, i, FB_ROLE);
        f->is_default = so_cell_int(rows, i, FB_IS_DEFAULT);
        apr_hash_set(b->out, &f->id, sizeof(f->id), f);
    }
}

apr_status_t so_store_folders_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    const apr_array_header_t *folder_ids, apr_hash_t **out)
{
    /* SQLite: by primary key alone (a team_id condition lets its planner walk all of the
     * team's folders instead). PostgreSQL: by team first (its plan for "id = ANY(ids)",
     * made once for any ids, scans a small folders table whole). The team is checked on
     * each row. */
    folders_baton_t *b = apr_palloc(p, sizeof(*b));
    so_arg_t team = so_arg_int(team_id);
    int pg = db->kind == SO_DB_PGSQL;
    b->out = *out = apr_hash_make(p);
    b->team_id = team_id;
    return so_db_select_in(db, p,
                           pg ? "SELECT " FB_COLS " FROM folders WHERE team_id = %lld AND id IN ("
                              : "SELECT " FB_COLS " FROM folders WHERE id IN (",
                           ")", pg, &team, folder_ids, folders_rows, b);
}

/* ---- tags ---------------------------------------------------------------------- */

static so_tag_t *tag_from_row(apr_pool_t *p, so_rows_t *rows, int i)
{
    so_tag_t *t = apr_pcalloc(p, sizeof(*t));
    t->id = so_cell_i64(rows, i, TAG_ID);
    t->name = so_cell(rows, i, TAG_NAME);
    t->created_at = so_cell_i64(rows, i, TAG_CREATED_AT);
    t->orders = so_cell_i64(rows, i, TAG_ORDERS);
    t->certificates = so_cell_i64(rows, i, TAG_CERTS);
    return t;
}

apr_status_t so_store_tags(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *pattern,
                           int limit, int offset, apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *count;
    apr_status_t rv;
    int i;
    const char *pat = pattern ? pattern : "";

    if ((rv = so_db_select(db, p, "so_tags_count", &count, SO_A(team_id, pat, pat)))
            != APR_SUCCESS
        || (rv = so_db_select(db, p, "so_tags_list", &rows,
                              SO_A(team_id, pat, pat, limit, offset)))
               != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_tag_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_tag_t *) = tag_from_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_tag_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                              so_tag_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_tag_get", &rows, SO_A(team_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = tag_from_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_tag_insert(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *name,
                                 apr_int64_t now, apr_int64_t *id)
{
    return select_id(db, p, "so_tag_insert", id, SO_A(team_id, name, now));
}

apr_status_t so_store_tag_ensure(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *name,
                                 apr_int64_t now, apr_int64_t *id)
{
    apr_status_t rv = select_id(db, p, "so_tag_by_name", id, SO_A(team_id, name));
    if (rv != APR_ENOENT) {
        return rv;
    }
    rv = so_db_exec(db, p, "so_tag_ensure", NULL, SO_A(team_id, name, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return select_id(db, p, "so_tag_by_name", id, SO_A(team_id, name));
}

apr_status_t so_store_tag_rename(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 const char *name)
{
    return exec_one(db, p, "so_tag_rename", SO_A(name, team_id, id));
}

apr_status_t so_store_tag_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id)
{
    apr_status_t rv = so_db_exec(db, p, "so_tag_unuse_orders", NULL, SO_A(team_id, id));
    if (rv == APR_SUCCESS) {
        rv = so_db_exec(db, p, "so_tag_unuse_certs", NULL, SO_A(team_id, id));
    }
    return rv == APR_SUCCESS ? exec_one(db, p, "so_tag_delete", SO_A(team_id, id)) : rv;
}

apr_status_t so_store_tags_of(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_int64_t order_id, const char *serial, apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = serial ? so_db_select(db, p, "so_cert_tags", &rows, SO_A(team_id, order_id, serial))
                : so_db_select(db, p, "so_order_tags", &rows, SO_A(team_id, order_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_tag_t *));
    for (i = 0; i < rows->nrows; i++) {
        so_tag_t *t = apr_pcalloc(p, sizeof(*t));
        t->id = so_cell_i64(rows, i, TN_ID);
        t->name = so_cell(rows, i, TN_NAME);
        APR_ARRAY_PUSH(*out, so_tag_t *) = t;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_tag_attach(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial, apr_int64_t tag_id,
                                 apr_int64_t now)
{
    if (serial) {
        return so_db_exec(db, p, "so_cert_tag_add", NULL,
                          SO_A(order_id, serial, tag_id, team_id, now));
    }
    return so_db_exec(db, p, "so_order_tag_add", NULL,
                      SO_A(order_id, tag_id, team_id, now));
}

apr_status_t so_store_tag_detach(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial, apr_int64_t tag_id,
                                 int *removed)
{
    *removed = 0;
    if (serial) {
        return so_db_exec(db, p, "so_cert_tag_remove", removed,
                          SO_A(team_id, order_id, serial, tag_id));
    }
    return so_db_exec(db, p, "so_order_tag_remove", removed,
                      SO_A(team_id, order_id, tag_id));
}

apr_status_t so_store_tags_clear(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial)
{
    if (serial) {
        return so_db_exec(db, p, "so_cert_tags_clear", NULL, SO_A(team_id, order_id, serial));
    }
    return so_db_exec(db, p, "so_order_tags_clear", NULL, SO_A(team_id, order_id));
}

static apr_array_header_t *names_of(apr_pool_t *p, apr_hash_t *h, apr_int64_t order_id)
{
    apr_array_header_t *a = apr_hash_get(h, &order_id, sizeof(order_id));
    if (!a) {
        apr_int64_t *key = apr_palloc(p, sizeof(*key));
        *key = order_id;
        a = apr_array_make(p, 4, sizeof(void *));
        apr_hash_set(h, key, sizeof(*key), a);
    }
    return a;
}

static void order_tag_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    int i;
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(names_of(p, baton, so_cell_i64(rows, i, OT_ORDER_ID)), const char *) =
            so_cell(rows, i, OT_NAME);
    }
}

static void cert_tag_rows(void *baton, apr_pool_t *p, so_rows_t *rows)
{
    int i;
    for (i = 0; i < rows->nrows; i++) {
        apr_array_header_t *certs = names_of(p, baton, so_cell_i64(rows, i, CT_ORDER_ID));
        const char *serial = so_cell(rows, i, CT_SERIAL);
        so_cert_tags_t *c = certs->nelts ? APR_ARRAY_IDX(certs, certs->nelts - 1, so_cert_tags_t *)
                                         : NULL;
        if (!c || strcmp(c->serial, serial)) {
            c = apr_pcalloc(p, sizeof(*c));
            c->serial = serial;
            c->tags = apr_array_make(p, 2, sizeof(const char *));
            APR_ARRAY_PUSH(certs, so_cert_tags_t *) = c;
        }
        APR_ARRAY_PUSH(c->tags, const char *) = so_cell(rows, i, CT_NAME);
    }
}

apr_status_t so_store_orders_tags(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  const apr_array_header_t *order_ids, apr_hash_t **order_tags,
                                  apr_hash_t **cert_tags)
{
    apr_status_t rv;
    *order_tags = apr_hash_make(p);
    *cert_tags = apr_hash_make(p);
    rv = select_in(db, p,
                   "SELECT " OT_COLS " FROM order_tags x JOIN tags t ON t.id = x.tag_id "
                   "WHERE x.team_id = %lld AND x.order_id IN (",
                   ") ORDER BY x.order_id, t.name", team_id, order_ids, order_tag_rows,
                   *order_tags);
    if (rv == APR_SUCCESS) {
        rv = select_in(db, p,
                       "SELECT " CT_COLS " FROM certificate_tags x "
                       "JOIN tags t ON t.id = x.tag_id WHERE x.team_id = %lld AND x.order_id IN (",
                       ") ORDER BY x.order_id, x.serial, t.name", team_id, order_ids, cert_tag_rows,
                       *cert_tags);
    }
    return rv;
}
