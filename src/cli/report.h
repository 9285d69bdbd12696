/* report.h — the pieces of `tdl report` shared by its files:
 *
 *   cmd_report.c     the command: options, the sequence of steps, the result
 *   report_steps.c   running the other commands as subprocesses (signals
 *                    forwarded), the output folder built beside DIR and put
 *                    in place at the end, the commands' JSON (checked against
 *                    report_keys.c when a step ends)
 *   report_doc.c     report.md and index.html side by side, tables also as
 *                    CSV, one function a section
 *   report_tables.c  number formatting, eigenvalue tables, the figures the
 *                    report draws itself (Hessian histogram, NTK drift)
 *   report_keys.c    the one table of the keys read from the commands' JSON
 *
 * Ownership: a report owns its steps, and each step the parsed JSON of its
 * command (report_json returns it borrowed; report_free frees them all).
 */
#ifndef TDL_CLI_REPORT_H
#define TDL_CLI_REPORT_H
#include <cjson/cJSON.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include "report_keys.h"

#define REPORT_MAX_ARGS 64
#define REPORT_MAX_STEPS 48
#define REPORT_MAX_CHECKS 32
#define REPORT_MARKER ".tdl-report"

/* ---- settings and state ------------------------------------------------------ */

typedef struct report_opts {
    const char *model, *data, *test, *out, *arch, *act, *loss;
    const char *reduction;     /* --reduction, forwarded to every command that evaluates a loss */
    size_t width, epochs, grid, threads;
    unsigned long seed;
    double lr;
    int quick, quiet, user_model, no_checks;
    const char *checks;        /* --checks a,b: these checks only (default: --all) */
    char check_names[REPORT_MAX_CHECKS][64];
    size_t n_checks;
} report_opts;

/* One subprocess: what ran, how it ended. */
typedef struct step {
    char name[80];
    char label[128];
    int status;          /* exit status, or -1 not run */
    int bad_json;        /* its JSON lacks a key of report_keys.c (message says which) */
    double seconds;
    char message[512];   /* last line of its stderr when it failed, or the JSON's problem */
    cJSON *json;         /* json/NAME.json parsed and checked, or NULL (owned) */
    int not_applicable;  /* a check on the report's data that refused it (its
                            hypotheses or budget: message says why); not a failure */
} step;

typedef struct report {
    report_opts o;
    char self[PATH_MAX];       /* this executable */
    char dir[PATH_MAX];        /* the final folder (as given) */
    char tmp[PATH_MAX];        /* the folder being built (absolute) */
    char model[PATH_MAX];      /* the model analysed (absolute) */
    char data[PATH_MAX], test[PATH_MAX];
    int has_test, has_init;
    int regression;            /* the data have no class labels: no bounds */
    step steps[REPORT_MAX_STEPS];
    size_t n_steps, total_steps;
    int failures;
} report;

/* A terminating signal during a report: the running command is stopped, the
 * temporary folder removed, and the report dies of the same signal. */
extern volatile sig_atomic_t report_signal;

/* ---- helpers (report_steps.c) --------------------------------------------------- */

/* snprintf into a fixed buffer; text that does not fit is cut (names and
 * captions here are far below the buffer sizes). */
void sfmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
double report_now(void);
/* TMP/REL, and whether it exists */
void report_path(const report *r, char *out, size_t len, const char *rel);
int report_file_exists(const report *r, const char *rel);

/* ---- the folder and the inputs (report_steps.c) ---------------------------------- */

/* Whether a folder exists, holds anything, holds the marker; -1 when it is
 * not a folder or cannot be read. */
int report_dir_state(const char *path, int *exists, int *empty, int *is_report);
/* An --out that rename(2) cannot replace: 0 or the exit status of a one-line error. */
int report_check_renamable(const char *dir, int exists);
/* An input (--model, the files of --data / --test) inside DIR, which the
 * report replaces: 0 or the exit status of a one-line error. */
int report_check_inputs_outside(const char *dir, const report_opts *o);
/* A data spec whose files are named by absolute paths (the commands run in
 * the output folder). */
void report_absolute_spec(const char *spec, char *out, size_t len);
/* DIR.tmp.XXXXXX with json/ logs/ fig/ tables/: 0 or an exit status. */
int report_make_tmp(report *r);
/* The finished folder renamed to DIR (an earlier report there replaced):
 * 0 or an exit status. */
int report_put_in_place(report *r);
int report_remove_tree(const char *path);

/* ---- the commands (report_steps.c) ----------------------------------------------- */

/* Catch the terminating signals (TDL_STOP_SIGNALS, but an inherited ignored
 * SIGHUP / SIGPIPE stays ignored); report_signal records them. */
void report_catch_signals(void);
/* The set of signals report_catch_signals caught. */
void report_stop_signal_set(sigset_t *set);
/* Run `tdl ARGS...` in the output folder; stdout to json/NAME.json (when
 * json is set; parsed and checked with report_keys_check), stderr to
 * logs/NAME.log.  Returns the step. */
step *report_run_step(report *r, const char *name, const char *label, int json, const char *const *args);
/* The same for a theorem check run on the report's data: a check that
 * refuses the data (exit 1 without a JSON result: a hypothesis not met, a
 * step budget) is marked not_applicable with its reason, not a failure. */
step *report_run_data_check(report *r, const char *name, const char *label, const char *const *args);
/* A failed step's message without the command's own "tdl: error: " prefix. */
const char *report_step_why(const step *s);
/* A step that failed without running a command (message: tdl_errmsg()). */
void report_failed_step(report *r, const char *name, const char *label, const char *message);
const step *report_find_step(const report *r, const char *name);
/* The parsed and checked JSON of the step NAME (borrowed), or NULL. */
const cJSON *report_json(const report *r, const char *name);
/* The figure fig/NAME.png again as SVG and PDF. */
void report_other_formats(report *r, const char *name);
/* Free the steps' JSON. */
void report_free(report *r);

/* ---- tables and figures (report_tables.c) ---------------------------------------- */

/* Numbers in the report: 6 significant digits ("-" for none). */
const char *report_num(char *buf, size_t len, double v);
/* The k largest entries of an ascending array, as text. */
void report_top_values(const cJSON *arr, int k, char *out, size_t len);
/* The same with the digits each value's certified error bound (bounds, the
 * same length as arr) guarantees: a value v with bound b prints with
 * floor(log10(|v| / b)) significant digits (1..15), so its last digit is
 * right to one unit; a missing or zero bound prints as report_top_values. */
void report_certified_values(const cJSON *arr, const cJSON *bounds, int k, char *out, size_t len);
/* One value x with its bound b, as above. */
void report_certified_value(double x, double b, char *out, size_t len);
/* tables/NAME.csv: index and one column an array, at full precision. */
void report_values_csv(report *r, const char *name, const char *const *head, const cJSON *const *cols, size_t ncols);
/* fig/hessian-spectrum.png: histograms of the eigenvalues of H and G. */
int report_hessian_histogram(report *r, const cJSON *h);
/* fig/ntk-drift.png (and SVG, PDF) from the column ntk_drift of
 * tables/training.csv; nothing without that column; a figure that cannot be
 * drawn is said on stderr and counted as a failure. */
void report_ntk_drift_figure(report *r, const char *arch, const char *act);

/* The kind of a row of tdl bounds' "measures": 1 a bound (a theorem's, at
 * its confidence, for its classifier), 0 a measure (not a bound), -1 not
 * stated (a tdl bounds without the key "kind"). */
int report_bound_kind(const cJSON *m);
/* fig/bounds.png (and SVG, PDF, its .gp and .dat) from json/bounds.json b:
 * one horizontal bar a row of kind bound (or, kind not stated, a row with a
 * bound), named by the row, on a log axis; the measures' fixed-scale values
 * hatched in another colour; vertical lines at the train error, the test
 * error (with a test set), chance (NaN: none) and the vacuous level 1; m
 * training examples for the caption.  It replaces the figure of
 * `tdl bounds --plot`.  0, or -1 (said on stderr, counted as a failure, no
 * figure left). */
int report_bounds_figure(report *r, const cJSON *b, double chance, size_t m);

/* ---- the documents (report_doc.c) ------------------------------------------------ */

/* report.md and index.html (written last: the folder is complete when they exist). */
int report_write_documents(report *r, const char *cmdline, double seconds);

#endif
