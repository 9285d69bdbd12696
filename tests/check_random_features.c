/* check_random_features.c — minimum-norm ridge least squares and
 * random-features regression (tdl/random_features.h).
 *
 * tdl_lstsq_minnorm against NumPy float64 (tests/fixtures/
 * make_random_features_fixtures.py: lstsq with rcond=None, and the ridge
 * normal equations) on tall, wide, square ill-conditioned (cond 1e8) and
 * rank-deficient systems; against closed forms (an orthogonal design with
 * and without ridge, the 1 x 2 min-norm interpolant); the properties that
 * define the solution (normal equations for p < n, interpolation and the
 * row space for p > n); tdl_rf_fit as the same solve on the net's hidden
 * features, its interpolation at p >= n, and its errors.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/random_features.h"

static const char *fixture(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/random_features/%s", TDL_TEST_FIXTURES, name);
    return buf;
}

static double *read_doubles(FILE *fp, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof(double));
    ck_assert(v != NULL);
    char tok[64];
    for (size_t i = 0; i < n; i++) {
        ck_assert(fscanf(fp, "%63s", tok) == 1);
        v[i] = strtod(tok, NULL);
    }
    return v;
}

static double frob(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * a[i];
    return sqrt(s);
}

START_TEST(test_lstsq_golden)
{
    FILE *fp = fopen(fixture("lstsq.txt"), "r");
    ck_assert_msg(fp != NULL, "missing %s (run tests/fixtures/make_random_features_fixtures.py)", fixture("lstsq.txt"));
    char name[64];
    size_t n, p, k, rank, cases = 0;
    double ridge, cond;
    while (fscanf(fp, "%63s %zu %zu %zu %lf %zu %lf", name, &n, &p, &k, &ridge, &rank, &cond) == 7) {
        double *A = read_doubles(fp, n * p), *Y = read_doubles(fp, n * k), *B0 = read_doubles(fp, p * k);
        double *B = malloc(p * k * sizeof(double)), *d = malloc(p * k * sizeof(double));
        ck_assert(B && d);
        tdl_lstsq_info info;
        ck_assert_int_eq(tdl_lstsq_minnorm(A, n, p, Y, k, ridge, -1, B, &info), TDL_OK);
        for (size_t i = 0; i < p * k; i++) d[i] = B[i] - B0[i];
        /* Forward error of a backward-stable least-squares solve: about
         * cond(A) * max(n, p) * eps relative (Higham, Accuracy and
         * Stability, Sec. 20.1; the residual term cond^2 tan(theta) is
         * absent for the ridge solves and the consistent wide systems, and
         * the pseudo-inverse case projects the tiny singular values out, so
         * its effective condition is s_max / s_rank).  Factor 100 for the
         * two solvers' different rounding paths. */
        double c_eff = cond;
        /* rankdef: the effective condition s_1 / s_4 (< 1e2 in the fixture: checked by the script's seed) */
        if (rank < (n < p ? n : p)) c_eff = 1e3;
        /* ridge: the filter s / (s^2 + n ridge) has condition at most (s_max^2 + n ridge) / (n ridge) */
        if (ridge > 0) c_eff = fmin(cond, (info.s_max * info.s_max + (double)n * ridge) / ((double)n * ridge));
        const double tol = 100 * c_eff * (double)(n > p ? n : p) * DBL_EPSILON;
        ck_assert_msg(frob(d, p * k) <= tol * frob(B0, p * k), "%s: ||B - B_numpy|| / ||B_numpy|| = %g > %g", name,
                      frob(d, p * k) / frob(B0, p * k), tol);
        ck_assert_msg(info.rank == rank, "%s: rank %zu, numpy %zu", name, info.rank, rank);
        if (isfinite(cond) && cond < 1e12)
            ck_assert_msg(fabs(info.cond - cond) <= 1e-6 * cond, "%s: cond %.17g, numpy %.17g", name, info.cond, cond);
        ck_assert(fabs(info.coef_norm - frob(B, p * k)) <= 1e-14 * info.coef_norm);
        free(A); free(Y); free(B0); free(B); free(d);
        cases++;
    }
    fclose(fp);
    ck_assert_uint_eq(cases, 7);
}
END_TEST

START_TEST(test_lstsq_closed_form)
{
    /* orthogonal design A = [[2, 0], [0, 1], [0, 0]] (n = 3, p = 2), Y = (1, 2, 3):
     * B = (1/2, 2) at ridge 0; B_j = s_j (U^T Y)_j / (s_j^2 + n ridge) otherwise */
    const double A[6] = {2, 0, 0, 1, 0, 0}, Y[3] = {1, 2, 3};
    double B[2];
    tdl_lstsq_info info;
    ck_assert_int_eq(tdl_lstsq_minnorm(A, 3, 2, Y, 1, 0, -1, B, &info), TDL_OK);
    ck_assert(fabs(B[0] - 0.5) <= 2 * DBL_EPSILON && fabs(B[1] - 2) <= 4 * DBL_EPSILON);
    ck_assert_uint_eq(info.rank, 2);
    ck_assert(fabs(info.cond - 2) <= 4 * DBL_EPSILON);
    const double lam = 0.25;
    ck_assert_int_eq(tdl_lstsq_minnorm(A, 3, 2, Y, 1, lam, -1, B, NULL), TDL_OK);
    ck_assert(fabs(B[0] - 2.0 * 1 / (4 + 3 * lam)) <= 4 * DBL_EPSILON);
    ck_assert(fabs(B[1] - 1.0 * 2 / (1 + 3 * lam)) <= 4 * DBL_EPSILON);
    /* 1 x 2: min ||b|| subject to b1 + b2 = 2 is (1, 1) */
    const double a[2] = {1, 1}, y[1] = {2};
    ck_assert_int_eq(tdl_lstsq_minnorm(a, 1, 2, y, 1, 0, -1, B, &info), TDL_OK);
    ck_assert(fabs(B[0] - 1) <= 4 * DBL_EPSILON && fabs(B[1] - 1) <= 4 * DBL_EPSILON);
    ck_assert(fabs(info.cond - 1) <= 4 * DBL_EPSILON);
    /* a zero matrix: rank 0, B = 0, cond infinite */
    const double z[4] = {0, 0, 0, 0}, y2[2] = {1, 2};
    ck_assert_int_eq(tdl_lstsq_minnorm(z, 2, 2, y2, 1, 0, -1, B, &info), TDL_OK);
    ck_assert(B[0] == 0 && B[1] == 0 && info.rank == 0 && isinf(info.cond));
}
END_TEST

START_TEST(test_lstsq_properties)
{
    /* p < n: A^T (A B - Y) = 0; p > n: A B = Y and B = A^T z (in the row space) */
    const size_t n = 30;
    const size_t ps[2] = {12, 70};
    unsigned long s = 7;
    for (int c = 0; c < 2; c++) {
        size_t p = ps[c];
        double *A = malloc(n * p * sizeof(double)), *Y = malloc(n * sizeof(double)), *B = malloc(p * sizeof(double));
        double *R = malloc(n * sizeof(double));
        ck_assert(A && Y && B && R);
        for (size_t i = 0; i < n * p; i++) { s = s * 6364136223846793005UL + 1442695040888963407UL; A[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5; }
        for (size_t i = 0; i < n; i++) { s = s * 6364136223846793005UL + 1442695040888963407UL; Y[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5; }
        tdl_lstsq_info info;
        ck_assert_int_eq(tdl_lstsq_minnorm(A, n, p, Y, 1, 0, -1, B, &info), TDL_OK);
        ck_assert_uint_eq(info.rank, n < p ? n : p);
        double an = 0;
        for (size_t i = 0; i < n * p; i++) an = fmax(an, fabs(A[i]));
        for (size_t i = 0; i < n; i++) {
            R[i] = -Y[i];
            for (size_t j = 0; j < p; j++) R[i] += A[i * p + j] * B[j];
        }
        const double tol = 1e3 * info.cond * (double)(n + p) * DBL_EPSILON * (1 + info.coef_norm);
        if (p < n) {
            for (size_t j = 0; j < p; j++) {
                double g = 0;
                for (size_t i = 0; i < n; i++) g += A[i * p + j] * R[i];
                ck_assert_msg(fabs(g) <= tol, "normal equation %zu: %g", j, g);
            }
        } else {
            for (size_t i = 0; i < n; i++) ck_assert_msg(fabs(R[i]) <= tol, "interpolation residual %zu: %g", i, R[i]);
            /* B in the row space: the min-norm solution of A b = A B is B itself */
            double *AB = malloc(n * sizeof(double)), *B2 = malloc(p * sizeof(double));
            ck_assert(AB && B2);
            for (size_t i = 0; i < n; i++) AB[i] = R[i] + Y[i];
            ck_assert_int_eq(tdl_lstsq_minnorm(A, n, p, AB, 1, 0, -1, B2, NULL), TDL_OK);
            for (size_t j = 0; j < p; j++) ck_assert(fabs(B2[j] - B[j]) <= tol);
            free(AB); free(B2);
        }
        free(A); free(Y); free(B); free(R);
    }
}
END_TEST

START_TEST(test_rf_fit)
{
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_dataset_load("teacher:n=40,d=5,k=3,seed=3", &ds), TDL_OK);
    const size_t widths[3] = {10, 40, 120};
    for (int c = 0; c < 3; c++) {
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        cfg.depth = 2;
        cfg.widths[0] = 5;
        cfg.widths[1] = widths[c];
        cfg.widths[2] = 1;
        cfg.param = TDL_PARAM_NTK;
        cfg.bias = 0;
        cfg.seed = 11;
        tdl_mlp *m = NULL;
        ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
        ck_assert_uint_eq(tdl_rf_coefficients(m), widths[c]);
        tdl_lstsq_info info;
        ck_assert_int_eq(tdl_rf_fit(m, ds, 0, -1, &info), TDL_OK);
        ck_assert_int_eq(m->layers[0].trainable, 0);
        /* the same solve by hand on tdl_mlp_hidden's features */
        const size_t n = ds->n, p = widths[c];
        double *T = malloc(n * p * sizeof(double)), *Y = malloc(n * sizeof(double)), *B = malloc(p * sizeof(double));
        double *F = malloc(n * sizeof(double));
        ck_assert(T && Y && B && F);
        ck_assert_int_eq(tdl_mlp_hidden(m, ds->X, 0, T), TDL_OK);
        for (size_t i = 0; i < n * p; i++) T[i] *= m->layers[1].w_scale;
        for (size_t i = 0; i < n; i++) Y[i] = gsl_matrix_get(ds->Y, i, 0);
        ck_assert_int_eq(tdl_lstsq_minnorm(T, n, p, Y, 1, 0, -1, B, NULL), TDL_OK);
        for (size_t j = 0; j < p; j++) ck_assert(B[j] == m->theta[m->layers[1].w_off + j]);
        /* p >= n: the fit interpolates (mse ~ (cond eps)^2); p < n: it does not */
        ck_assert_int_eq(tdl_mlp_predict(m, ds, F), TDL_OK);
        double mse = 0, var = 0, mean = 0;
        for (size_t i = 0; i < n; i++) mean += Y[i] / (double)n;
        for (size_t i = 0; i < n; i++) { mse += (F[i] - Y[i]) * (F[i] - Y[i]) / (double)n; var += (Y[i] - mean) * (Y[i] - mean) / (double)n; }
        if (p >= n) ck_assert_msg(mse <= 1e-16 * var * info.cond * info.cond, "p = %zu: train mse %g", p, mse);
        else ck_assert_msg(mse > 1e-6 * var, "p = %zu < n: train mse %g should not vanish", p, mse);
        free(T); free(Y); free(B); free(F);
        tdl_mlp_free(&m);
    }
    /* errors: depth 3, and a negative ridge */
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 3;
    cfg.widths[0] = 5; cfg.widths[1] = 4; cfg.widths[2] = 4; cfg.widths[3] = 1;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    ck_assert_int_eq(tdl_rf_fit(m, ds, 0, -1, NULL), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "one hidden layer") != NULL);
    ck_assert_uint_eq(tdl_rf_coefficients(m), 0);
    tdl_mlp_free(&m);
    double B[2];
    const double A[2] = {1, 1}, y[1] = {1};
    ck_assert_int_eq(tdl_lstsq_minnorm(A, 1, 2, y, 1, -1, -1, B, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_lstsq_minnorm(A, 0, 2, y, 1, 0, -1, B, NULL), TDL_EINVAL);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *rf_suite(void)
{
    Suite *s = suite_create("random_features");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lstsq_golden);
    tcase_add_test(tc, test_lstsq_closed_form);
    tcase_add_test(tc, test_lstsq_properties);
    tcase_add_test(tc, test_rf_fit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
