/* cmd_eval.c — `tdl eval`: loss, error, accuracy and margins of a model.
 * parse (argv -> eval_options) / run (library calls -> eval_results) / emit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modelopts.h"
#include "provenance.h"


enum { OPT_DATA = 2000, OPT_PCT, OPT_JSON, OPT_THREADS };

/* What the user asked for. */
typedef struct eval_options {
    cli_model_opts model;
    const char *data;
    double percentile;   /* the margin percentile reported */
    int as_json;
    size_t threads;
} eval_options;

/* What the library computed. */
typedef struct eval_results {
    tdl_dataset *ds;
    tdl_mlp *m;
    tdl_loss_kind loss;
    tdl_eval_stats stats;
    double grad_norm;    /* ||grad L|| over every parameter, under the loss convention */
    /* margins (classification): min, the percentile, median, mean, max */
    double mmin, mp, mmed, mmean, mmax;
} eval_results;

/* Parse argv into *o: 0, or the exit status of a usage error. */
static int eval_parse(int argc, char **argv, eval_options *o)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA},
        {"margin-percentile", required_argument, NULL, OPT_PCT},
        {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, OPT_THREADS},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    cli_model_opts_init(&o->model);
    o->percentile = 10.0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "eval")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&o->model, "eval", c, optarg);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_PCT:
            if (cli_parse_double(optarg, &o->percentile) != 0 || o->percentile < 0 || o->percentile > 100)
                return cli_usage("eval", "--margin-percentile %s: expected a number in [0, 100]", optarg);
            break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_THREADS:
            if (cli_parse_size(optarg, 1, 1024, &o->threads) != 0) return cli_usage("eval", "--threads %s: expected 1..1024", optarg);
            break;
        default: return cli_bad_option("eval", argv, optopt);
        }
    }
    if (optind < argc) return cli_usage("eval", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("eval", "--data SPEC is required");
    if (!o->model.model) return cli_usage("eval", "--model FILE is required");
    return 0;
}

/* ||v||_2, scaled against overflow. */
static double norm2(const double *v, size_t n)
{
    double mx = 0, s = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(v[i]));
    if (!(mx > 0)) return mx;
    for (size_t i = 0; i < n; i++) s += (v[i] / mx) * (v[i] / mx);
    return mx * sqrt(s);
}

/* Load, evaluate, summarize the margins: 0 or an exit status (message printed). */
static int eval_run(const eval_options *o, eval_results *r)
{
    int rc, st;
    tdl_net_work *w = NULL;
    r->mmin = r->mp = r->mmed = r->mmean = r->mmax = NAN;
    if ((st = cli_load_data(o->data, &r->ds)) != TDL_OK) return cli_fail(st);
    if ((rc = cli_model_build(&o->model, "eval", &r->m)) != 0) return rc;
    if ((rc = cli_model_loss(&o->model, "eval", r->m, r->ds, &r->loss)) != 0) return rc;
    const tdl_dataset *ds = r->ds;
    if ((st = tdl_net_work_alloc(r->m, ds->n < 2048 ? ds->n : 2048, &w)) != TDL_OK) return cli_fail(st);
    st = tdl_mlp_evaluate(r->m, r->loss, ds, w, &r->stats);
    double *g = st == TDL_OK ? tdl_malloc(r->m->n_params * sizeof(double), "the gradient") : NULL;
    if (st == TDL_OK && !g) st = TDL_ENOMEM;
    if (st == TDL_OK) st = tdl_mlp_loss_grad(r->m, r->loss, ds, w, NULL, g);
    if (st == TDL_OK) r->grad_norm = norm2(g, r->m->n_params);
    free(g);
    tdl_net_work_free(&w);
    if (st != TDL_OK) return cli_fail(st);
    const tdl_eval_stats *s = &r->stats;
    if (s->margins) {
        tdl_sort_doubles(s->margins, s->n);
        r->mmin = s->margins[0];
        r->mmax = s->margins[s->n - 1];
        r->mmed = tdl_percentile_sorted(s->margins, s->n, 50);
        r->mp = tdl_percentile_sorted(s->margins, s->n, o->percentile);
        double sum = 0;
        for (size_t i = 0; i < s->n; i++) sum += s->margins[i];
        r->mmean = sum / (double)s->n;
    }
    return 0;
}

/* Text or JSON on stdout: 0 or an exit status. */
static int eval_emit(const eval_options *o, const eval_results *r)
{
    const tdl_eval_stats *s = &r->stats;
    const tdl_dataset *ds = r->ds;
    if (o->as_json) {
        json_writer jw;
        if (json_open(&jw) != 0) return cli_failf("out of memory");
        json_object_begin(&jw, NULL);
        json_string(&jw, "model", o->model.model);
        json_string(&jw, "data", ds->spec);
        json_size(&jw, "n", s->n);
        if (cli_provenance_loss_json(&jw, r->m, r->loss) != 0) { json_discard(&jw); return EXIT_WORK_FAILED; }
        json_number(&jw, "loss", s->loss);
        json_number(&jw, "gradient_norm", r->grad_norm);
        json_size(&jw, "gradient_params", r->m->n_params);
        json_string(&jw, "gradient_definition", "||grad_theta L||_2 over every parameter (frozen layers included), L the loss above");
        cli_provenance_model_json(&jw, &o->model, r->m);
        if (ds->classes) {
            json_number(&jw, "error", s->error);
            json_number(&jw, "accuracy", s->accuracy);
            json_object_begin(&jw, "margin");
            json_string(&jw, "definition", "f(x)_y - max_{j != y} f(x)_j");
            json_number(&jw, "min", r->mmin);
            json_number(&jw, "percentile", o->percentile);
            json_number(&jw, "at_percentile", r->mp);
            json_number(&jw, "median", r->mmed);
            json_number(&jw, "mean", r->mmean);
            json_number(&jw, "max", r->mmax);
            json_object_end(&jw);
        } else {
            json_null(&jw, "error");
            json_null(&jw, "accuracy");
            json_string(&jw, "error_reason", "regression targets: no classification error");
            json_string(&jw, "accuracy_reason", "regression targets: no classification accuracy");
        }
        json_object_end(&jw);
        json_flush_stdout(&jw);
        return 0;
    }
    char prov[512], lossdesc[128];
    cli_provenance_model_text(&o->model, r->m, prov, sizeof prov);
    cli_provenance_loss_text(r->m, r->loss, lossdesc, sizeof lossdesc);
    printf("model        %s (%s)\n", o->model.model, prov);
    printf("data         %s (%zu examples)\n", ds->spec, s->n);
    printf("loss         %.10g (%s)\n", s->loss, lossdesc);
    printf("gradient     ||grad L|| = %.6g (%zu parameters)\n", r->grad_norm, r->m->n_params);
    if (ds->classes) {
        printf("error        %.6f\n", s->error);
        printf("accuracy     %.6f\n", s->accuracy);
        printf("margin       min %.6g  p%g %.6g  median %.6g  mean %.6g  max %.6g\n", r->mmin, o->percentile, r->mp,
               r->mmed, r->mmean, r->mmax);
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    eval_options o;
    eval_results r = {0};
    int rc = eval_parse(argc, argv, &o);
    if (rc != 0) return rc;
    cli_set_threads(o.threads);
    if ((rc = eval_run(&o, &r)) == 0) rc = eval_emit(&o, &r);
    tdl_eval_stats_free(&r.stats);
    tdl_mlp_free(&r.m);
    tdl_dataset_free(&r.ds);
    return rc;
}
