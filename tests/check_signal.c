/* check_signal.c — signal propagation (tdl/signal.h) and the information
 * plane (tdl/infoplane.h): the maps against Monte Carlo with tolerances from
 * the Monte Carlo standard error, fixed points against direct iteration,
 * chi_q / chi_c against finite differences of the maps, the tanh transition
 * at sigma_w = 1, closed forms against quadrature, Jacobian spectra against
 * exact results, finite nets against the maps, the estimators against closed
 * forms, and every error path. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_psi.h>
#include "tdl/tdl.h"

static tdl_signal_config make_cfg(tdl_act_kind kind, double sw, double sb)
{
    tdl_signal_config c;
    tdl_signal_config_default(&c);
    c.act.kind = kind;
    c.sigma_w = sw;
    c.sigma_b = sb;
    return c;
}

static double phi_of(tdl_act_kind kind, double x, double *d)
{
    tdl_act a = {kind, 0, 0};
    double f, dd;
    tdl_act_eval(&a, &x, 1, &f, &dd, NULL);
    if (d) *d = dd;
    return f;
}

/* ---- maps vs Monte Carlo ------------------------------------------------ */

START_TEST(test_maps_monte_carlo)
{
    const tdl_act_kind kinds[3] = {TDL_ACT_TANH, TDL_ACT_RELU, TDL_ACT_ERF};
    const size_t M = 400000;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    for (size_t k = 0; k < 3; k++) {
        tdl_signal_config cfg = make_cfg(kinds[k], 1.4, 0.1);
        const double q = 0.7, c = 0.3, sw2 = 1.96, sb2 = 0.01;
        double qn, cn, chi1;
        ck_assert_int_eq(tdl_signal_qmap(&cfg, q, &qn), TDL_OK);
        ck_assert_int_eq(tdl_signal_cmap(&cfg, q, c, &cn), TDL_OK);
        /* Monte Carlo of E[phi^2], E[phi(u) phi(v)], E[phi'^2] with standard errors */
        double s1 = 0, s1s = 0, s2 = 0, s2s = 0, s3 = 0, s3s = 0;
        for (size_t i = 0; i < M; i++) {
            double z1 = gsl_ran_gaussian(r, 1.0), z2 = gsl_ran_gaussian(r, 1.0);
            double u = sqrt(q) * z1, v = sqrt(q) * (c * z1 + sqrt(1 - c * c) * z2), du;
            double pu = phi_of(kinds[k], u, &du), pv = phi_of(kinds[k], v, NULL);
            s1 += pu * pu; s1s += pu * pu * pu * pu;
            s2 += pu * pv; s2s += pu * pv * pu * pv;
            s3 += du * du; s3s += du * du * du * du;
        }
        double m1 = s1 / (double)M, m2 = s2 / (double)M, m3 = s3 / (double)M;
        double se1 = sqrt((s1s / (double)M - m1 * m1) / (double)M), se2 = sqrt((s2s / (double)M - m2 * m2) / (double)M);
        double se3 = sqrt((s3s / (double)M - m3 * m3) / (double)M);
        double qmc = sw2 * m1 + sb2;
        ck_assert_msg(fabs(qn - qmc) <= 5 * sw2 * se1, "act %zu: q' %.8g vs MC %.8g (se %.2g)", k, qn, qmc, sw2 * se1);
        /* c' = k'/q' with q' exact: the MC error is that of the numerator */
        double cmc = (sw2 * m2 + sb2) / qn;
        ck_assert_msg(fabs(cn - cmc) <= 5 * sw2 * se2 / qn, "act %zu: c' %.8g vs MC %.8g", k, cn, cmc);
        /* chi_1 at q (through the analysis at a fixed point would need q = q*): via the
         * derivative map Tdot at k = q, compared at this q */
        tdl_kact ka;
        double Td;
        tdl_act a = {kinds[k], 0, 0};
        tdl_kact_from_act(&a, 0, &ka);
        ck_assert_int_eq(tdl_kact_dual(&ka, q, q, q, 0, NULL, &Td), TDL_OK);
        chi1 = sw2 * Td;
        ck_assert_msg(fabs(chi1 - sw2 * m3) <= 5 * sw2 * se3 + 1e-12, "act %zu: chi1 %.8g vs MC %.8g", k, chi1, sw2 * m3);
    }
    gsl_rng_free(r);
}
END_TEST

/* ---- fixed points, derivatives ------------------------------------------ */

START_TEST(test_fixed_points_vs_iteration)
{
    /* chaotic tanh (c* < 1) and ordered erf (c* = 1) */
    tdl_signal_config cfgs[2] = {make_cfg(TDL_ACT_TANH, 2.0, 0.3), make_cfg(TDL_ACT_ERF, 0.9, 0.2)};
    for (size_t k = 0; k < 2; k++) {
        tdl_signal_stats s;
        ck_assert_int_eq(tdl_signal_analyze(&cfgs[k], 1.0, 0.0, 0, &s), TDL_OK);
        ck_assert(s.q_bounded);
        /* direct iteration of the maps: 3000 steps at rate chi_q < 0.9 is beyond convergence */
        double q = 1.0, c = 0.0;
        for (int i = 0; i < 3000; i++) ck_assert_int_eq(tdl_signal_qmap(&cfgs[k], q, &q), TDL_OK);
        ck_assert_msg(fabs(q - s.q_star) <= 1e-12 * q, "q* %.17g vs iteration %.17g", s.q_star, q);
        ck_assert(s.q_residual <= 1e-12 * q);
        for (int i = 0; i < 3000; i++) ck_assert_int_eq(tdl_signal_cmap(&cfgs[k], s.q_star, c, &c), TDL_OK);
        if (k == 0) {
            ck_assert_int_eq(s.phase, 1);
            ck_assert(s.c_star < 0.9);
            ck_assert_msg(fabs(c - s.c_star) <= 1e-10, "c* %.17g vs iteration %.17g", s.c_star, c);
        } else {
            ck_assert_int_eq(s.phase, -1);
            ck_assert(s.c_star == 1 && fabs(c - 1) <= 1e-10);
            ck_assert(s.chi_c == s.chi1);
        }
        /* chi_q = dq'/dq at q*, central differences: error h^2 q''' + eps/h ~ 1e-9 */
        double h = 1e-5 * s.q_star, qp, qm;
        ck_assert_int_eq(tdl_signal_qmap(&cfgs[k], s.q_star + h, &qp), TDL_OK);
        ck_assert_int_eq(tdl_signal_qmap(&cfgs[k], s.q_star - h, &qm), TDL_OK);
        ck_assert_msg(fabs((qp - qm) / (2 * h) - s.chi_q) <= 1e-7, "chi_q %.12g vs FD %.12g", s.chi_q, (qp - qm) / (2 * h));
        ck_assert(fabs(s.xi_q + 1 / log(s.chi_q)) <= 1e-12 * s.xi_q);
        /* chi_c = dc'/dc at c* */
        double cc = k == 0 ? s.c_star : 1 - 1e-5, hc = 1e-5, cp, cm;
        ck_assert_int_eq(tdl_signal_cmap(&cfgs[k], s.q_star, cc + (k == 0 ? hc : 0), &cp), TDL_OK);
        ck_assert_int_eq(tdl_signal_cmap(&cfgs[k], s.q_star, cc - hc, &cm), TDL_OK);
        double fd = k == 0 ? (cp - cm) / (2 * hc) : (cp - cm) / hc;
        ck_assert_msg(fabs(fd - s.chi_c) <= (k == 0 ? 1e-7 : 1e-4), "chi_c %.12g vs FD %.12g", s.chi_c, fd);
    }
}
END_TEST

START_TEST(test_tanh_transition)
{
    /* sigma_b = 0: q* = 0 in the ordered phase, chi_1 = sigma_w^2 phi'(0)^2 */
    tdl_signal_config cfg = make_cfg(TDL_ACT_TANH, 0.9, 0.0);
    tdl_signal_stats s;
    ck_assert_int_eq(tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s), TDL_OK);
    ck_assert(s.q_star == 0);
    ck_assert(fabs(s.chi1 - 0.81) <= 1e-12);
    ck_assert_int_eq(s.phase, -1);
    cfg.sigma_w = 1.1;
    ck_assert_int_eq(tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s), TDL_OK);
    ck_assert(s.q_star > 0 && s.phase == 1);
    double swc;
    ck_assert_int_eq(tdl_signal_critical_sigma_w(&cfg, 0.5, 3.0, &swc), TDL_OK);
    ck_assert_msg(fabs(swc - 1) <= 1e-9, "critical sigma_w %.17g", swc);
    /* sigma_b > 0 moves the transition up (Poole et al. 2016 Fig. 2) */
    cfg.sigma_b = 0.3;
    double swc3;
    ck_assert_int_eq(tdl_signal_critical_sigma_w(&cfg, 0.5, 3.0, &swc3), TDL_OK);
    ck_assert(swc3 > 1.2);
    cfg.sigma_w = swc3;
    ck_assert_int_eq(tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s), TDL_OK);
    ck_assert(fabs(s.chi1 - 1) <= 1e-10);
    /* the phase diagram agrees with the analysis */
    double sw[2] = {0.9, 2.0}, sb[1] = {0.0}, chi[2];
    ck_assert_int_eq(tdl_signal_phase_diagram(&cfg, sw, 2, sb, 1, chi), TDL_OK);
    ck_assert(fabs(chi[0] - 0.81) <= 1e-12 && chi[1] > 1);
}
END_TEST

START_TEST(test_closed_vs_quadrature)
{
    const tdl_act_kind kinds[3] = {TDL_ACT_RELU, TDL_ACT_ERF, TDL_ACT_IDENTITY};
    for (size_t k = 0; k < 3; k++) {
        tdl_signal_config a = make_cfg(kinds[k], 0.9, 0.2), b = a;
        b.force_numeric = 1;
        double qa, qb, ca, cb;
        ck_assert_int_eq(tdl_signal_qmap(&a, 0.8, &qa), TDL_OK);
        ck_assert_int_eq(tdl_signal_qmap(&b, 0.8, &qb), TDL_OK);
        ck_assert_msg(fabs(qa - qb) <= 1e-10 * qa, "act %zu: q' closed %.15g quad %.15g", k, qa, qb);
        ck_assert_int_eq(tdl_signal_cmap(&a, 0.8, -0.4, &ca), TDL_OK);
        ck_assert_int_eq(tdl_signal_cmap(&b, 0.8, -0.4, &cb), TDL_OK);
        ck_assert_msg(fabs(ca - cb) <= 1e-10, "act %zu: c' closed %.15g quad %.15g", k, ca, cb);
        tdl_signal_stats sa, sb;
        ck_assert_int_eq(tdl_signal_analyze(&a, 1.0, 0.0, 0, &sa), TDL_OK);
        ck_assert_int_eq(tdl_signal_analyze(&b, 1.0, 0.0, 0, &sb), TDL_OK);
        ck_assert(fabs(sa.q_star - sb.q_star) <= 1e-9 * sa.q_star);
        ck_assert(fabs(sa.chi1 - sb.chi1) <= 1e-9);
    }
    /* ReLU: q* = sigma_b^2 / (1 - sigma_w^2 / 2), chi_1 = sigma_w^2 / 2 (closed forms) */
    tdl_signal_config r = make_cfg(TDL_ACT_RELU, 1.2, 0.1);
    tdl_signal_stats s;
    ck_assert_int_eq(tdl_signal_analyze(&r, 1.0, 0.0, 0, &s), TDL_OK);
    ck_assert(fabs(s.q_star - 0.01 / (1 - 0.72)) <= 1e-12);
    ck_assert(fabs(s.chi1 - 0.72) <= 1e-14 && fabs(s.chi_q - 0.72) <= 1e-12);
    /* beyond sigma_w^2 = 2 the lengths grow without bound */
    r.sigma_w = 1.5;
    ck_assert_int_eq(tdl_signal_analyze(&r, 1.0, 0.0, 0, &s), TDL_OK);
    ck_assert(!s.q_bounded && isinf(s.q_star));
}
END_TEST

/* ---- finite nets ----------------------------------------------------------- */

START_TEST(test_simulation_vs_maps)
{
    /* q^1 and c^1 of finite nets are unbiased for the maps at layer 1
     * (h^1 given x^0 is exactly Gaussian); mean over R nets within 5 SE */
    tdl_signal_config cfg = make_cfg(TDL_ACT_TANH, 1.5, 0.2);
    const size_t R = 30, N = 300, L = 3;
    double q[4], c[4], chi[4], qp[4], cp[4], sq = 0, sqq = 0, sc = 0, scc = 0;
    ck_assert_int_eq(tdl_signal_iterate(&cfg, 0.9, 0.4, L, qp, cp), TDL_OK);
    for (size_t r = 0; r < R; r++) {
        ck_assert_int_eq(tdl_signal_simulate(&cfg, TDL_SIGNAL_GAUSSIAN, N, L, 0.9, 0.4, 100 + r, q, c, chi), TDL_OK);
        ck_assert(fabs(q[0] - 0.9) <= 1e-15 && fabs(c[0] - 0.4) <= 1e-15 && isnan(chi[0]));
        sq += q[1]; sqq += q[1] * q[1];
        sc += c[1]; scc += c[1] * c[1];
    }
    double mq = sq / (double)R, mc = sc / (double)R;
    double seq = sqrt((sqq / (double)R - mq * mq) / (double)(R - 1)), sec = sqrt((scc / (double)R - mc * mc) / (double)(R - 1));
    ck_assert_msg(fabs(mq - qp[1]) <= 5 * seq, "q^1 %.6g vs map %.6g (se %.2g)", mq, qp[1], seq);
    /* c^1 is a ratio: bias O(1/N) added */
    ck_assert_msg(fabs(mc - cp[1]) <= 5 * sec + 1.0 / (double)N, "c^1 %.6g vs map %.6g (se %.2g)", mc, cp[1], sec);
    /* orthogonal weights give the same mean-field limit */
    ck_assert_int_eq(tdl_signal_simulate(&cfg, TDL_SIGNAL_ORTHOGONAL, N, L, 0.9, 0.4, 7, q, c, chi), TDL_OK);
    ck_assert(fabs(q[1] - qp[1]) <= 0.2 * qp[1]);
}
END_TEST

START_TEST(test_jacobian_spectra)
{
    const size_t N = 64, L = 30;
    double sv[64];
    tdl_signal_config lin = make_cfg(TDL_ACT_IDENTITY, 1.0, 0.0);
    ck_assert_int_eq(tdl_signal_jacobian_sv(&lin, TDL_SIGNAL_ORTHOGONAL, N, L, 1.0, 3, sv), TDL_OK);
    for (size_t i = 0; i < N; i++) ck_assert_msg(fabs(sv[i] - 1) <= 1e-12, "s_%zu = %.17g", i, sv[i]);
    /* sigma_w scales every singular value by sigma_w^L */
    lin.sigma_w = 1.05;
    ck_assert_int_eq(tdl_signal_jacobian_sv(&lin, TDL_SIGNAL_ORTHOGONAL, N, L, 1.0, 3, sv), TDL_OK);
    for (size_t i = 0; i < N; i++) ck_assert(fabs(sv[i] / pow(1.05, (double)L) - 1) <= 1e-12);
    /* Gaussian: (1/N) E log det J J^T = L sum_k (psi(k/2) + log(2/N)) / N (Bartlett),
     * checked over 8 nets against 5 standard deviations of the mean.  Depth 4:
     * s_min / s_max ~ exp(-3 L) must stay far above eps for dgesdd's absolute
     * accuracy (eps s_max) to resolve the smallest singular values. */
    lin.sigma_w = 1.0;
    const size_t Lg = 4;
    double pred = 0, var = 0, mean = 0;
    for (size_t k = 1; k <= N; k++) {
        pred += gsl_sf_psi(0.5 * (double)k) + log(2.0 / (double)N);
        var += gsl_sf_psi_1(0.5 * (double)k);
    }
    pred *= (double)Lg / (double)N;
    var *= (double)Lg / ((double)N * (double)N);
    for (unsigned long s = 0; s < 8; s++) {
        ck_assert_int_eq(tdl_signal_jacobian_sv(&lin, TDL_SIGNAL_GAUSSIAN, N, Lg, 1.0, 20 + s, sv), TDL_OK);
        for (size_t i = 0; i < N; i++) mean += log(sv[i] * sv[i]) / (double)N / 8.0;
        for (size_t i = 1; i < N; i++) ck_assert(sv[i] <= sv[i - 1]);
    }
    ck_assert_msg(fabs(mean - pred) <= 5 * sqrt(var / 8.0), "mean log s^2 %.6g vs %.6g", mean, pred);
}
END_TEST

/* ---- information plane ------------------------------------------------------ */

START_TEST(test_binning_closed_form)
{
    /* 8 rows in 4 cells with counts 4, 2, 1, 1: H = 1.75 bits; Y = [cell 0]:
     * a function of T, so I(T;Y) = H(Y) = 1 bit; Y independent of T: 0 */
    const double T[8] = {0.05, 0.06, 0.07, 0.08, 0.3, 0.35, 0.6, 0.9};
    const size_t y1[8] = {1, 1, 1, 1, 0, 0, 0, 0}, y0[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    double ixt, ity;
    ck_assert_int_eq(tdl_mi_binning(T, 8, 1, y1, 2, 0.0, 1.0, 4, &ixt, &ity), TDL_OK);
    ck_assert(fabs(ixt - 1.75) <= 1e-15 && fabs(ity - 1.0) <= 1e-15);
    const double Tb[8] = {0.05, 0.06, 0.07, 0.08, 0.3, 0.35, 0.31, 0.32}; /* two cells of 4 */
    ck_assert_int_eq(tdl_mi_binning(Tb, 8, 1, y0, 2, 0.0, 1.0, 4, &ixt, &ity), TDL_OK);
    ck_assert(fabs(ixt - 1.0) <= 1e-15 && fabs(ity) <= 1e-15);
    /* two units: the patterns, not the units, are counted: all 8 distinct -> 3 bits */
    const double T2[16] = {0.1, 0.1, 0.1, 0.6, 0.6, 0.1, 0.6, 0.6, 0.3, 0.1, 0.3, 0.6, 0.9, 0.1, 0.9, 0.6};
    ck_assert_int_eq(tdl_mi_binning(T2, 8, 2, NULL, 0, 0.0, 1.0, 4, &ixt, &ity), TDL_OK);
    ck_assert(fabs(ixt - 3.0) <= 1e-15 && isnan(ity));
    /* out-of-range values go to the end bins */
    const double T3[2] = {-5, 5};
    ck_assert_int_eq(tdl_mi_binning(T3, 2, 1, NULL, 0, 0.0, 1.0, 4, &ixt, NULL), TDL_OK);
    ck_assert(fabs(ixt - 1.0) <= 1e-15);
}
END_TEST

START_TEST(test_kde_closed_form)
{
    /* two points at distance d: I = 1 - log2(1 + exp(-d^2 / (2 s2))) */
    const double T[4] = {0, 0, 0.3, 0.4}; /* d = 0.5 */
    const size_t y[2] = {0, 1};
    double ixt, ity, s2 = 0.1;
    ck_assert_int_eq(tdl_mi_kde(T, 2, 2, y, 2, s2, &ixt, &ity), TDL_OK);
    double pred = 1 - log2(1 + exp(-0.25 / (2 * s2)));
    ck_assert_msg(fabs(ixt - pred) <= 1e-14, "kde %.17g vs %.17g", ixt, pred);
    /* each class has one point: H(T|Y) bound is 0, so I(T;Y) = I(X;T) */
    ck_assert(fabs(ity - ixt) <= 1e-14);
    /* far-apart points: log2 n; identical points: 0 */
    const double F[3] = {0, 100, 200}, Z[3] = {1, 1, 1};
    ck_assert_int_eq(tdl_mi_kde(F, 3, 1, NULL, 0, s2, &ixt, NULL), TDL_OK);
    ck_assert(fabs(ixt - log2(3.0)) <= 1e-14);
    ck_assert_int_eq(tdl_mi_kde(Z, 3, 1, NULL, 0, s2, &ixt, NULL), TDL_OK);
    ck_assert(fabs(ixt) <= 1e-14);
}
END_TEST

START_TEST(test_task12_and_hidden)
{
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_infoplane_task12(&ds), TDL_OK);
    ck_assert_uint_eq(ds->n, 4096);
    ck_assert_uint_eq(ds->d, 12);
    size_t pos = 0;
    for (size_t p = 0; p < 4096; p++) {
        pos += ds->labels[p];
        /* |sum s_j v_j|^2 is even in s: flipping every bit keeps the label */
        ck_assert_uint_eq(ds->labels[p], ds->labels[4095 - p]);
        for (size_t j = 0; j < 12; j++) ck_assert(gsl_matrix_get(ds->X, p, j) == (double)((p >> j) & 1u));
    }
    ck_assert_uint_eq(pos, 2036);
    /* hidden activations: phi(W x + b) agrees with the net's forward pass through
     * the last layer: f = W_2 T + b_2 */
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    ck_assert_int_eq(tdl_arch_parse("12-5-2", &mc), TDL_OK);
    mc.act.kind = TDL_ACT_TANH;
    mc.sigma_b = 0.3;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&mc, &m), TDL_OK);
    double *T = malloc(4096 * 5 * sizeof(double)), *F = malloc(64 * 2 * sizeof(double));
    ck_assert_int_eq(tdl_mlp_hidden(m, ds->X, 0, T), TDL_OK);
    tdl_net_work *w = NULL;
    ck_assert_int_eq(tdl_net_work_alloc(m, 64, &w), TDL_OK);
    tdl_batch b = tdl_batch_rows(ds, 0, 64);
    ck_assert_int_eq(tdl_mlp_forward(m, &b, w, F), TDL_OK);
    const tdl_layer *L1 = &m->layers[1];
    for (size_t i = 0; i < 64; i++)
        for (size_t o = 0; o < 2; o++) {
            double f = m->theta[L1->b_off + o];
            for (size_t k = 0; k < 5; k++) f += m->theta[L1->w_off + o * 5 + k] * T[i * 5 + k];
            ck_assert_msg(fabs(f - F[i * 2 + o]) <= 1e-13, "row %zu: %.17g vs %.17g", i, f, F[i * 2 + o]);
        }
    ck_assert_int_eq(tdl_mlp_hidden(m, ds->X, 1, T), TDL_EINVAL);
    /* a short run: snapshots at 0 and log-spaced epochs, I(X;T) <= 12 bits */
    tdl_infoplane_config ic;
    tdl_infoplane_config_default(&ic);
    ic.train.epochs = 4;
    ic.snapshots = 3;
    tdl_infoplane_result r;
    ck_assert_int_eq(tdl_infoplane_run(m, ds, &ic, &r), TDL_OK);
    ck_assert_uint_eq(r.n_layers, 1);
    ck_assert_uint_eq(r.epochs[0], 0);
    ck_assert_uint_eq(r.epochs[r.n_snapshots - 1], 4);
    for (size_t s = 0; s < r.n_snapshots; s++) ck_assert(r.ixt[s] <= 12 + 1e-12 && r.ity[s] <= 1 + 1e-12 && r.ity[s] >= -1e-12);
    tdl_infoplane_result_free(&r);
    tdl_net_work_free(&w);
    free(T);
    free(F);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* ---- errors ------------------------------------------------------------------- */

START_TEST(test_errors)
{
    tdl_signal_config cfg = make_cfg(TDL_ACT_TANH, -1.0, 0.0);
    double x;
    tdl_signal_stats s;
    ck_assert_int_eq(tdl_signal_qmap(&cfg, 1.0, &x), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "sigma_w") != NULL);
    cfg.sigma_w = 1;
    cfg.sigma_b = NAN;
    ck_assert_int_eq(tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s), TDL_EINVAL);
    cfg.sigma_b = 0;
    ck_assert_int_eq(tdl_signal_qmap(&cfg, -1.0, &x), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_cmap(&cfg, 1.0, 1.5, &x), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_analyze(&cfg, 1.0, 1.0, 0, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_analyze(&cfg, INFINITY, 0.0, 0, &s), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_critical_sigma_w(&cfg, 2.0, 3.0, &x), TDL_EINVAL); /* no sign change */
    ck_assert_int_eq(tdl_signal_memory_check((size_t)1 << 40, 1, 0), TDL_ETOOBIG);
    ck_assert_int_eq(tdl_signal_memory_check((size_t)1 << 33, 0, 0), TDL_ETOOBIG); /* overflow of N^2 bytes */
    ck_assert_int_eq(tdl_signal_simulate(&cfg, TDL_SIGNAL_GAUSSIAN, 1, 3, 1.0, 0.5, 0, NULL, NULL, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_simulate(&cfg, TDL_SIGNAL_GAUSSIAN, 8, 0, 1.0, 0.5, 0, NULL, NULL, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_signal_simulate(&cfg, TDL_SIGNAL_GAUSSIAN, 8, 3, 0.0, 0.5, 0, NULL, NULL, NULL), TDL_EINVAL);
    double sv[8];
    ck_assert_int_eq(tdl_signal_jacobian_sv(&cfg, TDL_SIGNAL_GAUSSIAN, 8, 3, -1.0, 0, sv), TDL_EINVAL);
    /* overflow in a deep ReLU net with huge sigma_w is reported, not returned as inf */
    tdl_signal_config big = make_cfg(TDL_ACT_RELU, 1e30, 0.0);
    double q[20];
    ck_assert_int_eq(tdl_signal_simulate(&big, TDL_SIGNAL_GAUSSIAN, 8, 19, 1.0, 0.5, 0, q, NULL, NULL), TDL_ENONFINITE);
    ck_assert_msg(strstr(tdl_errmsg(), "; lower sigma_w or the depth") != NULL, "%s", tdl_errmsg());
    /* the mean-field iterates name the parameter at fault, in the
     * configuration's terms (the CLI maps them to its options) */
    static const struct { tdl_act_kind act; double sw, sb, q0; size_t depth; int st; const char *advice; } why[] = {
        {TDL_ACT_RELU, 100, 0, 1, 100, TDL_ENONFINITE, "; lower sigma_w or the depth (below 43)"},
        {TDL_ACT_RELU, 1, 0, 1, 2000, TDL_EINVAL, "; lower the depth (below 539) or use sigma_b > 0"},
        {TDL_ACT_TANH, 1, 1e200, 1, 10, TDL_ENONFINITE, "; lower sigma_b"},
        {TDL_ACT_RELU, 1.5, 0, 1e300, 10, TDL_ENONFINITE, "; lower q0"},
        {TDL_ACT_RELU, 1e200, 0, 1, 10, TDL_ENONFINITE, "; lower sigma_w"},
        {TDL_ACT_TANH, 0, 0, 1, 10, TDL_EINVAL, "; use sigma_w > 0 or sigma_b > 0"},
    };
    double qi[2001], ci[2001];
    for (size_t k = 0; k < sizeof why / sizeof why[0]; k++) {
        tdl_signal_config w = make_cfg(why[k].act, why[k].sw, why[k].sb);
        ck_assert_int_eq(tdl_signal_iterate(&w, why[k].q0, 0.5, why[k].depth, qi, ci), why[k].st);
        const char *msg = tdl_errmsg(), *tail = strstr(msg, why[k].advice);
        ck_assert_msg(tail && tail[strlen(why[k].advice)] == 0, "case %zu: %s", k, msg);
        ck_assert_msg(strstr(msg, "--") == NULL, "case %zu names a flag: %s", k, msg);
    }
    /* the init names (tdl/names.h) */
    int v = -1;
    ck_assert_int_eq(tdl_name_lookup(tdl_signal_init_names, "init", "orthogonal", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_SIGNAL_ORTHOGONAL);
    ck_assert_int_eq(tdl_name_lookup(tdl_signal_init_names, "init", "uniform", &v), TDL_EINVAL);
    ck_assert_str_eq(tdl_errmsg(), "unknown init 'uniform' (gaussian orthogonal)");
    ck_assert_str_eq(tdl_name_of(tdl_signal_init_names, TDL_SIGNAL_GAUSSIAN), "gaussian");
    const double T[2] = {0, NAN};
    const size_t y[2] = {0, 5};
    ck_assert_int_eq(tdl_mi_binning(T, 2, 1, NULL, 0, 1.0, 0.0, 30, &x, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_mi_binning(T, 2, 1, NULL, 0, 0.0, 1.0, 30, &x, NULL), TDL_ENONFINITE);
    ck_assert_int_eq(tdl_mi_binning(T, 1, 1, y + 1, 2, 0.0, 1.0, 30, &x, &x), TDL_EINVAL);
    ck_assert_int_eq(tdl_mi_kde(T, 2, 1, NULL, 0, 0.1, &x, NULL), TDL_ENONFINITE);
    ck_assert_int_eq(tdl_mi_kde(T, 1, 1, NULL, 0, 0.0, &x, NULL), TDL_EINVAL);
}
END_TEST

static Suite *signal_suite(void)
{
    Suite *s = suite_create("signal");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_maps_monte_carlo);
    tcase_add_test(core, test_fixed_points_vs_iteration);
    tcase_add_test(core, test_tanh_transition);
    tcase_add_test(core, test_closed_vs_quadrature);
    tcase_add_test(core, test_simulation_vs_maps);
    tcase_add_test(core, test_jacobian_spectra);
    suite_add_tcase(s, core);
    TCase *ip = tcase_create("infoplane");
    tcase_set_timeout(ip, 120);
    tcase_add_test(ip, test_binning_closed_form);
    tcase_add_test(ip, test_kde_closed_form);
    tcase_add_test(ip, test_task12_and_hidden);
    suite_add_tcase(s, ip);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, test_errors);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(signal_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
