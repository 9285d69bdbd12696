/* dist_kernel.c — kernel Gram matrices in ScaLAPACK's 2D block-cyclic
 * layout: spectrum (ELPA / pdsyevr), ridge solves (pdpotrf / pdpotrs) and
 * the kernel-regime gradient flow (eigenvectors and pdgemm), for tdl ntk
 * under mpirun (tdl/dist.h, issue 20).
 *
 * The Gram matrix: rank (r, c) computes K(X_I, X_J) for its local rows I and
 * columns J, in place (as K(X_J, X_I) row-major).  The empirical NTK takes
 * them in one call of tdl_ntk_empirical (its Jacobians are the costly part,
 * once per rank); the analytic kernels and H_inf, whose temporaries are a
 * few n1 x n2 arrays per call, one local block row (nb rows) at a time.  The solves work on a copy, so that one
 * Gram matrix serves the spectrum, the ridge solve and the flow.
 *
 * The kernel-regime formulas are those of tdl_ntk_predict
 * (kernel_regression.c): with R = f_0 - y and (V, Lambda) the eigenpairs
 * of K + ridge I,
 *   f_t  = y + V exp(-c Lambda) V^T R,
 *   f*_t = f*_0 + K(X*, X) V diag(expm1(-c lambda) / lambda) V^T R,
 * c = eta t / norm; at t = infinity f*_inf = f*_0 - K(X*, X) (K + ridge)^-1 R
 * by Cholesky. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "src/dist/tdl_dist_config.h"
#include "tdl/dist.h"
#include "tdl/memory.h"
#include "dist_internal.h"
#include "internal.h"

/* K(X1, X2) of kernel k into K (n1 x n2); X2 NULL: X2 = X1 (symmetric). */
static int kernel_block(const tdl_dist_kernel *k, const gsl_matrix *X1, const gsl_matrix *X2, gsl_matrix *K)
{
    switch (k->kind) {
    case TDL_DIST_KERNEL_NTK_EMPIRICAL: {
        if (!k->net) return tdl_fail(TDL_EINVAL, "the empirical NTK needs a net");
        tdl_ntk_config o;
        if (k->ntk) o = *k->ntk;
        else tdl_ntk_config_default(&o);
        if (o.full) return tdl_fail(TDL_EINVAL, "the distributed Gram matrix takes the traced empirical NTK (full = 0)");
        return tdl_ntk_empirical(k->net, X1, X2, &o, K);
    }
    case TDL_DIST_KERNEL_NTK_ANALYTIC:
    case TDL_DIST_KERNEL_NNGP_ANALYTIC: {
        if (!k->analytic) return tdl_fail(TDL_EINVAL, "the analytic kernel needs its configuration");
        int nngp = k->kind == TDL_DIST_KERNEL_NNGP_ANALYTIC;
        return tdl_ntk_analytic(k->analytic, X1, X2, nngp ? K : NULL, nngp ? NULL : K);
    }
    case TDL_DIST_KERNEL_H_INF:
        return X2 ? tdl_ntk_h_inf_cross(X1, X2, K) : tdl_ntk_h_inf(X1, K);
    }
    return tdl_fail(TDL_EINVAL, "unknown kernel kind %d", (int)k->kind);
}

int tdl_dist_kernel_apply(const tdl_dist_kernel *k, const gsl_matrix *Xt, const gsl_matrix *X, const double *A,
                          size_t kcols, double *out)
{
    if (!k || !Xt || !X || !A || !out || kcols == 0) return tdl_fail(TDL_EINVAL, "kernel apply: missing argument");
    if (Xt->size2 != X->size2)
        return tdl_fail(TDL_ESHAPE, "kernel apply: inputs have %zu and %zu features", Xt->size2, X->size2);
    size_t n = X->size1, nt = Xt->size1, d = X->size2;
    size_t N = tdl_dist_size(), r = tdl_dist_rank();
    size_t lo = n * r / N, hi = n * (r + 1) / N, nr = hi - lo;
    memset(out, 0, nt * kcols * sizeof(double));
    int st = TDL_OK;
    if (nr > 0 && nt > 0) {
        /* test rows in blocks of at most ~64 MB of kernel entries */
        size_t tb = ((size_t)8 << 20) / nr;
        if (tb < 1) tb = 1;
        if (tb > nt) tb = nt;
        gsl_matrix_const_view xs = gsl_matrix_const_submatrix(X, lo, 0, nr, d);
        gsl_matrix *Kt = gsl_matrix_alloc(tb, nr);
        if (!Kt) st = tdl_fail(TDL_ENOMEM, "rank %zu: out of memory for a %zu x %zu block of the test kernel", r, tb, nr);
        for (size_t t0 = 0; st == TDL_OK && t0 < nt; t0 += tb) {
            size_t rows = nt - t0 < tb ? nt - t0 : tb;
            gsl_matrix_const_view xt = gsl_matrix_const_submatrix(Xt, t0, 0, rows, d);
            gsl_matrix_view kt = gsl_matrix_submatrix(Kt, 0, 0, rows, nr);
            st = kernel_block(k, &xt.matrix, &xs.matrix, &kt.matrix);
            if (st == TDL_OK)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)kcols, (int)nr, 1.0, kt.matrix.data,
                            (int)kt.matrix.tda, A + lo * kcols, (int)kcols, 1.0, out + t0 * kcols, (int)kcols);
        }
        if (Kt) gsl_matrix_free(Kt);
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) return st;
    return tdl_dist_agree(tdl_dist_allreduce_sum(out, nt * kcols));
}

#ifndef TDL_HAVE_MPI

struct tdl_dist_gram { int unused; };

static int no_mpi(const char *what)
{
    return tdl_fail(TDL_EINVAL, "%s needs MPI, ScaLAPACK and ELPA, and tdl was built without MPI (install libopenmpi-dev, "
                                "libscalapack-openmpi-dev and libelpa-dev, then rebuild)", what);
}

int tdl_dist_gram_create(const tdl_dist_kernel *k, const gsl_matrix *X, tdl_dist_gram **out)
{
    (void)k; (void)X;
    if (out) *out = NULL;
    return no_mpi("the distributed Gram matrix");
}
size_t tdl_dist_gram_dim(const tdl_dist_gram *g) { (void)g; return 0; }
double tdl_dist_gram_trace(const tdl_dist_gram *g) { (void)g; return NAN; }
double tdl_dist_gram_frobenius(const tdl_dist_gram *g) { (void)g; return NAN; }
const char *tdl_dist_gram_driver(const tdl_dist_gram *g) { (void)g; return ""; }
void tdl_dist_gram_free(tdl_dist_gram **g) { if (g) *g = NULL; }
int tdl_dist_gram_eigenvalues(tdl_dist_gram *g, size_t lo, size_t hi, tdl_dist_solver solver, double *values)
{
    (void)g; (void)lo; (void)hi; (void)solver; (void)values;
    return no_mpi("the distributed Gram spectrum");
}
int tdl_dist_gram_solve(const tdl_dist_gram *g, double ridge, const double *B, size_t k, double *alpha)
{
    (void)g; (void)ridge; (void)B; (void)k; (void)alpha;
    return no_mpi("distributed kernel regression");
}
int tdl_dist_gram_flow(const tdl_dist_gram *g, double ridge, double c, const double *B, size_t k, double *decay,
                       double *coef)
{
    (void)g; (void)ridge; (void)c; (void)B; (void)k; (void)decay; (void)coef;
    return no_mpi("the distributed kernel flow");
}

#else

struct tdl_dist_gram {
    tdl_dist_grid grid;
    double *L;                 /* the local share, column-major, lld = lr */
    size_t n;
    double trace, frobenius, max_diag;
    char driver[160];
};

size_t tdl_dist_gram_dim(const tdl_dist_gram *g) { return g ? g->n : 0; }
double tdl_dist_gram_trace(const tdl_dist_gram *g) { return g ? g->trace : NAN; }
double tdl_dist_gram_frobenius(const tdl_dist_gram *g) { return g ? g->frobenius : NAN; }
const char *tdl_dist_gram_driver(const tdl_dist_gram *g) { return g ? g->driver : ""; }

void tdl_dist_gram_free(tdl_dist_gram **g)
{
    if (!g || !*g) return;
    free((*g)->L);
    tdl_dist_grid_free(&(*g)->grid);
    free(*g);
    *g = NULL;
}

/* Rows of X at the global indices of local rows (side 0) or columns (1). */
static gsl_matrix *local_inputs(const tdl_dist_grid *g, const gsl_matrix *X, int side)
{
    int cnt = side ? g->lc : g->lr, p = side ? g->mycol : g->myrow, np = side ? g->npcol : g->nprow;
    gsl_matrix *Y = gsl_matrix_alloc((size_t)cnt, X->size2);
    if (!Y) return NULL;
    for (int l = 0; l < cnt; l++) {
        gsl_vector_const_view src = gsl_matrix_const_row(X, (size_t)tdl_dist_l2g(l, g->nb, p, np));
        gsl_vector_view dst = gsl_matrix_row(Y, (size_t)l);
        gsl_vector_memcpy(&dst.vector, &src.vector);
    }
    return Y;
}

/* The local share of K(X, X) into G->L (local status), written in place:
 * the share is column-major with lld = lr, which is the row-major lc x lr
 * matrix K(X_J, X_I) of the symmetric kernel, so each call fills it
 * directly (no second copy of the share). */
static int fill_local(const tdl_dist_kernel *k, const gsl_matrix *X, tdl_dist_gram *G)
{
    const tdl_dist_grid *g = &G->grid;
    if (g->lr <= 0 || g->lc <= 0) return TDL_OK;
    size_t rank = tdl_dist_rank(), lr = (size_t)g->lr, lc = (size_t)g->lc;
    int panels = k->kind != TDL_DIST_KERNEL_NTK_EMPIRICAL;
    size_t rows = panels ? (size_t)g->nb : lr;
    gsl_matrix *Xr = local_inputs(g, X, 0), *Xc = local_inputs(g, X, 1);
    int st = Xr && Xc ? TDL_OK : tdl_fail(TDL_ENOMEM, "rank %zu: out of memory for the local inputs", rank);
    /* one block row of nb rows at a time (contiguous global rows), or all */
    for (size_t r0 = 0; st == TDL_OK && r0 < lr; r0 += rows) {
        size_t nr = lr - r0 < rows ? lr - r0 : rows;
        gsl_matrix_const_view xr = gsl_matrix_const_submatrix(Xr, r0, 0, nr, X->size2);
        gsl_matrix_view kb = gsl_matrix_view_array_with_tda(G->L + r0, lc, nr, lr);
        st = kernel_block(k, Xc, &xr.matrix, &kb.matrix);
    }
    if (Xr) gsl_matrix_free(Xr);
    if (Xc) gsl_matrix_free(Xc);
    return st;
}

int tdl_dist_gram_create(const tdl_dist_kernel *k, const gsl_matrix *X, tdl_dist_gram **out)
{
    *out = NULL;
    if (!tdl_dist_active())
        return tdl_fail(TDL_EINVAL, "the distributed Gram matrix runs under an MPI launcher (mpirun -np N tdl ...)");
    if (!k || !X || X->size1 == 0 || X->size2 == 0) return tdl_fail(TDL_EINVAL, "the distributed Gram matrix: no inputs");
    if (k->kind == TDL_DIST_KERNEL_NTK_EMPIRICAL && k->ntk && k->ntk->full)
        return tdl_fail(TDL_EINVAL, "the distributed Gram matrix takes the traced empirical NTK (full = 0)");
    size_t n = X->size1, rank = tdl_dist_rank();
    tdl_dist_gram *G = tdl_calloc(1, sizeof *G, "the distributed Gram matrix");
    int st = G ? TDL_OK : TDL_ENOMEM;
    if ((st = tdl_dist_agree(st)) != TDL_OK) return st;
    G->n = n;
    G->grid.ctxt = -1;
    G->grid.colcomm = MPI_COMM_NULL;
    if ((st = tdl_dist_agree(tdl_dist_grid_make(n, 0, &G->grid))) != TDL_OK) goto fail;
    {
        /* kept: the share; the solves take a second one while they run */
        char what[96], detail[128];
        snprintf(what, sizeof what, "rank %zu's share of the %zu x %zu Gram matrix", rank, n, n);
        snprintf(detail, sizeof detail, "%d x %d local doubles x 2", G->grid.lr, G->grid.lc);
        st = tdl_memory_require_detail(tdl_dist_local_count(&G->grid) * 2, sizeof(double), 0, what, detail);
    }
    if (st == TDL_OK) {
        G->L = tdl_malloc(tdl_dist_local_count(&G->grid) * sizeof(double), "the local blocks of the Gram matrix");
        if (!G->L) st = TDL_ENOMEM;
    }
    if (st == TDL_OK) st = fill_local(k, X, G);
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto fail;
    {
        const tdl_dist_grid *g = &G->grid;
        double s[2] = {0, 0}, mx = 0;
        for (int lj = 0; lj < g->lc; lj++) {
            int j = tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
            for (int li = 0; li < g->lr; li++) {
                double v = G->L[(size_t)lj * (size_t)g->lr + (size_t)li];
                s[1] += v * v;
                if (tdl_dist_l2g(li, g->nb, g->myrow, g->nprow) == j) {
                    s[0] += v;
                    mx = fmax(mx, v);
                }
            }
        }
        st = tdl_dist_allreduce_sum(s, 2);
        if (st == TDL_OK)
            st = tdl_dist_mpi_status(MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
        if ((st = tdl_dist_agree(st)) != TDL_OK) goto fail;
        G->trace = s[0];
        G->frobenius = sqrt(s[1]);
        G->max_diag = mx;
    }
    *out = G;
    return TDL_OK;
fail:
    tdl_dist_gram_free(&G);
    return st;
}

/* A copy of the share with ridge added on the diagonal (local status). */
static double *shifted_copy(const tdl_dist_gram *G, double ridge, const char *what)
{
    const tdl_dist_grid *g = &G->grid;
    double *W = tdl_malloc(tdl_dist_local_count(g) * sizeof(double), what);
    if (!W) return NULL;
    memcpy(W, G->L, tdl_dist_local_count(g) * sizeof(double));
    for (int lj = 0; lj < g->lc; lj++)
        for (int li = 0; li < g->lr; li++)
            if (tdl_dist_l2g(li, g->nb, g->myrow, g->nprow) == tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol))
                W[(size_t)lj * (size_t)g->lr + (size_t)li] += ridge;
    return W;
}

int tdl_dist_gram_eigenvalues(tdl_dist_gram *G, size_t lo, size_t hi, tdl_dist_solver solver, double *values)
{
    size_t n = G->n;
    if (hi == SIZE_MAX) hi = n - 1;
    if (lo > hi || hi >= n) return tdl_fail(TDL_EINVAL, "eigenvalue indices %zu..%zu outside 0..%zu", lo, hi, n - 1);
    double *W = shifted_copy(G, 0.0, "a copy of the Gram matrix for the eigen-solver");
    int st = tdl_dist_agree(W ? TDL_OK : TDL_ENOMEM), zc;
    if (st == TDL_OK) {
        solver = tdl_dist_fit_solver(tdl_dist_choose_solver(solver), &G->grid);
        st = tdl_dist_solve(&G->grid, solver, W, lo, hi, NULL, values, &zc);
        if (st == TDL_OK)
            snprintf(G->driver, sizeof G->driver, "%s, %d x %d BLACS grid of %zu MPI ranks, blocks of %d",
                     tdl_dist_solver_name(solver), G->grid.nprow, G->grid.npcol, tdl_dist_size(), G->grid.nb);
    }
    free(W);
    return st;
}

/* The n x k row-major B as a local array of the n x k block-cyclic matrix
 * of descriptor desc (local rows lr, lld lr, local columns *lcb). */
static double *distribute_columns(const tdl_dist_grid *g, const double *B, size_t k, int *desc, int *lcb)
{
    int zero = 0, info = 0, ki = (int)k, lld = g->lr > 1 ? g->lr : 1;
    *lcb = numroc_(&ki, &g->nb, &g->mycol, &zero, &g->npcol);
    descinit_(desc, &g->n, &ki, &g->nb, &g->nb, &zero, &zero, &g->ctxt, &lld, &info);
    if (info != 0) {
        tdl_fail(TDL_EINVAL, "ScaLAPACK descinit rejected argument %d (a bug in libtdl)", -info);
        return NULL;
    }
    double *D = tdl_calloc((size_t)lld * (size_t)(*lcb > 0 ? *lcb : 1), sizeof(double), "the local columns");
    if (!D) return NULL;
    for (int lj = 0; lj < *lcb; lj++)
        for (int li = 0; li < g->lr; li++)
            D[(size_t)lj * (size_t)lld + (size_t)li] =
                B[(size_t)tdl_dist_l2g(li, g->nb, g->myrow, g->nprow) * k + (size_t)tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol)];
    return D;
}

/* The distributed n x k D back to row-major on every rank (agreed). */
static int collect_columns(const tdl_dist_grid *g, const double *D, size_t k, int lcb, double *out)
{
    size_t lld = (size_t)(g->lr > 1 ? g->lr : 1);
    memset(out, 0, (size_t)g->n * k * sizeof(double));
    for (int lj = 0; lj < lcb; lj++)
        for (int li = 0; li < g->lr; li++)
            out[(size_t)tdl_dist_l2g(li, g->nb, g->myrow, g->nprow) * k + (size_t)tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol)] =
                D[(size_t)lj * lld + (size_t)li];
    return tdl_dist_agree(tdl_dist_allreduce_sum(out, (size_t)g->n * k));
}

int tdl_dist_gram_solve(const tdl_dist_gram *G, double ridge, const double *B, size_t k, double *alpha)
{
    if (!(ridge >= 0) || !isfinite(ridge) || k == 0 || k > INT_MAX)
        return tdl_fail(TDL_EINVAL, "kernel regression: ridge %g, %zu targets", ridge, k);
    const tdl_dist_grid *g = &G->grid;
    size_t n = G->n, rank = tdl_dist_rank();
    int one = 1, info = 0, ki = (int)k, descb[9], lcb = 0;
    char what[96];
    snprintf(what, sizeof what, "rank %zu's copy of the Gram matrix for the Cholesky factor", rank);
    double *W = NULL, *D = NULL;
    int st = tdl_memory_require(tdl_dist_local_count(g), sizeof(double), 2 * n * k * sizeof(double), what);
    if (st == TDL_OK && (W = shifted_copy(G, ridge, what)) == NULL) st = TDL_ENOMEM;
    if (st == TDL_OK && (D = distribute_columns(g, B, k, descb, &lcb)) == NULL) st = TDL_ENOMEM;
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
    pdpotrf_("L", &g->n, W, &one, &one, g->desc, &info);
    if (info < 0) st = tdl_fail(TDL_EINVAL, "pdpotrf rejected argument %d (a bug in libtdl)", -info);
    {
        /* the single-process test (kernel_regression.c): a pivot L_ii^2 at or
         * below n eps max_i (K_ii + ridge) is a failure too; the first
         * failing index over the ranks */
        int first = info > 0 ? info : INT_MAX;
        double tau = (double)n * DBL_EPSILON * (G->max_diag + ridge);
        for (int lj = 0; info == 0 && lj < g->lc; lj++)
            for (int li = 0; li < g->lr; li++) {
                int i = tdl_dist_l2g(li, g->nb, g->myrow, g->nprow);
                double v = W[(size_t)lj * (size_t)g->lr + (size_t)li];
                if (i == tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol) && v * v <= tau && i + 1 < first) first = i + 1;
            }
        if (st == TDL_OK)
            st = tdl_dist_mpi_status(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
        if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
        if (first != INT_MAX) {
            /* lambda_min of K for the message, as the single-process solver gives it */
            free(W);
            W = NULL;
            double lmin = NAN;
            if (tdl_dist_gram_eigenvalues((tdl_dist_gram *)G, 0, 0, TDL_DIST_SOLVER_AUTO, &lmin) != TDL_OK) lmin = NAN;
            double mean_diag = G->trace / (double)n, suggest = fmax(-lmin, 0) + 1e-8 * fabs(mean_diag);
            st = tdl_dist_agree(tdl_fail(TDL_ENOTPD,
                                         "the %zu x %zu kernel matrix plus ridge %.3g is not positive definite (lambda_min = %.6g): add a diagonal regularizer of at least %.3g (= %.3g x the mean diagonal)",
                                         n, n, ridge, lmin, suggest, mean_diag > 0 ? suggest / mean_diag : NAN));
            goto done;
        }
    }
    pdpotrs_("L", &g->n, &ki, W, &one, &one, g->desc, D, &one, &one, descb, &info);
    st = info ? tdl_fail(TDL_EINVAL, "pdpotrs rejected argument %d (a bug in libtdl)", -info) : TDL_OK;
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
    st = collect_columns(g, D, k, lcb, alpha);
done:
    free(W);
    free(D);
    return st;
}

int tdl_dist_gram_flow(const tdl_dist_gram *G, double ridge, double c, const double *B, size_t k, double *decay,
                       double *coef)
{
    if (!(ridge >= 0) || !isfinite(ridge) || !(c >= 0) || !isfinite(c) || k == 0 || k > INT_MAX)
        return tdl_fail(TDL_EINVAL, "kernel flow: ridge %g, time %g, %zu targets", ridge, c, k);
    const tdl_dist_grid *g = &G->grid;
    size_t n = G->n, rank = tdl_dist_rank();
    int one = 1, ki = (int)k, descb[9], lcb = 0, zc = 0;
    double zero_d = 0.0, one_d = 1.0;
    char what[96];
    snprintf(what, sizeof what, "rank %zu's eigenvectors of the Gram matrix", rank);
    double *W = NULL, *Z = NULL, *D = NULL, *U = NULL, *S = NULL, *F = NULL, *w = NULL;
    int st = tdl_memory_require(tdl_dist_local_count(g) * 2, sizeof(double), 5 * n * k * sizeof(double), what);
    if (st == TDL_OK) {
        W = shifted_copy(G, ridge, what);
        Z = tdl_malloc(tdl_dist_local_count(g) * sizeof(double), what);
        w = tdl_malloc(n * sizeof(double), "eigenvalues");
        D = distribute_columns(g, B, k, descb, &lcb);
        size_t cells = (size_t)(g->lr > 1 ? g->lr : 1) * (size_t)(lcb > 0 ? lcb : 1);
        U = tdl_calloc(cells, sizeof(double), "V^T B");
        S = tdl_calloc(cells, sizeof(double), "the filtered coefficients");
        F = tdl_calloc(cells, sizeof(double), "the filtered columns");
        if (!W || !Z || !w || !D || !U || !S || !F) st = TDL_ENOMEM;
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
    tdl_dist_solver solver = tdl_dist_fit_solver(tdl_dist_choose_solver(TDL_DIST_SOLVER_AUTO), g);
    if ((st = tdl_dist_solve(g, solver, W, 0, n - 1, Z, w, &zc)) != TDL_OK) goto done;
    int zj = zc + 1;
    /* U = V^T B */
    pdgemm_("T", "N", &g->n, &ki, &g->n, &one_d, Z, &one, &zj, g->desc, D, &one, &one, descb, &zero_d, U, &one, &one, descb);
    for (int pass = 0; pass < 2; pass++) {
        double *dst = pass ? coef : decay;
        if (!dst) continue;
        /* S = g(Lambda) U: local row li of U is eigen-index l2g(li) */
        size_t lld = (size_t)(g->lr > 1 ? g->lr : 1);
        for (int lj = 0; lj < lcb; lj++)
            for (int li = 0; li < g->lr; li++) {
                double lam = w[tdl_dist_l2g(li, g->nb, g->myrow, g->nprow)];
                double f = pass ? (lam > 0 ? expm1(-c * lam) / lam : -c) : exp(-c * lam);
                S[(size_t)lj * lld + (size_t)li] = f * U[(size_t)lj * lld + (size_t)li];
            }
        pdgemm_("N", "N", &g->n, &ki, &g->n, &one_d, Z, &one, &zj, g->desc, S, &one, &one, descb, &zero_d, F, &one, &one, descb);
        if ((st = collect_columns(g, F, k, lcb, dst)) != TDL_OK) goto done;
    }
done:
    free(W);
    free(Z);
    free(D);
    free(U);
    free(S);
    free(F);
    free(w);
    return st;
}

#endif
