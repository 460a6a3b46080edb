/* mod_sslorders: typed statement arguments (included by so_db.h; no httpd types).
 *
 * SO_A(a, b, ...) turns each argument into a so_arg_t by its C type, so integers reach
 * the driver as integers:
 *   so_db_select(db, p, "so_order_get", &rows, SO_A(team_id, id));
 *   - integer types (int, apr_int64_t, apr_time_t, ...)     -> an integer;
 *   - char * / const char * (NULL: SQL NULL)                -> text;
 *   - const so_blob_t *                                     -> a blob (%pDb);
 *   - so_arg_t (SO_ID(v), SO_NULL, so_arg_text(s), ...)     -> as it is.
 * A placeholder binds its argument with its own type (%lld, %d, %s, %pDb): an integer
 * for a %s placeholder is written in decimal, a text for %lld/%d is read as a number
 * (values that arrive as text, such as another row's cell); a blob binds only to %pDb.
 * At most SO_A_MAX arguments per SO_A(). */
#ifndef SO_DB_ARGS_H
#define SO_DB_ARGS_H

#include <apr.h>

typedef struct {
    const void *data;
    apr_size_t len;
} so_blob_t;

typedef enum { SO_ARG_NULL = 0, SO_ARG_TEXT, SO_ARG_INT, SO_ARG_BLOB } so_arg_kind_t;

typedef struct {
    so_arg_kind_t kind;
    union {
        const char *s;
        apr_int64_t i;
        const so_blob_t *b;
    } v;
} so_arg_t;

static inline so_arg_t so_arg_text(const char *s)
{
    so_arg_t a = {s ? SO_ARG_TEXT : SO_ARG_NULL, {.s = s}};
    return a;
}
static inline so_arg_t so_arg_int(apr_int64_t i)
{
    so_arg_t a = {SO_ARG_INT, {.i = i}};
    return a;
}
static inline so_arg_t so_arg_uint(apr_uint64_t i)
{
    return so_arg_int((apr_int64_t)i);
}
static inline so_arg_t so_arg_blob(const so_blob_t *b)
{
    so_arg_t a = {b ? SO_ARG_BLOB : SO_ARG_NULL, {.b = b}};
    return a;
}
/* NULL (void *) */
static inline so_arg_t so_arg_ptr(const void *v)
{
    return so_arg_text((const char *)v);
}
static inline so_arg_t so_arg_same(so_arg_t a)
{
    return a;
}
/* An optional id: 0 is SQL NULL. */
static inline so_arg_t so_arg_id(apr_int64_t id)
{
    so_arg_t a = {id ? SO_ARG_INT : SO_ARG_NULL, {.i = id}};
    return a;
}
#define SO_ID(v) so_arg_id(v)
#define SO_NULL so_arg_text(NULL)

#define SO_ARG(x)                                                                             \
    _Generic((x),                                                                             \
        so_arg_t: so_arg_same,                                                                \
        char *: so_arg_text,                                                                  \
        const char *: so_arg_text,                                                            \
        void *: so_arg_ptr,                                                                   \
        so_blob_t *: so_arg_blob,                                                             \
        const so_blob_t *: so_arg_blob,                                                       \
        _Bool: so_arg_int,                                                                    \
        signed char: so_arg_int,                                                              \
        short: so_arg_int,                                                                    \
        int: so_arg_int,                                                                      \
        long: so_arg_int,                                                                     \
        long long: so_arg_int,                                                                \
        unsigned char: so_arg_uint,                                                           \
        unsigned short: so_arg_uint,                                                          \
        unsigned int: so_arg_uint,                                                            \
        unsigned long: so_arg_uint,                                                           \
        unsigned long long: so_arg_uint)(x)

#define SO_A_MAX 40
#define SO__CAT(a, b) SO__CAT_(a, b)
#define SO__CAT_(a, b) a##b
#define SO__MAP(f, ...) SO__CAT(SO__MAP, SO__NARGS(__VA_ARGS__))(f, __VA_ARGS__)
#define SO__NARGS(...) SO__NARGS_(__VA_ARGS__, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define SO__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, n, ...) n
#define SO__MAP1(f, x) f(x)
#define SO__MAP2(f, x, ...) f(x), SO__MAP1(f, __VA_ARGS__)
#define SO__MAP3(f, x, ...) f(x), SO__MAP2(f, __VA_ARGS__)
#define SO__MAP4(f, x, ...) f(x), SO__MAP3(f, __VA_ARGS__)
#define SO__MAP5(f, x, ...) f(x), SO__MAP4(f, __VA_ARGS__)
#define SO__MAP6(f, x, ...) f(x), SO__MAP5(f, __VA_ARGS__)
#define SO__MAP7(f, x, ...) f(x), SO__MAP6(f, __VA_ARGS__)
#define SO__MAP8(f, x, ...) f(x), SO__MAP7(f, __VA_ARGS__)
#define SO__MAP9(f, x, ...) f(x), SO__MAP8(f, __VA_ARGS__)
#define SO__MAP10(f, x, ...) f(x), SO__MAP9(f, __VA_ARGS__)
#define SO__MAP11(f, x, ...) f(x), SO__MAP10(f, __VA_ARGS__)
#define SO__MAP12(f, x, ...) f(x), SO__MAP11(f, __VA_ARGS__)
#define SO__MAP13(f, x, ...) f(x), SO__MAP12(f, __VA_ARGS__)
#define SO__MAP14(f, x, ...) f(x), SO__MAP13(f, __VA_ARGS__)
#define SO__MAP15(f, x, ...) f(x), SO__MAP14(f, __VA_ARGS__)
#define SO__MAP16(f, x, ...) f(x), SO__MAP15(f, __VA_ARGS__)
#define SO__MAP17(f, x, ...) f(x), SO__MAP16(f, __VA_ARGS__)
#define SO__MAP18(f, x, ...) f(x), SO__MAP17(f, __VA_ARGS__)
#define SO__MAP19(f, x, ...) f(x), SO__MAP18(f, __VA_ARGS__)
#define SO__MAP20(f, x, ...) f(x), SO__MAP19(f, __VA_ARGS__)
#define SO__MAP21(f, x, ...) f(x), SO__MAP20(f, __VA_ARGS__)
#define SO__MAP22(f, x, ...) f(x), SO__MAP21(f, __VA_ARGS__)
#define SO__MAP23(f, x, ...) f(x), SO__MAP22(f, __VA_ARGS__)
#define SO__MAP24(f, x, ...) f(x), SO__MAP23(f, __VA_ARGS__)
#define SO__MAP25(f, x, ...) f(x), SO__MAP24(f, __VA_ARGS__)
#define SO__MAP26(f, x, ...) f(x), SO__MAP25(f, __VA_ARGS__)
#define SO__MAP27(f, x, ...) f(x), SO__MAP26(f, __VA_ARGS__)
#define SO__MAP28(f, x, ...) f(x), SO__MAP27(f, __VA_ARGS__)
#define SO__MAP29(f, x, ...) f(x), SO__MAP28(f, __VA_ARGS__)
#define SO__MAP30(f, x, ...) f(x), SO__MAP29(f, __VA_ARGS__)
#define SO__MAP31(f, x, ...) f(x), SO__MAP30(f, __VA_ARGS__)
#define SO__MAP32(f, x, ...) f(x), SO__MAP31(f, __VA_ARGS__)
#define SO__MAP33(f, x, ...) f(x), SO__MAP32(f, __VA_ARGS__)
#define SO__MAP34(f, x, ...) f(x), SO__MAP33(f, __VA_ARGS__)
#define SO__MAP35(f, x, ...) f(x), SO__MAP34(f, __VA_ARGS__)
#define SO__MAP36(f, x, ...) f(x), SO__MAP35(f, __VA_ARGS__)
#define SO__MAP37(f, x, ...) f(x), SO__MAP36(f, __VA_ARGS__)
#define SO__MAP38(f, x, ...) f(x), SO__MAP37(f, __VA_ARGS__)
#define SO__MAP39(f, x, ...) f(x), SO__MAP38(f, __VA_ARGS__)
#define SO__MAP40(f, x, ...) f(x), SO__MAP39(f, __VA_ARGS__)

/* Argument list: so_db_select(db, p, "so_x", &rows, SO_A(a, b)); SO_A0 for none. */
#define SO_A(...) SO__NARGS(__VA_ARGS__), (const so_arg_t[]){SO__MAP(SO_ARG, __VA_ARGS__)}
#define SO_A0 0, NULL

#endif
