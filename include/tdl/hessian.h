/* tdl/hessian.h — the exact dense Hessian of the training loss, its
 * Gauss-Newton split and per-layer blocks.
 *
 * The Hessian is that of the MEAN loss over the data set with respect to the
 * flat parameter vector theta in file order (tdl/model.h), split as
 *     H = G + R,   G = (1/n) sum_i J_i^T H_l,i J_i          (Gauss-Newton)
 *                  R = (1/n) sum_i sum_c (dl/df_c)_i d2 f_c(x_i) / dtheta2
 * (Schraudolph 2002; Sagun et al. 2017; Papyan 2019).  G is PSD for convex
 * losses (mse, ce, logistic).
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
#include "tdl/net.h"
#include "tdl/memory.h"
#include "tdl/linalg.h" /* tdl_sym_eigen_*, declared here before */

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter range of layer l in theta: [*off, *off + *len) covers W_l then b_l. */
TDL_API void tdl_layer_range(const tdl_mlp *m, size_t l, size_t *off, size_t *len);

/* Dense Hessian H and/or Gauss-Newton part G (either may be NULL) of the
 * block of parameters [off, off + len) (off = 0, len = P for the whole net;
 * a layer range from tdl_layer_range for a per-layer block).  H and G are
 * len x len row-major. */
TDL_API int tdl_hessian_dense(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                              size_t off, size_t len, double *H, double *G);

/* (Symmetric eigen-solves, tdl_sym_eigen_solve / tdl_sym_eigen_free: tdl/linalg.h,
 * included above.) */

#ifdef __cplusplus
}
#endif
#endif
