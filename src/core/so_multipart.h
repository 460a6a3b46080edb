/* mod_sslorders: multipart/form-data parsing for uploads (no httpd types).
 *
 * Why not libapreq2. The project rule is to use a maintained parser where one exists,
 * and libapreq2's library (libapreq2.so: apreq_parser_make / apreq_parse_multipart
 * over APR bucket brigades) does run without httpd. It is not usable here because
 * Debian 12 does not ship it: bookworm, bookworm-updates and bookworm-security have
 * no libapreq2 source package and no libapreq2-dev / libapreq2-3 /
 * libapache2-mod-apreq2 binary (checked with apt-cache against the archive this
 * project installs from), and the project only takes dependencies from Debian
 * packages. The other candidates do not fit either: libmicrohttpd's post processor
 * needs a live MHD connection; GMime is a glib-based e-mail parser that is lenient
 * by design (it recovers from malformed and truncated messages, which must be errors
 * here), pulls in glib and aborts the process on allocation failure. Hence this
 * parser: small, strict,
 * bounded, over a body the caller has already read (and bounded) in memory, and
 * fuzzed (tests/fuzz/fuzz_multipart.c).
 *
 * What it accepts (RFC 7578 over RFC 2046 / RFC 9110):
 *  - Content-Type: multipart/form-data; boundary=... (token or quoted-string, 1..70
 *    characters of the RFC 2046 bchars, not ending in a space); other parameters are
 *    ignored, a repeated boundary is an error;
 *  - an optional preamble; delimiters "--boundary" followed by optional spaces/tabs
 *    and CRLF; the close delimiter "--boundary--"; an epilogue is ignored;
 *  - part headers as CRLF-terminated lines (no folding, no bare LF, no NUL or other
 *    control characters but tab; bytes >= 0x80 are allowed since browsers send UTF-8
 *    file names raw), at most max_header_bytes per part;
 *  - exactly one Content-Disposition: form-data with a non-empty name; filename and
 *    filename* (RFC 5987/8187: UTF-8 or ISO-8859-1, percent-encoded; it wins over
 *    filename) optional; each parameter at most once; quoted strings take \" and \\
 *    as escapes and keep any other backslash (old browsers send C:\path\name);
 *  - at most one Content-Type per part; Content-Transfer-Encoding only 7bit, 8bit or
 *    binary (RFC 7578 deprecates it); other headers are ignored;
 *  - names and file names must be valid UTF-8 and are returned as sent (browsers
 *    encode " as %22: no decoding is done); sanitize file names before use
 *    (so_doctype_filename).
 * A delimiter in the data that is not followed by "--" or a line end is an error (the
 * sender chose a boundary that occurs in the content).
 */
#ifndef SO_MULTIPART_H
#define SO_MULTIPART_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *name;         /* the form field name (UTF-8) */
    const char *filename;     /* NULL without filename / filename*; "" when the browser
                               * sent no file for a file field */
    const char *content_type; /* the part's Content-Type as sent (trimmed), or NULL */
    const char *data;         /* the part's bytes: points INTO the body given to
                               * so_multipart_parse (not NUL-terminated) */
    apr_size_t len;
} so_multipart_part_t;

typedef struct {
    apr_size_t max_parts;        /* 0: 16 */
    apr_size_t max_header_bytes; /* per part, all header lines with their CRLFs; 0: 4096 */
    apr_size_t max_total;        /* the whole body; must be given (> 0) */
} so_multipart_limits_t;

/* The boundary of a multipart/form-data Content-Type header value. APR_EINVAL with
 * *why when it is not multipart/form-data or has no valid boundary. */
apr_status_t so_multipart_boundary(const char **out, apr_pool_t *p, const char *content_type,
                                   const char **why);

/* Parse body (len bytes) sent with content_type into *parts, an array of
 * so_multipart_part_t in the order sent. Returns
 *   APR_SUCCESS     at least one part, up to the close delimiter;
 *   APR_EINVAL      not multipart/form-data, or malformed (*why says where);
 *   APR_INCOMPLETE  truncated: the body ends before the close delimiter;
 *   APR_ENOSPC      a limit is exceeded: the body, the number of parts or a part's
 *                   headers (answer 413);
 * with *why a plain-language reason for every error. The body must outlive *parts. */
apr_status_t so_multipart_parse(apr_array_header_t **parts, apr_pool_t *p,
                                const char *content_type, const char *body, apr_size_t len,
                                const so_multipart_limits_t *limits, const char **why);

/* The first part called name, or NULL. */
const so_multipart_part_t *so_multipart_find(const apr_array_header_t *parts, const char *name);

#endif
