/* internal.h — helpers shared by libtdl's modules; not installed. */
#ifndef TDL_INTERNAL_H
#define TDL_INTERNAL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "tdl/error.h"

#if defined(__GNUC__)
#define TDL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TDL_PRINTF(a, b)
#endif

/* Record a message for tdl_errmsg() and return status (so that
 * `return tdl_fail(TDL_EFORMAT, "%s: ...", file)` reads naturally). */
int tdl_fail(int status, const char *fmt, ...) TDL_PRINTF(2, 3);

/* Overflow-checked size arithmetic: 0 on success, -1 on overflow. */
static inline int tdl_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}
static inline int tdl_add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

/* Little-endian loads from unaligned bytes. */
static inline uint16_t tdl_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tdl_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t tdl_le64(const unsigned char *p)
{
    return (uint64_t)tdl_le32(p) | ((uint64_t)tdl_le32(p + 4) << 32);
}

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

int tdl_atomic_begin(const char *path, tdl_atomic_file *af);
/* Flush, close and rename; on failure ("PATH: write failed: <strerror>")
 * the temporary is removed. */
int tdl_atomic_commit(tdl_atomic_file *af);
/* Close and remove the temporary (safe to call twice, or after commit). */
void tdl_atomic_abort(tdl_atomic_file *af);
/* Async-signal-safe: unlink every temporary still open. */
void tdl_atomic_cleanup_on_signal(void);
/* For a program's main: a handler for every terminating signal (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU,
 * SIGVTALRM, SIGPROF) that removes the temporaries and dies of the signal;
 * SIGHUP and SIGPIPE stay ignored when inherited ignored.  SIGXFSZ is
 * ignored, so that a write past `ulimit -f` fails with EFBIG and is reported. */
void tdl_atomic_install_signal_cleanup(void);
/* That list of terminating signals, for code that forwards or holds them
 * (the report, the CLI's test hook): static const int s[] = {TDL_STOP_SIGNALS}; */
#define TDL_STOP_SIGNALS SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGVTALRM, SIGPROF

/* Input files: open PATH read-only without blocking on a FIFO, and refuse
 * anything but a regular file ("PATH: not a regular file (a FIFO)").  On
 * success *fd is a blocking descriptor the caller closes; *size (if not
 * NULL) is the file's size. */
int tdl_open_regular(const char *path, int *fd, size_t *size);
/* "a FIFO", "a directory", ... for a st_mode */
const char *tdl_file_kind(unsigned mode);

/* malloc/calloc that fail with TDL_ENOMEM and a message naming `what`. */
void *tdl_malloc(size_t bytes, const char *what);
void *tdl_calloc(size_t count, size_t size, const char *what);
char *tdl_strdup(const char *s);

/* Index of text in names[0..count) (exact match), or -1; text may be NULL. */
int tdl_name_index(const char *const *names, size_t count, const char *text);

/* Replace a square matrix (n x n, row stride ld) by (M + M^T) / 2: exact
 * symmetry where mirrored entries came from different summation orders. */
void tdl_symmetrize(double *M, size_t n, size_t ld);

/* Half-precision conversions (IEEE binary16 and bfloat16) to double. */
double tdl_f16_to_double(uint16_t h);
double tdl_bf16_to_double(uint16_t h);

/* Test hook: the next N runs of LAPACK's symmetric eigen-solver in
 * tdl_sym_eigen_solve report non-convergence (exercises the fallback and
 * the error path; always 0 outside the tests). */
extern int tdl_test_eigen_failures;

#endif
