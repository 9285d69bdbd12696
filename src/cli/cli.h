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
/* tdl_dataset_load, and the loader's warning about the data (e.g. a CSV
 * whose header suggests several targets: tdl_dataset.warning) as one line
 * "tdl: warning: ..." on stderr.  Returns the loader's status. */
int cli_load_data(const char *spec, tdl_dataset **out);
/* The canonical names of a table (tdl/names.h) as "a, b or c", for usage
 * messages; returns buf. */
const char *cli_name_choices(const tdl_name *table, char *buf, size_t len);
/* "tdl: error: <formatted>" on stderr; returns EXIT_WORK_FAILED. */
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "tdl CMD: <formatted>" plus a hint to `tdl help CMD`; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Check that the --test data fit the model as the training data do (inputs,
 * outputs, classes or targets, for loss): 0, or "tdl: error: --test SPEC: <why>"
 * on stderr and EXIT_WORK_FAILED (src/cli/modelopts.c).  The one place that
 * says a misfit is the test set's, for every command taking --test. */
int cli_check_test(const char *spec, tdl_loss_kind loss, const tdl_mlp *m, const tdl_dataset *ts);

/* Strict number parsing of option values; 0 on success. */
int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out);
int cli_parse_double(const char *s, double *out);
int cli_parse_ulong(const char *s, unsigned long *out);

/* "--NAME" of the long option whose code is `code` in a getopt_long table
 * (the first such entry), "-c" for a short-only option: the option as the
 * user knows it, for "bad value 'abc' for --lr" whatever the spelling typed
 * (--lr abc, --lr=abc, an abbreviation --l abc).  Points to static storage
 * that the next call overwrites. */
struct option;
const char *cli_option_name(const struct option *opts, int code);

/* One file a command reads or writes, for cli_check_outputs. */
enum { CLI_FILE_PATH = 0, CLI_FILE_SPEC, CLI_FILE_FIGURE };
typedef struct cli_file {
    const char *option;   /* how the message names it: "--model", "-o" */
    const char *path;     /* NULL: not given (skipped) */
    int kind;             /* CLI_FILE_PATH: the path itself; CLI_FILE_SPEC: a
                           * data SPEC, whose files are checked
                           * (tdl_dataset_spec_files; shipped and synthetic
                           * sets read none); CLI_FILE_FIGURE: a --plot figure
                           * with the FILE.dat and FILE.gp written beside it */
    const char *in_place; /* inputs only: the one output option that may name
                           * the same file, for a documented in-place update
                           * (landscape --resume G -o G); NULL: none */
} cli_file;

/* Refuse an output that is the same file as an input or as another output,
 * before any work: "tdl: error: -o m.safetensors is the same file as --model
 * m.safetensors".  Two paths name the same file when both exist and have the
 * same st_dev and st_ino (symbolic and hard links included; a character
 * device or FIFO such as /dev/null is never "the same file"), or when neither
 * exists yet and they resolve to the same path (the directory resolved by
 * realpath, plus the last component).  Returns 0, or EXIT_WORK_FAILED after
 * printing the one-line error.  A spec that does not parse is skipped here:
 * loading it reports the error. */
int cli_check_outputs(const char *cmd, const cli_file *inputs, size_t n_in,
                      const cli_file *outputs, size_t n_out);

/* "0,2,5": indices in [0, hi] (hi < 64) separated by single commas, no
 * empty item (",1", "1,,2" and a trailing "1," are refused); their bits go
 * to *mask.  0 on success. */
int cli_parse_index_list(const char *s, size_t hi, unsigned long long *mask);

/* getopt_long, plus: an option that takes a value, given twice with
 * different values (--lr 0.1 ... --lr 0.2, -o a --out b), is a usage error
 * naming it; the same value twice is accepted.  Returns what getopt_long
 * returns, or CLI_GETOPT_USAGE after printing the usage error (the caller
 * returns EXIT_USAGE).  Flags (no value) may repeat. */
#define CLI_GETOPT_USAGE (-2)
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts, const char *cmd);

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
