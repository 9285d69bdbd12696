/* information-plane-compression — a compression phase of I(X;T) with tanh
 * and binning, much weaker with ReLU.
 *
 * Claim.  Training a tanh net on the 12-bit task, the binned mutual
 * information I(X;T) of the last hidden layer first rises (fitting) and then
 * falls (compression) while I(T;Y) stays near H(Y) (Shwartz-Ziv and Tishby
 * 2017, Sec. 3.2 and Fig. 3).  Saxe et al. 2018 (ICLR, Sec. 3 and Fig. 1)
 * counter that the compression comes from tanh saturation under binning and
 * is absent with ReLU.
 * Source: Shwartz-Ziv and Tishby 2017 (arXiv 1703.00810) Sec. 3; Saxe et al.
 * 2018 (ICLR) Sec. 3.
 *
 * Setup.  The 12-bit task of tdl/infoplane.h (4096 patterns, reconstructed
 * labelling: icosahedron dipole score split at the median; p(y=1) = 0.497),
 * all patterns used for training and for the estimates.  Net 12-10-7-5-4-3-2
 * (their architecture), Gaussian init sigma_w = 1, no bias scale (sigma_b 0),
 * softmax cross-entropy, Adam lr 0.01, batch 256 (the paper used SGD for
 * ~10^4 epochs; Adam reaches the same fitted state in far fewer epochs).
 * Binning estimator: 30 equal bins on [-1, 1] for tanh (Shwartz-Ziv and
 * Tishby); ReLU: bins of the same width 2/30 on a grid anchored at 0 over the
 * observed range (a fixed width, as Saxe et al.'s estimator, so that growing
 * activations are not squeezed into fewer bins).  Snapshots at 0 and
 * log-spaced epochs.  quick: seed 1, 80 epochs; full: seeds 1..5, 1000 epochs.
 *
 * Measured.  Compression of the last hidden layer = max over snapshots of
 * I(X;T) minus its final value (bits), per run, averaged over seeds.
 *
 * Passes when the tanh compression is >= 2 bits (a clear compression phase:
 * I(X;T) <= 12 bits) and the ReLU compression is at most half the tanh one.
 * Honest note: Saxe et al. say "absent"; here ReLU's last layer loses
 * 0.49, 0.01, 0.79, 0 and 5.82 bits on seeds 1-5 (full mode) against 5.2-6.9
 * bits for tanh; the 5.82 comes from a ReLU run that collapsed late in
 * training (loss back to log 2, the last two layers dead, I(T;Y) = 0), which
 * the check counts and reports (row relu_collapsed) but keeps in the mean.
 * In earlier exploratory runs with other minibatch orders one ReLU seed in
 * four lost ~2.8 bits without collapsing.  So "absent" is not reproduced on
 * every seed; only the weaker, comparative form is tested, and the per-seed
 * numbers are printed.
 * Broken setup: the tanh net trains with lr 1e-5, never leaves the fitting
 * phase, and shows no compression: the tanh row fails.
 *
 * --data refused: its claim is about the 12-bit task of Shwartz-Ziv and
 * Tishby, whose every pattern the estimator enumerates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plot.h"

/* Train one net and return the last hidden layer's compression; keeps the
 * trajectory when keep is not NULL. */
static int one_run(const tdl_dataset *ds, tdl_act_kind act, double lr, size_t epochs, unsigned long seed,
                   double *compression, double *final_ity, int *collapsed, tdl_infoplane_result *keep)
{
    tdl_mlp_config mc;
    tdl_mlp_config_default(&mc);
    int st = tdl_arch_parse("12-10-7-5-4-3-2", &mc);
    if (st) return st;
    mc.act.kind = act;
    mc.init = TDL_INIT_GAUSSIAN;
    mc.sigma_w = 1.0;
    mc.sigma_b = 0.0;
    mc.seed = seed;
    tdl_mlp *m = NULL;
    if ((st = tdl_mlp_create(&mc, &m)) != TDL_OK) return st;
    tdl_infoplane_config ic;
    tdl_infoplane_config_default(&ic);
    ic.train.opt = TDL_OPT_ADAM;
    ic.train.lr = lr;
    ic.train.batch = 256;
    ic.train.epochs = epochs;
    ic.train.seed = seed;
    ic.snapshots = 16;
    tdl_infoplane_result r;
    st = tdl_infoplane_run(m, ds, &ic, &r);
    tdl_mlp_free(&m);
    if (st) return st;
    size_t H = r.n_layers, last = H - 1;
    double peak = -INFINITY;
    for (size_t s = 0; s < r.n_snapshots; s++) peak = fmax(peak, r.ixt[s * H + last]);
    *compression = peak - r.ixt[(r.n_snapshots - 1) * H + last];
    *final_ity = r.ity[(r.n_snapshots - 1) * H + last];
    /* a run whose final training loss is back at (or above) its initial
     * loss has collapsed (e.g. dead ReLUs): its drop is not a compression phase */
    *collapsed = r.loss[r.n_snapshots - 1] >= r.loss[0];
    if (keep) *keep = r;
    else tdl_infoplane_result_free(&r);
    return TDL_OK;
}

static int run(const pc_options *opt, pc_result *res)
{
    const size_t seeds = opt->seeds ? opt->seeds : (opt->quick ? 1 : 5), epochs = opt->quick ? 80 : 1000;
    const double lr_tanh = opt->broken ? 1e-5 : 0.01;
    tdl_dataset *ds = NULL;
    tdl_infoplane_result traj[2];
    memset(traj, 0, sizeof traj);
    int st = tdl_infoplane_task12(&ds);
    if (st) return st;
    double ct = 0, cr = 0, it_t = 0, it_r = 0;
    int dead_t = 0, dead_r = 0;
    for (size_t k = 0; k < seeds; k++) {
        double c1, c2, i1, i2;
        int k1, k2;
        unsigned long seed = opt->seed + k;
        if ((st = one_run(ds, TDL_ACT_TANH, lr_tanh, epochs, seed, &c1, &i1, &k1, k == 0 ? &traj[0] : NULL)) != TDL_OK) goto cleanup;
        if ((st = one_run(ds, TDL_ACT_RELU, 0.01, epochs, seed, &c2, &i2, &k2, k == 0 ? &traj[1] : NULL)) != TDL_OK) goto cleanup;
        char key[48], label[112];
        snprintf(key, sizeof key, "tanh_compression_seed%lu", seed);
        snprintf(label, sizeof label, "tanh, seed %lu: compression of I(X;T_5) (bits)", seed);
        pc_add(res, key, label, c1, NAN, -1, "");
        snprintf(key, sizeof key, "relu_compression_seed%lu", seed);
        snprintf(label, sizeof label, "ReLU, seed %lu: compression of I(X;T_5) (bits)", seed);
        pc_add(res, key, label, c2, NAN, -1, "");
        dead_t += k1;
        dead_r += k2;
        ct += c1 / (double)seeds;
        cr += c2 / (double)seeds;
        it_t += i1 / (double)seeds;
        it_r += i2 / (double)seeds;
    }
    pc_addf(res, "tanh_compression", "tanh: mean compression of the last layer (bits)", ct, NAN, ct >= 2.0, ">= 2 bits");
    pc_addf(res, "relu_compression", "ReLU: mean compression of the last layer (bits)", cr, NAN, cr <= 0.5 * ct,
            "<= half the tanh value (%.3g)", 0.5 * ct);
    pc_add(res, "tanh_collapsed", "tanh runs that collapsed (final loss >= initial)", dead_t, NAN, -1, "");
    pc_add(res, "relu_collapsed", "ReLU runs that collapsed (counted in the mean)", dead_r, NAN, -1, "");
    pc_add(res, "tanh_final_ity", "tanh: final I(T_5;Y) (bits; H(Y) = 0.99998)", it_t, NAN, -1, "");
    pc_add(res, "relu_final_ity", "ReLU: final I(T_5;Y) (bits)", it_r, NAN, -1, "");
    pc_setup(res, "12-bit task (4096 patterns, reconstructed labels, all used); net 12-10-7-5-4-3-2, Gaussian init "
             "sigma_w = 1; softmax CE, Adam lr %.3g (tanh) / 0.01 (ReLU), batch 256, %zu epochs; binning: tanh 30 bins on "
             "[-1, 1], ReLU fixed width 2/30; seeds %lu..%lu%s", lr_tanh, epochs, opt->seed, opt->seed + seeds - 1,
             opt->broken ? "; BROKEN: tanh lr 1e-5" : "");
    pc_note(res, "Saxe et al. 2018 report no compression with ReLU; here the ReLU drop is small on most seeds but not on "
                 "all (full mode: 0.49, 0.01, 0.79, 0, 5.82 bits; the 5.82 is a run whose ReLU net collapsed late, loss "
                 "back to log 2, dead last layers), so the comparative form is tested, collapsed runs included.");

    if (opt->plot) {
        plot_series ser[10];
        char titles[10][48];
        size_t ns = 0;
        double *xs[10] = {0}, *ys[10] = {0};
        for (size_t a = 0; a < 2 && st == TDL_OK; a++) {
            const tdl_infoplane_result *r = &traj[a];
            /* the last three hidden layers of each net: six series, distinct colours */
            for (size_t l = r->n_layers > 3 ? r->n_layers - 3 : 0; l < r->n_layers && ns < 10; l++) {
                xs[ns] = tdl_malloc(r->n_snapshots * sizeof(double), "a figure");
                ys[ns] = tdl_malloc(r->n_snapshots * sizeof(double), "a figure");
                if (!xs[ns] || !ys[ns]) { st = TDL_ENOMEM; ns++; break; }
                for (size_t s = 0; s < r->n_snapshots; s++) {
                    xs[ns][s] = r->ixt[s * r->n_layers + l];
                    ys[ns][s] = r->ity[s * r->n_layers + l];
                }
                snprintf(titles[ns], sizeof titles[ns], "%s layer %zu", a ? "ReLU" : "tanh", l + 1);
                ser[ns] = (plot_series){titles[ns], xs[ns], ys[ns], r->n_snapshots, PLOT_LINESPOINTS};
                ns++;
            }
        }
        if (st == TDL_OK) {
            char cap[256];
            snprintf(cap, sizeof cap, "12-bit task; 12-10-7-5-4-3-2, Adam, %zu epochs; binning estimator; layers 3-5 (widths 5, 4, 3); seed %lu", epochs, opt->seed);
            plot_spec ps = {"Information plane (binning), tanh and ReLU", "I(X;T) (bits)", "I(T;Y) (bits)", cap, 0, 0, 0, ser, ns};
            st = plot_render(opt->plot, &ps);
        }
        for (size_t i = 0; i < 10; i++) { free(xs[i]); free(ys[i]); }
    }
cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "information-plane-compression: out of memory");
    tdl_infoplane_result_free(&traj[0]);
    tdl_infoplane_result_free(&traj[1]);
    tdl_dataset_free(&ds);
    return st;
}

const pc_check pc_check_information_plane_compression = {
    "information-plane-compression",
    "With tanh and binning, the last hidden layer's I(X;T) rises then falls (a compression phase); with ReLU the "
    "compression is much weaker (Saxe et al.: absent).",
    "Shwartz-Ziv and Tishby 2017 (arXiv 1703.00810) Sec. 3, Fig. 3; Saxe et al. 2018 (ICLR) Sec. 3, Fig. 1",
    "the tanh net trains with lr 1e-5 and never leaves the fitting phase",
    run,
    PC_P_SEEDS,
    "  --seeds N          training runs (default 1 with --quick, else 5)\n",
    "its claim is about the 12-bit task of Shwartz-Ziv and Tishby, whose every pattern the estimator enumerates",
    NULL,
};
