/* check_hessian.c — dense Hessians, Gauss-Newton split, layer blocks and
 * eigen-solves (tdl/hessian.h) against PyTorch golden values, against the
 * column-by-column R-operator assembly, closed forms and eigen residuals. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "tdl/tdl.h"
#include "net_fixture.h"

/* As in check_net.c: normwise, both codes backward stable, a few n P eps. */
#define GOLD_TOL 1e-10
/* Structured (BLAS-3 closed form) against column (R-operator) assembly: the
 * same exact quantity through different summation orders; n P eps with
 * n P <= 3e5 gives ~7e-11, we ask 1e-11 relative to max |H| which the
 * observed ~1e-15 meets by far while any wrong term (O(1)) fails. */
#define ASSEMBLY_TOL 1e-11

START_TEST(test_golden_dense)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    double *H = dalloc(fx.P * fx.P), *G = dalloc(fx.P * fx.P);
    ck_assert_msg(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, fx.P, H, G) == TDL_OK, "%s", tdl_errmsg());
    double eh = rel_err(H, fx.H, fx.P * fx.P), eg = rel_err(G, fx.G, fx.P * fx.P);
    ck_assert_msg(eh <= GOLD_TOL, "%s: dense H rel error %.2e", fx.name, eh);
    ck_assert_msg(eg <= GOLD_TOL, "%s: dense G rel error %.2e", fx.name, eg);
    /* H alone and G alone give the same as together */
    double *H2 = dalloc(fx.P * fx.P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, fx.P, H2, NULL), TDL_OK);
    ck_assert_int_eq(memcmp(H, H2, fx.P * fx.P * sizeof(double)), 0);
    free(H);
    free(G);
    free(H2);
    fixture_free(&fx);
}
END_TEST

/* Layer blocks equal the corresponding sub-blocks of the full matrices. */
START_TEST(test_layer_blocks)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P;
    double *H = dalloc(P * P), *G = dalloc(P * P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, P, H, G), TDL_OK);
    for (size_t l = 0; l < fx.m->depth; l++) {
        size_t off, len;
        tdl_layer_range(fx.m, l, &off, &len);
        double *Hb = dalloc(len * len), *Gb = dalloc(len * len), *ref = dalloc(len * len);
        ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, off, len, Hb, Gb), TDL_OK);
        for (size_t i = 0; i < len; i++)
            for (size_t j = 0; j < len; j++) ref[i * len + j] = H[(off + i) * P + off + j];
        ck_assert_msg(rel_err(Hb, ref, len * len) <= 1e-14, "%s layer %zu: H block", fx.name, l);
        for (size_t i = 0; i < len; i++)
            for (size_t j = 0; j < len; j++) ref[i * len + j] = G[(off + i) * P + off + j];
        ck_assert_msg(rel_err(Gb, ref, len * len) <= 1e-14, "%s layer %zu: G block", fx.name, l);
        free(Hb);
        free(Gb);
        free(ref);
    }
    free(H);
    free(G);
    fixture_free(&fx);
}
END_TEST

/* Shallow nets of a larger size: the structured assembly against columns of
 * exact Hessian-vector products, for several activations, both
 * parametrizations, with and without biases, and every loss. */
START_TEST(test_structured_vs_columns)
{
    static const struct { const char *arch, *act, *data, *loss; int param_ntk, bias; } cases[] = {
        {"6-20-3", "tanh", "gauss:n=300,d=6,classes=3", "ce", 0, 1},
        {"6-20-3", "relu", "gauss:n=300,d=6,classes=3", "mse", 0, 1},
        {"6-15-3", "softplus", "gauss:n=250,d=6,classes=3", "hinge", 1, 1},
        {"6-15-1", "gelu", "gauss:n=200,d=6,classes=2", "logistic", 0, 0},
        {"10-12-1", "erf", "teacher:n=150,d=10,k=3", "mse", 1, 1},
        {"6-3", "identity", "gauss:n=120,d=6,classes=3", "ce", 0, 1},
    };
    size_t k = (size_t)_i;
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(cases[k].arch, &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse(cases[k].act, &cfg.act), TDL_OK);
    cfg.param = cases[k].param_ntk ? TDL_PARAM_NTK : TDL_PARAM_STANDARD;
    cfg.init = cases[k].param_ntk ? TDL_INIT_GAUSSIAN : TDL_INIT_HE;
    cfg.sigma_w = cases[k].param_ntk ? 1.3 : NAN;
    cfg.sigma_b = 0.4;
    cfg.bias = cases[k].bias;
    cfg.seed = 11 + k;
    fixture fx = {0};
    ck_assert_int_eq(tdl_mlp_create(&cfg, &fx.m), TDL_OK);
    ck_assert_int_eq(tdl_dataset_load(cases[k].data, &fx.ds), TDL_OK);
    ck_assert_int_eq(tdl_loss_parse(cases[k].loss, &fx.loss), TDL_OK);
    fx.name = cases[k].arch;
    fx.P = fx.m->n_params;
    fx.n = fx.ds->n;
    tdl_net_work *w = work(fx.m, 64);
    double *Hc = assemble(&fx, w, 0), *Gc = assemble(&fx, w, 1);
    double *H = dalloc(fx.P * fx.P), *G = dalloc(fx.P * fx.P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, fx.P, H, G), TDL_OK);
    double eh = rel_err(H, Hc, fx.P * fx.P), eg = rel_err(G, Gc, fx.P * fx.P);
    ck_assert_msg(eh <= ASSEMBLY_TOL, "%s %s %s: H structured vs columns %.2e", cases[k].arch, cases[k].act, cases[k].loss, eh);
    ck_assert_msg(eg <= ASSEMBLY_TOL, "%s %s %s: G structured vs columns %.2e", cases[k].arch, cases[k].act, cases[k].loss, eg);
    /* symmetry of the structured result is exact by construction */
    for (size_t i = 0; i < fx.P; i++)
        for (size_t j = 0; j < i; j++) ck_assert(H[i * fx.P + j] == H[j * fx.P + i]);
    free(H);
    free(G);
    free(Hc);
    free(Gc);
    tdl_net_work_free(&w);
    tdl_mlp_free(&fx.m);
    tdl_dataset_free(&fx.ds);
}
END_TEST

/* Linear model, mse: H = G = (1/n) sum_i x~_i x~_i^T (x) I_C in the flat
 * order W (C x d row-major) then b, x~ = [x, 1]. */
START_TEST(test_linear_closed_form)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("5-3", &cfg), TDL_OK);
    tdl_mlp *m;
    tdl_dataset *ds;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    ck_assert_int_eq(tdl_dataset_load("gauss:n=40,d=5,classes=3", &ds), TDL_OK);
    const size_t P = m->n_params, d = 5, C = 3, n = ds->n;
    double *H = dalloc(P * P), *ref = dalloc(P * P);
    ck_assert_int_eq(tdl_hessian_dense(m, TDL_LOSS_MSE, ds, 0, P, H, NULL), TDL_OK);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j <= d; j++)
            for (size_t k = 0; k <= d; k++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) {
                    double xj = j < d ? gsl_matrix_get(ds->X, i, j) : 1.0;
                    double xk = k < d ? gsl_matrix_get(ds->X, i, k) : 1.0;
                    s += xj * xk;
                }
                size_t r = j < d ? c * d + j : C * d + c, q = k < d ? c * d + k : C * d + c;
                ref[r * P + q] = s / (double)n;
            }
    ck_assert_msg(rel_err(H, ref, P * P) <= 4 * (double)n * DBL_EPSILON, "linear closed form %.2e", rel_err(H, ref, P * P));
    free(H);
    free(ref);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* Eigen-solves: ascending values, residuals ||H v - lambda v|| <= c P eps ||H||,
 * orthonormal vectors, a range solve equals the slice of the full one. */
START_TEST(test_eigen)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P;
    double *H = dalloc(P * P), *A = dalloc(P * P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, P, H, NULL), TDL_OK);
    double norm = 0; /* Frobenius bounds the 2-norm */
    for (size_t i = 0; i < P * P; i++) norm += H[i] * H[i];
    norm = sqrt(norm);
    memcpy(A, H, P * P * sizeof(double));
    tdl_sym_eigen e, ev, er;
    ck_assert_int_eq(tdl_sym_eigen_solve(A, P, 0, P - 1, 0, &e), TDL_OK);
    memcpy(A, H, P * P * sizeof(double));
    ck_assert_int_eq(tdl_sym_eigen_solve(A, P, 0, P - 1, 1, &ev), TDL_OK);
    double tol = 10.0 * (double)P * DBL_EPSILON * (norm > 0 ? norm : 1.0);
    for (size_t j = 0; j < P; j++) {
        if (j) ck_assert(e.values[j] >= e.values[j - 1]);
        ck_assert_msg(fabs(e.values[j] - ev.values[j]) <= tol, "values with and without vectors differ");
        double res = 0, nv = 0;
        for (size_t i = 0; i < P; i++) {
            double hv = 0;
            for (size_t k = 0; k < P; k++) hv += H[i * P + k] * ev.vectors[j * P + k];
            res += pow(hv - ev.values[j] * ev.vectors[j * P + i], 2);
            nv += ev.vectors[j * P + i] * ev.vectors[j * P + i];
        }
        ck_assert_msg(sqrt(res) <= tol, "%s: residual %.2e > %.2e", fx.name, sqrt(res), tol);
        ck_assert_double_eq_tol(nv, 1.0, 1e-12);
    }
    /* top 3 by index range (dsyevr) */
    size_t k = P < 3 ? P : 3;
    memcpy(A, H, P * P * sizeof(double));
    ck_assert_int_eq(tdl_sym_eigen_solve(A, P, P - k, P - 1, 1, &er), TDL_OK);
    ck_assert_uint_eq(er.count, k);
    for (size_t j = 0; j < k; j++) ck_assert_msg(fabs(er.values[j] - e.values[P - k + j]) <= tol, "range solve");
    tdl_sym_eigen_free(&e);
    tdl_sym_eigen_free(&ev);
    tdl_sym_eigen_free(&er);
    free(H);
    free(A);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_errors)
{
    tdl_errclear();
    ck_assert_int_eq(tdl_dense_memory_check((size_t)1 << 40, 1, 0, "the dense Hessian"), TDL_ETOOBIG);
    /* the library says what is wrong in its own terms; the CLI adds the advice */
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "the dense Hessian needs inf GB (1099511627776 x 1099511627776 doubles x 1) but "));
    ck_assert_ptr_null(strstr(tdl_errmsg(), "--"));
    ck_assert_int_eq(tdl_dense_memory_check(100, 2, 0, "x"), TDL_OK);
    /* the one guard: count * size + extra, overflow-checked */
    ck_assert_int_eq(tdl_memory_require(1000, 8, 24, "a small thing"), TDL_OK);
    ck_assert_int_eq(tdl_memory_require(SIZE_MAX / 4, 8, 0, "an overflow"), TDL_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "an overflow needs inf GB but "));
    ck_assert_int_eq(tdl_memory_require(1, 8, SIZE_MAX - 4, "an overflow of extra"), TDL_ETOOBIG);
    size_t avail = tdl_memory_available();
    if (avail < SIZE_MAX / 2) {
        ck_assert_int_eq(tdl_memory_require(avail / 8 + 1, 8, 0, "one byte too many"), TDL_ETOOBIG);
        ck_assert_ptr_nonnull(strstr(tdl_errmsg(), " GB are available"));
    }
    ck_assert_int_eq(tdl_memory_require_detail(SIZE_MAX, 2, 0, "a grid", "80 bytes a cell"), TDL_ETOOBIG);
    ck_assert_str_eq(strstr(tdl_errmsg(), "a grid needs inf GB (80 bytes a cell) but ") ? "found" : tdl_errmsg(), "found");
    double A[4] = {1, NAN, NAN, 1};
    tdl_sym_eigen e;
    ck_assert_int_eq(tdl_sym_eigen_solve(A, 2, 0, 1, 0, &e), TDL_ENONFINITE);
    double B[4] = {1, 0, 0, 1};
    ck_assert_int_eq(tdl_sym_eigen_solve(B, 2, 1, 0, 0, &e), TDL_EINVAL);
    ck_assert_int_eq(tdl_sym_eigen_solve(B, 2, 0, 2, 0, &e), TDL_EINVAL);
    fixture fx;
    fixture_load(case_names[0], &fx);
    double *H = dalloc(fx.P * fx.P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 1, fx.P, H, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, TDL_LOSS_CE, fx.ds, 0, fx.P, H, NULL), TDL_EINVAL); /* regression data */
    free(H);
    fixture_free(&fx);
}
END_TEST

/* The divide-and-conquer solver's non-convergence (simulated by the test
 * hook) falls back to dsyev with the same eigenpairs; when the fallback fails
 * too, the error names the remedy. */
START_TEST(test_eigen_fallback)
{
    /* A = Q diag(1, 2, 5) Q^T with a Householder Q: known eigenvalues. */
    const double lam[3] = {1, 2, 5}, v[3] = {1, 2, 2};  /* Q = I - 2 v v^T / 9 */
    double A[9], M[9];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            double s = 0;
            for (size_t k = 0; k < 3; k++) {
                double qik = (i == k) - 2 * v[i] * v[k] / 9, qjk = (j == k) - 2 * v[j] * v[k] / 9;
                s += qik * lam[k] * qjk;
            }
            A[i * 3 + j] = s;
        }
    for (int want = 0; want <= 1; want++) {
        memcpy(M, A, sizeof A);
        tdl_sym_eigen e;
        setenv("TDL_TEST_EIGEN_FAILURES", "1", 1); /* the test hook of linalg.c: dsyevd "fails" */
        ck_assert_int_eq(tdl_sym_eigen_solve(M, 3, 0, 2, want, &e), TDL_OK);
        unsetenv("TDL_TEST_EIGEN_FAILURES");
        ck_assert_ptr_nonnull(strstr(e.driver, "fallback"));
        for (size_t k = 0; k < 3; k++) ck_assert_double_eq_tol(e.values[k], lam[k], 1e-14 * 5 * 3);
        if (want) /* A v = lambda v for each returned vector */
            for (size_t k = 0; k < 3; k++)
                for (size_t i = 0; i < 3; i++) {
                    double s = 0;
                    for (size_t j = 0; j < 3; j++) s += A[i * 3 + j] * e.vectors[k * 3 + j];
                    ck_assert_double_eq_tol(s, lam[k] * e.vectors[k * 3 + i], 1e-13);
                }
        tdl_sym_eigen_free(&e);
    }
    memcpy(M, A, sizeof A);
    tdl_sym_eigen e;
    setenv("TDL_TEST_EIGEN_FAILURES", "2", 1); /* dsyevd and the dsyev fallback */
    tdl_errclear();
    ck_assert_int_eq(tdl_sym_eigen_solve(M, 3, 0, 2, 0, &e), TDL_ENOCONV);
    unsetenv("TDL_TEST_EIGEN_FAILURES");
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "nor did the dsyev fallback"));
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "ridge"));
    ck_assert_ptr_null(strstr(tdl_errmsg(), "--")); /* the CLI adds "or use --method lanczos" */
    /* without the hook the same matrix solves */
    memcpy(M, A, sizeof A);
    ck_assert_int_eq(tdl_sym_eigen_solve(M, 3, 0, 2, 0, &e), TDL_OK);
    ck_assert_str_eq(e.driver, "dsyevd_2stage");
    tdl_sym_eigen_free(&e);
}
END_TEST

/* The public operator: its products with unit vectors are the columns of the
 * dense H (or G), for the whole net and for each layer's block. */
START_TEST(test_operator)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P;
    double *H = dalloc(P * P), *G = dalloc(P * P), *x = dalloc(P), *y = dalloc(P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, P, H, G), TDL_OK);
    tdl_hessian_operator *op = NULL;
    ck_assert_msg(tdl_hessian_operator_create(fx.m, fx.loss, fx.ds, 0, &op) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(tdl_hessian_operator_dim(op), P);
    double hmax = max_abs(H, P * P), gmax = max_abs(G, P * P);
    for (int gn = 0; gn <= 1; gn++) {
        tdl_hessian_operator_set_gauss_newton(op, gn);
        const double *ref = gn ? G : H;
        double scale = (gn ? gmax : hmax) > 0 ? (gn ? gmax : hmax) : 1;
        for (size_t j = 0; j < P; j++) {
            memset(x, 0, P * sizeof(double));
            x[j] = 1;
            ck_assert_int_eq(tdl_hessian_operator_apply(x, y, op), TDL_OK);
            for (size_t i = 0; i < P; i++)
                ck_assert_msg(fabs(y[i] - ref[i * P + j]) <= 1e-11 * scale, "%s: %s column %zu", fx.name,
                              gn ? "G" : "H", j);
        }
    }
    ck_assert_uint_eq(tdl_hessian_operator_products(op), 2 * P);
    /* the block of the last layer */
    tdl_hessian_operator_set_gauss_newton(op, 0);
    size_t off, len;
    tdl_layer_range(fx.m, fx.m->depth - 1, &off, &len);
    ck_assert_int_eq(tdl_hessian_operator_set_block(op, off, len), TDL_OK);
    ck_assert_uint_eq(tdl_hessian_operator_dim(op), len);
    for (size_t j = 0; j < len; j++) {
        memset(x, 0, len * sizeof(double));
        x[j] = 1;
        ck_assert_int_eq(tdl_hessian_operator_apply(x, y, op), TDL_OK);
        for (size_t i = 0; i < len; i++)
            ck_assert(fabs(y[i] - H[(off + i) * P + off + j]) <= 1e-11 * (hmax > 0 ? hmax : 1));
    }
    ck_assert_int_eq(tdl_hessian_operator_set_block(op, 1, P), TDL_EINVAL);
    ck_assert_int_eq(tdl_hessian_operator_set_block(op, 0, 0), TDL_EINVAL);
    tdl_hessian_operator_free(&op);
    ck_assert_ptr_null(op);
    tdl_hessian_operator_free(&op); /* NULL-safe */
    free(H);
    free(G);
    free(x);
    free(y);
    fixture_free(&fx);
}
END_TEST

/* Residuals of computed pairs are small; of perturbed pairs, the perturbation.
 * Magnitude selection keeps a prefix plus a suffix, ascending. */
START_TEST(test_eigen_helpers)
{
    /* diag(-5, -1, 0.5, 2, 3) rotated by a Householder reflection */
    const double lam[5] = {-5, -1, 0.5, 2, 3}, v[5] = {1, 2, -1, 0.5, 1};
    double A[25], M[25], vv = 0;
    for (int i = 0; i < 5; i++) vv += v[i] * v[i];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            double s = 0;
            for (int k = 0; k < 5; k++) s += ((i == k) - 2 * v[i] * v[k] / vv) * lam[k] * ((j == k) - 2 * v[j] * v[k] / vv);
            A[i * 5 + j] = s;
        }
    memcpy(M, A, sizeof A);
    tdl_sym_eigen e;
    ck_assert_int_eq(tdl_sym_eigen_solve(M, 5, 0, 4, 1, &e), TDL_OK);
    double res[5];
    ck_assert_int_eq(tdl_sym_eigen_residuals(A, &e, res), TDL_OK);
    for (int j = 0; j < 5; j++) ck_assert(res[j] <= 5 * 5 * DBL_EPSILON * 5);
    e.values[0] += 1e-3; /* ||A v - (lambda + d) v|| = d for a unit v */
    ck_assert_int_eq(tdl_sym_eigen_residuals(A, &e, res), TDL_OK);
    ck_assert_double_eq_tol(res[0], 1e-3, 1e-12);
    e.values[0] -= 1e-3;
    /* the 3 largest |lambda|: -5, 2, 3 */
    double v3[5];
    memcpy(v3, e.vectors + 3 * 5, sizeof v3);
    tdl_sym_eigen_keep_magnitude(&e, 3);
    ck_assert_uint_eq(e.count, 3);
    ck_assert_double_eq_tol(e.values[0], -5, 1e-13);
    ck_assert_double_eq_tol(e.values[1], 2, 1e-13);
    ck_assert_double_eq_tol(e.values[2], 3, 1e-13);
    ck_assert_int_eq(memcmp(e.vectors + 5, v3, sizeof v3), 0); /* the vector of 2 moved with it */
    /* a tie between the ends keeps the positive one */
    double tv[3] = {-2, 0, 2};
    tdl_sym_eigen t = {.dim = 1, .count = 3, .values = tv};
    tdl_sym_eigen_keep_magnitude(&t, 1);
    ck_assert_uint_eq(t.count, 1);
    ck_assert_double_eq(tv[0], 2);
    tdl_sym_eigen_keep_magnitude(&e, 7); /* nothing */
    ck_assert_uint_eq(e.count, 3);
    free(e.vectors);
    e.vectors = NULL;
    ck_assert_int_eq(tdl_sym_eigen_residuals(A, &e, res), TDL_EINVAL);
    tdl_sym_eigen_free(&e);
    /* the LAPACK status wrapper */
    ck_assert_int_eq(tdl_lapack_status(0, "t", "dstev"), TDL_OK);
    ck_assert_int_eq(tdl_lapack_status(-3, "t", "dstev"), TDL_EINVAL);
    ck_assert_int_eq(tdl_lapack_status(2, "t", "dstev"), TDL_ENOCONV);
    ck_assert_str_eq(tdl_errmsg(), "t: LAPACKE_dstev did not converge (info 2)");
    /* tridiagonal: both drivers give the eigenvalues of [[2, 1], [1, 2]] = 1, 3 */
    double d[2] = {2, 2}, ee[2] = {1, 0}, w[2], Z[4];
    int isuppz[4];
    ck_assert_int_eq(tdl_tridiag_eigen(TDL_TRIDIAG_MRRR, 2, d, ee, w, Z, isuppz, "t"), TDL_OK);
    ck_assert_double_eq_tol(w[0], 1, 1e-15);
    ck_assert_double_eq_tol(w[1], 3, 1e-15);
    d[0] = d[1] = 2;
    ee[0] = 1;
    ck_assert_int_eq(tdl_tridiag_eigen(TDL_TRIDIAG_QL, 2, d, ee, NULL, Z, NULL, "t"), TDL_OK);
    ck_assert_double_eq_tol(d[0], 1, 1e-15);
    ck_assert_double_eq_tol(d[1], 3, 1e-15);
    ck_assert_double_eq_tol(fabs(Z[0]), sqrt(0.5), 1e-15);
    ck_assert_int_eq(tdl_tridiag_eigen(TDL_TRIDIAG_QL, 0, d, ee, NULL, Z, NULL, "t"), TDL_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hessian");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_loop_test(core, test_golden_dense, 0, NCASES);
    tcase_add_loop_test(core, test_layer_blocks, 0, NCASES);
    tcase_add_loop_test(core, test_structured_vs_columns, 0, 6);
    tcase_add_test(core, test_linear_closed_form);
    tcase_add_loop_test(core, test_eigen, 0, NCASES);
    tcase_add_loop_test(core, test_operator, 0, NCASES);
    tcase_add_test(core, test_eigen_helpers);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    tcase_add_test(errors, test_eigen_fallback);
    suite_add_tcase(s, errors);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
