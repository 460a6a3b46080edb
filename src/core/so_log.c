#include <stdarg.h>
#include <stdio.h>

#include "so_log.h"

static so_log_level_cb *log_is_level_cb;
static so_log_print_cb *log_print_cb;
static void *log_baton;

void so_log_set(so_log_level_cb *is_level, so_log_print_cb *print, void *baton)
{
    log_is_level_cb = is_level;
    log_print_cb = print;
    log_baton = baton;
}

int so_log_is_level(so_log_level_t level)
{
    if (log_is_level_cb) {
        return log_is_level_cb(log_baton, level);
    }
    return level <= SO_LOG_WARNING;
}

static void log_v(const char *file, int line, so_log_level_t level, apr_status_t rv,
                  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void log_v(const char *file, int line, so_log_level_t level, apr_status_t rv,
                  const char *fmt, va_list ap)
{
    char buf[8192];

    if (!so_log_is_level(level)) {
        return;
    }
    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (log_print_cb) {
        log_print_cb(log_baton, file, line, level, rv, buf);
    }
    else {
        fprintf(stderr, "%s\n", buf);
    }
}

#define SO_LOG_FN(name, level, params, rvv)                                                   \
    void name params                                                                          \
    {                                                                                         \
        va_list ap;                                                                           \
        va_start(ap, fmt);                                                                    \
        log_v(file, line, level, rvv, fmt, ap);                                               \
        va_end(ap);                                                                           \
    }

SO_LOG_FN(so_log_perror, level,
          (const char *file, int line, so_log_level_t level, apr_status_t rv, const char *fmt, ...),
          rv)
SO_LOG_FN(so_log_error, SO_LOG_ERR, (const char *file, int line, apr_status_t rv, const char *fmt, ...),
          rv)
SO_LOG_FN(so_log_warn, SO_LOG_WARNING,
          (const char *file, int line, apr_status_t rv, const char *fmt, ...), rv)
SO_LOG_FN(so_log_info, SO_LOG_INFO, (const char *file, int line, const char *fmt, ...), APR_SUCCESS)
SO_LOG_FN(so_log_debugf, SO_LOG_DEBUG, (const char *file, int line, const char *fmt, ...),
          APR_SUCCESS)
