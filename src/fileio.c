/* fileio.c — whole-file reads and atomic writes (temporary + rename).
 *
 * Every output file of tdl goes through tdl_atomic_begin / _commit so that a
 * failure or an interrupt never leaves a partial file under the final name.
 * Open temporaries are kept in a small registry that a signal handler can
 * unlink (unlink(2) is async-signal-safe).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tdl/io.h"
#include "internal.h"

#define TDL_MAX_OPEN_TEMPS 32
static char *volatile open_temps[TDL_MAX_OPEN_TEMPS];

void tdl_atomic_cleanup_on_signal(void)
{
    for (int i = 0; i < TDL_MAX_OPEN_TEMPS; i++)
        if (open_temps[i]) unlink(open_temps[i]);
}

static void registry_remove(tdl_atomic_file *af)
{
    if (af->slot >= 0) open_temps[af->slot] = NULL;
    af->slot = -1;
}

int tdl_atomic_begin(const char *path, tdl_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    af->slot = -1;
    size_t n = strlen(path);
    af->path = tdl_strdup(path);
    af->tmp_path = tdl_malloc(n + 16, "a file name");
    if (!af->path || !af->tmp_path) {
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return TDL_ENOMEM;
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return tdl_fail(TDL_EIO, "%s: cannot create output file: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        unlink(af->tmp_path);
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
        return tdl_fail(TDL_EIO, "%s: cannot open output stream", path);
    }
    for (int i = 0; i < TDL_MAX_OPEN_TEMPS; i++) {
        if (!open_temps[i]) {
            open_temps[i] = af->tmp_path;
            af->slot = i;
            break;
        }
    }
    return TDL_OK;
}

void tdl_atomic_abort(tdl_atomic_file *af)
{
    registry_remove(af);
    if (af->fp) fclose(af->fp);
    af->fp = NULL;
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    af->tmp_path = af->path = NULL;
}

int tdl_atomic_commit(tdl_atomic_file *af)
{
    int bad = ferror(af->fp);
    if (fflush(af->fp) != 0) bad = 1;
    if (fclose(af->fp) != 0) bad = 1;
    af->fp = NULL;
    if (bad) {
        int st = tdl_fail(TDL_EIO, "%s: write failed: %s", af->path, strerror(errno));
        tdl_atomic_abort(af);
        return st;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int st = tdl_fail(TDL_EIO, "%s: cannot rename into place: %s", af->path, strerror(errno));
        tdl_atomic_abort(af);
        return st;
    }
    registry_remove(af);
    free(af->tmp_path);
    free(af->path);
    af->tmp_path = af->path = NULL;
    return TDL_OK;
}

int tdl_write_file_atomic(const char *path, const void *buf, size_t len)
{
    tdl_atomic_file af;
    int st = tdl_atomic_begin(path, &af);
    if (st != TDL_OK) return st;
    if (len && fwrite(buf, 1, len, af.fp) != len) {
        st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
        tdl_atomic_abort(&af);
        return st;
    }
    return tdl_atomic_commit(&af);
}

int tdl_read_file(const char *path, size_t max_bytes, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return tdl_fail(TDL_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return tdl_fail(TDL_EIO, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max_bytes) {
        fclose(fp);
        return tdl_fail(TDL_ETOOBIG, "%s: file is %lld bytes, more than the %zu allowed",
                        path, (long long)sb.st_size, max_bytes);
    }
    size_t size = (size_t)sb.st_size;
    unsigned char *data = tdl_malloc(size + 1, "file contents");
    if (!data) {
        fclose(fp);
        return TDL_ENOMEM;
    }
    size_t got = fread(data, 1, size, fp);
    int err = ferror(fp);
    fclose(fp);
    if (got != size || err) {
        free(data);
        return tdl_fail(TDL_EIO, "%s: read failed (%zu of %zu bytes)", path, got, size);
    }
    data[size] = '\0';
    *buf = data;
    *len = size;
    return TDL_OK;
}
