#include <limits.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "so_util.h"

apr_status_t so_random_bytes(unsigned char *buf, apr_size_t len)
{
    if (len > 0x7fffffff || RAND_bytes(buf, (int)len) != 1) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

const char *so_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len, int upper)
{
    static const char lc[] = "0123456789abcdef";
    static const char uc[] = "0123456789ABCDEF";
    const char *digits = upper ? uc : lc;
    char *s = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        s[2 * i] = digits[buf[i] >> 4];
        s[2 * i + 1] = digits[buf[i] & 0x0f];
    }
    s[len * 2] = '\0';
    return s;
}

apr_status_t so_random_hex(const char **out, apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[64];
    apr_status_t rv;

    if (nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    if ((rv = so_random_bytes(buf, nbytes)) != APR_SUCCESS) {
        return rv;
    }
    *out = so_hex(p, buf, nbytes, 0);
    OPENSSL_cleanse(buf, sizeof(buf));
    return APR_SUCCESS;
}

apr_status_t so_random_chars(const char **out, apr_pool_t *p, apr_size_t n, const char *alphabet)
{
    apr_size_t alen = strlen(alphabet), i = 0;
    char *s = apr_palloc(p, n + 1);
    /* rejection sampling so that every character is equally likely */
    unsigned limit = 256 - (256 % (unsigned)alen);

    while (i < n) {
        unsigned char b[32];
        apr_size_t j;
        if (so_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        for (j = 0; j < sizeof(b) && i < n; j++) {
            if (b[j] < limit) {
                s[i++] = alphabet[b[j] % alen];
            }
        }
    }
    s[n] = '\0';
    *out = s;
    return APR_SUCCESS;
}

static const char *digest_hex(apr_pool_t *p, const EVP_MD *md, const void *data, apr_size_t len,
                              int upper)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_Digest(data, len, buf, &n, md, NULL)) {
        return NULL;
    }
    return so_hex(p, buf, n, upper);
}

const char *so_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper)
{
    return digest_hex(p, EVP_sha256(), data, len, upper);
}

const char *so_sha1_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper)
{
    return digest_hex(p, EVP_sha1(), data, len, upper);
}

const char *so_md5_hex(apr_pool_t *p, const void *data, apr_size_t len, int upper)
{
    return digest_hex(p, EVP_md5(), data, len, upper);
}

int so_str_ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* two decimal digits of v (0-99) at s */
static void put2(char *s, unsigned v)
{
    s[0] = (char)('0' + v / 10);
    s[1] = (char)('0' + v % 10);
}

const char *so_time_fmt(apr_pool_t *p, apr_int64_t epoch)
{
    struct tm tm;
    time_t t = (time_t)epoch;
    char buf[32];

    /* Years 1970-9999 without gmtime_r and strftime (a page of orders writes seven
     * dates per order): the civil date of a day number, H. Hinnant's "civil_from_days"
     * (eras of 400 years starting on March 1st). */
    if (epoch >= 0 && epoch < APR_INT64_C(253402300800)) {
        apr_int64_t days = epoch / 86400, secs = epoch % 86400;
        apr_int64_t z = days + 719468, era = z / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        unsigned y = (unsigned)(yoe + era * 400) + (m <= 2);
        char *s = apr_palloc(p, 20);
        put2(s, y / 100);
        put2(s + 2, y % 100);
        s[4] = '-';
        put2(s + 5, m);
        s[7] = '-';
        put2(s + 8, d);
        s[10] = ' ';
        put2(s + 11, (unsigned)(secs / 3600));
        s[13] = ':';
        put2(s + 14, (unsigned)(secs / 60 % 60));
        s[16] = ':';
        put2(s + 17, (unsigned)(secs % 60));
        s[19] = '\0';
        return s;
    }
    if (!gmtime_r(&t, &tm)) {
        return "";
    }
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    return apr_pstrdup(p, buf);
}

const char *so_time_http(apr_pool_t *p, apr_int64_t epoch)
{
    struct tm tm;
    time_t t = (time_t)epoch;
    char buf[64];

    if (!gmtime_r(&t, &tm)) {
        return "";
    }
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return apr_pstrdup(p, buf);
}

static int parse_digits(const char **s, int n, int *out)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i])) {
            return 0;
        }
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 1;
}

apr_status_t so_time_parse(const char *s, apr_int64_t *epoch)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    time_t t;

    if (!s) {
        return APR_EINVAL;
    }
    memset(&tm, 0, sizeof(tm));
    if (!parse_digits(&s, 4, &y) || *s++ != '-' || !parse_digits(&s, 2, &mo) || *s++ != '-'
        || !parse_digits(&s, 2, &d)) {
        return APR_EINVAL;
    }
    if (*s == ' ' || *s == 'T') {
        s++;
        if (!parse_digits(&s, 2, &h) || *s++ != ':' || !parse_digits(&s, 2, &mi)) {
            return APR_EINVAL;
        }
        if (*s == ':') {
            s++;
            if (!parse_digits(&s, 2, &sec)) {
                return APR_EINVAL;
            }
        }
        if (*s == 'Z') {
            s++;
        }
    }
    if (*s) {
        return APR_EINVAL;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || sec > 60) {
        return APR_EINVAL;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return APR_EINVAL;
    }
    /* reject dates that timegm normalised (e.g. Feb 31st) */
    {
        struct tm back;
        if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1) {
            return APR_EINVAL;
        }
    }
    *epoch = (apr_int64_t)t;
    return APR_SUCCESS;
}

apr_status_t so_parse_int64(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    char *end = NULL;
    long long v;

    if (!s || !*s || isspace((unsigned char)*s) || (*s == '+')) {
        return APR_EINVAL;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || !end || *end || v < min || v > max) {
        return APR_EINVAL;
    }
    *out = (apr_int64_t)v;
    return APR_SUCCESS;
}

const char *so_i64str(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

apr_status_t so_money_parse(const char *s, apr_int64_t *minor)
{
    apr_int64_t whole = 0, frac = 0;
    int neg = 0, digits = 0, fdigits = 0;

    if (!s || !*s) {
        return APR_EINVAL;
    }
    if (*s == '-') {
        neg = 1;
        s++;
    }
    while (isdigit((unsigned char)*s)) {
        if (whole > 100000000000LL) {
            return APR_EINVAL;
        }
        whole = whole * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (fdigits == 2) {
                return APR_EINVAL;
            }
            frac = frac * 10 + (*s - '0');
            s++;
            fdigits++;
        }
        if (fdigits == 0) {
            return APR_EINVAL;
        }
        if (fdigits == 1) {
            frac *= 10;
        }
    }
    if (*s || digits == 0) {
        return APR_EINVAL;
    }
    *minor = (whole * 100 + frac) * (neg ? -1 : 1);
    return APR_SUCCESS;
}

const char *so_money_fmt(apr_pool_t *p, apr_int64_t minor)
{
    apr_int64_t a = minor < 0 ? -minor : minor;
    return apr_psprintf(p, "%s%" APR_INT64_T_FMT ".%02d", minor < 0 ? "-" : "", a / 100,
                        (int)(a % 100));
}

char *so_str_lower(apr_pool_t *p, const char *s)
{
    char *r = apr_pstrdup(p, s ? s : "");
    char *c;
    for (c = r; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    return r;
}

char *so_str_upper(apr_pool_t *p, const char *s)
{
    char *r = apr_pstrdup(p, s ? s : "");
    char *c;
    for (c = r; *c; c++) {
        *c = (char)toupper((unsigned char)*c);
    }
    return r;
}

char *so_str_trim(apr_pool_t *p, const char *s)
{
    const char *b = s ? s : "";
    const char *e;
    while (*b && isspace((unsigned char)*b)) {
        b++;
    }
    e = b + strlen(b);
    while (e > b && isspace((unsigned char)e[-1])) {
        e--;
    }
    return apr_pstrmemdup(p, b, (apr_size_t)(e - b));
}

int so_str_is_printable_utf8(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = u[i];
        int n;
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
            n = 1;
        }
        else if ((c & 0xf0) == 0xe0) {
            n = 2;
        }
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
            n = 3;
        }
        else {
            return 0;
        }
        if (i + (apr_size_t)n >= len) {
            return 0;
        }
        {
            int k;
            for (k = 1; k <= n; k++) {
                if ((u[i + (apr_size_t)k] & 0xc0) != 0x80) {
                    return 0;
                }
            }
        }
        i += (apr_size_t)n + 1;
    }
    return 1;
}

int so_is_slug(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;
    if (n < 1 || n > 63) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0))) {
            return 0;
        }
    }
    return 1;
}

int so_is_username(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '_' || c == '@' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

const char *so_base64(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    apr_size_t olen = 4 * ((len + 2) / 3) + 1;
    unsigned char *out = apr_palloc(p, olen);
    int n = EVP_EncodeBlock(out, data, (int)len);
    out[n < 0 ? 0 : n] = '\0';
    return (const char *)out;
}

apr_status_t so_unbase64(const unsigned char **out, apr_size_t *len, apr_pool_t *p, const char *b64)
{
    apr_size_t n = strlen(b64), pad = 0;
    unsigned char *buf;
    int got;

    if (n % 4 != 0 || n > (apr_size_t)INT_MAX) {
        return APR_EINVAL;
    }
    if (n == 0) {
        *out = (const unsigned char *)"";
        *len = 0;
        return APR_SUCCESS;
    }
    pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
    buf = apr_palloc(p, n / 4 * 3 + 1);
    /* EVP_DecodeBlock decodes whole groups and counts padding as zero bytes */
    got = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
    if (got < 0 || (apr_size_t)got < pad) {
        return APR_EINVAL;
    }
    *len = (apr_size_t)got - pad;
    buf[*len] = '\0';
    *out = buf;
    return APR_SUCCESS;
}

const char *so_like_pattern(apr_pool_t *p, const char *user, int contains)
{
    char *out = apr_palloc(p, strlen(user) * 2 + 3), *o = out;
    const char *s;
    if (contains) {
        *o++ = '%';
    }
    for (s = user; *s; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (c == '%' || c == '_' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        }
        else if (c == '*') {
            *o++ = '%';
        }
        else {
            *o++ = c;
        }
    }
    if (contains) {
        *o++ = '%';
    }
    *o = '\0';
    return out;
}

int so_strs_has(const apr_array_header_t *a, const char *s)
{
    int i;
    for (i = 0; a && i < a->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(a, i, const char *), s)) {
            return 1;
        }
    }
    return 0;
}

void so_write_backoff(int attempt)
{
    unsigned char r[2];
    unsigned max_us = 1000u << (attempt < 6 ? attempt : 6); /* 1 ms .. 64 ms */
    if (attempt <= 0) {
        return;
    }
    if (so_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        r[0] = r[1] = 0x80;
    }
    apr_sleep((apr_interval_time_t)((((unsigned)r[0] << 8) | r[1]) % max_us));
}
