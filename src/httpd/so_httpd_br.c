/* mod_sslorders: httpd glue of the Baseline Requirements directives (DNSSEC, CAA). */
#include <strings.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "so_httpd.h"
#include "../api/so_br.h"
#include "../core/so_ca.h"
#include "../core/so_log.h"
#include "../core/so_resolve.h"

APLOG_USE_MODULE(sslorders);

static so_br_config_t *br_of(cmd_parms *cmd)
{
    so_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &sslorders_module);
    if (!c->br_set) {
        c->br_set = apr_pcalloc(cmd->pool, sizeof(so_br_config_t));
        c->br_set->dnssec = -1;
        c->br_set->caa = -1;
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
        if (!c->ca_dir) {
            continue; /* no built-in CA here: nothing is validated */
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
