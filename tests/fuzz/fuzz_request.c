/* libFuzzer harness: the untrusted parts of an API request without a database:
 * routing, the JSON body, field extraction, cookies, dates, money and integers.
 * Input: "METHOD\nPATH\nCOOKIE\nBODY". */
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/api/so_api.h"
#include "../../src/core/so_util.h"

static apr_pool_t *root;

static apr_status_t fields(so_req_t *req)
{
    const char *s = NULL;
    apr_int64_t i = 0;
    int b = 0;
    json_t *a = NULL;
    so_in_str(req, req->json, "username", 0, 64, &s, NULL);
    so_in_int(req, req->json, "id", 0, 1, 1000, &i, NULL);
    so_in_bool(req, req->json, "start_provision", 0, &b, NULL);
    so_in_array(req, req->json, "host_names", 0, 100, &a, NULL);
    if (s) {
        so_time_parse(s, &i);
        so_money_parse(s, &i);
        so_parse_int64(s, 0, 100, &i);
        so_str_is_printable_utf8(s, strlen(s));
    }
    return so_api_ok(req, NULL);
}

static const so_route_t routes[] = {
    {"POST", "/x/{id}", fields, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"PUT", "/x/{id}/y/{z}", fields, SO_ROLE_NONE, SO_RF_PUBLIC},
    {"GET", "/x", fields, SO_ROLE_NONE, SO_RF_PUBLIC},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    so_config_t cfg;
    so_req_t *req;
    char *in, *parts[4] = {"", "", "", ""};
    int i = 0;
    apr_size_t len;

    apr_pool_create(&p, root);
    in = apr_pstrmemdup(p, (const char *)data, size);
    parts[0] = in;
    for (char *c = in; *c && i < 3; c++) {
        if (*c == '\n') {
            *c = '\0';
            parts[++i] = c + 1;
        }
    }
    so_config_defaults(&cfg);
    req = so_req_create(p, &cfg);
    req->routes = routes;
    req->method = parts[0];
    req->path = parts[1];
    apr_table_setn(req->headers_in, "Cookie", parts[2]);
    apr_table_setn(req->headers_in, "Content-Type", "application/json");
    req->body = parts[3];
    req->body_len = strlen(parts[3]);
    so_req_cookie(req, "so_session");
    so_api_dispatch(req);
    so_api_answer_json(req, &len);
    apr_pool_destroy(p);
    return 0;
}
