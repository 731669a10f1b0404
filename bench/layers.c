/*
 * The benchmark's layer table and its geometry helpers (see layers.h).
 */
#include "layers.h"

#include <stdio.h>
#include <string.h>

/* The table is laid out by hand, one layer per paragraph. */
/* clang-format off */
/* Targets of the bandwidth layers (README.md, Targets). */
#define BANDWIDTH_ROW {.bw_fraction = 0.70, .vs_onednn = 1.0}
/* An NHWC twin of an NCHW row: within 10% of its GB/s, at least XNNPACK's speed. */
#define NHWC_ROW {.vs_xnnpack = 1.0, .pair = 0.90}

const bench_layer bench_layers[] = {
    {.name = "resnet-stem", .origin = "ResNet-50 stem", .op = CLPOOL_OP_MAX, .dims = 2, .n = 16,
     .c = 64, .in = {112, 112}, .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1},
     .targets = BANDWIDTH_ROW},
    {.name = "vgg", .origin = "VGG-16 block 2", .op = CLPOOL_OP_MAX, .dims = 2, .n = 16, .c = 128,
     .in = {112, 112}, .kernel = {2, 2}, .stride = {2, 2}, .targets = BANDWIDTH_ROW},
    {.name = "inception", .origin = "Inception-v3 branch pool", .op = CLPOOL_OP_AVG, .dims = 2,
     .n = 16, .c = 192, .in = {28, 28}, .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1},
     .exclude_padding = 1, .targets = BANDWIDTH_ROW},
    {.name = "head", .origin = "ResNet-50 head (global average)", .op = CLPOOL_OP_AVG, .dims = 2,
     .n = 64, .c = 2048, .in = {7, 7}, .kernel = {7, 7}, .stride = {7, 7},
     .targets = BANDWIDTH_ROW},
    {.name = "small", .origin = "batch-1 latency", .op = CLPOOL_OP_MAX, .dims = 2, .n = 1,
     .c = 64, .in = {14, 14}, .kernel = {2, 2}, .stride = {2, 2}, .latency = 1,
     .targets = {.max_us = 50.0}},

    /* The window family (issue 4): channels-last twins, a 16-bit dtype, a
     * 3-D layer and the new reductions. */
    {.name = "resnet-stem-nhwc", .origin = "ResNet-50 stem, channels last", .op = CLPOOL_OP_MAX,
     .layout = CLPOOL_NHWC, .dims = 2, .n = 16, .c = 64, .in = {112, 112}, .kernel = {3, 3},
     .stride = {2, 2}, .padding = {1, 1}, .pair = "resnet-stem",
     .pair_kind = BENCH_PAIR_BANDWIDTH, .targets = NHWC_ROW},
    {.name = "vgg-nhwc", .origin = "VGG-16 block 2, channels last", .op = CLPOOL_OP_MAX,
     .layout = CLPOOL_NHWC, .dims = 2, .n = 16, .c = 128, .in = {112, 112}, .kernel = {2, 2},
     .stride = {2, 2}, .pair = "vgg", .pair_kind = BENCH_PAIR_BANDWIDTH, .targets = NHWC_ROW},
    {.name = "inception-nhwc", .origin = "Inception-v3 branch pool, channels last",
     .op = CLPOOL_OP_AVG, .layout = CLPOOL_NHWC, .dims = 2, .n = 16, .c = 192, .in = {28, 28},
     .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}, .exclude_padding = 1,
     .pair = "inception", .pair_kind = BENCH_PAIR_BANDWIDTH, .targets = NHWC_ROW},
    {.name = "resnet-stem-f16", .origin = "ResNet-50 stem, float16 storage", .op = CLPOOL_OP_MAX,
     .dtype = CLPOOL_FLOAT16, .dims = 2, .n = 16, .c = 64, .in = {112, 112}, .kernel = {3, 3},
     .stride = {2, 2}, .padding = {1, 1}, .pair = "resnet-stem", .pair_kind = BENCH_PAIR_SPEED,
     .targets = {.pair = 1.6}},
    {.name = "video-3d", .origin = "3-D CNN video block (C3D-style pool)", .op = CLPOOL_OP_MAX,
     .dims = 3, .n = 8, .c = 64, .in = {16, 56, 56}, .kernel = {2, 2, 2}, .stride = {2, 2, 2}},
    {.name = "inception-lp", .origin = "Inception-v3 branch shape, L2 pooling", .op = CLPOOL_OP_LP,
     .dims = 2, .n = 16, .c = 192, .in = {28, 28}, .kernel = {3, 3}, .stride = {1, 1}, .p = 2.0,
     .targets = {.bw_fraction = 0.70}},
    {.name = "inception-softmax", .origin = "Inception-v3 branch shape, SoftPool",
     .op = CLPOOL_OP_SOFTMAX, .dims = 2, .n = 16, .c = 192, .in = {28, 28}, .kernel = {3, 3},
     .stride = {1, 1}, .padding = {1, 1}, .beta = 1.0, .targets = {.bw_fraction = 0.70}},

    /* The region family (issue 5). */
    {.name = "unpool", .origin = "ResNet-50 stem output and indices, max-unpooled",
     .op = CLPOOL_OP_MAX, .unpool = 1, .dims = 2, .n = 16, .c = 64, .in = {112, 112},
     .kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
    /* A Faster R-CNN second stage, 1000 proposals over the stride-16 map
     * of an 800x1088 image. Reported with their boxes per second, no
     * target: gathers bound them (README.md). */
    {.name = "rcnn-roialign", .origin = "Faster R-CNN box head (RoIAlign)", .dims = 2, .n = 2,
     .c = 256, .in = {50, 68},
     .roi = &(const bench_roi){CLPOOL_ROI_ALIGN, 7, 2, 0, 1000, 0.0625}},
    {.name = "rcnn-roipool", .origin = "Faster R-CNN box head (RoI max pooling)", .dims = 2,
     .n = 2, .c = 256, .in = {50, 68},
     .roi = &(const bench_roi){CLPOOL_ROI_MAX, 7, 0, 0, 1000, 0.0625}},
    /* Global pooling of large planes, adaptive pooling, a spatial pyramid. */
    {.name = "big-gap", .origin = "global average of 224x224 maps", .op = CLPOOL_OP_AVG,
     .family = BENCH_ADAPTIVE, .dims = 2, .n = 4, .c = 256, .in = {224, 224},
     .kernel = {224, 224}, .stride = {224, 224}, .targets = BANDWIDTH_ROW},
    {.name = "adaptive", .origin = "adaptive average 14x14 -> 7x7", .op = CLPOOL_OP_AVG,
     .family = BENCH_ADAPTIVE, .dims = 2, .n = 16, .c = 512, .in = {14, 14}, .kernel = {2, 2},
     .stride = {2, 2}, .targets = BANDWIDTH_ROW},
    {.name = "spp", .origin = "SPP-net pyramid (levels 1, 2, 4) of 13x13 maps",
     .op = CLPOOL_OP_MAX, .family = BENCH_SPP, .dims = 2, .n = 16, .c = 256, .in = {13, 13},
     .kernel = {13, 13}, .stride = {13, 13}, .levels = {1, 2, 4}, .level_count = 3},
};
/* clang-format on */
const size_t bench_layer_count = sizeof bench_layers / sizeof bench_layers[0];

const bench_layer *bench_layer_find(const char *name)
{
    for (size_t i = 0; i < bench_layer_count; i++)
        if (strcmp(bench_layers[i].name, name) == 0)
            return &bench_layers[i];
    return NULL;
}

size_t bench_pool_out_dim(size_t in, int k, int s, int p, int ceil_mode)
{
    /* Every layer in the table has in + 2p >= k, so the numerator is >= 0
     * and C division is floor division. */
    long long span = (long long)in + 2 * p - k + (ceil_mode ? s - 1 : 0);
    long long o = span / s + 1;
    if (ceil_mode && (o - 1) * s >= (long long)in + p)
        o--;
    return (size_t)o;
}

void bench_layer_output_spatial(const bench_layer *layer, size_t out[3])
{
    if (layer->roi) {
        out[0] = out[1] = (size_t)layer->roi->pooled;
        out[2] = 1;
        return;
    }
    for (int i = 0; i < 3; i++)
        out[i] = i < layer->dims
                     ? bench_pool_out_dim(layer->in[i], layer->kernel[i], layer->stride[i],
                                          layer->padding[i], layer->ceil_mode)
                     : 1;
}

size_t bench_layer_input_plane(const bench_layer *layer)
{
    size_t plane = 1;
    for (int i = 0; i < layer->dims; i++)
        plane *= layer->in[i];
    return plane;
}

size_t bench_layer_output_plane(const bench_layer *layer)
{
    if (layer->family == BENCH_SPP) {
        size_t positions = 0;
        for (int l = 0; l < layer->level_count; l++)
            positions += (size_t)layer->levels[l] * (size_t)layer->levels[l];
        return positions;
    }
    size_t out[3];
    bench_layer_output_spatial(layer, out);
    return out[0] * out[1] * out[2];
}

size_t bench_layer_input_elements(const bench_layer *layer)
{
    return layer->n * layer->c * bench_layer_input_plane(layer);
}

size_t bench_layer_output_elements(const bench_layer *layer)
{
    /* A region row has one output sample per box. */
    size_t n = layer->roi ? layer->roi->boxes : layer->n;
    return n * layer->c * bench_layer_output_plane(layer);
}

size_t bench_layer_elem_size(const bench_layer *layer)
{
    return clpool_dtype_size(layer->dtype);
}

size_t bench_layer_offset(const bench_layer *layer, size_t plane, size_t n, size_t c, size_t s)
{
    if (layer->layout == CLPOOL_NHWC)
        return (n * plane + s) * layer->c + c;
    return (n * layer->c + c) * plane + s;
}

void bench_layer_window_desc(const bench_layer *layer, clpool_window_desc *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->op = layer->op;
    for (int i = 0; i < layer->dims; i++) {
        desc->kernel[i] = layer->kernel[i];
        desc->stride[i] = layer->stride[i];
        desc->padding[i] = layer->padding[i];
        desc->dilation[i] = 1;
    }
    desc->ceil_mode = layer->ceil_mode;
    desc->exclude_padding = layer->exclude_padding;
    desc->indices = CLPOOL_INDICES_NONE;
    desc->p = layer->p;
    desc->beta = layer->beta;
}

void bench_layer_input_desc(const bench_layer *layer, clpool_tensor_desc *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->dtype = layer->dtype;
    desc->layout = layer->layout;
    desc->spatial_dims = layer->dims;
    desc->n = layer->n;
    desc->c = layer->c;
    for (int i = 0; i < layer->dims; i++)
        desc->spatial[i] = layer->in[i];
}

/* Appends to buf[*used..len) like snprintf, never past the end. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, double a, double b)
{
    if (*used >= len)
        return;
    int n = snprintf(buf + *used, len - *used, fmt, a, b);
    if (n > 0)
        *used += (size_t)n;
}

void bench_layer_op_string(const bench_layer *layer, char *buf, size_t len)
{
    size_t used = 0;
    int padded = 0;
    buf[0] = '\0';
    if (layer->family == BENCH_SPP) {
        append(buf, len, &used, layer->op == CLPOOL_OP_MAX ? "spp max " : "spp avg ", 0, 0);
        for (int l = 0; l < layer->level_count; l++)
            append(buf, len, &used, l ? ",%g" : "%g", layer->levels[l], 0);
        return;
    }
    if (layer->family == BENCH_ADAPTIVE) {
        size_t out[3];
        int global = 1;
        bench_layer_output_spatial(layer, out);
        for (int i = 0; i < layer->dims; i++)
            global &= out[i] == 1;
        snprintf(buf, len, global ? "global %s" : "adaptive %s",
                 layer->op == CLPOOL_OP_MAX ? "max" : "avg");
        used = strlen(buf);
        for (int i = 0; !global && i < layer->dims; i++)
            append(buf, len, &used, i ? "x%g" : " %g", (double)out[i], 0);
        return;
    }
    if (layer->roi) {
        const bench_roi *r = layer->roi;
        append(buf, len, &used, r->op == CLPOOL_ROI_ALIGN ? "roi-align %gx%g" : "roi-max %gx%g",
               r->pooled, r->pooled);
        if (r->op == CLPOOL_ROI_ALIGN)
            append(buf, len, &used, " sr%g", r->sampling, 0);
        return;
    }
    switch (layer->op) {
    case CLPOOL_OP_MAX:
        append(buf, len, &used, "max ", 0, 0);
        break;
    case CLPOOL_OP_AVG:
        append(buf, len, &used, "avg ", 0, 0);
        break;
    case CLPOOL_OP_LP:
        append(buf, len, &used, "lp%g ", layer->p, 0);
        break;
    case CLPOOL_OP_SOFTMAX:
        append(buf, len, &used, "softmax ", 0, 0);
        break;
    default:
        append(buf, len, &used, "op%g ", (double)layer->op, 0);
        break;
    }
    if (layer->unpool) { /* an unpool row names the max pooling it inverts "unpool" */
        buf[0] = '\0';
        used = 0;
        append(buf, len, &used, "unpool ", 0, 0);
    }
    for (int i = 0; i < layer->dims; i++) {
        append(buf, len, &used, i ? "x%g" : "%g", layer->kernel[i], 0);
        padded |= layer->padding[i] != 0;
    }
    append(buf, len, &used, " s%g", layer->stride[0], 0);
    if (padded)
        append(buf, len, &used, " p%g", layer->padding[0], 0);
    if (layer->ceil_mode)
        append(buf, len, &used, " ceil", 0, 0);
    if (layer->op == CLPOOL_OP_AVG && layer->exclude_padding && padded)
        append(buf, len, &used, " excl", 0, 0);
}

void bench_layer_shape_string(const bench_layer *layer, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    append(buf, len, &used, "%gx%g", (double)layer->n, (double)layer->c);
    for (int i = 0; i < layer->dims; i++)
        append(buf, len, &used, "x%g", (double)layer->in[i], 0);
}

void bench_layer_type_string(const bench_layer *layer, char *buf, size_t len)
{
    static const char *const names[] = {"f32", "f16", "bf16", "f64", "u8", "i8", "i32", "i64"};
    const char *dtype =
        (size_t)layer->dtype < sizeof names / sizeof names[0] ? names[layer->dtype] : "?";
    snprintf(buf, len, "%s %s", dtype, layer->layout == CLPOOL_NHWC ? "nhwc" : "nchw");
}
