/*
 * The "columns" tcase of the family suite: window_lanes' column walk
 * (kernels/lanes_columns.cl), which the library picks for lp and softmax over
 * overlapping rows of NCHW planes on CPUs. Parameter sets cover the window
 * heights, widths, row strides, padding, dilation along the row and ceil mode
 * it takes, every float dtype and 4, 8 and 16 lanes; shapes from a single
 * window to several chunks a row, with rows that reach the tensor's end.
 * Each case first checks that the plan took the column walk (its build
 * options, from the debug log), then its result against the reference.
 * Softmax cases include windows whose maximum lies far below the largest
 * value of the block (the per-window fallback), NaN and inf. The variant is
 * forced through $CLPOOL_TUNE_ROWS and $CLPOOL_TUNE_VW, so that it runs on
 * any device (oclgrind too, in the small mode).
 */
#include "family_gen.h"
#include "family_suite.h"
#include "storage.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The build options of the last plan, from the context's debug log. */
typedef struct plan_log {
    char options[1024];
} plan_log;

static void record_plan(void *user, clpool_log_level level, const char *message)
{
    plan_log *log = user;
    if (strstr(message, " planned: ")) {
        snprintf(log->options, sizeof log->options, "%s", message);
        return;
    }
    if (level <= CLPOOL_LOG_WARNING)
        fprintf(stderr, "clpool: %s\n", message);
}

static clpool_context *logging_context(plan_log *log)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = record_plan;
    o.log_user = log;
    clpool_context *ctx = NULL;
    clpool_status st = clpool_context_create(&o, &ctx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create: %s", clpool_status_string(st));
    return ctx;
}

/* One parameter set: window, row stride, padding and row dilation (the
 * column walk needs stride 1 and no dilation across rows). */
typedef struct column_set {
    clpool_op op;
    int kh, kw, sh, ph, pw, dw, ceil_mode;
} column_set;

static const column_set sets[] = {
    {CLPOOL_OP_LP, 3, 3, 1, 0, 0, 1, 0},      /* the bench's inception-lp */
    {CLPOOL_OP_SOFTMAX, 3, 3, 1, 1, 1, 1, 0}, /* the bench's inception-softmax */
    {CLPOOL_OP_LP, 2, 2, 1, 0, 0, 1, 1},      {CLPOOL_OP_LP, 3, 2, 2, 0, 0, 1, 1},
    {CLPOOL_OP_LP, 5, 3, 3, 0, 0, 1, 1},      {CLPOOL_OP_LP, 4, 5, 1, 0, 0, 1, 0},
    {CLPOOL_OP_SOFTMAX, 3, 3, 1, 0, 0, 1, 0}, {CLPOOL_OP_SOFTMAX, 3, 3, 2, 1, 1, 1, 1},
    {CLPOOL_OP_SOFTMAX, 2, 3, 1, 1, 2, 2, 0}, {CLPOOL_OP_SOFTMAX, 5, 5, 1, 2, 2, 1, 0},
    {CLPOOL_OP_SOFTMAX, 4, 2, 3, 2, 1, 1, 1}, {CLPOOL_OP_SOFTMAX, 2, 4, 1, 0, 3, 2, 1},
};
#define SET_COUNT (int)(sizeof sets / sizeof sets[0])

static const double lp_powers[] = {2.0, 1.0, 3.0, 4.0, 1.5, -1.0, 0.5, 2.5};
static const double betas[] = {1.0, 0.0, -1.0, 10.0, 0.5, 5.0, -3.0, 2.0};
static const family_values softmax_modes[] = {FV_UNIFORM, FV_SPECIAL,  FV_TIES,
                                              FV_NEG_INF, FV_POSITIVE, FV_UNIFORM};
static const family_values lp_modes[] = {FV_POSITIVE, FV_UNIFORM, FV_TIES, FV_SPECIAL, FV_SPARSE};

/* Lanes for set i: 16, 8 or 4, the narrower only where the window row
 * leaves half of them as outputs (what the library requires). */
static int set_lanes(const column_set *cs, int i)
{
    static const int widths[] = {16, 8, 4};
    int span = (cs->kw - 1) * cs->dw;
    for (int t = 0; t < 3; t++) {
        int vw = widths[(i + t) % 3];
        if (span <= vw / 2)
            return vw;
    }
    return 16;
}

static clpool_dtype set_dtype(int i, int has_fp64)
{
    static const clpool_dtype floats[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                          CLPOOL_FLOAT64};
    clpool_dtype t = floats[i % 4];
    return t == CLPOOL_FLOAT64 && !has_fp64 ? CLPOOL_FLOAT32 : t;
}

/* Softmax values whose windows far from a few large cells have their own
 * maximum far below the block's: those take the fallback, the others not. */
static void fill_spread(test_rng *r, family_case *c)
{
    family_alloc_input(c);
    c->mode = FV_UNIFORM;
    size_t planes = c->in.n * c->in.c, S = c->in.spatial[0] * c->in.spatial[1];
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t s = 0; s < S; s++) {
            double v = (double)rng_range(r, -1000, 1000) / 1000.0;
            if (rng_below(r, 40) == 0)
                v += 40.0 + rng_below(r, 30);
            family_put(c, pl, s, v);
        }
}

/* Sets an environment variable, returning its old value (malloc'ed) or NULL. */
static char *swap_env(const char *name, const char *value)
{
    const char *old = getenv(name);
    char *saved = old ? strdup(old) : NULL;
    setenv(name, value, 1);
    return saved;
}

static void restore_env(const char *name, char *saved)
{
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}

START_TEST(test_columns)
{
    int small = test_small_mode();
    int has_fp64 = family_device_has_fp64();
    plan_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = logging_context(&log);
    char *old_rows = swap_env("CLPOOL_TUNE_ROWS", "1");
    char *old_vw = getenv("CLPOOL_TUNE_VW") ? strdup(getenv("CLPOOL_TUNE_VW")) : NULL;
    char *old_columns =
        getenv("CLPOOL_TUNE_COLUMNS") ? strdup(getenv("CLPOOL_TUNE_COLUMNS")) : NULL;
    unsetenv("CLPOOL_TUNE_COLUMNS");
    test_rng r = {0xc01u};
    int budget = 40;
    size_t cases = 0, bad_cases = 0, bad_elements = 0, not_columns = 0;
    int nsets = small ? 2 : test_scaled(SET_COUNT);
    for (int i = 0; i < nsets; i++) {
        const column_set *cs = &sets[i];
        clpool_dtype dtype = small ? CLPOOL_FLOAT32 : set_dtype(i, has_fp64);
        /* float64 takes at most 4 lanes */
        if (dtype == CLPOOL_FLOAT64 && (cs->kw - 1) * cs->dw > 2)
            dtype = CLPOOL_FLOAT32;
        int vw = dtype == CLPOOL_FLOAT64 ? 4 : set_lanes(cs, i);
        char vw_text[8];
        snprintf(vw_text, sizeof vw_text, "%d", vw);
        setenv("CLPOOL_TUNE_VW", vw_text, 1);
        for (int v = small ? 3 : 0; v < (small ? 4 : 9); v++) {
            family_case c;
            memset(&c, 0, sizeof c);
            c.op.op = cs->op;
            c.op.kernel[0] = cs->kh;
            c.op.kernel[1] = cs->kw;
            c.op.stride[0] = cs->sh;
            c.op.stride[1] = 1;
            c.op.padding[0] = cs->ph;
            c.op.padding[1] = cs->pw;
            c.op.dilation[1] = cs->dw;
            c.op.ceil_mode = cs->ceil_mode;
            if (cs->op == CLPOOL_OP_LP)
                c.op.p = lp_powers[(i + v) % 8];
            else
                c.op.beta = betas[(i + 3 * v) % 8];
            /* widths: one window, around a chunk, several chunks */
            int span = (cs->kw - 1) * cs->dw + 1 - 2 * cs->pw;
            int cw = vw - (cs->kw - 1) * cs->dw;
            int widths[] = {span, cw + span - 1, cw + span,  2 * cw + span + 1,
                            45,   span + 1,      3 * cw + 2, 28,
                            17};
            int heights[] = {cs->kh - 2 * cs->ph, 7, 20, 5, 3 * cs->kh, 13, 9, 28, 4};
            int w = widths[v] < 1 ? 1 : widths[v];
            int h = heights[v] < cs->kh - 2 * cs->ph ? cs->kh - 2 * cs->ph : heights[v];
            if (h < 1)
                h = 1;
            size_t n = small ? 1 : (size_t)rng_range(&r, 1, 2);
            size_t ch = small ? 2 : (size_t)rng_range(&r, 1, 5);
            c.in = family_tensor(dtype, CLPOOL_NCHW, 2, n, ch, (size_t)h, (size_t)w, 0);
            if (ref_window_check(&c.op, &c.in, NULL) != CLPOOL_SUCCESS)
                continue;
            int lp_fractional = cs->op == CLPOOL_OP_LP && c.op.p != (double)(int)c.op.p;
            if (cs->op == CLPOOL_OP_SOFTMAX && v == 0) {
                /* a narrow spread: the columns skip their per-row checks */
                c.op.beta = 0.5;
                family_fill(&r, &c, FV_TIES);
            } else if (cs->op == CLPOOL_OP_SOFTMAX && v % 3 == 2) {
                fill_spread(&r, &c);
            } else if (cs->op == CLPOOL_OP_SOFTMAX)
                family_fill(&r, &c, softmax_modes[(i + v) % 6]);
            else
                family_fill(&r, &c, lp_fractional ? FV_POSITIVE : lp_modes[(i + v) % 5]);
            ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
            char label[64];
            snprintf(label, sizeof label, "columns VW=%d", vw);
            log.options[0] = '\0';
            family_result res;
            clpool_status st = family_run(ctx, &c, v % 4 == 1, v % 2, &r, &res, label);
            cases++;
            if (st != CLPOOL_SUCCESS) {
                bad_cases++;
                family_case_free(&c);
                continue;
            }
            if (!strstr(log.options, "-DCOLUMNS=1")) {
                char desc[512];
                describe_case(desc, sizeof desc, &c.op, &c.in);
                fprintf(stderr, "%s %s: not the column walk: %s\n", label, desc, log.options);
                not_columns++;
            }
            size_t e = family_compare(&c, &res, label, &budget);
            bad_elements += e;
            bad_cases += e != 0;
            family_result_free(&res);
            family_case_free(&c);
        }
    }
    restore_env("CLPOOL_TUNE_ROWS", old_rows);
    restore_env("CLPOOL_TUNE_VW", old_vw);
    if (old_columns)
        restore_env("CLPOOL_TUNE_COLUMNS", old_columns);
    printf("columns: %zu cases, %zu failing (%zu bad elements), %zu not planned as the column "
           "walk\n",
           cases, bad_cases, bad_elements, not_columns);
    fflush(stdout);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad_cases == 0 && not_columns == 0,
                  "%zu of %zu cases failed, %zu not planned as the column walk", bad_cases, cases,
                  not_columns);
}
END_TEST

void family_add_columns_tcases(Suite *s)
{
    TCase *tc = tcase_create("columns");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, test_columns);
    suite_add_tcase(s, tc);
}
