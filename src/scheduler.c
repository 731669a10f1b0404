/*
 * The plane scheduler: batches the N*C planes of a tensor into kernel
 * launches sized for the device. Work-group sizes are powers of two within
 * the kernel's and the device's limits (few distinct sizes: PoCL compiles a
 * work-group function per local size) and the global size is rounded up to a
 * multiple of them (uniform work-groups, OpenCL 1.2); kernels guard the
 * padding items. A launch covers at most 2^31 work-items so kernel index
 * arithmetic stays in range, whatever the tensor's size.
 */
#include "internal.h"

#include <stdlib.h>

#define MAX_ITEMS_PER_LAUNCH (((size_t)1 << 31) - 4096)

static size_t floor_pow2(size_t v)
{
    size_t p = 1;
    while (p <= v / 2)
        p *= 2;
    return p;
}

static clpool_status choose_local_size(const clpool_context *ctx, size_t total_items,
                                       size_t kernel_wg_max, size_t kernel_wg_multiple,
                                       size_t *local)
{
    const clpool_device_info *d = &ctx->info;
    size_t limit = kernel_wg_max;
    if (d->max_work_group_size < limit)
        limit = d->max_work_group_size;
    if (d->max_work_item_sizes[0] && d->max_work_item_sizes[0] < limit)
        limit = d->max_work_item_sizes[0];
    if (limit == 0)
        limit = 1;
    if (ctx->work_group_size) {
        if (ctx->work_group_size > limit)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "work_group_size %zu is more than this kernel and device allow (%zu)",
                            ctx->work_group_size, limit);
        *local = ctx->work_group_size;
        return CLPOOL_SUCCESS;
    }
    /* GPUs want several wavefronts per group; CPUs (PoCL) want groups big
     * enough to amortise the per-group cost but enough of them to feed every
     * core. */
    size_t target = (d->type & CL_DEVICE_TYPE_GPU) ? 256 : 64;
    size_t l = floor_pow2(target < limit ? target : limit);
    size_t floor_size = kernel_wg_multiple > 1 ? floor_pow2(kernel_wg_multiple) : 1;
    if (floor_size > l)
        floor_size = l;
    /* Two groups per compute unit: enough to balance, few enough that a
     * small launch does not pay the per-group cost many times. */
    size_t want_groups = 2 * (size_t)d->compute_units;
    while (l > floor_size && (total_items + l - 1) / l < want_groups)
        l /= 2;
    *local = l;
    return CLPOOL_SUCCESS;
}

clpool_status clp_schedule(const clpool_context *ctx, size_t planes, size_t items_per_plane,
                           size_t kernel_wg_max, size_t kernel_wg_multiple, clp_launch **launches,
                           size_t *launch_count)
{
    *launches = NULL;
    *launch_count = 0;
    if (planes == 0 || items_per_plane == 0)
        return CLPOOL_SUCCESS;
    if (items_per_plane > MAX_ITEMS_PER_LAUNCH)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "one plane needs %zu work-items, more than one launch may hold (%zu)",
                        items_per_plane, MAX_ITEMS_PER_LAUNCH);
    size_t per_launch = MAX_ITEMS_PER_LAUNCH / items_per_plane;
    if (ctx->max_planes_per_launch && ctx->max_planes_per_launch < per_launch)
        per_launch = ctx->max_planes_per_launch;
    size_t total_items =
        planes > per_launch ? per_launch * items_per_plane : planes * items_per_plane;
    size_t local = 1;
    clpool_status status =
        choose_local_size(ctx, total_items, kernel_wg_max, kernel_wg_multiple, &local);
    if (status != CLPOOL_SUCCESS)
        return status;

    size_t count = (planes + per_launch - 1) / per_launch;
    clp_launch *list = calloc(count, sizeof *list);
    if (!list)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; i < count; i++) {
        clp_launch *l = &list[i];
        l->plane_begin = i * per_launch;
        l->plane_count =
            planes - l->plane_begin < per_launch ? planes - l->plane_begin : per_launch;
        l->items = l->plane_count * items_per_plane;
        l->local_size = local;
        l->global_size = (l->items + local - 1) / local * local;
    }
    *launches = list;
    *launch_count = count;
    return CLPOOL_SUCCESS;
}

clpool_status clp_schedule_groups(const clpool_context *ctx, size_t groups, size_t group_size,
                                  clp_launch **launches, size_t *launch_count)
{
    *launches = NULL;
    *launch_count = 0;
    if (groups == 0)
        return CLPOOL_SUCCESS;
    if (group_size == 0 || group_size > MAX_ITEMS_PER_LAUNCH)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "work-group size %zu is not usable",
                        group_size);
    size_t per_launch = MAX_ITEMS_PER_LAUNCH / group_size;
    if (ctx->max_planes_per_launch && ctx->max_planes_per_launch < per_launch)
        per_launch = ctx->max_planes_per_launch;
    size_t count = (groups + per_launch - 1) / per_launch;
    clp_launch *list = calloc(count, sizeof *list);
    if (!list)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; i < count; i++) {
        clp_launch *l = &list[i];
        l->plane_begin = i * per_launch;
        l->plane_count =
            groups - l->plane_begin < per_launch ? groups - l->plane_begin : per_launch;
        l->items = l->plane_count * group_size;
        l->local_size = group_size;
        l->global_size = l->items;
    }
    *launches = list;
    *launch_count = count;
    return CLPOOL_SUCCESS;
}
