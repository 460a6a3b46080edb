/* mod_sslorders: persistent DNS TXT validation. See so_persist.h. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "so_caa.h"
#include "so_ca.h"
#include "so_persist.h"
#include "so_resolve.h"

#define TXT_TYPE 16

const char *so_persist_account_uri(apr_pool_t *p, const char *ca_tag, apr_int64_t team_id)
{
    return apr_psprintf(p, "urn:sslorders:%s:team:%" APR_INT64_T_FMT, ca_tag, team_id);
}

const char *so_persist_record_name(apr_pool_t *p, const char *name)
{
    const char *n, *why = NULL;
    if (so_ca_check_name(&n, p, name, &why) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrcat(p, SO_PERSIST_LABEL ".", strncmp(n, "*.", 2) ? n : n + 2, NULL);
}

const char *so_persist_record_value(apr_pool_t *p, const char *issuer, const char *accounturi,
                                    int wildcard)
{
    return apr_psprintf(p, "%s; accounturi=%s%s", issuer, accounturi,
                        wildcard ? "; policy=wildcard" : "");
}

/* one TXT rdata: its character-strings joined */
static const char *txt_value(apr_pool_t *p, const so_rdata_t *rd)
{
    char *v = apr_palloc(p, rd->len + 1);
    apr_size_t off = 0, out = 0;
    while (off < rd->len) {
        apr_size_t l = rd->data[off];
        if (off + 1 + l > rd->len) {
            return NULL;
        }
        memcpy(v + out, rd->data + off + 1, l);
        out += l;
        off += 1 + l;
    }
    v[out] = '\0';
    return strlen(v) == out ? v : NULL;
}

/* Whether one record fits; *why_not otherwise */
static int fits(apr_pool_t *p, const char *value, const apr_array_header_t *ids,
                const apr_array_header_t *accounturis, int wildcard, const char **why_not)
{
    so_caa_issue_t is;
    const char *why = NULL, *acct = NULL, *expected = "";
    int i, ours = 0, wild_ok = 0, acct_ok = 0;
    if (so_caa_parse_issue(p, value, &is, &why) != APR_SUCCESS) {
        *why_not = apr_psprintf(p, "\"%s\" is malformed: %s", value, why);
        return 0;
    }
    for (i = 0; ids && i < ids->nelts; i++) {
        ours |= !strcasecmp(APR_ARRAY_IDX(ids, i, const char *), is.issuer);
    }
    for (i = 0; i < is.params->nelts; i++) {
        so_caa_param_t *prm = &APR_ARRAY_IDX(is.params, i, so_caa_param_t);
        if (!strcmp(prm->key, "accounturi")) {
            acct = prm->value;
        }
        else if (!strcmp(prm->key, "policy") && !strcasecmp(prm->value, "wildcard")) {
            wild_ok = 1;
        }
    }
    if (!ours) {
        *why_not = apr_psprintf(p, "\"%s\" names another CA", value);
        return 0;
    }
    for (i = 0; i < accounturis->nelts; i++) {
        const char *u = APR_ARRAY_IDX(accounturis, i, const char *);
        acct_ok |= acct && !strcmp(acct, u);
        expected = apr_pstrcat(p, expected, i ? " or " : "", "accounturi=", u, NULL);
    }
    if (!acct_ok) {
        *why_not = apr_psprintf(p, "\"%s\" names another account (expected %s)", value, expected);
        return 0;
    }
    if (wildcard && !wild_ok) {
        *why_not = apr_psprintf(p, "\"%s\" has no policy=wildcard, which a wildcard name needs",
                                value);
        return 0;
    }
    return 1;
}

apr_status_t so_persist_check(apr_pool_t *p, const so_dcv_opts_t *opts, const char *name,
                              const apr_array_header_t *identities, const char *accounturi,
                              const char **why)
{
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(one, const char *) = accounturi;
    return so_persist_check_any(p, opts, name, identities, one, why);
}

apr_status_t so_persist_check_any(apr_pool_t *p, const so_dcv_opts_t *opts, const char *name,
                                  const apr_array_header_t *identities,
                                  const apr_array_header_t *accounturis, const char **why)
{
    so_resolver_t *r = opts->resolver;
    so_dns_answer_t *ans;
    const char *qname = so_persist_record_name(p, name), *first = NULL;
    int i, wildcard = !strncmp(name, "*.", 2);
    apr_status_t rv;

    *why = NULL;
    if (!qname) {
        *why = apr_psprintf(p, "%s is not a valid name", name);
        return APR_EINVAL;
    }
    if (!r && (rv = so_dcv_resolver(&r, p, opts, why)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_resolve(r, p, qname, TXT_TYPE, &ans, why)) != APR_SUCCESS) {
        return rv;
    }
    if (ans->rcode != 0 && !ans->nxdomain) {
        *why = apr_psprintf(p, "the DNS answered rcode %d for %s", ans->rcode, qname);
        return APR_EGENERAL;
    }
    if (ans->nxdomain || ans->rdata->nelts == 0) {
        *why = apr_psprintf(p, "there is no TXT record at %s", qname);
        return APR_ENOENT;
    }
    for (i = 0; i < ans->rdata->nelts; i++) {
        const char *v = txt_value(p, &APR_ARRAY_IDX(ans->rdata, i, so_rdata_t)), *why_not = NULL;
        if (!v) {
            continue;
        }
        if (fits(p, v, identities, accounturis, wildcard, &why_not)) {
            return APR_SUCCESS;
        }
        if (!first) {
            first = why_not;
        }
    }
    *why = apr_psprintf(p, "no TXT record at %s validates: %s", qname,
                        first ? first : "the records cannot be read");
    return APR_EMISMATCH;
}
