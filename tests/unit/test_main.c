/* libcheck unit tests of the core library (src/core, src/store, src/api), on SQLite
 * :memory: databases, without httpd. */
#include <stdlib.h>

#include <apr_general.h>
#include <check.h>

#include "test_common.h"

int main(void)
{
    Suite *s;
    SRunner *sr;
    int failed;

    apr_app_initialize(NULL, NULL, NULL);
    atexit(apr_terminate);
    so_api_init();
    s = suite_create("sslorders");
    suite_add_tcase(s, so_test_util_case());
    suite_add_tcase(s, so_test_db_case());
    suite_add_tcase(s, so_test_api_case());
    suite_add_tcase(s, so_test_ssl_case());
    suite_add_tcase(s, so_test_bundle_case());
    suite_add_tcase(s, so_test_seal_case());
    suite_add_tcase(s, so_test_doctype_case());
    suite_add_tcase(s, so_test_multipart_case());
    suite_add_tcase(s, so_test_ca_case());
    suite_add_tcase(s, so_test_dcv_case());
    suite_add_tcase(s, so_test_exec_case());
    suite_add_tcase(s, so_test_mail_case());
    suite_add_tcase(s, so_test_org_case());
    suite_add_tcase(s, so_test_metrics_case());
    suite_add_tcase(s, so_test_caa_case());
    suite_add_tcase(s, so_test_mpic_case());
    suite_add_tcase(s, so_test_webhook_case());
    suite_add_tcase(s, so_test_security_case());
    suite_add_tcase(s, so_test_svc_case());
    suite_add_tcase(s, so_test_jws_case());
    sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
