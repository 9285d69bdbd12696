/* help_defaults.c — the table of defaults behind the @{NAME} placeholders of
 * the help texts (see help_defaults.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "help_defaults.h"
#include "trainopts.h"
#include "modelopts.h"

typedef struct help_default {
    const char *name;      /* "train.lr" */
    const char *source;    /* the function or macro that sets it */
    char value[64];        /* as the help prints it */
} help_default;

enum { HELP_DEFAULTS_MAX = 80 };
static help_default table[HELP_DEFAULTS_MAX];
static size_t table_len;

/* A double as the help writes it: an integer without a decimal point
 * (1000, 0), otherwise the fewest significant digits that give the value
 * back (0.1, 0.0003), and an exponent without '+' or leading zeros (1e-8,
 * not %g's 1e-08). */
static void format_number(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    char *e = strchr(buf, 'e');
    if (!e) return;
    char *from = e + 1, *to = e + 1;
    if (*from == '+') from++;
    else if (*from == '-') *to++ = *from++;
    while (*from == '0' && from[1]) from++;
    memmove(to, from, strlen(from) + 1);
}

static void put_text(const char *name, const char *source, const char *text)
{
    /* a full table drops the entry: the help printer then names the
     * placeholder it lacks (raise HELP_DEFAULTS_MAX) */
    if (table_len == HELP_DEFAULTS_MAX) return;
    help_default *d = &table[table_len++];
    d->name = name;
    d->source = source;
    snprintf(d->value, sizeof d->value, "%s", text);
}

static void put_number(const char *name, const char *source, double v)
{
    char buf[64];
    format_number(v, buf, sizeof buf);
    put_text(name, source, buf);
}

static void put_count(const char *name, const char *source, size_t v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%zu", v);
    put_text(name, source, buf);
}

/* The training options of `tdl train` and `tdl sweep` as the CLI settles
 * them: cli_train_opts_init, then cli_train_opts_finish for the defaults
 * that depend on --opt (Adam's learning rate, the momentum of "momentum"
 * and "nesterov", none for "sgd"). */
static void fill_train(void)
{
    static const char init[] = "cli_train_opts_init (tdl_train_config_default)";
    cli_train_opts t;
    cli_train_opts_init(&t);
    const tdl_train_config *c = &t.cfg;
    put_text("train.opt", "cli_train_opts_init", t.opt_text);
    put_number("train.lr", init, c->lr);
    put_number("train.beta1", init, c->beta1);
    put_number("train.beta2", init, c->beta2);
    put_number("train.eps", init, c->eps);
    put_number("train.weight_decay", init, c->weight_decay);
    put_text("train.schedule", init, tdl_schedule_name(c->schedule));
    put_count("train.step_every", init, c->step_every);
    put_number("train.gamma", init, c->gamma);
    put_count("train.epochs", "cli_train_opts_init", c->epochs);
    put_count("train.batch", init, c->batch);
    put_count("train.eval_every", init, c->eval_every);
    put_number("train.diverge_factor", init, c->diverge_factor);

    cli_train_opts_finish(&t, "help", 0);
    put_number("train.momentum", "cli_train_opts_finish (--opt momentum)", t.cfg.momentum);
    static const struct {
        const char *opt, *name, *source;
        int lr;            /* 1: the learning rate, 0: the momentum */
    } by_opt[] = {
        {"adam", "train.lr_adam", "cli_train_opts_finish (--opt adam)", 1},
        {"sgd", "train.momentum_sgd", "cli_train_opts_finish (--opt sgd)", 0},
    };
    for (size_t i = 0; i < sizeof by_opt / sizeof by_opt[0]; i++) {
        cli_train_opts_init(&t);
        cli_train_opts_parse(&t, "help", OPT_T_OPT, by_opt[i].opt, "--opt");
        cli_train_opts_finish(&t, "help", 0);
        put_number(by_opt[i].name, by_opt[i].source, by_opt[i].lr ? t.cfg.lr : t.cfg.momentum);
    }
}

static void fill_bounds(void)
{
    tdl_bounds_config b;
    tdl_bounds_config_default(&b);
    put_number("bounds.delta", "tdl_bounds_config_default", b.delta);
    put_number("bounds.margin_percentile", "tdl_bounds_config_default", b.margin_percentile);
    put_count("bounds.flat_samples", "tdl_bounds_config_default", b.flat_samples);
    put_count("bounds.mc_samples", "tdl_bounds_config_default", b.mc_samples);

    tdl_dr_config d;
    tdl_dr_config_default(&d);
    put_count("dr.epochs", "tdl_dr_config_default", d.epochs);
    put_count("dr.mc_samples", "tdl_dr_config_default", d.mc_samples);
    put_count("dr.batch", "tdl_dr_config_default", d.batch);
    put_number("dr.lr", "tdl_dr_config_default", d.lr);
    /* the words of cmd_bounds.c's --pb-objective */
    put_text("dr.objective", "tdl_dr_config_default", d.objective == TDL_DR_QUAD ? "quad" : "pinsker");
    put_number("dr.sigma_init", "tdl_dr_config_default", d.sigma_init);
    put_number("dr.delta", "tdl_dr_config_default", d.delta);
    put_number("dr.delta_prime", "tdl_dr_config_default", d.delta_prime);
    put_number("dr.c", "tdl_dr_config_default (lambda grid c exp(-j/b))", d.c);
    put_number("dr.b", "tdl_dr_config_default (lambda grid c exp(-j/b))", d.b);
}

static void fill_sweep(void)
{
    tdl_sweep_config s;
    tdl_sweep_config_default(&s);
    put_count("sweep.repeats", "tdl_sweep_config_default", s.repeats);
    put_number("sweep.margin_percentile", "tdl_sweep_config_default (bounds)", s.bounds.margin_percentile);
    put_number("sweep.delta", "tdl_sweep_config_default (bounds)", s.bounds.delta);
    /* the sigma' search of --flatness: flat_steps bisection steps of flat_samples nets */
    put_count("sweep.flat_passes", "tdl_sweep_config_default (bounds flat_steps x flat_samples)",
              s.bounds.flat_steps * s.bounds.flat_samples);
}

static void fill_spectral(void)
{
    put_number("lanczos.tol", "TDL_LANCZOS_TOL_DEFAULT", TDL_LANCZOS_TOL_DEFAULT);
    /* TDL_LANCZOS_STEPS_DEFAULT(k) = max(floor, per_k k) */
    size_t floor_steps = TDL_LANCZOS_STEPS_DEFAULT((size_t)0), big = 1000000;
    put_count("lanczos.steps_min", "TDL_LANCZOS_STEPS_DEFAULT(0)", floor_steps);
    put_count("lanczos.steps_per_k", "TDL_LANCZOS_STEPS_DEFAULT(k) / k, k large", TDL_LANCZOS_STEPS_DEFAULT(big) / big);
}

static void fill_kernels(void)
{
    tdl_ntk_config n;
    tdl_ntk_config_default(&n);
    put_text("ntk.method", "tdl_ntk_config_default", tdl_name_of(tdl_ntk_method_names, (int)n.method));
    put_count("kernel.quad", "TDL_NTK_QUAD_DEFAULT (quad 0)", (size_t)TDL_NTK_QUAD_DEFAULT);

    tdl_signal_config s;
    tdl_signal_config_default(&s);
    char act[64];
    tdl_act_format(&s.act, act, sizeof act);
    put_text("signal.act", "tdl_signal_config_default", act);
    put_number("signal.sigma_w", "tdl_signal_config_default", s.sigma_w);
    put_number("signal.sigma_b", "tdl_signal_config_default", s.sigma_b);
}

static void fill_landscape(void)
{
    tdl_curve_config c;
    tdl_curve_config_default(&c);
    put_count("curve.epochs", "tdl_curve_config_default", c.epochs);
    put_number("curve.lr", "tdl_curve_config_default", c.lr);
    put_count("curve.batch", "tdl_curve_config_default", c.batch);
    put_number("curve.momentum", "tdl_curve_config_default", c.momentum);
}

static void fill_infoplane(void)
{
    tdl_infoplane_config c;
    tdl_infoplane_config_default(&c);
    put_count("infoplane.batch", "tdl_infoplane_config_default", c.train.batch);
    put_count("infoplane.train_seed", "tdl_infoplane_config_default", (size_t)c.train.seed);
    put_count("infoplane.snapshots", "tdl_infoplane_config_default", c.snapshots);
    /* the words of cmd_infoplane.c's --estimator */
    put_text("infoplane.estimator", "tdl_infoplane_config_default", c.estimator == TDL_MI_KDE ? "kde" : "binning");
    put_count("infoplane.bins", "tdl_infoplane_config_default", c.bins);
    put_number("infoplane.noise_var", "tdl_infoplane_config_default", c.noise_var);
}

/* TDL_TEST_HELP_DEFAULT=NAME=VALUE: the test's replacement of one value;
 * TDL_TEST_HELP_DEFAULT=*: every value replaced by <<NAME>>. */
static void apply_test_override(void)
{
    const char *env = getenv("TDL_TEST_HELP_DEFAULT");
    if (env && strcmp(env, "*") == 0) {
        for (size_t i = 0; i < table_len; i++) snprintf(table[i].value, sizeof table[i].value, "<<%s>>", table[i].name);
        return;
    }
    const char *eq = env ? strchr(env, '=') : NULL;
    if (!eq) return;
    for (size_t i = 0; i < table_len; i++)
        if (strlen(table[i].name) == (size_t)(eq - env) && strncmp(table[i].name, env, (size_t)(eq - env)) == 0)
            snprintf(table[i].value, sizeof table[i].value, "%s", eq + 1);
}

/* The model options shared by every command that builds a net
 * (cli_model_help): tdl_mlp_config_default and cli_model_opts_init. */
static void fill_model(void)
{
    tdl_mlp_config m;
    tdl_mlp_config_default(&m);
    char act[64];
    tdl_act_format(&m.act, act, sizeof act);
    put_text("model.act", "tdl_mlp_config_default", act);
    put_text("model.init", "tdl_mlp_config_default", tdl_init_name(m.init));
    put_text("model.param", "tdl_mlp_config_default", tdl_param_name(m.param));
    cli_model_opts o;
    cli_model_opts_init(&o);
    put_number("model.sigma_b", "cli_model_opts_init", o.sigma_b);
    put_count("model.seed", "cli_model_opts_init", (size_t)o.seed);
}

static void fill(void)
{
    if (table_len) return;
    fill_model();
    fill_train();
    fill_sweep();
    fill_bounds();
    fill_spectral();
    fill_kernels();
    fill_landscape();
    fill_infoplane();
    apply_test_override();
}

static const help_default *lookup(const char *name, size_t len)
{
    fill();
    for (size_t i = 0; i < table_len; i++)
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0) return &table[i];
    return NULL;
}

const char *cli_help_default(const char *name)
{
    const help_default *d = lookup(name, strlen(name));
    return d ? d->value : NULL;
}

/* The next placeholder at or after p: *start at its '@', *name and *len
 * its NAME, *end just past its '}' (an unclosed "@{..." runs to the end of
 * the text and names no default).  0 when there is none. */
static int next_placeholder(const char *p, const char **start, const char **name, size_t *len, const char **end)
{
    const char *at = strstr(p, "@{");
    if (!at) return 0;
    const char *close = strchr(at + 2, '}');
    *start = at;
    *name = at + 2;
    *len = close ? (size_t)(close - at - 2) : strlen(at + 2);
    *end = close ? close + 1 : at + strlen(at);
    return 1;
}

int cli_help_print(FILE *fp, const char *text)
{
    const char *start, *name, *end;
    size_t len;
    for (const char *p = text; next_placeholder(p, &start, &name, &len, &end); p = end)
        if (end[-1] != '}' || !lookup(name, len)) {
            fprintf(stderr, "tdl: error: help text: no default named '%.*s'\n", (int)len, name);
            return EXIT_WORK_FAILED;
        }
    const char *p = text;
    while (next_placeholder(p, &start, &name, &len, &end)) {
        fwrite(p, 1, (size_t)(start - p), fp);
        fputs(lookup(name, len)->value, fp);
        p = end;
    }
    fputs(p, fp);
    return 0;
}

void cli_help_defaults_list(FILE *fp)
{
    fill();
    for (size_t i = 0; i < table_len; i++)
        fprintf(fp, "%-26s %-10s %s\n", table[i].name, table[i].value, table[i].source);
}
