/* sharpness.c — the top Hessian eigenvalues along training, by warm-started
 * Lanczos (tdl/sharpness.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "tdl/sharpness.h"
#include "tdl/hessian.h"
#include "tdl/spectral.h"
#include "tdl/memory.h"
#include "internal.h"

/* The weight of the random component of a warm start, relative to the
 * (unit-norm) previous top direction: small enough to keep the warm start's
 * advantage, large enough that an eigenvector orthogonal to the previous
 * Ritz vectors is still in the Krylov space from the first step. */
#define WARM_NOISE 1e-2
#define SHARPNESS_TOL_DEFAULT 1e-8

struct tdl_sharpness_tracker {
    const tdl_mlp *m;
    tdl_hessian_operator *op;
    size_t P, k;
    double tol;
    unsigned long seed;
    size_t calls;
    double *start;   /* P: the next start vector; NULL before the first measurement */
    gsl_rng *rng;
};

int tdl_sharpness_tracker_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t k,
                                 double tol, unsigned long seed, tdl_sharpness_tracker **out)
{
    static const char who[] = "sharpness";
    if (!out) return tdl_fail(TDL_EINVAL, "%s: no output pointer", who);
    *out = NULL;
    if (!m || !ds) return tdl_fail(TDL_EINVAL, "%s: no net or no data", who);
    if (k == 0 || k > TDL_SHARPNESS_MAX_K || k > m->n_params)
        return tdl_fail(TDL_EINVAL, "%s: k = %zu eigenvalues requested; 1 .. %zu are possible (%zu parameters)", who, k,
                        m->n_params < TDL_SHARPNESS_MAX_K ? m->n_params : (size_t)TDL_SHARPNESS_MAX_K, m->n_params);
    if (!(tol >= 0) || isinf(tol)) return tdl_fail(TDL_EINVAL, "%s: tolerance %g is not a finite number >= 0", who, tol);
    tdl_sharpness_tracker *t = tdl_calloc(1, sizeof *t, "a sharpness tracker");
    if (!t) return TDL_ENOMEM;
    int st = tdl_hessian_operator_create(m, loss, ds, 0, &t->op);
    if (st != TDL_OK) { free(t); return st; }
    t->m = m;
    t->P = m->n_params;
    t->k = k;
    t->tol = tol > 0 ? tol : SHARPNESS_TOL_DEFAULT;
    t->seed = seed;
    t->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!t->rng) { tdl_sharpness_tracker_free(&t); return tdl_fail(TDL_ENOMEM, "%s: out of memory", who); }
    gsl_rng_set(t->rng, seed);
    *out = t;
    return TDL_OK;
}

int tdl_sharpness_measure(tdl_sharpness_tracker *t, tdl_sharpness *out)
{
    if (!t || !out) return tdl_fail(TDL_EINVAL, "sharpness: no tracker or no result");
    memset(out, 0, sizeof *out);
    tdl_lanczos_result r;
    /* The seed of each call differs (restarts, probes); the start is the
     * previous top directions. */
    int st = tdl_lanczos_from(tdl_hessian_operator_apply, t->op, t->P, t->k, TDL_WHICH_LARGEST, 0, t->tol,
                              t->seed + t->calls, TDL_LANCZOS_VECTORS, t->start, &r);
    if (st != TDL_OK) return st;
    t->calls++;
    const size_t k = r.k;
    out->k = k;
    out->matvecs = r.matvecs;
    out->converged = r.converged;
    for (size_t j = 0; j < k; j++) { /* ascending -> descending */
        out->values[j] = r.values[k - 1 - j];
        out->bounds[j] = r.error_bounds ? r.error_bounds[k - 1 - j] : r.residuals[k - 1 - j];
    }
    /* the next start: sum of the Ritz vectors (each unit norm, mutually
     * orthogonal) normalized, plus WARM_NOISE of a random unit direction */
    if (!t->start && !(t->start = tdl_malloc(t->P * sizeof(double), "a Lanczos start vector"))) {
        tdl_lanczos_result_free(&r);
        return TDL_ENOMEM;
    }
    double sv = 0, sg = 0;
    for (size_t i = 0; i < t->P; i++) {
        double s = 0;
        for (size_t j = 0; j < k; j++) s += r.vectors[i * k + j];
        t->start[i] = s;
        sv += s * s;
    }
    sv = sv > 0 ? 1.0 / sqrt(sv) : 0.0;
    double *noise = tdl_malloc(t->P * sizeof(double), "a Lanczos start vector");
    if (!noise) { tdl_lanczos_result_free(&r); return TDL_ENOMEM; }
    for (size_t i = 0; i < t->P; i++) { noise[i] = gsl_ran_gaussian(t->rng, 1.0); sg += noise[i] * noise[i]; }
    sg = sg > 0 ? WARM_NOISE / sqrt(sg) : 0.0;
    for (size_t i = 0; i < t->P; i++) t->start[i] = t->start[i] * sv + noise[i] * sg;
    free(noise);
    tdl_lanczos_result_free(&r);
    return TDL_OK;
}

size_t tdl_sharpness_tracker_products(const tdl_sharpness_tracker *t)
{
    return t ? tdl_hessian_operator_products(t->op) : 0;
}

void tdl_sharpness_tracker_free(tdl_sharpness_tracker **t)
{
    if (!t || !*t) return;
    tdl_hessian_operator_free(&(*t)->op);
    free((*t)->start);
    if ((*t)->rng) gsl_rng_free((*t)->rng);
    free(*t);
    *t = NULL;
}
