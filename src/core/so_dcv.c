/* mod_sslorders: domain control validation. See so_dcv.h. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/sha.h>

#include "so_ca.h"
#include "so_dcv.h"
#include "so_log.h"
#include "so_resolve.h"
#include "so_totp.h"
#include "so_util.h"

#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_HTTP_MS 15000
#define DEFAULT_DNS_MS 5000
#define DEFAULT_MAX_BODY (64 * 1024)
#define DEFAULT_MAX_REDIRECTS 5
#define DNS_BUF 65536

/* ---- values ----------------------------------------------------------------------- */

static int is_hex(const char *s, apr_size_t n)
{
    apr_size_t i;
    if (!s || strlen(s) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_dcv_unique(const char **out, apr_pool_t *p)
{
    return so_random_chars(out, p, SO_DCV_UNIQUE_LEN, "0123456789abcdef");
}

apr_status_t so_dcv_token(so_dcv_token_t **out, apr_pool_t *p, const unsigned char *csr_der,
                          apr_size_t csr_len, const char *ca_tag, const char *unique,
                          const char **why)
{
    *out = NULL;
    if (!csr_der || csr_len == 0) {
        *why = "no CSR";
        return APR_EINVAL;
    }
    return so_dcv_token_hashes(out, p, so_md5_hex(p, csr_der, csr_len, 1),
                               so_sha256_hex(p, csr_der, csr_len, 1), ca_tag, unique, why);
}

apr_status_t so_dcv_token_hashes(so_dcv_token_t **out, apr_pool_t *p, const char *md5,
                                 const char *sha256, const char *ca_tag, const char *unique,
                                 const char **why)
{
    so_dcv_token_t *t;
    const char *tag;

    *out = NULL;
    if (!md5 || strlen(md5) != 32 || !sha256 || strlen(sha256) != 64) {
        *why = "no CSR hashes";
        return APR_EINVAL;
    }
    if (!ca_tag || so_ca_check_name(&tag, p, ca_tag, why) != APR_SUCCESS || tag[0] == '*') {
        *why = "the CA tag is not a valid domain name";
        return APR_EINVAL;
    }
    if (unique && !is_hex(unique, SO_DCV_UNIQUE_LEN)) {
        *why = "the unique value must be 10 hexadecimal characters";
        return APR_EINVAL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->md5 = so_str_upper(p, md5);
    t->sha256 = so_str_upper(p, sha256);
    t->unique = unique ? so_str_lower(p, unique) : NULL;
    t->ca_tag = tag;
    t->dns_value = apr_pstrcat(p, apr_pstrndup(p, t->sha256, 32), ".", t->sha256 + 32,
                               t->unique ? "." : "", t->unique ? t->unique : "", ".", tag, NULL);
    t->file_body = apr_pstrcat(p, t->sha256, "\n", tag, t->unique ? "\n" : "",
                               t->unique ? t->unique : "", NULL);
    *out = t;
    return APR_SUCCESS;
}

apr_status_t so_dcv_token_pem(so_dcv_token_t **out, apr_pool_t *p, const char *csr_pem,
                              const char *ca_tag, const char *unique, const char **why)
{
    BIO *b = csr_pem ? BIO_new_mem_buf(csr_pem, -1) : NULL;
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, *q;
    int n = req ? i2d_X509_REQ(req, NULL) : -1;
    apr_status_t rv;

    *out = NULL;
    if (n <= 0) {
        *why = "the CSR is not a PEM encoded PKCS#10 request";
        rv = APR_EINVAL;
        goto leave;
    }
    der = q = apr_palloc(p, (apr_size_t)n);
    i2d_X509_REQ(req, &q);
    rv = so_dcv_token(out, p, der, (apr_size_t)n, ca_tag, unique, why);
leave:
    X509_REQ_free(req);
    BIO_free(b);
    ERR_clear_error();
    return rv;
}

/* name checked and lower-cased; *base without "*." */
static apr_status_t dcv_name(const char **name, const char **base, apr_pool_t *p,
                             const char *in, const char **why)
{
    apr_status_t rv = so_ca_check_name(name, p, in, why);
    if (rv == APR_SUCCESS) {
        *base = strncmp(*name, "*.", 2) == 0 ? *name + 2 : *name;
    }
    return rv;
}

static const char *wildcard_http_why(apr_pool_t *p, const char *name)
{
    return apr_psprintf(p, "%s is a wildcard name: the HTTP file method cannot validate "
                           "wildcards, use a DNS CNAME or TXT record", name);
}

apr_status_t so_dcv_instructions(so_dcv_instructions_t **out, apr_pool_t *p,
                                 const so_dcv_token_t *t, const char *name,
                                 so_dcv_method_t method, const char **why)
{
    so_dcv_instructions_t *in;
    apr_status_t rv;

    *out = NULL;
    in = apr_pcalloc(p, sizeof(*in));
    if ((rv = dcv_name(&in->name, &in->base, p, name, why)) != APR_SUCCESS) {
        return rv;
    }
    in->method = method;
    switch (method) {
    case SO_DCV_HTTP:
    case SO_DCV_HTTPS:
        if (in->base != in->name) {
            *why = wildcard_http_why(p, in->name);
            return APR_EINVAL;
        }
        in->file_name = apr_pstrcat(p, t->md5, ".txt", NULL);
        in->path = apr_pstrcat(p, SO_DCV_PATH_PREFIX, in->file_name, NULL);
        in->url = apr_pstrcat(p, method == SO_DCV_HTTPS ? "https://" : "http://", in->base,
                              in->path, NULL);
        in->file_body = t->file_body;
        in->text = apr_psprintf(
            p, "Create the file %s in the directory %s of the web site %s, so that %s answers "
               "with status 200 and this text (the first line exactly; the other lines as "
               "shown):\n%s",
            in->file_name, SO_DCV_PATH_PREFIX, in->base, in->url, t->file_body);
        break;
    case SO_DCV_CNAME:
        in->record_name = apr_pstrcat(p, "_", t->md5, ".", in->base, NULL);
        in->record_type = "CNAME";
        in->record_value = t->dns_value;
        in->text = apr_psprintf(p, "In the DNS zone of %s, add a CNAME record named %s that "
                                   "points to %s",
                                in->base, in->record_name, in->record_value);
        break;
    case SO_DCV_TXT:
        in->record_name = apr_pstrcat(p, SO_DCV_TXT_LABEL ".", in->base, NULL);
        in->record_type = "TXT";
        in->record_value = t->dns_value;
        in->text = apr_psprintf(p, "In the DNS zone of %s, add a TXT record named %s with "
                                   "the value %s",
                                in->base, in->record_name, in->record_value);
        break;
    default:
        *why = "unknown validation method";
        return APR_EINVAL;
    }
    *out = in;
    return APR_SUCCESS;
}

/* ---- connect-to ------------------------------------------------------------------- */

/* "host:port" -> host, port; host may be "[v6]". */
static int split_host_port(apr_pool_t *p, const char *s, const char **host, long *port)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char *end;
    apr_size_t i;

    if (!colon || colon == s || !colon[1]) {
        return 0;
    }
    *port = strtol(colon + 1, &end, 10);
    if (*end || *port < 1 || *port > 65535) {
        return 0;
    }
    *host = apr_pstrmemdup(p, s, (apr_size_t)(colon - s));
    if ((*host)[0] == '[') {
        return (*host)[strlen(*host) - 1] == ']';
    }
    if (!strcmp(*host, "*")) {
        return 1; /* any host */
    }
    for (i = 0; (*host)[i]; i++) {
        unsigned char c = (unsigned char)(*host)[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

apr_status_t so_dcv_connect_to_add(apr_array_header_t **list, apr_pool_t *p, const char *from,
                                   const char *to, const char **why)
{
    const char *fh, *th;
    long fp, tp;

    if (!split_host_port(p, from, &fh, &fp) || fh[0] == '[') {
        *why = apr_psprintf(p, "\"%s\" is not host:port", from ? from : "");
        return APR_EINVAL;
    }
    if (!split_host_port(p, to, &th, &tp)) {
        *why = apr_psprintf(p, "\"%s\" is not address:port", to ? to : "");
        return APR_EINVAL;
    }
    if (!*list) {
        *list = apr_array_make(p, 4, sizeof(const char *));
    }
    /* "*" (any host) is curl's empty host */
    APR_ARRAY_PUSH(*list, const char *) =
        apr_psprintf(p, "%s:%ld:%s:%ld", strcmp(fh, "*") ? so_str_lower(p, fh) : "", fp, th, tp);
    return APR_SUCCESS;
}

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

/* ---- DNS -------------------------------------------------------------------------- */

apr_status_t so_dcv_resolver(so_resolver_t **out, apr_pool_t *p, const so_dcv_opts_t *o,
                             const char **why)
{
    so_resolve_opts_t ro;
    apr_status_t rv;
    memset(&ro, 0, sizeof(ro));
    ro.nameserver = o->nameserver;
    ro.dnssec = o->dnssec;
    ro.trust_anchor = o->trust_anchor;
    ro.timeout_ms = o->timeout_ms;
    rv = so_resolver_create(out, p, &ro, why);
    if (rv == APR_SUCCESS && *why) {
        so_log_warn(SO_LOG_MARK, APR_SUCCESS, SOLOGNO(00550) "DNS: %s", *why);
        *why = NULL;
    }
    return rv;
}

apr_status_t so_dcv_dns_parse(apr_pool_t *p, const unsigned char *msg, apr_size_t len,
                              int qtype, int *rcode, apr_array_header_t **values,
                              const char **why)
{
    ns_msg h;
    ns_rr rr;
    int i, n;

    *values = apr_array_make(p, 2, sizeof(const char *));
    *rcode = -1;
    if (len > DNS_BUF || ns_initparse(msg, (int)len, &h) < 0) {
        *why = "the DNS answer is malformed";
        return APR_EINVAL;
    }
    *rcode = (int)ns_msg_getflag(h, ns_f_rcode);
    n = ns_msg_count(h, ns_s_an);
    for (i = 0; i < n; i++) {
        if (ns_parserr(&h, ns_s_an, i, &rr) < 0) {
            *why = "the DNS answer is malformed";
            return APR_EINVAL;
        }
        if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != qtype) {
            continue;
        }
        if (qtype == ns_t_cname) {
            char name[NS_MAXDNAME];
            apr_size_t l;
            if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h), ns_rr_rdata(rr), name,
                                   sizeof(name)) < 0) {
                *why = "the DNS answer has a malformed CNAME";
                return APR_EINVAL;
            }
            l = strlen(name);
            if (l > 0 && name[l - 1] == '.') {
                name[--l] = '\0';
            }
            APR_ARRAY_PUSH(*values, const char *) = apr_pstrmemdup(p, name, l);
        }
        else if (qtype == ns_t_txt) {
            const unsigned char *rd = ns_rr_rdata(rr);
            apr_size_t off = 0, rdlen = ns_rr_rdlen(rr), out = 0;
            char *v = apr_palloc(p, rdlen + 1);
            while (off < rdlen) {
                apr_size_t l = rd[off];
                if (off + 1 + l > rdlen) {
                    *why = "the DNS answer has a malformed TXT record";
                    return APR_EINVAL;
                }
                memcpy(v + out, rd + off + 1, l);
                out += l;
                off += 1 + l;
            }
            v[out] = '\0';
            if (memchr(v, '\0', out) == NULL) { /* a NUL inside can never match */
                APR_ARRAY_PUSH(*values, const char *) = v;
            }
        }
    }
    return APR_SUCCESS;
}

static const char *rcode_text(int rcode)
{
    switch (rcode) {
    case ns_r_formerr:
        return "FORMERR";
    case ns_r_servfail:
        return "SERVFAIL";
    case ns_r_nxdomain:
        return "NXDOMAIN";
    case ns_r_notimpl:
        return "NOTIMP";
    case ns_r_refused:
        return "REFUSED";
    default:
        return "an error";
    }
}

/* Query qname/qtype and compare every answer with want. */
static apr_status_t dns_check(apr_pool_t *p, const char *qname, int qtype, const char *want,
                              int exact, const so_dcv_opts_t *o, const char **why)
{
    const char *tname = qtype == ns_t_cname ? "CNAME" : "TXT";
    const char *server = o->nameserver ? o->nameserver : "the DNS";
    apr_array_header_t *values = NULL;
    so_resolver_t *r = o->resolver;
    so_dns_answer_t *ans;
    int rcode, i;
    apr_status_t rv;

    if (!r && (rv = so_dcv_resolver(&r, p, o, why)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = so_resolve(r, p, qname, qtype, &ans, why)) != APR_SUCCESS) {
        goto leave;
    }
    if (!ans->packet) {
        *why = apr_psprintf(p, "no DNS answer for %s", qname);
        rv = APR_EGENERAL;
        goto leave;
    }
    if ((rv = so_dcv_dns_parse(p, ans->packet, ans->packet_len, qtype, &rcode, &values, why))
        != APR_SUCCESS) {
        goto leave;
    }
    if (rcode == ns_r_nxdomain) {
        *why = apr_psprintf(p, "%s does not exist in the DNS (NXDOMAIN)", qname);
        rv = APR_ENOENT;
        goto leave;
    }
    if (rcode != ns_r_noerror) {
        *why = apr_psprintf(p, "the DNS server %s answered %s for %s", server, rcode_text(rcode),
                            qname);
        rv = APR_EGENERAL;
        goto leave;
    }
    if (values->nelts == 0) {
        *why = apr_psprintf(p, "there is no %s record at %s", tname, qname);
        rv = APR_ENOENT;
        goto leave;
    }
    for (i = 0; i < values->nelts; i++) {
        char *v = apr_pstrdup(p, APR_ARRAY_IDX(values, i, const char *));
        apr_size_t l;
        if (qtype == ns_t_txt) { /* tolerate white space and quotes around the value */
            v = so_str_trim(p, v);
            l = strlen(v);
            if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
                v[l - 1] = '\0';
                v = so_str_trim(p, v + 1);
            }
        }
        l = strlen(v);
        if (l > 0 && v[l - 1] == '.') {
            v[l - 1] = '\0';
        }
        if (exact ? strcmp(v, want) == 0 : strcasecmp(v, want) == 0) {
            rv = APR_SUCCESS;
            goto leave;
        }
    }
    *why = apr_psprintf(p, "the %s record at %s has the wrong value \"%s\" (expected %s)", tname,
                        qname, APR_ARRAY_IDX(values, 0, const char *), want);
    rv = APR_EMISMATCH;
leave:
    return rv;
}

apr_status_t so_dcv_check_dns(apr_pool_t *p, const so_dcv_token_t *t, const char *name,
                              so_dcv_method_t method, const so_dcv_opts_t *opts,
                              const char **why)
{
    so_dcv_opts_t o;
    const char *n, *base, *why_cname = NULL;
    apr_status_t rv;

    *why = NULL;
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    if ((rv = dcv_name(&n, &base, p, name, why)) != APR_SUCCESS) {
        return rv;
    }
    if (method != SO_DCV_CNAME && method != SO_DCV_TXT && method != SO_DCV_DNS) {
        *why = "not a DNS validation method";
        return APR_EINVAL;
    }
    if (method == SO_DCV_CNAME || method == SO_DCV_DNS) {
        rv = dns_check(p, apr_pstrcat(p, "_", t->md5, ".", base, NULL), ns_t_cname,
                       t->dns_value, 0, &o, why);
        if (rv == APR_SUCCESS || method == SO_DCV_CNAME) {
            return rv;
        }
        why_cname = *why;
    }
    rv = dns_check(p, apr_pstrcat(p, SO_DCV_TXT_LABEL ".", base, NULL), ns_t_txt, t->dns_value,
                   0, &o, why);
    if (rv != APR_SUCCESS && why_cname) {
        *why = apr_pstrcat(p, why_cname, "; ", *why, NULL);
    }
    return rv;
}

apr_status_t so_dcv_check_txt(apr_pool_t *p, const char *qname, const char *want,
                              const so_dcv_opts_t *opts, const char **why)
{
    so_dcv_opts_t o;
    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    *why = NULL;
    return dns_check(p, qname, ns_t_txt, want, 1, &o, why);
}

/* ---- tls-alpn-01 (RFC 8737) ------------------------------------------------------- */

/* Where a probe of name:443 goes: a connect-to entry for this name, else one for any
 * name, else the name itself. */
static const char *tls_target(apr_pool_t *p, const char *name, const so_dcv_opts_t *o)
{
    const char *any = NULL;
    int i;
    for (i = 0; o->connect_to && i < o->connect_to->nelts; i++) {
        const char *e = APR_ARRAY_IDX(o->connect_to, i, const char *);
        const char *c1 = strchr(e, ':');
        apr_size_t hl = c1 ? (apr_size_t)(c1 - e) : 0;
        if (!c1 || strncmp(c1 + 1, "443:", 4)) {
            continue;
        }
        if (hl == 0 && !any) {
            any = c1 + 5;
        }
        else if (hl == strlen(name) && !strncasecmp(e, name, hl)) {
            return c1 + 5;
        }
    }
    return any ? any : apr_pstrcat(p, name, ":443", NULL);
}

apr_status_t so_dcv_check_tls_alpn(apr_pool_t *p, const char *name, const unsigned char *digest,
                                   const so_dcv_opts_t *opts, const char **why)
{
    static const unsigned char alpn[] = "\x0a" "acme-tls/1";
    so_dcv_opts_t o;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    GENERAL_NAMES *sans = NULL;
    ASN1_OBJECT *oid = NULL;
    const unsigned char *sel = NULL;
    unsigned int sel_len = 0;
    const char *target;
    int idx, timeout;
    apr_status_t rv = APR_EGENERAL;

    memset(&o, 0, sizeof(o));
    if (opts) {
        o = *opts;
    }
    *why = NULL;
    timeout = (o.timeout_ms > 0 ? o.timeout_ms : 10000) / 1000 + 1;
    target = tls_target(p, name, &o);
    if (!(ctx = SSL_CTX_new(TLS_client_method())) || !(ssl = SSL_new(ctx))
        || !(bio = BIO_new_connect(target))) {
        *why = "out of memory";
        goto leave;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
    BIO_set_nbio(bio, 1);
    if (BIO_do_connect_retry(bio, timeout, 100) <= 0) {
        *why = apr_psprintf(p, "cannot connect to %s:443 for tls-alpn-01", name);
        goto leave;
    }
    {
        int fd = (int)BIO_get_fd(bio, NULL);
        struct timeval tv;
        int fl = fcntl(fd, F_GETFL);
        tv.tv_sec = timeout;
        tv.tv_usec = 0;
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        BIO_set_nbio(bio, 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    SSL_set_bio(ssl, bio, bio);
    bio = NULL; /* the SSL owns it now */
    if (SSL_connect(ssl) != 1) {
        *why = apr_psprintf(p, "the TLS handshake with %s:443 (ALPN acme-tls/1) failed", name);
        goto leave;
    }
    SSL_get0_alpn_selected(ssl, &sel, &sel_len);
    if (sel_len != 10 || memcmp(sel, "acme-tls/1", 10)) {
        *why = apr_psprintf(p, "%s:443 did not select the ALPN protocol acme-tls/1", name);
        goto leave;
    }
    if (!(x = SSL_get1_peer_certificate(ssl))) {
        *why = "no certificate in the tls-alpn-01 handshake";
        goto leave;
    }
    sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    {
        const GENERAL_NAME *gn = sans && sk_GENERAL_NAME_num(sans) == 1
                                     ? sk_GENERAL_NAME_value(sans, 0) : NULL;
        const ASN1_IA5STRING *dns = gn && gn->type == GEN_DNS ? gn->d.dNSName : NULL;
        if (!dns || (apr_size_t)ASN1_STRING_length(dns) != strlen(name)
            || strncasecmp((const char *)ASN1_STRING_get0_data(dns), name, strlen(name))) {
            *why = apr_psprintf(p, "the tls-alpn-01 certificate must name exactly %s", name);
            rv = APR_EMISMATCH;
            goto leave;
        }
    }
    oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    idx = oid ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
    {
        X509_EXTENSION *ext = idx >= 0 ? X509_get_ext(x, idx) : NULL;
        const ASN1_OCTET_STRING *v = ext ? X509_EXTENSION_get_data(ext) : NULL;
        const unsigned char *d = v ? ASN1_STRING_get0_data(v) : NULL;
        if (!ext || !X509_EXTENSION_get_critical(ext) || ASN1_STRING_length(v) != 34
            || d[0] != 0x04 || d[1] != 0x20 || memcmp(d + 2, digest, 32)) {
            *why = "the tls-alpn-01 certificate lacks the critical acmeIdentifier extension "
                   "with this key authorization's digest";
            rv = APR_EMISMATCH;
            goto leave;
        }
    }
    rv = APR_SUCCESS;
leave:
    ASN1_OBJECT_free(oid);
    GENERAL_NAMES_free(sans);
    X509_free(x);
    BIO_free_all(bio);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rv;
}

const char *so_dcv_account_label(apr_pool_t *p, const char *account_url)
{
    unsigned char dig[SHA256_DIGEST_LENGTH];
    char *label;
    apr_size_t i;

    SHA256((const unsigned char *)account_url, strlen(account_url), dig);
    label = apr_pstrcat(p, "_", so_base32_encode(p, dig, 10), NULL);
    for (i = 0; label[i]; i++) {
        label[i] = (char)tolower((unsigned char)label[i]);
    }
    return label;
}
