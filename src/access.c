/* access.c — accessors and configuration handles for bindings (tdl/access.h).
 *
 * Nothing here computes: each function reads or sets one field of a struct
 * that bindings must not mirror, so that the Python package (python/tdl)
 * never depends on a struct layout that may grow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/access.h"
#include "tdl/hessian.h"
#include "tdl/spectral.h"
#include "tdl/landscape.h"
#include "tdl/verify.h"
#include "internal.h"

size_t tdl_sizeof(const char *type_name)
{
    static const struct { const char *name; size_t size; } sizes[] = {
        {"tdl_matrix_view", sizeof(tdl_matrix_view)},
        {"tdl_act", sizeof(tdl_act)},
        {"tdl_eval_stats", sizeof(tdl_eval_stats)},
        {"tdl_sym_eigen", sizeof(tdl_sym_eigen)},
        {"tdl_lanczos_result", sizeof(tdl_lanczos_result)},
        {"tdl_slq_result", sizeof(tdl_slq_result)},
        {"tdl_density", sizeof(tdl_density)},
        {"tdl_train_result", sizeof(tdl_train_result)},
        {"tdl_train_progress", sizeof(tdl_train_progress)},
        {"tdl_dr_result", sizeof(tdl_dr_result)},
        {"tdl_curve_config", sizeof(tdl_curve_config)},
        {"tdl_verify_context", sizeof(tdl_verify_context)},
        {"tdl_verify_shape", sizeof(tdl_verify_shape)},
        {"tdl_verify_result", sizeof(tdl_verify_result)},
    };
    if (!type_name) return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(sizes[i].name, type_name) == 0) return sizes[i].size;
    return 0;
}

/* A non-negative integer held in a double (setters by field name). */
static int to_count(const char *field, double v, unsigned long long *out)
{
    if (!(v >= 0) || v != floor(v) || v > 1.8e19)
        return tdl_fail(TDL_EINVAL, "%s: expected an integer >= 0, got %g", field, v);
    *out = (unsigned long long)v;
    return TDL_OK;
}

/* ---- data sets ----------------------------------------------------------- */

void tdl_dataset_shape(const tdl_dataset *ds, size_t *n, size_t *d, size_t *classes, size_t *k)
{
    if (n) *n = ds->n;
    if (d) *d = ds->d;
    if (classes) *classes = ds->classes;
    if (k) *k = ds->Y ? ds->Y->size2 : 0;
}

const char *tdl_dataset_spec(const tdl_dataset *ds) { return ds->spec ? ds->spec : ""; }

const char *tdl_dataset_description(const tdl_dataset *ds) { return ds->description ? ds->description : ""; }

void tdl_dataset_copy(const tdl_dataset *ds, double *X, long long *labels, double *Y)
{
    if (X)
        for (size_t i = 0; i < ds->n; i++)
            for (size_t j = 0; j < ds->d; j++) X[i * ds->d + j] = gsl_matrix_get(ds->X, i, j);
    if (labels && ds->labels)
        for (size_t i = 0; i < ds->n; i++) labels[i] = (long long)ds->labels[i];
    if (Y && ds->Y)
        for (size_t i = 0; i < ds->n; i++)
            for (size_t j = 0; j < ds->Y->size2; j++) Y[i * ds->Y->size2 + j] = gsl_matrix_get(ds->Y, i, j);
}

const gsl_matrix *tdl_dataset_inputs(const tdl_dataset *ds) { return ds->X; }

gsl_matrix *tdl_matrix_wrap(double *data, size_t rows, size_t cols)
{
    if (!data || rows == 0 || cols == 0) return NULL;
    gsl_matrix *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->size1 = rows;
    m->size2 = cols;
    m->tda = cols;
    m->data = data;
    m->block = NULL;
    m->owner = 0;
    return m;
}

void tdl_matrix_wrap_free(gsl_matrix **m)
{
    if (!m) return;
    free(*m); /* the header only: data and block belong to the caller */
    *m = NULL;
}

/* ---- nets ---------------------------------------------------------------- */

size_t tdl_mlp_depth(const tdl_mlp *m) { return m->depth; }

size_t tdl_mlp_width(const tdl_mlp *m, size_t l)
{
    if (l == 0) return m->layers[0].in;
    return l <= m->depth ? m->layers[l - 1].out : 0;
}

size_t tdl_mlp_param_count(const tdl_mlp *m) { return m->n_params; }

double *tdl_mlp_params(tdl_mlp *m) { return m->theta; }

const double *tdl_mlp_init_params(const tdl_mlp *m) { return m->theta0; }

int tdl_mlp_set_init_params(tdl_mlp *m, const double *init)
{
    if (!m->theta0) {
        m->theta0 = tdl_malloc(m->n_params * sizeof(double), "the initial parameters");
        if (!m->theta0) return TDL_ENOMEM;
    }
    memcpy(m->theta0, init ? init : m->theta, m->n_params * sizeof(double));
    return TDL_OK;
}

int tdl_mlp_layer_info(const tdl_mlp *m, size_t l, size_t *in, size_t *out, int *has_bias,
                       int *trainable, size_t *w_off, size_t *b_off)
{
    if (l >= m->depth) return tdl_fail(TDL_EINVAL, "layer %zu: the net has layers 0..%zu", l, m->depth - 1);
    const tdl_layer *L = &m->layers[l];
    if (in) *in = L->in;
    if (out) *out = L->out;
    if (has_bias) *has_bias = L->has_bias;
    if (trainable) *trainable = L->trainable;
    if (w_off) *w_off = L->w_off;
    if (b_off) *b_off = L->b_off;
    return TDL_OK;
}

void tdl_mlp_activation_name(const tdl_mlp *m, char *buf, size_t len) { tdl_act_format(&m->act, buf, len); }

const char *tdl_mlp_param_kind_name(const tdl_mlp *m) { return tdl_param_name(m->param); }

const char *tdl_mlp_meta(const tdl_mlp *m, const char *key) { return tdl_tensors_meta(m->meta, key); }

int tdl_mlp_set_meta(tdl_mlp *m, const char *key, const char *value)
{
    return tdl_tensors_set_meta(m->meta, key, value);
}

/* ---- configuration of a fresh net ------------------------------------------ */

tdl_mlp_config *tdl_mlp_config_new(void)
{
    tdl_mlp_config *cfg = tdl_malloc(sizeof *cfg, "a net configuration");
    if (cfg) tdl_mlp_config_default(cfg);
    return cfg;
}

void tdl_mlp_config_free(tdl_mlp_config **cfg)
{
    if (!cfg) return;
    free(*cfg);
    *cfg = NULL;
}

int tdl_mlp_config_set_text(tdl_mlp_config *cfg, const char *field, const char *value)
{
    if (!field || !value) return tdl_fail(TDL_EINVAL, "net configuration: a field and a value are needed");
    if (strcmp(field, "arch") == 0) return tdl_arch_parse(value, cfg);
    if (strcmp(field, "act") == 0) return tdl_act_parse(value, &cfg->act);
    if (strcmp(field, "init") == 0) return tdl_init_parse(value, &cfg->init);
    if (strcmp(field, "param") == 0) {
        if (strcmp(value, "standard") == 0) cfg->param = TDL_PARAM_STANDARD;
        else if (strcmp(value, "ntk") == 0) cfg->param = TDL_PARAM_NTK;
        else if (strcmp(value, "mf") == 0) cfg->param = TDL_PARAM_MF;
        else return tdl_fail(TDL_EINVAL, "unknown parametrization '%s' (standard ntk mf)", value);
        return TDL_OK;
    }
    return tdl_fail(TDL_EINVAL, "net configuration: unknown text field '%s' (arch act init param)", field);
}

int tdl_mlp_config_set_number(tdl_mlp_config *cfg, const char *field, double value)
{
    unsigned long long u = 0;
    int st;
    if (!field) return tdl_fail(TDL_EINVAL, "net configuration: a field is needed");
    if (strcmp(field, "sigma_w") == 0) {
        if (value < 0 || isinf(value)) return tdl_fail(TDL_EINVAL, "sigma_w: expected a number >= 0, got %g", value);
        cfg->sigma_w = value;
        return TDL_OK;
    }
    if (strcmp(field, "sigma_b") == 0) {
        if (!(value >= 0) || isinf(value)) return tdl_fail(TDL_EINVAL, "sigma_b: expected a number >= 0, got %g", value);
        cfg->sigma_b = value;
        return TDL_OK;
    }
    if (strcmp(field, "bias") == 0) {
        if ((st = to_count(field, value, &u)) != TDL_OK) return st;
        cfg->bias = u != 0;
        return TDL_OK;
    }
    if (strcmp(field, "seed") == 0) {
        if ((st = to_count(field, value, &u)) != TDL_OK) return st;
        cfg->seed = (unsigned long)u;
        return TDL_OK;
    }
    return tdl_fail(TDL_EINVAL, "net configuration: unknown number field '%s' (sigma_w sigma_b bias seed)", field);
}

int tdl_mlp_config_set_trainable(tdl_mlp_config *cfg, size_t l, int trainable)
{
    if (l >= cfg->depth) return tdl_fail(TDL_EINVAL, "layer %zu: the net has layers 0..%zu", l, cfg->depth ? cfg->depth - 1 : 0);
    cfg->trainable[l] = trainable != 0;
    return TDL_OK;
}

/* ---- training ------------------------------------------------------------ */

tdl_train_config *tdl_train_config_new(void)
{
    tdl_train_config *cfg = tdl_malloc(sizeof *cfg, "a training configuration");
    if (cfg) tdl_train_config_default(cfg);
    return cfg;
}

void tdl_train_config_free(tdl_train_config **cfg)
{
    if (!cfg) return;
    free(*cfg);
    *cfg = NULL;
}

int tdl_train_config_set_text(tdl_train_config *cfg, const char *field, const char *value)
{
    if (!field || !value) return tdl_fail(TDL_EINVAL, "training configuration: a field and a value are needed");
    if (strcmp(field, "loss") == 0) return tdl_loss_parse(value, &cfg->loss);
    if (strcmp(field, "optimizer") == 0) return tdl_optimizer_parse(value, &cfg->opt);
    if (strcmp(field, "schedule") == 0) return tdl_schedule_parse(value, &cfg->schedule);
    return tdl_fail(TDL_EINVAL, "training configuration: unknown text field '%s' (loss optimizer schedule)", field);
}

int tdl_train_config_set_number(tdl_train_config *cfg, const char *field, double value)
{
    static const struct { const char *name; size_t off; } reals[] = {
        {"lr", offsetof(tdl_train_config, lr)},
        {"momentum", offsetof(tdl_train_config, momentum)},
        {"beta1", offsetof(tdl_train_config, beta1)},
        {"beta2", offsetof(tdl_train_config, beta2)},
        {"eps", offsetof(tdl_train_config, eps)},
        {"weight_decay", offsetof(tdl_train_config, weight_decay)},
        {"gamma", offsetof(tdl_train_config, gamma)},
        {"target_loss", offsetof(tdl_train_config, target_loss)},
        {"target_accuracy", offsetof(tdl_train_config, target_accuracy)},
        {"diverge_factor", offsetof(tdl_train_config, diverge_factor)},
    };
    static const struct { const char *name; size_t off; } counts[] = {
        {"step_every", offsetof(tdl_train_config, step_every)},
        {"epochs", offsetof(tdl_train_config, epochs)},
        {"steps", offsetof(tdl_train_config, steps)},
        {"batch", offsetof(tdl_train_config, batch)},
        {"eval_every", offsetof(tdl_train_config, eval_every)},
    };
    if (!field) return tdl_fail(TDL_EINVAL, "training configuration: a field is needed");
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (strcmp(field, reals[i].name) == 0) {
            memcpy((char *)cfg + reals[i].off, &value, sizeof value);
            return TDL_OK;
        }
    unsigned long long u = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (strcmp(field, counts[i].name) == 0) {
            int st = to_count(field, value, &u);
            if (st != TDL_OK) return st;
            size_t z = (size_t)u;
            memcpy((char *)cfg + counts[i].off, &z, sizeof z);
            return TDL_OK;
        }
    if (strcmp(field, "seed") == 0) {
        int st = to_count(field, value, &u);
        if (st != TDL_OK) return st;
        cfg->seed = (unsigned long)u;
        return TDL_OK;
    }
    return tdl_fail(TDL_EINVAL, "training configuration: unknown number field '%s' (lr momentum beta1 beta2 eps "
                    "weight_decay gamma target_loss target_accuracy diverge_factor step_every epochs steps batch "
                    "eval_every seed)", field);
}

void tdl_train_config_set_callback(tdl_train_config *cfg, tdl_train_callback cb, void *user)
{
    cfg->callback = cb;
    cfg->user = user;
}

tdl_loss_kind tdl_train_config_loss(const tdl_train_config *cfg) { return cfg->loss; }

/* ---- bounds -------------------------------------------------------------- */

tdl_bounds_config *tdl_bounds_config_new(void)
{
    tdl_bounds_config *cfg = tdl_malloc(sizeof *cfg, "a bounds configuration");
    if (cfg) tdl_bounds_config_default(cfg);
    return cfg;
}

void tdl_bounds_config_free(tdl_bounds_config **cfg)
{
    if (!cfg) return;
    free(*cfg);
    *cfg = NULL;
}

int tdl_bounds_config_set_number(tdl_bounds_config *cfg, const char *field, double value)
{
    unsigned long long u = 0;
    int st = TDL_OK;
    if (!field) return tdl_fail(TDL_EINVAL, "bounds configuration: a field is needed");
    if (strcmp(field, "delta") == 0) {
        if (!(value > 0 && value < 1)) return tdl_fail(TDL_EINVAL, "delta: expected a number in (0, 1), got %g", value);
        cfg->delta = value;
    } else if (strcmp(field, "margin_percentile") == 0) {
        if (!(value >= 0 && value <= 100)) return tdl_fail(TDL_EINVAL, "margin_percentile: expected a number in [0, 100], got %g", value);
        cfg->margin_percentile = value;
    } else if (strcmp(field, "flat_target") == 0) {
        cfg->flat_target = value;
    } else if (strcmp(field, "flatness") == 0 || strcmp(field, "ntk") == 0 || strcmp(field, "flat_steps") == 0 ||
               strcmp(field, "flat_samples") == 0 || strcmp(field, "mc_samples") == 0 || strcmp(field, "seed") == 0) {
        if ((st = to_count(field, value, &u)) != TDL_OK) return st;
        if (strcmp(field, "flatness") == 0) cfg->flatness = u != 0;
        else if (strcmp(field, "ntk") == 0) cfg->ntk = u != 0;
        else if (strcmp(field, "flat_steps") == 0) cfg->flat_steps = (size_t)u;
        else if (strcmp(field, "flat_samples") == 0) cfg->flat_samples = (size_t)u;
        else if (strcmp(field, "mc_samples") == 0) cfg->mc_samples = (size_t)u;
        else cfg->seed = (unsigned long)u;
    } else {
        return tdl_fail(TDL_EINVAL, "bounds configuration: unknown field '%s' (delta margin_percentile flatness "
                        "flat_steps flat_samples flat_target mc_samples seed ntk)", field);
    }
    return TDL_OK;
}

void tdl_measure_get(const tdl_measure *v, size_t i, const char **name, double *value, double *bound,
                     int *vacuous, int *available, double *delta, const char **source, const char **note)
{
    const tdl_measure *e = &v[i];
    if (name) *name = e->name;
    if (value) *value = e->value;
    if (bound) *bound = e->bound;
    if (vacuous) *vacuous = e->vacuous;
    if (available) *available = e->available;
    if (delta) *delta = e->delta;
    if (source) *source = e->source;
    if (note) *note = e->note;
}

void tdl_measure_get_ledger(const tdl_measure *v, size_t i, const char **kind, const char **classifier,
                            double *fixed_scale_value, const char **bound_reason, int *below_chance,
                            size_t *n_terms, size_t *n_hyps)
{
    const tdl_measure *e = &v[i];
    if (kind) *kind = tdl_name_of(tdl_measure_kind_names, (int)e->kind);
    if (classifier) *classifier = e->classifier == TDL_CLASSIFIER_NONE ? NULL : tdl_name_of(tdl_classifier_names, (int)e->classifier);
    if (fixed_scale_value) *fixed_scale_value = e->fixed_scale_value;
    if (bound_reason) *bound_reason = e->bound_reason;
    if (below_chance) *below_chance = e->below_chance;
    if (n_terms) *n_terms = e->n_terms;
    if (n_hyps) *n_hyps = e->n_hyps;
}

void tdl_measure_get_term(const tdl_measure *v, size_t i, size_t k, const char **name, double *value)
{
    const tdl_measure_term *t = &v[i].terms[k];
    if (name) *name = t->name;
    if (value) *value = t->value;
}

void tdl_measure_get_hypothesis(const tdl_measure *v, size_t i, size_t k, const char **text, int *holds, const char **why)
{
    const tdl_measure_hyp *h = &v[i].hyps[k];
    if (text) *text = h->text;
    if (holds) *holds = h->holds;
    if (why) *why = h->why;
}

tdl_dr_config *tdl_dr_config_new(void)
{
    tdl_dr_config *cfg = tdl_malloc(sizeof *cfg, "a PAC-Bayes configuration");
    if (cfg) tdl_dr_config_default(cfg);
    return cfg;
}

void tdl_dr_config_free(tdl_dr_config **cfg)
{
    if (!cfg) return;
    free(*cfg);
    *cfg = NULL;
}

int tdl_dr_config_set_number(tdl_dr_config *cfg, const char *field, double value)
{
    static const struct { const char *name; size_t off; } reals[] = {
        {"lr", offsetof(tdl_dr_config, lr)},
        {"sigma_init", offsetof(tdl_dr_config, sigma_init)},
        {"rho_init", offsetof(tdl_dr_config, rho_init)},
        {"b", offsetof(tdl_dr_config, b)},
        {"c", offsetof(tdl_dr_config, c)},
        {"delta", offsetof(tdl_dr_config, delta)},
        {"delta_prime", offsetof(tdl_dr_config, delta_prime)},
    };
    static const struct { const char *name; size_t off; } counts[] = {
        {"epochs", offsetof(tdl_dr_config, epochs)},
        {"batch", offsetof(tdl_dr_config, batch)},
        {"lr_drop_epoch", offsetof(tdl_dr_config, lr_drop_epoch)},
        {"mc_samples", offsetof(tdl_dr_config, mc_samples)},
    };
    unsigned long long u = 0;
    int st;
    if (!field) return tdl_fail(TDL_EINVAL, "PAC-Bayes configuration: a field is needed");
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (strcmp(field, reals[i].name) == 0) {
            memcpy((char *)cfg + reals[i].off, &value, sizeof value);
            return TDL_OK;
        }
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (strcmp(field, counts[i].name) == 0) {
            if ((st = to_count(field, value, &u)) != TDL_OK) return st;
            size_t z = (size_t)u;
            memcpy((char *)cfg + counts[i].off, &z, sizeof z);
            return TDL_OK;
        }
    if (strcmp(field, "seed") == 0) {
        if ((st = to_count(field, value, &u)) != TDL_OK) return st;
        cfg->seed = (unsigned long)u;
        return TDL_OK;
    }
    return tdl_fail(TDL_EINVAL, "PAC-Bayes configuration: unknown number field '%s' (epochs batch lr lr_drop_epoch "
                    "sigma_init rho_init b c delta delta_prime mc_samples seed)", field);
}

int tdl_dr_config_set_text(tdl_dr_config *cfg, const char *field, const char *value)
{
    if (!field || strcmp(field, "objective") != 0)
        return tdl_fail(TDL_EINVAL, "PAC-Bayes configuration: unknown text field '%s' (objective)", field ? field : "(null)");
    int v;
    int st = tdl_name_lookup(tdl_dr_objective_names, "PAC-Bayes objective", value, &v);
    if (st == TDL_OK) cfg->objective = (tdl_dr_objective_kind)v;
    return st;
}

/* ---- NTK ----------------------------------------------------------------- */

int tdl_ntk_config_new(int full, const char *method, unsigned long long layers, size_t budget_bytes,
                        tdl_ntk_config **out)
{
    *out = NULL;
    tdl_ntk_config o;
    tdl_ntk_config_default(&o);
    o.full = full != 0;
    if (!method || strcmp(method, "auto") == 0) o.method = TDL_NTK_AUTO;
    else if (strcmp(method, "structured") == 0) o.method = TDL_NTK_STRUCTURED;
    else if (strcmp(method, "jacobian") == 0) o.method = TDL_NTK_JACOBIAN;
    else return tdl_fail(TDL_EINVAL, "unknown NTK method '%s' (auto structured jacobian)", method);
    o.layers = layers;
    if (budget_bytes) o.budget_bytes = budget_bytes;
    *out = tdl_malloc(sizeof o, "NTK options");
    if (!*out) return TDL_ENOMEM;
    **out = o;
    return TDL_OK;
}

void tdl_ntk_config_free(tdl_ntk_config **o)
{
    if (!o) return;
    free(*o);
    *o = NULL;
}

int tdl_ntk_analytic_config_new(const tdl_mlp *m, const char *kernel_act, size_t quad,
                                tdl_ntk_analytic_config **out)
{
    *out = NULL;
    tdl_ntk_analytic_config *cfg = tdl_malloc(sizeof *cfg, "an analytic kernel configuration");
    if (!cfg) return TDL_ENOMEM;
    tdl_ntk_analytic_config_from_mlp(m, cfg);
    if (kernel_act) {
        int st = tdl_kact_parse(kernel_act, &cfg->act);
        if (st != TDL_OK) {
            free(cfg);
            return st;
        }
    }
    cfg->quad = quad;
    *out = cfg;
    return TDL_OK;
}

void tdl_ntk_analytic_config_free(tdl_ntk_analytic_config **cfg)
{
    if (!cfg) return;
    free(*cfg);
    *cfg = NULL;
}

int tdl_ntk_analytic_config_numeric(const tdl_ntk_analytic_config *cfg)
{
    return cfg->act.kind == TDL_KACT_NUMERIC;
}

const char *tdl_ntk_analytic_config_param_name(const tdl_ntk_analytic_config *cfg)
{
    return tdl_param_name(cfg->param);
}
