/* du_arora.c — the Gram matrices of Du et al.'s analysis of two-layer ReLU
 * nets and Arora et al.'s data-dependent complexity (tdl/du_arora.h).
 *
 * References:
 *   Du, Zhai, Poczos, Singh 2019 (ICLR; arXiv 1810.02054), H_inf and the
 *     finite-width H(W) (Sec. 3, before Assumption 3.1).
 *   Arora, Du, Hu, Li, Wang 2019 (ICML; arXiv 1901.08584), complexity
 *     sqrt(2 y^T H^{-1} y / n) (Thm 5.1).
 * The angles come from kernel_dual.c, the ridge-aware Cholesky from
 * kernel_regression.c (kernel_internal.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/du_arora.h"
#include "tdl/memory.h"
#include "internal.h"
#include "kernel_internal.h"

/* G = X X^T (n x n, both triangles) by dsyrk. */
static void gram_xxt(const gsl_matrix *X, gsl_matrix *G)
{
    size_t n = X->size1;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)X->size2, 1.0, X->data,
                (int)X->tda, 0.0, G->data, (int)G->tda);
    tdl_kernel_symmetrize_from_upper(G->data, n, G->tda);
}

int tdl_ntk_h_inf(const gsl_matrix *X, gsl_matrix *H)
{
    if (!X || X->size1 == 0 || X->size2 == 0)
        return tdl_fail(TDL_EINVAL, "h_inf: empty input matrix");
    size_t n = X->size1;
    int rc = tdl_kernel_check_square(H, n, "h_inf: H");
    if (rc) return rc;
    if (n > (size_t)INT32_MAX || X->size2 > (size_t)INT32_MAX)
        return tdl_fail(TDL_ETOOBIG, "h_inf: %zu x %zu input too large for BLAS", n, X->size2);
    gram_xxt(X, H);
    const size_t d = X->size2;
    double *nrm = tdl_malloc(n * sizeof(double), "h_inf row norms");
    if (!nrm) return TDL_ENOMEM;
    /* squared row norms by one plain loop (the same bits whatever the BLAS
     * kernel), for the angles; the inner products are BLAS's */
    for (size_t i = 0; i < n; i++) {
        const double *x = X->data + i * X->tda;
        double s = 0;
        for (size_t t = 0; t < d; t++) s += x[t] * x[t];
        nrm[i] = s;
    }
    /* Du et al. 2019, Sec. 3: H_inf[i,j] = x_i.x_j (pi - theta_ij) / (2 pi), with
     * pi - theta_ij from the half-angle squares of angle_from_inputs: exactly
     * pi for equal (and parallel) rows, so H_ii = x_i.x_i / 2 exactly. */
    for (size_t i = 0; i < n; i++) {
        const double *xi = X->data + i * X->tda;
        for (size_t j = i; j < n; j++) {
            double k = H->data[i * H->tda + j], cm, cp;
            if (!isfinite(k)) {
                free(nrm);
                return tdl_fail(TDL_ENONFINITE, "h_inf: non-finite inner product at rows %zu, %zu", i, j);
            }
            tdl_kernel_angle_from_inputs(xi, X->data + j * X->tda, d, 1.0, 0.0, nrm[i], nrm[j], k, &cm, &cp);
            double v = k * (tdl_kernel_angle_comp(cm, cp) / (2 * M_PI));
            H->data[i * H->tda + j] = v;
            H->data[j * H->tda + i] = v;
        }
    }
    free(nrm);
    return TDL_OK;
}

int tdl_ntk_h_inf_cross(const gsl_matrix *X1, const gsl_matrix *X2, gsl_matrix *H)
{
    if (!X1 || !X2 || X1->size1 == 0 || X2->size1 == 0 || X1->size2 == 0)
        return tdl_fail(TDL_EINVAL, "h_inf: empty input matrix");
    const size_t n1 = X1->size1, n2 = X2->size1, d = X1->size2, n = n1 + n2;
    if (X2->size2 != d) return tdl_fail(TDL_ESHAPE, "h_inf: inputs have %zu and %zu features", d, X2->size2);
    if (!H || H->size1 != n1 || H->size2 != n2)
        return tdl_fail(TDL_ESHAPE, "h_inf: H must be %zu x %zu, got %zu x %zu", n1, n2, H ? H->size1 : 0,
                        H ? H->size2 : 0);
    if (n1 > (size_t)INT32_MAX || n2 > (size_t)INT32_MAX || d > (size_t)INT32_MAX)
        return tdl_fail(TDL_ETOOBIG, "h_inf: %zu x %zu inputs too large for BLAS", n, d);
    /* the inner products by BLAS, the squared norms by one plain loop and
     * the angle from the inputs themselves, as tdl_ntk_h_inf: a row equal to
     * a training row gets the training diagonal's angle, exactly pi */
    tdl_kernel_gemm_nt(n1, n2, d, 1.0, X1->data, X1->tda, X2->data, X2->tda, 0.0, H->data, H->tda);
    double *nrm = tdl_malloc(n * sizeof(double), "h_inf row norms");
    if (!nrm) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const double *x = i < n1 ? X1->data + i * X1->tda : X2->data + (i - n1) * X2->tda;
        double s = 0;
        for (size_t t = 0; t < d; t++) s += x[t] * x[t];
        nrm[i] = s;
    }
    for (size_t i = 0; i < n1; i++) {
        const double *xi = X1->data + i * X1->tda;
        for (size_t j = 0; j < n2; j++) {
            double k = H->data[i * H->tda + j], cm, cp;
            if (!isfinite(k)) {
                free(nrm);
                return tdl_fail(TDL_ENONFINITE, "h_inf: non-finite inner product at rows %zu, %zu", i, j);
            }
            tdl_kernel_angle_from_inputs(xi, X2->data + j * X2->tda, d, 1.0, 0.0, nrm[i], nrm[n1 + j], k, &cm, &cp);
            H->data[i * H->tda + j] = k * (tdl_kernel_angle_comp(cm, cp) / (2 * M_PI));
        }
    }
    free(nrm);
    return TDL_OK;
}

int tdl_ntk_h_finite(const gsl_matrix *X, const gsl_matrix *W, gsl_matrix *H)
{
    if (!X || !W || X->size1 == 0 || X->size2 == 0 || W->size1 == 0)
        return tdl_fail(TDL_EINVAL, "h_finite: empty input or weight matrix");
    if (W->size2 != X->size2)
        return tdl_fail(TDL_ESHAPE, "h_finite: weights have %zu columns but inputs have %zu", W->size2,
                        X->size2);
    size_t n = X->size1, m = W->size1, d = X->size2;
    int rc = tdl_kernel_check_square(H, n, "h_finite: H");
    if (rc) return rc;
    size_t bytes;
    if (tdl_mul_size(n, m, &bytes) || tdl_mul_size(bytes, sizeof(double), &bytes))
        return tdl_fail(TDL_ETOOBIG, "h_finite: %zu x %zu activation pattern too large", n, m);
    double *S = tdl_malloc(bytes, "h_finite activation pattern");
    double *G = tdl_malloc(n * n * sizeof(double), "h_finite Gram");
    if (!S || !G) {
        free(S);
        free(G);
        return TDL_ENOMEM;
    }
    /* S = X W^T, then the pattern 1{w_r.x_i >= 0}. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m, (int)d, 1.0, X->data,
                (int)X->tda, W->data, (int)W->tda, 0.0, S, (int)m);
    for (size_t i = 0; i < n * m; i++) S[i] = S[i] >= 0 ? 1.0 : 0.0;
    /* H = (X X^T) .* (S S^T) / m */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)m, 1.0 / (double)m, S, (int)m,
                0.0, G, (int)n);
    gram_xxt(X, H);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double v = H->data[i * H->tda + j] * G[i * n + j];
            H->data[i * H->tda + j] = v;
            H->data[j * H->tda + i] = v;
        }
    free(S);
    free(G);
    return TDL_OK;
}

int tdl_ntk_arora_labels(const tdl_dataset *ds, double *y)
{
    if (!ds || !y) return tdl_fail(TDL_EINVAL, "arora labels: no data or no output");
    if (ds->Y ? ds->Y->size2 != 1 : ds->classes != 2)
        return tdl_fail(TDL_EINVAL, "arora labels: the complexity takes one target: two classes or one regression column "
                        "(this data has %zu %s)", ds->Y ? ds->Y->size2 : ds->classes, ds->Y ? "target columns" : "classes");
    for (size_t i = 0; i < ds->n; i++) y[i] = ds->Y ? gsl_matrix_get(ds->Y, i, 0) : (ds->labels[i] ? 1.0 : -1.0);
    return TDL_OK;
}

int tdl_ntk_arora_complexity(const gsl_matrix *H, const double *y, double ridge, double *out)
{
    if (!H || H->size1 == 0) return tdl_fail(TDL_EINVAL, "arora complexity: empty kernel matrix");
    size_t n = H->size1;
    int rc = tdl_kernel_check_square(H, n, "arora complexity: H");
    if (rc) return rc;
    if (!y || !out) return tdl_fail(TDL_EINVAL, "arora complexity: NULL labels or output");
    if (!(ridge >= 0) || !isfinite(ridge))
        return tdl_fail(TDL_EINVAL, "arora complexity: ridge must be finite and >= 0, got %g", ridge);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) return tdl_fail(TDL_ENONFINITE, "arora complexity: label %zu is not finite", i);
    double *L = tdl_malloc(n * n * sizeof(double), "arora complexity Cholesky factor");
    double *z = tdl_malloc(n * sizeof(double), "arora complexity vector");
    if (!L || !z) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    rc = tdl_kernel_cholesky_ridge(H->data, n, H->tda, ridge, L, "arora complexity");
    if (rc) goto cleanup;
    /* y^T (L L^T)^{-1} y = ||L^{-1} y||^2 */
    memcpy(z, y, n * sizeof(double));
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, L, (int)n, z, 1);
    double q = cblas_ddot((int)n, z, 1, z, 1);
    *out = sqrt(2.0 * q / (double)n);
    if (!isfinite(*out)) rc = tdl_fail(TDL_ENONFINITE, "arora complexity: result is not finite");
cleanup:
    free(L);
    free(z);
    return rc;
}
