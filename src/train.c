/* train.c — optimizers, schedules and the training loop (tdl/train.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "tdl/train.h"
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "internal.h"
#include "net_internal.h"

/* OpenBLAS extension (not in gsl_cblas.h): y = alpha x + beta y. */
void cblas_daxpby(const int n, const double alpha, const double *x, const int incx, const double beta,
                  double *y, const int incy);

/* "momentum" is sgd with a momentum (the caller sets mu): an alias */
const tdl_name tdl_optimizer_names[] = {
    {"gd", TDL_OPT_GD}, {"sgd", TDL_OPT_SGD}, {"nesterov", TDL_OPT_NESTEROV}, {"adam", TDL_OPT_ADAM},
    {"momentum", TDL_OPT_SGD}, {NULL, 0}};
const tdl_name tdl_schedule_names[] = {
    {"constant", TDL_SCHED_CONSTANT}, {"step", TDL_SCHED_STEP}, {"cosine", TDL_SCHED_COSINE}, {NULL, 0}};
const tdl_name tdl_train_stop_names[] = {
    {"completed", TDL_STOP_COMPLETED}, {"target", TDL_STOP_TARGET}, {"diverged", TDL_STOP_DIVERGED},
    {"interrupted", TDL_STOP_INTERRUPTED}, {NULL, 0}};

static const char *name_or_mark(const tdl_name *table, int value)
{
    const char *n = tdl_name_of(table, value);
    return n ? n : "?";
}

int tdl_optimizer_parse(const char *text, tdl_optimizer *out)
{
    int v;
    if (tdl_name_lookup(tdl_optimizer_names, "optimizer", text, &v) != TDL_OK)
        /* the alias is listed too: it is what most users type */
        return tdl_fail(TDL_EINVAL, "unknown optimizer '%s' (gd sgd momentum nesterov adam)", text ? text : "(null)");
    *out = (tdl_optimizer)v;
    return TDL_OK;
}

const char *tdl_optimizer_name(tdl_optimizer opt) { return name_or_mark(tdl_optimizer_names, (int)opt); }

int tdl_schedule_parse(const char *text, tdl_schedule *out)
{
    int v;
    int st = tdl_name_lookup(tdl_schedule_names, "schedule", text, &v);
    if (st == TDL_OK) *out = (tdl_schedule)v;
    return st;
}

const char *tdl_schedule_name(tdl_schedule s) { return name_or_mark(tdl_schedule_names, (int)s); }

const char *tdl_train_stop_name(tdl_train_stop s) { return name_or_mark(tdl_train_stop_names, (int)s); }

void tdl_train_config_default(tdl_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->loss = TDL_LOSS_CE;
    cfg->opt = TDL_OPT_SGD;
    cfg->lr = 0.1;
    cfg->momentum = 0.0;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->schedule = TDL_SCHED_CONSTANT;
    cfg->step_every = 10;
    cfg->gamma = 0.1;
    cfg->epochs = 10;
    cfg->batch = 128;
    cfg->target_loss = NAN;
    cfg->target_accuracy = NAN;
    cfg->eval_every = 1;
    cfg->diverge_factor = 1e3; /* see "Divergence" in train.h */
}

static double norm2(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double v = b ? a[i] - b[i] : a[i];
        s += v * v;
    }
    return sqrt(s);
}

static double learning_rate(const tdl_train_config *cfg, size_t epoch, size_t step, size_t total_steps)
{
    switch (cfg->schedule) {
    case TDL_SCHED_STEP:
        return cfg->lr * pow(cfg->gamma, (double)(epoch / (cfg->step_every ? cfg->step_every : 1)));
    case TDL_SCHED_COSINE:
        return cfg->lr * 0.5 * (1.0 + cos(M_PI * (double)step / (double)total_steps));
    default:
        return cfg->lr;
    }
}

static int validate(const tdl_mlp *m, const tdl_dataset *ds, const tdl_train_config *cfg)
{
    int st = tdl_loss_check(cfg->loss, m, ds);
    if (st != TDL_OK) return st;
    if (ds->classes) { /* a classifier needs two classes to tell apart */
        size_t distinct = 0, first = ds->labels[0];
        for (size_t i = 1; i < ds->n && !distinct; i++) distinct = ds->labels[i] != first;
        if (!distinct)
            return tdl_fail(TDL_EINVAL, "every training label is %zu: a single class leaves nothing to learn (check the data spec's split, n= or binary=)", first);
    }
    if (!(cfg->lr > 0) || !isfinite(cfg->lr)) return tdl_fail(TDL_EINVAL, "learning rate must be > 0 (got %g)", cfg->lr);
    if (!(cfg->momentum >= 0 && cfg->momentum < 1)) return tdl_fail(TDL_EINVAL, "momentum must be in [0, 1)");
    if (!(cfg->weight_decay >= 0)) return tdl_fail(TDL_EINVAL, "weight decay must be >= 0");
    if (!(cfg->beta1 >= 0 && cfg->beta1 < 1 && cfg->beta2 >= 0 && cfg->beta2 < 1 && cfg->eps > 0))
        return tdl_fail(TDL_EINVAL, "adam needs beta1, beta2 in [0, 1) and eps > 0");
    if (cfg->epochs == 0 && cfg->steps == 0) return tdl_fail(TDL_EINVAL, "train for at least one epoch or step");
    if (!(cfg->diverge_factor == 0 || cfg->diverge_factor >= 1))
        return tdl_fail(TDL_EINVAL, "the divergence factor must be 0 (off) or >= 1 (got %g)", cfg->diverge_factor);
    if (cfg->opt == TDL_OPT_NESTEROV && cfg->momentum <= 0)
        return tdl_fail(TDL_EINVAL, "nesterov needs a momentum > 0");
    return TDL_OK;
}

/* One optimizer step on the trainable ranges [lo[k], hi[k]) (PyTorch's
 * rules, see train.h).  One loop per optimizer so that each vectorizes. */
static void update(const tdl_train_config *cfg, double *restrict theta, double *restrict grad_w,
                   double *restrict buf1, double *restrict buf2, const size_t *lo, const size_t *hi,
                   size_t nr, double lr, size_t step)
{
    const double mu = cfg->momentum, wd = cfg->weight_decay, b1 = cfg->beta1, b2 = cfg->beta2;
    const double c1 = 1 - pow(b1, (double)step), sc2 = sqrt(1 - pow(b2, (double)step));
    const int first = step == 1;
    const double *grad = grad_w; /* the SGD path adds weight decay into grad_w in place */
    for (size_t k = 0; k < nr; k++) {
        const size_t a = lo[k], e = hi[k];
        switch (cfg->opt) {
        case TDL_OPT_ADAM:
            for (size_t i = a; i < e; i++) {
                double g = grad[i] + wd * theta[i];
                buf1[i] = b1 * buf1[i] + (1 - b1) * g;
                buf2[i] = b2 * buf2[i] + (1 - b2) * g * g;
                theta[i] -= (lr / c1) * buf1[i] / (sqrt(buf2[i]) / sc2 + cfg->eps);
            }
            break;
        case TDL_OPT_NESTEROV:
            for (size_t i = a; i < e; i++) {
                double g = grad[i] + wd * theta[i];
                buf1[i] = first ? g : mu * buf1[i] + g;
                theta[i] -= lr * (g + mu * buf1[i]);
            }
            break;
        default:
            /* heavy-ball SGD through OpenBLAS's level-1 kernels, which split
             * the (memory-bound) loops over its threads: elementwise, so the
             * result does not depend on the thread count */
            if (wd != 0) cblas_daxpy((int)(e - a), wd, theta + a, 1, grad_w + a, 1);
            if (buf1) {
                if (first) cblas_dcopy((int)(e - a), grad_w + a, 1, buf1 + a, 1);
                else cblas_daxpby((int)(e - a), 1.0, grad_w + a, 1, mu, buf1 + a, 1);
                cblas_daxpy((int)(e - a), -lr, buf1 + a, 1, theta + a, 1);
            } else {
                cblas_daxpy((int)(e - a), -lr, grad_w + a, 1, theta + a, 1);
            }
        }
    }
}

/* Full-data evaluation into p; returns TDL_EDIVERGED for a non-finite loss. */
static int evaluate(const tdl_mlp *m, const tdl_dataset *ds, const tdl_train_config *cfg,
                    tdl_net_work *ew, tdl_train_progress *p)
{
    tdl_eval_stats s;
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->theta[i])) return TDL_EDIVERGED;
    int st = tdl_mlp_evaluate(m, cfg->loss, ds, ew, &s);
    if (st == TDL_ENONFINITE) return TDL_EDIVERGED;
    if (st != TDL_OK) return st;
    tdl_eval_stats_free(&s);
    if (!isfinite(s.loss)) return TDL_EDIVERGED;
    p->loss = s.loss;
    p->accuracy = s.accuracy;
    p->theta_norm = norm2(m->theta, NULL, m->n_params);
    p->dist_init = m->theta0 ? norm2(m->theta, m->theta0, m->n_params) : NAN;
    p->theta = m->theta;
    return TDL_OK;
}

/* L_zero: the mean loss of the zero predictor f(x) = 0 on ds (log C for ce,
 * log 2 for logistic, 1 for hinge, mean 1/2 ||y||^2 for mse), the scale
 * below which the divergence criterion does not look (train.h). */
static int zero_predictor_loss(const tdl_mlp *m, const tdl_dataset *ds, tdl_loss_kind loss, double *out)
{
    const size_t C = m->layers[m->depth - 1].out;
    double *f = tdl_calloc(C, sizeof(double), "zero outputs");
    if (!f) return TDL_ENOMEM;
    double s = 0;
    for (size_t i = 0; i < ds->n; i++)
        s += tdl_net_example_loss(loss, C, f, ds->labels ? ds->labels[i] : 0,
                                  ds->labels ? NULL : gsl_matrix_const_ptr(ds->Y, i, 0), NULL);
    free(f);
    double scale; /* 1/n, or the model's loss convention (tdl/net.h) */
    int st = tdl_mlp_loss_scale(m, loss, ds->n, &scale);
    if (st != TDL_OK) return st;
    /* the default (mean) divides, as before the conventions, for the same bits */
    *out = scale == 1.0 / (double)ds->n ? s / (double)ds->n : s * scale;
    return TDL_OK;
}

size_t tdl_train_batch_size(const tdl_train_config *cfg, size_t n)
{
    return (cfg->opt == TDL_OPT_GD || cfg->batch == 0 || cfg->batch > n) ? n : cfg->batch;
}

int tdl_train(tdl_mlp *m, const tdl_dataset *ds, const tdl_train_config *cfg, tdl_train_result *result)
{
    int st = validate(m, ds, cfg);
    if (st != TDL_OK) return st;
    memset(result, 0, sizeof *result);
    result->stopped = TDL_STOP_COMPLETED;
    result->initial_loss = result->reference_loss = result->diverged_loss = NAN;
    result->loss = result->accuracy = NAN;
    result->diverge_threshold = INFINITY;
    const size_t n = ds->n, d = ds->d, P = m->n_params;
    const size_t B = tdl_train_batch_size(cfg, n);
    const size_t batches = (n + B - 1) / B;
    const size_t total_steps = cfg->steps ? cfg->steps : cfg->epochs * batches;
    const int full_batch = B == n;
    const size_t C_out = m->layers[m->depth - 1].out;
    tdl_loss_convention conv;
    if ((st = tdl_mlp_loss_convention(m, &conv)) != TDL_OK) return st;

    tdl_net_work *w = NULL, *ew = NULL;
    double *grad = NULL, *buf1 = NULL, *buf2 = NULL, *good = NULL, *Xb = NULL, *Yb = NULL;
    size_t *order = NULL, *Lb = NULL;
    gsl_rng *r = NULL;
    size_t cap = full_batch ? (n < 2048 ? n : 2048) : B;
    if ((st = tdl_net_work_alloc(m, cap, &w)) != TDL_OK) goto cleanup;
    if ((st = tdl_net_work_alloc(m, n < 2048 ? n : 2048, &ew)) != TDL_OK) goto cleanup;
    grad = tdl_malloc(P * sizeof(double), "the gradient");
    good = tdl_malloc(P * sizeof(double), "a checkpoint");
    if (!grad || !good) { st = TDL_ENOMEM; goto cleanup; }
    if (cfg->opt != TDL_OPT_GD && (cfg->momentum > 0 || cfg->opt == TDL_OPT_ADAM)) {
        buf1 = tdl_calloc(P, sizeof(double), "optimizer state");
        if (!buf1) { st = TDL_ENOMEM; goto cleanup; }
    }
    if (cfg->opt == TDL_OPT_ADAM) {
        buf2 = tdl_calloc(P, sizeof(double), "optimizer state");
        if (!buf2) { st = TDL_ENOMEM; goto cleanup; }
    }
    if (!full_batch) {
        order = tdl_malloc(n * sizeof *order, "the minibatch order");
        Xb = tdl_malloc(B * d * sizeof(double), "a minibatch");
        if (ds->labels) Lb = tdl_malloc(B * sizeof *Lb, "a minibatch");
        else Yb = tdl_malloc(B * ds->Y->size2 * sizeof(double), "a minibatch");
        r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!order || !Xb || (!Lb && !Yb) || !r) { st = tdl_fail(TDL_ENOMEM, "out of memory for minibatches"); goto cleanup; }
        gsl_rng_set(r, cfg->seed);
        for (size_t i = 0; i < n; i++) order[i] = i;
    }

    /* Trainable parameter ranges [lo, hi). */
    size_t lo[2 * TDL_MAX_DEPTH], hi[2 * TDL_MAX_DEPTH], nr = 0;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        if (!L->trainable) continue;
        lo[nr] = L->w_off;
        hi[nr++] = L->w_off + L->in * L->out + (L->has_bias ? L->out : 0);
    }

    tdl_train_progress prog = {0};
    tdl_errclear();
    if ((st = evaluate(m, ds, cfg, ew, &prog)) != TDL_OK) {
        /* keep the evaluation's message: it says what is non-finite and where from */
        if (st == TDL_EDIVERGED) {
            char cause[1024];
            snprintf(cause, sizeof cause, "%s", tdl_errmsg());
            st = cause[0] ? tdl_fail(TDL_ENONFINITE, "the initial model: %s", cause)
                          : tdl_fail(TDL_ENONFINITE, "the loss of the initial model is not finite");
        }
        goto cleanup;
    }
    memcpy(good, m->theta, P * sizeof(double));
    /* the divergence threshold (criterion (b) of train.h) */
    double l_zero;
    if ((st = zero_predictor_loss(m, ds, cfg->loss, &l_zero)) != TDL_OK) goto cleanup;
    result->initial_loss = prog.loss;
    result->reference_loss = fmax(prog.loss, isfinite(l_zero) ? l_zero : 0);
    result->loss = prog.loss;
    result->accuracy = prog.accuracy;
    const double threshold = cfg->diverge_factor > 0 ? cfg->diverge_factor * result->reference_loss : INFINITY;
    result->diverge_threshold = threshold;
    double bad_loss = NAN; /* the loss that fired the criterion */
    size_t bad_epoch = 0;  /* the (1-based) epoch in which it fired */
    size_t step = 0, epoch = 0;
    int stop = 0;
    double lr = cfg->lr;
    while (!stop) {
        if (!full_batch) gsl_ran_shuffle(r, order, n, sizeof *order);
        for (size_t bi = 0; bi < batches && !stop; bi++) {
            if (cfg->steps && step >= cfg->steps) break;
            lr = learning_rate(cfg, epoch, step, total_steps);
            double bl = 0;
            if (full_batch) {
                st = tdl_mlp_loss_grad(m, cfg->loss, ds, w, &bl, grad);
            } else {
                size_t k0 = bi * B, nb = n - k0 < B ? n - k0 : B;
                for (size_t i = 0; i < nb; i++) {
                    size_t row = order[k0 + i];
                    memcpy(Xb + i * d, gsl_matrix_const_ptr(ds->X, row, 0), d * sizeof(double));
                    if (Lb) Lb[i] = ds->labels[row];
                    else memcpy(Yb + i * ds->Y->size2, gsl_matrix_const_ptr(ds->Y, row, 0), ds->Y->size2 * sizeof(double));
                }
                tdl_batch b = {nb, Xb, d, Lb, Yb, Yb ? ds->Y->size2 : 0};
                /* 1/nb, or the model's loss convention on this batch (tdl/net.h) */
                double scale = tdl_loss_scale(&conv, cfg->loss, nb, C_out);
                st = tdl_net_batch_grad_set(m, cfg->loss, &b, scale, w, &bl, grad);
            }
            if (st == TDL_ENONFINITE || (st == TDL_OK && !isfinite(bl))) {
                bad_loss = st == TDL_OK ? bl : NAN;
                result->diverged_nonfinite = 1;
                bad_epoch = epoch + 1;
                goto diverged;
            }
            if (st != TDL_OK) goto cleanup;
            /* full batch: bl is the full training loss at the current theta */
            if (full_batch && bl > threshold) { bad_loss = bl; bad_epoch = epoch + 1; goto diverged; }
            step++;
            update(cfg, m->theta, grad, buf1, buf2, lo, hi, nr, lr, step);
        }
        epoch++;
        int last = cfg->steps ? step >= cfg->steps : epoch >= cfg->epochs;
        int eval_now = last || (cfg->eval_every && epoch % cfg->eval_every == 0);
        if (eval_now) {
            tdl_train_progress cur = prog;
            st = evaluate(m, ds, cfg, ew, &cur);
            if (st == TDL_EDIVERGED) { result->diverged_nonfinite = 1; bad_epoch = epoch; goto diverged; }
            if (st != TDL_OK) goto cleanup;
            if (cur.loss > threshold) { bad_loss = cur.loss; bad_epoch = epoch; goto diverged; }
            prog = cur;
            memcpy(good, m->theta, P * sizeof(double));
            result->loss = prog.loss;
            result->accuracy = prog.accuracy;
            prog.epoch = epoch;
            prog.step = step;
            prog.lr = lr;
            if ((!isnan(cfg->target_loss) && prog.loss <= cfg->target_loss) ||
                (!isnan(cfg->target_accuracy) && prog.accuracy >= cfg->target_accuracy)) {
                result->reached_target = 1;
                result->stopped = TDL_STOP_TARGET;
                stop = 1;
            }
            if (cfg->callback && cfg->callback(&prog, cfg->user)) {
                result->epochs = epoch;
                result->steps = step;
                result->stopped = TDL_STOP_INTERRUPTED;
                st = tdl_fail(TDL_EINTR, "training stopped at epoch %zu", epoch);
                goto cleanup;
            }
        }
        if (last) stop = 1;
    }
    result->epochs = epoch;
    result->steps = step;
    st = TDL_OK;
    goto cleanup;
diverged:
    /* back to the last good checkpoint; result->loss and ->accuracy are its */
    memcpy(m->theta, good, P * sizeof(double));
    result->epochs = epoch;
    result->steps = step;
    result->stopped = TDL_STOP_DIVERGED;
    result->diverged_loss = bad_loss;
    if (result->diverged_nonfinite)
        st = tdl_fail(TDL_EDIVERGED, "training diverged after %zu step%s (epoch %zu): a non-finite loss or parameter (NaN or infinity) at learning rate %g: lower the learning rate",
                      step, step == 1 ? "" : "s", bad_epoch, lr);
    else
        st = tdl_fail(TDL_EDIVERGED, "training diverged after %zu step%s (epoch %zu): the training loss %.4g exceeds %g x %.4g (the larger of the initial and the zero-predictor loss) at learning rate %g: lower the learning rate",
                      step, step == 1 ? "" : "s", bad_epoch, bad_loss, cfg->diverge_factor, result->reference_loss, lr);
cleanup:
    tdl_net_work_free(&w);
    tdl_net_work_free(&ew);
    free(grad);
    free(buf1);
    free(buf2);
    free(good);
    free(order);
    free(Xb);
    free(Yb);
    free(Lb);
    if (r) gsl_rng_free(r);
    return st;
}
