/* verify.c — compare a user's answer with tdl's exact quantity and name the
 * convention that slipped (tdl/verify.h, issue 21).
 *
 * The comparison is normwise in the max norm: an answer A passes against the
 * exact E when max |A - E| <= tol * max(1, max |E|).  A slip is a known
 * transformation T of the exact quantity (a scale factor, a permutation of
 * the parameters, a restriction to some parameters, a sort); it explains a
 * failed answer only when A matches T(E) by the same rule, so an answer with
 * a genuine error keeps slip NONE.  The slips are tried one at a time, in
 * this order (the first match is reported):
 *   1. named scale factors: n, 1/n, 2, 1/2, C, 1/C, 2/C, C/2, 1/ln 2, -1;
 *   2. parametrization factors from the model (sigma_w, fan_in of each layer);
 *   3. parameter orders built from the layer layout (weights transposed,
 *      biases first, layers reversed), on vectors (gradient, H v), on rows
 *      and columns (Hessian, G) or on columns (Jacobian); then the whole
 *      matrix stored column-major;
 *   4. eigenvalues descending, then unsorted;
 *   5. integer targets (the caller's alternative exact quantity);
 *   6. any other constant factor (least-squares ratio, then the match);
 * and, when the answer's shape is not the exact one's: the biases left out
 * (the exact restricted to the weights), one layer's block, the transpose.
 * When nothing explains the answer, the diagnosis says where the difference
 * concentrates: the share of the squared difference per parameter block
 * (W_l, b_l) or per example for kernels, and the worst entry's meaning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/verify.h"
#include "tdl/error.h"
#include "tdl/hessian.h"
#include "internal.h"

const tdl_name tdl_verify_quantity_names[] = {
    {"loss", TDL_VQ_LOSS},
    {"gradient", TDL_VQ_GRADIENT},
    {"jacobian", TDL_VQ_JACOBIAN},
    {"hessian", TDL_VQ_HESSIAN},
    {"gn", TDL_VQ_GN},
    {"hvp", TDL_VQ_HVP},
    {"hessian-eigenvalues", TDL_VQ_HESSIAN_EIGENVALUES},
    {"ntk", TDL_VQ_NTK},
    {"nngp", TDL_VQ_NNGP},
    {"kl-inverse", TDL_VQ_KL_INVERSE},
    {"bound", TDL_VQ_BOUND},
    {NULL, 0},
};

const tdl_name tdl_verify_slip_names[] = {
    {"none", TDL_SLIP_NONE},
    {"sum_not_mean", TDL_SLIP_SUM_NOT_MEAN},
    {"mean_not_sum", TDL_SLIP_MEAN_NOT_SUM},
    {"no_half", TDL_SLIP_NO_HALF},
    {"extra_half", TDL_SLIP_EXTRA_HALF},
    {"outputs_summed", TDL_SLIP_OUTPUTS_SUMMED},
    {"outputs_averaged", TDL_SLIP_OUTPUTS_AVERAGED},
    {"torch_mse", TDL_SLIP_TORCH_MSE},
    {"parametrization", TDL_SLIP_PARAMETRIZATION},
    {"log2", TDL_SLIP_LOG2},
    {"sign", TDL_SLIP_SIGN},
    {"constant_factor", TDL_SLIP_CONSTANT_FACTOR},
    {"transposed_weights", TDL_SLIP_TRANSPOSED_WEIGHTS},
    {"column_major", TDL_SLIP_COLUMN_MAJOR},
    {"biases_first", TDL_SLIP_BIASES_FIRST},
    {"layers_reversed", TDL_SLIP_LAYERS_REVERSED},
    {"no_biases", TDL_SLIP_NO_BIASES},
    {"descending", TDL_SLIP_DESCENDING},
    {"unsorted", TDL_SLIP_UNSORTED},
    {"one_layer_block", TDL_SLIP_ONE_LAYER_BLOCK},
    {"integer_targets", TDL_SLIP_INTEGER_TARGETS},
    {NULL, 0},
};

/* ---- shapes and the quantity's kind ---------------------------------------- */

static size_t shape_numel(tdl_verify_shape s)
{
    size_t k = 1;
    for (size_t i = 0; i < s.ndim; i++) k *= s.dim[i];
    return k;
}

/* Equal after dropping dimensions of length 1 (a scalar is a 1-vector). */
static int shape_same(tdl_verify_shape a, tdl_verify_shape b)
{
    size_t da[2], db[2], na = 0, nb = 0;
    for (size_t i = 0; i < a.ndim; i++)
        if (a.dim[i] != 1) da[na++] = a.dim[i];
    for (size_t i = 0; i < b.ndim; i++)
        if (b.dim[i] != 1) db[nb++] = b.dim[i];
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (da[i] != db[i]) return 0;
    return 1;
}

static void shape_format(tdl_verify_shape s, char *buf, size_t len)
{
    if (s.ndim == 0) snprintf(buf, len, "a scalar");
    else if (s.ndim == 1) snprintf(buf, len, "%zu", s.dim[0]);
    else snprintf(buf, len, "%zu x %zu", s.dim[0], s.dim[1]);
}

typedef enum { K_SCALAR, K_PVEC, K_PMAT, K_JAC, K_KERNEL, K_EIGEN } qkind;

static qkind quantity_kind(tdl_verify_quantity q)
{
    switch (q) {
    case TDL_VQ_GRADIENT:
    case TDL_VQ_HVP: return K_PVEC;
    case TDL_VQ_HESSIAN:
    case TDL_VQ_GN: return K_PMAT;
    case TDL_VQ_JACOBIAN: return K_JAC;
    case TDL_VQ_NTK:
    case TDL_VQ_NNGP: return K_KERNEL;
    case TDL_VQ_HESSIAN_EIGENVALUES: return K_EIGEN;
    default: return K_SCALAR;
    }
}

/* Loss-derived quantities: the reduction and the mse's 1/2 scale them. */
static int loss_derived(tdl_verify_quantity q)
{
    return q == TDL_VQ_LOSS || q == TDL_VQ_GRADIENT || q == TDL_VQ_HESSIAN || q == TDL_VQ_GN ||
           q == TDL_VQ_HVP || q == TDL_VQ_HESSIAN_EIGENVALUES;
}

static const char *quantity_noun(tdl_verify_quantity q)
{
    switch (q) {
    case TDL_VQ_LOSS: return "loss";
    case TDL_VQ_GRADIENT: return "gradient";
    case TDL_VQ_JACOBIAN: return "Jacobian";
    case TDL_VQ_HESSIAN: return "Hessian";
    case TDL_VQ_GN: return "Gauss-Newton matrix";
    case TDL_VQ_HVP: return "Hessian-vector product";
    case TDL_VQ_HESSIAN_EIGENVALUES: return "eigenvalues";
    case TDL_VQ_NTK: return "NTK";
    case TDL_VQ_NNGP: return "NNGP kernel";
    case TDL_VQ_KL_INVERSE: return "kl-inverse";
    case TDL_VQ_BOUND: return "bound";
    }
    return "answer";
}

/* "equals" / "equal" (the eigenvalues are plural). */
static const char *verb_equal(tdl_verify_quantity q)
{
    return q == TDL_VQ_HESSIAN_EIGENVALUES ? "equal" : "equals";
}
static const char *verb_be(tdl_verify_quantity q)
{
    return q == TDL_VQ_HESSIAN_EIGENVALUES ? "are" : "is";
}

/* ---- parameter names --------------------------------------------------------- */

/* The group of parameter k: 2l for W_l, 2l + 1 for b_l; (size_t)-1 outside. */
static size_t param_group(const tdl_mlp *m, size_t k, size_t *row, size_t *col)
{
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        if (k >= L->w_off && k < L->w_off + L->in * L->out) {
            size_t r = k - L->w_off;
            if (row) *row = r / L->in;
            if (col) *col = r % L->in;
            return 2 * l;
        }
        if (L->has_bias && k >= L->b_off && k < L->b_off + L->out) {
            if (row) *row = k - L->b_off;
            if (col) *col = 0;
            return 2 * l + 1;
        }
    }
    return (size_t)-1;
}

static void param_name(const tdl_mlp *m, size_t k, char *buf, size_t len)
{
    size_t r = 0, c = 0;
    size_t g = m ? param_group(m, k, &r, &c) : (size_t)-1;
    if (g == (size_t)-1) snprintf(buf, len, "theta[%zu]", k);
    else if (g % 2 == 0) snprintf(buf, len, "W_%zu[%zu,%zu]", g / 2, r, c);
    else snprintf(buf, len, "b_%zu[%zu]", g / 2, r);
}

static void group_name(size_t g, char *buf, size_t len)
{
    snprintf(buf, len, "%c_%zu", g % 2 == 0 ? 'W' : 'b', g / 2);
}

int tdl_verify_entry_name(const tdl_verify_context *ctx, size_t index, char *buf, size_t len)
{
    if (!ctx || !buf || len == 0) return tdl_fail(TDL_EINVAL, "tdl_verify_entry_name: NULL argument");
    const tdl_mlp *m = ctx->m;
    size_t P = m ? m->n_params : 0, C = ctx->C ? ctx->C : 1, n = ctx->n;
    char a[64], b[64];
    switch (ctx->quantity) {
    case TDL_VQ_GRADIENT:
    case TDL_VQ_HVP:
        if (m && index >= P) break;
        param_name(m, index, a, sizeof a);
        if (ctx->quantity == TDL_VQ_GRADIENT) snprintf(buf, len, "dL / d %s", a);
        else snprintf(buf, len, "(H v) at %s", a);
        return TDL_OK;
    case TDL_VQ_HESSIAN:
    case TDL_VQ_GN:
        if (!m || index >= P * P) break;
        param_name(m, index / P, a, sizeof a);
        param_name(m, index % P, b, sizeof b);
        if (ctx->quantity == TDL_VQ_HESSIAN) snprintf(buf, len, "d^2 L / d %s d %s", a, b);
        else snprintf(buf, len, "G[%s, %s]", a, b);
        return TDL_OK;
    case TDL_VQ_JACOBIAN: {
        if (!m || (n && index >= n * C * P)) break;
        size_t row = index / P;
        param_name(m, index % P, a, sizeof a);
        snprintf(buf, len, "d f_%zu(x_%zu) / d %s", row % C, row / C, a);
        return TDL_OK;
    }
    case TDL_VQ_NTK:
        if (ctx->full_ntk) {
            if (n == 0 || index >= n * C * n * C) break;
            size_t i = index / (n * C), j = index % (n * C);
            snprintf(buf, len, "K_%zu,%zu(x_%zu, x_%zu)", i % C, j % C, i / C, j / C);
            return TDL_OK;
        }
        if (n == 0 || index >= n * n) break;
        snprintf(buf, len, "K(x_%zu, x_%zu)", index / n, index % n);
        return TDL_OK;
    case TDL_VQ_NNGP:
        if (n == 0 || index >= n * n) break;
        snprintf(buf, len, "K(x_%zu, x_%zu)", index / n, index % n);
        return TDL_OK;
    case TDL_VQ_HESSIAN_EIGENVALUES:
        if (m && index >= P) break;
        snprintf(buf, len, "lambda_%zu (ascending)", index);
        return TDL_OK;
    case TDL_VQ_LOSS:
    case TDL_VQ_KL_INVERSE:
    case TDL_VQ_BOUND:
        if (index != 0) break;
        snprintf(buf, len, "%s", tdl_name_of(tdl_verify_quantity_names, (int)ctx->quantity));
        return TDL_OK;
    default:
        return tdl_fail(TDL_EINVAL, "tdl_verify_entry_name: unknown quantity %d", (int)ctx->quantity);
    }
    buf[0] = '\0';
    return tdl_fail(TDL_EINVAL, "tdl_verify_entry_name: index %zu out of range for the %s", index,
                    tdl_name_of(tdl_verify_quantity_names, (int)ctx->quantity));
}

/* ---- matching ------------------------------------------------------------------ */

static double max_abs(const double *x, size_t len)
{
    double mx = 0;
    for (size_t i = 0; i < len; i++) mx = fmax(mx, fabs(x[i]));
    return mx;
}

/* The pass rule applied to a transformed exact quantity T. */
static int matches(const double *T, const double *a, size_t len, double tol)
{
    double bound = tol * fmax(1.0, max_abs(T, len));
    for (size_t i = 0; i < len; i++) {
        double d = fabs(a[i] - T[i]);
        if (!(d <= bound)) return 0;
    }
    return 1;
}

static int matches_scaled(const double *E, double c, const double *a, size_t len, double tol)
{
    double bound = tol * fmax(1.0, fabs(c) * max_abs(E, len));
    for (size_t i = 0; i < len; i++) {
        double d = fabs(a[i] - c * E[i]);
        if (!(d <= bound)) return 0;
    }
    return 1;
}

/* ---- parameter permutations ---------------------------------------------------
 * perm[k] is the exact index of the answer's entry k. */

static void perm_transposed(const tdl_mlp *m, size_t *perm)
{
    for (size_t k = 0; k < m->n_params; k++) perm[k] = k;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        /* answer stores W_l as in x out row-major: entry (j, i) at j*out + i */
        for (size_t i = 0; i < L->out; i++)
            for (size_t j = 0; j < L->in; j++) perm[L->w_off + j * L->out + i] = L->w_off + i * L->in + j;
    }
}

static void perm_biases_first(const tdl_mlp *m, size_t *perm)
{
    for (size_t k = 0; k < m->n_params; k++) perm[k] = k;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        if (!L->has_bias) continue;
        size_t off, len;
        tdl_layer_range(m, l, &off, &len);
        size_t nw = L->in * L->out, k = off;
        for (size_t i = 0; i < L->out; i++) perm[k++] = L->b_off + i;
        for (size_t i = 0; i < nw; i++) perm[k++] = L->w_off + i;
    }
}

static void perm_layers_reversed(const tdl_mlp *m, size_t *perm)
{
    size_t k = 0;
    for (size_t l = m->depth; l-- > 0;) {
        size_t off, len;
        tdl_layer_range(m, l, &off, &len);
        for (size_t i = 0; i < len; i++) perm[k++] = off + i;
    }
    for (; k < m->n_params; k++) perm[k] = k;
}

static int perm_is_identity(const size_t *perm, size_t P)
{
    for (size_t k = 0; k < P; k++)
        if (perm[k] != k) return 0;
    return 1;
}

/* T = the exact quantity with its parameter indices taken through idx (q
 * entries): a vector, rows and columns (P x P), or columns (R x P). */
static void take_params(qkind kind, const double *E, size_t R, size_t P, const size_t *idx, size_t q, double *T)
{
    if (kind == K_PVEC) {
        for (size_t k = 0; k < q; k++) T[k] = E[idx[k]];
    } else if (kind == K_PMAT) {
        for (size_t i = 0; i < q; i++)
            for (size_t j = 0; j < q; j++) T[i * q + j] = E[idx[i] * P + idx[j]];
    } else {
        for (size_t r = 0; r < R; r++)
            for (size_t j = 0; j < q; j++) T[r * q + j] = E[r * P + idx[j]];
    }
}

/* ---- messages -------------------------------------------------------------------- */

static void fmt_factor(double f, char *buf, size_t len)
{
    double r = round(f), ri = round(1.0 / f);
    if (f != 0 && fabs(f - r) <= 1e-12 * fabs(f)) snprintf(buf, len, "%.0f", r);
    else if (f != 0 && fabs(1.0 / f - ri) <= 1e-12 * fabs(1.0 / f) && ri != 0) snprintf(buf, len, "1/%.0f", ri);
    else {
        /* a small rational p/q (2/3, 3/2, ...) reads better than 0.666667 */
        for (long qd = 2; qd <= 64; qd++) {
            double p = round(f * (double)qd);
            if (p != 0 && fabs(f * (double)qd - p) <= 1e-12 * fabs(f * (double)qd)) {
                snprintf(buf, len, "%.0f/%ld", p, qd);
                return;
            }
        }
        snprintf(buf, len, "%.6g", f);
    }
}

typedef struct scale_try {
    tdl_verify_slip slip;
    double factor;
    char why[200];
} scale_try;

/* The named and parametrization scale factors that apply to the quantity,
 * in the order tried. */
static size_t scale_candidates(const tdl_verify_context *ctx, scale_try *out, size_t cap)
{
    size_t k = 0, n = ctx->n, C = ctx->C;
    tdl_verify_quantity q = ctx->quantity;
    int lossy = loss_derived(q);
    int kernel = q == TDL_VQ_NTK || q == TDL_VQ_NNGP;
#define ADD(SLIP, F, ...)                                                                         \
    do {                                                                                          \
        if (k < cap && isfinite(F) && (F) != 1.0 && (F) != 0.0) {                                 \
            out[k].slip = (SLIP);                                                                 \
            out[k].factor = (F);                                                                  \
            snprintf(out[k].why, sizeof out[k].why, __VA_ARGS__);                                 \
            k++;                                                                                  \
        }                                                                                         \
    } while (0)
    if (lossy && n > 1) {
        ADD(TDL_SLIP_SUM_NOT_MEAN, (double)n, "= n: did you sum the loss over the examples instead of averaging?");
        ADD(TDL_SLIP_MEAN_NOT_SUM, 1.0 / (double)n,
            "= 1/n: did you average the loss over the examples where the model's convention sums?");
    }
    if (lossy || kernel) {
        ADD(TDL_SLIP_NO_HALF, 2.0, "%s",
            ctx->mse ? ": did you leave out the 1/2 of tdl's mse (l = 1/2 ||f - t||^2)?"
                     : ": did you leave out a factor 1/2?");
        ADD(TDL_SLIP_EXTRA_HALF, 0.5, "%s",
            ctx->mse ? ": did you put a 1/2 in front of a loss that already has it (tdl's mse is 1/2 ||f - t||^2)?"
                     : ": did you add a 1/2 that tdl's convention does not have?");
    }
    if ((lossy || kernel || q == TDL_VQ_JACOBIAN) && C > 1) {
        if (q == TDL_VQ_NTK && !ctx->full_ntk)
            ADD(TDL_SLIP_OUTPUTS_SUMMED, (double)C,
                "= C: did you sum the kernel over the outputs instead of averaging (tdl's traced NTK is "
                "(1/C) sum_c J_c J_c^T, neural-tangents' convention; torch.func sums)?");
        else
            ADD(TDL_SLIP_OUTPUTS_SUMMED, (double)C, "= C: did you sum over the C outputs where tdl averages?");
        if (q == TDL_VQ_NTK && !ctx->full_ntk)
            ADD(TDL_SLIP_OUTPUTS_AVERAGED, 1.0 / (double)C,
                "= 1/C: did you divide a kernel that already averages over the outputs by C once more?");
        else
            ADD(TDL_SLIP_OUTPUTS_AVERAGED, 1.0 / (double)C,
                "= 1/C: did you average over the C outputs where tdl sums (tdl's mse sums the squared "
                "errors over the outputs)?");
        if (lossy && ctx->mse) {
            ADD(TDL_SLIP_TORCH_MSE, 2.0 / (double)C,
                "= 2/C: that is PyTorch's nn.MSELoss (the mean over the n C entries, no 1/2); tdl's mse "
                "is 1/2 ||f - t||^2 averaged over the examples");
            ADD(TDL_SLIP_TORCH_MSE, (double)C / 2.0,
                "= C/2: the inverse of PyTorch's nn.MSELoss factor: did you convert tdl's mse to "
                "nn.MSELoss's the wrong way?");
        }
    }
    if (lossy && ctx->ce)
        ADD(TDL_SLIP_LOG2, 1.0 / log(2.0), "= 1/ln 2: did you take the cross-entropy in bits (log2) "
                                           "instead of nats (the natural log)?");
    if (q == TDL_VQ_GRADIENT)
        ADD(TDL_SLIP_SIGN, -1.0, ": did you give the descent direction -dL/dtheta instead of the gradient?");
    else
        ADD(TDL_SLIP_SIGN, -1.0, ": a sign flip (the loss or a derivative with the wrong sign?)");
    /* parametrization factors: sigma_w, fan_in of each layer, the widths */
    if (ctx->m && (lossy || kernel || q == TDL_VQ_JACOBIAN)) {
        const tdl_mlp *m = ctx->m;
        double sw = m->sigma_w;
        for (size_t l = 0; l < m->depth; l++) {
            double fi = (double)m->layers[l].in;
            if (isfinite(sw) && sw > 0) {
                ADD(TDL_SLIP_PARAMETRIZATION, sw * sw / fi,
                    "= sigma_w^2 / fan_in of layer %zu (%g / %zu): did you use the other parametrization "
                    "(standard vs NTK)?", l, sw * sw, m->layers[l].in);
                ADD(TDL_SLIP_PARAMETRIZATION, fi / (sw * sw),
                    "= fan_in / sigma_w^2 of layer %zu (%zu / %g): did you use the other parametrization "
                    "(standard vs NTK)?", l, m->layers[l].in, sw * sw);
                ADD(TDL_SLIP_PARAMETRIZATION, sw / sqrt(fi),
                    "= sigma_w / sqrt(fan_in) of layer %zu: the NTK parametrization's weight multiplier "
                    "(did you mix the parametrizations?)", l);
                ADD(TDL_SLIP_PARAMETRIZATION, sqrt(fi) / sw,
                    "= sqrt(fan_in) / sigma_w of layer %zu: the inverse of the NTK parametrization's "
                    "weight multiplier (did you mix the parametrizations?)", l);
            }
            if (l > 0) {
                ADD(TDL_SLIP_PARAMETRIZATION, 1.0 / fi,
                    "= 1/m with m = %zu the width of hidden layer %zu: did you normalize by the width "
                    "(mean-field or NTK scaling)?", m->layers[l].in, l - 1);
                ADD(TDL_SLIP_PARAMETRIZATION, fi,
                    "= m = %zu the width of hidden layer %zu: did you leave out a 1/m normalization?",
                    m->layers[l].in, l - 1);
            } else {
                ADD(TDL_SLIP_PARAMETRIZATION, 1.0 / fi,
                    "= 1/fan_in of layer 0 (1/%zu): did you normalize by the input dimension?", m->layers[0].in);
                ADD(TDL_SLIP_PARAMETRIZATION, fi,
                    "= fan_in of layer 0 (%zu): did you leave out a 1/d normalization?", m->layers[0].in);
            }
            if (isfinite(sw) && sw > 0 && l == 0) {
                ADD(TDL_SLIP_PARAMETRIZATION, sw * sw, "= sigma_w^2 (%g): did you scale by the weight "
                                                       "variance twice, or leave it out?", sw * sw);
                ADD(TDL_SLIP_PARAMETRIZATION, 1.0 / (sw * sw), "= 1/sigma_w^2 (1/%g): did you scale by "
                                                               "the weight variance twice, or leave it out?",
                    sw * sw);
            }
        }
    }
#undef ADD
    return k;
}

/* ---- where the difference concentrates ------------------------------------------- */

typedef struct share {
    size_t key;
    double v;
} share;

static int share_desc(const void *a, const void *b)
{
    double x = ((const share *)a)->v, y = ((const share *)b)->v;
    return (x < y) - (x > y);
}

/* Append the top shares (>= 1% each, at most 3) of total, named by name_fn. */
static void append_shares(char *buf, size_t len, share *s, size_t ns, double total,
                          void (*name_fn)(size_t key, size_t aux, char *b, size_t l), size_t aux)
{
    qsort(s, ns, sizeof *s, share_desc);
    size_t used = strlen(buf);
    for (size_t i = 0; i < ns && i < 3 && s[i].v > 0; i++) {
        double pct = 100.0 * s[i].v / total;
        if (i > 0 && pct < 1.0) break;
        char nm[64];
        name_fn(s[i].key, aux, nm, sizeof nm);
        int w = snprintf(buf + used, len > used ? len - used : 0, "%s%s (%.0f%%)", i ? ", " : "", nm, pct);
        if (w < 0) return;
        used += (size_t)w;
        if (used >= len) return;
    }
}

static void name_group(size_t key, size_t aux, char *b, size_t l)
{
    (void)aux;
    group_name(key, b, l);
}

static void name_group_pair(size_t key, size_t G, char *b, size_t l)
{
    char x[32], y[32];
    group_name(key / G, x, sizeof x);
    group_name(key % G, y, sizeof y);
    snprintf(b, l, "the block (%s, %s)", x, y);
}

static void name_example(size_t key, size_t aux, char *b, size_t l)
{
    (void)aux;
    snprintf(b, l, "x_%zu", key);
}

static void concentration(const tdl_verify_context *ctx, const double *E, tdl_verify_shape es, const double *A,
                          tdl_verify_result *out)
{
    qkind kind = quantity_kind(ctx->quantity);
    size_t N = shape_numel(es);
    char *buf = out->diagnosis;
    size_t len = sizeof out->diagnosis;
    const tdl_mlp *m = ctx->m;
    double total = 0;
    for (size_t i = 0; i < N; i++) total += (A[i] - E[i]) * (A[i] - E[i]);
    snprintf(buf, len, "no known slip explains your %s (relative error %.3g)", quantity_noun(ctx->quantity),
             out->rel_error);
    size_t used = strlen(buf);
    if (total > 0 && m && (kind == K_PVEC || kind == K_PMAT || kind == K_JAC)) {
        size_t P = m->n_params, G = 2 * m->depth;
        size_t ns = kind == K_PMAT ? G * G : G;
        share *s = calloc(ns, sizeof *s);
        if (s) {
            for (size_t i = 0; i < ns; i++) s[i].key = i;
            for (size_t i = 0; i < N; i++) {
                double d = (A[i] - E[i]) * (A[i] - E[i]);
                if (d == 0) continue;
                size_t key;
                if (kind == K_PVEC) key = param_group(m, i, NULL, NULL);
                else if (kind == K_JAC) key = param_group(m, i % P, NULL, NULL);
                else {
                    size_t g = param_group(m, i / P, NULL, NULL), h = param_group(m, i % P, NULL, NULL);
                    if (g == (size_t)-1 || h == (size_t)-1) continue;
                    key = g <= h ? g * G + h : h * G + g;
                }
                if (key < ns) s[key].v += d;
            }
            snprintf(buf + used, len - used, "; the squared difference lies in ");
            append_shares(buf, len, s, ns, total, kind == K_PMAT ? name_group_pair : name_group, G);
            free(s);
        }
    } else if (total > 0 && kind == K_KERNEL && ctx->n > 0) {
        size_t n = ctx->n, C = ctx->C ? ctx->C : 1;
        size_t rows = es.ndim == 2 ? es.dim[0] : 0, per = (ctx->quantity == TDL_VQ_NTK && ctx->full_ntk) ? C : 1;
        share *s = calloc(n, sizeof *s);
        if (s && rows > 0) {
            size_t cols = es.dim[1];
            for (size_t i = 0; i < n; i++) s[i].key = i;
            for (size_t r = 0; r < rows; r++)
                for (size_t c = 0; c < cols; c++) {
                    double d = A[r * cols + c] - E[r * cols + c];
                    if (r / per < n) s[r / per].v += d * d;
                }
            snprintf(buf + used, len - used, "; the worst rows: ");
            append_shares(buf, len, s, n, total, name_example, 0);
        }
        free(s);
    }
    used = strlen(buf);
    if (used < len && N > 1)
        snprintf(buf + used, len - used, "; the worst entry is %s: yours %.10g, tdl's %.10g", out->worst_meaning,
                 out->worst_answer, out->worst_exact);
    else if (used < len)
        snprintf(buf + used, len - used, ": yours %.10g, tdl's %.10g", out->worst_answer, out->worst_exact);
}

/* ---- the comparison ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void set_slip(tdl_verify_result *out, tdl_verify_slip slip, double factor)
{
    out->slip = slip;
    out->factor = factor;
}

/* Structural slips that apply when the answer's shape differs (and the
 * whole-matrix transpose, which may keep or swap the shape).  1 when one
 * explains the answer. */
static int try_shape_slips(const tdl_verify_context *ctx, const double *E, tdl_verify_shape es, const double *A,
                           tdl_verify_shape as, double tol, double *T, size_t *idx, tdl_verify_result *out)
{
    qkind kind = quantity_kind(ctx->quantity);
    size_t NA = shape_numel(as);
    const char *noun = quantity_noun(ctx->quantity);
    const tdl_mlp *m = ctx->m;
    if (m && (kind == K_PVEC || kind == K_PMAT || kind == K_JAC)) {
        size_t P = m->n_params, R = kind == K_JAC ? shape_numel(es) / P : 1;
        /* the biases left out */
        size_t q = 0, nb = 0;
        for (size_t k = 0; k < P; k++) {
            size_t g = param_group(m, k, NULL, NULL);
            if (g % 2 == 0) idx[q++] = k;
            else nb++;
        }
        size_t want = kind == K_PVEC ? q : kind == K_PMAT ? q * q : R * q;
        if (nb > 0 && NA == want) {
            take_params(kind, E, R, P, idx, q, T);
            if (matches(T, A, NA, tol)) {
                set_slip(out, TDL_SLIP_NO_BIASES, NAN);
                snprintf(out->diagnosis, sizeof out->diagnosis,
                         "your %s covers the %zu weights only (the %zu bias parameters left out); on the weights "
                         "it matches tdl's, whose parameters are W_0, b_0, W_1, b_1, ...",
                         noun, q, nb);
                return 1;
            }
        }
        /* one layer's block */
        for (size_t l = 0; l < m->depth && m->depth > 1; l++) {
            size_t off, len;
            tdl_layer_range(m, l, &off, &len);
            want = kind == K_PVEC ? len : kind == K_PMAT ? len * len : R * len;
            if (NA != want) continue;
            for (size_t k = 0; k < len; k++) idx[k] = off + k;
            take_params(kind, E, R, P, idx, len, T);
            if (matches(T, A, NA, tol)) {
                set_slip(out, TDL_SLIP_ONE_LAYER_BLOCK, NAN);
                out->layer = l;
                const char *what = kind == K_PMAT ? (ctx->quantity == TDL_VQ_GN ? "Gauss-Newton block"
                                                                                  : "Hessian block")
                                                  : "block";
                if (m->layers[l].has_bias)
                    snprintf(out->diagnosis, sizeof out->diagnosis,
                             "your %s is the %s of layer %zu (W_%zu, b_%zu) only, not the whole one over the "
                             "%zu parameters",
                             kind == K_PMAT ? "matrix" : noun, what, l, l, l, P);
                else
                    snprintf(out->diagnosis, sizeof out->diagnosis,
                             "your %s is the %s of layer %zu (W_%zu) only, not the whole one over the %zu "
                             "parameters",
                             kind == K_PMAT ? "matrix" : noun, what, l, l, P);
                return 1;
            }
        }
    }
    /* the whole matrix stored column-major (the transpose read row by row) */
    if (es.ndim == 2 && NA == shape_numel(es) && es.dim[0] > 1 && es.dim[1] > 1 &&
        (shape_same(as, es) || (as.ndim == 2 && as.dim[0] == es.dim[1] && as.dim[1] == es.dim[0]))) {
        size_t R = es.dim[0], Q = es.dim[1];
        int same = 1;
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < Q; j++) {
                T[j * R + i] = E[i * Q + j];
                if (T[j * R + i] != E[j * R + i]) same = 0;
            }
        if (!same && matches(T, A, NA, tol)) {
            set_slip(out, TDL_SLIP_COLUMN_MAJOR, NAN);
            snprintf(out->diagnosis, sizeof out->diagnosis,
                     "your %s is tdl's stored column-major (the %zu x %zu transpose read row by row): tdl's "
                     "matrices are row-major%s",
                     noun, Q, R, kind == K_JAC ? ", row i*C + c = d f_c(x_i) / d theta" : "");
            return 1;
        }
    }
    return 0;
}

static void diagnose(const tdl_verify_context *ctx, const double *E, tdl_verify_shape es, const double *A,
                     tdl_verify_shape as, double tol, tdl_verify_result *out, double *T, size_t *idx)
{
    qkind kind = quantity_kind(ctx->quantity);
    size_t N = shape_numel(es);
    const char *noun = quantity_noun(ctx->quantity);
    char f[64];
    if (out->shape_ok) {
        /* 1-2. scale factors */
        scale_try tries[96];
        size_t nt = scale_candidates(ctx, tries, sizeof tries / sizeof *tries);
        for (size_t t = 0; t < nt; t++) {
            if (!matches_scaled(E, tries[t].factor, A, N, tol)) continue;
            set_slip(out, tries[t].slip, tries[t].factor);
            if (tries[t].slip == TDL_SLIP_SIGN)
                snprintf(out->diagnosis, sizeof out->diagnosis, "your %s %s minus tdl's%s", noun,
                         verb_be(ctx->quantity), tries[t].why);
            else {
                fmt_factor(tries[t].factor, f, sizeof f);
                snprintf(out->diagnosis, sizeof out->diagnosis, "your %s %s tdl's times %s%s%s", noun,
                         verb_equal(ctx->quantity), f, tries[t].why[0] == ':' ? "" : " ", tries[t].why);
            }
            return;
        }
        /* 3. parameter orders */
        const tdl_mlp *m = ctx->m;
        if (m && (kind == K_PVEC || kind == K_PMAT || kind == K_JAC) && N % m->n_params == 0) {
            size_t P = m->n_params, R = kind == K_JAC ? N / P : 1;
            static const struct {
                tdl_verify_slip slip;
                void (*build)(const tdl_mlp *, size_t *);
                const char *what;
            } orders[] = {
                {TDL_SLIP_TRANSPOSED_WEIGHTS, perm_transposed,
                 "with each weight matrix transposed (in x out, or column-major storage): tdl stores W_l as "
                 "out x in, row-major (PyTorch's layout)"},
                {TDL_SLIP_BIASES_FIRST, perm_biases_first,
                 "with each layer's bias before its weight: tdl's order is W_0, b_0, W_1, b_1, ... "
                 "(PyTorch's state dict)"},
                {TDL_SLIP_LAYERS_REVERSED, perm_layers_reversed,
                 "with the layers in reverse order (the last layer first): tdl's order starts at layer 0, "
                 "the input layer"},
            };
            /* first each order alone, then each order with one named scale
             * factor (the least-squares ratio picks the candidate) */
            for (int scaled = 0; scaled < 2; scaled++)
                for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
                    orders[o].build(m, idx);
                    if (perm_is_identity(idx, P)) continue;
                    take_params(kind, E, R, P, idx, P, T);
                    const scale_try *st = NULL;
                    if (!scaled) {
                        if (!matches(T, A, N, tol)) continue;
                    } else {
                        double tt = 0, at = 0;
                        for (size_t i = 0; i < N; i++) {
                            tt += T[i] * T[i];
                            at += A[i] * T[i];
                        }
                        double c = tt > 0 ? at / tt : 0;
                        for (size_t t = 0; t < nt && !st; t++)
                            if (fabs(c - tries[t].factor) <= 1e-6 * fabs(tries[t].factor) &&
                                matches_scaled(T, tries[t].factor, A, N, tol))
                                st = &tries[t];
                        if (!st) continue;
                    }
                    set_slip(out, orders[o].slip, st ? st->factor : NAN);
                    const char *where = kind == K_PMAT ? " (the same order on the rows and the columns)"
                                        : kind == K_JAC ? " (on the columns)"
                                                        : "";
                    if (!st)
                        snprintf(out->diagnosis, sizeof out->diagnosis, "your %s is tdl's %s%s", noun,
                                 orders[o].what, where);
                    else {
                        fmt_factor(st->factor, f, sizeof f);
                        snprintf(out->diagnosis, sizeof out->diagnosis, "your %s is tdl's %s%s, and times %s%s%s",
                                 noun, orders[o].what, where, f, st->why[0] == ':' ? "" : " ", st->why);
                    }
                    return;
                }
        }
        if (try_shape_slips(ctx, E, es, A, as, tol, T, idx, out)) return;
        /* 4. eigenvalue order */
        if (kind == K_EIGEN && N > 1) {
            for (size_t i = 0; i < N; i++) T[i] = E[N - 1 - i];
            if (matches(T, A, N, tol)) {
                set_slip(out, TDL_SLIP_DESCENDING, NAN);
                snprintf(out->diagnosis, sizeof out->diagnosis,
                         "your eigenvalues are tdl's in descending order (tdl lists them ascending)");
                return;
            }
            memcpy(T, A, N * sizeof *T);
            qsort(T, N, sizeof *T, cmp_double);
            if (matches(E, T, N, tol)) {
                set_slip(out, TDL_SLIP_UNSORTED, NAN);
                snprintf(out->diagnosis, sizeof out->diagnosis,
                         "your eigenvalues are tdl's in another order (the same values, not sorted): tdl "
                         "lists them ascending");
                return;
            }
        }
        /* 5. integer targets */
        if (ctx->alt_integer_targets && matches(ctx->alt_integer_targets, A, N, tol)) {
            set_slip(out, TDL_SLIP_INTEGER_TARGETS, NAN);
            snprintf(out->diagnosis, sizeof out->diagnosis,
                     "your %s is the mse against the class index (an integer target) instead of the one-hot "
                     "vector of the label: tdl's mse compares the C outputs with one-hot targets",
                     noun);
            return;
        }
        /* 6. any other constant factor (not for a scalar: any ratio fits one) */
        if (N > 1) {
            double ee = 0, ae = 0;
            for (size_t i = 0; i < N; i++) {
                ee += E[i] * E[i];
                ae += A[i] * E[i];
            }
            double c = ee > 0 ? ae / ee : 0;
            if (c != 0 && isfinite(c) && fabs(c - 1) > tol && matches_scaled(E, c, A, N, tol)) {
                set_slip(out, TDL_SLIP_CONSTANT_FACTOR, c);
                snprintf(out->diagnosis, sizeof out->diagnosis,
                         "your %s %s tdl's times %.10g, a constant factor that no known convention explains: "
                         "check the normalization (the reduction over examples and outputs, the loss's 1/2, "
                         "the parametrization)",
                         noun, verb_equal(ctx->quantity), c);
                return;
            }
        }
        concentration(ctx, E, es, A, out);
        return;
    }
    if (try_shape_slips(ctx, E, es, A, as, tol, T, idx, out)) return;
    char ys[48], ts[48];
    shape_format(as, ys, sizeof ys);
    shape_format(es, ts, sizeof ts);
    snprintf(out->diagnosis, sizeof out->diagnosis,
             "your %s has shape %s, tdl's %s; no known slip (biases left out, one layer's block, the transpose) "
             "explains the difference",
             noun, ys, ts);
}

int tdl_verify_compare(const tdl_verify_context *ctx, const double *exact, tdl_verify_shape eshape,
                       const double *answer, tdl_verify_shape ashape, double tol, tdl_verify_result *out)
{
    if (!ctx || !exact || !answer || !out) return tdl_fail(TDL_EINVAL, "tdl_verify_compare: NULL argument");
    memset(out, 0, sizeof *out);
    out->factor = NAN;
    out->abs_error = out->rel_error = NAN;
    out->worst_exact = out->worst_answer = NAN;
    out->tol = tol;
    if (!(tol > 0) || !isfinite(tol))
        return tdl_fail(TDL_EINVAL, "verify: the tolerance must be a positive number (got %g)", tol);
    if ((int)ctx->quantity < TDL_VQ_LOSS || (int)ctx->quantity > TDL_VQ_BOUND)
        return tdl_fail(TDL_EINVAL, "verify: unknown quantity %d", (int)ctx->quantity);
    if (eshape.ndim > 2 || ashape.ndim > 2)
        return tdl_fail(TDL_EINVAL, "verify: a quantity has at most 2 dimensions (got %zu)",
                        eshape.ndim > 2 ? eshape.ndim : ashape.ndim);
    size_t N = shape_numel(eshape), NA = shape_numel(ashape);
    if (N == 0 || NA == 0) return tdl_fail(TDL_EINVAL, "verify: an empty quantity");
    for (size_t i = 0; i < N; i++)
        if (!isfinite(exact[i]))
            return tdl_fail(TDL_EINVAL, "verify: tdl's exact %s has a non-finite entry at %zu",
                            tdl_name_of(tdl_verify_quantity_names, (int)ctx->quantity), i);
    out->slip = TDL_SLIP_NONE;
    out->shape_ok = shape_same(ashape, eshape);
    for (size_t i = 0; i < NA; i++) {
        if (isfinite(answer[i])) continue;
        char nm[160] = "";
        if (out->shape_ok && tdl_verify_entry_name(ctx, i, nm, sizeof nm) != TDL_OK) nm[0] = '\0';
        snprintf(out->diagnosis, sizeof out->diagnosis, "your %s has a non-finite value (%g) at entry %zu%s%s%s",
                 quantity_noun(ctx->quantity), answer[i], i, nm[0] ? " (" : "", nm, nm[0] ? ")" : "");
        out->worst = i;
        out->worst_answer = answer[i];
        if (out->shape_ok) out->worst_exact = exact[i];
        snprintf(out->worst_meaning, sizeof out->worst_meaning, "%s", nm);
        return TDL_OK;
    }
    if (out->shape_ok) {
        double mx = max_abs(exact, N), err = 0;
        size_t worst = 0;
        for (size_t i = 0; i < N; i++) {
            double d = fabs(answer[i] - exact[i]);
            if (d > err) {
                err = d;
                worst = i;
            }
        }
        out->abs_error = err;
        out->rel_error = mx > 0 ? err / mx : err;
        out->worst = worst;
        out->worst_exact = exact[worst];
        out->worst_answer = answer[worst];
        if (tdl_verify_entry_name(ctx, worst, out->worst_meaning, sizeof out->worst_meaning) != TDL_OK)
            snprintf(out->worst_meaning, sizeof out->worst_meaning, "entry %zu", worst);
        out->passed = err <= tol * fmax(1.0, mx);
        if (out->passed) return TDL_OK;
    }
    size_t cap = N > NA ? N : NA;
    size_t P = ctx->m ? ctx->m->n_params : 0;
    double *T = malloc(cap * sizeof *T);
    size_t *idx = malloc((P > cap ? P : cap) * sizeof *idx);
    if (!T || !idx) {
        free(T);
        free(idx);
        return tdl_fail(TDL_ENOMEM, "verify: out of memory (%zu entries)", cap);
    }
    diagnose(ctx, exact, eshape, answer, ashape, tol, out, T, idx);
    free(T);
    free(idx);
    return TDL_OK;
}
