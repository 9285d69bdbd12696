/* svm.c — the hard-margin linear SVM through LIBLINEAR (tdl/svm.h).
 *
 * LIBLINEAR's types stay here: the public header speaks in tdl's terms. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linear.h>
#include "internal.h"
#include "tdl/svm.h"

void tdl_svm_config_default(tdl_svm_config *cfg)
{
    cfg->C = 1e6;
    cfg->eps = 1e-12;
    cfg->tol = 1e-6;
    cfg->bias = 0;
}

void tdl_svm_result_free(tdl_svm_result *r)
{
    if (!r) return;
    free(r->w);
    memset(r, 0, sizeof *r);
}

int tdl_svm_liblinear_version(void)
{
    return liblinear_version;
}

/* LIBLINEAR prints its progress on stdout; the library never prints. */
static void quiet(const char *s)
{
    (void)s;
}

/* One soft-margin solve at C: w (d, plus the bias weight in w[d] when
 * bias) with the sign convention f > 0 <=> class 1. */
static int solve(const struct problem *prob, double C, double eps, int bias, size_t d, double *w)
{
    struct parameter param;
    memset(&param, 0, sizeof param);
    param.solver_type = L2R_L1LOSS_SVC_DUAL;
    param.C = C;
    param.eps = eps;
    const char *why = check_parameter(prob, &param);
    if (why) return tdl_fail(TDL_EINVAL, "svm: LIBLINEAR refused the parameters: %s", why);
    struct model *m = train(prob, &param);
    if (!m) return tdl_fail(TDL_ENOMEM, "svm: LIBLINEAR could not train (out of memory)");
    /* The decision value is positive for m->label[0]. */
    const double sign = m->label[0] == 1 ? 1.0 : -1.0;
    const size_t nw = d + (bias ? 1 : 0);
    for (size_t j = 0; j < nw; j++) w[j] = sign * m->w[j];
    free_and_destroy_model(&m);
    return TDL_OK;
}

int tdl_svm_max_margin(const tdl_dataset *ds, const tdl_svm_config *cfg, tdl_svm_result *out)
{
    memset(out, 0, sizeof *out);
    if (!ds || ds->classes == 0 || !ds->labels)
        return tdl_fail(TDL_EINVAL, "svm: the data set has no class labels (a regression set)");
    if (ds->classes != 2)
        return tdl_fail(TDL_EINVAL, "svm: the max-margin separator needs two classes, the data set has %zu", ds->classes);
    if (!(cfg->C > 0) || !isfinite(cfg->C) || !isfinite(10 * cfg->C))
        return tdl_fail(TDL_EINVAL, "svm: C = %g must be positive and finite (10 C too)", cfg->C);
    if (!(cfg->eps > 0) || !isfinite(cfg->eps))
        return tdl_fail(TDL_EINVAL, "svm: eps = %g must be positive", cfg->eps);
    if (!(cfg->tol > 0) || !(cfg->tol < 1))
        return tdl_fail(TDL_EINVAL, "svm: tol = %g must lie in (0, 1)", cfg->tol);
    const size_t n = ds->n, d = ds->d;
    if (n == 0 || d == 0) return tdl_fail(TDL_EINVAL, "svm: the data set is empty");
    if (n > (size_t)INT32_MAX || d + 1 > (size_t)INT32_MAX - 1)
        return tdl_fail(TDL_EINVAL, "svm: %zu examples of %zu features exceed LIBLINEAR's int indices", n, d);
    size_t count[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        if (ds->labels[i] > 1) return tdl_fail(TDL_EINVAL, "svm: label %zu of example %zu is not 0 or 1", ds->labels[i], i);
        count[ds->labels[i]]++;
    }
    if (count[0] == 0 || count[1] == 0)
        return tdl_fail(TDL_EINVAL, "svm: class %d has no example: no separator to find", count[0] == 0 ? 0 : 1);
    const int bias = cfg->bias != 0;
    const size_t nw = d + (size_t)bias;
    /* Dense rows in LIBLINEAR's sparse format: d features (1-based), the bias
     * node when bias (LIBLINEAR fills its value), and the -1 terminator. */
    const size_t row_len = nw + 1;
    int st = tdl_memory_require(n, row_len * sizeof(struct feature_node) + sizeof(double) + sizeof(void *), 0,
                                "the SVM's copy of the data");
    if (st != TDL_OK) return st;
    struct feature_node *nodes = tdl_malloc(n * row_len * sizeof *nodes, "the SVM's copy of the data");
    struct feature_node **rows = tdl_malloc(n * sizeof *rows, "the SVM's copy of the data");
    double *y = tdl_malloc(n * sizeof *y, "the SVM's labels");
    double *w1 = tdl_malloc(nw * sizeof *w1, "the SVM's weights");
    double *w2 = tdl_malloc(nw * sizeof *w2, "the SVM's weights");
    if (!nodes || !rows || !y || !w1 || !w2) {
        st = TDL_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        struct feature_node *r = nodes + i * row_len;
        for (size_t j = 0; j < d; j++) {
            r[j].index = (int)(j + 1);
            r[j].value = gsl_matrix_get(ds->X, i, j);
        }
        if (bias) {
            r[d].index = (int)(d + 1);
            r[d].value = 1.0;
        }
        r[nw].index = -1;
        r[nw].value = 0;
        rows[i] = r;
        y[i] = ds->labels[i] == 1 ? 1.0 : -1.0;
    }
    struct problem prob;
    memset(&prob, 0, sizeof prob);
    prob.l = (int)n;
    prob.n = (int)nw;
    prob.y = y;
    prob.x = rows;
    prob.bias = bias ? 1.0 : -1.0;
    set_print_string_function(quiet);
    if ((st = solve(&prob, cfg->C, cfg->eps, bias, d, w1)) != TDL_OK) goto done;
    if ((st = solve(&prob, 10 * cfg->C, cfg->eps, bias, d, w2)) != TDL_OK) goto done;

    double n1 = 0, n2 = 0;
    for (size_t j = 0; j < nw; j++) {
        n1 += w1[j] * w1[j];
        n2 += w2[j] * w2[j];
    }
    n1 = sqrt(n1);
    n2 = sqrt(n2);
    double change = 0;
    for (size_t j = 0; j < nw; j++) {
        double u1 = n1 > 0 ? w1[j] / n1 : 0, u2 = n2 > 0 ? w2[j] / n2 : 0;
        change += (u1 - u2) * (u1 - u2);
    }
    out->direction_change = (n1 > 0 && n2 > 0) ? sqrt(change) : INFINITY;
    out->d = d;
    out->w = tdl_malloc(d * sizeof(double), "the SVM's weights");
    if (!out->w) {
        st = TDL_ENOMEM;
        goto done;
    }
    memcpy(out->w, w2, d * sizeof(double));
    out->b = bias ? w2[d] : 0.0;
    out->C = 10 * cfg->C;
    double mm = INFINITY;
    const double near = 1 + sqrt(cfg->tol);
    for (size_t i = 0; i < n; i++) {
        double f = out->b;
        for (size_t j = 0; j < d; j++) f += w2[j] * gsl_matrix_get(ds->X, i, j);
        double m = y[i] * f;
        mm = fmin(mm, m);
        if (m <= near) out->n_support++;
        if (m < 1 - cfg->tol) out->n_violations++;
        if (m <= 0) out->n_misclassified++;
    }
    out->min_margin = mm;
    out->geometric_margin = n2 > 0 ? mm / n2 : 0;
    out->hard = mm >= 1 - cfg->tol && out->direction_change <= cfg->tol;

done:
    if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "svm: out of memory for %zu examples of %zu features", n, d);
    if (st != TDL_OK) tdl_svm_result_free(out);
    free(nodes);
    free(rows);
    free(y);
    free(w1);
    free(w2);
    return st;
}
