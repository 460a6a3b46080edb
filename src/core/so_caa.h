/* mod_sslorders: CAA (RFC 8659 with the RFC 8657 parameters), no httpd types.
 *
 * so_caa_check_name() finds the relevant record set of a name: it asks CAA at the name
 * (without "*.") and then at each parent, up to and including the top-level domain; the
 * first non-empty answer is the relevant set (CNAMEs are followed by the resolver). No
 * set anywhere: issuance is permitted. Otherwise so_caa_evaluate() decides:
 *   - a record with the critical flag (128) and a tag we do not know refuses;
 *   - for a wildcard name the issuewild records are the issue set when there is one,
 *     for other names the issue records;
 *   - an empty issue set (only iodef, say) permits;
 *   - else a record must name one of our identities and satisfy its parameters:
 *     validationmethods (comma list) must hold the method label used, accounturi must
 *     equal the ACME account URL (a record with accounturi never authorizes a non-ACME
 *     order); unknown parameters are ignored; a malformed value authorizes nothing.
 * iodef values of the relevant set are returned. A lookup that fails (after opts->retries
 * more tries) or a DNSSEC-bogus answer is an error, never permission. */
#ifndef SO_CAA_H
#define SO_CAA_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SO_ECAA (APR_OS_START_USERERR + 651) /* a CAA record refuses issuance */

struct so_resolver_t;

typedef struct {
    int flags;
    const char *tag;   /* lower case */
    const char *value; /* as published */
} so_caa_rr_t;

typedef struct {
    const char *key;   /* lower case */
    const char *value;
} so_caa_param_t;

typedef struct {
    const char *issuer;         /* lower case, no trailing dot; "" when none (";") */
    apr_array_header_t *params; /* so_caa_param_t */
} so_caa_issue_t;

typedef struct {
    const char *name;      /* the name checked */
    const char *status;    /* "permitted", "refused", "error" */
    const char *domain;    /* where the relevant records are ("" when none anywhere) */
    const char *record;    /* the record that decided ("" when none) */
    const char *detail;    /* in words */
    apr_array_header_t *iodef; /* const char * */
    int secure;            /* the relevant answer was DNSSEC-validated */
} so_caa_result_t;

typedef struct {
    const apr_array_header_t *identities; /* const char *, lower case */
    const char *method;     /* validation method label (so_caa_method_label) or NULL */
    const char *accounturi; /* ACME account URL or NULL */
    struct so_resolver_t *resolver;
    int retries;            /* more tries of a failed lookup (0: 1) */
} so_caa_opts_t;

/* One CAA record's rdata. APR_EINVAL and *why when malformed. */
apr_status_t so_caa_parse_rr(apr_pool_t *p, const unsigned char *rdata, apr_size_t len,
                             so_caa_rr_t *out, const char **why);
/* An issue/issuewild value (RFC 8659 4.2). APR_EINVAL and *why when malformed. */
apr_status_t so_caa_parse_issue(apr_pool_t *p, const char *value, so_caa_issue_t *out,
                                const char **why);
/* Decide for name (may start with "*.") from the relevant records found at domain. */
apr_status_t so_caa_evaluate(apr_pool_t *p, const char *name, const char *domain,
                             const apr_array_header_t *rrs, const so_caa_opts_t *o,
                             so_caa_result_t *res);
/* Look up and decide. APR_SUCCESS: permitted; SO_ECAA: refused; other: the lookup failed
 * (res->status "error"). res->detail says why in every case. */
apr_status_t so_caa_check_name(apr_pool_t *p, const char *name, const so_caa_opts_t *o,
                               so_caa_result_t *res);
/* The RFC 8657 label of one of our DCV methods: http, https -> "http-01", dns -> "dns-01",
 * dns-persist -> "dns-persist-01", dns-account -> "dns-account-01", email -> "email"; ACME
 * labels pass through. */
const char *so_caa_method_label(const char *method);

#endif
