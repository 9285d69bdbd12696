/* ntk.c — neural tangent and NNGP kernels (tdl/ntk.h).
 *
 * References:
 *   Jacot, Gabriel, Hongler 2018 (NeurIPS), "Neural tangent kernel".
 *   Lee et al. 2019 (arXiv 1902.06720), closed-form GD dynamics (eq. 9-16).
 *   Arora et al. 2019 (arXiv 1904.11955), exact NTK recursion (eq. 9-11).
 *   Du, Zhai, Poczos, Singh 2019 (arXiv 1810.02054), H_inf (Sec. 3).
 *   Arora, Du, Hu, Li, Wang 2019 (arXiv 1901.08584), complexity (Thm 5.1).
 *   Cho and Saul 2009 (arc-cosine kernels), Williams 1997 (erf kernel).
 *   neural-tangents (Novak et al. 2020) for conventions (../shared/reference/ntk.md).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <lapacke.h>
#include "tdl/ntk.h"
#include "tdl/hessian.h"
#include "internal.h"
#include "net_internal.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- accurate angles -------------------------------------------------------
 *
 * Every closed-form dual map below depends on the pair (x, x') through the
 * variances q1, q2 and the angle theta between the two (augmented) vectors.
 * theta = atan2(sqrt(q1 q2 - k^2), k) is NOT accurate near theta = 0 or pi:
 * q1 q2 - k^2 is then a difference of nearly equal rounded numbers, an error
 * of eps q1 q2 in it gives theta ~ sqrt(eps) = 1e-8 instead of 0, and the
 * kinked duals (Tdot of relu = (pi - theta)/(2 pi)) inherit that error
 * linearly.  We carry, per pair, the half-angle squares
 *     cm = sin^2(theta/2) = (1 - cos theta)/2,   cp = cos^2(theta/2) = (1 + cos theta)/2
 * (cm + cp = 1), each to a few ulps RELATIVE, so that
 *     theta = 2 atan2(sqrt cm, sqrt cp),   pi - theta = 2 atan2(sqrt cp, sqrt cm),
 *     1 - cos theta = 2 cm,  1 + cos theta = 2 cp,  sin^2 theta = 4 cm cp
 * are all accurate, at theta = 0 and pi included.  This is Kahan's advice for
 * angles between vectors (W. Kahan, "How futile are mindless assessments of
 * roundoff in floating-point computation?", 2006, the section on mangled
 * angles; in the spirit of his "Miscalculating area and angles of a
 * needle-like triangle", 2000/2014): the angle from the difference AND the sum
 * of the unit vectors, 2 atan2(|u^ - v^|, |u^ + v^|), is accurate to a few
 * ulps for every angle and 0 for equal vectors. */

/* a b - c d to within ~1.5 ulp (Kahan's fma algorithm, see Jeannerod, Louvet
 * and Muller, Math. Comp. 82 (2013)). */
static double diff_of_products(double a, double b, double c, double d)
{
    double w = c * d;
    double e = fma(-c, d, w); /* w - c d, exactly */
    double f = fma(a, b, -w);
    return f + e;
}

/* (cm, cp) from h- = sqrt(q1 q2) - k and h+ = sqrt(q1 q2) + k (both >= 0);
 * (1/2, 1/2), i.e. theta = pi/2, when both vanish (a zero-variance input:
 * then every closed form below gives E[phi(u)] E[phi(v)] with the angle
 * irrelevant, except step and the derivative maps, which take theta = pi/2). */
static void angle_normalize(double hm, double hp, double *cm, double *cp)
{
    if (!(hm > 0)) hm = 0;
    if (!(hp > 0)) hp = 0;
    double s = hm + hp;
    if (!(s > 0) || !isfinite(s)) {
        *cm = 0.5;
        *cp = 0.5;
        return;
    }
    *cm = hm / s;
    *cp = hp / s;
}

/* The angle of a covariance (q1, q2, k) (tdl_kact_dual's arguments): with
 * r = sqrt(q1 q2) and the discriminant q1 q2 - k^2 = (r - k)(r + k) computed
 * to ~1 ulp by diff_of_products, the one of h-+ = r -+ k that cancels is
 * (q1 q2 - k^2) / (r +- k).  Exact at k = +-r (theta = 0, pi); near there as
 * accurate as (q1, q2, k) themselves allow. */
static void angle_from_cov(double q1, double q2, double k, double *cm, double *cp)
{
    double r = sqrt(q1 * q2), disc = diff_of_products(q1, q2, k, k);
    if (!(disc > 0)) disc = 0;
    double hm, hp;
    if (k >= 0) {
        hp = r + k;
        hm = hp > 0 ? disc / hp : 0;
    } else {
        hm = r - k;
        hp = disc / hm;
    }
    angle_normalize(hm, hp, cm, cp);
}

/* The angle between u = (s x, t) and v = (s y, t) (x, y in R^d; t = 0 for no
 * bias) with |u|^2 = qx, |v|^2 = qy and u.v = k given (k from BLAS).  With
 * c = k / (|u| |v|): for |c| < 1/2 neither 1 - c nor 1 + c cancels and
 * (cm, cp) = ((1 - c)/2, (1 + c)/2) to a few ulps.  Otherwise the small one is
 * recomputed from the inputs (Kahan, above), cm = |u^ - v^|^2 / 4 or
 * cp = |u^ + v^|^2 / 4 with u^ = u/|u|, and u^ -+ v^ is formed without
 * cancellation (sigma = -1 for the difference, +1 for the sum; u the shorter):
 *     u^ + sigma v^ = (u + sigma v)/|v| + u (|v|^2 - |u|^2) / (|u| |v| (|u| + |v|)),
 *     |v|^2 - |u|^2 = s^2 sum_t (y_t - x_t)(y_t + x_t),
 * where x_t + sigma y_t is exact when the two are within a factor 2 (Sterbenz)
 * and relatively accurate otherwise, and both terms are O(1).  So theta (or
 * pi - theta) is accurate to a few ulps RELATIVE for nearly parallel inputs
 * of similar norms (dividing x and y by their norms first would leave an
 * absolute error eps per component, i.e. a relative error eps/theta, which
 * the kinked duals amplify layer after layer, theta' ~ sqrt theta), to a few
 * ulps absolute always, and exactly 0 for x = y.  O(d) per pair, only when
 * |c| >= 1/2. */
static void angle_from_inputs(const double *x, const double *y, size_t d, double s, double t, double qx,
                              double qy, double k, double *cm, double *cp)
{
    double rx = sqrt(qx), ry = sqrt(qy);
    if (!(rx > 0) || !(ry > 0)) {
        angle_normalize(0, 0, cm, cp);
        return;
    }
    double c = k / (rx * ry);
    if (fabs(c) < 0.5) {
        *cm = (1 - c) / 2;
        *cp = (1 + c) / 2;
        return;
    }
    if (rx > ry) { /* |u^ + sigma v^| is symmetric in u, v: let x be the shorter */
        const double *tp = x;
        x = y;
        y = tp;
        double tr = rx;
        rx = ry;
        ry = tr;
    }
    const double sg = c > 0 ? -1.0 : 1.0;
    double dq = 0;
    for (size_t i = 0; i < d; i++) dq += (y[i] - x[i]) * (y[i] + x[i]);
    const double g = (s * s * dq) / (rx * ry * (rx + ry));
    double e = (t + sg * t) / ry + t * g, acc = e * e;
    for (size_t i = 0; i < d; i++) {
        e = s * (x[i] + sg * y[i]) / ry + s * x[i] * g;
        acc += e * e;
    }
    double small = acc / 4;
    if (small > 1) small = 1;
    if (c > 0) {
        *cm = small;
        *cp = 1 - small;
    } else {
        *cp = small;
        *cm = 1 - small;
    }
}

/* theta and pi - theta from (cm, cp), each accurate to a few ulps relative. */
static double angle_theta(double cm, double cp) { return 2 * atan2(sqrt(cm), sqrt(cp)); }
static double angle_comp(double cm, double cp) { return 2 * atan2(sqrt(cp), sqrt(cm)); }

static int check_square(const gsl_matrix *H, size_t n, const char *what)
{
    if (!H || H->size1 != n || H->size2 != n)
        return tdl_fail(TDL_ESHAPE, "%s: expected a %zu x %zu matrix, got %zu x %zu", what, n, n,
                        H ? H->size1 : 0, H ? H->size2 : 0);
    return TDL_OK;
}

/* Fill the lower triangle of a symmetric row-major matrix from the upper. */
static void symmetrize_from_upper(double *A, size_t n, size_t lda)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) A[i * lda + j] = A[j * lda + i];
}

/* G = X X^T (n x n, both triangles) by dsyrk. */
static void gram_xxt(const gsl_matrix *X, gsl_matrix *G)
{
    size_t n = X->size1;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)X->size2, 1.0, X->data,
                (int)X->tda, 0.0, G->data, (int)G->tda);
    symmetrize_from_upper(G->data, n, G->tda);
}

int tdl_ntk_h_inf(const gsl_matrix *X, gsl_matrix *H)
{
    if (!X || X->size1 == 0 || X->size2 == 0)
        return tdl_fail(TDL_EINVAL, "h_inf: empty input matrix");
    size_t n = X->size1;
    int rc = check_square(H, n, "h_inf: H");
    if (rc) return rc;
    if (n > (size_t)INT32_MAX || X->size2 > (size_t)INT32_MAX)
        return tdl_fail(TDL_ETOOBIG, "h_inf: %zu x %zu input too large for BLAS", n, X->size2);
    gram_xxt(X, H);
    const size_t d = X->size2;
    double *nrm = tdl_malloc(n * sizeof(double), "h_inf row norms");
    if (!nrm) return TDL_ENOMEM;
    /* squared row norms by one plain loop (the same bits whatever the BLAS
     * kernel), for the angles; the inner products are BLAS's */
    for (size_t i = 0; i < n; i++) {
        const double *x = X->data + i * X->tda;
        double s = 0;
        for (size_t t = 0; t < d; t++) s += x[t] * x[t];
        nrm[i] = s;
    }
    /* Du et al. 2019, Sec. 3: H_inf[i,j] = x_i.x_j (pi - theta_ij) / (2 pi), with
     * pi - theta_ij from the half-angle squares of angle_from_inputs: exactly
     * pi for equal (and parallel) rows, so H_ii = x_i.x_i / 2 exactly. */
    for (size_t i = 0; i < n; i++) {
        const double *xi = X->data + i * X->tda;
        for (size_t j = i; j < n; j++) {
            double k = H->data[i * H->tda + j], cm, cp;
            if (!isfinite(k)) {
                free(nrm);
                return tdl_fail(TDL_ENONFINITE, "h_inf: non-finite inner product at rows %zu, %zu", i, j);
            }
            angle_from_inputs(xi, X->data + j * X->tda, d, 1.0, 0.0, nrm[i], nrm[j], k, &cm, &cp);
            double v = k * (angle_comp(cm, cp) / (2 * M_PI));
            H->data[i * H->tda + j] = v;
            H->data[j * H->tda + i] = v;
        }
    }
    free(nrm);
    return TDL_OK;
}

int tdl_ntk_h_finite(const gsl_matrix *X, const gsl_matrix *W, gsl_matrix *H)
{
    if (!X || !W || X->size1 == 0 || X->size2 == 0 || W->size1 == 0)
        return tdl_fail(TDL_EINVAL, "h_finite: empty input or weight matrix");
    if (W->size2 != X->size2)
        return tdl_fail(TDL_ESHAPE, "h_finite: weights have %zu columns but inputs have %zu", W->size2,
                        X->size2);
    size_t n = X->size1, m = W->size1, d = X->size2;
    int rc = check_square(H, n, "h_finite: H");
    if (rc) return rc;
    size_t bytes;
    if (tdl_mul_size(n, m, &bytes) || tdl_mul_size(bytes, sizeof(double), &bytes))
        return tdl_fail(TDL_ETOOBIG, "h_finite: %zu x %zu activation pattern too large", n, m);
    double *S = tdl_malloc(bytes, "h_finite activation pattern");
    double *G = tdl_malloc(n * n * sizeof(double), "h_finite Gram");
    if (!S || !G) {
        free(S);
        free(G);
        return TDL_ENOMEM;
    }
    /* S = X W^T, then the pattern 1{w_r.x_i >= 0}. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m, (int)d, 1.0, X->data,
                (int)X->tda, W->data, (int)W->tda, 0.0, S, (int)m);
    for (size_t i = 0; i < n * m; i++) S[i] = S[i] >= 0 ? 1.0 : 0.0;
    /* H = (X X^T) .* (S S^T) / m */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)m, 1.0 / (double)m, S, (int)m,
                0.0, G, (int)n);
    gram_xxt(X, H);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double v = H->data[i * H->tda + j] * G[i * n + j];
            H->data[i * H->tda + j] = v;
            H->data[j * H->tda + i] = v;
        }
    free(S);
    free(G);
    return TDL_OK;
}

/* Smallest eigenvalue of a symmetric matrix (copy; values only). */
static int lambda_min_of(const double *A, size_t n, size_t lda, double *out)
{
    double *B = tdl_malloc(n * n * sizeof(double), "eigenvalue workspace");
    if (!B) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) memcpy(B + i * n, A + i * lda, n * sizeof(double));
    tdl_sym_eigen e;
    int rc = tdl_sym_eigen_solve(B, n, 0, 0, 0, &e);
    free(B);
    if (rc) return rc;
    *out = e.values[0];
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

/* Cholesky factor (lower, in L) of A + ridge I; on failure TDL_ENOTPD with
 * lambda_min(A) and a ridge that would do.
 *
 * Positive definiteness is decided from the pivots, not from dpotrf's info
 * alone: for a matrix that is singular in exact arithmetic (duplicated
 * examples give equal rows) the last pivot is a rounding residue whose sign,
 * hence whether dpotrf stops, depends on the BLAS kernel's summation order.
 * The computed factor is the exact one of A + dA with
 * |dA| <= gamma_{n+1} |L||L^T|, so |dA_ij| <= (n+1) u sqrt(a_ii a_jj) (Higham,
 * Accuracy and Stability of Numerical Algorithms, 2nd ed., Thm 10.3), and a
 * pivot L_kk^2 = p means that A + dA - p e_k e_k^T is singular, i.e.
 * lambda_min(A) <= p + ||dA||_2.  A pivot p <= tau = n eps max_i (A + ridge I)_ii
 * (eps = 2u) therefore certifies that A + ridge I is singular to working
 * precision relative to its scale (cond >~ 1/(n eps), where no solve is
 * meaningful), whichever way the rounding went: we call it not positive
 * definite.  An exactly singular A with duplicated rows has its residual
 * pivot bounded by the same backward error (in practice ~sqrt(n) u max a_ii),
 * so it falls below tau on every kernel. */
static int cholesky_ridge(const double *A, size_t n, size_t lda, double ridge, double *L,
                          const char *what)
{
    double mean_diag = 0, max_diag = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(L + i * n, A + i * lda, n * sizeof(double));
        L[i * n + i] += ridge;
        mean_diag += A[i * lda + i] / (double)n;
        max_diag = fmax(max_diag, L[i * n + i]);
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n);
    if (info < 0) return tdl_fail(TDL_EINVAL, "%s: dpotrf argument %d is invalid", what, (int)-info);
    if (info == 0) {
        const double tau = (double)n * DBL_EPSILON * max_diag;
        for (size_t i = 0; i < n; i++)
            if (L[i * n + i] * L[i * n + i] <= tau) {
                info = (lapack_int)(i + 1);
                break;
            }
    }
    if (info > 0) {
        double lmin = NAN;
        if (lambda_min_of(A, n, lda, &lmin) != TDL_OK) lmin = NAN;
        double suggest = fmax(-lmin, 0) + 1e-8 * fabs(mean_diag);
        return tdl_fail(TDL_ENOTPD,
                        "%s: the %zu x %zu kernel matrix plus ridge %.3g is not positive definite (lambda_min = %.6g): add a diagonal regularizer of at least %.3g (= %.3g x the mean diagonal; tdl ntk --ridge takes the relative value)",
                        what, n, n, ridge, lmin, suggest, mean_diag > 0 ? suggest / mean_diag : NAN);
    }
    return TDL_OK;
}

int tdl_ntk_arora_complexity(const gsl_matrix *H, const double *y, double ridge, double *out)
{
    if (!H || H->size1 == 0) return tdl_fail(TDL_EINVAL, "arora complexity: empty kernel matrix");
    size_t n = H->size1;
    int rc = check_square(H, n, "arora complexity: H");
    if (rc) return rc;
    if (!y || !out) return tdl_fail(TDL_EINVAL, "arora complexity: NULL labels or output");
    if (!(ridge >= 0) || !isfinite(ridge))
        return tdl_fail(TDL_EINVAL, "arora complexity: ridge must be finite and >= 0, got %g", ridge);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) return tdl_fail(TDL_ENONFINITE, "arora complexity: label %zu is not finite", i);
    double *L = tdl_malloc(n * n * sizeof(double), "arora complexity Cholesky factor");
    double *z = tdl_malloc(n * sizeof(double), "arora complexity vector");
    if (!L || !z) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    rc = cholesky_ridge(H->data, n, H->tda, ridge, L, "arora complexity");
    if (rc) goto cleanup;
    /* y^T (L L^T)^{-1} y = ||L^{-1} y||^2 */
    memcpy(z, y, n * sizeof(double));
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, L, (int)n, z, 1);
    double q = cblas_ddot((int)n, z, 1, z, 1);
    *out = sqrt(2.0 * q / (double)n);
    if (!isfinite(*out)) rc = tdl_fail(TDL_ENONFINITE, "arora complexity: result is not finite");
cleanup:
    free(L);
    free(z);
    return rc;
}

/* ---- empirical NTK -------------------------------------------------------- */

void tdl_ntk_options_default(tdl_ntk_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = TDL_NTK_AUTO;
}

static int use_structured(const tdl_mlp *m, const tdl_ntk_options *o)
{
    return o->method == TDL_NTK_STRUCTURED || (o->method == TDL_NTK_AUTO && m->depth <= 2);
}

const char *tdl_ntk_method_name(const tdl_mlp *m, const tdl_ntk_options *o)
{
    return use_structured(m, o) ? "structured" : "jacobian";
}

static int layer_on(const tdl_ntk_options *o, size_t l)
{
    return o->layers == 0 || (l < 64 && ((o->layers >> l) & 1ULL));
}

/* Refuse scratch memory that would not fit, before allocating. */
static int scratch_check(size_t count, size_t a, size_t b, const char *what)
{
    size_t bytes;
    if (tdl_mul_size(a, b, &bytes) || tdl_mul_size(bytes, count, &bytes) ||
        tdl_mul_size(bytes, sizeof(double), &bytes) || bytes > tdl_memory_available())
        return tdl_fail(TDL_ETOOBIG, "%s needs %zu x %zu x %zu doubles, more than the memory available",
                        what, count, a, b);
    return TDL_OK;
}

/* C = alpha A B^T + beta C (row-major, contiguous ld = cols). */
static void gemm_nt(size_t n1, size_t n2, size_t k, double alpha, const double *A, size_t lda,
                    const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n1, (int)n2, (int)k, alpha, A, (int)lda, B,
                (int)ldb, beta, C, (int)ldc);
}

/* First-layer pre-activations Z = s0 X W^T + t0 b, phi(Z) into A and phi'(Z)
 * into D (n x h each; either may be NULL). */
static void shallow_hidden(const tdl_mlp *m, const gsl_matrix *X, double *Z, double *A, double *D)
{
    const tdl_layer *L0 = &m->layers[0];
    size_t n = X->size1, h = L0->out;
    gemm_nt(n, h, L0->in, L0->w_scale, X->data, X->tda, m->theta + L0->w_off, L0->in, 0.0, Z, h);
    if (L0->has_bias)
        for (size_t i = 0; i < n; i++)
            for (size_t r = 0; r < h; r++) Z[i * h + r] += L0->b_scale * m->theta[L0->b_off + r];
    tdl_act_eval(&m->act, Z, n * h, A, D, NULL);
}

/* Structured NTK of a net of depth <= 2 (formula in ntk.h). */
static int ntk_structured(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                          const tdl_ntk_options *o, gsl_matrix *K)
{
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    const size_t n1 = X1->size1, n2 = X2->size1, d = X1->size2;
    const tdl_layer *L0 = &m->layers[0];
    const size_t C = m->layers[m->depth - 1].out;
    double *Q = NULL, *Z1 = NULL, *A1 = NULL, *D1 = NULL, *Z2 = NULL, *A2 = NULL, *D2 = NULL,
           *AA = NULL, *G1 = NULL, *G2 = NULL, *P = NULL;
    int rc = TDL_OK;
    /* Q = s0^2 X1 X2^T + t0^2: the first layer's input kernel (n1 x n2) */
    Q = tdl_malloc(n1 * n2 * sizeof(double), "NTK input Gram");
    if (!Q) return TDL_ENOMEM;
    double t0sq = L0->has_bias ? L0->b_scale * L0->b_scale : 0.0;
    if (sym) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)d, L0->w_scale * L0->w_scale,
                    X1->data, (int)X1->tda, 0.0, Q, (int)n1);
        symmetrize_from_upper(Q, n1, n1);
    } else {
        gemm_nt(n1, n2, d, L0->w_scale * L0->w_scale, X1->data, X1->tda, X2->data, X2->tda, 0.0, Q, n2);
    }
    for (size_t i = 0; i < n1 * n2; i++) Q[i] += t0sq;

    if (m->depth == 1) {
        /* f_c = s0 W_c x + t0 b_c: Theta_cc' = delta_cc' (s0^2 x.x' + t0^2) */
        int on = layer_on(o, 0);
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < n2; j++) {
                double v = on ? Q[i * n2 + j] : 0.0;
                if (!o->full) {
                    K->data[i * K->tda + j] = v;
                } else {
                    for (size_t c = 0; c < C; c++)
                        for (size_t c2 = 0; c2 < C; c2++)
                            K->data[(i * C + c) * K->tda + j * C + c2] = c == c2 ? v : 0.0;
                }
            }
        free(Q);
        return TDL_OK;
    }

    const tdl_layer *L1 = &m->layers[1];
    const size_t h = L0->out;
    const double s1sq = L1->w_scale * L1->w_scale, t1sq = L1->has_bias ? L1->b_scale * L1->b_scale : 0.0;
    const double *V = m->theta + L1->w_off; /* C x h */
    if ((rc = scratch_check(sym ? 3 : 6, n1 > n2 ? n1 : n2, h, "NTK hidden activations")) != TDL_OK) goto cleanup;
    Z1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    A1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    D1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    AA = tdl_malloc(n1 * n2 * sizeof(double), "NTK Gram");
    if (!Z1 || !A1 || !D1 || !AA) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    shallow_hidden(m, X1, Z1, A1, D1);
    if (sym) {
        A2 = A1;
        D2 = D1;
    } else {
        Z2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        A2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        D2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        if (!Z2 || !A2 || !D2) {
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        shallow_hidden(m, X2, Z2, A2, D2);
    }
    /* layer-1 term: AA = s1^2 phi(Z1) phi(Z2)^T + t1^2 (times delta_cc') */
    if (layer_on(o, 1)) {
        if (sym) {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)h, s1sq, A1, (int)h, 0.0, AA,
                        (int)n1);
            symmetrize_from_upper(AA, n1, n1);
        } else {
            gemm_nt(n1, n2, h, s1sq, A1, h, A2, h, 0.0, AA, n2);
        }
        for (size_t i = 0; i < n1 * n2; i++) AA[i] += t1sq;
    } else {
        memset(AA, 0, n1 * n2 * sizeof(double));
    }
    const int on0 = layer_on(o, 0);
    if (!o->full) {
        /* (1/C) sum_c: layer-0 term = s1^2 Q .* (D1 diag(v) D2^T) / C with
         * v_r = sum_c V_cr^2; scale the columns of D by sqrt(v_r / C). */
        if (on0) {
            double *sv = tdl_malloc(h * sizeof(double), "NTK output weights");
            if (!sv) {
                rc = TDL_ENOMEM;
                goto cleanup;
            }
            for (size_t r = 0; r < h; r++) {
                double v = 0;
                for (size_t c = 0; c < C; c++) v += V[c * h + r] * V[c * h + r];
                sv[r] = sqrt(v / (double)C);
            }
            /* reuse Z1 (and Z2) as the scaled D */
            for (size_t i = 0; i < n1; i++)
                for (size_t r = 0; r < h; r++) Z1[i * h + r] = D1[i * h + r] * sv[r];
            if (!sym)
                for (size_t i = 0; i < n2; i++)
                    for (size_t r = 0; r < h; r++) Z2[i * h + r] = D2[i * h + r] * sv[r];
            free(sv);
            double *Kd = K->data;
            size_t ldk = K->tda;
            if (sym) {
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)h, 1.0, Z1, (int)h, 0.0, Kd,
                            (int)ldk);
                for (size_t i = 0; i < n1; i++)
                    for (size_t j = i; j < n1; j++) {
                        double v = AA[i * n1 + j] + s1sq * Q[i * n1 + j] * Kd[i * ldk + j];
                        Kd[i * ldk + j] = v;
                        Kd[j * ldk + i] = v;
                    }
            } else {
                gemm_nt(n1, n2, h, 1.0, Z1, h, Z2, h, 0.0, Kd, ldk);
                for (size_t i = 0; i < n1; i++)
                    for (size_t j = 0; j < n2; j++)
                        Kd[i * ldk + j] = AA[i * n2 + j] + s1sq * Q[i * n2 + j] * Kd[i * ldk + j];
            }
        } else {
            for (size_t i = 0; i < n1; i++) memcpy(K->data + i * K->tda, AA + i * n2, n2 * sizeof(double));
        }
        goto cleanup;
    }
    /* full: K[(i,c),(j,c')] = delta_cc' AA_ij + s1^2 Q_ij (D1 diag(V_c .* V_c') D2^T)_ij */
    G1 = tdl_malloc(n1 * h * sizeof(double), "NTK scaled derivatives");
    G2 = tdl_malloc(n2 * h * sizeof(double), "NTK scaled derivatives");
    P = tdl_malloc(n1 * n2 * sizeof(double), "NTK output block");
    if (!G1 || !G2 || !P) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < n1; i++)
            for (size_t r = 0; r < h; r++) G1[i * h + r] = D1[i * h + r] * V[c * h + r];
        for (size_t c2 = 0; c2 < C; c2++) {
            if (on0) {
                for (size_t i = 0; i < n2; i++)
                    for (size_t r = 0; r < h; r++) G2[i * h + r] = D2[i * h + r] * V[c2 * h + r];
                gemm_nt(n1, n2, h, s1sq, G1, h, G2, h, 0.0, P, n2);
            }
            for (size_t i = 0; i < n1; i++)
                for (size_t j = 0; j < n2; j++)
                    K->data[(i * C + c) * K->tda + j * C + c2] =
                        (c == c2 ? AA[i * n2 + j] : 0.0) + (on0 ? Q[i * n2 + j] * P[i * n2 + j] : 0.0);
        }
    }
    if (sym) tdl_symmetrize(K->data, n1 * C, K->tda); /* exact symmetry despite different summation orders */
cleanup:
    free(Q);
    free(Z1);
    free(A1);
    free(D1);
    if (!sym) {
        free(Z2);
        free(A2);
        free(D2);
    }
    free(AA);
    free(G1);
    free(G2);
    free(P);
    return rc;
}

/* A data-set view of an input matrix for tdl_mlp_jacobian (no labels). */
static tdl_dataset input_view(const gsl_matrix *X)
{
    tdl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = X->size1;
    ds.d = X->size2;
    ds.X = (gsl_matrix *)(uintptr_t)X; /* read only */
    return ds;
}

/* Generic NTK: J(X1 block) J(X2 block)^T over the selected layers' columns,
 * blocks of examples sized so that two Jacobian blocks fit the budget. */
static int ntk_jacobian(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                        const tdl_ntk_options *o, gsl_matrix *K)
{
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    const size_t n1 = X1->size1, n2 = X2->size1, P = m->n_params;
    const size_t C = m->layers[m->depth - 1].out;
    size_t budget = o->budget_bytes ? o->budget_bytes : (size_t)256 << 20;
    size_t b = tdl_jacobian_block_rows(m, budget / 2);
    size_t nmax = n1 > n2 ? n1 : n2;
    if (b > nmax) b = nmax;
    if (b > 512) b = 512;
    int rc = scratch_check(2, b * C, P, "NTK Jacobian blocks");
    if (rc) return rc;
    tdl_dataset d1 = input_view(X1), d2 = input_view(X2);
    tdl_net_work *w = NULL;
    double *J1 = tdl_malloc(b * C * P * sizeof(double), "NTK Jacobian block");
    double *J2 = tdl_malloc(b * C * P * sizeof(double), "NTK Jacobian block");
    double *Kb = tdl_malloc(b * C * b * C * sizeof(double), "NTK block");
    if (!J1 || !J2 || !Kb) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if ((rc = tdl_net_work_alloc(m, b, &w)) != TDL_OK) goto cleanup;
    for (size_t i0 = 0; i0 < n1; i0 += b) {
        size_t bi = n1 - i0 < b ? n1 - i0 : b;
        if ((rc = tdl_mlp_jacobian(m, &d1, i0, bi, w, J1)) != TDL_OK) goto cleanup;
        for (size_t j0 = sym ? i0 : 0; j0 < n2; j0 += b) {
            size_t bj = n2 - j0 < b ? n2 - j0 : b;
            const double *Jb = J1;
            if (!(sym && j0 == i0)) {
                if ((rc = tdl_mlp_jacobian(m, &d2, j0, bj, w, J2)) != TDL_OK) goto cleanup;
                Jb = J2;
            }
            int first = 1;
            for (size_t l = 0; l < m->depth; l++) {
                if (!layer_on(o, l)) continue;
                size_t off, len;
                tdl_layer_range(m, l, &off, &len);
                gemm_nt(bi * C, bj * C, len, 1.0, J1 + off, P, Jb + off, P, first ? 0.0 : 1.0, Kb, bj * C);
                first = 0;
            }
            if (first) memset(Kb, 0, bi * C * bj * C * sizeof(double));
            for (size_t i = 0; i < bi; i++)
                for (size_t j = 0; j < bj; j++) {
                    if (o->full) {
                        for (size_t c = 0; c < C; c++)
                            for (size_t c2 = 0; c2 < C; c2++) {
                                double v = Kb[(i * C + c) * bj * C + j * C + c2];
                                K->data[((i0 + i) * C + c) * K->tda + (j0 + j) * C + c2] = v;
                                if (sym) K->data[((j0 + j) * C + c2) * K->tda + (i0 + i) * C + c] = v;
                            }
                    } else {
                        double v = 0;
                        for (size_t c = 0; c < C; c++) v += Kb[(i * C + c) * bj * C + j * C + c];
                        v /= (double)C;
                        K->data[(i0 + i) * K->tda + j0 + j] = v;
                        if (sym) K->data[(j0 + j) * K->tda + i0 + i] = v;
                    }
                }
        }
    }
    if (sym) tdl_symmetrize(K->data, K->size1, K->tda); /* the diagonal blocks: exact symmetry */
cleanup:
    tdl_net_work_free(&w);
    free(J1);
    free(J2);
    free(Kb);
    return rc;
}

int tdl_ntk_empirical(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                      const tdl_ntk_options *o, gsl_matrix *K)
{
    tdl_ntk_options def;
    if (!o) {
        tdl_ntk_options_default(&def);
        o = &def;
    }
    if (!m || !X1 || X1->size1 == 0) return tdl_fail(TDL_EINVAL, "empirical NTK: no model or no inputs");
    const size_t d = m->layers[0].in, C = m->layers[m->depth - 1].out;
    if (X1->size2 != d || (X2 && X2->size2 != d))
        return tdl_fail(TDL_ESHAPE, "empirical NTK: the model takes %zu inputs but the data has %zu features", d,
                        X2 && X2->size2 != d ? X2->size2 : X1->size2);
    if (X2 && X2->size1 == 0) return tdl_fail(TDL_EINVAL, "empirical NTK: empty second input set");
    const size_t n1 = X1->size1, n2 = X2 ? X2->size1 : n1;
    const size_t r1 = o->full ? n1 * C : n1, r2 = o->full ? n2 * C : n2;
    if (!K || K->size1 != r1 || K->size2 != r2)
        return tdl_fail(TDL_ESHAPE, "empirical NTK: K must be %zu x %zu, got %zu x %zu", r1, r2, K ? K->size1 : 0,
                        K ? K->size2 : 0);
    if (n1 > (size_t)INT32_MAX / (C ? C : 1) || n2 > (size_t)INT32_MAX / (C ? C : 1))
        return tdl_fail(TDL_ETOOBIG, "empirical NTK: too many examples for BLAS");
    if (use_structured(m, o)) {
        if (m->depth > 2)
            return tdl_fail(TDL_EINVAL, "empirical NTK: the structured method needs depth <= 2 (this net has %zu layers); use the jacobian method",
                            m->depth);
        return ntk_structured(m, X1, X2, o, K);
    }
    return ntk_jacobian(m, X1, X2, o, K);
}

int tdl_ntk_drift(const tdl_mlp *m, const gsl_matrix *X, const tdl_ntk_options *o, double *out)
{
    if (!m || !m->theta0)
        return tdl_fail(TDL_EINVAL, "NTK drift needs the initial parameters (init.* tensors) in the model file");
    tdl_ntk_options oo;
    if (o) oo = *o; else tdl_ntk_options_default(&oo);
    oo.full = 0;
    size_t n = X->size1;
    int rc = tdl_dense_memory_check(n, 2, 0, "NTK drift");
    if (rc) return rc;
    tdl_mlp *m0 = NULL;
    gsl_matrix *K = gsl_matrix_alloc(n, n), *K0 = gsl_matrix_alloc(n, n);
    if (!K || !K0) {
        rc = tdl_fail(TDL_ENOMEM, "out of memory for the NTK drift");
        goto cleanup;
    }
    if ((rc = tdl_mlp_clone(m, &m0)) != TDL_OK) goto cleanup;
    memcpy(m0->theta, m->theta0, m->n_params * sizeof(double));
    if ((rc = tdl_ntk_empirical(m, X, NULL, &oo, K)) != TDL_OK) goto cleanup;
    if ((rc = tdl_ntk_empirical(m0, X, NULL, &oo, K0)) != TDL_OK) goto cleanup;
    double num = 0, den = 0;
    for (size_t i = 0; i < n * n; i++) {
        double dlt = K->data[i] - K0->data[i];
        num += dlt * dlt;
        den += K0->data[i] * K0->data[i];
    }
    if (!(den > 0)) {
        rc = tdl_fail(TDL_ENONFINITE, "NTK drift: the initial kernel is zero");
        goto cleanup;
    }
    *out = sqrt(num / den);
cleanup:
    tdl_mlp_free(&m0);
    if (K) gsl_matrix_free(K);
    if (K0) gsl_matrix_free(K0);
    return rc;
}

/* ---- analytic kernels ----------------------------------------------------- */

void tdl_kact_from_act(const tdl_act *act, int force_numeric, tdl_kact *out)
{
    memset(out, 0, sizeof *out);
    out->numeric = *act;
    out->kind = TDL_KACT_NUMERIC;
    if (force_numeric) return;
    switch (act->kind) {
    case TDL_ACT_IDENTITY: out->kind = TDL_KACT_ABRELU; out->a = 1; out->b = 1; break;
    case TDL_ACT_RELU: out->kind = TDL_KACT_ABRELU; out->a = 0; out->b = 1; break;
    case TDL_ACT_LEAKY_RELU: out->kind = TDL_KACT_ABRELU; out->a = act->a; out->b = 1; break;
    case TDL_ACT_ABRELU: out->kind = TDL_KACT_ABRELU; out->a = act->a; out->b = act->b; break;
    case TDL_ACT_ERF: out->kind = TDL_KACT_ERF; out->a = 1; out->b = 1; out->c = 0; break;
    case TDL_ACT_QUADRATIC: out->kind = TDL_KACT_QUADRATIC; break;
    default: break;
    }
}

int tdl_kact_parse(const char *text, tdl_kact *out)
{
    memset(out, 0, sizeof *out);
    double a = 1, b = 1, c = 0;
    if (!text) return tdl_fail(TDL_EINVAL, "no activation");
    if (!strcmp(text, "sign")) { out->kind = TDL_KACT_SIGN; return TDL_OK; }
    if (!strcmp(text, "step")) { out->kind = TDL_KACT_STEP; return TDL_OK; }
    if (!strcmp(text, "abs")) { out->kind = TDL_KACT_ABRELU; out->a = -1; out->b = 1; return TDL_OK; }
    if (!strncmp(text, "sin", 3) && (text[3] == 0 || text[3] == ':')) {
        if (text[3] == ':') {
            char tail;
            if (sscanf(text + 4, "%lf,%lf,%lf%c", &a, &b, &c, &tail) != 3 || !isfinite(a) || !isfinite(b) || !isfinite(c))
                return tdl_fail(TDL_EINVAL, "activation '%s': expected sin:A,B,C (phi = A sin(B x + C))", text);
        }
        out->kind = TDL_KACT_SIN; out->a = a; out->b = b; out->c = c;
        return TDL_OK;
    }
    if (!strncmp(text, "erf:", 4)) {
        char tail;
        if (sscanf(text + 4, "%lf,%lf,%lf%c", &a, &b, &c, &tail) != 3 || !isfinite(a) || !isfinite(b) || !isfinite(c))
            return tdl_fail(TDL_EINVAL, "activation '%s': expected erf:A,B,C (phi = A erf(B x) + C)", text);
        out->kind = TDL_KACT_ERF; out->a = a; out->b = b; out->c = c;
        return TDL_OK;
    }
    tdl_act act;
    int rc = tdl_act_parse(text, &act);
    if (rc) return rc;
    tdl_kact_from_act(&act, 0, out);
    return TDL_OK;
}

/* Quadrature of the dual maps for activations without closed forms.
 *
 * Gauss-Hermite product rules converge slowly here: tanh and sigmoid have
 * complex poles at distance pi/2 / sqrt(q) from the real axis, so at
 * pre-activation variances q >> 1 the integrand has a transition of width
 * 1/sqrt(q) that no global polynomial rule resolves (GH-128 errs by 1e-8 at
 * q = 2.5 and by O(1e-2) at q = 40, enough to make a Gram matrix indefinite).
 * We write E[g(u) h(v)] = E_z1[g(u(z1)) E_z2[h(v(z1, z2))]] with
 * u = sqrt(q1) z1, v = a z1 + c z2 (a = k / sqrt(q1), c^2 = (q1 q2 - k^2) / q1),
 * and integrate each 1D Gaussian integral on [-9, 9] (tail mass < 1e-18) by
 * composite Gauss-Legendre on panels graded geometrically towards the point
 * where the activation's argument crosses 0 (z1 = 0 outside, z2 = -a z1 / c
 * inside), where the transitions of tanh, sigmoid, softplus and gelu sit. */
#define PANEL_PTS_MAX 64
#define PANEL_BREAKS 32
#define NODE_MAX (PANEL_BREAKS * PANEL_PTS_MAX)
typedef struct gh_rule { size_t deg; double x[PANEL_PTS_MAX], w[PANEL_PTS_MAX]; } gh_rule;

static int gh_rule_make(size_t deg, gh_rule *g)
{
    if (deg < 2 || deg > PANEL_PTS_MAX)
        return tdl_fail(TDL_EINVAL, "quadrature points per panel must be in 2..%d, got %zu", PANEL_PTS_MAX, deg);
    /* Golub-Welsch for Gauss-Legendre on [-1, 1]: off-diagonal k / sqrt(4k^2 - 1),
     * weights 2 v_0^2. */
    double T[PANEL_PTS_MAX * PANEL_PTS_MAX];
    memset(T, 0, deg * deg * sizeof(double));
    for (size_t k = 1; k < deg; k++) {
        double b = (double)k / sqrt(4.0 * (double)k * (double)k - 1.0);
        T[k * deg + k - 1] = b;
        T[(k - 1) * deg + k] = b;
    }
    tdl_sym_eigen e;
    int rc = tdl_sym_eigen_solve(T, deg, 0, deg - 1, 1, &e);
    if (rc) return rc;
    g->deg = deg;
    for (size_t i = 0; i < deg; i++) {
        g->x[i] = e.values[i];
        double v0 = e.vectors[i * deg];
        g->w[i] = 2 * v0 * v0;
    }
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nodes z and weights w (standard normal density included) of the composite
 * rule on [-9, 9] graded geometrically towards t at distances scale x
 * {1/256, ..., 2.5}; returns the count. */
static size_t panel_rule(const gh_rule *g, double t, double scale, double *z, double *w)
{
    static const double fixed[] = {-5, -2.5, -1, 1, 2.5, 5};
    static const double grade[] = {1.0 / 256, 1.0 / 64, 1.0 / 16, 0.25, 1, 2.5};
    const double L = 9.0;
    double b[PANEL_BREAKS];
    size_t nb = 0;
    b[nb++] = -L;
    b[nb++] = L;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) b[nb++] = fixed[i];
    if (fabs(t) < L) {
        b[nb++] = t;
        for (size_t i = 0; i < sizeof grade / sizeof grade[0]; i++) {
            double dlt = scale * grade[i];
            if (fabs(t - dlt) < L) b[nb++] = t - dlt;
            if (fabs(t + dlt) < L) b[nb++] = t + dlt;
        }
    }
    qsort(b, nb, sizeof(double), cmp_double);
    size_t cnt = 0;
    const double norm = 1.0 / sqrt(2 * M_PI);
    for (size_t p = 0; p + 1 < nb; p++) {
        double lo = b[p], hi = b[p + 1];
        if (hi - lo < 1e-12) continue;
        double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
        for (size_t i = 0; i < g->deg; i++) {
            double x = mid + half * g->x[i];
            z[cnt] = x;
            w[cnt] = half * g->w[i] * norm * exp(-0.5 * x * x);
            cnt++;
        }
    }
    return cnt;
}

/* E[phi(u) phi(v)] and E[phi'(u) phi'(v)] by the split composite rule above;
 * disc = q1 q2 - k^2 >= 0. */
static void dual_numeric(const tdl_act *act, const gh_rule *g, double q1, double q2, double k, double disc,
                         double *T, double *Td)
{
    double z1[NODE_MAX], w1[NODE_MAX], z2[NODE_MAX], w2[NODE_MAX];
    double u[NODE_MAX] = {0}, pu[NODE_MAX], du[NODE_MAX], v[NODE_MAX], pv[NODE_MAX], dv[NODE_MAX];
    double a, c;
    if (q1 > 0) {
        a = k / sqrt(q1);
        double s = disc / q1; /* disc = q1 q2 - k^2, computed accurately by the caller */
        c = sqrt(s > 0 ? s : 0);
    } else {
        a = 0;
        c = sqrt(q2 > 0 ? q2 : 0);
    }
    double sq1 = sqrt(q1 > 0 ? q1 : 0);
    /* transition widths: 1/sqrt(q1) in z1, 1/c in z2 (the activations change over O(1)) */
    size_t n1 = panel_rule(g, 0.0, sq1 > 1 ? 1 / sq1 : 1.0, z1, w1);
    for (size_t i = 0; i < n1; i++) u[i] = sq1 * z1[i];
    tdl_act_eval(act, u, n1, pu, du, NULL);
    double t = 0, td = 0;
    for (size_t i = 0; i < n1; i++) {
        double s0, s1;
        if (c > 0) {
            /* inner integral over z2, split where a z1 + c z2 = 0 */
            size_t n2 = panel_rule(g, -a * z1[i] / c, c > 1 ? 1 / c : 1.0, z2, w2);
            for (size_t j = 0; j < n2; j++) v[j] = a * z1[i] + c * z2[j];
            tdl_act_eval(act, v, n2, pv, dv, NULL);
            s0 = 0;
            s1 = 0;
            for (size_t j = 0; j < n2; j++) {
                s0 += w2[j] * pv[j];
                s1 += w2[j] * dv[j];
            }
        } else {
            double vv = a * z1[i];
            tdl_act_eval(act, &vv, 1, &s0, &s1, NULL);
        }
        t += w1[i] * pu[i] * s0;
        td += w1[i] * du[i] * s1;
    }
    if (T) *T = t;
    if (Td) *Td = td;
}

/* Closed forms of ntk.md (Cho and Saul 2009; Williams 1997; neural-tangents),
 * written in the pair's half-angle squares (cm, cp) so that every output is
 * accurate to a few ulps where the map is well conditioned, in particular at
 * and near theta = 0 and pi.  Besides T = E[phi(u) phi(v)] and
 * Tdot = E[phi'(u) phi'(v)] a pair also yields, for the next layer's angle
 * (tdl_ntk_analytic), with T_ii = E[phi(u_i)^2] and R = sqrt(T_11 T_22):
 *     E = R - T >= 0,  F = R + T >= 0  (Cauchy-Schwarz),  dsq = sqrt(T_11) - sqrt(T_22),
 * each from a cancellation-free formula (derivations with each case). */
typedef struct dual_pair {
    double T, Td, E, F, dsq;
} dual_pair;

/* sin t - t cos t >= 0 on [0, pi] (Cho and Saul 2009, J_1(t) = sin t + (pi - t) cos t
 * is its mirror image): by its series sum_{n>=1} (-1)^(n+1) 2n t^(2n+1) / (2n+1)!
 * = t^3/3 - t^5/30 + t^7/840 - ... for t <= 1, where the direct form loses
 * digits like t^3/3 against t; directly above (callers pass t <= pi/2). */
static double sin_minus_tcos(double t)
{
    /* coefficients (-1)^(n+1) 2n / (2n+1)!, n = 1..11 (the 12th term is < 1e-24 t^3) */
    static const double c[] = {0.33333333333333331,     -0.033333333333333333,  0.0011904761904761906,
                               -2.2045855379188714e-05, 2.5052108385441718e-07, -1.9270852604185937e-09,
                               1.0706029224547743e-11,  -4.498331606952833e-14, 1.4797143443923793e-16,
                               -3.9145882126782523e-19, 8.5099743753875053e-22};
    if (t > 1) return sin(t) - t * cos(t);
    double t2 = t * t, p = c[10];
    for (int n = 9; n >= 0; n--) p = p * t2 + c[n]; /* Horner in t^2 */
    return t * t2 * p;
}

/* asin x - asin y for x, y in [-1, 1], given dsq = x^2 - y^2, ox = 1 - x^2 and
 * oy = 1 - y^2 computed without cancellation by the caller.  With A = asin x,
 * B = asin y (cos A = sqrt(1 - x^2) >= 0):
 *     sin(A - B) = x sqrt(1-y^2) - y sqrt(1-x^2) = (x^2 - y^2) / (x sqrt(1-y^2) + y sqrt(1-x^2)),
 *     cos(A - B) = sqrt(1-x^2) sqrt(1-y^2) + x y,
 * and for x, y of the same sign every sum there has terms of one sign, so
 * A - B = atan2(sin, cos) is accurate to a few ulps relative; for opposite
 * signs asin x - asin y is itself such a sum. */
static double asin_diff(double x, double y, double dsq, double ox, double oy)
{
    if (!((x > 0 && y > 0) || (x < 0 && y < 0))) return asin(x) - asin(y);
    if (dsq == 0) return 0; /* x = y exactly (same sign) */
    double sx = sqrt(ox > 0 ? ox : 0), sy = sqrt(oy > 0 ? oy : 0);
    return atan2(dsq / (x * sy + y * sx), sx * sy + x * y);
}

/* (a - b) / (sqrt a + sqrt b) = sqrt a - sqrt b for a, b >= 0 given a - b. */
static double sqrt_diff(double a, double b, double amb)
{
    double s = sqrt(a > 0 ? a : 0) + sqrt(b > 0 ? b : 0);
    return s > 0 ? amb / s : 0;
}

static void dual_closed(const tdl_kact *f, double q1, double q2, double cm, double cp, dual_pair *o)
{
    const double r0 = sqrt(q1 * q2); /* sqrt(q q) == q exactly: the diagonal stays exact */
    const double cosv = cp - cm, sin2 = 4 * cm * cp;
    memset(o, 0, sizeof *o);
    switch (f->kind) {
    case TDL_KACT_ABRELU: {
        /* phi = a min(x,0) + b max(x,0), c = (a^2 + b^2)/2, e = (a - b)^2/(2 pi)
         * (Cho and Saul 2009, arc-cosine kernel of degree 1; ntk.md):
         *   T = r0 [c cos t + e g(t)],  g(t) = sin t - t cos t,  Tdot = c - e t,
         *   T_ii = c q_i, R = c r0, so E = r0 [c (1 - cos t) - e g(t)] = r0 [2c cm - e g(t)],
         *   F = r0 [2c cp + e g(t)].
         * For t > pi/2 in s = pi - t (c - e pi = ab, cos t = -cos s = cp - cm):
         *   T = r0 [e g(s) - ab (cm - cp)],  Tdot = ab + e s,
         *   E = r0 [cm (a+b)^2/2 + cp (a-b)^2/2 - e g(s)],
         *   F = r0 [cm (a-b)^2/2 + cp (a+b)^2/2 + e g(s)]
         * (c +- ab (cm - cp) = cm (c +- ab) + cp (c -+ ab)): every term keeps its
         * relative accuracy, and relu's T, Tdot -> 0 at t = pi come out as such. */
        const double a = f->a, b = f->b, c = (a * a + b * b) / 2, e = (a - b) * (a - b) / (2 * M_PI);
        if (cp >= cm) {
            double t = angle_theta(cm, cp), g = sin_minus_tcos(t);
            o->T = r0 * (c * cosv + e * g);
            o->Td = c - e * t;
            o->E = r0 * (2 * c * cm - e * g);
            o->F = r0 * (2 * c * cp + e * g);
        } else {
            double s = angle_comp(cm, cp), g = sin_minus_tcos(s), pl = (a + b) * (a + b) / 2, mi = (a - b) * (a - b) / 2;
            o->T = r0 * (e * g + a * b * cosv);
            o->Td = a * b + e * s;
            o->E = r0 * (cm * pl + cp * mi - e * g);
            o->F = r0 * (cm * mi + cp * pl + e * g);
        }
        o->dsq = sqrt(c) * sqrt_diff(q1, q2, q1 - q2);
        break;
    }
    case TDL_KACT_ERF: {
        /* phi = a erf(b x) + c (Williams 1997): with p_i = b^2 q_i, s_i = 1 + 2 p_i,
         *   rho_i = 2 p_i / s_i,  rho0 = 2 sqrt(p1 p2) / sqrt(s1 s2) = sqrt(rho_1 rho_2),
         *   T = K asin(rho0 cos t) + c^2,  K = 2 a^2 / pi,  T_ii = K asin(rho_i) + c^2,
         *   Tdot = (4 a^2 b^2 / pi) / sqrt(s1 s2 - 4 b^4 k^2)
         *        = (4 a^2 b^2 / pi) / sqrt(1 + 2 p1 + 2 p2 + 4 p1 p2 sin^2 t).
         * Exact complements: 1 - rho_i^2 = (1 + 4 p_i) / s_i^2,
         * 1 - rho0^2 = (1 + 2 p1 + 2 p2) / (s1 s2), rho_1 - rho_2 = 2 (p1 - p2) / (s1 s2).
         * With alpha_i = asin rho_i, alpha0 = asin rho0, beta = asin(rho0 cos t), A_i = K alpha_i:
         *   E = R - T = [R - (sqrt(A1 A2) + c^2)] + K [sqrt(alpha_1 alpha_2) - alpha0] + K [alpha0 - beta]
         *   F = R + T = [R - (sqrt(A1 A2) + c^2)] + 2 c^2 + K [sqrt(alpha_1 alpha_2) - alpha0] + K [alpha0 + beta]
         * where R - (sqrt(A1 A2) + c^2) = c^2 (sqrt A1 - sqrt A2)^2 / (R + sqrt(A1 A2) + c^2)
         * (square both sides), sqrt(alpha_1 alpha_2) - alpha0 = (alpha0 (d1 + d2) + d1 d2) /
         * (sqrt(alpha_1 alpha_2) + alpha0) with d_i = alpha_i - alpha0 (>= 0: log asin(e^x)
         * is convex), and the asin differences by asin_diff with
         * rho0^2 - (rho0 cos t)^2 = rho0^2 sin^2 t, rho_i^2 - rho0^2 = rho_i (rho_i - rho_j). */
        const double b2 = f->b * f->b, K = 2 * f->a * f->a / M_PI, c2 = f->c * f->c;
        const double p1 = b2 * q1, p2 = b2 * q2, s1 = 1 + 2 * p1, s2 = 1 + 2 * p2;
        const double rho1 = 2 * p1 / s1, rho2 = 2 * p2 / s2, rho0 = 2 * sqrt(p1 * p2) / sqrt(s1 * s2);
        const double o1 = (1 + 4 * p1) / (s1 * s1), o2 = (1 + 4 * p2) / (s2 * s2), o0 = (1 + 2 * p1 + 2 * p2) / (s1 * s2);
        const double r12 = 2 * (p1 - p2) / (s1 * s2);
        const double y = rho0 * cosv, oy = o0 + rho0 * rho0 * sin2, dy = rho0 * rho0 * sin2;
        const double al1 = asin(rho1), al2 = asin(rho2), al0 = asin(rho0);
        const double d1 = asin_diff(rho1, rho0, rho1 * r12, o1, o0), d2 = asin_diff(rho2, rho0, -rho2 * r12, o2, o0);
        const double gm = sqrt(al1 * al2), den = gm + al0;
        const double gap1 = den > 0 ? (al0 * (d1 + d2) + d1 * d2) / den : 0;
        const double gapm = asin_diff(rho0, y, dy, o0, oy), gapp = asin_diff(rho0, -y, dy, o0, oy);
        const double A1 = K * al1, A2 = K * al2, T1 = A1 + c2, T2 = A2 + c2, R = sqrt(T1 * T2);
        const double sa = sqrt_diff(A1, A2, K * (d1 - d2)), dd = R + sqrt(A1 * A2) + c2;
        const double Dc = dd > 0 ? c2 * sa * sa / dd : 0;
        o->T = K * asin(y) + c2;
        o->Td = 2 * K * b2 / sqrt(1 + 2 * p1 + 2 * p2 + 4 * p1 * p2 * sin2);
        o->E = Dc + K * (gap1 + gapm);
        o->F = Dc + 2 * c2 + K * (gap1 + gapp);
        o->dsq = sqrt_diff(T1, T2, K * (d1 - d2));
        break;
    }
    case TDL_KACT_SIGN:
        /* E[sign u sign v] = 1 - 2t/pi = (s - t)/pi (Sheppard), T_ii = 1:
         * E = 2t/pi, F = 2s/pi, s = pi - t. */
        {
            double t = angle_theta(cm, cp), s = angle_comp(cm, cp);
            o->T = (s - t) / M_PI;
            o->E = 2 * t / M_PI;
            o->F = 2 * s / M_PI;
        }
        break;
    case TDL_KACT_STEP:
        /* P(u > 0, v > 0) = (pi - t)/(2 pi) = s/(2 pi), T_ii = 1/2:
         * E = t/(2 pi), F = (pi + s)/(2 pi). */
        {
            double t = angle_theta(cm, cp), s = angle_comp(cm, cp);
            o->T = s / (2 * M_PI);
            o->E = t / (2 * M_PI);
            o->F = (M_PI + s) / (2 * M_PI);
        }
        break;
    case TDL_KACT_SIN: {
        /* phi = a sin(b x + c), C = cos 2c = 1 - 2 sin^2 c = 2 cos^2 c - 1 (ntk.md):
         *   T = (a^2/2) [e- - C e+],  Tdot = (a^2 b^2/2) [e- + C e+],
         *   e-+ = exp(-b^2 D-+ / 2),  D-+ = q1 + q2 -+ 2k = (r1 - r2)^2 + 4 r0 (cm | cp),
         *   T_ii = (a^2/2) (1 - C w_i),  w_i = exp(-2 b^2 q_i) (so sqrt(w1 w2) = e- e+).
         * e- - e+ = -e- expm1(-2 b^2 k) (k >= 0) or e+ expm1(2 b^2 k), so
         * T = (a^2/2) [(e- - e+) + 2 sin^2(c) e+].  With S = sqrt((1 - C w1)(1 - C w2)):
         *   S - (1 - C sqrt(w1 w2)) = -C (sqrt w1 - sqrt w2)^2 / (S + 1 - C sqrt(w1 w2)),
         *   E = (a^2/2) [that + (1 - e-)(1 + C e+)],  F = (a^2/2) [that + (1 + e-)(1 - C e+)]
         * (expand: 1 - C e- e+ -+ (e- - C e+)), with 1 - e- = -expm1(-b^2 D-/2) and
         * 1 + C e+ = 2 cos^2 c - C (1 - e+), 1 - C e+ = 2 sin^2 c + C (1 - e+) when
         * those signs avoid cancellation. */
        const double a2h = f->a * f->a / 2, b2 = f->b * f->b, sc = sin(f->c), cc = cos(f->c);
        const double sc2 = 2 * sc * sc, cc2 = 2 * cc * cc, C = cos(2 * f->c);
        const double dr = sqrt_diff(q1, q2, q1 - q2), k = r0 * cosv;
        const double Dm = dr * dr + 4 * r0 * cm, Dp = dr * dr + 4 * r0 * cp;
        const double em = exp(-b2 * Dm / 2), ep = exp(-b2 * Dp / 2);
        const double omem = -expm1(-b2 * Dm / 2), omep = -expm1(-b2 * Dp / 2);
        const double emmep = k >= 0 ? -em * expm1(-2 * b2 * k) : ep * expm1(2 * b2 * k);
        const double w1 = exp(-2 * b2 * q1), w2 = exp(-2 * b2 * q2);
        const double om1 = C >= 0 ? sc2 - C * expm1(-2 * b2 * q1) : 1 - C * w1;
        const double om2 = C >= 0 ? sc2 - C * expm1(-2 * b2 * q2) : 1 - C * w2;
        const double S = sqrt(om1 * om2), dw = exp(-b2 * q2) * expm1(-b2 * (q1 - q2));
        const double den = S + 1 - C * exp(-b2 * (q1 + q2));
        const double lead = den > 0 ? -C * dw * dw / den : 0;
        const double opc = C >= 0 ? 1 + C * ep : cc2 - C * omep, omc = C <= 0 ? 1 - C * ep : sc2 + C * omep;
        o->T = a2h * (emmep + sc2 * ep);
        o->Td = a2h * b2 * (em + C * ep);
        o->E = a2h * (lead + omem * opc);
        o->F = a2h * (lead + (1 + em) * omc);
        o->dsq = sqrt_diff(a2h * om1, a2h * om2, a2h * C * w1 * expm1(-2 * b2 * (q2 - q1)));
        break;
    }
    case TDL_KACT_QUADRATIC:
        /* Isserlis: E[u^2 v^2] = q1 q2 + 2 k^2 = q1 q2 (1 + 2 cos^2 t), E[2u 2v] = 4k,
         * T_ii = 3 q_i^2: E = 2 q1 q2 sin^2 t, F = q1 q2 (4 + 2 cos^2 t). */
        o->T = q1 * q2 * (1 + 2 * cosv * cosv);
        o->Td = 4 * r0 * cosv;
        o->E = 2 * q1 * q2 * sin2;
        o->F = q1 * q2 * (4 + 2 * cosv * cosv);
        o->dsq = sqrt(3.0) * (q1 - q2);
        break;
    default: break;
    }
    if (!(o->E > 0)) o->E = 0;
    if (!(o->F > 0)) o->F = 0;
}

/* The dual maps at one covariance (q1, q2, k).  Only those three numbers are
 * known here, so the angle is taken from them (angle_from_cov: the fma
 * discriminant q1 q2 - k^2, exact at k = +-sqrt(q1 q2), i.e. theta = 0 and pi),
 * accurate to a few ulps of (q1, q2, k); tdl_ntk_analytic does not go through
 * k but carries each pair's angle from the inputs (see above), which is what
 * makes its kernels accurate for nearly parallel inputs. */
int tdl_kact_dual(const tdl_kact *act, double q1, double q2, double k, size_t quad, double *T, double *Tdot)
{
    if (!(q1 >= 0) || !(q2 >= 0) || !isfinite(q1) || !isfinite(q2) || !isfinite(k))
        return tdl_fail(TDL_EINVAL, "dual map: variances must be finite and >= 0 (q1 = %g, q2 = %g, k = %g)", q1,
                        q2, k);
    if (act->kind != TDL_KACT_NUMERIC) {
        /* the angle of (q1, q2, k) to ~1 ulp of those three numbers (angle_from_cov) */
        double cm, cp;
        dual_pair o;
        angle_from_cov(q1, q2, k, &cm, &cp);
        dual_closed(act, q1, q2, cm, cp, &o);
        if (T) *T = o.T;
        if (Tdot) *Tdot = o.Td;
        return TDL_OK;
    }
    gh_rule g;
    int rc = gh_rule_make(quad ? quad : TDL_NTK_QUAD_DEFAULT, &g);
    if (rc) return rc;
    double disc = diff_of_products(q1, q2, k, k);
    dual_numeric(&act->numeric, &g, q1, q2, k, disc > 0 ? disc : 0, T, Tdot);
    return TDL_OK;
}

void tdl_ntk_analytic_config_from_mlp(const tdl_mlp *m, tdl_ntk_analytic_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->depth = m->depth;
    cfg->widths[0] = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) cfg->widths[l + 1] = m->layers[l].out;
    tdl_kact_from_act(&m->act, 0, &cfg->act);
    cfg->param = m->param;
    cfg->sigma_w = m->sigma_w;
    cfg->sigma_b = m->sigma_b;
    cfg->bias = m->layers[0].has_bias;
}

/* The recursion of ntk.h, evaluated per pair (i, j) on the state
 * (q_i, q_j, Sigma_ij, Theta_ij, cm_ij, cp_ij): layer 1's half-angle squares
 * come from the augmented inputs u = (sigma_w x / sqrt d, sigma_b)
 * (angle_from_inputs: exactly theta = 0 for equal rows, a few ulps relative
 * near 0 and pi), and every further layer's from h-+ = sqrt(q1 q2) -+ k, built
 * from the cancellation-free E = R - T, F = R + T of dual_closed (formula in
 * the loop).  Rounding errors then stay at a few ulps per layer for every
 * closed form, for identical, nearly parallel, orthogonal and opposite inputs
 * alike (tests/check_ntk.c, "closed_forms_mp", against 50-digit mpmath).
 * The quadrature kinds use the same state for q1 q2 - k^2 (the conditional
 * variance of their inner integral). */
int tdl_ntk_analytic(const tdl_ntk_analytic_config *cfg, const gsl_matrix *X1, const gsl_matrix *X2,
                     gsl_matrix *nngp, gsl_matrix *ntk)
{
    if (!cfg || !X1 || X1->size1 == 0 || X1->size2 == 0) return tdl_fail(TDL_EINVAL, "analytic kernel: no inputs");
    if (cfg->depth < 1 || cfg->depth > TDL_MAX_DEPTH)
        return tdl_fail(TDL_EINVAL, "analytic kernel: depth must be in 1..%d", TDL_MAX_DEPTH);
    if (!(cfg->sigma_w >= 0) || !(cfg->sigma_b >= 0) || !isfinite(cfg->sigma_w) || !isfinite(cfg->sigma_b))
        return tdl_fail(TDL_EINVAL, "analytic kernel: sigma_w and sigma_b must be finite and >= 0");
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    if (X2->size2 != X1->size2)
        return tdl_fail(TDL_ESHAPE, "analytic kernel: inputs have %zu and %zu features", X1->size2, X2->size2);
    const size_t n1 = X1->size1, n2 = X2->size1, d = X1->size2;
    if (nngp && (nngp->size1 != n1 || nngp->size2 != n2))
        return tdl_fail(TDL_ESHAPE, "analytic kernel: NNGP matrix must be %zu x %zu", n1, n2);
    if (ntk && (ntk->size1 != n1 || ntk->size2 != n2))
        return tdl_fail(TDL_ESHAPE, "analytic kernel: NTK matrix must be %zu x %zu", n1, n2);
    const int standard = cfg->param == TDL_PARAM_STANDARD;
    if (standard && ntk)
        for (size_t l = 0; l + 1 < cfg->depth; l++)
            if (cfg->widths[l + 1] == 0)
                return tdl_fail(TDL_EINVAL, "analytic kernel: the standard parametrization's NTK needs the hidden widths");
    gh_rule g;
    int rc;
    if (cfg->act.kind == TDL_KACT_NUMERIC && cfg->depth > 1 &&
        (rc = gh_rule_make(cfg->quad ? cfg->quad : TDL_NTK_QUAD_DEFAULT, &g)) != TDL_OK)
        return rc;
    int have_bias = cfg->bias;
    const double sw2 = cfg->sigma_w * cfg->sigma_w, sb2 = have_bias ? cfg->sigma_b * cfg->sigma_b : 0.0;
    const int numeric = cfg->act.kind == TDL_KACT_NUMERIC;
    /* per pair: S = Sigma^(l), Th = Theta^(l), and the half-angle squares
     * (CM, CP) of Sigma^(l) (angle_from_inputs); per row: the variances and T_ii */
    double *S = tdl_malloc(n1 * n2 * sizeof(double), "NNGP kernel");
    double *Th = tdl_malloc(n1 * n2 * sizeof(double), "NTK kernel");
    double *CM = tdl_malloc(n1 * n2 * sizeof(double), "NNGP angles");
    double *CP = tdl_malloc(n1 * n2 * sizeof(double), "NNGP angles");
    double *q1 = tdl_malloc(n1 * sizeof(double), "NNGP diagonal");
    double *q2 = tdl_malloc(n2 * sizeof(double), "NNGP diagonal");
    double *t1 = tdl_malloc(n1 * sizeof(double), "NNGP diagonal");
    double *t2 = tdl_malloc(n2 * sizeof(double), "NNGP diagonal");
    if (!S || !Th || !CM || !CP || !q1 || !q2 || !t1 || !t2) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    rc = TDL_OK;
    /* layer 1: Sigma_0 = x.x'/d; Sigma^(1) = sigma_w^2 Sigma_0 + sigma_b^2 = u.v for the
     * augmented u = (sigma_w x / sqrt d, sigma_b); squared norms by a plain loop
     * (kernel-independent bits), inner products by BLAS */
    gemm_nt(n1, n2, d, 1.0 / (double)d, X1->data, X1->tda, X2->data, X2->tda, 0.0, S, n2);
    for (int side = 0; side < 2; side++) {
        const gsl_matrix *X = side ? X2 : X1;
        double *q = side ? q2 : q1;
        for (size_t i = 0; i < X->size1; i++) {
            const double *x = X->data + i * X->tda;
            double s = 0;
            for (size_t t = 0; t < d; t++) s += x[t] * x[t];
            q[i] = sw2 * (s / (double)d) + sb2;
        }
    }
    const double su = cfg->sigma_w / sqrt((double)d), tu = have_bias ? cfg->sigma_b : 0.0;
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
            double *e = S + i * n2 + j;
            Th[i * n2 + j] = standard ? (double)d * *e + (have_bias ? 1.0 : 0.0) : sw2 * *e + sb2;
            *e = sw2 * *e + sb2;
            if (cfg->depth > 1 && (!sym || j >= i))
                angle_from_inputs(X1->data + i * X1->tda, X2->data + j * X2->tda, d, su, tu, q1[i], q2[j], *e,
                                  CM + i * n2 + j, CP + i * n2 + j);
        }
    for (size_t l = 1; l < cfg->depth; l++) {
        const double nin = (double)cfg->widths[l];
        /* T_ii of this layer (the dual at theta = 0); the next variances follow */
        for (int side = 0; side < 2; side++) {
            double *q = side ? q2 : q1, *tr = side ? t2 : t1;
            size_t nn = side ? n2 : n1;
            for (size_t i = 0; i < nn; i++) {
                if (numeric) {
                    dual_numeric(&cfg->act.numeric, &g, q[i], q[i], q[i], 0.0, tr + i, NULL);
                } else {
                    dual_pair o;
                    dual_closed(&cfg->act, q[i], q[i], 0.0, 1.0, &o);
                    tr[i] = o.T;
                }
            }
        }
        for (size_t i = 0; i < n1; i++)
            for (size_t j = sym ? i : 0; j < n2; j++) { /* sym: upper triangle, mirrored below */
                const size_t ij = i * n2 + j;
                const double T11 = t1[i], T22 = t2[j], R = sqrt(T11 * T22);
                dual_pair o;
                if (numeric) {
                    /* q1 q2 - k^2 = q1 q2 sin^2 theta = 4 q1 q2 cm cp */
                    dual_numeric(&cfg->act.numeric, &g, q1[i], q2[j], S[ij], 4 * q1[i] * q2[j] * CM[ij] * CP[ij],
                                 &o.T, &o.Td);
                    o.E = R - o.T;
                    o.F = R + o.T;
                    o.dsq = sqrt_diff(T11, T22, T11 - T22);
                } else {
                    dual_closed(&cfg->act, q1[i], q2[j], CM[ij], CP[ij], &o);
                }
                double Sn = sw2 * o.T + sb2;
                /* Theta^(l) = Sigma^(l) + sigma_w^2 Tdot Theta^(l-1) (NTK param);
                 * standard: n_{l-1} T + [bias] replaces Sigma^(l). */
                double head = standard ? nin * o.T + (have_bias ? 1.0 : 0.0) : Sn;
                Th[ij] = head + sw2 * o.Td * Th[ij];
                S[ij] = Sn;
                /* The next angle, from h-+ = sqrt(q1' q2') -+ k' with q_i' = sw2 T_ii + sb2,
                 * k' = sw2 T + sb2 and sqrt(q1' q2') = D + sw2 R + sb2, where
                 *   D = sqrt(q1' q2') - (sw2 R + sb2) = sb2 sw2 (sqrt T11 - sqrt T22)^2 / (sqrt(q1' q2') + sw2 R + sb2)
                 * exactly (square both sides: q1' q2' - (sw2 R + sb2)^2 = sb2 sw2 (T11 + T22 - 2R)):
                 *   h- = D + sw2 (R - T) = D + sw2 E,   h+ = D + 2 sb2 + sw2 (R + T) = D + 2 sb2 + sw2 F,
                 * sums of non-negative terms, each accurate (dual_closed). */
                double Q = sqrt((sw2 * T11 + sb2) * (sw2 * T22 + sb2)), den = Q + sw2 * R + sb2;
                double D = den > 0 ? sb2 * sw2 * o.dsq * o.dsq / den : 0;
                angle_normalize(D + sw2 * o.E, D + 2 * sb2 + sw2 * o.F, CM + ij, CP + ij);
            }
        for (size_t i = 0; i < n1; i++) q1[i] = sw2 * t1[i] + sb2;
        for (size_t i = 0; i < n2; i++) q2[i] = sw2 * t2[i] + sb2;
    }
    for (size_t i = 0; i < n1 * n2; i++)
        if (!isfinite(S[i]) || !isfinite(Th[i])) {
            rc = tdl_fail(TDL_ENONFINITE, "analytic kernel: non-finite entry (the recursion overflowed; lower sigma_w or the depth)");
            goto cleanup;
        }
    if (sym) /* exact symmetry: the recursion is evaluated on (i,j) and (j,i) alike up to rounding */
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < i; j++) {
                S[i * n2 + j] = S[j * n2 + i];
                Th[i * n2 + j] = Th[j * n2 + i];
            }
    for (size_t i = 0; i < n1; i++) {
        if (nngp) memcpy(nngp->data + i * nngp->tda, S + i * n2, n2 * sizeof(double));
        if (ntk) memcpy(ntk->data + i * ntk->tda, Th + i * n2, n2 * sizeof(double));
    }
cleanup:
    free(S);
    free(Th);
    free(CM);
    free(CP);
    free(q1);
    free(q2);
    free(t1);
    free(t2);
    return rc;
}

/* ---- kernel linear algebra ------------------------------------------------ */

int tdl_ntk_eigenvalues(const gsl_matrix *K, double *values)
{
    if (!K || K->size1 == 0) return tdl_fail(TDL_EINVAL, "kernel eigenvalues: empty matrix");
    size_t n = K->size1;
    int rc = check_square(K, n, "kernel eigenvalues");
    if (rc) return rc;
    if ((rc = tdl_dense_memory_check(n, 1, 0, "kernel eigenvalues")) != TDL_OK) return rc;
    double *A = tdl_malloc(n * n * sizeof(double), "kernel eigenvalues");
    if (!A) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) memcpy(A + i * n, K->data + i * K->tda, n * sizeof(double));
    tdl_sym_eigen e;
    rc = tdl_sym_eigen_solve(A, n, 0, n - 1, 0, &e);
    free(A);
    if (rc) return rc;
    memcpy(values, e.values, n * sizeof(double));
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

double tdl_ntk_eta_max(double lambda_max, double norm, double momentum)
{
    return 2.0 * (1.0 + momentum) * norm / lambda_max;
}

/* Eigen-decomposition of K + ridge I: values (clamped at 0) and vectors
 * (row j = eigenvector j). */
static int eig_ridge(const gsl_matrix *K, double ridge, tdl_sym_eigen *e)
{
    size_t n = K->size1;
    double *A = tdl_malloc(n * n * sizeof(double), "kernel eigen-decomposition");
    if (!A) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(A + i * n, K->data + i * K->tda, n * sizeof(double));
        A[i * n + i] += ridge;
    }
    int rc = tdl_sym_eigen_solve(A, n, 0, n - 1, 1, e);
    free(A);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if (e->values[i] < 0) e->values[i] = 0;
    return TDL_OK;
}

static int check_predict_shapes(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *Kt, double norm,
                                double ridge, const char *what)
{
    if (!K || !Y || K->size1 == 0) return tdl_fail(TDL_EINVAL, "%s: no kernel or no targets", what);
    size_t n = K->size1;
    int rc = check_square(K, n, what);
    if (rc) return rc;
    if (Y->size1 != n)
        return tdl_fail(TDL_ESHAPE, "%s: %zu targets for a %zu x %zu kernel", what, Y->size1, n, n);
    if (Kt && Kt->size2 != n)
        return tdl_fail(TDL_ESHAPE, "%s: the test-train kernel has %zu columns, expected %zu", what, Kt->size2, n);
    if (!(norm > 0) || !isfinite(norm)) return tdl_fail(TDL_EINVAL, "%s: the loss normalizer must be > 0", what);
    if (!(ridge >= 0) || !isfinite(ridge)) return tdl_fail(TDL_EINVAL, "%s: the ridge must be finite and >= 0", what);
    return tdl_dense_memory_check(n, 3, 0, what);
}

int tdl_ntk_kernel_regression(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *Kt, double ridge,
                              gsl_matrix *out)
{
    int rc = check_predict_shapes(K, Y, Kt, 1.0, ridge, "kernel regression");
    if (rc) return rc;
    if (!Kt || !out || out->size1 != Kt->size1 || out->size2 != Y->size2)
        return tdl_fail(TDL_ESHAPE, "kernel regression: output must be test x targets");
    size_t n = K->size1, k = Y->size2;
    double *L = tdl_malloc(n * n * sizeof(double), "kernel regression factor");
    double *Z = tdl_malloc(n * k * sizeof(double), "kernel regression solve");
    if (!L || !Z) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if ((rc = cholesky_ridge(K->data, n, K->tda, ridge, L, "kernel regression")) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < n; i++) memcpy(Z + i * k, Y->data + i * Y->tda, k * sizeof(double));
    lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)k, L, (lapack_int)n, Z,
                                     (lapack_int)k);
    if (info) {
        rc = tdl_fail(TDL_EINVAL, "kernel regression: dpotrs info %d", (int)info);
        goto cleanup;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Kt->size1, (int)k, (int)n, 1.0, Kt->data,
                (int)Kt->tda, Z, (int)k, 0.0, out->data, (int)out->tda);
cleanup:
    free(L);
    free(Z);
    return rc;
}

int tdl_ntk_predict(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *F0, const gsl_matrix *Kt,
                    const gsl_matrix *Ft0, double eta, double t, double norm, double ridge, gsl_matrix *Ft,
                    gsl_matrix *Ftest)
{
    int rc = check_predict_shapes(K, Y, Kt, norm, ridge, "kernel dynamics");
    if (rc) return rc;
    const size_t n = K->size1, k = Y->size2, m = Kt ? Kt->size1 : 0;
    if (!(eta > 0) || !isfinite(eta)) return tdl_fail(TDL_EINVAL, "kernel dynamics: the learning rate must be > 0");
    if (!(t >= 0)) return tdl_fail(TDL_EINVAL, "kernel dynamics: the time must be >= 0 (or infinity)");
    if ((F0 && (F0->size1 != n || F0->size2 != k)) || (Ft && (Ft->size1 != n || Ft->size2 != k)))
        return tdl_fail(TDL_ESHAPE, "kernel dynamics: train outputs must be %zu x %zu", n, k);
    if ((Ft0 && (!Kt || Ft0->size1 != m || Ft0->size2 != k)) ||
        (Ftest && (!Kt || Ftest->size1 != m || Ftest->size2 != k)))
        return tdl_fail(TDL_ESHAPE, "kernel dynamics: test outputs must be %zu x %zu with a test kernel", m, k);
    /* R = f_0 - y (n x k) */
    double *R = tdl_malloc(n * k * sizeof(double), "kernel dynamics residual");
    double *U = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
    double *Wt = NULL;
    tdl_sym_eigen e = {0};
    if (!R || !U) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++)
            R[i * k + c] = (F0 ? F0->data[i * F0->tda + c] : 0.0) - Y->data[i * Y->tda + c];
    if (isinf(t)) {
        /* t = infinity: f_inf = y on the train set (with ridge: y + ridge (K + ridge)^{-1} R);
         * test: f*_0 - Kt (K + ridge)^{-1} R, by Cholesky. */
        double *L = tdl_malloc(n * n * sizeof(double), "kernel dynamics factor");
        if (!L) {
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        rc = cholesky_ridge(K->data, n, K->tda, ridge, L, "kernel dynamics at t = infinity");
        if (!rc) {
            memcpy(U, R, n * k * sizeof(double));
            lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)k, L, (lapack_int)n, U,
                                             (lapack_int)k);
            if (info) rc = tdl_fail(TDL_EINVAL, "kernel dynamics: dpotrs info %d", (int)info);
        }
        free(L);
        if (rc) goto cleanup;
        if (Ft)
            for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < k; c++)
                    Ft->data[i * Ft->tda + c] = Y->data[i * Y->tda + c] + ridge * U[i * k + c];
        if (Ftest) {
            for (size_t i = 0; i < m; i++)
                for (size_t c = 0; c < k; c++) Ftest->data[i * Ftest->tda + c] = Ft0 ? Ft0->data[i * Ft0->tda + c] : 0.0;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, -1.0, Kt->data, (int)Kt->tda,
                        U, (int)k, 1.0, Ftest->data, (int)Ftest->tda);
        }
        goto cleanup;
    }
    if ((rc = eig_ridge(K, ridge, &e)) != TDL_OK) goto cleanup;
    /* U = V^T R in the eigenbasis (rows of e.vectors are eigenvectors) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, R, (int)k,
                0.0, U, (int)k);
    double *U2 = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
    if (!U2) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if (Ft) {
        /* f_t = y + V exp(-eta t Lambda / norm) V^T R */
        for (size_t j = 0; j < n; j++) {
            double g = exp(-eta * t * e.values[j] / norm);
            for (size_t c = 0; c < k; c++) U2[j * k + c] = g * U[j * k + c];
        }
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < k; c++) Ft->data[i * Ft->tda + c] = Y->data[i * Y->tda + c];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, U2,
                    (int)k, 1.0, Ft->data, (int)Ft->tda);
    }
    if (Ftest) {
        /* f*_t = f*_0 + Kt V diag(expm1(-eta t lambda / norm) / lambda) V^T R; the
         * coefficient tends to -eta t / norm as lambda -> 0. */
        for (size_t j = 0; j < n; j++) {
            double lam = e.values[j], x = eta * t / norm;
            double g = lam > 0 ? expm1(-x * lam) / lam : -x;
            for (size_t c = 0; c < k; c++) U2[j * k + c] = g * U[j * k + c];
        }
        Wt = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
        if (!Wt) {
            free(U2);
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, U2,
                    (int)k, 0.0, Wt, (int)k);
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < k; c++) Ftest->data[i * Ftest->tda + c] = Ft0 ? Ft0->data[i * Ft0->tda + c] : 0.0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, 1.0, Kt->data, (int)Kt->tda, Wt,
                    (int)k, 1.0, Ftest->data, (int)Ftest->tda);
    }
    free(U2);
cleanup:
    free(R);
    free(U);
    free(Wt);
    if (e.values) tdl_sym_eigen_free(&e);
    return rc;
}

int tdl_ntk_ensemble(const gsl_matrix *Theta, const gsl_matrix *K, const gsl_matrix *Theta_t, const gsl_matrix *K_t,
                     const gsl_matrix *K_tt, const gsl_matrix *Y, double eta, double t, double norm, double ridge,
                     gsl_matrix *mean, gsl_matrix *cov)
{
    int rc = check_predict_shapes(Theta, Y, Theta_t, norm, ridge, "ensemble");
    if (rc) return rc;
    if (!Theta_t) return tdl_fail(TDL_EINVAL, "ensemble: no test kernel");
    const size_t n = Theta->size1, m = Theta_t->size1, k = Y->size2;
    if (!K || K->size1 != n || K->size2 != n || !K_t || K_t->size1 != m || K_t->size2 != n || !K_tt ||
        K_tt->size1 != m || K_tt->size2 != m)
        return tdl_fail(TDL_ESHAPE, "ensemble: NNGP kernels must be %zu x %zu, %zu x %zu and %zu x %zu", n, n, m, n, m, m);
    if ((mean && (mean->size1 != m || mean->size2 != k)) || (cov && (cov->size1 != m || cov->size2 != m)))
        return tdl_fail(TDL_ESHAPE, "ensemble: mean must be %zu x %zu and cov %zu x %zu", m, k, m, m);
    if (!(eta > 0) || !(t >= 0)) return tdl_fail(TDL_EINVAL, "ensemble: needs eta > 0 and t >= 0");
    tdl_sym_eigen e = {0};
    double *A = NULL, *B = NULL, *AK = NULL;
    if ((rc = eig_ridge(Theta, ridge, &e)) != TDL_OK) return rc;
    A = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    B = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    AK = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    if (!A || !B || !AK) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    /* A = Theta_t V diag((1 - exp(-eta t lambda / norm)) / lambda) V^T, the
     * coefficient -> eta t / norm as lambda -> 0 (and 1/lambda at t = inf). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)n, 1.0, Theta_t->data,
                (int)Theta_t->tda, e.vectors, (int)n, 0.0, B, (int)n);
    for (size_t j = 0; j < n; j++) {
        double lam = e.values[j], g;
        if (isinf(t)) {
            if (!(lam > 0)) {
                rc = tdl_fail(TDL_ENOTPD, "ensemble at t = infinity: the NTK is singular (add a ridge)");
                goto cleanup;
            }
            g = 1 / lam;
        } else {
            double x = eta * t / norm;
            g = lam > 0 ? -expm1(-x * lam) / lam : x;
        }
        for (size_t i = 0; i < m; i++) B[i * n + j] *= g;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, B, (int)n, e.vectors, (int)n,
                0.0, A, (int)n);
    if (mean)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, 1.0, A, (int)n, Y->data,
                    (int)Y->tda, 0.0, mean->data, (int)mean->tda);
    if (cov) {
        /* cov = K_tt + A K A^T - A K_t^T - K_t A^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, A, (int)n, K->data,
                    (int)K->tda, 0.0, AK, (int)n);
        for (size_t i = 0; i < m; i++) memcpy(cov->data + i * cov->tda, K_tt->data + i * K_tt->tda, m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, 1.0, AK, (int)n, A, (int)n, 1.0,
                    cov->data, (int)cov->tda);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, -1.0, A, (int)n, K_t->data,
                    (int)K_t->tda, 1.0, cov->data, (int)cov->tda);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, -1.0, K_t->data, (int)K_t->tda, A,
                    (int)n, 1.0, cov->data, (int)cov->tda);
        tdl_symmetrize(cov->data, m, cov->tda);
    }
cleanup:
    tdl_sym_eigen_free(&e);
    free(A);
    free(B);
    free(AK);
    return rc;
}

/* ---- Monte Carlo over random initializations ------------------------------ */

int tdl_ntk_monte_carlo(const tdl_mlp_config *cfg, const gsl_matrix *X, size_t samples, unsigned long seed,
                        gsl_matrix *nngp, gsl_matrix *ntk, gsl_matrix *stderr_out)
{
    if (!cfg || !X || X->size1 == 0 || samples == 0)
        return tdl_fail(TDL_EINVAL, "Monte Carlo kernel: needs a configuration, inputs and samples >= 1");
    const size_t n = X->size1, C = cfg->widths[cfg->depth];
    if (cfg->widths[0] != X->size2)
        return tdl_fail(TDL_ESHAPE, "Monte Carlo kernel: the net takes %zu inputs but the data has %zu features",
                        cfg->widths[0], X->size2);
    if ((nngp && (nngp->size1 != n || nngp->size2 != n)) || (ntk && (ntk->size1 != n || ntk->size2 != n)) ||
        (stderr_out && (stderr_out->size1 != n || stderr_out->size2 != n)))
        return tdl_fail(TDL_ESHAPE, "Monte Carlo kernel: outputs must be %zu x %zu", n, n);
    if (stderr_out && (!ntk || samples < 2))
        return tdl_fail(TDL_EINVAL, "Monte Carlo kernel: the standard error needs the NTK and >= 2 samples");
    int rc = tdl_dense_memory_check(n, 3, 0, "Monte Carlo kernel");
    if (rc) return rc;
    double *F = tdl_malloc(n * C * sizeof(double), "Monte Carlo outputs");
    double *S2 = tdl_calloc(n * n, sizeof(double), "Monte Carlo second moments");
    gsl_matrix *K = ntk ? gsl_matrix_alloc(n, n) : NULL;
    tdl_mlp *m = NULL;
    tdl_net_work *w = NULL;
    if (!F || !S2 || (ntk && !K)) {
        rc = tdl_fail(TDL_ENOMEM, "out of memory for the Monte Carlo kernel");
        goto cleanup;
    }
    if (nngp) gsl_matrix_set_zero(nngp);
    if (ntk) gsl_matrix_set_zero(ntk);
    tdl_dataset ds = input_view(X);
    for (size_t s = 0; s < samples; s++) {
        tdl_mlp_config c = *cfg;
        c.seed = seed + s;
        if ((rc = tdl_mlp_create(&c, &m)) != TDL_OK) goto cleanup;
        if (nngp) {
            if (!w && (rc = tdl_net_work_alloc(m, n, &w)) != TDL_OK) goto cleanup;
            tdl_batch b = tdl_batch_rows(&ds, 0, n);
            if ((rc = tdl_mlp_forward(m, &b, w, F)) != TDL_OK) goto cleanup;
            /* nngp += F F^T / (samples C) */
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)C, 1.0 / ((double)samples * (double)C),
                        F, (int)C, 1.0, nngp->data, (int)nngp->tda);
        }
        if (ntk) {
            if ((rc = tdl_ntk_empirical(m, X, NULL, NULL, K)) != TDL_OK) goto cleanup;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double v = K->data[i * K->tda + j];
                    ntk->data[i * ntk->tda + j] += v / (double)samples;
                    S2[i * n + j] += v * v;
                }
        }
        tdl_mlp_free(&m);
    }
    if (nngp) symmetrize_from_upper(nngp->data, n, nngp->tda);
    if (stderr_out)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double mu = ntk->data[i * ntk->tda + j], N = (double)samples;
                double var = (S2[i * n + j] - N * mu * mu) / (N - 1);
                stderr_out->data[i * stderr_out->tda + j] = sqrt(var > 0 ? var : 0) / sqrt(N);
            }
cleanup:
    tdl_mlp_free(&m);
    tdl_net_work_free(&w);
    free(F);
    free(S2);
    if (K) gsl_matrix_free(K);
    return rc;
}
