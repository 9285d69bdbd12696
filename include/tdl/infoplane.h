/* tdl/infoplane.h — the information plane: I(X;T) and I(T;Y) of each hidden
 * layer T during training (Shwartz-Ziv and Tishby 2017, "Opening the black
 * box of deep neural networks via information", Sec. 2-3; Saxe et al. 2018,
 * "On the information bottleneck theory of deep learning", ICLR, Sec. 2).
 *
 * X is uniform over the n rows of the data set (all distinct), Y the label,
 * T = the post-activations of a hidden layer, a deterministic function of X.
 * All information is in BITS.  Two estimators:
 *
 *   binning  (Shwartz-Ziv and Tishby 2017): every unit's activation is cut
 *            into `bins` equal intervals of [lo, hi] (default 30 bins; tanh,
 *            erf: [-1, 1]; sigmoid [0, 1]; unbounded activations: the
 *            layer's observed [min, max] at that epoch); T_b = the binned
 *            pattern.  Then I(X;T) = H(T_b) (T_b is a function of X, X
 *            uniform) and I(T;Y) = sum p(t,y) log2 p(t,y) / (p(t) p(y)).
 *            I(X;T) <= log2 n.
 *   kde      (Kolchinsky and Tracey 2017 pairwise-distance upper bound, as
 *            used by Saxe et al. 2018): T = h(X) + eps, eps ~ N(0, s2 I):
 *            I(X;T) <= -(1/n) sum_i log2 (1/n) sum_j exp(-|h_i - h_j|^2 / (2 s2)),
 *            I(T;Y) = that bound minus sum_y p(y) (the same bound within class
 *            y) (Saxe et al. 2018 Sec. 2 / Appendix; noise variance s2
 *            default 0.1, stated in every output).
 *
 * The 12-bit task (Shwartz-Ziv and Tishby 2017 Sec. 3.1, reconstructed —
 * their exact labelling function is not published in code form): the
 * n = 4096 binary patterns x in {0,1}^12, bit j = (index >> j) & 1; the 12
 * bits sit on the 12 vertices v_j of a regular icosahedron (unit vectors
 * (0, +-1, +-phi), (+-1, +-phi, 0), (+-phi, 0, +-1) / sqrt(1 + phi^2), phi the
 * golden ratio, in that enumeration order: a in {-1,1} outer, b in {-1,1}
 * inner); with s_j = 2 x_j - 1 the rotation-invariant ("spherically
 * symmetric") score f(x) = |sum_j s_j v_j|^2; y = 1 iff f(x) > theta, theta
 * the distinct value of f whose cumulative fraction is closest to 1/2
 * (2036 positives, 2060 negatives: p(y=1) = 0.497).
 */
#ifndef TDL_INFOPLANE_H
#define TDL_INFOPLANE_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/data.h"
#include "tdl/names.h"
#include "tdl/model.h"
#include "tdl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The 12-bit task above (4096 x 12 inputs in {0,1}, 2 classes).  Caller
 * frees with tdl_dataset_free. */
TDL_API int tdl_infoplane_task12(tdl_dataset **out);

/* Binning estimator on T (n x dim, row-major): ixt = H(T_b), ity = I(T_b;Y)
 * with labels in 0..classes-1 (labels NULL: ity not computed).  lo < hi,
 * bins >= 1; values outside [lo, hi] go to the end bins. */
TDL_API int tdl_mi_binning(const double *T, size_t n, size_t dim, const size_t *labels, size_t classes,
                           double lo, double hi, size_t bins, double *ixt, double *ity);

/* KDE (pairwise-distance) upper bound with noise variance s2 > 0; O(n^2 dim)
 * by blocks of rows (BLAS-3), memory O(n * 256). */
TDL_API int tdl_mi_kde(const double *T, size_t n, size_t dim, const size_t *labels, size_t classes,
                       double noise_var, double *ixt, double *ity);

/* (The hidden activations tdl_mlp_hidden are in tdl/net.h.) */

typedef enum tdl_mi_estimator { TDL_MI_BINNING, TDL_MI_KDE } tdl_mi_estimator;
/* "binning", "kde" (tdl/names.h). */
TDL_API extern const tdl_name tdl_mi_estimator_names[];

typedef struct tdl_infoplane_config {
    tdl_train_config train;    /* epochs, optimizer, ...; callback and user are taken */
    size_t snapshots;          /* epochs recorded: 0 and ~log-spaced up to the last */
    tdl_mi_estimator estimator;
    size_t bins;               /* binning: equal intervals per unit (default 30) */
    double lo, hi;             /* binning range; NaN: by activation (see above) */
    double noise_var;          /* kde: s2 (default 0.1) */
} tdl_infoplane_config;

/* Defaults: the train defaults with ce, sgd, lr 0.1, 1000 epochs, batch 256;
 * 30 snapshots; binning, 30 bins, automatic range; kde noise 0.1. */
TDL_API void tdl_infoplane_config_default(tdl_infoplane_config *cfg);

typedef struct tdl_infoplane_result {
    size_t n_snapshots, n_layers;  /* n_layers = depth - 1 hidden layers */
    size_t *epochs;                /* n_snapshots epochs (0 = at init) */
    double *ixt, *ity;             /* [s * n_layers + l], bits */
    double *loss, *accuracy;       /* training loss / accuracy at each snapshot */
} tdl_infoplane_result;

/* Train m on ds (in place) and record I(X;T_l), I(T_l;Y) for every hidden
 * layer at the snapshot epochs, over the rows of ds. */
TDL_API int tdl_infoplane_run(tdl_mlp *m, const tdl_dataset *ds, const tdl_infoplane_config *cfg,
                              tdl_infoplane_result *out);
TDL_API void tdl_infoplane_result_free(tdl_infoplane_result *r);

#ifdef __cplusplus
}
#endif
#endif
