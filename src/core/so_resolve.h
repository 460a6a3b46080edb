/* mod_sslorders: DNS resolution for domain validation and CAA, through libunbound, with
 * DNSSEC validation (no httpd types).
 *
 * One resolver (an unbound context) per check pass: it forwards to opts->nameserver when
 * one is set (SSLOrdersDCVNameserver, "addr[:port]") or resolves iteratively from the root
 * otherwise. With dnssec on, the trust anchor file (DS or DNSKEY records in zone file
 * format: SSLOrdersDNSTrustAnchor, default the root key of Debian's dns-root-data or
 * unbound) is loaded and every answer is validated:
 *   secure    the answer validated up to a trust anchor
 *   insecure  the zone is provably (or, with a private anchor, simply) unsigned: accepted
 *   bogus     the signatures do not validate: the lookup fails (SO_EDNSSEC)
 * With dnssec off no anchor is loaded and nothing is validated.
 * Queries are answered within opts->timeout_ms (APR_TIMEUP after that). */
#ifndef SO_RESOLVE_H
#define SO_RESOLVE_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define SO_EDNSSEC (APR_OS_START_USERERR + 650) /* a DNSSEC-bogus answer */
#define SO_RESOLVE_ROOT_KEYS "/usr/share/dns/root.key:/var/lib/unbound/root.key"

typedef struct {
    const char *nameserver;   /* "a.b.c.d[:port]", "v6", "[v6]:port"; NULL: iterate */
    int dnssec;               /* validate */
    const char *trust_anchor; /* file; NULL: the first readable of SO_RESOLVE_ROOT_KEYS */
    int timeout_ms;           /* per query; 0 = 5000 */
    int (*cancelled)(void);   /* non-zero ends a query in progress (APR_EINTR, within 0.2 s):
                               * the process stops. NULL = never */
} so_resolve_opts_t;

typedef struct so_resolver_t so_resolver_t;

/* One record's data (wire format rdata). */
typedef struct {
    const unsigned char *data;
    apr_size_t len;
} so_rdata_t;

typedef struct {
    int rcode;           /* DNS response code */
    int nxdomain;
    int secure;          /* validated */
    const char *canonname; /* after CNAMEs (no trailing dot) */
    apr_array_header_t *rdata; /* so_rdata_t of the type asked for, at canonname */
    const unsigned char *packet; /* the whole answer (for so_dcv_dns_parse) */
    apr_size_t packet_len;
} so_dns_answer_t;

/* A resolver living as long as p. APR_EINVAL and *why for a bad nameserver; with dnssec
 * on and no readable trust anchor, a resolver that does not validate and *why set (a
 * warning for the caller to log), APR_SUCCESS. */
apr_status_t so_resolver_create(so_resolver_t **out, apr_pool_t *p, const so_resolve_opts_t *o,
                                const char **why);

/* Whether r validates (dnssec on with an anchor loaded). */
int so_resolver_validates(const so_resolver_t *r);

/* Ask qname/qtype (class IN). APR_SUCCESS with *ans for any answer with a response code
 * (NOERROR, NXDOMAIN, ...); SO_EDNSSEC for a bogus answer; APR_TIMEUP; APR_EGENERAL when
 * no server answered. *why in words for the customer. */
apr_status_t so_resolve(so_resolver_t *r, apr_pool_t *p, const char *qname, int qtype,
                        so_dns_answer_t **ans, const char **why);

/* "addr[:port]" into unbound's "addr@port"; NULL when not an address. */
const char *so_resolve_fwd_addr(apr_pool_t *p, const char *nameserver);

/* The trust anchor file a resolver with these options would use (NULL: none readable). */
const char *so_resolve_anchor_file(apr_pool_t *p, const so_resolve_opts_t *o);

#endif
