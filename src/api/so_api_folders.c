/* mod_sslorders: folders (a tree per team, like directories; each order is in
 * exactly one folder), moving orders, auto arrange, the order list's folder_id
 * filter and the orders' folder fields. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "so_api.h"
#include "so_api_org.h"
#include "../core/so_folder.h"
#include "../core/so_jsonw.h"
#include "../core/so_util.h"
#include "../store/so_store_org.h"

#define MAX_MOVE 1000 /* orders per move request */

/* ------------------------------------------------------------------------- */
/* helpers                                                                     */

apr_status_t so_api_paging(so_req_t *req, int def, int max, int *limit, int *offset)
{
    apr_int64_t l, o;
    if (so_q_int(req, "limit", def, 1, max, &l) || so_q_int(req, "offset", 0, 0, 1 << 30, &o)) {
        return APR_EINVAL;
    }
    *limit = (int)l;
    *offset = (int)o;
    return APR_SUCCESS;
}

static so_folder_t *find(apr_array_header_t *folders, apr_int64_t id)
{
    int i;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        if (f->id == id) {
            return f;
        }
    }
    return NULL;
}

static so_folder_t *find_role(apr_array_header_t *folders, const char *role)
{
    int i;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        if (!strcmp(f->role, role)) {
            return f;
        }
    }
    return NULL;
}

static so_folder_t *find_default(apr_array_header_t *folders)
{
    int i;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        if (f->is_default) {
            return f;
        }
    }
    return NULL;
}

static so_folder_node_t *nodes_of(apr_pool_t *p, apr_array_header_t *folders)
{
    so_folder_node_t *n = apr_pcalloc(p, sizeof(*n) * (apr_size_t)(folders->nelts + 1));
    int i;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        n[i].id = f->id;
        n[i].parent_id = f->parent_id;
    }
    return n;
}

static const char *path_of(apr_pool_t *p, apr_array_header_t *folders, so_folder_t *f)
{
    const char *path = f->name;
    int steps = 0;
    while (f->parent_id && steps++ < folders->nelts) {
        f = find(folders, f->parent_id);
        if (!f) {
            break;
        }
        path = apr_pstrcat(p, f->name, "/", path, NULL);
    }
    return path;
}

/* The children of every folder: parent id -> apr_array_header_t* of so_folder_t*. */
static apr_hash_t *children_of(apr_pool_t *p, apr_array_header_t *folders)
{
    apr_hash_t *h = apr_hash_make(p);
    int i;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        apr_array_header_t *a = apr_hash_get(h, &f->parent_id, sizeof(f->parent_id));
        if (!a) {
            a = apr_array_make(p, 4, sizeof(so_folder_t *));
            apr_hash_set(h, &f->parent_id, sizeof(f->parent_id), a);
        }
        APR_ARRAY_PUSH(a, so_folder_t *) = f;
    }
    return h;
}

static json_t *folder_json(so_req_t *req, apr_array_header_t *folders, so_folder_t *f,
                           apr_hash_t *children, int depth, apr_int64_t *total)
{
    apr_array_header_t *kids = children ? apr_hash_get(children, &f->id, sizeof(f->id)) : NULL;
    json_t *j, *arr = json_array();
    apr_int64_t sum = f->orders;
    int i;

    for (i = 0; kids && depth < SO_FOLDER_MAX_DEPTH + 1 && i < kids->nelts; i++) {
        apr_int64_t sub = 0;
        json_array_append_new(arr, folder_json(req, folders, APR_ARRAY_IDX(kids, i, so_folder_t *),
                                               children, depth + 1, &sub));
        sum += sub;
    }
    j = json_pack("{s:I,s:s,s:o,s:s,s:s,s:b,s:I,s:I,s:o}", "id", (json_int_t)f->id, "name",
                  f->name, "parent_id", f->parent_id ? json_integer(f->parent_id) : json_null(),
                  "path", path_of(req->pool, folders, f), "role", f->role, "is_default",
                  f->is_default, "orders", (json_int_t)f->orders, "orders_total", (json_int_t)sum,
                  "created_at", so_json_time(req->pool, f->created_at));
    if (children) {
        json_object_set_new(j, "children", arr);
    }
    else {
        json_decref(arr);
    }
    if (total) {
        *total = sum;
    }
    return j;
}

/* Start a change of the team's tree: a transaction, the folders locked and read. */
static apr_status_t tree_begin(so_req_t *req, apr_array_header_t **folders)
{
    so_db_t *db = so_req_db(req);
    apr_status_t rv = so_db_begin(db);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_folders_lock(db, req->pool, req->auth->team_id);
    if (rv == APR_SUCCESS) {
        rv = so_store_folders(db, req->pool, req->auth->team_id, folders);
    }
    if (rv != APR_SUCCESS) {
        so_db_rollback(db);
    }
    return rv;
}

/* Refuse inside a tree change: roll back and answer. */
static apr_status_t tree_refuse(so_req_t *req, int code, const char *desc, const char *data)
{
    so_db_rollback(so_req_db(req));
    return so_api_error(req, code, desc, data);
}

static apr_status_t no_folder(so_req_t *req, apr_int64_t id)
{
    return tree_refuse(req, SO_E_NOT_FOUND, apr_psprintf(req->pool, "No folder %" APR_INT64_T_FMT, id),
                       "");
}

/* The parent_id field: absent = keep (*present 0), null or 0 = the root. */
static apr_status_t read_parent(so_req_t *req, apr_int64_t *parent, int *present)
{
    json_t *v = json_object_get(req->json, "parent_id");
    *present = v != NULL;
    if (v && json_is_null(v)) {
        *parent = 0;
        return APR_SUCCESS;
    }
    return so_in_int(req, req->json, "parent_id", 0, 0, 0x7fffffff, parent, NULL);
}

static apr_status_t name_taken(so_req_t *req, apr_array_header_t *folders, apr_int64_t parent,
                               const char *name, apr_int64_t except, int *taken)
{
    const char *key = so_folder_name_key(req->pool, name);
    int i;
    *taken = 0;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        if (f->id != except && f->parent_id == parent
            && !strcmp(so_folder_name_key(req->pool, f->name), key)) {
            *taken = 1;
        }
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* GET /folders, GET /folders/{id}                                             */

static int matches(apr_pool_t *p, const char *name, const char *pattern)
{
    return !pattern || !*pattern || strstr(so_str_lower(p, name), so_str_lower(p, pattern)) != NULL;
}

static apr_status_t folders_list(so_req_t *req)
{
    apr_array_header_t *folders, *roots, *flat_list;
    apr_hash_t *children;
    const char *pattern = so_req_query(req, "pattern");
    so_folder_t *dflt;
    json_t *results = json_array(), *data;
    apr_int64_t zero = 0;
    apr_status_t rv;
    int limit, offset, flat, i, total;

    so_json_pool(req->pool, results);
    if (so_api_paging(req, 1000, 1000, &limit, &offset) || so_q_bool(req, "flat", 0, &flat)) {
        return APR_EINVAL;
    }
    if (pattern && strlen(pattern) > SO_FOLDER_NAME_MAX) {
        return so_api_error(req, SO_E_INVALID, "pattern is at most 64 characters", "");
    }
    if ((rv = so_store_folders(so_req_db(req), req->pool, req->auth->team_id, &folders))
        != APR_SUCCESS) {
        return rv;
    }
    children = children_of(req->pool, folders);
    if (flat || (pattern && *pattern)) {
        /* every folder (or those whose name holds pattern), in tree order */
        apr_array_header_t *stack = apr_array_make(req->pool, 16, sizeof(so_folder_t *));
        flat_list = apr_array_make(req->pool, folders->nelts + 1, sizeof(so_folder_t *));
        roots = apr_hash_get(children, &zero, sizeof(zero));
        for (i = roots ? roots->nelts - 1 : -1; i >= 0; i--) {
            APR_ARRAY_PUSH(stack, so_folder_t *) = APR_ARRAY_IDX(roots, i, so_folder_t *);
        }
        while (stack->nelts > 0 && flat_list->nelts <= folders->nelts) {
            so_folder_t *f = *(so_folder_t **)apr_array_pop(stack);
            apr_array_header_t *kids = apr_hash_get(children, &f->id, sizeof(f->id));
            if (matches(req->pool, f->name, pattern)) {
                APR_ARRAY_PUSH(flat_list, so_folder_t *) = f;
            }
            for (i = kids ? kids->nelts - 1 : -1; i >= 0; i--) {
                APR_ARRAY_PUSH(stack, so_folder_t *) = APR_ARRAY_IDX(kids, i, so_folder_t *);
            }
        }
        total = flat_list->nelts;
        for (i = offset; i < flat_list->nelts && i < offset + limit; i++) {
            json_array_append_new(results, folder_json(req, folders,
                                                       APR_ARRAY_IDX(flat_list, i, so_folder_t *),
                                                       NULL, 0, NULL));
        }
    }
    else {
        /* the tree: the root folders (paged) with their subfolders */
        roots = apr_hash_get(children, &zero, sizeof(zero));
        total = roots ? roots->nelts : 0;
        for (i = offset; roots && i < roots->nelts && i < offset + limit; i++) {
            json_array_append_new(results, folder_json(req, folders,
                                                       APR_ARRAY_IDX(roots, i, so_folder_t *),
                                                       children, 1, NULL));
        }
    }
    dflt = find_default(folders);
    data = json_pack("{s:O,s:i,s:i,s:o}", "results", results, "total", total, "folders",
                     folders->nelts, "default_folder_id",
                     dflt ? json_integer(dflt->id) : json_null());
    return so_api_ok(req, data);
}

static apr_status_t folder_get(so_req_t *req)
{
    apr_array_header_t *folders;
    so_folder_t *f;
    apr_int64_t id;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if ((rv = so_store_folders(so_req_db(req), req->pool, req->auth->team_id, &folders))
        != APR_SUCCESS) {
        return rv;
    }
    if (!(f = find(folders, id))) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No folder %" APR_INT64_T_FMT, id);
    }
    return so_api_ok(req, folder_json(req, folders, f, children_of(req->pool, folders), 1, NULL));
}

/* ------------------------------------------------------------------------- */
/* POST /folders                                                               */

static apr_status_t folder_create(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *folders;
    so_folder_node_t *nodes;
    const char *name = NULL, *why;
    apr_int64_t parent = 0, id;
    int has_parent, taken;
    apr_status_t rv;

    if (so_in_str(req, req->json, "name", 1, 1024, &name, NULL) != APR_SUCCESS
        || read_parent(req, &parent, &has_parent) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((why = so_folder_name_check(req->pool, name, &name)) != NULL) {
        return so_api_error(req, SO_E_FOLDER_NAME, why, "");
    }
    if ((rv = tree_begin(req, &folders)) != APR_SUCCESS) {
        return rv;
    }
    if (parent && !find(folders, parent)) {
        return no_folder(req, parent);
    }
    if (folders->nelts >= SO_FOLDERS_MAX) {
        return tree_refuse(req, SO_E_LIMIT,
                           apr_psprintf(req->pool, "A team has at most %d folders", SO_FOLDERS_MAX),
                           "");
    }
    nodes = nodes_of(req->pool, folders);
    if (so_folder_depth(nodes, folders->nelts, parent) + 1 > SO_FOLDER_MAX_DEPTH) {
        return tree_refuse(req, SO_E_FOLDER_MOVE,
                           apr_psprintf(req->pool, "folders nest at most %d levels deep",
                                        SO_FOLDER_MAX_DEPTH),
                           "");
    }
    name_taken(req, folders, parent, name, 0, &taken);
    if (taken) {
        return tree_refuse(req, SO_E_FOLDER_EXISTS,
                           apr_psprintf(req->pool, "There is a folder named %s there already", name),
                           "");
    }
    rv = so_store_folder_insert(db, req->pool, req->auth->team_id, parent, name, "", req->now, &id);
    if ((rv = so_db_end(db, rv)) == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_FOLDER_EXISTS, "There is a folder named %s there already",
                             name);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

/* ------------------------------------------------------------------------- */
/* PUT /folders/{id}: rename, move, make the default                           */

static apr_status_t folder_update(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *folders;
    so_folder_t *f;
    const char *name = NULL, *why;
    apr_int64_t id, parent = 0;
    int has_name = 0, has_parent = 0, has_default = 0, make_default = 0, taken;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (so_in_str(req, req->json, "name", 0, 1024, &name, &has_name) != APR_SUCCESS
        || read_parent(req, &parent, &has_parent) != APR_SUCCESS
        || so_in_bool(req, req->json, "is_default", 0, &make_default, &has_default) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!has_default
        && so_in_bool(req, req->json, "default", 0, &make_default, &has_default) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!has_name && !has_parent && !has_default) {
        return so_api_error(req, SO_E_INVALID, "give name, parent_id or is_default", "");
    }
    if (has_default && !make_default) {
        return so_api_error(req, SO_E_INVALID,
                            "is_default can only be set: make another folder the default instead",
                            "");
    }
    if (has_name && (why = so_folder_name_check(req->pool, name, &name)) != NULL) {
        return so_api_error(req, SO_E_FOLDER_NAME, why, "");
    }
    if ((rv = tree_begin(req, &folders)) != APR_SUCCESS) {
        return rv;
    }
    if (!(f = find(folders, id))) {
        return no_folder(req, id);
    }
    if (!has_name) {
        name = f->name;
    }
    if (!has_parent) {
        parent = f->parent_id;
    }
    if (parent && !find(folders, parent)) {
        return no_folder(req, parent);
    }
    if (parent != f->parent_id) {
        why = so_folder_move_check(req->pool, nodes_of(req->pool, folders), folders->nelts, id,
                                   parent);
        if (why) {
            return tree_refuse(req, SO_E_FOLDER_MOVE, why, "");
        }
    }
    name_taken(req, folders, parent, name, id, &taken);
    if (taken) {
        return tree_refuse(req, SO_E_FOLDER_EXISTS,
                           apr_psprintf(req->pool, "There is a folder named %s there already", name),
                           "");
    }
    rv = so_store_folder_update(db, req->pool, req->auth->team_id, id, parent, name);
    if (rv == APR_SUCCESS && make_default && !f->is_default) {
        rv = so_store_folder_set_default(db, req->pool, req->auth->team_id, id);
    }
    if ((rv = so_db_end(db, rv)) == SO_EDBUNIQUE) {
        return so_api_errorf(req, SO_E_FOLDER_EXISTS, "There is a folder named %s there already",
                             name);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok_id(req, id);
}

/* ------------------------------------------------------------------------- */
/* DELETE /folders/{id}                                                        */

/* After the default folder was deleted: the original "default" folder when it is
 * left, else a root folder named "default" (made one when there is none). */
static apr_status_t new_default(so_req_t *req, apr_array_header_t *folders,
                                apr_array_header_t *gone, apr_int64_t *out, int *created)
{
    so_db_t *db = so_req_db(req);
    apr_int64_t team = req->auth->team_id;
    so_folder_t *cand = NULL;
    int i, j, role_left = 0;
    apr_status_t rv;

    *created = 0;
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        int deleted = 0;
        for (j = 0; j < gone->nelts && !deleted; j++) {
            deleted = APR_ARRAY_IDX(gone, j, apr_int64_t) == f->id;
        }
        if (deleted) {
            continue;
        }
        if (!strcmp(f->role, "default")) {
            cand = f;
            role_left = 1;
            break;
        }
        if (!cand && f->parent_id == 0 && !strcmp(so_folder_name_key(req->pool, f->name), "default")) {
            cand = f;
        }
    }
    if (cand) {
        *out = cand->id;
        if (!role_left && !*cand->role
            && (rv = so_store_folder_set_role(db, req->pool, team, cand->id, "default")) != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        if ((rv = so_store_folder_insert(db, req->pool, team, 0, "default", "default", req->now, out))
            != APR_SUCCESS) {
            return rv;
        }
        *created = 1;
    }
    return so_store_folder_set_default(db, req->pool, team, *out);
}

static apr_status_t folder_delete(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *folders, *gone;
    so_folder_t *f, *dflt;
    apr_int64_t id, target;
    int released = 0, deleted = 0, moved = 0, created = 0, i, default_gone = 0;
    apr_status_t rv;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if ((rv = tree_begin(req, &folders)) != APR_SUCCESS) {
        return rv;
    }
    if (!(f = find(folders, id))) {
        return no_folder(req, id);
    }
    gone = so_folder_subtree(req->pool, nodes_of(req->pool, folders), folders->nelts, id);
    dflt = find_default(folders);
    target = dflt ? dflt->id : 0;
    for (i = 0; i < gone->nelts; i++) {
        default_gone |= APR_ARRAY_IDX(gone, i, apr_int64_t) == target;
    }
    rv = so_store_folder_delete_tree(db, req->pool, req->auth->team_id, id, &released, &deleted);
    if (rv == APR_SUCCESS && (default_gone || !target)) {
        rv = new_default(req, folders, gone, &target, &created);
    }
    if (rv == APR_SUCCESS) {
        /* the orders of the deleted folders go to the default folder */
        rv = so_store_orders_refile(db, req->pool, req->auth->team_id, target, &moved);
    }
    if ((rv = so_db_end(db, rv)) == SO_EDBFOREIGN) {
        return so_api_error(req, SO_E_CONFLICT, "An order was filed there meanwhile; retry", "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:i,s:i,s:I,s:b}", "id", (json_int_t)id,
                                    "deleted_folders", deleted, "moved_orders", moved,
                                    "default_folder_id", (json_int_t)target,
                                    "default_folder_created", created));
}

/* ------------------------------------------------------------------------- */
/* POST /folders/{id}/orders: move orders                                      */

static apr_status_t folder_move_orders(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_folder_t *f;
    json_t *ids = NULL;
    apr_int64_t id, *order_ids;
    apr_status_t rv;
    size_t i, n;

    if (so_req_param_id(req, "id", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    if (so_in_array(req, req->json, "order_ids", 1, MAX_MOVE, &ids, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    n = json_array_size(ids);
    if (n == 0) {
        return so_api_error(req, SO_E_INVALID, "field 'order_ids' lists no order", "");
    }
    order_ids = apr_palloc(req->pool, sizeof(*order_ids) * n);
    for (i = 0; i < n; i++) {
        json_t *v = json_array_get(ids, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 0x7fffffff) {
            return so_api_error(req, SO_E_INVALID, "field 'order_ids' holds order ids (integers)", "");
        }
        order_ids[i] = (apr_int64_t)json_integer_value(v);
    }
    rv = so_store_folder_get(db, req->pool, req->auth->team_id, id, &f);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No folder %" APR_INT64_T_FMT, id);
    }
    if (rv != APR_SUCCESS || (rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    /* all or nothing: one order that is not the team's moves none */
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        rv = so_store_order_move(db, req->pool, req->auth->team_id, order_ids[i], id);
        if (rv == APR_ENOENT) {
            so_db_rollback(db);
            return so_api_errorf(req, SO_E_NOT_FOUND, "No order %" APR_INT64_T_FMT, order_ids[i]);
        }
    }
    if ((rv = so_db_end(db, rv)) == SO_EDBFOREIGN) {
        /* the folder was deleted meanwhile */
        return so_api_errorf(req, SO_E_NOT_FOUND, "No folder %" APR_INT64_T_FMT, id);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, json_pack("{s:I,s:i}", "folder_id", (json_int_t)id, "moved", (int)n));
}

/* ------------------------------------------------------------------------- */
/* POST /folders/auto-arrange                                                  */

static apr_status_t auto_arrange(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    apr_array_header_t *folders;
    apr_int64_t ids[5];
    json_t *created = json_array(), *map = json_object();
    apr_status_t rv;
    int i, arranged = 0;

    so_json_pool(req->pool, created);
    so_json_pool(req->pool, map);
    if ((rv = tree_begin(req, &folders)) != APR_SUCCESS) {
        return rv;
    }
    /* first the five original folders, recreated at the root where they were removed */
    for (i = 0; so_folder_roles[i] && rv == APR_SUCCESS; i++) {
        const char *role = so_folder_roles[i], *name = role;
        so_folder_t *f = find_role(folders, role);
        apr_int64_t existing;
        int n;
        if (f) {
            ids[i] = f->id;
            continue;
        }
        /* a root folder of that name without a role takes the role; when the name is
         * held by a folder of another role, the new one is "<role>_2", "<role>_3", ... */
        for (n = 2; rv == APR_SUCCESS; n++) {
            rv = so_store_folder_by_name(db, req->pool, req->auth->team_id, 0, name, &existing);
            if (rv == APR_ENOENT) {
                rv = so_store_folder_insert(db, req->pool, req->auth->team_id, 0, name, role,
                                            req->now, &ids[i]);
                json_array_append_new(created, json_string(name));
                break;
            }
            f = rv == APR_SUCCESS ? find(folders, existing) : NULL;
            if (f && !*f->role) {
                rv = so_store_folder_set_role(db, req->pool, req->auth->team_id, f->id, role);
                f->role = role;
                ids[i] = f->id;
                break;
            }
            name = apr_psprintf(req->pool, "%s_%d", role, n);
        }
    }
    if (rv == APR_SUCCESS) {
        /* so_folder_roles: archived, default, expired, active, revoked */
        rv = so_store_orders_arrange(db, req->pool, req->auth->team_id, req->now, ids[2], ids[4],
                                     ids[1], ids[3], &arranged);
    }
    if (rv == APR_SUCCESS) {
        /* the default settings: "default" is the default folder again (a custom default
         * folder would be emptied and the Orders page would look empty) */
        rv = so_store_folder_set_default(db, req->pool, req->auth->team_id, ids[1]);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; so_folder_roles[i]; i++) {
        json_object_set_new(map, so_folder_roles[i], json_integer(ids[i]));
    }
    return so_api_ok(req, json_pack("{s:i,s:O,s:O,s:I}", "arranged", arranged, "created_folders",
                                    created, "folders", map, "default_folder_id",
                                    (json_int_t)ids[1]));
}

/* ------------------------------------------------------------------------- */
/* the order list filter and the orders' fields                                */

static apr_status_t folder_filter(so_req_t *req, so_order_filter_t *q)
{
    const char *v = so_req_query(req, "folder_id");
    apr_int64_t id;
    so_folder_t *f;
    int sub;
    apr_status_t rv;

    if (so_q_bool(req, "with_subfolders", 0, &sub) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!v || !*v) {
        return APR_SUCCESS;
    }
    if (so_parse_int64(v, 1, 0x7fffffff, &id) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, "query parameter 'folder_id' must be a folder id", "");
    }
    rv = so_store_folder_get(so_req_db(req), req->pool, req->auth->team_id, id, &f);
    if (rv == APR_ENOENT) {
        return so_api_errorf(req, SO_E_NOT_FOUND, "No folder %" APR_INT64_T_FMT, id);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    q->folder_id = id;
    q->folder_subtree = sub;
    return APR_SUCCESS;
}


void so_api_folders_init(void)
{
    so_api_orders_add_filter(folder_filter);
}

const so_route_t so_routes_folders[] = {
    {"GET", "/folders", folders_list, SO_ROLE_VIEWER, 0},
    {"POST", "/folders", folder_create, SO_ROLE_ADMIN, 0},
    {"POST", "/folders/auto-arrange", auto_arrange, SO_ROLE_ADMIN, 0},
    {"GET", "/folders/{id}", folder_get, SO_ROLE_VIEWER, 0},
    {"PUT", "/folders/{id}", folder_update, SO_ROLE_ADMIN, 0},
    {"DELETE", "/folders/{id}", folder_delete, SO_ROLE_ADMIN, 0},
    {"POST", "/folders/{id}/orders", folder_move_orders, SO_ROLE_MEMBER, 0},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};

void so_api_org_init(void)
{
    so_api_folders_init();
    so_api_tags_init();
}
