/*
 * The benchmark's layer table and its geometry helpers (see layers.h).
 */
#include "layers.h"

#include <stdio.h>
#include <string.h>

const bench_layer bench_layers[] = {
    {"resnet-stem", "ResNet-50 stem", CLPOOL_OP_MAX, 16, 64, 112, 112, {3, 3}, {2, 2}, {1, 1}, 0,
     0, 0},
    {"vgg", "VGG-16 block 2", CLPOOL_OP_MAX, 16, 128, 112, 112, {2, 2}, {2, 2}, {0, 0}, 0, 0, 0},
    {"inception", "Inception-v3 branch pool", CLPOOL_OP_AVG, 16, 192, 28, 28, {3, 3}, {1, 1},
     {1, 1}, 0, 1, 0},
    {"head", "ResNet-50 head (global average)", CLPOOL_OP_AVG, 64, 2048, 7, 7, {7, 7}, {7, 7},
     {0, 0}, 0, 0, 0},
    {"small", "batch-1 latency", CLPOOL_OP_MAX, 1, 64, 14, 14, {2, 2}, {2, 2}, {0, 0}, 0, 0, 1},
};
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

void bench_layer_output_hw(const bench_layer *layer, size_t *oh, size_t *ow)
{
    *oh = bench_pool_out_dim(layer->h, layer->kernel[0], layer->stride[0], layer->padding[0],
                             layer->ceil_mode);
    *ow = bench_pool_out_dim(layer->w, layer->kernel[1], layer->stride[1], layer->padding[1],
                             layer->ceil_mode);
}

size_t bench_layer_input_elements(const bench_layer *layer)
{
    return layer->n * layer->c * layer->h * layer->w;
}

size_t bench_layer_output_elements(const bench_layer *layer)
{
    size_t oh, ow;
    bench_layer_output_hw(layer, &oh, &ow);
    return layer->n * layer->c * oh * ow;
}

void bench_layer_window_desc(const bench_layer *layer, clpool_window_desc *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->op = layer->op;
    for (int i = 0; i < 2; i++) {
        desc->kernel[i] = layer->kernel[i];
        desc->stride[i] = layer->stride[i];
        desc->padding[i] = layer->padding[i];
        desc->dilation[i] = 1;
    }
    desc->ceil_mode = layer->ceil_mode;
    desc->exclude_padding = layer->exclude_padding;
    desc->indices = CLPOOL_INDICES_NONE;
}

void bench_layer_input_desc(const bench_layer *layer, clpool_tensor_desc *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->dtype = CLPOOL_FLOAT32;
    desc->layout = CLPOOL_NCHW;
    desc->spatial_dims = 2;
    desc->n = layer->n;
    desc->c = layer->c;
    desc->spatial[0] = layer->h;
    desc->spatial[1] = layer->w;
}

void bench_layer_op_string(const bench_layer *layer, char *buf, size_t len)
{
    int used = snprintf(buf, len, "%s %dx%d s%d", layer->op == CLPOOL_OP_MAX ? "max" : "avg",
                        layer->kernel[0], layer->kernel[1], layer->stride[0]);
    if (used < 0 || (size_t)used >= len)
        return;
    if (layer->padding[0] || layer->padding[1])
        used += snprintf(buf + used, len - (size_t)used, " p%d", layer->padding[0]);
    if (used < 0 || (size_t)used >= len)
        return;
    if (layer->ceil_mode)
        used += snprintf(buf + used, len - (size_t)used, " ceil");
    if (used < 0 || (size_t)used >= len)
        return;
    if (layer->op == CLPOOL_OP_AVG && layer->exclude_padding &&
        (layer->padding[0] || layer->padding[1]))
        snprintf(buf + used, len - (size_t)used, " excl");
}

void bench_layer_shape_string(const bench_layer *layer, char *buf, size_t len)
{
    snprintf(buf, len, "%zux%zux%zux%zu", layer->n, layer->c, layer->h, layer->w);
}
