/* saxe-linear-dynamics — the closed-form learning curves of a two-layer
 * linear net from small balanced initial conditions.
 *
 * Claim.  For f(x) = W2 W1 x trained by gradient flow on whitened inputs
 * (Sigma_xx = I), with the initial weights balanced and aligned with the
 * singular vectors of Sigma_yx = sum_a s_a u_a v_a^T (W1 = R diag(sqrt u0) V^T,
 * W2 = U diag(sqrt u0) R^T, R an orthonormal hidden basis), the modes
 * decouple and each mode strength u_a(t) = u_a^T W2 W1 v_a follows
 *     tau du/dt = 2 u (s - u),
 *     u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0)
 * Source: Saxe, McClelland and Ganguli, "Exact solutions to the nonlinear
 * dynamics of learning in deep linear neural networks", ICLR 2014
 * (arXiv:1312.6120), sec. 1: the batch gradient-flow equations for W21, W32
 * with tau = 1/lambda (lambda their learning rate) and the sigmoidal
 * solution u_f(t) for the decoupled, balanced mode dynamics.  (Equation
 * numbers are not cited: they could not be checked against the paper here.)
 *
 * Time constant.  tdl's loss is the MEAN over samples of 1/2 ||W2 W1 x - y||^2
 * = 1/2 tr(W Sigma_xx W^T) - tr(W Sigma_xy) + const, Sigma_yx = (1/n) Y^T X,
 * so grad_W1 = W2^T (W Sigma_xx - Sigma_yx), grad_W2 = (W Sigma_xx - Sigma_yx) W1^T
 * and one GD step W <- W - eta grad is one forward-Euler step of Saxe's
 * eq. (2) with dt / tau = eta.  Hence t = k eta with tau = 1 (the 1/2 of the
 * loss cancels the 2 of the derivative; a summed loss would give t = k eta n,
 * a loss without the 1/2 t = 2 k eta).  Per mode the GD map is exactly
 * a <- a + eta b (s - a b), b <- b + eta a (s - a b) (u = a b), so balance
 * a = b is kept and the modes stay decoupled.
 *
 * Tolerance from the discretization.  With a = b, GD is the map
 * u <- u (1 + eta (s - u))^2 = u + 2 eta u (s - u) + eta^2 u (s - u)^2, whose
 * eta^2 term differs from the flow's (eta^2 / 2) f' f = 2 eta^2 u (s-u)(s-2u)
 * by eta^2 u (s-u)(3u - s).  To first order in eta GD therefore follows the
 * modified equation du/dt = 2u(s-u) [1 + eta (3u - s)/2], i.e. it reaches the
 * level u later than the flow by
 *     dt(u) = (eta/4) [ln(u/u0) + 2 ln((s-u)/(s-u0))]
 * (partial fractions of (3u - s)/(u (s - u))), and the deviation at that
 * moment is du/dt * dt = 2u(s-u) dt(u).  The predicted first-order maximum
 * deviation D_a = max_u 2u(s-u) dt(u) / s ~ eta s (ln(s/u0) - 2)/8 is
 * evaluated on a grid of u; the pass criterion is measured <= 1.25 D_a for
 * every mode (the O(eta^2) remainder is a relative O(eta s) correction to D,
 * eta s <= 0.03 here; measured / D is 1.000 to 4 digits at the quick step).
 * The full mode also checks that the deviation is first order: its log-log
 * slope against eta over eta, eta/2, eta/4 lies in [0.9, 1.1], and
 * measured / D_a -> 1 (within 5% at the smallest step, where eta s <= 0.004).
 *
 * Setup.  X = sqrt(n) Q with Q an n x d matrix with orthonormal columns (so
 * Sigma_xx = I exactly), Y = X W*^T with W* = U diag(s) V_k^T (random
 * orthogonal U, V, seeded), net d-h-k without biases, identity activation,
 * tdl_train full-batch GD, theta set directly from the construction above.
 * quick: d = 6, h = k = 4, s = (3, 2, 1, 0.5), u0 = 1e-3, eta = 0.01, t <= 16;
 * full: d = 10, h = 8, k = 6, s = (4, 3, 2, 1, 0.5, 0.25), u0 = 1e-3,
 * eta = 0.004, 0.002, 0.001, t <= 30.
 *
 * Broken setup: the initial weights are unbalanced (a0 = 3 sqrt(u0),
 * b0 = sqrt(u0) / 3, the same u0 = a0 b0): Saxe's solution assumes a = b, and
 * the unbalanced mode leaves the plateau earlier (du/dt = (a^2 + b^2)(s - u)
 * starts (a0^2 + b0^2) / (2 a0 b0) = 4.6 times faster), so the deviation
 * exceeds the tolerance.
 *
 * --data refused: its closed-form curves need whitened inputs (Sigma_xx =
 * I) and initial weights aligned with the task's singular vectors: it
 * builds such data itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include "check.h"
#include "plot.h"

#define SAXE_MAX_MODES 8
#define SAXE_ETAS 3

/* Fill Q (rows x cols, row-major, rows >= cols) with orthonormal columns:
 * the Q factor of a Gaussian matrix (Haar-distributed up to signs). */
static int random_orthonormal(gsl_rng *r, size_t rows, size_t cols, double *Q)
{
    double *tau = tdl_malloc(cols * sizeof(double), "a QR factorization");
    if (!tau) return TDL_ENOMEM;
    for (size_t i = 0; i < rows * cols; i++) Q[i] = gsl_ran_gaussian(r, 1.0);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, Q,
                                     (lapack_int)cols, tau);
    if (info == 0)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, (lapack_int)cols, Q,
                              (lapack_int)cols, tau);
    free(tau);
    if (info != 0) return tdl_error_set(TDL_ENOCONV, "saxe-linear-dynamics: QR factorization failed (info %d)", (int)info);
    return TDL_OK;
}

/* Saxe et al. 2014, the sigmoidal solution u_f(t), with tau = 1. */
static double saxe_u(double s, double u0, double t)
{
    /* s e^{2st} / (e^{2st} - 1 + s/u0) = s / (1 - e^{-2st} (1 - s/u0)), stable for large t. */
    return s / (1.0 - exp(-2.0 * s * t) * (1.0 - s / u0));
}

/* First-order prediction of max_t |u_GD(t) - u(t)| / s (see the header). */
static double first_order_deviation(double s, double u0, double eta)
{
    double best = 0;
    const size_t grid = 4000;
    for (size_t j = 1; j < grid; j++) {
        /* u on a log grid from u0 to s (1 - 1e-6), where the deviation lives. */
        double u = u0 * pow(s * (1 - 1e-6) / u0, (double)j / (double)grid);
        double lag = 0.25 * eta * (log(u / u0) + 2.0 * log((s - u) / (s - u0)));
        best = fmax(best, fabs(2.0 * u * (s - u) * lag) / s);
    }
    return best;
}

typedef struct saxe_rec {
    const double *U, *V;     /* k x k, d x d (columns are singular vectors) */
    size_t d, h, k, modes;
    size_t w2_off;
    double *W;               /* k x d scratch */
    double *u;               /* (steps + 1) x modes */
    size_t n, cap;
} saxe_rec;

static void mode_strengths(saxe_rec *rec, const double *theta, double *out)
{
    const size_t d = rec->d, h = rec->h, k = rec->k;
    /* W = W2 W1 (k x d). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)d, (int)h, 1.0, theta + rec->w2_off,
                (int)h, theta, (int)d, 0.0, rec->W, (int)d);
    for (size_t a = 0; a < rec->modes; a++) {
        double s = 0;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < d; j++) s += rec->U[i * k + a] * rec->W[i * d + j] * rec->V[j * d + a];
        out[a] = s;
    }
}

static int record(const tdl_train_progress *p, void *user)
{
    saxe_rec *rec = user;
    if (rec->n < rec->cap) mode_strengths(rec, p->theta, rec->u + (rec->n++) * rec->modes);
    return 0;
}

/* One GD run at step eta for `steps` steps from the constructed init; fills
 * rec->u (rows 0..steps) and dev[a] = max_k |u_a(k) - u_a(k eta)| / s_a. */
static int run_gd(const tdl_mlp *init, const tdl_dataset *ds, double eta, size_t steps, const double *sv,
                  double u0, saxe_rec *rec, double *dev)
{
    tdl_mlp *m = NULL;
    int st = tdl_mlp_clone(init, &m);
    if (st != TDL_OK) return st;
    rec->n = 0;
    mode_strengths(rec, m->theta, rec->u);
    rec->n = 1;
    tdl_train_config cfg = pc_gd_config(TDL_LOSS_MSE, eta, steps, 1);
    cfg.callback = record;
    cfg.user = rec;
    tdl_train_result tr;
    st = tdl_train(m, ds, &cfg, &tr);
    tdl_mlp_free(&m);
    if (st != TDL_OK) return st;
    for (size_t a = 0; a < rec->modes; a++) {
        dev[a] = 0;
        for (size_t j = 0; j < rec->n; j++) {
            double pred = saxe_u(sv[a], u0, (double)j * eta);
            dev[a] = fmax(dev[a], fabs(rec->u[j * rec->modes + a] - pred) / sv[a]);
        }
    }
    return TDL_OK;
}

static int run(const pc_options *opt, pc_result *res)
{
    static const double sv_quick[] = {3, 2, 1, 0.5};
    static const double sv_full[] = {4, 3, 2, 1, 0.5, 0.25};
    const int quick = opt->quick;
    const size_t d = quick ? 6 : 10, h = quick ? 4 : 8, k = quick ? 4 : 6, modes = k, n = 2 * d;
    const double *sv = quick ? sv_quick : sv_full;
    const double u0 = 1e-3, t_end = quick ? 16.0 : 30.0;
    const double eta0 = quick ? 0.01 : 0.004;
    const size_t n_eta = quick ? 1 : SAXE_ETAS;
    const double imbalance = opt->broken ? 3.0 : 1.0; /* a0 = c sqrt(u0), b0 = sqrt(u0) / c */
    int st = TDL_OK;
    gsl_rng *r = NULL;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    double *Q = NULL, *U = NULL, *V = NULL, *R = NULL, *Wt = NULL, *W = NULL, *u_curve = NULL;
    saxe_rec rec = {0};
    double dev[SAXE_ETAS][SAXE_MAX_MODES], pred_dev[SAXE_ETAS][SAXE_MAX_MODES];

    r = gsl_rng_alloc(gsl_rng_mt19937);
    Q = tdl_malloc(n * d * sizeof(double), "the inputs");
    U = tdl_malloc(k * k * sizeof(double), "singular vectors");
    V = tdl_malloc(d * d * sizeof(double), "singular vectors");
    R = tdl_malloc(h * h * sizeof(double), "a hidden basis");
    Wt = tdl_calloc(k * d, sizeof(double), "the target map");
    W = tdl_malloc(k * d * sizeof(double), "the end-to-end map");
    if (!r || !Q || !U || !V || !R || !Wt || !W) { st = TDL_ENOMEM; goto cleanup; }
    gsl_rng_set(r, opt->seed);
    if ((st = random_orthonormal(r, n, d, Q)) != TDL_OK) goto cleanup;
    if ((st = random_orthonormal(r, k, k, U)) != TDL_OK) goto cleanup;
    if ((st = random_orthonormal(r, d, d, V)) != TDL_OK) goto cleanup;
    if ((st = random_orthonormal(r, h, h, R)) != TDL_OK) goto cleanup;

    /* Data: X = sqrt(n) Q, W* = U diag(s) V_k^T, Y = X W*^T. */
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < d; j++)
            for (size_t a = 0; a < modes; a++) Wt[i * d + j] += U[i * k + a] * sv[a] * V[j * d + a];
    if ((st = tdl_dataset_create(n, d, 0, k, &ds)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, sqrt((double)n) * Q[i * d + j]);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) {
            double y = 0;
            for (size_t j = 0; j < d; j++) y += gsl_matrix_get(ds->X, i, j) * Wt[c * d + j];
            gsl_matrix_set(ds->Y, i, c, y);
        }
    /* Whitening and Sigma_yx = W* as computed from the data (rounding only). */
    double white_err = 0, syx_err = 0;
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += gsl_matrix_get(ds->X, i, a) * gsl_matrix_get(ds->X, i, b);
            white_err = fmax(white_err, fabs(s / (double)n - (a == b)));
        }
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += gsl_matrix_get(ds->Y, i, c) * gsl_matrix_get(ds->X, i, j);
            syx_err = fmax(syx_err, fabs(s / (double)n - Wt[c * d + j]) / sv[0]);
        }

    /* The net and its balanced, aligned initialization. */
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = 2;
    cfg.widths[0] = d;
    cfg.widths[1] = h;
    cfg.widths[2] = k;
    cfg.act.kind = TDL_ACT_IDENTITY;
    cfg.bias = 0;
    cfg.seed = opt->seed;
    if ((st = tdl_mlp_create(&cfg, &m)) != TDL_OK) goto cleanup;
    {
        double *W1 = m->theta + m->layers[0].w_off, *W2 = m->theta + m->layers[1].w_off;
        memset(m->theta, 0, m->n_params * sizeof(double));
        const double a0 = imbalance * sqrt(u0), b0 = sqrt(u0) / imbalance;
        for (size_t a = 0; a < modes; a++) {
            for (size_t p = 0; p < h; p++) {
                for (size_t j = 0; j < d; j++) W1[p * d + j] += a0 * R[p * h + a] * V[j * d + a];
                for (size_t i = 0; i < k; i++) W2[i * h + p] += b0 * U[i * k + a] * R[p * h + a];
            }
        }
        if (m->theta0) memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
    }

    rec.U = U;
    rec.V = V;
    rec.d = d;
    rec.h = h;
    rec.k = k;
    rec.modes = modes;
    rec.w2_off = m->layers[1].w_off;
    rec.W = W;
    double etas[SAXE_ETAS];
    size_t steps_of[SAXE_ETAS];
    for (size_t e = 0; e < n_eta; e++) {
        etas[e] = eta0 / (double)(1u << e);
        steps_of[e] = (size_t)ceil(t_end / etas[e]);
    }
    rec.cap = steps_of[n_eta - 1] + 1;
    rec.u = tdl_malloc(rec.cap * modes * sizeof(double), "the mode strengths");
    if (!rec.u) { st = TDL_ENOMEM; goto cleanup; }
    /* Largest step first; keep the curve of the largest step for the figure. */
    size_t plot_n = 0;
    for (size_t e = 0; e < n_eta; e++) {
        if ((st = run_gd(m, ds, etas[e], steps_of[e], sv, u0, &rec, dev[e])) != TDL_OK) goto cleanup;
        for (size_t a = 0; a < modes; a++) pred_dev[e][a] = first_order_deviation(sv[a], u0, etas[e]);
        if (e == 0 && opt->plot) {
            plot_n = rec.n;
            u_curve = tdl_malloc(plot_n * modes * sizeof(double), "a figure");
            if (!u_curve) { st = TDL_ENOMEM; goto cleanup; }
            memcpy(u_curve, rec.u, plot_n * modes * sizeof(double));
        }
    }

    pc_addf(res, "whitening_error", "max |X^T X / n - I|", white_err, 0.0, white_err <= 1e-12,
            "<= 1e-12 (construction)");
    pc_addf(res, "sigma_yx_error", "max |Y^T X / n - U S V^T| / s_1", syx_err, 0.0, syx_err <= 1e-12,
            "<= 1e-12 (construction)");
    for (size_t a = 0; a < modes; a++) {
        char key[48], label[112];
        snprintf(key, sizeof key, "mode%zu_max_dev", a + 1);
        snprintf(label, sizeof label, "mode %zu (s=%g): max_t |u_GD - u(t)|/s", a + 1, sv[a]);
        double tol = 1.25 * pred_dev[0][a];
        pc_addf(res, key, label, dev[0][a], pred_dev[0][a], dev[0][a] <= tol,
                "<= 1.25 x first-order lag D = %.3g (eta = %g)", tol, etas[0]);
    }
    if (n_eta > 1) {
        const size_t last = n_eta - 1;
        for (size_t a = 0; a < modes; a++) {
            double lx[SAXE_ETAS], ly[SAXE_ETAS];
            for (size_t e = 0; e < n_eta; e++) { lx[e] = etas[e]; ly[e] = dev[e][a]; }
            double slope = pc_loglog_slope(lx, ly, n_eta);
            char key[48], label[112];
            snprintf(key, sizeof key, "mode%zu_order", a + 1);
            snprintf(label, sizeof label, "mode %zu: log-log slope of the deviation vs eta (%g..%g)", a + 1,
                     etas[last], etas[0]);
            pc_addf(res, key, label, slope, 1.0, slope >= 0.9 && slope <= 1.1, "in [0.9, 1.1] (first order in eta)");
            double ratio = dev[last][a] / pred_dev[last][a];
            snprintf(key, sizeof key, "mode%zu_ratio", a + 1);
            snprintf(label, sizeof label, "mode %zu: measured / first-order D at eta = %g", a + 1, etas[last]);
            pc_addf(res, key, label, ratio, 1.0, ratio >= 0.95 && ratio <= 1.05, "in [0.95, 1.05] (remainder O(eta s) <= 0.4%%)");
        }
    }
    pc_setup(res, "whitened inputs X = sqrt(n) Q (n=%zu, d=%zu), targets Y = X W*^T with singular values "
             "%g..%g (k=%zu modes); linear net %zu-%zu-%zu without biases (identity activation), "
             "%s init along the singular vectors with u0 = %g; MSE (mean, 1/2); full-batch GD via "
             "tdl_train, t = step x eta (tau = 1), eta = %g%s; seed %lu",
             n, d, sv[0], sv[modes - 1], modes, d, h, k, opt->broken ? "UNBALANCED (a0 = 3 sqrt u0, b0 = sqrt u0 / 3)" : "balanced",
             u0, etas[0], n_eta > 1 ? " (and eta/2, eta/4 for the order of convergence)" : "", opt->seed);

    if (opt->plot) {
        /* Measured curves (subsampled points) and the closed forms (lines). */
        const size_t every = plot_n > 200 ? plot_n / 200 : 1, np = (plot_n + every - 1) / every;
        const size_t nl = 400;
        double *buf = tdl_malloc((2 * np + 2 * nl) * modes * sizeof(double), "a figure");
        plot_series *ser = tdl_calloc(2 * modes, sizeof(plot_series), "a figure");
        char (*titles)[64] = tdl_calloc(2 * modes, 64, "a figure");
        if (!buf || !ser || !titles) {
            free(buf); free(ser); free(titles);
            st = TDL_ENOMEM;
            goto cleanup;
        }
        for (size_t a = 0; a < modes; a++) {
            double *xm = buf + a * 2 * np, *ym = xm + np;
            double *xl = buf + 2 * np * modes + a * 2 * nl, *yl = xl + nl;
            for (size_t j = 0; j < np; j++) {
                xm[j] = (double)(j * every) * etas[0];
                ym[j] = u_curve[j * every * modes + a];
            }
            for (size_t j = 0; j < nl; j++) {
                xl[j] = t_end * (double)j / (double)(nl - 1);
                yl[j] = saxe_u(sv[a], u0, xl[j]);
            }
            snprintf(titles[2 * a], 64, "GD, s = %g", sv[a]);
            snprintf(titles[2 * a + 1], 64, "Saxe closed form, s = %g", sv[a]);
            ser[2 * a] = (plot_series){.title = titles[2 * a], .x = xm, .y = ym, .n = np, .style = PLOT_POINTS};
            ser[2 * a + 1] = (plot_series){.title = titles[2 * a + 1], .x = xl, .y = yl, .n = nl, .style = PLOT_LINES};
        }
        char cap[256];
        snprintf(cap, sizeof cap, "whitened Gaussian-QR inputs n=%zu d=%zu; linear %zu-%zu-%zu; GD eta=%g, t = k eta; %s init u0=%g; seed %lu",
                 n, d, d, h, k, etas[0], opt->broken ? "unbalanced" : "balanced", u0, opt->seed);
        plot_spec ps = {.title = "Two-layer linear net: mode strengths u_a(t)",
                        .xlabel = "t = step x eta (tau = 1)", .ylabel = "u_a = u_a^T W2 W1 v_a",
                        .caption = cap, .series = ser, .n_series = 2 * modes};
        st = plot_render(opt->plot, &ps);
        free(buf); free(ser); free(titles);
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "saxe-linear-dynamics: out of memory");
    gsl_rng_free(r);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
    free(Q); free(U); free(V); free(R); free(Wt); free(W); free(u_curve); free(rec.u);
    return st;
}

const pc_check pc_check_saxe_linear_dynamics = {
    "saxe-linear-dynamics",
    "A two-layer linear net trained from small balanced init on whitened inputs learns each singular mode s "
    "of Sigma_yx along u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0); GD at step eta follows it with t = k eta, tau = 1.",
    "Saxe, McClelland & Ganguli, Exact solutions to the nonlinear dynamics of learning in deep linear neural "
    "networks, ICLR 2014 (arXiv:1312.6120), sec. 1: gradient flow and the sigmoidal solution u_f(t)",
    "unbalanced initial weights (a0 = 3 sqrt(u0), b0 = sqrt(u0)/3, same product u0): the premise a = b fails",
    run,
    0,
    NULL,
    "its closed-form curves need whitened inputs (Sigma_xx = I) and initial weights aligned with the task's singular vectors: it builds such data itself",
    NULL,
};
