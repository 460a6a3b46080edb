/* mod_sslorders: the Baseline Requirements settings and checks around issuance (no httpd
 * types): DNSSEC-validating DNS for DCV and CAA, the CAA check before every issuance.
 * See docs/baseline-requirements.md. */
#ifndef SO_BR_H
#define SO_BR_H

#include <apr_tables.h>

#include "so_api.h"
#include "../core/so_caa.h"
#include "../core/so_dcv.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_order.h"

typedef struct so_br_config_t {
    int dnssec;                        /* SSLOrdersDNSSEC (-1 unset: on) */
    const char *trust_anchor;          /* SSLOrdersDNSTrustAnchor (NULL: the root key) */
    apr_array_header_t *caa_identities; /* SSLOrdersCAAIdentity (const char *; NULL: CA tag) */
    int caa;                           /* SSLOrdersCAA (-1 unset: on) */
} so_br_config_t;

/* E-mail domain validation by date (BR 3.2.2.4.4/.13/.14, SC-090): 0 allowed, 1 allowed
 * with a warning (from 2026-03-15), 2 refused (from 2028-03-15). */
#define SO_BR_EMAIL_WARN_FROM 1773532800 /* 2026-03-15 */
#define SO_BR_EMAIL_END 1836691200       /* 2028-03-15 */
int so_br_email_phase(apr_int64_t now);
/* An API request chose e-mail validation for host: adds the warning to the answer, or
 * answers 400 (1120) and returns APR_EINVAL. */
apr_status_t so_br_email_check(so_req_t *req, const char *host);

/* dns-persist (BR 3.2.2.4.22): the record to publish for host (name and value); the
 * check and the CAA check before issuance are services (src/svc/so_svc_br.h). */
void so_br_persist_instructions(so_req_t *req, apr_int64_t team_id, const char *host,
                                const char **record_name, const char **record_value,
                                const char **text);

/* Whether DNSSEC validation is on for this configuration. */
int so_br_dnssec(const so_config_t *cfg);

/* The "caa" member of a name in GET /ssl/orders/{id}/validation: the stored check of
 * host (so_br_check_t checks) or null when none was made yet. */
struct so_jw_t;
void so_br_write_checks(struct so_jw_t *w, so_req_t *req, const apr_array_header_t *checks,
                        const char *host);

#endif
