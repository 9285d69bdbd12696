/* pac-bayes-nonvacuous — optimizing a Gaussian posterior gives a non-vacuous
 * PAC-Bayes bound for a shallow net on binary MNIST, and a vacuous one when
 * the labels are random.
 *
 * Claim.  Train a one-hidden-layer ReLU net by SGD from w0 on binary MNIST,
 * then optimize the PAC-Bayes bound over Gaussian posteriors
 * Q = N(w, diag sigma^2) with the prior P = N(w0, lambda I) centred at the
 * initialization (lambda on a countable grid, union bound).  The resulting
 * certificate on the error of the stochastic net Q,
 *     kl^{-1}( kl^{-1}(L^_N(Q), ln(2/delta')/N), B / (m - 1) ),
 *     B = KL(Q||P) + ln(pi^2 m / (6 delta)) + 2 ln j,
 * holds with probability >= 1 - delta - delta' and is NON-VACUOUS (< 1, in
 * fact below chance 0.5) on the true labels; on random labels it must be
 * >= 0.5, because there every classifier has risk exactly 0.5.
 * Source: Dziugaite and Roy, "Computing nonvacuous generalization bounds for
 * deep (stochastic) neural networks with many more parameters than training
 * data", UAI 2017, Sec. 3-5 (eq. (8) objective, Sec. 5 certificate) and
 * Table 1 (T-600: bound 0.161; random labels: vacuous).  tdl's
 * tdl_dr_optimize (src/pacbayes.c) with the "quad" objective of Perez-Ortiz
 * et al. 2021 and the exact per-example Monte Carlo step.
 *
 * Setup.  mnist:binary=5 (label < 5 -> 0, else 1), loaded once; a seeded
 * permutation gives m training and n_test test examples (disjoint).
 * quick: m = 2000, n_test = 1000, net 784-50-1 (39,301 parameters); full:
 * m = 8000, n_test = 2000, net 784-300-1 (235,801 parameters).  Logistic
 * loss (mean), He init, biases; SGD with momentum 0.9, lr 0.05, batch 100
 * (quick 10 epochs, full 20).  Dziugaite-Roy: RMSProp lr 3e-3 (x0.1 for the
 * last quarter), batch 100, sigma_init 0.03, prior std 0.03 (lambda =
 * 9e-4 to start, then optimized on the grid), b = 100, c = 0.1,
 * delta = 0.025, delta' = 0.01; quick 12 epochs and 20 Monte Carlo passes,
 * full 60 epochs and 100 passes (a fresh sampled net per example and pass,
 * so N = m * passes draws).  Dziugaite and Roy ran 1000 epochs at
 * m = 55,000: the short runs here give a looser but equally valid bound
 * (the certificate holds for whatever posterior the optimizer stops at).
 * The random-label run is the same pipeline on the same inputs with labels
 * drawn uniformly (seeded); its SNN test error is measured on the test
 * inputs with fresh random labels.
 *
 * Measured and pass criteria.
 *   true labels:   bound < 0.5 (non-vacuous, indeed better than chance;
 *                  Dziugaite and Roy report 0.161 at m = 55,000 after
 *                  1000 epochs; with m = 2000 and 240 optimizer steps the
 *                  SNN keeps a high training error, ~0.25, and KL ~ 100);
 *                  bound >= SNN test error - sqrt(ln 100 / (2 n_test)) (the
 *                  Hoeffding 99% lower limit of the SNN's true risk: a bound
 *                  below it would be invalid);
 *   random labels: bound >= 0.5 (there every classifier's risk is exactly
 *                  1/2, so a valid bound cannot be lower, except with the
 *                  probability 0.035 the certificate allows);
 *   separation:    true-label bound < random-label bound.
 *   Informational: deterministic train/test error, SNN train error, KL,
 *   lambda, mean sigma.
 * Broken setup: the prior is centred at an independent initialization
 * (another seed) instead of w0, so KL(Q||P) starts near ||w - w0'||^2 /
 * (2 lambda), thousands of nats: the true-label bound is no longer below
 * chance and no longer below the random-label bound.
 *
 * --data refused: its claim (a non-vacuous certificate on binary MNIST) is
 * an empirical result on that data set, not a theorem for every data set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "check.h"
#include "plot.h"

typedef struct pb_params {
    size_t m, n_test, hidden, sgd_epochs, dr_epochs, passes;
} pb_params;

typedef struct pb_run {
    double train_error, test_error, bound, kl, lambda, snn_train, snn_test, mean_sigma, objective;
} pb_run;

/* Rows idx[0..n) of src as a new data set; labels from `labels` when not NULL. */
static int subset(const tdl_dataset *src, const size_t *idx, size_t n, const size_t *labels, tdl_dataset **out)
{
    int st = tdl_dataset_create(n, src->d, src->classes, 0, out);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < n; i++) {
        memcpy((*out)->X->data + i * (*out)->X->tda, src->X->data + idx[i] * src->X->tda, src->d * sizeof(double));
        (*out)->labels[i] = labels ? labels[i] : src->labels[idx[i]];
    }
    return TDL_OK;
}

/* SGD from a seeded init, then the Dziugaite-Roy optimization and certificate. */
static int pipeline(const tdl_dataset *tr, const tdl_dataset *te, const pb_params *pp, unsigned long seed,
                    int shift_prior, pb_run *out)
{
    tdl_mlp *m = NULL, *other = NULL;
    tdl_net_work *wk = NULL;
    tdl_eval_stats es = {0};
    tdl_dr_result dr = {0};
    int st;
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    mc.depth = 2;
    mc.widths[0] = tr->d;
    mc.widths[1] = pp->hidden;
    mc.widths[2] = 1;
    mc.seed = seed;
    if ((st = tdl_mlp_create(&mc, &m)) != TDL_OK) goto cleanup;
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.loss = TDL_LOSS_LOGISTIC;
    tc.opt = TDL_OPT_SGD;
    tc.momentum = 0.9;
    tc.lr = 0.05;
    tc.batch = 100;
    tc.epochs = pp->sgd_epochs;
    tc.eval_every = 0;
    tc.seed = seed;
    tdl_train_result trr;
    if ((st = tdl_train(m, tr, &tc, &trr)) != TDL_OK) goto cleanup;
    out->train_error = 1 - trr.accuracy;
    if ((st = tdl_net_work_alloc(m, 1000, &wk)) != TDL_OK) goto cleanup;
    if ((st = tdl_mlp_evaluate(m, TDL_LOSS_LOGISTIC, te, wk, &es)) != TDL_OK) goto cleanup;
    out->test_error = es.error;
    if (shift_prior) {
        /* broken: the prior mean is an independent initialization */
        mc.seed = seed + 7919;
        if ((st = tdl_mlp_create(&mc, &other)) != TDL_OK) goto cleanup;
        memcpy(m->theta0, other->theta, m->n_params * sizeof(double));
    }
    tdl_dr_config dc;
    tdl_dr_config_default(&dc);
    dc.epochs = pp->dr_epochs;
    dc.batch = 100;
    dc.lr = 3e-3;
    dc.sigma_init = 0.03;
    dc.rho_init = log(0.03);
    dc.mc_samples = pp->passes;
    dc.seed = seed + 1;
    if ((st = tdl_dr_optimize(m, TDL_LOSS_LOGISTIC, tr, &dc, &dr)) != TDL_OK) goto cleanup;
    out->bound = dr.bound;
    out->kl = dr.kl;
    out->lambda = dr.lambda;
    out->snn_train = dr.snn_train_error;
    out->mean_sigma = dr.mean_sigma;
    out->objective = dr.objective;
    st = tdl_snn_error_local(m, TDL_LOSS_LOGISTIC, te, dr.w, dr.s2, pp->passes, seed + 2, &out->snn_test);

cleanup:
    tdl_dr_result_free(&dr);
    tdl_eval_stats_free(&es);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&other);
    tdl_mlp_free(&m);
    return st;
}

static void info_rows(pc_result *res, const char *tag, const char *what, const pb_run *r)
{
    char key[48], label[112];
    struct { const char *k, *l; double v; } rows[] = {
        {"train_error", "train error of the SGD net", r->train_error},
        {"test_error", "test error of the SGD net", r->test_error},
        {"snn_train_error", "SNN train error (Monte Carlo)", r->snn_train},
        {"kl", "KL(Q || P)", r->kl},
        {"lambda", "prior variance lambda (grid)", r->lambda},
        {"mean_sigma", "mean posterior std", r->mean_sigma},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        snprintf(key, sizeof key, "%s_%s", tag, rows[i].k);
        snprintf(label, sizeof label, "%s: %s", what, rows[i].l);
        pc_add(res, key, label, rows[i].v, NAN, -1, "");
    }
}

static int run(const pc_options *opt, pc_result *res)
{
    pb_params pp = opt->quick ? (pb_params){2000, 1000, 50, 10, 12, 20} : (pb_params){8000, 2000, 300, 20, 60, 100};
    tdl_dataset *all = NULL, *tr = NULL, *te = NULL, *tr_r = NULL, *te_r = NULL;
    size_t *perm = NULL, *lab = NULL;
    pb_run tru = {0}, rnd = {0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int st;
    if (!rng) return tdl_error_set(TDL_ENOMEM, "pac-bayes-nonvacuous: out of memory for a random generator");
    gsl_rng_set(rng, opt->seed);
    const char *spec = "mnist:binary=5";
    if ((st = tdl_dataset_load(spec, &all)) != TDL_OK) goto cleanup;
    if (pp.m + pp.n_test > all->n) { st = tdl_error_set(TDL_EINVAL, "pac-bayes-nonvacuous: %s has %zu examples", spec, all->n); goto cleanup; }
    perm = tdl_malloc(all->n * sizeof(size_t), "a permutation");
    lab = tdl_malloc((pp.m > pp.n_test ? pp.m : pp.n_test) * sizeof(size_t), "random labels");
    if (!perm || !lab) { st = TDL_ENOMEM; goto cleanup; }
    for (size_t i = 0; i < all->n; i++) perm[i] = i;
    gsl_ran_shuffle(rng, perm, all->n, sizeof(size_t));
    if ((st = subset(all, perm, pp.m, NULL, &tr)) != TDL_OK) goto cleanup;
    if ((st = subset(all, perm + pp.m, pp.n_test, NULL, &te)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < pp.m; i++) lab[i] = gsl_rng_uniform_int(rng, 2);
    if ((st = subset(all, perm, pp.m, lab, &tr_r)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < pp.n_test; i++) lab[i] = gsl_rng_uniform_int(rng, 2);
    if ((st = subset(all, perm + pp.m, pp.n_test, lab, &te_r)) != TDL_OK) goto cleanup;
    tdl_dataset_free(&all);

    if ((st = pipeline(tr, te, &pp, opt->seed, opt->broken, &tru)) != TDL_OK) goto cleanup;
    if ((st = pipeline(tr_r, te_r, &pp, opt->seed, 0, &rnd)) != TDL_OK) goto cleanup;

    const double hoeff = sqrt(log(100.0) / (2 * (double)pp.n_test));
    pc_add(res, "true_bound", "true labels: PAC-Bayes bound (DR certificate)", tru.bound, 0.5, tru.bound < 0.5,
           "< 0.5 (non-vacuous, below chance)");
    pc_addf(res, "true_bound_valid", "true labels: bound vs SNN test error", tru.bound, tru.snn_test,
            tru.bound >= tru.snn_test - hoeff, ">= SNN test error - %.3g", hoeff);
    pc_add(res, "true_snn_test_error", "true labels: SNN test error", tru.snn_test, NAN, -1, "");
    info_rows(res, "true", "true", &tru);
    pc_add(res, "random_bound", "random labels: PAC-Bayes bound", rnd.bound, 0.5, rnd.bound >= 0.5,
           ">= 0.5 (every classifier's risk)");
    pc_add(res, "separation", "true-label bound minus random-label bound", tru.bound - rnd.bound, NAN,
           tru.bound < rnd.bound, "< 0");
    pc_add(res, "random_snn_test_error", "random labels: SNN test error (random labels)", rnd.snn_test, 0.5, -1, "");
    info_rows(res, "random", "random", &rnd);
    pc_setup(res, "%s loaded once, seeded permutation (seed %lu): m=%zu train, %zu test; net 784-%zu-1 relu, He init, "
             "logistic loss (mean); SGD momentum 0.9 lr 0.05 batch 100, %zu epochs; Dziugaite-Roy (quad objective): "
             "RMSProp lr 3e-3, batch 100, %zu epochs, sigma_init 0.03, prior std 0.03, b=100, c=0.1, delta=0.025, "
             "delta'=0.01, %zu MC passes (fresh net per example); random-label run: uniform labels (seeded)%s",
             spec, opt->seed, pp.m, pp.n_test, pp.hidden, pp.sgd_epochs, pp.dr_epochs, pp.passes,
             opt->broken ? "; BROKEN: prior centred at an independent init" : "");
    pc_note(res, "The certificate holds with probability >= 0.965 for any m; small m only makes it looser "
            "(Dziugaite and Roy report 0.161 for T-600 at m = 55,000).");

    if (opt->plot) {
        /* x = 1 SGD net test error, 2 SNN train error, 3 SNN test error, 4 certificate */
        double x[4] = {1, 2, 3, 4};
        double yt[4] = {tru.test_error, tru.snn_train, tru.snn_test, tru.bound};
        double yr[4] = {rnd.test_error, rnd.snn_train, rnd.snn_test, rnd.bound};
        double hx[2] = {0.8, 4.2}, hy[2] = {0.5, 0.5};
        plot_series s[3] = {
            {"true labels", x, yt, 4, PLOT_LINESPOINTS},
            {"random labels", x, yr, 4, PLOT_LINESPOINTS},
            {"chance (0.5)", hx, hy, 2, PLOT_LINES},
        };
        char cap[256];
        snprintf(cap, sizeof cap, "MNIST binary (<5), m=%zu; 784-%zu-1 relu, SGD then Dziugaite-Roy (quad); seed %lu; "
                 "x: 1 SGD test err, 2 SNN train err, 3 SNN test err, 4 PAC-Bayes bound", pp.m, pp.hidden, opt->seed);
        plot_spec ps = {"Optimized PAC-Bayes bound: true vs random labels", "quantity (see caption)",
                        "error / bound", cap, 0, 0, 0, s, 3};
        st = plot_render(opt->plot, &ps);
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "pac-bayes-nonvacuous: out of memory");
    gsl_rng_free(rng);
    free(perm);
    free(lab);
    tdl_dataset_free(&all);
    tdl_dataset_free(&tr);
    tdl_dataset_free(&te);
    tdl_dataset_free(&tr_r);
    tdl_dataset_free(&te_r);
    return st;
}

const pc_check pc_check_pac_bayes_nonvacuous = {
    "pac-bayes-nonvacuous",
    "Optimizing a Gaussian posterior around an SGD solution gives a non-vacuous PAC-Bayes bound for a shallow "
    "net on binary MNIST (below chance, above the SNN test error), and a bound >= 0.5 on random labels.",
    "Dziugaite and Roy, UAI 2017, Sec. 3-5 and Table 1",
    "the prior is centred at an independent initialization instead of w0 (the true-label bound becomes vacuous)",
    run,
    0,
    NULL,
    "its claim (a non-vacuous certificate on binary MNIST) is an empirical result on that data set, not a theorem for every data set",
    NULL,
};
