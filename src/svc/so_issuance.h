/* mod_sslorders: the certificate lifecycle (no httpd types): domain control
 * validation of an order's names, organization validation, issuance by the built-in
 * CA, reissue, renewal, revocation and the CRL, expiry, reminders, mail and the
 * message command; and the background pass that drives them (run by the watchdog, by
 * POST /staff/jobs/run and by POST /ssl/orders/{id}/validate for one order).
 *
 * Services (src/svc): every function takes a so_svc_ctx_t. API handlers pass one made
 * from their request (so_api_svc_ctx); the background job, the CLI and the ACME server
 * make their own (so_svc_ctx_make: events then name "system"). Orders are claimed
 * (orders.claim_owner/claim_until) while they are worked on, so that with several
 * servers on one database an order is probed and issued by one server at a time,
 * and the state change to ACT is a version-checked update: never issued twice. */
#ifndef SO_ISSUANCE_H
#define SO_ISSUANCE_H

#include "so_svc.h"
#include "../store/so_store_cert.h"
#include "../store/so_store_order.h"

/* How long a validation stays good for reuse (BR / SC-081: 398 days, 200 days from
 * 2026-03-15, 100 days from 2027-03-15, 10 days from 2029-03-15). */
int so_iss_reuse_days(apr_int64_t now);
/* Whether a name validated at validated_at (0: never) may be reused at now. */
int so_iss_validation_fresh(apr_int64_t now, apr_int64_t validated_at);
/* OV/EV: how long an identity check of the organization is used (BR 4.2.1) */
#define SO_ORG_REUSE_DAYS 398

/* The order became REQ: organization validation to do (OV/EV), approval mails,
 * a check at once. Best effort (logged). */
void so_iss_requested(so_svc_ctx_t *ctx, so_order_t *o);

/* Check every name that is not validated yet (http, https, dns, dns-persist, dns-account; e-mail waits for its
 * link), then issue when everything is done. Claims the order: APR_EBUSY when another
 * server works on it. */
apr_status_t so_iss_check(so_svc_ctx_t *ctx, so_order_t *o);

/* Issue now if every name is validated (and the organization for OV/EV). *issued
 * tells whether a certificate was issued. The caller holds the claim. */
apr_status_t so_iss_try_issue(so_svc_ctx_t *ctx, so_order_t *o, int *issued);

/* What a caller writes with the certificate, in the transaction that stores it, after the
 * order's row: fn(ctx, o, baton), and the order's names when hosts (the order's other
 * columns come from o, written with the certificate's). When that transaction finds the
 * order changed (its version), nothing is stored and the order is not read again: the
 * caller tries again later. */
typedef struct {
    int hosts;
    apr_status_t (*fn)(so_svc_ctx_t *ctx, so_order_t *o, void *baton);
    void *baton;
    /* the caller's claim of the order (under ctx->owner) ends with the order's write: a
     * certificate stored (*issued) released it, else the caller still holds it */
    int release;
} so_iss_with_t;

/* so_iss_try_issue for a caller that has prepared the order under its claim
 * (ctx->claimed): o as written, or as it will be written with the certificate (with), its
 * version current; its issuance state st and the states of its names (so_host_state_t, in
 * the order's name order) as they are, or will be; nothing is read again. A change of the
 * order meanwhile is found when the certificate is stored (the order's version). Without
 * the claim, or an order not ready for issuance: so_iss_issue_claimed (with: nothing). */
apr_status_t so_iss_issue_written(so_svc_ctx_t *ctx, so_order_t *o, so_issuance_state_t *st,
                                  const apr_array_header_t *states, const so_iss_with_t *with,
                                  int *issued);

/* Send (again) the approval mail of the e-mail validated names. */
apr_status_t so_iss_send_approval(so_svc_ctx_t *ctx, so_order_t *o, int force);

/* The approval link: APR_ENOENT (unknown/used/expired token); *o and *names tell
 * what the page shows. approve=1 records the approval (and issues when complete). */
apr_status_t so_iss_approval(so_svc_ctx_t *ctx, const char *token, int approve, so_order_t **o,
                             apr_array_header_t **names, const char **email);

/* Revoke a certificate of the order (reason: RFC 5280 CRLReason) and refresh the CRL. */
apr_status_t so_iss_revoke(so_svc_ctx_t *ctx, so_order_t *o, so_cert_t *c, int reason);

/* The current CRL (DER), regenerated when a revocation happened or it gets old. */
apr_status_t so_iss_crl(so_svc_ctx_t *ctx, const unsigned char **der, apr_size_t *len,
                        apr_int64_t *this_update);

/* Start a reissue of an ACT order with its (new) CSR and names already applied to o:
 * names validated within the reuse period are reused, the others wait for
 * validation; issues at once when nothing is left to validate. */
apr_status_t so_iss_reissue(so_svc_ctx_t *ctx, so_order_t *o);

/* Renew an ACT order: charge the balance (SO_ENOFUNDS when it does not cover the price;
 * a product no longer sold or without the price: APR_EINVAL with res's code), move
 * order_ends_at on by the period and start the new certificate. */
apr_status_t so_iss_renew_charge(so_svc_ctx_t *ctx, so_order_t *o, int automatic,
                                 so_result_t *res);

/* Renew an ACT order (the caller charged it): order_ends_at moves on by the period,
 * keeping the remaining time, and a new certificate covers it. */
apr_status_t so_iss_renewed(so_svc_ctx_t *ctx, so_order_t *o);

/* The background pass; *worked counts what it did. */
apr_status_t so_iss_jobs_run(so_svc_ctx_t *ctx, int *worked);
/* The process stops: a running pass ends after the order in hand; later passes do nothing. */
void so_iss_jobs_stop(void);
int so_iss_jobs_stopping(void);

/* Lifecycle notification: the message command and the mail to the order's contacts. */
void so_iss_notify(so_svc_ctx_t *ctx, const so_order_t *o, const char *event, const char *detail);

/* Reminders: the next time one is due after `after` (0: none), from "60,30,-30". */
apr_int64_t so_iss_next_reminder(const char *days, apr_int64_t end, apr_int64_t after);
/* Parse and check a reminder list ("60,30,7,1,-30": days before (+) or after (-)). */
apr_status_t so_iss_reminder_days_parse(apr_pool_t *p, const char *s, apr_array_header_t **days,
                                        const char **why);

/* Issue the order now if it is ready, holding its claim (another worker holding it: nothing
 * done, *issued 0). */
apr_status_t so_iss_issue_claimed(so_svc_ctx_t *ctx, so_order_t *o, int *issued);

/* OV/EV: whether the organization handle's data fits a certificate subject (O at most 64
 * bytes, a locality or state, a two-letter country, ...); APR_EINVAL with *why. */
apr_status_t so_iss_org_check(so_svc_ctx_t *ctx, const so_order_t *o, const char **why);

/* The outbox's delivery of a lifecycle event (type "order.issued", ...; detail the event's
 * JSON) to the server itself: mail and SSLOrdersMessageCmd. attempts: earlier attempts. */
apr_status_t so_iss_deliver(so_svc_ctx_t *ctx, so_order_t *o, const char *type, const char *detail,
                            int attempts);
/* Send a mail with SSLOrdersMailCommand (APR_ENOTIMPL when it is not set). */
apr_status_t so_iss_mail(so_svc_ctx_t *ctx, apr_array_header_t *to, const char *subject,
                         const char *body);

/* Add `years` calendar years to t (UTC). */
apr_int64_t so_iss_add_years(apr_int64_t t, int years);

/* Staff (API or CLI): approve or reject the organization of an OV/EV order of any team.
 * A rejection of a REQ order fails it and refunds the price; an approval issues at once
 * when the order is ready (*issued). *o: the order (when found). Failures in *res
 * (APR_ENOENT/SO_E_NOT_FOUND, APR_EINVAL/SO_E_STATUS, or a database status). */
apr_status_t so_iss_org_decide(so_svc_ctx_t *ctx, apr_int64_t order_id, int approve,
                               const char *reason, so_order_t **o, int *issued,
                               so_result_t *res);

#endif
