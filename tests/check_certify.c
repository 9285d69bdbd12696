/* check_certify.c — PAC-Bayes certificates with data-dependent priors
 * (tdl/certify.h): the split, the objectives against the bound formulas of
 * tdl/bounds.h and their derivatives against central differences, the
 * Laplace KL against quadrature, the ledger of a run re-computed from its
 * parts, the data-free path against tdl_dr_optimize, and the errors. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/certify.h"

static tdl_dataset *gauss(const char *spec)
{
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_dataset_load(spec, &ds), TDL_OK);
    return ds;
}

static tdl_mlp *net(const char *arch, unsigned long seed)
{
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    ck_assert_int_eq(tdl_arch_parse(arch, &mc), TDL_OK);
    mc.seed = seed;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&mc, &m), TDL_OK);
    return m;
}

static void small_config(tdl_certify_config *c)
{
    tdl_certify_config_default(c);
    c->prior_epochs = 5;
    c->epochs = 3;
    c->batch = 50;
    c->mc = 5;
    c->lr = 0.01;
}

/* Step 1: per class round(f n_c) to the prior, the rest to the bound, every
 * row exactly once, the same split for the same seed and another for another. */
START_TEST(test_split)
{
    tdl_dataset *ds = gauss("gauss:n=203,d=3,classes=3,seed=4");
    size_t *cnt = NULL;
    ck_assert_int_eq(tdl_dataset_class_counts(ds, &cnt), TDL_OK);
    tdl_dataset *p = NULL, *b = NULL, *p2 = NULL, *b2 = NULL, *p3 = NULL, *b3 = NULL;
    ck_assert_int_eq(tdl_certify_split(ds, 0.3, 7, &p, &b), TDL_OK);
    ck_assert_uint_eq(p->n + b->n, ds->n);
    for (size_t c = 0; c < 3; c++) {
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++) k += p->labels[i] == c;
        ck_assert_uint_eq(k, (size_t)floor(0.3 * (double)cnt[c] + 0.5));
    }
    /* every row of ds in exactly one part (rows compared bit for bit) */
    for (size_t i = 0; i < ds->n; i++) {
        size_t hits = 0;
        const double *x = ds->X->data + i * ds->X->tda;
        for (size_t j = 0; j < p->n; j++) hits += memcmp(x, p->X->data + j * p->X->tda, ds->d * sizeof(double)) == 0;
        for (size_t j = 0; j < b->n; j++) hits += memcmp(x, b->X->data + j * b->X->tda, ds->d * sizeof(double)) == 0;
        ck_assert_uint_eq(hits, 1);
    }
    ck_assert_int_eq(tdl_certify_split(ds, 0.3, 7, &p2, &b2), TDL_OK);
    ck_assert_int_eq(memcmp(p->X->data, p2->X->data, p->n * ds->d * sizeof(double)), 0);
    ck_assert_int_eq(tdl_certify_split(ds, 0.3, 8, &p3, &b3), TDL_OK);
    ck_assert_int_ne(memcmp(p->X->data, p3->X->data, p->n * ds->d * sizeof(double)), 0);
    /* fraction 0: no prior part, the bound part is everything */
    tdl_dataset_free(&p3);
    tdl_dataset_free(&b3);
    ck_assert_int_eq(tdl_certify_split(ds, 0, 7, &p3, &b3), TDL_OK);
    ck_assert_ptr_null(p3);
    ck_assert_uint_eq(b3->n, ds->n);
    free(cnt);
    tdl_dataset_free(&p);
    tdl_dataset_free(&b);
    tdl_dataset_free(&p2);
    tdl_dataset_free(&b2);
    tdl_dataset_free(&b3);
    tdl_dataset_free(&ds);
}
END_TEST

/* The objectives are the bounds of tdl/bounds.h (fquad = tdl_pb_quad, fclassic =
 * tdl_pb_pinsker, flambda = tdl_pb_lambda; pinsker = L^ + sqrt(num / (2(m-1)))): the
 * same closed forms evaluated in other orders, so 1e-13 relative.  Their derivatives
 * against central differences with step h = 1e-6 x scale: truncation O(h^2 f''') ~
 * 1e-12 and rounding ~ eps / h ~ 1e-10 relative, so 1e-7 relative is safe and far
 * below a wrong factor (>= 1e-1). */
START_TEST(test_objectives)
{
    const double emps[] = {0.0, 0.01, 0.2, 0.6}, kls[] = {0.0, 3.5, 150.0, 4000.0};
    const double m = 4000, delta = 0.025;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) {
            double e = emps[a], k = kls[b], J, de, dk;
            tdl_certify_objective(TDL_CERT_FQUAD, e, k, m, delta, &J, &de, &dk);
            ck_assert_double_eq_tol(J, tdl_pb_quad(e, k, m, delta), 1e-13 * J);
            tdl_certify_objective(TDL_CERT_FCLASSIC, e, k, m, delta, &J, &de, &dk);
            ck_assert_double_eq_tol(J, tdl_pb_pinsker(e, k, m, delta), 1e-13 * J);
            tdl_certify_objective(TDL_CERT_FLAMBDA, e, k, m, delta, &J, &de, &dk);
            ck_assert_double_eq_tol(J, tdl_pb_lambda(e, k, m, delta), 1e-13 * J);
            tdl_certify_objective(TDL_CERT_PINSKER, e, k, m, delta, &J, &de, &dk);
            ck_assert_double_eq_tol(J, e + sqrt((k + log(2 * sqrt(m) / delta)) / (2 * (m - 1))), 1e-13 * J);
            if (e == 0) continue; /* derivatives at interior points */
            for (int o = 0; o < 4; o++) {
                double Jp, Jm, u, v, he = 1e-6 * e, hk = 1e-6 * fmax(k, 1);
                tdl_certify_objective((tdl_cert_objective)o, e, k, m, delta, &J, &de, &dk);
                tdl_certify_objective((tdl_cert_objective)o, e + he, k, m, delta, &Jp, &u, &v);
                tdl_certify_objective((tdl_cert_objective)o, e - he, k, m, delta, &Jm, &u, &v);
                double fd = (Jp - Jm) / (2 * he);
                /* flambda: the derivative at the optimal lambda equals the total one (envelope) */
                ck_assert_msg(fabs(fd - de) <= 1e-7 * fabs(de), "objective %d dJ/demp %g vs fd %g", o, de, fd);
                tdl_certify_objective((tdl_cert_objective)o, e, k + hk, m, delta, &Jp, &u, &v);
                tdl_certify_objective((tdl_cert_objective)o, e, k - hk, m, delta, &Jm, &u, &v);
                fd = (Jp - Jm) / (2 * hk);
                ck_assert_msg(fabs(fd - dk) <= 1e-6 * fabs(dk), "objective %d dJ/dKL %g vs fd %g", o, dk, fd);
            }
        }
}
END_TEST

/* KL(Lap(mu, b) || Lap(mu0, b0)) = int p ln(p/q) by the trapezoid rule on
 * [mu - 60 max(b, b0), mu + 60 max(b, b0)] with 2e6 panels: the tails beyond
 * carry < e^-60, the kinks at mu and mu0 cost O(h^2 |f''|) per panel with h ~ 1e-4
 * max(b, b0), so 1e-6 relative (the worst pair below has KL ~ 0.02). */
static double laplace_kl_quadrature(double mu, double b, double mu0, double b0)
{
    double w = 60 * fmax(b, b0) + fabs(mu - mu0), lo = mu - w, hi = mu + w;
    size_t n = 2000000;
    double h = (hi - lo) / (double)n, acc = 0;
    for (size_t i = 0; i <= n; i++) {
        double x = lo + h * (double)i;
        double lp = -fabs(x - mu) / b - log(2 * b), lq = -fabs(x - mu0) / b0 - log(2 * b0);
        double f = exp(lp) * (lp - lq);
        acc += (i == 0 || i == n) ? 0.5 * f : f;
    }
    return acc * h;
}

START_TEST(test_kl_laplace)
{
    const double mu[] = {0.3, -0.02, 0.0, 1.0}, b[] = {0.05, 0.03, 0.03, 0.2};
    const double mu0[] = {0.25, 0.0, 0.0, -1.0}, b0 = 0.03;
    double total = 0;
    for (size_t i = 0; i < 4; i++) {
        double kq = laplace_kl_quadrature(mu[i], b[i], mu0[i], b0);
        double kc = tdl_kl_diag_laplace(&mu[i], &b[i], &mu0[i], b0, 1);
        ck_assert_msg(fabs(kq - kc) <= 1e-6 * fmax(kq, 1e-3), "Laplace KL %zu: closed form %.12g, quadrature %.12g", i, kc, kq);
        total += kc;
    }
    ck_assert_double_eq_tol(tdl_kl_diag_laplace(mu, b, mu0, b0, 4), total, 1e-14 * total);
    /* identical laws: exactly 0 */
    ck_assert_double_eq(tdl_kl_diag_laplace(&mu0[0], &b0, &mu0[0], b0, 1), 0.0);
}
END_TEST

/* A whole run: every number of the ledger re-computed from its parts with the
 * same formulas (the same operations, so bit for bit where the order is the same,
 * else 1e-12), the KL from the returned posterior and prior (tdl_kl_diag_gauss, a
 * sum of P terms: P eps relative), and the row's terms adding up to the bound. */
static void check_ledger(tdl_posterior_kind post)
{
    tdl_dataset *ds = gauss("gauss:n=400,d=5,classes=3,sep=2,seed=1");
    tdl_mlp *m = net("5-16-3", 3);
    tdl_certify_config c;
    small_config(&c);
    c.posterior = post;
    tdl_certify_result r;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_OK);
    ck_assert_uint_eq(r.m_prior + r.m_bound, ds->n);
    size_t *cnt = NULL, want = 0;
    ck_assert_int_eq(tdl_dataset_class_counts(ds, &cnt), TDL_OK);
    for (size_t k = 0; k < 3; k++) want += (size_t)floor(0.5 * (double)cnt[k] + 0.5);
    free(cnt);
    ck_assert_uint_eq(r.m_prior, want);
    const size_t P = m->n_params;
    double kl;
    if (post == TDL_POSTERIOR_GAUSSIAN) {
        double *s2 = malloc(P * sizeof(double));
        for (size_t i = 0; i < P; i++) s2[i] = r.scale[i] * r.scale[i];
        kl = tdl_kl_diag_gauss(r.mu, s2, r.prior_mean, r.prior_sigma * r.prior_sigma, P);
        free(s2);
        ck_assert_double_eq(r.mc_draws, (double)r.m_bound * (double)c.mc);
    } else {
        kl = tdl_kl_diag_laplace(r.mu, r.scale, r.prior_mean, r.prior_sigma, P);
        ck_assert_double_eq(r.mc_draws, (double)c.mc);
    }
    ck_assert_msg(fabs(kl - r.kl) <= 1e-12 * fmax(1, kl), "KL %g vs %g", r.kl, kl);
    ck_assert(r.kl > 0);
    double mcb, cert;
    ck_assert_int_eq(tdl_kl_inv(r.mc_error, log(2 / c.delta_mc) / r.mc_draws, &mcb), TDL_OK);
    ck_assert_double_eq(mcb, r.mc_bound);
    ck_assert_double_eq_tol(r.complexity, r.kl + log(2 * sqrt((double)r.m_bound) / c.delta), 1e-12 * r.complexity);
    ck_assert_double_eq(r.kl_rhs, r.complexity / (double)r.m_bound);
    ck_assert_int_eq(tdl_kl_inv(r.mc_bound, r.kl_rhs, &cert), TDL_OK);
    ck_assert_double_eq(cert, r.certificate);
    ck_assert(r.certificate >= r.mc_bound && r.mc_bound >= r.mc_error);
    ck_assert_double_eq_tol(r.confidence, 1 - c.delta - c.delta_mc, 1e-15);
    tdl_measure *row = NULL;
    ck_assert_int_eq(tdl_certify_measure(&r, &c, tdl_bounds_chance(3), &row), TDL_OK);
    double sum = 0;
    for (size_t k = 0; k < row->n_terms; k++) sum += row->terms[k].value;
    ck_assert_double_eq_tol(sum, row->bound, 1e-12);
    ck_assert_int_eq(row->kind, TDL_MEASURE_KIND_BOUND);
    ck_assert_int_eq(row->classifier, TDL_CLASSIFIER_GIBBS);
    ck_assert_double_eq_tol(row->delta, c.delta + c.delta_mc, 1e-15);
    ck_assert_int_eq(row->hyps[0].holds, 1);
    /* held-out estimates exist and are errors */
    tdl_dataset *ts = gauss("gauss:n=300,d=5,classes=3,sep=2,seed=2");
    double se, sn, me;
    ck_assert_int_eq(tdl_certify_test(m, TDL_LOSS_CE, &r, post, ts, 3, 5, &se, &sn, &me), TDL_OK);
    ck_assert(se >= 0 && se <= 1 && me >= 0 && me <= 1);
    ck_assert_double_eq(sn, post == TDL_POSTERIOR_GAUSSIAN ? 900.0 : 3.0);
    /* the same seed, the same run */
    tdl_certify_result r2;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r2), TDL_OK);
    ck_assert_double_eq(r2.certificate, r.certificate);
    ck_assert_double_eq(r2.kl, r.kl);
    free(row);
    tdl_certify_result_free(&r2);
    tdl_certify_result_free(&r);
    tdl_dataset_free(&ts);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}

START_TEST(test_ledger_gaussian)
{
    check_ledger(TDL_POSTERIOR_GAUSSIAN);
}
END_TEST

START_TEST(test_ledger_laplace)
{
    check_ledger(TDL_POSTERIOR_LAPLACE);
}
END_TEST

/* Binary labels with one output (logistic), a deeper net, and the leak flag:
 * the leaked prior is marked as not holding. */
START_TEST(test_binary_deep_leak)
{
    tdl_dataset *ds = gauss("gauss:n=300,d=4,classes=2,sep=2,seed=5");
    tdl_mlp *m = net("4-8-8-8-1", 1);
    tdl_certify_config c;
    small_config(&c);
    c.leak = 1;
    tdl_certify_result r;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_LOGISTIC, ds, &c, &r), TDL_OK);
    ck_assert(r.certificate > 0 && r.certificate <= 1);
    tdl_measure *row = NULL;
    ck_assert_int_eq(tdl_certify_measure(&r, &c, 0.5, &row), TDL_OK);
    ck_assert_int_eq(row->hyps[0].holds, 0);
    free(row);
    tdl_certify_result_free(&r);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

/* prior_fraction 0 is Dziugaite and Roy's optimizer on the net trained by the
 * prior's recipe: the same calls in the same order, so the same bits. */
START_TEST(test_data_free_is_dr)
{
    tdl_dataset *ds = gauss("gauss:n=200,d=4,classes=2,sep=2,seed=6");
    tdl_mlp *m = net("4-10-1", 2);
    tdl_certify_config c;
    small_config(&c);
    c.prior_fraction = 0;
    c.objective = TDL_CERT_PINSKER;
    tdl_certify_result r;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_LOGISTIC, ds, &c, &r), TDL_OK);
    ck_assert_int_eq(r.data_free, 1);
    tdl_mlp *t = NULL;
    ck_assert_int_eq(tdl_mlp_clone(m, &t), TDL_OK);
    tdl_train_config tc;
    tdl_train_result tr;
    tdl_certify_prior_train_config(&c, TDL_LOSS_LOGISTIC, &tc);
    ck_assert_int_eq(tdl_train(t, ds, &tc, &tr), TDL_OK);
    tdl_dr_config dc;
    tdl_dr_config_default(&dc);
    dc.objective = TDL_DR_PINSKER;
    dc.epochs = c.epochs;
    dc.mc_samples = c.mc;
    dc.delta = c.delta;
    dc.delta_prime = c.delta_mc;
    dc.seed = c.seed;
    tdl_dr_result dr;
    ck_assert_int_eq(tdl_dr_optimize(t, TDL_LOSS_LOGISTIC, ds, &dc, &dr), TDL_OK);
    ck_assert_double_eq(r.certificate, dr.bound);
    ck_assert_double_eq(r.kl, dr.kl);
    ck_assert_double_eq(r.mc_bound, dr.snn_train_bound);
    double cert;
    ck_assert_int_eq(tdl_kl_inv(r.mc_bound, r.kl_rhs, &cert), TDL_OK);
    ck_assert_double_eq(cert, r.certificate);
    tdl_dr_result_free(&dr);
    tdl_certify_result_free(&r);
    tdl_mlp_free(&t);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_errors)
{
    tdl_dataset *ds = gauss("gauss:n=100,d=3,classes=3,seed=1");
    tdl_mlp *m = net("3-5-3", 1);
    tdl_certify_config c;
    small_config(&c);
    tdl_certify_result r;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_MSE, ds, &c, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "bounded loss"));
    c.prior_fraction = 0;
    c.objective = TDL_CERT_FLAMBDA;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "Dziugaite and Roy"));
    c.objective = TDL_CERT_FQUAD;
    c.posterior = TDL_POSTERIOR_LAPLACE;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    small_config(&c);
    c.prior_fraction = 0.95;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "at least 8"));
    small_config(&c);
    c.delta = 0.995;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    small_config(&c);
    c.prior_fraction = 1;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    /* no initial parameters: refused (trained weights could have seen the bound part) */
    small_config(&c);
    free(m->theta0);
    m->theta0 = NULL;
    ck_assert_int_eq(tdl_certify(m, TDL_LOSS_CE, ds, &c, &r), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "initial parameters"));
    tdl_dataset *p = NULL, *b = NULL;
    ck_assert_int_eq(tdl_certify_split(ds, -0.1, 0, &p, &b), TDL_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_null(b);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *certify_suite(void)
{
    Suite *s = suite_create("certify");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_split);
    tcase_add_test(core, test_objectives);
    tcase_add_test(core, test_kl_laplace);
    tcase_add_test(core, test_ledger_gaussian);
    tcase_add_test(core, test_ledger_laplace);
    tcase_add_test(core, test_binary_deep_leak);
    tcase_add_test(core, test_data_free_is_dr);
    suite_add_tcase(s, core);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, test_errors);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(certify_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
