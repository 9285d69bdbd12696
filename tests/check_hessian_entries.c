/* check_hessian_entries.c — tdl_hessian_entries (tdl/hessian.h): any
 * submatrix of H and G, column-major with a leading dimension, against the
 * same entries of tdl_hessian_dense, on the golden nets of net_fixture.c
 * (every loss, biases on and off, the standard, ntk and mf
 * parametrizations, shallow and deep), under the sum and PyTorch-mse loss
 * conventions, and on larger shallow nets whose units straddle the blocks
 * of a block-cyclic layout; for the full index set, random subsets with
 * repeats, every rank's share of 1 x 2, 2 x 2 and 1 x 3 process grids with
 * block sizes 1, 7 and 64, reversed lists with repeats, rows != cols.
 *
 * Tolerance.  Both codes compute the same exact sums over the n examples
 * (and, inside the weights and the Hessian-vector products, over the C
 * outputs and the P parameters) in other orders; each entry's rounding is
 * then at most about (n + P) eps times the sum of the magnitudes of its
 * terms, which for these nets is of the order of max |H| (no large
 * cancellation: the terms are products of O(1) features and weights).  We
 * ask 4 (n + P) eps max |H| (and max |G| for G), i.e. ~1e-13 for the golden
 * nets and ~1e-12 for the larger ones; a wrong term (a missing residual, a
 * transposed block, an entry from the wrong unit pair) is O(max |H|) and
 * fails by orders of magnitude.  Entries outside the nr x nc block
 * (the padding rows of ld) must stay untouched, bit for bit. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "tdl/tdl.h"
#include "net_fixture.h"

#define SENTINEL 12345.678

typedef struct ref {
    const char *name;
    const tdl_mlp *m;
    tdl_loss_kind loss;
    const tdl_dataset *ds;
    size_t P, n;
    double *H, *G;  /* tdl_hessian_dense, P x P row-major */
    double hmax, gmax, tol;
} ref;

static void ref_make(ref *r, const char *name, const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds)
{
    r->name = name;
    r->m = m;
    r->loss = loss;
    r->ds = ds;
    r->P = m->n_params;
    r->n = ds->n;
    r->H = dalloc(r->P * r->P);
    r->G = dalloc(r->P * r->P);
    ck_assert_msg(tdl_hessian_dense(m, loss, ds, 0, r->P, r->H, r->G) == TDL_OK, "%s: %s", name, tdl_errmsg());
    r->hmax = max_abs(r->H, r->P * r->P);
    r->gmax = max_abs(r->G, r->P * r->P);
    r->tol = 4.0 * (double)(r->n + r->P) * DBL_EPSILON;
}

static void ref_free(ref *r)
{
    free(r->H);
    free(r->G);
}

/* One request: H and G together, then H alone and G alone when `alone`;
 * the worst relative error seen goes to *worst. */
static void check_request(const ref *r, const size_t *rows, size_t nr, const size_t *cols, size_t nc,
                          const char *what, int alone, double *worst)
{
    const size_t ld = nr + 3, P = r->P;
    double *H = dalloc(ld * nc), *G = dalloc(ld * nc);
    for (int run = 0; run < (alone ? 3 : 1); run++) {
        int wantH = run != 2, wantG = run != 1;
        for (size_t k = 0; k < ld * nc; k++) H[k] = G[k] = SENTINEL;
        int st = tdl_hessian_entries(r->m, r->loss, r->ds, rows, nr, cols, nc, wantH ? H : NULL, wantG ? G : NULL, ld);
        ck_assert_msg(st == TDL_OK, "%s %s: %s", r->name, what, tdl_errmsg());
        for (size_t b = 0; b < nc; b++)
            for (size_t a = 0; a < ld; a++) {
                double h = H[a + b * ld], g = G[a + b * ld];
                /* (plain ifs: Check records every passing ck_assert, which would
                 * cost more than the entries themselves) */
                if ((a >= nr || !wantH) && h != SENTINEL)
                    ck_abort_msg("%s %s: H[%zu, %zu] outside the request was written", r->name, what, a, b);
                if ((a >= nr || !wantG) && g != SENTINEL)
                    ck_abort_msg("%s %s: G[%zu, %zu] outside the request was written", r->name, what, a, b);
                if (a >= nr) continue;
                size_t i = rows[a], j = cols[b];
                if (wantH) {
                    double e = fabs(h - r->H[i * P + j]) / (r->hmax > 0 ? r->hmax : 1.0);
                    if (!(e <= r->tol))
                        ck_abort_msg("%s %s: H[%zu, %zu] = %.17g, dense %.17g (rel %.2e > %.2e)", r->name, what, i, j, h,
                                     r->H[i * P + j], e, r->tol);
                    if (e > *worst) *worst = e;
                }
                if (wantG) {
                    double e = fabs(g - r->G[i * P + j]) / (r->gmax > 0 ? r->gmax : 1.0);
                    if (!(e <= r->tol))
                        ck_abort_msg("%s %s: G[%zu, %zu] = %.17g, dense %.17g (rel %.2e > %.2e)", r->name, what, i, j, g,
                                     r->G[i * P + j], e, r->tol);
                    if (e > *worst) *worst = e;
                }
            }
    }
    free(H);
    free(G);
}

/* The global indices of process row (or column) p of np in a block-cyclic
 * layout with block nb over P indices (ScaLAPACK's numroc / indxl2g). */
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

/* Every request kind on one net. */
static void check_all(const ref *r, unsigned long seed)
{
    const size_t P = r->P;
    size_t *rows = calloc(3 * P + 8, sizeof(size_t)), *cols = calloc(3 * P + 8, sizeof(size_t));
    ck_assert(rows && cols);
    double worst = 0;
    char what[160];
    /* the full set, rows == cols: H, G, H alone, G alone */
    for (size_t i = 0; i < P; i++) rows[i] = cols[i] = i;
    check_request(r, rows, P, cols, P, "full set", 1, &worst);
    /* random subsets (with repeats, any order), rows != cols */
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, seed);
    for (int t = 0; t < 3; t++) {
        size_t nr = 1 + gsl_rng_uniform_int(g, P), nc = 1 + gsl_rng_uniform_int(g, P);
        for (size_t a = 0; a < nr; a++) rows[a] = gsl_rng_uniform_int(g, P);
        for (size_t b = 0; b < nc; b++) cols[b] = gsl_rng_uniform_int(g, P);
        snprintf(what, sizeof what, "random subset %d (%zu x %zu)", t, nr, nc);
        check_request(r, rows, nr, cols, nc, what, t == 0, &worst);
    }
    /* one row, one column */
    rows[0] = P - 1;
    cols[0] = 0;
    check_request(r, rows, 1, cols, 1, "one entry", 1, &worst);
    /* reversed, every index twice, against a shifted order */
    for (size_t i = 0; i < P; i++) {
        rows[2 * i] = rows[2 * i + 1] = P - 1 - i;
        cols[i] = (i * 7 + 3) % P;
    }
    check_request(r, rows, 2 * P, cols, P, "reversed with repeats", 0, &worst);
    /* every rank's share of block-cyclic grids */
    static const size_t grids[3][2] = {{1, 2}, {2, 2}, {1, 3}}, nbs[3] = {1, 7, 64};
    for (int gi = 0; gi < 3; gi++)
        for (int bi = 0; bi < 3; bi++)
            for (size_t p = 0; p < grids[gi][0]; p++)
                for (size_t q = 0; q < grids[gi][1]; q++) {
                    size_t nr = cyclic(P, nbs[bi], grids[gi][0], p, rows);
                    size_t nc = cyclic(P, nbs[bi], grids[gi][1], q, cols);
                    if (!nr || !nc) continue;
                    snprintf(what, sizeof what, "%zux%zu grid, nb %zu, rank (%zu, %zu)", grids[gi][0], grids[gi][1], nbs[bi], p, q);
                    check_request(r, rows, nr, cols, nc, what, 0, &worst);
                }
    printf("%-28s P = %4zu n = %4zu  worst entry error %.2e of max|H| (tolerance %.2e)\n", r->name, P, r->n, worst, r->tol);
    gsl_rng_free(g);
    free(rows);
    free(cols);
}

START_TEST(test_golden)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    ref r;
    ref_make(&r, fx.name, fx.m, fx.loss, fx.ds);
    check_all(&r, 100 + (unsigned long)_i);
    ref_free(&r);
    fixture_free(&fx);
}
END_TEST

/* the mean-field fixtures of check_param_mf.c */
START_TEST(test_mf)
{
    static const char *const mf[] = {"../mf/mf_erf_mse_regress", "../mf/mf_tanh_ce_deep"};
    fixture fx;
    fixture_load(mf[_i], &fx);
    ck_assert_int_eq(fx.m->param, TDL_PARAM_MF);
    ref r;
    ref_make(&r, fx.name, fx.m, fx.loss, fx.ds);
    check_all(&r, 200 + (unsigned long)_i);
    ref_free(&r);
    fixture_free(&fx);
}
END_TEST

/* The model's loss convention (reduction sum; PyTorch's mse) scales every
 * entry as it scales tdl_hessian_dense. */
START_TEST(test_conventions)
{
    static const struct { const char *name; tdl_reduction red; tdl_mse_convention mse; } cases[] = {
        {"tanh_ce", TDL_REDUCTION_SUM, TDL_MSE_TDL},
        {"gelu_mse_onehot", TDL_REDUCTION_SUM, TDL_MSE_TORCH},
        {"erf_mse_regress", TDL_REDUCTION_SUM, TDL_MSE_TDL},
        {"linear_ce", TDL_REDUCTION_SUM, TDL_MSE_TDL},
        {"deep_tanh_5_7_4_3", TDL_REDUCTION_SUM, TDL_MSE_TDL},
    };
    fixture fx;
    fixture_load(cases[_i].name, &fx);
    /* the mean-convention matrix, to see the scale change (the test would pass vacuously otherwise) */
    double *H0 = dalloc(fx.P * fx.P);
    ck_assert_int_eq(tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, fx.P, H0, NULL), TDL_OK);
    tdl_loss_convention c = {cases[_i].red, cases[_i].mse};
    ck_assert_int_eq(tdl_mlp_set_loss_convention(fx.m, &c), TDL_OK);
    ref r;
    char name[128];
    snprintf(name, sizeof name, "%s (%s, %s)", fx.name, cases[_i].red == TDL_REDUCTION_SUM ? "sum" : "mean",
             cases[_i].mse == TDL_MSE_TORCH ? "torch mse" : "tdl mse");
    ref_make(&r, name, fx.m, fx.loss, fx.ds);
    ck_assert_msg(fabs(r.hmax - max_abs(H0, fx.P * fx.P)) > 0.1 * r.hmax, "%s: the convention does not change H", name);
    check_all(&r, 300 + (unsigned long)_i);
    ref_free(&r);
    free(H0);
    fixture_free(&fx);
}
END_TEST

/* Larger shallow nets: units of 12 or 30 parameters that blocks of 7 and 64
 * cut anywhere; every activation family (phi'' = 0 or not), losses,
 * parametrizations, biases on and off. */
START_TEST(test_larger)
{
    static const struct { const char *arch, *act, *data, *loss; tdl_param_kind param; int bias; } cases[] = {
        {"12-20-4", "tanh", "gauss:n=150,d=12,classes=4", "ce", TDL_PARAM_STANDARD, 1},
        {"12-16-3", "softplus", "gauss:n=120,d=12,classes=3", "hinge", TDL_PARAM_NTK, 1},
        {"9-14-1", "gelu", "gauss:n=100,d=9,classes=2", "logistic", TDL_PARAM_MF, 0},
        {"10-13-3", "relu", "gauss:n=90,d=10,classes=3", "mse", TDL_PARAM_STANDARD, 1},
        {"30-4", "identity", "gauss:n=80,d=30,classes=4", "ce", TDL_PARAM_STANDARD, 1},
        /* unit pairs with enough work for the threads inside one dgemm */
        {"20-40-5", "tanh", "gauss:n=200,d=20,classes=5", "ce", TDL_PARAM_STANDARD, 1},
    };
    size_t k = (size_t)_i;
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(cases[k].arch, &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse(cases[k].act, &cfg.act), TDL_OK);
    cfg.param = cases[k].param;
    cfg.init = cases[k].param == TDL_PARAM_STANDARD ? TDL_INIT_HE : TDL_INIT_GAUSSIAN;
    cfg.sigma_w = cases[k].param == TDL_PARAM_STANDARD ? NAN : 1.3;
    cfg.sigma_b = 0.4;
    cfg.bias = cases[k].bias;
    cfg.seed = 31 + k;
    tdl_mlp *m = NULL;
    tdl_dataset *ds = NULL;
    tdl_loss_kind loss;
    ck_assert_msg(tdl_mlp_create(&cfg, &m) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_int_eq(tdl_dataset_load(cases[k].data, &ds), TDL_OK);
    ck_assert_int_eq(tdl_loss_parse(cases[k].loss, &loss), TDL_OK);
    ref r;
    char name[128];
    snprintf(name, sizeof name, "%s %s %s", cases[k].arch, cases[k].act, cases[k].loss);
    ref_make(&r, name, m, loss, ds);
    check_all(&r, 400 + k);
    ref_free(&r);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* The chunked paths (products split over several dgemms, items over several
 * accumulators, several passes over the examples, several blocks of
 * examples) with the library's test hook that makes its budgets tiny. */
START_TEST(test_small_budgets)
{
    static const char *const nets[] = {"tanh_ce", "gelu_mse_onehot", "linear_ce", "softplus_ce"};
    fixture fx;
    fixture_load(nets[_i], &fx);
    ck_assert_int_eq(setenv("TDL_TEST_ENTRIES_SMALL", "1", 1), 0);
    ref r;
    char name[64];
    snprintf(name, sizeof name, "%s (tiny budgets)", fx.name);
    ref_make(&r, name, fx.m, fx.loss, fx.ds);
    check_all(&r, 500 + (unsigned long)_i);
    unsetenv("TDL_TEST_ENTRIES_SMALL");
    ref_free(&r);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_errors)
{
    fixture fx;
    fixture_load("tanh_ce", &fx);
    const size_t P = fx.P;
    size_t rows[3] = {0, 5, P - 1}, cols[2] = {1, 2};
    double H[12], G[12];
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, cols, 2, H, G, 3), TDL_OK);
    /* an index outside theta */
    size_t bad[2] = {1, P};
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, bad, 2, H, G, 3), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "column index"));
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "outside the"));
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, bad, 2, cols, 2, H, NULL, 3), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "row index"));
    /* ld < nr */
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, cols, 2, H, G, 2), TDL_ESHAPE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "leading dimension 2"));
    /* a count without a list */
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, NULL, 3, cols, 2, H, G, 3), TDL_EINVAL);
    /* a loss that does not fit: logistic needs one output (this net has 3) */
    int wl = tdl_hessian_dense(fx.m, TDL_LOSS_LOGISTIC, fx.ds, 0, P, NULL, NULL);
    ck_assert_int_ne(wl, TDL_OK);
    ck_assert_int_eq(tdl_hessian_entries(fx.m, TDL_LOSS_LOGISTIC, fx.ds, rows, 3, cols, 2, H, G, 3), wl);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "logistic"));
    /* nothing asked: OK, nothing written */
    H[0] = SENTINEL;
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, cols, 0, H, G, 3), TDL_OK);
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, cols, 2, NULL, NULL, 3), TDL_OK);
    ck_assert(H[0] == SENTINEL);
    /* NaN in the data: the status tdl_hessian_dense gives */
    gsl_matrix_set(fx.ds->X, 2, 1, NAN);
    double *Hd = dalloc(P * P);
    int want = tdl_hessian_dense(fx.m, fx.loss, fx.ds, 0, P, Hd, NULL);
    ck_assert_int_eq(want, TDL_ENONFINITE);
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, rows, 3, cols, 2, H, G, 3), want);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "example 2"));
    free(Hd);
    fixture_free(&fx);
    /* the memory guard refuses the temporaries (TDL_MEMORY_LIMIT: a cap per process) */
    fixture_load("tanh_ce", &fx);
    size_t *all = calloc(fx.P, sizeof(size_t));
    double *Hf = dalloc(fx.P * fx.P);
    for (size_t i = 0; i < fx.P; i++) all[i] = i;
    setenv("TDL_MEMORY_LIMIT", "16k", 1);
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, all, fx.P, all, fx.P, Hf, NULL, fx.P), TDL_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "Hessian entries"));
    unsetenv("TDL_MEMORY_LIMIT");
    ck_assert_int_eq(tdl_hessian_entries(fx.m, fx.loss, fx.ds, all, fx.P, all, fx.P, Hf, NULL, fx.P), TDL_OK);
    free(all);
    free(Hf);
    fixture_free(&fx);
}
END_TEST

static Suite *entries_suite(void)
{
    Suite *s = suite_create("hessian_entries");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_loop_test(core, test_golden, 0, NCASES);
    tcase_add_loop_test(core, test_mf, 0, 2);
    tcase_add_loop_test(core, test_conventions, 0, 5);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_loop_test(limits, test_larger, 0, 6);
    tcase_add_loop_test(limits, test_small_budgets, 0, 4);
    suite_add_tcase(s, limits);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(entries_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
