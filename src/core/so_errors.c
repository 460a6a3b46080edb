#include <stddef.h>

#include "so_errors.h"

/* Keep in sync with README.md ("Error codes"); tests/unit checks that. */
static const so_error_def_t defs[] = {
    {SO_E_BAD_JSON, 400, "bad_json", "The request body is not valid JSON (or not a JSON object)."},
    {SO_E_INVALID, 400, "invalid",
     "A parameter or field is missing, has the wrong type or an invalid value; desc names it."},
    {SO_E_NOT_FOUND, 404, "not_found",
     "No such object in the caller's team (another team's objects answer the same)."},
    {SO_E_NO_ROUTE, 404, "no_route", "No endpoint at this path."},
    {SO_E_METHOD, 405, "method", "The endpoint exists but not for this method; see Allow."},
    {SO_E_TOO_LARGE, 413, "too_large", "The request body is larger than SSLOrdersMaxBody."},
    {SO_E_MEDIA_TYPE, 415, "media_type",
     "The request body has a Content-Type the endpoint does not accept."},
    {SO_E_FORBIDDEN, 403, "forbidden", "The caller's role in the team does not allow this."},
    {SO_E_CONFLICT, 409, "conflict", "The object already exists or is in use."},
    {SO_E_CSRF, 403, "csrf", "A portal session request that changes data lacks a valid X-CSRF-Token."},
    {SO_E_NOT_ACCEPTABLE, 406, "not_acceptable", "The Accept header asks for a format the endpoint cannot give."},
    {SO_E_FOLDER_NAME, 400, "folder_name",
     "A folder name is 1 to 64 letters, digits, spaces and underscores."},
    {SO_E_FOLDER_EXISTS, 409, "folder_exists",
     "The parent folder holds a folder of that name already (names are compared case-insensitively)."},
    {SO_E_FOLDER_MOVE, 409, "folder_move",
     "A folder cannot move into itself or its own subfolders, or nest deeper than 16 levels."},
    {SO_E_TAG_NAME, 400, "tag_name", "A tag name is 1 to 255 characters of text."},
    {SO_E_TAG_EXISTS, 409, "tag_exists", "The team has a tag of that name already."},
    {SO_E_MANAGED_CSR_EXISTS, 409, "managed_csr_exists",
     "The CSR is in the CSR Manager already (data gives its id)."},
    {SO_E_CART_EMPTY, 409, "cart_empty", "The cart is empty: there is nothing to check out."},
    {SO_E_CART_DUPLICATE, 409, "cart_duplicate", "The order is in the cart for renewal already."},
    {SO_E_CART_CHANGED, 409, "cart_changed",
     "The cart changed while it was checked out; nothing was created or charged, retry."},
    {SO_E_LAST_OWNER, 409, "last_owner", "The team's last owner cannot leave or lose the owner role."},
    {SO_E_MEMBER_EXISTS, 409, "member_exists", "The user is a member of the team already."},
    {SO_E_TEAM_LIMIT, 409, "team_limit", "The user owns as many teams as one may (20)."},
    {SO_E_LIMIT, 409, "limit",
     "A limit was reached: folders per team, tags per order or certificate, cart items (desc says which)."},
    {SO_E_WEBHOOK_URL, 400, "webhook_url",
     "The webhook URL is not accepted: https only (http with SSLOrdersWebhookAllowHTTP), no user "
     "name, no loopback, private, link-local or own address (unless SSLOrdersWebhookAllowPrivate)."},
    {SO_E_WEBHOOK_EVENTS, 400, "webhook_events",
     "events is [\"*\"] or a list of known event types (order.created, ..., see Webhooks)."},
    {SO_E_WEBHOOK_LIMIT, 409, "webhook_limit", "The team has as many webhook endpoints as allowed (20)."},
    {SO_E_PASSWORD, 403, "password", "The old password is wrong (PUT /me/password); counted as a failed login."},
    {SO_E_SCOPE, 403, "scope", "The API token lacks the scope this endpoint needs (desc and data name it)."},
    {SO_E_OTP_REQUIRED, 401, "otp_required",
     "The user has two-factor sign-in: send the current code (or a recovery code) as otp."},
    {SO_E_2FA_REQUIRED, 403, "2fa_required",
     "The team requires two-factor sign-in: enrol (POST /me/2fa) from another team first."},
    {SO_E_2FA_STATE, 409, "2fa_state",
     "Two-factor sign-in is on already (enrol), or there is nothing to confirm or turn off."},
    {SO_E_AUTH, 401, "auth",
     "Authentication failed: wrong credentials, or a missing, wrong, expired or IP-bound token."},
    {SO_E_RATE_LIMIT, 429, "rate_limited",
     "Too many failed logins for this user from this address; retry after Retry-After seconds."},
    {SO_E_DB_UNAVAILABLE, 503, "db_unavailable",
     "The database is unavailable or busy; nothing was changed, retry later."},
    {SO_E_INTERNAL, 500, "internal", "An unexpected server error (logged with an SO tag)."},
    {SO_E_CSR, 400, "csr", "The CSR cannot be read, is truncated, or its signature does not verify."},
    {SO_E_CSR_KEY, 400, "csr_key", "The CSR's key is not RSA of 2048 bits or more, or EC P-256/P-384, or it is a "
                                    "known weak or blocked key."},
    {SO_E_HOSTNAME, 400, "hostname", "A name is not a valid host name (or is a public suffix)."},
    {SO_E_NAMES, 400, "names",
     "The names do not fit the product: wildcard, multi-domain, max_domains or the amounts paid for."},
    {SO_E_STATUS_FIELD, 409, "status_field",
     "A field cannot be changed in the order's status (desc names the field and the status)."},
    {SO_E_STATUS, 409, "status", "The operation is not possible in the order's status."},
    {SO_E_PRODUCT, 400, "product", "Unknown or unavailable product."},
    {SO_E_PERIOD, 400, "period", "The product is not sold for this period."},
    {SO_E_APPROVER, 400, "approver_email", "Not an approver address of the domain (see /ssl/approver-emails)."},
    {SO_E_HANDLE, 400, "handle", "No such contact handle in the team."},
    {SO_E_DCV_METHOD, 400, "dcv_method",
     "A domain validation method is unknown, names a host that is not the order's, or cannot serve a wildcard."},
    {SO_E_INCOMPLETE, 409, "incomplete", "start_provision on an order that lacks something (desc says what)."},
    {SO_E_FUNDS, 402, "funds", "The team's balance does not cover the price; nothing was created or charged."},
    {SO_E_IDEMPOTENCY, 422, "idempotency", "The Idempotency-Key was used before for a different request."},
    {SO_E_HANDLE_IN_USE, 409, "handle_in_use", "The contact handle is used by an order and cannot be deleted."},
    {SO_E_CONTACT, 400, "contact", "Invalid contact data (desc names the field)."},
    {SO_E_CONCURRENT, 409, "concurrent", "The order was changed by others too often meanwhile; retry."},
    {SO_E_CURRENCY, 400, "currency", "The product has no price in the team's currency."},
    {SO_E_OTP_SCOPE, 403, "otp_scope",
     "An order token (OTP) may only read its order and change its validation methods."},
    {SO_E_REVOKED, 409, "revoked", "The certificate is revoked already."},
    {SO_E_RENEW_WINDOW, 409, "renew_window",
     "An order can be renewed only while active, within 30 days before it ends."},
    {SO_E_NOT_ISSUED, 409, "not_issued", "The order has no certificate (yet)."},
    {SO_E_FORMAT, 400, "format", "Unknown download format (see /ssl/download-formats)."},
    {SO_E_DOC_TYPE, 415, "document_type",
     "The document's content is not an accepted type, or it is empty, truncated or damaged."},
    {SO_E_DOC_LABEL, 400, "document_label",
     "The document's content is not of the type its file name or Content-Type claims."},
    {SO_E_UPLOAD, 400, "upload",
     "The upload is not valid multipart/form-data, is truncated, or holds no file part."},
    {SO_E_DOC_LIMIT, 409, "document_limit", "The order has the most documents allowed (50)."},
    {SO_E_DOC_STATE, 409, "document_state",
     "The document's state does not allow this (only pending ones are deleted or decided, only accepted ones published)."},
    {SO_E_EMAIL_DCV_RETIRED, 400, "email_dcv_retired",
     "E-mail domain validation is not allowed from 2028-03-15 (Baseline Requirements): use dns, dns-persist, http or https."},
    {SO_E_PERSPECTIVE_AUTH, 401, "perspective_auth",
     "The perspective request is not authenticated: unsigned, wrong secret, stale or replayed (SSLOrdersPerspectiveAuth)."},
    {SO_E_RENEWED, 409, "renewed",
     "The order was renewed already: its renewal (desc names it) is bought; a second renewal is refused until that one is cancelled."},
    {0, 0, NULL, NULL}};

const so_error_def_t *so_error_defs(void)
{
    return defs;
}

const so_error_def_t *so_error_def(int code)
{
    const so_error_def_t *d;
    for (d = defs; d->code; d++) {
        if (d->code == code) {
            return d;
        }
    }
    return NULL;
}

int so_error_http(int code)
{
    const so_error_def_t *d = so_error_def(code);
    return d ? d->http : 500;
}
