/* mod_sslorders: settings that change the whole httpd process, not just this module.
 *
 * Other modules in the same httpd share SQLite's global mode and glibc's allocator, so
 * the module changes neither unless a directive says so (both are off by default):
 *
 *   SSLOrdersSQLiteMultithread on|off   SQLite's "multi-thread" mode instead of the
 *       default "serialized" one (and no global memory statistics). mod_dbd hands a
 *       connection to one thread at a time, so the per-connection mutexes only cost
 *       time. SQLite accepts the change only before it initialises, i.e. at the first
 *       start of httpd; a graceful restart keeps the mode the process has.
 *   SSLOrdersMallocMmapThreshold bytes|off   glibc's M_MMAP_THRESHOLD in every child.
 *       scrypt (login) allocates 16 MiB at a time; glibc raises its threshold after such
 *       a block is freed and then keeps one per thread arena resident. A fixed threshold
 *       returns every large block to the system when it is freed.
 *
 * What stays process-wide without a directive (documented in docs/architecture.md):
 * curl_global_init, once in the parent at startup (so_httpd_ca_post_config), as libcurl
 * asks of multi-threaded programs; it is reference counted and never undone here.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <malloc.h>
#include <sqlite3.h>
#include <strings.h>

#include "so_httpd.h"
#include "../core/so_log.h"
#include "../core/so_util.h"

APLOG_USE_MODULE(sslorders);

static int want_sqlite_mt;      /* SSLOrdersSQLiteMultithread of this configuration */
static int have_sqlite_mt;      /* what SQLite accepted earlier in this process */
static long mmap_threshold;     /* SSLOrdersMallocMmapThreshold, 0 = leave glibc alone */
static int sqlite_sync_normal;  /* SSLOrdersSQLiteSynchronous normal */
static apr_int64_t sqlite_mmap_mib; /* SSLOrdersSQLiteMmap, 0 = none */

const char *so_httpd_set_sqlite_mt(cmd_parms *cmd, void *dc, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err) {
        return err;
    }
    want_sqlite_mt = on;
    return NULL;
}

const char *so_httpd_set_mmap_threshold(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t v;
    (void)dc;
    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "off")) {
        v = 0;
    }
    else if (so_parse_int64(arg, 4096, 32 * 1024 * 1024, &v) != APR_SUCCESS) {
        return "SSLOrdersMallocMmapThreshold: expects off or bytes from 4096 to 33554432";
    }
    mmap_threshold = (long)v;
    return NULL;
}

const char *so_httpd_set_sqlite_sync(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "full")) {
        sqlite_sync_normal = 0;
    }
    else if (!strcasecmp(arg, "normal")) {
        sqlite_sync_normal = 1;
    }
    else {
        return "SSLOrdersSQLiteSynchronous: expects full or normal";
    }
    return NULL;
}

int so_httpd_sqlite_sync_normal(void)
{
    return sqlite_sync_normal;
}

const char *so_httpd_set_sqlite_mmap(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err) {
        return err;
    }
    if (so_parse_int64(arg, 0, 4096, &sqlite_mmap_mib) != APR_SUCCESS) {
        sqlite_mmap_mib = 0;
        return "SSLOrdersSQLiteMmap: expects MiB from 0 (none) to 4096";
    }
    return NULL;
}

apr_int64_t so_httpd_sqlite_mmap(void)
{
    return sqlite_mmap_mib * 1024 * 1024;
}

void so_httpd_process_pre_config(void)
{
    /* each configuration pass starts from the defaults */
    want_sqlite_mt = 0;
    mmap_threshold = 0;
    sqlite_sync_normal = 0;
    sqlite_mmap_mib = 0;
}

void so_httpd_process_post_config(server_rec *s)
{
    if (want_sqlite_mt == have_sqlite_mt) {
        return;
    }
    if (sqlite3_config(want_sqlite_mt ? SQLITE_CONFIG_MULTITHREAD : SQLITE_CONFIG_SERIALIZED)
        == SQLITE_OK) {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, want_sqlite_mt ? 0 : 1);
        have_sqlite_mt = want_sqlite_mt;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     SOLOGNO(00750) "SQLite runs in %s mode (SSLOrdersSQLiteMultithread)",
                     have_sqlite_mt ? "multi-thread" : "serialized");
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     SOLOGNO(00751) "SSLOrdersSQLiteMultithread %s takes effect at the next full "
                                    "start: SQLite is already initialised in this process",
                     want_sqlite_mt ? "on" : "off");
    }
}

void so_httpd_process_child_init(server_rec *s)
{
    if (mmap_threshold > 0 && mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) != 1) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     SOLOGNO(00752) "SSLOrdersMallocMmapThreshold %ld: glibc refused it",
                     mmap_threshold);
    }
}
