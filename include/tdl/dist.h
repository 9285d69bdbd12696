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
#include "tdl/ntk.h"
#include "tdl/landscape.h"
#include "tdl/sweep.h"

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
 *   TDL_DIST_SOLVER_PDSYEVD    ScaLAPACK pdsyevd (divide and conquer; it has
 *                              no values-only mode: every eigenpair, always)
 * The environment variable TDL_DIST_SOLVER=elpa|scalapack|pdsyevd overrides
 * AUTO.
 * A matrix with fewer than nb p_c rows (too small to give every process
 * column a block, which ELPA needs) goes to pdsyevr. */
typedef enum tdl_dist_solver {
    TDL_DIST_SOLVER_AUTO, TDL_DIST_SOLVER_ELPA, TDL_DIST_SOLVER_SCALAPACK, TDL_DIST_SOLVER_PDSYEVD
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

/* ---- kernel Gram matrices on several processes ------------------------------
 *
 * The n x n Gram matrix K(X, X) of a kernel, block-cyclic on the BLACS grid
 * (rank (r, c) computes K(X_I, X_J) for its row blocks I and column blocks
 * J: about n^2 / N entries, the memory guard per rank), then its spectrum,
 * linear solves and the kernel-regime predictions of tdl/ntk.h with
 * ScaLAPACK and ELPA.  The kernels are those of tdl/ntk.h and
 * tdl/du_arora.h; every entry is the single-process function's value for
 * the pair (x_i, x_j), up to the rounding of its inner products. */
typedef enum tdl_dist_kernel_kind {
    TDL_DIST_KERNEL_NTK_EMPIRICAL,  /* the traced empirical NTK of net (tdl_ntk_empirical; ntk->full = 0) */
    TDL_DIST_KERNEL_NTK_ANALYTIC,   /* the infinite-width NTK (tdl_ntk_analytic, config analytic) */
    TDL_DIST_KERNEL_NNGP_ANALYTIC,  /* the infinite-width NNGP (tdl_ntk_analytic) */
    TDL_DIST_KERNEL_H_INF           /* Du et al.'s H_inf (tdl_ntk_h_inf), no net */
} tdl_dist_kernel_kind;

typedef struct tdl_dist_kernel {
    tdl_dist_kernel_kind kind;
    const tdl_mlp *net;                       /* NTK_EMPIRICAL */
    const tdl_ntk_config *ntk;                /* NTK_EMPIRICAL (NULL: tdl_ntk_config_default) */
    const tdl_ntk_analytic_config *analytic;  /* the analytic kinds */
} tdl_dist_kernel;

/* A Gram matrix distributed over the ranks (every rank holds its blocks). */
typedef struct tdl_dist_gram tdl_dist_gram;

/* Collective.  K(X, X) of kernel k, X (n x d) the same on every rank; its
 * trace and Frobenius norm are summed over the ranks.  Under a launcher only
 * (mpirun -np 1 included).  Memory: one local share (n^2 / N doubles) is
 * kept; the functions below take one more while they run (two for the
 * eigenvectors of tdl_dist_gram_flow).  TDL_EINVAL (no launcher, a full
 * empirical kernel, shapes), TDL_ETOOBIG (this rank's share: "rank R's share
 * of the 60000 x 60000 Gram matrix needs ..."), TDL_ENOMEM, the kernel's
 * errors (TDL_ENONFINITE ...); agreed over the ranks. */
TDL_API int tdl_dist_gram_create(const tdl_dist_kernel *k, const gsl_matrix *X, tdl_dist_gram **out);
TDL_API size_t tdl_dist_gram_dim(const tdl_dist_gram *g);
TDL_API double tdl_dist_gram_trace(const tdl_dist_gram *g);
TDL_API double tdl_dist_gram_frobenius(const tdl_dist_gram *g);
/* The grid and solver, e.g. "ELPA 2-stage, 1 x 2 BLACS grid of 2 MPI ranks,
 * blocks of 64", after tdl_dist_gram_eigenvalues ("" before). */
TDL_API const char *tdl_dist_gram_driver(const tdl_dist_gram *g);
TDL_API void tdl_dist_gram_free(tdl_dist_gram **g);

/* Collective.  Eigenvalues lo..hi (0-based, ascending; hi = SIZE_MAX:
 * n - 1) of K, on a copy, by `solver` (AUTO: ELPA): hi - lo + 1 doubles,
 * the same on every rank.  TDL_EINVAL (range), TDL_ETOOBIG, TDL_ENOMEM,
 * TDL_ENOCONV; agreed. */
TDL_API int tdl_dist_gram_eigenvalues(tdl_dist_gram *g, size_t lo, size_t hi, tdl_dist_solver solver, double *values);

/* Collective.  alpha = (K + ridge I)^-1 B by ScaLAPACK's Cholesky (pdpotrf,
 * pdpotrs) on a copy; B and alpha n x k row-major, B the same on every
 * rank, alpha returned on every rank.  The test of positive definiteness is
 * that of the single-process solvers (tdl/ntk.h: a pivot L_ii^2 at or below
 * n eps max_i (K_ii + ridge) fails): TDL_ENOTPD with lambda_min and the
 * ridge that would do (the single-process message without its prefix).  TDL_EINVAL
 * (ridge < 0, k = 0), TDL_ETOOBIG, TDL_ENOMEM; agreed. */
TDL_API int tdl_dist_gram_solve(const tdl_dist_gram *g, double ridge, const double *B, size_t k, double *alpha);

/* Collective.  Gradient flow on the squared loss in the kernel regime at time
 * c = eta t / norm (tdl_ntk_predict, tdl/ntk.h), from the eigenpairs
 * (V, Lambda) of K + ridge I (ELPA or pdsyevr with vectors):
 *   decay = V exp(-c Lambda) V^T B          (f_t - y on the training set when B = f_0 - y)
 *   coef  = V g(Lambda) V^T B, g(l) = expm1(-c l) / l (-c at l <= 0)
 *                                           (f*_t = f*_0 + K(X*, X) coef)
 * B, decay, coef: n x k row-major, the same on every rank (decay or coef may
 * be NULL).  TDL_EINVAL (c < 0 or not finite, ridge < 0), TDL_ETOOBIG,
 * TDL_ENOMEM, TDL_ENOCONV; agreed. */
TDL_API int tdl_dist_gram_flow(const tdl_dist_gram *g, double ridge, double c, const double *B, size_t k,
                               double *decay, double *coef);

/* Collective.  out = K(Xt, X) A (nt x k row-major), A (n x k row-major), X
 * and Xt the same on every rank: each rank takes its contiguous share of
 * the n training examples (K(Xt, X_r) A_r, nt x n / N kernel entries), the
 * shares are summed by an allreduce.  out the same on every rank.  Without
 * a launcher: the whole sum on one process.  TDL_EINVAL, TDL_ENOMEM, the
 * kernel's errors; agreed. */
TDL_API int tdl_dist_kernel_apply(const tdl_dist_kernel *k, const gsl_matrix *Xt, const gsl_matrix *X,
                                  const double *A, size_t kcols, double *out);

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

/* Collective.  tdl_curve_eval (tdl/landscape.h, same arguments and
 * contract) with its n points evaluated by tdl_dist_landscape_eval: the
 * same coefficients (tdl_curve_coef), every point the same computation as
 * on one process, so loss, accuracy and barrier are equal bit for bit to
 * tdl_curve_eval's, on every rank.  Without a launcher: tdl_curve_eval. */
TDL_API int tdl_dist_curve_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_curve_kind kind,
                                const double *w1, const double *bend, const double *w2, size_t n, size_t threads,
                                double *t, double *loss_out, double *acc_out, double *barrier);

/* ---- sweeps split over the ranks --------------------------------------------
 *
 * Collective.  tdl_sweep_run_all (tdl/sweep.h: same arguments, contract and
 * result) with the runs dealt round-robin: run i (value i / repeats, repeat
 * i % repeats) is trained on rank i mod N.  The runs go in rounds of N (runs
 * kN .. kN + N - 1, one a rank); after each round the ranks agree on the
 * status (an error in any run: every rank returns the lowest failing rank's,
 * tdl_dist_agree), each run's record and its measures are broadcast from the
 * rank that computed it, and every rank calls cfg->callback for the round's
 * runs in run order (a non-zero return on any rank stops the sweep with
 * TDL_EINTR on every rank).  Each run is the same deterministic computation
 * as on one process (its seeds depend on the repeat only), so every rank
 * ends with the whole result, equal to one process's except the timings
 * (run seconds: of the rank that ran it; result seconds: this rank's wall
 * time).  The round's ranks wait for its slowest run: values that differ
 * much in cost balance best with repeats a multiple of N.  Without a
 * launcher: tdl_sweep_run_all itself. */
TDL_API int tdl_dist_sweep_run_all(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                                   tdl_sweep_result *out);

#ifdef __cplusplus
}
#endif
#endif
