/* mod_sslorders: the rules of an order moved to the service layer
 * (src/svc/so_order_rules.h); this header stays for the API's includes. */
#ifndef SO_API_ORDER_RULES_H
#define SO_API_ORDER_RULES_H
#include "../svc/so_order_rules.h"
#endif
