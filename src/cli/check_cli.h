/* check_cli.h — the command line shared by `tdl check` and the standalone
 * programs proofs-checks/NAME. */
#ifndef TDL_CLI_CHECK_CLI_H
#define TDL_CLI_CHECK_CLI_H

#include <stdio.h>
#include "check.h"

/* prog: the name used in usage messages ("check" or the check's name);
 * only: NULL for `tdl check` (NAME/--all/--list), else the one check. */
int check_cli_main(const char *prog, const pc_check *only, int argc, char **argv);

/* One check's help: usage, claim, source, the broken setup, the parameters
 * it takes with their defaults (pc_check.params_help) and why it takes no
 * --data.  `tdl check NAME --help` and proofs-checks/NAME --help. */
void check_cli_help(FILE *fp, const char *usage_prog, const pc_check *c);

#endif
