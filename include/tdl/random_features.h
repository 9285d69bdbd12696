/* tdl/random_features.h — minimum-norm (ridge) least squares and
 * random-features regression: the model of the double-descent curve.
 *
 * Random-features regression (Rahimi and Recht, "Random features for
 * large-scale kernel machines", NIPS 2007; Mei and Montanari, "The
 * generalization error of random features regression: precise asymptotics
 * and double descent curve", CPAM 2022, eq. (2)-(3); Hastie, Montanari,
 * Rosset and Tibshirani, "Surprises in high-dimensional ridgeless least
 * squares interpolation", Ann. Statist. 2022, Sec. 6 "nonlinear model"):
 * predictions f(x) = sum_j a_j phi(w_j . x) with the first-layer weights
 * w_j drawn at random and frozen and only the second layer a fitted, by
 * ridge least squares, or, at ridge 0, by the minimum-norm least-squares
 * solution (the interpolant of smallest ||a|| once p >= n, the limit of
 * gradient descent from a = 0).  Test risk against the number of features
 * p at fixed n shows the double-descent curve of Belkin, Hsu, Ma and
 * Mandal ("Reconciling modern machine-learning practice and the classical
 * bias-variance trade-off", PNAS 2019, Fig. 1-2): a peak at the
 * interpolation threshold p = n, where the n x p feature matrix is square
 * and its smallest singular value, hence the fit's stability, collapses,
 * and a second descent beyond it.
 *
 * tdl represents the model as a one-hidden-layer net d-p-C (tdl/model.h):
 * its first layer (initialized as usual, e.g. NTK parametrization with
 * Gaussian weights: phi(W x / sqrt(d))) is the random feature map and
 * tdl_rf_fit sets its last layer.  Every tool of tdl (evaluation, `tdl
 * sweep params`, the Hessian ...) then applies to the fitted model.
 */
#ifndef TDL_RANDOM_FEATURES_H
#define TDL_RANDOM_FEATURES_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/model.h"
#include "tdl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a least-squares solve saw (singular values of the n x p matrix A,
 * r = min(n, p) of them). */
typedef struct tdl_lstsq_info {
    size_t rank;             /* singular values > tol */
    double s_max, s_min;     /* largest and smallest of the r singular values */
    double cond;             /* s_max / s_min: the 2-norm condition number of A (inf when s_min = 0) */
    double tol;              /* rank tolerance: rcond * s_max (used at ridge 0) */
    double coef_norm;        /* ||B||_F of the solution */
} tdl_lstsq_info;

/* Minimum-norm ridge least squares by the SVD A = U S V^T (LAPACK dgesdd;
 * stable at the square, ill-conditioned p = n, where normal equations
 * would square the condition number):
 *
 *   B = argmin_B (1/n) ||Y - A B||_F^2 + ridge ||B||_F^2
 *     = V diag(s_i / (s_i^2 + n ridge)) U^T Y            (ridge > 0),
 *   B = A^+ Y = V diag(1/s_i for s_i > tol, else 0) U^T Y (ridge = 0),
 *
 * the scaling of the ridge as in Hastie et al. 2022, eq. (4).  At ridge 0
 * this is the least-squares solution for p < n (full column rank), the
 * minimum-norm interpolant A^T (A A^T)^-1 Y for p > n (full row rank), and
 * the Moore-Penrose solution in general; tol = rcond * s_max, with
 * rcond < 0 meaning max(n, p) * DBL_EPSILON (numpy.linalg.lstsq's
 * rcond=None).
 *
 * A is n x p, Y is n x k, B (output, caller-allocated) is p x k, all
 * row-major.  info may be NULL.  Memory: about (2 n p + n + p) doubles
 * beside the inputs, checked with tdl_memory_require. */
TDL_API int tdl_lstsq_minnorm(const double *A, size_t n, size_t p, const double *Y, size_t k, double ridge,
                              double rcond, double *B, tdl_lstsq_info *info);

/* Random-features regression on a one-hidden-layer net m (depth 2, d-p-C):
 * the last layer (weights, and bias when it has one with b_scale != 0: a
 * constant feature column) becomes the tdl_lstsq_minnorm fit of the mse
 * targets of train (tdl/net.h: one-hot class labels for C > 1, the 0/1
 * label for one output on two classes, Y for regression) on the hidden
 * features phi(z_1(x)); the first layer is left as it is and marked
 * frozen.  theta0 is not changed.  The fitted coefficients count
 * q = p (+ 1 with the bias) per output; the fit interpolates the training
 * set when q >= n (rank n) and ridge = 0.  info may be NULL. */
TDL_API int tdl_rf_fit(tdl_mlp *m, const tdl_dataset *train, double ridge, double rcond, tdl_lstsq_info *info);

/* Coefficients per output of tdl_rf_fit on m: p, plus 1 when the last
 * layer has a bias with b_scale != 0.  0 when m is not of depth 2. */
TDL_API size_t tdl_rf_coefficients(const tdl_mlp *m);

#ifdef __cplusplus
}
#endif
#endif
