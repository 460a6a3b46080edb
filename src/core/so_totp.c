#include <string.h>

#include <apr_strings.h>
#include <apr_escape.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "so_totp.h"
#include "so_util.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const char *so_base32_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (len * 8 + 4) / 5 + 1), *o = out;
    apr_uint32_t buf = 0;
    int bits = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        buf = (buf << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            *o++ = b32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        *o++ = b32[(buf << (5 - bits)) & 31];
    }
    *o = '\0';
    return out;
}

apr_status_t so_base32_decode(apr_pool_t *p, const char *text, unsigned char **out,
                              apr_size_t *len)
{
    apr_size_t n = strlen(text);
    unsigned char *o = apr_palloc(p, n * 5 / 8 + 1);
    apr_uint32_t buf = 0;
    int bits = 0;
    apr_size_t k = 0;
    const char *c;

    for (c = text; *c; c++) {
        const char *hit;
        int ch = *c;
        if (ch == ' ' || ch == '=' || ch == '-') {
            continue;
        }
        if (ch >= 'a' && ch <= 'z') {
            ch -= 'a' - 'A';
        }
        if (!ch || !(hit = strchr(b32, ch))) {
            return APR_EINVAL;
        }
        buf = (buf << 5) | (apr_uint32_t)(hit - b32);
        bits += 5;
        if (bits >= 8) {
            o[k++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    *out = o;
    *len = k;
    return k ? APR_SUCCESS : APR_EINVAL;
}

apr_status_t so_totp_secret(const char **out, apr_pool_t *p)
{
    unsigned char key[SO_TOTP_SECRET_BYTES];
    apr_status_t rv = so_random_bytes(key, sizeof(key));
    if (rv == APR_SUCCESS) {
        *out = so_base32_encode(p, key, sizeof(key));
    }
    return rv;
}

int so_hotp(const unsigned char *key, apr_size_t keylen, apr_uint64_t counter)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int i, off;
    apr_uint32_t bin;

    for (i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    if (!HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen) || maclen < 20) {
        return -1;
    }
    off = mac[maclen - 1] & 0x0f;
    bin = ((apr_uint32_t)(mac[off] & 0x7f) << 24) | ((apr_uint32_t)mac[off + 1] << 16)
          | ((apr_uint32_t)mac[off + 2] << 8) | (apr_uint32_t)mac[off + 3];
    return (int)(bin % 1000000);
}

apr_status_t so_totp_verify(apr_pool_t *p, const char *secret_b32, const char *code,
                            apr_int64_t now, apr_int64_t last_step, apr_int64_t *step)
{
    unsigned char *key;
    apr_size_t keylen;
    apr_int64_t s, at = now / SO_TOTP_STEP;
    int want, match = 0;
    apr_int64_t matched = 0;

    if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6
        || so_base32_decode(p, secret_b32, &key, &keylen) != APR_SUCCESS) {
        return APR_EMISMATCH;
    }
    want = atoi(code);
    /* every candidate is computed (no early exit on a match) */
    for (s = at - 1; s <= at + 1; s++) {
        if (s > last_step && s >= 0 && so_hotp(key, keylen, (apr_uint64_t)s) == want && !match) {
            match = 1;
            matched = s;
        }
    }
    if (!match) {
        return APR_EMISMATCH;
    }
    *step = matched;
    return APR_SUCCESS;
}

const char *so_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                        const char *secret_b32)
{
    return apr_psprintf(p,
                        "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
                        apr_pescape_urlencoded(p, issuer), apr_pescape_urlencoded(p, account),
                        secret_b32, apr_pescape_urlencoded(p, issuer));
}
