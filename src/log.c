/*
 * Logging: every failure becomes one sentence sent to the context's sink
 * (default: stderr, errors only unless $CLPOOL_LOG raises the level), and the
 * mapping of OpenCL error codes to statuses and names.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clpool_log_level clp_default_stderr_level(void)
{
    const char *env = getenv("CLPOOL_LOG");
    if (!env)
        return CLPOOL_LOG_ERROR;
    if (strcmp(env, "warning") == 0)
        return CLPOOL_LOG_WARNING;
    if (strcmp(env, "info") == 0)
        return CLPOOL_LOG_INFO;
    if (strcmp(env, "debug") == 0)
        return CLPOOL_LOG_DEBUG;
    return CLPOOL_LOG_ERROR;
}

static void vlog(const clpool_context *ctx, clpool_log_level level, const char *fmt, va_list ap)
{
    char message[1024];
    vsnprintf(message, sizeof message, fmt, ap);
    if (ctx && ctx->log) {
        ctx->log(ctx->log_user, level, message);
        return;
    }
    int threshold = ctx ? ctx->stderr_level : (int)clp_default_stderr_level();
    if ((int)level <= threshold)
        fprintf(stderr, "clpool: %s\n", message);
}

void clp_log(const clpool_context *ctx, clpool_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, level, fmt, ap);
    va_end(ap);
}

clpool_status clp_fail(const clpool_context *ctx, clpool_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, CLPOOL_LOG_ERROR, fmt, ap);
    va_end(ap);
    return status;
}

const char *clp_cl_error_name(cl_int err)
{
    switch (err) {
#define NAME(e)                                                                                    \
    case e:                                                                                        \
        return #e;
        NAME(CL_SUCCESS)
        NAME(CL_DEVICE_NOT_FOUND) NAME(CL_DEVICE_NOT_AVAILABLE) NAME(CL_COMPILER_NOT_AVAILABLE)
            NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE) NAME(CL_OUT_OF_RESOURCES) NAME(
                CL_OUT_OF_HOST_MEMORY) NAME(CL_BUILD_PROGRAM_FAILURE) NAME(CL_INVALID_VALUE)
                NAME(CL_INVALID_DEVICE) NAME(CL_INVALID_CONTEXT) NAME(
                    CL_INVALID_COMMAND_QUEUE) NAME(CL_INVALID_MEM_OBJECT) NAME(CL_INVALID_BINARY)
                    NAME(CL_INVALID_BUILD_OPTIONS) NAME(CL_INVALID_PROGRAM) NAME(
                        CL_INVALID_KERNEL_NAME) NAME(CL_INVALID_KERNEL) NAME(CL_INVALID_ARG_INDEX)
                        NAME(CL_INVALID_ARG_VALUE) NAME(CL_INVALID_ARG_SIZE) NAME(
                            CL_INVALID_KERNEL_ARGS) NAME(CL_INVALID_WORK_DIMENSION)
                            NAME(CL_INVALID_WORK_GROUP_SIZE) NAME(CL_INVALID_WORK_ITEM_SIZE) NAME(
                                CL_INVALID_GLOBAL_OFFSET) NAME(CL_INVALID_EVENT_WAIT_LIST)
                                NAME(CL_INVALID_EVENT) NAME(CL_INVALID_OPERATION) NAME(
                                    CL_INVALID_BUFFER_SIZE) NAME(CL_INVALID_GLOBAL_WORK_SIZE)
                                    NAME(CL_INVALID_PLATFORM) NAME(CL_INVALID_PROGRAM_EXECUTABLE)
                                        NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET)
                                            NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
#undef NAME
    }
    return "an unknown OpenCL error";
}

clpool_status clp_cl_fail(const clpool_context *ctx, cl_int err, const char *what)
{
    clpool_status status = CLPOOL_ERROR_OPENCL;
    switch (err) {
    case CL_OUT_OF_RESOURCES:
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_INVALID_BUFFER_SIZE:
        status = CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY;
        break;
    case CL_OUT_OF_HOST_MEMORY:
        status = CLPOOL_ERROR_OUT_OF_HOST_MEMORY;
        break;
    case CL_BUILD_PROGRAM_FAILURE:
        status = CLPOOL_ERROR_BUILD_FAILED;
        break;
    default:
        break;
    }
    return clp_fail(ctx, status, "%s failed: %s (%d)", what, clp_cl_error_name(err), (int)err);
}
