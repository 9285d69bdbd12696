/* net_fixture.c — see net_fixture.h. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_randist.h>
#include "net_fixture.h"

const char *const case_names[NCASES] = {
    "linear_mse_regress", "linear_ce", "deep_linear_mse", "tanh_ce", "relu_ce",
    "gelu_mse_onehot", "sigmoid_logistic", "softplus_ce", "erf_mse_regress",
    "quadratic_mse_binary", "leaky_hinge", "abrelu_mse_onehot", "nobias_tanh_ce",
    "ntk_softplus_ce", "deep_tanh_5_7_4_3", "relu_hinge_binary", "ntk_relu_mse_deep",
};

/* ---- fixtures ------------------------------------------------------------ */


const double *ref_array(const fixture *fx, const char *name, size_t ndim, size_t s0, size_t s1)
{
    const tdl_tensor *t = tdl_tensors_find(fx->ref, name);
    ck_assert_msg(t != NULL, "%s.npz: no array '%s'", fx->name, name);
    ck_assert_msg(t->ndim == ndim, "%s.npz: '%s' has %zu dimensions, expected %zu", fx->name, name, t->ndim, ndim);
    if (ndim >= 1) ck_assert_msg(t->shape[0] == s0, "%s.npz: '%s' shape[0] %zu != %zu", fx->name, name, t->shape[0], s0);
    if (ndim >= 2) ck_assert_msg(t->shape[1] == s1, "%s.npz: '%s' shape[1] %zu != %zu", fx->name, name, t->shape[1], s1);
    return t->data;
}

void fixture_load(const char *name, fixture *fx)
{
    char path[1024];
    memset(fx, 0, sizeof *fx);
    fx->name = name;
    snprintf(path, sizeof path, "%s/net/%s.safetensors", TDL_TEST_FIXTURES, name);
    ck_assert_msg(tdl_mlp_load(path, NULL, &fx->m) == TDL_OK, "%s", tdl_errmsg());
    snprintf(path, sizeof path, "%s/net/%s.npz", TDL_TEST_FIXTURES, name);
    ck_assert_msg(tdl_npz_read(path, &fx->ref) == TDL_OK, "%s", tdl_errmsg());

    /* sidecar: loss name, task, classes */
    unsigned char *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/net/%s.json", TDL_TEST_FIXTURES, name);
    ck_assert_msg(tdl_read_file(path, 1 << 20, &text, &len) == TDL_OK, "%s", tdl_errmsg());
    cJSON *js = cJSON_Parse((const char *)text);
    free(text);
    ck_assert_msg(js != NULL, "%s: not JSON", path);
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(js, "loss");
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(js, "task");
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(js, "classes");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(js, "P");
    ck_assert(cJSON_IsString(jl) && cJSON_IsString(jt) && cJSON_IsNumber(jc) && cJSON_IsNumber(jp));
    ck_assert_int_eq(tdl_loss_parse(jl->valuestring, &fx->loss), TDL_OK);
    int regress = strcmp(jt->valuestring, "regress") == 0;
    size_t classes = (size_t)jc->valuedouble;
    size_t P_json = (size_t)jp->valuedouble;
    cJSON_Delete(js);

    fx->P = fx->m->n_params;
    ck_assert_uint_eq(fx->P, P_json);
    fx->C = fx->m->layers[fx->m->depth - 1].out;
    fx->d = fx->m->layers[0].in;
    const tdl_tensor *X = tdl_tensors_find(fx->ref, "X");
    ck_assert_ptr_nonnull(X);
    ck_assert_uint_eq(X->ndim, 2);
    ck_assert_uint_eq(X->shape[1], fx->d);
    fx->n = X->shape[0];
    ck_assert_int_eq(tdl_dataset_create(fx->n, fx->d, regress ? 0 : classes, fx->C, &fx->ds), TDL_OK);
    for (size_t i = 0; i < fx->n; i++)
        for (size_t j = 0; j < fx->d; j++) gsl_matrix_set(fx->ds->X, i, j, X->data[i * fx->d + j]);
    if (regress) {
        const double *Y = ref_array(fx, "Y", 2, fx->n, fx->C);
        for (size_t i = 0; i < fx->n; i++)
            for (size_t j = 0; j < fx->C; j++) gsl_matrix_set(fx->ds->Y, i, j, Y[i * fx->C + j]);
    } else {
        const double *y = ref_array(fx, "y", 1, fx->n, 0);
        for (size_t i = 0; i < fx->n; i++) {
            ck_assert(y[i] >= 0 && y[i] < (double)classes && y[i] == floor(y[i]));
            fx->ds->labels[i] = (size_t)y[i];
        }
    }
    ck_assert_msg(tdl_loss_check(fx->loss, fx->m, fx->ds) == TDL_OK, "%s: %s", name, tdl_errmsg());

    const tdl_tensor *lt = tdl_tensors_find(fx->ref, "loss");
    ck_assert(lt && lt->numel == 1);
    fx->loss_ref = lt->data[0];
    fx->grad = ref_array(fx, "grad", 1, fx->P, 0);
    fx->J = ref_array(fx, "J", 2, fx->n * fx->C, fx->P);
    fx->H = ref_array(fx, "H", 2, fx->P, fx->P);
    fx->G = ref_array(fx, "G", 2, fx->P, fx->P);
    const tdl_tensor *V = tdl_tensors_find(fx->ref, "V");
    ck_assert(V && V->ndim == 2);
    fx->k = V->shape[0];
    fx->V = ref_array(fx, "V", 2, fx->k, fx->P);
    fx->HV = ref_array(fx, "HV", 2, fx->k, fx->P);
    fx->GV = ref_array(fx, "GV", 2, fx->k, fx->P);
}

void fixture_free(fixture *fx)
{
    tdl_mlp_free(&fx->m);
    tdl_dataset_free(&fx->ds);
    tdl_tensors_free(&fx->ref);
}

/* ---- small numerics -------------------------------------------------------- */

double max_abs(const double *a, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(a[i]));
    return mx;
}

double max_diff(const double *a, const double *b, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= mx)) mx = e; /* NaN propagates */
    }
    return mx;
}

/* max |got - ref| / max |ref| (absolute when the reference is exactly zero). */
double rel_err(const double *got, const double *ref, size_t n)
{
    double s = max_abs(ref, n);
    return max_diff(got, ref, n) / (s > 0 ? s : 1.0);
}

double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Gaussian direction of unit 2-norm. */
void random_unit(gsl_rng *r, double *u, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        u[i] = gsl_ran_gaussian(r, 1.0);
        s += u[i] * u[i];
    }
    s = sqrt(s);
    for (size_t i = 0; i < n; i++) u[i] /= s;
}

tdl_net_work *work(const tdl_mlp *m, size_t cap)
{
    tdl_net_work *w = NULL;
    ck_assert_msg(tdl_net_work_alloc(m, cap, &w) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(tdl_net_work_cap(w), cap);
    return w;
}

/* The dense H (or G) assembled column by column from products with unit
 * vectors; caller frees. */
double *assemble(const fixture *fx, tdl_net_work *w, int gauss_newton)
{
    const size_t P = fx->P;
    double *M = dalloc(P * P), *e = dalloc(P), *col = dalloc(P);
    for (size_t j = 0; j < P; j++) {
        e[j] = 1.0;
        ck_assert_int_eq(tdl_mlp_hvp(fx->m, fx->loss, fx->ds, e, gauss_newton, w, col), TDL_OK);
        for (size_t p = 0; p < P; p++) M[p * P + j] = col[p];
        e[j] = 0.0;
    }
    free(e);
    free(col);
    return M;
}

