/* tdl/certify.h — PAC-Bayes risk certificates with data-dependent priors
 * (Perez-Ortiz, Rivasplata, Shawe-Taylor and Szepesvari 2021, "Tighter risk
 * certificates for neural networks", JMLR 22(227); below "PBB"), and the
 * data-free Dziugaite-Roy (2017) path (tdl/bounds.h) under the same ledger.
 *
 * The recipe (tdl_certify), for a net m (its architecture and initial
 * parameters) and labelled training data S:
 *   1. split S, stratified by class and seeded, into a prior part S_p
 *      (prior_fraction of each class, rounded) and a bound part S_b
 *      (m_bound examples, disjoint from S_p);
 *   2. train m on S_p by SGD with momentum (the prior's mean w_p); choose
 *      the prior scale s_p on S_p only (or take prior_sigma): the largest
 *      s in {0.1, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005} whose stochastic net
 *      N(w_p, s^2 I) errs on S_p at most prior_sigma_tol more than w_p does;
 *      the prior is P = N(w_p, s_p^2 I) (Laplace: prod Lap(w_p,i, s_p));
 *   3. start the posterior at the prior, Q = N(mu, diag sigma^2), sigma =
 *      softplus(rho) (Laplace: prod Lap(mu_i, b_i), b = softplus(rho)), and
 *      train (mu, rho) on S_b by SGD with momentum on the chosen objective,
 *      one sampled net per minibatch (reparametrization).  The loss is PBB's
 *      bounded cross-entropy: min(l, ln(1/p_min)) / ln(1/p_min), l the
 *      cross-entropy (C >= 2 outputs) or the logistic loss (one output),
 *      i.e. PBB's log-softmax clamped at ln p_min; its gradient is zero
 *      where it is clamped.  With B = (KL + ln(2 sqrt(m)/delta)) / m,
 *      m = m_bound, and L^ the bounded loss of the batch (PBB bounds.py):
 *        fquad     (sqrt(L^ + B/2) + sqrt(B/2))^2           (PBB eq. (15))
 *        flambda   L^/(1 - l/2) + B/(l (1 - l/2)), l in (0, 1] at its
 *                  closed-form optimum each step (Thiemann et al. 2017)
 *        fclassic  L^ + sqrt(B/2)                           (PBB eq. (14))
 *        pinsker   L^ + sqrt(m B / (2 (m - 1)))   (Dziugaite-Roy eq. (8) form)
 *   4. certify the 0-1 error of the stochastic classifier Q (not the mean
 *      net) on S_b only:
 *        e_n    = Monte Carlo 0-1 error of Q on S_b over N draws
 *        e_mc   = kl^-1(e_n, ln(2/delta_mc) / N)           (Langford-Caruana 2001)
 *        cert   = kl^-1(e_mc, (KL(Q||P) + ln(2 sqrt(m_bound)/delta)) / m_bound)
 *                                  (Langford-Seeger 2001 / Maurer 2004, m >= 8)
 *      which holds with probability >= 1 - delta - delta_mc over S_b and the
 *      Monte Carlo draws, because P depends on S_p only.  Gaussian Q: N =
 *      m_bound x mc, a fresh net per example and pass (exact local
 *      reparametrization, tdl_snn_error_local).  Laplace Q (a sum of
 *      Laplace variables is not Laplace, so no local reparametrization):
 *      N = mc nets, each evaluated on all of S_b; the mc per-net errors are
 *      independent in [0, 1] with mean L^(Q), which the kl-Chernoff bound
 *      (Maurer 2004) covers.
 * prior_fraction = 0 is Dziugaite and Roy's data-free path: the net is
 * trained on all of S (the posterior's start), the prior is centred at the
 * initialization with its variance on DR's grid (union bound paid), and
 * tdl_dr_optimize certifies (objectives fquad -> DR quad, pinsker -> DR
 * pinsker; the others are refused).
 *
 * KL in closed form:
 *   Gaussian  KL = 1/2 sum_i [ (sigma_i^2 + (mu_i - w_i)^2)/s_p^2 - 1 + ln(s_p^2/sigma_i^2) ]
 *   Laplace   KL = sum_i [ ln(s_p/b_i) + |d_i|/s_p + (b_i/s_p) exp(-|d_i|/b_i) - 1 ],
 *             d_i = mu_i - w_i (the KL of two Laplace laws, e.g. Gil, Alajaji
 *             and Linder 2013, Table 3; checked by quadrature in the tests).
 */
#ifndef TDL_CERTIFY_H
#define TDL_CERTIFY_H
#include "tdl/export.h"
#include <stddef.h>
#include "tdl/bounds.h"
#include "tdl/names.h"
#include "tdl/net.h"
#include "tdl/train.h"
#ifdef __cplusplus
extern "C" {
#endif

/* The theorem the certificate is, one line, for outputs. */
TDL_API extern const char tdl_certify_theorem[];

typedef enum tdl_cert_objective {
    TDL_CERT_FQUAD = 0,
    TDL_CERT_FLAMBDA = 1,
    TDL_CERT_FCLASSIC = 2,
    TDL_CERT_PINSKER = 3
} tdl_cert_objective;
/* "fquad", "flambda" (alias "flamb"), "fclassic", "pinsker" (tdl/names.h). */
TDL_API extern const tdl_name tdl_cert_objective_names[];

typedef enum tdl_posterior_kind { TDL_POSTERIOR_GAUSSIAN = 0, TDL_POSTERIOR_LAPLACE = 1 } tdl_posterior_kind;
/* "gaussian", "laplace". */
TDL_API extern const tdl_name tdl_posterior_names[];

typedef struct tdl_certify_progress {
    int phase;             /* 0 prior training, 1 prior scale, 2 posterior, 3 certificate */
    size_t done, total;    /* epochs (phases 0, 2), grid points (1), passes or nets (3) */
    double loss;           /* phase 0: training loss; 2: mean bounded loss; 3: running MC error */
    double objective, kl;  /* phase 2 (NaN otherwise) */
} tdl_certify_progress;
/* Non-zero return stops the run (TDL_EINTR). */
typedef int (*tdl_certify_callback)(const tdl_certify_progress *p, void *user);

typedef struct tdl_certify_config {
    double prior_fraction;     /* share of each class in the prior part (0.5); 0: data-free (DR) */
    tdl_cert_objective objective; /* fquad */
    tdl_posterior_kind posterior; /* gaussian */
    size_t prior_epochs;       /* SGD epochs of the prior net (20) */
    double prior_lr;           /* 0.005 (PBB) */
    double prior_momentum;     /* 0.99 (PBB's running example) */
    size_t epochs;             /* posterior epochs (20) */
    double lr;                 /* posterior SGD learning rate (0.001, PBB) */
    double momentum;           /* 0.95 (PBB) */
    size_t batch;              /* 250 (PBB) */
    double prior_sigma;        /* prior scale s_p; NaN: chosen on the prior part (default) */
    double prior_sigma_tol;    /* the choice's tolerance on the prior part's error (0.01) */
    double pmin;               /* bounded cross-entropy floor (1e-5, PBB's running example) */
    size_t mc;                 /* certificate's Monte Carlo: passes (Gaussian) or nets (Laplace) (100) */
    double delta;              /* PAC-Bayes confidence (0.025, PBB) */
    double delta_mc;           /* Monte Carlo confidence (0.01, PBB) */
    unsigned long seed;        /* split, minibatches, noise */
    int leak;                  /* 1: train the prior on ALL of S (bound part included): the
                                  certificate is then NOT a theorem's (the theorem check's
                                  --broken mode).  0 (default) */
    tdl_certify_callback callback;
    void *user;
} tdl_certify_config;

TDL_API void tdl_certify_config_default(tdl_certify_config *cfg);

typedef struct tdl_certify_result {
    int data_free;             /* 1: prior_fraction 0, the Dziugaite-Roy path */
    size_t m_prior, m_bound, n_params;
    double prior_sigma;        /* s_p (data-free: sqrt of DR's lambda) */
    double prior_sigma_chosen; /* 1 chosen on the prior part, 0 given */
    double prior_net_bound_error; /* 0-1 error of the prior mean net on S_b (NaN data-free) */
    double mean_net_bound_error;  /* 0-1 error of the posterior mean net on S_b */
    double kl;                 /* KL(Q || P) */
    double mc_error;           /* e_n */
    double mc_draws;           /* N */
    double mc_bound;           /* e_mc = kl^-1(e_n, ln(2/delta_mc)/N) */
    double kl_rhs;             /* the PAC-Bayes kl^-1's right-hand side (DR: B / (m - 1)) */
    double complexity;         /* its numerator: KL + ln(2 sqrt(m)/delta) (DR: B) */
    double certificate;        /* kl^-1(mc_bound, kl_rhs) */
    double confidence;         /* 1 - delta - delta_mc */
    double objective_value;    /* the objective's mean over the last epoch */
    double dr_lambda, dr_j;    /* data-free path: prior variance and grid index (NaN otherwise) */
    double seconds_prior, seconds_posterior, seconds_certificate;
    double *prior_mean;        /* P, owned */
    double *mu, *scale;        /* posterior means and scales (sigma or b), P each, owned */
} tdl_certify_result;

/* Run steps 1-4 on the net m: its architecture and its initial parameters
 * m->theta0 (the data-free prior's mean; the data-dependent path trains the
 * prior net from them, never from m->theta, so that a model already trained
 * on S can be passed without leaking S into the prior; a model without
 * theta0 is refused), with loss ce (C >= 2 outputs) or logistic (one output).
 * m is not modified.  TDL_EINVAL for a bad configuration or loss, fewer
 * than 8 bound examples, an empty prior part. */
TDL_API int tdl_certify(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *train,
                        const tdl_certify_config *cfg, tdl_certify_result *out);
TDL_API void tdl_certify_result_free(tdl_certify_result *r);

/* The stratified seeded split of step 1: *prior gets round(fraction n_c)
 * examples of each class c, *bound the rest, both in the data's order.
 * fraction in [0, 1); with fraction 0 *prior is NULL. */
TDL_API int tdl_certify_split(const tdl_dataset *ds, double fraction, unsigned long seed, tdl_dataset **prior,
                              tdl_dataset **bound);

/* The training configuration of the prior net (step 2; data-free path: the
 * net trained on all of S): SGD, lr prior_lr, momentum prior_momentum,
 * batch, prior_epochs, seed. */
TDL_API void tdl_certify_prior_train_config(const tdl_certify_config *cfg, tdl_loss_kind loss,
                                            tdl_train_config *out);

/* Held-out estimates for r on data ds: the stochastic net's mean 0-1 error
 * over `draws` (Gaussian: passes with a fresh net per example, N = n passes
 * Bernoulli draws; Laplace: nets, each on all of ds; *n_draws gets N) and
 * the posterior mean net's 0-1 error.  Either output may be NULL. */
TDL_API int tdl_certify_test(const tdl_mlp *m, tdl_loss_kind loss, const tdl_certify_result *r,
                             tdl_posterior_kind posterior, const tdl_dataset *ds, size_t draws, unsigned long seed,
                             double *stochastic_error, double *n_draws, double *mean_net_error);

/* The certificate as one row of the bounds table (kind bound, Gibbs
 * classifier, delta = delta + delta_mc), terms mc_empirical + mc_gap +
 * kl_inverse_gap = certificate; *out allocated (free()). */
TDL_API int tdl_certify_measure(const tdl_certify_result *r, const tdl_certify_config *cfg, double chance,
                                tdl_measure **out);

/* The training objective J(L^, KL) of step 3 for m bound examples, and its
 * partial derivatives dJ/dL^ and dJ/dKL (flambda: at the optimal lambda). */
TDL_API void tdl_certify_objective(tdl_cert_objective o, double emp, double kl, double m, double delta, double *J,
                                   double *dJ_demp, double *dJ_dkl);

/* KL( prod Lap(mu_i, b_i) || prod Lap(mu0_i, b0) ), closed form above. */
TDL_API double tdl_kl_diag_laplace(const double *mu, const double *b, const double *mu0, double b0, size_t P);

#ifdef __cplusplus
}
#endif
#endif
