/* sslordersctl: a team's webhook endpoints (add, list, remove). The URL rules are the
 * server's defaults (https, a public address) unless --allow-http / --allow-private. */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "so_cli.h"
#include "../svc/so_outbox.h"
#include "../core/so_util.h"
#include "../core/so_webhook.h"
#include "../store/so_store_account.h"
#include "../store/so_store_outbox.h"

static int team_of(so_cli_t *cli, const char *slug, so_team_t **t)
{
    apr_status_t rv;
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_team_by_slug(cli->db, cli->pool, slug, t)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "team %s", slug));
    }
    return 0;
}

static int cmd_webhook_add(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    so_webhook_t w;
    const char *events = "*", *desc = "", *why = NULL;
    int i, allow_http = 0, allow_private = 0;
    apr_status_t rv;

    if (argc < 2) {
        return 2;
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc) {
            events = argv[++i];
        }
        else if (!strcmp(argv[i], "--description") && i + 1 < argc) {
            desc = argv[++i];
        }
        else if (!strcmp(argv[i], "--allow-http")) {
            allow_http = 1;
        }
        else if (!strcmp(argv[i], "--allow-private")) {
            allow_private = 1;
        }
        else {
            return 2;
        }
    }
    if (so_wh_url_check(cli->pool, argv[1], allow_http, allow_private, &why) != APR_SUCCESS) {
        fprintf(stderr, "sslordersctl: %s\n", why);
        return 1;
    }
    if (strcmp(events, "*")) {
        char *list = apr_pstrdup(cli->pool, events), *tok, *last = NULL;
        for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
            if (!so_webhook_type_known(tok)) {
                fprintf(stderr, "sslordersctl: unknown event type %s\n", tok);
                return 1;
            }
        }
    }
    if (team_of(cli, argv[0], &t)) {
        return 1;
    }
    memset(&w, 0, sizeof(w));
    w.team_id = t->id;
    w.url = argv[1];
    w.events = events;
    w.description = desc;
    w.enabled = 1;
    w.created_at = w.updated_at = so_cli_now(cli);
    if ((rv = so_wh_secret_new(cli->pool, &w.secret)) != APR_SUCCESS
        || (rv = so_store_webhook_insert(cli->db, cli->pool, &w)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "adding the webhook");
    }
    printf("%" APR_INT64_T_FMT " %s\n", w.id, w.secret);
    return 0;
}

static int cmd_webhook_list(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    apr_array_header_t *all;
    apr_status_t rv;
    int i;

    if (argc != 1) {
        return 2;
    }
    if (team_of(cli, argv[0], &t)) {
        return 1;
    }
    if ((rv = so_store_webhooks(cli->db, cli->pool, t->id, 0, &all)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "reading the webhooks");
    }
    for (i = 0; i < all->nelts; i++) {
        so_webhook_t *w = APR_ARRAY_IDX(all, i, so_webhook_t *);
        printf("%" APR_INT64_T_FMT " %s %s %s\n", w->id, w->enabled ? "enabled" : "disabled",
               w->url, w->events);
    }
    return 0;
}

static int cmd_webhook_remove(so_cli_t *cli, int argc, const char *const *argv)
{
    so_team_t *t;
    apr_int64_t id;
    apr_status_t rv;

    if (argc != 2 || so_parse_int64(argv[1], 1, APR_INT64_MAX, &id) != APR_SUCCESS) {
        return 2;
    }
    if (team_of(cli, argv[0], &t)) {
        return 1;
    }
    if ((rv = so_store_webhook_delete(cli->db, cli->pool, t->id, id)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, apr_psprintf(cli->pool, "webhook %s of %s", argv[1], t->slug));
    }
    printf("webhook %s of team %s removed\n", argv[1], t->slug);
    return 0;
}

const so_cli_cmd_t so_cli_webhook_cmds[] = {
    {"webhook", "add", "TEAM URL [--events TYPE,...|*] [--description TEXT] [--allow-http] "
                       "[--allow-private]",
     "add a webhook endpoint; prints its id and secret (shown once)", cmd_webhook_add},
    {"webhook", "list", "TEAM", "list a team's webhook endpoints", cmd_webhook_list},
    {"webhook", "remove", "TEAM ID", "remove a webhook endpoint", cmd_webhook_remove},
    {NULL, NULL, NULL, NULL, NULL}};
