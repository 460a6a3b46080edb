/* mod_sslorders: multi-perspective issuance corroboration. See so_mpic.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "so_mpic.h"
#include "so_util.h"

int so_mpic_allowed_disagree(int n)
{
    return n >= 6 ? 2 : n >= 2 ? 1 : 0;
}

int so_mpic_required(apr_int64_t now)
{
    return now >= SO_MPIC_FROM_5 ? 5 : now >= SO_MPIC_FROM_4 ? 4 : now >= SO_MPIC_FROM_3 ? 3 : 0;
}

int so_mpic_quorum(apr_pool_t *p, int n, int agree, apr_int64_t now, const char **why)
{
    int need = so_mpic_required(now), allowed = so_mpic_allowed_disagree(n);
    if (why) {
        *why = NULL;
    }
    if (n < need || n < 1) {
        if (why) {
            *why = apr_psprintf(p,
                                "%d remote perspective%s configured, the Baseline Requirements "
                                "ask for at least %d",
                                n, n == 1 ? "" : "s", need > 1 ? need : 1);
        }
        return 0;
    }
    if (n - agree > allowed) {
        if (why) {
            *why = apr_psprintf(p, "%d of %d remote perspectives did not corroborate (at most %d "
                                   "may)", n - agree, n, allowed);
        }
        return 0;
    }
    return 1;
}

apr_status_t so_mpic_secret_load(apr_pool_t *p, const char *file, const char **secret,
                                 const char **why)
{
    apr_file_t *f;
    char buf[4096];
    apr_size_t n = sizeof(buf) - 1;
    apr_status_t rv;

    *secret = NULL;
    if ((rv = apr_file_open(&f, file, APR_FOPEN_READ, 0, p)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot read %s", file);
        return rv;
    }
    rv = apr_file_read(f, buf, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *why = apr_psprintf(p, "cannot read %s", file);
        return rv;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '
                     || buf[n - 1] == '\t')) {
        n--;
    }
    buf[n] = 0;
    if (n < SO_MPIC_SECRET_MIN) {
        *why = apr_psprintf(p, "the secret in %s is shorter than %d bytes", file,
                            SO_MPIC_SECRET_MIN);
        return APR_EINVAL;
    }
    *secret = apr_pstrmemdup(p, buf, n);
    return APR_SUCCESS;
}

const char *so_mpic_sign(apr_pool_t *p, const char *secret, const char *time, const char *nonce,
                         const char *body, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];
    size_t outl = 0;
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || !EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params)
        || !EVP_MAC_update(ctx, (const unsigned char *)time, strlen(time))
        || !EVP_MAC_update(ctx, (const unsigned char *)"\n", 1)
        || !EVP_MAC_update(ctx, (const unsigned char *)nonce, strlen(nonce))
        || !EVP_MAC_update(ctx, (const unsigned char *)"\n", 1)
        || !EVP_MAC_update(ctx, (const unsigned char *)body, len)
        || !EVP_MAC_final(ctx, md, &outl, sizeof(md))) {
        outl = 0;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    mdlen = (unsigned int)outl;
    return mdlen ? so_hex(p, md, mdlen, 0) : "";
}

const char *so_mpic_sign_answer(apr_pool_t *p, const char *secret, const char *nonce,
                                const char *body, apr_size_t len)
{
    return so_mpic_sign(p, secret, "answer", nonce, body, len);
}

static int all_hex(const char *s, apr_size_t n)
{
    apr_size_t i;
    if (strlen(s) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* Forget nonces older than twice the window (now and then; file times: the wall clock). */
static void prune(apr_pool_t *p, const char *dir)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) {
        return;
    }
    while ((e = readdir(d))) {
        struct stat st;
        const char *path;
        if (e->d_name[0] == '.') {
            continue;
        }
        path = apr_pstrcat(p, dir, "/", e->d_name, NULL);
        if (stat(path, &st) == 0 && (apr_int64_t)st.st_mtime < now - 2 * SO_MPIC_MAX_SKEW) {
            unlink(path);
        }
    }
    closedir(d);
}

apr_status_t so_mpic_verify(apr_pool_t *p, const char *secret, const char *time,
                            const char *nonce, const char *sig, const char *body, apr_size_t len,
                            apr_int64_t now, const char *nonce_dir, const char **why)
{
    apr_int64_t t;
    const char *want;
    if (!secret || !*secret) {
        *why = "this perspective has no secret (SSLOrdersPerspectiveAuth)";
        return APR_EACCES;
    }
    if (!time || !nonce || !sig) {
        *why = "the request is not signed";
        return APR_EACCES;
    }
    if (so_parse_int64(time, 0, (apr_int64_t)1 << 40, &t) != APR_SUCCESS) {
        *why = "the time of the request is not a number";
        return APR_EACCES;
    }
    if (t < now - SO_MPIC_MAX_SKEW || t > now + SO_MPIC_MAX_SKEW) {
        *why = "the request is stale (or its clock is wrong)";
        return APR_EACCES;
    }
    if (!all_hex(nonce, 32) || !all_hex(sig, 64)) {
        *why = "the nonce or the signature is malformed";
        return APR_EACCES;
    }
    want = so_mpic_sign(p, secret, time, nonce, body, len);
    if (strlen(want) != 64 || CRYPTO_memcmp(want, sig, 64) != 0) {
        *why = "the signature does not match (another secret?)";
        return APR_EACCES;
    }
    if (nonce_dir) {
        const char *path = apr_pstrcat(p, nonce_dir, "/", nonce, NULL);
        int fd;
        if (mkdir(nonce_dir, 0700) != 0 && errno != EEXIST) {
            *why = "the nonces cannot be remembered";
            return APR_EACCES;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            *why = errno == EEXIST ? "the request was replayed (nonce seen before)"
                                   : "the nonces cannot be remembered";
            return APR_EACCES;
        }
        close(fd);
        if (nonce[0] == '0' && nonce[1] == '0') { /* 1 in 256 requests */
            prune(p, nonce_dir);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t unref(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

typedef struct {
    char *buf;
    apr_size_t len, max;
    apr_pool_t *p;
    char sig[65];      /* X-SSLOrders-MPIC-Answer-Signature of the answer */
} sink_t;

#define ANSWER_SIG "x-sslorders-mpic-answer-signature:"

/* libcurl hands over one header line at a time (not NUL-terminated) */
static size_t on_header(char *data, size_t size, size_t n, void *baton)
{
    sink_t *s = baton;
    size_t len = size * n, k = sizeof(ANSWER_SIG) - 1, i, j = 0;
    if (len > k && !strncasecmp(data, ANSWER_SIG, k)) {
        for (i = k; i < len && j < 64; i++) {
            if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n') {
                s->sig[j++] = data[i];
            }
        }
        s->sig[j] = '\0';
    }
    return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *baton)
{
    sink_t *s = baton;
    apr_size_t add = size * n;
    if (s->len + add > s->max) {
        return 0;
    }
    if (!s->buf) {
        s->buf = apr_palloc(s->p, s->max + 1);
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    return add;
}

/* One perspective's HTTP answer into a: reached only when it is a 200 JSON envelope whose
 * signature (so_mpic_sign_answer for the nonce we sent) matches. */
static void take_answer(apr_pool_t *p, const char *secret, const char *nonce, long code,
                        const sink_t *sink, so_mpic_answer_t *a)
{
    const char *want;
    int signed_ok;
    json_t *j, *d;

    if (code == 0) {
        a->error = "could not be reached";
        return;
    }
    want = so_mpic_sign_answer(p, secret, nonce ? nonce : "", sink->buf ? sink->buf : "",
                               sink->len);
    signed_ok = strlen(want) == 64 && strlen(sink->sig) == 64
                && CRYPTO_memcmp(want, sink->sig, 64) == 0;
    j = sink->buf ? json_loadb(sink->buf, sink->len, 0, NULL) : NULL;
    d = j ? json_object_get(j, "data") : NULL;
    if (code == 200 && json_is_object(d) && !signed_ok) {
        /* a man in the middle, a perspective with another secret, or one that predates
         * signed answers: its word does not count */
        a->error = sink->sig[0] ? "its answer's signature does not match (another secret, or "
                                  "changed on the way)"
                                : "its answer is not signed";
    }
    else if (code == 200 && json_is_object(d)) {
        a->reached = 1;
        a->error = NULL;
        a->data = json_incref(d);
        apr_pool_cleanup_register(p, a->data, unref, apr_pool_cleanup_null);
    }
    else {
        a->error = apr_psprintf(p, "answered HTTP %ld", code);
    }
    json_decref(j);
}

apr_status_t so_mpic_query(apr_pool_t *p, const apr_array_header_t *perspectives,
                           const char *secret, const char *body, int timeout_ms,
                           apr_array_header_t **answers)
{
    int n = perspectives->nelts, i, running = 0;
    CURLM *m = curl_multi_init();
    CURL **easy = apr_pcalloc(p, sizeof(CURL *) * (n ? n : 1));
    sink_t *sinks = apr_pcalloc(p, sizeof(sink_t) * (n ? n : 1));
    struct curl_slist **hdrs = apr_pcalloc(p, sizeof(struct curl_slist *) * (n ? n : 1));
    const char **nonces = apr_pcalloc(p, sizeof(const char *) * (n ? n : 1));
    apr_size_t blen = strlen(body);

    *answers = apr_array_make(p, n, sizeof(so_mpic_answer_t));
    for (i = 0; i < n; i++) {
        const so_mpic_perspective_t *ps = &APR_ARRAY_IDX(perspectives, i, so_mpic_perspective_t);
        so_mpic_answer_t *a = apr_array_push(*answers);
        const char *nonce = NULL, *t;
        memset(a, 0, sizeof(*a));
        nonces[i] = NULL;
        a->name = ps->name;
        a->error = "not asked";
        if (!m || so_random_hex(&nonce, p, 16) != APR_SUCCESS || !(easy[i] = curl_easy_init())) {
            continue;
        }
        nonces[i] = nonce;
        t = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(apr_time_now()));
        hdrs[i] = curl_slist_append(hdrs[i], "Content-Type: application/json");
        hdrs[i] = curl_slist_append(hdrs[i], apr_pstrcat(p, "X-SSLOrders-MPIC-Time: ", t, NULL));
        hdrs[i] = curl_slist_append(hdrs[i], apr_pstrcat(p, "X-SSLOrders-MPIC-Nonce: ", nonce, NULL));
        hdrs[i] = curl_slist_append(
            hdrs[i], apr_pstrcat(p, "X-SSLOrders-MPIC-Signature: ",
                                 so_mpic_sign(p, secret, t, nonce, body, blen), NULL));
        sinks[i].p = p;
        sinks[i].max = 1024 * 1024;
        curl_easy_setopt(easy[i], CURLOPT_URL, ps->url);
        curl_easy_setopt(easy[i], CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy[i], CURLOPT_PROXY, "");
        curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, hdrs[i]);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDSIZE, (long)blen);
        curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 20000));
        curl_easy_setopt(easy[i], CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &sinks[i]);
        curl_easy_setopt(easy[i], CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy[i], CURLOPT_HEADERDATA, &sinks[i]);
        curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (char *)a);
        curl_multi_add_handle(m, easy[i]);
    }
    if (m) {
        do {
            CURLMcode mc = curl_multi_perform(m, &running);
            if (mc != CURLM_OK) {
                break;
            }
            if (running) {
                curl_multi_poll(m, NULL, 0, 1000, NULL);
            }
        } while (running);
    }
    for (i = 0; i < n; i++) {
        so_mpic_answer_t *a = &APR_ARRAY_IDX(*answers, i, so_mpic_answer_t);
        long code = 0;
        if (!easy[i]) {
            continue;
        }
        curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &code);
        take_answer(p, secret, nonces[i], code, &sinks[i], a);
        curl_multi_remove_handle(m, easy[i]);
        curl_easy_cleanup(easy[i]);
        curl_slist_free_all(hdrs[i]);
    }
    if (m) {
        curl_multi_cleanup(m);
    }
    return APR_SUCCESS;
}
