/*
 * Embedding clpool in an OpenCL program that owns its context, queue and
 * buffers: three pooling layers of a small network run on the caller's
 * buffers, chained by events, then checked on the host.
 *
 * Build against an installed clpool (this is what ci/install_test.sh does):
 *
 *     cc -std=c11 embed_layers.c $(pkg-config --cflags --libs clpool) -lm -o embed_layers
 *
 * (-lm for the host-side check; with the library installed outside the
 * linker's search path, PKG_CONFIG_PATH names its pkgconfig folder and
 * LD_LIBRARY_PATH its lib folder when running.)
 *
 * Exit status 0 when every checked value is right, 1 otherwise.
 */
#include <clpool.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input: one image of 3 channels, 8 x 8 pixels, in NCHW order. */
enum { N = 1, C = 3, H = 8, W = 8 };

/* The layers, each fed by the one before:
 *   1. max 2x2, stride 2          8x8 -> 4x4, with the argmax indices
 *   2. avg 3x3, stride 1, pad 1   4x4 -> 4x4, padding counted (torch's default)
 *   3. max 2x2, stride 2          4x4 -> 2x2
 * Zero fields of clpool_window_desc take the documented defaults (stride =
 * kernel size, no padding, dilation 1, floor mode). */
static const clpool_window_desc layer_ops[3] = {
    {.op = CLPOOL_OP_MAX, .kernel = {2, 2}, .indices = CLPOOL_INDICES_INT64},
    {.op = CLPOOL_OP_AVG, .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}},
    {.op = CLPOOL_OP_MAX, .kernel = {2, 2}},
};
enum { LAYERS = 3 };

/* Prints a failed OpenCL call; returns 1 when @p err is CL_SUCCESS. */
static int cl_ok(cl_int err, const char *call)
{
    if (err != CL_SUCCESS)
        fprintf(stderr, "embed_layers: %s failed with OpenCL error %d\n", call, (int)err);
    return err == CL_SUCCESS;
}

/* Prints a failed clpool call (the library has already logged the reason on
 * stderr); returns 1 on success. */
static int clpool_ok(clpool_status status, const char *call)
{
    if (status != CLPOOL_SUCCESS)
        fprintf(stderr, "embed_layers: %s failed: %s\n", call, clpool_status_string(status));
    return status == CLPOOL_SUCCESS;
}

/* The first GPU of any platform, else the first device of any type: what an
 * application would do with its own device-selection logic. */
static int pick_device(cl_platform_id *platform, cl_device_id *device)
{
    cl_platform_id platforms[16];
    cl_uint count = 0;
    if (clGetPlatformIDs(16, platforms, &count) != CL_SUCCESS || count == 0) {
        fprintf(stderr, "embed_layers: no OpenCL platform\n");
        return 0;
    }
    if (count > 16)
        count = 16;
    static const cl_device_type wanted[2] = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ALL};
    for (int round = 0; round < 2; round++)
        for (cl_uint p = 0; p < count; p++)
            if (clGetDeviceIDs(platforms[p], wanted[round], 1, device, NULL) == CL_SUCCESS) {
                *platform = platforms[p];
                return 1;
            }
    fprintf(stderr, "embed_layers: no OpenCL device\n");
    return 0;
}

/* The input value at (c, y, x): distinct, exact in float, and growing along
 * x and y so that each 2x2 maximum is its bottom-right cell. */
static float input_value(int c, int y, int x)
{
    return (float)(100 * c + W * y + x);
}

/* Host reference of the three layers for one channel, in the same float
 * arithmetic (the average sums 9 integers exactly, then divides once). */
static void reference(int c, float out3[2][2])
{
    float l1[4][4], l2[4][4];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            l1[y][x] = input_value(c, 2 * y + 1, 2 * x + 1);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            float sum = 0.0f;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    if (y + dy >= 0 && y + dy < 4 && x + dx >= 0 && x + dx < 4)
                        sum += l1[y + dy][x + dx];
            l2[y][x] = sum / 9.0f; /* padding cells count as zeros */
        }
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            out3[y][x] = fmaxf(fmaxf(l2[2 * y][2 * x], l2[2 * y][2 * x + 1]),
                               fmaxf(l2[2 * y + 1][2 * x], l2[2 * y + 1][2 * x + 1]));
}

/* Compares what came back with the reference; prints every mismatch. */
static int check_results(const float *final, const int64_t *indices1)
{
    int bad = 0;
    for (int c = 0; c < C; c++) {
        float want[2][2];
        reference(c, want);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 2; x++) {
                float got = final[(c * 2 + y) * 2 + x];
                if (fabsf(got - want[y][x]) > 1e-5f * fabsf(want[y][x])) {
                    fprintf(stderr, "embed_layers: layer 3 at (c=%d, y=%d, x=%d): %g, want %g\n", c,
                            y, x, got, want[y][x]);
                    bad++;
                }
            }
    }
    /* Layer 1's indices are flat within the 8x8 input plane, as in torch:
     * the maximum of window (y, x) is the cell (2y+1, 2x+1). */
    for (int c = 0; c < C; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                int64_t got = indices1[(c * 4 + y) * 4 + x];
                int64_t want = (2 * y + 1) * W + (2 * x + 1);
                if (got != want) {
                    fprintf(stderr, "embed_layers: index at (c=%d, y=%d, x=%d): %lld, want %lld\n",
                            c, y, x, (long long)got, (long long)want);
                    bad++;
                }
            }
    return bad == 0;
}

int main(void)
{
    int ok = 0;
    cl_platform_id platform = NULL;
    cl_device_id device = NULL;
    cl_context ctx = NULL;
    cl_command_queue queue = NULL;
    cl_mem input = NULL, activations = NULL, indices = NULL;
    cl_event uploaded = NULL, done[LAYERS] = {NULL};
    clpool_context *pool = NULL;
    clpool_plan *plans[LAYERS] = {NULL};
    clpool_tensor_desc
        shapes[LAYERS + 1];         /* shapes[0]: the input; shapes[i + 1]: layer i's output */
    size_t output_at[LAYERS] = {0}; /* where layer i's output starts in `activations` */
    float *host_input = NULL, *host_final = NULL;
    int64_t *host_indices = NULL;
    cl_int err = CL_SUCCESS;

    /* ---- The application's own OpenCL objects ---------------------------- */
    if (!pick_device(&platform, &device))
        goto cleanup;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    ctx = clCreateContext(props, 1, &device, NULL, NULL, &err);
    if (!cl_ok(err, "clCreateContext"))
        goto cleanup;
    /* An out-of-order queue where the device offers one: then only the
     * events below order the work, which is what they are there to show.
     * clpool works the same on an in-order queue. */
    queue = clCreateCommandQueue(ctx, device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_SUCCESS)
        queue = clCreateCommandQueue(ctx, device, 0, &err);
    if (!cl_ok(err, "clCreateCommandQueue"))
        goto cleanup;

    /* ---- clpool on that context ------------------------------------------ */
    /* The wrap retains ctx and device; clpool_context_destroy() releases
     * them again. NULL options: default logging (errors to stderr) and the
     * default disk cache of compiled programs. */
    if (!clpool_ok(clpool_context_wrap(ctx, device, NULL, &pool), "clpool_context_wrap"))
        goto cleanup;

    /* One plan per layer, made once for its input shape (each checks its
     * parameters and compiles or fetches its program); the next layer's
     * input is this layer's output shape. The layers' outputs lie one after
     * the other in one `activations` buffer, addressed by element offsets. */
    shapes[0] = (clpool_tensor_desc){.dtype = CLPOOL_FLOAT32,
                                     .layout = CLPOOL_NCHW,
                                     .spatial_dims = 2,
                                     .n = N,
                                     .c = C,
                                     .spatial = {H, W}};
    for (int i = 0; i < LAYERS; i++) {
        if (!clpool_ok(clpool_plan_window(pool, &layer_ops[i], &shapes[i], &plans[i]),
                       "clpool_plan_window") ||
            !clpool_ok(clpool_plan_output_desc(plans[i], &shapes[i + 1]),
                       "clpool_plan_output_desc"))
            goto cleanup;
        /* Window pooling needs no scratch memory; other plans would ask for
         * a buffer in clpool_io.workspace. */
        if (clpool_plan_workspace_size(plans[i]) != 0) {
            fprintf(stderr, "embed_layers: layer %d wants a workspace this example lacks\n", i + 1);
            goto cleanup;
        }
        if (i > 0)
            output_at[i] = output_at[i - 1] + clpool_tensor_elements(&shapes[i]);
    }
    size_t input_elements = clpool_tensor_elements(&shapes[0]);
    size_t index_elements = clpool_tensor_elements(&shapes[1]); /* layer 1's indices */
    size_t final_elements = clpool_tensor_elements(&shapes[LAYERS]);
    size_t activation_elements = output_at[LAYERS - 1] + final_elements;
    printf("embed_layers: %zux%zux%zux%zu -> %zux%zu -> %zux%zu -> %zux%zu on one buffer\n",
           shapes[0].n, shapes[0].c, shapes[0].spatial[0], shapes[0].spatial[1],
           shapes[1].spatial[0], shapes[1].spatial[1], shapes[2].spatial[0], shapes[2].spatial[1],
           shapes[3].spatial[0], shapes[3].spatial[1]);

    /* ---- Buffers and the input ------------------------------------------- */
    host_input = malloc(input_elements * sizeof *host_input);
    host_final = malloc(final_elements * sizeof *host_final);
    host_indices = malloc(index_elements * sizeof *host_indices);
    if (!host_input || !host_final || !host_indices) {
        fprintf(stderr, "embed_layers: out of host memory\n");
        goto cleanup;
    }
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                host_input[(c * H + y) * W + x] = input_value(c, y, x);
    input = clCreateBuffer(ctx, CL_MEM_READ_ONLY, input_elements * sizeof(float), NULL, &err);
    if (cl_ok(err, "clCreateBuffer(input)"))
        activations =
            clCreateBuffer(ctx, CL_MEM_READ_WRITE, activation_elements * sizeof(float), NULL, &err);
    if (cl_ok(err, "clCreateBuffer(activations)"))
        indices =
            clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, index_elements * sizeof(int64_t), NULL, &err);
    if (!cl_ok(err, "clCreateBuffer(indices)"))
        goto cleanup;
    /* Non-blocking upload: the first layer waits on its event. */
    if (!cl_ok(clEnqueueWriteBuffer(queue, input, CL_FALSE, 0, input_elements * sizeof(float),
                                    host_input, 0, NULL, &uploaded),
               "clEnqueueWriteBuffer"))
        goto cleanup;

    /* ---- The layers, chained by events ------------------------------------ */
    /* clpool_enqueue() never blocks: it enqueues the plan's launches after
     * the wait list and hands back one event for the whole result. */
    for (int i = 0; i < LAYERS; i++) {
        clpool_io io;
        memset(&io, 0, sizeof io); /* unused slots stay empty */
        if (i == 0)
            io.input = (clpool_buffer){input, 0};
        else
            io.input = (clpool_buffer){activations, output_at[i - 1]};
        io.output = (clpool_buffer){activations, output_at[i]};
        if (layer_ops[i].indices != CLPOOL_INDICES_NONE)
            io.indices = (clpool_buffer){indices, 0};
        cl_event wait_for = i == 0 ? uploaded : done[i - 1];
        if (!clpool_ok(clpool_enqueue(plans[i], queue, &io, 1, &wait_for, &done[i]),
                       "clpool_enqueue"))
            goto cleanup;
    }

    /* ---- Read back after the last layer and check ------------------------ */
    /* Blocking reads, each waiting on the layer that wrote what it reads. */
    if (!cl_ok(clEnqueueReadBuffer(
                   queue, activations, CL_TRUE, output_at[LAYERS - 1] * sizeof(float),
                   final_elements * sizeof(float), host_final, 1, &done[LAYERS - 1], NULL),
               "clEnqueueReadBuffer(final)") ||
        !cl_ok(clEnqueueReadBuffer(queue, indices, CL_TRUE, 0, index_elements * sizeof(int64_t),
                                   host_indices, 1, &done[0], NULL),
               "clEnqueueReadBuffer(indices)"))
        goto cleanup;
    ok = check_results(host_final, host_indices);
    if (ok)
        printf("embed_layers: %zu outputs and %zu indices match the host reference\n",
               final_elements, index_elements);

cleanup:
    /* Wait for anything still queued before releasing what it uses. */
    if (queue)
        clFinish(queue);
    /* clpool first: plans before their context, which then releases its
     * own references to ctx and device. */
    for (int i = 0; i < LAYERS; i++)
        clpool_plan_destroy(plans[i]);
    clpool_context_destroy(pool);
    for (int i = 0; i < LAYERS; i++)
        if (done[i])
            clReleaseEvent(done[i]);
    if (uploaded)
        clReleaseEvent(uploaded);
    if (indices)
        clReleaseMemObject(indices);
    if (activations)
        clReleaseMemObject(activations);
    if (input)
        clReleaseMemObject(input);
    if (queue)
        clReleaseCommandQueue(queue);
    if (ctx)
        clReleaseContext(ctx);
    free(host_input);
    free(host_final);
    free(host_indices);
    return ok ? 0 : 1;
}
