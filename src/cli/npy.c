/*
 * .npy files: the reader checks magic, version and header length, lets
 * npy_header.c parse the dict, and checks the file length against the shape
 * before it allocates anything, so a hostile header cannot make it allocate
 * or read out of bounds. The writer emits version 1.0 as NumPy does.
 */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

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
        return npy_fail(err, err_size, "reading the %s failed: %s", what, strerror(errno));
    return npy_fail(err, err_size,
                    "the file ended while reading the %s (it changed while being read)", what);
}

/* Checks magic and version, returns the header length and where it starts. */
static npy_status read_preamble(int fd, uintmax_t file_size, size_t *header_len,
                                size_t *header_start, char *err, size_t err_size)
{
    unsigned char pre[12];
    if (file_size < 10)
        return npy_fail(err, err_size, "the file is too short to be a .npy file (%ju bytes)",
                        file_size);
    int rc = read_exact(fd, pre, 10);
    if (rc != 0)
        return read_failed(rc, "preamble", err, err_size);
    if (memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return npy_fail(err, err_size, "not a .npy file: it does not start with \\x93NUMPY");
    unsigned major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return npy_fail(err, err_size,
                        ".npy format version %u.%u is not supported (1.0, 2.0 and 3.0 are)", major,
                        minor);
    *header_start = 10;
    *header_len = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (major == 1)
        return NPY_OK;
    if (file_size < 12)
        return npy_fail(err, err_size, "the file ends inside the .npy preamble (%ju bytes)",
                        file_size);
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
        return npy_fail(err, err_size, "the header length %zu exceeds the limit of %d bytes",
                        header_len, NPY_MAX_HEADER);
    uintmax_t data_start = (uintmax_t)header_start + header_len;
    if (data_start > file_size)
        return npy_fail(err, err_size,
                        "the header length %zu runs past the end of the file (%ju bytes)",
                        header_len, file_size);
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
        return npy_fail(err, err_size,
                        "the data is %s than shape %s of %s needs (%ju bytes, not %zu)",
                        have < array->nbytes ? "shorter" : "longer", text,
                        npy_dtype_name(array->dtype), have, array->nbytes);
    }
    return NPY_OK;
}

npy_status npy_read_fd(int fd, npy_array *array, char *err, size_t err_size)
{
    memset(array, 0, sizeof *array);
    npy_array a;
    memset(&a, 0, sizeof a);
    npy_status status = NPY_ERROR_INPUT;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        npy_fail(err, err_size, "cannot inspect it: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        npy_fail(err, err_size, "it is not a regular file");
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
        npy_fail(err, err_size, "out of host memory while reading it");
    free(a.data);
    return status;
}

npy_status npy_read(const char *path, npy_array *array, char *err, size_t err_size)
{
    memset(array, 0, sizeof *array);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return npy_fail(err, err_size, "cannot open it: %s", strerror(errno));
    npy_status status = npy_read_fd(fd, array, err, err_size);
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
    const char *descr = npy_dtype_descr(dtype);
    if (!descr || rank < 0 || rank > NPY_MAX_RANK)
        return npy_fail(err, err_size, "cannot write dtype %d of rank %d", (int)dtype, rank);
    npy_array a;
    memset(&a, 0, sizeof a);
    a.dtype = dtype;
    a.rank = rank;
    memcpy(a.shape, shape, (size_t)rank * sizeof *shape);
    npy_status status = npy_check_size(&a, err, err_size);
    if (status != NPY_OK)
        return status;
    /* magic, version 1.0, 2-byte length, dict, spaces, '\n': a multiple of
     * 64 bytes, as NumPy writes it (keeps the data aligned for mmap). */
    char header[NPY_MAX_RANK * 24 + 192];
    char shape_text[NPY_MAX_RANK * 24 + 8];
    npy_format_shape(shape, rank, shape_text, sizeof shape_text);
    int dict_len =
        snprintf(header + 10, sizeof header - 10,
                 "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape_text);
    if (dict_len < 0 || (size_t)dict_len + 10 + 1 + 63 > sizeof header)
        return npy_fail(err, err_size, "the .npy header for shape %s is too long", shape_text);
    size_t total = (10 + (size_t)dict_len + 1 + 63) / 64 * 64;
    memset(header + 10 + dict_len, ' ', total - 10 - (size_t)dict_len);
    header[total - 1] = '\n';
    memcpy(header, npy_magic, sizeof npy_magic);
    header[6] = 1;
    header[7] = 0;
    header[8] = (char)((total - 10) & 0xff);
    header[9] = (char)((total - 10) >> 8);
    if (write_all(fd, header, total) != 0 || write_all(fd, data, a.nbytes) != 0)
        return npy_fail(err, err_size, "writing failed: %s", strerror(errno));
    return NPY_OK;
}
