/*
 * The "clpool devices" command: lists every OpenCL device the library finds
 * and marks the one a plain run would use.
 */
#ifndef CLPOOL_CLI_DEVICES_H
#define CLPOOL_CLI_DEVICES_H

/* Prints the list (one line per device, or a JSON list when @p json) on
 * standard output; returns an exit code. */
int cli_devices(int json);

#endif /* CLPOOL_CLI_DEVICES_H */
