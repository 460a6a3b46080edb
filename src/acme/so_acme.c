/* mod_sslorders: the ACME server (see so_acme.h). */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "so_acme.h"
#include "so_acme_body.h"
#include "so_acme_issue.h"
#include "../core/so_caa.h"
#include "../core/so_csr.h"
#include "../core/so_dcv.h"
#include "../core/so_domain.h"
#include "../core/so_jws.h"
#include "../core/so_log.h"
#include "../core/so_util.h"
#include "../store/so_store_acme.h"
#include "../store/so_store_cert.h"

#define NONCE_TTL 3600
#define ORDER_TTL (7 * 86400)
#define SHORTLIVED_DAYS 7
#define ERR_NS "urn:ietf:params:acme:error:"
#define ARI_RETRY "21600"

typedef struct {
    so_req_t *req;
    apr_pool_t *p;
    const char *base;
    const char *url; /* this request's absolute URL */
    so_db_t *db;
    so_jws_t *jws;
    json_t *payload; /* NULL for POST-as-GET */
    so_jwk_t *key;
    so_acme_account_t *acct;
    const char *next_nonce; /* issued by authenticate() with the one it consumed */
} acme_t;

/* ---- answers -------------------------------------------------------------------- */

static const char *U(acme_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *U(acme_t *a, const char *fmt, ...)
{
    va_list ap;
    const char *s;
    va_start(ap, fmt);
    s = apr_pvsprintf(a->p, fmt, ap);
    va_end(ap);
    return apr_pstrcat(a->p, a->base, s, NULL);
}

static const char *nonce_new(acme_t *a, int *purge)
{
    unsigned char raw[16];
    if (so_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    *purge = raw[0] < 4; /* now and then: drop the expired ones */
    return so_b64url(a->p, raw, sizeof(raw));
}

/* the Replay-Nonce of the answer: the one authenticate() issued already with the one it
 * consumed (a single statement), else a new row */
static void add_nonce(acme_t *a)
{
    const char *n = a->next_nonce;
    int purge = 0;
    apr_int64_t now = apr_time_sec(apr_time_now());
    if (!n) {
        if (!a->db || !(n = nonce_new(a, &purge))
            || so_store_acme_nonce_add(a->db, a->p, n, now + NONCE_TTL) != APR_SUCCESS) {
            return;
        }
        if (purge) {
            so_store_acme_nonce_purge(a->db, a->p, now);
        }
    }
    apr_table_setn(a->req->headers_out, "Replay-Nonce", n);
}

static void body_json(acme_t *a, int status, json_t *j, const char *ctype)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    a->req->status = status;
    a->req->raw_body = text ? apr_pstrdup(a->p, text) : "{}";
    a->req->raw_len = strlen(a->req->raw_body);
    a->req->raw_ctype = ctype;
    free(text);
}

static void send_json(acme_t *a, int status, json_t *j)
{
    body_json(a, status, j, "application/json");
}

/* A problem document; returns APR_EINVAL so that handlers can `return problem(...)`. */
static apr_status_t problem(acme_t *a, int status, const char *type, const char *detail)
{
    json_t *j = json_pack("{s:s,s:s,s:i}", "type", apr_pstrcat(a->p, ERR_NS, type, NULL), "detail",
                          detail ? detail : "", "status", status);
    body_json(a, status, j, "application/problem+json");
    return APR_EINVAL;
}

static apr_status_t db_problem(acme_t *a, apr_status_t rv)
{
    if (rv == APR_ENOENT) {
        return problem(a, 404, "malformed", "No such resource");
    }
    if (SO_DB_IS_UNAVAILABLE(rv)) {
        apr_table_setn(a->req->headers_out, "Retry-After", "5");
        return problem(a, 503, "serverInternal", "The database is unavailable; retry");
    }
    so_log_error(SO_LOG_MARK, rv, SOLOGNO(00500) "ACME %s %s failed: %s", a->req->method,
                 a->req->path, so_db_strerror(rv));
    return problem(a, 500, "serverInternal", "The server failed; retry later");
}

/* RFC 3339 in UTC: 2026-12-04T03:51:33Z */
static const char *rfc3339(apr_pool_t *p, apr_int64_t t)
{
    char *s = apr_pstrcat(p, so_time_fmt(p, t), "Z", NULL);
    char *sp = strchr(s, ' ');
    if (sp) {
        *sp = 'T';
    }
    return s;
}

/* ---- the JWS of a POST ------------------------------------------------------------- */

enum { KEY_KID = 1, KEY_JWK = 2, KEY_EITHER = 3 };

static apr_status_t authenticate(acme_t *a, int mode)
{
    so_req_t *req = a->req;
    const char *why, *ct = so_req_header(req, "Content-Type");
    apr_status_t rv;

    if (ct && strncasecmp(ct, "application/jose+json", 21)) {
        return problem(a, 415, "malformed", "The Content-Type must be application/jose+json");
    }
    if (so_jws_parse(a->p, req->body, req->body_len, &a->jws, &why) != APR_SUCCESS) {
        return problem(a, 400, "malformed", why);
    }
    if (!so_jws_alg_ok(a->jws->alg)) {
        json_t *j = json_pack("{s:s,s:s,s:i,s:[s,s,s,s]}", "type", ERR_NS "badSignatureAlgorithm",
                              "detail",
                              apr_psprintf(a->p, "The algorithm \"%.32s\" is not accepted",
                                           a->jws->alg),
                              "status", 400, "algorithms", "ES256", "ES384", "RS256", "EdDSA");
        body_json(a, 400, j, "application/problem+json");
        return APR_EINVAL;
    }
    if (!a->jws->nonce || !*a->jws->nonce) {
        return problem(a, 400, "badNonce", "The protected header has no nonce");
    }
    if (!a->jws->url || strcmp(a->jws->url, a->url)) {
        return problem(a, 401, "unauthorized",
                       apr_psprintf(a->p, "The JWS url is not this request's URL (%s)", a->url));
    }
    if ((a->jws->jwk != NULL) == (a->jws->kid != NULL)) {
        return problem(a, 400, "malformed", "The protected header must have either jwk or kid");
    }
    if (a->jws->jwk) {
        if (!(mode & KEY_JWK)) {
            return problem(a, 400, "malformed", "This resource needs a kid, not a jwk");
        }
        if (so_jwk_import(a->p, a->jws->jwk, &a->key, &why) != APR_SUCCESS) {
            return problem(a, 400, "badPublicKey", why);
        }
    }
    else {
        const char *prefix = U(a, "/acct/");
        apr_int64_t id;
        if (!(mode & KEY_KID)) {
            return problem(a, 400, "malformed", "This resource needs a jwk, not a kid");
        }
        if (strncmp(a->jws->kid, prefix, strlen(prefix))
            || so_parse_int64(a->jws->kid + strlen(prefix), 1, APR_INT64_MAX, &id) != APR_SUCCESS) {
            return problem(a, 400, "accountDoesNotExist", "The kid is not an account of this server");
        }
        rv = so_store_acme_account_get(a->db, a->p, id, &a->acct);
        if (rv == APR_ENOENT) {
            return problem(a, 400, "accountDoesNotExist", "No such account");
        }
        if (rv != APR_SUCCESS) {
            return db_problem(a, rv);
        }
        if (so_jwk_parse(a->p, a->acct->jwk, &a->key, &why) != APR_SUCCESS) {
            return db_problem(a, APR_EGENERAL);
        }
    }
    rv = so_jws_verify(a->p, a->jws, a->key, &why);
    if (rv == APR_EINVAL) {
        return problem(a, 400, "badSignatureAlgorithm", why);
    }
    if (rv != APR_SUCCESS) {
        return problem(a, 400, "malformed", why);
    }
    {
        apr_int64_t now = apr_time_sec(apr_time_now());
        int purge = 0;
        const char *next = nonce_new(a, &purge);
        if (!next) {
            return db_problem(a, APR_EGENERAL);
        }
        rv = so_store_acme_nonce_swap(a->db, a->p, a->jws->nonce, now, next, now + NONCE_TTL);
        if (rv == APR_ENOENT) {
            return problem(a, 400, "badNonce", "The nonce is unknown, used already or expired");
        }
        if (rv != APR_SUCCESS) {
            return db_problem(a, rv);
        }
        a->next_nonce = next;
        if (purge) {
            so_store_acme_nonce_purge(a->db, a->p, now);
        }
    }
    if (a->jws->payload_len) {
        if (!(a->payload = so_jws_payload_json(a->p, a->jws))) {
            return problem(a, 400, "malformed", "The payload is not a JSON object");
        }
    }
    if (a->acct) {
        if (strcmp(a->acct->status, "valid")) {
            return problem(a, 401, "unauthorized",
                           apr_psprintf(a->p, "The account is %s", a->acct->status));
        }
        if (a->acct->last_used_at < a->req->now - 60) {
            /* at most once a minute (the statement's own condition): no statement else */
            so_store_acme_account_touch(a->db, a->p, a->acct->id, a->req->now);
        }
    }
    return APR_SUCCESS;
}

/* a fixed-window limit per hour, counted in the database (all servers share it) */
static apr_status_t rate_limit(acme_t *a, const char *key, int limit, const char *what)
{
    apr_int64_t now = apr_time_sec(apr_time_now()), start = now - now % 3600;
    int hits = 0;
    apr_status_t rv;
    if (limit <= 0) {
        return APR_SUCCESS;
    }
    if ((rv = so_store_acme_rate_hit(a->db, a->p, key, start, &hits)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (hits > limit) {
        apr_table_setn(a->req->headers_out, "Retry-After",
                       apr_psprintf(a->p, "%" APR_INT64_T_FMT, start + 3600 - now));
        return problem(a, 429, "rateLimited",
                       apr_psprintf(a->p, "At most %d %s per hour; retry later", limit, what));
    }
    return APR_SUCCESS;
}

/* the account's EAB, refused when disabled */
static apr_status_t account_eab(acme_t *a, so_acme_eab_t **eab)
{
    apr_status_t rv = so_store_acme_eab_get(a->db, a->p, a->acct->eab_kid, eab);
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if ((*eab)->disabled) {
        return problem(a, 401, "unauthorized", "The account's external account binding is disabled");
    }
    return APR_SUCCESS;
}

/* ---- directory, nonces ------------------------------------------------------------- */

static apr_status_t directory(acme_t *a)
{
    json_t *meta = json_pack("{s:s,s:s,s:b,s:{s:s,s:s}}", "termsOfService", U(a, "/terms"),
                             "website", a->req->cfg->public_url && *a->req->cfg->public_url
                                            ? a->req->cfg->public_url
                                            : a->base,
                             "externalAccountRequired", 1, "profiles", "classic",
                             "The longest validity the Baseline Requirements allow today",
                             "shortlived", "7 days");
    json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "newNonce", U(a, "/new-nonce"),
                          "newAccount", U(a, "/new-account"), "newOrder", U(a, "/new-order"),
                          "revokeCert", U(a, "/revoke-cert"), "keyChange", U(a, "/key-change"),
                          "renewalInfo", U(a, "/renewal-info"), "meta", meta);
    send_json(a, 200, d);
    return APR_SUCCESS;
}

static apr_status_t new_nonce(acme_t *a)
{
    a->req->status = strcmp(a->req->method, "GET") ? 200 : 204;
    a->req->raw_body = "";
    a->req->raw_len = 0;
    a->req->raw_ctype = "text/plain";
    return APR_SUCCESS;
}

/* ---- accounts ---------------------------------------------------------------------- */

static void account_answer(acme_t *a, int status, so_acme_account_t *acc)
{
    json_error_t err;
    json_t *contact = json_loads(acc->contact, 0, &err);
    json_t *j = json_pack("{s:s,s:o,s:s,s:s}", "status", acc->status, "contact",
                          contact ? contact : json_array(), "orders",
                          U(a, "/acct/%" APR_INT64_T_FMT "/orders", acc->id), "createdAt",
                          rfc3339(a->p, acc->created_at));
    apr_table_setn(a->req->headers_out, "Location", U(a, "/acct/%" APR_INT64_T_FMT, acc->id));
    send_json(a, status, j);
}

static apr_status_t bad_problem(acme_t *a, const so_acme_bad_t *bad)
{
    return problem(a, bad->status, bad->type, bad->detail);
}

static apr_status_t eab_check(acme_t *a, json_t *eab_obj, so_acme_eab_t **eab)
{
    so_jws_t *inner;
    so_jwk_t *k;
    const unsigned char *mac_key;
    apr_size_t mac_len;
    const char *why;
    char *text;
    apr_status_t rv;

    if (!json_is_object(eab_obj)) {
        return problem(a, 400, "externalAccountRequired",
                       "This server requires external account binding (EAB credentials from "
                       "the portal's ACME page or POST /v1beta/acme/eab)");
    }
    text = json_dumps(eab_obj, JSON_COMPACT);
    rv = so_jws_parse(a->p, text ? text : "", text ? strlen(text) : 0, &inner, &why);
    free(text);
    if (rv != APR_SUCCESS) {
        return problem(a, 400, "malformed", apr_pstrcat(a->p, "externalAccountBinding: ", why, NULL));
    }
    if (!inner->kid || !inner->url || strcmp(inner->url, a->url) || inner->nonce || inner->jwk) {
        return problem(a, 400, "malformed",
                       "externalAccountBinding must have a kid and this URL, and no nonce or jwk");
    }
    if (so_jwk_import(a->p, so_jws_payload_json(a->p, inner), &k, &why) != APR_SUCCESS
        || strcmp(k->thumbprint, a->key->thumbprint)) {
        return problem(a, 400, "malformed",
                       "The external account binding's payload is not the account key");
    }
    rv = so_store_acme_eab_get(a->db, a->p, inner->kid, eab);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && (*eab)->disabled)) {
        return problem(a, 401, "unauthorized", "The EAB key id is unknown or disabled");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (so_unb64url(a->p, (*eab)->hmac_key, &mac_key, &mac_len) != APR_SUCCESS) {
        return db_problem(a, APR_EGENERAL);
    }
    if (so_jws_verify_hmac(inner, mac_key, mac_len, &why) != APR_SUCCESS) {
        return problem(a, 401, "unauthorized", why);
    }
    return APR_SUCCESS;
}

static apr_status_t new_account(acme_t *a)
{
    so_acme_account_t *acc;
    so_acme_eab_t *eab;
    so_acme_bad_t bad;
    json_t *pl;
    const char *contact = "[]", *text;
    int only = 0, deactivate = 0;
    apr_status_t rv;

    if ((rv = rate_limit(a, apr_pstrcat(a->p, "a:", a->req->client_ip, NULL),
                         a->req->cfg->acme_accounts_per_hour, "new accounts from one address"))
            != APR_SUCCESS
        || (rv = authenticate(a, KEY_JWK)) != APR_SUCCESS) {
        return rv;
    }
    pl = a->payload;
    if (!pl) {
        return problem(a, 400, "malformed", "newAccount needs a payload");
    }
    if (so_acme_body_account(a->p, pl, 1, &text, &only, &deactivate, &bad) != APR_SUCCESS) {
        return bad_problem(a, &bad);
    }
    if (text) {
        contact = text;
    }
    rv = so_store_acme_account_by_key(a->db, a->p, a->key->thumbprint, &acc);
    if (rv == APR_SUCCESS) {
        if (strcmp(acc->status, "valid")) {
            return problem(a, 401, "unauthorized",
                           apr_psprintf(a->p, "The account is %s", acc->status));
        }
        account_answer(a, 200, acc);
        return APR_SUCCESS;
    }
    if (rv != APR_ENOENT) {
        return db_problem(a, rv);
    }
    if (only) {
        return problem(a, 400, "accountDoesNotExist", "No account has this key");
    }
    if (eab_check(a, json_object_get(pl, "externalAccountBinding"), &eab) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    acc = apr_pcalloc(a->p, sizeof(*acc));
    acc->team_id = eab->team_id;
    acc->eab_kid = eab->kid;
    acc->thumbprint = a->key->thumbprint;
    acc->jwk = a->key->canonical;
    acc->status = "valid";
    acc->contact = contact;
    acc->created_at = acc->last_used_at = a->req->now;
    rv = so_store_acme_account_insert(a->db, a->p, acc);
    if (rv == SO_EDBUNIQUE) { /* the same key registered at the same moment */
        if (so_store_acme_account_by_key(a->db, a->p, a->key->thumbprint, &acc) == APR_SUCCESS) {
            account_answer(a, 200, acc);
            return APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00501) "ACME account %" APR_INT64_T_FMT " created for team %"
                APR_INT64_T_FMT " (EAB %s)", acc->id, acc->team_id, eab->kid);
    account_answer(a, 201, acc);
    return APR_SUCCESS;
}

static apr_status_t own_account(acme_t *a, apr_int64_t id)
{
    if (a->acct->id != id) {
        return problem(a, 403, "unauthorized", "The account is not the signer's");
    }
    return APR_SUCCESS;
}

static apr_status_t account(acme_t *a, apr_int64_t id)
{
    apr_status_t rv;

    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = own_account(a, id)) != APR_SUCCESS) {
        return rv;
    }
    if (a->payload) {
        const char *contact;
        int only, deactivate;
        so_acme_bad_t bad;
        if (so_acme_body_account(a->p, a->payload, 0, &contact, &only, &deactivate, &bad)
            != APR_SUCCESS) {
            return bad_problem(a, &bad);
        }
        if (contact) {
            a->acct->contact = contact;
        }
        if (deactivate) {
            a->acct->status = "deactivated";
        }
        if ((rv = so_store_acme_account_set(a->db, a->p, a->acct)) != APR_SUCCESS) {
            return db_problem(a, rv);
        }
    }
    account_answer(a, 200, a->acct);
    return APR_SUCCESS;
}

static apr_status_t key_change(acme_t *a)
{
    so_jws_t *inner;
    so_jwk_t *newkey, *old;
    json_t *pl;
    const char *why, *acct_url;
    char *text;
    int changed = 0;
    apr_status_t rv;

    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS) {
        return rv;
    }
    if (!a->payload) {
        return problem(a, 400, "malformed", "keyChange needs a payload");
    }
    text = json_dumps(a->payload, JSON_COMPACT);
    rv = so_jws_parse(a->p, text ? text : "", text ? strlen(text) : 0, &inner, &why);
    free(text);
    if (rv != APR_SUCCESS) {
        return problem(a, 400, "malformed", apr_pstrcat(a->p, "the inner JWS: ", why, NULL));
    }
    if (!so_jws_alg_ok(inner->alg)) {
        return problem(a, 400, "badSignatureAlgorithm", "The inner JWS's algorithm is not accepted");
    }
    if (!inner->jwk || inner->kid || !inner->url || strcmp(inner->url, a->url)) {
        return problem(a, 400, "malformed", "The inner JWS needs a jwk and this URL");
    }
    if (so_jwk_import(a->p, inner->jwk, &newkey, &why) != APR_SUCCESS) {
        return problem(a, 400, "badPublicKey", why);
    }
    if (so_jws_verify(a->p, inner, newkey, &why) != APR_SUCCESS) {
        return problem(a, 400, "malformed", apr_pstrcat(a->p, "the inner JWS: ", why, NULL));
    }
    pl = so_jws_payload_json(a->p, inner);
    acct_url = U(a, "/acct/%" APR_INT64_T_FMT, a->acct->id);
    if (!pl || !json_is_string(json_object_get(pl, "account"))
        || strcmp(json_string_value(json_object_get(pl, "account")), acct_url)) {
        return problem(a, 400, "malformed", "The inner payload's account is not the signer's");
    }
    if (so_jwk_import(a->p, json_object_get(pl, "oldKey"), &old, &why) != APR_SUCCESS
        || strcmp(old->thumbprint, a->acct->thumbprint)) {
        return problem(a, 400, "malformed", "The inner payload's oldKey is not the account's key");
    }
    rv = so_store_acme_account_rekey(a->db, a->p, a->acct->id, a->acct->thumbprint,
                                     newkey->canonical, newkey->thumbprint, &changed);
    if (rv == SO_EDBUNIQUE) {
        so_acme_account_t *other;
        if (so_store_acme_account_by_key(a->db, a->p, newkey->thumbprint, &other) == APR_SUCCESS) {
            apr_table_setn(a->req->headers_out, "Location",
                           U(a, "/acct/%" APR_INT64_T_FMT, other->id));
        }
        return problem(a, 409, "malformed", "Another account has this key already");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (!changed) {
        return problem(a, 409, "malformed", "The account's key changed meanwhile");
    }
    a->acct->jwk = newkey->canonical;
    a->acct->thumbprint = newkey->thumbprint;
    account_answer(a, 200, a->acct);
    return APR_SUCCESS;
}

/* ---- orders ------------------------------------------------------------------------ */

static int is_wild(const char *n)
{
    return n[0] == '*' && n[1] == '.';
}

static json_t *challenge_json(acme_t *a, so_acme_authz_t *z, const char *type, int first)
{
    const char *st = "pending";
    json_t *j;
    if (!strcmp(z->status, "valid")
        && (!strcmp(z->chall_type, type) || (first && !strcmp(z->chall_type, "reuse")))) {
        st = "valid";
    }
    else if (!strcmp(z->status, "invalid") && !strcmp(z->chall_type, type)) {
        st = "invalid";
    }
    j = json_pack("{s:s,s:s,s:s,s:s}", "type", type, "url",
                  U(a, "/chall/%" APR_INT64_T_FMT "/%s", z->id, type), "status", st, "token",
                  z->token);
    if (!strcmp(type, "dns-persist-01")) {
        /* draft-ietf-acme-dns-persist: no token; the CA identities the record may name
         * and the account URIs it may name (the account's URL, the team's URI) */
        apr_array_header_t *ids, *uris;
        json_t *jids = json_array(), *juris = json_array();
        int i;
        const char *acct = U(a, "/acct/%" APR_INT64_T_FMT, z->account_id);
        so_acme_iss_persist_ids(a->req, a->acct->team_id, acct, &ids, &uris);
        for (i = 0; i < ids->nelts; i++) {
            json_array_append_new(jids, json_string(APR_ARRAY_IDX(ids, i, const char *)));
        }
        for (i = 0; i < uris->nelts; i++) {
            json_array_append_new(juris, json_string(APR_ARRAY_IDX(uris, i, const char *)));
        }
        json_object_del(j, "token");
        json_object_set_new(j, "issuer-domain-names", jids);
        json_object_set_new(j, "accounturi", json_string(acct));
        json_object_set_new(j, "accounturis", juris);
    }
    if (!strcmp(st, "valid")) {
        json_object_set_new(j, "validated", json_string(rfc3339(a->p, z->validated_at)));
    }
    if (!strcmp(st, "invalid") && *z->error) {
        json_error_t err;
        json_t *e = json_loads(z->error, 0, &err);
        if (e) {
            json_object_set_new(j, "error", e);
        }
    }
    return j;
}

static json_t *authz_json(acme_t *a, so_acme_authz_t *z)
{
    int wild = is_wild(z->name);
    json_t *ch = json_array();
    json_t *j;
    if (wild) {
        json_array_append_new(ch, challenge_json(a, z, "dns-01", 1));
    }
    else {
        json_array_append_new(ch, challenge_json(a, z, "http-01", 1));
        json_array_append_new(ch, challenge_json(a, z, "dns-01", 0));
        json_array_append_new(ch, challenge_json(a, z, "tls-alpn-01", 0));
    }
    json_array_append_new(ch, challenge_json(a, z, "dns-account-01", 0));
    json_array_append_new(ch, challenge_json(a, z, "dns-persist-01", 0));
    j = json_pack("{s:{s:s,s:s},s:s,s:s,s:o}", "identifier", "type", "dns", "value",
                  wild ? z->name + 2 : z->name, "status", z->status, "expires",
                  rfc3339(a->p, z->expires_at), "challenges", ch);
    if (wild) {
        json_object_set_new(j, "wildcard", json_true());
    }
    return j;
}

static apr_status_t order_issue(acme_t *a, so_acme_order_t *o, apr_array_header_t *authzs,
                                const char **why);

/* Bring a pending/processing order's status up to date. */
static apr_status_t order_refresh(acme_t *a, so_acme_order_t *o, apr_array_header_t **authzs)
{
    const char *st = o->status;
    int i, valid = 0, bad = 0;
    apr_status_t rv = so_store_acme_authz_of(a->db, a->p, o->id, authzs);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < (*authzs)->nelts; i++) {
        so_acme_authz_t *z = APR_ARRAY_IDX(*authzs, i, so_acme_authz_t *);
        if (!strcmp(z->status, "pending") && z->expires_at <= a->req->now) {
            z->status = "expired";
        }
        valid += !strcmp(z->status, "valid");
        bad += strcmp(z->status, "valid") && strcmp(z->status, "pending");
    }
    if (!strcmp(st, "pending") || !strcmp(st, "ready")) {
        if (bad || o->expires_at <= a->req->now) {
            st = "invalid";
        }
        else if (valid == (*authzs)->nelts) {
            st = "ready";
        }
    }
    else if (!strcmp(st, "processing") && o->cert_id < 0) {
        /* not issued yet: try again now (the SSL order was busy, a CAA lookup failed) */
        const char *why;
        rv = order_issue(a, o, *authzs, &why);
        return rv == APR_EINVAL || rv == SO_ECAA ? APR_SUCCESS : rv;
    }
    if (strcmp(st, o->status) || (!strcmp(st, "valid") && o->cert_id > 0)) {
        if (strcmp(st, o->status)) {
            o->status = st;
            rv = so_store_acme_order_set(a->db, a->p, o);
        }
    }
    return rv;
}

static void order_answer(acme_t *a, int status, so_acme_order_t *o, apr_array_header_t *authzs)
{
    json_t *ids = json_array(), *az = json_array(), *j;
    char *names = apr_pstrdup(a->p, o->identifiers), *tok, *last = NULL;
    int i;

    for (tok = apr_strtok(names, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", tok));
    }
    for (i = 0; i < authzs->nelts; i++) {
        json_array_append_new(az, json_string(U(a, "/authz/%" APR_INT64_T_FMT,
                                                APR_ARRAY_IDX(authzs, i, so_acme_authz_t *)->id)));
    }
    j = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "status", o->status, "expires",
                  rfc3339(a->p, o->expires_at), "identifiers", ids, "authorizations", az,
                  "finalize", U(a, "/order/%" APR_INT64_T_FMT "/finalize", o->id), "profile",
                  o->profile);
    if (*o->replaces) {
        json_object_set_new(j, "replaces", json_string(o->replaces));
    }
    if (!strcmp(o->status, "valid") && o->cert_id > 0) {
        json_object_set_new(j, "certificate", json_string(U(a, "/cert/%" APR_INT64_T_FMT, o->id)));
    }
    if (!strcmp(o->status, "processing")) {
        apr_table_setn(a->req->headers_out, "Retry-After", "2");
    }
    if (*o->error) {
        json_error_t err;
        json_t *e = json_loads(o->error, 0, &err);
        if (e) {
            json_object_set_new(j, "error", e);
        }
    }
    apr_table_setn(a->req->headers_out, "Location", U(a, "/order/%" APR_INT64_T_FMT, o->id));
    send_json(a, status, j);
}

/* the names the EAB lets this account issue for: refused names answer a problem */
static apr_status_t names_allowed(acme_t *a, so_acme_eab_t *eab, apr_array_header_t *names,
                                  so_acme_bound_t **bound)
{
    apr_array_header_t *allowed = apr_array_make(a->p, 4, sizeof(const char *));
    char *s = apr_pstrdup(a->p, eab->names), *tok, *last = NULL;
    int i, plain = 0, wild = 0;
    apr_status_t rv;

    *bound = NULL;
    if (eab->product_id > 0) {
        /* a product-bound EAB: an order it created earlier that covers the names is
         * reissued; other names make a new paid order at finalization */
        apr_array_header_t *ids;
        const char *why = NULL;
        if ((rv = so_store_acme_eab_orders(a->db, a->p, eab->kid, &ids)) != APR_SUCCESS) {
            return db_problem(a, rv);
        }
        for (i = 0; i < ids->nelts; i++) {
            so_acme_bound_t *b;
            int k, all = 1;
            if (so_acme_iss_bound(a->req, eab->team_id, APR_ARRAY_IDX(ids, i, apr_int64_t), &b)
                    != APR_SUCCESS
                || strcmp(b->status, "ACT") || b->ends_at <= a->req->now) {
                continue;
            }
            for (k = 0; k < names->nelts && all; k++) {
                all = so_strs_has(b->names, APR_ARRAY_IDX(names, k, const char *));
            }
            if (all) {
                *bound = b;
                return APR_SUCCESS;
            }
        }
        rv = so_acme_iss_product_check(a->req, eab->team_id, eab->product_id, eab->period, names,
                                       &why);
        if (rv == APR_EINVAL) {
            return problem(a, 400, "rejectedIdentifier", why);
        }
        if (rv == SO_ENOFUNDS) {
            return problem(a, 403, "unauthorized", why);
        }
        return rv == APR_SUCCESS ? rv : db_problem(a, rv);
    }
    rv = so_acme_iss_bound(a->req, eab->team_id, eab->order_id, bound);
    if (rv == APR_ENOENT) {
        return problem(a, 403, "unauthorized", "The order of the EAB credentials is gone");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (strcmp((*bound)->status, "ACT") && strcmp((*bound)->status, "PAI")
        && strcmp((*bound)->status, "REQ")) {
        return problem(a, 403, "unauthorized",
                       apr_psprintf(a->p, "Order %" APR_INT64_T_FMT " is %s: nothing is issued for it",
                                    eab->order_id, (*bound)->status));
    }
    if ((*bound)->ends_at > 0 && (*bound)->ends_at <= a->req->now) {
        return problem(a, 403, "unauthorized", "The order's subscription has ended");
    }
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(allowed, const char *) = tok;
    }
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (allowed->nelts && !so_strs_has(allowed, n)) {
            return problem(a, 400, "rejectedIdentifier",
                           apr_psprintf(a->p, "%s is not a name of order %" APR_INT64_T_FMT, n,
                                        eab->order_id));
        }
        if (is_wild(n)) {
            wild++;
        }
        else {
            plain++;
        }
    }
    if (!allowed->nelts) {
        /* an order paid for but without names yet: its amounts are the limit */
        if (wild && !(*bound)->allow_wildcard) {
            return problem(a, 400, "rejectedIdentifier", "The order's product has no wildcard names");
        }
        if (plain > (*bound)->domain_amount + ((*bound)->domain_amount == 0)
            || wild > (*bound)->wildcard_amount + ((*bound)->allow_wildcard && !(*bound)->wildcard_amount)) {
            return problem(a, 400, "rejectedIdentifier", "More names than the order paid for");
        }
    }
    return APR_SUCCESS;
}

static apr_status_t replaces_check(acme_t *a, const char *cert_id, apr_array_header_t *names);

static apr_status_t new_order(acme_t *a)
{
    so_acme_eab_t *eab;
    so_acme_bound_t *bound;
    so_acme_order_t *o;
    apr_array_header_t *names, *authzs;
    so_acme_bad_t bad;
    const char *profile = "classic", *replaces = "";
    apr_int64_t reuse = so_acme_iss_reuse_seconds(a->req->now);
    int k, valid = 0;
    apr_status_t rv;

    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS
        || (rv = rate_limit(a, apr_psprintf(a->p, "o:%" APR_INT64_T_FMT, a->acct->id),
                            a->req->cfg->acme_orders_per_hour, "new orders of one account"))
               != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_new_order(a->p, a->payload, &names, &profile, &replaces, &bad)
        != APR_SUCCESS) {
        return bad_problem(a, &bad);
    }
    if ((rv = account_eab(a, &eab)) != APR_SUCCESS
        || (rv = names_allowed(a, eab, names, &bound)) != APR_SUCCESS
        || (*replaces && (rv = replaces_check(a, replaces, names)) != APR_SUCCESS)) {
        return rv;
    }
    o = apr_pcalloc(a->p, sizeof(*o));
    o->account_id = a->acct->id;
    o->team_id = a->acct->team_id;
    o->order_id = bound ? bound->order_id : 0;
    o->status = "pending"; /* "ready" below when every name's validation is reused */
    o->identifiers = apr_array_pstrcat(a->p, names, ' ');
    o->profile = profile;
    o->replaces = replaces;
    o->error = "";
    o->csr = "";
    o->expires_at = a->req->now + ORDER_TTL;
    o->created_at = a->req->now;
    /* The authorizations first (in memory): the order is inserted with its status, ready
     * when every name's validation is reused, so no UPDATE follows the INSERT. */
    authzs = apr_array_make(a->p, names->nelts, sizeof(so_acme_authz_t *));
    rv = APR_SUCCESS;
    for (k = 0; rv == APR_SUCCESS && k < names->nelts; k++) {
        so_acme_authz_t *z = apr_pcalloc(a->p, sizeof(*z));
        const char *n = APR_ARRAY_IDX(names, k, const char *);
        apr_int64_t *at = bound ? apr_hash_get(bound->validated, n, APR_HASH_KEY_STRING) : NULL;
        apr_int64_t when = at && *at > a->req->now - reuse ? *at : 0;
        unsigned char raw[24];
        if (!when) {
            rv = so_store_acme_authz_fresh(a->db, a->p, a->acct->id, n, a->req->now - reuse, &when);
        }
        if (rv == APR_SUCCESS) {
            rv = so_random_bytes(raw, sizeof(raw));
        }
        z->account_id = a->acct->id;
        z->name = n;
        z->token = so_b64url(a->p, raw, sizeof(raw));
        z->error = "";
        if (when) {
            z->status = "valid";
            z->chall_type = "reuse";
            z->validated_at = when;
            z->expires_at = when + reuse;
        }
        else {
            z->status = "pending";
            z->chall_type = "";
            z->expires_at = o->expires_at;
        }
        valid += when != 0;
        APR_ARRAY_PUSH(authzs, so_acme_authz_t *) = z;
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (valid == names->nelts) {
        o->status = "ready";
    }
    if ((rv = so_db_begin(a->db)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    rv = so_store_acme_order_insert(a->db, a->p, o);
    for (k = 0; rv == APR_SUCCESS && k < authzs->nelts; k++) {
        so_acme_authz_t *z = APR_ARRAY_IDX(authzs, k, so_acme_authz_t *);
        z->acme_order_id = o->id;
        rv = so_store_acme_authz_insert(a->db, a->p, z);
    }
    if ((rv = so_db_end(a->db, rv)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    order_answer(a, 201, o, authzs);
    return APR_SUCCESS;
}

static apr_status_t load_order(acme_t *a, apr_int64_t id, so_acme_order_t **o)
{
    apr_status_t rv = so_store_acme_order_get(a->db, a->p, id, o);
    if (rv == APR_SUCCESS && (*o)->account_id != a->acct->id) {
        rv = APR_ENOENT; /* another account's order: as if it did not exist */
    }
    return rv == APR_SUCCESS ? rv : db_problem(a, rv);
}

static apr_status_t get_order(acme_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    apr_array_header_t *authzs;
    apr_status_t rv;
    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = load_order(a, id, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = order_refresh(a, o, &authzs)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    order_answer(a, 200, o, authzs);
    return APR_SUCCESS;
}

static apr_status_t orders_list(acme_t *a, apr_int64_t acct_id)
{
    apr_array_header_t *ids;
    json_t *list = json_array();
    int i;
    apr_status_t rv;
    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = own_account(a, acct_id)) != APR_SUCCESS) {
        json_decref(list);
        return rv;
    }
    if ((rv = so_store_acme_orders_of(a->db, a->p, acct_id, &ids)) != APR_SUCCESS) {
        json_decref(list);
        return db_problem(a, rv);
    }
    for (i = 0; i < ids->nelts; i++) {
        json_array_append_new(list, json_string(U(a, "/order/%" APR_INT64_T_FMT,
                                                  APR_ARRAY_IDX(ids, i, apr_int64_t))));
    }
    send_json(a, 200, json_pack("{s:o}", "orders", list));
    return APR_SUCCESS;
}

/* The names an order issues for (the CSR's CN first, then the order's identifiers), when
 * and by which challenge each was validated. APR_EINVAL and *why when the CSR does not
 * have exactly the order's names. */
static apr_status_t order_names(acme_t *a, const so_acme_order_t *o, apr_array_header_t *authzs,
                                const so_csr_t *csr, apr_array_header_t **names,
                                apr_int64_t **validated, const char ***methods, const char **why)
{
    char *s, *tok, *last = NULL;
    int i, j;

    *names = apr_array_make(a->p, 4, sizeof(const char *));
    if (*csr->common_name) {
        APR_ARRAY_PUSH(*names, const char *) = csr->common_name;
    }
    s = apr_pstrdup(a->p, o->identifiers);
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        if (!so_strs_has(csr->names, tok)) {
            *why = apr_psprintf(a->p, "The CSR lacks the order's name %s", tok);
            return APR_EINVAL;
        }
        if (!so_strs_has(*names, tok)) {
            APR_ARRAY_PUSH(*names, const char *) = tok;
        }
    }
    if ((*names)->nelts != csr->names->nelts) {
        *why = "The CSR has names that are not in the order";
        return APR_EINVAL;
    }
    *validated = apr_pcalloc(a->p, sizeof(apr_int64_t) * (apr_size_t)(*names)->nelts);
    *methods = apr_pcalloc(a->p, sizeof(const char *) * (apr_size_t)(*names)->nelts);
    for (i = 0; i < (*names)->nelts; i++) {
        const char *n = APR_ARRAY_IDX(*names, i, const char *);
        for (j = 0; j < authzs->nelts; j++) {
            so_acme_authz_t *z = APR_ARRAY_IDX(authzs, j, so_acme_authz_t *);
            if (!strcmp(z->name, n)) {
                (*validated)[i] = z->validated_at;
                (*methods)[i] = !strcmp(z->chall_type, "reuse")            ? NULL
                                : !strcmp(z->chall_type, "dns-persist-01") ? "dns-persist"
                                                                           : z->chall_type;
            }
        }
    }
    return APR_SUCCESS;
}

/* the order is invalid with the error type and detail */
static apr_status_t order_fail(acme_t *a, so_acme_order_t *o, const char *type, const char *why)
{
    json_t *e = json_pack("{s:s,s:s}", "type", apr_pstrcat(a->p, ERR_NS, type, NULL), "detail",
                          why ? why : "");
    char *t = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    o->status = "invalid";
    o->error = apr_pstrdup(a->p, t ? t : "");
    free(t);
    return so_store_acme_order_set(a->db, a->p, o);
}

/* Issue a processing order (o->csr). On return o is valid (with its certificate),
 * invalid (APR_EINVAL or SO_ECAA, *why), or still processing: the SSL order is busy
 * with another issuance, or a check could not be made now; the client's next poll
 * comes back here. o->cert_id < 0 while processing: -(the SSL order's newest
 * certificate id when finalized) - 1. */
static apr_status_t order_issue(acme_t *a, so_acme_order_t *o, apr_array_header_t *authzs,
                                const char **why)
{
    apr_array_header_t *names;
    apr_int64_t *validated, cert_id = 0;
    const char **methods;
    so_csr_t *csr;
    apr_status_t rv;

    *why = NULL;
    if (!*o->csr) {
        /* finalized before the CSR was kept (schema 601): only the job can issue it */
        apr_int64_t last = 0;
        if ((rv = so_acme_iss_last(a->req, o->team_id, o->order_id, &last)) != APR_SUCCESS) {
            return rv;
        }
        if (last > -o->cert_id - 1) {
            o->status = "valid";
            o->cert_id = last;
            return so_store_acme_order_set(a->db, a->p, o);
        }
        return APR_SUCCESS;
    }
    if (so_csr_parse(a->p, o->csr, &csr, why) != APR_SUCCESS
        || order_names(a, o, authzs, csr, &names, &validated, &methods, why) != APR_SUCCESS) {
        order_fail(a, o, "badCSR", *why);
        return APR_EINVAL;
    }
    if (o->order_id <= 0) {
        /* a product-bound EAB: the paid order of these names, charged now (once: the
         * order went processing once) */
        so_acme_eab_t *eab;
        if ((rv = so_store_acme_eab_get(a->db, a->p, a->acct->eab_kid, &eab)) != APR_SUCCESS) {
            return rv;
        }
        if (eab->disabled) {
            *why = "The account's external account binding is disabled";
            order_fail(a, o, "unauthorized", *why);
            return APR_EINVAL;
        }
        rv = so_acme_iss_product_order(a->req, o->team_id, eab->created_by, eab->product_id,
                                       eab->period, csr->pem, names, &o->order_id, why);
        if (rv == APR_EINVAL) {
            order_fail(a, o, "badCSR", *why);
            return APR_EINVAL;
        }
        if (rv == SO_ENOFUNDS) {
            order_fail(a, o, "unauthorized", *why);
            return APR_EINVAL;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        o->cert_id = -1; /* a new order: every certificate of it is this one's */
        if ((rv = so_store_acme_order_set(a->db, a->p, o)) != APR_SUCCESS) {
            return rv;
        }
    }
    rv = so_acme_iss_issue(a->req, o->team_id, o->order_id,
                           U(a, "/acct/%" APR_INT64_T_FMT, o->account_id), csr->pem, names,
                           validated, methods,
                           !strcmp(o->profile, "shortlived") ? SHORTLIVED_DAYS : 0,
                           -o->cert_id - 1, &cert_id, why);
    if (rv == SO_ECAA) {
        order_fail(a, o, "caa", *why);
        return rv;
    }
    if (rv == APR_EINVAL) {
        order_fail(a, o, "unauthorized", *why);
        return rv;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cert_id > 0) {
        o->status = "valid";
        o->cert_id = cert_id;
        return so_store_acme_order_set(a->db, a->p, o);
    }
    if (o->expires_at <= a->req->now) {
        order_fail(a, o, "serverInternal", "The order expired before it could be issued");
    }
    return APR_SUCCESS;
}

static apr_status_t finalize(acme_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    apr_array_header_t *authzs, *names;
    apr_int64_t *validated, last = 0;
    const char *why, **methods;
    so_acme_bad_t bad;
    so_csr_t *csr;
    apr_status_t rv;

    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = load_order(a, id, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = order_refresh(a, o, &authzs)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (strcmp(o->status, "ready")) {
        return problem(a, 403, "orderNotReady",
                       apr_psprintf(a->p, "The order is %s, not ready", o->status));
    }
    if (so_acme_body_csr(a->p, a->payload, &csr, &bad) != APR_SUCCESS) {
        return bad_problem(a, &bad);
    }
    if (order_names(a, o, authzs, csr, &names, &validated, &methods, &why) != APR_SUCCESS) {
        return problem(a, 400, "badCSR", why);
    }
    if (o->order_id > 0
        && (rv = so_acme_iss_last(a->req, o->team_id, o->order_id, &last)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    /* ready -> processing once, with the CSR: from here on the order is issued by this
     * request or, when it cannot be now, by a later poll */
    o->cert_id = -last - 1;
    o->csr = csr->pem;
    rv = so_store_acme_order_process(a->db, a->p, o);
    if (rv == APR_EBUSY) {
        return problem(a, 403, "orderNotReady", "The order is being finalized already");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    rv = order_issue(a, o, authzs, &why);
    if (rv == SO_ECAA) {
        return problem(a, 403, "caa", why);
    }
    if (rv == APR_EINVAL) {
        const char *t = strstr(o->error, ERR_NS "badCSR") ? "badCSR" : "unauthorized";
        return problem(a, !strcmp(t, "badCSR") ? 400 : 403, t, why);
    }
    if (rv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
        return db_problem(a, rv);
    }
    /* valid, or processing (Retry-After): the next poll tries again */
    order_answer(a, 200, o, authzs);
    return APR_SUCCESS;
}

static apr_status_t certificate(acme_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    so_cert_t *c;
    const char *chain;
    apr_status_t rv;
    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = load_order(a, id, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(o->status, "valid") || o->cert_id <= 0) {
        return problem(a, 404, "malformed", "The order has no certificate");
    }
    if ((rv = so_store_cert_get(a->db, a->p, o->team_id, o->cert_id, &c)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    chain = apr_pstrcat(a->p, c->pem, c->pem[strlen(c->pem) - 1] == '\n' ? "" : "\n",
                        c->intermediate_pem, NULL);
    a->req->status = 200;
    a->req->raw_body = chain;
    a->req->raw_len = strlen(chain);
    a->req->raw_ctype = "application/pem-certificate-chain";
    return APR_SUCCESS;
}

/* ---- certificates: revocation, renewal information (RFC 9773) --------------------- */

static const char *bn_hex(apr_pool_t *p, BIGNUM *bn)
{
    char *h = bn ? BN_bn2hex(bn) : NULL;
    const char *s = h ? so_str_lower(p, h) : NULL;
    OPENSSL_free(h);
    BN_free(bn);
    return s;
}

/* the certificate named by an ARI certID: base64url(AKI keyIdentifier) "." base64url(serial) */
static apr_status_t cert_by_ari_id(acme_t *a, const char *cert_id, so_acme_cert_t **c)
{
    const char *dot = strchr(cert_id, '.');
    const unsigned char *aki, *ser;
    apr_size_t aki_len, ser_len;
    const char *serial;
    X509 *x = NULL;
    BIO *bio;
    const ASN1_OCTET_STRING *kid;
    int same = 0;
    apr_status_t rv;

    if (!dot || strlen(cert_id) > 512
        || so_unb64url(a->p, apr_pstrndup(a->p, cert_id, (apr_size_t)(dot - cert_id)), &aki,
                       &aki_len) != APR_SUCCESS
        || so_unb64url(a->p, dot + 1, &ser, &ser_len) != APR_SUCCESS || aki_len == 0
        || ser_len == 0 || ser_len > 20) {
        return APR_EINVAL;
    }
    serial = bn_hex(a->p, BN_bin2bn(ser, (int)ser_len, NULL));
    if (!serial || (rv = so_store_acme_cert(a->db, a->p, serial, c)) == APR_ENOENT) {
        return APR_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    bio = BIO_new_mem_buf((*c)->pem, -1);
    if (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))
        && (kid = X509_get0_authority_key_id(x))) {
        same = (apr_size_t)ASN1_STRING_length(kid) == aki_len
               && !memcmp(ASN1_STRING_get0_data(kid), aki, aki_len);
    }
    X509_free(x);
    BIO_free(bio);
    return same ? APR_SUCCESS : APR_ENOENT;
}

static apr_status_t renewal_info(acme_t *a, const char *cert_id)
{
    so_acme_cert_t *c;
    apr_int64_t start, end, life;
    json_t *j;
    apr_status_t rv = cert_by_ari_id(a, cert_id, &c);

    if (rv == APR_EINVAL) {
        return problem(a, 400, "malformed", "Not a certificate identifier (RFC 9773)");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    life = c->not_after - c->not_before;
    start = c->not_after - life / 3;
    end = c->not_after - life / 6;
    if (c->revoked_at || (c->renew_early_at && c->renew_early_at >= c->created_at)) {
        /* revoked, or the provider asked for early renewal: now */
        start = a->req->now - 3600;
        end = a->req->now;
    }
    j = json_pack("{s:{s:s,s:s}}", "suggestedWindow", "start", rfc3339(a->p, start), "end",
                  rfc3339(a->p, end));
    if (start < a->req->now - 60) {
        json_object_set_new(j, "explanationURL", json_string(U(a, "/terms")));
    }
    apr_table_setn(a->req->headers_out, "Retry-After", ARI_RETRY);
    send_json(a, 200, j);
    return APR_SUCCESS;
}

/* the account may act on the certificate: same team and an order its EAB covers */
static int account_covers(acme_t *a, const so_acme_cert_t *c)
{
    so_acme_eab_t *eab;
    apr_array_header_t *ids;
    int i;
    if (c->team_id != a->acct->team_id
        || so_store_acme_eab_get(a->db, a->p, a->acct->eab_kid, &eab) != APR_SUCCESS
        || eab->disabled) {
        return 0;
    }
    if (eab->order_id > 0) {
        return eab->order_id == c->order_id;
    }
    if (so_store_acme_eab_orders(a->db, a->p, eab->kid, &ids) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < ids->nelts; i++) {
        if (APR_ARRAY_IDX(ids, i, apr_int64_t) == c->order_id) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t revoke_cert(acme_t *a)
{
    const char *serial;
    const unsigned char *der, *q;
    apr_size_t der_len;
    X509 *x;
    so_acme_cert_t *c;
    so_acme_bad_t bad;
    int reason = 0, ok = 0;
    apr_status_t rv;

    if ((rv = authenticate(a, KEY_EITHER)) != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_revoke(a->p, a->payload, &der, &der_len, &reason, &bad) != APR_SUCCESS) {
        return bad_problem(a, &bad);
    }
    q = der;
    if (!(x = d2i_X509(NULL, &q, (long)der_len))) {
        return problem(a, 400, "malformed", "certificate is not a DER certificate");
    }
    serial = bn_hex(a->p, ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL));
    if (a->acct == NULL) {
        /* signed with the certificate's key */
        unsigned char *k1 = NULL, *k2 = NULL;
        int l1 = i2d_PUBKEY(X509_get0_pubkey(x), &k1), l2 = i2d_PUBKEY(a->key->pkey, &k2);
        ok = l1 > 0 && l1 == l2 && !memcmp(k1, k2, (size_t)l1);
        OPENSSL_free(k1);
        OPENSSL_free(k2);
    }
    X509_free(x);
    rv = serial ? so_store_acme_cert(a->db, a->p, serial, &c) : APR_ENOENT;
    if (rv == APR_SUCCESS) {
        /* the stored certificate must be this one, not another with the same serial */
        so_acme_cert_t *cc = c;
        BIO *bio = BIO_new_mem_buf(cc->pem, -1);
        X509 *mine = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        unsigned char *md = NULL;
        int l = mine ? i2d_X509(mine, &md) : 0;
        if (l <= 0 || (apr_size_t)l != der_len || memcmp(md, der, der_len)) {
            rv = APR_ENOENT;
        }
        OPENSSL_free(md);
        X509_free(mine);
        BIO_free(bio);
    }
    if (rv == APR_ENOENT) {
        return problem(a, 404, "malformed", "This server did not issue the certificate");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (a->acct) {
        ok = account_covers(a, c);
    }
    if (!ok) {
        return problem(a, 403, "unauthorized", "Not signed by the certificate's key or account");
    }
    if (c->revoked_at) {
        return problem(a, 400, "alreadyRevoked", "The certificate is revoked already");
    }
    rv = so_acme_iss_revoke(a->req, c->team_id, c->order_id, c->id, reason);
    if (rv == APR_EEXIST) {
        return problem(a, 400, "alreadyRevoked", "The certificate is revoked already");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    a->req->status = 200;
    a->req->raw_body = "";
    a->req->raw_len = 0;
    a->req->raw_ctype = "text/plain";
    return APR_SUCCESS;
}

/* newOrder's replaces (RFC 9773 5): a certificate of this account, names overlapping, not
 * replaced already */
static apr_status_t replaces_check(acme_t *a, const char *cert_id, apr_array_header_t *names)
{
    so_acme_cert_t *c;
    so_acme_order_t *prev;
    char *s, *tok, *last = NULL;
    int n = 0, overlap = 0;
    apr_status_t rv = cert_by_ari_id(a, cert_id, &c);

    if (rv == APR_EINVAL || rv == APR_ENOENT) {
        return problem(a, 400, "malformed", "replaces does not name a certificate of this server");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    rv = so_store_acme_order_by_cert(a->db, a->p, c->id, &prev);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && prev->account_id != a->acct->id)) {
        return problem(a, 400, "malformed", "replaces names a certificate of another account");
    }
    if (rv != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    s = apr_pstrdup(a->p, c->names);
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        overlap += so_strs_has(names, tok);
    }
    if (!overlap) {
        return problem(a, 400, "malformed", "The order has none of the replaced certificate's names");
    }
    if ((rv = so_store_acme_replaced(a->db, a->p, cert_id, &n)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (n > 0) {
        return problem(a, 409, "alreadyReplaced", "Another order replaces this certificate already");
    }
    return APR_SUCCESS;
}

/* ---- authorizations, challenges ---------------------------------------------------- */

static apr_status_t load_authz(acme_t *a, apr_int64_t id, so_acme_authz_t **z)
{
    apr_status_t rv = so_store_acme_authz_get(a->db, a->p, id, z);
    if (rv == APR_SUCCESS && (*z)->account_id != a->acct->id) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS && !strcmp((*z)->status, "pending") && (*z)->expires_at <= a->req->now) {
        (*z)->status = "expired";
    }
    return rv == APR_SUCCESS ? rv : db_problem(a, rv);
}

static apr_status_t authz(acme_t *a, apr_int64_t id)
{
    so_acme_authz_t *z;
    so_acme_bad_t bad;
    int deactivate = 0;
    apr_status_t rv;
    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = load_authz(a, id, &z)) != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_authz(a->p, a->payload, &deactivate, &bad) != APR_SUCCESS) {
        return bad_problem(a, &bad);
    }
    if (deactivate) {
        if (strcmp(z->status, "pending") && strcmp(z->status, "valid")) {
            return problem(a, 400, "malformed",
                           apr_psprintf(a->p, "The authorization is %s already", z->status));
        }
        z->status = "deactivated";
        if ((rv = so_store_acme_authz_set(a->db, a->p, z)) != APR_SUCCESS) {
            return db_problem(a, rv);
        }
    }
    send_json(a, 200, authz_json(a, z));
    return APR_SUCCESS;
}

static apr_status_t challenge(acme_t *a, apr_int64_t id, const char *type)
{
    so_acme_authz_t *z;
    so_acme_order_t *o;
    so_dcv_opts_t opts;
    const char *keyauth, *why = NULL, *base;
    int first;
    apr_status_t rv, ok;

    if ((rv = authenticate(a, KEY_KID)) != APR_SUCCESS || (rv = load_authz(a, id, &z)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(type, "http-01") && strcmp(type, "dns-01") && strcmp(type, "tls-alpn-01")
        && strcmp(type, "dns-account-01") && strcmp(type, "dns-persist-01")) {
        return problem(a, 404, "malformed", "No such challenge");
    }
    if (is_wild(z->name) && strncmp(type, "dns-", 4)) {
        return problem(a, 404, "malformed",
                       "A wildcard name is validated with dns-01, dns-account-01 or "
                       "dns-persist-01 only");
    }
    first = !strcmp(type, is_wild(z->name) ? "dns-01" : "http-01");
    apr_table_addn(a->req->headers_out, "Link",
                   apr_psprintf(a->p, "<%s>;rel=\"up\"", U(a, "/authz/%" APR_INT64_T_FMT, z->id)));
    if (strcmp(z->status, "pending")) {
        send_json(a, 200, challenge_json(a, z, type, first));
        return APR_SUCCESS;
    }
    if ((rv = so_store_acme_order_get(a->db, a->p, z->acme_order_id, &o)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    /* SSLOrdersDCVConnectTo, SSLOrdersDCVNameserver and the DNSSEC settings, as the API's
     * validation: every DNS challenge's lookup is DNSSEC-validated when SSLOrdersDNSSEC is on */
    so_acme_iss_dcv_opts(a->req, &opts);
    opts.user_agent = "mod_sslorders-acme/1";
    keyauth = apr_pstrcat(a->p, z->token, ".", a->key->thumbprint, NULL);
    base = is_wild(z->name) ? z->name + 2 : z->name;
    if (!strcmp(type, "http-01")) {
        ok = so_dcv_check_acme_http(a->p, base, z->token, keyauth, &opts, &why);
    }
    else if (!strcmp(type, "tls-alpn-01")) {
        unsigned char dig[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)keyauth, strlen(keyauth), dig);
        ok = so_dcv_check_tls_alpn(a->p, base, dig, &opts, &why);
    }
    else if (!strcmp(type, "dns-persist-01")) {
        ok = so_acme_iss_persist_check(a->req, o->team_id,
                                       U(a, "/acct/%" APR_INT64_T_FMT, z->account_id), z->name,
                                       &opts, &why);
    }
    else {
        /* dns-01: _acme-challenge.<name>; dns-account-01 (draft-ietf-acme-dns-account-label):
         * _<account label>._acme-challenge.<name>; the same value */
        unsigned char dig[SHA256_DIGEST_LENGTH];
        const char *qname = apr_pstrcat(a->p, "_acme-challenge.", base, NULL);
        if (!strcmp(type, "dns-account-01")) {
            qname = apr_pstrcat(a->p,
                                so_dcv_account_label(a->p, U(a, "/acct/%" APR_INT64_T_FMT,
                                                             z->account_id)),
                                ".", qname, NULL);
        }
        SHA256((const unsigned char *)keyauth, strlen(keyauth), dig);
        ok = so_dcv_check_txt(a->p, qname, so_b64url(a->p, dig, sizeof(dig)), &opts, &why);
    }
    z->chall_type = type;
    if (ok == APR_SUCCESS) {
        z->status = "valid";
        z->validated_at = a->req->now;
        z->expires_at = a->req->now + so_acme_iss_reuse_seconds(a->req->now);
        z->error = "";
    }
    else {
        const char *kind = ok == APR_EMISMATCH                          ? "incorrectResponse"
                           : !strncmp(type, "dns-", 4)                  ? "dns"
                                                                        : "connection";
        json_t *e = json_pack("{s:s,s:s,s:i}", "type", apr_pstrcat(a->p, ERR_NS, kind, NULL),
                              "detail", why ? why : "validation failed", "status", 403);
        char *t = json_dumps(e, JSON_COMPACT);
        json_decref(e);
        z->status = "invalid";
        z->error = apr_pstrdup(a->p, t ? t : "");
        free(t);
    }
    if ((rv = so_store_acme_authz_set(a->db, a->p, z)) != APR_SUCCESS) {
        return db_problem(a, rv);
    }
    if (ok == APR_SUCCESS) {
        so_acme_iss_validated(a->req, o->team_id, o->order_id, z->name, z->validated_at);
    }
    send_json(a, 200, challenge_json(a, z, type, first));
    return APR_SUCCESS;
}

/* ---- routing ----------------------------------------------------------------------- */

/* "/12" or "/12/rest": the id and what follows ("" or "/rest") */
static int path_id(const char *s, apr_int64_t *id, const char **rest)
{
    char buf[24];
    apr_size_t n = strspn(s, "0123456789");
    if (n == 0 || n >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (so_parse_int64(buf, 1, APR_INT64_MAX, id) != APR_SUCCESS) {
        return 0;
    }
    *rest = s + n;
    return 1;
}

void so_acme_handle(so_req_t *req, const char *base)
{
    acme_t a;
    const char *path = req->path, *rest;
    int post = !strcmp(req->method, "POST");
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    apr_int64_t id;

    memset(&a, 0, sizeof(a));
    a.req = req;
    a.p = req->pool;
    a.base = base;
    a.url = apr_pstrcat(req->pool, base, path, NULL);
    a.db = so_req_db(req);
    apr_table_setn(req->headers_out, "Link",
                   apr_psprintf(req->pool, "<%s/directory>;rel=\"index\"", base));
    if (!a.db) {
        db_problem(&a, SO_EDBDOWN);
        return;
    }
    if (req->body_len > SO_ACME_MAX_BODY) {
        problem(&a, 413, "malformed", "The request body is too large");
        add_nonce(&a);
        return;
    }
    if (!strcmp(path, "/directory") && get) {
        directory(&a);
        return;
    }
    if (!strcmp(path, "/new-nonce") && get) {
        new_nonce(&a);
        add_nonce(&a);
        return;
    }
    if (!strncmp(path, "/renewal-info/", 14) && get) {
        renewal_info(&a, path + 14);
        return;
    }
    if (!strcmp(path, "/terms") && get) {
        req->status = 200;
        req->raw_body = "Certificates are issued for the names of the orders and products the "
                        "external account binding was created for, under the terms of the "
                        "portal.\n";
        req->raw_len = strlen(req->raw_body);
        req->raw_ctype = "text/plain; charset=utf-8";
        return;
    }
    if (!post) {
        apr_table_setn(req->headers_out, "Allow", "POST");
        problem(&a, 405, "malformed", "Use POST (POST-as-GET for reading)");
        add_nonce(&a);
        return;
    }
    if (!strcmp(path, "/new-account")) {
        new_account(&a);
    }
    else if (!strcmp(path, "/new-order")) {
        new_order(&a);
    }
    else if (!strcmp(path, "/key-change")) {
        key_change(&a);
    }
    else if (!strcmp(path, "/revoke-cert")) {
        revoke_cert(&a);
    }
    else if (!strncmp(path, "/acct/", 6) && path_id(path + 6, &id, &rest)) {
        if (!*rest) {
            account(&a, id);
        }
        else if (!strcmp(rest, "/orders")) {
            orders_list(&a, id);
        }
        else {
            problem(&a, 404, "malformed", "No such resource");
        }
    }
    else if (!strncmp(path, "/order/", 7) && path_id(path + 7, &id, &rest)
             && (!*rest || !strcmp(rest, "/finalize"))) {
        if (*rest) {
            finalize(&a, id);
        }
        else {
            get_order(&a, id);
        }
    }
    else if (!strncmp(path, "/authz/", 7) && path_id(path + 7, &id, &rest) && !*rest) {
        authz(&a, id);
    }
    else if (!strncmp(path, "/chall/", 7) && path_id(path + 7, &id, &rest) && rest[0] == '/') {
        challenge(&a, id, rest + 1);
    }
    else if (!strncmp(path, "/cert/", 6) && path_id(path + 6, &id, &rest) && !*rest) {
        certificate(&a, id);
    }
    else {
        problem(&a, 404, "malformed", "No such resource");
    }
    add_nonce(&a);
}
