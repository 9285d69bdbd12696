/* trainopts.c — the training options shared by `tdl train` and `tdl sweep`. */
#include <math.h>
#include <string.h>
#include "trainopts.h"

void cli_train_opts_init(cli_train_opts *t)
{
    memset(t, 0, sizeof *t);
    tdl_train_config_default(&t->cfg);
    t->cfg.epochs = 30;
    t->cfg.opt = TDL_OPT_SGD;
    t->opt_text = "momentum";
}

int cli_train_opts_parse(cli_train_opts *t, const char *cmd, int c, const char *arg, const char *name)
{
    tdl_train_config *cfg = &t->cfg;
    int bad = 0;
    switch (c) {
    case OPT_T_OPT:
        if (tdl_optimizer_parse(arg, &cfg->opt) != TDL_OK) { cli_usage(cmd, "%s", tdl_errmsg()); return -1; }
        t->opt_text = arg;
        return 1;
    case OPT_T_SCHED:
        if (tdl_schedule_parse(arg, &cfg->schedule) != TDL_OK) { cli_usage(cmd, "%s", tdl_errmsg()); return -1; }
        return 1;
    case OPT_T_LR: bad = cli_parse_double(arg, &cfg->lr) || !(cfg->lr > 0); t->lr_given = 1; break;
    case OPT_T_MOMENTUM:
        bad = cli_parse_double(arg, &cfg->momentum) || !(cfg->momentum >= 0 && cfg->momentum < 1);
        t->momentum_given = 1;
        break;
    case OPT_T_BETA1: bad = cli_parse_double(arg, &cfg->beta1) || !(cfg->beta1 >= 0 && cfg->beta1 < 1); break;
    case OPT_T_BETA2: bad = cli_parse_double(arg, &cfg->beta2) || !(cfg->beta2 >= 0 && cfg->beta2 < 1); break;
    case OPT_T_EPS: bad = cli_parse_double(arg, &cfg->eps) || !(cfg->eps > 0); break;
    case OPT_T_WD: bad = cli_parse_double(arg, &cfg->weight_decay) || !(cfg->weight_decay >= 0); break;
    case OPT_T_STEP_EVERY: bad = cli_parse_size(arg, 1, 1000000000, &cfg->step_every); break;
    case OPT_T_GAMMA: bad = cli_parse_double(arg, &cfg->gamma) || !(cfg->gamma > 0); break;
    case OPT_T_EPOCHS:
        bad = cli_parse_size(arg, t->zero_epochs_ok ? 0 : 1, 1000000000, &cfg->epochs);
        t->epochs_given = 1;
        break;
    case OPT_T_STEPS: bad = cli_parse_size(arg, 1, 1000000000000ULL, &cfg->steps); break;
    case OPT_T_BATCH: bad = cli_parse_size(arg, 0, 1000000000, &cfg->batch); break;
    case OPT_T_TARGET_LOSS: bad = cli_parse_double(arg, &cfg->target_loss) || !(cfg->target_loss >= 0); break;
    case OPT_T_TARGET_ACC:
        bad = cli_parse_double(arg, &cfg->target_accuracy) || !(cfg->target_accuracy >= 0 && cfg->target_accuracy <= 1);
        break;
    case OPT_T_EVAL_EVERY: bad = cli_parse_size(arg, 0, 1000000000, &cfg->eval_every); break;
    case OPT_T_TRAIN_SEED: bad = cli_parse_ulong(arg, &cfg->seed); t->seed_given = 1; break;
    case OPT_T_DIVERGE: /* 0 turns the loss-growth stop off; a factor < 1 would stop a falling loss */
        bad = cli_parse_double(arg, &cfg->diverge_factor) || !(cfg->diverge_factor == 0 || cfg->diverge_factor >= 1);
        if (bad) { cli_usage(cmd, "bad value '%s' for %s: expected 0 (off) or a factor >= 1", arg, name); return -1; }
        return 1;
    default: return 0;
    }
    if (bad) { cli_usage(cmd, "bad value '%s' for %s", arg, name); return -1; }
    return 1;
}

int cli_train_opts_finish(cli_train_opts *t, const char *cmd, unsigned long model_seed)
{
    tdl_train_config *cfg = &t->cfg;
    if (!t->seed_given) cfg->seed = model_seed;
    if (t->epochs_given && cfg->epochs == 0 && cfg->steps)
        return cli_usage(cmd, "--epochs 0 (save the initialization) and --steps %zu contradict each other", cfg->steps);
    if (cfg->opt == TDL_OPT_ADAM && !t->lr_given) cfg->lr = 1e-3;
    if (!t->momentum_given && (cfg->opt == TDL_OPT_NESTEROV || strcmp(t->opt_text, "momentum") == 0)) cfg->momentum = 0.9;
    if (cfg->opt == TDL_OPT_GD && t->momentum_given && cfg->momentum > 0)
        return cli_usage(cmd, "--opt gd is plain gradient descent; use --opt momentum --batch 0 for full-batch momentum");
    if (cfg->opt == TDL_OPT_NESTEROV && !(cfg->momentum > 0))
        return cli_usage(cmd, "--opt nesterov needs --momentum > 0 (got %g)", cfg->momentum);
    return 0;
}
