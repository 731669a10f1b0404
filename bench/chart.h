/*
 * The bench's chart: grouped bars (one group per layer, one bar per series)
 * drawn into an RGB image with the built-in font and written as a PNG.
 */
#ifndef BENCH_CHART_H
#define BENCH_CHART_H

#include <stddef.h>

/* clpool, oneDNN, XNNPACK and the stream copy; the colours are fixed in that order. */
#define BENCH_CHART_SERIES 4

typedef struct bench_chart_group {
    const char *label;     /* the layer name, split at a '-' when too wide */
    const char *detail[2]; /* smaller lines under it ("max 3x3 s2 p1", "f32 nhwc"), or NULL */
    const char *note;      /* a highlighted line under that ("clpool unsupported"), or NULL */
    double value[BENCH_CHART_SERIES]; /* NaN: no bar, "n/a" drawn instead */
} bench_chart_group;

typedef struct bench_chart {
    const char *title;
    const char *subtitle; /* smaller, under the title; may be NULL */
    const char *unit;     /* the value axis' name ("GB/s") */
    const char *series[BENCH_CHART_SERIES];
    const bench_chart_group *groups;
    size_t count;
} bench_chart;

/* Draws @p chart and writes it to @p path as a PNG. Returns 0, or -1 with
 * one sentence in @p err. */
int bench_chart_write_png(const bench_chart *chart, const char *path, char *err, size_t err_len);

#endif /* BENCH_CHART_H */
