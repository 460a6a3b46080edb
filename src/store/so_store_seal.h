/* mod_sslorders: what site seals and validation documents keep.
 *
 * seals: one per order (created when the order is issued, or when its owner first
 * looks at it), a random public id, the customer's switches.
 * documents: uploaded validation documents of an order (metadata) and their bytes
 * (document_data, base64 text so that both drivers store them the same way), a
 * staff decision, and whether the customer publishes one on the seal report. */
#ifndef SO_STORE_SEAL_H
#define SO_STORE_SEAL_H

#include <apr_tables.h>

#include "so_db.h"

typedef struct {
    apr_int64_t order_id;
    apr_int64_t team_id;
    const char *seal_id;
    int enabled;
    int artifacts;
    apr_int64_t created_at;
    apr_int64_t updated_at;
} so_seal_row_t;

/* Everything the public seal shows, read in one query by seal id. */
typedef struct {
    so_seal_row_t seal;
    const char *common_name;
    const char *status;            /* the order's status */
    const char *validation_method; /* domain, organization, extended */
    int has_cert;                  /* a current certificate exists */
    const char *names;             /* the certificate's names, space separated */
    const char *cert_pem;          /* to name its issuer */
    apr_int64_t not_before;
    apr_int64_t not_after;
    apr_int64_t revoked_at;
    const char *org_name;          /* the organization handle's company (OV/EV) */
    const char *org_city;
    const char *org_state;
    const char *org_country;
} so_seal_facts_t;

typedef struct {
    apr_int64_t id;
    apr_int64_t team_id;
    apr_int64_t order_id;
    const char *name;      /* sanitised file name */
    const char *type;      /* pdf, png, ... (so_doctype) */
    apr_int64_t size;
    const char *sha256;    /* hex of the bytes */
    const char *status;    /* pending, accepted, rejected */
    const char *reason;    /* of a rejection */
    int published;         /* shown on the seal report */
    const char *uploaded_by;
    apr_int64_t created_at;
    apr_int64_t decided_at;
    const char *decided_by;
    const char *team_slug; /* staff lists only */
    const char *common_name; /* staff lists only */
} so_doc_t;

/* The order's seal, created with a new random id when it has none (two racing
 * callers get the same one). so_store_seal_add: the same without reading it, in the
 * caller's transaction (so_db_exec_later: with its next statement on PostgreSQL). */
apr_status_t so_store_seal_add(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                               apr_int64_t order_id, apr_int64_t now);
apr_status_t so_store_seal_ensure(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                  apr_int64_t order_id, apr_int64_t now, so_seal_row_t **out);
apr_status_t so_store_seal_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, int enabled,
                               int artifacts, apr_int64_t now);
/* APR_ENOENT for an unknown seal id. */
apr_status_t so_store_seal_facts(so_db_t *db, apr_pool_t *p, const char *seal_id,
                                 so_seal_facts_t **out);

/* Documents. insert: the bytes as base64; sets d->id. */
apr_status_t so_store_doc_insert(so_db_t *db, apr_pool_t *p, so_doc_t *d, const char *data_b64);
apr_status_t so_store_doc_count(so_db_t *db, apr_pool_t *p, apr_int64_t order_id, int *n);
apr_status_t so_store_docs_of_order(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                                    apr_int64_t order_id, apr_array_header_t **out);
/* Accepted and published documents of an order (the seal report). */
apr_status_t so_store_docs_published(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                     apr_array_header_t **out);
/* team_id < 0: any team (staff). APR_ENOENT when missing. */
apr_status_t so_store_doc_get(so_db_t *db, apr_pool_t *p, apr_int64_t team_id,
                              apr_int64_t order_id, apr_int64_t id, so_doc_t **out);
apr_status_t so_store_doc_data(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char **b64);
/* Delete a pending document: APR_EBUSY when it is not pending (any more). */
apr_status_t so_store_doc_delete(so_db_t *db, apr_pool_t *p, apr_int64_t id);
/* Publish or withdraw an accepted document: APR_EBUSY when it is not accepted. */
apr_status_t so_store_doc_publish(so_db_t *db, apr_pool_t *p, apr_int64_t id, int published);
/* Accept or reject a pending document: APR_EBUSY when it was decided already. */
apr_status_t so_store_doc_decide(so_db_t *db, apr_pool_t *p, apr_int64_t id, const char *status,
                                 const char *reason, const char *by, apr_int64_t now);
/* Staff: documents of every team by status, oldest first. */
apr_status_t so_store_docs_by_status(so_db_t *db, apr_pool_t *p, const char *status, int limit,
                                     apr_array_header_t **out);
/* The accepted documents an organization validation cites ("3,7"). */
apr_status_t so_store_org_documents_set(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char *ids);
apr_status_t so_store_org_documents_get(so_db_t *db, apr_pool_t *p, apr_int64_t order_id,
                                        const char **ids);

#endif
