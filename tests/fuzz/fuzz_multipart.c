/* libFuzzer harness: multipart/form-data uploads as they reach the upload endpoint:
 * the parser, then the file name and type checks on every part.
 * Input: "CONTENT-TYPE\nBODY". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_doctype.h"
#include "../../src/core/so_multipart.h"
#include "../../src/core/so_text.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nl = memchr(data, '\n', size);
    const char *ct, *body, *why = NULL;
    apr_size_t len;
    apr_array_header_t *parts = NULL;
    so_multipart_limits_t lim = {8, 512, 1 << 16};
    apr_status_t rv;
    int i;

    if (!nl) {
        return 0;
    }
    apr_pool_create(&p, root);
    ct = apr_pstrmemdup(p, (const char *)data, (apr_size_t)(nl - data));
    len = size - (size_t)(nl - data) - 1;
    /* an exact-size copy, so that ASan sees any read past the body */
    body = len ? memcpy(malloc(len), nl + 1, len) : NULL;
    rv = so_multipart_parse(&parts, p, ct, body, len, &lim, &why);
    if (rv != APR_SUCCESS) {
        if (!why || (rv != APR_EINVAL && rv != APR_INCOMPLETE && rv != APR_ENOSPC)) {
            abort();
        }
    }
    else {
        if (!parts || parts->nelts < 1 || parts->nelts > 8) {
            abort();
        }
        for (i = 0; i < parts->nelts; i++) {
            const so_multipart_part_t *pt = &APR_ARRAY_IDX(parts, i, so_multipart_part_t);
            const so_doctype_t *t = NULL;
            const char *name;
            if (!pt->name || !*pt->name || !so_text_utf8_valid(pt->name, strlen(pt->name))
                || (pt->len && (pt->data < body || pt->data + pt->len > body + len))) {
                abort();
            }
            if (so_doctype_detect(&t, pt->data, pt->len, &why) != APR_SUCCESS) {
                t = NULL;
            }
            name = so_doctype_filename(p, pt->filename, t);
            if (!*name || strchr(name, '/') || strchr(name, '\\') || strchr(name, '"')) {
                abort();
            }
            so_doctype_content_disposition(p, "attachment", name);
            so_multipart_find(parts, pt->name);
        }
    }
    free((void *)body);
    apr_pool_destroy(p);
    return 0;
}
