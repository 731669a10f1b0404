/*
 * clpool-bench: times clpool on a table of real network pooling layers and
 * prints, per layer, the median time, GB/s, the fraction of the measured
 * stream bandwidth and the ratios to oneDNN and XNNPACK on the same machine
 * (README.md). This file holds main, the options and the sequence of one row
 * (clpool_side.c, the peers and timing.c do the work; report.c prints).
 */
#include "clpool_side.h"
#include "unpool_side.h"
#include "dtype.h"
#include "layers.h"
#include "load.h"
#include "report.h"
#include "row.h"
#include "stream.h"
#include "timing.h"
#include "util.h"
#ifdef HAVE_ONEDNN
#include "onednn_peer.h"
#endif
#ifdef HAVE_XNNPACK
#include "xnnpack_peer.h"
#endif

#include "clpool.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_BYTES ((size_t)256 << 20) /* source + destination */
#define DEFAULT_RUNS 30
#define DEFAULT_WARMUP 5
#define QUICK_RUNS 5
#define QUICK_WARMUP 2
#define INPUT_SEED 20240601u
#define BLOCK_RUNS 5 /* timed runs per block; see timing.h */
/* A row that has not finished after this long is taken to hang (a library or
 * runtime deadlock): the bench stops with exit status 1 instead of waiting. */
#ifndef ROW_TIMEOUT_S
#define ROW_TIMEOUT_S 900u
#endif

/* The watchdog's message for the current row, written before it is armed
 * (the handler may only call async-signal-safe functions). */
static char watchdog_message[160];
static size_t watchdog_length;

static void watchdog_fired(int sig)
{
    (void)sig;
    ssize_t ignored = write(STDERR_FILENO, watchdog_message, watchdog_length);
    (void)ignored;
    _exit(1);
}

/* Arms the watchdog for the row @p name. */
static void watchdog_arm(const char *name)
{
    int n = snprintf(watchdog_message, sizeof watchdog_message,
                     "clpool-bench: %s did not finish within %u s; stopping (a hang in the "
                     "library or the OpenCL runtime?)\n",
                     name, ROW_TIMEOUT_S);
    watchdog_length = n < 0                                 ? 0
                      : (size_t)n < sizeof watchdog_message ? (size_t)n
                                                            : sizeof watchdog_message - 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = watchdog_fired;
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
    alarm(ROW_TIMEOUT_S);
}

typedef struct options {
    const char *device; /* NULL: clpool's default rule */
    const char *json;   /* NULL: no JSON file */
    const char *png;    /* NULL: the JSON path with .png, or no chart without --json */
    const char *only;   /* NULL: every layer */
    int runs;           /* 0 until parsed: then the default or --quick's */
    int warmup;
    int stream_runs;
    int quick;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clpool-bench [--device SPEC] [--runs N] [--json FILE] [--png FILE]\n"
            "                    [--only NAME[,NAME]] [--quick]\n"
            "  --device SPEC  clpool device spec: gpu, cpu, P:D or part of the name\n"
            "  --runs N       timed runs per layer (default %d; --quick: %d)\n"
            "  --json FILE    also write the table as a JSON list\n"
            "  --png FILE     also draw the GB/s chart (default with --json: FILE.json -> "
            "FILE.png)\n"
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
        } else if ((v = option_value(argc, argv, &i, "--png")) != NULL) {
            opt->png = v;
        } else if ((v = option_value(argc, argv, &i, "--only")) != NULL) {
            if (check_only_list(v) != 0)
                return -1;
            opt->only = v;
        } else if ((v = option_value(argc, argv, &i, "--runs")) != NULL) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > 100000) {
                fprintf(stderr,
                        "clpool-bench: --runs must be an integer from 1 to 100000, not '%s'\n", v);
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

/* Opens the peers that apply to the layer and adds their runners; a peer
 * that does not apply or fails to set up keeps its reason in the row. */
static void open_peers(const bench_layer *layer, const float *input, bench_row *r,
                       bench_runner *runners, size_t *count, void *sides[BENCH_PEER_COUNT])
{
    for (int p = 0; p < BENCH_PEER_COUNT; p++) {
        sides[p] = NULL;
        snprintf(r->peer[p].error, sizeof r->peer[p].error, "%s not built in", bench_peer_names[p]);
    }
#ifdef HAVE_ONEDNN
    bench_peer_result *dnn = &r->peer[BENCH_PEER_ONEDNN];
    bench_onednn_side *dnn_side = NULL;
    dnn->applies = bench_onednn_applies(layer, dnn->error, sizeof dnn->error);
    if (dnn->applies) {
        int rc = bench_onednn_open(layer, input, r->copies, &dnn_side, dnn->impl, sizeof dnn->impl,
                                   dnn->error, sizeof dnn->error);
        if (rc == 0) {
            runners[(*count)++] = bench_onednn_runner(dnn_side);
            sides[BENCH_PEER_ONEDNN] = dnn_side;
        }
        dnn->applies = rc <= 0;
    }
#endif
#ifdef HAVE_XNNPACK
    bench_peer_result *xnn = &r->peer[BENCH_PEER_XNNPACK];
    bench_xnnpack_side *xnn_side = NULL;
    xnn->applies = bench_xnnpack_applies(layer, xnn->error, sizeof xnn->error);
    if (xnn->applies && bench_xnnpack_open(layer, input, r->copies, &xnn_side, xnn->impl,
                                           sizeof xnn->impl, xnn->error, sizeof xnn->error) == 0) {
        runners[(*count)++] = bench_xnnpack_runner(xnn_side);
        sides[BENCH_PEER_XNNPACK] = xnn_side;
    }
#endif
    (void)layer;
    (void)input;
    (void)runners;
    (void)count;
}

static void close_peers(void *sides[BENCH_PEER_COUNT])
{
#ifdef HAVE_ONEDNN
    bench_onednn_close(sides[BENCH_PEER_ONEDNN]);
#endif
#ifdef HAVE_XNNPACK
    bench_xnnpack_close(sides[BENCH_PEER_XNNPACK]);
#endif
    (void)sides;
}

/* Measures one layer: sets up and checks clpool and the peers on the same
 * data, then times them in alternating blocks. Each layer gets a fresh
 * context, so its first plan is a real build whatever other layers ran
 * before (a shared context would serve it from memory). A plan that clpool
 * does not support yet leaves the row unsupported; the peers still run. */
static void bench_layer_row(const clpool_context_options *copt, const options *opt, size_t index,
                            bench_row *r)
{
    const bench_layer *layer = r->layer;
    size_t in_elems = bench_layer_input_elements(layer);
    size_t out_elems = bench_layer_output_elements(layer);
    float *input = malloc(in_elems * sizeof *input);
    clpool_context *ctx = NULL;
    bench_clpool_side *mine = NULL;
    bench_unpool_side *mine_unpool = NULL;
    void *peers[BENCH_PEER_COUNT];
    bench_runner runners[1 + BENCH_PEER_COUNT];
    bench_runner_result results[1 + BENCH_PEER_COUNT];
    size_t count = 0;
    bench_plan_info plan;
    bench_timing timing = {opt->warmup, opt->runs, BLOCK_RUNS};

    r->bytes = layer->unpool
                   ? bench_unpool_bytes(layer)
                   : (double)(in_elems + out_elems) * (double)bench_layer_elem_size(layer);
    /* Bandwidth rows rotate buffers so that every run reads from DRAM; a
     * latency row is a small layer whose input the previous layer just wrote,
     * so it runs warm on one copy, as it would in a network. */
    r->copies = layer->latency ? 1 : bench_rotation_copies((size_t)r->bytes);
    r->plan_source = "-";
    if (input == NULL) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        return;
    }
    /* Every side gets the same values: random floats rounded to the dtype. */
    bench_fill_random(input, in_elems, INPUT_SEED + index);
    bench_round_to_dtype(input, in_elems, layer->dtype);
    fprintf(stderr, "clpool-bench: %s: %zu rotating copies\n", layer->name, r->copies);

    clpool_status st = clpool_context_create(copt, &ctx);
    if (st != CLPOOL_SUCCESS) {
        snprintf(r->error, sizeof r->error, "clpool_context_create: %s", clpool_status_string(st));
    } else if (layer->unpool) {
        if (bench_unpool_open(ctx, layer, input, r->copies, &mine_unpool, &plan, r->error,
                              sizeof r->error) == 0)
            runners[count++] = bench_unpool_runner(mine_unpool);
        else
            r->unsupported = plan.unsupported;
    } else if (bench_clpool_open(ctx, layer, input, r->copies, &mine, &plan, r->error,
                                 sizeof r->error) == 0) {
        runners[count++] = bench_clpool_runner(mine);
    } else {
        r->unsupported = plan.unsupported;
    }
    if (ctx) {
        r->plan_s = plan.plan_s;
        r->plan_source = plan.source;
        r->launches = plan.launches;
    }
    open_peers(layer, input, r, runners, &count, peers);

    bench_time_runners(runners, count, &timing, results);
    for (size_t i = 0; i < count; i++) {
        if (runners[i].self == (void *)mine || runners[i].self == (void *)mine_unpool) {
            r->ok = results[i].ok;
            r->median_s = results[i].median_s;
            r->min_s = results[i].min_s;
            if (!results[i].ok)
                memcpy(r->error, results[i].error, BENCH_ERROR_MAX);
            continue;
        }
        for (int p = 0; p < BENCH_PEER_COUNT; p++) {
            if (runners[i].self != peers[p])
                continue;
            r->peer[p].ok = results[i].ok;
            r->peer[p].median_s = results[i].median_s;
            r->peer[p].min_s = results[i].min_s;
            if (!results[i].ok)
                memcpy(r->peer[p].error, results[i].error, BENCH_ERROR_MAX);
        }
    }

    close_peers(peers);
    bench_clpool_close(mine);
    bench_unpool_close(mine_unpool);
    clpool_context_destroy(ctx);
    free(input);
}

/* The chart's path: --png, else the JSON path with .json replaced by (or,
 * without that suffix, followed by) .png, else NULL. */
static char *chart_path(const options *opt)
{
    const char *base = opt->png ? opt->png : opt->json;
    if (base == NULL)
        return NULL;
    size_t len = strlen(base);
    char *path = malloc(len + 5);
    if (path == NULL)
        return NULL;
    memcpy(path, base, len + 1);
    if (opt->png == NULL) {
        if (len >= 5 && strcmp(base + len - 5, ".json") == 0)
            len -= 5;
        memcpy(path + len, ".png", 5);
    }
    return path;
}

int main(int argc, char **argv)
{
    options opt;
    int parsed = parse_options(argc, argv, &opt);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;

    int exit_code = 1;
    clpool_context *ctx = NULL;
    bench_row *rows = calloc(bench_layer_count, sizeof *rows);
    char *png = chart_path(&opt);
    size_t count = 0;
    clpool_context_options copt;
    memset(&copt, 0, sizeof copt);
    copt.device = opt.device;
    copt.disable_disk_cache = 1; /* the plan column is a real compile */
    if (rows == NULL || (png == NULL && (opt.png || opt.json))) {
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

    char dnn_version[64] = "oneDNN not built in", xnn_version[64] = "XNNPACK not built in";
#ifdef HAVE_ONEDNN
    bench_onednn_version(dnn_version, sizeof dnn_version);
#endif
#ifdef HAVE_XNNPACK
    bench_xnnpack_version(xnn_version, sizeof xnn_version);
#endif
    printf("clpool %s on %s (%s, driver %s)\n", clpool_version(), info.device_name,
           info.platform_version, info.driver_version);
    printf("stream copy: %.2f GB/s (float4, 2 x %zu MiB, local size %zu, median of %d)\n",
           stream.gb_s, stream.bytes_per_buffer >> 20, stream.local_size, stream.runs);
    printf("timing: median of %d runs after %d warm-ups, enqueue + clFinish wall time, in blocks "
           "of %d alternating with the peers (%s; %s)\n",
           opt.runs, opt.warmup, BLOCK_RUNS, dnn_version, xnn_version);
    fflush(stdout);

    for (size_t i = 0; i < bench_layer_count; i++) {
        if (!in_list(opt.only, bench_layers[i].name))
            continue;
        bench_load_mark before, after;
        rows[count].layer = &bench_layers[i];
        bench_load_mark_now(&before);
        watchdog_arm(bench_layers[i].name);
        bench_layer_row(&copt, &opt, i, &rows[count]);
        alarm(0);
        bench_load_mark_now(&after);
        rows[count].other_percent = bench_load_other_percent(&before, &after);
        count++;
    }

    /* Other jobs on the machine skew absolute times (less so the ratios). */
    bench_load_mark_now(&run_end);
    printf("other processes used %.1f%% of the CPUs during the run\n\n",
           bench_load_other_percent(&run_start, &run_end));
    bench_run_info run = {info.device_name, clpool_version(), stream.gb_s, opt.runs};
    bench_report_table(rows, count, &run);
    bench_report_targets(rows, count, &run);

    /* A plan clpool does not support yet is reported, not a failure. */
    exit_code = 0;
    for (size_t i = 0; i < count; i++)
        if (!rows[i].ok && !rows[i].unsupported)
            exit_code = 1;
    if (opt.json && bench_report_json(opt.json, rows, count, &run) != 0)
        exit_code = 1;
    if (png && bench_report_chart(png, rows, count, &run) != 0)
        exit_code = 1;
done:
    clpool_context_destroy(ctx);
    free(png);
    free(rows);
    return exit_code;
}
