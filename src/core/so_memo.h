/* mod_sslorders: a process-wide cache of immutable byte strings by key (no httpd types).
 *
 * For answers that are expensive to build and never change for a key (a certificate
 * bundle for a certificate and a format). Thread-safe; bounded in bytes: when a new entry
 * does not fit, everything is dropped (the entries are cheap to rebuild, eviction
 * bookkeeping is not worth it at these sizes). */
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

/* Keep a copy of data (len bytes) and meta (a string, may be NULL) under key; a value
 * larger than a quarter of the cache is not kept. m may be NULL. */
void so_memo_put(so_memo_t *m, const char *key, const char *data, apr_size_t len, const char *meta);

/* Entries and bytes held (for tests). */
void so_memo_stats(so_memo_t *m, unsigned *entries, apr_size_t *bytes);

#endif
