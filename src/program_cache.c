/*
 * The program cache: built programs live in the context (memory, locked) and
 * as device binaries on disk. A disk entry is written atomically (temporary
 * file, then rename) and carries its key and a checksum, so a truncated,
 * corrupt or foreign entry is detected, rebuilt and replaced.
 *
 * Entry file <dir>/<key>.clbin, in the format of cache_entry.h.
 */
#include "internal.h"
#include "cache_entry.h"
#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything a compiled binary depends on. */
static void cache_key(const clpool_context *ctx, const char *source, const char *options,
                      uint8_t digest[32])
{
    const clpool_device_info *d = &ctx->info;
    const char *parts[] = {"clpool " CLPOOL_VERSION_STRING,
                           d->platform_name,
                           d->platform_version,
                           d->device_name,
                           d->device_vendor,
                           d->device_version,
                           d->driver_version,
                           options,
                           source};
    clp_sha256_ctx s;
    clp_sha256_init(&s);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        clp_sha256_update(&s, parts[i], strlen(parts[i]) + 1); /* NUL separates the parts */
    clp_sha256_final(&s, digest);
}

static char *entry_path(const clpool_context *ctx, const char *hex)
{
    size_t n = strlen(ctx->cache_dir) + 64 + 16;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s.clbin", ctx->cache_dir, hex);
    return path;
}

/* Reads and verifies an entry: the payload (malloc'ed) on success, NULL when
 * there is none (*rejected = false) or it is unusable (*rejected = true).
 * The header is checked against the file size before the payload is
 * allocated, so a hostile size field cannot make it allocate. */
static uint8_t *read_entry(const clpool_context *ctx, const char *path, const uint8_t key[32],
                           size_t *size, bool *rejected)
{
    *rejected = false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t header[CLP_CACHE_ENTRY_HEADER];
    uint8_t *payload = NULL;
    size_t n = 0;
    const char *why = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 ||
        fread(header, 1, CLP_CACHE_ENTRY_HEADER, f) != CLP_CACHE_ENTRY_HEADER) {
        why = "shorter than its header";
        goto done;
    }
    why = clp_cache_entry_check_header(header, (uint64_t)st.st_size, key, &n);
    if (why)
        goto done;
    payload = malloc(n);
    if (!payload || fread(payload, 1, n, f) != n) {
        why = "unreadable";
        goto done;
    }
    why = clp_cache_entry_check_payload(header, payload, n);
    if (!why)
        *size = n;
done:
    fclose(f);
    if (why) {
        free(payload);
        payload = NULL;
        *rejected = true;
        clp_log(ctx, CLPOOL_LOG_WARNING, "cache entry '%s' is %s; rebuilding it", path, why);
    }
    return payload;
}

/* Writes the entry through a temporary file and a rename; failures only warn. */
static bool write_entry(const clpool_context *ctx, const char *path, const uint8_t key[32],
                        const uint8_t *payload, size_t size)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return false;
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        clp_log(ctx, CLPOOL_LOG_WARNING, "cache entry '%s' cannot be written: %s", path,
                strerror(errno));
        free(tmp);
        return false;
    }
    uint8_t header[CLP_CACHE_ENTRY_HEADER];
    clp_cache_entry_header(key, payload, size, header);
    FILE *f = fdopen(fd, "wb");
    bool ok = f && fwrite(header, 1, CLP_CACHE_ENTRY_HEADER, f) == CLP_CACHE_ENTRY_HEADER &&
              fwrite(payload, 1, size, f) == size && fflush(f) == 0 && fsync(fd) == 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok) {
        clp_log(ctx, CLPOOL_LOG_WARNING, "cache entry '%s' cannot be written: %s", path,
                strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

static void log_build_failure(const clpool_context *ctx, cl_program program, const char *name,
                              const char *options)
{
    size_t size = 0;
    clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
    char *log = size ? malloc(size + 1) : NULL;
    if (log && clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) ==
                   CL_SUCCESS) {
        log[size] = '\0';
        clp_log(ctx, CLPOOL_LOG_ERROR, "build log of %s:\n%s", name, log);
    }
    free(log);
    clp_log(ctx, CLPOOL_LOG_ERROR, "kernel program %s failed to build with options '%s'", name,
            options);
}

static clpool_status build_from_source(clpool_context *ctx, const char *name, const char *source,
                                       const char *options, cl_program *out)
{
    cl_int err = CL_SUCCESS;
    cl_program program = clCreateProgramWithSource(ctx->cl_ctx, 1, &source, NULL, &err);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clCreateProgramWithSource");
    err = clBuildProgram(program, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        if (err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS) {
            log_build_failure(ctx, program, name, options);
            clReleaseProgram(program);
            return CLPOOL_ERROR_BUILD_FAILED;
        }
        clReleaseProgram(program);
        return clp_cl_fail(ctx, err, "clBuildProgram");
    }
    ctx->stats.builds++;
    *out = program;
    return CLPOOL_SUCCESS;
}

static cl_program build_from_binary(clpool_context *ctx, const uint8_t *binary, size_t size,
                                    const char *options)
{
    cl_int err = CL_SUCCESS, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(ctx->cl_ctx, 1, &ctx->device, &size, &binary,
                                                   &binary_status, &err);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS)
        return NULL;
    if (clBuildProgram(program, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

static void store_binary(clpool_context *ctx, cl_program program, const char *path,
                         const uint8_t key[32])
{
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return;
    uint8_t *binary = malloc(size);
    if (!binary)
        return;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL) ==
            CL_SUCCESS &&
        write_entry(ctx, path, key, binary, size))
        ctx->stats.disk_writes++;
    free(binary);
}

/* Called with ctx->lock held. */
static clpool_status load_or_build(clpool_context *ctx, const char *name, const char *source,
                                   const char *options, const uint8_t key[32], const char *hex,
                                   cl_program *out)
{
    char *path = ctx->cache_dir ? entry_path(ctx, hex) : NULL;
    if (path) {
        size_t size = 0;
        bool rejected = false;
        uint8_t *binary = read_entry(ctx, path, key, &size, &rejected);
        if (binary) {
            cl_program program = build_from_binary(ctx, binary, size, options);
            free(binary);
            if (program) {
                ctx->stats.disk_hits++;
                free(path);
                *out = program;
                return CLPOOL_SUCCESS;
            }
            rejected = true;
            clp_log(ctx, CLPOOL_LOG_WARNING,
                    "cache entry '%s' was refused by the driver; rebuilding it", path);
        }
        if (rejected)
            ctx->stats.disk_rejects++;
    }
    clpool_status status = build_from_source(ctx, name, source, options, out);
    if (status == CLPOOL_SUCCESS && path)
        store_binary(ctx, *out, path, key);
    free(path);
    return status;
}

clpool_status clp_program_get(clpool_context *ctx, const char *source_name, const char *options,
                              cl_program *program)
{
    char *source = NULL;
    clpool_status status = clp_kernel_source(ctx, source_name, &source);
    if (status != CLPOOL_SUCCESS)
        return status;
    uint8_t key[32];
    char hex[65];
    cache_key(ctx, source, options, key);
    clp_hex(key, hex);

    /* The lock is held through a build so that threads asking for the same
     * program at once build it once. */
    pthread_mutex_lock(&ctx->lock);
    for (clp_program_entry *e = ctx->programs; e; e = e->next) {
        if (strcmp(e->key, hex) == 0) {
            ctx->stats.memory_hits++;
            clRetainProgram(e->program);
            *program = e->program;
            goto done;
        }
    }
    clp_program_entry *entry = calloc(1, sizeof *entry);
    if (!entry) {
        status = clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto done;
    }
    status = load_or_build(ctx, source_name, source, options, key, hex, &entry->program);
    if (status != CLPOOL_SUCCESS) {
        free(entry);
        goto done;
    }
    memcpy(entry->key, hex, sizeof hex);
    entry->next = ctx->programs;
    ctx->programs = entry;
    clRetainProgram(entry->program);
    *program = entry->program;
done:
    pthread_mutex_unlock(&ctx->lock);
    free(source);
    return status;
}

void clp_program_cache_clear(clpool_context *ctx)
{
    clp_program_entry *e = ctx->programs;
    while (e) {
        clp_program_entry *next = e->next;
        clReleaseProgram(e->program);
        free(e);
        e = next;
    }
    ctx->programs = NULL;
}
