/* mod_sslorders: the ACME request payloads (see so_acme_body.h). */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "so_acme_body.h"
#include "../core/so_domain.h"
#include "../core/so_jws.h"
#include "../core/so_util.h"

static apr_status_t bad_is(so_acme_bad_t *bad, int status, const char *type, const char *detail)
{
    bad->status = status;
    bad->type = type;
    bad->detail = detail;
    return APR_EINVAL;
}

static apr_status_t contact(apr_pool_t *p, json_t *c, const char **text, so_acme_bad_t *bad)
{
    size_t i;
    json_t *v;
    char *s;
    if (!json_is_array(c) || json_array_size(c) > 8) {
        return bad_is(bad, 400, "malformed", "contact must be an array of at most 8 URLs");
    }
    json_array_foreach(c, i, v) {
        const char *u = json_string_value(v);
        if (!u || strncmp(u, "mailto:", 7) || strlen(u) > 254 || strchr(u, ',') || !strchr(u, '@')
            || !so_str_is_printable_utf8(u, strlen(u))) {
            return bad_is(bad, 400, "invalidContact",
                          "Each contact is one mailto: address (no hfields, no commas)");
        }
    }
    s = json_dumps(c, JSON_COMPACT);
    *text = apr_pstrdup(p, s ? s : "[]");
    free(s);
    return APR_SUCCESS;
}

apr_status_t so_acme_body_account(apr_pool_t *p, json_t *pl, int creating, const char **text,
                                  int *only, int *deactivate, so_acme_bad_t *bad)
{
    json_t *v;
    *text = NULL;
    *only = 0;
    *deactivate = 0;
    if (!json_is_object(pl)) {
        return bad_is(bad, 400, "malformed", "The payload must be a JSON object");
    }
    if ((v = json_object_get(pl, "onlyReturnExisting"))) {
        if (!json_is_boolean(v)) {
            return bad_is(bad, 400, "malformed", "onlyReturnExisting must be a boolean");
        }
        *only = json_is_true(v);
    }
    if ((v = json_object_get(pl, "contact")) && contact(p, v, text, bad) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((v = json_object_get(pl, "termsOfServiceAgreed")) && !json_is_boolean(v)) {
        return bad_is(bad, 400, "malformed", "termsOfServiceAgreed must be a boolean");
    }
    if (!creating && (v = json_object_get(pl, "status"))) {
        if (!json_is_string(v) || strcmp(json_string_value(v), "deactivated")) {
            return bad_is(bad, 400, "malformed", "An account's status can only become deactivated");
        }
        *deactivate = 1;
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_body_new_order(apr_pool_t *p, json_t *pl, apr_array_header_t **names,
                                    const char **profile, const char **replaces,
                                    so_acme_bad_t *bad)
{
    json_t *ids, *v;
    size_t i;

    *profile = "classic";
    *replaces = "";
    if (!json_is_object(pl) || !json_is_array(ids = json_object_get(pl, "identifiers"))
        || json_array_size(ids) == 0 || json_array_size(ids) > 100) {
        return bad_is(bad, 400, "malformed", "identifiers must be an array of 1 to 100 identifiers");
    }
    if (json_object_get(pl, "notBefore") || json_object_get(pl, "notAfter")) {
        return bad_is(bad, 400, "malformed", "notBefore and notAfter are not supported: use a profile");
    }
    if ((v = json_object_get(pl, "profile"))) {
        if (!json_is_string(v)
            || (strcmp(json_string_value(v), "classic") && strcmp(json_string_value(v), "shortlived"))) {
            return bad_is(bad, 400, "invalidProfile", "The profile is classic or shortlived");
        }
        *profile = apr_pstrdup(p, json_string_value(v));
    }
    if ((v = json_object_get(pl, "replaces"))) {
        if (!json_is_string(v) || strlen(json_string_value(v)) > 200) {
            return bad_is(bad, 400, "malformed", "replaces must be a certificate identifier");
        }
        *replaces = apr_pstrdup(p, json_string_value(v));
    }
    *names = apr_array_make(p, (int)json_array_size(ids), sizeof(const char *));
    json_array_foreach(ids, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *val = json_string_value(json_object_get(v, "value"));
        const char *why;
        char *n;
        if (!type || !val) {
            return bad_is(bad, 400, "malformed", "Each identifier has a type and a value");
        }
        if (!strcmp(type, "ip")) {
            return bad_is(bad, 400, "rejectedIdentifier", "IP addresses are not issued for");
        }
        if (strcmp(type, "dns")) {
            return bad_is(bad, 400, "unsupportedIdentifier",
                          apr_psprintf(p, "Identifiers of type \"%.20s\" are not supported", type));
        }
        n = so_str_lower(p, val);
        if ((why = so_hostname_check(n, 1))) {
            return bad_is(bad, 400, "rejectedIdentifier", apr_psprintf(p, "%.255s: %s", val, why));
        }
        if (!so_strs_has(*names, n)) {
            APR_ARRAY_PUSH(*names, const char *) = n;
        }
    }
    return APR_SUCCESS;
}

static const char *pem_of_der(apr_pool_t *p, const char *label, const unsigned char *der,
                              apr_size_t len)
{
    const char *b64 = so_base64(p, der, len);
    apr_size_t n = strlen(b64), i;
    char *out = apr_palloc(p, n + n / 64 + 128), *o = out;
    o += sprintf(o, "-----BEGIN %s-----\n", label);
    for (i = 0; i < n; i += 64) {
        apr_size_t l = n - i < 64 ? n - i : 64;
        memcpy(o, b64 + i, l);
        o += l;
        *o++ = '\n';
    }
    sprintf(o, "-----END %s-----\n", label);
    return out;
}

apr_status_t so_acme_body_csr(apr_pool_t *p, json_t *pl, so_csr_t **csr, so_acme_bad_t *bad)
{
    const char *b64, *why = NULL;
    const unsigned char *der;
    apr_size_t der_len;

    if (!json_is_object(pl) || !(b64 = json_string_value(json_object_get(pl, "csr")))
        || so_unb64url(p, b64, &der, &der_len) != APR_SUCCESS || der_len == 0 || der_len > 16384) {
        return bad_is(bad, 400, "badCSR", "csr must be the base64url DER of a CSR");
    }
    if (so_csr_parse(p, pem_of_der(p, "CERTIFICATE REQUEST", der, der_len), csr, &why)
            != APR_SUCCESS
        || so_csr_check_key(*csr, &why) != APR_SUCCESS) {
        return bad_is(bad, 400, "badCSR", why ? why : "The CSR cannot be read");
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_body_revoke(apr_pool_t *p, json_t *pl, const unsigned char **der,
                                 apr_size_t *der_len, int *reason, so_acme_bad_t *bad)
{
    const char *b64;
    json_t *v;

    *reason = 0;
    if (!json_is_object(pl) || !(b64 = json_string_value(json_object_get(pl, "certificate")))
        || so_unb64url(p, b64, der, der_len) != APR_SUCCESS || *der_len == 0) {
        return bad_is(bad, 400, "malformed", "certificate must be the base64url DER of a certificate");
    }
    if ((v = json_object_get(pl, "reason"))) {
        if (!json_is_integer(v)) {
            return bad_is(bad, 400, "badRevocationReason", "reason must be an integer");
        }
        if (json_integer_value(v) != 0 && json_integer_value(v) != 1 && json_integer_value(v) != 3
            && json_integer_value(v) != 4 && json_integer_value(v) != 5) {
            return bad_is(bad, 400, "badRevocationReason",
                          "reason is 0 (unspecified), 1 (keyCompromise), 3 (affiliationChanged), "
                          "4 (superseded) or 5 (cessationOfOperation)");
        }
        *reason = (int)json_integer_value(v);
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_body_authz(apr_pool_t *p, json_t *pl, int *deactivate, so_acme_bad_t *bad)
{
    json_t *v;
    (void)p;
    *deactivate = 0;
    if (pl && (v = json_object_get(pl, "status"))) {
        if (!json_is_string(v) || strcmp(json_string_value(v), "deactivated")) {
            return bad_is(bad, 400, "malformed",
                          "An authorization's status can only become deactivated");
        }
        *deactivate = 1;
    }
    return APR_SUCCESS;
}
