/*
 * cache_probe: plans one fixed max-pooling op in a fresh context (disk cache
 * folder from $CLPOOL_CACHE_DIR, $CLPOOL_CACHE as the library reads them),
 * runs it, checks the result against the reference and prints the context's
 * cache counters as one line:
 *   builds=N disk_hits=N disk_rejects=N disk_writes=N memory_hits=N result=ok|wrong
 * Exit status: 0 correct, 1 wrong result, 2 a library call failed.
 * test_cache runs it in new processes to see the disk cache across them.
 */
#include "harness.h"
#include "reference.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    int rc = 2;
    clpool_context *ctx = NULL;
    clpool_plan *plan = NULL;
    float *x = NULL, *y = NULL;
    int64_t *idx = NULL;
    window_ref ref = {0};

    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = 3;
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    op.ceil_mode = 1;
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in;
    memset(&in, 0, sizeof in);
    in.dtype = CLPOOL_FLOAT32;
    in.layout = CLPOOL_NCHW;
    in.spatial_dims = 2;
    in.n = 2;
    in.c = 3;
    in.spatial[0] = 13;
    in.spatial[1] = 17;

    clpool_status st = clpool_context_create(NULL, &ctx);
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "cache_probe: context: %s\n", clpool_status_string(st));
        goto cleanup;
    }
    st = clpool_plan_window(ctx, &op, &in, &plan);
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "cache_probe: plan: %s\n", clpool_status_string(st));
        goto cleanup;
    }
    size_t in_elems = clpool_tensor_elements(&in);
    x = malloc(in_elems * sizeof *x);
    test_rng r = {7};
    if (!x || window_ref_compute(&ref, &op, &in, (fill_values(&r, x, in_elems, VALUES_TIES), x)))
        goto cleanup;
    y = malloc(ref.out_elems * sizeof *y);
    idx = malloc(ref.out_elems * sizeof *idx);
    if (!y || !idx)
        goto cleanup;
    poison_floats(y, ref.out_elems);
    poison_indices(idx, CLPOOL_INDICES_INT64, ref.out_elems);
    st = clpool_run_host(plan, NULL, x, y, idx);
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "cache_probe: run: %s\n", clpool_status_string(st));
        goto cleanup;
    }
    int budget = 10;
    size_t bad = window_compare(&ref, &op, &in, y, idx, "cache_probe", &budget);
    clpool_cache_stats s;
    if (clpool_context_cache_stats(ctx, &s) != CLPOOL_SUCCESS)
        goto cleanup;
    printf("builds=%" PRIu64 " disk_hits=%" PRIu64 " disk_rejects=%" PRIu64 " disk_writes=%" PRIu64
           " memory_hits=%" PRIu64 " result=%s\n",
           s.builds, s.disk_hits, s.disk_rejects, s.disk_writes, s.memory_hits,
           bad ? "wrong" : "ok");
    rc = bad ? 1 : 0;
cleanup:
    window_ref_free(&ref);
    free(x);
    free(y);
    free(idx);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
    return rc;
}
