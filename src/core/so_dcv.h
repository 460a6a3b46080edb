/* mod_sslorders: domain control validation (no httpd types).
 *
 * The CSR-hash methods of SSL.com and Sectigo (CA/B Forum BR 3.2.2.4.18 "Agreed-Upon Change
 * to Website v2" and 3.2.2.4.7 "DNS Change"), with the request token derived from the CSR:
 *
 *   MD5, SHA256  hashes of the CSR's DER encoding, upper-case hex (32 and 64 characters)
 *   unique       optional: 10 lower-case hex characters (40 random bits) that tell two
 *                validations of the same CSR apart (a reissue with the same key);
 *                so_dcv_unique() makes one
 *   ca tag       the CA's tag domain (so_ca_tag(), default "sslorders.local")
 *
 *   http/https   the file  http[s]://<name>/.well-known/pki-validation/<MD5>.txt
 *                holding   "<SHA256>\n<ca tag>[\n<unique>]"
 *                (the first line must be the SHA256; the unique value, when the validation
 *                has one, on any later line; the CA tag line is informative). Not for
 *                wildcard names (BR 3.2.2.4.18).
 *   dns CNAME    _<MD5>.<base>  CNAME  <SHA256[0:32]>.<SHA256[32:64]>[.<unique>].<ca tag>
 *   dns TXT      _pki-validation.<base>  TXT  the same value as the CNAME target
 *   where <base> is the name without a leading "*." (so a wildcard validates through its base).
 *
 * Checking:
 *   - HTTP: libcurl, no proxy, connect and total timeouts, a response size limit, TLS
 *     certificates not verified for https (the BR only ask for a 2xx answer from the name
 *     over http or https on an Authorized Port; the site's certificate is often the expired
 *     or self-signed one being replaced). Redirects are followed here, one hop at a time, as
 *     BR 3.2.2.4.18 allows: only 301, 302, 307 and 308, only to http or https URLs on port 80
 *     or 443, at most opts->max_redirects hops. Only a 2xx answer counts.
 *   - DNS: libunbound (so_resolve.h), forwarding to opts->nameserver or resolving from the
 *     root, validating DNSSEC when opts->dnssec (a bogus answer fails the check);
 *     answers compared case-insensitively, ignoring a trailing dot (and, for TXT, quotes
 *     around the value).
 * Every check returns APR_SUCCESS when the name is validated; anything else means it is not,
 * and *why says why in words meant for the customer ("got HTTP 404 from http://...").
 */
#ifndef SO_DCV_H
#define SO_DCV_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SO_DCV_PATH_PREFIX "/.well-known/pki-validation/"
#define SO_DCV_TXT_LABEL "_pki-validation"
#define SO_DCV_UNIQUE_LEN 10

typedef enum {
    SO_DCV_HTTP = 1,  /* file over http (port 80) */
    SO_DCV_HTTPS = 2, /* file over https (port 443) */
    SO_DCV_CNAME = 3, /* DNS CNAME at _<MD5>.<base> */
    SO_DCV_TXT = 4,   /* DNS TXT at _pki-validation.<base> */
    SO_DCV_DNS = 5    /* so_dcv_check_dns only: CNAME or TXT, either is enough */
} so_dcv_method_t;

/* The values of one validation (one CSR, one unique value, one CA). */
typedef struct {
    const char *md5;    /* upper-case hex */
    const char *sha256; /* upper-case hex */
    const char *unique; /* NULL: none */
    const char *ca_tag; /* lower case */
    const char *dns_value;  /* <SHA256[0:32]>.<SHA256[32:64]>[.<unique>].<ca tag> */
    const char *file_body;  /* <SHA256>\n<ca tag>[\n<unique>] */
} so_dcv_token_t;

/* What the customer must publish for one name and method. */
typedef struct {
    so_dcv_method_t method;
    const char *name;         /* the name as given (lower case) */
    const char *base;         /* the name without "*." */
    /* http, https */
    const char *url;          /* http[s]://<base>/.well-known/pki-validation/<MD5>.txt */
    const char *path;         /* /.well-known/pki-validation/<MD5>.txt */
    const char *file_name;    /* <MD5>.txt */
    const char *file_body;    /* the file's content */
    /* CNAME, TXT */
    const char *record_name;  /* _<MD5>.<base> or _pki-validation.<base> (no trailing dot) */
    const char *record_type;  /* "CNAME" or "TXT" */
    const char *record_value; /* the CNAME target or the TXT value */
    const char *text;         /* one paragraph in plain English saying all of the above */
} so_dcv_instructions_t;

typedef struct {
    /* curl CONNECT_TO entries "host:port:addr:port" (const char *), made with
     * so_dcv_connect_to_add(); they route probes for a name to another address */
    const apr_array_header_t *connect_to;
    int connect_timeout_ms;  /* per connection; 0 = 5000 */
    int timeout_ms;          /* HTTP: a whole check with its redirects; DNS: per query;
                              * 0 = 15000 (HTTP) and 5000 (DNS) */
    apr_size_t max_body;     /* 0 = 64 KiB */
    int max_redirects;       /* 0 = 5; -1 = none followed */
    const char *nameserver;  /* "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353"; NULL = system */
    const char *user_agent;  /* NULL = "mod_sslorders-dcv/1" */
    /* DNS through libunbound (so_resolve.h): validate with DNSSEC (SSLOrdersDNSSEC) against
     * trust_anchor (SSLOrdersDNSTrustAnchor; NULL: the root key); resolver: one made by
     * so_dcv_resolver() shared by several checks (NULL: one per check) */
    int dnssec;
    const char *trust_anchor;
    struct so_resolver_t *resolver;
    /* non-zero stops a probe in progress (HTTP within a second, DNS within 0.2 s;
     * APR_EINTR): the process stops. NULL = never */
    int (*cancelled)(void);
} so_dcv_opts_t;

/* A resolver for these options (lives as long as p). */
apr_status_t so_dcv_resolver(struct so_resolver_t **out, apr_pool_t *p, const so_dcv_opts_t *o,
                             const char **why);

/* The token for a CSR (DER). unique may be NULL (none); ca_tag is required. */
apr_status_t so_dcv_token(so_dcv_token_t **out, apr_pool_t *p, const unsigned char *csr_der,
                          apr_size_t csr_len, const char *ca_tag, const char *unique,
                          const char **why);
/* The same from the CSR's MD5 and SHA-256 (hex, as stored with an order). */
apr_status_t so_dcv_token_hashes(so_dcv_token_t **out, apr_pool_t *p, const char *md5,
                                 const char *sha256, const char *ca_tag, const char *unique,
                                 const char **why);
/* The same from a PEM CSR (decoded with OpenSSL, so the hashes are those of its DER). */
apr_status_t so_dcv_token_pem(so_dcv_token_t **out, apr_pool_t *p, const char *csr_pem,
                              const char *ca_tag, const char *unique, const char **why);
/* A new random unique value: SO_DCV_UNIQUE_LEN lower-case hex characters. */
apr_status_t so_dcv_unique(const char **out, apr_pool_t *p);

/* The instructions for name (a DNS name, "*." allowed except for http and https). */
apr_status_t so_dcv_instructions(so_dcv_instructions_t **out, apr_pool_t *p,
                                 const so_dcv_token_t *t, const char *name,
                                 so_dcv_method_t method, const char **why);

/* Add a connect-to mapping: from "host:port" to "addr:port" (addr an IP address, IPv6 in
 * brackets, or a host name). *list is created when NULL. */
apr_status_t so_dcv_connect_to_add(apr_array_header_t **list, apr_pool_t *p, const char *from,
                                   const char *to, const char **why);

/* Fetch the validation file of name over http (https = 0) or https (https = 1) and check
 * it (see above). opts may be NULL. APR_EINVAL: the name cannot use this method (wildcard,
 * invalid name); APR_EMISMATCH: the file is there but wrong; APR_TIMEUP: timed out;
 * other errors: the file could not be fetched. */
apr_status_t so_dcv_check_http(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                               int https, const so_dcv_opts_t *opts, const char **why);

/* Look up the CNAME (SO_DCV_CNAME), the TXT (SO_DCV_TXT) or both (SO_DCV_DNS: validated
 * when either matches) record of name and compare it with t->dns_value. opts may be
 * NULL. APR_EMISMATCH: a record exists with another value; APR_ENOENT: no such record
 * (NXDOMAIN, or no answer of that type); APR_TIMEUP: no answer in time; other errors:
 * the DNS server failed or could not be reached. */
apr_status_t so_dcv_check_dns(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                              so_dcv_method_t method, const so_dcv_opts_t *opts,
                              const char **why);

/* The parser of DNS answers used by so_dcv_check_dns (public for the fuzzer): *rcode gets
 * the response code and *values (const char *) the CNAME targets (uncompressed, without
 * the trailing dot) or the TXT values (the character-strings of one record joined) of
 * every answer record of type qtype (ns_t_cname = 5 or ns_t_txt = 16). APR_EINVAL and
 * *why when msg is not a well-formed DNS message. */
apr_status_t so_dcv_dns_parse(apr_pool_t *p, const unsigned char *msg, apr_size_t len,
                              int qtype, int *rcode, apr_array_header_t **values,
                              const char **why);

/* ACME (RFC 8555 8.3): GET http://<name>/.well-known/acme-challenge/<token> (redirects as
 * above); the body, trailing white space removed, must be want (the key authorization). */
#define SO_DCV_ACME_PATH_PREFIX "/.well-known/acme-challenge/"
apr_status_t so_dcv_check_acme_http(apr_pool_t *p, const char *name, const char *token,
                                    const char *want, const so_dcv_opts_t *opts, const char **why);
/* ACME (RFC 8555 8.4): a TXT record at qname with exactly want (case-sensitive). */
apr_status_t so_dcv_check_txt(apr_pool_t *p, const char *qname, const char *want,
                              const so_dcv_opts_t *opts, const char **why);

/* ACME dns-account-01 (draft-ietf-acme-dns-account-label; BR 3.2.2.4.21): the account's
 * label "_" + lower-case base32 (RFC 4648, no padding) of the first 10 bytes of SHA-256 of
 * the account URL; the TXT record is at "<label>._acme-challenge.<name>". */
const char *so_dcv_account_label(apr_pool_t *p, const char *account_url);

/* The API's and portal's "dns-account" method (BR 3.2.2.4.21): a TXT record at
 * "<label>._acme-challenge.<base>" (label of account_url as above, base the name without
 * "*.") holding t->dns_value (the value of the plain dns method; compared like it).
 * so_dcv_account_record: the record name (NULL and *why for a bad name);
 * so_dcv_account_instructions: what to publish (record_type "TXT");
 * so_dcv_check_account: the check, with the errors of so_dcv_check_dns. */
const char *so_dcv_account_record(apr_pool_t *p, const char *account_url, const char *name,
                                  const char **why);
apr_status_t so_dcv_account_instructions(so_dcv_instructions_t **out, apr_pool_t *p,
                                         const so_dcv_token_t *t, const char *name,
                                         const char *account_url, const char **why);
apr_status_t so_dcv_check_account(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                                  const char *account_url, const so_dcv_opts_t *opts,
                                  const char **why);

/* ACME tls-alpn-01 (RFC 8737): a TLS handshake with name:443 (connect-to entries honoured:
 * one for this name before one for any name), SNI name, ALPN acme-tls/1; the certificate
 * must name exactly name and carry the critical acmeIdentifier extension holding digest
 * (SHA-256 of the key authorization, 32 bytes). APR_EMISMATCH: wrong certificate. */
apr_status_t so_dcv_check_tls_alpn(apr_pool_t *p, const char *name, const unsigned char *digest,
                                   const so_dcv_opts_t *opts, const char **why);

/* An ACME challenge of name (without "*."), by type: "http-01", "tls-alpn-01", "dns-01" or
 * "dns-account-01" (the TXT record at the label of account_url), with the key
 * authorization (token "." thumbprint). The ACME server and the MPIC perspectives (which
 * repeat the server's check from where they stand) both call it. APR_ENOTIMPL: another
 * type; otherwise the errors of the checks above. */
apr_status_t so_dcv_check_acme(apr_pool_t *p, const char *type, const char *name,
                               const char *token, const char *keyauth, const char *account_url,
                               const so_dcv_opts_t *opts, const char **why);

#endif
