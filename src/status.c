/*
 * Small pure functions of the public API: version, status names, dtype sizes
 * and tensor element counts.
 */
#include "internal.h"

const char *clpool_version(void)
{
    return CLPOOL_VERSION_STRING;
}

const char *clpool_status_string(clpool_status status)
{
    switch (status) {
    case CLPOOL_SUCCESS:
        return "success";
    case CLPOOL_ERROR_INVALID_ARGUMENT:
        return "invalid argument";
    case CLPOOL_ERROR_INVALID_SHAPE:
        return "invalid shape";
    case CLPOOL_ERROR_INVALID_KERNEL:
        return "invalid kernel size";
    case CLPOOL_ERROR_INVALID_STRIDE:
        return "invalid stride";
    case CLPOOL_ERROR_INVALID_PADDING:
        return "invalid padding";
    case CLPOOL_ERROR_INVALID_DILATION:
        return "invalid dilation";
    case CLPOOL_ERROR_INVALID_DIVISOR:
        return "invalid divisor";
    case CLPOOL_ERROR_OUTPUT_TOO_SMALL:
        return "output too small";
    case CLPOOL_ERROR_INVALID_BUFFER:
        return "invalid buffer";
    case CLPOOL_ERROR_UNSUPPORTED:
        return "unsupported";
    case CLPOOL_ERROR_NO_DEVICE:
        return "no OpenCL device";
    case CLPOOL_ERROR_BUILD_FAILED:
        return "kernel build failed";
    case CLPOOL_ERROR_OUT_OF_HOST_MEMORY:
        return "out of host memory";
    case CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY:
        return "out of device memory";
    case CLPOOL_ERROR_OPENCL:
        return "OpenCL error";
    case CLPOOL_ERROR_INVALID_ROIS:
        return "invalid boxes";
    case CLPOOL_ERROR_INVALID_INDICES:
        return "invalid indices";
    }
    return "unknown status";
}

size_t clpool_dtype_size(clpool_dtype dtype)
{
    switch (dtype) {
    case CLPOOL_FLOAT32:
        return 4;
    case CLPOOL_FLOAT16:
        return 2;
    case CLPOOL_BFLOAT16:
        return 2;
    case CLPOOL_FLOAT64:
        return 8;
    case CLPOOL_UINT8:
        return 1;
    case CLPOOL_INT8:
        return 1;
    case CLPOOL_INT32:
        return 4;
    case CLPOOL_INT64:
        return 8;
    }
    return 0;
}

const char *clp_dtype_name(clpool_dtype dtype)
{
    switch (dtype) {
    case CLPOOL_FLOAT32:
        return "float32";
    case CLPOOL_FLOAT16:
        return "float16";
    case CLPOOL_BFLOAT16:
        return "bfloat16";
    case CLPOOL_FLOAT64:
        return "float64";
    case CLPOOL_UINT8:
        return "uint8";
    case CLPOOL_INT8:
        return "int8";
    case CLPOOL_INT32:
        return "int32";
    case CLPOOL_INT64:
        return "int64";
    }
    return "unknown";
}

size_t clpool_tensor_elements(const clpool_tensor_desc *desc)
{
    if (!desc || desc->spatial_dims < 1 || desc->spatial_dims > CLPOOL_MAX_SPATIAL_DIMS)
        return 0;
    size_t count = 0;
    if (clp_mul_overflow(desc->n, desc->c, &count))
        return 0;
    for (int i = 0; i < desc->spatial_dims; i++)
        if (clp_mul_overflow(count, desc->spatial[i], &count))
            return 0;
    return count;
}
