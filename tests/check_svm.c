/* check_svm.c — the hard-margin linear SVM (tdl/svm.h) against max-margin
 * separators known in closed form: a 2-D set solved by hand, and random
 * sets built around a planted direction with the KKT conditions holding by
 * construction (support vectors z_s = y_s x_s with z_s^T w* = gamma and
 * w* in their positive cone, every other point at margin >= 2 gamma: the
 * max-margin vector is then w* / gamma exactly), and SciPy's solution of
 * the primal QP (tests/fixtures/svm/).  Also: the bias as an
 * augmented constant feature, the label-order convention, non-separable
 * data reported (not an error), and every error path.
 *
 * Tolerances.  LIBLINEAR's dual coordinate descent is run to eps = 1e-12 on
 * problems with O(1) data: its weights agree with the exact solution to
 * ~1e-9 and the library's own hard-margin tolerance is 1e-6, so 1e-6 is
 * the bound on every difference to the closed form (a wrong solution, e.g.
 * the soft margin at a small C, misses by > 1e-2). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "tdl/tdl.h"
#include "tdl/svm.h"

static tdl_dataset *make_set(size_t n, size_t d, const double *X, const size_t *labels)
{
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_dataset_create(n, d, 2, 0, &ds), TDL_OK);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, X[i * d + j]);
        ds->labels[i] = labels[i];
    }
    return ds;
}

/* 2-D, solved by hand: z1 = (1, 1), z2 = (1, -1) are the support vectors
 * (w = (1, 0) = (z1 + z2) / 2, alpha = (1/2, 1/2) > 0, margins 1), the
 * other points have margins 3.  Labels 1 (+1) and 0 (-1). */
static const double hand_X[] = {1, 1, -1, 1, 3, 0.5, -3, -2};
static const size_t hand_y[] = {1, 0, 1, 0};

START_TEST(test_hand_2d)
{
    tdl_dataset *ds = make_set(4, 2, hand_X, hand_y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result r;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    ck_assert_uint_eq(r.d, 2);
    ck_assert_double_eq_tol(r.w[0], 1.0, 1e-6);
    ck_assert_double_eq_tol(r.w[1], 0.0, 1e-6);
    ck_assert_double_eq(r.b, 0.0);
    ck_assert_double_eq_tol(r.min_margin, 1.0, 1e-6);
    ck_assert_double_eq_tol(r.geometric_margin, 1.0, 1e-6);
    ck_assert_double_le(r.direction_change, 1e-6);
    ck_assert_uint_eq(r.n_support, 2);
    ck_assert_uint_eq(r.n_violations, 0);
    ck_assert_uint_eq(r.n_misclassified, 0);
    ck_assert_int_eq(r.hard, 1);
    ck_assert_double_eq(r.C, 10 * cfg.C);
    tdl_svm_result_free(&r);
    ck_assert_ptr_null(r.w);
    tdl_svm_result_free(&r); /* idempotent */

    /* A small C gives the soft margin, which is not hard: 10 C = 0.1 < alpha = 1/2. */
    cfg.C = 0.01;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    ck_assert_int_eq(r.hard, 0);
    ck_assert_double_lt(r.min_margin, 1 - 1e-2);
    tdl_svm_result_free(&r);
    tdl_dataset_free(&ds);
}
END_TEST

/* The first example of class 0 (LIBLINEAR's first label -1) gives the same
 * separator: the sign convention f > 0 <=> class 1 is kept. */
START_TEST(test_label_order)
{
    const double X[] = {-1, 1, 1, 1, 3, 0.5, -3, -2};
    const size_t y[] = {0, 1, 1, 0};
    tdl_dataset *ds = make_set(4, 2, X, y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result r;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    ck_assert_double_eq_tol(r.w[0], 1.0, 1e-6);
    ck_assert_double_eq_tol(r.w[1], 0.0, 1e-6);
    ck_assert_int_eq(r.hard, 1);
    tdl_svm_result_free(&r);
    tdl_dataset_free(&ds);
}
END_TEST

/* Planted max-margin direction in d dimensions (see the header). */
START_TEST(test_planted)
{
    const size_t d = 2 + (size_t)_i, n = 30;
    const double gamma = 0.5;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7 + (unsigned long)_i);
    double ws[8], X[30 * 8];
    size_t y[30];
    double nrm = 0;
    for (size_t j = 0; j < d; j++) { ws[j] = gsl_ran_gaussian(rng, 1); nrm += ws[j] * ws[j]; }
    for (size_t j = 0; j < d; j++) ws[j] /= sqrt(nrm);
    /* Support vectors: gamma ws + v_s with v_s = P e_s - mean (a simplex
     * centred at 0 in the complement of ws, sum_s v_s = 0), so w* = ws is in
     * the cone of the z_s with equal weights. */
    double V[8][8] = {{0}};
    for (size_t s = 0; s < d; s++) {
        double e[8] = {0};
        e[s] = 1;
        double p = 0;
        for (size_t j = 0; j < d; j++) p += ws[j] * e[j];
        for (size_t j = 0; j < d; j++) V[s][j] = e[j] - p * ws[j];
    }
    for (size_t j = 0; j < d; j++) {
        double m = 0;
        for (size_t s = 0; s < d; s++) m += V[s][j];
        for (size_t s = 0; s < d; s++) V[s][j] -= m / (double)d;
    }
    for (size_t i = 0; i < n; i++) {
        double z[8], a;
        if (i < d) {
            for (size_t j = 0; j < d; j++) z[j] = gamma * ws[j] + V[i][j];
        } else {
            a = gamma * (2 + gsl_ran_exponential(rng, 1));
            double g[8], p = 0;
            for (size_t j = 0; j < d; j++) { g[j] = gsl_ran_gaussian(rng, 1); p += g[j] * ws[j]; }
            for (size_t j = 0; j < d; j++) z[j] = a * ws[j] + g[j] - p * ws[j];
        }
        double s = gsl_rng_uniform(rng) < 0.5 ? -1 : 1;
        if (i == 0) s = -1;
        if (i == 1) s = 1;
        for (size_t j = 0; j < d; j++) X[i * d + j] = s * z[j];
        y[i] = s > 0 ? 1 : 0;
    }
    tdl_dataset *ds = make_set(n, d, X, y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result r;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    for (size_t j = 0; j < d; j++) ck_assert_double_eq_tol(r.w[j], ws[j] / gamma, 1e-6);
    ck_assert_double_eq_tol(r.geometric_margin, gamma, 1e-6);
    ck_assert_uint_eq(r.n_support, d);
    ck_assert_int_eq(r.hard, 1);
    tdl_svm_result_free(&r);
    tdl_dataset_free(&ds);
    gsl_rng_free(rng);
}
END_TEST

/* The bias: the SVM with a bias on X equals the homogeneous SVM of the
 * inputs augmented with the constant 1. */
START_TEST(test_bias_is_augmentation)
{
    const double X[] = {2, 3, 1, 4, 3, 1.5, 5, 2, 0, 0.5, -1, 2, 0.5, -1, 1, 0};
    const size_t y[] = {1, 1, 1, 1, 0, 0, 0, 0};
    double Xa[8 * 3];
    for (size_t i = 0; i < 8; i++) {
        Xa[i * 3] = X[i * 2];
        Xa[i * 3 + 1] = X[i * 2 + 1];
        Xa[i * 3 + 2] = 1;
    }
    tdl_dataset *ds = make_set(8, 2, X, y), *da = make_set(8, 3, Xa, y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result rb, ra;
    cfg.bias = 1;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &rb), TDL_OK);
    cfg.bias = 0;
    ck_assert_int_eq(tdl_svm_max_margin(da, &cfg, &ra), TDL_OK);
    ck_assert_int_eq(rb.hard, 1);
    ck_assert_int_eq(ra.hard, 1);
    ck_assert_double_eq_tol(rb.w[0], ra.w[0], 1e-6);
    ck_assert_double_eq_tol(rb.w[1], ra.w[1], 1e-6);
    ck_assert_double_eq_tol(rb.b, ra.w[2], 1e-6);
    ck_assert_double_ne(rb.b, 0.0);
    ck_assert_double_eq_tol(rb.min_margin, 1.0, 1e-6);
    /* Without a bias these data do not separate ((0, 0.5) and (1, 0) of
     * class 0 force w < 0 on both coordinates, and (2, 3) of class 1 then
     * gets f < 0): the homogeneous SVM says so. */
    tdl_svm_result r0;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r0), TDL_OK);
    ck_assert_int_eq(r0.hard, 0);
    ck_assert_uint_ge(r0.n_violations, 1);
    tdl_svm_result_free(&r0);
    tdl_svm_result_free(&rb);
    tdl_svm_result_free(&ra);
    tdl_dataset_free(&ds);
    tdl_dataset_free(&da);
}
END_TEST

/* Non-separable: a point of class 0 at (2, 0), inside the class-1 side. */
START_TEST(test_not_separable)
{
    const double X[] = {1, 1, -1, 1, 3, 0.5, -3, -2, 2, 0};
    const size_t y[] = {1, 0, 1, 0, 0};
    tdl_dataset *ds = make_set(5, 2, X, y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result r;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    ck_assert_int_eq(r.hard, 0);
    ck_assert_double_lt(r.min_margin, 0.0);
    ck_assert_uint_ge(r.n_violations, 1);
    ck_assert_uint_ge(r.n_misclassified, 1);
    tdl_svm_result_free(&r);
    tdl_dataset_free(&ds);
}
END_TEST

/* Against an independent solver: SciPy's SLSQP on the primal QP, polished
 * on its active set and KKT-checked (tests/fixtures/make_svm_fixtures.py):
 * Gaussian data labelled by a random hyperplane, with and without a bias. */
START_TEST(test_scipy_qp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/svm/case_%d.txt", TDL_TEST_FIXTURES, _i);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n, d;
    int bias;
    ck_assert_int_eq(fscanf(f, "%zu %zu %d", &n, &d, &bias), 3);
    ck_assert(n <= 64 && d <= 8);
    double X[64 * 8], w_ref[8], b_ref;
    size_t y[64];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) ck_assert_int_eq(fscanf(f, "%lf", &X[i * d + j]), 1);
        ck_assert_int_eq(fscanf(f, "%zu", &y[i]), 1);
    }
    for (size_t j = 0; j < d; j++) ck_assert_int_eq(fscanf(f, "%lf", &w_ref[j]), 1);
    ck_assert_int_eq(fscanf(f, "%lf", &b_ref), 1);
    fclose(f);
    tdl_dataset *ds = make_set(n, d, X, y);
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    cfg.bias = bias;
    tdl_svm_result r;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_OK);
    /* Case 1 (a bias, inputs centred at 1.5: the constant feature is
     * strongly correlated with the others) is ill-conditioned for
     * LIBLINEAR 2.3's dual coordinate descent, which stops after its 1000
     * passes short of the optimum (min margin ~0.996, w off by ~5e-3):
     * the contract is that it then says so (hard = 0), never that it
     * returns such a solution as the hard margin.  Cases 0 and 2 converge. */
    if (_i != 1) ck_assert_int_eq(r.hard, 1);
    if (r.hard) {
        for (size_t j = 0; j < d; j++) ck_assert_double_eq_tol(r.w[j], w_ref[j], 1e-6);
        ck_assert_double_eq_tol(r.b, b_ref, 1e-6);
        ck_assert_double_eq_tol(r.min_margin, 1.0, 1e-6);
    } else {
        double dev = fabs(r.b - b_ref);
        for (size_t j = 0; j < d; j++) dev = fmax(dev, fabs(r.w[j] - w_ref[j]));
        ck_assert_msg(dev > 1e-6, "a solution within 1e-6 of the optimum was not reported hard");
        ck_assert(r.min_margin < 1 - cfg.tol || r.direction_change > cfg.tol);
    }
    tdl_svm_result_free(&r);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_errors)
{
    tdl_svm_config cfg;
    tdl_svm_config_default(&cfg);
    tdl_svm_result r;
    tdl_dataset *ds = make_set(4, 2, hand_X, hand_y);
    tdl_svm_config bad = cfg;
    bad.C = 0;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &bad, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "C = 0"));
    ck_assert_ptr_null(r.w);
    bad = cfg;
    bad.eps = -1;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &bad, &r), TDL_EINVAL);
    bad = cfg;
    bad.tol = 0;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &bad, &r), TDL_EINVAL);
    /* one class only */
    for (size_t i = 0; i < 4; i++) ds->labels[i] = 1;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "class 0 has no example"));
    tdl_dataset_free(&ds);
    /* three classes */
    ck_assert_int_eq(tdl_dataset_create(3, 2, 3, 0, &ds), TDL_OK);
    for (size_t i = 0; i < 3; i++) ds->labels[i] = i;
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "two classes"));
    tdl_dataset_free(&ds);
    /* regression */
    ck_assert_int_eq(tdl_dataset_create(3, 2, 0, 1, &ds), TDL_OK);
    ck_assert_int_eq(tdl_svm_max_margin(ds, &cfg, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "regression"));
    tdl_dataset_free(&ds);
    ck_assert_int_ge(tdl_svm_liblinear_version(), 200);
}
END_TEST

static Suite *svm_suite(void)
{
    Suite *s = suite_create("svm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hand_2d);
    tcase_add_test(tc, test_label_order);
    tcase_add_loop_test(tc, test_planted, 0, 4);
    tcase_add_test(tc, test_bias_is_augmentation);
    tcase_add_loop_test(tc, test_scipy_qp, 0, 3);
    tcase_add_test(tc, test_not_separable);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(svm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
