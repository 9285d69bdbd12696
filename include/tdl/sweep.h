/* tdl/sweep.h — width / sample-size / label-noise / parameter-count
 * (double-descent) experiments.
 *
 * A sweep trains one fresh net for every (value, repeat) pair, evaluates its
 * training and test error and loss, computes every measure of the bounds
 * table (tdl/bounds.h) and then asks which measures track the
 * generalization gap, in the spirit of Jiang et al. 2020 ("Fantastic
 * generalization measures and where to find them", ICLR, Sec. 2.2 and 6).
 *
 * The swept value:
 *   width        the widths of the hidden layers marked in width_slot[]
 *                (the "W" of an --arch like 64-W-10 or 64-W-W-10, see
 *                tdl_sweep_arch); with no slot marked, EVERY hidden layer
 *                takes the width W.  Values are integers >= 1.
 *   samples      n: the training set is the first n examples of a seeded
 *                shuffle of the given training data (a fresh shuffle per
 *                repeat, seed = train seed + repeat).  Integers in 1..N.
 *   label-noise  F in [0, 1]: round(F N) training labels, chosen at random
 *                (seeded per repeat), replaced by uniform random classes (the
 *                semantics of the data modifier random-labels=F; Zhang et
 *                al. 2017).  The test set keeps its labels.
 *   params       p, the number of random features of a random-features
 *                regression (tdl/random_features.h): the net d-p-C (one
 *                hidden layer, its width the value, as a width sweep) keeps
 *                its random first layer and gets its last layer from
 *                tdl_rf_fit (minimum-norm least squares, ridge `ridge`) in
 *                place of training; loss mse.  The curve of test loss
 *                against p is the double-descent curve (Belkin, Hsu, Ma,
 *                Mandal 2019, PNAS, Fig. 2; Mei and Montanari 2022): a peak
 *                at the interpolation threshold, where the fitted
 *                coefficients per output q = p (+ 1 for a last-layer bias)
 *                equal the n training examples (result.threshold = that p),
 *                and a second descent beyond it.  No bounds measures (the
 *                bounds table is about trained classifiers).  Integers >= 1.
 *
 * Seeds: repeat r uses init seed net.seed + r and minibatch seed
 * train.seed + r for every value, so that the runs of one repeat differ only
 * in the swept value (the "granulated" comparison below needs that).
 *
 * Generalization gap: test error - train error (0-1) for classification,
 * test loss - train loss for regression; NaN without test data.
 *
 * Rank correlation of a measure with the gap (Jiang et al. 2020, eq. (3)
 * and (4)-(5)):
 *   tau            Kendall's tau-b over all runs where both are finite;
 *   granulated tau tau-b across the swept values WITHIN one repeat, averaged
 *                  over the repeats: eq. (4) with the swept value the only
 *                  varied hyper-parameter and the repeat (seed) fixing the
 *                  rest, so that seed-to-seed noise does not count.
 * Positive tau: a larger measure goes with a larger gap.
 */
#ifndef TDL_SWEEP_H
#define TDL_SWEEP_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/bounds.h"
#include "tdl/train.h"
#include "tdl/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tdl_sweep_kind { TDL_SWEEP_WIDTH, TDL_SWEEP_SAMPLES, TDL_SWEEP_LABEL_NOISE, TDL_SWEEP_PARAMS } tdl_sweep_kind;

/* "width", "samples", "label-noise", "params" (tdl/names.h). */
TDL_API extern const tdl_name tdl_sweep_kind_names[];
TDL_API int tdl_sweep_kind_parse(const char *text, tdl_sweep_kind *out);
/* "width", "samples", "label-noise", "params". */
TDL_API const char *tdl_sweep_kind_name(tdl_sweep_kind k);

/* Parse an architecture with "W" placeholders ("64-W-10", "4-W-W-1") into
 * cfg (depth and widths; W fields set to 1) and width_slot (1 where a W
 * stood, TDL_MAX_DEPTH + 1 entries); *n_slots receives the number of W
 * fields.  The first and last fields (input, output) cannot be W. */
TDL_API int tdl_sweep_arch(const char *text, tdl_mlp_config *cfg, int *width_slot, size_t *n_slots);

/* Parse a list of values "4,8,16" or a geometric range "4:4096:x2" (start,
 * stop inclusive, factor) or an arithmetic range "0:1:+0.25" into *values
 * (malloc'ed, caller frees) and *count.  At most 10000 values; each finite.
 * Messages read "values TEXT: why" ("values 8:4:x2: a geometric range needs
 * 0 < start <= stop and a factor > 1"). */
TDL_API int tdl_sweep_values_parse(const char *text, double **values, size_t *count);

/* Progress after each run (index 0-based of total). */
typedef struct tdl_sweep_progress {
    size_t index, total;
    double value;
    size_t repeat;
    double train_loss, train_error, test_error;
    double seconds;          /* of this run */
} tdl_sweep_progress;
typedef int (*tdl_sweep_callback)(const tdl_sweep_progress *p, void *user);

typedef struct tdl_sweep_config {
    tdl_sweep_kind kind;
    const double *values;    /* count values (not owned) */
    size_t count;
    size_t repeats;          /* >= 1 */
    tdl_mlp_config net;      /* the architecture template; seed = base init seed */
    int width_slot[TDL_MAX_DEPTH + 1];  /* width sweeps: layers whose width is W (none: all hidden) */
    tdl_train_config train;  /* loss, optimizer, epochs, targets ...; seed = base minibatch seed;
                                callback / user are ignored (the sweep uses its own) */
    int measures;            /* compute the bounds table (classification only) */
    tdl_bounds_config bounds;
    double success_loss;     /* a run "succeeds" when its final train loss < this (NaN: off) */
    int output_ones;         /* last layer's weights set to 1 and frozen, no bias on it: the
                                student f(x) = sum_j phi(w_j . x) of Safran and Shamir 2018 */
    tdl_sweep_callback callback;
    void *user;
    double ridge;            /* params sweeps: the ridge of tdl_lstsq_minnorm (>= 0; default 0, min-norm) */
    double rcond;            /* params sweeps: its rank tolerance (< 0: max(n, q) * DBL_EPSILON, the default) */
} tdl_sweep_config;

/* Defaults: width, 1 repeat, measures on with flatness off (the sigma'
 * search costs 150 forward passes a run), success_loss NaN, ridge 0,
 * rcond -1; net and train as tdl_mlp_config_default /
 * tdl_train_config_default. */
TDL_API void tdl_sweep_config_default(tdl_sweep_config *cfg);

typedef struct tdl_sweep_run {
    double value;
    size_t repeat;
    unsigned long init_seed, train_seed;
    size_t width;            /* hidden width of the marked layers (width sweeps), else 0 */
    size_t n_train;          /* training examples used */
    size_t params;
    size_t epochs, steps;
    int diverged;            /* training diverged: numbers from the last good parameters */
    int reached_target;
    int success;             /* train_loss < success_loss (0 when off) */
    double train_loss, train_error, test_loss, test_error, gap;
    double seconds;
    double *measure_values;  /* n_measures entries (NaN: not available for this run), owned */
    double *measure_bounds;  /* n_measures entries (NaN: none), owned */
    /* params sweeps (0 / NaN otherwise): the least-squares fit */
    size_t coefficients;     /* fitted coefficients per output, q */
    size_t rank;             /* rank of the n x q feature matrix */
    double cond;             /* its condition number s_max / s_min (inf: singular) */
    double coef_norm;        /* ||fitted last layer||_F */
} tdl_sweep_run;

typedef struct tdl_sweep_correlation {
    double tau;              /* Kendall tau-b over all runs with finite values (NaN: < 2 such runs) */
    double granulated_tau;   /* mean over repeats of tau-b across values (NaN: none defined) */
    size_t n;                /* runs used for tau */
} tdl_sweep_correlation;

typedef struct tdl_sweep_result {
    size_t count, repeats;   /* values swept, runs per value */
    size_t n_runs;           /* count * repeats, value-major: run i = value i / repeats, repeat i % repeats */
    tdl_sweep_run *runs;
    size_t n_measures;
    char (*measure_names)[48];          /* n_measures names in bounds-table order */
    char (*measure_sources)[320];
    tdl_sweep_correlation *correlations; /* n_measures */
    int has_test, classification;
    double seconds;
    double threshold;        /* params sweeps: the p at which q = n (the interpolation threshold); NaN otherwise */
} tdl_sweep_result;

/* Run the sweep on train (and test, may be NULL).  For each run the net is
 * tdl_mlp_create(net with the swept width), trained with tdl_train (a run
 * that diverges is kept, flagged, with the last good parameters) or, in a
 * params sweep, fitted with tdl_rf_fit, evaluated with tdl_mlp_evaluate,
 * and measured with tdl_bounds_compute (not in params sweeps).  The result
 * is owned by the caller (tdl_sweep_result_free). */
TDL_API int tdl_sweep_run_all(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                              tdl_sweep_result *out);
TDL_API void tdl_sweep_result_free(tdl_sweep_result *r);

/* (Kendall's tau-b, tdl_kendall_tau: tdl/stats.h, included above.) */

/* Summary over the repeats of one value: mean, sample standard deviation
 * (0 for one repeat), min and max of a per-run quantity, skipping NaNs
 * (all NaN when none is finite).  field: offsetof(tdl_sweep_run, ...) of a
 * double member. */
typedef tdl_summary tdl_sweep_stat; /* tdl/stats.h */
TDL_API tdl_sweep_stat tdl_sweep_summary(const tdl_sweep_result *r, size_t value_index, size_t field);

#ifdef __cplusplus
}
#endif
#endif
