/*
 * A peer: XNNPACK's NHWC max and average pooling on the same layer, dtype
 * and rotation as the clpool side, on its own pthreadpool with one thread
 * per online CPU, checked against the same reference and timed by the same
 * loop. Built only when XNNPACK and pthreadpool are found (HAVE_XNNPACK).
 */
#ifndef BENCH_XNNPACK_PEER_H
#define BENCH_XNNPACK_PEER_H

#include "layers.h"
#include "timing.h"

#include <stddef.h>

typedef struct bench_xnnpack_side bench_xnnpack_side;

/* "XNNPACK (2 threads)" into @p buf. */
void bench_xnnpack_version(char *buf, size_t len);

/* 1 when XNNPACK has the layer's operator for its layout, rank and dtype
 * (2-D NHWC: max in f32 and f16, avg in f32 with padding excluded); else 0
 * with the reason ("n/a: ...") in @p why. */
int bench_xnnpack_applies(const bench_layer *layer, char *why, size_t why_len);

/*
 * Creates one operator per rotation copy (each set up once on its own
 * buffers, so a timed run is xnn_run_operator alone) and @p copies host
 * input/output pairs, every input a copy of @p input (floats in the layer's
 * layout, rounded to its dtype; borrowed until close). Runs copy 0 once and
 * checks every output element. Returns 0 with *side set and the operator's
 * name in @p impl, or -1 with one sentence in @p err.
 */
int bench_xnnpack_open(const bench_layer *layer, const float *input, size_t copies,
                       bench_xnnpack_side **side, char *impl, size_t impl_len, char *err,
                       size_t err_len);

/* The runner view of @p side for bench_time_runners(). */
bench_runner bench_xnnpack_runner(bench_xnnpack_side *side);

/* Releases everything; NULL is a no-op. */
void bench_xnnpack_close(bench_xnnpack_side *side);

#endif /* BENCH_XNNPACK_PEER_H */
