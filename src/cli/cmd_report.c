/* cmd_report.c — `tdl report`: the whole analysis of one model on one data
 * set, as a folder with index.html, report.md, figures, tables and the JSON
 * of every command it ran.
 *
 * The report runs the other commands as subprocesses of the same binary
 * (/proc/self/exe), in the output folder, each with --json (stdout saved in
 * json/NAME.json, stderr in logs/NAME.log) and, where a figure is drawn,
 * --plot fig/NAME.png; every figure is then rendered again as SVG and PDF
 * from the gnuplot script beside it (plot_also).  report.md and index.html
 * are written last, from the saved JSON files (cJSON), so every number in
 * them is the number a command printed.  Tables are also written as CSV
 * (tables/).
 *
 * This file: the options, the sequence of steps and the result; the steps
 * and the folder are run and built by report_steps.c, the documents written
 * by report_doc.c, the tables and the report's own figures by
 * report_tables.c, and every key read from a command's JSON is named in
 * report_keys.c (report.h).
 *
 * Sections: data and model; training curve (when the report trains the
 * model); Hessian spectrum with the Gauss-Newton split and its density; a
 * 2D loss landscape and the interpolation from the initialization; the NTK
 * spectrum and drift; the bounds table (kind, classifier, vacuous and
 * below-chance marked) and its figure; the theorem checks
 * (`tdl check --all --quick`).  A section whose command fails says so
 * in the report, and the exit status is 1 at the end.
 *
 * Atomicity: everything is built in DIR.tmp.XXXXXX beside DIR and renamed
 * to DIR at the end; an earlier report in DIR (marked by DIR/.tdl-report) is
 * replaced; any other existing non-empty DIR is refused before work starts.
 * Every terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
 * SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGVTALRM, SIGPROF: those of
 * tdl_atomic_install_signal_cleanup) is forwarded to the running command,
 * which the report waits for; the report then removes the temporary folder,
 * leaves DIR as it was and dies of the same signal; one that arrives while the finished report is being
 * put in place acts once it is (DIR is then the new report).  An --out that
 * cannot be renamed over (".", "..", "/", the current folder or one that
 * holds it by any spelling, a mount point) is refused before work starts.  The tests stop
 * a report in the middle of a step with the test hook TDL_TEST_PAUSE_AT
 * (util.c), which the commands inherit.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "modelopts.h"
#include "check.h"
#include "report.h"
#include "tdl/data.h"
#include "tdl/error.h"
#include "tdl/io.h"
#include "tdl/model.h"

/* ---- the command ------------------------------------------------------------------------ */

/* Model file with its initialization as the parameters (for the
 * interpolation from init). */
static int write_init_model(report *r, const char *rel)
{
    tdl_mlp *m = NULL;
    tdl_act act;
    int st = TDL_OK;
    if (r->o.act && (st = tdl_act_parse(r->o.act, &act)) != TDL_OK) return st;
    char src[PATH_MAX + 64];
    if (r->model[0] == '/') sfmt(src, sizeof src, "%s", r->model);
    else report_path(r, src, sizeof src, r->model);
    if ((st = tdl_mlp_load(src, r->o.act ? &act : NULL, &m)) != TDL_OK) return st;
    if (!m->theta0) {
        tdl_mlp_free(&m);
        return tdl_error_set(TDL_EINVAL, "%s: no init.* tensors", r->model);
    }
    memcpy(m->theta, m->theta0, m->n_params * sizeof(double));
    char p[PATH_MAX + 64];
    report_path(r, p, sizeof p, rel);
    st = tdl_mlp_save(p, m);
    tdl_mlp_free(&m);
    return st;
}

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_OUT, OPT_QUICK, OPT_EPOCHS, OPT_WIDTH, OPT_LR, OPT_GRID, OPT_NO_CHECKS,
    OPT_THREADS, OPT_QUIET, OPT_CHECKS
};

/* ---- parse -------------------------------------------------------------------------------- */

/* The options into o and mo: 0, or the exit status of a usage error. */
static int parse_options(int argc, char **argv, report_opts *o, cli_model_opts *mo)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"out", required_argument, NULL, OPT_OUT}, {"quick", no_argument, NULL, OPT_QUICK},
        {"epochs", required_argument, NULL, OPT_EPOCHS}, {"width", required_argument, NULL, OPT_WIDTH},
        {"lr", required_argument, NULL, OPT_LR}, {"grid", required_argument, NULL, OPT_GRID},
        {"no-checks", no_argument, NULL, OPT_NO_CHECKS}, {"checks", required_argument, NULL, OPT_CHECKS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {NULL, 0, NULL, 0},
    };
    o->out = "report";
    o->lr = 0.05;
    int epochs_given = 0, width_given = 0, grid_given = 0, test_given = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "report")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int mr = cli_model_opts_parse(mo, "report", c, optarg);
        if (mr < 0) return EXIT_USAGE;
        if (mr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; test_given = 1; break;
        case 'o':
        case OPT_OUT: o->out = optarg; break;
        case OPT_QUICK: o->quick = 1; break;
        case OPT_EPOCHS: bad = cli_parse_size(optarg, 1, 100000, &o->epochs); epochs_given = 1; break;
        case OPT_WIDTH: bad = cli_parse_size(optarg, 1, 100000, &o->width); width_given = 1; break;
        case OPT_LR: bad = cli_parse_double(optarg, &o->lr) || !(o->lr > 0) || !isfinite(o->lr); break;
        case OPT_GRID: bad = cli_parse_size(optarg, 3, 501, &o->grid); grid_given = 1; break;
        case OPT_NO_CHECKS: o->no_checks = 1; break;
        case OPT_CHECKS: o->checks = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_QUIET: o->quiet = 1; break;
        default: return cli_bad_option("report", argv, optopt);
        }
        if (bad) return cli_usage("report", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("report", "unexpected argument '%s'", argv[optind]);
    o->model = mo->model;
    o->act = mo->act;
    o->arch = mo->arch;
    if (o->checks) {
        if (o->no_checks) return cli_usage("report", "give --checks LIST or --no-checks, not both");
        char buf[REPORT_MAX_CHECKS * 64], *save = NULL;
        size_t cl = strlen(o->checks);
        if (!cl || o->checks[0] == ',' || o->checks[cl - 1] == ',' || strstr(o->checks, ",,")) {
            return cli_usage("report", "bad value '%s' for --checks: check names, comma separated, none empty", o->checks);
        }
        sfmt(buf, sizeof buf, "%s", o->checks);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!pc_find(tok)) return cli_usage("report", "--checks: unknown check '%s' (see 'tdl check --list')", tok);
            if (o->n_checks == REPORT_MAX_CHECKS) return cli_usage("report", "--checks: at most %d names", REPORT_MAX_CHECKS);
            sfmt(o->check_names[o->n_checks++], sizeof o->check_names[0], "%s", tok);
        }
        if (!o->n_checks) return cli_usage("report", "--checks: give check names, comma separated");
    }
    o->loss = mo->loss;
    o->reduction = mo->reduction;
    o->user_model = mo->model != NULL;
    int init_opts = mo->init || mo->param || mo->freeze || !isnan(mo->sigma_w) || mo->sigma_b != 0 || !mo->bias;
    if (o->user_model && init_opts)
        return cli_usage("report", "--init, --param, --sigma-w, --sigma-b, --no-bias and --freeze describe the net the report trains; drop them with --model");
    if (o->user_model && !o->data) return cli_usage("report", "--model needs --data SPEC (the data to analyse it on)");
    if (o->user_model && (epochs_given || width_given || o->arch))
        return cli_usage("report", "--epochs, --width and --arch describe the net the report trains; drop them with --model");
    if (o->arch && width_given) return cli_usage("report", "give --arch or --width, not both");
    if (!o->data) {
        /* the shipped default: digits, train/test split */
        o->data = o->quick ? "digits:split=train,n=400" : "digits:split=train";
        if (!test_given) o->test = o->quick ? "digits:split=test,n=200" : "digits:split=test";
    }
    if (!epochs_given) o->epochs = o->quick ? 8 : 30;
    if (!width_given) o->width = o->quick ? 16 : 32;
    if (!grid_given) o->grid = o->quick ? 9 : 31;
    o->seed = mo->seed;
    return 0;
}

/* ---- run ---------------------------------------------------------------------------------- */

/* Before any work: --out checked (a folder rename(2) can replace, no input
 * inside it, empty or an earlier report), the signals caught, the temporary
 * folder made, the inputs named by absolute paths.  0 or an exit status. */
static int prepare(report *r)
{
    const report_opts *o = &r->o;
    int rc;
    sfmt(r->dir, sizeof r->dir, "%s", o->out);
    size_t dl = strlen(r->dir);
    while (dl > 1 && r->dir[dl - 1] == '/') r->dir[--dl] = 0;
    int exists, empty, is_report;
    if (report_dir_state(r->dir, &exists, &empty, &is_report) != 0) return cli_failf("%s: not a folder (--out)", r->dir);
    if ((rc = report_check_renamable(r->dir, exists)) != 0) return rc;
    if (exists && (rc = report_check_inputs_outside(r->dir, o)) != 0) return rc;
    if (exists && !empty && !is_report)
        return cli_failf("%s: the folder exists and is not a tdl report (no %s); choose another --out or remove it", r->dir, REPORT_MARKER);
    if (readlink("/proc/self/exe", r->self, sizeof r->self - 1) < 0) return cli_failf("cannot find the tdl executable: %s", strerror(errno));
    report_catch_signals();
    if ((rc = report_make_tmp(r)) != 0) return rc;
    report_absolute_spec(o->data, r->data, sizeof r->data);
    r->has_test = o->test != NULL;
    if (r->has_test) report_absolute_spec(o->test, r->test, sizeof r->test);
    if (o->user_model && !realpath(o->model, r->model)) return cli_failf("%s: %s", o->model, strerror(errno));
    /* the commands run in the folder: the trained model by its own name */
    if (!o->user_model) sfmt(r->model, sizeof r->model, "model.safetensors");
    if (!o->quiet) fprintf(stderr, "tdl report: building %s in %s\n", r->dir, r->tmp);
    return 0;
}

/* 1 when the model file PATH (absolute, or relative to the report's
 * folder) holds init.* tensors: the initialization the interpolation and
 * the NTK drift need. */
static int model_file_has_init(const report *r, const char *path)
{
    char p[PATH_MAX + 64];
    if (path[0] == '/') sfmt(p, sizeof p, "%s", path);
    else report_path(r, p, sizeof p, path);
    tdl_tensors *set = NULL;
    if (tdl_tensors_read(p, &set) != TDL_OK) return 0;
    int found = 0;
    for (size_t i = 0; i < set->count && !found; i++) found = strncmp(set->items[i].name, "init.", 5) == 0;
    tdl_tensors_free(&set);
    return found;
}

/* 1 when the theorem check C runs on the report's data: it takes --data
 * (its claim holds for any data set, proofs-checks/check.h), the checks are
 * not left out, and --checks (when given) names it. */
static int data_check_runs(const report *r, const pc_check *c)
{
    if (r->o.no_checks || !(c->params & PC_P_DATA)) return 0;
    if (!r->o.n_checks) return 1;
    for (size_t k = 0; k < r->o.n_checks; k++)
        if (strcmp(r->o.check_names[k], c->name) == 0) return 1;
    return 0;
}

/* The number of steps run_steps will take, known before the first one so
 * that the counter [k/N] keeps one N: the data's task (regression has no
 * bounds) and whether the model keeps its initialization (the
 * interpolation) are read here, in-process; a file that cannot be read
 * counts as the common case and fails in its step. */
static size_t count_steps(report *r)
{
    const report_opts *o = &r->o;
    tdl_dataset *ds = NULL;
    int regression = 0;
    if (tdl_dataset_load(r->data, &ds) == TDL_OK) regression = ds->classes == 0;
    tdl_dataset_free(&ds);
    /* a model trained here keeps its initialization (tdl train writes init.*) */
    int has_init = o->user_model ? model_file_has_init(r, r->model) : 1;
    size_t n = 1;                          /* data */
    n += o->user_model ? 0 : 1;            /* training */
    n += 2;                                /* model summary, evaluation on the training data */
    n += r->has_test ? 1 : 0;              /* evaluation on the test data */
    n += 2;                                /* Hessian, 2D landscape */
    n += regression ? 0 : 1;               /* the class split of G (the dual) */
    n += has_init ? 1 : 0;                 /* interpolation from the initialization */
    n += 1;                                /* NTK */
    n += regression ? 0 : 1;               /* bounds */
    n += !regression && r->has_test ? 1 : 0; /* the PAC-Bayes certificate */
    n += o->no_checks ? 0 : o->n_checks ? o->n_checks : 1;
    for (size_t k = 0; pc_checks[k]; k++) n += (size_t)data_check_runs(r, pc_checks[k]);
    return n;
}

/* The commands, in order (each a section of the report).  A failure of
 * the steps the rest needs (the data without --arch, the training, reading
 * the model, evaluating it on the training data) or a signal ends the
 * report: its exit status; else 0 (failed sections are counted in
 * r->failures). */
static int run_steps(report *r, const cli_model_opts *mo)
{
    const report_opts *o = &r->o;
    char seed[32], epochs[32], lr[64], grid[32], arch[128];
    sfmt(seed, sizeof seed, "%lu", o->seed);
    sfmt(epochs, sizeof epochs, "%zu", o->epochs);
    sfmt(lr, sizeof lr, "%.17g", o->lr);
    sfmt(grid, sizeof grid, "%zu", o->grid);
    const char *act = o->act ? o->act : "relu";
    r->total_steps = count_steps(r);

    /* 1. the data */
    {
        const char *a[] = {"info", "--data", r->data, "--json", NULL};
        report_run_step(r, "data", "data summary (tdl info --data)", 1, a);
    }
    const cJSON *dj = report_json(r, "data");
    r->regression = dj && rk_num(dj, RK_DATA_CLASSES) == 0;
    /* 2. the model: trained here, or the user's */
    if (!o->user_model) {
        if (o->arch) {
            sfmt(arch, sizeof arch, "%s", o->arch);
        } else {
            double d = dj ? rk_num(dj, RK_DATA_D) : NAN, classes = dj ? rk_num(dj, RK_DATA_CLASSES) : NAN;
            if (isnan(d)) return cli_failf("%s: the data set could not be read (%s)", o->data, r->steps[0].message);
            sfmt(arch, sizeof arch, "%.0f-%zu-%.0f", d, o->width, classes > 0 ? classes : 1);
        }
        const char *a[REPORT_MAX_ARGS] = {"train", "--data", r->data, "--arch", arch, "--act", act, "--seed", seed, "--epochs", epochs,
                                   "--lr", lr, "--log", "tables/training.csv", "--plot", "fig/training.png",
                                   "-o", "model.safetensors", "--json", "--quiet"};
        size_t n = 0;
        while (a[n]) n++;
        if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
        a[n++] = "--log-ntk-drift";
        /* the fresh net's options, as given */
        char sw[64], sb[64];
        if (mo->init) { a[n++] = "--init"; a[n++] = mo->init; }
        if (mo->param) { a[n++] = "--param"; a[n++] = mo->param; }
        if (mo->freeze) { a[n++] = "--freeze"; a[n++] = mo->freeze; }
        if (!isnan(mo->sigma_w)) { sfmt(sw, sizeof sw, "%.17g", mo->sigma_w); a[n++] = "--sigma-w"; a[n++] = sw; }
        if (mo->sigma_b != 0) { sfmt(sb, sizeof sb, "%.17g", mo->sigma_b); a[n++] = "--sigma-b"; a[n++] = sb; }
        if (!mo->bias) a[n++] = "--no-bias";
        a[n] = NULL;
        step *s = report_run_step(r, "train", "training (tdl train)", 1, a);
        if (s->status != 0 && report_signal) return cli_failf("interrupted; %s was not written", r->dir);
        if (s->status != 0) return cli_failf("training failed: %s (the report needs the model)", s->message);
        report_other_formats(r, "training");
    }
    {
        const char *a[] = {"info", "--model", r->model, "--json", o->act ? "--act" : NULL, o->act, NULL};
        step *s = report_run_step(r, "model", "model summary (tdl info --model)", 1, a);
        if (s->status != 0 && report_signal) return cli_failf("interrupted; %s was not written", r->dir);
        if (s->status != 0) return cli_failf("the model cannot be read: %s", report_step_why(s));
        r->has_init = rk_bool(s->json, RK_MODEL_HAS_INIT) == 1;
    }
    /* every later command takes the model (and --act for a file without it) */
#define MODEL_ARGS "--model", r->model, "--data", r->data
    {
        /* A model that cannot be evaluated on the data (NaN weights, input
         * width or class count that do not match) fails the whole report
         * here, before any folder appears: every later section would fail. */
        const char *a[] = {"eval", MODEL_ARGS, "--json", o->act ? "--act" : NULL, o->act, NULL};
        step *s = report_run_step(r, "eval-train", "evaluation on the training data (tdl eval)", 1, a);
        if (s->status != 0 && report_signal) return cli_failf("interrupted; %s was not written", r->dir);
        if (s->status != 0) return cli_failf("the model cannot be evaluated on %s: %s", r->data, report_step_why(s));
    }
    if (r->has_test) {
        const char *a[] = {"eval", "--model", r->model, "--data", r->test, "--json", o->act ? "--act" : NULL, o->act, NULL};
        report_run_step(r, "eval-test", "evaluation on the test data (tdl eval)", 1, a);
    }
    {
        /* one exact run: all eigenvalues of H, G and R, and the density */
        const char *a[] = {"hessian", MODEL_ARGS, "--gn", "--density", "--json", "--quiet", "--plot", "fig/hessian-density.png",
                           o->act ? "--act" : NULL, o->act, NULL};
        step *s = report_run_step(r, "hessian", "Hessian spectrum, Gauss-Newton split and density (tdl hessian --gn --density)", 1, a);
        report_other_formats(r, "hessian-density");
        if (s->status == 0) {
            const cJSON *h = s->json;
            if (!h || report_hessian_histogram(r, h) != TDL_OK) {
                if (!o->quiet) fprintf(stderr, "tdl report: the Hessian histogram: %s\n", h ? tdl_errmsg() : "no JSON");
                r->failures++;
            } else {
                report_other_formats(r, "hessian-spectrum");
            }
        }
    }
    if (!r->regression) {
        /* the outliers of G and Papyan's class / cross-class split, through
         * the kernel dual: the top C eigenpairs by Lanczos on K once n C is
         * large (tdl/gn_dual.h); a model whose outputs are not one per class
         * (a binary net with one output) is "does not apply" */
        char kc[32];
        sfmt(kc, sizeof kc, "%.0f", dj ? rk_num(dj, RK_DATA_CLASSES) : 0.0);
        const char *a[] = {"hessian", MODEL_ARGS, "--gn", "--method", "dual", "--class-split", "--k", kc, "--json", "--quiet",
                           o->act ? "--act" : NULL, o->act, NULL};
        report_run_data_check(r, "hessian-dual", "class structure of G (tdl hessian --gn --method dual --class-split)", a);
    }
    {
        const char *a[] = {"landscape", MODEL_ARGS, "--plane", "random", "--grid", grid, "--direction-seed", seed, "--json", "--quiet",
                           "--plot", "fig/landscape-2d.png", o->act ? "--act" : NULL, o->act, NULL};
        report_run_step(r, "landscape-2d", "2D loss landscape, random plane (tdl landscape)", 1, a);
        report_other_formats(r, "landscape-2d");
    }
    if (r->has_init) {
        /* model-init.safetensors: the initialization as a model file of its
         * own, for the user's --to runs; the figure takes --from-init, which
         * names the ends init and trained */
        int st = write_init_model(r, "model-init.safetensors");
        if (st != TDL_OK) {
            report_failed_step(r, "interpolation", "interpolation from the initialization (tdl landscape --from-init)", tdl_errmsg());
        } else {
            const char *a[REPORT_MAX_ARGS] = {"landscape", "--model", r->model, "--from-init", "--data", r->data,
                                       "--json", "--quiet", "--plot", "fig/interpolation.png"};
            size_t n = 0;
            while (a[n]) n++;
            if (o->quick) { a[n++] = "--grid"; a[n++] = "21"; }
            if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
            if (o->act) { a[n++] = "--act"; a[n++] = o->act; }
            a[n] = NULL;
            report_run_step(r, "interpolation", "interpolation from the initialization (tdl landscape --from-init)", 1, a);
            report_other_formats(r, "interpolation");
        }
    }
    {
        const char *a[] = {"ntk", MODEL_ARGS, "--json", "--plot", "fig/ntk-spectrum.png", r->has_init ? "--drift" : "--quiet",
                           o->act ? "--act" : NULL, o->act, NULL};
        report_run_step(r, "ntk", "NTK spectrum and drift (tdl ntk)", 1, a);
        report_other_formats(r, "ntk-spectrum");
    }
    if (!o->user_model && r->has_init) {
        report_ntk_drift_figure(r, arch, act); /* the drift curve from the training log */
    }
    if (!r->regression) {
        const char *a[REPORT_MAX_ARGS] = {"bounds", MODEL_ARGS, "--json", "--quiet", "--bound-seed", seed};
        size_t n = 0;
        while (a[n]) n++;
        if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
        if (o->quick) a[n++] = "--quick";
        if (r->has_init) a[n++] = "--pac-bayes-opt";
        if (o->act) { a[n++] = "--act"; a[n++] = o->act; }
        a[n] = NULL;
        /* the report draws fig/bounds itself from the JSON (report_bounds_figure) */
        report_run_step(r, "bounds", "generalization bounds (tdl bounds)", 1, a);
    }
    if (!r->regression && r->has_test) {
        /* a PAC-Bayes certificate with a data-dependent prior for a net of
         * the model's architecture trained by the recipe (tdl certify: the
         * model's own weights cannot be certified this way, the prior must
         * not see the bound part); refused (e.g. an unsupported loss) = does
         * not apply */
        const cJSON *mj = report_json(r, "model");
        const char *model_arch = mj ? rk_str(mj, RK_MODEL_ARCH) : NULL;
        if (model_arch) {
            const char *a[] = {"certify", "--data", r->data, "--test", r->test, "--arch", model_arch, "--json", "--quiet",
                               o->act ? "--act" : NULL, o->act, NULL};
            report_run_data_check(r, "certify", "PAC-Bayes certificate, data-dependent prior (tdl certify)", a);
        }
    }
#undef MODEL_ARGS
    /* the checks whose claim holds for any data set, on the report's data
     * (their own nets, not the model): a check may refuse the data (a
     * hypothesis not met), which the report says and does not count as a failure */
    for (size_t k = 0; pc_checks[k]; k++) {
        const pc_check *c = pc_checks[k];
        if (!data_check_runs(r, c)) continue;
        char name[96], label[160];
        sfmt(name, sizeof name, "check-on-data-%s", c->name);
        sfmt(label, sizeof label, "theorem check on this data (tdl check %s --quick --data ...)", c->name);
        const char *a[REPORT_MAX_ARGS] = {"check", c->name, "--quick", "--data", r->data, "--json", "--quiet"};
        size_t n = 0;
        while (a[n]) n++;
        if (r->has_test && (c->params & PC_P_TEST)) { a[n++] = "--test"; a[n++] = r->test; }
        a[n] = NULL;
        report_run_data_check(r, name, label, a);
    }
    if (!o->no_checks && !o->n_checks) {
        const char *a[] = {"check", "--all", "--quick", "--json", "--quiet", NULL};
        report_run_step(r, "checks", "theorem checks (tdl check --all --quick)", 1, a);
    }
    for (size_t k = 0; !o->no_checks && k < o->n_checks; k++) {
        char name[80], label[128];
        sfmt(name, sizeof name, "check-%s", o->check_names[k]);
        sfmt(label, sizeof label, "theorem check (tdl check %s --quick)", o->check_names[k]);
        const char *a[] = {"check", o->check_names[k], "--quick", "--json", "--quiet", NULL};
        report_run_step(r, name, label, 1, a);
    }

    return 0;
}

/* ---- emit --------------------------------------------------------------------------------- */

/* The marker, report.md and index.html, then the folder under its name.
 * Called with the terminating signals held (cmd_report): DIR is always the
 * earlier report or the new one, never missing or half replaced.  0 or an
 * exit status. */
static int emit(report *r, int argc, char **argv, double t0)
{
    if (report_signal)
        return cli_failf("interrupted; %s was not written", r->dir);
    /* the documents, the marker, then the folder under its name */
    {
        char cmdline[2048] = "tdl";
        for (int i = 0; i < argc; i++) {
            size_t l = strlen(cmdline);
            sfmt(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
        }
        if (!r->o.quiet) fprintf(stderr, "tdl report: writing report.md and index.html\n");
        char p[PATH_MAX + 32];
        report_path(r, p, sizeof p, REPORT_MARKER);
        static const char marker_text[] = "a folder written by tdl report; tdl report --out replaces it\n";
        int st = tdl_write_file_atomic(p, marker_text, sizeof marker_text - 1);
        if (st != TDL_OK) return cli_fail(st);
        st = report_write_documents(r, cmdline, report_now() - t0);
        if (st != TDL_OK) return cli_fail(st);
    }
    int rc = report_put_in_place(r);
    if (rc != 0) return rc;
    if (!r->o.quiet) fprintf(stderr, "tdl report: %s/index.html and %s/report.md in %.0f s%s\n", r->dir, r->dir, report_now() - t0,
                           r->failures ? "; some sections FAILED (see the report)" : "");
    if (r->failures) return cli_failf("%d part(s) of the report failed; %s/report.md says which", r->failures, r->dir);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    report *r = calloc(1, sizeof *r);
    if (!r) return cli_failf("out of memory");
    int rc = parse_options(argc, argv, &r->o, &mo);
    if (rc != 0) {
        free(r);
        return rc;
    }
    cli_set_threads(r->o.threads);
    double t0 = report_now();
    /* the terminating signals are held while the documents are written and
     * the folder is renamed: a signal then acts after it */
    sigset_t stop_set, stop_prev;
    if ((rc = prepare(r)) == 0 && (rc = run_steps(r, &mo)) == 0) {
        report_stop_signal_set(&stop_set);
        sigprocmask(SIG_BLOCK, &stop_set, &stop_prev);
        rc = emit(r, argc, argv, t0);
        sigprocmask(SIG_SETMASK, &stop_prev, NULL); /* a held signal sets report_signal now */
    }
    /* a run that stops before the documents leaves no folder behind */
    if (rc != 0 && r->tmp[0] && (report_signal || !report_file_exists(r, "index.html"))) report_remove_tree(r->tmp);
    report_free(r);
    free(r);
    if (report_signal) {
        int sig = report_signal;
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return rc;
}
