#include <string.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/core/so_crypto.h"
#include "../../src/store/so_store_account.h"

static apr_pool_t *pool;
static so_db_t *db;
static so_config_t cfg;

static so_db_t *give_db(so_req_t *req)
{
    return (so_db_t *)req->acquire_baton;
}

so_req_t *so_test_call(apr_pool_t *p, so_db_t *d, const so_config_t *c, const char *method,
                       const char *path, const char *body, const char *token)
{
    so_req_t *req = so_req_create(p, c);
    req->method = method;
    req->path = path;
    req->client_ip = "192.0.2.1";
    req->acquire = give_db;
    req->acquire_baton = d;
    d->committed = 0;
    if (body) {
        req->body = body;
        req->body_len = strlen(body);
        apr_table_setn(req->headers_in, "Content-Type", "application/json");
    }
    if (token) {
        apr_table_setn(req->headers_in, "Authorization", apr_pstrcat(p, "Bearer ", token, NULL));
    }
    so_api_dispatch(req);
    return req;
}

const char *so_test_account(apr_pool_t *p, so_db_t *d, const char *user, const char *team)
{
    apr_int64_t uid, tid, exp;
    const char *hash, *token;
    ck_assert_int_eq(so_password_hash(&hash, p, "password1"), APR_SUCCESS);
    ck_assert_int_eq(so_store_user_create(d, p, user, hash, 0, 1, &uid), APR_SUCCESS);
    ck_assert_int_eq(so_store_team_create(d, p, team, team, "EUR", 1, &tid), APR_SUCCESS);
    ck_assert_int_eq(so_store_member_set(d, p, tid, uid, SO_ROLE_OWNER, 1), APR_SUCCESS);
    ck_assert_int_eq(so_store_token_create(d, p, uid, tid, "", "t", apr_time_sec(apr_time_now()),
                                           3600, &token, &exp),
                     APR_SUCCESS);
    return token;
}

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

START_TEST(route_matching)
{
    apr_table_t *params = apr_table_make(pool, 2);
    ck_assert(so_route_match("/ssl/orders/{id}", "/ssl/orders/12", params, pool));
    ck_assert_str_eq(apr_table_get(params, "id"), "12");
    ck_assert(so_route_match("/ssl/orders/{id}", "/ssl/orders/12/", NULL, pool));
    ck_assert(!so_route_match("/ssl/orders/{id}", "/ssl/orders/", NULL, pool));
    ck_assert(!so_route_match("/ssl/orders/{id}", "/ssl/orders/12/events", NULL, pool));
    ck_assert(so_route_match("/a/{x}/b/{y}", "/a/1/b/2", params, pool));
    ck_assert_str_eq(apr_table_get(params, "y"), "2");
    ck_assert(!so_route_match("/me", "/mex", NULL, pool));
}
END_TEST

START_TEST(login_then_me)
{
    so_req_t *req;
    const char *answer;
    apr_size_t len;
    json_t *j;
    const char *token;

    so_test_account(pool, db, "dave", "acme");
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login",
                       "{\"username\":\"dave\",\"password\":\"password1\"}", NULL);
    ck_assert_int_eq(req->status, 200);
    answer = so_api_answer_json(req, &len);
    j = json_loads(answer, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), 0);
    token = apr_pstrdup(pool, json_string_value(json_object_get(json_object_get(j, "data"), "token")));
    json_decref(j);
    ck_assert_int_eq(strlen(token), 32);
    req = so_test_call(pool, db, &cfg, "GET", "/me", NULL, token);
    ck_assert_int_eq(req->status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(req->data, "username")), "dave");
    /* wrong password */
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login",
                       "{\"username\":\"dave\",\"password\":\"nope\"}", NULL);
    ck_assert_int_eq(req->status, 401);
    ck_assert_int_eq(req->err_code, 196);
}
END_TEST

START_TEST(plumbing_errors)
{
    so_req_t *req;
    const char *token = so_test_account(pool, db, "erin", "beta");

    req = so_test_call(pool, db, &cfg, "GET", "/nowhere", NULL, token);
    ck_assert_int_eq(req->status, 404);
    ck_assert_int_eq(req->err_code, 104);
    req = so_test_call(pool, db, &cfg, "DELETE", "/me", NULL, token);
    ck_assert_int_eq(req->status, 405);
    ck_assert_str_eq(apr_table_get(req->headers_out, "Allow"), "GET, HEAD");
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login", "{", NULL);
    ck_assert_int_eq(req->err_code, 101);
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login", "\"str\"", NULL);
    ck_assert_int_eq(req->err_code, 101);
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login", "{\"username\":1,\"password\":\"x\"}",
                       NULL);
    ck_assert_int_eq(req->err_code, 102);
    ck_assert(strstr(req->err_desc, "username") != NULL);
    req = so_test_call(pool, db, &cfg, "GET", "/me", NULL, NULL);
    ck_assert_int_eq(req->status, 401);
    req = so_test_call(pool, db, &cfg, "GET", "/me", NULL, "ffffffffffffffffffffffffffffffff");
    ck_assert_int_eq(req->status, 401);
    cfg.max_body = 16;
    req = so_test_call(pool, db, &cfg, "POST", "/auth/login",
                       "{\"username\":\"erin\",\"password\":\"password1\"}", NULL);
    ck_assert_int_eq(req->status, 413);
    ck_assert_int_eq(req->err_code, 106);
}
END_TEST

START_TEST(expired_token)
{
    so_req_t *req;
    const char *token = so_test_account(pool, db, "fred", "gamma");
    req = so_test_call(pool, db, &cfg, "GET", "/me", NULL, token);
    ck_assert_int_eq(req->status, 200);
    /* the same request two hours later */
    req = so_req_create(pool, &cfg);
    req->method = "GET";
    req->path = "/me";
    req->acquire = give_db;
    req->acquire_baton = db;
    req->now = apr_time_sec(apr_time_now()) + 7200;
    apr_table_setn(req->headers_in, "Authorization", apr_pstrcat(pool, "Bearer ", token, NULL));
    so_api_dispatch(req);
    ck_assert_int_eq(req->status, 401);
    ck_assert_int_eq(req->err_code, 196);
}
END_TEST

TCase *so_test_api_case(void)
{
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, route_matching);
    tcase_add_test(tc, login_then_me);
    tcase_add_test(tc, plumbing_errors);
    tcase_add_test(tc, expired_token);
    return tc;
}
