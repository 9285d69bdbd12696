/* fuzz_options.c — libFuzzer harness of the command-line option parsing
 * (src/cli/): the getopt_long tables of the model and training options
 * (modelopts.h, trainopts.h), the strict number helpers of util.c
 * (cli_parse_size/ulong/double, cli_parse_index_list), landscape's --range,
 * and the library's word parsers the commands hand their option values to
 * (--arch, --act, --init, --loss, --opt, --schedule, --values, sweep KIND,
 * --norm, --curve, --kernel-act, --smoothing, --which), and the spec files
 * that cli_check_outputs compares (--data, --test: parsed, never opened).
 *
 * Input: the arguments of one command line, one per line ('\n' separates
 * them; at most 64).  They run through getopt_long with a table holding
 * MODEL_LONG_OPTIONS, TRAIN_LONG_OPTIONS and the value options of the
 * commands with their real bounds (`--k` of hessian takes 1..SIZE_MAX, ...);
 * positional arguments go to tdl_sweep_kind_parse.  Nothing is run, no file
 * is read: --model is recorded but never loaded, and a net is built by
 * cli_model_build only when --arch asks for at most 20000 parameters.
 *
 * Checked beyond ASan/UBSan: every accepted value lies in its documented
 * range (a size never came from a negative number, a double is finite, an
 * index list sets only bits <= hi, an architecture prints back to an
 * equivalent one, --values gives 1..10000 finite numbers, a range has
 * lo < hi), and a refused value leaves the outputs the API promises.
 * cli_usage's messages go to /dev/null unless FUZZ_VERBOSE is set (the
 * sanitizers and libFuzzer write to fd 2 directly and are not affected).
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "modelopts.h"
#include "trainopts.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
/* cmd_landscape.c's static parse_range, reached through fuzz_options_range.c */
int fuzz_parse_range(const char *s, double *lo, double *hi);

#define MAX_ARGS 64
#define MAX_BUILD_PARAMS 20000

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!getenv("FUZZ_VERBOSE")) {
        FILE *null = fopen("/dev/null", "w");
        if (null) stderr = null;
    }
    return 0;
}

/* Value options of the commands: code, bounds as in src/cli/cmd_*.c. */
enum {
    F_VALUES = 1300, F_RANGE, F_NORM, F_CURVE, F_KACT, F_SMOOTH, F_WHICH, F_OPTIMIZER, F_INDEX,
    F_K, F_MAXCELLS, F_CBATCH, F_GRID, F_POINTS, F_THREADS, F_LAYER, F_BUDGET, F_DSEED,
    F_DELTA, F_PCT, F_TOL, F_JSON, F_DATA
};

static const struct option opts[] = {
    MODEL_LONG_OPTIONS,
    TRAIN_LONG_OPTIONS,
    {"values", required_argument, NULL, F_VALUES},
    {"range", required_argument, NULL, F_RANGE},
    {"yrange", required_argument, NULL, F_RANGE},
    {"norm", required_argument, NULL, F_NORM},
    {"curve", required_argument, NULL, F_CURVE},
    {"kernel-act", required_argument, NULL, F_KACT},
    {"smoothing", required_argument, NULL, F_SMOOTH},
    {"which", required_argument, NULL, F_WHICH},
    {"optimizer", required_argument, NULL, F_OPTIMIZER},
    {"layers", required_argument, NULL, F_INDEX},
    {"k", required_argument, NULL, F_K},
    {"max-cells", required_argument, NULL, F_MAXCELLS},
    {"curve-batch", required_argument, NULL, F_CBATCH},
    {"grid", required_argument, NULL, F_GRID},
    {"points", required_argument, NULL, F_POINTS},
    {"threads", required_argument, NULL, F_THREADS},
    {"layer", required_argument, NULL, F_LAYER},
    {"budget-mb", required_argument, NULL, F_BUDGET},
    {"dir-seed", required_argument, NULL, F_DSEED},
    {"delta", required_argument, NULL, F_DELTA},
    {"margin-percentile", required_argument, NULL, F_PCT},
    {"tol", required_argument, NULL, F_TOL},
    {"json", no_argument, NULL, F_JSON},
    {"data", required_argument, NULL, F_DATA},
    {"test", required_argument, NULL, F_DATA},
    {NULL, 0, NULL, 0},
};

/* An accepted size never came from a negative number: strtoull reads
 * "-1" (and " -1", which passes a check of the first character) as
 * ULLONG_MAX, so with hi = SIZE_MAX the wrap-around would be accepted. */
/* (This found cli_parse_size(" -1", 1, SIZE_MAX) giving SIZE_MAX; sizes are
 * now digits only.) */

static void check_size(const char *arg, size_t lo, size_t hi)
{
    size_t v = 0;
    if (cli_parse_size(arg, lo, hi, &v) != 0) return;
    if (v < lo || v > hi) __builtin_trap();
    if (strchr(arg, '-')) __builtin_trap();
}

static void check_ulong(const char *arg)
{
    unsigned long v = 0;
    if (cli_parse_ulong(arg, &v) != 0) return;
    if (v > 4294967295UL || strchr(arg, '-')) __builtin_trap();
}

static void check_double(const char *arg)
{
    double v;
    if (cli_parse_double(arg, &v) == 0 && !isfinite(v)) __builtin_trap();
}

static void check_index_list(const char *arg, size_t hi)
{
    unsigned long long mask = 0;
    if (cli_parse_index_list(arg, hi, &mask) != 0) return;
    if (mask == 0 || (hi < 63 && (mask >> (hi + 1)) != 0)) __builtin_trap();
}

static void check_range(const char *arg)
{
    double lo, hi;
    if (fuzz_parse_range(arg, &lo, &hi) != 0) return;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi)) __builtin_trap();
}

/* (This found tdl_sweep_values_parse("8:4:") reading past the string: the
 * range's operator was taken even when it was the terminating NUL; fixed.) */

static void check_values(const char *arg)
{
    double *v = (double *)1;
    size_t n = 1;
    if (tdl_sweep_values_parse(arg, &v, &n) != TDL_OK) {
        if (v || n) __builtin_trap();
        return;
    }
    if (!v || n == 0 || n > 10000) __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) __builtin_trap();
    free(v);
}

/* Widths printed back as "w0-w1-..." parse to the same net. */
static size_t check_arch(const char *arg, tdl_mlp_config *cfg)
{
    tdl_mlp_config_default(cfg);
    if (tdl_arch_parse(arg, cfg) != TDL_OK) return 0;
    if (cfg->depth < 1 || cfg->depth > TDL_MAX_DEPTH) __builtin_trap();
    char buf[(TDL_MAX_DEPTH + 1) * 12];
    size_t used = 0, params = 0;
    for (size_t l = 0; l <= cfg->depth; l++) {
        if (cfg->widths[l] < 1 || cfg->widths[l] > 100000000) __builtin_trap();
        used += (size_t)snprintf(buf + used, sizeof buf - used, l ? "-%zu" : "%zu", cfg->widths[l]);
        if (l < cfg->depth) {
            double p = (double)(cfg->widths[l] + 1) * (double)cfg->widths[l + 1];
            params = p + (double)params > 1e12 ? SIZE_MAX / 2 : params + (size_t)p;
        }
    }
    tdl_mlp_config again;
    tdl_mlp_config_default(&again);
    if (tdl_arch_parse(buf, &again) != TDL_OK || again.depth != cfg->depth) __builtin_trap();
    for (size_t l = 0; l <= cfg->depth; l++)
        if (again.widths[l] != cfg->widths[l]) __builtin_trap();
    return params;
}

static void check_words(int c, const char *arg)
{
    switch (c) {
    case F_NORM: { tdl_dir_norm x; (void)tdl_dir_norm_parse(arg, &x); break; }
    case F_CURVE: { tdl_curve_kind x; (void)tdl_curve_parse(arg, &x); break; }
    case F_KACT: { tdl_kact x; (void)tdl_kact_parse(arg, &x); break; }
    case F_SMOOTH: { tdl_smoothing x; (void)tdl_smoothing_parse(arg, &x); break; }
    case F_WHICH: { tdl_which x; (void)tdl_which_parse(arg, &x); break; }
    case F_OPTIMIZER: { tdl_optimizer x; (void)tdl_optimizer_parse(arg, &x); break; }
    default: break;
    }
}

static void run_options(int argc, char **argv)
{
    cli_model_opts mo;
    cli_train_opts to;
    cli_model_opts_init(&mo);
    cli_train_opts_init(&to);
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    int c, model_bad = 0, train_bad = 0;
    while ((c = getopt_long(argc, argv, ":o:qj", opts, NULL)) != -1) {
        const char *arg = optarg;
        if (c == '?' || c == ':') {
            (void)cli_bad_option("fuzz", argv, optopt);
            continue;
        }
        const char *name = cli_option_name(opts, c);
        if (!name || !*name) __builtin_trap();
        /* a refused value may be left in the struct: the command exits then */
        int r = cli_model_opts_parse(&mo, "fuzz", c, arg);
        if (r < 0) model_bad = 1;
        if (r == 0 && (r = cli_train_opts_parse(&to, "fuzz", c, arg, name)) < 0) train_bad = 1;
        if (r != 0) continue;
        switch (c) {
        case F_VALUES: check_values(arg); break;
        case F_RANGE: check_range(arg); break;
        case F_INDEX: check_index_list(arg, 63); check_index_list(arg, 3); break;
        case F_K: check_size(arg, 1, SIZE_MAX); break;
        case F_MAXCELLS: check_size(arg, 1, SIZE_MAX); break;
        case F_CBATCH: check_size(arg, 0, SIZE_MAX); break;
        case F_GRID: check_size(arg, 2, 100001); break;
        case F_POINTS: check_size(arg, 2, 10000000); break;
        case F_THREADS: check_size(arg, 1, 1024); break;
        case F_LAYER: check_size(arg, 0, TDL_MAX_DEPTH - 1); break;
        case F_BUDGET: check_size(arg, 1, 1u << 30); break;
        case F_DSEED: check_ulong(arg); break;
        case F_DELTA: case F_PCT: case F_TOL: check_double(arg); break;
        case F_DATA: { /* what cli_check_outputs asks of a spec; nothing opened */
            char **files = NULL;
            if (tdl_dataset_spec_files(arg, &files) == TDL_OK) free(files);
            else if (files) __builtin_trap();
            break;
        }
        case F_JSON: case 'o': case 'q': case 'j': break;
        default: check_words(c, arg); break;
        }
    }
    for (int i = optind; i < argc; i++) {
        tdl_sweep_kind kind;
        (void)tdl_sweep_kind_parse(argv[i], &kind);
    }

    /* training options: the settled configuration is in range */
    if (!train_bad && cli_train_opts_finish(&to, "fuzz", mo.seed) == 0) {
        const tdl_train_config *cfg = &to.cfg;
        if (!(cfg->lr > 0) || !isfinite(cfg->lr) || !(cfg->momentum >= 0 && cfg->momentum < 1) || cfg->epochs < 1)
            __builtin_trap();
        if (cfg->opt == TDL_OPT_NESTEROV && !(cfg->momentum > 0)) __builtin_trap();
    }

    /* model options: what cli_model_build parses, and the build of small nets */
    if (model_bad) return;
    if (mo.sigma_w < 0 || mo.sigma_b < 0 || mo.seed > 4294967295UL) __builtin_trap();
    if (mo.act) { tdl_act a; (void)tdl_act_parse(mo.act, &a); }
    if (mo.init) { tdl_init_kind k; (void)tdl_init_parse(mo.init, &k); }
    if (mo.loss) { tdl_loss_kind k; (void)tdl_loss_parse(mo.loss, &k); }
    if (mo.freeze) { check_index_list(mo.freeze, 63); check_index_list(mo.freeze, 0); }
    if (mo.arch) {
        tdl_mlp_config cfg;
        size_t params = check_arch(mo.arch, &cfg);
        if (params > 0 && params <= MAX_BUILD_PARAMS) {
            tdl_mlp *m = NULL;
            mo.model = NULL; /* never read a file */
            if (cli_model_build(&mo, "fuzz", &m) == 0) {
                if (!m || m->depth != cfg.depth) __builtin_trap();
                tdl_mlp_free(&m);
            } else if (m) {
                __builtin_trap();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *argv[MAX_ARGS + 2];
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    argv[argc++] = (char *)"tdl-fuzz";
    for (char *p = text; argc <= MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    run_options(argc, argv);
    free(text);
    return 0;
}
