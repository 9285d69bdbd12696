/* random-labels — a wide enough net fits random labels, so a valid bound on
 * its test error cannot be small.
 *
 * Claim.  A two-layer ReLU net with many more parameters than training
 * examples reaches zero training error on labels drawn uniformly at random
 * (independently of the inputs), while its error on the TRUE test labels stays
 * at chance: the labels carried no information about the test labels.  The
 * same net on the true labels also fits them and generalizes.  Any valid
 * upper bound on the risk must therefore be >= 1/2 on random labels (the
 * risk of every classifier there): a bound that depends only on the
 * architecture cannot tell the two runs apart and must be near-vacuous for
 * both; a data- or weight-dependent bound must at least grow on the
 * random-label run.
 * Source: Zhang, Bengio, Hardt, Recht, Vinyals, "Understanding deep learning
 * requires rethinking generalization", ICLR 2017, Sec. 2 (Fig. 1a, Table 1)
 * and Sec. 2.1 (implications for Rademacher complexity and VC bounds).
 *
 * Setup.  Binary task (digit < 5 -> 0, else 1).  quick: the shipped 8x8
 * digits, m = 300 training examples (seeded subset of the train split), the
 * 359 test-split examples, net 64-512-2 (34,306 parameters); full: MNIST,
 * m = 1000 of the train split, the 2000 test-split examples, net
 * 784-512-2 (402,946 parameters).  Random labels: every training label
 * replaced by a uniform draw from a GSL generator seeded with the check's
 * seed (done here, so that the data grammar's split seed stays fixed and
 * train and test stay disjoint); the test inputs are scored both against
 * their TRUE labels (Zhang et al.'s measurement) and against fresh uniform
 * labels (the random-label distribution itself).  He initialization,
 * biases, cross-entropy (mean), Adam (lr 3e-3, batch 50) until the
 * training accuracy is 1 or the epoch budget
 * (quick 300, full 400) runs out.  Bounds: tdl_bounds_compute, the whole
 * table of bounds.h with delta = 0.05, margin at the 10th percentile,
 * sigma'-flatness (PAC-Bayes rows) with the bisection of Jiang et al. 2020
 * (quick: 12 steps x 5 nets, 20 Monte Carlo nets; full: 15 x 5, 50).
 * Dziugaite-Roy's optimized bound is the subject of pac-bayes-nonvacuous.
 *
 * Measured and pass criteria.
 *   Random-label run.  Under the random-label distribution (y uniform,
 *   independent of x) EVERY classifier, deterministic or stochastic, has
 *   risk exactly 1/2; that is the risk the bounds computed on the
 *   random-label training set are about.  So:
 *   - training error = 0 exactly (the net fits the random labels);
 *   - test error against fresh random labels within 0.5 +- 3.29
 *     sqrt(0.25 / n_test) (exact 99.9% binomial interval: given the net the
 *     n_test errors are independent Bernoulli(1/2));
 *   - every bound of the table >= 0.5 (a valid bound holds with probability
 *     >= 1 - delta, so a bound below the exact risk is a wrong bound or a
 *     delta-probability event);
 *   - informational: the test error against the TRUE test labels with the
 *     chance level c = q1 p0 + q0 p1 (q the net's predicted-class
 *     frequencies, p the label frequencies).  It is not a criterion: the
 *     net's true risk there varies with the random training labels by more
 *     than the binomial interval (seen: 0.475 at n_test = 2000, 2.2
 *     binomial standard errors below 1/2).
 *   True-label run (the contrast):
 *   - training error 0 and test error below c - 3.29 sqrt(c (1 - c) / n_test);
 *   - every bound >= test error - sqrt(ln(100) / (2 n_test)) (the Hoeffding
 *     99% lower confidence limit of the true risk); the PAC-Bayes rows bound
 *     the STOCHASTIC net N(theta, sigma'^2 I) and are compared with its test
 *     error (Monte Carlo with the same number of nets).
 *   Informational: the count of vacuous (>= 1) bounds, epochs used.
 * Broken setup: 2 epochs instead of the budget, so the random labels are not
 * fitted and the training-error rows fail.
 *
 * --data refused: its claim is an empirical observation on digits / MNIST
 * (a wide net fits random labels), not a theorem that holds for every data
 * set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "check.h"
#include "plot.h"

#define RL_MAX_BOUNDS 24

typedef struct rl_run {
    double train_error, test_error, chance, snn_test_error, sigma, rand_test_error;
    size_t epochs;
    size_t n_bounds;
    char names[RL_MAX_BOUNDS][48];
    double bounds[RL_MAX_BOUNDS];
    int stochastic[RL_MAX_BOUNDS];   /* PAC-Bayes row: bounds the Gibbs classifier */
} rl_run;

/* Train a fresh net on tr, evaluate on te (true labels) and on te_rand
 * (fresh random labels; NULL for the true-label run), compute the bounds. */
static int run_one(const tdl_dataset *tr, const tdl_dataset *te, const tdl_dataset *te_rand, const tdl_mlp_config *mc,
                   size_t epochs, const tdl_bounds_config *bc, unsigned long seed, rl_run *out)
{
    tdl_mlp *m = NULL;
    tdl_net_work *wk = NULL;
    tdl_eval_stats es = {0};
    tdl_measure *ms = NULL;
    double *s2 = NULL;
    size_t nm = 0;
    int st;
    memset(out, 0, sizeof *out);
    out->rand_test_error = NAN;
    if ((st = tdl_mlp_create(mc, &m)) != TDL_OK) goto cleanup;

    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.loss = TDL_LOSS_CE;
    tc.opt = TDL_OPT_ADAM;
    tc.lr = 3e-3;
    tc.batch = 50;
    tc.epochs = epochs;
    tc.eval_every = 5;
    tc.target_accuracy = 1.0;
    tc.seed = seed;
    tdl_train_result trr;
    if ((st = tdl_train(m, tr, &tc, &trr)) != TDL_OK) goto cleanup;
    out->epochs = trr.epochs;

    /* test error and the predicted-class frequencies (binary: the prediction
     * is the label when the margin is positive, the other class otherwise) */
    if ((st = tdl_net_work_alloc(m, te->n < 1024 ? te->n : 1024, &wk)) != TDL_OK) goto cleanup;
    if ((st = tdl_mlp_evaluate(m, TDL_LOSS_CE, te, wk, &es)) != TDL_OK) goto cleanup;
    out->test_error = es.error;
    double p1 = 0, q1 = 0, nt = (double)te->n;
    for (size_t i = 0; i < te->n; i++) {
        size_t y = te->labels[i], pred = es.margins[i] > 0 ? y : 1 - y;
        p1 += (double)y;
        q1 += (double)pred;
    }
    p1 /= nt;
    q1 /= nt;
    out->chance = q1 * (1 - p1) + (1 - q1) * p1;
    if (te_rand) {
        tdl_eval_stats er = {0};
        st = tdl_mlp_evaluate(m, TDL_LOSS_CE, te_rand, wk, &er);
        out->rand_test_error = er.error;
        tdl_eval_stats_free(&er);
        if (st != TDL_OK) goto cleanup;
    }

    if ((st = tdl_bounds_compute(m, TDL_LOSS_CE, tr, bc, &ms, &nm, &out->train_error)) != TDL_OK) goto cleanup;
    out->sigma = NAN;
    for (size_t k = 0; k < nm; k++)
        if (strcmp(ms[k].name, "pacbayes_flatness") == 0 && ms[k].available) out->sigma = 1 / sqrt(ms[k].value);
    out->snn_test_error = NAN;
    if (isfinite(out->sigma)) {
        s2 = tdl_malloc(m->n_params * sizeof(double), "posterior variances");
        if (!s2) { st = TDL_ENOMEM; goto cleanup; }
        for (size_t i = 0; i < m->n_params; i++) s2[i] = out->sigma * out->sigma;
        if ((st = tdl_snn_error(m, TDL_LOSS_CE, te, m->theta, s2, bc->mc_samples, seed + 101,
                                &out->snn_test_error, NULL)) != TDL_OK) goto cleanup;
    }
    for (size_t k = 0; k < nm && out->n_bounds < RL_MAX_BOUNDS; k++) {
        if (isnan(ms[k].bound)) continue;
        size_t j = out->n_bounds++;
        snprintf(out->names[j], sizeof out->names[j], "%s", ms[k].name);
        out->bounds[j] = ms[k].bound;
        out->stochastic[j] = strncmp(ms[k].name, "pacbayes_", 9) == 0;
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "random-labels: out of memory");
    free(s2);
    free(ms);
    tdl_eval_stats_free(&es);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&m);
    return st;
}

static void add_rows(pc_result *res, const char *tag, const char *what, const rl_run *r, double half, double hoeff,
                     int random)
{
    char key[48], label[112];
    snprintf(key, sizeof key, "%s_train_error", tag);
    snprintf(label, sizeof label, "%s: training error (epochs %zu)", what, r->epochs);
    pc_add(res, key, label, r->train_error, 0.0, r->train_error == 0, "= 0 (fitted)");
    snprintf(key, sizeof key, "%s_test_error", tag);
    snprintf(label, sizeof label, "%s: test error (true labels)", what);
    if (random)   /* Zhang et al.'s measurement; chance c = q1 p0 + q0 p1 */
        pc_add(res, key, label, r->test_error, r->chance, -1, "");
    else
        pc_addf(res, key, label, r->test_error, r->chance, r->test_error < r->chance - half,
                "< chance - %.3g", half);
    if (random) {
        snprintf(key, sizeof key, "%s_test_error_random", tag);
        snprintf(label, sizeof label, "%s: test error (fresh random labels)", what);
        pc_addf(res, key, label, r->rand_test_error, 0.5, fabs(r->rand_test_error - 0.5) <= half,
                "0.5 +- %.3g (99.9%% binomial)", half);
    }
    snprintf(key, sizeof key, "%s_snn_test_error", tag);
    snprintf(label, sizeof label, "%s: SNN test error, sigma' = %.3g", what, r->sigma);
    pc_add(res, key, label, r->snn_test_error, NAN, -1, "");
    size_t vac = 0;
    for (size_t k = 0; k < r->n_bounds; k++) {
        snprintf(key, sizeof key, "%s_%s", tag, r->names[k]);
        snprintf(label, sizeof label, "%s: bound %s", what, r->names[k]);
        if (random) {
            /* under the random-label distribution every classifier (stochastic or not) has risk exactly 1/2 */
            pc_add(res, key, label, r->bounds[k], 0.5, r->bounds[k] >= 0.5, ">= 0.5 (the exact risk)");
        } else {
            double ref = r->stochastic[k] ? r->snn_test_error : r->test_error;
            pc_addf(res, key, label, r->bounds[k], ref, r->bounds[k] >= ref - hoeff,
                    ">= %s - %.3g", r->stochastic[k] ? "SNN test error" : "test error", hoeff);
        }
        vac += r->bounds[k] >= 1;
    }
    snprintf(key, sizeof key, "%s_vacuous", tag);
    snprintf(label, sizeof label, "%s: bounds >= 1 (of %zu)", what, r->n_bounds);
    pc_add(res, key, label, (double)vac, NAN, -1, "");
}

static const char *short_name(const char *name)
{
    static const char *const map[][2] = {
        {"linear_rademacher", "lin"}, {"vc", "vc"}, {"neyshabur2015_frobenius", "nts15"},
        {"golowich2018_frobenius", "grs18F"}, {"golowich2018_l1inf", "grs18inf"}, {"bartlett2017_spectral", "bft17"},
        {"neyshabur2018_pacbayes_spectral", "nbs18"}, {"neyshabur2019_overparam", "nlb19"},
        {"pacbayes_mcallester", "mcall"}, {"pacbayes_kl", "kl"}, {"pacbayes_catoni", "catoni"},
        {"pacbayes_quad", "quad"}, {"pacbayes_lambda", "lambda"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i][0], name) == 0) return map[i][1];
    return "?";
}

static int draw(const pc_options *opt, const rl_run *rnd, const rl_run *tru, const char *data, const char *arch)
{
    size_t K = rnd->n_bounds < tru->n_bounds ? rnd->n_bounds : tru->n_bounds;
    if (K == 0) return TDL_OK;
    double x[RL_MAX_BOUNDS], yr[RL_MAX_BOUNDS], yt[RL_MAX_BOUNDS], er[RL_MAX_BOUNDS], et[RL_MAX_BOUNDS];
    char cap[512];
    size_t len = (size_t)snprintf(cap, sizeof cap, "%s, net %s, Adam until train acc 1; bounds delta 0.05; seed %lu; x: ",
                                  data, arch, opt->seed);
    for (size_t k = 0; k < K; k++) {
        x[k] = (double)(k + 1);
        yr[k] = rnd->bounds[k];
        yt[k] = tru->bounds[k];
        er[k] = 0.5;   /* the exact risk of any classifier under random labels */
        et[k] = tru->stochastic[k] ? tru->snn_test_error : tru->test_error;
        if (len < sizeof cap)
            len += (size_t)snprintf(cap + len, sizeof cap - len, "%s%s", k ? " " : "", short_name(rnd->names[k]));
    }
    plot_series s[4] = {
        {"random labels: bound", x, yr, K, PLOT_POINTS},
        {"true labels: bound", x, yt, K, PLOT_POINTS},
        {"random labels: exact risk 0.5", x, er, K, PLOT_LINES},
        {"true labels: test error (SNN for PAC-Bayes)", x, et, K, PLOT_LINESPOINTS},
    };
    plot_spec ps = {"Random labels: every bound stays above the test error", "measure", "bound on the test error",
                    cap, 0, 1, 0, s, 4};
    return plot_render(opt->plot, &ps);
}

/* Replace every label by a uniform draw (independent of the inputs). */
static void randomize_labels(tdl_dataset *ds, gsl_rng *rng)
{
    for (size_t i = 0; i < ds->n; i++) ds->labels[i] = (size_t)gsl_rng_uniform_int(rng, ds->classes);
}

static int run(const pc_options *opt, pc_result *res)
{
    const char *base = opt->quick ? "digits:binary=5,split=train,n=300" : "mnist:binary=5,split=train,n=1000";
    const char *test = opt->quick ? "digits:binary=5,split=test" : "mnist:binary=5,split=test";
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    mc.depth = 2;
    mc.widths[0] = opt->quick ? 64 : 784;
    mc.widths[1] = 512;
    mc.widths[2] = 2;
    mc.seed = opt->seed;
    size_t epochs = opt->broken ? 2 : (opt->quick ? 300 : 400);
    tdl_bounds_config bc;
    tdl_bounds_config_default(&bc);
    bc.seed = opt->seed;
    if (opt->quick) { bc.flat_steps = 12; bc.flat_samples = 5; bc.mc_samples = 20; }
    else { bc.flat_samples = 5; bc.mc_samples = 50; }
    tdl_dataset *tr = NULL, *te = NULL, *tr_r = NULL, *te_r = NULL;
    rl_run *runs = tdl_calloc(2, sizeof *runs, "two runs");
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int st = TDL_OK;
    if (!runs || !rng) { st = tdl_error_set(TDL_ENOMEM, "random-labels: out of memory"); goto cleanup; }
    gsl_rng_set(rng, opt->seed);
    rl_run *rnd = &runs[0], *tru = &runs[1];
    if ((st = tdl_dataset_load(base, &tr)) != TDL_OK || (st = tdl_dataset_load(test, &te)) != TDL_OK ||
        (st = tdl_dataset_load(base, &tr_r)) != TDL_OK || (st = tdl_dataset_load(test, &te_r)) != TDL_OK)
        goto cleanup;
    randomize_labels(tr_r, rng);
    randomize_labels(te_r, rng);
    if ((st = run_one(tr_r, te, te_r, &mc, epochs, &bc, opt->seed, rnd)) != TDL_OK) goto cleanup;
    if ((st = run_one(tr, te, NULL, &mc, epochs, &bc, opt->seed, tru)) != TDL_OK) goto cleanup;

    const double nt = (double)te->n;
    double half_r = 3.29 * sqrt(0.25 / nt);
    double half_t = 3.29 * sqrt(tru->chance * (1 - tru->chance) / nt);
    double hoeff = sqrt(log(100.0) / (2 * nt));
    add_rows(res, "rand", "random", rnd, half_r, hoeff, 1);
    add_rows(res, "true", "true", tru, half_t, hoeff, 0);

    char arch[64];
    snprintf(arch, sizeof arch, "%zu-%zu-2", mc.widths[0], mc.widths[1]);
    pc_setup(res, "train %s with uniform random labels (GSL mt19937 seed %lu) and with its true labels; test %s (n=%.0f; "
             "true labels, and fresh random labels for the random run); net %s relu, He init seed %lu, biases; CE (mean), "
             "Adam lr 3e-3 batch 50 until train accuracy 1 (budget %zu epochs); tdl_bounds_compute delta 0.05, "
             "10th-percentile margin, sigma' search %zu x %zu, %zu MC nets", base, opt->seed, test, nt, arch, opt->seed,
             epochs, bc.flat_steps, bc.flat_samples, bc.mc_samples);
    pc_note(res, "Random run: every classifier has risk exactly 0.5 under the random-label distribution, so each bound "
            "must be >= 0.5. True run: PAC-Bayes rows bound the stochastic net N(theta, sigma'^2 I) and are compared "
            "with its test error, the others with the net's; lower limit test error - sqrt(ln 100 / (2 n_test)).");
    if (opt->plot) st = draw(opt, rnd, tru, opt->quick ? "digits binary (<5), m=300" : "MNIST binary (<5), m=1000", arch);

cleanup:
    gsl_rng_free(rng);
    free(runs);
    tdl_dataset_free(&tr);
    tdl_dataset_free(&te);
    tdl_dataset_free(&tr_r);
    tdl_dataset_free(&te_r);
    return st;
}

const pc_check pc_check_random_labels = {
    "random-labels",
    "A wide two-layer ReLU net fits uniformly random labels (train error 0) with test error at chance, "
    "so every valid generalization bound must stay above that chance-level error.",
    "Zhang, Bengio, Hardt, Recht, Vinyals, ICLR 2017, Sec. 2 (Fig. 1a) and Sec. 2.1",
    "train for 2 epochs only: the random labels are not fitted (training error > 0)",
    run,
    0,
    NULL,
    "its claim is an empirical observation on digits / MNIST (a wide net fits random labels), not a theorem that holds for every data set",
    NULL,
};
