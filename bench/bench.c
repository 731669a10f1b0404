/*
 * clpool-bench: times clpool on a table of real network pooling layers and
 * prints, per layer, the median time, GB/s, the fraction of the measured
 * stream bandwidth and the ratio to oneDNN on the same machine (README.md).
 * This file holds main, the options, the sequence of one row (clpool_side.c,
 * onednn_peer.c and timing.c do the work), the table and the JSON output.
 */
#include "clpool_side.h"
#include "layers.h"
#include "load.h"
#include "stream.h"
#include "timing.h"
#include "util.h"
#ifdef HAVE_ONEDNN
#include "onednn_peer.h"
#endif

#include "clpool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_BYTES ((size_t)256 << 20) /* source + destination */
#define DEFAULT_RUNS 30
#define DEFAULT_WARMUP 5
#define QUICK_RUNS 5
#define QUICK_WARMUP 2
#define INPUT_SEED 20240601u
#define BLOCK_RUNS 5 /* timed runs per block; see timing.h */
#define NOISY_PERCENT 5.0 /* a row measured while others took more CPU is flagged */

typedef struct options {
    const char *device; /* NULL: clpool's default rule */
    const char *json;   /* NULL: no JSON file */
    const char *only;   /* NULL: every layer */
    int runs;           /* 0 until parsed: then the default or --quick's */
    int warmup;
    int stream_runs;
    int quick;
} options;

/* One table row: a layer's measurements, or the error that stopped it. */
typedef struct row {
    const bench_layer *layer;
    int ok;
    char error[BENCH_ERROR_MAX];
    double plan_s;
    const char *plan_source; /* where the first plan's program came from */
    size_t launches;
    size_t copies;
    double bytes; /* input + output per run */
    double median_s;
    double min_s;
    int peer_ok;
    double peer_s;
    double peer_min_s;
    char peer_impl[64];
    char peer_error[BENCH_ERROR_MAX];
    double other_percent; /* CPU share other processes took during the row, -1 unknown */
} row;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clpool-bench [--device SPEC] [--runs N] [--json FILE] [--only NAME[,NAME]]\n"
            "                    [--quick]\n"
            "  --device SPEC  clpool device spec: gpu, cpu, P:D or part of the name\n"
            "  --runs N       timed runs per layer (default %d; --quick: %d)\n"
            "  --json FILE    also write the table as a JSON list\n"
            "  --only LIST    comma-separated layer names:",
            DEFAULT_RUNS, QUICK_RUNS);
    for (size_t i = 0; i < bench_layer_count; i++)
        fprintf(out, " %s", bench_layers[i].name);
    fprintf(out, "\n  --quick        CI smoke: %d runs, %d warm-ups\n", QUICK_RUNS, QUICK_WARMUP);
}

/* 1 when @p name is in the comma list @p list (NULL: every name). */
static int in_list(const char *list, const char *name)
{
    if (list == NULL)
        return 1;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return 1;
        p += n + (end != NULL);
    }
    return 0;
}

/* Every name in @p list must be a layer; else complains and returns -1. */
static int check_only_list(const char *list)
{
    char name[64];
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        if (bench_layer_find(name) == NULL) {
            fprintf(stderr, "clpool-bench: --only: no layer called '%s'\n", name);
            return -1;
        }
        p += n + (end != NULL);
    }
    return 0;
}

/* The value of option @p flag, from "--flag=value" or the next argument. */
static const char *option_value(int argc, char **argv, int *i, const char *flag)
{
    size_t len = strlen(flag);
    if (strncmp(argv[*i], flag, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* Returns 0, 1 after --help, or -1 on a usage error (already reported). */
static int parse_options(int argc, char **argv, options *opt)
{
    memset(opt, 0, sizeof *opt);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            opt->quick = 1;
        } else if ((v = option_value(argc, argv, &i, "--device")) != NULL) {
            opt->device = v;
        } else if ((v = option_value(argc, argv, &i, "--json")) != NULL) {
            opt->json = v;
        } else if ((v = option_value(argc, argv, &i, "--only")) != NULL) {
            if (check_only_list(v) != 0)
                return -1;
            opt->only = v;
        } else if ((v = option_value(argc, argv, &i, "--runs")) != NULL) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > 100000) {
                fprintf(stderr, "clpool-bench: --runs must be an integer from 1 to 100000, not '%s'\n",
                        v);
                return -1;
            }
            opt->runs = (int)n;
        } else {
            fprintf(stderr, "clpool-bench: unknown option or missing value: '%s'\n", argv[i]);
            usage(stderr);
            return -1;
        }
    }
    if (opt->runs == 0)
        opt->runs = opt->quick ? QUICK_RUNS : DEFAULT_RUNS;
    opt->warmup = opt->quick ? QUICK_WARMUP : DEFAULT_WARMUP;
    opt->stream_runs = opt->quick ? 3 : 10;
    return 0;
}

/* Measures one layer: sets up and checks clpool and the peer on the same
 * data, then times them in alternating blocks. Each layer gets a fresh
 * context, so its first plan is a real build whatever other layers ran
 * before (a shared context would serve it from memory). */
static void bench_layer_row(const clpool_context_options *copt, const options *opt, size_t index,
                            row *r)
{
    const bench_layer *layer = r->layer;
    size_t in_elems = bench_layer_input_elements(layer);
    size_t out_elems = bench_layer_output_elements(layer);
    float *input = malloc(in_elems * sizeof *input);
    clpool_context *ctx = NULL;
    bench_clpool_side *mine = NULL;
    bench_runner runners[2];
    bench_runner_result results[2];
    size_t count = 0;
    bench_plan_info plan;
    bench_timing timing = {opt->warmup, opt->runs, BLOCK_RUNS};

    r->bytes = (double)(in_elems + out_elems) * sizeof(float);
    /* Bandwidth rows rotate buffers so that every run reads from DRAM; a
     * latency row is a small layer whose input the previous layer just wrote,
     * so it runs warm on one copy, as it would in a network. */
    r->copies = layer->latency ? 1 : bench_rotation_copies((in_elems + out_elems) * sizeof(float));
    r->plan_source = "-";
    snprintf(r->peer_error, sizeof r->peer_error, "oneDNN not built in");
    if (input == NULL) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        return;
    }
    bench_fill_random(input, in_elems, INPUT_SEED + index);
    fprintf(stderr, "clpool-bench: %s: %zu rotating copies\n", layer->name, r->copies);

    clpool_status st = clpool_context_create(copt, &ctx);
    if (st != CLPOOL_SUCCESS) {
        snprintf(r->error, sizeof r->error, "clpool_context_create: %s",
                 clpool_status_string(st));
    } else if (bench_clpool_open(ctx, layer, input, r->copies, &mine, &plan, r->error,
                                 sizeof r->error) == 0) {
        runners[count++] = bench_clpool_runner(mine);
    }
    if (ctx) {
        r->plan_s = plan.plan_s;
        r->plan_source = plan.source;
        r->launches = plan.launches;
    }
#ifdef HAVE_ONEDNN
    bench_onednn_side *peer = NULL;
    if (bench_onednn_open(layer, input, r->copies, &peer, r->peer_impl, sizeof r->peer_impl,
                          r->peer_error, sizeof r->peer_error) == 0)
        runners[count++] = bench_onednn_runner(peer);
#endif

    bench_time_runners(runners, count, &timing, results);
    for (size_t i = 0; i < count; i++) {
        int is_mine = runners[i].self == mine;
        if (is_mine) {
            r->ok = results[i].ok;
            r->median_s = results[i].median_s;
            r->min_s = results[i].min_s;
        } else {
            r->peer_ok = results[i].ok;
            r->peer_s = results[i].median_s;
            r->peer_min_s = results[i].min_s;
        }
        if (!results[i].ok)
            memcpy(is_mine ? r->error : r->peer_error, results[i].error, BENCH_ERROR_MAX);
    }

#ifdef HAVE_ONEDNN
    bench_onednn_close(peer);
#endif
    bench_clpool_close(mine);
    clpool_context_destroy(ctx);
    free(input);
}

/* "5.123 ms" or, for a latency layer, "45.6 us". */
static void format_time(char *buf, size_t len, double seconds, int latency)
{
    if (latency)
        snprintf(buf, len, "%.1f us", seconds * 1e6);
    else
        snprintf(buf, len, "%.3f ms", seconds * 1e3);
}

static void print_table(const row *rows, size_t count, double stream_gb_s)
{
    printf("%-12s %-18s %-15s %10s %8s %11s %7s %7s %11s %9s  %s\n", "name", "op", "shape",
           "plan ms", "source", "clpool", "GB/s", "bw_frac", "oneDNN", "vs_onednn", "oneDNN impl");
    for (size_t i = 0; i < count; i++) {
        const row *r = &rows[i];
        char op[48], shape[48], t[32], peer_t[32];
        bench_layer_op_string(r->layer, op, sizeof op);
        bench_layer_shape_string(r->layer, shape, sizeof shape);
        if (!r->ok) {
            printf("%-12s %-18s %-15s ERROR: %s\n", r->layer->name, op, shape, r->error);
            continue;
        }
        double gb_s = r->bytes / r->median_s * 1e-9;
        format_time(t, sizeof t, r->median_s, r->layer->latency);
        if (r->peer_ok)
            format_time(peer_t, sizeof peer_t, r->peer_s, r->layer->latency);
        else
            snprintf(peer_t, sizeof peer_t, "-");
        printf("%-12s %-18s %-15s %10.1f %8s %11s %7.2f %7.2f %11s ", r->layer->name, op, shape,
               r->plan_s * 1e3, r->plan_source, t, gb_s, gb_s / stream_gb_s, peer_t);
        if (r->peer_ok)
            printf("%9.2f  %s\n", r->peer_s / r->median_s, r->peer_impl);
        else
            printf("%9s  %s\n", "-", r->peer_error);
    }
    for (size_t i = 0; i < count; i++)
        if (rows[i].other_percent > NOISY_PERCENT)
            printf("warning: other processes used %.1f%% of the CPUs during %s: its times are "
                   "not trustworthy\n",
                   rows[i].other_percent, rows[i].layer->name);
#ifdef HAVE_ONEDNN
    for (size_t i = 0; i < count; i++)
        if (rows[i].ok && !rows[i].peer_ok && rows[i].peer_error[0])
            fprintf(stderr, "clpool-bench: %s: oneDNN peer: %s\n", rows[i].layer->name,
                    rows[i].peer_error);
#endif
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

static int write_json(const char *path, const row *rows, size_t count, const char *device,
                      double stream_gb_s, int runs)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "clpool-bench: cannot write %s\n", path);
        return -1;
    }
    fputs("[\n", f);
    for (size_t i = 0; i < count; i++) {
        const row *r = &rows[i];
        char op[48], shape[48];
        bench_layer_op_string(r->layer, op, sizeof op);
        bench_layer_shape_string(r->layer, shape, sizeof shape);
        double gb_s = r->ok ? r->bytes / r->median_s * 1e-9 : 0.0;
        int vs = r->ok && r->peer_ok;
        fputs("  {\"name\": ", f);
        json_string(f, r->layer->name);
        fputs(", \"op\": ", f);
        json_string(f, op);
        fputs(", \"shape\": ", f);
        json_string(f, shape);
        fputs(", \"ms\": ", f);
        json_number(f, r->ok, r->median_s * 1e3);
        fputs(", \"gb_s\": ", f);
        json_number(f, r->ok, gb_s);
        fputs(", \"bw_fraction\": ", f);
        json_number(f, r->ok, gb_s / stream_gb_s);
        fputs(", \"ms_min\": ", f);
        json_number(f, r->ok, r->min_s * 1e3);
        fputs(", \"onednn_ms\": ", f);
        json_number(f, r->peer_ok, r->peer_s * 1e3);
        fputs(", \"onednn_ms_min\": ", f);
        json_number(f, r->peer_ok, r->peer_min_s * 1e3);
        fputs(", \"vs_onednn\": ", f);
        json_number(f, vs, vs ? r->peer_s / r->median_s : 0.0);
        fputs(", \"onednn_impl\": ", f);
        if (r->peer_ok)
            json_string(f, r->peer_impl);
        else
            fputs("null", f);
        fputs(", \"plan_ms\": ", f);
        json_number(f, r->plan_s > 0.0, r->plan_s * 1e3);
        fputs(", \"plan_source\": ", f);
        json_string(f, r->plan_source);
        fprintf(f, ", \"launches\": %zu, \"copies\": %zu, \"runs\": %d, \"bytes\": %.0f",
                r->launches, r->copies, runs, r->bytes);
        fputs(", \"device\": ", f);
        json_string(f, device);
        fputs(", \"stream_gb_s\": ", f);
        json_number(f, 1, stream_gb_s);
        fputs(", \"other_cpu_percent\": ", f);
        json_number(f, r->other_percent >= 0.0, r->other_percent);
        fputs(", \"error\": ", f);
        if (r->ok)
            fputs("null", f);
        else
            json_string(f, r->error);
        fputs(", \"onednn_error\": ", f);
        if (r->peer_ok)
            fputs("null", f);
        else
            json_string(f, r->peer_error);
        fprintf(f, "}%s\n", i + 1 < count ? "," : "");
    }
    fputs("]\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "clpool-bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options opt;
    int parsed = parse_options(argc, argv, &opt);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;

    int exit_code = 1;
    clpool_context *ctx = NULL;
    row *rows = calloc(bench_layer_count, sizeof *rows);
    size_t count = 0;
    clpool_context_options copt;
    memset(&copt, 0, sizeof copt);
    copt.device = opt.device;
    copt.disable_disk_cache = 1; /* the plan column is a real compile */
    if (rows == NULL) {
        fprintf(stderr, "clpool-bench: out of host memory\n");
        goto done;
    }
    bench_load_mark run_start, run_end;
    bench_load_mark_now(&run_start);
    clpool_status st = clpool_context_create(&copt, &ctx);
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "clpool-bench: clpool_context_create: %s\n", clpool_status_string(st));
        goto done;
    }
    clpool_device_info info;
    clpool_context_device_info(ctx, &info);

    char err[256];
    bench_stream_result stream;
    if (bench_stream_bandwidth(clpool_context_cl_context(ctx), clpool_context_cl_device(ctx),
                               clpool_context_cl_queue(ctx), STREAM_BYTES, opt.stream_runs, &stream,
                               err, sizeof err) != 0) {
        fprintf(stderr, "clpool-bench: %s\n", err);
        goto done;
    }

    char peer_version[64] = "oneDNN not built in";
#ifdef HAVE_ONEDNN
    bench_onednn_version(peer_version, sizeof peer_version);
#endif
    printf("clpool %s on %s (%s, driver %s)\n", clpool_version(), info.device_name,
           info.platform_version, info.driver_version);
    printf("stream copy: %.2f GB/s (float4, 2 x %zu MiB, local size %zu, median of %d)\n",
           stream.gb_s, stream.bytes_per_buffer >> 20, stream.local_size, stream.runs);
    printf("timing: median of %d runs after %d warm-ups, enqueue + clFinish wall time, in blocks "
           "of %d alternating with the peer (%s)\n",
           opt.runs, opt.warmup, BLOCK_RUNS, peer_version);
    fflush(stdout);

    for (size_t i = 0; i < bench_layer_count; i++) {
        if (!in_list(opt.only, bench_layers[i].name))
            continue;
        bench_load_mark before, after;
        rows[count].layer = &bench_layers[i];
        bench_load_mark_now(&before);
        bench_layer_row(&copt, &opt, i, &rows[count]);
        bench_load_mark_now(&after);
        rows[count].other_percent = bench_load_other_percent(&before, &after);
        count++;
    }

    /* Other jobs on the machine skew absolute times (less so the ratios). */
    bench_load_mark_now(&run_end);
    printf("other processes used %.1f%% of the CPUs during the run\n\n",
           bench_load_other_percent(&run_start, &run_end));
    print_table(rows, count, stream.gb_s);

    exit_code = 0;
    for (size_t i = 0; i < count; i++)
        if (!rows[i].ok)
            exit_code = 1;
    if (opt.json && write_json(opt.json, rows, count, info.device_name, stream.gb_s, opt.runs) != 0)
        exit_code = 1;
done:
    clpool_context_destroy(ctx);
    free(rows);
    return exit_code;
}
