/* dist_eigen.c — the exact Hessian (and G) in ScaLAPACK's 2D block-cyclic
 * layout, and its spectrum by ELPA two-stage or ScaLAPACK pdsyevr / pdsyevd
 * (tdl/dist.h).
 *
 * The matrices: rank (r, c) of the p_r x p_c BLACS grid holds local arrays
 * in ScaLAPACK's column-major convention (lld = its local row count).
 * Assembly, nets of depth <= 2: each rank its own entries from the closed
 * forms (tdl_hessian_entries, BLAS-3).  Deeper nets: the global columns of
 * process column c are shared out among the p_r ranks of that column (local
 * column lj goes to row lj mod p_r in batches), each computes its columns
 * H e_j by one exact Hessian-vector product (tdl_hessian_operator_apply) and
 * the column's ranks exchange them (MPI_Allgather on the column
 * communicator); each keeps its rows.  Then (A + A^T) / 2 by pdtran, as
 * tdl_hessian_dense symmetrizes the HVP columns.  Without MPI at build time every entry point fails with "built
 * without MPI". */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "src/dist/tdl_dist_config.h"
#include "tdl/dist.h"
#include "tdl/hessian.h"
#include "dist_internal.h"
#include "internal.h"

void tdl_dist_hessian_config_default(tdl_dist_hessian_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->hi = SIZE_MAX;
    cfg->solver = TDL_DIST_SOLVER_AUTO;
}

void tdl_dist_hessian_result_free(tdl_dist_hessian_result *r)
{
    if (!r) return;
    tdl_sym_eigen_free(&r->h);
    tdl_sym_eigen_free(&r->g);
    tdl_sym_eigen_free(&r->r);
    free(r->residuals);
    memset(r, 0, sizeof *r);
}

#ifndef TDL_HAVE_MPI

int tdl_dist_hessian_exact(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                           const tdl_dist_hessian_config *cfg, tdl_dist_hessian_result *out)
{
    (void)m; (void)loss; (void)ds; (void)cfg;
    if (out) memset(out, 0, sizeof *out);
    return tdl_fail(TDL_EINVAL, "the distributed exact Hessian needs MPI, ScaLAPACK and ELPA, and tdl was built "
                                "without MPI (install libopenmpi-dev, libscalapack-openmpi-dev and libelpa-dev, then rebuild)");
}

int tdl_dist_sym_eigenvalues(const double *A, size_t dim, tdl_dist_solver solver, double *values, const char **driver)
{
    (void)A; (void)dim; (void)solver; (void)values;
    if (driver) *driver = NULL;
    return tdl_fail(TDL_EINVAL, "the distributed eigen-solver needs MPI, ScaLAPACK and ELPA, and tdl was built "
                                "without MPI (install libopenmpi-dev, libscalapack-openmpi-dev and libelpa-dev, then rebuild)");
}

#else

#include <limits.h>
#include <mpi.h>

/* ELPA's C API (libelpa 2022.11, <elpa/elpa.h>), declared here because its
 * header's variadic macros do not compile cleanly under -Wpedantic; the
 * values are those of elpa_constants.h and elpa_version.h. */
typedef struct elpa_struct *elpa_t;
enum { ELPA_OK = 0, ELPA_SOLVER_2STAGE = 2, ELPA_API_VERSION = 20221109 };
int elpa_init(int api_version);
elpa_t elpa_allocate(int *error);
void elpa_set_integer(elpa_t handle, const char *name, int value, int *error);
int elpa_setup(elpa_t handle);
void elpa_eigenvectors_double(elpa_t handle, double *a, double *ev, double *q, int *error);
void elpa_eigenvalues_double(elpa_t handle, double *a, double *ev, int *error);
void elpa_deallocate(elpa_t handle, int *error);
void elpa_uninit(int *error);


void tdl_dist_grid_free(tdl_dist_grid *g)
{
    if (g->colcomm != MPI_COMM_NULL) MPI_Comm_free(&g->colcomm);
    if (g->ctxt >= 0) Cblacs_gridexit(g->ctxt);
    g->ctxt = -1;
}

/* p_r x p_c with p_r the largest divisor of N not above sqrt(N); blocks of
 * nb (given, or 64 halved until every process column has two blocks). */
int tdl_dist_grid_make(size_t dim, size_t block, tdl_dist_grid *g)
{
    memset(g, 0, sizeof *g);
    g->ctxt = -1;
    g->colcomm = MPI_COMM_NULL;
    if (dim > (size_t)INT_MAX / 2) return tdl_fail(TDL_ETOOBIG, "a %zu x %zu matrix exceeds ScaLAPACK's int indices", dim, dim);
    int N = (int)tdl_dist_size(), rank = (int)tdl_dist_rank();
    int pr = 1;
    for (int d = 1; d * d <= N; d++)
        if (N % d == 0) pr = d;
    int pc = N / pr;
    int nb = block ? (int)(block < (size_t)INT_MAX ? block : (size_t)INT_MAX) : 64;
    if (!block)
        while (nb > 1 && ((int)dim + nb - 1) / nb < 2 * pc) nb /= 2;
    g->n = (int)dim;
    g->nb = nb;
    Cblacs_get(0, 0, &g->ctxt);
    Cblacs_gridinit(&g->ctxt, "C", pr, pc);
    Cblacs_gridinfo(g->ctxt, &g->nprow, &g->npcol, &g->myrow, &g->mycol);
    if (g->myrow < 0 || g->mycol < 0) { g->ctxt = -1; return tdl_fail(TDL_EIO, "BLACS: rank %d is not in the %d x %d grid", rank, pr, pc); }
    int zero = 0, info = 0;
    g->lr = numroc_(&g->n, &g->nb, &g->myrow, &zero, &g->nprow);
    g->lc = numroc_(&g->n, &g->nb, &g->mycol, &zero, &g->npcol);
    int lld = g->lr > 1 ? g->lr : 1;
    descinit_(g->desc, &g->n, &g->n, &g->nb, &g->nb, &zero, &zero, &g->ctxt, &lld, &info);
    if (info != 0) return tdl_fail(TDL_EINVAL, "ScaLAPACK descinit rejected argument %d (a bug in libtdl)", -info);
    return tdl_dist_mpi_status(MPI_Comm_split(MPI_COMM_WORLD, g->mycol, g->myrow, &g->colcomm), "MPI_Comm_split");
}

size_t tdl_dist_local_count(const tdl_dist_grid *g) { return (size_t)(g->lr > 0 ? g->lr : 1) * (size_t)(g->lc > 0 ? g->lc : 1); }

/* Assemble H (and G) of the block [off, off + len) into A (and B) from
 * Hessian-vector products (local status; the caller agrees on it). */
static int assemble(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t off, size_t len,
                    const tdl_dist_grid *g, double *A, double *B)
{
    enum { BATCH = 8 };
    tdl_hessian_operator *op = NULL;
    int st = tdl_hessian_operator_create(m, loss, ds, 0, &op);
    if (st == TDL_OK) st = tdl_hessian_operator_set_block(op, off, len);
    int two = B != NULL, pr = g->nprow;
    size_t col = len * (size_t)(1 + two);
    double *e = NULL, *send = NULL, *recv = NULL;
    if (st == TDL_OK) {
        e = tdl_calloc(len, sizeof(double), "a unit vector");
        send = tdl_calloc((size_t)BATCH * col, sizeof(double), "the Hessian columns of this rank");
        recv = tdl_malloc((size_t)pr * BATCH * col * sizeof(double), "the Hessian columns of a process column");
        if (!e || !send || !recv) st = TDL_ENOMEM;
    }
    /* agreed here, so that every rank runs the exchanges below or none */
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
    /* every rank of a process column runs the same number of exchanges */
    int batches = (g->lc + pr * BATCH - 1) / (pr * BATCH);
    for (int b = 0; b < batches; b++) {
        int base = b * pr * BATCH;
        for (int t = 0; t < BATCH && st == TDL_OK; t++) {
            int lj = base + g->myrow * BATCH + t;
            double *h = send + (size_t)t * col;
            if (lj >= g->lc) { memset(h, 0, col * sizeof(double)); continue; }
            size_t j = (size_t)tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
            e[j] = 1;
            tdl_hessian_operator_set_gauss_newton(op, 0);
            st = tdl_hessian_operator_apply(e, h, op);
            if (st == TDL_OK && two) {
                tdl_hessian_operator_set_gauss_newton(op, 1);
                st = tdl_hessian_operator_apply(e, h + len, op);
            }
            e[j] = 0;
        }
        /* a rank that failed still takes part in the exchange (with
         * whatever it has); the checkpoint after assembly reports it */
        int rc = MPI_Allgather(send, BATCH * (int)col, MPI_DOUBLE, recv, BATCH * (int)col, MPI_DOUBLE, g->colcomm);
        if (st == TDL_OK) st = tdl_dist_mpi_status(rc, "MPI_Allgather (the Hessian columns)");
        if (st != TDL_OK) continue;
        for (int r = 0; r < pr; r++)
            for (int t = 0; t < BATCH; t++) {
                int lj = base + r * BATCH + t;
                if (lj >= g->lc) continue;
                const double *h = recv + ((size_t)r * BATCH + (size_t)t) * col;
                for (int li = 0; li < g->lr; li++) {
                    size_t i = (size_t)tdl_dist_l2g(li, g->nb, g->myrow, g->nprow);
                    A[(size_t)lj * (size_t)g->lr + (size_t)li] = h[i];
                    if (two) B[(size_t)lj * (size_t)g->lr + (size_t)li] = h[len + i];
                }
            }
    }
done:
    free(e);
    free(send);
    free(recv);
    tdl_hessian_operator_free(&op);
    return st;
}

/* Assemble H (and G) of the block [off, off + len) into A (and B) from the
 * closed forms of a net of depth <= 2 (tdl_hessian_entries): this rank's
 * local rows and columns only, BLAS-3 (local status). */
static int assemble_closed(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t off,
                           const tdl_dist_grid *g, double *A, double *B)
{
    if (g->lr <= 0 || g->lc <= 0) return TDL_OK;
    size_t *rows = tdl_malloc((size_t)g->lr * sizeof(size_t), "the local row indices");
    size_t *cols = tdl_malloc((size_t)g->lc * sizeof(size_t), "the local column indices");
    int st = rows && cols ? TDL_OK : TDL_ENOMEM;
    if (st == TDL_OK) {
        for (int li = 0; li < g->lr; li++) rows[li] = off + (size_t)tdl_dist_l2g(li, g->nb, g->myrow, g->nprow);
        for (int lj = 0; lj < g->lc; lj++) cols[lj] = off + (size_t)tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
        st = tdl_hessian_entries(m, loss, ds, rows, (size_t)g->lr, cols, (size_t)g->lc, A, B, (size_t)g->lr);
    }
    free(rows);
    free(cols);
    return st;
}

/* dst = (src + src^T) / 2 (dst and src distinct, same layout). */
static void symmetrize(const tdl_dist_grid *g, const double *src, double *dst)
{
    int one = 1;
    double half = 0.5;
    memcpy(dst, src, tdl_dist_local_count(g) * sizeof(double));
    pdtran_(&g->n, &g->n, &half, src, &one, &one, g->desc, &half, dst, &one, &one, g->desc);
}

tdl_dist_solver tdl_dist_choose_solver(tdl_dist_solver s)
{
    if (s != TDL_DIST_SOLVER_AUTO) return s;
    const char *v = getenv("TDL_DIST_SOLVER");
    if (v && !strcmp(v, "scalapack")) return TDL_DIST_SOLVER_SCALAPACK;
    if (v && !strcmp(v, "elpa")) return TDL_DIST_SOLVER_ELPA;
    if (v && !strcmp(v, "pdsyevd")) return TDL_DIST_SOLVER_PDSYEVD;
    return TDL_DIST_SOLVER_ELPA;
}

/* Eigenvalues lo..hi of the distributed A (destroyed) into w (hi - lo + 1),
 * and with Z the eigenvectors: the global columns zcol0 .. zcol0 + count - 1
 * of Z hold them (*zcol0 returned).
 * Collective; the status is the same on every rank. */
int tdl_dist_solve(const tdl_dist_grid *g, tdl_dist_solver solver, double *A, size_t lo, size_t hi, double *Z, double *w,
                 int *zcol0)
{
    int n = g->n, one = 1, info = 0;
    int count = (int)(hi - lo + 1);
    if (solver == TDL_DIST_SOLVER_PDSYEVD) {
        /* divide and conquer: every eigenpair (pdsyevd has no values-only
         * mode), then lo..hi kept; Z is work space when not asked for */
        int lwork = -1, liwork = -1, iwq = 0, st = TDL_OK;
        double wq = 0;
        double *ev = tdl_malloc((size_t)n * sizeof(double), "eigenvalues");
        double *Zw = Z ? Z : tdl_malloc(tdl_dist_local_count(g) * sizeof(double), "pdsyevd's eigenvectors");
        if (!ev || !Zw) st = TDL_ENOMEM;
        if ((st = tdl_dist_agree(st)) == TDL_OK) {
            pdsyevd_("V", "L", &n, A, &one, &one, g->desc, ev, Zw, &one, &one, g->desc, &wq, &lwork, &iwq, &liwork, &info);
            lwork = (int)wq + 1;
            liwork = iwq + 1;
            double *work = tdl_malloc((size_t)lwork * sizeof(double), "pdsyevd's work space");
            int *iwork = tdl_malloc((size_t)liwork * sizeof(int), "pdsyevd's integer work space");
            st = tdl_dist_agree(work && iwork ? TDL_OK : TDL_ENOMEM);
            if (st == TDL_OK) {
                pdsyevd_("V", "L", &n, A, &one, &one, g->desc, ev, Zw, &one, &one, g->desc, work, &lwork, iwork, &liwork, &info);
                if (info != 0) st = tdl_fail(TDL_ENOCONV, "ScaLAPACK pdsyevd failed (info %d)", info);
                else memcpy(w, ev + lo, (size_t)count * sizeof(double));
                st = tdl_dist_agree(st);
            }
            free(work);
            free(iwork);
        }
        free(ev);
        if (!Z) free(Zw);
        *zcol0 = (int)lo;
        return st;
    }
    if (solver == TDL_DIST_SOLVER_SCALAPACK) {
        int il = (int)lo + 1, iu = (int)hi + 1, mfound = 0, nz = 0, lwork = -1, liwork = -1, iwq = 0;
        double vl = 0, vu = 0, wq = 0;
        const char *jobz = Z ? "V" : "N";
        double *ev = tdl_malloc((size_t)n * sizeof(double), "eigenvalues");
        if (!ev) return tdl_dist_agree(TDL_ENOMEM);
        pdsyevr_(jobz, "I", "L", &n, A, &one, &one, g->desc, &vl, &vu, &il, &iu, &mfound, &nz, ev, Z ? Z : A, &one, &one,
                 g->desc, &wq, &lwork, &iwq, &liwork, &info);
        lwork = (int)wq + 1;
        liwork = iwq + 1;
        double *work = tdl_malloc((size_t)lwork * sizeof(double), "pdsyevr's work space");
        int *iwork = tdl_malloc((size_t)liwork * sizeof(int), "pdsyevr's integer work space");
        int st = work && iwork ? TDL_OK : TDL_ENOMEM;
        if ((st = tdl_dist_agree(st)) == TDL_OK) {
            pdsyevr_(jobz, "I", "L", &n, A, &one, &one, g->desc, &vl, &vu, &il, &iu, &mfound, &nz, ev, Z ? Z : A, &one,
                     &one, g->desc, work, &lwork, iwork, &liwork, &info);
            if (info != 0 || mfound != count)
                st = tdl_fail(TDL_ENOCONV, "ScaLAPACK pdsyevr failed (info %d, %d of %d eigenvalues)", info, mfound, count);
            else
                memcpy(w, ev, (size_t)count * sizeof(double));
            st = tdl_dist_agree(st);
        }
        free(work);
        free(iwork);
        free(ev);
        *zcol0 = 0;
        return st;
    }
    /* ELPA: the nev = hi + 1 smallest pairs; keep lo..hi */
    int err = 0, st = TDL_OK;
    if (elpa_init(ELPA_API_VERSION) != ELPA_OK) return tdl_dist_agree(tdl_fail(TDL_EIO, "ELPA: elpa_init(%d) refused this API version", ELPA_API_VERSION));
    elpa_t h = elpa_allocate(&err);
    if (err != ELPA_OK) return tdl_dist_agree(tdl_fail(TDL_EIO, "ELPA: elpa_allocate failed (%d)", err));
    int nev = (int)hi + 1;
    double *ev = tdl_malloc((size_t)n * sizeof(double), "eigenvalues");
    if (!ev) st = TDL_ENOMEM;
    const struct { const char *name; int value; } set[] = {
        {"na", n}, {"nev", nev}, {"local_nrows", g->lr}, {"local_ncols", g->lc}, {"nblk", g->nb},
        {"mpi_comm_parent", (int)MPI_Comm_c2f(MPI_COMM_WORLD)}, {"process_row", g->myrow}, {"process_col", g->mycol},
        {"blacs_context", g->ctxt}};
    for (size_t i = 0; st == TDL_OK && i < sizeof set / sizeof set[0]; i++) {
        elpa_set_integer(h, set[i].name, set[i].value, &err);
        if (err != ELPA_OK) st = tdl_fail(TDL_EIO, "ELPA: setting %s = %d failed (%d)", set[i].name, set[i].value, err);
    }
    if (st == TDL_OK && elpa_setup(h) != ELPA_OK) st = tdl_fail(TDL_EIO, "ELPA: elpa_setup failed");
    if (st == TDL_OK) {
        elpa_set_integer(h, "solver", ELPA_SOLVER_2STAGE, &err);
        if (err != ELPA_OK) st = tdl_fail(TDL_EIO, "ELPA: the two-stage solver is not available (%d)", err);
    }
    st = tdl_dist_agree(st);
    if (st == TDL_OK) {
        if (Z) elpa_eigenvectors_double(h, A, ev, Z, &err);
        else elpa_eigenvalues_double(h, A, ev, &err);
        if (err != ELPA_OK) st = tdl_fail(TDL_ENOCONV, "ELPA 2-stage failed (error %d)", err);
        else memcpy(w, ev + lo, (size_t)count * sizeof(double));
        st = tdl_dist_agree(st);
    }
    elpa_deallocate(h, &err);
    elpa_uninit(&err);
    free(ev);
    *zcol0 = (int)lo;
    return st;
}

/* The columns zcol0 .. zcol0 + count - 1 of the distributed Z as count x n
 * rows on rank 0 (NULL elsewhere). */
static int gather_vectors(const tdl_dist_grid *g, const double *Z, int zcol0, int count, double **rows)
{
    int N = (int)tdl_dist_size(), rank = (int)tdl_dist_rank(), zero = 0;
    *rows = NULL;
    /* my entries in local order: local columns in range, all local rows */
    size_t mine = 0;
    for (int lj = 0; lj < g->lc; lj++) {
        int j = tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
        if (j >= zcol0 && j < zcol0 + count) mine += (size_t)g->lr;
    }
    int st = mine > INT_MAX ? tdl_fail(TDL_ETOOBIG, "rank %d: too many eigenvector entries for one message", rank) : TDL_OK;
    double *pack = tdl_malloc((mine ? mine : 1) * sizeof(double), "this rank's eigenvector entries");
    if (!pack && st == TDL_OK) st = TDL_ENOMEM;
    int *counts = NULL, *displs = NULL;
    double *all = NULL;
    if (rank == 0 && st == TDL_OK) {
        counts = tdl_calloc((size_t)N, sizeof(int), "counts");
        displs = tdl_calloc((size_t)N, sizeof(int), "offsets");
        size_t total = (size_t)count * (size_t)g->n;
        if (total > INT_MAX) st = tdl_fail(TDL_ETOOBIG, "%d eigenvectors of order %d exceed one MPI message", count, g->n);
        else if ((st = tdl_memory_require(2 * total, sizeof(double), 0, "the eigenvectors on rank 0")) == TDL_OK) {
            all = tdl_malloc(total * sizeof(double), "the gathered eigenvector entries");
            *rows = tdl_malloc(total * sizeof(double), "the eigenvectors");
            if (!counts || !displs || !all || !*rows) st = TDL_ENOMEM;
        }
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto done;
    size_t k = 0;
    for (int lj = 0; lj < g->lc; lj++) {
        int j = tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
        if (j < zcol0 || j >= zcol0 + count) continue;
        memcpy(pack + k, Z + (size_t)lj * (size_t)g->lr, (size_t)g->lr * sizeof(double));
        k += (size_t)g->lr;
    }
    int mi = (int)mine;
    int rc = MPI_Gather(&mi, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS && rank == 0)
        for (int q = 1; q < N; q++) displs[q] = displs[q - 1] + counts[q - 1];
    if (rc == MPI_SUCCESS) rc = MPI_Gatherv(pack, mi, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    st = tdl_dist_agree(tdl_dist_mpi_status(rc, "MPI_Gatherv (the eigenvectors)"));
    if (st != TDL_OK || rank != 0) goto done;
    /* rank q of the "C"-ordered grid is (q mod p_r, q / p_r) */
    for (int q = 0; q < N; q++) {
        int pr = q % g->nprow, pc = q / g->nprow;
        int lr = numroc_(&g->n, &g->nb, &pr, &zero, &g->nprow), lc = numroc_(&g->n, &g->nb, &pc, &zero, &g->npcol);
        const double *src = all + displs[q];
        for (int lj = 0; lj < lc; lj++) {
            int j = tdl_dist_l2g(lj, g->nb, pc, g->npcol);
            if (j < zcol0 || j >= zcol0 + count) continue;
            for (int li = 0; li < lr; li++) (*rows)[(size_t)(j - zcol0) * (size_t)g->n + (size_t)tdl_dist_l2g(li, g->nb, pr, g->nprow)] = src[li];
            src += lr;
        }
    }
done:
    if (st != TDL_OK) { free(*rows); *rows = NULL; }
    free(pack);
    free(counts);
    free(displs);
    free(all);
    return st;
}

/* res[j] = ||A z_j - w_j z_j|| for the columns zcol0.. of Z (every rank),
 * W: work space of A's layout. */
static int residuals(const tdl_dist_grid *g, const double *A, const double *Z, int zcol0, int count, const double *w,
                     double *W, double *res)
{
    int one = 1, jz = zcol0 + 1;
    double alpha = 1, beta = 0;
    pdgemm_("N", "N", &g->n, &count, &g->n, &alpha, A, &one, &one, g->desc, Z, &one, &jz, g->desc, &beta, W, &one,
            &jz, g->desc);
    memset(res, 0, (size_t)count * sizeof(double));
    for (int lj = 0; lj < g->lc; lj++) {
        int j = tdl_dist_l2g(lj, g->nb, g->mycol, g->npcol);
        if (j < zcol0 || j >= zcol0 + count) continue;
        double s = 0;
        for (int li = 0; li < g->lr; li++) {
            size_t at = (size_t)lj * (size_t)g->lr + (size_t)li;
            double d = W[at] - w[j - zcol0] * Z[at];
            s += d * d;
        }
        res[j - zcol0] = s;
    }
    int st = tdl_dist_allreduce_sum(res, (size_t)count);
    for (int j = 0; j < count; j++) res[j] = sqrt(res[j]);
    return tdl_dist_agree(st);
}

/* ELPA needs a block in every process row and column; a matrix too small
 * for the grid (fewer than nb p_c rows) goes to pdsyevr, which does not. */
tdl_dist_solver tdl_dist_fit_solver(tdl_dist_solver s, const tdl_dist_grid *g)
{
    if (s == TDL_DIST_SOLVER_ELPA && (g->n < g->nb * g->npcol || g->n < g->nb * g->nprow))
        return TDL_DIST_SOLVER_SCALAPACK;
    return s;
}

const char *tdl_dist_solver_name(tdl_dist_solver s)
{
    return s == TDL_DIST_SOLVER_SCALAPACK ? "ScaLAPACK pdsyevr" : s == TDL_DIST_SOLVER_PDSYEVD ? "ScaLAPACK pdsyevd" : "ELPA 2-stage";
}

int tdl_dist_hessian_exact(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                           const tdl_dist_hessian_config *cfg_in, tdl_dist_hessian_result *out)
{
    memset(out, 0, sizeof *out);
    tdl_dist_hessian_config cfg;
    if (cfg_in) cfg = *cfg_in;
    else tdl_dist_hessian_config_default(&cfg);
    if (!tdl_dist_active())
        return tdl_fail(TDL_EINVAL, "the distributed exact Hessian runs under an MPI launcher (mpirun -np N tdl ...)");
    size_t P = m->n_params, len = cfg.len ? cfg.len : P;
    if (cfg.off > P || len > P - cfg.off) return tdl_fail(TDL_EINVAL, "block [%zu, %zu) outside the %zu parameters", cfg.off, cfg.off + len, P);
    size_t hi = cfg.hi == SIZE_MAX ? len - 1 : cfg.hi;
    if (cfg.lo > hi || hi >= len) return tdl_fail(TDL_EINVAL, "eigenvalue indices %zu..%zu outside 0..%zu", cfg.lo, hi, len - 1);
    tdl_dist_solver solver = tdl_dist_choose_solver(cfg.solver);
    int rank = (int)tdl_dist_rank();
    tdl_dist_grid g;
    int st = tdl_dist_grid_make(len, cfg.block, &g);
    double *A = NULL, *B = NULL, *W = NULL, *Z = NULL, *gw = NULL;
    size_t count = hi - cfg.lo + 1;
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto cleanup;
    solver = tdl_dist_fit_solver(solver, &g);
    out->grid_rows = (size_t)g.nprow;
    out->grid_cols = (size_t)g.npcol;
    out->block = (size_t)g.nb;
    {
        /* per rank: H, W, and G or the vectors, both with --gn and vectors */
        size_t nmat = 2 + (size_t)(cfg.gauss_newton != 0) + (size_t)(cfg.want_vectors != 0), lc = tdl_dist_local_count(&g);
        char what[96];
        snprintf(what, sizeof what, "rank %d's share of the dense Hessian", rank);
        char detail[128];
        snprintf(detail, sizeof detail, "%d x %d local doubles x %zu, of %zu x %zu", g.lr, g.lc, nmat, len, len);
        st = tdl_memory_require_detail(lc * nmat, sizeof(double), 0, what, detail);
        double mx = (double)(lc * nmat * sizeof(double));
        MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        out->local_bytes = (size_t)mx;
        if (st == TDL_OK) {
            A = tdl_malloc(lc * sizeof(double), "the local blocks of H");
            W = tdl_malloc(lc * sizeof(double), "work space of the local blocks");
            if (cfg.gauss_newton) B = tdl_malloc(lc * sizeof(double), "the local blocks of G");
            if (cfg.want_vectors) Z = tdl_malloc(lc * sizeof(double), "the local blocks of the eigenvectors");
            if (!A || !W || (cfg.gauss_newton && !B) || (cfg.want_vectors && !Z)) st = TDL_ENOMEM;
        }
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) goto cleanup;
    double t0 = tdl_seconds_now();
    st = tdl_dist_agree(m->depth <= 2 ? assemble_closed(m, loss, ds, cfg.off, &g, A, B)
                                      : assemble(m, loss, ds, cfg.off, len, &g, A, B));
    if (st != TDL_OK) goto cleanup;
    symmetrize(&g, A, W); /* W = H */
    if (!B && !Z) { free(A); A = NULL; } /* not needed again: the solver gets its memory */
    if (B) {
        symmetrize(&g, B, A); /* A = G */
        for (size_t i = 0; i < tdl_dist_local_count(&g); i++) B[i] = W[i] - A[i]; /* B = R */
    }
    {
        /* trace(H), trace(G), ||H||_F^2, ||G||_F^2 */
        double s[4] = {0, 0, 0, 0};
        for (int lj = 0; lj < g.lc; lj++) {
            int j = tdl_dist_l2g(lj, g.nb, g.mycol, g.npcol);
            for (int li = 0; li < g.lr; li++) {
                size_t at = (size_t)lj * (size_t)g.lr + (size_t)li;
                s[2] += W[at] * W[at];
                if (B) s[3] += A[at] * A[at];
                if (tdl_dist_l2g(li, g.nb, g.myrow, g.nprow) == j) {
                    s[0] += W[at];
                    if (B) s[1] += A[at];
                }
            }
        }
        if ((st = tdl_dist_agree(tdl_dist_allreduce_sum(s, 4))) != TDL_OK) goto cleanup;
        out->trace = s[0];
        out->gn_trace = B ? s[1] : NAN;
        out->frobenius = sqrt(s[2]);
        out->gn_frobenius = B ? sqrt(s[3]) : NAN;
    }
    out->seconds_assembly = tdl_seconds_now() - t0;
    t0 = tdl_seconds_now();
    int zcol0 = 0;
    if (B) {
        out->g.values = tdl_malloc(count * sizeof(double), "eigenvalues of G");
        out->r.values = tdl_malloc(count * sizeof(double), "eigenvalues of R");
        st = out->g.values && out->r.values ? TDL_OK : TDL_ENOMEM;
        if ((st = tdl_dist_agree(st)) != TDL_OK) goto cleanup;
        if ((st = tdl_dist_solve(&g, solver, A, cfg.lo, hi, NULL, out->g.values, &zcol0)) != TDL_OK) goto cleanup;
        if ((st = tdl_dist_solve(&g, solver, B, cfg.lo, hi, NULL, out->r.values, &zcol0)) != TDL_OK) goto cleanup;
        out->g.dim = out->r.dim = len;
        out->g.count = out->r.count = count;
        out->g.driver = out->r.driver = tdl_dist_solver_name(solver);
    }
    out->h.values = tdl_malloc(count * sizeof(double), "eigenvalues of H");
    if ((st = tdl_dist_agree(out->h.values ? TDL_OK : TDL_ENOMEM)) != TDL_OK) goto cleanup;
    if (Z) {
        /* A: a copy of H for the residuals (G, if any, is solved) */
        memcpy(A, W, tdl_dist_local_count(&g) * sizeof(double));
        if (!B) B = tdl_malloc(tdl_dist_local_count(&g) * sizeof(double), "work space of the residuals");
        if ((st = tdl_dist_agree(B ? TDL_OK : TDL_ENOMEM)) != TDL_OK) goto cleanup;
    }
    if ((st = tdl_dist_solve(&g, solver, W, cfg.lo, hi, Z, out->h.values, &zcol0)) != TDL_OK) goto cleanup;
    out->h.dim = len;
    out->h.count = count;
    out->h.driver = tdl_dist_solver_name(solver);
    if (Z) {
        gw = tdl_malloc(count * sizeof(double), "residuals");
        if ((st = tdl_dist_agree(gw ? TDL_OK : TDL_ENOMEM)) != TDL_OK) goto cleanup;
        if ((st = residuals(&g, A, Z, zcol0, (int)count, out->h.values, B, gw)) != TDL_OK) goto cleanup;
        if ((st = gather_vectors(&g, Z, zcol0, (int)count, &out->h.vectors)) != TDL_OK) goto cleanup;
        if (rank == 0) { out->residuals = gw; gw = NULL; }
    }
    /* the bound of tdl/linalg.h with the norm max |lambda| (whole spectrum)
     * or ||H||_F (an index range) */
    out->h.norm = count == len ? fmax(fabs(out->h.values[0]), fabs(out->h.values[count - 1])) : out->frobenius;
    out->h.error_bound = tdl_sym_eigen_error_bound(out->h.norm, len);
    if (out->g.values) {
        /* ||R||_F <= ||H||_F + ||G||_F for an index range */
        out->g.norm = count == len ? fmax(fabs(out->g.values[0]), fabs(out->g.values[count - 1])) : out->gn_frobenius;
        out->r.norm = count == len ? fmax(fabs(out->r.values[0]), fabs(out->r.values[count - 1]))
                                   : out->frobenius + out->gn_frobenius;
        out->g.error_bound = tdl_sym_eigen_error_bound(out->g.norm, len);
        out->r.error_bound = tdl_sym_eigen_error_bound(out->r.norm, len);
    }
    out->seconds_eigen = tdl_seconds_now() - t0;
    snprintf(out->driver, sizeof out->driver, "%s, %d x %d BLACS grid of %zu MPI ranks, blocks of %d",
             tdl_dist_solver_name(solver), g.nprow, g.npcol, tdl_dist_size(), g.nb);
cleanup:
    free(A);
    free(B);
    free(W);
    free(Z);
    free(gw);
    tdl_dist_grid_free(&g);
    if (st != TDL_OK) {
        tdl_dist_hessian_result_free(out);
        memset(out, 0, sizeof *out);
    }
    return st;
}

int tdl_dist_sym_eigenvalues(const double *A, size_t dim, tdl_dist_solver solver, double *values, const char **driver)
{
    if (driver) *driver = NULL;
    if (!tdl_dist_active())
        return tdl_fail(TDL_EINVAL, "the distributed eigen-solver runs under an MPI launcher (mpirun -np N ...)");
    if (dim == 0) return tdl_fail(TDL_EINVAL, "an empty matrix");
    solver = tdl_dist_choose_solver(solver);
    tdl_dist_grid g;
    int st = tdl_dist_agree(tdl_dist_grid_make(dim, 0, &g));
    double *L = NULL;
    if (st == TDL_OK) {
        L = tdl_malloc(tdl_dist_local_count(&g) * sizeof(double), "the local blocks");
        st = tdl_dist_agree(L ? TDL_OK : TDL_ENOMEM);
    }
    if (st == TDL_OK) {
        for (int lj = 0; lj < g.lc; lj++) {
            size_t j = (size_t)tdl_dist_l2g(lj, g.nb, g.mycol, g.npcol);
            for (int li = 0; li < g.lr; li++)
                L[(size_t)lj * (size_t)g.lr + (size_t)li] = A[(size_t)tdl_dist_l2g(li, g.nb, g.myrow, g.nprow) * dim + j];
        }
        int zc;
        solver = tdl_dist_fit_solver(solver, &g);
        st = tdl_dist_solve(&g, solver, L, 0, dim - 1, NULL, values, &zc);
        if (st == TDL_OK && driver) *driver = tdl_dist_solver_name(solver);
    }
    free(L);
    tdl_dist_grid_free(&g);
    return st;
}

#endif
