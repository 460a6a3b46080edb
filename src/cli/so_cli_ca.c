/* sslordersctl: the built-in CA and staff decisions on organization validation. */
#include <stdio.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include "so_cli.h"
#include "../api/so_api.h"
#include "../api/so_api_ssl.h"
#include "../svc/so_issuance.h"
#include "../core/so_ca.h"
#include "../core/so_util.h"

static int ca_open(so_cli_t *cli, int argc, const char *const *argv, int create)
{
    so_ca_opts_t opts;
    so_ca_t *ca;
    const char *why = NULL;
    X509 *certs[2];
    int i;

    if (argc < 1 || argv[0][0] != '/') {
        fprintf(stderr, "sslordersctl: give the CA directory as an absolute path\n");
        return 2;
    }
    memset(&opts, 0, sizeof(opts));
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--org") && i + 1 < argc && create) {
            opts.organization = argv[++i];
        }
        else if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
            opts.tag = argv[++i];
        }
        else if ((!strcmp(argv[i], "--key") || !strcmp(argv[i], "--issuing-key")) && create
                 && i + 1 < argc) {
            int issuing = !strcmp(argv[i], "--issuing-key");
            if (so_ca_key_type_parse(argv[++i], issuing ? &opts.issuing_key : &opts.root_key)
                != APR_SUCCESS) {
                fprintf(stderr, "sslordersctl: %s: expects " SO_CA_KEY_NAMES "\n", argv[i - 1]);
                return 2;
            }
        }
        else {
            return 2;
        }
    }
    if (!create) {
        apr_finfo_t fi;
        if (apr_stat(&fi, apr_pstrcat(cli->pool, argv[0], "/" SO_CA_ROOT_CRT, NULL), APR_FINFO_TYPE,
                     cli->pool)
            != APR_SUCCESS) {
            fprintf(stderr, "sslordersctl: %s holds no CA (sslordersctl ca init)\n", argv[0]);
            return 1;
        }
    }
    if (so_ca_init(&ca, cli->pool, argv[0], &opts, apr_time_sec(apr_time_now()), &why) != APR_SUCCESS) {
        fprintf(stderr, "sslordersctl: %s: %s\n", argv[0], why ? why : "cannot load the CA");
        return 1;
    }
    printf("%s %s\n", so_ca_created(ca) ? "created a CA in" : "CA in", so_ca_dir(ca));
    certs[0] = so_ca_root_x509(ca);
    certs[1] = so_ca_intermediate_x509(ca);
    for (i = 0; i < 2; i++) {
        char subject[256];
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        X509_NAME_oneline(X509_get_subject_name(certs[i]), subject, sizeof(subject));
        X509_digest(certs[i], EVP_sha256(), md, &mdlen);
        BIO *b = BIO_new(BIO_s_mem());
        char *when = NULL;
        long n;
        ASN1_TIME_print(b, X509_get0_notAfter(certs[i]));
        n = BIO_get_mem_data(b, &when);
        printf("%s: %s\n  not after %.*s\n  SHA-256 %s\n", i ? "intermediate" : "root", subject,
               (int)n, when, so_hex(cli->pool, md, mdlen, 1));
        BIO_free(b);
    }
    printf("DCV tag: %s\n", so_ca_tag(ca));
    return 0;
}

static int cmd_ca_init(so_cli_t *cli, int argc, const char *const *argv)
{
    return ca_open(cli, argc, argv, 1);
}

static int cmd_ca_show(so_cli_t *cli, int argc, const char *const *argv)
{
    return ca_open(cli, argc, argv, 0);
}

static int org_decide(so_cli_t *cli, int argc, const char *const *argv, int approve)
{
    so_config_t cfg;
    so_svc_ctx_t *ctx;
    so_result_t res;
    so_order_t *o = NULL;
    int issued = 0;
    apr_int64_t id;
    const char *reason = "", *ca_dir = NULL, *why;
    int i;

    if (argc < 1 || so_parse_int64(argv[0], 1, 0x7fffffff, &id) != APR_SUCCESS) {
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
            reason = argv[++i];
        }
        else if (!strcmp(argv[i], "--ca") && i + 1 < argc) {
            ca_dir = argv[++i];
        }
        else {
            return 2;
        }
    }
    if (!approve && !*reason) {
        fprintf(stderr, "sslordersctl: a rejection needs --reason\n");
        return 2;
    }
    if (so_cli_open(cli)) {
        return 1;
    }
    so_config_defaults(&cfg);
    if (ca_dir) {
        so_ca_opts_t opts;
        memset(&opts, 0, sizeof(opts));
        if (so_ca_init((so_ca_t **)&cfg.ca, cli->pool, ca_dir, &opts, apr_time_sec(apr_time_now()),
                       &why)
            != APR_SUCCESS) {
            fprintf(stderr, "sslordersctl: %s: %s\n", ca_dir, why);
            return 1;
        }
    }
    cfg.instance = "sslordersctl";
    ctx = so_svc_ctx_make(cli->pool, cli->db, &cfg, apr_time_sec(apr_time_now()), SO_ACTOR_CLI);
    so_result_init(&res);
    if (so_iss_org_decide(ctx, id, approve, reason, &o, &issued, &res) != APR_SUCCESS) {
        char buf[256];
        fprintf(stderr, "sslordersctl: %s\n",
                res.detail ? res.detail : apr_strerror(res.status, buf, sizeof(buf)));
        return 1;
    }
    printf("order %" APR_INT64_T_FMT ": organization %s%s\n", id, approve ? "approved" : "rejected",
           approve && !ca_dir ? " (the background job issues the certificate)" : "");
    return 0;
}

static int cmd_org_approve(so_cli_t *cli, int argc, const char *const *argv)
{
    return org_decide(cli, argc, argv, 1);
}

static int cmd_org_reject(so_cli_t *cli, int argc, const char *const *argv)
{
    return org_decide(cli, argc, argv, 0);
}

const so_cli_cmd_t so_cli_ca_cmds[] = {
    {"ca", "init", "DIR [--org NAME] [--tag DOMAIN] [--key TYPE] [--issuing-key TYPE]",
     "create a CA (root and issuing intermediate) in an empty DIR, or check the one there; "
     "TYPE: " SO_CA_KEY_NAMES " (default ec-p384; the intermediate: the root's)", cmd_ca_init},
    {"ca", "show", "DIR", "print the CA certificates of DIR", cmd_ca_show},
    {"org", "approve", "ORDER [--ca DIR]",
     "staff: the organization of an OV/EV order is validated (--ca: issue at once when ready)",
     cmd_org_approve},
    {"org", "reject", "ORDER --reason TEXT",
     "staff: the organization could not be validated (the order fails and is refunded)",
     cmd_org_reject},
    {NULL, NULL, NULL, NULL, NULL}};
