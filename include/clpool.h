/**
 * @file
 * clpool: portable OpenCL pooling.
 *
 * The one public header. It declares a context (one OpenCL device with its
 * program cache), operator descriptors, plans (an operator checked and
 * compiled for one input shape) and the calls that run a plan on the caller's
 * queue and buffers.
 *
 * Ownership: every object a create/wrap/plan call returns belongs to the
 * caller and is released by the matching destroy call. Out-parameters are
 * written only on success. A wrapped cl_context / cl_device_id is retained and
 * released on destroy; nothing else of the caller's is kept after a call
 * returns.
 *
 * Threads: a context may be used from several threads at once (its program
 * cache is locked). A plan is used by one thread at a time (it owns a
 * cl_kernel, whose arguments clSetKernelArg mutates). Destroy a context only
 * after every plan made from it is destroyed.
 *
 * Errors: every call returns a clpool_status. A failure also sends one
 * sentence that names the parameter, its value and the rule it broke to the
 * context's log callback (by default: standard error). Invalid input never
 * reaches the device: plans check every parameter and shape first, enqueue
 * checks every buffer against the plan.
 */
#ifndef CLPOOL_H
#define CLPOOL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CLPOOL_BUILDING_LIBRARY) && defined(__GNUC__)
#define CLPOOL_API __attribute__((visibility("default")))
#else
#define CLPOOL_API
#endif

/** @name Version */
/**@{*/
/** Major version of this header. */
#define CLPOOL_VERSION_MAJOR 0
/** Minor version of this header. */
#define CLPOOL_VERSION_MINOR 1
/** Patch version of this header. */
#define CLPOOL_VERSION_PATCH 0
/** This header's version as "MAJOR.MINOR.PATCH"; compare with clpool_version(). */
#define CLPOOL_VERSION_STRING "0.1.0"
/** The version the library was built as ("MAJOR.MINOR.PATCH"). */
CLPOOL_API const char *clpool_version(void);
/**@}*/

/** Result of every call. */
typedef enum clpool_status {
    CLPOOL_SUCCESS = 0,
    /** A NULL pointer, an unknown enum value or an option out of range. */
    CLPOOL_ERROR_INVALID_ARGUMENT = 1,
    /** Tensor shape: rank, zero or too large a dimension, or overflow. */
    CLPOOL_ERROR_INVALID_SHAPE = 2,
    /** Window size: zero, negative or missing. */
    CLPOOL_ERROR_INVALID_KERNEL = 3,
    /** Stride: zero or negative. */
    CLPOOL_ERROR_INVALID_STRIDE = 4,
    /** Padding: negative, or more than half the dilated window. */
    CLPOOL_ERROR_INVALID_PADDING = 5,
    /** Dilation: zero or negative, or given to an operator without one. */
    CLPOOL_ERROR_INVALID_DILATION = 6,
    /** divisor_override outside what the operator accepts. */
    CLPOOL_ERROR_INVALID_DIVISOR = 7,
    /** The parameters give an output with a dimension below 1. */
    CLPOOL_ERROR_OUTPUT_TOO_SMALL = 8,
    /** A buffer is missing, too small for its tensor, or of another context. */
    CLPOOL_ERROR_INVALID_BUFFER = 9,
    /** A valid request this device or build cannot do (e.g. float64 without
     *  cl_khr_fp64, an operator not implemented yet). */
    CLPOOL_ERROR_UNSUPPORTED = 10,
    /** No OpenCL platform or device, or none matches the device spec. */
    CLPOOL_ERROR_NO_DEVICE = 11,
    /** A kernel program failed to build; its log went to the log callback. */
    CLPOOL_ERROR_BUILD_FAILED = 12,
    CLPOOL_ERROR_OUT_OF_HOST_MEMORY = 13,
    /** The device could not allocate or run (CL_OUT_OF_RESOURCES,
     *  CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_INVALID_BUFFER_SIZE). */
    CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY = 14,
    /** Any other OpenCL failure; the log names the call and its error code. */
    CLPOOL_ERROR_OPENCL = 15,
    /** Max unpooling: an index outside its output plane (found by
     *  clpool_unpool_check_indices(), clpool_run_host_io(), the clpool
     *  program, or read back by clpool_unpool_check_workspace()). */
    CLPOOL_ERROR_INVALID_INDICES = 16,
    /** Region (RoI) pooling: a box whose batch index is NaN or outside [0, N);
     *  found by the host checks of clpool_roi_check_boxes(),
     *  clpool_run_host_io() and the clpool program. */
    CLPOOL_ERROR_INVALID_ROIS = 17
} clpool_status;

/** A static English name of @p status ("invalid padding", ...). */
CLPOOL_API const char *clpool_status_string(clpool_status status);

/** @name Logging */
/**@{*/
/** How important a log message is; the default sink prints errors only. */
typedef enum clpool_log_level {
    CLPOOL_LOG_ERROR = 0,
    CLPOOL_LOG_WARNING = 1,
    CLPOOL_LOG_INFO = 2,
    CLPOOL_LOG_DEBUG = 3
} clpool_log_level;

/**
 * Receives one message (one sentence, no trailing newline). Called from the
 * thread that made the failing call; it must not call back into the context.
 */
typedef void (*clpool_log_fn)(void *user, clpool_log_level level, const char *message);
/**@}*/

/** @name Devices */
/**@{*/
/** Size of the string fields of clpool_device_info, with the terminating NUL. */
#define CLPOOL_NAME_MAX 128

/** What a context knows of its device; also one row of clpool_list_devices(). */
typedef struct clpool_device_info {
    int platform_index; /**< index in clGetPlatformIDs order, -1 if wrapped and not found */
    int device_index;   /**< index within the platform, -1 likewise */
    int is_default;     /**< 1 for the device the default rule picks */
    /** CL_PLATFORM_NAME */
    char platform_name[CLPOOL_NAME_MAX];
    /** CL_PLATFORM_VERSION */
    char platform_version[CLPOOL_NAME_MAX];
    /** CL_DEVICE_NAME */
    char device_name[CLPOOL_NAME_MAX];
    /** CL_DEVICE_VENDOR */
    char device_vendor[CLPOOL_NAME_MAX];
    /** CL_DEVICE_VERSION: "OpenCL MAJOR.MINOR vendor text" */
    char device_version[CLPOOL_NAME_MAX];
    /** CL_DRIVER_VERSION */
    char driver_version[CLPOOL_NAME_MAX];
    /** CL_DEVICE_TYPE */
    cl_device_type type;
    /** CL_DEVICE_MAX_COMPUTE_UNITS */
    cl_uint compute_units;
    /** CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_work_group_size;
    /** CL_DEVICE_MAX_WORK_ITEM_SIZES */
    size_t max_work_item_sizes[3];
    /** CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    cl_ulong local_mem_size;
    /** CL_DEVICE_GLOBAL_MEM_SIZE, bytes */
    cl_ulong global_mem_size;
    /** CL_DEVICE_MAX_MEM_ALLOC_SIZE, bytes */
    cl_ulong max_mem_alloc_size;
    /** CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    cl_uint preferred_vector_width_float;
    int has_fp16; /**< cl_khr_fp16 (not needed for float16 storage) */
    int has_fp64; /**< cl_khr_fp64 */
} clpool_device_info;

/**
 * Lists every device of every platform in (platform, device) order. Writes at
 * most @p capacity rows to @p infos (which may be NULL when capacity is 0) and
 * the total number found to @p count. CLPOOL_ERROR_NO_DEVICE when there is
 * none. The default rule: the CLPOOL_DEVICE spec if set, else the first GPU,
 * else the first device.
 */
CLPOOL_API clpool_status clpool_list_devices(clpool_device_info *infos, size_t capacity,
                                             size_t *count);
/**@}*/

/** @name Context */
/**@{*/
/** One OpenCL device with its program cache (opaque); see clpool_context_create(). */
typedef struct clpool_context clpool_context;

/** Options of a context; a zeroed struct (or NULL) means every default. */
typedef struct clpool_context_options {
    /** Which device clpool_context_create() opens: "gpu", "cpu", "P:D"
     *  (platform and device index) or part of the device name, case
     *  insensitive. NULL: $CLPOOL_DEVICE, else the default rule. */
    const char *device;
    /** Log sink; NULL prints errors (and, with $CLPOOL_LOG=warning|info|debug,
     *  more) to stderr as "clpool: <message>". */
    clpool_log_fn log;
    /** Passed unchanged to every call of @p log. */
    void *log_user;
    /** Disk cache folder. NULL: $CLPOOL_CACHE_DIR, else
     *  $XDG_CACHE_HOME/clpool, else ~/.cache/clpool. */
    const char *cache_dir;
    /** 1: no disk cache (also $CLPOOL_CACHE=0). The memory cache stays. */
    int disable_disk_cache;
    /** Tuning overrides for tests and experiments, 0 = chosen per device:
     *  the work-group size of every launch, and the most planes one launch
     *  covers (more planes are split into several launches). */
    size_t work_group_size;
    /** see work_group_size */
    size_t max_planes_per_launch;
} clpool_context_options;

/** Opens a device found by discovery, with its own context and in-order queue. */
CLPOOL_API clpool_status clpool_context_create(const clpool_context_options *options,
                                               clpool_context **context);

/**
 * Wraps the caller's context and device (retained now, released by destroy).
 * No queue is created: clpool_enqueue() takes the caller's queues, and
 * clpool_run_host() needs one passed in. @p device must belong to @p cl_ctx.
 */
CLPOOL_API clpool_status clpool_context_wrap(cl_context cl_ctx, cl_device_id device,
                                             const clpool_context_options *options,
                                             clpool_context **context);

/** Releases the context, its programs and what it retained. NULL is a no-op. */
CLPOOL_API void clpool_context_destroy(clpool_context *context);

/** Copies what @p context knows of its device into @p info. */
CLPOOL_API clpool_status clpool_context_device_info(const clpool_context *context,
                                                    clpool_device_info *info);
/** The OpenCL objects of the context (not retained for the caller). The queue
 *  is NULL for a wrapped context. */
CLPOOL_API cl_context clpool_context_cl_context(const clpool_context *context);
/** The device of the context (not retained for the caller). */
CLPOOL_API cl_device_id clpool_context_cl_device(const clpool_context *context);
/** The context's own in-order queue, NULL for a wrapped context (not retained). */
CLPOOL_API cl_command_queue clpool_context_cl_queue(const clpool_context *context);
/** The disk cache folder in use, or NULL when the disk cache is off. */
CLPOOL_API const char *clpool_context_cache_dir(const clpool_context *context);

/** Counters of the program cache, for tests and diagnostics. */
typedef struct clpool_cache_stats {
    uint64_t memory_hits;  /**< plans served a program already built in this context */
    uint64_t disk_hits;    /**< programs loaded from a valid disk entry */
    uint64_t disk_rejects; /**< disk entries found truncated, corrupt or foreign, then rebuilt */
    uint64_t disk_writes;  /**< entries written */
    uint64_t builds;       /**< programs compiled from source */
} clpool_cache_stats;
/** Copies the program cache counters of @p context into @p stats. */
CLPOOL_API clpool_status clpool_context_cache_stats(const clpool_context *context,
                                                    clpool_cache_stats *stats);
/**@}*/

/** @name Tensors */
/**@{*/
/** Element types of tensors (see clpool_window_desc for what each operator takes). */
typedef enum clpool_dtype {
    CLPOOL_FLOAT32 = 0,
    CLPOOL_FLOAT16 = 1,
    CLPOOL_BFLOAT16 = 2,
    CLPOOL_FLOAT64 = 3,
    CLPOOL_UINT8 = 4,
    CLPOOL_INT8 = 5,
    CLPOOL_INT32 = 6,
    CLPOOL_INT64 = 7
} clpool_dtype;

/** Bytes of one element of @p dtype, 0 for an unknown value. */
CLPOOL_API size_t clpool_dtype_size(clpool_dtype dtype);

/** Order of a tensor's dimensions in memory (dense, C order). */
typedef enum clpool_layout {
    CLPOOL_NCHW = 0, /**< channels first: (N, C, *spatial) */
    CLPOOL_NHWC = 1  /**< channels last: (N, *spatial, C) */
} clpool_layout;

/** Most spatial dimensions a tensor has (3-D pooling). */
#define CLPOOL_MAX_SPATIAL_DIMS 3

/** A dense tensor: N samples, C channels, 1 to 3 spatial dimensions. */
typedef struct clpool_tensor_desc {
    /** element type */
    clpool_dtype dtype;
    /** dimension order */
    clpool_layout layout;
    int spatial_dims; /**< 1: (L), 2: (H, W), 3: (D, H, W) */
    size_t n;         /**< may be 0: an empty batch */
    /** channels */
    size_t c;
    size_t spatial[CLPOOL_MAX_SPATIAL_DIMS]; /**< outermost first */
} clpool_tensor_desc;

/** n * c * prod(spatial), 0 on overflow or an invalid description. */
CLPOOL_API size_t clpool_tensor_elements(const clpool_tensor_desc *desc);
/**@}*/

/** @name Window pooling */
/**@{*/
/**
 * The window pooling operators. Each reduces every window of the §1 geometry
 * (kernel, stride, padding, dilation, ceil mode) to one value; "real cells"
 * are the window cells inside the input (padding cells never carry a value).
 */
typedef enum clpool_op {
    /** max with torch's tie and NaN rules (spec §2); a window without a real
     *  cell (dilation only) gives -inf and index -1. Any dtype. */
    CLPOOL_OP_MAX = 1,
    /** average (spec §3): exclude_padding, divisor_override, no dilation.
     *  Integer dtypes divide the integer sum with C division (truncation). */
    CLPOOL_OP_AVG = 2,
    /** torch's LPPool (spec §5): ((K/D) * sum x^p)^(1/p) with D the real
     *  cells, a signed sum; p finite and non-zero; no padding, no dilation. */
    CLPOOL_OP_LP = 3,
    /** GeM (spec §10.6): (mean over real cells of max(x, 1e-6)^p)^(1/p); p
     *  finite and non-zero; padding allowed (excluded), no dilation. */
    CLPOOL_OP_GEM = 4,
    /** alpha*max + (1-alpha)*avg over the same window (spec §10.2), avg as
     *  CLPOOL_OP_AVG with exclude_padding; alpha in [0, 1]; no dilation. */
    CLPOOL_OP_MIXED = 5,
    /** sum_i softmax(beta*x)_i * x_i over the real cells, computed with the
     *  window maximum subtracted (spec §10.3); beta finite. A window without
     *  a real cell gives 0. */
    CLPOOL_OP_SOFTMAX = 6,
    /** Zeiler & Fergus stochastic pooling with Caffe's rules (spec §10.1,
     *  §0.5); weights a = max(x, 0) over the real cells. train = 0:
     *  sum a^2 / (FLT_MIN + sum a). train = 1: u = clpool_uniform(seed,
     *  plane, output position), the first real cell in row-major order whose
     *  running float sum of a is >= u * sum a (else the first real cell) is
     *  sampled: its value x (and, if asked, its index) is the output. */
    CLPOOL_OP_STOCHASTIC = 7
} clpool_op;

/** Whether, and as which integer type, a plan also writes the flat in-plane index of
 *  each selected element (see clpool_window_desc.indices). */
typedef enum clpool_index_type {
    CLPOOL_INDICES_NONE = 0,
    CLPOOL_INDICES_INT64 = 1, /**< torch's return_indices */
    CLPOOL_INDICES_INT32 = 2  /**< half the bytes; planes of up to 2^31-1 elements */
} clpool_index_type;

/**
 * A window pooling operator. Arrays hold one value per spatial dimension,
 * outermost first; zero fields take the documented defaults. Input and
 * output share dtype and layout. Dtypes: float32, float16 and bfloat16
 * (storage only: loaded to float, accumulated in float, rounded once),
 * float64 on devices with cl_khr_fp64 (else CLPOOL_ERROR_UNSUPPORTED), uint8
 * and int8 (max and avg only).
 */
typedef struct clpool_window_desc {
    /** which operator, required */
    clpool_op op;
    int kernel[CLPOOL_MAX_SPATIAL_DIMS];   /**< window size, required, >= 1 */
    int stride[CLPOOL_MAX_SPATIAL_DIMS];   /**< 0: the kernel size */
    int padding[CLPOOL_MAX_SPATIAL_DIMS];  /**< both sides; at most ((k-1)*d+1)/2 */
    int dilation[CLPOOL_MAX_SPATIAL_DIMS]; /**< 0: 1; max, softmax, stochastic */
    int ceil_mode;                         /**< 1: output size rounds up (spec §1.1) */
    /** avg and mixed: 1 divides by the real cells only (torch
     *  count_include_pad=False); 0 also counts the padding cells (torch's
     *  default). */
    int exclude_padding;
    /** avg: fixed divisor, 0 = none (torch divisor_override). */
    int divisor_override;
    /** max, and stochastic with train = 1: also write the flat in-plane
     *  index of each selected element. */
    clpool_index_type indices;
    /** lp and gem: the exponent. A kernel argument, not a build option:
     *  plans with other values share one program. */
    double p;
    /** mixed: the weight of max, in [0, 1]. */
    double alpha;
    /** softmax: the inverse temperature (0 gives the average of the real cells). */
    double beta;
    /** stochastic: 1 samples (training), 0 gives the weighted average. */
    int train;
    /** stochastic: the generator's seed (see clpool_plan_set_seed()). */
    uint64_t seed;
    /** Where the input's first sample sits in a larger batch (0: the input
     *  is the whole batch). The stochastic generator draws for plane
     *  (first_sample + n)*C + c, so a batch cut into sub-batches, each
     *  planned with its own first_sample, draws exactly as one plan over the
     *  whole batch (clpool_split_window() sets it for every part). Other
     *  operators do not depend on it. (first_sample + N) * C must fit in 64
     *  bits. */
    size_t first_sample;
} clpool_window_desc;

/**
 * The counter-based generator of the stochastic operators, the same on every
 * device, work-group size and batch split: with
 * mix(z) = splitmix64 (z += 0x9E3779B97F4A7C15, then its finaliser),
 * u = (mix(seed ^ mix(plane ^ mix(position))) >> 40) * 2^-24, in [0, 1).
 * @p plane is n*C + c whatever the layout, n counted from the start of the
 * whole batch (clpool_window_desc.first_sample plus the sample's index in
 * the input); @p position the flat index of the output in its plane.
 * Exposed so that callers and tests can replay a draw.
 */
CLPOOL_API float clpool_uniform(uint64_t seed, uint64_t plane, uint64_t position);
/**@}*/

/** @name Plans */
/**@{*/
/** An operator checked and compiled for one input shape (opaque); see clpool_plan_window(). */
typedef struct clpool_plan clpool_plan;

/**
 * Checks @p op against @p input, computes the output shape, gets the compiled
 * program (memory cache, disk cache or a build) and fixes the launch
 * schedule. Nothing runs on the device.
 */
CLPOOL_API clpool_status clpool_plan_window(clpool_context *context, const clpool_window_desc *op,
                                            const clpool_tensor_desc *input, clpool_plan **plan);

/** The output tensor (also the shape of the indices, whose dtype is INT32 or
 *  INT64 as asked). */
CLPOOL_API clpool_status clpool_plan_output_desc(const clpool_plan *plan,
                                                 clpool_tensor_desc *output);
/** Bytes of device scratch memory the plan needs in clpool_io.workspace (0: none). */
CLPOOL_API size_t clpool_plan_workspace_size(const clpool_plan *plan);
/** Number of kernel launches one enqueue issues (planes batched per launch). */
CLPOOL_API size_t clpool_plan_launch_count(const clpool_plan *plan);
/** NULL is a no-op. */
CLPOOL_API void clpool_plan_destroy(clpool_plan *plan);

/**
 * Plans the gradient of window pooling @p op over @p input: given the
 * gradient of the forward's output, the gradient of its input (spec §9,
 * §10). @p op and @p input are what clpool_plan_window() was given, checked
 * by the same rules (same statuses); integer dtypes have no gradient
 * (CLPOOL_ERROR_UNSUPPORTED). clpool_plan_output_desc() describes the
 * forward's output, i.e. the shape of grad_output (and of the indices); the
 * input gradient has the shape of @p input. Both share its dtype and layout.
 *
 * clpool_enqueue() slots, all tensors in @p input's dtype and layout:
 * - reads clpool_io.grad_output, always;
 * - reads clpool_io.indices (CLPOOL_INT64 or CLPOOL_INT32 as op->indices
 *   says) when op->indices is not CLPOOL_INDICES_NONE (max, and stochastic
 *   with train = 1): the forward's indices choose the cell each output's
 *   gradient goes to; an index of -1, or one that is not a cell of its
 *   window, sends that gradient nowhere;
 * - reads clpool_io.input for every operator except avg and the two that
 *   were given indices: max recomputes the forward's argmax (first maximum,
 *   last NaN, the first real cell of an all -inf window), stochastic with
 *   train = 1 replays the forward's draw from op->seed and op->first_sample
 *   (clpool_uniform()),
 *   lp, gem, mixed, softmax and stochastic with train = 0 recompute their
 *   window's values;
 * - writes clpool_io.grad_input, every element (0 where no window reaches).
 * No workspace. clpool_run_host_io() takes the same slots as host arrays.
 *
 * Rules, per output o with gradient g and each real cell q of its window
 * (K cells in the window, D of them real, y the forward's value):
 * max and training stochastic: g to the selected cell; avg: g / the
 * forward's divisor (exclude_padding, the ceil-mode overhang, the
 * divisor_override); lp: g (K/D) y^(1-p) x_q^(p-1), nothing when the window's
 * sum of x^p is 0; gem: g (1/D) y^(1-p) x_q^(p-1) where x_q >= 1e-6 (the
 * clamp passes no gradient below); mixed: alpha g to the argmax plus
 * (1-alpha) g / divisor to every cell; softmax: g w_q (1 + beta (x_q - y))
 * with w the window's softmax weights (nothing where w_q is 0); stochastic
 * with train = 0: g (2 x_q - y) / (FLT_MIN + sum max(x, 0)) where x_q > 0.
 *
 * Deterministic: each input element sums its contributions in a fixed
 * order (outputs in row-major order) in float (double for float64), with
 * no atomics and no floating-point contraction, so results are bit
 * identical across runs, work-group sizes and batch splits; float16 and
 * bfloat16 are rounded once at the end.
 */
CLPOOL_API clpool_status clpool_plan_window_backward(clpool_context *context,
                                                     const clpool_window_desc *op,
                                                     const clpool_tensor_desc *input,
                                                     clpool_plan **plan);

/** Changes the seed of a stochastic plan (or of a fractional max pooling plan
 *  that draws its samples) for its next enqueues (a training step draws anew
 *  without a new plan; a gradient plan that replays the draw must be given
 *  the forward's seed). CLPOOL_ERROR_INVALID_ARGUMENT for
 *  other plans. Not concurrently with an enqueue of the same plan. */
CLPOOL_API clpool_status clpool_plan_set_seed(clpool_plan *plan, uint64_t seed);

/** A tensor in a buffer: @p offset counts elements of the tensor's dtype. */
typedef struct clpool_buffer {
    /** a buffer of the plan's context */
    cl_mem mem;
    /** where the tensor starts, in elements */
    size_t offset;
} clpool_buffer;

/** The buffers of one run; each plan documents which slots it reads and writes,
 *  unused slots are ignored. Window pooling uses input, output and (when asked
 *  for) indices; its gradient plans see clpool_plan_window_backward(). */
typedef struct clpool_io {
    /** the input tensor */
    clpool_buffer input;
    /** the output tensor */
    clpool_buffer output;
    /** the indices, when the plan writes them */
    clpool_buffer indices;
    /** the gradient of the forward's output, read by gradient plans */
    clpool_buffer grad_output;
    /** the gradient of the forward's input, written by gradient plans */
    clpool_buffer grad_input;
    /** the boxes of region pooling plans (see clpool_plan_roi()) */
    clpool_buffer rois;
    /** scratch memory, when clpool_plan_workspace_size() is not 0; unlike
     *  the tensors its offset counts bytes, a multiple of 16 */
    clpool_buffer workspace;
    /** the random samples of fractional max pooling plans that read them */
    clpool_buffer samples;
} clpool_io;

/**
 * Enqueues the plan on @p queue (of the plan's context and device). The first
 * launch waits on the wait list; @p event (may be NULL) receives an event that
 * completes when the whole result is written. Never blocks, never flushes.
 */
CLPOOL_API clpool_status clpool_enqueue(clpool_plan *plan, cl_command_queue queue,
                                        const clpool_io *io, cl_uint num_events_in_wait_list,
                                        const cl_event *event_wait_list, cl_event *event);

/**
 * Blocking convenience: copies host arrays in, runs, copies the result out.
 * @p queue may be NULL to use the context's own queue (a wrapped context
 * then creates a temporary one). @p indices is needed exactly when the plan
 * returns indices.
 */
CLPOOL_API clpool_status clpool_run_host(clpool_plan *plan, cl_command_queue queue,
                                         const void *input, void *output, void *indices);

/**
 * Host arrays for clpool_run_host_io(), one per clpool_io slot. The plan
 * decides which it reads (copied to the device first) and which it writes
 * (copied back); the others are ignored and may be NULL. @p indices is read
 * by plans that take indices (max unpooling, gradients from the forward's
 * indices) and written by plans that return them.
 */
typedef struct clpool_host_io {
    const void *input;       /**< the input tensor */
    void *output;            /**< the output tensor */
    void *indices;           /**< indices, read or written as the plan says */
    const void *grad_output; /**< the gradient of the output (gradient plans) */
    void *grad_input;        /**< the gradient of the input (gradient plans) */
    const void *rois;        /**< the boxes (region pooling plans) */
    const void *samples;     /**< the samples (fractional max pooling plans) */
} clpool_host_io;

/**
 * Blocking convenience for any plan: creates device buffers for the slots the
 * plan uses (and its workspace), copies what it reads, runs it, copies back
 * what it writes and releases everything. @p queue as in clpool_run_host().
 * CLPOOL_ERROR_INVALID_ARGUMENT names a slot the plan needs whose array is NULL.
 * Plans whose inputs carry rules the device cannot report check them here
 * first, before anything is created or written (region pooling: its boxes,
 * CLPOOL_ERROR_INVALID_ROIS).
 */
CLPOOL_API clpool_status clpool_run_host_io(clpool_plan *plan, cl_command_queue queue,
                                            const clpool_host_io *io);
/**@}*/

/** @name Adaptive, global and spatial pyramid pooling */
/**@{*/
/**
 * Adaptive pooling (spec §4, torch adaptive_max_pool / adaptive_avg_pool in
 * 1-D, 2-D and 3-D) and global pooling (§10.5), which is adaptive pooling to
 * an output of 1 along every dimension. Output i of a dimension of input
 * size In and output size Out covers the input cells
 * [floor(i*In/Out), ceil((i+1)*In/Out)): Out may be smaller than, equal to
 * or larger than In (bins then overlap or repeat). Input and output share
 * dtype and layout; dtypes as clpool_window_desc (float32, float16 and
 * bfloat16 computed in float, float64 with cl_khr_fp64, uint8 and int8).
 */
typedef struct clpool_adaptive_desc {
    /** CLPOOL_OP_MAX (§2's rules: the first maximum in row-major order
     *  wins, NaN propagates with the index of the last NaN) or CLPOOL_OP_AVG
     *  (the mean of the bin; uint8 and int8 divide the exact integer sum
     *  with C division). Required. */
    clpool_op op;
    /** Output size per spatial dimension, outermost first; only the first
     *  spatial_dims values are read. 0 means 1: a zeroed array is global
     *  pooling. Otherwise 1 to 2^29 (torch's size 0, an empty tensor, is not
     *  a pooling; a negative size is CLPOOL_ERROR_OUTPUT_TOO_SMALL). */
    int output_size[CLPOOL_MAX_SPATIAL_DIMS];
    /** max: also write the flat in-plane index of each selected element
     *  (torch's return_indices; CLPOOL_INDICES_INT32 for planes of at most
     *  2^31-1 elements). */
    clpool_index_type indices;
} clpool_adaptive_desc;

/**
 * Plans adaptive (or, with output size 1, global) pooling of @p input. The
 * plan reads clpool_io.input and writes clpool_io.output and, when asked,
 * clpool_io.indices. Bins of at most a few thousand cells are reduced one per
 * work-item; larger bins (a global plane of a million elements) one per
 * work-group, as a pairwise tree (sums: about log2(bin size) rounding errors,
 * not bin size); every plane of the tensor is covered by the same launch
 * (launches split only beyond 2^31 work-items).
 */
CLPOOL_API clpool_status clpool_plan_adaptive(clpool_context *context,
                                              const clpool_adaptive_desc *op,
                                              const clpool_tensor_desc *input, clpool_plan **plan);

/** Most levels a spatial pyramid has. */
#define CLPOOL_SPP_LEVELS_MAX 8

/**
 * Spatial pyramid pooling (spec §10.4, §0.8) of a 2-D input: level l is
 * adaptive pooling (§4) to levels[l] x levels[l] bins. Per sample, the levels
 * are concatenated in the order given, each flattened as (C, n, n) (channel,
 * bin row, bin column), whatever the input's layout: one output of
 * (N, C * sum(levels[l]^2)) elements.
 */
typedef struct clpool_spp_desc {
    /** 0 or CLPOOL_OP_MAX: adaptive max per bin (the default); CLPOOL_OP_AVG:
     *  adaptive avg. */
    clpool_op op;
    /** bins per side of each level, 1 to 65536, in output order (e.g. 1, 2,
     *  4 as Caffe; 4, 2, 1 as the paper's figure) */
    int levels[CLPOOL_SPP_LEVELS_MAX];
    /** how many of @p levels are used, 1 to CLPOOL_SPP_LEVELS_MAX */
    int level_count;
    /** max: also write the flat index in the input plane (h*W + w) of each
     *  output element, laid out as the output. */
    clpool_index_type indices;
} clpool_spp_desc;

/**
 * Plans spatial pyramid pooling of @p input (spatial_dims 2, NCHW or NHWC).
 * clpool_plan_output_desc() describes the (N, C * sum(n^2)) result as an
 * NCHW tensor with c = C * sum(n^2) and one spatial dimension of size 1.
 * One enqueue is one launch over every level (no round trip per level).
 */
CLPOOL_API clpool_status clpool_plan_spp(clpool_context *context, const clpool_spp_desc *op,
                                         const clpool_tensor_desc *input, clpool_plan **plan);

/**
 * Plans the gradient of adaptive (or global) pooling from the forward's
 * descriptor and input, checked exactly as clpool_plan_adaptive() checks
 * them; float32, float16 and bfloat16 (computed in float, rounded once),
 * float64 (cl_khr_fp64); uint8 and int8: CLPOOL_ERROR_UNSUPPORTED.
 * clpool_plan_output_desc() gives the forward's output, the shape of
 * grad_output. The plan
 * - reads clpool_io.grad_output, always;
 * - reads clpool_io.indices (the forward's, the output's shape and layout,
 *   of op->indices' dtype) for max when op->indices is not NONE: each output
 *   sends its gradient to the cell its index names; -1 (or any index no
 *   cell of its bin has) sends nothing;
 * - reads clpool_io.input for max without indices: a first pass recomputes
 *   each bin's argmax with the forward's rule (first maximum, last NaN)
 *   into clpool_io.workspace (clpool_plan_workspace_size() bytes: 8 per
 *   output element; 0 otherwise), which the gather then reads;
 * - writes clpool_io.grad_input, every element (0 where nothing lands).
 * Avg sends g / (the bin's cell count) to every cell of the bin.
 * Deterministic: each input cell gathers from the bins that
 * contain it (floor(j*Out/In) <= i < ceil((j+1)*Out/In) per dimension) in
 * row-major order of the outputs, in float (double for float64) without
 * atomics or contraction: bit identical across runs, work-group sizes and
 * batch splits.
 */
CLPOOL_API clpool_status clpool_plan_adaptive_backward(clpool_context *context,
                                                       const clpool_adaptive_desc *op,
                                                       const clpool_tensor_desc *input,
                                                       clpool_plan **plan);

/**
 * Plans the gradient of spatial pyramid pooling from the forward's
 * descriptor and input, checked as clpool_plan_spp() checks them: the
 * levels' adaptive gradients (see clpool_plan_adaptive_backward()) summed in
 * level order. Slots and dtypes as clpool_plan_adaptive_backward():
 * clpool_io.grad_output (and, for max with op->indices, clpool_io.indices)
 * in the forward's (N, C * sum(n^2)) layout; clpool_io.input for max without
 * indices, with the same workspace; clpool_io.grad_input written, every
 * element. Deterministic as the adaptive gradient.
 */
CLPOOL_API clpool_status clpool_plan_spp_backward(clpool_context *context,
                                                  const clpool_spp_desc *op,
                                                  const clpool_tensor_desc *input,
                                                  clpool_plan **plan);
/**@}*/

/** @name Max unpooling */
/**@{*/
/**
 * Max unpooling (spec §7): the inverse of max pooling given its indices.
 * The input is the pooled tensor x (N, C, *S) with 1 to 3 spatial
 * dimensions, NCHW or NHWC, of any window-family dtype (float32, float16,
 * bfloat16, float64, uint8, int8: values are copied bit for bit, so float64
 * needs no cl_khr_fp64); the indices have the shape and layout of x and hold
 * flat in-plane output positions (t*H*W + h*W + w, as max pooling writes
 * them). The output (N, C, *OutS) has x's dtype and layout; each of its
 * planes is zero except where an index points:
 *   out[n, c].flat[indices[n, c, i]] = x[n, c, i]
 * Duplicate indices: the element latest in row-major order of the input
 * plane wins, on every device and work-group size; no race decides (see
 * clpool_plan_unpool() for how).
 */
typedef struct clpool_unpool_desc {
    /** the forward window per spatial dimension, outermost first, required,
     *  1 to 2^20; only used for the default output size */
    int kernel[CLPOOL_MAX_SPATIAL_DIMS];
    /** 0: the kernel size; 1 to 2^20 */
    int stride[CLPOOL_MAX_SPATIAL_DIMS];
    /** 0 to 2^20 */
    int padding[CLPOOL_MAX_SPATIAL_DIMS];
    /** all 0: the default size (In - 1)*stride - 2*padding + kernel per
     *  dimension; else every dimension given, each strictly between
     *  default - stride and default + stride (torch's rule) */
    size_t output_size[CLPOOL_MAX_SPATIAL_DIMS];
    /** dtype of the indices read: CLPOOL_INDICES_INT64 (also for 0, NONE:
     *  torch's) or CLPOOL_INDICES_INT32 */
    clpool_index_type indices;
} clpool_unpool_desc;

/**
 * Plans max unpooling of @p input (the pooled tensor). The plan reads
 * clpool_io.input and clpool_io.indices and writes clpool_io.output, and
 * needs a workspace of clpool_plan_workspace_size() bytes: 16 bytes of
 * flags, plus, for the "winners" strategy, one int32 per output element. It
 * runs three kernels, in one of two strategies with the same result:
 * - winners (GPUs, and CPUs with few planes): reset the workspace; claim
 *   (one work-item per input element checks its index and does atomic_max
 *   of its in-plane position on the output element it points to); write
 *   (one work-item per output element: the claimed input element, or 0);
 * - serial (CPUs with at least 4 planes, or NHWC samples times 16-channel
 *   groups, per compute unit): clear the flags; check every index; scatter
 *   (one work-item per plane writes zeros, then every element in row-major
 *   order, so the last duplicate is written last).
 * $CLPOOL_TUNE_UNPOOL = winners | serial forces one (for tests).
 * Planes of the input and of the output may hold up to 2^30 elements; a
 * tensor larger than the device's largest buffer is refused
 * (CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY).
 *
 * Out-of-range indices (negative, or not below the output plane's size):
 * - clpool_run_host_io() checks every index on the host first and returns
 *   CLPOOL_ERROR_INVALID_INDICES, naming the first bad one, with nothing
 *   created or written; clpool_unpool_check_indices() does the same check on
 *   any host copy.
 * - clpool_enqueue() cannot see indices in device memory. The check (claim)
 *   kernel records every bad index in the workspace flags, and the write
 *   (scatter) kernel then writes nothing at all: the output buffer keeps its
 *   previous contents, and nothing outside it is ever written. After the
 *   enqueue's event, clpool_unpool_check_workspace() reads the flags back
 *   and returns CLPOOL_ERROR_INVALID_INDICES (naming the first bad index) or
 *   CLPOOL_SUCCESS.
 */
CLPOOL_API clpool_status clpool_plan_unpool(clpool_context *context, const clpool_unpool_desc *op,
                                            const clpool_tensor_desc *input, clpool_plan **plan);

/**
 * Checks the indices at @p indices (host memory: the input's element count,
 * in the input's layout and the plan's index dtype) against a max unpooling
 * plan: CLPOOL_SUCCESS, or CLPOOL_ERROR_INVALID_INDICES with a log sentence
 * naming the first bad index, its (n, c, position) and the plane size.
 * CLPOOL_ERROR_INVALID_ARGUMENT for another plan or a NULL @p indices.
 */
CLPOOL_API clpool_status clpool_unpool_check_indices(const clpool_plan *plan, const void *indices);

/**
 * Reads back the flags a max unpooling run left in @p io->workspace (a
 * blocking read on @p queue, which must be an in-order queue on which the run
 * was enqueued, or any queue once the run's event has completed; also reads
 * one element of @p io->indices to name the bad index): CLPOOL_SUCCESS when
 * every index was in range (the output was written), else
 * CLPOOL_ERROR_INVALID_INDICES (nothing was written).
 */
CLPOOL_API clpool_status clpool_unpool_check_workspace(const clpool_plan *plan,
                                                       cl_command_queue queue, const clpool_io *io);

/**
 * Plans the gradient of max unpooling (spec §7) from the forward's
 * descriptor and pooled input @p input, checked exactly as
 * clpool_plan_unpool() checks them; float32, float16, bfloat16 and float64
 * (copied bit for bit: no cl_khr_fp64 needed); uint8 and int8:
 * CLPOOL_ERROR_UNSUPPORTED. clpool_plan_output_desc() gives the forward's
 * output, i.e. the shape of grad_output. The plan
 * - reads clpool_io.grad_output (the unpooled shape) and clpool_io.indices
 *   (the forward's, in @p input's shape and layout, of op->indices' dtype);
 * - writes clpool_io.grad_input (@p input's shape), every element: a pure
 *   gather, grad_input[n, c, i] = grad_output[n, c].flat[indices[n, c, i]],
 *   so duplicate indices each receive the same gradient.
 * No workspace. Out-of-range indices: clpool_run_host_io() checks every
 * index first and returns CLPOOL_ERROR_INVALID_INDICES with nothing created
 * or written; clpool_enqueue() cannot see device indices and writes 0 for
 * such an element (never reading or writing outside the buffers).
 * Deterministic: each element reads one value, no atomics.
 */
CLPOOL_API clpool_status clpool_plan_unpool_backward(clpool_context *context,
                                                     const clpool_unpool_desc *op,
                                                     const clpool_tensor_desc *input,
                                                     clpool_plan **plan);
/**@}*/

/** @name Fractional max pooling */
/**@{*/
/**
 * Fractional max pooling (spec §6, torch's fractional_max_pool2d/3d): each
 * output element is the max (spec §2 rules: first maximum, last NaN) of a
 * kernel-sized window that lies wholly inside the input, whose start along
 * a dimension with input In, output O, pool size k and sample u in [0, 1) is
 *   i < O-1:  (int)((i + u) * alpha) - (int)(u * alpha),
 *             alpha = (T)(In - k) / (T)(O - 1)
 *   i = O-1:  In - k
 * computed in T on the device (alpha, which depends on the shape only, is
 * divided on the host in T): T is double for float64 inputs, float for the
 * others (torch computes in the input's type on CPU and in float for half on
 * CUDA). The samples of a plane (n*C + c) are samples[plane*dims + j], where
 * j drives, as in torch: 2-D: j=0 W, j=1 H; 3-D: j=0 D, j=1 H, j=2 W.
 * Samples outside [0, 1) or NaN (torch does not check them) give starts
 * clamped to [0, In - k]: a window never leaves the input.
 */
typedef struct clpool_fractional_desc {
    /** pool size per spatial dimension, outermost first, required, >= 1 */
    int kernel[CLPOOL_MAX_SPATIAL_DIMS];
    /** output size per dimension; all 0: from output_ratio */
    int output_size[CLPOOL_MAX_SPATIAL_DIMS];
    /** used when output_size is all 0: O = (int)(In * r) per dimension, with
     *  0 < r < 1 (torch's module rule) */
    double output_ratio[CLPOOL_MAX_SPATIAL_DIMS];
    /** 1: the plan reads the samples from clpool_io.samples, (N, C, dims)
     *  values in [0, 1) of float64 for float64 inputs, else float32 (exact
     *  replay of torch's _random_samples); 0: it draws sample j of plane p as
     *  clpool_uniform(seed, p, j) (converted to T), so that passing those
     *  values as samples gives the same result. */
    int samples_given;
    /** the generator's seed when samples_given is 0 (see
     *  clpool_plan_set_seed()) */
    uint64_t seed;
    /** also write the flat in-plane index of each maximum */
    clpool_index_type indices;
} clpool_fractional_desc;

/**
 * Plans fractional max pooling of @p input: 2 or 3 spatial dimensions, NCHW
 * or NHWC, float32, float16, bfloat16, float64 (devices with cl_khr_fp64),
 * uint8 or int8. Sizes: 2-D needs O + k - 1 <= In, 3-D O + k - 1 < In
 * (torch's rules), else CLPOOL_ERROR_INVALID_KERNEL; O >= 1. The plan reads
 * clpool_io.input (and clpool_io.samples when given) and writes
 * clpool_io.output and, when asked, clpool_io.indices.
 */
CLPOOL_API clpool_status clpool_plan_fractional(clpool_context *context,
                                                const clpool_fractional_desc *op,
                                                const clpool_tensor_desc *input,
                                                clpool_plan **plan);

/**
 * Plans the gradient of fractional max pooling from the forward's
 * descriptor and input, checked exactly as clpool_plan_fractional() checks
 * them; float32, float16 and bfloat16 (computed in float, rounded once),
 * float64 (cl_khr_fp64); uint8 and int8: CLPOOL_ERROR_UNSUPPORTED.
 * clpool_plan_output_desc() gives the forward's output, the shape of
 * grad_output. The plan
 * - reads clpool_io.grad_output, always;
 * - reads clpool_io.indices (the forward's, the output's shape and layout,
 *   of op->indices' dtype) when op->indices is not NONE: each output sends
 *   its gradient to the cell its index names, -1 (or an index outside its
 *   window) sends nothing;
 * - otherwise reads clpool_io.input and recomputes each window's maximum
 *   exactly as the forward (same windows: clpool_io.samples when
 *   op->samples_given, else drawn from op->seed, see clpool_plan_set_seed();
 *   same rule: first maximum, last NaN);
 * - reads clpool_io.samples when op->samples_given (for the windows);
 * - writes clpool_io.grad_input, every element (0 where nothing lands).
 * No workspace. Deterministic: each input cell gathers from the windows
 * that contain it, outputs in row-major order, in float (double for
 * float64) without atomics or contraction.
 */
CLPOOL_API clpool_status clpool_plan_fractional_backward(clpool_context *context,
                                                         const clpool_fractional_desc *op,
                                                         const clpool_tensor_desc *input,
                                                         clpool_plan **plan);
/**@}*/

/**
 * @name Several devices
 * One batch split along N over several devices: each part is an ordinary
 * plan for a sub-batch of consecutive samples, on its own device, and the
 * parts run at once. Results are those of one plan over the whole batch:
 * every output depends only on its own sample, and the stochastic draws are
 * keyed by the sample's place in the whole batch
 * (clpool_window_desc.first_sample). Devices that plan the same kernels
 * (devices of one kind, such as two PoCL CPU devices) give bit-identical
 * results. On a mix of kinds (a GPU beside a CPU) max values and indices
 * stay exact and the stochastic draws u are the same, but sums (avg, lp,
 * gem, mixed, softmax, the stochastic running sum) follow each device's
 * kernel and float arithmetic and may differ in the last bits.
 *
 * Each part's context is either its own (clpool_context_create(), or a
 * wrapped cl_context of one device), or one cl_context of several devices
 * wrapped once per device with clpool_context_wrap() (the same cl_context,
 * each time another device). A cl_mem of a shared cl_context is then valid
 * on every part, so the parts may work in one set of buffers (see
 * clpool_split_enqueue()). The split keeps pointers to the contexts, which
 * must outlive it.
 */
/**@{*/
/** A batch split over several devices, with one plan per part (opaque);
 *  see clpool_split_window(). Used by one thread at a time, like a plan. */
typedef struct clpool_split clpool_split;

/** One part of a split: the device that runs it and how many samples it takes. */
typedef struct clpool_split_part {
    /** the device's context (not owned by the split; it must outlive it) */
    clpool_context *context;
    /** samples of the batch this part takes, in batch order; 0 is allowed
     *  (the part then enqueues only a marker) */
    size_t n;
} clpool_split_part;

/**
 * Divides @p n samples among @p part_count parts in proportion to
 * @p weights (finite, >= 0, not all 0), e.g. each device's compute units
 * (clpool_device_info.compute_units) or its measured speed. Writes
 * part_count counts summing to @p n to @p counts: each part gets the floor
 * of its exact share, and the samples left go one each to the parts with the
 * largest remainders (the lower index on a tie), so the result is the same
 * on every machine. Pure arithmetic: no OpenCL call, nothing logged except
 * to stderr on an invalid argument.
 */
CLPOOL_API clpool_status clpool_split_counts(size_t n, const double *weights, size_t part_count,
                                             size_t *counts);

/**
 * Plans @p op over @p input split into @p part_count parts taken in order:
 * part i gets samples [first_i, first_i + parts[i].n) with first_i the sum
 * of the counts before it, planned on parts[i].context as a tensor of
 * parts[i].n samples whose first_sample is op->first_sample + first_i. The
 * counts must add up to input->n. A part of 0 samples is still planned
 * (its device must support the operator). Every plan is made before the
 * call returns; on any failure every plan made so far is destroyed, the
 * status is that of the failing part and its context logs the reason.
 * The same context may appear in several parts.
 */
CLPOOL_API clpool_status clpool_split_window(const clpool_split_part *parts, size_t part_count,
                                             const clpool_window_desc *op,
                                             const clpool_tensor_desc *input, clpool_split **split);

/**
 * Describes part @p part of @p split: its first sample in the batch, its
 * sample count and its plan. Any out-parameter may be NULL. The plan stays
 * owned by the split (do not destroy it); it is valid until
 * clpool_split_destroy() and may be enqueued on its own with
 * clpool_enqueue(), e.g. to give each part its own wait list (not while
 * another thread calls on the split: the plan is the split's).
 */
CLPOOL_API clpool_status clpool_split_part_info(const clpool_split *split, size_t part,
                                                size_t *first_sample, size_t *n,
                                                clpool_plan **plan);

/** The output tensor of the whole batch (as clpool_plan_output_desc()). */
CLPOOL_API clpool_status clpool_split_output_desc(const clpool_split *split,
                                                  clpool_tensor_desc *output);

/** Changes the seed of every part of a stochastic split (as
 *  clpool_plan_set_seed(); nothing changes if it fails). */
CLPOOL_API clpool_status clpool_split_set_seed(clpool_split *split, uint64_t seed);

/** Destroys the plans of the split (not its contexts). NULL is a no-op. */
CLPOOL_API void clpool_split_destroy(clpool_split *split);

/**
 * Enqueues every part on its queue: @p queues holds one queue per part,
 * each of that part's context and device. Buffers, one of two ways:
 * - @p io_count == 1: @p ios describes the whole batch (offsets of sample
 *   0), in buffers of a cl_context every part shares; each part reads and
 *   writes its own samples there. OpenCL 1.2 leaves concurrent writes by
 *   several devices into one buffer undefined (its appendix A.1): this form
 *   is for devices that share memory (CPUs, PoCL's devices, integrated
 *   GPUs). Give each part its own buffers otherwise.
 * - @p io_count == the part count: ios[i] holds part i's sub-batch alone
 *   (its parts[i].n samples, at those offsets), in buffers of part i's
 *   context, as clpool_enqueue() of part i's plan would take them.
 *
 * Every part waits on the wait list, whose events must then belong to
 * every part's cl_context (to wait on events of separate contexts, enqueue
 * the parts' plans one by one: clpool_split_part_info()). @p events (may be
 * NULL) receives one event per part, in part order, each completing when
 * that part's share is written; the caller releases each with
 * clReleaseEvent(). Each queue is flushed (clFlush, which does not block)
 * so that the devices start at once; the call never waits.
 *
 * Everything is checked before anything is enqueued: a queue, buffer or
 * event that does not fit any part fails the call with nothing enqueued and
 * one sentence naming the part logged to its context. Should OpenCL fail
 * while enqueuing part k (or flushing), the parts enqueued before may still
 * write their shares (OpenCL keeps the buffers alive), the output is then
 * undefined, no event is returned and the status says why.
 */
CLPOOL_API clpool_status clpool_split_enqueue(clpool_split *split, const cl_command_queue *queues,
                                              const clpool_io *ios, size_t io_count,
                                              cl_uint num_events_in_wait_list,
                                              const cl_event *event_wait_list, cl_event *events);

/**
 * Blocking convenience over host arrays holding the whole batch: each part
 * gets device buffers of its own context for its samples alone (so it is
 * portable to devices that do not share memory), copies its slice of
 * @p input, runs, and copies its share back into @p output (and
 * @p indices, needed exactly when the operator returns indices); all parts
 * run at once and the call returns when every one is done. @p queues: one
 * queue per part as in clpool_split_enqueue(), or NULL to use each
 * context's own queue (a wrapped context then gets a temporary one). On
 * failure every buffer and temporary queue is released; no part's result
 * is copied back unless every part was enqueued, so the arrays are left
 * untouched by a failure before the runs, and undefined only if a copy back
 * itself fails.
 */
CLPOOL_API clpool_status clpool_split_run_host(clpool_split *split, const cl_command_queue *queues,
                                               const void *input, void *output, void *indices);
/**@}*/

/** @name Region (RoI) pooling */
/**@{*/
/**
 * The region pooling operators of torchvision 0.14 (spec §8), over boxes
 * given as a (K, 5) tensor of rows [batch_index, x1, y1, x2, y2] in image
 * coordinates; spatial_scale maps them to feature-map coordinates. The
 * output is (K, C, PH, PW) in NCHW, (K, PH, PW, C) in NHWC: a box's result
 * is one "sample" of the output, whatever its batch index.
 */
typedef enum clpool_roi_op {
    /**
     * torchvision roi_pool (spec §8.1, §0.10). With T the computation type
     * (double for float64 inputs, else float), in T without FMA
     * contraction: box corners round(coord * (T)scale), half away from zero;
     * roi size max(end - start + 1, 1); bin size roi size / P; bin rows
     * [floor(ph*bin_h) + start, ceil((ph+1)*bin_h) + start) clamped to
     * [0, H] (columns likewise). An empty bin gives 0 with index -1; NaN
     * inputs are ignored (a plain '>'); a bin of only -inf or NaN gives
     * -FLT_MAX (stored as -inf in float16 and bfloat16, which cannot hold
     * it) with index -1. The index is the flat h*W + w in the input plane.
     * Where torchvision converts to int with undefined behaviour this
     * library decides: a box with a NaN corner has only empty bins, and
     * rounded corners are clamped to [-2^30, 2^30].
     */
    CLPOOL_ROI_MAX = 1,
    /**
     * torchvision roi_align (spec §8.2, §0.9): aligned subtracts 0.5 from
     * the scaled corners (and keeps a zero or negative roi size, where
     * aligned = 0 raises it to 1); each bin averages gh x gw bilinear
     * samples (sampling_ratio > 0: that many per side; else adaptive,
     * ceil(roi size / P) per side, clamped at 0 and a NaN size giving 0),
     * divided by max(gh*gw, 1). A sample outside [-1, H] x [-1, W], or at a
     * NaN position, adds 0 and reads nothing; others are clamped to the map
     * and interpolated. Arithmetic in T (see CLPOOL_ROI_MAX).
     */
    CLPOOL_ROI_ALIGN = 2
} clpool_roi_op;

/** The most samples per bin side sampling_ratio may ask for. */
#define CLPOOL_ROI_SAMPLING_MAX 1024

/**
 * A region pooling operator. The input is a 2-D tensor (spatial_dims 2) of
 * float32, float16 or bfloat16 (storage only, computed in float) or float64
 * (devices with cl_khr_fp64), NCHW or NHWC; the output shares its dtype and
 * layout. Zero fields take the documented defaults.
 */
typedef struct clpool_roi_desc {
    /** which operator, required */
    clpool_roi_op op;
    /** PH, PW: bins per box side, each 1 to 65536, required */
    int output_size[2];
    /** K, the number of boxes (0: an empty output, nothing runs). */
    size_t num_rois;
    /** dtype of the boxes: CLPOOL_FLOAT32 (0, the default) or CLPOOL_FLOAT64
     *  (devices with cl_khr_fp64); corners are converted to T on load. */
    clpool_dtype rois_dtype;
    /** box to feature-map scale, finite and not 0; 0 means 1.0 */
    double spatial_scale;
    /** roi-align: samples per bin side, 1 to CLPOOL_ROI_SAMPLING_MAX; 0 or
     *  negative: adaptive (torchvision's default -1) */
    int sampling_ratio;
    /** roi-align: 1 shifts the box by half a pixel (torchvision aligned=True) */
    int aligned;
    /** roi-max: also write the argmax, flat in the input plane (-1 for an
     *  empty or all-NaN/-inf bin); CLPOOL_INDICES_INT32 is torchvision's. */
    clpool_index_type indices;
} clpool_roi_desc;

/**
 * Plans a region pooling operator for @p input and @p op->num_rois boxes.
 * The plan reads clpool_io.input and clpool_io.rois ((K, 5) elements of
 * rois_dtype) and writes clpool_io.output and, when asked, clpool_io.indices.
 * One launch covers every box, channel and bin: a work-item computes one
 * bin of one box (for a chunk of channels on CPUs), so boxes of any mix of
 * sizes keep the device busy.
 * N = 0 with boxes is refused: no batch index would be valid.
 *
 * Bad boxes: a box whose batch index b is NaN or truncates (torchvision's
 * C cast: 1.7 gives 1, -0.5 gives 0) outside [0, N), i.e. unless
 * -1 < b < N, is an error. clpool_run_host_io() checks every box on the
 * host before anything runs and returns CLPOOL_ERROR_INVALID_ROIS (naming
 * the box) with nothing written. clpool_enqueue() cannot see boxes in
 * device memory: call clpool_roi_check_boxes() on host copies first; the
 * kernel itself never reads outside the input whatever the boxes hold, and
 * writes NaN to every output element of a bad box (and -1 to its indices).
 */
CLPOOL_API clpool_status clpool_plan_roi(clpool_context *context, const clpool_roi_desc *op,
                                         const clpool_tensor_desc *input, clpool_plan **plan);

/**
 * Checks the K boxes at @p rois (host memory, rois_dtype of the plan's
 * descriptor) against a region pooling plan: CLPOOL_SUCCESS, or
 * CLPOOL_ERROR_INVALID_ROIS with a log sentence naming the first bad box
 * and its batch index. CLPOOL_ERROR_INVALID_ARGUMENT for another plan or a
 * NULL @p rois (with boxes to check). Corners may hold any value (see
 * clpool_roi_op for NaN, reversed and out-of-map boxes).
 */
CLPOOL_API clpool_status clpool_roi_check_boxes(const clpool_plan *plan, const void *rois);
/**@}*/

#ifdef __cplusplus
}
#endif
#endif /* CLPOOL_H */
