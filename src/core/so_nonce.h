/* mod_sslorders: ACME nonces in memory shared by the processes of one server (no httpd
 * types). Used where the database is SQLite (one server by nature): each ACME request then
 * takes its nonce and issues the next without a write transaction. Servers sharing
 * PostgreSQL keep their nonces in the database (a nonce issued by one is accepted once by
 * any other).
 *
 * The table is a ring of 64-bit slots: a nonce names its slot and the value stored there
 * (the time it was issued, 24 bits of seconds, and 40 random bits); issuing one overwrites
 * the slot's older nonce, using one swaps the slot's value for 0 (apr_atomic_cas64: of two
 * processes using the same nonce at once, one wins). A nonce is therefore accepted once,
 * until it expires or as many newer nonces as the ring has slots were issued after it. */
#ifndef SO_NONCE_H
#define SO_NONCE_H

#include <apr_pools.h>

/* bytes a table of slots needs (slots: a power of two, at least 2) */
apr_size_t so_nonce_mem_size(apr_uint32_t slots);
/* Use the table at base (zeroed by the caller when new; kept across reattachments) with
 * slots slots; base NULL: no table (so_nonce_mem_on() 0). Call before the processes that
 * use it start (one table per process image). */
void so_nonce_mem_attach(void *base, apr_uint32_t slots);
int so_nonce_mem_on(void);
/* A new nonce (16 base64url characters) issued at now: NULL without a table or when the
 * random generator failed. */
const char *so_nonce_mem_issue(apr_pool_t *p, apr_int64_t now);
/* Consume nonce (untrusted text): APR_SUCCESS once; APR_ENOENT when it is not one of ours,
 * used, overwritten or older than ttl seconds; APR_ENOTIMPL without a table. */
apr_status_t so_nonce_mem_use(apr_pool_t *p, const char *nonce, apr_int64_t now,
                              apr_int64_t ttl);

#endif
