/* hessian.c — exact dense Hessians (H = G + R), per-layer blocks.
 *
 * Structured assembly for nets of depth <= 2 (tdl/hessian.h).  Shape legend
 * for a one-hidden-layer net, one example (index i dropped), augmented
 * coordinates that fold each bias in as an extra input column:
 *   x~ = [s1 x ; t1]                 d1 = d (+1 with bias b1)
 *   z = s1 W1 x + t1 b1 (h),  a = phi(z),  f = s2 W2 a + t2 b2 (C)
 *   a~ = [s2 a ; t2]                 h1 = h (+1 with bias b2)
 *   g = dl/df / n,  L = d2l/df2 / n (C x C)  (1/n: the loss convention's scale),  B = s2 W2 diag(phi'(z))  (C x h)
 * Then, with W~1 = [W1 b1] (h x d1) and W~2 = [W2 b2] (C x h1):
 *   G[(a,j),(b,k)]  = sum_i (B^T L B)[a,b] x~_j x~_k               (layer 1, layer 1)
 *   R[(a,j),(b,k)]  = sum_i delta_ab s2 (W2^T g)_a phi''(z_a) x~_j x~_k
 *   G[(c,a),(c',b)] = sum_i L[c,c'] a~_a a~_b                       (layer 2, layer 2)
 *   G[(a,j),(c,b)]  = sum_i (B^T L)[a,c] x~_j a~_b                   (layer 1, layer 2)
 *   R[(a,j),(c,b)]  = sum_i delta_ab s2 g_c phi'(z_a) x~_j           (b < h)
 * Each sum over examples is ONE dgemm: e.g. the first is Q^T XX with
 * Q (n x h^2) holding B^T L B per example and XX (n x d1^2) holding x~ x~^T,
 * so assembly costs O(n h^2 d1^2) flops in BLAS-3 (and never forms the
 * n C x P Jacobian).  A linear model is the (layer 2, layer 2) block with
 * a~ = x~.  Deeper nets: columns of H from exact Hessian-vector products.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/hessian.h"
#include "internal.h"
#include "net_internal.h"

/* Temporaries of the structured assembly are kept under this many bytes by
 * processing examples in blocks. */
#define ASSEMBLY_BUDGET ((size_t)8 << 20)

void tdl_layer_range(const tdl_mlp *m, size_t l, size_t *off, size_t *len)
{
    const tdl_layer *L = &m->layers[l];
    *off = L->w_off;
    *len = L->in * L->out + (L->has_bias ? L->out : 0);
}

/* Flat index of augmented entry (row o, column j) of layer L: column `in`
 * is the bias. */
static inline size_t aug_index(const tdl_layer *L, size_t o, size_t j)
{
    return j < L->in ? L->w_off + o * L->in + j : L->b_off + o;
}

/* Everything the depth <= 2 assembly keeps between example blocks. */
typedef struct shallow_acc {
    int have1, have2;            /* layer blocks wanted (hidden, last) */
    size_t d, d1, h, h1, C;
    double *T11, *T11R;          /* hp x dp, h x dp (packed symmetric pairs) */
    double *T22;                 /* Cp x hp1 */
    double *T12, *T12R;          /* hC x d1 h1, hC x d1 */
} shallow_acc;

/* Write val at (r, c) of the output block when both flat indices fall in
 * [off, off + len). */
static inline void put(double *M, size_t off, size_t len, size_t r, size_t c, double val)
{
    if (r - off < len && c - off < len) M[(r - off) * len + (c - off)] = val;
}

void tdl_shallow_forward(const tdl_mlp *m, const tdl_dataset *ds, size_t r0, size_t nr, double *Xt, double *Z,
                         double *D1, double *D2, double *At, double *F)
{
    const int linear = m->depth == 1;
    const tdl_layer *L1 = &m->layers[0], *L2 = &m->layers[m->depth - 1];
    const size_t d = ds->d, d1 = d + (L1->has_bias ? 1 : 0), C = L2->out;
    const size_t h = linear ? d : L1->out, h1 = linear ? d1 : h + (L2->has_bias ? 1 : 0);
    const double s1 = L1->w_scale, t1 = L1->b_scale, s2 = L2->w_scale, t2 = L2->b_scale;
    for (size_t i = 0; i < nr; i++) {
        const double *x = gsl_matrix_const_ptr(ds->X, r0 + i, 0);
        for (size_t j = 0; j < d; j++) Xt[i * d1 + j] = s1 * x[j];
        if (d1 > d) Xt[i * d1 + d] = t1;
    }
    if (!linear) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)h, (int)d, 1.0, Xt, (int)d1,
                    m->theta + L1->w_off, (int)d, 0.0, Z, (int)h);
        if (L1->has_bias)
            for (size_t i = 0; i < nr; i++)
                for (size_t a = 0; a < h; a++) Z[i * h + a] += t1 * m->theta[L1->b_off + a];
        tdl_act_eval(&m->act, Z, nr * h, Z, D1, D2); /* Z now holds phi(z) */
        for (size_t i = 0; i < nr; i++) {
            for (size_t a = 0; a < h; a++) At[i * h1 + a] = s2 * Z[i * h + a];
            if (h1 > h) At[i * h1 + h] = t2;
        }
    }
    /* f = W~2 a~ (a~ already carries s2 and t2) */
    const double *A = linear ? Xt : At;
    for (size_t i = 0; i < nr; i++)
        for (size_t c = 0; c < C; c++) {
            double v = 0;
            const double *w = m->theta + L2->w_off + c * L2->in;
            for (size_t b = 0; b < L2->in; b++) v += w[b] * A[i * h1 + b];
            if (h1 > L2->in) v += m->theta[L2->b_off + c] * A[i * h1 + L2->in];
            F[i * C + c] = v;
        }
}

static int shallow_assemble(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t off,
                            size_t len, double *H, double *G)
{
    const int linear = m->depth == 1;
    const tdl_layer *L1 = &m->layers[0], *L2 = &m->layers[m->depth - 1];
    shallow_acc S = {0};
    S.d = ds->d;
    S.C = L2->out;
    S.d1 = S.d + (L1->has_bias ? 1 : 0);
    S.h = linear ? S.d : L1->out;
    S.h1 = linear ? S.d1 : S.h + (L2->has_bias ? 1 : 0);
    size_t r1o, r1l, r2o, r2l;
    tdl_layer_range(m, 0, &r1o, &r1l);
    tdl_layer_range(m, m->depth - 1, &r2o, &r2l);
    S.have1 = !linear && r1o < off + len && off < r1o + r1l;
    S.have2 = r2o < off + len && off < r2o + r2l;
    const size_t n = ds->n, d1 = S.d1, h = S.h, h1 = S.h1, C = S.C;
    /* Q_i, x~ x~^T, L_i and a~ a~^T are symmetric: only pairs (a <= b) are
     * kept ("packed"), which cuts the two big dgemms by 4. */
    const size_t hp = h * (h + 1) / 2, dp = d1 * (d1 + 1) / 2, Cp = C * (C + 1) / 2, hp1 = h1 * (h1 + 1) / 2;
    const double s2 = L2->w_scale;
    /* phi'' vanishes for piecewise-linear activations: no (1,1) residual */
    int need_r = H != NULL && !linear && m->act.kind != TDL_ACT_IDENTITY && m->act.kind != TDL_ACT_RELU &&
                 m->act.kind != TDL_ACT_LEAKY_RELU && m->act.kind != TDL_ACT_ABRELU;
    int st = TDL_OK;
    double inv_n; /* 1/n, or the factor of the model's loss convention (tdl/net.h) */
    if ((st = tdl_mlp_loss_scale(m, loss, n, &inv_n)) != TDL_OK) return st;

    /* Per-block temporaries: Q (nb x h^2), XX (nb x d1^2), Hm (nb x C^2),
     * AA (nb x h1^2), BH (nb x hC), XA (nb x d1 h1), Rm (nb x h), Sm (nb x hC),
     * Xt (nb x d1), plus the forward pass (nb x (3h + C)). */
    size_t per_row = (S.have1 ? hp + dp + 2 * h + h * C + d1 : 0) + (S.have2 ? Cp + hp1 : 0) +
                     (S.have1 && S.have2 ? h * C + d1 * h1 : 0) + 4 * h + 2 * C + d1 + h1;
    size_t nb = ASSEMBLY_BUDGET / (per_row * sizeof(double));
    if (nb == 0) nb = 1;
    if (nb > n) nb = n;
    double *buf = NULL;
    size_t acc_len = (S.have1 ? hp * dp + h * dp : 0) + (S.have2 ? Cp * hp1 : 0) +
                     (S.have1 && S.have2 ? h * C * d1 * h1 + h * C * d1 : 0);
    double *acc = tdl_calloc(acc_len ? acc_len : 1, sizeof(double), "Hessian blocks");
    buf = tdl_malloc(nb * per_row * sizeof(double), "Hessian assembly");
    if (!acc || !buf) { st = TDL_ENOMEM; goto cleanup; }
    double *p = acc;
    if (S.have1) { S.T11 = p; p += hp * dp; S.T11R = p; p += h * dp; }
    if (S.have2) { S.T22 = p; p += Cp * hp1; }
    if (S.have1 && S.have2) { S.T12 = p; p += h * C * d1 * h1; S.T12R = p; }
    p = buf;
    double *Xt = p; p += nb * d1;
    double *Z = p; p += nb * h;
    double *D1 = p; p += nb * h;
    double *D2 = p; p += nb * h;
    double *At = p; p += nb * h1;
    double *F = p; p += nb * C;
    double *gvec = p; p += nb * C;
    double *Bv = p; p += h;            /* scratch: one row of B^T L ... (h) */
    double *Q = NULL, *XX = NULL, *Hm = NULL, *AA = NULL, *BH = NULL, *XA = NULL, *Rm = NULL, *Sm = NULL;
    if (S.have1) { Q = p; p += nb * hp; XX = p; p += nb * dp; Rm = p; p += nb * h; Sm = p; p += nb * h * C; }
    if (S.have2) { Hm = p; p += nb * Cp; AA = p; p += nb * hp1; }
    if (S.have1 && S.have2) { BH = p; p += nb * h * C; XA = p; p += nb * d1 * h1; }
    (void)Bv;
    double *Lmat = tdl_malloc((C * C + C * h + C + h * h) * sizeof(double), "loss Hessian");
    if (!Lmat) { st = TDL_ENOMEM; goto cleanup; }
    double *LB = Lmat + C * C, *unit = LB + C * h, *Qfull = unit + C;

    for (size_t r0 = 0; r0 < n; r0 += nb) {
        size_t nr = n - r0 < nb ? n - r0 : nb;
        /* x~, the hidden layer, a~ and f (tdl_shallow_forward) */
        tdl_shallow_forward(m, ds, r0, nr, Xt, Z, D1, D2, At, F);
        if (linear) memcpy(At, Xt, nr * d1 * sizeof(double)); /* a~ = x~ */
        for (size_t i = 0; i < nr; i++) {
            const size_t row = r0 + i;
            const double *f = F + i * C;
            const double *y = ds->Y ? gsl_matrix_const_ptr(ds->Y, row, 0) : NULL;
            double li = tdl_net_example_loss(loss, C, f, ds->labels ? ds->labels[row] : 0, y, gvec + i * C);
            if (!isfinite(li)) { free(Lmat); st = tdl_fail(TDL_ENONFINITE, "the loss of example %zu is not finite", row); goto cleanup; }
            for (size_t c = 0; c < C; c++) gvec[i * C + c] *= inv_n;
            /* L = d2l/df2 / n, column by column */
            for (size_t c = 0; c < C; c++) {
                memset(unit, 0, C * sizeof(double));
                unit[c] = 1.0;
                tdl_net_example_loss_hess(loss, C, f, ds->Y != NULL, unit, Lmat + c * C);
            }
            for (size_t k = 0; k < C * C; k++) Lmat[k] *= inv_n; /* symmetric: row/column order moot */
            if (S.have2) {
                const double *av = At + i * h1;
                double *hm = Hm + i * Cp, *aa = AA + i * hp1;
                for (size_t c = 0; c < C; c++)
                    for (size_t c2 = c; c2 < C; c2++) *hm++ = Lmat[c * C + c2];
                for (size_t a = 0; a < h1; a++)
                    for (size_t b = a; b < h1; b++) *aa++ = av[a] * av[b];
            }
            if (!S.have1) continue;
            /* B = s2 W2 diag(phi'(z)) (C x h); LB = L B; Q = B^T L B; BH = B^T L */
            double *Bm = LB; /* reuse: fill B into a temporary then multiply */
            double *Bt = Sm + i * h * C; /* borrow Sm row as B storage (C x h), rewritten below */
            for (size_t c = 0; c < C; c++)
                for (size_t a = 0; a < h; a++)
                    Bt[c * h + a] = s2 * m->theta[L2->w_off + c * h + a] * D1[i * h + a];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)C, (int)h, (int)C, 1.0, Lmat, (int)C,
                        Bt, (int)h, 0.0, Bm, (int)h);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)h, (int)h, (int)C, 1.0, Bt, (int)h,
                        Bm, (int)h, 0.0, Qfull, (int)h);
            double *q = Q + i * hp;
            for (size_t a = 0; a < h; a++)
                for (size_t b = a; b < h; b++) *q++ = Qfull[a * h + b];
            if (S.have2) /* BH[a][c] = (B^T L)[a][c] = LB[c][a] (L symmetric) */
                for (size_t a = 0; a < h; a++)
                    for (size_t c = 0; c < C; c++) BH[i * h * C + a * C + c] = Bm[c * h + a];
            const double *xv = Xt + i * d1;
            double *xx = XX + i * dp;
            for (size_t j = 0; j < d1; j++)
                for (size_t k = j; k < d1; k++) *xx++ = xv[j] * xv[k];
            if (S.have2)
                for (size_t j = 0; j < d1; j++)
                    for (size_t b = 0; b < h1; b++) XA[i * d1 * h1 + j * h1 + b] = xv[j] * At[i * h1 + b];
            /* residual pieces: r[a] = s2 (W2^T g)_a phi''(z_a);  S[a][c] = s2 g_c phi'(z_a) */
            for (size_t a = 0; a < h; a++) {
                double wg = 0;
                for (size_t c = 0; c < C; c++) wg += m->theta[L2->w_off + c * h + a] * gvec[i * C + c];
                Rm[i * h + a] = s2 * wg * D2[i * h + a];
                for (size_t c = 0; c < C; c++) Bt[a * C + c] = s2 * gvec[i * C + c] * D1[i * h + a];
            }
        }
        /* the sums over examples, one dgemm each */
        if (S.have1) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)hp, (int)dp, (int)nr, 1.0,
                        Q, (int)hp, XX, (int)dp, 1.0, S.T11, (int)dp);
            if (need_r)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)h, (int)dp, (int)nr, 1.0,
                            Rm, (int)h, XX, (int)dp, 1.0, S.T11R, (int)dp);
        }
        if (S.have2)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Cp, (int)hp1, (int)nr, 1.0,
                        Hm, (int)Cp, AA, (int)hp1, 1.0, S.T22, (int)hp1);
        if (S.have1 && S.have2) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(h * C), (int)(d1 * h1), (int)nr, 1.0,
                        BH, (int)(h * C), XA, (int)(d1 * h1), 1.0, S.T12, (int)(d1 * h1));
            if (H)
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(h * C), (int)d1, (int)nr, 1.0,
                            Sm, (int)(h * C), Xt, (int)d1, 1.0, S.T12R, (int)d1);
        }
    }
    free(Lmat);

    /* scatter into the requested block: packed entry ((a,b),(j,k)) stands for
     * the four entries ((a,j),(b,k)), ((a,k),(b,j)) and their mirrors. */
    const tdl_layer *Lh = &m->layers[0];
    if (S.have1) {
        size_t pq = 0;
        for (size_t a = 0; a < h; a++)
            for (size_t b = a; b < h; b++, pq++) {
                size_t px = 0;
                for (size_t j = 0; j < d1; j++)
                    for (size_t k = j; k < d1; k++, px++) {
                        double g = S.T11[pq * dp + px];
                        double r = (a == b && need_r) ? S.T11R[a * dp + px] : 0.0;
                        size_t aj = aug_index(Lh, a, j), bk = aug_index(Lh, b, k);
                        size_t ak = aug_index(Lh, a, k), bj = aug_index(Lh, b, j);
                        if (G) {
                            put(G, off, len, aj, bk, g); put(G, off, len, bk, aj, g);
                            put(G, off, len, ak, bj, g); put(G, off, len, bj, ak, g);
                        }
                        if (H) {
                            put(H, off, len, aj, bk, g + r); put(H, off, len, bk, aj, g + r);
                            put(H, off, len, ak, bj, g + r); put(H, off, len, bj, ak, g + r);
                        }
                    }
            }
    }
    if (S.have2) {
        size_t pc = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t c2 = c; c2 < C; c2++, pc++) {
                size_t pa = 0;
                for (size_t a = 0; a < h1; a++)
                    for (size_t b = a; b < h1; b++, pa++) {
                        double g = S.T22[pc * hp1 + pa];
                        size_t ca = aug_index(L2, c, a), cb = aug_index(L2, c2, b);
                        size_t cb2 = aug_index(L2, c, b), ca2 = aug_index(L2, c2, a);
                        for (int part = 0; part < 2; part++) {
                            double *M = part ? G : H;
                            if (!M) continue;
                            put(M, off, len, ca, cb, g); put(M, off, len, cb, ca, g);
                            put(M, off, len, cb2, ca2, g); put(M, off, len, ca2, cb2, g);
                        }
                    }
            }
    }
    if (S.have1 && S.have2)
        for (size_t a = 0; a < h; a++)
            for (size_t c = 0; c < C; c++)
                for (size_t j = 0; j < d1; j++)
                    for (size_t b = 0; b < h1; b++) {
                        size_t r = aug_index(Lh, a, j), q = aug_index(L2, c, b);
                        double g = S.T12[(a * C + c) * d1 * h1 + j * h1 + b];
                        double hv = g + (b == a ? S.T12R[(a * C + c) * d1 + j] : 0.0);
                        if (G) { put(G, off, len, r, q, g); put(G, off, len, q, r, g); }
                        if (H) { put(H, off, len, r, q, hv); put(H, off, len, q, r, hv); }
                    }
cleanup:
    free(acc);
    free(buf);
    return st;
}

/* Any depth: columns of H (or G) in the block from Hessian-vector products
 * with unit vectors. */
static int columns_assemble(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t off,
                            size_t len, double *H, double *G)
{
    const size_t P = m->n_params;
    tdl_net_work *w = NULL;
    double *v = tdl_calloc(P, sizeof(double), "a unit vector");
    double *out = tdl_malloc(P * sizeof(double), "a Hessian column");
    int st = (!v || !out) ? TDL_ENOMEM : tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w);
    for (size_t j = 0; j < len && st == TDL_OK; j++) {
        v[off + j] = 1.0;
        for (int part = 0; part < 2 && st == TDL_OK; part++) {
            double *M = part ? G : H;
            if (!M) continue;
            st = tdl_mlp_hvp(m, loss, ds, v, part, w, out);
            /* column j of the block = rows off..off+len of H e_{off+j} */
            for (size_t i = 0; i < len && st == TDL_OK; i++) M[i * len + j] = out[off + i];
        }
        v[off + j] = 0.0;
    }
    tdl_net_work_free(&w);
    free(v);
    free(out);
    return st;
}

int tdl_hessian_dense(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t off, size_t len,
                      double *H, double *G)
{
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    if (off > m->n_params || len > m->n_params - off || len == 0)
        return tdl_fail(TDL_EINVAL, "Hessian block [%zu, %zu) outside the %zu parameters", off, off + len, m->n_params);
    if (!H && !G) return TDL_OK;
    if (H) memset(H, 0, len * len * sizeof(double));
    if (G) memset(G, 0, len * len * sizeof(double));
    /* The structured assembly writes each mirrored pair from one number, so
     * it is exactly symmetric.  Columns of Hessian-vector products are not:
     * mirrored entries come from different summation orders and may differ
     * in the last bits; use their mean. */
    if (m->depth <= 2) return shallow_assemble(m, loss, ds, off, len, H, G);
    st = columns_assemble(m, loss, ds, off, len, H, G);
    if (st == TDL_OK && H) tdl_symmetrize(H, len, len);
    if (st == TDL_OK && G) tdl_symmetrize(G, len, len);
    return st;
}


const tdl_name tdl_hessian_method_names[] = {
    {"exact", TDL_HESSIAN_EXACT}, {"lanczos", TDL_HESSIAN_LANCZOS}, {"slq", TDL_HESSIAN_SLQ}, {NULL, 0}};

/* ---- the Hessian and Gauss-Newton operators ------------------------------ */

struct tdl_hessian_operator {
    const tdl_mlp *m;
    tdl_loss_kind loss;
    const tdl_dataset *ds;
    tdl_net_work *w;              /* products over blocks of min(n, 2048) examples */
    int gauss_newton;
    size_t off, len, P;
    double *full_in, *full_out;   /* P each, only for a block (len < P) */
    size_t count;
};

int tdl_hessian_operator_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, int gauss_newton,
                                tdl_hessian_operator **out)
{
    *out = NULL;
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    tdl_hessian_operator *op = tdl_calloc(1, sizeof *op, "a Hessian operator");
    if (!op) return TDL_ENOMEM;
    op->m = m;
    op->loss = loss;
    op->ds = ds;
    op->gauss_newton = gauss_newton != 0;
    op->P = op->len = m->n_params;
    if ((st = tdl_net_work_alloc(m, ds->n < 2048 ? ds->n : 2048, &op->w)) != TDL_OK) {
        free(op);
        return st;
    }
    *out = op;
    return TDL_OK;
}

int tdl_hessian_operator_set_block(tdl_hessian_operator *op, size_t off, size_t len)
{
    if (len == 0 || off > op->P || len > op->P - off)
        return tdl_fail(TDL_EINVAL, "parameter block [%zu, %zu) is not inside the %zu parameters", off, off + len, op->P);
    free(op->full_in);
    free(op->full_out);
    op->full_in = op->full_out = NULL;
    op->off = off;
    op->len = len;
    if (len == op->P) return TDL_OK;
    /* a block: x enters a zero vector of length P at off, y is read back from there */
    op->full_in = tdl_calloc(op->P, sizeof(double), "a direction");
    op->full_out = tdl_malloc(op->P * sizeof(double), "a product");
    if (!op->full_in || !op->full_out) {
        free(op->full_in);
        free(op->full_out);
        op->full_in = op->full_out = NULL;
        op->off = 0;
        op->len = op->P;
        return TDL_ENOMEM;
    }
    return TDL_OK;
}

void tdl_hessian_operator_set_gauss_newton(tdl_hessian_operator *op, int gauss_newton)
{
    op->gauss_newton = gauss_newton != 0;
}

size_t tdl_hessian_operator_dim(const tdl_hessian_operator *op) { return op->len; }

size_t tdl_hessian_operator_products(const tdl_hessian_operator *op) { return op->count; }

int tdl_hessian_operator_apply(const double *x, double *y, void *ctx)
{
    tdl_hessian_operator *op = ctx;
    op->count++;
    if (!op->full_in) return tdl_mlp_hvp(op->m, op->loss, op->ds, x, op->gauss_newton, op->w, y);
    memcpy(op->full_in + op->off, x, op->len * sizeof(double));
    int st = tdl_mlp_hvp(op->m, op->loss, op->ds, op->full_in, op->gauss_newton, op->w, op->full_out);
    if (st == TDL_OK) memcpy(y, op->full_out + op->off, op->len * sizeof(double));
    return st;
}

void tdl_hessian_operator_free(tdl_hessian_operator **op)
{
    if (!op || !*op) return;
    tdl_net_work_free(&(*op)->w);
    free((*op)->full_in);
    free((*op)->full_out);
    free(*op);
    *op = NULL;
}
