/* tdl/signal.h — signal propagation in deep, wide random nets (mean-field
 * theory) and the input-output Jacobian spectra of deep random nets.
 *
 * Setting (Poole et al. 2016, "Exponential expressivity in deep neural
 * networks through transient chaos", eqs. 2-6; Schoenholz et al. 2017, "Deep
 * information propagation", Sec. 2-3): an L-layer net of width N,
 *     h^l = W^l x^{l-1} + b^l,  x^l = phi(h^l),
 *     W^l_ij ~ N(0, sigma_w^2 / N),  b^l_i ~ N(0, sigma_b^2).
 * As N -> infinity the pre-activations of one input have length
 * q^l = (1/N) sum_i (h^l_i)^2 and two inputs have correlation
 * c^l = q^l_ab / sqrt(q^l_aa q^l_bb), with (u, v) ~ N(0, [[q1, k], [k, q2]]):
 *   length map        q' = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2
 *   correlation map   c' = (sigma_w^2 E[phi(u) phi(v)] + sigma_b^2) / q'
 *                     for two inputs of equal length q, k = c q
 *   chi_1             sigma_w^2 E[phi'(sqrt(q*) z)^2]   (= dc'/dc at c = 1)
 *   chi_q = dq'/dq    chi_1 + sigma_w^2 E[phi(sqrt(q*) z) phi''(sqrt(q*) z)]
 *   chi_c = dc'/dc    sigma_w^2 E[phi'(u) phi'(v)] at q1 = q2 = q*, k = c* q*
 *   depth scales      xi_q = -1 / log chi_q,  xi_c = -1 / log chi_c
 *                     (Schoenholz et al. 2017 eqs. 5-9: |q^l - q*| ~ e^{-l/xi_q},
 *                     |c^l - c*| ~ e^{-l/xi_c}).
 * (Equation numbers are as recalled, not re-checked against the papers; the
 * formulas themselves are verified in tests/check_signal.c against finite
 * differences of the maps and Monte Carlo.)
 * chi_q and chi_c are the derivatives of the maps at their fixed points: by
 * Gaussian integration by parts d/dq E[phi(sqrt q z)^2] = E[phi'^2 + phi phi'']
 * and by Price's theorem d/dk E[phi(u) phi(v)] = E[phi'(u) phi'(v)].  The
 * ordered phase has chi_1 < 1 (c* = 1, so chi_c = chi_1), the chaotic phase
 * chi_1 > 1 (c* < 1); the edge of chaos chi_1 = 1 is where xi_c diverges.
 *
 * The Gaussian expectations use the dual maps of tdl/kernel_dual.h (closed
 * forms for relu / leaky-relu / abrelu / identity / erf / quadratic,
 * composite Gauss-Legendre quadrature otherwise); the 1D integral
 * E[phi phi''] is always by quadrature.
 */
#ifndef TDL_SIGNAL_H
#define TDL_SIGNAL_H
#include "tdl/export.h"
#include "tdl/memory.h"

#include <stddef.h>
#include "tdl/model.h"
#include "tdl/names.h"
#include "tdl/kernel_dual.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_signal_config {
    tdl_act act;          /* the activation phi */
    double sigma_w;       /* weight scale (W ~ N(0, sigma_w^2 / N)), >= 0 */
    double sigma_b;       /* bias scale (b ~ N(0, sigma_b^2)), >= 0 */
    int force_numeric;    /* 1: quadrature even where a closed form exists */
    size_t quad;          /* quadrature points per panel (0: TDL_NTK_QUAD_DEFAULT) */
    /* Optional progress hook (NULL: none), called every few layers by
     * tdl_signal_iterate, tdl_signal_simulate and tdl_signal_jacobian_sv
     * with the stage ("mean field", "random net", "Jacobian"), the layer
     * done and the depth; a nonzero return stops the work (TDL_EINVAL). */
    int (*progress)(const char *stage, size_t layer, size_t depth, void *user);
    void *user;
} tdl_signal_config;

/* Defaults: tanh, sigma_w 1, sigma_b 0, closed forms where they exist. */
TDL_API void tdl_signal_config_default(tdl_signal_config *cfg);

/* q' = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (q >= 0). */
TDL_API int tdl_signal_qmap(const tdl_signal_config *cfg, double q, double *q_next);
/* c' of two inputs of the same length q with correlation c in [-1, 1]. */
TDL_API int tdl_signal_cmap(const tdl_signal_config *cfg, double q, double c, double *c_next);
/* General one-layer covariance map: (q1, q2, k) -> (q1', q2', k'). */
TDL_API int tdl_signal_covmap(const tdl_signal_config *cfg, double q1, double q2, double k,
                              double *q1_next, double *q2_next, double *k_next);

/* Results of the mean-field analysis. */
typedef struct tdl_signal_stats {
    double q0;            /* starting length of the iteration */
    double q_star;        /* fixed point of the length map (INFINITY: unbounded) */
    int q_bounded;        /* 0 when q^l grows without bound (then the rest is NaN) */
    size_t q_iterations;  /* length-map iterations used */
    double q_residual;    /* |q'(q*) - q*| */
    double c_star;        /* attracting fixed point of the correlation map */
    size_t c_iterations;
    double chi1, chi_q, chi_c;
    double xi_q, xi_c;    /* INFINITY where chi = 1 exactly */
    int phase;            /* -1 ordered (chi1 < 1), 0 critical, +1 chaotic */
} tdl_signal_stats;

/* q* by iterating the length map from q0 (> = 0) and polishing with Newton
 * steps; c* by iterating the correlation map from c0 (ordered phase: c* = 1);
 * then chi_1, chi_q, chi_c, xi_q, xi_c.  tol: relative tolerance of the
 * fixed points (0: 1e-13).  Returns TDL_ENOCONV when an iteration does not
 * settle within its budget (with the last iterate in out). */
TDL_API int tdl_signal_analyze(const tdl_signal_config *cfg, double q0, double c0, double tol,
                               tdl_signal_stats *out);

/* The mean-field iterates of a pair of inputs with q^0 = q0 (both) and
 * correlation c^0 = c0: q[l], c[l] for l = 0..depth (arrays of depth + 1).
 * When q^l overflows (TDL_ENONFINITE) or reaches 0 (TDL_EINVAL) the message
 * ends with advice in the configuration's terms, after the last "; ":
 * "lower sigma_b", "lower q0", "lower sigma_w", "lower sigma_w or the depth
 * (below L)", "lower the depth (below L) or use sigma_b > 0" (the overflows
 * of tdl_signal_simulate and tdl_signal_jacobian_sv end with "lower sigma_w
 * or the depth"); `tdl signal` names its options there instead. */
TDL_API int tdl_signal_iterate(const tdl_signal_config *cfg, double q0, double c0, size_t depth,
                               double *q, double *c);

/* The critical sigma_w where chi_1 = 1 at this sigma_b (bisection on
 * [lo, hi], which must bracket it); sigma_w in cfg is ignored. */
TDL_API int tdl_signal_critical_sigma_w(const tdl_signal_config *cfg, double lo, double hi,
                                        double *sigma_w_crit);

/* chi_1 on a grid: chi[i * nb + j] at sigma_w = sw[i], sigma_b = sb[j]
 * (NaN where q* is unbounded). */
TDL_API int tdl_signal_phase_diagram(const tdl_signal_config *cfg, const double *sw, size_t nw,
                                     const double *sb, size_t nb, double *chi);

/* ---- deep random nets of finite width ----------------------------------- */

typedef enum tdl_signal_init { TDL_SIGNAL_GAUSSIAN, TDL_SIGNAL_ORTHOGONAL } tdl_signal_init;

/* "gaussian", "orthogonal" (tdl/names.h). */
TDL_API extern const tdl_name tdl_signal_init_names[];

/* Refuse, before allocating, a simulation or a Jacobian of width N that
 * does not fit: TDL_ETOOBIG past `limit` bytes, or with limit = 0 past the
 * memory available now (tdl_memory_require, tdl/memory.h). */
TDL_API int tdl_signal_memory_check(size_t width, int jacobian, size_t limit);

/* Propagate two inputs through one random net (width N, depth L, square
 * layers, weights drawn layer by layer, seeded).  Layer 0 holds the
 * pre-activations h^0 = sqrt(q0 N) (e_a, c0 e_a + sqrt(1 - c0^2) e_b), e_a, e_b
 * orthonormal (Gram-Schmidt on two Gaussian vectors), so (1/N)|h_a^0|^2 =
 * (1/N)|h_b^0|^2 = q0 and their correlation is c0 exactly; the first layer
 * acts on x^0 = phi(h^0), matching tdl_signal_iterate.  Outputs (depth + 1
 * entries, index 0 = the input): q[l] = (1/N) |h_a^l|^2, c[l] = h_a.h_b /
 * (|h_a| |h_b|), and chi[l] = sigma_w^2 (1/N) sum_i phi'(h^l_{a,i})^2 (the
 * empirical chi_1 of layer l; chi[0] = NaN).  Any output may be NULL. */
TDL_API int tdl_signal_simulate(const tdl_signal_config *cfg, tdl_signal_init init, size_t width,
                                size_t depth, double q0, double c0, unsigned long seed, double *q,
                                double *c, double *chi);

/* Singular values (descending, width of them) of the input-output Jacobian
 * J = D^L W^L ... D^1 W^1 (D^l = diag phi'(h^l); Pennington, Schoenholz,
 * Ganguli 2017 eq. 3) of one random net of width N and depth L whose input
 * is x^0 = phi(h^0), h^0 ~ N(0, q_in I) (q_in = q* puts the net at its fixed
 * point).  Products by BLAS-3 dgemm, singular values by LAPACK dgesdd. */
TDL_API int tdl_signal_jacobian_sv(const tdl_signal_config *cfg, tdl_signal_init init, size_t width,
                                   size_t depth, double q_in, unsigned long seed, double *sv);

#ifdef __cplusplus
}
#endif
#endif
