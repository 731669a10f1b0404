/*
 * Command-line parsing: fills struct cli_args from argv following the tables
 * of options.c. Each rejection prints its one line and returns
 * CLI_EXIT_USAGE; nothing here opens a file or a device.
 */
#include "args.h"

#include "options.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* ---- values ------------------------------------------------------------- */

/* One integer at @p text (inside the option value @p whole, for messages)
 * ending at ',' or the end; *next gets that end. The explicit first-character
 * test refuses what strtol would skip or accept silently (blanks, nothing). */
static int parse_int(const struct cli_option_spec *spec, const char *whole, const char *text,
                     int *value, const char **next)
{
    const char *digits = (*text == '-' || *text == '+') ? text + 1 : text;
    char *end = NULL;
    errno = 0;
    long v = (*digits >= '0' && *digits <= '9') ? strtol(text, &end, 10) : 0;
    if (!end || (*end != ',' && *end != '\0'))
        return cli_fail(CLI_EXIT_USAGE, "option --%s: '%s' is not %s", spec->name, whole,
                        spec->kind == CLI_KIND_INT ? "an integer" : "a comma list of integers");
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
        return cli_fail(CLI_EXIT_USAGE, "option --%s: %.*s is out of range", spec->name,
                        (int)(end - text), text);
    *value = (int)v;
    *next = end;
    return CLI_EXIT_OK;
}

static int parse_real(const struct cli_option_spec *spec, const char *whole, const char *text,
                      double *value, const char **next)
{
    const char *digits = (*text == '-' || *text == '+') ? text + 1 : text;
    char *end = NULL;
    errno = 0;
    double v = ((*digits >= '0' && *digits <= '9') || *digits == '.' || *digits == 'i' ||
                *digits == 'I' || *digits == 'n' || *digits == 'N')
                   ? strtod(text, &end)
                   : 0.0;
    if (!end || end == text || (*end != ',' && *end != '\0'))
        return cli_fail(CLI_EXIT_USAGE, "option --%s: '%s' is not %s", spec->name, whole,
                        spec->kind == CLI_KIND_REAL ? "a number" : "a comma list of numbers");
    if (errno == ERANGE && (v > 1.0 || v < -1.0))
        return cli_fail(CLI_EXIT_USAGE, "option --%s: %.*s is out of range", spec->name,
                        (int)(end - text), text);
    *value = v;
    *next = end;
    return CLI_EXIT_OK;
}

/* A comma list of ints into @p list, at most @p max values, no empty item. */
static int parse_int_list(const struct cli_option_spec *spec, const char *text,
                          struct cli_ints *list, int max)
{
    const char *p = text;
    for (list->count = 0;; p++) {
        if (list->count == max)
            return cli_fail(CLI_EXIT_USAGE, "option --%s takes at most %d values, got '%s'",
                            spec->name, max, text);
        int rc = parse_int(spec, text, p, &list->values[list->count], &p);
        if (rc != CLI_EXIT_OK)
            return rc;
        list->count++;
        if (*p == '\0')
            return CLI_EXIT_OK;
    }
}

static int parse_real_list(const struct cli_option_spec *spec, const char *text,
                           struct cli_reals *list)
{
    const char *p = text;
    for (list->count = 0;; p++) {
        if (list->count == CLI_MAX_DIMS)
            return cli_fail(CLI_EXIT_USAGE, "option --%s takes at most %d values, got '%s'",
                            spec->name, CLI_MAX_DIMS, text);
        int rc = parse_real(spec, text, p, &list->values[list->count], &p);
        if (rc != CLI_EXIT_OK)
            return rc;
        list->count++;
        if (*p == '\0')
            return CLI_EXIT_OK;
    }
}

static int parse_seed(const struct cli_option_spec *spec, const char *text, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = (*text >= '0' && *text <= '9') ? strtoull(text, &end, 10) : 0;
    if (!end || *end != '\0')
        return cli_fail(CLI_EXIT_USAGE, "option --%s: '%s' is not a non-negative integer",
                        spec->name, text);
    if (errno == ERANGE || v > UINT64_MAX)
        return cli_fail(CLI_EXIT_USAGE, "option --%s: %s is out of range (at most %llu)",
                        spec->name, text, (unsigned long long)UINT64_MAX);
    *value = (uint64_t)v;
    return CLI_EXIT_OK;
}

static int parse_choice(const struct cli_option_spec *spec, const char *text, int *value)
{
    for (int i = 0; i < 2 && spec->choices[i]; i++) {
        if (strcmp(text, spec->choices[i]) == 0) {
            *value = i;
            return CLI_EXIT_OK;
        }
    }
    if (!spec->choices[1])
        return cli_fail(CLI_EXIT_USAGE, "option --%s takes %s, not '%s'", spec->name,
                        spec->choices[0], text);
    return cli_fail(CLI_EXIT_USAGE, "option --%s takes %s or %s, not '%s'", spec->name,
                    spec->choices[0], spec->choices[1], text);
}

/* Stores @p text as the value of @p spec in @p opt. */
static int parse_value(const struct cli_option_spec *spec, const char *text,
                       struct cli_options *opt)
{
    void *field = (char *)opt + spec->offset;
    const char *end = NULL;
    switch (spec->kind) {
    case CLI_KIND_DIMS:
        return parse_int_list(spec, text, field, CLI_MAX_DIMS);
    case CLI_KIND_LEVELS:
        return parse_int_list(spec, text, field, CLI_MAX_LEVELS);
    case CLI_KIND_INT: {
        int rc = parse_int(spec, text, text, field, &end);
        if (rc == CLI_EXIT_OK && *end != '\0')
            rc = cli_fail(CLI_EXIT_USAGE, "option --%s: '%s' is not an integer", spec->name, text);
        return rc;
    }
    case CLI_KIND_BOOL:
        if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0)
            return cli_fail(CLI_EXIT_USAGE, "option --%s takes 0 or 1, not '%s'", spec->name, text);
        *(int *)field = text[0] - '0';
        return CLI_EXIT_OK;
    case CLI_KIND_REAL: {
        int rc = parse_real(spec, text, text, field, &end);
        if (rc == CLI_EXIT_OK && *end != '\0')
            rc = cli_fail(CLI_EXIT_USAGE, "option --%s: '%s' is not a number", spec->name, text);
        return rc;
    }
    case CLI_KIND_REALS:
        return parse_real_list(spec, text, field);
    case CLI_KIND_SEED:
        return parse_seed(spec, text, field);
    case CLI_KIND_TEXT:
        if (*text == '\0')
            return cli_fail(CLI_EXIT_USAGE, "option --%s needs a non-empty value", spec->name);
        *(const char **)field = text;
        return CLI_EXIT_OK;
    case CLI_KIND_CHOICE:
        return parse_choice(spec, text, field);
    }
    return CLI_EXIT_USAGE;
}

/* ---- commands ----------------------------------------------------------- */

/* "--name value" or "--name=value" at argv[*i]; advances *i past the value. */
static int parse_option(struct cli_args *args, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct cli_option_spec *spec = cli_find_option(arg, len);
    const char *name = cli_command_name(args->command);
    if (!spec)
        return cli_fail(CLI_EXIT_USAGE, "unknown option '%.*s' (try 'clpool %s --help')",
                        (int)len + 2, argv[*i], name);
    if (args->command == CLI_CMD_GRAD && spec->id == CLI_OPT_INDICES)
        return cli_fail(
            CLI_EXIT_USAGE,
            "grad writes no indices; it reads the forward's with --indices-in FILE.npy");
    if (!(cli_op_options(args->command, args->op) & CLI_BIT(spec->id)))
        return cli_fail(CLI_EXIT_USAGE,
                        "option --%s does not apply to OP '%s' (try 'clpool %s --help')",
                        spec->name, cli_op_specs[args->op].name, cli_op_specs[args->op].name);
    if (args->opt.given & CLI_BIT(spec->id))
        return cli_fail(CLI_EXIT_USAGE, "option --%s is given twice", spec->name);
    const char *value = eq ? eq + 1 : NULL;
    if (!value && *i + 1 >= argc)
        return cli_fail(CLI_EXIT_USAGE, "option --%s needs a value (%s)", spec->name,
                        spec->metavar);
    if (!value)
        value = argv[++*i];
    args->opt.given |= CLI_BIT(spec->id);
    return parse_value(spec, value, &args->opt);
}

/* Checks what the OP needs once every argument is in. */
static int check_complete(const struct cli_args *args)
{
    const struct cli_op_spec *op = &cli_op_specs[args->op];
    int want = args->command == CLI_CMD_GRAD ? 3 : 2;
    if (args->path_count != want)
        return cli_fail(
            CLI_EXIT_USAGE, "%s %s expects %s, got %d file name%s (try 'clpool %s --help')",
            cli_command_name(args->command), op->name,
            want == 3 ? "INPUT.npy GRAD_OUTPUT.npy GRAD_INPUT.npy" : "INPUT.npy OUTPUT.npy",
            args->path_count, args->path_count == 1 ? "" : "s", op->name);
    for (int i = 0; i < CLI_OPT_COUNT; i++) {
        const struct cli_option_spec *s = &cli_option_specs[i];
        if ((op->required & CLI_BIT(s->id)) && !(args->opt.given & CLI_BIT(s->id)))
            return cli_fail(CLI_EXIT_USAGE, "OP '%s' needs --%s %s", op->name, s->name, s->metavar);
    }
    if (args->opt.indices && args->command == CLI_CMD_RUN &&
        strcmp(args->opt.indices, args->paths[1]) == 0)
        return cli_fail(CLI_EXIT_USAGE, "--indices and OUTPUT name the same file '%s'",
                        args->paths[1]);
    /* Only a sampled (training) draw selects an element whose index exists. */
    if (args->op == CLI_OP_STOCHASTIC && args->opt.indices && args->opt.train != 1)
        return cli_fail(CLI_EXIT_USAGE,
                        "OP 'stochastic' writes --indices only with --train 1 (at test time the "
                        "output is a weighted average, not one selected element)");
    if (args->command == CLI_CMD_GRAD && args->op == CLI_OP_STOCHASTIC && args->opt.indices_in &&
        args->opt.train != 1)
        return cli_fail(CLI_EXIT_USAGE,
                        "OP 'stochastic' reads --indices-in only with --train 1 (at test time "
                        "the gradient spreads over the window, no element is selected)");
    uint32_t one = args->opt.given & op->one_of;
    if (op->one_of && (one == 0 || (one & (one - 1)) != 0))
        return cli_fail(CLI_EXIT_USAGE,
                        "OP '%s' needs exactly one of --output-size and --output-ratio", op->name);
    return CLI_EXIT_OK;
}

/* "run OP [OPTIONS] FILES" and "grad OP [OPTIONS] FILES", from argv[2]. */
static int parse_pool_command(struct cli_args *args, int argc, char **argv)
{
    const char *name = cli_command_name(args->command);
    if (argc < 3 || is_help(argv[2])) {
        args->help_for = args->command;
        args->command = CLI_CMD_HELP;
        return argc < 3
                   ? cli_fail(CLI_EXIT_USAGE, "%s needs an OP (try 'clpool %s --help')", name, name)
                   : CLI_EXIT_OK;
    }
    if (argv[2][0] == '-')
        return cli_fail(
            CLI_EXIT_USAGE, "%s needs an OP before its options: clpool %s OP [OPTIONS] %s", name,
            name, args->command == CLI_CMD_GRAD ? "INPUT GRAD_OUTPUT GRAD_INPUT" : "INPUT OUTPUT");
    if (!cli_find_op(argv[2], &args->op))
        return cli_fail(CLI_EXIT_USAGE, "unknown OP '%s' (try 'clpool %s --help')", argv[2], name);
    args->has_op = 1;
    int only_files = 0;
    for (int i = 3; i < argc; i++) {
        const char *arg = argv[i];
        int rc = CLI_EXIT_OK;
        if (!only_files && is_help(arg)) {
            args->help_for = args->command;
            args->command = CLI_CMD_HELP;
            return CLI_EXIT_OK;
        } else if (!only_files && strcmp(arg, "--") == 0) {
            only_files = 1;
        } else if (!only_files && strncmp(arg, "--", 2) == 0) {
            rc = parse_option(args, argc, argv, &i);
        } else if (!only_files && arg[0] == '-' && arg[1] != '\0') {
            rc = cli_fail(CLI_EXIT_USAGE, "unknown option '%s' (try 'clpool %s --help')", arg,
                          cli_op_specs[args->op].name);
        } else if (args->path_count == 3) {
            rc = cli_fail(CLI_EXIT_USAGE, "too many file names: '%s'", arg);
        } else {
            args->paths[args->path_count++] = arg;
        }
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    return check_complete(args);
}

static int parse_devices(struct cli_args *args, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && !args->json) {
            args->json = 1;
        } else if (is_help(argv[i])) {
            args->help_for = CLI_CMD_DEVICES;
            args->command = CLI_CMD_HELP;
            return CLI_EXIT_OK;
        } else {
            return cli_fail(CLI_EXIT_USAGE,
                            "devices: unexpected argument '%s' (usage: clpool devices [--json])",
                            argv[i]);
        }
    }
    return CLI_EXIT_OK;
}

static void set_defaults(struct cli_args *args)
{
    memset(args, 0, sizeof *args);
    args->command = CLI_CMD_HELP;
    args->help_for = CLI_CMD_HELP;
    args->opt.count_include_pad = 1;
    args->opt.spatial_scale = 1.0;
    args->opt.layout = CLI_LAYOUT_NCHW;
    args->opt.spp_mode = CLI_SPP_MAX;
}

int cli_parse(int argc, char **argv, struct cli_args *args)
{
    set_defaults(args);
    if (argc < 2)
        return cli_fail(CLI_EXIT_USAGE, "missing command (try 'clpool --help')");
    const char *cmd = argv[1];
    if (is_help(cmd) || strcmp(cmd, "--version") == 0) {
        args->command = is_help(cmd) ? CLI_CMD_HELP : CLI_CMD_VERSION;
        if (argc > 2)
            return cli_fail(CLI_EXIT_USAGE, "%s takes no arguments", cmd);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "devices") == 0) {
        args->command = CLI_CMD_DEVICES;
        return parse_devices(args, argc, argv);
    }
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "grad") == 0) {
        args->command = cmd[0] == 'r' ? CLI_CMD_RUN : CLI_CMD_GRAD;
        return parse_pool_command(args, argc, argv);
    }
    if (cli_find_op(cmd, &args->op)) {
        /* "clpool OP --help" is the contract's per-OP help. */
        args->has_op = 1;
        args->help_for = CLI_CMD_RUN;
        if (argc == 3 && is_help(argv[2]))
            return CLI_EXIT_OK;
        return cli_fail(
            CLI_EXIT_USAGE,
            "'%s' is an OP, not a command: write 'clpool run %s ...' (or 'clpool %s --help')", cmd,
            cmd, cmd);
    }
    if (cmd[0] == '-')
        return cli_fail(CLI_EXIT_USAGE, "unknown option '%s' (try 'clpool --help')", cmd);
    return cli_fail(CLI_EXIT_USAGE,
                    "unknown command '%s' (commands: devices, run, grad; try 'clpool --help')",
                    cmd);
}
