/* Running external commands: stdin, stdout, stderr, exit status, timeouts (process group
 * killed, SIGTERM ignored -> SIGKILL), missing programs, no shell. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "test_common.h"
#include "../../src/core/so_exec.h"

static apr_pool_t *pool;
static const char *tmp;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    tmp = so_test_tmpdir(pool);
}

static void teardown(void)
{
    so_test_rmtree(tmp);
    apr_pool_destroy(pool);
}

/* A process that is gone or a zombie (nobody may reap orphans in a container). */
static int gone(pid_t pid)
{
    char path[64], buf[512], *rp;
    FILE *f;
    size_t n;
    if (kill(pid, 0) != 0) {
        return 1;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "r"))) {
        return 1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] == 'Z';
}

START_TEST(cat_echoes_stdin)
{
    const char *argv[] = {"/bin/cat", NULL};
    so_exec_cmd_t c = {.argv = argv, .input = "hello\nw\xc3\xb6rld\n", .input_len = 13};
    so_exec_result_t *r = NULL;
    const char *why = NULL;

    ck_assert_msg(so_exec_run(&r, pool, &c, &why) == APR_SUCCESS, "%s", why);
    ck_assert_int_eq(r->exited, 1);
    ck_assert_int_eq(r->exit_code, 0);
    ck_assert_int_eq(r->out_len, 13);
    ck_assert_str_eq(r->out, "hello\nw\xc3\xb6rld\n");
    ck_assert_int_eq(r->err_len, 0);
    ck_assert(!r->timed_out && !r->out_truncated && !r->input_short);
    ck_assert_int_gt(r->pid, 0);

    /* no input: stdin is /dev/null, so cat ends at once */
    c.input = NULL;
    c.input_len = 0;
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_SUCCESS);
    ck_assert_int_eq(r->out_len, 0);
}
END_TEST

START_TEST(large_output_is_capped)
{
    /* 1 MiB through cat: nothing blocks, 64 KiB kept */
    const char *argv[] = {"cat", NULL}; /* from PATH */
    apr_size_t n = 1024 * 1024;
    char *in = apr_palloc(pool, n);
    so_exec_cmd_t c = {.argv = argv, .input = in, .input_len = n};
    so_exec_result_t *r = NULL;
    const char *why = NULL;

    memset(in, 'x', n);
    ck_assert_msg(so_exec_run(&r, pool, &c, &why) == APR_SUCCESS, "%s", why);
    ck_assert_int_eq(r->out_len, 64 * 1024);
    ck_assert_int_eq(r->out_truncated, 1);
    ck_assert_int_eq(r->out[0], 'x');
    ck_assert_int_eq(r->out[r->out_len], '\0');
}
END_TEST

START_TEST(exit_status_and_stderr)
{
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo first >&2; echo 'it broke' >&2; exit 3",
                          NULL};
    so_exec_cmd_t c = {.argv = argv};
    so_exec_result_t *r = NULL;
    const char *why = NULL;

    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_EGENERAL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->exited, 1);
    ck_assert_int_eq(r->exit_code, 3);
    ck_assert_str_eq(r->out, "out\n");
    ck_assert_str_eq(r->err, "first\nit broke\n");
    ck_assert_str_eq(why, "/bin/sh exited with status 3: it broke");

    /* killed by a signal */
    argv[2] = "kill -USR1 $$";
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_EGENERAL);
    ck_assert_int_eq(r->exited, 0);
    ck_assert_int_eq(r->signal, SIGUSR1);
    ck_assert_ptr_nonnull(strstr(why, "killed by signal"));
}
END_TEST

START_TEST(timeout_kills_the_group)
{
    const char *argv[] = {"/bin/sleep", "10", NULL};
    so_exec_cmd_t c = {.argv = argv, .timeout = apr_time_from_sec(1)};
    so_exec_result_t *r = NULL;
    const char *why = NULL, *pidfile = apr_pstrcat(pool, tmp, "/bg.pid", NULL);
    FILE *f;
    int bg = 0;

    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_TIMEUP);
    ck_assert_int_eq(r->timed_out, 1);
    ck_assert_int_eq(r->exited, 0);
    ck_assert_int_eq(r->signal, SIGTERM);
    ck_assert_int_ge(r->elapsed, apr_time_from_msec(950));
    ck_assert_int_lt(r->elapsed, apr_time_from_msec(2000));
    ck_assert_str_eq(why, "/bin/sleep did not finish within 1 seconds and was stopped");
    ck_assert(gone(r->pid));

    /* a shell with a background child: both belong to the group and both go */
    argv[0] = "/bin/sh";
    argv[1] = apr_psprintf(pool, "sleep 30 & echo $! > %s; wait", pidfile);
    {
        const char *sh[] = {"/bin/sh", "-c", argv[1], NULL};
        c.argv = sh;
        ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_TIMEUP);
    }
    f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%d", &bg), 1);
    fclose(f);
    usleep(100000);
    ck_assert_msg(gone(bg), "the background sleep %d survived", bg);

    /* SIGTERM ignored: SIGKILL after the grace second */
    {
        const char *sh[] = {"/bin/sh", "-c", "trap '' TERM; sleep 10", NULL};
        c.argv = sh;
        ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_TIMEUP);
        ck_assert_int_eq(r->signal, SIGKILL);
        ck_assert_int_ge(r->elapsed, apr_time_from_msec(1900));
        ck_assert_int_lt(r->elapsed, apr_time_from_msec(3500));
    }
}
END_TEST

START_TEST(missing_program)
{
    const char *argv[] = {"/nonexistent/sslorders-mailer", "x", NULL};
    const char *argv2[] = {"sslorders-no-such-program", NULL};
    const char *script = apr_pstrcat(pool, tmp, "/not-executable", NULL);
    const char *argv3[] = {script, NULL};
    so_exec_cmd_t c = {.argv = argv, .input = "data", .input_len = 4};
    so_exec_result_t *r = (so_exec_result_t *)1;
    const char *why = NULL;

    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_ENOENT);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(why, "cannot run /nonexistent/sslorders-mailer: no such program");
    c.argv = argv2;
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_ENOENT);
    /* a script without the x bit */
    {
        FILE *f = fopen(script, "w");
        ck_assert_ptr_nonnull(f);
        fputs("#!/bin/sh\nexit 0\n", f);
        fclose(f);
    }
    c.argv = argv3;
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_EACCES);
    ck_assert_ptr_nonnull(strstr(why, "permission denied"));
    c.argv = NULL;
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_EINVAL);
}
END_TEST

START_TEST(no_shell_and_environment)
{
    const char *argv[] = {"/bin/echo", "$(id)", "a;b", "`x`", NULL};
    const char *argv_env[] = {"/usr/bin/env", NULL};
    const char *env[] = {"SO_A=1", "SO_B=two words", NULL};
    so_exec_cmd_t c = {.argv = argv};
    so_exec_result_t *r = NULL;
    const char *why = NULL;

    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_SUCCESS);
    ck_assert_str_eq(r->out, "$(id) a;b `x`\n");
    c.argv = argv_env;
    c.env = env;
    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_SUCCESS);
    ck_assert_str_eq(r->out, "SO_A=1\nSO_B=two words\n");
}
END_TEST

START_TEST(program_ignores_stdin)
{
    /* exits without reading 1 MiB of input: no SIGPIPE for us, a flag */
    const char *argv[] = {"/bin/true", NULL};
    apr_size_t n = 1024 * 1024;
    char *in = apr_pcalloc(pool, n);
    so_exec_cmd_t c = {.argv = argv, .input = in, .input_len = n};
    so_exec_result_t *r = NULL;
    const char *why = NULL;
    sigset_t pending;

    ck_assert_int_eq(so_exec_run(&r, pool, &c, &why), APR_SUCCESS);
    ck_assert_int_eq(r->input_short, 1);
    sigpending(&pending);
    ck_assert(!sigismember(&pending, SIGPIPE));
}
END_TEST

TCase *so_test_exec_case(void)
{
    TCase *tc = tcase_create("exec");
    tcase_add_unchecked_fixture(tc, so_test_root_setup, so_test_root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, cat_echoes_stdin);
    tcase_add_test(tc, large_output_is_capped);
    tcase_add_test(tc, exit_status_and_stderr);
    tcase_add_test(tc, timeout_kills_the_group);
    tcase_add_test(tc, missing_program);
    tcase_add_test(tc, no_shell_and_environment);
    tcase_add_test(tc, program_ignores_stdin);
    return tc;
}
