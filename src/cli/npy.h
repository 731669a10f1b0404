/*
 * Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 * The reader is strict and safe: it accepts only little-endian, C-order
 * arrays of a few plain dtypes, checks every size against overflow and the
 * file length, and never trusts the header to size an allocation before the
 * file has been seen to hold that many bytes.
 */
#ifndef CLPOOL_CLI_NPY_H
#define CLPOOL_CLI_NPY_H

#include <stddef.h>

#if defined(__GNUC__)
#define NPY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NPY_PRINTF(fmt, args)
#endif

/* NumPy allows 64 dimensions; no pooling tensor comes close. */
#define NPY_MAX_RANK 32
/* Longest header the reader accepts (NumPy itself refuses more than 10000
 * bytes unless told otherwise). */
#define NPY_MAX_HEADER 65536
/* Room for one message of the reader or writer. */
#define NPY_ERROR_SIZE 256

typedef enum npy_dtype {
    NPY_FLOAT32, /* '<f4' */
    NPY_FLOAT64, /* '<f8' */
    NPY_FLOAT16, /* '<f2' */
    NPY_UINT8,   /* '|u1' */
    NPY_INT8,    /* '|i1' */
    NPY_INT64,   /* '<i8' (indices) */
    NPY_UINT16   /* '<u2' (bfloat16 bit patterns) */
} npy_dtype;

typedef enum npy_status {
    NPY_OK = 0,
    NPY_ERROR_INPUT, /* unreadable, malformed or unsupported file; cannot write */
    NPY_ERROR_MEMORY /* the data does not fit in host memory */
} npy_status;

/* An array in host memory; data is malloc'ed and owned by the struct. */
typedef struct npy_array {
    npy_dtype dtype;
    int rank;
    size_t shape[NPY_MAX_RANK];
    size_t count;  /* product of shape (1 for rank 0) */
    size_t nbytes; /* count * element size */
    void *data;
} npy_array;

/* "float32", "int64", ... */
const char *npy_dtype_name(npy_dtype dtype);
size_t npy_dtype_size(npy_dtype dtype);

/* The descr NumPy writes for @p dtype ("<f4", "|u1", ...). */
const char *npy_dtype_descr(npy_dtype dtype);

/* Writes "(2, 3)", "(5,)" or "()" into @p buf (truncated to @p size). */
void npy_format_shape(const size_t *shape, int rank, char *buf, size_t size);

/*
 * Parses the header dict of @p len bytes (the text after the length field)
 * into dtype, rank, shape, count and nbytes of @p array (data untouched).
 * On failure writes one sentence to @p err.
 */
npy_status npy_parse_header(const char *text, size_t len, npy_array *array, char *err,
                            size_t err_size);

/* Formats one sentence into @p err and returns NPY_ERROR_INPUT (for the
 * npy*.c files). */
npy_status npy_fail(char *err, size_t err_size, const char *fmt, ...) NPY_PRINTF(3, 4);

/* Sets count and nbytes of @p array from its dtype, rank and shape; refuses
 * (with a sentence in @p err) a size that overflows size_t. */
npy_status npy_check_size(npy_array *array, char *err, size_t err_size);

/*
 * Reads the file at @p path into @p array. On success the caller owns
 * array->data (release with npy_release()); on failure @p array holds no
 * allocation and @p err one sentence that does not repeat the path.
 */
npy_status npy_read(const char *path, npy_array *array, char *err, size_t err_size);

/*
 * The same from the open file descriptor @p fd, positioned at the start of
 * the file, which must be a regular file (its size is what fstat reports);
 * @p fd stays open. The fuzz target of tests/fuzz/ feeds its bytes this way.
 */
npy_status npy_read_fd(int fd, npy_array *array, char *err, size_t err_size);

/* Frees the data and zeroes the array. NULL is a no-op. */
void npy_release(npy_array *array);

/*
 * Writes a version 1.0 .npy (header padded to 64 bytes) of @p rank and
 * @p shape whose data are the count * size bytes at @p data, to the open
 * file descriptor @p fd. On failure writes one sentence to @p err.
 */
npy_status npy_write(int fd, npy_dtype dtype, int rank, const size_t *shape, const void *data,
                     char *err, size_t err_size);

#endif /* CLPOOL_CLI_NPY_H */
