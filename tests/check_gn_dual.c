/* check_gn_dual.c — the Gauss-Newton kernel dual (tdl/gn_dual.h) against
 * the dense G (tdl_hessian_dense + LAPACK) on the 17 golden nets (linear,
 * one-hidden-layer and deeper nets; mse, ce, logistic, hinge), its
 * parameter-space eigenvectors against the Gauss-Newton operator, and the
 * class / cross-class split against the same split formed in parameter space
 * from the explicit Jacobian. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/gn_dual.h"
#include "net_fixture.h"

/* Both spectra are backward stable on matrices that agree to assembly
 * roundoff (sums over n examples and P parameters: (n + P) eps ||G|| with
 * n + P < 1e3 gives ~2e-13 relative); the issue asks 1e-10 of lambda_max,
 * which that meets with room while a wrong factor (c, S_i) misses by O(1). */
#define SPEC_TOL 1e-10

static double *dense_G(const fixture *fx)
{
    double *G = dalloc(fx->P * fx->P);
    ck_assert_msg(tdl_hessian_dense(fx->m, fx->loss, fx->ds, 0, fx->P, NULL, G) == TDL_OK, "%s", tdl_errmsg());
    return G;
}

static double frob(const double *A, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += A[i] * A[i];
    return sqrt(s);
}

/* The dual's spectrum equals the dense G's nonzero spectrum; ranks agree. */
START_TEST(test_dual_vs_dense)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P;
    double *G = dense_G(&fx);
    double gf = frob(G, P * P);
    tdl_sym_eigen eg = {0};
    ck_assert_int_eq(tdl_sym_eigen_solve(G, P, 0, P - 1, 0, &eg), TDL_OK);
    tdl_gn_dual_result r;
    ck_assert_msg(tdl_gn_dual(fx.m, fx.loss, fx.ds, NULL, &r) == TDL_OK, "%s: %s", fx.name, tdl_errmsg());
    const size_t N = r.N;
    ck_assert_uint_eq(N, fx.n * fx.C);
    ck_assert_uint_eq(r.count, N);
    double lmax = fmax(fabs(eg.values[P - 1]), fabs(eg.values[0]));
    double scale = lmax > 0 ? lmax : 1.0; /* hinge: G = 0 exactly */
    /* the top min(N, P) of each agree; the rest of the longer one is 0 */
    size_t mcount = N < P ? N : P;
    double worst = 0;
    for (size_t j = 0; j < mcount; j++) worst = fmax(worst, fabs(r.values[N - 1 - j] - eg.values[P - 1 - j]));
    for (size_t j = mcount; j < N; j++) worst = fmax(worst, fabs(r.values[N - 1 - j]));
    for (size_t j = mcount; j < P; j++) worst = fmax(worst, fabs(eg.values[P - 1 - j]));
    ck_assert_msg(worst <= SPEC_TOL * scale, "%s: dual vs dense spectrum differ by %.3g (lambda_max %.3g)", fx.name,
                  worst, lmax);
    /* the same trace and Frobenius norm (the same nonzero eigenvalues) */
    double gtr = 0;
    for (size_t j = 0; j < P; j++) gtr += eg.values[j];
    ck_assert_msg(fabs(r.trace - gtr) <= SPEC_TOL * scale * (double)P, "%s: trace %.17g vs %.17g", fx.name, r.trace, gtr);
    ck_assert_msg(fabs(r.frobenius - gf) <= SPEC_TOL * fmax(gf, 1.0), "%s: ||K||_F %.17g vs ||G||_F %.17g", fx.name,
                  r.frobenius, gf);
    /* rank with each side's tolerance (order x eps x Frobenius norm) */
    size_t rank_dense = 0;
    double tol_dense = (double)P * DBL_EPSILON * gf;
    for (size_t j = 0; j < P; j++)
        if (eg.values[j] > tol_dense) rank_dense++;
    ck_assert_msg(r.rank == rank_dense, "%s: rank %zu (dual) vs %zu (dense)", fx.name, r.rank, rank_dense);
    ck_assert(r.rank <= (N < P ? N : P));
    tdl_gn_dual_result_free(&r);
    tdl_gn_dual_result_free(&r); /* idempotent */
    tdl_sym_eigen_free(&eg);
    free(G);
    fixture_free(&fx);
}
END_TEST

/* Top-k values equal the tail of the full spectrum; the eigenvectors
 * v = B u / sqrt(lambda) are unit vectors with G v = lambda v (the exact
 * Gauss-Newton operator, an independent code path). */
START_TEST(test_vectors)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_gn_dual_result all, r;
    ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, NULL, &all), TDL_OK);
    if (all.rank == 0) { /* hinge: G = 0, no eigenvector is determined: refused */
        tdl_gn_dual_config cfg;
        tdl_gn_dual_config_default(&cfg);
        cfg.k = 1;
        cfg.want_vectors = 1;
        ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r), TDL_EINVAL);
        ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "zero within the tolerance"));
        tdl_gn_dual_result_free(&all);
        fixture_free(&fx);
        return;
    }
    double lmax = all.values[all.N - 1];
    tdl_hessian_operator *op = NULL;
    ck_assert_int_eq(tdl_hessian_operator_create(fx.m, fx.loss, fx.ds, 1, &op), TDL_OK);
    double *Gv = dalloc(fx.P);
    /* eigenvectors of K by dsyevr (the default at this size), then by Lanczos on K */
    for (int lz = 0; lz < 2; lz++) {
    tdl_gn_dual_config cfg;
    tdl_gn_dual_config_default(&cfg);
    cfg.k = all.rank < 3 ? all.rank : 3;
    cfg.want_vectors = 1;
    cfg.budget_bytes = 4096; /* several Jacobian blocks */
    cfg.dense_vectors_max = lz ? 1 : 0;
    ck_assert_msg(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r) == TDL_OK, "%s: %s", fx.name, tdl_errmsg());
    ck_assert_uint_eq(r.count, cfg.k);
    ck_assert_ptr_nonnull(r.vectors);
    ck_assert_str_eq(r.vector_driver, lz ? "lanczos" : "dsyevr");
    for (size_t j = 0; j < r.count; j++) {
        /* the same values (another Jacobian budget, so another summation order for a deep net) */
        ck_assert_msg(fabs(r.values[j] - all.values[all.N - r.count + j]) <= 1e-12 * lmax, "%s: top-k value %zu", fx.name, j);
        const double *v = r.vectors + j * fx.P;
        double nv = sqrt(dot(v, v, fx.P));
        ck_assert_msg(fabs(nv - 1) <= 1e-10, "%s: ||v_%zu|| = %.17g", fx.name, j, nv);
        ck_assert_int_eq(tdl_hessian_operator_apply(v, Gv, op), TDL_OK);
        double res = 0;
        for (size_t p = 0; p < fx.P; p++) res += (Gv[p] - r.values[j] * v[p]) * (Gv[p] - r.values[j] * v[p]);
        /* residual of a backward-stable pair: ~ N eps ||K|| / gap-free; 1e-10 lambda_max */
        ck_assert_msg(sqrt(res) <= SPEC_TOL * lmax, "%s (%s): ||G v - lambda v|| = %.3g (lambda_max %.3g)", fx.name,
                      r.vector_driver, sqrt(res), lmax);
    }
    tdl_gn_dual_result_free(&r);
    }
    free(Gv);
    tdl_hessian_operator_free(&op);
    tdl_gn_dual_result_free(&r);
    tdl_gn_dual_result_free(&all);
    fixture_free(&fx);
}
END_TEST

/* The Gram matrix of the public entry point is symmetric, PSD up to
 * roundoff, and its trace is trace(G). */
START_TEST(test_gram)
{
    fixture fx;
    fixture_load("relu_ce", &fx);
    const size_t N = fx.n * fx.C;
    double *K = dalloc(N * N), *G = dense_G(&fx);
    ck_assert_int_eq(tdl_gn_dual_gram(fx.m, fx.loss, fx.ds, 0, K), TDL_OK);
    double tk = 0, tg = 0;
    for (size_t i = 0; i < N; i++) tk += K[i * N + i];
    for (size_t i = 0; i < fx.P; i++) tg += G[i * fx.P + i];
    ck_assert_msg(fabs(tk - tg) <= 1e-12 * fabs(tg), "trace K %.17g vs trace G %.17g", tk, tg);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) ck_assert(K[i * N + j] == K[j * N + i]);
    free(K);
    free(G);
    fixture_free(&fx);
}
END_TEST

/* The class split, formed independently in parameter space from the
 * explicit Jacobian: delta_i,c' and weights w_i,c' (ce: p and the centred
 * gradients; mse: 1 and the gradients), the weighted cluster means, and
 * G_class + G_cross + G_within = G. */
START_TEST(test_class_split)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t n = fx.n, C = fx.C, P = fx.P, N = n * C;
    tdl_gn_dual_config cfg;
    tdl_gn_dual_config_default(&cfg);
    cfg.class_split = 1;
    tdl_gn_dual_result r;
    if (fx.ds->classes == 0) { /* regression: refused, naming why */
        ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r), TDL_EINVAL);
        ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "no class labels"));
        fixture_free(&fx);
        return;
    }
    if (C < 2 || fx.ds->classes != C) {
        ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r), TDL_EINVAL);
        ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "one output per class"));
        fixture_free(&fx);
        return;
    }
    ck_assert_msg(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r) == TDL_OK, "%s: %s", fx.name, tdl_errmsg());
    ck_assert_int_eq(r.has_split, 1);
    ck_assert_uint_eq(r.outliers, C);
    /* parameter space */
    double c;
    ck_assert_int_eq(tdl_mlp_loss_scale(fx.m, fx.loss, n, &c), TDL_OK);
    double *J = dalloc(N * P), *F = dalloc(N), *w = dalloc(N), *D = dalloc(N * P);
    tdl_net_work *wk = work(fx.m, n);
    ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, 0, n, wk, J), TDL_OK);
    ck_assert_int_eq(tdl_mlp_predict(fx.m, fx.ds, F), TDL_OK);
    int hinge = fx.loss == TDL_LOSS_HINGE;
    for (size_t i = 0; i < n; i++) {
        double mx = F[i * C], s = 0;
        for (size_t a = 1; a < C; a++) mx = fmax(mx, F[i * C + a]);
        for (size_t a = 0; a < C; a++) s += exp(F[i * C + a] - mx);
        for (size_t a = 0; a < C; a++) {
            double pa = exp(F[i * C + a] - mx) / s;
            w[i * C + a] = fx.loss == TDL_LOSS_CE ? pa : 1.0;
        }
        for (size_t a = 0; a < C; a++)
            for (size_t p = 0; p < P; p++) {
                double g = J[(i * C + a) * P + p];
                if (fx.loss == TDL_LOSS_CE) {
                    double bar = 0;
                    for (size_t b = 0; b < C; b++) bar += w[i * C + b] * J[(i * C + b) * P + p];
                    g -= bar;
                }
                D[(i * C + a) * P + p] = hinge ? 0.0 : sqrt(c) * g;
            }
    }
    /* weighted cluster means, times sqrt(W): Mu[(c, c')] (C^2 x P) */
    double *Mu = dalloc(C * C * P), *Wc = dalloc(C * C);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < C; a++) Wc[fx.ds->labels[i] * C + a] += w[i * C + a];
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < C; a++)
            for (size_t p = 0; p < P; p++)
                Mu[(fx.ds->labels[i] * C + a) * P + p] += w[i * C + a] * D[(i * C + a) * P + p] / Wc[fx.ds->labels[i] * C + a];
    double *Gc = dalloc(P * P), *Gx = dalloc(P * P), *Gw = dalloc(P * P);
    for (size_t q = 0; q < C * C; q++) {
        double *T = (q / C == q % C) ? Gc : Gx;
        const double *mu = Mu + q * P;
        for (size_t a = 0; a < P; a++)
            for (size_t b = 0; b < P; b++) T[a * P + b] += Wc[q] * mu[a] * mu[b];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < C; a++) {
            const double *mu = Mu + (fx.ds->labels[i] * C + a) * P, *d = D + (i * C + a) * P;
            for (size_t x = 0; x < P; x++)
                for (size_t y = 0; y < P; y++) Gw[x * P + y] += w[i * C + a] * (d[x] - mu[x]) * (d[y] - mu[y]);
        }
    double *G = dense_G(&fx), *sum = dalloc(P * P);
    for (size_t x = 0; x < P * P; x++) sum[x] = Gc[x] + Gx[x] + Gw[x];
    double gscale = fmax(max_abs(G, P * P), 1e-300);
    ck_assert_msg(max_diff(sum, G, P * P) <= 1e-12 * gscale + (hinge ? 0 : 0), "%s: G_class + G_cross + G_within != G (%.3g)",
                  fx.name, max_diff(sum, G, P * P));
    double tc = 0, tx = 0, tw = 0;
    for (size_t x = 0; x < P; x++) {
        tc += Gc[x * P + x];
        tx += Gx[x * P + x];
        tw += Gw[x * P + x];
    }
    double ts = fmax(tc + tx + tw, 1e-300);
    ck_assert_msg(fabs(r.trace_class - tc) <= 1e-10 * ts, "%s: trace class %.17g vs %.17g", fx.name, r.trace_class, tc);
    ck_assert_msg(fabs(r.trace_cross - tx) <= 1e-10 * ts, "%s: trace cross %.17g vs %.17g", fx.name, r.trace_cross, tx);
    ck_assert_msg(fabs(r.trace_within - tw) <= 1e-10 * ts, "%s: trace within %.17g vs %.17g", fx.name, r.trace_within, tw);
    /* the class part's eigenvalues: the top C of the dense G_class */
    tdl_sym_eigen ec = {0}, ex = {0};
    ck_assert_int_eq(tdl_sym_eigen_solve(Gc, P, 0, P - 1, 0, &ec), TDL_OK);
    ck_assert_int_eq(tdl_sym_eigen_solve(Gx, P, 0, P - 1, 0, &ex), TDL_OK);
    double lscale = fmax(ec.values[P - 1], 1e-300);
    size_t mc = C < P ? C : P;
    for (size_t j = 0; j < mc; j++)
        ck_assert_msg(fabs(r.class_values[C - 1 - j] - ec.values[P - 1 - j]) <= SPEC_TOL * lscale,
                      "%s: class eigenvalue %zu: %.17g vs %.17g", fx.name, j, r.class_values[C - 1 - j], ec.values[P - 1 - j]);
    size_t nx = C * C - C, mx = nx < P ? nx : P;
    double xscale = fmax(ex.values[P - 1], 1e-300);
    for (size_t j = 0; j < mx; j++)
        ck_assert_msg(fabs(r.cross_values[nx - 1 - j] - ex.values[P - 1 - j]) <= SPEC_TOL * xscale,
                      "%s: cross eigenvalue %zu: %.17g vs %.17g", fx.name, j, r.cross_values[nx - 1 - j], ex.values[P - 1 - j]);
    /* shares are fractions of unit vectors: within [0, 1] (roundoff aside) */
    for (size_t j = 0; j < C; j++) {
        if (isnan(r.share_class[j])) { ck_assert(!(r.outlier_values[j] > r.tol)); continue; }
        ck_assert_msg(r.share_class[j] >= -1e-10 && r.share_class[j] <= 1 + 1e-10, "%s: share %.17g", fx.name, r.share_class[j]);
        ck_assert(r.share_cross[j] >= -1e-10 && r.share_cross[j] <= 1 + 1e-10);
    }
    /* the top-C share summed: the projection of the top-C eigenspace of G on
     * the class means' span, from the dense eigenvectors (invariant to the
     * basis inside that space, so checked when a gap separates it) */
    double *G2 = dense_G(&fx);
    tdl_sym_eigen ev = {0};
    ck_assert_int_eq(tdl_sym_eigen_solve(G2, P, 0, P - 1, 1, &ev), TDL_OK);
    double gap = P > C ? ev.values[P - C] - ev.values[P - C - 1] : ev.values[0];
    if (ev.values[P - C] > r.tol && gap > 1e-3 * ev.values[P - 1]) {
        /* span of the class means: columns Mu[(c,c)] ; Gram A = Mc^T Mc */
        double *A = dalloc(C * C);
        for (size_t a = 0; a < C; a++)
            for (size_t b = 0; b < C; b++) A[a * C + b] = dot(Mu + (a * C + a) * P, Mu + (b * C + b) * P, P);
        double af = frob(A, C * C);
        tdl_sym_eigen ea = {0};
        ck_assert_int_eq(tdl_sym_eigen_solve(A, C, 0, C - 1, 1, &ea), TDL_OK);
        double want = 0, got = 0;
        for (size_t j = 0; j < C; j++) {
            const double *v = ev.vectors + (P - 1 - j) * P;
            for (size_t q = 0; q < C; q++) {
                if (!(ea.values[q] > (double)C * DBL_EPSILON * af)) continue;
                double s = 0;
                for (size_t a = 0; a < C; a++) s += ea.vectors[q * C + a] * dot(Mu + (a * C + a) * P, v, P);
                want += s * s / ea.values[q];
            }
            got += r.share_class[j];
        }
        ck_assert_msg(fabs(got - want) <= 1e-8, "%s: summed class share %.17g vs %.17g", fx.name, got, want);
        /* the same through Lanczos on K (the solver of large duals) */
        tdl_gn_dual_result rl;
        cfg.dense_vectors_max = 1;
        ck_assert_msg(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &rl) == TDL_OK, "%s: %s", fx.name, tdl_errmsg());
        ck_assert_str_eq(rl.vector_driver, "lanczos");
        double got2 = 0;
        for (size_t j = 0; j < C; j++) got2 += rl.share_class[j];
        ck_assert_msg(fabs(got2 - want) <= 1e-8, "%s: summed class share (Lanczos) %.17g vs %.17g", fx.name, got2, want);
        tdl_gn_dual_result_free(&rl);
        tdl_sym_eigen_free(&ea);
        free(A);
    }
    tdl_sym_eigen_free(&ev);
    tdl_sym_eigen_free(&ec);
    tdl_sym_eigen_free(&ex);
    free(G2);
    free(G);
    free(sum);
    free(Gc);
    free(Gx);
    free(Gw);
    free(Mu);
    free(Wc);
    free(J);
    free(F);
    free(w);
    free(D);
    tdl_net_work_free(&wk);
    tdl_gn_dual_result_free(&r);
    fixture_free(&fx);
}
END_TEST

/* Bad requests: vectors without k, k beyond n C. */
START_TEST(test_errors)
{
    fixture fx;
    fixture_load("relu_ce", &fx);
    tdl_gn_dual_config cfg;
    tdl_gn_dual_result r;
    tdl_gn_dual_config_default(&cfg);
    cfg.want_vectors = 1;
    ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r), TDL_EINVAL);
    ck_assert_ptr_null(r.values);
    tdl_gn_dual_config_default(&cfg);
    cfg.k = fx.n * fx.C + 1;
    ck_assert_int_eq(tdl_gn_dual(fx.m, fx.loss, fx.ds, &cfg, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "exceeds the order"));
    tdl_gn_dual_result_free(NULL);
    fixture_free(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gn_dual");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_dual_vs_dense, 0, NCASES);
    tcase_add_loop_test(tc, test_vectors, 0, NCASES);
    tcase_add_loop_test(tc, test_class_split, 0, NCASES);
    tcase_add_test(tc, test_gram);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
