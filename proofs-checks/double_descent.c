/* double-descent — test risk against the number of parameters p peaks at the
 * interpolation threshold p = n and falls again beyond it.
 *
 * Claim.  For minimum-norm least squares at fixed n, the test risk as a
 * function of the number of parameters p first falls, then rises to a peak
 * at the interpolation threshold p = n (where the n x p design is square and
 * its smallest singular value collapses) and falls again for p > n (the
 * "second descent"): on random ReLU features f(x) = sum_j a_j relu(w_j . x
 * / sqrt d), and on a two-layer net whose output layer is trained by
 * gradient descent from zero to interpolation.  On the isotropic linear
 * model the curve is known in closed form.
 * Source: Belkin, Hsu, Ma, Mandal, "Reconciling modern machine-learning
 * practice and the classical bias-variance trade-off", PNAS 116 (2019),
 * Fig. 1 (the double-descent curve) and Fig. 2 (random Fourier / ReLU
 * features, min-norm, peak at N = n); Hastie, Montanari, Rosset,
 * Tibshirani, "Surprises in high-dimensional ridgeless least squares
 * interpolation", Ann. Statist. 50 (2022), isotropic case (their Thm 1 for
 * gamma = p/n < 1 and Thm 2 / Cor. for gamma > 1): with x ~ N(0, I_p),
 * y = x . beta + eps, ||beta|| = r, Var eps = sigma^2, the risk
 * R = E[(x0 . (beta^ - beta))^2 | X] of the min-norm estimator tends to
 *     sigma^2 gamma / (1 - gamma)                     (gamma < 1),
 *     r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)       (gamma > 1);
 * Mei and Montanari, "The generalization error of random features
 * regression: precise asymptotics and double descent curve", CPAM 75 (2022),
 * Thm 1 (the random-features curve, given by a fixed-point equation).
 * What is checked against a formula: the isotropic linear model only.  The
 * formula above was not read from the paper here; it is confirmed by the
 * exact finite-n expectations derived for the Gaussian design (inverse
 * Wishart mean E (X^T X)^-1 = I / (n - p - 1); for p > n the min-norm
 * estimator is the projection of beta onto the row space, a uniformly random
 * n-dimensional subspace, plus sigma^2 tr (X X^T)^-1 = sigma^2 n / (p - n - 1)):
 *     E R = sigma^2 p / (n - p - 1)                    (p < n - 1),
 *     E R = r^2 (1 - n/p) + sigma^2 n / (p - n - 1)    (p > n + 1),
 * whose limits are the formulas above.  The random-features rows check the
 * shape (peak at the threshold, second descent) and no predicted value:
 * Mei and Montanari's asymptotic risk is the solution of a system of
 * fixed-point equations that this check does not solve (scope, stated in
 * its output).
 *
 * Setup.  (1) Random ReLU features (tdl_rf_fit on a net d-p-1, NTK
 * parametrization, sigma_w = 1, no biases, first layer N(0, 1) and frozen):
 * x ~ N(0, I_d), y = x . beta / ||beta|| + eps, eps ~ N(0, 0.25); n = 100,
 * d = 25 (quick) or n = 300, d = 75 (full); p over a log grid from n/8 to 16 n
 * with p = n on it; the risk E (f(x) - x . beta)^2 (excess risk) on 500
 * (quick) / 2000 (full) fresh noiseless test points; S random-feature and
 * data draws (seeds; default 5 quick, 10 full).  (2) The isotropic linear
 * model with r = 1, sigma = 0.5, n = 100 (quick) / 400 (full), p = gamma n for
 * gamma in {0.2, 0.5, 1, 2, 5}, min-norm by tdl_lstsq_minnorm (SVD), the
 * exact risk ||beta^ - beta||^2 (x isotropic), 10 S draws.  (3) A two-layer
 * ReLU net d-p-1 (n = 40, d = 10, the random features of (1) as its frozen
 * first layer) whose output layer starts at 0 and is trained by full-batch
 * GD on the mse (tdl_train, step n / s_max^2 = 1 / lambda_max of the loss
 * Hessian) for 4000 (quick) / 40000 (full) steps: GD from 0 stays in the
 * row space of the features, so it tends to the min-norm interpolant
 * (Hastie et al. 2022, Sec. 2.2); widths p in {n/4, n/2, n, 2n, 8n}.
 *
 * Measured, and the pass criteria.
 *   rf_peak_location  p* / n, p* the grid point of the largest mean risk:
 *                     must be the interpolation threshold, the first grid
 *                     p whose n x p features have rank n in every seed: 1
 *                     for features of full rank (the built-in Gaussian
 *                     data), later on data of low intrinsic dimension (raw
 *                     digits: 1.1), where the features at p = n are still
 *                     rank-deficient and cannot interpolate.
 *   rf_peak_seeds     seeds whose risk at p = n exceeds both shoulders
 *                     (p = n/2, p = 2n): must be all S.  Without a peak each
 *                     seed would do so with probability <= 1/2 (sign test),
 *                     so all S = 5 happen by chance with probability < 1/32.
 *   rf_peak_ratio     mean risk at p = n / the smallest mean risk (info).
 *   rf_second_descent mean risk at the largest p: must be below the mean
 *                     risk at p = n and below that at p = 2n (a descent over
 *                     a factor 8 in p beyond the threshold).
 *   linear_gamma_G    measured mean risk vs the asymptotic formula: must
 *                     agree within 4 SE + |E R(n) - R(inf)|, SE the standard
 *                     error over the draws (a 4-sigma band: a false alarm has
 *                     probability ~ 6e-5 by the CLT) and the second term the
 *                     exact finite-n bias from the expectations above.
 *   linear_peak_seeds draws whose risk at p = n exceeds those at gamma = 1/2
 *                     and 2: must be all (the expectation is infinite at p = n).
 *   gd_peak           (the trained net) mean risk at p = n over those at n/2
 *                     and 2n: must exceed 1 at both (the peak survives GD,
 *                     damped because GD has not converged along the tiny
 *                     singular directions that make the min-norm peak).
 *   gd_p_X            (info) the GD-trained risk beside the min-norm one.
 * Broken setup: a ridge (Hastie et al.'s scaling, (1/n)||y - A a||^2 +
 * lambda ||a||^2) in the fits of the peak rows: lambda = 0.01 for the random
 * features and the GD net (as weight decay; the measured risk then falls
 * monotonically in p), lambda = sigma^2 gamma / r^2 = 0.25 at gamma = 1 for
 * the linear model (the Bayes-optimal ridge of an isotropic prior on beta,
 * the posterior mean (X^T X + n lambda I)^-1 X^T y).  The ridge keeps every
 * fit stable, the curves have no peak at p = n and the peak rows fail ("no
 * peak").  The closed-form rows keep ridge 0 (they test the formula).
 *
 * --data SPEC: the random-features rows on the user's data (any targets:
 * tdl_rf_fit's mse targets; the risk is then the test mean of ||f - t||^2),
 * at most 200 (quick 100) training examples (the data grammar's n=), the
 * test set from --test or the grammar's split of --data (test=0.25); the
 * threshold is that n.  The linear-model and GD-net rows stay on their
 * Gaussian data (the setup line says so).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "check.h"
#include "plot.h"
#include "tdl/random_features.h"

#define DD_MAX_GRID 24
#define DD_MAX_SEEDS 200
#define DD_SIGMA 0.5
#define DD_BROKEN_RIDGE 0.01        /* random features and the GD net */
#define DD_BROKEN_RIDGE_LINEAR 0.25 /* the linear model: sigma^2 gamma / r^2 at gamma = 1 */

/* OpenBLAS extension (not in gsl_cblas.h), as width_no_overfit.c. */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

/* A regression set x ~ N(0, I_d), y = x . u + noise * eps (u a unit vector). */
static int gaussian_set(size_t n, size_t d, const double *u, double noise, gsl_rng *rng, tdl_dataset **out)
{
    int st = tdl_dataset_create(n, d, 0, 1, out);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < n; i++) {
        double y = 0;
        for (size_t j = 0; j < d; j++) {
            double x = gsl_ran_gaussian_ziggurat(rng, 1.0);
            gsl_matrix_set((*out)->X, i, j, x);
            y += x * u[j];
        }
        gsl_matrix_set((*out)->Y, i, 0, y + (noise > 0 ? gsl_ran_gaussian_ziggurat(rng, noise) : 0));
    }
    return TDL_OK;
}

/* The random-features net d-p-C (NTK, sigma_w 1, no bias), fitted by
 * tdl_rf_fit; risk = test mean of ||f - t||^2 (2 x tdl's mse loss). */
static int rf_risk(const tdl_dataset *train, const tdl_dataset *test, size_t p, unsigned long seed, double ridge,
                   tdl_mlp **keep, double *risk, tdl_lstsq_info *info)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 2;
    cfg.widths[0] = train->d;
    cfg.widths[1] = p;
    cfg.widths[2] = tdl_dataset_outputs(train);
    cfg.param = TDL_PARAM_NTK;
    cfg.sigma_w = 1;
    cfg.bias = 0;
    cfg.seed = seed;
    tdl_mlp *m = NULL;
    tdl_net_work *w = NULL;
    tdl_eval_stats es = {0};
    int st;
    if ((st = tdl_mlp_create(&cfg, &m)) != TDL_OK) return st;
    if ((st = tdl_rf_fit(m, train, ridge, -1, info)) != TDL_OK) goto cleanup;
    if ((st = tdl_net_work_alloc(m, test->n < 1024 ? test->n : 1024, &w)) != TDL_OK) goto cleanup;
    if ((st = tdl_mlp_evaluate(m, TDL_LOSS_MSE, test, w, &es)) != TDL_OK) goto cleanup;
    *risk = 2 * es.loss;
cleanup:
    tdl_eval_stats_free(&es);
    tdl_net_work_free(&w);
    if (st == TDL_OK && keep) *keep = m;
    else tdl_mlp_free(&m);
    return st;
}

static void mean_se(const double *v, size_t n, double *mean, double *se)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *se = n > 1 ? sqrt(q / (double)(n - 1) / (double)n) : NAN;
}

/* Hastie et al.'s limit and the exact finite-n expectation (header). */
static double hastie_limit(double gamma, double r2, double s2)
{
    return gamma < 1 ? s2 * gamma / (1 - gamma) : r2 * (1 - 1 / gamma) + s2 / (gamma - 1);
}
static double finite_n_mean(size_t n, size_t p, double r2, double s2)
{
    double N = (double)n, P = (double)p;
    return p < n ? s2 * P / (N - P - 1) : r2 * (1 - N / P) + s2 * N / (P - N - 1);
}

/* One linear-model draw: risk ||beta^ - beta||^2 of the (ridge) min-norm fit. */
static int linear_risk(size_t n, size_t p, double ridge, gsl_rng *rng, double *risk)
{
    double *X = tdl_malloc(n * p * sizeof(double), "a design"), *y = tdl_malloc(n * sizeof(double), "targets");
    double *beta = tdl_malloc(p * sizeof(double), "beta"), *bh = tdl_malloc(p * sizeof(double), "beta hat");
    int st = TDL_OK;
    if (!X || !y || !beta || !bh) { st = TDL_ENOMEM; goto cleanup; }
    gsl_ran_dir_nd(rng, p, beta); /* ||beta|| = r = 1, uniform direction */
    for (size_t i = 0; i < n; i++) {
        double t = 0;
        for (size_t j = 0; j < p; j++) { X[i * p + j] = gsl_ran_gaussian_ziggurat(rng, 1.0); t += X[i * p + j] * beta[j]; }
        y[i] = t + gsl_ran_gaussian_ziggurat(rng, DD_SIGMA);
    }
    if ((st = tdl_lstsq_minnorm(X, n, p, y, 1, ridge, -1, bh, NULL)) != TDL_OK) goto cleanup;
    double r = 0;
    for (size_t j = 0; j < p; j++) r += (bh[j] - beta[j]) * (bh[j] - beta[j]);
    *risk = r;
cleanup:
    free(X); free(y); free(beta); free(bh);
    return st;
}

static int run(const pc_options *opt, pc_result *res)
{
    const int quick = opt->quick;
    const size_t S = opt->seeds ? opt->seeds : (quick ? 5 : 10);
    const double ridge = opt->broken ? DD_BROKEN_RIDGE : 0;
    const size_t lin_n = quick ? 100 : 400, lin_draws = 10 * S > DD_MAX_SEEDS ? DD_MAX_SEEDS : 10 * S;
    const size_t gd_n = 40, gd_d = 10, gd_steps = quick ? 4000 : 40000;
    static const double grid_ratio[] = {0.125, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2, 4, 8, 16};
    const size_t G = sizeof grid_ratio / sizeof grid_ratio[0], i_n = 5, i_half = 2, i_two = 9;
    char *split_tr = NULL, *split_te = NULL, *used_tr = NULL, *used_te = NULL;
    tdl_dataset *tr = NULL, *te = NULL, *user_tr = NULL, *user_te = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *risk = tdl_malloc(G * S * sizeof(double), "risks"), *lin = tdl_malloc(5 * lin_draws * sizeof(double), "risks");
    int st = TDL_OK;
    if (!rng || !risk || !lin) { st = TDL_ENOMEM; goto cleanup; }
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);

    /* ---- (1) random ReLU features ---- */
    size_t n, d;
    char data_text[320];
    if (opt->data) {
        if (!opt->test) {
            char *a = pc_spec_with(opt->data, "split", "train"), *b = pc_spec_with(opt->data, "split", "test");
            split_tr = a ? pc_spec_with(a, "test", "0.25") : NULL;
            split_te = b ? pc_spec_with(b, "test", "0.25") : NULL;
            free(a);
            free(b);
            if (!split_tr || !split_te) { st = tdl_error_set(TDL_EINVAL, "double-descent: %s", tdl_errmsg()); goto restore; }
        }
        if ((st = pc_load_user_data("double-descent", split_tr ? split_tr : opt->data, quick ? 100 : 200, &user_tr, &used_tr)) != TDL_OK) goto restore;
        if ((st = pc_load_user_data("double-descent", split_te ? split_te : opt->test, quick ? 500 : 2000, &user_te, &used_te)) != TDL_OK) goto restore;
        if (user_te->d != user_tr->d || tdl_dataset_outputs(user_te) != tdl_dataset_outputs(user_tr) ||
            (user_te->classes == 0) != (user_tr->classes == 0)) {
            st = tdl_error_set(TDL_ESHAPE, "double-descent: the test set %s does not match the data %s (inputs, outputs or task)",
                               used_te, used_tr);
            goto restore;
        }
        if (user_tr->n < 16) { st = tdl_error_set(TDL_EINVAL, "double-descent: %s has %zu examples; the curve needs n >= 16", used_tr, user_tr->n); goto restore; }
        n = user_tr->n;
        d = user_tr->d;
        char b1[160], b2[160];
        snprintf(data_text, sizeof data_text, "%s (n = %zu) / %s (%zu)", pc_display_spec(used_tr, b1, sizeof b1), n,
                 pc_display_spec(used_te, b2, sizeof b2), user_te->n);
    } else {
        n = quick ? 100 : 300;
        d = n / 4;
        snprintf(data_text, sizeof data_text, "x ~ N(0, I_%zu), y = x.u + N(0, %g^2), n = %zu, %zu noiseless test points per draw", d,
                 DD_SIGMA, n, quick ? (size_t)500 : (size_t)2000);
    }
    size_t grid[DD_MAX_GRID];
    for (size_t g = 0; g < G; g++) {
        grid[g] = (size_t)llround(grid_ratio[g] * (double)n);
        if (grid[g] < 1) grid[g] = 1;
    }
    double cond_n = NAN;
    /* the interpolation threshold: the smallest grid p whose features reach
     * rank n in every seed (p = n for features of full rank, as on the
     * built-in Gaussian data; later on data of low intrinsic dimension,
     * e.g. raw digits, whose ReLU features stay rank-deficient at p = n) */
    int full_rank[DD_MAX_GRID];
    for (size_t g = 0; g < G; g++) full_rank[g] = 1;
    for (size_t s = 0; s < S; s++) {
        const unsigned long seed = opt->seed + s;
        if (opt->data) {
            tr = user_tr;
            te = user_te;
        } else {
            double *u = tdl_malloc(d * sizeof(double), "a direction");
            if (!u) { st = TDL_ENOMEM; goto restore; }
            gsl_rng_set(rng, seed * 7919UL + 17UL);
            gsl_ran_dir_nd(rng, d, u);
            st = gaussian_set(n, d, u, DD_SIGMA, rng, &tr);
            if (st == TDL_OK) st = gaussian_set(quick ? 500 : 2000, d, u, 0, rng, &te);
            free(u);
            if (st != TDL_OK) goto restore;
        }
        for (size_t g = 0; g < G; g++) {
            tdl_lstsq_info info;
            if ((st = rf_risk(tr, te, grid[g], seed * 1000003UL + g, ridge, NULL, &risk[g * S + s], &info)) != TDL_OK) goto restore;
            if (g == i_n && s == 0) cond_n = info.cond;
            if (info.rank < n) full_rank[g] = 0;
            if (opt->verbose)
                fprintf(stderr, "double-descent: seed %zu p = %zu: risk %.4g (cond %.3g)\n", s, grid[g], risk[g * S + s], info.cond);
        }
        if (!opt->data) { tdl_dataset_free(&tr); tdl_dataset_free(&te); }
        tr = te = NULL; /* with --data they are the user's sets, freed at the end */
    }
    double mean[DD_MAX_GRID], se[DD_MAX_GRID];
    for (size_t g = 0; g < G; g++) mean_se(risk + g * S, S, &mean[g], &se[g]);
    size_t gmax = 0, gmin = 0;
    for (size_t g = 1; g < G; g++) {
        if (mean[g] > mean[gmax]) gmax = g;
        if (mean[g] < mean[gmin]) gmin = g;
    }
    size_t i_thr = i_n;
    while (i_thr < i_two && !full_rank[i_thr]) i_thr++;
    const int peak_at_n = gmax == i_thr;
    char crit[160];
    snprintf(crit, sizeof crit, "= %.3g (p = %zu, the first grid p with rank-n features)%s", (double)grid[i_thr] / (double)n,
             grid[i_thr],
             peak_at_n ? "" : (gmax == 0 || gmax == G - 1) ? "; no peak: the largest risk is at an end of the grid" : "; no peak at the threshold");
    pc_add(res, "rf_peak_location", "RF: p*/n, p* = argmax of the mean test risk", (double)grid[gmax] / (double)n,
           (double)grid[i_thr] / (double)n, peak_at_n, crit);
    size_t peaked = 0;
    for (size_t s = 0; s < S; s++)
        peaked += risk[i_thr * S + s] > risk[i_half * S + s] && risk[i_thr * S + s] > risk[i_two * S + s];
    pc_addf(res, "rf_peak_seeds", "RF: seeds peaking at the threshold (vs n/2, 2n)", (double)peaked, (double)S,
            peaked == S, "all %zu (no peak: each with prob. <= 1/2)", S);
    pc_add(res, "rf_peak_ratio", "RF: mean risk at p = n / smallest mean risk", mean[i_n] / mean[gmin], NAN, -1, "");
    const double last = mean[G - 1];
    pc_addf(res, "rf_second_descent", "RF: mean risk at p = 16 n (second descent)", last, mean[i_n],
            last < mean[i_n] && last < mean[i_two], "< risk at p = n and < risk at p = 2n (%.4g)", mean[i_two]);
    for (size_t g = 0; g < G; g++) {
        char key[48], label[112];
        snprintf(key, sizeof key, "rf_risk_p%zu", grid[g]);
        snprintf(label, sizeof label, "RF: risk at p = %zu (p/n %g), SE %.2g", grid[g], grid_ratio[g], se[g]);
        pc_add(res, key, label, mean[g], NAN, -1, "");
    }

    /* ---- (2) the isotropic linear model: Hastie et al.'s closed form ---- */
    double lmean[5], lse[5];
    const double lg[5] = {0.2, 0.5, 1, 2, 5};
    /* min-norm (ridge 0) in every mode: these rows test the formula */
    for (size_t k = 0; k < 5; k++) {
        const size_t p = (size_t)llround(lg[k] * (double)lin_n);
        for (size_t s = 0; s < lin_draws; s++) {
            gsl_rng_set(rng, (opt->seed + s) * 104729UL + 31UL * k + 5UL);
            if ((st = linear_risk(lin_n, p, 0, rng, &lin[k * lin_draws + s])) != TDL_OK) goto restore;
        }
        mean_se(lin + k * lin_draws, lin_draws, &lmean[k], &lse[k]);
    }
    for (size_t k = 0; k < 5; k++) {
        if (lg[k] == 1) continue;
        const size_t p = (size_t)llround(lg[k] * (double)lin_n);
        const double lim = hastie_limit(lg[k], 1, DD_SIGMA * DD_SIGMA), ex = finite_n_mean(lin_n, p, 1, DD_SIGMA * DD_SIGMA);
        const double tol = 4 * lse[k] + fabs(ex - lim);
        char key[48], label[112];
        snprintf(key, sizeof key, "linear_gamma_%g", lg[k]);
        snprintf(label, sizeof label, "linear: min-norm risk at p/n = %g (n = %zu)", lg[k], lin_n);
        pc_addf(res, key, label, lmean[k], lim, fabs(lmean[k] - lim) <= tol,
                "|meas - pred| <= 4 SE + |E_n - pred| = %.3g (E_n = %.4g)", tol, ex);
    }
    /* the peak of the linear model: every draw, ridge as the mode says */
    size_t lpeak = 0;
    {
        double *pk = tdl_malloc(3 * lin_draws * sizeof(double), "risks");
        if (!pk) { st = TDL_ENOMEM; goto restore; }
        const double lr[3] = {0.5, 1, 2};
        for (size_t k = 0; k < 3 && st == TDL_OK; k++)
            for (size_t s = 0; s < lin_draws && st == TDL_OK; s++) {
                gsl_rng_set(rng, (opt->seed + s) * 1299709UL + 7UL * k + 3UL);
                st = linear_risk(lin_n, (size_t)llround(lr[k] * (double)lin_n), opt->broken ? DD_BROKEN_RIDGE_LINEAR : 0, rng,
                                 &pk[k * lin_draws + s]);
            }
        for (size_t s = 0; st == TDL_OK && s < lin_draws; s++)
            lpeak += pk[lin_draws + s] > pk[s] && pk[lin_draws + s] > pk[2 * lin_draws + s];
        free(pk);
        if (st != TDL_OK) goto restore;
    }
    pc_addf(res, "linear_peak_seeds", "linear: draws peaking at p = n (vs n/2 and 2n)", (double)lpeak,
            (double)lin_draws, lpeak == lin_draws, "all %zu (E risk is infinite at p = n)", lin_draws);

    /* ---- (3) a two-layer net, output layer trained by GD from 0 ---- */
    static const double gd_ratio[] = {0.25, 0.5, 1, 2, 8};
    double gd_risk[5] = {0}, mn_risk[5] = {0};
    const size_t gd_seeds = quick ? 1 : 3;
    for (size_t s = 0; s < gd_seeds; s++) {
        double *u = tdl_malloc(gd_d * sizeof(double), "a direction");
        if (!u) { st = TDL_ENOMEM; goto restore; }
        gsl_rng_set(rng, (opt->seed + s) * 15485863UL + 11UL);
        gsl_ran_dir_nd(rng, gd_d, u);
        st = gaussian_set(gd_n, gd_d, u, DD_SIGMA, rng, &tr);
        if (st == TDL_OK) st = gaussian_set(1000, gd_d, u, 0, rng, &te);
        free(u);
        if (st != TDL_OK) goto restore;
        for (size_t k = 0; k < 5; k++) {
            const size_t p = (size_t)llround(gd_ratio[k] * (double)gd_n);
            tdl_mlp *m = NULL;
            tdl_lstsq_info info;
            double r_mn;
            if ((st = rf_risk(tr, te, p, (opt->seed + s) * 7777UL + k, ridge, &m, &r_mn, &info)) != TDL_OK) goto restore;
            /* the same net, output layer from 0, trained by GD (first layer frozen by tdl_rf_fit) */
            const tdl_layer *L = &m->layers[1];
            memset(m->theta + L->w_off, 0, L->in * L->out * sizeof(double));
            if (m->theta0) memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
            /* step 1 / lambda_max, lambda_max = s_max^2 / n (+ the ridge as weight decay) */
            tdl_train_config tc = pc_gd_config(TDL_LOSS_MSE, 1 / (info.s_max * info.s_max / (double)gd_n + ridge), gd_steps, 0);
            if (ridge > 0) tc.weight_decay = ridge; /* the broken mode's ridge, as GD's L2 term */
            tdl_train_result trr = {0};
            st = tdl_train(m, tr, &tc, &trr);
            tdl_net_work *w = NULL;
            tdl_eval_stats es = {0};
            if (st == TDL_OK) st = tdl_net_work_alloc(m, 1000, &w);
            if (st == TDL_OK) st = tdl_mlp_evaluate(m, TDL_LOSS_MSE, te, w, &es);
            if (st == TDL_OK) {
                gd_risk[k] += 2 * es.loss / (double)gd_seeds;
                mn_risk[k] += r_mn / (double)gd_seeds;
            }
            tdl_eval_stats_free(&es);
            tdl_net_work_free(&w);
            tdl_mlp_free(&m);
            if (st != TDL_OK) goto restore;
        }
        tdl_dataset_free(&tr);
        tdl_dataset_free(&te);
    }
    const double sh = fmax(gd_risk[1], gd_risk[3]);
    pc_addf(res, "gd_peak", "GD net: risk(n) / max(risk(n/2), risk(2n))", gd_risk[2] / sh, NAN, gd_risk[2] > sh,
            "> 1 (n = %zu, %zu GD steps, %zu seed(s))", gd_n, gd_steps, gd_seeds);
    for (size_t k = 0; k < 5; k++) {
        char key[48], label[112];
        const size_t p = (size_t)llround(gd_ratio[k] * (double)gd_n);
        snprintf(key, sizeof key, "gd_risk_p%zu", p);
        snprintf(label, sizeof label, "GD net: risk at p = %zu (pred.: min-norm fit)", p);
        pc_add(res, key, label, gd_risk[k], mn_risk[k], -1, "");
    }

    pc_setup(res, "(1) random ReLU features relu(w.x/sqrt d), w ~ N(0, I), min-norm least squares (tdl_rf_fit, SVD), ridge %g; "
             "data %s; p = n/8 .. 16 n (%zu points), %zu seeds %lu..; (2) isotropic linear model r = 1, sigma = %g, n = %zu, "
             "%zu draws; (3) net %zu-p-1 on Gaussian data as (1), first layer random ReLU features (frozen), output layer "
             "from 0 by full-batch GD (step n/s_max^2) on the mse, %zu steps, n = %zu",
             ridge, data_text, G, S, opt->seed, DD_SIGMA, lin_n, lin_draws, gd_d, gd_steps, gd_n);
    pc_note(res, "Risk: test mean of ||f(x) - t||^2 (built-in data: noiseless targets, the excess risk). The condition number "
            "of the n x n feature matrix at p = n is %.3g (seed 0). Closed form checked: Hastie et al.'s isotropic linear "
            "model only; the ReLU random-features rows test the shape, with no predicted value (Mei-Montanari 2022, "
            "Thm 1, gives one through fixed-point equations this check does not solve).%s",
            cond_n, opt->broken ? " BROKEN: ridge 0.01 in the random-features and GD fits, 0.25 in the linear-peak fits." : "");

    if (opt->plot) {
        double gx[DD_MAX_GRID], lx[5], ly[5], hx[64], hy[64], vx[2] = {1, 1}, vy[2];
        double *px = tdl_malloc(G * S * sizeof(double), "a figure"), *py = tdl_malloc(G * S * sizeof(double), "a figure");
        if (!px || !py) { free(px); free(py); st = TDL_ENOMEM; goto restore; }
        for (size_t g = 0; g < G; g++) gx[g] = grid_ratio[g];
        for (size_t g = 0; g < G * S; g++) { px[g] = grid_ratio[g / S]; py[g] = risk[g] > 0 ? risk[g] : NAN; }
        for (size_t k = 0; k < 5; k++) { lx[k] = lg[k]; ly[k] = lmean[k]; }
        size_t nh = 0;
        for (int k = 0; k < 60; k++) {
            double gm = pow(10, -1 + 2 * (double)k / 59.0);
            if (fabs(gm - 1) < 0.03) continue;
            hx[nh] = gm;
            hy[nh++] = hastie_limit(gm, 1, DD_SIGMA * DD_SIGMA);
        }
        double lo = INFINITY, hi = -INFINITY;
        for (size_t g = 0; g < G * S; g++) if (isfinite(py[g])) { lo = fmin(lo, py[g]); hi = fmax(hi, py[g]); }
        vy[0] = lo;
        vy[1] = hi;
        plot_series sr[5] = {
            {"random features: mean test risk", gx, mean, G, PLOT_LINESPOINTS},
            {"random features: each seed", px, py, G * S, PLOT_POINTS},
            {"linear model: measured mean risk", lx, ly, 5, PLOT_POINTS},
            {"linear model: Hastie et al. limit", hx, hy, nh, PLOT_LINES},
            {"interpolation threshold p = n", vx, vy, 2, PLOT_DASHED},
        };
        char cap[320];
        snprintf(cap, sizeof cap, "random ReLU features, min-norm (ridge %g), %zu seeds; linear model n = %zu, r = 1, sigma = %g",
                 ridge, S, lin_n, DD_SIGMA);
        plot_spec ps = {"Double descent (Belkin et al. 2019; Hastie et al. 2022)", "p / n", "test risk", cap, 1, 1, 0, sr, 5};
        st = plot_render(opt->plot, &ps);
        free(px);
        free(py);
    }
restore:
    openblas_set_num_threads(blas_threads);
cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "double-descent: out of memory");
    if (tr == user_tr) tr = NULL; /* the user's sets are freed once, below */
    if (te == user_te) te = NULL;
    tdl_dataset_free(&tr);
    tdl_dataset_free(&te);
    tdl_dataset_free(&user_tr);
    tdl_dataset_free(&user_te);
    free(split_tr);
    free(split_te);
    free(used_tr);
    free(used_te);
    free(risk);
    free(lin);
    if (rng) gsl_rng_free(rng);
    return st;
}

static const char *check_params(const pc_options *opt)
{
    if (opt->seeds && opt->seeds < 2) return "--seeds: at least 2 (a standard error needs two draws)";
    if (opt->seeds > DD_MAX_SEEDS / 10) return "--seeds: at most 20 (the linear model uses 10 x that many draws, at most 200)";
    if (opt->test && !opt->data) return "--test needs --data";
    return NULL;
}

const pc_check pc_check_double_descent = {
    "double-descent",
    "The test risk of minimum-norm least squares on p random ReLU features (and of a two-layer net trained by GD to "
    "interpolation) peaks at the interpolation threshold p = n and falls again beyond it; on the isotropic linear model it "
    "follows Hastie et al.'s closed form.",
    "Belkin, Hsu, Ma, Mandal 2019 (PNAS 116), Fig. 1-2; Hastie, Montanari, Rosset, Tibshirani 2022 (Ann. Statist. 50), "
    "isotropic min-norm risk (Thm 1-2); Mei, Montanari 2022 (CPAM 75), Thm 1 (shape only, not evaluated)",
    "a ridge in the fits (0.01 for the random features and the GD net, the optimal 0.25 for the linear model): no peak at p = n",
    run,
    PC_P_DATA | PC_P_TEST | PC_P_SEEDS,
    "  --data SPEC        the random-features rows on the user's data (any targets, mse); at most 200 training\n"
    "                     examples (100 with --quick; the data grammar's n=) (default: a Gaussian linear-teacher set)\n"
    "  --test SPEC        its test set (default: the data grammar's split of --data, test=0.25)\n"
    "  --seeds N          random-feature draws per p, 2..20; the linear model uses 10 N (default 5 with --quick, else 10)\n",
    NULL,
    check_params,
};
