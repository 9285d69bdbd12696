/* tdl/fileio.h — output files that are never left half-written, and input
 * files that are what they claim to be.
 *
 * Every file libtdl writes goes through tdl_atomic_*; programs built on the
 * library (the CLI, the theorem checks) use the same calls for theirs, so a
 * crash, a full disk or a signal never leaves a partial output file behind.
 * The struct is filled by tdl_atomic_begin; callers write to fp and read no
 * other field.
 */
#ifndef TDL_FILEIO_H
#define TDL_FILEIO_H
#include "tdl/export.h"
#include <stdio.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Atomic output: write to a temporary file beside `path`, then rename.
 * The rules for existing targets (regular files keep their mode; symbolic
 * links are resolved and survive; character devices and FIFOs are written in
 * place; directories and other special files are refused; an empty path is
 * refused) are in the header comment of fileio.c.  tdl_atomic_abort, or a
 * terminating signal caught by tdl_atomic_install_signal_cleanup's handler,
 * removes the temporary. */
typedef struct tdl_atomic_file {
    FILE *fp;
    char *path;      /* final name (owned): the link's target for a symbolic link */
    char *tmp_path;  /* temporary name (owned); NULL when written in place */
    int slot;        /* index in the signal-cleanup registry, -1 if none */
    int in_place;    /* 1: a character device or FIFO, written directly */
} tdl_atomic_file;

TDL_API int tdl_atomic_begin(const char *path, tdl_atomic_file *af);
/* Flush, close and rename; on failure ("PATH: write failed: <strerror>")
 * the temporary is removed. */
TDL_API int tdl_atomic_commit(tdl_atomic_file *af);
/* Close and remove the temporary (safe to call twice, or after commit). */
TDL_API void tdl_atomic_abort(tdl_atomic_file *af);
/* Async-signal-safe: unlink every temporary still open. */
TDL_API void tdl_atomic_cleanup_on_signal(void);
/* For a program's main: a handler for every terminating signal (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU,
 * SIGVTALRM, SIGPROF) that removes the temporaries and dies of the signal;
 * SIGHUP and SIGPIPE stay ignored when inherited ignored.  SIGXFSZ is
 * ignored, so that a write past `ulimit -f` fails with EFBIG and is reported. */
TDL_API void tdl_atomic_install_signal_cleanup(void);
/* That list of terminating signals, for code that forwards or holds them
 * (the report, the CLI's test hook): static const int s[] = {TDL_STOP_SIGNALS}; */
#define TDL_STOP_SIGNALS SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGVTALRM, SIGPROF

/* Input files: open PATH read-only without blocking on a FIFO, and refuse
 * anything but a regular file ("PATH: not a regular file (a FIFO)").  On
 * success *fd is a blocking descriptor the caller closes; *size (if not
 * NULL) is the file's size. */
TDL_API int tdl_open_regular(const char *path, int *fd, size_t *size);
/* "a FIFO", "a directory", ... for a st_mode */
TDL_API const char *tdl_file_kind(unsigned mode);

#ifdef __cplusplus
}
#endif
#endif
