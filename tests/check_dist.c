/* check_dist.c — tdl/dist.h on one process, without a launcher (every build,
 * with or without MPI; tests/cli/test_mpi.sh runs the ranks).
 *
 *   1. one process: rank 0 of 1, not active, the collectives are no-ops and
 *      tdl_dist_agree returns the status it is given;
 *   2. the data-parallel Hessian operator on one rank is the plain operator:
 *      H x and G x equal bit for bit (the same code on the same data);
 *   3. tdl_dist_landscape_eval on one rank is tdl_landscape_eval, bit for bit;
 *   4. the solvers that need ranks refuse with one clear message: "runs
 *      under an MPI launcher" (MPI built in) or "built without MPI".
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/dist.h"

static void make_problem(tdl_mlp **m, tdl_dataset **ds)
{
    ck_assert_int_eq(tdl_dataset_load("gauss:n=40,d=4,classes=3,seed=3", ds), TDL_OK);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 2;
    cfg.widths[0] = 4;
    cfg.widths[1] = 6;
    cfg.widths[2] = 3;
    cfg.act.kind = TDL_ACT_TANH;
    cfg.seed = 5;
    ck_assert_int_eq(tdl_mlp_create(&cfg, m), TDL_OK);
}

START_TEST(test_one_process)
{
    ck_assert_int_eq(tdl_dist_init(), TDL_OK);
    ck_assert_int_eq(tdl_dist_active(), 0);
    ck_assert_uint_eq(tdl_dist_rank(), 0);
    ck_assert_uint_eq(tdl_dist_size(), 1);
    double x[3] = {1, 2, 3};
    ck_assert_int_eq(tdl_dist_allreduce_sum(x, 3), TDL_OK);
    ck_assert(x[0] == 1 && x[1] == 2 && x[2] == 3);
    ck_assert_int_eq(tdl_dist_bcast(x, sizeof x, 0), TDL_OK);
    ck_assert_int_eq(tdl_dist_barrier(), TDL_OK);
    ck_assert_int_eq(tdl_dist_agree(TDL_ENOMEM), TDL_ENOMEM);
    ck_assert_int_eq(tdl_dist_agree(TDL_OK), TDL_OK);
    ck_assert_int_eq(tdl_dist_failure_agreed(), 0);
}
END_TEST

START_TEST(test_operator_is_the_plain_one)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    make_problem(&m, &ds);
    size_t P = m->n_params;
    tdl_hessian_operator *one;
    tdl_dist_hessian_operator *dist;
    ck_assert_int_eq(tdl_hessian_operator_create(m, TDL_LOSS_CE, ds, 0, &one), TDL_OK);
    ck_assert_int_eq(tdl_dist_hessian_operator_create(m, TDL_LOSS_CE, ds, 0, &dist), TDL_OK);
    ck_assert_uint_eq(tdl_dist_hessian_operator_dim(dist), P);
    double *x = malloc(P * sizeof(double)), *y1 = malloc(P * sizeof(double)), *y2 = malloc(P * sizeof(double));
    for (size_t i = 0; i < P; i++) x[i] = sin((double)i + 0.5);
    for (int gn = 0; gn < 2; gn++) {
        tdl_hessian_operator_set_gauss_newton(one, gn);
        tdl_dist_hessian_operator_set_gauss_newton(dist, gn);
        ck_assert_int_eq(tdl_hessian_operator_apply(x, y1, one), TDL_OK);
        ck_assert_int_eq(tdl_dist_hessian_operator_apply(x, y2, dist), TDL_OK);
        ck_assert_msg(memcmp(y1, y2, P * sizeof(double)) == 0, "%s x differs on one rank", gn ? "G" : "H");
    }
    /* a layer's block */
    size_t off, len;
    tdl_layer_range(m, 1, &off, &len);
    ck_assert_int_eq(tdl_hessian_operator_set_block(one, off, len), TDL_OK);
    ck_assert_int_eq(tdl_dist_hessian_operator_set_block(dist, off, len), TDL_OK);
    ck_assert_uint_eq(tdl_dist_hessian_operator_dim(dist), len);
    ck_assert_int_eq(tdl_hessian_operator_apply(x, y1, one), TDL_OK);
    ck_assert_int_eq(tdl_dist_hessian_operator_apply(x, y2, dist), TDL_OK);
    ck_assert(memcmp(y1, y2, len * sizeof(double)) == 0);
    ck_assert_uint_eq(tdl_dist_hessian_operator_products(dist), 3);
    ck_assert_int_eq(tdl_dist_hessian_operator_set_block(dist, P, 1), TDL_EINVAL);
    free(x);
    free(y1);
    free(y2);
    tdl_hessian_operator_free(&one);
    tdl_dist_hessian_operator_free(&dist);
    ck_assert_ptr_null(dist);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_landscape_is_the_plain_one)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    make_problem(&m, &ds);
    size_t P = m->n_params, N = 12;
    double *d = malloc(P * sizeof(double)), coef[24], l1[12], a1[12], l2[12], a2[12];
    ck_assert_int_eq(tdl_direction_random(m, 1, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d), TDL_OK);
    const double *basis[2] = {m->theta, d};
    for (size_t c = 0; c < N; c++) {
        coef[2 * c] = 1;
        coef[2 * c + 1] = -1 + 2.0 * (double)c / (double)(N - 1);
    }
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, N, coef, NULL, 1, l1, a1), TDL_OK);
    ck_assert_int_eq(tdl_dist_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, N, coef, NULL, 1, l2, a2), TDL_OK);
    ck_assert(memcmp(l1, l2, sizeof l1) == 0 && memcmp(a1, a2, sizeof a1) == 0);
    free(d);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_refusals_without_ranks)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    make_problem(&m, &ds);
    const char *why = tdl_dist_built() ? "runs under an MPI launcher" : "built without MPI";
    tdl_dist_hessian_result r;
    ck_assert_int_eq(tdl_dist_hessian_exact(m, TDL_LOSS_CE, ds, NULL, &r), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), why), "message: %s", tdl_errmsg());
    ck_assert_ptr_null(r.h.values);
    tdl_dist_kernel kern = {.kind = TDL_DIST_KERNEL_NTK_EMPIRICAL, .net = m};
    tdl_dist_gram *G = (tdl_dist_gram *)&kern; /* must come back NULL */
    ck_assert_int_eq(tdl_dist_gram_create(&kern, ds->X, &G), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), why), "message: %s", tdl_errmsg());
    ck_assert_ptr_null(G);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* tdl_dist_kernel_apply on one process: K(Xt, X) A for each kernel kind,
 * against the kernel's own function and a plain triple loop; the sums
 * differ only in order (dgemm in blocks vs the loop): n eps max|K||A| per
 * entry, here 1e-12 of the largest |value|. */
START_TEST(test_kernel_apply_one_process)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    make_problem(&m, &ds);
    size_t n = ds->n, nt = 7, k = 3, d = ds->X->size2;
    gsl_matrix_const_view xt = gsl_matrix_const_submatrix(ds->X, 5, 0, nt, d);
    tdl_ntk_analytic_config ac;
    tdl_ntk_analytic_config_from_mlp(m, &ac);
    double A[40 * 3], out[7 * 3];
    for (size_t i = 0; i < n * k; i++) A[i] = sin(0.7 * (double)i + 0.3);
    tdl_dist_kernel kinds[4] = {{.kind = TDL_DIST_KERNEL_NTK_EMPIRICAL, .net = m},
                                {.kind = TDL_DIST_KERNEL_NTK_ANALYTIC, .analytic = &ac},
                                {.kind = TDL_DIST_KERNEL_NNGP_ANALYTIC, .analytic = &ac},
                                {.kind = TDL_DIST_KERNEL_H_INF}};
    gsl_matrix *K = gsl_matrix_alloc(nt, n);
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(tdl_dist_kernel_apply(&kinds[t], &xt.matrix, ds->X, A, k, out), TDL_OK);
        if (t == 0) ck_assert_int_eq(tdl_ntk_empirical(m, &xt.matrix, ds->X, NULL, K), TDL_OK);
        if (t == 1) ck_assert_int_eq(tdl_ntk_analytic(&ac, &xt.matrix, ds->X, NULL, K), TDL_OK);
        if (t == 2) ck_assert_int_eq(tdl_ntk_analytic(&ac, &xt.matrix, ds->X, K, NULL), TDL_OK);
        if (t == 3) ck_assert_int_eq(tdl_ntk_h_inf_cross(&xt.matrix, ds->X, K), TDL_OK);
        double mx = 0, diff = 0;
        for (size_t i = 0; i < nt; i++)
            for (size_t c = 0; c < k; c++) {
                double ref = 0;
                for (size_t j = 0; j < n; j++) ref += gsl_matrix_get(K, i, j) * A[j * k + c];
                mx = fmax(mx, fabs(ref));
                diff = fmax(diff, fabs(ref - out[i * k + c]));
            }
        ck_assert_msg(mx > 0 && diff <= 1e-12 * mx, "kind %d: %.3g of %.3g", t, diff, mx);
    }
    /* shapes */
    gsl_matrix *Xbad = gsl_matrix_calloc(3, d + 1);
    ck_assert_int_eq(tdl_dist_kernel_apply(&kinds[0], Xbad, ds->X, A, k, out), TDL_ESHAPE);
    gsl_matrix_free(Xbad);
    gsl_matrix_free(K);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* The memory guard's cap per process (tdl/memory.h): TDL_MEMORY_LIMIT with
 * its suffixes, a refusal that names both sizes, and text that is not a
 * size ignored. */
START_TEST(test_memory_limit)
{
    size_t free_now = tdl_memory_available();
    ck_assert_int_eq(setenv("TDL_MEMORY_LIMIT", "1M", 1), 0);
    ck_assert_uint_eq(tdl_memory_available(), free_now < 1048576 ? free_now : 1048576);
    ck_assert_int_eq(tdl_memory_require(1024, 1024, 0, "a test block"), TDL_OK);
    ck_assert_int_eq(tdl_memory_require(1025, 1024, 0, "a test block"), TDL_ETOOBIG);
    ck_assert_msg(strstr(tdl_errmsg(), "a test block needs 0.00105 GB but 0.00105 GB are available"), "%s", tdl_errmsg());
    ck_assert_int_eq(setenv("TDL_MEMORY_LIMIT", "0.5k", 1), 0);
    ck_assert_uint_eq(tdl_memory_available(), 512);
    ck_assert_int_eq(setenv("TDL_MEMORY_LIMIT", "2GB", 1), 0);
    ck_assert_uint_le(tdl_memory_available(), (size_t)2 << 30);
    ck_assert_int_eq(setenv("TDL_MEMORY_LIMIT", "lots", 1), 0);
    ck_assert_uint_gt(tdl_memory_available(), 512);
    ck_assert_int_eq(unsetenv("TDL_MEMORY_LIMIT"), 0);
}
END_TEST

static Suite *dist_suite(void)
{
    Suite *s = suite_create("dist");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_one_process);
    tcase_add_test(core, test_operator_is_the_plain_one);
    tcase_add_test(core, test_landscape_is_the_plain_one);
    tcase_add_test(core, test_refusals_without_ranks);
    tcase_add_test(core, test_kernel_apply_one_process);
    tcase_add_test(core, test_memory_limit);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dist_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
