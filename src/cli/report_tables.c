/* report_tables.c — `tdl report`: numbers as the report prints them, the
 * eigenvalue tables (tables/NAME.csv, full precision) and the three figures
 * the report draws itself from its commands' outputs: the histogram of the
 * Hessian's eigenvalues (json/hessian.json), the NTK drift during training
 * (the column ntk_drift of tables/training.csv, tdl train --log) and the
 * bounds as horizontal bars named by their rows (json/bounds.json).
 */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"
#include "bounds_chart.h"
#include "report.h"
#include "tdl/error.h"
#include "tdl/fileio.h"

const char *report_num(char *buf, size_t len, double v)
{
    if (isnan(v)) sfmt(buf, len, "-");
    else sfmt(buf, len, "%.6g", v);
    return buf;
}

void report_top_values(const cJSON *arr, int k, char *out, size_t len)
{
    int n = cJSON_GetArraySize(arr);
    out[0] = 0;
    char b[64];
    for (int i = n - 1; i >= 0 && i >= n - k; i--) {
        size_t l = strlen(out);
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        sfmt(out + l, len - l, "%s%s", l ? ", " : "", report_num(b, sizeof b, cJSON_IsNumber(v) ? v->valuedouble : NAN));
    }
}

void report_certified_values(const cJSON *arr, const cJSON *bounds, int k, char *out, size_t len)
{
    int n = cJSON_GetArraySize(arr), nb = cJSON_IsArray(bounds) ? cJSON_GetArraySize(bounds) : 0;
    out[0] = 0;
    char b[64];
    for (int i = n - 1; i >= 0 && i >= n - k; i--) {
        size_t l = strlen(out);
        const cJSON *v = cJSON_GetArrayItem(arr, i), *e = i < nb ? cJSON_GetArrayItem(bounds, i) : NULL;
        report_certified_value(cJSON_IsNumber(v) ? v->valuedouble : NAN, cJSON_IsNumber(e) ? e->valuedouble : NAN, b, sizeof b);
        sfmt(out + l, len - l, "%s%s", l ? ", " : "", b);
    }
}

void report_certified_value(double x, double eb, char *out, size_t len)
{
    if (!(isfinite(x) && x != 0 && eb > 0 && isfinite(eb))) {
        report_num(out, len, x);
        return;
    }
    int digits = (int)floor(log10(fabs(x) / eb));
    if (digits < 1) digits = 1;
    if (digits > 15) digits = 15;
    sfmt(out, len, "%.*g", digits, x);
}

void report_values_csv(report *r, const char *name, const char *const *head, const cJSON *const *cols, size_t ncols)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/tables/%s.csv", r->tmp, name);
    tdl_atomic_file af;
    if (tdl_atomic_begin(p, &af) != TDL_OK) { r->failures++; return; }
    fputs("index", af.fp);
    for (size_t k = 0; k < ncols; k++) fprintf(af.fp, ",%s", head[k]);
    fputc('\n', af.fp);
    int rows = 0;
    for (size_t k = 0; k < ncols; k++)
        if (cols[k] && cJSON_GetArraySize(cols[k]) > rows) rows = cJSON_GetArraySize(cols[k]);
    for (int i = 0; i < rows; i++) {
        fprintf(af.fp, "%d", i);
        for (size_t k = 0; k < ncols; k++) {
            const cJSON *v = cols[k] ? cJSON_GetArrayItem(cols[k], i) : NULL;
            if (cJSON_IsNumber(v)) fprintf(af.fp, ",%.17g", v->valuedouble);
            else fputc(',', af.fp);
        }
        fputc('\n', af.fp);
    }
    if (tdl_atomic_commit(&af) != TDL_OK) r->failures++;
}

int report_hessian_histogram(report *r, const cJSON *h)
{
    const cJSON *ev = rk_item(h, RK_HESS_EIGENVALUES);
    const cJSON *gv = rk_item(h, RK_HESS_GN_EIGENVALUES);
    int n = cJSON_GetArraySize(ev), ng = cJSON_GetArraySize(gv);
    if (!cJSON_IsArray(ev) || n < 1) return tdl_error_set(TDL_EFORMAT, "json/hessian.json: no eigenvalues");
    enum { BINS = 60 };
    double lo = INFINITY, hi = -INFINITY;
    const cJSON *it;
    /* the key table admits null entries (a value that was not finite): not counted */
    cJSON_ArrayForEach(it, ev) if (cJSON_IsNumber(it)) { lo = fmin(lo, it->valuedouble); hi = fmax(hi, it->valuedouble); }
    cJSON_ArrayForEach(it, gv) if (cJSON_IsNumber(it)) { lo = fmin(lo, it->valuedouble); hi = fmax(hi, it->valuedouble); }
    if (!isfinite(lo) || !isfinite(hi)) return tdl_error_set(TDL_EFORMAT, "json/hessian.json: no finite eigenvalue");
    if (!(hi > lo)) { hi = lo + 0.5; lo -= 0.5; }
    double centre[BINS], ch[BINS], cg[BINS], w = (hi - lo) / BINS;
    for (int b = 0; b < BINS; b++) { centre[b] = lo + (b + 0.5) * w; ch[b] = cg[b] = 0; }
    cJSON_ArrayForEach(it, ev) if (cJSON_IsNumber(it)) { int b = (int)((it->valuedouble - lo) / w); ch[b < BINS ? b : BINS - 1] += 1; }
    cJSON_ArrayForEach(it, gv) if (cJSON_IsNumber(it)) { int b = (int)((it->valuedouble - lo) / w); cg[b < BINS ? b : BINS - 1] += 1; }
    plot_series ser[2] = {{"H = G + R", centre, ch, BINS, PLOT_BOXES}, {"Gauss-Newton part G", centre, cg, BINS, PLOT_LINESPOINTS}};
    char title[128], cap[1024], p[PATH_MAX + 64];
    sfmt(title, sizeof title, "Hessian spectrum: all %d eigenvalues of H and of G (LAPACK)", n);
    sfmt(cap, sizeof cap, "%s (%s), all parameters, loss %s (%s) = %.6g; data %s; exact H and G (tdl hessian --gn), 60 common bins",
         r->o.user_model ? plot_caption_path(r->model) : "model.safetensors", rk_text(h, RK_HESS_ARCH, "?"),
         rk_text(h, RK_HESS_LOSS_NAME, "?"), rk_text(h, RK_HESS_REDUCTION, "mean"), rk_num(h, RK_HESS_LOSS), r->data);
    plot_spec spec = {0};
    spec.title = title;
    spec.xlabel = "eigenvalue (Hessian of the mean training loss)";
    spec.ylabel = "count (log scale)";
    spec.caption = cap;
    spec.logy = 1;
    spec.ymin = 0.5; /* single eigenvalues stay visible */
    spec.series = ser;
    spec.n_series = ng > 0 ? 2 : 1;
    sfmt(p, sizeof p, "%s/fig/hessian-spectrum.png", r->tmp);
    return plot_render(p, &spec);
}

/* Column `name` of tables/training.csv (NaN where empty); n rows.
 *
 * Its own reader, not tdl_csv_read (tdl/io.h): that one skips the header
 * (the column is found by its name here) and refuses empty cells, which the
 * log has where a value was not computed (test_loss without --test, a
 * non-finite loss).  A public reader of a CSV with a header and empty cells
 * (say tdl_csv_read_table(path, &names, &matrix), NaN for empty cells)
 * would replace it. */
static int read_log_column(const report *r, const char *name, double **epochs, double **vals, size_t *n)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/tables/training.csv", r->tmp);
    FILE *fp = fopen(p, "r");
    *epochs = *vals = NULL;
    *n = 0;
    if (!fp) return -1;
    char line[4096];
    int col = -1, rc = -1;
    size_t cap = 0;
    if (fgets(line, sizeof line, fp)) {
        int k = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
            if (strcmp(tok, name) == 0) col = k;
    }
    if (col < 0) goto done;
    while (fgets(line, sizeof line, fp)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            double *e = realloc(*epochs, cap * sizeof(double)), *v = e ? realloc(*vals, cap * sizeof(double)) : NULL;
            if (e) *epochs = e;
            if (!e || !v) goto done;
            *vals = v;
        }
        /* fields may be empty: walk by commas */
        const char *f = line;
        double ep = NAN, val = NAN;
        for (int k = 0; f; k++) {
            if (k == 0) ep = strtod(f, NULL);
            if (k == col) val = (*f == ',' || *f == '\n' || !*f) ? NAN : strtod(f, NULL);
            f = strchr(f, ',');
            if (f) f++;
        }
        (*epochs)[*n] = ep;
        (*vals)[*n] = val;
        (*n)++;
    }
    rc = 0;
done:
    fclose(fp);
    return rc;
}

void report_ntk_drift_figure(report *r, const char *arch, const char *act)
{
    double *ep = NULL, *dr = NULL;
    size_t n = 0;
    if (read_log_column(r, "ntk_drift", &ep, &dr, &n) == 0 && n > 0) {
        char p[PATH_MAX + 64], cap[512];
        sfmt(p, sizeof p, "%s/fig/ntk-drift.png", r->tmp);
        sfmt(cap, sizeof cap, "model.safetensors (%s, %s), data %s; empirical NTK (traced) on the first 256 training inputs; seed %lu",
             arch, act, r->data, r->o.seed);
        plot_series s = {"||K_t - K_0||_F / ||K_0||_F", ep, dr, n, PLOT_LINESPOINTS};
        plot_spec spec = {.title = "NTK drift during training", .xlabel = "epoch", .ylabel = "relative change of the NTK (Frobenius)",
                          .caption = cap, .series = &s, .n_series = 1};
        if (plot_render(p, &spec) != TDL_OK) {
            if (!r->o.quiet) fprintf(stderr, "tdl report: %s\n", tdl_errmsg());
            r->failures++;
        } else {
            report_other_formats(r, "ntk-drift");
        }
    }
    free(ep);
    free(dr);
}

/* ---- fig/bounds: the bounds as horizontal bars ------------------------------------ */

/* The kind of a row: 1 bound, 0 measure, -1 not stated (a tdl bounds older
 * than the keys "kind" and "fixed_scale_value": a row with a bound is drawn
 * as a bound, as that command presented it). */
int report_bound_kind(const cJSON *m)
{
    const char *k = rk_str(m, RK_MEAS_KIND);
    if (!k) return -1;
    return strcmp(k, "bound") == 0 ? 1 : 0;
}

int report_bounds_figure(report *r, const cJSON *b, double chance, size_t m)
{
    const cJSON *ms = rk_item(b, RK_BOUNDS_MEASURES), *it;
    size_t cap = (size_t)cJSON_GetArraySize(ms), n = 0, n_meas = 0, n_bound = 0;
    plot_bar *bars = calloc(cap ? cap : 1, sizeof *bars);
    if (!bars) {
        tdl_error_set(TDL_ENOMEM, "out of memory for the bounds figure");
        goto fail;
    }
    /* the rows in table order: a bound with its bound, coloured by its
     * classifier; a measure with its fixed-scale value (own panel, hatched) */
    cJSON_ArrayForEach(it, ms) {
        if (rk_bool(it, RK_MEAS_AVAILABLE) == 0) continue;
        int kind = report_bound_kind(it);
        double v = kind == 0 ? rk_num(it, RK_MEAS_FIXED_SCALE) : rk_num(it, RK_MEAS_BOUND);
        if (!(v > 0) || !isfinite(v)) continue; /* no value, or none a log axis can show */
        const char *cls = rk_str(it, RK_MEAS_CLASSIFIER);
        plot_bar_kind k = kind == 0 ? PLOT_BAR_MEASURE : cls && strcmp(cls, "gibbs") == 0 ? PLOT_BAR_GIBBS : PLOT_BAR_BOUND;
        bars[n++] = (plot_bar){rk_text(it, RK_MEAS_NAME, "?"), v, k};
        n_meas += (size_t)(kind == 0);
        n_bound += (size_t)(kind != 0);
    }
    double train = rk_num(b, RK_BOUNDS_TRAIN_ERROR), test = r->has_test ? rk_num(b, RK_BOUNDS_TEST_ERROR) : NAN;
    char png[PATH_MAX + 64], caption[512];
    sfmt(png, sizeof png, "%s/fig/bounds.png", r->tmp);
    sfmt(caption, sizeof caption, "%s, m = %zu training examples; %zu bounds (top)%s; delta as in the table; lines at the train error%s, "
         "chance (1 - 1 over C classes) and 1; bars start at the axis' left edge",
         r->o.user_model ? plot_caption_path(r->model) : "model.safetensors", m, n_bound,
         n_meas ? " and the fixed-scale values of the measures (bottom, hatched: not bounds)" : "", r->has_test ? ", the test error" : "");
    plot_bounds_spec spec = {.title = "Generalization bounds on the test error", .caption = caption, .bars = bars, .n_bars = n,
                             .train_error = train, .test_error = test, .chance = chance};
    /* gnuplot runs with the terminating signals held (report_other_formats) */
    sigset_t held, prev;
    report_stop_signal_set(&held);
    sigprocmask(SIG_BLOCK, &held, &prev);
    int st = plot_bounds_chart(png, &spec);
    sigprocmask(SIG_SETMASK, &prev, NULL);
    free(bars);
    bars = NULL;
    if (st != TDL_OK) goto fail;
    report_other_formats(r, "bounds");
    return 0;
fail:
    free(bars);
    if (!r->o.quiet) fprintf(stderr, "tdl report: the bounds figure: %s\n", tdl_errmsg());
    r->failures++;
    /* no figure of tdl bounds left under the report's caption */
    const char *exts[3] = {"png", "svg", "pdf"};
    for (int k = 0; k < 3; k++) {
        char p[PATH_MAX + 64];
        sfmt(p, sizeof p, "%s/fig/bounds.%s", r->tmp, exts[k]);
        unlink(p);
    }
    return -1;
}
