/* Unit tests of the service layer (src/svc) called without any HTTP request: a context
 * made like the background job's (so_svc_ctx_make) issues a validated order through
 * so_iss_issue_claimed on SQLite with a CA of its own, and the organization decision
 * tells its failures in a so_result_t; new orders are created, charged and cancelled by
 * the order services with such a context. The services never see a so_req_t. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/api/so_br.h"
#include "../../src/core/so_ca.h"
#include "../../src/store/so_store_account.h"
#include "../../src/store/so_store_cert.h"
#include "../../src/store/so_store_order.h"
#include "../../src/svc/so_claim.h"
#include "../../src/svc/so_issuance.h"
#include "../../src/svc/so_svc.h"
#include "../../src/svc/so_svc_order.h"

static apr_pool_t *pool;
static so_db_t *db;
static so_config_t cfg;
static so_br_config_t br;

static void setup(void)
{
    apr_array_header_t *to;

    apr_pool_create(&pool, NULL);
    db = so_test_db(pool);
    so_config_defaults(&cfg);
    cfg.instance = "unit";
    cfg.ca_tag = "ca.example.net";
    /* no network: HTTP validation answers "connection refused" at once, no CAA lookups */
    to = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(to, const char *) = "::127.0.0.1:1";
    cfg.dcv_connect_to = to;
    memset(&br, 0, sizeof(br));
    br.dnssec = 0;
    br.caa = 0;
    cfg.br = &br;
}

static void teardown(void)
{
    so_db_close(db);
    apr_pool_destroy(pool);
}

/* a DV order for names through the API, sent for validation (REQ); returns its id */
static apr_int64_t order_req(const char *token, const char *const *names)
{
    json_t *body, *methods = json_array();
    char *text;
    so_req_t *req;
    apr_int64_t after;
    int i;

    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, 1, 100000, "credit", 0, "", 0, 1, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    for (i = 0; names[i]; i++) {
        json_array_append_new(methods, json_pack("{s:s,s:s}", "host_name", names[i], "method",
                                                 "http"));
    }
    body = json_pack("{s:i,s:i,s:s,s:o,s:b}", "product_id", 1, "period", 1, "csr",
                     so_test_csr(pool, "ec256", names, NULL, NULL), "domain_validation_methods",
                     methods, "start_provision", 1);
    text = json_dumps(body, JSON_COMPACT);
    req = so_test_call(pool, db, &cfg, "POST", "/ssl/orders", apr_pstrdup(pool, text), token);
    free(text);
    json_decref(body);
    ck_assert_msg(req->status == 200, "POST /ssl/orders: %d %s", req->status,
                  req->err_desc ? req->err_desc : "");
    ck_assert_ptr_nonnull(req->data);
    ck_assert(json_is_integer(json_object_get(req->data, "id")));
    return (apr_int64_t)json_integer_value(json_object_get(req->data, "id"));
}

START_TEST(issue_without_request)
{
    static const char *const names[] = {"svc.example.com", "www.svc.example.com", NULL};
    const char *token = so_test_account(pool, db, "svc", "svcteam");
    apr_int64_t now = (apr_int64_t)time(NULL);
    apr_array_header_t *certs, *events;
    apr_int64_t id, total;
    so_svc_ctx_t *ctx;
    so_ca_t *ca = NULL;
    so_order_t *o;
    const char *why = NULL;
    int issued = -1, i, saw_issued = 0;

    ck_assert_msg(so_ca_init(&ca, pool, so_test_tmpdir(pool), NULL, now - 60, &why)
                      == APR_SUCCESS,
                  "%s", why);
    cfg.ca = ca;
    id = order_req(token, names);
    ck_assert_int_eq(so_store_order_get(db, pool, 1, id, &o), APR_SUCCESS);
    ck_assert_str_eq(o->status, "REQ");

    ctx = so_svc_ctx_make(pool, db, &cfg, now, SO_ACTOR_JOB);
    ck_assert_str_eq(ctx->actor.name, "system");
    ck_assert_ptr_nonnull(strstr(ctx->owner, "unit:"));

    /* names not validated: nothing issued */
    ck_assert_int_eq(so_iss_issue_claimed(ctx, o, &issued), APR_SUCCESS);
    ck_assert_int_eq(issued, 0);
    ck_assert_int_eq(so_store_certs_of_order(db, pool, 1, id, &certs), APR_SUCCESS);
    ck_assert_int_eq(certs->nelts, 0);

    /* every name validated: the service issues */
    for (i = 0; names[i]; i++) {
        ck_assert_int_eq(so_store_host_state_set(db, pool, id, names[i], "valid", now, now, ""),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(so_store_order_get(db, pool, 1, id, &o), APR_SUCCESS);
    ck_assert_int_eq(so_iss_issue_claimed(ctx, o, &issued), APR_SUCCESS);
    ck_assert_int_eq(issued, 1);
    ck_assert_int_eq(so_store_order_get(db, pool, 1, id, &o), APR_SUCCESS);
    ck_assert_str_eq(o->status, "ACT");
    ck_assert_int_eq(so_store_certs_of_order(db, pool, 1, id, &certs), APR_SUCCESS);
    ck_assert_int_eq(certs->nelts, 1);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(certs, 0, so_cert_t *)->pem,
                                 "-----BEGIN CERTIFICATE-----"));
    /* the event went through the hook into the order's history, by "system" */
    ck_assert_int_eq(so_store_order_events(db, pool, 1, id, 100, 0, &events, &total),
                     APR_SUCCESS);
    for (i = 0; i < events->nelts; i++) {
        so_order_event_t *e = &APR_ARRAY_IDX(events, i, so_order_event_t);
        if (!strcmp(e->kind, "issued")) {
            saw_issued = 1;
            ck_assert_str_eq(e->actor, "system");
        }
    }
    ck_assert_msg(saw_issued, "no issued event");

    /* issued once: a second call does nothing */
    ck_assert_int_eq(so_iss_issue_claimed(ctx, o, &issued), APR_SUCCESS);
    ck_assert_int_eq(issued, 0);
    ck_assert_int_eq(so_store_certs_of_order(db, pool, 1, id, &certs), APR_SUCCESS);
    ck_assert_int_eq(certs->nelts, 1);

    /* the renewal's charge as a service: a year more, the balance charged */
    {
        apr_int64_t ends = o->order_ends_at, before = 0, after = 0;
        so_result_t res;
        so_team_t *team;
        ck_assert_int_gt(ends, now);
        ck_assert_int_eq(so_store_team_by_id(db, pool, 1, &team), APR_SUCCESS);
        before = team->balance;
        so_result_init(&res);
        ck_assert_int_eq(so_iss_renew_charge(ctx, o, 1, &res), APR_SUCCESS);
        ck_assert_int_eq(res.status, APR_SUCCESS);
        ck_assert_int_eq(so_store_order_get(db, pool, 1, id, &o), APR_SUCCESS);
        ck_assert_int_eq(o->order_ends_at, so_iss_add_years(ends, 1));
        ck_assert_int_eq(so_store_team_by_id(db, pool, 1, &team), APR_SUCCESS);
        after = team->balance;
        ck_assert_int_eq(before - after, o->price);
    }
    so_svc_after(ctx);
}
END_TEST

START_TEST(org_decide_results)
{
    static const char *const names[] = {"dv.example.com", NULL};
    const char *token = so_test_account(pool, db, "svc2", "svcteam2");
    so_svc_ctx_t *ctx = so_svc_ctx_make(pool, db, &cfg, (apr_int64_t)time(NULL), SO_ACTOR_CLI);
    so_result_t res;
    so_order_t *o = NULL;
    int issued = -1;
    apr_int64_t id;

    so_result_init(&res);
    ck_assert_int_eq(so_iss_org_decide(ctx, 4242, 1, "", &o, &issued, &res), APR_ENOENT);
    ck_assert_int_eq(res.status, APR_ENOENT);
    ck_assert_int_eq(res.code, SO_E_NOT_FOUND);
    ck_assert_str_eq(res.detail, "No order 4242");

    id = order_req(token, names);
    so_result_init(&res);
    ck_assert_int_eq(so_iss_org_decide(ctx, id, 1, "", &o, &issued, &res), APR_EINVAL);
    ck_assert_int_eq(res.code, SO_E_STATUS);
    ck_assert_str_eq(res.detail, "A DV order has no organization validation");
    ck_assert_int_eq(issued, 0);
}
END_TEST

/* the input of a DV order of names with http validation, sent for validation */
static so_svc_order_in_t order_in(const char *const *names)
{
    so_svc_order_in_t in;
    int i;

    memset(&in, 0, sizeof(in));
    in.product_id = 1;
    in.period = 1;
    in.has_product = in.has_period = 1;
    in.csr = so_test_csr(pool, "ec256", names, NULL, NULL);
    in.has_csr = 1;
    in.dcv = apr_array_make(pool, 2, sizeof(so_order_host_t));
    for (i = 0; names[i]; i++) {
        so_order_host_t *h = apr_array_push(in.dcv);
        h->host_name = names[i];
        h->method = "http";
    }
    in.start = in.has_start = 1;
    return in;
}

static apr_int64_t balance_of(apr_int64_t team_id)
{
    so_team_t *team;
    ck_assert_int_eq(so_store_team_by_id(db, pool, team_id, &team), APR_SUCCESS);
    return team->balance;
}

START_TEST(order_create_update_cancel_without_request)
{
    static const char *const names[] = {"new.example.com", "www.new.example.com", NULL};
    so_svc_order_in_t in;
    so_svc_ctx_t *ctx;
    so_svc_idem_t idem;
    so_result_t res;
    so_order_t *o = NULL, *again = NULL;
    so_team_t *team;
    apr_array_header_t *events;
    apr_int64_t after, before, total;
    int i, created = 0, requested = 0;

    so_test_account(pool, db, "svc3", "svcteam3");
    so_test_account(pool, db, "svc4", "svcteam4"); /* team 2: no money */
    ck_assert_int_eq(so_store_team_by_id(db, pool, 1, &team), APR_SUCCESS);
    ck_assert_int_eq(so_db_begin(db), APR_SUCCESS);
    ck_assert_int_eq(so_store_ledger_add(db, pool, 1, 100000, "credit", 0, "", 0, 1, &after),
                     APR_SUCCESS);
    ck_assert_int_eq(so_db_commit(db), APR_SUCCESS);
    ctx = so_svc_ctx_make(pool, db, &cfg, (apr_int64_t)time(NULL), SO_ACTOR_CLI);
    ctx->actor.team_id = 1;
    ctx->actor.name = "unit-actor";
    in = order_in(names);

    /* not on sale: refused, nothing written */
    in.product_id = 9999;
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_create(ctx, &in, team->currency, NULL, &o, &res), APR_EINVAL);
    ck_assert_int_eq(res.code, SO_E_PRODUCT);
    ck_assert_str_eq(res.detail, "No product 9999 on sale");
    in.product_id = 1;

    /* created, REQ, charged; its events name the context's actor */
    before = balance_of(1);
    memset(&idem, 0, sizeof(idem));
    idem.key = "key-1";
    idem.hash = "hash-1";
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_create(ctx, &in, team->currency, &idem, &o, &res), APR_SUCCESS);
    ck_assert_int_eq(res.status, APR_SUCCESS);
    ck_assert_int_eq(idem.replayed, 0);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->status, "REQ");
    ck_assert_int_eq(o->team_id, 1);
    ck_assert_int_gt(o->price, 0);
    ck_assert_int_eq(before - balance_of(1), o->price);
    ck_assert_int_eq(so_store_order_events(db, pool, 1, o->id, 100, 0, &events, &total),
                     APR_SUCCESS);
    for (i = 0; i < events->nelts; i++) {
        so_order_event_t *e = &APR_ARRAY_IDX(events, i, so_order_event_t);
        created |= !strcmp(e->kind, "created");
        requested |= !strcmp(e->kind, "provisioning_requested");
        ck_assert_str_eq(e->actor, "unit-actor");
    }
    ck_assert(created && requested);

    /* the same key and request: the first answer, nothing charged twice */
    before = balance_of(1);
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_create(ctx, &in, team->currency, &idem, &again, &res),
                     APR_SUCCESS);
    ck_assert_int_eq(idem.replayed, 1);
    ck_assert_str_eq(idem.response, apr_psprintf(pool, "{\"id\":%" APR_INT64_T_FMT "}", o->id));
    ck_assert_int_eq(balance_of(1), before);
    /* the same key, another request: refused */
    memset(&idem, 0, sizeof(idem));
    idem.key = "key-1";
    idem.hash = "hash-2";
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_create(ctx, &in, team->currency, &idem, &again, &res),
                     APR_EINVAL);
    ck_assert_int_eq(res.code, SO_E_IDEMPOTENCY);
    ck_assert_int_eq(balance_of(1), before);

    /* a team without money: SO_E_FUNDS, no order */
    ctx->actor.team_id = 2;
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_create(ctx, &in, team->currency, NULL, &again, &res),
                     APR_EINVAL);
    ck_assert_int_eq(res.code, SO_E_FUNDS);
    ck_assert_int_eq(balance_of(2), 0);
    ctx->actor.team_id = 1;

    /* updated while REQ: autorenew yes, the CSR no (refused whole), the product never */
    {
        apr_array_header_t *keys = apr_array_make(pool, 2, sizeof(const char *));
        so_svc_order_in_t up;
        memset(&up, 0, sizeof(up));
        up.autorenew = "on";
        up.has_autorenew = 1;
        APR_ARRAY_PUSH(keys, const char *) = "autorenew";
        so_result_init(&res);
        ck_assert_int_eq(so_svc_order_update(ctx, 1, o->id, &up, keys, &res), APR_SUCCESS);
        ck_assert_int_eq(so_store_order_get(db, pool, 1, o->id, &again), APR_SUCCESS);
        ck_assert_int_eq(again->autorenew, 1);
        APR_ARRAY_PUSH(keys, const char *) = "csr";
        so_result_init(&res);
        ck_assert_int_eq(so_svc_order_update(ctx, 1, o->id, &up, keys, &res), APR_EINVAL);
        ck_assert_int_eq(res.code, SO_E_STATUS_FIELD);
        ck_assert_str_eq(res.detail, "csr cannot be changed while the order is REQ");
        keys->nelts = 1;
        APR_ARRAY_IDX(keys, 0, const char *) = "period";
        so_result_init(&res);
        ck_assert_int_eq(so_svc_order_update(ctx, 1, o->id, &up, keys, &res), APR_EINVAL);
        ck_assert_str_eq(res.detail, "period is tied to the product and cannot be changed");
        so_result_init(&res);
        ck_assert_int_eq(so_svc_order_update(ctx, 2, o->id, &up, keys, &res), APR_ENOENT);
    }

    /* cancelled while REQ: FAI and refunded; a second time: refused; another team's: 404 */
    before = balance_of(1);
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_cancel(ctx, 1, o->id, &res), APR_SUCCESS);
    ck_assert_int_eq(so_store_order_get(db, pool, 1, o->id, &again), APR_SUCCESS);
    ck_assert_str_eq(again->status, "FAI");
    ck_assert_int_eq(balance_of(1) - before, o->price);
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_cancel(ctx, 1, o->id, &res), APR_EINVAL);
    ck_assert_int_eq(res.code, SO_E_STATUS);
    ck_assert_str_eq(res.detail, "An order in status FAI cannot be cancelled");
    so_result_init(&res);
    ck_assert_int_eq(so_svc_order_cancel(ctx, 2, o->id, &res), APR_ENOENT);
    ck_assert_int_eq(res.code, SO_E_NOT_FOUND);
    so_svc_after(ctx);
}
END_TEST

/* the order's claim holder now ("" when free) */
static const char *holder(apr_int64_t id, apr_int64_t now)
{
    const char *h = NULL;
    ck_assert_int_eq(so_store_order_claim_holder(db, pool, id, now, &h), APR_SUCCESS);
    return h;
}

/* Claims whose holder is gone: a process of this host that no longer runs is taken over at
 * once; a live one, this process's own, another host's or an unreadable owner is waited
 * for; a release that failed is kept and done by the next context of the process. */
START_TEST(claims_of_gone_holders)
{
    static const char *const names[] = {"claim.example.com", NULL};
    const char *token = so_test_account(pool, db, "claim", "claimteam");
    apr_int64_t now = (apr_int64_t)time(NULL), id;
    const char *dead_owner, *live_owner, *mine, *other_host;
    so_svc_ctx_t *ctx, *ctx2;
    pid_t dead, live;
    int st;

    ck_assert_int_eq(so_claims_init(pool), APR_SUCCESS);
    cfg.instance = apr_psprintf(pool, "unithost:%d", (int)getpid());
    id = order_req(token, names);
    /* a process that ran and ended (reaped), and one that runs */
    if ((dead = fork()) == 0) {
        _exit(0);
    }
    ck_assert_int_gt(dead, 0);
    ck_assert_int_eq(waitpid(dead, &st, 0), dead);
    if ((live = fork()) == 0) {
        pause();
        _exit(0);
    }
    ck_assert_int_gt(live, 0);
    dead_owner = apr_psprintf(pool, "unithost:%d:aa11", (int)dead);
    live_owner = apr_psprintf(pool, "unithost:%d:bb22", (int)live);
    mine = apr_psprintf(pool, "unithost:%d:cc33", (int)getpid());
    other_host = apr_psprintf(pool, "elsewhere:%d:dd44", (int)dead);

    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, dead_owner), 1);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, live_owner), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, mine), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, other_host), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, "unithost"), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, "unithost:x1:aa"), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, ":12:aa"), 0);
    ck_assert_int_eq(so_claim_holder_gone(cfg.instance, ""), 0);
    ck_assert_int_eq(so_claim_holder_gone("sslorders", dead_owner), 0);
    ck_assert_int_eq(so_claim_holder_gone("unithos:1", dead_owner), 0);

    ctx = so_svc_ctx_make(pool, db, &cfg, now, SO_ACTOR_JOB);
    /* no such order: not claimed */
    ck_assert_int_eq(so_svc_order_claim(ctx, pool, id + 1000, 300), APR_EBUSY);
    /* held by a live process of this host, this process, another host: busy */
    ck_assert_int_eq(so_store_order_claim(db, pool, id, live_owner, now, now + 300), APR_SUCCESS);
    ck_assert_int_eq(so_svc_order_claim(ctx, pool, id, 300), APR_EBUSY);
    ck_assert_str_eq(holder(id, now), live_owner);
    so_store_order_release(db, pool, id, live_owner);
    ck_assert_int_eq(so_store_order_claim(db, pool, id, mine, now, now + 300), APR_SUCCESS);
    ck_assert_int_eq(so_svc_order_claim(ctx, pool, id, 300), APR_EBUSY);
    so_store_order_release(db, pool, id, mine);
    ck_assert_int_eq(so_store_order_claim(db, pool, id, other_host, now, now + 300), APR_SUCCESS);
    ck_assert_int_eq(so_svc_order_claim(ctx, pool, id, 300), APR_EBUSY);
    ck_assert_str_eq(holder(id, now), other_host);
    so_store_order_release(db, pool, id, other_host);
    /* a claim reads the order's issuance state as it finds it; a busy one reads nothing */
    {
        so_issuance_state_t *found = NULL, *read = NULL;
        ck_assert_int_eq(so_store_reminders_set(db, pool, id, "30,7", "x@example.com", 1),
                         APR_SUCCESS);
        ck_assert_int_eq(so_svc_order_claim_state(ctx, pool, id, 300, &found), APR_SUCCESS);
        ck_assert_int_eq(so_store_issuance_get(db, pool, id, &read), APR_SUCCESS);
        ck_assert_ptr_nonnull(found);
        ck_assert_str_eq(found->reminder_days, "30,7");
        ck_assert_str_eq(found->reminder_recipients, read->reminder_recipients);
        ck_assert_int_eq(found->reminders_enabled, read->reminders_enabled);
        ck_assert_int_eq(found->reissue_pending, read->reissue_pending);
        ck_assert_int_eq(found->next_check_at, read->next_check_at);
        ck_assert_str_eq(found->org_status, read->org_status);
        ck_assert_int_eq(so_svc_order_claim_state(ctx2 = so_svc_ctx_make(pool, db, &cfg, now,
                                                                          SO_ACTOR_JOB),
                                                  pool, id, 300, &found),
                         APR_EBUSY);
        ck_assert_ptr_null(found);
        so_svc_order_release(ctx, pool, id);
    }
    /* held by a process that ended: taken over, for the context's time */
    ck_assert_int_eq(so_store_order_claim(db, pool, id, dead_owner, now, now + 300), APR_SUCCESS);
    ck_assert_int_eq(so_svc_order_claim(ctx, pool, id, 60), APR_SUCCESS);
    ck_assert_str_eq(holder(id, now), ctx->owner);
    ck_assert_str_eq(holder(id, now + 60), ctx->owner);
    ck_assert_str_eq(holder(id, now + 61), "");
    /* another context waits for it */
    ctx2 = so_svc_ctx_make(pool, db, &cfg, now, SO_ACTOR_JOB);
    ck_assert_int_eq(so_svc_order_claim(ctx2, pool, id, 300), APR_EBUSY);

    /* the release fails (the column is gone for a moment): the claim stays, is kept, and
     * the next context made in this process releases it */
    ck_assert_int_eq(so_db_raw(db, "ALTER TABLE orders RENAME COLUMN claim_owner TO co"),
                     APR_SUCCESS);
    so_svc_order_release(ctx, pool, id);
    ck_assert_int_eq(so_db_raw(db, "ALTER TABLE orders RENAME COLUMN co TO claim_owner"),
                     APR_SUCCESS);
    ck_assert_str_eq(holder(id, now), ctx->owner);
    so_svc_ctx_make(pool, db, &cfg, now, SO_ACTOR_JOB);
    ck_assert_str_eq(holder(id, now), "");
    ck_assert_int_eq(so_svc_order_claim(ctx2, pool, id, 300), APR_SUCCESS);
    so_svc_order_release(ctx2, pool, id);
    ck_assert_str_eq(holder(id, now), "");

    kill(live, SIGKILL);
    waitpid(live, &st, 0);
}
END_TEST

TCase *so_test_svc_case(void)
{
    TCase *tc = tcase_create("svc");
    tcase_add_unchecked_fixture(tc, so_test_root_setup, so_test_root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, issue_without_request);
    tcase_add_test(tc, org_decide_results);
    tcase_add_test(tc, order_create_update_cancel_without_request);
    tcase_add_test(tc, claims_of_gone_holders);
    return tc;
}
