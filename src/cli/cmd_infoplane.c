/* cmd_infoplane.c — `tdl infoplane`: I(X;T) and I(T;Y) of every hidden layer
 * during training, binning or KDE estimator (tdl/infoplane.h).
 *
 * parse_options (ip_opts) -> run (tdl_infoplane_run) -> emit_plot, then
 * emit_json or emit_text on stdout. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modelopts.h"
#include "plot.h"
#include "tdl/infoplane.h"

typedef struct ip_opts {
    cli_model_opts mo;
    tdl_infoplane_config ic;
    const char *data, *plot;
    int as_json;
    size_t threads;
} ip_opts;

enum {
    I_DATA = 3100, I_EPOCHS, I_LR, I_OPT, I_BATCH, I_SNAP, I_EST, I_BINS, I_NOISE, I_JSON, I_PLOT, I_THREADS, I_QUIET, I_TSEED
};

/* -1: go on; otherwise the exit code (usage printed). */
static int parse_options(int argc, char **argv, ip_opts *o)
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
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    tdl_infoplane_config_default(&o->ic);
    o->ic.train.opt = TDL_OPT_ADAM;
    o->ic.train.lr = 0.01;
    o->ic.train.epochs = 1000;
    o->data = "task12";
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "infoplane")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(&o->mo, "infoplane", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case I_DATA: o->data = optarg; break;
        case I_EPOCHS: bad = cli_parse_size(optarg, 1, 10000000, &o->ic.train.epochs); break;
        case I_LR: bad = cli_parse_double(optarg, &o->ic.train.lr) || !(o->ic.train.lr > 0) || !isfinite(o->ic.train.lr); break;
        case I_OPT:
            if (tdl_optimizer_parse(optarg, &o->ic.train.opt) != TDL_OK) return cli_usage("infoplane", "--optimizer %s: %s", optarg, tdl_errmsg());
            break;
        case I_BATCH: bad = cli_parse_size(optarg, 0, (size_t)1 << 40, &o->ic.train.batch); break;
        case I_SNAP: bad = cli_parse_size(optarg, 2, 10000, &o->ic.snapshots); break;
        case I_EST:
        {
            int v;
            if (tdl_name_lookup(tdl_mi_estimator_names, "estimator", optarg, &v) != TDL_OK)
                return cli_usage("infoplane", "--estimator %s: expected binning or kde", optarg);
            o->ic.estimator = (tdl_mi_estimator)v;
            break;
        }
        case I_BINS: bad = cli_parse_size(optarg, 1, 100000, &o->ic.bins); break;
        case I_NOISE: bad = cli_parse_double(optarg, &o->ic.noise_var) || !(o->ic.noise_var > 0) || !isfinite(o->ic.noise_var); break;
        case I_JSON: o->as_json = 1; break;
        case I_PLOT: o->plot = optarg; break;
        case I_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case I_QUIET: break;
        case I_TSEED: bad = cli_parse_ulong(optarg, &o->ic.train.seed); break;
        default: return cli_bad_option("infoplane", argv, optopt);
        }
        if (bad) return cli_usage("infoplane", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("infoplane", "unexpected argument '%s'", argv[optind]);
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("infoplane", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    {
        const cli_file ins[] = {{"--model", o->mo.model, CLI_FILE_PATH, NULL}, {"--data", o->data, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("infoplane", ins, 2, outs, 1) != 0) return EXIT_WORK_FAILED;
    }
    /* the defaults of Shwartz-Ziv and Tishby's experiment */
    if (!o->mo.model && !o->mo.arch) o->mo.arch = "12-10-7-5-4-3-2";
    if (!o->mo.act) o->mo.act = "tanh";
    if (!o->mo.init && !o->mo.model) o->mo.init = "gaussian";
    return -1;
}

/* The data, the net and the trajectory; the CLI's checks first.  Returns an exit code. */
static int run(ip_opts *o, tdl_dataset **dsp, tdl_mlp **mp, tdl_infoplane_result *r)
{
    int rc = EXIT_WORK_FAILED, st;
    const char *data = o->data;
    st = !strcmp(data, "task12") ? tdl_infoplane_task12(dsp) : cli_load_data(data, dsp);
    if (st != TDL_OK) return cli_fail(st);
    tdl_dataset *ds = *dsp;
    if (!ds->classes) return cli_failf("%s: the information plane needs class labels (a regression set was given)", data);
    if ((rc = cli_model_build(&o->mo, "infoplane", mp)) != 0) return rc;
    tdl_mlp *m = *mp;
    if (m->layers[0].in != ds->d) return cli_failf("%s: %zu features but the model takes %zu", data, ds->d, m->layers[0].in);
    if (m->depth < 2) /* a fresh net: the --arch value is the mistake (usage); a file: the work fails */
        return o->mo.model ? cli_failf("%s: the net has no hidden layer; the information plane needs one", o->mo.model)
                           : cli_usage("infoplane", "--arch %s: the information plane needs at least one hidden layer", o->mo.arch);
    if ((rc = cli_model_loss(&o->mo, "infoplane", m, ds, &o->ic.train.loss)) != 0) return rc;
    if ((st = tdl_loss_check(o->ic.train.loss, m, ds)) != TDL_OK) return cli_fail(st);
    /* the KDE bound is O(n^2 hidden) per snapshot and layer */
    if (o->ic.estimator == TDL_MI_KDE && ds->n > 20000)
        return cli_failf("%s: %zu examples is too many for the O(n^2) KDE estimator (at most 20000)", data, ds->n);
    if ((st = tdl_infoplane_run(m, ds, &o->ic, r)) != TDL_OK) return cli_fail(st);
    return 0;
}

static int emit_plot(const ip_opts *o, const tdl_dataset *ds, const tdl_infoplane_result *r, const char *arch,
                     const char *actname, const char *est)
{
    size_t H = r->n_layers, S = r->n_snapshots;
    plot_series *ser = calloc(H, sizeof *ser);
    double *xs = malloc(H * S * sizeof(double)), *ys = malloc(H * S * sizeof(double));
    char (*titles)[32] = calloc(H, sizeof *titles);
    if (!ser || !xs || !ys || !titles) { free(ser); free(xs); free(ys); free(titles); return cli_failf("out of memory"); }
    for (size_t l = 0; l < H; l++) {
        for (size_t s = 0; s < S; s++) { xs[l * S + s] = r->ixt[s * H + l]; ys[l * S + s] = r->ity[s * H + l]; }
        snprintf(titles[l], sizeof titles[l], "layer %zu", l + 1);
        ser[l] = (plot_series){titles[l], xs + l * S, ys + l * S, S, PLOT_LINESPOINTS};
    }
    char cap[1024], title[128];
    snprintf(cap, sizeof cap, "%s; %s %s, %s lr %g, %zu epochs; %s; seed %lu", ds->spec, arch, actname,
             tdl_optimizer_name(o->ic.train.opt), o->ic.train.lr, o->ic.train.epochs, est, o->mo.seed);
    snprintf(title, sizeof title, "Information plane (%s)", actname);
    plot_spec ps = {title, "I(X;T) (bits)", "I(T;Y) (bits)", cap, 0, 0, 0, ser, H};
    int st = plot_render(o->plot, &ps);
    free(ser); free(xs); free(ys); free(titles);
    return st != TDL_OK ? cli_fail(st) : 0;
}

static int emit_json(const ip_opts *o, const tdl_dataset *ds, const tdl_mlp *m, const tdl_infoplane_result *r,
                     const char *arch, const char *actname, const char *est)
{
    const tdl_infoplane_config *ic = &o->ic;
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    json_object_begin(&w, NULL);
    json_string(&w, "data", ds->spec);
    json_size(&w, "n", ds->n);
    json_string(&w, "arch", arch);
    json_string(&w, "activation", actname);
    json_string(&w, "estimator", tdl_name_of(tdl_mi_estimator_names, (int)ic->estimator));
    json_string(&w, "estimator_details", est);
    if (ic->estimator == TDL_MI_KDE) json_number(&w, "noise_var", ic->noise_var);
    else json_size(&w, "bins", ic->bins);
    json_string(&w, "units", "bits; X uniform over the rows of the data set");
    json_string(&w, "optimizer", tdl_optimizer_name(ic->train.opt));
    json_number(&w, "lr", ic->train.lr);
    json_size(&w, "batch", ic->train.batch);
    json_string(&w, "loss", tdl_loss_name(ic->train.loss));
    json_size_array(&w, "epochs", r->epochs, r->n_snapshots);
    json_number_array(&w, "train_loss", r->loss, r->n_snapshots, 1);
    json_array_begin(&w, "layers");
    for (size_t l = 0; l < r->n_layers; l++) {
        json_object_begin(&w, NULL);
        json_size(&w, "layer", l + 1);
        json_size(&w, "width", m->layers[l].out);
        json_number_array(&w, "i_xt", r->ixt + l, r->n_snapshots, r->n_layers);
        json_number_array(&w, "i_ty", r->ity + l, r->n_snapshots, r->n_layers);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

static void emit_text(const ip_opts *o, const tdl_dataset *ds, const tdl_infoplane_result *r, const char *arch,
                      const char *actname, const char *est)
{
    const tdl_infoplane_config *ic = &o->ic;
    printf("data       %s (%zu examples); net %s %s; %s lr %g, batch %zu, %zu epochs\n", ds->spec, ds->n, arch, actname,
           tdl_optimizer_name(ic->train.opt), ic->train.lr, ic->train.batch, ic->train.epochs);
    printf("estimator  %s (bits)\n", est);
    printf("%7s %10s", "epoch", "loss");
    for (size_t l = 0; l < r->n_layers; l++) printf("   T%zu I(X;T) I(T;Y)", l + 1);
    printf("\n");
    for (size_t s = 0; s < r->n_snapshots; s++) {
        printf("%7zu %10.4g", r->epochs[s], r->loss[s]);
        for (size_t l = 0; l < r->n_layers; l++) printf("   %9.4f %6.4f", r->ixt[s * r->n_layers + l], r->ity[s * r->n_layers + l]);
        printf("\n");
    }
}

int cmd_infoplane(int argc, char **argv)
{
    ip_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    cli_set_threads(o.threads);
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_infoplane_result r;
    memset(&r, 0, sizeof r);
    if ((rc = run(&o, &ds, &m, &r)) != 0) goto cleanup;
    char arch[256], actname[64], est[160];
    tdl_arch_format(m, arch, sizeof arch);
    tdl_act_format(&m->act, actname, sizeof actname);
    if (o.ic.estimator == TDL_MI_KDE) snprintf(est, sizeof est, "kde upper bound (Kolchinsky-Tracey pairwise distances), noise variance %g", o.ic.noise_var);
    else snprintf(est, sizeof est, "binning, %zu bins (tanh/erf on [-1,1], sigmoid [0,1], else width 2/%zu from 0)", o.ic.bins, o.ic.bins);
    if (o.plot && (rc = emit_plot(&o, ds, &r, arch, actname, est)) != 0) goto cleanup;
    if (o.as_json) rc = emit_json(&o, ds, m, &r, arch, actname, est);
    else emit_text(&o, ds, &r, arch, actname, est);
cleanup:
    tdl_infoplane_result_free(&r);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return rc;
}
