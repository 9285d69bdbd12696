/* dist_internal.h — what dist.c shares with dist_eigen.c; not installed. */
#ifndef TDL_DIST_INTERNAL_H
#define TDL_DIST_INTERNAL_H

/* TDL_OK for MPI_SUCCESS; else TDL_EIO with "WHAT failed: MPI's text". */
int tdl_dist_mpi_status(int rc, const char *what);

#ifdef TDL_HAVE_MPI
#include <stddef.h>
#include <mpi.h>
#include "tdl/dist.h"

/* BLACS (C interface) and ScaLAPACK (Fortran), as libscalapack-openmpi
 * exports them; Debian ships no header. */
void Cblacs_get(int context, int request, int *value);
void Cblacs_gridinit(int *context, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int context);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
               const int *icsrc, const int *ictxt, const int *lld, int *info);
void pdtran_(const int *m, const int *n, const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, const double *beta, double *c, const int *ic, const int *jc, const int *descc);
void pdgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja, const int *desca,
             const double *b, const int *ib, const int *jb, const int *descb, const double *beta, double *c,
             const int *ic, const int *jc, const int *descc);
void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja, const int *desca, int *info);
void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia, const int *ja,
              const int *desca, double *b, const int *ib, const int *jb, const int *descb, int *info);
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz, double *work,
              const int *lwork, int *iwork, const int *liwork, int *info);
void pdsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *ia,
              const int *ja, const int *desca, const double *vl, const double *vu, const int *il, const int *iu,
              int *m, int *nz, double *w, double *z, const int *iz, const int *jz, const int *descz, double *work,
              const int *lwork, int *iwork, const int *liwork, int *info);

/* The BLACS grid of every rank, the descriptor and the local sizes of one
 * n x n matrix (ScaLAPACK's column-major local arrays, lld = lr). */
typedef struct tdl_dist_grid {
    int ctxt, nprow, npcol, myrow, mycol, n, nb, lr, lc, desc[9];
    MPI_Comm colcomm;     /* the ranks of my process column, by row */
} tdl_dist_grid;

/* Global index of local index l on process p of np (block-cyclic, source 0). */
static inline int tdl_dist_l2g(int l, int nb, int p, int np) { return (l / nb) * nb * np + p * nb + l % nb; }

/* p_r x p_c with p_r the largest divisor of N not above sqrt(N); blocks of
 * `block` (0: 64, halved until every process column has two blocks).
 * Local status (callers agree on it). */
int tdl_dist_grid_make(size_t dim, size_t block, tdl_dist_grid *g);
void tdl_dist_grid_free(tdl_dist_grid *g);
/* Doubles of one local array (at least 1). */
size_t tdl_dist_local_count(const tdl_dist_grid *g);
/* AUTO resolved (TDL_DIST_SOLVER, else ELPA); then ELPA replaced by pdsyevr
 * for a matrix too small for the grid. */
tdl_dist_solver tdl_dist_choose_solver(tdl_dist_solver s);
tdl_dist_solver tdl_dist_fit_solver(tdl_dist_solver s, const tdl_dist_grid *g);
const char *tdl_dist_solver_name(tdl_dist_solver s);
/* Collective.  Eigenvalues lo..hi (ascending) of the distributed symmetric
 * A (destroyed, lower triangle used) into w (hi - lo + 1, every rank); with Z
 * (a local array of the same layout) the eigenvectors: Z's global columns
 * *zcol0 .. *zcol0 + hi - lo.  Agreed status. */
int tdl_dist_solve(const tdl_dist_grid *g, tdl_dist_solver solver, double *A, size_t lo, size_t hi, double *Z,
                   double *w, int *zcol0);
#endif

#endif
