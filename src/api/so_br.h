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
    /* MPIC (so_mpic.h) */
    apr_array_header_t *perspectives;  /* SSLOrdersPerspective (so_mpic_perspective_t) */
    int mpic;                          /* SSLOrdersMPIC: -1 unset (on when perspectives are
                                        * listed), 0 off, 1 on, 2 report */
    const char *perspective_secret;    /* SSLOrdersPerspectiveAuth secret-file (the secret) */
    const char *nonce_dir;             /* where a perspective remembers nonces */
    int mpic_timeout_ms;               /* SSLOrdersMPICTimeout (0: 20 s) */
    struct so_keyblock_t *blocked_keys; /* SSLOrdersBlockedKeys (NULL: none listed) */
} so_br_config_t;

#define SO_MPIC_OFF 0
#define SO_MPIC_ON 1
#define SO_MPIC_REPORT 2
/* The MPIC mode in force (SO_MPIC_*). */
int so_br_mpic_mode(const so_config_t *cfg);
/* The sslorders-perspective handler: checks the request's signature (401 JSON, code 1121
 * when wrong), repeats the checks asked for from here and answers their results. */
apr_status_t so_br_perspective_serve(so_req_t *req, apr_int64_t wall_now);
/* The corroboration of an order before it is signed is a service: so_svc_mpic_order
 * (src/svc/so_svc_br.h); SO_EMPIC when it is refused. */
#define SO_EMPIC (APR_OS_START_USERERR + 660)

/* E-mail domain validation by date (BR 3.2.2.4.4/.13/.14, SC-090): 0 allowed, 1 allowed
 * with a warning (from 2026-03-15), 2 refused (from 2028-03-15). */
#define SO_BR_EMAIL_WARN_FROM 1773532800 /* 2026-03-15 */
#define SO_BR_EMAIL_END 1836691200       /* 2028-03-15 */
int so_br_email_phase(apr_int64_t now);
/* An API request chose e-mail validation for host: adds the warning to the answer, or
 * answers 400 (1120) and returns APR_EINVAL. */
apr_status_t so_br_email_check(so_req_t *req, const char *host);

/* dns-persist (BR 3.2.2.4.22): the record to publish, its check and the CAA check before
 * issuance are services (src/svc/so_svc_br.h). */

/* Whether DNSSEC validation is on for this configuration. */
int so_br_dnssec(const so_config_t *cfg);

/* The "caa" member of a name in GET /ssl/orders/{id}/validation: the stored check of
 * host (so_br_check_t checks) or null when none was made yet. */
struct so_jw_t;
void so_br_write_checks(struct so_jw_t *w, so_req_t *req, const apr_array_header_t *checks,
                        const char *host);

/* The "mpic" member of a name (written by so_br_write_checks): which perspectives agreed,
 * or null when MPIC did not run. */
void so_br_write_mpic(struct so_jw_t *w, so_req_t *req, const apr_array_header_t *checks,
                      const char *host);

#endif
