/* mod_sslorders: validation document types, detected from the content (no httpd types).
 *
 * An uploaded document's type comes from its bytes, never from the client's file
 * name or Content-Type. Accepted types and what is checked beyond the signature, so
 * that empty, truncated and damaged files are refused:
 *
 *   pdf   %PDF-1.x / %PDF-2.x, and "%%EOF" within the last 1024 bytes
 *   png   signature, IHDR first, a well-formed chunk sequence up to IEND, some IDAT
 *   jpg   SOI, well-formed marker segments up to a scan (SOS), EOI after the scan
 *   gif   GIF87a/GIF89a, well-formed blocks with at least one image, the trailer
 *   tif   II*\0 or MM\0*, the first IFD and (single strip) the image data in the file
 *   doc   an OLE compound file (D0 CF 11 E0 A1 B1 1A E1; legacy Word and other Office
 *         97-2003 files) with a sane header and its FAT and directory sectors present
 *   docx  a ZIP holding [Content_Types].xml and word/document.xml
 *   odt   a ZIP whose first entry "mimetype" holds application/vnd.oasis.opendocument.text
 *         and which holds content.xml
 *   zip   any other ZIP with at least one entry (ZIPs are opened with libzip,
 *         consistency checks on; only the small "mimetype" entry is ever read)
 *   txt   valid UTF-8 text that is not all white space, without NUL or other control
 *         characters except tab, CR and LF (a UTF-8 BOM is allowed)
 *
 * The caller bounds the size (an upload limit); detection reads at most the whole
 * buffer once and does not decompress anything but ODF's "mimetype".
 */
#ifndef SO_DOCTYPE_H
#define SO_DOCTYPE_H

#include <apr_pools.h>

typedef enum {
    SO_DOC_PDF = 1,
    SO_DOC_PNG,
    SO_DOC_JPG,
    SO_DOC_GIF,
    SO_DOC_TIF,
    SO_DOC_ZIP,
    SO_DOC_DOC,
    SO_DOC_DOCX,
    SO_DOC_ODT,
    SO_DOC_TXT
} so_doctype_id_t;

typedef struct {
    so_doctype_id_t id;
    const char *name; /* "pdf", "png", ... (also the canonical extension) */
    const char *mime; /* "application/pdf", "text/plain; charset=utf-8", ... */
    const char *ext;  /* "pdf", "jpg", "tif", ... */
    const char *label;/* "PDF document", ... */
} so_doctype_t;

/* Every accepted type, terminated by a row with name NULL. */
const so_doctype_t *so_doctype_list(void);
/* The type called name ("pdf", ...; case-insensitive), or NULL. */
const so_doctype_t *so_doctype_by_name(const char *name);

/* The type of the content. APR_SUCCESS with *out; APR_EINVAL with *why a plain
 * reason ("the file is empty", "the PNG image is truncated or damaged", "the file
 * type is not accepted: ...") for everything else. */
apr_status_t so_doctype_detect(const so_doctype_t **out, const void *data, apr_size_t len,
                               const char **why);

/* A safe file name for storage and Content-Disposition from a client's file name and
 * the detected type: the path is stripped (after the last / or \), invalid UTF-8,
 * control and bidi characters, " * / : < > ? \ | ; and , are replaced, leading and
 * trailing dots and spaces go, Windows device names (CON, NUL, COM1, ...) get a "_"
 * prefix, the name is cut to 100 characters and always ends in the type's canonical
 * extension: a matching extension (e.g. .jpeg for jpg, any case) is replaced by it,
 * any other one is kept and the canonical one appended ("scan.exe" -> "scan.exe.pdf").
 * NULL or nothing left gives "document.<ext>"; type NULL counts as txt. */
const char *so_doctype_filename(apr_pool_t *p, const char *client_name, const so_doctype_t *type);

/* A Content-Disposition value: disposition ("attachment" or "inline") with an
 * ASCII-only filename="..." fallback and the exact name as RFC 5987 filename*. */
const char *so_doctype_content_disposition(apr_pool_t *p, const char *disposition,
                                           const char *filename);

#endif
