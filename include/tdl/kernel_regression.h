/* tdl/kernel_regression.h — linear algebra on kernel Gram matrices: spectra,
 * the largest stable learning rate, kernel (ridge) regression, the
 * closed-form gradient-descent and ensemble predictions of the kernel
 * regime, and Monte Carlo kernels over random initializations.
 *
 * Shape legend: n training examples, m test examples, k targets.  Kernels
 * are row-major gsl_matrix, train x train (n x n, symmetric) or test x train
 * (m x n); every output is allocated by the caller.
 */
#ifndef TDL_KERNEL_REGRESSION_H
#define TDL_KERNEL_REGRESSION_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include "tdl/model.h"
#include "tdl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monte Carlo kernels over random initializations: `samples` nets drawn
 * from cfg with seeds seed, seed + 1, ...; nngp = mean over nets and outputs
 * of f_c(x) f_c(x') (the NNGP estimate at this width), ntk = mean of the
 * traced empirical NTK.  Either output (n x n) may be NULL; stderr_out
 * (n x n, may be NULL) receives the standard error of the NTK mean (needs
 * samples >= 2). */
TDL_API int tdl_ntk_monte_carlo(const tdl_mlp_config *cfg, const gsl_matrix *X, size_t samples,
                                unsigned long seed, gsl_matrix *nngp, gsl_matrix *ntk,
                                gsl_matrix *stderr_out);

/* The distribution of a net's initializations, for tdl_ntk_monte_carlo:
 * tdl_mlp_config_default with the net's depth, widths, activation,
 * parametrization, sigmas (as resolved in the net) and biases, and Gaussian
 * initialization. */
TDL_API void tdl_ntk_monte_carlo_config_from_mlp(const tdl_mlp *m, tdl_mlp_config *cfg);

/* Eigenvalues (ascending, n) of a symmetric kernel (LAPACK dsyevd). */
TDL_API int tdl_ntk_eigenvalues(const gsl_matrix *K, double *values);

/* Largest stable learning rate of gradient descent on the MSE loss
 * 1/(2 norm) sum ||f - y||^2 in the kernel regime (Lee et al. 2019 Sec. 2.3):
 * eta_max = 2 (1 + momentum) norm / lambda_max(Theta). */
TDL_API double tdl_ntk_eta_max(double lambda_max, double norm, double momentum);

/* Closed-form gradient-descent MSE dynamics in the kernel regime (Lee et al.
 * 2019 eq. 9-10; neural-tangents gradient_descent_mse), loss
 * 1/(2 norm) sum_i ||f(x_i) - y_i||^2 (norm = n for tdl's mse, which is a
 * mean over examples; neural-tangents uses norm = n k):
 *   train  f_t  = y + exp(-eta t Theta / norm) (f_0 - y)
 *   test   f*_t = f*_0 + Theta_*x Theta^{-1} (exp(-eta t Theta / norm) - I)(f_0 - y)
 * By eigen-decomposition (eigenvalues clamped at 0, expm1); t = INFINITY by a
 * Cholesky solve (TDL_ENOTPD as tdl_ntk_arora_complexity when Theta + ridge I
 * is singular to working precision).  `ridge` >= 0 is added to Theta's diagonal.  Y, F0 (n x k;
 * F0 NULL = 0), Kt (m x n, test x train; NULL: no test), Ft0 (m x k; NULL = 0).
 * Outputs Ft (n x k) and Ftest (m x k) may be NULL. */
TDL_API int tdl_ntk_predict(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *F0,
                            const gsl_matrix *Kt, const gsl_matrix *Ft0, double eta, double t,
                            double norm, double ridge, gsl_matrix *Ft, gsl_matrix *Ftest);

/* The regression targets of a data set for a net with C outputs, as tdl's
 * mse loss sees them: Y's first C columns (regression), the 0/1 label for
 * C = 1, one-hot rows otherwise (a label >= C gives a zero row).  Y (n x C)
 * is allocated by the caller. */
TDL_API int tdl_ntk_targets(const tdl_dataset *ds, size_t C, gsl_matrix *Y);

/* Kernel (ridge) regression: Kt (K + ridge I)^{-1} Y into out (m x k), by
 * Cholesky (TDL_ENOTPD as tdl_ntk_arora_complexity). */
TDL_API int tdl_ntk_kernel_regression(const gsl_matrix *K, const gsl_matrix *Y,
                                      const gsl_matrix *Kt, double ridge, gsl_matrix *out);

/* Mean and covariance over random initializations of an infinitely wide net
 * trained for time t (Lee et al. 2019 eq. 15-16):
 *   A = Theta_*x Theta^{-1} (I - exp(-eta Theta t / norm))
 *   mean = A y,   cov = K_** + A K A^T - (A K_x* + K_*x A^T)
 * Theta, K: train NTK and NNGP (n x n); Theta_t, K_t: test x train (m x n);
 * K_tt: test x test NNGP (m x m); y (n x k).  mean (m x k), cov (m x m). */
TDL_API int tdl_ntk_ensemble(const gsl_matrix *Theta, const gsl_matrix *K,
                             const gsl_matrix *Theta_t, const gsl_matrix *K_t,
                             const gsl_matrix *K_tt, const gsl_matrix *Y, double eta, double t,
                             double norm, double ridge, gsl_matrix *mean, gsl_matrix *cov);

#ifdef __cplusplus
}
#endif
#endif
