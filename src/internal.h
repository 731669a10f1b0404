/*
 * Internal declarations shared by the library's modules: the context and plan
 * objects, logging, the program cache, the scheduler and the operator-family
 * table through which an operator plugs into the shared plan machinery.
 */
#ifndef CLPOOL_INTERNAL_H
#define CLPOOL_INTERNAL_H

#include "clpool.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

/* ---- logging (log.c) ---------------------------------------------------- */

/* Sends one formatted sentence to the context's log sink (ctx may be NULL:
 * then the default stderr sink). */
void clp_log(const clpool_context *ctx, clpool_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logs an error sentence and returns @p status, for `return clp_fail(...)`. */
clpool_status clp_fail(const clpool_context *ctx, clpool_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps an OpenCL error code to a status and logs "WHAT failed: CL_..." */
clpool_status clp_cl_fail(const clpool_context *ctx, cl_int err, const char *what);
const char *clp_cl_error_name(cl_int err);
/* The level $CLPOOL_LOG asks the default stderr sink to print up to. */
clpool_log_level clp_default_stderr_level(void);

/* ---- devices (device.c) ------------------------------------------------- */

/* Fills @p info from the device (platform/device indices left as given). */
clpool_status clp_query_device(cl_device_id device, clpool_device_info *info);

/* Finds the device that @p spec names (NULL/empty: $CLPOOL_DEVICE, then the
 * default rule) among all platforms. */
clpool_status clp_find_device(const clpool_context *ctx, const char *spec, cl_platform_id *platform,
                              cl_device_id *device, clpool_device_info *info);

/* ---- program cache (program_cache.c) ------------------------------------ */

typedef struct clp_program_entry {
    char key[65]; /* hex SHA-256 of the key material */
    cl_program program;
    struct clp_program_entry *next;
} clp_program_entry;

/* Returns a built program of kernels/@p source_name with build @p options,
 * from memory, disk or a fresh build. The caller releases the reference. */
clpool_status clp_program_get(clpool_context *ctx, const char *source_name, const char *options,
                              cl_program *program);
void clp_program_cache_clear(clpool_context *ctx);

/* ---- kernel sources (kernel_source.c) ----------------------------------- */

/* A malloc'ed copy of kernels/@p name: from $CLPOOL_KERNEL_DIR when set (a
 * development override), else the copy embedded at build time. */
clpool_status clp_kernel_source(const clpool_context *ctx, const char *name, char **source);

/* ---- context ------------------------------------------------------------ */

struct clpool_context {
    cl_context cl_ctx;
    cl_device_id device;
    cl_command_queue queue; /* NULL for a wrapped context */
    clpool_device_info info;
    clpool_log_fn log;
    void *log_user;
    int stderr_level;             /* threshold of the default sink, -1: silent */
    char *cache_dir;              /* NULL: disk cache off */
    size_t work_group_size;       /* 0: per device */
    size_t max_planes_per_launch; /* 0: per device */
    pthread_mutex_t lock;         /* guards programs and stats */
    clp_program_entry *programs;
    clpool_cache_stats stats;
};

/* ---- plans (plan.c) ----------------------------------------------------- */

/* One kernel launch: planes [plane_begin, plane_begin + plane_count). */
typedef struct clp_launch {
    int stage; /* 0: the plan's kernel; i > 0: stages[i - 1] (see clp_plan_add_stage) */
    size_t plane_begin;
    size_t plane_count;
    size_t items; /* work-items with work; global_size rounds it up */
    size_t global_size;
    size_t local_size;
} clp_launch;

/* Whether the plan reads a bound tensor (clpool_run_host_io copies it in) or
 * writes it (copied out). */
typedef enum clp_access { CLP_READ = 0, CLP_WRITE = 1 } clp_access;

/* A tensor the plan reads or writes: which clpool_io slot, its dtype and size. */
typedef struct clp_binding {
    const char *name; /* "input", "output", "indices", ... for messages */
    size_t io_offset; /* offsetof(clpool_io, slot) */
    clp_access access;
    clpool_dtype dtype;
    size_t elements;
} clp_binding;

#define CLP_MAX_BINDINGS 6

/* A further kernel of a multi-pass plan with its own launches (see
 * clp_plan_add_stage). */
typedef struct clp_stage {
    cl_kernel kernel;
    clp_launch *launches;
    size_t launch_count;
} clp_stage;

#define CLP_MAX_STAGES 3

typedef struct clp_family clp_family;

struct clpool_plan {
    clpool_context *ctx;
    const clp_family *family;
    cl_program program;
    cl_kernel kernel;
    clpool_tensor_desc input;
    clpool_tensor_desc output;
    clp_binding bindings[CLP_MAX_BINDINGS];
    int binding_count;
    clp_launch *launches;
    size_t launch_count;
    size_t workspace_size;            /* bytes; clpool_io.workspace.offset counts bytes too */
    clp_stage stages[CLP_MAX_STAGES]; /* run after the plan's kernel, in order */
    int stage_count;
    void *op; /* the family's own geometry, freed by plan destroy */
};

/* What an operator family provides to the shared plan machinery. */
struct clp_family {
    const char *name;
    /* Sets the kernel arguments that stay fixed for the plan, once, when
     * the plan is made (fewer calls per enqueue: they cost latency); NULL
     * when there are none. */
    cl_int (*set_shape_args)(const clpool_plan *plan);
    /* Sets the remaining arguments of one launch. Buffers are already checked. */
    cl_int (*set_args)(const clpool_plan *plan, const clp_launch *launch, const clpool_io *io);
    /* Changes the generator seed of a stochastic plan; NULL for families
     * without one (clpool_plan_set_seed then refuses). */
    clpool_status (*set_seed)(clpool_plan *plan, uint64_t seed);
    /* Checks the contents of host arrays the plan reads, before
     * clpool_run_host_io() creates or writes anything (region pooling
     * checks its boxes); NULL when there is nothing to check. */
    clpool_status (*check_host_io)(const clpool_plan *plan, const clpool_host_io *io);
};

/* Allocates a plan shell for @p family (bindings and launches empty). */
clpool_status clp_plan_new(clpool_context *ctx, const clp_family *family, clpool_plan **plan);

/* Adds a tensor binding the enqueue must check. */
void clp_plan_bind(clpool_plan *plan, const char *name, size_t io_offset, clp_access access,
                   clpool_dtype dtype, size_t elements);

/* Builds (or fetches) the program, creates the kernel and lets the scheduler
 * batch @p planes planes of @p items_per_plane work-items into launches. */
clpool_status clp_plan_finish(clpool_plan *plan, const char *source_name, const char *kernel_name,
                              const char *options, size_t planes, size_t items_per_plane);

/* Adds a further pass to a plan that clp_plan_finish() has set up: kernel
 * @p kernel_name of the same program over @p planes planes of
 * @p items_per_plane work-items. Enqueue runs the plan's kernel, then each
 * stage in the order added; every launch of a stage starts after every
 * launch of the previous one has finished (in-order queues by their order;
 * out-of-order queues through events). Launches carry their stage number for
 * the family's set_args; the family sets the stage kernel's arguments there
 * (set_shape_args covers the plan's kernel only). */
clpool_status clp_plan_add_stage(clpool_plan *plan, const char *kernel_name, size_t planes,
                                 size_t items_per_plane);

/* The kernel a launch runs. */
static inline cl_kernel clp_launch_kernel(const clpool_plan *plan, const clp_launch *launch)
{
    return launch->stage == 0 ? plan->kernel : plan->stages[launch->stage - 1].kernel;
}

/* clpool_enqueue() in two steps, so that a call over several plans
 * (clpool_split_enqueue) checks them all before it enqueues any. The check
 * validates the arguments, the queue and every bound buffer (logging the
 * failure, its sentence starting with @p who, NULL: the family's name) and
 * returns the queue's properties; the second step enqueues without checking
 * again. */
clpool_status clp_enqueue_check(const clpool_plan *plan, cl_command_queue queue,
                                const clpool_io *io, cl_uint num_events_in_wait_list,
                                const cl_event *event_wait_list, cl_command_queue_properties *props,
                                const char *who);
clpool_status clp_enqueue_checked(clpool_plan *plan, cl_command_queue queue, const clpool_io *io,
                                  cl_command_queue_properties props,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event);
/* Like clp_plan_finish(), for kernels whose work-group computes one output
 * together (a reduction tree in local memory): each of @p groups outputs gets
 * one work-group, all of one size: the context's work_group_size when set,
 * else the largest power of two up to @p want_size that the kernel and the
 * device allow and for which @p local_bytes_per_item bytes per work-item fit
 * the local memory the kernel has left. set_shape_args runs after scheduling
 * (it reads the size in launches[0].local_size, e.g. to size __local
 * arguments). */
clpool_status clp_plan_finish_groups(clpool_plan *plan, const char *source_name,
                                     const char *kernel_name, const char *options, size_t groups,
                                     size_t want_size, size_t local_bytes_per_item);

/* ---- scheduler (scheduler.c) -------------------------------------------- */

/* Splits @p planes planes of @p items_per_plane work-items each into launches
 * whose work-group size fits the device and the kernel (@p kernel_wg_max) and
 * divides the global size. */
clpool_status clp_schedule(const clpool_context *ctx, size_t planes, size_t items_per_plane,
                           size_t kernel_wg_max, size_t kernel_wg_multiple, clp_launch **launches,
                           size_t *launch_count);

/* Splits @p groups work-groups of @p group_size work-items into launches
 * (plane_begin, plane_count count groups; local_size is @p group_size). */
clpool_status clp_schedule_groups(const clpool_context *ctx, size_t groups, size_t group_size,
                                  clp_launch **launches, size_t *launch_count);

/* ---- helpers ------------------------------------------------------------ */

/* a * b into *out; false on size_t overflow. */
static inline bool clp_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

const char *clp_dtype_name(clpool_dtype dtype);

#endif /* CLPOOL_INTERNAL_H */
