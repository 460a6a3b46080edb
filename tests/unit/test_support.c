/* Helpers of the unit tests that need files, directories or processes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "test_common.h"

/* The directory of the running TCase: made by the unchecked (parent side) fixture, so that
 * it is removed even when a test fails (libcheck ends a failed test's process at once). */
static char root[64];

void so_test_root_setup(void)
{
    strcpy(root, "/tmp/so-unit-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        root[0] = '\0';
    }
}

void so_test_root_teardown(void)
{
    so_test_rmtree(root);
    root[0] = '\0';
}

const char *so_test_tmpdir(apr_pool_t *p)
{
    char *t = apr_pstrcat(p, root[0] ? root : "/tmp", root[0] ? "/t-XXXXXX" : "/so-unit-XXXXXX",
                          NULL);
    ck_assert_ptr_nonnull(mkdtemp(t));
    return t;
}

void so_test_rmtree(const char *dir)
{
    char cmd[512];
    if (dir && strncmp(dir, "/tmp/so-unit-", 13) == 0 && !strstr(dir, "..") && !strchr(dir, '\'')) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot remove %s\n", dir);
        }
    }
}
