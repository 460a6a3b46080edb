/* mod_sslorders: schema migrations.
 *
 * Migrations are numbered; the table so_schema records each applied one. They
 * run automatically when httpd starts (in the parent, before any child connects
 * through mod_dbd) and by hand with `sslordersctl migrate`. Two servers starting
 * at once are safe: PostgreSQL takes an advisory lock, SQLite a write lock
 * (BEGIN IMMEDIATE), and each migration checks again inside its transaction.
 *
 * Version ranges, so that work on separate features does not collide:
 *   1-99 accounts and plumbing, 100-199 order API, 200-299 issuance,
 *   300-399 bundles/seals/documents, 400-499 organisation (folders, tags, cart),
 *   500-599 data derived for caches (the order list's team versions).
 */
#ifndef SO_SCHEMA_H
#define SO_SCHEMA_H

#include "so_db.h"

typedef struct {
    int version;
    const char *name;
    /* statements separated by ";\n"; {{ID}} becomes an auto-increment primary
     * key, {{BLOB}} a binary column type for the driver; a statement that starts
     * with {{SQLITE}} runs on SQLite alone, one with {{PGSQL}} on PostgreSQL alone */
    const char *sql;
} so_migration_t;

/* Apply every migration not yet applied. *applied (may be NULL) receives how
 * many were applied now. */
apr_status_t so_schema_migrate(so_db_t *db, apr_pool_t *p, int *applied, const char **err);
/* Seconds a SQLite migration waits for another process's lock (another server migrating
 * the same file) before it fails. */
#define SO_SCHEMA_SQLITE_WAIT 30
/* The same for the migrations below version `below` only: a database as an older
 * release left it (the upgrade tests). */
apr_status_t so_schema_migrate_below(so_db_t *db, apr_pool_t *p, int below, int *applied,
                                     const char **err);
/* The highest applied version (0 for an empty database) and the newest known. */
apr_status_t so_schema_version(so_db_t *db, apr_pool_t *p, int *current);
/* The planner's statistics of every table gathered now (ANALYZE: after a bulk load, before
 * PostgreSQL's autovacuum or ever on SQLite, the planner knows the new sizes); on
 * PostgreSQL the tables vacuumed too (VACUUM (ANALYZE): the new rows all-visible). Not in
 * a transaction. */
apr_status_t so_schema_analyze(so_db_t *db);
int so_schema_latest(void);

#endif
