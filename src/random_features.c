/* random_features.c — minimum-norm ridge least squares by the SVD and
 * random-features regression on a one-hidden-layer net
 * (tdl/random_features.h).
 *
 * Shape legend: n examples (rows of A), p features (columns), k targets,
 * r = min(n, p) singular values; A = U S V^T with U n x r, V^T r x p.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <lapacke.h>
#include "tdl/random_features.h"
#include "tdl/net.h"
#include "tdl/memory.h"
#include "tdl/linalg.h"
#include "internal.h"

int tdl_lstsq_minnorm(const double *A, size_t n, size_t p, const double *Y, size_t k, double ridge, double rcond,
                      double *B, tdl_lstsq_info *info)
{
    if (!A || !Y || !B || n == 0 || p == 0 || k == 0)
        return tdl_fail(TDL_EINVAL, "least squares: empty system (%zu x %zu, %zu targets)", n, p, k);
    if (!(ridge >= 0) || !isfinite(ridge)) return tdl_fail(TDL_EINVAL, "least squares: ridge %g is not a finite number >= 0", ridge);
    if (n > INT32_MAX || p > INT32_MAX || k > INT32_MAX)
        return tdl_fail(TDL_ETOOBIG, "least squares: a %zu x %zu system is too large for LAPACK", n, p);
    const size_t r = n < p ? n : p;
    size_t np;
    if (tdl_mul_size(n, p, &np) != 0) return tdl_fail(TDL_ETOOBIG, "least squares: a %zu x %zu system is too large", n, p);
    /* A copy (n p), U (n r), V^T (r p), s (r), C = U^T Y (r k), dgesdd's work (~ 5 r^2 + 7 r + max(n, p)) */
    const size_t extra = (r * k + 5 * r * r + 8 * r + n + p) * sizeof(double);
    int st = tdl_memory_require(np + n * r + r * p, sizeof(double), extra, "the least-squares SVD");
    if (st != TDL_OK) return st;
    double *a = tdl_malloc(np * sizeof(double), "the least-squares matrix");
    double *U = tdl_malloc(n * r * sizeof(double), "the SVD's U");
    double *Vt = tdl_malloc(r * p * sizeof(double), "the SVD's V^T");
    double *s = tdl_malloc(r * sizeof(double), "singular values");
    double *C = tdl_malloc(r * k * sizeof(double), "U^T Y");
    if (!a || !U || !Vt || !s || !C) { st = TDL_ENOMEM; goto cleanup; }
    memcpy(a, A, np * sizeof(double));
    lapack_int li = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)n, (lapack_int)p, a, (lapack_int)p, s, U,
                                   (lapack_int)r, Vt, (lapack_int)p);
    if ((st = tdl_lapack_status((int)li, "least squares", "dgesdd")) != TDL_OK) goto cleanup;
    /* C = U^T Y, scaled row by row by the filter factors f(s_i) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)k, (int)n, 1.0, U, (int)r, Y, (int)k, 0.0, C, (int)k);
    const double tol = (rcond < 0 ? (double)(n > p ? n : p) * DBL_EPSILON : rcond) * s[0];
    size_t rank = 0;
    for (size_t i = 0; i < r; i++) {
        if (s[i] > tol) rank++;
        double f = ridge > 0 ? s[i] / (s[i] * s[i] + (double)n * ridge) : (s[i] > tol ? 1.0 / s[i] : 0.0);
        for (size_t j = 0; j < k; j++) C[i * k + j] *= f;
    }
    /* B = V C */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p, (int)k, (int)r, 1.0, Vt, (int)p, C, (int)k, 0.0, B, (int)k);
    if (info) {
        double nb = 0;
        for (size_t i = 0; i < p * k; i++) nb += B[i] * B[i];
        info->rank = rank;
        info->s_max = s[0];
        info->s_min = s[r - 1];
        info->cond = s[r - 1] > 0 ? s[0] / s[r - 1] : INFINITY;
        info->tol = tol;
        info->coef_norm = sqrt(nb);
    }
cleanup:
    if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "least squares: out of memory");
    free(a);
    free(U);
    free(Vt);
    free(s);
    free(C);
    return st;
}

size_t tdl_rf_coefficients(const tdl_mlp *m)
{
    if (!m || m->depth != 2) return 0;
    const tdl_layer *L = &m->layers[1];
    return L->in + (L->has_bias && L->b_scale != 0);
}

int tdl_rf_fit(tdl_mlp *m, const tdl_dataset *train, double ridge, double rcond, tdl_lstsq_info *info)
{
    if (!m || !train) return tdl_fail(TDL_EINVAL, "random features: no net or no data");
    if (m->depth != 2)
        return tdl_fail(TDL_EINVAL, "random features: the net has %zu layers; random-features regression needs one hidden layer "
                        "(d-p-C: random first layer, fitted last layer)", m->depth);
    int st = tdl_loss_check(TDL_LOSS_MSE, m, train);
    if (st != TDL_OK) return st;
    const tdl_layer *L1 = &m->layers[1];
    const size_t n = train->n, p = L1->in, C = L1->out, q = tdl_rf_coefficients(m);
    if (L1->w_scale == 0) return tdl_fail(TDL_EINVAL, "random features: the last layer's weight scale is 0");
    size_t nq;
    if (tdl_mul_size(n, q, &nq) != 0) return tdl_fail(TDL_ETOOBIG, "random features: %zu examples x %zu features is too large", n, q);
    if ((st = tdl_memory_require(nq + n * p + n * C + q * C, sizeof(double), 0, "random-features regression")) != TDL_OK) return st;
    double *T = tdl_malloc(n * p * sizeof(double), "hidden features");
    double *A = tdl_malloc(nq * sizeof(double), "the feature matrix");
    double *Yt = tdl_calloc(n * C, sizeof(double), "the targets");
    double *B = tdl_malloc(q * C * sizeof(double), "the coefficients");
    if (!T || !A || !Yt || !B) { st = TDL_ENOMEM; goto cleanup; }
    if ((st = tdl_mlp_hidden(m, train->X, 0, T)) != TDL_OK) goto cleanup;
    /* the last layer computes w_scale W a + b_scale b: feature columns w_scale a_j and b_scale */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) A[i * q + j] = L1->w_scale * T[i * p + j];
        if (q > p) A[i * q + p] = L1->b_scale;
        if (!train->classes) memcpy(Yt + i * C, gsl_matrix_const_ptr(train->Y, i, 0), C * sizeof(double));
        else if (C == 1) Yt[i] = (double)train->labels[i];
        else Yt[i * C + train->labels[i]] = 1.0;
    }
    if ((st = tdl_lstsq_minnorm(A, n, q, Yt, C, ridge, rcond, B, info)) != TDL_OK) goto cleanup;
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < p; j++) m->theta[L1->w_off + c * p + j] = B[j * C + c];
        if (L1->has_bias) m->theta[L1->b_off + c] = q > p ? B[p * C + c] : 0.0;
    }
    m->layers[0].trainable = 0;
cleanup:
    if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "random features: out of memory");
    free(T);
    free(A);
    free(Yt);
    free(B);
    return st;
}
