/* tdl/memory.h — memory probes and the guard every large allocation of
 * libtdl passes: a request that would not fit is refused with TDL_ETOOBIG
 * and a message giving both sizes, before anything is allocated. */
#ifndef TDL_MEMORY_H
#define TDL_MEMORY_H
#include "tdl/export.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of memory available now (MemAvailable), or SIZE_MAX if unknown. */
TDL_API size_t tdl_memory_available(void);

/* Refuse, before allocating, `count` dense dim x dim matrices plus `extra`
 * bytes that would not fit: TDL_ETOOBIG with a message naming `what` and
 * suggesting the matrix-free methods. */
TDL_API int tdl_dense_memory_check(size_t dim, size_t count, size_t extra, const char *what);

#ifdef __cplusplus
}
#endif
#endif
