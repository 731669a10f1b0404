/*
 * The bench's outputs: the table, the targets and pairs under it, the JSON
 * list and the PNG chart of a run's rows.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "row.h"

#include <stddef.h>

/* What every row of a run shares. */
typedef struct bench_run_info {
    const char *device;
    const char *version; /* clpool's */
    double stream_gb_s;
    int runs;
} bench_run_info;

/* The table on stdout, then the load warnings; peer failures go to stderr. */
void bench_report_table(const bench_row *rows, size_t count, const bench_run_info *run);

/* Each row's targets (README.md, Targets) on stdout: the value, the bound
 * and whether it was met, or why it is unknown. */
void bench_report_targets(const bench_row *rows, size_t count, const bench_run_info *run);

/* Writes the rows as a JSON list to @p path; 0, or -1 after a message on stderr. */
int bench_report_json(const char *path, const bench_row *rows, size_t count,
                      const bench_run_info *run);

/* Writes the GB/s chart (clpool, oneDNN, XNNPACK, stream copy per layer) to
 * @p path as a PNG; 0, or -1 after a message on stderr. */
int bench_report_chart(const char *path, const bench_row *rows, size_t count,
                       const bench_run_info *run);

#endif /* BENCH_REPORT_H */
