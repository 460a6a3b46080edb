#include <string.h>

#include <apr_strings.h>

#include "so_order_rules.h"
#include "../core/so_util.h"
#include "../core/so_errors.h"
#include "../core/so_domain.h"

static const char *twin_of(apr_pool_t *p, const char *cn)
{
    if (so_hostname_is_wildcard(cn)) {
        return cn + 2;
    }
    if (!strncmp(cn, "www.", 4)) {
        return cn + 4;
    }
    return apr_pstrcat(p, "www.", cn, NULL);
}

apr_status_t so_rules_names(apr_pool_t *p, const so_product_t *prod, const char *cn,
                            const apr_array_header_t *sans, const apr_array_header_t *host_names,
                            so_names_t **out, int *code, const char **why)
{
    so_names_t *n = apr_pcalloc(p, sizeof(*n));
    const apr_array_header_t *extra = host_names ? host_names : sans;
    int allow_wild = prod->is_wildcard || prod->is_wildcard_multidomain;
    const char *bad;
    int i;

    n->names = apr_array_make(p, 4, sizeof(const char *));
    *code = SO_E_NAMES;
    if (!cn || !*cn) {
        *why = "the CSR has no common name";
        return APR_EINVAL;
    }
    if ((bad = so_hostname_check(cn, allow_wild)) != NULL) {
        *code = SO_E_HOSTNAME;
        *why = apr_psprintf(p, "the common name %s: %s", cn, bad);
        return APR_EINVAL;
    }
    if (prod->is_wildcard && !prod->is_multidomain && !so_hostname_is_wildcard(cn)) {
        *why = apr_psprintf(p, "%s is a wildcard product: the common name must be a wildcard "
                               "(*.example.com), not %s", prod->name, cn);
        return APR_EINVAL;
    }
    APR_ARRAY_PUSH(n->names, const char *) = cn;
    if (!prod->is_multidomain) {
        const char *twin = twin_of(p, cn);
        if (host_names) {
            for (i = 0; i < host_names->nelts; i++) {
                const char *h = APR_ARRAY_IDX(host_names, i, const char *);
                if (strcmp(h, cn) && strcmp(h, twin)) {
                    *why = apr_psprintf(p, "host_names adds names only on multi-domain products; "
                                           "%s secures %s (and %s)", prod->name, cn, twin);
                    return APR_EINVAL;
                }
            }
        }
        for (i = 0; extra && i < extra->nelts; i++) {
            const char *h = APR_ARRAY_IDX(extra, i, const char *);
            if (!strcmp(h, cn)) {
                continue;
            }
            if (!strcmp(h, twin)) {
                if (!so_strs_has(n->names, twin)) {
                    APR_ARRAY_PUSH(n->names, const char *) = twin;
                }
                continue;
            }
            *why = apr_psprintf(p, "%s secures one name (%s, with %s): the CSR also asks for %s; "
                                   "use a multi-domain product", prod->name, cn, twin, h);
            return APR_EINVAL;
        }
    }
    else {
        for (i = 0; extra && i < extra->nelts; i++) {
            const char *h = APR_ARRAY_IDX(extra, i, const char *);
            if (!so_strs_has(n->names, h)) {
                APR_ARRAY_PUSH(n->names, const char *) = h;
            }
        }
    }
    for (i = 0; i < n->names->nelts; i++) {
        const char *h = APR_ARRAY_IDX(n->names, i, const char *);
        int wild = so_hostname_is_wildcard(h);
        if ((bad = so_hostname_check(h, 1)) != NULL) {
            *code = SO_E_HOSTNAME;
            *why = apr_psprintf(p, "%s: %s", h, bad);
            return APR_EINVAL;
        }
        if (wild && !allow_wild) {
            *why = apr_psprintf(p, "%s does not include wildcard names (%s)", prod->name, h);
            return APR_EINVAL;
        }
        if (wild && prod->is_multidomain && !prod->is_wildcard_multidomain) {
            *why = apr_psprintf(p, "%s does not include wildcard names (%s)", prod->name, h);
            return APR_EINVAL;
        }
        if (wild) {
            n->n_wild++;
        }
        else {
            n->n_plain++;
        }
    }
    if (prod->is_multidomain && n->names->nelts > prod->max_domains) {
        *why = apr_psprintf(p, "%d names are more than the %d of %s", n->names->nelts,
                            prod->max_domains, prod->name);
        return APR_EINVAL;
    }
    *out = n;
    return APR_SUCCESS;
}

apr_status_t so_rules_amounts(apr_pool_t *p, const so_product_t *prod, const so_names_t *names,
                              int domain_amount, int wildcard_amount, int *out_domain,
                              int *out_wild, const char **why)
{
    int included = prod->included_domains_count > 0 ? prod->included_domains_count : 1;
    int d, w;

    if (!prod->is_multidomain) {
        /* a single-name product pays for its name (and the free twin) */
        *out_domain = included;
        *out_wild = prod->is_wildcard ? 1 : 0;
        return APR_SUCCESS;
    }
    d = domain_amount >= 0 ? domain_amount : (names ? names->n_plain : included);
    if (d < included) {
        d = included;
    }
    w = wildcard_amount >= 0 ? wildcard_amount : (names ? names->n_wild : 0);
    if (w > 0 && !prod->is_wildcard_multidomain) {
        *why = apr_psprintf(p, "%s does not include wildcard names", prod->name);
        return APR_EINVAL;
    }
    if (d + w > prod->max_domains) {
        *why = apr_psprintf(p, "domain_amount and wildcard_domain_amount add up to %d, more than "
                               "the %d names of %s", d + w, prod->max_domains, prod->name);
        return APR_EINVAL;
    }
    if (names && names->n_plain > d) {
        *why = apr_psprintf(p, "the order has %d names but pays for %d (domain_amount)",
                            names->n_plain, d);
        return APR_EINVAL;
    }
    if (names && names->n_wild > w) {
        *why = apr_psprintf(p, "the order has %d wildcard names but pays for %d "
                               "(wildcard_domain_amount)", names->n_wild, w);
        return APR_EINVAL;
    }
    *out_domain = d;
    *out_wild = w;
    return APR_SUCCESS;
}

apr_int64_t so_rules_price(const so_product_t *prod, const so_price_t *pr, int domain_amount,
                           int wildcard_amount)
{
    int included = prod->included_domains_count > 0 ? prod->included_domains_count : 1;
    apr_int64_t total = pr->price;
    if (prod->is_multidomain) {
        if (domain_amount > included) {
            total += (apr_int64_t)(domain_amount - included) * pr->extra_domain;
        }
        total += (apr_int64_t)wildcard_amount * pr->extra_wildcard;
    }
    return total;
}

int so_rules_dcv_method_ok(const char *m)
{
    return m && (!strcmp(m, "email") || !strcmp(m, "dns") || !strcmp(m, "http") || !strcmp(m, "https")
                 || !strcmp(m, "dns-persist")   /* BR 3.2.2.4.22 (issue 12) */
                 || !strcmp(m, "dns-account")); /* BR 3.2.2.4.21 */
}

static const char *const pai_fields[] = {
    "approver_email", "autorenew",  "csr",           "domain_validation_methods",
    "enable_dns_automation", "host_names", "organization_handle", "signature_hash_algorithm",
    "software_id",    "start_provision", "technical_handle", "administrative_handle",
    "billing_handle", NULL};
static const char *const req_fields[] = {"domain_validation_methods", "autorenew", NULL};
static const char *const act_fields[] = {"autorenew", NULL};
static const char *const product_fields[] = {"product_id", "period", "domain_amount",
                                             "wildcard_domain_amount", NULL};

static int in_list(const char *const *list, const char *f)
{
    for (; *list; list++) {
        if (!strcmp(*list, f)) {
            return 1;
        }
    }
    return 0;
}

int so_rules_field_allowed(const char *status, const char *field)
{
    if (!strcmp(status, "PAI")) {
        return in_list(pai_fields, field);
    }
    if (!strcmp(status, "REQ")) {
        return in_list(req_fields, field);
    }
    if (!strcmp(status, "ACT")) {
        return in_list(act_fields, field);
    }
    return 0;
}

int so_rules_field_known(const char *field)
{
    return in_list(pai_fields, field) || in_list(product_fields, field);
}

int so_rules_field_product(const char *field)
{
    return in_list(product_fields, field);
}
