/* mod_sslorders: SSL orders, their host names, audit events, idempotency keys and
 * OTP tokens. Every function takes the team: another team's order is APR_ENOENT. */
#ifndef SO_STORE_ORDER_H
#define SO_STORE_ORDER_H

#include <apr_hash.h>
#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    const char *host_name;
    const char *method; /* "" (not chosen), email, dns, http, https */
    apr_int64_t validated_at; /* read with the order: its last validation (0: never) */
} so_order_host_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    apr_int64_t product_id;
    const char *status; /* PAI REQ ACT REJ FAI EXP */
    int period;
    int domain_amount;          /* non-wildcard names paid for */
    int wildcard_domain_amount; /* wildcard names paid for */
    const char *common_name;
    const char *csr;
    const char *organization_unit;
    const char *software;
    const char *organization_handle;
    const char *technical_handle;
    const char *administrative_handle;
    const char *billing_handle;
    const char *approver_email;
    int autorenew;
    const char *signature_hash_algorithm;
    int enable_dns_automation;
    const char *dcv_unique; /* the unique value of DCV files and records */
    const char *csr_md5;    /* of the CSR's DER, upper hex ("" without a CSR) */
    const char *csr_sha1;
    const char *csr_sha256;
    apr_int64_t price;      /* charged, minor units */
    const char *currency;
    apr_int64_t order_date, active_date, expiration_date, order_ends_at, reissue_at, cancelled_at;
    apr_int64_t updated_at;
    apr_int64_t created_by;
    int version;
    apr_int64_t folder_id; /* 0: none (see so_store_org.h) */
    /* from the product */
    const char *product_name;
    const char *brand_name;
    const char *validation_method;
    int product_wildcard; /* the product takes wildcard names (is_wildcard[_multidomain]) */
    apr_array_header_t *hosts; /* so_order_host_t, the common name first */
    /* the current certificate and its chain (PEM, "" until issued); filled by the
     * issuance feature */
    const char *certificate;
    const char *intermediate_certificate;
    const char *root_certificate;
    apr_hash_t *ext; /* data the order view's features attach (src/svc/so_order_view.c) */
} so_order_t;

/* Insert (inside the caller's transaction): sets o->id, writes the hosts. The
 * order lands in the team's default folder (see so_store_org.h). */
apr_status_t so_store_order_insert(so_db_t *db, apr_pool_t *p, so_order_t *o);
apr_status_t so_store_order_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, apr_int64_t id,
                                so_order_t **out);
/* Write every mutable field and the hosts when o->version is still the stored
 * one (then o->version is incremented); SO_EDBSTALE when another writer came first. */
apr_status_t so_store_order_update(so_db_t *db, apr_pool_t *p, so_order_t *o, int write_hosts);
/* The issuance's schedule of an order, written by the same statement as the order (one
 * write of the row instead of two): -1 keeps a column as it is. release: the claim of
 * that owner ends with the write (so_store_order_release's), NULL: claims stay as they are. */
typedef struct {
    int reissue_pending;
    apr_int64_t next_check_at;
    apr_int64_t next_reminder_at;
    const char *release;
} so_order_sched_t;
#define SO_ORDER_SCHED_KEEP {-1, -1, -1, NULL}
/* so_store_order_update, with the schedule's columns that s sets */
apr_status_t so_store_order_update_sched(so_db_t *db, apr_pool_t *p, so_order_t *o,
                                         int write_hosts, const so_order_sched_t *s);
/* The team of an order (staff tools act across teams); APR_ENOENT when unknown. */
apr_status_t so_store_order_team(so_db_t *db, apr_pool_t *p, apr_int64_t id, apr_int64_t *team_id);
/* Load the hosts of several orders at once (one query). */
apr_status_t so_store_orders_hosts(so_db_t *db, apr_pool_t *p, apr_array_header_t *orders);

/* The version of everything the team's order list shows (its orders, their names,
 * certificates, folders and tags, and the catalogue): a change by any writer increases
 * it, committed with the change (triggers of migrations 500 and 501). */
apr_status_t so_store_orders_version(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                     apr_int64_t *version);
/* PostgreSQL: fold the change log into the per-team totals, so that reading a version
 * stays one short index scan (the background job; one server at a time). *folded:
 * the changes moved. Every 1,000 changes a process moved, it vacuums the log (not in a
 * transaction). Nothing to do on SQLite. */
apr_status_t so_store_orders_versions_fold(so_db_t *db, apr_pool_t *p, int *folded);

/* The order list of the API: every field set is a condition, all of them ANDed; the
 * store turns them into SQL with bound parameters (integers bound as integers). Text
 * patterns are LIKE patterns made with so_like_pattern (escaped with '\\'). */
#define SO_ORDER_FILTER_NONE (-1) /* an unset date bound */
typedef struct {
    apr_int64_t team_id;
    apr_array_header_t *statuses;    /* const char*: o.status is one of them; NULL/empty: any */
    const char *cn_like;             /* o.common_name LIKE (names are stored in lower case) */
    const char *cn_from, *cn_before; /* o.common_name >= cn_from AND < cn_before (both or none),
                                      * compared as bytes */
    const char *contact_handle;      /* one of the order's four contact handles */
    int expiring;                    /* ACT and expiration_date in (expiring_after, expiring_until] */
    apr_int64_t expiring_after, expiring_until;
    const char *search_like;         /* common name, OU or a host name (lower case) LIKE */
    apr_int64_t search_id;           /* with search_like: or this order id (0: none) */
    const char *ou_like;             /* LOWER(organization_unit) LIKE */
    apr_int64_t product_id;          /* 0: any */
    apr_int64_t order_from, order_before;     /* order_date >= / < (SO_ORDER_FILTER_NONE: none) */
    apr_int64_t expires_from, expires_before; /* expiration_date >= / > 0 AND < */
    apr_int64_t folder_id;           /* 0: any */
    int folder_subtree;              /* with folder_id: the folder and everything below it */
    apr_array_header_t *tags;        /* const char*: tag names on the order or a certificate */
    int tags_all;                    /* with tags: every one of them (else any) */
    const char *order_by;            /* whitelisted columns and directions */
    int limit;
    int offset;
} so_order_filter_t;

/* A filter of the team with no condition (limit 100, offset 0, every bound unset). */
so_order_filter_t *so_order_filter_make(apr_pool_t *p, apr_int64_t team_id);
/* A text that differs for any two filters that select different rows or pages on this
 * connection's kind of database (the key of the page cache, without the version). */
const char *so_store_orders_list_key(so_db_t *db, apr_pool_t *p, const so_order_filter_t *f);
/* A page of orders, with their names, and the number of orders the filter selects. With
 * a batch open (so_db_batch_begin), the names and the count are queued: the orders' names
 * and *total are set when the batch has run. */
apr_status_t so_store_orders_list(so_db_t *db, apr_pool_t *p, const so_order_filter_t *f,
                                  apr_array_header_t **out, apr_int64_t *total);

/* Audit events (detail is a JSON text). */
apr_status_t so_store_order_event(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t order_id, apr_int64_t user_id, const char *actor,
                                  const char *kind, const char *detail, apr_int64_t now);
typedef struct {
    apr_int64_t id;
    const char *actor;
    const char *kind;
    const char *detail;
    apr_int64_t created_at;
} so_order_event_t;
apr_status_t so_store_order_events(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                   apr_int64_t order_id, int limit, int offset,
                                   apr_array_header_t **out, apr_int64_t *total);

/* Idempotency keys: claim (team, key) inside the caller's transaction.
 * APR_SUCCESS: claimed; SO_EDBUNIQUE: it exists (look it up after rolling back). */
apr_status_t so_store_idem_claim(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                                 const char *request_hash, apr_int64_t now);
apr_status_t so_store_idem_finish(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                                  int status, const char *response);
/* APR_ENOENT when unknown. */
apr_status_t so_store_idem_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id, const char *key,
                               const char **request_hash, int *status, const char **response);
apr_status_t so_store_idem_purge(so_db_t *db, apr_pool_t *p, apr_int64_t before);

/* OTP tokens for one order: the plain token is returned once, its hash stored. */
apr_status_t so_store_otp_create(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                 apr_int64_t order_id, apr_int64_t now, apr_int64_t ttl,
                                 const char **token, apr_int64_t *expires_at);
/* The order and team of a valid (unexpired) OTP token; APR_ENOENT otherwise. */
apr_status_t so_store_otp_lookup(so_db_t *db, apr_pool_t *p, const char *token, apr_int64_t now,
                                 apr_int64_t *team_id, apr_int64_t *order_id);

#endif
