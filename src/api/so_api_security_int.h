/* mod_sslorders: the handlers of so_api_audit.c and so_api_tfa.c that the route table in
 * so_api_security.c names (not for other files). */
#ifndef SO_API_SECURITY_INT_H
#define SO_API_SECURITY_INT_H

#include "so_api.h"

/* GET /audit (so_api_audit.c) */
apr_status_t so_api_audit_list(so_req_t *req);
/* GET, POST, DELETE /me/2fa, POST /me/2fa/confirm, PUT /team (so_api_tfa.c) */
apr_status_t so_api_tfa_get(so_req_t *req);
apr_status_t so_api_tfa_enrol(so_req_t *req);
apr_status_t so_api_tfa_confirm(so_req_t *req);
apr_status_t so_api_tfa_disable(so_req_t *req);
apr_status_t so_api_team_settings(so_req_t *req);

#endif
