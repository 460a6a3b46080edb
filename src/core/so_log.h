/* mod_sslorders: the one log bridge.
 *
 * Code under src/core, src/store and src/api never calls httpd logging. It calls
 * so_log_*(), and the glue (mod_sslorders.c) installs a sink that forwards to
 * ap_log_error(). The CLI and the unit tests install a sink that prints to stderr.
 *
 * Every message at warning level or above carries a tag of our own:
 *   so_log_error(SO_LOG_MARK, rv, SOLOGNO(00012) "cannot open %s", path);
 * prints "SO00012: cannot open ...". Tags are handed out by range (docs/architecture.md,
 * Numbering); src/next-number holds the first tag of the next free range.
 */
#ifndef SO_LOG_H
#define SO_LOG_H

#include <apr_pools.h>
#include <apr_errno.h>

#define SOLOGNO(n) "SO" #n ": "

typedef enum {
    SO_LOG_EMERG = 0,
    SO_LOG_ALERT,
    SO_LOG_CRIT,
    SO_LOG_ERR,
    SO_LOG_WARNING,
    SO_LOG_NOTICE,
    SO_LOG_INFO,
    SO_LOG_DEBUG,
    SO_LOG_TRACE1
} so_log_level_t;

#define SO_LOG_MARK __FILE__, __LINE__

/* sink: receives an already formatted message */
typedef void so_log_print_cb(void *baton, const char *file, int line, so_log_level_t level,
                             apr_status_t rv, const char *msg);
typedef int so_log_level_cb(void *baton, so_log_level_t level);

void so_log_set(so_log_level_cb *is_level, so_log_print_cb *print, void *baton);
int so_log_is_level(so_log_level_t level);

void so_log_perror(const char *file, int line, so_log_level_t level, apr_status_t rv,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void so_log_error(const char *file, int line, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void so_log_warn(const char *file, int line, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void so_log_info(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void so_log_debugf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define so_log_debug(...)                                                                    \
    do {                                                                                     \
        if (so_log_is_level(SO_LOG_DEBUG))                                                   \
            so_log_debugf(__VA_ARGS__);                                                      \
    } while (0)

#endif
