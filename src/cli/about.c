/*
 * Facts for bug reports: opens the default device once through the library
 * (as a plain run would) to learn what it is and which cache folder it uses,
 * and prints them as the "clpool --version" text.
 */
#include "about.h"

#include <stdlib.h>
#include <string.h>

/* Keeps the first error sentence instead of printing it: --version and
 * devices report a missing device as a fact, not as a failure. */
static void keep_first_error(void *user, clpool_log_level level, const char *message)
{
    struct cli_about *about = user;
    if (level == CLPOOL_LOG_ERROR && !about->failure[0])
        snprintf(about->failure, sizeof about->failure, "%s", message);
}

void cli_about_collect(struct cli_about *about)
{
    memset(about, 0, sizeof *about);
    clpool_context_options options;
    memset(&options, 0, sizeof options);
    options.log = keep_first_error;
    options.log_user = about;
    clpool_context *context = NULL;
    about->status = clpool_context_create(&options, &context);
    if (about->status != CLPOOL_SUCCESS)
        return;
    about->status = clpool_context_device_info(context, &about->device);
    const char *dir = clpool_context_cache_dir(context);
    if (about->status == CLPOOL_SUCCESS && dir)
        about->cache_dir = strdup(dir); /* NULL when out of memory: shown as unknown */
    clpool_context_destroy(context);
}

void cli_about_release(struct cli_about *about)
{
    free(about->cache_dir);
    about->cache_dir = NULL;
}

void cli_opencl_version(const char *device_version, char *out, size_t size)
{
    static const char prefix[] = "OpenCL ";
    if (size == 0)
        return;
    out[0] = '\0';
    if (strncmp(device_version, prefix, sizeof prefix - 1) != 0)
        return;
    const char *number = device_version + sizeof prefix - 1;
    size_t len = strcspn(number, " ");
    if (len == 0 || len >= size)
        return;
    memcpy(out, number, len);
    out[len] = '\0';
}

const char *cli_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (type & CL_DEVICE_TYPE_CPU)
        return "cpu";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accel";
    return "other";
}

void cli_print_version(FILE *out, const struct cli_about *about)
{
    fprintf(out, "clpool %s\n", clpool_version());
    if (about->status != CLPOOL_SUCCESS) {
        fprintf(out, "device:   none (%s)\n",
                about->failure[0] ? about->failure : clpool_status_string(about->status));
        return;
    }
    const clpool_device_info *d = &about->device;
    fprintf(out, "platform: %s (%s)\n", d->platform_name, d->platform_version);
    fprintf(out, "device:   %s (%s, %d:%d)\n", d->device_name, cli_device_type_name(d->type),
            d->platform_index, d->device_index);
    fprintf(out, "driver:   %s\n", d->driver_version);
    fprintf(out, "opencl:   %s\n", d->device_version);
    fprintf(out, "cache:    %s\n", about->cache_dir ? about->cache_dir : "off");
}
