/*
 * The clpool program: parses the command line and dispatches to a command.
 * The only place that decides the process's exit status (spec/cli.md).
 */
#include "about.h"
#include "args.h"
#include "devices.h"
#include "outfile.h"
#include "report.h"
#include "run.h"

#include <clpool.h>
#include <stdio.h>

/* Help and version go to standard output; a failed write is a failure. */
static int finish_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(CLI_EXIT_INPUT, "cannot write to standard output");
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    /* Before any OpenCL runtime starts threads (see outfile.h). */
    cli_outfile_capture_umask();
    struct cli_args args;
    int rc = cli_parse(argc, argv, &args);
    if (rc != CLI_EXIT_OK)
        return rc;
    switch (args.command) {
    case CLI_CMD_HELP:
        cli_print_usage(stdout, &args);
        return finish_stdout();
    case CLI_CMD_VERSION: {
        struct cli_about about;
        cli_about_collect(&about);
        cli_print_version(stdout, &about);
        cli_about_release(&about);
        return finish_stdout();
    }
    case CLI_CMD_DEVICES:
        return cli_devices(args.json);
    case CLI_CMD_RUN:
        return cli_run(&args);
    case CLI_CMD_GRAD:
        return cli_grad(&args);
    }
    return CLI_EXIT_USAGE;
}
