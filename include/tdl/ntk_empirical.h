/* tdl/ntk_empirical.h — the empirical neural tangent kernel of a finite net
 * at its current parameters, and its drift from initialization.
 *
 * Shape legend: n examples (rows of X, n x d), C outputs, P parameters.
 * Gram matrices are row-major with both triangles filled; the caller
 * allocates them (gsl_matrix).
 *
 * Convention (stated in every CLI output):
 *   empirical NTK   Theta(x, x') = J(x) J(x')^T, J = df/dtheta over ALL
 *                   parameters in file order (frozen layers included; a
 *                   subset of layers through tdl_ntk_config.layers).
 *                   "full": the (nC x nC) matrix, row i*C + c; "trace": sum
 *                   over outputs divided by C (a MEAN, as neural-tangents;
 *                   the torch.func tutorial sums: tdl_ntk_config.outputs
 *                   = TDL_NTK_OUTPUTS_SUM gives it).
 */
#ifndef TDL_NTK_EMPIRICAL_H
#define TDL_NTK_EMPIRICAL_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include "tdl/model.h"
#include "tdl/names.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_ntk_method {
    TDL_NTK_AUTO,        /* structured for depth <= 2, Jacobian blocks otherwise */
    TDL_NTK_STRUCTURED,  /* closed form for depth <= 2 (never forms J) */
    TDL_NTK_JACOBIAN     /* J J^T by blocks of examples under budget_bytes */
} tdl_ntk_method;

/* "auto", "structured", "jacobian" (tdl/names.h). */
TDL_API extern const tdl_name tdl_ntk_method_names[];

/* How the traced kernel combines the C outputs: TDL_NTK_OUTPUTS_MEAN
 * (1/C) sum_c J_c J_c^T (neural-tangents, tdl's default; on the scale of the
 * analytic kernel K delta_cc') or TDL_NTK_OUTPUTS_SUM sum_c J_c J_c^T
 * (torch.func's "NTK summed over outputs": C times the mean).  Names "mean",
 * "sum" (tdl/names.h).  The kernel-regime dynamics of tdl's mse use the
 * per-output kernel: with a summed kernel pass norm = n C (not n) to
 * tdl_ntk_eta_max and tdl_ntk_predict (tdl/kernel_regression.h), which then
 * give the same step size and predictions (tdl ntk --ntk-outputs does). */
typedef enum tdl_ntk_outputs { TDL_NTK_OUTPUTS_MEAN, TDL_NTK_OUTPUTS_SUM } tdl_ntk_outputs;
TDL_API extern const tdl_name tdl_ntk_outputs_names[];

typedef struct tdl_ntk_config {
    int full;                  /* 0: traced, n1 x n2, over the C outputs as
                                *    `outputs` says (the mean by default);
                                * 1: full (n1 C) x (n2 C), row i*C + c */
    tdl_ntk_outputs outputs;   /* traced kernel only: mean (default) or sum */
    tdl_ntk_method method;
    unsigned long long layers; /* bit l: include layer l's parameters (W_l, b_l); 0 = all */
    size_t budget_bytes;       /* memory for Jacobian blocks (0: 256 MB) */
} tdl_ntk_config;

/* Defaults: traced (mean over the outputs), auto method, all layers, the
 * default budget. */
TDL_API void tdl_ntk_config_default(tdl_ntk_config *o);
/* Set o->outputs by name ("mean", "sum"), for bindings; TDL_EINVAL otherwise. */
TDL_API int tdl_ntk_config_set_outputs(tdl_ntk_config *o, const char *name);
/* The method tdl_ntk_empirical will use ("structured" or "jacobian"). */
TDL_API const char *tdl_ntk_method_name(const tdl_mlp *m, const tdl_ntk_config *o);

/* Empirical NTK Theta(X1, X2) = J(X1) J(X2)^T at the net's current theta
 * (Jacot et al. 2018, Def. of Theta^(L)).  X2 NULL means X2 = X1 (then K is
 * symmetric, both triangles filled).  K (n1 x n2 traced, (n1 C) x (n2 C) full)
 * is allocated by the caller; o NULL means the defaults.  Depth <= 2,
 * structured (f = s1 V phi(s0 W x + t0 b) + t1 c):
 *   Theta_cc'(x,x') = delta_cc' [s1^2 phi(z).phi(z') + t1^2]
 *                   + s1^2 (s0^2 x.x' + t0^2) sum_r V_cr V_c'r phi'(z_r) phi'(z'_r)
 * with BLAS-3 products of n x h and n x d matrices: O(n^2 (h + d)). */
TDL_API int tdl_ntk_empirical(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                              const tdl_ntk_config *o, gsl_matrix *K);

/* NTK drift ||Theta(theta) - Theta(theta0)||_F / ||Theta(theta0)||_F on X
 * (traced kernel, Lee et al. 2019 Sec. 2.4); needs m->theta0. */
TDL_API int tdl_ntk_drift(const tdl_mlp *m, const gsl_matrix *X, const tdl_ntk_config *o,
                          double *out);

#ifdef __cplusplus
}
#endif
#endif
