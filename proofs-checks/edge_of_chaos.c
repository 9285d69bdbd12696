/* edge-of-chaos — chi_1 = 1 at the order-to-chaos transition, where the
 * correlation depth scale xi_c diverges.
 *
 * Claim.  In a deep, wide random net (W ~ N(0, sigma_w^2/N), b ~ N(0, sigma_b^2),
 * phi = tanh) the length map has an attracting fixed point q*, and
 * chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] separates the ordered phase
 * (chi_1 < 1: correlations converge to c* = 1) from the chaotic phase
 * (chi_1 > 1: c* < 1).  The correlation depth scale xi_c = -1/log chi_c,
 * chi_c = sigma_w^2 E[phi'(u) phi'(v)] at c*, diverges at chi_1 = 1; for
 * tanh with sigma_b = 0 the transition is at sigma_w = 1 (q* = 0 there and
 * chi_1 = sigma_w^2 phi'(0)^2).
 * Source: Poole et al. 2016 (NeurIPS), eqs. 3-7 and Fig. 2 (phase diagram);
 * Schoenholz et al. 2017 (ICLR), Sec. 3, eqs. 5-9 (xi_q, xi_c; xi_c diverges
 * at chi_1 = 1).  Near the transition 1 - chi_c is linear in the distance
 * delta = |sigma_w / sigma_w,c - 1| (on the chaotic side c* leaves 1 through a
 * transcritical bifurcation with slope chi_c ~ 2 - chi_1), so
 * xi_c ~ 1/(1 - chi_c) ~ 1/delta: a log-log slope of -1 on both sides.
 *
 * Setup.  Mean-field maps of tdl/signal.h (tanh: composite Gauss-Legendre
 * quadrature of the NTK module's dual maps).  sigma_w,c by bisection on
 * chi_1(sigma_w) = 1, at sigma_b = 0 and at sigma_b = 0.05.  xi_c at
 * sigma_w = sigma_w,c (1 -+ delta), delta = 0.01, 0.003, 0.001.  Finite nets
 * (tdl_signal_simulate): R random Gaussian nets of width N and depth L (quick
 * R = 4, N = 300, L = 30; full R = 6, N = 1000, L = 50), a pair of inputs with
 * q^0 = q*, c^0 = 0.5, at sigma_w,c (empirical chi_1 of every layer) and in
 * the ordered (0.7 sigma_w,c) and chaotic (1.6 sigma_w,c) phases (c^L).
 *
 * Measured / passes when:
 *  - sigma_w,c at sigma_b = 0 equals 1 within 1e-9 (bisection to 1e-15, the
 *    q* iteration to 1e-13);
 *  - the log-log slope of xi_c against delta is -1 +- 0.1 on each side (the
 *    O(delta) curvature corrections at delta <= 0.01 are below 0.05);
 *  - at sigma_w,c the empirical chi_1 of the finite nets (mean over layers
 *    5..L and nets) is 1 within 4 standard errors (across nets) + 1/N
 *    (finite-width bias O(1/N), constant 1 assumed);
 *  - the finite nets' mean q^L and c^L (ordered and chaotic) agree with the
 *    mean-field iterates within 4 standard errors + 1/N (relative for q).
 * It can fail: a wrong chi_1 formula moves sigma_w,c; a wrong c-map or
 * chi_c breaks the slope; wrong propagation code breaks the simulation rows.
 * Broken setup: chi_1 is evaluated at the input length q = 1 instead of at
 * the fixed point q* (a common mistake), so the "critical" sigma_w is
 * 1 / sqrt(E[sech^4 z]) ~ 1.47 at sigma_b = 0 and the finite nets there are
 * chaotic (empirical chi_1 != 1): the first and the simulation rows fail.
 *
 * --data refused: its claim is about random nets' mean-field maps, which
 * take no data set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plot.h"

/* sigma_w with sigma_w^2 E[phi'(z)^2] = 1 at q = 1: the broken criterion
 * (does not depend on sigma_b). */
static int broken_critical(const tdl_signal_config *cfg, double *sw)
{
    tdl_kact ka;
    double Td;
    tdl_kact_from_act(&cfg->act, 0, &ka);
    int st = tdl_kact_dual(&ka, 1, 1, 1, 0, NULL, &Td);
    if (st) return st;
    *sw = 1 / sqrt(Td);
    return TDL_OK;
}

/* Mean and standard error over R nets of a per-net statistic. */
static void mean_se(const double *v, size_t R, double *mean, double *se)
{
    double m = 0, s = 0;
    for (size_t r = 0; r < R; r++) m += v[r];
    m /= (double)R;
    for (size_t r = 0; r < R; r++) s += (v[r] - m) * (v[r] - m);
    *mean = m;
    *se = R > 1 ? sqrt(s / (double)(R - 1) / (double)R) : INFINITY;
}

/* --seeds: a standard error needs two nets; the statistics hold at most 8. */
static const char *check_params(const pc_options *opt)
{
    return opt->seeds == 1 || opt->seeds > 8 ? "--seeds: give 2 to 8 nets" : NULL;
}

static int run(const pc_options *opt, pc_result *res)
{
    const size_t R = opt->seeds ? opt->seeds : (opt->quick ? 4 : 6), N = opt->quick ? 300 : 1000, L = opt->quick ? 30 : 50;
    const double sb = 0.05;
    const double deltas[3] = {0.01, 0.003, 0.001};
    int st;
    double *q = NULL, *c = NULL, *chi = NULL, *qp = NULL, *cp = NULL;
    double stat_chi[8], stat_q[8], stat_co[8], stat_cc[8];
    tdl_signal_config cfg;
    tdl_signal_config_default(&cfg);
    q = tdl_malloc((L + 1) * sizeof(double), "iterates");
    c = tdl_malloc((L + 1) * sizeof(double), "iterates");
    chi = tdl_malloc((L + 1) * sizeof(double), "iterates");
    qp = tdl_malloc((L + 1) * sizeof(double), "iterates");
    cp = tdl_malloc((L + 1) * sizeof(double), "iterates");
    if (!q || !c || !chi || !qp || !cp) { st = TDL_ENOMEM; goto cleanup; }

    /* 1. the transition at sigma_b = 0 */
    double swc0, swc;
    cfg.sigma_b = 0;
    st = opt->broken ? broken_critical(&cfg, &swc0) : tdl_signal_critical_sigma_w(&cfg, 0.5, 4.0, &swc0);
    if (st) goto cleanup;
    pc_addf(res, "sigma_w_crit_sb0", "tanh, sigma_b = 0: sigma_w where chi_1 = 1", swc0, 1.0,
            fabs(swc0 - 1) <= 1e-9, "|measured - 1| <= 1e-9");

    /* 2. xi_c diverges like 1/delta on both sides of sigma_w,c(0.05) */
    cfg.sigma_b = sb;
    st = opt->broken ? broken_critical(&cfg, &swc) : tdl_signal_critical_sigma_w(&cfg, 0.5, 4.0, &swc);
    if (st) goto cleanup;
    pc_add(res, "sigma_w_crit", "tanh, sigma_b = 0.05: sigma_w where chi_1 = 1", swc, NAN, -1, "");
    double xi_lo[3], xi_hi[3], ld[3];
    for (size_t i = 0; i < 3; i++) {
        tdl_signal_stats s;
        ld[i] = deltas[i];
        cfg.sigma_w = swc * (1 - deltas[i]);
        if ((st = tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s)) != TDL_OK) goto cleanup;
        xi_lo[i] = s.xi_c;
        cfg.sigma_w = swc * (1 + deltas[i]);
        if ((st = tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s)) != TDL_OK) goto cleanup;
        xi_hi[i] = s.xi_c;
    }
    int finite_lo = 1, finite_hi = 1;
    for (size_t i = 0; i < 3; i++) {
        finite_lo &= isfinite(xi_lo[i]) && xi_lo[i] > 0;
        finite_hi &= isfinite(xi_hi[i]) && xi_hi[i] > 0;
    }
    double slope_lo = finite_lo ? pc_loglog_slope(ld, xi_lo, 3) : NAN;
    double slope_hi = finite_hi ? pc_loglog_slope(ld, xi_hi, 3) : NAN;
    pc_addf(res, "xi_c_slope_ordered", "ordered side: d log xi_c / d log delta", slope_lo, -1.0,
            fabs(slope_lo + 1) <= 0.1, "-1 +- 0.1");
    pc_addf(res, "xi_c_slope_chaotic", "chaotic side: d log xi_c / d log delta", slope_hi, -1.0,
            fabs(slope_hi + 1) <= 0.1, "-1 +- 0.1");
    pc_add(res, "xi_c_ordered_delta_0.001", "xi_c at sigma_w,c (1 - 0.001)", xi_lo[2], NAN, -1, "");
    pc_add(res, "xi_c_chaotic_delta_0.001", "xi_c at sigma_w,c (1 + 0.001)", xi_hi[2], NAN, -1, "");

    /* 3. finite nets at sigma_w,c and in both phases */
    const double factors[3] = {1.0, 0.7, 1.6};
    double q_pred_L = NAN, c_pred_ord = NAN, c_pred_cha = NAN, qstar = NAN;
    for (size_t f = 0; f < 3; f++) {
        tdl_signal_stats s;
        cfg.sigma_w = swc * factors[f];
        if ((st = tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s)) != TDL_OK) goto cleanup;
        if (f == 0) qstar = s.q_star;
        if ((st = tdl_signal_iterate(&cfg, s.q_star, 0.5, L, qp, cp)) != TDL_OK) goto cleanup;
        for (size_t r = 0; r < R; r++) {
            if ((st = tdl_signal_simulate(&cfg, TDL_SIGNAL_GAUSSIAN, N, L, s.q_star, 0.5, opt->seed + 100 * f + r, q, c, chi)) != TDL_OK)
                goto cleanup;
            if (f == 0) {
                double m = 0;
                for (size_t l = 5; l <= L; l++) m += chi[l];
                stat_chi[r] = m / (double)(L - 4);
                stat_q[r] = q[L];
                q_pred_L = qp[L];
            } else if (f == 1) {
                stat_co[r] = c[L];
                c_pred_ord = cp[L];
            } else {
                stat_cc[r] = c[L];
                c_pred_cha = cp[L];
            }
        }
    }
    double m, se, tol_n = 1.0 / (double)N;
    mean_se(stat_chi, R, &m, &se);
    pc_addf(res, "chi1_finite_nets", "finite nets at sigma_w,c: empirical chi_1 (layers 5..L)", m, 1.0,
            fabs(m - 1) <= 4 * se + tol_n, "|m - 1| <= 4 SE + 1/N = %.3g", 4 * se + tol_n);
    mean_se(stat_q, R, &m, &se);
    pc_addf(res, "qL_finite_nets", "finite nets at sigma_w,c: q^L", m, q_pred_L,
            fabs(m - q_pred_L) <= 4 * se + tol_n * q_pred_L, "within 4 SE + q/N = %.3g", 4 * se + tol_n * q_pred_L);
    mean_se(stat_co, R, &m, &se);
    pc_addf(res, "cL_ordered", "finite nets, sigma_w = 0.7 sigma_w,c: c^L", m, c_pred_ord,
            fabs(m - c_pred_ord) <= 4 * se + tol_n, "within 4 SE + 1/N = %.3g", 4 * se + tol_n);
    mean_se(stat_cc, R, &m, &se);
    pc_addf(res, "cL_chaotic", "finite nets, sigma_w = 1.6 sigma_w,c: c^L", m, c_pred_cha,
            fabs(m - c_pred_cha) <= 4 * se + tol_n, "within 4 SE + 1/N = %.3g", 4 * se + tol_n);
    pc_add(res, "q_star_at_crit", "q* at sigma_w,c (sigma_b = 0.05)", qstar, NAN, -1, "");
    pc_setup(res, "phi = tanh; mean-field maps by quadrature (tdl/signal.h); sigma_w,c by bisection on chi_1 = 1 "
             "(sigma_b = 0 and 0.05); xi_c at sigma_w,c (1 -+ delta), delta = 0.01, 0.003, 0.001; %zu Gaussian "
             "nets of width %zu, depth %zu, inputs q^0 = q*, c^0 = 0.5, seeds %lu + 100 f + r%s",
             R, N, L, opt->seed, opt->broken ? "; BROKEN: chi_1 evaluated at q = 1 instead of q*" : "");

    if (opt->plot) {
        const size_t np = 41;
        double *sw = tdl_malloc(np * sizeof(double), "a figure"), *xc = tdl_malloc(np * sizeof(double), "a figure");
        double *xq = tdl_malloc(np * sizeof(double), "a figure");
        size_t cnt = 0;
        if (!sw || !xc || !xq) st = TDL_ENOMEM;
        for (size_t i = 0; st == TDL_OK && i < np; i++) {
            tdl_signal_stats s;
            cfg.sigma_w = swc * (0.5 + (double)i / (double)(np - 1));
            if (fabs(cfg.sigma_w - swc) < 1e-6) continue;
            if ((st = tdl_signal_analyze(&cfg, 1.0, 0.0, 0, &s)) != TDL_OK) break;
            sw[cnt] = cfg.sigma_w;
            xc[cnt] = s.xi_c;
            xq[cnt] = s.xi_q;
            cnt++;
        }
        if (st == TDL_OK) {
            plot_series ser[2] = {{"xi_c (correlations)", sw, xc, cnt, PLOT_LINESPOINTS},
                                  {"xi_q (lengths)", sw, xq, cnt, PLOT_LINESPOINTS}};
            char cap[256], title[128];
            snprintf(cap, sizeof cap, "mean-field maps, tanh, sigma_b = %.2f, quadrature; sigma_w,c = %.6f; no data; seed n/a", sb, swc);
            snprintf(title, sizeof title, "Depth scales of tanh nets (edge of chaos at sigma_w = %.4f)", swc);
            plot_spec ps = {title, "sigma_w", "depth scale (layers)", cap, 0, 1, 0, ser, 2};
            st = plot_render(opt->plot, &ps);
        }
        free(sw); free(xc); free(xq);
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "edge-of-chaos: out of memory");
    free(q); free(c); free(chi); free(qp); free(cp);
    return st;
}

const pc_check pc_check_edge_of_chaos = {
    "edge-of-chaos",
    "chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = 1 marks the order-to-chaos transition of deep random nets, where the "
    "correlation depth scale xi_c diverges (like 1/|sigma_w - sigma_w,c|); tanh with sigma_b = 0 is critical at sigma_w = 1.",
    "Poole et al. 2016 (NeurIPS) eqs. 3-7; Schoenholz et al. 2017 (ICLR) Sec. 3 eqs. 5-9",
    "chi_1 evaluated at the input length q = 1 instead of the fixed point q*",
    run,
    PC_P_SEEDS,
    "  --seeds N          finite nets R, 2..8 (default 4 with --quick, else 6)\n",
    "its claim is about random nets' mean-field maps, which take no data set",
    check_params,
};
