/* tdl/memory.h — memory probes and the guard every large allocation of
 * libtdl passes: a request that would not fit is refused with TDL_ETOOBIG
 * and a message giving both sizes, before anything is allocated.
 *
 * Sizes in messages are in GB (1e9 bytes), printed with %.3g; a request
 * whose size overflows size_t is reported as needing "inf GB". */
#ifndef TDL_MEMORY_H
#define TDL_MEMORY_H
#include "tdl/export.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of memory this process may still use: the least of MemAvailable,
 * its control group's limit less its usage (cgroup v1 or v2: a batch job's),
 * the address-space limit (ulimit -v) less its VmSize, and the environment
 * variable TDL_MEMORY_LIMIT (bytes, or with a suffix k, M, G, T: powers of
 * 1024; a cap per process, e.g. per MPI rank); SIZE_MAX if none is known. */
TDL_API size_t tdl_memory_available(void);

/* The one guard: count * size + extra bytes (overflow-checked) against
 * tdl_memory_available().  TDL_OK when it fits; else TDL_ETOOBIG with
 * "WHAT needs X GB but Y GB are available".  Allocates nothing. */
TDL_API int tdl_memory_require(size_t count, size_t size, size_t extra, const char *what);

/* Same rule, with a detail in the message (NULL or "": none):
 * "WHAT needs X GB (DETAIL) but Y GB are available". */
TDL_API int tdl_memory_require_detail(size_t count, size_t size, size_t extra, const char *what, const char *detail);

/* `count` dense dim x dim matrices of doubles plus `extra` bytes, through
 * tdl_memory_require: "WHAT needs X GB (dim x dim doubles x count) but Y GB
 * are available".  Callers that offer a matrix-free alternative add that
 * advice themselves. */
TDL_API int tdl_dense_memory_check(size_t dim, size_t count, size_t extra, const char *what);

/* malloc / calloc / strdup that, on failure, return NULL with the message
 * "out of memory allocating N bytes for WHAT" and TDL_ENOMEM's meaning
 * recorded for tdl_errmsg(): the library allocates through them, and so
 * do the programs built on it (the CLI, the checks), so that every
 * out-of-memory reads alike.  Free with free(). */
TDL_API void *tdl_malloc(size_t bytes, const char *what);
TDL_API void *tdl_calloc(size_t count, size_t size, const char *what);
TDL_API char *tdl_strdup(const char *s);

#ifdef __cplusplus
}
#endif
#endif
