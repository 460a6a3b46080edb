/* mod_sslorders: a streaming JSON writer for large, hot answers (order lists).
 *
 * jansson parses every request and builds most answers; building a tree of
 * thousands of values only to serialise it costs more than the rest of a list
 * request together, so the order objects are written straight into a pool buffer.
 * Strings are escaped per RFC 8259; invalid UTF-8 becomes U+FFFD. */
#ifndef SO_JSONW_H
#define SO_JSONW_H

#include <apr_pools.h>

typedef struct so_jw_t so_jw_t;

so_jw_t *so_jw_make(apr_pool_t *p, apr_size_t initial);
void so_jw_obj(so_jw_t *w);
void so_jw_obj_end(so_jw_t *w);
void so_jw_arr(so_jw_t *w);
void so_jw_arr_end(so_jw_t *w);
/* The key of the next value in an object. */
void so_jw_key(so_jw_t *w, const char *key);
void so_jw_str(so_jw_t *w, const char *s); /* NULL writes "" */
void so_jw_int(so_jw_t *w, apr_int64_t v);
void so_jw_bool(so_jw_t *w, int b);
void so_jw_null(so_jw_t *w);
/* A value that is already JSON text. */
void so_jw_raw(so_jw_t *w, const char *json, apr_size_t len);

/* key + value in one call */
void so_jw_kstr(so_jw_t *w, const char *key, const char *s);
void so_jw_kint(so_jw_t *w, const char *key, apr_int64_t v);
void so_jw_kbool(so_jw_t *w, const char *key, int b);

/* The text written so far (NUL terminated). */
const char *so_jw_text(so_jw_t *w, apr_size_t *len);

#endif
