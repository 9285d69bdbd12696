/* uniform-convergence-fails — norm-based bounds can grow with the sample
 * size while the test error falls.
 *
 * Claim.  On the hypersphere task of Nagarajan and Kolter (two concentric
 * spheres of radius 1 and 1.1, the label says which), a two-layer ReLU net
 * trained by SGD to a FIXED training loss has a test error that decreases
 * as m grows, while its distance from the initialization ||W - W0||_F grows
 * with m, and so do the norm-based generalization bounds built on it (they
 * move the wrong way: the bound gets worse as the net generalizes better).
 * Source: Nagarajan and Kolter, "Uniform convergence may be unable to explain
 * generalization in deep learning", NeurIPS 2019, Sec. 3 and Fig. 1
 * (d = 1000, h = 100,000, m = 4096..65536, SGD to 99% of the training points
 * at margin 10): test error falls, ||W - W0||_F grows like m^0.4 and the
 * bounds of Bartlett et al. 2017 and Neyshabur et al. 2018 grow with m.
 *
 * Setup (scaled down).  x = r g / ||g||, g ~ N(0, I_d), r = 1 (label 0) or
 * 1.1 (label 1), labels balanced at random; generated here with a seeded GSL
 * generator.  quick: d = 20, net 20-128-1, m = 64..1024; full: d = 50, net
 * 50-512-1, m = 128..8192 (doubling).  ReLU with biases, He init (the same
 * seed for every m), logistic loss (mean); SGD (momentum 0.9, lr 0.05) with
 * batch 32 until the training loss is <= 0.02 (the same for every m:
 * "trained to a fixed loss"), with an epoch cap (quick 300, full 500).  Test
 * error on 4000 fresh points.  The m range is chosen where the scaled-down
 * task is still being learned (test error from ~0.48 down to a few percent):
 * with d = 20 and m beyond ~1000 the test error reaches 0 and the bound
 * turns down again (seen: d = 20, 512 units, m = 64..8192 gave tau 0.21 for
 * the bound, rising to m = 512 and falling after), which is outside the
 * regime of Nagarajan and Kolter's Fig. 1 (d = 1000).
 * Bounds: tdl_bounds_compute (delta 0.05, 10th-percentile margin):
 * `bartlett2017_spectral` (its Rademacher term, which depends on the net
 * through the spectral norms and ||W - W0||_{2,1}), `dist_init_frobenius`,
 * and for the record `neyshabur2018_pacbayes_spectral` and
 * `neyshabur2019_overparam`.
 *
 * Pass criteria (trend tests over the m grid, Kendall tau-b):
 *   - the test error decreases: tau(m, test error) < 0 and the error at the
 *     largest m is below the error at the smallest by more than
 *     3 sqrt(2 * 0.25 / n_test) (three standard errors of the difference of
 *     two independent test-error estimates near 1/2: a drop that test-set
 *     noise cannot fake);
 *   - the bound increases: tau(m, bartlett2017_spectral Rademacher term) > 0
 *     and likewise tau(m, ||W - W0||_F) > 0;
 *   - every run reached the target loss (otherwise "trained to a fixed loss"
 *     does not hold and the comparison across m is meaningless).
 * The other two bounds are informational (their trend is reported).  Seen in
 * full mode: the Bartlett et al. term rises 2.5x from m = 128 to 4096 and
 * dips 5% at 8192 (tau 0.81), ||W - W0||_F grows like m^0.29 (N&K: ~m^0.4),
 * the test error falls from 0.48 to 0.02; Neyshabur et al. 2019's bound
 * FALLS with m here (tau -1) and Neyshabur et al. 2018's is mixed (tau
 * 0.43), so the claim is reproduced for the spectral bound and the distance
 * from init, not for every norm-based bound.
 * Broken setup: the training labels are shuffled (random with respect to the
 * radius), so there is nothing to learn and the test error does not fall.
 *
 * --data refused: its claim is about Nagarajan and Kolter's hypersphere
 * task, which it builds itself (fresh test draws at every m).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "check.h"
#include "plot.h"

#define UC_MAX_M 12

typedef struct uc_params {
    size_t d, hidden, n_m, m0, n_test, max_epochs;
    double target, lr;
} uc_params;

static int spheres(size_t n, size_t d, gsl_rng *rng, int shuffle_labels, tdl_dataset **out)
{
    int st = tdl_dataset_create(n, d, 2, 0, out);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < n; i++) {
        size_t y = gsl_rng_uniform(rng) < 0.5 ? 0 : 1;
        double *x = (*out)->X->data + i * (*out)->X->tda, s = 0;
        for (size_t j = 0; j < d; j++) { x[j] = gsl_ran_gaussian_ziggurat(rng, 1.0); s += x[j] * x[j]; }
        double r = (y ? 1.1 : 1.0) / sqrt(s);
        for (size_t j = 0; j < d; j++) x[j] *= r;
        (*out)->labels[i] = shuffle_labels ? (gsl_rng_uniform(rng) < 0.5 ? 0 : 1) : y;
    }
    return TDL_OK;
}

typedef struct uc_point {
    double test_error, train_loss, bartlett, dist, nbs18, nlb19, margin;
    size_t epochs;
    int reached;
} uc_point;

static int one_m(const uc_params *pp, size_t m, const tdl_dataset *test, unsigned long seed, int broken, uc_point *o)
{
    tdl_dataset *tr = NULL;
    tdl_mlp *net = NULL;
    tdl_net_work *wk = NULL;
    tdl_eval_stats es = {0};
    tdl_measure *ms = NULL;
    size_t nm = 0;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return tdl_error_set(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(rng, seed * 7777UL + m);
    int st;
    if ((st = spheres(m, pp->d, rng, broken, &tr)) != TDL_OK) goto cleanup;
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    mc.depth = 2;
    mc.widths[0] = pp->d;
    mc.widths[1] = pp->hidden;
    mc.widths[2] = 1;
    mc.seed = seed;
    if ((st = tdl_mlp_create(&mc, &net)) != TDL_OK) goto cleanup;
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.loss = TDL_LOSS_LOGISTIC;
    tc.opt = TDL_OPT_SGD;
    tc.momentum = 0.9;
    tc.lr = pp->lr;
    tc.batch = 32;
    tc.epochs = pp->max_epochs;
    tc.eval_every = 1;
    tc.target_loss = pp->target;
    tc.seed = seed;
    tdl_train_result trr;
    if ((st = tdl_train(net, tr, &tc, &trr)) != TDL_OK) goto cleanup;
    o->epochs = trr.epochs;
    o->train_loss = trr.loss;
    o->reached = trr.reached_target;
    if ((st = tdl_net_work_alloc(net, 1000, &wk)) != TDL_OK) goto cleanup;
    if ((st = tdl_mlp_evaluate(net, TDL_LOSS_LOGISTIC, test, wk, &es)) != TDL_OK) goto cleanup;
    o->test_error = es.error;
    tdl_bounds_config bc;
    tdl_bounds_config_default(&bc);
    bc.flatness = 0;
    bc.ntk = 0;
    double train_err;
    if ((st = tdl_bounds_compute(net, TDL_LOSS_LOGISTIC, tr, &bc, &ms, &nm, &train_err)) != TDL_OK) goto cleanup;
    o->bartlett = o->dist = o->nbs18 = o->nlb19 = o->margin = NAN;
    for (size_t k = 0; k < nm; k++) {
        if (!ms[k].available) continue;
        if (strcmp(ms[k].name, "bartlett2017_spectral") == 0) o->bartlett = ms[k].value;
        if (strcmp(ms[k].name, "dist_init_frobenius") == 0) o->dist = ms[k].value;
        if (strcmp(ms[k].name, "neyshabur2018_pacbayes_spectral") == 0) o->nbs18 = ms[k].bound;
        if (strcmp(ms[k].name, "neyshabur2019_overparam") == 0) o->nlb19 = ms[k].bound;
        if (strcmp(ms[k].name, "margin") == 0) o->margin = ms[k].value;
    }

cleanup:
    free(ms);
    tdl_eval_stats_free(&es);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&net);
    tdl_dataset_free(&tr);
    gsl_rng_free(rng);
    return st;
}

static int run(const pc_options *opt, pc_result *res)
{
    uc_params pp = opt->quick ? (uc_params){20, 128, 5, 64, 4000, 300, 0.02, 0.05}
                              : (uc_params){50, 512, 7, 128, 4000, 500, 0.02, 0.05};
    tdl_dataset *test = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return tdl_error_set(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(rng, opt->seed + 99991);
    int st = spheres(pp.n_test, pp.d, rng, 0, &test);
    gsl_rng_free(rng);
    if (st != TDL_OK) return st;
    uc_point pt[UC_MAX_M];
    double ms[UC_MAX_M], te[UC_MAX_M], bt[UC_MAX_M], di[UC_MAX_M], n18[UC_MAX_M], n19[UC_MAX_M];
    int all_reached = 1;
    for (size_t k = 0; k < pp.n_m; k++) {
        size_t m = pp.m0 << k;
        ms[k] = (double)m;
        if ((st = one_m(&pp, m, test, opt->seed, opt->broken, &pt[k])) != TDL_OK) goto cleanup;
        te[k] = pt[k].test_error;
        bt[k] = pt[k].bartlett;
        di[k] = pt[k].dist;
        n18[k] = pt[k].nbs18;
        n19[k] = pt[k].nlb19;
        all_reached &= pt[k].reached;
        char key[48], label[112];
        snprintf(key, sizeof key, "test_error_m%zu", m);
        snprintf(label, sizeof label, "m = %zu: test error (%zu epochs, loss %.3g)", m, pt[k].epochs, pt[k].train_loss);
        pc_add(res, key, label, te[k], NAN, -1, "");
        snprintf(key, sizeof key, "bartlett_m%zu", m);
        snprintf(label, sizeof label, "m = %zu: bartlett2017_spectral Rad term", m);
        pc_add(res, key, label, bt[k], NAN, -1, "");
        snprintf(key, sizeof key, "dist_init_m%zu", m);
        snprintf(label, sizeof label, "m = %zu: ||W - W0||_F (margin %.3g)", m, pt[k].margin);
        pc_add(res, key, label, di[k], NAN, -1, "");
        snprintf(key, sizeof key, "nbs18_m%zu", m);
        snprintf(label, sizeof label, "m = %zu: neyshabur2018 bound / nlb19 %.4g", m, n19[k]);
        pc_add(res, key, label, n18[k], NAN, -1, "");
    }
    double tau_te = tdl_kendall_tau(ms, te, pp.n_m), tau_bt = tdl_kendall_tau(ms, bt, pp.n_m);
    double tau_di = tdl_kendall_tau(ms, di, pp.n_m), tau_18 = tdl_kendall_tau(ms, n18, pp.n_m);
    double tau_19 = tdl_kendall_tau(ms, n19, pp.n_m);
    pc_add(res, "reached_target", "every run reached the target loss", all_reached, 1, all_reached, "yes (1)");
    pc_add(res, "tau_test_error", "Kendall tau(m, test error)", tau_te, -1, tau_te < 0, "< 0 (test error falls)");
    /* 3 standard errors of a difference of two binomial proportions near 1/2 */
    const double se3 = 3 * sqrt(2 * 0.25 / (double)pp.n_test);
    pc_addf(res, "test_error_drop", "test error drop, smallest to largest m", te[0] - te[pp.n_m - 1], se3,
            te[0] - te[pp.n_m - 1] > se3, "> 3 sqrt(2 * 0.25 / n_test) = %.3g", se3);
    int bt_all = 1;   /* the bound is left out when the margin percentile is <= 0: no trend then */
    for (size_t k = 0; k < pp.n_m; k++) bt_all &= isfinite(bt[k]);
    pc_add(res, "tau_bartlett", "Kendall tau(m, bartlett2017_spectral)", tau_bt, 1, bt_all && tau_bt > 0,
           "> 0 (bound grows; available at every m)");
    pc_add(res, "tau_dist_init", "Kendall tau(m, ||W - W0||_F)", tau_di, 1, tau_di > 0, "> 0 (distance grows)");
    pc_add(res, "tau_nbs18", "Kendall tau(m, neyshabur2018 bound)", tau_18, NAN, -1, "");
    pc_add(res, "tau_nlb19", "Kendall tau(m, neyshabur2019 bound)", tau_19, NAN, -1, "");
    pc_add(res, "slope_dist_init", "log-log slope of ||W - W0||_F vs m", pc_loglog_slope(ms, di, pp.n_m), 0.4, -1, "");
    pc_setup(res, "two spheres r = 1 / 1.1 in d = %zu (seeded GSL)%s; net %zu-%zu-1 relu, He init seed %lu, biases; "
             "logistic (mean), SGD momentum 0.9 lr %g batch 32 until train loss <= %g (cap %zu epochs); m = %zu..%zu "
             "(doubling); test %zu fresh points; tdl_bounds_compute delta 0.05, 10th-percentile margin",
             pp.d, opt->broken ? ", training labels SHUFFLED (broken)" : "", pp.d, pp.hidden, opt->seed, pp.lr,
             pp.target, pp.max_epochs, pp.m0, pp.m0 << (pp.n_m - 1), pp.n_test);

    if (opt->plot) {
        /* normalize each curve by its value at the smallest m to share an axis */
        double a[UC_MAX_M], b[UC_MAX_M], c[UC_MAX_M];
        for (size_t k = 0; k < pp.n_m; k++) { a[k] = te[k] / te[0]; b[k] = bt[k] / bt[0]; c[k] = di[k] / di[0]; }
        plot_series s[3] = {
            {"test error", ms, a, pp.n_m, PLOT_LINESPOINTS},
            {"bartlett2017 spectral bound (Rad term)", ms, b, pp.n_m, PLOT_LINESPOINTS},
            {"||W - W0||_F", ms, c, pp.n_m, PLOT_LINESPOINTS},
        };
        char cap[256];
        snprintf(cap, sizeof cap, "spheres r=1/1.1, d=%zu; net %zu-%zu-1 relu, SGD to train loss %g; seed %lu; relative to m=%zu",
                 pp.d, pp.d, pp.hidden, pp.target, opt->seed, pp.m0);
        plot_spec ps = {"Hypersphere task: test error falls, norm-based bound grows", "m (training examples)",
                        "value / value at the smallest m", cap, 1, 1, 0, s, 3};
        st = plot_render(opt->plot, &ps);
    }

cleanup:
    tdl_dataset_free(&test);
    return st;
}

const pc_check pc_check_uniform_convergence_fails = {
    "uniform-convergence-fails",
    "On two concentric hyperspheres, a ReLU net trained by SGD to a fixed loss has a test error that falls with m "
    "while its distance from init and the spectral norm-based bound grow with m.",
    "Nagarajan and Kolter, NeurIPS 2019, Sec. 3, Fig. 1",
    "the training labels are shuffled: nothing to learn, so the test error does not fall",
    run,
    0,
    NULL,
    "its claim is about Nagarajan and Kolter's hypersphere task, which it builds itself (fresh test draws at every m)",
    NULL,
};
