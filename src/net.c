/* net.c — forward pass, losses, backprop, R-operator HVP, Jacobian.
 *
 * Shape legend (batch of n examples; layer l maps n_{l} -> n_{l+1} in the
 * 0-based code, W_l is out x in, row-major):
 *   A_{-1} = X                        n x d
 *   Z_l    = s_l A_{l-1} W_l^T + t_l 1 b_l^T     n x out_l   (s = w_scale, t = b_scale)
 *   A_l    = phi(Z_l), D1_l = phi'(Z_l), D2_l = phi''(Z_l)   (l < L-1)
 *   F      = Z_{L-1}                  n x C
 * Backprop with G_l = dLoss/dZ_l (n x out_l):
 *   dW_l = s_l G_l^T A_{l-1},  db_l = t_l 1^T G_l,  G_{l-1} = s_l (G_l W_l) .* D1_{l-1}
 * R-operator (Pearlmutter 1994), direction v = (V_l, vb_l):
 *   R{Z_l} = s_l (R{A_{l-1}} W_l^T + A_{l-1} V_l^T) + t_l 1 vb_l^T,  R{A_l} = D1_l .* R{Z_l}
 *   R{G_L} = H_loss R{F}
 *   R{dW_l} = s_l (R{G_l}^T A_{l-1} + G_l^T R{A_{l-1}}),  R{db_l} = t_l 1^T R{G_l}
 *   R{G_{l-1}} = s_l [ (R{G_l} W_l + G_l V_l) .* D1_{l-1} + (G_l W_l) .* D2_{l-1} .* R{Z_{l-1}} ]
 * Gauss-Newton: the same with every term in G_l dropped (J^T H_loss J v).
 * All products are BLAS-3 (cblas_dgemm on row-major data).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/net.h"
#include "tdl/names.h"
#include "internal.h"
#include "net_internal.h"

struct tdl_net_work {
    size_t cap, depth, C, wmax;
    size_t widths[TDL_MAX_DEPTH + 1];     /* n_0 .. n_L of the net it was made for */
    double *Z[TDL_MAX_DEPTH], *A[TDL_MAX_DEPTH], *D1[TDL_MAX_DEPTH], *D2[TDL_MAX_DEPTH];
    double *RZ[TDL_MAX_DEPTH], *RA[TDL_MAX_DEPTH];
    double *G, *Gp, *RG, *RGp, *P, *RP;   /* cap * wmax each */
    double *jac_G, *jac_Gp;               /* cap * C * wmax (lazy) */
    double *Fbuf;                          /* cap * C */
    const double *X;                       /* cached input of the last forward */
    size_t ldx, n;
    int has_d2;
};

/* ---- losses ------------------------------------------------------------ */

const tdl_name tdl_loss_names[] = {
    {"mse", TDL_LOSS_MSE}, {"ce", TDL_LOSS_CE}, {"logistic", TDL_LOSS_LOGISTIC},
    {"hinge", TDL_LOSS_HINGE}, {"cross-entropy", TDL_LOSS_CE}, {NULL, 0},
};

int tdl_loss_parse(const char *text, tdl_loss_kind *out)
{
    int v;
    int st = tdl_name_lookup(tdl_loss_names, "loss", text, &v);
    if (st == TDL_OK) *out = (tdl_loss_kind)v;
    return st;
}

const char *tdl_loss_name(tdl_loss_kind loss)
{
    const char *name = tdl_name_of(tdl_loss_names, (int)loss);
    return name ? name : "?";
}

int tdl_loss_check(tdl_loss_kind loss, const tdl_mlp *m, const tdl_dataset *ds)
{
    size_t C = m->layers[m->depth - 1].out;
    if (m->layers[0].in != ds->d)
        return tdl_fail(TDL_ESHAPE, "the model takes %zu inputs but the data has %zu features", m->layers[0].in, ds->d);
    if (!ds->classes) {
        if (loss != TDL_LOSS_MSE)
            return tdl_fail(TDL_EINVAL, "loss %s needs class labels; the data has regression targets (use mse)", tdl_loss_name(loss));
        if (ds->Y->size2 != C)
            return tdl_fail(TDL_ESHAPE, "the model has %zu outputs but the data has %zu target columns", C, ds->Y->size2);
        return TDL_OK;
    }
    if (C == 1) {
        if (ds->classes > 2)
            return tdl_fail(TDL_ESHAPE, "the model has 1 output but the data has %zu classes", ds->classes);
        if (loss == TDL_LOSS_CE)
            return tdl_fail(TDL_EINVAL, "loss ce needs one output per class; a one-output net uses logistic, hinge or mse");
        return TDL_OK;
    }
    if (loss == TDL_LOSS_LOGISTIC)
        return tdl_fail(TDL_EINVAL, "loss logistic needs a one-output net (use ce for %zu outputs)", C);
    if (ds->classes > C)
        return tdl_fail(TDL_ESHAPE, "the model has %zu outputs but the data has %zu classes", C, ds->classes);
    return TDL_OK;
}

/* ---- loss conventions (net.h) ------------------------------------------- */

const tdl_name tdl_reduction_names[] = {{"mean", TDL_REDUCTION_MEAN}, {"sum", TDL_REDUCTION_SUM}, {NULL, 0}};
const tdl_name tdl_mse_convention_names[] = {{"tdl", TDL_MSE_TDL}, {"torch", TDL_MSE_TORCH}, {NULL, 0}};

#define META_REDUCTION "loss_reduction"
#define META_MSE "mse_convention"

void tdl_loss_convention_default(tdl_loss_convention *c)
{
    c->reduction = TDL_REDUCTION_MEAN;
    c->mse = TDL_MSE_TDL;
}

double tdl_loss_scale(const tdl_loss_convention *c, tdl_loss_kind loss, size_t n, size_t C)
{
    double f = c->reduction == TDL_REDUCTION_SUM ? 1.0 : 1.0 / (double)n;
    if (loss == TDL_LOSS_MSE && c->mse == TDL_MSE_TORCH)
        f = c->reduction == TDL_REDUCTION_SUM ? 2.0 : 2.0 / ((double)n * (double)C);
    return f;
}

/* One part of the model's convention: its metadata entry, or dflt when absent. */
static int convention_part(const tdl_mlp *m, const char *key, const tdl_name *table, const char *expected, int dflt,
                           int *out)
{
    const char *text = tdl_tensors_meta(m->meta, key);
    *out = dflt;
    if (text && tdl_name_lookup(table, key, text, out) != TDL_OK)
        return tdl_fail(TDL_EFORMAT, "metadata %s='%s' (expected %s)", key, text, expected);
    return TDL_OK;
}

int tdl_mlp_loss_convention(const tdl_mlp *m, tdl_loss_convention *out)
{
    int red, mse, st;
    tdl_loss_convention_default(out);
    if ((st = convention_part(m, META_REDUCTION, tdl_reduction_names, "mean or sum", TDL_REDUCTION_MEAN, &red)) != TDL_OK ||
        (st = convention_part(m, META_MSE, tdl_mse_convention_names, "tdl or torch", TDL_MSE_TDL, &mse)) != TDL_OK)
        return st;
    out->reduction = (tdl_reduction)red;
    out->mse = (tdl_mse_convention)mse;
    return TDL_OK;
}

int tdl_mlp_set_loss_convention(tdl_mlp *m, const tdl_loss_convention *c)
{
    const char *red = tdl_name_of(tdl_reduction_names, (int)c->reduction);
    const char *mse = tdl_name_of(tdl_mse_convention_names, (int)c->mse);
    if (!red) return tdl_fail(TDL_EINVAL, "loss convention: unknown reduction %d", (int)c->reduction);
    if (!mse) return tdl_fail(TDL_EINVAL, "loss convention: unknown mse convention %d", (int)c->mse);
    int st = tdl_tensors_set_meta(m->meta, META_REDUCTION, red);
    if (st == TDL_OK) st = tdl_tensors_set_meta(m->meta, META_MSE, mse);
    return st;
}

int tdl_mlp_set_loss_convention_names(tdl_mlp *m, const char *reduction, const char *mse)
{
    /* a part given replaces the model's; a part not given stays (readable) */
    int red, ms, st;
    if (reduction) st = tdl_name_lookup(tdl_reduction_names, "reduction", reduction, &red);
    else st = convention_part(m, META_REDUCTION, tdl_reduction_names, "mean or sum", TDL_REDUCTION_MEAN, &red);
    if (st != TDL_OK) return st;
    if (mse) st = tdl_name_lookup(tdl_mse_convention_names, "mse convention", mse, &ms);
    else st = convention_part(m, META_MSE, tdl_mse_convention_names, "tdl or torch", TDL_MSE_TDL, &ms);
    if (st != TDL_OK) return st;
    tdl_loss_convention c = {(tdl_reduction)red, (tdl_mse_convention)ms};
    return tdl_mlp_set_loss_convention(m, &c);
}

int tdl_mlp_loss_convention_names(const tdl_mlp *m, const char **reduction, const char **mse)
{
    tdl_loss_convention c;
    int st = tdl_mlp_loss_convention(m, &c);
    if (st != TDL_OK) return st;
    if (reduction) *reduction = tdl_name_of(tdl_reduction_names, (int)c.reduction);
    if (mse) *mse = tdl_name_of(tdl_mse_convention_names, (int)c.mse);
    return TDL_OK;
}

int tdl_mlp_loss_describe(const tdl_mlp *m, tdl_loss_kind loss, char *buf, size_t len)
{
    tdl_loss_convention c;
    int st = tdl_mlp_loss_convention(m, &c);
    if (st == TDL_OK) tdl_loss_convention_describe(loss, &c, buf, len);
    return st;
}

int tdl_mlp_loss_scale(const tdl_mlp *m, tdl_loss_kind loss, size_t n, double *scale)
{
    tdl_loss_convention c;
    int st = tdl_mlp_loss_convention(m, &c);
    if (st != TDL_OK) return st;
    *scale = tdl_loss_scale(&c, loss, n, m->layers[m->depth - 1].out);
    return TDL_OK;
}

void tdl_loss_convention_describe(tdl_loss_kind loss, const tdl_loss_convention *c, char *buf, size_t len)
{
    const int sum = c->reduction == TDL_REDUCTION_SUM;
    const char *R = sum ? "sum" : "mean";
    switch (loss) {
    case TDL_LOSS_MSE:
        if (c->mse == TDL_MSE_TORCH)
            snprintf(buf, len, "%s sum_i ||f_i - y_i||^2 = torch nn.MSELoss(reduction='%s')", sum ? "" : "(1/(n C))", R);
        else
            snprintf(buf, len, "%s sum_i 1/2 ||f_i - y_i||^2 = torch nn.MSELoss(reduction='%s') x %s", sum ? "" : "(1/n)", R,
                     sum ? "1/2" : "C/2");
        break;
    case TDL_LOSS_CE:
        snprintf(buf, len, "%s sum_i (logsumexp(f_i) - f_i,y_i) = torch nn.CrossEntropyLoss(reduction='%s')", sum ? "" : "(1/n)", R);
        break;
    case TDL_LOSS_LOGISTIC:
        snprintf(buf, len, "%s sum_i log(1 + exp(-s_i f_i)), s = 2y - 1 = torch nn.BCEWithLogitsLoss(reduction='%s') on 0/1 targets",
                 sum ? "" : "(1/n)", R);
        break;
    case TDL_LOSS_HINGE:
        snprintf(buf, len, "%s sum_i max(0, 1 + max_{j != y} f_j - f_y) (Crammer-Singer; no torch equivalent)", sum ? "" : "(1/n)");
        break;
    default: snprintf(buf, len, "?");
    }
    if (buf[0] == ' ') memmove(buf, buf + 1, strlen(buf));
}

static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

size_t tdl_predict_class(tdl_loss_kind loss, size_t C, const double *f)
{
    if (C == 1) return f[0] > (loss == TDL_LOSS_MSE ? 0.5 : 0.0) ? 1 : 0;
    size_t best = 0;
    for (size_t j = 1; j < C; j++)
        if (f[j] > f[best]) best = j;
    return best;
}

/* Loss of one example and, when g != NULL, dl/df (C values). */
static double example_loss(tdl_loss_kind loss, size_t C, const double *f, size_t label,
                           const double *y, double *g)
{
    double l = 0;
    if (y) { /* regression, mse */
        for (size_t j = 0; j < C; j++) {
            double r = f[j] - y[j];
            l += 0.5 * r * r;
            if (g) g[j] = r;
        }
        return l;
    }
    if (C == 1) {
        double s = label ? 1.0 : -1.0;
        switch (loss) {
        case TDL_LOSS_MSE: { double r = f[0] - (double)label; if (g) g[0] = r; return 0.5 * r * r; }
        case TDL_LOSS_LOGISTIC: if (g) g[0] = -s * sigmoid(-s * f[0]); return softplus(-s * f[0]);
        case TDL_LOSS_HINGE: {
            double h = 1 - s * f[0];
            if (g) g[0] = h > 0 ? -s : 0;
            return h > 0 ? h : 0;
        }
        default: return NAN;
        }
    }
    switch (loss) {
    case TDL_LOSS_MSE:
        for (size_t j = 0; j < C; j++) {
            double r = f[j] - (j == label ? 1.0 : 0.0);
            l += 0.5 * r * r;
            if (g) g[j] = r;
        }
        return l;
    case TDL_LOSS_CE: { /* logsumexp(f) - f_y; g = softmax(f) - e_y */
        double mx = f[0], sum = 0;
        for (size_t j = 1; j < C; j++) mx = f[j] > mx ? f[j] : mx;
        for (size_t j = 0; j < C; j++) sum += exp(f[j] - mx);
        if (g)
            for (size_t j = 0; j < C; j++) g[j] = exp(f[j] - mx) / sum - (j == label ? 1.0 : 0.0);
        return mx + log(sum) - f[label];
    }
    case TDL_LOSS_HINGE: { /* Crammer-Singer multiclass hinge */
        size_t jstar = label == 0 ? 1 : 0;
        for (size_t j = 0; j < C; j++)
            if (j != label && f[j] > f[jstar]) jstar = j;
        double h = 1 + f[jstar] - f[label];
        if (g) {
            for (size_t j = 0; j < C; j++) g[j] = 0;
            if (h > 0) {
                g[jstar] = 1;
                g[label] = -1;
            }
        }
        return h > 0 ? h : 0;
    }
    default: return NAN;
    }
}

/* r <- H_l(f) u: the Hessian of the example loss in the outputs times u. */
static void example_loss_hess(tdl_loss_kind loss, size_t C, const double *f, int regression,
                              const double *u, double *r)
{
    if (regression || loss == TDL_LOSS_MSE) {
        for (size_t j = 0; j < C; j++) r[j] = u[j];
        return;
    }
    if (loss == TDL_LOSS_HINGE) { /* piecewise linear: zero almost everywhere */
        for (size_t j = 0; j < C; j++) r[j] = 0;
        return;
    }
    if (C == 1) { /* logistic: sigma(f) sigma(-f) */
        r[0] = sigmoid(f[0]) * sigmoid(-f[0]) * u[0];
        return;
    }
    /* ce: (diag p - p p^T) u */
    double mx = f[0], sum = 0, pu = 0;
    for (size_t j = 1; j < C; j++) mx = f[j] > mx ? f[j] : mx;
    for (size_t j = 0; j < C; j++) sum += exp(f[j] - mx);
    for (size_t j = 0; j < C; j++) pu += exp(f[j] - mx) / sum * u[j];
    for (size_t j = 0; j < C; j++) {
        double p = exp(f[j] - mx) / sum;
        r[j] = p * (u[j] - pu);
    }
}

/* ---- work -------------------------------------------------------------- */

int tdl_net_work_alloc(const tdl_mlp *m, size_t cap, tdl_net_work **out)
{
    *out = NULL;
    if (cap == 0) return tdl_fail(TDL_EINVAL, "work capacity must be at least one example");
    tdl_net_work *w = tdl_calloc(1, sizeof *w, "net work space");
    if (!w) return TDL_ENOMEM;
    w->cap = cap;
    w->depth = m->depth;
    w->C = m->layers[m->depth - 1].out;
    w->wmax = m->layers[0].in;
    w->widths[0] = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) {
        if (m->layers[l].out > w->wmax) w->wmax = m->layers[l].out;
        w->widths[l + 1] = m->layers[l].out;
    }
    size_t bytes;
    int bad = tdl_mul_size(cap, w->wmax, &bytes) || tdl_mul_size(bytes, sizeof(double), &bytes);
    for (size_t l = 0; l < m->depth && !bad; l++) {
        size_t sz = cap * m->layers[l].out * sizeof(double);
        w->Z[l] = malloc(sz);
        if (l + 1 < m->depth) {
            w->A[l] = malloc(sz);
            w->D1[l] = malloc(sz);
            if (!w->A[l] || !w->D1[l]) bad = 1;
        }
        if (!w->Z[l]) bad = 1;
    }
    if (!bad) {
        w->G = malloc(bytes);
        w->Gp = malloc(bytes);
        w->Fbuf = malloc(cap * w->C * sizeof(double));
        bad = !w->G || !w->Gp || !w->Fbuf;
    }
    if (bad) {
        tdl_net_work_free(&w);
        return tdl_fail(TDL_ENOMEM, "out of memory for the work space of %zu examples", cap);
    }
    *out = w;
    return TDL_OK;
}

static int work_ensure_r(tdl_net_work *w, const tdl_mlp *m)
{
    if (w->RG) return TDL_OK;
    size_t bytes = w->cap * w->wmax * sizeof(double);
    int bad = 0;
    for (size_t l = 0; l < m->depth; l++) {
        size_t sz = w->cap * m->layers[l].out * sizeof(double);
        w->RZ[l] = malloc(sz);
        if (!w->RZ[l]) bad = 1;
        if (l + 1 < m->depth) {
            w->RA[l] = malloc(sz);
            w->D2[l] = malloc(sz);
            if (!w->RA[l] || !w->D2[l]) bad = 1;
        }
    }
    w->RG = malloc(bytes);
    w->RGp = malloc(bytes);
    w->P = malloc(bytes);
    w->RP = malloc(bytes);
    if (bad || !w->RG || !w->RGp || !w->P || !w->RP)
        return tdl_fail(TDL_ENOMEM, "out of memory for Hessian-vector work space");
    return TDL_OK;
}

void tdl_net_work_free(tdl_net_work **wp)
{
    if (!wp || !*wp) return;
    tdl_net_work *w = *wp;
    for (size_t l = 0; l < TDL_MAX_DEPTH; l++) {
        free(w->Z[l]);
        free(w->A[l]);
        free(w->D1[l]);
        free(w->D2[l]);
        free(w->RZ[l]);
        free(w->RA[l]);
    }
    free(w->G);
    free(w->Gp);
    free(w->RG);
    free(w->RGp);
    free(w->P);
    free(w->RP);
    free(w->jac_G);
    free(w->jac_Gp);
    free(w->Fbuf);
    free(w);
    *wp = NULL;
}

size_t tdl_net_work_cap(const tdl_net_work *w) { return w->cap; }

tdl_batch tdl_batch_rows(const tdl_dataset *ds, size_t row0, size_t n)
{
    tdl_batch b;
    b.n = n;
    b.X = ds->X->data + row0 * ds->X->tda;
    b.ldx = ds->X->tda;
    b.labels = ds->labels ? ds->labels + row0 : NULL;
    b.Y = ds->Y ? ds->Y->data + row0 * ds->Y->tda : NULL;
    b.ldy = ds->Y ? ds->Y->tda : 0;
    return b;
}

/* ---- forward / backward ------------------------------------------------- */

/* The buffers are sized by every layer width, not only depth and C: a net
 * with other hidden widths would overflow them. */
static int check_work(const tdl_mlp *m, const tdl_net_work *w)
{
    int same = w->depth == m->depth && w->widths[0] == m->layers[0].in;
    for (size_t l = 0; same && l < m->depth; l++) same = w->widths[l + 1] == m->layers[l].out;
    return same ? TDL_OK : tdl_fail(TDL_EINVAL, "work space was made for another net");
}

static int check_batch(const tdl_mlp *m, const tdl_batch *b, const tdl_net_work *w)
{
    if (b->n > w->cap) return tdl_fail(TDL_EINVAL, "batch of %zu examples exceeds the work capacity %zu", b->n, w->cap);
    return check_work(m, w);
}

static void forward_pass(const tdl_mlp *m, const tdl_batch *b, tdl_net_work *w, int want_d2)
{
    const size_t n = b->n;
    const double *Aprev = b->X;
    size_t ldprev = b->ldx;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        double *Z = w->Z[l];
        /* Z = s A_{l-1} W^T (+ t 1 b^T) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)L->out, (int)L->in,
                    L->w_scale, Aprev, (int)ldprev, m->theta + L->w_off, (int)L->in, 0.0, Z, (int)L->out);
        if (L->has_bias) {
            const double *bias = m->theta + L->b_off;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < L->out; j++) Z[i * L->out + j] += L->b_scale * bias[j];
        }
        if (l + 1 < m->depth) {
            tdl_act_eval(&m->act, Z, n * L->out, w->A[l], w->D1[l], want_d2 ? w->D2[l] : NULL);
            Aprev = w->A[l];
            ldprev = L->out;
        }
    }
    w->X = b->X;
    w->ldx = b->ldx;
    w->n = n;
    w->has_d2 = want_d2;
}

int tdl_mlp_forward(const tdl_mlp *m, const tdl_batch *b, tdl_net_work *w, double *out)
{
    int st = check_batch(m, b, w);
    if (st != TDL_OK) return st;
    forward_pass(m, b, w, 0);
    if (out) memcpy(out, w->Z[m->depth - 1], b->n * w->C * sizeof(double));
    return TDL_OK;
}

static inline const double *layer_input(const tdl_net_work *w, size_t l, size_t *ld, const tdl_mlp *m)
{
    if (l == 0) {
        *ld = w->ldx;
        return w->X;
    }
    *ld = m->layers[l - 1].out;
    return w->A[l - 1];
}

/* Backprop of G (n x C, dLoss/dF already scaled) into grad (+= when
 * accumulate, = otherwise: training skips a memset of P doubles a step).
 * Uses w->G / w->Gp as ping-pong buffers; G must be w->G on entry. */
static void backward_pass(const tdl_mlp *m, tdl_net_work *w, double *grad, int accumulate)
{
    const size_t n = w->n;
    double *G = w->G, *Gp = w->Gp;
    for (size_t l = m->depth; l-- > 0;) {
        const tdl_layer *L = &m->layers[l];
        size_t ld;
        const double *Ain = layer_input(w, l, &ld, m);
        /* dW (+)= s G^T A_{l-1} */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->out, (int)L->in, (int)n,
                    L->w_scale, G, (int)L->out, Ain, (int)ld, accumulate ? 1.0 : 0.0, grad + L->w_off, (int)L->in);
        if (L->has_bias) {
            double *gb = grad + L->b_off;
            if (!accumulate) memset(gb, 0, L->out * sizeof *gb);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < L->out; j++) gb[j] += L->b_scale * G[i * L->out + j];
        }
        if (l == 0) break;
        /* G_{l-1} = s (G W) .* D1_{l-1} */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)L->in, (int)L->out,
                    L->w_scale, G, (int)L->out, m->theta + L->w_off, (int)L->in, 0.0, Gp, (int)L->in);
        const double *D1 = w->D1[l - 1];
        for (size_t i = 0; i < n * L->in; i++) Gp[i] *= D1[i];
        double *t = G;
        G = Gp;
        Gp = t;
    }
}

static double max_abs(const double *v, size_t n)
{
    double a = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(v[i]) <= a)) a = fabs(v[i]); /* NaN propagates */
    return a;
}

/* The message for a non-finite loss of example i of the batch (row row0 + i
 * of the data set named what, or of "a batch" when what is NULL): what is
 * non-finite (the loss, or the outputs themselves) and where it comes from.
 * The data and the model were checked finite when loaded, so a non-finite
 * output is an overflow in the forward pass; the largest input and weight
 * say which side is too large. */
static int loss_fail(const tdl_mlp *m, const tdl_batch *b, const tdl_net_work *w, size_t i, size_t row0,
                     const char *what, double li)
{
    const size_t C = w->C;
    const double *f = w->Z[m->depth - 1] + i * C;
    const double *x = b->X + i * b->ldx;
    double fmax = max_abs(f, C), xmax = max_abs(x, m->layers[0].in), tmax = max_abs(m->theta, m->n_params);
    char where[512];
    if (what) snprintf(where, sizeof where, "%s: the loss of example %zu is %s", what, row0 + i, isnan(li) ? "NaN" : "infinite");
    else snprintf(where, sizeof where, "the loss of example %zu is %s", i, isnan(li) ? "NaN" : "infinite");
    if (!isfinite(xmax)) return tdl_fail(TDL_ENONFINITE, "%s: its inputs hold a %s (the data)", where, isnan(xmax) ? "NaN" : "infinity");
    if (!isfinite(tmax)) return tdl_fail(TDL_ENONFINITE, "%s: the model's parameters hold a %s", where, isnan(tmax) ? "NaN" : "infinity");
    if (!isfinite(fmax))
        return tdl_fail(TDL_ENONFINITE, "%s: the outputs are %s: the forward pass overflows (largest |input| %.3g in the data, largest |parameter| %.3g in the model)",
                        where, isnan(fmax) ? "NaN" : "infinite", xmax, tmax);
    return tdl_fail(TDL_ENONFINITE, "%s: the outputs overflow the loss (largest |output| %.3g; largest |input| %.3g in the data, largest |parameter| %.3g in the model)",
                    where, fmax, xmax, tmax);
}

/* Loss of the cached forward pass; fills w->G with scale * dl/dF when want_g.
 * what / row0: the data set's name and the batch's first row, for messages. */
static int batch_loss(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                      tdl_net_work *w, double *loss_acc, int want_g, const char *what, size_t row0)
{
    const size_t C = w->C;
    const double *F = w->Z[m->depth - 1];
    double sum = 0;
    for (size_t i = 0; i < b->n; i++) {
        double *g = want_g ? w->G + i * C : NULL;
        double li = example_loss(loss, C, F + i * C, b->labels ? b->labels[i] : 0,
                                 b->Y ? b->Y + i * b->ldy : NULL, g);
        if (!isfinite(li)) return loss_fail(m, b, w, i, row0, what, li);
        sum += li;
        if (g)
            for (size_t j = 0; j < C; j++) g[j] *= scale;
    }
    if (loss_acc) *loss_acc += scale * sum;
    return TDL_OK;
}

/* Forward, loss and (when grad) backward of one batch; accumulate selects
 * grad += ... (the public API) or grad = ... (training). */
static int batch_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                      tdl_net_work *w, double *loss_acc, double *grad, int accumulate, const char *what, size_t row0)
{
    int st = check_batch(m, b, w);
    if (st != TDL_OK) return st;
    forward_pass(m, b, w, 0);
    if ((st = batch_loss(m, loss, b, scale, w, loss_acc, grad != NULL, what, row0)) != TDL_OK) return st;
    if (grad) backward_pass(m, w, grad, accumulate);
    return TDL_OK;
}

int tdl_mlp_batch_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                       tdl_net_work *w, double *loss_acc, double *grad)
{
    return batch_grad(m, loss, b, scale, w, loss_acc, grad, 1, NULL, 0);
}

int tdl_net_batch_grad_set(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                           tdl_net_work *w, double *loss_acc, double *grad)
{
    return batch_grad(m, loss, b, scale, w, loss_acc, grad, 0, NULL, 0);
}

/* The data set's name in messages: its spec, or "the data". */
static const char *data_name(const tdl_dataset *ds)
{
    return ds->spec ? ds->spec : "the data";
}

int tdl_mlp_loss_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_net_work *w,
                      double *loss_out, double *grad)
{
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    double acc = 0, scale;
    if ((st = tdl_mlp_loss_scale(m, loss, ds->n, &scale)) != TDL_OK) return st;
    if (grad) memset(grad, 0, m->n_params * sizeof(double));
    for (size_t r0 = 0; r0 < ds->n; r0 += w->cap) {
        size_t nb = ds->n - r0 < w->cap ? ds->n - r0 : w->cap;
        tdl_batch b = tdl_batch_rows(ds, r0, nb);
        if ((st = batch_grad(m, loss, &b, scale, w, &acc, grad, 1, data_name(ds), r0)) != TDL_OK) return st;
    }
    if (!isfinite(acc))
        return tdl_fail(TDL_ENONFINITE, "%s: the loss is infinite: the sum of the per-example losses overflows", data_name(ds));
    if (loss_out) *loss_out = acc;
    return TDL_OK;
}

/* ---- Hessian-vector product (R-operator) ------------------------------- */

static void batch_hvp(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                      const double *v, int gauss_newton, tdl_net_work *w, double *Hv)
{
    const size_t n = b->n, C = w->C, L = m->depth;
    /* forward R-pass: RZ_l = s (RA_{l-1} W^T + A_{l-1} V^T) + t vb */
    for (size_t l = 0; l < L; l++) {
        const tdl_layer *Ly = &m->layers[l];
        size_t ld;
        const double *Ain = layer_input(w, l, &ld, m);
        double *RZ = w->RZ[l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)Ly->out, (int)Ly->in,
                    Ly->w_scale, Ain, (int)ld, v + Ly->w_off, (int)Ly->in, 0.0, RZ, (int)Ly->out);
        if (l > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)Ly->out, (int)Ly->in,
                        Ly->w_scale, w->RA[l - 1], (int)Ly->in, m->theta + Ly->w_off, (int)Ly->in, 1.0, RZ, (int)Ly->out);
        if (Ly->has_bias)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < Ly->out; j++) RZ[i * Ly->out + j] += Ly->b_scale * v[Ly->b_off + j];
        if (l + 1 < L)
            for (size_t i = 0; i < n * Ly->out; i++) w->RA[l][i] = w->D1[l][i] * RZ[i];
    }
    /* loss: G = scale dl/dF (filled by the caller), RG = scale H_l RF */
    const double *F = w->Z[L - 1];
    for (size_t i = 0; i < n; i++) {
        example_loss_hess(loss, C, F + i * C, b->Y != NULL, w->RZ[L - 1] + i * C, w->RG + i * C);
        for (size_t j = 0; j < C; j++) w->RG[i * C + j] *= scale;
    }
    /* backward R-pass */
    double *G = w->G, *Gp = w->Gp, *RG = w->RG, *RGp = w->RGp;
    for (size_t l = L; l-- > 0;) {
        const tdl_layer *Ly = &m->layers[l];
        size_t ld;
        const double *Ain = layer_input(w, l, &ld, m);
        const double *W = m->theta + Ly->w_off, *V = v + Ly->w_off;
        /* R{dW} = s (RG^T A_{l-1} + G^T RA_{l-1}) */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Ly->out, (int)Ly->in, (int)n,
                    Ly->w_scale, RG, (int)Ly->out, Ain, (int)ld, 1.0, Hv + Ly->w_off, (int)Ly->in);
        if (!gauss_newton && l > 0)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Ly->out, (int)Ly->in, (int)n,
                        Ly->w_scale, G, (int)Ly->out, w->RA[l - 1], (int)Ly->in, 1.0, Hv + Ly->w_off, (int)Ly->in);
        if (Ly->has_bias)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < Ly->out; j++) Hv[Ly->b_off + j] += Ly->b_scale * RG[i * Ly->out + j];
        if (l == 0) break;
        const size_t in = Ly->in;
        const double *D1 = w->D1[l - 1], *D2 = w->D2[l - 1], *RZp = w->RZ[l - 1];
        /* RP = RG W (+ G V);  P = G W */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)Ly->out,
                    1.0, RG, (int)Ly->out, W, (int)in, 0.0, w->RP, (int)in);
        if (!gauss_newton) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)Ly->out,
                        1.0, G, (int)Ly->out, V, (int)in, 1.0, w->RP, (int)in);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)Ly->out,
                        1.0, G, (int)Ly->out, W, (int)in, 0.0, w->P, (int)in);
            for (size_t i = 0; i < n * in; i++) {
                RGp[i] = Ly->w_scale * (w->RP[i] * D1[i] + w->P[i] * D2[i] * RZp[i]);
                Gp[i] = Ly->w_scale * w->P[i] * D1[i];
            }
        } else {
            for (size_t i = 0; i < n * in; i++) RGp[i] = Ly->w_scale * w->RP[i] * D1[i];
        }
        double *t = G; G = Gp; Gp = t;
        t = RG; RG = RGp; RGp = t;
    }
}

int tdl_mlp_hvp(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const double *v,
                int gauss_newton, tdl_net_work *w, double *Hv)
{
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    if ((st = check_work(m, w)) != TDL_OK) return st;
    if ((st = work_ensure_r(w, m)) != TDL_OK) return st;
    double scale;
    if ((st = tdl_mlp_loss_scale(m, loss, ds->n, &scale)) != TDL_OK) return st;
    memset(Hv, 0, m->n_params * sizeof(double));
    for (size_t r0 = 0; r0 < ds->n; r0 += w->cap) {
        size_t nb = ds->n - r0 < w->cap ? ds->n - r0 : w->cap;
        tdl_batch b = tdl_batch_rows(ds, r0, nb);
        forward_pass(m, &b, w, 1);
        if ((st = batch_loss(m, loss, &b, scale, w, NULL, 1, data_name(ds), r0)) != TDL_OK) return st;
        batch_hvp(m, loss, &b, scale, v, gauss_newton, w, Hv);
    }
    return TDL_OK;
}

/* ---- Jacobian ----------------------------------------------------------- */

size_t tdl_jacobian_block_rows(const tdl_mlp *m, size_t budget_bytes)
{
    size_t C = m->layers[m->depth - 1].out;
    size_t per = C * m->n_params * sizeof(double);
    size_t rows = per ? budget_bytes / per : 1;
    return rows ? rows : 1;
}

int tdl_mlp_jacobian(const tdl_mlp *m, const tdl_dataset *ds, size_t row0, size_t n, tdl_net_work *w, double *J)
{
    if (row0 > ds->n || n > ds->n - row0) return tdl_fail(TDL_EINVAL, "Jacobian rows [%zu, %zu) outside the data (%zu)", row0, row0 + n, ds->n);
    if (m->layers[0].in != ds->d)
        return tdl_fail(TDL_ESHAPE, "the model takes %zu inputs but the data has %zu features", m->layers[0].in, ds->d);
    tdl_batch b = tdl_batch_rows(ds, row0, n);
    int st = check_batch(m, &b, w);
    if (st != TDL_OK) return st;
    const size_t C = w->C, P = m->n_params, V = n * C; /* V virtual rows (i, c) */
    if (!w->jac_G) {
        w->jac_G = malloc(w->cap * C * w->wmax * sizeof(double));
        w->jac_Gp = malloc(w->cap * C * w->wmax * sizeof(double));
        if (!w->jac_G || !w->jac_Gp) return tdl_fail(TDL_ENOMEM, "out of memory for Jacobian work space");
    }
    forward_pass(m, &b, w, 0);
    double *G = w->jac_G, *Gp = w->jac_Gp;
    /* G_L for virtual row (i, c) is e_c */
    memset(G, 0, V * C * sizeof(double));
    for (size_t r = 0; r < V; r++) G[r * C + r % C] = 1.0;
    memset(J, 0, V * P * sizeof(double));
    for (size_t l = m->depth; l-- > 0;) {
        const tdl_layer *L = &m->layers[l];
        size_t ld;
        const double *Ain = layer_input(w, l, &ld, m);
        /* J[(i,c), W_l] = s G_l[(i,c)] (x) A_{l-1}[i];  J[(i,c), b_l] = t G_l[(i,c)] */
        for (size_t r = 0; r < V; r++) {
            const double *g = G + r * L->out, *a = Ain + (r / C) * ld;
            double *Jw = J + r * P + L->w_off;
            for (size_t o = 0; o < L->out; o++) {
                double go = L->w_scale * g[o];
                if (go == 0) continue;
                double *row = Jw + o * L->in;
                for (size_t k = 0; k < L->in; k++) row[k] = go * a[k];
            }
            if (L->has_bias)
                for (size_t o = 0; o < L->out; o++) J[r * P + L->b_off + o] = L->b_scale * g[o];
        }
        if (l == 0) break;
        /* G_{l-1} = s (G W) .* D1_{l-1}[i] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)V, (int)L->in, (int)L->out,
                    L->w_scale, G, (int)L->out, m->theta + L->w_off, (int)L->in, 0.0, Gp, (int)L->in);
        const double *D1 = w->D1[l - 1];
        for (size_t r = 0; r < V; r++)
            for (size_t k = 0; k < L->in; k++) Gp[r * L->in + k] *= D1[(r / C) * L->in + k];
        double *t = G; G = Gp; Gp = t;
    }
    return TDL_OK;
}

/* ---- hidden activations -------------------------------------------------- */

int tdl_mlp_hidden(const tdl_mlp *m, const gsl_matrix *X, size_t layer, double *T)
{
    if (!m || !X || !T) return tdl_fail(TDL_EINVAL, "hidden activations: missing argument");
    if (layer + 1 >= m->depth) return tdl_fail(TDL_EINVAL, "hidden activations: layer %zu is not hidden (the net has %zu hidden layers)", layer, m->depth - 1);
    if (X->size2 != m->layers[0].in) return tdl_fail(TDL_ESHAPE, "hidden activations: inputs have %zu features, the net takes %zu", X->size2, m->layers[0].in);
    const size_t n = X->size1;
    size_t wmax = 0;
    for (size_t l = 0; l <= layer; l++) wmax = m->layers[l].out > wmax ? m->layers[l].out : wmax;
    if (m->layers[0].in > wmax) wmax = m->layers[0].in;
    double *A = tdl_malloc(n * wmax * sizeof(double), "activations"), *Z = tdl_malloc(n * wmax * sizeof(double), "activations");
    if (!A || !Z) { free(A); free(Z); return tdl_fail(TDL_ENOMEM, "hidden activations: out of memory for %zu x %zu", n, wmax); }
    for (size_t i = 0; i < n; i++) memcpy(A + i * m->layers[0].in, gsl_matrix_const_ptr(X, i, 0), m->layers[0].in * sizeof(double));
    for (size_t l = 0; l <= layer; l++) {
        const tdl_layer *L = &m->layers[l];
        /* Z = w_scale A W^T + b_scale b (model.h) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)L->out, (int)L->in, L->w_scale, A, (int)L->in,
                    m->theta + L->w_off, (int)L->in, 0.0, Z, (int)L->out);
        if (L->has_bias)
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < L->out; k++) Z[i * L->out + k] += L->b_scale * m->theta[L->b_off + k];
        tdl_act_eval(&m->act, Z, n * L->out, A, NULL, NULL);
    }
    memcpy(T, A, n * m->layers[layer].out * sizeof(double));
    free(A);
    free(Z);
    return TDL_OK;
}

int tdl_mlp_default_loss(const tdl_mlp *m, const tdl_dataset *ds, const char *text, tdl_loss_kind *out)
{
    int st;
    if (!text) text = tdl_tensors_meta(m->meta, "loss");
    if (text) {
        if ((st = tdl_loss_parse(text, out)) != TDL_OK) return st;
    } else if (!ds->classes) {
        *out = TDL_LOSS_MSE;
    } else {
        *out = m->layers[m->depth - 1].out == 1 ? TDL_LOSS_LOGISTIC : TDL_LOSS_CE;
    }
    return tdl_loss_check(*out, m, ds);
}

/* ---- evaluation ---------------------------------------------------------- */

int tdl_mlp_predict(const tdl_mlp *m, const tdl_dataset *ds, double *out)
{
    if (ds->d != m->layers[0].in)
        return tdl_fail(TDL_ESHAPE, "%s: %zu input features but the model takes %zu", data_name(ds), ds->d,
                        m->layers[0].in);
    const size_t C = m->layers[m->depth - 1].out;
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w);
    if (st != TDL_OK) return st;
    for (size_t r0 = 0; r0 < ds->n && st == TDL_OK; r0 += w->cap) {
        size_t nb = ds->n - r0 < w->cap ? ds->n - r0 : w->cap;
        tdl_batch b = tdl_batch_rows(ds, r0, nb);
        st = tdl_mlp_forward(m, &b, w, out + r0 * C);
    }
    tdl_net_work_free(&w);
    return st;
}

int tdl_mlp_evaluate(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_net_work *w,
                     tdl_eval_stats *out)
{
    memset(out, 0, sizeof *out);
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    const size_t C = w->C;
    double acc = 0, scale;
    if ((st = tdl_mlp_loss_scale(m, loss, ds->n, &scale)) != TDL_OK) return st;
    size_t wrong = 0;
    if (ds->classes) {
        out->margins = tdl_malloc(ds->n * sizeof(double), "margins");
        if (!out->margins) return TDL_ENOMEM;
    }
    for (size_t r0 = 0; r0 < ds->n; r0 += w->cap) {
        size_t nb = ds->n - r0 < w->cap ? ds->n - r0 : w->cap;
        tdl_batch b = tdl_batch_rows(ds, r0, nb);
        if ((st = check_batch(m, &b, w)) != TDL_OK) goto fail;
        forward_pass(m, &b, w, 0);
        if ((st = batch_loss(m, loss, &b, scale, w, &acc, 0, data_name(ds), r0)) != TDL_OK) goto fail;
        if (!ds->classes) continue;
        const double *F = w->Z[m->depth - 1];
        for (size_t i = 0; i < nb; i++) {
            const double *f = F + i * C;
            size_t y = b.labels[i];
            double margin;
            if (C == 1) {
                double t = loss == TDL_LOSS_MSE ? 0.5 : 0.0;
                margin = (y ? 1.0 : -1.0) * (f[0] - t);
            } else {
                double other = -INFINITY;
                for (size_t j = 0; j < C; j++)
                    if (j != y && f[j] > other) other = f[j];
                margin = f[y] - other;
            }
            out->margins[r0 + i] = margin;
            if (tdl_predict_class(loss, C, f) != y) wrong++;
        }
    }
    if (!isfinite(acc)) {
        st = tdl_fail(TDL_ENONFINITE, "%s: the loss is infinite: the sum of the per-example losses overflows", data_name(ds));
        goto fail;
    }
    out->n = ds->n;
    out->loss = acc;
    out->error = ds->classes ? (double)wrong / (double)ds->n : NAN;
    out->accuracy = ds->classes ? 1.0 - out->error : NAN;
    return TDL_OK;
fail:
    tdl_eval_stats_free(out);
    return st;
}

void tdl_eval_stats_free(tdl_eval_stats *s)
{
    free(s->margins);
    s->margins = NULL;
}

/* ---- internal access for other modules (net_internal.h) ------------------ */

double tdl_net_example_loss(tdl_loss_kind loss, size_t C, const double *f, size_t label,
                            const double *y, double *g)
{
    return example_loss(loss, C, f, label, y, g);
}

void tdl_net_example_loss_hess(tdl_loss_kind loss, size_t C, const double *f, int regression,
                               const double *u, double *r)
{
    example_loss_hess(loss, C, f, regression, u, r);
}
