/* cmd_train.c — `tdl train`: train a net, write the model file, a log, snapshots. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "trainopts.h"
#include "plot.h"
#include "tdl/ntk.h"
#include "tdl_config.h"

/* Everything the per-evaluation callback keeps. */
typedef struct train_log {
    int progress;               /* print progress on stderr */
    size_t total_epochs;
    const tdl_mlp *m;
    tdl_loss_kind loss;
    const tdl_dataset *test;
    tdl_net_work *test_work;
    /* rows: epoch step lr loss accuracy theta_norm dist_init test_loss test_accuracy */
    double *rows;
    size_t n_rows, cap_rows;
    /* parameter snapshots (--log-params) */
    int keep_params;
    double *snapshots;
    size_t n_snap, cap_snap;
    int failed;
    /* --log-ntk-drift: ||Theta_t - Theta_0||_F / ||Theta_0||_F on these rows */
    const gsl_matrix *drift_X;
} train_log;

#define LOG_COLS 10

static int on_eval(const tdl_train_progress *p, void *user)
{
    train_log *lg = user;
    double test_loss = NAN, test_acc = NAN;
    if (lg->test) {
        tdl_eval_stats s;
        if (tdl_mlp_evaluate(lg->m, lg->loss, lg->test, lg->test_work, &s) == TDL_OK) {
            test_loss = s.loss;
            test_acc = s.accuracy;
            tdl_eval_stats_free(&s);
        }
    }
    if (lg->n_rows == lg->cap_rows) {
        size_t cap = lg->cap_rows ? 2 * lg->cap_rows : 64;
        double *rows = realloc(lg->rows, cap * LOG_COLS * sizeof(double));
        if (!rows) { lg->failed = 1; return 1; }
        lg->rows = rows;
        lg->cap_rows = cap;
    }
    double drift = NAN;
    if (lg->drift_X) {
        tdl_ntk_options o;
        tdl_ntk_options_default(&o);
        if (tdl_ntk_drift(lg->m, lg->drift_X, &o, &drift) != TDL_OK) { lg->failed = 2; return 1; }
    }
    double row[LOG_COLS] = {(double)p->epoch, (double)p->step, p->lr, p->loss, p->accuracy,
                            p->theta_norm, p->dist_init, test_loss, test_acc, drift};
    memcpy(lg->rows + lg->n_rows++ * LOG_COLS, row, sizeof row);
    if (lg->keep_params) {
        size_t P = lg->m->n_params;
        if (lg->n_snap == lg->cap_snap) {
            size_t cap = lg->cap_snap ? 2 * lg->cap_snap : 16;
            double *s = realloc(lg->snapshots, cap * P * sizeof(double));
            if (!s) { lg->failed = 1; return 1; }
            lg->snapshots = s;
            lg->cap_snap = cap;
        }
        memcpy(lg->snapshots + lg->n_snap++ * P, p->theta, P * sizeof(double));
    }
    if (lg->progress) {
        fprintf(stderr, "\repoch %zu/%zu  loss %.6g  accuracy %.4f", p->epoch, lg->total_epochs, p->loss, p->accuracy);
        if (lg->test) fprintf(stderr, "  test accuracy %.4f", test_acc);
        fprintf(stderr, "   ");
        fflush(stderr);
    }
    return 0;
}

static int write_log_csv(const char *path, const train_log *lg)
{
    tdl_atomic_file af;
    int st = tdl_atomic_begin(path, &af);
    if (st != TDL_OK) return st;
    fprintf(af.fp, "epoch,step,lr,loss,accuracy,theta_norm,dist_init,test_loss,test_accuracy%s\n",
            lg->drift_X ? ",ntk_drift" : "");
    for (size_t r = 0; r < lg->n_rows; r++) {
        const double *row = lg->rows + r * LOG_COLS;
        fprintf(af.fp, "%.0f,%.0f", row[0], row[1]);
        for (int c = 2; c < (lg->drift_X ? LOG_COLS : LOG_COLS - 1); c++) {
            if (isnan(row[c])) fprintf(af.fp, ",");
            else fprintf(af.fp, ",%.17g", row[c]);
        }
        fputc('\n', af.fp);
    }
    return tdl_atomic_commit(&af);
}

static int write_snapshots(const char *path, const train_log *lg)
{
    tdl_tensors *set = tdl_tensors_new();
    if (!set) return TDL_ENOMEM;
    size_t shape[2] = {lg->n_snap, lg->m->n_params};
    double *epochs = malloc((lg->n_snap ? lg->n_snap : 1) * sizeof(double));
    int st = epochs ? TDL_OK : TDL_ENOMEM;
    for (size_t i = 0; i < lg->n_snap && epochs; i++) epochs[i] = lg->rows[i * LOG_COLS];
    if (st == TDL_OK) st = tdl_tensors_add(set, "theta", 2, shape, lg->snapshots);
    if (st == TDL_OK) st = tdl_tensors_add(set, "epoch", 1, shape, epochs);
    if (st == TDL_OK && lg->m->theta0) st = tdl_tensors_add(set, "theta0", 1, &shape[1], lg->m->theta0);
    if (st == TDL_OK) st = tdl_npz_write(path, set);
    free(epochs);
    tdl_tensors_free(&set);
    return st;
}

/* The training curve: train (and test) loss against the left axis, accuracy
 * against the right one, one point per evaluation (--eval-every). */
static int render_curve(const char *path, const train_log *lg, const char *caption, int classes)
{
    size_t n = lg->n_rows;
    if (n == 0) return tdl_error_set(TDL_EINVAL, "%s: no evaluation was logged to draw (raise --epochs or lower --eval-every)", path);
    double *col = cli_malloc(5 * n * sizeof(double), "the training curve");
    if (!col) return TDL_ENOMEM;
    double *ep = col, *loss = col + n, *tloss = col + 2 * n, *acc = col + 3 * n, *tacc = col + 4 * n;
    for (size_t r = 0; r < n; r++) {
        const double *row = lg->rows + r * LOG_COLS;
        ep[r] = row[0];
        loss[r] = row[3];
        acc[r] = row[4];
        tloss[r] = row[7];
        tacc[r] = row[8];
    }
    plot_series ser[4];
    size_t ns = 0;
    unsigned long long right = 0;
    ser[ns++] = (plot_series){"train loss", ep, loss, n, PLOT_LINES};
    if (lg->test) ser[ns++] = (plot_series){"test loss", ep, tloss, n, PLOT_LINES};
    if (classes) {
        right |= 1ULL << ns;
        ser[ns++] = (plot_series){"train accuracy (right axis)", ep, acc, n, PLOT_LINESPOINTS};
        if (lg->test) {
            right |= 1ULL << ns;
            ser[ns++] = (plot_series){"test accuracy (right axis)", ep, tacc, n, PLOT_LINESPOINTS};
        }
    }
    /* a log loss axis when the loss falls by more than a decade */
    double lmin = INFINITY, lmax = 0;
    for (size_t r = 0; r < n; r++)
        if (loss[r] > 0) { lmin = fmin(lmin, loss[r]); lmax = fmax(lmax, loss[r]); }
    plot_spec spec = {0};
    spec.title = "training curve";
    spec.xlabel = "epoch";
    spec.ylabel = "loss (mean over examples)";
    spec.caption = caption;
    spec.logy = isfinite(lmin) && lmax / lmin > 10;
    spec.series = ser;
    spec.n_series = ns;
    plot_axis2 y2 = {"accuracy", 0.0, 1.0, right};
    int st = plot_render_y2(path, &spec, classes ? &y2 : NULL);
    free(col);
    return st;
}

static void record_metadata(tdl_mlp *m, const tdl_train_config *cfg, const tdl_dataset *ds,
                            const tdl_train_result *res)
{
    char buf[64];
    tdl_tensors_set_meta(m->meta, "loss", tdl_loss_name(cfg->loss));
    tdl_tensors_set_meta(m->meta, "data", ds->spec);
    tdl_tensors_set_meta(m->meta, "optimizer", tdl_optimizer_name(cfg->opt));
    snprintf(buf, sizeof buf, "%.17g", cfg->lr);
    tdl_tensors_set_meta(m->meta, "lr", buf);
    snprintf(buf, sizeof buf, "%zu", cfg->batch);
    tdl_tensors_set_meta(m->meta, "batch", buf);
    snprintf(buf, sizeof buf, "%zu", res->epochs);
    tdl_tensors_set_meta(m->meta, "epochs", buf);
    snprintf(buf, sizeof buf, "%lu", cfg->seed);
    tdl_tensors_set_meta(m->meta, "train_seed", buf);
    snprintf(buf, sizeof buf, "%.17g", res->loss);
    tdl_tensors_set_meta(m->meta, "train_loss", buf);
    if (!isnan(res->accuracy)) {
        snprintf(buf, sizeof buf, "%.17g", res->accuracy);
        tdl_tensors_set_meta(m->meta, "train_accuracy", buf);
    }
    tdl_tensors_set_meta(m->meta, "tdl_version", TDL_VERSION);
}

/* The --json summary: after a completed run (model = the file written) and
 * after a divergence (model NULL, last_good = the checkpoint or NULL), with
 * "stopped" saying which (tdl_train_stop_name). */
static void put_json(const char *model, const char *last_good, const tdl_mlp *m, const char *arch, const char *act,
                     const tdl_dataset *ds, const tdl_dataset *ts, const tdl_train_config *cfg, const char *opt_text,
                     const tdl_train_result *res, double seconds, double test_loss, double test_acc)
{
    json_writer w;
    if (json_open(&w) != 0) return;
    json_object_begin(&w, NULL);
    json_string(&w, "stopped", tdl_train_stop_name(res->stopped));
    if (model) json_string(&w, "model", model);
    else json_null_reason(&w, "model", "training diverged: no model written (the last good parameters: last_good)");
    if (res->stopped == TDL_STOP_DIVERGED) {
        if (last_good) json_string(&w, "last_good", last_good);
        else json_null_reason(&w, "last_good", "the last good parameters could not be saved (see the error on stderr)");
    }
    json_string(&w, "arch", arch);
    json_string(&w, "activation", act);
    json_size(&w, "params", m->n_params);
    json_string(&w, "data", ds->spec);
    json_size(&w, "n", ds->n);
    json_string(&w, "loss_name", tdl_loss_name(cfg->loss));
    json_string(&w, "reduction", "mean");
    json_string(&w, "optimizer", opt_text);
    json_number(&w, "momentum", cfg->momentum);
    json_number(&w, "lr", cfg->lr);
    json_size(&w, "batch", cfg->batch);
    json_size(&w, "epochs", res->epochs);
    json_size(&w, "steps", res->steps);
    json_bool(&w, "reached_target", res->reached_target);
    json_number(&w, "diverge_factor", cfg->diverge_factor);
    json_number_or_reason(&w, "initial_loss", res->initial_loss, "the loss at the initial parameters is not finite");
    if (res->stopped == TDL_STOP_DIVERGED) {
        json_bool(&w, "diverged_nonfinite", res->diverged_nonfinite);
        json_number(&w, "diverged_loss", res->diverged_loss);
        if (!isfinite(res->diverged_loss)) json_string(&w, "diverged_loss_reason", "a NaN or infinite loss or parameter");
        json_number(&w, "diverge_threshold", res->diverge_threshold);
        if (!isfinite(res->diverge_threshold)) json_string(&w, "diverge_threshold_reason", "the loss-growth criterion is off (--diverge-factor 0)");
        json_number(&w, "suggested_lr", cfg->lr / 10);
    }
    json_number(&w, "seconds", seconds);
    json_number(&w, "seconds_per_epoch", seconds / (double)(res->epochs ? res->epochs : 1));
    /* after a divergence: the last good checkpoint's */
    json_number_or_reason(&w, "train_loss", res->loss, "the training loss is not finite");
    if (ds->classes) json_number_or_reason(&w, "train_accuracy", res->accuracy, "the outputs are not finite");
    if (ts && res->stopped != TDL_STOP_DIVERGED) { /* no model to test after a divergence */
        json_number_or_reason(&w, "test_loss", test_loss, "the test loss is not finite");
        if (ts->classes) json_number_or_reason(&w, "test_accuracy", test_acc, "the outputs are not finite on the test set");
    }
    json_object_end(&w);
    json_flush_stdout(&w);
}

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_LOG, OPT_LOG_PARAMS, OPT_JSON, OPT_THREADS, OPT_QUIET, OPT_DRIFT, OPT_PLOT
};

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        TRAIN_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"log", required_argument, NULL, OPT_LOG},
        {"log-params", required_argument, NULL, OPT_LOG_PARAMS}, {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, OPT_THREADS}, {"quiet", no_argument, NULL, OPT_QUIET},
        {"out", required_argument, NULL, 'o'},
        {"log-ntk-drift", optional_argument, NULL, OPT_DRIFT},
        {"plot", required_argument, NULL, OPT_PLOT},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    cli_train_opts to;
    cli_train_opts_init(&to);
    tdl_train_config cfg;
    const char *data = NULL, *test = NULL, *out = "model.safetensors", *log_path = NULL, *params_path = NULL;
    const char *plot = NULL;
    int as_json = 0, quiet = 0, c;
    size_t threads = 0, drift_rows = 0;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "train")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&mo, "train", c, optarg);
        if (r == 0) r = cli_train_opts_parse(&to, "train", c, optarg, cli_option_name(opts, c));
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_TEST: test = optarg; break;
        case 'o': out = optarg; break;
        case OPT_LOG: log_path = optarg; break;
        case OPT_LOG_PARAMS: params_path = optarg; break;
        case OPT_JSON: as_json = 1; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_DRIFT:
            drift_rows = 256;
            if (optarg) bad = cli_parse_size(optarg, 1, 100000, &drift_rows);
            break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &threads); break;
        case OPT_PLOT: plot = optarg; break;
        default: return cli_bad_option("train", argv, optopt);
        }
        if (bad) return cli_usage("train", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("train", "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage("train", "--data SPEC is required");
    if (plot) {
        const char *ext = strrchr(plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("train", "--plot %s: the figure must end in .png, .svg or .pdf", plot);
    }
    if (cli_train_opts_finish(&to, "train", mo.seed) != 0) return EXIT_USAGE;
    cfg = to.cfg;
    cli_set_threads(threads);
    /* No output may overwrite an input or another output (the divergence
     * checkpoint OUT.last-good.safetensors included). */
    char last_good[4096];
    snprintf(last_good, sizeof last_good, "%s.last-good.safetensors", out);
    const cli_file ins[] = {{"--model", mo.model, CLI_FILE_PATH, NULL}, {"--data", data, CLI_FILE_SPEC, NULL}, {"--test", test, CLI_FILE_SPEC, NULL}};
    const cli_file outs[] = {{"-o", out, CLI_FILE_PATH, NULL}, {"--log", log_path, CLI_FILE_PATH, NULL}, {"--log-params", params_path, CLI_FILE_PATH, NULL},
                             {"--plot", plot, CLI_FILE_FIGURE, NULL}, {"the divergence checkpoint", last_good, CLI_FILE_PATH, NULL}};
    if (cli_check_outputs("train", ins, 3, outs, 5) != 0) return EXIT_WORK_FAILED;
    /* Every output must be writable before any work starts: a temporary is
     * created and removed beside each. */
    const char *outputs[4] = {out, log_path, params_path, plot};
    for (int k = 0; k < 4; k++) {
        tdl_atomic_file probe;
        if (!outputs[k]) continue;
        int pst = tdl_atomic_begin(outputs[k], &probe);
        if (pst != TDL_OK) return cli_fail(pst);
        tdl_atomic_abort(&probe);
    }

    int rc = EXIT_WORK_FAILED, st;
    tdl_dataset *ds = NULL, *ts = NULL;
    tdl_mlp *m = NULL;
    train_log lg = {0};
    if ((st = tdl_dataset_load(data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (test && (st = tdl_dataset_load(test, &ts)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((rc = cli_model_build(&mo, "train", &m)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if ((rc = cli_model_loss(&mo, "train", m, ds, &cfg.loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (ts && cli_check_test(test, cfg.loss, m, ts) != 0) { rc = EXIT_WORK_FAILED; goto cleanup; }
    if (!m->theta0) { /* a model without its init: training starts here */
        m->theta0 = malloc(m->n_params * sizeof(double));
        if (!m->theta0) { rc = cli_failf("out of memory"); goto cleanup; }
        memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
    }
    if (params_path) {
        size_t evals = cfg.eval_every ? cfg.epochs / cfg.eval_every + 2 : 2;
        double bytes = (double)evals * (double)m->n_params * 8.0;
        if (bytes > 4e9) { rc = cli_failf("--log-params would keep %.3g GB of snapshots; raise --eval-every", bytes / 1e9); goto cleanup; }
    }
    lg.progress = !quiet && isatty(2);
    lg.total_epochs = cfg.epochs;
    lg.m = m;
    lg.loss = cfg.loss;
    lg.test = ts;
    lg.keep_params = params_path != NULL;
    gsl_matrix_view drift_view;
    if (drift_rows) {
        if (!log_path) { rc = cli_usage("train", "--log-ntk-drift adds a column to --log FILE.csv: give --log"); goto cleanup; }
        drift_view = gsl_matrix_submatrix(ds->X, 0, 0, drift_rows < ds->n ? drift_rows : ds->n, ds->d);
        lg.drift_X = &drift_view.matrix;
    }
    if (ts && (st = tdl_net_work_alloc(m, ts->n < 2048 ? ts->n : 2048, &lg.test_work)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    cfg.callback = on_eval;
    cfg.user = &lg;
    tdl_train_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = tdl_train(m, ds, &cfg, &res);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (lg.progress) fputc('\n', stderr);
    if (st == TDL_EDIVERGED) {
        /* exit 1, one line naming the learning rate and a smaller one; the
         * model file (-o) is not written, the last good checkpoint is kept
         * beside it (tdl help train) */
        char msg[1024], good[4096], hint[256];
        snprintf(msg, sizeof msg, "%s", tdl_errmsg());
        snprintf(hint, sizeof hint, " (e.g. --lr %g%s)", cfg.lr / 10,
                 res.diverged_nonfinite ? "" : "; --diverge-factor 0 turns this stop off");
        snprintf(good, sizeof good, "%s.last-good.safetensors", out);
        record_metadata(m, &cfg, ds, &res);
        tdl_tensors_set_meta(m->meta, "optimizer", to.opt_text);
        int saved = tdl_mlp_save(good, m) == TDL_OK;
        if (log_path) write_log_csv(log_path, &lg);
        if (as_json) {
            char arch[256], act[64];
            tdl_arch_format(m, arch, sizeof arch);
            tdl_act_format(&m->act, act, sizeof act);
            put_json(NULL, saved ? good : NULL, m, arch, act, ds, ts, &cfg, to.opt_text, &res, seconds, NAN, NAN);
        }
        if (saved) rc = cli_failf("%s%s; the last good parameters are in %s", msg, hint, good);
        else rc = cli_failf("%s%s", msg, hint);
        goto cleanup;
    }
    if (st != TDL_OK) {
        rc = lg.failed == 1 ? cli_failf("out of memory keeping the training log") : lg.failed == 2 ? cli_fail(TDL_ENOMEM) : cli_fail(st);
        goto cleanup;
    }
    record_metadata(m, &cfg, ds, &res);
    tdl_tensors_set_meta(m->meta, "optimizer", to.opt_text);
    if ((st = tdl_mlp_save(out, m)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (log_path && (st = write_log_csv(log_path, &lg)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (params_path && (st = write_snapshots(params_path, &lg)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    double test_loss = NAN, test_acc = NAN;
    if (lg.n_rows) {
        test_loss = lg.rows[(lg.n_rows - 1) * LOG_COLS + 7];
        test_acc = lg.rows[(lg.n_rows - 1) * LOG_COLS + 8];
    }
    char arch[256], act[64];
    tdl_arch_format(m, arch, sizeof arch);
    tdl_act_format(&m->act, act, sizeof act);
    if (plot) {
        char caption[1024];
        snprintf(caption, sizeof caption, "%s (%s, %s, %zu parameters); data %s%s%s; %s, lr %g, batch %zu, loss %s (mean); seed %lu, train seed %lu",
                 out, arch, act, m->n_params, ds->spec, ts ? ", test " : "", ts ? ts->spec : "", to.opt_text, cfg.lr, cfg.batch,
                 tdl_loss_name(cfg.loss), mo.seed, cfg.seed);
        if ((st = render_curve(plot, &lg, caption, ds->classes > 0)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    if (as_json) {
        put_json(out, NULL, m, arch, act, ds, ts, &cfg, to.opt_text, &res, seconds, test_loss, test_acc);
    } else {
        printf("model        %s (%s, %s, %zu parameters)\n", out, arch, act, m->n_params);
        printf("data         %s (%zu examples)\n", ds->spec, ds->n);
        printf("training     %s (momentum %g), lr %g, batch %zu, %zu epochs, %zu steps, loss %s (mean)\n",
               to.opt_text, cfg.momentum, cfg.lr, cfg.batch, res.epochs, res.steps, tdl_loss_name(cfg.loss));
        printf("train loss   %.6g\n", res.loss);
        if (ds->classes) printf("train acc.   %.4f\n", res.accuracy);
        if (ts) {
            printf("test loss    %.6g\n", test_loss);
            if (ts->classes) printf("test acc.    %.4f\n", test_acc);
        }
    }
    rc = 0;
cleanup:
    free(lg.rows);
    free(lg.snapshots);
    tdl_net_work_free(&lg.test_work);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    tdl_dataset_free(&ts);
    return rc;
}
