#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_folder.h"
#include "so_text.h"
#include "so_util.h"

const char *const so_folder_roles[] = {"archived", "default", "expired", "active", "revoked", NULL};

int so_folder_role_ok(const char *role)
{
    int i;
    for (i = 0; role && so_folder_roles[i]; i++) {
        if (!strcmp(role, so_folder_roles[i])) {
            return 1;
        }
    }
    return 0;
}

static const char *trim_spaces(apr_pool_t *p, const char *s)
{
    apr_size_t n;
    while (*s == ' ') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') {
        n--;
    }
    return apr_pstrndup(p, s, n);
}

const char *so_folder_name_check(apr_pool_t *p, const char *name, const char **out)
{
    const char *t, *s;

    if (!name) {
        return "a folder needs a name";
    }
    t = trim_spaces(p, name);
    if (!*t) {
        return "a folder name cannot be empty";
    }
    if (strlen(t) > SO_FOLDER_NAME_MAX) {
        return apr_psprintf(p, "a folder name has at most %d characters", SO_FOLDER_NAME_MAX);
    }
    for (s = t; *s; s++) {
        if (!apr_isalnum(*s) && *s != ' ' && *s != '_') {
            return "a folder name holds only letters, digits, spaces and underscores";
        }
    }
    *out = t;
    return NULL;
}

const char *so_folder_name_key(apr_pool_t *p, const char *name)
{
    return so_str_lower(p, name);
}

const char *so_tag_name_check(apr_pool_t *p, const char *name, const char **out)
{
    const char *t;
    apr_size_t i = 0, len, chars = 0;

    if (!name) {
        return "a tag needs a name";
    }
    t = trim_spaces(p, name);
    len = strlen(t);
    if (!len) {
        return "a tag name cannot be empty";
    }
    while (i < len) {
        long cp = so_text_utf8_next(t, len, &i);
        if (cp < 0) {
            return "a tag name must be UTF-8 text";
        }
        if (so_text_is_control(cp)) {
            return "a tag name cannot hold control characters";
        }
        chars++;
    }
    if (chars > SO_TAG_NAME_MAX) {
        return apr_psprintf(p, "a tag name has at most %d characters", SO_TAG_NAME_MAX);
    }
    *out = t;
    return NULL;
}

static const so_folder_node_t *find(const so_folder_node_t *nodes, int n, apr_int64_t id)
{
    int i;
    for (i = 0; i < n; i++) {
        if (nodes[i].id == id) {
            return &nodes[i];
        }
    }
    return NULL;
}

int so_folder_within(const so_folder_node_t *nodes, int n, apr_int64_t id, apr_int64_t ancestor)
{
    int steps;
    /* walk up from id; at most n steps, so that a cycle in bad data ends */
    for (steps = 0; id != 0 && steps <= n; steps++) {
        const so_folder_node_t *f;
        if (id == ancestor) {
            return 1;
        }
        if (!(f = find(nodes, n, id))) {
            return 0;
        }
        id = f->parent_id;
    }
    return 0;
}

int so_folder_depth(const so_folder_node_t *nodes, int n, apr_int64_t id)
{
    int depth = 0;
    while (id != 0 && depth <= n) {
        const so_folder_node_t *f = find(nodes, n, id);
        if (!f) {
            return depth;
        }
        depth++;
        id = f->parent_id;
    }
    return depth;
}

apr_array_header_t *so_folder_subtree(apr_pool_t *p, const so_folder_node_t *nodes, int n,
                                      apr_int64_t id)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(apr_int64_t));
    int head = 0, i, j;

    APR_ARRAY_PUSH(out, apr_int64_t) = id;
    /* breadth first; a node is taken once even if the data had a cycle */
    while (head < out->nelts) {
        apr_int64_t cur = APR_ARRAY_IDX(out, head, apr_int64_t);
        head++;
        for (i = 0; i < n; i++) {
            int seen = 0;
            if (nodes[i].parent_id != cur || nodes[i].id == 0) {
                continue;
            }
            for (j = 0; j < out->nelts && !seen; j++) {
                seen = APR_ARRAY_IDX(out, j, apr_int64_t) == nodes[i].id;
            }
            if (!seen) {
                APR_ARRAY_PUSH(out, apr_int64_t) = nodes[i].id;
            }
        }
    }
    return out;
}

int so_folder_height(apr_pool_t *p, const so_folder_node_t *nodes, int n, apr_int64_t id)
{
    int i, best = 0;
    apr_array_header_t *sub = so_folder_subtree(p, nodes, n, id);

    for (i = 0; i < sub->nelts; i++) {
        /* depth below id: walk up to id */
        apr_int64_t cur = APR_ARRAY_IDX(sub, i, apr_int64_t);
        int d = 1, steps = 0;
        while (cur != id && steps++ <= n) {
            const so_folder_node_t *f = find(nodes, n, cur);
            if (!f) {
                break;
            }
            cur = f->parent_id;
            d++;
        }
        if (d > best) {
            best = d;
        }
    }
    return best;
}

const char *so_folder_move_check(apr_pool_t *p, const so_folder_node_t *nodes, int n,
                                 apr_int64_t id, apr_int64_t new_parent)
{
    if (new_parent != 0 && so_folder_within(nodes, n, new_parent, id)) {
        return new_parent == id ? "a folder cannot be moved into itself"
                                : "a folder cannot be moved into its own subfolders";
    }
    if (so_folder_depth(nodes, n, new_parent) + so_folder_height(p, nodes, n, id) > SO_FOLDER_MAX_DEPTH) {
        return apr_psprintf(p, "folders nest at most %d levels deep", SO_FOLDER_MAX_DEPTH);
    }
    return NULL;
}

const char *so_folder_arrange_role(const char *status, apr_int64_t expiration_date,
                                   apr_int64_t now)
{
    if (!strcmp(status, "EXP")
        || (!strcmp(status, "ACT") && expiration_date > 0 && expiration_date <= now)) {
        return "expired";
    }
    if (!strcmp(status, "REJ") || !strcmp(status, "FAI")) {
        return "revoked";
    }
    if (!strcmp(status, "PAI") || !strcmp(status, "REQ")) {
        return "default";
    }
    return "active";
}

int so_member_change_allowed(int actor, int from, int to)
{
    enum { OWNER = 4, ADMIN = 3 };
    if (actor == OWNER) {
        return 1;
    }
    if (actor == ADMIN) {
        return from < OWNER && to < OWNER;
    }
    return 0;
}
