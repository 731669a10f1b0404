/*
 * One-line diagnostics: formats a failure message, flattens it to a single
 * line and prints it on standard error with the "clpool: " prefix; maps
 * library statuses to exit codes.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Library sentences may carry a build log; one line is the contract, so
 * control characters become spaces and the tail is trimmed. */
static void flatten(char *text)
{
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == ' ')
        text[--len] = '\0';
}

int cli_fail(int code, const char *fmt, ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    flatten(message);
    fprintf(stderr, "clpool: %s\n", message);
    fflush(stderr);
    return code;
}

int cli_exit_code(clpool_status status)
{
    switch (status) {
    case CLPOOL_SUCCESS:
        return CLI_EXIT_OK;
    case CLPOOL_ERROR_NO_DEVICE:
    case CLPOOL_ERROR_BUILD_FAILED:
    case CLPOOL_ERROR_OUT_OF_HOST_MEMORY:
    case CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY:
    case CLPOOL_ERROR_OPENCL:
        return CLI_EXIT_DEVICE;
    default:
        /* INVALID_*, OUTPUT_TOO_SMALL, UNSUPPORTED (dtype or OP) */
        return CLI_EXIT_INPUT;
    }
}
