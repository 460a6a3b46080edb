#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <zip.h>

#include "so_doctype.h"
#include "so_text.h"

#define MAX_NAME_CHARS 100

static const so_doctype_t types[] = {
    {SO_DOC_PDF, "pdf", "application/pdf", "pdf", "PDF document"},
    {SO_DOC_PNG, "png", "image/png", "png", "PNG image"},
    {SO_DOC_JPG, "jpg", "image/jpeg", "jpg", "JPEG image"},
    {SO_DOC_GIF, "gif", "image/gif", "gif", "GIF image"},
    {SO_DOC_TIF, "tif", "image/tiff", "tif", "TIFF image"},
    {SO_DOC_ZIP, "zip", "application/zip", "zip", "ZIP archive"},
    {SO_DOC_DOC, "doc", "application/msword", "doc", "Word 97-2003 document"},
    {SO_DOC_DOCX, "docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
     "Word document"},
    {SO_DOC_ODT, "odt", "application/vnd.oasis.opendocument.text", "odt",
     "OpenDocument text"},
    {SO_DOC_TXT, "txt", "text/plain; charset=utf-8", "txt", "Plain text"},
    {0, NULL, NULL, NULL, NULL}};

/* other extensions that name the same type */
static const struct {
    so_doctype_id_t id;
    const char *ext;
} ext_aliases[] = {{SO_DOC_JPG, "jpeg"}, {SO_DOC_JPG, "jpe"}, {SO_DOC_JPG, "jfif"},
                   {SO_DOC_TIF, "tiff"}, {SO_DOC_TXT, "text"}, {0, NULL}};

static const char *not_accepted =
    "the file type is not accepted: use PDF, PNG, JPEG, GIF, TIFF, ZIP, DOC, DOCX, ODT or "
    "plain text (UTF-8)";

const so_doctype_t *so_doctype_list(void)
{
    return types;
}

static const so_doctype_t *by_id(so_doctype_id_t id)
{
    return &types[id - 1];
}

const so_doctype_t *so_doctype_by_name(const char *name)
{
    int i;

    for (i = 0; name && types[i].name; i++) {
        if (!strcasecmp(name, types[i].name)) {
            return &types[i];
        }
    }
    return NULL;
}

/* ---- byte readers ------------------------------------------------------------------ */

static apr_uint32_t be32(const unsigned char *b)
{
    return (apr_uint32_t)b[0] << 24 | (apr_uint32_t)b[1] << 16 | (apr_uint32_t)b[2] << 8 | b[3];
}

static apr_uint32_t le32(const unsigned char *b)
{
    return (apr_uint32_t)b[3] << 24 | (apr_uint32_t)b[2] << 16 | (apr_uint32_t)b[1] << 8 | b[0];
}

static unsigned be16(const unsigned char *b)
{
    return (unsigned)b[0] << 8 | b[1];
}

static unsigned le16(const unsigned char *b)
{
    return (unsigned)b[1] << 8 | b[0];
}

/* ---- formats ------------------------------------------------------------------------ */

static int is_pdf(const unsigned char *d, apr_size_t len)
{
    apr_size_t from = len > 1024 ? len - 1024 : 0, i;

    if (len < 8 || memcmp(d, "%PDF-", 5) || (d[5] != '1' && d[5] != '2') || d[6] != '.') {
        return 0;
    }
    for (i = len - 5; i + 1 > from && i >= 7; i--) {
        if (!memcmp(d + i, "%%EOF", 5)) {
            return 1;
        }
    }
    return 0;
}

static int is_png(const unsigned char *d, apr_size_t len)
{
    apr_size_t off = 8;
    int idat = 0, first = 1;

    while (off + 12 <= len) {
        apr_uint32_t n = be32(d + off);
        const unsigned char *type = d + off + 4;
        int k;
        if (n > 0x7fffffffu || n > len - off - 12) {
            return 0;
        }
        for (k = 0; k < 4; k++) {
            if (!apr_isalpha(type[k])) {
                return 0;
            }
        }
        if (first && (memcmp(type, "IHDR", 4) || n != 13 || !be32(d + off + 8)
                      || !be32(d + off + 12))) {
            return 0;
        }
        first = 0;
        idat |= !memcmp(type, "IDAT", 4);
        if (!memcmp(type, "IEND", 4)) {
            return idat && n == 0;
        }
        off += 12 + n;
    }
    return 0;
}

static int is_jpg(const unsigned char *d, apr_size_t len)
{
    apr_size_t off = 2, i;

    while (off + 4 <= len) {
        unsigned m;
        if (d[off] != 0xff) {
            return 0;
        }
        while (off < len && d[off] == 0xff) { /* fill bytes */
            off++;
        }
        if (off >= len) {
            return 0;
        }
        m = d[off++];
        if (m == 0xd8 || m == 0xd9 || m == 0x00) {
            return 0; /* a second SOI, EOI before any scan, or garbage */
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
            continue;
        }
        if (off + 2 > len || be16(d + off) < 2 || be16(d + off) > len - off) {
            return 0;
        }
        if (m == 0xda) {
            /* the scan: EOI must follow it (0xFF 0xD9 cannot occur in coded data) */
            off += be16(d + off);
            for (i = len - 2; i >= off; i--) {
                if (d[i] == 0xff && d[i + 1] == 0xd9) {
                    return 1;
                }
            }
            return 0;
        }
        off += be16(d + off);
    }
    return 0;
}

/* a chain of GIF data sub-blocks from *off up to and including the terminator */
static int gif_blocks(const unsigned char *d, apr_size_t len, apr_size_t *off)
{
    while (*off < len) {
        apr_size_t n = d[(*off)++];
        if (n == 0) {
            return 1;
        }
        if (n > len - *off) {
            return 0;
        }
        *off += n;
    }
    return 0;
}

static int is_gif(const unsigned char *d, apr_size_t len)
{
    apr_size_t off = 13;
    int images = 0;

    if (len < 14) {
        return 0;
    }
    if (d[10] & 0x80) { /* global color table */
        off += (apr_size_t)3 << ((d[10] & 7) + 1);
    }
    while (off < len) {
        unsigned char b = d[off++];
        if (b == 0x3b) {
            return images > 0;
        }
        if (b == 0x21) { /* extension: label, blocks */
            if (off >= len) {
                return 0;
            }
            off++;
            if (!gif_blocks(d, len, &off)) {
                return 0;
            }
        }
        else if (b == 0x2c) { /* image: descriptor, local colors, LZW size, blocks */
            unsigned char flags;
            if (len - off < 10) {
                return 0;
            }
            flags = d[off + 8];
            off += 9;
            if (flags & 0x80) {
                off += (apr_size_t)3 << ((flags & 7) + 1);
            }
            off++; /* LZW minimum code size */
            if (off > len || !gif_blocks(d, len, &off)) {
                return 0;
            }
            images++;
        }
        else {
            return 0;
        }
    }
    return 0;
}

static int is_tif(const unsigned char *d, apr_size_t len)
{
    int le = d[0] == 'I';
    apr_uint32_t ifd, strip_off = 0, strip_len = 0;
    unsigned n, i;
    int have_off = 0, have_len = 0;

    if (len < 8) {
        return 0;
    }
    ifd = le ? le32(d + 4) : be32(d + 4);
    if (ifd < 8 || ifd > len - 2) {
        return 0;
    }
    n = le ? le16(d + ifd) : be16(d + ifd);
    if (n == 0 || (apr_size_t)n * 12 + 6 > len - ifd) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        const unsigned char *e = d + ifd + 2 + (apr_size_t)i * 12;
        unsigned tag = le ? le16(e) : be16(e), type = le ? le16(e + 2) : be16(e + 2);
        apr_uint32_t count = le ? le32(e + 4) : be32(e + 4);
        apr_uint32_t v;
        if (count != 1 || (type != 3 && type != 4)) {
            continue;
        }
        /* SHORT values sit in the first two bytes of the value field */
        v = type == 3 ? (le ? le16(e + 8) : be16(e + 8)) : (le ? le32(e + 8) : be32(e + 8));
        if (tag == 273) {
            strip_off = v;
            have_off = 1;
        }
        else if (tag == 279) {
            strip_len = v;
            have_len = 1;
        }
    }
    if (have_off && have_len && (strip_off > len || strip_len > len - strip_off)) {
        return 0;
    }
    return 1;
}

static int is_ole(const unsigned char *d, apr_size_t len)
{
    unsigned major, shift;
    apr_uint32_t sector, dir, fat0;

    if (len < 512) {
        return 0;
    }
    major = le16(d + 26);
    shift = le16(d + 30);
    if (le16(d + 28) != 0xfffe || !((major == 3 && shift == 9) || (major == 4 && shift == 12))
        || le16(d + 32) != 6 || le32(d + 44) == 0) {
        return 0;
    }
    sector = (apr_uint32_t)1 << shift;
    dir = le32(d + 48);
    fat0 = le32(d + 76);
    /* sector n starts at (n + 1) * sector size; the first FAT and directory sectors */
    if (dir >= 0xfffffffau || fat0 >= 0xfffffffau) {
        return 0;
    }
    if (((apr_uint64_t)dir + 2) * sector > len || ((apr_uint64_t)fat0 + 2) * sector > len) {
        return 0;
    }
    return 1;
}

static const char *zip_type(const unsigned char *d, apr_size_t len, so_doctype_id_t *id)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za = NULL;
    zip_file_t *zf;
    zip_int64_t n;
    const char *why = NULL;
    static const char odt_mime[] = "application/vnd.oasis.opendocument.text";
    char buf[sizeof(odt_mime) + 8];

    zip_error_init(&ze);
    if (!(src = zip_source_buffer_create(d, len, 0, &ze))) {
        why = "the ZIP file cannot be read";
        goto leave;
    }
    if (!(za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze))) {
        zip_source_free(src);
        why = "the ZIP file is truncated or damaged";
        goto leave;
    }
    if ((n = zip_get_num_entries(za, 0)) <= 0) {
        why = "the ZIP file is empty";
        goto leave;
    }
    *id = SO_DOC_ZIP;
    if (zip_name_locate(za, "[Content_Types].xml", 0) >= 0
        && zip_name_locate(za, "word/document.xml", 0) >= 0) {
        *id = SO_DOC_DOCX;
    }
    else if (zip_name_locate(za, "mimetype", 0) == 0 && zip_name_locate(za, "content.xml", 0) > 0
             && (zf = zip_fopen_index(za, 0, 0))) {
        zip_int64_t got = zip_fread(zf, buf, sizeof(buf));
        zip_fclose(zf);
        if (got == (zip_int64_t)(sizeof(odt_mime) - 1) && !memcmp(buf, odt_mime, (size_t)got)) {
            *id = SO_DOC_ODT;
        }
    }
leave:
    if (za) {
        zip_discard(za);
    }
    zip_error_fini(&ze);
    return why;
}

static int is_txt(const unsigned char *d, apr_size_t len)
{
    apr_size_t i = 0;
    int ink = 0;

    while (i < len) {
        long cp = so_text_utf8_next((const char *)d, len, &i);
        if (cp < 0) {
            return 0;
        }
        if (cp == '\t' || cp == '\r' || cp == '\n' || cp == ' ') {
            continue;
        }
        if (so_text_is_control(cp) && !(cp >= 0x2028 && cp <= 0x2069)) {
            return 0; /* C0, DEL, C1 (bidi marks are text) */
        }
        ink |= cp != 0xfeff;
    }
    return ink;
}

apr_status_t so_doctype_detect(const so_doctype_t **out, const void *data, apr_size_t len,
                               const char **why)
{
    const unsigned char *d = data;
    so_doctype_id_t id = 0;
    const char *bad = NULL;

    *why = NULL;
    if (!d || len == 0) {
        *why = "the file is empty";
        return APR_EINVAL;
    }
    if (len >= 5 && !memcmp(d, "%PDF-", 5)) {
        id = SO_DOC_PDF;
        bad = is_pdf(d, len) ? NULL : "the PDF document is truncated or damaged";
    }
    else if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
        id = SO_DOC_PNG;
        bad = is_png(d, len) ? NULL : "the PNG image is truncated or damaged";
    }
    else if (len >= 3 && !memcmp(d, "\xff\xd8\xff", 3)) {
        id = SO_DOC_JPG;
        bad = is_jpg(d, len) ? NULL : "the JPEG image is truncated or damaged";
    }
    else if (len >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) {
        id = SO_DOC_GIF;
        bad = is_gif(d, len) ? NULL : "the GIF image is truncated or damaged";
    }
    else if (len >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4))) {
        id = SO_DOC_TIF;
        bad = is_tif(d, len) ? NULL : "the TIFF image is truncated or damaged";
    }
    else if (len >= 8 && !memcmp(d, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8)) {
        id = SO_DOC_DOC;
        bad = is_ole(d, len) ? NULL : "the Word document is truncated or damaged";
    }
    else if (len >= 4 && (!memcmp(d, "PK\3\4", 4) || !memcmp(d, "PK\5\6", 4))) {
        bad = zip_type(d, len, &id);
    }
    else if (is_txt(d, len)) {
        id = SO_DOC_TXT;
    }
    else {
        bad = not_accepted;
    }
    if (bad) {
        *why = bad;
        return APR_EINVAL;
    }
    *out = by_id(id);
    return APR_SUCCESS;
}

/* ---- names ---------------------------------------------------------------------- */

static int ext_matches(const char *ext, const so_doctype_t *t)
{
    int i;

    if (!strcasecmp(ext, t->ext)) {
        return 1;
    }
    for (i = 0; ext_aliases[i].ext; i++) {
        if (ext_aliases[i].id == t->id && !strcasecmp(ext, ext_aliases[i].ext)) {
            return 1;
        }
    }
    return 0;
}

static char *trim_dots_spaces(char *s)
{
    apr_size_t n;

    while (*s == '.' || *s == ' ') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && (s[n - 1] == '.' || s[n - 1] == ' ')) {
        s[--n] = '\0';
    }
    return s;
}

static int is_device_name(const char *base)
{
    static const char *const dev[] = {"con", "prn", "aux", "nul", NULL};
    apr_size_t n = strcspn(base, ".");
    int i;

    for (i = 0; dev[i]; i++) {
        if (n == 3 && !strncasecmp(base, dev[i], 3)) {
            return 1;
        }
    }
    return n == 4 && (!strncasecmp(base, "com", 3) || !strncasecmp(base, "lpt", 3))
           && base[3] >= '1' && base[3] <= '9';
}

const char *so_doctype_filename(apr_pool_t *p, const char *client_name, const so_doctype_t *type)
{
    const char *s, *slash;
    char *name, *c, *dot;

    if (!type) {
        type = by_id(SO_DOC_TXT);
    }
    s = client_name ? client_name : "";
    for (slash = s; *slash; slash++) {
        if (*slash == '/' || *slash == '\\') {
            s = slash + 1;
        }
    }
    /* valid UTF-8, no control or bidi characters, white space collapsed */
    name = apr_pstrdup(p, so_text_clean(p, s, 0));
    for (c = name; *c; c++) {
        if (strchr("\"*/:<>?\\|;,", *c)) {
            *c = '_';
        }
    }
    name = trim_dots_spaces(name);
    if ((dot = strrchr(name, '.')) && ext_matches(dot + 1, type)) {
        *dot = '\0';
    }
    name = apr_pstrdup(p, so_text_clean(p, name, MAX_NAME_CHARS));
    /* a cut name ends in "...": the dots go too */
    name = trim_dots_spaces(name);
    if (!*name) {
        name = "document";
    }
    else if (is_device_name(name)) {
        name = apr_pstrcat(p, "_", name, NULL);
    }
    return apr_pstrcat(p, name, ".", type->ext, NULL);
}

const char *so_doctype_content_disposition(apr_pool_t *p, const char *disposition,
                                           const char *filename)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *c;
    char *ascii, *pct, *a, *o;

    if (!filename || !*filename) {
        return disposition;
    }
    a = ascii = apr_palloc(p, strlen(filename) + 1);
    o = pct = apr_palloc(p, strlen(filename) * 3 + 1);
    for (c = (const unsigned char *)filename; *c; c++) {
        *a++ = (*c < 0x20 || *c >= 0x7f || *c == '"' || *c == '\\') ? '_' : (char)*c;
        if (apr_isalnum(*c) || strchr("!#$&+-.^_`|~", *c)) {
            *o++ = (char)*c;
        }
        else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *a = *o = '\0';
    return apr_psprintf(p, "%s; filename=\"%s\"; filename*=UTF-8''%s", disposition, ascii, pct);
}
