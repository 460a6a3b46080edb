/* mod_sslorders: the migration tables, one per feature (see so_schema.h for the
 * version ranges). A new feature adds its table here and in so_migrations.c. */
#ifndef SO_MIGRATIONS_H
#define SO_MIGRATIONS_H

#include "so_schema.h"

extern const so_migration_t so_migrations_account[];
extern const so_migration_t so_migrations_catalog[];
extern const so_migration_t so_migrations_customer[];
extern const so_migration_t so_migrations_order[];
extern const so_migration_t so_migrations_cert[];
extern const so_migration_t so_migrations_seal[];
extern const so_migration_t so_migrations_org[];  /* folders, tags (400-409) */
extern const so_migration_t so_migrations_csr[];  /* managed CSRs (410-419) */
extern const so_migration_t so_migrations_cart[]; /* cart (420-429) */
extern const so_migration_t so_migrations_team[]; /* members, tokens (430-439) */
extern const so_migration_t so_migrations_br[];   /* Baseline Requirements (650-699) */
extern const so_migration_t so_migrations_outbox[]; /* webhooks, outbox (700-749) */
extern const so_migration_t so_migrations_security[]; /* invitations, sessions (750-799) */
extern const so_migration_t so_migrations_renewal[]; /* order renewals (900-949) */
extern const so_migration_t so_migrations_acme[]; /* ACME server (600-649) */

/* Every migration of every table, sorted by version, terminated by version 0. */
const so_migration_t *so_migrations(void);

#endif
