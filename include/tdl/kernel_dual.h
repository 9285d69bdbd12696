/* tdl/kernel_dual.h — analytic infinite-width kernels: the dual maps of an
 * activation (T, Tdot) in closed form or by quadrature, and the NNGP / NTK
 * recursion built on them.  The mean-field maps of tdl/signal.h use the
 * same dual maps.
 *
 * Shape legend: n examples (rows of X, n x d).  Gram matrices are row-major
 * with both triangles filled; the caller allocates them (gsl_matrix).
 *
 * Conventions:
 *   analytic        the conventions of neural-tangents (Novak et al. 2020):
 *                   Sigma_0 = x.x'/d,
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
#ifndef TDL_KERNEL_DUAL_H
#define TDL_KERNEL_DUAL_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include "tdl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

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
/* Parse the activation names of tdl_act_parse plus "sign", "step", "abs",
 * "sin[:a,b,c]", "erf:a,b,c". */
TDL_API int tdl_kact_parse(const char *text, tdl_kact *out);

/* The dual maps (Cho and Saul 2009; Lee et al. 2018) for (u, v) ~ N(0, [[q1, k], [k, q2]]):
 * T = E[phi(u) phi(v)], Tdot = E[phi'(u) phi'(v)] (either output may be
 * NULL).  quad: Gauss-Legendre points per panel of the composite rule used
 * for TDL_KACT_NUMERIC (0: the default; 2..64): each 1D Gaussian integral
 * runs over [-9, 9] on panels graded towards the activation's transition
 * (kernel_dual.c explains why Gauss-Hermite is not enough for tanh at large
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
 * parametrization.  Mean-field parametrization (TDL_PARAM_MF, tdl/model.h):
 * refused with TDL_EINVAL.  There f_mf = f_ntk / sqrt(n_{L-1}) at the same
 * theta, so at any width its NNGP is Sigma^(L) / n_{L-1} and its NTK at init
 * Theta^(L) / n_{L-1}: both -> 0 (the output at init vanishes like
 * n^{-1/2}).  The rescaled n_{L-1} Theta_mf starts at Theta^(L), but with
 * the mean-field learning rate (~ n_{L-1}) it moves by O(1) during training
 * (Chizat, Oyallon & Bach 2019; Mei, Montanari & Nguyen 2018: the limit is a
 * PDE on the distribution of the units, not a kernel method), so no fixed
 * kernel describes the trained net.  nngp and ntk (n1 x n2) may be NULL;
 * X2 NULL = X1. */
TDL_API int tdl_ntk_analytic(const tdl_ntk_analytic_config *cfg, const gsl_matrix *X1,
                             const gsl_matrix *X2, gsl_matrix *nngp, gsl_matrix *ntk);

#ifdef __cplusplus
}
#endif
#endif
