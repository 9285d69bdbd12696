/* bounds_chart.h — the chart of a bounds table (tdl bounds --plot and the
 * report's fig/bounds), one function for both.
 *
 * Two panels with horizontal bars named by their rows, log x axes with
 * labelled tics (plot_put_log_tics):
 *   - top: the rows of kind bound, i.e. upper bounds on a test error (a
 *     probability), coloured by the classifier they bound (deterministic:
 *     the trained net; Gibbs: the stochastic net Q), with vertical lines at
 *     the train error, the test error (when known), chance 1 - 1/C and the
 *     vacuous level 1;
 *   - bottom (when there are any): the measures' fixed-scale values (a
 *     bound's formula at the data-chosen scales, with no union over the
 *     scales paid: not a bound, and not a probability), hatched in another
 *     colour on their own axis, with no error lines to compare them with.
 * Each bar carries its value; bars start at the axis' left edge.  The data
 * (FILE.dat) and script (FILE.gp) are written beside the figure. */
#ifndef TDL_OUTPUT_BOUNDS_CHART_H
#define TDL_OUTPUT_BOUNDS_CHART_H

#include <stddef.h>

typedef enum plot_bar_kind {
    PLOT_BAR_BOUND,    /* a bound on the deterministic classifier's test error */
    PLOT_BAR_GIBBS,    /* a bound on the Gibbs classifier's (the stochastic net Q) */
    PLOT_BAR_MEASURE   /* a measure's fixed-scale value: not a bound */
} plot_bar_kind;

typedef struct plot_bar {
    const char *name;  /* the row's name (the y tic label) */
    double value;      /* > 0 and finite, else the row is left out */
    plot_bar_kind kind;
} plot_bar;

typedef struct plot_bounds_spec {
    const char *title;          /* NULL: a default title */
    const char *caption;        /* what was computed (no absolute paths) */
    const plot_bar *bars;       /* in table order */
    size_t n_bars;
    double train_error;         /* NaN: unknown */
    double test_error;          /* NaN: no test set */
    double chance;              /* 1 - 1/C; NaN: unknown */
} plot_bounds_spec;

/* Returns a status (tdl/error.h) and leaves a message on failure. */
int plot_bounds_chart(const char *path, const plot_bounds_spec *spec);

#endif
