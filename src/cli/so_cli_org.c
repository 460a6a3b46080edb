/* sslordersctl: team members (list, remove) on the same rules as the API: the last
 * owner of a team cannot be removed, and a removed member's tokens and sessions for
 * the team end at once. */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "so_cli.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_team.h"

static int cmd_member_list(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    apr_array_header_t *members;
    apr_int64_t total;
    apr_status_t rv;
    int i;

    if (argc != 1) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[0], &t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", argv[0]));
    }
    if ((rv = so_store_members(cli->db, cli->pool, t->id, 100000, 0, &members, &total)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "reading the members");
    }
    for (i = 0; i < members->nelts; i++) {
        so_member_t *m = &APR_ARRAY_IDX(members, i, so_member_t);
        printf("%-8s %s\n", so_role_name(m->role), m->username);
    }
    return 0;
}

static int cmd_member_remove(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    so_user_t *u;
    so_role_t role = SO_ROLE_NONE;
    int owners = 0;
    apr_status_t rv;

    if (argc != 2) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if (so_cli_team_user(cli, argv[0], argv[1], &t, &u)) {
        return 1;
    }
    if ((rv = so_db_begin(cli->db)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "starting a transaction");
    }
    rv = so_store_members_lock(cli->db, cli->pool, t->id);
    if (rv == APR_SUCCESS) {
        rv = so_store_member_role(cli->db, cli->pool, t->id, u->id, &role);
    }
    if (rv == APR_SUCCESS && role == SO_ROLE_OWNER) {
        rv = so_store_member_owners(cli->db, cli->pool, t->id, &owners);
        if (rv == APR_SUCCESS && owners <= 1) {
            so_db_rollback(cli->db);
            fprintf(stderr, "sslordersctl: %s is the last owner of %s: make another member owner "
                            "first\n",
                    u->username, t->slug);
            return 1;
        }
    }
    if (rv == APR_SUCCESS && role == SO_ROLE_NONE) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_member_remove(cli->db, cli->pool, t->id, u->id);
    }
    if (rv == APR_SUCCESS) {
        rv = so_store_member_credentials_end(cli->db, cli->pool, t->id, u->id, so_cli_now(cli));
    }
    if ((rv = so_db_end(cli->db, rv)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "member %s of %s", u->username, t->slug));
    }
    printf("%s is no longer a member of team %s\n", u->username, t->slug);
    return 0;
}

const so_cli_cmd_t so_cli_org_cmds[] = {
    {"member", "list", "TEAM", "list the members of TEAM with their roles", cmd_member_list},
    {"member", "remove", "TEAM USER",
     "remove USER from TEAM (not its last owner); the user's tokens for TEAM are revoked",
     cmd_member_remove},
    {NULL, NULL, NULL, NULL, NULL}};
