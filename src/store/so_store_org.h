/* mod_sslorders: account organisation in the database: folders (a tree per team,
 * each order in exactly one folder) and tags (team tags on orders and on
 * individual certificates). Every function takes the team: another team's rows
 * are APR_ENOENT. The rules without the database are in src/core/so_folder.h. */
#ifndef SO_STORE_ORG_H
#define SO_STORE_ORG_H

#include <apr_hash.h>
#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    apr_int64_t parent_id; /* 0 = at the root */
    const char *name;
    const char *role;      /* "" or one of so_folder_roles (an original folder) */
    int is_default;        /* the team's default folder (new orders land here) */
    apr_int64_t orders;    /* orders directly in it (so_store_folders only) */
    apr_int64_t created_at;
} so_folder_t;

/* Every folder of a team with its direct order count (so_folder_t*), by parent and
 * name. */
apr_status_t so_store_folders(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_array_header_t **out);
/* One folder (without its order count); APR_ENOENT when not the team's. */
apr_status_t so_store_folder_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 so_folder_t **out);
/* Lock the team's folders until the end of the caller's transaction, so that tree
 * changes of one team never interleave (every team has at least one folder). */
apr_status_t so_store_folders_lock(so_db_t *db, apr_pool_t *p, apr_int64_t team_id);
/* The five original folders of a new team, "default" being its default folder
 * (inside the caller's transaction). */
apr_status_t so_store_folders_create_defaults(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                              apr_int64_t now);
/* The folder of parent_id named name (case-insensitive), APR_ENOENT when none. */
apr_status_t so_store_folder_by_name(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t parent_id, const char *name, apr_int64_t *id);
/* SO_EDBUNIQUE when the parent already holds that name. */
apr_status_t so_store_folder_insert(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t parent_id, const char *name, const char *role,
                                    apr_int64_t now, apr_int64_t *id);
/* Rename and/or move (SO_EDBUNIQUE when the new parent holds the name). */
apr_status_t so_store_folder_update(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t id, apr_int64_t parent_id, const char *name);
apr_status_t so_store_folder_set_role(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                      apr_int64_t id, const char *role);
/* Make id the team's one default folder. */
apr_status_t so_store_folder_set_default(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_int64_t id);
/* Delete id and everything below it; their orders are left without a folder
 * (*released of them) until so_store_orders_refile(). */
apr_status_t so_store_folder_delete_tree(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                         apr_int64_t id, int *released, int *deleted);
/* Put the team's orders that have no folder into folder_id. */
apr_status_t so_store_orders_refile(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t folder_id, int *moved);
/* Move one order (APR_ENOENT when it is not the team's). */
apr_status_t so_store_order_move(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, apr_int64_t folder_id);
/* Auto arrange every order of the team (the rules of so_folder_arrange_role). */
apr_status_t so_store_orders_arrange(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t now, apr_int64_t expired, apr_int64_t revoked,
                                     apr_int64_t dflt, apr_int64_t active, int *moved);
/* The SQL condition "o.folder_id is folder_id or below it" with its 2 arguments
 * (folder, team), for the order list. */
extern const char *const so_store_folder_subtree_cond;

/* The team's folders among folder_ids (the folders of a page of orders):
 * folder id -> so_folder_t*. */
apr_status_t so_store_folders_by_id(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    const apr_array_header_t *folder_ids, apr_hash_t **out);

/* ---- tags ------------------------------------------------------------------ */

typedef struct {
    apr_int64_t id;
    const char *name;
    apr_int64_t orders;       /* orders tagged with it */
    apr_int64_t certificates; /* certificates tagged with it */
    apr_int64_t created_at;
} so_tag_t;

/* The team's tags, the most used first; pattern ("" = all) is a LIKE pattern on
 * the lower-cased name. */
apr_status_t so_store_tags(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *pattern,
                           int limit, int offset, apr_array_header_t **out, apr_int64_t *total);
apr_status_t so_store_tag_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                              so_tag_t **out);
/* SO_EDBUNIQUE when the team has a tag of that name. */
apr_status_t so_store_tag_insert(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *name,
                                 apr_int64_t now, apr_int64_t *id);
/* The id of the tag name, created when missing (concurrent callers agree). */
apr_status_t so_store_tag_ensure(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *name,
                                 apr_int64_t now, apr_int64_t *id);
apr_status_t so_store_tag_rename(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                 const char *name);
/* Delete a tag and every use of it. */
apr_status_t so_store_tag_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id);

/* Tags of one order (serial NULL) or of one of its certificates (serial: upper hex). */
apr_status_t so_store_tags_of(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_int64_t order_id, const char *serial, apr_array_header_t **out);
apr_status_t so_store_tag_attach(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial, apr_int64_t tag_id,
                                 apr_int64_t now);
/* *removed is 0 when it was not attached. */
apr_status_t so_store_tag_detach(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial, apr_int64_t tag_id,
                                 int *removed);
apr_status_t so_store_tags_clear(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, const char *serial);

/* The tags of a page of orders: order id -> apr_array_header_t* of const char*
 * (names, sorted); certificate tags: order id -> apr_array_header_t* of so_cert_tags_t. */
typedef struct {
    const char *serial;
    apr_array_header_t *tags; /* const char* */
} so_cert_tags_t;
apr_status_t so_store_orders_tags(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  const apr_array_header_t *order_ids, apr_hash_t **order_tags,
                                  apr_hash_t **cert_tags);

#endif
