/* mod_sslorders: the stable error codes of the API and their HTTP statuses.
 *
 * Every error answer is {"code": <code>, "desc": "<message>", "data": "<detail>"}.
 * Codes never change meaning once released; README.md lists every one of them
 * (a unit test checks that it does).
 *
 *   1xx  request, account and authentication errors (196 = authentication failed,
 *        as in the Openprovider API); 120-149 account organisation
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
    /* account organisation: folders, tags, CSR Manager, cart, teams (120-149) */
    SO_E_FOLDER_NAME = 120,      /* an invalid folder name */
    SO_E_FOLDER_EXISTS = 121,    /* the parent holds a folder of that name */
    SO_E_FOLDER_MOVE = 122,      /* a move into the folder's own subtree (or too deep) */
    SO_E_TAG_NAME = 123,         /* an invalid tag name */
    SO_E_TAG_EXISTS = 124,       /* the team has a tag of that name */
    SO_E_MANAGED_CSR_EXISTS = 125, /* the CSR is in the CSR Manager already */
    SO_E_CART_EMPTY = 126,       /* checkout of an empty cart */
    SO_E_CART_DUPLICATE = 127,   /* the order is in the cart for renewal already */
    SO_E_CART_CHANGED = 128,     /* the cart changed during checkout */
    SO_E_LAST_OWNER = 129,       /* the team's last owner cannot leave or lose the role */
    SO_E_MEMBER_EXISTS = 130,    /* the user is a member already */
    SO_E_TEAM_LIMIT = 131,       /* the user owns as many teams as allowed */
    SO_E_LIMIT = 132,            /* too many folders, tags on an order, cart items */
    SO_E_WEBHOOK_URL = 150,      /* a webhook URL we do not deliver to */
    SO_E_WEBHOOK_EVENTS = 151,   /* an unknown webhook event type */
    SO_E_WEBHOOK_LIMIT = 152,    /* too many webhook endpoints */
    SO_E_PASSWORD = 160,         /* the old password is wrong (PUT /me/password) */
    SO_E_SCOPE = 161,            /* the API token lacks the scope the endpoint needs */
    SO_E_OTP_REQUIRED = 162,     /* the user signs in with a second factor: send otp */
    SO_E_2FA_REQUIRED = 163,     /* the team requires two-factor sign-in of its members */
    SO_E_2FA_STATE = 164,        /* two-factor sign-in is on already, or not being enrolled */
    SO_E_AUTH = 196,
    SO_E_RATE_LIMIT = 197,
    SO_E_DB_UNAVAILABLE = 198,
    SO_E_INTERNAL = 199,

    /* SSL: orders, products, CSRs (1000-1049) */
    SO_E_CSR = 1001,          /* the CSR cannot be read or its signature does not verify */
    SO_E_CSR_KEY = 1002,      /* the CSR's key is not one we sign */
    SO_E_HOSTNAME = 1003,     /* a name is not a valid host name */
    SO_E_NAMES = 1004,        /* the names do not fit the product */
    SO_E_STATUS_FIELD = 1005, /* a field cannot be changed in the order's status */
    SO_E_STATUS = 1006,       /* the operation is not possible in the order's status */
    SO_E_PRODUCT = 1007,      /* unknown or unavailable product */
    SO_E_PERIOD = 1008,       /* a period the product is not sold for */
    SO_E_APPROVER = 1009,     /* not an approver address of the domain */
    SO_E_HANDLE = 1010,       /* unknown contact handle */
    SO_E_DCV_METHOD = 1011,   /* a DCV method or host that does not fit */
    SO_E_INCOMPLETE = 1012,   /* start_provision on an order that lacks something */
    SO_E_FUNDS = 1013,        /* the balance does not cover the price */
    SO_E_IDEMPOTENCY = 1014,  /* Idempotency-Key reused for another request */
    SO_E_HANDLE_IN_USE = 1015,
    SO_E_CONTACT = 1016,      /* invalid contact data */
    SO_E_CONCURRENT = 1017,   /* the order kept changing under us */
    SO_E_CURRENCY = 1018,     /* the product has no price in the team's currency */
    SO_E_OTP_SCOPE = 1019,    /* an order token used beyond its order */

    /* SSL: issuance (1050-1079) */
    SO_E_REVOKED = 1050,      /* the certificate is revoked already */
    SO_E_RENEW_WINDOW = 1051, /* renewal only within 30 days before the order ends */
    SO_E_NOT_ISSUED = 1052,   /* the order has no certificate (yet) */

    /* SSL: bundles, seals, documents (1080-1099) */
    SO_E_FORMAT = 1080,       /* unknown download format */
    SO_E_DOC_TYPE = 1081,     /* a document of a type not accepted, empty or damaged */
    SO_E_DOC_LABEL = 1082,    /* the document is not what its name or Content-Type says */
    SO_E_UPLOAD = 1083,       /* not valid multipart/form-data, truncated, or no file */
    SO_E_DOC_LIMIT = 1084,    /* too many documents on the order */
    SO_E_DOC_STATE = 1085,    /* the document's state does not allow this */

    /* SSL: Baseline Requirements (1120-1139) */
    SO_E_EMAIL_DCV_RETIRED = 1120, /* e-mail domain validation is not allowed any more */
    SO_E_PERSPECTIVE_AUTH = 1121,  /* a perspective request not authenticated (MPIC) */
    /* portal (1140-1149) */
    SO_E_RENEWED = 1140       /* the order was renewed already (a live renewal exists) */
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
