/* check_cli.h — the command line shared by `tdl check` and the standalone
 * programs proofs-checks/NAME. */
#ifndef TDL_CLI_CHECK_CLI_H
#define TDL_CLI_CHECK_CLI_H

#include "check.h"

/* prog: the name used in usage messages ("check" or the check's name);
 * only: NULL for `tdl check` (NAME/--all/--list), else the one check. */
int check_cli_main(const char *prog, const pc_check *only, int argc, char **argv);

#endif
