/* mod_sslorders: helpers shared by the store files (src/store only).
 *
 * apr_dbd's text interface binds every argument as a string, so integers are formatted
 * on the request pool, which each store function names `p`:
 *   so_db_exec(db, p, "so_order_get", &n, I64(team_id), I64(id));
 * (The next step, binary binding of integers, replaces this; docs/architecture.md.) */
#ifndef SO_STORE_H
#define SO_STORE_H

#include "../core/so_util.h"

#define I64(v) so_i64str(p, (v))

#endif
