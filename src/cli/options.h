/*
 * The tables behind the command line (spec/cli.md): every option with its
 * value type and help, and every OP with the options it takes and needs.
 * The parser (args.c) and the usage texts (usage.c) both read them, so the
 * two cannot drift apart. Internal to the program.
 */
#ifndef CLPOOL_CLI_OPTIONS_H
#define CLPOOL_CLI_OPTIONS_H

#include "args.h"

#include <stddef.h>
#include <stdint.h>

#define CLI_BIT(id) ((uint32_t)1 << (id))
/* Options every OP takes. */
#define CLI_COMMON_OPTIONS                                                                         \
    (CLI_BIT(CLI_OPT_LAYOUT) | CLI_BIT(CLI_OPT_DTYPE) | CLI_BIT(CLI_OPT_DEVICE))

enum cli_option_kind {
    CLI_KIND_DIMS,   /* comma list of ints, one per spatial dimension */
    CLI_KIND_LEVELS, /* comma list of ints, up to CLI_MAX_LEVELS */
    CLI_KIND_INT,
    CLI_KIND_BOOL, /* 0 or 1 */
    CLI_KIND_REAL,
    CLI_KIND_REALS, /* comma list of reals, one per spatial dimension */
    CLI_KIND_SEED,  /* unsigned 64-bit */
    CLI_KIND_TEXT,  /* a path or a device spec, kept as given */
    CLI_KIND_CHOICE /* one of up to two words (choices[1] may be NULL), stored as its index */
};

struct cli_option_spec {
    const char *name; /* without the leading "--" */
    enum cli_option_id id;
    enum cli_option_kind kind;
    size_t offset; /* of the value in struct cli_options */
    const char *metavar;
    const char *help;
    const char *choices[2];
};

struct cli_op_spec {
    const char *name;
    const char *summary;
    uint32_t allowed;  /* options besides CLI_COMMON_OPTIONS */
    uint32_t required; /* each of these */
    uint32_t one_of;   /* exactly one of these, when not 0 */
    const char *notes; /* rules printed by 'clpool OP --help', or NULL */
};

extern const struct cli_option_spec cli_option_specs[CLI_OPT_COUNT];
extern const struct cli_op_spec cli_op_specs[CLI_OP_COUNT];

/* The option named by the @p len characters at @p name, or NULL. */
const struct cli_option_spec *cli_find_option(const char *name, size_t len);
/* 1 and *op set when @p name is an OP of the contract, else 0. */
int cli_find_op(const char *name, enum cli_op *op);
/* The options OP @p op takes under @p command (CLI_COMMON_OPTIONS included). */
uint32_t cli_op_options(enum cli_command command, enum cli_op op);
/* "run", "grad" or "devices". */
const char *cli_command_name(enum cli_command command);

#endif /* CLPOOL_CLI_OPTIONS_H */
