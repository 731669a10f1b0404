/*
 * Device discovery: lists every platform's devices, reads what the scheduler
 * needs to know of a device, and resolves a device spec ("gpu", "cpu", "P:D"
 * or part of a name) to a device, with a GPU-first default rule.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a string query into out[size], truncated when longer (OpenCL
 * refuses to write a value that does not fit, which would leave it empty);
 * empty when the query fails. Exactly one of device and platform is set. */
static void get_string(cl_device_id device, cl_platform_id platform, cl_uint what, char *out,
                       size_t size)
{
    out[0] = '\0';
    size_t need = 0;
    cl_int err = device ? clGetDeviceInfo(device, what, 0, NULL, &need)
                        : clGetPlatformInfo(platform, what, 0, NULL, &need);
    char *full = err == CL_SUCCESS && need > 0 ? malloc(need) : NULL;
    if (!full)
        return;
    err = device ? clGetDeviceInfo(device, what, need, full, NULL)
                 : clGetPlatformInfo(platform, what, need, full, NULL);
    if (err == CL_SUCCESS) {
        full[need - 1] = '\0';
        snprintf(out, size, "%s", full);
    }
    free(full);
}

clpool_status clp_query_device(cl_device_id device, clpool_device_info *info)
{
    cl_platform_id platform = NULL;
    cl_int err = clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(NULL, err, "clGetDeviceInfo(CL_DEVICE_PLATFORM)");
    get_string(NULL, platform, CL_PLATFORM_NAME, info->platform_name, CLPOOL_NAME_MAX);
    get_string(NULL, platform, CL_PLATFORM_VERSION, info->platform_version, CLPOOL_NAME_MAX);
    get_string(device, NULL, CL_DEVICE_NAME, info->device_name, CLPOOL_NAME_MAX);
    get_string(device, NULL, CL_DEVICE_VENDOR, info->device_vendor, CLPOOL_NAME_MAX);
    get_string(device, NULL, CL_DEVICE_VERSION, info->device_version, CLPOOL_NAME_MAX);
    get_string(device, NULL, CL_DRIVER_VERSION, info->driver_version, CLPOOL_NAME_MAX);
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof info->type, &info->type, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units,
                    &info->compute_units, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group_size,
                    &info->max_work_group_size, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof info->max_work_item_sizes,
                    info->max_work_item_sizes, NULL);
    clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem_size,
                    &info->local_mem_size, NULL);
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem_size,
                    &info->global_mem_size, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_mem_alloc_size,
                    &info->max_mem_alloc_size, NULL);
    clGetDeviceInfo(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT,
                    sizeof info->preferred_vector_width_float, &info->preferred_vector_width_float,
                    NULL);
    size_t ext_size = 0;
    info->has_fp16 = info->has_fp64 = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size) == CL_SUCCESS &&
        ext_size > 0) {
        char *ext = malloc(ext_size + 1);
        if (ext &&
            clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, ext_size, ext, NULL) == CL_SUCCESS) {
            ext[ext_size] = '\0';
            info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
    if (info->max_work_group_size == 0)
        info->max_work_group_size = 1;
    if (info->compute_units == 0)
        info->compute_units = 1;
    return CLPOOL_SUCCESS;
}

/* Every (platform, device) pair, in discovery order. */
typedef struct device_list {
    size_t count;
    cl_platform_id *platforms;
    cl_device_id *devices;
    int *platform_index;
    int *device_index;
} device_list;

static void device_list_free(device_list *list)
{
    free(list->platforms);
    free(list->devices);
    free(list->platform_index);
    free(list->device_index);
    memset(list, 0, sizeof *list);
}

static clpool_status device_list_get(const clpool_context *ctx, device_list *list)
{
    memset(list, 0, sizeof *list);
    cl_uint nplat = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &nplat);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || nplat == 0)
        return clp_fail(ctx, CLPOOL_ERROR_NO_DEVICE,
                        "no OpenCL platform was found (is an ICD such as pocl-opencl-icd "
                        "installed?)");
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clGetPlatformIDs");
    cl_platform_id *plats = calloc(nplat, sizeof *plats);
    if (!plats)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clpool_status status = CLPOOL_SUCCESS;
    clGetPlatformIDs(nplat, plats, NULL);
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint ndev = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev) != CL_SUCCESS || ndev == 0)
            continue;
        cl_device_id *devs = calloc(ndev, sizeof *devs);
        size_t total = list->count + ndev;
        cl_platform_id *np = realloc(list->platforms, total * sizeof *np);
        if (np)
            list->platforms = np;
        cl_device_id *nd = realloc(list->devices, total * sizeof *nd);
        if (nd)
            list->devices = nd;
        int *npi = realloc(list->platform_index, total * sizeof *npi);
        if (npi)
            list->platform_index = npi;
        int *ndi = realloc(list->device_index, total * sizeof *ndi);
        if (ndi)
            list->device_index = ndi;
        if (!devs || !np || !nd || !npi || !ndi) {
            free(devs);
            status = clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
            goto done;
        }
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL);
        for (cl_uint d = 0; d < ndev; d++) {
            list->platforms[list->count] = plats[p];
            list->devices[list->count] = devs[d];
            list->platform_index[list->count] = (int)p;
            list->device_index[list->count] = (int)d;
            list->count++;
        }
        free(devs);
    }
    if (list->count == 0)
        status =
            clp_fail(ctx, CLPOOL_ERROR_NO_DEVICE, "no OpenCL device was found on %u platform%s",
                     nplat, nplat == 1 ? "" : "s");
done:
    free(plats);
    if (status != CLPOOL_SUCCESS)
        device_list_free(list);
    return status;
}

static bool contains_ignore_case(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static cl_device_type type_of(cl_device_id device)
{
    cl_device_type type = 0;
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return type;
}

/* Index in @p list that @p spec selects, or -1 (message logged). */
static long pick(const clpool_context *ctx, const device_list *list, const char *spec)
{
    if (!spec || !*spec) {
        for (size_t i = 0; i < list->count; i++)
            if (type_of(list->devices[i]) & CL_DEVICE_TYPE_GPU)
                return (long)i;
        return 0;
    }
    if (strcmp(spec, "gpu") == 0 || strcmp(spec, "cpu") == 0) {
        cl_device_type want = spec[0] == 'g' ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU;
        for (size_t i = 0; i < list->count; i++)
            if (type_of(list->devices[i]) & want)
                return (long)i;
        clp_fail(ctx, CLPOOL_ERROR_NO_DEVICE, "device spec '%s' matches no device: there is no %s",
                 spec, spec[0] == 'g' ? "GPU" : "CPU device");
        return -1;
    }
    int p = -1, d = -1, used = 0;
    if (sscanf(spec, "%d:%d%n", &p, &d, &used) == 2 && spec[used] == '\0') {
        for (size_t i = 0; i < list->count; i++)
            if (list->platform_index[i] == p && list->device_index[i] == d)
                return (long)i;
        clp_fail(
            ctx, CLPOOL_ERROR_NO_DEVICE,
            "device spec '%s' matches no device: no platform %d device %d (see 'clpool devices')",
            spec, p, d);
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        char name[CLPOOL_NAME_MAX];
        get_string(list->devices[i], NULL, CL_DEVICE_NAME, name, sizeof name);
        if (contains_ignore_case(name, spec))
            return (long)i;
    }
    clp_fail(ctx, CLPOOL_ERROR_NO_DEVICE,
             "device spec '%s' matches no device name (valid: gpu, cpu, P:D or part of a name, see "
             "'clpool devices')",
             spec);
    return -1;
}

static const char *effective_spec(const char *spec)
{
    if (spec && *spec)
        return spec;
    const char *env = getenv("CLPOOL_DEVICE");
    return env && *env ? env : NULL;
}

clpool_status clp_find_device(const clpool_context *ctx, const char *spec, cl_platform_id *platform,
                              cl_device_id *device, clpool_device_info *info)
{
    device_list list;
    clpool_status status = device_list_get(ctx, &list);
    if (status != CLPOOL_SUCCESS)
        return status;
    long i = pick(ctx, &list, effective_spec(spec));
    if (i < 0) {
        status = CLPOOL_ERROR_NO_DEVICE;
        goto done;
    }
    status = clp_query_device(list.devices[i], info);
    if (status != CLPOOL_SUCCESS)
        goto done;
    info->platform_index = list.platform_index[i];
    info->device_index = list.device_index[i];
    info->is_default = 1;
    *platform = list.platforms[i];
    *device = list.devices[i];
done:
    device_list_free(&list);
    return status;
}

clpool_status clpool_list_devices(clpool_device_info *infos, size_t capacity, size_t *count)
{
    if (!count || (capacity > 0 && !infos))
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_list_devices: count is NULL, or infos is NULL with capacity %zu",
                        capacity);
    device_list list;
    clpool_status status = device_list_get(NULL, &list);
    if (status != CLPOOL_SUCCESS)
        return status;
    /* A spec that matches nothing marks no default; it is not an error here. */
    clpool_context quiet = {0};
    quiet.log = NULL;
    quiet.stderr_level = -1; /* silent */
    long def = pick(&quiet, &list, effective_spec(NULL));
    for (size_t i = 0; i < list.count && i < capacity; i++) {
        memset(&infos[i], 0, sizeof infos[i]);
        status = clp_query_device(list.devices[i], &infos[i]);
        if (status != CLPOOL_SUCCESS)
            break;
        infos[i].platform_index = list.platform_index[i];
        infos[i].device_index = list.device_index[i];
        infos[i].is_default = (long)i == def;
    }
    if (status == CLPOOL_SUCCESS)
        *count = list.count;
    device_list_free(&list);
    return status;
}
