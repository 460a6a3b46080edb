/* mod_sslorders: the persistent DNS TXT validation method (BR 3.2.2.4.22, ballot SC-088;
 * draft-ietf-acme-dns-persist): a TXT record set once names the CA and the account, and
 * validates every later order of that account for the name (no httpd types).
 *
 *   _validation-persist.<name>  TXT  "<issuer domain>; accounturi=<account URI>[; policy=wildcard]"
 *
 * The issuer domain must be one of the CA's identities (SSLOrdersCAAIdentity, default the
 * CA tag); the account URI is the team's (so_persist_account_uri); a wildcard name (and
 * only the base's record counts) needs policy=wildcard. The value is parsed like a CAA
 * issue value (so_caa_parse_issue). The lookup goes through the validating resolver. */
#ifndef SO_PERSIST_H
#define SO_PERSIST_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "so_dcv.h"

#define SO_PERSIST_LABEL "_validation-persist"

/* "urn:sslorders:<ca tag>:team:<id>" */
const char *so_persist_account_uri(apr_pool_t *p, const char *ca_tag, apr_int64_t team_id);
/* The record a customer publishes for name (NULL when name is not valid). */
const char *so_persist_record_name(apr_pool_t *p, const char *name);
const char *so_persist_record_value(apr_pool_t *p, const char *issuer, const char *accounturi,
                                    int wildcard);
/* Check name: APR_SUCCESS when a TXT record authorizes it; APR_ENOENT (no record),
 * APR_EMISMATCH (records, none fits), other errors (the lookup failed); *why says why. */
apr_status_t so_persist_check(apr_pool_t *p, const so_dcv_opts_t *opts, const char *name,
                              const apr_array_header_t *identities, const char *accounturi,
                              const char **why);
/* The same accepting any of accounturis (const char *): ACME takes the account's URL and
 * the team's URI, so that one record serves the API, the portal and ACME. */
apr_status_t so_persist_check_any(apr_pool_t *p, const so_dcv_opts_t *opts, const char *name,
                                  const apr_array_header_t *identities,
                                  const apr_array_header_t *accounturis, const char **why);

#endif
