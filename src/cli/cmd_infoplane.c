/* cmd_infoplane.c — `tdl infoplane`: I(X;T) and I(T;Y) of every hidden layer
 * during training, binning or KDE estimator (tdl/infoplane.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modelopts.h"
#include "plot.h"
#include "tdl/infoplane.h"

enum {
    I_DATA = 3100, I_EPOCHS, I_LR, I_OPT, I_BATCH, I_SNAP, I_EST, I_BINS, I_NOISE, I_JSON, I_PLOT, I_THREADS, I_QUIET, I_TSEED
};

int cmd_infoplane(int argc, char **argv)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, I_DATA}, {"epochs", required_argument, NULL, I_EPOCHS},
        {"lr", required_argument, NULL, I_LR}, {"optimizer", required_argument, NULL, I_OPT},
        {"batch", required_argument, NULL, I_BATCH}, {"snapshots", required_argument, NULL, I_SNAP},
        {"estimator", required_argument, NULL, I_EST}, {"bins", required_argument, NULL, I_BINS},
        {"noise-var", required_argument, NULL, I_NOISE}, {"json", no_argument, NULL, I_JSON},
        {"plot", required_argument, NULL, I_PLOT}, {"threads", required_argument, NULL, I_THREADS},
        {"quiet", no_argument, NULL, I_QUIET}, {"train-seed", required_argument, NULL, I_TSEED},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    tdl_infoplane_config ic;
    tdl_infoplane_config_default(&ic);
    ic.train.opt = TDL_OPT_ADAM;
    ic.train.lr = 0.01;
    ic.train.epochs = 1000;
    const char *data = "task12", *plot = NULL;
    int as_json = 0;
    size_t threads = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "infoplane")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(&mo, "infoplane", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case I_DATA: data = optarg; break;
        case I_EPOCHS: bad = cli_parse_size(optarg, 1, 10000000, &ic.train.epochs); break;
        case I_LR: bad = cli_parse_double(optarg, &ic.train.lr) || !(ic.train.lr > 0) || !isfinite(ic.train.lr); break;
        case I_OPT:
            if (tdl_optimizer_parse(optarg, &ic.train.opt) != TDL_OK) return cli_usage("infoplane", "--optimizer %s: %s", optarg, tdl_errmsg());
            break;
        case I_BATCH: bad = cli_parse_size(optarg, 0, (size_t)1 << 40, &ic.train.batch); break;
        case I_SNAP: bad = cli_parse_size(optarg, 2, 10000, &ic.snapshots); break;
        case I_EST:
        {
            int v;
            if (tdl_name_lookup(tdl_mi_estimator_names, "estimator", optarg, &v) != TDL_OK)
                return cli_usage("infoplane", "--estimator %s: expected binning or kde", optarg);
            ic.estimator = (tdl_mi_estimator)v;
            break;
        }
        case I_BINS: bad = cli_parse_size(optarg, 1, 100000, &ic.bins); break;
        case I_NOISE: bad = cli_parse_double(optarg, &ic.noise_var) || !(ic.noise_var > 0) || !isfinite(ic.noise_var); break;
        case I_JSON: as_json = 1; break;
        case I_PLOT: plot = optarg; break;
        case I_THREADS: bad = cli_parse_size(optarg, 1, 1024, &threads); break;
        case I_QUIET: break;
        case I_TSEED: bad = cli_parse_ulong(optarg, &ic.train.seed); break;
        default: return cli_bad_option("infoplane", argv, optopt);
        }
        if (bad) return cli_usage("infoplane", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("infoplane", "unexpected argument '%s'", argv[optind]);
    if (plot) {
        const char *ext = strrchr(plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("infoplane", "--plot %s: the figure must end in .png, .svg or .pdf", plot);
    }
    {
        const cli_file ins[] = {{"--model", mo.model, CLI_FILE_PATH, NULL}, {"--data", data, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"--plot", plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("infoplane", ins, 2, outs, 1) != 0) return EXIT_WORK_FAILED;
    }
    /* the defaults of Shwartz-Ziv and Tishby's experiment */
    if (!mo.model && !mo.arch) mo.arch = "12-10-7-5-4-3-2";
    if (!mo.act) mo.act = "tanh";
    if (!mo.init && !mo.model) mo.init = "gaussian";
    cli_set_threads(threads);

    int rc = EXIT_WORK_FAILED, st;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_infoplane_result r;
    memset(&r, 0, sizeof r);
    if (!strcmp(data, "task12")) st = tdl_infoplane_task12(&ds);
    else st = tdl_dataset_load(data, &ds);
    if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (!ds->classes) { rc = cli_failf("%s: the information plane needs class labels (a regression set was given)", data); goto cleanup; }
    if ((rc = cli_model_build(&mo, "infoplane", &m)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (m->layers[0].in != ds->d) { rc = cli_failf("%s: %zu features but the model takes %zu", data, ds->d, m->layers[0].in); goto cleanup; }
    if (m->depth < 2) { /* a fresh net: the --arch value is the mistake (usage); a file: the work fails */
        rc = mo.model ? cli_failf("%s: the net has no hidden layer; the information plane needs one", mo.model)
                      : cli_usage("infoplane", "--arch %s: the information plane needs at least one hidden layer", mo.arch);
        goto cleanup;
    }
    if ((rc = cli_model_loss(&mo, "infoplane", m, ds, &ic.train.loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if ((st = tdl_loss_check(ic.train.loss, m, ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    /* the KDE bound is O(n^2 hidden) per snapshot and layer */
    if (ic.estimator == TDL_MI_KDE && ds->n > 20000) { rc = cli_failf("%s: %zu examples is too many for the O(n^2) KDE estimator (at most 20000)", data, ds->n); goto cleanup; }
    if ((st = tdl_infoplane_run(m, ds, &ic, &r)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    char arch[256], actname[64];
    tdl_arch_format(m, arch, sizeof arch);
    tdl_act_format(&m->act, actname, sizeof actname);
    char est[160];
    if (ic.estimator == TDL_MI_KDE) snprintf(est, sizeof est, "kde upper bound (Kolchinsky-Tracey pairwise distances), noise variance %g", ic.noise_var);
    else snprintf(est, sizeof est, "binning, %zu bins (tanh/erf on [-1,1], sigmoid [0,1], else width 2/%zu from 0)", ic.bins, ic.bins);
    if (plot) {
        size_t H = r.n_layers, S = r.n_snapshots;
        plot_series *ser = calloc(H, sizeof *ser);
        double *xs = malloc(H * S * sizeof(double)), *ys = malloc(H * S * sizeof(double));
        char (*titles)[32] = calloc(H, sizeof *titles);
        if (!ser || !xs || !ys || !titles) { free(ser); free(xs); free(ys); free(titles); rc = cli_failf("out of memory"); goto cleanup; }
        for (size_t l = 0; l < H; l++) {
            for (size_t s = 0; s < S; s++) { xs[l * S + s] = r.ixt[s * H + l]; ys[l * S + s] = r.ity[s * H + l]; }
            snprintf(titles[l], sizeof titles[l], "layer %zu", l + 1);
            ser[l] = (plot_series){titles[l], xs + l * S, ys + l * S, S, PLOT_LINESPOINTS};
        }
        char cap[1024], title[128];
        snprintf(cap, sizeof cap, "%s; %s %s, %s lr %g, %zu epochs; %s; seed %lu", ds->spec, arch, actname,
                 tdl_optimizer_name(ic.train.opt), ic.train.lr, ic.train.epochs, est, mo.seed);
        snprintf(title, sizeof title, "Information plane (%s)", actname);
        plot_spec ps = {title, "I(X;T) (bits)", "I(T;Y) (bits)", cap, 0, 0, 0, ser, H};
        st = plot_render(plot, &ps);
        free(ser); free(xs); free(ys); free(titles);
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    if (as_json) {
        json_writer w;
        if (json_open(&w) != 0) { rc = cli_failf("out of memory"); goto cleanup; }
        json_object_begin(&w, NULL);
        json_string(&w, "data", ds->spec);
        json_size(&w, "n", ds->n);
        json_string(&w, "arch", arch);
        json_string(&w, "activation", actname);
        json_string(&w, "estimator", ic.estimator == TDL_MI_KDE ? "kde" : "binning");
        json_string(&w, "estimator_details", est);
        if (ic.estimator == TDL_MI_KDE) json_number(&w, "noise_var", ic.noise_var);
        else json_size(&w, "bins", ic.bins);
        json_string(&w, "units", "bits; X uniform over the rows of the data set");
        json_string(&w, "optimizer", tdl_optimizer_name(ic.train.opt));
        json_number(&w, "lr", ic.train.lr);
        json_size(&w, "batch", ic.train.batch);
        json_string(&w, "loss", tdl_loss_name(ic.train.loss));
        json_size_array(&w, "epochs", r.epochs, r.n_snapshots);
        json_number_array(&w, "train_loss", r.loss, r.n_snapshots, 1);
        json_array_begin(&w, "layers");
        for (size_t l = 0; l < r.n_layers; l++) {
            json_object_begin(&w, NULL);
            json_size(&w, "layer", l + 1);
            json_size(&w, "width", m->layers[l].out);
            json_number_array(&w, "i_xt", r.ixt + l, r.n_snapshots, r.n_layers);
            json_number_array(&w, "i_ty", r.ity + l, r.n_snapshots, r.n_layers);
            json_object_end(&w);
        }
        json_array_end(&w);
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        printf("data       %s (%zu examples); net %s %s; %s lr %g, batch %zu, %zu epochs\n", ds->spec, ds->n, arch, actname,
               tdl_optimizer_name(ic.train.opt), ic.train.lr, ic.train.batch, ic.train.epochs);
        printf("estimator  %s (bits)\n", est);
        printf("%7s %10s", "epoch", "loss");
        for (size_t l = 0; l < r.n_layers; l++) printf("   T%zu I(X;T) I(T;Y)", l + 1);
        printf("\n");
        for (size_t s = 0; s < r.n_snapshots; s++) {
            printf("%7zu %10.4g", r.epochs[s], r.loss[s]);
            for (size_t l = 0; l < r.n_layers; l++) printf("   %9.4f %6.4f", r.ixt[s * r.n_layers + l], r.ity[s * r.n_layers + l]);
            printf("\n");
        }
    }
    rc = 0;
cleanup:
    tdl_infoplane_result_free(&r);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return rc;
}
