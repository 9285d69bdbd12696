/* tdl/linalg.h — the library's one home for symmetric eigen-solvers and
 * LAPACK status codes.
 *
 *   tdl_sym_eigen_solve   dense symmetric matrices (the exact Hessian, the
 *                         NTK Gram matrix, kernel matrices, ...): divide and
 *                         conquer (dsyevd / dsyevd_2stage) for the whole
 *                         spectrum with the QL/QR dsyev as fallback, MRRR
 *                         (dsyevr) for an index range.
 *   tdl_tridiag_eigen     symmetric tridiagonal matrices (Lanczos' T_m, the
 *                         Golub-Welsch quadrature of SLQ): MRRR (dstevr) or
 *                         QL/QR (dstev).
 *   tdl_lapack_status     a LAPACKE info turned into a status and a message.
 *
 * Matrices are row-major with both triangles filled; since they are
 * symmetric they go to LAPACK as column-major without a transposed copy.
 * Sits low in the library: includes only export.h.
 */
#ifndef TDL_LINALG_H
#define TDL_LINALG_H
#include "tdl/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result of tdl_sym_eigen_solve.  Values ascending; vectors (when wanted)
 * count x dim row-major: row j is the unit eigenvector of values[j].
 * Free with tdl_sym_eigen_free (safe on a zeroed struct, idempotent). */
typedef struct tdl_sym_eigen {
    size_t dim, count;
    double *values;       /* owned, count */
    double *vectors;      /* owned, count x dim, or NULL */
    const char *driver;   /* LAPACK routine used (static string) */
    double norm;          /* ||A||_2 used by the bound: max |lambda| for the
                             whole spectrum, else min(||A||_1, ||A||_F) of the
                             input (an upper bound of ||A||_2) */
    double error_bound;   /* tdl_sym_eigen_error_bound(norm, dim): every
                             values[j] is within it of the exact eigenvalue of
                             the same index */
} tdl_sym_eigen;

/* Symmetric eigen-decomposition by LAPACK.  A (dim x dim, symmetric, both
 * triangles) is overwritten.  Range: all eigenvalues (lo = 0, hi = dim - 1)
 * or those of indices lo..hi (0-based, ascending order; dsyevr).
 * Errors: TDL_EINVAL (range), TDL_ETOOBIG (dim beyond LAPACK's int),
 * TDL_ENONFINITE (a NaN or infinite entry), TDL_ENOMEM, TDL_ENOCONV (LAPACK
 * did not converge, fallback included: "... the matrix is probably badly
 * scaled; rescale the data, or add a ridge ..."). */
TDL_API int tdl_sym_eigen_solve(double *A, size_t dim, size_t lo, size_t hi, int want_vectors,
                                tdl_sym_eigen *out);
TDL_API void tdl_sym_eigen_free(tdl_sym_eigen *e);

/* Error bound of the dense symmetric eigenvalues (LAPACK Users' Guide, 3rd
 * ed., sec. 4.7 "Error bounds for the symmetric eigenproblem"): the computed
 * lambda_hat_i of every driver above (dsyevd, dsyevd_2stage, dsyev, dsyevr,
 * dsyevr_2stage: backward stable) satisfy
 *     |lambda_hat_i - lambda_i| <= p(n) eps ||A||_2
 * for the i-th exact eigenvalue in ascending order (Weyl's theorem applied to
 * the backward error; the same bound for every i).  LAPACK's guide leaves
 * p(n) as "a modestly growing function of n" and takes p(n) = 1 in its
 * example code (EERRBD = EPSMCH * ANRM).  The worst-case rounding analysis of
 * Householder tridiagonalization gives a constant times n^2 eps (Golub & Van
 * Loan, 4th ed., sec. 8.3.7: O(n^2) flops per entry, mostly far below), in
 * practice it grows like sqrt(n).  tdl takes p(n) = n: a safe multiple of
 * what is observed (tests/check_eigen_bounds.c: 24 eps ||A|| = 0.094 n eps
 * ||A|| at n = 256 on a matrix with a known spectrum), not a proven worst
 * case.  The
 * bound is about the matrix as stored: errors in forming A (a Hessian summed
 * over n examples) are not included.  Returns dim * DBL_EPSILON * norm. */
TDL_API double tdl_sym_eigen_error_bound(double norm, size_t dim);

/* Keep the k values of largest |lambda| (and their vectors), still in
 * ascending order: of an ascending spectrum that is a prefix plus a suffix,
 * taken greedily from the end of larger |lambda| (a tie between the two ends
 * keeps the positive one).  Nothing when k >= e->count. */
TDL_API void tdl_sym_eigen_keep_magnitude(tdl_sym_eigen *e, size_t k);

/* res[j] = ||A v_j - lambda_j v_j||_2 for the pairs of e (which needs its
 * vectors) and a copy A (e->dim x e->dim, row-major) of the matrix that was
 * decomposed, by one dgemm (count x dim doubles of work space).
 * TDL_EINVAL (no vectors), TDL_ETOOBIG, TDL_ENOMEM. */
TDL_API int tdl_sym_eigen_residuals(const double *A, const tdl_sym_eigen *e, double *res);

/* Drivers for symmetric tridiagonal matrices. */
typedef enum tdl_tridiag_driver {
    TDL_TRIDIAG_MRRR,   /* dstevr, all pairs: values to w, d and e destroyed */
    TDL_TRIDIAG_QL      /* dstev: values ascending in d itself (w unused) */
} tdl_tridiag_driver;

/* Eigenvalues and eigenvectors of the n x n symmetric tridiagonal matrix with
 * diagonal d (n) and off-diagonal e (n - 1 entries; room for n), both
 * overwritten.  Z: n x n column-major, column j the unit eigenvector of the
 * j-th value (ldz = n).  MRRR also needs w (n) and isuppz (2n ints).
 * `who` names the caller in messages ("lanczos: LAPACKE_dstevr did not
 * converge (info 3)").  TDL_ENOCONV, TDL_ENOMEM or TDL_EINVAL (a bug). */
TDL_API int tdl_tridiag_eigen(tdl_tridiag_driver driver, size_t n, double *d, double *e, double *w, double *Z,
                              int *isuppz, const char *who);

/* TDL_OK for info 0; else a status and message "WHO: LAPACKE_ROUTINE ...":
 * TDL_ENOMEM (LAPACKE's work or transpose allocation failed), TDL_EINVAL
 * (info < 0: an argument rejected, a bug in libtdl), TDL_ENOCONV (info > 0). */
TDL_API int tdl_lapack_status(int info, const char *who, const char *routine);

#ifdef __cplusplus
}
#endif
#endif
