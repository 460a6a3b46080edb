/* mod_sslorders: the log bridge from so_log_*() to httpd's error log. */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "so_httpd.h"
#include "../core/so_log.h"

APLOG_USE_MODULE(sslorders);

static server_rec *log_server;

static int to_aplog(so_log_level_t level)
{
    switch (level) {
    case SO_LOG_EMERG:
        return APLOG_EMERG;
    case SO_LOG_ALERT:
        return APLOG_ALERT;
    case SO_LOG_CRIT:
        return APLOG_CRIT;
    case SO_LOG_ERR:
        return APLOG_ERR;
    case SO_LOG_WARNING:
        return APLOG_WARNING;
    case SO_LOG_NOTICE:
        return APLOG_NOTICE;
    case SO_LOG_INFO:
        return APLOG_INFO;
    case SO_LOG_DEBUG:
        return APLOG_DEBUG;
    default:
        return APLOG_TRACE1;
    }
}

static int log_is_level(void *baton, so_log_level_t level)
{
    (void)baton;
    if (!log_server) {
        return level <= SO_LOG_WARNING;
    }
    return APLOG_IS_LEVEL(log_server, to_aplog(level));
}

static void log_print(void *baton, const char *file, int line, so_log_level_t level,
                      apr_status_t rv, const char *msg)
{
    (void)baton;
    if (log_server) {
        ap_log_error(file, line, APLOG_MODULE_INDEX, to_aplog(level), rv, log_server, "%s", msg);
    }
    else {
        ap_log_perror(file, line, APLOG_MODULE_INDEX, to_aplog(level), rv, NULL, "%s", msg);
    }
}

static apr_status_t log_reset(void *data)
{
    (void)data;
    log_server = NULL;
    return APR_SUCCESS;
}

void so_httpd_log_init(server_rec *s, apr_pool_t *pconf)
{
    log_server = s;
    so_log_set(log_is_level, log_print, NULL);
    apr_pool_cleanup_register(pconf, NULL, log_reset, apr_pool_cleanup_null);
}
