/* check_param_mf.c — the mean-field parametrization (--param mf, tdl/model.h).
 *
 * References:
 *   1. golden values from PyTorch in float64 (tests/fixtures/mf/, made by
 *      tests/fixtures/make_mf_fixtures.py with the machinery of
 *      make_net_fixtures.py): mean loss, gradient, Jacobian, H v and G v of
 *      a two-layer erf net and a depth-3 tanh net in the mf parametrization,
 *      read from model files whose metadata says "parametrization": "mf";
 *   2. the closed form of the two-layer mf net written out by hand,
 *      f(x) = (sigma_w / m) sum_r a_r phi(sigma_w w_r.x / sqrt d + sigma_b b_r)
 *             + sigma_b c / sqrt m;
 *   3. the identity f_mf = f_ntk / sqrt(n_{L-1}) at the same theta;
 *   4. save / load round trips, the names, the refusals (xavier; analytic
 *      kernels).
 * Each test prints its observed error beside the tolerance.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_matrix.h>
#include "tdl/tdl.h"

#ifndef TDL_TEST_FIXTURES
#error "TDL_TEST_FIXTURES must name tests/fixtures"
#endif

#include "net_fixture.h"

/* Golden tolerance: as tests/check_net.c (normwise, backward-stable codes,
 * n P <= 8 * 82: ~1e-13, 1e-10 leaves room for the summation orders). */
#define GOLD_TOL 1e-10
#define LOSS_TOL 1e-12
/* A forward pass of a 2-layer net with m = 7 units: the same products and
 * sums in another order, a few m eps relative to the terms' size. */
#define FWD_TOL 1e-14

static const char *const mf_cases[] = {"../mf/mf_erf_mse_regress", "../mf/mf_tanh_ce_deep"};

static char tmpdir[256];

static void setup_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tdl-check-mf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static tdl_mlp *make(const char *arch, tdl_act_kind act, tdl_param_kind param, double sw, double sb, unsigned long seed)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
    cfg.act = (tdl_act){act, 0, 0};
    cfg.param = param;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = sw;
    cfg.sigma_b = sb;
    cfg.seed = seed;
    tdl_mlp *m = NULL;
    ck_assert_msg(tdl_mlp_create(&cfg, &m) == TDL_OK, "%s", tdl_errmsg());
    return m;
}

static void forward(const tdl_mlp *m, const double *X, size_t n, double *F)
{
    tdl_net_work *w = NULL;
    ck_assert_int_eq(tdl_net_work_alloc(m, n, &w), TDL_OK);
    tdl_batch b = {n, X, m->layers[0].in, NULL, NULL, 0};
    ck_assert_int_eq(tdl_mlp_forward(m, &b, w, F), TDL_OK);
    tdl_net_work_free(&w);
}

/* ---- golden values from PyTorch ------------------------------------------------ */

START_TEST(test_golden)
{
    fixture fx;
    fixture_load(mf_cases[_i], &fx);
    ck_assert_int_eq(fx.m->param, TDL_PARAM_MF);
    tdl_net_work *w = work(fx.m, fx.n);
    const size_t P = fx.P, rows = fx.n * fx.C;
    double loss = NAN, *grad = dalloc(P), *J = dalloc(rows * P), *out = dalloc(P);
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &loss, grad), TDL_OK);
    double el = fabs(loss - fx.loss_ref) / fabs(fx.loss_ref), eg = rel_err(grad, fx.grad, P);
    ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, 0, fx.n, w, J), TDL_OK);
    double ej = 0, eh = 0, egn = 0;
    for (size_t r = 0; r < rows; r++) ej = fmax(ej, rel_err(J + r * P, fx.J + r * P, P));
    for (size_t k = 0; k < fx.k; k++) {
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + k * P, 0, w, out), TDL_OK);
        eh = fmax(eh, rel_err(out, fx.HV + k * P, P));
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + k * P, 1, w, out), TDL_OK);
        egn = fmax(egn, rel_err(out, fx.GV + k * P, P));
    }
    printf("param_mf golden %-28s: loss %.2e grad %.2e J %.2e Hv %.2e Gv %.2e (tol %.0e)\n", fx.name, el, eg, ej, eh,
           egn, GOLD_TOL);
    ck_assert_msg(el <= LOSS_TOL, "%s: loss %.17g, torch %.17g", fx.name, loss, fx.loss_ref);
    ck_assert_msg(eg <= GOLD_TOL, "%s: gradient rel error %.2e", fx.name, eg);
    ck_assert_msg(ej <= GOLD_TOL, "%s: Jacobian rel error %.2e", fx.name, ej);
    ck_assert_msg(eh <= GOLD_TOL, "%s: H v rel error %.2e", fx.name, eh);
    ck_assert_msg(egn <= GOLD_TOL, "%s: G v rel error %.2e", fx.name, egn);
    free(grad);
    free(J);
    free(out);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* ---- closed forms ------------------------------------------------------------- */

START_TEST(test_scales_and_closed_form)
{
    const size_t d = 3, m = 7, C = 2, n = 4;
    const double sw = 1.3, sb = 0.7;
    tdl_mlp *net = make("3-7-2", TDL_ACT_ERF, TDL_PARAM_MF, sw, sb, 5);
    ck_assert_double_eq_tol(net->layers[0].w_scale, sw / sqrt(3.0), 1e-16);
    ck_assert(net->layers[0].b_scale == sb);
    ck_assert(net->layers[1].w_scale == sw / 7.0);
    ck_assert(net->layers[1].b_scale == sb / sqrt(7.0));
    double X[4 * 3] = {0.3, -1.2, 0.8, 1.5, 0.1, -0.4, -0.7, 0.9, 2.0, 0.0, -1.1, 0.25};
    double F[4 * 2], hand[4 * 2];
    forward(net, X, n, F);
    const double *W = net->theta + net->layers[0].w_off, *b = net->theta + net->layers[0].b_off;
    const double *A = net->theta + net->layers[1].w_off, *c = net->theta + net->layers[1].b_off;
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < C; k++) {
            double s = 0, size = 0;
            for (size_t r = 0; r < m; r++) {
                double z = 0;
                for (size_t j = 0; j < d; j++) z += W[r * d + j] * X[i * d + j];
                double t = A[k * m + r] * erf(sw * z / sqrt((double)d) + sb * b[r]);
                s += t;
                size += fabs(t);
            }
            hand[i * C + k] = sw * s / (double)m + sb * c[k] / sqrt((double)m);
            double e = fabs(F[i * C + k] - hand[i * C + k]) / (sw * size / (double)m + fabs(sb * c[k]) / sqrt((double)m));
            worst = fmax(worst, e);
        }
    printf("param_mf closed form 3-7-2 erf: worst error %.2e relative to the terms (tol %.0e)\n", worst, FWD_TOL);
    ck_assert_msg(worst <= FWD_TOL, "mf forward vs (sigma_w/m) a.erf(...) + sigma_b c/sqrt m: %.2e", worst);
    tdl_mlp_free(&net);
}
END_TEST

START_TEST(test_mf_is_ntk_over_sqrt_width)
{
    /* the same seed and init draw the same theta (N(0,1) for both); depth 3 */
    tdl_mlp *a = make("4-9-16-3", TDL_ACT_TANH, TDL_PARAM_MF, 1.2, 0.3, 11);
    tdl_mlp *b = make("4-9-16-3", TDL_ACT_TANH, TDL_PARAM_NTK, 1.2, 0.3, 11);
    ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
    for (size_t l = 0; l + 1 < a->depth; l++)
        ck_assert(a->layers[l].w_scale == b->layers[l].w_scale && a->layers[l].b_scale == b->layers[l].b_scale);
    double X[5 * 4], Fa[5 * 3], Fb[5 * 3], worst = 0;
    for (size_t i = 0; i < 20; i++) X[i] = sin(1.7 * (double)i + 0.3);
    forward(a, X, 5, Fa);
    forward(b, X, 5, Fb);
    for (size_t i = 0; i < 15; i++) worst = fmax(worst, fabs(Fa[i] * 4.0 - Fb[i]) / fmax(1e-300, fabs(Fb[i])));
    printf("param_mf f_mf * sqrt(16) vs f_ntk: worst relative %.2e (tol 1e-14)\n", worst);
    ck_assert_msg(worst <= 1e-14, "f_mf sqrt(n_{L-1}) != f_ntk: %.2e", worst);
    /* the empirical NTK: Theta_mf = Theta_ntk / n_{L-1} (the same J, scaled) */
    gsl_matrix *Xm = gsl_matrix_alloc(5, 4), *Ka = gsl_matrix_alloc(5, 5), *Kb = gsl_matrix_alloc(5, 5);
    memcpy(Xm->data, X, sizeof X);
    tdl_ntk_config o;
    tdl_ntk_config_default(&o);
    ck_assert_int_eq(tdl_ntk_empirical(a, Xm, NULL, &o, Ka), TDL_OK);
    ck_assert_int_eq(tdl_ntk_empirical(b, Xm, NULL, &o, Kb), TDL_OK);
    double wk = 0;
    for (size_t i = 0; i < 25; i++) wk = fmax(wk, fabs(Ka->data[i] * 16.0 - Kb->data[i]) / fabs(Kb->data[i]));
    printf("param_mf 16 Theta_mf vs Theta_ntk (empirical, depth 3): worst relative %.2e (tol 1e-13)\n", wk);
    ck_assert_msg(wk <= 1e-13, "n Theta_mf != Theta_ntk: %.2e", wk);
    gsl_matrix_free(Xm);
    gsl_matrix_free(Ka);
    gsl_matrix_free(Kb);
    tdl_mlp_free(&a);
    tdl_mlp_free(&b);
}
END_TEST

/* ---- files and names ------------------------------------------------------------- */

START_TEST(test_save_load_round_trip)
{
    tdl_mlp *m = make("5-7-4-3", TDL_ACT_TANH, TDL_PARAM_MF, 1.3, 0.7, 2024), *back = NULL;
    for (size_t p = 0; p < m->n_params; p++) m->theta[p] += 0.25 * sin((double)p);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/mf.safetensors", tmpdir);
    snprintf(p2, sizeof p2, "%s/mf2.safetensors", tmpdir);
    ck_assert_int_eq(tdl_mlp_save(p1, m), TDL_OK);
    ck_assert_msg(tdl_mlp_load(p1, NULL, &back) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_int_eq(back->param, TDL_PARAM_MF);
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "parametrization"), "mf");
    for (size_t l = 0; l < m->depth; l++)
        ck_assert(back->layers[l].w_scale == m->layers[l].w_scale && back->layers[l].b_scale == m->layers[l].b_scale);
    ck_assert(memcmp(back->theta, m->theta, m->n_params * sizeof(double)) == 0);
    ck_assert(memcmp(back->theta0, m->theta0, m->n_params * sizeof(double)) == 0);
    ck_assert_int_eq(tdl_mlp_save(p2, back), TDL_OK);
    unsigned char *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    ck_assert_int_eq(tdl_read_file(p1, 1 << 24, &b1, &l1), TDL_OK);
    ck_assert_int_eq(tdl_read_file(p2, 1 << 24, &b2, &l2), TDL_OK);
    ck_assert(l1 == l2 && memcmp(b1, b2, l1) == 0);
    free(b1);
    free(b2);
    tdl_mlp_free(&back);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_names_and_refusals)
{
    tdl_param_kind p = TDL_PARAM_STANDARD;
    ck_assert_int_eq(tdl_param_parse("mf", &p), TDL_OK);
    ck_assert_int_eq(p, TDL_PARAM_MF);
    ck_assert_str_eq(tdl_param_name(TDL_PARAM_MF), "mf");
    /* the values of the older names are unchanged */
    ck_assert_int_eq(TDL_PARAM_STANDARD, 0);
    ck_assert_int_eq(TDL_PARAM_NTK, 1);
    tdl_mlp_config *cfg = tdl_mlp_config_new();
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "param", "mf"), TDL_OK);
    ck_assert_int_eq(cfg->param, TDL_PARAM_MF);
    tdl_mlp_config_free(&cfg);
    /* xavier belongs to the standard parametrization */
    tdl_mlp_config c;
    tdl_mlp_config_default(&c);
    ck_assert_int_eq(tdl_arch_parse("3-4-1", &c), TDL_OK);
    c.param = TDL_PARAM_MF;
    c.init = TDL_INIT_XAVIER;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&c, &m), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), "mf stores N(0,1) weights"), "%s", tdl_errmsg());
    /* no analytic kernel: refused with the reason */
    m = make("3-8-1", TDL_ACT_ERF, TDL_PARAM_MF, 1.0, 0.0, 1);
    tdl_ntk_analytic_config ac;
    tdl_ntk_analytic_config_from_mlp(m, &ac);
    gsl_matrix *X = gsl_matrix_alloc(2, 3), *K = gsl_matrix_alloc(2, 2);
    gsl_matrix_set_all(X, 0.5);
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, NULL, K), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), "mean-field parametrization has no infinite-width kernel"), "%s", tdl_errmsg());
    ck_assert_int_eq(tdl_ntk_analytic(&ac, X, NULL, K, NULL), TDL_EINVAL);
    gsl_matrix_free(X);
    gsl_matrix_free(K);
    tdl_mlp_free(&m);
}
END_TEST

static Suite *mf_suite(void)
{
    Suite *s = suite_create("param_mf");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup_tmp, teardown_tmp);
    tcase_add_loop_test(core, test_golden, 0, (int)(sizeof mf_cases / sizeof mf_cases[0]));
    tcase_add_test(core, test_scales_and_closed_form);
    tcase_add_test(core, test_mf_is_ntk_over_sqrt_width);
    tcase_add_test(core, test_save_load_round_trip);
    tcase_add_test(core, test_names_and_refusals);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
