/* modelopts.c — shared model options (see modelopts.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modelopts.h"

const char cli_model_help[] =
    "model (a file, or a fresh net):\n"
    "  --model FILE    .safetensors, .npz or torch.save .pt: a PyTorch MLP state dict of any\n"
    "                  naming (0.weight, fc1.weight, layers.0.weight, ...) loads as it is\n"
    "  --layer-order L,...  the order of the Linear layers in --model, e.g. fc1,fc2,fc3\n"
    "                  (default: the numeric order of their names, checked against their shapes)\n"
    "  --arch A        widths input-hidden...-output, e.g. 64-128-10 (depth 1 = linear model)\n"
    "  --act ACT       identity relu leaky-relu:A abrelu:A,B tanh erf sigmoid softplus\n"
    "                  quadratic gelu (default @{model.act} for --arch; a model file names\n"
    "                  its own, and one without an 'activation' entry needs --act)\n"
    "  --init I        gaussian he xavier orthogonal zero (default @{model.init})\n"
    "  --param P       standard (W ~ N(0, sigma_w^2/fan_in)), ntk (W ~ N(0,1), forward\n"
    "                  scaled by sigma_w/sqrt(fan_in)) or mf (mean-field, muP: ntk with the\n"
    "                  last layer scaled by sigma_w/n, n its fan-in, so f = f_ntk/sqrt n;\n"
    "                  give it --lr n times an ntk step; no analytic kernel)\n"
    "                  (default @{model.param})\n"
    "  --sigma-w S     weight scale (default sqrt 2 with --init he, else 1; the same\n"
    "                  for every parametrization)\n"
    "  --sigma-b S     bias scale (default @{model.sigma_b}: biases start at zero)\n"
    "  --bias, --no-bias   biases on every layer (default --bias)\n"
    "  --freeze L,...  layers (0-based) kept fixed in training (default none)\n"
    "  --seed N        initialization seed (default @{model.seed})\n"
    "  --loss L        mse ce logistic hinge (default: the model file's, else ce for\n"
    "                  C > 1 outputs, logistic for one output, mse for regression);\n"
    "                  mse:torch is PyTorch's nn.MSELoss, (1/(n C)) sum ||f - y||^2\n"
    "                  (tdl's mse: (1/n) sum 1/2 ||f - y||^2)\n"
    "  --reduction R   mean or sum over the examples (PyTorch's reduction=; default\n"
    "                  the model file's, else mean; see 'tdl help conventions')\n";

void cli_model_opts_init(cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sigma_w = NAN;
    o->sigma_b = 0.0;
    o->bias = 1;
}

int cli_model_opts_parse(cli_model_opts *o, const char *cmd, int code, const char *arg)
{
    switch (code) {
    case OPT_MODEL: o->model = arg; return 1;
    case OPT_ARCH: o->arch = arg; return 1;
    case OPT_ACT: o->act = arg; return 1;
    case OPT_INIT: o->init = arg; return 1;
    case OPT_PARAM: o->param = arg; return 1;
    case OPT_FREEZE: o->freeze = arg; return 1;
    case OPT_LAYER_ORDER: o->layers = arg; return 1;
    case OPT_LOSS: {
        const char *colon = strchr(arg, ':');
        if (!colon) {
            o->loss = arg;
            o->mse_convention = NULL;
            return 1;
        }
        char base[32];
        snprintf(base, sizeof base, "%.*s", (int)(colon - arg), arg);
        tdl_loss_kind k;
        int v;
        if (tdl_loss_parse(base, &k) != TDL_OK) { cli_usage(cmd, "--loss %s: %s", arg, tdl_errmsg()); return -1; }
        if (k != TDL_LOSS_MSE) {
            cli_usage(cmd, "--loss %s: only mse has a convention (mse:torch, mse:tdl); %s is the same in PyTorch (use --reduction)", arg, base);
            return -1;
        }
        if (tdl_name_lookup(tdl_mse_convention_names, "mse convention", colon + 1, &v) != TDL_OK) {
            cli_usage(cmd, "--loss %s: expected mse:torch or mse:tdl", arg);
            return -1;
        }
        o->loss = tdl_loss_name(k);
        o->mse_convention = tdl_name_of(tdl_mse_convention_names, v);
        return 1;
    }
    case OPT_REDUCTION: {
        int v;
        if (tdl_name_lookup(tdl_reduction_names, "reduction", arg, &v) != TDL_OK) {
            cli_usage(cmd, "--reduction %s: expected mean or sum", arg);
            return -1;
        }
        o->reduction = tdl_name_of(tdl_reduction_names, v);
        return 1;
    }
    case OPT_BIAS: o->bias = 1; return 1;
    case OPT_NO_BIAS: o->bias = 0; return 1;
    case OPT_SIGMA_W:
        if (cli_parse_double(arg, &o->sigma_w) != 0 || o->sigma_w < 0) { cli_usage(cmd, "--sigma-w %s: expected a number >= 0", arg); return -1; }
        return 1;
    case OPT_SIGMA_B:
        if (cli_parse_double(arg, &o->sigma_b) != 0 || o->sigma_b < 0) { cli_usage(cmd, "--sigma-b %s: expected a number >= 0", arg); return -1; }
        return 1;
    case OPT_SEED:
        if (cli_parse_ulong(arg, &o->seed) != 0) { cli_usage(cmd, "--seed %s: expected an integer in [0, 4294967295]", arg); return -1; }
        return 1;
    default: return 0;
    }
}

/* 1 when PATH is a model file of more than one layer without an
 * 'activation' entry in its metadata: the library refuses it unless the
 * caller names an activation, and the CLI's advice is --act. */
static int cli_model_build_net(const cli_model_opts *o, const char *cmd, tdl_mlp **out);

static int model_lacks_activation(const char *path)
{
    tdl_tensors *set = NULL;
    if (tdl_tensors_read(path, &set) != TDL_OK) return 0;
    size_t weights = 0;
    for (size_t i = 0; i < set->count; i++) {
        size_t n = strlen(set->items[i].name);
        if (n > 7 && strcmp(set->items[i].name + n - 7, ".weight") == 0) weights++;
    }
    int lacks = weights > 1 && !tdl_tensors_meta(set, "activation");
    tdl_tensors_free(&set);
    return lacks;
}

/* The loss convention of the options onto the model (modelopts.h). */
static int apply_convention(const cli_model_opts *o, tdl_mlp *m)
{
    const char *mse = o->mse_convention;
    /* a plain --loss mse means tdl's mse, also on a model file saved with torch's */
    if (!mse && o->loss && !strcmp(o->loss, "mse") && tdl_tensors_meta(m->meta, "mse_convention")) mse = "tdl";
    if (!mse && !o->reduction) return 0;
    int st = tdl_mlp_set_loss_convention_names(m, o->reduction, mse);
    return st == TDL_OK ? 0 : cli_fail(st);
}

int cli_model_no_loss(const cli_model_opts *o, const char *cmd)
{
    if (o->reduction) return cli_usage(cmd, "--reduction: tdl %s computes no loss", cmd);
    if (o->mse_convention) return cli_usage(cmd, "--loss mse:%s: tdl %s computes no loss", o->mse_convention, cmd);
    return 0;
}

int cli_model_build(const cli_model_opts *o, const char *cmd, tdl_mlp **out)
{
    int rc = cli_model_build_net(o, cmd, out);
    if (rc == 0 && (rc = apply_convention(o, *out)) != 0) tdl_mlp_free(out);
    return rc;
}

static int cli_model_build_net(const cli_model_opts *o, const char *cmd, tdl_mlp **out)
{
    tdl_act act;
    int st;
    *out = NULL;
    if (o->act && (st = tdl_act_parse(o->act, &act)) != TDL_OK) return cli_usage(cmd, "%s", tdl_errmsg());
    if (o->model && o->arch) return cli_usage(cmd, "give --model FILE or --arch A, not both");
    if (o->layers && !o->model) return cli_usage(cmd, "--layer-order orders the layers of --model FILE: give --model");
    if (o->model) {
        if ((st = tdl_mlp_load_ex(o->model, o->act ? &act : NULL, o->layers, out)) != TDL_OK) {
            if (st == TDL_EINVAL && !o->act && model_lacks_activation(o->model))
                return cli_failf("the model file names no activation (no __metadata__ 'activation'): give --act");
            /* the library's "give the layer order, e.g. A,B" is --layer-order here */
            const char *give = strstr(tdl_errmsg(), "give the layer order, e.g. ");
            if (give) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", tdl_errmsg());
                return cli_failf("%.*sgive the order with --layer-order %s", (int)(give - tdl_errmsg()), msg,
                                 msg + (give - tdl_errmsg()) + strlen("give the layer order, e.g. "));
            }
            return cli_fail(st);
        }
        return 0;
    }
    if (!o->arch) return cli_usage(cmd, "give --model FILE or a fresh net with --arch A");
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    if ((st = tdl_arch_parse(o->arch, &cfg)) != TDL_OK) return cli_usage(cmd, "%s", tdl_errmsg());
    if (o->act) cfg.act = act;
    if (o->init && (st = tdl_init_parse(o->init, &cfg.init)) != TDL_OK) return cli_usage(cmd, "%s", tdl_errmsg());
    if (o->param) {
        if (tdl_param_parse(o->param, &cfg.param) != TDL_OK)
            return cli_usage(cmd, "--param %s: expected standard, ntk or mf", o->param);
    }
    cfg.sigma_w = o->sigma_w;
    cfg.sigma_b = o->sigma_b;
    cfg.bias = o->bias;
    cfg.seed = o->seed;
    if (o->freeze) {
        unsigned long long mask;
        if (cli_parse_index_list(o->freeze, cfg.depth - 1, &mask) != 0)
            return cli_usage(cmd, "--freeze %s: expected layer indices 0..%zu separated by commas", o->freeze, cfg.depth - 1);
        for (size_t l = 0; l < cfg.depth; l++)
            if (mask >> l & 1) cfg.trainable[l] = 0;
    }
    if ((st = tdl_mlp_create(&cfg, out)) != TDL_OK) {
        if (st == TDL_EINVAL && cfg.init == TDL_INIT_XAVIER && cfg.param != TDL_PARAM_STANDARD)
            return cli_failf("init xavier belongs to the standard parametrization (%s stores N(0,1) weights; set --sigma-w)",
                             tdl_param_name(cfg.param));
        return cli_fail(st);
    }
    return 0;
}

int cli_model_loss(const cli_model_opts *o, const char *cmd, const tdl_mlp *m, const tdl_dataset *ds,
                   tdl_loss_kind *out)
{
    /* a bad --loss is a usage error; the rest is the library's rule */
    if (o->loss && tdl_loss_parse(o->loss, out) != TDL_OK) return cli_usage(cmd, "%s", tdl_errmsg());
    int st = tdl_mlp_default_loss(m, ds, o->loss, out);
    return st == TDL_OK ? 0 : cli_fail(st);
}

int cli_check_test(const char *spec, tdl_loss_kind loss, const tdl_mlp *m, const tdl_dataset *ts)
{
    if (tdl_loss_check(loss, m, ts) != TDL_OK) return cli_failf("--test %s: %s", spec, tdl_errmsg());
    return 0;
}
