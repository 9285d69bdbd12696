/* ntk_bench.c — time tdl_ntk_empirical (the traced NTK Gram matrix) of a
 * shallow ReLU net d-h-1 on the first n MNIST images; prints seconds and the
 * peak resident memory.
 * usage: ntk_bench N H [REPEATS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include "tdl/tdl.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ntk_bench N H [REPEATS]\n");
        return 2;
    }
    size_t n = strtoul(argv[1], NULL, 10), h = strtoul(argv[2], NULL, 10);
    int reps = argc > 3 ? atoi(argv[3]) : 1;
    char spec[64], arch[64];
    snprintf(spec, sizeof spec, "mnist:n=%zu", n);
    tdl_dataset *ds;
    if (tdl_dataset_load(spec, &ds) != TDL_OK) {
        fprintf(stderr, "%s\n", tdl_errmsg());
        return 1;
    }
    snprintf(arch, sizeof arch, "%zu-%zu-1", ds->d, h);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    tdl_arch_parse(arch, &cfg);
    tdl_mlp *m;
    if (tdl_mlp_create(&cfg, &m) != TDL_OK) return 1;
    gsl_matrix *K = gsl_matrix_alloc(n, n);
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (tdl_ntk_empirical(m, ds->X, NULL, NULL, K) != TDL_OK) {
            fprintf(stderr, "%s\n", tdl_errmsg());
            return 1;
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"n\": %zu, \"width\": %zu, \"params\": %zu, \"seconds\": %.6f, \"peak_rss_mb\": %.1f, \"K00\": %.17g}\n", n, h,
           m->n_params, best, (double)ru.ru_maxrss / 1024.0, gsl_matrix_get(K, 0, 0));
    gsl_matrix_free(K);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return 0;
}
