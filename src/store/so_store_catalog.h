/* mod_sslorders: the product catalogue (global, managed by staff). Prices are per
 * period and currency, in integer minor units. */
#ifndef SO_STORE_CATALOG_H
#define SO_STORE_CATALOG_H

#include <apr_tables.h>
#include <jansson.h>

#include "so_db.h"

typedef struct {
    int period;             /* years */
    const char *currency;   /* ISO 4217 */
    apr_int64_t price;      /* base price, minor units */
    apr_int64_t extra_domain;
    apr_int64_t extra_wildcard;
} so_price_t;

typedef struct {
    apr_int64_t id;
    const char *name;
    const char *brand_name;
    const char *category;          /* domain_validation, organization_validation, extended_validation */
    const char *sub_category;
    const char *validation_method; /* domain, organization, extended */
    const char *order_module;
    const char *description;
    const char *delivery_time;
    const char *encryption;
    const char *free_refund_period;
    const char *free_reissue_period;
    const char *root;
    int included_domains_count;    /* -1 for wildcard products, as Openprovider does */
    int number_of_domains;
    int max_domains;
    int max_period;
    int is_wildcard;               /* wildcard names allowed (single wildcard products) */
    int is_multidomain;
    int is_wildcard_multidomain;   /* wildcard SANs on a multi-domain product */
    int is_ev;
    int is_idn;
    const char *base_currency;     /* currency of the list price ("product" price) */
    apr_int64_t warranty;          /* minor units of base_currency */
    const char *supported_software; /* JSON array of {id, title} */
    const char *features;          /* JSON array of strings (portal) */
    int brand_seqno;
    int product_seqno;
    int active;
    apr_array_header_t *prices;    /* so_price_t */
} so_product_t;

/* One product with its prices; APR_ENOENT when unknown. */
apr_status_t so_store_product_get(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_product_t **out);
/* Active products sorted by order_by ("name asc, brand_seqno desc": whitelisted
 * columns only), with prices; *total counts them all. */
apr_status_t so_store_products_list(so_db_t *db, apr_pool_t *p, const char *order_by, int limit,
                                    int offset, apr_array_header_t **out, apr_int64_t *total);
/* The price row of a product for a period and currency, or NULL. */
const so_price_t *so_product_price(const so_product_t *prod, int period, const char *currency);

/* Import a catalogue ({"products": [...]}, the format of export): products are
 * upserted by id and their prices replaced; idempotent. Runs in one transaction.
 * *why names the first invalid product. */
apr_status_t so_store_catalog_import(so_db_t *db, apr_pool_t *p, json_t *doc, int *count,
                                     const char **why);
/* Export the whole catalogue (active or not) in the import format. */
apr_status_t so_store_catalog_export(so_db_t *db, apr_pool_t *p, json_t **doc);

#endif
