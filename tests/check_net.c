/* check_net.c — losses and exact derivatives of an MLP (tdl/net.h).
 *
 * Two independent references:
 *   1. golden values from PyTorch in float64 (tests/fixtures/net/, made by
 *      tests/fixtures/make_net_fixtures.py): mean loss, gradient, Jacobian,
 *      dense Hessian H, Gauss-Newton matrix G, H v and G v;
 *   2. properties that need no other implementation: central finite
 *      differences (loss -> gradient, gradient -> H v, outputs -> J v),
 *      symmetry of H, positive semi-definiteness of G, the closed form of H
 *      for a linear model under mse, H = G for depth 1, and independence
 *      of every result from the work space's block size.
 *
 * Shape legend (as in net.h): n examples, d inputs, C outputs, P = n_params;
 * J is (n C) x P with row i*C + c; H, G are P x P row-major; V, HV, GV are
 * k x P (one direction a row).
 *
 * Training (tdl/train.h, no suite of its own): the stop reasons and the
 * divergence criterion -- (a) non-finite values, (b) the full loss above
 * diverge_factor x max(L_0, L_zero) -- against reference runs with the
 * criterion off, on a linear least-squares problem.
 *
 * Each test prints one line "net <test> <case>: <quantity> <worst error>"
 * so that the observed accuracy is on record next to the tolerance.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "tdl/model.h"
#include "tdl/net.h"

#ifndef TDL_TEST_FIXTURES
#error "TDL_TEST_FIXTURES must name tests/fixtures"
#endif

/* Golden tolerance, relative to the max-norm of the reference quantity.
 * Why normwise and not entrywise: an entry of a gradient, a Jacobian or H v
 * is a sum over examples and units of terms of both signs, and may be tiny
 * or exactly zero by cancellation; its absolute rounding error is set by the
 * size of the terms, i.e. by the scale of the whole quantity.  Both codes
 * are backward stable, so |got - ref|_inf <= c * (depth * n * P) * eps *
 * ||ref||_inf with a modest c; with n P <= 12 * 89 ~ 1e3 that is ~ 1e-13 to
 * 1e-12, and 1e-10 leaves room for the different summation orders (BLAS
 * blocking versus PyTorch's kernels) while still catching any wrong term
 * (a missing term is an O(1) relative error). */
#define GOLD_TOL 1e-10
/* The loss is one well-conditioned number (a mean of positive terms). */
#define LOSS_TOL 1e-12
/* Results computed by the same code with other block sizes differ only by
 * the order of the sums over examples: a few n * eps. */
#define BLOCK_TOL 1e-13

#include "net_fixture.h"

/* Central differences.  D(h) = [f(x + h u) - f(x - h u)] / (2h) has a
 * truncation error h^2/6 |f'''| and a rounding error ~ eps |f| / h (f is
 * evaluated to ~ eps |f|).  The step h = eps^(1/3) s, s = max(1, |theta|_inf)
 * the scale of the parameters (u has unit 2-norm), balances the two at
 * ~ eps^(2/3) ~ 4e-11 in units of the function's scale.  The tolerance
 * 20 (h^2 + eps/h) * scale allows a factor 20 for the unknown third
 * derivative and the accumulated rounding of the sums over examples
 * (observed errors stay below 1e-10 * scale; a wrong or missing term in a
 * derivative is an O(1) relative error). */
static double fd_step(const tdl_mlp *m)
{
    return cbrt(DBL_EPSILON) * fmax(1.0, max_abs(m->theta, m->n_params));
}

static double fd_tol(double h, double scale)
{
    return 20.0 * (h * h + DBL_EPSILON / h) * scale;
}

/* theta <- theta0 + t u */
static void shift(tdl_mlp *m, const double *theta0, const double *u, double t)
{
    for (size_t p = 0; p < m->n_params; p++) m->theta[p] = theta0[p] + t * u[p];
}

/* Outputs F (n x C) of the whole data set (w has capacity >= n). */
static void outputs(const fixture *fx, tdl_net_work *w, double *F)
{
    tdl_batch b = tdl_batch_rows(fx->ds, 0, fx->n);
    ck_assert_int_eq(tdl_mlp_forward(fx->m, &b, w, F), TDL_OK);
}

/* ---- core: golden values from PyTorch ---------------------------------------- */

START_TEST(test_golden_loss_grad)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    double loss = NAN, *grad = dalloc(fx.P);
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &loss, grad), TDL_OK);
    double el = fabs(loss - fx.loss_ref) / fabs(fx.loss_ref);
    double eg = rel_err(grad, fx.grad, fx.P);
    printf("net golden %-22s: loss %.2e grad %.2e\n", fx.name, el, eg);
    ck_assert_msg(el <= LOSS_TOL, "%s: loss %.17g, torch %.17g (rel %.2e)", fx.name, loss, fx.loss_ref, el);
    ck_assert_msg(eg <= GOLD_TOL, "%s: gradient rel error %.2e", fx.name, eg);
    /* loss only (grad NULL) gives the same number */
    double loss2 = NAN;
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &loss2, NULL), TDL_OK);
    ck_assert(loss2 == loss);
    free(grad);
    tdl_net_work_free(&w);
    ck_assert_ptr_null(w);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_golden_jacobian)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    const size_t rows = fx.n * fx.C, P = fx.P;
    double *J = dalloc(rows * P), worst = 0;
    ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, 0, fx.n, w, J), TDL_OK);
    for (size_t r = 0; r < rows; r++) {
        /* each row d f_c(x_i) / d theta against its own max-norm */
        double e = rel_err(J + r * P, fx.J + r * P, P);
        worst = fmax(worst, e);
        ck_assert_msg(e <= GOLD_TOL, "%s: Jacobian row %zu (example %zu, output %zu) rel error %.2e",
                      fx.name, r, r / fx.C, r % fx.C, e);
    }
    printf("net golden %-22s: J rows %.2e\n", fx.name, worst);
    free(J);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_golden_hvp_gvp)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    double *out = dalloc(fx.P), worst_h = 0, worst_g = 0;
    for (size_t k = 0; k < fx.k; k++) {
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + k * fx.P, 0, w, out), TDL_OK);
        double eh = rel_err(out, fx.HV + k * fx.P, fx.P);
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + k * fx.P, 1, w, out), TDL_OK);
        double eg = rel_err(out, fx.GV + k * fx.P, fx.P);
        worst_h = fmax(worst_h, eh);
        worst_g = fmax(worst_g, eg);
        ck_assert_msg(eh <= GOLD_TOL, "%s: H v (direction %zu) rel error %.2e", fx.name, k, eh);
        ck_assert_msg(eg <= GOLD_TOL, "%s: G v (direction %zu) rel error %.2e", fx.name, k, eg);
    }
    printf("net golden %-22s: Hv %.2e Gv %.2e\n", fx.name, worst_h, worst_g);
    free(out);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_golden_dense_h_g)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    double *H = assemble(&fx, w, 0), *G = assemble(&fx, w, 1);
    double eh = rel_err(H, fx.H, fx.P * fx.P), eg = rel_err(G, fx.G, fx.P * fx.P);
    printf("net golden %-22s: dense H %.2e dense G %.2e\n", fx.name, eh, eg);
    ck_assert_msg(eh <= GOLD_TOL, "%s: dense H rel error %.2e", fx.name, eh);
    ck_assert_msg(eg <= GOLD_TOL, "%s: dense G rel error %.2e", fx.name, eg);
    free(H);
    free(G);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* ---- core: finite differences ------------------------------------------------- */

START_TEST(test_fd_loss_vs_grad)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 101 + (unsigned long)_i);
    const size_t P = fx.P;
    double *theta0 = dalloc(P), *u = dalloc(P), *g = dalloc(P), *Hu = dalloc(P);
    memcpy(theta0, fx.m->theta, P * sizeof(double));
    double L0, worst = 0;
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &L0, g), TDL_OK);
    const double h = fd_step(fx.m);
    for (int k = 0; k < 4; k++) {
        random_unit(r, u, P);
        double Lp, Lm;
        shift(fx.m, theta0, u, h);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &Lp, NULL), TDL_OK);
        shift(fx.m, theta0, u, -h);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &Lm, NULL), TDL_OK);
        memcpy(fx.m->theta, theta0, P * sizeof(double));
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, u, 0, w, Hu), TDL_OK);
        double fd = (Lp - Lm) / (2 * h), gu = dot(g, u, P);
        /* scale: the loss, its slope and curvature along u */
        double scale = fmax(1.0, fmax(fabs(L0), fmax(fabs(gu), max_abs(Hu, P))));
        double err = fabs(fd - gu), tol = fd_tol(h, scale);
        worst = fmax(worst, err / scale);
        ck_assert_msg(err <= tol, "%s: FD loss slope %.17g vs grad.u %.17g (err %.2e > tol %.2e)",
                      fx.name, fd, gu, err, tol);
    }
    printf("net fd %-22s: grad.u %.2e (h %.1e, tol %.1e)\n", fx.name, worst, h, fd_tol(h, 1.0));
    free(theta0);
    free(u);
    free(g);
    free(Hu);
    gsl_rng_free(r);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_fd_grad_vs_hvp)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 202 + (unsigned long)_i);
    const size_t P = fx.P;
    double *theta0 = dalloc(P), *u = dalloc(P), *gp = dalloc(P), *gm = dalloc(P), *Hu = dalloc(P), *fd = dalloc(P);
    memcpy(theta0, fx.m->theta, P * sizeof(double));
    const double h = fd_step(fx.m);
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        random_unit(r, u, P);
        shift(fx.m, theta0, u, h);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, NULL, gp), TDL_OK);
        shift(fx.m, theta0, u, -h);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, NULL, gm), TDL_OK);
        memcpy(fx.m->theta, theta0, P * sizeof(double));
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, u, 0, w, Hu), TDL_OK);
        for (size_t p = 0; p < P; p++) fd[p] = (gp[p] - gm[p]) / (2 * h);
        double scale = fmax(1.0, fmax(max_abs(gp, P), max_abs(Hu, P)));
        double err = max_diff(fd, Hu, P), tol = fd_tol(h, scale);
        worst = fmax(worst, err / scale);
        ck_assert_msg(err <= tol, "%s: FD of the gradient vs H u: err %.2e > tol %.2e", fx.name, err, tol);
    }
    printf("net fd %-22s: Hv %.2e\n", fx.name, worst);
    free(theta0);
    free(u);
    free(gp);
    free(gm);
    free(Hu);
    free(fd);
    gsl_rng_free(r);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_fd_outputs_vs_jv)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 303 + (unsigned long)_i);
    const size_t P = fx.P, rows = fx.n * fx.C;
    double *theta0 = dalloc(P), *u = dalloc(P), *J = dalloc(rows * P);
    double *Fp = dalloc(rows), *Fm = dalloc(rows), *F0 = dalloc(rows), *Ju = dalloc(rows), *fd = dalloc(rows);
    memcpy(theta0, fx.m->theta, P * sizeof(double));
    ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, 0, fx.n, w, J), TDL_OK);
    outputs(&fx, w, F0);
    const double h = fd_step(fx.m);
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        random_unit(r, u, P);
        shift(fx.m, theta0, u, h);
        outputs(&fx, w, Fp);
        shift(fx.m, theta0, u, -h);
        outputs(&fx, w, Fm);
        memcpy(fx.m->theta, theta0, P * sizeof(double));
        for (size_t i = 0; i < rows; i++) {
            Ju[i] = dot(J + i * P, u, P);
            fd[i] = (Fp[i] - Fm[i]) / (2 * h);
        }
        double scale = fmax(1.0, fmax(max_abs(F0, rows), max_abs(Ju, rows)));
        double err = max_diff(fd, Ju, rows), tol = fd_tol(h, scale);
        worst = fmax(worst, err / scale);
        ck_assert_msg(err <= tol, "%s: FD of the outputs vs J u: err %.2e > tol %.2e", fx.name, err, tol);
    }
    printf("net fd %-22s: Jv %.2e\n", fx.name, worst);
    free(theta0);
    free(u);
    free(J);
    free(Fp);
    free(Fm);
    free(F0);
    free(Ju);
    free(fd);
    gsl_rng_free(r);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* ---- core: properties ---------------------------------------------------------- */

/* u^T H v = v^T H u (H is a Hessian) and likewise for G. */
START_TEST(test_symmetry)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 404 + (unsigned long)_i);
    const size_t P = fx.P;
    double *u = dalloc(P), *v = dalloc(P), *Hu = dalloc(P), *Hv = dalloc(P), worst = 0;
    for (int gn = 0; gn < 2; gn++)
        for (int k = 0; k < 3; k++) {
            random_unit(r, u, P);
            random_unit(r, v, P);
            ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, u, gn, w, Hu), TDL_OK);
            ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, v, gn, w, Hv), TDL_OK);
            double a = dot(u, Hv, P), b = dot(v, Hu, P);
            /* |u^T H v| <= |u| |H v|; rounding of the products is ~ P eps |u||Hv| */
            double scale = fmax(max_abs(Hu, P), max_abs(Hv, P)) * sqrt((double)P);
            double e = scale > 0 ? fabs(a - b) / scale : fabs(a - b);
            worst = fmax(worst, e);
            ck_assert_msg(e <= 1e-12, "%s: %s not symmetric: u'Mv %.17g v'Mu %.17g", fx.name, gn ? "G" : "H", a, b);
        }
    printf("net prop %-22s: symmetry %.2e\n", fx.name, worst);
    free(u);
    free(v);
    free(Hu);
    free(Hv);
    gsl_rng_free(r);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* G = (1/n) sum J_i^T H_l,i J_i is PSD when every H_l,i is (mse: I, ce:
 * diag p - p p^T, logistic: sigma(1-sigma)); for hinge H_l = 0, so G = 0. */
START_TEST(test_gauss_newton_psd)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    const size_t P = fx.P;
    double *G = assemble(&fx, w, 1);
    if (fx.loss == TDL_LOSS_HINGE) {
        ck_assert_msg(max_abs(G, P * P) == 0.0, "%s: hinge G should be exactly 0", fx.name);
        printf("net prop %-22s: G = 0 (hinge)\n", fx.name);
    } else {
        double *ev = dalloc(P);
        lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)P, G, (lapack_int)P, ev);
        ck_assert_int_eq(info, 0);
        /* rounding in the products and in dsyev (backward stable) moves the
         * eigenvalues by ~ P eps ||G||_2, ||G||_2 = max |eigenvalue| */
        double norm = fmax(fabs(ev[0]), fabs(ev[P - 1]));
        ck_assert(norm > 0);
        double tiny = 8.0 * (double)P * DBL_EPSILON * norm;
        printf("net prop %-22s: min eig G %.2e (bound -%.1e), max %.3g\n", fx.name, ev[0], tiny, ev[P - 1]);
        ck_assert_msg(ev[0] >= -tiny, "%s: G has eigenvalue %.3e < -%.1e", fx.name, ev[0], tiny);
        free(ev);
        /* and v^T G v >= 0 along random directions */
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 505);
        double *v = dalloc(P), *Gv = dalloc(P);
        for (int k = 0; k < 5; k++) {
            random_unit(r, v, P);
            ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, v, 1, w, Gv), TDL_OK);
            ck_assert_msg(dot(v, Gv, P) >= -tiny, "%s: v'Gv = %.3e", fx.name, dot(v, Gv, P));
        }
        free(v);
        free(Gv);
        gsl_rng_free(r);
    }
    free(G);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* Depth-1 linear model, mse: f = W x + b, loss (1/n) sum 1/2 |W x + b - y|^2,
 * so with the augmented input a = [x, 1] the Hessian is (1/n) sum a a^T (x) I_C.
 * In tdl's flat order theta = (W (C x d row-major), b): the parameter
 * (c, k) is W[c][k] at c*d + k for k < d and b[c] at C*d + c for k = d. */
START_TEST(test_linear_mse_closed_form)
{
    fixture fx;
    fixture_load("linear_mse_regress", &fx);
    ck_assert_uint_eq(fx.m->depth, 1);
    tdl_net_work *w = work(fx.m, 4);
    const size_t n = fx.n, d = fx.d, C = fx.C, P = fx.P;
    ck_assert_uint_eq(P, C * d + C);
    double *E = dalloc(P * P);
    for (size_t c = 0; c < C; c++)
        for (size_t k = 0; k <= d; k++)
            for (size_t k2 = 0; k2 <= d; k2++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) {
                    double a = k < d ? gsl_matrix_get(fx.ds->X, i, k) : 1.0;
                    double a2 = k2 < d ? gsl_matrix_get(fx.ds->X, i, k2) : 1.0;
                    s += a * a2;
                }
                size_t p = k < d ? c * d + k : C * d + c, q = k2 < d ? c * d + k2 : C * d + c;
                E[p * P + q] = s / (double)n;
            }
    double *H = assemble(&fx, w, 0), *G = assemble(&fx, w, 1);
    /* both are sums of n products: n eps relative rounding */
    double tol = 4.0 * (double)n * DBL_EPSILON;
    double eh = rel_err(H, E, P * P), eg = rel_err(G, E, P * P);
    printf("net prop linear closed form: H %.2e G %.2e (tol %.1e)\n", eh, eg, tol);
    ck_assert_msg(eh <= tol, "H vs (1/n) X'X (x) I: %.2e", eh);
    ck_assert_msg(eg <= tol, "G vs (1/n) X'X (x) I: %.2e", eg);
    /* the Hessian does not depend on theta: same at another point */
    for (size_t p = 0; p < P; p++) fx.m->theta[p] += 0.5 * sin((double)p);
    double *H2 = assemble(&fx, w, 0);
    ck_assert(rel_err(H2, E, P * P) <= tol);
    free(E);
    free(H);
    free(G);
    free(H2);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* For depth 1 the outputs are linear in theta, so H = J^T H_l J = G exactly
 * for every loss (here mse and ce); for a deeper net they differ. */
START_TEST(test_depth1_h_equals_g)
{
    static const char *const names[] = {"linear_mse_regress", "linear_ce", "tanh_ce"};
    for (int c = 0; c < 3; c++) {
        fixture fx;
        fixture_load(names[c], &fx);
        tdl_net_work *w = work(fx.m, fx.n);
        double *H = assemble(&fx, w, 0), *G = assemble(&fx, w, 1);
        double e = rel_err(G, H, fx.P * fx.P);
        printf("net prop %-22s: |H - G| / |H| = %.2e\n", fx.name, e);
        if (fx.m->depth == 1) ck_assert_msg(e <= 4 * DBL_EPSILON, "%s: H != G (%.2e)", fx.name, e);
        else ck_assert_msg(e > 1e-3, "%s: H and G should differ for a deep net", fx.name);
        free(H);
        free(G);
        tdl_net_work_free(&w);
        fixture_free(&fx);
    }
}
END_TEST

/* Deep linear net under mse: the loss is a polynomial of degree 2 in every
 * single layer, so along a direction touching only one layer the
 * finite-difference second derivative is exact up to rounding. */
START_TEST(test_deep_linear_layerwise_quadratic)
{
    fixture fx;
    fixture_load("deep_linear_mse", &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    const size_t P = fx.P;
    double *theta0 = dalloc(P), *u = dalloc(P), *Hu = dalloc(P);
    memcpy(theta0, fx.m->theta, P * sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 606);
    for (size_t l = 0; l < fx.m->depth; l++) {
        const tdl_layer *L = &fx.m->layers[l];
        memset(u, 0, P * sizeof(double));
        size_t len = L->in * L->out + (L->has_bias ? L->out : 0);
        random_unit(r, u + L->w_off, len);
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, u, 0, w, Hu), TDL_OK);
        double L0, Lp, Lm, t = 0.5; /* a big step is exact for a quadratic */
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &L0, NULL), TDL_OK);
        shift(fx.m, theta0, u, t);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &Lp, NULL), TDL_OK);
        shift(fx.m, theta0, u, -t);
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &Lm, NULL), TDL_OK);
        memcpy(fx.m->theta, theta0, P * sizeof(double));
        double curv = (Lp - 2 * L0 + Lm) / (t * t), uHu = dot(u, Hu, P);
        double tol = 64 * DBL_EPSILON * fmax(fabs(L0), fabs(Lp) + fabs(Lm)) / (t * t);
        ck_assert_msg(fabs(curv - uHu) <= tol, "layer %zu: second difference %.17g vs u'Hu %.17g", l, curv, uHu);
    }
    free(theta0);
    free(u);
    free(Hu);
    gsl_rng_free(r);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* Frozen layers still get their true partial derivatives (net.h). */
START_TEST(test_frozen_layers_same_derivatives)
{
    fixture fx;
    fixture_load("deep_tanh_5_7_4_3", &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    double *g1 = dalloc(fx.P), *g2 = dalloc(fx.P), *h1 = dalloc(fx.P), *h2 = dalloc(fx.P);
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, NULL, g1), TDL_OK);
    ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + fx.P, 0, w, h1), TDL_OK);
    fx.m->layers[0].trainable = 0;
    fx.m->layers[2].trainable = 0;
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, NULL, g2), TDL_OK);
    ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, fx.V + fx.P, 0, w, h2), TDL_OK);
    ck_assert(memcmp(g1, g2, fx.P * sizeof(double)) == 0);
    ck_assert(memcmp(h1, h2, fx.P * sizeof(double)) == 0);
    free(g1);
    free(g2);
    free(h1);
    free(h2);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* ---- limits: block sizes ---------------------------------------------------------- */

START_TEST(test_work_capacity_independence)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P, caps[] = {1, 3, fx.n, fx.n + 5};
    double *g_ref = dalloc(P), *h_ref = dalloc(P), *gn_ref = dalloc(P), L_ref = 0;
    double *g = dalloc(P), *h = dalloc(P), *gn = dalloc(P), worst = 0;
    const double *v = fx.V + 2 * P; /* a Gaussian direction */
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        tdl_net_work *w = work(fx.m, caps[c]);
        double L;
        double *gg = c ? g : g_ref, *hh = c ? h : h_ref, *nn = c ? gn : gn_ref;
        ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, w, &L, gg), TDL_OK);
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, v, 0, w, hh), TDL_OK);
        ck_assert_int_eq(tdl_mlp_hvp(fx.m, fx.loss, fx.ds, v, 1, w, nn), TDL_OK);
        tdl_net_work_free(&w);
        if (c == 0) {
            L_ref = L;
            continue;
        }
        double e[4] = {fabs(L - L_ref) / fabs(L_ref), rel_err(g, g_ref, P), rel_err(h, h_ref, P),
                       rel_err(gn, gn_ref, P)};
        for (int q = 0; q < 4; q++) {
            worst = fmax(worst, e[q]);
            ck_assert_msg(e[q] <= BLOCK_TOL, "%s: capacity %zu vs 1: %s differs by %.2e", fx.name, caps[c],
                          (const char *[]){"loss", "gradient", "Hv", "Gv"}[q], e[q]);
        }
    }
    printf("net limits %-22s: capacity 1/3/n/n+5 worst %.2e\n", fx.name, worst);
    free(g_ref);
    free(h_ref);
    free(gn_ref);
    free(g);
    free(h);
    free(gn);
    fixture_free(&fx);
}
END_TEST

START_TEST(test_jacobian_blocks)
{
    fixture fx;
    fixture_load(case_names[_i], &fx);
    const size_t P = fx.P, C = fx.C, n = fx.n;
    tdl_net_work *wfull = work(fx.m, n);
    double *J = dalloc(n * C * P), *Jb = dalloc(n * C * P);
    ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, 0, n, wfull, J), TDL_OK);
    const size_t blocks[] = {1, 3, 4};
    double worst = 0;
    for (size_t b = 0; b < 3; b++) {
        tdl_net_work *w = work(fx.m, blocks[b]);
        memset(Jb, 0xff, n * C * P * sizeof(double)); /* NaN: every entry must be written */
        for (size_t r0 = 0; r0 < n; r0 += blocks[b]) {
            size_t nb = n - r0 < blocks[b] ? n - r0 : blocks[b];
            ck_assert_int_eq(tdl_mlp_jacobian(fx.m, fx.ds, r0, nb, w, Jb + r0 * C * P), TDL_OK);
        }
        double e = rel_err(Jb, J, n * C * P);
        worst = fmax(worst, e);
        ck_assert_msg(e <= BLOCK_TOL, "%s: Jacobian by blocks of %zu differs by %.2e", fx.name, blocks[b], e);
        tdl_net_work_free(&w);
    }
    /* a work space reused after a Jacobian still computes gradients right */
    double *g1 = dalloc(P), *g2 = dalloc(P);
    ck_assert_int_eq(tdl_mlp_loss_grad(fx.m, fx.loss, fx.ds, wfull, NULL, g1), TDL_OK);
    ck_assert(rel_err(g1, fx.grad, P) <= GOLD_TOL);
    /* the block size for a budget */
    size_t per = C * P * sizeof(double);
    ck_assert_uint_eq(tdl_jacobian_block_rows(fx.m, 3 * per), 3);
    ck_assert_uint_eq(tdl_jacobian_block_rows(fx.m, 3 * per + per - 1), 3);
    ck_assert_uint_eq(tdl_jacobian_block_rows(fx.m, 0), 1);
    printf("net limits %-22s: Jacobian blocks %.2e\n", fx.name, worst);
    free(g1);
    free(g2);
    free(J);
    free(Jb);
    tdl_net_work_free(&wfull);
    fixture_free(&fx);
}
END_TEST

/* tdl_mlp_batch_grad accumulates (+=) with a scale: two half batches with
 * scale 1/n equal the whole. */
START_TEST(test_batch_grad_accumulates)
{
    fixture fx;
    fixture_load("softplus_ce", &fx);
    tdl_net_work *w = work(fx.m, fx.n);
    double *g = dalloc(fx.P), L = 0;
    size_t half = fx.n / 2;
    tdl_batch b1 = tdl_batch_rows(fx.ds, 0, half), b2 = tdl_batch_rows(fx.ds, half, fx.n - half);
    ck_assert_uint_eq(b1.n + b2.n, fx.n);
    ck_assert_int_eq(tdl_mlp_batch_grad(fx.m, fx.loss, &b1, 1.0 / (double)fx.n, w, &L, g), TDL_OK);
    ck_assert_int_eq(tdl_mlp_batch_grad(fx.m, fx.loss, &b2, 1.0 / (double)fx.n, w, &L, g), TDL_OK);
    ck_assert(fabs(L - fx.loss_ref) <= LOSS_TOL * fx.loss_ref);
    ck_assert(rel_err(g, fx.grad, fx.P) <= GOLD_TOL);
    /* loss only */
    double L2 = 0;
    ck_assert_int_eq(tdl_mlp_batch_grad(fx.m, fx.loss, &b1, 2.0, w, &L2, NULL), TDL_OK);
    ck_assert(L2 > 0);
    free(g);
    tdl_net_work_free(&w);
    fixture_free(&fx);
}
END_TEST

/* ---- limits: evaluation on hand-made cases -------------------------------------- */

static tdl_dataset *make_ds(size_t n, size_t d, size_t classes, size_t k, const double *X,
                            const size_t *labels, const double *Y)
{
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_dataset_create(n, d, classes, k, &ds), TDL_OK);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, X[i * d + j]);
        if (classes) ds->labels[i] = labels[i];
        else
            for (size_t j = 0; j < k; j++) gsl_matrix_set(ds->Y, i, j, Y[i * k + j]);
    }
    return ds;
}

/* A depth-1 identity net with the given W (C x d) and b (C, may be NULL). */
static tdl_mlp *make_linear(size_t d, size_t C, const double *W, const double *b)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 1;
    cfg.widths[0] = d;
    cfg.widths[1] = C;
    cfg.init = TDL_INIT_ZERO;
    cfg.act.kind = TDL_ACT_IDENTITY;
    cfg.bias = b != NULL;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    memcpy(m->theta + m->layers[0].w_off, W, C * d * sizeof(double));
    if (b) memcpy(m->theta + m->layers[0].b_off, b, C * sizeof(double));
    return m;
}

static tdl_mlp *make_deep(const char *arch, const char *act)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse(act, &cfg.act), TDL_OK);
    cfg.sigma_b = 0.1;
    cfg.seed = 5;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    return m;
}

START_TEST(test_evaluate_hand_multiclass)
{
    /* f = W x + b, W = [[1,0],[0,1],[-1,-1]], b = (0,0,0.5) */
    const double W[6] = {1, 0, 0, 1, -1, -1}, b[3] = {0, 0, 0.5};
    const double X[10] = {2, 0, 0, 1, 1, 1, -1, -1, 0.5, 2};
    const size_t y[5] = {0, 1, 2, 2, 0};
    /* outputs (2,0,-1.5) (0,1,-0.5) (1,1,-1.5) (-1,-1,2.5) (0.5,2,-2) */
    const double F[15] = {2, 0, -1.5, 0, 1, -0.5, 1, 1, -1.5, -1, -1, 2.5, 0.5, 2, -2};
    const double margins[5] = {2, 1, -2.5, 3.5, -1.5}; /* f_y - max_{j != y} f_j */
    tdl_mlp *m = make_linear(2, 3, W, b);
    tdl_dataset *ds = make_ds(5, 2, 3, 0, X, y, NULL);
    for (size_t cap = 1; cap <= 5; cap += 2) {
        tdl_net_work *w = work(m, cap);
        for (int lk = 0; lk < 3; lk++) {
            tdl_loss_kind loss = (tdl_loss_kind[]){TDL_LOSS_MSE, TDL_LOSS_CE, TDL_LOSS_HINGE}[lk];
            double expect = 0;
            for (size_t i = 0; i < 5; i++) {
                const double *f = F + 3 * i;
                double l = 0, mx = -INFINITY, se = 0;
                for (size_t j = 0; j < 3; j++) {
                    double t = f[j] - (j == y[i] ? 1.0 : 0.0);
                    l += 0.5 * t * t;
                    if (j != y[i]) mx = fmax(mx, f[j]);
                    se += exp(f[j]);
                }
                if (loss == TDL_LOSS_CE) l = log(se) - f[y[i]];
                if (loss == TDL_LOSS_HINGE) l = fmax(0.0, 1 + mx - f[y[i]]);
                expect += l / 5;
            }
            tdl_eval_stats st;
            ck_assert_int_eq(tdl_mlp_evaluate(m, loss, ds, w, &st), TDL_OK);
            ck_assert_uint_eq(st.n, 5);
            ck_assert_msg(fabs(st.loss - expect) <= 8 * DBL_EPSILON * expect, "%s: loss %.17g vs %.17g",
                          tdl_loss_name(loss), st.loss, expect);
            ck_assert_double_eq(st.error, 0.4);
            ck_assert_double_eq(st.accuracy, 0.6);
            ck_assert_ptr_nonnull(st.margins);
            for (size_t i = 0; i < 5; i++) ck_assert_double_eq_tol(st.margins[i], margins[i], 1e-15);
            tdl_eval_stats_free(&st);
            ck_assert_ptr_null(st.margins);
            /* predicted classes */
            static const size_t predicted[5] = {0, 1, 0, 2, 1}; /* ties go to the first */
            for (size_t i = 0; i < 5; i++) ck_assert_uint_eq(tdl_predict_class(loss, 3, F + 3 * i), predicted[i]);
        }
        tdl_net_work_free(&w);
    }
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_evaluate_hand_binary)
{
    /* one output f = x1 - x2 + 0.25: logistic/hinge threshold 0, mse 0.5 */
    const double W[2] = {1, -1}, b[1] = {0.25};
    const double X[6] = {1, 0, 0, 1, 0, 0.2};
    const size_t y[3] = {1, 0, 0};
    /* f = 1.25, -0.75, 0.05 */
    tdl_mlp *m = make_linear(2, 1, W, b);
    tdl_dataset *ds = make_ds(3, 2, 2, 0, X, y, NULL);
    tdl_net_work *w = work(m, 2);
    tdl_eval_stats st;
    ck_assert_int_eq(tdl_mlp_evaluate(m, TDL_LOSS_LOGISTIC, ds, w, &st), TDL_OK);
    double expect = (log1p(exp(-1.25)) + log1p(exp(-0.75)) + log1p(exp(0.05))) / 3;
    ck_assert_double_eq_tol(st.loss, expect, 4 * DBL_EPSILON);
    ck_assert_double_eq_tol(st.error, 1.0 / 3, 1e-15);
    ck_assert_double_eq_tol(st.margins[0], 1.25, 1e-15);
    ck_assert_double_eq_tol(st.margins[1], 0.75, 1e-15);
    ck_assert_double_eq_tol(st.margins[2], -0.05, 1e-15);
    tdl_eval_stats_free(&st);
    /* mse on 0/1 labels: threshold 0.5, margin s (f - 0.5) */
    ck_assert_int_eq(tdl_mlp_evaluate(m, TDL_LOSS_MSE, ds, w, &st), TDL_OK);
    expect = (0.5 * 0.25 * 0.25 + 0.5 * 0.75 * 0.75 + 0.5 * 0.05 * 0.05) / 3;
    ck_assert_double_eq_tol(st.loss, expect, 4 * DBL_EPSILON);
    ck_assert_double_eq(st.error, 0.0);
    ck_assert_double_eq(st.accuracy, 1.0);
    ck_assert_double_eq_tol(st.margins[0], 0.75, 1e-15);
    ck_assert_double_eq_tol(st.margins[1], 1.25, 1e-15);
    ck_assert_double_eq_tol(st.margins[2], 0.45, 1e-15);
    tdl_eval_stats_free(&st);
    /* hinge: max(0, 1 - s f) */
    ck_assert_int_eq(tdl_mlp_evaluate(m, TDL_LOSS_HINGE, ds, w, &st), TDL_OK);
    ck_assert_double_eq_tol(st.loss, (0 + 0.25 + 1.05) / 3, 4 * DBL_EPSILON);
    tdl_eval_stats_free(&st);
    ck_assert_uint_eq(tdl_predict_class(TDL_LOSS_LOGISTIC, 1, (double[]){0.05}), 1);
    ck_assert_uint_eq(tdl_predict_class(TDL_LOSS_MSE, 1, (double[]){0.05}), 0);
    ck_assert_uint_eq(tdl_predict_class(TDL_LOSS_MSE, 1, (double[]){0.51}), 1);
    tdl_net_work_free(&w);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_evaluate_regression)
{
    const double W[2] = {2, -1}, X[4] = {1, 0, 0, 1}, Y[2] = {1.5, -1};
    tdl_mlp *m = make_linear(2, 1, W, NULL);
    ck_assert_uint_eq(m->n_params, 2);
    ck_assert(!m->layers[0].has_bias);
    tdl_dataset *ds = make_ds(2, 2, 0, 1, X, NULL, Y);
    tdl_net_work *w = work(m, 8);
    tdl_eval_stats st;
    ck_assert_int_eq(tdl_mlp_evaluate(m, TDL_LOSS_MSE, ds, w, &st), TDL_OK);
    ck_assert_double_eq_tol(st.loss, (0.5 * 0.25 + 0) / 2, 1e-16);
    ck_assert(isnan(st.error) && isnan(st.accuracy));
    ck_assert_ptr_null(st.margins);
    tdl_eval_stats_free(&st);
    tdl_net_work_free(&w);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_loss_names)
{
    static const char *const names[] = {"mse", "ce", "logistic", "hinge"};
    for (int i = 0; i < 4; i++) {
        tdl_loss_kind k;
        ck_assert_int_eq(tdl_loss_parse(names[i], &k), TDL_OK);
        ck_assert_int_eq(k, i);
        ck_assert_str_eq(tdl_loss_name(k), names[i]);
    }
    tdl_loss_kind k = TDL_LOSS_MSE;
    ck_assert_int_eq(tdl_loss_parse("cross-entropy", &k), TDL_OK);
    ck_assert_int_eq(k, TDL_LOSS_CE);
    ck_assert_str_eq(tdl_loss_name((tdl_loss_kind)17), "?");
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

static void expect_fail(int st, int code, const char *fragment)
{
    ck_assert_msg(st == code, "status %d (%s), expected %d", st, tdl_errmsg(), code);
    ck_assert_msg(strstr(tdl_errmsg(), fragment) != NULL, "message '%s' lacks '%s'", tdl_errmsg(), fragment);
}

/* Every entry point that takes a data set refuses what tdl_loss_check refuses. */
static void check_refused(tdl_loss_kind loss, const tdl_mlp *m, const tdl_dataset *ds, int code, const char *fragment)
{
    tdl_net_work *w = work(m, 4);
    double L, *g = dalloc(m->n_params), *v = dalloc(m->n_params);
    tdl_eval_stats st;
    expect_fail(tdl_loss_check(loss, m, ds), code, fragment);
    expect_fail(tdl_mlp_loss_grad(m, loss, ds, w, &L, g), code, fragment);
    expect_fail(tdl_mlp_hvp(m, loss, ds, v, 0, w, g), code, fragment);
    expect_fail(tdl_mlp_hvp(m, loss, ds, v, 1, w, g), code, fragment);
    expect_fail(tdl_mlp_evaluate(m, loss, ds, w, &st), code, fragment);
    ck_assert_ptr_null(st.margins);
    free(g);
    free(v);
    tdl_net_work_free(&w);
}

START_TEST(test_loss_check_errors)
{
    const double W3[12] = {0}, W1[4] = {0};
    const double X4[8] = {1, 2, 3, 4, 5, 6, 7, 8}, X5[10] = {0};
    const size_t y2[2] = {0, 1}, y5[2] = {4, 0};
    const double Y3[6] = {0}, Y2[4] = {0};
    tdl_mlp *m3 = make_linear(4, 3, W3, (double[]){0, 0, 0}); /* 4 -> 3 */
    tdl_mlp *m1 = make_linear(4, 1, W1, (double[]){0});       /* 4 -> 1 */
    tdl_dataset *d5 = make_ds(2, 5, 2, 0, X5, y2, NULL);        /* 5 features */
    tdl_dataset *c5 = make_ds(2, 4, 5, 0, X4, y5, NULL);        /* 5 classes */
    tdl_dataset *c2 = make_ds(2, 4, 2, 0, X4, y2, NULL);
    tdl_dataset *r3 = make_ds(2, 4, 0, 3, X4, NULL, Y3);
    tdl_dataset *r2 = make_ds(2, 4, 0, 2, X4, NULL, Y2);

    check_refused(TDL_LOSS_MSE, m3, d5, TDL_ESHAPE, "4 inputs but the data has 5 features");
    check_refused(TDL_LOSS_CE, m3, c5, TDL_ESHAPE, "3 outputs but the data has 5 classes");
    check_refused(TDL_LOSS_MSE, m1, c5, TDL_ESHAPE, "1 output but the data has 5 classes");
    check_refused(TDL_LOSS_CE, m1, c2, TDL_EINVAL, "loss ce needs one output per class");
    check_refused(TDL_LOSS_LOGISTIC, m3, c2, TDL_EINVAL, "logistic needs a one-output net");
    check_refused(TDL_LOSS_CE, m3, r3, TDL_EINVAL, "ce needs class labels");
    check_refused(TDL_LOSS_HINGE, m3, r3, TDL_EINVAL, "hinge needs class labels");
    check_refused(TDL_LOSS_LOGISTIC, m1, r3, TDL_EINVAL, "logistic needs class labels");
    check_refused(TDL_LOSS_MSE, m3, r2, TDL_ESHAPE, "3 outputs but the data has 2 target columns");
    /* and what fits passes */
    ck_assert_int_eq(tdl_loss_check(TDL_LOSS_MSE, m3, r3), TDL_OK);
    ck_assert_int_eq(tdl_loss_check(TDL_LOSS_HINGE, m3, c2), TDL_OK); /* fewer classes than outputs */
    ck_assert_int_eq(tdl_loss_check(TDL_LOSS_LOGISTIC, m1, c2), TDL_OK);
    ck_assert_int_eq(tdl_loss_check(TDL_LOSS_HINGE, m1, c2), TDL_OK);
    ck_assert_int_eq(tdl_loss_check(TDL_LOSS_MSE, m1, c2), TDL_OK);
    tdl_loss_kind k;
    tdl_errclear();
    expect_fail(tdl_loss_parse("l2", &k), TDL_EINVAL, "unknown loss 'l2'");
    tdl_mlp_free(&m3);
    tdl_mlp_free(&m1);
    tdl_dataset_free(&d5);
    tdl_dataset_free(&c5);
    tdl_dataset_free(&c2);
    tdl_dataset_free(&r3);
    tdl_dataset_free(&r2);
}
END_TEST

START_TEST(test_capacity_errors)
{
    tdl_mlp *m = make_deep("3-4-2", "tanh");
    const double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const size_t y[4] = {0, 1, 1, 0};
    tdl_dataset *ds = make_ds(4, 3, 2, 0, X, y, NULL);
    tdl_net_work *w = NULL;
    expect_fail(tdl_net_work_alloc(m, 0, &w), TDL_EINVAL, "at least one example");
    ck_assert_ptr_null(w);
    w = work(m, 2);
    tdl_batch b = tdl_batch_rows(ds, 0, 3);
    double F[8], *g = dalloc(m->n_params), L = 0;
    expect_fail(tdl_mlp_forward(m, &b, w, F), TDL_EINVAL, "batch of 3 examples exceeds the work capacity 2");
    expect_fail(tdl_mlp_batch_grad(m, TDL_LOSS_CE, &b, 1.0, w, &L, g), TDL_EINVAL, "exceeds the work capacity");
    double *J = dalloc(3 * 2 * m->n_params);
    expect_fail(tdl_mlp_jacobian(m, ds, 0, 3, w, J), TDL_EINVAL, "exceeds the work capacity");
    free(J);
    /* a work space made for another net */
    tdl_mlp *other = make_deep("3-4-4-2", "tanh");
    tdl_batch b2 = tdl_batch_rows(ds, 0, 2);
    expect_fail(tdl_mlp_forward(other, &b2, w, F), TDL_EINVAL, "another net");
    tdl_mlp *other_c = make_deep("3-4-3", "tanh");
    expect_fail(tdl_mlp_batch_grad(other_c, TDL_LOSS_CE, &b2, 1.0, w, &L, NULL), TDL_EINVAL, "another net");
    /* same depth and outputs but other hidden widths: the buffers of the
     * work space are too small for this net, so every entry point refuses */
    tdl_mlp *wide = make_deep("3-9-2", "tanh");
    double *gw = dalloc(wide->n_params), *vw = dalloc(wide->n_params), *Jw = dalloc(2 * 2 * wide->n_params);
    tdl_eval_stats es;
    expect_fail(tdl_mlp_forward(wide, &b2, w, F), TDL_EINVAL, "another net");
    expect_fail(tdl_mlp_batch_grad(wide, TDL_LOSS_CE, &b2, 1.0, w, &L, gw), TDL_EINVAL, "another net");
    expect_fail(tdl_mlp_loss_grad(wide, TDL_LOSS_CE, ds, w, &L, gw), TDL_EINVAL, "another net");
    expect_fail(tdl_mlp_hvp(wide, TDL_LOSS_CE, ds, vw, 0, w, gw), TDL_EINVAL, "another net");
    expect_fail(tdl_mlp_jacobian(wide, ds, 0, 2, w, Jw), TDL_EINVAL, "another net");
    expect_fail(tdl_mlp_evaluate(wide, TDL_LOSS_CE, ds, w, &es), TDL_EINVAL, "another net");
    tdl_mlp *narrow_in = make_deep("2-4-2", "tanh");
    expect_fail(tdl_mlp_batch_grad(narrow_in, TDL_LOSS_CE, &b2, 1.0, w, &L, NULL), TDL_EINVAL, "another net");
    tdl_mlp_free(&narrow_in);
    free(gw);
    free(vw);
    free(Jw);
    tdl_mlp_free(&wide);
    /* but the whole-data-set calls split into blocks of the capacity */
    ck_assert_int_eq(tdl_mlp_loss_grad(m, TDL_LOSS_CE, ds, w, &L, g), TDL_OK);
    free(g);
    tdl_mlp_free(&other);
    tdl_mlp_free(&other_c);
    tdl_net_work_free(&w);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_jacobian_errors)
{
    tdl_mlp *m = make_deep("3-4-2", "relu");
    const double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const size_t y[4] = {0, 1, 1, 0};
    tdl_dataset *ds = make_ds(4, 3, 2, 0, X, y, NULL);
    tdl_net_work *w = work(m, 4);
    double *J = dalloc(4 * 2 * m->n_params);
    expect_fail(tdl_mlp_jacobian(m, ds, 5, 0, w, J), TDL_EINVAL, "outside the data");
    expect_fail(tdl_mlp_jacobian(m, ds, 2, 3, w, J), TDL_EINVAL, "Jacobian rows [2, 5) outside the data (4)");
    expect_fail(tdl_mlp_jacobian(m, ds, 1, SIZE_MAX, w, J), TDL_EINVAL, "outside the data");
    /* the edges are fine: an empty block at the end, the last row */
    ck_assert_int_eq(tdl_mlp_jacobian(m, ds, 4, 0, w, J), TDL_OK);
    ck_assert_int_eq(tdl_mlp_jacobian(m, ds, 3, 1, w, J), TDL_OK);
    /* input width */
    tdl_mlp *m5 = make_deep("5-4-2", "relu");
    tdl_net_work *w5 = work(m5, 4);
    expect_fail(tdl_mlp_jacobian(m5, ds, 0, 1, w5, J), TDL_ESHAPE, "5 inputs but the data has 3 features");
    tdl_net_work_free(&w5);
    tdl_mlp_free(&m5);
    free(J);
    tdl_net_work_free(&w);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_nonfinite_errors)
{
    tdl_mlp *m = make_deep("2-3-2", "tanh");
    const double X[4] = {1, NAN, 0, 1};
    const size_t y[2] = {0, 1};
    tdl_dataset *ds = make_ds(2, 2, 2, 0, X, y, NULL);
    tdl_net_work *w = work(m, 2);
    double L, *g = dalloc(m->n_params), *v = dalloc(m->n_params);
    expect_fail(tdl_mlp_loss_grad(m, TDL_LOSS_CE, ds, w, &L, g), TDL_ENONFINITE, "loss of example 0 is NaN");
    expect_fail(tdl_mlp_hvp(m, TDL_LOSS_CE, ds, v, 0, w, g), TDL_ENONFINITE, "NaN");
    tdl_eval_stats st;
    expect_fail(tdl_mlp_evaluate(m, TDL_LOSS_CE, ds, w, &st), TDL_ENONFINITE, "NaN");
    ck_assert_ptr_null(st.margins);
    /* an infinite loss: mse of a huge output */
    const double Xbig[4] = {1e300, 1e300, 0, 0};
    tdl_dataset *big = make_ds(2, 2, 2, 0, Xbig, y, NULL);
    tdl_mlp *lin = make_linear(2, 2, (double[]){1e10, 0, 0, 1}, NULL);
    tdl_net_work *wl = work(lin, 2);
    expect_fail(tdl_mlp_loss_grad(lin, TDL_LOSS_MSE, big, wl, &L, NULL), TDL_ENONFINITE, "infinite");
    tdl_net_work_free(&wl);
    free(g);
    free(v);
    tdl_mlp_free(&lin);
    tdl_dataset_free(&big);
    tdl_net_work_free(&w);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

/* ---- training: stop reasons and the divergence criterion (tdl/train.h) ------------ */

/* Regression data for a linear model: y = x1 - 2 x2 + 0.5 + small wiggle, n = 8, d = 2. */
static tdl_dataset *train_ds(void)
{
    const double X[16] = {1, 0, 0, 1, 1, 1, -1, 2, 0.5, -1, 2, 0.5, -1.5, -0.5, 0.25, 1.5};
    double Y[8];
    for (size_t i = 0; i < 8; i++) Y[i] = X[2 * i] - 2 * X[2 * i + 1] + 0.5 + 0.1 * (double)(i % 3);
    return make_ds(8, 2, 0, 1, X, NULL, Y);
}

static double full_loss(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds)
{
    tdl_net_work *w = work(m, ds->n);
    double L = NAN;
    ck_assert_int_eq(tdl_mlp_loss_grad(m, loss, ds, w, &L, NULL), TDL_OK);
    tdl_net_work_free(&w);
    return L;
}

/* The loss after each evaluation, for the reference runs. */
typedef struct loss_curve { double loss[64]; size_t n; size_t stop_after; } loss_curve;
static int record_loss(const tdl_train_progress *p, void *user)
{
    loss_curve *c = user;
    if (c->n < 64) c->loss[c->n++] = p->loss;
    return c->stop_after && c->n >= c->stop_after;
}

static tdl_train_config gd_cfg(double lr, size_t epochs, double factor)
{
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.loss = TDL_LOSS_MSE;
    tc.opt = TDL_OPT_GD;
    tc.lr = lr;
    tc.batch = 0;
    tc.epochs = epochs;
    tc.diverge_factor = factor;
    return tc;
}

/* GD with a step beyond 2 / lambda_max on a linear least-squares problem: the
 * loss grows geometrically but stays finite for 30 steps.  With the criterion
 * off the run completes (and ends far above 1e3 x L_ref); with it on the run
 * stops at the first step whose full loss exceeds 1e3 x L_ref -- found from
 * the reference run -- and leaves the last good parameters in theta. */
START_TEST(test_train_divergence_growth)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0.3, -0.2}, b0[1] = {0.1};
    const double lr = 5.0; /* lambda_max of (1/n) X~^T X~ is 1.78: the error grows ~7.9x a step */
    double Lzero = 0;
    for (size_t i = 0; i < ds->n; i++) Lzero += 0.5 * gsl_matrix_get(ds->Y, i, 0) * gsl_matrix_get(ds->Y, i, 0);
    Lzero /= (double)ds->n;

    /* reference: criterion off, the loss after every step */
    tdl_mlp *ref = make_linear(2, 1, W0, b0);
    const double L0 = full_loss(ref, TDL_LOSS_MSE, ds);
    loss_curve c = {0};
    tdl_train_config tc = gd_cfg(lr, 30, 0);
    tc.callback = record_loss;
    tc.user = &c;
    tdl_train_result r;
    ck_assert_int_eq(tdl_train(ref, ds, &tc, &r), TDL_OK);
    ck_assert_int_eq(r.stopped, TDL_STOP_COMPLETED);
    ck_assert(isinf(r.diverge_threshold) && isnan(r.diverged_loss));
    ck_assert_uint_eq(c.n, 30);
    const double Lref = fmax(L0, Lzero), thr = 1e3 * Lref;
    ck_assert(isfinite(r.loss) && r.loss > 1e6 * thr); /* it did diverge, finitely */
    size_t k = 0; /* first step (1-based) whose loss exceeds the threshold */
    while (k < c.n && !(c.loss[k] > thr)) k++;
    k++;
    ck_assert_msg(k >= 2 && k <= 30, "threshold crossed at step %zu", k);
    printf("net train growth: L0 %.6g L_zero %.6g threshold %.6g crossed at step %zu (loss %.6g)\n", L0, Lzero, thr, k,
           c.loss[k - 1]);

    /* (b) at the evaluations (every epoch = every step here) */
    tdl_mlp *m = make_linear(2, 1, W0, b0);
    tc = gd_cfg(lr, 30, 1e3);
    int st = tdl_train(m, ds, &tc, &r);
    ck_assert_msg(st == TDL_EDIVERGED, "status %d: %s", st, tdl_errmsg());
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "exceeds 1000 x"));
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "learning rate 5"));
    ck_assert_int_eq(r.stopped, TDL_STOP_DIVERGED);
    ck_assert_int_eq(r.diverged_nonfinite, 0);
    ck_assert_int_eq(r.reached_target, 0);
    ck_assert_uint_eq(r.steps, k);
    ck_assert_uint_eq(r.epochs, k);
    ck_assert_double_eq(r.initial_loss, L0);
    ck_assert_double_eq(r.reference_loss, Lref);
    ck_assert_double_eq(r.diverge_threshold, thr);
    ck_assert_double_eq(r.diverged_loss, c.loss[k - 1]);
    ck_assert(r.diverged_loss > r.diverge_threshold);
    /* theta is the last good checkpoint: after k - 1 steps, below the threshold */
    ck_assert_double_eq(r.loss, c.loss[k - 2]);
    ck_assert_double_eq(full_loss(m, TDL_LOSS_MSE, ds), r.loss);
    ck_assert(r.loss <= thr);
    tdl_mlp_free(&m);

    /* (b) at every full-batch step when nothing is evaluated (eval_every 0):
     * the same step, and theta back at the start */
    m = make_linear(2, 1, W0, b0);
    tc = gd_cfg(lr, 30, 1e3);
    tc.eval_every = 0;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EDIVERGED);
    ck_assert_uint_eq(r.steps, k);
    ck_assert_double_eq(r.diverged_loss, c.loss[k - 1]);
    ck_assert_double_eq(r.loss, L0);
    ck_assert_double_eq(m->theta[0], W0[0]);
    ck_assert_double_eq(m->theta[1], W0[1]);
    ck_assert_double_eq(m->theta[2], b0[0]);
    tdl_mlp_free(&m);

    /* a larger factor stops later; factor 1 stops at the first rise above L_ref */
    m = make_linear(2, 1, W0, b0);
    tc = gd_cfg(lr, 30, 1e9);
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EDIVERGED);
    ck_assert_uint_gt(r.steps, k);
    ck_assert(r.diverged_loss > 1e9 * Lref && r.loss <= 1e9 * Lref);
    tdl_mlp_free(&m);
    tdl_mlp_free(&ref);
    tdl_dataset_free(&ds);
}
END_TEST

/* Minibatch SGD: (b) is judged on the full loss at the evaluations only. */
START_TEST(test_train_divergence_minibatch)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0.3, -0.2}, b0[1] = {0.1};
    tdl_mlp *ref = make_linear(2, 1, W0, b0);
    loss_curve c = {0};
    tdl_train_config tc = gd_cfg(3.0, 20, 0);
    tc.opt = TDL_OPT_SGD;
    tc.batch = 3; /* batches of 3, 3, 2 */
    tc.seed = 7;
    tc.callback = record_loss;
    tc.user = &c;
    tdl_train_result r;
    ck_assert_int_eq(tdl_train(ref, ds, &tc, &r), TDL_OK);
    const double thr = 1e3 * r.reference_loss;
    size_t e = 0;
    while (e < c.n && !(c.loss[e] > thr)) e++;
    e++;
    ck_assert_msg(e >= 1 && e <= 20, "threshold crossed at epoch %zu", e);
    tdl_mlp *m = make_linear(2, 1, W0, b0);
    tc.diverge_factor = 1e3;
    tc.callback = NULL;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EDIVERGED);
    ck_assert_int_eq(r.stopped, TDL_STOP_DIVERGED);
    ck_assert_uint_eq(r.epochs, e);
    ck_assert_uint_eq(r.steps, 3 * e);
    ck_assert_double_eq(r.diverged_loss, c.loss[e - 1]);
    ck_assert_double_eq(r.loss, e >= 2 ? c.loss[e - 2] : r.initial_loss);
    tdl_mlp_free(&m);
    tdl_mlp_free(&ref);
    tdl_dataset_free(&ds);
}
END_TEST

/* (a): a loss that overflows stops as diverged whatever the factor, with the
 * same status and result as (b), theta finite (the last good checkpoint). */
START_TEST(test_train_divergence_nonfinite)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0.3, -0.2}, b0[1] = {0.1};
    tdl_mlp *m = make_linear(2, 1, W0, b0);
    tdl_train_config tc = gd_cfg(1e150, 10, 0); /* factor 0: only (a) */
    tdl_train_result r;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EDIVERGED);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "non-finite"));
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "learning rate 1e+150"));
    ck_assert_int_eq(r.stopped, TDL_STOP_DIVERGED);
    ck_assert_int_eq(r.diverged_nonfinite, 1);
    ck_assert(!isfinite(r.diverged_loss));
    ck_assert(isinf(r.diverge_threshold));
    ck_assert_uint_ge(r.steps, 1);
    for (size_t i = 0; i < m->n_params; i++) ck_assert(isfinite(m->theta[i]));
    ck_assert(isfinite(r.loss));
    ck_assert_double_eq(full_loss(m, TDL_LOSS_MSE, ds), r.loss);
    tdl_mlp_free(&m);
    /* with the default factor the same run stops earlier, at the growth, finite */
    m = make_linear(2, 1, W0, b0);
    tc.diverge_factor = 1e3;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EDIVERGED);
    ck_assert_int_eq(r.diverged_nonfinite, 0);
    ck_assert_uint_eq(r.steps, 1);
    ck_assert(isfinite(r.diverged_loss) && r.diverged_loss > r.diverge_threshold);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* L_ref = max(L_0, L_zero): from an exact fit (L_0 = 0) weight decay raises
 * the loss without bound relative to L_0, but not to 1e3 x L_zero -- not a
 * divergence.  For ce, L_zero = log C. */
START_TEST(test_train_reference_loss)
{
    const double X[8] = {1, 0, 0, 1, 1, 1, 2, -1};
    double Y[4];
    const double W[2] = {1.5, -0.5};
    for (size_t i = 0; i < 4; i++) Y[i] = W[0] * X[2 * i] + W[1] * X[2 * i + 1];
    tdl_dataset *ds = make_ds(4, 2, 0, 1, X, NULL, Y);
    tdl_mlp *m = make_linear(2, 1, W, NULL);
    tdl_train_config tc = gd_cfg(0.1, 20, 1e3);
    tc.weight_decay = 1.0;
    tdl_train_result r;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_OK);
    double Lzero = 0;
    for (size_t i = 0; i < 4; i++) Lzero += 0.5 * Y[i] * Y[i] / 4;
    ck_assert_double_eq(r.initial_loss, 0);
    ck_assert_double_eq(r.reference_loss, Lzero);
    ck_assert_double_eq(r.diverge_threshold, 1e3 * Lzero);
    ck_assert(r.loss > 0); /* the loss rose from its start */
    ck_assert_int_eq(r.stopped, TDL_STOP_COMPLETED);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);

    /* ce with 3 classes: L_zero = log 3 */
    const double Xc[6] = {1, 0, 0, 1, -1, -1};
    const size_t yc[3] = {0, 1, 2};
    ds = make_ds(3, 2, 3, 0, Xc, yc, NULL);
    m = make_linear(2, 3, (double[]){0.01, 0, 0, 0.01, 0, 0}, NULL); /* L_0 close to log 3 */
    tc = gd_cfg(0.1, 2, 1e3);
    tc.loss = TDL_LOSS_CE;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_OK);
    ck_assert_double_eq_tol(r.reference_loss, fmax(r.initial_loss, log(3.0)), 1e-15);
    ck_assert(r.reference_loss >= log(3.0) - 1e-15);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* result->stopped for the other ways a run ends, and the names. */
START_TEST(test_train_stop_reasons)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0, 0};
    tdl_mlp *m = make_linear(2, 1, W0, (double[]){0});
    tdl_train_config tc = gd_cfg(0.1, 200, 1e3);
    tc.target_loss = 0.1;
    tdl_train_result r;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_OK);
    ck_assert_int_eq(r.stopped, TDL_STOP_TARGET);
    ck_assert_int_eq(r.reached_target, 1);
    ck_assert(r.loss <= 0.1 && r.epochs < 200);
    ck_assert(isnan(r.diverged_loss));
    tdl_mlp_free(&m);

    m = make_linear(2, 1, W0, (double[]){0});
    loss_curve c = {.stop_after = 3};
    tc = gd_cfg(0.1, 50, 1e3);
    tc.callback = record_loss;
    tc.user = &c;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_EINTR);
    ck_assert_int_eq(r.stopped, TDL_STOP_INTERRUPTED);
    ck_assert_uint_eq(r.epochs, 3);
    ck_assert_uint_eq(r.steps, 3);
    tdl_mlp_free(&m);

    ck_assert_str_eq(tdl_train_stop_name(TDL_STOP_COMPLETED), "completed");
    ck_assert_str_eq(tdl_train_stop_name(TDL_STOP_TARGET), "target");
    ck_assert_str_eq(tdl_train_stop_name(TDL_STOP_DIVERGED), "diverged");
    ck_assert_str_eq(tdl_train_stop_name(TDL_STOP_INTERRUPTED), "interrupted");
    ck_assert_str_eq(tdl_train_stop_name((tdl_train_stop)9), "?");
    tdl_train_config_default(&tc);
    ck_assert_double_eq(tc.diverge_factor, 1e3);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_train_divergence_errors)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0, 0};
    tdl_mlp *m = make_linear(2, 1, W0, (double[]){0});
    tdl_train_result r;
    const double bad[] = {0.5, -1, NAN, 1e-300};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tdl_train_config tc = gd_cfg(0.1, 2, bad[i]);
        expect_fail(tdl_train(m, ds, &tc, &r), TDL_EINVAL, "divergence factor must be 0 (off) or >= 1");
    }
    tdl_train_config tc = gd_cfg(0.1, 2, 1); /* the smallest factor allowed */
    ck_assert_int_eq(tdl_train(m, ds, &tc, &r), TDL_OK);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* ---- loss conventions (tdl/net.h): PyTorch's reductions and nn.MSELoss ------------ */

/* max_i |a_i - f b_i| / max_i |f b_i| */
static double scaled_err(const double *a, const double *b, double f, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - f * b[i]));
        den = fmax(den, fabs(f * b[i]));
    }
    return den > 0 ? num / den : num;
}

/* The factor table, the model's metadata, and every derivative scaled by it:
 * each convention multiplies the mean loss by a constant f (n for sum, 2/C
 * for torch's mean, 2n for torch's sum; 1 for ce's mse convention), so the
 * loss, gradient, H v, G v, the dense H and G and the evaluation's loss are
 * the mean's times f.  Both sides sum the same terms in the same order and
 * differ by the one rounding of the scale: a few ulps (tolerance 16 eps). */
START_TEST(test_loss_conventions)
{
    tdl_loss_convention c;
    tdl_loss_convention_default(&c);
    ck_assert_double_eq(tdl_loss_scale(&c, TDL_LOSS_MSE, 8, 3), 1.0 / 8);
    c.mse = TDL_MSE_TORCH;
    ck_assert_double_eq(tdl_loss_scale(&c, TDL_LOSS_MSE, 8, 3), 2.0 / 24);
    ck_assert_double_eq(tdl_loss_scale(&c, TDL_LOSS_CE, 8, 3), 1.0 / 8);
    c.reduction = TDL_REDUCTION_SUM;
    ck_assert_double_eq(tdl_loss_scale(&c, TDL_LOSS_MSE, 8, 3), 2.0);
    ck_assert_double_eq(tdl_loss_scale(&c, TDL_LOSS_LOGISTIC, 8, 1), 1.0);

    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 23);
    const size_t n = 13, d = 3, C = 3;
    double X[13 * 3];
    size_t y[13];
    for (size_t i = 0; i < n * d; i++) X[i] = gsl_ran_gaussian(r, 1.0);
    for (size_t i = 0; i < n; i++) y[i] = i % C;
    tdl_dataset *ds = make_ds(n, d, C, 0, X, y, NULL);
    static const struct { const char *arch; tdl_loss_kind loss; tdl_reduction red; tdl_mse_convention mse; double f; } cases[] = {
        {"3-5-3", TDL_LOSS_MSE, TDL_REDUCTION_SUM, TDL_MSE_TDL, 13},
        {"3-5-3", TDL_LOSS_MSE, TDL_REDUCTION_MEAN, TDL_MSE_TORCH, 2.0 / 3},
        {"3-5-3", TDL_LOSS_MSE, TDL_REDUCTION_SUM, TDL_MSE_TORCH, 26},
        {"3-5-3", TDL_LOSS_CE, TDL_REDUCTION_SUM, TDL_MSE_TORCH, 13},
        {"3-4-4-3", TDL_LOSS_MSE, TDL_REDUCTION_MEAN, TDL_MSE_TORCH, 2.0 / 3}, /* H by HVP columns */
        {"3-4-4-3", TDL_LOSS_CE, TDL_REDUCTION_SUM, TDL_MSE_TDL, 13},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        tdl_mlp *m = make_deep(cases[t].arch, "tanh");
        const size_t P = m->n_params;
        double *g0 = malloc(P * sizeof(double)), *g1 = malloc(P * sizeof(double)), *v = malloc(P * sizeof(double));
        double *h0 = malloc(P * sizeof(double)), *h1 = malloc(P * sizeof(double));
        double *H0 = malloc(P * P * sizeof(double)), *H1 = malloc(P * P * sizeof(double));
        double *G0 = malloc(P * P * sizeof(double)), *G1 = malloc(P * P * sizeof(double));
        for (size_t i = 0; i < P; i++) v[i] = gsl_ran_gaussian(r, 1.0);
        tdl_net_work *w = work(m, n);
        double L0, L1;
        tdl_eval_stats e0, e1;
        ck_assert_int_eq(tdl_mlp_loss_grad(m, cases[t].loss, ds, w, &L0, g0), TDL_OK);
        ck_assert_int_eq(tdl_mlp_hvp(m, cases[t].loss, ds, v, 0, w, h0), TDL_OK);
        ck_assert_int_eq(tdl_hessian_dense(m, cases[t].loss, ds, 0, P, H0, G0), TDL_OK);
        ck_assert_int_eq(tdl_mlp_evaluate(m, cases[t].loss, ds, w, &e0), TDL_OK);
        tdl_loss_convention cv = {cases[t].red, cases[t].mse};
        ck_assert_int_eq(tdl_mlp_set_loss_convention(m, &cv), TDL_OK);
        tdl_loss_convention back;
        ck_assert_int_eq(tdl_mlp_loss_convention(m, &back), TDL_OK);
        ck_assert_int_eq(back.reduction, cv.reduction);
        ck_assert_int_eq(back.mse, cv.mse);
        ck_assert_int_eq(tdl_mlp_loss_grad(m, cases[t].loss, ds, w, &L1, g1), TDL_OK);
        ck_assert_int_eq(tdl_mlp_hvp(m, cases[t].loss, ds, v, 0, w, h1), TDL_OK);
        ck_assert_int_eq(tdl_hessian_dense(m, cases[t].loss, ds, 0, P, H1, G1), TDL_OK);
        ck_assert_int_eq(tdl_mlp_evaluate(m, cases[t].loss, ds, w, &e1), TDL_OK);
        const double f = cases[t].f, tol = 16 * DBL_EPSILON;
        double el = fabs(L1 - f * L0) / (f * L0), eg = scaled_err(g1, g0, f, P), eh = scaled_err(h1, h0, f, P);
        double eH = scaled_err(H1, H0, f, P * P), eG = scaled_err(G1, G0, f, P * P);
        double ee = fabs(e1.loss - f * e0.loss) / (f * e0.loss);
        printf("net conventions %s %s x %g: loss %.1e grad %.1e Hv %.1e H %.1e G %.1e eval %.1e\n", cases[t].arch,
               tdl_loss_name(cases[t].loss), f, el, eg, eh, eH, eG, ee);
        ck_assert_msg(el <= tol && eg <= tol && eh <= tol && eH <= tol && eG <= tol && ee <= tol,
                      "%s: a convention is not the mean's x %g", cases[t].arch, f);
        tdl_eval_stats_free(&e0);
        tdl_eval_stats_free(&e1);
        tdl_net_work_free(&w);
        free(g0); free(g1); free(v); free(h0); free(h1); free(H0); free(H1); free(G0); free(G1);
        tdl_mlp_free(&m);
    }
    /* a model file's metadata that names no convention */
    tdl_mlp *m = make_deep("3-5-3", "tanh");
    ck_assert_int_eq(tdl_tensors_set_meta(m->meta, "loss_reduction", "median"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_loss_convention(m, &c), TDL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "loss_reduction='median'"));
    double L;
    tdl_net_work *w = work(m, n);
    ck_assert_int_eq(tdl_mlp_loss_grad(m, TDL_LOSS_CE, ds, w, &L, NULL), TDL_EFORMAT);
    ck_assert_int_eq(tdl_mlp_set_loss_convention_names(m, "sum", NULL), TDL_OK);
    ck_assert_int_eq(tdl_mlp_set_loss_convention_names(m, "total", NULL), TDL_EINVAL);
    const char *red, *mse;
    ck_assert_int_eq(tdl_mlp_loss_convention_names(m, &red, &mse), TDL_OK);
    ck_assert_str_eq(red, "sum");
    ck_assert_str_eq(mse, "tdl");
    ck_assert_int_eq(tdl_tensors_set_meta(m->meta, "mse_convention", "pytorch"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_loss_convention_names(m, &red, &mse), TDL_EFORMAT);
    char buf[256];
    ck_assert_int_eq(tdl_mlp_loss_describe(m, TDL_LOSS_MSE, buf, sizeof buf), TDL_EFORMAT);
    double sc;
    ck_assert_int_eq(tdl_mlp_loss_scale(m, TDL_LOSS_MSE, n, &sc), TDL_EFORMAT);
    tdl_loss_convention bad = {(tdl_reduction)7, TDL_MSE_TDL};
    ck_assert_int_eq(tdl_mlp_set_loss_convention(m, &bad), TDL_EINVAL);
    bad.reduction = TDL_REDUCTION_SUM;
    bad.mse = (tdl_mse_convention)7;
    ck_assert_int_eq(tdl_mlp_set_loss_convention(m, &bad), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_set_loss_convention_names(m, NULL, "torch"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_loss_describe(m, TDL_LOSS_MSE, buf, sizeof buf), TDL_OK);
    ck_assert_str_eq(buf, "sum_i ||f_i - y_i||^2 = torch nn.MSELoss(reduction='sum')");
    tdl_net_work_free(&w);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    gsl_rng_free(r);
}
END_TEST

/* Training applies the model's convention: GD under reduction sum with
 * learning rate eta / n takes the steps of the mean with eta (20 steps on a
 * least-squares problem, n = 8; the two differ by the rounding of the scaled
 * products, 2 eps a step, over 20 steps of an iteration whose condition is
 * below 10 here: 400 eps), and reports the summed loss, n times the mean's. */
START_TEST(test_train_conventions)
{
    tdl_dataset *ds = train_ds();
    const double W0[2] = {0.3, -0.2}, b0[1] = {0.1};
    tdl_mlp *a = make_linear(2, 1, W0, b0), *b = make_linear(2, 1, W0, b0);
    tdl_train_config tc = gd_cfg(0.05, 20, 0);
    tdl_train_result ra, rb;
    ck_assert_int_eq(tdl_train(a, ds, &tc, &ra), TDL_OK);
    ck_assert_int_eq(tdl_mlp_set_loss_convention_names(b, "sum", NULL), TDL_OK);
    tc.lr = 0.05 / 8;
    ck_assert_int_eq(tdl_train(b, ds, &tc, &rb), TDL_OK);
    double err = scaled_err(b->theta, a->theta, 1.0, a->n_params);
    printf("net train conventions: sum with lr / n vs mean: theta %.1e, loss %.1e\n", err,
           fabs(rb.loss - 8 * ra.loss) / (8 * ra.loss));
    ck_assert_msg(err <= 400 * DBL_EPSILON, "GD under sum with lr/n differs from the mean's: %.2e", err);
    ck_assert_msg(fabs(rb.loss - 8 * ra.loss) <= 400 * DBL_EPSILON * 8 * ra.loss, "the sum's loss is not n x the mean's");
    tdl_mlp_free(&a);
    tdl_mlp_free(&b);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_loop_test(core, test_golden_loss_grad, 0, NCASES);
    tcase_add_loop_test(core, test_golden_jacobian, 0, NCASES);
    tcase_add_loop_test(core, test_golden_hvp_gvp, 0, NCASES);
    tcase_add_loop_test(core, test_golden_dense_h_g, 0, NCASES);
    tcase_add_loop_test(core, test_fd_loss_vs_grad, 0, NCASES);
    tcase_add_loop_test(core, test_fd_grad_vs_hvp, 0, NCASES);
    tcase_add_loop_test(core, test_fd_outputs_vs_jv, 0, NCASES);
    tcase_add_loop_test(core, test_symmetry, 0, NCASES);
    tcase_add_loop_test(core, test_gauss_newton_psd, 0, NCASES);
    tcase_add_test(core, test_linear_mse_closed_form);
    tcase_add_test(core, test_depth1_h_equals_g);
    tcase_add_test(core, test_deep_linear_layerwise_quadratic);
    tcase_add_test(core, test_frozen_layers_same_derivatives);
    tcase_add_test(core, test_train_divergence_growth);
    tcase_add_test(core, test_train_divergence_minibatch);
    suite_add_tcase(s, core);

    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_loop_test(limits, test_work_capacity_independence, 0, NCASES);
    tcase_add_loop_test(limits, test_jacobian_blocks, 0, NCASES);
    tcase_add_test(limits, test_batch_grad_accumulates);
    tcase_add_test(limits, test_evaluate_hand_multiclass);
    tcase_add_test(limits, test_evaluate_hand_binary);
    tcase_add_test(limits, test_evaluate_regression);
    tcase_add_test(limits, test_loss_names);
    tcase_add_test(limits, test_loss_conventions);
    tcase_add_test(limits, test_train_conventions);
    tcase_add_test(limits, test_train_reference_loss);
    tcase_add_test(limits, test_train_stop_reasons);
    suite_add_tcase(s, limits);

    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_loss_check_errors);
    tcase_add_test(errors, test_capacity_errors);
    tcase_add_test(errors, test_jacobian_errors);
    tcase_add_test(errors, test_nonfinite_errors);
    tcase_add_test(errors, test_train_divergence_nonfinite);
    tcase_add_test(errors, test_train_divergence_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
