/* mod_sslorders: site seal rendering (no httpd types).
 *
 * This file makes bytes; the handler (routing, caching, ETags, headers) is the
 * glue's. URL layout assumed below a seal base URL, which is SSLOrdersPublicURL plus
 * the location of `SetHandler sslorders-seal`, e.g. "https://orders.example.net/seal":
 *
 *   <base>/<id>.js               so_seal_script()      application/javascript
 *   <base>/<id>.svg?host=<host>  so_seal_svg()         image/svg+xml
 *   <base>/<id>/report?host=<h>  so_seal_report_html() text/html
 *
 * <id> is a random public seal id (so_seal_new_id). The script passes the page's
 * host (location.hostname) as ?host= to the image and the report; the no-JavaScript
 * snippet does not, so the handler takes the host from the Referer (or Origin)
 * instead; both links ask for referrerpolicy="origin" so that browsers send it. The
 * handler should check the host with so_seal_host_matches() and render the
 * SO_SEAL_MISMATCH state ("not valid for this site") rather than fail. Suggested
 * headers: the SVG with "Content-Security-Policy: default-src 'none'" (it has no
 * script and no style element, but an SVG opened directly is a document); the report
 * with "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'" (no script; its
 * style is one <style> element). Everything here is deterministic for equal input
 * (cacheable, stable ETags); no cookies are used or needed.
 */
#ifndef SO_SEAL_H
#define SO_SEAL_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    SO_SEAL_VALID = 0, /* issued, within its validity, not revoked, on one of its names */
    SO_SEAL_EXPIRED,   /* past notAfter */
    SO_SEAL_REVOKED,
    SO_SEAL_PENDING,   /* not issued yet (or not valid yet) */
    SO_SEAL_DISABLED,  /* the seal is switched off (by the customer or the provider) */
    SO_SEAL_MISMATCH   /* "not valid for this site": the page host is not a name of the order */
} so_seal_state_t;

typedef enum { SO_SEAL_DV = 0, SO_SEAL_OV, SO_SEAL_EV } so_seal_level_t;

/* A published validation document ("site seal artifact"). */
typedef struct {
    const char *name; /* shown as the link text */
    const char *type; /* e.g. "pdf", "Business registration" */
    const char *url;  /* http(s) URL or an absolute path; anything else is shown without link */
} so_seal_doc_t;

/* What the seal shows. Strings are untrusted (they are cleaned and escaped here);
 * NULL is allowed for every string but domain. */
typedef struct {
    const char *seal_id;
    const char *domain;                 /* the order's common name */
    const apr_array_header_t *names;    /* const char *: every name (CN and SANs); may be NULL */
    so_seal_level_t level;
    so_seal_state_t state;              /* e.g. from so_seal_state_of() */
    const char *host;                   /* the page host the seal is shown on; NULL/"" unknown */
    const char *org_name;               /* organization: shown for OV and EV only */
    const char *org_city;
    const char *org_state;
    const char *org_country;
    const char *issuer;                 /* the issuing CA's name */
    apr_int64_t not_before;             /* seconds since the epoch; 0 unknown */
    apr_int64_t not_after;
    apr_int64_t revoked_at;             /* 0: not revoked */
    int artifacts;                      /* 1: list the published documents */
    const apr_array_header_t *documents;/* so_seal_doc_t; may be NULL */
    apr_int64_t now;                    /* "report generated" time; 0 leaves it out */
    const char *seal_base;              /* for the badge on the report page; NULL: no badge */
    /* white-label: NULL or "" leaves the defaults */
    const char *brand_name;             /* on the badge's last line and the report */
    const char *brand_color;            /* #rrggbb: the report's accent and icon */
    const char *support_url;            /* http(s):// or mailto:, linked from the report */
} so_seal_info_t;

/* The snippets a customer pastes into a page. */
typedef struct {
    /* <script src="<base>/<id>.js" async></script>: not an inline script, so it works
     * under a strict CSP once the seal origin is allowed in script-src and img-src */
    const char *script;
    /* <a href="<base>/<id>/report"><img src="<base>/<id>.svg"></a>: no JavaScript;
     * the host comes from the Referer */
    const char *nojs;
    /* script followed by <noscript>nojs</noscript> */
    const char *combined;
    /* the origin a customer's CSP must allow ("https://orders.example.net") */
    const char *origin;
} so_seal_snippets_t;

/* "valid", "expired", "revoked", "pending", "disabled", "mismatch" */
const char *so_seal_state_name(so_seal_state_t state);
/* "DV", "OV", "EV" */
const char *so_seal_level_name(so_seal_level_t level);
/* "dv"/"ov"/"ev" (any case) -> level; APR_EINVAL otherwise */
apr_status_t so_seal_level_parse(const char *name, so_seal_level_t *level);

/* The state to show, from the facts in info (names, host, not_before, not_after,
 * revoked_at, now) and two more: enabled (the seal switch) and issued (a current
 * certificate exists). First match wins: disabled; mismatch (a known host that no
 * name covers); pending (not issued, or before not_before); revoked; expired
 * (now >= not_after); valid. An unknown host (NULL or "") is not a mismatch: the
 * handler decides whether it accepts seals without a known host. */
so_seal_state_t so_seal_state_of(const so_seal_info_t *info, int enabled, int issued);

/* 1 when the page host is covered by one of names (const char *): equal, ASCII
 * case-insensitive; "*.example.com" covers exactly one more label ("www.example.com",
 * not "example.com", not "a.b.example.com"). One trailing dot and a ":port" of the
 * host are ignored, and a trailing dot of a name. Hosts are expected in A-label
 * (punycode) form, as location.hostname gives them. */
int so_seal_host_matches(const apr_array_header_t *names, const char *host);

/* A new random public seal id: 128 random bits, base64url without padding (22
 * characters of [A-Za-z0-9_-]). */
apr_status_t so_seal_new_id(const char **out, apr_pool_t *p);
/* 1 when id looks like a seal id: 16 to 64 characters of [A-Za-z0-9_-]. */
int so_seal_id_valid(const char *id);

/* The badge (SVG 1.1, 180x64): level, domain and state; every text escaped, long
 * domains shortened with "..." (the <title> holds the full name). APR_EINVAL when
 * info or its domain is missing. */
apr_status_t so_seal_svg(const char **out, apr_size_t *len, apr_pool_t *p,
                         const so_seal_info_t *info);

/* The embed script for <base>/<id>.js. Loaded by <script src=... async>, it inserts
 * right after its own script element (document.currentScript) a link to the report
 * holding the badge image, both with ?host=<location.hostname>. No cookies, no
 * storage, one global (window.SSLOrdersSeal). The id and base are embedded as JSON
 * with < > & / escaped, so no value can end the script. APR_EINVAL with *why for an
 * invalid id or base URL (http(s), no credentials, query or fragment). */
apr_status_t so_seal_script(const char **out, apr_size_t *len, apr_pool_t *p,
                            const char *seal_base, const char *seal_id, const char **why);

/* The snippets for a seal. APR_EINVAL with *why as so_seal_script(). */
apr_status_t so_seal_snippets(so_seal_snippets_t **out, apr_pool_t *p, const char *seal_base,
                              const char *seal_id, const char **why);

/* The public report: a complete HTML5 document without script, titled "Secured site
 * report for <domain>": the state in words (valid from ... to ... / expired on ... /
 * revoked [on ...] / pending issuance / disabled / not valid for this site <host>),
 * the names, the validation level, the issuer, the issue and expiry dates, the
 * organization (name, city, state, country) for OV and EV, and the published
 * documents (name, type, link) when artifacts is set. A disabled seal shows the
 * domain and its state only. APR_EINVAL when info or its domain is missing. */
apr_status_t so_seal_report_html(const char **out, apr_size_t *len, apr_pool_t *p,
                                 const so_seal_info_t *info);

#endif
