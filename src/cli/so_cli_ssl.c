/* sslordersctl: the product catalogue and synthetic orders for benchmarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "so_cli.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_catalog.h"
#include "../store/so_schema.h"
#include "../store/so_store_order.h"

static int cmd_product_import(so_cli_t *cli, int argc, const char *const *argv)
{
    json_error_t jerr;
    json_t *doc;
    const char *why = NULL;
    int count = 0;
    apr_status_t rv;

    if (argc != 1) {
        return 2;
    }
    doc = !strcmp(argv[0], "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(argv[0], 0, &jerr);
    if (!doc) {
        fprintf(stderr, "sslordersctl: %s: line %d: %s\n", argv[0], jerr.line, jerr.text);
        return 1;
    }
    if (so_cli_open(cli)) {
        json_decref(doc);
        return 1;
    }
    rv = so_store_catalog_import(cli->db, cli->pool, doc, &count, &why);
    json_decref(doc);
    if (rv == APR_EINVAL) {
        fprintf(stderr, "sslordersctl: %s: %s (nothing was imported)\n", argv[0], why);
        return 1;
    }
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "importing the catalogue");
    }
    printf("%d products imported\n", count);
    return 0;
}

static int cmd_product_export(so_cli_t *cli, int argc, const char *const *argv)
{
    json_t *doc;
    apr_status_t rv;
    int ok;

    if (argc > 1) {
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    if ((rv = so_store_catalog_export(cli->db, cli->pool, &doc)) != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "exporting the catalogue");
    }
    if (argc == 0 || !strcmp(argv[0], "-")) {
        ok = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
        printf("\n");
    }
    else {
        ok = json_dump_file(doc, argv[0], JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    }
    json_decref(doc);
    if (!ok) {
        fprintf(stderr, "sslordersctl: cannot write %s\n", argc ? argv[0] : "stdout");
        return 1;
    }
    return 0;
}

/* Synthetic orders for benchmarks: TEAMS teams (bench-N) with ORDERS orders spread
 * over them, in every status, with realistic names and dates. */
/* One bench order (number n, random r) for the team, its two DNS hosts, its dates */
static apr_status_t seed_order(so_db_t *db, apr_pool_t *sub, apr_int64_t team_id, apr_int64_t n,
                               int r, apr_int64_t now)
{
    static const char *const statuses[] = {"ACT", "ACT", "ACT", "ACT", "REQ", "PAI", "EXP", "FAI", "REJ"};
    apr_status_t rv;
    so_order_t o;
    so_order_host_t *h;
    apr_int64_t age = (apr_int64_t)(r % (400 * 86400));
    const char *cn = apr_psprintf(sub, "host%" APR_INT64_T_FMT ".customer%d.example", n,
                                  (int)(n % 997));
    memset(&o, 0, sizeof(o));
    o.team_id = team_id;
    o.product_id = 1 + (r % 8);
    o.status = statuses[(r / 8) % 9];
    o.period = 1 + (r / 97) % 3;
    o.domain_amount = 1;
    o.common_name = cn;
    o.csr = "";
    o.organization_unit = (r % 5) == 0 ? "Web Operations" : "";
    o.software = "linux";
    o.organization_handle = o.technical_handle = o.administrative_handle = "";
    o.billing_handle = o.approver_email = "";
    o.signature_hash_algorithm = "sha2";
    o.dcv_unique = "BENCHSEED0";
    o.price = 2899;
    o.currency = "EUR";
    o.order_date = now - age;
    if (strcmp(o.status, "PAI") && strcmp(o.status, "REQ")) {
        o.active_date = o.order_date + 3600;
        o.expiration_date = o.active_date + 200 * 86400;
    }
    o.updated_at = now;
    o.hosts = apr_array_make(sub, 2, sizeof(so_order_host_t));
    h = apr_array_push(o.hosts);
    h->host_name = cn;
    h->method = "dns";
    h = apr_array_push(o.hosts);
    h->host_name = apr_pstrcat(sub, "www.", cn, NULL);
    h->method = "dns";
    rv = so_store_order_insert(db, sub, &o);
    if (rv == APR_SUCCESS && o.active_date) {
        /* the insert statement takes no dates past order_date: set them */
        rv = so_store_order_update(db, sub, &o, 0);
    }
    return rv;
}

static int cmd_seed_orders(so_cli_t *cli, int argc, const char *const *argv)
{
    apr_int64_t teams = 100, orders = 100000, now = so_cli_now(cli);
    int i, per_txn = 2000;
    apr_int64_t *team_ids;
    apr_int64_t n = 0;
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *sub;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--teams") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, 10000, &teams)) {
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--orders") && i + 1 < argc) {
            if (so_parse_int64(argv[++i], 1, 10000000, &orders)) {
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
    team_ids = apr_palloc(cli->pool, sizeof(apr_int64_t) * (size_t)teams);
    for (i = 0; i < teams; i++) {
        const char *slug = apr_psprintf(cli->pool, "bench-%d", i + 1);
        so_team_t *t;
        rv = so_store_team_by_slug(cli->db, cli->pool, slug, &t);
        if (rv == APR_ENOENT) {
            rv = so_cli_team_create(cli, slug, apr_psprintf(cli->pool, "Bench team %d", i + 1), "EUR",
                                    &team_ids[i]);
        }
        else if (rv == APR_SUCCESS) {
            team_ids[i] = t->id;
        }
        if (rv != APR_SUCCESS) {
            return so_cli_fail(cli, rv, "creating the teams");
        }
    }
    apr_pool_create(&sub, cli->pool);
    srand(42);
    while (n < orders && rv == APR_SUCCESS) {
        so_db_t *db = cli->db;
        apr_pool_clear(sub);
        if ((rv = so_db_begin(db)) != APR_SUCCESS) {
            break;
        }
        for (i = 0; i < per_txn && n < orders && rv == APR_SUCCESS; i++, n++) {
            rv = seed_order(db, sub, team_ids[n % teams], n, rand(), now);
        }
        rv = so_db_end(db, rv);
    }
    if (rv == APR_SUCCESS) {
        /* the planner sees the new sizes at once (not after autovacuum, or never: SQLite) */
        rv = so_schema_analyze(cli->db);
    }
    if (rv != APR_SUCCESS) {
        return so_cli_fail(cli, rv, "seeding orders");
    }
    printf("%" APR_INT64_T_FMT " orders seeded over %" APR_INT64_T_FMT " teams (bench-1 ... bench-%" APR_INT64_T_FMT ")\n",
           n, teams, teams);
    return 0;
}

const so_cli_cmd_t so_cli_ssl_cmds[] = {
    {"product", "import", "FILE.json",
     "import the product catalogue ({\"products\": [...]}, the export format); idempotent",
     cmd_product_import},
    {"product", "export", "[FILE.json]", "write the product catalogue as JSON (stdout by default)",
     cmd_product_export},
    {"seed", "orders", "[--teams 100] [--orders 100000]",
     "create synthetic teams bench-N and orders for benchmarks", cmd_seed_orders},
    {NULL, NULL, NULL, NULL, NULL}};
