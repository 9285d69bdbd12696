/* kernel_internal.h — pieces shared by the kernel modules (ntk.c,
 * kernel_dual.c, du_arora.c, kernel_regression.c); not installed.
 *
 * Who defines what:
 *   kernel_dual.c        the accurate pair angles (tdl_kernel_angle_*)
 *   kernel_regression.c  tdl_kernel_check_square, tdl_kernel_cholesky_ridge
 *   here (inline)        small BLAS and symmetry helpers, a data-set view
 * Layering: kernel_dual and kernel_regression sit below du_arora; ntk.c
 * (the empirical NTK) uses only the inline helpers, and kernel_regression.c
 * uses ntk.c's public tdl_ntk_empirical.  This header includes no module
 * header of its own, so no include cycle runs through it. */
#ifndef TDL_KERNEL_INTERNAL_H
#define TDL_KERNEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <gsl/gsl_matrix.h>
#include "tdl/data.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- accurate angles (kernel_dual.c; the derivation is there) ------------ */

/* The half-angle squares (cm, cp) = (sin^2(theta/2), cos^2(theta/2)) of the
 * angle between u = (s x, t) and v = (s y, t) (x, y in R^d) with |u|^2 = qx,
 * |v|^2 = qy and u.v = k given: a few ulps relative for nearly parallel and
 * nearly opposite inputs, exactly theta = 0 for x = y. */
void tdl_kernel_angle_from_inputs(const double *x, const double *y, size_t d, double s, double t,
                                  double qx, double qy, double k, double *cm, double *cp);
/* theta and pi - theta from (cm, cp), each accurate to a few ulps relative. */
double tdl_kernel_angle_theta(double cm, double cp);
double tdl_kernel_angle_comp(double cm, double cp);

/* ---- kernel linear algebra (kernel_regression.c) ------------------------ */

/* TDL_ESHAPE "WHAT: expected a n x n matrix, got ..." unless H is n x n. */
int tdl_kernel_check_square(const gsl_matrix *H, size_t n, const char *what);

/* Cholesky factor (lower, into L, n x n contiguous) of A + ridge I (A n x n,
 * row stride lda); TDL_ENOTPD with lambda_min(A) and the ridge that would do
 * when A + ridge I is not positive definite to working precision. */
int tdl_kernel_cholesky_ridge(const double *A, size_t n, size_t lda, double ridge, double *L,
                              const char *what);

/* ---- small helpers -------------------------------------------------------- */

/* Fill the lower triangle of a symmetric row-major matrix from the upper. */
static inline void tdl_kernel_symmetrize_from_upper(double *A, size_t n, size_t lda)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) A[i * lda + j] = A[j * lda + i];
}

/* C = alpha A B^T + beta C (row-major, contiguous ld = cols). */
static inline void tdl_kernel_gemm_nt(size_t n1, size_t n2, size_t k, double alpha, const double *A,
                                      size_t lda, const double *B, size_t ldb, double beta, double *C,
                                      size_t ldc)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n1, (int)n2, (int)k, alpha, A, (int)lda, B,
                (int)ldb, beta, C, (int)ldc);
}

/* A data-set view of an input matrix (no labels), for the net's API. */
static inline tdl_dataset tdl_kernel_input_view(const gsl_matrix *X)
{
    tdl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = X->size1;
    ds.d = X->size2;
    ds.X = (gsl_matrix *)(uintptr_t)X; /* read only */
    return ds;
}

#endif
