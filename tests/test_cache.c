/*
 * Suite "cache": the program cache. In memory within one context, and on disk
 * across processes: cache_probe (path in $CLPOOL_CACHE_PROBE) runs in fresh
 * processes against a fresh folder, whose entry is then truncated, corrupted
 * and finally never written when $CLPOOL_CACHE=0.
 */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ------------------------------------------------------------------------ */
/* In memory                                                                */

static clpool_cache_stats stats_of(const clpool_context *ctx)
{
    clpool_cache_stats s;
    ck_assert_int_eq(clpool_context_cache_stats(ctx, &s), CLPOOL_SUCCESS);
    return s;
}

static clpool_tensor_desc tensor2d(size_t n, size_t c, size_t h, size_t w)
{
    clpool_tensor_desc t;
    memset(&t, 0, sizeof t);
    t.dtype = CLPOOL_FLOAT32;
    t.layout = CLPOOL_NCHW;
    t.spatial_dims = 2;
    t.n = n;
    t.c = c;
    t.spatial[0] = h;
    t.spatial[1] = w;
    return t;
}

/* Runs @p plan on seeded input and checks it against the reference. */
static void run_and_check(clpool_plan *plan, const clpool_window_desc *op,
                          const clpool_tensor_desc *in, uint64_t seed)
{
    size_t n = clpool_tensor_elements(in);
    float *x = malloc(n * sizeof *x);
    test_rng r = {seed};
    fill_values(&r, x, n, VALUES_UNIFORM);
    window_ref ref;
    ck_assert_int_eq(window_ref_compute(&ref, op, in, x), 0);
    float *y = malloc(ref.out_elems * sizeof *y);
    void *idx = op->indices ? malloc(ref.out_elems * 8) : NULL;
    poison_floats(y, ref.out_elems);
    ck_assert_int_eq(clpool_run_host(plan, NULL, x, y, idx), CLPOOL_SUCCESS);
    int budget = 10;
    ck_assert_uint_eq(window_compare(&ref, op, in, y, idx, "cache", &budget), 0);
    window_ref_free(&ref);
    free(x);
    free(y);
    free(idx);
}

START_TEST(test_memory_hits)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.disable_disk_cache = 1; /* every miss is a build */
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_AVG;
    op.kernel[0] = op.kernel[1] = 3;
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    clpool_tensor_desc in = tensor2d(1, 3, 20, 20);

    clpool_cache_stats s0 = stats_of(ctx);
    ck_assert_uint_eq(s0.builds + s0.memory_hits + s0.disk_hits + s0.disk_writes, 0);
    clpool_plan *p1 = NULL, *p2 = NULL, *p3 = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &p1), CLPOOL_SUCCESS);
    clpool_cache_stats s1 = stats_of(ctx);
    ck_assert_uint_ge(s1.builds, 1);
    ck_assert_uint_eq(s1.disk_writes + s1.disk_hits, 0);

    /* The same op and shape again: served from memory. */
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &p2), CLPOOL_SUCCESS);
    clpool_cache_stats s2 = stats_of(ctx);
    ck_assert_uint_eq(s2.builds, s1.builds);
    ck_assert_uint_eq(s2.memory_hits, s1.memory_hits + (s1.builds));

    /* The same op on another batch size: shapes are kernel arguments. */
    clpool_tensor_desc in2 = tensor2d(4, 5, 20, 20);
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in2, &p3), CLPOOL_SUCCESS);
    clpool_cache_stats s3 = stats_of(ctx);
    ck_assert_uint_eq(s3.builds, s1.builds);
    ck_assert_uint_gt(s3.memory_hits, s2.memory_hits);

    /* Plans sharing a program all work, in any order, also after one is
     * destroyed. */
    run_and_check(p2, &op, &in, 1);
    run_and_check(p1, &op, &in, 2);
    clpool_plan_destroy(p1);
    run_and_check(p3, &op, &in2, 3);
    run_and_check(p2, &op, &in, 4);

    /* Another op builds again. */
    clpool_window_desc other = op;
    other.op = CLPOOL_OP_MAX;
    other.indices = CLPOOL_INDICES_INT64;
    clpool_plan *p4 = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &other, &in, &p4), CLPOOL_SUCCESS);
    clpool_cache_stats s4 = stats_of(ctx);
    ck_assert_uint_gt(s4.builds, s3.builds);
    run_and_check(p4, &other, &in, 5);
    clpool_plan_destroy(p4);
    clpool_plan_destroy(p3);
    clpool_plan_destroy(p2);

    /* A second context does not share the first one's memory cache. */
    clpool_context *ctx2 = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx2), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_window(ctx2, &op, &in, &p1), CLPOOL_SUCCESS);
    clpool_cache_stats t = stats_of(ctx2);
    ck_assert_uint_ge(t.builds, 1);
    ck_assert_uint_eq(t.memory_hits, 0);
    run_and_check(p1, &op, &in, 6);
    clpool_plan_destroy(p1);
    clpool_context_destroy(ctx2);
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* On disk, across processes                                                */

typedef struct probe_result {
    long builds, disk_hits, disk_rejects, disk_writes, memory_hits;
    int ok;
    int exit_code;
    char line[512];
} probe_result;

/* A cache_probe process under way: its pid and the read end of its stdout. */
typedef struct probe_run {
    pid_t pid;
    int out;
    char dir[4200];
    const char *cache_env;
} probe_run;

/* Starts cache_probe with CLPOOL_CACHE_DIR=@p dir and, when @p cache_env is
 * not NULL, CLPOOL_CACHE=@p cache_env; every other variable inherited. */
static probe_run probe_start(const char *dir, const char *cache_env)
{
    const char *probe = getenv("CLPOOL_CACHE_PROBE");
    ck_assert_msg(probe && *probe, "CLPOOL_CACHE_PROBE is not set (meson sets it)");
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CLPOOL_CACHE_DIR=", 17) != 0 &&
            strncmp(environ[i], "CLPOOL_CACHE=", 13) != 0)
            env[m++] = environ[i];
    char dir_var[4200], cache_var[64];
    snprintf(dir_var, sizeof dir_var, "CLPOOL_CACHE_DIR=%s", dir);
    env[m++] = dir_var;
    if (cache_env) {
        snprintf(cache_var, sizeof cache_var, "CLPOOL_CACHE=%s", cache_env);
        env[m++] = cache_var;
    }
    env[m] = NULL;

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {(char *)probe, NULL};
    probe_run run;
    memset(&run, 0, sizeof run);
    int err = posix_spawn(&run.pid, probe, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    free(env);
    ck_assert_msg(err == 0, "posix_spawn %s: %s", probe, strerror(err));
    run.out = fds[0];
    snprintf(run.dir, sizeof run.dir, "%s", dir);
    run.cache_env = cache_env;
    return run;
}

/* Waits for the probe and parses its line; fails the test unless it exited
 * 0 with a complete line. */
static probe_result probe_finish(probe_run *run)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    size_t len = 0;
    ssize_t got;
    while ((got = read(run->out, r.line + len, sizeof r.line - 1 - len)) > 0)
        len += (size_t)got;
    close(run->out);
    int status = 0;
    ck_assert_int_eq(waitpid(run->pid, &status, 0), run->pid);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char verdict[16] = "";
    int fields =
        sscanf(r.line,
               "builds=%ld disk_hits=%ld disk_rejects=%ld disk_writes=%ld "
               "memory_hits=%ld result=%15s",
               &r.builds, &r.disk_hits, &r.disk_rejects, &r.disk_writes, &r.memory_hits, verdict);
    ck_assert_msg(fields == 6 && r.exit_code == 0,
                  "cache_probe (dir %s, CLPOOL_CACHE=%s) exited %d and printed \"%s\"", run->dir,
                  run->cache_env ? run->cache_env : "(unset)", r.exit_code, r.line);
    r.ok = strcmp(verdict, "ok") == 0;
    return r;
}

static probe_result run_probe(const char *dir, const char *cache_env)
{
    probe_run run = probe_start(dir, cache_env);
    return probe_finish(&run);
}

/* Every regular file under @p dir (recursively). */
static char found_paths[16][4200];
static size_t found_count;
static off_t found_sizes[16];

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type == FTW_F && found_count < 16) {
        snprintf(found_paths[found_count], sizeof found_paths[0], "%s", path);
        found_sizes[found_count] = sb->st_size;
        found_count++;
    }
    return 0;
}

static size_t list_files(const char *dir)
{
    found_count = 0;
    nftw(dir, collect, 8, FTW_PHYS);
    return found_count;
}

static void remove_tree(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void expect(const probe_result *r, long builds, long hits, long rejects, long writes,
                   const char *what)
{
    printf("%-22s %s", what, r->line);
    fflush(stdout);
    ck_assert_msg(r->builds == builds && r->disk_hits == hits && r->disk_rejects == rejects &&
                      r->disk_writes == writes && r->ok,
                  "%s: probe printed \"%s\", want builds=%ld disk_hits=%ld disk_rejects=%ld "
                  "disk_writes=%ld result=ok",
                  what, r->line, builds, hits, rejects, writes);
}

static void read_file(const char *path, unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(*data, 1, (size_t)n, f);
    fclose(f);
}

static void write_file(const char *path, const unsigned char *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

START_TEST(test_disk_across_processes)
{
    char dir[] = "/tmp/clpool-cache-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));

    /* A new process builds and writes one entry. */
    probe_result r = run_probe(dir, NULL);
    expect(&r, 1, 0, 0, 1, "first run");
    ck_assert_uint_eq(list_files(dir), 1);
    char entry[4200];
    snprintf(entry, sizeof entry, "%s", found_paths[0]);
    off_t entry_size = found_sizes[0];
    ck_assert_int_gt(entry_size, 64);
    unsigned char *original;
    size_t original_size;
    read_file(entry, &original, &original_size);

    /* The next process loads it. */
    r = run_probe(dir, NULL);
    expect(&r, 0, 1, 0, 0, "second run");
    ck_assert_uint_eq(list_files(dir), 1);

    /* Truncated: rejected, rebuilt, rewritten in full. */
    ck_assert_int_eq(truncate(entry, entry_size / 2), 0);
    r = run_probe(dir, NULL);
    expect(&r, 1, 0, 1, 1, "truncated entry");
    ck_assert_uint_eq(list_files(dir), 1);
    ck_assert_str_eq(found_paths[0], entry);
    /* Rewritten whole: the next process loads it. (Its size may differ from
     * the first build's: PoCL's binaries also carry the work-group functions
     * its own cache holds by then.) */
    ck_assert_int_gt(found_sizes[0], 64);
    r = run_probe(dir, NULL);
    expect(&r, 0, 1, 0, 0, "after the truncated entry's rebuild");

    /* One byte flipped in the middle: the same. */
    unsigned char *data;
    size_t size;
    read_file(entry, &data, &size);
    ck_assert_uint_gt(size, 64);
    data[size / 2] ^= 0x5a;
    write_file(entry, data, size);
    free(data);
    r = run_probe(dir, NULL);
    expect(&r, 1, 0, 1, 1, "corrupted entry");
    ck_assert_uint_eq(list_files(dir), 1);
    r = run_probe(dir, NULL);
    expect(&r, 0, 1, 0, 0, "after the corrupted entry's rebuild");

    /* An empty file. */
    ck_assert_int_eq(truncate(entry, 0), 0);
    r = run_probe(dir, NULL);
    expect(&r, 1, 0, 1, 1, "empty entry");

    /* And valid again afterwards. */
    r = run_probe(dir, NULL);
    expect(&r, 0, 1, 0, 0, "after the rewrites");
    ck_assert_uint_eq(list_files(dir), 1);
    free(original);
    remove_tree(dir);

    /* CLPOOL_CACHE=0: builds, writes nothing. */
    char off[] = "/tmp/clpool-cache-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(off));
    r = run_probe(off, "0");
    expect(&r, 1, 0, 0, 0, "CLPOOL_CACHE=0");
    r = run_probe(off, "0");
    expect(&r, 1, 0, 0, 0, "CLPOOL_CACHE=0 again");
    ck_assert_uint_eq(list_files(off), 0);
    remove_tree(off);
}
END_TEST

/* A new context in the same process also reads the disk entry. */
START_TEST(test_disk_same_process)
{
    char dir[] = "/tmp/clpool-cache-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.cache_dir = dir;
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = 2;
    op.indices = CLPOOL_INDICES_INT32;
    clpool_tensor_desc in = tensor2d(2, 2, 10, 12);
    for (int round = 0; round < 2; round++) {
        clpool_context *ctx = NULL;
        ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
        ck_assert_str_eq(clpool_context_cache_dir(ctx), dir);
        clpool_plan *plan = NULL;
        ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
        clpool_cache_stats s = stats_of(ctx);
        if (round == 0) {
            ck_assert_uint_eq(s.builds, 1);
            ck_assert_uint_eq(s.disk_writes, 1);
        } else {
            ck_assert_uint_eq(s.builds, 0);
            ck_assert_uint_eq(s.disk_hits, 1);
        }
        /* int32 indices: run_and_check reads them as int32 via the op. */
        run_and_check(plan, &op, &in, 9);
        clpool_plan_destroy(plan);
        clpool_context_destroy(ctx);
    }
    remove_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Damaged, foreign and unwritable entries, in process                      */

/* Warnings and errors a context logged, one per line. */
typedef struct log_lines {
    int count;
    char text[8192];
} log_lines;

static void capture_log(void *user, clpool_log_level level, const char *message)
{
    log_lines *l = user;
    if (level > CLPOOL_LOG_WARNING)
        return;
    l->count++;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s\n", message);
}

typedef struct context_run {
    clpool_cache_stats stats;
    log_lines log;
    int disk_cache_on;
} context_run;

/* A fresh context on cache folder @p dir plans @p op, runs it and checks the
 * result against the reference. */
static context_run plan_in_fresh_context(const char *dir, const clpool_window_desc *op,
                                         const clpool_tensor_desc *in, uint64_t seed)
{
    context_run r;
    memset(&r, 0, sizeof r);
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.cache_dir = dir;
    o.log = capture_log;
    o.log_user = &r.log;
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    r.disk_cache_on = clpool_context_cache_dir(ctx) != NULL;
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(ctx, op, in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "plan with cache folder %s: %s; log:\n%s", dir,
                  clpool_status_string(st), r.log.text);
    run_and_check(plan, op, in, seed);
    r.stats = stats_of(ctx);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
    return r;
}

static void expect_stats(const context_run *r, uint64_t builds, uint64_t hits, uint64_t rejects,
                         uint64_t writes, const char *what)
{
    ck_assert_msg(r->stats.builds == builds && r->stats.disk_hits == hits &&
                      r->stats.disk_rejects == rejects && r->stats.disk_writes == writes,
                  "%s: builds=%llu disk_hits=%llu disk_rejects=%llu disk_writes=%llu, want "
                  "%llu %llu %llu %llu; log:\n%s",
                  what, (unsigned long long)r->stats.builds, (unsigned long long)r->stats.disk_hits,
                  (unsigned long long)r->stats.disk_rejects,
                  (unsigned long long)r->stats.disk_writes, (unsigned long long)builds,
                  (unsigned long long)hits, (unsigned long long)rejects, (unsigned long long)writes,
                  r->log.text);
}

/* Entry layout (src/program_cache.c): magic[8] | u32 format | u32 0 |
 * key digest[32] | u64 payload size | payload SHA-256[32] | payload. */
#define ENTRY_FORMAT_AT 8
#define ENTRY_KEY_AT 16
#define ENTRY_SIZE_AT 48
#define ENTRY_SUM_AT 56
#define ENTRY_PAYLOAD_AT 88

/* Writes the SHA-256 of @p size bytes at @p data to @p digest, with the
 * system's sha256sum (coreutils): the test does not link the library's
 * internal hash. */
static void sha256_of(const unsigned char *data, size_t size, unsigned char digest[32])
{
    char path[] = "/tmp/clpool-cache-payload-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
    close(fd);
    char cmd[128], hex[65] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%64s", hex), 1);
    ck_assert_int_eq(pclose(p), 0);
    unlink(path);
    ck_assert_uint_eq(strlen(hex), 64);
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        digest[i] = (unsigned char)v;
    }
}

typedef enum damage {
    TRUNCATED_HALF,
    CUT_IN_HEADER,
    EMPTY,
    PAYLOAD_BYTE_FLIPPED,
    BYTE_APPENDED,
    MAGIC_CHANGED,
    OTHER_FORMAT,
    KEY_BYTE_FLIPPED,
    SIZE_FIELD_CHANGED,
    CHECKSUM_FLIPPED,
    FOREIGN_ENTRY,
    DRIVER_REFUSES,
    DAMAGE_COUNT
} damage;

static const struct {
    const char *name;
    const char *logged; /* what the warning must say */
} damages[DAMAGE_COUNT] = {
    [TRUNCATED_HALF] = {"truncated to half its size", "truncated or of the wrong size"},
    [CUT_IN_HEADER] = {"cut inside its header", "shorter than its header"},
    [EMPTY] = {"empty", "shorter than its header"},
    [PAYLOAD_BYTE_FLIPPED] = {"one payload bit flipped", "corrupt (checksum mismatch)"},
    [BYTE_APPENDED] = {"one byte appended", "truncated or of the wrong size"},
    [MAGIC_CHANGED] = {"not starting with the magic", "not a clpool cache entry of this format"},
    [OTHER_FORMAT] = {"another entry format (another library version's layout)",
                      "not a clpool cache entry of this format"},
    [KEY_BYTE_FLIPPED] = {"one bit of the stored key flipped", "written for another key"},
    [SIZE_FIELD_CHANGED] = {"a payload size that does not match", "truncated or of the wrong size"},
    [CHECKSUM_FLIPPED] = {"one checksum bit flipped", "corrupt (checksum mismatch)"},
    /* The key hashes the library version, platform, device, driver
     * version, source and options: an entry of another library or driver
     * version looks like this one. */
    [FOREIGN_ENTRY] = {"another program's whole entry (another library or driver version, "
                       "device, source or options)",
                       "written for another key"},
    [DRIVER_REFUSES] = {"a payload the driver refuses, with a valid checksum",
                        "refused by the driver"},
};

/* Applies @p kind to a copy of a good entry; @p foreign is another
 * program's good entry. */
static void apply_damage(damage kind, unsigned char **data, size_t *size,
                         const unsigned char *foreign, size_t foreign_size)
{
    unsigned char *d = *data;
    ck_assert_uint_gt(*size, ENTRY_PAYLOAD_AT + 16);
    switch (kind) {
    case TRUNCATED_HALF:
        *size /= 2;
        break;
    case CUT_IN_HEADER:
        *size = ENTRY_SIZE_AT + 3;
        break;
    case EMPTY:
        *size = 0;
        break;
    case PAYLOAD_BYTE_FLIPPED:
        d[ENTRY_PAYLOAD_AT + (*size - ENTRY_PAYLOAD_AT) / 3] ^= 0x10;
        break;
    case BYTE_APPENDED:
        *data = d = realloc(d, *size + 1);
        d[(*size)++] = 0;
        break;
    case MAGIC_CHANGED:
        d[0] ^= 0x20; /* "cLPOOLPC" */
        break;
    case OTHER_FORMAT:
        d[ENTRY_FORMAT_AT] += 1;
        break;
    case KEY_BYTE_FLIPPED:
        d[ENTRY_KEY_AT + 31] ^= 0x01;
        break;
    case SIZE_FIELD_CHANGED:
        d[ENTRY_SIZE_AT] -= 1;
        break;
    case CHECKSUM_FLIPPED:
        d[ENTRY_SUM_AT + 7] ^= 0x80;
        break;
    case FOREIGN_ENTRY:
        *data = d = realloc(d, foreign_size);
        memcpy(d, foreign, foreign_size);
        *size = foreign_size;
        break;
    case DRIVER_REFUSES:
        memset(d + ENTRY_PAYLOAD_AT, 0xa5, *size - ENTRY_PAYLOAD_AT);
        sha256_of(d + ENTRY_PAYLOAD_AT, *size - ENTRY_PAYLOAD_AT, d + ENTRY_SUM_AT);
        break;
    case DAMAGE_COUNT:
        break;
    }
}

static clpool_window_desc probe_like_op(void)
{
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = 3;
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    op.indices = CLPOOL_INDICES_INT64;
    return op;
}

/* Every damage: detected, one warning naming the entry and the fault, the
 * program rebuilt from source with the right result, the entry rewritten
 * whole (the next context loads it). */
START_TEST(test_disk_damaged_entries)
{
    char dir[] = "/tmp/clpool-cache-test-XXXXXX", other[] = "/tmp/clpool-cache-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(mkdtemp(other));
    clpool_window_desc op = probe_like_op();
    clpool_tensor_desc in = tensor2d(2, 3, 13, 17);
    context_run r = plan_in_fresh_context(dir, &op, &in, 21);
    expect_stats(&r, 1, 0, 0, 1, "first context");
    ck_assert_int_eq(r.log.count, 0);
    ck_assert_uint_eq(list_files(dir), 1);
    char entry[4200];
    snprintf(entry, sizeof entry, "%s", found_paths[0]);

    /* Another program's entry: avg, in another folder. */
    clpool_window_desc avg;
    memset(&avg, 0, sizeof avg);
    avg.op = CLPOOL_OP_AVG;
    avg.kernel[0] = avg.kernel[1] = 2;
    r = plan_in_fresh_context(other, &avg, &in, 22);
    expect_stats(&r, 1, 0, 0, 1, "the other program");
    ck_assert_uint_eq(list_files(other), 1);
    ck_assert_str_ne(strrchr(found_paths[0], '/'), strrchr(entry, '/'));
    unsigned char *foreign;
    size_t foreign_size;
    read_file(found_paths[0], &foreign, &foreign_size);

    for (int kind = 0; kind < DAMAGE_COUNT; kind++) {
        unsigned char *data;
        size_t size;
        read_file(entry, &data, &size);
        apply_damage((damage)kind, &data, &size, foreign, foreign_size);
        write_file(entry, data, size);
        free(data);
        char what[256];
        snprintf(what, sizeof what, "entry %s", damages[kind].name);
        r = plan_in_fresh_context(dir, &op, &in, 30 + (uint64_t)kind);
        printf("%-100s %s", what, r.log.text);
        expect_stats(&r, 1, 0, 1, 1, what);
        ck_assert_msg(r.log.count == 1 && strstr(r.log.text, damages[kind].logged) &&
                          strstr(r.log.text, entry),
                      "%s: want one warning naming %s and saying \"%s\", got %d:\n%s", what, entry,
                      damages[kind].logged, r.log.count, r.log.text);
        ck_assert_uint_eq(list_files(dir), 1); /* replaced, no temporary file left */
        ck_assert_str_eq(found_paths[0], entry);
        r = plan_in_fresh_context(dir, &op, &in, 60 + (uint64_t)kind);
        snprintf(what, sizeof what, "after the rebuild of the entry %s", damages[kind].name);
        expect_stats(&r, 0, 1, 0, 0, what);
        ck_assert_int_eq(r.log.count, 0);
    }
    free(foreign);
    remove_tree(dir);
    remove_tree(other);
}
END_TEST

/* A cache folder that cannot be created or written: the disk cache is
 * skipped with one warning, programs are built, results are right. */
START_TEST(test_disk_unwritable)
{
    clpool_window_desc op = probe_like_op();
    clpool_tensor_desc in = tensor2d(1, 2, 9, 10);

    /* Cannot be created: its parent is a regular file. */
    char base[] = "/tmp/clpool-cache-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(base));
    char file[4300], below_file[4400];
    snprintf(file, sizeof file, "%s/file", base);
    write_file(file, (const unsigned char *)"x", 1);
    snprintf(below_file, sizeof below_file, "%s/cache", file);
    context_run r = plan_in_fresh_context(below_file, &op, &in, 41);
    printf("folder below a file: %s", r.log.text);
    ck_assert(!r.disk_cache_on);
    expect_stats(&r, 1, 0, 0, 0, "folder below a file");
    ck_assert_msg(r.log.count == 1 && strstr(r.log.text, "cannot be created") &&
                      strstr(r.log.text, below_file),
                  "folder below a file: log:\n%s", r.log.text);

    /* Exists, but no file can be made in it. Root ignores permission bits,
     * so root uses /proc, a folder that refuses new files to everyone. */
    char locked[] = "/tmp/clpool-cache-test-XXXXXX";
    const char *ro = "/proc";
    if (geteuid() != 0) {
        ck_assert_ptr_nonnull(mkdtemp(locked));
        ck_assert_int_eq(chmod(locked, 0555), 0);
        ro = locked;
    }
    for (int round = 0; round < 2; round++) {
        r = plan_in_fresh_context(ro, &op, &in, 42 + (uint64_t)round);
        printf("unwritable folder %s: %s", ro, r.log.text);
        ck_assert(r.disk_cache_on);
        expect_stats(&r, 1, 0, 0, 0, "unwritable folder");
        ck_assert_msg(r.log.count == 1 && strstr(r.log.text, "cannot be written"),
                      "unwritable folder %s: log:\n%s", ro, r.log.text);
    }
    if (ro == locked) {
        ck_assert_uint_eq(list_files(locked), 0);
        chmod(locked, 0755);
        remove_tree(locked);
    }
    remove_tree(base);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Several processes filling one folder at once                             */

/* Three processes start on an empty folder together (round 0) or a little
 * apart (later rounds: the later ones look for the entry while the earlier
 * ones write it): all are right, none sees a partial entry (no rejects), and
 * the folder ends with one whole entry and no temporary file, which the next
 * process loads. */
START_TEST(test_disk_concurrent_writers)
{
    enum { WRITERS = 3, ROUNDS = 4 };
    for (int round = 0; round < ROUNDS; round++) {
        char dir[] = "/tmp/clpool-cache-test-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        probe_run runs[WRITERS];
        for (int i = 0; i < WRITERS; i++) {
            struct timespec apart = {0, round * 120L * 1000 * 1000};
            if (i > 0)
                nanosleep(&apart, NULL);
            runs[i] = probe_start(dir, NULL);
        }
        long builds = 0;
        for (int i = 0; i < WRITERS; i++) {
            probe_result r = probe_finish(&runs[i]);
            printf("round %d writer %d     %s", round, i, r.line);
            ck_assert_msg(r.ok && r.disk_rejects == 0 && r.builds + r.disk_hits == 1 &&
                              r.disk_writes == r.builds,
                          "round %d writer %d printed \"%s\"", round, i, r.line);
            builds += r.builds;
        }
        ck_assert_int_ge(builds, 1);
        ck_assert_uint_eq(list_files(dir), 1);
        const char *name = strrchr(found_paths[0], '/') + 1;
        ck_assert_msg(strlen(name) == 64 + 6 && strcmp(name + 64, ".clbin") == 0,
                      "unexpected file %s", found_paths[0]);
        probe_result r = run_probe(dir, NULL);
        expect(&r, 0, 1, 0, 0, "after concurrent writers");
        remove_tree(dir);
    }
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_memory_hits);
    suite_add_tcase(s, tc);
    tc = tcase_create("disk");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_disk_across_processes);
    tcase_add_test(tc, test_disk_same_process);
    suite_add_tcase(s, tc);
    tc = tcase_create("disk faults");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_disk_damaged_entries);
    tcase_add_test(tc, test_disk_unwritable);
    tcase_add_test(tc, test_disk_concurrent_writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cache_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
