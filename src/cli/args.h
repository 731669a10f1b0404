/*
 * Command-line parsing of the clpool program (spec/cli.md): commands, OP
 * names and every option of the contract, with their types, which OP takes
 * which option, and the usage texts. Parsing only checks syntax and the
 * options an OP accepts; whether the values define a valid pooling is the
 * library's call.
 */
#ifndef CLPOOL_CLI_ARGS_H
#define CLPOOL_CLI_ARGS_H

#include <stdint.h>
#include <stdio.h>

enum cli_command {
    CLI_CMD_HELP, /* --help, or any --help after a command or OP */
    CLI_CMD_VERSION,
    CLI_CMD_DEVICES,
    CLI_CMD_RUN,
    CLI_CMD_GRAD
};

/* Every OP of the contract, in its order. */
enum cli_op {
    CLI_OP_MAX,
    CLI_OP_AVG,
    CLI_OP_LP,
    CLI_OP_GEM,
    CLI_OP_MIXED,
    CLI_OP_SOFTMAX,
    CLI_OP_STOCHASTIC,
    CLI_OP_GLOBAL_MAX,
    CLI_OP_GLOBAL_AVG,
    CLI_OP_ADAPTIVE_MAX,
    CLI_OP_ADAPTIVE_AVG,
    CLI_OP_FRACTIONAL_MAX,
    CLI_OP_SPP,
    CLI_OP_ROI_MAX,
    CLI_OP_ROI_ALIGN,
    CLI_OP_MAX_UNPOOL,
    CLI_OP_COUNT
};

/* Every option of the contract; bit (1 << id) of cli_options.given says it
 * was on the command line. */
enum cli_option_id {
    CLI_OPT_KERNEL,
    CLI_OPT_STRIDE,
    CLI_OPT_PADDING,
    CLI_OPT_DILATION,
    CLI_OPT_CEIL_MODE,
    CLI_OPT_COUNT_INCLUDE_PAD,
    CLI_OPT_DIVISOR,
    CLI_OPT_P,
    CLI_OPT_ALPHA,
    CLI_OPT_BETA,
    CLI_OPT_TRAIN,
    CLI_OPT_SEED,
    CLI_OPT_SAMPLES,
    CLI_OPT_OUTPUT_SIZE,
    CLI_OPT_OUTPUT_RATIO,
    CLI_OPT_LEVELS,
    CLI_OPT_SPP_MODE,
    CLI_OPT_ROIS,
    CLI_OPT_SPATIAL_SCALE,
    CLI_OPT_SAMPLING_RATIO,
    CLI_OPT_ALIGNED,
    CLI_OPT_INDICES,
    CLI_OPT_INDICES_IN,
    CLI_OPT_LAYOUT,
    CLI_OPT_DTYPE, /* an extension of the contract: docs/cli-extensions.md */
    CLI_OPT_DEVICE,
    CLI_OPT_COUNT
};

#define CLI_MAX_DIMS 3    /* values of a per-dimension list */
#define CLI_MAX_LEVELS 16 /* values of --levels */

/* A comma list as given: count values, outermost dimension first. */
struct cli_ints {
    int count;
    int values[CLI_MAX_LEVELS];
};
struct cli_reals {
    int count;
    double values[CLI_MAX_DIMS];
};

enum cli_layout { CLI_LAYOUT_NCHW, CLI_LAYOUT_NHWC };
/* --dtype: the dtype the .npy header names (not given), or bfloat16 bits in
 * a uint16 .npy (its one value). */
enum cli_dtype { CLI_DTYPE_BFLOAT16 };
enum cli_spp_mode { CLI_SPP_MAX, CLI_SPP_AVG };

/* Option values; those not given hold the contract's defaults. */
struct cli_options {
    uint32_t given;
    struct cli_ints kernel, stride, padding, dilation, output_size, levels;
    struct cli_reals output_ratio;
    int ceil_mode, count_include_pad, divisor, train, sampling_ratio, aligned;
    int spp_mode; /* enum cli_spp_mode */
    int layout;   /* enum cli_layout */
    int dtype;    /* enum cli_dtype, meaningful only when --dtype was given */
    double p, alpha, beta, spatial_scale;
    uint64_t seed;
    const char *samples, *rois, *indices, *indices_in, *device; /* point into argv */
};

struct cli_args {
    enum cli_command command;
    int json;   /* devices --json */
    int has_op; /* run/grad named an OP (also for help on one OP) */
    enum cli_op op;
    enum cli_command help_for; /* CLI_CMD_HELP: the command whose usage to print */
    int path_count;
    const char *paths[3]; /* INPUT OUTPUT, or INPUT GRAD_OUTPUT GRAD_INPUT */
    struct cli_options opt;
};

/* Parses argv into @p args. Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after
 * printing the one-line reason. */
int cli_parse(int argc, char **argv, struct cli_args *args);

/* True when option @p id was on the command line. */
int cli_given(const struct cli_options *opt, enum cli_option_id id);

const char *cli_op_name(enum cli_op op);

/* Prints the usage that @p args asks for (general, a command, or one OP). */
void cli_print_usage(FILE *out, const struct cli_args *args);

#endif /* CLPOOL_CLI_ARGS_H */
