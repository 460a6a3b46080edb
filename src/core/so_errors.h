/* mod_sslorders: the stable error codes of the API and their HTTP statuses.
 *
 * Every error answer is {"code": <code>, "desc": "<message>", "data": "<detail>"}.
 * Codes never change meaning once released; README.md lists every one of them
 * (a unit test checks that it does).
 *
 *   1xx  request, account and authentication errors (196 = authentication failed,
 *        as in the Openprovider API)
 *   10xx SSL errors (orders, products, CSRs, validation)
 */
#ifndef SO_ERRORS_H
#define SO_ERRORS_H

typedef enum {
    SO_E_OK = 0,
    SO_E_BAD_JSON = 101,
    SO_E_INVALID = 102,
    SO_E_NOT_FOUND = 103,
    SO_E_NO_ROUTE = 104,
    SO_E_METHOD = 105,
    SO_E_TOO_LARGE = 106,
    SO_E_MEDIA_TYPE = 107,
    SO_E_FORBIDDEN = 108,
    SO_E_CONFLICT = 109,
    SO_E_CSRF = 110,
    SO_E_NOT_ACCEPTABLE = 111,
    SO_E_AUTH = 196,
    SO_E_RATE_LIMIT = 197,
    SO_E_DB_UNAVAILABLE = 198,
    SO_E_INTERNAL = 199
} so_error_code_t;

typedef struct {
    int code;
    int http;
    const char *name;
    const char *desc;
} so_error_def_t;

/* The table of every code (terminated by code 0). */
const so_error_def_t *so_error_defs(void);
/* The definition of code, or NULL. */
const so_error_def_t *so_error_def(int code);
/* HTTP status for code (500 when unknown). */
int so_error_http(int code);

#endif
