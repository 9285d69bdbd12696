/* width-no-overfit — test error does not grow as a net widens past
 * interpolation.
 *
 * Claim.  For two-layer ReLU nets trained to (near) zero training error, the
 * test error does not increase as the number of hidden units grows beyond
 * the width at which the net first fits the training set, although the
 * parameter count, and with it every capacity measure that counts
 * parameters, grows without bound; so the inductive bias of the training
 * (not the size of the class) controls generalization.
 * Source: Neyshabur, Tomioka and Srebro, "In search of the real inductive
 * bias: on the role of implicit regularization in deep learning", ICLR 2015
 * workshop (arXiv 1412.6614), Sec. 2 and Fig. 1 (MNIST / CIFAR-10, widths
 * 4 .. 4096).  Measures correlated with the gap as in Jiang et al. 2020.
 *
 * Setup.  digits (64 features, 10 classes): training set the first m examples
 * of a seeded shuffle of split=train (full m = 300, quick m = 200), test set
 * split=test (359 examples).  Net 64-W-10, relu, He init, biases; cross-
 * entropy (mean), full-batch heavy-ball momentum 0.9, lr 0.05, a fixed
 * number of epochs (full 250, quick 150), the same seeds for every width.
 * Widths: full 4, 8, ..., 4096 (11 widths) x 2 repeats; quick 4, 8, 16, 64,
 * 256 x 1 repeat.  Everything goes through tdl_sweep_run_all (the engine of
 * `tdl sweep`), which also computes every measure of the bounds table.
 *
 * Measured.  The interpolation width W_int: the smallest width at which
 * every repeat has zero training error.  Mean test error at W_int and at
 * the largest width.  Kendall tau (and the granulated tau) of every measure
 * with the generalization gap (informational rows, as Jiang et al. 2020).
 *
 * Passes when W_int exists and is smaller than the largest width (there is
 * something past interpolation to look at) and the mean test error at the
 * largest width is <= the mean test error at W_int.  It fails if no width
 * interpolates, or if the wider nets overfit (test error above its value at
 * W_int).  The comparison is on a fixed test set with fixed seeds, so it is
 * deterministic; the binomial standard error of a test error (about
 * sqrt(p(1-p)/359) ~ 0.012 at p = 0.05) is printed beside it to show how
 * much of a difference is noise.
 *
 * Broken setup: the largest width is 2 (widths 1, 2): no width reaches zero
 * training error on 10 classes, W_int is undefined and the check fails.
 *
 * --data refused: its claim is an empirical observation on image
 * classification (digits), not a theorem that holds for every data set.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plot.h"

/* OpenBLAS extensions (not in gsl_cblas.h), as src/landscape.c. */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

static int progress(const tdl_sweep_progress *p, void *user)
{
    const pc_options *opt = user;
    if (opt->verbose)
        fprintf(stderr, "width-no-overfit: width %g repeat %zu: train error %.4f test error %.4f (%.2f s)\n", p->value, p->repeat,
                p->train_error, p->test_error, p->seconds);
    return 0;
}

static int run(const pc_options *opt, pc_result *res)
{
    static const double full_widths[] = {4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    static const double quick_widths[] = {4, 8, 16, 64, 256};
    static const double broken_widths[] = {1, 2};
    const double *widths = opt->broken ? broken_widths : opt->quick ? quick_widths : full_widths;
    const size_t nw = opt->broken ? 2 : opt->quick ? 5 : 11;
    const size_t repeats = opt->seeds ? opt->seeds : (opt->quick ? 1 : 2), m = opt->quick ? 200 : 300, epochs = opt->quick ? 150 : 250;
    char train_spec[128];
    const char *test_spec = "digits:split=test";
    snprintf(train_spec, sizeof train_spec, "digits:split=train,n=%zu", m);
    tdl_dataset *train = NULL, *test = NULL;
    tdl_sweep_result r = {0};
    int st;
    if ((st = tdl_dataset_load(train_spec, &train)) != TDL_OK) goto cleanup;
    if ((st = tdl_dataset_load(test_spec, &test)) != TDL_OK) goto cleanup;

    tdl_sweep_config cfg;
    pc_width_sweep_config(&cfg, widths, nw, repeats, train->d, train->classes, opt->seed);
    cfg.train.loss = TDL_LOSS_CE;
    cfg.train.epochs = epochs;
    cfg.train.eval_every = 0;
    cfg.callback = progress;
    cfg.user = (void *)opt;
    /* One BLAS thread: the GEMMs are at most 4096 x 300 x 64, and OpenBLAS's
     * spin-waiting threads cost far more wall time than they save on a loaded
     * 2-core machine (measured: quick 16 s -> 1.6 s, full 168 s -> 97 s, with
     * identical numbers). */
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    st = tdl_sweep_run_all(&cfg, train, test, &r);
    openblas_set_num_threads(blas_threads);
    if (st != TDL_OK) goto cleanup;

    double tr[16], te[16];
    for (size_t v = 0; v < nw; v++) {
        tr[v] = tdl_sweep_summary(&r, v, offsetof(tdl_sweep_run, train_error)).mean;
        te[v] = tdl_sweep_summary(&r, v, offsetof(tdl_sweep_run, test_error)).mean;
    }
    size_t k_int = nw;
    for (size_t v = 0; v < nw && k_int == nw; v++)
        if (tdl_sweep_summary(&r, v, offsetof(tdl_sweep_run, train_error)).max == 0) k_int = v;
    const int defined = k_int < nw - 1;
    pc_addf(res, "interpolation_width", "interpolation width W_int (0 train error)",
            k_int < nw ? widths[k_int] : NAN, NAN, defined,
            "exists and < the largest width %g", widths[nw - 1]);
    const double te_int = k_int < nw ? te[k_int] : NAN, te_max = te[nw - 1];
    pc_addf(res, "test_error_largest", "test error at the largest W (vs at W_int)", te_max, te_int,
            defined && te_max <= te_int, "<= test error at the interpolation width");
    pc_add(res, "test_error_se", "binomial std. error of the test error at W_int",
           isnan(te_int) ? NAN : sqrt(te_int * (1 - te_int) / (double)test->n), NAN, -1, "");
    for (size_t v = 0; v < nw; v++) {
        char key[48], label[112];
        snprintf(key, sizeof key, "test_error_w%g", widths[v]);
        snprintf(label, sizeof label, "test error, W=%g (train %.3f, %zu params)", widths[v], tr[v], r.runs[v * repeats].params);
        pc_add(res, key, label, te[v], NAN, -1, "");
    }
    /* which measures track the gap (informational) */
    size_t best = r.n_measures;
    for (size_t j = 0; j < r.n_measures; j++) {
        const tdl_sweep_correlation *c = &r.correlations[j];
        if (isnan(c->tau)) continue;
        if (best == r.n_measures || c->tau > r.correlations[best].tau) best = j;
        char key[48], label[112];
        snprintf(key, sizeof key, "tau_%.40s", r.measure_names[j]);
        snprintf(label, sizeof label, "tau(%s, gap) [gran. %.2f]", r.measure_names[j], c->granulated_tau);
        pc_add(res, key, label, c->tau, NAN, -1, "");
    }
    if (best < r.n_measures) {
        double tau_params = NAN;
        for (size_t j = 0; j < r.n_measures; j++)
            if (strcmp(r.measure_names[j], "params") == 0) tau_params = r.correlations[j].tau;
        pc_note(res, "Kendall tau of each measure with the gap over all runs (granulated: within repeats). Most positively "
                "correlated: %s (tau %.3f); the parameter count has tau %.3f (it grows with W whatever the gap does).",
                r.measure_names[best], r.correlations[best].tau, tau_params);
    }
    pc_setup(res, "data %s (m = %zu) / %s (%zu); net 64-W-10 relu, He init, biases, seeds %lu..%lu; CE (mean), full-batch "
             "momentum 0.9, lr 0.05, %zu epochs; widths %g..%g (%zu) x %zu repeats; tdl_sweep_run_all with the bounds table "
             "(flatness off); %.1f s of training and measuring",
             train_spec, train->n, test_spec, test->n, opt->seed, opt->seed + repeats - 1, epochs, widths[0], widths[nw - 1], nw,
             repeats, r.seconds);

    if (opt->plot) {
        double *px = tdl_malloc(r.n_runs * sizeof(double), "a figure"), *py = tdl_malloc(r.n_runs * sizeof(double), "a figure");
        if (!px || !py) { free(px); free(py); st = TDL_ENOMEM; goto cleanup; }
        for (size_t i = 0; i < r.n_runs; i++) { px[i] = r.runs[i].value; py[i] = r.runs[i].test_error; }
        double lx[2] = {k_int < nw ? widths[k_int] : widths[0], k_int < nw ? widths[k_int] : widths[0]}, ly[2] = {0, 1};
        plot_series s[4] = {
            {"train error (mean)", widths, tr, nw, PLOT_LINESPOINTS},
            {"test error (mean)", widths, te, nw, PLOT_LINESPOINTS},
            {"test error, each run", px, py, r.n_runs, PLOT_POINTS},
            {"interpolation width", lx, ly, 2, PLOT_LINES},
        };
        char cap[320];
        snprintf(cap, sizeof cap, "%s / %s; 64-W-10 relu, CE, full-batch momentum lr 0.05, %zu epochs; seeds %lu+r, %zu repeats",
                 train_spec, test_spec, epochs, opt->seed, repeats);
        plot_spec ps = {"Width and overfitting (Neyshabur, Tomioka, Srebro 2015)", "hidden units W", "0-1 error", cap, 1, 0, 0,
                        s, k_int < nw ? 4 : 3};
        st = plot_render(opt->plot, &ps);
        free(px);
        free(py);
    }
cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "width-no-overfit: out of memory");
    tdl_sweep_result_free(&r);
    tdl_dataset_free(&train);
    tdl_dataset_free(&test);
    return st;
}

const pc_check pc_check_width_no_overfit = {
    "width-no-overfit",
    "Test error does not grow as a two-layer net widens past the width at which it interpolates the training set, "
    "although its parameter count grows without bound.",
    "Neyshabur, Tomioka, Srebro, In search of the real inductive bias, ICLR 2015 workshop (arXiv 1412.6614), Sec. 2, Fig. 1",
    "widths 1 and 2 only: no width interpolates 10 classes, so the interpolation width is undefined",
    run,
    PC_P_SEEDS,
    "  --seeds N          repeats per width (default 1 with --quick, else 2)\n",
    "its claim is an empirical observation on image classification (digits), not a theorem that holds for every data set",
    NULL,
};
