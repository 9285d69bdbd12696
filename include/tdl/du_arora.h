/* tdl/du_arora.h — the Gram matrices of Du et al.'s two-layer ReLU analysis
 * (H^infty and its finite-width H(W)) and Arora et al.'s data-dependent
 * complexity.
 *
 * Shape legend: n examples (rows of X, n x d), m hidden units (rows of W,
 * m x d).  Gram matrices are n x n, row-major with both triangles filled,
 * allocated by the caller (gsl_matrix).
 */
#ifndef TDL_DU_ARORA_H
#define TDL_DU_ARORA_H
#include "tdl/export.h"

#include <gsl/gsl_matrix.h>
#include "tdl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Du, Zhai, Poczos, Singh 2019 (ICLR; arXiv 1810.02054, Sec. 3, the matrix
 * H^infty defined before Assumption 3.1):
 *     H_inf[i,j] = E_{w ~ N(0,I)} [x_i.x_j 1{w.x_i >= 0, w.x_j >= 0}]
 *                = x_i.x_j (pi - theta_ij) / (2 pi)
 * on the rows of X (n x d) AS GIVEN.  The theorem assumes unit-norm rows,
 * where theta_ij = arccos(x_i.x_j); for general rows the expectation is
 * still exact with theta_ij the angle between x_i and x_j, computed from
 * the normalized rows' difference and sum (exactly 0 on the diagonal).  H (n x n) is allocated by the
 * caller; symmetric PSD. */
TDL_API int tdl_ntk_h_inf(const gsl_matrix *X, gsl_matrix *H);

/* H_inf between two sets of rows: H[i,j] = H_inf(x1_i, x2_j) (n1 x n2,
 * allocated by the caller), e.g. test x train for kernel predictions.
 * The same formula as tdl_ntk_h_inf, with the inner products x1_i.x2_j by
 * one dgemm (tdl_ntk_h_inf's by dsyrk): an entry differs from the same
 * pair's entry of tdl_ntk_h_inf on the stacked rows only by the rounding of
 * that inner product (at most d eps |x1_i| |x2_j| / 2 pi x pi), and a row
 * equal to a row of X2 gets exactly the diagonal's angle.  Scratch: n1 + n2
 * doubles (the blocks of a distributed Gram matrix use it: tdl/dist.h). */
TDL_API int tdl_ntk_h_inf_cross(const gsl_matrix *X1, const gsl_matrix *X2, gsl_matrix *H);

/* Du et al.'s finite-width Gram matrix at weights W (m x d, rows w_r):
 *     H[i,j] = (1/m) sum_r x_i.x_j 1{w_r.x_i >= 0, w_r.x_j >= 0}
 * computed as (X X^T) .* (S S^T) / m with S the n x m 0/1 pattern (BLAS-3). */
TDL_API int tdl_ntk_h_finite(const gsl_matrix *X, const gsl_matrix *W, gsl_matrix *H);

/* Arora, Du, Hu, Li, Wang 2019 (ICML; arXiv 1901.08584, Theorem 5.1): the
 * data-dependent complexity sqrt(2 y^T H^{-1} y / n) for y in R^n (n = H's
 * size), with `ridge` >= 0 added to the diagonal (absolute).  Cholesky;
 * TDL_ENOTPD if H + ridge I is not positive definite to working precision,
 * the message giving lambda_min(H) and the ridge that would do, absolute and
 * relative to the mean diagonal: "... add a diagonal regularizer of at least
 * R (= r x the mean diagonal)" (tdl_ntk_kernel_regression and tdl_ntk_predict
 * at t = infinity say the same). */
TDL_API int tdl_ntk_arora_complexity(const gsl_matrix *H, const double *y, double ridge,
                                     double *out);

/* The labels y in R^n of Arora et al.'s complexity for a data set with one
 * target: +-1 for two classes (class 1 -> +1, class 0 -> -1), Y's column for
 * regression with one target column.  y (n) is the caller's.  TDL_EINVAL
 * (y untouched) for other data: more classes or target columns. */
TDL_API int tdl_ntk_arora_labels(const tdl_dataset *ds, double *y);

#ifdef __cplusplus
}
#endif
#endif
