/* cmd_certify.c — `tdl certify`: a PAC-Bayes risk certificate for a fresh net
 * trained on the data (tdl/certify.h): prior on one part, posterior and bound
 * on the other, and the held-out errors beside it.
 *
 * parse_options (certify_opts) -> library calls (tdl_certify, tdl_certify_test,
 * tdl_certify_measure) -> emit_plot, then emit_json or emit_text.  The ledger
 * (terms, hypotheses) comes from the library; this file prints it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "plot.h"
#include "tdl/certify.h"

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_FRACTION, OPT_OBJECTIVE, OPT_POSTERIOR, OPT_MC, OPT_DELTA, OPT_DELTA_MC, OPT_JSON,
    OPT_PLOT, OPT_QUIET, OPT_EPOCHS, OPT_PRIOR_EPOCHS, OPT_LR, OPT_PRIOR_LR, OPT_MOMENTUM, OPT_PRIOR_MOMENTUM,
    OPT_BATCH, OPT_PRIOR_SIGMA, OPT_PMIN, OPT_TEST_DRAWS, OPT_THREADS, OPT_LEAK
};

typedef struct certify_opts {
    cli_model_opts mo;
    const char *data, *test, *plot;
    tdl_certify_config cc;
    size_t test_draws, threads;
    int as_json, quiet;
} certify_opts;

/* the posterior's training curve, for --plot */
typedef struct curve {
    double *x, *obj, *emp, *klm;
    size_t n, cap;
    double m_bound;
    int progress;
} curve;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *phase_name[] = {"prior net", "prior scale", "posterior", "certificate"};

static int progress_cb(const tdl_certify_progress *p, void *user)
{
    curve *c = user;
    if (p->phase == 2 && c->n < c->cap) {
        c->x[c->n] = (double)p->done;
        c->obj[c->n] = p->objective;
        c->emp[c->n] = p->loss;
        c->klm[c->n] = p->kl / c->m_bound;
        c->n++;
    }
    if (!c->progress) return 0;
    if (p->phase == 0)
        fprintf(stderr, "tdl certify: %s epoch %zu/%zu  training loss %.5f\n", phase_name[0], p->done, p->total, p->loss);
    else if (p->phase == 1)
        fprintf(stderr, "tdl certify: %s, grid point %zu/%zu  stochastic prior-part error %.5f\n", phase_name[1], p->done,
                p->total, p->loss);
    else if (p->phase == 2)
        fprintf(stderr, "tdl certify: %s epoch %zu/%zu  objective %.5f  bounded loss %.5f  KL %.2f\n", phase_name[2], p->done,
                p->total, p->objective, p->loss, p->kl);
    else if (p->done == 0)
        fprintf(stderr, "tdl certify: %s, Monte Carlo over the bound part (%zu passes)\n", phase_name[3], p->total);
    else if (p->done % 10 == 0 || p->done == p->total)
        fprintf(stderr, "tdl certify: %s, sampled nets %zu/%zu  mean error %.5f\n", phase_name[3], p->done, p->total, p->loss);
    return 0;
}

/* -1: go on; otherwise the exit code. */
static int parse_options(int argc, char **argv, certify_opts *o)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA},
        {"test", required_argument, NULL, OPT_TEST},
        {"prior-fraction", required_argument, NULL, OPT_FRACTION},
        {"objective", required_argument, NULL, OPT_OBJECTIVE},
        {"posterior", required_argument, NULL, OPT_POSTERIOR},
        {"mc", required_argument, NULL, OPT_MC},
        {"delta", required_argument, NULL, OPT_DELTA},
        {"delta-mc", required_argument, NULL, OPT_DELTA_MC},
        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"prior-epochs", required_argument, NULL, OPT_PRIOR_EPOCHS},
        {"lr", required_argument, NULL, OPT_LR},
        {"prior-lr", required_argument, NULL, OPT_PRIOR_LR},
        {"momentum", required_argument, NULL, OPT_MOMENTUM},
        {"prior-momentum", required_argument, NULL, OPT_PRIOR_MOMENTUM},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"prior-sigma", required_argument, NULL, OPT_PRIOR_SIGMA},
        {"pmin", required_argument, NULL, OPT_PMIN},
        {"test-draws", required_argument, NULL, OPT_TEST_DRAWS},
        {"leak-prior", no_argument, NULL, OPT_LEAK},
        {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->mo);
    tdl_certify_config_default(&o->cc);
    o->test_draws = 10;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = cli_getopt(argc, argv, "", opts, "certify")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&o->mo, "certify", c, optarg);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        double x;
        size_t z;
        int v;
        char choices[128];
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_FRACTION:
            if (cli_parse_double(optarg, &x) != 0 || !(x >= 0 && x < 1))
                return cli_usage("certify", "--prior-fraction %s: expected a number in [0, 1)", optarg);
            o->cc.prior_fraction = x;
            break;
        case OPT_OBJECTIVE:
            if (tdl_name_lookup(tdl_cert_objective_names, "objective", optarg, &v) != TDL_OK)
                return cli_usage("certify", "--objective %s: expected %s", optarg,
                                 cli_name_choices(tdl_cert_objective_names, choices, sizeof choices));
            o->cc.objective = (tdl_cert_objective)v;
            break;
        case OPT_POSTERIOR:
            if (tdl_name_lookup(tdl_posterior_names, "posterior", optarg, &v) != TDL_OK)
                return cli_usage("certify", "--posterior %s: expected %s", optarg,
                                 cli_name_choices(tdl_posterior_names, choices, sizeof choices));
            o->cc.posterior = (tdl_posterior_kind)v;
            break;
        case OPT_MC:
            if (cli_parse_size(optarg, 1, 1000000, &z) != 0) return cli_usage("certify", "--mc %s: expected an integer in [1, 1000000]", optarg);
            o->cc.mc = z;
            break;
        case OPT_TEST_DRAWS:
            if (cli_parse_size(optarg, 1, 1000000, &z) != 0) return cli_usage("certify", "--test-draws %s: expected an integer in [1, 1000000]", optarg);
            o->test_draws = z;
            break;
        case OPT_DELTA:
        case OPT_DELTA_MC:
        case OPT_PMIN:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0 && x < 1))
                return cli_usage("certify", "%s %s: expected a number in (0, 1)", cli_option_name(opts, c), optarg);
            if (c == OPT_DELTA) o->cc.delta = x;
            else if (c == OPT_DELTA_MC) o->cc.delta_mc = x;
            else o->cc.pmin = x;
            break;
        case OPT_EPOCHS:
        case OPT_PRIOR_EPOCHS:
        case OPT_BATCH:
            if (cli_parse_size(optarg, 1, 1000000, &z) != 0)
                return cli_usage("certify", "%s %s: expected an integer in [1, 1000000]", cli_option_name(opts, c), optarg);
            if (c == OPT_EPOCHS) o->cc.epochs = z;
            else if (c == OPT_PRIOR_EPOCHS) o->cc.prior_epochs = z;
            else o->cc.batch = z;
            break;
        case OPT_LR:
        case OPT_PRIOR_LR:
        case OPT_PRIOR_SIGMA:
            if (cli_parse_double(optarg, &x) != 0 || !(x > 0 && isfinite(x)))
                return cli_usage("certify", "%s %s: expected a positive number", cli_option_name(opts, c), optarg);
            if (c == OPT_LR) o->cc.lr = x;
            else if (c == OPT_PRIOR_LR) o->cc.prior_lr = x;
            else o->cc.prior_sigma = x;
            break;
        case OPT_MOMENTUM:
        case OPT_PRIOR_MOMENTUM:
            if (cli_parse_double(optarg, &x) != 0 || !(x >= 0 && x < 1))
                return cli_usage("certify", "%s %s: expected a number in [0, 1)", cli_option_name(opts, c), optarg);
            if (c == OPT_MOMENTUM) o->cc.momentum = x;
            else o->cc.prior_momentum = x;
            break;
        case OPT_LEAK: o->cc.leak = 1; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_THREADS:
            if (cli_parse_size(optarg, 1, 4096, &z) != 0) return cli_usage("certify", "--threads %s: expected an integer in [1, 4096]", optarg);
            o->threads = z;
            break;
        default: return cli_bad_option("certify", argv, optopt);
        }
    }
    if (optind < argc) return cli_usage("certify", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("certify", "--data TRAIN is required");
    if (!o->test) return cli_usage("certify", "--test TEST is required (the held-out errors printed beside the certificate)");
    if (o->mo.model) return cli_usage("certify", "--model: certify trains its own nets; give the architecture with --arch");
    if (!o->mo.arch) return cli_usage("certify", "--arch is required (e.g. --arch 784-600-600-10)");
    if (!(o->cc.delta + o->cc.delta_mc < 1)) return cli_usage("certify", "--delta + --delta-mc must be below 1");
    if (o->cc.prior_fraction == 0 && o->cc.objective != TDL_CERT_FQUAD && o->cc.objective != TDL_CERT_PINSKER)
        return cli_usage("certify", "--prior-fraction 0 is Dziugaite and Roy's optimizer: --objective fquad or pinsker");
    if (o->cc.prior_fraction == 0 && o->cc.posterior != TDL_POSTERIOR_GAUSSIAN)
        return cli_usage("certify", "--prior-fraction 0 is Dziugaite and Roy's Gaussian posterior: --posterior gaussian");
    if (o->cc.prior_fraction == 0 && o->cc.leak) return cli_usage("certify", "--leak-prior needs a prior part (--prior-fraction > 0)");
    if (o->cc.prior_fraction == 0 && !isnan(o->cc.prior_sigma))
        return cli_usage("certify", "--prior-sigma: with --prior-fraction 0 the prior variance is on Dziugaite and Roy's grid");
    o->cc.seed = o->mo.seed;
    return -1;
}

static void emit_json(const certify_opts *o, const tdl_certify_result *r, const tdl_measure *row, const tdl_mlp *m,
                      const tdl_dataset *ds, const tdl_dataset *ts, double stoch, double stoch_n, double mean_err,
                      double seconds)
{
    json_writer jw;
    if (json_open(&jw) != 0) { cli_failf("out of memory"); return; }
    char arch[256];
    tdl_arch_format(m, arch, sizeof arch);
    json_object_begin(&jw, NULL);
    json_string(&jw, "command", "certify");
    json_string(&jw, "theorem", tdl_certify_theorem);
    json_string(&jw, "classifier", "stochastic net Q (Gibbs), not the mean net");
    json_string(&jw, "data", ds->spec ? ds->spec : o->data);
    json_string(&jw, "test", ts->spec ? ts->spec : o->test);
    json_string(&jw, "arch", arch);
    json_size(&jw, "params", m->n_params);
    json_string(&jw, "objective", tdl_name_of(tdl_cert_objective_names, (int)o->cc.objective));
    json_string(&jw, "posterior", tdl_name_of(tdl_posterior_names, (int)o->cc.posterior));
    json_string(&jw, "prior", r->data_free ? "data-free: N(init, lambda I), lambda on Dziugaite-Roy's grid"
                                           : o->cc.leak ? "LEAKED: trained on all the data (not a theorem's bound)"
                                                        : "data-dependent: trained on the prior part");
    json_number(&jw, "prior_fraction", o->cc.prior_fraction);
    json_number(&jw, "certificate", r->certificate);
    json_number(&jw, "confidence", r->confidence);
    json_number(&jw, "delta", o->cc.delta);
    json_number(&jw, "delta_mc", o->cc.delta_mc);
    json_size(&jw, "m_bound", r->m_bound);
    json_size(&jw, "m_prior", r->m_prior);
    json_number(&jw, "kl", r->kl);
    json_number(&jw, "complexity", r->complexity);
    json_number(&jw, "kl_rhs", r->kl_rhs);
    json_size(&jw, "mc_samples", o->cc.mc);
    json_number(&jw, "mc_draws", r->mc_draws);
    json_number(&jw, "mc_error", r->mc_error);
    json_number(&jw, "mc_bound", r->mc_bound);
    json_number(&jw, "prior_sigma", r->prior_sigma);
    json_bool(&jw, "prior_sigma_chosen_on_prior_part", r->prior_sigma_chosen > 0);
    json_number_or_reason(&jw, "prior_net_bound_error", r->prior_net_bound_error, "data-free: no prior net");
    json_number(&jw, "mean_net_bound_error", r->mean_net_bound_error);
    json_number(&jw, "stochastic_test_error", stoch);
    json_number(&jw, "stochastic_test_draws", stoch_n);
    json_number(&jw, "mean_net_test_error", mean_err);
    json_bool(&jw, "certificate_at_or_above_stochastic_test_error", r->certificate >= stoch);
    json_number(&jw, "objective_value", r->objective_value);
    json_number_or_reason(&jw, "dr_lambda", r->dr_lambda, "data-dependent prior: scale prior_sigma");
    json_number_or_reason(&jw, "dr_j", r->dr_j, "data-dependent prior: no grid");
    json_object_begin(&jw, "ledger");
    json_string(&jw, "kind", tdl_name_of(tdl_measure_kind_names, (int)row->kind));
    json_string(&jw, "classifier_kind", tdl_name_of(tdl_classifier_names, (int)row->classifier));
    json_string(&jw, "source", row->source);
    json_number(&jw, "total_delta", row->delta);
    json_object_begin(&jw, "terms");
    for (size_t k = 0; k < row->n_terms; k++) json_number(&jw, row->terms[k].name, row->terms[k].value);
    json_object_end(&jw);
    json_array_begin(&jw, "hypotheses");
    for (size_t k = 0; k < row->n_hyps; k++) {
        json_object_begin(&jw, NULL);
        json_string(&jw, "text", row->hyps[k].text);
        json_bool(&jw, "holds", row->hyps[k].holds > 0);
        json_string(&jw, "why", row->hyps[k].why);
        json_object_end(&jw);
    }
    json_array_end(&jw);
    json_object_end(&jw);
    json_number(&jw, "seconds_prior", r->seconds_prior);
    json_number(&jw, "seconds_posterior", r->seconds_posterior);
    json_number(&jw, "seconds_certificate", r->seconds_certificate);
    json_number(&jw, "seconds", seconds);
    json_object_end(&jw);
    json_flush_stdout(&jw);
}

static void emit_text(const certify_opts *o, const tdl_certify_result *r, const tdl_measure *row, const tdl_mlp *m,
                      const tdl_dataset *ds, const tdl_dataset *ts, double stoch, double stoch_n, double mean_err,
                      double seconds)
{
    char arch[256];
    tdl_arch_format(m, arch, sizeof arch);
    printf("PAC-Bayes risk certificate (tdl certify)\n");
    printf("data          %s -> prior part %zu, bound part %zu (stratified, seed %lu)\n", ds->spec ? ds->spec : o->data,
           r->m_prior, r->m_bound, o->cc.seed);
    printf("test          %s (%zu examples, held out)\n", ts->spec ? ts->spec : o->test, ts->n);
    printf("net           %s, %zu parameters; objective %s, posterior %s\n", arch, m->n_params,
           tdl_name_of(tdl_cert_objective_names, (int)o->cc.objective), tdl_name_of(tdl_posterior_names, (int)o->cc.posterior));
    if (r->data_free)
        printf("prior         data-free (Dziugaite-Roy): N(init, lambda I), lambda = %.6g on the grid (j = %.0f)\n", r->dr_lambda, r->dr_j);
    else
        printf("prior         %s, scale %.6g (%s); its mean net errs %.6g on the bound part\n",
               o->cc.leak ? "LEAKED: trained on ALL the data, the bound part included -- NOT a theorem's bound" : "trained on the prior part",
               r->prior_sigma, r->prior_sigma_chosen > 0 ? "chosen on the prior part" : "given", r->prior_net_bound_error);
    printf("theorem       %s\n", tdl_certify_theorem);
    printf("\nledger (every number of the certificate)\n");
    printf("  m_bound          %zu\n", r->m_bound);
    printf("  KL(Q||P)         %.17g\n", r->kl);
    printf("  delta            %.17g\n", o->cc.delta);
    printf("  delta_mc         %.17g\n", o->cc.delta_mc);
    printf("  mc_samples       %zu (%s)\n", o->cc.mc, o->cc.posterior == TDL_POSTERIOR_GAUSSIAN ? "passes, a fresh net per example" : "nets, each on all of the bound part");
    printf("  N (MC draws)     %.17g\n", r->mc_draws);
    printf("  e_n (MC error)   %.17g\n", r->mc_error);
    printf("  e_mc             %.17g = kl^-1(e_n, ln(2/delta_mc)/N)\n", r->mc_bound);
    if (r->data_free)
        printf("  B                %.17g = KL + ln(pi^2 m/(6 delta)) + 2 ln j\n  rhs              %.17g = B/(m-1)\n", r->complexity, r->kl_rhs);
    else
        printf("  complexity       %.17g = KL + ln(2 sqrt(m_bound)/delta)\n  rhs              %.17g = complexity/m_bound\n",
               r->complexity, r->kl_rhs);
    printf("  certificate      %.17g = kl^-1(e_mc, rhs)\n", r->certificate);
    printf("  terms            ");
    for (size_t k = 0; k < row->n_terms; k++) printf("%s%s %.6g", k ? " + " : "", row->terms[k].name, row->terms[k].value);
    printf(" = %.6g\n", row->bound);
    printf("  hypotheses\n");
    for (size_t k = 0; k < row->n_hyps; k++)
        printf("    - %s: %s (%s)\n", row->hyps[k].text, row->hyps[k].holds > 0 ? "holds" : "does not hold", row->hyps[k].why);
    printf("\ncertificate   %.6f  on the 0-1 error of the stochastic net Q, confidence %.4g (%s)\n", r->certificate,
           r->confidence, row->hyps[0].holds > 0 ? "a theorem's bound" : "NOT valid: the prior saw the bound part");
    printf("held out      stochastic net Q test error %.6f (estimate over %.0f draws); mean net test error %.6f\n", stoch, stoch_n, mean_err);
    printf("              the certificate is %s the stochastic test error\n", r->certificate >= stoch ? "at or above" : "BELOW");
    printf("time          %.1f s (prior %.1f s, posterior %.1f s, certificate %.1f s)\n", seconds, r->seconds_prior,
           r->seconds_posterior, r->seconds_certificate);
}

static int emit_plot(const certify_opts *o, const curve *c, const tdl_certify_result *r)
{
    plot_series s[3] = {
        {"objective (the training bound)", c->x, c->obj, c->n, PLOT_LINES},
        {"bounded loss of the sampled nets", c->x, c->emp, c->n, PLOT_LINES},
        {"KL / m_bound", c->x, c->klm, c->n, PLOT_LINES},
    };
    char cap[200];
    snprintf(cap, sizeof cap, "certificate %.4f (stochastic net, confidence %.3g), m_bound %zu", r->certificate, r->confidence, r->m_bound);
    plot_spec sp = {.title = "PAC-Bayes posterior training", .xlabel = "epoch", .ylabel = "value", .caption = cap,
                    .series = s, .n_series = 3};
    int st = plot_render(o->plot, &sp);
    return st == TDL_OK ? 0 : cli_fail(st);
}

int cmd_certify(int argc, char **argv); /* also in commands.c, beside the table */
int cmd_certify(int argc, char **argv)
{
    certify_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    cli_set_threads(o.threads);
    const cli_file ins[] = {{"--data", o.data, CLI_FILE_SPEC, NULL}, {"--test", o.test, CLI_FILE_SPEC, NULL}};
    const cli_file outs[] = {{"--plot", o.plot, CLI_FILE_FIGURE, NULL}};
    if ((rc = cli_check_outputs("certify", ins, 2, outs, 1)) != 0) return rc;
    if (o.plot) {
        int st = plot_check_target(o.plot);
        if (st != TDL_OK) return cli_fail(st);
    }
    int st;
    rc = EXIT_WORK_FAILED;
    tdl_dataset *ds = NULL, *ts = NULL;
    tdl_mlp *m = NULL;
    tdl_certify_result r = {0};
    tdl_measure *row = NULL;
    curve cv = {0};
    tdl_loss_kind loss;
    double t0 = now();
    if ((st = cli_load_data(o.data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((st = cli_load_data(o.test, &ts)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (!ds->classes) { rc = cli_failf("--data %s: no class labels; the certificate is on the classification error", o.data); goto cleanup; }
    if ((rc = cli_model_build(&o.mo, "certify", &m)) != 0) goto cleanup;
    if ((rc = cli_model_loss(&o.mo, "certify", m, ds, &loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (cli_check_test(o.test, loss, m, ts) != 0) goto cleanup;
    if (!ts->classes) { rc = cli_failf("--test %s: no class labels; the certificate is on the classification error", o.test); goto cleanup; }
    cv.cap = o.cc.epochs;
    cv.x = calloc(4 * cv.cap, sizeof(double));
    if (!cv.x) { rc = cli_failf("out of memory"); goto cleanup; }
    cv.obj = cv.x + cv.cap;
    cv.emp = cv.x + 2 * cv.cap;
    cv.klm = cv.x + 3 * cv.cap;
    cv.progress = !o.quiet;
    cv.m_bound = 1; /* the curve keeps KL; divided by m_bound after the run */
    tdl_certify_config cc = o.cc;
    cc.callback = progress_cb;
    cc.user = &cv;
    if ((st = tdl_certify(m, loss, ds, &cc, &r)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    double stoch = NAN, stoch_n = NAN, mean_err = NAN;
    if ((st = tdl_certify_test(m, loss, &r, o.cc.posterior, ts, o.test_draws, o.cc.seed + 11, &stoch, &stoch_n, &mean_err)) != TDL_OK) {
        rc = cli_fail(st);
        goto cleanup;
    }
    if ((st = tdl_certify_measure(&r, &o.cc, tdl_bounds_chance(ds->classes), &row)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    for (size_t i = 0; i < cv.n; i++) cv.klm[i] /= (double)r.m_bound;
    double seconds = now() - t0;
    if (o.plot && (rc = emit_plot(&o, &cv, &r)) != 0) goto cleanup;
    if (o.as_json) emit_json(&o, &r, row, m, ds, ts, stoch, stoch_n, mean_err, seconds);
    else emit_text(&o, &r, row, m, ds, ts, stoch, stoch_n, mean_err, seconds);
    rc = 0;
cleanup:
    free(cv.x);
    free(row);
    tdl_certify_result_free(&r);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ts);
    tdl_dataset_free(&ds);
    return rc;
}
