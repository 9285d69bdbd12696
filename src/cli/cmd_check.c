/* cmd_check.c — `tdl check`: the theorem checks of proofs-checks/. */
#include "cli.h"
#include "check_cli.h"

int cmd_check(int argc, char **argv)
{
    return check_cli_main("check", NULL, argc, argv);
}
