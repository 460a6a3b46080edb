/* mod_sslorders: the ACME server (see so_acme.h): answers, nonces, the JWS of a POST,
 * the directory, accounts, routing. Orders and challenges: so_acme_order.c;
 * certificates: so_acme_cert.c. */
#include "so_acme_int.h"
#include "../svc/so_outbox.h"
#include "../core/so_nonce.h"

/* ---- answers -------------------------------------------------------------------- */

const char *so_acme_url(so_acme_ctx_t *a, const char *fmt, ...)
{
    va_list ap;
    const char *s;
    va_start(ap, fmt);
    s = apr_pvsprintf(a->p, fmt, ap);
    va_end(ap);
    return apr_pstrcat(a->p, a->base, s, NULL);
}

static const char *nonce_new(so_acme_ctx_t *a, int *purge)
{
    unsigned char raw[16];
    if (so_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    *purge = raw[0] < 4; /* now and then: drop the expired ones */
    return so_b64url(a->p, raw, sizeof(raw));
}

static so_acme_nonces_t nonces_where; /* SSLOrdersACMENonces */

void so_acme_nonces_set(so_acme_nonces_t where)
{
    nonces_where = where;
}

/* SQLite (one server): nonces in the memory the server's processes share, no write
 * transaction per request (so_nonce.h); PostgreSQL: in the database, for every server */
static int nonces_in_memory(const so_acme_ctx_t *a)
{
    if (!a->db || nonces_where == SO_ACME_NONCES_DATABASE || !so_nonce_mem_on()) {
        return 0;
    }
    return nonces_where == SO_ACME_NONCES_MEMORY || a->db->kind == SO_DB_SQLITE3;
}

/* the Replay-Nonce of the answer: the one so_acme_authenticate() issued already with the one it
 * consumed (a single statement), else a new one */
static apr_status_t add_nonce(so_acme_ctx_t *a)
{
    const char *n = a->next_nonce;
    int purge = 0;
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_status_t rv = APR_EGENERAL;
    if (!n && nonces_in_memory(a)) {
        if (!(n = so_nonce_mem_issue(a->p, now))) {
            return rv;
        }
    }
    if (!n) {
        if (!a->db || !(n = nonce_new(a, &purge))
            || (rv = so_store_acme_nonce_add(a->db, a->p, n, now + NONCE_TTL)) != APR_SUCCESS) {
            return rv;
        }
        if (purge) {
            so_store_acme_nonce_purge(a->db, a->p, now);
        }
    }
    apr_table_setn(a->req->headers_out, "Replay-Nonce", n);
    return APR_SUCCESS;
}

static void body_json(so_acme_ctx_t *a, int status, json_t *j, const char *ctype)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    a->req->status = status;
    a->req->raw_body = text ? apr_pstrdup(a->p, text) : "{}";
    a->req->raw_len = strlen(a->req->raw_body);
    a->req->raw_ctype = ctype;
    free(text);
}

void so_acme_send_json(so_acme_ctx_t *a, int status, json_t *j)
{
    body_json(a, status, j, "application/json");
}

/* A problem document; returns APR_EINVAL so that handlers can `return so_acme_problem(...)`. */
apr_status_t so_acme_problem(so_acme_ctx_t *a, int status, const char *type, const char *detail)
{
    json_t *j = json_pack("{s:s,s:s,s:i}", "type", apr_pstrcat(a->p, ERR_NS, type, NULL), "detail",
                          detail ? detail : "", "status", status);
    body_json(a, status, j, "application/problem+json");
    return APR_EINVAL;
}

apr_status_t so_acme_db_problem(so_acme_ctx_t *a, apr_status_t rv)
{
    if (rv == APR_ENOENT) {
        return so_acme_problem(a, 404, "malformed", "No such resource");
    }
    if (SO_DB_IS_UNAVAILABLE(rv)) {
        apr_table_setn(a->req->headers_out, "Retry-After", "5");
        return so_acme_problem(a, 503, "serverInternal", "The database is unavailable; retry");
    }
    so_log_error(SO_LOG_MARK, rv, SOLOGNO(00500) "ACME %s %s failed: %s", a->req->method,
                 a->req->path, so_db_strerror(rv));
    return so_acme_problem(a, 500, "serverInternal", "The server failed; retry later");
}

/* RFC 3339 in UTC: 2026-12-04T03:51:33Z */
const char *so_acme_rfc3339(apr_pool_t *p, apr_int64_t t)
{
    char *s = apr_pstrcat(p, so_time_fmt(p, t), "Z", NULL);
    char *sp = strchr(s, ' ');
    if (sp) {
        *sp = 'T';
    }
    return s;
}

/* ---- the JWS of a POST ------------------------------------------------------------- */

/* the JWS's nonce consumed and the answer's next one issued: one statement (in memory on
 * SQLite); with acct_id (PostgreSQL), the same statement reads that account too (a->acct,
 * NULL when none) */
static apr_status_t nonce_swap(so_acme_ctx_t *a, apr_int64_t acct_id)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    int purge = 0, mem = nonces_in_memory(a);
    const char *next = mem ? NULL : nonce_new(a, &purge);
    apr_status_t rv;
    if (!mem && !next) {
        return so_acme_db_problem(a, APR_EGENERAL);
    }
    if (mem) {
        /* consumed first: a bad nonce takes no slot of the ring */
        rv = so_nonce_mem_use(a->p, a->jws->nonce, now, NONCE_TTL);
        if (rv == APR_SUCCESS && !(next = so_nonce_mem_issue(a->p, now))) {
            rv = APR_EGENERAL;
        }
    }
    else if (acct_id) {
        rv = so_store_acme_nonce_account(a->db, a->p, a->jws->nonce, now, next, now + NONCE_TTL,
                                         acct_id, &a->acct);
    }
    else {
        rv = so_store_acme_nonce_swap(a->db, a->p, a->jws->nonce, now, next, now + NONCE_TTL);
    }
    if (rv == APR_ENOENT) {
        return so_acme_problem(a, 400, "badNonce", "The nonce is unknown, used already or expired");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    a->next_nonce = next;
    if (a->acct && a->acct->no_hooks) {
        /* the events this request writes read no webhooks (as a credential that says so) */
        so_outbox_no_hooks(a->p, a->acct->team_id);
    }
    if (purge) {
        so_store_acme_nonce_purge(a->db, a->p, now);
    }
    return APR_SUCCESS;
}

static apr_status_t verify_problem(so_acme_ctx_t *a, apr_status_t rv, const char *why)
{
    if (rv == APR_EINVAL) {
        return so_acme_problem(a, 400, "badSignatureAlgorithm", why);
    }
    return so_acme_problem(a, 400, "malformed", why);
}

/* A kid request on PostgreSQL whose signature verifies with the key this process last
 * verified that account with: the nonce swap reads the account in the same statement, one
 * round trip less per request. The signature is still checked before the nonce is
 * consumed; a key changed since (keyChange on any server) must verify the request again.
 * *done 0: nothing was consumed, take the usual path; 1: rv is the outcome. */
static apr_status_t kid_known_key(so_acme_ctx_t *a, apr_int64_t id, int *done)
{
    const char *known, *why;
    so_jwk_t *key;
    apr_status_t rv;

    *done = 0;
    if (a->db->kind != SO_DB_PGSQL || nonces_in_memory(a) || !(known = so_jwk_cache_text(a->p, id))
        || so_jwk_parse(a->p, known, &key, &why) != APR_SUCCESS
        || so_jws_verify(a->p, a->jws, key, &why) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    *done = 1;
    if ((rv = nonce_swap(a, id)) != APR_SUCCESS) {
        return rv;
    }
    if (!a->acct) {
        return so_acme_problem(a, 400, "accountDoesNotExist", "No such account");
    }
    if (strcmp(a->acct->jwk, known)) {
        if (so_jwk_parse(a->p, a->acct->jwk, &key, &why) != APR_SUCCESS) {
            return so_acme_db_problem(a, APR_EGENERAL);
        }
        if ((rv = so_jws_verify(a->p, a->jws, key, &why)) != APR_SUCCESS) {
            return verify_problem(a, rv, why);
        }
        so_jwk_cache_note(id, a->acct->jwk);
    }
    a->key = key;
    return APR_SUCCESS;
}

apr_status_t so_acme_authenticate(so_acme_ctx_t *a, int mode)
{
    so_req_t *req = a->req;
    const char *why, *ct = so_req_header(req, "Content-Type");
    int done = 0;
    apr_status_t rv;

    if (ct && strncasecmp(ct, "application/jose+json", 21)) {
        return so_acme_problem(a, 415, "malformed", "The Content-Type must be application/jose+json");
    }
    if (so_jws_parse(a->p, req->body, req->body_len, &a->jws, &why) != APR_SUCCESS) {
        return so_acme_problem(a, 400, "malformed", why);
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
        return so_acme_problem(a, 400, "badNonce", "The protected header has no nonce");
    }
    if (!a->jws->url || strcmp(a->jws->url, a->url)) {
        return so_acme_problem(a, 401, "unauthorized",
                       apr_psprintf(a->p, "The JWS url is not this request's URL (%s)", a->url));
    }
    if ((a->jws->jwk != NULL) == (a->jws->kid != NULL)) {
        return so_acme_problem(a, 400, "malformed", "The protected header must have either jwk or kid");
    }
    if (a->jws->jwk) {
        if (!(mode & SO_ACME_KEY_JWK)) {
            return so_acme_problem(a, 400, "malformed", "This resource needs a kid, not a jwk");
        }
        if (so_jwk_import(a->p, a->jws->jwk, &a->key, &why) != APR_SUCCESS) {
            return so_acme_problem(a, 400, "badPublicKey", why);
        }
    }
    else {
        const char *prefix = so_acme_url(a, "/acct/");
        apr_int64_t id;
        if (!(mode & SO_ACME_KEY_KID)) {
            return so_acme_problem(a, 400, "malformed", "This resource needs a jwk, not a kid");
        }
        if (strncmp(a->jws->kid, prefix, strlen(prefix))
            || so_parse_int64(a->jws->kid + strlen(prefix), 1, APR_INT64_MAX, &id) != APR_SUCCESS) {
            return so_acme_problem(a, 400, "accountDoesNotExist", "The kid is not an account of this server");
        }
        if ((rv = kid_known_key(a, id, &done)) != APR_SUCCESS) {
            return rv;
        }
        if (!done) {
            rv = so_store_acme_account_get(a->db, a->p, id, &a->acct);
            if (rv == APR_ENOENT) {
                return so_acme_problem(a, 400, "accountDoesNotExist", "No such account");
            }
            if (rv != APR_SUCCESS) {
                return so_acme_db_problem(a, rv);
            }
            if (so_jwk_parse(a->p, a->acct->jwk, &a->key, &why) != APR_SUCCESS) {
                return so_acme_db_problem(a, APR_EGENERAL);
            }
        }
    }
    if (!done) {
        if ((rv = so_jws_verify(a->p, a->jws, a->key, &why)) != APR_SUCCESS) {
            return verify_problem(a, rv, why);
        }
        if (a->acct) {
            so_jwk_cache_note(a->acct->id, a->acct->jwk);
        }
        if ((rv = nonce_swap(a, 0)) != APR_SUCCESS) {
            return rv;
        }
    }
    if (a->jws->payload_len) {
        if (!(a->payload = so_jws_payload_json(a->p, a->jws))) {
            return so_acme_problem(a, 400, "malformed", "The payload is not a JSON object");
        }
    }
    if (a->acct) {
        if (strcmp(a->acct->status, "valid")) {
            return so_acme_problem(a, 401, "unauthorized",
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
apr_status_t so_acme_rate_limit(so_acme_ctx_t *a, const char *key, int limit, const char *what)
{
    apr_int64_t now = apr_time_sec(apr_time_now()), start = now - now % 3600;
    int hits = 0;
    apr_status_t rv;
    if (limit <= 0) {
        return APR_SUCCESS;
    }
    if ((rv = so_store_acme_rate_hit(a->db, a->p, key, start, &hits)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (hits > limit) {
        apr_table_setn(a->req->headers_out, "Retry-After",
                       apr_psprintf(a->p, "%" APR_INT64_T_FMT, start + 3600 - now));
        return so_acme_problem(a, 429, "rateLimited",
                       apr_psprintf(a->p, "At most %d %s per hour; retry later", limit, what));
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_eab_of(so_acme_ctx_t *a, so_acme_eab_t **eab)
{
    if (a->acct->eab) {
        *eab = a->acct->eab;
        return APR_SUCCESS;
    }
    return so_store_acme_eab_get(a->db, a->p, a->acct->eab_kid, eab);
}

/* the account's EAB, refused when disabled */
apr_status_t so_acme_account_eab(so_acme_ctx_t *a, so_acme_eab_t **eab)
{
    apr_status_t rv = so_acme_eab_of(a, eab);
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if ((*eab)->disabled) {
        return so_acme_problem(a, 401, "unauthorized", "The account's external account binding is disabled");
    }
    return APR_SUCCESS;
}

/* ---- directory, nonces ------------------------------------------------------------- */

static apr_status_t directory(so_acme_ctx_t *a)
{
    json_t *meta = json_pack("{s:s,s:s,s:b,s:{s:s,s:s}}", "termsOfService", so_acme_url(a, "/terms"),
                             "website", a->req->cfg->public_url && *a->req->cfg->public_url
                                            ? a->req->cfg->public_url
                                            : a->base,
                             "externalAccountRequired", 1, "profiles", "classic",
                             "The longest validity the Baseline Requirements allow today",
                             "shortlived", "7 days");
    json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "newNonce", so_acme_url(a, "/new-nonce"),
                          "newAccount", so_acme_url(a, "/new-account"), "newOrder", so_acme_url(a, "/new-order"),
                          "revokeCert", so_acme_url(a, "/revoke-cert"), "keyChange", so_acme_url(a, "/key-change"),
                          "renewalInfo", so_acme_url(a, "/renewal-info"), "meta", meta);
    so_acme_send_json(a, 200, d);
    return APR_SUCCESS;
}

static apr_status_t new_nonce(so_acme_ctx_t *a)
{
    a->req->status = strcmp(a->req->method, "GET") ? 200 : 204;
    a->req->raw_body = "";
    a->req->raw_len = 0;
    a->req->raw_ctype = "text/plain";
    return APR_SUCCESS;
}

/* ---- accounts ---------------------------------------------------------------------- */

static void account_answer(so_acme_ctx_t *a, int status, so_acme_account_t *acc)
{
    json_error_t err;
    json_t *contact = json_loads(acc->contact, 0, &err);
    json_t *j = json_pack("{s:s,s:o,s:s,s:s}", "status", acc->status, "contact",
                          contact ? contact : json_array(), "orders",
                          so_acme_url(a, "/acct/%" APR_INT64_T_FMT "/orders", acc->id), "createdAt",
                          so_acme_rfc3339(a->p, acc->created_at));
    apr_table_setn(a->req->headers_out, "Location", so_acme_url(a, "/acct/%" APR_INT64_T_FMT, acc->id));
    so_acme_send_json(a, status, j);
}

apr_status_t so_acme_bad_problem(so_acme_ctx_t *a, const so_acme_bad_t *bad)
{
    return so_acme_problem(a, bad->status, bad->type, bad->detail);
}

static apr_status_t eab_check(so_acme_ctx_t *a, json_t *eab_obj, so_acme_eab_t **eab)
{
    so_jws_t *inner;
    so_jwk_t *k;
    const unsigned char *mac_key;
    apr_size_t mac_len;
    const char *why;
    char *text;
    apr_status_t rv;

    if (!json_is_object(eab_obj)) {
        return so_acme_problem(a, 400, "externalAccountRequired",
                       "This server requires external account binding (EAB credentials from "
                       "the portal's ACME page or POST /v1beta/acme/eab)");
    }
    text = json_dumps(eab_obj, JSON_COMPACT);
    rv = so_jws_parse(a->p, text ? text : "", text ? strlen(text) : 0, &inner, &why);
    free(text);
    if (rv != APR_SUCCESS) {
        return so_acme_problem(a, 400, "malformed", apr_pstrcat(a->p, "externalAccountBinding: ", why, NULL));
    }
    if (!inner->kid || !inner->url || strcmp(inner->url, a->url) || inner->nonce || inner->jwk) {
        return so_acme_problem(a, 400, "malformed",
                       "externalAccountBinding must have a kid and this URL, and no nonce or jwk");
    }
    if (so_jwk_import(a->p, so_jws_payload_json(a->p, inner), &k, &why) != APR_SUCCESS
        || strcmp(k->thumbprint, a->key->thumbprint)) {
        return so_acme_problem(a, 400, "malformed",
                       "The external account binding's payload is not the account key");
    }
    rv = so_store_acme_eab_get(a->db, a->p, inner->kid, eab);
    if (rv == APR_ENOENT || (rv == APR_SUCCESS && (*eab)->disabled)) {
        return so_acme_problem(a, 401, "unauthorized", "The EAB key id is unknown or disabled");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (so_unb64url(a->p, (*eab)->hmac_key, &mac_key, &mac_len) != APR_SUCCESS) {
        return so_acme_db_problem(a, APR_EGENERAL);
    }
    if (so_jws_verify_hmac(inner, mac_key, mac_len, &why) != APR_SUCCESS) {
        return so_acme_problem(a, 401, "unauthorized", why);
    }
    return APR_SUCCESS;
}

static apr_status_t new_account(so_acme_ctx_t *a)
{
    so_acme_account_t *acc;
    so_acme_eab_t *eab;
    so_acme_bad_t bad;
    json_t *pl;
    const char *contact = "[]", *text;
    int only = 0, deactivate = 0;
    apr_status_t rv;

    if ((rv = so_acme_rate_limit(a, apr_pstrcat(a->p, "a:", a->req->client_ip, NULL),
                         a->req->cfg->acme_accounts_per_hour, "new accounts from one address"))
            != APR_SUCCESS
        || (rv = so_acme_authenticate(a, SO_ACME_KEY_JWK)) != APR_SUCCESS) {
        return rv;
    }
    pl = a->payload;
    if (!pl) {
        return so_acme_problem(a, 400, "malformed", "newAccount needs a payload");
    }
    if (so_acme_body_account(a->p, pl, 1, &text, &only, &deactivate, &bad) != APR_SUCCESS) {
        return so_acme_bad_problem(a, &bad);
    }
    if (text) {
        contact = text;
    }
    rv = so_store_acme_account_by_key(a->db, a->p, a->key->thumbprint, &acc);
    if (rv == APR_SUCCESS) {
        if (strcmp(acc->status, "valid")) {
            return so_acme_problem(a, 401, "unauthorized",
                           apr_psprintf(a->p, "The account is %s", acc->status));
        }
        account_answer(a, 200, acc);
        return APR_SUCCESS;
    }
    if (rv != APR_ENOENT) {
        return so_acme_db_problem(a, rv);
    }
    if (only) {
        return so_acme_problem(a, 400, "accountDoesNotExist", "No account has this key");
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
        return so_acme_db_problem(a, rv);
    }
    so_log_info(SO_LOG_MARK, SOLOGNO(00501) "ACME account %" APR_INT64_T_FMT " created for team %"
                APR_INT64_T_FMT " (EAB %s)", acc->id, acc->team_id, eab->kid);
    account_answer(a, 201, acc);
    return APR_SUCCESS;
}

apr_status_t so_acme_own_account(so_acme_ctx_t *a, apr_int64_t id)
{
    if (a->acct->id != id) {
        return so_acme_problem(a, 403, "unauthorized", "The account is not the signer's");
    }
    return APR_SUCCESS;
}

static apr_status_t account(so_acme_ctx_t *a, apr_int64_t id)
{
    apr_status_t rv;

    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS || (rv = so_acme_own_account(a, id)) != APR_SUCCESS) {
        return rv;
    }
    if (a->payload) {
        const char *contact;
        int only, deactivate;
        so_acme_bad_t bad;
        if (so_acme_body_account(a->p, a->payload, 0, &contact, &only, &deactivate, &bad)
            != APR_SUCCESS) {
            return so_acme_bad_problem(a, &bad);
        }
        if (contact) {
            a->acct->contact = contact;
        }
        if (deactivate) {
            a->acct->status = "deactivated";
        }
        if ((rv = so_store_acme_account_set(a->db, a->p, a->acct)) != APR_SUCCESS) {
            return so_acme_db_problem(a, rv);
        }
    }
    account_answer(a, 200, a->acct);
    return APR_SUCCESS;
}

static apr_status_t key_change(so_acme_ctx_t *a)
{
    so_jws_t *inner;
    so_jwk_t *newkey, *old;
    json_t *pl;
    const char *why, *acct_url;
    char *text;
    int changed = 0;
    apr_status_t rv;

    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS) {
        return rv;
    }
    if (!a->payload) {
        return so_acme_problem(a, 400, "malformed", "keyChange needs a payload");
    }
    text = json_dumps(a->payload, JSON_COMPACT);
    rv = so_jws_parse(a->p, text ? text : "", text ? strlen(text) : 0, &inner, &why);
    free(text);
    if (rv != APR_SUCCESS) {
        return so_acme_problem(a, 400, "malformed", apr_pstrcat(a->p, "the inner JWS: ", why, NULL));
    }
    if (!so_jws_alg_ok(inner->alg)) {
        return so_acme_problem(a, 400, "badSignatureAlgorithm", "The inner JWS's algorithm is not accepted");
    }
    if (!inner->jwk || inner->kid || !inner->url || strcmp(inner->url, a->url)) {
        return so_acme_problem(a, 400, "malformed", "The inner JWS needs a jwk and this URL");
    }
    if (so_jwk_import(a->p, inner->jwk, &newkey, &why) != APR_SUCCESS) {
        return so_acme_problem(a, 400, "badPublicKey", why);
    }
    if (so_jws_verify(a->p, inner, newkey, &why) != APR_SUCCESS) {
        return so_acme_problem(a, 400, "malformed", apr_pstrcat(a->p, "the inner JWS: ", why, NULL));
    }
    pl = so_jws_payload_json(a->p, inner);
    acct_url = so_acme_url(a, "/acct/%" APR_INT64_T_FMT, a->acct->id);
    if (!pl || !json_is_string(json_object_get(pl, "account"))
        || strcmp(json_string_value(json_object_get(pl, "account")), acct_url)) {
        return so_acme_problem(a, 400, "malformed", "The inner payload's account is not the signer's");
    }
    if (so_jwk_import(a->p, json_object_get(pl, "oldKey"), &old, &why) != APR_SUCCESS
        || strcmp(old->thumbprint, a->acct->thumbprint)) {
        return so_acme_problem(a, 400, "malformed", "The inner payload's oldKey is not the account's key");
    }
    rv = so_store_acme_account_rekey(a->db, a->p, a->acct->id, a->acct->thumbprint,
                                     newkey->canonical, newkey->thumbprint, &changed);
    if (rv == SO_EDBUNIQUE) {
        so_acme_account_t *other;
        if (so_store_acme_account_by_key(a->db, a->p, newkey->thumbprint, &other) == APR_SUCCESS) {
            apr_table_setn(a->req->headers_out, "Location",
                           so_acme_url(a, "/acct/%" APR_INT64_T_FMT, other->id));
        }
        return so_acme_problem(a, 409, "malformed", "Another account has this key already");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (!changed) {
        return so_acme_problem(a, 409, "malformed", "The account's key changed meanwhile");
    }
    a->acct->jwk = newkey->canonical;
    a->acct->thumbprint = newkey->thumbprint;
    account_answer(a, 200, a->acct);
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

/* the GET (and HEAD) resources that need no signed request: 1 if path was one of them */
static int get_route(so_acme_ctx_t *a)
{
    const char *path = a->req->path;

    if (!strcmp(path, "/directory")) {
        directory(a);
        return 1;
    }
    if (!strcmp(path, "/new-nonce")) {
        apr_status_t rv = add_nonce(a);
        if (rv == APR_SUCCESS) {
            new_nonce(a);
        }
        else {
            /* an answer without a nonce is of no use to a client: 503 and Retry-After */
            so_acme_db_problem(a, SO_DB_IS_UNAVAILABLE(rv) ? rv : SO_EDBDOWN);
        }
        return 1;
    }
    if (!strncmp(path, "/renewal-info/", 14)) {
        so_acme_renewal_info(a, path + 14);
        return 1;
    }
    if (!strcmp(path, "/terms")) {
        a->req->status = 200;
        a->req->raw_body = "Certificates are issued for the names of the orders and products "
                           "the external account binding was created for, under the terms of "
                           "the portal.\n";
        a->req->raw_len = strlen(a->req->raw_body);
        a->req->raw_ctype = "text/plain; charset=utf-8";
        return 1;
    }
    return 0;
}

void so_acme_handle(so_req_t *req, const char *base)
{
    so_acme_ctx_t a;
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
        so_acme_db_problem(&a, SO_EDBDOWN);
        return;
    }
    if (req->body_len > SO_ACME_MAX_BODY) {
        so_acme_problem(&a, 413, "malformed", "The request body is too large");
        add_nonce(&a);
        return;
    }
    if (get && get_route(&a)) {
        return;
    }
    if (!post) {
        apr_table_setn(req->headers_out, "Allow", "POST");
        so_acme_problem(&a, 405, "malformed", "Use POST (POST-as-GET for reading)");
        add_nonce(&a);
        return;
    }
    if (!strcmp(path, "/new-account")) {
        new_account(&a);
    }
    else if (!strcmp(path, "/new-order")) {
        so_acme_new_order(&a);
    }
    else if (!strcmp(path, "/key-change")) {
        key_change(&a);
    }
    else if (!strcmp(path, "/revoke-cert")) {
        so_acme_revoke_cert(&a);
    }
    else if (!strncmp(path, "/acct/", 6) && path_id(path + 6, &id, &rest)) {
        if (!*rest) {
            account(&a, id);
        }
        else if (!strcmp(rest, "/orders")) {
            so_acme_orders_list(&a, id);
        }
        else {
            so_acme_problem(&a, 404, "malformed", "No such resource");
        }
    }
    else if (!strncmp(path, "/order/", 7) && path_id(path + 7, &id, &rest)
             && (!*rest || !strcmp(rest, "/finalize"))) {
        if (*rest) {
            so_acme_finalize(&a, id);
        }
        else {
            so_acme_get_order(&a, id);
        }
    }
    else if (!strncmp(path, "/authz/", 7) && path_id(path + 7, &id, &rest) && !*rest) {
        so_acme_authz(&a, id);
    }
    else if (!strncmp(path, "/chall/", 7) && path_id(path + 7, &id, &rest) && rest[0] == '/') {
        so_acme_challenge(&a, id, rest + 1);
    }
    else if (!strncmp(path, "/cert/", 6) && path_id(path + 6, &id, &rest) && !*rest) {
        so_acme_certificate(&a, id);
    }
    else {
        so_acme_problem(&a, 404, "malformed", "No such resource");
    }
    add_nonce(&a);
}
