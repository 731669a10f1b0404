/*
 * The benchmark's layer table: real network pooling layers (2-D, NCHW,
 * float32), with the geometry helpers that the reference checker and the
 * oneDNN peer share so that all three agree on one output shape.
 */
#ifndef BENCH_LAYERS_H
#define BENCH_LAYERS_H

#include "clpool.h"

#include <stddef.h>

typedef struct bench_layer {
    const char *name;
    const char *origin; /* the network the layer comes from */
    clpool_op op;
    size_t n, c, h, w;
    int kernel[2]; /* (H, W) */
    int stride[2];
    int padding[2];
    int ceil_mode;
    int exclude_padding; /* avg: 1 = torch count_include_pad=False */
    int latency;         /* 1: a latency case, reported in microseconds */
} bench_layer;

extern const bench_layer bench_layers[];
extern const size_t bench_layer_count;

/* The layer called @p name, or NULL. */
const bench_layer *bench_layer_find(const char *name);

/* One output dimension by spec §1.1 (dilation 1): input @p in, kernel @p k,
 * stride @p s, padding @p p. */
size_t bench_pool_out_dim(size_t in, int k, int s, int p, int ceil_mode);

/* Output height and width of @p layer. */
void bench_layer_output_hw(const bench_layer *layer, size_t *oh, size_t *ow);

size_t bench_layer_input_elements(const bench_layer *layer);
size_t bench_layer_output_elements(const bench_layer *layer);

/* The clpool descriptions of the layer's operator and input tensor. */
void bench_layer_window_desc(const bench_layer *layer, clpool_window_desc *desc);
void bench_layer_input_desc(const bench_layer *layer, clpool_tensor_desc *desc);

/* "max 3x3 s2 p1", "avg 3x3 s1 p1 excl", ... into @p buf. */
void bench_layer_op_string(const bench_layer *layer, char *buf, size_t len);
/* "16x64x112x112" into @p buf. */
void bench_layer_shape_string(const bench_layer *layer, char *buf, size_t len);

#endif /* BENCH_LAYERS_H */
