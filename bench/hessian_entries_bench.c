/* hessian_entries_bench.c — tdl's side of bench/bench_hessian_entries.sh:
 * tdl_hessian_dense (the single-process structured assembly) against
 * tdl_hessian_entries for the full index set and for ranks' shares of
 * 2D block-cyclic grids, on a fresh net (default initialization, the
 * default activation) and the mean cross-entropy.
 *   hessian_entries_bench DATA ARCH [REPS [NB]]
 * prints one line per measurement: what, best-of-REPS seconds, and the
 * largest |entry - dense| / max|H| (the entries are compared with the dense
 * matrix of the same run);
 *   hessian_entries_bench DATA ARCH REPS NB NPROW NPCOL MYROW MYCOL
 * times one rank's share alone (no dense matrix: nets too big for one
 * process), with the rate 2 n nr nc / seconds (the direct way's flops, an
 * upper bound of the work). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tdl/tdl.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t cyclic(size_t P, size_t nb, size_t np, size_t p, size_t *out)
{
    size_t k = 0;
    for (size_t l = 0;; l++) {
        size_t g = (l / nb) * nb * np + p * nb + l % nb;
        if (g >= P) break;
        out[k++] = g;
    }
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hessian_entries_bench DATA ARCH [REPS [NB]]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 2;
    size_t nb = argc > 4 ? (size_t)atol(argv[4]) : 64;
    if (reps < 1) reps = 1;
    tdl_dataset *ds;
    tdl_mlp_config cfg;
    tdl_mlp *m;
    tdl_mlp_config_default(&cfg);
    if (tdl_dataset_load(argv[1], &ds) || tdl_arch_parse(argv[2], &cfg) || tdl_mlp_create(&cfg, &m)) {
        fprintf(stderr, "%s\n", tdl_errmsg());
        return 1;
    }
    const size_t P = m->n_params;
    if (argc >= 9) {
        size_t pr = (size_t)atol(argv[5]), pc = (size_t)atol(argv[6]), p = (size_t)atol(argv[7]), q = (size_t)atol(argv[8]);
        size_t *ri = malloc(P * sizeof(size_t)), *ci = malloc(P * sizeof(size_t));
        if (!ri || !ci || !pr || !pc || p >= pr || q >= pc) { fprintf(stderr, "bad grid\n"); return 2; }
        size_t nr = cyclic(P, nb, pr, p, ri), nc = cyclic(P, nb, pc, q, ci);
        double *L = malloc((nr ? nr : 1) * (nc ? nc : 1) * sizeof(double));
        if (!L) { fprintf(stderr, "out of memory (%zu x %zu)\n", nr, nc); return 1; }
        double best = INFINITY;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            if (tdl_hessian_entries(m, TDL_LOSS_CE, ds, ri, nr, ci, nc, L, NULL, nr ? nr : 1) != TDL_OK) {
                fprintf(stderr, "%s\n", tdl_errmsg());
                return 1;
            }
            best = fmin(best, now() - t0);
        }
        printf("net %s on %s: P = %zu, n = %zu; %zux%zu grid nb %zu, rank (%zu,%zu): %zu x %zu entries of H in %.3f s"
               " (2 n nr nc / s = %.1f GFlop/s)\n", argv[2], argv[1], P, ds->n, pr, pc, nb, p, q, nr, nc, best,
               2.0 * (double)ds->n * (double)nr * (double)nc / best / 1e9);
        free(ri);
        free(ci);
        free(L);
        return 0;
    }
    double *D = malloc(P * P * sizeof(double)), *E = malloc(P * P * sizeof(double));
    size_t *rows = malloc(P * sizeof(size_t)), *cols = malloc(P * sizeof(size_t));
    if (!D || !E || !rows || !cols) {
        fprintf(stderr, "out of memory (two %zu x %zu matrices)\n", P, P);
        return 1;
    }
    printf("net %s on %s: P = %zu, n = %zu, ce; best of %d\n", argv[2], argv[1], P, ds->n, reps);
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (tdl_hessian_dense(m, TDL_LOSS_CE, ds, 0, P, D, NULL) != TDL_OK) { fprintf(stderr, "%s\n", tdl_errmsg()); return 1; }
        best = fmin(best, now() - t0);
    }
    double hmax = 0;
    for (size_t i = 0; i < P * P; i++) hmax = fmax(hmax, fabs(D[i]));
    printf("  %-40s %8.3f s\n", "tdl_hessian_dense (H)", best);
    double dense = best;
    /* the full set, then every rank's share of 1 x 2 and 2 x 2 grids */
    static const size_t grids[3][2] = {{1, 1}, {1, 2}, {2, 2}};
    for (int gi = 0; gi < 3; gi++)
        for (size_t p = 0; p < grids[gi][0]; p++)
            for (size_t q = 0; q < grids[gi][1]; q++) {
                if (gi == 2 && !(p == 0 && q == 1) && !(p == 0 && q == 0)) continue; /* two kinds of 2 x 2 ranks */
                size_t nr = cyclic(P, gi ? nb : P, grids[gi][0], p, rows);
                size_t nc = cyclic(P, gi ? nb : P, grids[gi][1], q, cols);
                best = INFINITY;
                for (int r = 0; r < reps; r++) {
                    double t0 = now();
                    if (tdl_hessian_entries(m, TDL_LOSS_CE, ds, rows, nr, cols, nc, E, NULL, nr) != TDL_OK) {
                        fprintf(stderr, "%s\n", tdl_errmsg());
                        return 1;
                    }
                    best = fmin(best, now() - t0);
                }
                double err = 0;
                for (size_t b = 0; b < nc; b++)
                    for (size_t a = 0; a < nr; a++) err = fmax(err, fabs(E[a + b * nr] - D[rows[a] * P + cols[b]]));
                char what[128];
                if (gi == 0)
                    snprintf(what, sizeof what, "tdl_hessian_entries, full set");
                else
                    snprintf(what, sizeof what, "entries, %zux%zu grid nb %zu, rank (%zu,%zu)", grids[gi][0], grids[gi][1], nb, p, q);
                printf("  %-40s %8.3f s  (%.2fx dense; %zu x %zu; max err %.1e of max|H|)\n", what, best, best / dense, nr, nc,
                       err / (hmax > 0 ? hmax : 1));
            }
    free(D);
    free(E);
    free(rows);
    free(cols);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return 0;
}
