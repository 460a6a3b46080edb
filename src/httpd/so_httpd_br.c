/* mod_sslorders: httpd glue of the Baseline Requirements directives (DNSSEC, CAA). */
#include <errno.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_core.h>
#include <unixd.h>

#include "so_httpd.h"
#include "../api/so_br.h"
#include "../core/so_ca.h"
#include "../core/so_keyblock.h"
#include "../core/so_log.h"
#include "../core/so_mpic.h"
#include "../core/so_resolve.h"
#include "../core/so_util.h"

APLOG_USE_MODULE(sslorders);

static so_br_config_t *br_of(cmd_parms *cmd)
{
    so_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &sslorders_module);
    if (!c->br_set) {
        c->br_set = apr_pcalloc(cmd->pool, sizeof(so_br_config_t));
        c->br_set->dnssec = -1;
        c->br_set->caa = -1;
        c->br_set->mpic = -1;
    }
    return c->br_set;
}

const char *so_httpd_br_dnssec(cmd_parms *cmd, void *dc, int flag)
{
    (void)dc;
    br_of(cmd)->dnssec = flag ? 1 : 0;
    return NULL;
}

const char *so_httpd_br_caa(cmd_parms *cmd, void *dc, int flag)
{
    (void)dc;
    br_of(cmd)->caa = flag ? 1 : 0;
    return NULL;
}

const char *so_httpd_br_trust_anchor(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    br_of(cmd)->trust_anchor = ap_server_root_relative(cmd->pool, arg);
    if (!br_of(cmd)->trust_anchor) {
        return apr_pstrcat(cmd->pool, "SSLOrdersDNSTrustAnchor: invalid path ", arg, NULL);
    }
    return NULL;
}

const char *so_httpd_br_caa_identity(cmd_parms *cmd, void *dc, const char *arg)
{
    so_br_config_t *b = br_of(cmd);
    const char *name, *why = NULL;
    (void)dc;
    if (so_ca_check_name(&name, cmd->pool, arg, &why) != APR_SUCCESS || name[0] == '*') {
        return apr_pstrcat(cmd->pool, "SSLOrdersCAAIdentity: ", arg, " is not a domain name",
                           NULL);
    }
    if (!b->caa_identities) {
        b->caa_identities = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(b->caa_identities, const char *) = name;
    return NULL;
}

const char *so_httpd_br_perspective(cmd_parms *cmd, void *dc, const char *name, const char *url)
{
    so_br_config_t *b = br_of(cmd);
    so_mpic_perspective_t *ps;
    (void)dc;
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
        return apr_pstrcat(cmd->pool, "SSLOrdersPerspective: ", url, " is not an http(s) URL",
                           NULL);
    }
    if (!b->perspectives) {
        b->perspectives = apr_array_make(cmd->pool, 5, sizeof(so_mpic_perspective_t));
    }
    ps = apr_array_push(b->perspectives);
    ps->name = apr_pstrdup(cmd->pool, name);
    ps->url = apr_pstrdup(cmd->pool, url);
    return NULL;
}

const char *so_httpd_br_mpic(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (!strcasecmp(arg, "on")) {
        br_of(cmd)->mpic = SO_MPIC_ON;
    }
    else if (!strcasecmp(arg, "off")) {
        br_of(cmd)->mpic = SO_MPIC_OFF;
    }
    else if (!strcasecmp(arg, "report")) {
        br_of(cmd)->mpic = SO_MPIC_REPORT;
    }
    else {
        return "SSLOrdersMPIC: on, off or report";
    }
    return NULL;
}

const char *so_httpd_br_mpic_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    (void)dc;
    if (so_parse_int64(arg, 1, 300, &v) != APR_SUCCESS) {
        return "SSLOrdersMPICTimeout: seconds, 1 to 300";
    }
    br_of(cmd)->mpic_timeout_ms = (int)v * 1000;
    return NULL;
}

const char *so_httpd_br_perspective_auth(cmd_parms *cmd, void *dc, const char *kind,
                                         const char *arg)
{
    const char *path, *secret = NULL, *why = NULL;
    (void)dc;
    if (strcasecmp(kind, "secret-file")) {
        return "SSLOrdersPerspectiveAuth: secret-file PATH";
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || so_mpic_secret_load(cmd->pool, path, &secret, &why) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "SSLOrdersPerspectiveAuth: ", why ? why : arg, NULL);
    }
    br_of(cmd)->perspective_secret = secret;
    br_of(cmd)->nonce_dir = ap_runtime_dir_relative(
        cmd->pool, apr_psprintf(cmd->pool, "sslorders-mpic-%s",
                                so_hex(cmd->pool, (const unsigned char *)secret, 4, 0)));
    return NULL;
}

const char *so_httpd_br_blocked_keys(cmd_parms *cmd, void *dc, const char *arg)
{
    so_br_config_t *b = br_of(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg), *why = NULL;
    (void)dc;
    if (!path) {
        return apr_pstrcat(cmd->pool, "SSLOrdersBlockedKeys: invalid path ", arg, NULL);
    }
    if (!b->blocked_keys) {
        b->blocked_keys = so_keyblock_make(cmd->pool);
    }
    if (so_keyblock_add_file(b->blocked_keys, cmd->temp_pool, path, &why) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "SSLOrdersBlockedKeys: ", why, NULL);
    }
    return NULL;
}

void *so_httpd_br_merge(apr_pool_t *p, void *basev, void *addv)
{
    so_br_config_t *base = basev, *add = addv, *c;
    if (!base || !add) {
        return add ? add : base;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->dnssec = add->dnssec != -1 ? add->dnssec : base->dnssec;
    c->caa = add->caa != -1 ? add->caa : base->caa;
    c->trust_anchor = add->trust_anchor ? add->trust_anchor : base->trust_anchor;
    c->caa_identities = add->caa_identities ? add->caa_identities : base->caa_identities;
    c->perspectives = add->perspectives ? add->perspectives : base->perspectives;
    c->mpic = add->mpic != -1 ? add->mpic : base->mpic;
    c->perspective_secret = add->perspective_secret ? add->perspective_secret
                                                    : base->perspective_secret;
    c->nonce_dir = add->nonce_dir ? add->nonce_dir : base->nonce_dir;
    c->mpic_timeout_ms = add->mpic_timeout_ms ? add->mpic_timeout_ms : base->mpic_timeout_ms;
    c->blocked_keys = add->blocked_keys ? add->blocked_keys : base->blocked_keys;
    return c;
}

void so_httpd_br_finalize(server_rec *s)
{
    so_srv_conf_t *c = so_httpd_srv_conf(s);
    c->api.br = c->br_set;
}

void so_httpd_br_post_config(apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sp;
    for (sp = s; sp; sp = sp->next) {
        so_srv_conf_t *c = so_httpd_srv_conf(sp);
        so_resolve_opts_t ro;
        if (c->br_set && c->br_set->nonce_dir) {
            /* a perspective's nonces: made here (root), written by the children */
            if (mkdir(c->br_set->nonce_dir, 0700) != 0 && errno != EEXIST) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, errno, sp,
                             SOLOGNO(00855) "cannot make %s: perspective requests will be "
                                            "refused", c->br_set->nonce_dir);
            }
            else if (geteuid() == 0
                     && chown(c->br_set->nonce_dir, ap_unixd_config.user_id,
                              ap_unixd_config.group_id) != 0) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, errno, sp,
                             SOLOGNO(00856) "cannot hand %s to the server's user",
                             c->br_set->nonce_dir);
            }
        }
        if (c->br_set && c->br_set->perspectives && c->br_set->perspectives->nelts > 0) {
            int n = c->br_set->perspectives->nelts;
            if (!c->br_set->perspective_secret) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp,
                             SOLOGNO(00852) "SSLOrdersPerspective without SSLOrdersPerspectiveAuth: "
                                            "the perspectives will refuse every request");
            }
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, sp,
                         SOLOGNO(00853) "MPIC %s with %d remote perspective%s (the Baseline "
                                        "Requirements ask for 3 from 2026-03-15, 4 from "
                                        "2026-06-15, 5 from 2026-12-15)",
                         so_br_mpic_mode(&c->api) == SO_MPIC_REPORT ? "in report mode"
                         : so_br_mpic_mode(&c->api) == SO_MPIC_ON   ? "on"
                                                                    : "off",
                         n, n == 1 ? "" : "s");
        }
        else if (c->ca_dir) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp,
                         SOLOGNO(00854) "no SSLOrdersPerspective: domain validation and CAA are "
                                        "checked from this server only (the Baseline "
                                        "Requirements ask for multi-perspective corroboration "
                                        "from 2026-03-15)");
        }
        if (!c->ca_dir) {
            continue; /* no built-in CA here: nothing is validated */
        }
        if (c->br_set && c->br_set->blocked_keys) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, sp,
                         SOLOGNO(00975) "SSLOrdersBlockedKeys: %d key fingerprints are refused",
                         so_keyblock_count(c->br_set->blocked_keys));
        }
        memset(&ro, 0, sizeof(ro));
        ro.dnssec = so_br_dnssec(&c->api);
        ro.trust_anchor = c->br_set ? c->br_set->trust_anchor : NULL;
        if (c->br_set && c->br_set->caa == 0) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp,
                         SOLOGNO(00555) "SSLOrdersCAA off: CAA records are not checked before "
                                        "issuance (the Baseline Requirements ask for it)");
        }
        if (!ro.dnssec) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp,
                         SOLOGNO(00551) "SSLOrdersDNSSEC off: DNS answers of domain validation "
                                        "and CAA checks are not validated (the Baseline "
                                        "Requirements ask for DNSSEC validation from 2026-03-15)");
        }
        else if (!so_resolve_anchor_file(ptemp, &ro)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp,
                         SOLOGNO(00552) "this server cannot validate DNSSEC: no readable trust "
                                        "anchor (%s); install dns-root-data or set "
                                        "SSLOrdersDNSTrustAnchor, or SSLOrdersDNSSEC off",
                         ro.trust_anchor ? ro.trust_anchor : SO_RESOLVE_ROOT_KEYS);
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, sp,
                         SOLOGNO(00553) "DNSSEC validation on, trust anchor %s%s%s",
                         so_resolve_anchor_file(ptemp, &ro),
                         c->dcv_nameserver ? ", through the DNS server " : ", resolving from the root",
                         c->dcv_nameserver ? c->dcv_nameserver : "");
        }
    }
}
