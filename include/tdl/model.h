/* tdl/model.h — multi-layer perceptrons: structure, initialization, files.
 *
 * A net of depth L is L Linear layers d = n_0 -> n_1 -> ... -> n_L = C with
 * the same activation phi after every layer but the last:
 *
 *     z_l = w_scale_l * W_l a_{l-1} + b_scale_l * b_l,   a_l = phi(z_l),  f = z_L
 *
 *   standard parametrization: w_scale = 1,                 b_scale = 1,
 *                             W ~ N(0, sigma_w^2 / fan_in), b ~ N(0, sigma_b^2)
 *   NTK parametrization:      w_scale = sigma_w / sqrt(n_{l-1}), b_scale = sigma_b,
 *                             W, b ~ N(0, 1)   (Jacot et al. 2018; neural-tangents)
 *   mean-field (mf):          the NTK parametrization in every layer but the
 *                             last, whose multipliers carry one more factor
 *                             1/sqrt(n_{L-1}):
 *                             w_scale_L = sigma_w / n_{L-1}, b_scale_L = sigma_b / sqrt(n_{L-1});
 *                             W, b ~ N(0, 1).  So f_mf = f_ntk / sqrt(n_{L-1})
 *                             exactly, at the same theta.  Two layers:
 *                             f(x) = (sigma_w / m) sum_r a_r phi(sigma_w w_r.x / sqrt d + ...),
 *                             the mean-field net of Mei, Montanari & Nguyen 2018
 *                             (PNAS: y = (1/N) sum_i sigma_*(x; theta_i)) and
 *                             of Chizat & Bach 2018; in Chizat, Oyallon & Bach
 *                             2019's terms the output scale alpha(m) = 1/m,
 *                             against 1/sqrt m for the lazy (NTK) scale (their
 *                             section numbers not re-checked).  Depth 1: the
 *                             linear model with w_scale = sigma_w / d.  Deeper nets:
 *                             this is the maximal-update parametrization (muP)
 *                             of Yang & Hu 2021 (ICML, Tensor Programs IV) in
 *                             its NTK-style form: by their symmetry
 *                             (a, b, c) -> (a + t, b - t, c - 2t), muP with all
 *                             weights N(0, 1) has the multipliers n^{-1/2} for
 *                             the hidden layers (d^{-1/2} for the input: width
 *                             independent), n^{-1} for the last, and ONE
 *                             learning rate growing like n for every layer
 *                             (Everett et al. 2024, "Scaling exponents across
 *                             parameterizations and optimizers": muP and the
 *                             mean-field parametrization are one class under
 *                             this symmetry, a_{L+1} + b_{L+1} = 1).
 *                             Learning rate: f_mf = f_ntk / sqrt n makes the
 *                             tangent kernel Theta_mf = Theta_ntk / n_{L-1}, so
 *                             GD needs lr_mf = n_{L-1} * lr_ntk to move at all
 *                             in O(1) steps (Mei et al.'s step s_k without the
 *                             1/N is this lr * N; the time t = k lr / n_{L-1}).
 *                             tdl applies --lr as given: pass lr = c * n_{L-1}
 *                             (c a step that suits the ntk parametrization).
 *                             No analytic kernel: the NNGP and the NTK are those
 *                             of ntk divided by n_{L-1} -> 0 (tdl_ntk_analytic
 *                             refuses mf); n_{L-1} Theta at init is the ntk
 *                             parametrization's, but it moves by O(1) in training.
 *
 * Depth 1 is a linear model; identity activations make a deep linear net.
 *
 * Parameters live in ONE contiguous vector theta in file order:
 * layer 0 weight (n_1 x n_0, row-major), layer 0 bias, layer 1 weight, ...
 * The Hessian, the NTK, landscape directions and PAC-Bayes posteriors all act
 * on this theta.  Files store layer l as tensors "<2l>.weight" / "<2l>.bias",
 * the names of a PyTorch nn.Sequential(Linear, act, Linear, ...) state dict,
 * plus "init.<2l>.weight" ... for the initial parameters.  The loaders read
 * any MLP state dict naming (tdl_mlp_layout_find).
 */
#ifndef TDL_MODEL_H
#define TDL_MODEL_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/tensor.h"
#include "tdl/names.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_act_kind {
    TDL_ACT_IDENTITY, TDL_ACT_RELU, TDL_ACT_LEAKY_RELU, TDL_ACT_ABRELU,
    TDL_ACT_TANH, TDL_ACT_ERF, TDL_ACT_SIGMOID, TDL_ACT_SOFTPLUS,
    TDL_ACT_QUADRATIC, TDL_ACT_GELU
} tdl_act_kind;

/* leaky-relu:A -> a = A (negative slope); abrelu:A,B -> phi = A min(x,0) + B max(x,0). */
typedef struct tdl_act {
    tdl_act_kind kind;
    double a, b;
} tdl_act;

/* Parse "relu", "leaky-relu:0.01", "abrelu:-1,1", ... */
TDL_API int tdl_act_parse(const char *text, tdl_act *out);
/* Canonical text of an activation (parses back to the same). */
TDL_API void tdl_act_format(const tdl_act *act, char *buf, size_t len);
/* phi, phi' and phi'' at n points; any output may be NULL; phi may be z
 * itself (in-place), dphi and d2phi must not alias z. */
TDL_API void tdl_act_eval(const tdl_act *act, const double *z, size_t n,
                          double *phi, double *dphi, double *d2phi);

/* TDL_PARAM_MF: the mean-field parametrization (above); appended, so the
 * values of the others are unchanged. */
typedef enum tdl_param_kind { TDL_PARAM_STANDARD, TDL_PARAM_NTK, TDL_PARAM_MF } tdl_param_kind;

typedef enum tdl_init_kind {
    TDL_INIT_GAUSSIAN,    /* N(0, sigma_w^2 / fan_in) (standard) or N(0,1) (ntk, mf) */
    TDL_INIT_HE,          /* gaussian with sigma_w = sqrt 2 */
    TDL_INIT_XAVIER,      /* N(0, 2 / (fan_in + fan_out)), standard only */
    TDL_INIT_ORTHOGONAL,  /* scaled orthogonal rows/columns (QR of a Gaussian) */
    TDL_INIT_ZERO
} tdl_init_kind;

typedef struct tdl_layer {
    size_t in, out;
    int has_bias;
    int trainable;
    size_t w_off, b_off;     /* offsets in theta (b_off meaningful when has_bias) */
    double w_scale, b_scale; /* forward multipliers (see above) */
} tdl_layer;

#define TDL_MAX_DEPTH 64

typedef struct tdl_mlp {
    size_t depth;             /* number of Linear layers L >= 1 */
    tdl_layer *layers;        /* depth entries, owned */
    tdl_act act;              /* after every layer but the last */
    tdl_param_kind param;
    double sigma_w, sigma_b;
    size_t n_params;
    double *theta;            /* owned, n_params */
    double *theta0;           /* owned initial parameters, or NULL */
    tdl_tensors *meta;        /* owned metadata (no tensors), never NULL */
} tdl_mlp;

/* Options of a fresh net. */
typedef struct tdl_mlp_config {
    size_t depth;
    size_t widths[TDL_MAX_DEPTH + 1];
    tdl_act act;
    tdl_param_kind param;
    tdl_init_kind init;
    double sigma_w;           /* NaN: the init's default */
    double sigma_b;
    int bias;                 /* biases on every layer */
    int trainable[TDL_MAX_DEPTH];
    unsigned long seed;
} tdl_mlp_config;

/* Defaults: relu, standard, he, sigma_b 0, biases, all trainable, seed 0. */
TDL_API void tdl_mlp_config_default(tdl_mlp_config *cfg);
/* Parse "64-128-10" into depth and widths. */
TDL_API int tdl_arch_parse(const char *text, tdl_mlp_config *cfg);
TDL_API void tdl_arch_format(const tdl_mlp *m, char *buf, size_t len);
TDL_API const char *tdl_param_name(tdl_param_kind p);
TDL_API const char *tdl_init_name(tdl_init_kind k);
TDL_API int tdl_init_parse(const char *text, tdl_init_kind *out);
TDL_API int tdl_param_parse(const char *text, tdl_param_kind *out);
/* Name tables (tdl/names.h): "gaussian", "he", ...; "standard", "ntk", "mf". */
TDL_API extern const tdl_name tdl_init_names[];
TDL_API extern const tdl_name tdl_param_names[];

/* A fresh, initialized net (theta0 = theta). */
TDL_API int tdl_mlp_create(const tdl_mlp_config *cfg, tdl_mlp **out);
TDL_API void tdl_mlp_free(tdl_mlp **m);
/* A deep copy. */
TDL_API int tdl_mlp_clone(const tdl_mlp *m, tdl_mlp **out);

/* The Linear layers of a state dict and their order, as the loaders find
 * them.  A Linear layer is a prefix P with a 2-D "P.weight" (out x in) and
 * an optional 1-D "P.bias" of length out, under any naming: nn.Sequential's
 * "0", "2", ...; "fc1", "fc2", ..., "fc10"; "layers.N"; "model.layers.N";
 * "net.N"; "classifier"; a bare nn.Linear's "weight" (prefix "").  The
 * order: `layers` when not NULL ("fc1,fc2,fc3": every layer once); else
 * the natural order of the prefixes (digit runs compared as numbers: fc2
 * before fc10), checked against the shapes (out of layer k = in of layer
 * k+1).  Prefixes of one pattern (digit runs aside: fc<k>, layers.<k>) keep
 * their natural order; prefixes of several patterns ("features.0",
 * "features.2", "classifier") are placed by the shapes: the order is the
 * one order that keeps each pattern's natural order and chains.  When no
 * such order chains: TDL_ESHAPE; when several do: TDL_EINVAL (ambiguous);
 * either message names up to three orders that chain.  Tensors that are not a Linear layer's (convolution kernels,
 * batch-norm statistics, embeddings, anything else) fail by name with
 * TDL_EFORMAT or TDL_ESHAPE.  init.* tensors (tdl's initial parameters)
 * are skipped here.  Free with tdl_mlp_layout_free. */
typedef struct tdl_mlp_layout {
    size_t depth;
    char *prefix[TDL_MAX_DEPTH];   /* owned; layer l is "<prefix>.weight" ("weight" when "") */
    size_t in[TDL_MAX_DEPTH], out[TDL_MAX_DEPTH];
    int has_bias[TDL_MAX_DEPTH];
    char scheme[160];              /* the naming: "nn.Sequential (<k>.weight, <k>.bias)",
                                      "fc<k>.weight, fc<k>.bias", "named modules", ... */
    char order[64];                /* how the order was found: "natural order of the names",
                                      "the only order the shapes chain", "as given" */
} tdl_mlp_layout;
TDL_API int tdl_mlp_layout_find(const tdl_tensors *set, const char *layers, tdl_mlp_layout *out);
TDL_API void tdl_mlp_layout_free(tdl_mlp_layout *layout);

/* Build a net from a state dict's tensors (the layout above).  Activation,
 * parametrization and sigmas come from the metadata, or from act_override
 * (may be NULL) which wins.  Without either, a net of depth > 1 fails with
 * a message asking for an activation. */
TDL_API int tdl_mlp_from_tensors(const tdl_tensors *set, const tdl_act *act_override,
                                 tdl_mlp **out);
/* The same with an explicit layer order (NULL: found as above). */
TDL_API int tdl_mlp_from_tensors_ex(const tdl_tensors *set, const tdl_act *act_override,
                                    const char *layers, tdl_mlp **out);
/* Load a .safetensors, .npz or torch.save .pt model file (by content). */
TDL_API int tdl_mlp_load(const char *path, const tdl_act *act_override, tdl_mlp **out);
/* The same with an explicit layer order, "fc1,fc2,fc3" (NULL: found as
 * tdl_mlp_layout_find says). */
TDL_API int tdl_mlp_load_ex(const char *path, const tdl_act *act_override, const char *layers,
                            tdl_mlp **out);
/* Save as safetensors (F64) with init.* tensors and metadata. */
TDL_API int tdl_mlp_save(const char *path, const tdl_mlp *m);
/* The tensors a model file would hold (weights, init.*, metadata). */
TDL_API int tdl_mlp_to_tensors(const tdl_mlp *m, tdl_tensors **out);

/* Read a .safetensors, .npz or torch.save .pt file by its first bytes (a
 * zip is a .pt when it has a TOP/data.pkl member, else an .npz). */
TDL_API int tdl_tensors_read(const char *path, tdl_tensors **out);

#ifdef __cplusplus
}
#endif
#endif
