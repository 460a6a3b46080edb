#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "so_crypto.h"
#include "so_util.h"

#define SALT_LEN 16
#define HASH_LEN 32

static apr_status_t scrypt_raw(const char *password, const unsigned char *salt, apr_size_t saltlen,
                               int log_n, int r, int par, unsigned char *out)
{
    uint64_t n = (uint64_t)1 << log_n;
    uint64_t maxmem = 128 * n * (uint64_t)r * (uint64_t)par + 4 * 1024 * 1024;

    if (!EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, (uint64_t)r, (uint64_t)par,
                        maxmem, out, HASH_LEN)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t so_password_hash(const char **out, apr_pool_t *p, const char *password)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    apr_status_t rv;

    if ((rv = so_random_bytes(salt, sizeof(salt))) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = scrypt_raw(password, salt, sizeof(salt), SO_SCRYPT_LOG_N, 8, 1, hash))
        != APR_SUCCESS) {
        return rv;
    }
    *out = apr_psprintf(p, "scrypt$%d$%d$%d$%s$%s", SO_SCRYPT_LOG_N, 8, 1,
                        so_hex(p, salt, sizeof(salt), 0), so_hex(p, hash, sizeof(hash), 0));
    OPENSSL_cleanse(hash, sizeof(hash));
    return APR_SUCCESS;
}

static int unhex(const char *s, unsigned char *out, apr_size_t outlen)
{
    apr_size_t i;
    if (strlen(s) != outlen * 2) {
        return 0;
    }
    for (i = 0; i < outlen; i++) {
        char b[3] = {s[2 * i], s[2 * i + 1], 0};
        char *end;
        long v = strtol(b, &end, 16);
        if (*end) {
            return 0;
        }
        out[i] = (unsigned char)v;
    }
    return 1;
}

apr_status_t so_password_verify(apr_pool_t *p, const char *password, const char *stored)
{
    char *copy, *tok, *last = NULL;
    const char *parts[6];
    int i = 0, log_n, r, par;
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    apr_status_t rv;

    if (!stored || !password) {
        return APR_EINVAL;
    }
    copy = apr_pstrdup(p, stored);
    for (tok = apr_strtok(copy, "$", &last); tok && i < 6; tok = apr_strtok(NULL, "$", &last)) {
        parts[i++] = tok;
    }
    if (i != 6 || strcmp(parts[0], "scrypt") != 0) {
        return APR_EINVAL;
    }
    log_n = atoi(parts[1]);
    r = atoi(parts[2]);
    par = atoi(parts[3]);
    if (log_n < 10 || log_n > 20 || r < 1 || r > 32 || par < 1 || par > 16
        || !unhex(parts[4], salt, sizeof(salt)) || !unhex(parts[5], want, sizeof(want))) {
        return APR_EINVAL;
    }
    if ((rv = scrypt_raw(password, salt, sizeof(salt), log_n, r, par, got)) != APR_SUCCESS) {
        return rv;
    }
    rv = CRYPTO_memcmp(got, want, sizeof(got)) == 0 ? APR_SUCCESS : APR_EMISMATCH;
    OPENSSL_cleanse(got, sizeof(got));
    return rv;
}

const char *so_secret_hash(apr_pool_t *p, const char *secret)
{
    return so_sha256_hex(p, secret, strlen(secret), 0);
}
