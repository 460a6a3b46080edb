/* mod_sslorders: host names, registrable domains (Public Suffix List through
 * libpsl) and approver e-mail addresses. */
#ifndef SO_DOMAIN_H
#define SO_DOMAIN_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Load the Public Suffix List (the newest of Debian's publicsuffix file and
 * libpsl's built-in copy). Call once at startup, before threads; idempotent. */
void so_domain_init(void);

/* A host name we issue for: lower-case LDH labels (xn-- for IDNs), at least two
 * labels, at most 253 characters, not a public suffix; with allow_wildcard a
 * leading "*." label is accepted (but "*.com" is not). NULL when valid, else why. */
const char *so_hostname_check(const char *name, int allow_wildcard);
int so_hostname_is_wildcard(const char *name);
/* "*.example.com" -> "example.com"; other names unchanged. */
const char *so_hostname_base(const char *name);

/* The registrable domain of a host ("www.example.co.uk" -> "example.co.uk"). */
apr_status_t so_registrable_domain(apr_pool_t *p, const char *host, const char **out);
/* The approver addresses of a host: admin@, administrator@, hostmaster@,
 * postmaster@, webmaster@ of each Authorization Domain Name: its registrable domain
 * first, then every longer parent down to the host itself (const char*). */
apr_status_t so_approver_emails(apr_pool_t *p, const char *host, apr_array_header_t **out);
/* Is email one of the approver addresses of host? */
int so_approver_email_ok(apr_pool_t *p, const char *host, const char *email);

#endif
