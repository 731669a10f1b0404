/*
 * The tables of the command line: every option of the contract (spec/cli.md)
 * with its value type, metavar and help, every OP with the options it takes
 * and needs, and lookups by name. Table order is the help order; option
 * entries sit at their enum cli_option_id index.
 */
#include "options.h"

#include <string.h>

#define FIELD(f) offsetof(struct cli_options, f)

/* cli_options.given has one bit per option. */
_Static_assert(CLI_OPT_COUNT <= 32, "cli_options.given has room for 32 options");

const struct cli_option_spec cli_option_specs[CLI_OPT_COUNT] = {
    [CLI_OPT_KERNEL] =
        {"kernel", CLI_OPT_KERNEL, CLI_KIND_DIMS, FIELD(kernel), "K[,K..]", "window size", {0}},
    [CLI_OPT_STRIDE] = {"stride",
                        CLI_OPT_STRIDE,
                        CLI_KIND_DIMS,
                        FIELD(stride),
                        "S[,S..]",
                        "step between windows (default: the kernel size)",
                        {0}},
    [CLI_OPT_PADDING] = {"padding",
                         CLI_OPT_PADDING,
                         CLI_KIND_DIMS,
                         FIELD(padding),
                         "P[,P..]",
                         "implicit padding on both sides (default 0)",
                         {0}},
    [CLI_OPT_DILATION] = {"dilation",
                          CLI_OPT_DILATION,
                          CLI_KIND_DIMS,
                          FIELD(dilation),
                          "D[,D..]",
                          "spacing between window elements (default 1)",
                          {0}},
    [CLI_OPT_CEIL_MODE] = {"ceil-mode",
                           CLI_OPT_CEIL_MODE,
                           CLI_KIND_BOOL,
                           FIELD(ceil_mode),
                           "0|1",
                           "output size rounds up (default 0)",
                           {0}},
    [CLI_OPT_COUNT_INCLUDE_PAD] = {"count-include-pad",
                                   CLI_OPT_COUNT_INCLUDE_PAD,
                                   CLI_KIND_BOOL,
                                   FIELD(count_include_pad),
                                   "0|1",
                                   "padded zeros count in the divisor (default 1)",
                                   {0}},
    [CLI_OPT_DIVISOR] = {"divisor",
                         CLI_OPT_DIVISOR,
                         CLI_KIND_INT,
                         FIELD(divisor),
                         "N",
                         "fixed divisor (default none)",
                         {0}},
    [CLI_OPT_P] = {"p", CLI_OPT_P, CLI_KIND_REAL, FIELD(p), "P", "exponent", {0}},
    [CLI_OPT_ALPHA] =
        {"alpha", CLI_OPT_ALPHA, CLI_KIND_REAL, FIELD(alpha), "A", "weight of max, 0..1", {0}},
    [CLI_OPT_BETA] =
        {"beta", CLI_OPT_BETA, CLI_KIND_REAL, FIELD(beta), "B", "softmax temperature", {0}},
    [CLI_OPT_TRAIN] = {"train",
                       CLI_OPT_TRAIN,
                       CLI_KIND_BOOL,
                       FIELD(train),
                       "0|1",
                       "sample (1) or expectation (0, default)",
                       {0}},
    [CLI_OPT_SEED] = {"seed",
                      CLI_OPT_SEED,
                      CLI_KIND_SEED,
                      FIELD(seed),
                      "S",
                      "seed of the counter-based generator (default 0)",
                      {0}},
    [CLI_OPT_SAMPLES] = {"samples",
                         CLI_OPT_SAMPLES,
                         CLI_KIND_TEXT,
                         FIELD(samples),
                         "FILE.npy",
                         "(N, C, dims) samples in [0,1) for exact replay",
                         {0}},
    [CLI_OPT_OUTPUT_SIZE] = {"output-size",
                             CLI_OPT_OUTPUT_SIZE,
                             CLI_KIND_DIMS,
                             FIELD(output_size),
                             "O[,O..]",
                             "output size",
                             {0}},
    [CLI_OPT_OUTPUT_RATIO] = {"output-ratio",
                              CLI_OPT_OUTPUT_RATIO,
                              CLI_KIND_REALS,
                              FIELD(output_ratio),
                              "R[,R..]",
                              "output = floor(input*R)",
                              {0}},
    [CLI_OPT_LEVELS] = {"levels",
                        CLI_OPT_LEVELS,
                        CLI_KIND_LEVELS,
                        FIELD(levels),
                        "L[,L..]",
                        "bins per side of each level, e.g. 1,2,4",
                        {0}},
    [CLI_OPT_SPP_MODE] = {"spp-mode",
                          CLI_OPT_SPP_MODE,
                          CLI_KIND_CHOICE,
                          FIELD(spp_mode),
                          "max|avg",
                          "pooling in each bin (default max)",
                          {"max", "avg"}},
    [CLI_OPT_ROIS] = {"rois",
                      CLI_OPT_ROIS,
                      CLI_KIND_TEXT,
                      FIELD(rois),
                      "FILE.npy",
                      "float (K, 5) rows of batch_index, x1, y1, x2, y2",
                      {0}},
    [CLI_OPT_SPATIAL_SCALE] = {"spatial-scale",
                               CLI_OPT_SPATIAL_SCALE,
                               CLI_KIND_REAL,
                               FIELD(spatial_scale),
                               "F",
                               "scale from box to feature coordinates (default 1.0)",
                               {0}},
    [CLI_OPT_SAMPLING_RATIO] = {"sampling-ratio",
                                CLI_OPT_SAMPLING_RATIO,
                                CLI_KIND_INT,
                                FIELD(sampling_ratio),
                                "N",
                                "samples per bin side, 0 or less = adaptive (default 0)",
                                {0}},
    [CLI_OPT_ALIGNED] = {"aligned",
                         CLI_OPT_ALIGNED,
                         CLI_KIND_BOOL,
                         FIELD(aligned),
                         "0|1",
                         "half-pixel offset (default 0)",
                         {0}},
    [CLI_OPT_INDICES] = {"indices",
                         CLI_OPT_INDICES,
                         CLI_KIND_TEXT,
                         FIELD(indices),
                         "FILE.npy",
                         "also write the argmax indices (int64, flat in the input plane)",
                         {0}},
    [CLI_OPT_INDICES_IN] = {"indices-in",
                            CLI_OPT_INDICES_IN,
                            CLI_KIND_TEXT,
                            FIELD(indices_in),
                            "FILE.npy",
                            "the indices to scatter by",
                            {0}},
    [CLI_OPT_LAYOUT] = {"layout",
                        CLI_OPT_LAYOUT,
                        CLI_KIND_CHOICE,
                        FIELD(layout),
                        "nchw|nhwc",
                        "channels first or last (default nchw)",
                        {"nchw", "nhwc"}},
    [CLI_OPT_DTYPE] = {"dtype",
                       CLI_OPT_DTYPE,
                       CLI_KIND_CHOICE,
                       FIELD(dtype),
                       "bfloat16",
                       "files are uint16 .npy of bfloat16 bits (an extension)",
                       {"bfloat16", NULL}},
    [CLI_OPT_DEVICE] = {"device",
                        CLI_OPT_DEVICE,
                        CLI_KIND_TEXT,
                        FIELD(device),
                        "SPEC",
                        "gpu, cpu, P:D or part of a name (see 'clpool devices')",
                        {0}},
};

/* The geometry of window OPs, and the common part of the RoI OPs. */
#define GEOMETRY                                                                                   \
    (CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_STRIDE) | CLI_BIT(CLI_OPT_PADDING) |                \
     CLI_BIT(CLI_OPT_DILATION) | CLI_BIT(CLI_OPT_CEIL_MODE))
#define ROI (CLI_BIT(CLI_OPT_ROIS) | CLI_BIT(CLI_OPT_OUTPUT_SIZE) | CLI_BIT(CLI_OPT_SPATIAL_SCALE))

const struct cli_op_spec cli_op_specs[CLI_OP_COUNT] = {
    [CLI_OP_MAX] = {"max", "window max pooling", GEOMETRY | CLI_BIT(CLI_OPT_INDICES),
                    CLI_BIT(CLI_OPT_KERNEL), 0,
                    "The first maximum in row-major window order wins; NaN wins. Every dtype."},
    [CLI_OP_AVG] = {"avg", "window average pooling",
                    GEOMETRY | CLI_BIT(CLI_OPT_COUNT_INCLUDE_PAD) | CLI_BIT(CLI_OPT_DIVISOR),
                    CLI_BIT(CLI_OPT_KERNEL), 0,
                    "No --dilation. Every dtype; uint8 and int8 divide the integer sum with "
                    "truncation."},
    [CLI_OP_LP] = {"lp", "power-average pooling (PyTorch LPPool)", GEOMETRY | CLI_BIT(CLI_OPT_P),
                   CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_P), 0,
                   "((K/D) * sum x^p)^(1/p) with K the window size and D its cells inside the "
                   "input (a signed sum, as PyTorch). --p finite and non-zero; no --padding, no "
                   "--dilation. Float dtypes only."},
    [CLI_OP_GEM] = {"gem", "generalised mean (mean x^p)^(1/p)", GEOMETRY | CLI_BIT(CLI_OPT_P),
                    CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_P), 0,
                    "(mean of max(x, 1e-6)^p over the cells inside the input)^(1/p). --p finite "
                    "and non-zero; padded cells are excluded; no --dilation. Float dtypes only."},
    [CLI_OP_MIXED] = {"mixed", "alpha*max + (1-alpha)*avg over each window",
                      GEOMETRY | CLI_BIT(CLI_OPT_ALPHA) | CLI_BIT(CLI_OPT_COUNT_INCLUDE_PAD),
                      CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_ALPHA), 0,
                      "avg as OP 'avg' (--count-include-pad). --alpha in [0, 1]; no --dilation. "
                      "Float dtypes only."},
    [CLI_OP_SOFTMAX] = {"softmax", "sum softmax(beta*x)_i * x_i over each window",
                        GEOMETRY | CLI_BIT(CLI_OPT_BETA),
                        CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_BETA), 0,
                        "Over the cells inside the input (padded cells are excluded). --beta "
                        "finite; 0 gives the average. Float dtypes only."},
    [CLI_OP_STOCHASTIC] = {"stochastic", "stochastic pooling (Zeiler & Fergus)",
                           GEOMETRY | CLI_BIT(CLI_OPT_TRAIN) | CLI_BIT(CLI_OPT_SEED) |
                               CLI_BIT(CLI_OPT_INDICES),
                           CLI_BIT(CLI_OPT_KERNEL), 0,
                           "Weights a = max(x, 0). --train 0: sum a^2 / sum a. --train 1: one "
                           "cell drawn with probability a / sum a by the counter-based generator "
                           "of --seed (the same draw on every device); --indices only with "
                           "--train 1. Float dtypes only."},
    [CLI_OP_GLOBAL_MAX] = {"global-max", "one max per plane", CLI_BIT(CLI_OPT_INDICES), 0, 0,
                           "OUTPUT keeps the input's rank with every spatial size 1."},
    [CLI_OP_GLOBAL_AVG] = {"global-avg", "one average per plane", 0, 0, 0,
                           "OUTPUT keeps the input's rank with every spatial size 1; uint8 and "
                           "int8 divide the exact sum (C division)."},
    [CLI_OP_ADAPTIVE_MAX] = {"adaptive-max", "PyTorch adaptive max pooling",
                             CLI_BIT(CLI_OPT_OUTPUT_SIZE) | CLI_BIT(CLI_OPT_INDICES),
                             CLI_BIT(CLI_OPT_OUTPUT_SIZE), 0, NULL},
    [CLI_OP_ADAPTIVE_AVG] =
        {"adaptive-avg", "PyTorch adaptive average pooling", CLI_BIT(CLI_OPT_OUTPUT_SIZE),
         CLI_BIT(CLI_OPT_OUTPUT_SIZE), 0,
         "Output i of a dimension covers [floor(i*In/Out), ceil((i+1)*In/Out)); "
         "Out may exceed In."},
    [CLI_OP_FRACTIONAL_MAX] = {"fractional-max", "fractional max pooling",
                               CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_OUTPUT_SIZE) |
                                   CLI_BIT(CLI_OPT_OUTPUT_RATIO) | CLI_BIT(CLI_OPT_SEED) |
                                   CLI_BIT(CLI_OPT_SAMPLES) | CLI_BIT(CLI_OPT_INDICES),
                               CLI_BIT(CLI_OPT_KERNEL),
                               CLI_BIT(CLI_OPT_OUTPUT_SIZE) | CLI_BIT(CLI_OPT_OUTPUT_RATIO),
                               "2-D and 3-D. Each output is the max of a --kernel window placed "
                               "as PyTorch's fractional_max_pool places it for the plane's "
                               "samples: --samples FILE holds them as _random_samples, (N, C, "
                               "dims) in [0, 1) (2-D: [0] drives W, [1] H; 3-D: D, H, W); without "
                               "it the counter-based generator draws sample j of plane p from "
                               "(--seed, p, j). --output-ratio R gives int(input * R), 0 < R < 1. "
                               "Every dtype."},
    [CLI_OP_SPP] = {"spp", "spatial pyramid pooling",
                    CLI_BIT(CLI_OPT_LEVELS) | CLI_BIT(CLI_OPT_SPP_MODE) | CLI_BIT(CLI_OPT_INDICES),
                    CLI_BIT(CLI_OPT_LEVELS), 0,
                    "Level l is adaptive pooling to n_l x n_l bins; per sample the levels follow "
                    "in the order given, each as (C, n, n): OUTPUT is (N, C*sum(n^2)) in either "
                    "layout. --indices (flat h*W+w in the input plane, laid out as OUTPUT) with "
                    "--spp-mode max only."},
    [CLI_OP_ROI_MAX] = {"roi-max", "region max pooling over --rois", ROI | CLI_BIT(CLI_OPT_INDICES),
                        CLI_BIT(CLI_OPT_ROIS) | CLI_BIT(CLI_OPT_OUTPUT_SIZE), 0, NULL},
    [CLI_OP_ROI_ALIGN] = {"roi-align", "region align pooling over --rois",
                          ROI | CLI_BIT(CLI_OPT_SAMPLING_RATIO) | CLI_BIT(CLI_OPT_ALIGNED),
                          CLI_BIT(CLI_OPT_ROIS) | CLI_BIT(CLI_OPT_OUTPUT_SIZE), 0, NULL},
    [CLI_OP_MAX_UNPOOL] = {"max-unpool", "inverse of max given --indices-in",
                           CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_STRIDE) |
                               CLI_BIT(CLI_OPT_PADDING) | CLI_BIT(CLI_OPT_OUTPUT_SIZE) |
                               CLI_BIT(CLI_OPT_INDICES_IN),
                           CLI_BIT(CLI_OPT_KERNEL) | CLI_BIT(CLI_OPT_INDICES_IN), 0,
                           "--indices-in: int64, the input's shape, flat in-plane indices as "
                           "'max --indices' writes them. Output size (In-1)*stride - 2*padding "
                           "+ kernel, or --output-size strictly within one stride of it. Among "
                           "duplicate indices the last in row-major order wins; an index outside "
                           "the output plane is an error. Every dtype."},
};

const char *cli_op_name(enum cli_op op)
{
    return (unsigned)op < CLI_OP_COUNT ? cli_op_specs[op].name : "?";
}

int cli_given(const struct cli_options *opt, enum cli_option_id id)
{
    return (opt->given & CLI_BIT(id)) != 0;
}

int cli_find_op(const char *name, enum cli_op *op)
{
    for (int i = 0; i < CLI_OP_COUNT; i++) {
        if (strcmp(cli_op_specs[i].name, name) == 0) {
            *op = (enum cli_op)i;
            return 1;
        }
    }
    return 0;
}

const struct cli_option_spec *cli_find_option(const char *name, size_t len)
{
    for (int i = 0; i < CLI_OPT_COUNT; i++) {
        const struct cli_option_spec *s = &cli_option_specs[i];
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
            return s;
    }
    return NULL;
}

const char *cli_command_name(enum cli_command command)
{
    return command == CLI_CMD_GRAD ? "grad" : command == CLI_CMD_DEVICES ? "devices" : "run";
}

uint32_t cli_op_options(enum cli_command command, enum cli_op op)
{
    uint32_t mask = cli_op_specs[op].allowed | CLI_COMMON_OPTIONS;
    if (command != CLI_CMD_GRAD)
        return mask;
    /* grad reads the forward's indices of the OPs that select an element
     * (spec/cli.md: --indices-in "where the forward's indices apply") and
     * writes none (--indices is refused with a pointer to --indices-in). */
    if (op == CLI_OP_MAX || op == CLI_OP_STOCHASTIC || op == CLI_OP_GLOBAL_MAX ||
        op == CLI_OP_ADAPTIVE_MAX || op == CLI_OP_SPP || op == CLI_OP_FRACTIONAL_MAX)
        mask |= CLI_BIT(CLI_OPT_INDICES_IN);
    return mask;
}
