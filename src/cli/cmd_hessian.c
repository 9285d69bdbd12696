/* cmd_hessian.c — `tdl hessian`: Hessian spectra of the training loss.
 *
 *   exact    the dense Hessian (tdl_hessian_dense) and LAPACK: all eigenvalues,
 *            or the top / bottom k by index range; --gn adds the spectrum of
 *            the Gauss-Newton part G (and of the residual R = H - G)
 *   lanczos  k extreme eigenvalues from exact Hessian-vector products, with
 *            Ritz residuals; trace by Hutch++
 *   slq      stochastic Lanczos quadrature: the spectral density (raw nodes
 *            and weights kept) and the trace
 *
 * parse_options (hess_opts) -> run_exact / run_matrix_free (library calls
 * only: tdl/hessian.h, tdl/linalg.h, tdl/spectral.h) -> emit (text or JSON
 * on stdout; --vectors, -o FILE.npy|.csv, --plot).  The library's messages
 * say what is wrong; the advice naming this command's flags is added here.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "modelopts.h"
#include "provenance.h"
#include "plot.h"
#include "tdl/spectral.h"
#include "tdl/gn_dual.h"
#include "dist_cli.h"

typedef struct hess_opts {
    const char *data, *vectors, *plot, *out;
    tdl_hessian_method method;
    tdl_which which;          /* top, bottom, magnitude */
    tdl_smoothing smoothing;
    const char *smoothing_text;
    size_t k, layer, runs, steps, probes, points, threads, max_steps;
    int k_given, layer_given, gn, density, as_json, quiet;
    int dual, class_split;    /* --method dual (G through its kernel dual), --class-split */
    unsigned long seed;
    double tol;
} hess_opts;

/* The CLI's words for the end of the spectrum (the library says largest,
 * smallest, magnitude). */
static const tdl_name which_words[] = {
    {"top", TDL_WHICH_LARGEST}, {"bottom", TDL_WHICH_SMALLEST}, {"magnitude", TDL_WHICH_MAGNITUDE}, {NULL, 0}};

/* Everything one run computes, for the printers. */
typedef struct hess_result {
    const char *driver;
    size_t dim, off;
    double *values;       /* ascending */
    size_t count;
    double *gn_values, *r_values;
    size_t gn_count;
    double *residuals;    /* per value, or NULL */
    /* certified |computed - exact eigenvalue of the same rank| per value
     * (issue 22): exact, LAPACK's bound plus the assembly's rounding;
     * Lanczos, tdl_lanczos_result.error_bounds; NULL for slq */
    double *error_bounds, *gn_error_bounds, *r_error_bounds;
    const char *bound_definition;
    double *vectors;      /* for --vectors: rows (exact, count x dim) or columns (lanczos, dim x count) */
    int vectors_as_rows;
    double trace, trace_se, gn_trace;
    const char *trace_method;
    double tol;           /* eigenvalues with |lambda| <= tol count as zero */
    double roundoff;      /* (n + P) eps ||H||_F: below it a positive eigenvalue is not resolved (exact) */
    double loss;
    double grad_norm;     /* ||grad L||_2 over every parameter */
    int summed;           /* the loss convention sums over the examples (figure labels) */
    size_t matvecs, iterations;
    int converged;
    double seconds;
    /* density */
    double *grid, *dens, *nodes, *weights;
    size_t points, runs, steps;
    const char *smoothing;
    double sigma;
    /* --method dual */
    tdl_gn_dual_result dual;
} hess_result;

/* Whether the computed values contain the true smallest (end 0) or largest
 * (end 1) eigenvalue: a whole spectrum has both; the k largest only the
 * largest, the k smallest only the smallest; the k of largest |lambda|
 * neither for certain (issue 23: a summary line is true as printed). */
static int spectrum_has_end(const hess_opts *o, const hess_result *r, int end)
{
    if (r->count == r->dim) return 1;
    return end ? o->which == TDL_WHICH_LARGEST : o->which == TDL_WHICH_SMALLEST;
}

/* Why an end is missing, with the computed value nearest to it. */
static const char *missing_end(const hess_opts *o, const hess_result *r, int end, char *buf, size_t len)
{
    const char *what = o->which == TDL_WHICH_LARGEST ? "largest" : o->which == TDL_WHICH_SMALLEST ? "smallest" : "largest |lambda|";
    snprintf(buf, len, "only the %zu %s eigenvalues were computed; the %s of them is %.10g", r->count, what,
             end ? "largest" : "smallest", end ? r->values[r->count - 1] : r->values[0]);
    return buf;
}

static void hess_result_free(hess_result *r)
{
    free(r->values);
    free(r->gn_values);
    free(r->r_values);
    free(r->residuals);
    free(r->error_bounds);
    free(r->gn_error_bounds);
    free(r->r_error_bounds);
    free(r->vectors);
    free(r->grid);
    free(r->dens);
    free(r->nodes);
    free(r->weights);
    tdl_gn_dual_result_free(&r->dual);
    memset(r, 0, sizeof *r);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}


/* The condition number of the positive part: lambda_max over the smallest
 * eigenvalue above the zero tolerance (min_pos), and whether min_pos is
 * resolved, i.e. above the roundoff level (issue 23: a ratio against an
 * eigenvalue at roundoff level is no condition number). */
typedef struct cond_info {
    double ratio, min_pos, max_pos;
    int singular;         /* min_pos <= roundoff: numerically singular */
} cond_info;

/* Negative fraction, extreme values, condition number of the positive part. */
static void spectrum_stats(const double *v, size_t n, double tol, double roundoff, double *neg_frac,
                           cond_info *ci)
{
    double *cond_pos = &ci->ratio;
    size_t neg = 0;
    double min_pos = INFINITY, max_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < -tol) neg++;
        if (v[i] > tol) {
            min_pos = fmin(min_pos, v[i]);
            max_pos = fmax(max_pos, v[i]);
        }
    }
    *neg_frac = n ? (double)neg / (double)n : NAN;
    *cond_pos = isfinite(min_pos) ? max_pos / min_pos : NAN;
    ci->min_pos = min_pos;
    ci->max_pos = max_pos;
    ci->singular = isfinite(min_pos) && min_pos <= roundoff;
}


/* The library's message plus the CLI's advice: "MESSAGE: ADVICE". */
static int with_advice(int st, const char *sep, const char *advice)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tdl_errmsg());
    return tdl_error_set(st, "%s%s%s", msg, sep, advice);
}

/* LAPACK's eigen-solver, with the matrix-free method as the last advice
 * when it does not converge. */
static int eigen_solve(double *A, size_t dim, size_t lo, size_t hi, int want_vectors, tdl_sym_eigen *out)
{
    int st = tdl_sym_eigen_solve(A, dim, lo, hi, want_vectors, out);
    return st == TDL_ENOCONV ? with_advice(st, ", ", "or use --method lanczos") : st;
}

/* ---- run ----------------------------------------------------------------- */

/* Keep the density of a result's spectrum: grid, values and the
 * "quadrature" of the exact spectrum (every eigenvalue, weight 1/count). */
static int exact_density(hess_result *r, const hess_opts *o)
{
    tdl_density d;
    int st = tdl_eigen_density(r->values, r->count, o->smoothing, o->points, NAN, &d);
    if (st != TDL_OK) return st;
    r->grid = d.grid;
    r->dens = d.values;
    r->points = d.points;
    r->sigma = d.sigma;
    r->smoothing = tdl_smoothing_name(o->smoothing);
    r->nodes = tdl_malloc(r->count * sizeof(double), "density nodes");
    r->weights = tdl_malloc(r->count * sizeof(double), "density weights");
    if (!r->nodes || !r->weights) return TDL_ENOMEM;
    memcpy(r->nodes, r->values, r->count * sizeof(double));
    for (size_t i = 0; i < r->count; i++) r->weights[i] = 1.0 / (double)r->count;
    r->runs = 1;
    r->steps = r->count;
    return TDL_OK;
}

/* count copies of one bound (the dense bounds are the same for every index). */
static double *uniform_bounds(double bound, size_t count)
{
    double *b = tdl_malloc((count ? count : 1) * sizeof(double), "error bounds");
    for (size_t j = 0; b && j < count; j++) b[j] = bound;
    return b;
}

static const char exact_bound_definition[] =
    "certified |value - exact eigenvalue of the same rank|: LAPACK's backward error P eps ||A||_2 "
    "(LAPACK Users' Guide sec. 4.7 with p(P) = P; tdl_sym_eigen_error_bound) plus the rounding of the "
    "assembly, n eps ||A||_F (n per-example terms summed in each entry; a bound when they share a sign, "
    "an estimate otherwise)";
static const char lanczos_bound_definition[] =
    "certified |value - eigenvalue|: min(||r|| + rounding, ||r||^2 / gap + rounding) (Parlett, The Symmetric "
    "Eigenvalue Problem, Thm 4.5.1 and 11.7.1; the gap from the converged neighbouring Ritz values), "
    "rounding = (P + steps) eps ||H||_est; with the multiplicity check it is the eigenvalue of the same rank";

/* Under mpirun (issue 20): the Hessian in 2D block-cyclic layout, its
 * spectrum by ELPA or ScaLAPACK (tdl/dist.h); every rank gets the values,
 * rank 0 the vectors and residuals. */
static int run_exact_dist(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const hess_opts *o,
                          hess_result *r)
{
    static char driver[160];
    tdl_dist_hessian_config c;
    tdl_dist_hessian_config_default(&c);
    c.off = r->off;
    c.len = r->dim;
    c.gauss_newton = o->gn;
    c.want_vectors = o->vectors != NULL;
    int magnitude = o->k_given && o->k < r->dim && o->which == TDL_WHICH_MAGNITUDE;
    if (o->k_given && o->k < r->dim && !magnitude) {
        if (o->which == TDL_WHICH_SMALLEST) c.hi = o->k - 1;
        else c.lo = r->dim - o->k;
    }
    tdl_dist_hessian_result d;
    int st = tdl_dist_hessian_exact(m, loss, ds, &c, &d);
    if (st == TDL_ETOOBIG) return with_advice(st, ": ", "use more ranks, or --method lanczos (top/bottom eigenvalues) or --method slq (spectral density)");
    if (st == TDL_ENOCONV) return with_advice(st, ", ", "or use --method lanczos");
    if (st != TDL_OK) return st;
    snprintf(driver, sizeof driver, "%s", d.driver);
    r->driver = driver;
    r->trace = d.trace;
    r->gn_trace = o->gn ? d.gn_trace : NAN;
    r->trace_se = 0;
    r->trace_method = "exact (sum of the diagonal)";
    r->tol = (double)r->dim * DBL_EPSILON * d.frobenius;                  /* as run_exact */
    r->roundoff = (double)(ds->n + r->dim) * DBL_EPSILON * d.frobenius;
    /* issue 22's bounds, as run_exact: the solver's (ELPA and ScaLAPACK are
     * backward stable like LAPACK) plus the assembly's rounding */
    double nd = (double)ds->n * DBL_EPSILON;
    r->bound_definition = exact_bound_definition;
    r->error_bounds = uniform_bounds(d.h.error_bound + nd * d.frobenius, d.h.count);
    if (o->gn) {
        r->gn_error_bounds = uniform_bounds(d.g.error_bound + nd * d.gn_frobenius, d.g.count);
        r->r_error_bounds = uniform_bounds(d.r.error_bound + nd * (d.frobenius + d.gn_frobenius), d.r.count);
    }
    if (!r->error_bounds || (o->gn && (!r->gn_error_bounds || !r->r_error_bounds))) {
        tdl_dist_hessian_result_free(&d);
        return TDL_ENOMEM;
    }
    if (magnitude) {
        /* the residuals follow the values: a 1-wide "vector" per value */
        tdl_sym_eigen res = {.dim = 1, .count = d.h.count, .values = NULL, .vectors = d.residuals};
        if (d.residuals) {
            res.values = tdl_malloc(d.h.count * sizeof(double), "eigenvalues");
            if (!res.values) { tdl_dist_hessian_result_free(&d); return TDL_ENOMEM; }
            memcpy(res.values, d.h.values, d.h.count * sizeof(double));
            tdl_sym_eigen_keep_magnitude(&res, o->k);
            free(res.values);
        }
        tdl_sym_eigen_keep_magnitude(&d.h, o->k);
    }
    r->values = d.h.values;
    r->count = d.h.count;
    r->vectors = d.h.vectors;
    r->vectors_as_rows = 1;
    r->residuals = d.residuals;
    d.h.values = d.h.vectors = d.residuals = NULL;
    if (o->gn) {
        r->gn_values = d.g.values;
        r->r_values = d.r.values;
        r->gn_count = d.g.count;
        d.g.values = d.r.values = NULL;
    }
    tdl_dist_hessian_result_free(&d);
    return o->density ? exact_density(r, o) : TDL_OK;
}

static int run_exact(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const hess_opts *o,
                     hess_result *r)
{
    if (cli_dist_active()) return run_exact_dist(m, loss, ds, o, r);
    size_t off = r->off, dim = r->dim;
    int want_vec = o->vectors != NULL;
    int st = tdl_dense_memory_check(dim, o->gn ? 3 : (want_vec ? 3 : 1), 0, "the dense Hessian");
    if (st != TDL_OK) return with_advice(st, ": ", "use --method lanczos (top/bottom eigenvalues) or --method slq (spectral density)");
    double *H = tdl_malloc(dim * dim * sizeof(double), "the dense Hessian");
    double *G = o->gn ? tdl_malloc(dim * dim * sizeof(double), "the Gauss-Newton matrix") : NULL;
    double *Hcopy = NULL;
    tdl_sym_eigen e = {0}, eg = {0}, er = {0};
    if (!H || (o->gn && !G)) { st = TDL_ENOMEM; goto cleanup; }
    if ((st = tdl_hessian_dense(m, loss, ds, off, dim, H, G)) != TDL_OK) goto cleanup;
    double tr = 0, gtr = 0, fro = 0;
    for (size_t i = 0; i < dim; i++) {
        tr += H[i * dim + i];
        if (G) gtr += G[i * dim + i];
    }
    double gfro = 0;
    for (size_t i = 0; i < dim * dim; i++) fro += H[i] * H[i];
    for (size_t i = 0; G && i < dim * dim; i++) gfro += G[i] * G[i];
    r->trace = tr;
    r->gn_trace = G ? gtr : NAN;
    r->trace_se = 0;
    r->trace_method = "exact (sum of the diagonal)";
    /* LAPACK's eigenvalues are backward stable: |error| <= c P eps ||H||_2,
     * and ||H||_F bounds ||H||_2: eigenvalues within tol of 0 count as 0. */
    r->tol = (double)dim * DBL_EPSILON * sqrt(fro);
    /* The assembly adds n per-example terms in each entry: its error is up to
     * gamma_n ~ n eps times the sum of their magnitudes, ||H||_F when they
     * share a sign (a Gram matrix of positive features); with the solver's
     * backward error, a computed eigenvalue is resolved from 0 only above
     * (n + P) eps ||H||_F. */
    r->roundoff = (double)(ds->n + dim) * DBL_EPSILON * sqrt(fro);
    size_t lo = 0, hi = dim - 1;
    int magnitude = o->k_given && o->k < dim && o->which == TDL_WHICH_MAGNITUDE;
    if (o->k_given && o->k < dim && !magnitude) {
        if (o->which == TDL_WHICH_SMALLEST) hi = o->k - 1;
        else lo = dim - o->k;
    }
    if (want_vec || G) {
        /* a copy of H: for the residuals, or to form R = H - G */
        Hcopy = tdl_malloc(dim * dim * sizeof(double), "a copy of the Hessian");
        if (!Hcopy) { st = TDL_ENOMEM; goto cleanup; }
        memcpy(Hcopy, H, dim * dim * sizeof(double));
    }
    if ((st = eigen_solve(H, dim, lo, hi, want_vec, &e)) != TDL_OK) goto cleanup;
    if (G) {
        for (size_t i = 0; i < dim * dim; i++) H[i] = Hcopy[i] - G[i]; /* R, in H's storage */
        if ((st = eigen_solve(G, dim, lo, hi, 0, &eg)) != TDL_OK) goto cleanup;
        if ((st = eigen_solve(H, dim, lo, hi, 0, &er)) != TDL_OK) goto cleanup;
    }
    r->driver = e.driver;
    /* issue 22: the error bound of every eigenvalue (the assembly's rounding
     * as for the roundoff level above) */
    double nd = (double)ds->n * DBL_EPSILON;
    r->bound_definition = exact_bound_definition;
    if (!(r->error_bounds = uniform_bounds(e.error_bound + nd * sqrt(fro), e.count))) { st = TDL_ENOMEM; goto cleanup; }
    if (G) {
        r->gn_error_bounds = uniform_bounds(eg.error_bound + nd * sqrt(gfro), eg.count);
        r->r_error_bounds = uniform_bounds(er.error_bound + nd * (sqrt(fro) + sqrt(gfro)), er.count);
        if (!r->gn_error_bounds || !r->r_error_bounds) { st = TDL_ENOMEM; goto cleanup; }
    }
    if (magnitude) tdl_sym_eigen_keep_magnitude(&e, o->k);
    r->values = e.values;
    r->count = e.count;
    e.values = NULL;
    if (G) {
        r->gn_values = eg.values;
        r->r_values = er.values;
        r->gn_count = eg.count;
        eg.values = er.values = NULL;
    }
    if (want_vec) {
        /* residuals ||H v - lambda v|| against the saved copy */
        e.values = r->values;
        r->residuals = tdl_malloc(r->count * sizeof(double), "residuals");
        st = r->residuals ? tdl_sym_eigen_residuals(Hcopy, &e, r->residuals) : TDL_ENOMEM;
        e.values = NULL;
        if (st != TDL_OK) goto cleanup;
        r->vectors = e.vectors;
        r->vectors_as_rows = 1;
        e.vectors = NULL;
    }
    if (o->density) st = exact_density(r, o);
cleanup:
    tdl_sym_eigen_free(&e);
    tdl_sym_eigen_free(&eg);
    tdl_sym_eigen_free(&er);
    free(H);
    free(G);
    free(Hcopy);
    return st;
}

static int run_matrix_free(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const hess_opts *o,
                           hess_result *r)
{
    tdl_dist_hessian_operator *op = NULL; /* examples split over the ranks under mpirun (tdl/dist.h) */
    int st = tdl_dist_hessian_operator_create(m, loss, ds, 0, &op);
    if (st != TDL_OK) return st;
    if ((st = tdl_dist_hessian_operator_set_block(op, r->off, r->dim)) != TDL_OK) goto cleanup;
    if (o->method == TDL_HESSIAN_LANCZOS) {
        size_t k = o->k_given ? o->k : 10;
        if (k > r->dim) k = r->dim;
        tdl_lanczos_result lr;
        /* The multiplicity check finds every copy of a repeated eigenvalue
         * (a linear model's Hessian repeats each one C times).  Without
         * --vectors each value stops at its certified accuracy (the error
         * bound <= tol ||H||, issue 22: fewer products than ARPACK); with
         * them the residual test keeps the vectors accurate to tol. */
        const unsigned stop = o->vectors ? TDL_LANCZOS_VECTORS : TDL_LANCZOS_STOP_ON_BOUND;
        st = tdl_lanczos(tdl_dist_hessian_operator_apply, op, r->dim, k, o->which, o->max_steps, o->tol, o->seed,
                         stop | TDL_LANCZOS_MULTIPLICITY, &lr);
        if (st != TDL_OK) goto cleanup;
        r->values = lr.values;
        r->count = lr.k;
        r->residuals = lr.residuals;
        r->error_bounds = lr.error_bounds;
        r->bound_definition = lanczos_bound_definition;
        lr.error_bounds = NULL;
        r->vectors = lr.vectors;
        r->vectors_as_rows = 0;
        r->iterations = lr.iterations;
        r->matvecs = lr.matvecs;
        r->converged = lr.converged;
        r->driver = "Lanczos, full re-orthogonalization";
        r->tol = o->tol > 0 ? o->tol : TDL_LANCZOS_TOL_DEFAULT;
        lr.values = lr.residuals = lr.vectors = NULL;
        tdl_lanczos_result_free(&lr);
        if (o->gn) {
            tdl_dist_hessian_operator_set_gauss_newton(op, 1);
            st = tdl_lanczos(tdl_dist_hessian_operator_apply, op, r->dim, k, o->which, o->max_steps, o->tol, o->seed,
                             TDL_LANCZOS_STOP_ON_BOUND | TDL_LANCZOS_MULTIPLICITY, &lr);
            if (st != TDL_OK) goto cleanup;
            r->gn_values = lr.values;
            r->gn_count = lr.k;
            r->gn_error_bounds = lr.error_bounds;
            lr.values = lr.error_bounds = NULL;
            tdl_lanczos_result_free(&lr);
            tdl_dist_hessian_operator_set_gauss_newton(op, 0);
        }
        /* trace by Hutch++ (Meyer et al. 2021); --probes 0: none */
        if (o->probes) {
            st = tdl_hutchpp(tdl_dist_hessian_operator_apply, op, r->dim, o->probes, o->seed + 1, &r->trace, &r->trace_se);
            r->trace_method = "Hutch++";
            r->matvecs += o->probes;
            if (st != TDL_OK) goto cleanup;
        } else {
            r->trace = r->trace_se = NAN;
            r->trace_method = "not computed (--probes 0)";
        }
    } else { /* slq */
        tdl_slq_result sr;
        st = tdl_slq(tdl_dist_hessian_operator_apply, op, r->dim, o->runs, o->steps, o->seed, &sr);
        if (st != TDL_OK) goto cleanup;
        tdl_density d;
        st = tdl_slq_density(&sr, o->smoothing, o->points, NAN, &d);
        if (st != TDL_OK) { tdl_slq_result_free(&sr); goto cleanup; }
        r->grid = d.grid;
        r->dens = d.values;
        r->points = d.points;
        r->sigma = d.sigma;
        r->smoothing = tdl_smoothing_name(o->smoothing);
        r->nodes = sr.nodes;
        r->weights = sr.weights;
        r->runs = sr.runs;
        r->steps = sr.steps;
        r->matvecs = sr.matvecs;
        r->driver = "stochastic Lanczos quadrature (Rademacher starts)";
        tdl_slq_trace(&sr, r->dim, &r->trace, &r->trace_se);
        r->trace_method = "SLQ (mean over runs)";
        r->count = 0;
        r->tol = NAN;
    }
cleanup:
    tdl_dist_hessian_operator_free(&op);
    return st;
}

/* --method dual: the whole nonzero spectrum of G (or its top k) through the
 * n C x n C kernel dual (tdl/gn_dual.h), with the class split on request. */
static int run_dual(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const hess_opts *o,
                    hess_result *r)
{
    tdl_gn_dual_config cfg;
    tdl_gn_dual_config_default(&cfg);
    cfg.k = o->k_given ? o->k : 0;
    cfg.want_vectors = o->vectors != NULL;
    cfg.class_split = o->class_split;
    int st = tdl_gn_dual(m, loss, ds, &cfg, &r->dual);
    if (st == TDL_ETOOBIG) return with_advice(st, ": ", "use --method lanczos --gn (top eigenvalues of G)");
    if (st == TDL_ENOCONV) return with_advice(st, ", ", "or use --method lanczos --gn");
    if (st != TDL_OK) return st;
    r->driver = r->dual.driver;
    r->trace = r->dual.trace;
    r->trace_method = "exact (the trace of the dual K)";
    return TDL_OK;
}

/* The loss at the parameters, then the spectrum by the chosen method. */
static int run(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const hess_opts *o, hess_result *r)
{
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, ds->n < 2048 ? ds->n : 2048, &w);
    if (st != TDL_OK) return st;
    double *g = tdl_malloc(m->n_params * sizeof(double), "the gradient");
    st = g ? tdl_mlp_loss_grad(m, loss, ds, w, &r->loss, g) : TDL_ENOMEM;
    if (st == TDL_OK) {
        double mx = 0, sq = 0;
        for (size_t i = 0; i < m->n_params; i++) mx = fmax(mx, fabs(g[i]));
        for (size_t i = 0; mx > 0 && i < m->n_params; i++) sq += (g[i] / mx) * (g[i] / mx);
        r->grad_norm = mx * sqrt(sq);
    }
    free(g);
    tdl_net_work_free(&w);
    if (st != TDL_OK) return st;
    double t0 = now();
    if (o->dual) st = run_dual(m, loss, ds, o, r);
    else st = o->method == TDL_HESSIAN_EXACT ? run_exact(m, loss, ds, o, r) : run_matrix_free(m, loss, ds, o, r);
    r->seconds = now() - t0;
    return st;
}

/* ---- emit ---------------------------------------------------------------- */

static int write_vectors(const char *path, const double *vecs, size_t dim, size_t count, int rows_are_vectors)
{
    /* eigenvectors as columns (dim x count), like numpy.linalg.eigh */
    double *T = tdl_malloc(dim * count * sizeof(double), "eigenvectors");
    if (!T) return TDL_ENOMEM;
    for (size_t j = 0; j < count; j++)
        for (size_t i = 0; i < dim; i++)
            T[i * count + j] = rows_are_vectors ? vecs[j * dim + i] : vecs[i * count + j];
    tdl_tensor t = {.name = (char *)"eigenvectors", .dtype = TDL_F64, .ndim = 2, .shape = {dim, count},
                    .numel = dim * count, .data = T};
    int st = tdl_npy_write(path, &t);
    free(T);
    return st;
}


/* -o FILE: the eigenvalues exactly as in the JSON (ascending, the same
 * doubles), one column a spectrum: lambda_H, then with --gn lambda_G and
 * (exact) lambda_R = eigenvalues of H - G.  Each column is its own spectrum
 * in ascending order: row i pairs the i-th values, not the same eigenvector.
 *   .npy  float64, shape (k,) for H alone, (k, m) with m = 2 or 3 columns
 *         in the order above (C order);
 *   .csv  a header line naming the columns, then k rows, %.17g (round-trip).
 * Written atomically (a temporary renamed into place). */
static int write_values(const char *path, const hess_result *r)
{
    const double *col[3] = {r->values, r->gn_values, r->r_values};
    static const char *const names[3] = {"lambda_H", "lambda_G", "lambda_R"};
    size_t m = r->gn_values ? (r->r_values ? 3 : 2) : 1, k = r->count;
    if (m > 1 && r->gn_count != k)
        return tdl_error_set(TDL_EINVAL, "%s: the H and G spectra have %zu and %zu values and do not fit one table", path, k, r->gn_count);
    const char *ext = strrchr(path, '.');
    if (ext && strcmp(ext, ".csv") == 0) {
        tdl_atomic_file af;
        int st = tdl_atomic_begin(path, &af);
        if (st != TDL_OK) return st;
        for (size_t j = 0; j < m; j++) fprintf(af.fp, "%s%s", j ? "," : "", names[j]);
        fputc('\n', af.fp);
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < m; j++) fprintf(af.fp, "%s%.17g", j ? "," : "", col[j][i]);
            fputc('\n', af.fp);
        }
        return tdl_atomic_commit(&af);
    }
    double *T = tdl_malloc(k * m * sizeof(double), "the eigenvalue table");
    if (!T) return TDL_ENOMEM;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < m; j++) T[i * m + j] = col[j][i];
    tdl_tensor t = {.name = (char *)"eigenvalues", .dtype = TDL_F64, .ndim = m > 1 ? 2 : 1, .shape = {k, m},
                    .numel = k * m, .data = T};
    int st = tdl_npy_write(path, &t);
    free(T);
    return st;
}


static void print_values(const char *label, const double *v, size_t n)
{
    printf("%-13s", label);
    size_t show = n <= 12 ? n : 12;
    for (size_t i = 0; i < show; i++) {
        size_t idx = n <= 12 ? i : (i < 6 ? i : n - 12 + i);
        if (n > 12 && i == 6) printf(" ...");
        printf(" %.6g", v[idx]);
    }
    printf("\n");
}


static int render_plot(const hess_opts *o, const hess_result *r, const char *caption)
{
    plot_series series[3];
    size_t ns = 0;
    double *cx = NULL, *cy = NULL, *gx = NULL, *gy = NULL;
    plot_spec spec = {0};
    int st = TDL_OK;
    char title[256];
    if (r->dens) {
        series[ns++] = (plot_series){"smoothed density", r->grid, r->dens, r->points, PLOT_LINES};
        spec.xlabel = r->summed ? "eigenvalue of the Hessian (summed loss)" : "eigenvalue of the Hessian (mean loss)";
        spec.ylabel = "density";
        spec.logy = 1;
        /* a Gaussian-smoothed density falls to 1e-300 between separated
         * eigenvalues: show six decades below the peak (as PyHessian does) */
        double peak = 0;
        for (size_t i = 0; i < r->points; i++) peak = fmax(peak, r->dens[i]);
        if (peak > 0) spec.ymin = 1e-6 * peak;
        snprintf(title, sizeof title, "Hessian spectral density (%s smoothing, sigma %.3g)", r->smoothing, r->sigma);
    } else {
        size_t bins = r->count < 60 ? (r->count > 5 ? r->count : 5) : 60;
        if ((st = plot_histogram(r->values, r->count, bins, &cx, &cy)) != TDL_OK) return st;
        series[ns++] = (plot_series){"H", cx, cy, bins, PLOT_BOXES};
        if (r->gn_values && r->gn_count) {
            if ((st = plot_histogram(r->gn_values, r->gn_count, bins, &gx, &gy)) != TDL_OK) goto done;
            series[ns++] = (plot_series){"Gauss-Newton G", gx, gy, bins, PLOT_LINESPOINTS};
        }
        spec.xlabel = r->summed ? "eigenvalue of the Hessian (summed loss)" : "eigenvalue of the Hessian (mean loss)";
        spec.ylabel = "count";
        /* counts span decades when a bulk sits at 0 and outliers are few */
        spec.logy = plot_spans_decades(cy, bins, 1.5);
        if (spec.logy) spec.ymin = 0.5; /* single counts stay visible */
        snprintf(title, sizeof title, "Hessian spectrum (%s, %zu eigenvalues)", tdl_name_of(tdl_hessian_method_names, (int)o->method), r->count);
    }
    spec.title = title;
    spec.caption = caption;
    spec.series = series;
    spec.n_series = ns;
    st = plot_render(o->plot, &spec);
done:
    free(cx);
    free(cy);
    free(gx);
    free(gy);
    return st;
}


/* --vectors, -o and --plot, then the report on stdout. */
static int emit_files(const hess_opts *o, const hess_result *r, const char *caption)
{
    int st = TDL_OK;
    if (o->vectors && (st = write_vectors(o->vectors, r->vectors, r->dim, r->count, r->vectors_as_rows)) != TDL_OK) return st;
    if (o->plot && (st = render_plot(o, r, caption)) != TDL_OK) return st;
    if (o->out && (st = write_values(o->out, r)) != TDL_OK) return st;
    return st;
}

/* The keys every `tdl hessian --json` starts with: data, net, block, loss,
 * gradient and provenance.  0, or -1 (the writer discarded). */
static int json_head(json_writer *w, const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                     const tdl_dataset *ds, tdl_loss_kind loss, const char *arch, size_t params)
{
    json_object_begin(w, NULL);
    json_string(w, "data", ds->spec);
    json_string(w, "arch", arch);
    json_size(w, "params", params);
    json_size(w, "total_params", m->n_params);
    if (o->layer_given) json_size(w, "layer", o->layer);
    if (cli_provenance_loss_json(w, m, loss) != 0) { json_discard(w); return -1; }
    json_number_or_reason(w, "loss", r->loss, "the loss is not finite at these parameters");
    json_number(w, "gradient_norm", r->grad_norm);
    json_size(w, "gradient_params", m->n_params);
    json_string(w, "gradient_definition", "||grad_theta L||_2 over every parameter (frozen layers included), L the loss above");
    cli_provenance_model_json(w, mo, m);
    return 0;
}

static int emit_json(const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                     const tdl_dataset *ds, tdl_loss_kind loss, const char *arch, double neg_frac, const cond_info *ci)
{
    double cond = ci->ratio;
    const char *method = tdl_name_of(tdl_hessian_method_names, (int)o->method);
    int full = r->count == r->dim && o->method == TDL_HESSIAN_EXACT;
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    if (json_head(&w, o, mo, r, m, ds, loss, arch, r->dim) != 0) return EXIT_WORK_FAILED;
    json_string(&w, "method", method);
    json_string(&w, "driver", r->driver);
    if (r->count) {
        json_string(&w, "which", full ? "all" : tdl_name_of(which_words, (int)o->which));
        json_number_array(&w, "eigenvalues", r->values, r->count, 1);
        char why[160];
        if (spectrum_has_end(o, r, 0)) json_number(&w, "lambda_min", r->values[0]);
        else json_null_reason(&w, "lambda_min", missing_end(o, r, 0, why, sizeof why));
        if (spectrum_has_end(o, r, 1)) json_number(&w, "lambda_max", r->values[r->count - 1]);
        else json_null_reason(&w, "lambda_max", missing_end(o, r, 1, why, sizeof why));
        json_number_or_reason(&w, "tolerance", r->tol, "no residual tolerance for this method");
        if (full) {
            json_number(&w, "negative_fraction", neg_frac);
            json_number(&w, "roundoff_level", r->roundoff);
            json_string(&w, "roundoff_level_definition", "(n + P) eps ||H||_F: the assembly's sum over n examples and the eigen-solver's backward error");
            if (isnan(cond)) {
                json_null_reason(&w, "condition_positive", "condition number undefined: no eigenvalue above the tolerance");
            } else if (ci->singular) {
                char singular[256];
                snprintf(singular, sizeof singular, "infinite (numerically singular): the smallest eigenvalue above the zero tolerance, %.6g, is within the roundoff level %.3g",
                         ci->min_pos, r->roundoff);
                json_null_reason(&w, "condition_positive", singular);
            } else {
                json_number(&w, "condition_positive", cond);
            }
            if (!isnan(cond)) {
                json_number(&w, "smallest_positive_eigenvalue", ci->min_pos);
                json_number(&w, "condition_positive_ratio", cond);
                json_string(&w, "condition_positive_ratio_definition", "lambda_max / smallest_positive_eigenvalue (the smallest eigenvalue above the zero tolerance)");
            }
        }
        if (r->residuals) json_number_array(&w, "residuals", r->residuals, r->count, 1);
        if (r->error_bounds) {
            json_number_array(&w, "error_bounds", r->error_bounds, r->count, 1);
            json_string(&w, "error_bounds_definition", r->bound_definition);
        }
    }
    if (r->gn_values) {
        json_number_array(&w, "gn_eigenvalues", r->gn_values, r->gn_count, 1);
        if (r->gn_error_bounds) json_number_array(&w, "gn_error_bounds", r->gn_error_bounds, r->gn_count, 1);
        if (r->r_values) json_number_array(&w, "residual_part_eigenvalues", r->r_values, r->gn_count, 1);
        if (r->r_error_bounds) json_number_array(&w, "residual_part_error_bounds", r->r_error_bounds, r->gn_count, 1);
        if (!isnan(r->gn_trace)) json_number(&w, "gn_trace", r->gn_trace);
    }
    json_number_or_reason(&w, "trace", r->trace, "not computed: --probes 0");
    json_string(&w, "trace_method", r->trace_method);
    json_number_or_reason(&w, "trace_std_error", r->trace_se,
                          isnan(r->trace) ? "no trace: --probes 0" : "one run: no standard error (--runs >= 2)");
    if (r->matvecs) {
        json_size(&w, "hessian_vector_products", r->matvecs);
        if (r->iterations) json_size(&w, "lanczos_steps", r->iterations);
        if (o->method == TDL_HESSIAN_LANCZOS) json_bool(&w, "converged", r->converged);
    }
    if (r->dens) {
        json_object_begin(&w, "density");
        json_string(&w, "smoothing", r->smoothing);
        json_number(&w, "sigma", r->sigma);
        json_size(&w, "runs", r->runs);
        json_size(&w, "steps", r->steps);
        json_number_array(&w, "grid", r->grid, r->points, 1);
        json_number_array(&w, "values", r->dens, r->points, 1);
        json_number_array(&w, "nodes", r->nodes, r->runs * r->steps, 1);
        json_number_array(&w, "weights", r->weights, r->runs * r->steps, 1);
        json_object_end(&w);
    }
    if (o->out) {
        json_string(&w, "out", o->out);
        json_array_begin(&w, "out_columns");
        json_string(&w, NULL, "lambda_H");
        if (r->gn_values) json_string(&w, NULL, "lambda_G");
        if (r->r_values) json_string(&w, NULL, "lambda_R");
        json_array_end(&w);
    }
    json_number(&w, "seconds", r->seconds);
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

/* The lines every text output of `tdl hessian` starts with: model, data and
 * loss, gradient, block. */
static void text_head(const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                      const tdl_dataset *ds, tdl_loss_kind loss, const char *arch, size_t block)
{
    char prov[512], lossdesc[128];
    cli_provenance_model_text(mo, m, prov, sizeof prov);
    cli_provenance_loss_text(m, loss, lossdesc, sizeof lossdesc);
    printf("model        %s (%s, %zu parameters; %s)\n", mo->model ? mo->model : "fresh net", arch, m->n_params, prov);
    printf("data         %s (%zu examples); loss (%s) = %.10g\n", ds->spec, ds->n, lossdesc, r->loss);
    printf("gradient     ||grad L|| = %.6g (%zu parameters)\n", r->grad_norm, m->n_params);
    printf("block        %s (%zu parameters)\n", o->layer_given ? "one layer" : "all parameters", block);
}

static void emit_text(const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                      const tdl_dataset *ds, tdl_loss_kind loss, const char *arch, double neg_frac, const cond_info *ci)
{
    int full = r->count == r->dim && o->method == TDL_HESSIAN_EXACT;
    text_head(o, mo, r, m, ds, loss, arch, r->dim);
    printf("method       %s (%s), %.3g s\n", tdl_name_of(tdl_hessian_method_names, (int)o->method), r->driver, r->seconds);
    if (r->count) {
        print_values(full ? "eigenvalues" : (o->which == TDL_WHICH_SMALLEST ? "bottom" : o->which == TDL_WHICH_MAGNITUDE ? "|largest|" : "top"), r->values, r->count);
        char why[160];
        if (spectrum_has_end(o, r, 0)) printf("lambda_min   %.10g\n", r->values[0]);
        else printf("lambda_min   not computed: %s\n", missing_end(o, r, 0, why, sizeof why));
        if (spectrum_has_end(o, r, 1)) printf("lambda_max   %.10g\n", r->values[r->count - 1]);
        else printf("lambda_max   not computed: %s\n", missing_end(o, r, 1, why, sizeof why));
        if (full) {
            printf("negative     %.4f of the eigenvalues < -%.3g\n", neg_frac, r->tol);
            if (isnan(ci->ratio))
                printf("cond (pos.)  undefined (no eigenvalue above %.3g)\n", r->tol);
            else if (ci->singular)
                printf("cond (pos.)  infinite (numerically singular: the smallest eigenvalue above %.3g is %.3g, within the roundoff level %.3g = (n + P) eps ||H||_F; lambda_max / it = %.3g)\n",
                       r->tol, ci->min_pos, r->roundoff, ci->ratio);
            else
                printf("cond (pos.)  %.6g (lambda_max / %.6g, the smallest eigenvalue > %.3g; resolved above the roundoff level %.3g)\n",
                       ci->ratio, ci->min_pos, r->tol, r->roundoff);
        }
        if (r->residuals) {
            double mx = 0;
            for (size_t i = 0; i < r->count; i++) mx = fmax(mx, r->residuals[i]);
            printf("residuals    max ||H v - lambda v|| = %.3g\n", mx);
        }
        if (r->error_bounds) {
            double mx = 0;
            for (size_t i = 0; i < r->count; i++) mx = fmax(mx, r->error_bounds[i]);
            printf("error bound  |lambda - exact| <= %.3g for every value above (%s)\n", mx,
                   o->method == TDL_HESSIAN_EXACT ? "LAPACK's P eps ||H||_2 + the assembly's n eps ||H||_F"
                                                  : "Lanczos: min(||r||, ||r||^2 / gap) + rounding; --json: one per value");
        }
    }
    if (r->gn_values) {
        print_values("GN eigen.", r->gn_values, r->gn_count);
        if (r->r_values) print_values("R eigen.", r->r_values, r->gn_count);
    }
    if (isnan(r->trace)) {
        printf("trace        %s\n", r->trace_method);
    } else {
        printf("trace        %.10g (%s", r->trace, r->trace_method);
        if (r->trace_se > 0) printf(", standard error %.3g", r->trace_se);
        printf(")\n");
    }
    if (r->dens) printf("density      %zu points, %s smoothing, sigma %.4g, %zu runs x %zu steps\n", r->points, r->smoothing, r->sigma, r->runs, r->steps);
    if (o->out) printf("written      %s (%zu eigenvalues; columns lambda_H%s%s)\n", o->out, r->count,
                       r->gn_values ? ", lambda_G" : "", r->r_values ? ", lambda_R" : "");
}

/* ---- --method dual ---------------------------------------------------------- */

/* -o FILE with --method dual: one column lambda_G (the eigenvalues of G
 * returned, ascending, the same doubles as the JSON's gn_eigenvalues). */
static int write_dual_values(const char *path, const tdl_gn_dual_result *d)
{
    const char *ext = strrchr(path, '.');
    if (ext && strcmp(ext, ".csv") == 0) {
        tdl_atomic_file af;
        int st = tdl_atomic_begin(path, &af);
        if (st != TDL_OK) return st;
        fprintf(af.fp, "lambda_G\n");
        for (size_t i = 0; i < d->count; i++) fprintf(af.fp, "%.17g\n", d->values[i]);
        return tdl_atomic_commit(&af);
    }
    tdl_tensor t = {.name = (char *)"eigenvalues", .dtype = TDL_F64, .ndim = 1, .shape = {d->count},
                    .numel = d->count, .data = d->values};
    return tdl_npy_write(path, &t);
}

static const char dual_definition[] =
    "G = c sum_i J_i^T H_l,i J_i (c the loss convention's factor) has the nonzero eigenvalues of the n C x n C "
    "Gram matrix K = c S^T (J J^T) S, S = blockdiag(S_i), S_i S_i^T = H_l,i; J J^T the full empirical NTK";
static const char split_definition[] =
    "Papyan 2019 (ICML) Sec. 3, Papyan 2020 (JMLR 21) Sec. 3: G = sum_{i,c'} w_i,c' delta_i,c' delta_i,c'^T "
    "(ce: w = p_i,c', delta = sqrt(c) (df_c'/dtheta - sum_c'' p_i,c'' df_c''/dtheta); mse: w = 1, delta = sqrt(c) df_c'/dtheta), "
    "grouped by (class of example i, output c'): G_class = sum_c W_cc delta_cc delta_cc^T (class means), "
    "G_cross = sum_{c != c'} W_cc' delta_cc' delta_cc'^T (cross-class means), G_within the rest; W_cc' the summed "
    "weights, delta_cc' the weighted means (the papers' equation numbers not checked here)";

static void print_top(const char *label, const double *asc, size_t n, size_t show)
{
    /* the largest first */
    printf("%-13s", label);
    if (show > n) show = n;
    for (size_t j = 0; j < show; j++) printf(" %.6g", asc[n - 1 - j]);
    if (show < n) printf(" ... (%zu more)", n - show);
    printf("\n");
}

static void emit_dual_text(const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                           const tdl_dataset *ds, tdl_loss_kind loss, const char *arch)
{
    const tdl_gn_dual_result *d = &r->dual;
    text_head(o, mo, r, m, ds, loss, arch, m->n_params); /* the dual refuses --layer */
    printf("method       dual: the Gauss-Newton part G through K = c S^T (J J^T) S, n C = %zu x %zu = %zu (Gram %s, %s), %.3g s (Gram %.3g s, eigen-solve %.3g s",
           d->n, d->C, d->N, d->gram_method, d->driver, r->seconds, d->seconds_gram, d->seconds_eigen);
    if (d->vectors) printf(", eigenvectors %.3g s", d->seconds_vectors);
    printf(")\n");
    if (d->vector_driver)
        printf("eigenvectors of K by %s\n", !strcmp(d->vector_driver, "lanczos") ? "Lanczos on K (relative tolerance 1e-13, multiplicity check)" : "LAPACK dsyevr (index range)");
    printf("memory       %.3g GB counted by the guard (8 (n C)^2 bytes per Gram matrix: %.3g GB; %s)\n", (double)d->bytes / 1e9,
           8.0 * (double)d->N * (double)d->N / 1e9, (d->vectors || d->has_split) && !d->partial ? "two, for eigenvectors of K" : "one");
    print_values(d->count == d->N ? "GN eigen." : "GN top", d->values, d->count);
    if (d->rank_known)
        printf("rank(G)      %zu (eigenvalues of K above the tolerance %.3g = n C eps ||K||_F; the other %zu of G's %zu are 0)\n",
               d->rank, d->tol, m->n_params - d->rank, m->n_params);
    else
        printf("rank(G)      not computed: the top %zu of a dual of order %zu came from Lanczos on K (the rank needs every eigenvalue: omit --k)\n",
               d->count, d->N);
    printf("lambda_max   %.10g (G)\n", d->values[d->count - 1]);
    printf("error bound  |lambda - exact| <= %.3g for every eigenvalue of G above (%s + the Gram's rounding gamma_L trace(K))\n",
           d->error_bound, d->partial ? "Lanczos's certified bound" : "LAPACK's n C eps ||K||_2");
    printf("trace(G)     %.10g (exact: the trace of K); ||G||_F = %.6g\n", d->trace, d->frobenius);
    if (d->has_split) {
        printf("class split  G = G_class + G_cross + G_within (Papyan 2019, 2020; weighted cluster means, tdl help hessian)\n");
        printf("  traces     G_class %.6g, G_cross %.6g, G_within %.6g (sum %.6g = trace(G))\n", d->trace_class,
               d->trace_cross, d->trace_within, d->trace_class + d->trace_cross + d->trace_within);
        print_top("  G_class", d->class_values, d->C, d->C);
        print_top("  G_cross", d->cross_values, d->C * d->C - d->C, d->C);
        printf("  outliers   the top C = %zu eigenvalues of G; share = ||projection of the eigenvector on the span of the class (cross-class) means||^2\n", d->outliers);
        for (size_t j = 0; j < d->outliers; j++)
            printf("  %3zu        lambda %.6g  class %.4f  cross %.4f\n", j + 1, d->outlier_values[j], d->share_class[j], d->share_cross[j]);
    }
    if (o->out) printf("written      %s (%zu eigenvalues of G; column lambda_G)\n", o->out, d->count);
    if (o->vectors) printf("written      %s (%zu eigenvectors of G as columns, P x k)\n", o->vectors, d->count);
}

static int emit_dual_json(const hess_opts *o, const cli_model_opts *mo, const hess_result *r, const tdl_mlp *m,
                          const tdl_dataset *ds, tdl_loss_kind loss, const char *arch)
{
    const tdl_gn_dual_result *d = &r->dual;
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    if (json_head(&w, o, mo, r, m, ds, loss, arch, m->n_params) != 0) return EXIT_WORK_FAILED;
    json_string(&w, "method", "dual");
    json_string(&w, "dual_definition", dual_definition);
    json_string(&w, "driver", d->driver);
    json_string(&w, "gram_method", d->gram_method);
    if (d->vector_driver) json_string(&w, "vector_driver", d->vector_driver);
    json_size(&w, "n", d->n);
    json_size(&w, "outputs", d->C);
    json_size(&w, "gram_order", d->N);
    json_number(&w, "gram_bytes", 8.0 * (double)d->N * (double)d->N);
    json_size(&w, "memory_bytes", d->bytes);
    json_string(&w, "which", d->count == d->N ? "all" : "top");
    json_number_array(&w, "gn_eigenvalues", d->values, d->count, 1);
    {
        double *eb = uniform_bounds(d->error_bound, d->count);
        if (!eb) { json_discard(&w); return cli_failf("out of memory"); }
        json_number_array(&w, "error_bounds", eb, d->count, 1);
        free(eb);
    }
    json_string(&w, "error_bounds_definition",
                d->partial ? "certified |value - exact eigenvalue of G of the same rank|: Lanczos on K's bound, min(||r||, ||r||^2 / gap) "
                             "plus rounding (Parlett Thm 4.5.1, 11.7.1; with the multiplicity check), plus the rounding of forming K, "
                             "gamma_L trace(K) (Higham 2002 eq. (3.5), L the terms per entry; tdl/gn_dual.h)"
                           : "certified |value - exact eigenvalue of G of the same rank|: LAPACK's backward error on K, n C eps ||K||_2 "
                             "(LAPACK Users' Guide sec. 4.7, p(N) = N), plus the rounding of forming K, gamma_L trace(K) (Higham 2002 "
                             "eq. (3.5), L the terms per entry; tdl/gn_dual.h)");
    json_number(&w, "gn_lambda_max", d->values[d->count - 1]);
    if (d->rank_known) json_size(&w, "gn_rank", d->rank);
    else json_number_or_reason(&w, "gn_rank", NAN, "not computed: the top k of a large dual came from Lanczos on K; the rank needs every eigenvalue (omit --k)");
    json_number(&w, "gn_tolerance", d->tol);
    json_string(&w, "gn_tolerance_definition", "n C eps ||K||_F (the order of the dual times eps times its Frobenius norm); eigenvalues of K above it count in rank(G)");
    json_number(&w, "gn_trace", d->trace);
    json_number(&w, "gn_frobenius", d->frobenius);
    if (d->has_split) {
        json_object_begin(&w, "class_split");
        json_string(&w, "definition", split_definition);
        json_number(&w, "trace_class", d->trace_class);
        json_number(&w, "trace_cross", d->trace_cross);
        json_number(&w, "trace_within", d->trace_within);
        json_number_array(&w, "class_eigenvalues", d->class_values, d->C, 1);
        json_number_array(&w, "cross_eigenvalues", d->cross_values, d->C * d->C - d->C, 1);
        json_number_array(&w, "outlier_eigenvalues", d->outlier_values, d->outliers, 1);
        json_number_array(&w, "outlier_class_share", d->share_class, d->outliers, 1);
        json_number_array(&w, "outlier_cross_share", d->share_cross, d->outliers, 1);
        json_string(&w, "share_definition", "||P v_j||^2, v_j the unit eigenvector of the j-th largest eigenvalue of G, P the orthogonal projection on the span of the class means delta_cc (class) or of the cross-class means delta_cc', c != c' (cross)");
        json_object_end(&w);
    }
    if (o->out) {
        json_string(&w, "out", o->out);
        json_array_begin(&w, "out_columns");
        json_string(&w, NULL, "lambda_G");
        json_array_end(&w);
    }
    if (o->vectors) json_string(&w, "vectors", o->vectors);
    json_number(&w, "seconds", r->seconds);
    json_number(&w, "seconds_gram", d->seconds_gram);
    json_number(&w, "seconds_eigen", d->seconds_eigen);
    if (d->vectors) json_number(&w, "seconds_vectors", d->seconds_vectors);
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

/* ---- parse --------------------------------------------------------------- */

enum {
    OPT_DATA = 2000, OPT_METHOD, OPT_K, OPT_WHICH, OPT_GN, OPT_LAYER, OPT_VECTORS, OPT_DENSITY, OPT_RUNS,
    OPT_STEPS, OPT_PROBES, OPT_POINTS, OPT_SMOOTHING, OPT_HSEED, OPT_TOL, OPT_MAXSTEPS, OPT_JSON, OPT_PLOT,
    OPT_THREADS, OPT_QUIET, OPT_OUT, OPT_CLASS_SPLIT
};

/* -1: go on; otherwise the exit code (usage printed). */
static int parse_options(int argc, char **argv, hess_opts *o, cli_model_opts *mo)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"method", required_argument, NULL, OPT_METHOD},
        {"k", required_argument, NULL, OPT_K}, {"which", required_argument, NULL, OPT_WHICH},
        {"gn", no_argument, NULL, OPT_GN}, {"layer", required_argument, NULL, OPT_LAYER},
        {"vectors", required_argument, NULL, OPT_VECTORS}, {"density", no_argument, NULL, OPT_DENSITY},
        {"runs", required_argument, NULL, OPT_RUNS}, {"steps", required_argument, NULL, OPT_STEPS},
        {"probes", required_argument, NULL, OPT_PROBES}, {"points", required_argument, NULL, OPT_POINTS},
        {"smoothing", required_argument, NULL, OPT_SMOOTHING}, {"hessian-seed", required_argument, NULL, OPT_HSEED},
        {"tol", required_argument, NULL, OPT_TOL}, {"max-steps", required_argument, NULL, OPT_MAXSTEPS},
        {"json", no_argument, NULL, OPT_JSON}, {"plot", required_argument, NULL, OPT_PLOT},
        {"threads", required_argument, NULL, OPT_THREADS}, {"quiet", no_argument, NULL, OPT_QUIET},
        {"out", required_argument, NULL, OPT_OUT}, {"class-split", no_argument, NULL, OPT_CLASS_SPLIT},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts_init(mo);
    memset(o, 0, sizeof *o);
    o->method = TDL_HESSIAN_EXACT;
    o->which = TDL_WHICH_LARGEST;
    o->smoothing_text = "pyhessian";
    o->runs = 10;
    o->steps = 80;
    o->probes = 99;
    o->points = 0;
    int c, v;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "hessian")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(mo, "hessian", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_METHOD:
            o->dual = strcmp(optarg, "dual") == 0;
            if (o->dual) { o->method = TDL_HESSIAN_EXACT; break; }
            if (tdl_name_lookup(tdl_hessian_method_names, "method", optarg, &v) != TDL_OK)
                return cli_usage("hessian", "--method %s: expected exact, lanczos, slq or dual", optarg);
            o->method = (tdl_hessian_method)v;
            break;
        case OPT_K: bad = cli_parse_size(optarg, 1, SIZE_MAX, &o->k); o->k_given = 1; break;
        case OPT_WHICH:
            if (tdl_name_lookup(which_words, "selection", optarg, &v) != TDL_OK)
                return cli_usage("hessian", "--which %s: expected top, bottom or magnitude", optarg);
            o->which = (tdl_which)v;
            break;
        case OPT_GN: o->gn = 1; break;
        case OPT_LAYER: bad = cli_parse_size(optarg, 0, TDL_MAX_DEPTH - 1, &o->layer); o->layer_given = 1; break;
        case OPT_VECTORS: o->vectors = optarg; break;
        case OPT_DENSITY: o->density = 1; break;
        case OPT_RUNS: bad = cli_parse_size(optarg, 1, 100000, &o->runs); break;
        case OPT_STEPS: bad = cli_parse_size(optarg, 2, 100000, &o->steps); break;
        case OPT_PROBES: /* Hutch++: sketch, projection, 2 probes; 0: no trace */
            bad = cli_parse_size(optarg, 0, 1000000, &o->probes);
            if (!bad && o->probes > 0 && o->probes < 4) return cli_usage("hessian", "--probes %s: Hutch++ needs at least 4 products (or 0: no trace)", optarg);
            break;
        case OPT_POINTS: bad = cli_parse_size(optarg, 2, 10000000, &o->points); break;
        case OPT_SMOOTHING: o->smoothing_text = optarg; break;
        case OPT_HSEED: bad = cli_parse_ulong(optarg, &o->seed); break;
        case OPT_TOL: bad = cli_parse_double(optarg, &o->tol) || o->tol <= 0; break;
        case OPT_MAXSTEPS: bad = cli_parse_size(optarg, 1, 1000000, &o->max_steps); break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_QUIET: o->quiet = 1; break;
        case 'o':
        case OPT_OUT: o->out = optarg; break;
        case OPT_CLASS_SPLIT: o->class_split = 1; break;
        default: return cli_bad_option("hessian", argv, optopt);
        }
        if (bad) return cli_usage("hessian", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("hessian", "unexpected argument '%s'", argv[optind]);
    if (!o->data) return cli_usage("hessian", "--data SPEC is required");
    if (tdl_name_lookup(tdl_smoothing_names, "density smoothing", o->smoothing_text, &v) != TDL_OK)
        return cli_usage("hessian", "%s", tdl_errmsg());
    o->smoothing = (tdl_smoothing)v;
    if (o->class_split && !o->dual)
        return cli_usage("hessian", "--class-split splits G through its kernel dual: it needs --method dual --gn");
    if (o->dual) {
        if (cli_dist_active())
            return cli_usage("hessian", "--method dual runs on one process (its n C x n C matrix fits one node where the P x P one does not): run it without mpirun");
        if (!o->gn)
            return cli_usage("hessian", "--method dual computes the Gauss-Newton part G through its kernel dual, not H (whose second-derivative part has no such dual): add --gn");
        if (o->layer_given || o->density || o->plot || o->which != TDL_WHICH_LARGEST)
            return cli_usage("hessian", "--method dual gives the spectrum of G over all parameters, largest first: --layer, --density, --plot and --which belong to exact, lanczos and slq");
        if (o->vectors && !o->k_given)
            return cli_usage("hessian", "--vectors with --method dual: say how many eigenvectors with --k");
    }
    if (o->method == TDL_HESSIAN_SLQ && (o->vectors || o->k_given))
        return cli_usage("hessian", "--method slq gives a density: --k and --vectors belong to exact and lanczos");
    if (o->method == TDL_HESSIAN_SLQ) o->density = 1;
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("hessian", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    if (o->out) {
        const char *ext = strrchr(o->out, '.');
        if (!ext || (strcmp(ext, ".npy") && strcmp(ext, ".csv")))
            return cli_usage("hessian", "-o %s: the eigenvalues go to a .npy or .csv file", o->out);
        if (o->method == TDL_HESSIAN_SLQ)
            return cli_usage("hessian", "-o: --method slq gives a density, not eigenvalues; use --json for its nodes and weights");
        if (o->gn && o->k_given && o->which == TDL_WHICH_MAGNITUDE && o->method == TDL_HESSIAN_EXACT)
            return cli_usage("hessian", "-o with --gn --which magnitude: G and R are not selected by magnitude, so the spectra differ in length; use --which top or bottom");
    }
    if (o->vectors) {
        const char *ext = strrchr(o->vectors, '.');
        if (!ext || strcmp(ext, ".npy"))
            return cli_usage("hessian", "--vectors %s: the eigenvectors go to a .npy file", o->vectors);
    }
    {
        const cli_file ins[] = {{"--model", mo->model, CLI_FILE_PATH, NULL}, {"--data", o->data, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"-o", o->out, CLI_FILE_PATH, NULL}, {"--vectors", o->vectors, CLI_FILE_PATH, NULL}, {"--plot", o->plot, CLI_FILE_FIGURE, NULL}};
        if (cli_check_outputs("hessian", ins, 2, outs, 3) != 0) return EXIT_WORK_FAILED;
    }
    if (o->out) {
        /* writable before any work: a temporary is created and removed */
        tdl_atomic_file probe;
        int pst = tdl_atomic_begin(o->out, &probe);
        if (pst != TDL_OK) return cli_fail(pst);
        tdl_atomic_abort(&probe);
    }
    return -1;
}

int cmd_hessian(int argc, char **argv)
{
    cli_model_opts mo;
    hess_opts o;
    if (cli_dist_begin() != 0) return EXIT_WORK_FAILED; /* under mpirun: rank 0 speaks (dist_cli.h) */
    int rc = parse_options(argc, argv, &o, &mo);
    if (rc >= 0) return cli_dist_end(rc);
    cli_set_threads(o.threads);

    int st;
    rc = EXIT_WORK_FAILED;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_loss_kind loss;
    hess_result r = {0};
    r.gn_trace = NAN; /* only the exact method computes trace(G) */
    if ((st = cli_load_data(o.data, &ds)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if ((rc = cli_model_build(&mo, "hessian", &m)) != 0) goto cleanup;
    if ((rc = cli_model_loss(&mo, "hessian", m, ds, &loss)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (o.layer_given && o.layer >= m->depth) { rc = cli_usage("hessian", "--layer %zu: the net has layers 0..%zu", o.layer, m->depth - 1); goto cleanup; }
    r.off = 0;
    r.dim = m->n_params;
    if (o.layer_given) tdl_layer_range(m, o.layer, &r.off, &r.dim);
    if (o.k_given && o.k > r.dim) { rc = cli_usage("hessian", "--k %zu exceeds the %zu parameters", o.k, r.dim); goto cleanup; }
    if ((rc = cli_dist_ready(0)) != 0) goto cleanup; /* under mpirun: every rank has loaded (dist_cli.h) */
    if ((st = run(m, loss, ds, &o, &r)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (!cli_dist_root()) { rc = 0; goto cleanup; } /* rank 0 prints and writes */
    {
        tdl_loss_convention conv;
        r.summed = tdl_mlp_loss_convention(m, &conv) == TDL_OK && conv.reduction == TDL_REDUCTION_SUM;
    }

    if (o.dual) {
        char darch[256];
        tdl_arch_format(m, darch, sizeof darch);
        if (o.vectors && (st = write_vectors(o.vectors, r.dual.vectors, m->n_params, r.dual.count, 1)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        if (o.out && (st = write_dual_values(o.out, &r.dual)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        if (o.as_json) {
            if ((rc = emit_dual_json(&o, &mo, &r, m, ds, loss, darch)) != 0) goto cleanup;
        } else {
            emit_dual_text(&o, &mo, &r, m, ds, loss, darch);
        }
        rc = 0;
        goto cleanup;
    }
    double neg_frac = NAN;
    cond_info ci = {NAN, NAN, NAN, 0};
    if (r.count) spectrum_stats(r.values, r.count, isnan(r.tol) ? 0 : r.tol, isnan(r.roundoff) ? 0 : r.roundoff, &neg_frac, &ci);
    const char *method = tdl_name_of(tdl_hessian_method_names, (int)o.method);
    char arch[256], caption[512];
    tdl_arch_format(m, arch, sizeof arch);
    char lossdesc[128];
    cli_provenance_loss_text(m, loss, lossdesc, sizeof lossdesc);
    if (!strchr(lossdesc, ',') || !strcmp(strchr(lossdesc, ','), ", mean over examples"))
        snprintf(lossdesc, sizeof lossdesc, "%s (mean)", tdl_loss_name(loss)); /* the caption as before */
    snprintf(caption, sizeof caption, "%s (%s), %s, loss %s; data %s; method %s%s", mo.model ? mo.model : "fresh net",
             arch, o.layer_given ? "one layer's block" : "all parameters", lossdesc, ds->spec, method,
             o.method == TDL_HESSIAN_EXACT ? (cli_dist_active() ? " (ELPA / ScaLAPACK)" : " (LAPACK)") : "");
    if ((st = emit_files(&o, &r, caption)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    if (o.as_json) {
        if ((rc = emit_json(&o, &mo, &r, m, ds, loss, arch, neg_frac, &ci)) != 0) goto cleanup;
    } else {
        emit_text(&o, &mo, &r, m, ds, loss, arch, neg_frac, &ci);
    }
    rc = 0;
cleanup:
    hess_result_free(&r);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return cli_dist_end(rc); /* under mpirun: no rank left waiting (dist_cli.h) */
}
