/* mod_sslorders: lists of public keys that are never certified (Baseline Requirements
 * 6.1.1.3: industry-demonstrated weak keys such as Debian's 2008 keys, CVE-2008-0166), no
 * httpd types.
 *
 * A list file (SSLOrdersBlockedKeys) holds one fingerprint per line; empty lines and lines
 * starting with '#' are skipped. Two forms, told apart by their length:
 *   - 20 hex digits: the form of Debian's openssl-blacklist files (blacklist.RSA-2048, ...)
 *     and of openssl-vulnkey: the last 80 bits of the SHA-1 of the line "Modulus=<HEX>\n",
 *     HEX the RSA modulus in upper case hex as `openssl rsa -modulus` prints it;
 *   - 64 hex digits: the SHA-256 of the key's SubjectPublicKeyInfo DER (any key type; the
 *     form of `openssl pkey -pubin -outform DER | sha256sum` and of Boulder's
 *     blockedHashesHex).
 * Anything else is an error naming the file and line. */
#ifndef SO_KEYBLOCK_H
#define SO_KEYBLOCK_H

#include <apr_pools.h>

#include "so_csr.h"

typedef struct so_keyblock_t so_keyblock_t;

so_keyblock_t *so_keyblock_make(apr_pool_t *p);
/* Adds the fingerprints of a list's text; name is how refusals and errors name the list.
 * APR_EINVAL with *why (file and line) on a line of neither form. */
apr_status_t so_keyblock_add_text(so_keyblock_t *kb, const char *name, const char *text,
                                  apr_size_t len, const char **why);
/* The same for a file (read whole; at most 64 MiB). */
apr_status_t so_keyblock_add_file(so_keyblock_t *kb, apr_pool_t *tmp, const char *path,
                                  const char **why);
/* How many fingerprints the lists hold. */
int so_keyblock_count(const so_keyblock_t *kb);
/* Why csr's key is blocked by a list (NULL: on none; kb NULL: no lists), allocated from p.
 * The lists are only read: threads may share them once loaded. */
const char *so_keyblock_find(apr_pool_t *p, const so_keyblock_t *kb, const so_csr_t *csr);
/* The SHA-256 (lower hex) of the SubjectPublicKeyInfo of a PEM certificate (the key a
 * revocation for key compromise blocks); APR_EINVAL when it cannot be read. */
/* SHA-256 of a SubjectPublicKeyInfo's DER, lower hex (the form blocked keys are listed in);
 * NULL when it cannot be encoded. */
struct X509_pubkey_st;
const char *so_keyblock_spki_sha256(apr_pool_t *p, const struct X509_pubkey_st *spki);
apr_status_t so_keyblock_cert_spki(apr_pool_t *p, const char *cert_pem, const char **spki_sha256);

#endif
