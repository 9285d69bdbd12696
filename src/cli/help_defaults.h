/* help_defaults.h — the defaults that `tdl help` prints, taken from their
 * sources at print time (kann's habit: usage text that prints the current
 * defaults, so the text cannot drift from the code).
 *
 * A help text writes @{NAME} where a default goes ("--lr X  learning rate
 * (default @{train.lr})"); cli_help_print replaces it by the value of NAME
 * in a table filled, on first use, by calling the functions that set the
 * defaults: the library's tdl_*_config_default and macros of include/tdl
 * (TDL_LANCZOS_TOL_DEFAULT, TDL_NTK_QUAD_DEFAULT, ...) and the CLI's own
 * cli_train_opts_init / cli_train_opts_finish.  Numbers print as short as
 * they round-trip, exponents without padding: 0.1, 0.001, 1e-8, 1e-10, 128.
 *
 * A placeholder without an entry is an error of the help printer (exit 1,
 * nothing on stdout) and tests/cli/test_help_defaults.sh expands every help
 * text, so none can ship.  `tdl help --defaults` lists the table (NAME VALUE
 * SOURCE, one line each).  For that test only, TDL_TEST_HELP_DEFAULT=NAME=VALUE
 * in the environment replaces the value of NAME, and TDL_TEST_HELP_DEFAULT=*
 * every value by <<NAME>>, to show that the help text follows the table.
 */
#ifndef TDL_CLI_HELP_DEFAULTS_H
#define TDL_CLI_HELP_DEFAULTS_H

#include <stdio.h>

/* The value of default NAME ("train.lr" -> "0.1"), NULL when there is none. */
const char *cli_help_default(const char *name);

/* Write TEXT to fp with every @{NAME} replaced by its value.  When TEXT
 * holds a placeholder without an entry, nothing is written, the error
 * "tdl: error: help text: no default named 'NAME'" goes to stderr and the
 * result is EXIT_WORK_FAILED; otherwise 0. */
int cli_help_print(FILE *fp, const char *text);

/* Every default, one line each: NAME, VALUE and where the value comes from. */
void cli_help_defaults_list(FILE *fp);

#endif
