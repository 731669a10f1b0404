/*
 * One-line diagnostics of the clpool program and its exit codes. Every
 * failure prints exactly one line "clpool: <what was wrong>" on standard
 * error: the function that detects it calls cli_fail() once and passes the
 * exit code up; nobody above it prints again.
 */
#ifndef CLPOOL_CLI_REPORT_H
#define CLPOOL_CLI_REPORT_H

#include <clpool.h>

/* The exit codes of the command-line contract (spec/cli.md). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_USAGE = 2, /* unknown command, option or OP, malformed number */
    CLI_EXIT_INPUT = 3, /* bad .npy, dtype, shape or parameters; output not writable */
    CLI_EXIT_DEVICE = 4 /* no device, build or run failure, out of memory */
};

#if defined(__GNUC__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/* Prints "clpool: " and the formatted message as one line (newlines and other
 * control characters become spaces) and returns @p code. */
int cli_fail(int code, const char *fmt, ...) CLI_PRINTF(2, 3);

/* The exit code of a library failure: 4 for the device and memory, 3 for
 * everything the input or the parameters got wrong. */
int cli_exit_code(clpool_status status);

#endif /* CLPOOL_CLI_REPORT_H */
