/* ntk.c — the empirical neural tangent kernel of a finite net
 * (tdl/ntk_empirical.h): the structured closed form for depth <= 2, J J^T by
 * blocks of the exact Jacobian otherwise, and the drift from initialization.
 *
 * References:
 *   Jacot, Gabriel, Hongler 2018 (NeurIPS), "Neural tangent kernel" (the
 *     definition of Theta^(L)).
 *   Lee et al. 2019 (arXiv 1902.06720), Sec. 2.4 (the kernel's drift).
 *   neural-tangents (Novak et al. 2020) for conventions (../shared/reference/ntk.md):
 *     the traced kernel is a MEAN over the outputs by default; torch.func's
 *     tutorial (tdl_ntk_config.outputs = sum) sums them.
 *
 * The analytic kernels are in kernel_dual.c, Du et al.'s and Arora et al.'s
 * matrices in du_arora.c, the kernel linear algebra in kernel_regression.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/ntk_empirical.h"
#include "tdl/net.h"
#include "tdl/hessian.h"
#include "tdl/memory.h"
#include "internal.h"
#include "kernel_internal.h"

const tdl_name tdl_ntk_method_names[] = {
    {"auto", TDL_NTK_AUTO},
    {"structured", TDL_NTK_STRUCTURED},
    {"jacobian", TDL_NTK_JACOBIAN},
    {NULL, 0},
};

const tdl_name tdl_ntk_outputs_names[] = {
    {"mean", TDL_NTK_OUTPUTS_MEAN},
    {"sum", TDL_NTK_OUTPUTS_SUM},
    {NULL, 0},
};

void tdl_ntk_config_default(tdl_ntk_config *o)
{
    memset(o, 0, sizeof *o);
    o->method = TDL_NTK_AUTO;
}

static int use_structured(const tdl_mlp *m, const tdl_ntk_config *o)
{
    return o->method == TDL_NTK_STRUCTURED || (o->method == TDL_NTK_AUTO && m->depth <= 2);
}

const char *tdl_ntk_method_name(const tdl_mlp *m, const tdl_ntk_config *o)
{
    return tdl_name_of(tdl_ntk_method_names, use_structured(m, o) ? TDL_NTK_STRUCTURED : TDL_NTK_JACOBIAN);
}

static int layer_on(const tdl_ntk_config *o, size_t l)
{
    return o->layers == 0 || (l < 64 && ((o->layers >> l) & 1ULL));
}

/* Refuse scratch memory (count arrays of a x b doubles) that would not fit,
 * before allocating: the library's one guard (tdl/memory.h). */
static int scratch_check(size_t count, size_t a, size_t b, const char *what)
{
    size_t ab;
    char detail[96];
    snprintf(detail, sizeof detail, "%zu x %zu x %zu doubles", count, a, b);
    if (tdl_mul_size(a, b, &ab)) ab = SIZE_MAX; /* reported as "inf GB" */
    return tdl_memory_require_detail(ab, count * sizeof(double), 0, what, detail);
}

/* First-layer pre-activations Z = s0 X W^T + t0 b, phi(Z) into A and phi'(Z)
 * into D (n x h each; either may be NULL). */
static void shallow_hidden(const tdl_mlp *m, const gsl_matrix *X, double *Z, double *A, double *D)
{
    const tdl_layer *L0 = &m->layers[0];
    size_t n = X->size1, h = L0->out;
    tdl_kernel_gemm_nt(n, h, L0->in, L0->w_scale, X->data, X->tda, m->theta + L0->w_off, L0->in, 0.0, Z, h);
    if (L0->has_bias)
        for (size_t i = 0; i < n; i++)
            for (size_t r = 0; r < h; r++) Z[i * h + r] += L0->b_scale * m->theta[L0->b_off + r];
    tdl_act_eval(&m->act, Z, n * h, A, D, NULL);
}

/* Structured NTK of a net of depth <= 2 (formula in ntk.h). */
static int ntk_structured(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                          const tdl_ntk_config *o, gsl_matrix *K)
{
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    const size_t n1 = X1->size1, n2 = X2->size1, d = X1->size2;
    const tdl_layer *L0 = &m->layers[0];
    const size_t C = m->layers[m->depth - 1].out;
    double *Q = NULL, *Z1 = NULL, *A1 = NULL, *D1 = NULL, *Z2 = NULL, *A2 = NULL, *D2 = NULL,
           *AA = NULL, *G1 = NULL, *G2 = NULL, *P = NULL;
    int rc = TDL_OK;
    /* Q = s0^2 X1 X2^T + t0^2: the first layer's input kernel (n1 x n2) */
    Q = tdl_malloc(n1 * n2 * sizeof(double), "NTK input Gram");
    if (!Q) return TDL_ENOMEM;
    double t0sq = L0->has_bias ? L0->b_scale * L0->b_scale : 0.0;
    if (sym) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)d, L0->w_scale * L0->w_scale,
                    X1->data, (int)X1->tda, 0.0, Q, (int)n1);
        tdl_kernel_symmetrize_from_upper(Q, n1, n1);
    } else {
        tdl_kernel_gemm_nt(n1, n2, d, L0->w_scale * L0->w_scale, X1->data, X1->tda, X2->data, X2->tda, 0.0, Q, n2);
    }
    for (size_t i = 0; i < n1 * n2; i++) Q[i] += t0sq;

    if (m->depth == 1) {
        /* f_c = s0 W_c x + t0 b_c: Theta_cc' = delta_cc' (s0^2 x.x' + t0^2) */
        int on = layer_on(o, 0);
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < n2; j++) {
                double v = on ? Q[i * n2 + j] : 0.0;
                if (!o->full) {
                    K->data[i * K->tda + j] = v;
                } else {
                    for (size_t c = 0; c < C; c++)
                        for (size_t c2 = 0; c2 < C; c2++)
                            K->data[(i * C + c) * K->tda + j * C + c2] = c == c2 ? v : 0.0;
                }
            }
        free(Q);
        return TDL_OK;
    }

    const tdl_layer *L1 = &m->layers[1];
    const size_t h = L0->out;
    const double s1sq = L1->w_scale * L1->w_scale, t1sq = L1->has_bias ? L1->b_scale * L1->b_scale : 0.0;
    const double *V = m->theta + L1->w_off; /* C x h */
    if ((rc = scratch_check(sym ? 3 : 6, n1 > n2 ? n1 : n2, h, "NTK hidden activations")) != TDL_OK) goto cleanup;
    Z1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    A1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    D1 = tdl_malloc(n1 * h * sizeof(double), "NTK hidden layer");
    AA = tdl_malloc(n1 * n2 * sizeof(double), "NTK Gram");
    if (!Z1 || !A1 || !D1 || !AA) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    shallow_hidden(m, X1, Z1, A1, D1);
    if (sym) {
        A2 = A1;
        D2 = D1;
    } else {
        Z2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        A2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        D2 = tdl_malloc(n2 * h * sizeof(double), "NTK hidden layer");
        if (!Z2 || !A2 || !D2) {
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        shallow_hidden(m, X2, Z2, A2, D2);
    }
    /* layer-1 term: AA = s1^2 phi(Z1) phi(Z2)^T + t1^2 (times delta_cc') */
    if (layer_on(o, 1)) {
        if (sym) {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)h, s1sq, A1, (int)h, 0.0, AA,
                        (int)n1);
            tdl_kernel_symmetrize_from_upper(AA, n1, n1);
        } else {
            tdl_kernel_gemm_nt(n1, n2, h, s1sq, A1, h, A2, h, 0.0, AA, n2);
        }
        for (size_t i = 0; i < n1 * n2; i++) AA[i] += t1sq;
    } else {
        memset(AA, 0, n1 * n2 * sizeof(double));
    }
    const int on0 = layer_on(o, 0);
    if (!o->full) {
        /* (1/C) sum_c: layer-0 term = s1^2 Q .* (D1 diag(v) D2^T) / C with
         * v_r = sum_c V_cr^2; scale the columns of D by sqrt(v_r / C). */
        if (on0) {
            double *sv = tdl_malloc(h * sizeof(double), "NTK output weights");
            if (!sv) {
                rc = TDL_ENOMEM;
                goto cleanup;
            }
            for (size_t r = 0; r < h; r++) {
                double v = 0;
                for (size_t c = 0; c < C; c++) v += V[c * h + r] * V[c * h + r];
                sv[r] = sqrt(v / (double)C);
            }
            /* reuse Z1 (and Z2) as the scaled D */
            for (size_t i = 0; i < n1; i++)
                for (size_t r = 0; r < h; r++) Z1[i * h + r] = D1[i * h + r] * sv[r];
            if (!sym)
                for (size_t i = 0; i < n2; i++)
                    for (size_t r = 0; r < h; r++) Z2[i * h + r] = D2[i * h + r] * sv[r];
            free(sv);
            double *Kd = K->data;
            size_t ldk = K->tda;
            if (sym) {
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)h, 1.0, Z1, (int)h, 0.0, Kd,
                            (int)ldk);
                for (size_t i = 0; i < n1; i++)
                    for (size_t j = i; j < n1; j++) {
                        double v = AA[i * n1 + j] + s1sq * Q[i * n1 + j] * Kd[i * ldk + j];
                        Kd[i * ldk + j] = v;
                        Kd[j * ldk + i] = v;
                    }
            } else {
                tdl_kernel_gemm_nt(n1, n2, h, 1.0, Z1, h, Z2, h, 0.0, Kd, ldk);
                for (size_t i = 0; i < n1; i++)
                    for (size_t j = 0; j < n2; j++)
                        Kd[i * ldk + j] = AA[i * n2 + j] + s1sq * Q[i * n2 + j] * Kd[i * ldk + j];
            }
        } else {
            for (size_t i = 0; i < n1; i++) memcpy(K->data + i * K->tda, AA + i * n2, n2 * sizeof(double));
        }
        goto cleanup;
    }
    /* full: K[(i,c),(j,c')] = delta_cc' AA_ij + s1^2 Q_ij (D1 diag(V_c .* V_c') D2^T)_ij */
    G1 = tdl_malloc(n1 * h * sizeof(double), "NTK scaled derivatives");
    G2 = tdl_malloc(n2 * h * sizeof(double), "NTK scaled derivatives");
    P = tdl_malloc(n1 * n2 * sizeof(double), "NTK output block");
    if (!G1 || !G2 || !P) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < n1; i++)
            for (size_t r = 0; r < h; r++) G1[i * h + r] = D1[i * h + r] * V[c * h + r];
        for (size_t c2 = 0; c2 < C; c2++) {
            if (on0) {
                for (size_t i = 0; i < n2; i++)
                    for (size_t r = 0; r < h; r++) G2[i * h + r] = D2[i * h + r] * V[c2 * h + r];
                tdl_kernel_gemm_nt(n1, n2, h, s1sq, G1, h, G2, h, 0.0, P, n2);
            }
            for (size_t i = 0; i < n1; i++)
                for (size_t j = 0; j < n2; j++)
                    K->data[(i * C + c) * K->tda + j * C + c2] =
                        (c == c2 ? AA[i * n2 + j] : 0.0) + (on0 ? Q[i * n2 + j] * P[i * n2 + j] : 0.0);
        }
    }
    if (sym) tdl_symmetrize(K->data, n1 * C, K->tda); /* exact symmetry despite different summation orders */
cleanup:
    free(Q);
    free(Z1);
    free(A1);
    free(D1);
    if (!sym) {
        free(Z2);
        free(A2);
        free(D2);
    }
    free(AA);
    free(G1);
    free(G2);
    free(P);
    return rc;
}

/* Generic NTK: J(X1 block) J(X2 block)^T over the selected layers' columns,
 * blocks of examples sized so that two Jacobian blocks fit the budget. */
static int ntk_jacobian(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                        const tdl_ntk_config *o, gsl_matrix *K)
{
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    const size_t n1 = X1->size1, n2 = X2->size1, P = m->n_params;
    const size_t C = m->layers[m->depth - 1].out;
    size_t budget = o->budget_bytes ? o->budget_bytes : (size_t)256 << 20;
    size_t b = tdl_jacobian_block_rows(m, budget / 2);
    size_t nmax = n1 > n2 ? n1 : n2;
    if (b > nmax) b = nmax;
    if (b > 512) b = 512;
    int rc = scratch_check(2, b * C, P, "NTK Jacobian blocks");
    if (rc) return rc;
    tdl_dataset d1 = tdl_kernel_input_view(X1), d2 = tdl_kernel_input_view(X2);
    tdl_net_work *w = NULL;
    double *J1 = tdl_malloc(b * C * P * sizeof(double), "NTK Jacobian block");
    double *J2 = tdl_malloc(b * C * P * sizeof(double), "NTK Jacobian block");
    double *Kb = tdl_malloc(b * C * b * C * sizeof(double), "NTK block");
    if (!J1 || !J2 || !Kb) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if ((rc = tdl_net_work_alloc(m, b, &w)) != TDL_OK) goto cleanup;
    for (size_t i0 = 0; i0 < n1; i0 += b) {
        size_t bi = n1 - i0 < b ? n1 - i0 : b;
        if ((rc = tdl_mlp_jacobian(m, &d1, i0, bi, w, J1)) != TDL_OK) goto cleanup;
        for (size_t j0 = sym ? i0 : 0; j0 < n2; j0 += b) {
            size_t bj = n2 - j0 < b ? n2 - j0 : b;
            const double *Jb = J1;
            if (!(sym && j0 == i0)) {
                if ((rc = tdl_mlp_jacobian(m, &d2, j0, bj, w, J2)) != TDL_OK) goto cleanup;
                Jb = J2;
            }
            int first = 1;
            for (size_t l = 0; l < m->depth; l++) {
                if (!layer_on(o, l)) continue;
                size_t off, len;
                tdl_layer_range(m, l, &off, &len);
                tdl_kernel_gemm_nt(bi * C, bj * C, len, 1.0, J1 + off, P, Jb + off, P, first ? 0.0 : 1.0, Kb, bj * C);
                first = 0;
            }
            if (first) memset(Kb, 0, bi * C * bj * C * sizeof(double));
            for (size_t i = 0; i < bi; i++)
                for (size_t j = 0; j < bj; j++) {
                    if (o->full) {
                        for (size_t c = 0; c < C; c++)
                            for (size_t c2 = 0; c2 < C; c2++) {
                                double v = Kb[(i * C + c) * bj * C + j * C + c2];
                                K->data[((i0 + i) * C + c) * K->tda + (j0 + j) * C + c2] = v;
                                if (sym) K->data[((j0 + j) * C + c2) * K->tda + (i0 + i) * C + c] = v;
                            }
                    } else {
                        double v = 0;
                        for (size_t c = 0; c < C; c++) v += Kb[(i * C + c) * bj * C + j * C + c];
                        v /= (double)C;
                        K->data[(i0 + i) * K->tda + j0 + j] = v;
                        if (sym) K->data[(j0 + j) * K->tda + i0 + i] = v;
                    }
                }
        }
    }
    if (sym) tdl_symmetrize(K->data, K->size1, K->tda); /* the diagonal blocks: exact symmetry */
cleanup:
    tdl_net_work_free(&w);
    free(J1);
    free(J2);
    free(Kb);
    return rc;
}

int tdl_ntk_empirical(const tdl_mlp *m, const gsl_matrix *X1, const gsl_matrix *X2,
                      const tdl_ntk_config *o, gsl_matrix *K)
{
    tdl_ntk_config def;
    if (!o) {
        tdl_ntk_config_default(&def);
        o = &def;
    }
    if (!m || !X1 || X1->size1 == 0) return tdl_fail(TDL_EINVAL, "empirical NTK: no model or no inputs");
    const size_t d = m->layers[0].in, C = m->layers[m->depth - 1].out;
    if (X1->size2 != d || (X2 && X2->size2 != d))
        return tdl_fail(TDL_ESHAPE, "empirical NTK: the model takes %zu inputs but the data has %zu features", d,
                        X2 && X2->size2 != d ? X2->size2 : X1->size2);
    if (X2 && X2->size1 == 0) return tdl_fail(TDL_EINVAL, "empirical NTK: empty second input set");
    const size_t n1 = X1->size1, n2 = X2 ? X2->size1 : n1;
    const size_t r1 = o->full ? n1 * C : n1, r2 = o->full ? n2 * C : n2;
    if (!K || K->size1 != r1 || K->size2 != r2)
        return tdl_fail(TDL_ESHAPE, "empirical NTK: K must be %zu x %zu, got %zu x %zu", r1, r2, K ? K->size1 : 0,
                        K ? K->size2 : 0);
    if (n1 > (size_t)INT32_MAX / (C ? C : 1) || n2 > (size_t)INT32_MAX / (C ? C : 1))
        return tdl_fail(TDL_ETOOBIG, "empirical NTK: too many examples for BLAS");
    if (o->outputs != TDL_NTK_OUTPUTS_MEAN && o->outputs != TDL_NTK_OUTPUTS_SUM)
        return tdl_fail(TDL_EINVAL, "empirical NTK: unknown outputs reduction %d", (int)o->outputs);
    int st;
    if (use_structured(m, o)) {
        if (m->depth > 2)
            return tdl_fail(TDL_EINVAL, "empirical NTK: the structured method needs depth <= 2 (this net has %zu layers); use the jacobian method",
                            m->depth);
        st = ntk_structured(m, X1, X2, o, K);
    } else {
        st = ntk_jacobian(m, X1, X2, o, K);
    }
    /* the traced kernel summed over the outputs (torch.func) is C times the mean */
    if (st == TDL_OK && !o->full && o->outputs == TDL_NTK_OUTPUTS_SUM && C > 1)
        for (size_t i = 0; i < r1; i++)
            for (size_t j = 0; j < r2; j++) K->data[i * K->tda + j] *= (double)C;
    return st;
}

int tdl_ntk_config_set_outputs(tdl_ntk_config *o, const char *name)
{
    int v, st = tdl_name_lookup(tdl_ntk_outputs_names, "NTK outputs reduction", name, &v);
    if (st == TDL_OK) o->outputs = (tdl_ntk_outputs)v;
    return st;
}

int tdl_ntk_drift(const tdl_mlp *m, const gsl_matrix *X, const tdl_ntk_config *o, double *out)
{
    if (!m || !m->theta0)
        return tdl_fail(TDL_EINVAL, "NTK drift needs the initial parameters (init.* tensors) in the model file");
    tdl_ntk_config oo;
    if (o) oo = *o; else tdl_ntk_config_default(&oo);
    oo.full = 0;
    size_t n = X->size1;
    int rc = tdl_dense_memory_check(n, 2, 0, "NTK drift");
    if (rc) return rc;
    tdl_mlp *m0 = NULL;
    gsl_matrix *K = gsl_matrix_alloc(n, n), *K0 = gsl_matrix_alloc(n, n);
    if (!K || !K0) {
        rc = tdl_fail(TDL_ENOMEM, "out of memory for the NTK drift");
        goto cleanup;
    }
    if ((rc = tdl_mlp_clone(m, &m0)) != TDL_OK) goto cleanup;
    memcpy(m0->theta, m->theta0, m->n_params * sizeof(double));
    if ((rc = tdl_ntk_empirical(m, X, NULL, &oo, K)) != TDL_OK) goto cleanup;
    if ((rc = tdl_ntk_empirical(m0, X, NULL, &oo, K0)) != TDL_OK) goto cleanup;
    double num = 0, den = 0;
    for (size_t i = 0; i < n * n; i++) {
        double dlt = K->data[i] - K0->data[i];
        num += dlt * dlt;
        den += K0->data[i] * K0->data[i];
    }
    if (!(den > 0)) {
        rc = tdl_fail(TDL_ENONFINITE, "NTK drift: the initial kernel is zero");
        goto cleanup;
    }
    *out = sqrt(num / den);
cleanup:
    tdl_mlp_free(&m0);
    if (K) gsl_matrix_free(K);
    if (K0) gsl_matrix_free(K0);
    return rc;
}
