#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "so_multipart.h"
#include "so_text.h"

#define DEFAULT_MAX_PARTS 16
#define DEFAULT_MAX_HEADER 4096
#define MAX_BOUNDARY 70

typedef struct {
    const char *name;  /* lower case */
    const char *value; /* unquoted */
    int quoted;
} param_t;

static const char *lower_n(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_pstrmemdup(p, s, n), *c;

    for (c = out; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return out;
}

static int is_tchar(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_ows(int c)
{
    return c == ' ' || c == '\t';
}

/* A header value's characters: no NUL, no control character but tab. */
static int value_chars_ok(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* *( OWS ";" OWS token "=" ( token / quoted-string ) ) OWS up to the end of s */
static apr_status_t parse_params(apr_array_header_t **out, apr_pool_t *p, const char *s,
                                 const char *what, const char **why)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(param_t));

    for (;;) {
        param_t *prm;
        const char *start;
        while (is_ows(*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        if (*s != ';') {
            *why = apr_psprintf(p, "the %s header is malformed (';' expected)", what);
            return APR_EINVAL;
        }
        s++;
        while (is_ows(*s)) {
            s++;
        }
        if (!*s) {
            break; /* a trailing ";" */
        }
        for (start = s; is_tchar(*s); s++) {
        }
        if (s == start || *s != '=') {
            *why = apr_psprintf(p, "the %s header has a malformed parameter", what);
            return APR_EINVAL;
        }
        prm = apr_array_push(a);
        prm->name = lower_n(p, start, (apr_size_t)(s - start));
        s++;
        if (*s == '"') {
            char *v = apr_palloc(p, strlen(s) + 1), *o = v;
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
                    s++;
                }
                *o++ = *s;
            }
            if (*s != '"') {
                *why = apr_psprintf(p, "the %s header has an unterminated quoted string", what);
                return APR_EINVAL;
            }
            s++;
            *o = '\0';
            prm->value = v;
            prm->quoted = 1;
        }
        else {
            for (start = s; is_tchar(*s); s++) {
            }
            if (s == start) {
                *why = apr_psprintf(p, "the %s header has a parameter without value", what);
                return APR_EINVAL;
            }
            prm->value = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
            prm->quoted = 0;
        }
    }
    *out = a;
    return APR_SUCCESS;
}

/* the one value of parameter name (NULL when absent); APR_EINVAL when repeated */
static apr_status_t param_get(const param_t **out, const apr_array_header_t *a, const char *name,
                              const char *what, apr_pool_t *p, const char **why)
{
    int i;

    *out = NULL;
    for (i = 0; i < a->nelts; i++) {
        const param_t *prm = &APR_ARRAY_IDX(a, i, param_t);
        if (!strcmp(prm->name, name)) {
            if (*out) {
                *why = apr_psprintf(p, "the %s header repeats the parameter %s", what, name);
                return APR_EINVAL;
            }
            *out = prm;
        }
    }
    return APR_SUCCESS;
}

/* "type/subtype" or "type" of a header value, lower case, and where the params start */
static const char *main_value(apr_pool_t *p, const char *s, const char **rest)
{
    const char *start, *end;

    while (is_ows(*s)) {
        s++;
    }
    start = s;
    while (*s && *s != ';' && !is_ows(*s)) {
        s++;
    }
    end = s;
    *rest = s;
    return lower_n(p, start, (apr_size_t)(end - start));
}

static int bchars_ok(const char *b)
{
    apr_size_t n = strlen(b), i;

    if (n < 1 || n > MAX_BOUNDARY || b[n - 1] == ' ') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(b[i]) && !strchr("'()+_,-./:=? ", b[i])) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_multipart_boundary(const char **out, apr_pool_t *p, const char *content_type,
                                   const char **why)
{
    apr_array_header_t *params;
    const param_t *b;
    const char *rest;
    apr_status_t rv;

    if (!content_type || !value_chars_ok(content_type, strlen(content_type))
        || strcmp(main_value(p, content_type, &rest), "multipart/form-data")) {
        *why = "the request is not multipart/form-data";
        return APR_EINVAL;
    }
    if ((rv = parse_params(&params, p, rest, "Content-Type", why)) != APR_SUCCESS
        || (rv = param_get(&b, params, "boundary", "Content-Type", p, why)) != APR_SUCCESS) {
        return rv;
    }
    if (!b || !bchars_ok(b->value)) {
        *why = "the multipart/form-data Content-Type has no valid boundary";
        return APR_EINVAL;
    }
    *out = b->value;
    return APR_SUCCESS;
}

/* RFC 5987 ext-value: charset'lang'pct-encoded, UTF-8 or ISO-8859-1, to UTF-8 */
static apr_status_t ext_value(const char **out, apr_pool_t *p, const param_t *prm,
                              const char **why)
{
    const char *v = prm->value, *q1, *q2, *s;
    char *o, *res;
    int latin1;

    if (prm->quoted || !(q1 = strchr(v, '\'')) || !(q2 = strchr(q1 + 1, '\''))) {
        *why = "the filename* parameter is malformed";
        return APR_EINVAL;
    }
    if ((apr_size_t)(q1 - v) == 5 && !strncasecmp(v, "utf-8", 5)) {
        latin1 = 0;
    }
    else if ((apr_size_t)(q1 - v) == 10 && !strncasecmp(v, "iso-8859-1", 10)) {
        latin1 = 1;
    }
    else {
        *why = "the filename* parameter has a charset other than UTF-8 or ISO-8859-1";
        return APR_EINVAL;
    }
    o = res = apr_palloc(p, strlen(q2) * 2 + 1);
    for (s = q2 + 1; *s; s++) {
        unsigned c;
        if (*s == '%') {
            if (!apr_isxdigit(s[1]) || !apr_isxdigit(s[2])) {
                *why = "the filename* parameter has a bad percent-encoding";
                return APR_EINVAL;
            }
            c = (unsigned)((apr_isdigit(s[1]) ? s[1] - '0' : (apr_tolower(s[1]) - 'a' + 10)) << 4
                           | (apr_isdigit(s[2]) ? s[2] - '0' : (apr_tolower(s[2]) - 'a' + 10)));
            s += 2;
        }
        else if (apr_isalnum(*s) || strchr("!#$&+-.^_`|~", *s)) {
            c = (unsigned char)*s;
        }
        else {
            *why = "the filename* parameter has a character that must be percent-encoded";
            return APR_EINVAL;
        }
        if (c == 0) {
            *why = "the filename* parameter holds a NUL character";
            return APR_EINVAL;
        }
        if (latin1 && c >= 0x80) {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    if (!so_text_utf8_valid(res, (apr_size_t)(o - res))) {
        *why = "the filename* parameter is not valid UTF-8";
        return APR_EINVAL;
    }
    *out = res;
    return APR_SUCCESS;
}

static apr_status_t content_disposition(so_multipart_part_t *part, apr_pool_t *p,
                                        const char *value, const char **why)
{
    apr_array_header_t *params;
    const param_t *name, *fname, *fname_ext;
    const char *rest;
    apr_status_t rv;

    if (strcmp(main_value(p, value, &rest), "form-data")) {
        *why = "a part's Content-Disposition is not form-data";
        return APR_EINVAL;
    }
    if ((rv = parse_params(&params, p, rest, "Content-Disposition", why)) != APR_SUCCESS
        || (rv = param_get(&name, params, "name", "Content-Disposition", p, why)) != APR_SUCCESS
        || (rv = param_get(&fname, params, "filename", "Content-Disposition", p, why))
               != APR_SUCCESS
        || (rv = param_get(&fname_ext, params, "filename*", "Content-Disposition", p, why))
               != APR_SUCCESS) {
        return rv;
    }
    if (!name || !*name->value) {
        *why = "a part has no field name";
        return APR_EINVAL;
    }
    if (!so_text_utf8_valid(name->value, strlen(name->value))) {
        *why = "a field name is not valid UTF-8";
        return APR_EINVAL;
    }
    part->name = name->value;
    if (fname_ext) {
        return ext_value(&part->filename, p, fname_ext, why);
    }
    if (fname) {
        if (!so_text_utf8_valid(fname->value, strlen(fname->value))) {
            *why = "a file name is not valid UTF-8";
            return APR_EINVAL;
        }
        part->filename = fname->value;
    }
    return APR_SUCCESS;
}

/* One header line (without CRLF). */
static apr_status_t header_line(so_multipart_part_t *part, int *have_cd, apr_pool_t *p,
                                const char *line, apr_size_t len, const char **why)
{
    const char *colon, *v, *end;
    apr_size_t nlen;
    const char *value;

    if (len && is_ows(line[0])) {
        *why = "a part header is folded over several lines";
        return APR_EINVAL;
    }
    for (colon = line; colon < line + len && is_tchar(*colon); colon++) {
    }
    nlen = (apr_size_t)(colon - line);
    if (nlen == 0 || colon == line + len || *colon != ':') {
        *why = "a part header line is malformed";
        return APR_EINVAL;
    }
    for (v = colon + 1; v < line + len && is_ows(*v); v++) {
    }
    for (end = line + len; end > v && is_ows(end[-1]); end--) {
    }
    if (!value_chars_ok(v, (apr_size_t)(end - v))) {
        *why = "a part header holds a control character";
        return APR_EINVAL;
    }
    value = apr_pstrmemdup(p, v, (apr_size_t)(end - v));
    if (nlen == 19 && !strncasecmp(line, "Content-Disposition", 19)) {
        if (*have_cd) {
            *why = "a part has two Content-Disposition headers";
            return APR_EINVAL;
        }
        *have_cd = 1;
        return content_disposition(part, p, value, why);
    }
    if (nlen == 12 && !strncasecmp(line, "Content-Type", 12)) {
        if (part->content_type) {
            *why = "a part has two Content-Type headers";
            return APR_EINVAL;
        }
        part->content_type = value;
    }
    else if (nlen == 25 && !strncasecmp(line, "Content-Transfer-Encoding", 25)) {
        if (strcasecmp(value, "binary") && strcasecmp(value, "8bit") && strcasecmp(value, "7bit")) {
            *why = apr_psprintf(p, "the Content-Transfer-Encoding %s is not supported",
                                so_text_clean(p, value, 40));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static const char *find(const char *hay, apr_size_t hlen, const char *needle, apr_size_t nlen)
{
    return memmem(hay, hlen, needle, nlen);
}

/* A part's header lines from *pos up to the empty line (moved past it), at most max_header
   bytes; the part must have a Content-Disposition */
static apr_status_t part_headers(so_multipart_part_t *part, apr_pool_t *p, const char *body,
                                 apr_size_t len, apr_size_t *pos, apr_size_t max_header,
                                 const char **why)
{
    apr_size_t header_bytes = 0;
    int have_cd = 0;
    apr_status_t rv;

    /* header lines up to an empty line */
    for (;;) {
        apr_size_t room = max_header - header_bytes;
        apr_size_t look = len - *pos < room ? len - *pos : room;
        const char *eol = find(body + *pos, look, "\r\n", 2);
        apr_size_t llen;
        if (!eol) {
            if (len - *pos < room) {
                *why = "the upload is truncated (in the part headers)";
                return APR_INCOMPLETE;
            }
            *why = "a part's headers are too large";
            return APR_ENOSPC;
        }
        llen = (apr_size_t)(eol - (body + *pos));
        if (memchr(body + *pos, '\n', llen)) {
            *why = "a part header line ends in a bare LF";
            return APR_EINVAL;
        }
        header_bytes += llen + 2;
        if (llen == 0) {
            *pos += 2;
            break;
        }
        if ((rv = header_line(part, &have_cd, p, body + *pos, llen, why)) != APR_SUCCESS) {
            return rv;
        }
        *pos += llen + 2;
    }
    if (!have_cd) {
        *why = "a part has no Content-Disposition header";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t so_multipart_parse(apr_array_header_t **parts, apr_pool_t *p,
                                const char *content_type, const char *body, apr_size_t len,
                                const so_multipart_limits_t *limits, const char **why)
{
    const char *boundary, *delim, *at;
    apr_size_t dlen, pos, max_parts, max_header;
    apr_array_header_t *out;
    apr_status_t rv;

    *why = NULL;
    if ((rv = so_multipart_boundary(&boundary, p, content_type, why)) != APR_SUCCESS) {
        return rv;
    }
    if (!limits || !limits->max_total) {
        *why = "no size limit for the upload";
        return APR_EINVAL;
    }
    if (len > limits->max_total) {
        *why = "the upload is too large";
        return APR_ENOSPC;
    }
    if (!body) {
        len = 0;
        body = "";
    }
    max_parts = limits->max_parts ? limits->max_parts : DEFAULT_MAX_PARTS;
    max_header = limits->max_header_bytes ? limits->max_header_bytes : DEFAULT_MAX_HEADER;
    out = apr_array_make(p, 4, sizeof(so_multipart_part_t));
    /* "\r\n--boundary": the delimiter inside the body; the first may lack the CRLF */
    delim = apr_pstrcat(p, "\r\n--", boundary, NULL);
    dlen = strlen(delim);
    if (len >= dlen - 2 && !memcmp(body, delim + 2, dlen - 2)) {
        pos = dlen - 2;
    }
    else if ((at = find(body, len, delim, dlen))) {
        pos = (apr_size_t)(at - body) + dlen; /* after a preamble */
    }
    else if (len < dlen - 2 && !memcmp(body, delim + 2, len)) {
        *why = len ? "the upload is truncated (in the first boundary)" : "the upload is empty";
        return APR_INCOMPLETE;
    }
    else {
        *why = "the body does not hold the multipart boundary";
        return APR_EINVAL;
    }

    for (;;) {
        so_multipart_part_t *part;

        /* after a delimiter: "--" closes, else optional padding and CRLF */
        if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-') {
            break;
        }
        while (pos < len && is_ows(body[pos])) {
            pos++;
        }
        if (len - pos < 2) {
            *why = "the upload is truncated (no final boundary)";
            return APR_INCOMPLETE;
        }
        if (body[pos] != '\r' || body[pos + 1] != '\n') {
            *why = "a multipart boundary line is malformed (the boundary occurs in the data?)";
            return APR_EINVAL;
        }
        pos += 2;
        if ((apr_size_t)out->nelts >= max_parts) {
            *why = apr_psprintf(p, "the upload has more than %" APR_SIZE_T_FMT " parts",
                                max_parts);
            return APR_ENOSPC;
        }
        part = apr_array_push(out);
        memset(part, 0, sizeof(*part));

        if ((rv = part_headers(part, p, body, len, &pos, max_header, why)) != APR_SUCCESS) {
            return rv;
        }
        /* the data, up to the next delimiter */
        if (!(at = find(body + pos, len - pos, delim, dlen))) {
            *why = "the upload is truncated (no final boundary)";
            return APR_INCOMPLETE;
        }
        part->data = body + pos;
        part->len = (apr_size_t)(at - (body + pos));
        pos = (apr_size_t)(at - body) + dlen;
    }
    if (out->nelts == 0) {
        *why = "the upload has no parts";
        return APR_EINVAL;
    }
    *parts = out;
    return APR_SUCCESS;
}

const so_multipart_part_t *so_multipart_find(const apr_array_header_t *parts, const char *name)
{
    int i;

    for (i = 0; parts && name && i < parts->nelts; i++) {
        const so_multipart_part_t *part = &APR_ARRAY_IDX(parts, i, so_multipart_part_t);
        if (!strcmp(part->name, name)) {
            return part;
        }
    }
    return NULL;
}
