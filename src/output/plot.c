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
#include "tdl/error.h"
#include "tdl/fileio.h"
#include "tdl/memory.h"


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
    if (n == 0 || bins == 0) return tdl_error_set(TDL_EINVAL, "a histogram needs values and bins");
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
        return tdl_error_set(TDL_ENOMEM, "out of memory for a histogram");
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

void plot_put_log_tics(FILE *fp, const char *axis, double lo, double hi)
{
    if (!(lo > 0) || !(hi > lo) || !isfinite(hi)) return;
    int d0 = (int)floor(log10(lo) + 1e-9), d1 = (int)ceil(log10(hi) - 1e-9);
    double decades = log10(hi / lo);
    int span = d1 - d0, step = span <= 9 ? 1 : (span + 8) / 9;
    /* mantissas: every decade's 1 (wide ranges), 1-2-5 (up to 3.5 decades),
     * then finer sets while fewer than 4 tics fall in the range */
    static const double sets[4][10] = {{1}, {1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9},
                                       {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8}};
    static const int sizes[4] = {1, 3, 10, 10};
    double v[64];
    int n = 0;
    for (int set = decades <= 3.5 ? 1 : 0; set < 4; set++) {
        n = 0;
        for (int d = d0; d <= d1 && n < 64; d++) {
            if (set == 0 && (d - d0) % step) continue;
            for (int k = 0; k < sizes[set] && n < 64; k++) {
                double t = sets[set][k] * pow(10.0, d);
                if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) v[n++] = t;
            }
        }
        if (n >= 4 || set == 0) break;
    }
    fprintf(fp, "set %stics (", axis);
    if (n >= 2) {
        for (int k = 0; k < n; k++) fprintf(fp, "%s'%g' %.17g", k ? ", " : "", v[k], v[k]);
    } else { /* a range inside one fine step: its ends and two points between */
        for (int k = 0; k < 4; k++) {
            double t = lo * pow(hi / lo, k / 3.0);
            fprintf(fp, "%s'%.3g' %.17g", k ? ", " : "", t, t);
        }
    }
    fprintf(fp, ")\nset m%stics %d\n", axis, decades > 3.5 && span <= 9 ? 10 : 1);
}

const char *plot_caption_path(const char *path)
{
    if (!path || path[0] != '/') return path ? path : "";
    const char *slash = strrchr(path, '/');
    return slash[1] ? slash + 1 : path;
}

/* Markers: small for dense scatters, larger when a series has few points
 * (a handful of widths or sample sizes must stay visible). */
static const char *style_name(plot_style s, size_t n)
{
    switch (s) {
    case PLOT_POINTS: return n <= 64 ? "points pt 7 ps 1.1" : "points pt 7 ps 0.5";
    case PLOT_LINESPOINTS: return n <= 64 ? "linespoints pt 7 ps 1.0" : "linespoints pt 7 ps 0.5";
    case PLOT_BOXES: return "boxes fs solid 0.5";
    case PLOT_IMPULSES: return "impulses";
    case PLOT_DASHED: return "lines lw 2 dt 2";
    default: return "lines lw 2";
    }
}

int plot_run(const char *path, const char *gp, const char *dat)
{
    /* The figure goes through the atomic writer like every output (fileio.c):
     * gnuplot renders into its temporary (registered for removal on a signal,
     * with the mode the rules give), which _commit renames onto the figure's
     * name (or a symbolic link's target); a character device or FIFO is
     * written in place (gnuplot opens it itself); a directory is refused. */
    tdl_atomic_file af;
    int st = tdl_atomic_begin(path, &af);
    if (st != TDL_OK) return st;
    const char *render = af.in_place ? path : af.tmp_path;
    char cwd[4096] = "";
    if (render[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        st = tdl_error_set(TDL_EIO, "%s: cannot find the working directory: %s", path, strerror(errno));
        tdl_atomic_abort(&af);
        return st;
    }
    /* gnuplot runs in the figure's directory, on the script's base name */
    pid_t pid = fork();
    if (pid < 0) {
        st = tdl_error_set(TDL_EIO, "cannot start gnuplot: %s", strerror(errno));
        tdl_atomic_abort(&af);
        return st;
    }
    if (pid == 0) {
        char dir[4096], expr[8192];
        const char *slash = strrchr(path, '/');
        size_t dir_len = slash ? (size_t)(slash - path) : 0;
        if (dir_len >= sizeof dir) _exit(126);
        memcpy(dir, path, dir_len);
        dir[dir_len] = 0;
        if (dir[0] && chdir(dir) != 0) _exit(126);
        /* the temporary's name hides the extension: term= names the format;
         * the output by its absolute name (the working directory changed) */
        int w = snprintf(expr, sizeof expr, "out='%s%s%s'; term='%s'", cwd, cwd[0] ? "/" : "", render, ext_of(path));
        if (w < 0 || (size_t)w >= sizeof expr || strchr(render, '\'') || strchr(cwd, '\'')) _exit(126);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execlp("gnuplot", "gnuplot", "-e", expr, strrchr(gp, '/') ? strrchr(gp, '/') + 1 : gp, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            st = tdl_error_set(TDL_EIO, "%s: gnuplot is not installed (apt-get install gnuplot-nox); the data and script are in %s and %s", path, dat, gp);
        else
            st = tdl_error_set(TDL_EIO, "%s: gnuplot failed (script %s)", path, gp);
        tdl_atomic_abort(&af);
        return st;
    }
    /* nothing was written through af.fp: commit closes it and renames the
     * temporary gnuplot filled (or just closes a device written in place) */
    return tdl_atomic_commit(&af);
}

void plot_put_preamble(FILE *fp, const char *path, const char *dat, int width, int height,
                       double width_in, double height_in)
{
    const char *fig_name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *ext = ext_of(path);
    fprintf(fp, "# gnuplot script written by tdl; the data are in ");
    fputs(strrchr(dat, '/') ? strrchr(dat, '/') + 1 : dat, fp);
    fprintf(fp, ".\n# Render: gnuplot THIS.gp   (or another format: gnuplot -e \"out='fig.pdf'\" THIS.gp)\n");
    fprintf(fp, "if (!exists('out')) out = ");
    plot_put_quoted(fp, fig_name);
    fprintf(fp, "\nif (!exists('data')) data = ");
    plot_put_quoted(fp, strrchr(dat, '/') ? strrchr(dat, '/') + 1 : dat);
    /* the format: term= when given, else the extension of out */
    fprintf(fp, "\nif (!exists('term')) term = (strlen(out) > 3 ? out[strlen(out)-2:strlen(out)] : ");
    plot_put_quoted(fp, ext);
    fprintf(fp, ")\n"
                "if (term eq 'pdf') {\n"
                "    set terminal pdfcairo noenhanced size %.3gin,%.3gin font 'Sans,9'\n"
                "} else {\n"
                "    if (term eq 'svg') {\n"
                "        set terminal svg noenhanced size %d,%d dynamic font 'Sans,11' background rgb 'white'\n"
                "    } else {\n"
                "        set terminal pngcairo noenhanced size %d,%d font 'Sans,11'\n"
                "    }\n"
                "}\n"
                "set output out\nset encoding utf8\n",
            width_in, height_in, width, height, width, height);
}

/* The caption with every absolute path (a '/' opening a word, then another
 * '/' before the word ends) cut to its base name. */
static void strip_absolute_paths(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < len;) {
        int opens = in[i] == '/' && (i == 0 || strchr(" \t:,=(['\"", in[i - 1])) && in[i + 1] && in[i + 1] != ' ';
        if (opens) {
            size_t end = i;
            while (in[end] && !strchr(" \t,;)]'\"", in[end])) end++;
            size_t last = i, slashes = 0;
            for (size_t k = i; k < end; k++)
                if (in[k] == '/') { last = k; slashes++; }
            if (slashes >= 2 && last + 1 < end) {
                for (size_t k = last + 1; k < end && o + 1 < len; k++) out[o++] = in[k];
                i = end;
                continue;
            }
        }
        out[o++] = in[i++];
    }
    out[o] = 0;
}

void plot_put_caption(FILE *fp, const char *caption_in)
{
    if (!caption_in || !caption_in[0]) return;
    char caption[4096];
    strip_absolute_paths(caption_in, caption, sizeof caption);
    /* up to three lines of at most ~130 characters, broken at spaces */
    enum { WIDTH = 130, LINES = 3 };
    const char *p = caption;
    char line[LINES][WIDTH + 8];
    int n = 0;
    while (*p && n < LINES) {
        size_t len = strlen(p), take = len;
        if (len > WIDTH) {
            take = WIDTH;
            while (take > WIDTH / 2 && p[take] != ' ') take--;
            if (p[take] != ' ') take = WIDTH;
        }
        if (n == LINES - 1 && len > take) { /* the last line keeps the end, shortened */
            snprintf(line[n], sizeof line[n], "%.*s...", (int)(take - 3), p);
        } else {
            snprintf(line[n], sizeof line[n], "%.*s", (int)take, p);
        }
        n++;
        p += take;
        while (*p == ' ') p++;
    }
    fprintf(fp, "set bmargin %d\n", 4 + 2 * n);
    for (int k = 0; k < n; k++) {
        fprintf(fp, "set label %d ", 97 + k);
        plot_put_quoted(fp, line[k]);
        fprintf(fp, " at screen 0.015, screen %.3f font ',8' front\n", 0.02 + 0.035 * (n - 1 - k));
    }
}

int plot_also(const char *path, const char *ext)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return tdl_error_set(TDL_EINVAL, "%s: a figure must end in .png, .svg or .pdf", path);
    size_t base = (size_t)(dot - path), len = base + 8;
    char *other = tdl_malloc(len, "a file name"), *gp = tdl_malloc(len, "a file name"), *dat = tdl_malloc(len, "a file name");
    int st = TDL_OK;
    if (!other || !gp || !dat) { st = TDL_ENOMEM; goto done; }
    snprintf(other, len, "%.*s.%s", (int)base, path, ext);
    snprintf(gp, len, "%.*s.gp", (int)base, path);
    snprintf(dat, len, "%.*s.dat", (int)base, path);
    if (access(gp, R_OK) != 0) { st = tdl_error_set(TDL_EIO, "%s: no gnuplot script beside the figure", gp); goto done; }
    st = plot_run(other, gp, dat);
done:
    free(other);
    free(gp);
    free(dat);
    return st;
}

int plot_render(const char *path, const plot_spec *spec)
{
    return plot_render_y2(path, spec, NULL);
}

int plot_check_target(const char *path)
{
    const char *ext = ext_of(path);
    if (strcmp(ext, "png") && strcmp(ext, "svg") && strcmp(ext, "pdf"))
        return tdl_error_set(TDL_EINVAL, "%s: a figure must end in .png, .svg or .pdf", path);
    /* a figure path the writer refuses (a directory, ...) is refused before
     * its data and script are written beside it */
    tdl_atomic_file probe;
    int st = tdl_atomic_begin(path, &probe);
    if (st != TDL_OK) return st;
    tdl_atomic_abort(&probe);
    return TDL_OK;
}

int plot_files_begin(const char *path, plot_files *f)
{
    f->dat = f->gp = NULL;
    int st = plot_check_target(path);
    if (st != TDL_OK) return st;
    size_t base = (size_t)(ext_of(path) - path) - 1, len = base + 8;
    f->dat = tdl_malloc(len, "a file name");
    f->gp = tdl_malloc(len, "a file name");
    if (!f->dat || !f->gp) return plot_files_finish(path, f, TDL_ENOMEM);
    snprintf(f->dat, len, "%.*s.dat", (int)base, path);
    snprintf(f->gp, len, "%.*s.gp", (int)base, path);
    return TDL_OK;
}

int plot_files_finish(const char *path, plot_files *f, int st)
{
    if (st == TDL_OK) st = plot_run(path, f->gp, f->dat);
    free(f->dat);
    free(f->gp);
    f->dat = f->gp = NULL;
    return st;
}

int plot_render_y2(const char *path, const plot_spec *spec, const plot_axis2 *y2)
{
    return plot_render_marked(path, spec, y2, NULL, 0);
}

int plot_render_marked(const char *path, const plot_spec *spec, const plot_axis2 *y2, const plot_xmark *marks,
                       size_t n_marks)
{
    plot_files f;
    int st = plot_files_begin(path, &f);
    if (st != TDL_OK) return st;
    const char *dat = f.dat, *gp = f.gp;
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
    if ((st = tdl_atomic_begin(gp, &af)) != TDL_OK) goto done;
    FILE *fp = af.fp;
    plot_put_preamble(fp, path, dat, 900, 600, 6.0, 4.0);
    fprintf(fp, "set key top right box opaque\nset grid\n");
    if (spec->title) { fprintf(fp, "set title "); plot_put_quoted(fp, spec->title); fputc('\n', fp); }
    if (spec->xlabel) { fprintf(fp, "set xlabel "); plot_put_quoted(fp, spec->xlabel); fputc('\n', fp); }
    if (spec->ylabel) { fprintf(fp, "set ylabel "); plot_put_quoted(fp, spec->ylabel); fputc('\n', fp); }
    if (spec->logx) fprintf(fp, "set logscale x\nset format x '%%g'\n");
    if (spec->logy) fprintf(fp, "set logscale y\nset format y '%%g'\n");
    /* a right axis: the key moves off the top corner where rising curves end */
    if (y2) fprintf(fp, "set key center right\n");
    if (spec->ymin > 0) fprintf(fp, "set yrange [%.17g:*]\n", spec->ymin);
    if (y2) {
        fprintf(fp, "set y2label ");
        plot_put_quoted(fp, y2->label ? y2->label : "");
        fprintf(fp, "\nset y2tics\nset ytics nomirror\n");
        if (y2->max > y2->min) fprintf(fp, "set y2range [%.17g:%.17g]\n", y2->min, y2->max);
    }
    /* labelled positions: a dotted line, the label on the top axis */
    if (n_marks) {
        fprintf(fp, "set link x2\nset x2tics scale 0 (");
        for (size_t k = 0; k < n_marks; k++) {
            fprintf(fp, "%s", k ? ", " : "");
            plot_put_quoted(fp, marks[k].label ? marks[k].label : "");
            fprintf(fp, " %.17g", marks[k].x);
        }
        fprintf(fp, ")\nset xtics nomirror\n");
        for (size_t k = 0; k < n_marks; k++)
            fprintf(fp, "set arrow %zu from first %.17g, graph 0 to first %.17g, graph 1 nohead dt 3 lc rgb 'gray40' back\n", 10 + k,
                    marks[k].x, marks[k].x);
    }
    plot_put_caption(fp, spec->caption);
    fprintf(fp, "plot ");
    int dashed = 0;
    for (size_t s = 0; s < spec->n_series; s++) {
        /* the k-th dashed series in the colour of the k-th series */
        char lt[32] = "";
        if (spec->series[s].style == PLOT_DASHED) snprintf(lt, sizeof lt, " lt %d", ++dashed);
        fprintf(fp, "%sdata index %zu using 1:2%s with %s%s title ", s ? ", \\\n     " : "", s,
                y2 && s < 64 && (y2->series >> s & 1ULL) ? " axes x1y2" : "", style_name(spec->series[s].style, spec->series[s].n), lt);
        plot_put_quoted(fp, spec->series[s].title ? spec->series[s].title : "");
    }
    fprintf(fp, "\n");
    st = tdl_atomic_commit(&af);
done:
    return plot_files_finish(path, &f, st);
}
