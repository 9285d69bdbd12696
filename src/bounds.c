/* bounds.c — norms, margins, complexity measures and generalization bounds
 * (tdl/bounds.h).  Each measure cites its source; the constants follow
 * ../shared/reference/bounds.md, which took them from the papers and from the
 * public code that reproduces them.
 *
 * Shape legend: L layers; W_i (r_i x c_i) effective weights, biases folded
 * in as a constant input / constant hidden unit (see the header); X~ the
 * n x (d + 1) inputs with a constant 1 column when the net has biases.
 */
#include <float.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "internal.h"
#include "tdl/bounds.h"
#include "tdl/stats.h"
#include "tdl/ntk.h"

double tdl_norm_fro(const double *W, size_t rows, size_t cols)
{
    double s = 0;
    for (size_t i = 0; i < rows * cols; i++) s += W[i] * W[i];
    return sqrt(s);
}

int tdl_norm_spectral(const double *W, size_t rows, size_t cols, double *out)
{
    size_t k = rows < cols ? rows : cols, bytes;
    if (tdl_mul_size(rows, cols, &bytes) != 0 || tdl_mul_size(bytes, sizeof(double), &bytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "spectral norm: a %zu x %zu matrix is too large", rows, cols);
    double *A = tdl_malloc(bytes, "a copy for the SVD"), *s = tdl_malloc((k ? k : 1) * sizeof(double), "singular values");
    if (!A || !s) { free(A); free(s); return TDL_ENOMEM; }
    memcpy(A, W, bytes);
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)rows, (lapack_int)cols, A,
                                     (lapack_int)cols, s, NULL, (lapack_int)rows, NULL, (lapack_int)cols);
    int st = TDL_OK;
    if (info == -1010 || info == -1011) st = tdl_fail(TDL_ENOMEM, "spectral norm: LAPACK ran out of memory");
    else if (info < 0) st = tdl_fail(TDL_EINVAL, "spectral norm: dgesdd argument %d invalid", (int)-info);
    else if (info > 0) st = tdl_fail(TDL_ENOCONV, "spectral norm: dgesdd did not converge");
    else *out = k ? s[0] : 0;
    free(A);
    free(s);
    return st;
}

double tdl_norm_pq(const double *W, size_t rows, size_t cols, double p, double q)
{
    double acc = 0;
    for (size_t i = 0; i < rows; i++) {
        double r = 0;
        for (size_t j = 0; j < cols; j++) r += pow(fabs(W[i * cols + j]), p);
        r = pow(r, 1 / p);
        if (isinf(q)) acc = fmax(acc, r);
        else acc += pow(r, q);
    }
    return isinf(q) ? acc : pow(acc, 1 / q);
}

int tdl_path_norm(const tdl_mlp *m, double p, double *out)
{
    if (!(p >= 1)) return tdl_fail(TDL_EINVAL, "path norm: p = %g must be >= 1", p);
    size_t maxw = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) if (m->layers[l].out > maxw) maxw = m->layers[l].out;
    double *a = tdl_malloc(maxw * sizeof(double), "path norm"), *b = tdl_malloc(maxw * sizeof(double), "path norm");
    if (!a || !b) { free(a); free(b); return TDL_ENOMEM; }
    for (size_t j = 0; j < m->layers[0].in; j++) a[j] = 1;
    /* forward an all-ones input through |W|^p with identity activations */
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        for (size_t o = 0; o < L->out; o++) {
            double s = L->has_bias ? pow(fabs(L->b_scale * m->theta[L->b_off + o]), p) : 0;
            for (size_t j = 0; j < L->in; j++) s += pow(fabs(L->w_scale * m->theta[L->w_off + o * L->in + j]), p) * a[j];
            b[o] = s;
        }
        double *t = a; a = b; b = t;
    }
    double s = 0;
    for (size_t o = 0; o < m->layers[m->depth - 1].out; o++) s += a[o];
    *out = pow(s, 1 / p);
    free(a);
    free(b);
    return TDL_OK;
}

void tdl_bounds_config_default(tdl_bounds_config *cfg)
{
    cfg->delta = 0.05;
    cfg->margin_percentile = 10;
    cfg->flatness = 1;
    cfg->flat_steps = 15;
    cfg->flat_samples = 10;
    cfg->flat_target = 0.1;
    cfg->sharp_ascent_steps = 10;
    cfg->mc_samples = 100;
    cfg->seed = 0;
    cfg->ntk = 1;
}

/* The training margins of m on ds, sorted ascending (s->margins allocated). */
static int sorted_margins(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_eval_stats *s)
{
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w);
    if (st == TDL_OK) st = tdl_mlp_evaluate(m, loss, ds, w, s);
    if (st == TDL_OK) tdl_sort_doubles(s->margins, s->n);
    tdl_net_work_free(&w);
    return st;
}

/* Mean ramp loss L_g of n sorted margins at margin g > 0: 1 below 0,
 * 1 - t/g on (0, g), 0 above. */
static double ramp_mean(const double *margins, size_t n, double g)
{
    double r = 0;
    for (size_t i = 0; i < n; i++) {
        double t = margins[i];
        r += t <= 0 ? 1 : (t < g ? 1 - t / g : 0);
    }
    return r / (double)n;
}

/* The hard margin loss: the fraction of margins <= gamma (Neyshabur,
 * Bhojanapalli, Srebro 2018, Lemma 1's loss). */
static double hard_mean(const double *margins, size_t n, double gamma)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += margins[i] <= gamma;
    return (double)k / (double)n;
}

/* The sorted training margins, after checking that there are labels and
 * that pct is a percentile. */
static int margins_for(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double pct, tdl_eval_stats *s)
{
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "margins: the data set %s has no class labels", ds->spec ? ds->spec : "");
    if (!(pct >= 0 && pct <= 100)) return tdl_fail(TDL_EINVAL, "margin percentile %g is not in [0, 100]", pct);
    return sorted_margins(m, loss, ds, s);
}

/* gamma = the pct-th percentile of the sorted margins, and L_gamma (NaN unless gamma > 0). */
static void margin_summary(const tdl_eval_stats *s, double pct, double *gamma, double *ramp)
{
    double g = tdl_percentile_sorted(s->margins, s->n, pct);
    *gamma = g;
    if (ramp) *ramp = g > 0 ? ramp_mean(s->margins, s->n, g) : NAN;
}

int tdl_margin_stats(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double pct,
                     double *gamma, double *ramp, double *error)
{
    tdl_eval_stats s = {0};
    int st = margins_for(m, loss, ds, pct, &s);
    if (st == TDL_OK) {
        margin_summary(&s, pct, gamma, ramp);
        if (error) *error = s.error;
    }
    tdl_eval_stats_free(&s);
    return st;
}

int tdl_margin_distribution(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double quantiles[5],
                            double *mean)
{
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "margins: the data set %s has no class labels", ds->spec ? ds->spec : "");
    tdl_net_work *w = NULL;
    tdl_eval_stats s = {0};
    int st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w);
    if (st == TDL_OK) st = tdl_mlp_evaluate(m, loss, ds, w, &s);
    if (st == TDL_OK) {
        tdl_sort_doubles(s.margins, s.n);
        static const double ps[5] = {0, 25, 50, 75, 100};
        for (int k = 0; k < 5; k++) quantiles[k] = tdl_percentile_sorted(s.margins, s.n, ps[k]);
        double sum = 0; /* in ascending order */
        for (size_t i = 0; i < s.n; i++) sum += s.margins[i];
        if (mean) *mean = sum / (double)s.n;
    }
    tdl_eval_stats_free(&s);
    tdl_net_work_free(&w);
    return st;
}

/* ---- the net as bias-free effective matrices ---- */
typedef struct hnet {
    size_t L, r[TDL_MAX_DEPTH], c[TDL_MAX_DEPTH];
    double *W[TDL_MAX_DEPTH], *W0[TDL_MAX_DEPTH];
    int aug;
} hnet;

static void hnet_free(hnet *h)
{
    for (size_t l = 0; l < h->L; l++) { free(h->W[l]); free(h->W0[l]); }
}

static void fill_layer(const tdl_mlp *m, const double *theta, size_t l, int aug, double *W, size_t r, size_t c)
{
    const tdl_layer *Ly = &m->layers[l];
    memset(W, 0, r * c * sizeof(double));
    for (size_t o = 0; o < Ly->out; o++) {
        for (size_t j = 0; j < Ly->in; j++) W[o * c + j] = Ly->w_scale * theta[Ly->w_off + o * Ly->in + j];
        if (aug && Ly->has_bias) W[o * c + Ly->in] = Ly->b_scale * theta[Ly->b_off + o];
    }
    if (aug && r > Ly->out) W[Ly->out * c + c - 1] = 1; /* the constant unit: relu(1) = 1 */
}

static int hnet_build(const tdl_mlp *m, hnet *h)
{
    memset(h, 0, sizeof *h);
    for (size_t l = 0; l < m->depth; l++) if (m->layers[l].has_bias) h->aug = 1;
    h->L = m->depth;
    for (size_t l = 0; l < m->depth; l++) {
        h->c[l] = m->layers[l].in + (size_t)h->aug;
        h->r[l] = m->layers[l].out + (size_t)(h->aug && l + 1 < m->depth);
        h->W[l] = tdl_malloc(h->r[l] * h->c[l] * sizeof(double), "effective weights");
        h->W0[l] = m->theta0 ? tdl_malloc(h->r[l] * h->c[l] * sizeof(double), "effective initial weights") : NULL;
        if (!h->W[l] || (m->theta0 && !h->W0[l])) { hnet_free(h); return TDL_ENOMEM; }
        fill_layer(m, m->theta, l, h->aug, h->W[l], h->r[l], h->c[l]);
        if (m->theta0) fill_layer(m, m->theta0, l, h->aug, h->W0[l], h->r[l], h->c[l]);
    }
    return TDL_OK;
}

/* ---- the table ---- */
typedef struct table {
    tdl_measure *v;
    size_t n, cap;
} table;

static tdl_measure *add(table *t, const char *name, double value, double bound, double delta,
                        const char *source, const char *note)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        tdl_measure *v = realloc(t->v, cap * sizeof *v);
        if (!v) return NULL;
        t->v = v;
        t->cap = cap;
    }
    tdl_measure *e = &t->v[t->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->source, sizeof e->source, "%s", source);
    snprintf(e->note, sizeof e->note, "%s", note ? note : "");
    e->value = value;
    e->bound = bound;
    e->delta = isnan(bound) ? NAN : delta;
    e->available = !isnan(value);
    e->vacuous = !isnan(bound) && bound >= 1;
    e->kind = TDL_MEASURE_KIND_MEASURE;
    e->classifier = TDL_CLASSIFIER_NONE;
    e->fixed_scale_value = NAN;
    e->below_chance = -1;
    if (isnan(bound)) {
        if (e->available) snprintf(e->bound_reason, sizeof e->bound_reason, "a complexity measure, not a bound on the error");
        else snprintf(e->bound_reason, sizeof e->bound_reason, "left out: %s", note && note[0] ? note : "not computed");
    }
    return e;
}

/* ---- the ledger of a row ---- */
const tdl_name tdl_measure_kind_names[] = {{"measure", TDL_MEASURE_KIND_MEASURE}, {"bound", TDL_MEASURE_KIND_BOUND}, {NULL, 0}};
const tdl_name tdl_classifier_names[] = {
    {"none", TDL_CLASSIFIER_NONE}, {"deterministic", TDL_CLASSIFIER_DETERMINISTIC}, {"gibbs", TDL_CLASSIFIER_GIBBS}, {NULL, 0}};

double tdl_bounds_chance(size_t classes)
{
    return classes >= 2 ? 1 - 1 / (double)classes : NAN;
}

/* A bound of classifier c: kind, classifier, below_chance (its terms follow). */
static void as_bound(tdl_measure *e, tdl_classifier_kind c, double chance)
{
    e->kind = TDL_MEASURE_KIND_BOUND;
    e->classifier = c;
    e->below_chance = e->bound < chance;
}

void tdl_measure_add_term(tdl_measure *e, const char *name, double value)
{
    if (e->n_terms >= TDL_MEASURE_MAX_TERMS) return;
    snprintf(e->terms[e->n_terms].name, sizeof e->terms[0].name, "%s", name);
    e->terms[e->n_terms++].value = value;
}
#define term tdl_measure_add_term
#define hyp tdl_measure_add_hyp

void tdl_measure_add_hyp(tdl_measure *e, int holds, const char *text, const char *fmt, ...)
{
    if (e->n_hyps >= TDL_MEASURE_MAX_HYPS) return;
    tdl_measure_hyp *h = &e->hyps[e->n_hyps++];
    snprintf(h->text, sizeof h->text, "%s", text);
    h->holds = holds;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->why, sizeof h->why, fmt, ap);
    va_end(ap);
}

/* A bound's formula evaluated where the theorem does not apply as stated:
 * a measure, its formula's value kept as fixed_scale_value. */
static void as_measure(tdl_measure *e, double fixed, const char *reason)
{
    e->fixed_scale_value = fixed;
    snprintf(e->bound_reason, sizeof e->bound_reason, "%s", reason);
}

const tdl_name tdl_bounds_row_names[] = {
    {"params", 0}, {"frobenius_product", 1}, {"spectral_product", 2}, {"path_l1", 3}, {"path_l2", 4},
    {"dist_init_frobenius", 5}, {"margin", 6}, {"train_ramp_loss", 7}, {"normalized_margin_spectral", 8},
    {"normalized_margin_frobenius", 9}, {"linear_rademacher", 10}, {"vc", 11}, {"neyshabur2015_frobenius", 12},
    {"golowich2018_frobenius", 13}, {"golowich2018_l1inf", 14}, {"bartlett2017_spectral", 15},
    {"neyshabur2018_pacbayes_spectral", 16}, {"neyshabur2019_overparam", 17}, {"neyshabur2017_l2", 18},
    {"neyshabur2017_l1path", 19}, {"neyshabur2017_l2path", 20}, {"neyshabur2017_spectral", 21},
    {"fantastic_inverse_margin", 22}, {"fantastic_log_sum_spectral", 23}, {"fantastic_fro_over_spec", 24},
    {"fantastic_dist_init", 25}, {"fantastic_sum_fro", 26}, {"fantastic_path_norm", 27}, {"sharpness", 28},
    {"pacbayes_flatness", 29}, {"fantastic_pacbayes_init", 30}, {"pacbayes_mcallester", 31}, {"pacbayes_kl", 32},
    {"pacbayes_catoni", 33}, {"pacbayes_quad", 34}, {"pacbayes_lambda", 35}, {"arora2019_ntk", 36},
    {"dziugaite_roy", 37}, {NULL, 0}};

int tdl_dr_measure(const tdl_dr_result *r, const tdl_dr_config *cfg, double chance, tdl_measure **out)
{
    table t = {0};
    tdl_measure *e = add(&t, "dziugaite_roy", r->kl, r->bound, cfg->delta + cfg->delta_prime,
                         "Dziugaite and Roy 2017, eq. (8) and Sec. 5: kl^-1(kl^-1(e_n, ln(2/delta')/n), B/(m-1)), "
                         "B = KL + ln(pi^2 m/(6 delta)) + 2 ln j",
                         "value: KL(Q||P) at the chosen prior variance");
    if (!e) return tdl_fail(TDL_ENOMEM, "out of memory for the table");
    as_bound(e, TDL_CLASSIFIER_GIBBS, chance);
    term(e, "empirical", r->snn_train_bound);
    term(e, "kl_inverse_gap", r->bound - r->snn_train_bound);
    hyp(e, 1, "prior independent of the data", "P = N(w0, lambda I), w0 the initialization, lambda on a fixed grid");
    hyp(e, 1, "union bound over the prior-variance grid", "paid, 2 ln j + ln(pi^2/6) in B (j = %.0f)", r->j);
    hyp(e, 1, "Monte Carlo step (Langford and Caruana 2001)", "paid, delta' = %g (a fresh net per example, %zu passes)",
        cfg->delta_prime, r->samples);
    hyp(e, 1, "total confidence", "delta + delta' = %g (its own total, the --pb-delta and --pb-delta-prime)",
        cfg->delta + cfg->delta_prime);
    hyp(e, 1, "bounded loss", "the 0-1 loss of the Gibbs classifier Q");
    *out = t.v;
    return TDL_OK;
}

/* ---- the union bound over dyadic scales (docs/bounds.md Sec. 3) ---- */
/* The grid index of the exponent i: 0 -> 1, -1 -> 2, 1 -> 3, -2 -> 4, ... */
static double grid_j(int i)
{
    return i >= 0 ? 2.0 * i + 1 : -2.0 * i;
}

/* Smallest i with q <= 2^i (a norm rounded up), q > 0 finite. */
static int grid_up(double q)
{
    int i = (int)ceil(log2(q));
    while (ldexp(1, i) < q) i++;
    while (ldexp(1, i - 1) >= q) i--;
    return i;
}

/* Largest i with 2^i <= g (the margin rounded down), g > 0 finite. */
static int grid_down(double g)
{
    int i = (int)floor(log2(g));
    while (ldexp(1, i) > g) i--;
    while (ldexp(1, i + 1) <= g) i++;
    return i;
}

/* The cost of one grid quantity in ln(1/delta): 2 ln j + ln(pi^2/6). */
static double grid_cost(int i)
{
    return 2 * log(grid_j(i)) + log(M_PI * M_PI / 6);
}

/* The mean ramp loss of the training margins at margin g > 0 (the sum of tdl_margin_stats). */

/* Turns a row into the uniform margin bound of docs/bounds.md Sec. 3:
 * L_gamma' + (conv/gamma') rad_a + 3 sqrt((ln(2/delta) + U)/(2m)), where rad
 * (rad_a) is the row's C Rad1 at the actual (rounded) scales and U the grid's
 * cost. Terms: empirical, complexity (conv rad/gamma, the fixed-scale one),
 * rounding, confidence, union. */
static void as_uniform(tdl_measure *e, double fixed, double ramp_g, double conv, double rad, double rad_a,
                       double gamma, int ig, double U, double conc, double mm, double delta, double chance)
{
    const double gp = ldexp(1, ig);
    const double cx = conv * rad / gamma, rd = conv * rad_a / gp - cx;
    const double un = 3 * sqrt((log(2 / delta) + U) / (2 * mm)) - conc;
    e->bound = ramp_g + cx + rd + conc + un;
    e->delta = delta;
    e->vacuous = e->bound >= 1;
    e->fixed_scale_value = fixed;
    e->bound_reason[0] = 0;
    as_bound(e, TDL_CLASSIFIER_DETERMINISTIC, chance);
    term(e, "empirical", ramp_g);
    term(e, "complexity", cx);
    term(e, "rounding", rd);
    term(e, "confidence", conc);
    term(e, "union", un);
}

static const char *const unpaid_scales =
    "fixed-class complexity at data-chosen scales; the union bound over scales is not paid: a measure, not a bound";

static int left_out(table *t, const char *name, const char *source, const char *why)
{
    return add(t, name, NAN, NAN, NAN, source, why) ? TDL_OK : tdl_fail(TDL_ENOMEM, "out of memory for the table");
}

#define ADD(...) do { if (!add(&t, __VA_ARGS__)) { st = tdl_fail(TDL_ENOMEM, "out of memory for the table"); goto done; } } while (0)
/* ADD, keeping the row in E (valid until the next ADD / OUT) */
#define ADDE(E, ...) do { if (!((E) = add(&t, __VA_ARGS__))) { st = tdl_fail(TDL_ENOMEM, "out of memory for the table"); goto done; } } while (0)
#define OUT(...) do { if ((st = left_out(&t, __VA_ARGS__)) != TDL_OK) goto done; } while (0)

/* Mean training accuracy of theta + perturbations (Monte Carlo). */
static int accuracy_of(const tdl_mlp *tmp, tdl_loss_kind loss, const tdl_dataset *ds, tdl_net_work *wk, double *acc)
{
    tdl_eval_stats s = {0};
    int st = tdl_mlp_evaluate(tmp, loss, ds, wk, &s);
    if (st == TDL_OK) *acc = s.accuracy;
    tdl_eval_stats_free(&s);
    return st;
}

int tdl_flatness_sigma(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t steps,
                       size_t samples, double target, unsigned long seed, double *sigma)
{
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "PAC-Bayes flatness: needs class labels");
    if (samples == 0 || steps == 0) return tdl_fail(TDL_EINVAL, "PAC-Bayes flatness: steps and samples must be positive");
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(rng, seed);
    int st = tdl_mlp_clone(m, &tmp);
    if (st == TDL_OK) st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &wk);
    double a0 = 0;
    if (st == TDL_OK) st = accuracy_of(m, loss, ds, wk, &a0);
    double lo = 0, hi = 2;
    const size_t P = m->n_params;
    /* Jiang et al. 2020, Sec. 4 / App. C.3: bisection on sigma in [0, 2] so
     * that the perturbed accuracy is a0 - target */
    for (size_t it = 0; st == TDL_OK && it < steps; it++) {
        double mid = 0.5 * (lo + hi), acc = 0;
        for (size_t k = 0; k < samples && st == TDL_OK; k++) {
            for (size_t i = 0; i < P; i++) tmp->theta[i] = m->theta[i] + mid * gsl_ran_gaussian_ziggurat(rng, 1.0);
            double a = 0;
            st = accuracy_of(tmp, loss, ds, wk, &a);
            acc += a;
        }
        acc /= (double)samples;
        if (a0 - acc > target) hi = mid;
        else lo = mid;
    }
    if (st == TDL_OK) *sigma = lo;
    gsl_rng_free(rng);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}

/* A linearized one-step sharpness estimate (after the magnitude-aware
 * sharpness of Jiang et al. 2020, Sec. 4, which takes the worst case in the
 * box by gradient ascent; this is one linearized step, not that worst case):
 * largest alpha in [0, 2] (bisection) such that moving to the vertex of the
 * box |v_i| <= alpha (|theta_i| + 1e-3) that maximizes the linearized loss
 * (v = alpha (|theta| + eps) sign(grad)) costs at most `target` accuracy. */
int tdl_sharpness_alpha(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t steps,
                        size_t ascent_steps, double target, double *alpha)
{
    const size_t P = m->n_params;
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    double *g = tdl_malloc(P * sizeof(double), "a gradient"), *gk = tdl_malloc(P * sizeof(double), "a gradient"),
           *v = tdl_malloc(P * sizeof(double), "a perturbation");
    double lossv;
    int st = g && gk && v ? tdl_mlp_clone(m, &tmp) : TDL_ENOMEM;
    if (st == TDL_OK) st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &wk);
    if (st == TDL_OK) st = tdl_mlp_loss_grad(m, loss, ds, wk, &lossv, g);
    double a0 = 0, lo = 0, hi = 2;
    if (st == TDL_OK) st = accuracy_of(m, loss, ds, wk, &a0);
    for (size_t it = 0; st == TDL_OK && it < steps; it++) {
        double mid = 0.5 * (lo + hi), a, worst;
        /* the box |v_i| <= r_i = mid (|w_i| + 1e-3); start at the vertex of the
         * gradient's signs (one linearized step) */
        for (size_t i = 0; i < P; i++) {
            double r = mid * (fabs(m->theta[i]) + 1e-3);
            v[i] = g[i] > 0 ? r : (g[i] < 0 ? -r : 0);
            tmp->theta[i] = m->theta[i] + v[i];
        }
        if ((st = accuracy_of(tmp, loss, ds, wk, &worst)) != TDL_OK) break;
        /* projected gradient ascent on the training loss inside the box (sign
         * steps of half the box, then projection onto it); the lowest accuracy
         * over the iterates, the linearized vertex included, so alpha' is never
         * above the one-step estimate's (a search from inside: the true worst
         * case may still be worse) */
        for (size_t k = 0; k < ascent_steps && st == TDL_OK; k++) {
            double lk, ak;
            if ((st = tdl_mlp_loss_grad(tmp, loss, ds, wk, &lk, gk)) != TDL_OK) break;
            for (size_t i = 0; i < P; i++) {
                double r = mid * (fabs(m->theta[i]) + 1e-3);
                double vi = v[i] + 0.5 * r * (gk[i] > 0 ? 1 : (gk[i] < 0 ? -1 : 0));
                v[i] = vi > r ? r : (vi < -r ? -r : vi);
                tmp->theta[i] = m->theta[i] + v[i];
            }
            if ((st = accuracy_of(tmp, loss, ds, wk, &ak)) != TDL_OK) break;
            if (ak < worst) worst = ak;
        }
        if (st != TDL_OK) break;
        a = worst;
        if (a0 - a > target) hi = mid;
        else lo = mid;
    }
    if (st == TDL_OK) *alpha = lo;
    free(g);
    free(gk);
    free(v);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}


static int act_lip_hom(const tdl_act *a)
{
    switch (a->kind) {
    case TDL_ACT_RELU: case TDL_ACT_IDENTITY: return 1;
    case TDL_ACT_LEAKY_RELU: return fabs(a->a) <= 1;
    case TDL_ACT_ABRELU: return fabs(a->a) <= 1 && a->b == 1;
    default: return 0;
    }
}

static int act_piecewise_linear(const tdl_act *a)
{
    return a->kind == TDL_ACT_RELU || a->kind == TDL_ACT_IDENTITY || a->kind == TDL_ACT_LEAKY_RELU ||
           a->kind == TDL_ACT_ABRELU;
}

int tdl_bounds_compute(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                       const tdl_bounds_config *cfg, tdl_measure **out, size_t *count, double *train_error)
{
    *out = NULL;
    *count = 0;
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "bounds: the data set %s has no class labels (the bounds are for classification error)",
                                      ds->spec ? ds->spec : "");
    if (ds->n < 2) return tdl_fail(TDL_EINVAL, "bounds: at least 2 training examples are needed");
    if (ds->d != m->layers[0].in) return tdl_fail(TDL_ESHAPE, "bounds: the data have %zu features, the model expects %zu", ds->d, m->layers[0].in);
    if (!(cfg->delta > 0 && cfg->delta < 1)) return tdl_fail(TDL_EINVAL, "bounds: delta = %g is not in (0, 1)", cfg->delta);
    table t = {0};
    hnet h;
    int st = hnet_build(m, &h);
    if (st != TDL_OK) return st;
    const size_t L = h.L, n = ds->n, Cout = m->layers[L - 1].out;
    const double mm = (double)n, delta = cfg->delta;
    const double conc = 3 * sqrt(log(2 / delta) / (2 * mm)); /* Mohri et al. Thm 3.3 */
    double gamma, ramp, err;
    double fro[TDL_MAX_DEPTH], spec[TDL_MAX_DEPTH], l1inf[TDL_MAX_DEPTH], dfro[TDL_MAX_DEPTH], d21[TDL_MAX_DEPTH];
    /* the training margins, once for every row that reads them */
    tdl_eval_stats marg = {0};
    if ((st = margins_for(m, loss, ds, cfg->margin_percentile, &marg)) != TDL_OK) goto done;
    margin_summary(&marg, cfg->margin_percentile, &gamma, &ramp);
    err = marg.error;
    *train_error = err;
    /* data norms over the (augmented) inputs */
    double XF2 = 0, maxx2 = 0, maxcol2 = h.aug ? mm : 0;
    double *col2 = tdl_calloc(ds->d, sizeof(double), "column norms");
    if (!col2) { st = TDL_ENOMEM; goto done; }
    for (size_t i = 0; i < n; i++) {
        const double *x = ds->X->data + i * ds->X->tda;
        double r = h.aug ? 1 : 0;
        for (size_t j = 0; j < ds->d; j++) { r += x[j] * x[j]; col2[j] += x[j] * x[j]; }
        XF2 += r;
        maxx2 = fmax(maxx2, r);
    }
    for (size_t j = 0; j < ds->d; j++) maxcol2 = fmax(maxcol2, col2[j]);
    free(col2);
    const double XF = sqrt(XF2), maxx = sqrt(maxx2);
    double prodF = 1, prodS = 1, prodL1 = 1, sumF2 = 0, sumlogS2 = 0, sumF2S2 = 0, sumD2 = 0, Wbar = 0;
    for (size_t l = 0; l < L; l++) {
        size_t r = h.r[l], c = h.c[l];
        fro[l] = tdl_norm_fro(h.W[l], r, c);
        if ((st = tdl_norm_spectral(h.W[l], r, c, &spec[l])) != TDL_OK) goto done;
        l1inf[l] = tdl_norm_pq(h.W[l], r, c, 1, INFINITY);
        prodF *= fro[l];
        prodS *= spec[l];
        prodL1 *= l1inf[l];
        sumF2 += fro[l] * fro[l];
        sumlogS2 += log(spec[l] * spec[l]);
        sumF2S2 += fro[l] * fro[l] / (spec[l] * spec[l]);
        Wbar = fmax(Wbar, (double)(r * c));
        if (h.W0[l]) {
            double *D = tdl_malloc(r * c * sizeof(double), "a weight difference");
            if (!D) { st = TDL_ENOMEM; goto done; }
            for (size_t i = 0; i < r * c; i++) D[i] = h.W[l][i] - h.W0[l][i];
            dfro[l] = tdl_norm_fro(D, r, c);
            d21[l] = tdl_norm_pq(D, r, c, 2, 1);
            sumD2 += dfro[l] * dfro[l];
            free(D);
        }
    }
    const int have0 = m->theta0 != NULL, lip = act_lip_hom(&m->act) || L == 1, pl = act_piecewise_linear(&m->act) || L == 1;
    const int foldable = !h.aug || lip;
    const int gpos = gamma > 0;
    const double chance = tdl_bounds_chance(ds->classes);
    const char *no_init = "the model has no initial parameters (init.* tensors)";
    const char *no_lip = "needs a 1-Lipschitz positive-homogeneous activation (relu, identity, leaky-relu:|a|<=1) or depth 1";
    char no_gamma[120];
    snprintf(no_gamma, sizeof no_gamma, "the %g-th percentile training margin %.3g is <= 0", cfg->margin_percentile, gamma);
    const char *fold_note = h.aug ? "biases folded in as a constant input unit" : "";

    ADD("params", (double)m->n_params, NAN, NAN, "count of the parameters (weights and biases)", NULL);
    if (foldable) {
        ADD("frobenius_product", prodF, NAN, NAN, "prod_i ||W_i||_F", fold_note);
        ADD("spectral_product", prodS, NAN, NAN, "prod_i ||W_i||_2 (LAPACK dgesdd)", fold_note);
    } else {
        OUT("frobenius_product", "prod_i ||W_i||_F", "biases cannot be folded in for this activation (phi(1) != 1 or not homogeneous)");
        OUT("spectral_product", "prod_i ||W_i||_2", "biases cannot be folded in for this activation");
    }
    double pn1, pn2;
    if ((st = tdl_path_norm(m, 1, &pn1)) != TDL_OK || (st = tdl_path_norm(m, 2, &pn2)) != TDL_OK) goto done;
    ADD("path_l1", pn1, NAN, NAN, "l1 path norm, Neyshabur, Tomioka, Srebro 2015 (biases as paths)", NULL);
    ADD("path_l2", pn2, NAN, NAN, "l2 path norm, Neyshabur, Tomioka, Srebro 2015 (biases as paths)", NULL);
    if (have0) ADD("dist_init_frobenius", sqrt(sumD2), NAN, NAN, "sqrt(sum_i ||W_i - W_i^0||_F^2) (effective weights and biases)", NULL);
    else OUT("dist_init_frobenius", "sqrt(sum_i ||W_i - W_i^0||_F^2)", no_init);
    {
        char src[320];
        snprintf(src, sizeof src, "%g-th percentile of the training margins f_y - max_{j!=y} f_j (NumPy linear)", cfg->margin_percentile);
        ADD("margin", gamma, NAN, NAN, src, NULL);
    }
    ADD("train_ramp_loss", gpos ? ramp : NAN, NAN, NAN, "L_gamma: mean ramp loss at the margin gamma", gpos ? NULL : no_gamma);
    /* normalized margins: gamma over the scale of the function class */
    if (foldable) {
        ADD("normalized_margin_spectral", gamma / prodS, NAN, NAN, "gamma / prod_i ||W_i||_2 (Bartlett et al. 2017, Sec. 2)", fold_note);
        ADD("normalized_margin_frobenius", gamma / prodF, NAN, NAN, "gamma / prod_i ||W_i||_F", fold_note);
    }

    /* linear class */
    tdl_measure *e;
    char relu_why[64];
    tdl_act_format(&m->act, relu_why, sizeof relu_why);
    {
        const char *src = "Kakade, Sridharan, Tewari 2008; Mohri et al. 2018 Thm 5.8/5.9: L_gamma + 2 B ||X||_F/(gamma m) + 3 sqrt(ln(2/delta)/(2m))";
        if (L != 1) OUT("linear_rademacher", src, "the model is not linear (depth > 1)");
        else if (!(Cout == 1 || Cout == 2) || ds->classes != 2) OUT("linear_rademacher", src, "binary labels and 1 or 2 outputs are needed");
        else if (!gpos) OUT("linear_rademacher", src, no_gamma);
        else {
            /* two outputs: f_1 - f_0 is the linear score; its weight vector */
            double B;
            if (Cout == 1) B = fro[0];
            else {
                double s = 0;
                for (size_t j = 0; j < h.c[0]; j++) { double v = h.W[0][h.c[0] + j] - h.W[0][j]; s += v * v; }
                B = sqrt(s);
            }
            double rad = B * XF / mm;
            const double fixed = ramp + 2 * rad / gamma + conc;
            const int ok = B > 0 && isfinite(B);
            const int ib = ok ? grid_up(B) : 0, ig = grid_down(gamma);
            const double U = grid_cost(ib) + grid_cost(ig);
            const double ramp_g = ramp_mean(marg.margins, marg.n, ldexp(1, ig));
            ADDE(e, "linear_rademacher", rad / gamma, NAN, delta,
                 "Kakade, Sridharan, Tewari 2008; Mohri et al. 2018 Thm 5.8/5.9, uniform over dyadic B and gamma (docs/bounds.md Sec. 3): "
                 "L_gamma' + 2 2^i ||X||_F/(gamma' m) + 3 sqrt((ln(2/delta) + U)/(2m))",
                 "value: B ||X||_F / (gamma m) at the trained B; the bound pays the union over the grid of B and gamma");
            if (ok) as_uniform(e, fixed, ramp_g, 2, rad, ldexp(1, ib) * XF / mm, gamma, ig, U, conc, mm, delta, chance);
            else as_measure(e, fixed, "B = 0: no grid point");
            hyp(e, 1, "linear class {x -> <w, x>}", "depth 1");
            hyp(e, ok, "union bound over the data-chosen scales (B, gamma)", "paid, U = %.6g = 2 x (ln(pi^2/6)) + 2 ln j_B + 2 ln j_gamma", U);
            hyp(e, ok, "grid point: the norm", "B = %.6g -> 2^%d = %.6g, j = %.0f", B, ib, ldexp(1, ib), grid_j(ib));
            hyp(e, 1, "grid point: the margin", "gamma = %.6g (%g-th percentile) -> gamma' = 2^%d = %.6g, j = %.0f; L_gamma' = %.6g <= L_gamma = %.6g",
                gamma, cfg->margin_percentile, ig, ldexp(1, ig), grid_j(ig), ramp_g, ramp);
        }
    }
    /* VC */
    {
        const char *src = "Bartlett, Harvey, Liaw, Mehrabian 2019 Thm 7 (VCdim); gap sqrt((8 C VC ln(e max(m/VC,1)) + 8 ln(2/delta))/m) as in bneyshabur/over-parametrization";
        if (!pl) OUT("vc", src, "needs a piecewise-linear activation");
        else {
            /* VCdim <= L + (sum_i W_i) log2(4 e p R log2(2 e p R)), W_i params up to layer i,
             * R = sum_i i k_i (k_i units of layer i), p = 2 pieces */
            double Wsum = 0, Wi = 0, R = 0, p = 2;
            for (size_t l = 0; l < L; l++) {
                const tdl_layer *Ly = &m->layers[l];
                Wi += (double)(Ly->in * Ly->out + (Ly->has_bias ? Ly->out : 0));
                Wsum += Wi;
                R += (double)(l + 1) * (double)Ly->out;
            }
            double VC = (double)L + Wsum * log2(4 * M_E * p * R * log2(2 * M_E * p * R));
            double Cf = (double)Cout;
            double M = 8 * Cf * VC * log(M_E * fmax(mm / VC, 1)) + 8 * log(2 / delta);
            const int binary = ds->classes == 2 && Cout <= 2;
            double cx = sqrt(M / mm);
            if (binary) {
                ADDE(e, "vc", VC, err + cx, delta, src, "value: the VC-dimension bound");
                as_bound(e, TDL_CLASSIFIER_DETERMINISTIC, chance);
                term(e, "empirical", err);
                term(e, "complexity", cx);
            } else {
                ADDE(e, "vc", VC, NAN, delta, src, "value: the VC-dimension bound");
                as_measure(e, err + cx, "the factor C in M is a reference script's heuristic for C outputs "
                                        "(Bartlett et al. 2019 is for one sign output): a measure, not a bound");
            }
            hyp(e, 1, "piecewise-linear activation (p = 2 pieces)", "%s", L == 1 ? "depth 1" : relu_why);
            if (Cout == 1) hyp(e, binary, "one sign output (binary labels)", "one output, %zu classes", ds->classes);
            else if (binary) hyp(e, 1, "one sign output (binary labels)", "two outputs read as sign(f_1 - f_0), a subclass of one-output nets; C = 2 in M only over-counts");
            else hyp(e, 0, "one sign output (binary labels)", "%zu outputs, %zu classes", Cout, ds->classes);
            hyp(e, 1, "nothing chosen from the data", "VCdim depends on the architecture only");
        }
    }
    /* norm-based Rademacher complexities (fixed class: measures this session) */
    {
        const double Cf = (double)Cout;
        /* multi-class margin conversion: 2/gamma for C = 1 and C = 2 (f_1 - f_0, the C = 2 of the
         * Rademacher bound), 4C/gamma for C >= 3 (Mohri et al. 2018 Thm 9.2, 4k/rho); rad includes C */
        const double conv = Cout >= 3 ? 4 : 2;
        char ms[200], conv_why[160];
        snprintf(ms, sizeof ms, "; fixed-scale margin form L_gamma + %s Rad/gamma + 3 sqrt(ln(2/delta)/(2m))",
                 Cout >= 3 ? "4" : "2");
        snprintf(conv_why, sizeof conv_why, Cout >= 3 ? "C = %zu >= 3: 4C/gamma (Mohri et al. 2018 Thm 9.2, 4k/rho)"
                                                      : "C = %zu: 2C/gamma (C = 2 through f_1 - f_0)", Cout);
        const char *s1 = "Neyshabur, Tomioka, Srebro 2015 Cor. 2: Rad <= 2^(L-1) C ||X||_F prod ||W_i||_F / (sqrt2 m)";
        const char *s2 = "Golowich, Rakhlin, Shamir 2018 Thm 1: Rad <= C (1 + sqrt(2 L ln 2)) ||X||_F prod ||W_i||_F / m";
        const char *s3 = "Golowich, Rakhlin, Shamir 2018 Thm 2: Rad <= 2 C prod ||W_i||_{1,inf} sqrt(L + 1 + ln d) max_j ||X_:j|| / m";
        const char *s4 = "Bartlett, Foster, Telgarsky 2017 Lemma A.8 constants (rkwitt/excess_capacity; Thm 1.1 adds the union terms), reference W_i^0";
        char src[320];
        if (!lip) { OUT("neyshabur2015_frobenius", s1, no_lip); OUT("golowich2018_frobenius", s2, no_lip);
                    OUT("golowich2018_l1inf", s3, no_lip); OUT("bartlett2017_spectral", s4, no_lip); }
        else if (!gpos) { OUT("neyshabur2015_frobenius", s1, no_gamma); OUT("golowich2018_frobenius", s2, no_gamma);
                          OUT("golowich2018_l1inf", s3, no_gamma); OUT("bartlett2017_spectral", s4, no_gamma); }
        else {
            const char *nm[3] = {"neyshabur2015_frobenius", "golowich2018_frobenius", "golowich2018_l1inf"};
            const char *sr[3] = {s1, s2, s3};
            double rr[3];
            rr[0] = pow(2.0, (double)L - 1) * Cf * XF * prodF / (M_SQRT2 * mm);
            rr[1] = Cf * (1 + sqrt(2 * (double)L * M_LN2)) * XF * prodF / mm;
            rr[2] = 2 * Cf * prodL1 * sqrt((double)L + 1 + log((double)h.c[0])) * sqrt(maxcol2) / mm;
            /* the uniform versions (docs/bounds.md Sec. 3): the norms enter only through their
             * product P, so they are balanced (W_i -> c_i W_i, prod c_i = 1: the same function,
             * each norm P^(1/L)) before each is rounded up to 2^i; gamma is rounded down to 2^ig.
             * The value is then invariant under every function-preserving rescaling of the layers. */
            const double prod[3] = {prodF, prodF, prodL1};
            const int ig = grid_down(gamma);
            const double ramp_g = ramp_mean(marg.margins, marg.n, ldexp(1, ig));
            for (int k = 0; k < 3; k++) {
                const double fixed = ramp + conv * rr[k] / gamma + conc;
                const int ok = prod[k] > 0 && isfinite(prod[k]);
                const double bal = ok ? pow(prod[k], 1 / (double)L) : NAN;
                const int in = ok ? grid_up(bal) : 0;
                const double U = (double)L * grid_cost(in) + grid_cost(ig);
                const double rad_a = ok ? rr[k] / prod[k] * ldexp(1, in * (int)L) : NAN;
                const char *nrm = k == 2 ? "||W_i||_{1,inf}" : "||W_i||_F";
                if (k == 0) {
                    char n0[200];
                    snprintf(n0, sizeof n0, "value: the Rademacher complexity bound; its uniform form (Sec. 3) would be %.6g, "
                             "but the fixed-class constant is unverified", ok ? ramp_g + conv * rad_a / ldexp(1, ig) + 3 * sqrt((log(2 / delta) + U) / (2 * mm)) : NAN);
                    snprintf(src, sizeof src, "%s%s", sr[k], ms);
                    ADDE(e, nm[k], rr[k], NAN, delta, src, n0);
                    as_measure(e, fixed, "the fixed-class constant 2^(L-1)/sqrt2 of Cor. 2 is unverified (three scripts read it "
                                         "differently, docs/bounds.md Sec. 4.1): a measure, not a bound");
                    hyp(e, 1, "activation 1-Lipschitz positively homogeneous", "%s", L == 1 ? "depth 1" : relu_why);
                    hyp(e, 1, "multi-class margin conversion", "%s", conv_why);
                    hyp(e, 0, "the theorem's constant checked", "no: the reference scripts disagree on Cor. 2");
                    continue;
                }
                snprintf(src, sizeof src, "%s; uniform over dyadic scales of the norms and gamma (docs/bounds.md Sec. 3): "
                         "L_gamma' + %s Rad(2^i)/gamma' + 3 sqrt((ln(2/delta) + U)/(2m))", sr[k], Cout >= 3 ? "4" : "2");
                ADDE(e, nm[k], rr[k], NAN, delta, src, "value: the Rademacher complexity bound at the trained norms");
                if (ok) as_uniform(e, fixed, ramp_g, conv, rr[k], rad_a, gamma, ig, U, conc, mm, delta, chance);
                else as_measure(e, fixed, "a zero or infinite norm product: no grid point");
                hyp(e, 1, "activation 1-Lipschitz positively homogeneous", "%s", L == 1 ? "depth 1" : relu_why);
                hyp(e, 1, "multi-class margin conversion", "%s", conv_why);
                hyp(e, ok, "union bound over the data-chosen scales (norms, gamma)",
                    "paid, U = %.6g: %zu x (2 ln j + ln(pi^2/6)) for the norms, 2 ln j + ln(pi^2/6) for gamma", U, L);
                hyp(e, ok, "grid point: the norms", "%s balanced to P^(1/L) = %.6g (P = %.6g) -> 2^%d = %.6g each, j = %.0f",
                    nrm, bal, prod[k], in, ldexp(1, in), grid_j(in));
                hyp(e, 1, "grid point: the margin", "gamma = %.6g -> gamma' = 2^%d = %.6g, j = %.0f; L_gamma' = %.6g <= L_gamma = %.6g",
                    gamma, ig, ldexp(1, ig), grid_j(ig), ramp_g, ramp);
            }
            if (!have0) OUT("bartlett2017_spectral", s4, no_init);
            else {
                double sum = 0;
                for (size_t l = 0; l < L; l++) sum += pow(d21[l] / spec[l], 2.0 / 3.0);
                double RA = prodS * pow(sum, 1.5);
                double rad = 4 / mm + 36 * log(mm) * sqrt(log(2 * Wbar)) * XF * RA / (gamma * mm);
                ADDE(e, "bartlett2017_spectral", rad, NAN, delta, s4,
                     "value: Rad of the margin class (includes 1/gamma); fixed-scale form L_gamma + 2 Rad + 3 sqrt(ln(2/delta)/(2m))");
                as_measure(e, ramp + 2 * rad + conc, unpaid_scales);
                hyp(e, 1, "activation 1-Lipschitz positively homogeneous", "%s", L == 1 ? "depth 1" : relu_why);
                hyp(e, 1, "reference matrices fixed before the data", "W_i^0: the initialization");
                hyp(e, 0, "union bound over the data-chosen scales (norms, gamma)", "not paid (Thm 1.1's extra terms): the trained net's norms and gamma = %.4g", gamma);
            }
        }
    }
    /* two-layer measures */
    {
        const char *s5 = "Neyshabur, Bhojanapalli, Srebro 2018 Thm 1 (an O~ statement), two-layer form of bneyshabur/over-parametrization "
                         "without its extra ||U||_2: R^2 + 6 ln(2m/delta), hard margin loss + sqrt(M/m)";
        const char *s6 = "Neyshabur, Li, Bhojanapalli, LeCun, Srebro 2019 Thm 2 (constants of bneyshabur/over-parametrization) at a fixed scale, gap sqrt(M/m)";
        int two = L == 2 && m->act.kind == TDL_ACT_RELU;
        const char *why2 = L != 2 ? "needs exactly two layers" : "needs a relu net";
        if (!two) { OUT("neyshabur2018_pacbayes_spectral", s5, why2); OUT("neyshabur2019_overparam", s6, why2); }
        else if (!have0) { OUT("neyshabur2018_pacbayes_spectral", s5, no_init); OUT("neyshabur2019_overparam", s6, no_init); }
        else if (!gpos) { OUT("neyshabur2018_pacbayes_spectral", s5, no_gamma); OUT("neyshabur2019_overparam", s6, no_gamma); }
        else {
            double H = (double)h.r[0], Cf = (double)Cout, hard = hard_mean(marg.margins, marg.n, gamma);
            /* invariant under U -> aU, V -> V/a (the reference code's extra ||U||_2 factor dropped) */
            double R = 42 * 8 * sqrt(log(8 * H)) * maxx *
                       sqrt(H * pow(spec[1] * dfro[0], 2) + Cf * pow(spec[0] * dfro[1], 2)) / (M_SQRT2 * gamma);
            double M = R * R + 6 * log(2 * mm / delta);
            char n5[200];
            snprintf(n5, sizeof n5, "value: M; hard margin loss 1[f_y - max_j f_j <= gamma] = %.6g", hard);
            ADDE(e, "neyshabur2018_pacbayes_spectral", M, NAN, delta, s5, n5);
            as_measure(e, hard + sqrt(M / mm), "an O~ statement evaluated with a reference script's constants (42 * 8), at the trained "
                                               "net's norms and a data-chosen gamma: a measure, not a bound");
            hyp(e, 1, "depth 2", "two layers");
            hyp(e, 1, "activation relu", "%s", relu_why);
            hyp(e, 1, "hard margin loss 1[f_y - max_j f_j <= gamma]", "used (the margin lemma's loss)");
            hyp(e, 0, "explicit constants of the theorem", "no: O~ statement; 42 * 8 is a reference script's");
            hyp(e, 0, "union bound over the data-chosen scales (norms, gamma)", "not paid");
            /* ||relu(U0 X~)||_F over the data (hidden layer at init) */
            double hn2 = 0;
            for (size_t i = 0; i < n; i++) {
                const double *x = ds->X->data + i * ds->X->tda;
                for (size_t u = 0; u < h.r[0]; u++) {
                    const double *row = h.W0[0] + u * h.c[0];
                    double z = h.aug ? row[h.c[0] - 1] : 0;
                    for (size_t j = 0; j < ds->d; j++) z += row[j] * x[j];
                    if (z > 0) hn2 += z * z;
                }
            }
            /* at a fixed scale: the reference code's +1 terms (its union bound over the scales of
             * ||V||_F and the hidden layer) are dropped, so the value is invariant under U -> aU, V -> V/a */
            double R2 = 3 * M_SQRT2 * (sqrt(2 * Cf) + 1) * fro[1] *
                        (sqrt(hn2 / mm) + dfro[0] * XF / sqrt(mm)) / gamma;
            double a = R2 + 3 * sqrt(5 * H + log(fmax(1, gamma * sqrt(mm)) / delta));
            ADDE(e, "neyshabur2019_overparam", a * a, NAN, delta, s6, "value: M (the +1 union terms of the reference code dropped at a fixed scale)");
            as_measure(e, ramp + sqrt(a * a / mm), unpaid_scales);
            hyp(e, 1, "depth 2", "two layers");
            hyp(e, 1, "activation relu", "%s", relu_why);
            hyp(e, 1, "reference layer fixed before the data", "U0: the initialization");
            hyp(e, 0, "union bound over the data-chosen scales (norms, gamma)", "not paid");
        }
    }
    /* Exploring generalization (Neyshabur et al. 2017), h_i = outputs of layer i */
    if (!gpos) {
        OUT("neyshabur2017_l2", "Neyshabur et al. 2017 Sec. 2: prod 4 ||W_i||_F^2 / gamma^2", no_gamma);
        OUT("neyshabur2017_l1path", "Neyshabur et al. 2017 Sec. 2: (sum_paths prod 2|W_i|)^2 / gamma^2", no_gamma);
        OUT("neyshabur2017_l2path", "Neyshabur et al. 2017 Sec. 2: sum_paths prod 4 h_i W_i^2 / gamma^2", no_gamma);
        OUT("neyshabur2017_spectral", "Neyshabur et al. 2017 Sec. 2: prod h_i ||W_i||_2^2 / gamma^2", no_gamma);
    } else {
        double l2 = 1, sp = 1, g2 = gamma * gamma;
        for (size_t l = 0; l < L; l++) { l2 *= 4 * fro[l] * fro[l]; sp *= (double)h.r[l] * spec[l] * spec[l]; }
        /* l2-path: forward ones through 4 h_i W_i^2 (effective, folded) */
        size_t mw = h.c[0];
        for (size_t l = 0; l < L; l++) if (h.r[l] > mw) mw = h.r[l];
        double *a = tdl_malloc(mw * sizeof(double), "path"), *b = tdl_malloc(mw * sizeof(double), "path");
        if (!a || !b) { free(a); free(b); st = TDL_ENOMEM; goto done; }
        for (size_t j = 0; j < h.c[0]; j++) a[j] = 1;
        for (size_t l = 0; l < L; l++) {
            for (size_t o = 0; o < h.r[l]; o++) {
                double s = 0;
                for (size_t j = 0; j < h.c[l]; j++) s += 4 * (double)h.r[l] * h.W[l][o * h.c[l] + j] * h.W[l][o * h.c[l] + j] * a[j];
                b[o] = s;
            }
            double *tt = a; a = b; b = tt;
        }
        double l2p = 0;
        for (size_t o = 0; o < h.r[L - 1]; o++) l2p += a[o];
        free(a);
        free(b);
        ADD("neyshabur2017_l2", l2 / g2, NAN, NAN, "Neyshabur et al. 2017 Sec. 2: prod 4 ||W_i||_F^2 / gamma^2", fold_note);
        ADD("neyshabur2017_l1path", pow(pow(2.0, (double)L) * pn1, 2) / g2, NAN, NAN,
            "Neyshabur et al. 2017 Sec. 2: (sum_paths prod 2|W_i|)^2 / gamma^2", NULL);
        ADD("neyshabur2017_l2path", l2p / g2, NAN, NAN, "Neyshabur et al. 2017 Sec. 2: sum_paths prod 4 h_i W_i^2 / gamma^2 (h_i outputs of layer i)", fold_note);
        ADD("neyshabur2017_spectral", sp / g2, NAN, NAN, "Neyshabur et al. 2017 Sec. 2: prod h_i ||W_i||_2^2 / gamma^2", fold_note);
    }
    /* Fantastic generalization measures (Jiang et al. 2020) */
    if (gpos) ADD("fantastic_inverse_margin", 1 / (gamma * gamma), NAN, NAN, "Jiang et al. 2020 eq. (22): 1/gamma^2", NULL);
    else OUT("fantastic_inverse_margin", "Jiang et al. 2020 eq. (22)", no_gamma);
    ADD("fantastic_log_sum_spectral", sumlogS2, NAN, NAN, "Jiang et al. 2020 eq. (32): sum_i ln ||W_i||_2^2", fold_note);
    ADD("fantastic_fro_over_spec", sumF2S2, NAN, NAN, "Jiang et al. 2020 eq. (33): sum_i ||W_i||_F^2 / ||W_i||_2^2", fold_note);
    if (have0) ADD("fantastic_dist_init", sumD2, NAN, NAN, "Jiang et al. 2020 eq. (40): sum_i ||W_i - W_i^0||_F^2", NULL);
    else OUT("fantastic_dist_init", "Jiang et al. 2020 eq. (40)", no_init);
    ADD("fantastic_sum_fro", sumF2, NAN, NAN, "Jiang et al. 2020 eq. (42): sum_i ||W_i||_F^2", fold_note);
    ADD("fantastic_path_norm", pn2 * pn2, NAN, NAN, "Jiang et al. 2020 eq. (44): 1^T f_{w^2}(1) (squared l2 path norm)", NULL);

    /* flatness and the PAC-Bayes bounds of an isotropic Gaussian posterior */
    if (cfg->flatness) {
        double sig, alpha;
        if ((st = tdl_flatness_sigma(m, loss, ds, cfg->flat_steps, cfg->flat_samples, cfg->flat_target, cfg->seed, &sig)) != TDL_OK) goto done;
        if ((st = tdl_sharpness_alpha(m, loss, ds, cfg->flat_steps, cfg->sharp_ascent_steps, cfg->flat_target, &alpha)) != TDL_OK)
            goto done;
        char note[200];
        snprintf(note, sizeof note, "alpha' = %.6g (bisection on [0,2], %zu steps, %zu ascent steps each, accuracy drop %g)", alpha,
                 cfg->flat_steps, cfg->sharp_ascent_steps, cfg->flat_target);
        const char *ssrc = "magnitude-aware sharpness 1/alpha'^2 (Jiang et al. 2020 Sec. 4 and App. C): alpha' the largest scale of the box "
                           "|v_i| <= alpha (|w_i| + 1e-3) whose worst case, found by projected gradient ascent on the training loss from "
                           "the sign-gradient vertex, costs the accuracy drop (a search from inside: the true worst case may be worse)";
        if (alpha > 0) ADD("sharpness", 1 / (alpha * alpha), NAN, NAN, ssrc, note);
        else OUT("sharpness", ssrc, "alpha' = 0: the smallest perturbation already costs the accuracy drop");
        snprintf(note, sizeof note, "sigma' = %.6g (bisection on [0,2], %zu steps x %zu nets, accuracy drop %g)", sig,
                 cfg->flat_steps, cfg->flat_samples, cfg->flat_target);
        if (!(sig > 0)) {
            OUT("pacbayes_flatness", "Jiang et al. 2020 eq. (53)", "sigma' = 0");
        } else {
            ADD("pacbayes_flatness", 1 / (sig * sig), NAN, NAN, "Jiang et al. 2020 eq. (53): 1/sigma'^2", note);
            if (have0) {
                double D2 = 0;
                for (size_t i = 0; i < m->n_params; i++) D2 += (m->theta[i] - m->theta0[i]) * (m->theta[i] - m->theta0[i]);
                ADD("fantastic_pacbayes_init", D2 / (4 * sig * sig) + log(mm / sig) + 10, NAN, NAN,
                    "Jiang et al. 2020 eq. (48): ||w - w0||^2/(4 sigma'^2) + ln(m/sigma') + 10", note);
                /* Q = N(theta, sigma'^2 I), P = N(theta0, sigma'^2 I): KL = ||theta - theta0||^2 / (2 sigma'^2).
                 * sigma' is chosen from the data among 2^steps dyadic values: union bound ln 2^steps;
                 * delta/2 for the Monte Carlo estimate of the Gibbs error, delta/2 for PAC-Bayes. */
                double kl = D2 / (2 * sig * sig) + (double)cfg->flat_steps * M_LN2;
                double *s2 = tdl_malloc(m->n_params * sizeof(double), "variances");
                if (!s2) { st = TDL_ENOMEM; goto done; }
                for (size_t i = 0; i < m->n_params; i++) s2[i] = sig * sig;
                /* the Gibbs error by the per-example Monte Carlo scheme of the
                 * Dziugaite-Roy row: a fresh net for every example and pass
                 * (exact local reparametrization), mc_samples passes, so
                 * m x mc_samples independent draws enter the kl^-1 step */
                double e_n;
                st = tdl_snn_error_local(m, loss, ds, m->theta, s2, cfg->mc_samples, cfg->seed + 1, &e_n);
                free(s2);
                if (st != TDL_OK) goto done;
                size_t draws = ds->n * cfg->mc_samples;
                double emp = tdl_pb_mc(e_n, draws, delta / 2);
                char n2[200];
                snprintf(n2, sizeof n2, "KL %.6g (incl. %zu ln 2 for sigma'), Gibbs train error %.4g <= %.4g (MC, %zu per-example draws, delta/2); value: KL",
                         kl, cfg->flat_steps, e_n, emp, draws);
                const char *pbn[5] = {"pacbayes_mcallester", "pacbayes_kl", "pacbayes_catoni", "pacbayes_quad", "pacbayes_lambda"};
                const char *pbs[5] = {"McAllester 1999 Thm 1, Q = N(w, sigma'^2 I), P = N(w0, sigma'^2 I)",
                                      "Maurer 2004 / Langford-Seeger kl bound, same Q and P",
                                      "Catoni 2007 Thm 1.2.6, best of c = 2^(k/2), k = -8..8 (union bound)",
                                      "Perez-Ortiz et al. 2021 quad, same Q and P",
                                      "Thiemann et al. 2017 Thm 3 at the optimal lambda"};
                const char *gap[5] = {"complexity", "kl_inverse_gap", "catoni_gap", "quad_gap", "lambda_gap"};
                double pbb[5] = {tdl_pb_mcallester(emp, kl, mm, delta / 2), tdl_pb_kl(emp, kl, mm, delta / 2),
                                 tdl_pb_catoni_grid(emp, kl, mm, delta / 2), tdl_pb_quad(emp, kl, mm, delta / 2),
                                 tdl_pb_lambda(emp, kl, mm, delta / 2)};
                for (int k = 0; k < 5; k++) {
                    ADDE(e, pbn[k], kl, pbb[k], delta, pbs[k], n2);
                    as_bound(e, TDL_CLASSIFIER_GIBBS, chance);
                    term(e, "empirical", emp);
                    term(e, gap[k], pbb[k] - emp);
                    hyp(e, 1, "prior independent of the data", "P = N(w0, sigma'^2 I), w0 the initialization");
                    hyp(e, 1, "union bound over the sigma' grid", "paid, %zu ln 2 in the KL term", cfg->flat_steps);
                    hyp(e, 1, "Monte Carlo step (Langford and Caruana 2001)", "paid, delta/2 of the total (%zu per-example draws: a fresh net per example and pass)", ds->n * cfg->mc_samples);
                    if (k == 2) hyp(e, 1, "union bound over Catoni's c grid", "paid, 17 values (delta/34 each)");
                    if (k == 4) hyp(e, 1, "lambda chosen from the data", "free: Thiemann et al.'s bound holds for all lambda at once");
                    hyp(e, 1, "bounded loss", "the 0-1 loss of the Gibbs classifier Q");
                }
            } else {
                OUT("pacbayes_kl", "Maurer 2004", no_init);
            }
        }
    }
    /* Arora, Du, Hu, Li, Wang 2019 Thm 5.1 */
    if (cfg->ntk) {
        const char *src = "Arora et al. 2019 Thm 5.1: sqrt(2 y^T H_inf^{-1} y / n), H_inf of Du et al. on the inputs";
        if (!(L == 2 && m->act.kind == TDL_ACT_RELU && ds->classes == 2)) OUT("arora2019_ntk", src, "needs a two-layer relu net and binary labels");
        else if (n > 4000) OUT("arora2019_ntk", src, "more than 4000 training examples (the n x n Gram matrix is capped)");
        else {
            gsl_matrix *Hm = gsl_matrix_alloc(n, n);
            double *y = tdl_malloc(n * sizeof(double), "labels");
            double cplx = NAN;
            if (!Hm || !y) { if (Hm) gsl_matrix_free(Hm); free(y); st = tdl_fail(TDL_ENOMEM, "out of memory for the NTK Gram matrix"); goto done; }
            for (size_t i = 0; i < n; i++) y[i] = ds->labels[i] ? 1.0 : -1.0;
            st = tdl_ntk_h_inf(ds->X, Hm);
            if (st == TDL_OK) st = tdl_ntk_arora_complexity(Hm, y, 0.0, &cplx);
            gsl_matrix_free(Hm);
            free(y);
            if (st != TDL_OK) {
                OUT("arora2019_ntk", src, tdl_errmsg());
                st = TDL_OK;
            } else {
                tdl_measure *ea;
                ADDE(ea, "arora2019_ntk", cplx, NAN, NAN, src, "labels as +-1; inputs as given (the theorem assumes unit-norm inputs)");
                snprintf(ea->bound_reason, sizeof ea->bound_reason, "%s",
                         "the theorem bounds the wide GD-trained net of its setting (assumptions below), not this net, and its "
                         "confidence term is an O() without constants: a measure (docs/bounds.md Sec. 9)");
                double worst = 0; /* how far the inputs are from the unit sphere the theorem assumes */
                for (size_t i = 0; i < n; i++) {
                    double r2 = 0;
                    for (size_t j = 0; j < ds->d; j++) r2 += gsl_matrix_get(ds->X, i, j) * gsl_matrix_get(ds->X, i, j);
                    if (fabs(sqrt(r2) - 1) > worst) worst = fabs(sqrt(r2) - 1);
                }
                hyp(ea, 1, "two-layer relu net, binary labels as +-1", "the model file's net and labels");
                hyp(ea, 1, "lambda_0 = lambda_min(H_inf) > 0", "H_inf^{-1} y was computed");
                hyp(ea, worst <= 1e-9, "inputs on the unit sphere", "max | ||x_i|| - 1 | = %.3g", worst);
                hyp(ea, -1, "width >= poly(n, 1/lambda_0, 1/delta), init scale kappa = O(lambda_0 delta / n)",
                    "the theorem's net, not the model file's");
                hyp(ea, -1, "first layer trained by full-batch GD, step O(lambda_0 / n^2), second layer fixed",
                    "false for a net trained by tdl (SGD with momentum, all layers)");
            }
        }
    }
    st = TDL_OK;
done:
    hnet_free(&h);
    tdl_eval_stats_free(&marg);
    if (st != TDL_OK) { free(t.v); return st; }
    *out = t.v;
    *count = t.n;
    return TDL_OK;
}
