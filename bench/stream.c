/*
 * Stream-copy bandwidth on the benchmark's own OpenCL device (see stream.h).
 * The copy kernel is the simplest that can run at memory speed: one float4
 * per work-item, which PoCL vectorises across the work-group and a GPU
 * coalesces.
 */
#include "stream.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>

static const char copy_source[] =
    "__kernel void stream_copy(__global const float4 *restrict src,\n"
    "                          __global float4 *restrict dst)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    dst[i] = src[i];\n"
    "}\n";

/* Local sizes tried; 0 lets the runtime choose. */
static const size_t local_sizes[] = {0, 64, 256, 1024};

/* Median seconds of @p runs copies with local size @p local (0: NULL). */
static cl_int time_copies(cl_command_queue queue, cl_kernel kernel, size_t items, size_t local,
                          int runs, double *times, double *median)
{
    cl_int rc = CL_SUCCESS;
    /* One untimed copy first: it faults the pages in and builds the
     * work-group function for this local size. */
    for (int i = -1; i < runs && rc == CL_SUCCESS; i++) {
        double t0 = bench_now();
        rc = clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &items, local ? &local : NULL, 0,
                                    NULL, NULL);
        if (rc == CL_SUCCESS)
            rc = clFinish(queue);
        if (i >= 0)
            times[i] = bench_now() - t0;
    }
    if (rc == CL_SUCCESS)
        *median = bench_median(times, (size_t)runs);
    return rc;
}

int bench_stream_bandwidth(cl_context context, cl_device_id device, cl_command_queue queue,
                           size_t total_bytes, int runs, bench_stream_result *result, char *err,
                           size_t err_len)
{
    int status = -1;
    cl_int rc;
    const char *what = "clCreateProgramWithSource";
    const char *src = copy_source;
    cl_program program = NULL;
    cl_kernel kernel = NULL;
    cl_mem buf[2] = {NULL, NULL};
    size_t bytes = total_bytes / 2 / 16 * 16;
    size_t items = bytes / 16;
    size_t max_wg = 0;
    double *times = malloc((size_t)runs * sizeof *times);
    bench_stream_result best = {0.0, 0, bytes, runs};

    if (times == NULL) {
        snprintf(err, err_len, "stream: out of host memory");
        return -1;
    }
    program = clCreateProgramWithSource(context, 1, &src, NULL, &rc);
    if (rc != CL_SUCCESS)
        goto fail;
    what = "clBuildProgram";
    rc = clBuildProgram(program, 1, &device, "", NULL, NULL);
    if (rc != CL_SUCCESS)
        goto fail;
    what = "clCreateKernel";
    kernel = clCreateKernel(program, "stream_copy", &rc);
    if (rc != CL_SUCCESS)
        goto fail;
    what = "clGetKernelWorkGroupInfo";
    rc = clGetKernelWorkGroupInfo(kernel, device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_wg,
                                  &max_wg, NULL);
    if (rc != CL_SUCCESS)
        goto fail;
    what = "clCreateBuffer";
    for (int i = 0; i < 2; i++) {
        buf[i] = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
        if (rc != CL_SUCCESS)
            goto fail;
    }
    /* Write both buffers once so no timed copy pays first-touch page faults. */
    what = "clEnqueueFillBuffer";
    for (int i = 0; i < 2; i++) {
        const float one = 1.0f;
        rc = clEnqueueFillBuffer(queue, buf[i], &one, sizeof one, 0, bytes, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            goto fail;
    }
    what = "clSetKernelArg";
    rc = clSetKernelArg(kernel, 0, sizeof(cl_mem), &buf[0]);
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(kernel, 1, sizeof(cl_mem), &buf[1]);
    if (rc != CL_SUCCESS)
        goto fail;
    for (size_t i = 0; i < sizeof local_sizes / sizeof local_sizes[0]; i++) {
        size_t local = local_sizes[i];
        double median;
        if (local > max_wg || (local && items % local))
            continue;
        what = "clEnqueueNDRangeKernel";
        rc = time_copies(queue, kernel, items, local, runs, times, &median);
        if (rc != CL_SUCCESS)
            goto fail;
        double gb_s = 2.0 * (double)bytes / median * 1e-9;
        if (gb_s > best.gb_s) {
            best.gb_s = gb_s;
            best.local_size = local;
        }
    }
    *result = best;
    status = 0;
    goto done;

fail:
    snprintf(err, err_len, "stream: %s failed with OpenCL error %d", what, (int)rc);
done:
    for (int i = 0; i < 2; i++)
        if (buf[i])
            clReleaseMemObject(buf[i]);
    if (kernel)
        clReleaseKernel(kernel);
    if (program)
        clReleaseProgram(program);
    free(times);
    return status;
}
