/* mod_sslorders: account organisation endpoints (issue 6): folders, tags, the CSR
 * Manager, quotes, the cart and its checkout, balance and ledger, teams, members
 * and API tokens. Everything is team-scoped: another team's objects answer 404. */
#ifndef SO_API_ORG_H
#define SO_API_ORG_H

#include "so_api.h"
#include "so_api_ssl.h"

extern const so_route_t so_routes_folders[];
extern const so_route_t so_routes_tags[];
extern const so_route_t so_routes_csrs[];
extern const so_route_t so_routes_cart[];
extern const so_route_t so_routes_teams[];

/* Register the order list filters (folder_id, tag) and the order fields
 * (folder_id, folder_name, tags, certificate_tags); called by so_api_init(). */
void so_api_org_init(void);
void so_api_folders_init(void);
void so_api_tags_init(void);

/* limit (default def, 1..max) and offset query parameters; answers 400. */
apr_status_t so_api_paging(so_req_t *req, int def, int max, int *limit, int *offset);

/* Certificate tags name a certificate of an order by its serial number (upper hex).
 * The issuance feature registers how to know an order's certificates; without it
 * the order's current certificate (so_order_t.certificate) is the only one. */
typedef apr_status_t so_cert_lookup_fn(so_req_t *req, const so_order_t *o, const char *serial,
                                       int *found);
void so_api_set_cert_lookup(so_cert_lookup_fn *fn);

/* Save a CSR (PEM) in the caller's CSR Manager (POST /ssl/csr with
 * save_to_csr_manager). Answers and returns non-success on failure (a viewer may
 * not: 403). */
apr_status_t so_api_managed_csr_save(so_req_t *req, const char *pem, const char *friendly_name,
                                     apr_int64_t *id);

#endif
