/* mod_sslorders: run an external command with a timeout. See so_exec.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>

#include "so_exec.h"
#include "so_log.h"

extern char **environ;

typedef struct {
    int fd;
    char *buf;
    apr_size_t len;
    apr_size_t max;
    int truncated;
} sink_t;

/* Read what is there; returns 0 at EOF or on error (the descriptor is closed then). */
static int sink_read(sink_t *s)
{
    char tmp[16384];
    for (;;) {
        ssize_t n = read(s->fd, tmp, sizeof(tmp));
        if (n > 0) {
            apr_size_t keep = (apr_size_t)n;
            if (s->len + keep > s->max) {
                keep = s->max - s->len;
                s->truncated = 1;
            }
            memcpy(s->buf + s->len, tmp, keep);
            s->len += keep;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        }
        close(s->fd);
        s->fd = -1;
        return 0;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Wait for pid until deadline (0: no limit); 1 when it was reaped. */
static int wait_until(pid_t pid, int *status, apr_time_t deadline)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            *status = 0; /* ECHILD: someone else reaped it (SIGCHLD ignored) */
            return 1;
        }
        if (deadline && apr_time_now() >= deadline) {
            return 0;
        }
        poll(NULL, 0, 10);
    }
}

static const char *last_line(apr_pool_t *p, const char *s, apr_size_t len)
{
    apr_size_t end = len, start;
    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' ')) {
        end--;
    }
    start = end;
    while (start > 0 && s[start - 1] != '\n') {
        start--;
    }
    if (end - start > 200) {
        start = end - 200;
    }
    return apr_pstrmemdup(p, s + start, end - start);
}

/* Start the program in a process group of its own, every signal at its default and none
   blocked, in_fd/out_fd/err_fd as its stdin/stdout/stderr; 0 or the errno */
static int spawn(pid_t *pid, const so_exec_cmd_t *cmd, int in_fd, int out_fd, int err_fd)
{
    const char *prog = cmd->argv[0];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_init = 0, attr_init = 0, err;
    sigset_t dflt, all;

    if ((err = posix_spawn_file_actions_init(&fa)) != 0) {
        goto out;
    }
    fa_init = 1;
    if ((err = posix_spawn_file_actions_adddup2(&fa, in_fd, 0)) != 0
        || (err = posix_spawn_file_actions_adddup2(&fa, out_fd, 1)) != 0
        || (err = posix_spawn_file_actions_adddup2(&fa, err_fd, 2)) != 0
        || (err = posix_spawnattr_init(&attr)) != 0) {
        goto out;
    }
    attr_init = 1;
    sigemptyset(&all);
    sigfillset(&dflt); /* every signal at its default in the child */
    if ((err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                                   | POSIX_SPAWN_SETSIGDEF)) != 0
        || (err = posix_spawnattr_setpgroup(&attr, 0)) != 0
        || (err = posix_spawnattr_setsigmask(&attr, &all)) != 0
        || (err = posix_spawnattr_setsigdefault(&attr, &dflt)) != 0) {
        goto out;
    }
    err = strchr(prog, '/')
              ? posix_spawn(pid, prog, &fa, &attr, (char *const *)cmd->argv,
                            cmd->env ? (char *const *)cmd->env : environ)
              : posix_spawnp(pid, prog, &fa, &attr, (char *const *)cmd->argv,
                             cmd->env ? (char *const *)cmd->env : environ);

out:
    if (attr_init) {
        posix_spawnattr_destroy(&attr);
    }
    if (fa_init) {
        posix_spawn_file_actions_destroy(&fa);
    }
    return err;
}

/* Feed stdin and collect stdout and stderr until both end, the program ends (1: reaped,
   *status set) or the deadline passes (0) */
static int pump(sink_t *so, sink_t *se, int *in_fd, apr_size_t *written,
                const so_exec_cmd_t *cmd, so_exec_result_t *r, pid_t pid, int *status,
                apr_time_t deadline)
{
    /* feed stdin, collect stdout and stderr until both end, the program ends or time is up */
    while (so->fd >= 0 || se->fd >= 0) {
        struct pollfd fds[3];
        int n = 0, i, left_ms;
        apr_time_t now = apr_time_now();
        if (now >= deadline) {
            break;
        }
        left_ms = (int)apr_time_as_msec(deadline - now) + 1;
        if (so->fd >= 0) {
            fds[n].fd = so->fd;
            fds[n++].events = POLLIN;
        }
        if (se->fd >= 0) {
            fds[n].fd = se->fd;
            fds[n++].events = POLLIN;
        }
        if (*in_fd >= 0) {
            fds[n].fd = *in_fd;
            fds[n++].events = POLLOUT;
        }
        /* wake up now and then: a background process may hold the pipes open after the
         * program itself has ended */
        if (poll(fds, (nfds_t)n, left_ms < 200 ? left_ms : 200) < 0 && errno != EINTR) {
            break;
        }
        for (i = 0; i < n; i++) {
            if (!fds[i].revents) {
                continue;
            }
            if (fds[i].fd == so->fd) {
                sink_read(so);
            }
            else if (fds[i].fd == se->fd) {
                sink_read(se);
            }
            else if (fds[i].fd == *in_fd) {
                ssize_t w = write(*in_fd, cmd->input + *written, cmd->input_len - *written);
                if (w > 0) {
                    *written += (apr_size_t)w;
                    if (*written == cmd->input_len) {
                        close_fd(in_fd);
                    }
                }
                else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    r->input_short = 1; /* EPIPE: it stopped reading */
                    close_fd(in_fd);
                }
            }
        }
        if (waitpid(pid, status, WNOHANG) == pid) {
            if (so->fd >= 0) {
                sink_read(so);
            }
            if (se->fd >= 0) {
                sink_read(se);
            }
            return 1;
        }
    }
    return 0;
}

/* The result's status and, when it failed, why: stopped, killed or a non-zero exit (with the
   last line of its stderr) */
static apr_status_t outcome(apr_pool_t *p, const so_exec_result_t *r, const char *prog,
                            apr_interval_time_t timeout, const sink_t *se, const char **why)
{
    if (r->timed_out) {
        *why = apr_psprintf(p, "%s did not finish within %d seconds and was stopped", prog,
                            (int)apr_time_sec(timeout + apr_time_from_sec(1) - 1));
        return APR_TIMEUP;
    }
    else if (r->signal) {
        *why = apr_psprintf(p, "%s was killed by signal %d (%s)", prog, r->signal,
                            strsignal(r->signal));
        return APR_EGENERAL;
    }
    else if (r->exit_code != 0) {
        const char *line = last_line(p, se->buf, se->len);
        *why = apr_psprintf(p, "%s exited with status %d%s%s", prog, r->exit_code,
                            *line ? ": " : "", line);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Time is up: stop the whole group, politely first */
static void stop_group(pid_t pid, int *status, so_exec_result_t *r)
{
    r->timed_out = 1;
    kill(-pid, SIGTERM);
    if (!wait_until(pid, status, apr_time_now() + SO_EXEC_KILL_GRACE)) {
        kill(-pid, SIGKILL);
        wait_until(pid, status, 0);
    }
    else {
        kill(-pid, SIGKILL); /* what is left of the group */
    }
}

/* Why the program could not be started */
static apr_status_t spawn_error(apr_pool_t *p, const char *prog, int err, const char **why)
{
    if (err == ENOENT) {
        *why = apr_psprintf(p, "cannot run %s: no such program", prog);
    }
    else if (err == EACCES) {
        *why = apr_psprintf(p, "cannot run %s: permission denied (not executable?)", prog);
    }
    else {
        *why = apr_psprintf(p, "cannot run %s: %s", prog, strerror(err));
    }
    so_log_debug(SO_LOG_MARK, "%s", *why);
    return APR_FROM_OS_ERROR(err);
}

/* The outputs, how it ended and how long it took, into the result */
static void finish(so_exec_result_t *r, sink_t *so, sink_t *se, int status, apr_time_t start)
{
    close_fd(&so->fd);
    close_fd(&se->fd);
    so->buf[so->len] = '\0';
    se->buf[se->len] = '\0';
    r->out = so->buf;
    r->out_len = so->len;
    r->out_truncated = so->truncated;
    r->err = se->buf;
    r->err_len = se->len;
    r->err_truncated = se->truncated;
    r->elapsed = apr_time_now() - start;
    if (WIFEXITED(status)) {
        r->exited = !r->timed_out;
        r->exit_code = WEXITSTATUS(status);
    }
    else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
    }
}

/* stdout and stderr collected from the (taken over) read ends, up to max bytes each */
static void sinks_open(apr_pool_t *p, sink_t *so, sink_t *se, int *out_fd, int *err_fd,
                       apr_size_t max)
{
    so->fd = *out_fd;
    se->fd = *err_fd;
    *out_fd = *err_fd = -1;
    so->max = se->max = max;
    so->buf = apr_palloc(p, max + 1);
    se->buf = apr_palloc(p, max + 1);
    fcntl(so->fd, F_SETFL, O_NONBLOCK);
    fcntl(se->fd, F_SETFL, O_NONBLOCK);
}

apr_status_t so_exec_run(so_exec_result_t **out, apr_pool_t *p, const so_exec_cmd_t *cmd,
                         const char **why)
{
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, devnull = -1;
    sink_t so = {-1, NULL, 0, 0, 0}, se = {-1, NULL, 0, 0, 0};
    sigset_t pipe_set, old_mask, pending;
    int mask_set = 0, pipe_was_pending = 0;
    so_exec_result_t *r;
    const char *prog;
    apr_interval_time_t timeout;
    apr_time_t start = apr_time_now(), deadline;
    apr_size_t written = 0, max;
    pid_t pid = -1;
    int status = 0, reaped = 0, err;
    apr_status_t rv;

    *out = NULL;
    *why = NULL;
    if (!cmd || !cmd->argv || !cmd->argv[0] || !*cmd->argv[0]) {
        *why = "no program to run";
        return APR_EINVAL;
    }
    prog = cmd->argv[0];
    timeout = cmd->timeout > 0 ? cmd->timeout : SO_EXEC_DEFAULT_TIMEOUT;
    max = cmd->max_output ? cmd->max_output : SO_EXEC_DEFAULT_MAX_OUTPUT;

    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0
        || (cmd->input && pipe2(in_pipe, O_CLOEXEC) != 0)
        || (!cmd->input && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
        rv = APR_FROM_OS_ERROR(errno);
        *why = apr_psprintf(p, "cannot run %s: %s", prog, strerror(errno));
        goto leave;
    }
    if ((err = spawn(&pid, cmd, cmd->input ? in_pipe[0] : devnull, out_pipe[1], err_pipe[1]))
        != 0) {
        goto spawn_failed;
    }
    deadline = start + timeout;
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    close_fd(&devnull);

    r = apr_pcalloc(p, sizeof(*r));
    r->pid = (int)pid;
    sinks_open(p, &so, &se, &out_pipe[0], &err_pipe[0], max);
    if (in_pipe[1] >= 0) {
        fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
        if (cmd->input_len == 0) {
            close_fd(&in_pipe[1]);
        }
        /* a write to a pipe the program closed raises SIGPIPE: keep it pending, drop it */
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        pipe_was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
        mask_set = 1;
    }

    reaped = pump(&so, &se, &in_pipe[1], &written, cmd, r, pid, &status, deadline);
    if (in_pipe[1] >= 0 && written < cmd->input_len) {
        r->input_short = 1;
    }
    close_fd(&in_pipe[1]);
    if (!reaped && !wait_until(pid, &status, deadline)) {
        stop_group(pid, &status, r);
    }
    finish(r, &so, &se, status, start);
    *out = r;
    rv = outcome(p, r, prog, timeout, &se, why);
    so_log_debug(SO_LOG_MARK, "ran %s (pid %d) in %d ms: %s", prog, r->pid,
                 (int)apr_time_as_msec(r->elapsed), rv == APR_SUCCESS ? "done" : *why);
    goto leave;

spawn_failed:
    rv = spawn_error(p, prog, err, why);
leave:
    if (mask_set) {
        if (!pipe_was_pending) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    }
    close_fd(&in_pipe[0]);
    close_fd(&in_pipe[1]);
    close_fd(&out_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[0]);
    close_fd(&err_pipe[1]);
    close_fd(&devnull);
    close_fd(&so.fd);
    close_fd(&se.fd);
    return rv;
}
