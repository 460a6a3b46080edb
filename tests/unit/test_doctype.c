/* Validation document types from the content: small real samples made here (PNG and
 * JPEG bytes that Chromium decodes, TIFF and OLE files written field by field, ZIP,
 * DOCX and ODT built with libzip), their truncated and damaged versions, and the
 * file name helpers. */
#include <string.h>

#include <apr_strings.h>
#include <zip.h>

#include "test_common.h"
#include "../../src/core/so_doctype.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* 1x1 8-bit grey PNG */
static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* 8x8 grey baseline JPEG (JFIF, one DC and one AC code) */
static const unsigned char jpg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff,
    0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00,
    0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9};

/* 1x1 GIF89a, two global colours */
static const unsigned char gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01,
                                    0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
                                    0xff, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
                                    0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static const char pdf[] = "%PDF-1.4\n"
                          "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                          "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                          "trailer<</Root 1 0 R>>\n"
                          "%%EOF\n";

static void put16(unsigned char *b, unsigned v, int le)
{
    b[le ? 0 : 1] = (unsigned char)(v & 0xff);
    b[le ? 1 : 0] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *b, apr_uint32_t v, int le)
{
    int i;
    for (i = 0; i < 4; i++) {
        b[le ? i : 3 - i] = (unsigned char)(v >> (8 * i));
    }
}

/* a 1x1 8-bit grey uncompressed TIFF, little or big endian: 8 + 2 + 8*12 + 4 + 1 bytes */
static apr_size_t make_tif(unsigned char *b, int le)
{
    static const unsigned tags[8][3] = {{256, 3, 1}, {257, 3, 1}, {258, 3, 8}, {259, 3, 1},
                                        {262, 3, 1}, {273, 4, 0}, {278, 3, 1}, {279, 4, 1}};
    apr_size_t n = 0;
    int i;

    memcpy(b, le ? "II*\0" : "MM\0*", 4);
    put32(b + 4, 8, le);
    put16(b + 8, 8, le);
    n = 10;
    for (i = 0; i < 8; i++, n += 12) {
        apr_uint32_t v = tags[i][0] == 273 ? 10 + 8 * 12 + 4 : tags[i][2];
        memset(b + n, 0, 12);
        put16(b + n, tags[i][0], le);
        put16(b + n + 2, tags[i][1], le);
        put32(b + n + 4, 1, le);
        if (tags[i][1] == 3) {
            put16(b + n + 8, (unsigned)v, le);
        }
        else {
            put32(b + n + 8, v, le);
        }
    }
    put32(b + n, 0, le);
    n += 4;
    b[n++] = 0x80; /* the pixel */
    return n;
}

/* an empty OLE compound file, version 3: header, one FAT sector, one directory sector */
static apr_size_t make_ole(unsigned char *b)
{
    static const char root[] = "Root Entry";
    int i;

    memset(b, 0, 1536);
    memcpy(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
    put16(b + 24, 0x3e, 1);
    put16(b + 26, 3, 1);
    put16(b + 28, 0xfffe, 1);
    put16(b + 30, 9, 1);
    put16(b + 32, 6, 1);
    put32(b + 44, 1, 1);           /* FAT sectors */
    put32(b + 48, 1, 1);           /* first directory sector */
    put32(b + 56, 4096, 1);        /* mini stream cutoff */
    put32(b + 60, 0xfffffffe, 1);  /* no mini FAT */
    put32(b + 68, 0xfffffffe, 1);  /* no DIFAT sectors */
    for (i = 0; i < 109; i++) {
        put32(b + 76 + 4 * i, i == 0 ? 0 : 0xffffffff, 1);
    }
    for (i = 0; i < 128; i++) { /* FAT: sector 0 is FAT, 1 is the directory (end) */
        put32(b + 512 + 4 * i, i == 0 ? 0xfffffffd : i == 1 ? 0xfffffffe : 0xffffffff, 1);
    }
    for (i = 0; i < 4; i++) { /* directory: the root entry and three unused ones */
        unsigned char *e = b + 1024 + 128 * i;
        put32(e + 68, 0xffffffff, 1);
        put32(e + 72, 0xffffffff, 1);
        put32(e + 76, 0xffffffff, 1);
    }
    for (i = 0; root[i]; i++) {
        b[1024 + 2 * i] = (unsigned char)root[i];
    }
    put16(b + 1024 + 64, (unsigned)(sizeof(root) * 2), 1);
    b[1024 + 66] = 5; /* root storage */
    b[1024 + 67] = 1; /* black */
    put32(b + 1024 + 116, 0xfffffffe, 1);
    return 1536;
}

/* a ZIP made with libzip from name/content pairs (NULL-terminated); stored when
 * store is set for the first entry (ODF wants "mimetype" uncompressed) */
static const char *make_zip(apr_size_t *len, const char *const *entries, int store_first)
{
    zip_error_t ze;
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    zip_stat_t st;
    char *buf;
    int i;

    ck_assert_ptr_nonnull(za);
    zip_source_keep(src);
    for (i = 0; entries[i]; i += 2) {
        zip_source_t *fs = zip_source_buffer(za, entries[i + 1], strlen(entries[i + 1]), 0);
        zip_int64_t idx = zip_file_add(za, entries[i], fs, 0);
        ck_assert_int_ge(idx, 0);
        if (i == 0 && store_first) {
            ck_assert_int_eq(zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
        }
    }
    ck_assert_int_eq(zip_close(za), 0);
    zip_stat_init(&st);
    ck_assert_int_eq(zip_source_stat(src, &st), 0);
    ck_assert_int_eq(zip_source_open(src), 0);
    buf = apr_palloc(pool, (apr_size_t)st.size);
    ck_assert_int_eq(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    *len = (apr_size_t)st.size;
    return buf;
}

static const char *detect(const void *d, apr_size_t len)
{
    const so_doctype_t *t = NULL;
    const char *why = NULL;
    apr_status_t rv = so_doctype_detect(&t, d, len, &why);

    if (rv != APR_SUCCESS) {
        ck_assert_int_eq(rv, APR_EINVAL);
        ck_assert_ptr_nonnull(why);
        return apr_pstrcat(pool, "error: ", why, NULL);
    }
    ck_assert_ptr_null(why);
    ck_assert_ptr_eq(t, so_doctype_by_name(t->name));
    return t->name;
}

START_TEST(images_and_pdf)
{
    unsigned char tif[256];
    apr_size_t n;
    const so_doctype_t *t;
    const char *why;

    ck_assert_str_eq(detect(pdf, strlen(pdf)), "pdf");
    ck_assert_str_eq(detect(png, sizeof(png)), "png");
    ck_assert_str_eq(detect(jpg, sizeof(jpg)), "jpg");
    ck_assert_str_eq(detect(gif, sizeof(gif)), "gif");
    n = make_tif(tif, 1);
    ck_assert_str_eq(detect(tif, n), "tif");
    n = make_tif(tif, 0);
    ck_assert_str_eq(detect(tif, n), "tif");

    ck_assert_int_eq(so_doctype_detect(&t, jpg, sizeof(jpg), &why), APR_SUCCESS);
    ck_assert_str_eq(t->mime, "image/jpeg");
    ck_assert_str_eq(t->ext, "jpg");
    ck_assert_int_eq(t->id, SO_DOC_JPG);

    /* truncated: header only, cut short */
    ck_assert_str_eq(detect(pdf, strlen(pdf) - 7), "error: the PDF document is truncated or damaged");
    ck_assert_str_eq(detect("%PDF-", 5), "error: the PDF document is truncated or damaged");
    ck_assert_str_eq(detect(png, 8), "error: the PNG image is truncated or damaged");
    ck_assert_str_eq(detect(png, 33), "error: the PNG image is truncated or damaged");
    ck_assert_str_eq(detect(png, sizeof(png) - 1), "error: the PNG image is truncated or damaged");
    ck_assert_str_eq(detect(jpg, 20), "error: the JPEG image is truncated or damaged");
    ck_assert_str_eq(detect(jpg, sizeof(jpg) - 2), "error: the JPEG image is truncated or damaged");
    ck_assert_str_eq(detect(gif, 13), "error: the GIF image is truncated or damaged");
    ck_assert_str_eq(detect(gif, sizeof(gif) - 1), "error: the GIF image is truncated or damaged");
    n = make_tif(tif, 1);
    ck_assert_str_eq(detect(tif, n - 1), "error: the TIFF image is truncated or damaged");
    ck_assert_str_eq(detect(tif, 8), "error: the TIFF image is truncated or damaged");
    put32(tif + 4, 200, 1); /* the IFD beyond the end */
    ck_assert_str_eq(detect(tif, n), "error: the TIFF image is truncated or damaged");
    {
        /* a PNG whose first chunk is not IHDR, one without IDAT */
        unsigned char bad[sizeof(png)];
        memcpy(bad, png, sizeof(png));
        memcpy(bad + 12, "tEXt", 4);
        ck_assert_str_eq(detect(bad, sizeof(bad)), "error: the PNG image is truncated or damaged");
        memcpy(bad, png, sizeof(png));
        memcpy(bad + 37, "tEXt", 4);
        ck_assert_str_eq(detect(bad, sizeof(bad)), "error: the PNG image is truncated or damaged");
    }
}
END_TEST

START_TEST(office_and_zip)
{
    static unsigned char ole[1536];
    static const char *const plain[] = {"a.txt", "hello", NULL};
    static const char *const docx[] = {
        "[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>", "_rels/.rels", "<Relationships/>",
        "word/document.xml", "<w:document/>", NULL};
    static const char *const odt[] = {"mimetype", "application/vnd.oasis.opendocument.text",
                                      "content.xml", "<office:document-content/>",
                                      "META-INF/manifest.xml", "<manifest:manifest/>", NULL};
    static const char *const ods[] = {"mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                                      "content.xml", "<office:document-content/>", NULL};
    static const char *const odt_late[] = {"content.xml", "<x/>", "mimetype",
                                           "application/vnd.oasis.opendocument.text", NULL};
    static const char *const half_docx[] = {"word/document.xml", "<w:document/>", NULL};
    static const char empty_zip[22] = "PK\5\6";
    const char *z;
    apr_size_t n, len;
    const so_doctype_t *t;
    const char *why;

    n = make_ole(ole);
    ck_assert_str_eq(detect(ole, n), "doc");
    ck_assert_str_eq(detect(ole, 1024), "error: the Word document is truncated or damaged");
    ck_assert_str_eq(detect(ole, 512), "error: the Word document is truncated or damaged");
    ck_assert_str_eq(detect(ole, 100), "error: the Word document is truncated or damaged");

    z = make_zip(&len, plain, 0);
    ck_assert_str_eq(detect(z, len), "zip");
    ck_assert_str_eq(detect(z, len - 10), "error: the ZIP file is truncated or damaged");
    ck_assert_str_eq(detect(z, 30), "error: the ZIP file is truncated or damaged");
    ck_assert_str_eq(detect("PK\3\4", 4), "error: the ZIP file is truncated or damaged");
    ck_assert_str_eq(detect(empty_zip, sizeof(empty_zip)), "error: the ZIP file is empty");

    z = make_zip(&len, docx, 0);
    ck_assert_str_eq(detect(z, len), "docx");
    ck_assert_int_eq(so_doctype_detect(&t, z, len, &why), APR_SUCCESS);
    ck_assert_str_eq(t->mime,
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    ck_assert_str_eq(detect(z, len / 2), "error: the ZIP file is truncated or damaged");
    z = make_zip(&len, half_docx, 0);
    ck_assert_str_eq(detect(z, len), "zip");

    z = make_zip(&len, odt, 1);
    ck_assert_str_eq(detect(z, len), "odt");
    ck_assert_int_eq(so_doctype_detect(&t, z, len, &why), APR_SUCCESS);
    ck_assert_str_eq(t->mime, "application/vnd.oasis.opendocument.text");
    z = make_zip(&len, ods, 1); /* a spreadsheet is not a text document */
    ck_assert_str_eq(detect(z, len), "zip");
    z = make_zip(&len, odt_late, 1); /* mimetype must come first */
    ck_assert_str_eq(detect(z, len), "zip");
}
END_TEST

START_TEST(text_and_unknown)
{
    const so_doctype_t *t;
    const char *why;

    ck_assert_str_eq(detect("hello\r\n\tworld\n", 14), "txt");
    ck_assert_str_eq(detect("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", 15), "txt");
    ck_assert_str_eq(detect("\xef\xbb\xbf" "BOM first", 12), "txt");
    ck_assert_int_eq(so_doctype_detect(&t, "x", 1, &why), APR_SUCCESS);
    ck_assert_str_eq(t->mime, "text/plain; charset=utf-8");

    ck_assert_str_eq(detect("", 0), "error: the file is empty");
    ck_assert_str_eq(detect(NULL, 5), "error: the file is empty");
    ck_assert_ptr_nonnull(strstr(detect("nul\0byte", 8), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("esc\x1b[31m", 8), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("del\x7f", 4), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("c1\xc2\x85", 4), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("latin1 caf\xe9", 11), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("cut \xe2\x9c", 6), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect(" \r\n\t ", 5), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("\xef\xbb\xbf", 3), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("\x7f" "ELF\x02\x01\x01", 7), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("MZ\x90\x00\x03", 5), "not accepted"));
    ck_assert_ptr_nonnull(strstr(detect("\x1f\x8b\x08\x00", 4), "not accepted"));
}
END_TEST

START_TEST(file_names)
{
    const so_doctype_t *pdf_t = so_doctype_by_name("pdf"), *jpg_t = so_doctype_by_name("JPG");
    const so_doctype_t *tif_t = so_doctype_by_name("tif");
    char longname[400];

    ck_assert_ptr_nonnull(pdf_t);
    ck_assert_ptr_nonnull(jpg_t);
    ck_assert_ptr_null(so_doctype_by_name("exe"));
    ck_assert_str_eq(so_doctype_filename(pool, "Scan 2024.pdf", pdf_t), "Scan 2024.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "SCAN.PDF", pdf_t), "SCAN.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "photo.JPEG", jpg_t), "photo.jpg");
    ck_assert_str_eq(so_doctype_filename(pool, "scan.tiff", tif_t), "scan.tif");
    ck_assert_str_eq(so_doctype_filename(pool, "evil.exe", pdf_t), "evil.exe.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "photo.png", jpg_t), "photo.png.jpg");
    ck_assert_str_eq(so_doctype_filename(pool, "../../etc/passwd", pdf_t), "passwd.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "C:\\Users\\me\\Desktop\\id card.pdf", pdf_t),
                     "id card.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, ".htaccess", pdf_t), "htaccess.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "..", pdf_t), "document.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "", pdf_t), "document.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, NULL, pdf_t), "document.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "a\r\nContent-Type: x\".pdf", pdf_t),
                     "a Content-Type_ x_.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "in\x01voice\x7f.pdf", pdf_t), "in voice.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "bad\xff.pdf", pdf_t), "bad\xef\xbf\xbd.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "x<y>z|w?*;,.pdf", pdf_t), "x_y_z_w____.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "invoice\xe2\x80\xae" "fdp.exe", pdf_t),
                     "invoice fdp.exe.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "CON.pdf", pdf_t), "_CON.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "com1", pdf_t), "_com1.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "console.pdf", pdf_t), "console.pdf");
    ck_assert_str_eq(so_doctype_filename(pool, "R\xc3\xa9sum\xc3\xa9.pdf", pdf_t),
                     "R\xc3\xa9sum\xc3\xa9.pdf");
    memset(longname, 'a', sizeof(longname) - 5);
    memcpy(longname + sizeof(longname) - 5, ".pdf", 5);
    {
        const char *n = so_doctype_filename(pool, longname, pdf_t);
        ck_assert_uint_le(strlen(n), 104);
        ck_assert(!strncmp(n, "aaaaaaaa", 8));
        ck_assert_str_eq(n + strlen(n) - 4, ".pdf");
    }

    ck_assert_str_eq(so_doctype_content_disposition(pool, "attachment", "R\xc3\xa9sum\xc3\xa9 1.pdf"),
                     "attachment; filename=\"R__sum__ 1.pdf\"; "
                     "filename*=UTF-8''R%C3%A9sum%C3%A9%201.pdf");
    ck_assert_str_eq(so_doctype_content_disposition(pool, "inline", "a\"b\\c%.txt"),
                     "inline; filename=\"a_b_c%.txt\"; filename*=UTF-8''a%22b%5Cc%25.txt");
    ck_assert_str_eq(so_doctype_content_disposition(pool, "attachment", NULL), "attachment");
}
END_TEST

TCase *so_test_doctype_case(void)
{
    TCase *tc = tcase_create("doctype");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, images_and_pdf);
    tcase_add_test(tc, office_and_zip);
    tcase_add_test(tc, text_and_unknown);
    tcase_add_test(tc, file_names);
    return tc;
}
