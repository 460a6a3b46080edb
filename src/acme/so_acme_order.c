/* mod_sslorders: ACME orders, finalization, authorizations and challenges (RFC 8555 7.4,
 * 7.5). See so_acme_int.h. */
#include "so_acme_int.h"

/* ---- orders ------------------------------------------------------------------------ */

static int is_wild(const char *n)
{
    return n[0] == '*' && n[1] == '.';
}

static json_t *challenge_json(so_acme_ctx_t *a, so_acme_authz_t *z, const char *type, int first)
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
                  so_acme_url(a, "/chall/%" APR_INT64_T_FMT "/%s", z->id, type), "status", st, "token",
                  z->token);
    if (!strcmp(type, "dns-persist-01")) {
        /* draft-ietf-acme-dns-persist: no token; the CA identities the record may name
         * and the account URIs it may name (the account's URL, the team's URI) */
        apr_array_header_t *ids, *uris;
        json_t *jids = json_array(), *juris = json_array();
        int i;
        const char *acct = so_acme_url(a, "/acct/%" APR_INT64_T_FMT, z->account_id);
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
        json_object_set_new(j, "validated", json_string(so_acme_rfc3339(a->p, z->validated_at)));
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

static json_t *authz_json(so_acme_ctx_t *a, so_acme_authz_t *z)
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
                  so_acme_rfc3339(a->p, z->expires_at), "challenges", ch);
    if (wild) {
        json_object_set_new(j, "wildcard", json_true());
    }
    return j;
}


/* The account's order and its authorizations, read in one statement (another account's
 * order: as if it did not exist); a problem document when there is none */
static apr_status_t load_order_authzs(so_acme_ctx_t *a, apr_int64_t id, so_acme_order_t **o,
                                      apr_array_header_t **authzs)
{
    apr_status_t rv = so_store_acme_order_authzs(a->db, a->p, id, o, authzs);
    if (rv == APR_SUCCESS && (*o)->account_id != a->acct->id) {
        rv = APR_ENOENT;
    }
    return rv == APR_SUCCESS ? rv : so_acme_db_problem(a, rv);
}

/* Bring a pending/processing order's status up to date (authzs: its authorizations). */
static apr_status_t order_refresh(so_acme_ctx_t *a, so_acme_order_t *o, apr_array_header_t *authzs)
{
    const char *st = o->status;
    int i, valid = 0, bad = 0;
    apr_status_t rv = APR_SUCCESS;

    for (i = 0; i < authzs->nelts; i++) {
        so_acme_authz_t *z = APR_ARRAY_IDX(authzs, i, so_acme_authz_t *);
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
        else if (valid == authzs->nelts) {
            st = "ready";
        }
    }
    else if (!strcmp(st, "processing") && o->cert_id < 0) {
        /* not issued yet: try again now (the SSL order was busy, a CAA lookup failed) */
        const char *why;
        rv = so_acme_order_issue(a, o, authzs, &why);
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

static void order_answer(so_acme_ctx_t *a, int status, so_acme_order_t *o, apr_array_header_t *authzs)
{
    json_t *ids = json_array(), *az = json_array(), *j;
    char *names = apr_pstrdup(a->p, o->identifiers), *tok, *last = NULL;
    int i;

    for (tok = apr_strtok(names, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", tok));
    }
    for (i = 0; i < authzs->nelts; i++) {
        json_array_append_new(az, json_string(so_acme_url(a, "/authz/%" APR_INT64_T_FMT,
                                                APR_ARRAY_IDX(authzs, i, so_acme_authz_t *)->id)));
    }
    j = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "status", o->status, "expires",
                  so_acme_rfc3339(a->p, o->expires_at), "identifiers", ids, "authorizations", az,
                  "finalize", so_acme_url(a, "/order/%" APR_INT64_T_FMT "/finalize", o->id), "profile",
                  o->profile);
    if (*o->replaces) {
        json_object_set_new(j, "replaces", json_string(o->replaces));
    }
    if (!strcmp(o->status, "valid") && o->cert_id > 0) {
        json_object_set_new(j, "certificate", json_string(so_acme_url(a, "/cert/%" APR_INT64_T_FMT, o->id)));
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
    apr_table_setn(a->req->headers_out, "Location", so_acme_url(a, "/order/%" APR_INT64_T_FMT, o->id));
    so_acme_send_json(a, status, j);
}

/* the names the EAB lets this account issue for: refused names answer a problem */
static apr_status_t names_allowed(so_acme_ctx_t *a, so_acme_eab_t *eab, apr_array_header_t *names,
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
            return so_acme_db_problem(a, rv);
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
            return so_acme_problem(a, 400, "rejectedIdentifier", why);
        }
        if (rv == SO_ENOFUNDS) {
            return so_acme_problem(a, 403, "unauthorized", why);
        }
        return rv == APR_SUCCESS ? rv : so_acme_db_problem(a, rv);
    }
    rv = so_acme_iss_bound(a->req, eab->team_id, eab->order_id, bound);
    if (rv == APR_ENOENT) {
        return so_acme_problem(a, 403, "unauthorized", "The order of the EAB credentials is gone");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (strcmp((*bound)->status, "ACT") && strcmp((*bound)->status, "PAI")
        && strcmp((*bound)->status, "REQ")) {
        return so_acme_problem(a, 403, "unauthorized",
                       apr_psprintf(a->p, "Order %" APR_INT64_T_FMT " is %s: nothing is issued for it",
                                    eab->order_id, (*bound)->status));
    }
    if ((*bound)->ends_at > 0 && (*bound)->ends_at <= a->req->now) {
        return so_acme_problem(a, 403, "unauthorized", "The order's subscription has ended");
    }
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(allowed, const char *) = tok;
    }
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (allowed->nelts && !so_strs_has(allowed, n)) {
            return so_acme_problem(a, 400, "rejectedIdentifier",
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
            return so_acme_problem(a, 400, "rejectedIdentifier", "The order's product has no wildcard names");
        }
        if (plain > (*bound)->domain_amount + ((*bound)->domain_amount == 0)
            || wild > (*bound)->wildcard_amount + ((*bound)->allow_wildcard && !(*bound)->wildcard_amount)) {
            return so_acme_problem(a, 400, "rejectedIdentifier", "More names than the order paid for");
        }
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_new_order(so_acme_ctx_t *a)
{
    so_acme_eab_t *eab;
    so_acme_bound_t *bound;
    so_acme_order_t *o;
    apr_array_header_t *names, *authzs;
    so_acme_bad_t bad;
    const char *profile = "classic", *replaces = "";
    apr_int64_t reuse = so_acme_iss_reuse_seconds(a->req->now);
    int k, valid = 0, ended = 0;
    apr_status_t rv;

    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS
        || (rv = so_acme_rate_limit(a, apr_psprintf(a->p, "o:%" APR_INT64_T_FMT, a->acct->id),
                            a->req->cfg->acme_orders_per_hour, "new orders of one account"))
               != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_new_order(a->p, a->payload, &names, &profile, &replaces, &bad)
        != APR_SUCCESS) {
        return so_acme_bad_problem(a, &bad);
    }
    if ((rv = so_acme_account_eab(a, &eab)) != APR_SUCCESS
        || (rv = names_allowed(a, eab, names, &bound)) != APR_SUCCESS
        || (*replaces && (rv = so_acme_replaces_check(a, replaces, names)) != APR_SUCCESS)) {
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
        return so_acme_db_problem(a, rv);
    }
    if (valid == names->nelts) {
        o->status = "ready";
    }
    if ((rv = so_db_begin(a->db)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    rv = so_store_acme_order_insert(a->db, a->p, o);
    for (k = 0; rv == APR_SUCCESS && k < authzs->nelts; k++) {
        so_acme_authz_t *z = APR_ARRAY_IDX(authzs, k, so_acme_authz_t *);
        z->acme_order_id = o->id;
        /* the last one with the COMMIT, in one round trip (PostgreSQL) */
        rv = so_store_acme_authz_insert(a->db, a->p, z, k == authzs->nelts - 1 ? &ended : NULL);
    }
    if ((rv = ended ? rv : so_db_end(a->db, rv)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    order_answer(a, 201, o, authzs);
    return APR_SUCCESS;
}

apr_status_t so_acme_get_order(so_acme_ctx_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    apr_array_header_t *authzs;
    apr_status_t rv;
    so_store_acme_ahead(a->db, SO_ACME_AHEAD_ORDER, id); /* with the nonce */
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS
        || (rv = load_order_authzs(a, id, &o, &authzs)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = order_refresh(a, o, authzs)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    order_answer(a, 200, o, authzs);
    return APR_SUCCESS;
}

apr_status_t so_acme_orders_list(so_acme_ctx_t *a, apr_int64_t acct_id)
{
    apr_array_header_t *ids;
    json_t *list = json_array();
    int i;
    apr_status_t rv;
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS || (rv = so_acme_own_account(a, acct_id)) != APR_SUCCESS) {
        json_decref(list);
        return rv;
    }
    if ((rv = so_store_acme_orders_of(a->db, a->p, acct_id, &ids)) != APR_SUCCESS) {
        json_decref(list);
        return so_acme_db_problem(a, rv);
    }
    for (i = 0; i < ids->nelts; i++) {
        json_array_append_new(list, json_string(so_acme_url(a, "/order/%" APR_INT64_T_FMT,
                                                  APR_ARRAY_IDX(ids, i, apr_int64_t))));
    }
    so_acme_send_json(a, 200, json_pack("{s:o}", "orders", list));
    return APR_SUCCESS;
}

/* The names an order issues for (the CSR's CN first, then the order's identifiers), when
 * and by which challenge each was validated. APR_EINVAL and *why when the CSR does not
 * have exactly the order's names. */
static apr_status_t order_names(so_acme_ctx_t *a, const so_acme_order_t *o, apr_array_header_t *authzs,
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

/* The order invalid with the error type and detail, as stored: returns rv when that is
 * written. When the write fails (the database went away), o stays as it was (processing:
 * the next poll or the background job decides again) and the write's error is returned,
 * never an answer that says invalid for an order whose row does not. */
static apr_status_t order_fail(so_acme_ctx_t *a, so_acme_order_t *o, const char *type,
                               const char *why, apr_status_t rv)
{
    json_t *e = json_pack("{s:s,s:s}", "type", apr_pstrcat(a->p, ERR_NS, type, NULL), "detail",
                          why ? why : "");
    char *t = json_dumps(e, JSON_COMPACT);
    const char *was = o->status, *had = o->error;
    apr_status_t wrv;

    json_decref(e);
    o->status = "invalid";
    o->error = apr_pstrdup(a->p, t ? t : "");
    free(t);
    if ((wrv = so_store_acme_order_set(a->db, a->p, o)) != APR_SUCCESS) {
        o->status = was;
        o->error = had;
        return wrv;
    }
    return rv;
}

/* The order valid with its certificate, as stored: when the write fails (the database
 * went away after the issuance), o stays as it was, so that the answer says processing
 * and the next poll finds the certificate, never valid with a certificate the order's
 * row does not name yet. */
static apr_status_t order_valid(so_acme_ctx_t *a, so_acme_order_t *o, apr_int64_t cert_id)
{
    const char *was = o->status;
    apr_int64_t had = o->cert_id;
    apr_status_t rv;
    o->status = "valid";
    o->cert_id = cert_id;
    if ((rv = so_store_acme_order_set(a->db, a->p, o)) != APR_SUCCESS) {
        o->status = was;
        o->cert_id = had;
    }
    return rv;
}

/* Issue a processing order (o->csr). On return o is valid (with its certificate),
 * invalid (APR_EINVAL or SO_ECAA, *why), or still processing: the SSL order is busy
 * with another issuance, or a check could not be made now; the client's next poll or the
 * background job (so_acme_jobs_run) comes back here. o->cert_id < 0 while processing:
 * -(the SSL order's newest certificate id when finalized) - 1. */
apr_status_t so_acme_order_issue(so_acme_ctx_t *a, so_acme_order_t *o, apr_array_header_t *authzs,
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
        return last > -o->cert_id - 1 ? order_valid(a, o, last) : APR_SUCCESS;
    }
    if (so_csr_parse(a->p, o->csr, &csr, why) != APR_SUCCESS
        || order_names(a, o, authzs, csr, &names, &validated, &methods, why) != APR_SUCCESS) {
        return order_fail(a, o, "badCSR", *why, APR_EINVAL);
    }
    if (o->order_id <= 0) {
        /* a product-bound EAB: the paid order of these names, charged now (once: the
         * order went processing once) */
        so_acme_eab_t *eab;
        if ((rv = so_acme_eab_of(a, &eab)) != APR_SUCCESS) {
            return rv;
        }
        if (eab->disabled) {
            *why = "The account's external account binding is disabled";
            return order_fail(a, o, "unauthorized", *why, APR_EINVAL);
        }
        rv = so_acme_iss_product_order(a->req, o->id, o->team_id, eab->created_by,
                                       eab->product_id, eab->period, csr->pem, names,
                                       &o->order_id, why);
        if (rv == APR_EBUSY) {
            /* another worker (a poll, the job) created it: its issuance goes on there, or
             * here on the next try with the order it bound */
            return APR_SUCCESS;
        }
        if (rv == APR_EINVAL) {
            return order_fail(a, o, "badCSR", *why, APR_EINVAL);
        }
        if (rv == SO_ENOFUNDS) {
            return order_fail(a, o, "unauthorized", *why, APR_EINVAL);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        o->cert_id = -1; /* a new order (bound with it): every certificate of it is this one's */
    }
    rv = so_acme_iss_issue(a->req, o->team_id, o->order_id,
                           *o->account_url ? o->account_url
                                           : so_acme_url(a, "/acct/%" APR_INT64_T_FMT, o->account_id),
                           csr->pem, names,
                           validated, methods,
                           !strcmp(o->profile, "shortlived") ? SHORTLIVED_DAYS : 0,
                           -o->cert_id - 1, &cert_id, why);
    if (rv == SO_ECAA) {
        return order_fail(a, o, "caa", *why, rv);
    }
    if (rv == APR_EINVAL) {
        return order_fail(a, o, "unauthorized", *why, rv);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cert_id > 0) {
        return order_valid(a, o, cert_id);
    }
    if (o->expires_at <= a->req->now) {
        return order_fail(a, o, "serverInternal", "The order expired before it could be issued",
                          APR_SUCCESS);
    }
    return APR_SUCCESS;
}

apr_status_t so_acme_finalize(so_acme_ctx_t *a, apr_int64_t id)
{
    so_acme_order_t *o;
    apr_array_header_t *authzs, *names;
    apr_int64_t *validated;
    const char *why, **methods;
    so_acme_bad_t bad;
    so_csr_t *csr;
    apr_status_t rv;

    so_store_acme_ahead(a->db, SO_ACME_AHEAD_ORDER, id); /* with the nonce */
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS
        || (rv = load_order_authzs(a, id, &o, &authzs)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = order_refresh(a, o, authzs)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (strcmp(o->status, "ready")) {
        return so_acme_problem(a, 403, "orderNotReady",
                       apr_psprintf(a->p, "The order is %s, not ready", o->status));
    }
    if (so_acme_body_csr(a->p, a->payload, &csr, &bad) != APR_SUCCESS) {
        return so_acme_bad_problem(a, &bad);
    }
    if ((rv = so_acme_iss_key_blocked(a->req, csr, &why)) == APR_EINVAL) {
        return so_acme_problem(a, 400, "badCSR", why);
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    if (order_names(a, o, authzs, csr, &names, &validated, &methods, &why) != APR_SUCCESS) {
        return so_acme_problem(a, 400, "badCSR", why);
    }
    /* ready -> processing once, with the CSR and the SSL order's newest certificate
     * (o->cert_id): from here on the order is issued by this request or, when it cannot be
     * now, by a later poll */
    o->csr = csr->pem;
    o->account_url = so_acme_url(a, "/acct/%" APR_INT64_T_FMT, o->account_id);
    o->finalized_at = a->req->now;
    rv = so_store_acme_order_process(a->db, a->p, o);
    if (rv == APR_EBUSY) {
        return so_acme_problem(a, 403, "orderNotReady", "The order is being finalized already");
    }
    if (rv != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    rv = so_acme_order_issue(a, o, authzs, &why);
    if (rv == SO_ECAA) {
        return so_acme_problem(a, 403, "caa", why);
    }
    if (rv == APR_EINVAL) {
        const char *t = strstr(o->error, ERR_NS "badCSR") ? "badCSR" : "unauthorized";
        return so_acme_problem(a, !strcmp(t, "badCSR") ? 400 : 403, t, why);
    }
    if (rv != APR_SUCCESS && !SO_DB_IS_UNAVAILABLE(rv)) {
        return so_acme_db_problem(a, rv);
    }
    /* valid, or processing (Retry-After): the next poll tries again */
    order_answer(a, 200, o, authzs);
    return APR_SUCCESS;
}

/* ---- authorizations, challenges ---------------------------------------------------- */

static apr_status_t load_authz(so_acme_ctx_t *a, apr_int64_t id, so_acme_authz_t **z)
{
    apr_status_t rv = so_store_acme_authz_get(a->db, a->p, id, z);
    if (rv == APR_SUCCESS && (*z)->account_id != a->acct->id) {
        rv = APR_ENOENT;
    }
    if (rv == APR_SUCCESS && !strcmp((*z)->status, "pending") && (*z)->expires_at <= a->req->now) {
        (*z)->status = "expired";
    }
    return rv == APR_SUCCESS ? rv : so_acme_db_problem(a, rv);
}

apr_status_t so_acme_authz(so_acme_ctx_t *a, apr_int64_t id)
{
    so_acme_authz_t *z;
    so_acme_bad_t bad;
    int deactivate = 0;
    apr_status_t rv;
    so_store_acme_ahead(a->db, SO_ACME_AHEAD_AUTHZ, id); /* with the nonce */
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS || (rv = load_authz(a, id, &z)) != APR_SUCCESS) {
        return rv;
    }
    if (so_acme_body_authz(a->p, a->payload, &deactivate, &bad) != APR_SUCCESS) {
        return so_acme_bad_problem(a, &bad);
    }
    if (deactivate) {
        if (strcmp(z->status, "pending") && strcmp(z->status, "valid")) {
            return so_acme_problem(a, 400, "malformed",
                           apr_psprintf(a->p, "The authorization is %s already", z->status));
        }
        z->status = "deactivated";
        if ((rv = so_store_acme_authz_set(a->db, a->p, z)) != APR_SUCCESS) {
            return so_acme_db_problem(a, rv);
        }
    }
    so_acme_send_json(a, 200, authz_json(a, z));
    return APR_SUCCESS;
}

apr_status_t so_acme_challenge(so_acme_ctx_t *a, apr_int64_t id, const char *type)
{
    so_acme_authz_t *z;
    so_acme_order_t *o;
    so_dcv_opts_t opts;
    const char *keyauth, *why = NULL, *base;
    int first, mpic_refused = 0;
    apr_status_t rv, ok;

    so_store_acme_ahead(a->db, SO_ACME_AHEAD_AUTHZ, id); /* with the nonce */
    if ((rv = so_acme_authenticate(a, SO_ACME_KEY_KID)) != APR_SUCCESS || (rv = load_authz(a, id, &z)) != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(type, "http-01") && strcmp(type, "dns-01") && strcmp(type, "tls-alpn-01")
        && strcmp(type, "dns-account-01") && strcmp(type, "dns-persist-01")) {
        return so_acme_problem(a, 404, "malformed", "No such challenge");
    }
    if (is_wild(z->name) && strncmp(type, "dns-", 4)) {
        return so_acme_problem(a, 404, "malformed",
                       "A wildcard name is validated with dns-01, dns-account-01 or "
                       "dns-persist-01 only");
    }
    first = !strcmp(type, is_wild(z->name) ? "dns-01" : "http-01");
    apr_table_addn(a->req->headers_out, "Link",
                   apr_psprintf(a->p, "<%s>;rel=\"up\"", so_acme_url(a, "/authz/%" APR_INT64_T_FMT, z->id)));
    if (strcmp(z->status, "pending")) {
        so_acme_send_json(a, 200, challenge_json(a, z, type, first));
        return APR_SUCCESS;
    }
    if ((rv = so_store_acme_order_get(a->db, a->p, z->acme_order_id, &o)) != APR_SUCCESS) {
        return so_acme_db_problem(a, rv);
    }
    /* SSLOrdersDCVConnectTo, SSLOrdersDCVNameserver and the DNSSEC settings, as the API's
     * validation: every DNS challenge's lookup is DNSSEC-validated when SSLOrdersDNSSEC is on */
    so_acme_iss_dcv_opts(a->req, &opts);
    opts.user_agent = "mod_sslorders-acme/1";
    keyauth = apr_pstrcat(a->p, z->token, ".", a->key->thumbprint, NULL);
    base = is_wild(z->name) ? z->name + 2 : z->name;
    if (!strcmp(type, "dns-persist-01")) {
        const char *account = so_acme_url(a, "/acct/%" APR_INT64_T_FMT, z->account_id);
        ok = so_acme_iss_persist_check(a->req, o->team_id, account, z->name, &opts, &why);
        if (ok == APR_SUCCESS) {
            /* BR 3.2.2.9: the remote perspectives look the record up too */
            ok = so_acme_iss_mpic_persist(a->req, o->order_id, o->team_id, account, z->name,
                                          &why);
            mpic_refused = ok != APR_SUCCESS;
        }
    }
    else {
        const char *account = so_acme_url(a, "/acct/%" APR_INT64_T_FMT, z->account_id);
        ok = so_dcv_check_acme(a->p, type, base, z->token, keyauth, account, &opts, &why);
        if (ok == APR_SUCCESS) {
            /* BR 3.2.2.9: the remote perspectives repeat the check now, while the client
             * still serves the challenge (it may remove it before finalize) */
            ok = so_acme_iss_mpic(a->req, o->order_id, base, type, z->token, keyauth,
                                  account, &why);
            mpic_refused = ok != APR_SUCCESS;
        }
    }
    z->chall_type = type;
    if (ok == APR_SUCCESS) {
        z->status = "valid";
        z->validated_at = a->req->now;
        z->expires_at = a->req->now + so_acme_iss_reuse_seconds(a->req->now);
        z->error = "";
    }
    else {
        const char *kind = mpic_refused                                 ? "unauthorized"
                           : ok == APR_EMISMATCH                        ? "incorrectResponse"
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
        return so_acme_db_problem(a, rv);
    }
    if (ok == APR_SUCCESS) {
        so_acme_iss_validated(a->req, o->team_id, o->order_id, z->name, z->validated_at);
    }
    so_acme_send_json(a, 200, challenge_json(a, z, type, first));
    return APR_SUCCESS;
}

