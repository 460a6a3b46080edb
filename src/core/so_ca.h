/* mod_sslorders: the built-in issuing CA (no httpd types).
 *
 * A two-level hierarchy: a self-signed root and one issuing intermediate that signs
 * subscriber (leaf) certificates and CRLs. Everything lives in one directory
 * (SSLOrdersCA dir):
 *
 *   root.crt           the root certificate, PEM, mode 0644
 *   root.key           the root's private key, PKCS#8 PEM unencrypted, mode 0600
 *   intermediate.crt   the issuing CA certificate, PEM, mode 0644
 *   intermediate.key   its private key, PKCS#8 PEM unencrypted, mode 0600
 *   .ca.lock           lock file, taken while the CA is created or loaded
 *
 * so_ca_init() loads and checks these files, or, when none of them exists, creates the
 * hierarchy (the directory is created with mode 0700 when missing). Files are written to
 * a temporary name and renamed into place, so a crash never leaves a half-written file.
 * A directory holding only some of the four files is an error (nothing is overwritten).
 * The keys are read once: in httpd call so_ca_init() in post_config (as root), so the
 * children inherit the keys and never need to read root.key/intermediate.key themselves.
 *
 * Public URLs (served by the httpd glue, below the base URL passed to so_ca_issue):
 *   <base>/pki/intermediate.crt   the issuing CA certificate, DER (AIA caIssuers)
 *   <base>/pki/crl                the CRL of the intermediate, DER (CRL distribution point)
 *   (suggested, not referenced in certificates: <base>/pki/root.crt)
 * The Baseline Requirements (7.1.2.7.7, 7.1.2.11.2) require both URLs to use the
 * http scheme, so the base URL must start with "http://".
 *
 * Leaf profile (CA/Browser Forum Baseline Requirements, 7.1.2.7): serverAuth EKU only,
 * keyUsage critical (RSA: digitalSignature + keyEncipherment; EC: digitalSignature),
 * basicConstraints critical CA:FALSE, SAN with every name (dNSName), subject CN = the
 * first name (DV: CN only; OV: C, ST, L, O, CN; EV also businessCategory,
 * jurisdictionCountryName, serialNumber), certificatePolicies with the CA/B Forum
 * reserved OID of the validation level, AKI, SKI, AIA caIssuers, CRL distribution point,
 * a random positive 127-bit serial, signed with SHA-256 (SHA-384 for a P-384 key).
 *
 * A so_ca_t is read-only after so_ca_init() and can be used by several threads at once.
 */
#ifndef SO_CA_H
#define SO_CA_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <openssl/x509.h>

/* The default CA tag: the last labels of DCV CNAME targets and the second line of DCV
 * files (what "sectigo.com" is for Sectigo). Set it to a domain of the provider
 * (e.g. the host of SSLOrdersPublicURL); it does not need to resolve. */
#define SO_CA_DEFAULT_TAG "sslorders.local"
#define SO_CA_DEFAULT_ORG "mod_sslorders"

#define SO_CA_ROOT_CRT "root.crt"
#define SO_CA_ROOT_KEY "root.key"
#define SO_CA_INTER_CRT "intermediate.crt"
#define SO_CA_INTER_KEY "intermediate.key"

/* Paths below the base URL that certificates point to. */
#define SO_CA_AIA_PATH "/pki/intermediate.crt"
#define SO_CA_CRL_PATH "/pki/crl"

#define SO_CA_ROOT_DAYS 7305  /* about 20 years */
#define SO_CA_INTER_DAYS 3653 /* about 10 years */
#define SO_CA_MAX_NAMES 250   /* names (SANs) in one certificate */
#define SO_CA_CRL_DEFAULT_SECS (7 * 86400)
#define SO_CA_CRL_MAX_SECS (10 * 86400) /* BR 4.9.7: nextUpdate at most 10 days later */

typedef enum {
    SO_CA_KEY_DEFAULT = 0, /* EC P-384 for a new CA */
    SO_CA_KEY_EC_P256,
    SO_CA_KEY_EC_P384,
    SO_CA_KEY_RSA2048,
    SO_CA_KEY_RSA3072,
    SO_CA_KEY_RSA4096
} so_ca_key_type_t;
/* A key type by name: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096 (APR_EINVAL: none of
 * them). */
apr_status_t so_ca_key_type_parse(const char *name, so_ca_key_type_t *out);
#define SO_CA_KEY_NAMES "ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096"

typedef struct {
    const char *organization;    /* O of the CA certificates; default SO_CA_DEFAULT_ORG */
    const char *cn_prefix;       /* CNs "<prefix> Root CA", "<prefix> Issuing CA"; default: organization */
    const char *country;         /* optional C of the CA certificates (two upper-case letters) */
    so_ca_key_type_t root_key;   /* key of a new root; default EC P-384 */
    so_ca_key_type_t issuing_key;/* key of a new intermediate; default: the root's type */
    const char *tag;             /* CA tag for DCV values; default SO_CA_DEFAULT_TAG */
    int max_days;                /* configured cap of leaf validity in days; 0 = only the BR cap */
} so_ca_opts_t;

typedef struct so_ca_t so_ca_t;

typedef enum { SO_CA_DV = 1, SO_CA_OV = 2, SO_CA_EV = 3 } so_ca_validation_t;

typedef struct {
    const char *csr_pem;               /* PKCS#10, PEM; its signature is verified again and only
                                        * its public key is used (names come from `names`) */
    X509_REQ *csr_req;                 /* optional: csr_pem as parsed and verified already
                                        * (so_csr_req_of); NULL: parsed from csr_pem */
    const apr_array_header_t *names;   /* const char *: the validated DNS names ("*.x" allowed);
                                        * lower-cased, duplicates dropped; the first is the CN */
    so_ca_validation_t validation;
    /* OV and EV subject (ignored for DV): organization and country required, and at least
     * one of locality and state */
    const char *organization;
    const char *locality;
    const char *state;
    const char *country;               /* ISO 3166 two upper-case letters */
    /* EV only, all required */
    const char *business_category;     /* "Private Organization", "Government Entity",
                                        * "Business Entity" or "Non-Commercial Entity" */
    const char *jurisdiction_country;  /* two letters */
    const char *registration_number;   /* subject serialNumber */
    int days;                          /* requested validity in days (> 0) */
    const char *base_url;              /* http://host[:port][/prefix] for AIA and CRL URLs */
    apr_int64_t now;                   /* notBefore (seconds since the epoch) */
} so_ca_issue_req_t;

typedef struct {
    const char *pem;          /* the leaf certificate, PEM */
    const char *chain_pem;    /* leaf + intermediate, PEM */
    const unsigned char *der; /* the leaf, DER */
    apr_size_t der_len;
    const char *serial;       /* lower-case hex of the serial's big-endian bytes
                               * (`openssl x509 -serial` in lower case) */
    apr_int64_t not_before;
    apr_int64_t not_after;    /* inclusive: not_after - not_before + 1 = days * 86400 */
    int days;                 /* validity granted (after the caps) */
    const char *sha256;       /* SHA-256 fingerprint of the DER, lower-case hex */
    const char *spki_sha256;  /* SHA-256 of its SubjectPublicKeyInfo DER, lower-case hex (as
                               * so_keyblock_cert_spki() gives it) */
    X509 *x509;               /* the leaf as signed (der is its encoding), owned by the pool
                               * it was issued in: do not free */
} so_ca_cert_t;

/* One revoked certificate for so_ca_crl(). reason: RFC 5280 CRLReason; 0 (unspecified)
 * leaves the reasonCode extension out (BR 7.2.2); otherwise 1 keyCompromise,
 * 3 affiliationChanged, 4 superseded, 5 cessationOfOperation or 9 privilegeWithdrawn. */
typedef struct {
    const char *serial;       /* hex, either case */
    apr_int64_t revoked_at;
    int reason;
} so_ca_revoked_t;

typedef struct {
    const char *pem;
    const unsigned char *der;
    apr_size_t der_len;
    apr_int64_t this_update;
    apr_int64_t next_update;
    apr_int64_t number;       /* the cRLNumber */
} so_ca_crl_t;

/* Load the CA from dir, or create it when dir holds none of the four files (see above).
 * opts may be NULL (defaults); key types, organization and CN prefix only matter when the
 * CA is created. now: creation time of a new CA and the time the loaded certificates
 * are checked against (an expired intermediate is an error). The CA and its OpenSSL
 * objects live as long as p. */
apr_status_t so_ca_init(so_ca_t **out, apr_pool_t *p, const char *dir, const so_ca_opts_t *opts,
                        apr_int64_t now, const char **why);

/* Whether so_ca_init created the hierarchy (1) or loaded it (0). */
int so_ca_created(const so_ca_t *ca);

/* Getters. PEM strings are NUL terminated; DER through *len. */
const char *so_ca_root_pem(const so_ca_t *ca);
const unsigned char *so_ca_root_der(const so_ca_t *ca, apr_size_t *len);
const char *so_ca_intermediate_pem(const so_ca_t *ca);
const unsigned char *so_ca_intermediate_der(const so_ca_t *ca, apr_size_t *len);
/* intermediate + root, PEM (the chain a server sends plus the root) */
const char *so_ca_chain_pem(const so_ca_t *ca);
X509 *so_ca_root_x509(const so_ca_t *ca);         /* owned by the CA: do not free */
X509 *so_ca_intermediate_x509(const so_ca_t *ca); /* owned by the CA: do not free */
const char *so_ca_tag(const so_ca_t *ca);
/* Whether the subject attributes of a request (OV/EV: organization, locality, state,
 * country, the EV fields) can go into a certificate; APR_EINVAL with *why when not. */
apr_status_t so_ca_subject_check(apr_pool_t *p, const so_ca_issue_req_t *r, const char **why);

/* The issuer of a PEM certificate as a person reads it: its O, else its CN. */
apr_status_t so_ca_cert_issuer(const char **out, apr_pool_t *p, const char *pem);
const char *so_ca_dir(const so_ca_t *ca);

/* The Baseline Requirements' maximum validity in days for a certificate issued at now
 * (SC-081: 398 before 2026-03-15, 200 from then, 100 from 2027-03-15, 47 from 2029-03-15). */
int so_ca_br_max_days(apr_int64_t now);

/* Check (and normalise: lower case) a DNS name for a certificate: LDH labels of 1-63
 * characters, 253 at most, two labels or more, an optional leading "*." wildcard label,
 * no IP address, not a public suffix, no wildcard directly below a public suffix. */
apr_status_t so_ca_check_name(const char **out, apr_pool_t *p, const char *name, const char **why);

/* Sign a leaf for req->csr_pem. Validity = min(req->days, so_ca_br_max_days(now),
 * opts->max_days), notBefore = req->now. The CSR key must be RSA (2048-8192 bits, odd
 * exponent >= 65537) or EC P-256/P-384. Outputs are allocated from p. */
apr_status_t so_ca_issue(so_ca_cert_t **out, const so_ca_t *ca, apr_pool_t *p,
                         const so_ca_issue_req_t *req, const char **why);

/* A v2 CRL signed by the intermediate: every entry of revoked (so_ca_revoked_t), sorted by
 * serial; thisUpdate = now, nextUpdate = now + next_secs (0 = SO_CA_CRL_DEFAULT_SECS, at most
 * SO_CA_CRL_MAX_SECS); cRLNumber = number (0 = now, which grows with every new CRL);
 * authorityKeyIdentifier. revoked may be NULL (an empty CRL). */
apr_status_t so_ca_crl(so_ca_crl_t **out, const so_ca_t *ca, apr_pool_t *p,
                       const apr_array_header_t *revoked, apr_int64_t now, apr_int64_t next_secs,
                       apr_int64_t number, const char **why);

#endif
