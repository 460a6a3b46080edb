#include <stdint.h>
#include <string.h>

#include <apr_strings.h>

#include "so_jsonw.h"

#define MAX_DEPTH 32

struct so_jw_t {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    int depth;
    int first[MAX_DEPTH]; /* no element written yet at this level */
    int after_key;
};

so_jw_t *so_jw_make(apr_pool_t *p, apr_size_t initial)
{
    so_jw_t *w = apr_pcalloc(p, sizeof(*w));
    w->pool = p;
    w->cap = initial < 256 ? 256 : initial;
    w->buf = apr_palloc(p, w->cap);
    w->first[0] = 1;
    return w;
}

static void grow(so_jw_t *w, apr_size_t n)
{
    apr_size_t cap = w->cap * 2;
    char *b;
    while (cap < w->len + n + 1) {
        cap *= 2;
    }
    b = apr_palloc(w->pool, cap);
    memcpy(b, w->buf, w->len);
    w->buf = b;
    w->cap = cap;
}

/* room for n more bytes and a NUL (the check is inlined: it runs for every token) */
static APR_INLINE void reserve(so_jw_t *w, apr_size_t n)
{
    if (w->len + n + 1 > w->cap) {
        grow(w, n);
    }
}

static void put(so_jw_t *w, const char *s, apr_size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc_(so_jw_t *w, char c)
{
    reserve(w, 1);
    w->buf[w->len++] = c;
}

/* a comma before every element but the first of its container */
static void element(so_jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth]) {
        putc_(w, ',');
    }
    w->first[w->depth] = 0;
}

static void open_(so_jw_t *w, char c)
{
    element(w);
    putc_(w, c);
    if (w->depth < MAX_DEPTH - 1) {
        w->depth++;
    }
    w->first[w->depth] = 1;
}

static void close_(so_jw_t *w, char c)
{
    putc_(w, c);
    if (w->depth > 0) {
        w->depth--;
    }
}

void so_jw_obj(so_jw_t *w)
{
    open_(w, '{');
}

void so_jw_obj_end(so_jw_t *w)
{
    close_(w, '}');
}

void so_jw_arr(so_jw_t *w)
{
    open_(w, '[');
}

void so_jw_arr_end(so_jw_t *w)
{
    close_(w, ']');
}

/* length of the valid UTF-8 sequence at s (0 when invalid) */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)) {
            return 0; /* overlong, surrogates */
        }
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* 1 for the bytes that end a run of plain ASCII: controls, '"', '\\', non-ASCII */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when one of the 8 bytes at s is special (see special[]): a byte below 0x20,
 * a '"', a '\\' (each found by the has-zero-byte test on x ^ c), or a high bit. */
static APR_INLINE uint64_t special8(const unsigned char *s)
{
    uint64_t x, q, b;
    memcpy(&x, s, 8);
    q = x ^ (ONES * '"');
    b = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | x) & HIGHS;
}

static void string(so_jw_t *w, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    const unsigned char *run = s, *end = s + strlen((const char *)s);

    putc_(w, '"');
    for (;;) {
        unsigned char c;
        int n;
        /* plain ASCII eight bytes at a time (PEM blocks, names), then the rest */
        while (end - s >= 8 && !special8(s)) {
            s += 8;
        }
        while (!special[*s]) {
            s++;
        }
        c = *s;
        if (c == 0) {
            break;
        }
        if (c >= 0x80 && (n = utf8_len(s)) > 0) {
            s += n;
            continue;
        }
        /* (a NUL ends the string: it is never inside one) */
        put(w, (const char *)run, (apr_size_t)(s - run));
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(w, e, 2);
        }
        else if (c == '\n') {
            put(w, "\\n", 2);
        }
        else if (c == '\r') {
            put(w, "\\r", 2);
        }
        else if (c == '\t') {
            put(w, "\\t", 2);
        }
        else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(w, e, 6);
        }
        else {
            put(w, "\xef\xbf\xbd", 3); /* invalid UTF-8: U+FFFD */
        }
        s++;
        run = s;
    }
    put(w, (const char *)run, (apr_size_t)(s - run));
    putc_(w, '"');
}

void so_jw_key(so_jw_t *w, const char *key)
{
    element(w);
    string(w, key);
    putc_(w, ':');
    w->after_key = 1;
}

void so_jw_str(so_jw_t *w, const char *s)
{
    element(w);
    string(w, s);
}

void so_jw_int(so_jw_t *w, apr_int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *d = e;
    /* the magnitude as unsigned: -INT64_MIN does not fit an int64 */
    apr_uint64_t u = v < 0 ? (apr_uint64_t)0 - (apr_uint64_t)v : (apr_uint64_t)v;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--d = '-';
    }
    element(w);
    put(w, d, (apr_size_t)(e - d));
}

void so_jw_bool(so_jw_t *w, int b)
{
    element(w);
    if (b) {
        put(w, "true", 4);
    }
    else {
        put(w, "false", 5);
    }
}

void so_jw_null(so_jw_t *w)
{
    element(w);
    put(w, "null", 4);
}

void so_jw_raw(so_jw_t *w, const char *json, apr_size_t len)
{
    element(w);
    put(w, json, len);
}

void so_jw_kstr(so_jw_t *w, const char *key, const char *s)
{
    so_jw_key(w, key);
    so_jw_str(w, s);
}

void so_jw_kint(so_jw_t *w, const char *key, apr_int64_t v)
{
    so_jw_key(w, key);
    so_jw_int(w, v);
}

void so_jw_kbool(so_jw_t *w, const char *key, int b)
{
    so_jw_key(w, key);
    so_jw_bool(w, b);
}

const char *so_jw_text(so_jw_t *w, apr_size_t *len)
{
    reserve(w, 1);
    w->buf[w->len] = '\0';
    if (len) {
        *len = w->len;
    }
    return w->buf;
}
