/* internal.h — helpers shared by libtdl's modules; not installed. */
#ifndef TDL_INTERNAL_H
#define TDL_INTERNAL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "tdl/error.h"
#include "tdl/fileio.h"
#include "tdl/memory.h"

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

/* Atomic output files, the signal cleanup and regular-file input: tdl/fileio.h. */

/* tdl_malloc, tdl_calloc, tdl_strdup: public, tdl/memory.h. */

/* Index of text in names[0..count) (exact match), or -1; text may be NULL. */
int tdl_name_index(const char *const *names, size_t count, const char *text);

/* Seconds on the monotonic clock (for the times a result reports). */
#include <time.h>
static inline double tdl_seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Rows of the bounds table (tdl/bounds.h, bounds.c): append a term
 * (name, value) or a hypothesis (text, holds, why) to a row; beyond the
 * row's capacity they are dropped. */
struct tdl_measure;
void tdl_measure_add_term(struct tdl_measure *e, const char *name, double value);
void tdl_measure_add_hyp(struct tdl_measure *e, int holds, const char *text, const char *fmt, ...) TDL_PRINTF(4, 5);

/* Replace a square matrix (n x n, row stride ld) by (M + M^T) / 2: exact
 * symmetry where mirrored entries came from different summation orders. */
void tdl_symmetrize(double *M, size_t n, size_t ld);

/* Half-precision conversions (IEEE binary16 and bfloat16) to double. */
double tdl_f16_to_double(uint16_t h);
double tdl_bf16_to_double(uint16_t h);

/* Test hook (also TDL_TEST_EIGEN_FAILURES=N in the environment, for test
 * programs on the public library): the next N runs of LAPACK's symmetric eigen-solver in
 * tdl_sym_eigen_solve report non-convergence (exercises the fallback and
 * the error path; always 0 outside the tests). */
extern int tdl_test_eigen_failures;

#endif
