/*
 * Kernel sources: the .cl files of kernels/ embedded at build time, or read
 * from $CLPOOL_KERNEL_DIR when that development override is set.
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

clpool_status clp_kernel_source(const clpool_context *ctx, const char *name, char **source)
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
