#include "so_stmts.h"

static const so_stmt_def_t *const tables[] = {
    so_stmts_account,
    NULL};

const so_stmt_def_t *const *so_stmt_tables(void)
{
    return tables;
}
