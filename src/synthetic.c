/* synthetic.c — seeded synthetic data sets (the generators of tdl/data.h).
 *
 *   gauss:n=200,d=2,classes=2,sep=3   isotropic unit-variance Gaussian blobs.
 *        Means: if d >= classes, mu_c = (sep / sqrt 2) e_c (pairwise distance
 *        sep); otherwise on a circle in the first two coordinates with
 *        neighbouring means sep apart (d = 1: on a line, sep apart).
 *        Labels balanced (i mod classes).
 *   teacher:n=200,d=10,k=4,act=relu   x ~ N(0, I_d); y = sum_j act(w_j . x)
 *        with k unit-norm teacher vectors w_j, orthonormal when k <= d (the
 *        planted-net setting of Safran and Shamir 2018).  Regression, 1 output.
 *   sphere:n=200,d=10,k=4,act=relu    as teacher but x uniform on the unit
 *        sphere S^{d-1} (the setting of Du et al. 2019).
 *   spirals:n=200,noise=0.05,turns=1.5  two interleaved spirals in the plane:
 *        class c, t ~ U(0,1): r = t, phi = 2 pi turns t + c pi, plus N(0, noise^2).
 *   xor:n=200,d=2   x ~ U[-1,1]^d, label 1 iff x_0 x_1 < 0 (other coordinates
 *        are noise).
 * All take seed= (default 0); the same seed gives the same set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_blas.h>
#include "internal.h"
#include "data_internal.h"

#define MAX_SYNTH_N 100000000UL
#define MAX_SYNTH_D 1000000UL

static const char *const generators[] = {"gauss", "teacher", "sphere", "spirals", "xor", NULL};

int tdl_is_synthetic(const char *name)
{
    for (size_t i = 0; generators[i]; i++)
        if (strcmp(name, generators[i]) == 0) return 1;
    return 0;
}

static double act_apply(const char *act, double z)
{
    if (strcmp(act, "relu") == 0) return z > 0 ? z : 0;
    if (strcmp(act, "tanh") == 0) return tanh(z);
    if (strcmp(act, "identity") == 0) return z;
    if (strcmp(act, "quadratic") == 0) return z * z;
    if (strcmp(act, "erf") == 0) return erf(z);
    return 1.0 / (1.0 + exp(-z)); /* sigmoid */
}

static int check_act(const tdl_spec *s, const char *act)
{
    static const char *const ok[] = {"relu", "tanh", "identity", "quadratic", "erf", "sigmoid", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (strcmp(act, ok[i]) == 0) return TDL_OK;
    return tdl_fail(TDL_EINVAL, "data spec '%s': act=%s (teacher activations: relu tanh identity quadratic erf sigmoid)",
                    s->text, act);
}

/* Unit teacher vectors, orthonormal when k <= d (Gram-Schmidt of Gaussians). */
static void teacher_vectors(gsl_rng *r, gsl_matrix *W)
{
    size_t k = W->size1, d = W->size2;
    for (size_t j = 0; j < k; j++) {
        gsl_vector_view w = gsl_matrix_row(W, j);
        double nrm = 0;
        do {
            for (size_t i = 0; i < d; i++) gsl_vector_set(&w.vector, i, gsl_ran_gaussian_ziggurat(r, 1.0));
            if (k <= d)
                for (size_t p = 0; p < j; p++) {
                    gsl_vector_view q = gsl_matrix_row(W, p);
                    double dot;
                    gsl_blas_ddot(&q.vector, &w.vector, &dot);
                    gsl_blas_daxpy(-dot, &q.vector, &w.vector);
                }
            nrm = gsl_blas_dnrm2(&w.vector);
        } while (nrm < 1e-8);
        gsl_vector_scale(&w.vector, 1.0 / nrm);
    }
}

int tdl_synthetic_generate(tdl_spec *s, tdl_dataset **out)
{
    const char *name = s->name;
    size_t n = 200, d = 2, classes = 2, k = 4;
    double sep = 3.0, noise = 0.05, turns = 1.5, seed_d = 0;
    int st;
    int is_teacher = strcmp(name, "teacher") == 0 || strcmp(name, "sphere") == 0;
    if (is_teacher) d = 10;
    if ((st = tdl_spec_size(s, "n", 1, MAX_SYNTH_N, &n)) != TDL_OK) return st;
    if ((st = tdl_spec_double(s, "seed", 0, 4294967295.0, &seed_d)) != TDL_OK) return st;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(r, (unsigned long)seed_d * 2654435761UL + 12345UL);
    tdl_dataset *ds = NULL;
    gsl_matrix *W = NULL;

    if (strcmp(name, "gauss") == 0) {
        if ((st = tdl_spec_size(s, "d", 1, MAX_SYNTH_D, &d)) != TDL_OK) goto cleanup;
        if ((st = tdl_spec_size(s, "classes", 2, 100000, &classes)) != TDL_OK) goto cleanup;
        if ((st = tdl_spec_double(s, "sep", 0, 1e6, &sep)) != TDL_OK) goto cleanup;
        if ((st = tdl_dataset_alloc(n, d, classes, 0, &ds)) != TDL_OK) goto cleanup;
        for (size_t i = 0; i < n; i++) {
            size_t c = i % classes;
            ds->labels[i] = c;
            for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, gsl_ran_gaussian_ziggurat(r, 1.0));
            if (d >= classes) {
                *gsl_matrix_ptr(ds->X, i, c) += sep / M_SQRT2;
            } else if (d >= 2) {
                double radius = sep / (2.0 * sin(M_PI / (double)classes));
                double phi = 2.0 * M_PI * (double)c / (double)classes;
                *gsl_matrix_ptr(ds->X, i, 0) += radius * cos(phi);
                *gsl_matrix_ptr(ds->X, i, 1) += radius * sin(phi);
            } else {
                *gsl_matrix_ptr(ds->X, i, 0) += sep * ((double)c - 0.5 * (double)(classes - 1));
            }
        }
    } else if (is_teacher) {
        const char *act = tdl_spec_string(s, "act");
        if (!act) act = "relu";
        if ((st = check_act(s, act)) != TDL_OK) goto cleanup;
        if ((st = tdl_spec_size(s, "d", 1, MAX_SYNTH_D, &d)) != TDL_OK) goto cleanup;
        if ((st = tdl_spec_size(s, "k", 1, 100000, &k)) != TDL_OK) goto cleanup;
        if ((st = tdl_dataset_alloc(n, d, 0, 1, &ds)) != TDL_OK) goto cleanup;
        W = gsl_matrix_alloc(k, d);
        if (!W) { st = tdl_fail(TDL_ENOMEM, "out of memory for the teacher"); goto cleanup; }
        teacher_vectors(r, W);
        int on_sphere = strcmp(name, "sphere") == 0;
        for (size_t i = 0; i < n; i++) {
            gsl_vector_view x = gsl_matrix_row(ds->X, i);
            if (on_sphere) gsl_ran_dir_nd(r, d, x.vector.data);
            else for (size_t j = 0; j < d; j++) gsl_vector_set(&x.vector, j, gsl_ran_gaussian_ziggurat(r, 1.0));
            double y = 0;
            for (size_t j = 0; j < k; j++) {
                gsl_vector_view w = gsl_matrix_row(W, j);
                double z;
                gsl_blas_ddot(&w.vector, &x.vector, &z);
                y += act_apply(act, z);
            }
            gsl_matrix_set(ds->Y, i, 0, y);
        }
    } else if (strcmp(name, "spirals") == 0) {
        if ((st = tdl_spec_double(s, "noise", 0, 1e3, &noise)) != TDL_OK) goto cleanup;
        if ((st = tdl_spec_double(s, "turns", 0.1, 100, &turns)) != TDL_OK) goto cleanup;
        if ((st = tdl_dataset_alloc(n, 2, 2, 0, &ds)) != TDL_OK) goto cleanup;
        for (size_t i = 0; i < n; i++) {
            size_t c = i % 2;
            double t = gsl_rng_uniform(r);
            double phi = 2.0 * M_PI * turns * t + (double)c * M_PI;
            ds->labels[i] = c;
            gsl_matrix_set(ds->X, i, 0, t * cos(phi) + gsl_ran_gaussian_ziggurat(r, noise));
            gsl_matrix_set(ds->X, i, 1, t * sin(phi) + gsl_ran_gaussian_ziggurat(r, noise));
        }
    } else { /* xor */
        if ((st = tdl_spec_size(s, "d", 2, MAX_SYNTH_D, &d)) != TDL_OK) goto cleanup;
        if ((st = tdl_dataset_alloc(n, d, 2, 0, &ds)) != TDL_OK) goto cleanup;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, 2.0 * gsl_rng_uniform(r) - 1.0);
            ds->labels[i] = gsl_matrix_get(ds->X, i, 0) * gsl_matrix_get(ds->X, i, 1) < 0 ? 1 : 0;
        }
    }
    *out = ds;
    ds = NULL;
    st = TDL_OK;
cleanup:
    tdl_dataset_free(&ds);
    if (W) gsl_matrix_free(W);
    gsl_rng_free(r);
    return st;
}
