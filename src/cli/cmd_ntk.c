/* cmd_ntk.c — `tdl ntk`: empirical and analytic NTK / NNGP Gram matrices,
 * Du et al.'s H_inf, spectra, kernel predictions and NTK drift (tdl/ntk.h). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "modelopts.h"
#include "plot.h"
#include "internal.h"
#include "tdl/ntk.h"

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_ANALYTIC, OPT_NNGP, OPT_HINF, OPT_FULL, OPT_LAYERS, OPT_METHOD, OPT_BUDGET,
    OPT_KACT, OPT_QUAD, OPT_RIDGE, OPT_PREDICT, OPT_TIME, OPT_LR, OPT_DRIFT, OPT_OUT, OPT_JSON, OPT_PLOT,
    OPT_THREADS, OPT_QUIET, OPT_PER_LAYER, OPT_MC
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Regression targets of a data set for a C-output net: tdl's mse targets
 * (one-hot classes, the 0/1 label for one output, Y for regression). */
static gsl_matrix *targets(const tdl_dataset *ds, size_t C)
{
    gsl_matrix *Y = gsl_matrix_calloc(ds->n, C);
    if (!Y) return NULL;
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->Y) {
            for (size_t c = 0; c < C && c < ds->Y->size2; c++) gsl_matrix_set(Y, i, c, gsl_matrix_get(ds->Y, i, c));
        } else if (C == 1) {
            gsl_matrix_set(Y, i, 0, (double)ds->labels[i]);
        } else if (ds->labels[i] < C) {
            gsl_matrix_set(Y, i, ds->labels[i], 1.0);
        }
    }
    return Y;
}

static int outputs_of(const tdl_mlp *m, const gsl_matrix *X, gsl_matrix *F)
{
    tdl_dataset d = {0};
    d.n = X->size1;
    d.d = X->size2;
    d.X = (gsl_matrix *)(uintptr_t)X;
    tdl_net_work *w = NULL;
    size_t cap = d.n < 1024 ? d.n : 1024;
    int st = tdl_net_work_alloc(m, cap, &w);
    for (size_t r = 0; st == TDL_OK && r < d.n; r += cap) {
        size_t b = d.n - r < cap ? d.n - r : cap;
        tdl_batch bt = tdl_batch_rows(&d, r, b);
        st = tdl_mlp_forward(m, &bt, w, F->data + r * F->tda);
    }
    tdl_net_work_free(&w);
    return st;
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

int cmd_ntk(int argc, char **argv)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"analytic", no_argument, NULL, OPT_ANALYTIC}, {"nngp", no_argument, NULL, OPT_NNGP},
        {"h-inf", no_argument, NULL, OPT_HINF}, {"full", no_argument, NULL, OPT_FULL},
        {"layers", required_argument, NULL, OPT_LAYERS}, {"method", required_argument, NULL, OPT_METHOD},
        {"budget", required_argument, NULL, OPT_BUDGET}, {"kernel-act", required_argument, NULL, OPT_KACT},
        {"quad", required_argument, NULL, OPT_QUAD}, {"ridge", required_argument, NULL, OPT_RIDGE},
        {"predict", no_argument, NULL, OPT_PREDICT}, {"time", required_argument, NULL, OPT_TIME},
        {"lr", required_argument, NULL, OPT_LR}, {"drift", no_argument, NULL, OPT_DRIFT},
        {"out", required_argument, NULL, OPT_OUT}, {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT}, {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET}, {"per-layer", no_argument, NULL, OPT_PER_LAYER},
        {"mc", required_argument, NULL, OPT_MC},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *data = NULL, *test = NULL, *out = NULL, *plot = NULL, *kact = NULL;
    int analytic = 0, nngp = 0, hinf = 0, full = 0, predict = 0, drift = 0, as_json = 0, per_layer = 0;
    size_t quad = 0, budget_mb = 256, threads = 0, mc = 0;
    double ridge = 0, t_pred = INFINITY, lr = 1.0;
    tdl_ntk_options no;
    tdl_ntk_options_default(&no);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "ntk")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(&mo, "ntk", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_TEST: test = optarg; break;
        case OPT_ANALYTIC: analytic = 1; break;
        case OPT_NNGP: nngp = 1; break;
        case OPT_HINF: hinf = 1; break;
        case OPT_FULL: full = 1; break;
        case OPT_PER_LAYER: per_layer = 1; break;
        case OPT_LAYERS: {
            unsigned long long mask;
            bad = cli_parse_index_list(optarg, TDL_MAX_DEPTH - 1, &mask);
            if (!bad) no.layers = mask;
            break;
        }
        case OPT_METHOD:
            if (!strcmp(optarg, "auto")) no.method = TDL_NTK_AUTO;
            else if (!strcmp(optarg, "structured")) no.method = TDL_NTK_STRUCTURED;
            else if (!strcmp(optarg, "jacobian")) no.method = TDL_NTK_JACOBIAN;
            else return cli_usage("ntk", "--method %s: expected auto, structured or jacobian", optarg);
            break;
        case OPT_BUDGET: bad = cli_parse_size(optarg, 1, 1u << 30, &budget_mb); break;
        case OPT_KACT: kact = optarg; break;
        case OPT_QUAD: bad = cli_parse_size(optarg, 2, 256, &quad); break;
        case OPT_RIDGE: bad = cli_parse_double(optarg, &ridge) || !(ridge >= 0) || !isfinite(ridge); break;
        case OPT_PREDICT: predict = 1; break;
        case OPT_TIME:
            if (!strcmp(optarg, "inf") || !strcmp(optarg, "infinity")) t_pred = INFINITY;
            else bad = cli_parse_double(optarg, &t_pred) || !(t_pred >= 0) || !isfinite(t_pred);
            break;
        case OPT_LR: bad = cli_parse_double(optarg, &lr) || !(lr > 0) || !isfinite(lr); break;
        case OPT_DRIFT: drift = 1; break;
        case 'o':
        case OPT_OUT: out = optarg; break;
        case OPT_JSON: as_json = 1; break;
        case OPT_PLOT: plot = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &threads); break;
        case OPT_QUIET: break;
        case OPT_MC: bad = cli_parse_size(optarg, 2, 1000000, &mc); break;
        default: return cli_bad_option("ntk", argv, optopt);
        }
        if (bad) return cli_usage("ntk", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("ntk", "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage("ntk", "--data SPEC is required");
    if (nngp && !analytic && !mc) return cli_usage("ntk", "--nngp needs --analytic or --mc (the NNGP is a kernel over random inits)");
    if (mc && (analytic || hinf || full || predict || drift)) return cli_usage("ntk", "--mc cannot be combined with --analytic, --h-inf, --full, --predict or --drift");
    if (hinf && (analytic || full)) return cli_usage("ntk", "--h-inf cannot be combined with --analytic or --full");
    if (full && analytic) return cli_usage("ntk", "--full is for the empirical kernel (the analytic one is delta_cc' K)");
    if (predict && !test) return cli_usage("ntk", "--predict needs --test SPEC");
    if (predict && full) return cli_usage("ntk", "--predict uses the traced kernel: drop --full");
    if (drift && !mo.model) return cli_usage("ntk", "--drift needs --model FILE (with its init.* tensors)");
    if ((kact || quad) && !analytic) return cli_usage("ntk", "--kernel-act and --quad belong to --analytic");
    if (!hinf && !mo.model && !mo.arch) return cli_usage("ntk", "give --model FILE or --arch A (or --h-inf)");
    if (plot) {
        const char *ext = strrchr(plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("ntk", "--plot %s: the figure must end in .png, .svg or .pdf", plot);
    }
    if (out) {
        const char *ext = strrchr(out, '.');
        if (!ext || strcmp(ext, ".npy")) return cli_usage("ntk", "-o %s: the Gram matrix goes to a .npy file", out);
    }
    {
        const cli_file ins[] = {{"--model", mo.model, CLI_FILE_PATH, NULL}, {"--data", data, CLI_FILE_SPEC, NULL}, {"--test", test, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"-o", out, CLI_FILE_PATH, NULL}, {"--plot", plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("ntk", ins, 3, outs, 2) != 0) return EXIT_WORK_FAILED;
    }
    no.full = full;
    no.budget_bytes = budget_mb << 20;
    cli_set_threads(threads);

    int rc = EXIT_WORK_FAILED, st;
    tdl_dataset *ds = NULL, *dt = NULL;
    tdl_mlp *m = NULL;
    gsl_matrix *K = NULL, *Kt = NULL, *Y = NULL, *Yt = NULL, *F0 = NULL, *Ft0 = NULL, *F = NULL, *Ftest = NULL;
    double *ev = NULL, *layer_tr = NULL;
    const char *kind = hinf ? "h_inf" : analytic ? "analytic" : mc ? "monte_carlo" : "empirical";
    const char *method = "", *normalization = "";
    char arch[256] = "";
    size_t C = 1;
    tdl_ntk_analytic_config ac;
    memset(&ac, 0, sizeof ac);
    if ((st = tdl_dataset_load(data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (test && (st = tdl_dataset_load(test, &dt)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (dt && dt->d != ds->d) { rc = cli_failf("--test %s: %zu features but the training data has %zu", test, dt->d, ds->d); goto cleanup; }
    if (!hinf || mo.model || mo.arch) {
        if ((rc = cli_model_build(&mo, "ntk", &m)) != 0) goto cleanup;
        rc = EXIT_WORK_FAILED;
        if (m->layers[0].in != ds->d) { rc = cli_failf("%s: %zu features but the model takes %zu", data, ds->d, m->layers[0].in); goto cleanup; }
        C = m->layers[m->depth - 1].out;
        tdl_arch_format(m, arch, sizeof arch);
        if (no.layers && (no.layers >> m->depth)) { rc = cli_usage("ntk", "--layers: the net has layers 0..%zu", m->depth - 1); goto cleanup; }
    }
    size_t n = ds->n, dim = full ? n * C : n;
    if ((st = tdl_dense_memory_check(dim, 2, 0, "the Gram matrix")) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    K = gsl_matrix_alloc(dim, dim);
    ev = malloc(dim * sizeof(double));
    if (!K || !ev) { rc = cli_failf("out of memory for the %zu x %zu Gram matrix", dim, dim); goto cleanup; }
    double t0 = now();
    if (hinf) {
        method = "Du et al. 2019: x_i.x_j (pi - theta_ij) / (2 pi), stable atan2 angle, rows as given";
        normalization = "expectation over w ~ N(0, I) (no 1/m)";
        st = tdl_ntk_h_inf(ds->X, K);
    } else if (analytic) {
        tdl_ntk_analytic_config_from_mlp(m, &ac);
        if (kact && (st = tdl_kact_parse(kact, &ac.act)) != TDL_OK) { rc = cli_usage("ntk", "--kernel-act: %s", tdl_errmsg()); goto cleanup; }
        ac.quad = quad;
        method = ac.act.kind == TDL_KACT_NUMERIC ? "recursion with 2D quadrature of the dual maps (composite Gauss-Legendre split at the transitions)" : "recursion with closed-form dual maps";
        normalization = ac.param == TDL_PARAM_NTK ? "per output (K delta_cc'); NTK parametrization; Sigma_0 = x.x'/d"
                                                  : "per output (K delta_cc'); standard parametrization at the net's widths; Sigma_0 = x.x'/d";
        st = tdl_ntk_analytic(&ac, ds->X, NULL, nngp ? K : NULL, nngp ? NULL : K);
        if (nngp) kind = "analytic_nngp";
    } else if (mc) {
        /* the net's own distribution: its widths, activation, parametrization,
         * sigmas (resolved), biases; Gaussian init; seeds --seed, --seed + 1, ... */
        tdl_mlp_config mcfg;
        tdl_mlp_config_default(&mcfg);
        mcfg.depth = m->depth;
        mcfg.widths[0] = m->layers[0].in;
        for (size_t l = 0; l < m->depth; l++) mcfg.widths[l + 1] = m->layers[l].out;
        mcfg.act = m->act;
        mcfg.param = m->param;
        mcfg.init = TDL_INIT_GAUSSIAN;
        mcfg.sigma_w = m->sigma_w;
        mcfg.sigma_b = m->sigma_b;
        mcfg.bias = m->layers[0].has_bias;
        method = nngp ? "Monte Carlo: mean of f_c(x) f_c(x') over nets and outputs" : "Monte Carlo: mean of the traced empirical NTK over nets";
        normalization = "per output; gaussian init with the net's sigmas, seeds --seed + i";
        st = tdl_ntk_monte_carlo(&mcfg, ds->X, mc, mo.seed, nngp ? K : NULL, nngp ? NULL : K, NULL);
        if (nngp) kind = "monte_carlo_nngp";
    } else {
        method = tdl_ntk_method_name(m, &no);
        normalization = full ? "full (nC x nC), row i*C + c" : "traced: mean over the C outputs of J_c J_c^T";
        st = tdl_ntk_empirical(m, ds->X, NULL, &no, K);
    }
    double seconds = now() - t0;
    if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    double trace = 0, fro = 0, mean_diag;
    for (size_t i = 0; i < dim; i++) trace += gsl_matrix_get(K, i, i);
    for (size_t i = 0; i < dim * dim; i++) fro += K->data[i] * K->data[i];
    fro = sqrt(fro);
    mean_diag = trace / (double)dim;
    double ridge_abs = ridge * mean_diag;
    if (out) {
        tdl_tensor t = {.name = (char *)"K", .dtype = TDL_F64, .ndim = 2, .shape = {dim, dim}, .numel = dim * dim, .data = K->data};
        if ((st = tdl_npy_write(out, &t)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    if ((st = tdl_ntk_eigenvalues(K, ev)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    double lmin = ev[0], lmax = ev[dim - 1], psd_tol = (double)dim * DBL_EPSILON * fmax(fabs(lmin), fabs(lmax));
    double cond = lmin > 0 ? lmax / lmin : INFINITY;
    double norm = (double)n; /* tdl's mse: mean over examples */
    double eta_max = lmax > 0 ? tdl_ntk_eta_max(lmax, norm, 0) : NAN;
    /* Arora et al.'s complexity for one target column: +-1 labels for binary classes */
    double arora = NAN;
    const char *arora_note = NULL;
    if (!full && (C == 1 || hinf) && (ds->Y ? ds->Y->size2 == 1 : ds->classes == 2)) {
        double *y = malloc(n * sizeof(double));
        if (!y) { rc = cli_failf("out of memory"); goto cleanup; }
        for (size_t i = 0; i < n; i++) y[i] = ds->Y ? gsl_matrix_get(ds->Y, i, 0) : (ds->labels[i] ? 1.0 : -1.0);
        st = tdl_ntk_arora_complexity(K, y, ridge_abs, &arora);
        free(y);
        if (st == TDL_ENOTPD) { arora = NAN; arora_note = tdl_errmsg(); }
        else if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    double drift_v = NAN;
    if (drift && (st = tdl_ntk_drift(m, ds->X, &no, &drift_v)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (per_layer && !hinf && !analytic && !mc) {
        layer_tr = calloc(m->depth, sizeof(double));
        gsl_matrix *Kl = gsl_matrix_alloc(dim, dim);
        if (!layer_tr || !Kl) { if (Kl) gsl_matrix_free(Kl); rc = cli_failf("out of memory"); goto cleanup; }
        for (size_t l = 0; l < m->depth; l++) {
            tdl_ntk_options ol = no;
            ol.layers = 1ULL << l;
            if ((st = tdl_ntk_empirical(m, ds->X, NULL, &ol, Kl)) != TDL_OK) { gsl_matrix_free(Kl); rc = cli_fail(st); goto cleanup; }
            for (size_t i = 0; i < dim; i++) layer_tr[l] += gsl_matrix_get(Kl, i, i);
        }
        gsl_matrix_free(Kl);
    }
    double train_mse = NAN, test_mse = NAN, train_mse0 = NAN, test_mse0 = NAN;
    if (predict) {
        if (hinf) C = 1;
        size_t k = C, mt = dt->n;
        Y = targets(ds, k);
        Yt = targets(dt, k);
        Kt = gsl_matrix_alloc(mt, n);
        F0 = gsl_matrix_calloc(n, k);
        Ft0 = gsl_matrix_calloc(mt, k);
        F = gsl_matrix_alloc(n, k);
        Ftest = gsl_matrix_alloc(mt, k);
        if (!Y || !Yt || !Kt || !F0 || !Ft0 || !F || !Ftest) { rc = cli_failf("out of memory"); goto cleanup; }
        if (hinf) {
            /* the test-train H_inf block: H_inf of the stacked rows, cut */
            gsl_matrix *Xs = gsl_matrix_alloc(n + mt, ds->d), *Hs = gsl_matrix_alloc(n + mt, n + mt);
            if (!Xs || !Hs) { if (Xs) gsl_matrix_free(Xs); if (Hs) gsl_matrix_free(Hs); rc = cli_failf("out of memory"); goto cleanup; }
            gsl_matrix_view a = gsl_matrix_submatrix(Xs, 0, 0, n, ds->d), b = gsl_matrix_submatrix(Xs, n, 0, mt, ds->d);
            gsl_matrix_memcpy(&a.matrix, ds->X);
            gsl_matrix_memcpy(&b.matrix, dt->X);
            st = tdl_ntk_h_inf(Xs, Hs);
            if (st == TDL_OK) {
                gsl_matrix_view cut = gsl_matrix_submatrix(Hs, n, 0, mt, n);
                gsl_matrix_memcpy(Kt, &cut.matrix);
            }
            gsl_matrix_free(Xs);
            gsl_matrix_free(Hs);
        } else if (analytic) {
            st = tdl_ntk_analytic(&ac, dt->X, ds->X, nngp ? Kt : NULL, nngp ? NULL : Kt);
        } else {
            st = tdl_ntk_empirical(m, dt->X, ds->X, &no, Kt);
            /* the linearized net starts from the net's own outputs */
            if (st == TDL_OK) st = outputs_of(m, ds->X, F0);
            if (st == TDL_OK) st = outputs_of(m, dt->X, Ft0);
        }
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        if ((st = tdl_ntk_predict(K, Y, F0, Kt, Ft0, lr, t_pred, norm, ridge_abs, F, Ftest)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        train_mse0 = mse_of(F0, Y);
        test_mse0 = mse_of(Ft0, Yt);
        train_mse = mse_of(F, Y);
        test_mse = mse_of(Ftest, Yt);
    }
    if (plot) {
        double *x = malloc(dim * sizeof(double)), *y = malloc(dim * sizeof(double));
        if (!x || !y) { free(x); free(y); rc = cli_failf("out of memory"); goto cleanup; }
        size_t cnt = 0;
        for (size_t i = 0; i < dim; i++)
            if (ev[dim - 1 - i] > psd_tol) { x[cnt] = (double)(i + 1); y[cnt] = ev[dim - 1 - i]; cnt++; }
        char caption[512];
        snprintf(caption, sizeof caption, "%s kernel (%s) of %s on %s; %s", kind, normalization, m ? arch : "the inputs", ds->spec, method);
        plot_series s = {.title = "eigenvalues", .x = x, .y = y, .n = cnt, .style = PLOT_LINESPOINTS};
        char title[160];
        snprintf(title, sizeof title, "%s %s Gram matrix spectrum (%zu x %zu, positive eigenvalues)", kind,
                 nngp ? "NNGP" : hinf ? "H_inf" : "NTK", dim, dim);
        plot_spec ps = {.title = title, .xlabel = "index (descending order)", .ylabel = "eigenvalue (normalization in the caption)",
                        .caption = caption, .logx = 1, .logy = 1, .series = &s, .n_series = 1};
        st = cnt ? plot_render(plot, &ps) : tdl_fail(TDL_EINVAL, "--plot: no positive eigenvalue to draw");
        free(x);
        free(y);
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    if (as_json) {
        json_writer w;
        if (json_open(&w) != 0) { rc = cli_failf("out of memory"); goto cleanup; }
        json_object_begin(&w, NULL);
        json_string(&w, "data", ds->spec);
        if (m) json_string(&w, "arch", arch);
        json_size(&w, "n", n);
        json_size(&w, "dim", dim);
        json_string(&w, "kind", kind);
        json_string(&w, "kernel", nngp ? "nngp" : hinf ? "h_inf" : "ntk");
        json_string(&w, "method", method);
        json_string(&w, "normalization", normalization);
        if (!hinf && !analytic) json_size(&w, "outputs", C);
        if (mc) json_size(&w, "samples", mc);
        json_number_array(&w, "eigenvalues", ev, dim, 1);
        json_number(&w, "lambda_min", lmin);
        json_number(&w, "lambda_max", lmax);
        json_number(&w, "trace", trace);
        json_number(&w, "frobenius", fro);
        json_number(&w, "psd_tolerance", psd_tol);
        json_bool(&w, "psd", lmin >= -psd_tol);
        if (isfinite(cond)) json_number(&w, "condition_number", cond);
        else { json_null(&w, "condition_number"); json_string(&w, "condition_number_reason", "condition number undefined: lambda_min <= 0"); }
        if (isfinite(eta_max)) json_number(&w, "eta_max", eta_max);
        json_string(&w, "eta_max_convention", "2 n / lambda_max for tdl's mse (1/n) sum 1/2 ||f - y||^2, no momentum");
        json_number(&w, "ridge", ridge_abs);
        if (!isnan(arora)) json_number(&w, "arora_complexity", arora);
        else if (arora_note) { json_null(&w, "arora_complexity"); json_string(&w, "arora_complexity_reason", arora_note); }
        if (layer_tr) {
            json_number_array(&w, "layer_traces", layer_tr, m->depth, 1);
        }
        if (drift) json_number(&w, "drift", drift_v);
        if (predict) {
            json_object_begin(&w, "predict");
            json_string(&w, "test", dt->spec);
            if (isinf(t_pred)) { json_null(&w, "time"); json_string(&w, "time_reason", "t = infinity: the converged (kernel regression) predictor"); }
            else json_number(&w, "time", t_pred);
            json_number(&w, "lr", lr);
            json_string(&w, "loss", "mse, (1/n) sum 1/2 ||f - y||^2 (one-hot / 0-1 / regression targets)");
            json_string(&w, "initial_outputs", (hinf || analytic) ? "zero (the ensemble mean)" : "the net's outputs at its current parameters");
            json_number(&w, "train_mse_initial", train_mse0);
            json_number(&w, "test_mse_initial", test_mse0);
            json_number(&w, "train_mse", train_mse);
            json_number(&w, "test_mse", test_mse);
            json_number_array(&w, "test_predictions", Ftest->data, Ftest->size1 * Ftest->size2, 1);
            json_object_end(&w);
        }
        json_number(&w, "seconds", seconds);
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        printf("kernel       %s %s (%s)\n", kind, nngp ? "nngp" : hinf ? "" : "ntk", normalization);
        if (m) printf("model        %s (%s, %zu parameters)\n", mo.model ? mo.model : "fresh net", arch, m->n_params);
        printf("data         %s (%zu examples); Gram matrix %zu x %zu\n", ds->spec, n, dim, dim);
        printf("method       %s, %.3g s\n", method, seconds);
        printf("lambda_min   %.10g\nlambda_max   %.10g\n", lmin, lmax);
        printf("condition    %.6g\n", cond);
        printf("trace        %.10g\n", trace);
        printf("PSD          %s (lambda_min >= -n eps ||K|| = %.3g)\n", lmin >= -psd_tol ? "yes" : "NO", -psd_tol);
        if (isfinite(eta_max)) printf("eta_max      %.6g (2 n / lambda_max, tdl's mse)\n", eta_max);
        if (!isnan(arora)) printf("arora        %.6g (sqrt(2 y^T (K + ridge) ^-1 y / n), y = +-1 / targets)\n", arora);
        else if (arora_note) printf("arora        n/a: %s\n", arora_note);
        if (layer_tr)
            for (size_t l = 0; l < m->depth; l++) printf("layer %-6zu trace %.10g (%.2f%%)\n", l, layer_tr[l], 100 * layer_tr[l] / trace);
        if (drift) printf("drift        %.6g (||K_t - K_0||_F / ||K_0||_F)\n", drift_v);
        if (predict) {
            printf("predict      t = %g, lr = %g: train mse %.6g -> %.6g, test mse %.6g -> %.6g\n", t_pred, lr,
                   train_mse0, train_mse, test_mse0, test_mse);
        }
        if (out) printf("written      %s\n", out);
    }
    rc = 0;
cleanup:
    if (K) gsl_matrix_free(K);
    if (Kt) gsl_matrix_free(Kt);
    if (Y) gsl_matrix_free(Y);
    if (Yt) gsl_matrix_free(Yt);
    if (F0) gsl_matrix_free(F0);
    if (Ft0) gsl_matrix_free(Ft0);
    if (F) gsl_matrix_free(F);
    if (Ftest) gsl_matrix_free(Ftest);
    free(ev);
    free(layer_tr);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    tdl_dataset_free(&dt);
    return rc;
}
