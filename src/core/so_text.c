#include <string.h>

#include <apr_strings.h>

#include "so_text.h"

long so_text_utf8_next(const char *s, apr_size_t len, apr_size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    apr_size_t left = len - *i;
    long cp;
    apr_size_t n, k;

    if (u[0] < 0x80) {
        (*i)++;
        return u[0];
    }
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        n = 2;
        cp = u[0] & 0x1f;
    }
    else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        n = 3;
        cp = u[0] & 0x0f;
    }
    else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        n = 4;
        cp = u[0] & 0x07;
    }
    else {
        (*i)++;
        return -1;
    }
    if (left < n) {
        (*i)++;
        return -1;
    }
    for (k = 1; k < n; k++) {
        if ((u[k] & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = (cp << 6) | (u[k] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff)) {
        (*i)++;
        return -1;
    }
    *i += n;
    return cp;
}

int so_text_utf8_valid(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len) {
        if (so_text_utf8_next(s, len, &i) < 0) {
            return 0;
        }
    }
    return 1;
}

int so_text_is_control(long cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029
           || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *so_text_clean(apr_pool_t *p, const char *s, apr_size_t max_chars)
{
    apr_size_t len, i = 0, o = 0, chars = 0, keep, k;
    char *out;
    int space = 0;

    if (!s) {
        return "";
    }
    len = strlen(s);
    /* U+FFFD takes 3 bytes for 1 invalid byte; 3 more for the ellipsis */
    out = apr_palloc(p, len * 3 + 4);
    while (i < len) {
        apr_size_t start = i;
        long cp = so_text_utf8_next(s, len, &i);
        if (cp >= 0 && (cp == ' ' || so_text_is_control(cp))) {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            chars++;
            space = 0;
        }
        if (cp < 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
        }
        else {
            memcpy(out + o, s + start, i - start);
            o += i - start;
        }
        chars++;
    }
    out[o] = '\0';
    if (!max_chars || chars <= max_chars) {
        return out;
    }
    /* cut to max_chars characters in all, the last three being "..." */
    keep = max_chars > 3 ? max_chars - 3 : max_chars;
    for (i = 0, k = 0; k < keep; k++) {
        so_text_utf8_next(out, o, &i);
    }
    while (i > 0 && out[i - 1] == ' ') {
        i--;
    }
    if (max_chars > 3) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

const char *so_text_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    if (!s) {
        return "";
    }
    for (c = s; *c; c++) {
        switch (*c) {
        case '&': n += 5; break;
        case '<':
        case '>': n += 4; break;
        case '"': n += 6; break;
        case '\'': n += 5; break;
        default: n++;
        }
    }
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        switch (*c) {
        case '&': memcpy(o, "&amp;", 5); o += 5; break;
        case '<': memcpy(o, "&lt;", 4); o += 4; break;
        case '>': memcpy(o, "&gt;", 4); o += 4; break;
        case '"': memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&#39;", 5); o += 5; break;
        default: *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

const char *so_text_html(apr_pool_t *p, const char *s, apr_size_t max_chars)
{
    return so_text_html_escape(p, so_text_clean(p, s, max_chars));
}
