/* mod_sslorders: the ACME server's one door into orders, validation and issuance.
 *
 * Every call the ACME protocol makes into the order system (so_iss_*, the order store,
 * charging) is in so_acme_issue.c. Issuance and revocation call the services
 * (src/svc) with a context of their own (so_svc_ctx_make, SO_ACTOR_ACME): events name
 * "system". New orders and their price still go through the API's order functions with
 * a request built like the background job's (method "JOB"). No httpd types. */
#ifndef SO_ACME_ISSUE_H
#define SO_ACME_ISSUE_H

#include "../core/so_csr.h"
#include "../api/so_api.h"
#include "../core/so_dcv.h"

/* What an SSL order lets an ACME client issue for. */
typedef struct {
    apr_int64_t order_id;
    const char *status;        /* PAI REQ ACT ... */
    apr_array_header_t *names; /* const char*: the order's names now */
    apr_hash_t *validated;     /* name -> apr_int64_t* validated_at (0: never) */
    int domain_amount, wildcard_amount;
    int allow_wildcard;        /* the product sells wildcard names */
    apr_int64_t ends_at;       /* order_ends_at (0: not issued yet) */
} so_acme_bound_t;

/* Load the team's SSL order: APR_ENOENT when it is not the team's. */
/* Deliver the outbox rows (mail, message command) that this request's issuance calls
 * committed, as the API does after each request. */
void so_acme_iss_flush(so_req_t *req);

apr_status_t so_acme_iss_bound(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                               so_acme_bound_t **out);
/* The same on a database (no request: EAB creation by the API and the CLI). */
apr_status_t so_acme_iss_bound_db(apr_pool_t *p, so_db_t *db, apr_int64_t team_id,
                                  apr_int64_t order_id, so_acme_bound_t **out);

/* An ACME challenge validated name: record it on the SSL order (when the name is one of
 * its names) so that the portal shows it and a reissue reuses it. Best effort. */
void so_acme_iss_validated(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                           const char *name, apr_int64_t at);

/* Issue the CSR for names (each validated at validated[i] by the ACME challenge
 * methods[i], "http-01" ..., or NULL/"" for a reused validation) as the order's (first or
 * re-) issuance, with the CAA check (account_url: RFC 8657 accounturi) first; max_days > 0
 * caps the validity (profiles). The SSL order is claimed from writing the CSR to storing
 * the certificate, so that concurrent ACME orders of one SSL order take turns. after: the
 * order's newest certificate id when the ACME order was finalized; a certificate newer
 * than it for these names and the CSR's key is the answer (an earlier try or the
 * background job issued it), so a retry never issues twice.
 * *cert_id: the certificate; 0 with APR_SUCCESS when not issued yet (another worker holds
 * the order, a CAA lookup failed, the order kept changing): try again later.
 * APR_EINVAL with *why when the order cannot be issued; SO_ECAA when CAA refuses. */
apr_status_t so_acme_iss_issue(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                               const char *account_url, const char *csr_pem,
                               const apr_array_header_t *names, const apr_int64_t *validated,
                               const char *const *methods, int max_days, apr_int64_t after,
                               apr_int64_t *cert_id, const char **why);

/* The order's newest certificate id (0: none). */
apr_status_t so_acme_iss_last(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                              apr_int64_t *cert_id);

/* Revoke certificate cert_id of the order (RFC 5280 reason). APR_EEXIST: revoked already. */
apr_status_t so_acme_iss_revoke(so_req_t *req, apr_int64_t team_id, apr_int64_t order_id,
                                apr_int64_t cert_id, int reason);

/* The DCV options of the configuration (SSLOrdersDCVConnectTo, SSLOrdersDCVNameserver,
 * SSLOrdersDNSSEC, SSLOrdersDNSTrustAnchor) for the ACME challenges' probes. */
/* BR 3.2.2.9: the remote perspectives repeat the ACME challenge of name (without "*.") of
 * the order (so_svc_mpic_acme). APR_SUCCESS, or SO_EMPIC and *why. */
apr_status_t so_acme_iss_mpic(so_req_t *req, apr_int64_t order_id,
                              const char *name, const char *type, const char *token,
                              const char *keyauth, const char *account_url, const char **why);
void so_acme_iss_dcv_opts(so_req_t *req, so_dcv_opts_t *opts);
/* Whether the CSR's key is blocked (so_svc_key_blocked): APR_EINVAL with *why when it is. */
apr_status_t so_acme_iss_key_blocked(so_req_t *req, const so_csr_t *csr, const char **why);

/* dns-persist-01 (BR 3.2.2.4.22): the CA identities a record may name (issuer-domain-names)
 * and the account URIs it may name: the ACME account's URL and the team's URI of the API
 * (so_svc_persist_account), so that one record serves both. */
void so_acme_iss_persist_ids(so_req_t *req, apr_int64_t team_id, const char *account_url,
                             apr_array_header_t **identities, apr_array_header_t **accounturis);

/* Check name's _validation-persist TXT record with these; as so_persist_check_any. */
/* MPIC of the dns-persist-01 challenge of name (so_svc_mpic_persist) with the account URIs
 * so_acme_iss_persist_ids gives. */
apr_status_t so_acme_iss_mpic_persist(so_req_t *req, apr_int64_t order_id, apr_int64_t team_id,
                                      const char *account_url, const char *name,
                                      const char **why);
apr_status_t so_acme_iss_persist_check(so_req_t *req, apr_int64_t team_id, const char *account_url,
                                       const char *name, const so_dcv_opts_t *opts,
                                       const char **why);

/* How long validations are reused (the BR period), seconds. */
apr_int64_t so_acme_iss_reuse_seconds(apr_int64_t now);

#endif

/* ---- EAB bound to a product ---------------------------------------------------------- */

/* Whether names fit a new order of the product (name limits, wildcard rules) and the
 * team's balance covers its price. APR_EINVAL: the names do not fit (*why);
 * SO_ENOFUNDS: the balance is short (*why says both amounts). */
apr_status_t so_acme_iss_product_check(so_req_t *req, apr_int64_t team_id,
                                       apr_int64_t product_id, int period,
                                       const apr_array_header_t *names, const char **why);

/* Create the team's paid order of the product for the CSR and names, charged from the
 * balance like a checkout, and bind it to the processing ACME order acme_order_id (one
 * transaction); it is PAI and its ACME issuance follows. Same errors as above, and
 * APR_EBUSY (nothing written) when the ACME order has its SSL order already. */
apr_status_t so_acme_iss_product_order(so_req_t *req, apr_int64_t acme_order_id,
                                       apr_int64_t team_id, apr_int64_t user_id,
                                       apr_int64_t product_id, int period, const char *csr_pem,
                                       const apr_array_header_t *names, apr_int64_t *order_id,
                                       const char **why);
