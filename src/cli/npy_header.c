/*
 * The .npy header: the dtype table, and a parser of the header dict (a tiny
 * subset of Python literal syntax: one dict of exactly the keys 'descr',
 * 'fortran_order' and 'shape', as NumPy writes it) that checks the dtype,
 * the order and that the shape's size fits in size_t.
 */
#include "npy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The dtypes we read and write, with the one descr NumPy writes for each. */
static const struct {
    npy_dtype dtype;
    const char *descr;
    const char *name;
    size_t size;
} dtype_table[] = {
    {NPY_FLOAT32, "<f4", "float32", 4}, {NPY_FLOAT64, "<f8", "float64", 8},
    {NPY_FLOAT16, "<f2", "float16", 2}, {NPY_UINT8, "|u1", "uint8", 1},
    {NPY_INT8, "|i1", "int8", 1},       {NPY_INT64, "<i8", "int64", 8},
    {NPY_UINT16, "<u2", "uint16", 2},
};
#define DTYPE_COUNT (sizeof dtype_table / sizeof dtype_table[0])

const char *npy_dtype_name(npy_dtype dtype)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype)
            return dtype_table[i].name;
    return "unknown";
}

size_t npy_dtype_size(npy_dtype dtype)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype)
            return dtype_table[i].size;
    return 0;
}

const char *npy_dtype_descr(npy_dtype dtype)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++)
        if (dtype_table[i].dtype == dtype)
            return dtype_table[i].descr;
    return NULL;
}

void npy_format_shape(const size_t *shape, int rank, char *buf, size_t size)
{
    size_t used = 0;
    int n = snprintf(buf, size, "(");
    for (int i = 0; i < rank && n >= 0; i++) {
        used += (size_t)n;
        if (used >= size)
            return;
        n = snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", shape[i]);
    }
    if (n < 0)
        return;
    used += (size_t)n;
    if (used < size)
        snprintf(buf + used, size - used, "%s)", rank == 1 ? "," : "");
}

npy_status npy_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return NPY_ERROR_INPUT;
}

/* ---- header dict parser ------------------------------------------------- */

typedef struct parser {
    const char *begin;
    const char *p;
    const char *end;
    char *err;
    size_t err_size;
} parser;

/* What the dict said, before it is checked. */
typedef struct header_fields {
    char descr[32];
    bool has_descr, has_fortran, has_shape;
    bool fortran_order;
    int rank;
    size_t shape[NPY_MAX_RANK];
} header_fields;

static size_t offset_of(const parser *ps)
{
    return (size_t)(ps->p - ps->begin);
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Skips blanks, then consumes @p c if it comes next. */
static bool accept(parser *ps, char c)
{
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static npy_status expect(parser *ps, char c, const char *where)
{
    if (accept(ps, c))
        return NPY_OK;
    return npy_fail(ps->err, ps->err_size,
                    "the header is not a valid dict: expected '%c' %s at byte %zu", c, where,
                    offset_of(ps));
}

/* A quoted Python string without escapes, of at most out_size - 1 characters. */
static npy_status parse_string(parser *ps, char *out, size_t out_size, const char *what)
{
    skip_space(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return npy_fail(ps->err, ps->err_size,
                        "the header is not a valid dict: %s at byte %zu is not a quoted string",
                        what, offset_of(ps));
    char quote = *ps->p++;
    size_t len = 0;
    for (; ps->p < ps->end && *ps->p != quote; ps->p++) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\\' || c < 0x20 || c >= 0x7f)
            return npy_fail(ps->err, ps->err_size,
                            "the header %s contains an escape or a non-ASCII character at byte %zu",
                            what, offset_of(ps));
        if (len + 1 >= out_size)
            return npy_fail(ps->err, ps->err_size, "the header %s is longer than %zu characters",
                            what, out_size - 1);
        out[len++] = (char)c;
    }
    if (ps->p >= ps->end)
        return npy_fail(ps->err, ps->err_size, "the header %s has no closing quote", what);
    ps->p++;
    out[len] = '\0';
    return NPY_OK;
}

static bool match_word(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static npy_status parse_bool(parser *ps, bool *value)
{
    skip_space(ps);
    if (match_word(ps, "True"))
        *value = true;
    else if (match_word(ps, "False"))
        *value = false;
    else
        return npy_fail(ps->err, ps->err_size,
                        "the header 'fortran_order' at byte %zu is not True or False",
                        offset_of(ps));
    return NPY_OK;
}

/* A non-negative decimal integer that fits in size_t (no sign, no leading
 * zeros, no underscores: NumPy never writes them). */
static npy_status parse_dim(parser *ps, size_t *value)
{
    skip_space(ps);
    const char *start = ps->p;
    size_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned digit = (unsigned)(*ps->p - '0');
        if (v > (SIZE_MAX - digit) / 10)
            return npy_fail(ps->err, ps->err_size,
                            "the header 'shape' has a dimension larger than size_t can hold (%zu)",
                            (size_t)SIZE_MAX);
        v = v * 10 + digit;
        ps->p++;
    }
    if (ps->p == start)
        return npy_fail(ps->err, ps->err_size,
                        "the header 'shape' at byte %zu is not a tuple of non-negative integers",
                        offset_of(ps));
    if (*start == '0' && ps->p - start > 1)
        return npy_fail(ps->err, ps->err_size,
                        "the header 'shape' has a dimension with a leading zero");
    *value = v;
    return NPY_OK;
}

/* "()", "(5,)", "(2, 3)" or "(2, 3,)"; "(5)" is an int in Python, not a tuple. */
static npy_status parse_shape(parser *ps, header_fields *h)
{
    npy_status status = expect(ps, '(', "to open 'shape'");
    h->rank = 0;
    if (status != NPY_OK || accept(ps, ')'))
        return status;
    for (;;) {
        if (h->rank == NPY_MAX_RANK)
            return npy_fail(ps->err, ps->err_size, "the header 'shape' has more than %d dimensions",
                            NPY_MAX_RANK);
        status = parse_dim(ps, &h->shape[h->rank++]);
        if (status != NPY_OK)
            return status;
        if (accept(ps, ')')) {
            if (h->rank == 1)
                return npy_fail(
                    ps->err, ps->err_size,
                    "the header 'shape' (%zu) is not a tuple (a 1-D shape is written (%zu,))",
                    h->shape[0], h->shape[0]);
            return NPY_OK;
        }
        status = expect(ps, ',', "between dimensions of 'shape'");
        if (status != NPY_OK || accept(ps, ')'))
            return status;
    }
}

/* One "key: value" pair; each key once. */
static npy_status parse_entry(parser *ps, header_fields *h)
{
    char key[32];
    npy_status status = parse_string(ps, key, sizeof key, "key");
    if (status == NPY_OK)
        status = expect(ps, ':', "after a key");
    if (status != NPY_OK)
        return status;
    bool *seen = strcmp(key, "descr") == 0           ? &h->has_descr
                 : strcmp(key, "fortran_order") == 0 ? &h->has_fortran
                 : strcmp(key, "shape") == 0         ? &h->has_shape
                                                     : NULL;
    if (!seen)
        return npy_fail(
            ps->err, ps->err_size,
            "the header has the key '%s' (only 'descr', 'fortran_order' and 'shape' are allowed)",
            key);
    if (*seen)
        return npy_fail(ps->err, ps->err_size, "the header has the key '%s' twice", key);
    *seen = true;
    if (seen == &h->has_fortran)
        return parse_bool(ps, &h->fortran_order);
    if (seen == &h->has_shape)
        return parse_shape(ps, h);
    skip_space(ps);
    if (ps->p < ps->end && (*ps->p == '[' || *ps->p == '{'))
        return npy_fail(
            ps->err, ps->err_size,
            "structured dtypes are not supported ('descr' must be a dtype string such as '<f4')");
    return parse_string(ps, h->descr, sizeof h->descr, "'descr'");
}

static npy_status parse_dict(parser *ps, header_fields *h)
{
    npy_status status = expect(ps, '{', "at the start");
    if (status != NPY_OK || accept(ps, '}'))
        goto done;
    for (;;) {
        status = parse_entry(ps, h);
        if (status != NPY_OK || accept(ps, '}'))
            break;
        status = expect(ps, ',', "between entries");
        if (status != NPY_OK || accept(ps, '}'))
            break;
    }
done:
    if (status != NPY_OK)
        return status;
    skip_space(ps);
    if (ps->p != ps->end)
        return npy_fail(ps->err, ps->err_size,
                        "the header has extra text after the dict at byte %zu", offset_of(ps));
    return NPY_OK;
}

static npy_status check_descr(const char *descr, npy_dtype *dtype, char *err, size_t err_size)
{
    for (size_t i = 0; i < DTYPE_COUNT; i++) {
        if (strcmp(descr, dtype_table[i].descr) == 0) {
            *dtype = dtype_table[i].dtype;
            return NPY_OK;
        }
    }
    if (descr[0] == '>')
        return npy_fail(err, err_size,
                        "big-endian dtype '%s' is not supported; save the array little-endian "
                        "(e.g. a.astype('<%s'))",
                        descr, descr + 1);
    if (strchr(descr, 'O'))
        return npy_fail(err, err_size, "object arrays ('%s') are not supported; they need pickle",
                        descr);
    return npy_fail(
        err, err_size,
        "dtype '%s' is not supported (valid: '<f4', '<f8', '<f2', '|u1', '|i1', '<i8', '<u2')",
        descr);
}

/* A shape whose size overflows size_t is refused even when a zero dimension
 * makes it empty (NumPy refuses those too). */
npy_status npy_check_size(npy_array *a, char *err, size_t err_size)
{
    size_t size = npy_dtype_size(a->dtype);
    size_t nonzero = 1;
    bool empty = false;
    char text[NPY_ERROR_SIZE];
    for (int i = 0; i < a->rank; i++) {
        if (a->shape[i] == 0) {
            empty = true;
            continue;
        }
        if (nonzero > SIZE_MAX / a->shape[i])
            goto overflow;
        nonzero *= a->shape[i];
    }
    if (nonzero > SIZE_MAX / size)
        goto overflow;
    a->count = empty ? 0 : nonzero;
    a->nbytes = a->count * size;
    return NPY_OK;
overflow:
    npy_format_shape(a->shape, a->rank, text, sizeof text);
    return npy_fail(err, err_size, "shape %s of %s is larger than size_t can count", text,
                    npy_dtype_name(a->dtype));
}

npy_status npy_parse_header(const char *text, size_t len, npy_array *array, char *err,
                            size_t err_size)
{
    parser ps = {text, text, text + len, err, err_size};
    header_fields h;
    memset(&h, 0, sizeof h);
    npy_status status = parse_dict(&ps, &h);
    if (status != NPY_OK)
        return status;
    if (!h.has_descr || !h.has_fortran || !h.has_shape)
        return npy_fail(err, err_size, "the header lacks the key '%s'",
                        !h.has_descr     ? "descr"
                        : !h.has_fortran ? "fortran_order"
                                         : "shape");
    status = check_descr(h.descr, &array->dtype, err, err_size);
    if (status != NPY_OK)
        return status;
    if (h.fortran_order)
        return npy_fail(
            err, err_size,
            "Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray)");
    array->rank = h.rank;
    memcpy(array->shape, h.shape, sizeof h.shape);
    return npy_check_size(array, err, err_size);
}
