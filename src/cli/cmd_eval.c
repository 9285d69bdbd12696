/* cmd_eval.c — `tdl eval`: loss, error, accuracy and margins of a model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modelopts.h"


enum { OPT_DATA = 2000, OPT_PCT, OPT_JSON, OPT_THREADS };

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA},
        {"margin-percentile", required_argument, NULL, OPT_PCT},
        {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, OPT_THREADS},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *data = NULL;
    double pct = 10.0;
    int as_json = 0, c;
    size_t threads = 0;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "eval")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int r = cli_model_opts_parse(&mo, "eval", c, optarg);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_PCT:
            if (cli_parse_double(optarg, &pct) != 0 || pct < 0 || pct > 100)
                return cli_usage("eval", "--margin-percentile %s: expected a number in [0, 100]", optarg);
            break;
        case OPT_JSON: as_json = 1; break;
        case OPT_THREADS:
            if (cli_parse_size(optarg, 1, 1024, &threads) != 0) return cli_usage("eval", "--threads %s: expected 1..1024", optarg);
            break;
        default: return cli_bad_option("eval", argv, optopt);
        }
    }
    if (optind < argc) return cli_usage("eval", "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage("eval", "--data SPEC is required");
    if (!mo.model) return cli_usage("eval", "--model FILE is required");
    cli_set_threads(threads);

    int rc = EXIT_WORK_FAILED, st;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_net_work *w = NULL;
    tdl_eval_stats s = {0};
    tdl_loss_kind loss;
    if ((st = tdl_dataset_load(data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((rc = cli_model_build(&mo, "eval", &m)) != 0) goto cleanup;
    if ((rc = cli_model_loss(&mo, "eval", m, ds, &loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if ((st = tdl_net_work_alloc(m, ds->n < 2048 ? ds->n : 2048, &w)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((st = tdl_mlp_evaluate(m, loss, ds, w, &s)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    double mmin = NAN, mmax = NAN, mmean = NAN, mmed = NAN, mp = NAN;
    if (s.margins) {
        tdl_sort_doubles(s.margins, s.n);
        mmin = s.margins[0];
        mmax = s.margins[s.n - 1];
        mmed = tdl_percentile_sorted(s.margins, s.n, 50);
        mp = tdl_percentile_sorted(s.margins, s.n, pct);
        double sum = 0;
        for (size_t i = 0; i < s.n; i++) sum += s.margins[i];
        mmean = sum / (double)s.n;
    }
    if (as_json) {
        json_writer jw;
        if (json_open(&jw) != 0) { rc = cli_failf("out of memory"); goto cleanup; }
        json_object_begin(&jw, NULL);
        json_string(&jw, "model", mo.model);
        json_string(&jw, "data", ds->spec);
        json_size(&jw, "n", s.n);
        json_string(&jw, "loss_name", tdl_loss_name(loss));
        json_string(&jw, "reduction", "mean");
        json_number(&jw, "loss", s.loss);
        if (ds->classes) {
            json_number(&jw, "error", s.error);
            json_number(&jw, "accuracy", s.accuracy);
            json_object_begin(&jw, "margin");
            json_string(&jw, "definition", "f(x)_y - max_{j != y} f(x)_j");
            json_number(&jw, "min", mmin);
            json_number(&jw, "percentile", pct);
            json_number(&jw, "at_percentile", mp);
            json_number(&jw, "median", mmed);
            json_number(&jw, "mean", mmean);
            json_number(&jw, "max", mmax);
            json_object_end(&jw);
        } else {
            json_null(&jw, "error");
            json_null(&jw, "accuracy");
            json_string(&jw, "error_reason", "regression targets: no classification error");
            json_string(&jw, "accuracy_reason", "regression targets: no classification accuracy");
        }
        json_object_end(&jw);
        json_flush_stdout(&jw);
    } else {
        printf("model        %s\n", mo.model);
        printf("data         %s (%zu examples)\n", ds->spec, s.n);
        printf("loss         %.10g (%s, mean over examples)\n", s.loss, tdl_loss_name(loss));
        if (ds->classes) {
            printf("error        %.6f\n", s.error);
            printf("accuracy     %.6f\n", s.accuracy);
            printf("margin       min %.6g  p%g %.6g  median %.6g  mean %.6g  max %.6g\n", mmin, pct, mp, mmed, mmean, mmax);
        }
    }
    rc = 0;
cleanup:
    tdl_eval_stats_free(&s);
    tdl_net_work_free(&w);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return rc;
}
