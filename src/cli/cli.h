/* cli.h — shared pieces of the `tdl` command (src/cli/). */
#ifndef TDL_CLI_H
#define TDL_CLI_H

#include <stddef.h>
#include "tdl/tdl.h"
#include "json.h"

#define EXIT_WORK_FAILED 1
#define EXIT_USAGE 2

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    const char *help;     /* full `tdl help NAME` text */
} cli_command;

extern const cli_command cli_commands[];
extern const char *const cli_topic_data;
extern const char *const cli_topic_conventions;

/* "tdl: error: <library message>" on stderr; returns EXIT_WORK_FAILED. */
int cli_fail(int status);
/* "tdl: error: <formatted>" on stderr; returns EXIT_WORK_FAILED. */
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "tdl CMD: <formatted>" plus a hint to `tdl help CMD`; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing of option values; 0 on success. */
int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out);
int cli_parse_double(const char *s, double *out);
int cli_parse_ulong(const char *s, unsigned long *out);

/* Report an unknown option or missing argument seen by getopt_long. */
int cli_bad_option(const char *cmd, char **argv, int optopt_value);

/* Set the thread count for OpenMP and OpenBLAS (0: leave the default). */
void cli_set_threads(size_t threads);

/* Test hook: pause at `step` when TDL_TEST_PAUSE_AT names it (util.c says
 * how); for the CLI tests of signals, a no-op otherwise. */
void cli_test_pause(const char *step);

/* Subcommands. */
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_hessian(int argc, char **argv);
int cmd_ntk(int argc, char **argv);
int cmd_bounds(int argc, char **argv);
int cmd_landscape(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_signal(int argc, char **argv);
int cmd_infoplane(int argc, char **argv);

#endif
