/*
 * The blocking host-array call of a split batch: every part gets buffers of
 * its own context for its samples alone, all parts are enqueued at once
 * through clpool_split_enqueue(), then each copies its share back into the
 * caller's arrays.
 */
#include "split.h"

#include <stdlib.h>
#include <string.h>

/* The caller's array of the clpool_io slot of binding @p b, advanced to
 * element @p first_element (NULL: a slot clpool_split_run_host has no array
 * for). */
static void *host_slice(const clp_binding *b, const void *input, void *output, void *indices,
                        size_t first_element)
{
    char *base = NULL;
    if (b->io_offset == offsetof(clpool_io, input))
        base = (char *)(uintptr_t)input;
    else if (b->io_offset == offsetof(clpool_io, output))
        base = output;
    else if (b->io_offset == offsetof(clpool_io, indices))
        base = indices;
    return base ? base + first_element * clpool_dtype_size(b->dtype) : NULL;
}

/* The buffers and queue one part runs with. */
typedef struct host_part {
    cl_mem mems[CLP_MAX_BINDINGS];
    cl_mem workspace;
    cl_command_queue own_queue; /* a temporary queue of a wrapped context */
} host_part;

/* Creates part @p i's buffers (the input ones filled from the host slice)
 * and picks its queue. */
static clpool_status prepare_part(const clp_split_part *p, const void *input, void *output,
                                  void *indices, cl_command_queue given, host_part *h,
                                  clpool_io *io, cl_command_queue *queue)
{
    clpool_context *ctx = p->ctx;
    const clpool_plan *plan = p->plan;
    cl_int err = CL_SUCCESS;
    *queue = given ? given : ctx->queue;
    if (!*queue) {
        h->own_queue = clCreateCommandQueue(ctx->cl_ctx, ctx->device, 0, &err);
        if (err != CL_SUCCESS)
            return clp_cl_fail(ctx, err, "clCreateCommandQueue");
        *queue = h->own_queue;
    }
    for (int b = 0; b < plan->binding_count; b++) {
        const clp_binding *bind = &plan->bindings[b];
        if (bind->elements == 0)
            continue;
        void *host =
            host_slice(bind, input, output, indices, p->first * clp_binding_per_sample(bind, p->n));
        cl_mem_flags flags = CL_MEM_READ_WRITE;
        if (bind->access == CLP_READ)
            flags |= CL_MEM_COPY_HOST_PTR;
        h->mems[b] =
            clCreateBuffer(ctx->cl_ctx, flags, bind->elements * clpool_dtype_size(bind->dtype),
                           bind->access == CLP_READ ? host : NULL, &err);
        if (err != CL_SUCCESS)
            return clp_cl_fail(ctx, err, "clCreateBuffer");
        clp_io_slot(io, bind)->mem = h->mems[b];
    }
    if (plan->workspace_size > 0) {
        h->workspace =
            clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, plan->workspace_size, NULL, &err);
        if (err != CL_SUCCESS)
            return clp_cl_fail(ctx, err, "clCreateBuffer");
        io->workspace.mem = h->workspace;
    }
    return CLPOOL_SUCCESS;
}

/* Enqueues the copies of part @p p's results into the caller's arrays. */
static clpool_status read_back(const clp_split_part *p, cl_command_queue queue, const host_part *h,
                               void *output, void *indices)
{
    const clpool_plan *plan = p->plan;
    for (int b = 0; b < plan->binding_count; b++) {
        const clp_binding *bind = &plan->bindings[b];
        if (bind->elements == 0 || bind->access == CLP_READ)
            continue;
        void *host =
            host_slice(bind, NULL, output, indices, p->first * clp_binding_per_sample(bind, p->n));
        cl_int err = clEnqueueReadBuffer(queue, h->mems[b], CL_FALSE, 0,
                                         bind->elements * clpool_dtype_size(bind->dtype), host, 0,
                                         NULL, NULL);
        if (err != CL_SUCCESS)
            return clp_cl_fail(p->ctx, err, "clEnqueueReadBuffer");
        if ((err = clFlush(queue)) != CL_SUCCESS)
            return clp_cl_fail(p->ctx, err, "clFlush");
    }
    return CLPOOL_SUCCESS;
}

/* Every array a part needs must be given (before any device work). */
static clpool_status check_arrays(const clpool_split *split, const void *input, void *output,
                                  void *indices)
{
    for (size_t i = 0; i < split->part_count; i++) {
        const clp_split_part *p = &split->parts[i];
        for (int b = 0; b < p->plan->binding_count; b++) {
            const clp_binding *bind = &p->plan->bindings[b];
            if (bind->elements > 0 && !host_slice(bind, input, output, indices, 0))
                return clp_fail(p->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                                "clpool_split_run_host: the %s array is NULL", bind->name);
        }
    }
    return CLPOOL_SUCCESS;
}

clpool_status clpool_split_run_host(clpool_split *split, const cl_command_queue *queues,
                                    const void *input, void *output, void *indices)
{
    if (!split)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_run_host: split is NULL");
    size_t count = split->part_count;
    clpool_status status = check_arrays(split, input, output, indices);
    if (status != CLPOOL_SUCCESS)
        return status;
    for (size_t i = 0; queues && i < count; i++)
        if (!queues[i])
            return clp_fail(split->parts[i].ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "clpool_split_run_host: queues[%zu] is NULL (pass NULL for the whole "
                            "array to use each context's own queue)",
                            i);
    host_part *hosts = calloc(count, sizeof *hosts);
    clpool_io *ios = calloc(count, sizeof *ios);
    cl_command_queue *used = calloc(count, sizeof *used);
    if (!hosts || !ios || !used) {
        status =
            clp_fail(split->parts[0].ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto cleanup;
    }
    for (size_t i = 0; i < count && status == CLPOOL_SUCCESS; i++)
        status = prepare_part(&split->parts[i], input, output, indices, queues ? queues[i] : NULL,
                              &hosts[i], &ios[i], &used[i]);
    if (status == CLPOOL_SUCCESS)
        status = clpool_split_enqueue(split, used, ios, count, 0, NULL, NULL);
    /* Results are copied back only when every part runs. */
    for (size_t i = 0; i < count && status == CLPOOL_SUCCESS; i++)
        status = read_back(&split->parts[i], used[i], &hosts[i], output, indices);
    /* Wait for whatever was enqueued (the reads write the caller's arrays)
     * before releasing anything. */
    for (size_t i = 0; used && i < count; i++) {
        if (!used[i])
            continue;
        cl_int err = clFinish(used[i]);
        if (err != CL_SUCCESS && status == CLPOOL_SUCCESS)
            status = clp_cl_fail(split->parts[i].ctx, err, "clFinish");
    }
cleanup:
    for (size_t i = 0; hosts && i < count; i++) {
        for (int b = 0; b < CLP_MAX_BINDINGS; b++)
            if (hosts[i].mems[b])
                clReleaseMemObject(hosts[i].mems[b]);
        if (hosts[i].workspace)
            clReleaseMemObject(hosts[i].workspace);
        if (hosts[i].own_queue)
            clReleaseCommandQueue(hosts[i].own_queue);
    }
    free(hosts);
    free(ios);
    free(used);
    return status;
}
