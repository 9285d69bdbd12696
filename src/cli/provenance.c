/* provenance.c — what a command's numbers depend on (provenance.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provenance.h"

/* The metadata entries that describe a model file's net and where it came
 * from, listed in this order when present (the loss convention's own
 * entries are reported by the loss keys: the options may override them). */
static const char *const described[] = {"format", "arch", "activation", "parametrization", "sigma_w", "sigma_b",
                                        "trainable", "init", "seed", "loss", "data", "train_seed", "tdl_version"};
#define N_DESCRIBED (sizeof described / sizeof described[0])

static size_t file_meta_count(const tdl_mlp *m)
{
    size_t n = 0;
    for (size_t i = 0; i < N_DESCRIBED; i++) n += tdl_tensors_meta(m->meta, described[i]) != NULL;
    return n;
}

void cli_provenance_model_json(json_writer *w, const cli_model_opts *o, const tdl_mlp *m)
{
    char act[64];
    tdl_act_format(&m->act, act, sizeof act);
    json_object_begin(w, "model_provenance");
    json_string(w, "source", o->model ? "file" : "fresh net");
    if (o->model) json_string(w, "path", o->model);
    json_string(w, "parametrization", tdl_param_name(m->param));
    json_string(w, "activation", act);
    json_number(w, "sigma_w", m->sigma_w);
    json_number(w, "sigma_b", m->sigma_b);
    const char *init = tdl_tensors_meta(m->meta, "init"), *seed = tdl_tensors_meta(m->meta, "seed");
    if (init) json_string(w, "init", init);
    else json_null_reason(w, "init", "not recorded in the model file");
    char *end = NULL;
    unsigned long long sv = seed ? strtoull(seed, &end, 10) : 0;
    if (seed && end && end != seed && !*end) json_size(w, "seed", (size_t)sv);
    else if (seed) json_string(w, "seed", seed);
    else json_null_reason(w, "seed", "not recorded in the model file");
    if (o->model) {
        if (file_meta_count(m)) {
            json_object_begin(w, "metadata");
            for (size_t i = 0; i < N_DESCRIBED; i++) {
                const char *v = tdl_tensors_meta(m->meta, described[i]);
                if (v) json_string(w, described[i], v);
            }
            json_object_end(w);
        } else {
            json_null_reason(w, "metadata",
                             "the model file has no metadata (a plain state dict): standard parametrization, "
                             "init and seed unknown");
        }
    }
    json_object_end(w);
}

int cli_provenance_loss_json(json_writer *w, const tdl_mlp *m, tdl_loss_kind loss)
{
    tdl_loss_convention c;
    int st = tdl_mlp_loss_convention(m, &c);
    if (st != TDL_OK) return cli_fail(st);
    char def[256];
    tdl_loss_convention_describe(loss, &c, def, sizeof def);
    json_string(w, "loss_name", tdl_loss_name(loss));
    json_string(w, "reduction", tdl_name_of(tdl_reduction_names, (int)c.reduction));
    if (loss == TDL_LOSS_MSE) json_string(w, "mse_convention", tdl_name_of(tdl_mse_convention_names, (int)c.mse));
    json_string(w, "loss_definition", def);
    return 0;
}

void cli_provenance_model_text(const cli_model_opts *o, const tdl_mlp *m, char *buf, size_t len)
{
    char act[64];
    tdl_act_format(&m->act, act, sizeof act);
    const char *init = tdl_tensors_meta(m->meta, "init"), *seed = tdl_tensors_meta(m->meta, "seed");
    if (o->model && !file_meta_count(m)) {
        snprintf(buf, len, "no metadata: %s parametrization, %s, init and seed unknown", tdl_param_name(m->param), act);
        return;
    }
    snprintf(buf, len, "%s%s parametrization, %s, init %s, sigma_w %.6g, sigma_b %.6g, seed %s", o->model ? "metadata: " : "",
             tdl_param_name(m->param), act, init ? init : "not recorded", m->sigma_w, m->sigma_b,
             seed ? seed : "not recorded");
}

void cli_provenance_loss_short(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len)
{
    tdl_loss_convention c;
    if (tdl_mlp_loss_convention(m, &c) != TDL_OK) tdl_loss_convention_default(&c);
    snprintf(buf, len, "%s%s (%s)", tdl_loss_name(loss), loss == TDL_LOSS_MSE && c.mse == TDL_MSE_TORCH ? ":torch" : "",
             tdl_name_of(tdl_reduction_names, (int)c.reduction));
}

void cli_provenance_loss_label(const tdl_mlp *m, char *buf, size_t len)
{
    tdl_loss_convention c;
    if (tdl_mlp_loss_convention(m, &c) != TDL_OK) tdl_loss_convention_default(&c);
    snprintf(buf, len, "loss (%s)", tdl_name_of(tdl_reduction_names, (int)c.reduction));
}

void cli_provenance_loss_text(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len)
{
    tdl_loss_convention c;
    if (tdl_mlp_loss_convention(m, &c) != TDL_OK) tdl_loss_convention_default(&c);
    const char *red = tdl_name_of(tdl_reduction_names, (int)c.reduction);
    if (loss == TDL_LOSS_MSE)
        snprintf(buf, len, "%s, %s, %s", tdl_loss_name(loss),
                 c.mse == TDL_MSE_TORCH && c.reduction == TDL_REDUCTION_MEAN ? "mean over the n C entries"
                 : c.reduction == TDL_REDUCTION_MEAN ? "mean over examples" : "sum over examples",
                 c.mse == TDL_MSE_TORCH ? "torch's ||f - y||^2" : "tdl's 1/2 ||f - y||^2");
    else
        snprintf(buf, len, "%s, %s over examples", tdl_loss_name(loss), red);
}
