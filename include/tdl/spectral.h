/* tdl/spectral.h — matrix-free spectral methods for a symmetric operator.
 *
 * Every method sees the operator only through a callback y = A x
 * (tdl_matvec_fn): a Hessian- or Gauss-Newton-vector product (tdl/net.h),
 * a kernel Gram matrix, or an explicit matrix.  A must be symmetric; nothing
 * checks it (a non-symmetric A gives meaningless numbers, never a crash).
 *
 *   tdl_lanczos      a few extreme eigenpairs, with their residuals
 *   tdl_hutchinson   stochastic trace with Rademacher probes
 *   tdl_hutchpp      Hutch++ trace: exact on a sketched subspace + Hutchinson
 *   tdl_slq          stochastic Lanczos quadrature: raw nodes and weights
 *   tdl_slq_density  a smoothed density from those, in the conventions of
 *                    PyHessian, hessian-eigenthings or Papyan (curvlinops)
 *
 * Shapes: P is the order of A; vectors are P doubles, contiguous.
 *
 * Common behaviour:
 *   - Randomness comes from GSL's mt19937 seeded with `seed`: the same seed,
 *     sizes and operator give the same result.
 *   - A callback status other than TDL_OK stops the method, which returns that
 *     status (a value outside enum tdl_status becomes TDL_EINVAL) with a
 *     message naming the product that failed and, when the callback left one
 *     through libtdl, its message.  A product with a NaN or an infinity stops
 *     the method with TDL_ENONFINITE.
 *   - Working memory is counted before anything is allocated; a request that
 *     overflows size_t, exceeds the available memory (tdl_memory_require,
 *     tdl/memory.h), or has P beyond the BLAS integer range (INT_MAX) fails
 *     with TDL_ETOOBIG.
 *   - On failure the output structures are left empty (NULL pointers, zero
 *     sizes): nothing to free, nothing leaked.
 *   - The library never prints.
 */
#ifndef TDL_SPECTRAL_H
#define TDL_SPECTRAL_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/names.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = A x for a symmetric P x P operator A (x and y do not overlap; y is
 * fully overwritten).  Return TDL_OK, or a status that stops the caller. */
typedef int (*tdl_matvec_fn)(const double *x, double *y, void *ctx);

/* ---- Lanczos: extreme eigenpairs ----------------------------------------
 *
 * Which end of the spectrum:
 *   TDL_WHICH_LARGEST    the k largest algebraic eigenvalues
 *   TDL_WHICH_SMALLEST   the k smallest algebraic eigenvalues
 *   TDL_WHICH_MAGNITUDE  the k of largest |lambda| (what PyHessian calls
 *                        "top": the result can be negative)
 * Values are always reported in ASCENDING order, whatever `which` is. */
typedef enum tdl_which { TDL_WHICH_LARGEST, TDL_WHICH_SMALLEST, TDL_WHICH_MAGNITUDE } tdl_which;

/* "largest", "smallest", "magnitude" (tdl/names.h). */
TDL_API extern const tdl_name tdl_which_names[];
TDL_API int tdl_which_parse(const char *text, tdl_which *out);
TDL_API const char *tdl_which_name(tdl_which which);

/* Flags of tdl_lanczos (OR them; 0 = values only, no check). */
#define TDL_LANCZOS_VECTORS 1u      /* return the Ritz vectors (and true residuals) */
#define TDL_LANCZOS_MULTIPLICITY 2u /* check for missed copies of multiple eigenvalues */
#define TDL_LANCZOS_STOP_ON_BOUND 4u /* stop each pair at its certified accuracy (below) */

/* Defaults used when tdl_lanczos gets max_steps = 0 or tol = 0. */
#define TDL_LANCZOS_TOL_DEFAULT 1e-10
#define TDL_LANCZOS_STEPS_DEFAULT(k) ((k) * 10 > 100 ? (k) * 10 : 100)

typedef struct tdl_lanczos_result {
    size_t k;            /* pairs returned */
    size_t P;            /* order of A */
    double *values;      /* k, ascending */
    double *vectors;     /* P x k row-major, column j <-> values[j], unit
                            norm; NULL without TDL_LANCZOS_VECTORS */
    double *residuals;   /* k: ||A v_j - values[j] v_j||_2 computed with one
                            extra product per pair when vectors are kept;
                            otherwise the Lanczos estimate |beta_m s_{m,j}| */
    size_t iterations;   /* Lanczos steps, over all runs */
    size_t matvecs;      /* operator products, residual checks included */
    int converged;       /* 1 if every pair met the tolerance (or is exact:
                            invariant subspace, basis filling R^P); 0 if
                            max_steps ran out first -- the values are then
                            the best Ritz values found, with residuals */
    /* Error bounds, k each (see "Error bounds" below) */
    double *residual_bounds;  /* ||r_j|| + rounding: some eigenvalue of A
                                 lies within it of values[j] */
    double *gaps;             /* estimated distance from values[j] to the
                                 rest of the spectrum; NaN when not known */
    double *quadratic_bounds; /* residual_bounds^2 / gaps + rounding
                                 (INFINITY where the gap is NaN) */
    double *error_bounds;     /* the bound to report: min of the two */
    double norm_estimate;     /* ||A||_est = max(max_j ||A v_j||, max |theta|),
                                 a lower estimate of ||A||_2 */
    double rounding;          /* (P + iterations) eps norm_estimate, added to
                                 every residual in the bounds */
} tdl_lanczos_result;

/* tdl_lanczos — k extreme eigenpairs of A by Lanczos with full
 * re-orthogonalization (Golub & Van Loan, Matrix Computations, 4th ed.,
 * sec. 10.1-10.3; Parlett, The Symmetric Eigenvalue Problem, ch. 13).
 *
 * Inputs:   f, ctx     the operator; P its order; 1 <= k <= P
 *           which      the end of the spectrum (above)
 *           max_steps  Lanczos vectors kept (0: TDL_LANCZOS_STEPS_DEFAULT(k));
 *                      clipped to P; must be >= k.  The basis is P x max_steps
 *                      doubles: this is the memory bound.
 *           tol        relative tolerance (0: TDL_LANCZOS_TOL_DEFAULT)
 *           seed       start vector and restarts
 *           flags      TDL_LANCZOS_VECTORS, TDL_LANCZOS_MULTIPLICITY
 * Output:   *out, filled on success (free with tdl_lanczos_result_free).
 * Returns:  TDL_OK (check out->converged), TDL_EINVAL, TDL_ETOOBIG,
 *           TDL_ENOMEM, TDL_ENONFINITE, TDL_ENOCONV (LAPACK failed), or the
 *           callback's status.
 *
 * Method: start from a seeded Gaussian vector, normalized.  Step j forms
 * w = A v_j and orthogonalizes it against the whole basis twice by classical
 * Gram-Schmidt ("twice is enough": Giraud, Langou, Rozloznik 2005), which
 * gives alpha_j; beta_j = ||w||.  The Ritz values theta_i are the
 * eigenvalues of the tridiagonal T_m (LAPACKE_dstevr); the residual of the
 * Ritz pair (theta_i, V_m s_i) is |beta_m s_{m,i}|.  It stops when the k
 * wanted pairs all have |beta_m s_{m,i}| <= tol * max_i |theta_i|, when the
 * basis fills R^P (exact), or at max_steps (then converged = 0).
 *
 * Breakdown (beta_j <= 16 sqrt(P) eps ||A||_est): the Krylov space is
 * invariant and the Ritz values found are exact; beta_j is set to 0 and
 * Lanczos restarts from a fresh random vector orthogonal to the basis (T_m
 * becomes block diagonal).  The new block explores exactly the unexplored
 * complement, where more copies of a wanted eigenvalue may hide (low rank:
 * the null space; repeated eigenvalues), so it is a probe: the run stops
 * only when the probe's extreme Ritz value has converged without beating the
 * k-th wanted value (by more than tol ||A||_est), or when the
 * Kuczynski-Wozniakowski bound (SIAM J. Matrix Anal. Appl. 13, 1992, Thm 4.2,
 * random start) puts the probability that a better value still hides below
 * 1e-10.  Rank-deficient operators therefore get the right number of zeros.
 *
 * Multiple eigenvalues without a breakdown.  In exact arithmetic a Krylov
 * space holds one vector of each eigenspace, so single-vector Lanczos sees
 * ONE copy of a repeated eigenvalue unless rounding brings in others.  When
 * a wanted eigenvalue is repeated -- the Hessian of a linear model under mse,
 * (1/n) X^T X (x) I_C, repeats every eigenvalue C times -- the plain run can
 * return the next distinct eigenvalues in place of the copies, each a true
 * eigenvalue with a small residual and converged = 1.
 * TDL_LANCZOS_MULTIPLICITY checks for this: the k pairs found are locked, and
 * a new Lanczos run on the orthogonal complement of all locked vectors probes
 * (as above) for a value beating the k-th wanted one; one that does is
 * locked too and the check repeats (at most k + 1 checks).  A check that
 * finds nothing typically costs 20-40 products when the next eigenvalue is
 * well separated from the k-th (the bound needs sqrt(gap) (2m - 1) ~ 30,
 * gap relative to the spread), more when it is close; one that finds a copy
 * costs a converged run.  Extra memory: (2k + 1) x P doubles.  The residual
 * estimates then ignore the coupling with the locked pairs (at most their
 * own residuals each); use TDL_LANCZOS_VECTORS for true residuals.
 *
 * converged is 1 when every returned pair met the tolerance by its estimate
 * (or is exact).
 *
 * Error bounds.  For a unit vector y and theta = y^T A y with residual
 * r = A y - theta y, some eigenvalue lambda of A satisfies
 *     |lambda - theta| <= ||r||                    (residual bound; Parlett,
 *                  The Symmetric Eigenvalue Problem, Thm 4.5.1; GVL 4th ed.
 *                  Thm 8.1.13 / sec. 10.1.4)
 * and, if no other eigenvalue lies within gap of theta,
 *     |lambda - theta| <= ||r||^2 / gap            (Parlett Thm 11.7.1;
 *                  Kahan-Parlett-Jiang 1982).
 * "Some" eigenvalue: when the k intervals values[j] +- residual_bounds[j]
 * are disjoint they hold k distinct eigenvalues, and since Ritz values
 * interlace (the i-th largest Ritz value never exceeds lambda_i) those are
 * the k wanted ones once no eigenvalue was missed -- which the
 * multiplicity probe makes a 1e-10 event.
 *   residual_bounds[j] = ||r_j|| + rounding, with ||r_j|| the TRUE residual
 *       (TDL_LANCZOS_VECTORS: one product per pair) or the estimate
 *       |beta_m s_{m,j}|, which under full re-orthogonalization differs from
 *       it by O(sqrt(m) eps ||A||) (Paige 1976), covered by `rounding`; a pair
 *       found by the multiplicity check on the complement of locked pairs
 *       also gets their residuals sqrt(sum r_l^2) (the coupling) and one
 *       more rounding term per locked pair.
 *   gaps[j] = min over the other Ritz values theta_i of the same run (and
 *       the other candidates of the multiplicity check) of
 *       |theta_i - values[j]| - (their residual bound), set only when both
 *       Ritz neighbours of values[j] have converged and the gap exceeds
 *       residual_bounds[j] (NaN otherwise).  It assumes that A has no
 *       eigenvalue besides those the converged neighbours approximate
 *       closer to values[j]: Lanczos finds the end of the spectrum in
 *       order, and a missed eigenvalue there is what the multiplicity probe
 *       bounds (probability 1e-10); without TDL_LANCZOS_MULTIPLICITY (or for
 *       a pair inside a cluster that Lanczos has not resolved) the gap is an
 *       estimate, and residual_bounds is the bound that needs no assumption.
 *   quadratic_bounds[j] = residual_bounds[j]^2 / gaps[j] + rounding (the
 *       bound is about the Rayleigh quotient y^T A y; values[j] comes from
 *       T_m and differs from it by rounding).
 *   error_bounds[j] = min(residual_bounds[j], quadratic_bounds[j]).
 * The operator is A as the callback computes it: errors of the products
 * themselves (a Hessian-vector product summed over n examples) are not
 * included.
 *
 * TDL_LANCZOS_STOP_ON_BOUND: a pair counts as converged when its error
 * bound (as above, computed from T_m at every check) is <= tol ||A||_est,
 * rather than its residual: once the gap is known the quadratic bound
 * ||r||^2 / gap reaches tol ||A|| at a residual near sqrt(tol ||A|| gap),
 * so each eigenvalue stops at its certified accuracy, in fewer products
 * (top-5 of the Hessian of a 784-8-10 net on 2,000 MNIST images: 19
 * products against 21, and ARPACK's 31 at tol 1e-10 and 34 at tol 0;
 * bench/bench_lanczos.sh).  The values are as accurate as with the residual
 * test; the Ritz VECTORS are then accurate to about sqrt(tol) only, and
 * `residuals` are larger than tol ||A||.  With TDL_LANCZOS_MULTIPLICITY the
 * probe's extreme value stops the same way.
 */
TDL_API int tdl_lanczos(tdl_matvec_fn f, void *ctx, size_t P, size_t k, tdl_which which,
                        size_t max_steps, double tol, unsigned long seed, unsigned flags,
                        tdl_lanczos_result *out);

/* tdl_lanczos_from — tdl_lanczos from a given start vector (warm start).
 * start: P doubles, need not be normalized; NULL, a zero vector or one with
 * a non-finite entry gives the seeded random start, i.e. exactly
 * tdl_lanczos.  A good warm start for a slowly changing operator (the
 * Hessian along training) is the previous top Ritz vector, or the sum of the
 * previous top-k vectors: the Krylov space then starts rich in the wanted
 * eigenvectors and converges in fewer products.  The seed still drives the
 * restarts after a breakdown and the multiplicity probes (which start from
 * random vectors: a probe must be random for its probability bound). */
TDL_API int tdl_lanczos_from(tdl_matvec_fn f, void *ctx, size_t P, size_t k, tdl_which which, size_t max_steps,
                             double tol, unsigned long seed, unsigned flags, const double *start,
                             tdl_lanczos_result *out);

/* Frees the arrays and zeroes *r (NULL-safe, idempotent). */
TDL_API void tdl_lanczos_result_free(tdl_lanczos_result *r);

/* ---- trace estimators ---------------------------------------------------
 *
 * tdl_hutchinson — Hutchinson (1989) estimator: probes Rademacher vectors z
 * (entries +-1), trace = mean of z^T A z; std_error = sample standard
 * deviation (n - 1 denominator) / sqrt(probes).  Unbiased; its variance is
 * 2 (||A||_F^2 - sum_i A_ii^2) / probes.  probes >= 2 (one product each).
 * std_error may be NULL. */
TDL_API int tdl_hutchinson(tdl_matvec_fn f, void *ctx, size_t P, size_t probes, unsigned long seed,
                           double *trace, double *std_error);

/* tdl_hutchpp — Hutch++ (Meyer, Musco, Musco, Woodruff, SOSA 2021,
 * Algorithm 1) with a budget of `matvecs` products (>= 4):
 *   s = min(floor(matvecs / 3), P) Rademacher columns S (P x s),
 *   Q = orth(A S)                       (LAPACKE dgeqrf + dorgqr; s products)
 *   t1 = trace(Q^T A Q)                 (s products)
 *   t2 = Hutchinson on (I - QQ^T) A (I - QQ^T) with the remaining
 *        matvecs - 2 s probes g = (I - QQ^T) z
 *   trace = t1 + t2.
 * std_error is the standard error of the Hutchinson part t2 only (sample
 * std of the probe values / sqrt(probes)); the sketch part t1 is exact for
 * the subspace drawn.  If rank(A) <= s the estimate is exact up to rounding
 * (and std_error ~ 0); a budget >= 3P gives the exact trace.
 * std_error may be NULL. */
TDL_API int tdl_hutchpp(tdl_matvec_fn f, void *ctx, size_t P, size_t matvecs, unsigned long seed,
                        double *trace, double *std_error);

/* ---- stochastic Lanczos quadrature --------------------------------------
 *
 * tdl_slq — spectral measure phi = (1/P) sum_i delta(lambda_i) of A by
 * stochastic Lanczos quadrature (Lin, Saad, Yang, SIAM Review 2016;
 * Ghorbani, Krishnan, Xiao, ICML 2019; Ubaru, Chen, Saad 2017).
 * Each of `runs` runs starts from v = z / sqrt(P), z Rademacher, and takes
 * `steps` Lanczos steps with full re-orthogonalization (twice, as above);
 * nodes = eigenvalues of T (ascending), weights = squared FIRST components of
 * T's eigenvectors (LAPACKE_dstev).  Then sum_j w_j g(theta_j) is the Gauss
 * quadrature of v^T g(A) v, exact for polynomials of degree < 2 steps, so
 * for g(x) = x^p, p < 2 steps, each run is an unbiased (Hutchinson) estimate
 * of trace(A^p) / P.  The weights of a run sum to 1.
 * steps is clipped to P.  If a run's Krylov space becomes invariant after
 * j < steps steps its quadrature is exact with j nodes: the remaining
 * entries of that run repeat its largest node with weight 0.
 * Free with tdl_slq_result_free. */
typedef struct tdl_slq_result {
    size_t runs, steps;
    double *nodes;       /* runs x steps row-major, ascending within a run */
    double *weights;     /* runs x steps; the weights of a run sum to 1 */
    size_t matvecs;      /* operator products used */
} tdl_slq_result;

TDL_API int tdl_slq(tdl_matvec_fn f, void *ctx, size_t P, size_t runs, size_t steps,
                    unsigned long seed, tdl_slq_result *out);

/* Frees the arrays and zeroes *r (NULL-safe, idempotent). */
TDL_API void tdl_slq_result_free(tdl_slq_result *r);

/* Smoothing conventions of tdl_slq_density.  Below, theta_rj and w_rj are
 * node j and weight j of run r, R runs, m = r->steps, N(x; mu, s) the normal
 * density of standard deviation s, and every density is the average over
 * the runs of sum_j w_rj N(x; theta_rj, s).
 *
 * TDL_SMOOTH_PYHESSIAN  (PyHessian density_plot.py; Ghorbani et al. 2019,
 *   google spectral-density): lo = mean_r min_j theta_rj - 0.01,
 *   hi = mean_r max_j theta_rj + 0.01 (means of the per-run extremes, as the
 *   code does; one run: min node - 0.01 .. max node + 0.01); default 10,000
 *   points; Gaussian VARIANCE s^2 = 1e-5 * max(1, hi - lo).  PyHessian
 *   renormalizes with a Riemann sum; we use the trapezoid rule (the two
 *   differ by the end values, ~0).  PyHessian plots density + 1e-7 on a log
 *   axis; that is left to the caller.
 * TDL_SMOOTH_EIGENTHINGS  (pytorch-hessian-eigenthings, spectral_density):
 *   spread = max(max theta - min theta, 1e-9 * max(1, |theta|max)) over all
 *   runs, std s = spread / m, grid [min - 0.1 spread, max + 0.1 spread],
 *   default 10,000 points.
 * TDL_SMOOTH_PAPYAN  (Papyan 2020, JMLR 21, Alg. 2; curvlinops
 *   lanczos_approximate_spectrum): the extreme nodes over all runs, widened by
 *   a margin of 0.05 of their spread on each side, define [lo, hi]; the
 *   spectrum is mapped to [-1, 1] by x' = (x - c) / d, c = (lo + hi) / 2,
 *   d = (hi - lo) / 2; there the std is s' = 2 / (m - 1) / sqrt(8 ln kappa),
 *   kappa = 3 (needs m >= 2); the density is evaluated on the rescaled axis
 *   and mapped back (divided by d).  Default 1024 points over [lo, hi].
 *   (curvlinops takes the extremes from eigsh; the extreme nodes are Ritz
 *   values, inside the spectrum.)
 *
 * In every convention the result is finally normalized to unit integral by
 * the trapezoid rule on the grid. */
typedef enum tdl_smoothing { TDL_SMOOTH_PYHESSIAN, TDL_SMOOTH_EIGENTHINGS, TDL_SMOOTH_PAPYAN } tdl_smoothing;

/* "pyhessian", "eigenthings", "papyan" (tdl/names.h). */
TDL_API extern const tdl_name tdl_smoothing_names[];
TDL_API int tdl_smoothing_parse(const char *text, tdl_smoothing *out);
TDL_API const char *tdl_smoothing_name(tdl_smoothing conv);

/* A density on a uniform grid. */
typedef struct tdl_density {
    size_t points;       /* grid size */
    double *grid;        /* points, ascending, uniform, endpoints exact */
    double *values;      /* points; integrate to 1 (trapezoid on grid) */
    double sigma;        /* Gaussian standard deviation used, in eigenvalue
                            units (for Papyan s' d) */
    tdl_smoothing conv;  /* the convention */
} tdl_density;

/* tdl_slq_density — smoothed density of an SLQ result.
 *   points          grid size (0: the convention's default; else >= 2)
 *   sigma_override  NaN: the convention's width; otherwise the Gaussian
 *                   STANDARD DEVIATION in eigenvalue units (> 0), which
 *                   replaces the convention's (the grid stays)
 *   *out            filled on success; free with tdl_density_free
 * Returns TDL_OK, TDL_EINVAL, TDL_ENOMEM, TDL_ETOOBIG, or TDL_ENONFINITE (a
 * non-finite node or weight, or a density that vanishes on the grid: use
 * more points). */
TDL_API int tdl_slq_density(const tdl_slq_result *r, tdl_smoothing conv, size_t points,
                            double sigma_override, tdl_density *out);

/* Frees the arrays and zeroes *d (NULL-safe, idempotent). */
TDL_API void tdl_density_free(tdl_density *d);

/* tdl_eigen_density — the smoothed density of `count` known eigenvalues
 * (ascending), e.g. the exact spectrum from tdl/linalg.h: the eigenvalues are
 * the nodes of ONE run with weights 1/count, smoothed as tdl_slq_density
 * does (same conventions, points and sigma_override).  TDL_EINVAL for
 * count 0, else as tdl_slq_density. */
TDL_API int tdl_eigen_density(const double *values, size_t count, tdl_smoothing conv, size_t points,
                              double sigma_override, tdl_density *out);

/* tdl_slq_trace — trace(A) from an SLQ result of an operator of order P:
 * P times the mean over runs of sum_j w_j theta_j (each run is a Hutchinson
 * sample); std_error (may be NULL): the standard error of that mean across
 * runs (sample std / sqrt(runs)), NaN for one run. */
TDL_API void tdl_slq_trace(const tdl_slq_result *r, size_t P, double *trace, double *std_error);

#ifdef __cplusplus
}
#endif
#endif
