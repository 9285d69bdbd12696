/* certify.c — PAC-Bayes risk certificates with data-dependent priors
 * (tdl/certify.h; Perez-Ortiz et al. 2021, "PBB" below).
 *
 * Shape legend: P parameters (theta in file order), n examples of a batch,
 * d inputs, C outputs.  Posterior Q: means mu (P), scales sc = softplus(rho)
 * (P; Gaussian std or Laplace scale b); prior: mean w_p (P), scale s_p.
 */
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "internal.h"
#include "tdl/certify.h"
#include "tdl/train.h"

const char tdl_certify_theorem[] =
    "Langford-Seeger / Maurer (2004) PAC-Bayes-kl bound on the bound part, with the Monte Carlo step of "
    "Langford and Caruana (2001): with probability >= 1 - delta - delta_mc, the 0-1 error of the stochastic "
    "classifier Q (not its mean net) is <= kl^-1(kl^-1(e_n, ln(2/delta_mc)/N), (KL(Q||P) + ln(2 sqrt(m)/delta))/m)";

const tdl_name tdl_cert_objective_names[] = {
    {"fquad", TDL_CERT_FQUAD}, {"flambda", TDL_CERT_FLAMBDA}, {"fclassic", TDL_CERT_FCLASSIC},
    {"pinsker", TDL_CERT_PINSKER}, {"flamb", TDL_CERT_FLAMBDA}, {NULL, 0}};
const tdl_name tdl_posterior_names[] = {{"gaussian", TDL_POSTERIOR_GAUSSIAN}, {"laplace", TDL_POSTERIOR_LAPLACE}, {NULL, 0}};

static const double sigma_grid[] = {0.1, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005};
#define SIGMA_GRID_N (sizeof sigma_grid / sizeof sigma_grid[0])

void tdl_certify_config_default(tdl_certify_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->prior_fraction = 0.5;
    cfg->objective = TDL_CERT_FQUAD;
    cfg->posterior = TDL_POSTERIOR_GAUSSIAN;
    cfg->prior_epochs = 20;
    cfg->prior_lr = 0.005;
    cfg->prior_momentum = 0.99;
    cfg->epochs = 20;
    cfg->lr = 0.001;
    cfg->momentum = 0.95;
    cfg->batch = 250;
    cfg->prior_sigma = NAN;
    cfg->prior_sigma_tol = 0.01;
    cfg->pmin = 1e-5;
    cfg->mc = 100;
    cfg->delta = 0.025;
    cfg->delta_mc = 0.01;
    cfg->seed = 0;
}

void tdl_certify_result_free(tdl_certify_result *r)
{
    if (!r) return;
    free(r->prior_mean);
    free(r->mu);
    free(r->scale);
    memset(r, 0, sizeof *r);
}

void tdl_certify_prior_train_config(const tdl_certify_config *cfg, tdl_loss_kind loss, tdl_train_config *out)
{
    tdl_train_config_default(out);
    out->loss = loss;
    out->opt = TDL_OPT_SGD;
    out->lr = cfg->prior_lr;
    out->momentum = cfg->prior_momentum;
    out->epochs = cfg->prior_epochs;
    out->batch = cfg->batch;
    out->seed = cfg->seed;
    out->eval_every = cfg->prior_epochs >= 10 ? cfg->prior_epochs / 10 : 1;
}

/* KL of two Laplace laws Lap(mu, b) || Lap(mu0, b0), d = mu - mu0:
 *   ln(b0/b) + |d|/b0 + (b/b0) exp(-|d|/b) - 1. */
double tdl_kl_diag_laplace(const double *mu, const double *b, const double *mu0, double b0, size_t P)
{
    double acc = 0;
    for (size_t i = 0; i < P; i++) {
        double ad = fabs(mu[i] - mu0[i]);
        acc += log(b0 / b[i]) + ad / b0 + (b[i] / b0) * exp(-ad / b[i]) - 1;
    }
    return acc;
}

/* ---- step 1: the stratified seeded split ---- */

static int copy_rows(const tdl_dataset *ds, const size_t *idx, size_t n, const char *what, tdl_dataset **out)
{
    int st = tdl_dataset_create(n, ds->d, ds->classes, 0, out);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < n; i++) {
        memcpy((*out)->X->data + i * (*out)->X->tda, ds->X->data + idx[i] * ds->X->tda, ds->d * sizeof(double));
        (*out)->labels[i] = ds->labels[idx[i]];
    }
    (*out)->labels_pm1 = ds->labels_pm1;
    size_t len = strlen(what) + (ds->description ? strlen(ds->description) : 0) + 64;
    (*out)->description = tdl_malloc(len, "a description");
    if (!(*out)->description) { tdl_dataset_free(out); return TDL_ENOMEM; }
    snprintf((*out)->description, len, "%s (%zu examples) of %s", what, n, ds->description ? ds->description : "the data");
    return TDL_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int tdl_certify_split(const tdl_dataset *ds, double fraction, unsigned long seed, tdl_dataset **prior,
                      tdl_dataset **bound)
{
    *prior = *bound = NULL;
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "certificate split: the data set has no class labels");
    if (!(fraction >= 0 && fraction < 1)) return tdl_fail(TDL_EINVAL, "certificate split: prior fraction %g is not in [0, 1)", fraction);
    size_t *idx = tdl_malloc(2 * ds->n * sizeof(size_t), "the split's indices");
    size_t *cls = tdl_malloc(ds->n * sizeof(size_t), "a class's indices");
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int st = TDL_ENOMEM;
    if (!idx || !cls || !rng) {
        if (!rng) tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
        goto done;
    }
    gsl_rng_set(rng, seed);
    size_t *pi = idx, *bi = idx + ds->n, np = 0, nb = 0;
    for (size_t c = 0; c < ds->classes; c++) {
        size_t k = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (ds->labels[i] == c) cls[k++] = i;
        if (k == 0) continue;
        gsl_ran_shuffle(rng, cls, k, sizeof(size_t));
        size_t kp = (size_t)floor(fraction * (double)k + 0.5);
        if (kp > k) kp = k;
        for (size_t i = 0; i < kp; i++) pi[np++] = cls[i];
        for (size_t i = kp; i < k; i++) bi[nb++] = cls[i];
    }
    qsort(pi, np, sizeof(size_t), cmp_size);
    qsort(bi, nb, sizeof(size_t), cmp_size);
    if (nb == 0) { st = tdl_fail(TDL_EINVAL, "certificate split: the bound part is empty (prior fraction %g of %zu examples)", fraction, ds->n); goto done; }
    if (fraction > 0 && np == 0) { st = tdl_fail(TDL_EINVAL, "certificate split: the prior part is empty (prior fraction %g of %zu examples)", fraction, ds->n); goto done; }
    if (np > 0 && (st = copy_rows(ds, pi, np, "prior part", prior)) != TDL_OK) goto done;
    if ((st = copy_rows(ds, bi, nb, "bound part", bound)) != TDL_OK) { tdl_dataset_free(prior); goto done; }
    st = TDL_OK;
done:
    free(idx);
    free(cls);
    gsl_rng_free(rng);
    return st;
}

/* ---- the bounded loss (PBB: log-softmax clamped at ln p_min, / ln(1/p_min)) ---- */

/* Per-example loss l of outputs f (C values) for label y: cross-entropy
 * logsumexp(f) - f_y (C >= 2), logistic log(1 + exp(-s f)), s = 2y - 1 (C = 1). */
static double example_loss(tdl_loss_kind loss, size_t C, const double *f, size_t y)
{
    if (loss == TDL_LOSS_LOGISTIC) {
        double z = (y ? 1.0 : -1.0) * f[0];
        return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z));
    }
    double mx = f[0];
    for (size_t j = 1; j < C; j++) mx = fmax(mx, f[j]);
    double s = 0;
    for (size_t j = 0; j < C; j++) s += exp(f[j] - mx);
    return mx + log(s) - f[y];
}

typedef struct bl_work {
    double *F;      /* n x C outputs */
    double *Xs;     /* n x d, the unclamped examples */
    size_t *ys;     /* n */
} bl_work;

/* emp = (1/n) sum_i min(l_i, Lmax) / Lmax, Lmax = ln(1/pmin); g += (1/(n Lmax)) sum over
 * the unclamped i of dl_i/dtheta (clamped examples have zero gradient).  net->theta is the
 * sampled net.  Cost: one forward pass on the batch plus a gradient on the unclamped rows. */
static int bounded_loss_grad(const tdl_mlp *net, tdl_loss_kind loss, const tdl_batch *b, double pmin,
                             tdl_net_work *wk, bl_work *bw, double *emp, double *g, size_t *errors)
{
    const size_t C = net->layers[net->depth - 1].out, d = net->layers[0].in;
    const double Lmax = log(1 / pmin);
    int st = tdl_mlp_forward(net, b, wk, bw->F);
    if (st != TDL_OK) return st;
    double acc = 0;
    size_t k = 0, wrong = 0;
    for (size_t i = 0; i < b->n; i++) {
        const double *f = bw->F + i * C;
        double l = example_loss(loss, C, f, b->labels[i]);
        if (tdl_predict_class(loss, C, f) != b->labels[i]) wrong++;
        if (!isfinite(l)) return tdl_fail(TDL_ENONFINITE, "certificate: a sampled net's loss is not finite");
        if (l < Lmax) {
            acc += l;
            memcpy(bw->Xs + k * d, b->X + i * b->ldx, d * sizeof(double));
            bw->ys[k++] = b->labels[i];
        } else {
            acc += Lmax;
        }
    }
    *emp = acc / ((double)b->n * Lmax);
    if (errors) *errors += wrong;
    if (k > 0 && g) {
        tdl_batch sb = {.n = k, .X = bw->Xs, .ldx = d, .labels = bw->ys};
        double dummy = 0;
        st = tdl_mlp_batch_grad(net, loss, &sb, 1.0 / ((double)b->n * Lmax), wk, &dummy, g);
    }
    return st;
}

/* ---- objectives: J(L^, KL) and its partial derivatives ---- */

/* B = (KL + ln(2 sqrt(m)/delta)) / m. */
void tdl_certify_objective(tdl_cert_objective o, double emp, double kl, double m, double delta, double *J,
                           double *dJ_demp, double *dJ_dkl)
{
    double num = kl + log(2 * sqrt(m) / delta);
    if (num < DBL_MIN) num = DBL_MIN;
    double B = num / m;
    emp = fmax(emp, 0);
    switch (o) {
    case TDL_CERT_FQUAD: {
        /* J = (a + c)^2, a = sqrt(emp + h), c = sqrt(h), h = B/2:
         * dJ/demp = (a + c)/a, dJ/dh = (a + c)(1/a + 1/c), dh/dKL = 1/(2m) */
        double h = B / 2, a = sqrt(emp + h), c = sqrt(h);
        *J = (a + c) * (a + c);
        *dJ_demp = (a + c) / a;
        *dJ_dkl = (a + c) * (1 / a + 1 / c) / (2 * m);
        break;
    }
    case TDL_CERT_FLAMBDA: {
        /* l* = 2 / (sqrt(2 m emp / num + 1) + 1) minimizes J over l (Thiemann et al. 2017); at
         * the optimum dJ/dl = 0, so the partials at fixed l are the total derivatives. */
        double l = 2 / (sqrt(2 * m * emp / num + 1) + 1), q = 1 - l / 2;
        *J = emp / q + B / (l * q);
        *dJ_demp = 1 / q;
        *dJ_dkl = 1 / (m * l * q);
        break;
    }
    case TDL_CERT_FCLASSIC: {
        double r = sqrt(B / 2);
        *J = emp + r;
        *dJ_demp = 1;
        *dJ_dkl = 1 / (4 * r * m);
        break;
    }
    case TDL_CERT_PINSKER:
    default: {
        /* J = emp + sqrt(num / (2 (m - 1))) */
        double k2 = 2 * (m - 1), r = sqrt(num / k2);
        *J = emp + r;
        *dJ_demp = 1;
        *dJ_dkl = 1 / (2 * r * k2);
        break;
    }
    }
}

static double softplus(double x)
{
    return x > 30 ? x : log1p(exp(x));
}
static double sigmoid(double x)
{
    return 1 / (1 + exp(-x));
}

/* KL(Q || P) and its gradient in (mu, sc): Gaussian
 *   dKL/dmu_i = d_i / s^2,    dKL/dsc_i = sc_i / s^2 - 1 / sc_i
 * Laplace (e = exp(-|d_i| / b_i))
 *   dKL/dmu_i = sign(d_i) (1 - e) / s,   dKL/db_i = -1/b_i + e (1 + |d_i|/b_i) / s. */
static double kl_and_grad(tdl_posterior_kind post, const double *mu, const double *sc, const double *w0, double s,
                          size_t P, double *gmu, double *gsc)
{
    double acc = 0;
    if (post == TDL_POSTERIOR_GAUSSIAN) {
        const double s2 = s * s, ls2 = log(s2);
#pragma omp parallel for reduction(+ : acc) schedule(static)
        for (size_t i = 0; i < P; i++) {
            double d = mu[i] - w0[i], v = sc[i] * sc[i];
            acc += (v + d * d) / s2 - 1 + ls2 - log(v);
            if (gmu) { gmu[i] = d / s2; gsc[i] = sc[i] / s2 - 1 / sc[i]; }
        }
        return 0.5 * acc;
    }
#pragma omp parallel for reduction(+ : acc) schedule(static)
    for (size_t i = 0; i < P; i++) {
        double d = mu[i] - w0[i], ad = fabs(d), b = sc[i], e = exp(-ad / b);
        acc += log(s / b) + ad / s + (b / s) * e - 1;
        if (gmu) {
            gmu[i] = (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0) * (1 - e) / s;
            gsc[i] = -1 / b + e * (1 + ad / b) / s;
        }
    }
    return acc;
}

static double draw_noise(tdl_posterior_kind post, gsl_rng *rng)
{
    return post == TDL_POSTERIOR_GAUSSIAN ? gsl_ran_gaussian_ziggurat(rng, 1.0) : gsl_ran_laplace(rng, 1.0);
}

/* 0-1 error of `nets` sampled nets theta = mu + sc * eps, each on all of ds: the mean of the
 * per-net errors (Laplace certificate's and held-out Monte Carlo). */
static int per_net_error(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const double *mu,
                         const double *sc, tdl_posterior_kind post, size_t nets, unsigned long seed,
                         const tdl_certify_config *cfg, double *mean_error)
{
    const size_t P = m->n_params, C = m->layers[m->depth - 1].out, cap = ds->n < 512 ? ds->n : 512;
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *F = tdl_malloc(cap * C * sizeof(double), "outputs");
    int st = TDL_ENOMEM;
    if (!rng || !F) {
        if (!rng) tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
        goto done;
    }
    gsl_rng_set(rng, seed);
    if ((st = tdl_mlp_clone(m, &tmp)) != TDL_OK) goto done;
    if ((st = tdl_net_work_alloc(m, cap, &wk)) != TDL_OK) goto done;
    double acc = 0;
    for (size_t k = 0; k < nets; k++) {
        for (size_t i = 0; i < P; i++) tmp->theta[i] = mu[i] + sc[i] * draw_noise(post, rng);
        size_t wrong = 0;
        for (size_t r0 = 0; r0 < ds->n; r0 += cap) {
            size_t nb = ds->n - r0 < cap ? ds->n - r0 : cap;
            tdl_batch bt = tdl_batch_rows(ds, r0, nb);
            if ((st = tdl_mlp_forward(tmp, &bt, wk, F)) != TDL_OK) goto done;
            for (size_t i = 0; i < nb; i++)
                if (tdl_predict_class(loss, C, F + i * C) != ds->labels[r0 + i]) wrong++;
        }
        acc += (double)wrong / (double)ds->n;
        if (cfg && cfg->callback) {
            tdl_certify_progress pr = {.phase = 3, .done = k + 1, .total = nets, .loss = acc / (double)(k + 1),
                                       .objective = NAN, .kl = NAN};
            if (cfg->callback(&pr, cfg->user)) { st = tdl_fail(TDL_EINTR, "certificate: interrupted"); goto done; }
        }
    }
    *mean_error = acc / (double)nets;
    st = TDL_OK;
done:
    gsl_rng_free(rng);
    free(F);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}

/* 0-1 error of the net with parameters theta on ds. */
static int net_error(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const double *theta, double *err)
{
    tdl_mlp *tmp = NULL;
    const size_t C = m->layers[m->depth - 1].out;
    int st = tdl_mlp_clone(m, &tmp);
    if (st != TDL_OK) return st;
    memcpy(tmp->theta, theta, m->n_params * sizeof(double));
    size_t bytes;
    if (tdl_mul_size(ds->n, C * sizeof(double), &bytes) != 0) { tdl_mlp_free(&tmp); return tdl_fail(TDL_ETOOBIG, "certificate: too many outputs"); }
    double *F = tdl_malloc(bytes, "outputs");
    if (!F) { tdl_mlp_free(&tmp); return TDL_ENOMEM; }
    if ((st = tdl_mlp_predict(tmp, ds, F)) == TDL_OK) {
        size_t wrong = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (tdl_predict_class(loss, C, F + i * C) != ds->labels[i]) wrong++;
        *err = (double)wrong / (double)ds->n;
    }
    free(F);
    tdl_mlp_free(&tmp);
    return st;
}

typedef struct prior_cb_data {
    const tdl_certify_config *cfg;
} prior_cb_data;

static int prior_progress(const tdl_train_progress *p, void *user)
{
    const prior_cb_data *u = user;
    tdl_certify_progress pr = {.phase = 0, .done = p->epoch, .total = u->cfg->prior_epochs, .loss = p->loss,
                               .objective = NAN, .kl = NAN};
    return u->cfg->callback(&pr, u->cfg->user);
}

static int train_net(tdl_mlp *net, tdl_loss_kind loss, const tdl_dataset *ds, const tdl_certify_config *cfg)
{
    tdl_train_config tc;
    tdl_train_result tr;
    prior_cb_data u = {cfg};
    tdl_certify_prior_train_config(cfg, loss, &tc);
    if (cfg->callback) { tc.callback = prior_progress; tc.user = &u; }
    return tdl_train(net, ds, &tc, &tr);
}

static int check_config(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train, const tdl_certify_config *cfg)
{
    size_t C = m->layers[m->depth - 1].out;
    if (!(loss == TDL_LOSS_LOGISTIC && C == 1) && !(loss == TDL_LOSS_CE && C >= 2))
        return tdl_fail(TDL_EINVAL, "certificate: the bounded loss is the cross-entropy (C >= 2 outputs) or the logistic "
                        "loss (one output); got loss %s with %zu outputs", tdl_loss_name(loss), C);
    if (!train->classes) return tdl_fail(TDL_EINVAL, "certificate: the training data have no class labels");
    int st = tdl_loss_check(loss, m, train);
    if (st != TDL_OK) return st;
    if (!(cfg->prior_fraction >= 0 && cfg->prior_fraction < 1))
        return tdl_fail(TDL_EINVAL, "certificate: prior_fraction %g is not in [0, 1)", cfg->prior_fraction);
    if (!(cfg->delta > 0 && cfg->delta < 1) || !(cfg->delta_mc > 0 && cfg->delta_mc < 1) || !(cfg->delta + cfg->delta_mc < 1))
        return tdl_fail(TDL_EINVAL, "certificate: delta %g and delta_mc %g must be in (0, 1) with delta + delta_mc < 1",
                        cfg->delta, cfg->delta_mc);
    if (cfg->epochs == 0 || cfg->batch == 0 || cfg->mc == 0)
        return tdl_fail(TDL_EINVAL, "certificate: epochs, batch and mc must be positive");
    if (!(cfg->lr > 0) || !(cfg->prior_lr > 0) || !(cfg->momentum >= 0 && cfg->momentum < 1) ||
        !(cfg->prior_momentum >= 0 && cfg->prior_momentum < 1))
        return tdl_fail(TDL_EINVAL, "certificate: learning rates must be positive and momenta in [0, 1)");
    if (!(cfg->pmin > 0 && cfg->pmin < 1)) return tdl_fail(TDL_EINVAL, "certificate: pmin %g is not in (0, 1)", cfg->pmin);
    if (!isnan(cfg->prior_sigma) && !(cfg->prior_sigma > 0 && isfinite(cfg->prior_sigma)))
        return tdl_fail(TDL_EINVAL, "certificate: prior_sigma %g must be positive", cfg->prior_sigma);
    if (!(cfg->prior_sigma_tol >= 0)) return tdl_fail(TDL_EINVAL, "certificate: prior_sigma_tol %g must be >= 0", cfg->prior_sigma_tol);
    if (!m->theta0)
        return tdl_fail(TDL_EINVAL, "certificate: the nets train from the model's initial parameters (init.* tensors), "
                        "and the model has none (its trained weights may have seen the bound part)");
    if (cfg->prior_fraction == 0) {
        if (cfg->objective != TDL_CERT_FQUAD && cfg->objective != TDL_CERT_PINSKER)
            return tdl_fail(TDL_EINVAL, "certificate: the data-free path (prior_fraction 0) is Dziugaite and Roy's optimizer, "
                            "whose objectives are fquad (their quad form) and pinsker; %s is not one",
                            tdl_name_of(tdl_cert_objective_names, (int)cfg->objective));
        if (cfg->posterior != TDL_POSTERIOR_GAUSSIAN)
            return tdl_fail(TDL_EINVAL, "certificate: the data-free path (prior_fraction 0) is Dziugaite and Roy's Gaussian posterior");
        if (cfg->leak) return tdl_fail(TDL_EINVAL, "certificate: leak needs a prior part (prior_fraction > 0)");
    }
    return TDL_OK;
}

/* Data-free path: Dziugaite and Roy (2017) through tdl_dr_optimize. */
typedef struct dr_cb_data {
    const tdl_certify_config *cfg;
} dr_cb_data;

static int dr_progress(const tdl_dr_progress *p, void *user)
{
    const dr_cb_data *u = user;
    tdl_certify_progress pr = {.phase = p->phase == 0 ? 2 : 3, .done = p->phase == 0 ? p->epoch : p->samples_done,
                               .total = p->phase == 0 ? p->epochs : p->samples, .loss = p->surrogate,
                               .objective = p->objective, .kl = p->kl};
    return u->cfg->callback(&pr, u->cfg->user);
}

static int certify_data_free(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train,
                             const tdl_certify_config *cfg, tdl_certify_result *out)
{
    tdl_mlp *net = NULL;
    tdl_dr_result dr = {0};
    int st = tdl_mlp_clone(m, &net);
    if (st != TDL_OK) return st;
    double t0 = tdl_seconds_now();
    if ((st = train_net(net, loss, train, cfg)) != TDL_OK) goto done;
    out->seconds_prior = tdl_seconds_now() - t0;
    tdl_dr_config dc;
    dr_cb_data u = {cfg};
    tdl_dr_config_default(&dc);
    dc.objective = cfg->objective == TDL_CERT_PINSKER ? TDL_DR_PINSKER : TDL_DR_QUAD;
    dc.epochs = cfg->epochs;
    dc.mc_samples = cfg->mc;
    dc.delta = cfg->delta;
    dc.delta_prime = cfg->delta_mc;
    dc.seed = cfg->seed;
    if (cfg->callback) { dc.callback = dr_progress; dc.user = &u; }
    t0 = tdl_seconds_now();
    if ((st = tdl_dr_optimize(net, loss, train, &dc, &dr)) != TDL_OK) goto done;
    out->seconds_posterior = tdl_seconds_now() - t0;
    const size_t P = m->n_params;
    out->prior_mean = tdl_malloc(P * sizeof(double), "the prior mean");
    out->mu = dr.w;
    out->scale = dr.s2;
    dr.w = dr.s2 = NULL;
    if (!out->prior_mean) { st = TDL_ENOMEM; goto done; }
    memcpy(out->prior_mean, m->theta0, P * sizeof(double));
    for (size_t i = 0; i < P; i++) out->scale[i] = sqrt(out->scale[i]);
    out->data_free = 1;
    out->m_prior = 0;
    out->m_bound = train->n;
    out->prior_sigma = sqrt(dr.lambda);
    out->prior_sigma_chosen = 0;
    out->prior_net_bound_error = NAN;
    out->kl = dr.kl;
    out->mc_error = dr.snn_train_error;
    out->mc_draws = (double)train->n * (double)cfg->mc;
    out->mc_bound = dr.snn_train_bound;
    out->complexity = dr.B;
    out->kl_rhs = dr.B / ((double)train->n - 1);
    out->certificate = dr.bound;
    out->objective_value = dr.objective;
    out->dr_lambda = dr.lambda;
    out->dr_j = dr.j;
    out->seconds_certificate = 0; /* inside tdl_dr_optimize */
    st = net_error(m, loss, train, out->mu, &out->mean_net_bound_error);
done:
    tdl_dr_result_free(&dr);
    tdl_mlp_free(&net);
    return st;
}

/* Step 2's prior scale: the largest grid value whose stochastic prior errs on the prior part
 * at most tol more than the prior mean net (Gaussian of the same variance for a Laplace prior,
 * whose variance is 2 b^2: b = s / sqrt 2 ... the grid is over the Gaussian std s). */
static int choose_prior_sigma(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *prior,
                              const double *wp, const tdl_certify_config *cfg, double *sigma)
{
    const size_t P = m->n_params;
    double e0;
    int st = net_error(m, loss, prior, wp, &e0);
    if (st != TDL_OK) return st;
    double *s2 = tdl_malloc(P * sizeof(double), "prior variances");
    if (!s2) return TDL_ENOMEM;
    *sigma = sigma_grid[SIGMA_GRID_N - 1];
    for (size_t g = 0; g < SIGMA_GRID_N; g++) {
        double s = sigma_grid[g], e;
        for (size_t i = 0; i < P; i++) s2[i] = s * s;
        if ((st = tdl_snn_error_local(m, loss, prior, wp, s2, 1, cfg->seed + 7, &e)) != TDL_OK) break;
        if (cfg->callback) {
            tdl_certify_progress pr = {.phase = 1, .done = g + 1, .total = SIGMA_GRID_N, .loss = e, .objective = NAN, .kl = NAN};
            if (cfg->callback(&pr, cfg->user)) { st = tdl_fail(TDL_EINTR, "certificate: interrupted"); break; }
        }
        if (e <= e0 + cfg->prior_sigma_tol) { *sigma = s; break; }
    }
    free(s2);
    return st;
}

int tdl_certify(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train, const tdl_certify_config *cfg,
                tdl_certify_result *out)
{
    memset(out, 0, sizeof *out);
    out->dr_lambda = out->dr_j = NAN;
    int st = check_config(m, loss, train, cfg);
    if (st != TDL_OK) return st;
    out->n_params = m->n_params;
    out->confidence = 1 - cfg->delta - cfg->delta_mc;
    if (cfg->prior_fraction == 0) {
        if (train->n < 8) return tdl_fail(TDL_EINVAL, "certificate: the bound needs at least 8 examples; the data have %zu", train->n);
        st = certify_data_free(m, loss, train, cfg, out);
        if (st != TDL_OK) tdl_certify_result_free(out);
        return st;
    }
    const size_t P = m->n_params, d = train->d, C = m->layers[m->depth - 1].out;
    tdl_dataset *prior = NULL, *bound = NULL;
    tdl_mlp *net = NULL, *tmp = NULL;
    tdl_net_work *wk = NULL;
    gsl_rng *rng = NULL;
    double *buf = NULL, *Xb = NULL;
    size_t *yb = NULL, *perm = NULL;
    bl_work bw = {0};
    if ((st = tdl_certify_split(train, cfg->prior_fraction, cfg->seed, &prior, &bound)) != TDL_OK) return st;
    if (bound->n < 8) {
        st = tdl_fail(TDL_EINVAL, "certificate: the bound part has %zu examples; the kl bound needs at least 8", bound->n);
        goto done;
    }
    out->m_prior = prior->n;
    out->m_bound = bound->n;
    /* memory: the posterior (mu, rho, their momenta), the prior mean, noise and gradients */
    if ((st = tdl_memory_require(P, 9 * sizeof(double), 0, "the PAC-Bayes posterior and its optimizer state")) != TDL_OK) goto done;
    /* step 2: the prior */
    double t0 = tdl_seconds_now();
    if ((st = tdl_mlp_clone(m, &net)) != TDL_OK) goto done;
    /* from the initialization: a model already trained on S would leak S_b into the prior */
    memcpy(net->theta, m->theta0, P * sizeof(double));
    if ((st = train_net(net, loss, cfg->leak ? train : prior, cfg)) != TDL_OK) goto done;
    double sp = cfg->prior_sigma;
    if (isnan(sp)) {
        if ((st = choose_prior_sigma(m, loss, prior, net->theta, cfg, &sp)) != TDL_OK) goto done;
        out->prior_sigma_chosen = 1;
    }
    /* Laplace: the same variance as the Gaussian of std sp, 2 b^2 = sp^2 */
    const double scale0 = cfg->posterior == TDL_POSTERIOR_LAPLACE ? sp / M_SQRT2 : sp;
    out->prior_sigma = scale0;
    out->seconds_prior = tdl_seconds_now() - t0;
    if ((st = net_error(m, loss, bound, net->theta, &out->prior_net_bound_error)) != TDL_OK) goto done;
    /* step 3: the posterior */
    t0 = tdl_seconds_now();
    const size_t nb = cfg->batch < bound->n ? cfg->batch : bound->n;
    buf = tdl_malloc(P * 9 * sizeof(double), "the posterior and its optimizer state");
    Xb = tdl_malloc(nb * d * sizeof(double), "a minibatch");
    yb = tdl_malloc(nb * sizeof(size_t), "minibatch labels");
    perm = tdl_malloc(bound->n * sizeof(size_t), "a permutation");
    bw.F = tdl_malloc(nb * (C > 0 ? C : 1) * sizeof(double), "outputs");
    bw.Xs = tdl_malloc(nb * d * sizeof(double), "a minibatch");
    bw.ys = tdl_malloc(nb * sizeof(size_t), "minibatch labels");
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!buf || !Xb || !yb || !perm || !bw.F || !bw.Xs || !bw.ys || !rng) {
        st = rng ? TDL_ENOMEM : tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
        goto done;
    }
    gsl_rng_set(rng, cfg->seed + 1);
    double *mu = buf, *rho = buf + P, *sc = buf + 2 * P, *eps = buf + 3 * P, *g = buf + 4 * P, *gmu = buf + 5 * P,
           *gsc = buf + 6 * P, *vmu = buf + 7 * P, *vrho = buf + 8 * P;
    const double *wp = net->theta;
    const double rho0 = log(expm1(scale0));
    memcpy(mu, wp, P * sizeof(double));
    for (size_t i = 0; i < P; i++) { rho[i] = rho0; sc[i] = softplus(rho0); vmu[i] = vrho[i] = 0; }
    if ((st = tdl_mlp_clone(m, &tmp)) != TDL_OK) goto done;
    if ((st = tdl_net_work_alloc(m, nb, &wk)) != TDL_OK) goto done;
    for (size_t i = 0; i < bound->n; i++) perm[i] = i;
    const double mb = (double)bound->n;
    for (size_t ep = 0; ep < cfg->epochs; ep++) {
        double Jsum = 0, Esum = 0, kl = 0;
        size_t steps = 0;
        gsl_ran_shuffle(rng, perm, bound->n, sizeof(size_t));
        for (size_t r0 = 0; r0 < bound->n; r0 += nb) {
            const size_t n = bound->n - r0 < nb ? bound->n - r0 : nb;
            for (size_t i = 0; i < n; i++) {
                memcpy(Xb + i * d, bound->X->data + perm[r0 + i] * bound->X->tda, d * sizeof(double));
                yb[i] = bound->labels[perm[r0 + i]];
            }
            tdl_batch bt = {.n = n, .X = Xb, .ldx = d, .labels = yb};
            for (size_t i = 0; i < P; i++) {
                eps[i] = draw_noise(cfg->posterior, rng);
                tmp->theta[i] = mu[i] + sc[i] * eps[i];
            }
            double emp = 0, J, a, k;
            memset(g, 0, P * sizeof(double));
            if ((st = bounded_loss_grad(tmp, loss, &bt, cfg->pmin, wk, &bw, &emp, g, NULL)) != TDL_OK) goto done;
            kl = kl_and_grad(cfg->posterior, mu, sc, wp, scale0, P, gmu, gsc);
            tdl_certify_objective(cfg->objective, emp, kl, mb, cfg->delta, &J, &a, &k);
            if (!isfinite(J)) { st = tdl_fail(TDL_ENONFINITE, "certificate: the objective is not finite (epoch %zu)", ep + 1); goto done; }
            /* dJ/dmu = a g + k dKL/dmu;  dJ/drho = (a g eps + k dKL/dsc) sigmoid(rho);
             * SGD with momentum as torch.optim.SGD: v = mom v + grad, x -= lr v */
            const double lr = cfg->lr, mom = cfg->momentum;
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < P; i++) {
                double gm = a * g[i] + k * gmu[i];
                double gr = (a * g[i] * eps[i] + k * gsc[i]) * sigmoid(rho[i]);
                vmu[i] = mom * vmu[i] + gm;
                vrho[i] = mom * vrho[i] + gr;
                mu[i] -= lr * vmu[i];
                rho[i] -= lr * vrho[i];
                sc[i] = softplus(rho[i]);
            }
            Jsum += J;
            Esum += emp;
            steps++;
        }
        out->objective_value = Jsum / (double)steps;
        if (cfg->callback) {
            tdl_certify_progress pr = {.phase = 2, .done = ep + 1, .total = cfg->epochs, .loss = Esum / (double)steps,
                                       .objective = Jsum / (double)steps, .kl = kl};
            if (cfg->callback(&pr, cfg->user)) { st = tdl_fail(TDL_EINTR, "certificate: interrupted"); goto done; }
        }
    }
    out->seconds_posterior = tdl_seconds_now() - t0;
    /* step 4: the certificate, on the bound part only */
    t0 = tdl_seconds_now();
    out->prior_mean = tdl_malloc(P * sizeof(double), "the prior mean");
    out->mu = tdl_malloc(P * sizeof(double), "the posterior mean");
    out->scale = tdl_malloc(P * sizeof(double), "the posterior scales");
    if (!out->prior_mean || !out->mu || !out->scale) { st = TDL_ENOMEM; goto done; }
    memcpy(out->prior_mean, wp, P * sizeof(double));
    memcpy(out->mu, mu, P * sizeof(double));
    memcpy(out->scale, sc, P * sizeof(double));
    out->kl = kl_and_grad(cfg->posterior, mu, sc, wp, scale0, P, NULL, NULL);
    if (cfg->posterior == TDL_POSTERIOR_GAUSSIAN) {
        double *s2 = g;
        for (size_t i = 0; i < P; i++) s2[i] = sc[i] * sc[i];
        /* progress of this step: one call before (the library function has no callback) */
        if (cfg->callback) {
            tdl_certify_progress pr = {.phase = 3, .done = 0, .total = cfg->mc, .loss = NAN, .objective = NAN, .kl = out->kl};
            if (cfg->callback(&pr, cfg->user)) { st = tdl_fail(TDL_EINTR, "certificate: interrupted"); goto done; }
        }
        if ((st = tdl_snn_error_local(m, loss, bound, mu, s2, cfg->mc, cfg->seed + 2, &out->mc_error)) != TDL_OK) goto done;
        out->mc_draws = mb * (double)cfg->mc;
    } else {
        if ((st = per_net_error(m, loss, bound, mu, sc, cfg->posterior, cfg->mc, cfg->seed + 2, cfg, &out->mc_error)) != TDL_OK)
            goto done;
        out->mc_draws = (double)cfg->mc;
    }
    if ((st = tdl_kl_inv(out->mc_error, log(2 / cfg->delta_mc) / out->mc_draws, &out->mc_bound)) != TDL_OK) goto done;
    out->complexity = out->kl + log(2 * sqrt(mb) / cfg->delta);
    out->kl_rhs = out->complexity / mb;
    if ((st = tdl_kl_inv(out->mc_bound, out->kl_rhs, &out->certificate)) != TDL_OK) goto done;
    if ((st = net_error(m, loss, bound, mu, &out->mean_net_bound_error)) != TDL_OK) goto done;
    out->seconds_certificate = tdl_seconds_now() - t0;
    st = TDL_OK;
done:
    if (st != TDL_OK) tdl_certify_result_free(out);
    tdl_dataset_free(&prior);
    tdl_dataset_free(&bound);
    tdl_mlp_free(&net);
    tdl_mlp_free(&tmp);
    tdl_net_work_free(&wk);
    gsl_rng_free(rng);
    free(buf);
    free(Xb);
    free(yb);
    free(perm);
    free(bw.F);
    free(bw.Xs);
    free(bw.ys);
    return st;
}

int tdl_certify_test(const tdl_mlp *m, tdl_loss_kind loss, const tdl_certify_result *r, tdl_posterior_kind posterior,
                     const tdl_dataset *ds, size_t draws, unsigned long seed, double *stochastic_error, double *n_draws,
                     double *mean_net_error)
{
    if (!r->mu || !r->scale) return tdl_fail(TDL_EINVAL, "certificate test: the result has no posterior");
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "certificate test: the data have no class labels");
    if (ds->d != m->layers[0].in) return tdl_fail(TDL_ESHAPE, "certificate test: %zu features, the model expects %zu", ds->d, m->layers[0].in);
    if (draws == 0) return tdl_fail(TDL_EINVAL, "certificate test: at least one draw is needed");
    int st = TDL_OK;
    if (stochastic_error) {
        if (posterior == TDL_POSTERIOR_GAUSSIAN) {
            const size_t P = m->n_params;
            double *s2 = tdl_malloc(P * sizeof(double), "posterior variances");
            if (!s2) return TDL_ENOMEM;
            for (size_t i = 0; i < P; i++) s2[i] = r->scale[i] * r->scale[i];
            st = tdl_snn_error_local(m, loss, ds, r->mu, s2, draws, seed, stochastic_error);
            free(s2);
            if (n_draws) *n_draws = (double)ds->n * (double)draws;
        } else {
            st = per_net_error(m, loss, ds, r->mu, r->scale, posterior, draws, seed, NULL, stochastic_error);
            if (n_draws) *n_draws = (double)draws;
        }
        if (st != TDL_OK) return st;
    }
    if (mean_net_error) st = net_error(m, loss, ds, r->mu, mean_net_error);
    return st;
}

int tdl_certify_measure(const tdl_certify_result *r, const tdl_certify_config *cfg, double chance, tdl_measure **out)
{
    tdl_measure *e = tdl_calloc(1, sizeof *e, "a table row");
    if (!e) return TDL_ENOMEM;
    snprintf(e->name, sizeof e->name, "%s", r->data_free ? "certificate_data_free" : "certificate_data_dependent");
    e->value = r->kl;
    e->bound = r->certificate;
    e->vacuous = r->certificate >= 1;
    e->available = 1;
    e->delta = cfg->delta + cfg->delta_mc;
    if (r->data_free)
        snprintf(e->source, sizeof e->source, "Dziugaite and Roy 2017, eq. (8) and Sec. 5 (prior at the initialization, "
                 "variance on a grid): kl^-1(kl^-1(e_n, ln(2/delta')/N), B/(m-1)), B = KL + ln(pi^2 m/(6 delta)) + 2 ln j");
    else
        snprintf(e->source, sizeof e->source, "Perez-Ortiz et al. 2021 (JMLR 22(227)), data-dependent prior; Langford-Seeger/"
                 "Maurer 2004 kl bound on the bound part, Monte Carlo step of Langford and Caruana 2001");
    snprintf(e->note, sizeof e->note, "value: KL(Q||P); m_bound %zu, m_prior %zu", r->m_bound, r->m_prior);
    e->kind = TDL_MEASURE_KIND_BOUND;
    e->classifier = TDL_CLASSIFIER_GIBBS;
    e->fixed_scale_value = NAN;
    e->below_chance = r->certificate < chance;
    tdl_measure_add_term(e, "mc_empirical", r->mc_error);
    tdl_measure_add_term(e, "mc_gap", r->mc_bound - r->mc_error);
    tdl_measure_add_term(e, "kl_inverse_gap", r->certificate - r->mc_bound);
    if (r->data_free)
        tdl_measure_add_hyp(e, 1, "prior independent of the data", "P = N(w0, lambda I), w0 the initialization, lambda on a fixed grid "
                "(union bound paid, j = %.0f)", r->dr_j);
    else if (cfg->leak)
        tdl_measure_add_hyp(e, 0, "prior independent of the bound part",
                "NO: the prior net was trained on all the data, the bound part included (leak)");
    else
        tdl_measure_add_hyp(e, 1, "prior independent of the bound part",
                "the prior net and its scale use the prior part only (%zu examples, disjoint from the %zu of the bound)",
                r->m_prior, r->m_bound);
    tdl_measure_add_hyp(e, 1, "Monte Carlo step (Langford and Caruana 2001)", "paid, delta_mc = %g over N = %.0f draws", cfg->delta_mc,
            r->mc_draws);
    tdl_measure_add_hyp(e, 1, "total confidence", "delta + delta_mc = %g", cfg->delta + cfg->delta_mc);
    tdl_measure_add_hyp(e, 1, "bounded loss", "the 0-1 loss of the stochastic classifier Q (not its mean net)");
    *out = e;
    return TDL_OK;
}
