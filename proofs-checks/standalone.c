/* standalone.c — main() of the one-theorem programs proofs-checks/NAME.
 * meson compiles it once per check with -DPC_CHECK=pc_check_<name>. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "tdl/blas.h"
#include "check_cli.h"

extern const pc_check PC_CHECK;

int main(int argc, char **argv)
{
    tdl_blas_choice blas; /* tuned BLAS kernels where OpenBLAS fell back to generic ones (tdl/blas.h) */
    if (tdl_blas_select_kernel(argv, &blas) == TDL_BLAS_REFUSED) fprintf(stderr, "%s: warning: %s\n", PC_CHECK.name, blas.reason);
    setlocale(LC_ALL, "C");
    gsl_set_error_handler_off();
    tdl_atomic_install_signal_cleanup(); /* as tdl's main: no temporary --plot file survives a signal */
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        check_cli_help(stdout, PC_CHECK.name, &PC_CHECK);
        return 0;
    }
    return check_cli_main(PC_CHECK.name, &PC_CHECK, argc, argv);
}
