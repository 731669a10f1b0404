/*
 * Contexts: open a discovered device (own cl_context and in-order queue) or
 * wrap the caller's cl_context and device; resolve the disk cache folder;
 * release everything on destroy.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p; true when @p path is a directory afterwards. */
static bool make_dirs(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return false;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(copy, 0755);
        *p = '/';
    }
    mkdir(copy, 0755);
    struct stat st;
    bool ok = stat(copy, &st) == 0 && S_ISDIR(st.st_mode);
    free(copy);
    return ok;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Picks the cache folder from the options and environment and creates it;
 * leaves ctx->cache_dir NULL (cache off) when disabled or not creatable. */
static void setup_cache_dir(clpool_context *ctx, const clpool_context_options *opt)
{
    const char *env_off = getenv("CLPOOL_CACHE");
    if (opt->disable_disk_cache || (env_off && strcmp(env_off, "0") == 0))
        return;
    char *dir = NULL;
    const char *env = getenv("CLPOOL_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (opt->cache_dir && *opt->cache_dir)
        dir = strdup(opt->cache_dir);
    else if (env && *env)
        dir = strdup(env);
    else if (xdg && *xdg)
        dir = join(xdg, "clpool");
    else if (home && *home)
        dir = join(home, ".cache/clpool");
    if (!dir) {
        clp_log(ctx, CLPOOL_LOG_WARNING,
                "no cache folder could be chosen (HOME is unset); the "
                "disk cache is off");
        return;
    }
    if (!make_dirs(dir)) {
        clp_log(ctx, CLPOOL_LOG_WARNING,
                "cache folder '%s' cannot be created (%s); the disk "
                "cache is off",
                dir, strerror(errno));
        free(dir);
        return;
    }
    ctx->cache_dir = dir;
}

/* A context that only logs, to the options' sink: for failures before the
 * real context exists. */
static clpool_context log_only(const clpool_context_options *opt)
{
    clpool_context quiet = {0};
    quiet.log = opt ? opt->log : NULL;
    quiet.log_user = opt ? opt->log_user : NULL;
    quiet.stderr_level = (int)clp_default_stderr_level();
    return quiet;
}

static clpool_status context_new(const clpool_context_options *options, clpool_context **out)
{
    static const clpool_context_options defaults = {0};
    const clpool_context_options *opt = options ? options : &defaults;
    clpool_context early = log_only(opt);
    clpool_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return clp_fail(&early, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    ctx->log = opt->log;
    ctx->log_user = opt->log_user;
    ctx->stderr_level = (int)clp_default_stderr_level();
    ctx->work_group_size = opt->work_group_size;
    ctx->max_planes_per_launch = opt->max_planes_per_launch;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return clp_fail(&early, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "cannot create a mutex");
    }
    setup_cache_dir(ctx, opt);
    *out = ctx;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_context_create(const clpool_context_options *options, clpool_context **context)
{
    if (!context) {
        clpool_context early = log_only(options);
        return clp_fail(&early, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_context_create: context (the result pointer) is NULL");
    }
    clpool_context *ctx = NULL;
    clpool_status status = context_new(options, &ctx);
    if (status != CLPOOL_SUCCESS)
        return status;
    cl_platform_id platform = NULL;
    status =
        clp_find_device(ctx, options ? options->device : NULL, &platform, &ctx->device, &ctx->info);
    if (status != CLPOOL_SUCCESS)
        goto fail;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    cl_int err = CL_SUCCESS;
    ctx->cl_ctx = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        status = clp_cl_fail(ctx, err, "clCreateContext");
        goto fail;
    }
    ctx->queue = clCreateCommandQueue(ctx->cl_ctx, ctx->device, 0, &err);
    if (err != CL_SUCCESS) {
        status = clp_cl_fail(ctx, err, "clCreateCommandQueue");
        goto fail;
    }
    *context = ctx;
    return CLPOOL_SUCCESS;
fail:
    clpool_context_destroy(ctx);
    return status;
}

clpool_status clpool_context_wrap(cl_context cl_ctx, cl_device_id device,
                                  const clpool_context_options *options, clpool_context **context)
{
    clpool_context early = log_only(options);
    if (!context || !cl_ctx || !device)
        return clp_fail(&early, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_context_wrap: %s is NULL",
                        !context  ? "context (the result pointer)"
                        : !cl_ctx ? "cl_ctx"
                                  : "device");
    /* The device must be one of the context's. */
    cl_uint ndev = 0;
    cl_int err = clGetContextInfo(cl_ctx, CL_CONTEXT_NUM_DEVICES, sizeof ndev, &ndev, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(&early, err, "clpool_context_wrap: clGetContextInfo on cl_ctx");
    cl_device_id *devs = calloc(ndev ? ndev : 1, sizeof *devs);
    if (!devs)
        return clp_fail(&early, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clGetContextInfo(cl_ctx, CL_CONTEXT_DEVICES, ndev * sizeof *devs, devs, NULL);
    bool found = false;
    for (cl_uint i = 0; i < ndev; i++)
        found = found || devs[i] == device;
    free(devs);
    if (!found)
        return clp_fail(&early, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_context_wrap: the device is not one of cl_ctx's %u device%s", ndev,
                        ndev == 1 ? "" : "s");

    clpool_context *ctx = NULL;
    clpool_status status = context_new(options, &ctx);
    if (status != CLPOOL_SUCCESS)
        return status;
    status = clp_query_device(device, &ctx->info);
    if (status != CLPOOL_SUCCESS) {
        clpool_context_destroy(ctx);
        return status;
    }
    ctx->info.platform_index = ctx->info.device_index = -1;
    ctx->info.is_default = 0;
    clRetainContext(cl_ctx);
    clRetainDevice(device);
    ctx->cl_ctx = cl_ctx;
    ctx->device = device;
    *context = ctx;
    return CLPOOL_SUCCESS;
}

void clpool_context_destroy(clpool_context *ctx)
{
    if (!ctx)
        return;
    clp_program_cache_clear(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->cl_ctx)
        clReleaseContext(ctx->cl_ctx);
    if (ctx->device)
        clReleaseDevice(ctx->device);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->cache_dir);
    free(ctx);
}

clpool_status clpool_context_device_info(const clpool_context *ctx, clpool_device_info *info)
{
    if (!ctx || !info)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_context_device_info: %s is NULL", !ctx ? "context" : "info");
    *info = ctx->info;
    return CLPOOL_SUCCESS;
}

cl_context clpool_context_cl_context(const clpool_context *ctx)
{
    return ctx ? ctx->cl_ctx : NULL;
}

cl_device_id clpool_context_cl_device(const clpool_context *ctx)
{
    return ctx ? ctx->device : NULL;
}

cl_command_queue clpool_context_cl_queue(const clpool_context *ctx)
{
    return ctx ? ctx->queue : NULL;
}

const char *clpool_context_cache_dir(const clpool_context *ctx)
{
    return ctx ? ctx->cache_dir : NULL;
}

clpool_status clpool_context_cache_stats(const clpool_context *ctx, clpool_cache_stats *stats)
{
    if (!ctx || !stats)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_context_cache_stats: %s is NULL", !ctx ? "context" : "stats");
    clpool_context *mut = (clpool_context *)ctx;
    pthread_mutex_lock(&mut->lock);
    *stats = ctx->stats;
    pthread_mutex_unlock(&mut->lock);
    return CLPOOL_SUCCESS;
}
