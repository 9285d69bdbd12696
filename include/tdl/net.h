/* tdl/net.h — losses and exact derivatives of an MLP (tdl/model.h).
 *
 * Shape legend:  n examples in a batch, d = n_0 inputs, C = n_L outputs,
 * P = m->n_params.  X is n x d row-major; outputs F are n x C.
 *
 * Every loss is the MEAN over the examples of the whole data set:
 *   mse      l = 1/2 ||f - t||^2, t one-hot for class labels (C > 1), the 0/1
 *            label for a one-output net on binary labels, Y for regression
 *   ce       l = logsumexp(f) - f_y                      (C > 1 outputs)
 *   logistic l = log(1 + exp(-s f)), s = 2y - 1          (one output, 2 classes)
 *   hinge    l = max(0, 1 + max_{j != y} f_j - f_y)      (Crammer-Singer; one
 *            output: max(0, 1 - s f))
 *
 * Derivatives (all exact, double precision):
 *   gradient            backprop                                   O(P n)
 *   Hessian-vector      Pearlmutter's R-operator on the cached forward pass
 *   Gauss-Newton-vector J^T H_l J v (forward R-op, loss Hessian, backprop)
 *   Jacobian            df_c(x_i)/dtheta, rows i*C + c, by blocks of examples
 * Frozen layers (trainable = 0) still get their true partial derivatives;
 * optimizers skip them.
 */
#ifndef TDL_NET_H
#define TDL_NET_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/model.h"
#include "tdl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_loss_kind { TDL_LOSS_MSE, TDL_LOSS_CE, TDL_LOSS_LOGISTIC, TDL_LOSS_HINGE } tdl_loss_kind;

TDL_API int tdl_loss_parse(const char *text, tdl_loss_kind *out);
TDL_API const char *tdl_loss_name(tdl_loss_kind loss);
/* "mse", "ce" (alias "cross-entropy"), "logistic", "hinge" (tdl/names.h). */
TDL_API extern const tdl_name tdl_loss_names[];

/* Can this loss train a net with C outputs on this data?  TDL_OK, or
 * TDL_ESHAPE / TDL_EINVAL with a message saying what does not fit. */
TDL_API int tdl_loss_check(tdl_loss_kind loss, const tdl_mlp *m, const tdl_dataset *ds);

/* The loss a command uses when none is given: the model's "loss" metadata,
 * else mse for regression, logistic for one output, ce otherwise; then
 * checked against the data (tdl_loss_check).  text (may be NULL) wins. */
TDL_API int tdl_mlp_default_loss(const tdl_mlp *m, const tdl_dataset *ds, const char *text,
                                 tdl_loss_kind *out);

/* A batch of examples: X (n x d, row stride ldx) and either labels or
 * regression targets Y (n x k, row stride ldy). */
typedef struct tdl_batch {
    size_t n;
    const double *X;
    size_t ldx;
    const size_t *labels;     /* classification, or NULL */
    const double *Y;          /* regression, or NULL */
    size_t ldy;
} tdl_batch;

/* Rows [row0, row0 + n) of a data set as a batch (no copy). */
TDL_API tdl_batch tdl_batch_rows(const tdl_dataset *ds, size_t row0, size_t n);

/* Scratch memory for batches of up to `cap` examples.  Opaque. */
typedef struct tdl_net_work tdl_net_work;
TDL_API int tdl_net_work_alloc(const tdl_mlp *m, size_t cap, tdl_net_work **out);
TDL_API void tdl_net_work_free(tdl_net_work **w);
TDL_API size_t tdl_net_work_cap(const tdl_net_work *w);

/* Forward pass; outputs F (n x C, row-major) into `out` when not NULL.
 * The pass is cached in w for the derivative calls below. */
TDL_API int tdl_mlp_forward(const tdl_mlp *m, const tdl_batch *b, tdl_net_work *w, double *out);

/* The outputs of the net on every example of a data set: F (n x C,
 * row-major, C = the last layer's width) into out.  Runs in blocks with
 * its own scratch memory. */
TDL_API int tdl_mlp_predict(const tdl_mlp *m, const tdl_dataset *ds, double *out);

/* Post-activations of hidden layer `layer` (0-based, < depth - 1) of m on
 * the rows of X: T (n x n_{layer+1}, row-major) allocated by the caller. */
TDL_API int tdl_mlp_hidden(const tdl_mlp *m, const gsl_matrix *X, size_t layer, double *T);

/* Loss and gradient of one batch, scaled: loss += scale * sum_i l_i and
 * grad += scale * sum_i dl_i/dtheta (scale = 1/N for the mean over a data
 * set of N examples).  grad may be NULL (loss only).  Runs the forward pass. */
TDL_API int tdl_mlp_batch_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b,
                               double scale, tdl_net_work *w, double *loss_acc, double *grad);

/* Mean loss and its gradient over a whole data set, by blocks of the
 * work's capacity.  grad (P) is overwritten; may be NULL. */
TDL_API int tdl_mlp_loss_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                              tdl_net_work *w, double *loss_out, double *grad);

/* Hessian-vector product Hv = H v of the mean loss over ds (exact, by the
 * R-operator).  With gauss_newton set, the Gauss-Newton part G v instead. */
TDL_API int tdl_mlp_hvp(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                        const double *v, int gauss_newton, tdl_net_work *w, double *Hv);

/* Jacobian of the outputs for examples [row0, row0 + n) of ds: J is
 * (n C) x P row-major, row i*C + c = d f_c(x_{row0+i}) / d theta.
 * n must be at most the work's capacity. */
TDL_API int tdl_mlp_jacobian(const tdl_mlp *m, const tdl_dataset *ds, size_t row0, size_t n,
                             tdl_net_work *w, double *J);

/* Examples per Jacobian block that keep the block within budget bytes. */
TDL_API size_t tdl_jacobian_block_rows(const tdl_mlp *m, size_t budget_bytes);

/* Evaluation of a model on a data set. */
typedef struct tdl_eval_stats {
    size_t n;
    double loss;          /* mean loss */
    double error;         /* 0-1 error (classification; NaN for regression) */
    double accuracy;      /* 1 - error */
    double *margins;      /* n margins f_y - max_{j!=y} f_j (owned; NULL for regression) */
} tdl_eval_stats;

TDL_API int tdl_mlp_evaluate(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                             tdl_net_work *w, tdl_eval_stats *out);
TDL_API void tdl_eval_stats_free(tdl_eval_stats *s);

/* Predicted class of one output row (argmax, or the threshold for C = 1). */
TDL_API size_t tdl_predict_class(tdl_loss_kind loss, size_t C, const double *f);

#ifdef __cplusplus
}
#endif
#endif
