#include "so_stmts.h"

static const so_stmt_def_t *const tables[] = {
    so_stmts_account,
    so_stmts_catalog,
    so_stmts_customer,
    so_stmts_order,
    so_stmts_idem,
    so_stmts_cert,
    so_stmts_seal,
    so_stmts_org,
    so_stmts_csr,
    so_stmts_cart,
    so_stmts_team,
    so_stmts_br,
    so_stmts_outbox,
    so_stmts_security,
    so_stmts_renewal,
    so_stmts_acme,
    NULL};

const so_stmt_def_t *const *so_stmt_tables(void)
{
    return tables;
}
