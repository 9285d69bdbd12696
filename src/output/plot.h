/* plot.h — figures through gnuplot (Debian's gnuplot-nox, cairo terminals).
 *
 * plot_render(FILE.{png,svg,pdf}, spec) writes, beside the figure, the data
 * (FILE.dat, one block per series) and the gnuplot script (FILE.gp) that
 * draws it, so a user can restyle the figure for a paper; then it runs
 * gnuplot on the script.  The figure appears under its name only when
 * gnuplot succeeded (temporary name + rename).  The script picks the
 * terminal from the output's extension, so one script renders PNG
 * (pngcairo), SVG and PDF (pdfcairo): gnuplot -e "out='FILE.pdf'" FILE.gp
 * (plot_also does this for `tdl report`).
 */
#ifndef TDL_CLI_PLOT_H
#define TDL_CLI_PLOT_H

#include <stddef.h>
#include <stdio.h>

/* PLOT_DASHED: a dashed line in the colour of the k-th series for the k-th
 * dashed one (e.g. accuracies beside the losses they go with). */
typedef enum plot_style { PLOT_LINES, PLOT_POINTS, PLOT_LINESPOINTS, PLOT_BOXES, PLOT_IMPULSES, PLOT_DASHED } plot_style;

typedef struct plot_series {
    const char *title;
    const double *x, *y;
    size_t n;
    plot_style style;
} plot_series;

/* A labelled position on the x axis: a dotted vertical line, its label on
 * the top axis (e.g. the two ends of an interpolation: "init", "trained"). */
typedef struct plot_xmark {
    double x;
    const char *label;
} plot_xmark;

typedef struct plot_spec {
    const char *title;
    const char *xlabel, *ylabel;
    const char *caption;       /* one line under the figure: what was computed */
    int logx, logy;
    double ymin;               /* lower y limit when > 0 (log axes), else automatic */
    const plot_series *series;
    size_t n_series;
} plot_spec;

/* Returns a status (tdl/error.h) and leaves a message on failure. */
/* A figure's path: .png, .svg or .pdf, and a file the atomic writer can
 * create (not a directory, ...); checked before the data and the script
 * are written beside it.  TDL_OK or the status with its message. */
int plot_check_target(const char *path);

/* The two files a figure FILE.{png,svg,pdf} has beside it: its data
 * FILE.dat and its gnuplot script FILE.gp.  Every figure writer:
 *   plot_files f; st = plot_files_begin(path, &f) (the path checked with
 *   plot_check_target, the two names made); write f.dat and f.gp (each
 *   atomically); return plot_files_finish(path, &f, st): gnuplot runs when
 *   st is TDL_OK, the names are freed, and the status is returned. */
typedef struct plot_files {
    char *dat, *gp;
} plot_files;
int plot_files_begin(const char *path, plot_files *f);
int plot_files_finish(const char *path, plot_files *f, int st);
int plot_render(const char *path, const plot_spec *spec);

/* A second quantity against a right y axis (e.g. accuracy beside a loss). */
typedef struct plot_axis2 {
    const char *label;
    double min, max;                /* the range when max > min, else automatic */
    unsigned long long series;      /* bit s set: series s is drawn against this axis */
} plot_axis2;

/* plot_render with a right y axis (y2 may be NULL). */
int plot_render_y2(const char *path, const plot_spec *spec, const plot_axis2 *y2);

/* plot_render_y2 with n_marks labelled positions on the x axis (marks may
 * be NULL). */
int plot_render_marked(const char *path, const plot_spec *spec, const plot_axis2 *y2, const plot_xmark *marks,
                       size_t n_marks);

/* Run gnuplot on the script gp (in the figure's directory, with out= set to
 * a temporary beside path and term= to path's extension) and rename the
 * result to path. */
int plot_run(const char *path, const char *gp, const char *dat);

/* The script's opening lines: defaults for `out` (the figure's base name)
 * and `data`, and a terminal chosen by the extension of `out` (or `term`):
 * pngcairo / svg at width x height pixels, pdfcairo at width_in x height_in
 * inches.  One script renders all three formats:
 *   gnuplot -e "out='fig.pdf'" fig.gp */
void plot_put_preamble(FILE *fp, const char *path, const char *dat, int width, int height,
                       double width_in, double height_in);

/* The caption line under the figure (bottom margin and a small label). */
void plot_put_caption(FILE *fp, const char *caption);

/* Render the figure already drawn at `path` (its .gp and .dat beside it)
 * again in another format: ext is "png", "svg" or "pdf". */
int plot_also(const char *path, const char *ext);

/* A gnuplot string literal (single quotes doubled). */
void plot_put_quoted(FILE *fp, const char *s);

/* Histogram of values into `bins` bins: centres and counts (caller frees). */
int plot_histogram(const double *v, size_t n, size_t bins, double **centres, double **counts);

/* Explicit tics for a log axis ("x", "y", "cb", ...) over [lo, hi] (lo > 0):
 * 1-2-5 in every decade when the range spans at most 3 decades, every
 * decade up to 9 decades, every k-th decade beyond (so a short range still
 * gets labels), written as `set AXIStics (...)` with minor tics off. */
void plot_put_log_tics(FILE *fp, const char *axis, double lo, double hi);

/* The figure's name for a caption: the base name of an absolute path, a
 * relative path as given (captions never show absolute paths). */
const char *plot_caption_path(const char *path);

/* Whether the data span more than `decades` decades (for log axes). */
int plot_spans_decades(const double *v, size_t n, double decades);

#endif
