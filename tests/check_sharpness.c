/* check_sharpness.c — the sharpness tracker (tdl/sharpness.h).
 *
 * References:
 *   1. the dense Hessian (tdl_hessian_dense) and LAPACK (tdl_sym_eigen_solve):
 *      the tracker's k values must lie within their error bounds (plus
 *      LAPACK's own bound) of the k largest exact eigenvalues, at the
 *      initial parameters and after the parameters moved;
 *   2. the warm start: after a small move of theta, the tracker (started
 *      from the previous top direction) needs fewer Hessian-vector products
 *      than a fresh tracker (random start) at the same parameters, for the
 *      same tolerance;
 *   3. the refusals (k = 0, k > TDL_SHARPNESS_MAX_K, k > P).
 * Each test prints its observed error beside the tolerance.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/sharpness.h"

/* a 4-6-6-3 tanh net on 40 Gaussian points, 3 classes, mse (P = 93) */
static void make_problem(tdl_mlp **m, tdl_dataset **ds)
{
    ck_assert_int_eq(tdl_dataset_load("gauss:n=40,d=4,classes=3,seed=3", ds), TDL_OK);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 3;
    cfg.widths[0] = 4;
    cfg.widths[1] = 6;
    cfg.widths[2] = 6;
    cfg.widths[3] = 3;
    cfg.act.kind = TDL_ACT_TANH;
    cfg.init = TDL_INIT_XAVIER;
    cfg.seed = 5;
    ck_assert_int_eq(tdl_mlp_create(&cfg, m), TDL_OK);
}

/* The tracker's values against the dense spectrum at m's parameters. */
static void expect_dense(const tdl_mlp *m, const tdl_dataset *ds, const tdl_sharpness *s, const char *when)
{
    const size_t P = m->n_params;
    double *H = malloc(P * P * sizeof(double));
    ck_assert_ptr_nonnull(H);
    ck_assert_int_eq(tdl_hessian_dense(m, TDL_LOSS_MSE, ds, 0, P, H, NULL), TDL_OK);
    tdl_sym_eigen e = {0};
    ck_assert_int_eq(tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &e), TDL_OK);
    for (size_t j = 0; j < s->k; j++) {
        double exact = e.values[P - 1 - j], err = fabs(s->values[j] - exact), tol = s->bounds[j] + e.error_bound;
        printf("sharpness %s: lambda_%zu %.17g vs dense %.17g: error %.3g (bound %.3g)\n", when, j + 1, s->values[j], exact,
               err, tol);
        ck_assert_msg(err <= tol, "%s: lambda_%zu error %g > bound %g", when, j + 1, err, tol);
    }
    tdl_sym_eigen_free(&e);
    free(H);
}

START_TEST(test_matches_dense_and_warm_start)
{
    tdl_mlp *m = NULL;
    tdl_dataset *ds = NULL;
    make_problem(&m, &ds);
    tdl_sharpness_tracker *t = NULL;
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, 3, 0, 1, &t), TDL_OK);
    tdl_sharpness s;
    ck_assert_int_eq(tdl_sharpness_measure(t, &s), TDL_OK);
    ck_assert_uint_eq(s.k, 3);
    ck_assert(s.values[0] >= s.values[1] && s.values[1] >= s.values[2]);
    ck_assert_int_eq(s.converged, 1);
    expect_dense(m, ds, &s, "at init");
    size_t total = s.matvecs;

    /* a small move of theta (a few per mille of each weight's scale): the
     * tracker reads m->theta at each measurement */
    for (size_t i = 0; i < m->n_params; i++) m->theta[i] *= 1.0 + 2e-3 * sin((double)i);
    tdl_sharpness w;
    ck_assert_int_eq(tdl_sharpness_measure(t, &w), TDL_OK);
    expect_dense(m, ds, &w, "after a move");
    total += w.matvecs;
    ck_assert_uint_eq(tdl_sharpness_tracker_products(t), total);

    /* a fresh tracker (random start) at the same parameters: the same values,
     * more products */
    tdl_sharpness_tracker *cold = NULL;
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, 3, 0, 1, &cold), TDL_OK);
    tdl_sharpness c;
    ck_assert_int_eq(tdl_sharpness_measure(cold, &c), TDL_OK);
    printf("sharpness: warm start %zu products, random start %zu\n", w.matvecs, c.matvecs);
    ck_assert_msg(w.matvecs < c.matvecs, "warm start %zu products, random start %zu", w.matvecs, c.matvecs);
    for (size_t j = 0; j < 3; j++) ck_assert(fabs(w.values[j] - c.values[j]) <= w.bounds[j] + c.bounds[j]);
    tdl_sharpness_tracker_free(&cold);
    tdl_sharpness_tracker_free(&t);
    ck_assert_ptr_null(t);
    tdl_sharpness_tracker_free(&t); /* NULL-safe */
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_refusals)
{
    tdl_mlp *m = NULL;
    tdl_dataset *ds = NULL;
    make_problem(&m, &ds);
    tdl_sharpness_tracker *t = NULL;
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, 0, 0, 1, &t), TDL_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, TDL_SHARPNESS_MAX_K + 1, 0, 1, &t), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "k = 17") != NULL);
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, 1, -1, 1, &t), TDL_EINVAL);
    ck_assert_int_eq(tdl_sharpness_tracker_create(m, TDL_LOSS_MSE, ds, 1, NAN, 1, &t), TDL_EINVAL);
    ck_assert_ptr_null(t);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *sharpness_suite(void)
{
    Suite *s = suite_create("sharpness");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_matches_dense_and_warm_start);
    tcase_add_test(core, test_refusals);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sharpness_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
