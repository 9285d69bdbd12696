/* tdl/bounds.h — complexity measures, generalization bounds, PAC-Bayes.
 *
 * Conventions (every number below):
 *   m        training examples; delta confidence; gamma margin, the chosen
 *            percentile of the training margins f(x)_y - max_{j != y} f(x)_j
 *            (one-output nets: s f(x), s = 2y - 1), NumPy's linear percentile.
 *   W_i      EFFECTIVE weights of layer i (w_scale W, so NTK-parametrized nets
 *            are measured by the function they compute), out x in.
 *   biases   folded in exactly: the input gets a constant 1 column and every
 *            hidden layer a constant unit (row e_last, phi(1) = 1), so that the
 *            bias-free theorems apply to the same function (valid for relu,
 *            identity, leaky-relu and abrelu:A,1; other activations with
 *            biases leave those measures out, with the reason).
 *   L_gamma  ramp loss at margin gamma (1 below 0, 1 - t/gamma on (0, gamma),
 *            0 above): the empirical margin loss of the Rademacher bounds.
 *   Rademacher margin bound (Mohri et al. 2018, Thm 9.2 / Bartlett-Mendelson):
 *            err <= L_gamma + 2 Rad / gamma + 3 sqrt(ln(2/delta) / (2m)) for
 *            C <= 2 (C = 2 through f_1 - f_0), 4C Rad_1 / gamma for C >= 3.
 *            Evaluated at the trained net's norms and a data-chosen gamma
 *            without a union bound over scales, it is a measure (kind
 *            "measure", its value kept as fixed_scale_value), not a bound.
 * Each measure carries its source (paper, theorem or equation) in its row,
 * and its ledger: kind, classifier, terms, hypotheses (issue 15).
 */
#ifndef TDL_BOUNDS_H
#define TDL_BOUNDS_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/names.h"
#include "tdl/net.h"
#include "tdl/stats.h" /* sort and percentile, declared here before */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- norms of a row-major rows x cols matrix (rows = units) ---- */
TDL_API double tdl_norm_fro(const double *W, size_t rows, size_t cols);
/* Largest singular value by LAPACKE_dgesdd (values only). */
TDL_API int tdl_norm_spectral(const double *W, size_t rows, size_t cols, double *out);
/* (sum_rows (sum_cols |w|^p)^(q/p))^(1/q); p, q >= 1, q may be INFINITY. */
TDL_API double tdl_norm_pq(const double *W, size_t rows, size_t cols, double p, double q);
/* l_p path norm (p >= 1): (sum over input-output paths of prod |theta|^p)^(1/p),
 * biases as paths from a constant input (Neyshabur et al. 2015; "Fantastic" (44)
 * for p = 2 is its square); effective weights. */
TDL_API int tdl_path_norm(const tdl_mlp *m, double p, double *out);

/* ---- PAC-Bayes ---- */
/* kl(q || p) of Bernoulli laws, with the limits at q in {0, 1} and
 * +infinity for p in {0, 1} where q differs. */
TDL_API double tdl_kl_bernoulli(double q, double p);
/* kl^{-1}(q, c) = sup { p in [q, 1] : kl(q || p) <= c }: Newton from the
 * Pinsker point (iterates decrease to the root from above, so a truncated run
 * is still an upper bound), bisection fallback; exact at q = 0
 * (1 - exp(-c)), q = 1 (1) and c = 0 (q). */
TDL_API int tdl_kl_inv(double q, double c, double *out);
/* KL( N(mu, diag s2) || N(mu0, lambda I) ) for P coordinates. */
TDL_API double tdl_kl_diag_gauss(const double *mu, const double *s2, const double *mu0,
                                 double lambda, size_t P);
/* McAllester (1999, Thm 1): L^ + sqrt((KL + ln(1/delta) + ln m + 2) / (2m - 1)). */
TDL_API double tdl_pb_mcallester(double emp, double kl, double m, double delta);
/* Langford-Seeger / Maurer (2004, m >= 8): kl^{-1}(L^, (KL + ln(2 sqrt m / delta)) / m). */
TDL_API double tdl_pb_kl(double emp, double kl, double m, double delta);
/* Pinsker relaxation L^ + sqrt(B/2), B = (KL + ln(2 sqrt m/delta))/m, and
 * "quad" (sqrt(L^ + B/2) + sqrt(B/2))^2 (Perez-Ortiz et al. 2021). */
TDL_API double tdl_pb_pinsker(double emp, double kl, double m, double delta);
TDL_API double tdl_pb_quad(double emp, double kl, double m, double delta);
/* Thiemann et al. (2017, Thm 3), at the optimal lambda (valid for all lambda
 * simultaneously, so the optimum costs nothing). */
TDL_API double tdl_pb_lambda(double emp, double kl, double m, double delta);
/* Catoni (2007, Thm 1.2.6): (1 - exp(-c L^ - (KL + ln(1/delta))/m)) / (1 - exp(-c)). */
TDL_API double tdl_pb_catoni(double emp, double kl, double m, double delta, double c);
/* Best Catoni bound over c = 2^{k/2}, k = -8..8, with delta / 17 each (union bound). */
TDL_API double tdl_pb_catoni_grid(double emp, double kl, double m, double delta);
/* Monte Carlo step (Langford and Caruana 2001): with prob >= 1 - delta',
 * L^(Q) <= kl^{-1}(mean of n sampled nets' empirical errors, ln(2/delta')/n). */
TDL_API double tdl_pb_mc(double emp_n, size_t n, double delta_prime);

/* ---- the table of measures ---- */
/* The ledger of a row (issue 15): a row is a "bound" only if it is a
 * theorem's bound at its stated total confidence for a stated classifier with
 * every data-dependent quantity paid for; everything else is a "measure". */
typedef enum tdl_measure_kind { TDL_MEASURE_KIND_MEASURE = 0, TDL_MEASURE_KIND_BOUND = 1 } tdl_measure_kind;
/* "measure", "bound" (tdl/names.h). */
TDL_API extern const tdl_name tdl_measure_kind_names[];
typedef enum tdl_classifier_kind {
    TDL_CLASSIFIER_NONE = 0,           /* measures: no classifier is bounded */
    TDL_CLASSIFIER_DETERMINISTIC = 1,  /* the trained net */
    TDL_CLASSIFIER_GIBBS = 2           /* the stochastic net Q (PAC-Bayes) */
} tdl_classifier_kind;
/* "none", "deterministic", "gibbs". */
TDL_API extern const tdl_name tdl_classifier_names[];

#define TDL_MEASURE_MAX_TERMS 6
#define TDL_MEASURE_MAX_HYPS 6
typedef struct tdl_measure_term {
    char name[24];
    double value;
} tdl_measure_term;
typedef struct tdl_measure_hyp {
    char text[96];             /* the hypothesis, e.g. "depth 2" */
    int holds;                 /* 1 holds / paid, 0 does not, -1 an assumption tdl cannot check */
    char why[160];             /* why, for this model */
} tdl_measure_hyp;

typedef struct tdl_measure {
    char name[48];
    double value;         /* the measure (NaN when left out) */
    double bound;         /* bound on the test error, NaN when none (every measure) */
    int vacuous;          /* bound >= 1 */
    int available;        /* 0: left out, `note` says why */
    double delta;         /* TOTAL confidence of the bound, all internal splits included (NaN when none) */
    char source[320];     /* paper, theorem / equation */
    char note[200];       /* what was assumed or why it is left out */
    /* the ledger */
    tdl_measure_kind kind;
    tdl_classifier_kind classifier;
    double fixed_scale_value;  /* measures from a bound's formula at data-chosen scales: that formula's
                                  value (NaN when none) */
    int below_chance;          /* bounds: bound < chance; -1 for measures */
    char bound_reason[200];    /* measures: why there is no bound */
    size_t n_terms;            /* bounds: terms adding up to `bound` (within 1e-12) */
    tdl_measure_term terms[TDL_MEASURE_MAX_TERMS];
    size_t n_hyps;             /* the theorem's hypotheses and whether they hold */
    tdl_measure_hyp hyps[TDL_MEASURE_MAX_HYPS];
} tdl_measure;

/* The error of guessing uniformly among C classes, 1 - 1/C (0.5 for binary;
 * NaN for C < 2): the "chance" a bound must beat to say something. */
TDL_API double tdl_bounds_chance(size_t classes);
/* Every row name tdl_bounds_compute may produce, and "dziugaite_roy" (values
 * are indices), for `tdl bounds --explain NAME`. */
TDL_API extern const tdl_name tdl_bounds_row_names[];

typedef struct tdl_bounds_config {
    double delta;              /* default 0.05 */
    double margin_percentile;  /* default 10 ("Fantastic"; Neyshabur's code uses 5) */
    int flatness;              /* run the sigma' and sharpness searches (default 1) */
    size_t flat_steps;         /* bisection steps (15) */
    size_t flat_samples;       /* Monte Carlo nets per step (10) */
    double flat_target;        /* accuracy drop sought (0.1) */
    size_t sharp_ascent_steps; /* projected-gradient-ascent steps per bisection step of the sharpness search (10; 0: the
                                  one-step linearized vertex only) */
    size_t mc_samples;         /* nets for the PAC-Bayes Monte Carlo step (100) */
    unsigned long seed;
    int ntk;                   /* Arora et al.'s NTK complexity (two-layer relu, default 1) */
} tdl_bounds_config;

TDL_API void tdl_bounds_config_default(tdl_bounds_config *cfg);

/* All measures of model m on its training data; *out (count entries) is
 * allocated and owned by the caller (free()).  train_error receives the
 * 0-1 training error. */
TDL_API int tdl_bounds_compute(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train,
                               const tdl_bounds_config *cfg, tdl_measure **out, size_t *count,
                               double *train_error);

/* The gamma-percentile margin and the ramp loss L_gamma (exposed for tests). */
TDL_API int tdl_margin_stats(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                             double percentile, double *gamma, double *ramp, double *error);
/* The distribution of the training margins: quantiles 0, 25, 50, 75, 100
 * (min, q1, median, q3, max; NumPy's linear percentiles) and the mean (may
 * be NULL).  TDL_EINVAL without class labels. */
TDL_API int tdl_margin_distribution(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double quantiles[5],
                                    double *mean);

/* Largest sigma in [0, 2] (bisection, `steps` steps) such that the mean
 * training accuracy of theta + N(0, sigma^2 I) over `samples` draws drops by
 * at most `target` (Jiang et al. 2020, Sec. 4, PAC-Bayes flatness). */
TDL_API int tdl_flatness_sigma(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                               size_t steps, size_t samples, double target, unsigned long seed,
                               double *sigma);

/* Largest alpha in [0, 2] (bisection, `steps` steps) such that the worst
 * case found in the box |v_i| <= alpha (|w_i| + 1e-3) costs at most `target`
 * training accuracy (Jiang et al. 2020's magnitude-aware sharpness; the
 * sharpness measure is 1/alpha^2).  The worst case: from the vertex of the
 * loss gradient's signs, `ascent_steps` steps of projected gradient ascent on
 * the training loss (sign steps of half the box), keeping the lowest
 * accuracy seen; ascent_steps = 0 is the one-step linearized estimate. */
TDL_API int tdl_sharpness_alpha(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t steps,
                                size_t ascent_steps, double target, double *alpha);

/* ---- Dziugaite and Roy (2017): an optimized Gaussian posterior ---- */
typedef struct tdl_dr_progress {
    size_t epoch, epochs;
    double objective, surrogate, kl, lambda;
    int phase;                 /* 0 optimizing, 1 Monte Carlo certificate */
    size_t samples_done, samples;
} tdl_dr_progress;
typedef int (*tdl_dr_callback)(const tdl_dr_progress *p, void *user);

typedef enum tdl_dr_objective_kind {
    TDL_DR_PINSKER,            /* DR eq. (8): surr + sqrt(B / (2(m-1))) */
    TDL_DR_QUAD                /* (sqrt(surr + B/(2(m-1))) + sqrt(B/(2(m-1))))^2 (Perez-Ortiz et al. 2021) */
} tdl_dr_objective_kind;
/* "pinsker", "quad" (tdl/names.h). */
TDL_API extern const tdl_name tdl_dr_objective_names[];

typedef struct tdl_dr_config {
    tdl_dr_objective_kind objective; /* default TDL_DR_QUAD */
    size_t epochs;             /* default 200 */
    size_t batch;              /* default 100 */
    double lr;                 /* RMSProp learning rate, default 3e-4 */
    size_t lr_drop_epoch;      /* x0.1 from this epoch on (default epochs / 4 * 3) */
    double sigma_init;         /* initial posterior std: sigma_i = sigma_init (default 0.05)... */
    double rho_init;           /* ... and prior std sqrt(lambda) = exp(rho_init) (default ln 0.05) */
    double b, c;               /* prior-variance grid lambda = c exp(-j/b) (100, 0.1) */
    double delta;              /* 0.025 */
    double delta_prime;        /* Monte Carlo step, 0.01 */
    size_t mc_samples;         /* passes of the certificate's Monte Carlo step, a fresh
                                  net per example and pass (default 1000) */
    unsigned long seed;
    tdl_dr_callback callback;
    void *user;
} tdl_dr_config;

typedef struct tdl_dr_result {
    double bound;              /* final certificate */
    double kl;                 /* KL(Q || P) at the chosen lambda */
    double lambda;             /* prior variance on the grid */
    double j;                  /* grid index (integer) */
    double B;                  /* KL + ln(pi^2 m / (6 delta)) + 2 ln j */
    double snn_train_error;    /* mean 0-1 error of the sampled nets (MC) */
    double snn_train_bound;    /* kl^{-1}(snn_train_error, ln(2/delta')/n) */
    double mean_sigma;         /* mean posterior std */
    double objective;          /* final training objective */
    size_t samples, epochs;
    double confidence;         /* 1 - delta - delta' */
    double *w, *s2;            /* posterior mean and variances (P each), owned */
} tdl_dr_result;

TDL_API void tdl_dr_config_default(tdl_dr_config *cfg);
/* Optimize the posterior of m (prior centred at m->theta0) on train, then
 * certify.  m is not modified. */
TDL_API int tdl_dr_optimize(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train,
                            const tdl_dr_config *cfg, tdl_dr_result *out);
TDL_API void tdl_dr_result_free(tdl_dr_result *r);
/* The Dziugaite-Roy certificate as one row of the table (kind bound, Gibbs
 * classifier, delta = cfg->delta + cfg->delta_prime, its total); *out is
 * allocated (free()).  chance: tdl_bounds_chance of the labels. */
TDL_API int tdl_dr_measure(const tdl_dr_result *r, const tdl_dr_config *cfg, double chance, tdl_measure **out);
/* Mean 0-1 error on ds of `n` nets theta ~ N(w, diag s2) (the stochastic
 * net); errors (n values) may be NULL. */
TDL_API int tdl_snn_error(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                          const double *w, const double *s2, size_t n, unsigned long seed,
                          double *mean_error, double *errors);

/* The same with a fresh net for EVERY example (exact local reparametrization:
 * the pre-activations of one example are independent Gaussians given the
 * previous layer), `passes` passes over ds: the mean of n * passes independent
 * Bernoulli draws with expectation L^(Q).  The Dziugaite-Roy certificate uses
 * it with N = m * mc_samples in its Monte Carlo step. */
TDL_API int tdl_snn_error_local(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                const double *w, const double *s2, size_t passes, unsigned long seed,
                                double *mean_error);

/* Gradients of the Dziugaite-Roy objective for ONE noise draw eps (P) on
 * a batch (exposed for the finite-difference test):
 *   J = surrogate(w + exp(s) eps) + sqrt(B / (2(m - 1)))   (or the quad form),
 *   surrogate = mean loss / ln 2 over the batch, B as above with lambda = exp(2 rho).
 * Writes J and its gradients gw, gs (P each), grho. */
TDL_API int tdl_dr_objective(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b,
                             const double *w, const double *s, double rho, const double *eps,
                             double m_train, const tdl_dr_config *cfg, double *J,
                             double *gw, double *gs, double *grho);

/* (tdl_sort_doubles and tdl_percentile_sorted: tdl/stats.h, included above.) */

#ifdef __cplusplus
}
#endif
#endif
