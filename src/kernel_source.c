/*
 * Kernel sources: the .cl files of kernels/ embedded at build time, or read
 * from $CLPOOL_KERNEL_DIR when that development override is set. A line
 * `#include "NAME.cl"` at the start of a line is replaced by that file, so
 * kernels share dtype.cl without relying on the OpenCL compiler's include
 * path (the program cache then hashes the complete text).
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clpool_embedded_kernel {
    const char *name;
    const char *source;
};
extern const struct clpool_embedded_kernel clpool_embedded_kernels[];

static clpool_status read_override(const clpool_context *ctx, const char *dir, const char *name,
                                   char **source)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED,
                        "kernel source '%s' cannot be read (CLPOOL_KERNEL_DIR): %s", path,
                        strerror(errno));
    clpool_status status = CLPOOL_SUCCESS;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        status =
            clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED, "kernel source '%s' cannot be read", path);
        goto done;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        status = clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        status = clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED, "kernel source '%s' is short", path);
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[size] = '\0';
    *source = buf;
done:
    fclose(f);
    return status;
}

static clpool_status raw_source(const clpool_context *ctx, const char *name, char **source)
{
    const char *dir = getenv("CLPOOL_KERNEL_DIR");
    if (dir && *dir)
        return read_override(ctx, dir, name, source);
    for (const struct clpool_embedded_kernel *k = clpool_embedded_kernels; k->name; k++) {
        if (strcmp(k->name, name) == 0) {
            *source = strdup(k->source);
            return *source ? CLPOOL_SUCCESS
                           : clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        }
    }
    return clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED, "no kernel source named '%s' is embedded",
                    name);
}

#define INCLUDE_PREFIX "#include \""
#define INCLUDES_MAX 32 /* guards against a file that includes itself */

/* Replaces the first include line of *source by the named file; *found is
 * false when there is none left. */
static clpool_status splice_one(const clpool_context *ctx, char **source, bool *found)
{
    char *text = *source, *at = text;
    *found = false;
    while ((at = strstr(at, INCLUDE_PREFIX)) != NULL) {
        if (at == text || at[-1] == '\n')
            break;
        at++;
    }
    if (!at)
        return CLPOOL_SUCCESS;
    const char *name = at + strlen(INCLUDE_PREFIX);
    const char *quote = strchr(name, '"');
    const char *eol = strchr(name, '\n');
    if (!quote || (eol && quote > eol) || quote == name || quote - name > 255)
        return clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED, "kernel source: malformed #include line");
    char file[256];
    memcpy(file, name, (size_t)(quote - name));
    file[quote - name] = '\0';
    char *inner = NULL;
    clpool_status status = raw_source(ctx, file, &inner);
    if (status != CLPOOL_SUCCESS)
        return status;
    const char *after = eol ? eol + 1 : quote + 1 + strlen(quote + 1);
    size_t head = (size_t)(at - text), in_len = strlen(inner), tail = strlen(after);
    char *joined = malloc(head + in_len + 1 + tail + 1);
    if (!joined) {
        free(inner);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    memcpy(joined, text, head);
    memcpy(joined + head, inner, in_len);
    joined[head + in_len] = '\n';
    memcpy(joined + head + in_len + 1, after, tail + 1);
    free(inner);
    free(text);
    *source = joined;
    *found = true;
    return CLPOOL_SUCCESS;
}

clpool_status clp_kernel_source(const clpool_context *ctx, const char *name, char **source)
{
    char *text = NULL;
    clpool_status status = raw_source(ctx, name, &text);
    for (int i = 0; status == CLPOOL_SUCCESS; i++) {
        bool found = false;
        if (i == INCLUDES_MAX) {
            status = clp_fail(ctx, CLPOOL_ERROR_BUILD_FAILED,
                              "kernel source '%s': too many #include lines", name);
            break;
        }
        status = splice_one(ctx, &text, &found);
        if (!found)
            break;
    }
    if (status != CLPOOL_SUCCESS) {
        free(text);
        return status;
    }
    *source = text;
    return CLPOOL_SUCCESS;
}
