/*
 * The harness of the clpool program's end-to-end tests (test_cli.c and
 * test_cli_grad.c): a folder per test, a small .npy writer and reader of its
 * own (not the program's), and the program run through $CLPOOL_BIN with
 * posix_spawn. See cli_harness.h.
 */
#include "cli_harness.h"

#include <check.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char base_dir[4096];

/* ---- files -------------------------------------------------------------- */

void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated, or NULL when it does not exist. */
char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/*
 * A .npy file with any version, header dict text and data: the dict is
 * padded with spaces and '\n' to a multiple of 64 bytes as NumPy does.
 * Malformed files are written with write_bytes() directly.
 */
void write_npy_raw(const char *path, int major, const char *dict, const void *data,
                   size_t data_len)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t total = (pre + strlen(dict) + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    unsigned char *buf = calloc(1, total + data_len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memset(buf + pre, ' ', hlen);
    memcpy(buf + pre, dict, strlen(dict));
    buf[total - 1] = '\n';
    if (data_len)
        memcpy(buf + total, data, data_len);
    write_bytes(path, buf, total + data_len);
    free(buf);
}

/* A C-order array of @p rank dims, elements of @p size bytes, dtype @p descr. */
void write_typed(const char *path, const char *descr, size_t size, const size_t *shape, int rank,
                 const void *data)
{
    char dict[512], text[256] = "(";
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%zu", i ? ", " : "", shape[i]);
        count *= shape[i];
    }
    strcat(text, rank == 1 ? ",)" : ")");
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
             text);
    write_npy_raw(path, 1, dict, data, count * size);
}

/* A float32 C-order array of @p rank dims. */
void write_f32(const char *path, const size_t *shape, int rank, const float *data)
{
    write_typed(path, "<f4", sizeof(float), shape, rank, data);
}

/*
 * Reads a .npy the program wrote: checks version 1.0, the exact descr and
 * shape text, and that the data has @p count elements of @p size bytes.
 * Returns the data (malloc'ed).
 */
void *read_npy(const char *path, const char *descr, const char *shape, size_t count, size_t size)
{
    size_t len = 0;
    char *file = read_bytes(path, &len);
    ck_assert_msg(file != NULL, "%s was not written", path);
    ck_assert_msg(len >= 10 && memcmp(file, "\x93NUMPY\x01\x00", 8) == 0, "%s: bad preamble", path);
    size_t hlen = (size_t)(unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8;
    ck_assert_msg((10 + hlen) % 64 == 0, "%s: header not padded to 64 bytes", path);
    ck_assert_uint_ge(len, 10 + hlen);
    char *header = strndup(file + 10, hlen);
    char want[256];
    snprintf(want, sizeof want, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
             shape);
    ck_assert_msg(strncmp(header, want, strlen(want)) == 0, "%s: header %s, want %s", path, header,
                  want);
    ck_assert_msg(header[hlen - 1] == '\n', "%s: header does not end with a newline", path);
    free(header);
    ck_assert_uint_eq(len - 10 - hlen, count * size);
    void *data = malloc(count * size + 1);
    ck_assert_ptr_nonnull(data);
    memcpy(data, file + 10 + hlen, count * size);
    free(file);
    return data;
}

/* Sorted names in the work folder (hidden ones too), one per line. */
char *list_folder(void)
{
    char *names[256];
    int n = 0;
    DIR *dir = opendir(".");
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 256)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    closedir(dir);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += strlen(names[i]) + 1;
    char *text = calloc(1, cap);
    for (int i = 0; i < n; i++) {
        strcat(text, names[i]);
        strcat(text, "\n");
        free(names[i]);
    }
    return text;
}

void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[8192];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void cli_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/clpool-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(base_dir));
    char work[4200];
    snprintf(work, sizeof work, "%s/work", base_dir);
    ck_assert_int_eq(mkdir(work, 0755), 0);
    ck_assert_int_eq(chdir(work), 0);
}

void cli_teardown(void)
{
    if (chdir("/") == 0)
        remove_tree(base_dir);
}

/* ---- running the program ------------------------------------------------ */

void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

struct result run_argv(const char *const *args)
{
    const char *bin = getenv("CLPOOL_BIN");
    ck_assert_msg(bin && *bin, "CLPOOL_BIN is not set (meson's test() sets it)");
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)bin;
    for (; args[argc - 1] && argc < 63; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/stdout", base_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", base_dir);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ck_assert_msg(rc == 0, "cannot start %s: %s", bin, strerror(rc));
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    struct result r;
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    r.out = read_bytes(out_path, NULL);
    r.err = read_bytes(err_path, NULL);
    ck_assert_ptr_nonnull(r.out);
    ck_assert_ptr_nonnull(r.err);
    return r;
}

void expect_success(struct result r)
{
    ck_assert_msg(r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    ck_assert_msg(r.err[0] == '\0', "stderr not empty: %s", r.err);
}

void expect_success_free(struct result r)
{
    expect_success(r);
    result_free(&r);
}

/* The contract's failure: the exit code and one line "clpool: ...". */
void expect_one_line(const struct result *r, int code, const char *needle)
{
    ck_assert_msg(r->status == code, "exit %d, want %d; stderr: %s", r->status, code, r->err);
    size_t len = strlen(r->err);
    ck_assert_msg(strncmp(r->err, "clpool: ", 8) == 0 && len > 9, "stderr: '%s'", r->err);
    ck_assert_msg(r->err[len - 1] == '\n' && strchr(r->err, '\n') == r->err + len - 1,
                  "stderr is not exactly one line: '%s'", r->err);
    ck_assert_msg(!needle || strstr(r->err, needle), "stderr '%s' lacks '%s'", r->err, needle);
    ck_assert_msg(r->out[0] == '\0', "stdout not empty on failure: %s", r->out);
}
