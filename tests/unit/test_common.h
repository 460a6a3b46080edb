#ifndef SO_TEST_COMMON_H
#define SO_TEST_COMMON_H

#include <apr_pools.h>
#include <check.h>

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
TCase *so_test_org_case(void);

/* A fresh migrated SQLite :memory: database with every statement prepared. */
so_db_t *so_test_db(apr_pool_t *p);

/* A request against db: method, path (below /v1beta), JSON body or NULL, bearer token
 * or NULL. Dispatches it and returns it (answer fields filled). */
so_req_t *so_test_call(apr_pool_t *p, so_db_t *db, const so_config_t *cfg, const char *method,
                       const char *path, const char *body, const char *token);
/* Create a user (password "password1"), a team and an owner membership; returns a token. */
const char *so_test_account(apr_pool_t *p, so_db_t *db, const char *user, const char *team);

#endif
