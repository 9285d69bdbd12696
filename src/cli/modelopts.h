/* modelopts.h — the model options every command shares (--model, or a fresh
 * net from --arch/--act/--init/--param/--sigma-w/--sigma-b/--bias/--seed). */
#ifndef TDL_CLI_MODELOPTS_H
#define TDL_CLI_MODELOPTS_H

#include <getopt.h>
#include "cli.h"

typedef struct cli_model_opts {
    const char *model;     /* --model FILE */
    const char *arch;      /* --arch 64-128-10 */
    const char *act;       /* --act */
    const char *init;      /* --init */
    const char *param;     /* --param standard|ntk|mf */
    const char *freeze;    /* --freeze 0,2: layers not trained */
    double sigma_w, sigma_b;
    int bias;
    unsigned long seed;
    const char *loss;      /* --loss (the loss's canonical name when given as mse:torch) */
    const char *mse_convention; /* --loss mse:torch / mse:tdl, or NULL */
    const char *reduction; /* --reduction mean|sum, or NULL */
    const char *layers;    /* --layer-order fc1,fc2,fc3: the Linear layers' order in --model */
} cli_model_opts;

/* Option codes 1000.. for getopt_long; append MODEL_LONG_OPTIONS to a table. */
enum {
    OPT_MODEL = 1000, OPT_ARCH, OPT_ACT, OPT_INIT, OPT_PARAM, OPT_SIGMA_W, OPT_SIGMA_B,
    OPT_BIAS, OPT_NO_BIAS, OPT_SEED, OPT_FREEZE, OPT_LOSS, OPT_REDUCTION, OPT_LAYER_ORDER
};
#define MODEL_LONG_OPTIONS \
    {"model", required_argument, NULL, OPT_MODEL}, {"arch", required_argument, NULL, OPT_ARCH}, \
    {"act", required_argument, NULL, OPT_ACT}, {"init", required_argument, NULL, OPT_INIT}, \
    {"param", required_argument, NULL, OPT_PARAM}, {"sigma-w", required_argument, NULL, OPT_SIGMA_W}, \
    {"sigma-b", required_argument, NULL, OPT_SIGMA_B}, {"bias", no_argument, NULL, OPT_BIAS}, \
    {"no-bias", no_argument, NULL, OPT_NO_BIAS}, {"seed", required_argument, NULL, OPT_SEED}, \
    {"freeze", required_argument, NULL, OPT_FREEZE}, {"loss", required_argument, NULL, OPT_LOSS}, \
    {"reduction", required_argument, NULL, OPT_REDUCTION}, {"layer-order", required_argument, NULL, OPT_LAYER_ORDER}

void cli_model_opts_init(cli_model_opts *o);
/* Handle one model option: 1 handled, 0 not a model option, -1 bad value
 * (usage message printed). */
int cli_model_opts_parse(cli_model_opts *o, const char *cmd, int code, const char *arg);
/* Load --model or build the --arch net, then set its loss convention from
 * --loss mse:torch|mse:tdl and --reduction (tdl_mlp_set_loss_convention:
 * nothing is set without them, so a model file's own convention stays; a
 * plain --loss mse resets a file's mse convention to tdl's).  Prints the
 * error; returns an exit code. */
int cli_model_build(const cli_model_opts *o, const char *cmd, tdl_mlp **out);
/* --loss, else the model's metadata "loss", else mse for regression,
 * logistic for one output, ce otherwise.  Returns an exit code. */
int cli_model_loss(const cli_model_opts *o, const char *cmd, const tdl_mlp *m,
                   const tdl_dataset *ds, tdl_loss_kind *out);

/* For a command that computes no loss: a usage error (exit code) when
 * --reduction or --loss L:CONVENTION was given, else 0. */
int cli_model_no_loss(const cli_model_opts *o, const char *cmd);

/* Text of the model options for help screens. */
extern const char cli_model_help[];

#endif
