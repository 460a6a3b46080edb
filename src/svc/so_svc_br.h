/* mod_sslorders: the Baseline Requirements checks of the services (no httpd types):
 * DNSSEC-validating DNS for DCV and CAA, dns-persist and the CAA check before every
 * issuance. The settings (so_br_config_t) are in src/api/so_br.h. */
#ifndef SO_SVC_BR_H
#define SO_SVC_BR_H

#include <apr_tables.h>

#include "so_svc.h"
#include "../api/so_br.h"
#include "../core/so_caa.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../store/so_store_order.h"

/* dns-persist (BR 3.2.2.4.22): the team's account URI and the check of host. */
const char *so_svc_persist_account(apr_pool_t *p, const so_config_t *cfg, apr_int64_t team_id);
/* dns-persist: the TXT record the customer publishes once for host (name, value, and a
 * sentence saying so). */
void so_svc_persist_instructions(apr_pool_t *p, const so_config_t *cfg, apr_int64_t team_id,
                                 const char *host, const char **record_name,
                                 const char **record_value, const char **text);
apr_status_t so_svc_persist_check(so_svc_ctx_t *ctx, const so_order_t *o, const char *host,
                                  const so_dcv_opts_t *opts, const char **why);

/* The DCV options of a configuration (connect-to, nameserver, DNSSEC). */
void so_svc_dcv_opts(const so_config_t *cfg, so_dcv_opts_t *opts);
/* The issuer domain names CAA records must name to authorize this CA. */
apr_array_header_t *so_svc_caa_identities(apr_pool_t *p, const so_config_t *cfg);

/* The CAA check of names before issuance (the hook ACME calls too): method is the
 * validation method label (so_caa_method_label), accounturi the ACME account URL or NULL.
 * *results (so_caa_result_t, one per name) tell each name's outcome; APR_SUCCESS when
 * every name may be issued, SO_ECAA (a record refuses; *why names it) or another error
 * (a lookup failed after a retry; *why says why) otherwise. */
apr_status_t so_svc_caa_check(so_svc_ctx_t *ctx, const apr_array_header_t *names,
                              const char *method, const char *accounturi,
                              apr_array_header_t **results, const char **why);

/* How long a name's CAA result "no record anywhere" stands for the same order (BR 3.2.2.8). */
#define SO_CAA_REUSE_SECS (8 * 3600)

/* Called before an order is signed: the CAA check of every name of the order with its
 * method (so_host_state_t states), the results stored per name, iodef values and
 * refusals recorded in the order's events. A name of the order found without any CAA
 * record less than SO_CAA_REUSE_SECS ago is not looked up again (its row keeps the time of
 * that lookup). APR_SUCCESS: the order may be issued. */
apr_status_t so_svc_caa_order(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *states,
                              const char **why);
/* The same for an ACME issuance: accounturi is the ACME account URL (RFC 8657: a record
 * with accounturi authorizes that account only). */
apr_status_t so_svc_caa_order_acme(so_svc_ctx_t *ctx, so_order_t *o,
                                   const apr_array_header_t *states, const char *accounturi,
                                   const char **why);

/* Before an order is signed (called by the CAA check above first): asks every perspective
 * to repeat the domain validation (http, https, dns, dns-account) and the CAA check of each name, stores
 * per name which perspectives agreed (kind "mpic") and applies the quorum. APR_SUCCESS:
 * corroborated (or MPIC off, or report mode); SO_EMPIC and *why otherwise. */
apr_status_t so_svc_mpic_order(so_svc_ctx_t *ctx, so_order_t *o, const apr_array_header_t *states,
                               const char **why);
/* MPIC of an ACME challenge (BR 3.2.2.9): every perspective repeats the challenge of name
 * (without "*."; so_dcv_check_acme) while the client serves it; the quorum is recorded as
 * the order's "mpic" check of the name (order_id > 0). APR_SUCCESS when met, when MPIC is
 * off or in report mode, and for dns-persist-01 (so_svc_mpic_persist); SO_EMPIC and *why
 * otherwise. */
apr_status_t so_svc_mpic_acme(so_svc_ctx_t *ctx, apr_int64_t order_id, const char *name,
                              const char *type, const char *token, const char *keyauth,
                              const char *account_url, const char **why);

/* Blocked keys (BR 6.1.1.3): APR_EINVAL with *why when csr's key is never to be certified:
 * on an SSLOrdersBlockedKeys list (Debian's weak keys, ...) or the key of a certificate
 * revoked for key compromise (any team's: so_svc_key_compromised); APR_SUCCESS when it may
 * be; another status when the database cannot tell. */
apr_status_t so_svc_key_blocked(so_svc_ctx_t *ctx, const so_csr_t *csr, const char **why);
/* Called in the transaction that revokes certificate c with reason: a key compromise (1)
 * blocks c's key for every later certificate. */
apr_status_t so_svc_key_compromised(so_svc_ctx_t *ctx, const so_cert_t *c, int reason);

/* MPIC of a dns-persist record (BR 3.2.2.4.22 with 3.2.2.9): every perspective looks up
 * the record of name (a wildcard keeps its "*.") and accepts one naming a CA identity and
 * one of accounturis; the quorum as so_svc_mpic_acme. */
apr_status_t so_svc_mpic_persist(so_svc_ctx_t *ctx, apr_int64_t order_id, const char *name,
                                 const apr_array_header_t *accounturis, const char **why);

#endif
