/* mod_sslorders: External Account Binding credentials (RFC 8555 7.3.4) for teams. */
#include <string.h>

#include <apr_strings.h>

#include "so_acme.h"
#include "so_acme_issue.h"
#include "../core/so_jws.h"
#include "../core/so_util.h"
#include "../store/so_store_catalog.h"

apr_status_t so_acme_eab_create(apr_pool_t *p, so_db_t *db, apr_int64_t now, apr_int64_t team_id,
                                apr_int64_t order_id, apr_int64_t product_id, int period,
                                const char *description, apr_int64_t user_id, so_acme_eab_t **out,
                                const char **why)
{
    so_acme_eab_t *e;
    unsigned char kid[12], key[32];
    apr_status_t rv;

    *why = NULL;
    if ((order_id > 0) == (product_id > 0)) {
        *why = "give either order_id or product_id";
        return APR_EINVAL;
    }
    if (period < 1 || period > 5) {
        *why = "period is 1 to 5 years";
        return APR_EINVAL;
    }
    if (!db) {
        return SO_EDBDOWN;
    }
    e = apr_pcalloc(p, sizeof(*e));
    e->names = "";
    if (order_id > 0) {
        so_acme_bound_t *b;
        if ((rv = so_acme_iss_bound_db(p, db, team_id, order_id, &b)) != APR_SUCCESS) {
            return rv;
        }
        if (strcmp(b->status, "ACT") && strcmp(b->status, "PAI") && strcmp(b->status, "REQ")) {
            *why = apr_psprintf(p, "order %" APR_INT64_T_FMT " is %s: only a paid, active "
                                "or pending order can be bound", order_id, b->status);
            return APR_EINVAL;
        }
        e->names = apr_array_pstrcat(p, b->names, ' ');
    }
    else {
        so_product_t *prod;
        if ((rv = so_store_product_get(db, p, product_id, &prod)) != APR_SUCCESS) {
            return rv;
        }
        if (!prod->active) {
            return APR_ENOENT;
        }
        if (period > prod->max_period) {
            *why = apr_psprintf(p, "%s is sold for 1 to %d years", prod->name,
                                prod->max_period);
            return APR_EINVAL;
        }
    }
    if ((rv = so_random_bytes(kid, sizeof(kid))) != APR_SUCCESS) {
        return rv;
    }
    e->kid = apr_pstrcat(p, "kid_", so_b64url(p, kid, sizeof(kid)), NULL);
    /* A key that begins with '-' is read as an option by the clients' command lines
     * (certbot --eab-hmac-key -x..., lego --hmac -x...): draw again (1 in 64). */
    do {
        if ((rv = so_random_bytes(key, sizeof(key))) != APR_SUCCESS) {
            return rv;
        }
        e->hmac_key = so_b64url(p, key, sizeof(key));
    } while (e->hmac_key[0] == '-');
    e->team_id = team_id;
    e->order_id = order_id > 0 ? order_id : 0;
    e->product_id = product_id > 0 ? product_id : 0;
    e->period = period;
    e->description = description ? description : "";
    e->created_by = user_id;
    e->created_at = now;
    if ((rv = so_store_acme_eab_insert(db, p, e)) != APR_SUCCESS) {
        return rv;
    }
    *out = e;
    return APR_SUCCESS;
}

json_t *so_acme_eab_json(apr_pool_t *p, const so_acme_eab_t *e, const char *directory_url,
                         int with_key)
{
    json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:i,s:s,s:s,s:s,s:b}", "kid", e->kid, "directory_url",
                          directory_url, "order_id", (json_int_t)e->order_id, "product_id",
                          (json_int_t)e->product_id, "period", e->period, "description",
                          e->description, "names", e->names, "created_at",
                          so_time_fmt(p, e->created_at), "disabled", e->disabled);
    if (with_key) {
        json_object_set_new(j, "hmac_key", json_string(e->hmac_key));
    }
    return j;
}
