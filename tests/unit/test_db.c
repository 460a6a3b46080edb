#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "test_common.h"
#include "../../src/core/so_crypto.h"
#include "../../src/core/so_util.h"
#include "../../src/store/so_db_int.h"
#include "../../src/store/so_schema.h"
#include "../../src/store/so_store_account.h"
#include "../../src/store/so_store_acme.h"
#include "../../src/store/so_store_warm.h"

static apr_pool_t *pool;
static so_db_t *db;

so_db_t *so_test_db(apr_pool_t *p)
{
    so_db_t *d = NULL;
    const char *err = NULL;
    int applied = 0;
    ck_assert_msg(so_db_open(&d, p, "sqlite3", ":memory:", 0, &err) == APR_SUCCESS, "open: %s",
                  err ? err : "");
    ck_assert_msg(so_schema_migrate(d, p, &applied, &err) == APR_SUCCESS, "migrate: %s",
                  err ? err : "");
    ck_assert_int_gt(applied, 0);
    ck_assert_msg(so_db_prepare_all(d) == APR_SUCCESS, "prepare: %s", d->errmsg);
    return d;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    db = so_test_db(pool);
}

static void teardown(void)
{
    so_db_close(db);
    apr_pool_destroy(pool);
}

START_TEST(migrations_are_idempotent)
{
    int applied = -1, version = 0;
    const char *err = NULL;
    ck_assert_int_eq(so_schema_migrate(db, pool, &applied, &err), APR_SUCCESS);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(so_schema_version(db, pool, &version), APR_SUCCESS);
    ck_assert_int_eq(version, so_schema_latest());
}
END_TEST

START_TEST(users_teams_members)
{
    apr_int64_t uid, tid, tid2;
    so_user_t *u;
    so_team_t *t;
    apr_array_header_t *teams;

    ck_assert_int_eq(so_store_user_create(db, pool, "alice", "h", 0, 100, &uid), APR_SUCCESS);
    ck_assert_int_eq(so_store_user_create(db, pool, "alice", "h", 0, 100, &uid), SO_EDBUNIQUE);
    ck_assert_int_eq(so_store_user_by_name(db, pool, "alice", &u), APR_SUCCESS);
    ck_assert_int_eq(u->id, uid);
    ck_assert_int_eq(so_store_user_by_name(db, pool, "bob", &u), APR_ENOENT);
    ck_assert_int_eq(so_store_team_create(db, pool, "acme", "ACME", "EUR", 100, &tid), APR_SUCCESS);
    ck_assert_int_eq(so_store_team_create(db, pool, "beta", "Beta", "USD", 101, &tid2), APR_SUCCESS);
    ck_assert_int_eq(so_store_member_set(db, pool, tid, uid, SO_ROLE_OWNER, 100), APR_SUCCESS);
    ck_assert_int_eq(so_store_member_set(db, pool, tid2, uid, SO_ROLE_VIEWER, 101), APR_SUCCESS);
    /* the upsert changes a role */
    ck_assert_int_eq(so_store_member_set(db, pool, tid2, uid, SO_ROLE_ADMIN, 102), APR_SUCCESS);
    ck_assert_int_eq(so_store_teams_of_user(db, pool, uid, &teams), APR_SUCCESS);
    ck_assert_int_eq(teams->nelts, 2);
    t = APR_ARRAY_IDX(teams, 0, so_team_t *);
    ck_assert_str_eq(t->slug, "acme");
    ck_assert_int_eq(t->role, SO_ROLE_OWNER);
    t = APR_ARRAY_IDX(teams, 1, so_team_t *);
    ck_assert_int_eq(t->role, SO_ROLE_ADMIN);
    ck_assert_str_eq(t->currency, "USD");
    /* foreign keys are enforced */
    ck_assert_int_eq(so_store_member_set(db, pool, 9999, uid, SO_ROLE_OWNER, 1), SO_EDBFOREIGN);
}
END_TEST

START_TEST(tokens)
{
    apr_int64_t uid, tid, exp;
    const char *token;
    so_credential_t *c;
    so_rows_t *rows;

    so_store_user_create(db, pool, "carol", "h", 1, 100, &uid);
    so_store_team_create(db, pool, "gamma", "Gamma", "EUR", 100, &tid);
    so_store_member_set(db, pool, tid, uid, SO_ROLE_MEMBER, 100);
    ck_assert_int_eq(so_store_token_create(db, pool, uid, tid, "0.0.0.0", "t", 1000, 3600, &token,
                                           &exp),
                     APR_SUCCESS);
    ck_assert_int_eq(exp, 4600);
    ck_assert_int_eq(so_store_token_lookup(db, pool, token, &c), APR_SUCCESS);
    ck_assert_int_eq(c->user_id, uid);
    ck_assert_int_eq(c->team_id, tid);
    ck_assert_int_eq(c->role, SO_ROLE_MEMBER);
    ck_assert_int_eq(c->is_staff, 1);
    ck_assert_str_eq(c->ip, "");
    ck_assert_str_eq(c->team_slug, "gamma");
    ck_assert_int_eq(so_store_token_lookup(db, pool, "nope", &c), APR_ENOENT);
    /* only the hash is stored */
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT token_hash FROM api_tokens", &rows, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_str_eq(so_cell(rows, 0, 0), so_secret_hash(pool, token));
    /* purge drops expired tokens */
    ck_assert_int_eq(so_store_tokens_purge(db, pool, 5000), APR_SUCCESS);
    ck_assert_int_eq(so_store_token_lookup(db, pool, token, &c), APR_ENOENT);
}
END_TEST

START_TEST(ledger_is_atomic)
{
    apr_int64_t tid, after = 0;
    so_team_t *t;
    so_rows_t *rows;

    so_store_team_create(db, pool, "delta", "Delta", "EUR", 100, &tid);
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, tid, 1000, "credit", 0, "n", 0, 1, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(after, 1000);
    /* a charge larger than the balance changes nothing */
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, tid, -1001, "charge", 0, "n", 0, 2, &after),
                     SO_ENOFUNDS);
    so_db_rollback(db);
    ck_assert_int_eq(so_store_team_by_id(db, pool, tid, &t), APR_SUCCESS);
    ck_assert_int_eq(t->balance, 1000);
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, tid, -1000, "charge", 0, "n", 0, 3, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(after, 0);
    ck_assert_int_eq(so_db_select_sql(db, pool,
                                      "SELECT amount, balance_after FROM ledger WHERE team_id = %lld "
                                      "ORDER BY id",
                                      &rows, SO_A(tid)),
                     APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 2);
    ck_assert_int_eq(so_cell_i64(rows, 1, 0), -1000);
    ck_assert_int_eq(so_cell_i64(rows, 1, 1), 0);
    /* a rolled back transaction leaves nothing */
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, tid, 500, "credit", 0, "n", 0, 4, &after),
                     APR_SUCCESS);
    so_db_rollback(db);
    ck_assert_int_eq(so_store_team_by_id(db, pool, tid, &t), APR_SUCCESS);
    ck_assert_int_eq(t->balance, 0);
}
END_TEST

START_TEST(statement_errors)
{
    so_rows_t *rows;
    /* wrong number of arguments is refused before reaching the driver */
    ck_assert_int_eq(so_db_select(db, pool, "so_user_by_name", &rows, SO_A0), SO_EDB);
    ck_assert_int_eq(so_db_select(db, pool, "so_no_such_label", &rows, SO_A0), SO_EDB);
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT * FROM nowhere", &rows, SO_A0), SO_EDB);
    /* NULL and integers round trip */
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT %lld + 1, NULL, %s", &rows,
                                      SO_A("41", "x")),
                     APR_SUCCESS);
    ck_assert_int_eq(so_cell_i64(rows, 0, 0), 42);
    ck_assert(so_cell_isnull(rows, 0, 1));
    ck_assert_str_eq(so_cell(rows, 0, 1), "");
    ck_assert_str_eq(so_cell(rows, 0, 2), "x");
    /* percent signs: %% is a literal */
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT 'a%%b' LIKE %s", &rows, SO_A("a%")),
                     APR_SUCCESS);
    ck_assert_int_eq(so_cell_i64(rows, 0, 0), 1);
}
END_TEST

/* typed arguments (so_db_args.h): each binds with the type of its placeholder */
START_TEST(typed_arguments)
{
    so_rows_t *rows;
    apr_int64_t big = 5000000000LL;
    const char *none = NULL;
    so_blob_t blob = {"a\0b", 3};

    ck_assert_int_eq(so_db_select_sql(db, pool,
                                      "SELECT typeof(%lld), %lld, typeof(%s), %s, %d, %lld IS NULL, "
                                      "%s IS NULL, %lld IS NULL, length(%pDb)",
                                      &rows, SO_A(big, big, 7, 7, "12", SO_ID(0), none, SO_ID(3), &blob)),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "integer");
    ck_assert_int_eq(so_cell_i64(rows, 0, 1), big);
    /* an integer for a text placeholder is written in decimal */
    ck_assert_str_eq(so_cell(rows, 0, 2), "text");
    ck_assert_str_eq(so_cell(rows, 0, 3), "7");
    /* a text for an integer placeholder is read as a number */
    ck_assert_int_eq(so_cell_int(rows, 0, 4), 12);
    /* SO_ID(0) and a NULL pointer are SQL NULL; SO_ID(3) is 3 */
    ck_assert_int_eq(so_cell_int(rows, 0, 5), 1);
    ck_assert_int_eq(so_cell_int(rows, 0, 6), 1);
    ck_assert_int_eq(so_cell_int(rows, 0, 7), 0);
    ck_assert_int_eq(so_cell_int(rows, 0, 8), 3);
    /* a blob binds only to %pDb */
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT %s", &rows, SO_A(&blob)), SO_EDB);
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT %pDb", &rows, SO_A("text")), SO_EDB);
}
END_TEST

/* the columns a statement's rows have, counted in its SQL at registration */
START_TEST(column_counts)
{
    ck_assert_int_eq(so_db_sql_ncols("SELECT a, b FROM t WHERE c IN (1, 2)"), 2);
    ck_assert_int_eq(so_db_sql_ncols("select f(a, b), 'x,'',y', \"q,r\" from t"), 3);
    ck_assert_int_eq(so_db_sql_ncols("SELECT count(*) FROM t"), 1);
    ck_assert_int_eq(so_db_sql_ncols("SELECT 1, 2"), 2);
    ck_assert_int_eq(so_db_sql_ncols("WITH x AS (SELECT 1, 2) SELECT a FROM x"), 1);
    ck_assert_int_eq(so_db_sql_ncols("SELECT a, b FROM t UNION SELECT c, d FROM u"), 2);
    ck_assert_int_eq(so_db_sql_ncols("SELECT CASE WHEN a THEN 1 ELSE 0 END, b FROM t"), 2);
    ck_assert_int_eq(so_db_sql_ncols("INSERT INTO t (a, b) VALUES (1, 2)"), 0);
    ck_assert_int_eq(so_db_sql_ncols("INSERT INTO t (a, b) SELECT a, b FROM u"), 0);
    ck_assert_int_eq(so_db_sql_ncols("INSERT INTO t (a) VALUES (1) RETURNING id"), 1);
    ck_assert_int_eq(so_db_sql_ncols("UPDATE t SET a = 1, b = 'select' RETURNING a, b"), 2);
    ck_assert_int_eq(so_db_sql_ncols("DELETE FROM t WHERE a = 1"), 0);
    /* every registered statement's ncols matches its SQL (none refused) */
    ck_assert_int_eq(so_stmts_rejected(), 0);
}
END_TEST

/* a statement for PostgreSQL alone is registered without its prefix, not prepared on
 * SQLite, and refused there */
START_TEST(pgsql_only_statements)
{
    so_rows_t *rows;
    const char *sql = so_stmt_sql("so_balance_charge");
    ck_assert_ptr_nonnull(sql);
    ck_assert(!strncmp(sql, "WITH b AS (UPDATE team_balances", 31));
    ck_assert_int_eq(so_db_prepare_all(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_select(db, pool, "so_balance_charge", &rows,
                                  SO_A(-1, 1, -1, 0, -1, "charge", 0, "", 0, 0)),
                     SO_EDB);
}
END_TEST

/* the commit hook (the audit row of a request): its row commits with the change or neither;
 * it writes right after BEGIN (hook_fail 1 fails there, 2 before COMMIT) */
static int hook_fail, hook_committed, hook_failed;
static char hook_phases[64];

static apr_status_t hook(so_db_t *d, void *baton, int phase)
{
    size_t n = strlen(hook_phases);
    (void)baton;
    if (n < sizeof(hook_phases) - 1) {
        hook_phases[n] = "BCFb"[phase];
    }
    if (phase == SO_DB_HOOK_COMMITTED) {
        hook_committed++;
        return APR_SUCCESS;
    }
    if (phase == SO_DB_HOOK_FAILED) {
        hook_failed++;
        return APR_SUCCESS;
    }
    if (phase == SO_DB_HOOK_BEFORE) {
        return hook_fail == 2 ? SO_EDB : APR_SUCCESS;
    }
    return hook_fail == 1 ? SO_EDB : so_db_exec_sql(d, pool, "INSERT INTO hooked (v) VALUES (1)", NULL, SO_A0);
}

static apr_int64_t count_of(const char *table)
{
    so_rows_t *rows;
    ck_assert_int_eq(so_db_select_sql(db, pool, apr_pstrcat(pool, "SELECT COUNT(*) FROM ", table,
                                                            NULL),
                                      &rows, SO_A0),
                     APR_SUCCESS);
    return so_cell_i64(rows, 0, 0);
}

START_TEST(commit_hook)
{
    ck_assert_int_eq(so_db_raw(db, "CREATE TABLE changed (v INTEGER)"), APR_SUCCESS);
    ck_assert_int_eq(so_db_raw(db, "CREATE TABLE hooked (v INTEGER)"), APR_SUCCESS);
    so_db_set_commit_hook(db, hook, NULL);
    /* a change outside a transaction gets one, with the hook's row (written first) */
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO changed (v) VALUES (1)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(count_of("changed"), 1);
    ck_assert_int_eq(count_of("hooked"), 1);
    ck_assert_int_eq(hook_committed, 1);
    ck_assert_str_eq(hook_phases, "bBC");
    ck_assert_ptr_null(db->trans);
    /* an explicit transaction: the same */
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(count_of("hooked"), 2); /* at BEGIN, before the change */
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO changed (v) VALUES (2)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(count_of("hooked"), 2);
    /* a transaction rolled back takes the hook's row with it, and says so (the hook writes
     * its row again in the next one) */
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    so_db_rollback(db);
    ck_assert_int_eq(hook_failed, 1);
    ck_assert_int_eq(count_of("hooked"), 2);
    /* the hook fails at BEGIN: no transaction, no change, the caller told */
    hook_fail = 1;
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO changed (v) VALUES (3)", NULL, SO_A0),
                     SO_EDB);
    ck_assert_int_eq(so_db_begin(db), SO_EDB);
    ck_assert_ptr_null(db->trans);
    /* ... or before COMMIT: the change is rolled back */
    hook_fail = 2;
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO changed (v) VALUES (4)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), SO_EDB);
    ck_assert_ptr_null(db->trans);
    ck_assert_int_eq(count_of("changed"), 2);
    ck_assert_int_eq(count_of("hooked"), 2);
    ck_assert_int_eq(hook_failed, 4);
    /* reads need no transaction; without the hook nothing is added */
    hook_fail = 0;
    so_db_set_commit_hook(db, NULL, NULL);
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO changed (v) VALUES (5)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(count_of("changed"), 3);
    ck_assert_int_eq(count_of("hooked"), 2);
}
END_TEST

START_TEST(login_failures)
{
    int count;
    apr_int64_t first;
    ck_assert_int_eq(so_store_login_failed(db, pool, "k", 100, 60), APR_SUCCESS);
    ck_assert_int_eq(so_store_login_failed(db, pool, "k", 110, 60), APR_SUCCESS);
    ck_assert_int_eq(so_store_login_failures(db, pool, "k", 50, &count, &first), APR_SUCCESS);
    ck_assert_int_eq(count, 2);
    ck_assert_int_eq(first, 100);
    /* a window that has passed starts over */
    ck_assert_int_eq(so_store_login_failed(db, pool, "k", 500, 60), APR_SUCCESS);
    ck_assert_int_eq(so_store_login_failures(db, pool, "k", 440, &count, &first), APR_SUCCESS);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(so_store_login_clear(db, pool, "k"), APR_SUCCESS);
    ck_assert_int_eq(so_store_login_failures(db, pool, "k", 0, &count, &first), APR_SUCCESS);
    ck_assert_int_eq(count, 0);
}
END_TEST

/* A finalized ACME order the background job is to issue: listed once it is old enough,
 * no longer once issued; a product-bound one gets its paid SSL order once (the second
 * worker's bind is refused, so its transaction rolls back and nothing is charged twice). */
START_TEST(acme_orders_stuck_and_bound_once)
{
    apr_int64_t tid;
    so_acme_eab_t e = {"kid1", 0, "k", 0, 1, 1, "", "", 0, 10, 0};
    so_acme_account_t acc;
    so_acme_order_t o, *got;
    apr_array_header_t *stuck;

    ck_assert_int_eq(so_store_team_create(db, pool, "acme", "ACME", "EUR", 100, &tid), APR_SUCCESS);
    e.team_id = tid;
    ck_assert_int_eq(so_store_acme_eab_insert(db, pool, &e), APR_SUCCESS);
    memset(&acc, 0, sizeof(acc));
    acc.team_id = tid;
    acc.eab_kid = "kid1";
    acc.thumbprint = "tp";
    acc.jwk = "{}";
    acc.status = "valid";
    acc.contact = "[]";
    ck_assert_int_eq(so_store_acme_account_insert(db, pool, &acc), APR_SUCCESS);
    memset(&o, 0, sizeof(o));
    o.account_id = acc.id;
    o.team_id = tid;
    o.status = "ready";
    o.identifiers = "a.example";
    o.profile = "classic";
    o.replaces = o.error = "";
    o.expires_at = 1000;
    o.created_at = 100;
    ck_assert_int_eq(so_store_acme_order_insert(db, pool, &o), APR_SUCCESS);
    /* the order with its authorizations in one read: none yet, then two, oldest first */
    {
        apr_array_header_t *authzs;
        const char *pem = "x", *mid = "x";
        so_acme_authz_t z;
        int k;
        ck_assert_int_eq(so_store_acme_order_authzs(db, pool, o.id, &got, &authzs), APR_SUCCESS);
        ck_assert_int_eq(got->id, o.id);
        ck_assert_str_eq(got->status, "ready");
        ck_assert_int_eq(authzs->nelts, 0);
        for (k = 0; k < 2; k++) {
            memset(&z, 0, sizeof(z));
            z.acme_order_id = o.id;
            z.account_id = acc.id;
            z.name = k ? "b.example" : "a.example";
            z.status = k ? "pending" : "valid";
            z.token = k ? "t2" : "t1";
            z.chall_type = z.error = "";
            z.validated_at = k ? 0 : 90;
            z.expires_at = 1000 + k;
            if (k == 0) {
                ck_assert_int_eq(so_store_acme_authz_insert(db, pool, &z, NULL), APR_SUCCESS);
            }
            else {
                /* the last of a transaction: SQLite has no commit in the same round trip,
                 * the caller ends the transaction (the second name is kept) */
                int ended = -1;
                ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
                ck_assert_int_eq(so_store_acme_authz_insert(db, pool, &z, &ended), APR_SUCCESS);
                ck_assert_int_eq(ended, 0);
                ck_assert_int_gt(z.id, 0);
                ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
            }
        }
        ck_assert_int_eq(so_store_acme_order_authzs(db, pool, o.id, &got, &authzs), APR_SUCCESS);
        ck_assert_str_eq(got->identifiers, "a.example");
        ck_assert_int_eq(authzs->nelts, 2);
        ck_assert_str_eq(APR_ARRAY_IDX(authzs, 0, so_acme_authz_t *)->name, "a.example");
        ck_assert_int_eq(APR_ARRAY_IDX(authzs, 0, so_acme_authz_t *)->validated_at, 90);
        ck_assert_str_eq(APR_ARRAY_IDX(authzs, 1, so_acme_authz_t *)->status, "pending");
        ck_assert_int_eq(APR_ARRAY_IDX(authzs, 1, so_acme_authz_t *)->expires_at, 1001);
        ck_assert_int_eq(so_store_acme_order_authzs(db, pool, o.id + 100, &got, &authzs),
                         APR_ENOENT);
        /* with its certificate: none yet */
        ck_assert_int_eq(so_store_acme_order_cert(db, pool, o.id, &got, &pem, &mid), APR_SUCCESS);
        ck_assert_int_eq(got->id, o.id);
        ck_assert_ptr_null(pem);
        ck_assert_int_eq(so_store_acme_order_cert(db, pool, o.id + 100, &got, &pem, &mid),
                         APR_ENOENT);
    }
    /* not processing yet: not the job's, and no SSL order can be bound */
    ck_assert_int_eq(so_store_acme_orders_stuck(db, pool, 500, 10, &stuck), APR_SUCCESS);
    ck_assert_int_eq(stuck->nelts, 0);
    ck_assert_int_eq(so_store_acme_order_bind(db, pool, o.id, 7), APR_EBUSY);
    o.cert_id = 0;
    o.csr = "PEM";
    o.account_url = "https://ca.example/acme/acct/1";
    o.finalized_at = 200;
    ck_assert_int_eq(so_store_acme_order_process(db, pool, &o), APR_SUCCESS);
    ck_assert_int_eq(o.cert_id, -1); /* no SSL order yet: no newest certificate */
    ck_assert_str_eq(o.status, "processing");
    ck_assert_int_eq(so_store_acme_order_process(db, pool, &o), APR_EBUSY); /* once */
    ck_assert_int_eq(so_store_acme_orders_stuck(db, pool, 199, 10, &stuck), APR_SUCCESS);
    ck_assert_int_eq(stuck->nelts, 0); /* finalized too recently: its client polls */
    ck_assert_int_eq(so_store_acme_orders_stuck(db, pool, 200, 10, &stuck), APR_SUCCESS);
    ck_assert_int_eq(stuck->nelts, 1);
    got = APR_ARRAY_IDX(stuck, 0, so_acme_order_t *);
    ck_assert_str_eq(got->account_url, "https://ca.example/acme/acct/1");
    ck_assert_int_eq(got->finalized_at, 200);
    ck_assert_str_eq(got->csr, "PEM");
    /* the first bind wins, the second is refused */
    ck_assert_int_eq(so_store_acme_order_bind(db, pool, o.id, 7), APR_SUCCESS);
    ck_assert_int_eq(so_store_acme_order_bind(db, pool, o.id, 8), APR_EBUSY);
    ck_assert_int_eq(so_store_acme_order_get(db, pool, o.id, &got), APR_SUCCESS);
    ck_assert_int_eq(got->order_id, 7);
    ck_assert_int_eq(got->cert_id, -1);
    /* issued: no longer the job's */
    got->status = "valid";
    got->cert_id = 3;
    ck_assert_int_eq(so_store_acme_order_set(db, pool, got), APR_SUCCESS);
    ck_assert_int_eq(so_store_acme_orders_stuck(db, pool, 500, 10, &stuck), APR_SUCCESS);
    ck_assert_int_eq(stuck->nelts, 0);
}
END_TEST

/* A new connection's warm-up runs every hot statement once, finds nothing and writes
 * nothing; a statement that cannot run stops it with an error. */
START_TEST(warm_runs_the_hot_statements)
{
    int ran = -1;
    so_rows_t *rows;
    apr_int64_t tid;

    ck_assert_int_eq(so_store_team_create(db, pool, "warm", "Warm", "EUR", 100, &tid), APR_SUCCESS);
    ck_assert_int_eq(so_store_warm(db, pool, &ran), APR_SUCCESS);
    ck_assert_int_eq(ran, 8);
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT COUNT(*) FROM teams", &rows, 0, NULL),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "1");
    /* again: the same, from the statements prepared the first time */
    ck_assert_int_eq(so_store_warm(db, pool, &ran), APR_SUCCESS);
    ck_assert_int_eq(ran, 8);
    /* the seal query cannot run without its table (SQLite prepares the connection's
     * statements again after a schema change: the first one to run fails already) */
    ck_assert_int_eq(so_db_raw(db, "ALTER TABLE seals RENAME TO seals_gone"), APR_SUCCESS);
    ck_assert_int_ne(so_store_warm(db, pool, &ran), APR_SUCCESS);
    ck_assert_int_lt(ran, 5);
}
END_TEST

/* A transaction whose statement failed because the database was busy commits as
 * SO_EDBBUSY (answered 503, to retry), also when its caller went on past the failure; any
 * other failure stays SO_EDB. Nothing of either is kept. */
START_TEST(busy_transaction_is_busy_at_commit)
{
    so_rows_t *rows;

    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO settings (name, value) VALUES ('b', '1')",
                                    NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_classify_msg(db, "database is locked", "a write"), SO_EDBBUSY);
    ck_assert_int_eq(so_db_commit(db), SO_EDBBUSY);
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_sql(db, pool, "INSERT INTO settings (name, value) VALUES ('c', '1')",
                                    NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_ne(so_db_exec_sql(db, pool, "INSERT INTO nowhere VALUES (1)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), SO_EDB);
    /* the next transaction starts clean */
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_select_sql(db, pool,
                                      "SELECT COUNT(*) FROM settings WHERE name IN ('b', 'c')",
                                      &rows, SO_A0),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "0");
}
END_TEST

/* The charge committed in its own round trip is PostgreSQL's (libpq pipeline): on SQLite
 * it does nothing (APR_ENOTIMPL) and the transaction goes on, to be committed as usual. */
START_TEST(charge_commit_is_postgresql_only)
{
    apr_int64_t tid;
    so_rows_t *rows;

    ck_assert_int_eq(so_store_team_create(db, pool, "pipe", "Pipe", "EUR", 100, &tid), APR_SUCCESS);
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_sql(db, pool, "UPDATE teams SET name = 'Piped' WHERE id = %lld",
                                    NULL, SO_A(tid)),
                     APR_SUCCESS);
    ck_assert_int_eq(so_store_charge_commit(db, pool, tid, 10, 10, "charge", 0, "x", 0, 1),
                     APR_ENOTIMPL);
    ck_assert_ptr_nonnull(db->trans);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT name FROM teams WHERE id = %lld", &rows,
                                      SO_A(tid)),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "Piped");
    ck_assert_int_eq(so_db_select_sql(db, pool, "SELECT COUNT(*) FROM ledger", &rows, 0, NULL),
                     APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "0");
}
END_TEST

/* so_db_exec_later on SQLite (no pipeline): the change runs at once, in the transaction,
 * and its error is its own (the transaction fails); outside a transaction it commits as
 * so_db_exec does. (PostgreSQL's queue: test_acme.py, a change that fails with the
 * transaction's next statement.) */
START_TEST(exec_later_runs_at_once_on_sqlite)
{
    so_rows_t *rows;
    const char *count = "SELECT COUNT(*) FROM acme_nonces WHERE nonce LIKE 'later-%%'";

    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_later(db, pool, "so_acme_nonce_add", SO_A("later-1", 100)),
                     APR_SUCCESS);
    ck_assert_ptr_null(db->later);
    ck_assert_int_eq(so_db_select_sql(db, pool, count, &rows, SO_A0), APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "1");
    /* a failing change (the same nonce again) fails at once, and so does the transaction */
    ck_assert_int_eq(so_db_exec_later(db, pool, "so_acme_nonce_add", SO_A("later-1", 100)),
                     SO_EDBUNIQUE);
    ck_assert_int_ne(so_db_commit(db), APR_SUCCESS);
    ck_assert_int_eq(so_db_select_sql(db, pool, count, &rows, SO_A0), APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "0");
    /* outside a transaction: committed at once */
    ck_assert_int_eq(so_db_exec_later(db, pool, "so_acme_nonce_add", SO_A("later-2", 100)),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_select_sql(db, pool, count, &rows, SO_A0), APR_SUCCESS);
    ck_assert_str_eq(so_cell(rows, 0, 0), "1");
}
END_TEST

/* SQLite lock waits: each statement's wait has its own budget, even when waits follow
 * each other closely (they did not: under steady load a thread's waits merged into one,
 * and after 3 s every wait of the thread gave up at once); apr_dbd's retries of a
 * statement we gave up on give up at once. */
START_TEST(busy_waits_each_get_their_budget)
{
    so_db_busy_t b = {0, 0};
    apr_time_t t = apr_time_from_sec(100), end;
    int fresh, i;

    ck_assert_int_eq(so_db_busy_step(&b, 0, t, &fresh), 50);
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(so_db_busy_step(&b, 3, t + 1000, &fresh), 400);
    ck_assert_int_eq(fresh, 0);
    ck_assert_int_eq(so_db_busy_step(&b, 4, t + 2000, &fresh), 500);
    ck_assert_int_eq(so_db_busy_step(&b, 40, t + 1000000, &fresh), 500);
    /* 200 ms waits, 10 ms apart, for 10 s: every one polls to its end */
    end = t + apr_time_from_sec(10);
    for (t += apr_time_from_msec(210); t < end; t += apr_time_from_msec(210)) {
        ck_assert_int_eq(so_db_busy_step(&b, 0, t, &fresh), 50);
        ck_assert_int_eq(fresh, 1);
        for (i = 1; i < 100; i++) {
            ck_assert_int_gt(so_db_busy_step(&b, i, t + i * 2000, &fresh), 0);
        }
    }
    /* a wait longer than SO_DB_BUSY_WAIT gives up ... */
    ck_assert_int_gt(so_db_busy_step(&b, 0, t, &fresh), 0);
    ck_assert_int_gt(so_db_busy_step(&b, 9, t + SO_DB_BUSY_WAIT, &fresh), 0);
    ck_assert_int_eq(so_db_busy_step(&b, 10, t + SO_DB_BUSY_WAIT + 1, &fresh), 0);
    /* ... and apr_dbd's retries of that statement, 100 ms apart, give up at once */
    for (i = 1; i <= 15; i++) {
        ck_assert_int_eq(so_db_busy_step(&b, 0, t + SO_DB_BUSY_WAIT + i * apr_time_from_msec(100),
                                         &fresh), 0);
        ck_assert_int_eq(fresh, 0);
    }
    /* a later statement waits again */
    t += SO_DB_BUSY_WAIT + 15 * apr_time_from_msec(100) + SO_DB_BUSY_SAME;
    ck_assert_int_eq(so_db_busy_step(&b, 0, t, &fresh), 50);
    ck_assert_int_eq(fresh, 1);
}
END_TEST

/* the other process: holds its write lock on a fresh file 5 s, then commits */
static void *APR_THREAD_FUNC hold_then_commit(apr_thread_t *t, void *holder)
{
    apr_sleep(apr_time_from_sec(5));
    so_db_commit(holder);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A second server starting on the same fresh SQLite file while the first one migrates it
 * (seconds on a loaded machine) waits for the lock, longer than the 3.6 s it once waited,
 * and then finds (or applies) every migration. */
START_TEST(sqlite_migration_waits_for_another_process)
{
    const char *path = apr_psprintf(pool, "/tmp/so-unit-migrate-%d.db", (int)getpid());
    const char *err = NULL;
    so_db_t *holder, *second;
    apr_thread_t *t;
    apr_status_t trv;
    apr_time_t t0;
    int applied = 0, current = 0;

    unlink(path);
    ck_assert_int_eq(so_db_open(&holder, pool, "sqlite3", path, 0, &err), APR_SUCCESS);
    ck_assert_int_eq(so_db_begin(holder), APR_SUCCESS);
    ck_assert_int_eq(so_db_exec_sql(holder, pool, "CREATE TABLE holder (x INTEGER)", NULL, SO_A0),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&t, NULL, hold_then_commit, holder, pool), APR_SUCCESS);
    t0 = apr_time_now();
    ck_assert_int_eq(so_db_open(&second, pool, "sqlite3", path, 0, &err), APR_SUCCESS);
    ck_assert_msg(so_schema_migrate(second, pool, &applied, &err) == APR_SUCCESS, "migrate: %s",
                  err ? err : "?");
    ck_assert_int_ge(apr_time_now() - t0, apr_time_from_sec(4));
    ck_assert_int_gt(applied, 0);
    ck_assert_int_eq(so_schema_version(second, pool, &current), APR_SUCCESS);
    ck_assert_int_eq(current, so_schema_latest());
    apr_thread_join(&trv, t);
    so_db_close(second);
    so_db_close(holder);
    unlink(path);
    unlink(apr_pstrcat(pool, path, "-wal", NULL));
    unlink(apr_pstrcat(pool, path, "-shm", NULL));
}
END_TEST

TCase *so_test_db_case(void)
{
    TCase *tc = tcase_create("db");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, migrations_are_idempotent);
    tcase_add_test(tc, users_teams_members);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, ledger_is_atomic);
    tcase_add_test(tc, statement_errors);
    tcase_add_test(tc, typed_arguments);
    tcase_add_test(tc, column_counts);
    tcase_add_test(tc, login_failures);
    tcase_add_test(tc, commit_hook);
    tcase_add_test(tc, pgsql_only_statements);
    tcase_add_test(tc, exec_later_runs_at_once_on_sqlite);
    tcase_add_test(tc, acme_orders_stuck_and_bound_once);
    tcase_add_test(tc, warm_runs_the_hot_statements);
    tcase_add_test(tc, busy_waits_each_get_their_budget);
    tcase_add_test(tc, charge_commit_is_postgresql_only);
    tcase_add_test(tc, busy_transaction_is_busy_at_commit);
    tcase_add_test(tc, sqlite_migration_waits_for_another_process);
    tcase_set_timeout(tc, 60);
    return tc;
}
