/* check_ntk.c — NTK / NNGP kernels (tdl/ntk.h): H_inf against Monte Carlo
 * and the unit-norm closed form, the finite-width H against a direct loop,
 * Arora et al.'s complexity against an independent GSL solve, empirical NTKs
 * against J J^T from PyTorch golden Jacobians, analytic kernels against
 * Monte Carlo over random nets, and the kernel dynamics against a trained net. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include "tdl/tdl.h"
#include "net_fixture.h"

static gsl_matrix *random_matrix(gsl_rng *r, size_t n, size_t d, int unit)
{
    gsl_matrix *X = gsl_matrix_alloc(n, d);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double v = gsl_ran_gaussian(r, 1.0);
            gsl_matrix_set(X, i, j, v);
            s += v * v;
        }
        if (unit)
            for (size_t j = 0; j < d; j++) gsl_matrix_set(X, i, j, gsl_matrix_get(X, i, j) / sqrt(s));
    }
    return X;
}

static double mat_max_abs(const gsl_matrix *A)
{
    double m = 0;
    for (size_t i = 0; i < A->size1; i++)
        for (size_t j = 0; j < A->size2; j++) m = fmax(m, fabs(gsl_matrix_get(A, i, j)));
    return m;
}

/* Symmetric and PSD within n eps ||K|| (ntk.md: lambda_min >= -n eps ||K||). */
static void assert_sym_psd(const gsl_matrix *K, const char *what)
{
    size_t n = K->size1;
    double mx = mat_max_abs(K);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(gsl_matrix_get(K, i, j) == gsl_matrix_get(K, j, i), "%s: not symmetric at %zu,%zu",
                          what, i, j);
    double *A = dalloc(n * n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] = gsl_matrix_get(K, i, j);
    tdl_sym_eigen e;
    ck_assert_int_eq(tdl_sym_eigen_solve(A, n, 0, n - 1, 0, &e), TDL_OK);
    double norm2 = fmax(fabs(e.values[0]), fabs(e.values[n - 1]));
    (void)mx;
    ck_assert_msg(e.values[0] >= -(double)n * DBL_EPSILON * norm2, "%s: lambda_min %.3e < -n eps ||K|| = %.3e",
                  what, e.values[0], -(double)n * DBL_EPSILON * norm2);
    tdl_sym_eigen_free(&e);
    free(A);
}

/* H_inf on unit rows equals x.x' (pi - arccos(x.x')) / (2 pi) (Du et al. 2019)
 * to a few eps (arccos is well conditioned away from |x.x'| = 1; the
 * off-diagonal entries of random 20-dim rows are far from it); on general rows
 * it is invariant under positive row scaling times the product of the scales. */
START_TEST(test_h_inf_closed_form)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    size_t n = 30, d = 20;
    gsl_matrix *X = random_matrix(r, n, d, 1), *H = gsl_matrix_alloc(n, n);
    ck_assert_int_eq(tdl_ntk_h_inf(X, H), TDL_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double k = 0;
            for (size_t t = 0; t < d; t++) k += gsl_matrix_get(X, i, t) * gsl_matrix_get(X, j, t);
            if (k > 1) k = 1;
            double ref = i == j ? 0.5 : k * (M_PI - acos(k)) / (2 * M_PI);
            ck_assert_msg(fabs(gsl_matrix_get(H, i, j) - ref) <= 1e-14, "H_inf[%zu,%zu] %.17g vs %.17g", i, j,
                          gsl_matrix_get(H, i, j), ref);
        }
    assert_sym_psd(H, "H_inf");
    /* scaled rows: H'_ij = s_i s_j H_ij */
    gsl_matrix *Xs = gsl_matrix_alloc(n, d), *Hs = gsl_matrix_alloc(n, n);
    double *s = dalloc(n);
    for (size_t i = 0; i < n; i++) {
        s[i] = 0.5 + 2 * gsl_rng_uniform(r);
        for (size_t t = 0; t < d; t++) gsl_matrix_set(Xs, i, t, s[i] * gsl_matrix_get(X, i, t));
    }
    ck_assert_int_eq(tdl_ntk_h_inf(Xs, Hs), TDL_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            ck_assert(fabs(gsl_matrix_get(Hs, i, j) - s[i] * s[j] * gsl_matrix_get(H, i, j)) <= 1e-13);
    /* a zero row gives a zero row and column, never NaN */
    for (size_t t = 0; t < d; t++) gsl_matrix_set(Xs, 3, t, 0.0);
    ck_assert_int_eq(tdl_ntk_h_inf(Xs, Hs), TDL_OK);
    for (size_t j = 0; j < n; j++) ck_assert(gsl_matrix_get(Hs, 3, j) == 0 && gsl_matrix_get(Hs, j, 3) == 0);
    /* parallel rows: theta = 0 exactly, H = x.x'/2 */
    gsl_matrix *P2 = gsl_matrix_alloc(2, 3), *H2 = gsl_matrix_alloc(2, 2);
    double pv[6] = {1e-3, 2e-3, 3e-3, 2, 4, 6};
    memcpy(P2->data, pv, sizeof pv);
    ck_assert_int_eq(tdl_ntk_h_inf(P2, H2), TDL_OK);
    ck_assert(fabs(gsl_matrix_get(H2, 0, 1) - 28e-3 / 2) <= 1e-17);
    gsl_matrix_free(P2);
    gsl_matrix_free(H2);
    free(s);
    gsl_matrix_free(X);
    gsl_matrix_free(H);
    gsl_matrix_free(Xs);
    gsl_matrix_free(Hs);
    gsl_rng_free(r);
}
END_TEST

/* The finite-width H of m random neurons against H_inf (Monte Carlo over w):
 * each entry is a mean of m bounded iid terms |x_i.x_j| 1{...} <= 1 with
 * variance <= 1/4 ... <= 1, so 6 sigma = 6/sqrt(m); and against a direct loop
 * of the definition to rounding. */
START_TEST(test_h_finite_monte_carlo)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 12);
    size_t n = 12, d = 5, m = 200000;
    gsl_matrix *X = random_matrix(r, n, d, 1), *W = random_matrix(r, m, d, 0);
    gsl_matrix *H = gsl_matrix_alloc(n, n), *Hi = gsl_matrix_alloc(n, n);
    ck_assert_int_eq(tdl_ntk_h_finite(X, W, H), TDL_OK);
    ck_assert_int_eq(tdl_ntk_h_inf(X, Hi), TDL_OK);
    double tol = 6.0 * 0.5 / sqrt((double)m);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(fabs(gsl_matrix_get(H, i, j) - gsl_matrix_get(Hi, i, j)) <= tol,
                          "H(0) vs H_inf at %zu,%zu: %.5f vs %.5f", i, j, gsl_matrix_get(H, i, j),
                          gsl_matrix_get(Hi, i, j));
    /* direct definition on a small width */
    gsl_matrix_view Wv = gsl_matrix_submatrix(W, 0, 0, 37, d);
    ck_assert_int_eq(tdl_ntk_h_finite(X, &Wv.matrix, H), TDL_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double k = 0, c = 0;
            for (size_t t = 0; t < d; t++) k += gsl_matrix_get(X, i, t) * gsl_matrix_get(X, j, t);
            for (size_t q = 0; q < 37; q++) {
                double a = 0, b = 0;
                for (size_t t = 0; t < d; t++) {
                    a += gsl_matrix_get(W, q, t) * gsl_matrix_get(X, i, t);
                    b += gsl_matrix_get(W, q, t) * gsl_matrix_get(X, j, t);
                }
                c += (a >= 0 && b >= 0);
            }
            ck_assert(fabs(gsl_matrix_get(H, i, j) - k * c / 37) <= 1e-15);
        }
    assert_sym_psd(H, "H(0)");
    gsl_matrix *Wbad = gsl_matrix_alloc(3, d + 1);
    ck_assert_int_eq(tdl_ntk_h_finite(X, Wbad, H), TDL_ESHAPE);
    gsl_matrix_free(Wbad);
    gsl_matrix_free(X);
    gsl_matrix_free(W);
    gsl_matrix_free(H);
    gsl_matrix_free(Hi);
    gsl_rng_free(r);
}
END_TEST

/* sqrt(2 y^T H^{-1} y / n) against GSL's LU solve (an independent code path);
 * both backward stable, cond(H_inf) here < 1e4, so 1e-10 relative. */
START_TEST(test_arora_complexity)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 13);
    size_t n = 40, d = 10;
    gsl_matrix *X = random_matrix(r, n, d, 1), *H = gsl_matrix_alloc(n, n);
    ck_assert_int_eq(tdl_ntk_h_inf(X, H), TDL_OK);
    double *y = dalloc(n);
    for (size_t i = 0; i < n; i++) y[i] = gsl_rng_uniform(r) < 0.5 ? -1 : 1;
    for (int pass = 0; pass < 2; pass++) {
        double ridge = pass ? 0.05 : 0.0, got;
        ck_assert_int_eq(tdl_ntk_arora_complexity(H, y, ridge, &got), TDL_OK);
        gsl_matrix *A = gsl_matrix_alloc(n, n);
        gsl_matrix_memcpy(A, H);
        for (size_t i = 0; i < n; i++) gsl_matrix_set(A, i, i, gsl_matrix_get(A, i, i) + ridge);
        gsl_permutation *p = gsl_permutation_alloc(n);
        gsl_vector *x = gsl_vector_alloc(n);
        gsl_vector_view yv = gsl_vector_view_array(y, n);
        int sg;
        gsl_linalg_LU_decomp(A, p, &sg);
        gsl_linalg_LU_solve(A, p, &yv.vector, x);
        double q = 0;
        for (size_t i = 0; i < n; i++) q += y[i] * gsl_vector_get(x, i);
        double ref = sqrt(2 * q / (double)n);
        ck_assert_msg(fabs(got - ref) <= 1e-10 * ref, "ridge %g: %.17g vs %.17g", ridge, got, ref);
        gsl_matrix_free(A);
        gsl_permutation_free(p);
        gsl_vector_free(x);
    }
    /* not positive definite: a rank-deficient H (two equal rows) */
    gsl_matrix *X2 = random_matrix(r, 4, 3, 1), *H2 = gsl_matrix_alloc(4, 4);
    for (size_t t = 0; t < 3; t++) gsl_matrix_set(X2, 1, t, gsl_matrix_get(X2, 0, t));
    ck_assert_int_eq(tdl_ntk_h_inf(X2, H2), TDL_OK);
    double v;
    gsl_matrix_set(H2, 0, 0, gsl_matrix_get(H2, 0, 0) - 1e-3); /* make it indefinite */
    ck_assert_int_eq(tdl_ntk_arora_complexity(H2, y, 0, &v), TDL_ENOTPD);
    ck_assert_msg(strstr(tdl_errmsg(), "ridge") != NULL, "%s", tdl_errmsg());
    /* the library speaks in its own terms: the ridge it needs, absolute and
     * relative to the mean diagonal, and no command-line flag */
    ck_assert_msg(strstr(tdl_errmsg(), "x the mean diagonal)") != NULL, "%s", tdl_errmsg());
    ck_assert_msg(strstr(tdl_errmsg(), "--") == NULL && strstr(tdl_errmsg(), "tdl ntk") == NULL, "%s", tdl_errmsg());
    ck_assert_int_eq(tdl_ntk_arora_complexity(H2, y, -1, &v), TDL_EINVAL);
    ck_assert_int_eq(tdl_ntk_arora_complexity(H2, y, 1e-2, &v), TDL_OK);
    gsl_matrix *R = gsl_matrix_alloc(4, 3);
    ck_assert_int_eq(tdl_ntk_arora_complexity(R, y, 0, &v), TDL_ESHAPE);
    gsl_matrix_free(R);
    gsl_matrix_free(X2);
    gsl_matrix_free(H2);
    free(y);
    gsl_matrix_free(X);
    gsl_matrix_free(H);
    gsl_rng_free(r);
}
END_TEST


/* An exactly singular kernel (duplicated examples) is not positive definite
 * whatever the BLAS kernel's rounding.  In exact arithmetic the Cholesky
 * pivot of a repeated row is 0; in floating point it is a rounding residue of
 * either sign, so dpotrf's info alone decides differently on different
 * OpenBLAS kernels (iris, with duplicated rows, did).  cholesky_ridge treats
 * pivots L_kk^2 <= n eps max_i H_ii as zero (kernel_regression.c), so every such matrix must
 * give TDL_ENOTPD, while a ridge far above that threshold (1e-6 of the mean
 * diagonal) must make it solvable.  H = K0 with rows and columns copied
 * bitwise (K0 = B B^T, B of full row rank, so K0 is SPD), for 60 seeded
 * sizes and duplication patterns; the count of matrices on which plain
 * dpotrf "succeeded" is printed. */
START_TEST(test_singular_kernel)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    size_t lucky = 0, trials = 60;
    for (size_t trial = 0; trial < trials; trial++) {
        size_t m = 3 + trial % 25, ndup = 1 + trial % 3, n = m + ndup, p = m + 3;
        double *B = dalloc(m * p), *K0 = dalloc(m * m), *y = dalloc(n), *L = dalloc(n * n);
        size_t *map = malloc(n * sizeof(size_t));
        for (size_t i = 0; i < m * p; i++) B[i] = gsl_ran_gaussian(r, 1.0);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) K0[i * m + j] = dot(B + i * p, B + j * p, p);
        for (size_t i = 0; i < m; i++) map[i] = i;
        for (size_t i = m; i < n; i++) map[i] = gsl_rng_uniform_int(r, m);
        /* shuffle so that the copies are not all at the end */
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = gsl_rng_uniform_int(r, i + 1), t = map[i];
            map[i] = map[j];
            map[j] = t;
        }
        gsl_matrix *H = gsl_matrix_alloc(n, n), *Y = gsl_matrix_alloc(n, 1), *Kt = gsl_matrix_alloc(2, n),
                   *out = gsl_matrix_alloc(2, 1);
        double mean = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) gsl_matrix_set(H, i, j, K0[map[i] * m + map[j]]);
            y[i] = gsl_rng_uniform(r) < 0.5 ? -1 : 1;
            gsl_matrix_set(Y, i, 0, y[i]);
            gsl_matrix_set(Kt, 0, i, gsl_matrix_get(H, 0, i));
            gsl_matrix_set(Kt, 1, i, gsl_matrix_get(H, 1, i));
            mean += gsl_matrix_get(H, i, i) / (double)n;
        }
        memcpy(L, H->data, n * n * sizeof(double));
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n) == 0) lucky++;
        double v;
        ck_assert_msg(tdl_ntk_arora_complexity(H, y, 0, &v) == TDL_ENOTPD, "trial %zu (n = %zu): singular H accepted",
                      trial, n);
        ck_assert_msg(strstr(tdl_errmsg(), "ridge") != NULL, "%s", tdl_errmsg());
        ck_assert_int_eq(tdl_ntk_kernel_regression(H, Y, Kt, 0, out), TDL_ENOTPD);
        ck_assert_msg(tdl_ntk_arora_complexity(H, y, 1e-6 * mean, &v) == TDL_OK && isfinite(v), "trial %zu: %s", trial,
                      tdl_errmsg());
        ck_assert_int_eq(tdl_ntk_kernel_regression(H, Y, Kt, 1e-6 * mean, out), TDL_OK);
        gsl_matrix_free(H);
        gsl_matrix_free(Y);
        gsl_matrix_free(Kt);
        gsl_matrix_free(out);
        free(B);
        free(K0);
        free(y);
        free(L);
        free(map);
    }
    printf("singular kernels: plain dpotrf returned info = 0 on %zu of %zu\n", lucky, trials);
    /* H_inf of inputs with duplicated rows (the iris case) */
    gsl_matrix *X = random_matrix(r, 12, 4, 0), *H = gsl_matrix_alloc(14, 14), *X2 = gsl_matrix_alloc(14, 4);
    for (size_t i = 0; i < 14; i++)
        for (size_t t = 0; t < 4; t++) gsl_matrix_set(X2, i, t, gsl_matrix_get(X, i < 12 ? i : i - 9, t));
    ck_assert_int_eq(tdl_ntk_h_inf(X2, H), TDL_OK);
    double *y = dalloc(14), v;
    for (size_t i = 0; i < 14; i++) y[i] = i % 2 ? 1 : -1;
    ck_assert_int_eq(tdl_ntk_arora_complexity(H, y, 0, &v), TDL_ENOTPD);
    free(y);
    gsl_matrix_free(X);
    gsl_matrix_free(X2);
    gsl_matrix_free(H);
    gsl_rng_free(r);
}
END_TEST

/* H_inf's diagonal is x.x/2 exactly (theta_ii = 0 exactly, pi - theta = pi,
 * and pi/(2 pi) = 1/2 exactly), and a duplicated row's entries equal the
 * original's diagonal up to BLAS's rounding of x.x, whatever the kernel: rows
 * with dyadic entries (x.x exact in any summation order) give exact
 * equality; random rows agree with an exactly rounded dot product to within
 * the dot product's rounding bound gamma_d <= d eps (Higham Sec. 3.1), and a
 * duplicate with the original to twice that.  The former atan2(sqrt(q q' - k^2), k) gave theta ~ 1e-8 whenever
 * BLAS rounded k and q differently, i.e. 3e-9 relative errors. */
START_TEST(test_h_inf_diagonal)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 19);
    size_t n = 40, d = 7;
    gsl_matrix *X = gsl_matrix_alloc(n, d), *H = gsl_matrix_alloc(n, n);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++)
            gsl_matrix_set(X, i, t, i < n / 2 ? ldexp((double)gsl_rng_uniform_int(r, 64) - 32, -5)
                                              : gsl_ran_gaussian(r, 1.0));
    for (size_t t = 0; t < d; t++) gsl_matrix_set(X, 1, t, gsl_matrix_get(X, 0, t)); /* duplicates */
    for (size_t t = 0; t < d; t++) gsl_matrix_set(X, n - 1, t, gsl_matrix_get(X, n - 2, t));
    ck_assert_int_eq(tdl_ntk_h_inf(X, H), TDL_OK);
    for (size_t i = 0; i < n; i++) {
        long double s = 0;
        for (size_t t = 0; t < d; t++) s += (long double)gsl_matrix_get(X, i, t) * gsl_matrix_get(X, i, t);
        double ref = (double)(s / 2), h = gsl_matrix_get(H, i, i);
        if (i < n / 2) ck_assert_msg(h == ref, "H_inf[%zu,%zu] = %.17g, x.x/2 = %.17g", i, i, h, ref);
        else ck_assert_msg(fabs(h - ref) <= (double)d * DBL_EPSILON * ref, "H_inf[%zu,%zu] = %.17g vs %.17g", i, i, h, ref);
    }
    ck_assert(gsl_matrix_get(H, 0, 1) == gsl_matrix_get(H, 0, 0));
    ck_assert(fabs(gsl_matrix_get(H, n - 2, n - 1) - gsl_matrix_get(H, n - 1, n - 1)) <=
              2 * (double)d * DBL_EPSILON * gsl_matrix_get(H, n - 1, n - 1));
    gsl_matrix_free(X);
    gsl_matrix_free(H);
    gsl_rng_free(r);
}
END_TEST


/* ---- empirical NTK against functorch ------------------------------------ */

/* functorch's Jacobian contraction and tdl's kernels are both sums of
 * products of exact derivatives in float64: normwise agreement to a few P eps;
 * 1e-10 relative to max |K| is the bar (observed ~1e-15). */
#define NTK_GOLD_TOL 1e-10

static gsl_matrix *matrix_from(const double *a, size_t r, size_t c)
{
    gsl_matrix *M = gsl_matrix_alloc(r, c);
    memcpy(M->data, a, r * c * sizeof(double));
    return M;
}

static double mat_rel_err(const gsl_matrix *A, const double *ref)
{
    return rel_err(A->data, ref, A->size1 * A->size2);
}

START_TEST(test_empirical_golden)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    char path[1024];
    snprintf(path, sizeof path, "%s/ntk/%s.npz", TDL_TEST_FIXTURES, fx.name);
    tdl_tensors *g = NULL;
    ck_assert_msg(tdl_npz_read(path, &g) == TDL_OK, "%s", tdl_errmsg());
    const tdl_tensor *tx2 = tdl_tensors_find(g, "X2");
    ck_assert(tx2 && tx2->ndim == 2 && tx2->shape[1] == fx.d);
    size_t n = fx.n, C = fx.C, m2 = tx2->shape[0];
    gsl_matrix *X2 = matrix_from(tx2->data, m2, fx.d);
    const char *names[] = {"K_trace", "K_full", "K_cross", "K_cross_full", "K_layer0"};
    for (int method = 0; method < 2; method++) {
        if (method == 0 && fx.m->depth > 2) continue;
        for (int q = 0; q < 5; q++) {
            tdl_ntk_config o;
            tdl_ntk_config_default(&o);
            o.method = method == 0 ? TDL_NTK_STRUCTURED : TDL_NTK_JACOBIAN;
            o.full = q == 1 || q == 3;
            o.budget_bytes = 3 * C * fx.P * sizeof(double) * 2; /* 3-example blocks: exercises blocking */
            if (q == 4) o.layers = 1;
            int cross = q == 2 || q == 3;
            size_t r = o.full ? n * C : n, c = (cross ? m2 : n) * (o.full ? C : 1);
            gsl_matrix *K = gsl_matrix_alloc(r, c);
            ck_assert_msg(tdl_ntk_empirical(fx.m, fx.ds->X, cross ? X2 : NULL, &o, K) == TDL_OK, "%s", tdl_errmsg());
            const tdl_tensor *t = tdl_tensors_find(g, names[q]);
            ck_assert(t && t->shape[0] == r && t->shape[1] == c);
            double e = mat_rel_err(K, t->data);
            ck_assert_msg(e <= NTK_GOLD_TOL, "%s %s method %d: rel error %.2e", fx.name, names[q], method, e);
            if (!cross) assert_sym_psd(K, names[q]);
            gsl_matrix_free(K);
        }
    }
    gsl_matrix_free(X2);
    tdl_tensors_free(&g);
    fixture_free(&fx);
}
END_TEST

/* Larger shallow nets: the structured formula against the Jacobian
 * contraction (same exact quantity, different summation orders): 1e-12
 * relative, a few hundred eps at these sizes. */
START_TEST(test_structured_vs_jacobian)
{
    static const struct { const char *arch, *act; int ntk, bias; } cases[] = {
        {"7-40-1", "relu", 0, 1}, {"7-33-3", "tanh", 1, 1}, {"7-25-4", "gelu", 0, 0}, {"7-30-2", "erf", 1, 0},
        {"7-3", "identity", 1, 1},
    };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 21);
    gsl_matrix *X = random_matrix(r, 37, 7, 0), *X2 = random_matrix(r, 11, 7, 0);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        ck_assert_int_eq(tdl_arch_parse(cases[t].arch, &cfg), TDL_OK);
        ck_assert_int_eq(tdl_act_parse(cases[t].act, &cfg.act), TDL_OK);
        cfg.param = cases[t].ntk ? TDL_PARAM_NTK : TDL_PARAM_STANDARD;
        cfg.bias = cases[t].bias;
        cfg.sigma_b = 0.4;
        cfg.seed = 100 + t;
        tdl_mlp *m;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        size_t C = m->layers[m->depth - 1].out;
        for (int full = 0; full < 2; full++)
            for (int cross = 0; cross < 2; cross++)
                for (unsigned long long layers = 0; layers < 3; layers++) {
                    tdl_ntk_config a, b;
                    tdl_ntk_config_default(&a);
                    a.full = full;
                    a.layers = layers;
                    b = a;
                    a.method = TDL_NTK_STRUCTURED;
                    b.method = TDL_NTK_JACOBIAN;
                    b.budget_bytes = 5 * C * m->n_params * sizeof(double) * 2;
                    size_t rr = X->size1 * (full ? C : 1), cc = (cross ? X2->size1 : X->size1) * (full ? C : 1);
                    gsl_matrix *Ka = gsl_matrix_alloc(rr, cc), *Kb = gsl_matrix_alloc(rr, cc);
                    ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &a, Ka), TDL_OK);
                    ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &b, Kb), TDL_OK);
                    double e = mat_rel_err(Ka, Kb->data);
                    ck_assert_msg(e <= 1e-12, "%s %s full %d cross %d layers %llu: %.2e", cases[t].arch,
                                  cases[t].act, full, cross, layers, e);
                    gsl_matrix_free(Ka);
                    gsl_matrix_free(Kb);
                }
        /* the per-layer kernels add up to the whole */
        gsl_matrix *K = gsl_matrix_alloc(37, 37), *K0 = gsl_matrix_alloc(37, 37), *K1 = gsl_matrix_alloc(37, 37);
        tdl_ntk_config o;
        tdl_ntk_config_default(&o);
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K), TDL_OK);
        o.layers = 1;
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K0), TDL_OK);
        o.layers = 2;
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K1), TDL_OK);
        gsl_matrix_add(K0, K1);
        ck_assert(mat_rel_err(K0, K->data) <= 1e-14);
        gsl_matrix_free(K);
        gsl_matrix_free(K0);
        gsl_matrix_free(K1);
        tdl_mlp_free(&m);
    }
    gsl_matrix_free(X);
    gsl_matrix_free(X2);
    gsl_rng_free(r);
}
END_TEST

/* --ntk-outputs sum (tdl_ntk_config.outputs): the traced kernel summed over
 * the C outputs is C times the mean, bit for bit (one multiplication by an
 * integer), for both methods, square and cross; the full kernel ignores it;
 * bad names are refused. */
START_TEST(test_outputs_sum)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 23);
    gsl_matrix *X = random_matrix(r, 9, 4, 0), *X2 = random_matrix(r, 5, 4, 0);
    static const char *const archs[] = {"4-6-3", "4-5-5-3"};
    for (size_t t = 0; t < 2; t++) {
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        ck_assert_int_eq(tdl_arch_parse(archs[t], &cfg), TDL_OK);
        cfg.act.kind = TDL_ACT_TANH;
        cfg.seed = 3;
        tdl_mlp *m;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        for (int cross = 0; cross < 2; cross++) {
            tdl_ntk_config mean, sum;
            tdl_ntk_config_default(&mean);
            ck_assert_int_eq(mean.outputs, TDL_NTK_OUTPUTS_MEAN);
            sum = mean;
            ck_assert_int_eq(tdl_ntk_config_set_outputs(&sum, "sum"), TDL_OK);
            size_t rr = X->size1, cc = cross ? X2->size1 : X->size1;
            gsl_matrix *Km = gsl_matrix_alloc(rr, cc), *Ks = gsl_matrix_alloc(rr, cc);
            ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &mean, Km), TDL_OK);
            ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &sum, Ks), TDL_OK);
            for (size_t i = 0; i < rr * cc; i++) ck_assert_double_eq(Ks->data[i], 3.0 * Km->data[i]);
            gsl_matrix_free(Km);
            gsl_matrix_free(Ks);
            /* the full kernel has no reduction over outputs */
            mean.full = sum.full = 1;
            gsl_matrix *Fm = gsl_matrix_alloc(rr * 3, cc * 3), *Fs = gsl_matrix_alloc(rr * 3, cc * 3);
            ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &mean, Fm), TDL_OK);
            ck_assert_int_eq(tdl_ntk_empirical(m, X, cross ? X2 : NULL, &sum, Fs), TDL_OK);
            for (size_t i = 0; i < rr * cc * 9; i++) ck_assert_double_eq(Fs->data[i], Fm->data[i]);
            gsl_matrix_free(Fm);
            gsl_matrix_free(Fs);
        }
        tdl_mlp_free(&m);
    }
    tdl_ntk_config o;
    tdl_ntk_config_default(&o);
    ck_assert_int_eq(tdl_ntk_config_set_outputs(&o, "total"), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "mean sum"));
    {
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        ck_assert_int_eq(tdl_arch_parse("4-3-2", &cfg), TDL_OK);
        tdl_mlp *m;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        gsl_matrix *K = gsl_matrix_alloc(X->size1, X->size1);
        o.outputs = (tdl_ntk_outputs)7;
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K), TDL_EINVAL);
        ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "outputs"));
        gsl_matrix_free(K);
        tdl_mlp_free(&m);
    }
    gsl_matrix_free(X);
    gsl_matrix_free(X2);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_empirical_errors)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-5-4-2", &cfg), TDL_OK);
    tdl_mlp *m;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 22);
    gsl_matrix *X = random_matrix(r, 4, 3, 0), *Xbad = gsl_matrix_calloc(4, 2), *K = gsl_matrix_alloc(4, 4);
    tdl_ntk_config o;
    tdl_ntk_config_default(&o);
    ck_assert_str_eq(tdl_ntk_method_name(m, &o), "jacobian");
    ck_assert_int_eq(tdl_ntk_empirical(m, Xbad, NULL, &o, K), TDL_ESHAPE);
    o.full = 1;
    ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K), TDL_ESHAPE); /* needs 8 x 8 */
    o.full = 0;
    o.method = TDL_NTK_STRUCTURED;
    ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), "depth") != NULL, "%s", tdl_errmsg());
    o.method = TDL_NTK_AUTO;
    ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, &o, K), TDL_OK);
    /* drift: zero at init, positive after a change of theta; no theta0 -> error */
    double dr = -1;
    ck_assert_int_eq(tdl_ntk_drift(m, X, &o, &dr), TDL_OK);
    ck_assert(dr == 0);
    for (size_t i = 0; i < m->n_params; i++) m->theta[i] *= 1.1;
    ck_assert_int_eq(tdl_ntk_drift(m, X, &o, &dr), TDL_OK);
    ck_assert(dr > 0.05);
    free(m->theta0);
    m->theta0 = NULL;
    ck_assert_int_eq(tdl_ntk_drift(m, X, &o, &dr), TDL_EINVAL);
    gsl_matrix_free(X);
    gsl_matrix_free(Xbad);
    gsl_matrix_free(K);
    gsl_rng_free(r);
    tdl_mlp_free(&m);
}
END_TEST

/* ---- analytic kernels ------------------------------------------------------ */

/* Dual maps against scipy's adaptive 2D quadrature (dual.npz): the
 * reference is good to ~1e-12; the composite split rule (8 and 24 points per
 * panel) to 1e-10 (a plain Gauss-Hermite rule of degree 128 erred by 1.6e-8
 * on tanh's Tdot at q = 2.5); the erf closed
 * form to 1e-9; relu's reference integrates a kink, good to ~1e-8 only. */
START_TEST(test_dual_maps)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ntk/dual.npz", TDL_TEST_FIXTURES);
    tdl_tensors *g = NULL;
    ck_assert_msg(tdl_npz_read(path, &g) == TDL_OK, "%s", tdl_errmsg());
    const tdl_tensor *pts = tdl_tensors_find(g, "points");
    ck_assert(pts && pts->shape[1] == 3);
    static const struct { const char *name; size_t numeric; double tol, tol_dot; } acts[] = {
        {"tanh", 1, 1e-10, 1e-10}, {"sigmoid", 1, 1e-10, 1e-10}, {"softplus", 1, 1e-10, 1e-10},
        {"gelu", 1, 1e-10, 1e-10}, {"tanh", 24, 1e-10, 1e-10}, {"sigmoid", 24, 1e-10, 1e-10},
        {"softplus", 24, 1e-10, 1e-10}, {"gelu", 24, 1e-10, 1e-10}, {"erf", 0, 1e-9, 1e-9}, {"erf", 1, 1e-10, 1e-10},
        /* scipy integrates relu's kink to ~1e-8 and its step derivative only to
         * ~2e-4 (Tdot is checked exactly against Sheppard's formula below) */
        {"relu", 0, 1e-7, 1e-3},
    };
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        tdl_act act;
        ck_assert_int_eq(tdl_act_parse(acts[a].name, &act), TDL_OK);
        tdl_kact k;
        tdl_kact_from_act(&act, acts[a].numeric != 0, &k);
        ck_assert_int_eq(k.kind == TDL_KACT_NUMERIC, acts[a].numeric != 0);
        size_t deg = acts[a].numeric > 1 ? acts[a].numeric : 0;
        char nm[64];
        snprintf(nm, sizeof nm, "%s_T", acts[a].name);
        const tdl_tensor *T = tdl_tensors_find(g, nm);
        snprintf(nm, sizeof nm, "%s_Tdot", acts[a].name);
        const tdl_tensor *Td = tdl_tensors_find(g, nm);
        ck_assert(T && Td);
        for (size_t p = 0; p < pts->shape[0]; p++) {
            const double *q = pts->data + 3 * p;
            double t, td;
            ck_assert_int_eq(tdl_kact_dual(&k, q[0], q[1], q[2], deg, &t, &td), TDL_OK);
            ck_assert_msg(fabs(t - T->data[p]) <= acts[a].tol * fmax(1, fabs(T->data[p])),
                          "%s%s T at point %zu: %.15g vs %.15g", acts[a].name, acts[a].numeric ? " (quadrature)" : "",
                          p, t, T->data[p]);
            ck_assert_msg(fabs(td - Td->data[p]) <= acts[a].tol_dot * fmax(1, fabs(Td->data[p])),
                          "%s Tdot at point %zu: %.15g vs %.15g", acts[a].name, p, td, Td->data[p]);
        }
    }
    tdl_tensors_free(&g);
}
END_TEST

/* Every closed form against the quadrature of its own function (two
 * independent routes): abrelu family, sin, quadratic; sign/step against
 * Sheppard's formula P(u > 0, v > 0) = (pi - theta) / (2 pi). */
START_TEST(test_closed_vs_quadrature)
{
    static const char *const names[] = {"relu", "leaky-relu:0.2", "abrelu:-0.5,1.5", "abs", "identity", "quadratic",
                                        "erf"};
    static const double pts[][3] = {{1.0, 1.0, 0.3}, {0.5, 2.0, -0.6}, {2.5, 0.7, 1.2}, {0.8, 0.8, 0.8}, {1, 2, 0}};
    for (size_t a = 0; a < sizeof names / sizeof names[0]; a++) {
        tdl_kact k, kn;
        ck_assert_int_eq(tdl_kact_parse(names[a], &k), TDL_OK);
        ck_assert(k.kind != TDL_KACT_NUMERIC);
        tdl_act act;
        if (!strcmp(names[a], "abs")) {
            act.kind = TDL_ACT_ABRELU; act.a = -1; act.b = 1;
        } else {
            ck_assert_int_eq(tdl_act_parse(names[a], &act), TDL_OK);
        }
        tdl_kact_from_act(&act, 1, &kn);
        for (size_t p = 0; p < 5; p++) {
            double t1, d1, t2, d2;
            ck_assert_int_eq(tdl_kact_dual(&k, pts[p][0], pts[p][1], pts[p][2], 0, &t1, &d1), TDL_OK);
            ck_assert_int_eq(tdl_kact_dual(&kn, pts[p][0], pts[p][1], pts[p][2], 32, &t2, &d2), TDL_OK);
            /* the composite rule splits exactly at the kinks (z1 = 0 and
             * a z1 + c z2 = 0), so kinked functions integrate to rounding too */
            int kinked = k.kind == TDL_KACT_ABRELU && k.a != k.b;
            double tol = 1e-10;
            ck_assert_msg(fabs(d1 - d2) <= tol * fmax(1, fabs(d1)), "%s Tdot %zu by quadrature: %.12g vs %.12g",
                          names[a], p, d1, d2);
            ck_assert_msg(fabs(t1 - t2) <= tol * fmax(1, fabs(t1)), "%s T %zu: %.12g vs %.12g", names[a], p, t1, t2);
            if (kinked) {
                /* phi' is a step: Tdot = b^2 P(++) + a^2 P(--) + a b P(+-, -+) with
                 * Sheppard's orthant probabilities P(++) = P(--) = (pi - theta)/(2 pi) */
                double th = acos(pts[p][2] / sqrt(pts[p][0] * pts[p][1])), pp = (M_PI - th) / (2 * M_PI);
                d2 = (k.a * k.a + k.b * k.b) * pp + k.a * k.b * (1 - 2 * pp);
                tol = 1e-14;
            }
            ck_assert_msg(fabs(d1 - d2) <= tol * fmax(1, fabs(d1)), "%s Tdot %zu: %.12g vs %.12g", names[a], p, d1, d2);
        }
    }
    /* sin: against E[sin(b u + c) sin(b v + c)] by 1D products of cos/sin
     * moments: E[cos(b(u - v))] = exp(-b^2 (q1 + q2 - 2k)/2) etc. */
    tdl_kact s;
    ck_assert_int_eq(tdl_kact_parse("sin:1.5,0.7,0.3", &s), TDL_OK);
    double q1 = 0.9, q2 = 1.7, kk = 0.4, t, td;
    ck_assert_int_eq(tdl_kact_dual(&s, q1, q2, kk, 0, &t, &td), TDL_OK);
    /* sin A sin B = [cos(A - B) - cos(A + B)] / 2 */
    double b = 0.7, c = 0.3, a = 1.5;
    double ref = a * a / 2 * (exp(-b * b * (q1 + q2 - 2 * kk) / 2) - exp(-b * b * (q1 + q2 + 2 * kk) / 2) * cos(2 * c));
    double refd = a * a * b * b / 2 * (exp(-b * b * (q1 + q2 - 2 * kk) / 2) + exp(-b * b * (q1 + q2 + 2 * kk) / 2) * cos(2 * c));
    ck_assert(fabs(t - ref) <= 1e-14 && fabs(td - refd) <= 1e-14);
    /* sign and step: Sheppard */
    tdl_kact sg, st;
    ck_assert_int_eq(tdl_kact_parse("sign", &sg), TDL_OK);
    ck_assert_int_eq(tdl_kact_parse("step", &st), TDL_OK);
    double th = acos(kk / sqrt(q1 * q2)), p = (M_PI - th) / (2 * M_PI);
    ck_assert_int_eq(tdl_kact_dual(&st, q1, q2, kk, 0, &t, &td), TDL_OK);
    ck_assert(fabs(t - p) <= 1e-15 && td == 0);
    ck_assert_int_eq(tdl_kact_dual(&sg, q1, q2, kk, 0, &t, &td), TDL_OK);
    ck_assert(fabs(t - (4 * p - 1)) <= 1e-15); /* E[sign u sign v] = 2 P(same sign) - 1 */
    /* theta = 0 exactly and a zero-variance input: no NaN */
    tdl_kact relu;
    ck_assert_int_eq(tdl_kact_parse("relu", &relu), TDL_OK);
    ck_assert_int_eq(tdl_kact_dual(&relu, 2.0, 2.0, 2.0, 0, &t, &td), TDL_OK);
    ck_assert(fabs(t - 1.0) <= 1e-15 && fabs(td - 0.5) <= 1e-15);
    ck_assert_int_eq(tdl_kact_dual(&relu, 0.0, 2.0, 0.0, 0, &t, &td), TDL_OK);
    ck_assert(t == 0 && isfinite(td));
    ck_assert_int_eq(tdl_kact_dual(&relu, -1.0, 2.0, 0.0, 0, &t, &td), TDL_EINVAL);
    ck_assert_int_eq(tdl_kact_parse("sin:1,2", &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_kact_parse("erf:1,x,2", &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_kact_parse("nope", &s), TDL_EINVAL);
    tdl_kact gq;
    tdl_act ta;
    ck_assert_int_eq(tdl_act_parse("tanh", &ta), TDL_OK);
    tdl_kact_from_act(&ta, 0, &gq);
    ck_assert_int_eq(tdl_kact_dual(&gq, 1, 1, 0.5, 1000, &t, &td), TDL_EINVAL);
}
END_TEST

/* Monte Carlo over random nets: S nets of width h in the NTK (or standard)
 * parametrization; NNGP = E[f_c(x) f_c(x')] from the forward passes (C
 * outputs are independent draws), NTK = E[traced empirical NTK].  The
 * tolerance is 5 standard errors of the Monte Carlo mean plus the finite-width
 * bias, bounded by 4 / h times the kernel scale (the O(1/h) corrections of
 * Hanin and Nica 2019 have O(1) constants at depth <= 3); both are at least
 * as tight as neural-tangents' atol 0.01, rtol 0.05.  The NTK of one wide
 * net fluctuates by O(h^(-1/2)) only, so its mean uses the first S_NTK nets. */
#define S_NTK 40
static void mc_check(const char *arch, const char *act_name, int ntk_param, double sw, double sb, size_t S,
                     int check_ntk)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 31);
    size_t n = 5, d = 4;
    gsl_matrix *X = random_matrix(r, n, d, 0);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse(act_name, &cfg.act), TDL_OK);
    cfg.param = ntk_param ? TDL_PARAM_NTK : TDL_PARAM_STANDARD;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = sw;
    cfg.sigma_b = sb;
    size_t C = cfg.widths[cfg.depth], h = cfg.widths[1];
    double *s1 = calloc(n * n, sizeof(double)), *s2 = calloc(n * n, sizeof(double));
    double *t1 = calloc(n * n, sizeof(double)), *t2 = calloc(n * n, sizeof(double));
    double *F = dalloc(n * C);
    gsl_matrix *K = gsl_matrix_alloc(n, n);
    tdl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n;
    ds.d = d;
    ds.X = X;
    for (size_t s = 0; s < S; s++) {
        cfg.seed = 1000 + s;
        tdl_mlp *m;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        tdl_net_work *w = work(m, n);
        tdl_batch b = tdl_batch_rows(&ds, 0, n);
        ck_assert_int_eq(tdl_mlp_forward(m, &b, w, F), TDL_OK);
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double v = F[i * C + c] * F[j * C + c];
                    s1[i * n + j] += v;
                    s2[i * n + j] += v * v;
                }
        if (check_ntk && s < S_NTK) {
            ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, NULL, K), TDL_OK);
            for (size_t i = 0; i < n * n; i++) {
                t1[i] += K->data[i];
                t2[i] += K->data[i] * K->data[i];
            }
        }
        tdl_net_work_free(&w);
        tdl_mlp_free(&m);
    }
    tdl_mlp *m0;
    cfg.seed = 1;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m0), TDL_OK);
    tdl_ntk_analytic_config ac;
    tdl_ntk_analytic_config_from_mlp(m0, &ac);
    tdl_mlp_free(&m0);
    gsl_matrix *A = gsl_matrix_alloc(n, n), *B = gsl_matrix_alloc(n, n);
    ck_assert_msg(tdl_ntk_analytic(&ac, X, NULL, A, B) == TDL_OK, "%s", tdl_errmsg());
    double scaleA = mat_max_abs(A), scaleB = mat_max_abs(B);
    for (size_t i = 0; i < n * n; i++) {
        double N = (double)(S * C), mean = s1[i] / N, var = s2[i] / N - mean * mean;
        double tol = 5 * sqrt(var / N) + 4.0 / (double)h * scaleA;
        ck_assert_msg(fabs(mean - A->data[i]) <= tol, "%s %s NNGP[%zu]: MC %.5f vs analytic %.5f (tol %.4f)", arch,
                      act_name, i, mean, A->data[i], tol);
        if (check_ntk) {
            double Ns = (double)(S < S_NTK ? S : S_NTK), mt = t1[i] / Ns, vt = t2[i] / Ns - mt * mt;
            double tolt = 5 * sqrt(fmax(vt, 0) / Ns) + 4.0 / (double)h * scaleB;
            ck_assert_msg(fabs(mt - B->data[i]) <= tolt, "%s %s NTK[%zu]: MC %.5f vs analytic %.5f (tol %.4f)", arch,
                          act_name, i, mt, B->data[i], tolt);
        }
    }
    assert_sym_psd(A, "analytic NNGP");
    assert_sym_psd(B, "analytic NTK");
    free(s1);
    free(s2);
    free(t1);
    free(t2);
    free(F);
    gsl_matrix_free(K);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    gsl_matrix_free(X);
    gsl_rng_free(r);
}

START_TEST(test_analytic_monte_carlo_shallow)
{
    mc_check("4-1024-8", "relu", 1, 1.4, 0.3, 200, 1);
    mc_check("4-1024-8", "erf", 1, 1.2, 0.5, 200, 1);
    mc_check("4-1024-8", "tanh", 1, 1.5, 0.2, 200, 1);
    mc_check("4-1024-8", "gelu", 0, 1.3, 0.4, 200, 1);
    mc_check("4-512-8", "softplus", 0, 1.0, 0.0, 200, 1);
    mc_check("4-1024-8", "abrelu:-0.5,1", 1, 1.0, 0.1, 200, 1);
}
END_TEST

START_TEST(test_analytic_monte_carlo_deep)
{
    mc_check("4-256-256-256-8", "relu", 1, 1.4, 0.3, 100, 0);
    mc_check("4-256-256-4", "tanh", 1, 1.3, 0.2, 100, 1);
    mc_check("4-256-256-4", "sigmoid", 1, 2.0, 0.5, 100, 1);
    mc_check("4-256-256-4", "identity", 1, 0.9, 0.4, 100, 1);
}
END_TEST

/* Arora et al. 2019 (arXiv 1904.11955) ReLU NTK with c_sigma = 2 (sigma_w =
 * sqrt 2, no bias), depth 2 on unit inputs: closed form by hand
 * Sigma1 = 2 x.x'/d, Theta = Sigma2 + 2 Tdot Sigma1. */

/* tdl_ntk_monte_carlo against the analytic kernels (same tolerance rule as
 * mc_check) and against a hand-rolled average of the same nets. */
START_TEST(test_monte_carlo_api)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 61);
    size_t n = 4, S = 60;
    gsl_matrix *X = random_matrix(r, n, 3, 0);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-1024-16", &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse("erf", &cfg.act), TDL_OK);
    cfg.param = TDL_PARAM_NTK;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.3;
    cfg.sigma_b = 0.2;
    gsl_matrix *A = gsl_matrix_alloc(n, n), *B = gsl_matrix_alloc(n, n), *N = gsl_matrix_alloc(n, n),
               *T = gsl_matrix_alloc(n, n), *E = gsl_matrix_alloc(n, n), *K = gsl_matrix_alloc(n, n);
    ck_assert_msg(tdl_ntk_monte_carlo(&cfg, X, S, 500, N, T, E) == TDL_OK, "%s", tdl_errmsg());
    tdl_mlp *m;
    cfg.seed = 1;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    tdl_ntk_analytic_config ac;
    tdl_ntk_analytic_config_from_mlp(m, &ac);
    tdl_mlp_free(&m);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, A, B), TDL_OK);
    double sa = mat_max_abs(A), sb = mat_max_abs(B);
    for (size_t i = 0; i < n * n; i++) {
        /* NNGP: S C = 960 products with relative spread <= sqrt 2: 5 se <= 0.23 sa */
        ck_assert_msg(fabs(N->data[i] - A->data[i]) <= 5 * sqrt(2.0 / (double)(S * 16)) * sa + 4.0 / 1024 * sa,
                      "MC NNGP %zu: %.5f vs %.5f", i, N->data[i], A->data[i]);
        ck_assert_msg(fabs(T->data[i] - B->data[i]) <= 5 * E->data[i] + 4.0 / 1024 * sb, "MC NTK %zu: %.5f vs %.5f", i,
                      T->data[i], B->data[i]);
    }
    /* the NTK mean is the average of the same nets' kernels */
    gsl_matrix_set_zero(A);
    for (size_t s = 0; s < 3; s++) {
        cfg.seed = 500 + s;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, NULL, K), TDL_OK);
        gsl_matrix_scale(K, 1.0 / 3);
        gsl_matrix_add(A, K);
        tdl_mlp_free(&m);
    }
    ck_assert_int_eq(tdl_ntk_monte_carlo(&cfg, X, 3, 500, NULL, T, NULL), TDL_OK);
    ck_assert(mat_rel_err(T, A->data) <= 1e-14);
    ck_assert_int_eq(tdl_ntk_monte_carlo(&cfg, X, 1, 500, NULL, T, E), TDL_EINVAL);
    gsl_matrix *Xb = gsl_matrix_alloc(2, 5);
    ck_assert_int_eq(tdl_ntk_monte_carlo(&cfg, Xb, 3, 0, NULL, T, NULL), TDL_ESHAPE);
    gsl_matrix_free(Xb);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
    gsl_matrix_free(N);
    gsl_matrix_free(T);
    gsl_matrix_free(E);
    gsl_matrix_free(K);
    gsl_matrix_free(X);
    gsl_rng_free(r);
}
END_TEST


/* Large pre-activation variances (raw inputs with x.x/d ~ 20): the composite
 * rule at the default density agrees with a 4x denser one to 2e-8 (observed
 * <= 7e-9 relative, gelu's Tdot at q = 40), and the analytic
 * tanh / softplus / gelu kernels of a deep net stay PSD (a Gauss-Hermite rule
 * of degree 128 gave lambda_min = -0.23 for tanh on raw iris). */
START_TEST(test_large_variance)
{
    static const char *const acts[] = {"tanh", "sigmoid", "softplus", "gelu"};
    for (size_t a = 0; a < 4; a++) {
        tdl_act act;
        ck_assert_int_eq(tdl_act_parse(acts[a], &act), TDL_OK);
        tdl_kact k;
        tdl_kact_from_act(&act, 1, &k);
        static const double pts[][3] = {{40, 35, 30}, {60, 60, 59.9}, {80, 10, -20}, {40, 40, 0}};
        for (size_t p = 0; p < 4; p++) {
            double t1, d1, t2, d2;
            ck_assert_int_eq(tdl_kact_dual(&k, pts[p][0], pts[p][1], pts[p][2], 0, &t1, &d1), TDL_OK);
            ck_assert_int_eq(tdl_kact_dual(&k, pts[p][0], pts[p][1], pts[p][2], 32, &t2, &d2), TDL_OK);
            ck_assert_msg(fabs(t1 - t2) <= 2e-8 * fmax(1, fabs(t2)) && fabs(d1 - d2) <= 2e-8 * fmax(1, fabs(d2)),
                          "%s at point %zu: T %.15g vs %.15g, Tdot %.15g vs %.15g", acts[a], p, t1, t2, d1, d2);
        }
    }
    tdl_dataset *ds;
    ck_assert_int_eq(tdl_dataset_load("iris", &ds), TDL_OK);
    for (size_t a = 0; a < 4; a++) {
        tdl_ntk_analytic_config ac;
        memset(&ac, 0, sizeof ac);
        ac.depth = 3;
        ac.param = TDL_PARAM_NTK;
        ac.sigma_w = sqrt(2.0);
        ac.sigma_b = 0.1;
        ac.bias = 1;
        ck_assert_int_eq(tdl_kact_parse(acts[a], &ac.act), TDL_OK);
        gsl_matrix_view X = gsl_matrix_submatrix(ds->X, 0, 0, 30, ds->d);
        gsl_matrix *A = gsl_matrix_alloc(30, 30), *B = gsl_matrix_alloc(30, 30);
        ck_assert_int_eq(tdl_ntk_analytic(&ac, &X.matrix, NULL, A, B), TDL_OK);
        assert_sym_psd(A, acts[a]);
        assert_sym_psd(B, acts[a]);
        gsl_matrix_free(A);
        gsl_matrix_free(B);
    }
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_analytic_closed_form)
{
    gsl_matrix *X = gsl_matrix_alloc(2, 3);
    double xv[6] = {1, 0, 0, 0.6, 0.8, 0};
    memcpy(X->data, xv, sizeof xv);
    tdl_ntk_analytic_config ac;
    memset(&ac, 0, sizeof ac);
    ac.depth = 2;
    ac.param = TDL_PARAM_NTK;
    ac.sigma_w = sqrt(2.0);
    ac.bias = 0;
    ck_assert_int_eq(tdl_kact_parse("relu", &ac.act), TDL_OK);
    gsl_matrix *A = gsl_matrix_alloc(2, 2), *B = gsl_matrix_alloc(2, 2);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, A, B), TDL_OK);
    double s1 = 2 * 0.6 / 3, q = 2.0 / 3, th = acos(0.6);
    double T = q / (2 * M_PI) * (sin(th) + (M_PI - th) * cos(th)), Td = (M_PI - th) / (2 * M_PI);
    double nngp = 2 * T, ntk = nngp + 2 * Td * s1;
    ck_assert(fabs(gsl_matrix_get(A, 0, 1) - nngp) <= 1e-15);
    ck_assert(fabs(gsl_matrix_get(B, 0, 1) - ntk) <= 1e-15);
    ck_assert(fabs(gsl_matrix_get(A, 0, 0) - q) <= 1e-15);         /* 2 * q/2 */
    ck_assert(fabs(gsl_matrix_get(B, 0, 0) - 2 * q) <= 1e-15);     /* q + 2 * 1/2 * q */
    /* errors */
    ac.depth = 0;
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, A, B), TDL_EINVAL);
    ac.depth = 2;
    gsl_matrix *Bad = gsl_matrix_alloc(3, 2);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, Bad, NULL), TDL_ESHAPE);
    ac.sigma_w = -1;
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, A, NULL), TDL_EINVAL);
    gsl_matrix_free(Bad);
    gsl_matrix_free(X);
    gsl_matrix_free(A);
    gsl_matrix_free(B);
}
END_TEST

/* ---- closed forms against multiprecision ---------------------------------- */

/* Every closed-form dual (abrelu family, erf with a,b,c, sign, step, sin with
 * a,b,c, quadratic) at depths 1-4, both parametrizations, sigma_b = 0.4 with
 * biases and sigma_b = 0 without, against the same recursion evaluated at 50
 * digits by mpmath from the same double inputs (tests/fixtures/ntk/
 * closed_forms_mp.txt, made by tests/fixtures/make_ntk_mp_fixtures.py; see
 * there for the inputs: identical, nearly parallel (1e-8 apart), orthogonal,
 * opposite, nearly opposite and generic pairs).
 *
 * Tolerance: 1e-14 relative to max(|K_ij|, 0.1 sqrt(K_ii K_jj)), i.e. 1e-14
 * relative for every entry at least a tenth of its scale sqrt(K_ii K_jj)
 * (|K_ij| <= that scale for a PSD kernel), and 1e-15 sqrt(K_ii K_jj) (~4.5 eps
 * of the scale) absolute for the entries that are truly tiny against it.
 * Why: the inputs enter through x.x'/d (BLAS), whose rounding is
 * eps |x| |x'| / d, not eps |x.x'| / d, so no entry can be more accurate than
 * ~eps sqrt(K_ii K_jj) absolutely.  Tiny entries here: the sigma_b = 0
 * kernels of the pairs (near-parallel, orthogonal) and (orthogonal, opposite),
 * ~1e-8 of the scale because x0 + 1e-8 z is not quite orthogonal to x3; relu's
 * and step's entries at (nearly) opposite inputs (0 in exact arithmetic at
 * depth >= 2); and the NNGP of sign and odd activations through orthogonal
 * inputs.  The observed errors are printed as a table (worst per activation
 * and pair class; relative, and [relative to the scale]). */
#define MP_TOL 1e-14
#define MP_SCALE_FRAC 0.1
#define MP_N 6
#define MP_NCAT 6
static const char *const mp_cat_names[MP_NCAT] = {"diagonal", "identical", "near-parallel", "orthogonal", "opposite",
                                                  "other"};

/* pair class of the fixture's inputs: 0 x0, 1 copy of x0, 2 x0 + 1e-8 z,
 * 3 orthogonal to x0, 4 -x0, 5 generic */
static int mp_pair_class(size_t i, size_t j)
{
    if (i == j) return 0;
    size_t a = i < j ? i : j, b = i < j ? j : i;
    if (a == 0 && b == 1) return 1;
    if (b == 2 && a <= 1) return 2;
    if (b == 3 && a <= 1) return 3;
    if (b == 4 && a <= 2) return 4; /* (2, 4) nearly opposite */
    return 5;
}

typedef struct mp_worst {
    char name[64];
    double rel[2][MP_NCAT]; /* worst |got - ref| / |ref| over entries >= 0.1 of their scale */
    double tiny[2][MP_NCAT]; /* worst |got - ref| / sqrt(K_ii K_jj) over the others */
} mp_worst;

START_TEST(test_closed_forms_mp)
{
    char path[1024], word[64];
    snprintf(path, sizeof path, "%s/ntk/closed_forms_mp.txt", TDL_TEST_FIXTURES);
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    int c;
    while ((c = fgetc(fp)) == '#')
        while ((c = fgetc(fp)) != '\n' && c != EOF) {}
    ungetc(c, fp);
    size_t n, d;
    ck_assert(fscanf(fp, "%63s %zu %zu", word, &n, &d) == 3 && !strcmp(word, "inputs") && n == MP_N);
    gsl_matrix *X = gsl_matrix_alloc(n, d);
    for (size_t i = 0; i < n * d; i++) ck_assert(fscanf(fp, "%lf", X->data + i) == 1);
    size_t widths[5];
    ck_assert(fscanf(fp, "%63s", word) == 1 && !strcmp(word, "widths"));
    for (size_t l = 0; l < 5; l++) ck_assert(fscanf(fp, "%zu", widths + l) == 1);
    ck_assert(widths[0] == d);
    const size_t nu = n * (n + 1) / 2;
    double ref[2][MP_N * (MP_N + 1) / 2];
    gsl_matrix *K[2] = {gsl_matrix_alloc(n, n), gsl_matrix_alloc(n, n)};
    gsl_matrix *Kx[2] = {gsl_matrix_alloc(n, n), gsl_matrix_alloc(n, n)};
    mp_worst worst[16];
    size_t nw = 0, cases = 0, entries = 0;
    double dual_worst = 0;
    memset(worst, 0, sizeof worst);
    char name[64], kind[32], param[32];
    double a, b, cc, sw, sb;
    int bias;
    size_t depth;
    size_t duals = 0;
    while (fscanf(fp, "%63s", word) == 1) {
        if (!strcmp(word, "dual")) {
            /* tdl_kact_dual at a covariance given as doubles (its angle from
             * (q1, q2, k) by the fma discriminant), same tolerance rule with
             * the scale sqrt(T(q1,q1,q1) T(q2,q2,q2)) */
            double v[9], dv[6];
            ck_assert(fscanf(fp, "%63s %31s %lf %lf %lf %lf %lf %lf", name, kind, &a, &b, &cc, v, v + 1, v + 2) == 8);
            for (int t = 0; t < 6; t++) ck_assert(fscanf(fp, "%lf", dv + t) == 1);
            tdl_kact ka;
            ck_assert_int_eq(tdl_kact_parse(name, &ka), TDL_OK);
            double t, td;
            ck_assert_int_eq(tdl_kact_dual(&ka, v[0], v[1], v[2], 0, &t, &td), TDL_OK);
            double got[2] = {t, td}, r[2] = {dv[0], dv[1]};
            double scale[2] = {sqrt(fabs(dv[2] * dv[3])), sqrt(fabs(dv[4] * dv[5]))};
            for (int k = 0; k < 2; k++) {
                double err = fabs(got[k] - r[k]);
                ck_assert_msg(err <= MP_TOL * fmax(fabs(r[k]), MP_SCALE_FRAC * scale[k]),
                              "tdl_kact_dual %s (%g, %g, %.17g) %s: %.17g vs mp %.17g", name, v[0], v[1], v[2],
                              k ? "Tdot" : "T", got[k], r[k]);
                dual_worst = fmax(dual_worst, r[k] != 0 ? err / fabs(r[k]) : err);
            }
            duals++;
            continue;
        }
        ck_assert(!strcmp(word, "case"));
        ck_assert(fscanf(fp, "%63s %31s %lf %lf %lf %31s %lf %lf %d %zu", name, kind, &a, &b, &cc, param, &sw, &sb, &bias,
                         &depth) == 10);
        for (int k = 0; k < 2; k++) {
            ck_assert(fscanf(fp, "%63s", word) == 1 && !strcmp(word, k ? "ntk" : "nngp"));
            for (size_t u = 0; u < nu; u++) ck_assert(fscanf(fp, "%lf", &ref[k][u]) == 1);
        }
        tdl_ntk_analytic_config ac;
        memset(&ac, 0, sizeof ac);
        ck_assert_int_eq(tdl_kact_parse(name, &ac.act), TDL_OK);
        if (!strcmp(kind, "abrelu") || !strcmp(kind, "erf") || !strcmp(kind, "sin"))
            ck_assert_msg(ac.act.a == a && ac.act.b == b && (!strcmp(kind, "abrelu") || ac.act.c == cc),
                          "%s: parameters %g %g %g vs the fixture's", name, ac.act.a, ac.act.b, ac.act.c);
        ac.depth = depth;
        for (size_t l = 0; l < 5; l++) ac.widths[l] = widths[l];
        ac.param = !strcmp(param, "standard") ? TDL_PARAM_STANDARD : TDL_PARAM_NTK;
        ac.sigma_w = sw;
        ac.sigma_b = sb;
        ac.bias = bias;
        /* the symmetric path (X2 = NULL: upper triangle) and the cross path (X2 = X) */
        ck_assert_msg(tdl_ntk_analytic(&ac, X, NULL, K[0], K[1]) == TDL_OK, "%s", tdl_errmsg());
        ck_assert_msg(tdl_ntk_analytic(&ac, X, X, Kx[0], Kx[1]) == TDL_OK, "%s", tdl_errmsg());
        size_t w;
        for (w = 0; w < nw && strcmp(worst[w].name, name); w++) {}
        if (w == nw) {
            ck_assert(nw < 16);
            snprintf(worst[nw++].name, sizeof worst[0].name, "%s", name);
        }
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0, u = 0; i < n; i++)
                for (size_t j = i; j < n; j++, u++) {
                    size_t ui = i * n - i * (i - 1) / 2, uj = j * n - j * (j - 1) / 2; /* diagonal slots */
                    double r = ref[k][u], scale = sqrt(fabs(ref[k][ui]) * fabs(ref[k][uj]));
                    int cls = mp_pair_class(i, j);
                    for (int pass = 0; pass < 3; pass++) {
                        double got = pass == 0 ? gsl_matrix_get(K[k], i, j)
                                     : pass == 1 ? gsl_matrix_get(Kx[k], i, j) : gsl_matrix_get(Kx[k], j, i);
                        double err = fabs(got - r), bound = MP_TOL * fmax(fabs(r), MP_SCALE_FRAC * scale);
                        ck_assert_msg(err <= bound,
                                      "%s %s sb=%g depth %zu %s[%zu,%zu] (%s, %s path): %.17g vs mp %.17g (rel %.2e, /scale %.2e)",
                                      name, param, sb, depth, k ? "NTK" : "NNGP", i, j, mp_cat_names[cls],
                                      pass ? "cross" : "symmetric", got, r, r != 0 ? err / fabs(r) : INFINITY,
                                      err / scale);
                        if (fabs(r) >= MP_SCALE_FRAC * scale)
                            worst[w].rel[k][cls] = fmax(worst[w].rel[k][cls], err / fabs(r));
                        else
                            worst[w].tiny[k][cls] = fmax(worst[w].tiny[k][cls], err / scale);
                    }
                    entries++;
                }
        }
        cases++;
    }
    fclose(fp);
    ck_assert_uint_eq(cases, 208);
    ck_assert_uint_eq(duals, 130);
    printf("tdl_kact_dual vs mpmath: %zu points, worst relative error %.1e\n", duals, dual_worst);
    /* the accuracy table (worst over depths 1-4, both parametrizations, both sigma_b) */
    printf("closed forms vs mpmath: %zu configurations, %zu entries x 3 paths\n", cases, entries);
    printf("%-18s %-6s", "activation", "kernel");
    for (int cl = 0; cl < MP_NCAT; cl++) printf(" %13s", mp_cat_names[cl]);
    printf("\n   (worst relative error over the entries >= 0.1 sqrt(K_ii K_jj); below it, [worst error /\n"
           "    sqrt(K_ii K_jj)] over the tiny entries, [-] when there are none)\n");
    for (size_t w = 0; w < nw; w++)
        for (int k = 0; k < 2; k++) {
            printf("%-18s %-6s", worst[w].name, k ? "NTK" : "NNGP");
            for (int cl = 0; cl < MP_NCAT; cl++) printf(" %13.1e", worst[w].rel[k][cl]);
            printf("\n%-25s", "");
            for (int cl = 0; cl < MP_NCAT; cl++)
                if (worst[w].tiny[k][cl] > 0) printf("    [%7.1e]", worst[w].tiny[k][cl]);
                else printf("    %9s", "[-]");
            printf("\n");
        }
    fflush(stdout);
    for (int k = 0; k < 2; k++) {
        gsl_matrix_free(K[k]);
        gsl_matrix_free(Kx[k]);
    }
    gsl_matrix_free(X);
}
END_TEST

/* Jacot et al. 2018: the empirical NTK at init tends to the analytic one as
 * the width grows; the relative Frobenius error falls like h^(-1/2). */
START_TEST(test_width_convergence)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 41);
    size_t n = 20, d = 6;
    gsl_matrix *X = random_matrix(r, n, d, 0);
    gsl_matrix *K = gsl_matrix_alloc(n, n), *A = gsl_matrix_alloc(n, n);
    const size_t widths[] = {64, 256, 1024, 4096, 16384};
    double err[5];
    for (size_t t = 0; t < 5; t++) {
        char arch[64];
        snprintf(arch, sizeof arch, "6-%zu-1", widths[t]);
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
        cfg.act.kind = TDL_ACT_RELU;
        cfg.param = TDL_PARAM_NTK;
        cfg.init = TDL_INIT_GAUSSIAN;
        cfg.sigma_w = 1.5;
        cfg.sigma_b = 0.2;
        cfg.seed = 7;
        tdl_mlp *m;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        ck_assert_int_eq(tdl_ntk_empirical(m, X, NULL, NULL, K), TDL_OK);
        tdl_ntk_analytic_config ac;
        tdl_ntk_analytic_config_from_mlp(m, &ac);
        ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, NULL, A), TDL_OK);
        double num = 0, den = 0;
        for (size_t i = 0; i < n * n; i++) {
            num += (K->data[i] - A->data[i]) * (K->data[i] - A->data[i]);
            den += A->data[i] * A->data[i];
        }
        err[t] = sqrt(num / den);
        tdl_mlp_free(&m);
    }
    /* slope of log err vs log h over 64 -> 16384: about -1/2 */
    double slope = (log(err[4]) - log(err[0])) / (log(16384.0) - log(64.0));
    ck_assert_msg(slope < -0.35 && slope > -0.65, "slope %.3f (errors %.3g %.3g %.3g %.3g %.3g)", slope, err[0], err[1],
                  err[2], err[3], err[4]);
    /* neural-tangents asks 6e-2 at width 1024 for a kernel averaged over 512
     * nets; one net of width 16384 = 16 x 1024 gets 1/sqrt(16) of that
     * budget (1.5e-2) plus a margin for the single draw (observed 1.7e-2) */
    ck_assert_msg(err[4] <= 2e-2, "width 16384: relative error %.3g > 2e-2", err[4]);
    gsl_matrix_free(X);
    gsl_matrix_free(K);
    gsl_matrix_free(A);
    gsl_rng_free(r);
}
END_TEST

/* ---- kernel dynamics ------------------------------------------------------- */

/* --predict against an actual wide net trained by small-step full-batch GD on
 * tdl's mse (mean over examples, norm = n): after k steps of size eta the
 * kernel prediction at t = k (Lee et al. 2019 eq. 9-10) matches to
 * O(h^(-1/2)) (linearization) + O(eta lambda / n) (discretization); with
 * h = 4096 and eta lambda_max / n = 0.02 neural-tangents' bar 0.01 holds. */
START_TEST(test_predict_vs_training)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 51);
    size_t n = 12, m = 6, d = 3;
    tdl_dataset *ds = calloc(1, sizeof *ds);
    ds->n = n;
    ds->d = d;
    ds->X = random_matrix(r, n, d, 1);
    ds->Y = gsl_matrix_alloc(n, 1);
    for (size_t i = 0; i < n; i++) ds->Y->data[i] = sin(2 * gsl_matrix_get(ds->X, i, 0)) + gsl_matrix_get(ds->X, i, 1);
    gsl_matrix *Xt = random_matrix(r, m, d, 1);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-4096-1", &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse("erf", &cfg.act), TDL_OK);
    cfg.param = TDL_PARAM_NTK;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.5;
    cfg.sigma_b = 0.1;
    cfg.seed = 5;
    tdl_mlp *net;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &net), TDL_OK);
    gsl_matrix *K = gsl_matrix_alloc(n, n), *Kt = gsl_matrix_alloc(m, n);
    gsl_matrix *F0 = gsl_matrix_alloc(n, 1), *Ft0 = gsl_matrix_alloc(m, 1);
    gsl_matrix *Fp = gsl_matrix_alloc(n, 1), *Ftp = gsl_matrix_alloc(m, 1);
    ck_assert_int_eq(tdl_ntk_empirical(net, ds->X, NULL, NULL, K), TDL_OK);
    ck_assert_int_eq(tdl_ntk_empirical(net, Xt, ds->X, NULL, Kt), TDL_OK);
    tdl_net_work *w = work(net, n);
    tdl_batch b = tdl_batch_rows(ds, 0, n);
    ck_assert_int_eq(tdl_mlp_forward(net, &b, w, F0->data), TDL_OK);
    tdl_dataset dt = {0};
    dt.n = m;
    dt.d = d;
    dt.X = Xt;
    tdl_batch bt = tdl_batch_rows(&dt, 0, m);
    ck_assert_int_eq(tdl_mlp_forward(net, &bt, w, Ft0->data), TDL_OK);
    double *ev = dalloc(n);
    ck_assert_int_eq(tdl_ntk_eigenvalues(K, ev), TDL_OK);
    double eta = 0.02 * (double)n / ev[n - 1];
    size_t steps = 400;
    double *grad = dalloc(net->n_params), loss;
    for (size_t s = 0; s < steps; s++) {
        ck_assert_int_eq(tdl_mlp_loss_grad(net, TDL_LOSS_MSE, ds, w, &loss, grad), TDL_OK);
        for (size_t p = 0; p < net->n_params; p++) net->theta[p] -= eta * grad[p];
    }
    double *F = dalloc(n), *Ft = dalloc(m);
    ck_assert_int_eq(tdl_mlp_forward(net, &b, w, F), TDL_OK);
    ck_assert_int_eq(tdl_mlp_forward(net, &bt, w, Ft), TDL_OK);
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, F0, Kt, Ft0, eta, (double)steps, (double)n, 0, Fp, Ftp), TDL_OK);
    double moved = 0, e1 = 0, e2 = 0;
    for (size_t i = 0; i < n; i++) {
        e1 = fmax(e1, fabs(F[i] - Fp->data[i]));
        moved = fmax(moved, fabs(F[i] - F0->data[i]));
    }
    for (size_t i = 0; i < m; i++) e2 = fmax(e2, fabs(Ft[i] - Ftp->data[i]));
    ck_assert_msg(moved > 0.3, "training moved the outputs by only %.3g", moved);
    ck_assert_msg(e1 <= 0.01 && e2 <= 0.01, "train %.3g test %.3g vs the trained net", e1, e2);
    /* t = 0 gives f_0; t = infinity on train gives y; kernel regression
     * equals the t = infinity test prediction from f_0 = 0 */
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, F0, Kt, Ft0, eta, 0.0, (double)n, 0, Fp, Ftp), TDL_OK);
    for (size_t i = 0; i < n; i++) ck_assert(fabs(Fp->data[i] - F0->data[i]) <= 1e-12);
    for (size_t i = 0; i < m; i++) ck_assert(fabs(Ftp->data[i] - Ft0->data[i]) <= 1e-12);
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, NULL, Kt, NULL, eta, INFINITY, (double)n, 0, Fp, Ftp), TDL_OK);
    for (size_t i = 0; i < n; i++) ck_assert(fabs(Fp->data[i] - ds->Y->data[i]) <= 1e-12);
    gsl_matrix *R = gsl_matrix_alloc(m, 1);
    ck_assert_int_eq(tdl_ntk_kernel_regression(K, ds->Y, Kt, 0, R), TDL_OK);
    for (size_t i = 0; i < m; i++) ck_assert(fabs(R->data[i] - Ftp->data[i]) <= 1e-9 * fmax(1, fabs(R->data[i])));
    /* large finite t approaches t = infinity (cond(K) ~ 1e3 here) */
    gsl_matrix *Fl = gsl_matrix_alloc(m, 1);
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, NULL, Kt, NULL, eta, 1e9 * (double)n / (eta * ev[0]), (double)n, 0, NULL, Fl), TDL_OK);
    for (size_t i = 0; i < m; i++) ck_assert(fabs(Fl->data[i] - Ftp->data[i]) <= 1e-8 * fmax(1, fabs(R->data[i])));
    /* ensemble: the mean equals the prediction from f_0 = 0, cov(t = 0) = K_tt,
     * the covariance is symmetric PSD */
    gsl_matrix *N = gsl_matrix_alloc(n, n), *Nt = gsl_matrix_alloc(m, n), *Ntt = gsl_matrix_alloc(m, m);
    tdl_ntk_analytic_config ac;
    tdl_ntk_analytic_config_from_mlp(net, &ac);
    gsl_matrix *Th = gsl_matrix_alloc(n, n), *Tht = gsl_matrix_alloc(m, n);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, ds->X, NULL, N, Th), TDL_OK);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, Xt, ds->X, Nt, Tht), TDL_OK);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, Xt, NULL, Ntt, NULL), TDL_OK);
    gsl_matrix *mean = gsl_matrix_alloc(m, 1), *cov = gsl_matrix_alloc(m, m);
    double tt = 50;
    ck_assert_int_eq(tdl_ntk_ensemble(Th, N, Tht, Nt, Ntt, ds->Y, eta, tt, (double)n, 0, mean, cov), TDL_OK);
    ck_assert_int_eq(tdl_ntk_predict(Th, ds->Y, NULL, Tht, NULL, eta, tt, (double)n, 0, NULL, Ftp), TDL_OK);
    for (size_t i = 0; i < m; i++) ck_assert(fabs(mean->data[i] - Ftp->data[i]) <= 1e-10);
    assert_sym_psd(cov, "ensemble covariance");
    ck_assert_int_eq(tdl_ntk_ensemble(Th, N, Tht, Nt, Ntt, ds->Y, eta, 0, (double)n, 0, mean, cov), TDL_OK);
    for (size_t i = 0; i < m * m; i++) ck_assert(fabs(cov->data[i] - Ntt->data[i]) <= 1e-12);
    /* eta_max: the linearized residual r <- (I - eta K / n) r contracts below it, grows above */
    double emax = tdl_ntk_eta_max(ev[n - 1], (double)n, 0);
    for (int side = 0; side < 2; side++) {
        double e = emax * (side ? 1.02 : 0.98), rr[64];
        for (size_t i = 0; i < n; i++) rr[i] = 1;
        for (int it = 0; it < 2000; it++) {
            double nr[64];
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t j = 0; j < n; j++) s += gsl_matrix_get(K, i, j) * rr[j];
                nr[i] = rr[i] - e * s / (double)n;
            }
            memcpy(rr, nr, n * sizeof(double));
        }
        double nrm = 0;
        for (size_t i = 0; i < n; i++) nrm += rr[i] * rr[i];
        ck_assert_msg(side ? nrm > 1e6 : nrm < 1e-1, "eta %s eta_max: |r|^2 = %g", side ? "above" : "below", nrm);
    }
    /* errors: not PD at t = inf, bad shapes */
    gsl_matrix *S = gsl_matrix_calloc(n, n);
    ck_assert_int_eq(tdl_ntk_predict(S, ds->Y, NULL, Kt, NULL, eta, INFINITY, (double)n, 0, NULL, Ftp), TDL_ENOTPD);
    ck_assert_int_eq(tdl_ntk_kernel_regression(S, ds->Y, Kt, 0, R), TDL_ENOTPD);
    ck_assert_int_eq(tdl_ntk_kernel_regression(S, ds->Y, Kt, 1e-3, R), TDL_OK);
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, NULL, Kt, NULL, -1, 1, (double)n, 0, NULL, Ftp), TDL_EINVAL);
    ck_assert_int_eq(tdl_ntk_predict(K, ds->Y, NULL, Xt, NULL, eta, 1, (double)n, 0, NULL, Ftp), TDL_ESHAPE);
    gsl_matrix_free(S);
    gsl_matrix_free(N);
    gsl_matrix_free(Nt);
    gsl_matrix_free(Ntt);
    gsl_matrix_free(Th);
    gsl_matrix_free(Tht);
    gsl_matrix_free(mean);
    gsl_matrix_free(cov);
    gsl_matrix_free(Fl);
    gsl_matrix_free(R);
    free(ev);
    free(grad);
    free(F);
    free(Ft);
    tdl_net_work_free(&w);
    tdl_mlp_free(&net);
    gsl_matrix_free(K);
    gsl_matrix_free(Kt);
    gsl_matrix_free(F0);
    gsl_matrix_free(Ft0);
    gsl_matrix_free(Fp);
    gsl_matrix_free(Ftp);
    gsl_matrix_free(Xt);
    tdl_dataset_free(&ds);
    gsl_rng_free(r);
}
END_TEST


/* The method table (tdl/names.h) and the method a net gets; a net's Monte
 * Carlo configuration; the mse targets of classification (one-hot; 0/1 for
 * one output) and regression data, their shape check; Arora's labels. */
START_TEST(test_names_and_targets)
{
    int v = -1;
    ck_assert_int_eq(tdl_name_lookup(tdl_ntk_method_names, "method", "jacobian", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_NTK_JACOBIAN);
    ck_assert_int_eq(tdl_name_lookup(tdl_ntk_method_names, "method", "auto", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_NTK_AUTO);
    ck_assert_int_eq(tdl_name_lookup(tdl_ntk_method_names, "method", "lanczos", &v), TDL_EINVAL);
    ck_assert_str_eq(tdl_errmsg(), "unknown method 'lanczos' (auto structured jacobian)");
    ck_assert_str_eq(tdl_name_of(tdl_ntk_method_names, TDL_NTK_STRUCTURED), "structured");
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    ck_assert_int_eq(tdl_arch_parse("3-4-4-2", &mc), TDL_OK);
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&mc, &m), TDL_OK);
    tdl_ntk_config o;
    tdl_ntk_config_default(&o);
    ck_assert_str_eq(tdl_ntk_method_name(m, &o), "jacobian");
    o.method = TDL_NTK_STRUCTURED;
    ck_assert_str_eq(tdl_ntk_method_name(m, &o), "structured");
    /* the Monte Carlo distribution of a net: its own structure, Gaussian init */
    tdl_mlp_config back;
    tdl_ntk_monte_carlo_config_from_mlp(m, &back);
    ck_assert_uint_eq(back.depth, 3);
    for (size_t l = 0; l <= 3; l++) ck_assert_uint_eq(back.widths[l], mc.widths[l]);
    ck_assert_int_eq(back.act.kind, m->act.kind);
    ck_assert_int_eq(back.param, m->param);
    ck_assert_int_eq(back.init, TDL_INIT_GAUSSIAN);
    ck_assert(back.sigma_w == m->sigma_w && back.sigma_b == m->sigma_b);
    ck_assert_int_eq(back.bias, m->layers[0].has_bias);
    tdl_mlp_free(&m);

    const double X[8] = {0, 1, 2, 3, 4, 5, 6, 7}, Yr[8] = {1.5, -2, 0.25, 3, 7, 8, -1, 0};
    const long long lab[4] = {2, 0, 1, 2};
    tdl_matrix_view xv = {X, 4, 2, 2, 1}, yv = {Yr, 4, 2, 2, 1};
    tdl_dataset *cls = NULL, *reg = NULL;
    ck_assert_int_eq(tdl_dataset_from_arrays(xv, lab, 3, NULL, NULL, &cls), TDL_OK);
    ck_assert_int_eq(tdl_dataset_from_arrays(xv, NULL, 0, &yv, NULL, &reg), TDL_OK);
    gsl_matrix *Y3 = gsl_matrix_alloc(4, 3), *Y1 = gsl_matrix_alloc(4, 1), *Y2 = gsl_matrix_alloc(4, 2);
    ck_assert_int_eq(tdl_ntk_targets(cls, 3, Y3), TDL_OK);
    for (size_t i = 0; i < 4; i++)
        for (size_t c = 0; c < 3; c++) ck_assert(gsl_matrix_get(Y3, i, c) == ((long long)c == lab[i] ? 1.0 : 0.0));
    ck_assert_int_eq(tdl_ntk_targets(cls, 1, Y1), TDL_OK);
    for (size_t i = 0; i < 4; i++) ck_assert(gsl_matrix_get(Y1, i, 0) == (double)lab[i]);
    ck_assert_int_eq(tdl_ntk_targets(reg, 2, Y2), TDL_OK);
    for (size_t i = 0; i < 8; i++) ck_assert(Y2->data[i] == Yr[i]);
    ck_assert_int_eq(tdl_ntk_targets(reg, 3, Y2), TDL_ESHAPE);
    /* Arora's labels: one target only (this regression set has two columns) */
    double y[4];
    ck_assert_int_eq(tdl_ntk_arora_labels(reg, y), TDL_EINVAL);
    ck_assert_int_eq(tdl_ntk_arora_labels(cls, y), TDL_EINVAL); /* three classes */
    const long long lab2[4] = {1, 0, 0, 1};
    tdl_matrix_view y1v = {Yr, 4, 1, 2, 1};
    tdl_dataset *bin = NULL, *reg1 = NULL;
    ck_assert_int_eq(tdl_dataset_from_arrays(xv, lab2, 2, NULL, NULL, &bin), TDL_OK);
    ck_assert_int_eq(tdl_dataset_from_arrays(xv, NULL, 0, &y1v, NULL, &reg1), TDL_OK);
    ck_assert_int_eq(tdl_ntk_arora_labels(bin, y), TDL_OK);
    for (size_t i = 0; i < 4; i++) ck_assert(y[i] == (lab2[i] ? 1.0 : -1.0));
    ck_assert_int_eq(tdl_ntk_arora_labels(reg1, y), TDL_OK);
    for (size_t i = 0; i < 4; i++) ck_assert(y[i] == Yr[2 * i]);
    tdl_dataset_free(&bin);
    tdl_dataset_free(&reg1);
    gsl_matrix_free(Y3);
    gsl_matrix_free(Y1);
    gsl_matrix_free(Y2);
    tdl_dataset_free(&cls);
    tdl_dataset_free(&reg);
}
END_TEST

/* H_inf between two row sets: the closed form on unit rows (an equal pair of
 * rows gives exactly 1/2), bit for bit the block of the stacked matrix, and
 * the shape errors. */
START_TEST(test_h_inf_cross)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 23);
    size_t n1 = 7, n2 = 11, d = 6;
    gsl_matrix *X1 = random_matrix(r, n1, d, 1), *X2 = random_matrix(r, n2, d, 1), *H = gsl_matrix_alloc(n1, n2);
    for (size_t t = 0; t < d; t++) gsl_matrix_set(X1, 2, t, gsl_matrix_get(X2, 5, t));
    ck_assert_int_eq(tdl_ntk_h_inf_cross(X1, X2, H), TDL_OK);
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
            double k = 0;
            for (size_t t = 0; t < d; t++) k += gsl_matrix_get(X1, i, t) * gsl_matrix_get(X2, j, t);
            if (k > 1) k = 1;
            double ref = k * (M_PI - acos(k)) / (2 * M_PI);
            ck_assert_msg(fabs(gsl_matrix_get(H, i, j) - ref) <= 1e-14, "H[%zu,%zu] %.17g vs %.17g", i, j,
                          gsl_matrix_get(H, i, j), ref);
        }
    ck_assert(gsl_matrix_get(H, 2, 5) == 0.5);
    gsl_matrix *Xs = gsl_matrix_alloc(n1 + n2, d), *Hs = gsl_matrix_alloc(n1 + n2, n1 + n2);
    for (size_t i = 0; i < n2; i++)
        for (size_t t = 0; t < d; t++) gsl_matrix_set(Xs, i, t, gsl_matrix_get(X2, i, t));
    for (size_t i = 0; i < n1; i++)
        for (size_t t = 0; t < d; t++) gsl_matrix_set(Xs, n2 + i, t, gsl_matrix_get(X1, i, t));
    ck_assert_int_eq(tdl_ntk_h_inf(Xs, Hs), TDL_OK);
    /* the same pair's entry of the stacked matrix, up to the rounding of the
     * inner product (dgemm here, dsyrk there): |dk| <= d eps |x1| |x2|, times
     * (pi - theta) / 2 pi <= 1/2; the diagonal's angle for an equal row is exact */
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
            double a = 0, b = 0;
            for (size_t t = 0; t < d; t++) {
                a += gsl_matrix_get(X1, i, t) * gsl_matrix_get(X1, i, t);
                b += gsl_matrix_get(X2, j, t) * gsl_matrix_get(X2, j, t);
            }
            double tol = (double)d * DBL_EPSILON * sqrt(a * b) / 2;
            ck_assert_msg(fabs(gsl_matrix_get(H, i, j) - gsl_matrix_get(Hs, n2 + i, j)) <= tol, "H[%zu,%zu] %.17g vs %.17g",
                          i, j, gsl_matrix_get(H, i, j), gsl_matrix_get(Hs, n2 + i, j));
        }
    ck_assert(gsl_matrix_get(Hs, n2 + 2, 5) == 0.5);
    gsl_matrix *Hb = gsl_matrix_alloc(n2, n1), *Xd = gsl_matrix_alloc(n2, d + 1);
    ck_assert_int_eq(tdl_ntk_h_inf_cross(X1, X2, Hb), TDL_ESHAPE);
    ck_assert_int_eq(tdl_ntk_h_inf_cross(X1, Xd, H), TDL_ESHAPE);
    ck_assert_int_eq(tdl_ntk_h_inf_cross(X1, NULL, H), TDL_EINVAL);
    gsl_matrix_free(Hb);
    gsl_matrix_free(Xd);
    gsl_matrix_free(Xs);
    gsl_matrix_free(Hs);
    gsl_matrix_free(X1);
    gsl_matrix_free(X2);
    gsl_matrix_free(H);
    gsl_rng_free(r);
}
END_TEST

static Suite *ntk_suite(void)
{
    Suite *s = suite_create("ntk");
    TCase *du = tcase_create("du_arora");
    tcase_add_test(du, test_h_inf_closed_form);
    tcase_add_test(du, test_h_finite_monte_carlo);
    tcase_add_test(du, test_arora_complexity);
    tcase_add_test(du, test_singular_kernel);
    tcase_add_test(du, test_h_inf_diagonal);
    tcase_add_test(du, test_h_inf_cross);
    suite_add_tcase(s, du);

    TCase *emp = tcase_create("empirical");
    tcase_set_timeout(emp, 120);
    tcase_add_loop_test(emp, test_empirical_golden, 0, NCASES);
    tcase_add_test(emp, test_structured_vs_jacobian);
    tcase_add_test(emp, test_outputs_sum);
    tcase_add_test(emp, test_empirical_errors);
    tcase_add_test(emp, test_names_and_targets);
    suite_add_tcase(s, emp);
    TCase *an = tcase_create("analytic");
    tcase_set_timeout(an, 240);
    tcase_add_test(an, test_dual_maps);
    tcase_add_test(an, test_closed_vs_quadrature);
    tcase_add_test(an, test_analytic_closed_form);
    tcase_add_test(an, test_large_variance);
    suite_add_tcase(s, an);
    TCase *mp = tcase_create("closed_forms_mp");
    tcase_set_timeout(mp, 60);
    tcase_add_test(mp, test_closed_forms_mp);
    suite_add_tcase(s, mp);
    TCase *mc = tcase_create("monte_carlo");
    tcase_set_timeout(mc, 240);
    tcase_add_test(mc, test_analytic_monte_carlo_shallow);
    tcase_add_test(mc, test_analytic_monte_carlo_deep);
    tcase_add_test(mc, test_monte_carlo_api);
    suite_add_tcase(s, mc);
    TCase *wc = tcase_create("width");
    tcase_set_timeout(wc, 240);
    tcase_add_test(wc, test_width_convergence);
    suite_add_tcase(s, wc);
    TCase *dyn = tcase_create("dynamics");
    tcase_set_timeout(dyn, 120);
    tcase_add_test(dyn, test_predict_vs_training);
    suite_add_tcase(s, dyn);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ntk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
