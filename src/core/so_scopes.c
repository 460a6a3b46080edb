#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_network_io.h>

#include "so_scopes.h"

static const struct {
    unsigned bit;
    const char *name;
} scopes[] = {{SO_SCOPE_ORDERS_READ, "orders:read"}, {SO_SCOPE_ORDERS_WRITE, "orders:write"},
              {SO_SCOPE_BILLING, "billing"},         {SO_SCOPE_TEAM_ADMIN, "team:admin"},
              {SO_SCOPE_ACME, "acme"},               {SO_SCOPE_WEBHOOKS, "webhooks"},
              {0, NULL}};

#define SEPARATORS " ,\t"

const char *so_scope_name(unsigned scope)
{
    int i;
    for (i = 0; scopes[i].name; i++) {
        if (scopes[i].bit == scope) {
            return scopes[i].name;
        }
    }
    return "";
}

apr_status_t so_scopes_parse(const char *text, unsigned *mask, const char **why, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text ? text : ""), *last = NULL, *tok;
    *mask = 0;
    for (tok = apr_strtok(copy, SEPARATORS, &last); tok; tok = apr_strtok(NULL, SEPARATORS, &last)) {
        int i, found = 0;
        for (i = 0; scopes[i].name; i++) {
            if (!strcmp(tok, scopes[i].name)) {
                *mask |= scopes[i].bit;
                found = 1;
                break;
            }
        }
        if (!found) {
            *why = apr_psprintf(p, "unknown scope '%.64s' (orders:read, orders:write, billing, "
                                   "team:admin, acme, webhooks)", tok);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

const char *so_scopes_text(apr_pool_t *p, unsigned mask)
{
    const char *out = "";
    int i;
    for (i = 0; scopes[i].name; i++) {
        if (mask & scopes[i].bit) {
            out = *out ? apr_pstrcat(p, out, " ", scopes[i].name, NULL) : scopes[i].name;
        }
    }
    return out;
}

unsigned so_scopes_of_role(int role)
{
    switch (role) {
    case 1: /* viewer */
        return SO_SCOPE_ORDERS_READ;
    case 2: /* member */
        return SO_SCOPE_ORDERS_READ | SO_SCOPE_ORDERS_WRITE | SO_SCOPE_ACME;
    case 3: /* admin */
    case 4: /* owner */
        return SO_SCOPE_ALL;
    default:
        return 0;
    }
}

/* One network: "addr" or "addr/bits"; apr_ipsubnet_create checks both parts. */
static apr_status_t network_parse(char *tok, apr_ipsubnet_t **out, apr_pool_t *p)
{
    char *slash = strchr(tok, '/');
    char *addr = tok, *bits = NULL;
    if (strlen(tok) > 64 || !*tok) {
        return APR_EINVAL;
    }
    if (slash) {
        *slash = '\0';
        bits = slash + 1;
        if (!*bits || strspn(bits, "0123456789") != strlen(bits) || strlen(bits) > 3) {
            *slash = '/';
            return APR_EINVAL;
        }
    }
    /* apr_ipsubnet_create also takes "10.1" as 10.1.0.0/16: ask for a whole address */
    if (!strchr(addr, ':') && (strspn(addr, "0123456789.") != strlen(addr)
                               || strchr(addr, '.') == strrchr(addr, '.'))) {
        if (slash) {
            *slash = '/';
        }
        return APR_EINVAL;
    }
    {
        apr_status_t rv = apr_ipsubnet_create(out, addr, bits, p);
        if (slash) {
            *slash = '/';
        }
        return rv;
    }
}

apr_status_t so_networks_parse(const char *text, const char **canon, const char **why,
                               apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text ? text : ""), *last = NULL, *tok;
    const char *out = "";
    int n = 0;

    for (tok = apr_strtok(copy, SEPARATORS, &last); tok; tok = apr_strtok(NULL, SEPARATORS, &last)) {
        apr_ipsubnet_t *net;
        if (++n > SO_SCOPES_MAX_NETWORKS) {
            *why = apr_psprintf(p, "at most %d networks", SO_SCOPES_MAX_NETWORKS);
            return APR_EINVAL;
        }
        if (network_parse(tok, &net, p) != APR_SUCCESS) {
            *why = apr_psprintf(p, "'%.64s' is not an IPv4 or IPv6 address or CIDR block", tok);
            return APR_EINVAL;
        }
        out = *out ? apr_pstrcat(p, out, " ", tok, NULL) : apr_pstrdup(p, tok);
    }
    if (canon) {
        *canon = out;
    }
    return APR_SUCCESS;
}

int so_networks_allow(const char *networks, const char *ip, apr_pool_t *p)
{
    char *copy, *last = NULL, *tok;
    apr_sockaddr_t *sa = NULL;

    if (!networks || !*networks) {
        return 1;
    }
    if (!ip || !*ip) {
        return 0;
    }
    /* a numeric address only: never a name lookup */
    {
        unsigned char buf[sizeof(struct in6_addr)];
        if (inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, buf) != 1) {
            return 0;
        }
    }
    if (apr_sockaddr_info_get(&sa, ip, strchr(ip, ':') ? APR_INET6 : APR_INET, 0, 0, p)
            != APR_SUCCESS
        || !sa) {
        return 0;
    }
    copy = apr_pstrdup(p, networks);
    for (tok = apr_strtok(copy, SEPARATORS, &last); tok; tok = apr_strtok(NULL, SEPARATORS, &last)) {
        apr_ipsubnet_t *net;
        if (network_parse(tok, &net, p) == APR_SUCCESS && apr_ipsubnet_test(net, sa)) {
            return 1;
        }
    }
    return 0;
}
