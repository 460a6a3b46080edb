/* mod_sslorders: a process-wide byte cache (see so_memo.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <apr_time.h>

#include "so_memo.h"

typedef struct {
    apr_size_t len;
    const char *meta; /* in the same block */
    char data[];      /* the value, then the key, then meta */
} memo_entry_t;

struct so_memo_t {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *built; /* broadcast when a key being built is put or released */
    apr_hash_t *map;          /* key (in the entry) -> memo_entry_t (malloc'ed) */
    apr_hash_t *building;     /* key (malloc'ed, the value) -> itself: claimed, not put yet */
    apr_size_t bytes, max;
};

/* under the lock: key is no longer being built (put or released); wake its waiters */
static void building_done(so_memo_t *m, const char *key)
{
    char *k = apr_hash_get(m->building, key, APR_HASH_KEY_STRING);
    if (k) {
        apr_hash_set(m->building, key, APR_HASH_KEY_STRING, NULL);
        free(k);
        apr_thread_cond_broadcast(m->built);
    }
}

static apr_status_t building_cleanup(void *data)
{
    so_memo_t *m = data;
    apr_hash_index_t *hi;
    void *k;
    while ((hi = apr_hash_first(NULL, m->building))) {
        apr_hash_this(hi, NULL, NULL, &k);
        apr_hash_set(m->building, k, APR_HASH_KEY_STRING, NULL);
        free(k);
    }
    return APR_SUCCESS;
}

static apr_status_t memo_cleanup(void *data)
{
    so_memo_t *m = data;
    apr_hash_index_t *hi;
    unsigned n = apr_hash_count(m->map), i = 0;
    void **all = n ? malloc(n * sizeof(void *)) : NULL;

    /* the keys live in the entries: empty the table before freeing them */
    for (hi = apr_hash_first(NULL, m->map); hi && all; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, NULL, NULL, &all[i++]);
    }
    apr_hash_clear(m->map);
    while (i > 0) {
        free(all[--i]);
    }
    free(all);
    return APR_SUCCESS;
}

apr_status_t so_memo_create(so_memo_t **out, apr_pool_t *p, apr_size_t max_bytes)
{
    so_memo_t *m = apr_pcalloc(p, sizeof(*m));
    apr_status_t rv = apr_thread_mutex_create(&m->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS || (rv = apr_thread_cond_create(&m->built, p)) != APR_SUCCESS) {
        return rv;
    }
    m->map = apr_hash_make(p);
    m->building = apr_hash_make(p);
    m->max = max_bytes;
    apr_pool_cleanup_register(p, m, memo_cleanup, apr_pool_cleanup_null);
    apr_pool_cleanup_register(p, m, building_cleanup, apr_pool_cleanup_null);
    *out = m;
    return APR_SUCCESS;
}

/* under the lock: a copy of key's value in p, if cached */
static int copy_out(so_memo_t *m, const char *key, apr_pool_t *p, const char **data,
                    apr_size_t *len, const char **meta)
{
    memo_entry_t *e = apr_hash_get(m->map, key, APR_HASH_KEY_STRING);
    if (!e) {
        return 0;
    }
    *data = apr_pmemdup(p, e->data, e->len);
    *len = e->len;
    if (meta) {
        *meta = e->meta ? apr_pstrdup(p, e->meta) : NULL;
    }
    return 1;
}

int so_memo_get(so_memo_t *m, const char *key, apr_pool_t *p, const char **data, apr_size_t *len,
                const char **meta)
{
    int found;
    if (!m) {
        return 0;
    }
    apr_thread_mutex_lock(m->lock);
    found = copy_out(m, key, p, data, len, meta);
    apr_thread_mutex_unlock(m->lock);
    return found;
}

int so_memo_get_or_claim(so_memo_t *m, const char *key, apr_pool_t *p, const char **data,
                         apr_size_t *len, const char **meta, int wait_ms, int *claimed)
{
    apr_time_t until = apr_time_now() + apr_time_from_msec(wait_ms);
    int found = 0;
    char *k;

    *claimed = 0;
    if (!m) {
        return 0;
    }
    apr_thread_mutex_lock(m->lock);
    for (;;) {
        apr_time_t left;
        if ((found = copy_out(m, key, p, data, len, meta))) {
            break;
        }
        if (!apr_hash_get(m->building, key, APR_HASH_KEY_STRING)) {
            /* nobody builds it: this caller does */
            if ((k = strdup(key))) {
                apr_hash_set(m->building, k, APR_HASH_KEY_STRING, k);
                *claimed = 1;
            }
            break;
        }
        left = until - apr_time_now();
        if (left <= 0) {
            break; /* built too slowly elsewhere: the caller builds it too, unclaimed */
        }
        apr_thread_cond_timedwait(m->built, m->lock, left);
    }
    apr_thread_mutex_unlock(m->lock);
    return found;
}

void so_memo_release(so_memo_t *m, const char *key)
{
    if (!m) {
        return;
    }
    apr_thread_mutex_lock(m->lock);
    building_done(m, key);
    apr_thread_mutex_unlock(m->lock);
}

void so_memo_put(so_memo_t *m, const char *key, const char *data, apr_size_t len, const char *meta)
{
    apr_size_t klen, mlen, size;
    memo_entry_t *e, *old;
    char *k;

    if (!m) {
        return;
    }
    klen = strlen(key) + 1;
    mlen = meta ? strlen(meta) + 1 : 0;
    size = sizeof(*e) + len + klen + mlen;
    if (size > m->max / 4 || !(e = malloc(size))) {
        so_memo_release(m, key); /* not kept: its waiters build it themselves */
        return;
    }
    e->len = len;
    memcpy(e->data, data, len);
    k = e->data + len;
    memcpy(k, key, klen);
    e->meta = meta ? memcpy(k + klen, meta, mlen) : NULL;

    apr_thread_mutex_lock(m->lock);
    if ((old = apr_hash_get(m->map, key, APR_HASH_KEY_STRING))) {
        apr_hash_set(m->map, key, APR_HASH_KEY_STRING, NULL);
        m->bytes -= sizeof(*old) + old->len + klen + (old->meta ? strlen(old->meta) + 1 : 0);
        free(old);
    }
    if (m->bytes + size > m->max) {
        memo_cleanup(m);
        m->bytes = 0;
    }
    apr_hash_set(m->map, k, APR_HASH_KEY_STRING, e);
    m->bytes += size;
    building_done(m, key);
    apr_thread_mutex_unlock(m->lock);
}

void so_memo_stats(so_memo_t *m, unsigned *entries, apr_size_t *bytes)
{
    apr_thread_mutex_lock(m->lock);
    *entries = apr_hash_count(m->map);
    *bytes = m->bytes;
    apr_thread_mutex_unlock(m->lock);
}
