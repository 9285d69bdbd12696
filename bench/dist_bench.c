/* dist_bench.c — tdl's side of bench/bench_mpi.sh (run under mpirun).
 *   dist_bench eigen SPEC ARCH SOLVER
 *       the dense Hessian of a fresh net (seed 1, mean cross-entropy) on
 *       every rank, then its eigenvalues by SOLVER: lapack (dsyevd_2stage on
 *       rank 0 alone), elpa, scalapack (pdsyevr) or pdsyevd (the distributed solvers of
 *       tdl/dist.h); rank 0 prints "SOLVER seconds max|lambda|"
 *   dist_bench hessian SPEC ARCH
 *       tdl_dist_hessian_exact (values of H and G) against tdl_hessian_dense
 *       + LAPACK on rank 0: prints the largest difference of eigenvalues
 *       relative to max |lambda|, the seconds of both, and the driver
 *   dist_bench ntk SPEC ARCH [TOL]
 *       tdl_dist_gram_eigenvalues (the traced empirical NTK Gram matrix of
 *       the data's inputs) against tdl_ntk_empirical + LAPACK on rank 0:
 *       prints the difference relative to max |lambda| and both times; with
 *       TOL, exit 1 when the difference exceeds TOL (tests/cli/test_mpi.sh)
 *   dist_bench lanczos SPEC ARCH K [TOL]
 *       the K largest eigenvalues of H by Lanczos over the data-parallel
 *       operator (tdl_dist_hessian_operator: examples split over the ranks)
 *       against Lanczos over tdl_hessian_operator on rank 0 alone, and
 *       Hutch++'s trace estimate (same seed) likewise: prints the largest
 *       difference relative to max |lambda| (and to |trace|); with TOL, exit 1
 *       beyond it
 *   dist_bench landscape SPEC ARCH NX NY
 *       the loss and accuracy on an NX x NY grid in the plane of theta and
 *       two seeded random directions, by tdl_dist_landscape_eval (cells
 *       round-robin over the ranks) against tdl_landscape_eval on rank 0:
 *       exit 1 unless every cell is equal bit for bit
 *   dist_bench krr SPEC ARCH [TOL]
 *       NTK kernel ridge regression on one-hot labels, ridge 1e-3 trace/n,
 *       predictions at the first 20 examples: tdl_dist_gram_solve
 *       (pdpotrf / pdpotrs) and tdl_dist_kernel_apply against an eigendecomposition on rank 0
 *       (alpha = V (Lambda + ridge)^-1 V^T Y); with TOL, exit 1 when the
 *       largest difference relative to max |prediction| exceeds it
 * Exit 1 on an error (rank 0 prints it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include "tdl/tdl.h"
#include "tdl/dist.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(void)
{
    if (tdl_dist_rank() == 0) fprintf(stderr, "dist_bench: %s\n", tdl_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    if (tdl_dist_init() != TDL_OK) return fail();
    if (argc < 4) {
        fprintf(stderr, "usage: dist_bench eigen SPEC ARCH lapack|elpa|scalapack|pdsyevd | hessian SPEC ARCH\n");
        return 2;
    }
    tdl_dataset *ds = NULL;
    tdl_mlp_config cfg;
    tdl_mlp *m = NULL;
    tdl_mlp_config_default(&cfg);
    if (tdl_dataset_load(argv[2], &ds) || tdl_arch_parse(argv[3], &cfg) || tdl_mlp_create(&cfg, &m)) return fail();
    size_t P = m->n_params;
    int root = tdl_dist_rank() == 0;
    if (!strcmp(argv[1], "eigen") && argc >= 5) {
        double *H = malloc(P * P * sizeof(double)), *w = malloc(P * sizeof(double));
        if (!H || !w) return 1;
        if (tdl_dist_agree(tdl_hessian_dense(m, TDL_LOSS_CE, ds, 0, P, H, NULL)) != TDL_OK) return fail();
        double t0 = now(), mx;
        const char *driver = argv[4];
        if (!strcmp(argv[4], "lapack")) {
            if (!root) return 0;
            tdl_sym_eigen e;
            if (tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &e) != TDL_OK) return fail();
            mx = fmax(fabs(e.values[0]), fabs(e.values[P - 1]));
            driver = e.driver;
            tdl_sym_eigen_free(&e);
        } else {
            tdl_dist_solver s = !strcmp(argv[4], "elpa")      ? TDL_DIST_SOLVER_ELPA
                                : !strcmp(argv[4], "pdsyevd") ? TDL_DIST_SOLVER_PDSYEVD
                                                              : TDL_DIST_SOLVER_SCALAPACK;
            if (tdl_dist_sym_eigenvalues(H, P, s, w, &driver) != TDL_OK) return fail();
            mx = fmax(fabs(w[0]), fabs(w[P - 1]));
        }
        if (root) printf("%s %.3f %.6g\n", driver, now() - t0, mx);
        free(H);
        free(w);
    } else if (!strcmp(argv[1], "hessian")) {
        tdl_dist_hessian_config c;
        tdl_dist_hessian_config_default(&c);
        c.gauss_newton = 1;
        tdl_dist_hessian_result r;
        double t0 = now();
        if (tdl_dist_hessian_exact(m, TDL_LOSS_CE, ds, &c, &r) != TDL_OK) return fail();
        double td = now() - t0;
        if (root) {
            double *H = malloc(P * P * sizeof(double)), *G = malloc(P * P * sizeof(double));
            tdl_sym_eigen e, eg;
            t0 = now();
            if (tdl_hessian_dense(m, TDL_LOSS_CE, ds, 0, P, H, G) || tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &e) ||
                tdl_sym_eigen_solve(G, P, 0, P - 1, 0, &eg))
                return fail();
            double ts = now() - t0, mx = fmax(fabs(e.values[0]), fabs(e.values[P - 1])), dh = 0, dg = 0;
            for (size_t i = 0; i < P; i++) {
                dh = fmax(dh, fabs(e.values[i] - r.h.values[i]));
                dg = fmax(dg, fabs(eg.values[i] - r.g.values[i]));
            }
            printf("P %zu: |dH|/max|l| %.3g  |dG|/max|l| %.3g  trace %.10g vs %.10g  dist %.3f s (assembly %.3f) "
                   "single %.3f s  %s\n", P, dh / mx, dg / mx, r.trace, 0.0, td, r.seconds_assembly, ts, r.driver);
            tdl_sym_eigen_free(&e);
            tdl_sym_eigen_free(&eg);
            free(H);
            free(G);
        }
        tdl_dist_hessian_result_free(&r);
    }
    if (!strcmp(argv[1], "ntk")) {
        size_t n = ds->n;
        double *w = malloc(n * sizeof(double));
        char driver[160];
        if (!w) return 1;
        double t0 = now();
        tdl_dist_kernel kern = {.kind = TDL_DIST_KERNEL_NTK_EMPIRICAL, .net = m};
        tdl_dist_gram *G;
        if (tdl_dist_gram_create(&kern, ds->X, &G) != TDL_OK) return fail();
        if (tdl_dist_gram_eigenvalues(G, 0, SIZE_MAX, TDL_DIST_SOLVER_AUTO, w) != TDL_OK) return fail();
        snprintf(driver, sizeof driver, "%s", tdl_dist_gram_driver(G));
        tdl_dist_gram_free(&G);
        double td = now() - t0;
        int bad = 0;
        if (root) {
            gsl_matrix *K = gsl_matrix_alloc(n, n);
            tdl_sym_eigen e;
            t0 = now();
            if (tdl_ntk_empirical(m, ds->X, NULL, NULL, K) || tdl_sym_eigen_solve(K->data, n, 0, n - 1, 0, &e)) return fail();
            double ts = now() - t0, mx = fmax(fabs(e.values[0]), fabs(e.values[n - 1])), d = 0;
            for (size_t i = 0; i < n; i++) d = fmax(d, fabs(e.values[i] - w[i]));
            printf("n %zu: |dK|/max|l| %.3g  dist %.3f s  single %.3f s  %s\n", n, d / mx, td, ts, driver);
            bad = argc >= 5 && !(d / mx <= atof(argv[4]));
            tdl_sym_eigen_free(&e);
            gsl_matrix_free(K);
        }
        free(w);
        if (bad) return 1;
    }
    if (!strcmp(argv[1], "lanczos") && argc >= 5) {
        size_t k = (size_t)atol(argv[4]);
        tdl_dist_hessian_operator *op;
        tdl_lanczos_result lr;
        double tr, se;
        double t0 = now();
        if (tdl_dist_hessian_operator_create(m, TDL_LOSS_CE, ds, 0, &op) ||
            tdl_lanczos(tdl_dist_hessian_operator_apply, op, P, k, TDL_WHICH_LARGEST, 0, 0, 1, TDL_LANCZOS_MULTIPLICITY, &lr) ||
            tdl_hutchpp(tdl_dist_hessian_operator_apply, op, P, 12, 2, &tr, &se))
            return fail();
        double td = now() - t0;
        int bad = 0;
        if (root) {
            tdl_hessian_operator *one;
            tdl_lanczos_result l1;
            double tr1, se1;
            t0 = now();
            if (tdl_hessian_operator_create(m, TDL_LOSS_CE, ds, 0, &one) ||
                tdl_lanczos(tdl_hessian_operator_apply, one, P, k, TDL_WHICH_LARGEST, 0, 0, 1, TDL_LANCZOS_MULTIPLICITY, &l1) ||
                tdl_hutchpp(tdl_hessian_operator_apply, one, P, 12, 2, &tr1, &se1))
                return fail();
            double ts = now() - t0, mx = fabs(l1.values[l1.k - 1]), d = 0;
            for (size_t i = 0; i < k && i < l1.k && i < lr.k; i++) d = fmax(d, fabs(l1.values[i] - lr.values[i]));
            if (l1.k != lr.k) d = INFINITY;
            double dt = fabs(tr - tr1) / fabs(tr1);
            printf("lanczos k %zu: |d|/max|l| %.3g  Hutch++ trace %.10g vs %.10g (rel %.3g)  dist %.3f s  single %.3f s  %zu ranks\n",
                   k, d / mx, tr, tr1, dt, td, ts, tdl_dist_size());
            bad = argc >= 6 && !(d / mx <= atof(argv[5]) && dt <= atof(argv[5]));
            tdl_lanczos_result_free(&l1);
            tdl_hessian_operator_free(&one);
        }
        tdl_lanczos_result_free(&lr);
        tdl_dist_hessian_operator_free(&op);
        if (bad) return 1;
    }
    if (!strcmp(argv[1], "landscape") && argc >= 6) {
        size_t nx = (size_t)atol(argv[4]), ny = (size_t)atol(argv[5]), N = nx * ny;
        double *d1 = malloc(P * sizeof(double)), *d2 = malloc(P * sizeof(double)), *coef = malloc(3 * N * sizeof(double));
        double *l = malloc(N * sizeof(double)), *a = malloc(N * sizeof(double));
        double *l1 = malloc(N * sizeof(double)), *a1 = malloc(N * sizeof(double));
        if (!d1 || !d2 || !coef || !l || !a || !l1 || !a1) return 1;
        if (tdl_direction_random(m, 1, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d1) ||
            tdl_direction_random(m, 2, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d2))
            return fail();
        const double *basis[3] = {m->theta, d1, d2};
        for (size_t c = 0; c < N; c++) {
            coef[3 * c] = 1;
            coef[3 * c + 1] = -1 + 2.0 * (double)(c % nx) / (double)(nx - 1);
            coef[3 * c + 2] = -1 + 2.0 * (double)(c / nx) / (double)(ny - 1);
        }
        double t0 = now();
        if (tdl_dist_landscape_eval(m, TDL_LOSS_CE, ds, 3, basis, N, coef, NULL, 1, l, a) != TDL_OK) return fail();
        double td = now() - t0;
        int bad = 0;
        if (root) {
            t0 = now();
            if (tdl_landscape_eval(m, TDL_LOSS_CE, ds, 3, basis, N, coef, NULL, 1, l1, a1) != TDL_OK) return fail();
            size_t diff = 0;
            for (size_t c = 0; c < N; c++) diff += memcmp(&l[c], &l1[c], sizeof(double)) != 0 || memcmp(&a[c], &a1[c], sizeof(double)) != 0;
            printf("landscape %zu x %zu: %zu cells differ  dist %.3f s  single %.3f s  %zu ranks\n", nx, ny, diff, td,
                   now() - t0, tdl_dist_size());
            bad = diff != 0;
        }
        free(d1); free(d2); free(coef); free(l); free(a); free(l1); free(a1);
        if (bad) return 1;
    }
    if (!strcmp(argv[1], "krr") && ds->classes) {
        size_t n = ds->n, k = ds->classes, nt = n < 20 ? n : 20;
        double *Y = calloc(n * k, sizeof(double)), *pred = malloc(nt * k * sizeof(double));
        gsl_matrix *K = gsl_matrix_alloc(n, n), *Kt = gsl_matrix_alloc(nt, n);
        if (!Y || !pred || !K || !Kt) return 1;
        for (size_t i = 0; i < n; i++) Y[i * k + ds->labels[i]] = 1;
        gsl_matrix_const_view Xt = gsl_matrix_const_submatrix(ds->X, 0, 0, nt, ds->X->size2);
        if (tdl_ntk_empirical(m, ds->X, NULL, NULL, K) || tdl_ntk_empirical(m, &Xt.matrix, ds->X, NULL, Kt)) return fail();
        double tr = 0;
        for (size_t i = 0; i < n; i++) tr += gsl_matrix_get(K, i, i);
        double ridge = 1e-3 * tr / (double)n, t0 = now();
        tdl_dist_kernel kern = {.kind = TDL_DIST_KERNEL_NTK_EMPIRICAL, .net = m};
        tdl_dist_gram *G;
        double *coef = malloc(n * k * sizeof(double));
        if (!coef) return 1;
        if (tdl_dist_gram_create(&kern, ds->X, &G) || tdl_dist_gram_solve(G, ridge, Y, k, coef) ||
            tdl_dist_kernel_apply(&kern, &Xt.matrix, ds->X, coef, k, pred))
            return fail();
        tdl_dist_gram_free(&G);
        free(coef);
        double td = now() - t0;
        int bad = 0;
        if (root) {
            tdl_sym_eigen e;
            if (tdl_sym_eigen_solve(K->data, n, 0, n - 1, 1, &e)) return fail();
            /* alpha = V (Lambda + ridge)^-1 V^T Y; rows of e.vectors are the v_j */
            double *c = calloc(n * k, sizeof(double)), *alpha = calloc(n * k, sizeof(double)), mx = 0, d = 0;
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++)
                    for (size_t q = 0; q < k; q++) c[j * k + q] += e.vectors[j * n + i] * Y[i * k + q];
            for (size_t j = 0; j < n; j++)
                for (size_t q = 0; q < k; q++) c[j * k + q] /= e.values[j] + ridge;
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++)
                    for (size_t q = 0; q < k; q++) alpha[i * k + q] += e.vectors[j * n + i] * c[j * k + q];
            for (size_t t = 0; t < nt; t++)
                for (size_t q = 0; q < k; q++) {
                    double p = 0;
                    for (size_t i = 0; i < n; i++) p += gsl_matrix_get(Kt, t, i) * alpha[i * k + q];
                    mx = fmax(mx, fabs(p));
                    d = fmax(d, fabs(p - pred[t * k + q]));
                }
            printf("krr n %zu k %zu ridge %.3g: |d|/max|pred| %.3g  dist %.3f s  %zu ranks\n", n, k, ridge, d / mx, td, tdl_dist_size());
            bad = argc >= 5 && !(d / mx <= atof(argv[4]));
            free(c);
            free(alpha);
            tdl_sym_eigen_free(&e);
        }
        free(Y); free(pred);
        gsl_matrix_free(K); gsl_matrix_free(Kt);
        if (bad) return 1;
    }
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return 0;
}
