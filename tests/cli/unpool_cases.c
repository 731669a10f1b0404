/*
 * End-to-end cases of "clpool run fractional-max" and "clpool run
 * max-unpool" (spec §6, §7 and cli.md), included by test_cli.c (its file
 * helpers, RUN and EXPECT_FAILURE, uniform_draw). Registered as the tcase
 * "unpool".
 */

/* §6's worked example: 7x10 arange, k=(2,3), O=(4,5), samples [0.3, 0.8]. */
START_TEST(test_fractional_worked_example)
{
    float x[70];
    for (int i = 0; i < 70; i++)
        x[i] = (float)i;
    write_f32("in.npy", (size_t[]){1, 1, 7, 10}, 4, x);
    const float s[2] = {0.3f, 0.8f};
    write_f32("s.npy", (size_t[]){1, 1, 2}, 3, s);
    struct result r = RUN("run", "fractional-max", "--kernel", "2,3", "--output-size", "4,5",
                          "--samples", "s.npy", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 4, 5)", 20, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 1, 4, 5)", 20, 8);
    const int want[20] = {12, 14, 16, 17, 19, 22, 24, 26, 27, 29,
                          42, 44, 46, 47, 49, 62, 64, 66, 67, 69};
    for (int i = 0; i < 20; i++) {
        ck_assert_float_eq(out[i], (float)want[i]);
        ck_assert_int_eq(idx[i], want[i]);
    }
    free(out);
    free(idx);
    /* --output-ratio 0.5: int(7*0.5) = 3, int(10*0.5) = 5 */
    unlink("out.npy");
    r = RUN("run", "fractional-max", "--kernel", "2", "--output-ratio", "0.5", "--samples", "s.npy",
            "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    free(read_npy("out.npy", "<f4", "(1, 1, 3, 5)", 15, 4));
}
END_TEST

/* --seed S draws sample j of plane p as the documented generator's
 * (S, p, j): replaying those values through --samples gives the same bytes. */
START_TEST(test_fractional_seed_replay)
{
    enum { N = 2, C = 3, D = 6, H = 7, W = 9 };
    static float x[N * C * D * H * W];
    for (int i = 0; i < N * C * D * H * W; i++)
        x[i] = (float)((i * 7919) % 613) - 300.0f;
    write_f32("in.npy", (size_t[]){N, C, D, H, W}, 5, x);
    float s[N * C * 3];
    for (int p = 0; p < N * C; p++)
        for (int j = 0; j < 3; j++)
            s[p * 3 + j] = uniform_draw(12345, (uint64_t)p, (uint64_t)j);
    write_f32("s.npy", (size_t[]){N, C, 3}, 3, s);
    struct result r = RUN("run", "fractional-max", "--kernel", "2", "--output-size", "3,4,5",
                          "--seed", "12345", "--indices", "idx.npy", "in.npy", "a.npy");
    expect_success(r);
    result_free(&r);
    r = RUN("run", "fractional-max", "--kernel", "2", "--output-size", "3,4,5", "--samples",
            "s.npy", "--indices", "idx2.npy", "in.npy", "b.npy");
    expect_success(r);
    result_free(&r);
    size_t la = 0, lb = 0;
    char *a = read_bytes("a.npy", &la), *b = read_bytes("b.npy", &lb);
    ck_assert(a && b && la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);
    a = read_bytes("idx.npy", &la);
    b = read_bytes("idx2.npy", &lb);
    ck_assert(a && b && la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);
    /* another seed draws other windows */
    r = RUN("run", "fractional-max", "--kernel", "2", "--output-size", "3,4,5", "--seed", "7",
            "in.npy", "c.npy");
    expect_success(r);
    result_free(&r);
    a = read_bytes("a.npy", &la);
    b = read_bytes("c.npy", &lb);
    ck_assert(a && b && la == lb && memcmp(a, b, la) != 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_fractional_errors)
{
    const float x[70] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 7, 10}, 4, x);
    write_f32("in1d.npy", (size_t[]){1, 1, 70}, 3, x);
    const float s[4] = {0.3f, 0.8f, 1.0f, 0.5f};
    write_f32("s.npy", (size_t[]){1, 1, 2}, 3, s);
    write_f32("s_shape.npy", (size_t[]){1, 2, 2}, 3, s);
    write_f32("s_range.npy", (size_t[]){1, 1, 2}, 3, s + 1);
    const double s64[2] = {0.3, 0.8};
    write_typed("s64.npy", "<f8", 8, (size_t[]){1, 1, 2}, 3, s64);
    EXPECT_FAILURE(3, "too large relative to input height 7", "run", "fractional-max", "--kernel",
                   "2", "--output-size", "7,5", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "2-D and 3-D", "run", "fractional-max", "--kernel", "2", "--output-size", "5",
                   "in1d.npy", "out.npy");
    EXPECT_FAILURE(3, "between 0 and 1", "run", "fractional-max", "--kernel", "2", "--output-ratio",
                   "1.5", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "shape (1, 2, 2), but the input needs (1, 1, 2)", "run", "fractional-max",
                   "--kernel", "2", "--output-size", "3", "--samples", "s_shape.npy", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "samples must be in [0, 1)", "run", "fractional-max", "--kernel", "2",
                   "--output-size", "3", "--samples", "s_range.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "dtype float64", "run", "fractional-max", "--kernel", "2", "--output-size",
                   "3", "--samples", "s64.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "'missing.npy'", "run", "fractional-max", "--kernel", "2", "--output-size",
                   "3", "--samples", "missing.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--kernel has 3 values", "run", "fractional-max", "--kernel", "2,2,2",
                   "--output-size", "3", "in.npy", "out.npy");
}
END_TEST

/* §7's duplicates example: x=[[1,2],[3,4]], idx=[[0,0],[5,5]], k=2. */
START_TEST(test_unpool_worked_example)
{
    const float x[4] = {1, 2, 3, 4};
    const int64_t idx[4] = {0, 0, 5, 5};
    write_f32("in.npy", (size_t[]){1, 1, 2, 2}, 4, x);
    write_typed("ii.npy", "<i8", 8, (size_t[]){1, 1, 2, 2}, 4, idx);
    struct result r =
        RUN("run", "max-unpool", "--kernel", "2", "--indices-in", "ii.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 4, 4)", 16, 4);
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(out[i], i == 0 ? 2.0f : i == 5 ? 4.0f : 0.0f);
    free(out);
    /* an explicit size inside (default - stride, default + stride) */
    unlink("out.npy");
    r = RUN("run", "max-unpool", "--kernel", "2", "--output-size", "5,3", "--indices-in", "ii.npy",
            "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 1, 5, 3)", 15, 4);
    for (int i = 0; i < 15; i++)
        ck_assert_float_eq(out[i], i == 0 ? 2.0f : i == 5 ? 4.0f : 0.0f);
    free(out);
}
END_TEST

/* max with --indices, then max-unpool of its output: every maximum lands
 * where it came from (NCHW and NHWC, 1-D and 3-D). */
START_TEST(test_unpool_round_trip)
{
    static float x[2 * 3 * 4 * 6 * 8];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((i * 2654435761u) % 1000);
    const char *layouts[2] = {"nchw", "nhwc"};
    for (int l = 0; l < 2; l++) {
        if (l)
            write_f32("in.npy", (size_t[]){2, 4, 6, 8, 3}, 5, x);
        else
            write_f32("in.npy", (size_t[]){2, 3, 4, 6, 8}, 5, x);
        struct result r = RUN("run", "max", "--kernel", "2", "--layout", layouts[l], "--indices",
                              "idx.npy", "in.npy", "pooled.npy");
        expect_success(r);
        result_free(&r);
        r = RUN("run", "max-unpool", "--kernel", "2", "--layout", layouts[l], "--indices-in",
                "idx.npy", "pooled.npy", "back.npy");
        expect_success(r);
        result_free(&r);
        const char *shape = l ? "(2, 4, 6, 8, 3)" : "(2, 3, 4, 6, 8)";
        float *back = read_npy("back.npy", "<f4", shape, sizeof x / 4, 4);
        float *pooled = read_npy("pooled.npy", "<f4", l ? "(2, 2, 3, 4, 3)" : "(2, 3, 2, 3, 4)",
                                 2 * 3 * 2 * 3 * 4, 4);
        int64_t *idx = read_npy("idx.npy", "<i8", l ? "(2, 2, 3, 4, 3)" : "(2, 3, 2, 3, 4)",
                                2 * 3 * 2 * 3 * 4, 8);
        /* (n, c) of pooled element e, and where its index points in back */
        int nonzero = 0;
        for (size_t e = 0; e < 2 * 3 * 2 * 3 * 4; e++) {
            size_t c = l ? e % 3 : (e / 24) % 3, n = e / 72;
            size_t o = l ? (n * 192 + (size_t)idx[e]) * 3 + c : (n * 3 + c) * 192 + (size_t)idx[e];
            ck_assert_float_eq(back[o], pooled[e]);
        }
        for (size_t i = 0; i < sizeof x / 4; i++)
            nonzero += back[i] != 0;
        ck_assert_int_le(nonzero, 2 * 3 * 2 * 3 * 4);
        free(back);
        free(pooled);
        free(idx);
        unlink("idx.npy");
        unlink("pooled.npy");
        unlink("back.npy");
    }
}
END_TEST

START_TEST(test_unpool_errors)
{
    const float x[4] = {1, 2, 3, 4};
    const int64_t bad[4] = {0, 16, 5, 5}, good[4] = {0, 1, 2, 3};
    write_f32("in.npy", (size_t[]){1, 1, 2, 2}, 4, x);
    write_typed("bad.npy", "<i8", 8, (size_t[]){1, 1, 2, 2}, 4, bad);
    write_typed("shape.npy", "<i8", 8, (size_t[]){1, 1, 4}, 3, good);
    write_f32("float.npy", (size_t[]){1, 1, 2, 2}, 4, x);
    EXPECT_FAILURE(3, "index 16 at (n=0, c=0, position 1) is outside the output plane of 16", "run",
                   "max-unpool", "--kernel", "2", "--indices-in", "bad.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "one index per input element, shape (1, 1, 2, 2)", "run", "max-unpool",
                   "--kernel", "2", "--indices-in", "shape.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "indices files are int64", "run", "max-unpool", "--kernel", "2",
                   "--indices-in", "float.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "output_size[0] = 6", "run", "max-unpool", "--kernel", "2", "--output-size",
                   "6", "--indices-in", "bad.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--indices-in", "run", "max-unpool", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, NULL, "run", "max-unpool", "--kernel", "2", "--indices-in", "bad.npy",
                   "--samples", "s.npy", "in.npy", "out.npy");
}
END_TEST
