/* plot.c — gnuplot figures (see plot.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "plot.h"
#include "internal.h"

static const char *ext_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

/* gnuplot string literal: single quotes, doubled inside. */
void plot_put_quoted(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (; s && *s; s++) {
        if (*s == '\'') fputc('\'', fp);
        if (*s != '\n') fputc(*s, fp);
    }
    fputc('\'', fp);
}

int plot_histogram(const double *v, size_t n, size_t bins, double **centres, double **counts)
{
    *centres = *counts = NULL;
    if (n == 0 || bins == 0) return tdl_fail(TDL_EINVAL, "a histogram needs values and bins");
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    if (hi == lo) {
        hi = lo + 0.5;
        lo -= 0.5;
    }
    double *c = calloc(bins, sizeof *c), *k = calloc(bins, sizeof *k);
    if (!c || !k) {
        free(c);
        free(k);
        return tdl_fail(TDL_ENOMEM, "out of memory for a histogram");
    }
    double w = (hi - lo) / (double)bins;
    for (size_t b = 0; b < bins; b++) c[b] = lo + ((double)b + 0.5) * w;
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((v[i] - lo) / w);
        k[b < bins ? b : bins - 1] += 1;
    }
    *centres = c;
    *counts = k;
    return TDL_OK;
}

int plot_spans_decades(const double *v, size_t n, double decades)
{
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    return isfinite(lo) && hi / lo > pow(10.0, decades);
}

static const char *style_name(plot_style s)
{
    switch (s) {
    case PLOT_POINTS: return "points pt 7 ps 0.5";
    case PLOT_LINESPOINTS: return "linespoints pt 7 ps 0.5";
    case PLOT_BOXES: return "boxes fs solid 0.5";
    case PLOT_IMPULSES: return "impulses";
    default: return "lines lw 2";
    }
}

int plot_run(const char *path, const char *gp, const char *dat)
{
    size_t len = strlen(path) + 32;
    char *tmp_fig = tdl_malloc(len, "a file name");
    if (!tmp_fig) return TDL_ENOMEM;
    snprintf(tmp_fig, len, "%s.tmp.%ld", path, (long)getpid());
    int st = TDL_OK;
    /* gnuplot runs in the figure's directory, on the script's base name */
    pid_t pid = fork();
    if (pid < 0) {
        st = tdl_fail(TDL_EIO, "cannot start gnuplot: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        char dir[4096], expr[8192];
        snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 0), path);
        if (dir[0] && chdir(dir) != 0) _exit(126);
        snprintf(expr, sizeof expr, "out='%s'", strrchr(tmp_fig, '/') ? strrchr(tmp_fig, '/') + 1 : tmp_fig);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execlp("gnuplot", "gnuplot", "-e", expr, strrchr(gp, '/') ? strrchr(gp, '/') + 1 : gp, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(tmp_fig);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            st = tdl_fail(TDL_EIO, "%s: gnuplot is not installed (apt-get install gnuplot-nox); the data and script are in %s and %s", path, dat, gp);
        else
            st = tdl_fail(TDL_EIO, "%s: gnuplot failed (script %s)", path, gp);
        goto done;
    }
    if (rename(tmp_fig, path) != 0) {
        unlink(tmp_fig);
        st = tdl_fail(TDL_EIO, "%s: cannot write the figure: %s", path, strerror(errno));
    }
done:
    free(tmp_fig);
    return st;
}

int plot_render(const char *path, const plot_spec *spec)
{
    const char *ext = ext_of(path);
    const char *term;
    if (strcmp(ext, "png") == 0) term = "pngcairo size 900,600 font 'Sans,11'";
    else if (strcmp(ext, "svg") == 0) term = "svg size 900,600 dynamic font 'Sans,11'";
    else if (strcmp(ext, "pdf") == 0) term = "pdfcairo size 6in,4in font 'Sans,10'";
    else return tdl_fail(TDL_EINVAL, "%s: a figure must end in .png, .svg or .pdf", path);
    size_t base_len = (size_t)(ext - path) - 1;
    char *dat = tdl_malloc(base_len + 8, "a file name"), *gp = tdl_malloc(base_len + 8, "a file name");
    if (!dat || !gp) {
        free(dat);
        free(gp);
        return TDL_ENOMEM;
    }
    snprintf(dat, base_len + 8, "%.*s.dat", (int)base_len, path);
    snprintf(gp, base_len + 8, "%.*s.gp", (int)base_len, path);
    int st;
    /* data: one block per series, separated by two blank lines (gnuplot index) */
    tdl_atomic_file af;
    if ((st = tdl_atomic_begin(dat, &af)) != TDL_OK) goto done;
    for (size_t s = 0; s < spec->n_series; s++) {
        fprintf(af.fp, "# %s\n", spec->series[s].title ? spec->series[s].title : "");
        for (size_t i = 0; i < spec->series[s].n; i++) {
            double x = spec->series[s].x[i], y = spec->series[s].y[i];
            if (isfinite(x) && isfinite(y)) fprintf(af.fp, "%.17g %.17g\n", x, y);
            else fprintf(af.fp, "\n"); /* gap */
        }
        fprintf(af.fp, "\n\n");
    }
    if ((st = tdl_atomic_commit(&af)) != TDL_OK) goto done;
    /* script: renders to the name given on the command line (-e "out='...'") */
    const char *dat_base = strrchr(dat, '/') ? strrchr(dat, '/') + 1 : dat;
    if ((st = tdl_atomic_begin(gp, &af)) != TDL_OK) goto done;
    FILE *fp = af.fp;
    fprintf(fp, "# gnuplot script written by tdl; render with: gnuplot %s\n", strrchr(gp, '/') ? strrchr(gp, '/') + 1 : gp);
    fprintf(fp, "if (!exists('out')) out = ");
    plot_put_quoted(fp, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
    fprintf(fp, "\nif (!exists('data')) data = ");
    plot_put_quoted(fp, dat_base);
    fprintf(fp, "\nset terminal %s\nset output out\n", term);
    fprintf(fp, "set encoding utf8\nset key top right\nset grid\n");
    if (spec->title) { fprintf(fp, "set title "); plot_put_quoted(fp, spec->title); fputc('\n', fp); }
    if (spec->xlabel) { fprintf(fp, "set xlabel "); plot_put_quoted(fp, spec->xlabel); fputc('\n', fp); }
    if (spec->ylabel) { fprintf(fp, "set ylabel "); plot_put_quoted(fp, spec->ylabel); fputc('\n', fp); }
    if (spec->logx) fprintf(fp, "set logscale x\n");
    if (spec->logy) fprintf(fp, "set logscale y\n");
    if (spec->ymin > 0) fprintf(fp, "set yrange [%.17g:*]\n", spec->ymin);
    if (spec->caption) {
        fprintf(fp, "set bmargin 6\nset label 99 ");
        plot_put_quoted(fp, spec->caption);
        fprintf(fp, " at screen 0.02, screen 0.03 font ',8'\n");
    }
    fprintf(fp, "plot ");
    for (size_t s = 0; s < spec->n_series; s++) {
        fprintf(fp, "%sdata index %zu using 1:2 with %s title ", s ? ", \\\n     " : "", s, style_name(spec->series[s].style));
        plot_put_quoted(fp, spec->series[s].title ? spec->series[s].title : "");
    }
    fprintf(fp, "\n");
    if ((st = tdl_atomic_commit(&af)) != TDL_OK) goto done;
    st = plot_run(path, gp, dat);
done:
    free(dat);
    free(gp);
    return st;
}
