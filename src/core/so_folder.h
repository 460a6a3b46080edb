/* mod_sslorders: the rules of the account organisation that need no database:
 * folder names and the folder tree, tag names, and who may change whose role in a
 * team (no httpd types).
 *
 * Folders form a tree per team, like directories. Every team starts with the five
 * original folders of SSL.com's portal, each with a role that stays with it when it
 * is renamed or moved: archived, default, expired, active, revoked. "default" is
 * also the team's default folder at first (any folder can be made the default).
 */
#ifndef SO_FOLDER_H
#define SO_FOLDER_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SO_FOLDER_NAME_MAX 64   /* characters */
#define SO_FOLDER_MAX_DEPTH 16  /* levels below the root */
#define SO_FOLDERS_MAX 1000     /* folders per team */
#define SO_TAG_NAME_MAX 255     /* characters */

/* The roles of the five original folders, in the order they are created;
 * NULL-terminated. Each original folder is named after its role. */
extern const char *const so_folder_roles[];
/* 1 when role is one of them. */
int so_folder_role_ok(const char *role);

/* A folder name: 1 to SO_FOLDER_NAME_MAX characters, ASCII letters, digits, spaces
 * and underscores, not only spaces. The name is used as given after trimming the
 * spaces at both ends (*out). Returns NULL when it is fine, else why not. */
const char *so_folder_name_check(apr_pool_t *p, const char *name, const char **out);
/* The key names are unique by within their parent (case-insensitive). */
const char *so_folder_name_key(apr_pool_t *p, const char *name);

/* A tag name: 1 to SO_TAG_NAME_MAX characters of printable UTF-8 (no control
 * characters), spaces at both ends trimmed into *out. NULL when fine, else why not. */
const char *so_tag_name_check(apr_pool_t *p, const char *name, const char **out);

/* The tree: nodes (id, parent_id; parent 0 = the root) of one team. */
typedef struct {
    apr_int64_t id;
    apr_int64_t parent_id;
} so_folder_node_t;

/* 1 when id is ancestor or lies below it (cycle safe). */
int so_folder_within(const so_folder_node_t *nodes, int n, apr_int64_t id, apr_int64_t ancestor);
/* Levels from the root to id (a root folder is at depth 1; 0 for the root itself
 * or an unknown id). */
int so_folder_depth(const so_folder_node_t *nodes, int n, apr_int64_t id);
/* Levels of the subtree of id (1 for a folder without subfolders). */
int so_folder_height(apr_pool_t *p, const so_folder_node_t *nodes, int n, apr_int64_t id);
/* The ids of id's subtree, id first (apr_int64_t). */
apr_array_header_t *so_folder_subtree(apr_pool_t *p, const so_folder_node_t *nodes, int n,
                                      apr_int64_t id);
/* Can folder id move below new_parent (0 = the root)? NULL when it can, else why
 * not (into itself or its own subtree; deeper than SO_FOLDER_MAX_DEPTH). */
const char *so_folder_move_check(apr_pool_t *p, const so_folder_node_t *nodes, int n,
                                 apr_int64_t id, apr_int64_t new_parent);

/* Auto arrange: the role of the folder an order goes to: "expired" (EXP, or ACT
 * past its expiry), "revoked" (REJ, FAI: revoked or cancelled), "default" (PAI,
 * REQ: paid, not issued yet) or "active" (everything else). The store runs the
 * same rules in SQL (so_store_orders_arrange); the unit tests hold both to it. */
const char *so_folder_arrange_role(const char *status, apr_int64_t expiration_date,
                                   apr_int64_t now);

/* Team roles as numbers (the order of so_role_t: 1 viewer, 2 member, 3 admin,
 * 4 owner; 0 = not a member). May an actor of role actor change a member from
 * role from (0 = not yet a member) to role to (0 = removed)? Owners may do
 * anything; admins may add, change and remove admins, members and viewers but
 * never touch an owner or make one; others nothing. (The last owner rule needs
 * the database: see the API.) */
int so_member_change_allowed(int actor, int from, int to);

#endif
