/* pacbayes.c — PAC-Bayes bounds, kl^{-1}, and Dziugaite and Roy's (2017)
 * optimization of a Gaussian posterior (tdl/bounds.h).
 *
 * Shape legend: P parameters (theta in file order), n examples of a batch,
 * d inputs, C outputs.  Posterior Q = N(w, diag sigma^2), sigma = exp(s);
 * prior P = N(w0, lambda I), lambda = exp(2 rho), w0 = the net's initial
 * parameters (Dziugaite and Roy 2017, Sec. 3).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "internal.h"
#include "tdl/bounds.h"

double tdl_kl_bernoulli(double q, double p)
{
    if (!(q >= 0 && q <= 1 && p >= 0 && p <= 1)) return NAN;
    if (q > 0 && q < 1 && p > 0 && p < 1) {
        /* with t = p - q (exact near q): the first-order terms cancel
         * analytically, so kl keeps its relative accuracy when p -> q */
        double t = p - q;
        return -q * log1p(t / q) - (1 - q) * log1p(-t / (1 - q));
    }
    double a = 0, b = 0;
    if (q > 0) {
        if (p == 0) return INFINITY;
        a = q * (log(q) - log(p));
    }
    if (q < 1) {
        if (p == 1) return INFINITY;
        b = (1 - q) * (log1p(-q) - log1p(-p));
    }
    return a + b;
}

/* kl(q || .) is convex and increasing on [q, 1) with derivative
 * (1 - q)/(1 - p) - q/p, so Newton from a point right of the root decreases
 * monotonically to it (every iterate stays an upper bound). */
int tdl_kl_inv(double q, double c, double *out)
{
    if (!(q >= 0 && q <= 1)) return tdl_fail(TDL_EINVAL, "kl^-1: q = %g is not in [0, 1]", q);
    if (!(c >= 0)) return tdl_fail(TDL_EINVAL, "kl^-1: c = %g must be >= 0", c);
    if (c == 0) { *out = q; return TDL_OK; }
    if (q == 1 || isinf(c)) { *out = 1; return TDL_OK; }
    if (q == 0) { *out = -expm1(-c); return TDL_OK; }
    const double top = nextafter(1.0, 0.0);
    if (tdl_kl_bernoulli(q, top) <= c) { *out = 1; return TDL_OK; }
    /* Pinsker: kl(q||p) >= 2 (p - q)^2, so q + sqrt(c/2) is right of the root */
    double p = fmin(top, q + sqrt(c / 2));
    int ok = 0;
    for (int it = 0; it < 200; it++) {
        double f = tdl_kl_bernoulli(q, p) - c;
        double df = (1 - q) / (1 - p) - q / p;
        if (!isfinite(f) || !isfinite(df) || df <= 0) break;
        if (f <= 0) { ok = f > -4 * DBL_EPSILON * fmax(1, c); break; }
        double next = p - f / df;
        if (!(next > q) || !(next < p)) break;
        if (p - next <= 2 * DBL_EPSILON * p) { p = next; ok = 1; break; }
        p = next;
    }
    if (!ok) { /* bisection on [q, p]: kl(q||lo) <= c < kl(q||hi) */
        double lo = q, hi = p;
        if (tdl_kl_bernoulli(q, hi) < c) hi = top;
        for (int it = 0; it < 200 && hi - lo > 2 * DBL_EPSILON * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (tdl_kl_bernoulli(q, mid) > c) hi = mid;
            else lo = mid;
        }
        p = hi;
    }
    *out = p;
    return TDL_OK;
}

/* 2 KL = sum_i [ s2_i / lambda + (mu_i - mu0_i)^2 / lambda - 1 + ln(lambda / s2_i) ] */
double tdl_kl_diag_gauss(const double *mu, const double *s2, const double *mu0, double lambda, size_t P)
{
    double acc = 0;
    for (size_t i = 0; i < P; i++) {
        double dm = mu[i] - mu0[i];
        acc += (s2[i] + dm * dm) / lambda - 1 + log(lambda) - log(s2[i]);
    }
    return 0.5 * acc;
}

double tdl_pb_mcallester(double emp, double kl, double m, double delta)
{
    return emp + sqrt((kl + log(1 / delta) + log(m) + 2) / (2 * m - 1));
}

static double seeger_rhs(double kl, double m, double delta)
{
    return (kl + log(2 * sqrt(m) / delta)) / m;
}

double tdl_pb_kl(double emp, double kl, double m, double delta)
{
    double p;
    if (tdl_kl_inv(fmin(1, fmax(0, emp)), seeger_rhs(kl, m, delta), &p) != TDL_OK) return NAN;
    return p;
}

double tdl_pb_pinsker(double emp, double kl, double m, double delta)
{
    return emp + sqrt(seeger_rhs(kl, m, delta) / 2);
}

double tdl_pb_quad(double emp, double kl, double m, double delta)
{
    double h = seeger_rhs(kl, m, delta) / 2;
    double r = sqrt(emp + h) + sqrt(h);
    return r * r;
}

/* Thiemann et al. 2017, Thm 3: L <= L^/(1 - l/2) + B/(l (1 - l/2)), B = m * seeger_rhs,
 * l* = 2 / (sqrt(2 m L^ / B + 1) + 1) (with B the un-normalized numerator). */
double tdl_pb_lambda(double emp, double kl, double m, double delta)
{
    double num = kl + log(2 * sqrt(m) / delta);
    double l = 2 / (sqrt(2 * m * emp / num + 1) + 1);
    return emp / (1 - l / 2) + num / (m * l * (1 - l / 2));
}

double tdl_pb_catoni(double emp, double kl, double m, double delta, double c)
{
    return -expm1(-c * emp - (kl + log(1 / delta)) / m) / -expm1(-c);
}

double tdl_pb_catoni_grid(double emp, double kl, double m, double delta)
{
    double best = INFINITY;
    for (int k = -8; k <= 8; k++)
        best = fmin(best, tdl_pb_catoni(emp, kl, m, delta / 17.0, pow(2.0, k / 2.0)));
    return best;
}

double tdl_pb_mc(double emp_n, size_t n, double delta_prime)
{
    double p;
    if (tdl_kl_inv(fmin(1, fmax(0, emp_n)), log(2 / delta_prime) / (double)n, &p) != TDL_OK) return NAN;
    return p;
}

/* ------------------------------------------------------------------ */
/* Dziugaite and Roy 2017                                               */

const tdl_name tdl_dr_objective_names[] = {{"pinsker", TDL_DR_PINSKER}, {"quad", TDL_DR_QUAD}, {NULL, 0}};

void tdl_dr_config_default(tdl_dr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->objective = TDL_DR_QUAD;
    cfg->epochs = 200;
    cfg->batch = 100;
    cfg->lr = 3e-4;
    cfg->lr_drop_epoch = 0;
    cfg->sigma_init = 0.05;
    cfg->rho_init = log(0.05);
    cfg->b = 100;
    cfg->c = 0.1;
    cfg->delta = 0.025;
    cfg->delta_prime = 0.01;
    cfg->mc_samples = 1000;
    cfg->seed = 0;
}

void tdl_dr_result_free(tdl_dr_result *r)
{
    free(r->w);
    free(r->s2);
    r->w = r->s2 = NULL;
}

static int check_dr_loss(tdl_loss_kind loss, const tdl_mlp *m)
{
    size_t C = m->layers[m->depth - 1].out;
    if (loss == TDL_LOSS_LOGISTIC && C == 1) return TDL_OK;
    if (loss == TDL_LOSS_CE && C >= 2) return TDL_OK;
    return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: the surrogate is the logistic loss / ln 2 (one output) "
                    "or cross-entropy / ln 2 (C >= 2 outputs); got loss %s with %zu outputs",
                    tdl_loss_name(loss), C);
}

/* The objective on one batch with one noise draw; tmp is a clone of m whose
 * theta receives the sampled weights, wk its work.
 *
 *   theta = w + sigma * eps,  sigma = exp(s)                    (reparametrization)
 *   J = surr(theta) + sqrt(B / k),  k = 2 (m - 1)
 *   B = KL + ln(pi^2 m / (6 delta)) + 2 ln j,  j = b (ln c - 2 rho)   (DR eq. (8) and Sec. 5)
 *   2 KL = (S + D) / lambda - P + P ln lambda - sum_i 2 s_i,
 *          S = sum sigma_i^2, D = ||w - w0||^2, lambda = exp(2 rho)
 * Gradients (g = d surr / d theta by backprop, t = dJ/dB = 1 / (2 sqrt(B k))):
 *   dJ/dw   = g + t (w - w0) / lambda
 *   dJ/ds_i = g_i eps_i sigma_i + t (sigma_i^2 / lambda - 1)
 *   dJ/drho = t (P - (S + D) / lambda - 4 / (ln c - 2 rho))                   */
static int dr_objective(const tdl_mlp *m, tdl_mlp *tmp, tdl_net_work *wk, tdl_loss_kind loss,
                        const tdl_batch *b, const double *w, const double *s, const double *sg,
                        double rho, const double *eps, double m_train, const tdl_dr_config *cfg,
                        double *J, double *gw, double *gs, double *grho, double *surr_out, double *kl_out)
{
    const size_t P = m->n_params;
    const double *w0 = m->theta0;
    for (size_t i = 0; i < P; i++) tmp->theta[i] = w[i] + sg[i] * eps[i];
    double surr = 0;
    memset(gw, 0, P * sizeof(double));
    int st = tdl_mlp_batch_grad(tmp, loss, b, 1.0 / ((double)b->n * M_LN2), wk, &surr, gw);
    if (st != TDL_OK) return st;
    double lambda = exp(2 * rho), S = 0, D = 0, sums = 0;
    for (size_t i = 0; i < P; i++) {
        double sig = sg[i], dm = w[i] - w0[i];
        gs[i] = gw[i] * eps[i] * sig;
        S += sig * sig;
        D += dm * dm;
        sums += s[i];
    }
    double kl = 0.5 * ((S + D) / lambda - (double)P + (double)P * 2 * rho - 2 * sums);
    double lc = log(cfg->c) - 2 * rho;
    if (!(lc > 0)) return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: prior variance %g must be below c = %g", lambda, cfg->c);
    double B = kl + log(M_PI * M_PI * m_train / (6 * cfg->delta)) + 2 * log(cfg->b * lc);
    if (!(B > 0)) B = DBL_MIN;
    double k = 2 * (m_train - 1), t, gscale = 1;
    if (cfg->objective == TDL_DR_QUAD) {
        /* J = (a + b)^2, a = sqrt(surr + h), b = sqrt(h), h = B / k:
         * dJ/dsurr = (a + b) / a,  dJ/dB = (a + b)(1/a + 1/b) / k */
        double h = B / k, a = sqrt(fmax(surr, 0) + h), bb = sqrt(h);
        gscale = (a + bb) / a;
        t = (a + bb) * (1 / a + 1 / bb) / k;
        *J = (a + bb) * (a + bb);
        for (size_t i = 0; i < P; i++) { gw[i] *= gscale; gs[i] *= gscale; }
    } else {
        t = 1 / (2 * sqrt(B * k));
        *J = surr + sqrt(B / k);
    }
    for (size_t i = 0; i < P; i++) {
        double sig = sg[i];
        gw[i] += t * (w[i] - w0[i]) / lambda;
        gs[i] += t * (sig * sig / lambda - 1);
    }
    *grho = t * ((double)P - (S + D) / lambda - 4 / lc);
    if (surr_out) *surr_out = surr;
    if (kl_out) *kl_out = kl;
    return isfinite(*J) ? TDL_OK : tdl_fail(TDL_ENONFINITE, "Dziugaite-Roy: the objective is not finite");
}

int tdl_dr_objective(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, const double *w,
                     const double *s, double rho, const double *eps, double m_train,
                     const tdl_dr_config *cfg, double *J, double *gw, double *gs, double *grho)
{
    if (!m->theta0) return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: the model has no initial parameters (init.* tensors) for the prior mean");
    int st = check_dr_loss(loss, m);
    if (st != TDL_OK) return st;
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    double *sg = tdl_malloc(m->n_params * sizeof(double), "posterior std");
    if (!sg) return TDL_ENOMEM;
    for (size_t i = 0; i < m->n_params; i++) sg[i] = exp(s[i]);
    if ((st = tdl_mlp_clone(m, &tmp)) != TDL_OK) { free(sg); return st; }
    if ((st = tdl_net_work_alloc(m, b->n, &wk)) == TDL_OK)
        st = dr_objective(m, tmp, wk, loss, b, w, s, sg, rho, eps, m_train, cfg, J, gw, gs, grho, NULL, NULL);
    free(sg);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}

/* Errors of sampled nets on ds, by blocks of the work's capacity. */
static int snn_errors(const tdl_mlp *m, tdl_mlp *tmp, tdl_net_work *wk, tdl_loss_kind loss,
                      const tdl_dataset *ds, const double *w, const double *s2, size_t n,
                      gsl_rng *rng, double *F, double *mean_error, double *errors,
                      const tdl_dr_config *cfg, size_t epochs)
{
    const size_t P = m->n_params, C = m->layers[m->depth - 1].out, cap = tdl_net_work_cap(wk);
    double acc = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < P; i++) tmp->theta[i] = w[i] + sqrt(s2[i]) * gsl_ran_gaussian_ziggurat(rng, 1.0);
        size_t wrong = 0;
        for (size_t r0 = 0; r0 < ds->n; r0 += cap) {
            size_t nb = ds->n - r0 < cap ? ds->n - r0 : cap;
            tdl_batch bt = tdl_batch_rows(ds, r0, nb);
            int st = tdl_mlp_forward(tmp, &bt, wk, F);
            if (st != TDL_OK) return st;
            for (size_t i = 0; i < nb; i++)
                if (tdl_predict_class(loss, C, F + i * C) != ds->labels[r0 + i]) wrong++;
        }
        double e = (double)wrong / (double)ds->n;
        if (errors) errors[k] = e;
        acc += e;
        if (cfg && cfg->callback && ((k + 1) % 10 == 0 || k + 1 == n)) {
            tdl_dr_progress pr = {.epoch = epochs, .epochs = epochs, .phase = 1, .samples_done = k + 1, .samples = n,
                                  .objective = NAN, .surrogate = acc / (double)(k + 1), .kl = NAN, .lambda = NAN};
            if (cfg->callback(&pr, cfg->user)) return tdl_fail(TDL_EINTR, "Dziugaite-Roy: interrupted");
        }
    }
    *mean_error = acc / (double)n;
    return TDL_OK;
}

int tdl_snn_error(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const double *w,
                  const double *s2, size_t n, unsigned long seed, double *mean_error, double *errors)
{
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "stochastic-net error: the data set has no class labels");
    if (n == 0) return tdl_fail(TDL_EINVAL, "stochastic-net error: at least one sample is needed");
    size_t C = m->layers[m->depth - 1].out, cap = ds->n < 1024 ? ds->n : 1024;
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *F = tdl_malloc(cap * C * sizeof(double), "outputs");
    int st = TDL_ENOMEM;
    if (!rng || !F) goto done;
    gsl_rng_set(rng, seed);
    if ((st = tdl_mlp_clone(m, &tmp)) != TDL_OK) goto done;
    if ((st = tdl_net_work_alloc(m, cap, &wk)) != TDL_OK) goto done;
    st = snn_errors(m, tmp, wk, loss, ds, w, s2, n, rng, F, mean_error, errors, NULL, 0);
done:
    if (!rng && st == TDL_ENOMEM) tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_free(rng);
    free(F);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}

/* Gibbs error with a FRESH net for every example (local reparametrization,
 * Kingma, Salimans, Welling 2015, exact here): given the activations a of the
 * previous layer, the pre-activations of one example under W ~ N(M, diag S2)
 * are independent Gaussians
 *     z_j ~ N( w_scale M_j . a + b_scale mu_bj,  w_scale^2 S2_j . (a*a) + b_scale^2 s2_bj ),
 * so sampling z layer by layer draws the output of an independent sampled net
 * for each example.  `passes` passes give N = n passes independent Bernoulli
 * draws whose mean has expectation L^(Q) (shape: blocks of nb examples;
 * the first layer's moments are computed once per block, BLAS-3). */
int tdl_snn_error_local(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const double *w,
                        const double *s2, size_t passes, unsigned long seed, double *mean_error)
{
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "stochastic-net error: the data set has no class labels");
    if (passes == 0) return tdl_fail(TDL_EINVAL, "stochastic-net error: at least one pass is needed");
    if (ds->d != m->layers[0].in) return tdl_fail(TDL_ESHAPE, "stochastic-net error: %zu features, the model expects %zu", ds->d, m->layers[0].in);
    const size_t L = m->depth, C = m->layers[L - 1].out, cap = 256;
    size_t mw = 0;
    for (size_t l = 0; l < L; l++) {
        if (m->layers[l].in > mw) mw = m->layers[l].in;
        if (m->layers[l].out > mw) mw = m->layers[l].out;
    }
    size_t bytes;
    if (tdl_mul_size(cap * 7, mw * sizeof(double), &bytes) != 0) return tdl_fail(TDL_ETOOBIG, "stochastic-net error: layers too wide");
    double *buf = tdl_malloc(bytes, "stochastic-net work");
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!buf || !rng) { free(buf); gsl_rng_free(rng); return buf ? tdl_fail(TDL_ENOMEM, "out of memory for a random generator") : TDL_ENOMEM; }
    gsl_rng_set(rng, seed);
    double *A = buf, *A2 = buf + cap * mw, *Mz = buf + 2 * cap * mw, *Vz = buf + 3 * cap * mw,
           *M1 = buf + 4 * cap * mw, *V1 = buf + 5 * cap * mw, *Xs = buf + 6 * cap * mw;
    size_t wrong = 0;
    for (size_t r0 = 0; r0 < ds->n; r0 += cap) {
        const size_t nb = ds->n - r0 < cap ? ds->n - r0 : cap;
        for (size_t pass = 0; pass <= passes; pass++) {
            /* pass 0 computes the first layer's moments; passes 1..passes sample */
            const double *in = ds->X->data + r0 * ds->X->tda;
            size_t ldin = ds->X->tda;
            for (size_t l = 0; l < L; l++) {
                const tdl_layer *Ly = &m->layers[l];
                double *mz = l == 0 ? M1 : Mz, *vz = l == 0 ? V1 : Vz;
                if (l > 0 || pass == 0) {
                    const double *src = l == 0 ? in : A;
                    size_t lds = l == 0 ? ldin : Ly->in;
                    for (size_t i = 0; i < nb; i++)
                        for (size_t j = 0; j < Ly->in; j++) { double v = src[i * lds + j]; A2[i * Ly->in + j] = v * v; }
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)Ly->out, (int)Ly->in, Ly->w_scale,
                                src, (int)lds, w + Ly->w_off, (int)Ly->in, 0.0, mz, (int)Ly->out);
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)Ly->out, (int)Ly->in,
                                Ly->w_scale * Ly->w_scale, A2, (int)Ly->in, s2 + Ly->w_off, (int)Ly->in, 0.0, vz, (int)Ly->out);
                    if (Ly->has_bias)
                        for (size_t i = 0; i < nb; i++)
                            for (size_t j = 0; j < Ly->out; j++) {
                                mz[i * Ly->out + j] += Ly->b_scale * w[Ly->b_off + j];
                                vz[i * Ly->out + j] += Ly->b_scale * Ly->b_scale * s2[Ly->b_off + j];
                            }
                }
                if (pass == 0) break;
                for (size_t i = 0; i < nb * Ly->out; i++) Xs[i] = mz[i] + sqrt(vz[i]) * gsl_ran_gaussian_ziggurat(rng, 1.0);
                if (l + 1 < L) tdl_act_eval(&m->act, Xs, nb * Ly->out, A, NULL, NULL);
            }
            if (pass == 0) continue;
            for (size_t i = 0; i < nb; i++)
                if (tdl_predict_class(loss, C, Xs + i * C) != ds->labels[r0 + i]) wrong++;
        }
    }
    *mean_error = (double)wrong / ((double)ds->n * (double)passes);
    free(buf);
    gsl_rng_free(rng);
    return TDL_OK;
}

/* RMSProp as torch.optim.RMSprop (alpha 0.99, eps 1e-8): v = a v + (1-a) g^2,
 * x -= lr g / (sqrt v + eps). */
static void rmsprop(double *x, const double *g, double *v, size_t n, double lr)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
        x[i] -= lr * g[i] / (sqrt(v[i]) + 1e-8);
    }
}

int tdl_dr_optimize(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train,
                    const tdl_dr_config *cfg, tdl_dr_result *out)
{
    memset(out, 0, sizeof *out);
    if (!m->theta0) return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: the model has no initial parameters (init.* tensors) for the prior mean");
    int st = check_dr_loss(loss, m);
    if (st != TDL_OK) return st;
    if (!train->classes || train->n < 8) return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: needs at least 8 labelled training examples");
    if (cfg->epochs == 0 || cfg->batch == 0 || cfg->mc_samples == 0 || !(cfg->lr > 0) ||
        !(cfg->delta > 0 && cfg->delta < 1) || !(cfg->delta_prime > 0 && cfg->delta_prime < 1) ||
        !(cfg->c > 0) || !(cfg->b > 0) || !(cfg->sigma_init > 0) || !isfinite(cfg->rho_init))
        return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: epochs, batch, samples, lr, b, c, sigma-init must be positive and delta, delta' in (0, 1)");
    if (2 * cfg->rho_init >= log(cfg->c) - 1 / cfg->b)
        return tdl_fail(TDL_EINVAL, "Dziugaite-Roy: initial prior variance %g must be below c exp(-1/b) = %g",
                        exp(2 * cfg->rho_init), cfg->c * exp(-1 / cfg->b));
    const size_t P = m->n_params, d = train->d, C = m->layers[m->depth - 1].out;
    const size_t nb = cfg->batch < train->n ? cfg->batch : train->n;
    const double mt = (double)train->n;
    size_t cap = train->n < 1024 ? train->n : 1024;
    if (cap < nb) cap = nb;
    size_t bytes;
    if (tdl_mul_size(P, 8 * sizeof(double), &bytes) != 0) return tdl_fail(TDL_ETOOBIG, "Dziugaite-Roy: too many parameters");
    double *buf = tdl_malloc(bytes, "the posterior and its optimizer state");
    double *Xb = tdl_malloc(nb * d * sizeof(double), "a minibatch");
    size_t *yb = tdl_malloc(nb * sizeof(size_t), "minibatch labels");
    size_t *perm = tdl_malloc(train->n * sizeof(size_t), "a permutation");
    double *F = tdl_malloc(cap * C * sizeof(double), "outputs");
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    tdl_mlp *tmp = NULL;
    tdl_net_work *wk = NULL;
    if (!buf || !Xb || !yb || !perm || !F || !rng) {
        st = rng ? TDL_ENOMEM : tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
        goto done;
    }
    gsl_rng_set(rng, cfg->seed);
    double *w = buf, *s = buf + P, *eps = buf + 2 * P, *gw = buf + 3 * P, *gs = buf + 4 * P,
           *vw = buf + 5 * P, *vs = buf + 6 * P, *sg = buf + 7 * P;
    double rho = cfg->rho_init, vrho = 0, grho = 0;
    memcpy(w, m->theta, P * sizeof(double));
    for (size_t i = 0; i < P; i++) { s[i] = log(cfg->sigma_init); sg[i] = cfg->sigma_init; vw[i] = vs[i] = 0; }
    if ((st = tdl_mlp_clone(m, &tmp)) != TDL_OK) goto done;
    if ((st = tdl_net_work_alloc(m, cap, &wk)) != TDL_OK) goto done;
    for (size_t i = 0; i < train->n; i++) perm[i] = i;
    const double rho_max = 0.5 * (log(cfg->c) - 1 / cfg->b);   /* keeps j >= 1 */
    size_t drop = cfg->lr_drop_epoch ? cfg->lr_drop_epoch : (cfg->epochs * 3) / 4;
    double J = NAN, surr = NAN, kl = NAN;
    for (size_t ep = 0; ep < cfg->epochs; ep++) {
        double lr = ep >= drop ? 0.1 * cfg->lr : cfg->lr, Jsum = 0, Ssum = 0;
        size_t steps = 0;
        gsl_ran_shuffle(rng, perm, train->n, sizeof(size_t));
        for (size_t r0 = 0; r0 + nb <= train->n; r0 += nb) {
            for (size_t i = 0; i < nb; i++) {
                memcpy(Xb + i * d, train->X->data + perm[r0 + i] * train->X->tda, d * sizeof(double));
                yb[i] = train->labels[perm[r0 + i]];
            }
            tdl_batch bt = {.n = nb, .X = Xb, .ldx = d, .labels = yb};
            for (size_t i = 0; i < P; i++) eps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
            if ((st = dr_objective(m, tmp, wk, loss, &bt, w, s, sg, rho, eps, mt, cfg, &J, gw, gs, &grho, &surr, &kl)) != TDL_OK)
                goto done;
            rmsprop(w, gw, vw, P, lr);
            rmsprop(s, gs, vs, P, lr);
            for (size_t i = 0; i < P; i++) sg[i] = exp(s[i]);
            rmsprop(&rho, &grho, &vrho, 1, lr);
            if (rho > rho_max) rho = rho_max;  /* lambda <= c e^{-1/b}: DR's code gives NaN for j < 0 */
            Jsum += J;
            Ssum += surr;
            steps++;
        }
        if (cfg->callback) {
            tdl_dr_progress pr = {.epoch = ep + 1, .epochs = cfg->epochs, .objective = Jsum / (double)steps,
                                  .surrogate = Ssum / (double)steps, .kl = kl, .lambda = exp(2 * rho), .phase = 0};
            if (cfg->callback(&pr, cfg->user)) { st = tdl_fail(TDL_EINTR, "Dziugaite-Roy: interrupted"); goto done; }
        }
        out->objective = Jsum / (double)steps;
    }
    /* certificate */
    out->w = tdl_malloc(P * sizeof(double), "the posterior mean");
    out->s2 = tdl_malloc(P * sizeof(double), "the posterior variances");
    if (!out->w || !out->s2) { st = TDL_ENOMEM; goto done; }
    memcpy(out->w, w, P * sizeof(double));
    double msig = 0;
    for (size_t i = 0; i < P; i++) { out->s2[i] = exp(2 * s[i]); msig += exp(s[i]); }
    out->mean_sigma = msig / (double)P;
    double e_n;
    if ((st = tdl_snn_error_local(m, loss, train, out->w, out->s2, cfg->mc_samples, cfg->seed + 1, &e_n)) != TDL_OK)
        goto done;
    out->snn_train_error = e_n;
    /* N = m passes independent draws (a fresh net per example and pass) */
    out->snn_train_bound = tdl_pb_mc(e_n, train->n * cfg->mc_samples, cfg->delta_prime);
    /* DR Sec. 5: round j = b ln(c / lambda) down and up, keep the smaller bound */
    double jc = cfg->b * (log(cfg->c) - 2 * rho);
    out->bound = INFINITY;
    for (int k = 0; k < 2; k++) {
        double j = k == 0 ? floor(jc) : ceil(jc);
        if (j < 1) continue;
        double lam = cfg->c * exp(-j / cfg->b);
        double klj = tdl_kl_diag_gauss(out->w, out->s2, m->theta0, lam, P);
        double Bj = klj + log(M_PI * M_PI * mt / (6 * cfg->delta)) + 2 * log(j);
        double bj;
        if ((st = tdl_kl_inv(out->snn_train_bound, Bj / (mt - 1), &bj)) != TDL_OK) goto done;
        if (bj < out->bound) {
            out->bound = bj;
            out->kl = klj;
            out->lambda = lam;
            out->j = j;
            out->B = Bj;
        }
    }
    out->samples = cfg->mc_samples;
    out->epochs = cfg->epochs;
    out->confidence = 1 - cfg->delta - cfg->delta_prime;
    st = TDL_OK;
done:
    if (st != TDL_OK) tdl_dr_result_free(out);
    free(buf);
    free(Xb);
    free(yb);
    free(perm);
    free(F);
    gsl_rng_free(rng);
    tdl_net_work_free(&wk);
    tdl_mlp_free(&tmp);
    return st;
}
