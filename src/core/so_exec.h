/* mod_sslorders: run an external command with a timeout (no httpd types).
 *
 * For SSLOrdersMailCommand and SSLOrdersMessageCmd (like mod_md's MDMessageCmd, plus a
 * timeout): the program is started directly from an argv array (no shell), optional data
 * is written to its stdin, its stdout and stderr are captured up to a limit each, and when
 * it runs longer than the timeout its whole process group gets SIGTERM and, one second
 * later, SIGKILL.
 *
 * The child runs in a process group of its own, with every signal at its default and an
 * empty signal mask, stdin from the data (or /dev/null), and no other descriptor of the
 * caller (they are close-on-exec). SIGPIPE is blocked in the calling thread while the data
 * is written, so a program that does not read its input cannot kill the caller.
 * Processes the program leaves running in the background are not waited for.
 */
#ifndef SO_EXEC_H
#define SO_EXEC_H

#include <apr_pools.h>
#include <apr_time.h>

#define SO_EXEC_DEFAULT_TIMEOUT apr_time_from_sec(30)
#define SO_EXEC_DEFAULT_MAX_OUTPUT (64 * 1024)
#define SO_EXEC_KILL_GRACE apr_time_from_sec(1)

typedef struct {
    const char *const *argv;  /* NULL terminated; argv[0] is the program: a path, or a name
                               * looked up in PATH when it has no '/' */
    const char *const *env;   /* NULL terminated "NAME=value" list; NULL: the caller's environment */
    const char *input;        /* written to stdin; NULL: stdin is /dev/null */
    apr_size_t input_len;
    apr_interval_time_t timeout; /* 0: SO_EXEC_DEFAULT_TIMEOUT */
    apr_size_t max_output;    /* bytes kept of stdout and of stderr; 0: SO_EXEC_DEFAULT_MAX_OUTPUT;
                               * the rest is read and dropped */
} so_exec_cmd_t;

typedef struct {
    int pid;
    int exited;               /* the program ended by itself: exit_code is valid */
    int exit_code;
    int signal;               /* the signal that ended it, 0 if none */
    int timed_out;            /* it was stopped after the timeout */
    const char *out;          /* stdout, NUL terminated (binary data may hold NULs: use out_len) */
    apr_size_t out_len;
    int out_truncated;
    const char *err;          /* stderr, likewise */
    apr_size_t err_len;
    int err_truncated;
    int input_short;          /* the program closed stdin before all the data was written */
    apr_interval_time_t elapsed;
} so_exec_result_t;

/* Run cmd and wait for it (at most the timeout plus the kill grace).
 *   APR_SUCCESS   it exited with status 0
 *   APR_TIMEUP    it was stopped after the timeout
 *   APR_EGENERAL  it exited with another status or was killed by a signal
 *   other         it could not be started (APR_ENOENT: no such program, APR_EACCES: not
 *                 executable, ...); *out is NULL then
 * *out (when the program ran) and *why (on failure: "/usr/sbin/sendmail exited with status
 * 75: <last line of stderr>", "... did not finish within 10 seconds and was stopped") are
 * allocated from p. */
apr_status_t so_exec_run(so_exec_result_t **out, apr_pool_t *p, const so_exec_cmd_t *cmd,
                         const char **why);

#endif
