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
 */
#ifndef TDL_TRAIN_H
#define TDL_TRAIN_H
#include "tdl/export.h"

#include <stddef.h>
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
    double loss;           /* full training loss at this point (mean) */
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
    unsigned long seed;    /* minibatch order */
    tdl_train_callback callback;
    void *user;
} tdl_train_config;

typedef struct tdl_train_result {
    size_t epochs, steps;
    double loss, accuracy; /* final full training loss and accuracy */
    int reached_target;
} tdl_train_result;

/* Defaults: ce, sgd, lr 0.1, momentum 0, adam (0.9, 0.999, 1e-8),
 * no decay, constant, 10 epochs, batch 128, eval each epoch, seed 0. */
TDL_API void tdl_train_config_default(tdl_train_config *cfg);
TDL_API int tdl_optimizer_parse(const char *text, tdl_optimizer *out);
TDL_API const char *tdl_optimizer_name(tdl_optimizer opt);
TDL_API int tdl_schedule_parse(const char *text, tdl_schedule *out);
TDL_API const char *tdl_schedule_name(tdl_schedule s);

/* Train m on ds in place.  On divergence (a non-finite loss or parameter)
 * returns TDL_EDIVERGED and leaves in m->theta the parameters of the last
 * evaluation whose loss was finite (the last good checkpoint). */
TDL_API int tdl_train(tdl_mlp *m, const tdl_dataset *ds, const tdl_train_config *cfg,
                      tdl_train_result *result);

#ifdef __cplusplus
}
#endif
#endif
