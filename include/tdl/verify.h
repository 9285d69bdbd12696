/* tdl/verify.h — compare a user's answer with tdl's exact quantity, and name
 * the convention that slipped (issue 21, `tdl verify`).
 *
 * A student derives a loss, gradient, Hessian, NTK or bound by hand, codes
 * it and wants to know whether the numbers are right and, if not, why.  The
 * caller computes tdl's exact quantity (with the library's public API) and
 * passes it with the answer; tdl_verify_compare measures the agreement and,
 * when the answer does not match, tries the known slips one by one: an
 * answer that equals a TRANSFORMED exact quantity (within the tolerance) is
 * explained by that transformation.
 *
 * The slips tried (tdl_verify_slip; which apply depends on the quantity):
 *   scale factors      n (sum vs mean over examples), 1/n, 2 and 1/2 (the 1/2
 *                      of tdl's mse), C and 1/C (summed vs traced NTK; mean vs
 *                      sum over outputs), 2/C and C/2 (PyTorch's nn.MSELoss),
 *                      the parametrization's sigma_w^2 / fan_in and 1/m,
 *                      1/ln 2 (cross-entropy in bits), -1 (a sign flip), and
 *                      any other constant ratio (reported as "a constant
 *                      factor c" when no named one fits);
 *   parameter order    a weight matrix stored in x out (transposed) or
 *                      column-major, biases before weights, the layers in
 *                      reverse order, no bias parameters at all;
 *   structure          eigenvalues in descending order or unsorted; one
 *                      layer's block of the Hessian instead of the whole;
 *                      integer vs one-hot targets (loss / gradient of the
 *                      mse on a class index).
 * The order in which they are tried and the evidence kept are described in
 * tdl_verify_result.  A slip is reported only when the transformed exact
 * quantity matches the answer at the same tolerance as a pass: an answer with
 * a genuine error of 1e-3 gets no spurious diagnosis.
 */
#ifndef TDL_VERIFY_H
#define TDL_VERIFY_H

#include <stddef.h>
#include "tdl/export.h"
#include "tdl/model.h"
#include "tdl/names.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_verify_quantity {
    TDL_VQ_LOSS,                /* scalar: the loss over the data set */
    TDL_VQ_GRADIENT,            /* P: dL/dtheta (file order, tdl/model.h) */
    TDL_VQ_JACOBIAN,            /* (n C) x P: row i*C + c = d f_c(x_i) / dtheta */
    TDL_VQ_HESSIAN,             /* P x P */
    TDL_VQ_GN,                  /* P x P: the Gauss-Newton part G */
    TDL_VQ_HVP,                 /* P: H v for a given v */
    TDL_VQ_HESSIAN_EIGENVALUES, /* P (or k): ascending */
    TDL_VQ_NTK,                 /* n x n (traced, mean over outputs) or (n C) x (n C) */
    TDL_VQ_NNGP,                /* n x n */
    TDL_VQ_KL_INVERSE,          /* scalar */
    TDL_VQ_BOUND                /* scalar: a row of tdl bounds */
} tdl_verify_quantity;

/* "loss", "gradient", "jacobian", "hessian", "gn", "hvp",
 * "hessian-eigenvalues", "ntk", "nngp", "kl-inverse", "bound". */
TDL_API extern const tdl_name tdl_verify_quantity_names[];

typedef enum tdl_verify_slip {
    TDL_SLIP_NONE = 0,
    TDL_SLIP_SUM_NOT_MEAN,      /* answer = n x exact */
    TDL_SLIP_MEAN_NOT_SUM,      /* answer = exact / n */
    TDL_SLIP_NO_HALF,           /* answer = 2 x exact (mse without the 1/2) */
    TDL_SLIP_EXTRA_HALF,        /* answer = exact / 2 */
    TDL_SLIP_OUTPUTS_SUMMED,    /* answer = C x exact (NTK summed, not traced; sum over outputs) */
    TDL_SLIP_OUTPUTS_AVERAGED,  /* answer = exact / C */
    TDL_SLIP_TORCH_MSE,         /* answer = (2/C) x exact (nn.MSELoss's mean over n C entries, no 1/2) */
    TDL_SLIP_PARAMETRIZATION,   /* answer = exact x a parametrization factor (sigma_w^2/fan_in, 1/m, ...) */
    TDL_SLIP_LOG2,              /* answer = exact / ln 2 (cross-entropy in bits) */
    TDL_SLIP_SIGN,              /* answer = -exact */
    TDL_SLIP_CONSTANT_FACTOR,   /* answer = c x exact for another constant c (reported) */
    TDL_SLIP_TRANSPOSED_WEIGHTS,/* weights stored in x out */
    TDL_SLIP_COLUMN_MAJOR,      /* the whole (non-symmetric) matrix stored column-major, i.e.
                                   its transpose read row by row (a Jacobian as P x nC); a
                                   weight matrix stored column-major inside theta is
                                   TRANSPOSED_WEIGHTS (the same permutation) */
    TDL_SLIP_BIASES_FIRST,      /* each layer's bias before its weight */
    TDL_SLIP_LAYERS_REVERSED,   /* the layers' blocks in reverse order */
    TDL_SLIP_NO_BIASES,         /* the bias parameters left out */
    TDL_SLIP_DESCENDING,        /* eigenvalues sorted descending */
    TDL_SLIP_UNSORTED,          /* eigenvalues in another order (same multiset) */
    TDL_SLIP_ONE_LAYER_BLOCK,   /* one layer's block only (Hessian / G: P_l x P_l; gradient,
                                   H v: P_l entries; Jacobian: its P_l columns); see layer */
    TDL_SLIP_INTEGER_TARGETS    /* mse against the class index instead of one-hot
                                   (needs the caller's alternative, see below) */
} tdl_verify_slip;

/* machine names: "sum_not_mean", "mean_not_sum", "no_half", ... in the
 * order of the enum ("none" first). */
TDL_API extern const tdl_name tdl_verify_slip_names[];

/* What the exact quantity is, for naming entries and trying slips. */
typedef struct tdl_verify_context {
    tdl_verify_quantity quantity;
    const tdl_mlp *m;       /* the model: parameter layout (NULL for kl-inverse, bound) */
    size_t n;               /* examples (0 when none) */
    size_t C;               /* outputs */
    int mse;                /* the loss is tdl's mse (its 1/2 and nn.MSELoss apply) */
    int ce;                 /* the loss is ce / logistic (log base 2 applies) */
    int full_ntk;           /* the NTK is (n C) x (n C) (else traced n x n) */
    /* an alternative exact quantity the caller computed for a slip that is
     * not a transformation of the exact one (integer targets: the loss /
     * gradient of mse on the class index); NULL when none */
    const double *alt_integer_targets;
} tdl_verify_context;

/* A result shape: at most 2 dimensions (a scalar has ndim 0). */
typedef struct tdl_verify_shape {
    size_t ndim;
    size_t dim[2];
} tdl_verify_shape;

/* The order of the slip search (the first transformation T(exact) that the
 * answer matches by the pass rule, max |answer - T| <= tol max(1, max |T|),
 * is reported; one slip at a time, nothing composed):
 *   answer of tdl's shape:
 *     1. named scale factors: n, 1/n (loss-derived quantities), 2, 1/2, C,
 *        1/C, 2/C and C/2 (mse), 1/ln 2 (ce), -1;
 *     2. parametrization factors from the model: per layer sigma_w^2/fan_in,
 *        its inverse, sigma_w/sqrt(fan_in), its inverse, 1/fan_in (1/m),
 *        fan_in, sigma_w^2 and its inverse;
 *     3. parameter orders from the layer layout (weights transposed, biases
 *        first, layers reversed): on the vector (gradient, H v), on rows and
 *        columns (Hessian, G), on the columns (Jacobian); then each order
 *        times one named or parametrization factor of 1-2 (slip: the order;
 *        factor: the factor); then the whole matrix stored column-major;
 *     4. eigenvalues descending, then unsorted (the sorted answer);
 *     5. integer targets (ctx->alt_integer_targets);
 *     6. another constant factor c (the least-squares ratio <a,e>/<e,e>; not
 *        for a scalar, which any ratio would fit);
 *   answer of another shape: the biases left out (the exact restricted to the
 *   weights), one layer's block (each layer tried), the transpose.
 * When none matches, the diagnosis says where |answer - exact|^2 lies: per
 * parameter block W_l / b_l (gradient, H v, Jacobian columns), per pair of
 * blocks (Hessian, G), per example (the worst rows of an NTK / NNGP), then
 * the worst entry with its meaning and both values. */
typedef struct tdl_verify_result {
    int passed;               /* max |answer - exact| <= tol * max(1, max |exact|) */
    int shape_ok;             /* the answer's shape is the exact one's (else only
                                 structural slips that change the shape are tried) */
    double abs_error;         /* max |answer - exact| (NaN when the shapes differ) */
    double rel_error;         /* abs_error / max |exact| (max |exact| = 0: abs_error) */
    double tol;               /* the tolerance used */
    size_t worst;             /* flat index of the worst entry (row-major) */
    double worst_exact, worst_answer;
    char worst_meaning[160];  /* "d^2 L / d W_0[3,1] d b_1[2]" (tdl_verify_entry_name) */
    tdl_verify_slip slip;     /* the slip that explains a failed answer, or NONE */
    double factor;            /* the factor of a scale slip (answer / exact); for a parameter
                                 order found together with a named scale factor (the one
                                 composition tried), that factor; NaN otherwise */
    size_t layer;             /* the layer of TDL_SLIP_ONE_LAYER_BLOCK */
    char diagnosis[512];      /* one or two sentences: "your matrix equals tdl's times
                                 30 = n: did you sum the loss over the examples instead
                                 of averaging?"; when no slip explains it, where the
                                 difference concentrates (blocks / entries); "" on a pass */
} tdl_verify_result;

/* Compare answer (shape ashape) with exact (shape eshape), both row-major,
 * at relative tolerance tol (> 0; 1e-8 is a good default for double
 * precision quantities computed two ways), and diagnose a failure.
 * Returns TDL_OK when the comparison was made (passed or not; see
 * out->passed), TDL_EINVAL for bad arguments (tol <= 0, a non-finite value
 * in exact), with a message; non-finite values in the answer fail it with a
 * diagnosis naming the first one. */
TDL_API int tdl_verify_compare(const tdl_verify_context *ctx, const double *exact, tdl_verify_shape eshape,
                               const double *answer, tdl_verify_shape ashape, double tol, tdl_verify_result *out);

/* The meaning of the entry at flat index `index` of the quantity: for the
 * gradient "dL / d W_0[3,1]", the Hessian "d^2 L / d W_0[3,1] d b_1[2]",
 * the Jacobian "d f_2(x_7) / d W_1[0,4]", the NTK "K(x_3, x_5)" (full: with
 * the outputs), eigenvalues "lambda_12 (ascending)", a scalar its name.
 * Layers are 0-based; W_l[i,j] is row i (output unit), column j (input). */
TDL_API int tdl_verify_entry_name(const tdl_verify_context *ctx, size_t index, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
