/* dist_cli.c — the `tdl` command under an MPI launcher (dist_cli.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dist_cli.h"

static int real_stderr = -1; /* a non-root rank's stderr before /dev/null */
static int ready_done;

int cli_dist_begin(void)
{
    int st = tdl_dist_init();
    if (st != TDL_OK) {
        /* no MPI to agree with: the launcher's rank variable picks the one
         * rank that prints */
        return cli_dist_launcher_rank() > 0 ? EXIT_WORK_FAILED : cli_fail(st);
    }
    if (tdl_dist_active() && tdl_dist_rank() != 0) {
        fflush(stdout);
        fflush(stderr);
        real_stderr = dup(STDERR_FILENO);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
    }
    return 0;
}

int cli_dist_active(void) { return tdl_dist_active(); }

int cli_dist_root(void) { return tdl_dist_rank() == 0; }

int cli_dist_command(const char *name)
{
    static const char *const names[] = {"hessian", "ntk", "landscape", "sweep"};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) return 1;
    return 0;
}

int cli_dist_launcher_rank(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r) r = getenv("PMIX_RANK");
    if (!r) r = getenv("PMI_RANK");
    return r ? atoi(r) : 0;
}

int cli_dist_ready(int rc)
{
    if (!tdl_dist_active() || ready_done) return rc;
    ready_done = 1;
    int st = tdl_dist_agree(rc ? TDL_EINVAL : TDL_OK);
    if (st == TDL_OK || rc) return rc; /* a rank that failed has said so already */
    return cli_fail(st);               /* another rank's message, from rank 0 */
}

int cli_dist_end(int rc)
{
    if (!tdl_dist_active()) return rc;
    if (!ready_done) return cli_dist_ready(rc);
    if (rc != 0 && tdl_dist_failure_agreed()) return rc;
    /* every rank ends here unless one failed alone while the others wait in
     * a collective: a rank that succeeded waits for all (rank 0 may still
     * be writing files); ranks that failed alike (the same computation)
     * arrive together, rank 0 has printed; a rank that failed and finds
     * itself alone after 10 s ends the job */
    if (tdl_dist_all_reach(rc == 0 ? 1e12 : 10.0)) return rc;
    if (tdl_dist_rank() != 0 && real_stderr >= 0) {
        char line[1200];
        int n = snprintf(line, sizeof line, "tdl: error: rank %zu of %zu: %s\n", tdl_dist_rank(), tdl_dist_size(),
                         tdl_errmsg());
        if (n > 0 && write(real_stderr, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) n = 0;
    }
    fflush(NULL);
    _exit(rc);
}
