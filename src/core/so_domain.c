#include <string.h>

#include <apr_strings.h>
#include <libpsl.h>

#include "so_domain.h"
#include "so_util.h"

static const psl_ctx_t *psl;
static psl_ctx_t *psl_loaded;

void so_domain_init(void)
{
    if (psl) {
        return;
    }
    psl_loaded = psl_latest(NULL);
    psl = psl_loaded ? psl_loaded : psl_builtin();
}

static const psl_ctx_t *ctx(void)
{
    if (!psl) {
        so_domain_init();
    }
    return psl;
}

int so_hostname_is_wildcard(const char *name)
{
    return name && name[0] == '*' && name[1] == '.';
}

const char *so_hostname_base(const char *name)
{
    return so_hostname_is_wildcard(name) ? name + 2 : name;
}

const char *so_hostname_check(const char *name, int allow_wildcard)
{
    const char *s, *label;
    size_t n;
    int labels = 0, all_digits_tld = 1;

    if (!name || !*name) {
        return "the host name is empty";
    }
    n = strlen(name);
    if (n > 253) {
        return "the host name is longer than 253 characters";
    }
    if (so_hostname_is_wildcard(name)) {
        if (!allow_wildcard) {
            return "a wildcard name is not allowed here";
        }
        name += 2;
    }
    label = name;
    for (s = name;; s++) {
        if (*s == '.' || *s == '\0') {
            size_t len = (size_t)(s - label);
            if (len == 0) {
                return "the host name has an empty label";
            }
            if (len > 63) {
                return "a label of the host name is longer than 63 characters";
            }
            if (label[0] == '-' || s[-1] == '-') {
                return "a label of the host name starts or ends with a hyphen";
            }
            labels++;
            all_digits_tld = 1;
            for (const char *c = label; c < s; c++) {
                if (!(*c >= '0' && *c <= '9')) {
                    all_digits_tld = 0;
                }
            }
            if (*s == '\0') {
                break;
            }
            label = s + 1;
            continue;
        }
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) {
            if (*s >= 'A' && *s <= 'Z') {
                return "the host name must be lower case";
            }
            if (*s == '*') {
                return "a wildcard may only be the whole first label (*.example.com)";
            }
            return "the host name may only hold letters, digits, hyphens and dots";
        }
    }
    if (labels < 2) {
        return "the host name needs at least two labels (example.com)";
    }
    if (all_digits_tld) {
        return "IP addresses are not issued";
    }
    if (psl_is_public_suffix(ctx(), name)) {
        return "the name is a public suffix";
    }
    return NULL;
}

apr_status_t so_registrable_domain(apr_pool_t *p, const char *host, const char **out)
{
    const char *d = psl_registrable_domain(ctx(), so_hostname_base(host));
    if (!d) {
        return APR_EINVAL;
    }
    *out = apr_pstrdup(p, d);
    return APR_SUCCESS;
}

static const char *const prefixes[] = {"admin", "administrator", "hostmaster", "postmaster",
                                       "webmaster", NULL};

/* Every Authorization Domain Name (BR 1.6.1): the host (without "*.") and each parent
 * obtained by removing labels, down to the registrable domain; the registrable domain's
 * addresses come first, then each longer name's. */
apr_status_t so_approver_emails(apr_pool_t *p, const char *host, apr_array_header_t **out)
{
    const char *domain, *base = so_hostname_base(host), *adn[128];
    int i, n = 0;
    if (so_registrable_domain(p, host, &domain) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    for (; base && n < 128; base = strchr(base, '.') ? strchr(base, '.') + 1 : NULL) {
        adn[n++] = base;
        if (!strcasecmp(base, domain)) {
            break;
        }
    }
    *out = apr_array_make(p, 5 * n, sizeof(const char *));
    while (n-- > 0) {
        for (i = 0; prefixes[i]; i++) {
            APR_ARRAY_PUSH(*out, const char *) = apr_pstrcat(p, prefixes[i], "@", adn[n], NULL);
        }
    }
    return APR_SUCCESS;
}

int so_approver_email_ok(apr_pool_t *p, const char *host, const char *email)
{
    apr_array_header_t *list;
    int i;
    if (!email || so_approver_emails(p, host, &list) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < list->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(list, i, const char *), email)) {
            return 1;
        }
    }
    return 0;
}
