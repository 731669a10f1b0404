/*
 * oneDNN 2.x CPU pooling as the benchmark's peer (see onednn_peer.h). It uses
 * the C API of oneDNN 2.6 (pooling_v2 descriptors; removed in 3.0) with its
 * default threading (OpenMP on Debian) left alone.
 */
#include "onednn_peer.h"

#include "check.h"

#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_onednn_version(char *buf, size_t len)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, len, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
}

struct bench_onednn_side {
    const bench_layer *layer;
    const float *input; /* borrowed */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    size_t copies;
    float **src;           /* [copies] */
    float **dst;           /* [copies] */
    dnnl_memory_t *mem;    /* [2 * copies]: src, dst of each copy */
    dnnl_exec_arg_t *args; /* [2 * copies] */
};

void bench_onednn_close(bench_onednn_side *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; p->mem && i < 2 * p->copies; i++)
        if (p->mem[i])
            dnnl_memory_destroy(p->mem[i]);
    for (size_t i = 0; i < p->copies; i++) {
        if (p->src)
            free(p->src[i]);
        if (p->dst)
            free(p->dst[i]);
    }
    free(p->src);
    free(p->dst);
    free(p->mem);
    free(p->args);
    if (p->prim)
        dnnl_primitive_destroy(p->prim);
    if (p->pd)
        dnnl_primitive_desc_destroy(p->pd);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    free(p);
}

static int side_run(void *self, size_t copy, char *err, size_t err_len)
{
    bench_onednn_side *p = self;
    dnnl_status_t st = dnnl_primitive_execute(p->prim, p->stream, 2, &p->args[2 * copy]);
    if (st == dnnl_success)
        st = dnnl_stream_wait(p->stream);
    if (st != dnnl_success) {
        snprintf(err, err_len, "dnnl_primitive_execute failed with dnnl status %d", (int)st);
        return -1;
    }
    return 0;
}

static int side_check(void *self, size_t copy, char *err, size_t err_len)
{
    bench_onednn_side *p = self;
    char msg[400];
    if (bench_check_output(p->layer, p->input, p->dst[copy], msg, sizeof msg) != 0) {
        snprintf(err, err_len, "wrong result: %s", msg);
        return -1;
    }
    return 0;
}

bench_runner bench_onednn_runner(bench_onednn_side *side)
{
    bench_runner r = {"oneDNN", side, side->copies, side_run, side_check};
    return r;
}

/* 64-byte aligned host memory (cache lines, AVX-512 vectors); NULL on failure. */
static float *alloc_floats(size_t count)
{
    void *ptr = NULL;
    if (posix_memalign(&ptr, 64, count * sizeof(float)) != 0)
        return NULL;
    return ptr;
}

/* Describes the layer as a forward-inference pooling_v2 and creates it. */
static dnnl_status_t create_primitive(bench_onednn_side *p, dnnl_memory_desc_t *src_md,
                                      dnnl_memory_desc_t *dst_md)
{
    const bench_layer *layer = p->layer;
    size_t oh, ow;
    bench_layer_output_hw(layer, &oh, &ow);
    dnnl_dims_t src_dims = {(dnnl_dim_t)layer->n, (dnnl_dim_t)layer->c, (dnnl_dim_t)layer->h,
                            (dnnl_dim_t)layer->w};
    dnnl_dims_t dst_dims = {(dnnl_dim_t)layer->n, (dnnl_dim_t)layer->c, (dnnl_dim_t)oh,
                            (dnnl_dim_t)ow};
    dnnl_dims_t strides = {layer->stride[0], layer->stride[1]};
    dnnl_dims_t kernel = {layer->kernel[0], layer->kernel[1]};
    dnnl_dims_t dilation = {0, 0}; /* oneDNN counts dilation from 0 */
    dnnl_dims_t pad_l = {layer->padding[0], layer->padding[1]};
    /* Ceil mode is the right padding that makes the last window fit. (For
     * avg with padding included, oneDNN then divides by the whole window,
     * where torch clips at the padded extent; the checker would catch it,
     * and no layer in the table is such a case.) */
    dnnl_dims_t pad_r = {layer->padding[0], layer->padding[1]};
    if (layer->ceil_mode) {
        size_t out[2] = {oh, ow}, in[2] = {layer->h, layer->w};
        for (int i = 0; i < 2; i++) {
            dnnl_dim_t need = ((dnnl_dim_t)out[i] - 1) * layer->stride[i] + layer->kernel[i] -
                              (dnnl_dim_t)in[i] - layer->padding[i];
            if (need > pad_r[i])
                pad_r[i] = need;
        }
    }
    dnnl_alg_kind_t alg = layer->op == CLPOOL_OP_MAX ? dnnl_pooling_max
                          : layer->exclude_padding   ? dnnl_pooling_avg_exclude_padding
                                                     : dnnl_pooling_avg_include_padding;
    dnnl_pooling_v2_desc_t desc;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(src_md, 4, src_dims, dnnl_f32, dnnl_nchw);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw);
    if (st == dnnl_success)
        st = dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, alg, src_md, dst_md,
                                               strides, kernel, dilation, pad_l, pad_r);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&p->pd, &desc, NULL, p->engine, NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_create(&p->prim, p->pd);
    return st;
}

/* Allocates and writes the rotation: every input a copy of the data, every
 * output NaN, so no timed run pays first-touch page faults and an element
 * never written fails the check. */
static dnnl_status_t make_buffers(bench_onednn_side *p, const dnnl_memory_desc_t *src_md,
                                  const dnnl_memory_desc_t *dst_md, int *no_memory)
{
    size_t in_elems = bench_layer_input_elements(p->layer);
    size_t out_elems = bench_layer_output_elements(p->layer);
    dnnl_status_t st = dnnl_success;
    for (size_t k = 0; k < p->copies && st == dnnl_success; k++) {
        p->src[k] = alloc_floats(in_elems);
        p->dst[k] = alloc_floats(out_elems);
        if (!p->src[k] || !p->dst[k]) {
            *no_memory = 1;
            return dnnl_out_of_memory;
        }
        memcpy(p->src[k], p->input, in_elems * sizeof(float));
        for (size_t i = 0; i < out_elems; i++)
            p->dst[k][i] = NAN;
        st = dnnl_memory_create(&p->mem[2 * k], src_md, p->engine, p->src[k]);
        if (st == dnnl_success)
            st = dnnl_memory_create(&p->mem[2 * k + 1], dst_md, p->engine, p->dst[k]);
        p->args[2 * k].arg = DNNL_ARG_SRC;
        p->args[2 * k].memory = p->mem[2 * k];
        p->args[2 * k + 1].arg = DNNL_ARG_DST;
        p->args[2 * k + 1].memory = p->mem[2 * k + 1];
    }
    return st;
}

int bench_onednn_open(const bench_layer *layer, const float *input, size_t copies,
                      bench_onednn_side **side, char *impl, size_t impl_len, char *err,
                      size_t err_len)
{
    const char *what = "dnnl_engine_create";
    dnnl_status_t st;
    dnnl_memory_desc_t src_md, dst_md;
    int no_memory = 0;
    bench_onednn_side *p = calloc(1, sizeof *p);
    if (p == NULL)
        goto no_memory;
    p->layer = layer;
    p->input = input;
    p->copies = copies;
    p->src = calloc(copies, sizeof *p->src);
    p->dst = calloc(copies, sizeof *p->dst);
    p->mem = calloc(2 * copies, sizeof *p->mem);
    p->args = calloc(2 * copies, sizeof *p->args);
    if (!p->src || !p->dst || !p->mem || !p->args)
        goto no_memory;

    st = dnnl_engine_create(&p->engine, dnnl_cpu, 0);
    if (st != dnnl_success)
        goto dnnl_fail;
    what = "dnnl_stream_create";
    st = dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags);
    if (st != dnnl_success)
        goto dnnl_fail;
    what = "creating the pooling primitive";
    st = create_primitive(p, &src_md, &dst_md);
    if (st != dnnl_success)
        goto dnnl_fail;
    const char *name = NULL;
    if (dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success ||
        name == NULL)
        name = "?";
    snprintf(impl, impl_len, "%s", name);
    what = "dnnl_memory_create";
    st = make_buffers(p, &src_md, &dst_md, &no_memory);
    if (no_memory)
        goto no_memory;
    if (st != dnnl_success)
        goto dnnl_fail;
    if (side_run(p, 0, err, err_len) != 0 || side_check(p, 0, err, err_len) != 0)
        goto fail;
    *side = p;
    return 0;

no_memory:
    snprintf(err, err_len, "out of host memory for %zu copies of %s", copies, layer->name);
    goto fail;
dnnl_fail:
    snprintf(err, err_len, "%s failed with dnnl status %d", what, (int)st);
fail:
    bench_onednn_close(p);
    return -1;
}
