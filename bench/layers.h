/*
 * The benchmark's layer table: real network pooling layers (1 to 3 spatial
 * dimensions, NCHW or NHWC, float32 or a 16-bit storage type), their
 * targets, and the geometry helpers that the reference checker and the peers
 * share so that all of them agree on one output shape and one memory layout.
 */
#ifndef BENCH_LAYERS_H
#define BENCH_LAYERS_H

#include "clpool.h"

#include <stddef.h>

/* How a row compares with its pair (another row of the same layer). */
typedef enum bench_pair_kind {
    BENCH_PAIR_NONE = 0,
    BENCH_PAIR_BANDWIDTH = 1, /* the target is on GB/s / the pair's GB/s (a layout change) */
    BENCH_PAIR_SPEED = 2      /* the target is on the pair's time / this time (a dtype change) */
} bench_pair_kind;

/* Which clpool plan a row measures. Adaptive rows keep In a multiple of Out,
 * so the table also gives them as the window (kernel = stride = In/Out) that
 * the reference and oneDNN compute; a pyramid row gives its levels. */
typedef enum bench_family {
    BENCH_WINDOW = 0,   /* clpool_plan_window */
    BENCH_ADAPTIVE = 1, /* clpool_plan_adaptive to the window's output size (1: global) */
    BENCH_SPP = 2       /* clpool_plan_spp: output (N, C*sum(n^2)), the levels' order */
} bench_family;

/* What a row should reach; 0 means no target of that kind. */
typedef struct bench_targets {
    double bw_fraction; /* GB/s / stream copy GB/s, at least */
    double vs_onednn;   /* oneDNN time / clpool time, at least */
    double vs_xnnpack;  /* XNNPACK time / clpool time, at least */
    double pair;        /* the pair ratio of pair_kind, at least */
    double max_us;      /* median time, at most, in microseconds */
} bench_targets;

/* What a region pooling row adds (issue 5): boxes over the row's feature
 * map, which is the layer's input; the output is (boxes, C, pooled, pooled). */
typedef struct bench_roi {
    clpool_roi_op op;
    int pooled;           /* bins per box side */
    int sampling;         /* roi align: samples per bin side */
    int aligned;          /* roi align: half-pixel offset */
    size_t boxes;         /* K */
    double spatial_scale; /* image to feature coordinates */
} bench_roi;

typedef struct bench_layer {
    const char *name;
    const char *origin; /* the network the layer comes from */
    clpool_op op;
    clpool_dtype dtype;   /* float32, float16 or bfloat16 (the bench's host conversions) */
    clpool_layout layout; /* of input and output */
    int dims;             /* spatial dimensions, 1 to 3 */
    size_t n, c;
    size_t in[3]; /* spatial extents, outermost first */
    int kernel[3];
    int stride[3];
    int padding[3];
    int ceil_mode;
    int exclude_padding; /* avg: 1 = torch count_include_pad=False */
    double p;            /* lp: the exponent */
    double beta;         /* softmax: the inverse temperature */
    int latency;         /* 1: a latency case, reported in microseconds */
    bench_family family;
    int levels[CLPOOL_SPP_LEVELS_MAX]; /* spp: bins per side of each level */
    int level_count;
    /* 1: the row times max unpooling of this max pooling's output and
     * indices back to the input's size (unpool_side.c) */
    int unpool;
    const bench_roi *roi; /* region pooling rows (op unused), else NULL */
    const char *pair;     /* the row this one is compared with, or NULL */
    bench_pair_kind pair_kind;
    bench_targets targets;
} bench_layer;

extern const bench_layer bench_layers[];
extern const size_t bench_layer_count;

/* The layer called @p name, or NULL. */
const bench_layer *bench_layer_find(const char *name);

/* One output dimension by spec §1.1 (dilation 1): input @p in, kernel @p k,
 * stride @p s, padding @p p. */
size_t bench_pool_out_dim(size_t in, int k, int s, int p, int ceil_mode);

/* The spatial output extents of @p layer, outermost first (layer->dims of them). */
void bench_layer_output_spatial(const bench_layer *layer, size_t out[3]);

/* The product of the layer's spatial input / output extents (spp: the
 * output positions sum(n^2) of one channel). */
size_t bench_layer_input_plane(const bench_layer *layer);
size_t bench_layer_output_plane(const bench_layer *layer);

size_t bench_layer_input_elements(const bench_layer *layer);
size_t bench_layer_output_elements(const bench_layer *layer);

/* Bytes of one element of the layer's dtype. */
size_t bench_layer_elem_size(const bench_layer *layer);

/* Where element (sample @p n, channel @p c, flat spatial position @p s) of a
 * tensor with @p plane spatial positions sits in memory, in the layer's layout. */
size_t bench_layer_offset(const bench_layer *layer, size_t plane, size_t n, size_t c, size_t s);

/* The clpool descriptions of the layer's operator and input tensor. */
void bench_layer_window_desc(const bench_layer *layer, clpool_window_desc *desc);
void bench_layer_input_desc(const bench_layer *layer, clpool_tensor_desc *desc);

/* "max 3x3 s2 p1", "avg 3x3 s1 p1 excl", "lp2 3x3 s1", "soft1 3x3 s1 p1",
 * "unpool 3x3 s2 p1" (an unpool row: the max pooling it inverts) into @p buf. */
void bench_layer_op_string(const bench_layer *layer, char *buf, size_t len);
/* "16x64x112x112" (N, C, then the spatial extents, whatever the layout) into @p buf. */
void bench_layer_shape_string(const bench_layer *layer, char *buf, size_t len);
/* "f32 nchw", "f16 nchw", "f32 nhwc" into @p buf. */
void bench_layer_type_string(const bench_layer *layer, char *buf, size_t len);

#endif /* BENCH_LAYERS_H */
