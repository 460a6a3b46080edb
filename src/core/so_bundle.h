/* mod_sslorders: certificate bundles for download (no httpd types).
 *
 * so_bundle_build() turns an issued certificate, its intermediates and its root into
 * the file a customer downloads for one server platform (the portal's download
 * table, after SSL.com) or for one DigiCert CertCentral `format_type` (API clients).
 * Certificates are parsed with OpenSSL and written out again: only certificates
 * ever reach a bundle (any other PEM block in the input, such as a private key, is
 * ignored), always as canonical PEM with LF line ends, DER or PKCS#7.
 *
 * Naming. <cn> is the common name with "*" as "STAR" and "." as "_"
 * ("*.example.com" -> "STAR_example_com"); any other character outside
 * [A-Za-z0-9_-] becomes "_" (pass the A-label form of IDNs), at most 200 bytes, and
 * "certificate" when there is no common name. ZIP bundles download as <cn>.zip.
 * CA certificates inside the separate-files ZIPs are named from their subject CN,
 * upper-cased, with white space . * ( ) and anything else outside [A-Z0-9_-] as "_"
 * ("Test Issuing CA 1" -> TEST_ISSUING_CA_1.crt); a CA without a CN is CA_<n>; two
 * CAs with the same name get _2, _3 suffixes.
 *
 * Chain order. "chain" is the intermediates, the issuer of the server certificate
 * first. so_bundle_build() checks that each certificate is issued by the next
 * (server <- chain[0] <- ... <- root) and refuses a broken or mis-ordered chain. A
 * self-signed last certificate of the chain is taken as the root when no root is
 * given; a root repeated at the end of the chain is dropped.
 *
 * Formats (name: download file, contents in order; "ints" = intermediates, issuer of
 * the server certificate first; "ints reversed" = root side first):
 *
 *  portal download table (SSL.com)
 *   iis          <cn>.p7b             PKCS#7 (PEM armour): server, ints, root
 *   cpanel       <cn>.zip             <cn>.ca-bundle (ints, root) + <cn>.crt (server)
 *   apache       <cn>.zip             ca-bundle-client.crt (ints reversed, no root)
 *                                     + <cn>.crt (server)
 *   amazon       <cn>.zip             ca-chain-amazon.crt (ints, root) + <cn>.crt
 *   nginx        <cn>.chained.crt     server, ints
 *   nodejs       <cn>.chained.crt     the same as nginx
 *   tomcat       <cn>.zip             ROOT_CN.crt, INT_CN.crt (root side first), <cn>.crt
 *   other        <cn>.zip             the same as tomcat ("Other platforms")
 *   ca-bundle    <cn>.ca-bundle       ints, root; NOT the server certificate
 *  DigiCert format_type
 *   default      <cn>.zip             as tomcat (separate .crt files)
 *   default_pem  <cn>.zip             as tomcat
 *   default_cer  <cn>.zip             as tomcat, every file named .cer
 *   cer          <cn>.cer             PKCS#7 (PEM armour): server, ints, root
 *   p7b          <cn>.p7b             PKCS#7 (PEM armour): server, ints, root
 *   pem_all      <cn>.pem             server, ints, root
 *   pem_noroot   <cn>.pem             server, ints
 *   pem_nointermediate <cn>.pem       server only
 *   (apache)     DigiCert's `apache` (ZIP: intermediates + server, no root) and the
 *                portal's Apache bundle share one name. Decision: `apache` is the
 *                portal bundle above; it serves DigiCert clients too, because it is a
 *                ZIP holding exactly the intermediates and the server certificate and
 *                no root, with SSL.com's file names.
 *  server certificate alone
 *   pem          <cn>.crt             server (PEM)
 *   der          <cn>.der             server (DER)
 *
 * Content types: ZIP application/zip; PKCS#7 application/x-pkcs7-certificates; PEM
 * text application/x-pem-file; DER application/pkix-cert.
 *
 * Names are matched case-insensitively; aliases: "ca_bundle" and "cabundle" ->
 * ca-bundle, "node" -> nodejs, "whm" -> cpanel, "aws" -> amazon, "java" -> tomcat,
 * "pkcs7" -> p7b, "crt" -> pem. so_bundle_t.format gives the canonical name.
 *
 * Determinism: the same input gives the same bytes (ETags over the bytes are
 * stable). ZIP entries carry the server certificate's notBefore (UTC, as MS-DOS
 * time, clamped to 1980..2107) as their time, mode 0644, deflate compression.
 */
#ifndef SO_BUNDLE_H
#define SO_BUNDLE_H

#include <apr_pools.h>

/* What a bundle is built from. PEM text; chain_pem and root_pem may be NULL or "". */
typedef struct {
    const char *leaf_pem;    /* exactly one certificate: the server certificate */
    const char *chain_pem;   /* the intermediates, issuer of the leaf first (0..8) */
    const char *root_pem;    /* the root (at most one) */
    const char *common_name; /* for file names; NULL: the leaf's subject CN */
} so_bundle_input_t;

/* A built bundle (memory from the pool given to so_bundle_build). */
typedef struct {
    const char *format;       /* canonical format name */
    const char *data;         /* the bytes (binary for ZIP and DER) */
    apr_size_t len;
    const char *content_type; /* e.g. "application/zip" */
    const char *filename;     /* download name, e.g. "STAR_example_com.zip" */
} so_bundle_t;

/* One row of the format list. */
typedef struct {
    const char *name;        /* canonical name, e.g. "apache", "pem_noroot" */
    const char *label;       /* e.g. "Apache", "CA bundle (intermediate certs)" */
    const char *description; /* one sentence for the download table */
    const char *extension;   /* of the download: "zip", "p7b", "crt", ... */
    int portal;              /* 1: a row of the portal's download table (in order) */
} so_bundle_format_t;

/* One server software id the portal offers (orders' "software"). */
typedef struct {
    const char *id;     /* "linux", "windows", "apache", ... */
    const char *label;  /* "Linux", "Microsoft Windows", ... */
    const char *format; /* the bundle so_bundle_default_for_software() gives */
} so_bundle_software_t;

/* Every format, terminated by a row with name NULL. The portal's download table is
 * the rows with portal = 1, in this order: iis, cpanel, apache, amazon, nginx,
 * nodejs, tomcat, other ("Other platforms": a ZIP with 1 root, 1 intermediate, 1
 * server certificate), ca-bundle ("CA bundle (intermediate certs)": one file with
 * the intermediate and root certificates, NOT the server certificate); then pem, der
 * and the DigiCert names (portal = 0). */
const so_bundle_format_t *so_bundle_formats(void);

/* The format row for a name or alias (case-insensitive), or NULL. */
const so_bundle_format_t *so_bundle_format_find(const char *name);

/* The server software ids the portal offers, terminated by a row with id NULL:
 *   linux   -> other      (every certificate as its own file: fits any Linux server)
 *   windows -> iis        (.p7b, what the Windows certificate import takes)
 *   apache  -> apache     nginx  -> nginx     iis    -> iis
 *   tomcat  -> tomcat     nodejs -> nodejs    cpanel -> cpanel
 *   amazon  -> amazon     other  -> other
 */
const so_bundle_software_t *so_bundle_software_list(void);

/* The canonical format name for a server software id (case-insensitive, see
 * so_bundle_software_list); "other" for NULL, "" or an id not in the list. */
const char *so_bundle_default_for_software(const char *software);

/* <cn> of the file names: "*.example.com" -> "STAR_example_com" (see above). */
const char *so_bundle_cn_filename(apr_pool_t *p, const char *common_name);

/* Build the bundle of format (a name or alias; NULL or "" means "other").
 * Returns APR_SUCCESS with *out set; APR_ENOENT for an unknown format and
 * APR_EINVAL for unusable certificates (no or several server certificates, a chain
 * out of order, too many intermediates), both with *why a plain-language reason for
 * the caller; APR_EGENERAL when OpenSSL or libzip fail (logged). */
apr_status_t so_bundle_build(so_bundle_t **out, apr_pool_t *p, const so_bundle_input_t *in,
                             const char *format, const char **why);

#endif
