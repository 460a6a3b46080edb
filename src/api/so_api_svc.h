/* mod_sslorders: the API's side of the service layer (no httpd types).
 *
 * so_api_svc_ctx() makes the context of a service call from an API request (pool,
 * database, configuration, clock, the caller as actor, the request's claim owner).
 * so_api_svc_answer() writes a service's result as the API's error envelope: the one
 * place a so_result_t becomes an answer. */
#ifndef SO_API_SVC_H
#define SO_API_SVC_H

#include "so_api.h"
#include "../svc/so_svc.h"

/* The context of a service call made for req (in req's pool). */
so_svc_ctx_t *so_api_svc_ctx(so_req_t *req);

/* The answer of a failed service call: res->code and res->detail as the error envelope
 * (no code: status mapped by the dispatcher); res->warnings added to the answer (one
 * the answer has already, same code and text, is not repeated).
 * Returns SO_ANSWERED when it answered an error, else res->status (APR_SUCCESS when it
 * did not fail). */
apr_status_t so_api_svc_answer(so_req_t *req, const so_result_t *res);

#endif
