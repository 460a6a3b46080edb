/* sslordersctl: shared definitions of the command files. */
#ifndef SO_CLI_H
#define SO_CLI_H

#include <stdio.h>

#include <apr_pools.h>

#include "../store/so_db.h"
#include "../store/so_store_account.h"

typedef struct {
    apr_pool_t *pool;
    const char *driver;
    const char *params;
    so_db_t *db;
    int migrated;
} so_cli_t;

/* A command: `sslordersctl NAME [SUB] ARGS`. run() gets the arguments after the
 * command words and returns 0 (done), 1 (failed, message printed) or 2 (usage). */
typedef struct {
    const char *name;
    const char *sub;
    const char *args;
    const char *help;
    int (*run)(so_cli_t *cli, int argc, const char *const *argv);
} so_cli_cmd_t;

/* the command tables of the features (one per file) */
extern const so_cli_cmd_t so_cli_ssl_cmds[];
extern const so_cli_cmd_t so_cli_ca_cmds[];
extern const so_cli_cmd_t so_cli_org_cmds[];
extern const so_cli_cmd_t so_cli_webhook_cmds[];
extern const so_cli_cmd_t so_cli_security_cmds[];

/* Record a staff action of the command line in the team's audit log (so_cli_security.c). */
apr_status_t so_cli_audit(so_cli_t *cli, apr_int64_t team_id, const char *what, const char *object);
extern const so_cli_cmd_t so_cli_acme_cmds[];

/* Open the database, bring the schema up to date, prepare statements. 0 = ok. */
int so_cli_open(so_cli_t *cli);
/* Print why rv failed and return 1. */
int so_cli_fail(so_cli_t *cli, apr_status_t rv, const char *what);
/* The team (slug) and the user (name) of a command line; prints why and returns 1 when
 * one is missing. */
int so_cli_team_user(so_cli_t *cli, const char *team, const char *user, so_team_t **t,
                     so_user_t **u);
apr_int64_t so_cli_now(so_cli_t *cli);
apr_status_t so_cli_team_create(so_cli_t *cli, const char *slug, const char *name,
                                const char *currency, apr_int64_t *id);
void so_cli_print_commands(FILE *f);

#endif
