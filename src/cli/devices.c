/*
 * "clpool devices [--json]": one line per device from clpool_list_devices(),
 * "*" marking the default, or a JSON list of objects with the same facts plus
 * the OpenCL version, the library version and the cache folder.
 */
#include "devices.h"

#include "about.h"
#include "report.h"

#include <clpool.h>
#include <stdio.h>
#include <stdlib.h>

/* A JSON string: quotes, backslashes and control characters escaped; other
 * bytes (UTF-8 from the driver) pass through. */
static void print_json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void print_json_field(FILE *out, const char *key, const char *value)
{
    fprintf(out, ", \"%s\": ", key);
    print_json_string(out, value);
}

/* Every object also carries the library version and the cache folder (null
 * when the disk cache is off or the default device cannot be opened), so one
 * object is a complete bug-report line. */
static void print_json(FILE *out, const clpool_device_info *infos, size_t count,
                       const struct cli_about *about)
{
    fprintf(out, "[\n");
    for (size_t i = 0; i < count; i++) {
        const clpool_device_info *d = &infos[i];
        fprintf(out, "  {\"platform_index\": %d, \"device_index\": %d, \"default\": %s",
                d->platform_index, d->device_index, d->is_default ? "true" : "false");
        print_json_field(out, "type", cli_device_type_name(d->type));
        print_json_field(out, "name", d->device_name);
        print_json_field(out, "vendor", d->device_vendor);
        print_json_field(out, "device_version", d->device_version);
        print_json_field(out, "driver_version", d->driver_version);
        print_json_field(out, "platform_name", d->platform_name);
        print_json_field(out, "platform_version", d->platform_version);
        char opencl[32];
        cli_opencl_version(d->device_version, opencl, sizeof opencl);
        print_json_field(out, "opencl_version", opencl);
        print_json_field(out, "library_version", clpool_version());
        if (about->cache_dir)
            print_json_field(out, "cache_dir", about->cache_dir);
        else
            fprintf(out, ", \"cache_dir\": null");
        fprintf(out,
                ", \"compute_units\": %u, \"max_work_group_size\": %zu, \"global_mem_size\": %llu, "
                "\"local_mem_size\": %llu, \"max_mem_alloc_size\": %llu, \"has_fp16\": %s, "
                "\"has_fp64\": %s}%s\n",
                (unsigned)d->compute_units, d->max_work_group_size,
                (unsigned long long)d->global_mem_size, (unsigned long long)d->local_mem_size,
                (unsigned long long)d->max_mem_alloc_size, d->has_fp16 ? "true" : "false",
                d->has_fp64 ? "true" : "false", i + 1 < count ? "," : "");
    }
    fprintf(out, "]\n");
}

/* "* 0:0 cpu  NAME (PLATFORM, DEVICE VERSION, driver VERSION)" */
static void print_lines(FILE *out, const clpool_device_info *infos, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const clpool_device_info *d = &infos[i];
        fprintf(out, "%c %d:%d %-4s %s (%s, %s, driver %s)\n", d->is_default ? '*' : ' ',
                d->platform_index, d->device_index, cli_device_type_name(d->type), d->device_name,
                d->platform_name, d->device_version, d->driver_version);
    }
}

int cli_devices(int json)
{
    /* clpool_list_devices() has no context, so its failures go to the
     * library's default sink: it has already printed the one line. */
    size_t count = 0;
    clpool_status status = clpool_list_devices(NULL, 0, &count);
    if (status != CLPOOL_SUCCESS)
        return cli_exit_code(status);
    clpool_device_info *infos = calloc(count, sizeof *infos);
    if (!infos)
        return cli_fail(CLI_EXIT_DEVICE, "out of host memory listing %zu devices", count);
    size_t listed = 0;
    status = clpool_list_devices(infos, count, &listed);
    int rc = CLI_EXIT_OK;
    if (status != CLPOOL_SUCCESS) {
        rc = cli_exit_code(status);
        goto done;
    }
    /* A device that appeared between the two calls is left out. */
    if (listed > count)
        listed = count;
    if (json) {
        struct cli_about about;
        cli_about_collect(&about);
        print_json(stdout, infos, listed, &about);
        cli_about_release(&about);
    } else
        print_lines(stdout, infos, listed);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = cli_fail(CLI_EXIT_INPUT, "cannot write the device list to standard output");
done:
    free(infos);
    return rc;
}
