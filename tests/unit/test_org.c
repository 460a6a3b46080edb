/* Unit tests of the account organisation: folder names and the folder tree, tag
 * names, auto-arrange rules (C and SQL agree), who may change whose role, the
 * migration that gives existing teams their folders, and certificate tags through
 * the API with a stand-in for the issuance feature's certificate lookup. */
#include <string.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/api/so_api_org.h"
#include "../../src/core/so_folder.h"
#include "../../src/core/so_util.h"
#include "../../src/store/so_migrations.h"
#include "../../src/store/so_schema.h"
#include "../../src/store/so_store_account.h"
#include "../../src/store/so_store_org.h"

static apr_pool_t *pool;
static so_db_t *db;
static so_config_t cfg;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    db = so_test_db(pool);
    so_config_defaults(&cfg);
}

static void teardown(void)
{
    so_db_close(db);
    apr_pool_destroy(pool);
}

START_TEST(folder_names)
{
    const char *out = NULL;
    ck_assert_ptr_null(so_folder_name_check(pool, "Web Servers_2", &out));
    ck_assert_str_eq(out, "Web Servers_2");
    ck_assert_ptr_null(so_folder_name_check(pool, "  padded  ", &out));
    ck_assert_str_eq(out, "padded");
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "    ", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "a/b", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "a.b", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "a-b", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "tab\there", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, "caf\xc3\xa9", &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, NULL, &out));
    ck_assert_ptr_null(so_folder_name_check(pool, apr_psprintf(pool, "%064d", 0), &out));
    ck_assert_ptr_nonnull(so_folder_name_check(pool, apr_psprintf(pool, "%065d", 0), &out));
    ck_assert_str_eq(so_folder_name_key(pool, "Web_A"), so_folder_name_key(pool, "WEB_a"));
    ck_assert(so_folder_role_ok("archived") && so_folder_role_ok("revoked"));
    ck_assert(!so_folder_role_ok("") && !so_folder_role_ok("custom"));
}
END_TEST

START_TEST(tag_names)
{
    const char *out = NULL;
    char *long_ok = apr_palloc(pool, 2 * 255 + 1), *long_bad = apr_palloc(pool, 2 * 256 + 1);
    int i;
    for (i = 0; i < 255; i++) {
        memcpy(long_ok + 2 * i, "\xc3\xa9", 2); /* 255 characters of 2 bytes */
    }
    long_ok[510] = '\0';
    for (i = 0; i < 256; i++) {
        memcpy(long_bad + 2 * i, "\xc3\xa9", 2);
    }
    long_bad[512] = '\0';
    ck_assert_ptr_null(so_tag_name_check(pool, long_ok, &out));
    ck_assert_ptr_nonnull(so_tag_name_check(pool, long_bad, &out));
    ck_assert_ptr_null(so_tag_name_check(pool, " web / prod ", &out));
    ck_assert_str_eq(out, "web / prod");
    ck_assert_ptr_nonnull(so_tag_name_check(pool, "", &out));
    ck_assert_ptr_nonnull(so_tag_name_check(pool, "  ", &out));
    ck_assert_ptr_nonnull(so_tag_name_check(pool, "a\nb", &out));
    ck_assert_ptr_nonnull(so_tag_name_check(pool, "\xe2\x80\xae" "evil", &out)); /* U+202E */
    ck_assert_ptr_nonnull(so_tag_name_check(pool, "bad\xff", &out));
}
END_TEST

/*      1
 *     / \
 *    2   3
 *    |
 *    4      5 (root)   and 8 -> 9 -> 8 (a cycle in bad data) */
static const so_folder_node_t tree[] = {{1, 0}, {2, 1}, {3, 1}, {4, 2}, {5, 0}, {8, 9}, {9, 8}};
#define TREE_N ((int)(sizeof(tree) / sizeof(tree[0])))

START_TEST(folder_tree)
{
    apr_array_header_t *sub;
    ck_assert(so_folder_within(tree, TREE_N, 4, 1));
    ck_assert(so_folder_within(tree, TREE_N, 4, 4));
    ck_assert(!so_folder_within(tree, TREE_N, 1, 4));
    ck_assert(!so_folder_within(tree, TREE_N, 3, 2));
    ck_assert(!so_folder_within(tree, TREE_N, 8, 1)); /* the cycle ends */
    ck_assert_int_eq(so_folder_depth(tree, TREE_N, 4), 3);
    ck_assert_int_eq(so_folder_depth(tree, TREE_N, 5), 1);
    ck_assert_int_eq(so_folder_depth(tree, TREE_N, 0), 0);
    ck_assert_int_eq(so_folder_height(pool, tree, TREE_N, 1), 3);
    ck_assert_int_eq(so_folder_height(pool, tree, TREE_N, 3), 1);
    sub = so_folder_subtree(pool, tree, TREE_N, 1);
    ck_assert_int_eq(sub->nelts, 4);
    ck_assert_int_eq(APR_ARRAY_IDX(sub, 0, apr_int64_t), 1);
    sub = so_folder_subtree(pool, tree, TREE_N, 8);
    ck_assert_int_eq(sub->nelts, 2);
    /* a move never goes into the folder itself or below it */
    ck_assert_ptr_nonnull(so_folder_move_check(pool, tree, TREE_N, 1, 1));
    ck_assert_ptr_nonnull(so_folder_move_check(pool, tree, TREE_N, 1, 4));
    ck_assert_ptr_nonnull(so_folder_move_check(pool, tree, TREE_N, 2, 4));
    ck_assert_ptr_null(so_folder_move_check(pool, tree, TREE_N, 2, 3));
    ck_assert_ptr_null(so_folder_move_check(pool, tree, TREE_N, 4, 0));
    ck_assert_ptr_null(so_folder_move_check(pool, tree, TREE_N, 1, 5));
}
END_TEST

START_TEST(folder_depth_limit)
{
    so_folder_node_t chain[SO_FOLDER_MAX_DEPTH + 2];
    int i;
    /* 1 <- 2 <- ... <- 16 is as deep as folders go; a second chain 100 <- 101 */
    for (i = 0; i < SO_FOLDER_MAX_DEPTH; i++) {
        chain[i].id = i + 1;
        chain[i].parent_id = i;
    }
    chain[SO_FOLDER_MAX_DEPTH].id = 100;
    chain[SO_FOLDER_MAX_DEPTH].parent_id = 0;
    chain[SO_FOLDER_MAX_DEPTH + 1].id = 101;
    chain[SO_FOLDER_MAX_DEPTH + 1].parent_id = 100;
    ck_assert_ptr_null(so_folder_move_check(pool, chain, SO_FOLDER_MAX_DEPTH + 2, 100, 0));
    ck_assert_ptr_nonnull(so_folder_move_check(pool, chain, SO_FOLDER_MAX_DEPTH + 2, 100, 15));
    ck_assert_ptr_null(so_folder_move_check(pool, chain, SO_FOLDER_MAX_DEPTH + 2, 100, 14));
}
END_TEST

START_TEST(member_rules)
{
    enum { NONE, VIEWER, MEMBER, ADMIN, OWNER };
    ck_assert(so_member_change_allowed(OWNER, NONE, OWNER));
    ck_assert(so_member_change_allowed(OWNER, OWNER, NONE));
    ck_assert(so_member_change_allowed(ADMIN, NONE, ADMIN));
    ck_assert(so_member_change_allowed(ADMIN, MEMBER, VIEWER));
    ck_assert(so_member_change_allowed(ADMIN, ADMIN, NONE));
    ck_assert(!so_member_change_allowed(ADMIN, NONE, OWNER));
    ck_assert(!so_member_change_allowed(ADMIN, OWNER, ADMIN));
    ck_assert(!so_member_change_allowed(ADMIN, OWNER, NONE));
    ck_assert(!so_member_change_allowed(MEMBER, NONE, VIEWER));
    ck_assert(!so_member_change_allowed(VIEWER, VIEWER, NONE));
}
END_TEST

static apr_int64_t order_in(apr_int64_t team, const char *status, apr_int64_t exp)
{
    so_rows_t *rows;
    ck_assert_int_eq(so_db_select_sql(db, pool,
                                      "INSERT INTO orders (team_id, product_id, status, period, "
                                      "price, currency, order_date, updated_at, expiration_date, "
                                      "folder_id) VALUES (%lld, 1, %s, 1, 0, 'EUR', 1, 1, %lld, "
                                      "(SELECT id FROM folders WHERE team_id = %lld AND "
                                      "is_default = 1)) RETURNING id",
                                      &rows,
                                      SO_A(team, status, exp, team)),
                     APR_SUCCESS);
    return so_cell_i64(rows, 0, 0);
}

START_TEST(arrange_rules_sql_and_c_agree)
{
    static const struct {
        const char *status;
        apr_int64_t exp;
    } cases[] = {{"PAI", 0},    {"REQ", 0},   {"ACT", 5000}, {"ACT", 1000}, {"ACT", 999},
                 {"ACT", 0},    {"EXP", 0},   {"EXP", 5000}, {"REJ", 5000}, {"FAI", 0}};
    const apr_int64_t now = 1000;
    apr_int64_t team, ids[10], role_id[5];
    apr_array_header_t *folders;
    int i, j, moved = 0;

    ck_assert_int_eq(so_store_team_create(db, pool, "arrange", "A", "EUR", 1, &team), APR_SUCCESS);
    ck_assert_int_eq(so_store_folders(db, pool, team, &folders), APR_SUCCESS);
    ck_assert_int_eq(folders->nelts, 5);
    for (j = 0; so_folder_roles[j]; j++) {
        for (i = 0; i < folders->nelts; i++) {
            so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
            if (!strcmp(f->role, so_folder_roles[j])) {
                role_id[j] = f->id;
                ck_assert_str_eq(f->name, f->role);
                ck_assert_int_eq(f->is_default, !strcmp(f->role, "default"));
            }
        }
    }
    for (i = 0; i < 10; i++) {
        ids[i] = order_in(team, cases[i].status, cases[i].exp);
    }
    ck_assert_int_eq(so_store_orders_arrange(db, pool, team, now, role_id[2], role_id[4], role_id[1],
                                             role_id[3], &moved),
                     APR_SUCCESS);
    ck_assert_int_eq(moved, 10);
    for (i = 0; i < 10; i++) {
        so_rows_t *rows;
        const char *want = so_folder_arrange_role(cases[i].status, cases[i].exp, now);
        apr_int64_t want_id = 0;
        for (j = 0; so_folder_roles[j]; j++) {
            if (!strcmp(so_folder_roles[j], want)) {
                want_id = role_id[j];
            }
        }
        ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT folder_id FROM orders WHERE id = %lld",
                                          &rows, SO_A(ids[i])),
                         APR_SUCCESS);
        ck_assert_msg(so_cell_i64(rows, 0, 0) == want_id, "%s/%" APR_INT64_T_FMT " should go to %s",
                      cases[i].status, cases[i].exp, want);
    }
    ck_assert_str_eq(so_folder_arrange_role("ACT", 1000, 1000), "expired");
    ck_assert_str_eq(so_folder_arrange_role("ACT", 1001, 1000), "active");
    ck_assert_str_eq(so_folder_arrange_role("REQ", 1, 1000), "default");
}
END_TEST

START_TEST(delete_tree_and_refile)
{
    apr_int64_t team, a, b, c, oid, dflt = 0;
    apr_array_header_t *folders;
    int released = 0, deleted = 0, moved = 0, i;

    ck_assert_int_eq(so_store_team_create(db, pool, "tree", "T", "EUR", 1, &team), APR_SUCCESS);
    ck_assert_int_eq(so_store_folder_insert(db, pool, team, 0, "A", "", 1, &a), APR_SUCCESS);
    ck_assert_int_eq(so_store_folder_insert(db, pool, team, a, "B", "", 1, &b), APR_SUCCESS);
    ck_assert_int_eq(so_store_folder_insert(db, pool, team, b, "C", "", 1, &c), APR_SUCCESS);
    /* names are unique per parent, case-insensitively */
    ck_assert_int_eq(so_store_folder_insert(db, pool, team, a, "b", "", 1, &oid), SO_EDBUNIQUE);
    ck_assert_int_eq(so_store_folder_insert(db, pool, team, 0, "b", "", 1, &oid), APR_SUCCESS);
    oid = order_in(team, "PAI", 0);
    ck_assert_int_eq(so_store_order_move(db, pool, team, oid, c), APR_SUCCESS);
    ck_assert_int_eq(so_store_order_move(db, pool, team + 1, oid, a), APR_ENOENT);
    ck_assert_int_eq(so_store_folder_delete_tree(db, pool, team, a, &released, &deleted), APR_SUCCESS);
    ck_assert_int_eq(released, 1);
    ck_assert_int_eq(deleted, 3);
    ck_assert_int_eq(so_store_folders(db, pool, team, &folders), APR_SUCCESS);
    ck_assert_int_eq(folders->nelts, 6);
    for (i = 0; i < folders->nelts; i++) {
        if (APR_ARRAY_IDX(folders, i, so_folder_t *)->is_default) {
            dflt = APR_ARRAY_IDX(folders, i, so_folder_t *)->id;
        }
    }
    ck_assert_int_eq(so_store_orders_refile(db, pool, team, dflt, &moved), APR_SUCCESS);
    ck_assert_int_eq(moved, 1);
    ck_assert_int_eq(so_store_folders(db, pool, team, &folders), APR_SUCCESS);
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        ck_assert_int_eq(f->orders, f->id == dflt ? 1 : 0);
    }
}
END_TEST

/* A database of the schema as it was before migration `below` (SQLite, in memory). */
static so_db_t *old_database(int below)
{
    so_db_t *old = NULL;
    const char *err = NULL;

    ck_assert_int_eq(so_db_open(&old, pool, "sqlite3", ":memory:", 0, &err), APR_SUCCESS);
    ck_assert_msg(so_schema_migrate_below(old, pool, below, NULL, &err) == APR_SUCCESS, "%s", err);
    return old;
}

/* A database of the schema before the organisation feature, with a team and an
 * order: the migration gives the team its five folders and files the order. */
START_TEST(migration_gives_existing_teams_folders)
{
    so_db_t *old;
    const char *err = NULL;
    apr_array_header_t *folders;
    so_rows_t *rows;
    int applied = 0, i;

    old = old_database(400);
    ck_assert_int_eq(so_db_raw(old, "INSERT INTO teams (slug, name, created_at) VALUES ('old', 'Old', 5)"),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_raw(old, "INSERT INTO orders (team_id, product_id, status, period, price, "
                                    "currency, order_date, updated_at) VALUES (1, 1, 'ACT', 1, 0, "
                                    "'EUR', 1, 1)"),
                     APR_SUCCESS);
    ck_assert_int_eq(so_schema_migrate(old, pool, &applied, &err), APR_SUCCESS);
    ck_assert_int_gt(applied, 0);
    ck_assert_int_eq(so_db_prepare_all(old), APR_SUCCESS);
    ck_assert_int_eq(so_store_folders(old, pool, 1, &folders), APR_SUCCESS);
    ck_assert_int_eq(folders->nelts, 5);
    for (i = 0; i < folders->nelts; i++) {
        so_folder_t *f = APR_ARRAY_IDX(folders, i, so_folder_t *);
        ck_assert(so_folder_role_ok(f->role));
        ck_assert_int_eq(f->orders, f->is_default ? 1 : 0);
        ck_assert_int_eq(f->is_default, !strcmp(f->name, "default"));
    }
    ck_assert_int_eq(so_db_select_sql(old, pool, "SELECT COUNT(*) FROM orders WHERE folder_id IS NULL",
                                      &rows, SO_A0),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "0");
    so_db_close(old);
}
END_TEST

/* Migration 800 moves each team's balance into team_balances (the teams row keeps no
 * balance); a team inserted by hand, without its row, gets one at its first credit. */
START_TEST(migration_moves_balances)
{
    so_db_t *old = old_database(800);
    const char *err = NULL;
    apr_int64_t after = 0;
    so_team_t *t;
    int applied = 0;

    ck_assert_int_eq(so_db_raw(old, "INSERT INTO teams (slug, name, balance, created_at) VALUES "
                                    "('rich', 'Rich', 123456, 5)"),
                     APR_SUCCESS);
    ck_assert_int_eq(so_schema_migrate(old, pool, &applied, &err), APR_SUCCESS);
    ck_assert_int_gt(applied, 0);
    ck_assert_int_eq(so_db_prepare_all(old), APR_SUCCESS);
    ck_assert_int_eq(so_store_team_by_id(old, pool, 1, &t), APR_SUCCESS);
    ck_assert_int_eq(t->balance, 123456);
    ck_assert_int_eq(so_store_ledger_add(old, pool, 1, -23456, "charge", 0, "", 0, 9, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(after, 100000);
    ck_assert_int_eq(so_store_ledger_add(old, pool, 1, -100001, "charge", 0, "", 0, 9, &after),
                     SO_ENOFUNDS);
    /* the column is gone: nothing can read a stale copy */
    ck_assert_int_ne(so_db_raw(old, "UPDATE teams SET balance = 1"), APR_SUCCESS);

    ck_assert_int_eq(so_db_raw(old, "INSERT INTO teams (slug, name, created_at) VALUES "
                                    "('byhand', 'By hand', 5)"),
                     APR_SUCCESS);
    ck_assert_int_eq(so_store_team_by_id(old, pool, 2, &t), APR_SUCCESS);
    ck_assert_int_eq(t->balance, 0);
    ck_assert_int_eq(so_store_ledger_add(old, pool, 2, -1, "charge", 0, "", 0, 9, &after),
                     SO_ENOFUNDS);
    ck_assert_int_eq(so_store_ledger_add(old, pool, 2, 500, "credit", 0, "", 0, 9, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(after, 500);
    ck_assert_int_eq(so_store_team_by_id(old, pool, 2, &t), APR_SUCCESS);
    ck_assert_int_eq(t->balance, 500);
    /* a team that does not exist is not invented */
    ck_assert_int_eq(so_store_ledger_add(old, pool, 99, 500, "credit", 0, "", 0, 9, &after),
                     APR_ENOENT);
    so_db_close(old);
}
END_TEST

/* the issuance feature's stand-in: order 1 has certificates A1B and FF */
static apr_status_t fake_lookup(so_req_t *req, const so_order_t *o, const char *serial, int *found)
{
    (void)req;
    *found = o->id == 1 && (!strcmp(serial, "A1B") || !strcmp(serial, "FF"));
    return APR_SUCCESS;
}

static so_db_t *give_db(so_req_t *req)
{
    return (so_db_t *)req->acquire_baton;
}

static json_t *answer(so_req_t *req)
{
    apr_size_t len;
    return so_json_pool(pool, json_loads(so_api_answer_json(req, &len), 0, NULL));
}

START_TEST(certificate_tags)
{
    const char *token = so_test_account(pool, db, "carol", "certs");
    apr_int64_t after;
    so_req_t *req;
    json_t *j, *o;

    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, 1, 100000, "credit", 0, "", 0, 1, &after), APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    req = so_test_call(pool, db, &cfg, "POST", "/ssl/orders", "{\"product_id\":1,\"period\":1}", token);
    ck_assert_int_eq(req->status, 200);
    so_api_set_cert_lookup(fake_lookup);
    /* serials are hex, colons and leading zeros ignored */
    req = so_test_call(pool, db, &cfg, "POST", "/ssl/orders/1/certificates/0a:1b/tags",
                       "{\"tags\":[\"edge\",\"lb\"]}", token);
    ck_assert_int_eq(req->status, 200);
    req = so_test_call(pool, db, &cfg, "PUT", "/ssl/orders/1/certificates/FF/tags",
                       "{\"tags\":[\"edge\"]}", token);
    ck_assert_int_eq(req->status, 200);
    req = so_test_call(pool, db, &cfg, "GET", "/ssl/orders/1/certificates/C0/tags", NULL, token);
    ck_assert_int_eq(req->status, 404);
    req = so_test_call(pool, db, &cfg, "POST", "/ssl/orders/1/tags", "{\"tags\":[\"edge\"]}", token);
    ck_assert_int_eq(req->status, 200);
    /* use counts: edge on the order and two certificates */
    req = so_test_call(pool, db, &cfg, "GET", "/tags", NULL, token);
    j = answer(req);
    o = json_array_get(json_object_get(json_object_get(j, "data"), "results"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(o, "name")), "edge");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "uses")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "certificates")), 2);
    /* the order shows them; the list finds the order by a certificate's tag */
    req = so_req_create(pool, &cfg);
    req->method = "GET";
    req->path = "/ssl/orders";
    req->acquire = give_db;
    req->acquire_baton = db;
    ((so_kv_t *)apr_array_push(req->query))->key = "tag";
    APR_ARRAY_IDX(req->query, 0, so_kv_t).value = "lb";
    apr_table_setn(req->headers_in, "Authorization", apr_pstrcat(pool, "Bearer ", token, NULL));
    so_api_dispatch(req);
    ck_assert_int_eq(req->status, 200);
    j = so_json_pool(pool, json_loadb(req->data_raw, req->data_raw_len, 0, NULL));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 1);
    o = json_array_get(json_object_get(j, "results"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(o, "certificate_tags")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(o, "certificate_tags"), 0), "serial")),
                     "A1B");
    /* remove one */
    req = so_test_call(pool, db, &cfg, "DELETE", "/ssl/orders/1/certificates/A1B/tags/2", NULL, token);
    ck_assert_int_eq(req->status, 200);
    req = so_test_call(pool, db, &cfg, "DELETE", "/ssl/orders/1/certificates/A1B/tags/2", NULL, token);
    ck_assert_int_eq(req->status, 404);
    so_api_set_cert_lookup(NULL);
    req = so_test_call(pool, db, &cfg, "GET", "/ssl/orders/1/certificates/FF/tags", NULL, token);
    ck_assert_int_eq(req->status, 404);
}
END_TEST

TCase *so_test_org_case(void)
{
    TCase *tc = tcase_create("org");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, folder_names);
    tcase_add_test(tc, tag_names);
    tcase_add_test(tc, folder_tree);
    tcase_add_test(tc, folder_depth_limit);
    tcase_add_test(tc, member_rules);
    tcase_add_test(tc, arrange_rules_sql_and_c_agree);
    tcase_add_test(tc, delete_tree_and_refile);
    tcase_add_test(tc, migration_gives_existing_teams_folders);
    tcase_add_test(tc, migration_moves_balances);
    tcase_add_test(tc, certificate_tags);
    return tc;
}
