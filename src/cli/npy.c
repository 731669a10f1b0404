/*
 * NumPy .npy reader and writer. The reader parses the header dict itself (a
 * tiny subset of Python literal syntax: one dict of exactly the keys 'descr',
 * 'fortran_order' and 'shape') and checks the file length against the shape
 * before it allocates anything, so a hostile header cannot make it allocate
 * or read out of bounds.
 */
#include "npy.h"

#include "report.h" /* CLI_PRINTF */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

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

static const char *dtype_descr(npy_dtype dtype)
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

static npy_status failf(char *err, size_t err_size, const char *fmt, ...) CLI_PRINTF(3, 4);

static npy_status failf(char *err, size_t err_size, const char *fmt, ...)
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
    return failf(ps->err, ps->err_size, "the header is not a valid dict: expected '%c' %s at byte %zu",
                 c, where, offset_of(ps));
}

/* A quoted Python string without escapes, of at most out_size - 1 characters. */
static npy_status parse_string(parser *ps, char *out, size_t out_size, const char *what)
{
    skip_space(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return failf(ps->err, ps->err_size, "the header is not a valid dict: %s at byte %zu is not a "
                     "quoted string", what, offset_of(ps));
    char quote = *ps->p++;
    size_t len = 0;
    for (; ps->p < ps->end && *ps->p != quote; ps->p++) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\\' || c < 0x20 || c >= 0x7f)
            return failf(ps->err, ps->err_size, "the header %s contains an escape or a non-ASCII "
                         "character at byte %zu", what, offset_of(ps));
        if (len + 1 >= out_size)
            return failf(ps->err, ps->err_size, "the header %s is longer than %zu characters", what,
                         out_size - 1);
        out[len++] = (char)c;
    }
    if (ps->p >= ps->end)
        return failf(ps->err, ps->err_size, "the header %s has no closing quote", what);
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
        return failf(ps->err, ps->err_size, "the header 'fortran_order' at byte %zu is not True or "
                     "False", offset_of(ps));
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
            return failf(ps->err, ps->err_size, "the header 'shape' has a dimension larger than "
                         "size_t can hold (%zu)", (size_t)SIZE_MAX);
        v = v * 10 + digit;
        ps->p++;
    }
    if (ps->p == start)
        return failf(ps->err, ps->err_size, "the header 'shape' at byte %zu is not a tuple of "
                     "non-negative integers", offset_of(ps));
    if (*start == '0' && ps->p - start > 1)
        return failf(ps->err, ps->err_size, "the header 'shape' has a dimension with a leading zero");
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
            return failf(ps->err, ps->err_size, "the header 'shape' has more than %d dimensions",
                         NPY_MAX_RANK);
        status = parse_dim(ps, &h->shape[h->rank++]);
        if (status != NPY_OK)
            return status;
        if (accept(ps, ')')) {
            if (h->rank == 1)
                return failf(ps->err, ps->err_size, "the header 'shape' (%zu) is not a tuple (a "
                             "1-D shape is written (%zu,))", h->shape[0], h->shape[0]);
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
        return failf(ps->err, ps->err_size, "the header has the key '%s' (only 'descr', "
                     "'fortran_order' and 'shape' are allowed)", key);
    if (*seen)
        return failf(ps->err, ps->err_size, "the header has the key '%s' twice", key);
    *seen = true;
    if (seen == &h->has_fortran)
        return parse_bool(ps, &h->fortran_order);
    if (seen == &h->has_shape)
        return parse_shape(ps, h);
    skip_space(ps);
    if (ps->p < ps->end && (*ps->p == '[' || *ps->p == '{'))
        return failf(ps->err, ps->err_size, "structured dtypes are not supported ('descr' must be "
                     "a dtype string such as '<f4')");
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
        return failf(ps->err, ps->err_size, "the header has extra text after the dict at byte %zu",
                     offset_of(ps));
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
        return failf(err, err_size, "big-endian dtype '%s' is not supported; save the array "
                     "little-endian (e.g. a.astype('<%s'))", descr, descr + 1);
    if (strchr(descr, 'O'))
        return failf(err, err_size, "object arrays ('%s') are not supported; they need pickle",
                     descr);
    return failf(err, err_size, "dtype '%s' is not supported (valid: '<f4', '<f8', '<f2', '|u1', "
                 "'|i1', '<i8', '<u2')", descr);
}

/* count and nbytes of the shape; refuses a shape whose size overflows size_t
 * even when a zero dimension makes it empty (NumPy refuses those too). */
static npy_status check_size(npy_array *a, char *err, size_t err_size)
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
    return failf(err, err_size, "shape %s of %s is larger than size_t can count", text,
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
        return failf(err, err_size, "the header lacks the key '%s'",
                     !h.has_descr ? "descr" : !h.has_fortran ? "fortran_order" : "shape");
    status = check_descr(h.descr, &array->dtype, err, err_size);
    if (status != NPY_OK)
        return status;
    if (h.fortran_order)
        return failf(err, err_size, "Fortran-order arrays are not supported; save a C-order array "
                     "(np.ascontiguousarray)");
    array->rank = h.rank;
    memcpy(array->shape, h.shape, sizeof h.shape);
    return check_size(array, err, err_size);
}

/* ---- file reading ------------------------------------------------------- */

/* Reads exactly @p n bytes: 0 done, -1 read error (errno), 1 end of file. */
static int read_exact(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return 1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static npy_status read_failed(int rc, const char *what, char *err, size_t err_size)
{
    if (rc < 0)
        return failf(err, err_size, "reading the %s failed: %s", what, strerror(errno));
    return failf(err, err_size, "the file ended while reading the %s (it changed while being read)",
                 what);
}

/* Checks magic and version, returns the header length and where it starts. */
static npy_status read_preamble(int fd, uintmax_t file_size, size_t *header_len,
                                size_t *header_start, char *err, size_t err_size)
{
    unsigned char pre[12];
    if (file_size < 10)
        return failf(err, err_size, "the file is too short to be a .npy file (%ju bytes)", file_size);
    int rc = read_exact(fd, pre, 10);
    if (rc != 0)
        return read_failed(rc, "preamble", err, err_size);
    if (memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return failf(err, err_size, "not a .npy file: it does not start with \\x93NUMPY");
    unsigned major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return failf(err, err_size, ".npy format version %u.%u is not supported (1.0, 2.0 and 3.0 "
                     "are)", major, minor);
    *header_start = 10;
    *header_len = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (major == 1)
        return NPY_OK;
    if (file_size < 12)
        return failf(err, err_size, "the file ends inside the .npy preamble (%ju bytes)", file_size);
    rc = read_exact(fd, pre + 10, 2);
    if (rc != 0)
        return read_failed(rc, "preamble", err, err_size);
    *header_start = 12;
    *header_len |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    return NPY_OK;
}

/* Reads and parses the header, then checks the file holds exactly the data. */
static npy_status read_header(int fd, uintmax_t file_size, npy_array *array, char *err,
                              size_t err_size)
{
    size_t header_len = 0, header_start = 0;
    npy_status status = read_preamble(fd, file_size, &header_len, &header_start, err, err_size);
    if (status != NPY_OK)
        return status;
    if (header_len > NPY_MAX_HEADER)
        return failf(err, err_size, "the header length %zu exceeds the limit of %d bytes",
                     header_len, NPY_MAX_HEADER);
    uintmax_t data_start = (uintmax_t)header_start + header_len;
    if (data_start > file_size)
        return failf(err, err_size, "the header length %zu runs past the end of the file (%ju "
                     "bytes)", header_len, file_size);
    char *header = malloc(header_len + 1);
    if (!header)
        return NPY_ERROR_MEMORY;
    int rc = read_exact(fd, header, header_len);
    status = rc != 0 ? read_failed(rc, "header", err, err_size)
                     : npy_parse_header(header, header_len, array, err, err_size);
    free(header);
    if (status != NPY_OK)
        return status;
    uintmax_t have = file_size - data_start;
    if (have != array->nbytes) {
        char text[NPY_ERROR_SIZE];
        npy_format_shape(array->shape, array->rank, text, sizeof text);
        return failf(err, err_size, "the data is %s than shape %s of %s needs (%ju bytes, not %zu)",
                     have < array->nbytes ? "shorter" : "longer", text,
                     npy_dtype_name(array->dtype), have, array->nbytes);
    }
    return NPY_OK;
}

npy_status npy_read(const char *path, npy_array *array, char *err, size_t err_size)
{
    memset(array, 0, sizeof *array);
    npy_array a;
    memset(&a, 0, sizeof a);
    npy_status status = NPY_ERROR_INPUT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        failf(err, err_size, "cannot open it: %s", strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) != 0) {
        failf(err, err_size, "cannot inspect it: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        failf(err, err_size, "it is not a regular file");
        goto done;
    }
    status = read_header(fd, (uintmax_t)st.st_size, &a, err, err_size);
    if (status != NPY_OK)
        goto done;
    /* The file holds nbytes after the header, so this size is real. */
    a.data = malloc(a.nbytes ? a.nbytes : 1);
    if (!a.data) {
        status = NPY_ERROR_MEMORY;
        goto done;
    }
    int rc = read_exact(fd, a.data, a.nbytes);
    if (rc != 0) {
        status = read_failed(rc, "data", err, err_size);
        goto done;
    }
    *array = a;
    a.data = NULL;
done:
    if (status == NPY_ERROR_MEMORY)
        failf(err, err_size, "out of host memory while reading it");
    free(a.data);
    if (fd >= 0)
        close(fd);
    return status;
}

void npy_release(npy_array *array)
{
    if (!array)
        return;
    free(array->data);
    memset(array, 0, sizeof *array);
}

/* ---- writing ------------------------------------------------------------ */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0)
            return -1;
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

npy_status npy_write(int fd, npy_dtype dtype, int rank, const size_t *shape, const void *data,
                     char *err, size_t err_size)
{
    const char *descr = dtype_descr(dtype);
    if (!descr || rank < 0 || rank > NPY_MAX_RANK)
        return failf(err, err_size, "cannot write dtype %d of rank %d", (int)dtype, rank);
    npy_array a;
    memset(&a, 0, sizeof a);
    a.dtype = dtype;
    a.rank = rank;
    memcpy(a.shape, shape, (size_t)rank * sizeof *shape);
    npy_status status = check_size(&a, err, err_size);
    if (status != NPY_OK)
        return status;
    /* magic, version 1.0, 2-byte length, dict, spaces, '\n': a multiple of
     * 64 bytes, as NumPy writes it (keeps the data aligned for mmap). */
    char header[NPY_MAX_RANK * 24 + 192];
    char shape_text[NPY_MAX_RANK * 24 + 8];
    npy_format_shape(shape, rank, shape_text, sizeof shape_text);
    int dict_len = snprintf(header + 10, sizeof header - 10,
                            "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
                            shape_text);
    if (dict_len < 0 || (size_t)dict_len + 10 + 1 + 63 > sizeof header)
        return failf(err, err_size, "the .npy header for shape %s is too long", shape_text);
    size_t total = (10 + (size_t)dict_len + 1 + 63) / 64 * 64;
    memset(header + 10 + dict_len, ' ', total - 10 - (size_t)dict_len);
    header[total - 1] = '\n';
    memcpy(header, npy_magic, sizeof npy_magic);
    header[6] = 1;
    header[7] = 0;
    header[8] = (char)((total - 10) & 0xff);
    header[9] = (char)((total - 10) >> 8);
    if (write_all(fd, header, total) != 0 || write_all(fd, data, a.nbytes) != 0)
        return failf(err, err_size, "writing failed: %s", strerror(errno));
    return NPY_OK;
}
