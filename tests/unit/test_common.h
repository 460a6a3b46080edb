#ifndef SO_TEST_COMMON_H
#define SO_TEST_COMMON_H

#include <apr_pools.h>
#include <check.h>
#include <openssl/evp.h>

#include "../../src/api/so_api.h"
#include "../../src/store/so_db.h"

TCase *so_test_util_case(void);
TCase *so_test_db_case(void);
TCase *so_test_api_case(void);
TCase *so_test_ssl_case(void);
TCase *so_test_bundle_case(void);
TCase *so_test_seal_case(void);
TCase *so_test_doctype_case(void);
TCase *so_test_multipart_case(void);
TCase *so_test_ca_case(void);
TCase *so_test_dcv_case(void);
TCase *so_test_exec_case(void);
TCase *so_test_mail_case(void);
TCase *so_test_security_case(void);
TCase *so_test_org_case(void);
TCase *so_test_metrics_case(void);
TCase *so_test_caa_case(void);
TCase *so_test_mpic_case(void);
TCase *so_test_webhook_case(void);
TCase *so_test_svc_case(void);
TCase *so_test_jws_case(void);

/* A fresh migrated SQLite :memory: database with every statement prepared. */
so_db_t *so_test_db(apr_pool_t *p);

/* A request against db: method, path (below /v1beta), JSON body or NULL, bearer token
 * or NULL. Dispatches it and returns it (answer fields filled). */
so_req_t *so_test_call(apr_pool_t *p, so_db_t *db, const so_config_t *cfg, const char *method,
                       const char *path, const char *body, const char *token);
/* Create a user (password "password1"), a team and an owner membership; returns a token. */
const char *so_test_account(apr_pool_t *p, so_db_t *db, const char *user, const char *team);

/* Unchecked fixture of a TCase that uses so_test_tmpdir: a root directory
 * /tmp/so-unit-XXXXXX made and removed in libcheck's parent process. */
void so_test_root_setup(void);
void so_test_root_teardown(void);
/* A fresh directory in that root (or /tmp/so-unit-XXXXXX without one); rmtree removes a
 * directory below /tmp/so-unit-*. */
const char *so_test_tmpdir(apr_pool_t *p);
void so_test_rmtree(const char *dir);

/* A new key of type ("ec256", "ec384", "ec521", "rsa2048", "rsa1024", "ed25519") and a CSR
 * for the NULL-terminated names (CN = the first, SAN = all), as PEM; the DER through
 * der/der_len when der is not NULL; the key through keyp (caller frees) when not NULL. */
const char *so_test_csr(apr_pool_t *p, const char *type, const char *const *names,
                        const unsigned char **der, apr_size_t *der_len);
const char *so_test_csr_key(apr_pool_t *p, const char *type, const char *const *names,
                            const unsigned char **der, apr_size_t *der_len, EVP_PKEY **keyp);

#endif
