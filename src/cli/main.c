/* main.c — the `tdl` command: subcommand dispatch, help, version, signals.
 *
 * Exit status (SPEC.md): 0 success; 1 the work failed, with one line
 * "tdl: error: ..." on stderr; 2 usage error, with a hint to `tdl help CMD`.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include "cli.h"
#include "dist_cli.h"
#include "help_defaults.h"
#include "tdl/blas.h"

static const char main_usage[] =
    "usage: tdl <command> [options]      tdl help [command|data|conventions]      tdl --version\n"
    "\n"
    "tdl: formal and numerical analysis of linear and shallow neural nets.\n"
    "\n"
    "commands:\n";

static void print_main_help(FILE *fp)
{
    fputs(main_usage, fp);
    for (const cli_command *c = cli_commands; c->name; c++) fprintf(fp, "  %-10s %s\n", c->name, c->summary);
    fputs("\nhelp topics:\n"
          "  data       the --data SPEC grammar: shipped sets, files, generators, modifiers\n"
          "  conventions  loss normalization, parameter order, output conventions\n"
          "\nenvironment:\n"
          "  TDL_BLAS_CORE  OpenBLAS kernels: auto (default: where OpenBLAS falls back to its generic\n"
          "                 kernels on a CPU with AVX2, tdl re-executes itself with Haswell's), keep (never\n"
          "                 switch), or a core name (Haswell, SkylakeX, ...). `tdl --version` and every\n"
          "                 --json (\"blas_core\") name the kernel in use.\n"
          "\nExit status: 0 success, 1 the work failed (one 'tdl: error:' line), 2 usage error.\n",
          fp);
}

static const cli_command *find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* `tdl help help`: not in the main help's list (its output is fixed). */
static const char help_help[] =
    "usage: tdl help [command|data|conventions|help]\n"
    "       tdl help --defaults\n"
    "\n"
    "  tdl help               the commands and help topics\n"
    "  tdl help COMMAND       every option of COMMAND with its default (= tdl COMMAND --help)\n"
    "  tdl help data          the --data SPEC grammar\n"
    "  tdl help conventions   loss normalization, parameter order, output conventions\n"
    "  tdl help --defaults    the defaults that the help texts read from the code, one a\n"
    "                         line: NAME VALUE SOURCE (the tdl_*_config_default function,\n"
    "                         include/tdl macro or CLI option code that sets the value)\n";

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "data") == 0) return cli_help_print(stdout, cli_topic_data);
    if (strcmp(argv[1], "conventions") == 0) return cli_help_print(stdout, cli_topic_conventions);
    if (strcmp(argv[1], "help") == 0) return cli_help_print(stdout, help_help);
    if (strcmp(argv[1], "--defaults") == 0) {
        cli_help_defaults_list(stdout);
        return 0;
    }
    const cli_command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "tdl help: unknown command or topic '%s' (see 'tdl help')\n", argv[1]);
        return EXIT_USAGE;
    }
    return cli_help_print(stdout, c->help);
}

int main(int argc, char **argv)
{
    /* First, before any BLAS work: leave OpenBLAS's generic kernels for tuned
     * ones where the CPU has them (tdl/blas.h); this may re-execute tdl. */
    tdl_blas_choice blas;
    if (tdl_blas_select_kernel(argv, &blas) == TDL_BLAS_REFUSED) fprintf(stderr, "tdl: warning: %s\n", blas.reason);
    setlocale(LC_ALL, "C");
    gsl_set_error_handler_off();
    /* every terminating signal removes the temporary outputs and dies of the
     * signal (no partial output file survives); SIGXFSZ is ignored so that
     * `ulimit -f` gives a "write failed: File too large" error (fileio.c) */
    tdl_atomic_install_signal_cleanup();

    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("tdl %s\nBLAS: %s\nBLAS kernel: %s (%s)\n", tdl_version(), tdl_blas_config(), tdl_blas_core(),
               tdl_blas_core_origin());
        return 0;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    const cli_command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "tdl: unknown command '%s' (see 'tdl help')\n", name);
        return EXIT_USAGE;
    }
    /* `tdl check NAME --help` is that check's help (its parameters), which
     * the check command prints itself; any other --help is the command's */
    int check_name = strcmp(name, "check") == 0 && argc > 2 && argv[2][0] != '-';
    for (int i = 2; i < argc && !check_name; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return cli_help_print(stdout, c->help);
    /* under mpirun: a command without a distributed path runs on rank 0
     * alone, as without mpirun (the other ranks leave at once); `tdl
     * hessian` starts the ranks itself (dist_cli.h) */
    if (!cli_dist_command(name) && cli_dist_launcher_rank() > 0) return 0;
    return c->run(argc - 1, argv + 1);
}
