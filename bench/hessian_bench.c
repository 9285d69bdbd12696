/* hessian_bench.c — tdl's side of bench/bench_hessian.sh.
 *   hessian_bench eigen P            LAPACK's dsyevd_2stage (values) alone on a
 *                                    random symmetric P x P matrix: seconds
 *   hessian_bench hvp SPEC ARCH K    best of K Hessian-vector products of the
 *                                    mean cross-entropy: seconds per product
 * Prints one number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "tdl/tdl.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "eigen") == 0) {
        size_t P = (size_t)atol(argv[2]);
        double *A = malloc(P * P * sizeof(double));
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!A || !r) return 1;
        for (size_t i = 0; i < P; i++)
            for (size_t j = 0; j <= i; j++) A[i * P + j] = A[j * P + i] = gsl_ran_gaussian(r, 1.0);
        tdl_sym_eigen e;
        double t0 = now();
        if (tdl_sym_eigen_solve(A, P, 0, P - 1, 0, &e) != TDL_OK) return 1;
        printf("%.6f\n", now() - t0);
        tdl_sym_eigen_free(&e);
        free(A);
        gsl_rng_free(r);
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "hvp") == 0) {
        tdl_dataset *ds;
        tdl_mlp_config cfg;
        tdl_mlp *m;
        tdl_net_work *w;
        tdl_mlp_config_default(&cfg);
        if (tdl_dataset_load(argv[2], &ds) || tdl_arch_parse(argv[3], &cfg) || tdl_mlp_create(&cfg, &m) ||
            tdl_net_work_alloc(m, 2048, &w)) {
            fprintf(stderr, "%s\n", tdl_errmsg());
            return 1;
        }
        int k = atoi(argv[4]);
        double *v = malloc(m->n_params * sizeof(double)), *hv = malloc(m->n_params * sizeof(double));
        for (size_t i = 0; i < m->n_params; i++) v[i] = (double)(i % 7) - 3.0;
        double best = 1e30;
        for (int t = 0; t < k; t++) {
            double t0 = now();
            if (tdl_mlp_hvp(m, TDL_LOSS_CE, ds, v, 0, w, hv) != TDL_OK) return 1;
            double s = now() - t0;
            if (s < best) best = s;
        }
        printf("%.6f\n", best);
        return 0;
    }
    fprintf(stderr, "usage: hessian_bench eigen P | hvp SPEC ARCH K\n");
    return 2;
}
