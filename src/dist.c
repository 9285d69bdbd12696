/* dist.c — processes (tdl/dist.h): MPI initialization under a launcher
 * only, rank and size, the collective helpers and the error checkpoint.
 * Built with or without MPI (src/dist/meson.build defines TDL_HAVE_MPI in
 * tdl_dist_config.h when OpenMPI, ScaLAPACK and ELPA are found). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "src/dist/tdl_dist_config.h"
#include "tdl/dist.h"
#include "dist_internal.h"
#include "internal.h"
#ifdef TDL_HAVE_MPI
#include <mpi.h>
#endif

/* The launcher's environment: OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE;
 * PMIx and PMI launchers (srun, hydra) set PMIX_RANK / PMI_RANK. */
static long launcher_size(void)
{
    const char *v = getenv("OMPI_COMM_WORLD_SIZE");
    if (!v) v = getenv("PMI_SIZE");
    if (v && *v) return strtol(v, NULL, 10);
    if (getenv("PMIX_RANK") || getenv("PMI_RANK")) return 1;
    return 0;
}

int tdl_dist_built(void)
{
#ifdef TDL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef TDL_HAVE_MPI
static int active, rank_, size_ = 1;
static MPI_Comm exit_comm = MPI_COMM_NULL; /* tdl_dist_all_reach's own */

static void finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

int tdl_dist_mpi_status(int rc, const char *what)
{
    if (rc == MPI_SUCCESS) return TDL_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return tdl_fail(TDL_EIO, "%s failed: %s", what, text);
}

int tdl_dist_init(void)
{
    if (active) return TDL_OK;
    if (launcher_size() <= 0) return TDL_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return tdl_fail(TDL_EIO, "MPI_Init failed (error %d)", rc);
        atexit(finalize);
    }
    /* errors come back as codes: the checkpoints turn them into messages */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm_dup(MPI_COMM_WORLD, &exit_comm);
    active = 1;
    return TDL_OK;
}

int tdl_dist_active(void) { return active; }
size_t tdl_dist_rank(void) { return (size_t)rank_; }
size_t tdl_dist_size(void) { return (size_t)size_; }

int tdl_dist_barrier(void)
{
    if (!active) return TDL_OK;
    return tdl_dist_mpi_status(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

int tdl_dist_allreduce_sum(double *x, size_t n)
{
    if (!active || size_ == 1) return TDL_OK;
    /* in chunks that fit MPI's int count */
    for (size_t i = 0; i < n; i += (size_t)1 << 28) {
        size_t c = n - i < ((size_t)1 << 28) ? n - i : (size_t)1 << 28;
        int st = tdl_dist_mpi_status(MPI_Allreduce(MPI_IN_PLACE, x + i, (int)c, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                                     "MPI_Allreduce");
        if (st != TDL_OK) return st;
    }
    return TDL_OK;
}

int tdl_dist_bcast(void *buf, size_t bytes, size_t root)
{
    if (!active || size_ == 1) return TDL_OK;
    char *p = buf;
    for (size_t i = 0; i < bytes; i += (size_t)1 << 30) {
        size_t c = bytes - i < ((size_t)1 << 30) ? bytes - i : (size_t)1 << 30;
        int st = tdl_dist_mpi_status(MPI_Bcast(p + i, (int)c, MPI_BYTE, (int)root, MPI_COMM_WORLD), "MPI_Bcast");
        if (st != TDL_OK) return st;
    }
    return TDL_OK;
}

int tdl_dist_all_reach(double seconds)
{
    if (!active || size_ == 1 || exit_comm == MPI_COMM_NULL) return 1;
    MPI_Request req;
    if (MPI_Ibarrier(exit_comm, &req) != MPI_SUCCESS) return 0;
    struct timespec t0, t, nap = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int done = 0;
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return 0;
        if (done) return 1;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > seconds) return 0;
        nanosleep(&nap, NULL);
    }
}

static int agreed_failure;

int tdl_dist_failure_agreed(void) { return agreed_failure; }

static int agree(int status);

int tdl_dist_agree(int status)
{
    int st = agree(status);
    agreed_failure = st != TDL_OK;
    return st;
}

static int agree(int status)
{
    if (!active || size_ == 1) return status;
    /* the lowest failing rank (size_ when none), and how many failed */
    int mine[2] = {status != TDL_OK ? rank_ : size_, status != TDL_OK}, low[2];
    int rc = MPI_Allreduce(&mine[0], &low[0], 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS) rc = MPI_Allreduce(&mine[1], &low[1], 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return tdl_dist_mpi_status(rc, "MPI_Allreduce (the error checkpoint)");
    if (low[0] == size_) return TDL_OK;
    struct { int status; char text[1000]; } msg = {status, ""};
    if (rank_ == low[0]) snprintf(msg.text, sizeof msg.text, "%s", tdl_errmsg());
    rc = MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, low[0], MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return tdl_dist_mpi_status(rc, "MPI_Bcast (the error checkpoint)");
    if (low[0] != 0 && low[1] < size_)
        return tdl_fail(msg.status, "rank %d of %d: %s", low[0], size_, msg.text);
    return tdl_fail(msg.status, "%s", msg.text);
}

#else /* no MPI at build time */

int tdl_dist_init(void)
{
    long n = launcher_size();
    if (n > 1)
        return tdl_fail(TDL_EINVAL, "started by an MPI launcher with %ld processes, but tdl was built without MPI "
                                    "(install libopenmpi-dev, libscalapack-openmpi-dev and libelpa-dev, then rebuild)",
                        n);
    return TDL_OK;
}
int tdl_dist_active(void) { return 0; }
size_t tdl_dist_rank(void) { return 0; }
size_t tdl_dist_size(void) { return 1; }
int tdl_dist_barrier(void) { return TDL_OK; }
int tdl_dist_allreduce_sum(double *x, size_t n) { (void)x; (void)n; return TDL_OK; }
int tdl_dist_bcast(void *buf, size_t bytes, size_t root) { (void)buf; (void)bytes; (void)root; return TDL_OK; }
int tdl_dist_agree(int status) { return status; }
int tdl_dist_failure_agreed(void) { return 0; }
int tdl_dist_all_reach(double seconds) { (void)seconds; return 1; }

#endif
