/* mod_sslorders: order claims whose holder is gone.
 *
 * A worker claims an SSL order (orders.claim_owner, claim_until) from writing a request to
 * storing its certificate; another worker that finds it claimed waits (the ACME client polls,
 * the job comes back). A claim outlives its holder when the process dies mid-issuance (a
 * crash, kill -9) or when the release cannot reach the database (a restart): the order then
 * stayed busy until the claim ran out (5 minutes), longer than an ACME client polls.
 *
 * Claim owners are "<host>:<pid>:<random>" (the instance of the process and a part per
 * context). A claim of this host whose process is no longer running is taken over at once.
 * A release that fails is kept and tried again by the next context of the process (made,
 * or claiming). Claims of other hosts and of live processes of this host are waited for
 * (their time still bounds them). */
#ifndef SO_CLAIM_H
#define SO_CLAIM_H

#include "so_svc.h"
#include "../store/so_store_cert.h"

/* The process's list of releases to try again (up to 64). Before it: none are kept. */
apr_status_t so_claims_init(apr_pool_t *p);
/* Try again the releases of this process that failed (nothing to do: one atomic read). */
void so_claims_settle(so_db_t *db, apr_pool_t *p);

/* Claim the order for ctx->owner for secs: APR_SUCCESS when claimed (free, ran out, already
 * this owner's, or its holder is gone), APR_EBUSY when a live holder has it. */
apr_status_t so_svc_order_claim(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id,
                                apr_int64_t secs);
/* The same, and the order's issuance state as the claim found it (*st NULL: not read, a
 * claim taken over from a holder that is gone). */
apr_status_t so_svc_order_claim_state(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id,
                                      apr_int64_t secs, so_issuance_state_t **st);
/* Release it (a failed release is kept and tried again, see so_claims_settle). */
void so_svc_order_release(so_svc_ctx_t *ctx, apr_pool_t *p, apr_int64_t order_id);

/* Is the holder of claim `owner` gone, seen from a process of `instance` ("<host>:<pid>")?
 * 1: it is (take it over); 0: it may be alive (wait). */
int so_claim_holder_gone(const char *instance, const char *owner);

#endif
