/* deep-linear-no-bad-minima — every local minimum of a deep linear net is
 * global; the origin is a strict saddle at depth 2 and a non-strict one at
 * depth >= 3.
 *
 * Claim.  For the square loss of a deep linear net f(x) = W_L ... W_1 x with
 * d_y <= d_x, Sigma_xx = X^T X / n and Sigma_yx = Y^T X / n of full rank and
 * Sigma = Sigma_yx Sigma_xx^{-1} Sigma_xy with distinct eigenvalues, every
 * local minimum is global and every other critical point is a saddle; at
 * depth 2 every saddle has a negative Hessian eigenvalue, at depth >= 3 there
 * are saddles whose Hessian has no negative eigenvalue (the origin).
 * Source: Baldi and Hornik, "Neural networks and principal component
 * analysis: learning from examples without local minima", Neural Networks 2
 * (1989) 53-58 (depth 2: the critical points are projections on
 * eigenvectors of Sigma, the top-r one is the unique minimum, the others are
 * saddles); Kawaguchi, "Deep learning without poor local minima", NeurIPS
 * 2016, Theorem 2.3 (any depth: every local minimum is global, every other
 * critical point is a saddle) and Corollary 2.4 (one hidden layer: every
 * saddle has a negative Hessian eigenvalue; deeper: saddles without one).
 *
 * Closed forms (mean loss L = (1/n) sum_i 1/2 ||W x_i - y_i||^2, tdl's MSE):
 *   L(W) = 1/2 tr(W Sxx W^T) - tr(W Sxy) + 1/2 tr(Syy).
 *   The global optimum over products of rank <= r (r = the narrowest hidden
 *   width; reduced-rank regression) is W* = P_r Syx Sxx^{-1}, P_r the
 *   projector on the top r eigenvectors of Sigma, and
 *   L* = 1/2 tr(Syy) - 1/2 (lambda_1 + ... + lambda_r)(Sigma)
 *   (computed with LAPACK eigen-solves, independent of gradient descent).
 *   Origin, depth 2 (W1: h x d, W2: k x h): L = L(0) - tr(W2 W1 Sxy) + O(4),
 *   so v^T H v = -2 tr(V2 V1 Sxy) = -2 sum_a v1_a^T Sxy v2_a over hidden units
 *   a (v1_a = row a of V1, v2_a = column a of V2): H is block diagonal with h
 *   blocks [[0, -Sxy], [-Syx, 0]], whose eigenvalues are +-sigma_i(Syx) and
 *   |d - k| zeros.  Predicted spectrum: +-sigma_i each h times, h |d - k|
 *   zeros; lambda_min = -sigma_1(Syx) < 0: a strict saddle.
 *   Origin, depth L >= 3: L = L(0) - tr(W_L ... W_1 Sxy) + O(2L) is of order
 *   L >= 3 in the weights, so H(0) = 0; yet along V_1 = e_1 v_1^T,
 *   V_l = e_1 e_1^T, V_L = u_1 e_1^T (top singular pair of Syx)
 *   L(tV) - L(0) = -t^L sigma_1 + t^{2L}/2 v_1^T Sxx v_1 < 0 for small t > 0:
 *   a saddle with no negative eigenvalue.
 *
 * Setup.  Regression data built in C (seeded): X Gaussian with column scales
 * 0.6..1.6, Y = X T^T + 0.3 noise, T = U diag(3, 2, 1, 0.5) V_4^T; d = 6,
 * k = 4; nets 6-3-4, 6-5-3-4, 6-5-4-3-4 (r = 3 < k: the bottleneck makes the
 * problem non-convex even in W), no biases, identity activation, Gaussian
 * init N(0, 1/fan_in) with seeds seed, seed+1, ...; full-batch GD (tdl_train)
 * at eta = 1 / lambda_max(H) of the balanced global minimum built from the
 * SVD of W* (half the stability threshold there), stopped when
 * L - L* <= 1e-7 L* or after the step budget.  quick: n = 100, 10 runs per
 * depth, budget 20,000 steps; full: n = 400, 30 runs per depth, budget 60,000.
 *
 * Passes when: every run reaches L - L* <= 1e-7 L* (a run stuck near a saddle
 * or a spurious minimum cannot); its end-to-end map is within 1e-3 of W*
 * (relative Frobenius; W* is unique since the eigenvalues are distinct);
 * the loss at the constructed balanced minimum equals L* (1e-12 relative) and
 * its Hessian has no eigenvalue below -1e-10 lambda_max; the depth-2 origin
 * spectrum equals the predicted +-sigma_i(Syx) list to 1e-10 sigma_1; the
 * depth-3 and depth-4 origin Hessians vanish (|lambda| <= 1e-12 sigma_1) and
 * the cubic / quartic descent L(tV) - L(0) at t = 0.3 matches its closed form
 * to 1e-10 relative and is negative.  Contrast (Kawaguchi Thm 2.3 (iv)): the
 * Baldi-Hornik critical point W = P_{1,2,4} Syx Sxx^{-1} (eigenvectors 1, 2
 * and 4 of Sigma instead of 1, 2, 3), factored with full-rank balanced
 * layers, has zero gradient (1e-10), loss (tr Syy - l1 - l2 - l4)/2 (1e-12)
 * and a negative Hessian eigenvalue (below -1e-6 lambda_max) at every depth:
 * only rank-deficient saddles such as the origin can be non-strict.
 * Broken setup: the step budget is 30 steps, so the runs stop far from L*.
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

#define DL_DEPTHS 3
#define DL_D 6
#define DL_K 4
#define DL_RANK 3
#define DL_MAX_RUNS 30

static const size_t dl_widths[DL_DEPTHS][6] = {
    {DL_D, 3, DL_K}, {DL_D, 5, 3, DL_K}, {DL_D, 5, 4, 3, DL_K},
};

/* The closed-form quantities of the data (see the header). */
typedef struct dl_problem {
    size_t n, d, k, r;
    double Sxx[DL_D * DL_D], Syx[DL_K * DL_D], trSyy;
    double Wstar[DL_K * DL_D];      /* rank-r optimum */
    double Lstar;
    double sing[DL_K];              /* singular values of Syx, descending */
    double u1[DL_K], v1[DL_D];      /* top singular pair of Syx */
    double sigma_eig[DL_K];         /* eigenvalues of Sigma, descending */
    double sigma_vec[DL_K * DL_K];  /* row j: unit eigenvector of sigma_eig[j] */
    double M[DL_K * DL_D];          /* least-squares map Syx Sxx^{-1} */
} dl_problem;

/* Symmetric eigen-decomposition of a small matrix (copied), values ascending. */
static int small_eigen(const double *A, size_t dim, tdl_sym_eigen *e)
{
    double *copy = tdl_malloc(dim * dim * sizeof(double), "a small matrix");
    if (!copy) return TDL_ENOMEM;
    memcpy(copy, A, dim * dim * sizeof(double));
    int st = tdl_sym_eigen_solve(copy, dim, 0, dim - 1, 1, e);
    free(copy);
    return st;
}

static int make_data(unsigned long seed, size_t n, tdl_dataset **out)
{
    const size_t d = DL_D, k = DL_K;
    static const double sv[DL_K] = {3, 2, 1, 0.5};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double U[DL_K * DL_K], V[DL_D * DL_D], T[DL_K * DL_D] = {0}, tau[DL_D];
    int st = TDL_OK;
    if (!r) return tdl_error_set(TDL_ENOMEM, "deep-linear-no-bad-minima: out of memory");
    gsl_rng_set(r, seed);
    /* Random orthogonal U, V: Q factors of Gaussian matrices. */
    for (size_t i = 0; i < k * k; i++) U[i] = gsl_ran_gaussian(r, 1.0);
    for (size_t i = 0; i < d * d; i++) V[i] = gsl_ran_gaussian(r, 1.0);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)k, (lapack_int)k, U, (lapack_int)k, tau);
    if (!info) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)k, (lapack_int)k, (lapack_int)k, U, (lapack_int)k, tau);
    if (!info) info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, V, (lapack_int)d, tau);
    if (!info) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, (lapack_int)d, V, (lapack_int)d, tau);
    if (info) { st = tdl_error_set(TDL_ENOCONV, "deep-linear-no-bad-minima: QR failed (info %d)", (int)info); goto done; }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < d; j++)
            for (size_t a = 0; a < k; a++) T[i * d + j] += U[i * k + a] * sv[a] * V[j * d + a];
    if ((st = tdl_dataset_create(n, d, 0, k, out)) != TDL_OK) goto done;
    for (size_t i = 0; i < n; i++) {
        double x[DL_D];
        for (size_t j = 0; j < d; j++) {
            x[j] = (0.6 + 0.2 * (double)j) * gsl_ran_gaussian(r, 1.0);
            gsl_matrix_set((*out)->X, i, j, x[j]);
        }
        for (size_t c = 0; c < k; c++) {
            double y = 0.3 * gsl_ran_gaussian(r, 1.0);
            for (size_t j = 0; j < d; j++) y += T[c * d + j] * x[j];
            gsl_matrix_set((*out)->Y, i, c, y);
        }
    }
done:
    gsl_rng_free(r);
    return st;
}

/* Moments, the reduced-rank optimum and the singular pairs of Syx. */
static int solve_problem(const tdl_dataset *ds, dl_problem *p)
{
    const size_t n = ds->n, d = DL_D, k = DL_K, r = DL_RANK;
    tdl_sym_eigen ex = {0}, es = {0}, ey = {0};
    double Sinv[DL_D * DL_D] = {0}, M[DL_K * DL_D] = {0}, Sig[DL_K * DL_K] = {0}, SS[DL_K * DL_K] = {0};
    int st;
    memset(p, 0, sizeof *p);
    p->n = n; p->d = d; p->k = k; p->r = r;
    for (size_t i = 0; i < n; i++) {
        const double *x = gsl_matrix_const_ptr(ds->X, i, 0), *y = gsl_matrix_const_ptr(ds->Y, i, 0);
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) p->Sxx[a * d + b] += x[a] * x[b] / (double)n;
        for (size_t c = 0; c < k; c++) {
            p->trSyy += y[c] * y[c] / (double)n;
            for (size_t b = 0; b < d; b++) p->Syx[c * d + b] += y[c] * x[b] / (double)n;
        }
    }
    /* Sxx^{-1} from its eigen-decomposition (Sxx is positive definite). */
    if ((st = small_eigen(p->Sxx, d, &ex)) != TDL_OK) goto cleanup;
    if (ex.values[0] <= 1e-12 * ex.values[d - 1]) { st = tdl_error_set(TDL_ENOCONV, "deep-linear-no-bad-minima: Sigma_xx is singular"); goto cleanup; }
    for (size_t j = 0; j < d; j++)
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) Sinv[a * d + b] += ex.vectors[j * d + a] * ex.vectors[j * d + b] / ex.values[j];
    /* M = Syx Sxx^{-1} (the least-squares map), Sigma = M Sxy. */
    for (size_t c = 0; c < k; c++)
        for (size_t b = 0; b < d; b++)
            for (size_t a = 0; a < d; a++) M[c * d + b] += p->Syx[c * d + a] * Sinv[a * d + b];
    for (size_t c = 0; c < k; c++)
        for (size_t e = 0; e < k; e++) {
            double s = 0, t = 0;
            for (size_t a = 0; a < d; a++) {
                s += M[c * d + a] * p->Syx[e * d + a];
                t += p->Syx[c * d + a] * p->Syx[e * d + a];
            }
            Sig[c * k + e] = s;
            SS[c * k + e] = t;
        }
    for (size_t c = 0; c < k; c++) /* exact symmetry: (Sig + Sig^T) / 2 */
        for (size_t e = c + 1; e < k; e++) Sig[c * k + e] = Sig[e * k + c] = 0.5 * (Sig[c * k + e] + Sig[e * k + c]);
    if ((st = small_eigen(Sig, k, &es)) != TDL_OK) goto cleanup;
    double top = 0;
    for (size_t j = 0; j < k; j++) {
        p->sigma_eig[j] = es.values[k - 1 - j];
        memcpy(p->sigma_vec + j * k, es.vectors + (k - 1 - j) * k, k * sizeof(double));
    }
    memcpy(p->M, M, sizeof M);
    for (size_t j = 0; j < r; j++) top += p->sigma_eig[j];
    p->Lstar = 0.5 * p->trSyy - 0.5 * top;
    /* W* = P_r M, P_r = sum of the top r eigenvector outer products. */
    for (size_t j = k - r; j < k; j++) {
        const double *q = es.vectors + j * k;
        for (size_t c = 0; c < k; c++)
            for (size_t b = 0; b < d; b++) {
                double s = 0;
                for (size_t e = 0; e < k; e++) s += q[e] * M[e * d + b];
                p->Wstar[c * d + b] += q[c] * s;
            }
    }
    /* Singular values of Syx: square roots of the eigenvalues of Syx Sxy. */
    if ((st = small_eigen(SS, k, &ey)) != TDL_OK) goto cleanup;
    for (size_t j = 0; j < k; j++) p->sing[j] = sqrt(fmax(ey.values[k - 1 - j], 0.0));
    for (size_t c = 0; c < k; c++) p->u1[c] = ey.vectors[(k - 1) * k + c];
    for (size_t b = 0; b < d; b++) {
        double s = 0;
        for (size_t c = 0; c < k; c++) s += p->Syx[c * d + b] * p->u1[c];
        p->v1[b] = s / p->sing[0];
    }
cleanup:
    tdl_sym_eigen_free(&ex);
    tdl_sym_eigen_free(&es);
    tdl_sym_eigen_free(&ey);
    return st;
}

static int make_net(size_t depth, unsigned long seed, tdl_mlp **m)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    cfg.depth = depth;
    for (size_t l = 0; l <= depth; l++) cfg.widths[l] = dl_widths[depth - 2][l];
    cfg.act.kind = TDL_ACT_IDENTITY;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.0;
    cfg.bias = 0;
    cfg.seed = seed;
    return tdl_mlp_create(&cfg, m);
}

/* End-to-end map W_L ... W_1 (k x d) of a net without biases. */
static void end_to_end(const tdl_mlp *m, double *W)
{
    double A[64 * DL_D], B[64 * DL_D];
    const tdl_layer *L0 = &m->layers[0];
    memcpy(A, m->theta + L0->w_off, L0->out * L0->in * sizeof(double));
    for (size_t l = 1; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L->out, DL_D, (int)L->in, 1.0,
                    m->theta + L->w_off, (int)L->in, A, DL_D, 0.0, B, DL_D);
        memcpy(A, B, L->out * DL_D * sizeof(double));
    }
    memcpy(W, A, DL_K * DL_D * sizeof(double));
}

static int mean_loss(const tdl_mlp *m, const tdl_dataset *ds, double *loss)
{
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, ds->n, &w);
    if (st == TDL_OK) st = tdl_mlp_loss_grad(m, TDL_LOSS_MSE, ds, w, loss, NULL);
    tdl_net_work_free(&w);
    return st;
}

/* W_I = P_I M: the least-squares map projected on the eigenvectors of Sigma
 * listed in idx (r of them).  idx = {0, 1, 2} is W*; any other set gives a
 * saddle (Baldi and Hornik 1989). */
static void projected_map(const dl_problem *p, const size_t *idx, double *W)
{
    const size_t d = DL_D, k = DL_K;
    memset(W, 0, k * d * sizeof(double));
    for (size_t q = 0; q < DL_RANK; q++) {
        const double *e = p->sigma_vec + idx[q] * k;
        for (size_t c = 0; c < k; c++)
            for (size_t b = 0; b < d; b++) {
                double s = 0;
                for (size_t a = 0; a < k; a++) s += e[a] * p->M[a * d + b];
                W[c * d + b] += e[c] * s;
            }
    }
}

/* Set theta to the balanced factorization of W = U S V^T (rank r): the
 * first layer S^{1/L} V^T, middle layers S^{1/L} on the top-left r x r block,
 * the last U S^{1/L}; zero elsewhere.  Its end-to-end map is W and its
 * hidden products have full rank r. */
static int balanced_factorization(tdl_mlp *m, const double *Wmap)
{
    const size_t d = DL_D, k = DL_K, r = DL_RANK, L = m->depth;
    double WWt[DL_K * DL_K] = {0};
    tdl_sym_eigen e = {0};
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            for (size_t j = 0; j < d; j++) WWt[a * k + b] += Wmap[a * d + j] * Wmap[b * d + j];
    int st = small_eigen(WWt, k, &e);
    if (st != TDL_OK) return st;
    memset(m->theta, 0, m->n_params * sizeof(double));
    for (size_t q = 0; q < r; q++) {
        const size_t j = k - 1 - q;            /* q-th largest singular value */
        const double s = sqrt(fmax(e.values[j], 0.0)), sl = pow(s, 1.0 / (double)L);
        const double *u = e.vectors + j * k;
        double v[DL_D];
        for (size_t b = 0; b < d; b++) {
            double t = 0;
            for (size_t a = 0; a < k; a++) t += u[a] * Wmap[a * d + b];
            v[b] = t / s;
        }
        const tdl_layer *F = &m->layers[0], *Z = &m->layers[L - 1];
        for (size_t b = 0; b < d; b++) m->theta[F->w_off + q * F->in + b] = sl * v[b];
        for (size_t l = 1; l + 1 < L; l++) {
            const tdl_layer *Mid = &m->layers[l];
            m->theta[Mid->w_off + q * Mid->in + q] = sl;
        }
        for (size_t a = 0; a < k; a++) m->theta[Z->w_off + a * Z->in + q] = sl * u[a];
    }
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

/* ||grad L|| at m->theta. */
static int grad_norm(const tdl_mlp *m, const tdl_dataset *ds, double *norm)
{
    tdl_net_work *w = NULL;
    double loss, *g = tdl_malloc(m->n_params * sizeof(double), "a gradient");
    if (!g) return TDL_ENOMEM;
    int st = tdl_net_work_alloc(m, ds->n, &w);
    if (st == TDL_OK) st = tdl_mlp_loss_grad(m, TDL_LOSS_MSE, ds, w, &loss, g);
    tdl_net_work_free(&w);
    double s = 0;
    for (size_t i = 0; i < m->n_params; i++) s += g[i] * g[i];
    free(g);
    *norm = sqrt(s);
    return st;
}

/* Extreme eigenvalues of the dense Hessian at m->theta; the full ascending
 * spectrum is left in *eig. */
static int hessian_spectrum(const tdl_mlp *m, const tdl_dataset *ds, tdl_sym_eigen *eig)
{
    const size_t P = m->n_params;
    double *H = tdl_malloc(P * P * sizeof(double), "a Hessian");
    if (!H) return TDL_ENOMEM;
    int st = tdl_hessian_dense(m, TDL_LOSS_MSE, ds, 0, P, H, NULL);
    if (st == TDL_OK) st = tdl_sym_eigen_solve(H, P, 0, P - 1, 0, eig);
    free(H);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct dl_curve {
    double *loss;       /* sampled excess loss (L - L*) / L* */
    size_t n, cap, stride;
    double Lstar;
} dl_curve;

static int record(const tdl_train_progress *p, void *user)
{
    dl_curve *c = user;
    if ((p->step % c->stride) == 0 && c->n < c->cap) c->loss[c->n++] = (p->loss - c->Lstar) / c->Lstar;
    return 0;
}

static int run(const pc_options *opt, pc_result *res)
{
    const int quick = opt->quick;
    const size_t n = quick ? 100 : 400, runs = quick ? 10 : DL_MAX_RUNS;
    const size_t budget = opt->broken ? 30 : (quick ? 20000 : 60000);
    const double target_rel = 1e-7;
    const size_t stride = quick ? 20 : 50, cap = budget / stride + 2;
    int st = TDL_OK;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_sym_eigen eig = {0};
    dl_problem pb;
    dl_curve *curves = tdl_calloc(DL_DEPTHS * runs, sizeof(dl_curve), "loss curves");
    if (!curves) return tdl_error_set(TDL_ENOMEM, "deep-linear-no-bad-minima: out of memory");
    if ((st = make_data(opt->seed, n, &ds)) != TDL_OK) goto cleanup;
    if ((st = solve_problem(ds, &pb)) != TDL_OK) goto cleanup;
    if (pb.sigma_eig[DL_RANK - 1] <= 1.01 * pb.sigma_eig[DL_RANK]) {
        st = tdl_error_set(TDL_EINVAL, "deep-linear-no-bad-minima: eigenvalues %d and %d of Sigma are not distinct", DL_RANK, DL_RANK + 1);
        goto cleanup;
    }
    const double sig1 = pb.sing[0];
    double wnorm = 0;
    for (size_t i = 0; i < DL_K * DL_D; i++) wnorm += pb.Wstar[i] * pb.Wstar[i];
    wnorm = sqrt(wnorm);

    size_t total_steps = 0;
    double eta_of[DL_DEPTHS];
    for (size_t di = 0; di < DL_DEPTHS; di++) {
        const size_t depth = di + 2;
        char key[48], label[112];
        /* The balanced global minimum: loss, Hessian, step size. */
        if ((st = make_net(depth, opt->seed, &m)) != TDL_OK) goto cleanup;
        if ((st = balanced_factorization(m, pb.Wstar)) != TDL_OK) goto cleanup;
        double Lbal;
        if ((st = mean_loss(m, ds, &Lbal)) != TDL_OK) goto cleanup;
        if ((st = hessian_spectrum(m, ds, &eig)) != TDL_OK) goto cleanup;
        const double lmax = eig.values[eig.count - 1], lmin = eig.values[0];
        tdl_sym_eigen_free(&eig);
        tdl_mlp_free(&m);
        const double eta = 1.0 / lmax;
        eta_of[di] = eta;
        snprintf(key, sizeof key, "depth%zu_balanced_loss", depth);
        snprintf(label, sizeof label, "depth %zu: L at the balanced factorization of W*", depth);
        pc_addf(res, key, label, Lbal, pb.Lstar, fabs(Lbal - pb.Lstar) <= 1e-12 * pb.Lstar, "= L* within 1e-12 relative");
        snprintf(key, sizeof key, "depth%zu_balanced_lambda_min", depth);
        snprintf(label, sizeof label, "depth %zu: lambda_min(H) / lambda_max(H) there", depth);
        pc_addf(res, key, label, lmin / lmax, 0.0, lmin >= -1e-10 * lmax, ">= -1e-10 (PSD: a minimum)");

        /* Random-init GD runs. */
        double worst_excess = 0, worst_map = 0;
        size_t reached = 0;
        for (size_t ri = 0; ri < runs; ri++) {
            dl_curve *c = &curves[di * runs + ri];
            c->cap = cap;
            c->stride = stride;
            c->Lstar = pb.Lstar;
            c->loss = tdl_malloc(cap * sizeof(double), "a loss curve");
            if (!c->loss) { st = TDL_ENOMEM; goto cleanup; }
            if ((st = make_net(depth, opt->seed + 1000 * depth + ri, &m)) != TDL_OK) goto cleanup;
            double L0;
            if ((st = mean_loss(m, ds, &L0)) != TDL_OK) goto cleanup;
            c->loss[c->n++] = (L0 - pb.Lstar) / pb.Lstar;
            tdl_train_config tc = pc_gd_config(TDL_LOSS_MSE, eta, budget, 1);
            tc.target_loss = pb.Lstar * (1.0 + target_rel);
            tc.callback = record;
            tc.user = c;
            tdl_train_result tr;
            st = tdl_train(m, ds, &tc, &tr);
            double excess = INFINITY;
            if (st == TDL_EDIVERGED) {
                st = TDL_OK;
            } else if (st != TDL_OK) {
                goto cleanup;
            } else {
                excess = (tr.loss - pb.Lstar) / pb.Lstar;
                if (c->n < c->cap && tr.steps % stride) c->loss[c->n++] = excess;
            }
            total_steps += tr.steps;
            double W[DL_K * DL_D], err = 0;
            end_to_end(m, W);
            for (size_t i = 0; i < DL_K * DL_D; i++) err += (W[i] - pb.Wstar[i]) * (W[i] - pb.Wstar[i]);
            err = sqrt(err) / wnorm;
            worst_excess = fmax(worst_excess, excess);
            worst_map = fmax(worst_map, err);
            reached += excess <= target_rel;
            tdl_mlp_free(&m);
        }
        snprintf(key, sizeof key, "depth%zu_reached", depth);
        snprintf(label, sizeof label, "depth %zu (%zu-...-%zu): runs with L - L* <= 1e-7 L*", depth, (size_t)DL_D, (size_t)DL_K);
        pc_addf(res, key, label, (double)reached, (double)runs, reached == runs, "all %zu runs, eta = %.3g, <= %zu steps", runs, eta, budget);
        snprintf(key, sizeof key, "depth%zu_worst_excess", depth);
        snprintf(label, sizeof label, "depth %zu: worst (L_final - L*) / L*", depth);
        pc_addf(res, key, label, worst_excess, 0.0, worst_excess <= target_rel, "<= 1e-7");
        snprintf(key, sizeof key, "depth%zu_worst_map_error", depth);
        snprintf(label, sizeof label, "depth %zu: worst ||W_L..W_1 - W*||_F / ||W*||_F", depth);
        pc_addf(res, key, label, worst_map, 0.0, worst_map <= 1e-3, "<= 1e-3");
    }

    /* Saddles with full-rank factors: W_I = P_{1,2,4} M (Baldi-Hornik critical
     * point on eigenvectors 1, 2 and 4 of Sigma), balanced factorization.
     * Kawaguchi Thm 2.3 (iv): rank(W_L ... W_2) = p = 3, so the Hessian must
     * have a negative eigenvalue at every depth. */
    {
        static const size_t idx[DL_RANK] = {0, 1, 3};
        double Wsad[DL_K * DL_D], syx_norm = 0;
        for (size_t i = 0; i < DL_K * DL_D; i++) syx_norm += pb.Syx[i] * pb.Syx[i];
        syx_norm = sqrt(syx_norm);
        projected_map(&pb, idx, Wsad);
        const double Lsad = 0.5 * pb.trSyy - 0.5 * (pb.sigma_eig[0] + pb.sigma_eig[1] + pb.sigma_eig[3]);
        for (size_t depth = 2; depth <= 4; depth++) {
            char key[48], label[112];
            if ((st = make_net(depth, opt->seed, &m)) != TDL_OK) goto cleanup;
            if ((st = balanced_factorization(m, Wsad)) != TDL_OK) goto cleanup;
            double Ls, gn;
            if ((st = mean_loss(m, ds, &Ls)) != TDL_OK) goto cleanup;
            if ((st = grad_norm(m, ds, &gn)) != TDL_OK) goto cleanup;
            if ((st = hessian_spectrum(m, ds, &eig)) != TDL_OK) goto cleanup;
            const double smin = eig.values[0], smax = eig.values[eig.count - 1];
            tdl_sym_eigen_free(&eig);
            tdl_mlp_free(&m);
            snprintf(key, sizeof key, "depth%zu_saddle124_grad", depth);
            snprintf(label, sizeof label, "depth %zu saddle P_{1,2,4}: ||grad L|| / ||Syx||_F", depth);
            pc_addf(res, key, label, gn / syx_norm, 0.0, gn <= 1e-10 * syx_norm, "<= 1e-10 (a critical point)");
            snprintf(key, sizeof key, "depth%zu_saddle124_loss", depth);
            snprintf(label, sizeof label, "depth %zu saddle P_{1,2,4}: L", depth);
            pc_addf(res, key, label, Ls, Lsad, fabs(Ls - Lsad) <= 1e-12 * Lsad, "= (trSyy - l1 - l2 - l4)/2 (1e-12)");
            snprintf(key, sizeof key, "depth%zu_saddle124_lambda_min", depth);
            snprintf(label, sizeof label, "depth %zu saddle P_{1,2,4}: lambda_min(H) / lambda_max(H)", depth);
            pc_addf(res, key, label, smin / smax, NAN, smin < -1e-6 * smax, "< -1e-6 (strict: Kawaguchi Thm 2.3 (iv))");
        }
    }

    /* Hessians at the origin. */
    for (size_t depth = 2; depth <= 4; depth++) {
        char key[48], label[112];
        if ((st = make_net(depth, opt->seed, &m)) != TDL_OK) goto cleanup;
        memset(m->theta, 0, m->n_params * sizeof(double));
        double L0;
        if ((st = mean_loss(m, ds, &L0)) != TDL_OK) goto cleanup;
        if ((st = hessian_spectrum(m, ds, &eig)) != TDL_OK) goto cleanup;
        const size_t P = m->n_params;
        if (depth == 2) {
            const size_t h = dl_widths[0][1];
            double *pred = tdl_malloc(P * sizeof(double), "the predicted spectrum");
            if (!pred) { st = TDL_ENOMEM; goto cleanup; }
            size_t q = 0;
            for (size_t a = 0; a < h; a++) {
                for (size_t i = 0; i < DL_K; i++) { pred[q++] = pb.sing[i]; pred[q++] = -pb.sing[i]; }
                for (size_t i = 0; i < DL_D - DL_K; i++) pred[q++] = 0.0;
            }
            qsort(pred, P, sizeof(double), cmp_double);
            double dev = 0;
            for (size_t i = 0; i < P; i++) dev = fmax(dev, fabs(eig.values[i] - pred[i]));
            free(pred);
            pc_addf(res, "depth2_origin_lambda_min", "depth 2 origin: lambda_min(H(0))", eig.values[0], -sig1,
                    eig.values[0] < 0 && fabs(eig.values[0] + sig1) <= 1e-10 * sig1, "= -sigma_1(Syx) < 0 (strict saddle)");
            pc_addf(res, "depth2_origin_spectrum_error", "depth 2 origin: max |lambda_i - (+-sigma_j(Syx), 0)| / sigma_1",
                    dev / sig1, 0.0, dev <= 1e-10 * sig1, "<= 1e-10 (all %zu eigenvalues)", P);
        } else {
            double amax = fmax(fabs(eig.values[0]), fabs(eig.values[P - 1]));
            snprintf(key, sizeof key, "depth%zu_origin_max_abs_eig", depth);
            snprintf(label, sizeof label, "depth %zu origin: max |lambda(H(0))| / sigma_1(Syx)", depth);
            pc_addf(res, key, label, amax / sig1, 0.0, amax <= 1e-12 * sig1, "<= 1e-12 (no negative eigenvalue)");
        }
        tdl_sym_eigen_free(&eig);
        /* Descent along the top singular direction: L(tV) - L(0) < 0. */
        const double t = 0.3;
        for (size_t l = 0; l < depth; l++) {
            const tdl_layer *Ly = &m->layers[l];
            double *Wl = m->theta + Ly->w_off;
            if (l == 0)
                for (size_t b = 0; b < DL_D; b++) Wl[b] = t * pb.v1[b];
            else if (l + 1 == depth)
                for (size_t a = 0; a < DL_K; a++) Wl[a * Ly->in] = t * pb.u1[a];
            else
                Wl[0] = t;
        }
        double Lt, v1Sv1 = 0;
        if ((st = mean_loss(m, ds, &Lt)) != TDL_OK) goto cleanup;
        for (size_t a = 0; a < DL_D; a++)
            for (size_t b = 0; b < DL_D; b++) v1Sv1 += pb.v1[a] * pb.Sxx[a * DL_D + b] * pb.v1[b];
        const double tL = pow(t, (double)depth);
        const double pred_drop = -tL * sig1 + 0.5 * tL * tL * v1Sv1;
        snprintf(key, sizeof key, "depth%zu_origin_descent", depth);
        snprintf(label, sizeof label, "depth %zu origin: L(tV) - L(0), t = %.1f, top singular path", depth, t);
        pc_addf(res, key, label, Lt - L0, pred_drop, Lt - L0 < 0 && fabs(Lt - L0 - pred_drop) <= 1e-10 * fabs(pred_drop),
                "< 0 and = -t^%zu s1 + t^%zu v1'Sxx v1/2 (1e-10)", depth, 2 * depth);
        tdl_mlp_free(&m);
    }
    pc_add(res, "lstar", "L* (reduced-rank optimum, closed form)", pb.Lstar, NAN, -1, "");
    pc_add(res, "sigma_gap", "lambda_3(Sigma) / lambda_4(Sigma)", pb.sigma_eig[2] / pb.sigma_eig[3], NAN, -1, "");
    pc_add(res, "gd_steps", "GD steps over all runs", (double)total_steps, NAN, -1, "");
    pc_setup(res, "regression data built in C: n=%zu, d=%d, k=%d outputs, X Gaussian with column scales 0.6..1.6, "
             "Y = X T^T + 0.3 noise, T with singular values 3, 2, 1, 0.5 (seed %lu); deep linear nets 6-3-4, 6-5-3-4, "
             "6-5-4-3-4 (rank <= 3 < k), no biases, identity activation, init N(0, 1/fan_in), %zu runs per depth "
             "(seeds %lu + 1000 depth + run); MSE (mean, 1/2); full-batch GD (tdl_train) at eta = 1/lambda_max(H) of "
             "the balanced minimum (%.3g, %.3g, %.3g), stopped at L - L* <= 1e-7 L* or after %zu steps; L* = %.10g in "
             "closed form (reduced-rank regression); Hessians by tdl_hessian_dense",
             n, DL_D, DL_K, opt->seed, runs, opt->seed, eta_of[0], eta_of[1], eta_of[2], budget, pb.Lstar);

    if (opt->plot) {
        const size_t ns = DL_DEPTHS * runs + 1;
        plot_series *ser = tdl_calloc(ns, sizeof(plot_series), "a figure");
        double *xs = tdl_malloc(cap * sizeof(double), "a figure");
        size_t longest = 1;
        for (size_t i = 0; i < DL_DEPTHS * runs; i++) longest = curves[i].n > longest ? curves[i].n : longest;
        double tolx[2] = {0, (double)((longest - 1) * stride)}, toly[2] = {target_rel, target_rel};
        char titles[DL_DEPTHS][64];
        if (!ser || !xs) {
            free(ser); free(xs);
            st = TDL_ENOMEM;
            goto cleanup;
        }
        for (size_t j = 0; j < cap; j++) xs[j] = (double)(j * stride);
        for (size_t di = 0; di < DL_DEPTHS; di++) {
            snprintf(titles[di], sizeof titles[di], "depth %zu (%zu runs)", di + 2, runs);
            for (size_t ri = 0; ri < runs; ri++) {
                dl_curve *c = &curves[di * runs + ri];
                for (size_t j = 0; j < c->n; j++) c->loss[j] = fmax(c->loss[j], 1e-9);
                ser[di * runs + ri] = (plot_series){.title = ri == 0 ? titles[di] : "", .x = xs, .y = c->loss,
                                                    .n = c->n, .style = PLOT_LINES};
            }
        }
        ser[ns - 1] = (plot_series){.title = "target 1e-7 (L at the global optimum)", .x = tolx, .y = toly, .n = 2, .style = PLOT_LINES};
        char cap_text[256];
        snprintf(cap_text, sizeof cap_text, "synthetic regression n=%zu d=%d k=%d; deep linear nets depth 2-4, bottleneck 3; "
                 "full-batch GD from N(0,1/fan_in) inits; L* in closed form; seed %lu", n, DL_D, DL_K, opt->seed);
        plot_spec ps = {.title = "Deep linear nets: every GD run reaches the global optimum",
                        .xlabel = "GD step", .ylabel = "(L - L*) / L*", .caption = cap_text, .logy = 1,
                        .ymin = 1e-9, .series = ser, .n_series = ns};
        st = plot_render(opt->plot, &ps);
        free(ser);
        free(xs);
    }

cleanup:
    if (st == TDL_ENOMEM) st = tdl_error_set(TDL_ENOMEM, "deep-linear-no-bad-minima: out of memory");
    for (size_t i = 0; i < DL_DEPTHS * runs; i++) free(curves[i].loss);
    free(curves);
    tdl_sym_eigen_free(&eig);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    return st;
}

const pc_check pc_check_deep_linear_no_bad_minima = {
    "deep-linear-no-bad-minima",
    "Deep linear nets have no spurious local minima: GD from random inits reaches the global (reduced-rank "
    "least-squares) optimum at every depth; the origin is a strict saddle at depth 2 (eigenvalues +-sigma_i(Sigma_yx)) "
    "and a saddle with an all-zero Hessian at depth >= 3.",
    "Baldi & Hornik, Neural Networks 2 (1989) 53-58; Kawaguchi, Deep learning without poor local minima, "
    "NeurIPS 2016, Theorem 2.3 and Corollary 2.4",
    "a budget of 30 GD steps per run, so the runs stop far from the optimum",
    run,
};
