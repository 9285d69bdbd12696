/* cmd_sweep.c — `tdl sweep width|samples|label-noise|params`: train a
 * family of nets (tdl/sweep.h), tabulate train / test error and every
 * measure of the bounds table against the swept value, and rank the
 * measures by how well they track the generalization gap (Kendall tau,
 * Jiang et al. 2020).  `params` fits random-features regressions instead of
 * training (the double-descent curve) and marks the interpolation
 * threshold p = n in every output.
 *
 * The training options repeat those of `tdl train` (same names, defaults and
 * checks); cmd_train.c keeps its parsing private, so the switch below is a
 * copy of its training cases.
 *
 * Under mpirun (dist_cli.h) every rank parses and loads, the runs are dealt
 * over the ranks (tdl_dist_sweep_run_all: every rank ends with every run),
 * and rank 0 alone checks and writes the outputs and prints. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "modelopts.h"
#include "trainopts.h"
#include "plot.h"
#include "dist_cli.h"

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_JSON, OPT_THREADS, OPT_QUIET, OPT_VALUES,
    OPT_REPEATS, OPT_PLOT, OPT_NO_MEASURES, OPT_FLATNESS, OPT_PCT, OPT_DELTA, OPT_SUCCESS, OPT_OUTPUT_ONES,
    OPT_RIDGE
};

typedef struct progress_state { int show; } progress_state;

typedef struct sweep_opts {
    cli_model_opts mo;
    cli_train_opts to;
    tdl_sweep_config cfg;      /* cfg.values: owned (tdl_sweep_values_parse) */
    const char *data, *test, *out_dir, *plot, *values_text;
    double *values;            /* = cfg.values, owned */
    int as_json, quiet, ridge_given;
    size_t threads;
} sweep_opts;

static int on_run(const tdl_sweep_progress *p, void *user)
{
    progress_state *ps = user;
    if (ps->show) {
        fprintf(stderr, "\rtdl sweep: run %zu/%zu  value %g  repeat %zu  train loss %.4g", p->index + 1, p->total, p->value,
                p->repeat, p->train_loss);
        if (!isnan(p->train_error)) fprintf(stderr, "  train error %.4f", p->train_error);
        if (!isnan(p->test_error)) fprintf(stderr, "  test error %.4f", p->test_error);
        fprintf(stderr, "  (%.2f s)   ", p->seconds);
        fflush(stderr);
    }
    return 0;
}

/* "dir/name" into buf; 0 when it fits. */
static int join_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len;
}

static void csv_num(FILE *fp, double v)
{
    if (isfinite(v)) fprintf(fp, ",%.17g", v);
    else fputc(',', fp);
}

static int write_csv(const char *path, const tdl_sweep_config *cfg, const tdl_sweep_result *r)
{
    tdl_atomic_file af;
    int st = tdl_atomic_begin(path, &af);
    if (st != TDL_OK) return st;
    FILE *fp = af.fp;
    /* Column names are unique: the swept value is "sweep_<kind>" (a width
     * sweep also has the net's "width" column) and every measure is
     * "measure_<name>" (the measure "params" beside the net's "params"). */
    fprintf(fp, "sweep_%s,repeat,init_seed,train_seed,width,n_train,params,epochs,steps,diverged,reached_target,success,"
            "train_loss,train_error,test_loss,test_error,gap,seconds", tdl_sweep_kind_name(cfg->kind));
    const int rf = cfg->kind == TDL_SWEEP_PARAMS;
    if (rf) fprintf(fp, ",coefficients,rank,cond,coef_norm,interpolation_threshold");
    for (size_t j = 0; j < r->n_measures; j++) fprintf(fp, ",measure_%s", r->measure_names[j]);
    fputc('\n', fp);
    for (size_t i = 0; i < r->n_runs; i++) {
        const tdl_sweep_run *u = &r->runs[i];
        fprintf(fp, "%.17g,%zu,%lu,%lu,%zu,%zu,%zu,%zu,%zu,%d,%d,%d", u->value, u->repeat, u->init_seed, u->train_seed,
                u->width, u->n_train, u->params, u->epochs, u->steps, u->diverged, u->reached_target, u->success);
        csv_num(fp, u->train_loss);
        csv_num(fp, u->train_error);
        csv_num(fp, u->test_loss);
        csv_num(fp, u->test_error);
        csv_num(fp, u->gap);
        csv_num(fp, u->seconds);
        if (rf) {
            fprintf(fp, ",%zu,%zu", u->coefficients, u->rank);
            if (isinf(u->cond)) fputs(",inf", fp); else csv_num(fp, u->cond);
            csv_num(fp, u->coef_norm);
            csv_num(fp, r->threshold);
        }
        for (size_t j = 0; j < r->n_measures; j++) csv_num(fp, u->measure_values[j]);
        fputc('\n', fp);
    }
    return tdl_atomic_commit(&af);
}

static void json_stat(json_writer *w, const char *key, tdl_sweep_stat s)
{
    json_object_begin(w, key);
    const char *none = "no run with a finite value at this value";
    json_number_or_reason(w, "mean", s.mean, none);
    json_number_or_reason(w, "std", s.std, "fewer than 2 runs with a finite value at this value");
    json_number_or_reason(w, "min", s.min, none);
    json_number_or_reason(w, "max", s.max, none);
    json_object_end(w);
}

/* The value index of the largest mean test loss (the double-descent peak);
 * r->count when there is no test loss. */
static size_t test_loss_peak(const tdl_sweep_result *r)
{
    size_t best = r->count;
    double top = -INFINITY;
    for (size_t v = 0; r->has_test && v < r->count; v++) {
        double m = tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, test_loss)).mean;
        if (isfinite(m) && m > top) { top = m; best = v; }
    }
    return best;
}

static double success_fraction(const tdl_sweep_result *r, size_t v)
{
    size_t k = 0;
    for (size_t i = 0; i < r->repeats; i++) k += (size_t)r->runs[v * r->repeats + i].success;
    return (double)k / (double)r->repeats;
}

static void write_json(json_writer *w, const tdl_sweep_config *cfg, const tdl_sweep_result *r, const tdl_dataset *ds,
                       const tdl_dataset *ts, const char *arch, const char *act, const char *opt_text)
{
    json_object_begin(w, NULL);
    json_string(w, "kind", tdl_sweep_kind_name(cfg->kind));
    json_string(w, "data", ds->spec);
    json_size(w, "n", ds->n);
    if (ts) { json_string(w, "test", ts->spec); json_size(w, "test_n", ts->n); }
    json_string(w, "arch", arch);
    json_string(w, "activation", act);
    json_number_array(w, "values", cfg->values, cfg->count, 1);
    json_size(w, "repeats", cfg->repeats);
    json_string(w, "loss_name", tdl_loss_name(cfg->train.loss));
    json_string(w, "reduction", "mean");
    json_string(w, "gap_definition", r->classification ? "test_error - train_error (0-1)" : "test_loss - train_loss (mean)");
    json_string(w, "seeds", "repeat r: init seed --seed + r, minibatch seed --train-seed + r (the same for every value)");
    const int rf = cfg->kind == TDL_SWEEP_PARAMS;
    if (!rf) {
        json_object_begin(w, "training");
        json_string(w, "optimizer", opt_text);
        json_number(w, "lr", cfg->train.lr);
        json_number(w, "momentum", cfg->train.momentum);
        json_size(w, "batch", cfg->train.batch);
        json_size(w, "epochs", cfg->train.epochs);
        json_size(w, "steps", cfg->train.steps);
        if (!isnan(cfg->train.target_loss)) json_number(w, "target_loss", cfg->train.target_loss);
        if (!isnan(cfg->train.target_accuracy)) json_number(w, "target_accuracy", cfg->train.target_accuracy);
        json_object_end(w);
    }
    if (!isnan(cfg->success_loss)) json_number(w, "success_loss", cfg->success_loss);
    json_bool(w, "output_ones", cfg->output_ones);
    if (rf) {
        json_object_begin(w, "fit");
        json_string(w, "method", "random-features regression: first layer random and frozen, last layer by minimum-norm "
                                 "ridge least squares on the mse targets (SVD; tdl_rf_fit)");
        json_number(w, "ridge", cfg->ridge);
        json_string(w, "ridge_definition", "minimizes (1/n) ||Y - A B||^2 + ridge ||B||^2 (Hastie et al. 2022, eq. (4))");
        json_string(w, "rank_tolerance", "singular values <= max(n, q) * DBL_EPSILON * s_max count as zero (ridge 0)");
        json_object_end(w);
        json_number(w, "interpolation_threshold", r->threshold);
        json_string(w, "interpolation_threshold_definition",
                    "the value p (random features) at which the coefficients per output q (p, + 1 with a last-layer bias) equal n");
    }
    json_array_begin(w, "runs");
    for (size_t i = 0; i < r->n_runs; i++) {
        const tdl_sweep_run *u = &r->runs[i];
        json_object_begin(w, NULL);
        json_number(w, "value", u->value);
        json_size(w, "repeat", u->repeat);
        json_size(w, "init_seed", u->init_seed);
        json_size(w, "train_seed", u->train_seed);
        if (cfg->kind == TDL_SWEEP_WIDTH) json_size(w, "width", u->width);
        json_size(w, "n_train", u->n_train);
        json_size(w, "params", u->params);
        json_size(w, "epochs", u->epochs);
        json_size(w, "steps", u->steps);
        json_bool(w, "diverged", u->diverged);
        json_bool(w, "reached_target", u->reached_target);
        json_bool(w, "success", u->success);
        json_number(w, "train_loss", u->train_loss);
        if (r->classification) json_number(w, "train_error", u->train_error);
        if (r->has_test) {
            json_number(w, "test_loss", u->test_loss);
            if (r->classification) json_number(w, "test_error", u->test_error);
            json_number(w, "gap", u->gap);
        }
        json_number(w, "seconds", u->seconds);
        if (rf) {
            json_size(w, "coefficients", u->coefficients);
            json_size(w, "rank", u->rank);
            json_number_or_reason(w, "cond", u->cond, "the feature matrix is singular (a zero singular value)");
            json_number(w, "coef_norm", u->coef_norm);
        }
        json_object_begin(w, "measures");
        for (size_t j = 0; j < r->n_measures; j++)
            json_number_or_reason(w, r->measure_names[j], u->measure_values[j],
                                  "not available for this run (its theorem does not apply; 'tdl bounds' on that net says why)");
        json_object_end(w);
        json_object_end(w);
    }
    json_array_end(w);
    json_string(w, "measures_null_reason", "null: the measure is not available for that run (its theorem does not apply; "
                                           "'tdl bounds' on that net says why)");
    json_array_begin(w, "summary");
    for (size_t v = 0; v < r->count; v++) {
        json_object_begin(w, NULL);
        json_number(w, "value", cfg->values[v]);
        json_stat(w, "train_loss", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, train_loss)));
        if (r->classification) json_stat(w, "train_error", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, train_error)));
        if (r->has_test) {
            json_stat(w, "test_loss", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, test_loss)));
            if (r->classification) json_stat(w, "test_error", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, test_error)));
            json_stat(w, "gap", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, gap)));
        }
        if (!isnan(cfg->success_loss)) json_number(w, "success_fraction", success_fraction(r, v));
        json_object_end(w);
    }
    json_array_end(w);
    if (rf && r->has_test) {
        size_t pk = test_loss_peak(r);
        json_object_begin(w, "test_loss_peak");
        if (pk < r->count) {
            json_number(w, "value", cfg->values[pk]);
            json_number(w, "mean", tdl_sweep_summary(r, pk, offsetof(tdl_sweep_run, test_loss)).mean);
        }
        json_string(w, "definition", "the swept value with the largest mean test loss (the double-descent peak when the values "
                                     "bracket the threshold)");
        json_object_end(w);
    }
    json_array_begin(w, "correlations");
    for (size_t j = 0; j < r->n_measures; j++) {
        const tdl_sweep_correlation *c = &r->correlations[j];
        json_object_begin(w, NULL);
        json_string(w, "name", r->measure_names[j]);
        json_string(w, "source", r->measure_sources[j]);
        json_number(w, "tau", c->tau);
        if (isnan(c->tau)) json_string(w, "tau_reason", r->has_test ? "fewer than 2 runs with the measure, or a constant column" : "no test data: no gap");
        json_number(w, "granulated_tau", c->granulated_tau);
        if (isnan(c->granulated_tau)) json_string(w, "granulated_tau_reason", "no repeat with a defined tau across the values");
        json_size(w, "n", c->n);
        json_object_end(w);
    }
    json_array_end(w);
    json_string(w, "correlation_definition", "Kendall tau-b of the measure with the gap over all runs; granulated: tau-b across "
                                             "values within each repeat, averaged over repeats (Jiang et al. 2020, eq. (3)-(5))");
    if (cli_dist_active()) json_size(w, "mpi_ranks", tdl_dist_size()); /* under mpirun: the runs dealt over them */
    json_number(w, "seconds", r->seconds);
    json_object_end(w);
}

/* The main figure: errors (or losses, or the success fraction) against the value. */
static int plot_main(const char *path, const tdl_sweep_config *cfg, const tdl_sweep_result *r, const char *caption)
{
    const size_t V = r->count, R = r->repeats;
    double *x = malloc(V * sizeof(double)), *buf = malloc(6 * V * sizeof(double));
    double *ptx = malloc(V * R * sizeof(double)), *pty = malloc(2 * V * R * sizeof(double));
    if (!x || !buf || !ptx || !pty) { free(x); free(buf); free(ptx); free(pty); return tdl_error_set(TDL_ENOMEM, "out of memory for the figure"); }
    memcpy(x, cfg->values, V * sizeof(double));
    plot_series s[5];
    size_t ns = 0;
    int logy = 0;
    double lx[2], ly[2];
    const char *ylabel;
    if (!isnan(cfg->success_loss)) {
        for (size_t v = 0; v < V; v++) buf[v] = success_fraction(r, v);
        s[ns++] = (plot_series){"fraction of runs with train loss < epsilon", x, buf, V, PLOT_LINESPOINTS};
        ylabel = "success fraction";
    } else {
        size_t ftrain = r->classification ? offsetof(tdl_sweep_run, train_error) : offsetof(tdl_sweep_run, train_loss);
        size_t ftest = r->classification ? offsetof(tdl_sweep_run, test_error) : offsetof(tdl_sweep_run, test_loss);
        for (size_t v = 0; v < V; v++) {
            buf[v] = tdl_sweep_summary(r, v, ftrain).mean;
            buf[V + v] = tdl_sweep_summary(r, v, ftest).mean;
        }
        /* every run as a point: the spread over repeats */
        for (size_t i = 0; i < V * R; i++) {
            double a, b;
            ptx[i] = r->runs[i].value;
            memcpy(&a, (const char *)&r->runs[i] + ftrain, sizeof a);
            memcpy(&b, (const char *)&r->runs[i] + ftest, sizeof b);
            pty[i] = a;
            pty[V * R + i] = b;
        }
        s[ns++] = (plot_series){r->classification ? "train error (mean over repeats)" : "train loss (mean)", x, buf, V, PLOT_LINESPOINTS};
        s[ns++] = (plot_series){"train, each run", ptx, pty, V * R, PLOT_POINTS};
        if (r->has_test) {
            s[ns++] = (plot_series){r->classification ? "test error (mean over repeats)" : "test loss (mean)", x, buf + V, V, PLOT_LINESPOINTS};
            s[ns++] = (plot_series){"test, each run", ptx, pty + V * R, V * R, PLOT_POINTS};
        }
        ylabel = r->classification ? "0-1 error" : "loss (mean)";
        logy = !r->classification && plot_spans_decades(pty, V * R, 2.0);
        if (cfg->kind == TDL_SWEEP_PARAMS && !r->classification) {
            /* interpolating fits have train loss at rounding level (~1e-30):
             * not drawn, or the log axis would be all rounding noise */
            double top = 0;
            for (size_t i = 0; i < (r->has_test ? 2 : 1) * V * R; i++) if (isfinite(pty[i])) top = fmax(top, pty[i]);
            for (size_t i = 0; i < V * R; i++) if (pty[i] < 1e-12 * top) pty[i] = NAN;
            for (size_t v = 0; v < V; v++) if (buf[v] < 1e-12 * top) buf[v] = NAN;
        }
        /* a params sweep: the test loss (mse) is the double-descent curve; its
         * interpolation fits reach train loss ~ 1e-30, so log y whenever the
         * points span decades */
        if (cfg->kind == TDL_SWEEP_PARAMS && !r->classification) logy = plot_spans_decades(pty, (r->has_test ? 2 : 1) * V * R, 2.0);
        if (logy)
            for (size_t i = 0; i < 2 * V * R; i++) if (!(pty[i] > 0)) pty[i] = NAN;
        if (cfg->kind == TDL_SWEEP_PARAMS && isfinite(r->threshold)) {
            /* the interpolation threshold p = n: a vertical line over the plotted range */
            double lo = INFINITY, hi = -INFINITY;
            for (size_t i = 0; i < (r->has_test ? 2 : 1) * V * R; i++)
                if (isfinite(pty[i]) && (!logy || pty[i] > 0)) { lo = fmin(lo, pty[i]); hi = fmax(hi, pty[i]); }
            if (lo <= hi) {
                lx[0] = lx[1] = r->threshold;
                ly[0] = lo;
                ly[1] = hi;
                s[ns++] = (plot_series){"interpolation threshold (p = n coefficients per output)", lx, ly, 2, PLOT_DASHED};
            }
        }
    }
    char title[128];
    snprintf(title, sizeof title, "tdl sweep %s", tdl_sweep_kind_name(cfg->kind));
    plot_spec ps = {.title = title, .xlabel = tdl_sweep_kind_name(cfg->kind), .ylabel = ylabel, .caption = caption,
                    .logx = cfg->kind == TDL_SWEEP_PARAMS || (cfg->values[0] > 0 && plot_spans_decades(cfg->values, V, 1.0)),
                    .logy = logy, .series = s, .n_series = ns};
    if (cfg->kind == TDL_SWEEP_PARAMS) ps.xlabel = "random features p (hidden width; log scale)";
    int st = plot_render(path, &ps);
    free(x); free(buf); free(ptx); free(pty);
    return st;
}

/* Every measure with positive means at all values, over its value at the first. */
static int plot_measures(const char *path, const tdl_sweep_config *cfg, const tdl_sweep_result *r, const char *caption)
{
    const size_t V = r->count, M = r->n_measures;
    double *y = malloc((M ? M : 1) * V * sizeof(double));
    plot_series *s = malloc((M ? M : 1) * sizeof *s);
    char (*names)[48] = malloc((M ? M : 1) * sizeof *names);
    if (!y || !s || !names) { free(y); free(s); free(names); return tdl_error_set(TDL_ENOMEM, "out of memory for the figure"); }
    size_t ns = 0;
    for (size_t j = 0; j < M; j++) {
        int ok = 1;
        for (size_t v = 0; v < V && ok; v++) {
            double sum = 0;
            size_t n = 0;
            for (size_t k = 0; k < r->repeats; k++) {
                double a = r->runs[v * r->repeats + k].measure_values[j];
                if (isfinite(a)) { sum += a; n++; }
            }
            y[ns * V + v] = n ? sum / (double)n : NAN;
            ok = n > 0 && y[ns * V + v] > 0;
        }
        if (!ok) continue;
        double base = y[ns * V];
        for (size_t v = 0; v < V; v++) y[ns * V + v] /= base;
        snprintf(names[ns], sizeof names[ns], "%s", r->measure_names[j]);
        for (char *p = names[ns]; *p; p++) if (*p == '_') *p = '-';
        s[ns] = (plot_series){names[ns], cfg->values, y + ns * V, V, PLOT_LINESPOINTS};
        ns++;
    }
    int st = TDL_OK;
    if (ns) {
        plot_spec ps = {.title = "complexity measures (mean over repeats) / their value at the first point",
                        .xlabel = tdl_sweep_kind_name(cfg->kind), .ylabel = "relative value", .caption = caption,
                        .logx = cfg->values[0] > 0 && plot_spans_decades(cfg->values, V, 1.0), .logy = 1,
                        .series = s, .n_series = ns};
        st = plot_render(path, &ps);
    }
    free(y); free(s); free(names);
    return st;
}

static int check_figure_name(const char *plot)
{
    const char *dot = strrchr(plot, '.');
    return dot && (!strcmp(dot, ".png") || !strcmp(dot, ".svg") || !strcmp(dot, ".pdf"));
}

/* -1: go on; otherwise the exit code (usage printed).  On -1, o->values
 * is allocated (the caller frees it). */
static int parse_options(int argc, char **argv, sweep_opts *o)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        TRAIN_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, OPT_THREADS}, {"quiet", no_argument, NULL, OPT_QUIET},
        {"out", required_argument, NULL, 'o'}, {"values", required_argument, NULL, OPT_VALUES},
        {"repeats", required_argument, NULL, OPT_REPEATS}, {"plot", required_argument, NULL, OPT_PLOT},
        {"no-measures", no_argument, NULL, OPT_NO_MEASURES}, {"flatness", no_argument, NULL, OPT_FLATNESS},
        {"margin-percentile", required_argument, NULL, OPT_PCT}, {"delta", required_argument, NULL, OPT_DELTA},
        {"success-loss", required_argument, NULL, OPT_SUCCESS}, {"output-ones", no_argument, NULL, OPT_OUTPUT_ONES},
        {"ridge", required_argument, NULL, OPT_RIDGE},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    tdl_sweep_config_default(&o->cfg);
    tdl_sweep_config *cfg = &o->cfg;
    tdl_train_config *tc = &cfg->train;
    cli_train_opts_init(&o->to);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "sweep")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&o->mo, "sweep", c, optarg);
        if (r == 0) r = cli_train_opts_parse(&o->to, "sweep", c, optarg, cli_option_name(opts, c));
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case 'o': o->out_dir = optarg; break;
        case OPT_VALUES: o->values_text = optarg; break;
        case OPT_REPEATS: bad = cli_parse_size(optarg, 1, 100000, &cfg->repeats); break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_NO_MEASURES: cfg->measures = 0; break;
        case OPT_FLATNESS: cfg->bounds.flatness = 1; break;
        case OPT_PCT: bad = cli_parse_double(optarg, &cfg->bounds.margin_percentile) || !(cfg->bounds.margin_percentile >= 0 && cfg->bounds.margin_percentile <= 100); break;
        case OPT_DELTA: bad = cli_parse_double(optarg, &cfg->bounds.delta) || !(cfg->bounds.delta > 0 && cfg->bounds.delta < 1); break;
        case OPT_SUCCESS: bad = cli_parse_double(optarg, &cfg->success_loss) || !(cfg->success_loss > 0) || !isfinite(cfg->success_loss); break;
        case OPT_OUTPUT_ONES: cfg->output_ones = 1; break;
        case OPT_RIDGE: bad = cli_parse_double(optarg, &cfg->ridge) || !(cfg->ridge >= 0) || !isfinite(cfg->ridge); o->ridge_given = 1; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        default: return cli_bad_option("sweep", argv, optopt);
        }
        if (bad) return cli_usage("sweep", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind >= argc) return cli_usage("sweep", "give what to sweep: width, samples, label-noise or params");
    if (tdl_sweep_kind_parse(argv[optind], &cfg->kind) != TDL_OK) return cli_usage("sweep", "%s", tdl_errmsg());
    if (o->ridge_given && cfg->kind != TDL_SWEEP_PARAMS)
        return cli_usage("sweep", "--ridge is the ridge of a params sweep's least-squares fit; a %s sweep trains by gradient methods "
                         "(use --weight-decay)", tdl_sweep_kind_name(cfg->kind));
    if (cfg->kind == TDL_SWEEP_PARAMS && cfg->output_ones)
        return cli_usage("sweep", "--output-ones: a params sweep fits the last layer by least squares; it cannot be fixed to 1");
    if (optind + 1 < argc) return cli_usage("sweep", "unexpected argument '%s'", argv[optind + 1]);
    if (!o->data) return cli_usage("sweep", "--data SPEC is required");
    if (o->mo.model) return cli_usage("sweep", "a sweep trains fresh nets: give --arch (e.g. --arch 64-W-10), not --model");
    if (!o->mo.arch) return cli_usage("sweep", "--arch A is required (e.g. --arch 64-W-10 for a width sweep)");
    /* the sweep's nets are built and trained inside tdl_sweep under tdl's
     * default convention: say so rather than ignore the options */
    if (o->mo.reduction || o->mo.mse_convention)
        return cli_usage("sweep", "%s: a sweep trains and reports under tdl's default loss convention (mean; mse with its 1/2)",
                         o->mo.reduction ? "--reduction" : "--loss mse:CONVENTION");
    if (!o->values_text) return cli_usage("sweep", "--values LIST is required (e.g. 4,8,16 or 4:4096:x2)");
    if (o->plot && !check_figure_name(o->plot)) return cli_usage("sweep", "--plot %s: expected a .png, .svg or .pdf file", o->plot);
    if (cli_train_opts_finish(&o->to, "sweep", o->mo.seed) != 0) return EXIT_USAGE;
    *tc = o->to.cfg;
    if (tc->opt == TDL_OPT_GD) tc->batch = 0;
    if (cfg->kind == TDL_SWEEP_PARAMS && (o->to.lr_given || o->to.momentum_given || o->to.epochs_given))
        return cli_usage("sweep", "%s: a params sweep fits the last layer by least squares and trains nothing",
                         o->to.lr_given ? "--lr" : o->to.momentum_given ? "--momentum" : "--epochs");

    /* The architecture template: "W" fields are the swept width. */
    size_t n_slots = 0;
    tdl_mlp_config arch_cfg;
    tdl_mlp_config_default(&arch_cfg);
    if (tdl_sweep_arch(o->mo.arch, &arch_cfg, cfg->width_slot, &n_slots) != TDL_OK) return cli_usage("sweep", "%s", tdl_errmsg());
    if (n_slots && cfg->kind != TDL_SWEEP_WIDTH && cfg->kind != TDL_SWEEP_PARAMS)
        return cli_usage("sweep", "--arch %s: W placeholders are for width sweeps; give numbers for a %s sweep", o->mo.arch,
                         tdl_sweep_kind_name(cfg->kind));
    double *values = NULL;
    /* the library's "values TEXT: why" names the option here: "--values TEXT: why" */
    if (tdl_sweep_values_parse(o->values_text, &values, &cfg->count) != TDL_OK) return cli_usage("sweep", "--%s", tdl_errmsg());
    cfg->values = o->values = values;
    return -1;
}

/* The template net (W = 1) goes through the shared model options, so that
 * --act, --init, --param, --sigma-w/-b, --bias, --freeze and --seed mean
 * what they mean everywhere; its config is then read back into cfg.net.
 * Returns an exit code. */
static int build_template(sweep_opts *o, tdl_mlp **tmpl)
{
    const cli_model_opts *mo = &o->mo;
    char resolved[1024];
    size_t k = 0;
    for (size_t i = 0; mo->arch[i] && k + 2 < sizeof resolved; i++) {
        int starts = i == 0 || mo->arch[i - 1] == '-', ends = !mo->arch[i + 1] || mo->arch[i + 1] == '-';
        resolved[k++] = ((mo->arch[i] == 'W' || mo->arch[i] == 'w') && starts && ends) ? '1' : mo->arch[i];
    }
    resolved[k] = '\0';
    cli_model_opts mo1 = *mo;
    mo1.arch = resolved;
    int rc = cli_model_build(&mo1, "sweep", tmpl);
    if (rc != 0) return rc;
    const tdl_mlp *t = *tmpl;
    tdl_mlp_config *nc = &o->cfg.net;
    tdl_mlp_config_default(nc);
    nc->depth = t->depth;
    for (size_t l = 0; l < t->depth; l++) {
        nc->widths[l] = t->layers[l].in;
        nc->trainable[l] = t->layers[l].trainable;
    }
    nc->widths[t->depth] = t->layers[t->depth - 1].out;
    nc->act = t->act;
    nc->param = t->param;
    nc->sigma_w = mo->sigma_w; /* NaN: the init's default, resolved per net */
    nc->sigma_b = mo->sigma_b;
    nc->bias = mo->bias;
    nc->seed = mo->seed;
    const char *init = tdl_tensors_meta(t->meta, "init");
    if (init && tdl_init_parse(init, &nc->init) != TDL_OK) return cli_fail(TDL_EINVAL);
    return 0;
}

/* No output overwrites an input or another; every output writable before
 * any work starts (--out DIR is created).  Returns an exit code. */
static int prepare_outputs(const sweep_opts *o)
{
    char path[4096];
    int st;
    char csv_path[4096] = "", json_path[4096] = "";
    if (o->out_dir && (join_path(csv_path, sizeof csv_path, o->out_dir, "sweep.csv") || join_path(json_path, sizeof json_path, o->out_dir, "sweep.json")))
        return cli_failf("--out %s: path too long", o->out_dir);
    const cli_file ins[] = {{"--data", o->data, CLI_FILE_SPEC, NULL}, {"--test", o->test, CLI_FILE_SPEC, NULL}};
    const cli_file outs[] = {{"--out", o->out_dir ? csv_path : NULL, CLI_FILE_PATH, NULL}, {"--out", o->out_dir ? json_path : NULL, CLI_FILE_PATH, NULL},
                             {"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
    if (cli_check_outputs("sweep", ins, 2, outs, 3) != 0) return EXIT_WORK_FAILED;
    if (o->out_dir) {
        if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) return cli_failf("--out %s: cannot create the directory: %s", o->out_dir, strerror(errno));
        const char *names[2] = {"sweep.csv", "sweep.json"};
        for (int k = 0; k < 2; k++) {
            tdl_atomic_file probe;
            if (join_path(path, sizeof path, o->out_dir, names[k])) return cli_failf("--out %s: path too long", o->out_dir);
            if ((st = tdl_atomic_begin(path, &probe)) != TDL_OK) return cli_fail(st);
            tdl_atomic_abort(&probe);
        }
    }
    if (o->plot) {
        tdl_atomic_file probe;
        if ((st = tdl_atomic_begin(o->plot, &probe)) != TDL_OK) return cli_fail(st);
        tdl_atomic_abort(&probe);
    }
    return 0;
}

/* The data, the CLI's checks, then tdl_sweep_run_all.  Returns an exit code. */
static int run(sweep_opts *o, const tdl_mlp *tmpl, tdl_dataset **dsp, tdl_dataset **tsp, tdl_sweep_result *res)
{
    tdl_sweep_config *cfg = &o->cfg;
    int rc, st;
    if ((st = cli_load_data(o->data, dsp)) != TDL_OK) return cli_fail(st);
    if (o->test && (st = cli_load_data(o->test, tsp)) != TDL_OK) return cli_fail(st);
    const tdl_dataset *ds = *dsp, *ts = *tsp;
    if (ds->d != cfg->net.widths[0])
        return cli_failf("--arch %s takes %zu inputs; the data %s have %zu features", o->mo.arch, cfg->net.widths[0], ds->spec, ds->d);
    cli_model_opts mo = o->mo;
    if (cfg->kind == TDL_SWEEP_PARAMS) {
        /* random-features regression is least squares: mse, whatever the data */
        if (mo.loss && strcmp(mo.loss, "mse") != 0)
            return cli_usage("sweep", "--loss %s: a params sweep fits random features by least squares (loss mse)", mo.loss);
        mo.loss = "mse";
        if (tmpl->depth != 2)
            return cli_usage("sweep", "--arch %s: a params sweep needs one hidden layer, d-W-C (W: the number of random features)",
                             o->mo.arch);
    }
    if ((rc = cli_model_loss(&mo, "sweep", tmpl, ds, &cfg->train.loss)) != 0) return rc;
    if (ts && cli_check_test(o->test, cfg->train.loss, tmpl, ts) != 0) return EXIT_WORK_FAILED;
    if ((rc = cli_dist_ready(0)) != 0) return rc; /* under mpirun: every rank has loaded (dist_cli.h) */
    progress_state ps = {!o->quiet && isatty(2) && cli_dist_root()};
    cfg->callback = on_run;
    cfg->user = &ps;
    /* under mpirun the runs are dealt over the ranks; progress in run order */
    st = tdl_dist_sweep_run_all(cfg, ds, ts, res);
    if (ps.show) fputc('\n', stderr);
    return st != TDL_OK ? cli_fail(st) : 0;
}

/* --out DIR (sweep.csv, sweep.json, figures) and --plot. */
static int emit_files(const sweep_opts *o, const tdl_sweep_result *res, const json_writer *jw, const char *caption)
{
    const tdl_sweep_config *cfg = &o->cfg;
    char path[4096];
    int st;
    if (o->out_dir) {
        if (join_path(path, sizeof path, o->out_dir, "sweep.csv") == 0 && (st = write_csv(path, cfg, res)) != TDL_OK) return st;
        if (join_path(path, sizeof path, o->out_dir, "sweep.json") == 0 && (st = tdl_write_file_atomic(path, jw->buf, jw->len)) != TDL_OK) return st;
        if (join_path(path, sizeof path, o->out_dir, "sweep.png") == 0 && (st = plot_main(path, cfg, res, caption)) != TDL_OK) return st;
        if (res->n_measures && join_path(path, sizeof path, o->out_dir, "measures.png") == 0 &&
            (st = plot_measures(path, cfg, res, caption)) != TDL_OK) return st;
    }
    if (o->plot && (st = plot_main(o->plot, cfg, res, caption)) != TDL_OK) return st;
    return TDL_OK;
}

static void emit_text(const sweep_opts *o, const tdl_sweep_result *r, const tdl_dataset *ds, const tdl_dataset *ts,
                      const char *act)
{
    const tdl_sweep_config *cfg = &o->cfg;
    const int cls = r->classification;
    printf("sweep %s: data %s (n = %zu)%s%s, net %s (%s), %zu values x %zu repeats, %.1f s", tdl_sweep_kind_name(cfg->kind),
           ds->spec, ds->n, ts ? ", test " : "", ts ? ts->spec : "", o->mo.arch, act, cfg->count, cfg->repeats, r->seconds);
    if (cli_dist_active()) printf(", runs dealt over %zu MPI ranks", tdl_dist_size());
    printf("\n");
    const int rf = cfg->kind == TDL_SWEEP_PARAMS;
    if (rf) {
        printf("fit: random features (first layer random, frozen), last layer by minimum-norm least squares (SVD), ridge %g, "
               "loss mse (mean)\n", cfg->ridge);
        printf("interpolation threshold: p = %g (coefficients per output = n = %zu)%s\n\n", r->threshold, ds->n,
               r->runs[0].coefficients > r->runs[0].width ? ", the last layer's bias counted" : "");
    } else {
        printf("training: %s, lr %g, batch %zu, %zu epochs, loss %s (mean)\n\n", o->to.opt_text, cfg->train.lr, cfg->train.batch, cfg->train.epochs,
               tdl_loss_name(cfg->train.loss));
    }
    printf("%12s %10s %12s %21s", rf ? "features p" : tdl_sweep_kind_name(cfg->kind), "params", "train loss", cls ? "train error" : "");
    if (ts) printf(" %21s %21s", cls ? "test error" : "test loss", "gap");
    if (!isnan(cfg->success_loss)) printf(" %9s", "success");
    if (rf) printf(" %6s %10s  %s", "rank", "cond", ts && cls ? "test loss (mse)" : "");
    printf("\n");
    const size_t peak = rf ? test_loss_peak(r) : r->count;
    for (size_t v = 0; v < cfg->count; v++) {
        tdl_sweep_stat tl = tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, train_loss));
        tdl_sweep_stat te = tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, train_error));
        printf("%12g %10zu %12.4g", cfg->values[v], r->runs[v * cfg->repeats].params, tl.mean);
        if (cls) printf("    %8.4f +- %-7.4f", te.mean, te.std);
        else printf(" %21s", "");
        if (ts) {
            tdl_sweep_stat tt = tdl_sweep_summary(r, v, cls ? offsetof(tdl_sweep_run, test_error) : offsetof(tdl_sweep_run, test_loss));
            tdl_sweep_stat g = tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, gap));
            printf("    %8.4g +- %-7.3g    %8.4g +- %-7.3g", tt.mean, tt.std, g.mean, g.std);
        }
        if (!isnan(cfg->success_loss)) printf(" %9.3f", success_fraction(r, v));
        if (rf) {
            const tdl_sweep_run *u = &r->runs[v * cfg->repeats];
            printf(" %6zu %10.3g", u->rank, u->cond);
            if (ts && cls) printf("  %.4g", tdl_sweep_summary(r, v, offsetof(tdl_sweep_run, test_loss)).mean);
            if (cfg->values[v] == r->threshold) printf("  <- p = n (interpolation threshold)");
            if (v == peak) printf("  <- largest test loss");
        }
        printf("\n");
    }
    if (rf) {
        printf("\n(params: the net's parameter count; rank and cond: of the n x q feature matrix of repeat 0; "
               "the fit interpolates the training set when q >= n at ridge 0)\n");
        if (ts && peak < r->count)
            printf("test loss peak at p = %g (threshold p = %g): mean test loss %.4g\n", cfg->values[peak], r->threshold,
                   tdl_sweep_summary(r, peak, offsetof(tdl_sweep_run, test_loss)).mean);
    }
    if (r->n_measures) {
        printf("\nrank correlation with the generalization gap (Kendall tau-b; granulated: within repeats, Jiang et al. 2020)\n");
        printf("%-34s %8s %12s %6s\n", "measure", "tau", "granulated", "runs");
        for (size_t j = 0; j < r->n_measures; j++) {
            const tdl_sweep_correlation *cr = &r->correlations[j];
            char t1[32], t2[32];
            if (isnan(cr->tau)) snprintf(t1, sizeof t1, "-"); else snprintf(t1, sizeof t1, "%.3f", cr->tau);
            if (isnan(cr->granulated_tau)) snprintf(t2, sizeof t2, "-"); else snprintf(t2, sizeof t2, "%.3f", cr->granulated_tau);
            printf("%-34s %8s %12s %6zu\n", r->measure_names[j], t1, t2, cr->n);
        }
        if (!ts) printf("(no --test data: no gap, no correlation)\n");
    }
    if (o->out_dir) printf("\nwrote %s/sweep.csv, sweep.json, sweep.png%s\n", o->out_dir, r->n_measures ? ", measures.png" : "");
}

int cmd_sweep(int argc, char **argv)
{
    sweep_opts o;
    if (cli_dist_begin() != 0) return EXIT_WORK_FAILED; /* under mpirun: rank 0 speaks (dist_cli.h) */
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return cli_dist_end(rc);
    int st;
    rc = EXIT_WORK_FAILED;
    tdl_dataset *ds = NULL, *ts = NULL;
    tdl_mlp *tmpl = NULL;
    tdl_sweep_result res = {0};
    json_writer jw = {0};
    int have_json = 0;
    if ((rc = build_template(&o, &tmpl)) != 0) goto cleanup;
    cli_set_threads(o.threads);
    if (cli_dist_root() && (rc = prepare_outputs(&o)) != 0) goto cleanup; /* rank 0 writes */
    if ((rc = run(&o, tmpl, &ds, &ts, &res)) != 0) goto cleanup;
    if (!cli_dist_root()) { rc = 0; goto cleanup; } /* rank 0 prints and writes */
    rc = EXIT_WORK_FAILED;

    const tdl_train_config *tc = &o.cfg.train;
    char act[64], caption[512];
    tdl_act_format(&o.cfg.net.act, act, sizeof act);
    if (o.cfg.kind == TDL_SWEEP_PARAMS)
        snprintf(caption, sizeof caption, "data %s; random features %s (%s), min-norm least squares, ridge %g%s; %zu repeats, seeds %lu+r",
                 ds->spec, o.mo.arch, act, o.cfg.ridge,
                 res.classification ? "" : "; train loss < 1e-12 x the top not drawn (interpolation)", o.cfg.repeats, o.cfg.net.seed);
    else
        snprintf(caption, sizeof caption, "data %s; net %s (%s); %s lr %g, %zu epochs, loss %s (mean); %zu repeats, seeds %lu+r",
                 ds->spec, o.mo.arch, act, o.to.opt_text, tc->lr, tc->epochs, tdl_loss_name(tc->loss), o.cfg.repeats, o.cfg.net.seed);
    if (json_open(&jw) != 0) { rc = cli_failf("out of memory"); goto cleanup; }
    have_json = 1;
    write_json(&jw, &o.cfg, &res, ds, ts, o.mo.arch, act, o.to.opt_text);
    if (fflush(jw.fp) != 0) { rc = cli_failf("out of memory for the JSON output"); goto cleanup; }
    if ((st = emit_files(&o, &res, &jw, caption)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (o.as_json) {
        have_json = 0;
        if (json_flush_stdout(&jw) != 0) { rc = cli_failf("cannot write to stdout"); goto cleanup; }
    } else {
        emit_text(&o, &res, ds, ts, act);
    }
    rc = 0;
cleanup:
    if (have_json) json_discard(&jw);
    tdl_sweep_result_free(&res);
    free(o.values);
    tdl_mlp_free(&tmpl);
    tdl_dataset_free(&ds);
    tdl_dataset_free(&ts);
    return cli_dist_end(rc); /* under mpirun: no rank left waiting (dist_cli.h) */
}
