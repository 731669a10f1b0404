/*
 * The roi tcase of test_cli.c (included there, sharing its helpers):
 * roi-max and roi-align through the program: the spec's worked examples
 * (spec section 8), layouts and --spatial-scale, usage and input errors.
 */

/* x = arange(16) as (1, 1, 4, 4), or (1, 4, 4, 1) read channels last. */
static void write_arange16(void)
{
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
}

/* §8.1's worked example: box [0, 0.5,0.5, 2.5,2.5], 2x2 bins: rounding half
 * away from zero gives rows and columns 1..3; int64 indices on request. */
START_TEST(test_roi_max_worked_example)
{
    write_arange16();
    const float box[5] = {0, 0.5f, 0.5f, 2.5f, 2.5f};
    write_f32("rois.npy", (size_t[]){1, 5}, 2, box);
    struct result r = RUN("run", "roi-max", "--rois", "rois.npy", "--output-size", "2", "--indices",
                          "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 1, 2, 2)", 4, 8);
    const float want[4] = {10, 11, 14, 15};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(out[i] == want[i], "bin %d: %g, want %g", i, out[i], want[i]);
        ck_assert_msg(idx[i] == (int64_t)want[i], "bin %d: index %lld", i, (long long)idx[i]);
    }
    free(out);
    free(idx);
}
END_TEST

/* §8.2's worked examples, with the boxes as float32, float16 and float64. */
START_TEST(test_roi_align_worked_examples)
{
    write_arange16();
    const struct {
        float box[5];
        const char *size, *sampling, *aligned, *shape;
        int bins;
        float want[4];
    } ex[] = {
        {{0, 0, 0, 2, 2}, "1", "2", "0", "(1, 1, 1, 1)", 1, {5.0f}},
        {{0, 0, 0, 2, 2}, "1", "2", "1", "(1, 1, 1, 1)", 1, {2.5f}},
        {{0, 1, 1, 1, 1}, "2", "0", "1", "(1, 1, 2, 2)", 4, {0, 0, 0, 0}},
        {{0, 1, 1, 1, 1}, "2", "-1", "0", "(1, 1, 2, 2)", 4, {6.25f, 6.75f, 8.25f, 8.75f}},
    };
    for (size_t e = 0; e < sizeof ex / sizeof ex[0]; e++)
        for (int dt = 0; dt < 3; dt++) {
            if (dt == 0) {
                write_f32("rois.npy", (size_t[]){1, 5}, 2, ex[e].box);
            } else if (dt == 1) {
                uint16_t h[5]; /* small integers: exact in float16 */
                for (int j = 0; j < 5; j++)
                    h[j] = ex[e].box[j] == 0 ? 0 : ex[e].box[j] == 1 ? 0x3C00 : 0x4000;
                write_typed("rois.npy", "<f2", 2, (size_t[]){1, 5}, 2, h);
            } else {
                double d[5];
                for (int j = 0; j < 5; j++)
                    d[j] = ex[e].box[j];
                write_typed("rois.npy", "<f8", 8, (size_t[]){1, 5}, 2, d);
            }
            struct result r = RUN("run", "roi-align", "--rois", "rois.npy", "--output-size",
                                  ex[e].size, "--sampling-ratio", ex[e].sampling, "--aligned",
                                  ex[e].aligned, "in.npy", "out.npy");
            if (dt == 2 && r.status == 3 && strstr(r.err, "float64")) { /* no cl_khr_fp64 */
                result_free(&r);
                continue;
            }
            expect_success(r);
            result_free(&r);
            float *out = read_npy("out.npy", "<f4", ex[e].shape, (size_t)ex[e].bins, 4);
            for (int i = 0; i < ex[e].bins; i++)
                ck_assert_msg(fabsf(out[i] - ex[e].want[i]) <= 1e-6f,
                              "example %zu (box dtype %d) bin %d: %.9g, want %g", e, dt, i, out[i],
                              ex[e].want[i]);
            free(out);
        }
}
END_TEST

/* Two boxes over two samples and three channels: the nhwc result is the
 * nchw one transposed, box by box, and --spatial-scale maps the boxes. */
START_TEST(test_roi_layouts_and_scale)
{
    float x[2 * 3 * 5 * 6], xt[2 * 5 * 6 * 3];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int s = 0; s < 30; s++) {
                float v = (float)((n * 7 + c * 13 + s * 5) % 17) - 8.0f;
                x[(n * 3 + c) * 30 + s] = v;
                xt[(n * 30 + s) * 3 + c] = v;
            }
    write_f32("in.npy", (size_t[]){2, 3, 5, 6}, 4, x);
    write_f32("in_t.npy", (size_t[]){2, 5, 6, 3}, 4, xt);
    /* Image coordinates at scale 0.5. */
    const float boxes[10] = {1, 1, 2, 9, 7, 0.9f, -3, -1, 5, 12};
    write_f32("rois.npy", (size_t[]){2, 5}, 2, boxes);
    static const char *const ops[] = {"roi-max", "roi-align"};
    for (int o = 0; o < 2; o++) {
        struct result r = RUN("run", ops[o], "--rois", "rois.npy", "--output-size", "2,3",
                              "--spatial-scale", "0.5", "in.npy", "out.npy");
        expect_success(r);
        result_free(&r);
        r = RUN("run", ops[o], "--rois", "rois.npy", "--output-size", "2,3", "--spatial-scale",
                "0.5", "--layout", "nhwc", "in_t.npy", "out_t.npy");
        expect_success(r);
        result_free(&r);
        float *a = read_npy("out.npy", "<f4", "(2, 3, 2, 3)", 36, 4);
        float *b = read_npy("out_t.npy", "<f4", "(2, 2, 3, 3)", 36, 4);
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < 3; c++)
                for (int s = 0; s < 6; s++)
                    ck_assert_msg(a[(k * 3 + c) * 6 + s] == b[(k * 6 + s) * 3 + c],
                                  "%s box %d channel %d bin %d: nchw %g, nhwc %g", ops[o], k, c, s,
                                  a[(k * 3 + c) * 6 + s], b[(k * 6 + s) * 3 + c]);
        free(a);
        free(b);
        unlink("out.npy");
        unlink("out_t.npy");
    }
    /* Box 0 over sample 1 at scale 0.5: columns 1..5 (round(4.5) = 5), rows
     * 1..4; the max of its first bin (rows 1..2, columns 1..2) by hand. */
    struct result r = RUN("run", "roi-max", "--rois", "rois.npy", "--output-size", "2,3",
                          "--spatial-scale", "0.5", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *a = read_npy("out.npy", "<f4", "(2, 3, 2, 3)", 36, 4);
    float m = -INFINITY;
    for (int y = 1; y <= 2; y++)
        for (int xx = 1; xx <= 2; xx++)
            m = fmaxf(m, x[(1 * 3 + 0) * 30 + y * 6 + xx]);
    ck_assert_msg(a[0] == m, "box 0 bin 0: %g, want %g", a[0], m);
    free(a);
}
END_TEST

START_TEST(test_roi_errors)
{
    write_arange16();
    const float good[5] = {0, 0, 0, 2, 2};
    write_f32("rois.npy", (size_t[]){1, 5}, 2, good);
    /* Usage (2): a missing required option, an option of the other OP. */
    EXPECT_FAILURE(2, "needs --rois", "run", "roi-align", "--output-size", "2", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "needs --output-size", "run", "roi-max", "--rois", "rois.npy", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "roi-max", "--rois", "rois.npy", "--output-size",
                   "2", "--aligned", "1", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "roi-align", "--rois", "rois.npy", "--output-size",
                   "2", "--indices", "idx.npy", "in.npy", "out.npy");
    /* Bad input (3): parameters, the boxes file, the batch index. */
    EXPECT_FAILURE(3, "--spatial-scale 0", "run", "roi-align", "--rois", "rois.npy",
                   "--output-size", "2", "--spatial-scale", "0", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--spatial-scale nan", "run", "roi-max", "--rois", "rois.npy",
                   "--output-size", "2", "--spatial-scale", "nan", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--output-size", "run", "roi-max", "--rois", "rois.npy", "--output-size", "0",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(3, "takes 1 (square bins) or 2", "run", "roi-max", "--rois", "rois.npy",
                   "--output-size", "2,2,2", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "sampling_ratio = 5000", "run", "roi-align", "--rois", "rois.npy",
                   "--output-size", "2", "--sampling-ratio", "5000", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "cannot open", "run", "roi-align", "--rois", "missing.npy", "--output-size",
                   "2", "in.npy", "out.npy");
    write_f32("rois4.npy", (size_t[]){2, 4}, 2, (const float[8]){0});
    EXPECT_FAILURE(3, "is not (K, 5)", "run", "roi-align", "--rois", "rois4.npy", "--output-size",
                   "2", "in.npy", "out.npy");
    const int64_t ints[5] = {0, 0, 0, 2, 2};
    write_typed("roisi.npy", "<i8", 8, (size_t[]){1, 5}, 2, ints);
    EXPECT_FAILURE(3, "not a box dtype", "run", "roi-max", "--rois", "roisi.npy", "--output-size",
                   "2", "in.npy", "out.npy");
    const float bad[3][5] = {{NAN, 0, 0, 2, 2}, {1, 0, 0, 2, 2}, {-1, 0, 0, 2, 2}};
    for (int i = 0; i < 3; i++) {
        float two[10] = {0, 0, 0, 1, 1};
        memcpy(two + 5, bad[i], sizeof bad[i]);
        write_f32("roisb.npy", (size_t[]){2, 5}, 2, two);
        EXPECT_FAILURE(3, "box 1 has batch index", "run", "roi-max", "--rois", "roisb.npy",
                       "--output-size", "2", "--indices", "idx.npy", "in.npy", "out.npy");
        EXPECT_FAILURE(3, "box 1 has batch index", "run", "roi-align", "--rois", "roisb.npy",
                       "--output-size", "2", "in.npy", "out.npy");
    }
    /* Region pooling takes 2-D maps only. */
    write_f32("in3.npy", (size_t[]){1, 1, 16}, 3, (const float[16]){0});
    EXPECT_FAILURE(3, "rank 4", "run", "roi-align", "--rois", "rois.npy", "--output-size", "2",
                   "in3.npy", "out.npy");
}
END_TEST
