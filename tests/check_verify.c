/* check_verify.c — tdl_verify_compare (tdl/verify.h): a correct answer
 * passes, every slip of the enum planted into an answer built from tdl's
 * exact gradient, Hessian, Jacobian, NTK, eigenvalues and loss is diagnosed
 * as that slip (with its factor / layer), a real error is not explained by a
 * spurious slip and its concentration names the right block, and the entry
 * names say what an index means.
 *
 * Tolerances: the exact quantities are O(1e-3 .. 1) doubles; a pass asks
 * max |A - E| <= 1e-8 max(1, max |E|) (the library's rule).  Planted slips
 * are exact transformations (rounding only, ~1e-16 relative), a near miss is
 * 1e-10 relative noise (100x below the tolerance), a real error is 1e-3 on a
 * few entries (1e5x above it): each assertion fails if the rule or the slip
 * search is wrong by more than those margins. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"

#define TOL 1e-8

typedef struct fx {
    tdl_mlp *m;
    tdl_dataset *ds;
    size_t P, n, C;
    double loss, *g, *H, *J, *K, *ev;
} fx;

static double *dalloc(size_t k)
{
    double *p = calloc(k ? k : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A 3-4-3 tanh net (biases nonzero) on gauss:n=12,d=3,classes=3, mse; or a
 * 3-4-3 net with ce when ce is set. */
static void fx_make(fx *f, int ce)
{
    memset(f, 0, sizeof *f);
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-4-3", &cfg), TDL_OK);
    ck_assert_int_eq(tdl_act_parse("tanh", &cfg.act), TDL_OK);
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.3;
    cfg.sigma_b = 0.5;
    cfg.seed = 7;
    ck_assert_msg(tdl_mlp_create(&cfg, &f->m) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_msg(tdl_dataset_load("gauss:n=12,d=3,classes=3", &f->ds) == TDL_OK, "%s", tdl_errmsg());
    f->P = f->m->n_params;
    f->n = f->ds->n;
    f->C = 3;
    ck_assert_uint_eq(f->P, 31);
    tdl_loss_kind loss = ce ? TDL_LOSS_CE : TDL_LOSS_MSE;
    tdl_net_work *w = NULL;
    ck_assert_int_eq(tdl_net_work_alloc(f->m, f->n, &w), TDL_OK);
    f->g = dalloc(f->P);
    ck_assert_int_eq(tdl_mlp_loss_grad(f->m, loss, f->ds, w, &f->loss, f->g), TDL_OK);
    f->H = dalloc(f->P * f->P);
    ck_assert_int_eq(tdl_hessian_dense(f->m, loss, f->ds, 0, f->P, f->H, NULL), TDL_OK);
    f->J = dalloc(f->n * f->C * f->P);
    ck_assert_int_eq(tdl_mlp_jacobian(f->m, f->ds, 0, f->n, w, f->J), TDL_OK);
    tdl_net_work_free(&w);
    gsl_matrix *K = gsl_matrix_alloc(f->n, f->n);
    ck_assert_int_eq(tdl_ntk_empirical(f->m, f->ds->X, NULL, NULL, K), TDL_OK);
    f->K = dalloc(f->n * f->n);
    for (size_t i = 0; i < f->n; i++)
        for (size_t j = 0; j < f->n; j++) f->K[i * f->n + j] = gsl_matrix_get(K, i, j);
    gsl_matrix_free(K);
    double *A = dalloc(f->P * f->P);
    memcpy(A, f->H, f->P * f->P * sizeof *A);
    tdl_sym_eigen e;
    ck_assert_int_eq(tdl_sym_eigen_solve(A, f->P, 0, f->P - 1, 0, &e), TDL_OK);
    f->ev = dalloc(f->P);
    memcpy(f->ev, e.values, f->P * sizeof *f->ev);
    tdl_sym_eigen_free(&e);
    free(A);
}

static void fx_free(fx *f)
{
    tdl_mlp_free(&f->m);
    tdl_dataset_free(&f->ds);
    free(f->g);
    free(f->H);
    free(f->J);
    free(f->K);
    free(f->ev);
}

static tdl_verify_context ctx_of(const fx *f, tdl_verify_quantity q)
{
    tdl_verify_context c;
    memset(&c, 0, sizeof c);
    c.quantity = q;
    c.m = f->m;
    c.n = f->n;
    c.C = f->C;
    c.mse = 1;
    return c;
}

static tdl_verify_shape sh0(void)
{
    tdl_verify_shape s = {0, {0, 0}};
    return s;
}
static tdl_verify_shape sh1(size_t a)
{
    tdl_verify_shape s = {1, {a, 0}};
    return s;
}
static tdl_verify_shape sh2(size_t a, size_t b)
{
    tdl_verify_shape s = {2, {a, b}};
    return s;
}

static tdl_verify_result run(const tdl_verify_context *c, const double *E, tdl_verify_shape es, const double *A,
                             tdl_verify_shape as)
{
    tdl_verify_result r;
    ck_assert_msg(tdl_verify_compare(c, E, es, A, as, TOL, &r) == TDL_OK, "%s", tdl_errmsg());
    return r;
}

static void expect_slip(const tdl_verify_result *r, tdl_verify_slip slip, const char *what)
{
    ck_assert_msg(!r->passed, "%s: passed", what);
    ck_assert_msg(r->slip == slip, "%s: slip %s, expected %s (%s)", what,
                  tdl_name_of(tdl_verify_slip_names, (int)r->slip), tdl_name_of(tdl_verify_slip_names, (int)slip),
                  r->diagnosis);
    ck_assert_msg(r->diagnosis[0] != '\0', "%s: no diagnosis", what);
}

/* Independent permutations (answer index -> exact index), from the layout. */
static void perm_of(const tdl_mlp *m, tdl_verify_slip slip, size_t *perm)
{
    size_t P = m->n_params, k = 0;
    for (size_t i = 0; i < P; i++) perm[i] = i;
    if (slip == TDL_SLIP_TRANSPOSED_WEIGHTS) {
        for (size_t l = 0; l < m->depth; l++) {
            const tdl_layer *L = &m->layers[l];
            for (size_t j = 0; j < L->in; j++)
                for (size_t i = 0; i < L->out; i++) perm[k++] = L->w_off + i * L->in + j;
            for (size_t i = 0; i < L->out; i++) perm[k++] = L->b_off + i;
        }
    } else if (slip == TDL_SLIP_BIASES_FIRST) {
        for (size_t l = 0; l < m->depth; l++) {
            const tdl_layer *L = &m->layers[l];
            for (size_t i = 0; i < L->out; i++) perm[k++] = L->b_off + i;
            for (size_t i = 0; i < L->in * L->out; i++) perm[k++] = L->w_off + i;
        }
    } else { /* layers reversed */
        for (size_t l = m->depth; l-- > 0;) {
            const tdl_layer *L = &m->layers[l];
            for (size_t i = 0; i < L->in * L->out; i++) perm[k++] = L->w_off + i;
            for (size_t i = 0; i < L->out; i++) perm[k++] = L->b_off + i;
        }
    }
    ck_assert_uint_eq(k, P);
}

START_TEST(test_pass_and_near_miss)
{
    fx f;
    fx_make(&f, 0);
    tdl_verify_context c = ctx_of(&f, TDL_VQ_HESSIAN);
    tdl_verify_result r = run(&c, f.H, sh2(f.P, f.P), f.H, sh2(f.P, f.P));
    ck_assert(r.passed && r.slip == TDL_SLIP_NONE && r.abs_error == 0 && r.diagnosis[0] == '\0');
    double *A = dalloc(f.P * f.P);
    double mx = 0;
    for (size_t i = 0; i < f.P * f.P; i++) mx = fmax(mx, fabs(f.H[i]));
    for (size_t i = 0; i < f.P * f.P; i++) A[i] = f.H[i] + 1e-10 * mx * ((i * 7919) % 13 < 6 ? 1 : -1);
    r = run(&c, f.H, sh2(f.P, f.P), A, sh2(f.P, f.P));
    ck_assert_msg(r.passed, "near miss failed: rel %.3e", r.rel_error);
    ck_assert(fabs(r.rel_error - 1e-10 * mx / mx) < 1e-12);
    /* the gradient, the loss, the NTK pass too */
    c = ctx_of(&f, TDL_VQ_GRADIENT);
    ck_assert(run(&c, f.g, sh1(f.P), f.g, sh2(f.P, 1)).passed);
    c = ctx_of(&f, TDL_VQ_LOSS);
    ck_assert(run(&c, &f.loss, sh0(), &f.loss, sh1(1)).passed);
    free(A);
    fx_free(&f);
}
END_TEST

START_TEST(test_scale_slips)
{
    fx f;
    fx_make(&f, 0);
    const struct {
        tdl_verify_slip slip;
        double factor;
    } cases[] = {
        {TDL_SLIP_SUM_NOT_MEAN, 12.0},    {TDL_SLIP_MEAN_NOT_SUM, 1.0 / 12},
        {TDL_SLIP_NO_HALF, 2.0},          {TDL_SLIP_EXTRA_HALF, 0.5},
        {TDL_SLIP_OUTPUTS_SUMMED, 3.0},   {TDL_SLIP_OUTPUTS_AVERAGED, 1.0 / 3},
        {TDL_SLIP_TORCH_MSE, 2.0 / 3},    {TDL_SLIP_TORCH_MSE, 1.5},
        {TDL_SLIP_SIGN, -1.0},            {TDL_SLIP_PARAMETRIZATION, 1.3 / 1.7320508075688772},
        {TDL_SLIP_CONSTANT_FACTOR, 1.2345},
    };
    const tdl_verify_quantity qs[] = {TDL_VQ_GRADIENT, TDL_VQ_HESSIAN, TDL_VQ_HESSIAN_EIGENVALUES};
    double *A = dalloc(f.P * f.P);
    for (size_t qi = 0; qi < 3; qi++) {
        const double *E = qi == 0 ? f.g : qi == 1 ? f.H : f.ev;
        tdl_verify_shape s = qi == 1 ? sh2(f.P, f.P) : sh1(f.P);
        size_t N = qi == 1 ? f.P * f.P : f.P;
        tdl_verify_context c = ctx_of(&f, qs[qi]);
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            for (size_t i = 0; i < N; i++) A[i] = cases[k].factor * E[i];
            tdl_verify_result r = run(&c, E, s, A, s);
            char what[96];
            snprintf(what, sizeof what, "%s x %g", tdl_name_of(tdl_verify_quantity_names, (int)qs[qi]),
                     cases[k].factor);
            expect_slip(&r, cases[k].slip, what);
            ck_assert_msg(fabs(r.factor - cases[k].factor) <= 1e-12 * fabs(cases[k].factor), "%s: factor %.17g",
                          what, r.factor);
        }
    }
    /* the message of the brief's example */
    tdl_verify_context c = ctx_of(&f, TDL_VQ_HESSIAN);
    for (size_t i = 0; i < f.P * f.P; i++) A[i] = 12.0 * f.H[i];
    tdl_verify_result r = run(&c, f.H, sh2(f.P, f.P), A, sh2(f.P, f.P));
    ck_assert_msg(strstr(r.diagnosis, "times 12 = n: did you sum the loss over the examples instead of averaging?"),
                  "%s", r.diagnosis);
    /* the NTK summed over the outputs: C times tdl's traced (mean) kernel */
    c = ctx_of(&f, TDL_VQ_NTK);
    for (size_t i = 0; i < f.n * f.n; i++) A[i] = 3.0 * f.K[i];
    r = run(&c, f.K, sh2(f.n, f.n), A, sh2(f.n, f.n));
    expect_slip(&r, TDL_SLIP_OUTPUTS_SUMMED, "ntk x C");
    ck_assert(r.factor == 3.0 && strstr(r.diagnosis, "sum the kernel over the outputs"));
    /* a scalar: the loss summed over the examples */
    c = ctx_of(&f, TDL_VQ_LOSS);
    double a = 12.0 * f.loss;
    r = run(&c, &f.loss, sh0(), &a, sh0());
    expect_slip(&r, TDL_SLIP_SUM_NOT_MEAN, "loss x n");
    /* a scalar off by an unnamed ratio is not explained by a "constant factor" */
    a = 1.2345 * f.loss;
    r = run(&c, &f.loss, sh0(), &a, sh0());
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    free(A);
    fx_free(&f);
}
END_TEST

START_TEST(test_log2)
{
    fx f;
    fx_make(&f, 1);
    tdl_verify_context c = ctx_of(&f, TDL_VQ_LOSS);
    c.mse = 0;
    c.ce = 1;
    double a = f.loss / log(2.0);
    tdl_verify_result r = run(&c, &f.loss, sh0(), &a, sh0());
    expect_slip(&r, TDL_SLIP_LOG2, "ce in bits");
    ck_assert(fabs(r.factor - 1 / log(2.0)) < 1e-15);
    c.quantity = TDL_VQ_GRADIENT;
    double *A = dalloc(f.P);
    for (size_t i = 0; i < f.P; i++) A[i] = f.g[i] / log(2.0);
    r = run(&c, f.g, sh1(f.P), A, sh1(f.P));
    expect_slip(&r, TDL_SLIP_LOG2, "ce gradient in bits");
    free(A);
    fx_free(&f);
}
END_TEST

START_TEST(test_parameter_orders)
{
    fx f;
    fx_make(&f, 0);
    size_t P = f.P, R = f.n * f.C;
    size_t *perm = malloc(P * sizeof *perm);
    double *A = dalloc(R * P > P * P ? R * P : P * P);
    const tdl_verify_slip slips[] = {TDL_SLIP_TRANSPOSED_WEIGHTS, TDL_SLIP_BIASES_FIRST, TDL_SLIP_LAYERS_REVERSED};
    for (size_t s = 0; s < 3; s++) {
        perm_of(f.m, slips[s], perm);
        tdl_verify_context c = ctx_of(&f, TDL_VQ_GRADIENT);
        for (size_t k = 0; k < P; k++) A[k] = f.g[perm[k]];
        tdl_verify_result r = run(&c, f.g, sh1(P), A, sh1(P));
        expect_slip(&r, slips[s], "gradient order");
        c = ctx_of(&f, TDL_VQ_HESSIAN);
        for (size_t i = 0; i < P; i++)
            for (size_t j = 0; j < P; j++) A[i * P + j] = f.H[perm[i] * P + perm[j]];
        r = run(&c, f.H, sh2(P, P), A, sh2(P, P));
        expect_slip(&r, slips[s], "hessian order");
        c = ctx_of(&f, TDL_VQ_JACOBIAN);
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < P; j++) A[i * P + j] = f.J[i * P + perm[j]];
        r = run(&c, f.J, sh2(R, P), A, sh2(R, P));
        expect_slip(&r, slips[s], "jacobian order");
    }
    perm_of(f.m, TDL_SLIP_TRANSPOSED_WEIGHTS, perm);
    tdl_verify_context c = ctx_of(&f, TDL_VQ_GRADIENT);
    for (size_t k = 0; k < P; k++) A[k] = f.g[perm[k]];
    tdl_verify_result r = run(&c, f.g, sh1(P), A, sh1(P));
    ck_assert_msg(strstr(r.diagnosis, "your gradient is tdl's with each weight matrix transposed (in x out, or "
                                      "column-major storage)"),
                  "%s", r.diagnosis);
    /* an order together with a named factor: transposed and summed over the examples */
    c = ctx_of(&f, TDL_VQ_HESSIAN);
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++) A[i * P + j] = 12.0 * f.H[perm[i] * P + perm[j]];
    r = run(&c, f.H, sh2(P, P), A, sh2(P, P));
    expect_slip(&r, TDL_SLIP_TRANSPOSED_WEIGHTS, "hessian transposed x n");
    ck_assert_msg(r.factor == 12.0 && strstr(r.diagnosis, "times 12 = n"), "%g: %s", r.factor, r.diagnosis);
    /* ... but not with an unnamed one (no composition beyond the named factors) */
    for (size_t i = 0; i < P * P; i++) A[i] *= 1.2345 / 12.0;
    r = run(&c, f.H, sh2(P, P), A, sh2(P, P));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    /* the whole Jacobian stored column-major, with tdl's shape or the swapped one */
    c = ctx_of(&f, TDL_VQ_JACOBIAN);
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < P; j++) A[j * R + i] = f.J[i * P + j];
    r = run(&c, f.J, sh2(R, P), A, sh2(R, P));
    expect_slip(&r, TDL_SLIP_COLUMN_MAJOR, "jacobian column-major");
    r = run(&c, f.J, sh2(R, P), A, sh2(P, R));
    expect_slip(&r, TDL_SLIP_COLUMN_MAJOR, "jacobian transposed shape");
    ck_assert(!r.shape_ok);
    free(perm);
    free(A);
    fx_free(&f);
}
END_TEST

START_TEST(test_structure)
{
    fx f;
    fx_make(&f, 0);
    size_t P = f.P;
    double *A = dalloc(P * P);
    /* biases left out: gradient (24) and Hessian (24 x 24) on the weights */
    size_t idx[64], q = 0;
    for (size_t l = 0; l < f.m->depth; l++)
        for (size_t i = 0; i < f.m->layers[l].in * f.m->layers[l].out; i++) idx[q++] = f.m->layers[l].w_off + i;
    ck_assert_uint_eq(q, 24);
    tdl_verify_context c = ctx_of(&f, TDL_VQ_GRADIENT);
    for (size_t k = 0; k < q; k++) A[k] = f.g[idx[k]];
    tdl_verify_result r = run(&c, f.g, sh1(P), A, sh1(q));
    expect_slip(&r, TDL_SLIP_NO_BIASES, "gradient without biases");
    ck_assert(!r.shape_ok);
    c = ctx_of(&f, TDL_VQ_HESSIAN);
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < q; j++) A[i * q + j] = f.H[idx[i] * P + idx[j]];
    r = run(&c, f.H, sh2(P, P), A, sh2(q, q));
    expect_slip(&r, TDL_SLIP_NO_BIASES, "hessian without biases");
    /* the Jacobian without its bias columns */
    size_t R = f.n * f.C;
    double *B = dalloc(R * P);
    c = ctx_of(&f, TDL_VQ_JACOBIAN);
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < q; j++) B[i * q + j] = f.J[i * P + idx[j]];
    r = run(&c, f.J, sh2(R, P), B, sh2(R, q));
    expect_slip(&r, TDL_SLIP_NO_BIASES, "jacobian without biases");
    /* the gradient of layer 0 only (W_0, b_0: 16 entries) */
    c = ctx_of(&f, TDL_VQ_GRADIENT);
    r = run(&c, f.g, sh1(P), f.g, sh1(16));
    expect_slip(&r, TDL_SLIP_ONE_LAYER_BLOCK, "gradient layer 0");
    ck_assert_uint_eq(r.layer, 0);
    free(B);
    c = ctx_of(&f, TDL_VQ_HESSIAN);
    /* one layer's block, from tdl_hessian_dense on the layer's range */
    for (size_t l = 0; l < 2; l++) {
        size_t off, len;
        tdl_layer_range(f.m, l, &off, &len);
        ck_assert_int_eq(tdl_hessian_dense(f.m, TDL_LOSS_MSE, f.ds, off, len, A, NULL), TDL_OK);
        r = run(&c, f.H, sh2(P, P), A, sh2(len, len));
        expect_slip(&r, TDL_SLIP_ONE_LAYER_BLOCK, "layer block");
        ck_assert_uint_eq(r.layer, l);
        if (l == 1)
            ck_assert_msg(strstr(r.diagnosis, "your matrix is the Hessian block of layer 1 (W_1, b_1) only"), "%s",
                          r.diagnosis);
    }
    /* a block with an error is not a block */
    A[3] += 1e-3;
    r = run(&c, f.H, sh2(P, P), A, sh2(15, 15));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    /* eigenvalues: descending, then a shuffle */
    c = ctx_of(&f, TDL_VQ_HESSIAN_EIGENVALUES);
    for (size_t i = 0; i < P; i++) A[i] = f.ev[P - 1 - i];
    r = run(&c, f.ev, sh1(P), A, sh1(P));
    expect_slip(&r, TDL_SLIP_DESCENDING, "descending");
    ck_assert_msg(strstr(r.diagnosis, "your eigenvalues are tdl's in descending order"), "%s", r.diagnosis);
    for (size_t i = 0; i < P; i++) A[i] = f.ev[(i * 7) % P];
    r = run(&c, f.ev, sh1(P), A, sh1(P));
    expect_slip(&r, TDL_SLIP_UNSORTED, "unsorted");
    /* integer targets: the caller's alternative exact quantity */
    c = ctx_of(&f, TDL_VQ_LOSS);
    double alt = f.loss + 0.37, a = alt;
    c.alt_integer_targets = &alt;
    r = run(&c, &f.loss, sh0(), &a, sh0());
    expect_slip(&r, TDL_SLIP_INTEGER_TARGETS, "integer targets");
    a = alt + 1e-3;
    r = run(&c, &f.loss, sh0(), &a, sh0());
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    /* a shape nothing explains */
    c = ctx_of(&f, TDL_VQ_GRADIENT);
    r = run(&c, f.g, sh1(P), f.g, sh1(P - 1));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE && !r.shape_ok && isnan(r.abs_error));
    ck_assert_msg(strstr(r.diagnosis, "has shape 30, tdl's 31"), "%s", r.diagnosis);
    free(A);
    fx_free(&f);
}
END_TEST

/* Names of every slip of the enum, in order. */
START_TEST(test_names)
{
    size_t k = 0;
    while (tdl_verify_slip_names[k].name) {
        ck_assert_int_eq(tdl_verify_slip_names[k].value, (int)k);
        k++;
    }
    ck_assert_uint_eq(k, (size_t)TDL_SLIP_INTEGER_TARGETS + 1);
    ck_assert_str_eq(tdl_name_of(tdl_verify_slip_names, TDL_SLIP_SUM_NOT_MEAN), "sum_not_mean");
    int v;
    ck_assert_int_eq(tdl_name_lookup(tdl_verify_quantity_names, "quantity", "hessian-eigenvalues", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_VQ_HESSIAN_EIGENVALUES);
    ck_assert_int_eq(tdl_name_lookup(tdl_verify_quantity_names, "quantity", "bound", &v), TDL_OK);
    ck_assert_int_eq(v, TDL_VQ_BOUND);
}
END_TEST

/* A real 1e-3 error on a few entries of layer 1: no slip, the difference
 * located in W_1. */
START_TEST(test_real_error)
{
    fx f;
    fx_make(&f, 0);
    size_t P = f.P, w1 = f.m->layers[1].w_off;
    tdl_verify_context c = ctx_of(&f, TDL_VQ_GRADIENT);
    double *A = dalloc(P * P);
    memcpy(A, f.g, P * sizeof *A);
    A[w1 + 1] += 1e-3;
    A[w1 + 6] -= 2e-3;
    A[w1 + 9] += 1e-3;
    tdl_verify_result r = run(&c, f.g, sh1(P), A, sh1(P));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE && r.shape_ok);
    ck_assert(fabs(r.abs_error - 2e-3) < 1e-12);
    ck_assert_uint_eq(r.worst, w1 + 6);
    ck_assert_str_eq(r.worst_meaning, "dL / d W_1[1,2]");
    ck_assert_msg(strstr(r.diagnosis, "W_1 (100%)"), "%s", r.diagnosis);
    /* Hessian: a symmetric error in the (W_1, b_1) block */
    c = ctx_of(&f, TDL_VQ_HESSIAN);
    memcpy(A, f.H, P * P * sizeof *A);
    size_t b1 = f.m->layers[1].b_off;
    A[(w1 + 2) * P + b1] += 1e-3;
    A[b1 * P + w1 + 2] += 1e-3;
    r = run(&c, f.H, sh2(P, P), A, sh2(P, P));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    ck_assert_msg(strstr(r.diagnosis, "the block (W_1, b_1) (100%)"), "%s", r.diagnosis);
    ck_assert_msg(strstr(r.worst_meaning, "W_1[0,2]") && strstr(r.worst_meaning, "b_1[0]"), "%s", r.worst_meaning);
    /* NTK: an error in row / column 5 */
    c = ctx_of(&f, TDL_VQ_NTK);
    memcpy(A, f.K, f.n * f.n * sizeof *A);
    A[5 * f.n + 2] += 1e-3;
    A[2 * f.n + 5] += 1e-3;
    A[5 * f.n + 5] += 3e-3;
    r = run(&c, f.K, sh2(f.n, f.n), A, sh2(f.n, f.n));
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE);
    ck_assert_msg(strstr(r.diagnosis, "the worst rows: x_5 ("), "%s", r.diagnosis);
    ck_assert_str_eq(r.worst_meaning, "K(x_5, x_5)");
    free(A);
    fx_free(&f);
}
END_TEST

START_TEST(test_entry_names)
{
    fx f;
    fx_make(&f, 0);
    size_t P = f.P;
    char b[160];
    tdl_verify_context c = ctx_of(&f, TDL_VQ_GRADIENT);
    ck_assert_int_eq(tdl_verify_entry_name(&c, 5, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "dL / d W_0[1,2]");
    ck_assert_int_eq(tdl_verify_entry_name(&c, 13, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "dL / d b_0[1]");
    ck_assert_int_eq(tdl_verify_entry_name(&c, P, b, sizeof b), TDL_EINVAL);
    c.quantity = TDL_VQ_HESSIAN;
    ck_assert_int_eq(tdl_verify_entry_name(&c, 5 * P + 30, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "d^2 L / d W_0[1,2] d b_1[2]");
    c.quantity = TDL_VQ_JACOBIAN;
    ck_assert_int_eq(tdl_verify_entry_name(&c, (7 * 3 + 2) * P + 16 + 3, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "d f_2(x_7) / d W_1[0,3]");
    c.quantity = TDL_VQ_NTK;
    ck_assert_int_eq(tdl_verify_entry_name(&c, 3 * 12 + 5, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "K(x_3, x_5)");
    c.full_ntk = 1;
    ck_assert_int_eq(tdl_verify_entry_name(&c, (3 * 3 + 1) * 36 + 5 * 3 + 2, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "K_1,2(x_3, x_5)");
    c.quantity = TDL_VQ_HESSIAN_EIGENVALUES;
    ck_assert_int_eq(tdl_verify_entry_name(&c, 12, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "lambda_12 (ascending)");
    c.quantity = TDL_VQ_LOSS;
    ck_assert_int_eq(tdl_verify_entry_name(&c, 0, b, sizeof b), TDL_OK);
    ck_assert_str_eq(b, "loss");
    ck_assert_int_eq(tdl_verify_entry_name(&c, 1, b, sizeof b), TDL_EINVAL);
    fx_free(&f);
}
END_TEST

START_TEST(test_errors)
{
    tdl_verify_context c;
    memset(&c, 0, sizeof c);
    c.quantity = TDL_VQ_LOSS;
    double e = 1.0, a = NAN;
    tdl_verify_result r;
    ck_assert_int_eq(tdl_verify_compare(&c, &e, sh0(), &e, sh0(), 0.0, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_verify_compare(&c, &e, sh0(), &e, sh0(), -1e-8, &r), TDL_EINVAL);
    ck_assert_int_eq(tdl_verify_compare(NULL, &e, sh0(), &e, sh0(), TOL, &r), TDL_EINVAL);
    double inf = INFINITY;
    ck_assert_int_eq(tdl_verify_compare(&c, &inf, sh0(), &e, sh0(), TOL, &r), TDL_EINVAL);
    ck_assert(strstr(tdl_errmsg(), "non-finite"));
    tdl_verify_shape s3 = {3, {1, 1}};
    ck_assert_int_eq(tdl_verify_compare(&c, &e, s3, &e, sh0(), TOL, &r), TDL_EINVAL);
    /* a NaN in the answer fails it, named */
    ck_assert_int_eq(tdl_verify_compare(&c, &e, sh0(), &a, sh0(), TOL, &r), TDL_OK);
    ck_assert(!r.passed && r.slip == TDL_SLIP_NONE && strstr(r.diagnosis, "non-finite"));
    /* the absolute floor: |A - E| <= tol when max |E| < 1 */
    double small = 1e-3, near = 1e-3 + 0.9e-8, far = 1e-3 + 1.1e-8;
    ck_assert_int_eq(tdl_verify_compare(&c, &small, sh0(), &near, sh0(), TOL, &r), TDL_OK);
    ck_assert(r.passed);
    ck_assert_int_eq(tdl_verify_compare(&c, &small, sh0(), &far, sh0(), TOL, &r), TDL_OK);
    ck_assert(!r.passed);
    /* the relative rule above 1 */
    double big = 1e3, bnear = 1e3 + 0.9e-5, bfar = 1e3 + 1.1e-5;
    ck_assert_int_eq(tdl_verify_compare(&c, &big, sh0(), &bnear, sh0(), TOL, &r), TDL_OK);
    ck_assert(r.passed);
    ck_assert_int_eq(tdl_verify_compare(&c, &big, sh0(), &bfar, sh0(), TOL, &r), TDL_OK);
    ck_assert(!r.passed);
}
END_TEST

static Suite *verify_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_pass_and_near_miss);
    tcase_add_test(core, test_scale_slips);
    tcase_add_test(core, test_log2);
    tcase_add_test(core, test_parameter_orders);
    tcase_add_test(core, test_structure);
    tcase_add_test(core, test_real_error);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_names);
    tcase_add_test(limits, test_entry_names);
    suite_add_tcase(s, limits);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(verify_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
