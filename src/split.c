/*
 * A batch split along N over several devices: divides a sample count by
 * weights, plans one ordinary window plan per part (a sub-batch whose
 * first_sample keeps the stochastic draws of the whole batch), and enqueues
 * every part after checking them all. The blocking host-array call is in
 * split_host.c.
 */
#include "split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where split-level failures are logged: the first part's context (NULL:
 * the default stderr sink). */
static const clpool_context *log_context(const clpool_split_part *parts, size_t part_count)
{
    return parts && part_count > 0 ? parts[0].context : NULL;
}

/* ---- dividing a count by weights ---------------------------------------- */

/* Weights become integers q_i = floor(w_i / sum w * 2^30), so that the
 * division below is exact integer arithmetic, the same on every machine. */
#define WEIGHT_SCALE 1073741824.0 /* 2^30 */

/* (n * q) / d and its remainder for q <= d < 2^31, without 128-bit
 * integers: n = hi * 2^32 + lo. */
static size_t mul_div(uint64_t n, uint64_t q, uint64_t d, uint64_t *rem)
{
    uint64_t hi = n >> 32, lo = n & 0xffffffffu;
    uint64_t a = hi * q; /* < 2^63 */
    uint64_t a_quot = a / d, a_rem = a % d;
    uint64_t b = (a_rem << 32) + lo * q; /* < 2^63 + 2^63 */
    *rem = b % d;
    return (size_t)((a_quot << 32) + b / d);
}

clpool_status clpool_split_counts(size_t n, const double *weights, size_t part_count,
                                  size_t *counts)
{
    if (!weights || !counts || part_count == 0)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_split_counts: %s",
                        part_count == 0 ? "part_count is 0"
                        : !weights      ? "weights is NULL"
                                        : "counts is NULL");
    double total = 0;
    for (size_t i = 0; i < part_count; i++) {
        if (!(weights[i] >= 0) || isinf(weights[i]))
            return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "clpool_split_counts: weights[%zu] = %g, but a weight must be finite "
                            "and >= 0",
                            i, weights[i]);
        total += weights[i];
    }
    if (!(total > 0) || isinf(total))
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_counts: the weights add up to %g, but their sum must be "
                        "finite and above 0",
                        total);
    uint64_t *q = calloc(part_count, 2 * sizeof *q); /* q_i, then the remainders */
    if (!q)
        return clp_fail(NULL, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    uint64_t *rem = q + part_count, sum_q = 0;
    for (size_t i = 0; i < part_count; i++) {
        q[i] = (uint64_t)floor(weights[i] / total * WEIGHT_SCALE);
        sum_q += q[i]; /* <= 2^30 + rounding: the floors stay below 2^31 */
    }
    clpool_status status = CLPOOL_SUCCESS;
    if (sum_q == 0) { /* only with more than 2^30 parts */
        status = clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                          "clpool_split_counts: %zu parts are too many to weigh", part_count);
        goto done;
    }
    size_t given = 0;
    for (size_t i = 0; i < part_count; i++) {
        counts[i] = mul_div(n, q[i], sum_q, &rem[i]);
        given += counts[i];
    }
    /* The n - given < part_count samples left go one each to the largest
     * remainders, the lower index first on a tie; a weight of 0 has
     * remainder 0 and never gets one (more parts than samples left have a
     * positive remainder). */
    for (; given < n; given++) {
        size_t best = 0;
        for (size_t i = 1; i < part_count; i++)
            if (rem[i] > rem[best])
                best = i;
        counts[best]++;
        rem[best] = 0;
    }
done:
    free(q);
    return status;
}

/* ---- planning ----------------------------------------------------------- */

void clpool_split_destroy(clpool_split *split)
{
    if (!split)
        return;
    for (size_t i = 0; i < split->part_count; i++)
        clpool_plan_destroy(split->parts[i].plan);
    free(split->parts);
    free(split);
}

/* Checks the parts before any plan is made: contexts, and counts that add up
 * to the batch without overflowing the sample numbers. */
static clpool_status check_parts(const clpool_split_part *parts, size_t part_count,
                                 const clpool_window_desc *op, const clpool_tensor_desc *input)
{
    const clpool_context *log = log_context(parts, part_count);
    size_t total = 0, last = 0;
    for (size_t i = 0; i < part_count; i++) {
        if (!parts[i].context)
            return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "clpool_split_window: part %zu has no context (NULL)", i);
        if (__builtin_add_overflow(total, parts[i].n, &total))
            return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "clpool_split_window: the part counts overflow size_t at part %zu", i);
    }
    if (total != input->n)
        return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_window: the parts take %zu samples in all, but the input "
                        "has N = %zu (the counts must add up to N)",
                        total, input->n);
    if (__builtin_add_overflow(op->first_sample, total, &last))
        return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_window: first_sample = %zu plus N = %zu overflows size_t",
                        op->first_sample, total);
    return CLPOOL_SUCCESS;
}

clpool_status clpool_split_window(const clpool_split_part *parts, size_t part_count,
                                  const clpool_window_desc *op, const clpool_tensor_desc *input,
                                  clpool_split **split)
{
    const clpool_context *log = log_context(parts, part_count);
    if (!parts || part_count == 0 || !op || !input || !split)
        return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_split_window: %s",
                        !parts            ? "parts is NULL"
                        : part_count == 0 ? "part_count is 0"
                        : !op             ? "op is NULL"
                        : !input          ? "input is NULL"
                                          : "split is NULL");
    clpool_status status = check_parts(parts, part_count, op, input);
    if (status != CLPOOL_SUCCESS)
        return status;
    clpool_split *s = calloc(1, sizeof *s);
    if (s)
        s->parts = calloc(part_count, sizeof *s->parts);
    if (!s || !s->parts) {
        free(s);
        return clp_fail(log, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    s->part_count = part_count;
    s->input = *input;
    size_t first = 0;
    for (size_t i = 0; i < part_count; i++) {
        clp_split_part *p = &s->parts[i];
        p->ctx = parts[i].context;
        p->first = first;
        p->n = parts[i].n;
        first += p->n;
        clpool_window_desc part_op = *op;
        part_op.first_sample = op->first_sample + p->first;
        clpool_tensor_desc part_input = *input;
        part_input.n = p->n;
        status = clpool_plan_window(p->ctx, &part_op, &part_input, &p->plan);
        if (status != CLPOOL_SUCCESS) {
            clpool_split_destroy(s);
            return status;
        }
    }
    s->output = s->parts[0].plan->output;
    s->output.n = input->n;
    *split = s;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_split_part_info(const clpool_split *split, size_t part, size_t *first_sample,
                                     size_t *n, clpool_plan **plan)
{
    if (!split)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_part_info: split is NULL");
    if (part >= split->part_count)
        return clp_fail(split->parts[0].ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_part_info: part = %zu, but the split has %zu parts", part,
                        split->part_count);
    const clp_split_part *p = &split->parts[part];
    if (first_sample)
        *first_sample = p->first;
    if (n)
        *n = p->n;
    if (plan)
        *plan = p->plan;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_split_output_desc(const clpool_split *split, clpool_tensor_desc *output)
{
    if (!split || !output)
        return clp_fail(split ? split->parts[0].ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_output_desc: %s is NULL", !split ? "split" : "output");
    *output = split->output;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_split_set_seed(clpool_split *split, uint64_t seed)
{
    if (!split)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_set_seed: split is NULL");
    /* Every part plans the same operator: the first one answers for all,
     * so either every part changes or none does. */
    clpool_status status = clpool_plan_set_seed(split->parts[0].plan, seed);
    for (size_t i = 1; i < split->part_count && status == CLPOOL_SUCCESS; i++)
        status = clpool_plan_set_seed(split->parts[i].plan, seed);
    return status;
}

/* ---- enqueuing ---------------------------------------------------------- */

/* What one part enqueues: its buffers and its queue's properties. */
typedef struct part_run {
    clpool_io io;
    cl_command_queue_properties props;
    cl_event event;
} part_run;

/* Part @p i's buffers: ios[i], or the whole-batch ios[0] with every bound
 * slot advanced to the part's first sample. */
static clpool_status part_io(const clpool_split *split, size_t i, const clpool_io *ios,
                             size_t io_count, const char *who, clpool_io *io)
{
    const clp_split_part *p = &split->parts[i];
    if (io_count != 1) {
        *io = ios[i];
        return CLPOOL_SUCCESS;
    }
    *io = ios[0];
    for (int b = 0; b < p->plan->binding_count; b++) {
        const clp_binding *bind = &p->plan->bindings[b];
        clpool_buffer *buf = clp_io_slot(io, bind);
        size_t skip = 0;
        if (clp_mul_overflow(p->first, clp_binding_per_sample(bind, p->n), &skip) ||
            __builtin_add_overflow(buf->offset, skip, &buf->offset))
            return clp_fail(p->ctx, CLPOOL_ERROR_INVALID_BUFFER,
                            "%s: the %s offset plus the part's first sample overflows size_t", who,
                            bind->name);
    }
    return CLPOOL_SUCCESS;
}

/* Every event of the wait list must belong to part @p p's cl_context. */
static clpool_status check_wait_list(const clp_split_part *p, const char *who, cl_uint count,
                                     const cl_event *list)
{
    for (cl_uint e = 0; e < count; e++) {
        cl_context ectx = NULL;
        cl_int err = list[e] ? clGetEventInfo(list[e], CL_EVENT_CONTEXT, sizeof ectx, &ectx, NULL)
                             : CL_INVALID_EVENT;
        if (err != CL_SUCCESS)
            return clp_fail(p->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "%s: event_wait_list[%u] is not a valid cl_event (%s)", who, e,
                            clp_cl_error_name(err));
        if (ectx != p->ctx->cl_ctx)
            return clp_fail(p->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "%s: event_wait_list[%u] belongs to another cl_context than the part "
                            "(with separate contexts, enqueue each part's plan with its own wait "
                            "list)",
                            who, e);
    }
    return CLPOOL_SUCCESS;
}

/* Checks part @p i completely (queue, buffers, wait list) and fills its run. */
static clpool_status check_part(const clpool_split *split, size_t i, const cl_command_queue *queues,
                                const clpool_io *ios, size_t io_count, cl_uint num_events,
                                const cl_event *wait_list, part_run *run)
{
    const clp_split_part *p = &split->parts[i];
    char who[96];
    snprintf(who, sizeof who, "clpool_split_enqueue: part %zu (%s)", i, p->plan->family->name);
    if (!queues[i])
        return clp_fail(p->ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "%s: queues[%zu] is NULL", who, i);
    clpool_status status = part_io(split, i, ios, io_count, who, &run->io);
    if (status == CLPOOL_SUCCESS)
        status = check_wait_list(p, who, num_events, wait_list);
    if (status == CLPOOL_SUCCESS)
        status = clp_enqueue_check(p->plan, queues[i], &run->io, num_events, wait_list, &run->props,
                                   who);
    return status;
}

clpool_status clpool_split_enqueue(clpool_split *split, const cl_command_queue *queues,
                                   const clpool_io *ios, size_t io_count,
                                   cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                   cl_event *events)
{
    if (!split || !queues || !ios)
        return clp_fail(split ? split->parts[0].ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_enqueue: %s is NULL",
                        !split    ? "split"
                        : !queues ? "queues"
                                  : "ios");
    const clpool_context *log = split->parts[0].ctx;
    size_t count = split->part_count;
    if (io_count != 1 && io_count != count)
        return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_enqueue: io_count = %zu, but it must be 1 (the whole batch "
                        "in shared buffers) or the part count %zu (one io per part)",
                        io_count, count);
    if ((num_events_in_wait_list > 0) != (event_wait_list != NULL))
        return clp_fail(log, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_split_enqueue: num_events_in_wait_list is %u but event_wait_list "
                        "is %s",
                        num_events_in_wait_list, event_wait_list ? "not NULL" : "NULL");
    part_run *runs = calloc(count, sizeof *runs);
    if (!runs)
        return clp_fail(log, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clpool_status status = CLPOOL_SUCCESS;
    for (size_t i = 0; i < count && status == CLPOOL_SUCCESS; i++)
        status = check_part(split, i, queues, ios, io_count, num_events_in_wait_list,
                            event_wait_list, &runs[i]);
    for (size_t i = 0; i < count && status == CLPOOL_SUCCESS; i++)
        status = clp_enqueue_checked(split->parts[i].plan, queues[i], &runs[i].io, runs[i].props,
                                     num_events_in_wait_list, event_wait_list,
                                     events ? &runs[i].event : NULL);
    /* Flushed once every part is enqueued: a driver that runs a queue's
     * commands in the flushing thread (PoCL's basic device) then holds up
     * no other device. */
    for (size_t i = 0; i < count && status == CLPOOL_SUCCESS; i++) {
        cl_int err = clFlush(queues[i]);
        if (err != CL_SUCCESS)
            status = clp_cl_fail(split->parts[i].ctx, err, "clFlush");
    }
    if (status == CLPOOL_SUCCESS && events)
        for (size_t i = 0; i < count; i++)
            events[i] = runs[i].event;
    else
        for (size_t i = 0; i < count; i++)
            if (runs[i].event)
                clReleaseEvent(runs[i].event);
    free(runs);
    return status;
}
