/* mod_sslorders: helpers shared by the store files (src/store only).
 *
 * Arguments are typed (so_db_args.h): SO_A() binds integers as integers,
 *   so_db_exec(db, p, "so_order_get", &n, SO_A(team_id, id));
 * SO_ID(v) is an optional id (0: SQL NULL). */
#ifndef SO_STORE_H
#define SO_STORE_H

#include "../core/so_util.h"
#include "so_db.h"

#endif
