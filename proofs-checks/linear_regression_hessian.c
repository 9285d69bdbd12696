/* linear-regression-hessian — the Hessian of least squares and the step-size
 * threshold of gradient descent.
 *
 * Claim.  For the mean-squared error L(W) = (1/n) sum_i 1/2 ||W x_i - y_i||^2
 * of a linear model f(x) = W x (W: C x d, no bias), the Hessian is the
 * constant matrix A (x) I_C with A = (1/n) X^T X; in tdl's parameter order
 * (W row-major, class-major) that is I_C (x) A, block diagonal with C copies
 * of A.  Gradient descent theta <- theta - eta grad L is the linear
 * iteration e_{k+1} = (I - eta H) e_k on the error e = theta - theta*, so it
 * converges iff eta < 2 / lambda_max(H), with per-step contraction
 * rho = max_i |1 - eta lambda_i| over the non-zero eigenvalues (which is
 * 1 - eta lambda_min whenever lambda_min / lambda_max < 1/9 at
 * eta = 1.8 / lambda_max); the excess loss L_k - L* falls like rho^{2k}.
 * Source: the standard quadratic-model analysis, e.g. Nesterov, "Lectures on
 * Convex Optimization" (2018), Thm 2.1.15 / Boyd and Vandenberghe sec. 9.3;
 * the course's lecture 2 (gradient descent on quadratics).
 *
 * Setup.  quick: iris, standardized, C = 3, P = 12; full: a 5-class Gaussian
 * mixture with n = 2000, d = 30, standardized, P = 150.  One-hot MSE
 * targets.  The dense Hessian comes from tdl_hessian_dense (exact second
 * derivatives by the R-operator), the prediction from X directly; L* and
 * theta* from the pseudo-inverse of A (independent of GD).  Two runs of
 * tdl_train's full-batch GD from the same seeded init: eta = 0.9 * 2/lambda_max
 * and eta = 1.1 * 2/lambda_max.
 *
 * Measured.  max |H - I_C (x) A| / max |A|; the contraction rate of the
 * first run, fitted on the second half of its excess-loss curve; the growth
 * factor of the second run on its last 20 steps.
 *
 * Passes when the Hessian agrees to 1e-12 relative (it is a sum of n
 * products, so the roundoff is ~ n eps); the first run reaches an excess loss
 * 1e-10 of its start and its rate is within 5% of rho; the second run's
 * excess grows by 1e6 or more, at |1 - eta lambda_max| within 5%.
 * On the user's data (--data SPEC).  The Hessian identity and the GD
 * threshold hold for any X and any targets (no hypothesis: A may be
 * singular; the rate is over its non-zero eigenvalues and L* uses the
 * pseudo-inverse), so any data set is taken, classes as one-hot targets,
 * regression targets as they are.  Cost: more than 2000 examples are cut
 * to 2000 (the data grammar's n=), more than 2000 parameters refused (the
 * dense Hessian), and a set whose conditioning needs more GD steps than the
 * budget (--steps, default 200000) to fall by 1e-10 is refused up front,
 * with the number of steps it would take.
 * Broken setup: the "convergent" run uses eta = 1.1 * 2/lambda_max too, so
 * it does not converge and the rate row fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plot.h"

typedef struct curve { double *loss; size_t n, cap; } curve;

static int record(const tdl_train_progress *p, void *user)
{
    curve *c = user;
    if (c->n < c->cap) c->loss[c->n++] = p->loss;
    return 0;
}

/* Run full-batch GD at step eta for `steps` steps; loss[0] is the initial loss. */
static int run_gd(const tdl_mlp *init, const tdl_dataset *ds, double eta, size_t steps, curve *c, int *diverged)
{
    tdl_mlp *m = NULL;
    int st = tdl_mlp_clone(init, &m);
    if (st != TDL_OK) return st;
    tdl_net_work *w = NULL;
    double l0 = NAN;
    if ((st = tdl_net_work_alloc(m, ds->n, &w)) == TDL_OK)
        st = tdl_mlp_loss_grad(m, TDL_LOSS_MSE, ds, w, &l0, NULL);
    tdl_net_work_free(&w);
    if (st != TDL_OK) { tdl_mlp_free(&m); return st; }
    c->n = 0;
    c->loss[c->n++] = l0;
    tdl_train_config cfg = pc_gd_config(TDL_LOSS_MSE, eta, steps, 1);
    cfg.callback = record;
    cfg.user = c;
    tdl_train_result tr;
    st = tdl_train(m, ds, &cfg, &tr);
    *diverged = st == TDL_EDIVERGED;
    if (*diverged) st = TDL_OK;
    tdl_mlp_free(&m);
    return st;
}

/* --steps: the convergent run keeps its loss at every step (8 bytes each). */
static const char *check_params(const pc_options *opt)
{
    return opt->steps > 10000000 ? "--steps: at most 10000000 (the loss curve of every step is kept)" : NULL;
}

static int run(const pc_options *opt, pc_result *res)
{
    const char *spec = opt->quick ? "iris:normalize=standard"
                                  : "gauss:n=2000,d=30,classes=5,sep=2,seed=7,normalize=standard";
    char *used = NULL;
    int st;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    double *H = NULL, *A = NULL, *Ainv = NULL, *theta_star = NULL;
    tdl_sym_eigen eig = {0};
    curve good = {0}, bad = {0};
    tdl_net_work *w = NULL;
    if (opt->data) {
        /* a user's set: at most 2000 examples (the full mode's size; more are
         * cut by the data grammar's n=) and 2000 parameters (a dense Hessian) */
        if ((st = pc_load_user_data("linear-regression-hessian", opt->data, 2000, &ds, &used)) != TDL_OK) goto cleanup;
        spec = used;
        if (ds->d * tdl_dataset_outputs(ds) > 2000) {
            st = tdl_error_set(TDL_ETOOBIG, "linear-regression-hessian: %s: the linear model %zu-%zu has %zu parameters; the "
                               "check's dense Hessian takes at most 2000", used, ds->d, tdl_dataset_outputs(ds),
                               ds->d * tdl_dataset_outputs(ds));
            goto cleanup;
        }
    } else if ((st = tdl_dataset_load(spec, &ds)) != TDL_OK) {
        goto cleanup;
    }
    const size_t n = ds->n, d = ds->d, C = tdl_dataset_outputs(ds), P = C * d;

    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 1;
    cfg.widths[0] = d;
    cfg.widths[1] = C;
    cfg.bias = 0;
    cfg.seed = opt->seed;
    if ((st = tdl_mlp_create(&cfg, &m)) != TDL_OK) goto cleanup;

    /* The exact Hessian and the prediction I_C (x) A, A = X^T X / n. */
    H = tdl_malloc(P * P * sizeof(double), "the Hessian");
    A = tdl_calloc(d * d, sizeof(double), "X^T X");
    Ainv = tdl_calloc(d * d, sizeof(double), "(X^T X)^+");
    theta_star = tdl_calloc(P, sizeof(double), "theta*");
    good.cap = bad.cap = 200001;
    good.loss = tdl_malloc(good.cap * sizeof(double), "a loss curve");
    bad.loss = tdl_malloc(bad.cap * sizeof(double), "a loss curve");
    if (!H || !A || !Ainv || !theta_star || !good.loss || !bad.loss) { st = TDL_ENOMEM; goto cleanup; }
    if ((st = tdl_hessian_dense(m, TDL_LOSS_MSE, ds, 0, P, H, NULL)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < n; i++) {
        const double *x = gsl_matrix_const_ptr(ds->X, i, 0);
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) A[a * d + b] += x[a] * x[b] / (double)n;
    }
    double amax = 0, err = 0;
    for (size_t a = 0; a < d * d; a++) amax = fmax(amax, fabs(A[a]));
    for (size_t p = 0; p < P; p++)
        for (size_t q = 0; q < P; q++) {
            size_t cp = p / d, cq = q / d;
            double pred = cp == cq ? A[(p % d) * d + q % d] : 0.0;
            err = fmax(err, fabs(H[p * P + q] - pred));
        }
    err /= amax;
    pc_addf(res, "hessian_rel_error", "max |H - I_C (x) X^T X/n| / max |X^T X/n|", err, 0.0,
            err <= 1e-12, "<= 1e-12");

    /* Spectrum of A (that of H, each value C times) and the pseudo-inverse. */
    double *Acopy = tdl_malloc(d * d * sizeof(double), "X^T X");
    if (!Acopy) { st = TDL_ENOMEM; goto cleanup; }
    memcpy(Acopy, A, d * d * sizeof(double));
    st = tdl_sym_eigen_solve(Acopy, d, 0, d - 1, 1, &eig);
    free(Acopy);
    if (st != TDL_OK) goto cleanup;
    double lmax = eig.values[d - 1], lmin = NAN, cut = 1e-10 * lmax;
    for (size_t j = 0; j < d; j++) {
        if (eig.values[j] <= cut) continue;
        if (isnan(lmin)) lmin = eig.values[j];
        const double *v = eig.vectors + j * d;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) Ainv[a * d + b] += v[a] * v[b] / eig.values[j];
    }
    /* theta*_c = A^+ (1/n) X^T y_c (one-hot targets for classes). */
    for (size_t i = 0; i < n; i++) {
        const double *x = gsl_matrix_const_ptr(ds->X, i, 0);
        for (size_t a = 0; a < d; a++) {
            double s = 0;
            for (size_t b = 0; b < d; b++) s += Ainv[a * d + b] * x[b];
            if (ds->classes) {
                theta_star[ds->labels[i] * d + a] += s / (double)n;
            } else {
                for (size_t c = 0; c < C; c++) theta_star[c * d + a] += gsl_matrix_get(ds->Y, i, c) * s / (double)n;
            }
        }
    }
    double lstar;
    {
        double *keep = m->theta;
        m->theta = theta_star;
        if ((st = tdl_net_work_alloc(m, n, &w)) == TDL_OK)
            st = tdl_mlp_loss_grad(m, TDL_LOSS_MSE, ds, w, &lstar, NULL);
        m->theta = keep;
        if (st != TDL_OK) goto cleanup;
    }

    double eta_good = (opt->broken ? 1.1 : 0.9) * 2.0 / lmax, eta_bad = 1.1 * 2.0 / lmax;
    double rho = fmax(fabs(1 - eta_good * lmin), fabs(1 - eta_good * lmax));
    int div_good = 0, div_bad = 0;
    /* Steps for the excess to fall by 1e-10 at rate rho, with margin. */
    size_t steps = (size_t)fmin(200000.0, ceil(1.3 * log(1e-10) / (2 * log(fmin(rho, 1 - 1e-9)))) + 10);
    if (opt->data) {
        /* a user's set: the steps the prediction needs, within the budget */
        const double need = ceil(1.3 * log(1e-10) / (2 * log(fmin(rho, 1 - 1e-9)))) + 10;
        const size_t budget = opt->steps ? opt->steps : 200000;
        if (need > (double)budget) {
            st = tdl_error_set(TDL_EINVAL, "linear-regression-hessian: %s: GD at eta = 0.9 * 2/lambda_max needs about %.3g steps "
                               "to fall by 1e-10 (lambda_max/lambda_min = %.3g), beyond the budget of %zu: %s%.0f%s", used, need,
                               lmax / lmin, budget, need <= 1e7 ? "give --steps " : "more than --steps takes (",
                               need <= 1e7 ? need : 1e7,
                               need <= 1e7 ? ", or standardized inputs (normalize=standard)" : "): standardize the inputs (normalize=standard)");
            goto cleanup;
        }
        steps = (size_t)need;
        if (steps + 1 > good.cap) { /* the curve of every step is kept */
            free(good.loss);
            good.cap = steps + 1;
            if (!(good.loss = tdl_malloc(good.cap * sizeof(double), "a loss curve"))) { st = TDL_ENOMEM; goto cleanup; }
        }
    }
    if ((st = run_gd(m, ds, eta_good, steps, &good, &div_good)) != TDL_OK) goto cleanup;
    if ((st = run_gd(m, ds, eta_bad, 60, &bad, &div_bad)) != TDL_OK) goto cleanup;

    /* Converging run: stop the fit where the excess is 1e-10 of its start. */
    double e0 = good.loss[0] - lstar;
    size_t end = good.n - 1;
    for (size_t k = 1; k < good.n; k++)
        if (good.loss[k] - lstar <= 1e-10 * e0) { end = k; break; }
    double e_end = good.loss[end] - lstar, e_half = good.loss[end / 2] - lstar;
    int converged = !div_good && e_end <= 1e-10 * e0;
    double rate = (e_half > 0 && e_end > 0 && end / 2 < end)
                      ? pow(e_end / e_half, 1.0 / (2.0 * (double)(end - end / 2))) : NAN;
    pc_addf(res, "converged", "run 1 (eta = 0.9 * 2/lambda_max): excess fell by 1e-10", converged, 1,
            converged, "yes (1)");
    pc_addf(res, "rate", "run 1 contraction per step", rate, rho,
            fabs(rate - rho) <= 0.05 * rho, "within 5%% of max|1 - eta lambda_i|");
    /* Diverging run. */
    double b0 = bad.loss[0] - lstar, bK = bad.loss[bad.n - 1] - lstar;
    size_t k0 = bad.n > 21 ? bad.n - 21 : 0;
    double bk0 = bad.loss[k0] - lstar;
    double growth = (bK > 0 && bk0 > 0 && bad.n - 1 > k0) ? pow(bK / bk0, 1.0 / (2.0 * (double)(bad.n - 1 - k0))) : NAN;
    double pred_growth = fabs(1 - eta_bad * lmax);
    int diverges = div_bad || bK >= 1e6 * b0;
    pc_addf(res, "diverged", "run 2 (eta = 1.1 * 2/lambda_max): excess grew by 1e6", diverges, 1,
            diverges, "yes (1)");
    pc_addf(res, "growth", "run 2 growth factor per step", growth, pred_growth,
            div_bad || fabs(growth - pred_growth) <= 0.05 * pred_growth, "within 5%% of |1 - eta lambda_max|");
    pc_add(res, "lambda_max", "lambda_max(H)", lmax, NAN, -1, "");
    pc_add(res, "lambda_min", "smallest non-zero eigenvalue of H", lmin, NAN, -1, "");
    pc_add(res, "steps", "run 1 steps to reach 1e-10", (double)end, NAN, -1, "");
    if (!opt->data)
        pc_setup(res, "data %s (n=%zu, d=%zu, C=%zu); linear model %zu-%zu without bias (P=%zu), MSE on one-hot "
                 "targets, mean over samples; init gaussian seed %lu; full-batch GD via tdl_train; "
                 "L* = %.6g from the pseudo-inverse of X^T X/n", spec, n, d, C, d, C, P, opt->seed, lstar);
    else
        pc_setup(res, "data %s (n=%zu, d=%zu, C=%zu%s%s); linear model %zu-%zu without bias (P=%zu), MSE on %s, mean over "
                 "samples; init gaussian seed %lu; full-batch GD via tdl_train; L* = %.6g from the pseudo-inverse of X^T X/n",
                 spec, n, d, C, ds->classes ? "" : " target columns",
                 strcmp(used, opt->data) != 0 ? "; cut by the data grammar's n= (the first n of a seeded shuffle; a synthetic set draws n)" : "",
                 d, C, P, ds->classes ? "one-hot targets" : "the targets", opt->seed, lstar);

    if (opt->plot) {
        size_t ng = end + 1, nb = bad.n;
        double *xs = tdl_malloc((ng > nb ? ng : nb) * sizeof(double), "a figure");
        double *yg = tdl_malloc(ng * sizeof(double), "a figure"), *pg = tdl_malloc(ng * sizeof(double), "a figure");
        double *yb = tdl_malloc(nb * sizeof(double), "a figure"), *pb = tdl_malloc(nb * sizeof(double), "a figure");
        if (xs && yg && pg && yb && pb) {
            for (size_t k = 0; k < (ng > nb ? ng : nb); k++) xs[k] = (double)k;
            for (size_t k = 0; k < ng; k++) {
                yg[k] = fmax(good.loss[k] - lstar, 1e-300);
                pg[k] = e_end * pow(rho, 2.0 * ((double)k - (double)end));
            }
            for (size_t k = 0; k < nb; k++) {
                yb[k] = fmax(bad.loss[k] - lstar, 1e-300);
                pb[k] = bK * pow(pred_growth, 2.0 * ((double)k - (double)(nb - 1)));
            }
            char tg[96], tb[96];
            snprintf(tg, sizeof tg, "GD, eta = %.2f/lambda_max", eta_good * lmax);
            snprintf(tb, sizeof tb, "GD, eta = 2.2/lambda_max");
            plot_series s[4] = {
                {tg, xs, yg, ng, PLOT_LINES}, {"predicted rho^{2k}", xs, pg, ng, PLOT_LINES},
                {tb, xs, yb, nb, PLOT_LINES}, {"predicted |1-eta lambda_max|^{2k}", xs, pb, nb, PLOT_LINES},
            };
            char cap[256];
            char shown[256];
            snprintf(cap, sizeof cap, "%s; linear %zu-%zu, MSE (mean); seed %lu; L* from the pseudo-inverse",
                     pc_display_spec(spec, shown, sizeof shown), d, C, opt->seed);
            plot_spec ps = {"Gradient descent on least squares: excess loss", "step k", "L_k - L* (mean MSE)",
                            cap, 0, 1, 0, s, 4};
            st = plot_render(opt->plot, &ps);
        } else {
            st = TDL_ENOMEM;
        }
        free(xs); free(yg); free(pg); free(yb); free(pb);
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "linear-regression-hessian: out of memory");
    tdl_net_work_free(&w);
    tdl_sym_eigen_free(&eig);
    free(H); free(A); free(Ainv); free(theta_star); free(good.loss); free(bad.loss);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    free(used);
    return st;
}

const pc_check pc_check_linear_regression_hessian = {
    "linear-regression-hessian",
    "For MSE on a linear model the Hessian is (1/n) X^T X (x) I_C; GD converges iff eta < 2/lambda_max, "
    "at rate max|1 - eta lambda_i| per step (1 - eta lambda_min for ill-conditioned X).",
    "quadratic-model analysis of GD: Nesterov, Lectures on Convex Optimization (2018), Thm 2.1.15; "
    "Boyd & Vandenberghe, Convex Optimization, sec. 9.3",
    "the 'convergent' run also uses eta = 1.1 * 2/lambda_max, beyond the threshold",
    run,
    PC_P_DATA | PC_P_STEPS,
    "  --data SPEC        the user's data: inputs X, targets (one-hot for classes); more than 2000 examples are\n"
    "                     cut by the data grammar's n=; at most 2000 parameters d x C (default: iris with\n"
    "                     --quick, else a 5-class Gaussian mixture)\n"
    "  --steps N          with --data: the step budget of the convergent run, which takes the steps its\n"
    "                     predicted rate needs (default 200000; at most 10^7: the curve of every step is kept)\n",
    NULL,
    check_params,
};
