/*
 * Test rig of the "multidev" suite: two OpenCL devices of one platform
 * (PoCL with POCL_DEVICES="pthread basic" or "pthread pthread"), each with
 * its own cl_context or both in one, wrapped per device; a batch whose
 * reference result is one plan over the whole batch on device 0; and the
 * three ways of running a split (host arrays, one buffer set per part, one
 * shared buffer set), each with poisoned outputs and guard elements.
 */
#ifndef CLPOOL_TESTS_MULTIDEV_RIG_H
#define CLPOOL_TESTS_MULTIDEV_RIG_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* Error messages the contexts logged: a failing call sends exactly one. */
typedef struct rig_log {
    int errors;
    char last[1024];
} rig_log;

typedef struct rig {
    int shared;           /* 1: one cl_context holding both devices */
    cl_context cl_ctx[2]; /* the same context twice when shared */
    cl_device_id dev[2];  /* two distinct devices of one platform */
    cl_command_queue queue[2];
    clpool_context *pool[2];
    rig_log log;
} rig;

/* Opens the first platform with two devices (the test fails, naming
 * POCL_DEVICES, when there is none). */
void rig_open(rig *r, int shared);
void rig_close(rig *r);

/* A seeded float32 input and the whole batch's result of one plan on
 * device 0 (through clpool_run_host, outputs poisoned first). */
typedef struct batch {
    clpool_window_desc op;
    clpool_tensor_desc in, out;
    size_t in_elems, out_elems, idx_size; /* idx_size: bytes of an index, 0 for none */
    float *x;
    float *y_ref;
    void *idx_ref;
} batch;
void batch_make(batch *b, rig *r, const clpool_window_desc *op, const clpool_tensor_desc *in,
                uint64_t seed);
void batch_free(batch *b);

/* Fresh poisoned result arrays of the batch's output size (idx NULL when the
 * operator returns no indices); free both with free(). */
void batch_poisoned(const batch *b, float **y, void **idx);

/* Bitwise comparison with the reference; prints the first differences
 * under @p label (NULL: silent) and returns how many elements differ. */
size_t batch_diff(const batch *b, const float *y, const void *idx, const char *label);

/* Runs @p split through clpool_split_run_host (@p queues may be NULL). */
clpool_status run_split_host(clpool_split *split, const cl_command_queue *queues, const batch *b,
                             float *y, void *idx);

/* Runs @p split, whose part i runs on device devices[i], through
 * clpool_split_enqueue with one buffer set per part in the part's context
 * (the sub-batch at an element offset, guard elements around it), waits on
 * the returned events and gathers the shares into y and idx. Changed guards
 * are counted in *guard_errors. */
clpool_status run_split_parts(rig *r, clpool_split *split, const int *devices, size_t part_count,
                              const batch *b, float *y, void *idx, size_t *guard_errors);

/* The same with one buffer set holding the whole batch (io_count = 1) in
 * the context of device 0 (a shared rig). */
clpool_status run_split_whole(rig *r, clpool_split *split, const int *devices, size_t part_count,
                              const batch *b, float *y, void *idx, size_t *guard_errors);

#endif /* CLPOOL_TESTS_MULTIDEV_RIG_H */
