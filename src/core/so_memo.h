/* mod_sslorders: a process-wide cache of immutable byte strings by key (no httpd types).
 *
 * For answers that are expensive to build and never change for a key (a certificate
 * bundle for a certificate and a format). Thread-safe; bounded in bytes: when a new entry
 * does not fit, everything is dropped (the entries are cheap to rebuild, eviction
 * bookkeeping is not worth it at these sizes). A put of a key wakes the threads waiting
 * for it in so_memo_get_or_claim(). */
#ifndef SO_MEMO_H
#define SO_MEMO_H

#include <apr_pools.h>

typedef struct so_memo_t so_memo_t;

/* A cache of at most max_bytes (keys, values and metadata), living in p. */
apr_status_t so_memo_create(so_memo_t **out, apr_pool_t *p, apr_size_t max_bytes);

/* 1 and a copy of the value and its metadata in p when key is cached, else 0. m may be
 * NULL (no cache: always 0). */
int so_memo_get(so_memo_t *m, const char *key, apr_pool_t *p, const char **data, apr_size_t *len,
                const char **meta);

/* The same, or, when key is not cached, one builder at a time (single flight): when no
 * other thread builds it, 0 with *claimed = 1: the caller builds it and then must either
 * so_memo_put() it or so_memo_release() it. When another thread builds it, waits for its
 * put (or release) up to wait_ms, then answers like so_memo_get() (0 with *claimed = 0
 * when it did not come: the caller builds it too). A crowd of first requests for one key
 * builds it once per process instead of once per request. */
int so_memo_get_or_claim(so_memo_t *m, const char *key, apr_pool_t *p, const char **data,
                         apr_size_t *len, const char **meta, int wait_ms, int *claimed);
/* The claimed key will not be put (the build failed): its waiters stop waiting. */
void so_memo_release(so_memo_t *m, const char *key);

/* Keep a copy of data (len bytes) and meta (a string, may be NULL) under key; a value
 * larger than a quarter of the cache is not kept. m may be NULL. */
void so_memo_put(so_memo_t *m, const char *key, const char *data, apr_size_t len, const char *meta);

/* Entries and bytes held (for tests). */
void so_memo_stats(so_memo_t *m, unsigned *entries, apr_size_t *bytes);

#endif
