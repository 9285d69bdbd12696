/* sweep.c — width / sample-size / label-noise / parameter-count experiments
 * (tdl/sweep.h).
 *
 * One code path for `tdl sweep` and the width checks of proofs-checks/:
 * for every (value, repeat) pair build the net, train it with tdl_train,
 * evaluate train / test error and loss with tdl_mlp_evaluate, compute the
 * bounds table with tdl_bounds_compute (a params sweep fits the last layer
 * with tdl_rf_fit instead of training, and measures nothing); then the
 * Kendall rank correlation of
 * every measure with the generalization gap (Jiang et al. 2020, eq. (3)-(5)).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "tdl/sweep.h"
#include "tdl/stats.h"
#include "tdl/random_features.h"
#include "internal.h"
#include "data_internal.h"
#include "sweep_internal.h"

#define SWEEP_MAX_VALUES 10000
#define SWEEP_MAX_WIDTH 10000000.0

const tdl_name tdl_sweep_kind_names[] = {
    {"width", TDL_SWEEP_WIDTH}, {"samples", TDL_SWEEP_SAMPLES}, {"label-noise", TDL_SWEEP_LABEL_NOISE},
    {"params", TDL_SWEEP_PARAMS}, {NULL, 0}};

int tdl_sweep_kind_parse(const char *text, tdl_sweep_kind *out)
{
    int v;
    if (!text) return tdl_fail(TDL_EINVAL, "unknown sweep '' (width samples label-noise params)");
    int st = tdl_name_lookup(tdl_sweep_kind_names, "sweep", text, &v);
    if (st == TDL_OK) *out = (tdl_sweep_kind)v;
    return st;
}

const char *tdl_sweep_kind_name(tdl_sweep_kind k)
{
    const char *n = tdl_name_of(tdl_sweep_kind_names, (int)k);
    return n ? n : "?";
}

int tdl_sweep_arch(const char *text, tdl_mlp_config *cfg, int *width_slot, size_t *n_slots)
{
    char buf[1024];
    size_t len = text ? strlen(text) : 0, fields = 1, slots = 0;
    if (!text || len == 0 || len >= sizeof buf) return tdl_fail(TDL_EINVAL, "architecture '%s': expected widths like 64-W-10", text ? text : "");
    for (int l = 0; l <= TDL_MAX_DEPTH; l++) width_slot[l] = 0;
    /* Replace every field that is exactly "W" by "1" and remember its index. */
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '-') { fields++; buf[o++] = '-'; continue; }
        int starts = i == 0 || text[i - 1] == '-', ends = i + 1 == len || text[i + 1] == '-';
        if ((text[i] == 'W' || text[i] == 'w') && starts && ends) {
            if (fields > TDL_MAX_DEPTH + 1) return tdl_fail(TDL_EINVAL, "architecture '%s': more than %d layers", text, TDL_MAX_DEPTH);
            width_slot[fields - 1] = 1;
            slots++;
            buf[o++] = '1';
        } else {
            buf[o++] = text[i];
        }
    }
    buf[o] = '\0';
    int st = tdl_arch_parse(buf, cfg);
    if (st != TDL_OK) return st;
    if (width_slot[0] || width_slot[cfg->depth])
        return tdl_fail(TDL_EINVAL, "architecture '%s': the input and output widths cannot be W (only hidden layers)", text);
    *n_slots = slots;
    return TDL_OK;
}

int tdl_sweep_values_parse(const char *text, double **values, size_t *count)
{
    *values = NULL;
    *count = 0;
    if (!text || !*text) return tdl_fail(TDL_EINVAL, "values: empty list (expected e.g. 4,8,16 or 4:4096:x2)");
    const char *colon = strchr(text, ':');
    double *v = NULL;
    size_t n = 0;
    if (colon) {
        /* start:stop:xF (geometric) or start:stop:+S (arithmetic), stop inclusive */
        char *end;
        double a = strtod(text, &end);
        if (end == text || *end != ':') goto bad_range;
        const char *p = end + 1;
        double b = strtod(p, &end);
        if (end == p || *end != ':') goto bad_range;
        p = end + 1;
        char op = *p; /* 'x' or '+'; never step past the terminating NUL (fuzz_options) */
        if (op != 'x' && op != '+') goto bad_range;
        p++;
        double f = strtod(p, &end);
        if (end == p || *end || !isfinite(a) || !isfinite(b) || !isfinite(f)) goto bad_range;
        if (op == 'x' && !(a > 0 && f > 1 && b >= a))
            return tdl_fail(TDL_EINVAL, "values %s: a geometric range needs 0 < start <= stop and a factor > 1", text);
        if (op == '+' && !(f > 0 && b >= a))
            return tdl_fail(TDL_EINVAL, "values %s: an arithmetic range needs start <= stop and a step > 0", text);
        double steps = op == 'x' ? floor(log(b / a) / log(f) + 1e-9) : floor((b - a) / f + 1e-9);
        if (!(steps + 1 <= SWEEP_MAX_VALUES))
            return tdl_fail(TDL_ETOOBIG, "values %s: more than %d values", text, SWEEP_MAX_VALUES);
        n = (size_t)steps + 1;
        v = tdl_malloc(n * sizeof(double), "the swept values");
        if (!v) return TDL_ENOMEM;
        for (size_t i = 0; i < n; i++) v[i] = op == 'x' ? a * pow(f, (double)i) : a + (double)i * f;
        /* geometric ranges of integers stay integers (4:4096:x2) */
        if (op == 'x')
            for (size_t i = 0; i < n; i++) if (fabs(v[i] - round(v[i])) < 1e-9 * v[i]) v[i] = round(v[i]);
        *values = v;
        *count = n;
        return TDL_OK;
bad_range:
        return tdl_fail(TDL_EINVAL, "values %s: expected a list 4,8,16 or a range start:stop:xFACTOR / start:stop:+STEP", text);
    }
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    if (cap > SWEEP_MAX_VALUES) return tdl_fail(TDL_ETOOBIG, "values: more than %d values", SWEEP_MAX_VALUES);
    v = tdl_malloc(cap * sizeof(double), "the swept values");
    if (!v) return TDL_ENOMEM;
    const char *p = text;
    for (;;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(x)) {
            free(v);
            return tdl_fail(TDL_EINVAL, "values %s: '%.*s' is not a number (expected e.g. 4,8,16 or 4:4096:x2)", text,
                            (int)strcspn(p, ","), p);
        }
        v[n++] = x;
        if (!*end) break;
        p = end + 1;
    }
    *values = v;
    *count = n;
    return TDL_OK;
}

void tdl_sweep_config_default(tdl_sweep_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = TDL_SWEEP_WIDTH;
    cfg->repeats = 1;
    tdl_mlp_config_default(&cfg->net);
    tdl_train_config_default(&cfg->train);
    cfg->measures = 1;
    tdl_bounds_config_default(&cfg->bounds);
    cfg->bounds.flatness = 0;
    cfg->success_loss = NAN;
    cfg->ridge = 0;
    cfg->rcond = -1;
}

tdl_sweep_stat tdl_sweep_summary(const tdl_sweep_result *r, size_t value_index, size_t field)
{
    /* the repeats of one value are contiguous (value-major order) */
    tdl_sweep_stat s = {NAN, NAN, NAN, NAN, 0};
    if (value_index >= r->count || field + sizeof(double) > sizeof(tdl_sweep_run)) return s;
    const tdl_sweep_run *runs = r->runs + value_index * r->repeats;
    return tdl_summarize((const double *)(const void *)((const char *)runs + field), r->repeats, sizeof *runs);
}

void tdl_sweep_result_free(tdl_sweep_result *r)
{
    if (!r) return;
    for (size_t i = 0; r->runs && i < r->n_runs; i++) {
        free(r->runs[i].measure_values);
        free(r->runs[i].measure_bounds);
    }
    free(r->runs);
    free(r->measure_names);
    free(r->measure_sources);
    free(r->correlations);
    memset(r, 0, sizeof *r);
}

/* Rows idx[0..n) of ds as a new data set (labels or targets copied). */
static int dataset_rows(const tdl_dataset *ds, const size_t *idx, size_t n, tdl_dataset **out)
{
    size_t k = ds->classes ? 0 : ds->Y->size2;
    int st = tdl_dataset_alloc(n, ds->d, ds->classes, k, out);
    if (st != TDL_OK) return st;
    tdl_dataset *s = *out;
    for (size_t i = 0; i < n; i++) {
        memcpy(gsl_matrix_ptr(s->X, i, 0), gsl_matrix_const_ptr(ds->X, idx[i], 0), ds->d * sizeof(double));
        if (ds->classes) s->labels[i] = ds->labels[idx[i]];
        else memcpy(gsl_matrix_ptr(s->Y, i, 0), gsl_matrix_const_ptr(ds->Y, idx[i], 0), k * sizeof(double));
    }
    s->spec = tdl_strdup(ds->spec ? ds->spec : "");
    if (!s->spec) { tdl_dataset_free(out); return tdl_fail(TDL_ENOMEM, "out of memory for a data set"); }
    return TDL_OK;
}

/* The training set of one run: the whole set (width), a seeded subset of n
 * examples (samples), or a copy with round(F N) labels replaced (label-noise). */
static int run_training_set(const tdl_sweep_config *cfg, const tdl_dataset *train, double value,
                            unsigned long seed, tdl_dataset **out)
{
    *out = NULL;
    const size_t N = train->n;
    size_t *idx = tdl_malloc(N * sizeof *idx, "example indices");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int st = TDL_OK;
    if (!idx || !r) { st = tdl_fail(TDL_ENOMEM, "out of memory for a sweep's training set"); goto cleanup; }
    gsl_rng_set(r, seed * 2654435761UL + 977UL);
    for (size_t i = 0; i < N; i++) idx[i] = i;
    if (cfg->kind == TDL_SWEEP_SAMPLES) {
        gsl_ran_shuffle(r, idx, N, sizeof *idx);
        st = dataset_rows(train, idx, (size_t)value, out);
    } else {
        st = dataset_rows(train, idx, N, out);
        if (st == TDL_OK && cfg->kind == TDL_SWEEP_LABEL_NOISE) {
            /* round(F N) examples chosen at random get a uniform random class
             * (which may equal the original), as the random-labels=F modifier. */
            size_t k = (size_t)llround(value * (double)N);
            gsl_ran_shuffle(r, idx, N, sizeof *idx);
            for (size_t i = 0; i < k; i++)
                (*out)->labels[idx[i]] = (size_t)gsl_rng_uniform_int(r, train->classes);
        }
    }
cleanup:
    free(idx);
    if (r) gsl_rng_free(r);
    return st;
}

static int check_config(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test)
{
    if (!cfg->values || cfg->count == 0) return tdl_fail(TDL_EINVAL, "sweep: no values to sweep");
    if (cfg->repeats == 0) return tdl_fail(TDL_EINVAL, "sweep: the number of repeats must be at least 1");
    if ((unsigned)cfg->kind > TDL_SWEEP_PARAMS) return tdl_fail(TDL_EINVAL, "sweep: unknown kind");
    if (cfg->net.depth < 1 || cfg->net.widths[0] != train->d)
        return tdl_fail(TDL_ESHAPE, "sweep: the architecture takes %zu inputs, the data %s have %zu features",
                        cfg->net.widths[0], train->spec ? train->spec : "", train->d);
    if (test && test->d != train->d)
        return tdl_fail(TDL_ESHAPE, "sweep: the test data %s have %zu features, the training data %zu",
                        test->spec ? test->spec : "", test->d, train->d);
    if (test && (test->classes == 0) != (train->classes == 0))
        return tdl_fail(TDL_ESHAPE, "sweep: the test data %s and the training data disagree on classification vs regression",
                        test->spec ? test->spec : "");
    if (test && !test->classes && test->Y->size2 != train->Y->size2)
        return tdl_fail(TDL_ESHAPE, "sweep: the test data have %zu targets, the training data %zu", test->Y->size2, train->Y->size2);
    for (size_t i = 0; i < cfg->count; i++) {
        double v = cfg->values[i];
        switch (cfg->kind) {
        case TDL_SWEEP_WIDTH:
            if (!(v >= 1 && v <= SWEEP_MAX_WIDTH && v == floor(v)))
                return tdl_fail(TDL_EINVAL, "sweep width: value %g is not a width (an integer in 1..%.0f)", v, SWEEP_MAX_WIDTH);
            if (cfg->net.depth < 2) return tdl_fail(TDL_EINVAL, "sweep width: the architecture has no hidden layer to widen");
            break;
        case TDL_SWEEP_SAMPLES:
            if (!(v >= 1 && v <= (double)train->n && v == floor(v)))
                return tdl_fail(TDL_EINVAL, "sweep samples: value %g is not a training-set size in 1..%zu (the examples of %s)", v,
                                train->n, train->spec ? train->spec : "the training data");
            break;
        case TDL_SWEEP_LABEL_NOISE:
            if (!(v >= 0 && v <= 1)) return tdl_fail(TDL_EINVAL, "sweep label-noise: value %g is not a fraction in [0, 1]", v);
            if (!train->classes) return tdl_fail(TDL_EINVAL, "sweep label-noise: the data %s have no class labels", train->spec ? train->spec : "");
            break;
        case TDL_SWEEP_PARAMS:
            if (!(v >= 1 && v <= SWEEP_MAX_WIDTH && v == floor(v)))
                return tdl_fail(TDL_EINVAL, "sweep params: value %g is not a number of random features (an integer in 1..%.0f)", v,
                                SWEEP_MAX_WIDTH);
            break;
        }
    }
    if (cfg->kind == TDL_SWEEP_PARAMS) {
        if (cfg->net.depth != 2)
            return tdl_fail(TDL_EINVAL, "sweep params: random-features regression needs a net with one hidden layer (d-p-C), "
                            "the architecture has %zu layers", cfg->net.depth);
        if (cfg->train.loss != TDL_LOSS_MSE)
            return tdl_fail(TDL_EINVAL, "sweep params: random-features regression fits the mse loss (least squares), not %s",
                            tdl_loss_name(cfg->train.loss));
        if (!(cfg->ridge >= 0) || !isfinite(cfg->ridge)) return tdl_fail(TDL_EINVAL, "sweep params: ridge %g is not a finite number >= 0", cfg->ridge);
        if (cfg->output_ones) return tdl_fail(TDL_EINVAL, "sweep params: output-ones fixes the last layer that random-features regression fits");
    }
    if (cfg->output_ones && cfg->net.widths[cfg->net.depth] != 1)
        return tdl_fail(TDL_EINVAL, "sweep: output-ones needs a net with one output (it has %zu)", cfg->net.widths[cfg->net.depth]);
    return TDL_OK;
}

/* Index of name in the union of measure names, appending it when new. */
static int measure_index(tdl_sweep_result *r, size_t *cap, const tdl_measure *m, size_t *out)
{
    for (size_t j = 0; j < r->n_measures; j++)
        if (strcmp(r->measure_names[j], m->name) == 0) { *out = j; return TDL_OK; }
    if (r->n_measures == *cap) {
        size_t nc = *cap ? 2 * *cap : 32;
        char (*names)[48] = realloc(r->measure_names, nc * sizeof *names);
        if (!names) return tdl_fail(TDL_ENOMEM, "out of memory for the measure names");
        r->measure_names = names;
        char (*srcs)[320] = realloc(r->measure_sources, nc * sizeof *srcs);
        if (!srcs) return tdl_fail(TDL_ENOMEM, "out of memory for the measure names");
        r->measure_sources = srcs;
        *cap = nc;
    }
    snprintf(r->measure_names[r->n_measures], 48, "%s", m->name);
    snprintf(r->measure_sources[r->n_measures], 320, "%s", m->source);
    *out = r->n_measures++;
    return TDL_OK;
}

/* Train and measure one run. */
static int one_run(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                   tdl_sweep_run *run, tdl_measure **meas, size_t *n_meas)
{
    const double t0 = tdl_seconds_now();
    tdl_mlp_config nc = cfg->net;
    tdl_train_config tc = cfg->train;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_net_work *w = NULL;
    tdl_eval_stats es = {0};
    int st;
    run->init_seed = nc.seed + run->repeat;
    run->train_seed = tc.seed + run->repeat;
    nc.seed = run->init_seed;
    tc.seed = run->train_seed;
    tc.callback = NULL;
    tc.user = NULL;
    run->cond = run->coef_norm = NAN;
    if (cfg->kind == TDL_SWEEP_WIDTH || cfg->kind == TDL_SWEEP_PARAMS) {
        int any = 0;
        for (size_t l = 1; l < nc.depth; l++) any |= cfg->width_slot[l];
        run->width = (size_t)run->value;
        for (size_t l = 1; l < nc.depth; l++)
            if (!any || cfg->width_slot[l]) nc.widths[l] = run->width;
    }
    if (cfg->output_ones) nc.trainable[nc.depth - 1] = 0;
    if ((st = run_training_set(cfg, train, run->value, run->train_seed, &ds)) != TDL_OK) goto cleanup;
    run->n_train = ds->n;
    if ((st = tdl_mlp_create(&nc, &m)) != TDL_OK) goto cleanup;
    if (cfg->output_ones) {
        /* Safran and Shamir 2018, eq. (1): f(x) = sum_j phi(w_j . x), output weights fixed to 1. */
        const tdl_layer *L = &m->layers[m->depth - 1];
        for (size_t j = 0; j < L->in; j++) m->theta[L->w_off + j] = 1.0 / L->w_scale;
        memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
    }
    run->params = m->n_params;
    if ((st = tdl_loss_check(tc.loss, m, ds)) != TDL_OK) goto cleanup;
    if (cfg->kind == TDL_SWEEP_PARAMS) {
        /* random-features regression: the last layer by least squares, no training */
        tdl_lstsq_info li;
        if ((st = tdl_rf_fit(m, ds, cfg->ridge, cfg->rcond, &li)) != TDL_OK) goto cleanup;
        run->coefficients = tdl_rf_coefficients(m);
        run->rank = li.rank;
        run->cond = li.cond;
        run->coef_norm = li.coef_norm;
    } else {
        tdl_train_result tr = {0};
        st = tdl_train(m, ds, &tc, &tr);
        if (st == TDL_EDIVERGED) {
            run->diverged = 1;
            st = TDL_OK;
        }
        if (st != TDL_OK) goto cleanup;
        run->epochs = tr.epochs;
        run->steps = tr.steps;
        run->reached_target = tr.reached_target;
    }
    size_t cap = ds->n < 1024 ? ds->n : 1024;
    if (test && test->n > cap) cap = test->n < 1024 ? test->n : 1024;
    if ((st = tdl_net_work_alloc(m, cap, &w)) != TDL_OK) goto cleanup;
    if ((st = tdl_mlp_evaluate(m, tc.loss, ds, w, &es)) != TDL_OK) goto cleanup;
    run->train_loss = es.loss;
    run->train_error = es.error;
    tdl_eval_stats_free(&es);
    run->test_loss = run->test_error = run->gap = NAN;
    if (test) {
        if ((st = tdl_mlp_evaluate(m, tc.loss, test, w, &es)) != TDL_OK) goto cleanup;
        run->test_loss = es.loss;
        run->test_error = es.error;
        tdl_eval_stats_free(&es);
        run->gap = train->classes ? run->test_error - run->train_error : run->test_loss - run->train_loss;
    }
    run->success = !isnan(cfg->success_loss) && run->train_loss < cfg->success_loss;
    if (cfg->measures && ds->classes && !run->diverged && cfg->kind != TDL_SWEEP_PARAMS) {
        double err;
        tdl_bounds_config bc = cfg->bounds;
        bc.seed = cfg->bounds.seed + run->repeat;
        if ((st = tdl_bounds_compute(m, tc.loss, ds, &bc, meas, n_meas, &err)) != TDL_OK) goto cleanup;
    }
    run->seconds = tdl_seconds_now() - t0;
cleanup:
    tdl_eval_stats_free(&es);
    tdl_net_work_free(&w);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return st;
}

void tdl_sweep_work_free(sweep_work *w)
{
    for (size_t i = 0; w->meas && i < w->total; i++) free(w->meas[i]);
    free(w->meas);
    free(w->n_meas);
    w->meas = NULL;
    w->n_meas = NULL;
}

int tdl_sweep_begin(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                    tdl_sweep_result *out, sweep_work *w)
{
    memset(out, 0, sizeof *out);
    memset(w, 0, sizeof *w);
    int st = check_config(cfg, train, test);
    if (st != TDL_OK) return st;
    w->t0 = tdl_seconds_now();
    size_t total;
    if (tdl_mul_size(cfg->count, cfg->repeats, &total) != 0 || total > 1000000)
        return tdl_fail(TDL_ETOOBIG, "sweep: %zu values x %zu repeats is too many runs", cfg->count, cfg->repeats);
    w->total = total;
    w->meas = tdl_calloc(total, sizeof *w->meas, "the measures of the runs");
    w->n_meas = tdl_calloc(total, sizeof *w->n_meas, "the measures of the runs");
    out->runs = tdl_calloc(total, sizeof *out->runs, "the runs of a sweep");
    if (!w->meas || !w->n_meas || !out->runs) {
        tdl_sweep_work_free(w);
        tdl_sweep_result_free(out);
        return tdl_fail(TDL_ENOMEM, "sweep: out of memory");
    }
    out->n_runs = total;
    out->count = cfg->count;
    out->repeats = cfg->repeats;
    out->has_test = test != NULL;
    out->classification = train->classes != 0;
    out->threshold = NAN;
    for (size_t i = 0; i < total; i++) {
        out->runs[i].value = cfg->values[i / cfg->repeats];
        out->runs[i].repeat = i % cfg->repeats;
    }
    return TDL_OK;
}

int tdl_sweep_run_one(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                      tdl_sweep_result *out, sweep_work *w, size_t i)
{
    return one_run(cfg, train, test, &out->runs[i], &w->meas[i], &w->n_meas[i]);
}

int tdl_sweep_report(const tdl_sweep_config *cfg, const tdl_sweep_result *out, size_t i)
{
    if (!cfg->callback) return TDL_OK;
    const tdl_sweep_run *run = &out->runs[i];
    tdl_sweep_progress p = {i, out->n_runs, run->value, run->repeat, run->train_loss, run->train_error,
                            run->test_error, run->seconds};
    if (cfg->callback(&p, cfg->user)) return tdl_fail(TDL_EINTR, "sweep: interrupted after %zu of %zu runs", i + 1, out->n_runs);
    return TDL_OK;
}

int tdl_sweep_finish(const tdl_sweep_config *cfg, tdl_sweep_result *out, sweep_work *w)
{
    const size_t total = w->total;
    tdl_measure **meas = w->meas;
    const size_t *n_meas = w->n_meas;
    double *a = NULL, *b = NULL;
    int st;
    /* The union of the measure names, then one value column per name. */
    size_t cap = 0;
    for (size_t i = 0; i < total; i++)
        for (size_t k = 0; k < n_meas[i]; k++) {
            size_t j;
            if ((st = measure_index(out, &cap, &meas[i][k], &j)) != TDL_OK) goto cleanup;
        }
    const size_t M = out->n_measures;
    for (size_t i = 0; i < total; i++) {
        tdl_sweep_run *run = &out->runs[i];
        run->measure_values = tdl_malloc((M ? M : 1) * sizeof(double), "measure values");
        run->measure_bounds = tdl_malloc((M ? M : 1) * sizeof(double), "measure bounds");
        if (!run->measure_values || !run->measure_bounds) { st = TDL_ENOMEM; goto cleanup; }
        for (size_t j = 0; j < M; j++) run->measure_values[j] = run->measure_bounds[j] = NAN;
        for (size_t k = 0; k < n_meas[i]; k++) {
            size_t j;
            if ((st = measure_index(out, &cap, &meas[i][k], &j)) != TDL_OK) goto cleanup;
            if (meas[i][k].available) {
                run->measure_values[j] = meas[i][k].value;
                run->measure_bounds[j] = meas[i][k].bound;
            }
        }
    }
    /* Kendall tau of each measure with the gap, over all runs and within repeats. */
    out->correlations = tdl_calloc(M ? M : 1, sizeof *out->correlations, "correlations");
    a = tdl_malloc(total * sizeof(double), "correlation scratch");
    b = tdl_malloc(total * sizeof(double), "correlation scratch");
    if (!out->correlations || !a || !b) { st = TDL_ENOMEM; goto cleanup; }
    for (size_t j = 0; j < M; j++) {
        tdl_sweep_correlation *c = &out->correlations[j];
        size_t n = 0;
        for (size_t i = 0; i < total; i++) {
            a[i] = out->runs[i].measure_values[j];
            b[i] = out->runs[i].gap;
            if (isfinite(a[i]) && isfinite(b[i])) n++;
        }
        c->n = n;
        c->tau = tdl_kendall_tau(a, b, total);
        double sum = 0;
        size_t used = 0;
        for (size_t r = 0; r < cfg->repeats; r++) {
            for (size_t v = 0; v < cfg->count; v++) {
                a[v] = out->runs[v * cfg->repeats + r].measure_values[j];
                b[v] = out->runs[v * cfg->repeats + r].gap;
            }
            double t = tdl_kendall_tau(a, b, cfg->count);
            if (isfinite(t)) { sum += t; used++; }
        }
        c->granulated_tau = used ? sum / (double)used : NAN;
    }
    /* the interpolation threshold: q = p + (q - p) coefficients per output equal n */
    if (cfg->kind == TDL_SWEEP_PARAMS && total > 0)
        out->threshold = (double)out->runs[0].n_train - ((double)out->runs[0].coefficients - (double)out->runs[0].width);
    out->seconds = tdl_seconds_now() - w->t0;
    st = TDL_OK;
cleanup:
    if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "sweep: out of memory");
    tdl_sweep_work_free(w);
    free(a);
    free(b);
    if (st != TDL_OK) tdl_sweep_result_free(out);
    return st;
}

int tdl_sweep_run_all(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                      tdl_sweep_result *out)
{
    sweep_work w;
    int st = tdl_sweep_begin(cfg, train, test, out, &w);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < w.total; i++)
        if ((st = tdl_sweep_run_one(cfg, train, test, out, &w, i)) != TDL_OK ||
            (st = tdl_sweep_report(cfg, out, i)) != TDL_OK) {
            if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "sweep: out of memory");
            tdl_sweep_work_free(&w);
            tdl_sweep_result_free(out);
            return st;
        }
    return tdl_sweep_finish(cfg, out, &w);
}
