/* trainopts.h — the training options shared by `tdl train` and `tdl sweep`
 * (--opt --lr --momentum --beta1 --beta2 --eps --weight-decay --schedule
 * --step-every --gamma --epochs --steps --batch --target-loss --target-acc
 * --eval-every --train-seed --diverge-factor), with the defaults of `tdl train`. */
#ifndef TDL_CLI_TRAINOPTS_H
#define TDL_CLI_TRAINOPTS_H

#include <getopt.h>
#include "cli.h"

typedef struct cli_train_opts {
    tdl_train_config cfg;
    const char *opt_text;      /* the --opt word ("momentum" is SGD with 0.9) */
    int lr_given, momentum_given, seed_given;
    int zero_epochs_ok;        /* set before parsing: --epochs 0 is accepted
                                  (tdl train saves the initialization) */
    int epochs_given;
} cli_train_opts;

/* Option codes 1100.. for getopt_long; append TRAIN_LONG_OPTIONS to a table. */
enum {
    OPT_T_OPT = 1100, OPT_T_LR, OPT_T_MOMENTUM, OPT_T_BETA1, OPT_T_BETA2, OPT_T_EPS, OPT_T_WD,
    OPT_T_SCHED, OPT_T_STEP_EVERY, OPT_T_GAMMA, OPT_T_EPOCHS, OPT_T_STEPS, OPT_T_BATCH,
    OPT_T_TARGET_LOSS, OPT_T_TARGET_ACC, OPT_T_EVAL_EVERY, OPT_T_TRAIN_SEED, OPT_T_DIVERGE
};
#define TRAIN_LONG_OPTIONS \
    {"opt", required_argument, NULL, OPT_T_OPT}, {"lr", required_argument, NULL, OPT_T_LR}, \
    {"momentum", required_argument, NULL, OPT_T_MOMENTUM}, {"beta1", required_argument, NULL, OPT_T_BETA1}, \
    {"beta2", required_argument, NULL, OPT_T_BETA2}, {"eps", required_argument, NULL, OPT_T_EPS}, \
    {"weight-decay", required_argument, NULL, OPT_T_WD}, {"schedule", required_argument, NULL, OPT_T_SCHED}, \
    {"step-every", required_argument, NULL, OPT_T_STEP_EVERY}, {"gamma", required_argument, NULL, OPT_T_GAMMA}, \
    {"epochs", required_argument, NULL, OPT_T_EPOCHS}, {"steps", required_argument, NULL, OPT_T_STEPS}, \
    {"batch", required_argument, NULL, OPT_T_BATCH}, {"target-loss", required_argument, NULL, OPT_T_TARGET_LOSS}, \
    {"target-acc", required_argument, NULL, OPT_T_TARGET_ACC}, {"eval-every", required_argument, NULL, OPT_T_EVAL_EVERY}, \
    {"train-seed", required_argument, NULL, OPT_T_TRAIN_SEED}, \
    {"diverge-factor", required_argument, NULL, OPT_T_DIVERGE}

/* Defaults of `tdl train`: momentum SGD (0.9), lr 0.1, 30 epochs, batch 128,
 * divergence factor 1e3 (the library's; tdl/train.h). */
void cli_train_opts_init(cli_train_opts *t);
/* Parse option c with argument arg (name: the option as typed, for the
 * message).  1: handled; 0: not a training option; -1: usage error printed. */
int cli_train_opts_parse(cli_train_opts *t, const char *cmd, int c, const char *arg, const char *name);
/* Settle the defaults that depend on other options (Adam's lr 1e-3, the
 * momentum of "momentum"/Nesterov, the minibatch seed = the model seed).
 * Returns 0, or EXIT_USAGE after printing why. */
int cli_train_opts_finish(cli_train_opts *t, const char *cmd, unsigned long model_seed);

#endif
