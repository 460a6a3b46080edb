/* mod_sslorders: the process's cache of API token lookups (see so_authcache.h). */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "so_authcache.h"
#include "../core/so_memo.h"
#include "../core/so_metrics.h"

/* a few hundred bytes an entry: some thousands of tokens, all dropped when full */
#define SO_AUTHCACHE_BYTES (4 * 1024 * 1024)

static so_memo_t *entries;
/* this server's name in its notifications (so_authcache_committed): made in the parent,
 * the same in all its processes */
static char origin[2 * 8 + 1];
/* tells the other servers, after the commit (so_httpd_listen.c; none on SQLite) */
static void (*notifier)(void);

/* An entry: this head, then the strings of the credential, each with its NUL. */
typedef struct {
    apr_time_t read_at;
    so_credential_t c;
} head_t;

apr_status_t so_authcache_init(apr_pool_t *p, int ttl_secs)
{
    entries = NULL;
    /* the generation must be the server's, not the process's */
    if (ttl_secs <= 0 || !so_metrics_attached()) {
        return APR_SUCCESS;
    }
    return so_memo_create(&entries, p, SO_AUTHCACHE_BYTES);
}

int so_authcache_on(void)
{
    return entries != NULL;
}

apr_uint64_t so_authcache_gen(void)
{
    return so_metrics_counter(SO_MC_AUTH_CHANGES);
}

void so_authcache_changed(void)
{
    if (entries) {
        so_metrics_inc(SO_MC_AUTH_CHANGES);
    }
}

void so_authcache_origin_init(void)
{
    unsigned char b[8];
    apr_uint64_t v;
    int i;
    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        v = (apr_uint64_t)apr_time_now();
        memcpy(b, &v, sizeof(b));
    }
    for (i = 0; i < 8; i++) {
        apr_snprintf(origin + 2 * i, 3, "%02x", b[i]);
    }
}

int so_authcache_mine(const char *payload)
{
    return payload && origin[0] && !strcmp(payload, origin);
}

const char *so_authcache_origin(void)
{
    return origin;
}

void so_authcache_set_notifier(void (*fn)(void))
{
    notifier = fn;
}

void so_authcache_committed(const so_db_t *db)
{
    so_authcache_changed();
    if (entries && notifier && db && db->committed) {
        notifier();
    }
}

/* the generation is part of the key: an entry read before a change is never found */
static const char *entry_key(apr_pool_t *p, const char *key, apr_uint64_t gen)
{
    return apr_psprintf(p, "%s/%" APR_UINT64_T_FMT, key, gen);
}

#define STRINGS(X, c) X((c)->ip) X((c)->username) X((c)->team_slug) X((c)->team_name) \
    X((c)->team_currency) X((c)->scopes) X((c)->networks)

so_credential_t *so_authcache_get(apr_pool_t *p, const char *key, int ttl_secs)
{
    const char *data, *s, *end;
    apr_size_t len;
    head_t h;
    so_credential_t *c;

    if (!entries) {
        return NULL;
    }
    if (!so_memo_get(entries, entry_key(p, key, so_authcache_gen()), p, &data, &len, NULL)
        || len < sizeof(h)) {
        so_metrics_inc(SO_MC_AUTH_CACHE_MISS);
        return NULL;
    }
    memcpy(&h, data, sizeof(h));
    if (apr_time_now() - h.read_at >= apr_time_from_sec(ttl_secs)) {
        so_metrics_inc(SO_MC_AUTH_CACHE_MISS);
        return NULL;
    }
    c = apr_pmemdup(p, &h.c, sizeof(*c));
    s = data + sizeof(h);
    end = data + len;
#define TAKE(f) if (s < end) { f = s; s += strlen(s) + 1; } else { return NULL; }
    STRINGS(TAKE, c)
#undef TAKE
    c->csrf_token = NULL;
    so_metrics_inc(SO_MC_AUTH_CACHE_HIT);
    return c;
}

void so_authcache_put(const char *key, apr_uint64_t gen, const so_credential_t *c)
{
    apr_pool_t *p;
    apr_size_t len = sizeof(head_t), at;
    head_t h;
    char *buf;

    if (!entries || !c) {
        return;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return;
    }
#define LEN(f) len += strlen((f) ? (f) : "") + 1;
    STRINGS(LEN, c)
#undef LEN
    memset(&h, 0, sizeof(h));
    h.read_at = apr_time_now();
    h.c = *c;
    h.c.ip = h.c.username = h.c.team_slug = h.c.team_name = NULL;
    h.c.team_currency = h.c.scopes = h.c.networks = h.c.csrf_token = NULL;
    buf = apr_palloc(p, len);
    memcpy(buf, &h, sizeof(h));
    at = sizeof(h);
#define PUT(f) { const char *v_ = (f) ? (f) : ""; apr_size_t n_ = strlen(v_) + 1; \
                 memcpy(buf + at, v_, n_); at += n_; }
    STRINGS(PUT, c)
#undef PUT
    so_memo_put(entries, entry_key(p, key, gen), buf, len, NULL);
    apr_pool_destroy(p);
}
