/* cmd_train.c — `tdl train`: train a net, write the model file, a log, snapshots.
 *
 * parse_options (train_opts) -> load (data, net, checks) -> run (tdl_train,
 * the log kept by on_eval) -> emit_diverged, or emit_files (model, --log,
 * --log-params, --plot) and the report (put_json or emit_text). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "provenance.h"
#include "trainopts.h"
#include "plot.h"
#include "tdl/ntk.h"
#include "tdl/sharpness.h"

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
    /* --log-sharpness K: per row 2k + 1 numbers (values descending, their
     * error bounds, Hessian-vector products), NaN where not measured */
    tdl_sharpness_tracker *sharp;
    size_t sharp_every, sharp_k;
    double weight_decay;     /* added to the values: Hessian of loss + wd/2 ||theta||^2 */
    double *sharp_rows;
    int sharp_any;           /* a measurement was made */
    size_t sharp_last;       /* its step */
    int sharp_status;        /* a failed measurement's status */
    char sharp_msg[512];     /* and its message (tdl_train's stop message replaces tdl_errmsg) */
} train_log;

#define LOG_COLS 10
#define SHARP_COLS(lg) (2 * (lg)->sharp_k + 1)

/* The sharpness of the current parameters into row r of the log. */
static int measure_sharpness(train_log *lg, size_t r)
{
    tdl_sharpness s;
    int st = tdl_sharpness_measure(lg->sharp, &s);
    if (st != TDL_OK) return st;
    double *out = lg->sharp_rows + r * SHARP_COLS(lg);
    for (size_t j = 0; j < lg->sharp_k; j++) {
        out[j] = j < s.k ? s.values[j] + lg->weight_decay : NAN;
        out[lg->sharp_k + j] = j < s.k ? s.bounds[j] : NAN;
    }
    out[2 * lg->sharp_k] = (double)s.matvecs;
    return TDL_OK;
}

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
        if (lg->sharp) {
            double *sr = realloc(lg->sharp_rows, cap * SHARP_COLS(lg) * sizeof(double));
            if (!sr) { lg->failed = 1; return 1; }
            lg->sharp_rows = sr;
        }
        lg->cap_rows = cap;
    }
    double drift = NAN;
    if (lg->drift_X) {
        tdl_ntk_config o;
        tdl_ntk_config_default(&o);
        if (tdl_ntk_drift(lg->m, lg->drift_X, &o, &drift) != TDL_OK) { lg->failed = 2; return 1; }
    }
    double row[LOG_COLS] = {(double)p->epoch, (double)p->step, p->lr, p->loss, p->accuracy,
                            p->theta_norm, p->dist_init, test_loss, test_acc, drift};
    memcpy(lg->rows + lg->n_rows * LOG_COLS, row, sizeof row);
    if (lg->sharp) {
        double *sr = lg->sharp_rows + lg->n_rows * SHARP_COLS(lg);
        for (size_t c = 0; c < SHARP_COLS(lg); c++) sr[c] = NAN;
        /* at step 0 and at the first evaluation at least K steps after the last measurement */
        if (!lg->sharp_any || p->step >= lg->sharp_last + lg->sharp_every) {
            int st = measure_sharpness(lg, lg->n_rows);
            if (st != TDL_OK) {
                lg->sharp_status = st;
                snprintf(lg->sharp_msg, sizeof lg->sharp_msg, "at step %zu: %s", p->step, tdl_errmsg());
                lg->failed = 3;
                return 1;
            }
            lg->sharp_any = 1;
            lg->sharp_last = p->step;
        }
    }
    lg->n_rows++;
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
    fprintf(af.fp, "epoch,step,lr,loss,accuracy,theta_norm,dist_init,test_loss,test_accuracy%s",
            lg->drift_X ? ",ntk_drift" : "");
    if (lg->sharp) {
        for (size_t j = 1; j <= lg->sharp_k; j++) fprintf(af.fp, ",sharpness_%zu", j);
        for (size_t j = 1; j <= lg->sharp_k; j++) fprintf(af.fp, ",sharpness_bound_%zu", j);
        fprintf(af.fp, ",sharpness_matvecs");
    }
    fputc('\n', af.fp);
    for (size_t r = 0; r < lg->n_rows; r++) {
        const double *row = lg->rows + r * LOG_COLS;
        fprintf(af.fp, "%.0f,%.0f", row[0], row[1]);
        for (int c = 2; c < (lg->drift_X ? LOG_COLS : LOG_COLS - 1); c++) {
            if (isnan(row[c])) fprintf(af.fp, ",");
            else fprintf(af.fp, ",%.17g", row[c]);
        }
        for (size_t c = 0; lg->sharp && c < SHARP_COLS(lg); c++) {
            double v = lg->sharp_rows[r * SHARP_COLS(lg) + c];
            if (isnan(v)) fprintf(af.fp, ",");
            else fprintf(af.fp, ",%.17g", v);
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

/* The stability threshold drawn beside the sharpness, and what it means
 * (Cohen, Kaur, Li, Kolter, Talwalkar, ICLR 2021): NaN when there is none. */
static double sharpness_threshold(const tdl_train_config *cfg, size_t batch, size_t n, const char **meaning)
{
    if (cfg->schedule != TDL_SCHED_CONSTANT) {
        *meaning = "no threshold: the learning rate follows a schedule (2/eta(t) moves with it)";
        return NAN;
    }
    if (cfg->opt == TDL_OPT_ADAM) {
        *meaning = "no threshold for Adam: its stability is set by the preconditioned Hessian, not by lambda_1";
        return NAN;
    }
    if (cfg->opt == TDL_OPT_NESTEROV) {
        *meaning = "no threshold drawn for Nesterov momentum (its value was not checked against the paper)";
        return NAN;
    }
    if (cfg->momentum > 0) {
        *meaning = batch < n ? "2(1+beta)/eta: full-batch heavy-ball momentum is unstable on the quadratic model above it "
                               "(a full-batch threshold: minibatch runs usually stay below)"
                             : "2(1+beta)/eta: full-batch heavy-ball momentum is unstable on the quadratic model above it";
        return 2 * (1 + cfg->momentum) / cfg->lr;
    }
    *meaning = batch < n ? "2/eta: full-batch GD is unstable on the quadratic model above it "
                           "(a full-batch threshold: minibatch SGD usually stays below)"
                         : "2/eta: full-batch GD is unstable on the quadratic model above it (the edge of stability)";
    return 2 / cfg->lr;
}

/* The training curve: train (and test) loss against the left axis, accuracy
 * against the right one, one point per evaluation (--eval-every). */
static int render_curve(const char *path, const train_log *lg, const char *caption, int classes, double thr, int momentum)
{
    size_t n = lg->n_rows;
    if (n == 0) return tdl_error_set(TDL_EINVAL, "%s: no evaluation was logged to draw (raise --epochs or lower --eval-every)", path);
    double *col = tdl_malloc(5 * n * sizeof(double), "the training curve");
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
    plot_series ser[4 + TDL_SHARPNESS_MAX_K];
    size_t ns = 0;
    unsigned long long right = 0;
    ser[ns++] = (plot_series){"train loss", ep, loss, n, PLOT_LINES};
    if (lg->test) ser[ns++] = (plot_series){"test loss", ep, tloss, n, PLOT_LINES};
    /* --log-sharpness: the top-k eigenvalues (and the threshold) take the
     * right axis in place of the accuracy (which stays in --log) */
    double *sx = NULL, *sy = NULL, lx[2], ly[2];
    char names[TDL_SHARPNESS_MAX_K][32];
    if (lg->sharp) {
        sx = tdl_malloc((lg->sharp_k + 1) * n * sizeof(double), "the sharpness curve");
        if (!sx) { free(col); return TDL_ENOMEM; }
        sy = sx + n;
        size_t m = 0;
        for (size_t r = 0; r < n; r++)
            if (!isnan(lg->sharp_rows[r * SHARP_COLS(lg)])) {
                sx[m] = lg->rows[r * LOG_COLS];
                for (size_t j = 0; j < lg->sharp_k; j++) sy[j * n + m] = lg->sharp_rows[r * SHARP_COLS(lg) + j];
                m++;
            }
        for (size_t j = 0; j < lg->sharp_k; j++) {
            snprintf(names[j], sizeof names[j], "lambda_%zu (right axis)", j + 1);
            right |= 1ULL << ns;
            ser[ns++] = (plot_series){names[j], sx, sy + j * n, m, PLOT_LINESPOINTS};
        }
        if (isfinite(thr)) {
            lx[0] = ep[0];
            lx[1] = ep[n - 1];
            ly[0] = ly[1] = thr;
            right |= 1ULL << ns;
            ser[ns++] = (plot_series){momentum ? "2(1+beta)/eta (right axis)" : "2/eta (right axis)", lx, ly, 2, PLOT_DASHED};
        }
    } else if (classes) {
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
    if (lg->sharp) y2 = (plot_axis2){"top Hessian eigenvalues", 0.0, 0.0, right};
    int st = plot_render_y2(path, &spec, classes || lg->sharp ? &y2 : NULL);
    free(col);
    free(sx);
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
    snprintf(buf, sizeof buf, "%zu", tdl_train_batch_size(cfg, ds->n));
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
    tdl_tensors_set_meta(m->meta, "tdl_version", tdl_version());
}

/* The sharpness summary: the first, largest and last lambda_1 and their rows
 * (first_row < 0 when nothing was measured). */
typedef struct sharp_summary {
    long first_row, max_row, last_row;
    size_t points, matvecs;
    double bound_max;    /* the largest error bound on any value */
} sharp_summary;

static sharp_summary summarize_sharpness(const train_log *lg)
{
    sharp_summary s = {-1, -1, -1, 0, 0, 0};
    for (size_t r = 0; r < lg->n_rows; r++) {
        const double *sr = lg->sharp_rows + r * SHARP_COLS(lg);
        if (isnan(sr[0])) continue;
        if (s.first_row < 0) s.first_row = (long)r;
        if (s.max_row < 0 || sr[0] > lg->sharp_rows[s.max_row * SHARP_COLS(lg)]) s.max_row = (long)r;
        s.last_row = (long)r;
        s.points++;
        s.matvecs += (size_t)sr[2 * lg->sharp_k];
        for (size_t j = 0; j < lg->sharp_k; j++)
            if (sr[lg->sharp_k + j] > s.bound_max) s.bound_max = sr[lg->sharp_k + j];
    }
    return s;
}

/* "sharpness": {...} of --json. */
static void put_sharpness_json(json_writer *w, const train_log *lg, const tdl_train_config *cfg, const tdl_dataset *ds)
{
    const char *meaning;
    double thr = sharpness_threshold(cfg, tdl_train_batch_size(cfg, ds->n), ds->n, &meaning);
    sharp_summary s = summarize_sharpness(lg);
    json_object_begin(w, "sharpness");
    json_string(w, "what", "the top-k eigenvalues of the Hessian of the training loss (the loss trained, all parameters), "
                           "descending, by Lanczos warm-started from the previous top vectors; bounds: Lanczos's error bounds "
                           "(residual ||H v - lambda v|| or residual^2 / gap, rounding included: an eigenvalue lies within each)");
    json_size(w, "every", lg->sharp_every);
    json_size(w, "k", lg->sharp_k);
    if (lg->weight_decay > 0) json_number(w, "weight_decay_added", lg->weight_decay);
    json_number_or_reason(w, "threshold", thr, meaning);
    if (isfinite(thr)) json_string(w, "threshold_meaning", meaning);
    json_size(w, "points", s.points);
    json_size(w, "matvecs", s.matvecs);
    json_number(w, "bound_max", s.bound_max);
    const size_t C = SHARP_COLS(lg);
    if (s.first_row >= 0) {
        json_number(w, "first", lg->sharp_rows[s.first_row * C]);
        json_number(w, "max", lg->sharp_rows[s.max_row * C]);
        json_size(w, "max_step", (size_t)lg->rows[s.max_row * LOG_COLS + 1]);
        json_number(w, "last", lg->sharp_rows[s.last_row * C]);
    }
    json_array_begin(w, "log");
    for (size_t r = 0; r < lg->n_rows; r++) {
        const double *sr = lg->sharp_rows + r * C;
        if (isnan(sr[0])) continue;
        json_object_begin(w, NULL);
        json_size(w, "step", (size_t)lg->rows[r * LOG_COLS + 1]);
        json_size(w, "epoch", (size_t)lg->rows[r * LOG_COLS]);
        json_number_array(w, "values", sr, lg->sharp_k, 1);
        json_number_array(w, "bounds", sr + lg->sharp_k, lg->sharp_k, 1);
        json_size(w, "matvecs", (size_t)sr[2 * lg->sharp_k]);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}

/* The --json summary: after a completed run (model = the file written) and
 * after a divergence (model NULL, last_good = the checkpoint or NULL), with
 * "stopped" saying which (tdl_train_stop_name). */
static void put_json(const cli_model_opts *mo, const char *model, const char *last_good, const tdl_mlp *m, const char *arch, const char *act,
                     const tdl_dataset *ds, const tdl_dataset *ts, const tdl_train_config *cfg, const char *opt_text,
                     const tdl_train_result *res, double seconds, double test_loss, double test_acc, const train_log *lg)
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
    cli_provenance_loss_json(&w, m, cfg->loss);
    json_string(&w, "optimizer", opt_text);
    json_number(&w, "momentum", cfg->momentum);
    json_number(&w, "lr", cfg->lr);
    json_size(&w, "batch", tdl_train_batch_size(cfg, ds->n)); /* the one used: n for gd */
    json_size(&w, "epochs", res->epochs);
    json_size(&w, "steps", res->steps);
    if (cfg->epochs == 0 && cfg->steps == 0) json_string(&w, "training", "no training: --epochs 0 saves the initialization");
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
    if (lg->sharp) put_sharpness_json(&w, lg, cfg, ds);
    cli_provenance_model_json(&w, mo, m); /* last: its nested keys repeat top-level names */
    json_object_end(&w);
    json_flush_stdout(&w);
}

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_LOG, OPT_LOG_PARAMS, OPT_JSON, OPT_THREADS, OPT_QUIET, OPT_DRIFT, OPT_PLOT,
    OPT_SHARPNESS, OPT_SHARPNESS_K
};

typedef struct train_opts {
    cli_model_opts mo;
    cli_train_opts to;
    tdl_train_config cfg;
    const char *data, *test, *out, *log_path, *params_path, *plot;
    int as_json, quiet;
    size_t threads, drift_rows;
    size_t sharp_every, sharp_k;  /* --log-sharpness K (0: off), --sharpness-k k (0: not given) */
    char last_good[4096];  /* OUT.last-good.safetensors: the divergence checkpoint */
} train_opts;

/* -1: go on; otherwise the exit code (usage printed). */
static int parse_options(int argc, char **argv, train_opts *o)
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
        {"log-sharpness", required_argument, NULL, OPT_SHARPNESS},
        {"sharpness-k", required_argument, NULL, OPT_SHARPNESS_K},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    cli_train_opts_init(&o->to);
    o->to.zero_epochs_ok = 1; /* --epochs 0: save the initialization */
    o->out = "model.safetensors";
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "train")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&o->mo, "train", c, optarg);
        if (r == 0) r = cli_train_opts_parse(&o->to, "train", c, optarg, cli_option_name(opts, c));
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case 'o': o->out = optarg; break;
        case OPT_LOG: o->log_path = optarg; break;
        case OPT_LOG_PARAMS: o->params_path = optarg; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_DRIFT:
            o->drift_rows = 256;
            if (optarg) bad = cli_parse_size(optarg, 1, 100000, &o->drift_rows);
            break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_SHARPNESS:
            if (cli_parse_size(optarg, 0, 1000000000, &o->sharp_every) || o->sharp_every == 0)
                return cli_usage("train", "bad value '%s' for --log-sharpness: expected K >= 1 (the top Hessian eigenvalues every K steps)", optarg);
            break;
        case OPT_SHARPNESS_K:
            if (cli_parse_size(optarg, 0, 1000000, &o->sharp_k) || o->sharp_k == 0 || o->sharp_k > TDL_SHARPNESS_MAX_K)
                return cli_usage("train", "bad value '%s' for --sharpness-k: expected 1 .. %d eigenvalues", optarg, TDL_SHARPNESS_MAX_K);
            break;
        default: return cli_bad_option("train", argv, optopt);
        }
        if (bad) return cli_usage("train", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("train", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("train", "--data SPEC is required");
    if (o->sharp_k && !o->sharp_every) return cli_usage("train", "--sharpness-k needs --log-sharpness K");
    if (o->sharp_every && !o->sharp_k) o->sharp_k = 1;
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("train", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    if (cli_train_opts_finish(&o->to, "train", o->mo.seed) != 0) return EXIT_USAGE;
    o->cfg = o->to.cfg;
    /* No output may overwrite an input or another output (the divergence
     * checkpoint OUT.last-good.safetensors included). */
    snprintf(o->last_good, sizeof o->last_good, "%s.last-good.safetensors", o->out);
    const cli_file ins[] = {{"--model", o->mo.model, CLI_FILE_PATH, NULL}, {"--data", o->data, CLI_FILE_SPEC, NULL}, {"--test", o->test, CLI_FILE_SPEC, NULL}};
    const cli_file outs[] = {{"-o", o->out, CLI_FILE_PATH, NULL}, {"--log", o->log_path, CLI_FILE_PATH, NULL}, {"--log-params", o->params_path, CLI_FILE_PATH, NULL},
                             {"--plot", o->plot, CLI_FILE_FIGURE, NULL}, {"the divergence checkpoint", o->last_good, CLI_FILE_PATH, NULL}};
    if (cli_check_outputs("train", ins, 3, outs, 5) != 0) return EXIT_WORK_FAILED;
    /* Every output must be writable before any work starts: a temporary is
     * created and removed beside each. */
    const char *outputs[4] = {o->out, o->log_path, o->params_path, o->plot};
    for (int k = 0; k < 4; k++) {
        tdl_atomic_file probe;
        if (!outputs[k]) continue;
        int pst = tdl_atomic_begin(outputs[k], &probe);
        if (pst != TDL_OK) return cli_fail(pst);
        tdl_atomic_abort(&probe);
    }
    return -1;
}

/* The data, the net and the log, with the CLI's checks.  Returns an exit code. */
static int load(train_opts *o, tdl_dataset **dsp, tdl_dataset **tsp, tdl_mlp **mp, train_log *lg,
                gsl_matrix_view *drift_view)
{
    int rc, st;
    if ((st = cli_load_data(o->data, dsp)) != TDL_OK) return cli_fail(st);
    if (o->test && (st = cli_load_data(o->test, tsp)) != TDL_OK) return cli_fail(st);
    if ((rc = cli_model_build(&o->mo, "train", mp)) != 0) return rc;
    if ((rc = cli_model_loss(&o->mo, "train", *mp, *dsp, &o->cfg.loss)) != 0) return rc;
    tdl_mlp *m = *mp;
    const tdl_dataset *ds = *dsp, *ts = *tsp;
    if (ts && cli_check_test(o->test, o->cfg.loss, m, ts) != 0) return EXIT_WORK_FAILED;
    if (!m->theta0) { /* a model without its init: training starts here */
        m->theta0 = malloc(m->n_params * sizeof(double));
        if (!m->theta0) return cli_failf("out of memory");
        memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
    }
    if (o->params_path) {
        size_t evals = o->cfg.eval_every ? o->cfg.epochs / o->cfg.eval_every + 2 : 2;
        double bytes = (double)evals * (double)m->n_params * 8.0;
        if (bytes > 4e9) return cli_failf("--log-params would keep %.3g GB of snapshots; raise --eval-every", bytes / 1e9);
    }
    lg->progress = !o->quiet && isatty(2);
    lg->total_epochs = o->cfg.epochs;
    lg->m = m;
    lg->loss = o->cfg.loss;
    lg->test = ts;
    lg->keep_params = o->params_path != NULL;
    if (o->drift_rows) {
        if (!o->log_path) return cli_usage("train", "--log-ntk-drift adds a column to --log FILE.csv: give --log");
        *drift_view = gsl_matrix_submatrix(ds->X, 0, 0, o->drift_rows < ds->n ? o->drift_rows : ds->n, ds->d);
        lg->drift_X = &drift_view->matrix;
    }
    if (ts && (st = tdl_net_work_alloc(m, ts->n < 2048 ? ts->n : 2048, &lg->test_work)) != TDL_OK) return cli_fail(st);
    if (o->sharp_every) {
        for (size_t l = 0; l < m->depth; l++)
            if (!m->layers[l].trainable)
                return cli_usage("train", "--log-sharpness: layer %zu is frozen (--freeze, or the model's trainable flags): "
                                 "the Hessian over all parameters is not that of the parameters trained", l);
        if ((st = tdl_sharpness_tracker_create(m, o->cfg.loss, ds, o->sharp_k, 0, o->mo.seed, &lg->sharp)) != TDL_OK)
            return cli_fail(st);
        lg->sharp_every = o->sharp_every;
        lg->sharp_k = o->sharp_k;
        lg->weight_decay = o->cfg.weight_decay;
    }
    return 0;
}

/* --epochs 0: no step; the result is the initial net's loss and accuracy,
 * evaluated as tdl_train evaluates (the same block size, so `tdl eval` of
 * the saved file gives the same bits), and the log gets that one row. */
static int run_no_training(const train_opts *o, tdl_mlp *m, const tdl_dataset *ds, train_log *lg, tdl_train_result *res)
{
    tdl_net_work *w = NULL;
    tdl_eval_stats s;
    memset(res, 0, sizeof *res);
    res->stopped = TDL_STOP_COMPLETED;
    res->diverged_loss = NAN;
    res->diverge_threshold = INFINITY;
    int st = tdl_net_work_alloc(m, ds->n < 2048 ? ds->n : 2048, &w);
    if (st == TDL_OK) st = tdl_mlp_evaluate(m, o->cfg.loss, ds, w, &s);
    tdl_net_work_free(&w);
    if (st != TDL_OK) return st;
    res->loss = res->initial_loss = res->reference_loss = s.loss;
    res->accuracy = ds->classes ? s.accuracy : NAN;
    tdl_eval_stats_free(&s);
    if (!isfinite(res->loss)) return tdl_error_set(TDL_ENONFINITE, "the loss of the initial model is not finite");
    double norm = 0;
    for (size_t i = 0; i < m->n_params; i++) norm += m->theta[i] * m->theta[i];
    tdl_train_progress p = {0, 0, o->cfg.lr, res->loss, res->accuracy, sqrt(norm), 0.0, m->theta};
    if (on_eval(&p, lg) != 0) return lg->failed == 3 ? lg->sharp_status : lg->failed == 2 ? TDL_ENOMEM : tdl_error_set(TDL_ENOMEM, "out of memory keeping the training log");
    return TDL_OK;
}

/* tdl_train with the log callback; *seconds: wall time. */
static int run(train_opts *o, tdl_mlp *m, const tdl_dataset *ds, train_log *lg, tdl_train_result *res, double *seconds)
{
    o->cfg.callback = on_eval;
    o->cfg.user = lg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st;
    if (o->cfg.epochs == 0 && o->cfg.steps == 0) {
        st = run_no_training(o, m, ds, lg, res);
    } else {
        /* --log-sharpness: a row at step 0 (the initial parameters) */
        tdl_train_result r0;
        st = lg->sharp ? run_no_training(o, m, ds, lg, &r0) : TDL_OK;
        if (st == TDL_OK) st = tdl_train(m, ds, &o->cfg, res);
        /* and at the end when the last evaluation was not measured (the
         * parameters are those of the last row: a completed run or a target) */
        if (st == TDL_OK && lg->sharp && lg->n_rows && lg->sharp_last != res->steps) {
            st = measure_sharpness(lg, lg->n_rows - 1);
            if (st == TDL_OK) lg->sharp_last = res->steps;
        }
    }
    if (lg->failed == 3) st = lg->sharp_status;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (lg->progress) fputc('\n', stderr);
    return st;
}

/* After a divergence: exit 1, one line naming the learning rate and a
 * smaller one; the model file (-o) is not written, the last good checkpoint
 * is kept beside it (tdl help train). */
static int emit_diverged(const train_opts *o, tdl_mlp *m, const tdl_dataset *ds, const tdl_dataset *ts,
                         const train_log *lg, const tdl_train_result *res, double seconds)
{
    const tdl_train_config *cfg = &o->cfg;
    char msg[1024], hint[256];
    snprintf(msg, sizeof msg, "%s", tdl_errmsg());
    snprintf(hint, sizeof hint, " (e.g. --lr %g%s)", cfg->lr / 10,
             res->diverged_nonfinite ? "" : "; --diverge-factor 0 turns this stop off");
    record_metadata(m, cfg, ds, res);
    tdl_tensors_set_meta(m->meta, "optimizer", o->to.opt_text);
    int saved = tdl_mlp_save(o->last_good, m) == TDL_OK;
    if (o->log_path) write_log_csv(o->log_path, lg);
    if (o->as_json) {
        char arch[256], act[64];
        tdl_arch_format(m, arch, sizeof arch);
        tdl_act_format(&m->act, act, sizeof act);
        put_json(&o->mo, NULL, saved ? o->last_good : NULL, m, arch, act, ds, ts, cfg, o->to.opt_text, res, seconds, NAN, NAN, lg);
    }
    if (saved) return cli_failf("%s%s; the last good parameters are in %s", msg, hint, o->last_good);
    return cli_failf("%s%s", msg, hint);
}

/* The model file, --log, --log-params and --plot. */
static int emit_files(const train_opts *o, tdl_mlp *m, const tdl_dataset *ds, const tdl_dataset *ts,
                      const train_log *lg, const tdl_train_result *res, const char *arch, const char *act)
{
    const tdl_train_config *cfg = &o->cfg;
    int st;
    record_metadata(m, cfg, ds, res);
    tdl_tensors_set_meta(m->meta, "optimizer", o->to.opt_text);
    if ((st = tdl_mlp_save(o->out, m)) != TDL_OK) return st;
    if (o->log_path && (st = write_log_csv(o->log_path, lg)) != TDL_OK) return st;
    if (o->params_path && (st = write_snapshots(o->params_path, lg)) != TDL_OK) return st;
    if (o->plot) {
        char caption[1536], loss[64];
        cli_provenance_loss_short(m, cfg->loss, loss, sizeof loss);
        snprintf(caption, sizeof caption, "%s (%s, %s, %zu parameters); data %s%s%s; %s, lr %g, batch %zu, loss %s; seed %lu, train seed %lu",
                 o->out, arch, act, m->n_params, ds->spec, ts ? ", test " : "", ts ? ts->spec : "", o->to.opt_text, cfg->lr,
                 tdl_train_batch_size(cfg, ds->n), loss, o->mo.seed, cfg->seed);
        double thr = NAN;
        if (lg->sharp) {
            const char *meaning;
            thr = sharpness_threshold(cfg, tdl_train_batch_size(cfg, ds->n), ds->n, &meaning);
            size_t len = strlen(caption);
            snprintf(caption + len, sizeof caption - len, "; right axis: top-%zu Hessian eigenvalues (Lanczos) every %zu steps, %s",
                     lg->sharp_k, lg->sharp_every, meaning);
        }
        if ((st = render_curve(o->plot, lg, caption, ds->classes > 0, thr, cfg->momentum > 0)) != TDL_OK) return st;
    }
    return TDL_OK;
}

static void emit_text(const train_opts *o, const tdl_mlp *m, const tdl_dataset *ds, const tdl_dataset *ts,
                      const tdl_train_result *res, const char *arch, const char *act, double test_loss, double test_acc,
                      const train_log *lg)
{
    const tdl_train_config *cfg = &o->cfg;
    printf("model        %s (%s, %s, %zu parameters)\n", o->out, arch, act, m->n_params);
    printf("data         %s (%zu examples)\n", ds->spec, ds->n);
    const size_t B = tdl_train_batch_size(cfg, ds->n);
    char batch[48];
    if (B == ds->n) snprintf(batch, sizeof batch, "full batch (%zu)", B);
    else snprintf(batch, sizeof batch, "batch %zu", B);
    char loss[64];
    cli_provenance_loss_short(m, cfg->loss, loss, sizeof loss);
    if (cfg->epochs == 0 && cfg->steps == 0)
        printf("training     no training: --epochs 0 saves the initialization (0 steps), loss %s\n", loss);
    else
        printf("training     %s (momentum %g), lr %g, %s, %zu epochs, %zu steps, loss %s\n",
               o->to.opt_text, cfg->momentum, cfg->lr, batch, res->epochs, res->steps, loss);
    if (res->stopped == TDL_STOP_TARGET) /* say why it ran fewer epochs than asked */
        printf("stopped      at the target (%s) after %zu of %zu %s\n",
               !isnan(cfg->target_loss) && res->loss <= cfg->target_loss ? "train loss <= --target-loss" : "train accuracy >= --target-acc",
               cfg->steps ? res->steps : res->epochs, cfg->steps ? cfg->steps : cfg->epochs, cfg->steps ? "steps" : "epochs");
    printf("train loss   %.6g%s\n", res->loss, cfg->epochs == 0 && cfg->steps == 0 ? " (of the initialization)" : "");
    if (ds->classes) printf("train acc.   %.4f\n", res->accuracy);
    if (ts) {
        printf("test loss    %.6g\n", test_loss);
        if (ts->classes) printf("test acc.    %.4f\n", test_acc);
    }
    if (lg->sharp) {
        sharp_summary s = summarize_sharpness(lg);
        const size_t C = SHARP_COLS(lg);
        const char *meaning;
        double thr = sharpness_threshold(cfg, B, ds->n, &meaning);
        if (s.first_row >= 0)
            printf("sharpness    lambda_1 (top Hessian eigenvalue) %.6g at step %.0f (first), max %.6g at step %.0f, %.6g at step %.0f (last)\n",
                   lg->sharp_rows[s.first_row * C], lg->rows[s.first_row * LOG_COLS + 1], lg->sharp_rows[s.max_row * C],
                   lg->rows[s.max_row * LOG_COLS + 1], lg->sharp_rows[s.last_row * C], lg->rows[s.last_row * LOG_COLS + 1]);
        /* a step is an evaluation only for full-batch runs with --eval-every 1 */
        const int each_step = B == ds->n && cfg->eval_every == 1;
        printf("             top-%zu by Lanczos %s %zu steps%s: %zu point%s, %zu Hessian-vector products, error bounds <= %.2g%s\n",
               lg->sharp_k, each_step ? "every" : "at evaluations (--eval-every) at least", lg->sharp_every, each_step ? "" : " apart", s.points, s.points == 1 ? "" : "s",
               s.matvecs, s.bound_max,
               lg->weight_decay > 0 ? " (weight decay added: loss + wd/2 ||theta||^2)" : "");
        if (isfinite(thr)) printf("             threshold %.6g = %s\n", thr, meaning);
        else printf("             %s\n", meaning);
    }
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    cli_set_threads(o.threads);

    int st;
    tdl_dataset *ds = NULL, *ts = NULL;
    tdl_mlp *m = NULL;
    train_log lg = {0};
    gsl_matrix_view drift_view;
    if ((rc = load(&o, &ds, &ts, &m, &lg, &drift_view)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    tdl_train_result res;
    double seconds;
    st = run(&o, m, ds, &lg, &res, &seconds);
    if (st == TDL_EDIVERGED) {
        rc = emit_diverged(&o, m, ds, ts, &lg, &res, seconds);
        goto cleanup;
    }
    if (st != TDL_OK) {
        rc = lg.failed == 1 ? cli_failf("out of memory keeping the training log") : lg.failed == 2 ? cli_fail(TDL_ENOMEM)
           : lg.failed == 3 ? cli_failf("--log-sharpness %s", lg.sharp_msg) : cli_fail(st);
        goto cleanup;
    }
    double test_loss = NAN, test_acc = NAN;
    if (lg.n_rows) {
        test_loss = lg.rows[(lg.n_rows - 1) * LOG_COLS + 7];
        test_acc = lg.rows[(lg.n_rows - 1) * LOG_COLS + 8];
    }
    char arch[256], act[64];
    tdl_arch_format(m, arch, sizeof arch);
    tdl_act_format(&m->act, act, sizeof act);
    if ((st = emit_files(&o, m, ds, ts, &lg, &res, arch, act)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (o.as_json) put_json(&o.mo, o.out, NULL, m, arch, act, ds, ts, &o.cfg, o.to.opt_text, &res, seconds, test_loss, test_acc, &lg);
    else emit_text(&o, m, ds, ts, &res, arch, act, test_loss, test_acc, &lg);
    rc = 0;
cleanup:
    free(lg.rows);
    free(lg.snapshots);
    free(lg.sharp_rows);
    tdl_sharpness_tracker_free(&lg.sharp);
    tdl_net_work_free(&lg.test_work);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    tdl_dataset_free(&ts);
    return rc;
}
