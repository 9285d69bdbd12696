/* provenance.h — what a command's numbers depend on, said the same way by
 * every command (issue 23): the model (a fresh net's parametrization,
 * activation, init, sigma_w, sigma_b and seed; a model file's metadata, or
 * that it has none) and the loss convention (tdl/net.h).  The BLAS kernel is
 * in every JSON object already ("blas_core", src/output/json.c).
 *
 * JSON (inside the command's top-level object):
 *   "model_provenance": {"source": "fresh net" | "file", "path" (file),
 *       "parametrization", "activation", "init", "sigma_w", "sigma_b", "seed"
 *       (a fresh net; for a file the values in use),
 *       "metadata": the entries of a file that describe its net, {"format",
 *       "arch", "activation", "parametrization", "sigma_w", "sigma_b",
 *       "trainable", "init", "seed", "loss", "data", "train_seed",
 *       "tdl_version"} as far as present, or null with "metadata_reason"}
 *   "loss_name", "reduction" ("mean" | "sum"), "mse_convention" ("tdl" |
 *       "torch", mse only), "loss_definition" (the formula and its PyTorch
 *       equivalent)
 * Text: cli_provenance_model_text for the model line, cli_provenance_loss_text
 * for the loss. */
#ifndef TDL_CLI_PROVENANCE_H
#define TDL_CLI_PROVENANCE_H

#include "cli.h"
#include "modelopts.h"

/* "model_provenance": {...} as above. */
void cli_provenance_model_json(json_writer *w, const cli_model_opts *o, const tdl_mlp *m);
/* "loss_name", "reduction", "mse_convention" (mse), "loss_definition".
 * Returns 0, or an exit code after a bad convention in the model's metadata. */
int cli_provenance_loss_json(json_writer *w, const tdl_mlp *m, tdl_loss_kind loss);
/* The model line's parenthesis after the architecture, e.g.
 * "standard, relu, init he, sigma_w 1.41421, sigma_b 0, seed 0" or
 * "metadata: parametrization standard, ..." or "no metadata: ...". */
void cli_provenance_model_text(const cli_model_opts *o, const tdl_mlp *m, char *buf, size_t len);
/* "ce, mean over examples" or "mse, sum over examples, tdl's 1/2 ||f - y||^2". */
void cli_provenance_loss_text(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len);

/* The loss with its reduction in brackets, as the summary lines print it:
 * "ce (mean)", "ce (sum)", "mse:torch (mean)". */
void cli_provenance_loss_short(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len);
/* A figure's axis label for the loss: "loss (mean)", "loss (sum)". */
void cli_provenance_loss_label(const tdl_mlp *m, char *buf, size_t len);

#endif
