/* sslordersctl: the audit log (issue 14): staff actions of the command line are recorded
 * (actor_kind "cli", the operating system user), `sslordersctl audit TEAM` prints a team's. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "so_cli.h"
#include "../core/so_util.h"
#include "../store/so_store_security.h"

apr_status_t so_cli_audit(so_cli_t *cli, apr_int64_t team_id, const char *what, const char *object)
{
    so_audit_entry_t e;
    struct passwd *pw = getpwuid(getuid());

    memset(&e, 0, sizeof(e));
    e.team_id = team_id;
    e.at = so_cli_now(cli);
    e.actor_kind = "cli";
    e.actor = pw && pw->pw_name ? apr_pstrdup(cli->pool, pw->pw_name) : "";
    e.ip = "";
    e.method = "CLI";
    e.route = what;
    e.path = object;
    e.status = 200;
    return so_store_audit_add(cli->db, cli->pool, &e);
}

static int cmd_audit(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    so_audit_filter_t f;
    apr_array_header_t *rows;
    apr_int64_t total, limit = 100;
    apr_status_t rv;
    int i;

    if (argc != 1 && !(argc == 3 && !strcmp(argv[1], "--limit"))) {
        return 2;
    }
    if (argc == 3 && so_parse_int64(argv[2], 1, 1000000, &limit) != APR_SUCCESS) {
        fprintf(stderr, "sslordersctl: --limit expects a number from 1 to 1000000\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[0], &t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", argv[0]));
    }
    memset(&f, 0, sizeof(f));
    f.until = (apr_int64_t)1 << 62;
    if ((rv = so_store_audit_list(cli->db, cli->pool, t->id, &f, (int)limit, 0, &rows, &total))
        != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "reading the audit log");
    }
    for (i = 0; i < rows->nelts; i++) {
        so_audit_entry_t *e = &APR_ARRAY_IDX(rows, i, so_audit_entry_t);
        printf("%s %-7s %-12s %-15s %-6s %s %d%s\n", so_time_fmt(cli->pool, e->at), e->actor_kind,
               *e->actor ? e->actor : "-", *e->ip ? e->ip : "-", e->method, e->path, e->status,
               e->code ? apr_psprintf(cli->pool, " (code %d)", e->code) : "");
    }
    return 0;
}

const so_cli_cmd_t so_cli_security_cmds[] = {
    {"audit", NULL, "TEAM [--limit N]", "print a team's audit log, newest first (default 100 rows)",
     cmd_audit},
    {NULL, NULL, NULL, NULL, NULL}};
