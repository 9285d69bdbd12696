/* tdl/landscape.h — loss-landscape slices, interpolation, mode connectivity.
 *
 * Every slice evaluates the training loss under the model's convention (tdl/net.h;
 * the mean by default) and the accuracy at parameter vectors that are affine
 * combinations of K <= 3 "basis" vectors of length P (file order,
 * tdl/model.h):
 *
 *     theta(cell) = sum_k c_k(cell) B_k
 *
 *   2D plane (Li et al. 2018)      B = (theta*, d1, d2),  c = (1, x, y)
 *   1D direction                   B = (theta*, d),       c = (1, x)
 *   interpolation (Goodfellow et   B = (theta_A, theta_B), c = (1 - a, a):
 *     al. 2015, eq. 1)             a = 0 and a = 1 give the two models
 *                                  EXACTLY (no rounding in 0 * v + 1 * w)
 *   quadratic Bezier curve         B = (w1, bend, w2),
 *     (Garipov et al. 2018, eq. 3)  c = ((1-t)^2, 2t(1-t), t^2)
 *   polygonal chain (eq. 2)        c = (1-2t, 2t, 0) for t <= 1/2,
 *                                      (0, 2-2t, 2t-1) for t > 1/2
 *
 * Evaluation (tdl_landscape_eval): the first layer's pre-activations are
 * linear in theta, so X W0(cell)^T = sum_k c_k (X W0_k^T): the K products
 * X W0_k^T are computed once per block of examples (dgemm) and every cell
 * combines them at a cost of K n h instead of 2 n d h flops; the remaining
 * layers run the usual forward pass with the cell's parameters.  Cells are
 * independent and evaluated in parallel (OpenMP threads, BLAS single-
 * threaded inside them); results do not depend on the thread count.
 *
 * Directions (Li et al. 2018, sec. 4): Gaussian entries from GSL's mt19937,
 * then normalized per filter (each row r of each weight matrix: d_r <-
 * d_r ||w_r|| / (||d_r|| + 1e-10)), per layer (d_l <- d_l ||W_l||_F /
 * (||d_l||_F + 1e-10)) or not at all.  Biases are either zeroed in the
 * direction (TDL_BIAS_IGNORE, Li et al.'s "biasbn") or normalized with their
 * unit: the bias b_r joins row r (filter) or the layer's vector (layer).
 */
#ifndef TDL_LANDSCAPE_H
#define TDL_LANDSCAPE_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/names.h"
#include "tdl/net.h"
#include "tdl/tensor.h"
#include "tdl/stats.h" /* tdl_linspace, declared here before */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_dir_norm { TDL_NORM_FILTER, TDL_NORM_LAYER, TDL_NORM_NONE } tdl_dir_norm;
typedef enum tdl_bias_mode { TDL_BIAS_IGNORE, TDL_BIAS_NORMALIZE } tdl_bias_mode;

/* The plane of a 2D slice: two random directions, the top two Hessian
 * eigenvectors, the plane through three models, or the top two principal
 * components of a training trajectory. */
typedef enum tdl_plane_kind { TDL_PLANE_RANDOM, TDL_PLANE_HESSIAN, TDL_PLANE_MODELS, TDL_PLANE_PCA } tdl_plane_kind;

/* Name tables (tdl/names.h): "filter" "layer" "none"; "ignore" "normalize";
 * "random" "hessian" "models" "pca"; "line" "bezier" "chain" (below). */
TDL_API extern const tdl_name tdl_dir_norm_names[];
TDL_API extern const tdl_name tdl_bias_mode_names[];
TDL_API extern const tdl_name tdl_plane_names[];
TDL_API int tdl_dir_norm_parse(const char *text, tdl_dir_norm *out);
TDL_API const char *tdl_dir_norm_name(tdl_dir_norm n);

/* Rescale d (P) in place relative to the parameters theta (P) of m's
 * structure, as described above.  TDL_BIAS_IGNORE zeroes bias entries even
 * with TDL_NORM_NONE. */
TDL_API void tdl_direction_normalize(const tdl_mlp *m, const double *theta, tdl_dir_norm norm,
                                     tdl_bias_mode bias, double *d);

/* A seeded Gaussian direction (P) normalized relative to m->theta. */
TDL_API int tdl_direction_random(const tdl_mlp *m, unsigned long seed, tdl_dir_norm norm,
                                 tdl_bias_mode bias, double *d);

/* <a, b> / (||a|| ||b||); NaN if either is zero. */
TDL_API double tdl_direction_cosine(const double *a, const double *b, size_t P);

/* The top two (largest algebraic) eigenvectors of the Hessian of the mean
 * loss by Lanczos on exact Hessian-vector products (tdl/spectral.h):
 * v1 (top) and v2 (second), unit norm, sign fixed so that the entry of
 * largest magnitude is positive; values[0] >= values[1]; residuals
 * ||H v - lambda v|| (may be NULL). */
TDL_API int tdl_direction_hessian(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                  unsigned long seed, double *v1, double *v2, double values[2],
                                  double residuals[2]);

/* PCA plane of a trajectory (Li et al. 2018, sec. 7): rows of T (K x P,
 * snapshots) minus the centre theta_c (P) form M; the principal components
 * of M (rows centred by their mean, as sklearn.decomposition.PCA) give
 * v1, v2 (unit, orthogonal, sign: largest-magnitude entry positive) and the
 * explained-variance ratios ratio[0..1] (of the total variance); coords
 * (K x 2, may be NULL) are the projections M_i . v_j of the uncentred rows,
 * so theta_c sits at (0, 0).  Needs K >= 3 and a trajectory spanning at
 * least two dimensions (TDL_EINVAL otherwise). */
TDL_API int tdl_direction_pca(const double *T, size_t K, size_t P, const double *theta_c,
                              double *v1, double *v2, double ratio[2], double *coords);

/* Loss and accuracy at ncells parameter vectors theta(cell) = sum_k
 * coef[cell K + k] basis[k] (K in 1..3; every coefficient and basis entry
 * finite, else TDL_ENONFINITE), for the cells with todo[cell] != 0
 * (todo NULL: all).  loss_out[cell] = mean loss over ds; acc_out[cell] =
 * accuracy (NaN for regression); acc_out may be NULL.  Cells not evaluated
 * are left untouched.  threads 0: OpenMP's default.  m gives the structure
 * (m->theta is not used). */
TDL_API int tdl_landscape_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                               size_t K, const double *const *basis, size_t ncells,
                               const double *coef, const unsigned char *todo, size_t threads,
                               double *loss_out, double *acc_out);

/* ---- arrays read back from files (a saved grid, stored directions) ------- */

/* Whether tensor t read from `file` has exactly the shape (ndim, shape) and,
 * when finite is set, only finite values.  TDL_ESHAPE ("FILE: 'loss' has
 * shape (5, 5), expected (25,)") or TDL_ENONFINITE ("FILE: 'direction_x'
 * value 3 is NaN ..."); TDL_OK otherwise. */
TDL_API int tdl_landscape_check_array(const char *file, const tdl_tensor *t, size_t ndim, const size_t *shape,
                                      int finite);
/* TDL_ENONFINITE naming file, name and the first non-finite value of v (n). */
TDL_API int tdl_landscape_check_vector(const char *file, const char *name, const double *v, size_t n);

/* Memory for a grid of nx x ny cells (ny = 1: a 1D grid of nx points) at
 * per_cell bytes a cell plus its nx + ny coordinates, against
 * tdl_memory_available() (tdl_memory_require): TDL_ETOOBIG before
 * allocating, "a NY x NX grid needs X GB (B bytes a cell) but Y GB are
 * available". */
TDL_API int tdl_landscape_grid_memory_check(size_t nx, size_t ny, size_t per_cell);

/* (tdl_linspace: tdl/stats.h, included above.) */

/* ---- mode connectivity (Garipov et al. 2018) ---------------------------- */

typedef enum tdl_curve_kind { TDL_CURVE_LINE, TDL_CURVE_BEZIER, TDL_CURVE_CHAIN } tdl_curve_kind;

TDL_API extern const tdl_name tdl_curve_names[];
TDL_API int tdl_curve_parse(const char *text, tdl_curve_kind *out);
TDL_API const char *tdl_curve_name(tdl_curve_kind k);

/* Coefficients (c_w1, c_bend, c_w2) of the curve at t in [0, 1]. */
TDL_API void tdl_curve_coef(tdl_curve_kind kind, double t, double c[3]);

typedef struct tdl_curve_config {
    size_t epochs;        /* passes over the data (default 30) */
    size_t batch;         /* minibatch size, 0 = full batch (default 128) */
    double lr;            /* SGD learning rate (default 0.05) */
    double momentum;      /* heavy ball, torch.optim.SGD convention (default 0.9) */
    unsigned long seed;   /* minibatch order and the t samples (default 0) */
} tdl_curve_config;

TDL_API void tdl_curve_config_default(tdl_curve_config *cfg);

/* Train the bend of a Bezier curve or chain between w1 and w2 (P each):
 * each step draws t ~ U(0, 1) and a minibatch, and moves the bend along
 * -c_bend(t) grad L(phi(t)) (the bend's gradient; Garipov et al. sec. 3.2).
 * bend (P) is the starting point on entry (the midpoint (w1 + w2)/2 is the
 * usual choice) and the trained bend on return.  *final_loss (may be NULL):
 * mean over the last epoch's minibatch losses. */
TDL_API int tdl_curve_train(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                            tdl_curve_kind kind, const double *w1, const double *w2,
                            const tdl_curve_config *cfg, double *bend, double *final_loss);

/* Loss (and accuracy, may be NULL) at n points t (n >= 2) evenly spaced in
 * [0, 1] along the curve (bend ignored for TDL_CURVE_LINE), and the barrier
 * max_t L(phi(t)) - (L(w1) + L(w2)) / 2. */
TDL_API int tdl_curve_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                           tdl_curve_kind kind, const double *w1, const double *bend,
                           const double *w2, size_t n, size_t threads, double *t,
                           double *loss_out, double *acc_out, double *barrier);

#ifdef __cplusplus
}
#endif
#endif
