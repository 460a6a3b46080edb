/* mod_sslorders: the list of statement tables, one per store file.
 * A new store file adds its table here and in so_stmts.c. */
#ifndef SO_STMTS_H
#define SO_STMTS_H

#include "so_db.h"

extern const so_stmt_def_t so_stmts_account[];
extern const so_stmt_def_t so_stmts_catalog[];
extern const so_stmt_def_t so_stmts_customer[];
extern const so_stmt_def_t so_stmts_order[];
extern const so_stmt_def_t so_stmts_idem[];
extern const so_stmt_def_t so_stmts_cert[];
extern const so_stmt_def_t so_stmts_seal[];
extern const so_stmt_def_t so_stmts_org[];
extern const so_stmt_def_t so_stmts_csr[];
extern const so_stmt_def_t so_stmts_cart[];
extern const so_stmt_def_t so_stmts_team[];
extern const so_stmt_def_t so_stmts_br[];
extern const so_stmt_def_t so_stmts_outbox[];
extern const so_stmt_def_t so_stmts_security[];
extern const so_stmt_def_t so_stmts_renewal[];
extern const so_stmt_def_t so_stmts_acme[];

/* NULL-terminated list of the tables above. */
const so_stmt_def_t *const *so_stmt_tables(void);

#endif
