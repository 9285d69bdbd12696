/* tdl/sharpness.h — the sharpness (top Hessian eigenvalues) along training.
 *
 * The sharpness of a net at theta is the largest eigenvalue lambda_1 of the
 * Hessian of the training loss (Cohen, Kaur, Li, Kolter, Talwalkar,
 * "Gradient descent on neural networks typically occurs at the edge of
 * stability", ICLR 2021, Sec. 2).  For full-batch gradient descent at step
 * size eta, the quadratic model of the loss is stable iff lambda_1 <= 2/eta
 * (ibid., Sec. 2: on a quadratic, GD diverges along any eigenvector whose
 * eigenvalue exceeds 2/eta).  With heavy-ball momentum beta (torch's SGD:
 * b = beta b + g, theta -= eta b) the quadratic's recursion
 * x+ = (1 + beta - eta lambda) x - beta x- is stable iff eta lambda <
 * 2 (1 + beta) (Jury's criterion), so the threshold is 2 (1 + beta) / eta;
 * Adam has no fixed threshold in lambda_1 (its preconditioned Hessian is
 * what matters).
 *
 * The tracker measures the top k eigenvalues of the Hessian of the loss
 * tdl_train minimizes (the mean loss over ds, or the model's loss
 * convention: tdl/hessian.h), with respect to ALL of theta, at the net's
 * CURRENT parameters: it keeps a pointer to m and reads m->theta at each
 * measurement, so it can be called from a tdl_train_callback.  Each
 * measurement is one Lanczos run (tdl_lanczos_from, TDL_WHICH_LARGEST, with
 * Ritz vectors) warm-started from the sum of the previous measurement's k
 * Ritz vectors (plus a small seeded random component, so that no
 * eigenvector is ever exactly missing from the start); the first
 * measurement starts from a seeded random vector.  Each product is one exact
 * Hessian-vector product (Pearlmutter's R-operator: ~ 2-4 passes of the
 * data through the net).
 *
 * The error bound of each value is tdl_lanczos_result.error_bounds (tdl/
 * spectral.h, "Error bounds"): the smaller of the residual bound
 * ||H v - theta v||_2 + rounding (a true residual, one extra product per
 * pair: some eigenvalue lies within it; Parlett, The Symmetric Eigenvalue
 * Problem, Thm 4.5.1) and the gap bound ||r||^2 / gap (Parlett Thm 11.7.1).
 * That the eigenvalue within the bound of values[j] is the (j+1)-th largest
 * rests on Lanczos having found the top of the spectrum: it does from any
 * start with a component along the top eigenvectors (the random component
 * of the warm start guarantees one), unless an eigenvalue is missed by
 * rounding, which the tracker does not probe for (no
 * TDL_LANCZOS_MULTIPLICITY: it would double the cost of each measurement).
 */
#ifndef TDL_SHARPNESS_H
#define TDL_SHARPNESS_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_sharpness_tracker tdl_sharpness_tracker;

/* One measurement.  values[j] is the (j+1)-th largest eigenvalue
 * (DESCENDING: values[0] is the sharpness lambda_1). */
typedef struct tdl_sharpness {
    size_t k;
    double values[16];      /* k, descending */
    double bounds[16];      /* k: error_bounds of tdl_lanczos_result (above) */
    size_t matvecs;         /* Hessian-vector products of this measurement */
    int converged;          /* 1 if every pair met the tolerance */
} tdl_sharpness;

#define TDL_SHARPNESS_MAX_K 16

/* k: 1 .. min(TDL_SHARPNESS_MAX_K, P) eigenvalues; tol: Lanczos relative
 * tolerance (0: 1e-8); seed: the first start vector and the random
 * component of later starts.  m and ds must outlive the tracker.
 * TDL_EINVAL (k out of range, loss and data do not fit the net),
 * TDL_ENOMEM, TDL_ETOOBIG. */
TDL_API int tdl_sharpness_tracker_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t k,
                                         double tol, unsigned long seed, tdl_sharpness_tracker **out);
/* Measure at m's current theta; *out filled on TDL_OK.  Returns the status
 * of tdl_lanczos_from (TDL_ENONFINITE for a non-finite product ...). */
TDL_API int tdl_sharpness_measure(tdl_sharpness_tracker *t, tdl_sharpness *out);
/* Hessian-vector products over all measurements. */
TDL_API size_t tdl_sharpness_tracker_products(const tdl_sharpness_tracker *t);
/* NULL-safe; sets *t to NULL. */
TDL_API void tdl_sharpness_tracker_free(tdl_sharpness_tracker **t);

#ifdef __cplusplus
}
#endif
#endif
