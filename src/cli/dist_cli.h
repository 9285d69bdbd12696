/* dist_cli.h — the `tdl` command under an MPI launcher (issue 20; the
 * library side is tdl/dist.h). */
#ifndef TDL_DIST_CLI_H
#define TDL_DIST_CLI_H
#include "tdl/dist.h"

/* Start the ranks (tdl_dist_init).  Under `mpirun -np N` every rank runs
 * the command; ranks other than 0 send stdout and stderr to /dev/null and
 * write no file: rank 0 prints and writes for all, and the library's
 * checkpoints bring another rank's error to it (tdl_dist_agree).  Without a
 * launcher: nothing (one process, as always).  0, or EXIT_WORK_FAILED with
 * the message printed (a launcher with N > 1 and a build without MPI). */
int cli_dist_begin(void);
/* 1 under a launcher (MPI initialized); 0 otherwise. */
int cli_dist_active(void);
/* 1 on rank 0 (and without MPI): the rank that prints and writes files. */
int cli_dist_root(void);
/* The exit rule under mpirun, in two calls every command with a
 * distributed path makes (both return rc unchanged without MPI):
 *   cli_dist_ready(0) just before the distributed work: the ranks agree that
 *     every one of them has loaded its data and options; a rank that failed
 *     earlier calls it from its exit path (cli_dist_end does), so nobody
 *     waits.  Returns 0, or EXIT_WORK_FAILED when another rank failed (rank
 *     0 prints that rank's message) or the rank's own rc.  Once per process.
 *   rc = cli_dist_end(rc) at the exit: runs cli_dist_ready(rc) if this rank
 *     never reached it; otherwise, unless the ranks agreed on a failure
 *     (tdl_dist_failure_agreed), waits for every rank to reach its end
 *     (tdl_dist_all_reach; a rank that failed waits 10 s at most): they do
 *     after a success and after a failure every rank met alike (rank 0
 *     printed it).  If they do not, a rank failed alone while the others
 *     wait in a collective: that rank
 *     prints "tdl: error: rank R of N: MESSAGE" (rank 0: its message is out
 *     already) and leaves without MPI_Finalize, so that mpirun ends the job
 *     instead of hanging. */
int cli_dist_ready(int rc);
int cli_dist_end(int rc);
/* 1 when command NAME has a distributed path (the ranks share its work):
 * "hessian" (block-cyclic matrices, data-parallel products), "ntk" (the
 * block-cyclic Gram matrix), "landscape"
 * (grid cells and curve points dealt over the ranks) and "sweep" (runs
 * dealt over the ranks).  For main.c: under mpirun, the ranks other than 0
 * of any other command return 0 at once, and rank 0 runs it alone, as
 * without mpirun. */
int cli_dist_command(const char *name);
/* The rank a launcher (mpirun, srun) gave this process, from its
 * environment (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK), without starting
 * MPI; 0 without a launcher. */
int cli_dist_launcher_rank(void);
#endif
