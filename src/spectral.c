/* spectral.c — Lanczos, Hutchinson, Hutch++, stochastic Lanczos quadrature.
 *
 * Shape legend:
 *   P          order of the operator A (vectors are P doubles)
 *   V          cap x P   Lanczos basis, ONE VECTOR A ROW (row i = v_i), so a
 *                        vector is contiguous and V^T h / V w are dgemv calls
 *   Y          nl x P    locked (deflated) vectors, one a row
 *   T_m        m x m     tridiag(beta_0..beta_{m-2}; alpha_0..alpha_{m-1})
 *   Z          m x m     eigenvectors of T_m, COLUMN-major (LAPACK's layout):
 *                        Z[i + j m] = component i of eigenvector j
 *   S, Q       s x P     Hutch++ sketch and its orthonormal basis, one column
 *                        a row (= P x s column-major for LAPACK)
 *
 * Lanczos relation (exact arithmetic, no restart):
 *   A V_m^T = V_m^T T_m + beta_{m-1} v_m e_m^T
 * so the Ritz pair (theta_i, y_i = V_m^T s_i) has A y_i - theta_i y_i =
 * beta_{m-1} s_{m-1,i} v_m: its residual norm is |beta_{m-1} s_{m-1,i}|.
 * With a restart at an invariant subspace the off-diagonal entry is 0 and T
 * splits into blocks; the relation holds block by block.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include "tdl/spectral.h"
#include "tdl/linalg.h"
#include "tdl/memory.h"
#include "internal.h"

/* ---- names ------------------------------------------------------------- */

const tdl_name tdl_which_names[] = {
    {"largest", TDL_WHICH_LARGEST}, {"smallest", TDL_WHICH_SMALLEST}, {"magnitude", TDL_WHICH_MAGNITUDE}, {NULL, 0}};
const tdl_name tdl_smoothing_names[] = {
    {"pyhessian", TDL_SMOOTH_PYHESSIAN}, {"eigenthings", TDL_SMOOTH_EIGENTHINGS}, {"papyan", TDL_SMOOTH_PAPYAN}, {NULL, 0}};

int tdl_which_parse(const char *text, tdl_which *out)
{
    int v;
    int st = tdl_name_lookup(tdl_which_names, "eigenvalue selection", text, &v);
    if (st == TDL_OK) *out = (tdl_which)v;
    return st;
}

const char *tdl_which_name(tdl_which which)
{
    const char *n = tdl_name_of(tdl_which_names, (int)which);
    return n ? n : "?";
}

int tdl_smoothing_parse(const char *text, tdl_smoothing *out)
{
    int v;
    int st = tdl_name_lookup(tdl_smoothing_names, "density smoothing", text, &v);
    if (st == TDL_OK) *out = (tdl_smoothing)v;
    return st;
}

const char *tdl_smoothing_name(tdl_smoothing conv)
{
    const char *n = tdl_name_of(tdl_smoothing_names, (int)conv);
    return n ? n : "?";
}

/* ---- memory plan --------------------------------------------------------- */

/* Working memory is added up before anything is allocated, so that an
 * impossible request fails at once with TDL_ETOOBIG instead of after hours of
 * products, or by the OOM killer. */
typedef struct plan {
    size_t bytes;
    int overflow;
} plan;

static void plan_doubles(plan *p, size_t rows, size_t cols)
{
    size_t n, b;
    if (p->overflow) return;
    if (tdl_mul_size(rows, cols, &n) != 0 || tdl_mul_size(n, sizeof(double), &b) != 0 ||
        tdl_add_size(p->bytes, b, &p->bytes) != 0)
        p->overflow = 1;
}

/* Through the library's one guard (tdl/memory.h): "WHO: WHAT needs X GB but
 * Y GB are available"; an overflow of size_t needs "inf GB". */
static int plan_check(const plan *p, const char *who, const char *what)
{
    char label[256];
    snprintf(label, sizeof label, "%s: %s", who, what);
    if (p->overflow) return tdl_memory_require(SIZE_MAX, SIZE_MAX, 0, label);
    return tdl_memory_require(p->bytes, 1, 0, label);
}

/* BLAS and LAPACK take int dimensions. */
static int check_blas_dim(size_t n, const char *who, const char *what)
{
    if (n > (size_t)INT_MAX)
        return tdl_fail(TDL_ETOOBIG, "%s: %s = %zu exceeds the BLAS integer range (%d)", who, what, n, INT_MAX);
    return TDL_OK;
}

/* ---- the operator -------------------------------------------------------- */

typedef struct op {
    tdl_matvec_fn f;
    void *ctx;
    size_t P;
    size_t count;        /* products so far */
    const char *who;     /* method name for messages */
} op;

/* y = A x through the callback; a failing status or a non-finite entry
 * stops the caller with a message naming the product. */
static int op_apply(op *o, const double *x, double *y)
{
    tdl_errclear();
    int st = o->f(x, y, o->ctx);
    o->count++;
    if (st != TDL_OK) {
        char inner[768];
        snprintf(inner, sizeof inner, "%s", tdl_errmsg());
        int code = (st > 0 && st < TDL_STATUS_COUNT) ? st : TDL_EINVAL;
        if (inner[0])
            return tdl_fail(code, "%s: operator product %zu failed: %s", o->who, o->count, inner);
        return tdl_fail(code, "%s: operator product %zu failed with status %d (%s)", o->who, o->count, st,
                        tdl_strerror(st));
    }
    for (size_t i = 0; i < o->P; i++)
        if (!isfinite(y[i]))
            return tdl_fail(TDL_ENONFINITE, "%s: operator product %zu returned %s at entry %zu of %zu",
                            o->who, o->count, isnan(y[i]) ? "NaN" : "infinity", i, o->P);
    return TDL_OK;
}

/* ---- random vectors ------------------------------------------------------ */

/* z_i = +-1 with probability 1/2 each: 32 signs per mt19937 draw (its
 * output is uniform on [0, 2^32 - 1], all 32 bits random). */
static void rademacher(gsl_rng *r, double *z, size_t P)
{
    size_t i = 0;
    while (i < P) {
        unsigned long bits = gsl_rng_get(r);
        for (int b = 0; b < 32 && i < P; b++, i++) z[i] = ((bits >> b) & 1UL) ? 1.0 : -1.0;
    }
}

static void gaussian(gsl_rng *r, double *z, size_t P)
{
    for (size_t i = 0; i < P; i++) z[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
}

static gsl_rng *rng_new(unsigned long seed, const char *who)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) {
        tdl_fail(TDL_ENOMEM, "%s: cannot allocate the random number generator", who);
        return NULL;
    }
    gsl_rng_set(r, seed);
    return r;
}

/* ---- Gram-Schmidt -------------------------------------------------------- */

/* One classical Gram-Schmidt pass: h = B w, w <- w - B^T h, for the nb
 * orthonormal rows of B (nb x P).  Two dgemv; h has nb entries. */
static void cgs_pass(const double *B, size_t nb, size_t P, double *w, double *h)
{
    if (nb == 0) return;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)P, 1.0, B, (int)P, w, 1, 0.0, h, 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)nb, (int)P, -1.0, B, (int)P, h, 1, 1.0, w, 1);
}

/* ---- Lanczos state ------------------------------------------------------- */

typedef struct lz {
    op *A;
    size_t P, cap;       /* vector length; rows of V */
    const double *Y;     /* nlock locked rows, orthonormal: A is deflated to their complement */
    size_t nlock;
    double *V;           /* cap x P */
    double *alpha, *beta;/* cap each */
    double *w;           /* P: residual of the last step */
    double *h;           /* max(cap, nlock) Gram-Schmidt coefficients */
    size_t m;            /* steps done */
    double anorm;        /* max_j ||A v_j||: the scale of A seen so far */
} lz;

/* Breakdown threshold: after two Gram-Schmidt passes a w that lies in the
 * span of the basis keeps only rounding, about sqrt(P) eps ||A v||. */
static double lz_breakdown_tol(const lz *s)
{
    return 16.0 * sqrt((double)s->P) * DBL_EPSILON * s->anorm;
}

/* One Lanczos step on v_m = V[m] (unit, orthogonal to Y and V[0..m-1]):
 *   w = A v_m; twice: w -= Y (Y^T w), w -= V (V^T w), alpha_m += (V^T w)_m;
 *   beta_m = ||w||.
 * Full re-orthogonalization subsumes the three-term recurrence (the
 * coefficient of v_{m-1} in the first pass is beta_{m-1}). */
static int lz_step(lz *s)
{
    const size_t P = s->P, m = s->m;
    int st = op_apply(s->A, s->V + m * P, s->w);
    if (st != TDL_OK) return st;
    double nw = cblas_dnrm2((int)P, s->w, 1);
    if (nw > s->anorm) s->anorm = nw;
    double a = 0;
    for (int pass = 0; pass < 2; pass++) {
        cgs_pass(s->Y, s->nlock, P, s->w, s->h);
        cgs_pass(s->V, m + 1, P, s->w, s->h);
        a += s->h[m];
    }
    s->alpha[m] = a;
    s->beta[m] = cblas_dnrm2((int)P, s->w, 1);
    s->m = m + 1;
    return TDL_OK;
}

/* V[m] = w / beta_{m-1}. */
static void lz_advance(lz *s)
{
    const size_t P = s->P, m = s->m;
    double *v = s->V + m * P;
    double inv = 1.0 / s->beta[m - 1];
    for (size_t i = 0; i < P; i++) v[i] = s->w[i] * inv;
}

/* V[m] = a fresh Gaussian vector orthogonal to Y and V[0..m-1], unit.
 * The caller guarantees nlock + m < P. */
static int lz_restart(lz *s, gsl_rng *r)
{
    const size_t P = s->P, m = s->m;
    double *v = s->V + m * P;
    for (int tries = 0; tries < 8; tries++) {
        gaussian(r, v, P);
        double n0 = cblas_dnrm2((int)P, v, 1);
        for (int pass = 0; pass < 2; pass++) {
            cgs_pass(s->Y, s->nlock, P, v, s->h);
            cgs_pass(s->V, m, P, v, s->h);
        }
        double n1 = cblas_dnrm2((int)P, v, 1);
        /* Keep it unless nearly all of it lay in the basis (then the two
         * passes may not leave it orthogonal to working precision). */
        if (n1 > 1e-6 * n0) {
            cblas_dscal((int)P, 1.0 / n1, v, 1);
            return TDL_OK;
        }
    }
    return tdl_fail(TDL_ENOCONV, "%s: cannot draw a start vector orthogonal to %zu basis vectors in R^%zu",
                    s->A->who, s->m + s->nlock, P);
}

/* V[0] = start, made orthogonal to Y and normalized; a NULL start, or one
 * with (almost) nothing outside span(Y) (norm after projection <= 1e-6 of
 * the norm before, or exactly 0), gets the seeded random start instead. */
static int lz_start(lz *s, gsl_rng *r, const double *start)
{
    const size_t P = s->P;
    if (start) {
        double *v = s->V;
        memcpy(v, start, P * sizeof(double));
        double n0 = cblas_dnrm2((int)P, v, 1);
        if (n0 > 0 && isfinite(n0)) {
            for (int pass = 0; pass < 2; pass++) cgs_pass(s->Y, s->nlock, P, v, s->h);
            double n1 = cblas_dnrm2((int)P, v, 1);
            if (n1 > 1e-6 * n0) {
                cblas_dscal((int)P, 1.0 / n1, v, 1);
                return TDL_OK;
            }
        }
    }
    return lz_restart(s, r);
}

/* Eigen-decomposition of the work buffers for T_m. */
typedef struct tri {
    double *d, *e;       /* cap each (copies: LAPACK overwrites them) */
    double *theta;       /* cap */
    double *Z;           /* cap x cap, column-major m x m */
    int *isuppz;         /* 2 cap */
} tri;

/* theta (ascending) and Z (n x n, column-major) of the diagonal block of T
 * on rows [b, b + n) by MRRR (dstevr, all pairs). */
static int tri_eig(const lz *s, size_t b, size_t n, tri *t)
{
    memcpy(t->d, s->alpha + b, n * sizeof(double));
    if (n > 1) memcpy(t->e, s->beta + b, (n - 1) * sizeof(double));
    t->e[n - 1] = 0;
    return tdl_tridiag_eigen(TDL_TRIDIAG_MRRR, n, t->d, t->e, t->theta, t->Z, t->isuppz, s->A->who);
}

/* score(theta): larger is more wanted. */
static double which_score(tdl_which which, double theta)
{
    switch (which) {
    case TDL_WHICH_LARGEST: return theta;
    case TDL_WHICH_SMALLEST: return -theta;
    default: return fabs(theta);
    }
}

/* Indices into ascending theta[0..m-1] of the k wanted values, ascending.
 * For magnitude the wanted set is a prefix plus a suffix: take from the end
 * of larger |theta| (a tie goes to the positive end). */
static void select_wanted(const double *theta, size_t m, size_t k, tdl_which which, size_t *idx)
{
    if (which == TDL_WHICH_SMALLEST) {
        for (size_t i = 0; i < k; i++) idx[i] = i;
        return;
    }
    if (which == TDL_WHICH_LARGEST) {
        for (size_t i = 0; i < k; i++) idx[i] = m - k + i;
        return;
    }
    size_t lo = 0, hi = m;
    for (size_t c = 0; c < k; c++) {
        if (fabs(theta[lo]) > fabs(theta[hi - 1])) lo++;
        else hi--;
    }
    size_t n = 0;
    for (size_t i = 0; i < lo; i++) idx[n++] = i;
    for (size_t i = hi; i < m; i++) idx[n++] = i;
}

/* Kuczynski & Wozniakowski (SIAM J. Matrix Anal. Appl. 13(4), 1992,
 * Thm 4.2): for a positive semi-definite operator of order n and a start
 * vector uniform on the unit sphere, m Lanczos steps leave the top Ritz value
 * below (1 - eps) lambda_max with probability at most
 * 1.648 sqrt(n) exp(-sqrt(eps) (2m - 1)). */
static double kw_bound(double eps, size_t n, size_t m)
{
    if (!(eps > 0)) return 1;
    return 1.648 * sqrt((double)n) * exp(-sqrt(eps) * (2.0 * (double)m - 1.0));
}

/* Probability that the space a block explores (order n, mb steps from a
 * random start, Ritz values in [lo, hi]) still hides an eigenvalue whose
 * score beats `gate`.  The PSD shift uses L = lo - 2 ||A||_est (U = hi +
 * 2 ||A||_est), below (above) the spectrum with a wide margin. */
static double hidden_probability(tdl_which which, double gate, double lo, double hi, double anorm, size_t n,
                                 size_t mb)
{
    const double L = lo - 2 * anorm, U = hi + 2 * anorm;
    double p = 0;
    if (which != TDL_WHICH_SMALLEST) /* an eigenvalue >= gate */
        p += gate > hi ? kw_bound((gate - hi) / (gate - L), n, mb) : 1;
    if (which != TDL_WHICH_LARGEST) /* an eigenvalue <= -gate */
        p += -gate < lo ? kw_bound((lo + gate) / (U + gate), n, mb) : 1;
    return p;
}

/* Rounding allowance of the error bounds: (P + m) eps ||A||_est, m the
 * Lanczos steps.  A safe multiple of the rounding in a computed residual
 * ||A y - theta y|| (a product, an axpy, a norm of P terms: O(sqrt(P) eps
 * ||A||) each) and of the gap between the estimate |beta_m s_m| and the true
 * residual under full re-orthogonalization (Paige 1976; Parlett sec. 13.4:
 * the Lanczos relation holds to O(sqrt(m) eps ||A||) while the basis stays
 * orthonormal to working precision, which the two Gram-Schmidt passes
 * ensure). */
static double bound_rounding(size_t P, size_t m, double anorm)
{
    return ((double)P + (double)m) * DBL_EPSILON * anorm;
}

/* Ritz pairs of one block of T (n x n, eigenvalues t->theta, vectors t->Z,
 * coupling beta to the next Lanczos vector; exact = the block is invariant
 * or the basis fills R^P, so every residual is 0). */
static double ritz_est(const tri *t, size_t n, double beta, int exact, size_t i)
{
    return exact ? 0.0 : fabs(beta * t->Z[(n - 1) + i * n]);
}

/* min over l != i of |theta_l - theta_i| - (est_l + rnd): the distance from
 * theta_i to the intervals that each hold an eigenvalue (residual bound). */
static double ritz_gap_raw(const tri *t, size_t n, double beta, int exact, size_t i, double rnd)
{
    double g = INFINITY;
    for (size_t l = 0; l < n; l++)
        if (l != i) g = fmin(g, fabs(t->theta[l] - t->theta[i]) - ritz_est(t, n, beta, exact, l) - rnd);
    return g;
}

/* A Ritz value is settled when its residual, or its quadratic bound with
 * its own raw gap, is within tol_abs. */
static int ritz_settled(const tri *t, size_t n, double beta, int exact, size_t i, double tol_abs, double rnd)
{
    double e = ritz_est(t, n, beta, exact, i);
    if (e <= tol_abs) return 1;
    double g = ritz_gap_raw(t, n, beta, exact, i, rnd);
    return g > e + rnd && (e + rnd) * (e + rnd) / g + rnd <= tol_abs;
}

/* The gap of Ritz value i to the rest of the spectrum, estimated from the
 * other Ritz values of the same block: ritz_gap_raw, set (else NaN) only
 * when both neighbours of theta_i (one at an end) are settled, i.e. when the
 * Ritz values around theta_i are eigenvalues themselves.  By the residual
 * bound each interval theta_l +- (est_l + rnd) holds an eigenvalue of A; the
 * estimate assumes that A has no eigenvalue closer to theta_i than those
 * intervals besides the one theta_i approximates: Lanczos finds the end of
 * the spectrum in order, and a missed eigenvalue there (one the Krylov space
 * does not see) is the event that the multiplicity probe
 * (TDL_LANCZOS_MULTIPLICITY) bounds by TDL_PROBE_DELTA. */
static double ritz_gap(const tri *t, size_t n, double beta, int exact, size_t i, double tol_abs, double rnd,
                       tdl_which which)
{
    /* Beyond the last (first) Ritz value only the wanted end of the spectrum
     * may be taken as empty: below the lowest Ritz value of a run for the
     * largest lies the unexplored bulk.  And never for a lone Ritz value. */
    if (n < 2) return NAN;
    if (i == 0 && which == TDL_WHICH_LARGEST) return NAN;
    if (i + 1 == n && which == TDL_WHICH_SMALLEST) return NAN;
    if (i > 0 && !ritz_settled(t, n, beta, exact, i - 1, tol_abs, rnd)) return NAN;
    if (i + 1 < n && !ritz_settled(t, n, beta, exact, i + 1, tol_abs, rnd)) return NAN;
    double g = ritz_gap_raw(t, n, beta, exact, i, rnd);
    return g > 0 ? g : NAN;
}

/* The certified error bound of Ritz value i: min(residual bound, quadratic
 * bound where the gap is known); see tdl/spectral.h. */
static double ritz_bound(const tri *t, size_t n, double beta, int exact, size_t i, double tol_abs, double rnd,
                         tdl_which which)
{
    double rb = ritz_est(t, n, beta, exact, i) + rnd;
    double g = ritz_gap(t, n, beta, exact, i, tol_abs, rnd, which);
    return g > rb ? fmin(rb, rb * rb / g + rnd) : rb;
}

/* Accepted probability of a missed eigenvalue when a probe stops early. */
#define TDL_PROBE_DELTA 1e-10

/* One Lanczos run on A restricted to the complement of the locked rows
 * s->Y, from a random start, until the k wanted Ritz pairs converge or
 * `limit` steps.  Writes the k wanted values (ascending), their residual
 * estimates, whether each met the tolerance (or is exact) and, when
 * vec != NULL, their Ritz vectors (k rows of P).
 *
 * Breakdowns.  When block b of T becomes invariant its Ritz values are
 * exact, but the complement of the Krylov space is unexplored: it may hold
 * more copies of a wanted eigenvalue (multiplicity, low rank), which a
 * Krylov space never sees.  The restarted block is Lanczos on exactly that
 * complement, so it serves as a probe: the run may stop only once the
 * probe's extreme Ritz value has converged and does not beat the k-th wanted
 * value of the earlier blocks (by more than tol ||A||), or once the
 * Kuczynski-Wozniakowski bound puts the probability that such a value is
 * still hidden below TDL_PROBE_DELTA; if it beats it, the block becomes an
 * ordinary one and the usual test applies.  A finite `gate` makes the whole
 * run a probe against that score (the multiplicity check). */
static int lanczos_run(lz *s, tri *t, gsl_rng *r, size_t k, tdl_which which, size_t limit, double tol,
                       int on_bound, double gate, const double *start, size_t *idx, double *val, double *est,
                       int *pconv, double *gap, double *vec)
{
    const size_t P = s->P;
    s->m = 0;
    int st = lz_start(s, r, start);
    if (st != TDL_OK) return st;
    size_t next_check = k, bs = 0; /* first row of the current block */
    int probe = gate > -INFINITY;  /* the current block follows a breakdown */
    double prev_kth = gate;        /* score of the k-th wanted value before it */
    for (;;) {
        st = lz_step(s);
        if (st != TDL_OK) return st;
        const size_t m = s->m;
        int brk = s->beta[m - 1] <= lz_breakdown_tol(s);
        if (brk) s->beta[m - 1] = 0; /* invariant subspace: the Ritz values so far are exact */
        const int full = m == limit, exhausted = m + s->nlock == P;
        /* The eigen-solve of T_m costs O(m^2): every step while that is
         * negligible next to a product, then every m/32 steps (overshoot
         * <= 3%), and always at a breakdown or at the limit. */
        if (!((m >= k && m >= next_check) || full || brk || exhausted)) {
            lz_advance(s);
            continue;
        }
        int ext_conv = 0, unlikely = 0;
        double ext_score = 0;
        if (probe) { /* the extreme Ritz value of the current block and its residual */
            const size_t nb = m - bs;
            if ((st = tri_eig(s, bs, nb, t)) != TDL_OK) return st;
            size_t je = which == TDL_WHICH_SMALLEST ? 0 : nb - 1;
            if (which == TDL_WHICH_MAGNITUDE && fabs(t->theta[0]) > fabs(t->theta[nb - 1])) je = 0;
            ext_score = which_score(which, t->theta[je]);
            ext_conv = fabs(s->beta[m - 1] * t->Z[(nb - 1) + je * nb]) <= tol * s->anorm;
            if (on_bound && !ext_conv)
                ext_conv = ritz_bound(t, nb, s->beta[m - 1], 0, je, tol * s->anorm,
                                      bound_rounding(P, m, s->anorm), which) <= tol * s->anorm;
            const double g = prev_kth + tol * s->anorm;
            unlikely = !ext_conv && ext_score < g &&
                       hidden_probability(which, g, t->theta[0], t->theta[nb - 1], s->anorm, P - s->nlock - bs, nb) <=
                           TDL_PROBE_DELTA;
        }
        int conv_w = 0;
        if (m >= k) {
            if ((st = tri_eig(s, 0, m, t)) != TDL_OK) return st;
            select_wanted(t->theta, m, k, which, idx);
            double scale = fmax(fabs(t->theta[0]), fabs(t->theta[m - 1]));
            conv_w = 1;
            for (size_t j = 0; j < k; j++) {
                est[j] = fabs(s->beta[m - 1] * t->Z[(m - 1) + idx[j] * m]);
                pconv[j] = est[j] <= tol * scale || exhausted;
                if (on_bound && !pconv[j])
                    pconv[j] = ritz_bound(t, m, s->beta[m - 1], 0, idx[j], tol * scale,
                                          bound_rounding(P, m, fmax(s->anorm, scale)), which) <= tol * scale;
                if (!pconv[j]) conv_w = 0;
            }
        }
        /* Stopping in a probe leaves the wanted set to the earlier blocks,
         * which are exact (their estimates are 0). */
        int done = 0;
        if (exhausted) { /* the basis spans the whole space: exact */
            done = 1;
        } else if (probe && unlikely) {
            done = 1; /* nothing hidden beats the wanted set, but with probability TDL_PROBE_DELTA */
        } else if (probe && ext_conv) {
            if (!(ext_score > prev_kth + tol * s->anorm)) done = 1; /* nothing in the complement enters */
            else probe = 0;
        }
        if (!done && brk) {
            prev_kth = INFINITY;
            if (m >= k)
                for (size_t j = 0; j < k; j++) prev_kth = fmin(prev_kth, which_score(which, t->theta[idx[j]]));
            else
                prev_kth = -INFINITY;
            probe = 1;
            bs = m;
            if (full) done = 1;
        } else if (!done && ((!probe && conv_w) || full)) {
            done = 1;
        }
        if (done) {
            const double scale = fmax(fabs(t->theta[0]), fabs(t->theta[m - 1]));
            const double rnd = bound_rounding(P, m, fmax(s->anorm, scale));
            for (size_t j = 0; j < k; j++) gap[j] = ritz_gap(t, m, s->beta[m - 1], exhausted, idx[j], tol * scale, rnd, which);
            for (size_t j = 0; j < k; j++) {
                val[j] = t->theta[idx[j]];
                if (vec) {
                    double *y = vec + j * P;
                    cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)P, 1.0, s->V, (int)P, t->Z + idx[j] * m, 1,
                                0.0, y, 1);
                    double ny = cblas_dnrm2((int)P, y, 1);
                    if (ny > 0) cblas_dscal((int)P, 1.0 / ny, y, 1);
                }
            }
            return TDL_OK;
        }
        next_check = m < 256 ? m + 1 : m + m / 32;
        if (brk) {
            st = lz_restart(s, r);
            if (st != TDL_OK) return st;
        } else {
            lz_advance(s);
        }
    }
}

void tdl_lanczos_result_free(tdl_lanczos_result *r)
{
    if (!r) return;
    free(r->values);
    free(r->vectors);
    free(r->residuals);
    free(r->residual_bounds);
    free(r->gaps);
    free(r->quadratic_bounds);
    free(r->error_bounds);
    memset(r, 0, sizeof *r);
}

int tdl_lanczos(tdl_matvec_fn f, void *ctx, size_t P, size_t k, tdl_which which, size_t max_steps,
                double tol, unsigned long seed, unsigned flags, tdl_lanczos_result *out)
{
    return tdl_lanczos_from(f, ctx, P, k, which, max_steps, tol, seed, flags, NULL, out);
}

int tdl_lanczos_from(tdl_matvec_fn f, void *ctx, size_t P, size_t k, tdl_which which, size_t max_steps,
                     double tol, unsigned long seed, unsigned flags, const double *start, tdl_lanczos_result *out)
{
    static const char who[] = "lanczos";
    if (!out) return tdl_fail(TDL_EINVAL, "%s: no result structure", who);
    memset(out, 0, sizeof *out);
    if (!f) return tdl_fail(TDL_EINVAL, "%s: no operator callback", who);
    if (P == 0) return tdl_fail(TDL_EINVAL, "%s: the operator has order 0", who);
    if (k == 0) return tdl_fail(TDL_EINVAL, "%s: k = 0 eigenpairs requested", who);
    if (k > P) return tdl_fail(TDL_EINVAL, "%s: k = %zu eigenpairs requested of a %zu x %zu operator", who, k, P, P);
    if ((unsigned)which > TDL_WHICH_MAGNITUDE) return tdl_fail(TDL_EINVAL, "%s: unknown selection %d", who, (int)which);
    if (flags & ~(TDL_LANCZOS_VECTORS | TDL_LANCZOS_MULTIPLICITY | TDL_LANCZOS_STOP_ON_BOUND))
        return tdl_fail(TDL_EINVAL, "%s: unknown flags 0x%x", who, flags);
    if (isnan(tol) || tol < 0 || isinf(tol)) return tdl_fail(TDL_EINVAL, "%s: tolerance %g is not a finite number >= 0", who, tol);
    if (tol == 0) tol = TDL_LANCZOS_TOL_DEFAULT;
    size_t steps = max_steps ? max_steps : TDL_LANCZOS_STEPS_DEFAULT(k);
    if (steps > P) steps = P;
    if (steps < k) return tdl_fail(TDL_EINVAL, "%s: max_steps = %zu is less than k = %zu", who, steps, k);
    int st = check_blas_dim(P, who, "P");
    if (st != TDL_OK) return st;

    const int want_vec = (flags & TDL_LANCZOS_VECTORS) != 0;
    const int verify = (flags & TDL_LANCZOS_MULTIPLICITY) != 0;
    const int on_bound = (flags & TDL_LANCZOS_STOP_ON_BOUND) != 0;
    /* Pool of candidate pairs: the k of the first run, then at most k + 1
     * checks, each adding at most one. */
    const size_t pool_cap = verify ? 2 * k + 1 : k;
    const int keep_vec = want_vec || verify;

    plan pl = {0, 0};
    plan_doubles(&pl, steps, P);           /* V */
    plan_doubles(&pl, steps, steps);       /* Z */
    plan_doubles(&pl, 6, steps);           /* alpha beta d e theta h */
    plan_doubles(&pl, 2, P);               /* w, residual work */
    if (keep_vec) plan_doubles(&pl, pool_cap, P);
    if (want_vec) plan_doubles(&pl, k, P); /* the output */
    plan_doubles(&pl, 7, pool_cap);
    plan_doubles(&pl, 4, k); /* the bounds */
    char what[160];
    snprintf(what, sizeof what, "a basis of %zu Lanczos vectors of length %zu", steps, P);
    st = plan_check(&pl, who, what);
    if (st != TDL_OK) return st;

    op A = {f, ctx, P, 0, who};
    lz s = {&A, P, steps, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0.0};
    tri t = {NULL, NULL, NULL, NULL, NULL};
    double *pool_val = NULL, *pool_est = NULL, *pool_gap = NULL, *pool_couple = NULL, *pool_rb = NULL, *Y = NULL,
           *tmp = NULL;
    size_t *pool_nlock = NULL;
    int *pool_conv = NULL;
    size_t *idx = NULL, *order = NULL;
    gsl_rng *rng = NULL;
    int conv_all = 1;
    size_t npool = 0;

    st = TDL_ENOMEM;
    if (!(s.V = tdl_malloc(steps * P * sizeof(double), "Lanczos basis"))) goto cleanup;
    if (!(s.alpha = tdl_malloc(steps * sizeof(double), "Lanczos alpha"))) goto cleanup;
    if (!(s.beta = tdl_malloc(steps * sizeof(double), "Lanczos beta"))) goto cleanup;
    if (!(s.w = tdl_malloc(P * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(s.h = tdl_malloc((steps > pool_cap ? steps : pool_cap) * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(tmp = tdl_malloc(P * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(t.d = tdl_malloc(steps * sizeof(double), "tridiagonal work"))) goto cleanup;
    if (!(t.e = tdl_malloc(steps * sizeof(double), "tridiagonal work"))) goto cleanup;
    if (!(t.theta = tdl_malloc(steps * sizeof(double), "Ritz values"))) goto cleanup;
    if (!(t.Z = tdl_malloc(steps * steps * sizeof(double), "tridiagonal eigenvectors"))) goto cleanup;
    if (!(t.isuppz = tdl_malloc(2 * steps * sizeof(int), "tridiagonal work"))) goto cleanup;
    if (!(pool_val = tdl_malloc(pool_cap * sizeof(double), "Ritz values"))) goto cleanup;
    if (!(pool_est = tdl_malloc(pool_cap * sizeof(double), "Ritz residuals"))) goto cleanup;
    if (!(pool_conv = tdl_malloc(pool_cap * sizeof(int), "Lanczos work"))) goto cleanup;
    if (!(pool_gap = tdl_malloc(pool_cap * sizeof(double), "Ritz gaps"))) goto cleanup;
    if (!(pool_couple = tdl_malloc(pool_cap * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(pool_rb = tdl_malloc(pool_cap * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(pool_nlock = tdl_malloc(pool_cap * sizeof(size_t), "Lanczos work"))) goto cleanup;
    if (!(idx = tdl_malloc(pool_cap * sizeof(size_t), "Lanczos work"))) goto cleanup;
    if (!(order = tdl_malloc(pool_cap * sizeof(size_t), "Lanczos work"))) goto cleanup;
    if (keep_vec && !(Y = tdl_malloc(pool_cap * P * sizeof(double), "Ritz vectors"))) goto cleanup;
    if (!(out->values = tdl_malloc(k * sizeof(double), "eigenvalues"))) goto cleanup;
    if (!(out->residuals = tdl_malloc(k * sizeof(double), "residuals"))) goto cleanup;
    if (!(out->residual_bounds = tdl_malloc(k * sizeof(double), "error bounds"))) goto cleanup;
    if (!(out->gaps = tdl_malloc(k * sizeof(double), "error bounds"))) goto cleanup;
    if (!(out->quadratic_bounds = tdl_malloc(k * sizeof(double), "error bounds"))) goto cleanup;
    if (!(out->error_bounds = tdl_malloc(k * sizeof(double), "error bounds"))) goto cleanup;
    if (want_vec && !(out->vectors = tdl_malloc(k * P * sizeof(double), "eigenvectors"))) goto cleanup;
    if (!(rng = rng_new(seed, who))) goto cleanup;

    /* Run 1: the k wanted pairs. */
    st = lanczos_run(&s, &t, rng, k, which, steps, tol, on_bound, -INFINITY, start, idx, pool_val, pool_est, pool_conv,
                     pool_gap, keep_vec ? Y : NULL);
    if (st != TDL_OK) goto cleanup;
    out->iterations = s.m;
    npool = k;
    for (size_t j = 0; j < k; j++) {
        pool_couple[j] = 0;
        pool_nlock[j] = 0;
    }

    /* Multiplicity check: Lanczos on the complement of every locked vector;
     * its extreme eigenvalue enters the wanted set only if it beats the
     * worst wanted one by more than the tolerance. */
    for (size_t round = 0; verify && round <= k && npool < pool_cap && npool < P; round++) {
        /* score of the k-th best of the pool: the gate to beat */
        for (size_t i = 0; i < npool; i++) order[i] = i;
        for (size_t i = 1; i < npool; i++) { /* insertion sort by descending score; npool <= 2k + 1 */
            size_t x = order[i], j = i;
            while (j > 0 && which_score(which, pool_val[order[j - 1]]) < which_score(which, pool_val[x])) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
        const double gate = which_score(which, pool_val[order[k - 1]]) + tol * s.anorm;
        s.Y = Y;
        s.nlock = npool;
        size_t limit = steps < P - npool ? steps : P - npool;
        size_t i1;
        st = lanczos_run(&s, &t, rng, 1, which, limit, tol, on_bound, gate - tol * s.anorm, NULL, &i1, pool_val + npool,
                         pool_est + npool, pool_conv + npool, pool_gap + npool, Y + npool * P);
        if (st != TDL_OK) goto cleanup;
        /* A pair found on the complement of the locked Y has A y = (deflated
         * A) y + Y (A Y)^T y, and (A Y)^T y = (A Y - Y Theta)^T y since
         * Y^T y = 0: its true residual exceeds the estimate by at most the
         * locked pairs' residuals, sqrt(sum r_l^2).  Its gap is not
         * estimated (the run saw only the complement). */
        double c2 = 0;
        for (size_t l = 0; l < npool; l++) c2 += (pool_est[l] + pool_couple[l]) * (pool_est[l] + pool_couple[l]);
        pool_couple[npool] = sqrt(c2);
        pool_nlock[npool] = npool;
        pool_gap[npool] = NAN;
        out->iterations += s.m;
        if (!(which_score(which, pool_val[npool]) > gate)) break;
        npool++;
    }
    s.Y = NULL;
    s.nlock = 0;

    /* The k best of the pool, in ascending order of value. */
    for (size_t i = 0; i < npool; i++) order[i] = i;
    for (size_t i = 1; i < npool; i++) {
        size_t x = order[i], j = i;
        while (j > 0 && which_score(which, pool_val[order[j - 1]]) < which_score(which, pool_val[x])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    for (size_t i = 1; i < k; i++) { /* the first k by ascending value */
        size_t x = order[i], j = i;
        while (j > 0 && pool_val[order[j - 1]] > pool_val[x]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    /* Error bounds.  rnd: the rounding allowance with the scale seen. */
    double scale = s.anorm;
    for (size_t i = 0; i < npool; i++) scale = fmax(scale, fabs(pool_val[i]));
    const double rnd = bound_rounding(P, out->iterations, scale);
    for (size_t i = 0; i < npool; i++) /* the residual bound of every candidate */
        pool_rb[i] = pool_est[i] + pool_couple[i] + (1.0 + (double)pool_nlock[i]) * rnd;
    for (size_t j = 0; j < k; j++) {
        size_t p = order[j];
        out->values[j] = pool_val[p];
        out->residuals[j] = pool_est[p];
        conv_all = conv_all && pool_conv[p];
        if (want_vec) {
            const double *y = Y + p * P;
            for (size_t i = 0; i < P; i++) out->vectors[i * k + j] = y[i];
            /* true residual ||A y - theta y|| (one product) */
            st = op_apply(&A, y, tmp);
            if (st != TDL_OK) goto cleanup;
            cblas_daxpy((int)P, -pool_val[p], y, 1, tmp, 1);
            out->residuals[j] = cblas_dnrm2((int)P, tmp, 1);
            pool_rb[p] = out->residuals[j] + rnd;
        }
    }
    for (size_t j = 0; j < k; j++) {
        size_t p = order[j];
        const double rb = pool_rb[p];
        double g = pool_gap[p];
        /* the other candidates (copies found by the multiplicity check
         * included) narrow the gap; a copy closes it */
        for (size_t q = 0; q < npool && !isnan(g); q++)
            if (q != p) g = fmin(g, fabs(pool_val[q] - pool_val[p]) - pool_rb[q]);
        if (!(g > rb)) g = NAN; /* not isolated: no quadratic bound */
        out->residual_bounds[j] = rb;
        out->gaps[j] = g;
        /* + rnd: values[j] comes from T_m, not from y^T A y (the Rayleigh
         * quotient the quadratic bound is about); they differ by rounding */
        out->quadratic_bounds[j] = isnan(g) ? INFINITY : rb * rb / g + rnd;
        out->error_bounds[j] = fmin(rb, out->quadratic_bounds[j]);
    }
    out->norm_estimate = scale;
    out->rounding = rnd;
    out->k = k;
    out->P = P;
    out->matvecs = A.count;
    out->converged = conv_all;
    st = TDL_OK;

cleanup:
    if (st != TDL_OK) tdl_lanczos_result_free(out);
    gsl_rng_free(rng);
    free(s.V);
    free(s.alpha);
    free(s.beta);
    free(s.w);
    free(s.h);
    free(tmp);
    free(t.d);
    free(t.e);
    free(t.theta);
    free(t.Z);
    free(t.isuppz);
    free(pool_val);
    free(pool_est);
    free(pool_conv);
    free(pool_gap);
    free(pool_couple);
    free(pool_rb);
    free(pool_nlock);
    free(idx);
    free(order);
    free(Y);
    return st;
}

/* ---- trace estimators ---------------------------------------------------- */

/* Welford's running mean and sum of squared deviations (stable for many
 * probes of nearly equal value). */
typedef struct stat {
    size_t n;
    double mean, m2;
} stat;

static void stat_add(stat *s, double x)
{
    s->n++;
    double d = x - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
}

static double stat_stderr(const stat *s)
{
    return s->n > 1 ? sqrt(s->m2 / (double)(s->n - 1) / (double)s->n) : NAN;
}

int tdl_hutchinson(tdl_matvec_fn f, void *ctx, size_t P, size_t probes, unsigned long seed, double *trace,
                   double *std_error)
{
    static const char who[] = "hutchinson";
    if (!trace) return tdl_fail(TDL_EINVAL, "%s: no output for the trace", who);
    *trace = NAN;
    if (std_error) *std_error = NAN;
    if (!f) return tdl_fail(TDL_EINVAL, "%s: no operator callback", who);
    if (P == 0) return tdl_fail(TDL_EINVAL, "%s: the operator has order 0", who);
    if (probes < 2) return tdl_fail(TDL_EINVAL, "%s: %zu probes; at least 2 are needed for a standard error", who, probes);
    int st = check_blas_dim(P, who, "P");
    if (st != TDL_OK) return st;
    plan pl = {0, 0};
    plan_doubles(&pl, 2, P);
    char what[96];
    snprintf(what, sizeof what, "two vectors of length %zu", P);
    if ((st = plan_check(&pl, who, what)) != TDL_OK) return st;

    op A = {f, ctx, P, 0, who};
    double *z = NULL, *y = NULL;
    gsl_rng *rng = NULL;
    stat acc = {0, 0, 0};
    st = TDL_ENOMEM;
    if (!(z = tdl_malloc(P * sizeof(double), "probe"))) goto cleanup;
    if (!(y = tdl_malloc(P * sizeof(double), "probe product"))) goto cleanup;
    if (!(rng = rng_new(seed, who))) goto cleanup;
    for (size_t p = 0; p < probes; p++) {
        rademacher(rng, z, P);
        if ((st = op_apply(&A, z, y)) != TDL_OK) goto cleanup;
        stat_add(&acc, cblas_ddot((int)P, z, 1, y, 1));
    }
    *trace = acc.mean;
    if (std_error) *std_error = stat_stderr(&acc);
    st = TDL_OK;
cleanup:
    gsl_rng_free(rng);
    free(z);
    free(y);
    return st;
}

int tdl_hutchpp(tdl_matvec_fn f, void *ctx, size_t P, size_t matvecs, unsigned long seed, double *trace,
                double *std_error)
{
    static const char who[] = "hutch++";
    if (!trace) return tdl_fail(TDL_EINVAL, "%s: no output for the trace", who);
    *trace = NAN;
    if (std_error) *std_error = NAN;
    if (!f) return tdl_fail(TDL_EINVAL, "%s: no operator callback", who);
    if (P == 0) return tdl_fail(TDL_EINVAL, "%s: the operator has order 0", who);
    if (matvecs < 4)
        return tdl_fail(TDL_EINVAL, "%s: a budget of %zu products; at least 4 are needed (sketch, projection, 2 probes)",
                        who, matvecs);
    int st = check_blas_dim(P, who, "P");
    if (st != TDL_OK) return st;
    size_t s = matvecs / 3;
    if (s > P) s = P;
    const size_t probes = matvecs - 2 * s;
    plan pl = {0, 0};
    plan_doubles(&pl, s, P); /* S, then Q in place */
    plan_doubles(&pl, 3, P);
    plan_doubles(&pl, 2, s);
    char what[128];
    snprintf(what, sizeof what, "a sketch of %zu vectors of length %zu", s, P);
    if ((st = plan_check(&pl, who, what)) != TDL_OK) return st;
    if ((st = check_blas_dim(s * P, who, "the sketch size")) != TDL_OK) return st;

    op A = {f, ctx, P, 0, who};
    double *Q = NULL, *tau = NULL, *z = NULL, *g = NULL, *y = NULL, *h = NULL;
    gsl_rng *rng = NULL;
    st = TDL_ENOMEM;
    if (!(Q = tdl_malloc(s * P * sizeof(double), "Hutch++ sketch"))) goto cleanup;
    if (!(tau = tdl_malloc(s * sizeof(double), "Hutch++ work"))) goto cleanup;
    if (!(h = tdl_malloc(s * sizeof(double), "Hutch++ work"))) goto cleanup;
    if (!(z = tdl_malloc(P * sizeof(double), "probe"))) goto cleanup;
    if (!(g = tdl_malloc(P * sizeof(double), "probe"))) goto cleanup;
    if (!(y = tdl_malloc(P * sizeof(double), "probe product"))) goto cleanup;
    if (!(rng = rng_new(seed, who))) goto cleanup;

    /* Sketch A S, one column a row of Q (= P x s column-major). */
    for (size_t j = 0; j < s; j++) {
        rademacher(rng, z, P);
        if ((st = op_apply(&A, z, Q + j * P)) != TDL_OK) goto cleanup;
    }
    /* Q = orth(A S) by Householder QR: Q has orthonormal columns even when
     * A S is rank deficient (then they span more than its range). */
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)P, (lapack_int)s, Q, (lapack_int)P, tau);
    if ((st = tdl_lapack_status(info, who, "dgeqrf")) != TDL_OK) goto cleanup;
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)P, (lapack_int)s, (lapack_int)s, Q, (lapack_int)P, tau);
    if ((st = tdl_lapack_status(info, who, "dorgqr")) != TDL_OK) goto cleanup;

    /* t1 = trace(Q^T A Q) */
    double t1 = 0;
    for (size_t j = 0; j < s; j++) {
        const double *q = Q + j * P;
        if ((st = op_apply(&A, q, y)) != TDL_OK) goto cleanup;
        t1 += cblas_ddot((int)P, q, 1, y, 1);
    }
    /* t2: Hutchinson on (I - QQ^T) A (I - QQ^T) with g = (I - QQ^T) z:
     * g^T A g = z^T (I - QQ^T) A (I - QQ^T) z. */
    stat acc = {0, 0, 0};
    for (size_t p = 0; p < probes; p++) {
        rademacher(rng, z, P);
        memcpy(g, z, P * sizeof(double));
        cgs_pass(Q, s, P, g, h);
        if ((st = op_apply(&A, g, y)) != TDL_OK) goto cleanup;
        stat_add(&acc, cblas_ddot((int)P, g, 1, y, 1));
    }
    *trace = t1 + acc.mean;
    if (std_error) *std_error = stat_stderr(&acc);
    st = TDL_OK;
cleanup:
    gsl_rng_free(rng);
    free(Q);
    free(tau);
    free(h);
    free(z);
    free(g);
    free(y);
    return st;
}

/* ---- stochastic Lanczos quadrature --------------------------------------- */

void tdl_slq_result_free(tdl_slq_result *r)
{
    if (!r) return;
    free(r->nodes);
    free(r->weights);
    memset(r, 0, sizeof *r);
}

int tdl_slq(tdl_matvec_fn f, void *ctx, size_t P, size_t runs, size_t steps, unsigned long seed,
            tdl_slq_result *out)
{
    static const char who[] = "slq";
    if (!out) return tdl_fail(TDL_EINVAL, "%s: no result structure", who);
    memset(out, 0, sizeof *out);
    if (!f) return tdl_fail(TDL_EINVAL, "%s: no operator callback", who);
    if (P == 0) return tdl_fail(TDL_EINVAL, "%s: the operator has order 0", who);
    if (runs == 0) return tdl_fail(TDL_EINVAL, "%s: 0 runs requested", who);
    if (steps == 0) return tdl_fail(TDL_EINVAL, "%s: 0 Lanczos steps requested", who);
    if (steps > P) steps = P;
    int st = check_blas_dim(P, who, "P");
    if (st != TDL_OK) return st;
    plan pl = {0, 0};
    plan_doubles(&pl, steps, P);     /* V */
    plan_doubles(&pl, steps, steps); /* Z */
    plan_doubles(&pl, 6, steps);
    plan_doubles(&pl, 1, P);
    plan_doubles(&pl, runs, 2 * steps);
    char what[160];
    snprintf(what, sizeof what, "%zu runs of %zu Lanczos vectors of length %zu", runs, steps, P);
    if ((st = plan_check(&pl, who, what)) != TDL_OK) return st;

    op A = {f, ctx, P, 0, who};
    lz s = {&A, P, steps, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0.0};
    double *d = NULL, *e = NULL, *Z = NULL;
    gsl_rng *rng = NULL;
    st = TDL_ENOMEM;
    if (!(s.V = tdl_malloc(steps * P * sizeof(double), "Lanczos basis"))) goto cleanup;
    if (!(s.alpha = tdl_malloc(steps * sizeof(double), "Lanczos alpha"))) goto cleanup;
    if (!(s.beta = tdl_malloc(steps * sizeof(double), "Lanczos beta"))) goto cleanup;
    if (!(s.w = tdl_malloc(P * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(s.h = tdl_malloc(steps * sizeof(double), "Lanczos work"))) goto cleanup;
    if (!(d = tdl_malloc(steps * sizeof(double), "tridiagonal work"))) goto cleanup;
    if (!(e = tdl_malloc(steps * sizeof(double), "tridiagonal work"))) goto cleanup;
    if (!(Z = tdl_malloc(steps * steps * sizeof(double), "tridiagonal eigenvectors"))) goto cleanup;
    if (!(out->nodes = tdl_malloc(runs * steps * sizeof(double), "SLQ nodes"))) goto cleanup;
    if (!(out->weights = tdl_malloc(runs * steps * sizeof(double), "SLQ weights"))) goto cleanup;
    if (!(rng = rng_new(seed, who))) goto cleanup;

    const double inv_sqrt_p = 1.0 / sqrt((double)P);
    for (size_t r = 0; r < runs; r++) {
        /* v = z / sqrt(P): ||z||^2 = P exactly, so v^T g(A) v = z^T g(A) z / P */
        rademacher(rng, s.V, P);
        cblas_dscal((int)P, inv_sqrt_p, s.V, 1);
        s.m = 0;
        s.anorm = 0;
        for (;;) {
            if ((st = lz_step(&s)) != TDL_OK) goto cleanup;
            if (s.m == steps) break;
            /* Invariant Krylov space: the quadrature is exact with m nodes.
             * (A restart would add nodes that v does not see.) */
            if (s.beta[s.m - 1] <= lz_breakdown_tol(&s)) break;
            lz_advance(&s);
        }
        const size_t m = s.m;
        memcpy(d, s.alpha, m * sizeof(double));
        if (m > 1) memcpy(e, s.beta, (m - 1) * sizeof(double));
        if ((st = tdl_tridiag_eigen(TDL_TRIDIAG_QL, m, d, e, NULL, Z, NULL, who)) != TDL_OK) goto cleanup;
        double *nodes = out->nodes + r * steps, *weights = out->weights + r * steps;
        for (size_t j = 0; j < m; j++) {
            nodes[j] = d[j];
            weights[j] = Z[j * m] * Z[j * m]; /* squared FIRST component */
        }
        for (size_t j = m; j < steps; j++) {
            nodes[j] = d[m - 1];
            weights[j] = 0;
        }
    }
    out->runs = runs;
    out->steps = steps;
    out->matvecs = A.count;
    st = TDL_OK;
cleanup:
    if (st != TDL_OK) tdl_slq_result_free(out);
    gsl_rng_free(rng);
    free(s.V);
    free(s.alpha);
    free(s.beta);
    free(s.w);
    free(s.h);
    free(d);
    free(e);
    free(Z);
    return st;
}

/* ---- density smoothing --------------------------------------------------- */

void tdl_density_free(tdl_density *d)
{
    if (!d) return;
    free(d->grid);
    free(d->values);
    memset(d, 0, sizeof *d);
}

int tdl_slq_density(const tdl_slq_result *r, tdl_smoothing conv, size_t points, double sigma_override,
                    tdl_density *out)
{
    static const char who[] = "slq density";
    if (!out) return tdl_fail(TDL_EINVAL, "%s: no result structure", who);
    memset(out, 0, sizeof *out);
    if (!r) return tdl_fail(TDL_EINVAL, "%s: no SLQ result", who);
    if (r->runs == 0 || r->steps == 0 || !r->nodes || !r->weights)
        return tdl_fail(TDL_EINVAL, "%s: empty SLQ result", who);
    if ((unsigned)conv > TDL_SMOOTH_PAPYAN) return tdl_fail(TDL_EINVAL, "%s: unknown smoothing %d", who, (int)conv);
    if (points == 1) return tdl_fail(TDL_EINVAL, "%s: a grid needs at least 2 points", who);
    if (!isnan(sigma_override) && !(sigma_override > 0 && isfinite(sigma_override)))
        return tdl_fail(TDL_EINVAL, "%s: sigma %g is not a positive number (NaN selects the convention's)", who,
                        sigma_override);
    if (conv == TDL_SMOOTH_PAPYAN && r->steps < 2 && isnan(sigma_override))
        return tdl_fail(TDL_EINVAL, "%s: the papyan width 2 / (m - 1) / sqrt(8 ln 3) needs m >= 2 Lanczos steps", who);
    if (points == 0) points = conv == TDL_SMOOTH_PAPYAN ? 1024 : 10000;
    size_t n;
    if (tdl_mul_size(r->runs, r->steps, &n) != 0) return tdl_fail(TDL_ETOOBIG, "%s: result too large", who);
    plan pl = {0, 0};
    plan_doubles(&pl, 2, points);
    int st = plan_check(&pl, who, "the grid");
    if (st != TDL_OK) return st;

    /* extremes: global, and the means of the per-run extremes */
    double gmin = INFINITY, gmax = -INFINITY, mean_min = 0, mean_max = 0;
    for (size_t i = 0; i < r->runs; i++) {
        double rmin = INFINITY, rmax = -INFINITY;
        for (size_t j = 0; j < r->steps; j++) {
            double x = r->nodes[i * r->steps + j], w = r->weights[i * r->steps + j];
            if (!isfinite(x) || !isfinite(w))
                return tdl_fail(TDL_ENONFINITE, "%s: node or weight %zu of run %zu is not finite", who, j, i);
            rmin = fmin(rmin, x);
            rmax = fmax(rmax, x);
        }
        gmin = fmin(gmin, rmin);
        gmax = fmax(gmax, rmax);
        mean_min += rmin;
        mean_max += rmax;
    }
    mean_min /= (double)r->runs;
    mean_max /= (double)r->runs;

    double lo, hi, sigma;
    const double m = (double)r->steps;
    switch (conv) {
    case TDL_SMOOTH_PYHESSIAN:
        lo = mean_min - 0.01;
        hi = mean_max + 0.01;
        sigma = sqrt(1e-5 * fmax(1.0, hi - lo)); /* variance 1e-5 max(1, range) */
        break;
    case TDL_SMOOTH_EIGENTHINGS: {
        double spread = fmax(gmax - gmin, 1e-9 * fmax(1.0, fmax(fabs(gmin), fabs(gmax))));
        sigma = spread / m;
        lo = gmin - 0.1 * spread;
        hi = gmax + 0.1 * spread;
        break;
    }
    default: { /* Papyan */
        double width = fmax(gmax - gmin, 1e-9 * fmax(1.0, fmax(fabs(gmin), fabs(gmax))));
        lo = gmin - 0.05 * width;
        hi = gmax + 0.05 * width;
        /* s' on [-1, 1]; in eigenvalue units s' d, d = (hi - lo) / 2 */
        sigma = r->steps >= 2 ? 2.0 / (m - 1) / sqrt(8.0 * log(3.0)) * ((hi - lo) / 2) : NAN;
        break;
    }
    }
    if (!isnan(sigma_override)) sigma = sigma_override;
    if (!(hi > lo)) return tdl_fail(TDL_ENONFINITE, "%s: degenerate grid [%g, %g]", who, lo, hi);

    double *gx = tdl_malloc(points * sizeof(double), "density grid");
    double *gy = tdl_malloc(points * sizeof(double), "density values");
    if (!gx || !gy) {
        free(gx);
        free(gy);
        return TDL_ENOMEM;
    }
    /* Papyan evaluates N(x'; theta', s') / d with x' = (x - c) / d,
     * c = (lo + hi) / 2; that is N(x; theta, s' d) exactly, so one formula
     * serves all three conventions (sigma is in eigenvalue units). */
    const double step = (hi - lo) / (double)(points - 1);
    const double norm = 1.0 / (sigma * sqrt(2.0 * M_PI)) / (double)r->runs;
    const double inv2s2 = 1.0 / (2.0 * sigma * sigma);
    for (size_t g = 0; g < points; g++) {
        double x = g + 1 == points ? hi : lo + (double)g * step;
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            double w = r->weights[i];
            if (w == 0) continue;
            double dx = x - r->nodes[i];
            acc += w * exp(-dx * dx * inv2s2);
        }
        gx[g] = x;
        gy[g] = acc * norm;
    }
    double integral = 0;
    for (size_t g = 0; g + 1 < points; g++) integral += 0.5 * (gy[g] + gy[g + 1]) * (gx[g + 1] - gx[g]);
    if (!(integral > 0) || !isfinite(integral)) {
        free(gx);
        free(gy);
        return tdl_fail(TDL_ENONFINITE,
                        "%s: the smoothed density vanishes on the %zu-point grid (sigma %g over [%g, %g]); use more points",
                        who, points, sigma, lo, hi);
    }
    for (size_t g = 0; g < points; g++) gy[g] /= integral;
    out->points = points;
    out->grid = gx;
    out->values = gy;
    out->sigma = sigma;
    out->conv = conv;
    return TDL_OK;
}

int tdl_eigen_density(const double *values, size_t count, tdl_smoothing conv, size_t points, double sigma_override,
                      tdl_density *out)
{
    /* the eigenvalues as one quadrature "run": nodes = values, weights 1/count */
    memset(out, 0, sizeof *out);
    if (count == 0) return tdl_fail(TDL_EINVAL, "a density of eigenvalues needs at least one value");
    double *w = tdl_malloc(count * sizeof(double), "density weights");
    if (!w) return TDL_ENOMEM;
    for (size_t i = 0; i < count; i++) w[i] = 1.0 / (double)count;
    tdl_slq_result one = {.runs = 1, .steps = count, .nodes = (double *)values, .weights = w};
    int st = tdl_slq_density(&one, conv, points, sigma_override, out);
    free(w);
    return st;
}

void tdl_slq_trace(const tdl_slq_result *r, size_t P, double *trace, double *std_error)
{
    /* P * mean over runs of sum_j w_j theta_j, with the standard error
     * across runs (each run is one Hutchinson sample of trace(A) / P) */
    double sum = 0, sum2 = 0;
    for (size_t q = 0; q < r->runs; q++) {
        double t = 0;
        for (size_t j = 0; j < r->steps; j++) t += r->weights[q * r->steps + j] * r->nodes[q * r->steps + j];
        t *= (double)P;
        sum += t;
        sum2 += t * t;
    }
    double mean = r->runs ? sum / (double)r->runs : NAN;
    *trace = mean;
    if (std_error)
        *std_error = r->runs > 1 ? sqrt(fmax(0, (sum2 / (double)r->runs - mean * mean) * (double)r->runs /
                                                    (double)(r->runs - 1)) / (double)r->runs)
                                 : NAN;
}
