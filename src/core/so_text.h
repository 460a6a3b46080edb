/* mod_sslorders: text helpers for untrusted strings (no httpd types).
 *
 * Strict UTF-8 decoding (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF), cleaning of display text and escaping for HTML/XML. Used by the seal,
 * the validation documents and the multipart parser.
 */
#ifndef SO_TEXT_H
#define SO_TEXT_H

#include <apr_pools.h>

/* Decode the code point at s[*i] (len bytes in all) and advance *i past it.
 * Returns the code point, or -1 (and advances *i by one byte) when the bytes at
 * s[*i] are not a valid UTF-8 sequence. */
long so_text_utf8_next(const char *s, apr_size_t len, apr_size_t *i);

/* 1 when s[0..len) is valid UTF-8 (NUL bytes count as valid here). */
int so_text_utf8_valid(const char *s, apr_size_t len);

/* 1 when the code point is a control character: C0 (U+0000..U+001F), DEL, C1
 * (U+0080..U+009F), the line/paragraph separators U+2028/U+2029 or the bidi
 * override/isolate controls (U+202A..U+202E, U+2066..U+2069). */
int so_text_is_control(long cp);

/* Display text from untrusted bytes: invalid UTF-8 becomes U+FFFD, control
 * characters (see so_text_is_control, tab and new lines included) become one
 * space, white space runs collapse to one space, both ends are trimmed, and the
 * result is cut (at a character boundary, with "..." appended) to at most
 * max_chars characters when max_chars > 0. NULL gives "". */
const char *so_text_clean(apr_pool_t *p, const char *s, apr_size_t max_chars);

/* Escape & < > " ' for HTML/XML text and double- or single-quoted attribute
 * values. The input should be clean text (so_text_clean); NUL ends it. NULL gives "". */
const char *so_text_html_escape(apr_pool_t *p, const char *s);

/* so_text_html_escape(so_text_clean(s, max_chars)) */
const char *so_text_html(apr_pool_t *p, const char *s, apr_size_t max_chars);

#endif
