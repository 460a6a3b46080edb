/* mod_sslorders: PostgreSQL notifications for SSLOrdersAuthCache.
 *
 * With the token lookup cache on and PostgreSQL as the database, each child runs one
 * thread with a connection of its own that LISTENs on "sslorders_auth". Triggers
 * (migration 950) NOTIFY it when a token is revoked or changed, a membership changes,
 * a user is disabled or a team renamed, by any server or sslordersctl. Each
 * notification bumps the server's cache generation (so_authcache_changed): what this
 * server's processes read before is not used again. A revocation made on another server
 * thus shows here in the time the notification takes (milliseconds), not after the
 * cache's seconds.
 *
 * Balances and order list versions change with every order, so their triggers notify
 * nothing (a NOTIFY serializes the commits of the transactions that send one). Instead,
 * a request or background pass that committed something flags this thread
 * (so_authcache_committed -> kick), which sends one NOTIFY of its own after the commit,
 * in a transaction that holds nothing else, with this server's name as its payload (its
 * own listeners skip it: their generation moved already). It sends at most one every
 * SO_NOTIFY_SPACING_MS: under a stream of orders, one notification covers all the
 * commits before it. sslordersctl notifies after its commands likewise.
 *
 * While the connection is down, the cache's seconds are the bound for everything; after
 * a reconnection the generation is bumped once (what was missed meanwhile), and a flag
 * raised meanwhile is sent. The gauge sslorders_auth_listeners counts the listening
 * processes.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <fcntl.h>

#include <libpq-fe.h>

#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include <httpd.h>
#include <http_log.h>

#include "so_httpd.h"
#include "../api/so_authcache.h"
#include "../core/so_log.h"
#include "../core/so_metrics.h"
#include "../store/so_store_account.h"

APLOG_USE_MODULE(sslorders);

#define SO_LISTEN_CHANNEL "sslorders_auth"
#define SO_LISTEN_RETRY_MS 1000
/* the least time between two notifications of this process's commits */
#define SO_NOTIFY_SPACING_MS 20

typedef struct {
    server_rec *s;
    const char *conninfo;
    apr_thread_t *thread;
    int wake[2]; /* a byte on wake[1] ends the thread's wait */
    volatile apr_uint32_t stopping;
    volatile apr_uint32_t dirty; /* something was committed since the last notification */
} listener_t;

/* this process's listener, for kick() */
static listener_t *running;

/* so_authcache_committed: a request or pass of this process committed something */
static void kick(void)
{
    listener_t *l = running;
    if (l && apr_atomic_cas32(&l->dirty, 1, 0) == 0 && write(l->wake[1], "n", 1) < 0) {
        /* (the thread sees the flag within its poll's second) */
    }
}

/* drain the wake pipe (its bytes only end poll's wait) */
static void wake_drain(listener_t *l)
{
    char buf[64];
    while (read(l->wake[0], buf, sizeof(buf)) > 0) {
    }
}

/* wait up to ms for the stop signal; 1 when stopping */
static int pause_ms(listener_t *l, int ms)
{
    struct pollfd fd = {l->wake[0], POLLIN, 0};
    if (apr_atomic_read32(&l->stopping)) {
        return 1;
    }
    if (poll(&fd, 1, ms) > 0) {
        wake_drain(l); /* (a kick's byte must not end the next pause at once) */
    }
    return apr_atomic_read32(&l->stopping) != 0;
}

static PGconn *listen_connect(listener_t *l)
{
    PGconn *c = PQconnectdb(l->conninfo);
    PGresult *r;
    int ok;

    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    r = PQexec(c, "LISTEN " SO_LISTEN_CHANNEL);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok || PQsetnonblocking(c, 1) != 0) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* the notifications libpq holds: bump the generation for any other than our own */
static void take_notices(PGconn *c)
{
    PGnotify *n;
    int any = 0;
    while ((n = PQnotifies(c))) {
        /* this server's own notices: its generation moved before it sent them */
        any |= !so_authcache_mine(n->extra);
        PQfreemem(n);
    }
    if (any) {
        so_authcache_changed();
    }
}

/* what arrived on c: 0 when the connection is gone */
static int listen_read(PGconn *c)
{
    if (!PQconsumeInput(c)) {
        return 0;
    }
    take_notices(c);
    return 1;
}

/* tell the other servers that this one committed something: 0 when the connection is
 * gone (libpq's blocking call: one short round trip) */
static int notify_send(PGconn *c)
{
    const char *origin = so_authcache_origin();
    PGresult *r = PQexecParams(c, SO_AUTH_NOTIFY_SQL("$1"), 1, NULL, &origin, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (ok) {
        so_metrics_inc(SO_MC_AUTH_NOTICES_SENT);
    }
    take_notices(c); /* (what arrived during the call) */
    return ok || PQstatus(c) == CONNECTION_OK;
}

static void listen_lost(listener_t *l, PGconn **c)
{
    /* the database went away: the cache's seconds are the bound until it is back */
    PQfinish(*c);
    *c = NULL;
    so_metrics_gauge_add(SO_MG_AUTH_LISTENERS, -1);
    so_authcache_changed();
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, l->s,
                 SOLOGNO(00709) "SSLOrdersAuthCache: the notification connection was lost; "
                                "connecting again");
}

static void *APR_THREAD_FUNC listen_main(apr_thread_t *t, void *data)
{
    listener_t *l = data;
    PGconn *c = NULL;
    int was_up = 0;
    apr_time_t sent = 0;

    (void)t;
    while (!apr_atomic_read32(&l->stopping)) {
        struct pollfd fds[2];
        int wait_ms = 1000;
        apr_time_t now;
        if (!c) {
            if (!(c = listen_connect(l))) {
                if (pause_ms(l, SO_LISTEN_RETRY_MS)) {
                    break;
                }
                continue;
            }
            so_metrics_gauge_add(SO_MG_AUTH_LISTENERS, 1);
            if (was_up) {
                /* what changed while the connection was down */
                so_authcache_changed();
            }
            was_up = 1;
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, l->s,
                         SOLOGNO(00708) "SSLOrdersAuthCache: listening for changes of credentials");
        }
        now = apr_time_now();
        if (apr_atomic_read32(&l->dirty)) {
            apr_time_t due = sent + apr_time_from_msec(SO_NOTIFY_SPACING_MS);
            if (now >= due) {
                /* cleared first: a commit after this point raises it again */
                apr_atomic_set32(&l->dirty, 0);
                sent = now;
                if (!notify_send(c)) {
                    apr_atomic_set32(&l->dirty, 1); /* (sent when the connection is back) */
                    listen_lost(l, &c);
                }
                continue;
            }
            wait_ms = (int)apr_time_as_msec(due - now) + 1;
        }
        fds[0].fd = PQsocket(c);
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = l->wake[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents) {
            wake_drain(l);
        }
        if (fds[0].revents && !listen_read(c)) {
            listen_lost(l, &c);
        }
    }
    if (c) {
        PQfinish(c);
        so_metrics_gauge_add(SO_MG_AUTH_LISTENERS, -1);
    }
    return NULL;
}

static apr_status_t listen_stop(void *data)
{
    listener_t *l = data;
    apr_status_t trv;
    so_authcache_set_notifier(NULL);
    running = NULL;
    apr_atomic_set32(&l->stopping, 1);
    if (write(l->wake[1], "x", 1) < 0) {
        /* the thread still sees stopping within its poll's second */
    }
    apr_thread_join(&trv, l->thread);
    close(l->wake[0]);
    close(l->wake[1]);
    return APR_SUCCESS;
}

void so_httpd_auth_listen_start(apr_pool_t *pchild, server_rec *s)
{
    const char *params = so_httpd_dbd_pg_params();
    listener_t *l;
    apr_status_t rv;

    if (!so_authcache_on() || !params) {
        return;
    }
    l = apr_pcalloc(pchild, sizeof(*l));
    l->s = s;
    l->conninfo = params;
    if (pipe(l->wake) != 0) {
        return;
    }
    fcntl(l->wake[0], F_SETFL, O_NONBLOCK);
    if ((rv = apr_thread_create(&l->thread, NULL, listen_main, l, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     SOLOGNO(00710) "SSLOrdersAuthCache: no thread to listen for changes of "
                                    "credentials; changes made on other servers show within "
                                    "the cache's seconds");
        close(l->wake[0]);
        close(l->wake[1]);
        return;
    }
    apr_pool_cleanup_register(pchild, l, listen_stop, apr_pool_cleanup_null);
    running = l;
    so_authcache_set_notifier(kick);
}
