/* dynamical-isometry — the input-output Jacobian of a deep orthogonal linear
 * net is an isometry; Gaussian weights spread its spectrum; tanh at
 * criticality with orthogonal weights stays near isometry.
 *
 * Claim.  For J = D^L W^L ... D^1 W^1 (Pennington, Schoenholz, Ganguli 2017,
 * eq. 3): (a) with phi = identity and W^l = sigma_w O^l, O^l Haar orthogonal,
 * sigma_w = 1, every singular value of J is exactly 1 (a product of
 * orthogonal matrices); (b) with Gaussian W^l (variance 1/N) the mean log
 * squared singular value is exactly predicted: (1/N) E log det(J J^T) =
 * L sum_{k=1}^N [psi(k/2) + log(2/N)] (det(W W^T) is a product of
 * independent chi^2_k / N by the Bartlett decomposition), with variance
 * L sum_k psi'(k/2) / N^2 — far below 0: the spectrum spreads with depth;
 * (c) for tanh at the edge of chaos with small q*, orthogonal weights keep
 * the spectrum of J J^T far narrower than Gaussian weights (Pennington et
 * al. 2017, Sec. 4-5 and Fig. 4: dynamical isometry is achievable for
 * orthogonal tanh nets at criticality, not for Gaussian ones nor for ReLU).
 * Source: Saxe, McClelland, Ganguli 2014 (orthogonal deep linear nets);
 * Pennington, Schoenholz, Ganguli 2017 (NeurIPS), eq. 3 and Sec. 4-5.
 *
 * Setup.  Square nets of width N and depth L (quick N = 128, L = 16; full
 * N = 500, L = 50), tdl_signal_jacobian_sv: products by dgemm, singular values
 * by dgesdd.  Input x^0 = phi(h^0), h^0 ~ N(0, q*).  tanh at sigma_b = 0.02
 * and the critical sigma_w of tdl_signal_critical_sigma_w; ReLU at
 * sigma_w = sqrt 2, sigma_b = 0 (its critical point), for information.
 *
 * Passes when: (a) max_i |s_i - 1| <= 10 L sqrt(N) eps (each orthogonal
 * factor is orthogonal to ~sqrt(N) eps; errors add over L layers);
 * (b) the Gaussian linear net's (1/N) sum log s_i^2 is within 4 standard
 * deviations of its exact expectation (at depth 6 only: the smallest singular
 * values of deeper Gaussian products, ~exp(-3 L) s_max, fall below dgesdd's
 * absolute accuracy eps s_max and the mean log would be biased upwards); (c) var(lambda) of orthogonal tanh
 * <= 0.2 var(lambda) of Gaussian tanh (lambda = s^2), both at criticality.
 * Broken setup: the "orthogonal" nets draw Gaussian weights, so (a) and (c)
 * fail.
 *
 * --data refused: its claim is about the input-output Jacobian of random
 * nets, which takes no data set.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sf_psi.h>
#include "check.h"
#include "plot.h"

static void spectrum_stats(const double *sv, size_t n, double *mean_l, double *var_l, double *mean_log)
{
    double m = 0, v = 0, lg = 0;
    for (size_t i = 0; i < n; i++) {
        double l = sv[i] * sv[i];
        m += l;
        lg += log(l);
    }
    m /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double l = sv[i] * sv[i];
        v += (l - m) * (l - m);
    }
    *mean_l = m;
    *var_l = v / (double)n;
    *mean_log = lg / (double)n;
}

static int run(const pc_options *opt, pc_result *res)
{
    const size_t N = opt->quick ? 128 : 500, L = opt->quick ? 16 : 50;
    const tdl_signal_init orth = opt->broken ? TDL_SIGNAL_GAUSSIAN : TDL_SIGNAL_ORTHOGONAL;
    int st = TDL_OK;
    double *sv[5] = {NULL, NULL, NULL, NULL, NULL};
    for (size_t k = 0; k < 5; k++)
        if (!(sv[k] = tdl_malloc(N * sizeof(double), "singular values"))) { st = TDL_ENOMEM; goto cleanup; }
    tdl_signal_config lin, th, re;
    tdl_signal_config_default(&lin);
    lin.act.kind = TDL_ACT_IDENTITY;
    lin.sigma_w = 1;
    lin.sigma_b = 0;
    tdl_signal_config_default(&th);
    th.sigma_b = 0.02;
    if ((st = tdl_signal_critical_sigma_w(&th, 0.5, 4, &th.sigma_w)) != TDL_OK) goto cleanup;
    tdl_signal_stats ts;
    if ((st = tdl_signal_analyze(&th, 1.0, 0.0, 0, &ts)) != TDL_OK) goto cleanup;
    tdl_signal_config_default(&re);
    re.act.kind = TDL_ACT_RELU;
    re.sigma_w = M_SQRT2;
    re.sigma_b = 0;

    /* (a) orthogonal deep linear */
    if ((st = tdl_signal_jacobian_sv(&lin, orth, N, L, 1.0, opt->seed, sv[0])) != TDL_OK) goto cleanup;
    double dev = 0;
    for (size_t i = 0; i < N; i++) dev = fmax(dev, fabs(sv[0][i] - 1));
    double tol_a = 10 * (double)L * sqrt((double)N) * DBL_EPSILON;
    pc_addf(res, "orth_linear_max_dev", "orthogonal linear: max_i |s_i - 1|", dev, 0.0, dev <= tol_a,
            "<= 10 L sqrt(N) eps = %.2g", tol_a);

    /* (b) Gaussian deep linear: exact mean of log s^2 (Bartlett), at depth
     * Lg = 6: s_min/s_max ~ exp(-3 Lg) must stay far above eps for dgesdd's
     * absolute accuracy eps s_max to resolve the smallest values */
    const size_t Lg = 6;
    if ((st = tdl_signal_jacobian_sv(&lin, TDL_SIGNAL_GAUSSIAN, N, Lg, 1.0, opt->seed + 1, sv[1])) != TDL_OK) goto cleanup;
    double ml, vl, mlog;
    spectrum_stats(sv[1], N, &ml, &vl, &mlog);
    double pred = 0, var = 0;
    for (size_t k = 1; k <= N; k++) {
        pred += gsl_sf_psi(0.5 * (double)k) + log(2.0 / (double)N);
        var += gsl_sf_psi_1(0.5 * (double)k);
    }
    pred *= (double)Lg / (double)N;
    var *= (double)Lg / ((double)N * (double)N);
    pc_addf(res, "gauss_linear_mean_log", "Gaussian linear: (1/N) sum log s_i^2", mlog, pred,
            fabs(mlog - pred) <= 4 * sqrt(var), "within 4 sd = %.3g of L sum(psi(k/2) + log(2/N))/N", 4 * sqrt(var));
    pc_add(res, "gauss_linear_var", "Gaussian linear, depth 6: var(s^2) (Fuss-Catalan, N -> inf: 6)", vl, (double)Lg, -1, "");

    /* (c) tanh at criticality, orthogonal vs Gaussian; ReLU for information */
    double mo, vo, lo, mg, vg, lgm, mr, vr, lr_;
    if ((st = tdl_signal_jacobian_sv(&th, orth, N, L, ts.q_star, opt->seed + 2, sv[2])) != TDL_OK) goto cleanup;
    if ((st = tdl_signal_jacobian_sv(&th, TDL_SIGNAL_GAUSSIAN, N, L, ts.q_star, opt->seed + 3, sv[3])) != TDL_OK) goto cleanup;
    if ((st = tdl_signal_jacobian_sv(&re, orth, N, L, 1.0, opt->seed + 4, sv[4])) != TDL_OK) goto cleanup;
    spectrum_stats(sv[2], N, &mo, &vo, &lo);
    spectrum_stats(sv[3], N, &mg, &vg, &lgm);
    spectrum_stats(sv[4], N, &mr, &vr, &lr_);
    pc_addf(res, "tanh_var_ratio", "tanh at criticality: var(s^2) orthogonal / Gaussian", vo / vg, NAN,
            vo <= 0.2 * vg, "<= 0.2");
    pc_add(res, "tanh_orth_var", "tanh, orthogonal: var(s^2)", vo, NAN, -1, "");
    pc_add(res, "tanh_gauss_var", "tanh, Gaussian: var(s^2)", vg, NAN, -1, "");
    pc_add(res, "tanh_orth_mean", "tanh, orthogonal: mean s^2 (chi_1^L = 1)", mo, 1.0, -1, "");
    pc_add(res, "relu_orth_var", "ReLU (sigma_w = sqrt 2), orthogonal: var(s^2)", vr, NAN, -1, "");
    pc_add(res, "tanh_q_star", "tanh: q* at the critical point", ts.q_star, NAN, -1, "");
    pc_setup(res, "square nets, width %zu, depth %zu; J = prod D W by dgemm, singular values by dgesdd; linear: sigma_w = 1; "
             "tanh: sigma_b = 0.02, sigma_w,c = %.6f (chi_1 = 1), inputs h^0 ~ N(0, q* = %.4g); ReLU: sigma_w = sqrt 2; "
             "seeds %lu..%lu%s", N, L, th.sigma_w, ts.q_star, opt->seed, opt->seed + 4,
             opt->broken ? "; BROKEN: the orthogonal nets draw Gaussian weights" : "");

    if (opt->plot) {
        /* sorted singular values against rank, log y */
        double *x = tdl_malloc(N * sizeof(double), "a figure");
        if (!x) { st = TDL_ENOMEM; goto cleanup; }
        for (size_t i = 0; i < N; i++) x[i] = (double)(i + 1) / (double)N;
        plot_series s[5] = {
            {"linear, orthogonal", x, sv[0], N, PLOT_LINES}, {"linear, Gaussian", x, sv[1], N, PLOT_LINES},
            {"tanh critical, orthogonal", x, sv[2], N, PLOT_LINES}, {"tanh critical, Gaussian", x, sv[3], N, PLOT_LINES},
            {"ReLU critical, orthogonal", x, sv[4], N, PLOT_LINES},
        };
        char cap[256];
        snprintf(cap, sizeof cap, "random nets (no data), width %zu, depth %zu (Gaussian linear: depth 6); dgemm + dgesdd "
                 "(values below ~1e-15 s_max are roundoff, axis cut at 1e-16); seed %lu", N, L, opt->seed);
        s[1].title = "linear, Gaussian (depth 6)";
        plot_spec ps = {"Singular values of the input-output Jacobian", "rank / N", "singular value", cap, 0, 1, 1e-16, s, 5};
        st = plot_render(opt->plot, &ps);
        free(x);
    }
cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "dynamical-isometry: out of memory");
    for (size_t k = 0; k < 5; k++) free(sv[k]);
    return st;
}

const pc_check pc_check_dynamical_isometry = {
    "dynamical-isometry",
    "Every singular value of the input-output Jacobian of a deep orthogonal linear net is 1; Gaussian weights spread the "
    "spectrum (mean log s^2 = L sum(psi(k/2) + log(2/N))/N); tanh at criticality stays near isometry only with orthogonal weights.",
    "Pennington, Schoenholz, Ganguli 2017 (NeurIPS) eq. 3, Sec. 4-5; Saxe, McClelland, Ganguli 2014",
    "the orthogonal nets draw Gaussian weights instead",
    run,
    0,
    NULL,
    "its claim is about the input-output Jacobian of random nets, which takes no data set",
    NULL,
};
