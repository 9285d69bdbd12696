/* tdl/ntk.h — neural tangent kernels (NTK) and NNGP kernels: empirical Gram
 * matrices of a finite net, analytic infinite-width kernels, Du et al.'s
 * H_inf, and the kernel linear algebra built on them.
 *
 * Shape legend: n examples (rows of X, n x d), C outputs, P parameters.
 * All Gram matrices are row-major with both triangles filled; the caller
 * allocates them (gsl_matrix) unless a function says otherwise.
 *
 * Conventions (stated in every CLI output):
 *   empirical NTK   Theta(x, x') = J(x) J(x')^T, J = df/dtheta over ALL
 *                   parameters in file order (frozen layers included unless
 *                   TDL_NTK_TRAINABLE is asked).  "full": the (nC x nC)
 *                   matrix, row i*C + c; "trace": sum over outputs divided
 *                   by C (a MEAN, as neural-tangents; the torch.func tutorial
 *                   sums: multiply by C to get it).
 *   analytic        neural-tangents conventions (ntk.md): Sigma_0 = x.x'/d,
 *                   NTK parametrization z = sigma_w/sqrt(n_in) W a + sigma_b b;
 *                   the standard parametrization has the same NNGP and the
 *                   same NTK up to the layer-wise factors documented at
 *                   tdl_ntk_analytic.
 *   angle           from the inputs as 2 atan2(|u^ - v^|, |u^ + v^|) of the
 *                   normalized (augmented) inputs, exactly 0 for equal rows,
 *                   then carried per pair through the layers as
 *                   (sin^2(theta/2), cos^2(theta/2)), accurate near 0 and pi;
 *                   tdl_kact_dual takes it from (q1, q2, k) with an fma
 *                   discriminant.
 */
#ifndef TDL_NTK_H
#define TDL_NTK_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include "tdl/net.h"

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

/* Du et al.'s finite-width Gram matrix at weights W (m x d, rows w_r):
 *     H[i,j] = (1/m) sum_r x_i.x_j 1{w_r.x_i >= 0, w_r.x_j >= 0}
 * computed as (X X^T) .* (S S^T) / m with S the n x m 0/1 pattern (BLAS-3). */
TDL_API int tdl_ntk_h_finite(const gsl_matrix *X, const gsl_matrix *W, gsl_matrix *H);

/* Arora, Du, Hu, Li, Wang 2019 (ICML; arXiv 1901.08584, Theorem 5.1): the
 * data-dependent complexity sqrt(2 y^T H^{-1} y / n) for y in R^n (n = H's
 * size), with `ridge` >= 0 added to the diagonal (absolute).  Cholesky;
 * TDL_ENOTPD with the smallest eigenvalue and a ridge suggestion if H + ridge I
 * is not positive definite. */
TDL_API int tdl_ntk_arora_complexity(const gsl_matrix *H, const double *y, double ridge,
                                     double *out);


/* ---- empirical NTK of a finite net ------------------------------------- */

typedef enum tdl_ntk_method {
    TDL_NTK_AUTO,        /* structured for depth <= 2, Jacobian blocks otherwise */
    TDL_NTK_STRUCTURED,  /* closed form for depth <= 2 (never forms J) */
    TDL_NTK_JACOBIAN     /* J J^T by blocks of examples under budget_bytes */
} tdl_ntk_method;

typedef struct tdl_ntk_options {
    int full;                  /* 0: traced, n1 x n2, MEAN over the C outputs;
                                * 1: full (n1 C) x (n2 C), row i*C + c */
    tdl_ntk_method method;
    unsigned long long layers; /* bit l: include layer l's parameters (W_l, b_l); 0 = all */
    size_t budget_bytes;       /* memory for Jacobian blocks (0: 256 MB) */
} tdl_ntk_options;

TDL_API void tdl_ntk_options_default(tdl_ntk_options *o);
/* The method tdl_ntk_empirical will use ("structured" or "jacobian"). */
TDL_API const char *tdl_ntk_method_name(const tdl_mlp *m, const tdl_ntk_options *o);

/* Empirical NTK Theta(X1, X2) = J(X1) J(X2)^T at the net's current theta
 * (Jacot et al. 2018, Def. of Theta^(L)).  X2 NULL means X2 = X1 (then K is
 * symmetric, both triangles filled).  K (n1 x n2 traced, (n1 C) x (n2 C) full)
 * is allocated by the caller.  Depth <= 2, structured (f = s1 V phi(s0 W x +
 * t0 b) + t1 c):
 *   Theta_cc'(x,x') = delta_cc' [s1^2 phi(z).phi(z') + t1^2]
 *                   + s1^2 (s0^2 x.x' + t0^2) sum_r V_cr V_c'r phi'(z_r) phi'(z'_r)
 * with BLAS-3 products of n x h and n x d matrices: O(n^2 (h + d)). */
TDL_API int tdl_ntk_empirical(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                              const tdl_ntk_options *o, gsl_matrix *K);

/* NTK drift ||Theta(theta) - Theta(theta0)||_F / ||Theta(theta0)||_F on X
 * (traced kernel, Lee et al. 2019 Sec. 2.4); needs m->theta0. */
TDL_API int tdl_ntk_drift(const tdl_mlp *m, const gsl_matrix *X, const tdl_ntk_options *o,
                          double *out);

/* ---- analytic infinite-width kernels ------------------------------------ */

typedef enum tdl_kact_kind {
    TDL_KACT_ABRELU,     /* a min(x,0) + b max(x,0): relu, leaky-relu, abs, identity */
    TDL_KACT_ERF,        /* a erf(b x) + c */
    TDL_KACT_SIGN,       /* sign(x) (Tdot = 0) */
    TDL_KACT_STEP,       /* 1{x > 0} (Tdot = 0) */
    TDL_KACT_SIN,        /* a sin(b x + c) */
    TDL_KACT_QUADRATIC,  /* x^2 */
    TDL_KACT_NUMERIC     /* any tdl_act by 2D quadrature (see tdl_kact_dual) */
} tdl_kact_kind;

typedef struct tdl_kact {
    tdl_kact_kind kind;
    double a, b, c;
    tdl_act numeric;     /* TDL_KACT_NUMERIC */
} tdl_kact;

/* From a net's activation: closed forms where they exist (identity, relu,
 * leaky-relu, abrelu, erf, quadratic), 2D quadrature otherwise (tanh, sigmoid,
 * softplus, gelu).  force_numeric: quadrature for every activation. */
TDL_API void tdl_kact_from_act(const tdl_act *act, int force_numeric, tdl_kact *out);
/* Parse the --act names plus "sign", "step", "abs", "sin[:a,b,c]", "erf:a,b,c". */
TDL_API int tdl_kact_parse(const char *text, tdl_kact *out);

/* The dual maps of ntk.md for (u, v) ~ N(0, [[q1, k], [k, q2]]):
 * T = E[phi(u) phi(v)], Tdot = E[phi'(u) phi'(v)] (either output may be
 * NULL).  quad: Gauss-Legendre points per panel of the composite rule used
 * for TDL_KACT_NUMERIC (0: the default; 2..64): each 1D Gaussian integral
 * runs over [-9, 9] on panels graded towards the activation's transition
 * (ntk.c explains why Gauss-Hermite is not enough for tanh at large
 * variances).  Observed accuracy at the default: ~1e-12. */
#define TDL_NTK_QUAD_DEFAULT 8
TDL_API int tdl_kact_dual(const tdl_kact *act, double q1, double q2, double k, size_t quad,
                          double *T, double *Tdot);

typedef struct tdl_ntk_analytic_config {
    size_t depth;              /* dense layers L >= 1 (L - 1 nonlinearities) */
    size_t widths[TDL_MAX_DEPTH + 1]; /* n_0 = d, ...; used by the standard
                                * parametrization's NTK only */
    tdl_kact act;
    tdl_param_kind param;
    double sigma_w, sigma_b;
    int bias;
    size_t quad;               /* quadrature points per panel (0: TDL_NTK_QUAD_DEFAULT) */
} tdl_ntk_analytic_config;

/* Config of a net's infinite-width limit (its depth, widths, activation,
 * parametrization, sigmas, biases). */
TDL_API void tdl_ntk_analytic_config_from_mlp(const tdl_mlp *m, tdl_ntk_analytic_config *cfg);

/* Analytic NNGP Sigma^(L) and NTK Theta^(L) per output (the kernels are
 * delta_cc' times these), by the recursion (Jacot et al. 2018 Thm 1; Arora et
 * al. 2019 eq. 9-11; neural-tangents conventions):
 *   Sigma^(1) = sigma_w^2 x.x'/d + sigma_b^2,   Theta^(1) = Sigma^(1)
 *   Sigma^(l) = sigma_w^2 T(Sigma^(l-1)) + sigma_b^2
 *   Theta^(l) = Sigma^(l) + sigma_w^2 Tdot(Sigma^(l-1)) Theta^(l-1)
 * NTK parametrization.  Standard parametrization: same NNGP; the weight and
 * bias gradients are not scaled, so the "+ Sigma^(l)" term of the NTK becomes
 * n_{l-1} T(Sigma^(l-1)) + 1 (x.x' + 1 at l = 1; the bias term only with
 * biases): it grows with the widths, which is why the NTK limit uses the NTK
 * parametrization.  nngp and ntk (n1 x n2) may be NULL; X2 NULL = X1. */
TDL_API int tdl_ntk_analytic(const tdl_ntk_analytic_config *cfg, const gsl_matrix *X1,
                             const gsl_matrix *X2, gsl_matrix *nngp, gsl_matrix *ntk);

/* Monte Carlo kernels over random initializations: `samples` nets drawn
 * from cfg with seeds seed, seed + 1, ...; nngp = mean over nets and outputs
 * of f_c(x) f_c(x') (the NNGP estimate at this width), ntk = mean of the
 * traced empirical NTK.  Either output (n x n) may be NULL; stderr_out
 * (n x n, may be NULL) receives the standard error of the NTK mean (needs
 * samples >= 2). */
TDL_API int tdl_ntk_monte_carlo(const tdl_mlp_config *cfg, const gsl_matrix *X, size_t samples,
                                unsigned long seed, gsl_matrix *nngp, gsl_matrix *ntk,
                                gsl_matrix *stderr_out);

/* ---- kernel linear algebra ---------------------------------------------- */

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
 * Cholesky solve.  `ridge` >= 0 is added to Theta's diagonal.  Y, F0 (n x k;
 * F0 NULL = 0), Kt (m x n, test x train; NULL: no test), Ft0 (m x k; NULL = 0).
 * Outputs Ft (n x k) and Ftest (m x k) may be NULL. */
TDL_API int tdl_ntk_predict(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *F0,
                            const gsl_matrix *Kt, const gsl_matrix *Ft0, double eta, double t,
                            double norm, double ridge, gsl_matrix *Ft, gsl_matrix *Ftest);

/* Kernel (ridge) regression: Kt (K + ridge I)^{-1} Y into out (m x k). */
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
