#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "so_seal.h"
#include "so_text.h"
#include "so_util.h"

#define MAX_HOST 253
#define MAX_BASE 512
#define BADGE_DOMAIN_CHARS 24
#define BADGE_BRAND_CHARS 26

const char *so_seal_state_name(so_seal_state_t state)
{
    switch (state) {
    case SO_SEAL_VALID: return "valid";
    case SO_SEAL_EXPIRED: return "expired";
    case SO_SEAL_REVOKED: return "revoked";
    case SO_SEAL_PENDING: return "pending";
    case SO_SEAL_DISABLED: return "disabled";
    case SO_SEAL_MISMATCH: return "mismatch";
    }
    return "unknown";
}

const char *so_seal_level_name(so_seal_level_t level)
{
    switch (level) {
    case SO_SEAL_OV: return "OV";
    case SO_SEAL_EV: return "EV";
    case SO_SEAL_DV: break;
    }
    return "DV";
}

static const char *level_words(so_seal_level_t level)
{
    switch (level) {
    case SO_SEAL_OV: return "Organization validated";
    case SO_SEAL_EV: return "Extended validation";
    case SO_SEAL_DV: break;
    }
    return "Domain validated";
}

apr_status_t so_seal_level_parse(const char *name, so_seal_level_t *level)
{
    if (name && !strcasecmp(name, "dv")) {
        *level = SO_SEAL_DV;
    }
    else if (name && !strcasecmp(name, "ov")) {
        *level = SO_SEAL_OV;
    }
    else if (name && !strcasecmp(name, "ev")) {
        *level = SO_SEAL_EV;
    }
    else {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* ---- hosts ----------------------------------------------------------------------- */

/* host or name in comparable form in buf (MAX_HOST + 1 bytes): lower case, no port
 * (hosts), no trailing dot; NULL when it cannot match anything */
static const char *normal_host(char *buf, const char *h, int is_host)
{
    apr_size_t len;
    const char *end, *c;

    if (!h || !*h) {
        return NULL;
    }
    end = h + strlen(h);
    if (is_host) {
        if (*h == '[') { /* [v6] or [v6]:port */
            if (!(c = strchr(h, ']')) || (c[1] && c[1] != ':')) {
                return NULL;
            }
            end = c + 1;
        }
        else if ((c = strchr(h, ':')) && !strchr(c + 1, ':')) {
            end = c; /* host:port; a bare IPv6 address has more colons */
        }
        if (*end == ':') {
            if (!end[1]) {
                return NULL;
            }
            for (c = end + 1; *c; c++) {
                if (!apr_isdigit(*c)) {
                    return NULL;
                }
            }
        }
    }
    len = (apr_size_t)(end - h);
    if (len && h[len - 1] == '.') {
        len--;
    }
    if (!len || len > MAX_HOST || *h == '.') {
        return NULL;
    }
    for (c = h; c < h + len; c++) {
        if (*c == '.' && c + 1 < h + len && c[1] == '.') {
            return NULL;
        }
        buf[c - h] = (char)apr_tolower(*c);
    }
    buf[len] = '\0';
    return buf;
}

int so_seal_host_matches(const apr_array_header_t *names, const char *host)
{
    char hbuf[MAX_HOST + 1], nbuf[MAX_HOST + 1];
    const char *h;
    apr_size_t hlen;
    int i;

    if (!names || !(h = normal_host(hbuf, host, 1))) {
        return 0;
    }
    hlen = strlen(h);
    for (i = 0; i < names->nelts; i++) {
        const char *n = normal_host(nbuf, APR_ARRAY_IDX(names, i, const char *), 0);
        if (!n) {
            continue;
        }
        if (n[0] == '*' && n[1] == '.') {
            /* exactly one non-empty label in place of the star */
            apr_size_t slen = strlen(n + 1);
            if (hlen > slen && !strcmp(h + hlen - slen, n + 1) && !memchr(h, '.', hlen - slen)
                && !strchr(n + 2, '*')) {
                return 1;
            }
        }
        else if (!strcmp(h, n)) {
            return 1;
        }
    }
    return 0;
}

so_seal_state_t so_seal_state_of(const so_seal_info_t *info, int enabled, int issued)
{
    if (!enabled) {
        return SO_SEAL_DISABLED;
    }
    if (info->host && *info->host && !so_seal_host_matches(info->names, info->host)) {
        return SO_SEAL_MISMATCH;
    }
    if (!issued || (info->not_before && info->now < info->not_before)) {
        return SO_SEAL_PENDING;
    }
    if (info->revoked_at) {
        return SO_SEAL_REVOKED;
    }
    if (info->not_after && info->now >= info->not_after) {
        return SO_SEAL_EXPIRED;
    }
    return SO_SEAL_VALID;
}

/* ---- ids and URLs ---------------------------------------------------------------- */

apr_status_t so_seal_new_id(const char **out, apr_pool_t *p)
{
    unsigned char raw[16];
    char *s, *c;
    apr_status_t rv;

    if ((rv = so_random_bytes(raw, sizeof(raw))) != APR_SUCCESS) {
        return rv;
    }
    s = apr_pstrdup(p, so_base64(p, raw, sizeof(raw)));
    for (c = s; *c; c++) {
        if (*c == '+') {
            *c = '-';
        }
        else if (*c == '/') {
            *c = '_';
        }
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    *out = s;
    return APR_SUCCESS;
}

int so_seal_id_valid(const char *id)
{
    apr_size_t n = 0;

    if (!id) {
        return 0;
    }
    for (; id[n]; n++) {
        if (!apr_isalnum(id[n]) && id[n] != '-' && id[n] != '_') {
            return 0;
        }
    }
    return n >= 16 && n <= 64;
}

/* base without trailing slashes and its origin, or APR_EINVAL */
static apr_status_t check_base(const char **base, const char **origin, apr_pool_t *p,
                               const char *in, const char *id, const char **why)
{
    const char *c, *auth;
    char *b;
    apr_size_t len;

    if (!so_seal_id_valid(id)) {
        *why = "invalid seal id";
        return APR_EINVAL;
    }
    if (!in || (strncasecmp(in, "https://", 8) && strncasecmp(in, "http://", 7))) {
        *why = "the seal base URL must start with https:// or http://";
        return APR_EINVAL;
    }
    len = strlen(in);
    if (len > MAX_BASE) {
        *why = "the seal base URL is too long";
        return APR_EINVAL;
    }
    for (c = in; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("-._~:/%[]", *c)) {
            *why = "the seal base URL may not hold credentials, a query, a fragment, quotes or "
                   "spaces";
            return APR_EINVAL;
        }
    }
    b = apr_pstrmemdup(p, in, len);
    while (len > 0 && b[len - 1] == '/') {
        b[--len] = '\0';
    }
    auth = strstr(b, "://") + 3;
    if (!*auth || *auth == '/' || *auth == ':') {
        *why = "the seal base URL has no host";
        return APR_EINVAL;
    }
    c = strchr(auth, '/');
    *origin = c ? apr_pstrmemdup(p, b, (apr_size_t)(c - b)) : b;
    *base = b;
    return APR_SUCCESS;
}

/* JSON that is also safe inside an HTML <script> element or a JS string */
static const char *js_json(apr_pool_t *p, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH | JSON_SORT_KEYS);
    const char *c;
    char *out, *o;

    if (!s) {
        return NULL;
    }
    o = out = apr_palloc(p, strlen(s) * 6 + 1);
    for (c = s; *c; c++) {
        switch (*c) {
        case '<': memcpy(o, "\\u003c", 6); o += 6; break;
        case '>': memcpy(o, "\\u003e", 6); o += 6; break;
        case '&': memcpy(o, "\\u0026", 6); o += 6; break;
        case '\'': memcpy(o, "\\u0027", 6); o += 6; break;
        default: *o++ = *c;
        }
    }
    *o = '\0';
    free(s);
    return out;
}

static const char script_tpl[] =
    "/* site seal (mod_sslorders): shows the seal next to the <script> that loads it */\n"
    "(function (w, d) {\n"
    "  \"use strict\";\n"
    "  var c = %s;\n"
    "  var ns = w.SSLOrdersSeal = w.SSLOrdersSeal || { version: 1, seals: [] };\n"
    "  var s = d.currentScript;\n"
    "  if (!s || !s.parentNode) { return; }\n"
    "  var q = \"?host=\" + encodeURIComponent((w.location && w.location.hostname) || \"\");\n"
    "  var u = c.base + \"/\" + encodeURIComponent(c.id);\n"
    "  var a = d.createElement(\"a\");\n"
    "  a.href = u + \"/report\" + q;\n"
    "  a.target = \"_blank\";\n"
    "  a.rel = \"noopener\";\n"
    "  a.referrerPolicy = \"origin\";\n"
    "  a.className = \"sslorders-seal\";\n"
    "  a.title = \"Verify this site's certificate\";\n"
    "  var i = d.createElement(\"img\");\n"
    "  i.src = u + \".svg\" + q;\n"
    "  i.alt = \"Secured site seal\";\n"
    "  i.width = 180;\n"
    "  i.height = 64;\n"
    "  i.referrerPolicy = \"origin\";\n"
    "  a.appendChild(i);\n"
    "  s.parentNode.insertBefore(a, s.nextSibling);\n"
    "  ns.seals.push({ id: c.id, element: a });\n"
    "})(window, document);\n";

apr_status_t so_seal_script(const char **out, apr_size_t *len, apr_pool_t *p,
                            const char *seal_base, const char *seal_id, const char **why)
{
    const char *base, *origin, *cfg;
    json_t *j = NULL;
    apr_status_t rv;

    if ((rv = check_base(&base, &origin, p, seal_base, seal_id, why)) != APR_SUCCESS) {
        goto leave;
    }
    j = json_pack("{s:s, s:s}", "id", seal_id, "base", base);
    if (!j || !(cfg = js_json(p, j))) {
        *why = "out of memory";
        rv = APR_ENOMEM;
        goto leave;
    }
    *out = apr_psprintf(p, script_tpl, cfg);
    *len = strlen(*out);
leave:
    json_decref(j);
    return rv;
}

apr_status_t so_seal_snippets(so_seal_snippets_t **out, apr_pool_t *p, const char *seal_base,
                              const char *seal_id, const char **why)
{
    const char *base, *origin, *u;
    so_seal_snippets_t *s;
    apr_status_t rv;

    if ((rv = check_base(&base, &origin, p, seal_base, seal_id, why)) != APR_SUCCESS) {
        return rv;
    }
    /* base and id hold no character that needs escaping; escape anyway */
    u = so_text_html_escape(p, apr_pstrcat(p, base, "/", seal_id, NULL));
    s = apr_pcalloc(p, sizeof(*s));
    s->script = apr_psprintf(p, "<script src=\"%s.js\" async></script>", u);
    s->nojs = apr_psprintf(p,
                           "<a href=\"%s/report\" target=\"_blank\" rel=\"noopener\" "
                           "referrerpolicy=\"origin\"><img src=\"%s.svg\" "
                           "alt=\"Secured site seal\" width=\"180\" height=\"64\" "
                           "referrerpolicy=\"origin\"></a>",
                           u, u);
    s->combined = apr_pstrcat(p, s->script, "<noscript>", s->nojs, "</noscript>", NULL);
    s->origin = origin;
    *out = s;
    return APR_SUCCESS;
}

/* ---- badge ----------------------------------------------------------------------- */

static const char *state_color(so_seal_state_t st)
{
    switch (st) {
    case SO_SEAL_VALID: return "#1a7f37";
    case SO_SEAL_PENDING: return "#9a6700";
    case SO_SEAL_DISABLED: return "#6e7781";
    case SO_SEAL_EXPIRED:
    case SO_SEAL_REVOKED:
    case SO_SEAL_MISMATCH: break;
    }
    return "#cf222e";
}

static const char *state_headline(so_seal_state_t st)
{
    switch (st) {
    case SO_SEAL_VALID: return "SECURED SITE";
    case SO_SEAL_EXPIRED: return "CERTIFICATE EXPIRED";
    case SO_SEAL_REVOKED: return "CERTIFICATE REVOKED";
    case SO_SEAL_PENDING: return "PENDING ISSUANCE";
    case SO_SEAL_DISABLED: return "SEAL DISABLED";
    case SO_SEAL_MISMATCH: break;
    }
    return "NOT VALID FOR THIS SITE";
}

static const char badge_tpl[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"180\" height=\"64\" "
    "viewBox=\"0 0 180 64\" role=\"img\" aria-label=\"%s\">\n"
    "<title>%s</title>\n"
    "<rect x=\"0.5\" y=\"0.5\" width=\"179\" height=\"63\" rx=\"6\" fill=\"#ffffff\" "
    "stroke=\"%s\"/>\n"
    "<path d=\"M6.5 0.5h36v63h-36a6 6 0 0 1-6-6v-51a6 6 0 0 1 6-6z\" fill=\"%s\"/>\n"
    "<text x=\"21.5\" y=\"28\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
    "font-size=\"9\" fill=\"#ffffff\" text-anchor=\"middle\">SSL</text>\n"
    "<text x=\"21.5\" y=\"44\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
    "font-size=\"13\" font-weight=\"bold\" fill=\"#ffffff\" text-anchor=\"middle\">%s</text>\n"
    "<text x=\"50\" y=\"19\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"%s\" "
    "font-weight=\"bold\" fill=\"%s\">%s</text>\n"
    "<text x=\"50\" y=\"37\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"10\" "
    "fill=\"#1f2328\">%s</text>\n"
    "<text x=\"50\" y=\"54\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"9\" "
    "fill=\"#57606a\">%s</text>\n"
    "</svg>\n";

apr_status_t so_seal_svg(const char **out, apr_size_t *len, apr_pool_t *p,
                         const so_seal_info_t *info)
{
    const char *color, *headline, *title, *domain_short;

    if (!info || !info->domain) {
        return APR_EINVAL;
    }
    color = state_color(info->state);
    headline = state_headline(info->state);
    domain_short = so_text_html(p, info->domain, BADGE_DOMAIN_CHARS);
    title = so_text_html(p,
                         apr_psprintf(p, "%s: %s (%s)%s%s", so_text_clean(p, info->domain, MAX_HOST),
                                      headline, so_seal_level_name(info->level),
                                      info->brand_name && *info->brand_name ? ", verified by " : "",
                                      info->brand_name ? info->brand_name : ""),
                         0);
    *out = apr_psprintf(p, badge_tpl, title, title, color, color, so_seal_level_name(info->level),
                        info->state == SO_SEAL_MISMATCH ? "8.5" : "10", color, headline,
                        domain_short,
                        info->brand_name && *info->brand_name
                            ? so_text_html(p, info->brand_name, BADGE_BRAND_CHARS)
                            : level_words(info->level));
    *len = strlen(*out);
    return APR_SUCCESS;
}

/* ---- report ---------------------------------------------------------------------- */

static const char report_style[] =
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
    "color:#1f2328;background:#f6f8fa}"
    "main{max-width:40em;margin:1.5em auto;padding:1.5em;background:#fff;"
    "border:1px solid #d0d7de;border-radius:8px}"
    "h1{font-size:1.35em;margin:0 0 .6em;overflow-wrap:anywhere}"
    "h2{font-size:1.05em;margin:1.4em 0 .4em;border-bottom:1px solid #d0d7de}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
    "ul{margin:0;padding-left:1.2em}li{overflow-wrap:anywhere}"
    ".status{padding:.6em .8em;border-radius:6px;font-weight:600}"
    ".st-valid{background:#dafbe1;color:#1a7f37}"
    ".st-pending{background:#fff8c5;color:#9a6700}"
    ".st-disabled{background:#eaeef2;color:#57606a}"
    ".st-expired,.st-revoked,.st-mismatch{background:#ffebe9;color:#cf222e}"
    ".asof{color:#57606a;font-size:.85em;margin-top:1.5em}";

static const char *fmt_date(apr_pool_t *p, apr_int64_t t)
{
    return t ? apr_pstrcat(p, so_time_fmt(p, t), " UTC", NULL) : "unknown";
}

/* an http(s) URL or an absolute path (not "//host"), with no character that could
 * end an attribute; NULL otherwise */
static const char *safe_url(const char *u)
{
    const char *c;

    if (!u) {
        return NULL;
    }
    if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7)
        && !(u[0] == '/' && u[1] != '/' && u[1] != '\\')) {
        return NULL;
    }
    for (c = u; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\`", ch)) {
            return NULL;
        }
    }
    return u;
}

static const char *state_words(apr_pool_t *p, const so_seal_info_t *in)
{
    switch (in->state) {
    case SO_SEAL_VALID:
        return apr_psprintf(p, "Valid (from %s to %s)", fmt_date(p, in->not_before),
                            fmt_date(p, in->not_after));
    case SO_SEAL_EXPIRED: return apr_psprintf(p, "Expired on %s", fmt_date(p, in->not_after));
    case SO_SEAL_REVOKED:
        return in->revoked_at ? apr_psprintf(p, "Revoked on %s", fmt_date(p, in->revoked_at))
                              : "Revoked";
    case SO_SEAL_PENDING: return "Pending issuance";
    case SO_SEAL_DISABLED: return "Disabled: this site seal is not active";
    case SO_SEAL_MISMATCH: break;
    }
    /* never the host itself: it is request text, not one of the order's names */
    return "Not valid for this site";
}

static void dl_row(apr_array_header_t *h, apr_pool_t *p, const char *term, const char *value)
{
    if (value && *value) {
        APR_ARRAY_PUSH(h, const char *) =
            apr_psprintf(p, "<dt>%s</dt><dd>%s</dd>\n", term, so_text_html(p, value, 512));
    }
}

/* #rrggbb */
static int color_ok(const char *c)
{
    int i;
    for (i = 1; c[0] == '#' && i < 7 && apr_isxdigit(c[i]); i++) {
    }
    return i == 7 && !c[7];
}

/* safe_url(), or a mailto: URL without a character that could end an attribute */
static const char *support_link(const char *u)
{
    const char *c;
    if (!u || strncasecmp(u, "mailto:", 7)) {
        return safe_url(u);
    }
    for (c = u + 7; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\`", ch)) {
            return NULL;
        }
    }
    return u[7] ? u : NULL;
}

/* The report's certificate, organization and documents sections (a seal not disabled) */
static void report_certificate(apr_array_header_t *h, apr_pool_t *p, const so_seal_info_t *in,
                               const char *domain)
{
    int i;

#define OUT(s) (APR_ARRAY_PUSH(h, const char *) = (s))
    OUT("<h2>Certificate</h2>\n<dl>\n");
    OUT("<dt>Site names</dt><dd><ul>\n");
    if (in->names && in->names->nelts) {
        for (i = 0; i < in->names->nelts; i++) {
            OUT(apr_psprintf(p, "<li>%s</li>\n",
                             so_text_html(p, APR_ARRAY_IDX(in->names, i, const char *),
                                          MAX_HOST)));
        }
    }
    else {
        OUT(apr_psprintf(p, "<li>%s</li>\n", domain));
    }
    OUT("</ul></dd>\n");
    dl_row(h, p, "Validation level",
           apr_psprintf(p, "%s (%s)", level_words(in->level), so_seal_level_name(in->level)));
    dl_row(h, p, "Issuer", in->issuer);
    if (in->state != SO_SEAL_PENDING) {
        dl_row(h, p, "Issued", in->not_before ? fmt_date(p, in->not_before) : NULL);
        dl_row(h, p, "Expires", in->not_after ? fmt_date(p, in->not_after) : NULL);
    }
    OUT("</dl>\n");
    if (in->level != SO_SEAL_DV
        && (in->org_name || in->org_city || in->org_state || in->org_country)) {
        OUT("<h2>Organization</h2>\n<dl>\n");
        dl_row(h, p, "Name", in->org_name);
        dl_row(h, p, "City", in->org_city);
        dl_row(h, p, "State", in->org_state);
        dl_row(h, p, "Country", in->org_country);
        OUT("</dl>\n");
    }
    if (in->artifacts && in->documents && in->documents->nelts) {
        OUT("<h2>Validation documents</h2>\n<ul>\n");
        for (i = 0; i < in->documents->nelts; i++) {
            const so_seal_doc_t *d = &APR_ARRAY_IDX(in->documents, i, so_seal_doc_t);
            const char *name = so_text_html(p, d->name ? d->name : "document", 200);
            const char *url = safe_url(d->url);
            const char *type =
                d->type && *d->type
                    ? apr_psprintf(p, " (%s)", so_text_html(p, d->type, 100))
                    : "";
            if (url) {
                OUT(apr_psprintf(p,
                                 "<li><a href=\"%s\" rel=\"nofollow noopener\" "
                                 "target=\"_blank\">%s</a>%s</li>\n",
                                 so_text_html_escape(p, url), name, type));
            }
            else {
                OUT(apr_psprintf(p, "<li>%s%s</li>\n", name, type));
            }
        }
        OUT("</ul>\n");
    }
#undef OUT
}

apr_status_t so_seal_report_html(const char **out, apr_size_t *len, apr_pool_t *p,
                                 const so_seal_info_t *in)
{
    apr_array_header_t *h;
    const char *domain, *base, *origin, *why, *brand, *color;
    int full, host_shown;

    if (!in || !in->domain) {
        return APR_EINVAL;
    }
    h = apr_array_make(p, 64, sizeof(const char *));
    domain = so_text_html(p, in->domain, MAX_HOST);
    /* the page's host goes into the badge URL only when it is one of the order's names */
    host_shown = in->host && *in->host && so_seal_host_matches(in->names, in->host);
    full = in->state != SO_SEAL_DISABLED;
#define OUT(s) (APR_ARRAY_PUSH(h, const char *) = (s))
    OUT("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n");
    brand = in->brand_name && *in->brand_name ? so_text_html(p, in->brand_name, 64) : NULL;
    color = in->brand_color && color_ok(in->brand_color) ? in->brand_color : "#0b5394";
    OUT(apr_psprintf(p, "<title>Secured site report for %s%s%s</title>\n", domain,
                     brand ? " — " : "", brand ? brand : ""));
    /* an icon in the page itself: browsers do not ask /favicon.ico (a 404) */
    OUT(apr_psprintf(p,
                     "<link rel=\"icon\" href=\"data:image/svg+xml,%%3Csvg "
                     "xmlns=%%22http://www.w3.org/2000/svg%%22 viewBox=%%220 0 16 16%%22%%3E%%3Crect "
                     "width=%%2216%%22 height=%%2216%%22 rx=%%223%%22 fill=%%22%%23%s%%22/%%3E%%3Cpath "
                     "d=%%22M4 8.5l2.5 2.5L12 5.5%%22 stroke=%%22white%%22 stroke-width=%%222%%22 "
                     "fill=%%22none%%22/%%3E%%3C/svg%%3E\">\n",
                     color + 1));
    OUT(apr_psprintf(p, "<style>%smain{border-top:4px solid %s}</style>\n</head>\n<body>\n<main>\n",
                     report_style, color));
    OUT(apr_psprintf(p, "<h1>Secured site report for %s</h1>\n", domain));
    if (in->seal_base
        && check_base(&base, &origin, p, in->seal_base, in->seal_id, &why) == APR_SUCCESS) {
        OUT(apr_psprintf(p,
                         "<p><img src=\"%s/%s.svg%s%s\" alt=\"Site seal\" width=\"180\" "
                         "height=\"64\"></p>\n",
                         so_text_html_escape(p, base), in->seal_id,
                         host_shown ? "?host=" : "",
                         host_shown
                             ? so_text_html_escape(
                                   p, apr_pescape_urlencoded(p, so_text_clean(p, in->host,
                                                                              MAX_HOST)))
                             : ""));
    }
    OUT(apr_psprintf(p, "<p class=\"status st-%s\">Status: %s</p>\n",
                     so_seal_state_name(in->state), so_text_html(p, state_words(p, in), 0)));
    if (full) {
        report_certificate(h, p, in, domain);
    }
    if (in->now) {
        OUT(apr_psprintf(p, "<p class=\"asof\">Report generated %s%s%s.</p>\n", fmt_date(p, in->now),
                         brand ? " by " : "", brand ? brand : ""));
    }
    if (in->support_url && *in->support_url && support_link(in->support_url)) {
        OUT(apr_psprintf(p, "<p class=\"asof\"><a href=\"%s\" rel=\"noopener\">Help and support</a></p>\n",
                         so_text_html_escape(p, in->support_url)));
    }
    OUT("</main>\n</body>\n</html>\n");
#undef OUT
    *out = apr_array_pstrcat(p, h, 0);
    *len = strlen(*out);
    return APR_SUCCESS;
}
