/*
 * libFuzzer target: the .npy reader of the clpool program (src/cli/npy.c and
 * npy_header.c). Each input is a whole file, read through npy_read_fd() from
 * an in-memory file, and its bytes are also parsed as a bare header dict.
 * Besides the sanitizers' checks it asserts what the reader promises: a
 * failure leaves no allocation and one sentence; a success holds exactly the
 * file's trailing bytes, and writing it back with npy_write() reads back the
 * same array.
 */
#define _GNU_SOURCE
#include "npy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1, output_fd = -1;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_npy: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    input_fd = memfd_create("fuzz_npy_in", MFD_CLOEXEC);
    output_fd = memfd_create("fuzz_npy_out", MFD_CLOEXEC);
    if (input_fd < 0 || output_fd < 0)
        fail("memfd_create failed");
    return 0;
}

/* Makes @p fd hold exactly @p size bytes of @p data, positioned at 0. */
static void fill(int fd, const void *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size) ||
        lseek(fd, 0, SEEK_SET) != 0)
        fail("cannot fill the in-memory file");
}

/* A failure message: one non-empty line. */
static void check_message(const char *err, size_t err_size)
{
    size_t len = strnlen(err, err_size);
    if (len == 0 || len == err_size || strchr(err, '\n'))
        fail("the error message is empty, unterminated or more than one line");
}

static void check_counts(const npy_array *a)
{
    if (a->rank < 0 || a->rank > NPY_MAX_RANK)
        fail("rank out of range");
    size_t count = 1;
    for (int i = 0; i < a->rank; i++)
        count *= a->shape[i]; /* npy_check_size already refused overflow */
    if (count != a->count || a->nbytes != count * npy_dtype_size(a->dtype))
        fail("count or nbytes disagree with the shape");
}

/* npy_write then npy_read_fd must give back the same array. */
static void check_round_trip(const npy_array *a)
{
    char err[NPY_ERROR_SIZE] = "";
    if (ftruncate(output_fd, 0) != 0 || lseek(output_fd, 0, SEEK_SET) != 0)
        fail("cannot reset the output file");
    npy_status st = npy_write(output_fd, a->dtype, a->rank, a->shape, a->data, err, sizeof err);
    if (st != NPY_OK) {
        /* Only a shape too long for the writer's header may be refused. */
        check_message(err, sizeof err);
        if (!strstr(err, "too long"))
            fail("npy_write refused an array the reader accepted");
        return;
    }
    if (lseek(output_fd, 0, SEEK_SET) != 0)
        fail("cannot rewind the output file");
    npy_array back;
    st = npy_read_fd(output_fd, &back, err, sizeof err);
    if (st != NPY_OK) {
        fprintf(stderr, "fuzz_npy: reading back: %s\n", err);
        fail("a file npy_write wrote does not read back");
    }
    if (back.dtype != a->dtype || back.rank != a->rank ||
        memcmp(back.shape, a->shape, (size_t)a->rank * sizeof *a->shape) != 0 ||
        back.nbytes != a->nbytes || memcmp(back.data, a->data, a->nbytes) != 0)
        fail("the written file reads back different");
    npy_release(&back);
}

static void read_whole_file(const uint8_t *data, size_t size)
{
    fill(input_fd, data, size);
    npy_array a;
    memset(&a, 0xA5, sizeof a); /* the reader must overwrite it either way */
    char err[NPY_ERROR_SIZE] = "";
    npy_status st = npy_read_fd(input_fd, &a, err, sizeof err);
    if (st != NPY_OK) {
        check_message(err, sizeof err);
        if (a.data != NULL || a.rank != 0 || a.count != 0)
            fail("a failed read left something in the array");
        return;
    }
    check_counts(&a);
    if (!a.data || a.nbytes > size || memcmp(a.data, data + size - a.nbytes, a.nbytes) != 0)
        fail("the data read is not the file's trailing bytes");
    check_round_trip(&a);
    npy_release(&a);
    if (a.data != NULL)
        fail("npy_release left a pointer");
}

static void parse_bare_header(const uint8_t *data, size_t size)
{
    npy_array a;
    memset(&a, 0, sizeof a);
    char err[NPY_ERROR_SIZE] = "";
    npy_status st = npy_parse_header((const char *)data, size, &a, err, sizeof err);
    if (st != NPY_OK)
        check_message(err, sizeof err);
    else
        check_counts(&a);
    if (a.data != NULL)
        fail("the header parser touched the data pointer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_whole_file(data, size);
    parse_bare_header(data, size);
    return 0;
}
