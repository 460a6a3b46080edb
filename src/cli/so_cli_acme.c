/* sslordersctl: ACME credentials (acme eab create|list) and early renewal (ARI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "so_cli.h"
#include "../acme/so_acme.h"
#include "../api/so_api.h"
#include "../core/so_util.h"
#include "../store/so_store_acme.h"

/* the directory URL printed with new credentials: --directory, else SSLORDERS_PUBLIC_URL */
static const char *dir_url(apr_pool_t *p, const char *given)
{
    const char *pub = getenv("SSLORDERS_PUBLIC_URL");
    if (given) {
        return given;
    }
    return apr_pstrcat(p, pub && *pub ? pub : "http://localhost", "/acme/directory", NULL);
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) {
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

static int cmd_eab(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *team;
    so_acme_eab_t *e;
    apr_int64_t order_id = 0, product_id = 0, period = 1;
    const char *dir = NULL, *desc = "", *why = NULL;
    apr_status_t rv;
    int i;

    if (argc < 2) {
        return 2;
    }
    if (!strcmp(argv[0], "list")) {
        apr_array_header_t *list;
        json_t *out;
        if (argc != 2 || so_cli_open(cli)) {
            return argc != 2 ? 2 : 1;
        }
        if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[1], &team)) != APR_SUCCESS) {
            return so_cli_fail(cli, rv, argv[1]);
        }
        if ((rv = so_store_acme_eab_list(cli->db, cli->pool, team->id, &list)) != APR_SUCCESS) {
            return so_cli_fail(cli, rv, "listing the EAB credentials");
        }
        out = json_array();
        for (i = 0; i < list->nelts; i++) {
            json_array_append_new(out, so_acme_eab_json(cli->pool,
                                                        APR_ARRAY_IDX(list, i, so_acme_eab_t *),
                                                        dir_url(cli->pool, NULL), 0));
        }
        return print_json(out);
    }
    if (strcmp(argv[0], "create")) {
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--order") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, APR_INT64_MAX, &order_id) != APR_SUCCESS) {
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--product") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, APR_INT64_MAX, &product_id) != APR_SUCCESS) {
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--period") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, 5, &period) != APR_SUCCESS) {
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--directory") && i + 1 < argc) {
            dir = argv[++i];
        }
        else if (!strcmp(argv[i], "--description") && i + 1 < argc) {
            desc = argv[++i];
        }
        else {
            return 2;
        }
    }
    if ((order_id > 0) == (product_id > 0)) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, argv[1], &team)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, argv[1]);
    }
    rv = so_acme_eab_create(cli->pool, cli->db, so_cli_now(cli), team->id, order_id, product_id,
                            (int)period, desc, 0, &e, &why);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "sslordersctl: %s\n",
                why ? why : rv == APR_ENOENT ? "no such order or product in this team"
                                             : so_db_strerror(rv));
        return 1;
    }
    return print_json(json_pack("{s:s,s:s,s:s}", "kid", e->kid, "hmac_key", e->hmac_key,
                                "directory_url", dir_url(cli->pool, dir)));
}

static int cmd_renew_early(so_cli_t *cli, int argc, const char *const *argv)
{
    apr_int64_t id = 0;
    int n = 0;
    apr_status_t rv;
    if (argc != 1 || (strcmp(argv[0], "--all")
                      && so_parse_int64(argv[0], 1, APR_INT64_MAX, &id) != APR_SUCCESS)) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_acme_renew_early(cli->db, cli->pool, id, so_cli_now(cli), &n))
        != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "asking for early renewal");
    }
    printf("%d order(s): renewal suggested now\n", n);
    return 0;
}

const so_cli_cmd_t so_cli_acme_cmds[] = {
    {"acme", "eab",
     "create TEAM (--order ID | --product ID) [--period YEARS] [--directory URL] | list TEAM",
     "ACME external account binding: create (prints {kid, hmac_key, directory_url}) or list",
     cmd_eab},
    {"acme", "renew-early", "ORDER-ID|--all",
     "ACME renewal information: suggest renewing now (e.g. after an intermediate change)",
     cmd_renew_early},
    {NULL, NULL, NULL, NULL, NULL}};
