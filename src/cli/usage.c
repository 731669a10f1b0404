/*
 * Usage texts of the program: general, per command and per OP, printed from
 * the tables of options.c.
 */
#include "args.h"

#include "options.h"

#include <stdio.h>
#include <string.h>

static void print_options(FILE *out, uint32_t mask, uint32_t required)
{
    for (int i = 0; i < CLI_OPT_COUNT; i++) {
        const struct cli_option_spec *s = &cli_option_specs[i];
        if (!(mask & CLI_BIT(s->id)))
            continue;
        char left[64];
        snprintf(left, sizeof left, "--%s %s", s->name, s->metavar);
        fprintf(out, "  %-32s %s%s\n", left, s->help,
                (required & CLI_BIT(s->id)) ? " (required)" : "");
    }
}

/* @p text as lines of at most 78 columns, broken at spaces. */
static void print_wrapped(FILE *out, const char *text)
{
    while (*text) {
        size_t len = strlen(text);
        if (len > 78) {
            len = 78;
            while (len > 0 && text[len] != ' ')
                len--;
            if (len == 0)
                len = strcspn(text, " ");
        }
        fprintf(out, "%.*s\n", (int)len, text);
        text += len;
        while (*text == ' ')
            text++;
    }
}

/* Dtypes and layouts, common to every pooling OP. --dtype is an extension of
 * the contract (docs/cli-extensions.md). */
static void print_tensor_notes(FILE *out)
{
    fputs("Dtypes: float32, float64, float16, uint8 and int8, as the .npy header says; the\n"
          "output has the input's dtype, indices are int64. bfloat16 has no .npy dtype:\n"
          "with --dtype bfloat16 (an extension of the contract) INPUT and OUTPUT are uint16\n"
          ".npy files holding bfloat16 bit patterns. What the device cannot do is refused,\n"
          "never cast.\n"
          "Layout: nchw reads (N, C, L), (N, C, H, W) or (N, C, D, H, W); --layout nhwc\n"
          "reads (N, L, C), (N, H, W, C) or (N, D, H, W, C). The rank decides 1-D, 2-D or\n"
          "3-D pooling; the output has the input's layout.\n",
          out);
}

static const char *files_of(enum cli_command command)
{
    return command == CLI_CMD_GRAD ? "INPUT.npy GRAD_OUTPUT.npy GRAD_INPUT.npy"
                                   : "INPUT.npy OUTPUT.npy";
}

static void print_op_usage(FILE *out, enum cli_command command, enum cli_op op)
{
    const struct cli_op_spec *s = &cli_op_specs[op];
    fprintf(out, "usage: clpool %s %s [OPTIONS] %s\n\n%s: %s.\n\nOptions:\n",
            cli_command_name(command), s->name, files_of(command), s->name, s->summary);
    uint32_t mask = cli_op_options(command, op);
    if (command == CLI_CMD_GRAD)
        mask &= ~CLI_BIT(CLI_OPT_INDICES);
    print_options(out, mask, s->required | s->one_of);
    if (s->one_of)
        fprintf(out, "Give exactly one of --output-size and --output-ratio.\n");
    if (s->notes) {
        fputs("\n", out);
        print_wrapped(out, s->notes);
    }
    fputs("\n", out);
    print_tensor_notes(out);
}

static void print_command_usage(FILE *out, enum cli_command command)
{
    fprintf(out, "usage: clpool %s OP [OPTIONS] %s\n\n", cli_command_name(command),
            files_of(command));
    if (command == CLI_CMD_GRAD)
        fputs("Computes the gradient with respect to the input, given the gradient of the\n"
              "output.\n\nOPs:\n",
              out);
    else
        fputs("Pools INPUT.npy into OUTPUT.npy (written only once the whole result is\n"
              "ready).\n\nOPs:\n",
              out);
    for (int i = 0; i < CLI_OP_COUNT; i++)
        fprintf(out, "  %-16s %s\n", cli_op_specs[i].name, cli_op_specs[i].summary);
    fputs("\nOptions (each OP takes some; 'clpool OP --help' lists them). Per-dimension\n"
          "lists take one value for every spatial dimension, outermost first, or one\n"
          "value for all:\n",
          out);
    print_options(out, UINT32_MAX, 0);
    fputs("\n", out);
    print_tensor_notes(out);
}

static void print_general_usage(FILE *out)
{
    fputs("usage: clpool devices [--json]\n", out);
    fputs("       clpool run  OP [OPTIONS] INPUT.npy OUTPUT.npy\n", out);
    fputs("       clpool grad OP [OPTIONS] INPUT.npy GRAD_OUTPUT.npy GRAD_INPUT.npy\n", out);
    fputs("       clpool --version | --help | OP --help\n\n", out);
    fputs("Pools tensors stored as NumPy .npy files on an OpenCL device. Shapes follow\n", out);
    fputs("PyTorch: (N, C, L) pools 1-D, (N, C, H, W) 2-D, (N, C, D, H, W) 3-D; with\n", out);
    fputs("--layout nhwc channels come last. Dtypes: float32, float64, float16, uint8,\n", out);
    fputs("int8, and bfloat16 as uint16 bits with --dtype bfloat16 (an extension).\n\nOPs:", out);
    int column = 4;
    for (int i = 0; i < CLI_OP_COUNT; i++) {
        int width = 1 + (int)strlen(cli_op_specs[i].name);
        if (column + width > 78) {
            fputs("\n   ", out);
            column = 3;
        }
        fprintf(out, " %s", cli_op_specs[i].name);
        column += width;
    }
    fputs("\n\n'clpool run --help' lists every option, 'clpool OP --help' those of one OP.\n", out);
    fputs("'clpool --version' also names the default device, its driver and OpenCL\n", out);
    fputs("version and the cache folder: paste it into bug reports.\n", out);
    fputs("Exit status: 0 done, 2 usage, 3 bad input or parameters, 4 device failure.\n", out);
}

void cli_print_usage(FILE *out, const struct cli_args *args)
{
    if (args->help_for == CLI_CMD_DEVICES)
        fputs("usage: clpool devices [--json]\n\n"
              "Lists every OpenCL device, one per line; '*' marks the one a plain run uses.\n"
              "--json prints a JSON list of objects instead, each also giving the OpenCL\n"
              "version, the library version and the cache folder.\n",
              out);
    else if (args->help_for == CLI_CMD_HELP)
        print_general_usage(out);
    else if (args->has_op)
        print_op_usage(out, args->help_for, args->op);
    else
        print_command_usage(out, args->help_for);
}
