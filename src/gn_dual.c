/* gn_dual.c — the exact spectrum of the Gauss-Newton matrix G through the
 * N x N kernel dual K = c S^T (J J^T) S, N = n C, and the class /
 * cross-class split of G (tdl/gn_dual.h explains the algebra).
 *
 * Steps: the full empirical NTK J J^T (tdl_ntk_empirical, full = 1), the
 * output-Hessian factors S_i from one forward pass, K by C x C block products
 * (BLAS-3), then LAPACK: every eigenvalue by tdl_sym_eigen_solve (values only:
 * dsyevd_2stage), and, when eigenvectors of K are wanted (parameter-space
 * vectors, the split's outlier shares), the top ones by MRRR on a copy.
 *
 * References: Papyan 2019 (ICML) Sec. 3 and Papyan 2020 (JMLR 21) Sec. 3 for
 * the class / cross-class decomposition; Schraudolph 2002 and Sagun et al.
 * 2017 for G = (1/n) sum_i J_i^T H_l,i J_i (tdl/hessian.h).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <gsl/gsl_matrix.h>
#include "tdl/gn_dual.h"
#include "tdl/linalg.h"
#include "tdl/memory.h"
#include "tdl/ntk_empirical.h"
#include "tdl/spectral.h"
#include "internal.h"

#define DEFAULT_BUDGET ((size_t)256 << 20)
#define DEFAULT_DENSE_VECTORS_MAX 3000
#define LANCZOS_TOL 1e-13

/* y = K x for Lanczos on the dense dual (ctx: K, then its order). */
typedef struct dense_op {
    const double *K;
    size_t N;
} dense_op;

static int dense_apply(const double *x, double *y, void *ctx)
{
    const dense_op *op = ctx;
    cblas_dsymv(CblasRowMajor, CblasLower, (int)op->N, 1.0, op->K, (int)op->N, x, 1, 0.0, y, 1);
    return TDL_OK;
}

/* The top ku eigenvectors of K (rows of U, descending; U may be NULL) by
 * Lanczos; with vals (ku, descending) and bound (the largest certified error
 * bound of tdl_lanczos_result) when not NULL. */
static int lanczos_top(const double *K, size_t N, size_t ku, double *U, double *vals, double *bound)
{
    dense_op op = {K, N};
    tdl_lanczos_result lr;
    int st = tdl_lanczos(dense_apply, &op, N, ku, TDL_WHICH_LARGEST, 0, LANCZOS_TOL, 1,
                         TDL_LANCZOS_VECTORS | TDL_LANCZOS_MULTIPLICITY, &lr);
    if (st != TDL_OK) return st;
    if (!lr.converged || lr.k != ku) {
        tdl_lanczos_result_free(&lr);
        return tdl_fail(TDL_ENOCONV, "Gauss-Newton dual: Lanczos on K did not reach the top %zu eigenvectors at relative tolerance %.0e",
                        ku, LANCZOS_TOL);
    }
    /* lr.vectors: N x ku row-major, column j <-> lr.values[j] ascending */
    for (size_t j = 0; U && j < ku; j++)
        for (size_t r = 0; r < N; r++) U[j * N + r] = lr.vectors[r * ku + (ku - 1 - j)];
    for (size_t j = 0; vals && j < ku; j++) vals[j] = lr.values[ku - 1 - j];
    if (bound) {
        *bound = 0;
        for (size_t j = 0; j < ku; j++) *bound = fmax(*bound, lr.error_bounds[j]);
    }
    tdl_lanczos_result_free(&lr);
    return TDL_OK;
}

void tdl_gn_dual_config_default(tdl_gn_dual_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

static size_t outputs_of(const tdl_mlp *m) { return m->layers[m->depth - 1].out; }

/* The factors S_i (C x C row-major each, n of them) with sqrt(c) folded in,
 * and the split's weights w_i,c' (n x C; NULL: not wanted). */
static int output_factors(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double *S, double *wts)
{
    const size_t n = ds->n, C = outputs_of(m);
    double c;
    int st = tdl_mlp_loss_scale(m, loss, n, &c);
    if (st != TDL_OK) return st;
    const double sc = sqrt(c);
    double *F = tdl_malloc(n * C * sizeof(double), "the outputs of the net");
    if (!F) return TDL_ENOMEM;
    if ((st = tdl_mlp_predict(m, ds, F)) != TDL_OK) { free(F); return st; }
    memset(S, 0, n * C * C * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double *Si = S + i * C * C, *wi = wts ? wts + i * C : NULL;
        const double *f = F + i * C;
        if (wi)
            for (size_t a = 0; a < C; a++) wi[a] = 1.0;
        if (loss == TDL_LOSS_MSE || ds->Y) {
            for (size_t a = 0; a < C; a++) Si[a * C + a] = sc;
        } else if (loss == TDL_LOSS_HINGE) {
            /* H_l = 0 almost everywhere: S_i = 0 */
        } else if (C == 1) { /* logistic */
            double p = f[0] >= 0 ? 1 / (1 + exp(-f[0])) : exp(f[0]) / (1 + exp(f[0]));
            Si[0] = sc * sqrt(p * (1 - p));
            if (wi) wi[0] = p * (1 - p);
        } else { /* ce: S = diag(q) - p q^T, q = sqrt(p) */
            double mx = f[0], sum = 0;
            for (size_t a = 1; a < C; a++) mx = f[a] > mx ? f[a] : mx;
            for (size_t a = 0; a < C; a++) sum += exp(f[a] - mx);
            for (size_t a = 0; a < C; a++) {
                double pa = exp(f[a] - mx) / sum;
                if (wi) wi[a] = pa;
                for (size_t b = 0; b < C; b++) {
                    double pb = exp(f[b] - mx) / sum;
                    Si[a * C + b] = sc * ((a == b ? sqrt(pa) : 0.0) - pa * sqrt(pb));
                }
            }
        }
    }
    free(F);
    return TDL_OK;
}

/* K <- S^T K S for S = blockdiag(S_i), by C x C blocks. */
static int apply_factors(double *K, size_t n, size_t C, const double *S)
{
    const size_t N = n * C;
    double *T = tdl_malloc(N * C * sizeof(double), "a block of the Gauss-Newton dual");
    if (!T) return TDL_ENOMEM;
    /* right: columns of block j times S_j */
    for (size_t j = 0; j < n; j++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)C, (int)C, 1.0, K + j * C, (int)N,
                    S + j * C * C, (int)C, 0.0, T, (int)C);
        for (size_t r = 0; r < N; r++) memcpy(K + r * N + j * C, T + r * C, C * sizeof(double));
    }
    /* left: S_i^T times the rows of block i */
    for (size_t i = 0; i < n; i++) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)N, (int)C, 1.0, S + i * C * C, (int)C,
                    K + i * C * N, (int)N, 0.0, T, (int)N);
        memcpy(K + i * C * N, T, C * N * sizeof(double));
    }
    free(T);
    /* symmetric in exact arithmetic: make both triangles the same doubles */
    for (size_t r = 0; r < N; r++)
        for (size_t s = r + 1; s < N; s++) {
            double v = 0.5 * (K[r * N + s] + K[s * N + r]);
            K[r * N + s] = K[s * N + r] = v;
        }
    return TDL_OK;
}

static int gram(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t budget, double *K,
                double *S, double *wts, const char **method)
{
    const size_t n = ds->n, C = outputs_of(m), N = n * C;
    int st = output_factors(m, loss, ds, S, wts);
    if (st != TDL_OK) return st;
    if (loss == TDL_LOSS_HINGE && !ds->Y) {
        memset(K, 0, N * N * sizeof(double));
        if (method) *method = "none (hinge: H_l = 0 almost everywhere, so G = 0)";
        return TDL_OK;
    }
    tdl_ntk_config no;
    tdl_ntk_config_default(&no);
    no.full = 1;
    no.budget_bytes = budget;
    if (method) *method = tdl_ntk_method_name(m, &no);
    gsl_matrix_view Kv = gsl_matrix_view_array(K, N, N);
    if ((st = tdl_ntk_empirical(m, ds->X, NULL, &no, &Kv.matrix)) != TDL_OK) return st;
    if (loss == TDL_LOSS_MSE || ds->Y) { /* S_i = sqrt(c) I */
        double c = S[0] * S[0];
        for (size_t i = 0; i < N * N; i++) K[i] *= c;
        return TDL_OK;
    }
    return apply_factors(K, n, C, S);
}

int tdl_gn_dual_gram(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t budget_bytes, double *K)
{
    if (!m || !ds || !K) return tdl_fail(TDL_EINVAL, "Gauss-Newton dual: missing argument");
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    const size_t n = ds->n, C = outputs_of(m);
    double *S = tdl_malloc(n * C * C * sizeof(double), "the output-Hessian factors");
    if (!S) return TDL_ENOMEM;
    st = gram(m, loss, ds, budget_bytes ? budget_bytes : DEFAULT_BUDGET, K, S, NULL, NULL);
    free(S);
    return st;
}

void tdl_gn_dual_result_free(tdl_gn_dual_result *r)
{
    if (!r) return;
    free(r->values);
    free(r->vectors);
    free(r->class_values);
    free(r->cross_values);
    free(r->outlier_values);
    free(r->share_class);
    free(r->share_cross);
    memset(r, 0, sizeof *r);
}

/* Eigenvalues (ascending, into vals) of the sub-block of M (dm x dm) on the
 * index list idx (k of them), and the pseudo-inverse of that block into Pinv
 * (k x k; eigenvalues below k eps ||block||_F dropped). */
static int block_spectrum(const double *M, size_t dm, const size_t *idx, size_t k, double *vals, double *Pinv)
{
    double *A = tdl_malloc(k * k * sizeof(double), "a block of the class split");
    if (!A) return TDL_ENOMEM;
    double fro = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            A[a * k + b] = M[idx[a] * dm + idx[b]];
            fro += A[a * k + b] * A[a * k + b];
        }
    tdl_sym_eigen e = {0};
    int st = tdl_sym_eigen_solve(A, k, 0, k - 1, 1, &e);
    free(A);
    if (st != TDL_OK) return st;
    double tol = (double)k * DBL_EPSILON * sqrt(fro);
    memcpy(vals, e.values, k * sizeof(double));
    memset(Pinv, 0, k * k * sizeof(double));
    for (size_t j = 0; j < k; j++) {
        if (!(e.values[j] > tol)) continue;
        const double *v = e.vectors + j * k;
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) Pinv[a * k + b] += v[a] * v[b] / e.values[j];
    }
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

/* lambda a^T Pinv a, a = E_idx^T u (the squared norm of the projection of
 * v = B u / sqrt(lambda) on the span of the chosen cluster means). */
static double share(const double *Eu, const size_t *idx, size_t k, const double *Pinv, double lambda)
{
    double s = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) s += Eu[idx[a]] * Pinv[a * k + b] * Eu[idx[b]];
    return lambda * s;
}

/* The class split from M = E^T K E (C^2 x C^2, computed before the solve) and
 * the top C eigenpairs of K (vectors rows of U, values descending in lam). */
static int class_split(const double *M, size_t C, const double *E, const size_t *labels, size_t n,
                       const double *U, const double *lam, double tol, tdl_gn_dual_result *r)
{
    const size_t C2 = C * C, nx = C2 - C;
    int st = TDL_ENOMEM;
    size_t *ic = tdl_malloc(C * sizeof(size_t), "class indices"), *ix = tdl_malloc((nx ? nx : 1) * sizeof(size_t), "cross indices");
    double *Pc = tdl_malloc(C * C * sizeof(double), "class pseudo-inverse");
    double *Px = tdl_malloc((nx ? nx * nx : 1) * sizeof(double), "cross pseudo-inverse");
    double *Eu = tdl_malloc(C2 * sizeof(double), "projections");
    r->class_values = tdl_malloc(C * sizeof(double), "class eigenvalues");
    r->cross_values = tdl_malloc((nx ? nx : 1) * sizeof(double), "cross-class eigenvalues");
    r->outlier_values = tdl_malloc(C * sizeof(double), "outliers");
    r->share_class = tdl_malloc(C * sizeof(double), "class shares");
    r->share_cross = tdl_malloc(C * sizeof(double), "cross shares");
    if (!ic || !ix || !Pc || !Px || !Eu || !r->class_values || !r->cross_values || !r->outlier_values ||
        !r->share_class || !r->share_cross)
        goto done;
    size_t a = 0;
    for (size_t c = 0; c < C; c++) {
        ic[c] = c * C + c;
        for (size_t c2 = 0; c2 < C; c2++)
            if (c2 != c) ix[a++] = c * C + c2;
    }
    r->trace_class = r->trace_cross = 0;
    for (size_t c = 0; c < C; c++) r->trace_class += M[ic[c] * C2 + ic[c]];
    for (size_t j = 0; j < nx; j++) r->trace_cross += M[ix[j] * C2 + ix[j]];
    r->trace_within = r->trace - r->trace_class - r->trace_cross;
    if ((st = block_spectrum(M, C2, ic, C, r->class_values, Pc)) != TDL_OK) goto done;
    if ((st = block_spectrum(M, C2, ix, nx, r->cross_values, Px)) != TDL_OK) goto done;
    r->outliers = C;
    for (size_t j = 0; j < C; j++) {
        const double *u = U + j * r->N;
        /* Eu = E^T u: column (c, c') sums rows (i, c') of class c */
        memset(Eu, 0, C2 * sizeof(double));
        for (size_t i = 0; i < n; i++)
            for (size_t c2 = 0; c2 < C; c2++) Eu[labels[i] * C + c2] += E[i * C + c2] * u[i * C + c2];
        r->outlier_values[j] = lam[j];
        if (lam[j] > tol) {
            r->share_class[j] = share(Eu, ic, C, Pc, lam[j]);
            r->share_cross[j] = share(Eu, ix, nx, Px, lam[j]);
        } else {
            r->share_class[j] = r->share_cross[j] = NAN; /* no eigenvector of G: lambda = 0 */
        }
    }
    r->has_split = 1;
    st = TDL_OK;
done:
    free(ic);
    free(ix);
    free(Pc);
    free(Px);
    free(Eu);
    return st;
}

/* v_j = B u_j / sqrt(lambda_j), B = sqrt(c) J^T S, by Jacobian blocks:
 * V (k x P) += (S_blk U_blk)^T J_blk. */
static int param_vectors(const tdl_mlp *m, const tdl_dataset *ds, const double *S, const double *U,
                         const double *lam, size_t k, size_t budget, double *V)
{
    const size_t n = ds->n, C = outputs_of(m), N = n * C, P = m->n_params;
    size_t rows = tdl_jacobian_block_rows(m, budget);
    if (rows > n) rows = n;
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, rows, &w);
    if (st != TDL_OK) return st;
    double *J = tdl_malloc(rows * C * P * sizeof(double), "a Jacobian block");
    double *W = tdl_malloc(rows * C * k * sizeof(double), "a block of S U");
    if (!J || !W) { st = TDL_ENOMEM; goto done; }
    memset(V, 0, k * P * sizeof(double));
    for (size_t r0 = 0; r0 < n; r0 += rows) {
        size_t nb = n - r0 < rows ? n - r0 : rows;
        if ((st = tdl_mlp_jacobian(m, ds, r0, nb, w, J)) != TDL_OK) goto done;
        /* W[(i,a), j] = sum_b S_i[a][b] u_j[(i,b)] */
        for (size_t i = 0; i < nb; i++)
            for (size_t a = 0; a < C; a++)
                for (size_t j = 0; j < k; j++) {
                    double s = 0;
                    const double *Si = S + (r0 + i) * C * C;
                    for (size_t b = 0; b < C; b++) s += Si[a * C + b] * U[j * N + (r0 + i) * C + b];
                    W[(i * C + a) * k + j] = s;
                }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)P, (int)(nb * C), 1.0, W, (int)k, J,
                    (int)P, 1.0, V, (int)P);
    }
    for (size_t j = 0; j < k; j++) {
        double s = 1 / sqrt(lam[j]);
        for (size_t p = 0; p < P; p++) V[j * P + p] *= s;
    }
done:
    free(J);
    free(W);
    tdl_net_work_free(&w);
    return st;
}

int tdl_gn_dual(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const tdl_gn_dual_config *cfg,
                tdl_gn_dual_result *out)
{
    if (!out) return tdl_fail(TDL_EINVAL, "Gauss-Newton dual: no result");
    memset(out, 0, sizeof *out);
    if (!m || !ds) return tdl_fail(TDL_EINVAL, "Gauss-Newton dual: missing argument");
    tdl_gn_dual_config def;
    if (!cfg) {
        tdl_gn_dual_config_default(&def);
        cfg = &def;
    }
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    const size_t n = ds->n, C = outputs_of(m), N = n * C, P = m->n_params;
    const size_t budget = cfg->budget_bytes ? cfg->budget_bytes : DEFAULT_BUDGET;
    if (n != 0 && C > ((size_t)INT32_MAX) / n)
        return tdl_fail(TDL_ETOOBIG, "Gauss-Newton dual: n C = %zu x %zu is beyond LAPACK's int", n, C);
    if (cfg->k > N)
        return tdl_fail(TDL_EINVAL, "Gauss-Newton dual: k = %zu exceeds the order n C = %zu of the dual", cfg->k, N);
    if (cfg->want_vectors && cfg->k == 0)
        return tdl_fail(TDL_EINVAL, "Gauss-Newton dual: eigenvectors need k (the top k of them)");
    if (cfg->class_split) {
        if (!ds->labels || ds->classes == 0)
            return tdl_fail(TDL_EINVAL, "class split: the data set has no class labels (regression); the split groups examples by class");
        if (C < 2 || ds->classes != C)
            return tdl_fail(TDL_EINVAL, "class split: needs one output per class (the net has %zu output%s, the data %zu classes)",
                            C, C == 1 ? "" : "s", ds->classes);
    }
    const int need_u = cfg->want_vectors || cfg->class_split;
    const size_t ku = cfg->class_split && C > cfg->k ? C : cfg->k; /* eigenvectors of K wanted */
    const size_t dense_max = cfg->dense_vectors_max ? cfg->dense_vectors_max : DEFAULT_DENSE_VECTORS_MAX;
    /* the top k of a large dual by Lanczos on K: one copy, no O(N^3) solve */
    const int partial = cfg->k > 0 && N > dense_max;
    const size_t kl = ku > cfg->k ? ku : cfg->k; /* eigenpairs Lanczos finds */
    /* the guard: Gram matrices, then the vectors' and the split's work */
    size_t extra = N * sizeof(double) * 40 + n * C * C * sizeof(double) * 2;
    if (cfg->class_split) extra += N * C * C * sizeof(double) + C * C * C * C * sizeof(double);
    if (need_u || partial) extra += kl * N * sizeof(double) + (kl * 10 > 100 ? kl * 10 : 100) * 2 * N * sizeof(double); /* + a Lanczos basis */
    if (cfg->want_vectors) extra += cfg->k * P * sizeof(double) + budget;
    size_t count = N * N, cnt2;
    if (need_u && !partial && tdl_mul_size(count, 2, &cnt2) == 0) count = cnt2;
    else if (need_u && !partial) count = SIZE_MAX;
    {
        char detail[256];
        snprintf(detail, sizeof detail, "n = %zu examples x C = %zu outputs: %d Gram matri%s of (n C)^2 = %zu^2 doubles, plus work space",
                 n, C, need_u && !partial ? 2 : 1, need_u && !partial ? "ces" : "x", N);
        if ((st = tdl_memory_require_detail(count, sizeof(double), extra, "the Gauss-Newton dual", detail)) != TDL_OK)
            return st;
        double b = (double)count * 8.0 + (double)extra;
        out->bytes = b < (double)SIZE_MAX ? (size_t)b : SIZE_MAX;
    }
    out->n = n;
    out->C = C;
    out->N = N;
    out->P = P;
    double *K = tdl_malloc(N * N * sizeof(double), "the Gauss-Newton dual (n C x n C)");
    double *S = tdl_malloc(n * C * C * sizeof(double), "the output-Hessian factors");
    double *wts = tdl_malloc(n * C * sizeof(double), "the split's weights");
    double *Kc = NULL, *E = NULL, *KE = NULL, *M = NULL, *ulam = NULL, *top = NULL;
    tdl_sym_eigen e = {0}, eu = {0};
    if (!K || !S || !wts) { st = TDL_ENOMEM; goto fail; }
    double t0 = tdl_seconds_now();
    if ((st = gram(m, loss, ds, budget, K, S, wts, &out->gram_method)) != TDL_OK) goto fail;
    out->seconds_gram = tdl_seconds_now() - t0;
    double tr = 0, fro = 0;
    for (size_t i = 0; i < N; i++) tr += K[i * N + i];
    {
        double mx = 0, sq = 0;
        for (size_t i = 0; i < N * N; i++) mx = fmax(mx, fabs(K[i]));
        for (size_t i = 0; mx > 0 && i < N * N; i++) sq += (K[i] / mx) * (K[i] / mx);
        fro = mx * sqrt(sq);
    }
    out->trace = tr;
    out->frobenius = fro;
    out->tol = (double)N * DBL_EPSILON * fro;
    if (cfg->class_split) {
        /* E[(i,c'), (y_i, c')] = sqrt(w_i,c' / W_{y_i c'}); M = E^T K E */
        const size_t C2 = C * C;
        double *Wsum = tdl_calloc(C2, sizeof(double), "cluster weights");
        E = tdl_malloc(N * sizeof(double), "the split's averaging matrix");
        KE = tdl_malloc(N * C2 * sizeof(double), "K times the averaging matrix");
        M = tdl_malloc(C2 * C2 * sizeof(double), "the cluster-means Gram matrix");
        if (!Wsum || !E || !KE || !M) { free(Wsum); st = TDL_ENOMEM; goto fail; }
        for (size_t i = 0; i < n; i++)
            for (size_t c2 = 0; c2 < C; c2++) Wsum[ds->labels[i] * C + c2] += wts[i * C + c2];
        for (size_t i = 0; i < n; i++)
            for (size_t c2 = 0; c2 < C; c2++) {
                double W = Wsum[ds->labels[i] * C + c2];
                E[i * C + c2] = W > 0 ? sqrt(wts[i * C + c2] / W) : 0.0;
            }
        free(Wsum);
        memset(KE, 0, N * C2 * sizeof(double));
        for (size_t r = 0; r < N; r++)
            for (size_t i = 0; i < n; i++) {
                const double *Kr = K + r * N + i * C;
                double *KEr = KE + r * C2 + ds->labels[i] * C;
                for (size_t c2 = 0; c2 < C; c2++) KEr[c2] += Kr[c2] * E[i * C + c2];
            }
        memset(M, 0, C2 * C2 * sizeof(double));
        for (size_t i = 0; i < n; i++)
            for (size_t c2 = 0; c2 < C; c2++) {
                double eic = E[i * C + c2];
                if (eic == 0) continue;
                const double *KEr = KE + (i * C + c2) * C2;
                double *Mr = M + (ds->labels[i] * C + c2) * C2;
                for (size_t q = 0; q < C2; q++) Mr[q] += eic * KEr[q];
            }
        for (size_t a = 0; a < C2; a++) /* symmetric up to rounding */
            for (size_t b = a + 1; b < C2; b++) M[a * C2 + b] = M[b * C2 + a] = 0.5 * (M[a * C2 + b] + M[b * C2 + a]);
        free(KE);
        KE = NULL;
    }
    /* tdl/gn_dual.h: the rounding of forming K, gamma_L trace(K) */
    double gram_rounding;
    {
        size_t terms = m->n_params + 2 * C;
        if (out->gram_method && strcmp(out->gram_method, "structured") == 0 && m->depth == 2)
            terms = m->layers[0].in + m->layers[0].out + 2 * C + 4;
        double u = DBL_EPSILON / 2, gamma = (double)terms * u / (1.0 - (double)terms * u);
        gram_rounding = gamma * fabs(tr);
    }
    double *U = NULL; /* top: the eigenvalues found, descending */
    size_t ntop;
    t0 = tdl_seconds_now();
    if (partial) {
        /* the top kl eigenpairs of K by Lanczos (dsymv products on K itself) */
        out->partial = 1;
        out->driver = "Lanczos on K (dsymv products, relative tolerance 1e-13, multiplicity check)";
        ntop = kl;
        top = tdl_malloc(kl * sizeof(double), "the top eigenvalues of the dual");
        if (need_u) U = tdl_malloc(kl * N * sizeof(double), "eigenvectors of the dual");
        if (!top || (need_u && !U)) { free(U); st = TDL_ENOMEM; goto fail; }
        double lbound = 0;
        if ((st = lanczos_top(K, N, kl, U, top, &lbound)) != TDL_OK) { free(U); goto fail; }
        if (need_u) out->vector_driver = "lanczos";
        out->error_bound = lbound + gram_rounding;
        out->rank_known = 0;
        free(K);
        K = NULL;
    } else {
        if (need_u) {
            Kc = tdl_malloc(N * N * sizeof(double), "a copy of the Gauss-Newton dual");
            if (!Kc) { st = TDL_ENOMEM; goto fail; }
            memcpy(Kc, K, N * N * sizeof(double));
        }
        if ((st = tdl_sym_eigen_solve(K, N, 0, N - 1, 0, &e)) != TDL_OK) goto fail;
        free(K);
        K = NULL;
        out->driver = e.driver;
        out->error_bound = e.error_bound + gram_rounding;
        out->rank_known = 1;
        for (size_t j = 0; j < N; j++)
            if (e.values[j] > out->tol) out->rank++;
        ntop = N;
        top = tdl_malloc(N * sizeof(double), "the eigenvalues of the dual");
        if (!top) { st = TDL_ENOMEM; goto fail; }
        for (size_t j = 0; j < N; j++) top[j] = e.values[N - 1 - j];
        if (need_u) {
            /* eigenvectors of K, descending: row j of U is the (j+1)-th largest */
            U = tdl_malloc(ku * N * sizeof(double), "eigenvectors of the dual");
            if (!U) { st = TDL_ENOMEM; goto fail; }
            if (N <= dense_max) {
                out->vector_driver = "dsyevr";
                if ((st = tdl_sym_eigen_solve(Kc, N, N - ku, N - 1, 1, &eu)) != TDL_OK) { free(U); goto fail; }
                for (size_t j = 0; j < ku; j++) memcpy(U + j * N, eu.vectors + (ku - 1 - j) * N, N * sizeof(double));
            } else {
                out->vector_driver = "lanczos";
                if ((st = lanczos_top(Kc, N, ku, U, NULL, NULL)) != TDL_OK) { free(U); goto fail; }
            }
            free(Kc);
            Kc = NULL;
        }
    }
    out->seconds_eigen = tdl_seconds_now() - t0;
    /* the values returned: all, or the top k (ascending) */
    out->count = cfg->k ? cfg->k : N;
    out->values = tdl_malloc(out->count * sizeof(double), "the eigenvalues of G");
    if (!out->values || ntop < out->count) { free(U); st = TDL_ENOMEM; goto fail; }
    for (size_t j = 0; j < out->count; j++) out->values[j] = top[out->count - 1 - j];
    if (need_u) {
        ulam = tdl_malloc(ku * sizeof(double), "eigenvalues of the dual");
        if (!ulam) { free(U); st = TDL_ENOMEM; goto fail; }
        /* the values of the full solve (the same matrix; the vector solver's agree to its accuracy),
         * or Lanczos's own */
        for (size_t j = 0; j < ku; j++) ulam[j] = top[j];
        if (cfg->class_split && (st = class_split(M, C, E, ds->labels, n, U, ulam, out->tol, out)) != TDL_OK) {
            free(U);
            goto fail;
        }
        if (cfg->want_vectors) {
            const size_t k = cfg->k;
            for (size_t j = 0; j < k; j++)
                if (!(ulam[j] > out->tol)) {
                    free(U);
                    st = tdl_fail(TDL_EINVAL, "Gauss-Newton dual: eigenvalue %zu of the top %zu is %.3g, zero within the tolerance %.3g: G has rank %zu, so only the top %zu eigenvectors are determined",
                                  j + 1, k, ulam[j], out->tol, j, j);
                    goto fail;
                }
            t0 = tdl_seconds_now();
            out->vectors = tdl_malloc(k * P * sizeof(double), "eigenvectors of G");
            /* ascending order like the values: row j of out->vectors pairs out->values[j] */
            double *Ua = tdl_malloc(k * N * sizeof(double), "eigenvectors of the dual");
            double *la = tdl_malloc(k * sizeof(double), "eigenvalues");
            if (!out->vectors || !Ua || !la) { free(U); free(Ua); free(la); st = TDL_ENOMEM; goto fail; }
            for (size_t j = 0; j < k; j++) {
                memcpy(Ua + j * N, U + (k - 1 - j) * N, N * sizeof(double));
                la[j] = ulam[k - 1 - j];
            }
            st = param_vectors(m, ds, S, Ua, la, k, budget, out->vectors);
            free(Ua);
            free(la);
            out->seconds_vectors = tdl_seconds_now() - t0;
            if (st != TDL_OK) { free(U); goto fail; }
        }
        free(U);
    }
    free(S);
    free(wts);
    free(E);
    free(M);
    free(ulam);
    free(top);
    tdl_sym_eigen_free(&e);
    tdl_sym_eigen_free(&eu);
    return TDL_OK;
fail:
    free(K);
    free(Kc);
    free(S);
    free(wts);
    free(E);
    free(KE);
    free(M);
    free(ulam);
    free(top);
    tdl_sym_eigen_free(&e);
    tdl_sym_eigen_free(&eu);
    tdl_gn_dual_result_free(out);
    return st;
}
