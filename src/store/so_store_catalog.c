#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "so_store_catalog.h"
#include "so_migrations.h"
#include "so_stmts.h"
#include "../core/so_util.h"

const so_migration_t so_migrations_catalog[] = {
    {100, "product catalogue",
     "CREATE TABLE products (\n"
     "  id BIGINT PRIMARY KEY,\n"
     "  name TEXT NOT NULL,\n"
     "  brand_name TEXT NOT NULL DEFAULT '',\n"
     "  category TEXT NOT NULL,\n"
     "  sub_category TEXT NOT NULL DEFAULT '',\n"
     "  validation_method TEXT NOT NULL,\n"
     "  order_module TEXT NOT NULL DEFAULT 'sslorders',\n"
     "  description TEXT NOT NULL DEFAULT '',\n"
     "  delivery_time TEXT NOT NULL DEFAULT '',\n"
     "  encryption TEXT NOT NULL DEFAULT '',\n"
     "  free_refund_period TEXT NOT NULL DEFAULT '',\n"
     "  free_reissue_period TEXT NOT NULL DEFAULT '',\n"
     "  root TEXT NOT NULL DEFAULT '',\n"
     "  included_domains_count INTEGER NOT NULL,\n"
     "  number_of_domains INTEGER NOT NULL,\n"
     "  max_domains INTEGER NOT NULL,\n"
     "  max_period INTEGER NOT NULL,\n"
     "  is_wildcard INTEGER NOT NULL DEFAULT 0,\n"
     "  is_multidomain INTEGER NOT NULL DEFAULT 0,\n"
     "  is_wildcard_multidomain INTEGER NOT NULL DEFAULT 0,\n"
     "  is_ev INTEGER NOT NULL DEFAULT 0,\n"
     "  is_idn INTEGER NOT NULL DEFAULT 1,\n"
     "  base_currency TEXT NOT NULL DEFAULT 'USD',\n"
     "  warranty BIGINT NOT NULL DEFAULT 0,\n"
     "  supported_software TEXT NOT NULL DEFAULT '[]',\n"
     "  features TEXT NOT NULL DEFAULT '[]',\n"
     "  brand_seqno INTEGER NOT NULL DEFAULT 0,\n"
     "  product_seqno INTEGER NOT NULL DEFAULT 0,\n"
     "  active INTEGER NOT NULL DEFAULT 1);\n"
     "CREATE TABLE product_prices (\n"
     "  product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,\n"
     "  period INTEGER NOT NULL,\n"
     "  currency TEXT NOT NULL,\n"
     "  price BIGINT NOT NULL,\n"
     "  extra_domain BIGINT NOT NULL DEFAULT 0,\n"
     "  extra_wildcard BIGINT NOT NULL DEFAULT 0,\n"
     "  PRIMARY KEY (product_id, period, currency))"},
    {101, "seed catalogue",
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (1, 'Essential DV', 'SSLOrd"
     "ers', 'domain_validation', '', 'domain', 'sslorders', 'Domain validated certificate for on"
     "e host name (the www twin is included).', '10m', '256 bit', '30d', 'lifetime', 'SSLOrders "
     "Root CA', 1, 1, 1, 3, 0, 0, 0, 0, 1, 'USD', 1000000, '[{\"id\": \"linux\", \"title\": \"Linux\"}, "
     "{\"id\": \"windows\", \"title\": \"Windows\"}]', '[\"Domain validation\", \"Issued in minutes\", \"Secu"
     "res example.com and www.example.com\", \"Unlimited free reissues\", \"Site seal\"]', 1, 10, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 1, 'EUR', 2899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 1, 'USD', 3199, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 2, 'EUR', 5499, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 2, 'USD', 6099, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 3, 'EUR', 7799, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (1, 3, 'USD', 8599, 0, 0);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (2, 'Essential DV Wildcard'"
     ", 'SSLOrders', 'domain_validation', '', 'domain', 'sslorders', 'Domain validated wildcard "
     "certificate: every first-level subdomain of one domain.', '10m', '256 bit', '30d', 'lifeti"
     "me', 'SSLOrders Root CA', -1, 1, 1, 3, 1, 0, 0, 0, 1, 'USD', 1000000, '[{\"id\": \"linux\", \"t"
     "itle\": \"Linux\"}, {\"id\": \"windows\", \"title\": \"Windows\"}]', '[\"Domain validation\", \"Issued i"
     "n minutes\", \"Secures *.example.com and example.com\", \"Unlimited free reissues\", \"Site seal"
     "\"]', 1, 20, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 1, 'EUR', 9899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 1, 'USD', 10899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 2, 'EUR', 18799, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 2, 'USD', 20699, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 3, 'EUR', 26699, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (2, 3, 'USD', 29399, 0, 0);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (3, 'Essential DV Multi-Dom"
     "ain', 'SSLOrders', 'domain_validation', '', 'domain', 'sslorders', 'Domain validated multi"
     "-domain (SAN/UCC) certificate: three names included, up to 100.', '10m', '256 bit', '30d',"
     " 'lifetime', 'SSLOrders Root CA', 3, 3, 100, 3, 0, 1, 1, 0, 1, 'USD', 1000000, '[{\"id\": \"l"
     "inux\", \"title\": \"Linux\"}, {\"id\": \"windows\", \"title\": \"Windows\"}]', '[\"Domain validation\", "
     "\"Issued in minutes\", \"3 host names included, up to 100\", \"Wildcard names as add-ons\", \"Unl"
     "imited free reissues\", \"Site seal\"]', 1, 30, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 1, 'EUR', 5899, 1199, 8899);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 1, 'USD', 6499, 1299, 9799);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 2, 'EUR', 11199, 2299, 16899);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 2, 'USD', 12299, 2499, 18599);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 3, 'EUR', 15899, 3199, 23999);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (3, 3, 'USD', 17499, 3599, 26399);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (4, 'Business OV', 'SSLOrde"
     "rs', 'organization_validation', '', 'organization', 'sslorders', 'Organization validated c"
     "ertificate for one host name.', '2d', '256 bit', '30d', 'lifetime', 'SSLOrders Root CA', 1"
     ", 1, 1, 3, 0, 0, 0, 0, 1, 'USD', 25000000, '[{\"id\": \"linux\", \"title\": \"Linux\"}, {\"id\": \"wi"
     "ndows\", \"title\": \"Windows\"}]', '[\"Organization validation\", \"Company name in the certifica"
     "te\", \"Secures example.com and www.example.com\", \"Unlimited free reissues\", \"Site seal with"
     " company details\"]', 1, 40, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 1, 'EUR', 7899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 1, 'USD', 8699, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 2, 'EUR', 14999, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 2, 'USD', 16499, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 3, 'EUR', 21299, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (4, 3, 'USD', 23499, 0, 0);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (5, 'Business OV Wildcard',"
     " 'SSLOrders', 'organization_validation', '', 'organization', 'sslorders', 'Organization va"
     "lidated wildcard certificate.', '2d', '256 bit', '30d', 'lifetime', 'SSLOrders Root CA', -"
     "1, 1, 1, 3, 1, 0, 0, 0, 1, 'USD', 25000000, '[{\"id\": \"linux\", \"title\": \"Linux\"}, {\"id\": \"w"
     "indows\", \"title\": \"Windows\"}]', '[\"Organization validation\", \"Company name in the certific"
     "ate\", \"Secures *.example.com and example.com\", \"Unlimited free reissues\", \"Site seal with "
     "company details\"]', 1, 50, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 1, 'EUR', 24899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 1, 'USD', 27399, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 2, 'EUR', 47299, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 2, 'USD', 51999, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 3, 'EUR', 67199, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (5, 3, 'USD', 73999, 0, 0);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (6, 'Business OV Multi-Doma"
     "in', 'SSLOrders', 'organization_validation', '', 'organization', 'sslorders', 'Organizatio"
     "n validated multi-domain certificate: three names included, up to 100.', '2d', '256 bit', "
     "'30d', 'lifetime', 'SSLOrders Root CA', 3, 3, 100, 3, 0, 1, 1, 0, 1, 'USD', 25000000, '[{\""
     "id\": \"linux\", \"title\": \"Linux\"}, {\"id\": \"windows\", \"title\": \"Windows\"}]', '[\"Organization "
     "validation\", \"Company name in the certificate\", \"3 host names included, up to 100\", \"Wildc"
     "ard names as add-ons\", \"Unlimited free reissues\"]', 1, 60, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 1, 'EUR', 14899, 2399, 14899);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 1, 'USD', 16399, 2599, 16399);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 2, 'EUR', 28299, 4599, 28299);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 2, 'USD', 31099, 4999, 31099);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 3, 'EUR', 40199, 6499, 40199);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (6, 3, 'USD', 44299, 7099, 44299);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (7, 'Premium EV', 'SSLOrder"
     "s', 'extended_validation', '', 'extended', 'sslorders', 'Extended validation certificate f"
     "or one host name.', '5d', '256 bit', '30d', 'lifetime', 'SSLOrders Root CA', 1, 1, 1, 3, 0"
     ", 0, 0, 1, 1, 'USD', 100000000, '[{\"id\": \"linux\", \"title\": \"Linux\"}, {\"id\": \"windows\", \"ti"
     "tle\": \"Windows\"}]', '[\"Extended validation\", \"Strictest identity checks\", \"Secures example"
     ".com and www.example.com\", \"Unlimited free reissues\", \"Site seal with company details\"]', "
     "1, 70, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 1, 'EUR', 17899, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 1, 'USD', 19699, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 2, 'EUR', 33999, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 2, 'USD', 37399, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 3, 'EUR', 48299, 0, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (7, 3, 'USD', 53199, 0, 0);\n"
     "INSERT INTO products (id, name, brand_name, category, sub_category, validation_method, ord"
     "er_module, description, delivery_time, encryption, free_refund_period, free_reissue_period"
     ", root, included_domains_count, number_of_domains, max_domains, max_period, is_wildcard, i"
     "s_multidomain, is_wildcard_multidomain, is_ev, is_idn, base_currency, warranty, supported_"
     "software, features, brand_seqno, product_seqno, active) VALUES (8, 'Premium EV Multi-Domai"
     "n', 'SSLOrders', 'extended_validation', '', 'extended', 'sslorders', 'Extended validation "
     "multi-domain certificate: three names included, up to 50 (no wildcards).', '5d', '256 bit'"
     ", '30d', 'lifetime', 'SSLOrders Root CA', 3, 3, 50, 3, 0, 1, 0, 1, 1, 'USD', 100000000, '["
     "{\"id\": \"linux\", \"title\": \"Linux\"}, {\"id\": \"windows\", \"title\": \"Windows\"}]', '[\"Extended va"
     "lidation\", \"Strictest identity checks\", \"3 host names included, up to 50\", \"Unlimited free"
     " reissues\"]', 1, 80, 1);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 1, 'EUR', 29899, 4899, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 1, 'USD', 32899, 5399, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 2, 'EUR', 56799, 9299, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 2, 'USD', 62499, 10199, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 3, 'EUR', 80699, 13199, 0);\n"
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, extra_wildc"
     "ard) VALUES (8, 3, 'USD', 88799, 14599, 0)"},
    {0, NULL, NULL}};

/* a product; PRODUCT_COLS also names the columns of its insert */
#define PRODUCT_COLUMNS(X)                                                                    \
    X(PRODUCT_ID, "id") X(PRODUCT_NAME, ", name") X(PRODUCT_BRAND_NAME, ", brand_name")       \
    X(PRODUCT_CATEGORY, ", category") X(PRODUCT_SUB_CATEGORY, ", sub_category")               \
    X(PRODUCT_VALIDATION_METHOD, ", validation_method")                                       \
    X(PRODUCT_ORDER_MODULE, ", order_module") X(PRODUCT_DESCRIPTION, ", description")         \
    X(PRODUCT_DELIVERY_TIME, ", delivery_time") X(PRODUCT_ENCRYPTION, ", encryption")         \
    X(PRODUCT_FREE_REFUND_PERIOD, ", free_refund_period")                                     \
    X(PRODUCT_FREE_REISSUE_PERIOD, ", free_reissue_period") X(PRODUCT_ROOT, ", root")         \
    X(PRODUCT_INCLUDED_DOMAINS_COUNT, ", included_domains_count")                             \
    X(PRODUCT_NUMBER_OF_DOMAINS, ", number_of_domains")                                       \
    X(PRODUCT_MAX_DOMAINS, ", max_domains") X(PRODUCT_MAX_PERIOD, ", max_period")             \
    X(PRODUCT_IS_WILDCARD, ", is_wildcard") X(PRODUCT_IS_MULTIDOMAIN, ", is_multidomain")     \
    X(PRODUCT_IS_WILDCARD_MULTIDOMAIN, ", is_wildcard_multidomain")                           \
    X(PRODUCT_IS_EV, ", is_ev") X(PRODUCT_IS_IDN, ", is_idn")                                 \
    X(PRODUCT_BASE_CURRENCY, ", base_currency") X(PRODUCT_WARRANTY, ", warranty")             \
    X(PRODUCT_SUPPORTED_SOFTWARE, ", supported_software") X(PRODUCT_FEATURES, ", features")   \
    X(PRODUCT_BRAND_SEQNO, ", brand_seqno") X(PRODUCT_PRODUCT_SEQNO, ", product_seqno")       \
    X(PRODUCT_ACTIVE, ", active")
enum { PRODUCT_COLUMNS(SO_COL_POS) PRODUCT_NCOLS };
#define PRODUCT_COLS PRODUCT_COLUMNS(SO_COL_SQL)

/* a product's price (t: the table's alias and a dot, or "") */
#define PRICE_COLUMNS(X, t)                                                                   \
    X(PRICE_PERIOD, t "period") X(PRICE_CURRENCY, ", " t "currency")                          \
    X(PRICE_PRICE, ", " t "price") X(PRICE_EXTRA_DOMAIN, ", " t "extra_domain")               \
    X(PRICE_EXTRA_WILDCARD, ", " t "extra_wildcard")
enum { PRICE_COLUMNS(SO_COL_POS, "") PRICE_NCOLS };

/* a product with one of its prices: the price's columns from PRODUCT_PRICE on */
enum { PRODUCT_PRICE = PRODUCT_NCOLS, PRODUCT_PRICE_NCOLS = PRODUCT_PRICE + PRICE_NCOLS };

/* a price with its product's id: the price's columns from PRICES_PRICE on */
#define PRICES_COLUMNS(X) X(PRICES_PRODUCT_ID, "product_id")
enum { PRICES_COLUMNS(SO_COL_POS) PRICES_PRICE };
#define PRICES_COLS PRICES_COLUMNS(SO_COL_SQL) ", " PRICE_COLUMNS(SO_COL_SQL, "")

const so_stmt_def_t so_stmts_catalog[] = {
    /* the product and its prices in one round trip: one row per price (prices' columns
     * NULL for a product without any), the product's columns repeated */
    {"so_product_get",
     "SELECT " PRODUCT_COLS ", " PRICE_COLUMNS(SO_COL_SQL, "pp.")
     " FROM products LEFT JOIN product_prices pp ON pp.product_id = id "
     "WHERE id = %lld ORDER BY pp.period, pp.currency", PRODUCT_PRICE_NCOLS},
    {"so_product_count", "SELECT COUNT(*) FROM products WHERE active = 1", 1},
    {"so_product_upsert",
     "INSERT INTO products (" PRODUCT_COLS ") VALUES (%lld, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
     "%s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %lld, %s, %s, %d, %d, %d) "
     "ON CONFLICT (id) DO UPDATE SET name = excluded.name, brand_name = excluded.brand_name, "
     "category = excluded.category, sub_category = excluded.sub_category, "
     "validation_method = excluded.validation_method, order_module = excluded.order_module, "
     "description = excluded.description, delivery_time = excluded.delivery_time, "
     "encryption = excluded.encryption, free_refund_period = excluded.free_refund_period, "
     "free_reissue_period = excluded.free_reissue_period, root = excluded.root, "
     "included_domains_count = excluded.included_domains_count, "
     "number_of_domains = excluded.number_of_domains, max_domains = excluded.max_domains, "
     "max_period = excluded.max_period, is_wildcard = excluded.is_wildcard, "
     "is_multidomain = excluded.is_multidomain, "
     "is_wildcard_multidomain = excluded.is_wildcard_multidomain, is_ev = excluded.is_ev, "
     "is_idn = excluded.is_idn, base_currency = excluded.base_currency, "
     "warranty = excluded.warranty, supported_software = excluded.supported_software, "
     "features = excluded.features, brand_seqno = excluded.brand_seqno, "
     "product_seqno = excluded.product_seqno, active = excluded.active", 0},
    {"so_product_prices_clear", "DELETE FROM product_prices WHERE product_id = %lld", 0},
    {"so_product_price_insert",
     "INSERT INTO product_prices (product_id, period, currency, price, extra_domain, "
     "extra_wildcard) VALUES (%lld, %d, %s, %lld, %lld, %lld)", 0},
    {NULL, NULL, 0}};

#include "so_store.h"

static so_product_t *product_from_row(apr_pool_t *p, so_rows_t *r, int i)
{
    so_product_t *x = apr_pcalloc(p, sizeof(*x));
    x->id = so_cell_i64(r, i, PRODUCT_ID);
    x->name = so_cell(r, i, PRODUCT_NAME);
    x->brand_name = so_cell(r, i, PRODUCT_BRAND_NAME);
    x->category = so_cell(r, i, PRODUCT_CATEGORY);
    x->sub_category = so_cell(r, i, PRODUCT_SUB_CATEGORY);
    x->validation_method = so_cell(r, i, PRODUCT_VALIDATION_METHOD);
    x->order_module = so_cell(r, i, PRODUCT_ORDER_MODULE);
    x->description = so_cell(r, i, PRODUCT_DESCRIPTION);
    x->delivery_time = so_cell(r, i, PRODUCT_DELIVERY_TIME);
    x->encryption = so_cell(r, i, PRODUCT_ENCRYPTION);
    x->free_refund_period = so_cell(r, i, PRODUCT_FREE_REFUND_PERIOD);
    x->free_reissue_period = so_cell(r, i, PRODUCT_FREE_REISSUE_PERIOD);
    x->root = so_cell(r, i, PRODUCT_ROOT);
    x->included_domains_count = so_cell_int(r, i, PRODUCT_INCLUDED_DOMAINS_COUNT);
    x->number_of_domains = so_cell_int(r, i, PRODUCT_NUMBER_OF_DOMAINS);
    x->max_domains = so_cell_int(r, i, PRODUCT_MAX_DOMAINS);
    x->max_period = so_cell_int(r, i, PRODUCT_MAX_PERIOD);
    x->is_wildcard = so_cell_int(r, i, PRODUCT_IS_WILDCARD);
    x->is_multidomain = so_cell_int(r, i, PRODUCT_IS_MULTIDOMAIN);
    x->is_wildcard_multidomain = so_cell_int(r, i, PRODUCT_IS_WILDCARD_MULTIDOMAIN);
    x->is_ev = so_cell_int(r, i, PRODUCT_IS_EV);
    x->is_idn = so_cell_int(r, i, PRODUCT_IS_IDN);
    x->base_currency = so_cell(r, i, PRODUCT_BASE_CURRENCY);
    x->warranty = so_cell_i64(r, i, PRODUCT_WARRANTY);
    x->supported_software = so_cell(r, i, PRODUCT_SUPPORTED_SOFTWARE);
    x->features = so_cell(r, i, PRODUCT_FEATURES);
    x->brand_seqno = so_cell_int(r, i, PRODUCT_BRAND_SEQNO);
    x->product_seqno = so_cell_int(r, i, PRODUCT_PRODUCT_SEQNO);
    x->active = so_cell_int(r, i, PRODUCT_ACTIVE);
    x->prices = apr_array_make(p, 6, sizeof(so_price_t));
    return x;
}

/* a price from row i, its columns (PRICE_COLUMNS) from c on */
static void price_from_row(so_product_t *x, so_rows_t *r, int i, int c)
{
    so_price_t *pr = apr_array_push(x->prices);
    pr->period = so_cell_int(r, i, c + PRICE_PERIOD);
    pr->currency = so_cell(r, i, c + PRICE_CURRENCY);
    pr->price = so_cell_i64(r, i, c + PRICE_PRICE);
    pr->extra_domain = so_cell_i64(r, i, c + PRICE_EXTRA_DOMAIN);
    pr->extra_wildcard = so_cell_i64(r, i, c + PRICE_EXTRA_WILDCARD);
}

apr_status_t so_store_product_get(so_db_t *db, apr_pool_t *p, apr_int64_t id, so_product_t **out)
{
    so_rows_t *rows;
    so_product_t *x;
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_product_get", &rows, SO_A(id))) != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_ENOENT;
    }
    x = product_from_row(p, rows, 0);
    for (i = 0; i < rows->nrows; i++) {
        if (so_cell(rows, i, PRODUCT_PRICE + PRICE_PERIOD)) { /* NULL: the product has no price */
            price_from_row(x, rows, i, PRODUCT_PRICE);
        }
    }
    *out = x;
    return APR_SUCCESS;
}

apr_status_t so_store_products_list(so_db_t *db, apr_pool_t *p, const char *order_by, int limit,
                                    int offset, apr_array_header_t **out, apr_int64_t *total)
{
    so_rows_t *rows, *prices, *count;
    apr_hash_t *by_id = apr_hash_make(p);
    const char *sql;
    apr_status_t rv;
    int i;

    if ((rv = so_db_select(db, p, "so_product_count", &count, SO_A0)) != APR_SUCCESS) {
        return rv;
    }
    *total = so_cell_i64(count, 0, 0);
    /* order_by holds whitelisted column names and directions only (see the API) */
    sql = apr_pstrcat(p, "SELECT " PRODUCT_COLS " FROM products WHERE active = 1 ORDER BY ",
                      order_by && *order_by ? order_by : "product_seqno ASC", ", id ASC",
                      " LIMIT %d OFFSET %d", NULL);
    rv = so_db_select_sql(db, p, sql, &rows, SO_A(limit, offset));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(p, rows->nrows ? rows->nrows : 1, sizeof(so_product_t *));
    for (i = 0; i < rows->nrows; i++) {
        so_product_t *x = product_from_row(p, rows, i);
        APR_ARRAY_PUSH(*out, so_product_t *) = x;
        apr_hash_set(by_id, apr_pmemdup(p, &x->id, sizeof(x->id)), sizeof(x->id), x);
    }
    if (rows->nrows == 0) {
        return APR_SUCCESS;
    }
    /* the catalogue is small: one query for every price */
    rv = so_db_select_sql(db, p,
                          "SELECT " PRICES_COLS
                          " FROM product_prices ORDER BY product_id, period, currency",
                          &prices, SO_A0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < prices->nrows; i++) {
        apr_int64_t pid = so_cell_i64(prices, i, PRICES_PRODUCT_ID);
        so_product_t *x = apr_hash_get(by_id, &pid, sizeof(pid));
        if (x) {
            price_from_row(x, prices, i, PRICES_PRICE);
        }
    }
    return APR_SUCCESS;
}

const so_price_t *so_product_price(const so_product_t *prod, int period, const char *currency)
{
    int i;
    for (i = 0; i < prod->prices->nelts; i++) {
        const so_price_t *pr = &APR_ARRAY_IDX(prod->prices, i, so_price_t);
        if (pr->period == period && !strcmp(pr->currency, currency)) {
            return pr;
        }
    }
    return NULL;
}

/* ---- import / export ------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k, const char *def)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : def;
}

static int jint(json_t *o, const char *k, int def, int *ok)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        return def;
    }
    if (!json_is_integer(v)) {
        *ok = 0;
        return def;
    }
    return (int)json_integer_value(v);
}

static int jbool(json_t *o, const char *k, int def, int *ok)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        return def;
    }
    if (!json_is_boolean(v)) {
        *ok = 0;
        return def;
    }
    return json_is_true(v);
}

static apr_status_t jmoney(json_t *o, const char *k, apr_int64_t *out)
{
    json_t *v = json_object_get(o, k);
    *out = 0;
    if (!v) {
        return APR_SUCCESS;
    }
    if (!json_is_string(v) || so_money_parse(json_string_value(v), out) != APR_SUCCESS || *out < 0) {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static const char *json_text(apr_pool_t *p, json_t *v, const char *def)
{
    char *s;
    const char *out;
    if (!v) {
        return def;
    }
    s = json_dumps(v, JSON_COMPACT);
    out = apr_pstrdup(p, s ? s : def);
    free(s);
    return out;
}

static apr_status_t import_one(so_db_t *db, apr_pool_t *p, json_t *o, const char **why)
{
    int ok = 1, i;
    apr_int64_t id, warranty;
    json_t *prices, *sw = json_object_get(o, "supported_software"),
                    *features = json_object_get(o, "features");
    const char *name = jstr(o, "name", NULL), *cat = jstr(o, "category", NULL),
               *vm = jstr(o, "validation_method", NULL), *cur = jstr(o, "base_currency", "USD");
    int incl, num, maxd, maxp;
    apr_status_t rv;

    if (!json_is_integer(json_object_get(o, "id")) || (id = json_integer_value(json_object_get(o, "id"))) < 1
        || id > 0x7fffffff) {
        *why = "every product needs an integer id (1 to 2147483647)";
        return APR_EINVAL;
    }
    if (!name || !*name || strlen(name) > 200 || !cat || !vm
        || (strcmp(vm, "domain") && strcmp(vm, "organization") && strcmp(vm, "extended"))) {
        *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": name, category and validation_method "
                               "(domain, organization or extended) are required", id);
        return APR_EINVAL;
    }
    incl = jint(o, "included_domains_count", 1, &ok);
    num = jint(o, "number_of_domains", incl < 1 ? 1 : incl, &ok);
    maxd = jint(o, "max_domains", 1, &ok);
    maxp = jint(o, "max_period", 1, &ok);
    if (!ok || maxd < 1 || maxd > 1000 || maxp < 1 || maxp > 10 || strlen(cur) != 3
        || jmoney(o, "warranty", &warranty) != APR_SUCCESS
        || (sw && !json_is_array(sw)) || (features && !json_is_array(features))) {
        *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": a field has a wrong type or value "
                               "(counts are integers, max_domains 1-1000, max_period 1-10, money "
                               "as strings such as \"12.50\")", id);
        return APR_EINVAL;
    }
    rv = so_db_exec(
        db, p, "so_product_upsert", NULL,
        SO_A(id, name, jstr(o, "brand_name", ""), cat, jstr(o, "sub_category", ""), vm,
             jstr(o, "order_module", "sslorders"), jstr(o, "description", ""),
             jstr(o, "delivery_time", ""), jstr(o, "encryption", ""),
             jstr(o, "free_refund_period", ""), jstr(o, "free_reissue_period", ""),
             jstr(o, "root", ""), incl, num, maxd,
             maxp, jbool(o, "is_wildcard_supported", 0, &ok),
             jbool(o, "is_multidomain", maxd > 1, &ok),
             jbool(o, "is_wildcard_multidomain_supported", 0, &ok),
             jbool(o, "is_extended_validation_supported", 0, &ok),
             jbool(o, "is_idn_supported", 1, &ok), cur, warranty,
             json_text(p, sw, "[]"), json_text(p, features, "[]"),
             jint(o, "brand_seqno", 0, &ok), jint(o, "product_seqno", 0, &ok),
             jbool(o, "active", 1, &ok)));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!ok) {
        *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": a flag is not true/false", id);
        return APR_EINVAL;
    }
    prices = json_object_get(o, "prices");
    if (!json_is_array(prices) || json_array_size(prices) == 0) {
        *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": prices (a non-empty array) are required", id);
        return APR_EINVAL;
    }
    if ((rv = so_db_exec(db, p, "so_product_prices_clear", NULL, SO_A(id))) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < (int)json_array_size(prices); i++) {
        json_t *pr = json_array_get(prices, (size_t)i);
        apr_int64_t base, xd, xw;
        int period = jint(pr, "period", 0, &ok);
        const char *pc = jstr(pr, "currency", NULL);
        if (!json_is_object(pr) || !ok || period < 1 || period > maxp || !pc || strlen(pc) != 3
            || !json_object_get(pr, "price") || jmoney(pr, "price", &base) != APR_SUCCESS
            || jmoney(pr, "extra_domain", &xd) != APR_SUCCESS
            || jmoney(pr, "extra_wildcard", &xw) != APR_SUCCESS) {
            *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": price %d needs period (1 to "
                                   "max_period), currency and price (money as a string)", id, i + 1);
            return APR_EINVAL;
        }
        rv = so_db_exec(db, p, "so_product_price_insert", NULL,
                        SO_A(id, period, pc, base, xd, xw));
        if (rv == SO_EDBUNIQUE) {
            *why = apr_psprintf(p, "product %" APR_INT64_T_FMT ": period %d in %s is priced twice",
                                id, period, pc);
            return APR_EINVAL;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_store_catalog_import(so_db_t *db, apr_pool_t *p, json_t *doc, int *count,
                                     const char **why)
{
    json_t *list = json_is_object(doc) ? json_object_get(doc, "products") : NULL;
    apr_status_t rv;
    size_t i;

    *why = NULL;
    *count = 0;
    if (!json_is_array(list)) {
        *why = "the file must be a JSON object {\"products\": [...]}";
        return APR_EINVAL;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < json_array_size(list) && rv == APR_SUCCESS; i++) {
        json_t *o = json_array_get(list, i);
        if (!json_is_object(o)) {
            *why = "every product must be a JSON object";
            rv = APR_EINVAL;
            break;
        }
        rv = import_one(db, p, o, why);
    }
    rv = so_db_end(db, rv);
    if (rv == APR_SUCCESS) {
        *count = (int)json_array_size(list);
    }
    return rv;
}

static json_t *money_json(apr_pool_t *p, apr_int64_t v)
{
    return json_string(so_money_fmt(p, v));
}

apr_status_t so_store_catalog_export(so_db_t *db, apr_pool_t *p, json_t **doc)
{
    so_rows_t *rows;
    json_t *list = json_array();
    apr_status_t rv;
    int i, j;

    rv = so_db_select_sql(db, p, "SELECT id FROM products ORDER BY id", &rows, SO_A0);
    for (i = 0; rv == APR_SUCCESS && i < rows->nrows; i++) {
        so_product_t *x;
        json_t *o, *prices = json_array();
        if ((rv = so_store_product_get(db, p, so_cell_i64(rows, i, 0), &x)) != APR_SUCCESS) {
            json_decref(prices);
            break;
        }
        for (j = 0; j < x->prices->nelts; j++) {
            so_price_t *pr = &APR_ARRAY_IDX(x->prices, j, so_price_t);
            json_array_append_new(prices, json_pack("{s:i,s:s,s:o,s:o,s:o}", "period", pr->period,
                                                    "currency", pr->currency, "price",
                                                    money_json(p, pr->price), "extra_domain",
                                                    money_json(p, pr->extra_domain), "extra_wildcard",
                                                    money_json(p, pr->extra_wildcard)));
        }
        o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,"
                      "s:b,s:b,s:b,s:b,s:b,s:s,s:o,s:o,s:o,s:i,s:i,s:b,s:o}",
                      "id", (json_int_t)x->id, "name", x->name, "brand_name", x->brand_name,
                      "category", x->category, "sub_category", x->sub_category,
                      "validation_method", x->validation_method, "order_module", x->order_module,
                      "description", x->description, "delivery_time", x->delivery_time,
                      "encryption", x->encryption, "free_refund_period", x->free_refund_period,
                      "free_reissue_period", x->free_reissue_period, "root", x->root,
                      "included_domains_count", x->included_domains_count, "number_of_domains",
                      x->number_of_domains, "max_domains", x->max_domains, "max_period",
                      x->max_period, "is_wildcard_supported", x->is_wildcard, "is_multidomain",
                      x->is_multidomain, "is_wildcard_multidomain_supported",
                      x->is_wildcard_multidomain, "is_extended_validation_supported", x->is_ev,
                      "is_idn_supported", x->is_idn, "base_currency", x->base_currency, "warranty",
                      money_json(p, x->warranty), "supported_software",
                      json_loads(x->supported_software, 0, NULL) ?: json_array(), "features",
                      json_loads(x->features, 0, NULL) ?: json_array(), "brand_seqno",
                      x->brand_seqno, "product_seqno", x->product_seqno, "active", x->active,
                      "prices", prices);
        json_array_append_new(list, o);
    }
    if (rv != APR_SUCCESS) {
        json_decref(list);
        return rv;
    }
    *doc = json_pack("{s:o}", "products", list);
    return APR_SUCCESS;
}
