/* cmd_landscape.c — `tdl landscape`: 1D / 2D loss-landscape slices,
 * interpolation between models, and mode connectivity (tdl/landscape.h).
 *
 *   1D   a random direction around --model (default), or the straight line
 *        (1 - a) M + a M2 with --to (Goodfellow et al. 2015)
 *   2D   --plane random (two seeded Gaussian directions, normalized),
 *        hessian (top two Hessian eigenvectors), models (the plane through
 *        --model, --to, --via), pca (the top two principal components of a
 *        training trajectory from `tdl train --log-params`)
 *   curve  --to M2 --curve bezier|chain: train the bend (Garipov et al. 2018)
 *        and compare the barrier with the straight line's
 * Grids are resumable: -o FILE.npz keeps a `filled` mask; --resume FILE.npz
 * continues, --max-cells N stops after N new cells.
 *
 * Under mpirun (dist_cli.h) every rank parses, loads and builds the slice;
 * the directions are then rank 0's (broadcast; a Hessian plane's Lanczos
 * runs on rank 0 alone), the grid's cells and the curves' points are dealt
 * over the ranks (tdl_dist_landscape_eval, tdl_dist_curve_eval: equal bit
 * for bit to one process), a curve's bend is trained on rank 0 and
 * broadcast, and rank 0 alone writes the files and prints.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "provenance.h"
#include "plot.h"
#include "tdl/landscape.h"
#include "tdl/dist.h"
#include "dist_cli.h"

/* seconds between checkpoints of a grid written with -o */
#define CHECKPOINT_SECONDS 30.0

typedef struct land_opts {
    const char *data, *test, *to, *via, *plane, *trajectory, *curve, *out, *plot, *resume, *directions;
    const char *norm, *bias;
    int plane_kind;            /* tdl_plane_kind, -1 without --plane */
    tdl_dir_norm norm_kind;
    tdl_bias_mode bias_kind;
    tdl_curve_kind curve_kind;
    size_t grid, threads, max_cells, curve_epochs, curve_batch;
    int grid_given, range_given, yrange_given, as_json, quiet;
    int from_init;             /* --from-init: the line from the model's initialization to the model */
    int two_d, interp;         /* a plane (--plane or --via); an interpolation (--to without --via) */
    double lo, hi, ylo, yhi, curve_lr, curve_momentum;
    unsigned long dir_seed;
} land_opts;

/* A refusal for size gets the CLI's advice after the library's message. */
static int fail_advice(int st, const char *advice)
{
    if (st != TDL_ETOOBIG) return cli_fail(st);
    return cli_failf("%s: %s", tdl_errmsg(), advice);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int parse_range(const char *s, double *lo, double *hi)
{
    char buf[128];
    if (!*s || strlen(s) >= sizeof buf) return -1; /* "" would send strchr past the NUL */
    strcpy(buf, s);
    char *colon = strchr(buf + 1, ':'); /* a leading '-' is a sign */
    if (!colon) return -1;
    *colon = 0;
    if (cli_parse_double(buf, lo) != 0 || cli_parse_double(colon + 1, hi) != 0) return -1;
    return *lo < *hi ? 0 : -1;
}

/* A second model of the same structure as m. */
static int load_peer(const char *path, const cli_model_opts *mo, const tdl_mlp *m, tdl_mlp **out)
{
    tdl_act act;
    int st;
    if (mo->act && (st = tdl_act_parse(mo->act, &act)) != TDL_OK) return st;
    if ((st = tdl_mlp_load(path, mo->act ? &act : NULL, out)) != TDL_OK) return st;
    int same = (*out)->depth == m->depth && (*out)->n_params == m->n_params;
    for (size_t l = 0; same && l < m->depth; l++)
        same = (*out)->layers[l].in == m->layers[l].in && (*out)->layers[l].out == m->layers[l].out &&
               (*out)->layers[l].has_bias == m->layers[l].has_bias;
    if (!same) {
        char a[256], b[256];
        tdl_arch_format(*out, a, sizeof a);
        tdl_arch_format(m, b, sizeof b);
        tdl_mlp_free(out);
        return tdl_error_set(TDL_ESHAPE, "%s: the model is %s but --model is %s (a slice needs the same structure)", path, a, b);
    }
    return TDL_OK;
}

/* ---- the grid ------------------------------------------------------------- */

typedef struct grid {
    size_t nx, ny, N;          /* ny = 1 for 1D */
    double *x, *y;
    double *loss, *acc, *tloss, *tacc;  /* N each (t*: with --test) */
    unsigned char *filled;
} grid;

static void grid_free(grid *g)
{
    free(g->x);
    free(g->y);
    free(g->loss);
    free(g->acc);
    free(g->tloss);
    free(g->tacc);
    free(g->filled);
    memset(g, 0, sizeof *g);
}

static int grid_alloc(grid *g, size_t nx, size_t ny, int with_test)
{
    memset(g, 0, sizeof *g);
    g->nx = nx;
    g->ny = ny;
    g->N = nx * ny;
    g->x = tdl_malloc(nx * sizeof(double), "grid coordinates");
    g->y = tdl_malloc(ny * sizeof(double), "grid coordinates");
    g->loss = tdl_malloc(g->N * sizeof(double), "the loss grid");
    g->acc = tdl_malloc(g->N * sizeof(double), "the accuracy grid");
    g->filled = tdl_calloc(g->N, 1, "the grid's filled mask");
    if (with_test) {
        g->tloss = tdl_malloc(g->N * sizeof(double), "the test loss grid");
        g->tacc = tdl_malloc(g->N * sizeof(double), "the test accuracy grid");
    }
    if (!g->x || !g->y || !g->loss || !g->acc || !g->filled || (with_test && (!g->tloss || !g->tacc))) {
        grid_free(g);
        return TDL_ENOMEM;
    }
    for (size_t i = 0; i < g->N; i++) {
        g->loss[i] = g->acc[i] = NAN;
        if (with_test) g->tloss[i] = g->tacc[i] = NAN;
    }
    return TDL_OK;
}

/* What a slice needs besides the grid. */
typedef struct slice {
    const char *mode;          /* "direction", "interpolation", "plane" */
    const char *plane;         /* random hessian models pca (2D) */
    const char *normalization; /* text for the outputs */
    size_t K;
    const double *basis[3];
    double *d1, *d2;           /* owned directions (NULL when the basis holds models) */
    int interpolation;
    double cosine;
    double eig[2], eig_res[2]; /* hessian */
    double ratio[2];           /* pca */
    double *traj;              /* pca: K x 2 coordinates */
    size_t traj_n;
} slice;

static int write_grid(const char *path, const grid *g, const slice *s, size_t P, int two_d)
{
    tdl_tensors *set = tdl_tensors_new();
    if (!set) return tdl_error_set(TDL_ENOMEM, "out of memory for %s", path);
    double *mask = tdl_malloc(g->N * sizeof(double), "the filled mask");
    int st = mask ? TDL_OK : TDL_ENOMEM;
    for (size_t i = 0; mask && i < g->N; i++) mask[i] = g->filled[i];
    size_t shp2[2] = {g->ny, g->nx}, shp1[1] = {g->nx}, shpP[1] = {P};
    size_t nd = two_d ? 2 : 1;
    const size_t *shp = two_d ? shp2 : shp1;
    if (st == TDL_OK) st = tdl_tensors_add(set, "x", 1, &g->nx, g->x);
    if (st == TDL_OK && two_d) st = tdl_tensors_add(set, "y", 1, &g->ny, g->y);
    if (st == TDL_OK) st = tdl_tensors_add(set, "loss", nd, shp, g->loss);
    if (st == TDL_OK) st = tdl_tensors_add(set, "accuracy", nd, shp, g->acc);
    if (st == TDL_OK && g->tloss) st = tdl_tensors_add(set, "test_loss", nd, shp, g->tloss);
    if (st == TDL_OK && g->tacc) st = tdl_tensors_add(set, "test_accuracy", nd, shp, g->tacc);
    if (st == TDL_OK) st = tdl_tensors_add(set, "filled", nd, shp, mask);
    if (st == TDL_OK && s->d1) st = tdl_tensors_add(set, "direction_x", 1, shpP, s->d1);
    if (st == TDL_OK && s->d2) st = tdl_tensors_add(set, "direction_y", 1, shpP, s->d2);
    if (st == TDL_OK && s->traj) {
        size_t ts[2] = {s->traj_n, 2};
        st = tdl_tensors_add(set, "trajectory", 2, ts, s->traj);
    }
    if (st == TDL_OK) st = tdl_npz_write(path, set);
    free(mask);
    tdl_tensors_free(&set);
    return st;
}

/* Arrays of a file written by write_grid, checked against this run's grid. */
static int read_resume(const char *path, grid *g, slice *s, size_t P, int two_d)
{
    tdl_tensors *set = NULL;
    int st = tdl_npz_read(path, &set);
    if (st != TDL_OK) return st;
    const char *names[6] = {"x", "loss", "accuracy", "filled", two_d ? "y" : NULL, NULL};
    for (int i = 0; names[i]; i++)
        if (!tdl_tensors_find(set, names[i])) {
            st = tdl_error_set(TDL_EFORMAT, "%s: no array '%s' (not a grid written by tdl landscape -o)", path, names[i]);
            goto done;
        }
    const tdl_tensor *x = tdl_tensors_find(set, "x"), *y = two_d ? tdl_tensors_find(set, "y") : NULL;
    /* a tainted file is refused, naming the array: coordinates 1-D and
     * finite, the cell arrays of the grid's exact shape, the mask 0 or 1,
     * directions finite (tdl_landscape_check_array) */
    if ((st = tdl_landscape_check_array(path, x, 1, &x->numel, 1)) != TDL_OK ||
        (y && (st = tdl_landscape_check_array(path, y, 1, &y->numel, 1)) != TDL_OK))
        goto done;
    int same = x->numel == g->nx && (!two_d || y->numel == g->ny);
    for (size_t j = 0; same && j < g->nx; j++) same = x->data[j] == g->x[j];
    for (size_t i = 0; same && two_d && i < g->ny; i++) same = y->data[i] == g->y[i];
    if (!same) {
        st = tdl_error_set(TDL_EINVAL, "%s: its grid (%zu x %zu points) differs from this run's (%zu x %zu); give the same --grid and --range",
                      path, two_d ? y->numel : 1, x->numel, g->ny, g->nx);
        goto done;
    }
    const char *arrays[5] = {"loss", "accuracy", "filled", "test_loss", "test_accuracy"};
    double *dest[5] = {g->loss, g->acc, NULL, g->tloss, g->tacc};
    for (int a = 0; a < 5; a++) {
        const tdl_tensor *t = tdl_tensors_find(set, arrays[a]);
        if (a >= 3 && !dest[a]) continue;
        if (!t) {
            st = tdl_error_set(TDL_EINVAL, "%s: no '%s' array to resume (was --test given before?)", path, arrays[a]);
            goto done;
        }
        size_t shape[2] = {g->ny, g->nx};
        if ((st = tdl_landscape_check_array(path, t, two_d ? 2 : 1, two_d ? shape : shape + 1, 0)) != TDL_OK) goto done;
        if (a == 2) {
            for (size_t i = 0; i < g->N; i++)
                if (t->data[i] != 0 && t->data[i] != 1) {
                    st = tdl_error_set(TDL_EFORMAT, "%s: 'filled' value %zu is %g, expected 0 or 1", path, i, t->data[i]);
                    goto done;
                }
            for (size_t i = 0; i < g->N; i++) g->filled[i] = t->data[i] != 0;
        } else {
            memcpy(dest[a], t->data, g->N * sizeof(double));
        }
    }
    /* stored directions are reused (random, hessian, pca planes) */
    const tdl_tensor *dx = tdl_tensors_find(set, "direction_x"), *dy = tdl_tensors_find(set, "direction_y");
    /* every grid written with directions stores them (write_grid); a file
     * without them would leave a Hessian plane's directions unset */
    if ((s->d1 && !dx) || (s->d2 && !dy)) {
        st = tdl_error_set(TDL_EFORMAT, "%s: no array '%s' (not a grid of this slice written by tdl landscape -o)", path,
                      s->d1 && !dx ? "direction_x" : "direction_y");
        goto done;
    }
    if (s->d1 && dx) {
        if (dx->numel != P) { st = tdl_error_set(TDL_ESHAPE, "%s: direction_x has %zu values, the model %zu parameters", path, dx->numel, P); goto done; }
        if ((st = tdl_landscape_check_vector(path, "direction_x", dx->data, P)) != TDL_OK) goto done;
        memcpy(s->d1, dx->data, P * sizeof(double));
    }
    if (s->d2 && dy) {
        if (dy->numel != P) { st = tdl_error_set(TDL_ESHAPE, "%s: direction_y has %zu values, the model %zu parameters", path, dy->numel, P); goto done; }
        if ((st = tdl_landscape_check_vector(path, "direction_y", dy->data, P)) != TDL_OK) goto done;
        memcpy(s->d2, dy->data, P * sizeof(double));
    }
done:
    tdl_tensors_free(&set);
    return st;
}

/* Directions saved by an earlier run (-o FILE.npz). */
static int read_directions(const char *path, slice *s, size_t P)
{
    tdl_tensors *set = NULL;
    int st = tdl_npz_read(path, &set);
    if (st != TDL_OK) return st;
    const tdl_tensor *dx = tdl_tensors_find(set, "direction_x"), *dy = tdl_tensors_find(set, "direction_y");
    if (!dx || (s->d2 && !dy)) st = tdl_error_set(TDL_EFORMAT, "%s: no direction_x%s array", path, s->d2 ? " / direction_y" : "");
    else if (dx->numel != P || (s->d2 && dy->numel != P))
        st = tdl_error_set(TDL_ESHAPE, "%s: the directions have %zu values, the model %zu parameters", path, dx->numel, P);
    else if ((st = tdl_landscape_check_vector(path, "direction_x", dx->data, P)) != TDL_OK ||
             (s->d2 && (st = tdl_landscape_check_vector(path, "direction_y", dy->data, P)) != TDL_OK)) {
        /* NaN or infinite: refused, naming the file and array */
    } else {
        memcpy(s->d1, dx->data, P * sizeof(double));
        if (s->d2) memcpy(s->d2, dy->data, P * sizeof(double));
    }
    tdl_tensors_free(&set);
    return st;
}

/* ---- figures ----------------------------------------------------------------- */

/* A point the map marks and names in its key. */
typedef struct map_mark {
    double x, y;
    const char *title;
} map_mark;

/* Matplotlib's viridis (perceptually uniform; van der Walt and Smith 2015)
 * at 0, 0.1, ..., 1: the published colour map sampled at 11 points. */
static const char *const viridis[11] = {"#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
                                        "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"};

/* Contour levels inside (lo, hi): on a log scale the values m 10^k with m
 * in {1, 1.5, 2, 3, 5, 7} (fewer mantissas when that gives too many), on a
 * linear scale multiples of a 1-2-5 step; at most 14.  Returns the count. */
static int contour_levels(double lo, double hi, int logscale, double *lev)
{
    int n = 0;
    if (logscale) {
        static const double sets[4][6] = {{1, 1.5, 2, 3, 5, 7}, {1, 2, 3, 5, 0, 0}, {1, 2, 5, 0, 0, 0}, {1, 0, 0, 0, 0, 0}};
        static const int sizes[4] = {6, 4, 3, 1};
        for (int s = 0; s < 4; s++) {
            n = 0;
            for (int d = (int)floor(log10(lo)); d <= (int)ceil(log10(hi)) && n < 64; d++)
                for (int k = 0; k < sizes[s] && n < 64; k++) {
                    double v = sets[s][k] * pow(10.0, d);
                    if (v > lo && v < hi) lev[n++] = v;
                }
            if (n <= 10) break;
        }
        if (n > 14) n = 14;
    } else {
        double raw = (hi - lo) / 10, d = pow(10.0, floor(log10(raw))), step = d;
        if (raw / d > 5) step = 10 * d;
        else if (raw / d > 2) step = 5 * d;
        else if (raw / d > 1) step = 2 * d;
        for (double v = ceil(lo / step) * step; v < hi && n < 14; v += step)
            if (v > lo) lev[n++] = v;
    }
    return n;
}

/* A filled map of the loss (pm3d, interpolated between the grid points, on
 * the viridis palette), labelled contour lines, a colour bar with 1-2-5 tics
 * on a log scale, the model's point and the grid's minimum marked and named
 * in the key; the data (FILE.dat) and script (FILE.gp) written beside it. */
static int render_map(const char *path, const char *zlabel, const grid *g, const slice *s, const char *title, const char *caption,
                      const char *xlabel, const char *ylabel, const map_mark *marks, size_t n_marks)
{
    plot_files f;
    int st = plot_files_begin(path, &f);
    if (st != TDL_OK) return st;
    const char *dat = f.dat, *gp = f.gp;
    double lo = INFINITY, hi = -INFINITY, min_x = 0, min_y = 0;
    for (size_t i = 0; i < g->ny; i++)
        for (size_t j = 0; j < g->nx; j++) {
            size_t q = i * g->nx + j;
            if (!g->filled[q] || !isfinite(g->loss[q])) continue;
            if (g->loss[q] < lo) {
                lo = g->loss[q];
                min_x = g->x[j];
                min_y = g->y[i];
            }
            hi = fmax(hi, g->loss[q]);
        }
    if (!isfinite(lo)) { st = tdl_error_set(TDL_EINVAL, "%s: no filled cell to draw", path); goto done; }
    int logscale = lo > 0 && hi / lo > 1.5;
    /* index 0 the grid, 1 the grid's minimum, 2.. the marked points, then the trajectory */
    tdl_atomic_file af;
    if ((st = tdl_atomic_begin(dat, &af)) != TDL_OK) goto done;
    fprintf(af.fp, "# x y loss (rows of constant y; NaN: cell not evaluated)\n");
    for (size_t i = 0; i < g->ny; i++) {
        for (size_t j = 0; j < g->nx; j++) {
            double v = g->loss[i * g->nx + j];
            if (g->filled[i * g->nx + j] && isfinite(v)) fprintf(af.fp, "%.17g %.17g %.17g\n", g->x[j], g->y[i], v);
            else fprintf(af.fp, "%.17g %.17g NaN\n", g->x[j], g->y[i]);
        }
        fputc('\n', af.fp);
    }
    fprintf(af.fp, "\n# the grid's smallest loss: x y loss\n%.17g %.17g %.17g\n", min_x, min_y, lo);
    for (size_t k = 0; k < n_marks; k++)
        fprintf(af.fp, "\n\n# %s: x y\n%.17g %.17g %.17g\n", marks[k].title, marks[k].x, marks[k].y, lo);
    if (s->traj) {
        fprintf(af.fp, "\n\n# trajectory (PCA coordinates)\n");
        for (size_t k = 0; k < s->traj_n; k++) fprintf(af.fp, "%.17g %.17g %.17g\n", s->traj[2 * k], s->traj[2 * k + 1], lo);
    }
    if ((st = tdl_atomic_commit(&af)) != TDL_OK) goto done;
    if ((st = tdl_atomic_begin(gp, &af)) != TDL_OK) goto done;
    FILE *fp = af.fp;
    plot_put_preamble(fp, path, dat, 900, 800, 6.0, 5.4);
    fprintf(fp, "set view map\nset size ratio -1\n");
    /* smooth: pm3d interpolates bilinearly between the grid points (0,0:
     * gnuplot picks the number of steps from the grid) */
    fprintf(fp, "set pm3d map interpolate 0,0 corners2color mean\n");
    fprintf(fp, "# viridis (perceptually uniform), 11 control points\nset palette defined (");
    for (int k = 0; k < 11; k++) fprintf(fp, "%s%.1f '%s'", k ? ", " : "", k / 10.0, viridis[k]);
    fprintf(fp, ")\n");
    double cbhi = hi > lo ? hi : lo + 1;
    if (logscale) {
        fprintf(fp, "set logscale cb\n");
        plot_put_log_tics(fp, "cb", lo, cbhi);
    }
    fprintf(fp, "set cbrange [%.17g:%.17g]\nset cblabel '%s%s'\n", lo, cbhi, zlabel, logscale ? ", log scale" : "");
    /* contour lines at round levels, each labelled with its value */
    double lev[64];
    int nl = contour_levels(lo, cbhi, logscale, lev);
    if (nl == 0) { lev[0] = 0.5 * (lo + cbhi); nl = 1; }
    fprintf(fp, "set contour base\nset cntrparam bspline\nset cntrparam levels discrete ");
    for (int k = 0; k < nl; k++) fprintf(fp, "%s%.9g", k ? "," : "", lev[k]);
    fprintf(fp, "\nset cntrlabel onecolor format '%%.3g' font ',8' start 5 interval 60\n");
    fprintf(fp, "set xrange [%.17g:%.17g]\nset yrange [%.17g:%.17g]\n", g->x[0], g->x[g->nx - 1], g->y[0], g->y[g->ny - 1]);
    if (title) { fprintf(fp, "set label 96 "); plot_put_quoted(fp, title); fprintf(fp, " at screen 0.45, screen 0.96 center font ',12'\n"); }
    fprintf(fp, "set xlabel "); plot_put_quoted(fp, xlabel); fputc('\n', fp);
    fprintf(fp, "set ylabel "); plot_put_quoted(fp, ylabel); fputc('\n', fp);
    /* the key in one row between the title and the map */
    /* the title at the top, the key (up to 2 x 2 entries) between it and the map */
    fprintf(fp, "set tmargin at screen 0.84\n"
                "set key at screen 0.45, screen 0.895 center center horizontal maxcols 2 maxrows 2 nobox samplen 1 font ',10'\n");
    plot_put_caption(fp, caption);
    fprintf(fp, "splot data index 0 using 1:2:3 with pm3d notitle, \\\n"
                "      data index 0 using 1:2:3 nosurface with lines lc rgb 'white' lw 0.8 notitle, \\\n"
                "      data index 0 using 1:2:3 nosurface with labels textcolor rgb 'white' font ',8' notitle, \\\n");
    char mt[128];
    snprintf(mt, sizeof mt, "grid minimum %.4g at (%.3g, %.3g)", lo, min_x, min_y);
    fprintf(fp, "      data index 1 using 1:2:3 nocontour with points pt 6 ps 2.2 lw 2.5 lc rgb '#ff7f0e' title ");
    plot_put_quoted(fp, mt);
    static const char *const mark_style[3] = {"pt 7 ps 1.6 lc rgb '#e41a1c'", "pt 5 ps 1.4 lc rgb '#ff00ff'", "pt 9 ps 1.6 lc rgb '#17becf'"};
    for (size_t k = 0; k < n_marks; k++) {
        fprintf(fp, ", \\\n      data index %zu using 1:2:3 nocontour with points %s title ", 2 + k, mark_style[k < 3 ? k : 2]);
        plot_put_quoted(fp, marks[k].title);
    }
    if (s->traj)
        fprintf(fp, ", \\\n      data index %zu using 1:2:3 nocontour with linespoints lc rgb 'white' pt 7 ps 0.6 lw 1.5 title 'trajectory'", 2 + n_marks);
    fprintf(fp, "\n");
    st = tdl_atomic_commit(&af);
done:
    return plot_files_finish(path, &f, st);
}

/* ---- the command ------------------------------------------------------------- */

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_TO, OPT_VIA, OPT_PLANE, OPT_TRAJ, OPT_GRID, OPT_RANGE, OPT_YRANGE, OPT_NORM,
    OPT_BIASMODE, OPT_DSEED, OPT_DIRS, OPT_CURVE, OPT_CEPOCHS, OPT_CLR, OPT_CBATCH, OPT_CMOM, OPT_RESUME,
    OPT_MAXCELLS, OPT_JSON, OPT_PLOT, OPT_THREADS, OPT_QUIET, OPT_FROM_INIT
};

static int run_curve(const land_opts *o, const char *m_path, const tdl_mlp *m, const tdl_mlp *m2, tdl_loss_kind loss,
                     const tdl_dataset *ds, const tdl_dataset *test, const char *caption_base);

/* JSON rows of a grid array (NaN -> null). */
static void json_rows(json_writer *w, const char *key, const double *v, const grid *g, int two_d)
{
    size_t n = two_d ? g->nx * g->ny : g->nx, bad = 0;
    if (!two_d) json_number_array(w, key, v, g->nx, 1);
    else {
        json_array_begin(w, key);
        for (size_t i = 0; i < g->ny; i++) json_number_array(w, NULL, v + i * g->nx, g->nx, 1);
        json_array_end(w);
    }
    for (size_t i = 0; i < n; i++) bad += !isfinite(v[i]);
    if (bad) {
        char k[96];
        snprintf(k, sizeof k, "%s_reason", key);
        json_string(w, k, "null at a cell not evaluated yet (--max-cells; continue with --resume) or where the value is not finite");
    }
}

/* Everything a grid run holds (owned), from load to emit. */
typedef struct land_run {
    tdl_dataset *ds, *test;
    tdl_mlp *m, *m2, *m3;
    tdl_loss_kind loss;
    size_t P;
    grid g;
    slice s;
    double *coef;
    unsigned char *todo, *round_mask;
    tdl_tensors *traj;
    size_t pending, filled;    /* cells evaluated by this run; filled in the grid */
    double centre, lmin, lmax, ends[2], seconds;
    char arch[256], caption[768];
    char loss_short[64], loss_label[80]; /* "ce (mean)"; "loss (mean)" (provenance.h) */
    char init_source[512];     /* --from-init: where the initialization came from */
    const char *init_how;      /* --from-init: "regenerated" or "stored" */
    double init_diff;          /* --from-init: max |regenerated - stored| (NaN: not both) */
} land_run;

static void land_run_free(land_run *r)
{
    grid_free(&r->g);
    free(r->s.d1);
    free(r->s.d2);
    free(r->s.traj);
    free(r->coef);
    free(r->todo);
    free(r->round_mask);
    tdl_tensors_free(&r->traj);
    tdl_mlp_free(&r->m);
    tdl_mlp_free(&r->m2);
    tdl_mlp_free(&r->m3);
    tdl_dataset_free(&r->ds);
    tdl_dataset_free(&r->test);
}

/* ---- parse --------------------------------------------------------------- */

/* -1: go on; otherwise the exit code (usage printed). */
static int parse_options(int argc, char **argv, land_opts *o, cli_model_opts *mo)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"to", required_argument, NULL, OPT_TO}, {"via", required_argument, NULL, OPT_VIA},
        {"plane", required_argument, NULL, OPT_PLANE}, {"trajectory", required_argument, NULL, OPT_TRAJ},
        {"grid", required_argument, NULL, OPT_GRID}, {"range", required_argument, NULL, OPT_RANGE},
        {"yrange", required_argument, NULL, OPT_YRANGE}, {"norm", required_argument, NULL, OPT_NORM},
        {"dir-bias", required_argument, NULL, OPT_BIASMODE}, {"direction-seed", required_argument, NULL, OPT_DSEED},
        {"directions", required_argument, NULL, OPT_DIRS}, {"curve", required_argument, NULL, OPT_CURVE},
        {"curve-epochs", required_argument, NULL, OPT_CEPOCHS}, {"curve-lr", required_argument, NULL, OPT_CLR},
        {"curve-batch", required_argument, NULL, OPT_CBATCH}, {"curve-momentum", required_argument, NULL, OPT_CMOM},
        {"resume", required_argument, NULL, OPT_RESUME}, {"max-cells", required_argument, NULL, OPT_MAXCELLS},
        {"out", required_argument, NULL, 'o'}, {"json", no_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT}, {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET}, {"from-init", no_argument, NULL, OPT_FROM_INIT}, {NULL, 0, NULL, 0},
    };
    /* --bias / --no-bias belong to the model options; the directions' bias
     * handling is --dir-bias. */
    cli_model_opts_init(mo);
    memset(o, 0, sizeof *o);
    o->norm = "filter";
    o->bias = "ignore";
    o->plane_kind = -1;
    o->norm_kind = TDL_NORM_FILTER;
    o->bias_kind = TDL_BIAS_IGNORE;
    int v;
    o->grid = 51;
    o->lo = -1;
    o->hi = 1;
    o->dir_seed = 0;
    tdl_curve_config cdef;
    tdl_curve_config_default(&cdef);
    o->curve_epochs = cdef.epochs;
    o->curve_batch = cdef.batch;
    o->curve_lr = cdef.lr;
    o->curve_momentum = cdef.momentum;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "landscape")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(mo, "landscape", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_TO: o->to = optarg; break;
        case OPT_VIA: o->via = optarg; break;
        case OPT_PLANE:
            if (tdl_name_lookup(tdl_plane_names, "plane", optarg, &v) != TDL_OK)
                return cli_usage("landscape", "--plane %s: expected random, hessian, models or pca", optarg);
            o->plane = optarg;
            o->plane_kind = v;
            break;
        case OPT_TRAJ: o->trajectory = optarg; break;
        case OPT_GRID: bad = cli_parse_size(optarg, 2, 100001, &o->grid); o->grid_given = 1; break;
        case OPT_RANGE: bad = parse_range(optarg, &o->lo, &o->hi); o->range_given = 1; break;
        case OPT_YRANGE: bad = parse_range(optarg, &o->ylo, &o->yhi); o->yrange_given = 1; break;
        case OPT_NORM:
            if (tdl_name_lookup(tdl_dir_norm_names, "normalization", optarg, &v) != TDL_OK)
                return cli_usage("landscape", "--norm %s: expected filter, layer or none", optarg);
            o->norm = optarg;
            o->norm_kind = (tdl_dir_norm)v;
            break;
        case OPT_BIASMODE:
            if (tdl_name_lookup(tdl_bias_mode_names, "bias mode", optarg, &v) != TDL_OK)
                return cli_usage("landscape", "--dir-bias %s: expected ignore or normalize", optarg);
            o->bias = optarg;
            o->bias_kind = (tdl_bias_mode)v;
            break;
        case OPT_DSEED: bad = cli_parse_ulong(optarg, &o->dir_seed); break;
        case OPT_DIRS: o->directions = optarg; break;
        case OPT_CURVE:
            if (tdl_name_lookup(tdl_curve_names, "curve", optarg, &v) != TDL_OK || v == TDL_CURVE_LINE)
                return cli_usage("landscape", "--curve %s: expected bezier or chain", optarg);
            o->curve = optarg;
            o->curve_kind = (tdl_curve_kind)v;
            break;
        case OPT_CEPOCHS: bad = cli_parse_size(optarg, 1, 1000000, &o->curve_epochs); break;
        case OPT_CLR: bad = cli_parse_double(optarg, &o->curve_lr) || o->curve_lr <= 0; break;
        case OPT_CBATCH: bad = cli_parse_size(optarg, 0, SIZE_MAX, &o->curve_batch); break;
        case OPT_CMOM: bad = cli_parse_double(optarg, &o->curve_momentum) || o->curve_momentum < 0 || o->curve_momentum >= 1; break;
        case OPT_RESUME: o->resume = optarg; break;
        case OPT_MAXCELLS: bad = cli_parse_size(optarg, 1, SIZE_MAX, &o->max_cells); break;
        case 'o': o->out = optarg; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_FROM_INIT: o->from_init = 1; break;
        default: return cli_bad_option("landscape", argv, optopt);
        }
        if (bad) return cli_usage("landscape", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("landscape", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("landscape", "--data SPEC is required");
    if (o->from_init) {
        if (!mo->model) return cli_usage("landscape", "--from-init needs --model FILE (the trained model whose initialization it regenerates)");
        if (o->to || o->via || o->plane || o->curve || o->directions || o->trajectory)
            return cli_usage("landscape", "--from-init is the line from the initialization to --model; drop %s",
                             o->to ? "--to" : o->via ? "--via" : o->plane ? "--plane" : o->curve ? "--curve" : o->directions ? "--directions" : "--trajectory");
    }
    if (o->via && !o->to) return cli_usage("landscape", "--via needs --to (the plane through three models)");
    if (o->to && o->via && o->plane && o->plane_kind != TDL_PLANE_MODELS)
        return cli_usage("landscape", "--to with --via spans the models plane; drop --plane %s", o->plane);
    if (o->plane_kind == TDL_PLANE_MODELS && !o->via)
        return cli_usage("landscape", "--plane models needs --to M2 and --via M3");
    if (o->to && !o->via && o->plane) return cli_usage("landscape", "--to without --via is a 1D interpolation; --plane does not apply");
    if (o->plane_kind == TDL_PLANE_PCA && !o->trajectory)
        return cli_usage("landscape", "--plane pca needs --trajectory FILE.npz (from tdl train --log-params)");
    if (o->trajectory && o->plane_kind != TDL_PLANE_PCA) return cli_usage("landscape", "--trajectory belongs to --plane pca");
    if (o->curve && (!o->to || o->via)) return cli_usage("landscape", "--curve needs --to M2 (and no --via)");
    if (o->curve && (o->resume || o->max_cells)) return cli_usage("landscape", "--resume and --max-cells apply to grids, not to --curve");
    if (o->directions && (o->to || o->plane_kind == TDL_PLANE_MODELS))
        return cli_usage("landscape", "--directions applies to random, hessian and pca slices");
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("landscape", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    if (o->out) {
        const char *ext = strrchr(o->out, '.');
        if (!ext || strcmp(ext, ".npz")) return cli_usage("landscape", "-o %s: the output must end in .npz", o->out);
    }
    {
        /* --resume G -o G continues a grid in place (tdl help landscape) */
        const cli_file ins[] = {{"--model", mo->model, CLI_FILE_PATH, NULL}, {"--to", o->to, CLI_FILE_PATH, NULL}, {"--via", o->via, CLI_FILE_PATH, NULL},
                                {"--trajectory", o->trajectory, CLI_FILE_PATH, NULL}, {"--directions", o->directions, CLI_FILE_PATH, NULL},
                                {"--resume", o->resume, CLI_FILE_PATH, "-o"}, {"--data", o->data, CLI_FILE_SPEC, NULL}, {"--test", o->test, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"-o", o->out, CLI_FILE_PATH, NULL}, {"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("landscape", ins, 8, outs, 2) != 0) return EXIT_WORK_FAILED;
    }
    o->two_d = o->plane != NULL || o->via != NULL;
    o->interp = (o->to && !o->via) || o->from_init;
    if (!o->range_given && (o->interp || o->via)) {
        o->lo = -0.5; /* Li et al.'s interpolation range */
        o->hi = 1.5;
        if (!o->grid_given) o->grid = 41; /* steps of 0.05: 0 and 1 are grid points */
    }
    if (!o->yrange_given) {
        o->ylo = o->lo;
        o->yhi = o->hi;
    }
    if (!o->two_d && o->yrange_given) return cli_usage("landscape", "--yrange applies to 2D planes");
    if (o->two_d && o->grid > 4001) return cli_usage("landscape", "--grid %zu: a 2D grid takes at most 4001 points a side", o->grid);
    return -1;
}

/* ---- run ----------------------------------------------------------------- */

/* --from-init: the model's initialization, into r->m2.  Regenerated with
 * tdl_mlp_create from the file's metadata (arch, activation,
 * parametrization, init, sigma_w, sigma_b, biases, trainable layers, seed:
 * what tdl train and tdl_mlp_save write); compared with the file's init.*
 * tensors when it has them, which win if they differ (they are the net
 * training started from).  A file with neither is refused.  Returns an exit
 * code. */
static int init_of(const char *path, land_run *r)
{
    const tdl_mlp *m = r->m;
    const char *seed_text = tdl_mlp_meta(m, "seed"), *init_text = tdl_mlp_meta(m, "init");
    const double *stored = tdl_mlp_init_params(m);
    int have_meta = seed_text && init_text && tdl_mlp_meta(m, "activation") && tdl_mlp_meta(m, "parametrization") &&
                    tdl_mlp_meta(m, "sigma_w") && tdl_mlp_meta(m, "sigma_b");
    int st;
    r->init_diff = NAN;
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    int mixed_bias = 0;
    if (have_meta) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(seed_text, &end, 10);
        if (errno || end == seed_text || *end || seed_text[0] == '-' || seed > (unsigned long long)(unsigned long)-1)
            return cli_failf("%s: metadata seed='%s' is not a seed; --from-init cannot regenerate the initialization", path, seed_text);
        if ((st = tdl_init_parse(init_text, &cfg.init)) != TDL_OK)
            return cli_failf("%s: metadata init='%s': %s", path, init_text, tdl_errmsg());
        cfg.seed = (unsigned long)seed;
        cfg.depth = m->depth;
        cfg.widths[0] = m->layers[0].in;
        for (size_t l = 0; l < m->depth; l++) {
            cfg.widths[l + 1] = m->layers[l].out;
            cfg.trainable[l] = m->layers[l].trainable;
            mixed_bias |= m->layers[l].has_bias != m->layers[0].has_bias;
        }
        cfg.bias = m->layers[0].has_bias;
        cfg.act = m->act;
        cfg.param = m->param;
        cfg.sigma_w = m->sigma_w;
        cfg.sigma_b = m->sigma_b;
    }
    if (have_meta && !mixed_bias) {
        if ((st = tdl_mlp_create(&cfg, &r->m2)) != TDL_OK) return cli_failf("%s: --from-init: %s", path, tdl_errmsg());
        if (r->m2->n_params != m->n_params) {
            tdl_mlp_free(&r->m2);
            return cli_failf("%s: the metadata's net has another number of parameters than the file; --from-init cannot regenerate it", path);
        }
        char act[64];
        tdl_act_format(&m->act, act, sizeof act);
        int n = snprintf(r->init_source, sizeof r->init_source,
                         "regenerated from the model file's metadata (init %s, seed %lu, %s parametrization, activation %s, sigma_w %.6g, sigma_b %.6g)",
                         tdl_init_name(cfg.init), cfg.seed, tdl_param_name(cfg.param), act, m->sigma_w, m->sigma_b);
        r->init_how = "regenerated from the file's metadata";
        if (stored) {
            double d = 0;
            for (size_t i = 0; i < m->n_params; i++) d = fmax(d, fabs(stored[i] - r->m2->theta[i]));
            r->init_diff = d;
            if (d == 0) {
                snprintf(r->init_source + n, sizeof r->init_source - (size_t)n, "; equal to its init.* tensors");
            } else {
                /* the stored init is what training started from */
                memcpy(r->m2->theta, stored, m->n_params * sizeof(double));
                snprintf(r->init_source, sizeof r->init_source,
                         "the model file's init.* tensors (its metadata, init %s seed %lu, regenerates a net that differs by up to %.3g)",
                         tdl_init_name(cfg.init), cfg.seed, d);
                r->init_how = "the file's init.* tensors";
            }
        }
        return 0;
    }
    if (stored) {
        if ((st = tdl_mlp_clone(m, &r->m2)) != TDL_OK) return cli_fail(st);
        memcpy(r->m2->theta, stored, m->n_params * sizeof(double));
        snprintf(r->init_source, sizeof r->init_source, "the model file's init.* tensors (%s)",
                 mixed_bias ? "biases on some layers only: no net tdl_mlp_create builds" : "no metadata to regenerate it from");
        r->init_how = "the file's init.* tensors";
        return 0;
    }
    return cli_failf("%s: --from-init needs the metadata tdl writes (seed, init, activation, parametrization, sigma_w, sigma_b; %s) "
                     "or init.* tensors, and the file has neither (e.g. a PyTorch export): save the initial net and use --to INIT.safetensors",
                     path, mixed_bias ? "and biases on every layer or none" : "missing here");
}

/* The data, the model(s), the caption.  Returns an exit code. */
static int load(const land_opts *o, const cli_model_opts *mo, land_run *r)
{
    int rc, st;
    if ((st = cli_load_data(o->data, &r->ds)) != TDL_OK) return cli_fail(st);
    if (o->test && (st = cli_load_data(o->test, &r->test)) != TDL_OK) return cli_fail(st);
    if ((rc = cli_model_build(mo, "landscape", &r->m)) != 0) return rc;
    if ((rc = cli_model_loss(mo, "landscape", r->m, r->ds, &r->loss)) != 0) return rc;
    if (r->test && cli_check_test(o->test, r->loss, r->m, r->test) != 0) return EXIT_WORK_FAILED;
    r->P = r->m->n_params;
    if (o->to && (st = load_peer(o->to, mo, r->m, &r->m2)) != TDL_OK) return cli_fail(st);
    if (o->from_init && (rc = init_of(mo->model, r)) != 0) return rc;
    if (o->via && (st = load_peer(o->via, mo, r->m, &r->m3)) != TDL_OK) return cli_fail(st);
    tdl_arch_format(r->m, r->arch, sizeof r->arch);
    cli_provenance_loss_short(r->m, r->loss, r->loss_short, sizeof r->loss_short);
    cli_provenance_loss_label(r->m, r->loss_label, sizeof r->loss_label);
    snprintf(r->caption, sizeof r->caption, "%s (%s), loss %s on %s", mo->model ? plot_caption_path(mo->model) : "fresh net", r->arch,
             r->loss_short, r->ds->spec);
    if (o->from_init) {
        size_t used = strlen(r->caption);
        snprintf(r->caption + used, sizeof r->caption - used, "; init %s", r->init_how);
    }
    if (!o->to && !o->from_init && !o->directions && (!o->plane || o->plane_kind == TDL_PLANE_RANDOM)) {
        /* random directions: the seed that drew them */
        size_t used = strlen(r->caption);
        snprintf(r->caption + used, sizeof r->caption - used, "; random directions, %s normalization, seed %lu", o->norm, o->dir_seed);
    }

    return 0;
}

/* The slice: the basis the grid's coefficients combine.  Returns an exit code. */
static int make_slice(land_opts *o, land_run *r)
{
    int st;
    tdl_dir_norm norm = o->norm_kind;
    tdl_bias_mode bias = o->bias_kind;
    static char normtext[160];
    snprintf(normtext, sizeof normtext, "%s normalization (Li et al. 2018), biases %s", o->norm,
             bias == TDL_BIAS_IGNORE ? "ignored (zero in the directions)" : "normalized with their unit");
    /* ---- the slice ---- */
    if (o->interp) {
        r->s.mode = "interpolation";
        r->s.normalization = o->from_init ? "none: theta(a) = (1 - a) theta_init + a theta (Goodfellow et al. 2015)"
                                          : "none: theta(a) = (1 - a) M + a M2 (Goodfellow et al. 2015)";
        r->s.K = 2;
        /* --from-init: a = 0 the initialization (r->m2), a = 1 the model */
        r->s.basis[0] = o->from_init ? r->m2->theta : r->m->theta;
        r->s.basis[1] = o->from_init ? r->m->theta : r->m2->theta;
        r->s.interpolation = 1;
        r->s.cosine = NAN;
    } else if (o->via) {
        r->s.mode = "plane";
        r->s.plane = "models";
        r->s.normalization = "none: theta(x, y) = M + x (M2 - M) + y (M3 - M); M2 at (1, 0), M3 at (0, 1)";
        r->s.d1 = tdl_malloc(r->P * sizeof(double), "a direction");
        r->s.d2 = tdl_malloc(r->P * sizeof(double), "a direction");
        if (!r->s.d1 || !r->s.d2) return cli_fail(TDL_ENOMEM);
        for (size_t i = 0; i < r->P; i++) {
            r->s.d1[i] = r->m2->theta[i] - r->m->theta[i];
            r->s.d2[i] = r->m3->theta[i] - r->m->theta[i];
        }
    } else {
        r->s.mode = o->two_d ? "plane" : "direction";
        r->s.plane = o->two_d ? o->plane : "random";
        r->s.d1 = tdl_malloc(r->P * sizeof(double), "a direction");
        r->s.d2 = o->two_d ? tdl_malloc(r->P * sizeof(double), "a direction") : NULL;
        if (!r->s.d1 || (o->two_d && !r->s.d2)) return cli_fail(TDL_ENOMEM);
        if (o->directions) {
            if ((st = read_directions(o->directions, &r->s, r->P)) != TDL_OK) return cli_fail(st);
            r->s.normalization = "as stored in --directions";
        } else if (strcmp(r->s.plane, "random") == 0) {
            if ((st = tdl_direction_random(r->m, o->dir_seed, norm, bias, r->s.d1)) != TDL_OK ||
                (o->two_d && (st = tdl_direction_random(r->m, o->dir_seed + 1, norm, bias, r->s.d2)) != TDL_OK)) return cli_fail(st);
            r->s.normalization = normtext;
        } else if (strcmp(r->s.plane, "hessian") == 0) {
            if (!o->resume && cli_dist_root()) { /* under mpirun: broadcast by share_slice */
                st = tdl_direction_hessian(r->m, r->loss, r->ds, o->dir_seed, r->s.d1, r->s.d2, r->s.eig, r->s.eig_res);
                if (st != TDL_OK) return cli_fail(st);
            } else {
                r->s.eig[0] = r->s.eig[1] = r->s.eig_res[0] = r->s.eig_res[1] = NAN;
            }
            r->s.normalization = "none: unit eigenvectors of the Hessian of the mean training loss (top two, Lanczos)";
        } else { /* pca */
            if ((st = tdl_npz_read(o->trajectory, &r->traj)) != TDL_OK) return cli_fail(st);
            const tdl_tensor *T = tdl_tensors_find(r->traj, "theta");
            if (!T || T->ndim != 2) return cli_failf("%s: no 2-D array 'theta' (snapshots x parameters, from tdl train --log-params)", o->trajectory);
            if (T->shape[1] != r->P) return cli_failf("%s: the snapshots have %zu parameters, the model %zu", o->trajectory, T->shape[1], r->P);
            r->s.traj_n = T->shape[0];
            r->s.traj = tdl_malloc(2 * (r->s.traj_n ? r->s.traj_n : 1) * sizeof(double), "trajectory coordinates");
            if (!r->s.traj) return cli_fail(TDL_ENOMEM);
            if ((st = tdl_direction_pca(T->data, r->s.traj_n, r->P, r->m->theta, r->s.d1, r->s.d2, r->s.ratio, r->s.traj)) != TDL_OK) {
                return cli_failf("%s: %s", o->trajectory, tdl_errmsg());
            }
            r->s.normalization = "none: unit principal components of the trajectory minus the model (Li et al. 2018, sec. 7)";
            /* the plane must show the trajectory: widen the default range */
            if (!o->range_given) {
                double mx = 0;
                for (size_t k = 0; k < 2 * r->s.traj_n; k++) mx = fmax(mx, fabs(r->s.traj[k]));
                o->lo = o->ylo = -1.2 * mx;
                o->hi = o->yhi = 1.2 * mx;
            }
        }
    }
    if (!o->interp) {
        r->s.K = o->two_d ? 3 : 2;
        r->s.basis[0] = r->m->theta;
        r->s.basis[1] = r->s.d1;
        r->s.basis[2] = r->s.d2;
    }
    return 0;
}

/* Under mpirun: rank 0's directions (and a Hessian plane's eigenvalues) to
 * every rank, so that every rank evaluates its cells on the same plane
 * (collective, after cli_dist_ready).  With --resume the directions come
 * from the file, which every rank reads.  Returns an exit code. */
static int share_slice(const land_opts *o, land_run *r)
{
    if (!cli_dist_active() || o->resume) return 0;
    int st = TDL_OK;
    if (r->s.d1) st = tdl_dist_bcast(r->s.d1, r->P * sizeof(double), 0);
    if (st == TDL_OK && r->s.d2) st = tdl_dist_bcast(r->s.d2, r->P * sizeof(double), 0);
    if (st == TDL_OK && r->s.plane && strcmp(r->s.plane, "hessian") == 0) {
        double e[4] = {r->s.eig[0], r->s.eig[1], r->s.eig_res[0], r->s.eig_res[1]};
        if ((st = tdl_dist_bcast(e, sizeof e, 0)) == TDL_OK) {
            r->s.eig[0] = e[0];
            r->s.eig[1] = e[1];
            r->s.eig_res[0] = e[2];
            r->s.eig_res[1] = e[3];
        }
    }
    return (st = tdl_dist_agree(st)) != TDL_OK ? cli_fail(st) : 0;
}

/* Rank 0 writes the grid (-o); the ranks agree on the outcome.  TDL_OK or
 * the (agreed) status. */
static int write_grid_agreed(const char *path, const grid *g, const slice *s, size_t P, int two_d)
{
    int st = cli_dist_root() ? write_grid(path, g, s, P, two_d) : TDL_OK;
    return tdl_dist_agree(st);
}

/* The grid's arrays (the memory guard first: per rank under mpirun), its
 * coordinates and coefficients, what --resume filled, the cells to do.
 * Returns an exit code. */
static int setup_grid(const land_opts *o, land_run *r)
{
    int st;
    /* ---- the grid: 6 arrays of cells, 3 coefficients a cell, the mask ---- */
    if ((st = tdl_landscape_grid_memory_check(o->grid, o->two_d ? o->grid : 1, 10 * sizeof(double))) != TDL_OK) return fail_advice(st, "use a smaller --grid");
    if ((st = grid_alloc(&r->g, o->grid, o->two_d ? o->grid : 1, r->test != NULL)) != TDL_OK) return cli_fail(st);
    tdl_linspace(o->lo, o->hi, r->g.nx, r->g.x);
    if (o->two_d) tdl_linspace(o->ylo, o->yhi, r->g.ny, r->g.y);
    else r->g.y[0] = 0;
    if (o->resume) {
        if ((st = read_resume(o->resume, &r->g, &r->s, r->P, o->two_d)) != TDL_OK) return cli_fail(st);
        if (r->s.plane && strcmp(r->s.plane, "hessian") == 0) r->s.normalization = "none: unit eigenvectors of the Hessian (stored in --resume)";
    }
    r->coef = tdl_malloc(r->g.N * 3 * sizeof(double), "grid coefficients");
    r->todo = tdl_malloc(r->g.N, "the cells to do");
    if (!r->coef || !r->todo) return cli_fail(TDL_ENOMEM);
    size_t K = r->s.K;
    r->pending = 0;
    for (size_t i = 0; i < r->g.ny; i++)
        for (size_t j = 0; j < r->g.nx; j++) {
            double *cf = r->coef + (i * r->g.nx + j) * K;
            if (o->interp) {
                cf[0] = 1 - r->g.x[j];
                cf[1] = r->g.x[j];
            } else {
                cf[0] = 1;
                cf[1] = r->g.x[j];
                if (o->two_d) cf[2] = r->g.y[i];
            }
        }
    for (size_t q = 0; q < r->g.N; q++) {
        r->todo[q] = !r->g.filled[q] && (!o->max_cells || r->pending < o->max_cells);
        r->pending += r->todo[q];
    }
    r->round_mask = tdl_malloc(r->g.N, "a round of cells");
    if (!r->round_mask) return cli_fail(TDL_ENOMEM);
    return 0;
}

/* The grid, evaluated in rounds (checkpointed with -o), then its summary.
 * Under mpirun the cells of a round are dealt over the ranks and every rank
 * gets every value (tdl_dist_landscape_eval); rank 0 picks the rounds'
 * sizes.  Returns an exit code. */
static int eval_grid(const land_opts *o, land_run *r)
{
    int st;
    const size_t K = r->s.K;
    r->s.cosine = r->s.d1 && r->s.d2 ? tdl_direction_cosine(r->s.d1, r->s.d2, r->P) : NAN;
    /* Rounds of cells; with -o the file is rewritten (atomically) after each
     * round, so an interrupted run keeps what it finished for --resume.  The
     * first round has 64 cells; later ones last about CHECKPOINT_SECONDS. */
    double t0 = now();
    {
        size_t next = 0, round = 64, done = 0;
        while (done < r->pending) {
            memset(r->round_mask, 0, r->g.N);
            size_t taken = 0;
            for (; next < r->g.N && taken < round; next++)
                if (r->todo[next]) {
                    r->round_mask[next] = 1;
                    taken++;
                }
            double tr = now();
            if ((st = tdl_dist_landscape_eval(r->m, r->loss, r->ds, K, r->s.basis, r->g.N, r->coef, r->round_mask, o->threads, r->g.loss, r->g.acc)) != TDL_OK) {
                return fail_advice(st, "use --threads 1");
            }
            if (r->test && (st = tdl_dist_landscape_eval(r->m, r->loss, r->test, K, r->s.basis, r->g.N, r->coef, r->round_mask, o->threads, r->g.tloss, r->g.tacc)) != TDL_OK) {
                return cli_failf("--test %s: %s", o->test, tdl_errmsg());
            }
            for (size_t q = 0; q < r->g.N; q++)
                if (r->round_mask[q]) r->g.filled[q] = 1;
            done += taken;
            if (o->out && done < r->pending && (st = write_grid_agreed(o->out, &r->g, &r->s, r->P, o->two_d)) != TDL_OK) return cli_fail(st);
            /* test hook (util.c): the CLI tests interrupt the grid here, after
             * a round and its checkpoint, with cells still to do */
            if (done < r->pending && cli_dist_root()) cli_test_pause("landscape-round");
            double per_cell = (now() - tr) / (double)taken;
            round = per_cell > 0 ? (size_t)fmin(1e9, fmax(64.0, CHECKPOINT_SECONDS / per_cell)) : 64;
            /* under mpirun: rank 0's round size, so that the ranks take the same cells */
            if ((st = tdl_dist_agree(tdl_dist_bcast(&round, sizeof round, 0))) != TDL_OK) return cli_fail(st);
        }
    }
    r->seconds = now() - t0;
    /* the models' own losses (interpolation: a = 0 and a = 1, also when the
     * grid misses them) */
    r->ends[0] = r->ends[1] = NAN;
    if (o->interp) {
        const double ec[4] = {1, 0, 0, 1};
        if ((st = tdl_dist_landscape_eval(r->m, r->loss, r->ds, 2, r->s.basis, 2, ec, NULL, o->threads, r->ends, NULL)) != TDL_OK) return fail_advice(st, "use --threads 1");
    }
    r->filled = 0;
    for (size_t q = 0; q < r->g.N; q++) {
        if (r->todo[q]) r->g.filled[q] = 1;
        r->filled += r->g.filled[q];
    }
    /* the model's own cell: the centre (x = y = 0), when on the grid */
    r->centre = NAN;
    r->lmin = INFINITY;
    r->lmax = -INFINITY;
    for (size_t i = 0; i < r->g.ny; i++)
        for (size_t j = 0; j < r->g.nx; j++) {
            size_t q = i * r->g.nx + j;
            if (!r->g.filled[q]) continue;
            if (r->g.x[j] == 0 && r->g.y[i] == 0) r->centre = r->g.loss[q];
            r->lmin = fmin(r->lmin, r->g.loss[q]);
            r->lmax = fmax(r->lmax, r->g.loss[q]);
        }
    if (o->out && (st = write_grid_agreed(o->out, &r->g, &r->s, r->P, o->two_d)) != TDL_OK) return cli_fail(st);
    return 0;
}

/* ---- emit ---------------------------------------------------------------- */

/* A file's name for a figure: its base name. */
static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash && slash[1] ? slash + 1 : path ? path : "";
}

static int emit_plot(const land_opts *o, const cli_model_opts *mo, const land_run *r, const char *title)
{
    int st;
    const char *model = mo->model ? base_name(mo->model) : "fresh net";
    if (o->two_d) {
        /* random directions: the axis says how they were normalized */
        char rx[96], ry[96], mx[320], my[320];
        snprintf(rx, sizeof rx, "direction 1 (%.40s-normalized)", o->norm);
        snprintf(ry, sizeof ry, "direction 2 (%.40s-normalized)", o->norm);
        int models = strcmp(r->s.plane, "models") == 0;
        if (models) {
            snprintf(mx, sizeof mx, "x: along %.120s - %.120s", base_name(o->to), model);
            snprintf(my, sizeof my, "y: along %.120s - %.120s", base_name(o->via), model);
        }
        const char *xl = models ? mx : strcmp(r->s.plane, "pca") == 0 ? "PC 1 (unit)" : strcmp(r->s.plane, "hessian") == 0 ? "top eigenvector (unit)" : rx;
        const char *yl = models ? my : strcmp(r->s.plane, "pca") == 0 ? "PC 2 (unit)" : strcmp(r->s.plane, "hessian") == 0 ? "second eigenvector (unit)" : ry;
        char t0[320], t1[320], t2[320];
        snprintf(t0, sizeof t0, "model %.200s at (0, 0)", model);
        map_mark marks[3] = {{0, 0, t0}, {1, 0, t1}, {0, 1, t2}};
        if (models) {
            snprintf(t1, sizeof t1, "%.200s at (1, 0)", base_name(o->to));
            snprintf(t2, sizeof t2, "%.200s at (0, 1)", base_name(o->via));
        }
        st = render_map(o->plot, r->loss_label, &r->g, &r->s, title, r->caption, xl, yl, marks, models ? 3 : 1);
    } else {
        plot_series ser[4];
        size_t ns = 0;
        int acc = o->interp && r->ds->classes > 0; /* accuracy on the right axis */
        ser[ns++] = (plot_series){"train loss", r->g.x, r->g.loss, r->g.nx, PLOT_LINES};
        if (r->test) ser[ns++] = (plot_series){"test loss", r->g.x, r->g.tloss, r->g.nx, PLOT_LINES};
        unsigned long long right = 0;
        if (acc) {
            right |= 1ULL << ns;
            ser[ns++] = (plot_series){"train accuracy (right axis)", r->g.x, r->g.acc, r->g.nx, PLOT_DASHED};
            if (r->test) {
                right |= 1ULL << ns;
                ser[ns++] = (plot_series){"test accuracy (right axis)", r->g.x, r->g.tacc, r->g.nx, PLOT_DASHED};
            }
        }
        plot_spec spec = {0};
        spec.title = title;
        char dl[128], il[600];
        snprintf(dl, sizeof dl, "step along a random direction (%.40s-normalized)", o->norm);
        plot_xmark ends[2];
        char e0[260], e1[260];
        if (o->from_init) {
            snprintf(il, sizeof il, "alpha: (1 - alpha) init + alpha trained");
            ends[0] = (plot_xmark){0, "init"};
            ends[1] = (plot_xmark){1, "trained"};
        } else if (o->interp) {
            snprintf(e0, sizeof e0, "%.250s", model);
            snprintf(e1, sizeof e1, "%.250s", base_name(o->to));
            snprintf(il, sizeof il, "alpha: (1 - alpha) %.250s + alpha %.250s", e0, e1);
            ends[0] = (plot_xmark){0, e0};
            ends[1] = (plot_xmark){1, e1};
        }
        spec.xlabel = o->interp ? il : o->directions ? "step along the stored direction" : dl;
        spec.ylabel = r->loss_label;
        spec.caption = r->caption;
        spec.logy = plot_spans_decades(r->g.loss, r->g.N, 2.0);
        spec.series = ser;
        spec.n_series = ns;
        plot_axis2 y2 = {"accuracy (fraction correct)", 0, 1, right};
        st = plot_render_marked(o->plot, &spec, acc ? &y2 : NULL, ends, o->interp ? 2 : 0);
    }
    return st != TDL_OK ? cli_fail(st) : 0;
}

static int emit_json(const land_opts *o, const land_run *r)
{
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    json_object_begin(&w, NULL);
    json_string(&w, "data", r->ds->spec);
    if (r->test) json_string(&w, "test", r->test->spec);
    json_string(&w, "arch", r->arch);
    json_size(&w, "params", r->P);
    if (cli_provenance_loss_json(&w, r->m, r->loss) != 0) { json_discard(&w); return EXIT_WORK_FAILED; }
    json_string(&w, "mode", r->s.mode);
    if (r->s.plane && o->two_d) json_string(&w, "plane", r->s.plane);
    json_string(&w, "normalization", r->s.normalization);
    json_number(&w, "cosine", r->s.cosine);
    if (isnan(r->s.cosine)) json_string(&w, "cosine_reason", o->two_d ? "a direction is zero" : "one direction (1D)");
    json_number_array(&w, "x", r->g.x, r->g.nx, 1);
    if (o->two_d) json_number_array(&w, "y", r->g.y, r->g.ny, 1);
    json_rows(&w, "loss", r->g.loss, &r->g, o->two_d);
    json_rows(&w, "accuracy", r->g.acc, &r->g, o->two_d);
    if (r->test) {
        json_rows(&w, "test_loss", r->g.tloss, &r->g, o->two_d);
        json_rows(&w, "test_accuracy", r->g.tacc, &r->g, o->two_d);
    }
    json_size(&w, "cells", r->g.N);
    json_size(&w, "filled", r->filled);
    json_size(&w, "unfilled", r->g.N - r->filled);
    if (r->filled < r->g.N) json_string(&w, "unfilled_reason", "not evaluated yet (--max-cells): null in the grids; continue with --resume");
    json_number_or_reason(&w, "centre_loss", r->centre, "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite");
    if (o->from_init) {
        json_string(&w, "init_source", r->init_source);
        json_string(&w, "start", "the initialization (a = 0)");
        json_string(&w, "end", "--model, the trained net (a = 1)");
        json_number_or_reason(&w, "init_max_difference", r->init_diff, "the file has no init.* tensors, or no metadata to regenerate them from");
    }
    if (o->interp) {
        json_number_or_reason(&w, "loss_start", r->ends[0], "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite");
        json_number_or_reason(&w, "loss_end", r->ends[1], "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite");
    }
    json_number_or_reason(&w, "loss_min", r->lmin, "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite");
    json_number_or_reason(&w, "loss_max", r->lmax, "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite");
    if (r->s.plane && strcmp(r->s.plane, "hessian") == 0) {
        json_number_array(&w, "eigenvalues", r->s.eig, 2, 1);
        json_number_array(&w, "eigen_residuals", r->s.eig_res, 2, 1);
    }
    if (r->s.traj) {
        json_number_array(&w, "explained_variance", r->s.ratio, 2, 1);
        json_object_begin(&w, "trajectory");
        json_number_array(&w, "x", r->s.traj, r->s.traj_n, 2);
        json_number_array(&w, "y", r->s.traj + 1, r->s.traj_n, 2);
        json_object_end(&w);
    }
    json_size(&w, "evaluated", r->pending);
    if (cli_dist_active()) json_size(&w, "mpi_ranks", tdl_dist_size()); /* under mpirun: the cells dealt over them */
    json_number(&w, "seconds", r->seconds);
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

static void emit_text(const land_opts *o, const cli_model_opts *mo, const land_run *r)
{
    printf("model          %s (%s, %zu parameters); loss %s\n", mo->model ? mo->model : "fresh net", r->arch, r->P, r->loss_short);
    printf("data           %s (%zu examples)%s%s\n", r->ds->spec, r->ds->n, r->test ? "; test " : "", r->test ? r->test->spec : "");
    printf("slice          %s%s%s\n", r->s.mode, o->two_d ? " " : "", o->two_d ? r->s.plane : "");
    printf("directions     %s\n", r->s.normalization);
    if (!isnan(r->s.cosine)) printf("cosine         %.6g (between the two directions)\n", r->s.cosine);
    if (r->s.plane && strcmp(r->s.plane, "hessian") == 0 && !isnan(r->s.eig[0])) printf("eigenvalues    %.10g %.10g\n", r->s.eig[0], r->s.eig[1]);
    if (r->s.traj) printf("explained var. %.6f %.6f (of the trajectory's variance)\n", r->s.ratio[0], r->s.ratio[1]);
    printf("grid           %zu x %zu on x in [%g, %g]", r->g.nx, r->g.ny, o->lo, o->hi);
    if (o->two_d) printf(", y in [%g, %g]", o->ylo, o->yhi);
    printf("; %zu of %zu cells filled\n", r->filled, r->g.N);
    if (o->from_init) {
        printf("init           %s\n", r->init_source);
        printf("losses         %.10g (a = 0, the initialization), %.10g (a = 1, --model)\n", r->ends[0], r->ends[1]);
    } else if (o->interp) printf("models' losses %.10g (a = 0, --model), %.10g (a = 1, --to)\n", r->ends[0], r->ends[1]);
    else if (!isnan(r->centre)) printf("centre loss    %.10g\n", r->centre);
    printf("loss range     %.10g .. %.10g\n", r->lmin, r->lmax);
    printf("time           %.3g s for %zu cells", r->seconds, r->pending);
    if (cli_dist_active()) printf(", dealt over %zu MPI ranks", tdl_dist_size());
    printf("\n");
}

int cmd_landscape(int argc, char **argv)
{
    cli_model_opts mo;
    land_opts o;
    if (cli_dist_begin() != 0) return EXIT_WORK_FAILED; /* under mpirun: rank 0 speaks (dist_cli.h) */
    int rc = parse_options(argc, argv, &o, &mo);
    if (rc >= 0) return cli_dist_end(rc);
    cli_set_threads(o.threads);
    land_run r;
    memset(&r, 0, sizeof r);
    if ((rc = load(&o, &mo, &r)) != 0) goto cleanup;
    if (o.curve) {
        if ((rc = cli_dist_ready(0)) != 0) goto cleanup; /* under mpirun: every rank has loaded (dist_cli.h) */
        rc = run_curve(&o, mo.model, r.m, r.m2, r.loss, r.ds, r.test, r.caption);
        goto cleanup;
    }
    if ((rc = make_slice(&o, &r)) != 0 || (rc = setup_grid(&o, &r)) != 0) goto cleanup;
    if ((rc = cli_dist_ready(0)) != 0) goto cleanup; /* under mpirun: every rank has its slice and grid (dist_cli.h) */
    if ((rc = share_slice(&o, &r)) != 0 || (rc = eval_grid(&o, &r)) != 0) goto cleanup;
    if (!cli_dist_root()) goto cleanup; /* rank 0 prints and writes */
    const land_run *rr = &r;
    const land_opts *oo = &o;
    char title[256];
    if (oo->two_d) snprintf(title, sizeof title, "loss landscape: %s plane (%zu x %zu grid)", rr->s.plane, rr->g.nx, rr->g.ny);
    else snprintf(title, sizeof title, "loss along %s (%zu points)", oo->from_init ? "the line from the initialization to the trained net" : oo->interp ? "the interpolation between two models" : "a random direction", rr->g.nx);
    if (o.plot && (rc = emit_plot(&o, &mo, &r, title)) != 0) goto cleanup;
    if (o.as_json) rc = emit_json(&o, &r);
    else emit_text(&o, &mo, &r);
cleanup:
    land_run_free(&r);
    return cli_dist_end(rc); /* under mpirun: no rank left waiting (dist_cli.h) */
}

/* Mode connectivity: the straight line and a trained curve between M and M2. */
static int run_curve(const land_opts *o, const char *m_path, const tdl_mlp *m, const tdl_mlp *m2, tdl_loss_kind loss,
                     const tdl_dataset *ds, const tdl_dataset *test, const char *caption_base)
{
    const size_t P = m->n_params, n = o->grid_given ? o->grid : 61; /* Garipov et al. evaluate 61 points */
    tdl_curve_kind kind;
    kind = o->curve_kind;
    tdl_curve_config cc;
    tdl_curve_config_default(&cc);
    cc.epochs = o->curve_epochs;
    cc.batch = o->curve_batch;
    cc.lr = o->curve_lr;
    cc.momentum = o->curve_momentum;
    cc.seed = o->dir_seed;
    int rc = EXIT_WORK_FAILED, st;
    double *bend = tdl_malloc(P * sizeof(double), "the bend"), *t = tdl_malloc(n * sizeof(double), "curve points");
    double *ll = tdl_malloc(n * sizeof(double), "line losses"), *la = tdl_malloc(n * sizeof(double), "line accuracies");
    double *cl = tdl_malloc(n * sizeof(double), "curve losses"), *ca = tdl_malloc(n * sizeof(double), "curve accuracies");
    double *tll = NULL, *tla = NULL, *tcl = NULL, *tca = NULL;
    tdl_tensors *set = NULL;
    if (test) {
        tll = tdl_malloc(n * sizeof(double), "test losses");
        tla = tdl_malloc(n * sizeof(double), "test accuracies");
        tcl = tdl_malloc(n * sizeof(double), "test losses");
        tca = tdl_malloc(n * sizeof(double), "test accuracies");
    }
    if (!bend || !t || !ll || !la || !cl || !ca || (test && (!tll || !tla || !tcl || !tca))) { rc = cli_fail(TDL_ENOMEM); goto done; }
    double t0 = now(), bl, bc, tbl = NAN, tbc = NAN, final_loss;
    for (size_t i = 0; i < P; i++) bend[i] = 0.5 * (m->theta[i] + m2->theta[i]); /* start at the midpoint */
    /* under mpirun: rank 0 trains the bend and broadcasts it (and its final
     * loss), so that every rank evaluates the very curve one process would */
    st = cli_dist_root() ? tdl_curve_train(m, loss, ds, kind, m->theta, m2->theta, &cc, bend, &final_loss) : TDL_OK;
    if ((st = tdl_dist_agree(st)) == TDL_OK && cli_dist_active()) {
        st = tdl_dist_bcast(bend, P * sizeof(double), 0);
        if (st == TDL_OK) st = tdl_dist_bcast(&final_loss, sizeof final_loss, 0);
        st = tdl_dist_agree(st);
    }
    if (st != TDL_OK) { rc = cli_fail(st); goto done; }
    double train_seconds = now() - t0;
    /* the points of the line and the curve dealt over the ranks */
    if ((st = tdl_dist_curve_eval(m, loss, ds, TDL_CURVE_LINE, m->theta, NULL, m2->theta, n, o->threads, t, ll, la, &bl)) != TDL_OK ||
        (st = tdl_dist_curve_eval(m, loss, ds, kind, m->theta, bend, m2->theta, n, o->threads, t, cl, ca, &bc)) != TDL_OK) { rc = fail_advice(st, "use --threads 1"); goto done; }
    if (test && ((st = tdl_dist_curve_eval(m, loss, test, TDL_CURVE_LINE, m->theta, NULL, m2->theta, n, o->threads, t, tll, tla, &tbl)) != TDL_OK ||
                 (st = tdl_dist_curve_eval(m, loss, test, kind, m->theta, bend, m2->theta, n, o->threads, t, tcl, tca, &tbc)) != TDL_OK)) {
        rc = cli_failf("--test %s: %s", o->test, tdl_errmsg());
        goto done;
    }
    double seconds = now() - t0;
    if (!cli_dist_root()) { rc = 0; goto done; } /* rank 0 prints and writes */
    if (o->out) {
        set = tdl_tensors_new();
        size_t sn[1] = {n}, sp[1] = {P};
        st = set ? TDL_OK : TDL_ENOMEM;
        if (st == TDL_OK) st = tdl_tensors_add(set, "t", 1, sn, t);
        if (st == TDL_OK) st = tdl_tensors_add(set, "line_loss", 1, sn, ll);
        if (st == TDL_OK) st = tdl_tensors_add(set, "line_accuracy", 1, sn, la);
        if (st == TDL_OK) st = tdl_tensors_add(set, "curve_loss", 1, sn, cl);
        if (st == TDL_OK) st = tdl_tensors_add(set, "curve_accuracy", 1, sn, ca);
        if (st == TDL_OK && test) st = tdl_tensors_add(set, "test_line_loss", 1, sn, tll);
        if (st == TDL_OK && test) st = tdl_tensors_add(set, "test_curve_loss", 1, sn, tcl);
        if (st == TDL_OK) st = tdl_tensors_add(set, "bend", 1, sp, bend);
        if (st == TDL_OK) st = tdl_npz_write(o->out, set);
        if (st != TDL_OK) { rc = cli_fail(st); goto done; }
    }
    if (o->plot) {
        plot_series ser[4];
        size_t ns = 0;
        char cname[64];
        snprintf(cname, sizeof cname, "%s curve (train)", o->curve);
        ser[ns++] = (plot_series){"straight line (train)", t, ll, n, PLOT_LINES};
        ser[ns++] = (plot_series){cname, t, cl, n, PLOT_LINES};
        if (test) {
            ser[ns++] = (plot_series){"straight line (test)", t, tll, n, PLOT_LINES};
            ser[ns++] = (plot_series){"curve (test)", t, tcl, n, PLOT_LINES};
        }
        char title[256];
        snprintf(title, sizeof title, "mode connectivity: barrier %.4g (line) vs %.4g (%s)", bl, bc, o->curve);
        plot_spec spec = {0};
        spec.title = title;
        char xl[600];
        snprintf(xl, sizeof xl, "t (0: %.250s, 1: %.250s)", m_path ? base_name(m_path) : "fresh net", base_name(o->to));
        spec.xlabel = xl;
        char ylabel[80];
        cli_provenance_loss_label(m, ylabel, sizeof ylabel);
        spec.ylabel = ylabel;
        spec.caption = caption_base;
        spec.series = ser;
        spec.n_series = ns;
        if ((st = plot_render(o->plot, &spec)) != TDL_OK) { rc = cli_fail(st); goto done; }
    }
    if (o->as_json) {
        json_writer w;
        if (json_open(&w) != 0) { rc = cli_failf("out of memory"); goto done; }
        json_object_begin(&w, NULL);
        json_string(&w, "data", ds->spec);
        json_size(&w, "params", P);
        if (cli_provenance_loss_json(&w, m, loss) != 0) { json_discard(&w); goto done; }
        json_string(&w, "mode", "curve");
        json_string(&w, "curve", o->curve);
        json_string(&w, "normalization", "none: phi(t) between the two models (Garipov et al. 2018)");
        json_string(&w, "barrier_definition", "max_t loss(phi(t)) - (loss(M) + loss(M2)) / 2");
        json_number_array(&w, "x", t, n, 1);
        json_number_array(&w, "loss", cl, n, 1);
        json_number_array(&w, "accuracy", ca, n, 1);
        json_number_array(&w, "line_loss", ll, n, 1);
        json_number_array(&w, "line_accuracy", la, n, 1);
        json_number_or_reason(&w, "barrier_line", bl, "the loss along the path is not finite");
        json_number_or_reason(&w, "barrier_curve", bc, "the loss along the path is not finite");
        if (test) {
            json_number_array(&w, "test_loss", tcl, n, 1);
            json_number_array(&w, "test_line_loss", tll, n, 1);
            json_number_or_reason(&w, "test_barrier_line", tbl, "the loss along the path is not finite");
            json_number_or_reason(&w, "test_barrier_curve", tbc, "the loss along the path is not finite");
        }
        json_number_or_reason(&w, "loss_start", ll[0], "the loss along the path is not finite");
        json_number_or_reason(&w, "loss_end", ll[n - 1], "the loss along the path is not finite");
        json_number(&w, "cosine", NAN);
        json_string(&w, "cosine_reason", "a curve has no pair of directions");
        json_object_begin(&w, "training");
        json_size(&w, "epochs", cc.epochs);
        json_size(&w, "batch", cc.batch);
        json_number(&w, "lr", cc.lr);
        json_number(&w, "momentum", cc.momentum);
        json_number_or_reason(&w, "final_loss", final_loss, "the loss along the path is not finite");
        json_number(&w, "seconds", train_seconds);
        json_object_end(&w);
        if (cli_dist_active()) json_size(&w, "mpi_ranks", tdl_dist_size()); /* under mpirun: the points dealt over them */
        json_number(&w, "seconds", seconds);
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        char lshort[64];
        cli_provenance_loss_short(m, loss, lshort, sizeof lshort);
        printf("models         %s -> %s (%zu parameters); loss %s on %s\n", o->to ? "--model" : "", o->to, P, lshort, ds->spec);
        printf("endpoints      loss %.10g and %.10g\n", ll[0], ll[n - 1]);
        printf("curve          %s, trained %zu epochs (batch %zu, lr %g, momentum %g) in %.3g s\n", o->curve, cc.epochs, cc.batch, cc.lr, cc.momentum, train_seconds);
        printf("barrier        straight line %.10g, %s curve %.10g (max loss along the path - mean endpoint loss; %zu points)\n", bl, o->curve, bc, n);
        if (test) printf("test barrier   straight line %.10g, %s curve %.10g\n", tbl, o->curve, tbc);
        if (cli_dist_active())
            printf("MPI ranks      %zu (the bend trained on rank 0, the points dealt over the ranks)\n", tdl_dist_size());
    }
    rc = 0;
done:
    tdl_tensors_free(&set);
    free(bend);
    free(t);
    free(ll);
    free(la);
    free(cl);
    free(ca);
    free(tll);
    free(tla);
    free(tcl);
    free(tca);
    return rc;
}
