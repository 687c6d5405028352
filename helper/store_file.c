/* SPDX-License-Identifier: MIT
 * Atomic file writes for the store (temp file, fsync, rename, fsync of the directory) and
 * bounded whole-file reads. Never leaves a partly written file under its final name.
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int s_fsync_dir(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int cn_store_write_atomic(const char *path, const void *a, size_t na, const void *b,
                          size_t nb, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errlen, "store: path %s is longer than %zu bytes", path, sizeof tmp);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "store: cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if ((na && s_write_all(fd, a, na)) || (nb && s_write_all(fd, b, nb)) || fsync(fd)) {
        snprintf(err, errlen, "store: cannot write %s (%zu bytes): %s", path, na + nb,
                 strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) || rename(tmp, path) || s_fsync_dir(path)) {
        snprintf(err, errlen, "store: cannot commit %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int cn_store_read_file(const char *path, void **data, size_t *n, char *err, size_t errlen)
{
    *data = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, errlen, "store: cannot read %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != len) {
        snprintf(err, errlen, "store: cannot read %s (%zu of %zu bytes)", path, got, len);
        free(buf);
        return -1;
    }
    buf[len] = 0;
    *data = buf;
    *n = len;
    return 0;
}
