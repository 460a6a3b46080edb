/* mod_sslorders: QR codes (libqrencode) drawn as SVG, e.g. the otpauth:// URI of a TOTP
 * enrolment for an authenticator app's camera. */
#ifndef SO_QR_H
#define SO_QR_H

#include <apr_pools.h>

/* An SVG image (one path of dark modules on a white square, a 4-module quiet zone, `scale`
 * user units per module) of the QR code of text (byte mode, error correction level M).
 * APR_EINVAL when text cannot be encoded (empty or too long), APR_ENOMEM otherwise. */
apr_status_t so_qr_svg(const char **out, apr_pool_t *p, const char *text, int scale);

#endif
