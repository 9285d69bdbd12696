/* dgemm_rate.c — the machine's double-precision GEMM rate through the BLAS
 * that libtdl links (OpenBLAS), for "fraction of the machine" figures.
 * usage: dgemm_rate [N] [REPEATS]; prints GFLOP/s of C = A B, N x N. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <gsl/gsl_cblas.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000, reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n <= 0 || reps <= 0) return 2;
    double *a = malloc((size_t)n * (size_t)n * sizeof(double));
    double *b = malloc((size_t)n * (size_t)n * sizeof(double));
    double *c = malloc((size_t)n * (size_t)n * sizeof(double));
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < (size_t)n * (size_t)n; i++) {
        a[i] = (double)(i % 7) * 0.1;
        b[i] = (double)(i % 5) * 0.2;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (s < best) best = s;
    }
    printf("%.3f\n", 2.0 * (double)n * (double)n * (double)n / best / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
