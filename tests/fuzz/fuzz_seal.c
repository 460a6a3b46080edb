/* libFuzzer harness: the untrusted inputs of the public seal endpoints: the page host
 * (?host=, Referer) against the order's names, and the badge and report rendered for
 * it. Input: "HOST\nNAME\nNAME...". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_seal.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *in, *tok, *last = NULL;
    apr_array_header_t *names;
    so_seal_info_t info;
    const char *out, *host;
    apr_size_t len;

    apr_pool_create(&p, root);
    in = apr_pstrmemdup(p, (const char *)data, size);
    host = in;
    if ((tok = strchr(in, '\n'))) {
        *tok++ = '\0';
    }
    names = apr_array_make(p, 4, sizeof(const char *));
    for (tok = tok ? apr_strtok(tok, "\n", &last) : NULL; tok;
         tok = apr_strtok(NULL, "\n", &last)) {
        APR_ARRAY_PUSH(names, const char *) = tok;
    }
    memset(&info, 0, sizeof(info));
    info.seal_id = "AbCdEfGhIjKlMnOpQrStUv";
    info.domain = names->nelts ? APR_ARRAY_IDX(names, 0, const char *) : host;
    info.names = names;
    info.host = host;
    info.level = (so_seal_level_t)(size % 3);
    info.org_name = host;
    info.not_before = 1;
    info.not_after = 2;
    info.now = 1;
    info.seal_base = "https://seal.example/seal";
    info.state = so_seal_state_of(&info, 1, 1);
    if (info.state == SO_SEAL_VALID && *host && !so_seal_host_matches(names, host)) {
        abort();
    }
    if (so_seal_svg(&out, &len, p, &info) != APR_SUCCESS || strstr(out, "<script")
        || len != strlen(out)) {
        abort();
    }
    if (so_seal_report_html(&out, &len, p, &info) != APR_SUCCESS || strstr(out, "<script")
        || strstr(out, "<img src=x")) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
