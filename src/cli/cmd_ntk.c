/* cmd_ntk.c — `tdl ntk`: empirical and analytic NTK / NNGP Gram matrices,
 * Du et al.'s H_inf, spectra, kernel predictions and NTK drift (tdl/ntk.h).
 *
 * In three steps: ntk_parse (argv -> ntk_opts, usage errors), ntk_run
 * (library calls only -> ntk_result) and ntk_emit (the .npy file, the figure,
 * JSON or text).  Only the public API (include/tdl/).
 *
 * Under mpirun (dist_cli.h) the Gram matrix is block-cyclic over the ranks
 * (tdl_dist_gram, tdl/dist.h): its spectrum by ELPA or ScaLAPACK, the ridge
 * solves by pdpotrf / pdpotrs, the flow at a finite --time from its
 * eigenvectors, the test kernel split by training examples; rank 0 prints
 * and writes.  The options that need the whole matrix on one process (-o,
 * --full, --per-layer, --drift) and the Monte Carlo kernel say so. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "modelopts.h"
#include "provenance.h"
#include "plot.h"
#include "tdl/ntk.h"
#include "dist_cli.h"

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_ANALYTIC, OPT_NNGP, OPT_HINF, OPT_FULL, OPT_NTK_LAYERS, OPT_METHOD, OPT_BUDGET,
    OPT_KACT, OPT_QUAD, OPT_RIDGE, OPT_PREDICT, OPT_TIME, OPT_LR, OPT_DRIFT, OPT_OUT, OPT_JSON, OPT_PLOT,
    OPT_THREADS, OPT_QUIET, OPT_PER_LAYER, OPT_MC, OPT_NTK_OUTPUTS
};

/* What the command line asks for. */
typedef struct ntk_opts {
    cli_model_opts mo;
    const char *data, *test, *out, *plot, *kact;
    int analytic, nngp, hinf, full, predict, drift, as_json, per_layer, outputs_given;
    size_t quad, budget_mb, threads, mc;
    double ridge;              /* relative to the kernel's mean diagonal */
    double t_pred, lr;
    tdl_ntk_config no;
} ntk_opts;

/* What the library computed. */
typedef struct ntk_result {
    tdl_dataset *ds, *dt;
    tdl_mlp *m;
    gsl_matrix *K, *Kt, *Y, *Yt, *F0, *Ft0, *F, *Ftest;
    double *ev, *layer_tr;
    const char *kind, *method, *normalization;
    char arch[256];
    size_t n, C, dim;
    tdl_ntk_analytic_config ac;
    double seconds, trace, fro, ridge_abs;
    double lmin, lmax, psd_tol, cond, eta_max;
    double arora;
    int has_arora_note;
    char arora_note[1024];
    double drift;
    double train_mse, test_mse, train_mse0, test_mse0;
    tdl_dist_gram *gram;       /* under mpirun: the distributed Gram matrix */
    char driver[160];          /* under mpirun: the grid and the eigen-solver */
} ntk_result;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double mse_of(const gsl_matrix *F, const gsl_matrix *Y)
{
    double s = 0;
    for (size_t i = 0; i < F->size1; i++)
        for (size_t c = 0; c < F->size2; c++) {
            double d = gsl_matrix_get(F, i, c) - gsl_matrix_get(Y, i, c);
            s += 0.5 * d * d;
        }
    return s / (double)F->size1;
}

/* The library's message for a kernel that is not positive definite states
 * the ridge it needs, absolute and relative to the mean diagonal; --ridge
 * takes the relative value, which the CLI adds.  Other messages unchanged. */
static const char *with_ridge_advice(char *buf, size_t len)
{
    const char *msg = tdl_errmsg();
    size_t n = strlen(msg);
    static const char tail[] = " x the mean diagonal)";
    if (n >= sizeof tail - 1 && !strcmp(msg + n - (sizeof tail - 1), tail))
        snprintf(buf, len, "%.*s; tdl ntk --ridge takes the relative value)", (int)(n - 1), msg);
    else
        snprintf(buf, len, "%s", msg);
    return buf;
}

/* cli_fail, with the --ridge advice for a kernel that is not positive definite. */
static int ntk_fail(int st)
{
    if (st == TDL_ENOTPD) {
        char msg[1024];
        tdl_error_set(st, "%s", with_ridge_advice(msg, sizeof msg));
    }
    return cli_fail(st);
}

/* ---- parse -------------------------------------------------------------- */

/* argv into o: 0, or the exit code after a usage (or same-file) error. */
static int ntk_parse(int argc, char **argv, ntk_opts *o)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"analytic", no_argument, NULL, OPT_ANALYTIC}, {"nngp", no_argument, NULL, OPT_NNGP},
        {"h-inf", no_argument, NULL, OPT_HINF}, {"full", no_argument, NULL, OPT_FULL},
        {"layers", required_argument, NULL, OPT_NTK_LAYERS}, {"method", required_argument, NULL, OPT_METHOD},
        {"budget", required_argument, NULL, OPT_BUDGET}, {"kernel-act", required_argument, NULL, OPT_KACT},
        {"quad", required_argument, NULL, OPT_QUAD}, {"ridge", required_argument, NULL, OPT_RIDGE},
        {"predict", no_argument, NULL, OPT_PREDICT}, {"time", required_argument, NULL, OPT_TIME},
        {"lr", required_argument, NULL, OPT_LR}, {"drift", no_argument, NULL, OPT_DRIFT},
        {"out", required_argument, NULL, OPT_OUT}, {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT}, {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET}, {"per-layer", no_argument, NULL, OPT_PER_LAYER},
        {"mc", required_argument, NULL, OPT_MC}, {"ntk-outputs", required_argument, NULL, OPT_NTK_OUTPUTS},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    o->budget_mb = 256;
    o->t_pred = INFINITY;
    o->lr = 1.0;
    tdl_ntk_config_default(&o->no);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "ntk")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(&o->mo, "ntk", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_ANALYTIC: o->analytic = 1; break;
        case OPT_NNGP: o->nngp = 1; break;
        case OPT_HINF: o->hinf = 1; break;
        case OPT_FULL: o->full = 1; break;
        case OPT_PER_LAYER: o->per_layer = 1; break;
        case OPT_NTK_LAYERS: {
            unsigned long long mask;
            bad = cli_parse_index_list(optarg, TDL_MAX_DEPTH - 1, &mask);
            if (!bad) o->no.layers = mask;
            break;
        }
        case OPT_METHOD: {
            int v;
            if (tdl_name_lookup(tdl_ntk_method_names, "method", optarg, &v) != TDL_OK) {
                char list[128];
                return cli_usage("ntk", "--method %s: expected %s", optarg,
                                 cli_name_choices(tdl_ntk_method_names, list, sizeof list));
            }
            o->no.method = (tdl_ntk_method)v;
            break;
        }
        case OPT_BUDGET: bad = cli_parse_size(optarg, 1, 1u << 30, &o->budget_mb); break;
        case OPT_KACT: o->kact = optarg; break;
        case OPT_QUAD: bad = cli_parse_size(optarg, 2, 256, &o->quad); break;
        case OPT_RIDGE: bad = cli_parse_double(optarg, &o->ridge) || !(o->ridge >= 0) || !isfinite(o->ridge); break;
        case OPT_PREDICT: o->predict = 1; break;
        case OPT_TIME:
            if (!strcmp(optarg, "inf") || !strcmp(optarg, "infinity")) o->t_pred = INFINITY;
            else bad = cli_parse_double(optarg, &o->t_pred) || !(o->t_pred >= 0) || !isfinite(o->t_pred);
            break;
        case OPT_LR: bad = cli_parse_double(optarg, &o->lr) || !(o->lr > 0) || !isfinite(o->lr); break;
        case OPT_DRIFT: o->drift = 1; break;
        case 'o':
        case OPT_OUT: o->out = optarg; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_QUIET: break;
        case OPT_MC: bad = cli_parse_size(optarg, 2, 1000000, &o->mc); break;
        case OPT_NTK_OUTPUTS:
            if (tdl_ntk_config_set_outputs(&o->no, optarg) != TDL_OK) return cli_usage("ntk", "--ntk-outputs %s: expected mean or sum", optarg);
            o->outputs_given = 1;
            break;
        default: return cli_bad_option("ntk", argv, optopt);
        }
        if (bad) return cli_usage("ntk", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("ntk", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("ntk", "--data SPEC is required");
    if (o->nngp && !o->analytic && !o->mc) return cli_usage("ntk", "--nngp needs --analytic or --mc (the NNGP is a kernel over random inits)");
    if (o->mc && (o->analytic || o->hinf || o->full || o->predict || o->drift)) return cli_usage("ntk", "--mc cannot be combined with --analytic, --h-inf, --full, --predict or --drift");
    if (o->hinf && (o->analytic || o->full)) return cli_usage("ntk", "--h-inf cannot be combined with --analytic or --full");
    if (o->full && o->analytic) return cli_usage("ntk", "--full is for the empirical kernel (the analytic one is delta_cc' K)");
    if (o->outputs_given && (o->full || o->analytic || o->hinf || o->mc))
        return cli_usage("ntk", "--ntk-outputs belongs to the traced empirical kernel (not --full, --analytic, --h-inf or --mc)");
    if (cli_model_no_loss(&o->mo, "ntk") != 0) return EXIT_USAGE;
    if (o->predict && !o->test) return cli_usage("ntk", "--predict needs --test SPEC");
    if (o->predict && o->full) return cli_usage("ntk", "--predict uses the traced kernel: drop --full");
    if (o->drift && !o->mo.model) return cli_usage("ntk", "--drift needs --model FILE (with its init.* tensors)");
    if ((o->kact || o->quad) && !o->analytic) return cli_usage("ntk", "--kernel-act and --quad belong to --analytic");
    if (!o->hinf && !o->mo.model && !o->mo.arch) return cli_usage("ntk", "give --model FILE or --arch A (or --h-inf)");
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("ntk", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    if (o->out) {
        const char *ext = strrchr(o->out, '.');
        if (!ext || strcmp(ext, ".npy")) return cli_usage("ntk", "-o %s: the Gram matrix goes to a .npy file", o->out);
    }
    {
        const cli_file ins[] = {{"--model", o->mo.model, CLI_FILE_PATH, NULL}, {"--data", o->data, CLI_FILE_SPEC, NULL}, {"--test", o->test, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"-o", o->out, CLI_FILE_PATH, NULL}, {"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("ntk", ins, 3, outs, 2) != 0) return EXIT_WORK_FAILED;
    }
    if (cli_dist_active()) {
        const char *whole = o->out ? "-o" : o->full ? "--full" : o->per_layer ? "--per-layer" : o->drift ? "--drift" : NULL;
        if (whole)
            return cli_usage("ntk", "%s needs the whole Gram matrix on one process; under mpirun it is spread over the ranks (run without mpirun)", whole);
        if (o->mc) return cli_usage("ntk", "--mc runs on one process (its nets are independent): run it without mpirun");
    }
    o->no.full = o->full;
    o->no.budget_bytes = o->budget_mb << 20;
    return 0;
}

/* ---- run ---------------------------------------------------------------- */

static void ntk_result_free(ntk_result *r)
{
    gsl_matrix *mats[] = {r->K, r->Kt, r->Y, r->Yt, r->F0, r->Ft0, r->F, r->Ftest};
    for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
        if (mats[i]) gsl_matrix_free(mats[i]);
    free(r->ev);
    free(r->layer_tr);
    tdl_dist_gram_free(&r->gram);
    tdl_mlp_free(&r->m);
    tdl_dataset_free(&r->ds);
    tdl_dataset_free(&r->dt);
}

/* The kernel's method and normalization (and r->ac for the analytic one):
 * 0, or the exit code of a usage error. */
static int ntk_describe(const ntk_opts *o, ntk_result *r)
{
    if (o->hinf) {
        r->method = "Du et al. 2019: x_i.x_j (pi - theta_ij) / (2 pi), stable atan2 angle, rows as given";
        r->normalization = "expectation over w ~ N(0, I) (no 1/m)";
    } else if (o->analytic) {
        tdl_ntk_analytic_config_from_mlp(r->m, &r->ac);
        if (o->kact && tdl_kact_parse(o->kact, &r->ac.act) != TDL_OK) return cli_usage("ntk", "--kernel-act: %s", tdl_errmsg());
        r->ac.quad = o->quad;
        r->method = r->ac.act.kind == TDL_KACT_NUMERIC ? "recursion with 2D quadrature of the dual maps (composite Gauss-Legendre split at the transitions)" : "recursion with closed-form dual maps";
        r->normalization = r->ac.param == TDL_PARAM_NTK ? "per output (K delta_cc'); NTK parametrization; Sigma_0 = x.x'/d"
                                                        : "per output (K delta_cc'); standard parametrization at the net's widths; Sigma_0 = x.x'/d";
        if (o->nngp) r->kind = "analytic_nngp";
    } else if (!o->mc) {
        r->method = tdl_ntk_method_name(r->m, &o->no);
        r->normalization = o->full ? "full (nC x nC), row i*C + c"
                           : o->no.outputs == TDL_NTK_OUTPUTS_SUM ? "traced: sum over the C outputs of J_c J_c^T (torch.func)"
                                                                  : "traced: mean over the C outputs of J_c J_c^T";
    }
    return 0;
}

/* The kernel on the training inputs into r->K (timed). */
static int ntk_kernel(const ntk_opts *o, ntk_result *r)
{
    int st, rc;
    const tdl_mlp *m = r->m;
    double t0 = now();
    if ((rc = ntk_describe(o, r)) != 0) return rc;
    if (o->hinf) {
        st = tdl_ntk_h_inf(r->ds->X, r->K);
    } else if (o->analytic) {
        st = tdl_ntk_analytic(&r->ac, r->ds->X, NULL, o->nngp ? r->K : NULL, o->nngp ? NULL : r->K);
    } else if (o->mc) {
        /* the net's own distribution: its widths, activation, parametrization,
         * sigmas (resolved), biases; Gaussian init; seeds --seed, --seed + 1, ... */
        tdl_mlp_config mcfg;
        tdl_ntk_monte_carlo_config_from_mlp(m, &mcfg);
        r->method = o->nngp ? "Monte Carlo: mean of f_c(x) f_c(x') over nets and outputs" : "Monte Carlo: mean of the traced empirical NTK over nets";
        r->normalization = "per output; gaussian init with the net's sigmas, seeds --seed + i";
        st = tdl_ntk_monte_carlo(&mcfg, r->ds->X, o->mc, o->mo.seed, o->nngp ? r->K : NULL, o->nngp ? NULL : r->K, NULL);
        if (o->nngp) r->kind = "monte_carlo_nngp";
    } else {
        st = tdl_ntk_empirical(m, r->ds->X, NULL, &o->no, r->K);
    }
    r->seconds = now() - t0;
    return st != TDL_OK ? cli_fail(st) : 0;
}

/* C for the empirical traced kernel summed over the outputs, else 1. */
static double outputs_factor(const ntk_opts *o, const ntk_result *r)
{
    int empirical = !o->hinf && !o->analytic && !o->mc && !o->full;
    return empirical && o->no.outputs == TDL_NTK_OUTPUTS_SUM ? (double)r->C : 1.0;
}

/* For --predict: the targets, the outputs at the start (the net's own for
 * the empirical kernel: the linearized net starts there; zero, the ensemble
 * mean, for H_inf and the analytic kernels) and the arrays of the
 * predictions.  0 or an exit code. */
static int predict_prepare(const ntk_opts *o, ntk_result *r)
{
    const tdl_dataset *ds = r->ds, *dt = r->dt;
    int st;
    if (o->hinf) r->C = 1;
    size_t k = r->C, mt = dt->n, n = r->n;
    r->Y = gsl_matrix_alloc(n, k);
    r->Yt = gsl_matrix_alloc(mt, k);
    r->F0 = gsl_matrix_calloc(n, k);
    r->Ft0 = gsl_matrix_calloc(mt, k);
    r->F = gsl_matrix_alloc(n, k);
    r->Ftest = gsl_matrix_alloc(mt, k);
    if (!r->Y || !r->Yt || !r->F0 || !r->Ft0 || !r->F || !r->Ftest) return cli_failf("out of memory");
    if ((st = tdl_ntk_targets(ds, k, r->Y)) != TDL_OK || (st = tdl_ntk_targets(dt, k, r->Yt)) != TDL_OK) return ntk_fail(st);
    /* F0, Ft0 are n x C and mt x C, contiguous */
    if (!o->hinf && !o->analytic &&
        ((st = tdl_mlp_predict(r->m, ds, r->F0->data)) != TDL_OK || (st = tdl_mlp_predict(r->m, dt, r->Ft0->data)) != TDL_OK))
        return ntk_fail(st);
    return 0;
}

/* The mse of the outputs before and after (tdl's mse: a mean over examples). */
static void predict_errors(ntk_result *r)
{
    r->train_mse0 = mse_of(r->F0, r->Y);
    r->test_mse0 = mse_of(r->Ft0, r->Yt);
    r->train_mse = mse_of(r->F, r->Y);
    r->test_mse = mse_of(r->Ftest, r->Yt);
}

/* Kernel-regime predictions on --test (tdl_ntk_predict). */
static int ntk_predict(const ntk_opts *o, ntk_result *r)
{
    const tdl_dataset *ds = r->ds, *dt = r->dt;
    int st, rc;
    if ((rc = predict_prepare(o, r)) != 0) return rc;
    r->Kt = gsl_matrix_alloc(dt->n, r->n);
    if (!r->Kt) return cli_failf("out of memory for the %zu x %zu test kernel", dt->n, r->n);
    if (o->hinf) st = tdl_ntk_h_inf_cross(dt->X, ds->X, r->Kt); /* test x train */
    else if (o->analytic) st = tdl_ntk_analytic(&r->ac, dt->X, ds->X, o->nngp ? r->Kt : NULL, o->nngp ? NULL : r->Kt);
    else st = tdl_ntk_empirical(r->m, dt->X, ds->X, &o->no, r->Kt);
    if (st != TDL_OK) return ntk_fail(st);
    /* tdl's mse: mean over examples; a kernel summed over the C outputs is
     * C times the per-output kernel the dynamics use */
    double norm = (double)r->n * outputs_factor(o, r);
    if ((st = tdl_ntk_predict(r->K, r->Y, r->F0, r->Kt, r->Ft0, o->lr, o->t_pred, norm, r->ridge_abs, r->F, r->Ftest)) != TDL_OK)
        return ntk_fail(st);
    predict_errors(r);
    return 0;
}

/* After Arora's complexity: a kernel that is not positive definite leaves a
 * note with the ridge it needs (the number is then absent); another error
 * fails.  0 or an exit code. */
static int arora_status(int st, ntk_result *r)
{
    if (st == TDL_ENOTPD) {
        r->arora = NAN;
        r->has_arora_note = 1;
        with_ridge_advice(r->arora_note, sizeof r->arora_note);
        return 0;
    }
    return st != TDL_OK ? cli_fail(st) : 0;
}

/* lambda_min, lambda_max, the PSD tolerance, the condition number and
 * eta_max from r->ev (ascending, r->dim values). */
static void ntk_spectrum_summary(const ntk_opts *o, ntk_result *r)
{
    size_t dim = r->dim;
    r->lmin = r->ev[0];
    r->lmax = r->ev[dim - 1];
    r->psd_tol = (double)dim * DBL_EPSILON * fmax(fabs(r->lmin), fabs(r->lmax));
    r->cond = r->lmin > 0 ? r->lmax / r->lmin : INFINITY;
    /* norm n: tdl's mse is a mean; n C for a kernel summed over the C outputs */
    r->eta_max = r->lmax > 0 ? tdl_ntk_eta_max(r->lmax, (double)r->n * outputs_factor(o, r), 0) : NAN;
}

/* The kernel of the options as tdl/dist.h names it. */
static tdl_dist_kernel dist_kernel_of(const ntk_opts *o, const ntk_result *r)
{
    tdl_dist_kernel k = {.kind = TDL_DIST_KERNEL_NTK_EMPIRICAL, .net = r->m, .ntk = &o->no};
    if (o->hinf) k = (tdl_dist_kernel){.kind = TDL_DIST_KERNEL_H_INF};
    else if (o->analytic)
        k = (tdl_dist_kernel){.kind = o->nngp ? TDL_DIST_KERNEL_NNGP_ANALYTIC : TDL_DIST_KERNEL_NTK_ANALYTIC, .analytic = &r->ac};
    return k;
}

/* ntk_predict under mpirun: the same formulas (tdl_ntk_predict) with the
 * distributed solves; the test kernel is never formed whole. */
static int ntk_predict_dist(const ntk_opts *o, ntk_result *r)
{
    const tdl_dataset *ds = r->ds, *dt = r->dt;
    int st, rc;
    if ((rc = predict_prepare(o, r)) != 0) return rc;
    size_t k = r->C, mt = dt->n, n = r->n;
    double *R = malloc(n * k * sizeof(double)), *U = malloc(n * k * sizeof(double));
    double *D = malloc(n * k * sizeof(double)), *P = malloc(mt * k * sizeof(double));
    if (!R || !U || !D || !P) { rc = cli_failf("out of memory"); goto done; }
    for (size_t i = 0; i < n * k; i++) R[i] = r->F0->data[i] - r->Y->data[i]; /* R = f_0 - y */
    tdl_dist_kernel kern = dist_kernel_of(o, r);
    double norm = (double)n * outputs_factor(o, r), sign;
    if (isinf(o->t_pred)) {
        /* f_inf = y + ridge (K + ridge)^-1 R, f*_inf = f*_0 - K* (K + ridge)^-1 R */
        if ((st = tdl_dist_gram_solve(r->gram, r->ridge_abs, R, k, U)) != TDL_OK) { rc = ntk_fail(st); goto done; }
        for (size_t i = 0; i < n * k; i++) D[i] = r->ridge_abs * U[i];
        sign = -1;
    } else {
        /* f_t = y + V exp(-c Lambda) V^T R, f*_t = f*_0 + K* V g(Lambda) V^T R */
        if ((st = tdl_dist_gram_flow(r->gram, r->ridge_abs, o->lr * o->t_pred / norm, R, k, D, U)) != TDL_OK) { rc = ntk_fail(st); goto done; }
        sign = 1;
    }
    if ((st = tdl_dist_kernel_apply(&kern, dt->X, ds->X, U, k, P)) != TDL_OK) { rc = ntk_fail(st); goto done; }
    for (size_t i = 0; i < n * k; i++) r->F->data[i] = r->Y->data[i] + D[i];
    for (size_t i = 0; i < mt * k; i++) r->Ftest->data[i] = r->Ft0->data[i] + sign * P[i];
    predict_errors(r);
done:
    free(R);
    free(U);
    free(D);
    free(P);
    return rc;
}

/* ntk_run's work under mpirun, after the data and the net are loaded. */
static int ntk_run_dist(const ntk_opts *o, ntk_result *r)
{
    int st, rc;
    size_t n = r->n;
    if ((rc = ntk_describe(o, r)) != 0) return rc;
    r->ev = malloc(n * sizeof(double));
    if (!r->ev) return cli_failf("out of memory");
    if ((rc = cli_dist_ready(0)) != 0) return rc; /* every rank has loaded (dist_cli.h) */
    tdl_dist_kernel kern = dist_kernel_of(o, r);
    double t0 = now();
    if ((st = tdl_dist_gram_create(&kern, r->ds->X, &r->gram)) != TDL_OK) return cli_fail(st);
    r->seconds = now() - t0;
    r->trace = tdl_dist_gram_trace(r->gram);
    r->fro = tdl_dist_gram_frobenius(r->gram);
    r->ridge_abs = o->ridge * (r->trace / (double)n);
    if ((st = tdl_dist_gram_eigenvalues(r->gram, 0, SIZE_MAX, TDL_DIST_SOLVER_AUTO, r->ev)) != TDL_OK) return cli_fail(st);
    snprintf(r->driver, sizeof r->driver, "%s", tdl_dist_gram_driver(r->gram));
    ntk_spectrum_summary(o, r);
    if (r->C == 1 || o->hinf) {
        /* Arora et al.'s complexity sqrt(2 y^T (K + ridge)^-1 y / n) */
        double *y = malloc(n * sizeof(double)), *a = malloc(n * sizeof(double));
        if (!y || !a) { free(y); free(a); return cli_failf("out of memory"); }
        st = TDL_OK;
        if (tdl_ntk_arora_labels(r->ds, y) == TDL_OK && (st = tdl_dist_gram_solve(r->gram, r->ridge_abs, y, 1, a)) == TDL_OK) {
            double q = 0;
            for (size_t i = 0; i < n; i++) q += y[i] * a[i];
            r->arora = sqrt(2.0 * q / (double)n);
        }
        free(y);
        free(a);
        if ((rc = arora_status(st, r)) != 0) return rc;
    }
    if (o->predict && (rc = ntk_predict_dist(o, r)) != 0) return rc;
    return 0;
}

/* Library calls only: 0, or the exit code after the error was printed. */
static int ntk_run(const ntk_opts *o, ntk_result *r)
{
    int st, rc;
    r->kind = o->hinf ? "h_inf" : o->analytic ? "analytic" : o->mc ? "monte_carlo" : "empirical";
    r->method = r->normalization = "";
    r->C = 1;
    r->arora = r->drift = NAN;
    r->train_mse = r->test_mse = r->train_mse0 = r->test_mse0 = NAN;
    if ((st = cli_load_data(o->data, &r->ds)) != TDL_OK) return cli_fail(st);
    if (o->test && (st = cli_load_data(o->test, &r->dt)) != TDL_OK) return cli_fail(st);
    const tdl_dataset *ds = r->ds;
    if (r->dt && r->dt->d != ds->d) return cli_failf("--test %s: %zu features but the training data has %zu", o->test, r->dt->d, ds->d);
    if (!o->hinf || o->mo.model || o->mo.arch) {
        if ((rc = cli_model_build(&o->mo, "ntk", &r->m)) != 0) return rc;
        const tdl_mlp *m = r->m;
        if (m->layers[0].in != ds->d) return cli_failf("%s: %zu features but the model takes %zu", o->data, ds->d, m->layers[0].in);
        r->C = m->layers[m->depth - 1].out;
        tdl_arch_format(m, r->arch, sizeof r->arch);
        if (o->no.layers && (o->no.layers >> m->depth)) return cli_usage("ntk", "--layers: the net has layers 0..%zu", m->depth - 1);
    }
    size_t n = ds->n, dim = o->full ? n * r->C : n;
    r->n = n;
    r->dim = dim;
    if (cli_dist_active()) return ntk_run_dist(o, r);
    if ((st = tdl_dense_memory_check(dim, 2, 0, "the Gram matrix")) != TDL_OK) return cli_fail(st);
    r->K = gsl_matrix_alloc(dim, dim);
    r->ev = malloc(dim * sizeof(double));
    if (!r->K || !r->ev) return cli_failf("out of memory for the %zu x %zu Gram matrix", dim, dim);
    if ((rc = ntk_kernel(o, r)) != 0) return rc;
    const gsl_matrix *K = r->K;
    double trace = 0, fro = 0;
    for (size_t i = 0; i < dim; i++) trace += gsl_matrix_get(K, i, i);
    for (size_t i = 0; i < dim * dim; i++) fro += K->data[i] * K->data[i];
    r->trace = trace;
    r->fro = sqrt(fro);
    r->ridge_abs = o->ridge * (trace / (double)dim);
    if ((st = tdl_ntk_eigenvalues(K, r->ev)) != TDL_OK) return cli_fail(st);
    ntk_spectrum_summary(o, r);
    /* Arora et al.'s complexity for data with one target (tdl_ntk_arora_labels:
     * two classes as +-1, or one regression column); none otherwise */
    if (!o->full && (r->C == 1 || o->hinf)) {
        double *y = malloc(n * sizeof(double));
        if (!y) return cli_failf("out of memory");
        st = tdl_ntk_arora_labels(ds, y) == TDL_OK ? tdl_ntk_arora_complexity(K, y, r->ridge_abs, &r->arora) : TDL_OK;
        free(y);
        if ((rc = arora_status(st, r)) != 0) return rc;
    }
    if (o->drift && (st = tdl_ntk_drift(r->m, ds->X, &o->no, &r->drift)) != TDL_OK) return cli_fail(st);
    if (o->per_layer && !o->hinf && !o->analytic && !o->mc) {
        const tdl_mlp *m = r->m;
        r->layer_tr = calloc(m->depth, sizeof(double));
        gsl_matrix *Kl = gsl_matrix_alloc(dim, dim);
        if (!r->layer_tr || !Kl) { if (Kl) gsl_matrix_free(Kl); return cli_failf("out of memory"); }
        for (size_t l = 0; l < m->depth; l++) {
            tdl_ntk_config ol = o->no;
            ol.layers = 1ULL << l;
            if ((st = tdl_ntk_empirical(m, ds->X, NULL, &ol, Kl)) != TDL_OK) { gsl_matrix_free(Kl); return cli_fail(st); }
            for (size_t i = 0; i < dim; i++) r->layer_tr[l] += gsl_matrix_get(Kl, i, i);
        }
        gsl_matrix_free(Kl);
    }
    if (o->predict && (rc = ntk_predict(o, r)) != 0) return rc;
    return 0;
}

/* ---- emit --------------------------------------------------------------- */

/* The positive eigenvalues in descending order, on log-log axes. */
static int ntk_plot(const ntk_opts *o, const ntk_result *r)
{
    size_t dim = r->dim;
    double *x = malloc(dim * sizeof(double)), *y = malloc(dim * sizeof(double));
    if (!x || !y) { free(x); free(y); return cli_failf("out of memory"); }
    size_t cnt = 0;
    for (size_t i = 0; i < dim; i++)
        if (r->ev[dim - 1 - i] > r->psd_tol) { x[cnt] = (double)(i + 1); y[cnt] = r->ev[dim - 1 - i]; cnt++; }
    char caption[512];
    snprintf(caption, sizeof caption, "%s kernel (%s) of %s on %s; %s", r->kind, r->normalization, r->m ? r->arch : "the inputs",
             r->ds->spec, r->method);
    plot_series s = {.title = "eigenvalues", .x = x, .y = y, .n = cnt, .style = PLOT_LINESPOINTS};
    char title[160];
    snprintf(title, sizeof title, "%s %s Gram matrix spectrum (%zu x %zu, positive eigenvalues)", r->kind,
             o->nngp ? "NNGP" : o->hinf ? "H_inf" : "NTK", dim, dim);
    plot_spec ps = {.title = title, .xlabel = "index (descending order)", .ylabel = "eigenvalue (normalization in the caption)",
                    .caption = caption, .logx = 1, .logy = 1, .series = &s, .n_series = 1};
    int st = cnt ? plot_render(o->plot, &ps) : tdl_error_set(TDL_EINVAL, "--plot: no positive eigenvalue to draw");
    free(x);
    free(y);
    return st != TDL_OK ? cli_fail(st) : 0;
}

static int ntk_emit_json(const ntk_opts *o, const ntk_result *r)
{
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    json_object_begin(&w, NULL);
    json_string(&w, "data", r->ds->spec);
    if (r->m) json_string(&w, "arch", r->arch);
    json_size(&w, "n", r->n);
    json_size(&w, "dim", r->dim);
    json_string(&w, "kind", r->kind);
    json_string(&w, "kernel", o->nngp ? "nngp" : o->hinf ? "h_inf" : "ntk");
    json_string(&w, "method", r->method);
    json_string(&w, "normalization", r->normalization);
    if (!o->hinf && !o->analytic) json_size(&w, "outputs", r->C);
    if (!o->hinf && !o->analytic && !o->mc && !o->full)
        json_string(&w, "ntk_outputs", tdl_name_of(tdl_ntk_outputs_names, (int)o->no.outputs));
    if (r->m) cli_provenance_model_json(&w, &o->mo, r->m);
    if (o->mc) json_size(&w, "samples", o->mc);
    json_number_array(&w, "eigenvalues", r->ev, r->dim, 1);
    json_number(&w, "lambda_min", r->lmin);
    json_number(&w, "lambda_max", r->lmax);
    json_number(&w, "trace", r->trace);
    json_number(&w, "frobenius", r->fro);
    json_number(&w, "psd_tolerance", r->psd_tol);
    json_bool(&w, "psd", r->lmin >= -r->psd_tol);
    if (isfinite(r->cond)) json_number(&w, "condition_number", r->cond);
    else { json_null(&w, "condition_number"); json_string(&w, "condition_number_reason", "condition number undefined: lambda_min <= 0"); }
    if (isfinite(r->eta_max)) json_number(&w, "eta_max", r->eta_max);
    json_string(&w, "eta_max_convention", outputs_factor(o, r) > 1 ? "2 n C / lambda_max (the kernel sums the C outputs) for tdl's mse (1/n) sum 1/2 ||f - y||^2, no momentum"
                                                                   : "2 n / lambda_max for tdl's mse (1/n) sum 1/2 ||f - y||^2, no momentum");
    json_number(&w, "ridge", r->ridge_abs);
    if (!isnan(r->arora)) json_number(&w, "arora_complexity", r->arora);
    else if (r->has_arora_note) { json_null(&w, "arora_complexity"); json_string(&w, "arora_complexity_reason", r->arora_note); }
    if (r->layer_tr) json_number_array(&w, "layer_traces", r->layer_tr, r->m->depth, 1);
    if (o->drift) json_number(&w, "drift", r->drift);
    if (o->predict) {
        json_object_begin(&w, "predict");
        json_string(&w, "test", r->dt->spec);
        if (isinf(o->t_pred)) { json_null(&w, "time"); json_string(&w, "time_reason", "t = infinity: the converged (kernel regression) predictor"); }
        else json_number(&w, "time", o->t_pred);
        json_number(&w, "lr", o->lr);
        json_string(&w, "loss", "mse, (1/n) sum 1/2 ||f - y||^2 (one-hot / 0-1 / regression targets)");
        json_string(&w, "initial_outputs", (o->hinf || o->analytic) ? "zero (the ensemble mean)" : "the net's outputs at its current parameters");
        json_number(&w, "train_mse_initial", r->train_mse0);
        json_number(&w, "test_mse_initial", r->test_mse0);
        json_number(&w, "train_mse", r->train_mse);
        json_number(&w, "test_mse", r->test_mse);
        json_number_array(&w, "test_predictions", r->Ftest->data, r->Ftest->size1 * r->Ftest->size2, 1);
        json_object_end(&w);
    }
    json_number(&w, "seconds", r->seconds);
    if (r->driver[0]) {
        json_size(&w, "ranks", tdl_dist_size());
        json_string(&w, "eigen_solver", r->driver);
    }
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

static void ntk_emit_text(const ntk_opts *o, const ntk_result *r)
{
    const tdl_mlp *m = r->m;
    size_t dim = r->dim;
    printf("kernel       %s %s (%s)\n", r->kind, o->nngp ? "nngp" : o->hinf ? "" : "ntk", r->normalization);
    if (m) {
        char prov[512];
        cli_provenance_model_text(&o->mo, m, prov, sizeof prov);
        printf("model        %s (%s, %zu parameters; %s)\n", o->mo.model ? o->mo.model : "fresh net", r->arch, m->n_params, prov);
    }
    printf("data         %s (%zu examples); Gram matrix %zu x %zu\n", r->ds->spec, r->n, dim, dim);
    printf("method       %s, %.3g s\n", r->method, r->seconds);
    if (r->driver[0]) printf("ranks        %s (the Gram matrix block-cyclic over the ranks)\n", r->driver);
    printf("lambda_min   %.10g\nlambda_max   %.10g\n", r->lmin, r->lmax);
    printf("condition    %.6g\n", r->cond);
    printf("trace        %.10g\n", r->trace);
    printf("PSD          %s (lambda_min >= -n eps ||K|| = %.3g)\n", r->lmin >= -r->psd_tol ? "yes" : "NO", -r->psd_tol);
    if (isfinite(r->eta_max)) printf("eta_max      %.6g (%s / lambda_max, tdl's mse)\n", r->eta_max, outputs_factor(o, r) > 1 ? "2 n C" : "2 n");
    if (!isnan(r->arora)) printf("arora        %.6g (sqrt(2 y^T (K + ridge) ^-1 y / n), y = +-1 / targets)\n", r->arora);
    else if (r->has_arora_note) printf("arora        n/a: %s\n", r->arora_note);
    if (r->layer_tr)
        for (size_t l = 0; l < m->depth; l++) printf("layer %-6zu trace %.10g (%.2f%%)\n", l, r->layer_tr[l], 100 * r->layer_tr[l] / r->trace);
    if (o->drift) printf("drift        %.6g (||K_t - K_0||_F / ||K_0||_F)\n", r->drift);
    if (o->predict)
        printf("predict      t = %g, lr = %g: train mse %.6g -> %.6g, test mse %.6g -> %.6g\n", o->t_pred, o->lr,
               r->train_mse0, r->train_mse, r->test_mse0, r->test_mse);
    if (o->out) printf("written      %s\n", o->out);
}

/* The .npy file, the figure, then JSON or text: 0 or an exit code. */
static int ntk_emit(const ntk_opts *o, const ntk_result *r)
{
    int st, rc;
    if (o->out) {
        size_t dim = r->dim;
        tdl_tensor t = {.name = (char *)"K", .dtype = TDL_F64, .ndim = 2, .shape = {dim, dim}, .numel = dim * dim, .data = r->K->data};
        if ((st = tdl_npy_write(o->out, &t)) != TDL_OK) return cli_fail(st);
    }
    if (o->plot && (rc = ntk_plot(o, r)) != 0) return rc;
    if (o->as_json) return ntk_emit_json(o, r);
    ntk_emit_text(o, r);
    return 0;
}

int cmd_ntk(int argc, char **argv)
{
    ntk_opts o;
    if (cli_dist_begin() != 0) return EXIT_WORK_FAILED; /* under mpirun: rank 0 speaks (dist_cli.h) */
    int rc = ntk_parse(argc, argv, &o);
    if (rc != 0) return cli_dist_end(rc);
    cli_set_threads(o.threads);
    ntk_result r;
    memset(&r, 0, sizeof r);
    rc = ntk_run(&o, &r);
    if (rc == 0 && cli_dist_root()) rc = ntk_emit(&o, &r); /* rank 0 prints and writes */
    ntk_result_free(&r);
    return cli_dist_end(rc); /* under mpirun: no rank left waiting */
}
