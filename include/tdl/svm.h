/* tdl/svm.h — the hard-margin linear SVM of a two-class data set (the
 * max-margin direction that gradient descent on the logistic loss converges
 * to, Soudry et al. 2018).
 *
 * The problem (labels y_i = 2 c_i - 1 in {-1, +1}, as the logistic and hinge
 * losses read classes 0/1, tdl/net.h):
 *     hard margin   min 1/2 ||w||^2  s.t.  y_i (w^T x_i + b) >= 1 for all i
 *     soft margin   min 1/2 ||w||^2 + C sum_i max(0, 1 - y_i (w^T x_i + b))
 * (b = 0 without a bias; with a bias, b is a free parameter of the hard-margin
 * problem).  The soft-margin problem is solved by LIBLINEAR (Fan, Chang,
 * Hsieh, Wang and Lin, JMLR 9, 2008; Debian's liblinear-dev): dual
 * coordinate descent for the L2-regularized L1-loss SVC (Hsieh et al., ICML
 * 2008).  For separable data the soft-margin solution IS the hard-margin one
 * as soon as C >= max_i alpha_i (the hard-margin dual variables), so a large
 * enough C gives the hard margin exactly, up to the solver's tolerance.
 * tdl_svm_max_margin shows that C was large enough: it solves at C and at
 * 10 C and reports the smallest functional margin min_i y_i f(x_i) (>= 1 -
 * tol: every point is on or outside the margin, the margin is hard) and how
 * far the direction moved between the two C (<= tol: C no longer matters).
 * Both hold only for linearly separable data: on non-separable data some
 * point has y_i f(x_i) < 1 whatever C, and `hard` stays 0 (the result is then
 * the soft-margin solution at 10 C).  `hard` = 0 also when the solver did
 * not reach the optimum: LIBLINEAR 2.3's dual coordinate descent stops after
 * 1000 passes over the data, which an ill-conditioned set (e.g. a bias with
 * inputs far from the origin) may need more of; its result then fails the
 * margin or the stability test, and is never reported as the hard margin.
 *
 * With a bias, LIBLINEAR regularizes b like a weight (it appends a constant
 * feature B and penalizes its weight): the solution is then the hard-margin
 * SVM of the inputs augmented with the constant B (= 1 here), which is also
 * the homogeneous predictor that gradient descent finds on inputs augmented
 * with a constant 1.  Without a bias (the homogeneous linear predictors of
 * Soudry et al.) there is no such difference.
 */
#ifndef TDL_SVM_H
#define TDL_SVM_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_svm_config {
    double C;        /* soft-margin penalty of the first solve (the second is 10 C); > 0 */
    double eps;      /* LIBLINEAR's stopping tolerance (projected-gradient gap of the dual); > 0 */
    double tol;      /* the hard-margin tolerance: min margin >= 1 - tol and direction
                        change <= tol; > 0 */
    int bias;        /* 1: a bias b (inputs augmented with the constant 1); 0: homogeneous */
} tdl_svm_config;

/* Defaults: C = 1e6, eps = 1e-12, tol = 1e-6, no bias. */
TDL_API void tdl_svm_config_default(tdl_svm_config *cfg);

typedef struct tdl_svm_result {
    size_t d;               /* input dimension */
    double *w;              /* d weights of the solution at 10 C, owned */
    double b;               /* its bias (0 without one) */
    double C;               /* the C of that solution (10 x cfg->C) */
    double min_margin;      /* min_i y_i (w^T x_i + b): >= 1 - tol when the margin is hard */
    double geometric_margin;/* min_margin / ||(w, b)|| (||w|| without a bias) */
    double direction_change;/* || u_C - u_10C ||, u = (w, b) / ||(w, b)||: 0 when C no longer matters */
    size_t n_support;       /* points with y_i f(x_i) <= 1 + sqrt(tol) (on the margin) */
    size_t n_violations;    /* points with y_i f(x_i) < 1 - tol (inside the margin or misclassified) */
    size_t n_misclassified; /* points with y_i f(x_i) <= 0 */
    int hard;               /* 1: min_margin >= 1 - tol and direction_change <= tol (separable
                               data, C large enough); 0 otherwise */
} tdl_svm_result;

/* The max-margin linear separator of ds (two classes; labels as tdl/net.h's
 * logistic loss reads them).  TDL_EINVAL for a regression set, more than two
 * classes, a class with no example, a bad configuration, or a data set larger
 * than LIBLINEAR's int indices; TDL_ENOMEM.  Non-separable data are not an
 * error: the result says so (hard = 0, n_violations > 0). */
TDL_API int tdl_svm_max_margin(const tdl_dataset *ds, const tdl_svm_config *cfg, tdl_svm_result *out);
TDL_API void tdl_svm_result_free(tdl_svm_result *r);

/* The LIBLINEAR version the library was built with (e.g. 230 for 2.30). */
TDL_API int tdl_svm_liblinear_version(void);

#ifdef __cplusplus
}
#endif
#endif
