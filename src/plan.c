/*
 * The shared plan machinery: plan shells, program and kernel set-up, buffer
 * checks, the enqueue loop over the scheduler's launches with the standard
 * OpenCL event tail, and the blocking host-memory convenience call. Nothing
 * here knows which operator a plan computes.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

clpool_status clp_plan_new(clpool_context *ctx, const clp_family *family, clpool_plan **plan)
{
    clpool_plan *p = calloc(1, sizeof *p);
    if (!p)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->ctx = ctx;
    p->family = family;
    *plan = p;
    return CLPOOL_SUCCESS;
}

void clp_plan_bind(clpool_plan *plan, const char *name, size_t io_offset, clp_access access,
                   clpool_dtype dtype, size_t elements)
{
    if (plan->binding_count >= CLP_MAX_BINDINGS)
        return;
    clp_binding *b = &plan->bindings[plan->binding_count++];
    b->name = name;
    b->io_offset = io_offset;
    b->access = access;
    b->dtype = dtype;
    b->elements = elements;
}

/* Creates kernel @p kernel_name of the plan's program and schedules its
 * launches (numbered as @p stage). */
static clpool_status make_kernel(clpool_plan *plan, const char *kernel_name, int stage,
                                 size_t planes, size_t items_per_plane, cl_kernel *kernel,
                                 clp_launch **launches, size_t *launch_count)
{
    clpool_context *ctx = plan->ctx;
    cl_int err = CL_SUCCESS;
    *kernel = clCreateKernel(plan->program, kernel_name, &err);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clCreateKernel");
    if (stage == 0 && plan->family->set_shape_args)
        err = plan->family->set_shape_args(plan);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clSetKernelArg");
    size_t wg_max = 1, wg_multiple = 1;
    err = clGetKernelWorkGroupInfo(*kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_max,
                                   &wg_max, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
    if (clGetKernelWorkGroupInfo(*kernel, ctx->device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                 sizeof wg_multiple, &wg_multiple, NULL) != CL_SUCCESS)
        wg_multiple = 1;
    clpool_status status =
        clp_schedule(ctx, planes, items_per_plane, wg_max, wg_multiple, launches, launch_count);
    for (size_t i = 0; status == CLPOOL_SUCCESS && i < *launch_count; i++)
        (*launches)[i].stage = stage;
    return status;
}

clpool_status clp_plan_finish(clpool_plan *plan, const char *source_name, const char *kernel_name,
                              const char *options, size_t planes, size_t items_per_plane)
{
    clpool_status status = clp_program_get(plan->ctx, source_name, options, &plan->program);
    if (status != CLPOOL_SUCCESS)
        return status;
    return make_kernel(plan, kernel_name, 0, planes, items_per_plane, &plan->kernel,
                       &plan->launches, &plan->launch_count);
}

clpool_status clp_plan_add_stage(clpool_plan *plan, const char *kernel_name, size_t planes,
                                 size_t items_per_plane)
{
    if (!plan->program || plan->stage_count >= CLP_MAX_STAGES)
        return clp_fail(plan->ctx, CLPOOL_ERROR_OPENCL,
                        "%s: internal error: a stage added without a program or beyond %d",
                        plan->family->name, CLP_MAX_STAGES);
    clp_stage *st = &plan->stages[plan->stage_count++];
    return make_kernel(plan, kernel_name, plan->stage_count, planes, items_per_plane, &st->kernel,
                       &st->launches, &st->launch_count);
}

clpool_status clp_plan_finish_groups(clpool_plan *plan, const char *source_name,
                                     const char *kernel_name, const char *options, size_t groups,
                                     size_t want_size, size_t local_bytes_per_item)
{
    clpool_context *ctx = plan->ctx;
    clpool_status status = clp_program_get(ctx, source_name, options, &plan->program);
    if (status != CLPOOL_SUCCESS)
        return status;
    cl_int err = CL_SUCCESS;
    plan->kernel = clCreateKernel(plan->program, kernel_name, &err);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clCreateKernel");
    size_t wg_max = 1;
    cl_ulong kernel_local = 0;
    err = clGetKernelWorkGroupInfo(plan->kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                   sizeof wg_max, &wg_max, NULL);
    if (err == CL_SUCCESS)
        err = clGetKernelWorkGroupInfo(plan->kernel, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE,
                                       sizeof kernel_local, &kernel_local, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(ctx, err, "clGetKernelWorkGroupInfo");
    size_t limit = wg_max;
    if (ctx->info.max_work_group_size < limit)
        limit = ctx->info.max_work_group_size;
    if (ctx->info.max_work_item_sizes[0] && ctx->info.max_work_item_sizes[0] < limit)
        limit = ctx->info.max_work_item_sizes[0];
    cl_ulong local_left =
        ctx->info.local_mem_size > kernel_local ? ctx->info.local_mem_size - kernel_local : 0;
    if (local_bytes_per_item && local_left / local_bytes_per_item < limit)
        limit = (size_t)(local_left / local_bytes_per_item);
    if (limit == 0)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY,
                        "the device's local memory (%llu bytes) is too small for one work-item "
                        "of %s",
                        (unsigned long long)ctx->info.local_mem_size, kernel_name);
    size_t size = 1;
    if (ctx->work_group_size) {
        if (ctx->work_group_size > limit)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "work_group_size %zu is more than this kernel and device allow (%zu)",
                            ctx->work_group_size, limit);
        size = ctx->work_group_size;
    } else {
        while (size * 2 <= want_size && size * 2 <= limit)
            size *= 2;
    }
    status = clp_schedule_groups(ctx, groups, size, &plan->launches, &plan->launch_count);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (plan->family->set_shape_args) {
        err = plan->family->set_shape_args(plan);
        if (err != CL_SUCCESS)
            return clp_cl_fail(ctx, err, "clSetKernelArg");
    }
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_output_desc(const clpool_plan *plan, clpool_tensor_desc *output)
{
    if (!plan || !output)
        return clp_fail(plan ? plan->ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_output_desc: %s is NULL", !plan ? "plan" : "output");
    *output = plan->output;
    return CLPOOL_SUCCESS;
}

size_t clpool_plan_workspace_size(const clpool_plan *plan)
{
    return plan ? plan->workspace_size : 0;
}

size_t clpool_plan_launch_count(const clpool_plan *plan)
{
    if (!plan)
        return 0;
    size_t n = plan->launch_count;
    for (int i = 0; i < plan->stage_count; i++)
        n += plan->stages[i].launch_count;
    return n;
}

clpool_status clpool_plan_set_seed(clpool_plan *plan, uint64_t seed)
{
    if (!plan)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_set_seed: plan is NULL");
    if (!plan->family->set_seed)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_set_seed: a %s plan has no generator seed",
                        plan->family->name);
    return plan->family->set_seed(plan, seed);
}

void clpool_plan_destroy(clpool_plan *plan)
{
    if (!plan)
        return;
    if (plan->kernel)
        clReleaseKernel(plan->kernel);
    if (plan->program)
        clReleaseProgram(plan->program);
    free(plan->launches);
    for (int i = 0; i < plan->stage_count; i++) {
        if (plan->stages[i].kernel)
            clReleaseKernel(plan->stages[i].kernel);
        free(plan->stages[i].launches);
    }
    free(plan->op);
    free(plan);
}

static const clpool_buffer *slot(const clpool_io *io, size_t offset)
{
    return (const clpool_buffer *)(const void *)((const char *)io + offset);
}

/* Checks that @p mem is a buffer of the plan's context and writes its size. */
static clpool_status check_mem(const clpool_plan *plan, const char *who, const char *name,
                               cl_mem mem, size_t *mem_size)
{
    const clpool_context *ctx = plan->ctx;
    if (!mem)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER, "%s: the %s buffer is NULL", who, name);
    cl_context mem_ctx = NULL;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof *mem_size, mem_size, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof mem_ctx, &mem_ctx, NULL);
    if (err != CL_SUCCESS)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER,
                        "%s: the %s buffer is not a valid cl_mem (%s)", who, name,
                        clp_cl_error_name(err));
    if (mem_ctx != ctx->cl_ctx)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER,
                        "%s: the %s buffer belongs to another cl_context", who, name);
    return CLPOOL_SUCCESS;
}

/* Checks that every bound buffer exists, belongs to the plan's context and
 * holds its tensor at its offset, and the same of the workspace when the
 * plan needs one (its offset counts bytes, a multiple of 16). Messages start
 * with @p who. */
static clpool_status check_buffers(const clpool_plan *plan, const clpool_io *io, const char *who)
{
    const clpool_context *ctx = plan->ctx;
    for (int i = 0; i < plan->binding_count; i++) {
        const clp_binding *b = &plan->bindings[i];
        const clpool_buffer *buf = slot(io, b->io_offset);
        if (b->elements == 0)
            continue;
        size_t mem_size = 0;
        clpool_status status = check_mem(plan, who, b->name, buf->mem, &mem_size);
        if (status != CLPOOL_SUCCESS)
            return status;
        size_t esize = clpool_dtype_size(b->dtype), end = 0, bytes = 0;
        if (__builtin_add_overflow(buf->offset, b->elements, &end) ||
            clp_mul_overflow(end, esize, &bytes) || bytes > mem_size)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER,
                            "%s: the %s buffer holds %zu bytes, too few for %zu %s elements at "
                            "element offset %zu",
                            who, b->name, mem_size, b->elements, clp_dtype_name(b->dtype),
                            buf->offset);
    }
    if (plan->workspace_size > 0) {
        size_t mem_size = 0, end = 0;
        clpool_status status = check_mem(plan, who, "workspace", io->workspace.mem, &mem_size);
        if (status != CLPOOL_SUCCESS)
            return status;
        if (io->workspace.offset % 16 != 0)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER,
                            "%s: the workspace offset is %zu bytes, but it must be a multiple of "
                            "16",
                            who, io->workspace.offset);
        if (__builtin_add_overflow(io->workspace.offset, plan->workspace_size, &end) ||
            end > mem_size)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_BUFFER,
                            "%s: the workspace buffer holds %zu bytes, too few for %zu bytes at "
                            "byte offset %zu (see clpool_plan_workspace_size)",
                            who, mem_size, plan->workspace_size, io->workspace.offset);
    }
    return CLPOOL_SUCCESS;
}

static clpool_status check_queue(const clpool_plan *plan, cl_command_queue queue,
                                 cl_command_queue_properties *props, const char *who)
{
    const clpool_context *ctx = plan->ctx;
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof *props, props, NULL);
    if (err != CL_SUCCESS)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: the queue is not a valid cl_command_queue (%s)", who,
                        clp_cl_error_name(err));
    if (qctx != ctx->cl_ctx || qdev != ctx->device)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: the queue belongs to another %s than the plan", who,
                        qctx != ctx->cl_ctx ? "cl_context" : "device");
    return CLPOOL_SUCCESS;
}

clpool_status clp_enqueue_check(const clpool_plan *plan, cl_command_queue queue,
                                const clpool_io *io, cl_uint num_events_in_wait_list,
                                const cl_event *event_wait_list, cl_command_queue_properties *props,
                                const char *who)
{
    if (!plan || !queue || !io)
        return clp_fail(plan ? plan->ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_enqueue: %s is NULL",
                        !plan    ? "plan"
                        : !queue ? "queue"
                                 : "io");
    if ((num_events_in_wait_list > 0) != (event_wait_list != NULL))
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_enqueue: num_events_in_wait_list is %u but event_wait_list is %s",
                        num_events_in_wait_list, event_wait_list ? "not NULL" : "NULL");
    if (!who)
        who = plan->family->name;
    clpool_status status = check_queue(plan, queue, props, who);
    if (status == CLPOOL_SUCCESS)
        status = check_buffers(plan, io, who);
    return status;
}

clpool_status clpool_enqueue(clpool_plan *plan, cl_command_queue queue, const clpool_io *io,
                             cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                             cl_event *event)
{
    cl_command_queue_properties props = 0;
    clpool_status status =
        clp_enqueue_check(plan, queue, io, num_events_in_wait_list, event_wait_list, &props, NULL);
    if (status != CLPOOL_SUCCESS)
        return status;
    return clp_enqueue_checked(plan, queue, io, props, num_events_in_wait_list, event_wait_list,
                               event);
}

clpool_status clp_enqueue_checked(clpool_plan *plan, cl_command_queue queue, const clpool_io *io,
                                  cl_command_queue_properties props,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event)
{
    const clpool_context *ctx = plan->ctx;
    clpool_status status = CLPOOL_SUCCESS;
    size_t total = clpool_plan_launch_count(plan);
    if (total == 0) { /* an empty tensor: only the event tail */
        cl_int err =
            clEnqueueMarkerWithWaitList(queue, num_events_in_wait_list, event_wait_list, event);
        return err == CL_SUCCESS ? CLPOOL_SUCCESS
                                 : clp_cl_fail(ctx, err, "clEnqueueMarkerWithWaitList");
    }
    /* Launches of one stage write disjoint planes. On an in-order queue
     * everything runs in order and the last launch's event marks the end. On
     * an out-of-order queue each launch of the first stage waits on the
     * caller's list, each launch of a later stage on every launch of the one
     * before, and a marker joins the last stage's launches. */
    bool in_order = !(props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
    cl_event *events = NULL;
    if (!in_order && (plan->stage_count > 0 || (event && total > 1))) {
        events = calloc(total, sizeof *events);
        if (!events)
            return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    size_t done = 0, prev_begin = 0, prev_end = 0; /* events of the previous stage */
    for (int s = 0; s <= plan->stage_count && status == CLPOOL_SUCCESS; s++) {
        const clp_launch *launches = s == 0 ? plan->launches : plan->stages[s - 1].launches;
        size_t n = s == 0 ? plan->launch_count : plan->stages[s - 1].launch_count;
        size_t stage_begin = done;
        for (size_t i = 0; i < n; i++) {
            const clp_launch *l = &launches[i];
            cl_int err = plan->family->set_args(plan, l, io);
            if (err != CL_SUCCESS) {
                status = clp_cl_fail(ctx, err, "clSetKernelArg");
                break;
            }
            cl_uint wait_n = 0;
            const cl_event *wait_list = NULL;
            if (!in_order && prev_end > prev_begin) {
                wait_n = (cl_uint)(prev_end - prev_begin);
                wait_list = events + prev_begin;
            } else if (done == 0 || (!in_order && prev_end == 0)) {
                wait_n = num_events_in_wait_list;
                wait_list = event_wait_list;
            }
            cl_event *ev = events ? &events[done] : (done == total - 1 ? event : NULL);
            err = clEnqueueNDRangeKernel(queue, clp_launch_kernel(plan, l), 1, NULL,
                                         &l->global_size, &l->local_size, wait_n, wait_list, ev);
            if (err != CL_SUCCESS) {
                status = clp_cl_fail(ctx, err, "clEnqueueNDRangeKernel");
                break;
            }
            done++;
        }
        if (done > stage_begin) {
            prev_begin = stage_begin;
            prev_end = done;
        }
    }
    if (events) {
        if (status == CLPOOL_SUCCESS && event) {
            cl_int err = clEnqueueMarkerWithWaitList(queue, (cl_uint)(prev_end - prev_begin),
                                                     events + prev_begin, event);
            if (err != CL_SUCCESS)
                status = clp_cl_fail(ctx, err, "clEnqueueMarkerWithWaitList");
        }
        for (size_t i = 0; i < done; i++)
            clReleaseEvent(events[i]);
        free(events);
    }
    return status;
}

/* ---- the blocking host-memory call -------------------------------------- */

static clpool_status host_buffer(const clpool_plan *plan, size_t bytes, void *host, cl_mem *mem)
{
    cl_int err = CL_SUCCESS;
    cl_mem_flags flags = host ? CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR : CL_MEM_READ_WRITE;
    *mem = clCreateBuffer(plan->ctx->cl_ctx, flags, bytes, host, &err);
    return err == CL_SUCCESS ? CLPOOL_SUCCESS : clp_cl_fail(plan->ctx, err, "clCreateBuffer");
}

/* The host array of clpool_host_io that mirrors the clpool_io slot at @p io_offset. */
static void *host_pointer(const clpool_host_io *host, size_t io_offset)
{
    if (io_offset == offsetof(clpool_io, input))
        return (void *)(uintptr_t)host->input;
    if (io_offset == offsetof(clpool_io, output))
        return host->output;
    if (io_offset == offsetof(clpool_io, indices))
        return host->indices;
    if (io_offset == offsetof(clpool_io, grad_output))
        return (void *)(uintptr_t)host->grad_output;
    if (io_offset == offsetof(clpool_io, grad_input))
        return host->grad_input;
    if (io_offset == offsetof(clpool_io, rois))
        return (void *)(uintptr_t)host->rois;
    if (io_offset == offsetof(clpool_io, samples))
        return (void *)(uintptr_t)host->samples;
    return NULL;
}

clpool_status clpool_run_host(clpool_plan *plan, cl_command_queue queue, const void *input,
                              void *output, void *indices)
{
    clpool_host_io host;
    memset(&host, 0, sizeof host);
    host.input = input;
    host.output = output;
    host.indices = indices;
    return clpool_run_host_io(plan, queue, &host);
}

clpool_status clpool_run_host_io(clpool_plan *plan, cl_command_queue queue,
                                 const clpool_host_io *host)
{
    if (!plan)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_run_host: plan is NULL");
    clpool_context *ctx = plan->ctx;
    if (!host)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_run_host_io: io is NULL");
    clpool_status status =
        plan->family->check_host_io ? plan->family->check_host_io(plan, host) : CLPOOL_SUCCESS;
    if (status != CLPOOL_SUCCESS)
        return status;
    cl_command_queue own_queue = NULL;
    cl_mem mems[CLP_MAX_BINDINGS] = {0};
    cl_mem workspace = NULL;
    clpool_io io;
    memset(&io, 0, sizeof io);
    cl_int err = CL_SUCCESS;
    if (!queue)
        queue = ctx->queue;
    if (!queue) {
        own_queue = clCreateCommandQueue(ctx->cl_ctx, ctx->device, 0, &err);
        if (err != CL_SUCCESS)
            return clp_cl_fail(ctx, err, "clCreateCommandQueue");
        queue = own_queue;
    }
    for (int i = 0; i < plan->binding_count && status == CLPOOL_SUCCESS; i++) {
        const clp_binding *b = &plan->bindings[i];
        void *ptr = host_pointer(host, b->io_offset);
        if (b->elements == 0)
            continue;
        if (!ptr) {
            status = clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                              "clpool_run_host: the %s array is NULL", b->name);
            break;
        }
        status = host_buffer(plan, b->elements * clpool_dtype_size(b->dtype),
                             b->access == CLP_READ ? ptr : NULL, &mems[i]);
        ((clpool_buffer *)(void *)((char *)&io + b->io_offset))->mem = mems[i];
    }
    if (status == CLPOOL_SUCCESS && plan->workspace_size > 0) {
        status = host_buffer(plan, plan->workspace_size, NULL, &workspace);
        io.workspace.mem = workspace;
    }
    if (status == CLPOOL_SUCCESS)
        status = clpool_enqueue(plan, queue, &io, 0, NULL, NULL);
    for (int i = 0; i < plan->binding_count && status == CLPOOL_SUCCESS; i++) {
        const clp_binding *b = &plan->bindings[i];
        if (b->elements == 0 || b->access == CLP_READ)
            continue;
        err = clEnqueueReadBuffer(queue, mems[i], CL_FALSE, 0,
                                  b->elements * clpool_dtype_size(b->dtype),
                                  host_pointer(host, b->io_offset), 0, NULL, NULL);
        if (err != CL_SUCCESS)
            status = clp_cl_fail(ctx, err, "clEnqueueReadBuffer");
    }
    err = clFinish(queue);
    if (err != CL_SUCCESS && status == CLPOOL_SUCCESS)
        status = clp_cl_fail(ctx, err, "clFinish");
    for (int i = 0; i < CLP_MAX_BINDINGS; i++)
        if (mems[i])
            clReleaseMemObject(mems[i]);
    if (workspace)
        clReleaseMemObject(workspace);
    if (own_queue)
        clReleaseCommandQueue(own_queue);
    return status;
}
