/* mod_sslorders: compose plain-text mail (no httpd types).
 *
 * so_mail_compose() writes an RFC 5322 message to pipe into SSLOrdersMailCommand (for
 * example "/usr/sbin/sendmail -t -i", which reads the recipients from To:):
 *
 *   Date: Tue, 24 Nov 2026 10:00:00 +0000
 *   From: "Name" <from@example.com>          (RFC 2047 encoded-words for a non-ASCII name)
 *   To: a@example.com, b@example.com         (folded when long)
 *   Reply-To: ...                            (when given)
 *   Subject: ...                             (RFC 2047 "=?UTF-8?B?...?=" words for non-ASCII)
 *   Message-ID: <random.epoch@domain>
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=utf-8
 *   Content-Transfer-Encoding: 7bit | quoted-printable
 *   Auto-Submitted: auto-generated           (RFC 3834: no vacation replies)
 *
 * with CRLF line ends throughout. The body is sent as 7bit when it is ASCII with short
 * lines; otherwise as quoted-printable (also when a line starts with "." or "From ", so
 * that neither a sendmail without -i nor an mbox can cut or mangle it).
 *
 * Header injection is impossible: header values with CR, LF or other control characters
 * are refused, addresses must be plain addr-specs (local@domain, ASCII), and text is
 * encoded. The body must be UTF-8; LF or CRLF line ends.
 */
#ifndef SO_MAIL_H
#define SO_MAIL_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SO_MAIL_MAX_RECIPIENTS 100
#define SO_MAIL_MAX_SUBJECT 998      /* bytes of UTF-8 */
#define SO_MAIL_MAX_BODY (1024 * 1024)

typedef struct {
    const char *from;              /* addr-spec, required */
    const char *from_name;         /* display name (UTF-8), optional */
    const apr_array_header_t *to;  /* const char *: addr-specs, 1..SO_MAIL_MAX_RECIPIENTS */
    const char *reply_to;          /* addr-spec, optional */
    const char *subject;           /* UTF-8, required */
    const char *body;              /* UTF-8 text, required (may be empty) */
    apr_int64_t date;              /* seconds since the epoch */
    const char *message_id_domain; /* NULL: the domain of from */
} so_mail_msg_t;

/* 1 when addr is an addr-spec we send to: dot-atom local part (at most 64 characters) "@"
 * a domain of LDH labels with at least one dot; 254 characters at most. */
int so_mail_addr_ok(const char *addr);

/* The message, NUL terminated, its length in *len (may be NULL). APR_EINVAL and *why
 * ("the subject contains a line break", "\"x\" is not a valid e-mail address") for input
 * that cannot be sent as given. */
apr_status_t so_mail_compose(const char **out, apr_size_t *len, apr_pool_t *p,
                             const so_mail_msg_t *m, const char **why);

#endif
