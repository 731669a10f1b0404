/*
 * The bench's outputs (see report.h): the table, the targets, the JSON list
 * and the chart, all computed from the same rows.
 */
#include "report.h"

#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOISY_PERCENT 5.0 /* a row measured while others took more CPU is flagged */
#define MAX_TARGETS 5

const char *const bench_peer_names[BENCH_PEER_COUNT] = {"oneDNN", "XNNPACK"};
const char *const bench_peer_keys[BENCH_PEER_COUNT] = {"onednn", "xnnpack"};

static double gb_s(const bench_row *r)
{
    return r->bytes / r->median_s * 1e-9;
}

static double peer_gb_s(const bench_row *r, int p)
{
    return r->bytes / r->peer[p].median_s * 1e-9;
}

/* The row of this run that @p r is compared with, or NULL. */
static const bench_row *find_pair(const bench_row *rows, size_t count, const bench_row *r)
{
    if (r->layer->pair == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(rows[i].layer->name, r->layer->pair) == 0)
            return &rows[i];
    return NULL;
}

/* One target of a row: its value (NaN when unknown, with the reason) and bound. */
typedef struct target {
    char what[48];
    double value;
    double bound;
    int at_most; /* 1: met when value <= bound, else when value >= bound */
    char unknown[96];
} target;

static void add_target(target *t, size_t *n, const char *what, double value, double bound,
                       int at_most, const char *unknown)
{
    target *x = &t[(*n)++];
    snprintf(x->what, sizeof x->what, "%s", what);
    x->value = value;
    x->bound = bound;
    x->at_most = at_most;
    snprintf(x->unknown, sizeof x->unknown, "%s", isnan(value) ? unknown : "");
}

/* Why clpool's side of @p r has no value. */
static const char *clpool_missing(const bench_row *r)
{
    return r->unsupported ? "clpool unsupported" : "clpool failed";
}

/* Fills @p t with the targets of @p r; returns how many. */
static size_t row_targets(const bench_row *rows, size_t count, const bench_row *r,
                          double stream_gb_s, target t[MAX_TARGETS])
{
    const bench_targets *want = &r->layer->targets;
    size_t n = 0;
    char what[48];
    if (want->bw_fraction > 0.0)
        add_target(t, &n, "bw_frac", r->ok ? gb_s(r) / stream_gb_s : NAN, want->bw_fraction, 0,
                   clpool_missing(r));
    for (int p = 0; p < BENCH_PEER_COUNT; p++) {
        double bound = p == BENCH_PEER_ONEDNN ? want->vs_onednn : want->vs_xnnpack;
        if (bound <= 0.0)
            continue;
        snprintf(what, sizeof what, "vs_%s", bench_peer_keys[p]);
        add_target(t, &n, what, r->ok && r->peer[p].ok ? r->peer[p].median_s / r->median_s : NAN,
                   bound, 0, !r->ok ? clpool_missing(r) : r->peer[p].error);
    }
    if (want->pair > 0.0 && r->layer->pair_kind != BENCH_PAIR_NONE) {
        const bench_row *q = find_pair(rows, count, r);
        int known = r->ok && q != NULL && q->ok;
        double value = NAN;
        if (known)
            value = r->layer->pair_kind == BENCH_PAIR_BANDWIDTH ? gb_s(r) / gb_s(q)
                                                                : q->median_s / r->median_s;
        snprintf(what, sizeof what, "%s vs %s",
                 r->layer->pair_kind == BENCH_PAIR_BANDWIDTH ? "GB/s" : "speed", r->layer->pair);
        add_target(t, &n, what, value, want->pair, 0,
                   !r->ok      ? clpool_missing(r)
                   : q == NULL ? "the pair did not run (see --only)"
                               : "the pair failed");
    }
    if (want->max_us > 0.0)
        add_target(t, &n, "us", r->ok ? r->median_s * 1e6 : NAN, want->max_us, 1,
                   clpool_missing(r));
    return n;
}

static int target_met(const target *t)
{
    return t->at_most ? t->value <= t->bound : t->value >= t->bound;
}

/* 1 when every target of the row is met, 0 when one is not, -1 when one is
 * unknown and none failed, -2 when the row has none. */
static int targets_state(const target *t, size_t n)
{
    int state = n ? 1 : -2;
    for (size_t i = 0; i < n; i++) {
        if (isnan(t[i].value)) {
            if (state == 1)
                state = -1;
        } else if (!target_met(&t[i])) {
            state = 0;
        }
    }
    return state;
}

/* "5.123 ms" or, for a latency layer, "45.6 us". */
static void format_time(char *buf, size_t len, double seconds, int latency)
{
    if (latency)
        snprintf(buf, len, "%.1f us", seconds * 1e6);
    else
        snprintf(buf, len, "%.3f ms", seconds * 1e3);
}

/* The time and ratio columns of one peer. */
static void print_peer(const bench_row *r, int p)
{
    char t[32], vs[32];
    const bench_peer_result *x = &r->peer[p];
    if (x->ok)
        format_time(t, sizeof t, x->median_s, r->layer->latency);
    else
        snprintf(t, sizeof t, "%s", x->applies ? "failed" : "-");
    if (x->ok && r->ok)
        snprintf(vs, sizeof vs, "%.2f", x->median_s / r->median_s);
    else
        snprintf(vs, sizeof vs, "-");
    printf(" %11s %10s", t, vs);
}

void bench_report_table(const bench_row *rows, size_t count, const bench_run_info *run)
{
    printf("%-17s %-18s %-15s %-8s %8s %7s %11s %7s %7s %11s %10s %11s %10s  %s\n", "name", "op",
           "shape", "type", "plan ms", "source", "clpool", "GB/s", "bw_frac", "oneDNN", "vs_onednn",
           "XNNPACK", "vs_xnnpack", "oneDNN impl");
    for (size_t i = 0; i < count; i++) {
        const bench_row *r = &rows[i];
        char op[48], shape[48], type[16], t[32];
        bench_layer_op_string(r->layer, op, sizeof op);
        bench_layer_shape_string(r->layer, shape, sizeof shape);
        bench_layer_type_string(r->layer, type, sizeof type);
        printf("%-17s %-18s %-15s %-8s ", r->layer->name, op, shape, type);
        if (!r->ok && !r->unsupported) {
            printf("ERROR: %s\n", r->error);
            continue;
        }
        if (r->ok) {
            format_time(t, sizeof t, r->median_s, r->layer->latency);
            printf("%8.1f %7s %11s %7.2f %7.2f", r->plan_s * 1e3, r->plan_source, t, gb_s(r),
                   gb_s(r) / run->stream_gb_s);
        } else {
            printf("%8s %7s %11s %7s %7s", "-", "-", "unsupported", "-", "-");
        }
        for (int p = 0; p < BENCH_PEER_COUNT; p++)
            print_peer(r, p);
        const bench_peer_result *dnn = &r->peer[BENCH_PEER_ONEDNN];
        printf("  %s\n", dnn->ok ? dnn->impl : dnn->error);
    }
    for (size_t i = 0; i < count; i++) {
        const bench_row *r = &rows[i];
        if (r->ok && r->layer->roi)
            printf("%s: %.0f boxes/s (%zu boxes of %zu channels, %dx%d bins, in %.3f ms); bound "
                   "by gathers: every output reads its bin's cells (roi max) or 4 neighbours of "
                   "each sample (roi align) scattered over the map, not a stream, so GB/s "
                   "(input + output bytes) is not its measure\n",
                   r->layer->name, (double)r->layer->roi->boxes / r->median_s, r->layer->roi->boxes,
                   r->layer->c, r->layer->roi->pooled, r->layer->roi->pooled, r->median_s * 1e3);
    }
    for (size_t i = 0; i < count; i++)
        if (rows[i].other_percent > NOISY_PERCENT)
            printf("warning: other processes used %.1f%% of the CPUs during %s: its times are "
                   "not trustworthy\n",
                   rows[i].other_percent, rows[i].layer->name);
    for (size_t i = 0; i < count; i++) {
        if (rows[i].unsupported)
            printf("unsupported: %s: %s (not a failure until the kernels exist)\n",
                   rows[i].layer->name, rows[i].error);
        for (int p = 0; p < BENCH_PEER_COUNT; p++)
            if (rows[i].peer[p].applies && !rows[i].peer[p].ok)
                fprintf(stderr, "clpool-bench: %s: %s peer: %s\n", rows[i].layer->name,
                        bench_peer_names[p], rows[i].peer[p].error);
    }
}

void bench_report_targets(const bench_row *rows, size_t count, const bench_run_info *run)
{
    printf("\ntargets:\n");
    for (size_t i = 0; i < count; i++) {
        target t[MAX_TARGETS];
        size_t n = row_targets(rows, count, &rows[i], run->stream_gb_s, t);
        if (n == 0) {
            printf("  %-17s none (reported only)\n", rows[i].layer->name);
            continue;
        }
        printf("  %-17s", rows[i].layer->name);
        for (size_t k = 0; k < n; k++) {
            printf("%s %s ", k ? ";" : "", t[k].what);
            if (isnan(t[k].value))
                printf("unknown (%s)", t[k].unknown);
            else
                printf("%.2f %s %.2f %s", t[k].value, t[k].at_most ? "<=" : ">=", t[k].bound,
                       target_met(&t[k]) ? "met" : "NOT MET");
        }
        printf("\n");
    }
}

/* Writes @p s as a JSON string literal. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Writes a finite number, or null. */
static void json_number(FILE *f, int valid, double v)
{
    if (valid && isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

/* Writes ", "key": value" for a string that may be absent. */
static void json_field_string(FILE *f, const char *key, int valid, const char *s)
{
    fprintf(f, ", \"%s\": ", key);
    if (valid)
        json_string(f, s);
    else
        fputs("null", f);
}

static void json_field_number(FILE *f, const char *key, int valid, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_number(f, valid, v);
}

static void json_row(FILE *f, const bench_row *rows, size_t count, const bench_row *r,
                     const bench_run_info *run)
{
    char op[48], shape[48], type[16], key[48];
    bench_layer_op_string(r->layer, op, sizeof op);
    bench_layer_shape_string(r->layer, shape, sizeof shape);
    bench_layer_type_string(r->layer, type, sizeof type);
    fputs("  {\"name\": ", f);
    json_string(f, r->layer->name);
    json_field_string(f, "op", 1, op);
    json_field_string(f, "shape", 1, shape);
    json_field_string(f, "type", 1, type);
    json_field_number(f, "ms", r->ok, r->median_s * 1e3);
    json_field_number(f, "gb_s", r->ok, r->ok ? gb_s(r) : 0.0);
    json_field_number(f, "bw_fraction", r->ok, r->ok ? gb_s(r) / run->stream_gb_s : 0.0);
    json_field_number(f, "ms_min", r->ok, r->min_s * 1e3);
    json_field_number(f, "boxes_per_s", r->ok && r->layer->roi,
                      r->ok && r->layer->roi ? (double)r->layer->roi->boxes / r->median_s : 0.0);
    for (int p = 0; p < BENCH_PEER_COUNT; p++) {
        const bench_peer_result *x = &r->peer[p];
        const char *k = bench_peer_keys[p];
        snprintf(key, sizeof key, "%s_ms", k);
        json_field_number(f, key, x->ok, x->median_s * 1e3);
        snprintf(key, sizeof key, "%s_ms_min", k);
        json_field_number(f, key, x->ok, x->min_s * 1e3);
        snprintf(key, sizeof key, "%s_gb_s", k);
        json_field_number(f, key, x->ok, x->ok ? peer_gb_s(r, p) : 0.0);
        snprintf(key, sizeof key, "vs_%s", k);
        json_field_number(f, key, r->ok && x->ok, r->ok && x->ok ? x->median_s / r->median_s : 0.0);
        snprintf(key, sizeof key, "%s_impl", k);
        json_field_string(f, key, x->ok, x->impl);
    }
    const bench_row *q = find_pair(rows, count, r);
    int paired = r->ok && q != NULL && q->ok;
    json_field_string(f, "pair", r->layer->pair != NULL, r->layer->pair);
    json_field_number(f, "pair_gb_s_ratio", paired, paired ? gb_s(r) / gb_s(q) : 0.0);
    json_field_number(f, "pair_speedup", paired, paired ? q->median_s / r->median_s : 0.0);
    target t[MAX_TARGETS];
    int state = targets_state(t, row_targets(rows, count, r, run->stream_gb_s, t));
    fprintf(f, ", \"targets_met\": %s", state == 1 ? "true" : state == 0 ? "false" : "null");
    json_field_number(f, "plan_ms", strcmp(r->plan_source, "-") != 0, r->plan_s * 1e3);
    json_field_string(f, "plan_source", 1, r->plan_source);
    fprintf(f, ", \"launches\": %zu, \"copies\": %zu, \"runs\": %d, \"bytes\": %.0f", r->launches,
            r->copies, run->runs, r->bytes);
    json_field_string(f, "device", 1, run->device);
    json_field_number(f, "stream_gb_s", 1, run->stream_gb_s);
    json_field_number(f, "other_cpu_percent", r->other_percent >= 0.0, r->other_percent);
    fprintf(f, ", \"unsupported\": %s", r->unsupported ? "true" : "false");
    json_field_string(f, "error", !r->ok, r->error);
    for (int p = 0; p < BENCH_PEER_COUNT; p++) {
        snprintf(key, sizeof key, "%s_error", bench_peer_keys[p]);
        json_field_string(f, key, !r->peer[p].ok, r->peer[p].error);
    }
    fputs("}", f);
}

int bench_report_json(const char *path, const bench_row *rows, size_t count,
                      const bench_run_info *run)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "clpool-bench: cannot write %s\n", path);
        return -1;
    }
    fputs("[\n", f);
    for (size_t i = 0; i < count; i++) {
        json_row(f, rows, count, &rows[i], run);
        fputs(i + 1 < count ? ",\n" : "\n", f);
    }
    fputs("]\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "clpool-bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

/* Per-row text the chart points into. */
typedef struct chart_text {
    char op[48];
    char type[16];
} chart_text;

int bench_report_chart(const char *path, const bench_row *rows, size_t count,
                       const bench_run_info *run)
{
    bench_chart_group *groups = calloc(count ? count : 1, sizeof *groups);
    chart_text *text = calloc(count ? count : 1, sizeof *text);
    char subtitle[256], err[256];
    int rc = -1;
    if (groups == NULL || text == NULL) {
        fprintf(stderr, "clpool-bench: chart: out of host memory\n");
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        const bench_row *r = &rows[i];
        bench_chart_group *g = &groups[i];
        bench_layer_op_string(r->layer, text[i].op, sizeof text[i].op);
        bench_layer_type_string(r->layer, text[i].type, sizeof text[i].type);
        g->label = r->layer->name;
        g->detail[0] = text[i].op;
        g->detail[1] = text[i].type;
        g->note = r->unsupported ? "clpool unsupported" : !r->ok ? "clpool failed" : NULL;
        g->value[0] = r->ok ? gb_s(r) : NAN;
        for (int p = 0; p < BENCH_PEER_COUNT; p++)
            g->value[1 + p] = r->peer[p].ok ? peer_gb_s(r, p) : NAN;
        g->value[3] = run->stream_gb_s;
    }
    snprintf(subtitle, sizeof subtitle,
             "clpool %s on %s; median of %d runs; GB/s = (input + output bytes) / median time",
             run->version, run->device, run->runs);
    bench_chart chart = {"clpool-bench: GB/s per layer (higher is better)", subtitle, "GB/s",
                         {"clpool", "oneDNN", "XNNPACK", "stream copy"},    groups,   count};
    rc = bench_chart_write_png(&chart, path, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "clpool-bench: chart: %s\n", err);
done:
    free(groups);
    free(text);
    return rc;
}
