/* check.h — the theorem-check framework (proofs-checks/).
 *
 * One C file per theorem (named like the check, dashes as underscores)
 * defines `const pc_check pc_check_<name>`: the claim, its source and a
 * run function.  The run function sets up the experiment described in the
 * file's header comment, fills a pc_result with rows of measured vs
 * predicted numbers (each row with its own pass criterion) and, when asked,
 * draws a figure.  The framework prints the human table or the JSON object,
 * times the run and turns the verdict into the exit status (0 pass, 1 fail).
 *
 * Every check has three modes:
 *   full    (default) the experiment a report uses;
 *   quick   (--quick) seconds-scale, for the `proofs` test suite;
 *   broken  (--broken, with or without --quick) a deliberately broken setup
 *           described in the header comment (too small a width, too large a
 *           step, shuffled labels ...) under which the check MUST fail; the
 *           test suite runs it to show that the criterion can fail.
 *
 * The same code is reached through `tdl check NAME` and through the
 * standalone program proofs-checks/NAME (one program per theorem).
 */
#ifndef TDL_PROOFS_CHECK_H
#define TDL_PROOFS_CHECK_H

#include <stddef.h>
#include "tdl/tdl.h"

#define PC_MAX_ROWS 96
#define PC_MAX_WIDTHS 16

/* The experiment's parameters a user may set (tdl check NAME --PARAM): each
 * check declares the ones it takes (pc_check.params, these bits); any other
 * is a usage error naming the check.  A value of 0 (no widths) means "the
 * check's default", so a run without them is the built-in experiment. */
enum {
    PC_P_DATA = 1u << 0,     /* --data SPEC: the experiment on the user's data set */
    PC_P_WIDTHS = 1u << 1,   /* --widths W1,W2,...: the widths of a width sweep */
    PC_P_SEEDS = 1u << 2,    /* --seeds N: nets (or runs) per setting */
    PC_P_STEPS = 1u << 3,    /* --steps N: the GD step budget of a run */
    PC_P_TEST = 1u << 4,     /* --test SPEC: held-out inputs, with --data */
};

typedef struct pc_options {
    int quick;               /* seconds-scale variant */
    int broken;              /* the deliberately broken setup: must fail */
    unsigned long seed;      /* base seed (default 1); runs use seed, seed+1, ... */
    const char *plot;        /* figure FILE.{png,svg,pdf}, or NULL for none */
    int verbose;             /* progress lines on stderr */
    /* The experiment's parameters (PC_P_*); only those the check declares
     * are ever set. */
    const char *data;        /* --data SPEC, or NULL: the check's built-in data */
    const char *test;        /* --test SPEC (only with data), or NULL */
    size_t n_widths;         /* --widths: count (0: the check's default) */
    double widths[PC_MAX_WIDTHS];
    size_t seeds;            /* --seeds (0: the check's default) */
    size_t steps;            /* --steps (0: the check's default) */
} pc_options;

typedef struct pc_row {
    char key[48];            /* snake_case JSON key, unique within the check */
    char label[112];         /* what was measured, for the human table */
    double measured;
    double predicted;        /* the theorem's value or bound; NaN when none */
    char criterion[112];     /* the row's pass criterion in words/maths */
    int ok;                  /* 1 met, 0 not met, -1 informational (no criterion) */
} pc_row;

typedef struct pc_result {
    char setup[640];         /* data, net, optimizer, seeds: one paragraph */
    pc_row rows[PC_MAX_ROWS];
    size_t n_rows;
    char note[512];          /* optional remark printed under the table */
    int passed;              /* set by the framework: every row with ok >= 0 is ok */
    double seconds;          /* wall time of run() */
} pc_result;

typedef struct pc_check {
    const char *name;        /* e.g. "linear-regression-hessian" */
    const char *claim;       /* one sentence */
    const char *source;      /* citation with theorem/equation number */
    const char *broken;      /* what --broken does, one line */
    /* Returns TDL_OK when the experiment ran (passed or not) and a status
     * with a message (tdl_fail) when it could not run at all. */
    int (*run)(const pc_options *opt, pc_result *res);
    unsigned params;         /* the PC_P_* parameters it takes (0: none) */
    /* Its parameters for the help, one line each, "  --NAME VALUE  what it
     * sets (default ...)\n"; NULL when params == 0. */
    const char *params_help;
    /* Why --data is refused, one line (the claim needs the check's own data);
     * NULL when params has PC_P_DATA. */
    const char *no_data;
    /* Checks the parameters given (the check's own rules, e.g. how many
     * widths a slope fit needs): NULL when they are fine, else one line
     * naming the parameter (a usage error).  NULL pointer: no extra rules. */
    const char *(*check_params)(const pc_options *opt);
} pc_check;

/* The option name of a parameter bit ("--data"), NULL for an unknown bit. */
const char *pc_param_name(unsigned bit);

/* The registry: every check in the order of the reference table, NULL-ended
 * (generated by meson from the files present). */
extern const pc_check *const pc_checks[];
const pc_check *pc_find(const char *name);

/* Result building. */
void pc_setup(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_note(pc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a row; label and criterion may contain printf-free text.  Returns
 * the row (or NULL when full, which is a programming error reported at run). */
pc_row *pc_add(pc_result *r, const char *key, const char *label, double measured,
               double predicted, int ok, const char *criterion);
/* The same with a printf-formatted criterion. */
pc_row *pc_addf(pc_result *r, const char *key, const char *label, double measured,
                double predicted, int ok, const char *criterion_fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Run a check: time it, compute the verdict. */
int pc_run(const pc_check *c, const pc_options *opt, pc_result *res);

/* Small numerics shared by the checks. */
/* Least-squares slope and intercept of y on x (n >= 2); returns the slope. */
double pc_fit_line(const double *x, const double *y, size_t n, double *intercept);
/* Slope of log y against log x (all positive). */
double pc_loglog_slope(const double *x, const double *y, size_t n);
/* (Rank correlations: tdl_kendall_tau in tdl/stats.h.) */
/* Full-batch gradient descent for `steps` steps at step size eta on the
 * mean loss, evaluated every eval_every steps (0: only at the end); the
 * loss-growth divergence stop off (checks study divergence on purpose; a
 * NaN still stops the run); the rest as tdl_train_config_default (no callback). */
tdl_train_config pc_gd_config(tdl_loss_kind loss, double eta, size_t steps, size_t eval_every);
/* Du et al. (2019)'s two-layer ReLU net f(x) = (1/sqrt m) sum_r a_r relu(w_r^T x)
 * in tdl: d-m-1, NTK parametrization with sigma_w = 1, no biases, output
 * weights a_r = +-1 (the signs of their Gaussian draws), frozen; theta0 kept. */
int pc_du_net(size_t d, size_t width, unsigned long seed, tdl_mlp **out);
/* A width sweep of one-hidden-layer nets d-W-outputs (W = each of the nw
 * widths, `repeats` seeds from `seed`), trained by full-batch momentum SGD
 * (0.9, lr 0.05) with minibatch seed `seed`; the caller sets the loss,
 * epochs and the rest. */
void pc_width_sweep_config(tdl_sweep_config *cfg, const double *widths, size_t nw, size_t repeats,
                           size_t d, size_t outputs, unsigned long seed);
/* The user's data set of --data, loaded with tdl_dataset_load.  A set of
 * more than max_n examples is cut to max_n by the data grammar's own
 * n=max_n (the first max_n after a seeded shuffle, tdl/data.h; for a
 * synthetic set, whose n= is its size, max_n drawn), so the subset is
 * reproducible with any command; *used (owned, free())
 * receives the spec actually loaded.  name: the check, for messages. */
int pc_load_user_data(const char *name, const char *spec, size_t max_n, tdl_dataset **out, char **used);
/* A user's set as one-output regression data, for checks that train
 * one-output nets: one target column as it is, two classes as the 0/1 label
 * (tdl's mse on a one-output net; *ds replaced); anything else TDL_EINVAL
 * naming the check (name) and the spec. */
int pc_one_output(const char *name, const char *spec, tdl_dataset **ds);
/* The spec with key=value in place of any value of key it has, or added
 * (owned, free()); NULL when the spec does not parse (message set) or
 * out of memory. */
char *pc_spec_with(const char *spec, const char *key, const char *value);
/* A data spec as a caption shows it: every path in it reduced to its last
 * component (captions carry no absolute paths).  Writes into buf. */
const char *pc_display_spec(const char *spec, char *buf, size_t len);
/* Seconds of monotonic clock. */
double pc_now(void);


#endif
