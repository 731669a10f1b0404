/*
 * What the program says about itself for bug reports: the library version,
 * the default device (platform, device, driver, OpenCL version) and the disk
 * cache folder, for "clpool --version" and "clpool devices --json".
 */
#ifndef CLPOOL_CLI_ABOUT_H
#define CLPOOL_CLI_ABOUT_H

#include <clpool.h>
#include <stddef.h>
#include <stdio.h>

/* The default device as a plain run would open it. */
struct cli_about {
    /* CLPOOL_SUCCESS when the default device was opened; otherwise why not,
     * in the library's own sentence (empty when it gave none). */
    clpool_status status;
    char failure[512];
    clpool_device_info device; /* valid on success */
    char *cache_dir;           /* malloc'ed; NULL: disk cache off or unknown */
};

/* Opens the default device ($CLPOOL_DEVICE, else the default rule) with the
 * default options, notes what it is, and closes it again. Never prints: a
 * failure is recorded in @p about. Creates the cache folder as a run would. */
void cli_about_collect(struct cli_about *about);

void cli_about_release(struct cli_about *about);

/* "3.0" from a device version "OpenCL 3.0 <vendor text>" into @p out;
 * an empty string when the text does not follow that format. */
void cli_opencl_version(const char *device_version, char *out, size_t size);

/* "gpu", "cpu", "accel" or "other". */
const char *cli_device_type_name(cl_device_type type);

/* The "clpool --version" text: "clpool VERSION" on the first line, then one
 * "key: value" line each for platform, device, driver, opencl and cache. */
void cli_print_version(FILE *out, const struct cli_about *about);

#endif /* CLPOOL_CLI_ABOUT_H */
