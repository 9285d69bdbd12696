/* tdl/net.h — losses and exact derivatives of an MLP (tdl/model.h).
 *
 * Shape legend:  n examples in a batch, d = n_0 inputs, C = n_L outputs,
 * P = m->n_params.  X is n x d row-major; outputs F are n x C.
 *
 * Every loss is, by default, the MEAN over the examples of the whole data set
 * (other conventions, PyTorch's among them: "loss conventions" below):
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

/* ---- loss conventions ------------------------------------------------------
 *
 * The per-example losses l_i above are tdl's.  A loss convention says how
 * they make the loss L of a batch of n examples with C outputs:
 *   reduction  mean (default)  L = (1/n) sum_i l_i   (PyTorch reduction='mean')
 *              sum             L = sum_i l_i         (PyTorch reduction='sum')
 *   mse        tdl (default)   l_i = 1/2 ||f_i - t_i||^2, mean over the n examples
 *              torch           l_i = ||f_i - t_i||^2 (no 1/2), mean over the n C
 *                              entries (PyTorch's nn.MSELoss)
 * Every convention is a constant factor on tdl's sum of per-example losses,
 *     L = tdl_loss_scale(conv, loss, n, C) * sum_i l_i:
 *                         mean          sum
 *     mse, tdl            1 / n         1
 *     mse, torch          2 / (n C)     2
 *     ce, logistic, hinge 1 / n         1      (the mse convention does not apply)
 * hence the same factor on the gradient, the Hessian-vector product, the
 * Hessian and its Gauss-Newton part and their eigenvalues.  In minibatch
 * training n is the batch's size (PyTorch's loss of a batch).
 * PyTorch's equivalents, float64, reduction R:
 *   nn.MSELoss(reduction=R)            mse, torch, R (targets: one-hot rows for
 *                                      class labels with C > 1, the 0/1 label
 *                                      for one output, Y for regression)
 *   nn.CrossEntropyLoss(reduction=R)   ce, R (integer class targets)
 *   nn.BCEWithLogitsLoss(reduction=R)  logistic, R (float 0/1 targets: tdl's
 *                                      log(1 + exp(-s f)), s = 2y - 1, is
 *                                      -[y log sigma(f) + (1-y) log(1 - sigma(f))])
 *   hinge has none (nn.MultiMarginLoss sums over j != y and divides by C;
 *   tdl's is the Crammer-Singer max).
 *
 * The convention belongs to the model: tdl_mlp_set_loss_convention stores it
 * in the model's metadata ("loss_reduction": mean|sum, "mse_convention":
 * tdl|torch), so it is saved with the model and read back from a model file;
 * absent entries mean the defaults.  tdl_mlp_loss_grad, tdl_mlp_hvp,
 * tdl_mlp_evaluate, tdl_hessian_dense, the Hessian operator, tdl_train and
 * the landscape all apply the model's convention; tdl_mlp_batch_grad takes
 * its scale from the caller (tdl_mlp_loss_scale gives it). */
typedef enum tdl_reduction { TDL_REDUCTION_MEAN, TDL_REDUCTION_SUM } tdl_reduction;
typedef enum tdl_mse_convention { TDL_MSE_TDL, TDL_MSE_TORCH } tdl_mse_convention;
typedef struct tdl_loss_convention {
    tdl_reduction reduction;
    tdl_mse_convention mse;
} tdl_loss_convention;
/* "mean", "sum"; "tdl", "torch" (tdl/names.h). */
TDL_API extern const tdl_name tdl_reduction_names[];
TDL_API extern const tdl_name tdl_mse_convention_names[];

/* Defaults: mean, tdl. */
TDL_API void tdl_loss_convention_default(tdl_loss_convention *c);
/* The factor on sum_i l_i for a batch of n examples with C outputs (table above). */
TDL_API double tdl_loss_scale(const tdl_loss_convention *c, tdl_loss_kind loss, size_t n, size_t C);
/* The model's convention (its metadata; the defaults when absent).
 * TDL_EFORMAT for a metadata value that names none. */
TDL_API int tdl_mlp_loss_convention(const tdl_mlp *m, tdl_loss_convention *out);
/* Store a convention in the model's metadata (TDL_EINVAL for an unknown value). */
TDL_API int tdl_mlp_set_loss_convention(tdl_mlp *m, const tdl_loss_convention *c);
/* The same by names (either may be NULL: unchanged), for bindings. */
TDL_API int tdl_mlp_set_loss_convention_names(tdl_mlp *m, const char *reduction, const char *mse);
/* The model's convention by name ("mean" / "sum", "tdl" / "torch"), and
 * tdl_loss_convention_describe with it, for bindings.  TDL_EFORMAT as
 * tdl_mlp_loss_convention. */
TDL_API int tdl_mlp_loss_convention_names(const tdl_mlp *m, const char **reduction, const char **mse);
TDL_API int tdl_mlp_loss_describe(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len);
/* tdl_loss_scale with the model's convention and output count. */
TDL_API int tdl_mlp_loss_scale(const tdl_mlp *m, tdl_loss_kind loss, size_t n, double *scale);
/* The loss L as a formula with its PyTorch equivalent, e.g.
 * "(1/(n C)) sum_i ||f_i - y_i||^2 = torch nn.MSELoss(reduction='mean')". */
TDL_API void tdl_loss_convention_describe(tdl_loss_kind loss, const tdl_loss_convention *c, char *buf,
                                          size_t len);

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

/* The loss over a whole data set (the mean, or the model's convention) and
 * its gradient, by blocks of the work's capacity.  grad (P) is overwritten;
 * may be NULL. */
TDL_API int tdl_mlp_loss_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                              tdl_net_work *w, double *loss_out, double *grad);

/* Hessian-vector product Hv = H v of the loss over ds (the mean, or the
 * model's convention; exact, by the R-operator).  With gauss_newton set, the Gauss-Newton part G v instead. */
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
    double loss;          /* the loss (mean, or the model's convention) */
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
