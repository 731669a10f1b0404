/*
 * Atomic replacement of an output file: data goes to a temporary file in the
 * target's folder (mkstemp), which is flushed to disk and then renamed over
 * the target, so a reader sees the old file or the whole new one, never a
 * partial one, and a failed run leaves the target untouched.
 */
#ifndef CLPOOL_CLI_OUTFILE_H
#define CLPOOL_CLI_OUTFILE_H

#include <stddef.h>

struct cli_outfile {
    const char *path; /* the target, as given; not owned */
    char *temp_path;  /* malloc'ed; NULL when no temporary file exists */
    int fd;           /* of the temporary file, -1 when closed */
};

#define CLI_OUTFILE_INIT                                                                           \
    {                                                                                              \
        NULL, NULL, -1                                                                             \
    }

/* Reads the process umask, once, before any other thread exists: mkstemp
 * creates 0600 files and umask() cannot be read without setting it. */
void cli_outfile_capture_umask(void);

/* Creates the temporary file for @p path; on failure writes a sentence. */
int cli_outfile_open(struct cli_outfile *file, const char *path, char *err, size_t err_size);

/* Flushes and closes the temporary file (fsync), keeping it for publish. */
int cli_outfile_finish(struct cli_outfile *file, char *err, size_t err_size);

/* Renames the finished temporary file over the target and syncs the folder. */
int cli_outfile_publish(struct cli_outfile *file, char *err, size_t err_size);

/* Closes and removes the temporary file if it still exists; frees the
 * struct's memory. Always safe to call, also after publish. */
void cli_outfile_discard(struct cli_outfile *file);

#endif /* CLPOOL_CLI_OUTFILE_H */
