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
 * Balances and order list versions change with every order: they notify nothing (a
 * NOTIFY serializes the commits of the transactions that send one) and show within the
 * cache's seconds, as before. While the connection is down, the cache's seconds are the
 * bound for everything; after a reconnection the generation is bumped once (what was
 * missed meanwhile). The gauge sslorders_auth_listeners counts the listening processes.
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

APLOG_USE_MODULE(sslorders);

#define SO_LISTEN_CHANNEL "sslorders_auth"
#define SO_LISTEN_RETRY_MS 1000

typedef struct {
    server_rec *s;
    const char *conninfo;
    apr_thread_t *thread;
    int wake[2]; /* a byte on wake[1] ends the thread's wait */
    volatile apr_uint32_t stopping;
} listener_t;

/* wait up to ms for the stop signal; 1 when stopping */
static int pause_ms(listener_t *l, int ms)
{
    struct pollfd fd = {l->wake[0], POLLIN, 0};
    if (apr_atomic_read32(&l->stopping)) {
        return 1;
    }
    (void)poll(&fd, 1, ms);
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

/* what arrived on c: 0 when the connection is gone */
static int listen_read(PGconn *c)
{
    PGnotify *n;
    int any = 0;
    if (!PQconsumeInput(c)) {
        return 0;
    }
    while ((n = PQnotifies(c))) {
        any = 1;
        PQfreemem(n);
    }
    if (any) {
        so_authcache_changed();
    }
    return 1;
}

static void *APR_THREAD_FUNC listen_main(apr_thread_t *t, void *data)
{
    listener_t *l = data;
    PGconn *c = NULL;
    int was_up = 0;

    (void)t;
    while (!apr_atomic_read32(&l->stopping)) {
        struct pollfd fds[2];
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
        fds[0].fd = PQsocket(c);
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = l->wake[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        if (poll(fds, 2, 1000) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents && !listen_read(c)) {
            /* the database went away: the cache's seconds are the bound until it is back */
            PQfinish(c);
            c = NULL;
            so_metrics_gauge_add(SO_MG_AUTH_LISTENERS, -1);
            so_authcache_changed();
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, l->s,
                         SOLOGNO(00709) "SSLOrdersAuthCache: the notification connection was "
                                        "lost; connecting again");
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
}
