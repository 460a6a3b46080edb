#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "so_webhook.h"
#include "so_util.h"

#define SECRET_PREFIX "whsec_"
#define RESPONSE_KEEP 1024

apr_status_t so_wh_secret_new(apr_pool_t *p, const char **secret)
{
    unsigned char raw[32];
    apr_status_t rv = so_random_bytes(raw, sizeof(raw));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *secret = apr_pstrcat(p, SECRET_PREFIX, so_base64(p, raw, sizeof(raw)), NULL);
    return APR_SUCCESS;
}

apr_status_t so_wh_sign(apr_pool_t *p, const char *secret, const char *msg_id, apr_int64_t ts,
                        const char *body, apr_size_t len, const char **sig)
{
    const unsigned char *key;
    apr_size_t klen;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    const char *head;
    char *msg;
    apr_size_t hlen;

    if (!secret || strncmp(secret, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1)
        || so_unbase64(&key, &klen, p, secret + sizeof(SECRET_PREFIX) - 1) != APR_SUCCESS
        || klen == 0) {
        return APR_EINVAL;
    }
    head = apr_psprintf(p, "%s.%" APR_INT64_T_FMT ".", msg_id, ts);
    hlen = strlen(head);
    msg = apr_palloc(p, hlen + len + 1);
    memcpy(msg, head, hlen);
    memcpy(msg + hlen, body, len);
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, hlen + len, mac, &mlen)) {
        return APR_EGENERAL;
    }
    *sig = apr_pstrcat(p, "v1,", so_base64(p, mac, mlen), NULL);
    return APR_SUCCESS;
}

apr_int64_t so_wh_backoff(int attempt)
{
    static const apr_int64_t steps[] = {5, 300, 1800, 7200, 18000, 36000};
    int n = (int)(sizeof(steps) / sizeof(steps[0]));
    apr_int64_t base = steps[attempt < 1 ? 0 : attempt > n ? n - 1 : attempt - 1];
    unsigned char r[2];
    apr_int64_t span = base / 5; /* +-10 % */
    if (span > 0 && so_random_bytes(r, sizeof(r)) == APR_SUCCESS) {
        base += (apr_int64_t)((r[0] << 8 | r[1]) % (unsigned)(span + 1)) - span / 2;
    }
    return base < 1 ? 1 : base;
}

/* ------------------------------------------------------------------------- */
/* addresses                                                                   */

static int v4_public(const unsigned char *a)
{
    if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224) {
        return 0; /* this network, private, loopback, multicast, reserved, broadcast */
    }
    if ((a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16)
        || (a[0] == 192 && a[1] == 168) || (a[0] == 100 && (a[1] & 0xc0) == 64)
        || (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xfe) == 18)) {
        return 0; /* link-local, private, shared (CGN), IETF, benchmarking */
    }
    return 1;
}

static int v6_public(const unsigned char *a)
{
    static const unsigned char zero[16];
    if (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1)) {
        return 0; /* unspecified, loopback */
    }
    if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff) {
        return v4_public(a + 12); /* IPv4-mapped */
    }
    if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff) {
        return 0; /* unique local, link-local, multicast */
    }
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
        return 0; /* documentation */
    }
    return 1;
}

static int own_address(const struct sockaddr *sa)
{
    struct ifaddrs *ifs, *i;
    int own = 0;
    if (getifaddrs(&ifs) != 0) {
        return 0;
    }
    for (i = ifs; i && !own; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != sa->sa_family) {
            continue;
        }
        if (sa->sa_family == AF_INET) {
            own = !memcmp(&((const struct sockaddr_in *)sa)->sin_addr,
                          &((const struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
        }
        else if (sa->sa_family == AF_INET6) {
            own = !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
                          &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
        }
    }
    freeifaddrs(ifs);
    return own;
}

int so_wh_addr_public(const struct sockaddr *sa)
{
    int pub;
    if (sa->sa_family == AF_INET) {
        pub = v4_public((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    }
    else if (sa->sa_family == AF_INET6) {
        pub = v6_public((const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
    }
    else {
        return 0;
    }
    return pub && !own_address(sa);
}

apr_status_t so_wh_url_check(apr_pool_t *p, const char *url, int allow_http, int allow_private,
                             const char **why)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL, *user = NULL, *pw = NULL;
    apr_status_t rv = APR_SUCCESS;

    (void)p;
    if (!url || strlen(url) > 2000) {
        *why = "url: at most 2000 characters";
        return APR_EINVAL;
    }
    if (!(u = curl_url())) {
        return APR_ENOMEM;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        *why = "url: not an absolute URL with a host";
        rv = APR_EINVAL;
    }
    else if (strcasecmp(scheme, "https") && !(allow_http && !strcasecmp(scheme, "http"))) {
        *why = allow_http ? "url: http or https only" : "url: https only";
        rv = APR_EINVAL;
    }
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK
             || curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK) {
        *why = "url: no user name or password in the URL";
        rv = APR_EINVAL;
    }
    else if (!allow_private) {
        /* a literal address is checked now; names when they are resolved, at delivery */
        const char *h = host;
        size_t n = strlen(h);
        struct sockaddr_in s4;
        struct sockaddr_in6 s6;
        char buf[64];
        memset(&s4, 0, sizeof(s4));
        memset(&s6, 0, sizeof(s6));
        if (h[0] == '[' && n > 2 && n - 2 < sizeof(buf)) {
            memcpy(buf, h + 1, n - 2);
            buf[n - 2] = '\0';
            h = buf;
        }
        if (inet_pton(AF_INET, h, &s4.sin_addr) == 1) {
            s4.sin_family = AF_INET;
            if (!so_wh_addr_public((struct sockaddr *)&s4)) {
                rv = APR_EINVAL;
            }
        }
        else if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1) {
            s6.sin6_family = AF_INET6;
            if (!so_wh_addr_public((struct sockaddr *)&s6)) {
                rv = APR_EINVAL;
            }
        }
        else if (!strcasecmp(h, "localhost") || (n > 10 && !strcasecmp(h + n - 10, ".localhost"))) {
            rv = APR_EINVAL;
        }
        if (rv != APR_SUCCESS) {
            *why = "url: the host is a loopback, private, link-local or this server's address";
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pw);
    curl_url_cleanup(u);
    return rv;
}

/* ------------------------------------------------------------------------- */
/* delivery                                                                    */

typedef struct {
    apr_pool_t *p;
    char buf[RESPONSE_KEEP];
    apr_size_t len;
    int allow_private;
    int refused;
} post_ctx_t;

static size_t on_body(char *data, size_t size, size_t n, void *baton)
{
    post_ctx_t *c = baton;
    size_t all = size * n, take = all;
    if (take > RESPONSE_KEEP - c->len) {
        take = RESPONSE_KEEP - c->len;
    }
    memcpy(c->buf + c->len, data, take);
    c->len += take;
    return all;
}

/* Every address curl connects to is checked here, after resolution: no DNS answer that
 * changes between a check and the connection reaches an internal address. */
static curl_socket_t open_socket(void *baton, curlsocktype purpose, struct curl_sockaddr *a)
{
    post_ctx_t *c = baton;
    if (purpose != CURLSOCKTYPE_IPCXN) {
        return CURL_SOCKET_BAD;
    }
    if (!c->allow_private && !so_wh_addr_public(&a->addr)) {
        c->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

apr_status_t so_wh_post(apr_pool_t *p, const so_wh_post_t *in, so_wh_result_t *res)
{
    CURL *curl;
    struct curl_slist *hdrs = NULL;
    post_ctx_t *ctx = apr_pcalloc(p, sizeof(*ctx));
    char errbuf[CURL_ERROR_SIZE] = "";
    const char *why = NULL;
    apr_time_t start;
    CURLcode cc;
    long code = 0;
    int i;

    memset(res, 0, sizeof(*res));
    res->response = res->error = "";
    if (so_wh_url_check(p, in->url, in->allow_http, in->allow_private, &why) != APR_SUCCESS) {
        res->error = why;
        res->refused = 1;
        return APR_EINVAL;
    }
    if (!(curl = curl_easy_init())) {
        res->error = "cannot start libcurl";
        return APR_ENOMEM;
    }
    ctx->p = p;
    ctx->allow_private = in->allow_private;
    for (i = 0; in->headers && in->headers[i]; i++) {
        hdrs = curl_slist_append(hdrs, in->headers[i]);
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, in->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, in->allow_http ? "http,https" : "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, in->timeout_ms > 0 ? in->timeout_ms : 10000L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (in->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, in->ca_file);
    }
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_sslorders-webhooks/1");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, in->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in->body_len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    start = apr_time_now();
    cc = curl_easy_perform(curl);
    res->latency_ms = (int)((apr_time_now() - start) / 1000);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    curl_slist_free_all(hdrs);
    {
        /* kept as text: control and non-ASCII bytes become '?' */
        char *r = apr_pstrmemdup(p, ctx->buf, ctx->len);
        apr_size_t k;
        for (k = 0; k < ctx->len; k++) {
            unsigned char ch = (unsigned char)r[k];
            if ((ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch >= 0x7f) {
                r[k] = '?';
            }
        }
        res->response = r;
    }
    if (ctx->refused) {
        res->refused = 1;
        res->error = "refused: the host resolves to a loopback, private, link-local or this "
                     "server's address";
        return APR_EINVAL;
    }
    if (cc != CURLE_OK) {
        res->error = apr_pstrdup(p, *errbuf ? errbuf : curl_easy_strerror(cc));
        return cc == CURLE_OPERATION_TIMEDOUT ? APR_TIMEUP : APR_EGENERAL;
    }
    res->http_status = (int)code;
    return APR_SUCCESS;
}
