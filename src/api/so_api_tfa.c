/* mod_sslorders: two-factor sign-in (TOTP, issue 14): enrolment, confirmation with
 * recovery codes, the check at sign-in, and teams that require it (PUT /team). Routed
 * from so_api_security.c. */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "so_api.h"
#include "so_auth.h"
#include "so_api_security.h"
#include "so_api_security_int.h"
#include "../core/so_crypto.h"
#include "../core/so_log.h"
#include "../core/so_qr.h"
#include "../core/so_totp.h"
#include "../core/so_util.h"
#include "../store/so_store_security.h"
#include "../store/so_store_team.h"


#define RECOVERY_CODES 10

/* A recovery code as typed: "abcde-12345" (case and the dash do not matter). */
static const char *recovery_key(apr_pool_t *p, const char *code)
{
    char *k = apr_palloc(p, strlen(code) + 1), *o = k;
    const char *c;
    for (c = code; *c; c++) {
        if (*c != '-' && *c != ' ') {
            *o++ = (char)apr_tolower(*c);
        }
    }
    *o = '\0';
    return so_secret_hash(p, apr_pstrcat(p, "recovery|", k, NULL));
}

apr_status_t so_tfa_check(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *secret,
                          apr_int64_t last_step, const char *otp)
{
    apr_int64_t step = 0;
    apr_status_t rv;
    if (!otp || !*otp || strlen(otp) > 32) {
        return APR_EMISMATCH;
    }
    if (so_totp_verify(req->pool, secret, otp, req->now, last_step, &step) == APR_SUCCESS) {
        /* each step once, also when two requests race with the same code */
        return so_store_tfa_use_step(db, req->pool, user_id, step);
    }
    if (strlen(otp) == 6) {
        return APR_EMISMATCH;
    }
    rv = so_store_tfa_use_code(db, req->pool, user_id, recovery_key(req->pool, otp), req->now);
    if (rv == APR_SUCCESS) {
        so_log_info(SO_LOG_MARK, SOLOGNO(00655) "user %" APR_INT64_T_FMT " used a recovery code",
                    user_id);
    }
    return rv;
}

apr_status_t so_tfa_login(so_req_t *req, so_db_t *db, apr_int64_t user_id, const char *name,
                          const char *key)
{
    const char *secret, *pending, *otp = NULL;
    apr_int64_t last = 0;
    apr_status_t rv = so_store_tfa_get(db, req->pool, user_id, &secret, &pending, &last);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return APR_SUCCESS;
    }
    if (so_in_str(req, req->json, "otp", 0, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!otp || !*otp) {
        return so_api_error(req, SO_E_OTP_REQUIRED, "Two-factor sign-in: send the code as otp", "");
    }
    rv = so_tfa_check(req, db, user_id, secret, last, otp);
    if (rv == APR_EMISMATCH) {
        if ((rv = so_login_failed(req, db, name, key)) != APR_SUCCESS) {
            return rv;
        }
        so_log_perror(SO_LOG_MARK, SO_LOG_INFO, APR_SUCCESS,
                      SOLOGNO(00656) "wrong second factor for '%s' from %s", name, req->client_ip);
        return so_api_error(req, SO_E_AUTH, "Authentication failed",
                            "wrong or already used two-factor code");
    }
    return rv;
}

apr_status_t so_tfa_team_allows(so_req_t *req, so_db_t *db, apr_int64_t user_id,
                                apr_int64_t team_id)
{
    const char *secret, *pending;
    apr_int64_t last;
    int required = 0;
    apr_status_t rv = so_store_team_require_2fa(db, req->pool, team_id, -1, &required);
    if (rv != APR_SUCCESS || !required) {
        return rv;
    }
    if ((rv = so_store_tfa_get(db, req->pool, user_id, &secret, &pending, &last)) != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return so_api_error(req, SO_E_2FA_REQUIRED,
                            "This team requires two-factor sign-in: turn it on first", "");
    }
    return APR_SUCCESS;
}

apr_status_t so_api_tfa_get(so_req_t *req)
{
    const char *secret, *pending;
    apr_int64_t last;
    apr_status_t rv =
        so_store_tfa_get(so_req_db(req), req->pool, req->auth->user_id, &secret, &pending, &last);
    return rv != APR_SUCCESS ? rv
                             : so_api_ok(req, json_pack("{s:b,s:b}", "enabled", *secret != '\0',
                                                        "pending", *pending != '\0'));
}

/* POST /me/2fa: a new secret to enrol (confirmed with a code before it counts) */
apr_status_t so_api_tfa_enrol(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *fresh, *uri, *qr;
    apr_int64_t last;
    apr_status_t rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (*secret) {
        return so_api_error(req, SO_E_2FA_STATE, "Two-factor sign-in is on already", "");
    }
    if ((rv = so_totp_secret(&fresh, req->pool)) != APR_SUCCESS
        || (rv = so_store_tfa_set_pending(db, req->pool, req->auth->user_id, fresh))
               != APR_SUCCESS) {
        return rv;
    }
    uri = so_totp_uri(req->pool, "SSLOrders", req->auth->username, fresh);
    /* the same URI as a QR code for the authenticator app's camera */
    if ((rv = so_qr_svg(&qr, req->pool, uri, 4)) != APR_SUCCESS) {
        so_log_perror(SO_LOG_MARK, SO_LOG_ERR, rv,
                      SOLOGNO(00872) "two-factor enrolment: no QR code for %s",
                      req->auth->username);
        return rv;
    }
    return so_api_ok(req, json_pack("{s:s,s:s,s:s}", "secret", fresh, "otpauth_uri", uri,
                                    "qr_svg", qr));
}

/* POST /me/2fa/confirm {otp}: on; ten single-use recovery codes, shown once */
apr_status_t so_api_tfa_confirm(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *otp = NULL, *hashes[RECOVERY_CODES];
    apr_int64_t last, step = 0;
    json_t *codes;
    apr_status_t rv;
    int i;

    if (so_in_str(req, req->json, "otp", 1, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
        != APR_SUCCESS) {
        return rv;
    }
    if (*secret || !*pending) {
        return so_api_error(req, SO_E_2FA_STATE,
                            *secret ? "Two-factor sign-in is on already"
                                    : "Nothing to confirm: POST /me/2fa first",
                            "");
    }
    if (so_totp_verify(req->pool, pending, otp, req->now, 0, &step) != APR_SUCCESS) {
        return so_api_error(req, SO_E_INVALID, "The code does not match: check the device's clock",
                            "");
    }
    codes = json_array();
    for (i = 0; i < RECOVERY_CODES; i++) {
        const char *hex;
        if ((rv = so_random_hex(&hex, req->pool, 5)) != APR_SUCCESS) {
            json_decref(codes);
            return rv;
        }
        json_array_append_new(codes, json_string(apr_psprintf(req->pool, "%.5s-%.5s", hex, hex + 5)));
        hashes[i] = recovery_key(req->pool, hex);
    }
    /* the confirming step counts as used: that code is not accepted again */
    rv = so_store_tfa_enable(db, req->pool, req->auth->user_id, pending, step, hashes,
                             RECOVERY_CODES);
    if (rv != APR_SUCCESS) {
        json_decref(codes);
        return rv == APR_ENOENT ? so_api_error(req, SO_E_2FA_STATE, "The enrolment changed", "")
                                : rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00657) "%s turned two-factor sign-in on", req->auth->username);
    return so_api_ok(req, json_pack("{s:b,s:o}", "enabled", 1, "recovery_codes", codes));
}

/* DELETE /me/2fa {otp} */
apr_status_t so_api_tfa_disable(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    const char *secret, *pending, *otp = NULL, *key;
    apr_int64_t last;
    apr_status_t rv;

    if (so_in_str(req, req->json, "otp", 1, 32, &otp, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
        != APR_SUCCESS) {
        return rv;
    }
    if (!*secret) {
        return so_api_error(req, SO_E_2FA_STATE, "Two-factor sign-in is off", "");
    }
    rv = so_tfa_check(req, db, req->auth->user_id, secret, last, otp);
    if (rv == APR_EMISMATCH) {
        key = apr_pstrcat(req->pool, req->auth->username, "|", req->client_ip, NULL);
        if ((rv = so_login_failed(req, db, req->auth->username, key)) != APR_SUCCESS) {
            return rv;
        }
        return so_api_error(req, SO_E_INVALID, "Wrong or already used code", "");
    }
    if (rv != APR_SUCCESS || (rv = so_store_tfa_disable(db, req->pool, req->auth->user_id))
                                 != APR_SUCCESS) {
        return rv;
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00658) "%s turned two-factor sign-in off", req->auth->username);
    return so_api_ok(req, json_pack("{s:b}", "enabled", 0));
}

/* PUT /team {require_2fa} (admins who sign in with two factors themselves) */
apr_status_t so_api_team_settings(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    int require = 0, present = 0, ended = 0;
    apr_status_t rv;

    if (so_in_bool(req, req->json, "require_2fa", 1, &require, &present) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (require) {
        const char *secret, *pending;
        apr_int64_t last;
        if ((rv = so_store_tfa_get(db, req->pool, req->auth->user_id, &secret, &pending, &last))
            != APR_SUCCESS) {
            return rv;
        }
        if (!*secret) {
            return so_api_error(req, SO_E_2FA_REQUIRED,
                                "Turn on two-factor sign-in yourself before requiring it", "");
        }
    }
    /* required from now on: the sessions of members without a second factor end with it
     * (in one transaction: never required with such sessions left) */
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_team_require_2fa(db, req->pool, req->auth->team_id, require, NULL);
    if (rv == APR_SUCCESS && require) {
        rv = so_store_team_end_sessions_without_2fa(db, req->pool, req->auth->team_id, req->now,
                                                    &ended);
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    if (ended) {
        so_log_info(SO_LOG_MARK,
                    SOLOGNO(00871) "team %s requires two-factor sign-in: %d sessions of members "
                    "without it ended", req->auth->team_slug, ended);
    }
    return so_api_ok(req, json_pack("{s:s,s:b,s:i}", "slug", req->auth->team_slug, "require_2fa",
                                    require, "sessions_ended", ended));
}
