/* mod_sslorders: domain control validation over HTTP (libcurl): the file of the BR
 * methods (http, https) and ACME http-01, redirects as the BR allow. See so_dcv.h. */
#include <errno.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "so_dcv.h"
#include "so_log.h"
#include "so_util.h"

#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_HTTP_MS 15000
#define DEFAULT_MAX_BODY (64 * 1024)
#define DEFAULT_MAX_REDIRECTS 5

/* ---- HTTP ------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t max;
    int over;
} body_t;

static size_t on_body(char *data, size_t size, size_t n, void *baton)
{
    body_t *b = baton;
    size_t len = size * n;
    if (b->len + len > b->max) {
        b->over = 1;
        return 0; /* aborts the transfer */
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return len;
}

static const char *curl_why(apr_pool_t *p, CURL *c, CURLcode cc, const char *url,
                            const char *errbuf, const body_t *body, long timeout_ms,
                            apr_status_t *rv)
{
    char *host = NULL;
    long oserr = 0;
    CURLU *u = curl_url();

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    }
    curl_url_cleanup(u);
    if (host) {
        char *h = apr_pstrdup(p, host);
        curl_free(host);
        host = h;
    }
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
    *rv = APR_EGENERAL;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return apr_psprintf(p, "the name %s does not resolve to an address (for %s)", host, url);
    case CURLE_COULDNT_CONNECT:
        if (oserr == ECONNREFUSED) {
            *rv = APR_ECONNREFUSED;
            return apr_psprintf(p, "connection refused by %s (for %s)", host, url);
        }
        if (oserr) {
            return apr_psprintf(p, "cannot connect to %s: %s (for %s)", host, strerror((int)oserr),
                                url);
        }
        return apr_psprintf(p, "cannot connect to %s (for %s)", host, url);
    case CURLE_OPERATION_TIMEDOUT:
        *rv = APR_TIMEUP;
        return apr_psprintf(p, "no answer from %s within %ld seconds (for %s)", host,
                            (timeout_ms + 999) / 1000, url);
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (body->over || cc == CURLE_FILESIZE_EXCEEDED) {
            *rv = APR_EMISMATCH;
            return apr_psprintf(p, "the answer from %s is larger than %lu bytes", url,
                                (unsigned long)body->max);
        }
        break;
    case CURLE_SSL_CONNECT_ERROR:
        return apr_psprintf(p, "the TLS handshake with %s failed (%s)", host,
                            *errbuf ? errbuf : curl_easy_strerror(cc));
    case CURLE_ABORTED_BY_CALLBACK:
        *rv = APR_EINTR;
        return apr_psprintf(p, "the check of %s was stopped: the server stops", url);
    case CURLE_GOT_NOTHING:
        return apr_psprintf(p, "%s closed the connection without answering (for %s)", host, url);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return apr_psprintf(p, "the connection to %s broke (for %s)", host, url);
    default:
        break;
    }
    return apr_psprintf(p, "fetching %s failed: %s", url, *errbuf ? errbuf : curl_easy_strerror(cc));
}

/* libcurl's progress callback (at least once a second, also while it waits) */
static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const so_dcv_opts_t *o = data;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return o->cancelled() ? 1 : 0;
}

/* One GET without following redirects. *status is the HTTP status; *location the absolute
 * redirect target (or NULL). */
static apr_status_t http_get(apr_pool_t *p, const char *url, const so_dcv_opts_t *o,
                             struct curl_slist *connect_to, apr_time_t deadline, long *status,
                             const char **location, body_t *body, const char **why)
{
    CURL *c = curl_easy_init();
    CURLcode cc;
    char errbuf[CURL_ERROR_SIZE] = "";
    char *loc = NULL;
    long left = (long)apr_time_as_msec(deadline - apr_time_now());
    apr_status_t rv = APR_SUCCESS;

    *status = 0;
    *location = NULL;
    body->len = 0;
    body->over = 0;
    if (!c) {
        *why = "cannot set up an HTTP client";
        return APR_ENOMEM;
    }
    if (left <= 0) {
        *why = apr_psprintf(p, "no answer from %s in time", url);
        rv = APR_TIMEUP;
        goto leave;
    }
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK
        || curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
        *why = apr_psprintf(p, "%s is not a URL that can be fetched", url);
        rv = APR_EINVAL;
        goto leave;
    }
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "mod_sslorders-dcv/1");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (connect_to) {
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
    }
    if (o->cancelled) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)o);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        *why = curl_why(p, c, cc, url, errbuf, body, left, &rv);
        goto leave;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
        *location = apr_pstrdup(p, loc);
    }
leave:
    curl_easy_cleanup(c);
    return rv;
}

/* BR 3.2.2.4.18: redirect targets use http or https on an Authorized Port (80, 443). */
static apr_status_t redirect_ok(apr_pool_t *p, const char *from, const char *to, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *port = NULL;
    apr_status_t rv = APR_EINVAL;

    if (!u || curl_url_set(u, CURLUPART_URL, to, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        *why = apr_psprintf(p, "%s redirects to \"%s\", which is not a valid URL", from, to);
        goto leave;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        *why = apr_psprintf(p, "%s redirects to %s: only http and https redirects are followed",
                            from, to);
        goto leave;
    }
    if (strcmp(port, "80") != 0 && strcmp(port, "443") != 0) {
        *why = apr_psprintf(p, "%s redirects to %s: only redirects to ports 80 and 443 are "
                               "followed", from, to);
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    curl_free(scheme);
    curl_free(port);
    curl_url_cleanup(u);
    return rv;
}

static char *trim_right(char *s)
{
    apr_size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

static apr_status_t check_body(apr_pool_t *p, const so_dcv_token_t *t, const body_t *b,
                               const char *url, const char **why)
{
    char *text = apr_pstrmemdup(p, b->buf, b->len), *line, *last = NULL;
    int first = 1, found_unique = 0;

    if (strncmp(text, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark */
        text += 3;
    }
    if (!*so_str_trim(p, text)) {
        *why = apr_psprintf(p, "the file at %s is empty", url);
        return APR_EMISMATCH;
    }
    for (line = apr_strtok(text, "\n", &last); line; line = apr_strtok(NULL, "\n", &last)) {
        trim_right(line);
        if (first) {
            if (strcasecmp(line, t->sha256) != 0) {
                *why = apr_psprintf(p, "the file at %s does not contain the expected hash "
                                       "(its first line must be %s)", url, t->sha256);
                return APR_EMISMATCH;
            }
            first = 0;
        }
        else if (t->unique) {
            while (*line == ' ' || *line == '\t') {
                line++;
            }
            if (strcasecmp(line, t->unique) == 0) {
                found_unique = 1;
            }
        }
    }
    if (first) {
        *why = apr_psprintf(p, "the file at %s does not contain the expected hash "
                               "(its first line must be %s)", url, t->sha256);
        return APR_EMISMATCH;
    }
    if (t->unique && !found_unique) {
        *why = apr_psprintf(p, "the file at %s does not contain the unique value %s", url,
                            t->unique);
        return APR_EMISMATCH;
    }
    return APR_SUCCESS;
}

/* GET url, following the redirects the BR allow, until a 2xx answer (its body in body). */
static apr_status_t fetch_2xx(apr_pool_t *p, const char *start, const so_dcv_opts_t *opts,
                              body_t *body, const char **final_url, const char **why)
{
    so_dcv_opts_t o;
    struct curl_slist *connect_to = NULL;
    const char *url, *location;
    apr_time_t deadline;
    long status;
    int hop, max_redirects, i;
    apr_status_t rv;

    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    /* curl_global_init: once per process, by the caller at startup (httpd: post_config;
     * the CLI: main), never here, where threads of a child may run at once */
    max_redirects = o.max_redirects < 0 ? 0 : o.max_redirects ? o.max_redirects
                                                               : DEFAULT_MAX_REDIRECTS;
    body->max = o.max_body ? o.max_body : DEFAULT_MAX_BODY;
    body->buf = apr_palloc(p, body->max + 1);
    for (i = 0; o.connect_to && i < o.connect_to->nelts; i++) {
        struct curl_slist *n = curl_slist_append(connect_to,
                                                 APR_ARRAY_IDX(o.connect_to, i, const char *));
        if (!n) {
            *why = "out of memory";
            rv = APR_ENOMEM;
            goto leave;
        }
        connect_to = n;
    }
    deadline = apr_time_now() + apr_time_from_msec(o.timeout_ms > 0 ? o.timeout_ms
                                                                      : DEFAULT_HTTP_MS);
    url = start;
    for (hop = 0;; hop++) {
        if ((rv = http_get(p, url, &o, connect_to, deadline, &status, &location, body, why))
            != APR_SUCCESS) {
            goto leave;
        }
        if (status >= 200 && status <= 299) {
            *final_url = url;
            rv = APR_SUCCESS;
            goto leave;
        }
        if (status == 301 || status == 302 || status == 307 || status == 308) {
            if (!location) {
                *why = apr_psprintf(p, "got HTTP %ld from %s without a Location", status, url);
                rv = APR_EGENERAL;
                goto leave;
            }
            if (hop >= max_redirects) {
                *why = apr_psprintf(p, "too many redirects (more than %d) from %s", max_redirects,
                                    start);
                rv = APR_EGENERAL;
                goto leave;
            }
            if ((rv = redirect_ok(p, url, location, why)) != APR_SUCCESS) {
                goto leave;
            }
            so_log_debug(SO_LOG_MARK, "DCV %s: %ld redirect to %s", url, status, location);
            url = location;
            continue;
        }
        if (status >= 300 && status <= 399) {
            *why = apr_psprintf(p, "got HTTP %ld from %s: only 301, 302, 307 and 308 redirects "
                                   "are followed", status, url);
        }
        else {
            *why = apr_psprintf(p, "got HTTP %ld from %s", status, url);
        }
        rv = APR_EGENERAL;
        goto leave;
    }
leave:
    curl_slist_free_all(connect_to);
    return rv;
}

apr_status_t so_dcv_check_http(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                               int https, const so_dcv_opts_t *opts, const char **why)
{
    so_dcv_instructions_t *in;
    body_t body;
    const char *url;
    apr_status_t rv;

    *why = NULL;
    if ((rv = so_dcv_instructions(&in, p, t, name, https ? SO_DCV_HTTPS : SO_DCV_HTTP, why))
        != APR_SUCCESS) {
        return rv;
    }
    memset(&body, 0, sizeof(body));
    if ((rv = fetch_2xx(p, in->url, opts, &body, &url, why)) != APR_SUCCESS) {
        return rv;
    }
    return check_body(p, t, &body, url, why);
}

apr_status_t so_dcv_check_acme_http(apr_pool_t *p, const char *name, const char *token,
                                    const char *want, const so_dcv_opts_t *opts, const char **why)
{
    body_t body;
    const char *url, *final_url;
    char *got;
    apr_status_t rv;

    *why = NULL;
    if (strchr(name, '*') || strchr(name, '/') || strchr(name, ':')) {
        *why = "http-01 cannot validate this name";
        return APR_EINVAL;
    }
    url = apr_pstrcat(p, "http://", name, SO_DCV_ACME_PATH_PREFIX, token, NULL);
    memset(&body, 0, sizeof(body));
    if ((rv = fetch_2xx(p, url, opts, &body, &final_url, why)) != APR_SUCCESS) {
        return rv;
    }
    body.buf[body.len] = '\0';
    got = trim_right(body.buf);
    if (strcmp(got, want)) {
        *why = apr_psprintf(p, "the key authorization at %s is wrong", final_url);
        return APR_EMISMATCH;
    }
    return APR_SUCCESS;
}
