/* cmd_bounds.c — `tdl bounds`: complexity measures and generalization bounds
 * of a model on its training data as one table (tdl/bounds.h), optionally
 * with Dziugaite and Roy's optimized PAC-Bayes certificate.
 *
 * parse_options (bounds_opts) -> run (library calls: tdl_bounds_compute,
 * tdl_margin_distribution, tdl_mlp_evaluate, tdl_dr_optimize, tdl_snn_error)
 * -> emit_plot, then emit_explain (--explain NAME), emit_json or emit_text.
 * Every row's ledger (kind, classifier, terms, hypotheses, fixed-scale value)
 * comes from the library (tdl_measure); this file only prints it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "plot.h"
#include "bounds_chart.h"

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_DELTA, OPT_PCT, OPT_NO_FLAT, OPT_FLAT_SAMPLES, OPT_MC, OPT_PB, OPT_PB_EPOCHS,
    OPT_PB_SAMPLES, OPT_PB_BATCH, OPT_PB_LR, OPT_PB_SIGMA, OPT_PB_PRIOR, OPT_PB_DELTA, OPT_PB_DELTA_PRIME,
    OPT_QUICK, OPT_BSEED, OPT_PB_OBJ, OPT_JSON, OPT_PLOT, OPT_THREADS, OPT_QUIET, OPT_NO_NTK, OPT_EXPLAIN
};

typedef struct bounds_opts {
    cli_model_opts mo;
    const char *data, *test, *plot, *explain;
    tdl_bounds_config bc;
    tdl_dr_config dc;
    int as_json, quiet, pb;
    size_t threads;
    double prior_std;
    unsigned long seed;
} bounds_opts;

typedef struct bounds_result {
    tdl_measure *v;        /* nv rows of the table (owned) */
    size_t nv;
    tdl_dr_result dr;      /* with have_dr */
    tdl_measure *dr_row;   /* the certificate as a row (owned), with have_dr */
    int have_dr;
    double chance;         /* 1 - 1/C */
    double mq[6];          /* margins: min, q1, median, q3, max, mean */
    double train_err, test_err, snn_test, dr_seconds, seconds;
} bounds_result;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int dr_progress(const tdl_dr_progress *p, void *user)
{
    (void)user;
    if (p->phase == 0)
        fprintf(stderr, "\rtdl bounds: PAC-Bayes optimization epoch %zu/%zu  objective %.5f  surrogate %.5f  KL %.1f  lambda %.3g   ",
                p->epoch, p->epochs, p->objective, p->surrogate, p->kl, p->lambda);
    else
        fprintf(stderr, "\rtdl bounds: certificate, sampled nets %zu/%zu  mean train error %.5f                          ",
                p->samples_done, p->samples, p->surrogate);
    fflush(stderr);
    return 0;
}

static void fmt(char *buf, size_t len, double v)
{
    if (isnan(v)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.6g", v);
}

/* -1: go on; otherwise the exit code (usage printed). */
static int parse_options(int argc, char **argv, bounds_opts *o)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA},
        {"test", required_argument, NULL, OPT_TEST},
        {"delta", required_argument, NULL, OPT_DELTA},
        {"margin-percentile", required_argument, NULL, OPT_PCT},
        {"no-flatness", no_argument, NULL, OPT_NO_FLAT},
        {"no-ntk", no_argument, NULL, OPT_NO_NTK},
        {"flat-samples", required_argument, NULL, OPT_FLAT_SAMPLES},
        {"mc-samples", required_argument, NULL, OPT_MC},
        {"pac-bayes-opt", no_argument, NULL, OPT_PB},
        {"pb-epochs", required_argument, NULL, OPT_PB_EPOCHS},
        {"pb-samples", required_argument, NULL, OPT_PB_SAMPLES},
        {"pb-batch", required_argument, NULL, OPT_PB_BATCH},
        {"pb-lr", required_argument, NULL, OPT_PB_LR},
        {"pb-sigma-init", required_argument, NULL, OPT_PB_SIGMA},
        {"pb-prior-std", required_argument, NULL, OPT_PB_PRIOR},
        {"pb-delta", required_argument, NULL, OPT_PB_DELTA},
        {"pb-delta-prime", required_argument, NULL, OPT_PB_DELTA_PRIME},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"pb-objective", required_argument, NULL, OPT_PB_OBJ},
        {"bound-seed", required_argument, NULL, OPT_BSEED},
        {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"explain", required_argument, NULL, OPT_EXPLAIN},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    tdl_bounds_config_default(&o->bc);
    tdl_dr_config_default(&o->dc);
    int quick = 0, c;
    int pb_epochs_set = 0, pb_samples_set = 0, flat_set = 0, mc_set = 0;
    o->prior_std = 0.05;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "bounds")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&o->mo, "bounds", c, optarg);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        double x;
        size_t z;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_DELTA:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0 && x < 1)) return cli_usage("bounds", "--delta %s: expected a number in (0, 1)", optarg);
            o->bc.delta = x;
            break;
        case OPT_PCT:
            if (cli_parse_double(optarg, &x) != 0 || !(x >= 0 && x <= 100)) return cli_usage("bounds", "--margin-percentile %s: expected a number in [0, 100]", optarg);
            o->bc.margin_percentile = x;
            break;
        case OPT_NO_FLAT: o->bc.flatness = 0; break;
        case OPT_NO_NTK: o->bc.ntk = 0; break;
        case OPT_FLAT_SAMPLES:
            if (cli_parse_size(optarg, 1, 100000, &z) != 0) return cli_usage("bounds", "--flat-samples %s: expected 1..100000", optarg);
            o->bc.flat_samples = z; flat_set = 1;
            break;
        case OPT_MC:
            if (cli_parse_size(optarg, 1, 100000000, &z) != 0) return cli_usage("bounds", "--mc-samples %s: expected 1..1e8", optarg);
            o->bc.mc_samples = z; mc_set = 1;
            break;
        case OPT_PB: o->pb = 1; break;
        case OPT_PB_EPOCHS:
            if (cli_parse_size(optarg, 1, 1000000, &z) != 0) return cli_usage("bounds", "--pb-epochs %s: expected 1..1e6", optarg);
            o->dc.epochs = z; pb_epochs_set = 1;
            break;
        case OPT_PB_SAMPLES:
            if (cli_parse_size(optarg, 1, 100000000, &z) != 0) return cli_usage("bounds", "--pb-samples %s: expected 1..1e8", optarg);
            o->dc.mc_samples = z; pb_samples_set = 1;
            break;
        case OPT_PB_BATCH:
            if (cli_parse_size(optarg, 1, 1000000, &z) != 0) return cli_usage("bounds", "--pb-batch %s: expected 1..1e6", optarg);
            o->dc.batch = z;
            break;
        case OPT_PB_LR:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0) || !isfinite(x)) return cli_usage("bounds", "--pb-lr %s: expected a positive number", optarg);
            o->dc.lr = x;
            break;
        case OPT_PB_SIGMA:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0) || !isfinite(x)) return cli_usage("bounds", "--pb-sigma-init %s: expected a positive number", optarg);
            o->dc.sigma_init = x;
            break;
        case OPT_PB_PRIOR:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0) || !isfinite(x)) return cli_usage("bounds", "--pb-prior-std %s: expected a positive number", optarg);
            o->prior_std = x;
            break;
        case OPT_PB_DELTA:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0 && x < 1)) return cli_usage("bounds", "--pb-delta %s: expected a number in (0, 1)", optarg);
            o->dc.delta = x;
            break;
        case OPT_PB_DELTA_PRIME:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0 && x < 1)) return cli_usage("bounds", "--pb-delta-prime %s: expected a number in (0, 1)", optarg);
            o->dc.delta_prime = x;
            break;
        case OPT_QUICK: quick = 1; break;
        case OPT_PB_OBJ:
        {
            int v;
            if (tdl_name_lookup(tdl_dr_objective_names, "objective", optarg, &v) != TDL_OK)
                return cli_usage("bounds", "--pb-objective %s: expected quad or pinsker", optarg);
            o->dc.objective = (tdl_dr_objective_kind)v;
            break;
        }
        case OPT_BSEED:
            if (cli_parse_ulong(optarg, &o->seed) != 0) return cli_usage("bounds", "--bound-seed %s: expected a non-negative integer", optarg);
            break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_THREADS:
            if (cli_parse_size(optarg, 1, 1024, &o->threads) != 0) return cli_usage("bounds", "--threads %s: expected 1..1024", optarg);
            break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_EXPLAIN:
        {
            int v;
            if (tdl_name_lookup(tdl_bounds_row_names, "row", optarg, &v) != TDL_OK) {
                char names[2048];
                tdl_name_list(tdl_bounds_row_names, " ", names, sizeof names);
                return cli_usage("bounds", "--explain %s: unknown row (%s)", optarg, names);
            }
            o->explain = optarg;
            break;
        }
        default: return cli_bad_option("bounds", argv, optopt);
        }
    }
    if (optind < argc) return cli_usage("bounds", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("bounds", "--data SPEC is required");
    if (!o->mo.model && !o->mo.arch) return cli_usage("bounds", "--model FILE (or --arch) is required");
    if (o->plot) {
        const char *dot = strrchr(o->plot, '.');
        if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".svg") && strcmp(dot, ".pdf")))
            return cli_usage("bounds", "--plot %s: expected a .png, .svg or .pdf file", o->plot);
    }
    {
        const cli_file ins[] = {{"--model", o->mo.model, CLI_FILE_PATH, NULL}, {"--data", o->data, CLI_FILE_SPEC, NULL}, {"--test", o->test, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("bounds", ins, 3, outs, 1) != 0) return EXIT_WORK_FAILED;
    }
    if (quick) {
        if (!pb_epochs_set) o->dc.epochs = 5;
        if (!pb_samples_set) o->dc.mc_samples = 20;
        if (!flat_set) o->bc.flat_samples = 3;
        if (!mc_set) o->bc.mc_samples = 20;
    }
    o->dc.rho_init = log(o->prior_std);
    /* the prior's scale is a fixed grid point of Dziugaite and Roy's union
     * bound (c, b): a value outside it is a usage error, caught before any work */
    if (o->pb && (2 * o->dc.rho_init >= log(o->dc.c) - 1 / o->dc.b))
        return cli_usage("bounds", "--pb-prior-std %g: the prior variance must be below c exp(-1/b) = %g", o->prior_std, o->dc.c * exp(-1 / o->dc.b));
    o->dc.seed = o->seed;
    o->bc.seed = o->seed;
    return -1;
}

/* ---- run ----------------------------------------------------------------- */

static int run(const bounds_opts *o, const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
               const tdl_dataset *ts, bounds_result *r)
{
    tdl_dr_config dc = o->dc;
    int st;
    r->chance = tdl_bounds_chance(ds->classes);
    if ((st = tdl_bounds_compute(m, loss, ds, &o->bc, &r->v, &r->nv, &r->train_err)) != TDL_OK) return st;
    /* the distribution of the training margins (quartiles) */
    if ((st = tdl_margin_distribution(m, loss, ds, r->mq, &r->mq[5])) != TDL_OK) return st;
    if (ts) {
        tdl_eval_stats s = {0};
        tdl_net_work *w = NULL;
        if ((st = tdl_net_work_alloc(m, ts->n < 1024 ? ts->n : 1024, &w)) == TDL_OK &&
            (st = tdl_mlp_evaluate(m, loss, ts, w, &s)) == TDL_OK)
            r->test_err = s.error;
        tdl_eval_stats_free(&s);
        tdl_net_work_free(&w);
        if (st != TDL_OK) return st;
    }
    if (o->pb) {
        int progress = !o->quiet && isatty(2);
        if (progress) { dc.callback = dr_progress; dc.user = NULL; }
        double t1 = now();
        st = tdl_dr_optimize(m, loss, ds, &dc, &r->dr);
        if (progress) fputc('\n', stderr);
        if (st != TDL_OK) return st;
        r->dr_seconds = now() - t1;
        r->have_dr = 1;
        if ((st = tdl_dr_measure(&r->dr, &dc, r->chance, &r->dr_row)) != TDL_OK) return st;
        if (ts && (st = tdl_snn_error(m, loss, ts, r->dr.w, r->dr.s2, dc.mc_samples < 100 ? dc.mc_samples : 100, o->seed + 7, &r->snn_test, NULL)) != TDL_OK)
            return st;
    }
    return TDL_OK;
}

/* ---- emit ---------------------------------------------------------------- */

/* The chart of the table (plot_bounds_chart): the bounds as bars named by
 * their rows, coloured by the classifier they bound, with the train error,
 * the test error, chance and 1; the measures' fixed-scale values hatched in
 * a panel of their own (not bounds). */
static int emit_plot(const bounds_opts *o, const bounds_result *r, const tdl_mlp *m, const tdl_dataset *ds)
{
    plot_bar *bars = malloc((r->nv + 1) * sizeof *bars);
    if (!bars) return cli_failf("out of memory for the figure");
    size_t k = 0, n_bound = 0, n_meas = 0;
    for (size_t i = 0; i <= r->nv; i++) {
        const tdl_measure *e = i < r->nv ? &r->v[i] : r->dr_row;
        if (!e || !e->available) continue;
        if (e->kind == TDL_MEASURE_KIND_BOUND) {
            if (isnan(e->bound)) continue;
            bars[k++] = (plot_bar){e->name, e->bound, e->classifier == TDL_CLASSIFIER_GIBBS ? PLOT_BAR_GIBBS : PLOT_BAR_BOUND};
            n_bound++;
        } else if (!isnan(e->fixed_scale_value)) {
            bars[k++] = (plot_bar){e->name, e->fixed_scale_value, PLOT_BAR_MEASURE};
            n_meas++;
        }
    }
    char caption[1024], arch[256];
    tdl_arch_format(m, arch, sizeof arch);
    snprintf(caption, sizeof caption, "%.300s (%s), data %.200s (m = %zu), delta %g, seed %lu; %zu bounds (top; "
             "vacuous when >= 1)%s; lines at the train error%s, chance (1 - 1 over C classes) and 1; bars start at the axis' left edge",
             o->mo.model ? plot_caption_path(o->mo.model) : "fresh net", arch, ds->spec, ds->n, o->bc.delta, o->seed, n_bound,
             n_meas ? " and the fixed-scale values of the measures (bottom, hatched: not bounds)" : "",
             isnan(r->test_err) ? "" : ", the test error");
    plot_bounds_spec spec = {.title = "Generalization bounds on the test error", .caption = caption, .bars = bars, .n_bars = k,
                             .train_error = r->train_err, .test_error = r->test_err, .chance = r->chance};
    int st = plot_bounds_chart(o->plot, &spec);
    free(bars);
    return st != TDL_OK ? cli_fail(st) : 0;
}

/* One row of "measures": the library's row and its ledger. */
static void emit_row_json(json_writer *jw, const tdl_measure *e)
{
    const char *why = e->bound_reason;
    json_object_begin(jw, NULL);
    json_string(jw, "name", e->name);
    json_number_or_reason(jw, "value", e->value, e->available ? "not finite" : why);
    json_number(jw, "bound", e->bound);
    json_bool(jw, "vacuous", e->vacuous);
    json_bool(jw, "available", e->available);
    json_string(jw, "source", e->source);
    if (isnan(e->bound)) json_string(jw, "bound_reason", why);
    json_number_or_reason(jw, "delta", e->delta, e->available ? "a measure, not a bound: no confidence level" : why);
    if (e->note[0]) json_string(jw, e->available ? "note" : "reason", e->note);
    json_string(jw, "kind", tdl_name_of(tdl_measure_kind_names, (int)e->kind));
    if (e->kind == TDL_MEASURE_KIND_BOUND) {
        json_string(jw, "classifier", tdl_name_of(tdl_classifier_names, (int)e->classifier));
        json_object_begin(jw, "terms");
        for (size_t k = 0; k < e->n_terms; k++) json_number(jw, e->terms[k].name, e->terms[k].value);
        json_object_end(jw);
        json_bool(jw, "below_chance", e->below_chance > 0);
        /* uniform norm rows: the fixed-class formula at the trained scales, kept */
        if (!isnan(e->fixed_scale_value)) json_number(jw, "fixed_scale_value", e->fixed_scale_value);
    } else {
        json_null_reason(jw, "classifier", "a measure bounds no classifier");
        json_number_or_reason(jw, "fixed_scale_value", e->fixed_scale_value,
                              e->available ? "no bound formula behind this measure" : why);
        json_null_reason(jw, "terms", "a measure, not a bound: no terms");
        json_null_reason(jw, "below_chance", "a measure, not a bound");
    }
    json_object_end(jw);
}

static int emit_json(const bounds_opts *o, const bounds_result *r, const tdl_mlp *m, const tdl_dataset *ds,
                     const tdl_dataset *ts, tdl_loss_kind loss)
{
    json_writer jw;
    if (json_open(&jw) != 0) return cli_failf("out of memory");
    json_object_begin(&jw, NULL);
    json_string(&jw, "data", ds->spec);
    json_size(&jw, "m", ds->n);
    json_size(&jw, "params", m->n_params);
    json_string(&jw, "loss_name", tdl_loss_name(loss));
    json_number(&jw, "delta", o->bc.delta);
    json_number(&jw, "margin_percentile", o->bc.margin_percentile);
    json_string(&jw, "margin_definition", "f(x)_y - max_{j != y} f(x)_j (one output: (2y-1) f(x)); NumPy linear percentile");
    json_string(&jw, "conventions", "effective weights (w_scale W); biases folded in as a constant input / hidden unit; "
                                    "Rademacher rows: fixed-scale value L_gamma (ramp) + 2 Rad/gamma (4 Rad/gamma, i.e. 4C/gamma, for C >= 3) "
                                    "+ 3 sqrt(ln(2/delta)/(2m)); golowich2018_* and linear_rademacher: bounds uniform over dyadic scales of the norms and "
                                    "gamma (docs/bounds.md Sec. 3; terms empirical, complexity, rounding, confidence, union); kind bound: a theorem's bound "
                                    "at the total delta with every data-chosen quantity "
                                    "paid for; vacuous means bound >= 1");
    json_object_begin(&jw, "margin_distribution");
    json_number(&jw, "min", r->mq[0]);
    json_number(&jw, "q1", r->mq[1]);
    json_number(&jw, "median", r->mq[2]);
    json_number(&jw, "q3", r->mq[3]);
    json_number(&jw, "max", r->mq[4]);
    json_number(&jw, "mean", r->mq[5]);
    json_object_end(&jw);
    json_number(&jw, "train_error", r->train_err);
    if (ts) {
        json_number(&jw, "test_error", r->test_err);
        json_size(&jw, "test_n", ts->n);
    }
    json_number(&jw, "chance", r->chance);
    json_string(&jw, "chance_definition", "1 - 1/C for C classes: the error of guessing uniformly (0.5 for binary); "
                                          "below_chance: bound < chance");
    json_array_begin(&jw, "measures");
    for (size_t i = 0; i < r->nv; i++) emit_row_json(&jw, &r->v[i]);
    if (r->dr_row) emit_row_json(&jw, r->dr_row);
    json_array_end(&jw);
    if (r->have_dr) {
        json_object_begin(&jw, "dziugaite_roy");
        json_number(&jw, "bound", r->dr.bound);
        json_number(&jw, "kl", r->dr.kl);
        json_number(&jw, "lambda", r->dr.lambda);
        json_number(&jw, "j", r->dr.j);
        json_number(&jw, "B", r->dr.B);
        json_number(&jw, "snn_train_error", r->dr.snn_train_error);
        json_number(&jw, "snn_train_bound", r->dr.snn_train_bound);
        if (ts) json_number(&jw, "snn_test_error", r->snn_test);
        json_number(&jw, "mean_sigma", r->dr.mean_sigma);
        json_number(&jw, "objective", r->dr.objective);
        json_size(&jw, "epochs", r->dr.epochs);
        json_size(&jw, "samples", r->dr.samples);
        json_string(&jw, "mc_step", "per-example fresh nets (exact local reparametrization), N = m samples draws");
        json_number(&jw, "mc_draws", (double)ds->n * (double)r->dr.samples);
        json_number(&jw, "delta", o->dc.delta);
        json_number(&jw, "delta_prime", o->dc.delta_prime);
        json_number(&jw, "confidence", r->dr.confidence);
        json_number(&jw, "seconds", r->dr_seconds);
        json_string(&jw, "objective_form", tdl_name_of(tdl_dr_objective_names, (int)o->dc.objective));
        json_string(&jw, "surrogate", loss == TDL_LOSS_LOGISTIC ? "logistic / ln 2" : "cross-entropy / ln 2");
        json_object_end(&jw);
    }
    json_number(&jw, "seconds", r->seconds);
    json_object_end(&jw);
    json_flush_stdout(&jw);
    return 0;
}

static void emit_row_text(const tdl_measure *e)
{
    char a[32], b[32];
    fmt(a, sizeof a, e->value);
    fmt(b, sizeof b, e->bound);
    const char *kind = e->kind == TDL_MEASURE_KIND_BOUND ? "bound" : "measure";
    const char *cls = e->classifier == TDL_CLASSIFIER_GIBBS ? "Gibbs" : (e->classifier == TDL_CLASSIFIER_DETERMINISTIC ? "det." : "-");
    printf("%-32s %14s %12s %-7s %-5s %-8s %s\n", e->name, a, b, kind, cls, isnan(e->bound) ? "-" : (e->vacuous ? "yes" : "no"), e->source);
    if (e->note[0]) printf("%-32s   %s: %s\n", "", e->available ? "note" : "left out", e->note);
    if (e->available && !isnan(e->fixed_scale_value)) {
        if (e->kind == TDL_MEASURE_KIND_BOUND)
            printf("%-32s   fixed-scale value %.6g: the fixed-class formula at the trained scales (not a bound); "
                   "the bound pays the union over scales\n", "", e->fixed_scale_value);
        else printf("%-32s   fixed-scale value %.6g: %s\n", "", e->fixed_scale_value, e->bound_reason);
    }
}

static void emit_text(const bounds_opts *o, const bounds_result *r, const tdl_mlp *m, const tdl_dataset *ds,
                      const tdl_dataset *ts, tdl_loss_kind loss)
{
    printf("data     %s (m = %zu)   params %zu   loss %s   delta %g   margin: %g-th percentile\n", ds->spec, ds->n,
           m->n_params, tdl_loss_name(loss), o->bc.delta, o->bc.margin_percentile);
    printf("margins  min %.4g  q1 %.4g  median %.4g  q3 %.4g  max %.4g  mean %.4g\n", r->mq[0], r->mq[1], r->mq[2], r->mq[3], r->mq[4], r->mq[5]);
    printf("train error %.6f", r->train_err);
    if (ts) printf("   test error %.6f (%s, n = %zu)", r->test_err, ts->spec, ts->n);
    printf("\nchance (1 - 1/C) = %.6g\n", r->chance);
    printf("\n%-32s %14s %12s %-7s %-5s %-8s %s\n", "measure", "value", "bound", "kind", "for", "vacuous", "source");
    for (size_t i = 0; i < r->nv; i++) emit_row_text(&r->v[i]);
    if (r->have_dr) {
        emit_row_text(r->dr_row);
        printf("%-32s   SNN train error %.5f (<= %.5f, %zu passes, a fresh net per example), ", "", r->dr.snn_train_error, r->dr.snn_train_bound, r->dr.samples);
        if (ts) printf("SNN test error %.5f, ", r->snn_test);
        printf("lambda %.4g (j = %.0f), %zu epochs, %.1f s, confidence %.3f\n", r->dr.lambda, r->dr.j, r->dr.epochs, r->dr_seconds, r->dr.confidence);
    }
}

/* `--explain NAME`: the row's theorem, kind and classifier, terms (or why it
 * is not a bound and its fixed-scale value) and hypotheses. */
static int emit_explain(const bounds_opts *o, const bounds_result *r)
{
    const tdl_measure *e = NULL;
    for (size_t i = 0; i < r->nv && !e; i++)
        if (strcmp(r->v[i].name, o->explain) == 0) e = &r->v[i];
    if (!e && r->dr_row && strcmp(o->explain, "dziugaite_roy") == 0) e = r->dr_row;
    if (!e) {
        char names[2048] = "";
        for (size_t i = 0; i < r->nv; i++) {
            strncat(names, i ? " " : "", sizeof names - strlen(names) - 1);
            strncat(names, r->v[i].name, sizeof names - strlen(names) - 1);
        }
        if (r->dr_row) strncat(names, " dziugaite_roy", sizeof names - strlen(names) - 1);
        return cli_failf("--explain %s: no such row in this table (%s)%s", o->explain, names,
                         strcmp(o->explain, "dziugaite_roy") == 0 ? "; it needs --pac-bayes-opt" : "");
    }
    char a[32];
    printf("%s\n", e->name);
    printf("  source      %s\n", e->source);
    fmt(a, sizeof a, e->value);
    printf("  value       %s%s%s\n", a, e->note[0] ? "   " : "", e->note);
    if (!e->available) {
        printf("  kind        measure, left out: %s\n", e->note[0] ? e->note : "not computed");
        return 0;
    }
    if (e->kind == TDL_MEASURE_KIND_BOUND) {
        printf("  kind        bound on the test error of the %s classifier%s\n",
               e->classifier == TDL_CLASSIFIER_GIBBS ? "Gibbs (stochastic net Q)" : "deterministic",
               e->classifier == TDL_CLASSIFIER_GIBBS ? "" : " (the trained net)");
        printf("  bound       %.6g at total delta %g (confidence %g); vacuous %s; below chance %.6g: %s\n", e->bound,
               e->delta, 1 - e->delta, e->vacuous ? "yes" : "no", r->chance, e->below_chance > 0 ? "yes" : "no");
        printf("  terms       ");
        for (size_t k = 0; k < e->n_terms; k++) printf("%s%s %.6g", k ? " + " : "", e->terms[k].name, e->terms[k].value);
        printf(" = %.6g\n", e->bound);
        if (!isnan(e->fixed_scale_value))
            printf("  fixed-scale value %.6g (the fixed-class formula at the trained norms and gamma, no union term; not a bound)\n",
                   e->fixed_scale_value);
    } else {
        printf("  kind        measure: %s\n", e->bound_reason);
        if (!isnan(e->fixed_scale_value))
            printf("  fixed-scale value %.6g (the bound's formula at the data-chosen scales; not a bound)\n", e->fixed_scale_value);
    }
    if (e->n_hyps) {
        printf("  hypotheses\n");
        for (size_t k = 0; k < e->n_hyps; k++)
            printf("    - %s: %s (%s)\n", e->hyps[k].text, e->hyps[k].holds > 0 ? "holds" : e->hyps[k].holds < 0 ? "assumed, not checked" : "does not hold",
                   e->hyps[k].why);
    }
    return 0;
}

int cmd_bounds(int argc, char **argv)
{
    bounds_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    cli_set_threads(o.threads);

    int st;
    rc = EXIT_WORK_FAILED;
    tdl_dataset *ds = NULL, *ts = NULL;
    tdl_mlp *m = NULL;
    bounds_result r = {0};
    r.train_err = r.test_err = r.snn_test = r.dr_seconds = NAN;
    tdl_loss_kind loss;
    double t0 = now(); /* the seconds reported count the loading too */
    if ((st = cli_load_data(o.data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (o.test && (st = cli_load_data(o.test, &ts)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((rc = cli_model_build(&o.mo, "bounds", &m)) != 0) goto cleanup;
    if ((rc = cli_model_loss(&o.mo, "bounds", m, ds, &loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (ts && cli_check_test(o.test, loss, m, ts) != 0) { rc = EXIT_WORK_FAILED; goto cleanup; }
    if (ts && !ts->classes) { rc = cli_failf("--test %s: no class labels; bounds are on the classification error", o.test); goto cleanup; }
    if ((st = run(&o, m, loss, ds, ts, &r)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    r.seconds = now() - t0;
    if (o.plot && (rc = emit_plot(&o, &r, m, ds)) != 0) goto cleanup;
    if (o.explain) {
        if ((rc = emit_explain(&o, &r)) != 0) goto cleanup;
    } else if (o.as_json) {
        if ((rc = emit_json(&o, &r, m, ds, ts, loss)) != 0) goto cleanup;
    } else {
        emit_text(&o, &r, m, ds, ts, loss);
    }
    rc = 0;
cleanup:
    tdl_dr_result_free(&r.dr);
    free(r.dr_row);
    free(r.v);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ts);
    tdl_dataset_free(&ds);
    return rc;
}
