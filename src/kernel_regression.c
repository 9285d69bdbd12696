/* kernel_regression.c — linear algebra on kernel Gram matrices
 * (tdl/kernel_regression.h): spectra, eta_max, the ridge-aware Cholesky,
 * kernel regression, the closed-form gradient-descent and ensemble
 * predictions of the kernel regime, and Monte Carlo kernels over random
 * initializations.
 *
 * References:
 *   Lee et al. 2019 (arXiv 1902.06720), closed-form GD dynamics (eq. 9-16)
 *     and the largest stable learning rate (Sec. 2.3).
 *   neural-tangents (Novak et al. 2020), gradient_descent_mse, for conventions
 *     (../shared/reference/ntk.md).
 *   Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
 *     Thm 10.3 (the Cholesky backward error behind the pivot test).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <lapacke.h>
#include "tdl/kernel_regression.h"
#include "tdl/ntk_empirical.h"
#include "tdl/net.h"
#include "tdl/linalg.h"
#include "tdl/memory.h"
#include "internal.h"
#include "kernel_internal.h"

/* ---- kernel linear algebra ------------------------------------------------ */

int tdl_kernel_check_square(const gsl_matrix *H, size_t n, const char *what)
{
    if (!H || H->size1 != n || H->size2 != n)
        return tdl_fail(TDL_ESHAPE, "%s: expected a %zu x %zu matrix, got %zu x %zu", what, n, n,
                        H ? H->size1 : 0, H ? H->size2 : 0);
    return TDL_OK;
}

/* Smallest eigenvalue of a symmetric matrix (copy; values only). */
static int lambda_min_of(const double *A, size_t n, size_t lda, double *out)
{
    double *B = tdl_malloc(n * n * sizeof(double), "eigenvalue workspace");
    if (!B) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) memcpy(B + i * n, A + i * lda, n * sizeof(double));
    tdl_sym_eigen e;
    int rc = tdl_sym_eigen_solve(B, n, 0, 0, 0, &e);
    free(B);
    if (rc) return rc;
    *out = e.values[0];
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

/* Cholesky factor (lower, in L) of A + ridge I; on failure TDL_ENOTPD with
 * lambda_min(A) and a ridge that would do.
 *
 * Positive definiteness is decided from the pivots, not from dpotrf's info
 * alone: for a matrix that is singular in exact arithmetic (duplicated
 * examples give equal rows) the last pivot is a rounding residue whose sign,
 * hence whether dpotrf stops, depends on the BLAS kernel's summation order.
 * The computed factor is the exact one of A + dA with
 * |dA| <= gamma_{n+1} |L||L^T|, so |dA_ij| <= (n+1) u sqrt(a_ii a_jj) (Higham,
 * Accuracy and Stability of Numerical Algorithms, 2nd ed., Thm 10.3), and a
 * pivot L_kk^2 = p means that A + dA - p e_k e_k^T is singular, i.e.
 * lambda_min(A) <= p + ||dA||_2.  A pivot p <= tau = n eps max_i (A + ridge I)_ii
 * (eps = 2u) therefore certifies that A + ridge I is singular to working
 * precision relative to its scale (cond >~ 1/(n eps), where no solve is
 * meaningful), whichever way the rounding went: we call it not positive
 * definite.  An exactly singular A with duplicated rows has its residual
 * pivot bounded by the same backward error (in practice ~sqrt(n) u max a_ii),
 * so it falls below tau on every kernel. */
int tdl_kernel_cholesky_ridge(const double *A, size_t n, size_t lda, double ridge, double *L,
                              const char *what)
{
    double mean_diag = 0, max_diag = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(L + i * n, A + i * lda, n * sizeof(double));
        L[i * n + i] += ridge;
        mean_diag += A[i * lda + i] / (double)n;
        max_diag = fmax(max_diag, L[i * n + i]);
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n);
    if (info < 0) return tdl_fail(TDL_EINVAL, "%s: dpotrf argument %d is invalid", what, (int)-info);
    if (info == 0) {
        const double tau = (double)n * DBL_EPSILON * max_diag;
        for (size_t i = 0; i < n; i++)
            if (L[i * n + i] * L[i * n + i] <= tau) {
                info = (lapack_int)(i + 1);
                break;
            }
    }
    if (info > 0) {
        double lmin = NAN;
        if (lambda_min_of(A, n, lda, &lmin) != TDL_OK) lmin = NAN;
        double suggest = fmax(-lmin, 0) + 1e-8 * fabs(mean_diag);
        return tdl_fail(TDL_ENOTPD,
                        "%s: the %zu x %zu kernel matrix plus ridge %.3g is not positive definite (lambda_min = %.6g): add a diagonal regularizer of at least %.3g (= %.3g x the mean diagonal)",
                        what, n, n, ridge, lmin, suggest, mean_diag > 0 ? suggest / mean_diag : NAN);
    }
    return TDL_OK;
}

int tdl_ntk_eigenvalues(const gsl_matrix *K, double *values)
{
    if (!K || K->size1 == 0) return tdl_fail(TDL_EINVAL, "kernel eigenvalues: empty matrix");
    size_t n = K->size1;
    int rc = tdl_kernel_check_square(K, n, "kernel eigenvalues");
    if (rc) return rc;
    if ((rc = tdl_dense_memory_check(n, 1, 0, "kernel eigenvalues")) != TDL_OK) return rc;
    double *A = tdl_malloc(n * n * sizeof(double), "kernel eigenvalues");
    if (!A) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) memcpy(A + i * n, K->data + i * K->tda, n * sizeof(double));
    tdl_sym_eigen e;
    rc = tdl_sym_eigen_solve(A, n, 0, n - 1, 0, &e);
    free(A);
    if (rc) return rc;
    memcpy(values, e.values, n * sizeof(double));
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

double tdl_ntk_eta_max(double lambda_max, double norm, double momentum)
{
    return 2.0 * (1.0 + momentum) * norm / lambda_max;
}

/* Eigen-decomposition of K + ridge I: values (clamped at 0) and vectors
 * (row j = eigenvector j). */
static int eig_ridge(const gsl_matrix *K, double ridge, tdl_sym_eigen *e)
{
    size_t n = K->size1;
    double *A = tdl_malloc(n * n * sizeof(double), "kernel eigen-decomposition");
    if (!A) return TDL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(A + i * n, K->data + i * K->tda, n * sizeof(double));
        A[i * n + i] += ridge;
    }
    int rc = tdl_sym_eigen_solve(A, n, 0, n - 1, 1, e);
    free(A);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if (e->values[i] < 0) e->values[i] = 0;
    return TDL_OK;
}

static int check_predict_shapes(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *Kt, double norm,
                                double ridge, const char *what)
{
    if (!K || !Y || K->size1 == 0) return tdl_fail(TDL_EINVAL, "%s: no kernel or no targets", what);
    size_t n = K->size1;
    int rc = tdl_kernel_check_square(K, n, what);
    if (rc) return rc;
    if (Y->size1 != n)
        return tdl_fail(TDL_ESHAPE, "%s: %zu targets for a %zu x %zu kernel", what, Y->size1, n, n);
    if (Kt && Kt->size2 != n)
        return tdl_fail(TDL_ESHAPE, "%s: the test-train kernel has %zu columns, expected %zu", what, Kt->size2, n);
    if (!(norm > 0) || !isfinite(norm)) return tdl_fail(TDL_EINVAL, "%s: the loss normalizer must be > 0", what);
    if (!(ridge >= 0) || !isfinite(ridge)) return tdl_fail(TDL_EINVAL, "%s: the ridge must be finite and >= 0", what);
    return tdl_dense_memory_check(n, 3, 0, what);
}

int tdl_ntk_targets(const tdl_dataset *ds, size_t C, gsl_matrix *Y)
{
    if (!ds || !Y || Y->size1 != ds->n || Y->size2 != C)
        return tdl_fail(TDL_ESHAPE, "kernel targets: Y must be %zu x %zu", ds ? ds->n : 0, C);
    gsl_matrix_set_zero(Y);
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->Y) {
            for (size_t c = 0; c < C && c < ds->Y->size2; c++) gsl_matrix_set(Y, i, c, gsl_matrix_get(ds->Y, i, c));
        } else if (C == 1) {
            gsl_matrix_set(Y, i, 0, (double)ds->labels[i]);
        } else if (ds->labels[i] < C) {
            gsl_matrix_set(Y, i, ds->labels[i], 1.0);
        }
    }
    return TDL_OK;
}

int tdl_ntk_kernel_regression(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *Kt, double ridge,
                              gsl_matrix *out)
{
    int rc = check_predict_shapes(K, Y, Kt, 1.0, ridge, "kernel regression");
    if (rc) return rc;
    if (!Kt || !out || out->size1 != Kt->size1 || out->size2 != Y->size2)
        return tdl_fail(TDL_ESHAPE, "kernel regression: output must be test x targets");
    size_t n = K->size1, k = Y->size2;
    double *L = tdl_malloc(n * n * sizeof(double), "kernel regression factor");
    double *Z = tdl_malloc(n * k * sizeof(double), "kernel regression solve");
    if (!L || !Z) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if ((rc = tdl_kernel_cholesky_ridge(K->data, n, K->tda, ridge, L, "kernel regression")) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < n; i++) memcpy(Z + i * k, Y->data + i * Y->tda, k * sizeof(double));
    lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)k, L, (lapack_int)n, Z,
                                     (lapack_int)k);
    if (info) {
        rc = tdl_fail(TDL_EINVAL, "kernel regression: dpotrs info %d", (int)info);
        goto cleanup;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Kt->size1, (int)k, (int)n, 1.0, Kt->data,
                (int)Kt->tda, Z, (int)k, 0.0, out->data, (int)out->tda);
cleanup:
    free(L);
    free(Z);
    return rc;
}

int tdl_ntk_predict(const gsl_matrix *K, const gsl_matrix *Y, const gsl_matrix *F0, const gsl_matrix *Kt,
                    const gsl_matrix *Ft0, double eta, double t, double norm, double ridge, gsl_matrix *Ft,
                    gsl_matrix *Ftest)
{
    int rc = check_predict_shapes(K, Y, Kt, norm, ridge, "kernel dynamics");
    if (rc) return rc;
    const size_t n = K->size1, k = Y->size2, m = Kt ? Kt->size1 : 0;
    if (!(eta > 0) || !isfinite(eta)) return tdl_fail(TDL_EINVAL, "kernel dynamics: the learning rate must be > 0");
    if (!(t >= 0)) return tdl_fail(TDL_EINVAL, "kernel dynamics: the time must be >= 0 (or infinity)");
    if ((F0 && (F0->size1 != n || F0->size2 != k)) || (Ft && (Ft->size1 != n || Ft->size2 != k)))
        return tdl_fail(TDL_ESHAPE, "kernel dynamics: train outputs must be %zu x %zu", n, k);
    if ((Ft0 && (!Kt || Ft0->size1 != m || Ft0->size2 != k)) ||
        (Ftest && (!Kt || Ftest->size1 != m || Ftest->size2 != k)))
        return tdl_fail(TDL_ESHAPE, "kernel dynamics: test outputs must be %zu x %zu with a test kernel", m, k);
    /* R = f_0 - y (n x k) */
    double *R = tdl_malloc(n * k * sizeof(double), "kernel dynamics residual");
    double *U = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
    double *Wt = NULL;
    tdl_sym_eigen e = {0};
    if (!R || !U) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++)
            R[i * k + c] = (F0 ? F0->data[i * F0->tda + c] : 0.0) - Y->data[i * Y->tda + c];
    if (isinf(t)) {
        /* t = infinity: f_inf = y on the train set (with ridge: y + ridge (K + ridge)^{-1} R);
         * test: f*_0 - Kt (K + ridge)^{-1} R, by Cholesky. */
        double *L = tdl_malloc(n * n * sizeof(double), "kernel dynamics factor");
        if (!L) {
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        rc = tdl_kernel_cholesky_ridge(K->data, n, K->tda, ridge, L, "kernel dynamics at t = infinity");
        if (!rc) {
            memcpy(U, R, n * k * sizeof(double));
            lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)k, L, (lapack_int)n, U,
                                             (lapack_int)k);
            if (info) rc = tdl_fail(TDL_EINVAL, "kernel dynamics: dpotrs info %d", (int)info);
        }
        free(L);
        if (rc) goto cleanup;
        if (Ft)
            for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < k; c++)
                    Ft->data[i * Ft->tda + c] = Y->data[i * Y->tda + c] + ridge * U[i * k + c];
        if (Ftest) {
            for (size_t i = 0; i < m; i++)
                for (size_t c = 0; c < k; c++) Ftest->data[i * Ftest->tda + c] = Ft0 ? Ft0->data[i * Ft0->tda + c] : 0.0;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, -1.0, Kt->data, (int)Kt->tda,
                        U, (int)k, 1.0, Ftest->data, (int)Ftest->tda);
        }
        goto cleanup;
    }
    if ((rc = eig_ridge(K, ridge, &e)) != TDL_OK) goto cleanup;
    /* U = V^T R in the eigenbasis (rows of e.vectors are eigenvectors) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, R, (int)k,
                0.0, U, (int)k);
    double *U2 = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
    if (!U2) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    if (Ft) {
        /* f_t = y + V exp(-eta t Lambda / norm) V^T R */
        for (size_t j = 0; j < n; j++) {
            double g = exp(-eta * t * e.values[j] / norm);
            for (size_t c = 0; c < k; c++) U2[j * k + c] = g * U[j * k + c];
        }
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < k; c++) Ft->data[i * Ft->tda + c] = Y->data[i * Y->tda + c];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, U2,
                    (int)k, 1.0, Ft->data, (int)Ft->tda);
    }
    if (Ftest) {
        /* f*_t = f*_0 + Kt V diag(expm1(-eta t lambda / norm) / lambda) V^T R; the
         * coefficient tends to -eta t / norm as lambda -> 0. */
        for (size_t j = 0; j < n; j++) {
            double lam = e.values[j], x = eta * t / norm;
            double g = lam > 0 ? expm1(-x * lam) / lam : -x;
            for (size_t c = 0; c < k; c++) U2[j * k + c] = g * U[j * k + c];
        }
        Wt = tdl_malloc(n * k * sizeof(double), "kernel dynamics work");
        if (!Wt) {
            free(U2);
            rc = TDL_ENOMEM;
            goto cleanup;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, e.vectors, (int)n, U2,
                    (int)k, 0.0, Wt, (int)k);
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < k; c++) Ftest->data[i * Ftest->tda + c] = Ft0 ? Ft0->data[i * Ft0->tda + c] : 0.0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, 1.0, Kt->data, (int)Kt->tda, Wt,
                    (int)k, 1.0, Ftest->data, (int)Ftest->tda);
    }
    free(U2);
cleanup:
    free(R);
    free(U);
    free(Wt);
    if (e.values) tdl_sym_eigen_free(&e);
    return rc;
}

int tdl_ntk_ensemble(const gsl_matrix *Theta, const gsl_matrix *K, const gsl_matrix *Theta_t, const gsl_matrix *K_t,
                     const gsl_matrix *K_tt, const gsl_matrix *Y, double eta, double t, double norm, double ridge,
                     gsl_matrix *mean, gsl_matrix *cov)
{
    int rc = check_predict_shapes(Theta, Y, Theta_t, norm, ridge, "ensemble");
    if (rc) return rc;
    if (!Theta_t) return tdl_fail(TDL_EINVAL, "ensemble: no test kernel");
    const size_t n = Theta->size1, m = Theta_t->size1, k = Y->size2;
    if (!K || K->size1 != n || K->size2 != n || !K_t || K_t->size1 != m || K_t->size2 != n || !K_tt ||
        K_tt->size1 != m || K_tt->size2 != m)
        return tdl_fail(TDL_ESHAPE, "ensemble: NNGP kernels must be %zu x %zu, %zu x %zu and %zu x %zu", n, n, m, n, m, m);
    if ((mean && (mean->size1 != m || mean->size2 != k)) || (cov && (cov->size1 != m || cov->size2 != m)))
        return tdl_fail(TDL_ESHAPE, "ensemble: mean must be %zu x %zu and cov %zu x %zu", m, k, m, m);
    if (!(eta > 0) || !(t >= 0)) return tdl_fail(TDL_EINVAL, "ensemble: needs eta > 0 and t >= 0");
    tdl_sym_eigen e = {0};
    double *A = NULL, *B = NULL, *AK = NULL;
    if ((rc = eig_ridge(Theta, ridge, &e)) != TDL_OK) return rc;
    A = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    B = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    AK = tdl_malloc(m * n * sizeof(double), "ensemble operator");
    if (!A || !B || !AK) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    /* A = Theta_t V diag((1 - exp(-eta t lambda / norm)) / lambda) V^T, the
     * coefficient -> eta t / norm as lambda -> 0 (and 1/lambda at t = inf). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)n, 1.0, Theta_t->data,
                (int)Theta_t->tda, e.vectors, (int)n, 0.0, B, (int)n);
    for (size_t j = 0; j < n; j++) {
        double lam = e.values[j], g;
        if (isinf(t)) {
            if (!(lam > 0)) {
                rc = tdl_fail(TDL_ENOTPD, "ensemble at t = infinity: the NTK is singular (add a ridge)");
                goto cleanup;
            }
            g = 1 / lam;
        } else {
            double x = eta * t / norm;
            g = lam > 0 ? -expm1(-x * lam) / lam : x;
        }
        for (size_t i = 0; i < m; i++) B[i * n + j] *= g;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, B, (int)n, e.vectors, (int)n,
                0.0, A, (int)n);
    if (mean)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, 1.0, A, (int)n, Y->data,
                    (int)Y->tda, 0.0, mean->data, (int)mean->tda);
    if (cov) {
        /* cov = K_tt + A K A^T - A K_t^T - K_t A^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, A, (int)n, K->data,
                    (int)K->tda, 0.0, AK, (int)n);
        for (size_t i = 0; i < m; i++) memcpy(cov->data + i * cov->tda, K_tt->data + i * K_tt->tda, m * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, 1.0, AK, (int)n, A, (int)n, 1.0,
                    cov->data, (int)cov->tda);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, -1.0, A, (int)n, K_t->data,
                    (int)K_t->tda, 1.0, cov->data, (int)cov->tda);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)m, (int)n, -1.0, K_t->data, (int)K_t->tda, A,
                    (int)n, 1.0, cov->data, (int)cov->tda);
        tdl_symmetrize(cov->data, m, cov->tda);
    }
cleanup:
    tdl_sym_eigen_free(&e);
    free(A);
    free(B);
    free(AK);
    return rc;
}

/* ---- Monte Carlo over random initializations ------------------------------ */

void tdl_ntk_monte_carlo_config_from_mlp(const tdl_mlp *m, tdl_mlp_config *cfg)
{
    tdl_mlp_config_default(cfg);
    cfg->depth = m->depth;
    cfg->widths[0] = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) cfg->widths[l + 1] = m->layers[l].out;
    cfg->act = m->act;
    cfg->param = m->param;
    cfg->init = TDL_INIT_GAUSSIAN;
    cfg->sigma_w = m->sigma_w;
    cfg->sigma_b = m->sigma_b;
    cfg->bias = m->layers[0].has_bias;
}

int tdl_ntk_monte_carlo(const tdl_mlp_config *cfg, const gsl_matrix *X, size_t samples, unsigned long seed,
                        gsl_matrix *nngp, gsl_matrix *ntk, gsl_matrix *stderr_out)
{
    if (!cfg || !X || X->size1 == 0 || samples == 0)
        return tdl_fail(TDL_EINVAL, "Monte Carlo kernel: needs a configuration, inputs and samples >= 1");
    const size_t n = X->size1, C = cfg->widths[cfg->depth];
    if (cfg->widths[0] != X->size2)
        return tdl_fail(TDL_ESHAPE, "Monte Carlo kernel: the net takes %zu inputs but the data has %zu features",
                        cfg->widths[0], X->size2);
    if ((nngp && (nngp->size1 != n || nngp->size2 != n)) || (ntk && (ntk->size1 != n || ntk->size2 != n)) ||
        (stderr_out && (stderr_out->size1 != n || stderr_out->size2 != n)))
        return tdl_fail(TDL_ESHAPE, "Monte Carlo kernel: outputs must be %zu x %zu", n, n);
    if (stderr_out && (!ntk || samples < 2))
        return tdl_fail(TDL_EINVAL, "Monte Carlo kernel: the standard error needs the NTK and >= 2 samples");
    int rc = tdl_dense_memory_check(n, 3, 0, "Monte Carlo kernel");
    if (rc) return rc;
    double *F = tdl_malloc(n * C * sizeof(double), "Monte Carlo outputs");
    double *S2 = tdl_calloc(n * n, sizeof(double), "Monte Carlo second moments");
    gsl_matrix *K = ntk ? gsl_matrix_alloc(n, n) : NULL;
    tdl_mlp *m = NULL;
    if (!F || !S2 || (ntk && !K)) {
        rc = tdl_fail(TDL_ENOMEM, "out of memory for the Monte Carlo kernel");
        goto cleanup;
    }
    if (nngp) gsl_matrix_set_zero(nngp);
    if (ntk) gsl_matrix_set_zero(ntk);
    tdl_dataset ds = tdl_kernel_input_view(X);
    for (size_t s = 0; s < samples; s++) {
        tdl_mlp_config c = *cfg;
        c.seed = seed + s;
        if ((rc = tdl_mlp_create(&c, &m)) != TDL_OK) goto cleanup;
        if (nngp) {
            if ((rc = tdl_mlp_predict(m, &ds, F)) != TDL_OK) goto cleanup;
            /* nngp += F F^T / (samples C) */
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)C, 1.0 / ((double)samples * (double)C),
                        F, (int)C, 1.0, nngp->data, (int)nngp->tda);
        }
        if (ntk) {
            if ((rc = tdl_ntk_empirical(m, X, NULL, NULL, K)) != TDL_OK) goto cleanup;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double v = K->data[i * K->tda + j];
                    ntk->data[i * ntk->tda + j] += v / (double)samples;
                    S2[i * n + j] += v * v;
                }
        }
        tdl_mlp_free(&m);
    }
    if (nngp) tdl_kernel_symmetrize_from_upper(nngp->data, n, nngp->tda);
    if (stderr_out)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double mu = ntk->data[i * ntk->tda + j], N = (double)samples;
                double var = (S2[i * n + j] - N * mu * mu) / (N - 1);
                stderr_out->data[i * stderr_out->tda + j] = sqrt(var > 0 ? var : 0) / sqrt(N);
            }
cleanup:
    tdl_mlp_free(&m);
    free(F);
    free(S2);
    if (K) gsl_matrix_free(K);
    return rc;
}
