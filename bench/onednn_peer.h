/*
 * A peer: oneDNN's CPU pooling on the same layer, layout, dtype and rotation
 * as the clpool side, checked against the same reference and timed by the
 * same loop. Built only when oneDNN is found (HAVE_ONEDNN).
 */
#ifndef BENCH_ONEDNN_PEER_H
#define BENCH_ONEDNN_PEER_H

#include "layers.h"
#include "timing.h"

#include <stddef.h>

typedef struct bench_onednn_side bench_onednn_side;

/* "oneDNN 2.6.3" into @p buf. */
void bench_onednn_version(char *buf, size_t len);

/* 1 when oneDNN has the layer's operator and the bench can feed it its
 * dtype; else 0 with the reason ("n/a: ...") in @p why. */
int bench_onednn_applies(const bench_layer *layer, char *why, size_t why_len);

/*
 * Creates the pooling primitive for @p layer (forward inference) and
 * @p copies rotating host input/output pairs, every input a copy of
 * @p input (borrowed until close). Runs copy 0 once and checks every output
 * element. Returns 0 with *side set and oneDNN's implementation name
 * ("jit:avx512_core", ...) in @p impl; 1 with "n/a: ..." in @p err when
 * oneDNN has no implementation of the layer here (dnnl_unimplemented); or -1
 * with one sentence in @p err (another refusal, or a wrong result).
 * @p input is as for bench_clpool_open().
 */
int bench_onednn_open(const bench_layer *layer, const float *input, size_t copies,
                      bench_onednn_side **side, char *impl, size_t impl_len, char *err,
                      size_t err_len);

/* The runner view of @p side for bench_time_runners(). */
bench_runner bench_onednn_runner(bench_onednn_side *side);

/* Releases everything; NULL is a no-op. */
void bench_onednn_close(bench_onednn_side *side);

#endif /* BENCH_ONEDNN_PEER_H */
