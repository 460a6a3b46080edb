/* mod_sslorders: the ACME server's parts (internal to src/acme): the request context, the
 * answers and the JWS check (so_acme.c), orders, authorizations and challenges
 * (so_acme_order.c), certificates: download, revocation, renewal information
 * (so_acme_cert.c). */
#ifndef SO_ACME_INT_H
#define SO_ACME_INT_H
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "so_acme.h"
#include "so_acme_body.h"
#include "so_acme_issue.h"
#include "../core/so_caa.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_jws.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_acme.h"
#include "../store/so_store_cert.h"

#define NONCE_TTL 3600
#define ORDER_TTL (7 * 86400)
#define SHORTLIVED_DAYS 7
#define ERR_NS "urn:ietf:params:acme:error:"
#define ARI_RETRY "21600"

typedef struct {
    so_req_t *req;
    apr_pool_t *p;
    const char *base;
    const char *url; /* this request's absolute URL */
    so_db_t *db;
    so_jws_t *jws;
    json_t *payload; /* NULL for POST-as-GET */
    so_jwk_t *key;
    so_acme_account_t *acct;
    const char *next_nonce; /* issued by so_acme_authenticate() with the one it consumed */
} so_acme_ctx_t;


enum { SO_ACME_KEY_KID = 1, SO_ACME_KEY_JWK = 2, SO_ACME_KEY_EITHER = 3 };

const char *so_acme_url(so_acme_ctx_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void so_acme_send_json(so_acme_ctx_t *a, int status, json_t *j);
apr_status_t so_acme_problem(so_acme_ctx_t *a, int status, const char *type, const char *detail);
apr_status_t so_acme_db_problem(so_acme_ctx_t *a, apr_status_t rv);
const char *so_acme_rfc3339(apr_pool_t *p, apr_int64_t t);
apr_status_t so_acme_authenticate(so_acme_ctx_t *a, int mode);
apr_status_t so_acme_rate_limit(so_acme_ctx_t *a, const char *key, int limit, const char *what);
apr_status_t so_acme_account_eab(so_acme_ctx_t *a, so_acme_eab_t **eab);
/* The account's EAB: as this request read it with the account (PostgreSQL), else read now. */
apr_status_t so_acme_eab_of(so_acme_ctx_t *a, so_acme_eab_t **eab);
apr_status_t so_acme_bad_problem(so_acme_ctx_t *a, const so_acme_bad_t *bad);
apr_status_t so_acme_own_account(so_acme_ctx_t *a, apr_int64_t id);
apr_status_t so_acme_new_order(so_acme_ctx_t *a);
apr_status_t so_acme_get_order(so_acme_ctx_t *a, apr_int64_t id);
apr_status_t so_acme_orders_list(so_acme_ctx_t *a, apr_int64_t acct_id);
apr_status_t so_acme_finalize(so_acme_ctx_t *a, apr_int64_t id);
apr_status_t so_acme_order_issue(so_acme_ctx_t *a, so_acme_order_t *o, apr_array_header_t *authzs,
                                 const char **why);
apr_status_t so_acme_certificate(so_acme_ctx_t *a, apr_int64_t id);
apr_status_t so_acme_renewal_info(so_acme_ctx_t *a, const char *cert_id);
apr_status_t so_acme_revoke_cert(so_acme_ctx_t *a);
apr_status_t so_acme_replaces_check(so_acme_ctx_t *a, const char *cert_id, apr_array_header_t *names);
apr_status_t so_acme_authz(so_acme_ctx_t *a, apr_int64_t id);
apr_status_t so_acme_challenge(so_acme_ctx_t *a, apr_int64_t id, const char *type);

#endif
