/* mod_sslorders: the issuance service's parts (internal to src/svc): so_issuance.c
 * (validation, issuance, e-mail approval, reissue), so_iss_notify.c (mail, the message
 * command, reminders, the outbox's delivery), so_iss_jobs.c (the background pass, the
 * organization decision, the renewal charge), so_iss_revoke.c (revocation, the CRL, blocked keys).
 * See so_issuance.h for the services. */
#ifndef SO_ISS_INT_H
#define SO_ISS_INT_H
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include "so_issuance.h"
#include "so_svc_br.h"
#include "so_claim.h"
#include "../api/so_api_seal.h"
#include "so_order_rules.h"
#include "../store/so_store_seal.h"
#include "../core/so_metrics.h"
#include "../core/so_ca.h"
#include "../core/so_csr.h"
#include "../core/so_keyblock.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_exec.h"
#include "../core/so_lint.h"
#include "../core/so_log.h"
#include "../core/so_mail.h"
#include "../core/so_util.h"
#include "../store/so_store_account.h"
#include "../store/so_store_catalog.h"
#include "../store/so_store_customer.h"
#include "../store/so_store_outbox.h"

#define CLAIM_SECS 300
#define APPROVAL_TTL (14 * 86400)
#define JOB_BATCH 100
#define MAIL_TIMEOUT apr_time_from_sec(30)

/* the context's database */
so_db_t *so_iss_db(so_svc_ctx_t *ctx);
/* Before an order is signed: 1 when its key is blocked (so_svc_key_blocked; the order is
 * told once, by the event issuance_failed and the message errored) or the database cannot
 * tell now; 0 when it may be signed. */
int so_iss_key_blocked(so_svc_ctx_t *ctx, so_order_t *o);
/* The background pass: every live certificate whose key was revoked for key compromise with
 * another certificate (any order, any team) is revoked too, reason keyCompromise (BR
 * 4.9.1.1: within 24 hours); certificates stored before their key's hash was get it first.
 * *worked counts the revocations. */
apr_status_t so_iss_revoke_compromised(so_svc_ctx_t *ctx, int *worked);
/* the order's reminders (the background pass and the delivery of "reminder" events) */
apr_status_t so_iss_reminders(so_svc_ctx_t *ctx, so_order_t *o);
/* one mail through SSLOrdersMailCmd (or the SMTP settings) */
apr_status_t so_iss_send_mail(so_svc_ctx_t *ctx, apr_array_header_t *to, const char *subject,
                              const char *body);

#endif
