/*
 * XNNPACK's NHWC pooling operators as a peer (see xnnpack_peer.h). Written
 * against the operator API of Debian 12's XNNPACK (git 2022-02-16):
 * xnn_create_*_pooling2d_nhwc_* + xnn_setup_* bind the shape and buffers,
 * xnn_run_operator runs on a pthreadpool.
 */
#include "xnnpack_peer.h"

#include "check.h"
#include "dtype.h"

#include <math.h>
#include <pthreadpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xnnpack.h>

struct bench_xnnpack_side {
    const bench_layer *layer;
    const float *input; /* borrowed */
    float *output;      /* one result as floats, for checks */
    pthreadpool_t pool;
    size_t copies;
    void **src;          /* [copies], the layer's dtype, XNN_EXTRA_BYTES over */
    void **dst;          /* [copies] */
    xnn_operator_t *ops; /* [copies], each set up on its own src/dst */
};

static size_t thread_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

void bench_xnnpack_version(char *buf, size_t len)
{
    snprintf(buf, len, "XNNPACK (%zu threads)", thread_count());
}

static const char *status_name(enum xnn_status st)
{
    switch (st) {
    case xnn_status_success:
        return "success";
    case xnn_status_uninitialized:
        return "uninitialized";
    case xnn_status_invalid_parameter:
        return "invalid parameter";
    case xnn_status_invalid_state:
        return "invalid state";
    case xnn_status_unsupported_parameter:
        return "unsupported parameter";
    case xnn_status_unsupported_hardware:
        return "unsupported hardware";
    case xnn_status_out_of_memory:
        return "out of memory";
    }
    return "unknown status";
}

int bench_xnnpack_applies(const bench_layer *layer, char *why, size_t why_len)
{
    int padded = layer->padding[0] || layer->padding[1];
    if (layer->family == BENCH_SPP)
        snprintf(why, why_len, "n/a: XNNPACK has no spatial pyramid pooling");
    else if (layer->unpool)
        snprintf(why, why_len, "n/a: XNNPACK has no max unpooling");
    else if (layer->layout != CLPOOL_NHWC || layer->dims != 2)
        snprintf(why, why_len, "n/a: XNNPACK pools 2-D NHWC only");
    else if (layer->op == CLPOOL_OP_MAX &&
             (layer->dtype == CLPOOL_FLOAT32 || layer->dtype == CLPOOL_FLOAT16))
        return 1;
    else if (layer->op == CLPOOL_OP_AVG && layer->dtype == CLPOOL_FLOAT32 &&
             (layer->exclude_padding || !padded))
        return 1;
    else if (layer->op == CLPOOL_OP_AVG && layer->dtype == CLPOOL_FLOAT32)
        snprintf(why, why_len, "n/a: XNNPACK's average pooling excludes padding");
    else if (layer->op == CLPOOL_OP_MAX || layer->op == CLPOOL_OP_AVG)
        snprintf(why, why_len, "n/a: XNNPACK has no %s pooling of this dtype",
                 layer->op == CLPOOL_OP_MAX ? "max" : "average");
    else
        snprintf(why, why_len, "n/a: XNNPACK has only max and average pooling");
    return 0;
}

void bench_xnnpack_close(bench_xnnpack_side *x)
{
    if (x == NULL)
        return;
    for (size_t k = 0; k < x->copies; k++) {
        if (x->ops && x->ops[k])
            xnn_delete_operator(x->ops[k]);
        if (x->src)
            free(x->src[k]);
        if (x->dst)
            free(x->dst[k]);
    }
    if (x->pool)
        pthreadpool_destroy(x->pool);
    free(x->ops);
    free(x->src);
    free(x->dst);
    free(x->output);
    free(x);
}

static int side_run(void *self, size_t copy, char *err, size_t err_len)
{
    bench_xnnpack_side *x = self;
    enum xnn_status st = xnn_run_operator(x->ops[copy], x->pool);
    if (st != xnn_status_success) {
        snprintf(err, err_len, "xnn_run_operator failed: %s", status_name(st));
        return -1;
    }
    return 0;
}

static int side_check(void *self, size_t copy, char *err, size_t err_len)
{
    bench_xnnpack_side *x = self;
    char msg[400];
    bench_unpack(x->layer->dtype, x->dst[copy], x->output, bench_layer_output_elements(x->layer));
    if (bench_check_output(x->layer, x->input, x->output, msg, sizeof msg) != 0) {
        snprintf(err, err_len, "wrong result: %s", msg);
        return -1;
    }
    return 0;
}

bench_runner bench_xnnpack_runner(bench_xnnpack_side *side)
{
    bench_runner r = {"XNNPACK", side, side->copies, side_run, side_check};
    return r;
}

/* 64-byte aligned host memory; NULL on failure. */
static void *alloc_aligned(size_t bytes)
{
    void *ptr = NULL;
    if (posix_memalign(&ptr, 64, bytes) != 0)
        return NULL;
    return ptr;
}

/* Creates and sets up the operator of copy @p k; *what names the failing call. */
static enum xnn_status make_operator(bench_xnnpack_side *x, size_t k, const char **what)
{
    const bench_layer *l = x->layer;
    size_t out[3];
    uint32_t pad_bottom = (uint32_t)l->padding[0], pad_right = (uint32_t)l->padding[1];
    bench_layer_output_spatial(l, out);
    if (l->ceil_mode) {
        /* XNNPACK has no ceil mode: extra bottom/right padding makes the last
         * window fit (max ignores padding, excluded-padding avg too). */
        long need_h =
            ((long)out[0] - 1) * l->stride[0] + l->kernel[0] - (long)l->in[0] - l->padding[0];
        long need_w =
            ((long)out[1] - 1) * l->stride[1] + l->kernel[1] - (long)l->in[1] - l->padding[1];
        if (need_h > (long)pad_bottom)
            pad_bottom = (uint32_t)need_h;
        if (need_w > (long)pad_right)
            pad_right = (uint32_t)need_w;
    }
    enum xnn_status st;
    if (l->op == CLPOOL_OP_MAX && l->dtype == CLPOOL_FLOAT16) {
        *what = "xnn_create_max_pooling2d_nhwc_f16";
        st = xnn_create_max_pooling2d_nhwc_f16(
            (uint32_t)l->padding[0], pad_right, pad_bottom, (uint32_t)l->padding[1],
            (uint32_t)l->kernel[0], (uint32_t)l->kernel[1], (uint32_t)l->stride[0],
            (uint32_t)l->stride[1], 1, 1, l->c, l->c, l->c, -INFINITY, INFINITY, 0, &x->ops[k]);
        if (st == xnn_status_success) {
            *what = "xnn_setup_max_pooling2d_nhwc_f16";
            st = xnn_setup_max_pooling2d_nhwc_f16(x->ops[k], l->n, l->in[0], l->in[1], x->src[k],
                                                  x->dst[k], x->pool);
        }
    } else if (l->op == CLPOOL_OP_MAX) {
        *what = "xnn_create_max_pooling2d_nhwc_f32";
        st = xnn_create_max_pooling2d_nhwc_f32(
            (uint32_t)l->padding[0], pad_right, pad_bottom, (uint32_t)l->padding[1],
            (uint32_t)l->kernel[0], (uint32_t)l->kernel[1], (uint32_t)l->stride[0],
            (uint32_t)l->stride[1], 1, 1, l->c, l->c, l->c, -INFINITY, INFINITY, 0, &x->ops[k]);
        if (st == xnn_status_success) {
            *what = "xnn_setup_max_pooling2d_nhwc_f32";
            st = xnn_setup_max_pooling2d_nhwc_f32(x->ops[k], l->n, l->in[0], l->in[1], x->src[k],
                                                  x->dst[k], x->pool);
        }
    } else {
        *what = "xnn_create_average_pooling2d_nhwc_f32";
        st = xnn_create_average_pooling2d_nhwc_f32(
            (uint32_t)l->padding[0], pad_right, pad_bottom, (uint32_t)l->padding[1],
            (uint32_t)l->kernel[0], (uint32_t)l->kernel[1], (uint32_t)l->stride[0],
            (uint32_t)l->stride[1], l->c, l->c, l->c, -INFINITY, INFINITY, 0, &x->ops[k]);
        if (st == xnn_status_success) {
            *what = "xnn_setup_average_pooling2d_nhwc_f32";
            st = xnn_setup_average_pooling2d_nhwc_f32(x->ops[k], l->n, l->in[0], l->in[1],
                                                      x->src[k], x->dst[k], x->pool);
        }
    }
    return st;
}

int bench_xnnpack_open(const bench_layer *layer, const float *input, size_t copies,
                       bench_xnnpack_side **side, char *impl, size_t impl_len, char *err,
                       size_t err_len)
{
    const char *what = "xnn_initialize";
    enum xnn_status st;
    size_t in_elems = bench_layer_input_elements(layer);
    size_t out_elems = bench_layer_output_elements(layer);
    size_t elem = bench_layer_elem_size(layer);
    bench_xnnpack_side *x = calloc(1, sizeof *x);
    if (x == NULL)
        goto no_memory;
    x->layer = layer;
    x->input = input;
    x->copies = copies;
    x->src = calloc(copies, sizeof *x->src);
    x->dst = calloc(copies, sizeof *x->dst);
    x->ops = calloc(copies, sizeof *x->ops);
    x->output = malloc(out_elems * sizeof(float));
    if (!x->src || !x->dst || !x->ops || !x->output)
        goto no_memory;

    /* Repeated calls are allowed; the library initialises once. */
    st = xnn_initialize(NULL);
    if (st != xnn_status_success)
        goto xnn_fail;
    x->pool = pthreadpool_create(thread_count());
    if (x->pool == NULL) {
        snprintf(err, err_len, "pthreadpool_create(%zu) failed", thread_count());
        goto fail;
    }
    for (size_t k = 0; k < copies; k++) {
        /* XNNPACK may read up to XNN_EXTRA_BYTES past the end of an input. */
        x->src[k] = alloc_aligned(in_elems * elem + XNN_EXTRA_BYTES);
        x->dst[k] = alloc_aligned(out_elems * elem);
        if (!x->src[k] || !x->dst[k])
            goto no_memory;
        bench_pack(layer->dtype, input, x->src[k], in_elems);
        memset((char *)x->src[k] + in_elems * elem, 0, XNN_EXTRA_BYTES);
        bench_fill_nan(layer->dtype, x->dst[k], out_elems);
        st = make_operator(x, k, &what);
        if (st != xnn_status_success)
            goto xnn_fail;
    }
    snprintf(impl, impl_len, "%s", what + strlen("xnn_setup_")); /* "max_pooling2d_nhwc_f32", ... */
    if (side_run(x, 0, err, err_len) != 0 || side_check(x, 0, err, err_len) != 0)
        goto fail;
    *side = x;
    return 0;

no_memory:
    snprintf(err, err_len, "out of host memory for %zu copies of %s", copies, layer->name);
    goto fail;
xnn_fail:
    snprintf(err, err_len, "%s failed: %s", what, status_name(st));
fail:
    bench_xnnpack_close(x);
    return -1;
}
