/* tdl/version.h — which libtdl a program runs against. */
#ifndef TDL_VERSION_H
#define TDL_VERSION_H
#include "tdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (the SONAME carries MAJOR). */
TDL_API const char *tdl_version(void);

/* The OpenBLAS kernel in use is tdl_blas_core() (tdl/blas.h). */

#ifdef __cplusplus
}
#endif
#endif
