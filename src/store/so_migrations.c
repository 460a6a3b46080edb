#include <stdlib.h>

#include "so_migrations.h"

static const so_migration_t *const tables[] = {
    so_migrations_account,
    so_migrations_catalog,
    so_migrations_customer,
    so_migrations_order,
    so_migrations_cert,
    so_migrations_seal,
    so_migrations_org,
    so_migrations_csr,
    so_migrations_cart,
    so_migrations_team,
    so_migrations_br,
    so_migrations_outbox,
    so_migrations_security,
    so_migrations_renewal,
    so_migrations_acme,
    NULL};

#define SO_MAX_MIGRATIONS 512
static so_migration_t all[SO_MAX_MIGRATIONS + 1];
static int all_ready;

static int by_version(const void *a, const void *b)
{
    return ((const so_migration_t *)a)->version - ((const so_migration_t *)b)->version;
}

const so_migration_t *so_migrations(void)
{
    if (!all_ready) {
        int n = 0, i;
        for (i = 0; tables[i]; i++) {
            const so_migration_t *m;
            for (m = tables[i]; m->version && n < SO_MAX_MIGRATIONS; m++) {
                all[n++] = *m;
            }
        }
        qsort(all, (size_t)n, sizeof(all[0]), by_version);
        all[n].version = 0;
        all_ready = 1;
    }
    return all;
}
