/* mod_sslorders: QR codes as SVG (libqrencode for the code, the SVG written here). */
#include <errno.h>
#include <string.h>

#include <apr_strings.h>
#include <qrencode.h>

#include "so_qr.h"

#define QUIET 4

apr_status_t so_qr_svg(const char **out, apr_pool_t *p, const char *text, int scale)
{
    QRcode *qr;
    char *path, *o;
    apr_size_t room;
    int x, y, w, size;

    *out = NULL;
    if (!text || !*text || scale < 1 || scale > 64) {
        return APR_EINVAL;
    }
    errno = 0;
    qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!qr) {
        return errno == ENOMEM ? APR_ENOMEM : APR_EINVAL;
    }
    w = qr->width;
    size = w + 2 * QUIET;
    /* "M<x> <y>h1v1h-1z" per dark module: at most 24 characters each */
    room = (apr_size_t)w * (apr_size_t)w * 24 + 1;
    path = o = apr_palloc(p, room);
    *o = '\0';
    for (y = 0; y < w; y++) {
        for (x = 0; x < w; x++) {
            if (qr->data[y * w + x] & 1) { /* bit 0: a dark module */
                o += apr_snprintf(o, room - (apr_size_t)(o - path), "M%d %dh1v1h-1z", x + QUIET,
                                  y + QUIET);
            }
        }
    }
    QRcode_free(qr);
    *out = apr_psprintf(p,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                        "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
                        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                        "<path fill=\"#000\" d=\"%s\"/></svg>",
                        size, size, size * scale, size * scale, size, size, path);
    return APR_SUCCESS;
}
