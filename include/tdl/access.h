/* tdl/access.h — accessors and handles for bindings (the Python package).
 *
 * Language bindings (ctypes, cffi) must not mirror structs whose layout may
 * change: tdl_mlp and tdl_mlp_config hold TDL_MAX_DEPTH arrays, tdl_dataset
 * holds gsl_matrix pointers, tdl_train_config a callback.  This header gives
 * them everything through functions instead:
 *   - read-only accessors (shape of a data set, widths of a net, its flat
 *     parameter vector, metadata);
 *   - heap-allocated configuration handles with setters by field name, so a
 *     field added later needs no change in a binding;
 *   - tdl_sizeof(), for the few small flat structs a binding may mirror
 *     (tdl_matrix_view, tdl_act, tdl_eval_stats, the spectral results), so a
 *     test can check the mirror against the C layout.
 *
 * Ownership: every *_new returns a handle the caller frees with the matching
 * *_free (NULL-safe; the pointer is set to NULL).  Pointers returned by
 * accessors belong to the object they were read from and live as long as it.
 * Errors: status codes and tdl_errmsg() as everywhere (tdl/error.h).
 */
#ifndef TDL_ACCESS_H
#define TDL_ACCESS_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include "tdl/data.h"
#include "tdl/model.h"
#include "tdl/net.h"
#include "tdl/train.h"
#include "tdl/bounds.h"
#include "tdl/ntk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sizeof of a public struct by its name ("tdl_matrix_view", "tdl_act",
 * "tdl_eval_stats", "tdl_sym_eigen", "tdl_lanczos_result", "tdl_slq_result",
 * "tdl_density", "tdl_train_result", "tdl_train_progress", "tdl_dr_result",
 * "tdl_curve_config"); 0 for a name not listed. */
TDL_API size_t tdl_sizeof(const char *type_name);

/* ---- data sets ----------------------------------------------------------- */

/* n examples, d inputs, classes (0: regression) and k target columns
 * (regression; 0 for classification).  Any output may be NULL. */
TDL_API void tdl_dataset_shape(const tdl_dataset *ds, size_t *n, size_t *d, size_t *classes, size_t *k);
/* The spec or description the set was made with (never NULL; "" if none). */
TDL_API const char *tdl_dataset_spec(const tdl_dataset *ds);
TDL_API const char *tdl_dataset_description(const tdl_dataset *ds);
/* Copy the arrays out: X (n x d, C order), labels (n; classification only)
 * and Y (n x k; regression only).  Any output may be NULL; an output the set
 * does not have is left untouched. */
TDL_API void tdl_dataset_copy(const tdl_dataset *ds, double *X, long long *labels, double *Y);
/* The inputs as the gsl_matrix the kernel functions of tdl/ntk.h take
 * (read-only; owned by ds).  Bindings pass it through without reading it. */
TDL_API const gsl_matrix *tdl_dataset_inputs(const tdl_dataset *ds);

/* A gsl_matrix header over the caller's contiguous rows x cols C-ordered
 * doubles (no copy; the caller keeps the memory alive while the header is
 * used).  NULL when out of memory or for an empty shape.  Free the header
 * (never the data) with tdl_matrix_wrap_free. */
TDL_API gsl_matrix *tdl_matrix_wrap(double *data, size_t rows, size_t cols);
TDL_API void tdl_matrix_wrap_free(gsl_matrix **m);

/* ---- nets ---------------------------------------------------------------- */

/* Number of Linear layers L. */
TDL_API size_t tdl_mlp_depth(const tdl_mlp *m);
/* Width n_l: l = 0 the inputs, l = L the outputs; 0 for l > L. */
TDL_API size_t tdl_mlp_width(const tdl_mlp *m, size_t l);
/* P, the length of theta. */
TDL_API size_t tdl_mlp_param_count(const tdl_mlp *m);
/* theta (P doubles, file order; writable: the net computes with what is
 * there) and theta0, the initial parameters (NULL when the net has none). */
TDL_API double *tdl_mlp_params(tdl_mlp *m);
TDL_API const double *tdl_mlp_init_params(const tdl_mlp *m);
/* Set theta0 to a copy of init (P doubles), or to theta when init is NULL. */
TDL_API int tdl_mlp_set_init_params(tdl_mlp *m, const double *init);
/* Layer l (0 <= l < L): its input and output widths, whether it has a bias,
 * whether it is trained, and where W_l and b_l start in theta.  TDL_EINVAL
 * for l >= L.  Any output may be NULL. */
TDL_API int tdl_mlp_layer_info(const tdl_mlp *m, size_t l, size_t *in, size_t *out, int *has_bias,
                               int *trainable, size_t *w_off, size_t *b_off);
/* The activation as text ("relu", "leaky-relu:0.01", ...) into buf. */
TDL_API void tdl_mlp_activation_name(const tdl_mlp *m, char *buf, size_t len);
/* "standard" or "ntk". */
TDL_API const char *tdl_mlp_param_kind_name(const tdl_mlp *m);
/* Metadata entries (model files carry them): the value or NULL; set copies. */
TDL_API const char *tdl_mlp_meta(const tdl_mlp *m, const char *key);
TDL_API int tdl_mlp_set_meta(tdl_mlp *m, const char *key, const char *value);
/* (The default loss of a net on a data set, tdl_mlp_default_loss: tdl/net.h.) */

/* ---- configuration of a fresh net ------------------------------------------ */

/* A heap config with tdl_mlp_config_default's values; NULL when out of memory. */
TDL_API tdl_mlp_config *tdl_mlp_config_new(void);
TDL_API void tdl_mlp_config_free(tdl_mlp_config **cfg);
/* Text fields: "arch" ("4-16-3"), "act" (tdl_act_parse), "init"
 * (tdl_init_parse), "param" ("standard" or "ntk").  TDL_EINVAL with the
 * parser's message for a bad value or an unknown field. */
TDL_API int tdl_mlp_config_set_text(tdl_mlp_config *cfg, const char *field, const char *value);
/* Numeric fields: "sigma_w" (NaN: the init's default), "sigma_b" (>= 0),
 * "bias" (0 or 1), "seed" (integer >= 0). */
TDL_API int tdl_mlp_config_set_number(tdl_mlp_config *cfg, const char *field, double value);
/* Layer l (after "arch" is set) trained (1) or frozen (0). */
TDL_API int tdl_mlp_config_set_trainable(tdl_mlp_config *cfg, size_t l, int trainable);

/* ---- training ------------------------------------------------------------ */

/* A heap config with tdl_train_config_default's values (no callback). */
TDL_API tdl_train_config *tdl_train_config_new(void);
TDL_API void tdl_train_config_free(tdl_train_config **cfg);
/* Names: "loss" (tdl_loss_parse), "optimizer" (tdl_optimizer_parse: gd sgd
 * momentum nesterov adam), "schedule" (tdl_schedule_parse). */
TDL_API int tdl_train_config_set_text(tdl_train_config *cfg, const char *field, const char *value);
/* Numbers: lr momentum beta1 beta2 eps weight_decay gamma target_loss
 * target_accuracy diverge_factor (doubles) and step_every epochs steps batch
 * eval_every seed (integers >= 0: a fraction or a negative value is refused). */
TDL_API int tdl_train_config_set_number(tdl_train_config *cfg, const char *field, double value);
/* The callback of tdl_train (may be NULL). */
TDL_API void tdl_train_config_set_callback(tdl_train_config *cfg, tdl_train_callback cb, void *user);
/* The loss the config trains with. */
TDL_API tdl_loss_kind tdl_train_config_loss(const tdl_train_config *cfg);

/* ---- bounds -------------------------------------------------------------- */

TDL_API tdl_bounds_config *tdl_bounds_config_new(void);
TDL_API void tdl_bounds_config_free(tdl_bounds_config **cfg);
/* delta margin_percentile flatness flat_steps flat_samples flat_target
 * mc_samples seed ntk. */
TDL_API int tdl_bounds_config_set_number(tdl_bounds_config *cfg, const char *field, double value);
/* Entry i of a tdl_bounds_compute result.  Strings belong to v.  Any output
 * may be NULL. */
TDL_API void tdl_measure_get(const tdl_measure *v, size_t i, const char **name, double *value,
                             double *bound, int *vacuous, int *available, double *delta,
                             const char **source, const char **note);
/* The ledger of entry i (issue 15): kind "bound" / "measure"; classifier
 * "deterministic" / "gibbs" for bounds, NULL for measures; fixed_scale_value
 * (NaN when none); bound_reason ("" for bounds); below_chance (1 / 0 for
 * bounds, -1 for measures); the counts of its terms and hypotheses. */
TDL_API void tdl_measure_get_ledger(const tdl_measure *v, size_t i, const char **kind, const char **classifier,
                                    double *fixed_scale_value, const char **bound_reason, int *below_chance,
                                    size_t *n_terms, size_t *n_hyps);
/* Term k of entry i (name, value); the terms of a bound add up to it. */
TDL_API void tdl_measure_get_term(const tdl_measure *v, size_t i, size_t k, const char **name, double *value);
/* Hypothesis k of entry i: its text, whether it holds (or is paid for), why. */
TDL_API void tdl_measure_get_hypothesis(const tdl_measure *v, size_t i, size_t k, const char **text, int *holds,
                                        const char **why);

/* Configuration of the Dziugaite-Roy optimization (tdl_dr_optimize), with
 * tdl_dr_config_default's values and no callback.  Numbers: epochs batch lr
 * lr_drop_epoch sigma_init rho_init b c delta delta_prime mc_samples seed;
 * text: "objective" (tdl_dr_objective_names: quad, pinsker). */
TDL_API tdl_dr_config *tdl_dr_config_new(void);
TDL_API void tdl_dr_config_free(tdl_dr_config **cfg);
TDL_API int tdl_dr_config_set_number(tdl_dr_config *cfg, const char *field, double value);
TDL_API int tdl_dr_config_set_text(tdl_dr_config *cfg, const char *field, const char *value);

/* ---- NTK ----------------------------------------------------------------- */

/* Options of tdl_ntk_empirical / tdl_ntk_drift: full (0 or 1), method
 * ("auto", "structured", "jacobian"; NULL: auto), layers (bit mask, 0: all),
 * budget_bytes (0: the default).  NULL and TDL_EINVAL for a bad method. */
TDL_API int tdl_ntk_config_new(int full, const char *method, unsigned long long layers,
                                size_t budget_bytes, tdl_ntk_config **out);
TDL_API void tdl_ntk_config_free(tdl_ntk_config **o);
/* The analytic config of a net's infinite-width limit, with the dual maps
 * of kernel_act (tdl_kact_parse; NULL: the net's activation) and quad points
 * per panel (0: the default). */
TDL_API int tdl_ntk_analytic_config_new(const tdl_mlp *m, const char *kernel_act, size_t quad,
                                        tdl_ntk_analytic_config **out);
TDL_API void tdl_ntk_analytic_config_free(tdl_ntk_analytic_config **cfg);
/* 1 when its dual maps are computed by quadrature, 0 for closed forms. */
TDL_API int tdl_ntk_analytic_config_numeric(const tdl_ntk_analytic_config *cfg);
/* "standard" or "ntk". */
TDL_API const char *tdl_ntk_analytic_config_param_name(const tdl_ntk_analytic_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
