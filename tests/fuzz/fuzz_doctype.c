/* libFuzzer harness: validation document type detection on uploaded bytes (PDF, PNG,
 * JPEG, GIF, TIFF, OLE, ZIP/DOCX/ODT through libzip, UTF-8 text), and the file name
 * and text helpers on the same bytes taken as a client's file name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "../../src/core/so_doctype.h"
#include "../../src/core/so_text.h"

SO_FUZZ_ROOT_POOL(root)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const so_doctype_t *t = NULL;
    const char *why = NULL, *name, *s;
    /* an exact-size copy, so that ASan sees any read past the end */
    uint8_t *copy = size ? memcpy(malloc(size), data, size) : NULL;
    apr_status_t rv;

    apr_pool_create(&p, root);
    rv = so_doctype_detect(&t, copy, size, &why);
    if (rv == APR_SUCCESS) {
        if (!t || !t->name || so_doctype_by_name(t->name) != t || why) {
            abort();
        }
    }
    else if (rv != APR_EINVAL || !why) {
        abort();
    }
    s = apr_pstrmemdup(p, (const char *)data, size > 300 ? 300 : size);
    name = so_doctype_filename(p, s, rv == APR_SUCCESS ? t : NULL);
    if (!*name || strchr(name, '/') || strchr(name, '\\') || name[0] == '.'
        || !so_text_utf8_valid(name, strlen(name))) {
        abort();
    }
    so_doctype_content_disposition(p, "inline", name);
    s = so_text_html(p, s, 20);
    if (strchr(s, '<') || strchr(s, '"') || !so_text_utf8_valid(s, strlen(s))) {
        abort();
    }
    free(copy);
    apr_pool_destroy(p);
    return 0;
}
