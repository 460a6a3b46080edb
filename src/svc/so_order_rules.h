/* mod_sslorders: the rules of an order that do not need the database: which names a
 * product covers, how many are paid for, the price, DCV methods, and which fields
 * each status lets a customer change (seed 004). */
#ifndef SO_ORDER_RULES_H
#define SO_ORDER_RULES_H

#include <apr_tables.h>

#include "../store/so_store_catalog.h"

typedef struct {
    apr_array_header_t *names; /* const char*: the common name first */
    int n_plain;               /* names without a wildcard */
    int n_wild;                /* wildcard names */
} so_names_t;

/* The names of an order for a product from the CSR's common name and SANs and the
 * request's host_names (NULL when absent):
 *  - multi-domain products: the common name plus host_names (when given) or the
 *    CSR's SANs; host_names never replaces the common name;
 *  - single-name products: the common name plus its free twin (www.example.com for
 *    example.com and back; example.com for *.example.com) when the CSR or
 *    host_names asks for it; host_names may only repeat those;
 *  - every name is a valid host name; wildcards only on wildcard products (a
 *    single wildcard product needs a wildcard common name); at most max_domains.
 * On failure *why explains and *code is the API error code. */
apr_status_t so_rules_names(apr_pool_t *p, const so_product_t *prod, const char *cn,
                            const apr_array_header_t *sans, const apr_array_header_t *host_names,
                            so_names_t **out, int *code, const char **why);

/* What an order pays for: domain_amount / wildcard_amount as requested (-1 when
 * absent) checked against the product and the names (NULL before a CSR is known).
 * Multi-domain products only; other products get their included names. */
apr_status_t so_rules_amounts(apr_pool_t *p, const so_product_t *prod, const so_names_t *names,
                              int domain_amount, int wildcard_amount, int *out_domain,
                              int *out_wild, const char **why);

/* The price: base + extra names beyond the included ones + wildcard names. */
apr_int64_t so_rules_price(const so_product_t *prod, const so_price_t *pr, int domain_amount,
                           int wildcard_amount);

/* A DCV method name: email, dns, http, https. */
int so_rules_dcv_method_ok(const char *method);

/* May a customer change field in status? Fields tied to the product never. */
int so_rules_field_allowed(const char *status, const char *field);
/* Is field one of the UpdateOrder fields (or tied to the product)? */
int so_rules_field_known(const char *field);
int so_rules_field_product(const char *field);

#endif
