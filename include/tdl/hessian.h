/* tdl/hessian.h — the exact dense Hessian of the training loss, its
 * Gauss-Newton split and per-layer blocks.
 *
 * The Hessian is that of the MEAN loss over the data set with respect to the
 * flat parameter vector theta in file order (tdl/model.h), split as
 *     H = G + R,   G = (1/n) sum_i J_i^T H_l,i J_i          (Gauss-Newton)
 *                  R = (1/n) sum_i sum_c (dl/df_c)_i d2 f_c(x_i) / dtheta2
 * (Schraudolph 2002; Sagun et al. 2017; Papyan 2019).  G is PSD for convex
 * losses (mse, ce, logistic).  Under another loss convention of the model
 * (tdl/net.h: reduction sum, PyTorch's mse) 1/n is that convention's
 * factor, so H, G and R scale by it.
 *
 * Assembly: for a linear model and a one-hidden-layer net the blocks come
 * from closed forms evaluated with BLAS-3 calls over blocks of examples
 * (hessian.c explains them); deeper nets are assembled column by column from
 * exact Hessian-vector products (tdl_mlp_hvp).  All matrices are P x P,
 * row-major, with both triangles filled.
 */
#ifndef TDL_HESSIAN_H
#define TDL_HESSIAN_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/names.h"
#include "tdl/net.h"
#include "tdl/memory.h"
#include "tdl/linalg.h" /* tdl_sym_eigen_*, declared here before */

#ifdef __cplusplus
extern "C" {
#endif

/* How a Hessian spectrum is computed (the CLI's --method):
 *   TDL_HESSIAN_EXACT    the dense matrix (tdl_hessian_dense) and LAPACK
 *                        (tdl_sym_eigen_solve): every eigenvalue, or an index range
 *   TDL_HESSIAN_LANCZOS  extreme eigenpairs from the operator below (tdl_lanczos)
 *   TDL_HESSIAN_SLQ      the spectral density by stochastic Lanczos quadrature (tdl_slq)
 * Names "exact", "lanczos", "slq" (tdl/names.h). */
typedef enum tdl_hessian_method { TDL_HESSIAN_EXACT, TDL_HESSIAN_LANCZOS, TDL_HESSIAN_SLQ } tdl_hessian_method;
TDL_API extern const tdl_name tdl_hessian_method_names[];

/* Parameter range of layer l in theta: [*off, *off + *len) covers W_l then b_l. */
TDL_API void tdl_layer_range(const tdl_mlp *m, size_t l, size_t *off, size_t *len);

/* Dense Hessian H and/or Gauss-Newton part G (either may be NULL) of the
 * block of parameters [off, off + len) (off = 0, len = P for the whole net;
 * a layer range from tdl_layer_range for a per-layer block).  H and G are
 * len x len row-major. */
TDL_API int tdl_hessian_dense(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                              size_t off, size_t len, double *H, double *G);

/* Entries H[rows[a], cols[b]] (a < nr, b < nc) of the dense Hessian of the
 * loss over ds — the matrix of tdl_hessian_dense (off = 0, len = P): the
 * mean loss or the model's loss convention, parameter indices 0..P-1 of
 * theta — into H column-major: H[a + b * ld], ld >= nr (ScaLAPACK's local
 * layout: rows = the global indices of a rank's local rows, cols = of its
 * local columns, ld = its local row count).  G (may be NULL; so may H) gets
 * the Gauss-Newton part's entries the same way.  Indices may come in any
 * order and repeat; entries of H and G outside the nr x nc block (rows
 * nr..ld-1) are not touched.
 *
 * Depth <= 2 (a linear model or one hidden layer): the closed forms of
 * tdl_hessian_dense (hessian.c) restricted to what is asked.  The entries
 * of a pair of units (hidden units, outputs) are sum_i w_i F_i[j] F_i[k]
 * with one weight per example (M = B^T L B, L or B^T L: G = J^T H_l J per
 * unit, Sagun et al. 2017, Papyan 2019) and F the unit's inputs (x~, or the
 * hidden activations a~), plus the residual R = H - G of hessian.c; pairs
 * that need the same features share one dgemm over the examples (BLAS-3),
 * and a pair on one layer takes the symmetric products F_j F_k (j <= k), or
 * one rectangle read transposed for its mirror block, when cheaper than its
 * two rectangles (hessian_entries.c).  Cost: at most about 2 n flops per
 * requested entry, about 2 n per distinct value when a rank holds whole
 * units and both mirrored entries (the dense assembly's count: a 1 x 2
 * block-cyclic share with nb = 64 of digits 64-64-10 costs 3/4 of
 * tdl_hessian_dense, the full set as much), plus O(n (h C^2 + d h)) per pass
 * over the examples.  Memory beside H and G: O(nr + nc + unit pairs) for the
 * index work, at most 64 MB of accumulators a pass (more passes repeat the
 * forward pass) and 32 MB for a block of examples.  Entries equal
 * tdl_hessian_dense's within a few (n + P) eps max|H| (other summation
 * orders; H and G are not symmetrized: mirrored entries on one call agree
 * when read from one number, otherwise within rounding).
 *
 * Deeper nets: exact Hessian-vector products (tdl_mlp_hvp) with the unit
 * vector of each distinct index of the side (rows or columns) with fewer of
 * them, O(n P) each; not symmetrized (tdl_hessian_dense averages mirrored
 * entries), so equal to it within rounding.
 *
 * Threads: the library's OpenMP threads (tdl_set_threads) split each big
 * dgemm and run small ones side by side; OpenBLAS runs single-threaded
 * inside them (its thread count is set to 1 during the call and restored).
 * Errors: TDL_EINVAL (an index >= P, a NULL index list
 * with a count, the loss does not fit the net and data: tdl_loss_check),
 * TDL_ESHAPE (ld < nr; the data's width), TDL_ENONFINITE (a
 * non-finite example loss, e.g. NaN in the data, as tdl_hessian_dense),
 * TDL_ETOOBIG (tdl_memory_require refuses the temporaries), TDL_ENOMEM. */
TDL_API int tdl_hessian_entries(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                const size_t *rows, size_t nr, const size_t *cols, size_t nc,
                                double *H, double *G, size_t ld);

/* ---- the Hessian and Gauss-Newton operators --------------------------------
 *
 * The Hessian H (or its Gauss-Newton part G) of the mean loss over ds as a
 * matrix-free operator for tdl/spectral.h: tdl_hessian_operator_apply has
 * the signature of tdl_matvec_fn, with the operator as its context:
 *
 *     tdl_hessian_operator *op;
 *     tdl_hessian_operator_create(m, loss, ds, 0, &op);
 *     tdl_lanczos(tdl_hessian_operator_apply, op, tdl_hessian_operator_dim(op), ...);
 *     tdl_hessian_operator_free(&op);
 *
 * Each product is one exact Hessian-vector product (tdl_mlp_hvp: Pearlmutter's
 * R-operator over blocks of at most 2048 examples), so the operator is
 * symmetric up to rounding.  The operator keeps pointers to m and ds (they
 * must outlive it and not change) and owns its scratch memory; it is not
 * thread-safe (one operator per thread). */
typedef struct tdl_hessian_operator tdl_hessian_operator;

/* gauss_newton != 0: G instead of H.  TDL_EINVAL (loss and data do not fit
 * the net), TDL_ENOMEM. */
TDL_API int tdl_hessian_operator_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                        int gauss_newton, tdl_hessian_operator **op);
/* Restrict to the diagonal block [off, off + len) of theta (a layer range
 * from tdl_layer_range): the operator then has order len.  TDL_EINVAL for a
 * block outside theta, TDL_ENOMEM. */
TDL_API int tdl_hessian_operator_set_block(tdl_hessian_operator *op, size_t off, size_t len);
/* Switch between H (0) and G (1) without a new operator. */
TDL_API void tdl_hessian_operator_set_gauss_newton(tdl_hessian_operator *op, int gauss_newton);
/* Order of the operator (P, or the block's length). */
TDL_API size_t tdl_hessian_operator_dim(const tdl_hessian_operator *op);
/* Products computed so far. */
TDL_API size_t tdl_hessian_operator_products(const tdl_hessian_operator *op);
/* y = H x (or G x), x and y of length dim; a tdl_matvec_fn (ctx: the operator). */
TDL_API int tdl_hessian_operator_apply(const double *x, double *y, void *op);
/* NULL-safe; sets *op to NULL. */
TDL_API void tdl_hessian_operator_free(tdl_hessian_operator **op);

/* (Symmetric eigen-solves, tdl_sym_eigen_solve / tdl_sym_eigen_free: tdl/linalg.h,
 * included above.) */

#ifdef __cplusplus
}
#endif
#endif
