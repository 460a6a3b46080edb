/* mod_sslorders: certificate signing requests (OpenSSL): parse and verify, check
 * the key, generate a key and a CSR. */
#ifndef SO_CSR_H
#define SO_CSR_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/x509.h>

#define SO_CSR_MAX_PEM (32 * 1024)

typedef struct {
    const char *pem;           /* canonical PEM */
    const unsigned char *der;  /* DER of the request */
    apr_size_t der_len;
    const char *common_name;   /* lower-cased; "" when the subject has none */
    apr_array_header_t *sans;  /* const char*: the DNS names of the SAN extension, lower-cased */
    apr_array_header_t *names; /* const char*: CN first, then the SANs, without duplicates */
    const char *country;
    const char *state;
    const char *locality;
    const char *organization;
    const char *unit;
    const char *email;
    const char *key_type;      /* "rsa" or "ec" (or the OpenSSL name of another type) */
    int key_bits;              /* RSA modulus bits, EC field bits */
    const char *curve;         /* "P-256", "P-384", ... for EC, "" otherwise */
    const char *pubkey_pem;    /* SubjectPublicKeyInfo, PEM */
    const char *pubkey_sha1;   /* SHA-1 of the SubjectPublicKeyInfo DER, lower hex */
    const char *sig_hash;      /* "sha2", "sha1" (Openprovider's words) */
    const char *sig_alg;       /* e.g. "sha256WithRSAEncryption" */
    const char *md5;           /* of the DER, upper hex (DCV file names) */
    const char *sha1;          /* of the DER, upper hex */
    const char *sha256;        /* of the DER, upper hex */
    const char *spki_sha256;   /* SHA-256 of the SubjectPublicKeyInfo DER, lower hex */
    const char *spki_req_sha256; /* the same of the SubjectPublicKeyInfo as the request encodes
                                  * it: what a certificate signed for it carries (the CA copies
                                  * it, so_ca_copy_spki) */
    const char *debian_fp;     /* RSA: the last 20 hex digits of the SHA-1 of "Modulus=<HEX>\n"
                                * (the openssl-blacklist form, so_keyblock.h); NULL otherwise */
    const char *key_weak;      /* RSA: why the key is known weak (a factor below 752, primes
                                * close enough for Fermat's method, an even or bad
                                * exponent); NULL when none of that was found */
} so_csr_t;

/* Parse a PEM CSR and verify its signature. On failure *why says why in plain words. A PEM
 * parsed before in the same pool (not a parent) is answered from that pool's memo, as a copy. */
apr_status_t so_csr_parse(apr_pool_t *p, const char *pem, so_csr_t **out, const char **why);
/* The request so_csr_parse() parsed from pem (or its canonical form) in p, its signature
 * verified, owned by p (do not free); NULL when it was not parsed in p. The CA takes it
 * instead of parsing and verifying the same request again (so_ca_issue_req_t.csr_req). */
X509_REQ *so_csr_req_of(apr_pool_t *p, const char *pem);
/* The key types we sign: RSA of 2048 bits or more, EC P-256 or P-384; not a known weak
 * key (key_weak, Baseline Requirements 6.1.1.3 and 6.1.6). */
apr_status_t so_csr_check_key(const so_csr_t *csr, const char **why);

typedef struct {
    const char *key_type;      /* "rsa" (default) or "ec" */
    int bits;                  /* RSA: 2048, 3072 or 4096 */
    const char *curve;         /* EC: "P-256" or "P-384" */
    const char *common_name;
    const char *country, *state, *locality, *organization, *unit, *email;
    apr_array_header_t *sans;  /* const char*: extra DNS names (the CN is always added) */
} so_csr_gen_t;

/* Generate a key and a CSR (SHA-256). key_pem is PKCS#8 PEM: return it to the
 * customer once, never store or log it. config/command: an equivalent OpenSSL
 * configuration and command line. */
apr_status_t so_csr_generate(apr_pool_t *p, const so_csr_gen_t *in, const char **csr_pem,
                             const char **key_pem, const char **config, const char **command,
                             const char **why);

/* Why an RSA modulus n with exponent e is weak (NULL: not found weak): a prime factor below
 * 752, an exponent that is even or outside 3..2^256-1... (BR 6.1.6: odd, 65537 to
 * 2^256-1), or factors close enough that Fermat's method finds them in 100 steps. */
struct bignum_st;
const char *so_csr_rsa_weak(const struct bignum_st *n, const struct bignum_st *e);

#endif
