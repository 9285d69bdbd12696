/* tdl/error.h — status codes and the last error message.
 *
 * Every libtdl function that can fail returns an int status: TDL_OK (0) on
 * success, one of the codes below otherwise.  On failure the library leaves a
 * one-line message (thread-local) naming the file / field / value at fault;
 * tdl_errmsg() returns it.  The library never prints and never exits.
 */
#ifndef TDL_ERROR_H
#define TDL_ERROR_H
#include "tdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tdl_status {
    TDL_OK = 0,
    TDL_EINVAL,      /* bad argument or option value */
    TDL_ENOMEM,      /* allocation failed */
    TDL_EIO,         /* cannot open, read or write a file */
    TDL_EFORMAT,     /* malformed file contents */
    TDL_ESHAPE,      /* shapes or sizes do not match */
    TDL_ENONFINITE,  /* NaN or infinity in data, weights or a result */
    TDL_ETOOBIG,     /* request too large for memory or for size_t */
    TDL_ENOCONV,     /* an iterative method did not converge */
    TDL_ENOTPD,      /* matrix not positive definite */
    TDL_EDIVERGED,   /* training diverged */
    TDL_EINTR,       /* interrupted by a signal */
    TDL_STATUS_COUNT
};

/* Static description of a status code ("malformed file", ...). */
TDL_API const char *tdl_strerror(int status);

/* Message left by the last failing call in this thread ("" if none).
 * The pointer stays valid until the next libtdl call in this thread. */
TDL_API const char *tdl_errmsg(void);

/* Clear the message (tests use it). */
TDL_API void tdl_errclear(void);

/* For programs built on libtdl: record a message (printf-style) as the last
 * error and return status, so that their own failures travel the same path
 * as the library's: `return tdl_error_set(TDL_EINVAL, "%s: ...", name);`. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
TDL_API int tdl_error_set(int status, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif
