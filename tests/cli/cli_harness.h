/*
 * The harness of the clpool program's end-to-end tests. Each test runs in a
 * folder of its own (cli_setup/cli_teardown as Check's checked fixture):
 * <base_dir>/work is the current directory, <base_dir>/stdout and
 * <base_dir>/stderr receive the program's output. Files are written and
 * read with the small .npy code here, never the program's. This process
 * never touches OpenCL (only the spawned program does), so Check's fork per
 * test is safe. Failures are Check assertions.
 */
#ifndef CLPOOL_TESTS_CLI_HARNESS_H
#define CLPOOL_TESTS_CLI_HARNESS_H

#include <stddef.h>

extern char base_dir[4096];

void write_bytes(const char *path, const void *data, size_t len);
/* The whole file, NUL-terminated and malloc'ed, or NULL when it does not exist. */
char *read_bytes(const char *path, size_t *len);
int exists(const char *path);
/* A .npy of any version, header dict text and data (dict padded as NumPy does). */
void write_npy_raw(const char *path, int major, const char *dict, const void *data,
                   size_t data_len);
/* A C-order array of @p rank dims, elements of @p size bytes, dtype @p descr. */
void write_typed(const char *path, const char *descr, size_t size, const size_t *shape, int rank,
                 const void *data);
void write_f32(const char *path, const size_t *shape, int rank, const float *data);
/* A .npy the program wrote, checked (version 1.0, exact descr and shape
 * text, @p count elements of @p size bytes); returns the data, malloc'ed. */
void *read_npy(const char *path, const char *descr, const char *shape, size_t count, size_t size);
/* Sorted names in the work folder (hidden ones too), one per line; malloc'ed. */
char *list_folder(void);
void remove_tree(const char *path);
void cli_setup(void);
void cli_teardown(void);

/* One run of the program: its exit code and whole output (malloc'ed). */
struct result {
    int status; /* exit code, or 128 + signal */
    char *out;
    char *err;
};

void result_free(struct result *r);
struct result run_argv(const char *const *args);
#define RUN(...) run_argv((const char *const[]){__VA_ARGS__, NULL})

/* Exit 0 and an empty stderr; the result stays the caller's. */
void expect_success(struct result r);
/* The same, then frees the result: for expect_success_free(RUN(...)). */
void expect_success_free(struct result r);
/* The contract's failure: exit @p code, one line "clpool: ..." holding
 * @p needle (when not NULL), nothing on stdout. */
void expect_one_line(const struct result *r, int code, const char *needle);

#endif
