/* bounds_chart.c — the chart of a bounds table (see bounds_chart.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bounds_chart.h"
#include "plot.h"
#include "tdl/error.h"
#include "tdl/fileio.h"
#include "tdl/memory.h"

/* The 1-2-5 value at or below v (up = 0), or at or above it (up = 1). */
static double step125(double v, int up)
{
    double d = pow(10.0, floor(log10(v))), m = v / d;
    static const double s[4] = {1, 2, 5, 10};
    if (up) {
        for (int k = 0; k < 4; k++)
            if (s[k] * d >= v * (1 - 1e-12)) return s[k] * d;
        return 10 * d;
    }
    for (int k = 3; k >= 0; k--)
        if (s[k] <= m * (1 + 1e-12)) return s[k] * d;
    return d;
}

/* The x range of a panel: its values (and lines), with room for the value
 * printed right of the longest bar. */
static void panel_range(const plot_bounds_spec *sp, int measures, const double *lines, int n_lines, double *lo, double *hi)
{
    double a = INFINITY, b = 0;
    for (size_t i = 0; i < sp->n_bars; i++) {
        const plot_bar *r = &sp->bars[i];
        if ((r->kind == PLOT_BAR_MEASURE) != measures || !(r->value > 0) || !isfinite(r->value)) continue;
        a = fmin(a, r->value);
        b = fmax(b, r->value);
    }
    for (int k = 0; k < n_lines; k++)
        if (lines[k] > 0 && isfinite(lines[k])) {
            a = fmin(a, lines[k]);
            b = fmax(b, lines[k]);
        }
    if (!isfinite(a)) { a = 0.1; b = 1; }
    *lo = step125(a / 1.5, 0);
    *hi = step125(b * 4, 1); /* the value label right of the bar */
    if (*hi <= *lo * 10) *hi = *lo * 10;
}

/* Quoted names of rows for `set ytics (...)`, first row on top. */
static size_t put_rows(FILE *fp, const plot_bounds_spec *sp, int measures)
{
    size_t k = 0;
    fprintf(fp, "set ytics nomirror scale 0 (");
    for (size_t i = 0; i < sp->n_bars; i++) {
        const plot_bar *r = &sp->bars[i];
        if ((r->kind == PLOT_BAR_MEASURE) != measures || !(r->value > 0) || !isfinite(r->value)) continue;
        fprintf(fp, "%s", k ? ", " : "");
        plot_put_quoted(fp, r->name ? r->name : "?");
        fprintf(fp, " %zu", ++k);
    }
    if (!k) fprintf(fp, "'' 1");
    fprintf(fp, ")\n");
    return k;
}

int plot_bounds_chart(const char *path, const plot_bounds_spec *sp)
{
    plot_files f;
    int st = plot_files_begin(path, &f);
    if (st != TDL_OK) return st;
    const char *dat = f.dat, *gp = f.gp;
    /* rows of each panel and the longest name (the left margin) */
    size_t n1 = 0, n2 = 0, longest = 8;
    for (size_t i = 0; i < sp->n_bars; i++) {
        const plot_bar *r = &sp->bars[i];
        if (!(r->value > 0) || !isfinite(r->value)) continue;
        if (r->kind == PLOT_BAR_MEASURE) n2++;
        else n1++;
        size_t l = r->name ? strlen(r->name) : 1;
        if (l > longest) longest = l;
    }
    const double lines[4] = {sp->train_error, sp->test_error, sp->chance, 1.0};
    double lo1, hi1, lo2, hi2;
    panel_range(sp, 0, lines, 4, &lo1, &hi1);
    panel_range(sp, 1, lines, 0, &lo2, &hi2);

    /* data: block 0 the deterministic bounds, 1 the Gibbs bounds, 2 the
     * measures (row within its panel, value, name); blocks with no row
     * hold one row off the plot (row 0) so the indices stay fixed */
    tdl_atomic_file af;
    if ((st = tdl_atomic_begin(dat, &af)) != TDL_OK) goto done;
    static const char *const block_title[3] = {"bounds on the deterministic classifier's test error",
                                               "bounds on the Gibbs classifier's (stochastic net Q) test error",
                                               "measures: fixed-scale values (not bounds)"};
    int used[3] = {0, 0, 0};
    for (int b = 0; b < 3; b++) {
        fprintf(af.fp, "# %s: row, value, name\n", block_title[b]);
        size_t row = 0;
        for (size_t i = 0; i < sp->n_bars; i++) {
            const plot_bar *r = &sp->bars[i];
            if (!(r->value > 0) || !isfinite(r->value)) continue;
            int is_meas = r->kind == PLOT_BAR_MEASURE;
            if (is_meas != (b == 2)) continue;
            row++;
            if ((int)r->kind != b) continue;
            fprintf(af.fp, "%zu %.17g \"", row, r->value);
            for (const char *c = r->name ? r->name : "?"; *c; c++)
                if (*c != '"' && *c != '\n') fputc(*c, af.fp);
            fprintf(af.fp, "\"\n");
            used[b] = 1;
        }
        if (!used[b]) fprintf(af.fp, "0 1 \"\"\n");
        fprintf(af.fp, "\n\n");
    }
    /* blocks 3-6: the vertical lines of the bounds panel (x 0, x top) */
    static const char *const what[4] = {"train error", "test error", "chance 1 - 1/C", "vacuous level 1"};
    char line_title[4][96];
    for (int k = 0; k < 4; k++) {
        if (k == 3) snprintf(line_title[k], sizeof line_title[k], "%s", what[k]);
        else snprintf(line_title[k], sizeof line_title[k], "%s = %.6g", what[k], lines[k]);
        fprintf(af.fp, "# %s\n%.17g 0\n%.17g %.17g\n\n\n", line_title[k], lines[k], lines[k], (double)(n1 ? n1 : 1) + 0.5);
    }
    if ((st = tdl_atomic_commit(&af)) != TDL_OK) goto done;

    /* geometry in pixels, then screen fractions from the top */
    enum { W = 1050, TITLE = 56, ROW = 26, AXIS = 62, SUBTITLE = 40 };
    size_t cap_len = sp->caption ? strlen(sp->caption) : 0, cap_lines = cap_len ? (cap_len + 119) / 120 : 0;
    if (cap_lines > 3) cap_lines = 3;
    double cap_frac = cap_lines ? 0.03 + 0.035 * (double)cap_lines : 0.02;
    double fixed = TITLE + ROW * (double)(n1 ? n1 : 1) + 12 + AXIS + (n2 ? SUBTITLE + ROW * (double)n2 + 12 + AXIS : 0);
    int H = (int)ceil(fixed / (1 - cap_frac));
    if (H < 300) H = 300;
    double t1 = 1 - TITLE / (double)H, b1 = t1 - (ROW * (double)(n1 ? n1 : 1) + 12) / H;
    double t2 = b1 - (AXIS + SUBTITLE) / (double)H, b2 = t2 - (ROW * (double)n2 + 12) / H;
    double left = fmin(0.4, (8.2 * (double)longest + 24) / W), right = 0.64;

    if ((st = tdl_atomic_begin(gp, &af)) != TDL_OK) goto done;
    FILE *fp = af.fp;
    plot_put_preamble(fp, path, dat, W, H, 7.0, (double)H / 150.0);
    plot_put_caption(fp, sp->caption);
    fprintf(fp, "set multiplot title ");
    plot_put_quoted(fp, sp->title ? sp->title : "Generalization bounds on the test error");
    fprintf(fp, " font ',13'\n");
    fprintf(fp, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", left, right);
    fprintf(fp, "set logscale x\nset grid xtics mxtics lc rgb 'gray80'\nset style fill solid 0.75 border -1\n");
    fprintf(fp, "set key at screen %.4f, screen %.4f left top box opaque reverse Left samplen 2 font ',10'\n", right + 0.015, t1);
    /* the bounds */
    fprintf(fp, "# panel 1: bounds on the test error (a probability)\n");
    fprintf(fp, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", t1, b1);
    fprintf(fp, "set xrange [%.17g:%.17g]\nset yrange [%.17g:0.5]\n", lo1, hi1, (double)(n1 ? n1 : 1) + 0.5);
    plot_put_log_tics(fp, "x", lo1, hi1);
    put_rows(fp, sp, 0);
    fprintf(fp, "set xlabel 'bound on the test error (log scale; 1 = vacuous)'\n");
    /* only the kinds present get a key entry */
    const char *sep = "plot ";
    static const char *const bar_style[2] = {"lc rgb '#4c72b0' title 'bound on the trained net'",
                                             "lc rgb '#9467bd' title 'Gibbs bound (stochastic net Q)'"};
    for (int b = 0; b < 2; b++) {
        if (!used[b]) continue;
        fprintf(fp, "%sdata index %d using 2:1:(%.17g):2:($1-0.35):($1+0.35) with boxxyerror %s, \\\n"
                    "     data index %d using 2:1:(sprintf(' %%.3g', $2)) with labels left font ',8' notitle",
                sep, b, lo1, bar_style[b], b);
        sep = ", \\\n     ";
    }
    static const char *const style[4] = {"lc rgb '#2ca02c' lw 2.5", "lc rgb '#d62728' lw 2.5", "lc rgb '#000000' lw 2 dt 2",
                                         "lc rgb '#7f7f7f' lw 1.5 dt 3"};
    for (int k = 0; k < 4; k++) {
        if (k == 1 && isnan(lines[1])) continue; /* no test set */
        char title[160];
        snprintf(title, sizeof title, "%.96s%s", line_title[k], k < 3 && !(lines[k] > 0 && isfinite(lines[k])) ? " (not on a log axis)" : "");
        if (lines[k] > 0 && isfinite(lines[k]))
            fprintf(fp, "%sdata index %d using 1:2 with lines %s title ", sep, 3 + k, style[k]);
        else
            fprintf(fp, "%sNaN with lines %s title ", sep, style[k]);
        sep = ", \\\n     ";
        plot_put_quoted(fp, title);
    }
    fprintf(fp, "\n");
    /* the measures, hatched on their own axis */
    if (n2) {
        fprintf(fp, "# panel 2: measures' fixed-scale values (not bounds, not probabilities)\n");
        fprintf(fp, "unset title\nset label 90 'Measures, not bounds: a bound''s formula at the net''s own norms and margin "
                    "(no union over scales paid)' at screen %.4f, screen %.4f font ',10' front\n", left, t2 + 14.0 / H);
        fprintf(fp, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", t2, b2);
        fprintf(fp, "set xrange [%.17g:%.17g]\nset yrange [%.17g:0.5]\n", lo2, hi2, (double)n2 + 0.5);
        plot_put_log_tics(fp, "x", lo2, hi2);
        put_rows(fp, sp, 1);
        fprintf(fp, "set xlabel 'fixed-scale value of a measure (log scale; not a bound on the error)'\n");
        fprintf(fp, "set key at screen %.4f, screen %.4f left top box opaque reverse Left samplen 2 font ',10'\n", right + 0.015, t2);
        fprintf(fp, "plot data index 2 using 2:1:(%.17g):2:($1-0.35):($1+0.35) with boxxyerror fs pattern 4 border lc rgb '#dd8452' "
                    "lc rgb '#dd8452' title 'measure (fixed scale, not a bound)', \\\n"
                    "     data index 2 using 2:1:(sprintf(' %%.3g', $2)) with labels left font ',8' notitle\n", lo2);
    }
    fprintf(fp, "unset multiplot\n");
    st = tdl_atomic_commit(&af);
done:
    return plot_files_finish(path, &f, st);
}
