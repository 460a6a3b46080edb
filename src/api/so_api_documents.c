/* mod_sslorders: validation documents of an order.
 *   POST   /ssl/orders/{id}/documents          multipart/form-data upload (part "file")
 *   GET    /ssl/orders/{id}/documents          list
 *   GET    /ssl/orders/{id}/documents/{doc}    the bytes
 *   PUT    /ssl/orders/{id}/documents/{doc}    {published}: show an accepted one on the seal
 *   DELETE /ssl/orders/{id}/documents/{doc}    while pending
 *   GET    /staff/documents                    ?status=pending|accepted|rejected
 *   GET    /staff/documents/{doc}              the bytes
 *   POST   /staff/documents/{doc}              {decision: accept|reject, reason}
 * The type comes from the content (so_doctype), never from the client's word; a client
 * that names another accepted type than the content is refused (mislabelled). */
#include <string.h>

#include <apr_strings.h>

#include "so_api.h"
#include "so_api_ssl.h"
#include "so_api_seal.h"
#include "../core/so_doctype.h"
#include "../core/so_multipart.h"
#include "../core/so_text.h"
#include "../core/so_util.h"
#include "../store/so_store_seal.h"

#define MAX_DOCS_PER_ORDER 50

static json_t *doc_json(so_req_t *req, const so_doc_t *d)
{
    const so_doctype_t *t = so_doctype_by_name(d->type);
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:b,s:o,s:o,s:s}", "id",
                          (json_int_t)d->id, "order_id", (json_int_t)d->order_id, "name", d->name,
                          "type", d->type, "content_type", t ? t->mime : "application/octet-stream",
                          "size", (json_int_t)d->size, "sha256", d->sha256, "status", d->status,
                          "reason", d->reason, "published", d->published, "created_at",
                          so_json_time(req->pool, d->created_at), "decided_at",
                          so_json_time(req->pool, d->decided_at), "uploaded_by", d->uploaded_by);
    if (d->team_slug) {
        json_object_set_new(j, "team", json_string(d->team_slug));
        json_object_set_new(j, "common_name", json_string(d->common_name));
    }
    return j;
}

/* The accepted type a client's file name or Content-Type names, or NULL when it names
 * none (no extension, application/octet-stream, ...). */
static const so_doctype_t *claimed_by_name(const char *filename)
{
    static const struct {
        const char *ext, *type;
    } alias[] = {{"jpeg", "jpg"}, {"jpe", "jpg"}, {"tiff", "tif"}, {"text", "txt"}, {NULL, NULL}};
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    int i;
    if (!dot || !dot[1]) {
        return NULL;
    }
    for (i = 0; alias[i].ext; i++) {
        if (!strcasecmp(dot + 1, alias[i].ext)) {
            return so_doctype_by_name(alias[i].type);
        }
    }
    return so_doctype_by_name(dot + 1);
}

/* A Content-Type without its parameters, trimmed ("" for none). */
static const char *mime_base(apr_pool_t *p, const char *ctype)
{
    char *m, *semi;
    if (!ctype) {
        return "";
    }
    m = so_str_trim(p, ctype);
    if ((semi = strchr(m, ';'))) {
        *semi = '\0';
        m = so_str_trim(p, m);
    }
    return m;
}

static const so_doctype_t *claimed_by_mime(apr_pool_t *p, const char *ctype)
{
    static const struct {
        const char *mime, *type;
    } map[] = {{"application/pdf", "pdf"},
               {"image/png", "png"},
               {"image/jpeg", "jpg"},
               {"image/pjpeg", "jpg"},
               {"image/gif", "gif"},
               {"image/tiff", "tif"},
               {"text/plain", "txt"},
               {"application/msword", "doc"},
               {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
               {"application/vnd.oasis.opendocument.text", "odt"},
               {"application/zip", "zip"},
               {"application/x-zip-compressed", "zip"},
               {NULL, NULL}};
    const char *m = mime_base(p, ctype);
    int i;
    for (i = 0; *m && map[i].mime; i++) {
        if (!strcasecmp(m, map[i].mime)) {
            return so_doctype_by_name(map[i].type);
        }
    }
    return NULL;
}

/* A Content-Type that says nothing about the file (what clients send when they do not know). */
static int generic_mime(apr_pool_t *p, const char *ctype)
{
    static const char *const generic[] = {"application/octet-stream", "binary/octet-stream",
                                          "application/binary", "application/unknown",
                                          "application/x-download", "application/force-download",
                                          NULL};
    const char *m = mime_base(p, ctype);
    int i;
    for (i = 0; generic[i]; i++) {
        if (!strcasecmp(m, generic[i])) {
            return 1;
        }
    }
    return !*m;
}

/* A claim fits the content when it names the same type; a ZIP claim fits the ZIP based
 * formats (docx, odt). */
static int claim_fits(const so_doctype_t *claim, const so_doctype_t *real)
{
    if (!claim || claim->id == real->id) {
        return 1;
    }
    return claim->id == SO_DOC_ZIP && (real->id == SO_DOC_DOCX || real->id == SO_DOC_ODT);
}

/* The upload's part named file, parsed within the size limits, with its detected type: the
   content must be an accepted type and agree with the file name and the sent type */
static apr_status_t file_part(so_req_t *req, const char *ctype,
                              const so_multipart_part_t **filep, const so_doctype_t **typep)
{
    apr_array_header_t *parts;
    const so_multipart_part_t *file;
    so_multipart_limits_t lim;
    const so_doctype_t *type, *claim;
    const char *why = NULL;
    apr_status_t rv;

    memset(&lim, 0, sizeof(lim));
    lim.max_parts = 8;
    lim.max_total = req->cfg->max_upload + 65536;
    rv = so_multipart_parse(&parts, req->pool, ctype, req->body ? req->body : "", req->body_len,
                            &lim, &why);
    if (rv == APR_ENOSPC) {
        return so_api_error(req, SO_E_TOO_LARGE, why ? why : "The upload is too large", "");
    }
    if (rv != APR_SUCCESS) {
        return so_api_error(req, SO_E_UPLOAD,
                            rv == APR_INCOMPLETE ? "The upload is truncated" : "The upload is not "
                                                                               "valid multipart/form-data",
                            why ? why : "");
    }
    file = so_multipart_find(parts, "file");
    if (!file || !file->filename) {
        return so_api_error(req, SO_E_UPLOAD, "The upload has no file part (a part named file "
                                              "with a filename)", "");
    }
    if (file->len == 0) {
        return so_api_error(req, SO_E_DOC_TYPE, "The file is empty", "");
    }
    if (so_doctype_detect(&type, file->data, file->len, &why) != APR_SUCCESS) {
        return so_api_error(req, SO_E_DOC_TYPE, why ? why : "The file type is not accepted",
                            "accepted: pdf, png, jpg, gif, tif, txt, zip, doc, docx, odt");
    }
    if (!claimed_by_mime(req->pool, file->content_type)
        && !generic_mime(req->pool, file->content_type)) {
        /* sent as something we do not take (text/html, application/x-msdownload, ...) */
        return so_api_errorf(req, SO_E_DOC_TYPE, "The file is sent as %s, which is not an "
                                                 "accepted type",
                             so_text_clean(req->pool, file->content_type, 100));
    }
    if (!claim_fits(claim = claimed_by_name(file->filename), type)
        || !claim_fits(claim = claimed_by_mime(req->pool, file->content_type), type)) {
        return so_api_errorf(req, SO_E_DOC_LABEL,
                             "The file is labelled %s but its content is %s", claim->label,
                             type->label);
    }
    *filep = file;
    *typep = type;
    return APR_SUCCESS;
}

static apr_status_t upload(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    const so_multipart_part_t *file;
    const so_doctype_t *type;
    const char *ctype = so_req_header(req, "Content-Type");
    so_doc_t d;
    int n = 0;
    apr_status_t rv;

    if ((rv = so_api_order_load(req, &o)) != APR_SUCCESS) {
        return rv;
    }
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19)) {
        return so_api_error(req, SO_E_MEDIA_TYPE,
                            "Upload the document as multipart/form-data (a part named file)", "");
    }
    if (req->body_len > req->cfg->max_upload) {
        return so_api_errorf(req, SO_E_TOO_LARGE,
                             "The document is larger than %" APR_SIZE_T_FMT " bytes",
                             req->cfg->max_upload);
    }
    if ((rv = file_part(req, ctype, &file, &type)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_doc_count(db, req->pool, o->id, &n)) != APR_SUCCESS) {
        return rv;
    }
    if (n >= MAX_DOCS_PER_ORDER) {
        return so_api_errorf(req, SO_E_DOC_LIMIT, "Order %" APR_INT64_T_FMT " has %d documents",
                             o->id, n);
    }
    memset(&d, 0, sizeof(d));
    d.team_id = o->team_id;
    d.order_id = o->id;
    d.name = so_doctype_filename(req->pool, file->filename, type);
    d.type = type->name;
    d.size = (apr_int64_t)file->len;
    d.sha256 = so_sha256_hex(req->pool, file->data, file->len, 0);
    d.uploaded_by = req->auth->username ? req->auth->username : "";
    d.created_at = req->now;
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_doc_insert(db, req->pool, &d,
                             so_base64(req->pool, (const unsigned char *)file->data, file->len));
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, "document_uploaded",
                                json_pack("{s:I,s:s,s:s,s:I}", "document_id", (json_int_t)d.id,
                                          "name", d.name, "type", d.type, "size",
                                          (json_int_t)d.size));
    }
    if ((rv = so_db_end(db, rv)) != APR_SUCCESS) {
        return rv;
    }
    so_api_ok(req, doc_json(req, &d));
    req->status = 201; /* created */
    return APR_SUCCESS;
}

static apr_status_t list_docs(so_req_t *req)
{
    so_order_t *o;
    apr_array_header_t *docs;
    json_t *a;
    int i;
    apr_status_t rv = so_api_order_load(req, &o);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_docs_of_order(so_req_db(req), req->pool, o->team_id, o->id, &docs))
        != APR_SUCCESS) {
        return rv;
    }
    a = json_array();
    for (i = 0; i < docs->nelts; i++) {
        json_array_append_new(a, doc_json(req, APR_ARRAY_IDX(docs, i, so_doc_t *)));
    }
    return so_api_ok_list(req, a, docs->nelts);
}

static apr_status_t doc_load(so_req_t *req, so_order_t **o, so_doc_t **d)
{
    apr_int64_t id;
    apr_status_t rv;
    if ((rv = so_api_order_load(req, o)) != APR_SUCCESS) {
        return rv;
    }
    if (so_req_param_id(req, "doc", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_doc_get(so_req_db(req), req->pool, (*o)->team_id, (*o)->id, id, d);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No document %" APR_INT64_T_FMT " in order %" APR_INT64_T_FMT,
                      id, (*o)->id);
    }
    return rv;
}

static apr_status_t send_doc(so_req_t *req, const so_doc_t *d)
{
    const char *b64;
    const unsigned char *data;
    apr_size_t len;
    const so_doctype_t *t = so_doctype_by_name(d->type);
    apr_status_t rv = so_store_doc_data(so_req_db(req), req->pool, d->id, &b64);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_unbase64(&data, &len, req->pool, b64) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    apr_table_setn(req->headers_out, "Content-Disposition",
                   so_doctype_content_disposition(req->pool, "attachment", d->name));
    apr_table_setn(req->headers_out, "Content-Security-Policy", "default-src 'none'; sandbox");
    apr_table_setn(req->headers_out, "Cache-Control", "private, no-cache");
    apr_table_setn(req->headers_out, "ETag",
                   apr_pstrcat(req->pool, "\"", apr_pstrndup(req->pool, d->sha256, 32), "\"", NULL));
    req->mtime = d->created_at;
    return so_api_ok_bytes(req, data, len, t ? t->mime : "application/octet-stream");
}

static apr_status_t get_doc(so_req_t *req)
{
    so_order_t *o;
    so_doc_t *d;
    apr_status_t rv = doc_load(req, &o, &d);
    return rv != APR_SUCCESS ? rv : send_doc(req, d);
}

/* Delete (publish < 0) or publish/withdraw a document with its order event, in one
 * transaction; a state that does not allow it answers 409 (1085). */
static apr_status_t doc_change(so_req_t *req, so_order_t *o, so_doc_t *d, int publish)
{
    so_db_t *db = so_req_db(req);
    apr_status_t rv = so_db_begin(db);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = publish < 0 ? so_store_doc_delete(db, req->pool, d->id)
                     : so_store_doc_publish(db, req->pool, d->id, publish);
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o,
                                publish < 0 ? "document_deleted"
                                : publish   ? "document_published"
                                            : "document_withdrawn",
                                json_pack("{s:I,s:s}", "document_id", (json_int_t)d->id, "name",
                                          d->name));
    }
    rv = so_db_end(db, rv);
    if (rv == APR_EBUSY) {
        return so_api_errorf(req, SO_E_DOC_STATE, "Document %" APR_INT64_T_FMT " is %s: only %s",
                             d->id, d->status,
                             publish < 0 ? "pending documents can be deleted"
                                         : "accepted documents can be published");
    }
    return rv;
}

static apr_status_t delete_doc(so_req_t *req)
{
    so_order_t *o;
    so_doc_t *d;
    apr_status_t rv = doc_load(req, &o, &d);

    if (rv == APR_SUCCESS) {
        rv = doc_change(req, o, d, -1);
    }
    return rv != APR_SUCCESS ? rv : so_api_ok(req, json_pack("{s:b}", "success", 1));
}

static apr_status_t put_doc(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_order_t *o;
    so_doc_t *d;
    so_seal_row_t *seal;
    int published;
    apr_status_t rv = doc_load(req, &o, &d);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_in_bool(req, req->json, "published", 1, &published, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = doc_change(req, o, d, published);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_store_seal_ensure(db, req->pool, o->team_id, o->id, req->now, &seal) == APR_SUCCESS) {
        so_seal_cache_forget(seal->seal_id);
    }
    d->published = published;
    return so_api_ok(req, doc_json(req, d));
}

/* ---- staff ------------------------------------------------------------------------------ */

static apr_status_t staff_list(so_req_t *req)
{
    const char *status = so_req_query(req, "status");
    apr_array_header_t *docs;
    apr_int64_t limit = 100;
    json_t *a;
    apr_status_t rv;
    int i;

    if (!status || !*status) {
        status = "pending";
    }
    if (strcmp(status, "pending") && strcmp(status, "accepted") && strcmp(status, "rejected")) {
        return so_api_error(req, SO_E_INVALID, "status is pending, accepted or rejected", "");
    }
    if (so_q_int(req, "limit", 100, 1, 1000, &limit) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if ((rv = so_store_docs_by_status(so_req_db(req), req->pool, status, (int)limit, &docs))
        != APR_SUCCESS) {
        return rv;
    }
    a = json_array();
    for (i = 0; i < docs->nelts; i++) {
        json_array_append_new(a, doc_json(req, APR_ARRAY_IDX(docs, i, so_doc_t *)));
    }
    return so_api_ok_list(req, a, docs->nelts);
}

static apr_status_t staff_doc(so_req_t *req, so_doc_t **d)
{
    apr_int64_t id;
    apr_status_t rv;
    if (so_req_param_id(req, "doc", &id) != APR_SUCCESS) {
        return APR_ENOENT;
    }
    rv = so_store_doc_get(so_req_db(req), req->pool, -1, 0, id, d);
    if (rv == APR_ENOENT) {
        so_api_errorf(req, SO_E_NOT_FOUND, "No document %" APR_INT64_T_FMT, id);
    }
    return rv;
}

static apr_status_t staff_get(so_req_t *req)
{
    so_doc_t *d;
    apr_status_t rv = staff_doc(req, &d);
    return rv != APR_SUCCESS ? rv : send_doc(req, d);
}

static apr_status_t staff_decide(so_req_t *req)
{
    so_db_t *db = so_req_db(req);
    so_doc_t *d;
    so_order_t *o;
    const char *decision = NULL, *reason = "", *status;
    apr_status_t rv = staff_doc(req, &d);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (so_in_str(req, req->json, "decision", 1, 16, &decision, NULL) != APR_SUCCESS
        || so_in_str(req, req->json, "reason", 0, 500, &reason, NULL) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (strcmp(decision, "accept") && strcmp(decision, "reject")) {
        return so_api_error(req, SO_E_INVALID, "decision is accept or reject", "");
    }
    if (!strcmp(decision, "reject") && !*so_text_clean(req->pool, reason, 500)) {
        return so_api_error(req, SO_E_INVALID, "a rejection needs a reason", "");
    }
    status = !strcmp(decision, "accept") ? "accepted" : "rejected";
    if ((rv = so_store_order_get(db, req->pool, d->team_id, d->order_id, &o)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_db_begin(db)) != APR_SUCCESS) {
        return rv;
    }
    rv = so_store_doc_decide(db, req->pool, d->id, status, so_text_clean(req->pool, reason, 500),
                             req->auth->username, req->now);
    if (rv == APR_SUCCESS) {
        rv = so_api_order_event(req, o, !strcmp(status, "accepted") ? "document_accepted"
                                                                    : "document_rejected",
                                json_pack("{s:I,s:s,s:s}", "document_id", (json_int_t)d->id,
                                          "name", d->name, "reason", reason));
    }
    rv = so_db_end(db, rv);
    if (rv == APR_EBUSY) {
        return so_api_errorf(req, SO_E_DOC_STATE,
                             "Document %" APR_INT64_T_FMT " was %s already", d->id, d->status);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = so_store_doc_get(db, req->pool, -1, 0, d->id, &d)) != APR_SUCCESS) {
        return rv;
    }
    return so_api_ok(req, doc_json(req, d));
}

const so_route_t so_routes_documents[] = {
    {"POST", "/ssl/orders/{id}/documents", upload, SO_ROLE_MEMBER, SO_RF_RAW},
    {"GET", "/ssl/orders/{id}/documents", list_docs, SO_ROLE_VIEWER, 0},
    {"GET", "/ssl/orders/{id}/documents/{doc}", get_doc, SO_ROLE_VIEWER, 0},
    {"PUT", "/ssl/orders/{id}/documents/{doc}", put_doc, SO_ROLE_MEMBER, 0},
    {"DELETE", "/ssl/orders/{id}/documents/{doc}", delete_doc, SO_ROLE_MEMBER, 0},
    {"GET", "/staff/documents", staff_list, SO_ROLE_VIEWER, SO_RF_STAFF},
    {"GET", "/staff/documents/{doc}", staff_get, SO_ROLE_VIEWER, SO_RF_STAFF},
    {"POST", "/staff/documents/{doc}", staff_decide, SO_ROLE_VIEWER, SO_RF_STAFF},
    {NULL, NULL, NULL, SO_ROLE_NONE, 0}};
