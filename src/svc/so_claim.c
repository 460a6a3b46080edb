/* mod_sslorders: order claims whose holder is gone (see so_claim.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "so_claim.h"
#include "../core/so_log.h"
#include "../store/so_store_cert.h"

/* The claims of this process whose release failed (the database was unreachable): released
 * again by the next context that claims, or is made, in this process. */
#define OWED_MAX 64
static struct {
    apr_thread_mutex_t *lock;
    volatile apr_uint32_t n;
    struct {
        char *owner; /* malloc'd; NULL: a free slot */
        apr_int64_t order_id;
    } slot[OWED_MAX];
} owed;

static apr_status_t owed_gone(void *unused)
{
    int i;
    (void)unused;
    owed.lock = NULL;
    for (i = 0; i < OWED_MAX; i++) {
        free(owed.slot[i].owner);
        owed.slot[i].owner = NULL;
    }
    apr_atomic_set32(&owed.n, 0);
    return APR_SUCCESS;
}

apr_status_t so_claims_init(apr_pool_t *p)
{
    apr_status_t rv;
    owed.lock = NULL;
    if ((rv = apr_thread_mutex_create(&owed.lock, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS) {
        owed.lock = NULL;
        return rv;
    }
    apr_pool_pre_cleanup_register(p, NULL, owed_gone);
    return APR_SUCCESS;
}

static void owe(const char *owner, apr_int64_t order_id)
{
    int i;
    if (!owed.lock) {
        return;
    }
    apr_thread_mutex_lock(owed.lock);
    for (i = 0; i < OWED_MAX && owed.slot[i].owner; i++) {
    }
    if (i < OWED_MAX && (owed.slot[i].owner = strdup(owner)) != NULL) {
        owed.slot[i].order_id = order_id;
        apr_atomic_inc32(&owed.n);
    }
    apr_thread_mutex_unlock(owed.lock); /* full: the claim runs out by its time */
    if (i == OWED_MAX) {
        so_log_warn(SO_LOG_MARK, APR_ENOSPC,
                    SOLOGNO(00704) "order %" APR_INT64_T_FMT " keeps its claim until it runs "
                    "out: its release failed and %d others wait to be released",
                    order_id, OWED_MAX);
    }
}

void so_claims_settle(so_db_t *db, apr_pool_t *p)
{
    int i;
    if (!owed.lock || apr_atomic_read32(&owed.n) == 0 || db->trans || db->broken) {
        return; /* (in a transaction, a release could be rolled back with it) */
    }
    for (i = 0; i < OWED_MAX; i++) {
        char *owner = NULL;
        apr_int64_t id = 0;
        apr_thread_mutex_lock(owed.lock);
        if (owed.slot[i].owner) {
            owner = owed.slot[i].owner;
            id = owed.slot[i].order_id;
            owed.slot[i].owner = NULL; /* ours while we try */
            apr_atomic_dec32(&owed.n);
        }
        apr_thread_mutex_unlock(owed.lock);
        if (!owner) {
            continue;
        }
        if (so_store_order_release(db, p, id, owner) != APR_SUCCESS) {
            owe(owner, id); /* still unreachable: the next one tries again */
            free(owner);
            return;
        }
        free(owner);
    }
}

/* "<host>:<pid>..." -> the host's length and the pid (0: not of that shape) */
static apr_int64_t split_instance(const char *s, size_t *host_len)
{
    const char *c = strchr(s, ':');
    char *end;
    apr_int64_t pid;
    if (!c || c == s) {
        return 0;
    }
    pid = apr_strtoi64(c + 1, &end, 10);
    if (end == c + 1 || (*end && *end != ':') || pid <= 0 || pid > 0x7fffffff) {
        return 0;
    }
    *host_len = (size_t)(c - s);
    return pid;
}

int so_claim_holder_gone(const char *instance, const char *owner)
{
    size_t mine_len = 0, its_len = 0;
    apr_int64_t mine, its;

    if (!instance || !owner || !*owner) {
        return 0;
    }
    mine = split_instance(instance, &mine_len);
    its = split_instance(owner, &its_len);
    /* an owner of another host, or one we cannot read, may be alive */
    if (!mine || !its || mine_len != its_len || strncmp(instance, owner, mine_len)) {
        return 0;
    }
    if (its == mine) {
        return 0; /* ours: held by a context now (a failed release is retried, see owe) */
    }
    /* another process of this host: gone when it does not run (a zombie still counts) */
    return kill((pid_t)its, 0) == -1 && errno == ESRCH;
}

apr_status_t so_svc_order_claim(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id,
                                apr_int64_t secs)
{
    return so_svc_order_claim_state(ctx, p, order_id, secs, NULL);
}

apr_status_t so_svc_order_claim_state(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id,
                                      apr_int64_t secs, so_issuance_state_t **st)
{
    const char *holder;
    apr_status_t rv = APR_EBUSY;
    int tries;

    if (st) {
        *st = NULL;
    }
    so_claims_settle(ctx->db, p);
    for (tries = 0; tries < 2; tries++) {
        rv = so_store_order_claim_state(ctx->db, p, order_id, ctx->owner, ctx->now,
                                        ctx->now + secs, st);
        if (rv != APR_EBUSY) {
            break;
        }
        if ((rv = so_store_order_claim_holder(ctx->db, p, order_id, ctx->now, &holder))
            != APR_SUCCESS) {
            break;
        }
        if (!*holder) {
            rv = APR_EBUSY; /* released (or ran out) meanwhile: claim it again (no such
                             * order: busy, as so_store_order_claim says) */
            continue;
        }
        if (!so_claim_holder_gone(ctx->cfg->instance, holder)) {
            rv = APR_EBUSY;
            break;
        }
        rv = so_store_order_claim_take(ctx->db, p, order_id, holder, ctx->owner, ctx->now + secs);
        if (rv == APR_SUCCESS) {
            so_log_warn(SO_LOG_MARK, APR_SUCCESS,
                        SOLOGNO(00703) "order %" APR_INT64_T_FMT " was claimed by %s, which is "
                        "gone (its process no longer runs): taken over",
                        order_id, holder);
        }
        break;
    }
    return rv;
}

void so_svc_order_release(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id)
{
    if (so_store_order_release(ctx->db, p, order_id, ctx->owner) != APR_SUCCESS) {
        owe(ctx->owner, order_id);
    }
}
