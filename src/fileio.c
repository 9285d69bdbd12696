/* fileio.c — whole-file reads and atomic writes (temporary + rename).
 *
 * Outputs.  Every output file of tdl goes through tdl_atomic_begin / _commit
 * (or tdl_write_file_atomic) so that a failure or an interrupt never leaves a
 * partial file under the final name.  What tdl_atomic_begin does depends on
 * what the output path names now (lstat, then stat through a link):
 *
 *   nothing          a temporary PATH.tmp.XXXXXX beside it, created with mode
 *                    0666 filtered by the umask (like any new file), renamed
 *                    onto PATH by _commit.
 *   a regular file   the same, and the temporary takes the file's mode bits
 *                    (and, where allowed, its owner and group) so that a
 *                    private file stays private.  A hard-linked file: the name
 *                    given is replaced by the new file; its other names keep
 *                    the old contents (as with any write-and-rename editor).
 *   a symbolic link  resolved (realpath): the rule above applies to the final
 *                    target, the temporary is created beside it and renamed
 *                    over it, so the link survives and points at the new
 *                    contents.  A link to nothing (dangling) is refused.
 *   a character device (/dev/null, a terminal) or a FIFO / pipe (/dev/stdout
 *                    in a pipeline, bash's >(...)): written in place, with no
 *                    temporary and no rename (renaming over /dev/null would
 *                    destroy it).  A FIFO is opened without blocking: one with
 *                    no reader is refused rather than waited for.  Nothing
 *                    protects the reader from a partial stream: that is the
 *                    nature of a device or a pipe.
 *   a directory, a block device, a socket: refused ("not a regular file").
 *   an empty path:   refused ("empty output path").
 *
 * Nothing that is not a regular file is ever renamed over.  Open temporaries
 * are kept in a small registry that a signal handler can unlink (unlink(2) is
 * async-signal-safe); see tdl_atomic_install_signal_cleanup.
 *
 * Inputs.  tdl_open_regular opens with O_NONBLOCK (so that a FIFO cannot
 * block the open), checks with fstat that the file is a regular file and
 * refuses anything else ("not a regular file (a FIFO)"), then clears
 * O_NONBLOCK.  Every reader of data and model files goes through it.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

const char *tdl_file_kind(unsigned mode)
{
    mode_t m = (mode_t)mode;
    if (S_ISREG(m)) return "a regular file";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISLNK(m)) return "a symbolic link";
    return "a special file";
}

/* ---- inputs --------------------------------------------------------------- */

int tdl_open_regular(const char *path, int *fd_out, size_t *size)
{
    *fd_out = -1;
    if (size) *size = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return tdl_fail(TDL_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return tdl_fail(TDL_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return tdl_fail(TDL_EIO, "%s: not a regular file (%s)", path, tdl_file_kind((unsigned)sb.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return tdl_fail(TDL_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    if (size) *size = sb.st_size > 0 ? (size_t)sb.st_size : 0;
    if (size && (unsigned long long)sb.st_size > (unsigned long long)SIZE_MAX) *size = SIZE_MAX;
    *fd_out = fd;
    return TDL_OK;
}

int tdl_read_file(const char *path, size_t max_bytes, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd;
    size_t size;
    int st = tdl_open_regular(path, &fd, &size);
    if (st != TDL_OK) return st;
    if (size > max_bytes) {
        close(fd);
        return tdl_fail(TDL_ETOOBIG, "%s: file is %zu bytes, more than the %zu allowed", path, size, max_bytes);
    }
    unsigned char *data = tdl_malloc(size + 1, "file contents");
    if (!data) {
        close(fd);
        return TDL_ENOMEM;
    }
    size_t got = 0;
    int e = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) e = errno;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(data);
        if (e) return tdl_fail(TDL_EIO, "%s: read failed (%zu of %zu bytes): %s", path, got, size, strerror(e));
        return tdl_fail(TDL_EIO, "%s: read failed (%zu of %zu bytes): the file shrank", path, got, size);
    }
    data[size] = '\0';
    *buf = data;
    *len = size;
    return TDL_OK;
}

/* ---- outputs -------------------------------------------------------------- */

/* FIFOs opened by a begin that was aborted (the CLI probes an output path
 * before the work with begin + abort): closing the write end would hand the
 * reader an end of file, so the descriptor is parked here and reused by the
 * next begin on the same FIFO. */
#define TDL_MAX_PARKED 8
static struct { int fd; dev_t dev; ino_t ino; } parked[TDL_MAX_PARKED];
static int n_parked;

static int unpark(dev_t dev, ino_t ino)
{
    for (int i = 0; i < n_parked; i++)
        if (parked[i].dev == dev && parked[i].ino == ino) {
            int fd = parked[i].fd;
            parked[i] = parked[--n_parked];
            return fd;
        }
    return -1;
}

static void park_or_close(FILE *fp)
{
    struct stat sb;
    int fd = fileno(fp);
    if (n_parked < TDL_MAX_PARKED && fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
        int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (keep >= 0) {
            parked[n_parked].fd = keep;
            parked[n_parked].dev = sb.st_dev;
            parked[n_parked].ino = sb.st_ino;
            n_parked++;
        }
    }
    fclose(fp);
}

static void af_free(tdl_atomic_file *af)
{
    free(af->tmp_path);
    free(af->path);
    af->tmp_path = af->path = NULL;
}

/* Open a character device or a FIFO for writing in place. */
static int begin_in_place(const char *path, const struct stat *want, tdl_atomic_file *af)
{
    int fd = S_ISFIFO(want->st_mode) ? unpark(want->st_dev, want->st_ino) : -1;
    if (fd < 0) {
        fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENXIO && S_ISFIFO(want->st_mode))
                return tdl_fail(TDL_EIO, "%s: cannot create output file: a FIFO with no reader", path);
            return tdl_fail(TDL_EIO, "%s: cannot create output file: %s", path, strerror(errno));
        }
        struct stat sb;
        int fl = fcntl(fd, F_GETFL);
        if (fstat(fd, &sb) != 0 || (sb.st_mode & S_IFMT) != (want->st_mode & S_IFMT) || fl < 0 ||
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
            close(fd);
            return tdl_fail(TDL_EIO, "%s: cannot create output file: it changed while being opened", path);
        }
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        return tdl_fail(TDL_EIO, "%s: cannot open output stream: %s", path, strerror(e));
    }
    af->in_place = 1;
    return TDL_OK;
}

/* A temporary name: PATH.tmp. and six characters from a per-call mix of the
 * clock, the process id and a counter; created with O_EXCL (like mkstemp, but
 * with the mode the caller chooses, so the umask applies to new files). */
static int create_temp(char *tmp, size_t n, unsigned mode)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static uint64_t counter;
    for (int attempt = 0; attempt < 1000; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^
                     (++counter * 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL; /* splitmix64 finalizer */
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        for (size_t i = 0; i < 6; i++, z /= 62) tmp[n + 5 + i] = chars[z % 62];
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

int tdl_atomic_begin(const char *path, tdl_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    af->slot = -1;
    if (!path || !*path) return tdl_fail(TDL_EINVAL, "empty output path");
    struct stat lst, sb;
    int exists = 0;
    char *target = NULL; /* the file the temporary replaces: path, or a link's final target */
    if (lstat(path, &lst) == 0) {
        exists = 1;
        sb = lst;
        if (S_ISLNK(lst.st_mode) && stat(path, &sb) != 0) {
            if (errno == ENOENT)
                return tdl_fail(TDL_EIO, "%s: cannot create output file: a symbolic link to a missing file", path);
            return tdl_fail(TDL_EIO, "%s: cannot create output file: %s", path, strerror(errno));
        }
    } else if (errno != ENOENT) {
        return tdl_fail(TDL_EIO, "%s: cannot create output file: %s", path, strerror(errno));
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        if (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)) {
            if (!(af->path = tdl_strdup(path))) return TDL_ENOMEM;
            int st = begin_in_place(path, &sb, af);
            if (st != TDL_OK) af_free(af);
            return st;
        }
        return tdl_fail(TDL_EIO, "%s: cannot create output file: not a regular file (%s)", path,
                        tdl_file_kind((unsigned)sb.st_mode));
    }
    if (exists && S_ISLNK(lst.st_mode)) {
        target = realpath(path, NULL);
        if (!target) return tdl_fail(TDL_EIO, "%s: cannot resolve the symbolic link: %s", path, strerror(errno));
    } else {
        target = tdl_strdup(path);
        if (!target) return TDL_ENOMEM;
    }
    size_t n = strlen(target);
    af->path = target;
    af->tmp_path = tdl_malloc(n + 12, "a file name");
    if (!af->tmp_path) {
        af_free(af);
        return TDL_ENOMEM;
    }
    memcpy(af->tmp_path, target, n);
    memcpy(af->tmp_path + n, ".tmp.XXXXXX", 12);
    /* a new file: 0666 and the umask, as open(2) and fopen(3) would make it;
     * a replaced file: its own permission bits (applied below, after the
     * owner, since chown may clear set-id bits) */
    int fd = create_temp(af->tmp_path, n, exists ? 0600u : 0666u);
    if (fd < 0) {
        int e = errno;
        af_free(af);
        return tdl_fail(TDL_EIO, "%s: cannot create output file: %s", path, strerror(e));
    }
    for (int i = 0; i < TDL_MAX_OPEN_TEMPS; i++) {
        if (!open_temps[i]) {
            open_temps[i] = af->tmp_path;
            af->slot = i;
            break;
        }
    }
    if (exists) {
        if (fchown(fd, sb.st_uid, sb.st_gid) != 0) { /* not ours to give away: the new file is ours */ }
        if (fchmod(fd, sb.st_mode & 07777) != 0) { /* keeps 0600: never more open than the original */ }
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        registry_remove(af);
        unlink(af->tmp_path);
        af_free(af);
        return tdl_fail(TDL_EIO, "%s: cannot open output stream: %s", path, strerror(e));
    }
    return TDL_OK;
}

void tdl_atomic_abort(tdl_atomic_file *af)
{
    registry_remove(af);
    if (af->fp) {
        if (af->in_place) park_or_close(af->fp);
        else fclose(af->fp);
    }
    af->fp = NULL;
    if (af->tmp_path) unlink(af->tmp_path);
    af_free(af);
}

int tdl_atomic_commit(tdl_atomic_file *af)
{
    /* a writer that saw fwrite fail reports it and calls abort; one that
     * did not check (fprintf) left its data in the buffer, and fflush fails
     * again with the errno (EFBIG, ENOSPC); EIO when nothing tells more */
    int e = ferror(af->fp) ? EIO : 0;
    clearerr(af->fp);
    if (fflush(af->fp) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (e) {
        int st = tdl_fail(TDL_EIO, "%s: write failed: %s", af->path, strerror(e));
        tdl_atomic_abort(af);
        return st;
    }
    if (af->in_place) {
        af_free(af);
        return TDL_OK;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int st = tdl_fail(TDL_EIO, "%s: cannot rename into place: %s", af->path, strerror(errno));
        tdl_atomic_abort(af);
        return st;
    }
    registry_remove(af);
    af_free(af);
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

/* ---- terminating signals -------------------------------------------------- */

static void on_terminating_signal(int sig)
{
    /* Remove every temporary output file, then die of the same signal so the
     * parent sees it (SA_RESETHAND restored the default action; SA_NODEFER
     * lets raise deliver it at once). */
    tdl_atomic_cleanup_on_signal();
    raise(sig);
}

void tdl_atomic_install_signal_cleanup(void)
{
    /* SIGHUP and SIGPIPE stay ignored when inherited ignored (nohup; a parent
     * that wants EPIPE); the others are caught even when ignored, as a
     * background job of a script starts with SIGINT and SIGQUIT ignored. */
    static const int caught[] = {TDL_STOP_SIGNALS};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_terminating_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
        struct sigaction old;
        if ((caught[i] == SIGHUP || caught[i] == SIGPIPE) && sigaction(caught[i], NULL, &old) == 0 &&
            old.sa_handler == SIG_IGN)
            continue;
        sigaction(caught[i], &sa, NULL);
    }
    /* past `ulimit -f`, write(2) fails with EFBIG (reported, the temporary
     * removed) instead of the process dying of SIGXFSZ with the temporary left */
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, NULL);
}
