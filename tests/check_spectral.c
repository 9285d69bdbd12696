/* check_spectral.c — Lanczos, Hutchinson, Hutch++, SLQ and density smoothing
 * (tdl/spectral.h) on explicit symmetric matrices with known spectra.
 *
 * Test matrices: A = Q diag(lambda) Q^T with lambda chosen (negative,
 * clustered, repeated, low rank, Hessian-like bulk + outliers) and Q a random
 * orthogonal matrix (LAPACKE dgeqrf + dorgqr of a seeded Gaussian matrix).
 * The reference spectrum is LAPACKE_dsyevd of the assembled A (independent
 * of the constructed lambda by rounding only).
 *
 * Tolerances:
 *   - Lanczos values: 1e-8 ||A||_2 (the contract).  Converged Ritz values
 *     are within their residual of an eigenvalue (|theta - lambda| <=
 *     ||r||, Parlett, Thm 11.5.1 / Weyl) and the run stops at residuals of
 *     TDL_LANCZOS_TOL_DEFAULT ||A|| = 1e-10 ||A||, so 1e-8 leaves a margin of
 *     100 that is not needed in practice (the measured errors are printed).
 *   - residual recomputed here: the same quantity as the library's, up to
 *     rounding in a product and a norm: P eps ||A||.
 *   - Ritz vectors orthonormal: ||Y^T Y - I||_max <= P eps (two Gram-Schmidt
 *     passes keep the basis orthonormal to a few eps, Giraud et al. 2005;
 *     the combination V s adds O(m eps) with m <= P).
 *   - exact cases (Krylov space = R^P, Hutch++ with the range sketched):
 *     backward-stable products and sums of P terms: c P eps ||A|| with c
 *     counting the passes (stated at each use).
 *   - statistical checks: 4 standard errors, with the standard error computed
 *     from the same samples (fixed seeds, so deterministic).
 *
 * Each test prints one line "spectral <test>: <quantity> <value>" so the
 * observed accuracy is on record next to the tolerance.
 */
#include <check.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include "tdl/error.h"
#include "tdl/spectral.h"

#define EPS DBL_EPSILON

/* ---- test matrices --------------------------------------------------------- */

typedef struct dense {
    size_t P;
    double *A;          /* P x P row-major, symmetric */
    double *lambda;     /* ascending, by dsyevd */
    double norm;        /* ||A||_2 */
    size_t calls;
    size_t fail_at;     /* return `status` at this call (1-based); 0: never */
    int status;
    const char *msg;    /* with fail_at: set this message through tdl_fail-like path */
    size_t nan_at;      /* write `bad` into the product at this call */
    double bad;
} dense;

static int dense_mv(const double *x, double *y, void *ctx)
{
    dense *d = ctx;
    d->calls++;
    if (d->fail_at && d->calls == d->fail_at) return d->status;
    cblas_dsymv(CblasRowMajor, CblasUpper, (int)d->P, 1.0, d->A, (int)d->P, x, 1, 0.0, y, 1);
    if (d->nan_at && d->calls == d->nan_at) y[d->P / 2] = d->bad;
    return TDL_OK;
}

/* An operator that fails through libtdl, leaving its own message. */
static int failing_mv(const double *x, double *y, void *ctx)
{
    (void)x;
    (void)y;
    (void)ctx;
    tdl_lanczos_result r;
    /* any libtdl call that fails sets the message; k = 0 is invalid */
    return tdl_lanczos(dense_mv, NULL, 3, 0, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r);
}

/* A = Q diag(lambda) Q^T; lambda_in need not be sorted. */
static void dense_make(dense *d, size_t P, const double *lambda_in, unsigned long seed)
{
    memset(d, 0, sizeof *d);
    d->P = P;
    double *Q = malloc(P * P * sizeof(double)), *B = malloc(P * P * sizeof(double));
    double *tau = malloc(P * sizeof(double));
    d->A = malloc(P * P * sizeof(double));
    d->lambda = malloc(P * sizeof(double));
    ck_assert(Q && B && tau && d->A && d->lambda);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < P * P; i++) Q[i] = gsl_ran_gaussian(r, 1.0);
    gsl_rng_free(r);
    ck_assert_int_eq(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)P, (lapack_int)P, Q, (lapack_int)P, tau), 0);
    ck_assert_int_eq(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)P, (lapack_int)P, (lapack_int)P, Q, (lapack_int)P, tau), 0);
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++) B[i * P + j] = Q[i * P + j] * lambda_in[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)P, (int)P, 1.0, B, (int)P, Q, (int)P, 0.0,
                d->A, (int)P);
    for (size_t i = 0; i < P; i++) /* exact symmetry */
        for (size_t j = i + 1; j < P; j++) {
            double s = 0.5 * (d->A[i * P + j] + d->A[j * P + i]);
            d->A[i * P + j] = d->A[j * P + i] = s;
        }
    memcpy(B, d->A, P * P * sizeof(double));
    ck_assert_int_eq(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)P, B, (lapack_int)P, d->lambda), 0);
    d->norm = fmax(fabs(d->lambda[0]), fabs(d->lambda[P - 1]));
    free(Q);
    free(B);
    free(tau);
}

static void dense_free(dense *d)
{
    free(d->A);
    free(d->lambda);
    memset(d, 0, sizeof *d);
}

static double trace_power(const dense *d, int p)
{
    double t = 0;
    for (size_t i = 0; i < d->P; i++) t += pow(d->lambda[i], p);
    return t;
}

static double trace_diag(const dense *d)
{
    double t = 0;
    for (size_t i = 0; i < d->P; i++) t += d->A[i * d->P + i];
    return t;
}

/* ---- spectra --------------------------------------------------------------- */

enum spectrum { SP_SMALL5, SP_MIXED, SP_CLUSTERED, SP_REPEATED, SP_HESSIAN, SP_LOWRANK, SP_FEW, SP_DISTINCT, SP_KRON3 };

static const char *const spectrum_names[] = {"small5", "mixed", "clustered", "repeated",
                                             "hessian", "lowrank", "few", "distinct", "kron3"};

static void spectrum_fill(enum spectrum sp, size_t P, double *l)
{
    switch (sp) {
    case SP_SMALL5: {
        const double v[5] = {-2, -0.5, 0.3, 1, 4};
        for (size_t i = 0; i < P; i++) l[i] = v[i % 5];
        break;
    }
    case SP_MIXED: /* bulk in [-0.5, 0.8] + outliers of both signs */
        for (size_t i = 0; i < P; i++) l[i] = -0.5 + 1.3 * (double)i / (double)(P - 1);
        l[0] = -6;
        l[1] = -4;
        l[P - 1] = 10;
        l[P - 2] = 7;
        l[P - 3] = 5;
        break;
    case SP_CLUSTERED: /* clusters of relative spacing 1e-3 at both ends */
        for (size_t i = 0; i < P; i++) l[i] = (double)i / (double)(P - 1);
        l[P - 1] = 10.02;
        l[P - 2] = 10.01;
        l[P - 3] = 10.0;
        l[0] = -5.0;
        l[1] = -5.005;
        break;
    case SP_REPEATED: /* 8 x3 and -3 x2 at the ends, 0.5 x10 inside, bulk [-0.7, 0.9] */
        for (size_t i = 0; i < P; i++) l[i] = -0.7 + 1.6 * (double)i / (double)(P - 1);
        for (size_t i = 0; i < 3; i++) l[P - 1 - i] = 8;
        for (size_t i = 0; i < 2; i++) l[i] = -3;
        for (size_t i = 0; i < 10; i++) l[P / 2 + i] = 0.5;
        break;
    case SP_HESSIAN: /* Sagun/Papyan shape: bulk near 0, C outliers, small negatives */
        for (size_t i = 0; i < P; i++) l[i] = 0.05 * pow((double)i / (double)P, 3);
        for (size_t i = 0; i < 9; i++) l[P - 1 - i] = 3.0 + 4.0 * (double)i;
        for (size_t i = 0; i < 20; i++) l[i] = -0.01 * (double)(i + 1);
        l[0] = -0.8;
        break;
    case SP_LOWRANK: { /* rank 4 */
        const double v[4] = {6, 3, -2, 1};
        for (size_t i = 0; i < P; i++) l[i] = i < 4 ? v[i] : 0.0;
        break;
    }
    case SP_FEW: /* 4 distinct values, each P/4 times */
        for (size_t i = 0; i < P; i++) l[i] = (double)(1 + i % 4);
        break;
    case SP_KRON3: /* S (x) I_3: every eigenvalue of S = 10 (j / n)^4 three times,
                    * like the Hessian (1/n) X^T X (x) I_C of a linear model */
        for (size_t i = 0; i < P; i++) l[i] = 10.0 * pow((double)(i / 3 + 1) / (double)(P / 3), 4);
        break;
    case SP_DISTINCT:
        for (size_t i = 0; i < P; i++) l[i] = -1.0 + 3.0 * (double)i / (double)(P - 1) + 0.1 * sin((double)i);
        break;
    }
}

static void make_case(dense *d, enum spectrum sp, size_t P, unsigned long seed)
{
    double *l = malloc(P * sizeof(double));
    ck_assert_ptr_nonnull(l);
    spectrum_fill(sp, P, l);
    dense_make(d, P, l, seed);
    free(l);
}

/* Reference: the k wanted eigenvalues of the ascending lambda, ascending. */
static void reference_wanted(const double *lambda, size_t P, size_t k, tdl_which which, double *ref)
{
    size_t lo = 0, hi = P;
    if (which == TDL_WHICH_LARGEST) lo = P - k;
    else if (which == TDL_WHICH_SMALLEST) hi = k;
    else {
        for (size_t c = 0; c < k; c++) {
            if (fabs(lambda[lo]) > fabs(lambda[hi - 1])) lo++;
            else hi--;
        }
        size_t n = 0;
        for (size_t i = 0; i < lo; i++) ref[n++] = lambda[i];
        for (size_t i = hi; i < P; i++) ref[n++] = lambda[i];
        return;
    }
    for (size_t i = lo; i < hi; i++) ref[i - lo] = lambda[i];
}

/* ---- Lanczos: accuracy against dsyevd ---------------------------------------- */

typedef struct lcase {
    enum spectrum sp;
    size_t P, k;
    tdl_which which;
    size_t max_steps;
    unsigned flags;
} lcase;

#define VEC TDL_LANCZOS_VECTORS
#define MULT TDL_LANCZOS_MULTIPLICITY
#define BOUND TDL_LANCZOS_STOP_ON_BOUND
static const lcase lcases[] = {
    {SP_SMALL5, 5, 2, TDL_WHICH_LARGEST, 100, VEC},       /* P < max_steps */
    {SP_SMALL5, 5, 5, TDL_WHICH_SMALLEST, 100, VEC},      /* k = P */
    {SP_SMALL5, 5, 3, TDL_WHICH_MAGNITUDE, 0, 0},
    {SP_MIXED, 200, 5, TDL_WHICH_LARGEST, 0, VEC},
    {SP_MIXED, 200, 4, TDL_WHICH_SMALLEST, 0, VEC},
    {SP_MIXED, 200, 5, TDL_WHICH_MAGNITUDE, 0, VEC},
    {SP_MIXED, 200, 5, TDL_WHICH_MAGNITUDE, 0, 0},         /* estimates only */
    {SP_CLUSTERED, 1000, 3, TDL_WHICH_LARGEST, 300, VEC},
    {SP_CLUSTERED, 1000, 2, TDL_WHICH_SMALLEST, 300, 0},
    {SP_REPEATED, 300, 3, TDL_WHICH_LARGEST, 0, VEC | MULT},
    {SP_REPEATED, 300, 5, TDL_WHICH_MAGNITUDE, 0, VEC | MULT},
    {SP_REPEATED, 300, 2, TDL_WHICH_SMALLEST, 0, MULT},
    {SP_HESSIAN, 2000, 9, TDL_WHICH_LARGEST, 0, VEC},       /* the 9 outliers */
    {SP_HESSIAN, 2000, 3, TDL_WHICH_SMALLEST, 200, VEC},
    {SP_LOWRANK, 60, 3, TDL_WHICH_SMALLEST, 0, VEC},        /* -2, 0, 0: breakdown, restart, probe */
    {SP_LOWRANK, 60, 5, TDL_WHICH_LARGEST, 0, VEC},         /* 0, 0, 1, 3, 6 */
    {SP_FEW, 40, 3, TDL_WHICH_LARGEST, 0, VEC},             /* 4, 4, 4 by restarts alone */
    {SP_LOWRANK, 60, 6, TDL_WHICH_MAGNITUDE, 0, VEC | MULT},
    {SP_FEW, 40, 3, TDL_WHICH_LARGEST, 0, VEC | MULT},      /* 4, 4, 4 */
    {SP_FEW, 40, 12, TDL_WHICH_SMALLEST, 0, VEC | MULT},    /* 1 x10, 2 x2 */
    /* stopping on the error bound: the same values, copies included */
    {SP_REPEATED, 300, 5, TDL_WHICH_MAGNITUDE, 0, VEC | MULT | BOUND},
    {SP_FEW, 40, 12, TDL_WHICH_SMALLEST, 0, MULT | BOUND},
    {SP_HESSIAN, 2000, 9, TDL_WHICH_LARGEST, 0, BOUND},
    {SP_CLUSTERED, 1000, 2, TDL_WHICH_SMALLEST, 300, MULT | BOUND},
    {SP_LOWRANK, 60, 6, TDL_WHICH_MAGNITUDE, 0, VEC | MULT | BOUND},
};
#define NLCASES ((int)(sizeof lcases / sizeof lcases[0]))

static void check_lanczos_result(const char *label, const dense *d, const lcase *c, const tdl_lanczos_result *r)
{
    const size_t P = d->P, k = c->k;
    ck_assert_uint_eq(r->k, k);
    ck_assert_uint_eq(r->P, P);
    ck_assert_msg(r->converged, "%s: not converged after %zu steps", label, r->iterations);
    double *ref = malloc(k * sizeof(double));
    reference_wanted(d->lambda, P, k, c->which, ref);
    double worst = 0;
    for (size_t j = 0; j < k; j++) {
        if (j > 0) ck_assert_msg(r->values[j] >= r->values[j - 1], "%s: values not ascending", label);
        worst = fmax(worst, fabs(r->values[j] - ref[j]));
    }
    for (size_t j = 0; j < k; j++)
        ck_assert_msg(fabs(r->values[j] - ref[j]) <= 1e-8 * d->norm, "%s: value %zu = %.17g, dsyevd %.17g", label, j,
                      r->values[j], ref[j]);
    /* the reported error bound holds against dsyevd (whose own error is
     * within P eps ||A||, tdl/linalg.h), and is the smaller of the two */
    for (size_t j = 0; j < k; j++) {
        ck_assert_msg(fabs(r->values[j] - ref[j]) <= r->error_bounds[j] + (double)P * EPS * d->norm,
                      "%s: value %zu off by %.3g, bound %.3g (gap %.3g)", label, j, fabs(r->values[j] - ref[j]),
                      r->error_bounds[j], r->gaps[j]);
        ck_assert(r->error_bounds[j] == fmin(r->residual_bounds[j], r->quadratic_bounds[j]));
        ck_assert(r->residual_bounds[j] >= r->residuals[j] + r->rounding);
    }
    double tol = TDL_LANCZOS_TOL_DEFAULT;
    double worst_res = 0, worst_rep = 0, worst_orth = 0;
    if (c->flags & BOUND) { /* stopped on the error bound: the residuals are larger */
        for (size_t j = 0; j < k; j++)
            ck_assert_msg(r->error_bounds[j] <= tol * r->norm_estimate * 1.0001, "%s: bound %zu = %.3g", label, j,
                          r->error_bounds[j]);
    } else if (r->vectors) {
        double *y = malloc(P * sizeof(double)), *Ay = malloc(P * sizeof(double));
        for (size_t j = 0; j < k; j++) {
            for (size_t i = 0; i < P; i++) y[i] = r->vectors[i * k + j];
            cblas_dsymv(CblasRowMajor, CblasUpper, (int)P, 1.0, d->A, (int)P, y, 1, 0.0, Ay, 1);
            cblas_daxpy((int)P, -r->values[j], y, 1, Ay, 1);
            double res = cblas_dnrm2((int)P, Ay, 1);
            worst_res = fmax(worst_res, res);
            worst_rep = fmax(worst_rep, fabs(res - r->residuals[j]));
            /* small: the stopping test bounds the estimate by tol ||A||; the
             * true residual adds rounding (P eps ||A||) and, after a
             * multiplicity check, the coupling to the locked pairs (each
             * <= tol ||A||, at most k of them) */
            ck_assert_msg(res <= (double)(k + 1) * tol * d->norm + (double)P * EPS * d->norm,
                          "%s: residual %zu = %.3g", label, j, res);
            ck_assert_msg(fabs(res - r->residuals[j]) <= (double)P * EPS * d->norm,
                          "%s: reported residual %.3g, recomputed %.3g", label, r->residuals[j], res);
            for (size_t l = 0; l <= j; l++) {
                double dot = 0;
                for (size_t i = 0; i < P; i++) dot += r->vectors[i * k + j] * r->vectors[i * k + l];
                worst_orth = fmax(worst_orth, fabs(dot - (l == j ? 1.0 : 0.0)));
            }
        }
        ck_assert_msg(worst_orth <= (double)P * EPS, "%s: ||Y^T Y - I|| = %.3g", label, worst_orth);
        free(y);
        free(Ay);
    } else {
        for (size_t j = 0; j < k; j++) {
            ck_assert(r->residuals[j] >= 0);
            ck_assert_msg(r->residuals[j] <= tol * d->norm * 1.0001 + (double)P * EPS * d->norm, "%s: estimate %zu = %.3g",
                          label, j, r->residuals[j]);
        }
    }
    printf("spectral %s: |value - dsyevd|/||A|| %.2e, residual/||A|| %.2e, |reported - recomputed| %.2e, "
           "orthonormality %.2e, steps %zu, matvecs %zu\n",
           label, worst / d->norm, worst_res / d->norm, worst_rep, worst_orth, r->iterations, r->matvecs);
    free(ref);
}

START_TEST(test_lanczos_dense)
{
    const lcase *c = &lcases[_i];
    dense d;
    make_case(&d, c->sp, c->P, 1000 + (unsigned long)_i);
    char label[128];
    snprintf(label, sizeof label, "lanczos %s P=%zu k=%zu %s%s%s%s", spectrum_names[c->sp], c->P, c->k,
             tdl_which_name(c->which), (c->flags & VEC) ? " +vectors" : "", (c->flags & MULT) ? " +multiplicity" : "",
             (c->flags & BOUND) ? " +stop-on-bound" : "");
    tdl_lanczos_result r;
    int st = tdl_lanczos(dense_mv, &d, c->P, c->k, c->which, c->max_steps, 0, 7, c->flags, &r);
    ck_assert_msg(st == TDL_OK, "%s: %s", label, tdl_errmsg());
    ck_assert_uint_eq(r.matvecs, d.calls);
    ck_assert(c->flags & VEC ? r.vectors != NULL : r.vectors == NULL);
    check_lanczos_result(label, &d, c, &r);
    tdl_lanczos_result_free(&r);
    ck_assert_ptr_null(r.values);
    tdl_lanczos_result_free(&r); /* idempotent */
    dense_free(&d);
}
END_TEST

/* Same seed, same answer; another seed, the same eigenvalues. */
START_TEST(test_lanczos_reproducible)
{
    dense d;
    make_case(&d, SP_MIXED, 150, 5);
    tdl_lanczos_result a, b, c;
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 150, 4, TDL_WHICH_MAGNITUDE, 0, 0, 3, 0, &a), TDL_OK);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 150, 4, TDL_WHICH_MAGNITUDE, 0, 0, 3, 0, &b), TDL_OK);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 150, 4, TDL_WHICH_MAGNITUDE, 0, 0, 99, 0, &c), TDL_OK);
    for (size_t j = 0; j < 4; j++) {
        ck_assert(a.values[j] == b.values[j]);
        ck_assert(fabs(a.values[j] - c.values[j]) <= 1e-8 * d.norm);
    }
    ck_assert_uint_eq(a.iterations, b.iterations);
    tdl_lanczos_result_free(&a);
    tdl_lanczos_result_free(&b);
    tdl_lanczos_result_free(&c);
    dense_free(&d);
}
END_TEST

/* Warm start (tdl_lanczos_from).  NULL and the zero vector are the seeded
 * random start: the same result as tdl_lanczos, bit for bit.  On a nearby
 * operator A + E (||E||_2 ~ 1e-3 ||A||, like the Hessian one training step
 * later) the sum of the previous top-3 Ritz vectors as start converges in
 * fewer products than the random start, to the same values (1e-8 ||A||,
 * the contract of test_lanczos_dense). */
START_TEST(test_lanczos_warm_start)
{
    const size_t P = 400, k = 3;
    dense d, e;
    make_case(&d, SP_MIXED, P, 31);
    tdl_lanczos_result a, b, c;
    double *zero = calloc(P, sizeof(double)), *start = calloc(P, sizeof(double));
    ck_assert(zero && start);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 0, 0, 5, VEC, &a), TDL_OK);
    ck_assert_int_eq(tdl_lanczos_from(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 0, 0, 5, VEC, NULL, &b), TDL_OK);
    ck_assert_int_eq(tdl_lanczos_from(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 0, 0, 5, VEC, zero, &c), TDL_OK);
    for (size_t j = 0; j < k; j++) ck_assert(a.values[j] == b.values[j] && a.values[j] == c.values[j]);
    ck_assert_uint_eq(a.matvecs, b.matvecs);
    ck_assert_uint_eq(a.matvecs, c.matvecs);
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < k; j++) start[i] += a.vectors[i * k + j];
    tdl_lanczos_result_free(&b);
    tdl_lanczos_result_free(&c);

    /* the nearby operator: A + 1e-3 ||A|| (G + G^T) / (2 sqrt(P)), G Gaussian
     * (||G + G^T||_2 ~ 2 sqrt(2P), so ||E|| ~ 1.4e-3 ||A||) */
    make_case(&e, SP_MIXED, P, 31);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 77);
    for (size_t i = 0; i < P; i++)
        for (size_t j = i; j < P; j++) {
            double g = 1e-3 * d.norm * gsl_ran_gaussian(rng, 1.0) / sqrt((double)P);
            e.A[i * P + j] += g;
            if (j != i) e.A[j * P + i] += g;
        }
    gsl_rng_free(rng);
    double *B = malloc(P * P * sizeof(double));
    ck_assert_ptr_nonnull(B);
    memcpy(B, e.A, P * P * sizeof(double));
    ck_assert_int_eq(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)P, B, (lapack_int)P, e.lambda), 0);
    e.norm = fmax(fabs(e.lambda[0]), fabs(e.lambda[P - 1]));
    free(B);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &e, P, k, TDL_WHICH_LARGEST, 0, 0, 5, 0, &b), TDL_OK);
    ck_assert_int_eq(tdl_lanczos_from(dense_mv, &e, P, k, TDL_WHICH_LARGEST, 0, 0, 5, 0, start, &c), TDL_OK);
    ck_assert(b.converged && c.converged);
    for (size_t j = 0; j < k; j++) {
        ck_assert(fabs(b.values[j] - e.lambda[P - k + j]) <= 1e-8 * e.norm);
        ck_assert(fabs(c.values[j] - e.lambda[P - k + j]) <= 1e-8 * e.norm);
    }
    printf("spectral lanczos warm start (P=%zu, top-%zu, operator moved by ~1e-3 ||A||): matvecs cold %zu, warm %zu\n",
           P, k, b.matvecs, c.matvecs);
    ck_assert_uint_lt(c.matvecs, b.matvecs);
    tdl_lanczos_result_free(&a);
    tdl_lanczos_result_free(&b);
    tdl_lanczos_result_free(&c);
    free(zero);
    free(start);
    dense_free(&d);
    dense_free(&e);
}
END_TEST

/* TDL_LANCZOS_STOP_ON_BOUND: each pair stops at its certified accuracy
 * (error bound <= tol ||A||_est, the quadratic bound ||r||^2 / gap once the
 * gap is known) instead of at a residual <= tol ||A||.  On a spectrum
 * without outliers (P = 1000 values spaced 0.003 apart, +- 0.1 sin i) top-3
 * needs fewer products (measured: 107 against 138), and every value is still within 1e-8 ||A|| of dsyevd (the
 * contract of test_lanczos_dense) and within its reported bound of it (plus
 * the dense solve's own error, P eps ||A||). */
START_TEST(test_lanczos_stop_on_bound)
{
    const size_t P = 1000, k = 3;
    dense d;
    make_case(&d, SP_DISTINCT, P, 1007);
    tdl_lanczos_result a, b;
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 300, 0, 7, 0, &a), TDL_OK);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 300, 0, 7, TDL_LANCZOS_STOP_ON_BOUND, &b),
                     TDL_OK);
    ck_assert(a.converged && b.converged);
    double worst = 0;
    for (size_t j = 0; j < k; j++) {
        const double ref = d.lambda[P - k + j];
        ck_assert(fabs(b.values[j] - ref) <= 1e-8 * d.norm);
        ck_assert_msg(fabs(b.values[j] - ref) <= b.error_bounds[j] + (double)P * EPS * d.norm,
                      "value %zu: error %.3g > bound %.3g", j, fabs(b.values[j] - ref), b.error_bounds[j]);
        ck_assert(b.error_bounds[j] <= 1e-10 * b.norm_estimate * 1.0001);
        worst = fmax(worst, fabs(b.values[j] - ref) / d.norm);
    }
    printf("spectral lanczos stop-on-bound (distinct P=%zu top-%zu): matvecs %zu (residual test: %zu), "
           "|value - dsyevd|/||A|| %.2e\n",
           P, k, b.matvecs, a.matvecs, worst);
    ck_assert_uint_lt(b.matvecs, a.matvecs);
    tdl_lanczos_result_free(&a);
    tdl_lanczos_result_free(&b);
    dense_free(&d);
}
END_TEST

/* ---- Lanczos: limits --------------------------------------------------------- */

/* Without the multiplicity check, single-vector Lanczos sees one copy of a
 * repeated eigenvalue unless a breakdown or rounding reveals the others.  On
 * S (x) I_3 (P = 600, each of 200 eigenvalues three times, no breakdown
 * within max_steps) top-6 comes back "converged" with the copies of the
 * top eigenvalues only partly found -- each value a true eigenvalue within
 * its residual (documented in spectral.h).  With TDL_LANCZOS_MULTIPLICITY
 * the result is the dsyevd one. */
START_TEST(test_lanczos_multiplicity_needs_check)
{
    const size_t P = 600, k = 6;
    dense d;
    make_case(&d, SP_KRON3, P, 11);
    tdl_lanczos_result r;
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 0, 0, 1, VEC, &r), TDL_OK);
    for (size_t j = 0; j < k; j++) {
        double nearest = INFINITY;
        for (size_t i = 0; i < P; i++) nearest = fmin(nearest, fabs(r.values[j] - d.lambda[i]));
        /* Ritz value within its residual of an eigenvalue (Parlett Thm 11.5.1) */
        ck_assert_msg(nearest <= r.residuals[j] + (double)P * EPS * d.norm, "value %.17g is not an eigenvalue",
                      r.values[j]);
        /* the error bound is about SOME eigenvalue without the check */
        ck_assert_msg(nearest <= r.error_bounds[j] + (double)P * EPS * d.norm, "value %.17g: %.3g > bound %.3g",
                      r.values[j], nearest, r.error_bounds[j]);
    }
    printf("spectral lanczos kron3 P=%zu top-%zu without check (converged %d, steps %zu):", P, k, r.converged,
           r.iterations);
    for (size_t j = 0; j < k; j++) printf(" %.12g", r.values[j]);
    printf("\n");
    tdl_lanczos_result_free(&r);

    lcase c = {SP_KRON3, P, k, TDL_WHICH_LARGEST, 0, VEC | MULT};
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, P, k, TDL_WHICH_LARGEST, 0, 0, 1, VEC | MULT, &r), TDL_OK);
    check_lanczos_result("lanczos kron3 P=600 k=6 largest +vectors +multiplicity", &d, &c, &r);
    tdl_lanczos_result_free(&r);
    dense_free(&d);
}
END_TEST

/* max_steps too small: converged = 0, values still Ritz values (inside
 * the spectrum: the top Ritz value never exceeds lambda_max). */
START_TEST(test_lanczos_not_converged)
{
    dense d;
    make_case(&d, SP_CLUSTERED, 300, 12);
    tdl_lanczos_result r;
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 300, 3, TDL_WHICH_LARGEST, 5, 0, 1, VEC, &r), TDL_OK);
    ck_assert_int_eq(r.converged, 0);
    ck_assert_uint_eq(r.iterations, 5);
    ck_assert(r.values[2] <= d.lambda[299] + 300 * EPS * d.norm);
    ck_assert(r.residuals[2] > 1e-10 * d.norm);
    tdl_lanczos_result_free(&r);
    dense_free(&d);
}
END_TEST

/* The zero operator and a multiple of the identity: immediate breakdowns. */
typedef struct scaled {
    double c;
    size_t P;
} scaled;

static int scaled_identity(const double *x, double *y, void *ctx)
{
    const scaled *s = ctx;
    for (size_t i = 0; i < s->P; i++) y[i] = s->c * x[i];
    return TDL_OK;
}

START_TEST(test_lanczos_trivial_operators)
{
    const double cs[2] = {0.0, -2.5};
    for (int t = 0; t < 2; t++) {
        scaled op = {cs[t], 30};
        tdl_lanczos_result r;
        ck_assert_int_eq(tdl_lanczos(scaled_identity, &op, 30, 4, TDL_WHICH_MAGNITUDE, 0, 0, 1, VEC | MULT, &r),
                         TDL_OK);
        ck_assert(r.converged);
        for (size_t j = 0; j < 4; j++) {
            ck_assert(fabs(r.values[j] - cs[t]) <= 30 * EPS * 2.5);
            ck_assert(r.residuals[j] <= 30 * EPS * 2.5);
        }
        /* one product per step and per residual: every step breaks down */
        printf("spectral lanczos %g I (P=30, k=4, +multiplicity): steps %zu, matvecs %zu\n", cs[t], r.iterations,
               r.matvecs);
        tdl_lanczos_result_free(&r);
    }
}
END_TEST

/* P = 1 */
START_TEST(test_lanczos_order_one)
{
    scaled op = {3.25, 1};
    tdl_lanczos_result r;
    ck_assert_int_eq(tdl_lanczos(scaled_identity, &op, 1, 1, TDL_WHICH_SMALLEST, 0, 0, 1, VEC, &r), TDL_OK);
    ck_assert(r.values[0] == 3.25);
    ck_assert(fabs(fabs(r.vectors[0]) - 1.0) <= EPS);
    tdl_lanczos_result_free(&r);
}
END_TEST

/* ---- trace estimators ------------------------------------------------------- */

/* Hutchinson: within 4 standard errors, and the standard error itself agrees
 * with the exact one, sqrt(2 (||A||_F^2 - sum_i A_ii^2) / probes) for
 * Rademacher probes: its sample estimate has a relative error of about
 * 1 / sqrt(2 probes) ~ 3% at 500 probes, so [0.8, 1.25] is 4+ of those. */
START_TEST(test_hutchinson_known_trace)
{
    const size_t P = 300, probes = 500;
    dense d;
    make_case(&d, SP_MIXED, P, 21);
    double tr = trace_diag(&d), est, se;
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, P, probes, 5, &est, &se), TDL_OK);
    ck_assert_uint_eq(d.calls, probes);
    double fro2 = 0, diag2 = 0;
    for (size_t i = 0; i < P * P; i++) fro2 += d.A[i] * d.A[i];
    for (size_t i = 0; i < P; i++) diag2 += d.A[i * P + i] * d.A[i * P + i];
    double se_exact = sqrt(2 * (fro2 - diag2) / (double)probes);
    printf("spectral hutchinson P=%zu probes=%zu: trace %.6g, estimate %.6g, error/se %.2f, se %.4g (exact %.4g)\n", P,
           probes, tr, est, fabs(est - tr) / se, se, se_exact);
    ck_assert(fabs(est - tr) <= 4 * se);
    ck_assert(se >= 0.8 * se_exact && se <= 1.25 * se_exact);
    /* NULL std_error is allowed; same seed, same estimate */
    double est2;
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, P, probes, 5, &est2, NULL), TDL_OK);
    ck_assert(est2 == est);
    dense_free(&d);
}
END_TEST

/* Low rank plus small: Hutch++ deflates the outliers, so at the same number
 * of products its standard error is orders of magnitude below Hutchinson's
 * (Meyer et al. 2021: O(1/m) against O(1/sqrt(m)) relative error). */
START_TEST(test_hutchpp_beats_hutchinson)
{
    const size_t P = 500, m = 90;
    double *l = malloc(P * sizeof(double));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    for (size_t i = 0; i < P; i++) l[i] = i < 10 ? 10.0 * (double)(i + 1) : 0.01 * gsl_rng_uniform(rng);
    gsl_rng_free(rng);
    dense d;
    dense_make(&d, P, l, 22);
    free(l);
    double tr = trace_diag(&d), eh, seh, ep, sep;
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, P, m, 8, &eh, &seh), TDL_OK);
    d.calls = 0;
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, P, m, 8, &ep, &sep), TDL_OK);
    ck_assert_uint_eq(d.calls, m);
    printf("spectral hutch++ vs hutchinson (P=%zu, %zu products, rank 10 + 0.01 noise): trace %.8g; hutchinson %.8g "
           "(se %.3g), hutch++ %.8g (se %.3g, error %.3g)\n",
           P, m, tr, eh, seh, ep, sep, fabs(ep - tr));
    ck_assert(fabs(eh - tr) <= 4 * seh);
    ck_assert(fabs(ep - tr) <= 4 * sep);
    ck_assert(sep < seh / 100);
    ck_assert(fabs(ep - tr) < fabs(eh - tr) || fabs(eh - tr) < sep);
    dense_free(&d);
}
END_TEST

/* Exact cases: rank(A) = 4 <= s = m/3 = 8, so Q spans range(A) and the
 * residual part vanishes; and a budget of 3P sketches all of R^P.  Error
 * bound: the s terms q^T A q and the reference trace are P-term sums, each
 * off by <= P eps ||A||; the residual probes see only the rounding left of
 * range(A) in (I - QQ^T) z, quadratically: far smaller.  So
 * (s + 1) P eps ||A||, times 4 for the passes (QR, product, dot). */
START_TEST(test_hutchpp_exact)
{
    struct { enum spectrum sp; size_t P, m; } cs[3] = {{SP_LOWRANK, 100, 24}, {SP_MIXED, 30, 90}, {SP_SMALL5, 5, 100}};
    for (int t = 0; t < 3; t++) {
        dense d;
        make_case(&d, cs[t].sp, cs[t].P, 23 + (unsigned long)t);
        double tr = trace_diag(&d), est, se;
        ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, cs[t].P, cs[t].m, 4, &est, &se), TDL_OK);
        size_t s = cs[t].m / 3 < cs[t].P ? cs[t].m / 3 : cs[t].P;
        double bound = 4.0 * (double)((s + 1) * cs[t].P) * EPS * d.norm;
        printf("spectral hutch++ exact %s P=%zu m=%zu: |error| %.3g, se %.3g, bound %.3g\n", spectrum_names[cs[t].sp],
               cs[t].P, cs[t].m, fabs(est - tr), se, bound);
        ck_assert(fabs(est - tr) <= bound);
        ck_assert(se <= bound);
        dense_free(&d);
    }
}
END_TEST

/* ---- SLQ ------------------------------------------------------------------- */

/* Weights of every run sum to 1; the moments sum_j w_j theta_j^p (p = 1, 2,
 * exact Gauss quadrature for p < 2 steps) are Hutchinson estimates of
 * trace(A^p) / P: within 4 standard errors of the per-run values. */
START_TEST(test_slq_moments)
{
    const size_t P = 400, runs = 30, steps = 40;
    dense d;
    make_case(&d, SP_MIXED, P, 31);
    tdl_slq_result r;
    ck_assert_int_eq(tdl_slq(dense_mv, &d, P, runs, steps, 9, &r), TDL_OK);
    ck_assert_uint_eq(r.runs, runs);
    ck_assert_uint_eq(r.steps, steps);
    ck_assert_uint_eq(r.matvecs, runs * steps);
    double worst_sum = 0;
    for (size_t i = 0; i < runs; i++) {
        double sw = 0;
        for (size_t j = 0; j < steps; j++) {
            ck_assert(r.weights[i * steps + j] >= 0);
            if (j) ck_assert(r.nodes[i * steps + j] >= r.nodes[i * steps + j - 1]);
            ck_assert(r.nodes[i * steps + j] >= d.lambda[0] - (double)P * EPS * d.norm);
            ck_assert(r.nodes[i * steps + j] <= d.lambda[P - 1] + (double)P * EPS * d.norm);
            sw += r.weights[i * steps + j];
        }
        worst_sum = fmax(worst_sum, fabs(sw - 1));
        ck_assert_msg(fabs(sw - 1) <= 1e-12, "run %zu: weights sum to 1 %+.3g", i, sw - 1);
    }
    for (int p = 1; p <= 2; p++) {
        double mean = 0, m2 = 0;
        for (size_t i = 0; i < runs; i++) {
            double x = 0;
            for (size_t j = 0; j < steps; j++) x += r.weights[i * steps + j] * pow(r.nodes[i * steps + j], p);
            double dl = x - mean;
            mean += dl / (double)(i + 1);
            m2 += dl * (x - mean);
        }
        double se = sqrt(m2 / (double)(runs - 1) / (double)runs);
        double exact = trace_power(&d, p) / (double)P;
        printf("spectral slq P=%zu %zux%zu: moment %d %.6g, exact %.6g, error/se %.2f (se %.3g); weight sums %.2e\n", P,
               runs, steps, p, mean, exact, fabs(mean - exact) / se, se, worst_sum);
        ck_assert(fabs(mean - exact) <= 4 * se);
    }
    tdl_slq_result_free(&r);
    ck_assert_ptr_null(r.nodes);
    dense_free(&d);
}
END_TEST

/* steps = P, one run: the Krylov space is R^P and the nodes are the
 * eigenvalues, to P eps ||A|| (backward-stable Lanczos with full
 * re-orthogonalization; dstev). */
START_TEST(test_slq_exact_nodes)
{
    const size_t P = 60;
    dense d;
    make_case(&d, SP_DISTINCT, P, 32);
    tdl_slq_result r;
    ck_assert_int_eq(tdl_slq(dense_mv, &d, P, 1, 500, 2, &r), TDL_OK); /* steps clipped to P */
    ck_assert_uint_eq(r.steps, P);
    double worst = 0, sw = 0;
    for (size_t j = 0; j < P; j++) {
        worst = fmax(worst, fabs(r.nodes[j] - d.lambda[j]));
        sw += r.weights[j];
    }
    printf("spectral slq exact nodes P=%zu: max |node - dsyevd| / ||A|| %.2e, weights sum - 1 %.2e\n", P,
           worst / d.norm, sw - 1);
    ck_assert(worst <= (double)P * EPS * d.norm);
    ck_assert(fabs(sw - 1) <= 1e-12);
    tdl_slq_result_free(&r);
    dense_free(&d);
}
END_TEST

/* Invariant Krylov space: 4 distinct eigenvalues -> each run stops after 4
 * steps with the exact eigenvalues as nodes; the rest repeat the largest
 * node with weight 0. */
START_TEST(test_slq_breakdown_padding)
{
    const size_t P = 40, steps = 10;
    dense d;
    make_case(&d, SP_FEW, P, 33);
    tdl_slq_result r;
    ck_assert_int_eq(tdl_slq(dense_mv, &d, P, 3, steps, 2, &r), TDL_OK);
    ck_assert_uint_eq(r.matvecs, 3 * 4);
    for (size_t i = 0; i < 3; i++) {
        double sw = 0;
        for (size_t j = 0; j < steps; j++) {
            double x = r.nodes[i * steps + j], w = r.weights[i * steps + j];
            if (j < 4) ck_assert_msg(fabs(x - (double)(j + 1)) <= (double)P * EPS * d.norm, "run %zu node %zu = %.17g", i, j, x);
            else ck_assert(x == r.nodes[i * steps + 3] && w == 0);
            sw += w;
        }
        ck_assert(fabs(sw - 1) <= 1e-12);
    }
    tdl_slq_result_free(&r);
    dense_free(&d);
}
END_TEST

/* ---- density smoothing ------------------------------------------------------ */

static double trapezoid(const tdl_density *g)
{
    double s = 0;
    for (size_t i = 0; i + 1 < g->points; i++) s += 0.5 * (g->values[i] + g->values[i + 1]) * (g->grid[i + 1] - g->grid[i]);
    return s;
}

/* The density of every convention integrates to 1 on an SLQ result. */
START_TEST(test_density_unit_integral)
{
    dense d;
    make_case(&d, SP_HESSIAN, 300, 41);
    tdl_slq_result r;
    ck_assert_int_eq(tdl_slq(dense_mv, &d, 300, 5, 30, 3, &r), TDL_OK);
    for (int c = 0; c < 3; c++) {
        size_t pts[3] = {0, 2000, 777};
        for (int q = 0; q < 3; q++) {
            tdl_density g;
            ck_assert_int_eq(tdl_slq_density(&r, (tdl_smoothing)c, pts[q], NAN, &g), TDL_OK);
            size_t want = pts[q] ? pts[q] : (c == TDL_SMOOTH_PAPYAN ? 1024 : 10000);
            ck_assert_uint_eq(g.points, want);
            double integral = trapezoid(&g);
            for (size_t i = 0; i < g.points; i++) ck_assert(g.values[i] >= 0 && isfinite(g.values[i]));
            if (q == 0)
                printf("spectral density %s (%zu points, sigma %.4g): integral - 1 = %.2e\n",
                       tdl_smoothing_name((tdl_smoothing)c), g.points, g.sigma, integral - 1);
            ck_assert(fabs(integral - 1) <= 1e-6);
            tdl_density_free(&g);
            ck_assert_ptr_null(g.grid);
        }
    }
    tdl_slq_result_free(&r);
    dense_free(&d);
}
END_TEST

/* The conventions on a hand-made result, against numbers worked out by
 * hand (see the comments): grid ends, width, and the shape at one point. */
START_TEST(test_density_conventions)
{
    double nodes[6] = {0, 1, 2, 0.5, 1.5, 3}, weights[6] = {0.2, 0.3, 0.5, 0.6, 0.2, 0.2};
    tdl_slq_result r = {2, 3, nodes, weights, 0};
    struct { tdl_smoothing c; double lo, hi, sigma; size_t points; } want[3] = {
        /* mean of run minima (0, 0.5) - 0.01 = 0.24; of maxima (2, 3) + 0.01
         * = 2.51; variance 1e-5 * max(1, 2.27) */
        {TDL_SMOOTH_PYHESSIAN, 0.24, 2.51, 0.004764451699828638, 10000},
        /* spread 3, sigma 3 / 3 steps, grid +-0.1 spread */
        {TDL_SMOOTH_EIGENTHINGS, -0.3, 3.3, 1.0, 10000},
        /* [0, 3] +- 0.05 * 3; d = 1.65; s' = 2 / 2 / sqrt(8 ln 3) = 0.33731;
         * s' d = 0.556566 */
        {TDL_SMOOTH_PAPYAN, -0.15, 3.15, 0.5565660668882405, 1024},
    };
    for (int t = 0; t < 3; t++) {
        tdl_density g;
        ck_assert_int_eq(tdl_slq_density(&r, want[t].c, 0, NAN, &g), TDL_OK);
        ck_assert_uint_eq(g.points, want[t].points);
        ck_assert(fabs(g.grid[0] - want[t].lo) <= 4 * EPS);
        ck_assert(fabs(g.grid[g.points - 1] - want[t].hi) <= 4 * EPS);
        ck_assert_msg(fabs(g.sigma - want[t].sigma) <= 8 * EPS * want[t].sigma, "%s sigma %.17g",
                      tdl_smoothing_name(want[t].c), g.sigma);
        /* uniform grid */
        double h = (want[t].hi - want[t].lo) / (double)(g.points - 1);
        for (size_t i = 1; i < g.points; i++) ck_assert(fabs(g.grid[i] - g.grid[i - 1] - h) <= 64 * EPS);
        /* shape: the ratio of values at two grid points is the ratio of the
         * unnormalized mixtures (normalization cancels) */
        /* points where every convention's density is well above underflow:
         * next to node 1 and one sigma right of node 1.5 */
        size_t i1 = (size_t)((1.0 - want[t].lo) / h + 0.5), i2 = (size_t)((1.5 + want[t].sigma - want[t].lo) / h + 0.5);
        double f[2];
        for (int q = 0; q < 2; q++) {
            double x = g.grid[q ? i2 : i1], s = want[t].sigma, acc = 0;
            for (int j = 0; j < 6; j++) acc += weights[j] * exp(-(x - nodes[j]) * (x - nodes[j]) / (2 * s * s));
            f[q] = acc;
        }
        double ratio = g.values[i1] / g.values[i2], ratio_ref = f[0] / f[1];
        ck_assert_msg(fabs(ratio - ratio_ref) <= 1e-12 * fabs(ratio_ref), "%s ratio %.17g vs %.17g",
                      tdl_smoothing_name(want[t].c), ratio, ratio_ref);
        tdl_density_free(&g);
    }
    /* sigma override: the width changes, the grid stays */
    tdl_density g;
    ck_assert_int_eq(tdl_slq_density(&r, TDL_SMOOTH_PAPYAN, 50, 0.25, &g), TDL_OK);
    ck_assert(g.sigma == 0.25 && g.points == 50 && fabs(g.grid[0] + 0.15) <= 4 * EPS);
    ck_assert(fabs(trapezoid(&g) - 1) <= 1e-12);
    tdl_density_free(&g);
    /* all nodes equal (a multiple of the identity): a finite, narrow density */
    double n1[2] = {2, 2}, w1[2] = {1, 0};
    tdl_slq_result one = {1, 2, n1, w1, 0};
    for (int c = 0; c < 3; c++) {
        ck_assert_int_eq(tdl_slq_density(&one, (tdl_smoothing)c, 0, NAN, &g), TDL_OK);
        ck_assert(fabs(trapezoid(&g) - 1) <= 1e-6);
        tdl_density_free(&g);
    }
}
END_TEST

START_TEST(test_names)
{
    tdl_which w;
    tdl_smoothing s;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tdl_which_parse(tdl_which_name((tdl_which)i), &w), TDL_OK);
        ck_assert_int_eq((int)w, i);
        ck_assert_int_eq(tdl_smoothing_parse(tdl_smoothing_name((tdl_smoothing)i), &s), TDL_OK);
        ck_assert_int_eq((int)s, i);
    }
    ck_assert_str_eq(tdl_which_name(TDL_WHICH_MAGNITUDE), "magnitude");
    ck_assert_str_eq(tdl_smoothing_name(TDL_SMOOTH_PYHESSIAN), "pyhessian");
    ck_assert_int_eq(tdl_which_parse("top", &w), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "top") != NULL);
    ck_assert_int_eq(tdl_smoothing_parse("kde", &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_which_parse(NULL, &w), TDL_EINVAL);
    ck_assert_str_eq(tdl_which_name((tdl_which)7), "?");
    ck_assert_str_eq(tdl_smoothing_name((tdl_smoothing)7), "?");
    /* the exported tables are what the parsers read */
    int v;
    ck_assert_int_eq(tdl_name_lookup(tdl_which_names, "eigenvalue selection", "smallest", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_WHICH_SMALLEST);
    ck_assert_int_eq(tdl_smoothing_parse("x", &s), TDL_EINVAL);
    ck_assert_str_eq(tdl_errmsg(), "unknown density smoothing 'x' (pyhessian eigenthings papyan)");
    ck_assert_int_eq(tdl_which_parse("y", &w), TDL_EINVAL);
    ck_assert_str_eq(tdl_errmsg(), "unknown eigenvalue selection 'y' (largest smallest magnitude)");
    ck_assert_int_eq(tdl_name_lookup(tdl_smoothing_names, "smoothing", "papyan", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_SMOOTH_PAPYAN);
}
END_TEST

/* A density of known eigenvalues is the density of one quadrature run with
 * weights 1/count; the SLQ trace is P times the mean of the runs' first moments. */
START_TEST(test_eigen_density_and_trace)
{
    const double vals[4] = {-1, 0.5, 2, 7};
    double w[4] = {0.25, 0.25, 0.25, 0.25};
    tdl_slq_result one = {.runs = 1, .steps = 4, .nodes = (double *)vals, .weights = w};
    for (int c = 0; c < 3; c++) {
        tdl_density a, b;
        ck_assert_int_eq(tdl_eigen_density(vals, 4, (tdl_smoothing)c, 0, NAN, &a), TDL_OK);
        ck_assert_int_eq(tdl_slq_density(&one, (tdl_smoothing)c, 0, NAN, &b), TDL_OK);
        ck_assert_uint_eq(a.points, b.points);
        ck_assert_int_eq(memcmp(a.values, b.values, a.points * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(a.grid, b.grid, a.points * sizeof(double)), 0);
        tdl_density_free(&a);
        tdl_density_free(&b);
    }
    tdl_density g;
    ck_assert_int_eq(tdl_eigen_density(vals, 0, TDL_SMOOTH_PYHESSIAN, 0, NAN, &g), TDL_EINVAL);
    ck_assert_ptr_null(g.values);
    /* two runs: first moments 1 and 3 (times P = 10): trace 20, se = std(10, 30) / sqrt 2 = 10 */
    double nodes[4] = {0, 2, 2, 4}, wts[4] = {0.5, 0.5, 0.5, 0.5};
    tdl_slq_result two = {.runs = 2, .steps = 2, .nodes = nodes, .weights = wts};
    double tr, se;
    tdl_slq_trace(&two, 10, &tr, &se);
    ck_assert_double_eq_tol(tr, 20, 1e-13);
    ck_assert_double_eq_tol(se, 10, 1e-12);
    tdl_slq_trace(&one, 4, &tr, &se);
    ck_assert_double_eq_tol(tr, 4 * (-1 + 0.5 + 2 + 7) / 4, 1e-13);
    ck_assert(isnan(se));
    tdl_slq_trace(&one, 4, &tr, NULL);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(test_errors_arguments)
{
    dense d;
    make_case(&d, SP_SMALL5, 5, 51);
    tdl_lanczos_result r;
    memset(&r, 0xff, sizeof r);
    ck_assert_int_eq(tdl_lanczos(NULL, &d, 5, 2, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert_ptr_null(r.values); /* emptied on failure */
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 0, 1, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 0, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 6, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "k = 6") != NULL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 3, TDL_WHICH_LARGEST, 2, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "max_steps") != NULL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, (tdl_which)9, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, TDL_WHICH_LARGEST, 0, -1, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, TDL_WHICH_LARGEST, 0, NAN, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, TDL_WHICH_LARGEST, 0, INFINITY, 1, 0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, TDL_WHICH_LARGEST, 0, 0, 1, 8u, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, 5, 2, TDL_WHICH_LARGEST, 0, 0, 1, 0, NULL), TDL_EINVAL);
    ck_assert_uint_eq(d.calls, 0);

    double t, se;
    ck_assert_int_eq(tdl_hutchinson(NULL, &d, 5, 10, 1, &t, &se), TDL_EINVAL);
    ck_assert(isnan(t) && isnan(se));
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, 0, 10, 1, &t, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, 5, 1, 1, &t, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, 5, 10, 1, NULL, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchpp(NULL, &d, 5, 10, 1, &t, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, 0, 10, 1, &t, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, 5, 3, 1, &t, &se), TDL_EINVAL);
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, 5, 10, 1, NULL, &se), TDL_EINVAL);
    ck_assert_uint_eq(d.calls, 0);
    /* the smallest budget works: 1 sketch, 1 projection, 2 probes */
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, 5, 4, 1, &t, NULL), TDL_OK);
    ck_assert_uint_eq(d.calls, 4);
    d.calls = 0;

    tdl_slq_result s;
    ck_assert_int_eq(tdl_slq(NULL, &d, 5, 2, 3, 1, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, 0, 2, 3, 1, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, 5, 0, 3, 1, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, 5, 2, 0, 1, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, 5, 2, 3, 1, NULL), TDL_EINVAL);
    ck_assert_ptr_null(s.nodes);
    ck_assert_uint_eq(d.calls, 0);

    /* density */
    double nodes[2] = {0, 1}, weights[2] = {0.5, 0.5};
    tdl_slq_result ok = {1, 2, nodes, weights, 0}, empty = {0, 0, NULL, NULL, 0}, one = {1, 1, nodes, weights, 0};
    tdl_density g;
    ck_assert_int_eq(tdl_slq_density(NULL, TDL_SMOOTH_PAPYAN, 0, NAN, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PAPYAN, 0, NAN, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&empty, TDL_SMOOTH_PAPYAN, 0, NAN, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, (tdl_smoothing)5, 0, NAN, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PAPYAN, 1, NAN, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PAPYAN, 0, -1, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PAPYAN, 0, 0, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PAPYAN, 0, INFINITY, &g), TDL_EINVAL);
    ck_assert_int_eq(tdl_slq_density(&one, TDL_SMOOTH_PAPYAN, 0, NAN, &g), TDL_EINVAL); /* m = 1 */
    ck_assert(strstr(tdl_errmsg(), "m >= 2") != NULL);
    ck_assert_int_eq(tdl_slq_density(&one, TDL_SMOOTH_PAPYAN, 0, 0.1, &g), TDL_OK);   /* unless sigma is given */
    tdl_density_free(&g);
    ck_assert_int_eq(tdl_slq_density(&one, TDL_SMOOTH_EIGENTHINGS, 0, NAN, &g), TDL_OK);
    tdl_density_free(&g);
    nodes[1] = NAN;
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PYHESSIAN, 0, NAN, &g), TDL_ENONFINITE);
    ck_assert_ptr_null(g.values);
    nodes[1] = 1;
    /* a width far below the grid spacing: nothing left on the grid */
    nodes[1] = 1e6;
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_EIGENTHINGS, 2, 1e-3, &g), TDL_ENONFINITE);
    ck_assert(strstr(tdl_errmsg(), "more points") != NULL);
    dense_free(&d);
}
END_TEST

/* A callback status stops every method and comes back (valid codes as they
 * are, others as TDL_EINVAL), with a message naming the product. */
START_TEST(test_errors_callback_status)
{
    dense d;
    make_case(&d, SP_MIXED, 50, 52);
    const int codes[3] = {TDL_EIO, -3, 1000};
    const int expect[3] = {TDL_EIO, TDL_EINVAL, TDL_EINVAL};
    for (int c = 0; c < 3; c++) {
        for (int method = 0; method < 4; method++) {
            d.calls = 0;
            d.fail_at = 3;
            d.status = codes[c];
            tdl_lanczos_result r;
            tdl_slq_result s;
            double t = 0, se = 0;
            int st;
            switch (method) {
            case 0: st = tdl_lanczos(dense_mv, &d, 50, 2, TDL_WHICH_LARGEST, 0, 0, 1, VEC, &r); break;
            case 1: st = tdl_hutchinson(dense_mv, &d, 50, 10, 1, &t, &se); break;
            case 2: st = tdl_hutchpp(dense_mv, &d, 50, 12, 1, &t, &se); break;
            default: st = tdl_slq(dense_mv, &d, 50, 2, 5, 1, &s); break;
            }
            ck_assert_msg(st == expect[c], "method %d code %d: got %d (%s)", method, codes[c], st, tdl_errmsg());
            ck_assert_msg(strstr(tdl_errmsg(), "operator product 3") != NULL, "%s", tdl_errmsg());
            ck_assert_uint_eq(d.calls, 3); /* stopped at once */
            if (method == 0) ck_assert_ptr_null(r.values);
            if (method == 3) ck_assert_ptr_null(s.nodes);
            if (method == 1 || method == 2) ck_assert(isnan(t));
        }
    }
    /* a libtdl call failing inside the callback: its message is kept */
    tdl_lanczos_result r;
    ck_assert_int_eq(tdl_lanczos(failing_mv, NULL, 10, 2, TDL_WHICH_LARGEST, 0, 0, 1, 0, &r), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), "operator product 1 failed: lanczos: k = 0") != NULL, "%s", tdl_errmsg());
    dense_free(&d);
}
END_TEST

/* NaN or infinity in a product: TDL_ENONFINITE naming it. */
START_TEST(test_errors_nonfinite)
{
    dense d;
    make_case(&d, SP_MIXED, 50, 53);
    const double bad[2] = {NAN, -INFINITY};
    const char *const word[2] = {"NaN", "infinity"};
    for (int b = 0; b < 2; b++) {
        for (int method = 0; method < 4; method++) {
            d.calls = 0;
            d.nan_at = 2;
            d.bad = bad[b];
            tdl_lanczos_result r;
            tdl_slq_result s;
            double t, se;
            int st;
            switch (method) {
            case 0: st = tdl_lanczos(dense_mv, &d, 50, 2, TDL_WHICH_SMALLEST, 0, 0, 1, 0, &r); break;
            case 1: st = tdl_hutchinson(dense_mv, &d, 50, 10, 1, &t, &se); break;
            case 2: st = tdl_hutchpp(dense_mv, &d, 50, 12, 1, &t, &se); break;
            default: st = tdl_slq(dense_mv, &d, 50, 2, 5, 1, &s); break;
            }
            ck_assert_int_eq(st, TDL_ENONFINITE);
            ck_assert_msg(strstr(tdl_errmsg(), word[b]) != NULL && strstr(tdl_errmsg(), "product 2") != NULL, "%s",
                          tdl_errmsg());
        }
    }
    dense_free(&d);
}
END_TEST

/* Requests too large for memory or for the BLAS integer range fail at once,
 * before any product. */
START_TEST(test_errors_too_big)
{
    dense d;
    memset(&d, 0, sizeof d);
    tdl_lanczos_result r;
    tdl_slq_result s;
    double t, se;
    const size_t big = (size_t)INT_MAX + 1, imax = (size_t)INT_MAX;
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, big, 1, TDL_WHICH_LARGEST, 10, 0, 1, 0, &r), TDL_ETOOBIG);
    ck_assert(strstr(tdl_errmsg(), "BLAS") != NULL);
    /* 2^31 x 1000 doubles = 17 TB */
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, imax, 1, TDL_WHICH_LARGEST, 1000, 0, 1, 0, &r), TDL_ETOOBIG);
    ck_assert_msg(strstr(tdl_errmsg(), " GB are available") != NULL, "%s", tdl_errmsg()); /* tdl_memory_require */
    /* P^2 doubles overflow size_t */
    ck_assert_int_eq(tdl_lanczos(dense_mv, &d, imax, 1, TDL_WHICH_LARGEST, imax, 0, 1, 0, &r), TDL_ETOOBIG);
    ck_assert_msg(strstr(tdl_errmsg(), "needs inf GB") != NULL, "%s", tdl_errmsg());
    ck_assert_ptr_null(r.values);
    ck_assert_int_eq(tdl_hutchinson(dense_mv, &d, big, 10, 1, &t, &se), TDL_ETOOBIG);
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, imax / 2, 3000, 1, &t, &se), TDL_ETOOBIG);
    ck_assert_int_eq(tdl_hutchpp(dense_mv, &d, big, 30, 1, &t, &se), TDL_ETOOBIG);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, imax, 10, 1000, 1, &s), TDL_ETOOBIG);
    ck_assert_int_eq(tdl_slq(dense_mv, &d, big, 10, 10, 1, &s), TDL_ETOOBIG);
    ck_assert_ptr_null(s.nodes);
    double nodes[2] = {0, 1}, weights[2] = {0.5, 0.5};
    tdl_slq_result ok = {1, 2, nodes, weights, 0};
    tdl_density g;
    ck_assert_int_eq(tdl_slq_density(&ok, TDL_SMOOTH_PYHESSIAN, SIZE_MAX / 4, NAN, &g), TDL_ETOOBIG);
    ck_assert_uint_eq(d.calls, 0);
}
END_TEST

static Suite *spectral_suite(void)
{
    Suite *s = suite_create("spectral");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_loop_test(core, test_lanczos_dense, 0, NLCASES);
    tcase_add_test(core, test_lanczos_reproducible);
    tcase_add_test(core, test_lanczos_warm_start);
    tcase_add_test(core, test_lanczos_stop_on_bound);
    tcase_add_test(core, test_hutchinson_known_trace);
    tcase_add_test(core, test_hutchpp_beats_hutchinson);
    tcase_add_test(core, test_hutchpp_exact);
    tcase_add_test(core, test_slq_moments);
    tcase_add_test(core, test_slq_exact_nodes);
    tcase_add_test(core, test_density_unit_integral);
    tcase_add_test(core, test_density_conventions);
    tcase_add_test(core, test_eigen_density_and_trace);
    suite_add_tcase(s, core);

    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_lanczos_multiplicity_needs_check);
    tcase_add_test(limits, test_lanczos_not_converged);
    tcase_add_test(limits, test_lanczos_trivial_operators);
    tcase_add_test(limits, test_lanczos_order_one);
    tcase_add_test(limits, test_slq_breakdown_padding);
    tcase_add_test(limits, test_names);
    suite_add_tcase(s, limits);

    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors_arguments);
    tcase_add_test(errors, test_errors_callback_status);
    tcase_add_test(errors, test_errors_nonfinite);
    tcase_add_test(errors, test_errors_too_big);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spectral_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
