/* mod_sslorders: domain control validation in the DNS (libunbound through so_resolve.h):
 * the CNAME and TXT records of the BR methods, ACME dns-01 and dns-account-01 TXT
 * records, and the parser of DNS answers. See so_dcv.h. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include <apr_strings.h>

#include "so_dcv.h"
#include "so_dcv_int.h"
#include "so_log.h"
#include "so_resolve.h"
#include "so_util.h"

#define DEFAULT_DNS_MS 5000
#define DNS_BUF 65536

/* ---- DNS -------------------------------------------------------------------------- */

apr_status_t so_dcv_resolver(so_resolver_t **out, apr_pool_t *p, const so_dcv_opts_t *o,
                             const char **why)
{
    so_resolve_opts_t ro;
    apr_status_t rv;
    memset(&ro, 0, sizeof(ro));
    ro.nameserver = o->nameserver;
    ro.dnssec = o->dnssec;
    ro.trust_anchor = o->trust_anchor;
    ro.timeout_ms = o->timeout_ms;
    ro.cancelled = o->cancelled;
    rv = so_resolver_create(out, p, &ro, why);
    if (rv == APR_SUCCESS && *why) {
        so_log_warn(SO_LOG_MARK, APR_SUCCESS, SOLOGNO(00550) "DNS: %s", *why);
        *why = NULL;
    }
    return rv;
}

apr_status_t so_dcv_dns_parse(apr_pool_t *p, const unsigned char *msg, apr_size_t len,
                              int qtype, int *rcode, apr_array_header_t **values,
                              const char **why)
{
    ns_msg h;
    ns_rr rr;
    int i, n;

    *values = apr_array_make(p, 2, sizeof(const char *));
    *rcode = -1;
    if (len > DNS_BUF || ns_initparse(msg, (int)len, &h) < 0) {
        *why = "the DNS answer is malformed";
        return APR_EINVAL;
    }
    *rcode = (int)ns_msg_getflag(h, ns_f_rcode);
    n = ns_msg_count(h, ns_s_an);
    for (i = 0; i < n; i++) {
        if (ns_parserr(&h, ns_s_an, i, &rr) < 0) {
            *why = "the DNS answer is malformed";
            return APR_EINVAL;
        }
        if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != qtype) {
            continue;
        }
        if (qtype == ns_t_cname) {
            char name[NS_MAXDNAME];
            apr_size_t l;
            if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h), ns_rr_rdata(rr), name,
                                   sizeof(name)) < 0) {
                *why = "the DNS answer has a malformed CNAME";
                return APR_EINVAL;
            }
            l = strlen(name);
            if (l > 0 && name[l - 1] == '.') {
                name[--l] = '\0';
            }
            APR_ARRAY_PUSH(*values, const char *) = apr_pstrmemdup(p, name, l);
        }
        else if (qtype == ns_t_txt) {
            const unsigned char *rd = ns_rr_rdata(rr);
            apr_size_t off = 0, rdlen = ns_rr_rdlen(rr), out = 0;
            char *v = apr_palloc(p, rdlen + 1);
            while (off < rdlen) {
                apr_size_t l = rd[off];
                if (off + 1 + l > rdlen) {
                    *why = "the DNS answer has a malformed TXT record";
                    return APR_EINVAL;
                }
                memcpy(v + out, rd + off + 1, l);
                out += l;
                off += 1 + l;
            }
            v[out] = '\0';
            if (memchr(v, '\0', out) == NULL) { /* a NUL inside can never match */
                APR_ARRAY_PUSH(*values, const char *) = v;
            }
        }
    }
    return APR_SUCCESS;
}

static const char *rcode_text(int rcode)
{
    switch (rcode) {
    case ns_r_formerr:
        return "FORMERR";
    case ns_r_servfail:
        return "SERVFAIL";
    case ns_r_nxdomain:
        return "NXDOMAIN";
    case ns_r_notimpl:
        return "NOTIMP";
    case ns_r_refused:
        return "REFUSED";
    default:
        return "an error";
    }
}

/* Query qname/qtype and compare every answer with want. */
static apr_status_t dns_check(apr_pool_t *p, const char *qname, int qtype, const char *want,
                              int exact, const so_dcv_opts_t *o, const char **why)
{
    const char *tname = qtype == ns_t_cname ? "CNAME" : "TXT";
    const char *server = o->nameserver ? o->nameserver : "the DNS";
    apr_array_header_t *values = NULL;
    so_resolver_t *r = o->resolver;
    so_dns_answer_t *ans;
    int rcode, i;
    apr_status_t rv;

    if (!r && (rv = so_dcv_resolver(&r, p, o, why)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = so_resolve(r, p, qname, qtype, &ans, why)) != APR_SUCCESS) {
        goto leave;
    }
    if (!ans->packet) {
        *why = apr_psprintf(p, "no DNS answer for %s", qname);
        rv = APR_EGENERAL;
        goto leave;
    }
    if ((rv = so_dcv_dns_parse(p, ans->packet, ans->packet_len, qtype, &rcode, &values, why))
        != APR_SUCCESS) {
        goto leave;
    }
    if (rcode == ns_r_nxdomain) {
        *why = apr_psprintf(p, "%s does not exist in the DNS (NXDOMAIN)", qname);
        rv = APR_ENOENT;
        goto leave;
    }
    if (rcode != ns_r_noerror) {
        *why = apr_psprintf(p, "the DNS server %s answered %s for %s", server, rcode_text(rcode),
                            qname);
        rv = APR_EGENERAL;
        goto leave;
    }
    if (values->nelts == 0) {
        *why = apr_psprintf(p, "there is no %s record at %s", tname, qname);
        rv = APR_ENOENT;
        goto leave;
    }
    for (i = 0; i < values->nelts; i++) {
        char *v = apr_pstrdup(p, APR_ARRAY_IDX(values, i, const char *));
        apr_size_t l;
        if (qtype == ns_t_txt) { /* tolerate white space and quotes around the value */
            v = so_str_trim(p, v);
            l = strlen(v);
            if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
                v[l - 1] = '\0';
                v = so_str_trim(p, v + 1);
            }
        }
        l = strlen(v);
        if (l > 0 && v[l - 1] == '.') {
            v[l - 1] = '\0';
        }
        if (exact ? strcmp(v, want) == 0 : strcasecmp(v, want) == 0) {
            rv = APR_SUCCESS;
            goto leave;
        }
    }
    *why = apr_psprintf(p, "the %s record at %s has the wrong value \"%s\" (expected %s)", tname,
                        qname, APR_ARRAY_IDX(values, 0, const char *), want);
    rv = APR_EMISMATCH;
leave:
    return rv;
}

apr_status_t so_dcv_check_dns(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                              so_dcv_method_t method, const so_dcv_opts_t *opts,
                              const char **why)
{
    so_dcv_opts_t o;
    const char *n, *base, *why_cname = NULL;
    apr_status_t rv;

    *why = NULL;
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    if ((rv = so_dcv_name(&n, &base, p, name, why)) != APR_SUCCESS) {
        return rv;
    }
    if (method != SO_DCV_CNAME && method != SO_DCV_TXT && method != SO_DCV_DNS) {
        *why = "not a DNS validation method";
        return APR_EINVAL;
    }
    if (method == SO_DCV_CNAME || method == SO_DCV_DNS) {
        rv = dns_check(p, apr_pstrcat(p, "_", t->md5, ".", base, NULL), ns_t_cname,
                       t->dns_value, 0, &o, why);
        if (rv == APR_SUCCESS || method == SO_DCV_CNAME) {
            return rv;
        }
        why_cname = *why;
    }
    rv = dns_check(p, apr_pstrcat(p, SO_DCV_TXT_LABEL ".", base, NULL), ns_t_txt, t->dns_value,
                   0, &o, why);
    if (rv != APR_SUCCESS && why_cname) {
        *why = apr_pstrcat(p, why_cname, "; ", *why, NULL);
    }
    return rv;
}

apr_status_t so_dcv_check_txt(apr_pool_t *p, const char *qname, const char *want,
                              const so_dcv_opts_t *opts, const char **why)
{
    so_dcv_opts_t o;
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    *why = NULL;
    return dns_check(p, qname, ns_t_txt, want, 1, &o, why);
}

apr_status_t so_dcv_check_account(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                                  const char *account_url, const so_dcv_opts_t *opts,
                                  const char **why)
{
    so_dcv_opts_t o;
    const char *qname;
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    *why = NULL;
    if (!(qname = so_dcv_account_record(p, account_url, name, why))) {
        return APR_EINVAL;
    }
    return dns_check(p, qname, ns_t_txt, t->dns_value, 0, &o, why);
}
