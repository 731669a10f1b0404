/*
 * Memory bandwidth of the device as an OpenCL stream copy: the yardstick the
 * pooling rows are divided by.
 */
#ifndef BENCH_STREAM_H
#define BENCH_STREAM_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

typedef struct bench_stream_result {
    double gb_s;             /* best median over the local sizes tried, 1e9 bytes/s */
    size_t local_size;       /* the local size that gave it, 0 = chosen by the runtime */
    size_t bytes_per_buffer; /* source and destination each */
    int runs;
} bench_stream_result;

/*
 * Copies a float4 buffer of @p total_bytes / 2 into another on @p queue
 * (a device of @p context), timing enqueue + clFinish with the monotonic
 * clock; bytes = read + write. Tries a few local sizes and keeps the best
 * median of @p runs runs each. Returns 0, or -1 with one sentence in @p err.
 */
int bench_stream_bandwidth(cl_context context, cl_device_id device, cl_command_queue queue,
                           size_t total_bytes, int runs, bench_stream_result *result, char *err,
                           size_t err_len);

#endif /* BENCH_STREAM_H */
