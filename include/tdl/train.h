/* tdl/train.h — reproducible training of an MLP.
 *
 * Optimizers follow PyTorch's update rules (torch.optim, v1.13), so that a
 * run can be compared with a PyTorch script step for step:
 *   gd        full-batch gradient descent            theta -= lr g
 *   sgd       minibatch SGD, optional momentum mu:    b = mu b + g; theta -= lr b
 *   nesterov  as sgd with Nesterov momentum:          b = mu b + g; theta -= lr (g + mu b)
 *   adam      Kingma and Ba 2015, bias-corrected (beta1, beta2, eps)
 * Weight decay is coupled L2 (g += wd theta), as torch.optim.SGD / Adam.
 * Learning-rate schedules: constant; step (lr gamma^floor(epoch / every));
 * cosine (lr (1 + cos(pi t / T)) / 2 over the T steps of the run).
 * Minibatches: a seeded shuffle each epoch; the last, smaller batch is kept.
 * With one thread the run is bit-for-bit reproducible.
 * The loss is the model's loss convention (tdl/net.h; the mean of tdl's
 * per-example losses by default): under reduction sum or PyTorch's mse the
 * loss of a minibatch, hence its gradient and the step, is that of
 * torch's loss on the same batch, and every loss below (progress, L_0,
 * L_zero, the target) is in that convention.
 *
 * Divergence.  Training stops as diverged (tdl_train returns TDL_EDIVERGED,
 * result->stopped = TDL_STOP_DIVERGED) when
 *   (a) a loss, gradient or parameter becomes NaN or infinite, at any step; or
 *   (b) the full training loss exceeds diverge_factor x L_ref, where
 *       L_ref = max(L_0, L_zero): L_0 is the loss of the initial parameters,
 *       L_zero the loss of the zero predictor f = 0 on the same data (log C
 *       for ce, log 2 for logistic, 1 for hinge, mean 1/2 ||y||^2 for mse).
 *       Checked at every full evaluation (eval_every) and, for full-batch
 *       runs, at every step (the step's loss is then the full loss).
 * Why (b) and why 1e3: a step size beyond 2 / lambda_max grows the loss
 * geometrically, by orders of magnitude in a few steps, and may never
 * overflow (digits, 64-8-10, lr 1e6: 2.5 -> 1e6 in the first epoch, 1.3e6
 * after three, all finite), while transient spikes of runs that go on to
 * learn (the catapult phase, Lewkowycz et al. 2020; edge-of-stability
 * oscillations, Cohen et al. 2021) stay far lower: over digits, iris and a
 * teacher set at lr 0.1 .. 30 (40 epochs) the runs that learned peaked at
 * <= 5.4 x L_0, and every run that passed 1e3 x L_0 ended at chance-level
 * loss or overflowed.  The zero-predictor loss L_zero
 * keeps the criterion meaningful when training resumes from a near-perfect
 * fit (L_0 ~ 0), where a relative rise from a tiny loss is noise, not
 * divergence.  Minibatch losses are not used for (b): one small batch can
 * exceed the mean by far.  diverge_factor = 0 turns (b) off; (a) is always
 * on (NaN parameters cannot be trained on).
 */
#ifndef TDL_TRAIN_H
#define TDL_TRAIN_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/names.h"
#include "tdl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_optimizer { TDL_OPT_GD, TDL_OPT_SGD, TDL_OPT_NESTEROV, TDL_OPT_ADAM } tdl_optimizer;
typedef enum tdl_schedule { TDL_SCHED_CONSTANT, TDL_SCHED_STEP, TDL_SCHED_COSINE } tdl_schedule;

typedef struct tdl_train_progress {
    size_t epoch;          /* epochs completed (1-based at the end of an epoch) */
    size_t step;           /* parameter updates so far */
    double lr;             /* learning rate of the last step */
    double loss;           /* full training loss at this point (mean, or the model's convention) */
    double accuracy;       /* training accuracy (NaN for regression) */
    double theta_norm;     /* ||theta||_2 */
    double dist_init;      /* ||theta - theta_0||_2 */
    const double *theta;   /* current parameters (n_params) */
} tdl_train_progress;

/* Called after each evaluation; return non-zero to stop training (status
 * TDL_EINTR is then returned). */
typedef int (*tdl_train_callback)(const tdl_train_progress *p, void *user);

typedef struct tdl_train_config {
    tdl_loss_kind loss;
    tdl_optimizer opt;
    double lr;
    double momentum;       /* sgd / nesterov */
    double beta1, beta2, eps; /* adam */
    double weight_decay;
    tdl_schedule schedule;
    size_t step_every;     /* epochs between decays (step schedule) */
    double gamma;          /* decay factor (step schedule) */
    size_t epochs;         /* used when steps == 0 */
    size_t steps;          /* total updates; 0: use epochs */
    size_t batch;          /* 0: full batch */
    double target_loss;    /* stop when train loss <= this (NaN: off) */
    double target_accuracy;/* stop when train accuracy >= this (NaN: off) */
    size_t eval_every;     /* epochs between full evaluations (0: only at the end) */
    double diverge_factor; /* stop as diverged when the training loss exceeds
                              diverge_factor x max(initial loss, zero-predictor
                              loss); 0: off (non-finite values still stop);
                              otherwise >= 1 (default 1e3; see above) */
    unsigned long seed;    /* minibatch order */
    tdl_train_callback callback;
    void *user;
} tdl_train_config;

/* Why training stopped. */
typedef enum tdl_train_stop {
    TDL_STOP_COMPLETED,    /* ran the configured epochs / steps */
    TDL_STOP_TARGET,       /* reached target_loss or target_accuracy */
    TDL_STOP_DIVERGED,     /* the divergence criterion fired (TDL_EDIVERGED) */
    TDL_STOP_INTERRUPTED   /* the callback asked to stop (TDL_EINTR) */
} tdl_train_stop;

typedef struct tdl_train_result {
    size_t epochs, steps;  /* completed epochs and updates (at the stop) */
    double loss, accuracy; /* final full training loss and accuracy; after a
                              divergence those of the last good checkpoint
                              left in m->theta */
    int reached_target;    /* = stopped == TDL_STOP_TARGET */
    tdl_train_stop stopped;
    double initial_loss;   /* L_0: full training loss before the first step */
    double reference_loss; /* L_ref = max(L_0, zero-predictor loss) */
    double diverge_threshold; /* diverge_factor x L_ref; +inf when (b) is off */
    double diverged_loss;  /* the loss that fired the criterion (may be +inf or
                              NaN for (a)); NaN when the run did not diverge */
    int diverged_nonfinite;/* 1: (a) fired (a NaN/inf), 0: (b) or no divergence */
} tdl_train_result;

/* Defaults: ce, sgd, lr 0.1, momentum 0, adam (0.9, 0.999, 1e-8),
 * no decay, constant, 10 epochs, batch 128, eval each epoch, seed 0,
 * diverge_factor 1e3. */
TDL_API void tdl_train_config_default(tdl_train_config *cfg);
/* Name tables (tdl/names.h): "gd" "sgd" "nesterov" "adam" (alias "momentum":
 * sgd); "constant" "step" "cosine"; "completed" "target" "diverged"
 * "interrupted".  The parse / name functions below read them. */
TDL_API extern const tdl_name tdl_optimizer_names[];
TDL_API extern const tdl_name tdl_schedule_names[];
TDL_API extern const tdl_name tdl_train_stop_names[];
TDL_API int tdl_optimizer_parse(const char *text, tdl_optimizer *out);
TDL_API const char *tdl_optimizer_name(tdl_optimizer opt);
TDL_API int tdl_schedule_parse(const char *text, tdl_schedule *out);
TDL_API const char *tdl_schedule_name(tdl_schedule s);
/* "completed", "target", "diverged", "interrupted". */
TDL_API const char *tdl_train_stop_name(tdl_train_stop s);

/* Train m on ds in place; result is filled on TDL_OK, TDL_EDIVERGED and
 * TDL_EINTR.  On divergence (criteria (a) or (b) above) returns
 * TDL_EDIVERGED with a message naming the step, the loss and the learning
 * rate, and leaves in m->theta the parameters of the last evaluation that
 * met neither criterion (the last good checkpoint). */
/* The minibatch size tdl_train uses on n examples: n (full batch) for gd, for
 * batch 0 and for a batch larger than n; cfg->batch otherwise. */
TDL_API size_t tdl_train_batch_size(const tdl_train_config *cfg, size_t n);

TDL_API int tdl_train(tdl_mlp *m, const tdl_dataset *ds, const tdl_train_config *cfg,
                      tdl_train_result *result);

#ifdef __cplusplus
}
#endif
#endif
