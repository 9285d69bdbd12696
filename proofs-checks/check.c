/* check.c — result building, timing, verdicts and small numerics shared by
 * the theorem checks (see check.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"

const pc_check *pc_find(const char *name)
{
    for (const pc_check *const *c = pc_checks; *c; c++)
        if (strcmp((*c)->name, name) == 0) return *c;
    return NULL;
}

void pc_setup(pc_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->setup, sizeof r->setup, fmt, ap);
    va_end(ap);
}

void pc_note(pc_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
}

pc_row *pc_add(pc_result *r, const char *key, const char *label, double measured,
               double predicted, int ok, const char *criterion)
{
    if (r->n_rows >= PC_MAX_ROWS) return NULL;
    pc_row *row = &r->rows[r->n_rows++];
    snprintf(row->key, sizeof row->key, "%s", key);
    snprintf(row->label, sizeof row->label, "%s", label);
    snprintf(row->criterion, sizeof row->criterion, "%s", criterion ? criterion : "");
    row->measured = measured;
    row->predicted = predicted;
    /* A criterion evaluated on a NaN is not met, whatever the comparison said. */
    row->ok = ok < 0 ? -1 : (ok && !isnan(measured) ? 1 : 0);
    return row;
}

pc_row *pc_addf(pc_result *r, const char *key, const char *label, double measured,
                double predicted, int ok, const char *criterion_fmt, ...)
{
    char crit[112];
    va_list ap;
    va_start(ap, criterion_fmt);
    vsnprintf(crit, sizeof crit, criterion_fmt, ap);
    va_end(ap);
    return pc_add(r, key, label, measured, predicted, ok, crit);
}

tdl_train_config pc_gd_config(tdl_loss_kind loss, double eta, size_t steps, size_t eval_every)
{
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.loss = loss;
    tc.opt = TDL_OPT_GD;
    tc.lr = eta;
    tc.batch = 0;
    tc.epochs = steps;
    tc.eval_every = eval_every;
    /* The checks study GD's own dynamics, divergence included (a step beyond
     * 2/lambda_max must be seen to grow the loss at the predicted rate):
     * the loss-growth stop of tdl_train is off; a NaN or infinity still stops. */
    tc.diverge_factor = 0;
    return tc;
}

/* Du et al.'s net in tdl: d-m-1, NTK parametrization with sigma_w = 1 (fed
 * sqrt(d) x), no biases, output weights = their signs, frozen. */
int pc_du_net(size_t d, size_t width, unsigned long seed, tdl_mlp **out)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 2;
    cfg.widths[0] = d;
    cfg.widths[1] = width;
    cfg.widths[2] = 1;
    cfg.act = (tdl_act){TDL_ACT_RELU, 0, 0};
    cfg.param = TDL_PARAM_NTK;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.0;
    cfg.bias = 0;
    cfg.trainable[1] = 0;
    cfg.seed = seed;
    int st = tdl_mlp_create(&cfg, out);
    if (st != TDL_OK) return st;
    tdl_mlp *m = *out;
    double *a = m->theta + m->layers[1].w_off, *a0 = m->theta0 + m->layers[1].w_off;
    for (size_t r = 0; r < width; r++) a[r] = a0[r] = a[r] >= 0 ? 1.0 : -1.0;
    return TDL_OK;
}

void pc_width_sweep_config(tdl_sweep_config *cfg, const double *widths, size_t nw, size_t repeats,
                           size_t d, size_t outputs, unsigned long seed)
{
    tdl_sweep_config_default(cfg);
    cfg->kind = TDL_SWEEP_WIDTH;
    cfg->values = widths;
    cfg->count = nw;
    cfg->repeats = repeats;
    cfg->net.depth = 2;
    cfg->net.widths[0] = d;
    cfg->net.widths[1] = 1;
    cfg->net.widths[2] = outputs;
    cfg->net.seed = seed;
    cfg->train.opt = TDL_OPT_SGD;
    cfg->train.momentum = 0.9;
    cfg->train.lr = 0.05;
    cfg->train.batch = 0;
    cfg->train.seed = seed;
}

const char *pc_param_name(unsigned bit)
{
    switch (bit) {
    case PC_P_DATA: return "--data";
    case PC_P_WIDTHS: return "--widths";
    case PC_P_SEEDS: return "--seeds";
    case PC_P_STEPS: return "--steps";
    case PC_P_TEST: return "--test";
    default: return NULL;
    }
}

char *pc_spec_with(const char *spec, const char *key, const char *value)
{
    tdl_spec s;
    if (tdl_data_spec_parse(spec, &s) != TDL_OK) return NULL;
    size_t len = strlen(s.name) + strlen(key) + strlen(value) + 4;
    for (size_t i = 0; i < s.count; i++) len += strlen(s.kv[i].key) + strlen(s.kv[i].value) + 2;
    char *out = tdl_malloc(len, "a data spec");
    if (out) {
        size_t at = (size_t)snprintf(out, len, "%s:", s.name);
        for (size_t i = 0; i < s.count; i++)
            if (strcmp(s.kv[i].key, key) != 0) at += (size_t)snprintf(out + at, len - at, "%s=%s,", s.kv[i].key, s.kv[i].value);
        snprintf(out + at, len - at, "%s=%s", key, value);
    }
    tdl_data_spec_free(&s);
    return out;
}

/* The spec with n=max_n in place of any n= it has (tdl/data.h: the first
 * max_n examples after a seeded shuffle). */
static char *spec_with_n(const char *spec, size_t max_n)
{
    char v[32];
    snprintf(v, sizeof v, "%zu", max_n);
    return pc_spec_with(spec, "n", v);
}

int pc_load_user_data(const char *name, const char *spec, size_t max_n, tdl_dataset **out, char **used)
{
    *out = NULL;
    *used = NULL;
    int st = tdl_dataset_load(spec, out);
    if (st != TDL_OK) return st;
    if ((*out)->n <= max_n) {
        if (!(*used = tdl_strdup(spec))) { tdl_dataset_free(out); return TDL_ENOMEM; }
        return TDL_OK;
    }
    tdl_dataset_free(out);
    char *cut = spec_with_n(spec, max_n);
    if (!cut) return tdl_error_set(TDL_ENOMEM, "%s: out of memory", name);
    if ((st = tdl_dataset_load(cut, out)) != TDL_OK) { free(cut); return st; }
    *used = cut;
    return TDL_OK;
}

int pc_one_output(const char *name, const char *spec, tdl_dataset **ds)
{
    tdl_dataset *in = *ds, *out = NULL;
    if (!in->classes) {
        if (in->Y->size2 == 1) return TDL_OK;
        return tdl_error_set(TDL_EINVAL, "%s: %s has %zu target columns; the check trains one-output nets "
                             "(give one target, or two classes)", name, spec, in->Y->size2);
    }
    if (in->classes != 2)
        return tdl_error_set(TDL_EINVAL, "%s: %s has %zu classes; the check trains one-output nets on a "
                             "0/1 label (give two classes, e.g. binary=K)", name, spec, in->classes);
    int st = tdl_dataset_create(in->n, in->d, 0, 1, &out);
    if (st != TDL_OK) return st;
    gsl_matrix_memcpy(out->X, in->X);
    for (size_t i = 0; i < in->n; i++) gsl_matrix_set(out->Y, i, 0, (double)in->labels[i]);
    tdl_dataset_free(ds);
    *ds = out;
    return TDL_OK;
}

/* The last component of a path-like text (itself when it has no '/'). */
static const char *last_component(const char *s, size_t len)
{
    const char *base = s;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' && i + 1 < len) base = s + i + 1;
    return base;
}

const char *pc_display_spec(const char *spec, char *buf, size_t len)
{
    /* items are separated by ':' (after the name) and ','; a value is what
     * follows '=' in an item; each name or value keeps its last component */
    size_t at = 0;
    const char *p = spec;
    if (len == 0) return buf;
    buf[0] = '\0';
    while (*p && at + 1 < len) {
        size_t item = strcspn(p, ":,");
        const char *eq = memchr(p, '=', item);
        const char *v = eq ? eq + 1 : p;
        size_t head = (size_t)(v - p), vlen = item - head;
        const char *base = last_component(v, vlen);
        at += (size_t)snprintf(buf + at, len - at, "%.*s%.*s", (int)head, p, (int)(vlen - (size_t)(base - v)), base);
        if (at >= len) { at = len - 1; break; }
        p += item;
        if (*p && at + 1 < len) { buf[at++] = *p++; buf[at] = '\0'; }
    }
    return buf;
}

double pc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int pc_run(const pc_check *c, const pc_options *opt, pc_result *res)
{
    memset(res, 0, sizeof *res);
    double t0 = pc_now();
    int st = c->run(opt, res);
    res->seconds = pc_now() - t0;
    if (st != TDL_OK) return st;
    if (res->n_rows == 0 || res->n_rows > PC_MAX_ROWS)
        return tdl_error_set(TDL_EINVAL, "check %s: recorded no result rows", c->name);
    size_t judged = 0, met = 0;
    for (size_t i = 0; i < res->n_rows; i++) {
        if (res->rows[i].ok < 0) continue;
        judged++;
        met += res->rows[i].ok == 1;
    }
    if (judged == 0) return tdl_error_set(TDL_EINVAL, "check %s: no row carries a pass criterion", c->name);
    res->passed = met == judged;
    return TDL_OK;
}

double pc_fit_line(const double *x, const double *y, size_t n, double *intercept)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    double slope = sxx > 0 ? sxy / sxx : NAN;
    if (intercept) *intercept = my - slope * mx;
    return slope;
}

double pc_loglog_slope(const double *x, const double *y, size_t n)
{
    double lx[256], ly[256];
    if (n > 256 || n < 2) return NAN;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] > 0) || !(y[i] > 0)) return NAN;
        lx[i] = log(x[i]);
        ly[i] = log(y[i]);
    }
    return pc_fit_line(lx, ly, n, NULL);
}
