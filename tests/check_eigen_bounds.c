/* check_eigen_bounds.c — the error bounds of tdl's eigenvalues:
 *   - Lanczos (tdl_lanczos_result.error_bounds): on the Hessian of each of
 *     the 17 golden nets (tests/fixtures/net, net_fixture.h), every value is
 *     within its bound of the exact eigenvalue of the same rank (with the
 *     multiplicity check; without it, of some eigenvalue);
 *   - dense LAPACK (tdl_sym_eigen.error_bound): on matrices whose spectrum is
 *     known exactly, every computed value is within the bound.
 *
 * The exact Hessian spectrum: the matrix of the operator Lanczos sees,
 * assembled from its products with the unit vectors (so both see the same
 * A, products' rounding included), symmetrized, by dsyevd.  Its own error is
 * the dense bound, and symmetrizing moves the eigenvalues by at most
 * ||(H - H^T)/2||_2 <= P max |H - H^T| / 2 (Weyl), so the test allows
 * error_bounds[j] + dense bound + that.
 * "Not vacuous": a converged pair's bound is <= 1e-6 ||H||.
 *
 * Known spectra for the dense bound: A = Q diag(lambda) Q^T with
 * Q = H_u H_w the product of two Householder reflections of +-1 vectors
 * (Q exactly orthogonal, entries +-2/P or 1 - 2/P) and integer lambda in
 * [-40, 40]: every entry of A is a dyadic rational with denominator <= 2^32
 * and magnitude < 2^12, so A is formed exactly in double and its spectrum
 * is lambda exactly.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "tdl/tdl.h"
#include "net_fixture.h"

static int hess_mv(const double *x, double *y, void *ctx)
{
    return tdl_hessian_operator_apply(x, y, ctx);
}

/* rank-matched reference: the k wanted exact values (ascending) */
static void wanted(const double *lambda, size_t P, size_t k, tdl_which which, double *ref)
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

START_TEST(test_lanczos_bounds_golden)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P;
    tdl_hessian_operator *op;
    ck_assert_int_eq(tdl_hessian_operator_create(fx.m, fx.loss, fx.ds, 0, &op), TDL_OK);
    double *H = dalloc(P * P), *e = dalloc(P), *col = dalloc(P);
    for (size_t j = 0; j < P; j++) {
        e[j] = 1.0;
        ck_assert_int_eq(tdl_hessian_operator_apply(e, col, op), TDL_OK);
        for (size_t i = 0; i < P; i++) H[i * P + j] = col[i];
        e[j] = 0.0;
    }
    double asym = 0;
    for (size_t i = 0; i < P; i++)
        for (size_t j = i + 1; j < P; j++) {
            asym = fmax(asym, fabs(H[i * P + j] - H[j * P + i]));
            H[i * P + j] = H[j * P + i] = 0.5 * (H[i * P + j] + H[j * P + i]);
        }
    tdl_sym_eigen ex = {0};
    ck_assert_int_eq(tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &ex), TDL_OK);
    const double norm = ex.norm, slack = ex.error_bound + 0.5 * (double)P * asym;
    const tdl_which whiches[4] = {TDL_WHICH_LARGEST, TDL_WHICH_SMALLEST, TDL_WHICH_MAGNITUDE, TDL_WHICH_LARGEST};
    const unsigned flags[4] = {TDL_LANCZOS_MULTIPLICITY, TDL_LANCZOS_VECTORS | TDL_LANCZOS_MULTIPLICITY,
                               TDL_LANCZOS_VECTORS, TDL_LANCZOS_MULTIPLICITY | TDL_LANCZOS_STOP_ON_BOUND};
    double worst_ratio = 0, worst_bound = 0;
    size_t checked = 0, with_gap = 0;
    for (int w = 0; w < 4; w++) {
        const size_t k = P < 4 ? P : 4;
        tdl_lanczos_result r;
        ck_assert_int_eq(tdl_lanczos(hess_mv, op, P, k, whiches[w], 0, 0, 3, flags[w], &r), TDL_OK);
        double ref[4];
        wanted(ex.values, P, k, whiches[w], ref);
        const int mult = (flags[w] & TDL_LANCZOS_MULTIPLICITY) != 0;
        for (size_t j = 0; j < k; j++) {
            /* With the multiplicity check the bound is about the eigenvalue
             * of the same rank; without it about SOME eigenvalue (a missed
             * copy of a repeated one shifts the ranks: linear_mse_regress,
             * magnitude, whose Hessian repeats every eigenvalue) */
            double err = fabs(r.values[j] - ref[j]);
            if (!mult)
                for (size_t i = 0; i < P; i++) err = fmin(err, fabs(r.values[j] - ex.values[i]));
            ck_assert_msg(r.error_bounds[j] >= 0 && r.error_bounds[j] <= r.residual_bounds[j],
                          "%s: bound %zu = %.3g, residual bound %.3g", fx.name, j, r.error_bounds[j],
                          r.residual_bounds[j]);
            ck_assert_msg(err <= r.error_bounds[j] + slack,
                          "%s %s: |theta - lambda| = %.3g > bound %.3g + %.3g (value %zu, gap %.3g)", fx.name,
                          tdl_which_name(whiches[w]), err, r.error_bounds[j], slack, j, r.gaps[j]);
            if (r.converged)
                ck_assert_msg(r.error_bounds[j] <= 1e-6 * norm, "%s: bound %.3g is vacuous (||H|| = %.3g)", fx.name,
                              r.error_bounds[j], norm);
            worst_ratio = fmax(worst_ratio, err / (r.error_bounds[j] + slack));
            worst_bound = fmax(worst_bound, r.error_bounds[j] / (norm > 0 ? norm : 1));
            checked++;
            if (!isnan(r.gaps[j])) with_gap++;
        }
        tdl_lanczos_result_free(&r);
    }
    printf("eigen_bounds %s (P = %zu): %zu values (%zu with a gap), max |theta - lambda| / (bound + slack) %.2e, max bound / ||H|| "
           "%.2e, slack / ||H|| %.2e\n",
           fx.name, P, checked, with_gap, worst_ratio, worst_bound, slack / (norm > 0 ? norm : 1));
    tdl_sym_eigen_free(&ex);
    tdl_hessian_operator_free(&op);
    free(H);
    free(e);
    free(col);
    fixture_free(&fx);
}
END_TEST

/* A = H_u H_w diag(lambda) H_w H_u, formed exactly (see the top). */
static void exact_matrix(size_t P, unsigned long seed, double *A, double *lambda_sorted)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double *u = dalloc(P), *w = dalloc(P), *lam = dalloc(P), *B = dalloc(P * P), *t = dalloc(P);
    for (size_t i = 0; i < P; i++) {
        u[i] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
        w[i] = gsl_rng_uniform_int(r, 2) ? 1.0 : -1.0;
        lam[i] = (double)((long)gsl_rng_uniform_int(r, 81) - 40);
    }
    gsl_rng_free(r);
    const double c = 2.0 / (double)P; /* P a power of 2: exact */
    /* B = H_w L H_w: B_ij = l_i d_ij - c (l_i + l_j) w_i w_j + c^2 w_i w_j S, S = sum l */
    double S = 0;
    for (size_t i = 0; i < P; i++) S += lam[i];
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++)
            B[i * P + j] = (i == j ? lam[i] : 0.0) - c * (lam[i] + lam[j]) * w[i] * w[j] + c * c * w[i] * w[j] * S;
    /* A = H_u B H_u = B - c u (B u)^T - c (B u) u^T + c^2 (u^T B u) u u^T */
    double uBu = 0;
    for (size_t i = 0; i < P; i++) {
        t[i] = 0;
        for (size_t j = 0; j < P; j++) t[i] += B[i * P + j] * u[j];
        uBu += u[i] * t[i];
    }
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++)
            A[i * P + j] = B[i * P + j] - c * u[i] * t[j] - c * t[i] * u[j] + c * c * uBu * u[i] * u[j];
    for (size_t i = 0; i < P; i++) lambda_sorted[i] = lam[i];
    for (size_t i = 1; i < P; i++) { /* insertion sort */
        double x = lambda_sorted[i];
        size_t j = i;
        while (j > 0 && lambda_sorted[j - 1] > x) {
            lambda_sorted[j] = lambda_sorted[j - 1];
            j--;
        }
        lambda_sorted[j] = x;
    }
    free(u);
    free(w);
    free(lam);
    free(B);
    free(t);
}

START_TEST(test_dense_bound_known_spectrum)
{
    const size_t P = 256;
    double *A0 = dalloc(P * P), *A = dalloc(P * P), *lambda = dalloc(P);
    exact_matrix(P, 41, A0, lambda);
    for (size_t i = 0; i < P; i++) /* exactly symmetric, as formed */
        for (size_t j = 0; j < i; j++) ck_assert(A0[i * P + j] == A0[j * P + i]);
    const size_t ranges[4][2] = {{0, P - 1}, {P - 10, P - 1}, {0, 9}, {100, 130}};
    double worst = 0;
    for (int q = 0; q < 4; q++)
        for (int vec = 0; vec < 2; vec++) {
            memcpy(A, A0, P * P * sizeof(double));
            tdl_sym_eigen e = {0};
            ck_assert_int_eq(tdl_sym_eigen_solve(A, P, ranges[q][0], ranges[q][1], vec, &e), TDL_OK);
            /* ||A||_2 = max |lambda| = 40 at most; the range norm bounds it from above */
            ck_assert(e.norm >= fmax(fabs(lambda[0]), fabs(lambda[P - 1])) * (1 - 1e-12));
            ck_assert(e.error_bound == (double)P * DBL_EPSILON * e.norm);
            for (size_t j = 0; j < e.count; j++) {
                double err = fabs(e.values[j] - lambda[ranges[q][0] + j]);
                ck_assert_msg(err <= e.error_bound, "%s range %zu..%zu: value %zu off by %.3g > bound %.3g", e.driver,
                              ranges[q][0], ranges[q][1], j, err, e.error_bound);
                worst = fmax(worst, err / (DBL_EPSILON * e.norm));
            }
            tdl_sym_eigen_free(&e);
        }
    printf("eigen_bounds dense (P = %zu, known integer spectrum): max |error| = %.2f eps ||A|| (bound: %zu eps ||A||)\n",
           P, worst, P);
    ck_assert(tdl_sym_eigen_error_bound(2.0, 100) == 200 * DBL_EPSILON);
    free(A0);
    free(A);
    free(lambda);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eigen_bounds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_lanczos_bounds_golden, 0, NCASES);
    tcase_add_test(tc, test_dense_bound_known_spectrum);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
