/* check_landscape.c — loss-landscape slices, directions, PCA planes and
 * mode connectivity (tdl/landscape.h).
 *
 * References: the plain forward pass (tdl_mlp_loss_grad / tdl_mlp_evaluate)
 * at the same parameters, computed independently of the first-layer
 * factorization the landscape code uses; the dense Hessian and LAPACK for
 * the eigenvector plane; central finite differences for the curvature of a
 * slice; a trajectory built in a known plane for PCA (closed form). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "tdl/tdl.h"

static tdl_dataset *load(const char *spec)
{
    tdl_dataset *ds = NULL;
    ck_assert_msg(tdl_dataset_load(spec, &ds) == TDL_OK, "%s: %s", spec, tdl_errmsg());
    return ds;
}

static tdl_mlp *fresh(const char *arch, const char *act, unsigned long seed, int bias)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse(act, &cfg.act), TDL_OK);
    cfg.seed = seed;
    cfg.bias = bias;
    cfg.sigma_b = bias ? 0.3 : 0.0;
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    return m;
}

/* The reference: mean loss and accuracy of theta by the plain forward pass,
 * with a work space holding the whole data set (one block). */
static void reference(const tdl_mlp *m, const double *theta, tdl_loss_kind loss, const tdl_dataset *ds,
                      double *l, double *acc)
{
    tdl_mlp *c = NULL;
    ck_assert_int_eq(tdl_mlp_clone(m, &c), TDL_OK);
    memcpy(c->theta, theta, m->n_params * sizeof(double));
    tdl_net_work *w = NULL;
    ck_assert_int_eq(tdl_net_work_alloc(c, ds->n, &w), TDL_OK);
    ck_assert_int_eq(tdl_mlp_loss_grad(c, loss, ds, w, l, NULL), TDL_OK);
    if (acc) {
        tdl_eval_stats s;
        ck_assert_int_eq(tdl_mlp_evaluate(c, loss, ds, w, &s), TDL_OK);
        *acc = s.accuracy;
        tdl_eval_stats_free(&s);
    }
    tdl_net_work_free(&w);
    tdl_mlp_free(&c);
}

static double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Interpolation (Goodfellow et al.): the endpoints are the two models
 * EXACTLY; inner and extrapolated points match the forward pass at
 * (1 - a) A + a B to rounding. */
START_TEST(test_interpolation_endpoints)
{
    static const char *acts[] = {"relu", "tanh", "identity"};
    tdl_dataset *ds = load("iris:normalize=standard");
    for (int a = 0; a < 3; a++) {
        tdl_mlp *A = fresh("4-7-5-3", acts[a], 1, 1), *B = fresh("4-7-5-3", acts[a], 2, 1);
        const size_t P = A->n_params, n = 9;
        double x[9], coef[18], l[9], acc[9];
        tdl_linspace(-0.5, 1.5, n, x);
        ck_assert(x[2] == 0.0 && x[6] == 1.0);
        for (size_t i = 0; i < n; i++) {
            coef[2 * i] = 1 - x[i];
            coef[2 * i + 1] = x[i];
        }
        const double *basis[2] = {A->theta, B->theta};
        ck_assert_int_eq(tdl_landscape_eval(A, TDL_LOSS_CE, ds, 2, basis, n, coef, NULL, 0, l, acc), TDL_OK);
        double la, lb, aa, ab;
        reference(A, A->theta, TDL_LOSS_CE, ds, &la, &aa);
        reference(A, B->theta, TDL_LOSS_CE, ds, &lb, &ab);
        ck_assert_msg(l[2] == la, "%s: start %.17g vs model A %.17g", acts[a], l[2], la);
        ck_assert_msg(l[6] == lb, "%s: end %.17g vs model B %.17g", acts[a], l[6], lb);
        ck_assert(acc[2] == aa && acc[6] == ab);
        double *th = dalloc(P);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < P; j++) th[j] = (1 - x[i]) * A->theta[j] + x[i] * B->theta[j];
            double lr, ar;
            reference(A, th, TDL_LOSS_CE, ds, &lr, &ar);
            /* the two evaluations differ only in how X W0^T is summed: a few
             * eps times the magnitudes involved, far below 1e-12 */
            ck_assert_msg(fabs(l[i] - lr) <= 1e-12 * fmax(1, lr), "%s x=%g: %.17g vs %.17g", acts[a], x[i], l[i], lr);
            ck_assert_msg(acc[i] == ar, "%s x=%g: accuracy %g vs %g", acts[a], x[i], acc[i], ar);
        }
        free(th);
        tdl_mlp_free(&A);
        tdl_mlp_free(&B);
    }
    tdl_dataset_free(&ds);
}
END_TEST

/* A 2D grid: the centre is the model's loss exactly; every cell matches
 * the forward pass at theta + x d1 + y d2; more blocks than one (mnist-like
 * size through a large synthetic set) give the same to rounding. */
START_TEST(test_grid_centre_and_cells)
{
    static const struct { const char *arch, *act, *data; tdl_loss_kind loss; int bias; } cases[] = {
        {"4-6-3", "relu", "iris:normalize=standard", TDL_LOSS_CE, 1},
        {"5-8-1", "tanh", "gauss:n=300,d=5,classes=2", TDL_LOSS_LOGISTIC, 0},
        {"3-4", "identity", "gauss:n=5000,d=3,classes=4,sep=1", TDL_LOSS_MSE, 1},
        {"10-12-9-1", "softplus", "teacher:n=200,d=10,k=3,act=relu", TDL_LOSS_MSE, 1},
        {"6-5-3", "gelu", "gauss:n=4500,d=6,classes=3", TDL_LOSS_HINGE, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tdl_dataset *ds = load(cases[c].data);
        tdl_mlp *m = fresh(cases[c].arch, cases[c].act, 3, cases[c].bias);
        const size_t P = m->n_params, nx = 5, ny = 5, N = nx * ny;
        double *d1 = dalloc(P), *d2 = dalloc(P), *th = dalloc(P);
        ck_assert_int_eq(tdl_direction_random(m, 11, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d1), TDL_OK);
        ck_assert_int_eq(tdl_direction_random(m, 12, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d2), TDL_OK);
        double xs[5], coef[75], l[25], acc[25];
        tdl_linspace(-1, 1, 5, xs);
        for (size_t i = 0; i < ny; i++)
            for (size_t j = 0; j < nx; j++) {
                coef[3 * (i * nx + j)] = 1;
                coef[3 * (i * nx + j) + 1] = xs[j];
                coef[3 * (i * nx + j) + 2] = xs[i];
            }
        const double *basis[3] = {m->theta, d1, d2};
        ck_assert_int_eq(tdl_landscape_eval(m, cases[c].loss, ds, 3, basis, N, coef, NULL, 2, l, acc), TDL_OK);
        double l0, a0;
        reference(m, m->theta, cases[c].loss, ds, &l0, &a0);
        if (ds->n <= 2048) /* one block: the same summation as the reference */
            ck_assert_msg(l[12] == l0, "case %zu: centre %.17g vs model %.17g", c, l[12], l0);
        else
            ck_assert_msg(fabs(l[12] - l0) <= 1e-14 * l0, "case %zu: centre %.17g vs model %.17g", c, l[12], l0);
        for (size_t q = 0; q < N; q++) {
            for (size_t k = 0; k < P; k++) th[k] = m->theta[k] + coef[3 * q + 1] * d1[k] + coef[3 * q + 2] * d2[k];
            double lr, ar;
            reference(m, th, cases[c].loss, ds, &lr, &ar);
            ck_assert_msg(fabs(l[q] - lr) <= 1e-12 * fmax(1, lr), "case %zu cell %zu: %.17g vs %.17g", c, q, l[q], lr);
            if (ds->classes) ck_assert_msg(acc[q] == ar, "case %zu cell %zu: accuracy", c, q);
            else ck_assert(isnan(acc[q]));
        }
        free(d1);
        free(d2);
        free(th);
        tdl_mlp_free(&m);
        tdl_dataset_free(&ds);
    }
}
END_TEST

/* Resuming: a grid filled in three passes (todo masks) equals the grid
 * filled at once, bit for bit, whatever the thread count. */
START_TEST(test_resume)
{
    tdl_dataset *ds = load("digits:n=400");
    tdl_mlp *m = fresh("64-20-10", "relu", 4, 1);
    const size_t P = m->n_params, n = 7, N = n * n;
    double *d1 = dalloc(P), *d2 = dalloc(P);
    ck_assert_int_eq(tdl_direction_random(m, 1, TDL_NORM_LAYER, TDL_BIAS_NORMALIZE, d1), TDL_OK);
    ck_assert_int_eq(tdl_direction_random(m, 2, TDL_NORM_LAYER, TDL_BIAS_NORMALIZE, d2), TDL_OK);
    double xs[7], coef[3 * 49], full[49], facc[49], part[49], pacc[49];
    tdl_linspace(-1, 1, n, xs);
    for (size_t q = 0; q < N; q++) {
        coef[3 * q] = 1;
        coef[3 * q + 1] = xs[q % n];
        coef[3 * q + 2] = xs[q / n];
    }
    const double *basis[3] = {m->theta, d1, d2};
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 3, basis, N, coef, NULL, 1, full, facc), TDL_OK);
    unsigned char todo[49];
    for (size_t q = 0; q < N; q++) part[q] = pacc[q] = NAN;
    for (int pass = 0; pass < 3; pass++) {
        for (size_t q = 0; q < N; q++) todo[q] = (q % 3) == (size_t)pass;
        ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 3, basis, N, coef, todo, 2, part, pacc), TDL_OK);
        /* cells of later passes are untouched (still unfilled) */
        for (size_t q = 0; q < N; q++)
            if ((q % 3) > (size_t)pass) ck_assert(isnan(part[q]));
    }
    ck_assert_int_eq(memcmp(full, part, sizeof full), 0);
    ck_assert_int_eq(memcmp(facc, pacc, sizeof facc), 0);
    free(d1);
    free(d2);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* Filter normalization: each unit's direction has the norm of its weights
 * (Li et al. 2018, sec. 4); layer normalization: each layer's Frobenius norm;
 * biases zeroed (ignore) or part of their unit (normalize). */
START_TEST(test_normalization)
{
    tdl_mlp *m = fresh("9-13-7-4", "relu", 5, 1);
    const size_t P = m->n_params;
    double *d = dalloc(P);
    for (int bm = 0; bm < 2; bm++) {
        ck_assert_int_eq(tdl_direction_random(m, 7, TDL_NORM_FILTER, (tdl_bias_mode)bm, d), TDL_OK);
        for (size_t l = 0; l < m->depth; l++) {
            const tdl_layer *L = &m->layers[l];
            for (size_t r = 0; r < L->out; r++) {
                double dn = 0, wn = 0, dn0;
                for (size_t k = 0; k < L->in; k++) {
                    dn += d[L->w_off + r * L->in + k] * d[L->w_off + r * L->in + k];
                    wn += m->theta[L->w_off + r * L->in + k] * m->theta[L->w_off + r * L->in + k];
                }
                dn0 = dn;
                if (bm == TDL_BIAS_NORMALIZE) {
                    dn += d[L->b_off + r] * d[L->b_off + r];
                    wn += m->theta[L->b_off + r] * m->theta[L->b_off + r];
                } else {
                    ck_assert(d[L->b_off + r] == 0.0);
                }
                (void)dn0;
                /* ||d_r|| = ||w_r|| ||g_r|| / (||g_r|| + 1e-10): relative
                 * deviation 1e-10 / ||g_r|| plus rounding */
                ck_assert_msg(fabs(sqrt(dn) - sqrt(wn)) <= 1e-9 * sqrt(wn), "layer %zu unit %zu: %.17g vs %.17g", l, r,
                              sqrt(dn), sqrt(wn));
            }
        }
        ck_assert_int_eq(tdl_direction_random(m, 7, TDL_NORM_LAYER, (tdl_bias_mode)bm, d), TDL_OK);
        for (size_t l = 0; l < m->depth; l++) {
            const tdl_layer *L = &m->layers[l];
            size_t len = L->in * L->out + (bm == TDL_BIAS_NORMALIZE ? L->out : 0);
            double dn = 0, wn = 0;
            for (size_t k = 0; k < len; k++) {
                dn += d[L->w_off + k] * d[L->w_off + k];
                wn += m->theta[L->w_off + k] * m->theta[L->w_off + k];
            }
            ck_assert_msg(fabs(sqrt(dn) - sqrt(wn)) <= 1e-9 * sqrt(wn), "layer %zu", l);
        }
    }
    /* none: the raw Gaussian (seeded), biases zeroed with ignore */
    double *e = dalloc(P);
    ck_assert_int_eq(tdl_direction_random(m, 7, TDL_NORM_NONE, TDL_BIAS_NORMALIZE, d), TDL_OK);
    ck_assert_int_eq(tdl_direction_random(m, 7, TDL_NORM_NONE, TDL_BIAS_NORMALIZE, e), TDL_OK);
    ck_assert_int_eq(memcmp(d, e, P * sizeof(double)), 0);
    double s = 0;
    for (size_t i = 0; i < P; i++) s += d[i] * d[i];
    /* E ||g||^2 = P, sd sqrt(2P) */
    ck_assert_msg(fabs(s - (double)P) <= 6 * sqrt(2.0 * (double)P), "sum of squares %g for P = %zu", s, P);
    /* cosine: of a vector with itself 1, of two seeds near 0 (|cos| ~ 1/sqrt P) */
    ck_assert(fabs(tdl_direction_cosine(d, d, P) - 1) <= 4 * DBL_EPSILON);
    ck_assert_int_eq(tdl_direction_random(m, 8, TDL_NORM_NONE, TDL_BIAS_NORMALIZE, e), TDL_OK);
    ck_assert(fabs(tdl_direction_cosine(d, e, P)) <= 6 / sqrt((double)P));
    memset(e, 0, P * sizeof(double));
    ck_assert(isnan(tdl_direction_cosine(d, e, P)));
    free(d);
    free(e);
    tdl_mlp_free(&m);
}
END_TEST

/* The Hessian plane: the top eigenpair agrees with the dense Hessian and
 * LAPACK, and the curvature of the 1D slice along each eigenvector at 0
 * (central differences of the sliced loss) equals its eigenvalue. */
START_TEST(test_hessian_plane_curvature)
{
    tdl_dataset *ds = load("iris:normalize=standard");
    tdl_mlp *m = fresh("4-5-3", "tanh", 6, 1);
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.opt = TDL_OPT_GD;
    tc.lr = 0.5;
    tc.epochs = 200;
    tc.eval_every = 0;
    tdl_train_result tr;
    ck_assert_int_eq(tdl_train(m, ds, &tc, &tr), TDL_OK);
    const size_t P = m->n_params;
    double *v1 = dalloc(P), *v2 = dalloc(P), vals[2], res[2];
    ck_assert_int_eq(tdl_direction_hessian(m, TDL_LOSS_CE, ds, 3, v1, v2, vals, res), TDL_OK);
    ck_assert(vals[0] >= vals[1]);
    double *H = dalloc(P * P);
    ck_assert_int_eq(tdl_hessian_dense(m, TDL_LOSS_CE, ds, 0, P, H, NULL), TDL_OK);
    tdl_sym_eigen e;
    ck_assert_int_eq(tdl_sym_eigen_solve(H, P, P - 2, P - 1, 0, &e), TDL_OK);
    ck_assert_msg(fabs(vals[0] - e.values[1]) <= 1e-8 * e.values[1], "top %.17g vs LAPACK %.17g", vals[0], e.values[1]);
    ck_assert_msg(fabs(vals[1] - e.values[0]) <= 1e-8 * e.values[1], "second %.17g vs LAPACK %.17g", vals[1], e.values[0]);
    tdl_sym_eigen_free(&e);
    ck_assert(fabs(tdl_direction_cosine(v1, v2, P)) <= 1e-8);
    /* second difference with step h: truncation h^2 L''''/12, rounding
     * 4 eps L / h^2 ~ 1e-10.  The truncation is 3.6e-5 relative at h = 1e-2
     * and 3.6e-7 at h = 1e-3 (it scales as h^2, as it should); 5e-6 leaves
     * room for it while a wrong eigenpair (errors of O(1)) fails */
    const double h = 1e-3;
    for (int which = 0; which < 2; which++) {
        const double *v = which ? v2 : v1;
        double coef[6] = {1, -h, 1, 0, 1, h}, l[3];
        const double *basis[2] = {m->theta, v};
        ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, 3, coef, NULL, 0, l, NULL), TDL_OK);
        double curv = (l[0] - 2 * l[1] + l[2]) / (h * h);
        ck_assert_msg(fabs(curv - vals[which]) <= 5e-6 * vals[0], "eigenvector %d: curvature %.12g vs eigenvalue %.12g",
                      which + 1, curv, vals[which]);
    }
    free(H);
    free(v1);
    free(v2);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

/* PCA of a trajectory that lies in a known plane: the components are the
 * plane's axes, the variance ratios and the coordinates are closed forms. */
START_TEST(test_pca_closed_form)
{
    const size_t P = 50, K = 4;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double u1[50], u2[50], c[50], T[4 * 50], v1[50], v2[50], ratio[2], coords[8];
    for (size_t i = 0; i < P; i++) {
        u1[i] = gsl_ran_gaussian(r, 1);
        u2[i] = gsl_ran_gaussian(r, 1);
        c[i] = gsl_ran_gaussian(r, 1);
    }
    /* orthonormalize u1, u2 */
    double n1 = 0, p = 0, n2 = 0;
    for (size_t i = 0; i < P; i++) n1 += u1[i] * u1[i];
    for (size_t i = 0; i < P; i++) u1[i] /= sqrt(n1);
    for (size_t i = 0; i < P; i++) p += u1[i] * u2[i];
    for (size_t i = 0; i < P; i++) u2[i] -= p * u1[i];
    for (size_t i = 0; i < P; i++) n2 += u2[i] * u2[i];
    for (size_t i = 0; i < P; i++) u2[i] /= sqrt(n2);
    /* a = 5 + (3, -3, 0, 0), b = (0, 0, 1, -1): centred variances 18 and 2 */
    const double a[4] = {8, 2, 5, 5}, b[4] = {0, 0, 1, -1};
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < P; i++) T[k * P + i] = c[i] + a[k] * u1[i] + b[k] * u2[i];
    ck_assert_int_eq(tdl_direction_pca(T, K, P, c, v1, v2, ratio, coords), TDL_OK);
    double c1 = 0, c2 = 0;
    for (size_t i = 0; i < P; i++) {
        c1 += v1[i] * u1[i];
        c2 += v2[i] * u2[i];
    }
    ck_assert_msg(fabs(fabs(c1) - 1) <= 1e-12 && fabs(fabs(c2) - 1) <= 1e-12, "components %.17g %.17g", c1, c2);
    ck_assert(fabs(ratio[0] - 0.9) <= 1e-13 && fabs(ratio[1] - 0.1) <= 1e-13);
    for (size_t k = 0; k < K; k++) {
        ck_assert_msg(fabs(coords[2 * k] - (c1 > 0 ? 1 : -1) * a[k]) <= 1e-12 * 8, "coord x %zu", k);
        ck_assert_msg(fabs(coords[2 * k + 1] - (c2 > 0 ? 1 : -1) * b[k]) <= 1e-12 * 8, "coord y %zu", k);
    }
    /* a trajectory on a line spans one dimension: refused */
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < P; i++) T[k * P + i] = c[i] + a[k] * u1[i];
    ck_assert_int_eq(tdl_direction_pca(T, K, P, c, v1, v2, ratio, coords), TDL_EINVAL);
    ck_assert_int_eq(tdl_direction_pca(T, 2, P, c, v1, v2, ratio, coords), TDL_EINVAL);
    T[3] = NAN;
    ck_assert_int_eq(tdl_direction_pca(T, K, P, c, v1, v2, ratio, coords), TDL_ENONFINITE);
    gsl_rng_free(r);
}
END_TEST

/* Curve coefficients (Garipov et al. eqs. 2-3) and curve endpoints. */
START_TEST(test_curve_coef)
{
    double c[3];
    for (int k = 0; k < 3; k++) {
        tdl_curve_coef((tdl_curve_kind)k, 0.0, c);
        ck_assert(c[0] == 1 && c[1] == 0 && c[2] == 0);
        tdl_curve_coef((tdl_curve_kind)k, 1.0, c);
        ck_assert(c[0] == 0 && c[1] == 0 && c[2] == 1);
        for (double t = 0; t <= 1; t += 0.125) {
            tdl_curve_coef((tdl_curve_kind)k, t, c);
            ck_assert(fabs(c[0] + c[1] + c[2] - 1) <= 4 * DBL_EPSILON); /* an affine combination */
        }
    }
    tdl_curve_coef(TDL_CURVE_CHAIN, 0.5, c);
    ck_assert(c[0] == 0 && c[1] == 1 && c[2] == 0);
    tdl_curve_coef(TDL_CURVE_BEZIER, 0.5, c);
    ck_assert(c[0] == 0.25 && c[1] == 0.5 && c[2] == 0.25);
    tdl_curve_kind kind;
    ck_assert_int_eq(tdl_curve_parse("bezier", &kind), TDL_OK);
    ck_assert_int_eq(kind, TDL_CURVE_BEZIER);
    ck_assert_str_eq(tdl_curve_name(TDL_CURVE_CHAIN), "chain");
}
END_TEST

/* Mode connectivity: two nets trained independently (different inits and
 * minibatch orders) on spirals; a trained Bezier curve and a trained chain
 * have a lower barrier than the straight line (Garipov et al. 2018). */
START_TEST(test_curve_barrier)
{
    tdl_dataset *ds = load("spirals:n=200");
    tdl_mlp *A = fresh("2-24-2", "tanh", 1, 1), *B = fresh("2-24-2", "tanh", 2, 1);
    tdl_train_config tc;
    tdl_train_config_default(&tc);
    tc.opt = TDL_OPT_ADAM;
    tc.lr = 0.02;
    tc.epochs = 300;
    tc.batch = 50;
    tc.eval_every = 0;
    tdl_train_result tr;
    tc.seed = 1;
    ck_assert_int_eq(tdl_train(A, ds, &tc, &tr), TDL_OK);
    tc.seed = 2;
    ck_assert_int_eq(tdl_train(B, ds, &tc, &tr), TDL_OK);
    const size_t P = A->n_params, n = 31;
    double *bend = dalloc(P), t[31], l[31], acc[31], line_barrier, barrier;
    ck_assert_int_eq(tdl_curve_eval(A, TDL_LOSS_CE, ds, TDL_CURVE_LINE, A->theta, NULL, B->theta, n, 0, t, l, acc,
                                    &line_barrier), TDL_OK);
    double la, lb;
    reference(A, A->theta, TDL_LOSS_CE, ds, &la, NULL);
    reference(A, B->theta, TDL_LOSS_CE, ds, &lb, NULL);
    ck_assert(l[0] == la && l[n - 1] == lb);
    ck_assert_msg(line_barrier > 0.1, "the straight line has no barrier to lower (%g)", line_barrier);
    for (int k = 1; k < 3; k++) {
        tdl_curve_config cc;
        tdl_curve_config_default(&cc);
        cc.epochs = 150;
        cc.batch = 50;
        cc.lr = 0.05;
        for (size_t i = 0; i < P; i++) bend[i] = 0.5 * (A->theta[i] + B->theta[i]);
        double fl;
        ck_assert_int_eq(tdl_curve_train(A, TDL_LOSS_CE, ds, (tdl_curve_kind)k, A->theta, B->theta, &cc, bend, &fl), TDL_OK);
        ck_assert_int_eq(tdl_curve_eval(A, TDL_LOSS_CE, ds, (tdl_curve_kind)k, A->theta, bend, B->theta, n, 0, t, l, acc,
                                        &barrier), TDL_OK);
        ck_assert(l[0] == la && l[n - 1] == lb);
        ck_assert_msg(barrier < 0.5 * line_barrier, "%s barrier %g not below half the line's %g",
                      tdl_curve_name((tdl_curve_kind)k), barrier, line_barrier);
    }
    free(bend);
    tdl_mlp_free(&A);
    tdl_mlp_free(&B);
    tdl_dataset_free(&ds);
}
END_TEST

/* Golden values from PyTorch float64 and the loss-landscape project's own
 * normalization rules (tests/fixtures/make_landscape_fixtures.py): filter-
 * and layer-normalized directions from the same raw Gaussians, and the mean
 * cross-entropy and accuracy on a 5 x 5 grid. */
START_TEST(test_golden_pytorch)
{
    tdl_tensors *gold = NULL;
    tdl_mlp *m = NULL;
    tdl_act tanh_act;
    ck_assert_int_eq(tdl_act_parse("tanh", &tanh_act), TDL_OK);
    ck_assert_msg(tdl_mlp_load(TDL_TEST_FIXTURES "/landscape/model.npz", &tanh_act, &m) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_msg(tdl_npz_read(TDL_TEST_FIXTURES "/landscape/golden.npz", &gold) == TDL_OK, "%s", tdl_errmsg());
    tdl_dataset *ds = load(TDL_TEST_FIXTURES "/landscape/data.npz");
    const size_t P = m->n_params;
    const char *raw[2] = {"raw_x", "raw_y"}, *filt[2] = {"filter_x", "filter_y"}, *lay[2] = {"layer_x", "layer_y"};
    double *d[2] = {dalloc(P), dalloc(P)}, *e = dalloc(P);
    for (int k = 0; k < 2; k++) {
        const tdl_tensor *r = tdl_tensors_find(gold, raw[k]), *f = tdl_tensors_find(gold, filt[k]), *l = tdl_tensors_find(gold, lay[k]);
        ck_assert(r && f && l && r->numel == P);
        /* filter: the same formula, the same operations up to summation order */
        memcpy(d[k], r->data, P * sizeof(double));
        tdl_direction_normalize(m, m->theta, TDL_NORM_FILTER, TDL_BIAS_IGNORE, d[k]);
        for (size_t i = 0; i < P; i++)
            ck_assert_msg(fabs(d[k][i] - f->data[i]) <= 1e-14 * fmax(1, fabs(f->data[i])), "filter %d entry %zu: %.17g vs %.17g", k, i,
                          d[k][i], f->data[i]);
        /* layer: the project divides by ||D|| without the 1e-10 guard:
         * relative difference 1e-10 / ||D|| */
        memcpy(e, r->data, P * sizeof(double));
        tdl_direction_normalize(m, m->theta, TDL_NORM_LAYER, TDL_BIAS_IGNORE, e);
        for (size_t i = 0; i < P; i++)
            ck_assert_msg(fabs(e[i] - l->data[i]) <= 1e-10 * fmax(1, fabs(l->data[i])), "layer %d entry %zu", k, i);
    }
    const tdl_tensor *xs = tdl_tensors_find(gold, "xs"), *gl = tdl_tensors_find(gold, "loss"), *ga = tdl_tensors_find(gold, "accuracy");
    ck_assert(xs && gl && ga && xs->numel == 5 && gl->numel == 25);
    double coef[75], l[25], acc[25];
    for (size_t q = 0; q < 25; q++) {
        coef[3 * q] = 1;
        coef[3 * q + 1] = xs->data[q % 5];
        coef[3 * q + 2] = xs->data[q / 5];
    }
    const double *basis[3] = {m->theta, d[0], d[1]};
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 3, basis, 25, coef, NULL, 0, l, acc), TDL_OK);
    /* two backward-stable evaluations of a loss of O(1): a few n P eps */
    for (size_t q = 0; q < 25; q++) {
        ck_assert_msg(fabs(l[q] - gl->data[q]) <= 1e-13 * fmax(1, gl->data[q]), "cell %zu: %.17g vs torch %.17g", q, l[q], gl->data[q]);
        ck_assert_msg(fabs(acc[q] - ga->data[q]) <= 1e-15, "cell %zu: accuracy %.17g vs torch %.17g", q, acc[q], ga->data[q]);
    }
    free(d[0]);
    free(d[1]);
    free(e);
    tdl_tensors_free(&gold);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_errors)
{
    tdl_dataset *ds = load("iris");
    tdl_mlp *m = fresh("4-3-3", "relu", 1, 1), *wrong = fresh("5-3-3", "relu", 1, 1);
    const double *basis[3] = {m->theta, m->theta, m->theta};
    double coef[4] = {1, 0, 0, 0}, l[2];
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 0, basis, 1, coef, NULL, 0, l, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 4, basis, 1, coef, NULL, 0, l, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_landscape_eval(wrong, TDL_LOSS_CE, ds, 1, basis, 1, coef, NULL, 0, l, NULL), TDL_ESHAPE);
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_LOGISTIC, ds, 1, basis, 1, coef, NULL, 0, l, NULL), TDL_EINVAL);
    coef[0] = NAN;
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 1, basis, 1, coef, NULL, 0, l, NULL), TDL_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "not finite"));
    /* nothing to do: OK, outputs untouched */
    unsigned char todo[1] = {0};
    l[0] = 42;
    coef[0] = 1;
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 1, basis, 1, coef, todo, 0, l, NULL), TDL_OK);
    ck_assert(l[0] == 42);
    tdl_curve_config cc;
    tdl_curve_config_default(&cc);
    double *bend = dalloc(m->n_params), t[2];
    ck_assert_int_eq(tdl_curve_train(m, TDL_LOSS_CE, ds, TDL_CURVE_LINE, m->theta, m->theta, &cc, bend, NULL), TDL_EINVAL);
    cc.lr = 0;
    ck_assert_int_eq(tdl_curve_train(m, TDL_LOSS_CE, ds, TDL_CURVE_BEZIER, m->theta, m->theta, &cc, bend, NULL), TDL_EINVAL);
    tdl_curve_config_default(&cc);
    cc.momentum = 1;
    ck_assert_int_eq(tdl_curve_train(m, TDL_LOSS_CE, ds, TDL_CURVE_BEZIER, m->theta, m->theta, &cc, bend, NULL), TDL_EINVAL);
    tdl_curve_config_default(&cc);
    cc.epochs = 0;
    ck_assert_int_eq(tdl_curve_train(m, TDL_LOSS_CE, ds, TDL_CURVE_BEZIER, m->theta, m->theta, &cc, bend, NULL), TDL_EINVAL);
    tdl_curve_config_default(&cc);
    cc.lr = 1e300; /* diverges: a linear model's weights overflow */
    tdl_mlp *lin = fresh("4-3", "identity", 1, 1);
    double *lb = dalloc(lin->n_params);
    for (size_t i = 0; i < lin->n_params; i++) lb[i] = lin->theta[i];
    ck_assert_int_eq(tdl_curve_train(lin, TDL_LOSS_MSE, ds, TDL_CURVE_BEZIER, lin->theta, lin->theta, &cc, lb, NULL), TDL_EDIVERGED);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "diverged"));
    free(lb);
    tdl_mlp_free(&lin);
    ck_assert_int_eq(tdl_curve_train(wrong, TDL_LOSS_CE, ds, TDL_CURVE_BEZIER, m->theta, m->theta, &cc, bend, NULL), TDL_ESHAPE);
    ck_assert_int_eq(tdl_curve_eval(m, TDL_LOSS_CE, ds, TDL_CURVE_BEZIER, m->theta, NULL, m->theta, 2, 0, t, l, NULL, NULL), TDL_EINVAL);
    ck_assert_int_eq(tdl_curve_eval(m, TDL_LOSS_CE, ds, TDL_CURVE_LINE, m->theta, NULL, m->theta, 1, 0, t, l, NULL, NULL), TDL_EINVAL);
    tdl_curve_kind k;
    ck_assert_int_eq(tdl_curve_parse("spline", &k), TDL_EINVAL);
    tdl_dir_norm nm;
    ck_assert_int_eq(tdl_dir_norm_parse("batch", &nm), TDL_EINVAL);
    ck_assert_int_eq(tdl_dir_norm_parse("layer", &nm), TDL_OK);
    ck_assert_int_eq(nm, TDL_NORM_LAYER);
    ck_assert_str_eq(tdl_dir_norm_name(TDL_NORM_FILTER), "filter");
    ck_assert_str_eq(tdl_errmsg(), "unknown direction normalization 'batch' (filter layer none)");
    /* the exported tables */
    int v;
    ck_assert_int_eq(tdl_name_lookup(tdl_plane_names, "plane", "pca", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_PLANE_PCA);
    ck_assert_int_eq(tdl_name_lookup(tdl_bias_mode_names, "bias mode", "normalize", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_BIAS_NORMALIZE);
    ck_assert_str_eq(tdl_name_of(tdl_curve_names, TDL_CURVE_CHAIN), "chain");
    ck_assert_str_eq(tdl_curve_name((tdl_curve_kind)9), "?");
    ck_assert_int_eq(tdl_name_lookup(tdl_plane_names, "plane", "flat", &v), TDL_EINVAL);
    ck_assert_str_eq(tdl_errmsg(), "unknown plane 'flat' (random hessian models pca)");
    ck_assert_int_eq(tdl_name_lookup(tdl_mi_estimator_names, "estimator", "kde", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_MI_KDE);
    ck_assert_int_eq(tdl_name_lookup(tdl_dr_objective_names, "objective", "pinsker", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_DR_PINSKER);
    double v1[2], v2[2], vals[2];
    tdl_mlp *tiny = fresh("1-1", "identity", 1, 0); /* one parameter */
    tdl_dataset *d1 = load("gauss:n=10,d=1,classes=2");
    ck_assert_int_eq(tdl_direction_hessian(tiny, TDL_LOSS_LOGISTIC, d1, 0, v1, v2, vals, NULL), TDL_EINVAL);
    free(bend);
    tdl_mlp_free(&tiny);
    tdl_dataset_free(&d1);
    tdl_mlp_free(&m);
    tdl_mlp_free(&wrong);
    tdl_dataset_free(&ds);
}
END_TEST

/* Arrays read back from files and the grid's memory: the checks the CLI runs
 * on --directions and --resume files, and the basis check of the evaluation. */
START_TEST(test_bad_arrays)
{
    tdl_dataset *ds = load("iris");
    tdl_mlp *m = fresh("4-3-3", "relu", 1, 1);
    const size_t P = m->n_params;
    double *d = dalloc(P), l[1], coef[2] = {1, 0.5};
    for (size_t i = 0; i < P; i++) d[i] = 0.01 * (double)i;
    const double *basis[2] = {m->theta, d};
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, 1, coef, NULL, 1, l, NULL), TDL_OK);
    /* a NaN or infinite basis entry: refused, naming the vector and parameter */
    d[5] = NAN;
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, 1, coef, NULL, 1, l, NULL), TDL_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "vector 1 of the slice: parameter 5 is NaN"));
    d[5] = -INFINITY;
    ck_assert_int_eq(tdl_landscape_eval(m, TDL_LOSS_CE, ds, 2, basis, 1, coef, NULL, 1, l, NULL), TDL_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "parameter 5 is infinite"));
    /* check_vector / check_array name the file and the tensor */
    ck_assert_int_eq(tdl_landscape_check_vector("g.npz", "direction_x", d, P), TDL_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "g.npz: 'direction_x' value 5 is infinite"));
    d[5] = 0;
    ck_assert_int_eq(tdl_landscape_check_vector("g.npz", "direction_x", d, P), TDL_OK);
    double vals[6] = {0, 1, 2, 3, 4, NAN};
    tdl_tensor t = {0};
    t.name = (char *)"loss";
    t.ndim = 2;
    t.shape[0] = 2;
    t.shape[1] = 3;
    t.numel = 6;
    t.data = vals;
    size_t flat[1] = {6}, grid2[2] = {2, 3}, grid2t[2] = {3, 2};
    ck_assert_int_eq(tdl_landscape_check_array("g.npz", &t, 2, grid2, 0), TDL_OK);
    ck_assert_int_eq(tdl_landscape_check_array("g.npz", &t, 1, flat, 0), TDL_ESHAPE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "g.npz: 'loss' has shape (2, 3), expected (6,)"));
    ck_assert_int_eq(tdl_landscape_check_array("g.npz", &t, 2, grid2t, 0), TDL_ESHAPE);
    ck_assert_int_eq(tdl_landscape_check_array("g.npz", &t, 2, grid2, 1), TDL_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "'loss' value 5 is NaN"));
    /* memory: a 1D grid is counted as nx cells, not nx^2 (100001 points of
     * 80 bytes: 8 MB, where 100001^2 would be 800 GB), and the message is about
     * the grid, not the Hessian */
    ck_assert_int_eq(tdl_landscape_grid_memory_check(100001, 1, 80), TDL_OK);
    ck_assert_int_eq(tdl_landscape_grid_memory_check(4001, 4001, 80), TDL_OK);
    ck_assert_int_eq(tdl_landscape_grid_memory_check(SIZE_MAX / 2, 1, 80), TDL_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "1D grid of"));
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "(80 bytes a cell) but "));
    ck_assert_ptr_null(strstr(tdl_errmsg(), "--")); /* the CLI adds "use a smaller --grid" */
    ck_assert_int_eq(tdl_landscape_grid_memory_check((size_t)1 << 33, (size_t)1 << 33, 80), TDL_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "x 8589934592 grid"));
    free(d);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *landscape_suite(void)
{
    Suite *s = suite_create("landscape");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_interpolation_endpoints);
    tcase_add_test(core, test_grid_centre_and_cells);
    tcase_add_test(core, test_resume);
    tcase_add_test(core, test_normalization);
    tcase_add_test(core, test_hessian_plane_curvature);
    tcase_add_test(core, test_pca_closed_form);
    tcase_add_test(core, test_curve_coef);
    tcase_add_test(core, test_curve_barrier);
    tcase_add_test(core, test_golden_pytorch);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    tcase_add_test(errors, test_bad_arrays);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(landscape_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
