/* mod_sslorders: CAA. See so_caa.h. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "so_caa.h"
#include "so_resolve.h"

#define CAA_TYPE 257
#define CAA_CRITICAL 128

apr_status_t so_caa_parse_rr(apr_pool_t *p, const unsigned char *rd, apr_size_t len,
                             so_caa_rr_t *out, const char **why)
{
    apr_size_t tl, i;
    char *tag;
    if (len < 2) {
        *why = "a CAA record is too short";
        return APR_EINVAL;
    }
    tl = rd[1];
    if (tl < 1 || tl > 15 || 2 + tl > len) {
        *why = "a CAA record has a malformed tag";
        return APR_EINVAL;
    }
    tag = apr_palloc(p, tl + 1);
    for (i = 0; i < tl; i++) {
        if (!isalnum(rd[2 + i])) {
            *why = "a CAA record has a malformed tag";
            return APR_EINVAL;
        }
        tag[i] = (char)tolower(rd[2 + i]);
    }
    tag[tl] = '\0';
    if (memchr(rd + 2 + tl, '\0', len - 2 - tl)) {
        *why = "a CAA record value holds a NUL byte";
        return APR_EINVAL;
    }
    out->flags = rd[0];
    out->tag = tag;
    out->value = apr_pstrmemdup(p, (const char *)rd + 2 + tl, len - 2 - tl);
    return APR_SUCCESS;
}

static const char *skip_wsp(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

static char *trim_wsp(char *s)
{
    apr_size_t n;
    s = (char *)skip_wsp(s);
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
    return s;
}

/* RFC 8659 issuer-domain-name: labels of letters, digits and hyphens */
static int domain_ok(const char *s)
{
    apr_size_t label = 0;
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s == '.') {
            if (label == 0) {
                return 0;
            }
            label = 0;
        }
        else if (isalnum((unsigned char)*s) || *s == '-') {
            if (++label > 63) {
                return 0;
            }
        }
        else {
            return 0;
        }
    }
    return label > 0;
}

apr_status_t so_caa_parse_issue(apr_pool_t *p, const char *value, so_caa_issue_t *out,
                                const char **why)
{
    char *v = apr_pstrdup(p, value), *semi, *issuer, *rest, *part, *last = NULL;

    out->issuer = "";
    out->params = apr_array_make(p, 2, sizeof(so_caa_param_t));
    semi = strchr(v, ';');
    if (semi) {
        *semi = '\0';
    }
    issuer = trim_wsp(v);
    if (*issuer) {
        apr_size_t n = strlen(issuer);
        if (issuer[n - 1] == '.') {
            issuer[n - 1] = '\0';
        }
        if (!domain_ok(issuer)) {
            *why = apr_psprintf(p, "\"%s\" is not an issuer domain name", issuer);
            return APR_EINVAL;
        }
        out->issuer = apr_pstrdup(p, issuer);
        for (n = 0; issuer[n]; n++) {
            ((char *)out->issuer)[n] = (char)tolower((unsigned char)issuer[n]);
        }
    }
    if (!semi) {
        return APR_SUCCESS;
    }
    rest = semi + 1;
    if (!*trim_wsp(rest)) {
        return APR_SUCCESS; /* "ca.example;" */
    }
    for (part = apr_strtok(rest, ";", &last); part; part = apr_strtok(NULL, ";", &last)) {
        char *eq, *key, *val, *c;
        so_caa_param_t *prm;
        part = trim_wsp(part);
        eq = strchr(part, '=');
        if (!eq) {
            *why = apr_psprintf(p, "the CAA parameter \"%s\" has no value", part);
            return APR_EINVAL;
        }
        *eq = '\0';
        key = trim_wsp(part);
        val = trim_wsp(eq + 1);
        if (!*key) {
            *why = "a CAA parameter has no name";
            return APR_EINVAL;
        }
        for (c = key; *c; c++) {
            if (!isalnum((unsigned char)*c)) {
                *why = apr_psprintf(p, "the CAA parameter name \"%s\" is malformed", key);
                return APR_EINVAL;
            }
            *c = (char)tolower((unsigned char)*c);
        }
        for (c = val; *c; c++) {
            if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e) {
                *why = apr_psprintf(p, "the value of the CAA parameter %s is malformed", key);
                return APR_EINVAL;
            }
        }
        prm = apr_array_push(out->params);
        prm->key = key;
        prm->value = val;
    }
    return APR_SUCCESS;
}

static const char *rr_text(apr_pool_t *p, const char *domain, const so_caa_rr_t *rr)
{
    return apr_psprintf(p, "%s CAA %d %s \"%s\"", domain, rr->flags, rr->tag, rr->value);
}

static int list_has(const char *list, const char *want)
{
    char buf[512], *item, *last = NULL;
    if (!want || strlen(list) >= sizeof(buf)) {
        return 0;
    }
    strcpy(buf, list);
    for (item = apr_strtok(buf, ",", &last); item; item = apr_strtok(NULL, ",", &last)) {
        if (!strcasecmp(trim_wsp(item), want)) {
            return 1;
        }
    }
    return 0;
}

/* Whether one issue/issuewild record authorizes us; *why_not otherwise. */
static int authorizes(apr_pool_t *p, const so_caa_rr_t *rr, const so_caa_opts_t *o,
                      const char **why_not)
{
    so_caa_issue_t is;
    const char *why = NULL;
    int i, ours = 0;

    if (so_caa_parse_issue(p, rr->value, &is, &why) != APR_SUCCESS) {
        *why_not = apr_psprintf(p, "malformed: %s", why);
        return 0;
    }
    if (!*is.issuer) {
        *why_not = "it forbids every CA";
        return 0;
    }
    for (i = 0; o->identities && i < o->identities->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(o->identities, i, const char *), is.issuer)) {
            ours = 1;
        }
    }
    if (!ours) {
        *why_not = apr_psprintf(p, "it names another CA (%s)", is.issuer);
        return 0;
    }
    for (i = 0; i < is.params->nelts; i++) {
        so_caa_param_t *prm = &APR_ARRAY_IDX(is.params, i, so_caa_param_t);
        if (!strcmp(prm->key, "validationmethods") && !list_has(prm->value, o->method)) {
            *why_not = apr_psprintf(p, "it allows the validation methods %s, not %s", prm->value,
                                    o->method ? o->method : "the one used");
            return 0;
        }
        if (!strcmp(prm->key, "accounturi")
            && (!o->accounturi || strcmp(prm->value, o->accounturi))) {
            *why_not = o->accounturi ? apr_psprintf(p, "it is bound to the ACME account %s",
                                                    prm->value)
                                     : "it is bound to an ACME account (accounturi)";
            return 0;
        }
    }
    return 1;
}

apr_status_t so_caa_evaluate(apr_pool_t *p, const char *name, const char *domain,
                             const apr_array_header_t *rrs, const so_caa_opts_t *o,
                             so_caa_result_t *res)
{
    int wild = !strncmp(name, "*.", 2), has_wild = 0, i, n = 0;
    const char *set_tag, *first_rec = NULL, *all = "";

    res->name = name;
    res->domain = domain;
    res->record = "";
    res->iodef = apr_array_make(p, 1, sizeof(const char *));
    for (i = 0; i < rrs->nelts; i++) {
        const so_caa_rr_t *rr = &APR_ARRAY_IDX(rrs, i, so_caa_rr_t);
        if (!strcmp(rr->tag, "iodef")) {
            APR_ARRAY_PUSH(res->iodef, const char *) = rr->value;
        }
        else if (!strcmp(rr->tag, "issuewild")) {
            has_wild = 1;
        }
        else if (strcmp(rr->tag, "issue") && (rr->flags & CAA_CRITICAL)) {
            res->status = "refused";
            res->record = rr_text(p, domain, rr);
            res->detail = apr_psprintf(p, "the CAA record %s has the critical flag and a "
                                          "property (%s) this CA does not know",
                                       res->record, rr->tag);
            return SO_ECAA;
        }
    }
    set_tag = wild && has_wild ? "issuewild" : "issue";
    for (i = 0; i < rrs->nelts; i++) {
        const so_caa_rr_t *rr = &APR_ARRAY_IDX(rrs, i, so_caa_rr_t);
        const char *why_not = NULL;
        if (strcmp(rr->tag, set_tag)) {
            continue;
        }
        n++;
        if (authorizes(p, rr, o, &why_not)) {
            res->status = "permitted";
            res->record = rr_text(p, domain, rr);
            res->detail = apr_psprintf(p, "the CAA record %s authorizes this CA", res->record);
            return APR_SUCCESS;
        }
        if (!first_rec) {
            first_rec = rr_text(p, domain, rr);
        }
        all = apr_psprintf(p, "%s%s%s (%s)", all, *all ? "; " : "", rr_text(p, domain, rr),
                           why_not);
    }
    if (n == 0) {
        res->status = "permitted";
        res->detail = apr_psprintf(p, "the CAA records at %s have no %s property: issuance is "
                                      "not restricted", domain, set_tag);
        return APR_SUCCESS;
    }
    res->status = "refused";
    res->record = first_rec;
    res->detail = apr_psprintf(p, "no CAA record at %s authorizes this CA: %s", domain, all);
    return SO_ECAA;
}

apr_status_t so_caa_check_name(apr_pool_t *p, const char *name, const so_caa_opts_t *o,
                               so_caa_result_t *res)
{
    const char *d = strncmp(name, "*.", 2) ? name : name + 2;
    int tries = (o->retries > 0 ? o->retries : 1) + 1;

    memset(res, 0, sizeof(*res));
    res->name = name;
    res->domain = "";
    res->record = "";
    res->iodef = apr_array_make(p, 1, sizeof(const char *));
    for (; d && *d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
        so_dns_answer_t *ans = NULL;
        apr_array_header_t *rrs;
        const char *why = NULL;
        apr_status_t rv = APR_EGENERAL;
        int t, i;
        for (t = 0; t < tries; t++) {
            rv = so_resolve(o->resolver, p, d, CAA_TYPE, &ans, &why);
            if (rv == APR_SUCCESS && ans->rcode != 0 && !ans->nxdomain) {
                why = apr_psprintf(p, "the DNS answered rcode %d for CAA at %s", ans->rcode, d);
                rv = APR_EGENERAL;
            }
            if (rv == APR_SUCCESS) {
                break;
            }
        }
        if (rv != APR_SUCCESS) {
            res->status = "error";
            res->domain = d;
            res->detail = apr_psprintf(p, "the CAA lookup at %s failed, which does not permit "
                                          "issuance: %s", d, why);
            return rv;
        }
        if (d == name || d == name + 2) {
            res->secure = ans->secure; /* the answer at the name itself */
        }
        if (ans->nxdomain || ans->rdata->nelts == 0) {
            continue;
        }
        rrs = apr_array_make(p, ans->rdata->nelts, sizeof(so_caa_rr_t));
        for (i = 0; i < ans->rdata->nelts; i++) {
            so_rdata_t *rd = &APR_ARRAY_IDX(ans->rdata, i, so_rdata_t);
            so_caa_rr_t rr;
            if (so_caa_parse_rr(p, rd->data, rd->len, &rr, &why) != APR_SUCCESS) {
                /* a record we cannot read may be one that refuses */
                res->status = "error";
                res->domain = d;
                res->detail = apr_psprintf(p, "the CAA records at %s cannot be read: %s", d, why);
                return APR_EINVAL;
            }
            APR_ARRAY_PUSH(rrs, so_caa_rr_t) = rr;
        }
        res->secure = ans->secure;
        return so_caa_evaluate(p, name, d, rrs, o, res);
    }
    res->status = "permitted";
    res->detail = apr_psprintf(p, "no CAA records for %s or its parents: issuance is not "
                                  "restricted", name);
    return APR_SUCCESS;
}

const char *so_caa_method_label(const char *method)
{
    if (!method || !*method) {
        return NULL;
    }
    if (!strcmp(method, "http") || !strcmp(method, "https")) {
        return "http-01";
    }
    if (!strcmp(method, "dns")) {
        return "dns-01";
    }
    if (!strcmp(method, "dns-persist")) {
        return "dns-persist-01";
    }
    if (!strcmp(method, "dns-account")) {
        return "dns-account-01";
    }
    return method;
}
