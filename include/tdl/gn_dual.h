/* tdl/gn_dual.h — the exact spectrum of the Gauss-Newton matrix through its
 * kernel dual, and its class / cross-class structure.
 *
 * Shape legend: n examples, C outputs, P parameters; N = n C.
 *
 * The Gauss-Newton part of the Hessian of the training loss (tdl/hessian.h)
 *     G = c sum_i J_i^T H_l,i J_i,        c = the loss convention's factor
 * (1/n for the mean, tdl/net.h: tdl_mlp_loss_scale), J_i = df(x_i)/dtheta
 * (C x P).  For every loss of tdl the output Hessian H_l,i (C x C) is PSD and
 * factors as H_l,i = S_i S_i^T:
 *     mse (any convention)   S_i = I                 (H_l = I for tdl's 1/2 ||f - t||^2)
 *     ce                     S_i = diag(q) - p q^T,  p = softmax(f_i), q = sqrt(p)
 *                            (S S^T = diag p - 2 p p^T + p p^T (q^T q) = diag p - p p^T)
 *     logistic (one output)  S_i = sqrt(p (1 - p)),  p = sigma(f_i)
 *     hinge                  S_i = 0: the loss is piecewise linear, H_l = 0
 *                            almost everywhere (as tdl_hessian_dense), so G = 0
 * With B = sqrt(c) J^T S (P x N, S = blockdiag(S_i)), G = B B^T and the
 * N x N Gram matrix
 *     K = B^T B = c S^T (J J^T) S
 * have the same nonzero eigenvalues (the nonzero singular values of B,
 * squared).  J J^T is the full empirical NTK (tdl/ntk_empirical.h: the
 * structured closed form for depth <= 2, Jacobian blocks under a memory
 * budget otherwise), so the spectrum of G costs one N x N Gram matrix and an
 * N^3 eigen-solve instead of a P x P matrix.  An eigenvector u of K with
 * eigenvalue lambda > 0 gives the unit eigenvector v = B u / sqrt(lambda) of
 * G (G v = B K u / sqrt(lambda) = lambda v); J^T times a vector is formed
 * from Jacobian blocks (tdl_mlp_jacobian).
 *
 * Rank: the eigenvalues above tol = N eps ||K||_F (the convention of
 * `tdl hessian --method exact`: the operator's order times eps times its
 * Frobenius norm, which bounds LAPACK's backward error; ||K||_F = ||G||_F).
 *
 * Class / cross-class split (Papyan 2019, ICML, "Measurements of three-level
 * hierarchical structure in the outliers in the spectrum of deepnet
 * Hessians", Sec. 3; Papyan 2020, JMLR 21, "Traces of class/cross-class
 * structure pervade deep learning spectra", Sec. 3).  Column (i, c') of B is
 * sqrt(w_i,c') delta_i,c' with
 *     ce:  w_i,c' = p_i,c',  delta_i,c' = sqrt(c) (df_c'(x_i)/dtheta - sum_c'' p_i,c'' df_c''(x_i)/dtheta)
 *     mse: w_i,c' = 1,       delta_i,c' = sqrt(c) df_c'(x_i)/dtheta
 * so G = sum_{i,c'} w_i,c' delta_i,c' delta_i,c'^T, Papyan's second-moment
 * form of G.  Grouping the pairs (i, c') by (c, c'), c = y_i the class of
 * example i, with weights W_cc' = sum_{y_i = c} w_i,c' and weighted means
 * delta_cc' = sum_{y_i = c} w_i,c' delta_i,c' / W_cc', gives EXACTLY
 *     G = G_class + G_cross + G_within,
 *     G_class  = sum_c W_cc delta_cc delta_cc^T            (the C class means)
 *     G_cross  = sum_{c != c'} W_cc' delta_cc' delta_cc'^T (the C (C - 1) cross-class means)
 *     G_within = sum_{i,c'} w_i,c' (delta_i,c' - delta_{y_i}c')(...)^T
 * (the weighted between / within split of a second moment).  With the
 * orthonormal N x C^2 matrix E, E[(i,c'), (c,c')] = sqrt(w_i,c' / W_cc') for
 * y_i = c, the nonzero eigenvalues of G_class and G_cross are those of the
 * C x C and C(C-1) x C(C-1) blocks of E^T K E, and trace(G_within) =
 * trace(K) - trace(E^T K E).  How much of an outlier v_j the class means
 * account for: ||Proj_span(class means) v_j||^2 = lambda_j a^T (E_c^T K E_c)^+ a,
 * a = E_c^T u_j (Papyan measures the outliers against the span of the class
 * means; the same for the cross-class means).  The weighting by w is that of
 * the second-moment form above; the papers' equation numbers were not
 * checked against their text here.
 */
#ifndef TDL_GN_DUAL_H
#define TDL_GN_DUAL_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_gn_dual_config {
    size_t k;              /* 0: all N eigenvalues; else the k largest */
    int want_vectors;      /* unit eigenvectors of G in parameter space for the
                            * returned values (k required; each must be > tol) */
    int class_split;       /* the class / cross-class split (needs class labels
                            * and C = the number of classes >= 2) */
    size_t budget_bytes;   /* memory for Jacobian blocks (0: 256 MB) */
    size_t dense_vectors_max; /* eigenvectors of K (vectors, split): LAPACK's
                            * dsyevr on a copy of K up to this order N (0:
                            * 3000); above it Lanczos on K (tdl_lanczos with
                            * the multiplicity check, relative tolerance
                            * 1e-13, products by dsymv: O(N^2) each instead of
                            * dsyevr's O(N^3) tridiagonalization) */
} tdl_gn_dual_config;

/* Defaults: all eigenvalues, no vectors, no split, the default budget. */
TDL_API void tdl_gn_dual_config_default(tdl_gn_dual_config *cfg);

typedef struct tdl_gn_dual_result {
    size_t n, C, N, P;     /* N = n C, the order of K */
    size_t count;          /* eigenvalues returned (N or k) */
    double *values;        /* ascending, count (owned) */
    double *vectors;       /* count x P row-major unit eigenvectors of G, or NULL */
    size_t rank;           /* eigenvalues of K above tol (of all N); 0 when
                            * rank_known = 0 */
    int rank_known;        /* 0 for the top-k path by Lanczos (partial = 1):
                            * the rank needs the whole spectrum */
    int partial;           /* 1: k > 0 and N above dense_vectors_max: the top
                            * k (or C for the split) eigenpairs of K by
                            * Lanczos on K (dsymv products, one copy of K, no
                            * O(N^3) solve); the error bound is then
                            * Lanczos's (tdl/spectral.h) plus the Gram's
                            * rounding */
    double tol;            /* N eps ||K||_F */
    double trace;          /* trace(G) = trace(K) */
    double frobenius;      /* ||K||_F = ||G||_F */
    double error_bound;    /* every returned eigenvalue is within it of the
                            * eigenvalue of the same rank of the exact G:
                            * LAPACK's backward error on K (tdl/linalg.h,
                            * tdl_sym_eigen_error_bound: N eps ||K||_2) plus
                            * the rounding of forming K, gamma_L trace(K)
                            * with L the terms summed per entry (Higham,
                            * Accuracy and Stability, 2nd ed., eq. (3.5):
                            * |fl(a.b) - a.b| <= gamma_L |a|.|b|, and
                            * sum_ij |b_i|^2 |b_j|^2 = trace(K)^2 bounds
                            * ||dK||_F); L = d + h + 2 C + 4 for the
                            * structured shallow kernel, P + 2 C for
                            * Jacobian blocks */
    const char *driver;    /* LAPACK routine for the values */
    const char *vector_driver; /* for eigenvectors of K: "dsyevr" or "lanczos" (NULL: none) */
    const char *gram_method; /* the NTK's: "structured" or "jacobian" */
    size_t bytes;          /* memory counted by the guard */
    double seconds_gram, seconds_eigen, seconds_vectors;
    /* class split (has_split = 1) */
    int has_split;
    double *class_values;  /* C, ascending: nonzero spectrum of G_class */
    double *cross_values;  /* C (C - 1), ascending: of G_cross */
    size_t outliers;       /* C: the top C eigenpairs of G measured below */
    double *outlier_values;/* C, descending: the top C eigenvalues of G */
    double *share_class;   /* C: ||Proj_class v_j||^2 for the top C eigenvectors */
    double *share_cross;   /* C: ||Proj_cross v_j||^2 */
    double trace_class, trace_cross, trace_within;
} tdl_gn_dual_result;

/* The Gram matrix K = c S^T (J J^T) S above (N x N, row-major, both
 * triangles, caller-allocated, row i*C + c).  TDL_EINVAL (loss and data do
 * not fit the net), TDL_ENOMEM, TDL_ETOOBIG (the NTK's scratch memory). */
TDL_API int tdl_gn_dual_gram(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t budget_bytes,
                             double *K);

/* The spectrum of G through K (and, on request, eigenvectors and the class
 * split).  The memory guard counts the Gram matrix (8 N^2 bytes; twice when
 * vectors or the split need eigenvectors of K) and the Jacobian budget, and
 * refuses with TDL_ETOOBIG naming n and C before anything is allocated.
 * TDL_EINVAL also for a split without class labels (regression) or with
 * C < 2 outputs, and for vectors without k or of a zero eigenvalue. */
TDL_API int tdl_gn_dual(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const tdl_gn_dual_config *cfg,
                        tdl_gn_dual_result *out);
/* NULL-safe, idempotent; zeroes the struct. */
TDL_API void tdl_gn_dual_result_free(tdl_gn_dual_result *r);

#ifdef __cplusplus
}
#endif
#endif
