/*
 * The clpool side of a max-unpooling row (layer->unpool): the layer's max
 * pooling runs once (untimed) to make the pooled values and their indices;
 * the timed runs unpool them back to the layer's input size.
 */
#ifndef BENCH_UNPOOL_SIDE_H
#define BENCH_UNPOOL_SIDE_H

#include "clpool_side.h"

typedef struct bench_unpool_side bench_unpool_side;

/* Bytes one unpooling run moves: pooled values and int64 indices read,
 * the unpooled output written. */
double bench_unpool_bytes(const bench_layer *layer);

/* As bench_clpool_open(), for an unpooling row. */
int bench_unpool_open(clpool_context *context, const bench_layer *layer, const float *input,
                      size_t copies, bench_unpool_side **side, bench_plan_info *info, char *err,
                      size_t err_len);

bench_runner bench_unpool_runner(bench_unpool_side *side);

void bench_unpool_close(bench_unpool_side *side);

#endif /* BENCH_UNPOOL_SIDE_H */
