/* check_cli.c — the command line of the theorem checks: `tdl check` and the
 * standalone programs proofs-checks/NAME share it.
 *
 *   tdl check --list [--json]
 *   tdl check NAME  [--quick] [--broken] [--seed N] [--json] [--plot FILE]
 *                   [the check's parameters: --data SPEC, --test SPEC,
 *                    --widths LIST, --seeds N, --steps N, as it declares them]
 *   tdl check --all [--quick] [--seed N] [--json] [--plot-dir DIR]
 *
 * Exit status: 0 every check run passed; 1 a check failed or could not run;
 * 2 usage error.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "cli.h"
#include "check_cli.h"

/* A figure path must name a format and be writable: find out before the
 * experiment runs, not after. */
static int probe_figure(const char *prog, const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || (strcmp(dot, ".png") != 0 && strcmp(dot, ".svg") != 0 && strcmp(dot, ".pdf") != 0))
        return cli_usage(prog, "%s: the figure must end in .png, .svg or .pdf", path);
    tdl_atomic_file probe;
    int st = tdl_atomic_begin(path, &probe);
    if (st != TDL_OK) return cli_fail(st);
    tdl_atomic_abort(&probe);
    return 0;
}

static void print_number(FILE *fp, double v)
{
    if (isnan(v)) fprintf(fp, " %12s", "-");
    else if (v != 0 && (fabs(v) >= 1e5 || fabs(v) < 1e-3)) fprintf(fp, " %12.4e", v);
    else fprintf(fp, " %12.6g", v);
}

static void print_human(FILE *fp, const pc_check *c, const pc_options *opt, const pc_result *r)
{
    fprintf(fp, "%s\n  claim:  %s\n  source: %s\n  setup:  %s%s\n\n", c->name, c->claim, c->source,
            r->setup, opt->broken ? "\n  BROKEN SETUP (--broken): " : "");
    if (opt->broken) fprintf(fp, "%s\n\n", c->broken);
    fprintf(fp, "  %-46s %12s %12s  %-4s %s\n", "quantity", "measured", "predicted", "ok", "criterion");
    for (size_t i = 0; i < r->n_rows; i++) {
        const pc_row *w = &r->rows[i];
        fprintf(fp, "  %-46.46s", w->label);
        print_number(fp, w->measured);
        print_number(fp, w->predicted);
        fprintf(fp, "  %-4s %s\n", w->ok < 0 ? "" : (w->ok ? "yes" : "NO"), w->criterion);
    }
    if (r->note[0]) fprintf(fp, "\n  note: %s\n", r->note);
    size_t judged = 0, met = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].ok >= 0) { judged++; met += r->rows[i].ok == 1; }
    fprintf(fp, "\n  verdict: %s (%zu of %zu criteria met) in %.2f s [%s%s]\n\n", r->passed ? "PASS" : "FAIL",
            met, judged, r->seconds, opt->quick ? "quick" : "full", opt->broken ? ", broken" : "");
}

static void put_json(json_writer *w, const pc_check *c, const pc_options *opt, const pc_result *r)
{
    json_object_begin(w, NULL);
    json_string(w, "name", c->name);
    json_string(w, "claim", c->claim);
    json_string(w, "source", c->source);
    json_string(w, "setup", r->setup);
    json_string(w, "mode", opt->quick ? "quick" : "full");
    json_bool(w, "broken", opt->broken);
    json_integer(w, "seed", (long long)opt->seed);
    if (opt->data) json_string(w, "data", opt->data);   /* the user's --data (the setup names the set loaded) */
    if (opt->test) json_string(w, "test", opt->test);
    json_bool(w, "passed", r->passed);
    json_number(w, "seconds", r->seconds);
    json_object_begin(w, "measured");
    for (size_t i = 0; i < r->n_rows; i++) json_number(w, r->rows[i].key, r->rows[i].measured);
    json_object_end(w);
    json_object_begin(w, "predicted");
    for (size_t i = 0; i < r->n_rows; i++) json_number(w, r->rows[i].key, r->rows[i].predicted);
    json_object_end(w);
    json_array_begin(w, "rows");
    for (size_t i = 0; i < r->n_rows; i++) {
        const pc_row *x = &r->rows[i];
        json_object_begin(w, NULL);
        json_string(w, "key", x->key);
        json_string(w, "quantity", x->label);
        json_number_or_reason(w, "measured", x->measured, "the measurement is not finite");
        json_number_or_reason(w, "predicted", x->predicted, "no closed-form prediction for this quantity");
        json_string(w, "criterion", x->criterion);
        if (x->ok < 0) json_null_reason(w, "ok", "reported for information: no pass/fail criterion");
        else json_bool(w, "ok", x->ok);
        json_object_end(w);
    }
    json_array_end(w);
    if (r->note[0]) json_string(w, "note", r->note);
    json_object_end(w);
}

static int list_checks(int as_json)
{
    if (!as_json) {
        for (const pc_check *const *c = pc_checks; *c; c++)
            printf("%-28s %s\n%-28s   (%s)\n", (*c)->name, (*c)->claim, "", (*c)->source);
        return 0;
    }
    /* {"checks": [{name, claim, source, broken}, ...], "count": N}: every
     * text field of the registry entry (pc_check), in table order */
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    size_t n = 0;
    json_object_begin(&w, NULL);
    json_array_begin(&w, "checks");
    for (const pc_check *const *c = pc_checks; *c; c++, n++) {
        json_object_begin(&w, NULL);
        json_string(&w, "name", (*c)->name);
        json_string(&w, "claim", (*c)->claim);
        json_string(&w, "source", (*c)->source);
        json_string(&w, "broken", (*c)->broken);
        /* the parameters it takes (tdl check NAME --PARAM), in PC_P_* order */
        json_array_begin(&w, "parameters");
        for (unsigned bit = 1; pc_param_name(bit); bit <<= 1)
            if ((*c)->params & bit) json_string(&w, NULL, pc_param_name(bit));
        json_array_end(&w);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_size(&w, "count", n);
    json_object_end(&w);
    return json_flush_stdout(&w) == 0 ? 0 : cli_failf("cannot write the list to stdout");
}

void check_cli_help(FILE *fp, const char *usage_prog, const pc_check *c)
{
    fprintf(fp, "usage: %s [--quick] [--broken] [--seed N] [--json] [--plot FILE.{png,svg,pdf}]%s\n\n%s\n  (%s)\n\n--broken: %s\n",
            usage_prog, c->params ? " [PARAMETERS]" : "", c->claim, c->source, c->broken);
    if (c->params_help) fprintf(fp, "\nparameters of the experiment:\n%s", c->params_help);
    if (c->no_data) fprintf(fp, "\n--data is not taken: %s\n", c->no_data);
}

enum { O_LIST = 3000, O_ALL, O_QUICK, O_BROKEN, O_SEED, O_JSON, O_PLOT, O_PLOT_DIR, O_QUIET, O_THREADS,
       O_DATA, O_WIDTHS, O_SEEDS, O_STEPS, O_TEST, O_HELP };

/* --widths W1,W2,...: positive integers, increasing, at most PC_MAX_WIDTHS. */
static int parse_widths(const char *s, pc_options *o)
{
    const char *p = s;
    o->n_widths = 0;
    for (;;) {
        char item[32];
        size_t len = strcspn(p, ",");
        size_t w;
        if (len == 0 || len >= sizeof item || o->n_widths == PC_MAX_WIDTHS) return -1;
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_parse_size(item, 1, (size_t)1 << 24, &w) != 0) return -1;
        if (o->n_widths && (double)w <= o->widths[o->n_widths - 1]) return -1;
        o->widths[o->n_widths++] = (double)w;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

/* The parameters given (bits) against those the check takes: a usage error
 * naming the check and the first parameter it does not take. */
static int check_params(const char *prog, const pc_check *c, unsigned given, const pc_options *o)
{
    for (unsigned bit = 1; pc_param_name(bit); bit <<= 1) {
        if (!(given & bit) || (c->params & bit)) continue;
        if (bit == PC_P_DATA && c->no_data)
            return cli_usage(prog, "%s takes no --data: %s", c->name, c->no_data);
        char list[128] = "";
        size_t at = 0;
        for (unsigned b = 1; pc_param_name(b); b <<= 1)
            if (c->params & b) at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", pc_param_name(b));
        return cli_usage(prog, "%s takes no %s (its parameters: %s)", c->name, pc_param_name(bit), at ? list : "none");
    }
    const char *why = c->check_params ? c->check_params(o) : NULL;
    if (why) return cli_usage(prog, "%s: %s", c->name, why);
    return 0;
}

int check_cli_main(const char *prog, const pc_check *only, int argc, char **argv)
{
    static const struct option opts[] = {
        {"list", no_argument, NULL, O_LIST}, {"all", no_argument, NULL, O_ALL},
        {"quick", no_argument, NULL, O_QUICK}, {"broken", no_argument, NULL, O_BROKEN},
        {"seed", required_argument, NULL, O_SEED}, {"json", no_argument, NULL, O_JSON},
        {"plot", required_argument, NULL, O_PLOT}, {"plot-dir", required_argument, NULL, O_PLOT_DIR},
        {"quiet", no_argument, NULL, O_QUIET}, {"threads", required_argument, NULL, O_THREADS},
        {"data", required_argument, NULL, O_DATA}, {"widths", required_argument, NULL, O_WIDTHS},
        {"seeds", required_argument, NULL, O_SEEDS}, {"steps", required_argument, NULL, O_STEPS},
        {"test", required_argument, NULL, O_TEST}, {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    /* progress on stderr only when it is a terminal (SPEC.md) */
    pc_options opt = {.seed = 1, .verbose = isatty(STDERR_FILENO)};
    int list = 0, all = 0, as_json = 0, c, rc0;
    const char *plot_dir = NULL;
    size_t threads = 0;
    unsigned given = 0;   /* the experiment's parameters given (PC_P_*) */
    int help = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_LIST: list = 1; break;
        case O_ALL: all = 1; break;
        case O_QUICK: opt.quick = 1; break;
        case O_BROKEN: opt.broken = 1; break;
        case O_SEED:
            if (cli_parse_ulong(optarg, &opt.seed) != 0) return cli_usage(prog, "--seed %s: expected a non-negative integer", optarg);
            break;
        case O_JSON: as_json = 1; break;
        case O_PLOT: opt.plot = optarg; break;
        case O_PLOT_DIR: plot_dir = optarg; break;
        case O_QUIET: opt.verbose = 0; break;
        case O_THREADS:
            if (cli_parse_size(optarg, 1, 1024, &threads) != 0) return cli_usage(prog, "--threads %s: expected 1..1024", optarg);
            break;
        case O_DATA:
            if (!*optarg) return cli_usage(prog, "--data: expected a data SPEC (tdl help data)");
            opt.data = optarg;
            given |= PC_P_DATA;
            break;
        case O_HELP: case 'h': help = 1; break;
        case O_TEST:
            if (!*optarg) return cli_usage(prog, "--test: expected a data SPEC (tdl help data)");
            opt.test = optarg;
            given |= PC_P_TEST;
            break;
        case O_WIDTHS:
            if (parse_widths(optarg, &opt) != 0)
                return cli_usage(prog, "--widths %s: expected increasing positive integers W1,W2,... (at most %d)", optarg,
                                 PC_MAX_WIDTHS);
            given |= PC_P_WIDTHS;
            break;
        case O_SEEDS:
            if (cli_parse_size(optarg, 1, 10000, &opt.seeds) != 0) return cli_usage(prog, "--seeds %s: expected 1..10000", optarg);
            given |= PC_P_SEEDS;
            break;
        case O_STEPS:
            if (cli_parse_size(optarg, 1, 100000000, &opt.steps) != 0)
                return cli_usage(prog, "--steps %s: expected 1..100000000", optarg);
            given |= PC_P_STEPS;
            break;
        default: return cli_bad_option(prog, argv, optopt);
        }
    }
    const pc_check *one = only;
    if (help) {
        /* one check's help (tdl check NAME --help); the command's own help is `tdl help check` */
        const pc_check *h = only ? only : (optind < argc ? pc_find(argv[optind]) : NULL);
        if (!h) return cli_usage(prog, "--help describes one check: give its NAME (all of tdl check: tdl help check)");
        char usage_prog[96];
        snprintf(usage_prog, sizeof usage_prog, "%s%s", only ? "" : "tdl check ", h->name);
        check_cli_help(stdout, usage_prog, h);
        return 0;
    }
    if (!only) {
        if (list) {
            if (optind < argc || all) return cli_usage(prog, "--list takes no check name");
            return list_checks(as_json);
        }
        if (all && optind < argc) return cli_usage(prog, "give a check NAME or --all, not both");
        if (!all) {
            if (optind >= argc) return cli_usage(prog, "give a check NAME, --all or --list");
            if (optind + 1 < argc) return cli_usage(prog, "unexpected argument '%s'", argv[optind + 1]);
            one = pc_find(argv[optind]);
            if (!one) return cli_usage(prog, "unknown check '%s' (see 'tdl check --list')", argv[optind]);
        }
    } else if (optind < argc || list || all) {
        return cli_usage(prog, "unexpected argument (this program runs the check %s only)", only->name);
    }
    if (all && opt.plot) return cli_usage(prog, "--plot FILE is for one check; use --plot-dir DIR with --all");
    if (one && plot_dir) return cli_usage(prog, "--plot-dir is for --all; use --plot FILE with one check");
    if (all && opt.broken) return cli_usage(prog, "--broken runs one check's broken setup; give a NAME");
    if (all && given) {
        for (unsigned bit = 1; pc_param_name(bit); bit <<= 1)
            if (given & bit) return cli_usage(prog, "%s is a parameter of one check's experiment; give a NAME, not --all", pc_param_name(bit));
    }
    if (one && (rc0 = check_params(prog, one, given, &opt)) != 0) return rc0;
    if (opt.test && !opt.data) return cli_usage(prog, "--test gives held-out data for --data SPEC; give --data too");
    if (plot_dir) {
        struct stat sb;
        if (stat(plot_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return cli_failf("%s: --plot-dir is not an existing directory", plot_dir);
    }
    if (opt.plot && (rc0 = probe_figure(prog, opt.plot)) != 0) return rc0;
    cli_set_threads(threads);

    json_writer jw;
    if (as_json && json_open(&jw) != 0) return cli_failf("out of memory");
    pc_result *res = malloc(sizeof *res);
    if (!res) { if (as_json) json_discard(&jw); return cli_failf("out of memory"); }
    int rc = 0, n_pass = 0, n_fail = 0, ran = 0;
    double total = 0;
    if (as_json && all) {
        json_object_begin(&jw, NULL);
        json_string(&jw, "mode", opt.quick ? "quick" : "full");
        json_array_begin(&jw, "checks");
    }
    for (const pc_check *const *it = pc_checks; *it; it++) {
        const pc_check *ck = one ? one : *it;
        char plot_path[4096];
        pc_options o = opt;
        if (plot_dir) {
            snprintf(plot_path, sizeof plot_path, "%s/%s.png", plot_dir, ck->name);
            o.plot = plot_path;
        }
        if (all && o.verbose) fprintf(stderr, "tdl check: running %s%s\n", ck->name, o.quick ? " (quick)" : "");
        int st = pc_run(ck, &o, res);
        if (st != TDL_OK) {
            cli_fail(st);
            rc = 1;
            n_fail++;
            if (one) break;
            continue;
        }
        ran = 1;
        total += res->seconds;
        if (res->passed) n_pass++; else { n_fail++; rc = 1; }
        if (as_json) put_json(&jw, ck, &o, res);
        else print_human(stdout, ck, &o, res);
        if (one) break;
    }
    if (as_json) {
        if (all) {
            json_array_end(&jw);
            json_integer(&jw, "passed", n_pass);
            json_integer(&jw, "failed", n_fail);
            json_number(&jw, "seconds", total);
            json_object_end(&jw);
        }
        if (one && !ran) json_discard(&jw);   /* nothing ran: the error line says why */
        else json_flush_stdout(&jw);
    } else if (all) {
        printf("%d passed, %d failed (%s mode, %.1f s)\n", n_pass, n_fail, opt.quick ? "quick" : "full", total);
    }
    free(res);
    return rc;
}
