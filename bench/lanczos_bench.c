/* lanczos_bench.c — tdl's side of bench/bench_lanczos.sh.
 *   lanczos_bench export MODEL SPEC DIR     the net and the data for the
 *       Python peer: DIR/X.f64 (n x d), DIR/y.i64 (n), DIR/layerL.W.f64
 *       (out x in, row-major) and DIR/layerL.b.f64, DIR/shape.txt
 *       ("n d C" and the widths); standard parametrization only
 *   lanczos_bench lanczos MODEL SPEC K REPS [FLAGS]
 *       best of REPS runs of tdl_lanczos (top K of the Hessian of the mean
 *       cross-entropy, default tolerance; FLAGS as tdl_lanczos takes them,
 *       default 2 = the multiplicity check that `tdl hessian` uses): one
 *       JSON line with seconds, matvecs, seconds per product, the values and
 *       their certified error bounds
 *   lanczos_bench partial P K REPS
 *       a random symmetric P x P matrix: best of REPS of the full spectrum
 *       (tdl_sym_eigen_solve, values) and of the top K (index range)
 */
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

static int die(void)
{
    fprintf(stderr, "lanczos_bench: %s\n", tdl_errmsg());
    return 1;
}

static int write_raw(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f) != 0) {
        fprintf(stderr, "lanczos_bench: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int load(const char *model, const char *spec, tdl_mlp **m, tdl_dataset **ds)
{
    if (tdl_mlp_load(model, NULL, m) != TDL_OK || tdl_dataset_load(spec, ds) != TDL_OK) return die();
    return 0;
}

static int export(const char *model, const char *spec, const char *dir)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    if (load(model, spec, &m, &ds)) return 1;
    size_t n, d, C;
    tdl_dataset_shape(ds, &n, &d, &C, NULL);
    double *X = malloc(n * d * sizeof(double));
    long long *y = malloc(n * sizeof(long long));
    if (!X || !y) return 1;
    tdl_dataset_copy(ds, X, y, NULL);
    if (write_raw(dir, "X.f64", X, n * d * sizeof(double)) || write_raw(dir, "y.i64", y, n * sizeof(long long)))
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/shape.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "%zu %zu %zu\n", n, d, C);
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        if (L->w_scale != 1.0 || (L->has_bias && L->b_scale != 1.0) || !L->has_bias) {
            fprintf(stderr, "lanczos_bench: export needs the standard parametrization with biases\n");
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "layer%zu.W.f64", l);
        if (write_raw(dir, name, m->theta + L->w_off, L->in * L->out * sizeof(double))) return 1;
        snprintf(name, sizeof name, "layer%zu.b.f64", l);
        if (write_raw(dir, name, m->theta + L->b_off, L->out * sizeof(double))) return 1;
        fprintf(f, "%zu %zu\n", L->out, L->in);
    }
    fclose(f);
    free(X);
    free(y);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return 0;
}

static int run_lanczos(const char *model, const char *spec, size_t k, int reps, unsigned flags)
{
    tdl_mlp *m;
    tdl_dataset *ds;
    if (load(model, spec, &m, &ds)) return 1;
    tdl_hessian_operator *op;
    if (tdl_hessian_operator_create(m, TDL_LOSS_CE, ds, 0, &op) != TDL_OK) return die();
    const size_t P = tdl_hessian_operator_dim(op);
    double best = 1e30;
    tdl_lanczos_result r = {0};
    for (int t = 0; t < reps; t++) {
        tdl_lanczos_result_free(&r);
        double t0 = now();
        if (tdl_lanczos(tdl_hessian_operator_apply, op, P, k, TDL_WHICH_LARGEST, 0, 0, 1, flags, &r) != TDL_OK)
            return die();
        double s = now() - t0;
        if (s < best) best = s;
    }
    /* seconds per product: best of 5 */
    double *x = malloc(P * sizeof(double)), *y = malloc(P * sizeof(double)), hvp = 1e30;
    if (!x || !y) return 1;
    for (size_t i = 0; i < P; i++) x[i] = (double)(i % 7) - 3.0;
    for (int t = 0; t < 5; t++) {
        double t0 = now();
        if (tdl_hessian_operator_apply(x, y, op) != TDL_OK) return die();
        double s = now() - t0;
        if (s < hvp) hvp = s;
    }
    printf("{\"P\": %zu, \"k\": %zu, \"seconds\": %.6f, \"matvecs\": %zu, \"steps\": %zu, \"converged\": %d, "
           "\"seconds_per_hvp\": %.6f, \"values\": [",
           P, k, best, r.matvecs, r.iterations, r.converged, hvp);
    for (size_t j = 0; j < r.k; j++) printf("%s%.17g", j ? ", " : "", r.values[j]);
    printf("], \"residuals\": [");
    for (size_t j = 0; j < r.k; j++) printf("%s%.3g", j ? ", " : "", r.residuals[j]);
    printf("], \"gaps\": [");
    for (size_t j = 0; j < r.k; j++) printf("%s%.3g", j ? ", " : "", r.gaps[j]);
    printf("], \"error_bounds\": [");
    for (size_t j = 0; j < r.k; j++) printf("%s%.3g", j ? ", " : "", r.error_bounds[j]);
    printf("]}\n");
    tdl_lanczos_result_free(&r);
    free(x);
    free(y);
    tdl_hessian_operator_free(&op);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return 0;
}

static int partial(size_t P, size_t k, int reps)
{
    double *A = malloc(P * P * sizeof(double)), *B = malloc(P * P * sizeof(double));
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!A || !B || !g) return 1;
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j <= i; j++) A[i * P + j] = A[j * P + i] = gsl_ran_gaussian(g, 1.0);
    double tf = 1e30, tp = 1e30;
    const char *df = "", *dp = "";
    double top_full = 0, top_part = 0;
    for (int t = 0; t < reps; t++) {
        tdl_sym_eigen e;
        memcpy(B, A, P * P * sizeof(double));
        double t0 = now();
        if (tdl_sym_eigen_solve(B, P, 0, P - 1, 0, &e) != TDL_OK) return die();
        double s = now() - t0;
        if (s < tf) tf = s;
        df = e.driver;
        top_full = e.values[P - 1];
        tdl_sym_eigen_free(&e);
        memcpy(B, A, P * P * sizeof(double));
        t0 = now();
        if (tdl_sym_eigen_solve(B, P, P - k, P - 1, 0, &e) != TDL_OK) return die();
        s = now() - t0;
        if (s < tp) tp = s;
        dp = e.driver;
        top_part = e.values[k - 1];
        tdl_sym_eigen_free(&e);
    }
    printf("{\"P\": %zu, \"k\": %zu, \"full_seconds\": %.6f, \"full_driver\": \"%s\", \"partial_seconds\": %.6f, "
           "\"partial_driver\": \"%s\", \"top_difference\": %.3g}\n",
           P, k, tf, df, tp, dp, top_full - top_part);
    free(A);
    free(B);
    gsl_rng_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "export") == 0) return export(argv[2], argv[3], argv[4]);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "lanczos") == 0)
        return run_lanczos(argv[2], argv[3], (size_t)atol(argv[4]), atoi(argv[5]),
                           argc == 7 ? (unsigned)atoi(argv[6]) : 2u);
    if (argc == 5 && strcmp(argv[1], "partial") == 0)
        return partial((size_t)atol(argv[2]), (size_t)atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: lanczos_bench export MODEL SPEC DIR | lanczos MODEL SPEC K REPS [FLAGS] | "
                    "partial P K REPS\n");
    return 2;
}
