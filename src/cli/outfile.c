/*
 * Atomic output files: a temporary sibling from mkstemp, fsync, rename over
 * the target, fsync of the folder; on any failure the temporary file is
 * removed and the target never touched.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Permission bits a plainly created file would get (0666 & ~umask). */
static mode_t file_mode = 0644;

void cli_outfile_capture_umask(void)
{
    mode_t mask = umask(0);
    umask(mask);
    file_mode = (mode_t)(0666 & ~mask);
}

/* The folder part of @p path ("." when there is none), malloc'ed. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (dir) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return dir;
}

int cli_outfile_open(struct cli_outfile *file, const char *path, char *err, size_t err_size)
{
    file->path = path;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0') {
        snprintf(err, err_size, "'%s' names a folder, not a file", path);
        return -1;
    }
    /* Found now, while nothing is written: rename() would refuse later. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "'%s' is a folder, not a file", path);
        return -1;
    }
    /* "dir/.out.npy.XXXXXX": same folder (rename stays atomic), hidden. */
    size_t dir_len = (size_t)(base - path);
    size_t size = strlen(path) + sizeof "/..XXXXXX";
    file->temp_path = malloc(size);
    if (!file->temp_path) {
        snprintf(err, err_size, "out of host memory");
        return -1;
    }
    snprintf(file->temp_path, size, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
    file->fd = mkstemp(file->temp_path);
    if (file->fd < 0) {
        snprintf(err, err_size, "cannot create a file next to '%s': %s", path, strerror(errno));
        free(file->temp_path);
        file->temp_path = NULL;
        return -1;
    }
    if (fchmod(file->fd, file_mode) != 0) {
        snprintf(err, err_size, "cannot set the permissions of '%s': %s", file->temp_path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int cli_outfile_finish(struct cli_outfile *file, char *err, size_t err_size)
{
    int rc = fsync(file->fd);
    int saved = errno;
    if (close(file->fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    file->fd = -1;
    if (rc != 0)
        snprintf(err, err_size, "cannot write '%s': %s", file->path, strerror(saved));
    return rc;
}

int cli_outfile_publish(struct cli_outfile *file, char *err, size_t err_size)
{
    if (rename(file->temp_path, file->path) != 0) {
        snprintf(err, err_size, "cannot replace '%s': %s", file->path, strerror(errno));
        return -1;
    }
    free(file->temp_path);
    file->temp_path = NULL;
    /* Make the rename itself durable; a folder that cannot be synced (some
     * file systems refuse) does not make the result wrong. */
    char *dir = folder_of(file->path);
    int fd = dir ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
    return 0;
}

void cli_outfile_discard(struct cli_outfile *file)
{
    if (file->fd >= 0)
        close(file->fd);
    file->fd = -1;
    if (file->temp_path)
        unlink(file->temp_path);
    free(file->temp_path);
    file->temp_path = NULL;
}
