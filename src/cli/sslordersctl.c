/* sslordersctl: the administration command line of mod_sslorders.
 *
 * It works on the same database as httpd (same driver and parameters as the
 * DBDriver/DBDParams of mod_dbd) through the same core and store code. Every
 * command brings the schema up to date first. See `sslordersctl help`.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <jansson.h>

#include "../api/so_api_svc.h"
#include "so_cli.h"
#include "../api/so_api.h"
#include "../core/so_crypto.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_schema.h"
#include "../store/so_store_account.h"
#include "../store/so_store_security.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sslordersctl [--driver sqlite3|pgsql] [--params PARAMS] COMMAND ...\n"
            "\n"
            "Database options (the same as DBDriver/DBDParams of mod_dbd; also taken from\n"
            "the environment as SSLORDERS_DRIVER and SSLORDERS_PARAMS):\n"
            "  --driver sqlite3|pgsql   default sqlite3\n"
            "  --params PARAMS          SQLite: the database file; PostgreSQL: a conninfo\n"
            "                           such as \"host=/run/postgresql dbname=sslorders\"\n"
            "\n"
            "Commands:\n");
    so_cli_print_commands(f);
}

static void cli_log(void *baton, const char *file, int line, so_log_level_t level, apr_status_t rv,
                    const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    (void)rv;
    if (level <= SO_LOG_WARNING) {
        fprintf(stderr, "sslordersctl: %s\n", msg);
    }
}

static int cli_level(void *baton, so_log_level_t level)
{
    (void)baton;
    return level <= SO_LOG_WARNING;
}

/* Run as the owner of an existing SQLite database, so that the files SQLite
 * creates next to it (WAL) stay usable by the httpd User. */
static void sqlite_drop_privileges(apr_pool_t *p, const char *path)
{
    struct stat st;
    char *dir, *slash;

    if (geteuid() != 0) {
        return;
    }
    if (stat(path, &st) != 0) {
        dir = apr_pstrdup(p, path);
        slash = strrchr(dir, '/');
        if (!slash) {
            return;
        }
        *slash = '\0';
        if (stat(*dir ? dir : "/", &st) != 0) {
            return;
        }
    }
    if (st.st_uid == 0) {
        return;
    }
    if (setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0) {
        fprintf(stderr, "sslordersctl: cannot switch to the owner of %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
}

int so_cli_open(so_cli_t *cli)
{
    const char *err = NULL;
    apr_status_t rv;

    if (!strcmp(cli->driver, "sqlite3")) {
        sqlite_drop_privileges(cli->pool, cli->params);
    }
    rv = so_db_open(&cli->db, cli->pool, cli->driver, cli->params, 0, &err);
    if (rv == APR_SUCCESS) {
        rv = so_schema_migrate(cli->db, cli->pool, &cli->migrated, &err);
    }
    if (rv == APR_SUCCESS) {
        rv = so_db_prepare_all(cli->db);
        if (rv != APR_SUCCESS) {
            err = cli->db->errmsg;
        }
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "sslordersctl: %s\n", err ? err : "cannot open the database");
        return 1;
    }
    return 0;
}

int so_cli_fail(so_cli_t *cli, apr_status_t rv, const char *what)
{
    const char *detail = cli->db && cli->db->errmsg ? cli->db->errmsg : so_db_strerror(rv);
    if (rv == SO_EDBUNIQUE) {
        detail = "it already exists";
    }
    else if (rv == APR_ENOENT) {
        detail = "not found";
    }
    fprintf(stderr, "sslordersctl: %s: %s\n", what, detail);
    return 1;
}

int so_cli_team_user(so_cli_t *cli, const char *team, const char *user, so_team_t **t,
                     so_user_t **u)
{
    apr_status_t rv;
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, team, t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", team));
    }
    if ((rv = so_store_user_by_name(cli->db, cli->pool, so_str_lower(cli->pool, user), u))
        != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "user %s", user));
    }
    return 0;
}

apr_int64_t so_cli_now(so_cli_t *cli)
{
    (void)cli;
    return apr_time_sec(apr_time_now());
}

/* Read a password from stdin (one line; no echo control: meant for pipes). */
static const char *read_password(apr_pool_t *p)
{
    char buf[1024];
    size_t n;
    if (isatty(0)) {
        fprintf(stderr, "password: ");
    }
    if (!fgets(buf, sizeof(buf), stdin)) {
        return NULL;
    }
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return apr_pstrdup(p, buf);
}

static int cmd_migrate(so_cli_t *cli, int argc, const char *const *argv)
{
    int current = 0;
    (void)argv;
    if (argc != 0) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    so_schema_version(cli->db, cli->pool, &current);
    printf("schema version %d (%d migrations applied now)\n", current, cli->migrated);
    return 0;
}

static int cmd_user_add(so_cli_t *cli, int argc, const char *const *argv)
{
    const char *name, *password, *hash;
    int staff = 0, i;
    apr_int64_t id;
    apr_status_t rv;

    if (argc < 1) {
        return 2;
    }
    name = so_str_lower(cli->pool, argv[0]);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--staff")) {
            staff = 1;
        }
        else {
            return 2;
        }
    }
    if (!so_is_username(name)) {
        fprintf(stderr, "sslordersctl: a user name is 1 to 64 of A-Z a-z 0-9 . _ @ -\n");
        return 2;
    }
    password = read_password(cli->pool);
    if (!password || strlen(password) < 8) {
        fprintf(stderr, "sslordersctl: give a password of at least 8 characters on stdin\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_password_hash(&hash, cli->pool, password)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "hashing the password");
    }
    rv = so_store_user_create(cli->db, cli->pool, name, hash, staff, so_cli_now(cli), &id);
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "adding user %s", name));
    }
    printf("user %s added (id %" APR_INT64_T_FMT "%s)\n", name, id, staff ? ", staff" : "");
    return 0;
}

static int cmd_user_passwd(so_cli_t *cli, int argc, const char *const *argv)
{
    const char *password, *hash;
    so_user_t *u;
    apr_status_t rv;
    int end_tokens = 0;

    if (argc == 2 && !strcmp(argv[1], "--end-tokens")) {
        end_tokens = 1;
    }
    else if (argc != 1) {
        return 2;
    }
    password = read_password(cli->pool);
    if (!password || strlen(password) < 8) {
        fprintf(stderr, "sslordersctl: give a password of at least 8 characters on stdin\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_user_by_name(cli->db, cli->pool, so_str_lower(cli->pool, argv[0]), &u))
        != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "user %s", argv[0]));
    }
    if ((rv = so_password_hash(&hash, cli->pool, password)) != APR_SUCCESS
        || (rv = so_db_begin(cli->db)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "setting the password");
    }
    /* a new password ends every session (and with --end-tokens every API token) */
    rv = so_store_user_set_password(cli->db, cli->pool, u->id, hash);
    if (rv == APR_SUCCESS) {
        rv = so_store_user_credentials_end(cli->db, cli->pool, u->id, 0, end_tokens,
                                           so_cli_now(cli));
    }
    if ((rv = so_db_end(cli->db, rv)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "setting the password");
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00653) "sslordersctl: password of %s changed%s",
                u->username, end_tokens ? ", API tokens ended" : "");
    printf("password of %s changed; sessions ended%s\n", u->username,
           end_tokens ? ", API tokens revoked" : "");
    return 0;
}

static int cmd_user_staff(so_cli_t *cli, int argc, const char *const *argv)
{
    so_user_t *u;
    apr_status_t rv;
    int on;

    if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
        return 2;
    }
    on = !strcmp(argv[1], "on");
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_user_by_name(cli->db, cli->pool, so_str_lower(cli->pool, argv[0]), &u))
            != APR_SUCCESS
        || (rv = so_store_user_set_staff(cli->db, cli->pool, u->id, on)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "user %s", argv[0]));
    }
    printf("%s is %s staff\n", u->username, on ? "now" : "no longer");
    return 0;
}

static int cmd_team_add(so_cli_t *cli, int argc, const char *const *argv)
{
    const char *slug, *name = NULL, *currency = "EUR";
    apr_int64_t id;
    apr_status_t rv;
    int i;

    if (argc < 1) {
        return 2;
    }
    slug = argv[0];
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            name = argv[++i];
        }
        else if (!strcmp(argv[i], "--currency") && i + 1 < argc) {
            currency = argv[++i];
        }
        else {
            return 2;
        }
    }
    if (!so_is_slug(slug)) {
        fprintf(stderr, "sslordersctl: a team slug is 1 to 63 of a-z 0-9 - (not starting with -)\n");
        return 2;
    }
    if (strlen(currency) != 3 || strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
        fprintf(stderr, "sslordersctl: --currency expects an ISO 4217 code such as EUR\n");
        return 2;
    }
    if (name && (!*name || strlen(name) > 200)) {
        fprintf(stderr, "sslordersctl: --name expects 1 to 200 characters\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    rv = so_cli_team_create(cli, slug, name ? name : slug, currency, &id);
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "adding team %s", slug));
    }
    printf("team %s added (id %" APR_INT64_T_FMT ")\n", slug, id);
    return 0;
}

apr_status_t so_cli_team_create(so_cli_t *cli, const char *slug, const char *name,
                                const char *currency, apr_int64_t *id)
{
    apr_status_t rv = so_db_begin(cli->db);
    if (rv == APR_SUCCESS) {
        rv = so_store_team_create(cli->db, cli->pool, slug, name, currency, so_cli_now(cli), id);
        rv = so_db_end(cli->db, rv);
    }
    return rv;
}

static int cmd_member_add(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    so_user_t *u;
    so_role_t role;
    apr_status_t rv;

    if (argc != 3) {
        return 2;
    }
    role = so_role_parse(argv[2]);
    if (role == SO_ROLE_NONE) {
        fprintf(stderr, "sslordersctl: ROLE is owner, admin, member or viewer\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if (so_cli_team_user(cli, argv[0], argv[1], &t, &u)) {
        return 1;
    }
    /* a staff action without the member's consent: recorded in the team's audit log */
    if ((rv = so_db_begin(cli->db)) == APR_SUCCESS) {
        rv = so_store_member_set(cli->db, cli->pool, t->id, u->id, role, so_cli_now(cli));
        if (rv == APR_SUCCESS) {
            rv = so_cli_audit(cli, t->id, "member add",
                              apr_psprintf(cli->pool, "%s as %s", u->username, so_role_name(role)));
        }
        rv = so_db_end(cli->db, rv);
    }
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "adding the member");
    }
    printf("%s is %s of team %s\n", u->username, so_role_name(role), t->slug);
    return 0;
}

static int cmd_token_create(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    so_user_t *u;
    apr_array_header_t *teams;
    apr_int64_t ttl_hours = 48, expires;
    const char *token;
    apr_status_t rv;
    int i, member = 0;

    if (argc < 2) {
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, 24 * 3650, &ttl_hours) != APR_SUCCESS) {
                fprintf(stderr, "sslordersctl: --ttl expects hours from 1 to 87600\n");
                return 2;
            }
        }
        else {
            return 2;
        }
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if (so_cli_team_user(cli, argv[0], argv[1], &t, &u)) {
        return 1;
    }
    if ((rv = so_store_teams_of_user(cli->db, cli->pool, u->id, &teams)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "reading memberships");
    }
    for (i = 0; i < teams->nelts; i++) {
        member |= APR_ARRAY_IDX(teams, i, so_team_t *)->id == t->id;
    }
    if (!member) {
        fprintf(stderr, "sslordersctl: %s is not a member of team %s (sslordersctl member add)\n",
                u->username, t->slug);
        return 1;
    }
    rv = so_store_token_create(cli->db, cli->pool, u->id, t->id, "", "sslordersctl",
                               so_cli_now(cli), ttl_hours * 3600, &token, &expires);
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "creating the token");
    }
    printf("%s\n", token);
    return 0;
}

static int cmd_balance_credit(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    apr_int64_t amount, after = 0;
    const char *note = "credit by sslordersctl";
    apr_status_t rv;
    int i;

    if (argc < 2) {
        return 2;
    }
    if (so_money_parse(argv[1], &amount) != APR_SUCCESS || amount == 0
        || amount > 100000000000LL || amount < -100000000000LL) {
        fprintf(stderr, "sslordersctl: AMOUNT is a non-zero amount such as 100 or 25.50 "
                        "(negative to debit)\n");
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--note") && i + 1 < argc) {
            note = argv[++i];
        }
        else {
            return 2;
        }
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[0], &t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", argv[0]));
    }
    if ((rv = so_db_begin(cli->db)) == APR_SUCCESS) {
        rv = so_store_ledger_add(cli->db, cli->pool, t->id, amount,
                                 amount > 0 ? "credit" : "debit", 0, note, 0, so_cli_now(cli),
                                 &after);
        rv = so_db_end(cli->db, rv);
    }
    if (rv == SO_ENOFUNDS) {
        fprintf(stderr, "sslordersctl: the balance of %s (%s %s) does not cover %s\n", t->slug,
                so_money_fmt(cli->pool, t->balance), t->currency, argv[1]);
        return 1;
    }
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "changing the balance");
    }
    printf("balance of %s: %s %s\n", t->slug, so_money_fmt(cli->pool, after), t->currency);
    return 0;
}

static int cmd_balance_show(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    apr_status_t rv;
    if (argc != 1) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[0], &t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", argv[0]));
    }
    printf("balance of %s: %s %s\n", t->slug, so_money_fmt(cli->pool, t->balance), t->currency);
    return 0;
}

static const so_cli_cmd_t account_cmds[] = {
    {"migrate", NULL, "", "bring the database schema up to date", cmd_migrate},
    {"user", "add", "NAME [--staff]", "add a user; the password is read from stdin", cmd_user_add},
    {"user", "passwd", "NAME [--end-tokens]",
     "set a user's password (read from stdin); ends the user's sessions and, with "
     "--end-tokens, API tokens",
     cmd_user_passwd},
    {"user", "staff", "NAME on|off", "give or take the staff flag", cmd_user_staff},
    {"team", "add", "SLUG [--name NAME] [--currency EUR]", "add a team", cmd_team_add},
    {"member", "add", "TEAM USER ROLE",
     "make USER a member of TEAM (ROLE: owner, admin, member, viewer)", cmd_member_add},
    {"token", "create", "TEAM USER [--ttl HOURS]",
     "create an API token for USER acting in TEAM (default 48 hours); prints it", cmd_token_create},
    {"balance", "credit", "TEAM AMOUNT [--note TEXT]",
     "add AMOUNT (e.g. 100 or 25.50; negative to debit) to a team's balance", cmd_balance_credit},
    {"balance", "show", "TEAM", "print a team's balance", cmd_balance_show},
    {NULL, NULL, NULL, NULL, NULL}};

const so_cli_cmd_t *const *so_cli_tables(void);

void so_cli_print_commands(FILE *f)
{
    const so_cli_cmd_t *const *tables = so_cli_tables();
    int i;
    for (i = 0; tables[i]; i++) {
        const so_cli_cmd_t *c;
        for (c = tables[i]; c->name; c++) {
            char head[128];
            snprintf(head, sizeof(head), "%s%s%s %s", c->name, c->sub ? " " : "",
                     c->sub ? c->sub : "", c->args);
            fprintf(f, "  %-44s  %s\n", head, c->help);
        }
    }
    fprintf(f, "  %-44s %s\n", "help", "print this help");
}

/* every command table; a new feature adds its own (see so_cli.h) */
static const so_cli_cmd_t *const tables[] = {account_cmds, so_cli_ssl_cmds, so_cli_ca_cmds,
                                             so_cli_org_cmds, so_cli_webhook_cmds,
                                             so_cli_security_cmds, so_cli_acme_cmds, NULL};

const so_cli_cmd_t *const *so_cli_tables(void)
{
    return tables;
}

int main(int argc, const char *const *argv)
{
    so_cli_t cli;
    const so_cli_cmd_t *const *t;
    int i = 1;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    memset(&cli, 0, sizeof(cli));
    apr_pool_create(&cli.pool, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any DCV probe (so_dcv.c) */
    so_log_set(cli_level, cli_log, NULL);
    so_api_init();
    cli.driver = getenv("SSLORDERS_DRIVER") ? getenv("SSLORDERS_DRIVER") : "sqlite3";
    cli.params = getenv("SSLORDERS_PARAMS");

    while (i < argc && !strncmp(argv[i], "--", 2)) {
        if (!strcmp(argv[i], "--driver") && i + 1 < argc) {
            cli.driver = argv[i + 1];
            i += 2;
        }
        else if (!strcmp(argv[i], "--params") && i + 1 < argc) {
            cli.params = argv[i + 1];
            i += 2;
        }
        else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        else {
            fprintf(stderr, "sslordersctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc || !strcmp(argv[i], "help")) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    if (strcmp(cli.driver, "sqlite3") && strcmp(cli.driver, "pgsql")) {
        fprintf(stderr, "sslordersctl: --driver is sqlite3 or pgsql\n");
        return 2;
    }
    if (!cli.params || !*cli.params) {
        fprintf(stderr, "sslordersctl: give the database with --params (or SSLORDERS_PARAMS)\n");
        return 2;
    }
    for (t = so_cli_tables(); *t; t++) {
        const so_cli_cmd_t *c;
        for (c = *t; c->name; c++) {
            int skip = c->sub ? 2 : 1;
            if (strcmp(argv[i], c->name)) {
                continue;
            }
            if (c->sub && (i + 1 >= argc || strcmp(argv[i + 1], c->sub))) {
                continue;
            }
            {
                int rc = c->run(&cli, argc - i - skip, argv + i + skip);
                if (cli.db && cli.db->committed) {
                    /* PostgreSQL: servers with SSLOrdersAuthCache read again what they
                     * cached (a balance credited, an order changed) */
                    (void)so_store_auth_notify_change(cli.db, cli.pool, "sslordersctl");
                }
                if (rc == 2) {
                    fprintf(stderr, "usage: sslordersctl %s%s%s %s\n", c->name, c->sub ? " " : "",
                            c->sub ? c->sub : "", c->args);
                }
                return rc;
            }
        }
    }
    fprintf(stderr, "sslordersctl: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
