/*
 * oneDNN 2.x CPU pooling as the benchmark's peer (see onednn_peer.h). It uses
 * the C API of oneDNN 2.6 (pooling_v2 descriptors; removed in 3.0) with its
 * default threading (OpenMP on Debian) left alone. Host buffers hold the
 * layer's dtype and layout, described to oneDNN by a plain format tag.
 */
#include "onednn_peer.h"

#include "check.h"
#include "dtype.h"

#include <dnnl.h>
#include <dnnl_debug.h>
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
    float *output;      /* one result as floats, for checks */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    size_t copies;
    void **src;            /* [copies], the layer's dtype */
    void **dst;            /* [copies] */
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
    free(p->output);
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
    bench_unpack(p->layer->dtype, p->dst[copy], p->output, bench_layer_output_elements(p->layer));
    if (bench_check_output(p->layer, p->input, p->output, msg, sizeof msg) != 0) {
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
static void *alloc_aligned(size_t bytes)
{
    void *ptr = NULL;
    if (posix_memalign(&ptr, 64, bytes) != 0)
        return NULL;
    return ptr;
}

int bench_onednn_applies(const bench_layer *layer, char *why, size_t why_len)
{
    if (layer->family == BENCH_SPP) {
        snprintf(why, why_len, "n/a: oneDNN has no spatial pyramid pooling");
        return 0;
    }
    if (layer->unpool) {
        snprintf(why, why_len, "n/a: oneDNN has no max unpooling");
        return 0;
    }
    if (layer->op != CLPOOL_OP_MAX && layer->op != CLPOOL_OP_AVG) {
        snprintf(why, why_len, "n/a: oneDNN has only max and avg pooling");
        return 0;
    }
    if (!bench_dtype_supported(layer->dtype)) {
        snprintf(why, why_len, "n/a: the bench feeds oneDNN f32, f16 and bf16 only");
        return 0;
    }
    return 1;
}

/* The format tag of the layer's layout at its rank. */
static dnnl_format_tag_t layout_tag(const bench_layer *layer)
{
    static const dnnl_format_tag_t channels_first[] = {dnnl_ncw, dnnl_nchw, dnnl_ncdhw};
    static const dnnl_format_tag_t channels_last[] = {dnnl_nwc, dnnl_nhwc, dnnl_ndhwc};
    return layer->layout == CLPOOL_NHWC ? channels_last[layer->dims - 1]
                                        : channels_first[layer->dims - 1];
}

static dnnl_data_type_t data_type(const bench_layer *layer)
{
    return layer->dtype == CLPOOL_FLOAT16    ? dnnl_f16
           : layer->dtype == CLPOOL_BFLOAT16 ? dnnl_bf16
                                             : dnnl_f32;
}

/* Describes the layer as a forward-inference pooling_v2 and creates it. */
static dnnl_status_t create_primitive(bench_onednn_side *p, dnnl_memory_desc_t *src_md,
                                      dnnl_memory_desc_t *dst_md)
{
    const bench_layer *layer = p->layer;
    const int dims = layer->dims;
    size_t out[3];
    bench_layer_output_spatial(layer, out);
    dnnl_dims_t src_dims = {(dnnl_dim_t)layer->n, (dnnl_dim_t)layer->c};
    dnnl_dims_t dst_dims = {(dnnl_dim_t)layer->n, (dnnl_dim_t)layer->c};
    dnnl_dims_t strides, kernel, dilation, pad_l, pad_r;
    for (int i = 0; i < dims; i++) {
        src_dims[2 + i] = (dnnl_dim_t)layer->in[i];
        dst_dims[2 + i] = (dnnl_dim_t)out[i];
        strides[i] = layer->stride[i];
        kernel[i] = layer->kernel[i];
        dilation[i] = 0; /* oneDNN counts dilation from 0 */
        pad_l[i] = pad_r[i] = layer->padding[i];
        /* Ceil mode is the right padding that makes the last window fit.
         * (For avg with padding included, oneDNN then divides by the whole
         * window, where torch clips at the padded extent; the checker would
         * catch it, and no layer in the table is such a case.) */
        dnnl_dim_t need = ((dnnl_dim_t)out[i] - 1) * layer->stride[i] + layer->kernel[i] -
                          (dnnl_dim_t)layer->in[i] - layer->padding[i];
        if (layer->ceil_mode && need > pad_r[i])
            pad_r[i] = need;
    }
    dnnl_alg_kind_t alg = layer->op == CLPOOL_OP_MAX ? dnnl_pooling_max
                          : layer->exclude_padding   ? dnnl_pooling_avg_exclude_padding
                                                     : dnnl_pooling_avg_include_padding;
    dnnl_pooling_v2_desc_t desc;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(src_md, 2 + dims, src_dims, data_type(layer),
                                                    layout_tag(layer));
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(dst_md, 2 + dims, dst_dims, data_type(layer),
                                          layout_tag(layer));
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
    const bench_layer *layer = p->layer;
    size_t in_elems = bench_layer_input_elements(layer);
    size_t out_elems = bench_layer_output_elements(layer);
    size_t elem = bench_layer_elem_size(layer);
    dnnl_status_t st = dnnl_success;
    for (size_t k = 0; k < p->copies && st == dnnl_success; k++) {
        p->src[k] = alloc_aligned(in_elems * elem);
        p->dst[k] = alloc_aligned(out_elems * elem);
        if (!p->src[k] || !p->dst[k]) {
            *no_memory = 1;
            return dnnl_out_of_memory;
        }
        bench_pack(layer->dtype, p->input, p->src[k], in_elems);
        bench_fill_nan(layer->dtype, p->dst[k], out_elems);
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
    p->output = malloc(bench_layer_output_elements(layer) * sizeof(float));
    if (!p->src || !p->dst || !p->mem || !p->args || !p->output)
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
    if (st == dnnl_unimplemented) {
        /* A valid layer this oneDNN build or CPU has no kernel for (f16 before
         * AVX512-FP16 support, ...): the peer does not apply. */
        char tag[16];
        bench_layer_type_string(layer, tag, sizeof tag);
        snprintf(err, err_len, "n/a: this oneDNN has no %s pooling for this CPU (unimplemented)",
                 tag);
        bench_onednn_close(p);
        return 1;
    }
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
    snprintf(err, err_len, "%s failed with dnnl status %d (%s)", what, (int)st,
             dnnl_status2str(st));
fail:
    bench_onednn_close(p);
    return -1;
}
