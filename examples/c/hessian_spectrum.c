/* hessian_spectrum.c — a program written against libtdl's installed headers
 * alone (tests/cli/test_install.sh builds it with pkg-config against a staged
 * install and runs it).
 *
 * A one-hidden-layer tanh net on a small regression problem made from the
 * program's own arrays:
 *   1. the data set from caller arrays (tdl_dataset_from_arrays);
 *   2. a fresh net (tdl_mlp_create) and its outputs (tdl_mlp_predict);
 *   3. the exact dense Hessian (tdl_hessian_dense) and all its eigenvalues
 *      (tdl_sym_eigen_solve);
 *   4. the top 3 eigenvalues again, matrix-free: the public Hessian operator
 *      handed to Lanczos (tdl_hessian_operator_*, tdl_lanczos).
 * It prints both and exits 0 only when they agree to 1e-8 (relative).
 *
 *   cc hessian_spectrum.c $(pkg-config --cflags --libs tdl) -o hessian_spectrum
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "tdl/tdl.h"

static int fail(const char *what, int status)
{
    fprintf(stderr, "hessian_spectrum: %s: %s\n", what, tdl_errmsg());
    return status ? status : 1;
}

int main(void)
{
    enum { N = 40, D = 3, K = 2 };
    double X[N][D], Y[N][K];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) X[i][j] = sin(1.7 * i + 0.9 * j + 0.3);
        Y[i][0] = X[i][0] * X[i][1] + 0.1 * cos(i);
        Y[i][1] = tanh(X[i][2]) - 0.5 * X[i][0];
    }
    printf("libtdl %s, BLAS kernel %s\n", tdl_version(), tdl_blas_core());

    tdl_dataset *ds = NULL;
    tdl_matrix_view xv = {&X[0][0], N, D, D, 1}, yv = {&Y[0][0], N, K, K, 1};
    if (tdl_dataset_from_arrays(xv, NULL, 0, &yv, "example arrays", &ds) != TDL_OK)
        return fail("data", 1);

    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    if (tdl_arch_parse("3-6-2", &cfg) != TDL_OK || tdl_act_parse("tanh", &cfg.act) != TDL_OK)
        return fail("configuration", 1);
    cfg.seed = 7;
    tdl_mlp *m = NULL;
    if (tdl_mlp_create(&cfg, &m) != TDL_OK) return fail("net", 1);

    double F[N * K];
    if (tdl_mlp_predict(m, ds, F) != TDL_OK) return fail("outputs", 1);
    printf("f(x_0) = (%.6f, %.6f)\n", F[0], F[1]);

    size_t P = m->n_params;
    double *H = malloc(P * P * sizeof *H);
    if (!H) return 1;
    if (tdl_hessian_dense(m, TDL_LOSS_MSE, ds, 0, P, H, NULL) != TDL_OK) return fail("Hessian", 1);
    tdl_sym_eigen all;
    if (tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &all) != TDL_OK) return fail("eigenvalues", 1);

    tdl_hessian_operator *op = NULL;
    tdl_lanczos_result top = {0};
    if (tdl_hessian_operator_create(m, TDL_LOSS_MSE, ds, 0, &op) != TDL_OK) return fail("operator", 1);
    if (tdl_lanczos(tdl_hessian_operator_apply, op, tdl_hessian_operator_dim(op), 3, TDL_WHICH_LARGEST,
                    0, 0, 1, 0, &top) != TDL_OK)
        return fail("Lanczos", 1);

    double worst = 0;
    printf("P = %zu; top eigenvalues, dense vs Lanczos (%zu products):\n", P,
           tdl_hessian_operator_products(op));
    for (size_t j = 0; j < 3; j++) {
        double dense = all.values[P - 1 - j], lz = top.values[2 - j];
        double rel = fabs(dense - lz) / fabs(dense);
        if (rel > worst) worst = rel;
        printf("  %.12f  %.12f  (rel. diff %.1e)\n", dense, lz, rel);
    }
    printf("smallest: %.6e\n", all.values[0]);
    tdl_lanczos_result_free(&top);
    tdl_hessian_operator_free(&op);
    tdl_sym_eigen_free(&all);
    free(H);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    if (worst > 1e-8) {
        fprintf(stderr, "hessian_spectrum: dense and Lanczos disagree (%.1e)\n", worst);
        return 1;
    }
    return 0;
}
