/*
 * One row of the bench's table: a layer's clpool measurement, its peers'
 * measurements and the conditions of the run, as bench.c fills it and
 * report.c prints it.
 */
#ifndef BENCH_ROW_H
#define BENCH_ROW_H

#include "layers.h"
#include "timing.h"

#include <stddef.h>

/* The peers, in the order of the table's columns. */
typedef enum bench_peer {
    BENCH_PEER_ONEDNN = 0,
    BENCH_PEER_XNNPACK = 1,
    BENCH_PEER_COUNT = 2
} bench_peer;

typedef struct bench_peer_result {
    int applies; /* 0: not built in, or no such operator (the reason in error) */
    int ok;      /* set up, checked and timed */
    double median_s;
    double min_s;
    char impl[64]; /* the implementation the peer picked */
    char error[BENCH_ERROR_MAX];
} bench_peer_result;

typedef struct bench_row {
    const bench_layer *layer;
    int ok;
    int unsupported; /* clpool's plan returned CLPOOL_ERROR_UNSUPPORTED: not a failure */
    char error[BENCH_ERROR_MAX];
    double plan_s;
    const char *plan_source; /* where the first plan's program came from */
    size_t launches;
    size_t copies;
    double bytes; /* input + output per run */
    double median_s;
    double min_s;
    bench_peer_result peer[BENCH_PEER_COUNT];
    double other_percent; /* CPU share other processes took during the row, -1 unknown */
} bench_row;

/* Names of the peers: "oneDNN", "XNNPACK" and their JSON keys' prefixes. */
extern const char *const bench_peer_names[BENCH_PEER_COUNT];
extern const char *const bench_peer_keys[BENCH_PEER_COUNT];

#endif /* BENCH_ROW_H */
