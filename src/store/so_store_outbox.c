#include <string.h>

#include <apr_strings.h>

#include "so_store_outbox.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_outbox[] = {
    {700, "webhook endpoints, the transactional outbox, delivery attempts",
     "CREATE TABLE webhooks (\n"
     "  id {{ID}},\n"
     "  team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,\n"
     "  url TEXT NOT NULL,\n"
     "  events TEXT NOT NULL,\n"
     "  description TEXT NOT NULL DEFAULT '',\n"
     "  enabled INTEGER NOT NULL DEFAULT 1,\n"
     "  secret TEXT NOT NULL,\n"
     "  old_secret TEXT NOT NULL DEFAULT '',\n"
     "  old_secret_until BIGINT NOT NULL DEFAULT 0,\n"
     "  failing_since BIGINT NOT NULL DEFAULT 0,\n"
     "  disabled_reason TEXT NOT NULL DEFAULT '',\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL);\n"
     "CREATE INDEX webhooks_team ON webhooks (team_id, id);\n"
     "CREATE TABLE outbox (\n"
     "  id {{ID}},\n"
     "  event_id TEXT NOT NULL,\n"
     "  team_id BIGINT NOT NULL,\n"
     "  order_id BIGINT NOT NULL DEFAULT 0,\n"
     "  type TEXT NOT NULL,\n"
     "  consumer BIGINT NOT NULL DEFAULT 0,\n"
     "  payload TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  status TEXT NOT NULL DEFAULT 'pending',\n"
     "  attempts INTEGER NOT NULL DEFAULT 0,\n"
     "  next_at BIGINT NOT NULL,\n"
     "  last_status INTEGER NOT NULL DEFAULT 0,\n"
     "  claim_owner TEXT,\n"
     "  claim_until BIGINT);\n"
     "CREATE UNIQUE INDEX outbox_event ON outbox (event_id, consumer);\n"
     "CREATE INDEX outbox_due ON outbox (next_at, id) WHERE status = 'pending';\n"
     "CREATE INDEX outbox_chain ON outbox (consumer, order_id, id) WHERE status = 'pending';\n"
     "CREATE INDEX outbox_consumer ON outbox (consumer, id);\n"
     "CREATE TABLE webhook_attempts (\n"
     "  id {{ID}},\n"
     "  outbox_id BIGINT NOT NULL,\n"
     "  webhook_id BIGINT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  http_status INTEGER NOT NULL DEFAULT 0,\n"
     "  latency_ms INTEGER NOT NULL DEFAULT 0,\n"
     "  response TEXT NOT NULL DEFAULT '',\n"
     "  error TEXT NOT NULL DEFAULT '',\n"
     "  next_retry BIGINT NOT NULL DEFAULT 0);\n"
     "CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id, id)"},
    {0, NULL, NULL}};

/* a webhook endpoint */
#define WH_COLUMNS(X)                                                                             \
    X(WH_ID, "id") X(WH_TEAM_ID, ", team_id") X(WH_URL, ", url") X(WH_EVENTS, ", events")        \
    X(WH_DESCRIPTION, ", description") X(WH_ENABLED, ", enabled") X(WH_SECRET, ", secret")       \
    X(WH_OLD_SECRET, ", old_secret") X(WH_OLD_SECRET_UNTIL, ", old_secret_until")                \
    X(WH_FAILING_SINCE, ", failing_since") X(WH_DISABLED_REASON, ", disabled_reason")            \
    X(WH_CREATED_AT, ", created_at") X(WH_UPDATED_AT, ", updated_at")
enum { WH_COLUMNS(SO_COL_POS) WH_NCOLS };
#define WH_COLS WH_COLUMNS(SO_COL_SQL)
/* an outbox item */
#define OB_COLUMNS_OF(X, T)                                                                       \
    X(OB_ID, T "id") X(OB_EVENT_ID, ", " T "event_id") X(OB_TEAM_ID, ", " T "team_id")           \
    X(OB_ORDER_ID, ", " T "order_id") X(OB_TYPE, ", " T "type")                                  \
    X(OB_CONSUMER, ", " T "consumer") X(OB_PAYLOAD, ", " T "payload")                            \
    X(OB_CREATED_AT, ", " T "created_at") X(OB_STATUS, ", " T "status")                          \
    X(OB_ATTEMPTS, ", " T "attempts") X(OB_NEXT_AT, ", " T "next_at")                            \
    X(OB_LAST_STATUS, ", " T "last_status")
#define OB_COLUMNS(X) OB_COLUMNS_OF(X, "o.")
enum { OB_COLUMNS(SO_COL_POS) OB_NCOLS };
#define OB_COLS OB_COLUMNS(SO_COL_SQL)
/* the same for RETURNING (SQLite's names no alias there) */
#define OB_RETURNING OB_COLUMNS_OF(SO_COL_SQL, "")
/* a delivery attempt */
#define WA_COLUMNS(X)                                                                             \
    X(WA_ID, "id") X(WA_OUTBOX_ID, ", outbox_id") X(WA_AT, ", at")                               \
    X(WA_HTTP_STATUS, ", http_status") X(WA_LATENCY_MS, ", latency_ms")                          \
    X(WA_RESPONSE, ", response") X(WA_ERROR, ", error") X(WA_NEXT_RETRY, ", next_retry")
enum { WA_COLUMNS(SO_COL_POS) WA_NCOLS };
#define WA_COLS WA_COLUMNS(SO_COL_SQL)
/* Due: pending, its time come, not claimed, and the first pending row of its order for its
 * consumer (an order's events arrive in order). The first row is a correlated MIN over
 * outbox_chain, not NOT EXISTS: PostgreSQL plans a statement once per connection
 * (plan_cache_mode), and with statistics taken while nothing was pending (a healthy outbox)
 * it turned the NOT EXISTS into an anti join comparing every pending row with every other:
 * 4.2 s per batch with 5,000 pending (a receiver back after an outage). The MIN is an
 * index lookup per row whatever the statistics. */
#define OB_DUE                                                                                    \
    "SELECT " OB_COLS " FROM outbox o WHERE o.status = 'pending' AND o.next_at <= %lld "         \
    "AND (o.claim_until IS NULL OR o.claim_until < %lld) AND (o.order_id = 0 OR o.id = "          \
    "(SELECT MIN(e.id) FROM outbox e WHERE e.consumer = o.consumer AND e.order_id = o.order_id " \
    "AND e.status = 'pending')) "

const so_stmt_def_t so_stmts_outbox[] = {
    {"so_wh_insert",
     "INSERT INTO webhooks (team_id, url, events, description, enabled, secret, created_at, "
     "updated_at) VALUES (%lld, %s, %s, %s, %d, %s, %lld, %lld) RETURNING id", 1},
    {"so_wh_get", "SELECT " WH_COLS " FROM webhooks WHERE team_id = %lld AND id = %lld",
     WH_NCOLS},
    {"so_wh_list", "SELECT " WH_COLS " FROM webhooks WHERE team_id = %lld ORDER BY id", WH_NCOLS},
    {"so_wh_list_enabled",
     "SELECT " WH_COLS " FROM webhooks WHERE team_id = %lld AND enabled = 1 ORDER BY id",
     WH_NCOLS},
    {"so_wh_update",
     "UPDATE webhooks SET url = %s, events = %s, description = %s, enabled = %d, secret = %s, "
     "old_secret = %s, old_secret_until = %lld, failing_since = %lld, disabled_reason = %s, "
     "updated_at = %lld WHERE team_id = %lld AND id = %lld", 0},
    {"so_wh_delete", "DELETE FROM webhooks WHERE team_id = %lld AND id = %lld", 0},
    {"so_wh_owner_emails",
     "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = %lld "
     "AND m.role = 'owner' AND u.email <> '' ORDER BY u.id", 1},
    {"so_ob_insert",
     "INSERT INTO outbox (event_id, team_id, order_id, type, consumer, payload, created_at, "
     "next_at) VALUES (%s, %lld, %lld, %s, %lld, %s, %lld, %lld) RETURNING id", 1},
    {"so_ob_get", "SELECT " OB_COLS " FROM outbox o WHERE o.id = %lld", OB_NCOLS},
    {"so_ob_due", OB_DUE "ORDER BY o.id LIMIT %d", OB_NCOLS},
    {"so_ob_claim",
     "UPDATE outbox SET claim_owner = %s, claim_until = %lld, attempts = attempts + 1 "
     "WHERE id = %lld AND status = 'pending' AND next_at <= %lld "
     "AND (claim_until IS NULL OR claim_until < %lld)", 0},
    /* the first pending row of an order for a consumer, when due and not claimed: claimed
     * and read in one statement (attempts as they were before) */
    {"so_ob_claim_first",
     "UPDATE outbox SET claim_owner = %s, claim_until = %lld, attempts = attempts + 1 "
     "WHERE id = (SELECT MIN(e.id) FROM outbox e WHERE e.consumer = %lld AND e.order_id = %lld "
     "AND e.status = 'pending') AND status = 'pending' AND next_at <= %lld "
     "AND (claim_until IS NULL OR claim_until < %lld) RETURNING " OB_RETURNING, OB_NCOLS},
    {"so_ob_claimed",
     "SELECT id, claim_owner FROM outbox WHERE status = 'pending' AND claim_until >= %lld "
     "ORDER BY id LIMIT %d", 2},
    {"so_ob_unclaim",
     "UPDATE outbox SET claim_owner = NULL, claim_until = NULL WHERE id = %lld AND "
     "status = 'pending' AND claim_owner = %s", 0},
    {"so_ob_finish",
     "UPDATE outbox SET status = %s, next_at = %lld, last_status = %d, claim_owner = NULL, "
     "claim_until = NULL WHERE id = %lld AND claim_owner = %s", 0},
    {"so_ob_redeliver",
     "UPDATE outbox SET status = 'pending', next_at = %lld, claim_owner = NULL, claim_until = NULL "
     "WHERE id = %lld", 0},
    {"so_ob_of_webhook",
     "SELECT " OB_COLS " FROM outbox o WHERE o.consumer = %lld ORDER BY o.id DESC LIMIT %d",
     OB_NCOLS},
    {"so_ob_reminder_mark",
     "INSERT INTO reminders_sent (order_id, expiry, offset_days, sent_at) VALUES (%lld, %lld, %d, "
     "%lld) ON CONFLICT (order_id, expiry, offset_days) DO NOTHING", 0},
    {"so_ob_pending", "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", 1},
    {"so_wa_insert",
     "INSERT INTO webhook_attempts (outbox_id, webhook_id, at, http_status, latency_ms, response, "
     "error, next_retry) VALUES (%lld, %lld, %lld, %d, %d, %s, %s, %lld)", 0},
    {"so_wa_list",
     "SELECT " WA_COLS " FROM webhook_attempts WHERE outbox_id = %lld ORDER BY id", WA_NCOLS},
    {NULL, NULL, 0}};


static so_webhook_t *wh_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_webhook_t *w = apr_pcalloc(p, sizeof(*w));
    w->id = so_cell_i64(r, i, WH_ID);
    w->team_id = so_cell_i64(r, i, WH_TEAM_ID);
    w->url = apr_pstrdup(p, so_cell(r, i, WH_URL));
    w->events = apr_pstrdup(p, so_cell(r, i, WH_EVENTS));
    w->description = apr_pstrdup(p, so_cell(r, i, WH_DESCRIPTION));
    w->enabled = so_cell_int(r, i, WH_ENABLED);
    w->secret = apr_pstrdup(p, so_cell(r, i, WH_SECRET));
    w->old_secret = apr_pstrdup(p, so_cell(r, i, WH_OLD_SECRET));
    w->old_secret_until = so_cell_i64(r, i, WH_OLD_SECRET_UNTIL);
    w->failing_since = so_cell_i64(r, i, WH_FAILING_SINCE);
    w->disabled_reason = apr_pstrdup(p, so_cell(r, i, WH_DISABLED_REASON));
    w->created_at = so_cell_i64(r, i, WH_CREATED_AT);
    w->updated_at = so_cell_i64(r, i, WH_UPDATED_AT);
    return w;
}

static so_outbox_item_t *ob_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_outbox_item_t *it = apr_pcalloc(p, sizeof(*it));
    it->id = so_cell_i64(r, i, OB_ID);
    it->event_id = apr_pstrdup(p, so_cell(r, i, OB_EVENT_ID));
    it->team_id = so_cell_i64(r, i, OB_TEAM_ID);
    it->order_id = so_cell_i64(r, i, OB_ORDER_ID);
    it->type = apr_pstrdup(p, so_cell(r, i, OB_TYPE));
    it->consumer = so_cell_i64(r, i, OB_CONSUMER);
    it->payload = apr_pstrdup(p, so_cell(r, i, OB_PAYLOAD));
    it->created_at = so_cell_i64(r, i, OB_CREATED_AT);
    it->status = apr_pstrdup(p, so_cell(r, i, OB_STATUS));
    it->attempts = so_cell_int(r, i, OB_ATTEMPTS);
    it->next_at = so_cell_i64(r, i, OB_NEXT_AT);
    it->last_status = so_cell_int(r, i, OB_LAST_STATUS);
    return it;
}

static void wrote(so_db_t *db)
{
    if (!db->trans) {
        db->committed = 1;
    }
}

apr_status_t so_store_webhook_insert(so_db_t *db, apr_pool_t *p, so_webhook_t *w)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_wh_insert", &rows,
                                   SO_A(w->team_id, w->url, w->events, w->description,
                                        w->enabled, w->secret, w->created_at,
                                        w->updated_at));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    w->id = so_cell_i64(rows, 0, 0);
    wrote(db);
    return APR_SUCCESS;
}

apr_status_t so_store_webhook_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                  so_webhook_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_wh_get", &rows, SO_A(team_id, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = wh_row(p, rows, 0);
    return APR_SUCCESS;
}

apr_status_t so_store_webhooks(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, int enabled_only,
                               apr_array_header_t **out)
{
    so_rows_t *rows;
    int i;
    apr_status_t rv = so_db_select(db, p, enabled_only ? "so_wh_list_enabled" : "so_wh_list", &rows,
                                   SO_A(team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_webhook_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, so_webhook_t *) = wh_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_webhook_update(so_db_t *db, apr_pool_t *p, const so_webhook_t *w)
{
    int n = 0;
    apr_status_t rv = so_db_exec(
        db, p, "so_wh_update", &n,
        SO_A(w->url, w->events, w->description, w->enabled, w->secret, w->old_secret,
             w->old_secret_until, w->failing_since, w->disabled_reason,
             w->updated_at, w->team_id, w->id));
    if (rv == APR_SUCCESS && n == 0) {
        return APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv;
}

apr_status_t so_store_webhook_delete(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t id)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_wh_delete", &n, SO_A(team_id, id));
    if (rv == APR_SUCCESS && n == 0) {
        return APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv;
}

apr_status_t so_store_team_owner_emails(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                        apr_array_header_t **out)
{
    so_rows_t *rows;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_wh_owner_emails", &rows, SO_A(team_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(const char *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*out, const char *) = apr_pstrdup(p, so_cell(rows, i, 0));
    }
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_insert(so_db_t *db, apr_pool_t *p, so_outbox_item_t *it)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_insert", &rows,
                                   SO_A(it->event_id, it->team_id, it->order_id, it->type,
                                        it->consumer, it->payload, it->created_at,
                                        it->next_at));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    it->id = so_cell_i64(rows, 0, 0);
    it->status = "pending";
    wrote(db);
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_get(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_outbox_item_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_get", &rows, SO_A(id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    *out = ob_row(p, rows, 0);
    return APR_SUCCESS;
}

static apr_array_header_t *items(apr_pool_t *p, so_rows_t *rows)
{
    apr_array_header_t *out = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                                             sizeof(so_outbox_item_t *));
    int i;
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(out, so_outbox_item_t *) = ob_row(p, rows, i);
    }
    return out;
}

apr_status_t so_store_outbox_due(so_db_t *db, apr_pool_t *p, apr_int64_t now, int limit,
                                 apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_due", &rows, SO_A(now, now, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = items(p, rows);
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_claimed(so_db_t *db, apr_pool_t *p, apr_int64_t now, int limit,
                                     apr_array_header_t **ids, apr_array_header_t **owners)
{
    so_rows_t *r;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_ob_claimed", &r, SO_A(now, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *ids = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(apr_int64_t));
    *owners = apr_array_make(p, r->nrows ? r->nrows : 1, sizeof(const char *));
    for (i = 0; i < r->nrows; i++) {
        APR_ARRAY_PUSH(*ids, apr_int64_t) = so_cell_i64(r, i, 0);
        APR_ARRAY_PUSH(*owners, const char *) = so_cell(r, i, 1);
    }
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_unclaim(so_db_t *db, apr_pool_t *p, apr_int64_t id,
                                     const char *owner)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_ob_unclaim", &n, SO_A(id, owner));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    wrote(db);
    return n == 1 ? APR_SUCCESS : APR_EBUSY;
}

apr_status_t so_store_outbox_claim(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *owner,
                                   apr_int64_t now, apr_int64_t until)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_ob_claim", &n,
                                 SO_A(owner, until, id, now, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    wrote(db);
    return n == 1 ? APR_SUCCESS : APR_EBUSY;
}

apr_status_t so_store_outbox_claim_first(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t consumer, const char *owner, apr_int64_t now,
                                         apr_int64_t until, so_outbox_item_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_claim_first", &rows,
                                   SO_A(owner, until, consumer, order_id, now, now));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    wrote(db);
    if (rows->nrows != 1) {
        return APR_ENOENT;
    }
    *out = ob_row(p, rows, 0);
    (*out)->attempts--; /* the earlier attempts, as so_store_outbox_due reads them */
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_finish(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *owner,
                                    const char *status, apr_int64_t next_at, int last_status)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_ob_finish", &n,
                                 SO_A(status, next_at, last_status, id, owner));
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv == APR_SUCCESS && n == 0 ? APR_EBUSY : rv;
}

apr_status_t so_store_outbox_redeliver(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_ob_redeliver", &n, SO_A(now, id));
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t so_store_webhook_deliveries(so_db_t *db, apr_pool_t *p, apr_int64_t webhook_id,
                                         int limit, apr_array_header_t **out)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_of_webhook", &rows,
                                   SO_A(webhook_id, limit));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = items(p, rows);
    return APR_SUCCESS;
}

apr_status_t so_store_webhook_attempt_add(so_db_t *db, apr_pool_t *p, apr_int64_t webhook_id,
                                          const so_webhook_attempt_t *a)
{
    apr_status_t rv = so_db_exec(db, p, "so_wa_insert", NULL,
                                 SO_A(a->outbox_id, webhook_id, a->at,
                                      a->http_status, a->latency_ms,
                                      a->response ? a->response : "", a->error ? a->error : "",
                                      a->next_retry));
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv;
}

apr_status_t so_store_webhook_attempts(so_db_t *db, apr_pool_t *p, apr_int64_t outbox_id,
                                       apr_array_header_t **out)
{
    so_rows_t *rows;
    int i;
    apr_status_t rv = so_db_select(db, p, "so_wa_list", &rows, SO_A(outbox_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_webhook_attempt_t *));
    for (i = 0; i < rows->nrows; i++) {
        so_webhook_attempt_t *a = apr_pcalloc(p, sizeof(*a));
        a->id = so_cell_i64(rows, i, WA_ID);
        a->outbox_id = so_cell_i64(rows, i, WA_OUTBOX_ID);
        a->at = so_cell_i64(rows, i, WA_AT);
        a->http_status = so_cell_int(rows, i, WA_HTTP_STATUS);
        a->latency_ms = so_cell_int(rows, i, WA_LATENCY_MS);
        a->response = apr_pstrdup(p, so_cell(rows, i, WA_RESPONSE));
        a->error = apr_pstrdup(p, so_cell(rows, i, WA_ERROR));
        a->next_retry = so_cell_i64(rows, i, WA_NEXT_RETRY);
        APR_ARRAY_PUSH(*out, so_webhook_attempt_t *) = a;
    }
    return APR_SUCCESS;
}

apr_status_t so_store_outbox_pending(so_db_t *db, apr_pool_t *p, apr_int64_t *pending)
{
    so_rows_t *rows;
    apr_status_t rv = so_db_select(db, p, "so_ob_pending", &rows, SO_A0);
    if (rv == APR_SUCCESS) {
        *pending = so_cell_i64(rows, 0, 0);
    }
    return rv;
}

apr_status_t so_store_reminder_mark_once(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                         apr_int64_t expiry, int offset, apr_int64_t now)
{
    int n = 0;
    apr_status_t rv = so_db_exec(db, p, "so_ob_reminder_mark", &n,
                                 SO_A(order_id, expiry, offset, now));
    if (rv == APR_SUCCESS) {
        wrote(db);
    }
    return rv == APR_SUCCESS && n == 0 ? SO_EDBUNIQUE : rv;
}
