/* tdl/dist.h — the same computations on several processes: MPI (OpenMPI),
 * ScaLAPACK and ELPA, when libtdl was built with them (issue 20).
 *
 * Processes.  A program started by `mpirun -np N` (or any launcher that
 *   sets OpenMPI's OMPI_COMM_WORLD_SIZE, or PMIX_RANK / PMI_RANK) calls
 *   tdl_dist_init once, early, on every rank; the ranks then run the same
 *   code, and the functions below that say "collective" must be called by
 *   every rank in the same order with the same arguments.  Started without
 *   a launcher, tdl_dist_init does not initialize MPI at all (no singleton
 *   MPI process, no daemon): rank 0 of 1, and every collective is a no-op
 *   or the single-process computation, so a program runs exactly as it
 *   would without MPI.
 *
 * Errors.  A rank that fails does not abort the others: the collective
 *   functions agree on a status at checkpoints (tdl_dist_agree): when any
 *   rank failed, every rank returns the status of the lowest failing rank
 *   with that rank's message (tdl_errmsg), so that rank 0 can print one
 *   message and every rank exits non-zero; nothing waits for a rank that
 *   has given up.  The memory guard (tdl/memory.h) is per rank: each rank
 *   checks its own share (its local blocks) before allocating.
 *
 * Without MPI at build time (tdl_dist_built() == 0): tdl_dist_init finds
 *   one process and does nothing, except under a launcher with more than
 *   one rank, where it fails ("tdl was built without MPI ..."), as does
 *   every distributed solver; nothing pretends to be distributed.
 *
 * Layout.  Dense P x P matrices are stored 2D block-cyclic over a BLACS
 *   process grid of p_r x p_c ranks (p_r <= p_c, p_r p_c = N, as square as
 *   N allows), blocks of nb x nb (ScaLAPACK Users' Guide, ch. 4): rank
 *   (r, c) holds the blocks (I, J) with I mod p_r = r, J mod p_c = c, about
 *   P^2 / N doubles.  Eigenvalues come from ELPA's two-stage solver (Marek
 *   et al., J. Phys.: Condens. Matter 26, 213201, 2014) or ScaLAPACK's MRRR
 *   pdsyevr (Vomel, ScaLAPACK's MRRR algorithm, ACM TOMS 37(1), 2010), both
 *   backward stable like LAPACK's drivers: the error bound of tdl/linalg.h
 *   (dim eps ||A||_2) applies. */
#ifndef TDL_DIST_H
#define TDL_DIST_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/net.h"
#include "tdl/linalg.h"
#include "tdl/ntk_empirical.h"
#include "tdl/landscape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when libtdl was built with MPI, ScaLAPACK and ELPA; else 0. */
TDL_API int tdl_dist_built(void);

/* Initialize MPI when started by a launcher (see above); otherwise nothing.
 * Idempotent.  Registers MPI_Finalize with atexit.  TDL_EINVAL under a
 * launcher with N > 1 in a build without MPI; TDL_EIO when MPI_Init fails. */
TDL_API int tdl_dist_init(void);
/* 1 when MPI was initialized by tdl_dist_init (under a launcher, N >= 1). */
TDL_API int tdl_dist_active(void);
/* This process's rank (0 without MPI) and the number of ranks (1). */
TDL_API size_t tdl_dist_rank(void);
TDL_API size_t tdl_dist_size(void);

/* Collective helpers (no-ops on one process).  Each returns TDL_OK or
 * TDL_EIO with the MPI error's text. */
TDL_API int tdl_dist_barrier(void);
/* x[0..n) summed over the ranks, in place, the same on every rank. */
TDL_API int tdl_dist_allreduce_sum(double *x, size_t n);
/* bytes of buf from rank root to every rank. */
TDL_API int tdl_dist_bcast(void *buf, size_t bytes, size_t root);

/* The checkpoint of the error rule above (collective): every rank passes
 * its local status; every rank returns the status of the lowest rank whose
 * status was not TDL_OK, with that rank's message set for tdl_errmsg()
 * (prefixed "rank R of N: " when it came from another rank than 0 and not
 * every rank failed alike), or TDL_OK when all succeeded. */
TDL_API int tdl_dist_agree(int status);

/* 1 when the last tdl_dist_agree returned a failure (every rank knows it);
 * 0 after a successful one, and without MPI.  Programs use it at exit: a
 * failure that was not agreed is this rank's alone, and the other ranks may
 * be waiting for it (dist_cli.c then ends the job). */
TDL_API int tdl_dist_failure_agreed(void);

/* Whether every rank calls this within `seconds` of each other: a
 * non-blocking barrier on a communicator of its own (so that it cannot be
 * matched with a collective some other rank is blocked in), polled until
 * it completes (1) or the time is up (0).  For the exit path of programs:
 * 1 means no rank is left waiting in a collective.  1 without MPI. */
TDL_API int tdl_dist_all_reach(double seconds);

/* ---- the exact Hessian on several processes -------------------------------
 *
 * Which eigen-solver (the CLI reports it as the driver):
 *   TDL_DIST_SOLVER_AUTO       ELPA two-stage (faster on this machine:
 *                              bench/bench_mpi.sh)
 *   TDL_DIST_SOLVER_ELPA       ELPA 2-stage (elpa_eigenvalues / _eigenvectors)
 *   TDL_DIST_SOLVER_SCALAPACK  ScaLAPACK pdsyevr (MRRR, index range)
 * The environment variable TDL_DIST_SOLVER=elpa|scalapack overrides AUTO.
 * A matrix with fewer than nb p_c rows (too small to give every process
 * column a block, which ELPA needs) goes to pdsyevr. */
typedef enum tdl_dist_solver {
    TDL_DIST_SOLVER_AUTO, TDL_DIST_SOLVER_ELPA, TDL_DIST_SOLVER_SCALAPACK
} tdl_dist_solver;

typedef struct tdl_dist_hessian_config {
    size_t off, len;      /* the block of theta [off, off + len) (0, P: all) */
    int gauss_newton;     /* also G and R = H - G (their eigenvalues) */
    size_t lo, hi;        /* eigenvalue indices lo..hi (ascending, 0-based) */
    int want_vectors;     /* eigenvectors of H for lo..hi (gathered on rank 0) */
    tdl_dist_solver solver;
    size_t block;         /* nb; 0: 64, smaller when P is small against the grid */
} tdl_dist_hessian_config;

/* off = 0, len = 0 (meaning P), no G, lo = 0, hi = SIZE_MAX (meaning
 * len - 1), no vectors, AUTO, block 0. */
TDL_API void tdl_dist_hessian_config_default(tdl_dist_hessian_config *cfg);

typedef struct tdl_dist_hessian_result {
    tdl_sym_eigen h;      /* eigenvalues of H (every rank); vectors, count x
                             len rows, on rank 0 only; h.driver as below */
    tdl_sym_eigen g, r;   /* with gauss_newton: eigenvalues of G and of
                             R = H - G for the same indices (no vectors);
                             norm and error_bound as tdl_sym_eigen_solve's,
                             ||A||_F (||H||_F + ||G||_F for R) for a range */
    double *residuals;    /* with vectors, rank 0: ||H v_j - lambda_j v_j||_2 */
    double trace, gn_trace;   /* trace(H), trace(G) (NAN without G) */
    double frobenius;     /* ||H||_F */
    double gn_frobenius;  /* ||G||_F (NAN without G) */
    size_t grid_rows, grid_cols, block;
    size_t local_bytes;   /* the largest per-rank share of the matrices */
    double seconds_assembly, seconds_eigen;
    char driver[160];     /* "ELPA 2-stage, 1 x 2 BLACS grid of 2 MPI ranks, blocks of 64" */
} tdl_dist_hessian_result;

/* Collective.  The dense Hessian of the mean loss (tdl/hessian.h: the same
 * matrix as tdl_hessian_dense) assembled in the block-cyclic layout: each
 * rank computes the columns of its process column by exact Hessian-vector
 * products (tdl_hessian_operator_apply of e_j; the ranks of one process
 * column share them out and exchange them), keeps its rows, symmetrizes,
 * and the chosen solver gives the eigenvalues lo..hi (and the vectors on
 * request).  The memory guard applies per rank to its local share (1 to 4
 * local matrices: H, G, a copy for R or the residuals, the vectors).
 * Every rank gets the same values.  Errors (agreed over the ranks):
 * TDL_EINVAL (range, block), TDL_ETOOBIG (this rank's share does not fit:
 * "rank R: ..."), TDL_ENOMEM, TDL_ENOCONV (the solver failed), TDL_EIO. */
TDL_API int tdl_dist_hessian_exact(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                   const tdl_dist_hessian_config *cfg, tdl_dist_hessian_result *out);
/* NULL-safe, idempotent. */
TDL_API void tdl_dist_hessian_result_free(tdl_dist_hessian_result *r);

/* Collective.  Eigenvalues lo..hi (0-based, ascending; hi = SIZE_MAX:
 * n - 1) of the traced empirical NTK Gram matrix Theta(X, X) of the n rows
 * of X (tdl_ntk_empirical, tdl/ntk_empirical.h, with o; o->full must be 0),
 * X the same on every rank.  The n x n matrix is block-cyclic: rank (r, c)
 * computes Theta(X_I, X_J) for all its row blocks I and column blocks J in
 * one call of tdl_ntk_empirical (about n^2 / N entries; the memory guard
 * applies to them per rank); then the solver of `solver` (AUTO: ELPA).
 * values: hi - lo + 1 doubles, the same on every rank; driver (may be
 * NULL): DRIVER_LEN bytes for a description as in tdl_dist_hessian_result.
 * TDL_EINVAL (range, full kernel, no launcher), TDL_ETOOBIG, TDL_ENOMEM,
 * TDL_ENOCONV, TDL_EIO; agreed over the ranks. */
TDL_API int tdl_dist_ntk_eigenvalues(const tdl_mlp *m, const gsl_matrix *X, const tdl_ntk_config *o, size_t lo,
                                     size_t hi, tdl_dist_solver solver, double *values, char *driver,
                                     size_t driver_len);

/* Collective.  Kernel ridge regression with the traced empirical NTK:
 * alpha = (Theta(X, X) + ridge I)^-1 Y by ScaLAPACK's Cholesky (pdpotrf,
 * pdpotrs) on the block-cyclic Gram matrix (built as in
 * tdl_dist_ntk_eigenvalues), then the predictions Theta(Xt, X) alpha: each
 * rank takes its contiguous share of the training examples, the shares are
 * summed by an allreduce.  Y: n x k row-major targets, pred: nt x k
 * row-major, the same on every rank.  X, Y, Xt the same on every rank.
 * TDL_ENOTPD when Theta + ridge I is not numerically positive definite
 * (raise ridge), TDL_EINVAL (ridge < 0, k = 0, full kernel, no launcher),
 * TDL_ETOOBIG, TDL_ENOMEM, TDL_EIO; agreed over the ranks. */
TDL_API int tdl_dist_ntk_ridge_predict(const tdl_mlp *m, const gsl_matrix *X, const double *Y, size_t k,
                                       double ridge, const gsl_matrix *Xt, const tdl_ntk_config *o,
                                       double *pred);

/* Collective.  Eigenvalues (all, ascending) of a symmetric dim x dim matrix
 * given in full on every rank (row-major, both triangles), by the
 * distributed solver: each rank copies its blocks.  Under a launcher only
 * (mpirun -np 1 included: the single-node measurement of
 * bench/bench_mpi.sh); TDL_EINVAL otherwise.  values: dim doubles, the
 * same on every rank; *driver (may be NULL): a static string. */
TDL_API int tdl_dist_sym_eigenvalues(const double *A, size_t dim, tdl_dist_solver solver, double *values,
                                     const char **driver);

/* ---- data-parallel Hessian-vector products --------------------------------
 *
 * The Hessian (or G) of the mean loss over ds as a matrix-free operator whose
 * products are split over the ranks by examples: rank r holds the examples
 * [r n / N, (r + 1) n / N) (a copy), computes its share of H x with
 * tdl_hessian_operator_apply on them, scaled by n_r / n under the mean
 * reduction (1 under the sum reduction: tdl/net.h), and the shares are
 * summed by an allreduce, so every rank gets the same y = H x, equal to one
 * process's up to the order of the sums over examples.  Lanczos, SLQ and
 * Hutch++ (tdl/spectral.h) then run the same iteration on every rank (the
 * same seeds, the same products) with the per-product cost divided by N.
 * Without a launcher: one rank holding every example.  Collective: every
 * rank creates, applies (tdl_dist_hessian_operator_apply, a tdl_matvec_fn)
 * and frees in the same order.  A rank with no example (n < N) contributes
 * zeros. */
typedef struct tdl_dist_hessian_operator tdl_dist_hessian_operator;

/* TDL_EINVAL (loss and data do not fit the net), TDL_ENOMEM; agreed. */
TDL_API int tdl_dist_hessian_operator_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                             int gauss_newton, tdl_dist_hessian_operator **op);
/* As tdl_hessian_operator_set_block / _set_gauss_newton / _dim / _products. */
TDL_API int tdl_dist_hessian_operator_set_block(tdl_dist_hessian_operator *op, size_t off, size_t len);
TDL_API void tdl_dist_hessian_operator_set_gauss_newton(tdl_dist_hessian_operator *op, int gauss_newton);
TDL_API size_t tdl_dist_hessian_operator_dim(const tdl_dist_hessian_operator *op);
TDL_API size_t tdl_dist_hessian_operator_products(const tdl_dist_hessian_operator *op);
/* y = H x summed over the ranks (a tdl_matvec_fn; ctx: the operator). */
TDL_API int tdl_dist_hessian_operator_apply(const double *x, double *y, void *op);
TDL_API void tdl_dist_hessian_operator_free(tdl_dist_hessian_operator **op);

/* ---- landscape grids split over the ranks -----------------------------------
 *
 * Collective.  tdl_landscape_eval (tdl/landscape.h, same arguments and
 * contract) with the cells dealt round-robin: rank r evaluates the cells
 * c = r, r + N, ... that are to do, and a sum-allreduce of the results
 * (zero elsewhere; a NaN or infinite loss stays so) gives every rank every
 * evaluated cell, equal bit for bit to one process's (each cell is the same
 * computation).  Without a launcher: tdl_landscape_eval itself. */
TDL_API int tdl_dist_landscape_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t K,
                                    const double *const *basis, size_t ncells, const double *coef,
                                    const unsigned char *todo, size_t threads, double *loss_out, double *acc_out);

#ifdef __cplusplus
}
#endif
#endif
