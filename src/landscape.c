/* landscape.c — loss-landscape slices and mode connectivity (tdl/landscape.h).
 *
 * Shape legend: P parameters; K <= 3 basis vectors B_k (P each); a block of
 * nb examples X_b (nb x d); layer 0 has h = n_1 units; C outputs.
 *   XW[k]  = s_0 X_b W0_k^T                       nb x h  (one dgemm per k and block)
 *   Z_0    = sum_k c_k XW[k] + t_0 1 (sum_k c_k b0_k)^T   (cell's pre-activations)
 *   Z_l    = s_l phi(Z_{l-1}) W_l(cell)^T + t_l 1 b_l(cell)^T,  l >= 1
 * With c = (1, 0, 0) every step reproduces tdl_mlp_forward bit for bit
 * (1 x = x and x + 0 = x), so a grid's centre and an interpolation's
 * endpoints give the models' own losses.
 */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/landscape.h"
#include "tdl/memory.h"
#include "tdl/stats.h"
#include "tdl/hessian.h"
#include "tdl/spectral.h"
#include "internal.h"
#include "landscape_internal.h"
#include "net_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS extensions: BLAS runs single-threaded inside our parallel loop. */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

/* ---- directions ---------------------------------------------------------- */

const tdl_name tdl_dir_norm_names[] = {
    {"filter", TDL_NORM_FILTER}, {"layer", TDL_NORM_LAYER}, {"none", TDL_NORM_NONE}, {NULL, 0}};
const tdl_name tdl_bias_mode_names[] = {{"ignore", TDL_BIAS_IGNORE}, {"normalize", TDL_BIAS_NORMALIZE}, {NULL, 0}};
const tdl_name tdl_plane_names[] = {
    {"random", TDL_PLANE_RANDOM}, {"hessian", TDL_PLANE_HESSIAN}, {"models", TDL_PLANE_MODELS}, {"pca", TDL_PLANE_PCA},
    {NULL, 0}};
const tdl_name tdl_curve_names[] = {
    {"line", TDL_CURVE_LINE}, {"bezier", TDL_CURVE_BEZIER}, {"chain", TDL_CURVE_CHAIN}, {NULL, 0}};

static const char *name_or_mark(const tdl_name *table, int value)
{
    const char *n = tdl_name_of(table, value);
    return n ? n : "?";
}

int tdl_dir_norm_parse(const char *text, tdl_dir_norm *out)
{
    int v;
    int st = tdl_name_lookup(tdl_dir_norm_names, "direction normalization", text, &v);
    if (st == TDL_OK) *out = (tdl_dir_norm)v;
    return st;
}

const char *tdl_dir_norm_name(tdl_dir_norm n) { return name_or_mark(tdl_dir_norm_names, (int)n); }

/* Li et al. 2018, sec. 4, "filter-wise normalization": d_r <- d_r ||w_r|| / (||d_r|| + 1e-10). */
void tdl_direction_normalize(const tdl_mlp *m, const double *theta, tdl_dir_norm norm, tdl_bias_mode bias,
                             double *d)
{
    const double eps = 1e-10;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        double *D = d + L->w_off, *Db = L->has_bias ? d + L->b_off : NULL;
        const double *W = theta + L->w_off, *Wb = L->has_bias ? theta + L->b_off : NULL;
        int with_bias = Db && bias == TDL_BIAS_NORMALIZE;
        if (Db && bias == TDL_BIAS_IGNORE) memset(Db, 0, L->out * sizeof(double));
        if (norm == TDL_NORM_FILTER) {
            for (size_t r = 0; r < L->out; r++) {
                double dn = cblas_ddot((int)L->in, D + r * L->in, 1, D + r * L->in, 1);
                double wn = cblas_ddot((int)L->in, W + r * L->in, 1, W + r * L->in, 1);
                if (with_bias) {
                    dn += Db[r] * Db[r];
                    wn += Wb[r] * Wb[r];
                }
                double s = sqrt(wn) / (sqrt(dn) + eps);
                cblas_dscal((int)L->in, s, D + r * L->in, 1);
                if (with_bias) Db[r] *= s;
            }
        } else if (norm == TDL_NORM_LAYER) {
            size_t nw = L->in * L->out;
            double dn = cblas_ddot((int)nw, D, 1, D, 1), wn = cblas_ddot((int)nw, W, 1, W, 1);
            if (with_bias) {
                dn += cblas_ddot((int)L->out, Db, 1, Db, 1);
                wn += cblas_ddot((int)L->out, Wb, 1, Wb, 1);
            }
            double s = sqrt(wn) / (sqrt(dn) + eps);
            cblas_dscal((int)nw, s, D, 1);
            if (with_bias) cblas_dscal((int)L->out, s, Db, 1);
        }
    }
}

int tdl_direction_random(const tdl_mlp *m, unsigned long seed, tdl_dir_norm norm, tdl_bias_mode bias, double *d)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return tdl_fail(TDL_ENOMEM, "out of memory for a random number generator");
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < m->n_params; i++) d[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    gsl_rng_free(r);
    tdl_direction_normalize(m, m->theta, norm, bias, d);
    return TDL_OK;
}

double tdl_direction_cosine(const double *a, const double *b, size_t P)
{
    double na = cblas_dnrm2((int)P, a, 1), nb = cblas_dnrm2((int)P, b, 1);
    if (na == 0 || nb == 0) return NAN;
    return cblas_ddot((int)P, a, 1, b, 1) / (na * nb);
}

/* Sign convention: the entry of largest magnitude is positive. */
static void fix_sign(double *v, size_t P)
{
    size_t i = (size_t)cblas_idamax((int)P, v, 1);
    if (v[i] < 0) cblas_dscal((int)P, -1.0, v, 1);
}

int tdl_direction_hessian(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, unsigned long seed,
                          double *v1, double *v2, double values[2], double residuals[2])
{
    const size_t P = m->n_params;
    if (P < 2) return tdl_fail(TDL_EINVAL, "a Hessian plane needs at least 2 parameters");
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    tdl_hessian_operator *op = NULL;
    if ((st = tdl_hessian_operator_create(m, loss, ds, 0, &op)) != TDL_OK) return st;
    tdl_lanczos_result lr;
    st = tdl_lanczos(tdl_hessian_operator_apply, op, P, 2, TDL_WHICH_LARGEST, 0, 0, seed,
                     TDL_LANCZOS_VECTORS | TDL_LANCZOS_MULTIPLICITY, &lr);
    tdl_hessian_operator_free(&op);
    if (st != TDL_OK) return st;
    /* vectors: P x k row-major, column j <-> values[j] ascending */
    for (size_t i = 0; i < P; i++) {
        v1[i] = lr.vectors[i * lr.k + lr.k - 1];
        v2[i] = lr.vectors[i * lr.k + lr.k - 2];
    }
    values[0] = lr.values[lr.k - 1];
    values[1] = lr.values[lr.k - 2];
    if (residuals) {
        residuals[0] = lr.residuals ? lr.residuals[lr.k - 1] : NAN;
        residuals[1] = lr.residuals ? lr.residuals[lr.k - 2] : NAN;
    }
    tdl_lanczos_result_free(&lr);
    fix_sign(v1, P);
    fix_sign(v2, P);
    return TDL_OK;
}

/* PCA by the K x K Gram matrix of the centred rows (K << P):
 * Mc Mc^T = U S^2 U^T, components v_j = Mc^T u_j / s_j. */
int tdl_direction_pca(const double *T, size_t K, size_t P, const double *theta_c, double *v1, double *v2,
                      double ratio[2], double *coords)
{
    if (K < 3) return tdl_fail(TDL_EINVAL, "a PCA plane needs at least 3 snapshots of the trajectory (got %zu)", K);
    size_t bytes;
    if (tdl_mul_size(K, P, &bytes) || tdl_mul_size(bytes, sizeof(double), &bytes))
        return tdl_fail(TDL_ETOOBIG, "a trajectory of %zu x %zu parameters is too large", K, P);
    int st = TDL_OK;
    double *M = tdl_malloc(bytes, "the trajectory"), *Mc = tdl_malloc(bytes, "the centred trajectory");
    double *G = tdl_malloc(K * K * sizeof(double), "the trajectory's Gram matrix");
    double *mean = tdl_calloc(P, sizeof(double), "the trajectory's mean");
    tdl_sym_eigen e = {0};
    if (!M || !Mc || !G || !mean) { st = TDL_ENOMEM; goto cleanup; }
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < P; j++) {
            double v = T[i * P + j] - theta_c[j];
            if (!isfinite(v)) { st = tdl_fail(TDL_ENONFINITE, "snapshot %zu of the trajectory is not finite", i); goto cleanup; }
            M[i * P + j] = v;
            mean[j] += v / (double)K;
        }
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < P; j++) Mc[i * P + j] = M[i * P + j] - mean[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)K, (int)K, (int)P, 1.0, Mc, (int)P, Mc, (int)P, 0.0, G,
                (int)K);
    double total = 0;
    for (size_t i = 0; i < K; i++) total += G[i * K + i];
    if ((st = tdl_sym_eigen_solve(G, K, K - 2, K - 1, 1, &e)) != TDL_OK) goto cleanup;
    /* e.values ascending: [K-2] second, [K-1] top; rows of e.vectors are u_j */
    double lam1 = e.values[1], lam2 = e.values[0];
    /* below K eps total the second component is rounding noise */
    if (!(total > 0) || lam2 <= (double)K * DBL_EPSILON * total) {
        st = tdl_fail(TDL_EINVAL, "the trajectory spans fewer than two dimensions (second variance %.3g of %.3g)", lam2, total);
        goto cleanup;
    }
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)K, (int)P, 1.0 / sqrt(lam1), Mc, (int)P, e.vectors + K, 1, 0.0, v1, 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)K, (int)P, 1.0 / sqrt(lam2), Mc, (int)P, e.vectors, 1, 0.0, v2, 1);
    fix_sign(v1, P);
    fix_sign(v2, P);
    ratio[0] = lam1 / total;
    ratio[1] = lam2 / total;
    if (coords)
        for (size_t i = 0; i < K; i++) {
            coords[2 * i] = cblas_ddot((int)P, M + i * P, 1, v1, 1);
            coords[2 * i + 1] = cblas_ddot((int)P, M + i * P, 1, v2, 1);
        }
cleanup:
    tdl_sym_eigen_free(&e);
    free(M);
    free(Mc);
    free(G);
    free(mean);
    return st;
}

/* ---- arrays read back from files ---------------------------------------------- */

/* "(5, 5)" for a shape. */
static void shape_text(char *out, size_t len, size_t ndim, const size_t *shape)
{
    size_t used = (size_t)snprintf(out, len, "(");
    for (size_t k = 0; k < ndim && used < len; k++)
        used += (size_t)snprintf(out + used, len - used, "%s%zu", k ? ", " : "", shape[k]);
    if (ndim == 1 && used < len) used += (size_t)snprintf(out + used, len - used, ",");
    if (used < len) snprintf(out + used, len - used, ")");
}

int tdl_landscape_check_array(const char *file, const tdl_tensor *t, size_t ndim, const size_t *shape, int finite)
{
    int same = t->ndim == ndim;
    for (size_t k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
    if (!same) {
        char got[128], want[128];
        shape_text(got, sizeof got, t->ndim, t->shape);
        shape_text(want, sizeof want, ndim, shape);
        return tdl_fail(TDL_ESHAPE, "%s: '%s' has shape %s, expected %s", file, t->name, got, want);
    }
    if (finite) return tdl_landscape_check_vector(file, t->name, t->data, t->numel);
    return TDL_OK;
}

int tdl_landscape_check_vector(const char *file, const char *name, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return tdl_fail(TDL_ENONFINITE, "%s: '%s' value %zu is %s (a slice needs finite values)", file, name, i,
                            isnan(v[i]) ? "NaN" : "infinite");
    return TDL_OK;
}

int tdl_landscape_grid_memory_check(size_t nx, size_t ny, size_t per_cell)
{
    /* the cells' arrays, plus the coordinates (nx + ny doubles) */
    char dims[64], detail[48];
    if (ny == 1) snprintf(dims, sizeof dims, "a 1D grid of %zu points", nx);
    else snprintf(dims, sizeof dims, "a %zu x %zu grid", ny, nx);
    snprintf(detail, sizeof detail, "%zu bytes a cell", per_cell);
    size_t cells, coords;
    if (tdl_mul_size(nx, ny, &cells) || tdl_add_size(nx, ny, &coords) || tdl_mul_size(coords, sizeof(double), &coords))
        return tdl_memory_require_detail(SIZE_MAX, SIZE_MAX, 0, dims, detail);
    return tdl_memory_require_detail(cells, per_cell, coords, dims, detail);
}

/* ---- evaluation ------------------------------------------------------------ */

/* Examples are visited in blocks of SUB_ROWS (the first-layer products of a
 * block, K x SUB_ROWS x h doubles, stay in cache while every cell uses them);
 * per-example losses are summed in order and added to the mean every
 * SUM_ROWS examples, exactly as tdl_mlp_loss_grad with a work space of
 * min(n, 2048) examples does, so that a cell at a model gives that model's
 * loss bit for bit. */
#ifndef TDL_LANDSCAPE_SUB_ROWS
#define TDL_LANDSCAPE_SUB_ROWS 128
#endif
#define SUB_ROWS ((size_t)TDL_LANDSCAPE_SUB_ROWS)
#define SUM_ROWS ((size_t)2048)
/* cells a thread takes at a time, and the bytes of first-layer products kept */
#define CELL_CHUNK ((size_t)8)
#define XW_BUDGET ((size_t)256 << 20)

/* Per-thread buffers. */
typedef struct thread_buf {
    double *theta;                   /* P: the cell's parameters (layers >= 1, layer-0 bias) */
    double *Z[TDL_MAX_DEPTH];        /* nb x out_l */
    double *A;                       /* nb x wmax */
} thread_buf;

static void thread_buf_free(thread_buf *b)
{
    free(b->theta);
    for (size_t l = 0; l < TDL_MAX_DEPTH; l++) free(b->Z[l]);
    free(b->A);
}

/* Sum of the example losses and count of correct predictions of one cell
 * on one block; XW[k] are the block's first-layer products. */
static int eval_cell_block(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, size_t K,
                           const double *const *basis, const double *c, double *const *XW, thread_buf *tb,
                           double *sum_io, size_t *correct_out)
{
    const size_t n = b->n, L = m->depth, C = m->layers[L - 1].out;
    const tdl_layer *L0 = &m->layers[0];
    /* the cell's parameters beyond layer 0's weights */
    size_t off0 = L0->w_off + L0->in * L0->out;
    size_t P = m->n_params;
    if (P > off0) {
        double *th = tb->theta + off0;
        const size_t len = P - off0;
        for (size_t i = 0; i < len; i++) th[i] = c[0] * basis[0][off0 + i];
        for (size_t k = 1; k < K; k++)
            for (size_t i = 0; i < len; i++) th[i] += c[k] * basis[k][off0 + i];
    }
    /* Z_0 = sum_k c_k XW[k] + t 1 b0^T, in the order of the forward pass
     * (products first, then the bias); with c = (1, 0, 0) it is XW[0] + t b */
    double *restrict Z = tb->Z[0];
    const size_t h = L0->out;
    double *restrict tb_bias = tb->A; /* t b0 (h), scratch until the first activation */
    for (size_t j = 0; j < h; j++) tb_bias[j] = L0->has_bias ? L0->b_scale * tb->theta[L0->b_off + j] : 0.0;
    const double *restrict X0 = XW[0], *restrict X1 = K > 1 ? XW[1] : XW[0], *restrict X2 = K > 2 ? XW[2] : XW[0];
    const double c0 = c[0], c1 = K > 1 ? c[1] : 0.0, c2 = K > 2 ? c[2] : 0.0;
    /* piecewise-linear activations (relu, ...) are applied in the same pass,
     * branch-free: z > 0 ? pos z : neg z, as tdl_act_eval */
    double pos = 1, neg = 1;
    int fused = 1;
    switch (m->act.kind) {
    case TDL_ACT_IDENTITY: break;
    case TDL_ACT_RELU: neg = 0; break;
    case TDL_ACT_LEAKY_RELU: neg = m->act.a; break;
    case TDL_ACT_ABRELU: neg = m->act.a; pos = m->act.b; break;
    default: fused = 0;
    }
    if (L == 1) fused = 0; /* a linear model: Z_0 is the output */
    for (size_t i = 0; i < n; i++) {
        double *restrict zr = Z + i * h;
        const double *x0 = X0 + i * h, *x1 = X1 + i * h, *x2 = X2 + i * h;
        if (K == 1)
            for (size_t j = 0; j < h; j++) zr[j] = c0 * x0[j];
        else if (K == 2)
            for (size_t j = 0; j < h; j++) zr[j] = c0 * x0[j] + c1 * x1[j];
        else
            for (size_t j = 0; j < h; j++) zr[j] = c0 * x0[j] + c1 * x1[j] + c2 * x2[j];
        if (L0->has_bias)
            for (size_t j = 0; j < h; j++) zr[j] += tb_bias[j];
        if (fused) /* a select of constants, then one product: vectorizes without branches */
            for (size_t j = 0; j < h; j++) {
                double slope = zr[j] > 0 ? pos : neg;
                zr[j] = slope * zr[j];
            }
    }
    for (size_t l = 1; l < L; l++) {
        const tdl_layer *Ly = &m->layers[l];
        const double *Ain = tb->Z[0]; /* fused: Z_0 already holds phi(Z_0) */
        if (!(l == 1 && fused)) {
            tdl_act_eval(&m->act, tb->Z[l - 1], n * Ly->in, tb->A, NULL, NULL);
            Ain = tb->A;
        }
        double *Zl = tb->Z[l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)Ly->out, (int)Ly->in, Ly->w_scale, Ain,
                    (int)Ly->in, tb->theta + Ly->w_off, (int)Ly->in, 0.0, Zl, (int)Ly->out);
        if (Ly->has_bias) {
            const double *bias = tb->theta + Ly->b_off;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < Ly->out; j++) Zl[i * Ly->out + j] += Ly->b_scale * bias[j];
        }
    }
    const double *F = tb->Z[L - 1];
    double sum = *sum_io; /* continues the running sum of the SUM_ROWS block */
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t y = b->labels ? b->labels[i] : 0;
        sum += tdl_net_example_loss(loss, C, F + i * C, y, b->Y ? b->Y + i * b->ldy : NULL, NULL);
        if (b->labels && tdl_predict_class(loss, C, F + i * C) == y) correct++;
    }
    *sum_io = sum;
    *correct_out = correct;
    return TDL_OK;
}

int tdl_landscape_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t K,
                       const double *const *basis, size_t ncells, const double *coef, const unsigned char *todo,
                       size_t threads, double *loss_out, double *acc_out)
{
    if (K < 1 || K > 3) return tdl_fail(TDL_EINVAL, "a slice combines 1 to 3 vectors (got %zu)", K);
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    if (ds->n == 0) return tdl_fail(TDL_EINVAL, "the data set is empty");
    for (size_t i = 0; i < ncells * K; i++)
        if (!isfinite(coef[i])) return tdl_fail(TDL_ENONFINITE, "coefficient %zu of the slice is not finite", i);
    /* a NaN or infinite basis entry would only give NaN losses: refused (the
     * CLI names the file and tensor first; this also catches a difference of
     * two finite models that overflows) */
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < m->n_params; i++)
            if (!isfinite(basis[k][i]))
                return tdl_fail(TDL_ENONFINITE, "vector %zu of the slice: parameter %zu is %s", k, i,
                                isnan(basis[k][i]) ? "NaN" : "infinite");
    /* the cells to do */
    size_t *cells = tdl_malloc((ncells ? ncells : 1) * sizeof(size_t), "the list of grid cells");
    if (!cells) return TDL_ENOMEM;
    size_t ncount = 0;
    for (size_t i = 0; i < ncells; i++)
        if (!todo || todo[i]) cells[ncount++] = i;
    if (ncount == 0) {
        free(cells);
        return TDL_OK;
    }
#ifdef _OPENMP
    int nthreads = threads ? (int)threads : omp_get_max_threads();
#else
    int nthreads = 1;
    (void)threads;
#endif
    if ((size_t)nthreads > ncount) nthreads = (int)ncount;
    const tdl_layer *L0 = &m->layers[0];
    const size_t nb_max = ds->n < SUB_ROWS ? ds->n : SUB_ROWS, h = L0->out, P = m->n_params;
    size_t wmax = 1;
    for (size_t l = 0; l < m->depth; l++) wmax = m->layers[l].out > wmax ? m->layers[l].out : wmax;
    /* rows whose first-layer products are kept at once: the whole data set
     * when K n h doubles fit in XW_BUDGET bytes, else fewer (a multiple of
     * SUB_ROWS) */
    size_t sb = XW_BUDGET / (K * (h ? h : 1) * sizeof(double));
    sb = sb < SUB_ROWS ? SUB_ROWS : sb / SUB_ROWS * SUB_ROWS;
    if (sb > ds->n) sb = ds->n;
    /* memory: K sb h (products) + threads (P + nb (sum out + wmax)) + 3 ncount */
    size_t per_thread = P + nb_max * wmax;
    for (size_t l = 0; l < m->depth; l++) per_thread += nb_max * m->layers[l].out;
    {
        char detail[48];
        snprintf(detail, sizeof detail, "%d threads", nthreads);
        size_t elems = K * sb * h + (size_t)nthreads * per_thread + 3 * ncount;
        if ((st = tdl_memory_require_detail(elems, sizeof(double), 0, "a landscape evaluation", detail)) != TDL_OK) {
            free(cells);
            return st;
        }
    }
    double *XW[3] = {NULL, NULL, NULL};
    double *sums = tdl_calloc(ncount, sizeof(double), "grid loss sums");
    double *partial = tdl_calloc(ncount, sizeof(double), "grid partial sums");
    size_t *hits = tdl_calloc(ncount, sizeof(size_t), "grid accuracy counts");
    thread_buf *tbs = tdl_calloc((size_t)nthreads, sizeof(thread_buf), "thread buffers");
    int bad = !sums || !partial || !hits || !tbs;
    for (size_t k = 0; k < K && !bad; k++) bad = !(XW[k] = malloc(sb * h * sizeof(double)));
    for (int t = 0; t < nthreads && !bad; t++) {
        tbs[t].theta = malloc(P * sizeof(double));
        tbs[t].A = malloc(nb_max * wmax * sizeof(double));
        bad = !tbs[t].theta || !tbs[t].A;
        for (size_t l = 0; l < m->depth && !bad; l++) bad = !(tbs[t].Z[l] = malloc(nb_max * m->layers[l].out * sizeof(double)));
    }
    if (bad) {
        st = tdl_fail(TDL_ENOMEM, "out of memory for a landscape evaluation");
        goto cleanup;
    }
    {
        double scale; /* 1/n, or the model's loss convention (tdl/net.h) */
        if ((st = tdl_mlp_loss_scale(m, loss, ds->n, &scale)) != TDL_OK) goto cleanup;
        int blas_threads = openblas_get_num_threads();
        const size_t nchunks = (ncount + CELL_CHUNK - 1) / CELL_CHUNK;
        for (size_t s0 = 0; s0 < ds->n; s0 += sb) {
            const size_t ns = ds->n - s0 < sb ? ds->n - s0 : sb;
            tdl_batch bs = tdl_batch_rows(ds, s0, ns);
            /* XW[k] = s_0 X W0_k^T: the same call as the forward pass (rows
             * are independent, so any row range gives the same numbers) */
            for (size_t k = 0; k < K; k++)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ns, (int)h, (int)L0->in, L0->w_scale, bs.X,
                            (int)bs.ldx, basis[k] + L0->w_off, (int)L0->in, 0.0, XW[k], (int)h);
            if (nthreads > 1) openblas_set_num_threads(1);
            /* one parallel region: chunks of cells; inside a chunk, each block
             * of SUB_ROWS examples serves every cell of the chunk while its
             * products are in cache */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
            for (size_t ch = 0; ch < nchunks; ch++) {
#ifdef _OPENMP
                thread_buf *tb = &tbs[omp_get_thread_num()];
#else
                thread_buf *tb = &tbs[0];
#endif
                const size_t q0 = ch * CELL_CHUNK, q1 = q0 + CELL_CHUNK < ncount ? q0 + CELL_CHUNK : ncount;
                for (size_t r = 0; r < ns; r += SUB_ROWS) {
                    const size_t nb = ns - r < SUB_ROWS ? ns - r : SUB_ROWS;
                    tdl_batch b = tdl_batch_rows(ds, s0 + r, nb);
                    double *const xw[3] = {XW[0] + r * h, K > 1 ? XW[1] + r * h : NULL, K > 2 ? XW[2] + r * h : NULL};
                    const int flush = (s0 + r + nb) % SUM_ROWS == 0 || s0 + r + nb == ds->n;
                    for (size_t q = q0; q < q1; q++) {
                        size_t hit;
                        eval_cell_block(m, loss, &b, K, basis, coef + cells[q] * K, xw, tb, &partial[q], &hit);
                        hits[q] += hit;
                        if (flush) { /* as tdl_mlp_loss_grad accumulates */
                            sums[q] += scale * partial[q];
                            partial[q] = 0;
                        }
                    }
                }
            }
            if (nthreads > 1) openblas_set_num_threads(blas_threads);
        }
        for (size_t q = 0; q < ncount; q++) {
            loss_out[cells[q]] = sums[q];
            /* 1 - error, as tdl_mlp_evaluate rounds it */
            if (acc_out) acc_out[cells[q]] = ds->classes ? 1.0 - (double)(ds->n - hits[q]) / (double)ds->n : NAN;
        }
    }
cleanup:
    for (size_t k = 0; k < 3; k++) free(XW[k]);
    for (int t = 0; tbs && t < nthreads; t++) thread_buf_free(&tbs[t]);
    free(tbs);
    free(sums);
    free(partial);
    free(hits);
    free(cells);
    return st;
}

/* ---- curves -------------------------------------------------------------------- */


int tdl_curve_parse(const char *text, tdl_curve_kind *out)
{
    int v;
    int st = tdl_name_lookup(tdl_curve_names, "curve", text, &v);
    if (st == TDL_OK) *out = (tdl_curve_kind)v;
    return st;
}

const char *tdl_curve_name(tdl_curve_kind k) { return name_or_mark(tdl_curve_names, (int)k); }

/* Garipov et al. 2018, eqs. 2-3. */
void tdl_curve_coef(tdl_curve_kind kind, double t, double c[3])
{
    switch (kind) {
    case TDL_CURVE_BEZIER:
        c[0] = (1 - t) * (1 - t);
        c[1] = 2 * t * (1 - t);
        c[2] = t * t;
        break;
    case TDL_CURVE_CHAIN:
        if (t <= 0.5) {
            c[0] = 1 - 2 * t;
            c[1] = 2 * t;
            c[2] = 0;
        } else {
            c[0] = 0;
            c[1] = 2 - 2 * t;
            c[2] = 2 * t - 1;
        }
        break;
    default:
        c[0] = 1 - t;
        c[1] = 0;
        c[2] = t;
    }
}

void tdl_curve_config_default(tdl_curve_config *cfg)
{
    cfg->epochs = 30;
    cfg->batch = 128;
    cfg->lr = 0.05;
    cfg->momentum = 0.9;
    cfg->seed = 0;
}

int tdl_curve_train(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_curve_kind kind,
                    const double *w1, const double *w2, const tdl_curve_config *cfg, double *bend, double *final_loss)
{
    if (kind == TDL_CURVE_LINE) return tdl_fail(TDL_EINVAL, "a straight line has no bend to train");
    if (!(cfg->lr > 0) || !isfinite(cfg->lr)) return tdl_fail(TDL_EINVAL, "curve learning rate must be > 0");
    if (cfg->momentum < 0 || cfg->momentum >= 1) return tdl_fail(TDL_EINVAL, "curve momentum must be in [0, 1)");
    if (cfg->epochs == 0) return tdl_fail(TDL_EINVAL, "curve training needs at least one epoch");
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    const size_t P = m->n_params, n = ds->n, batch = cfg->batch == 0 || cfg->batch > n ? n : cfg->batch;
    tdl_mlp *net = NULL;
    tdl_net_work *w = NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *g = tdl_malloc(P * sizeof(double), "a gradient"), *buf = tdl_calloc(P, sizeof(double), "momentum");
    size_t *perm = tdl_malloc(n * sizeof(size_t), "a permutation");
    double *Xb = tdl_malloc(batch * ds->d * sizeof(double), "a minibatch");
    size_t *yb = ds->labels ? tdl_malloc(batch * sizeof(size_t), "minibatch labels") : NULL;
    double *Yb = ds->Y ? tdl_malloc(batch * ds->Y->size2 * sizeof(double), "minibatch targets") : NULL;
    if (!r || !g || !buf || !perm || !Xb || (ds->labels && !yb) || (ds->Y && !Yb)) {
        st = tdl_fail(TDL_ENOMEM, "out of memory for curve training");
        goto cleanup;
    }
    if ((st = tdl_mlp_clone(m, &net)) != TDL_OK) goto cleanup;
    if ((st = tdl_net_work_alloc(m, batch, &w)) != TDL_OK) goto cleanup;
    gsl_rng_set(r, cfg->seed);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    double epoch_loss = NAN;
    for (size_t ep = 0; ep < cfg->epochs; ep++) {
        gsl_ran_shuffle(r, perm, n, sizeof(size_t));
        double acc = 0;
        size_t steps = 0;
        for (size_t b0 = 0; b0 < n; b0 += batch) {
            size_t nb = n - b0 < batch ? n - b0 : batch;
            for (size_t i = 0; i < nb; i++) {
                size_t src = perm[b0 + i];
                memcpy(Xb + i * ds->d, ds->X->data + src * ds->X->tda, ds->d * sizeof(double));
                if (yb) yb[i] = ds->labels[src];
                if (Yb) memcpy(Yb + i * ds->Y->size2, ds->Y->data + src * ds->Y->tda, ds->Y->size2 * sizeof(double));
            }
            tdl_batch b = {nb, Xb, ds->d, yb, Yb, ds->Y ? ds->Y->size2 : 0};
            double t = gsl_rng_uniform(r), c[3];
            tdl_curve_coef(kind, t, c);
            for (size_t i = 0; i < P; i++) net->theta[i] = c[0] * w1[i] + c[1] * bend[i] + c[2] * w2[i];
            double lb = 0;
            double bscale; /* 1/nb, or the model's loss convention on this batch */
            if ((st = tdl_mlp_loss_scale(net, loss, nb, &bscale)) != TDL_OK) goto cleanup;
            if ((st = tdl_net_batch_grad_set(net, loss, &b, bscale, w, &lb, g)) != TDL_OK) {
                if (st == TDL_ENONFINITE)
                    st = tdl_fail(TDL_EDIVERGED, "curve training diverged in epoch %zu (lower the learning rate)", ep + 1);
                goto cleanup;
            }
            /* d L(phi_t) / d bend = c_bend(t) grad L(phi_t);  torch.optim.SGD: buf = mu buf + g, bend -= lr buf */
            for (size_t i = 0; i < P; i++) {
                buf[i] = cfg->momentum * buf[i] + c[1] * g[i];
                bend[i] -= cfg->lr * buf[i];
            }
            acc += lb;
            steps++;
        }
        epoch_loss = acc / (double)steps;
        if (!isfinite(epoch_loss)) {
            st = tdl_fail(TDL_EDIVERGED, "curve training diverged in epoch %zu (lower the learning rate)", ep + 1);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < P; i++)
        if (!isfinite(bend[i])) {
            st = tdl_fail(TDL_EDIVERGED, "curve training diverged (lower the learning rate)");
            goto cleanup;
        }
    if (final_loss) *final_loss = epoch_loss;
cleanup:
    tdl_mlp_free(&net);
    tdl_net_work_free(&w);
    if (r) gsl_rng_free(r);
    free(g);
    free(buf);
    free(perm);
    free(Xb);
    free(yb);
    free(Yb);
    return st;
}

int tdl_curve_eval_with(tdl_grid_eval_fn eval, const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                        tdl_curve_kind kind, const double *w1, const double *bend, const double *w2, size_t n,
                        size_t threads, double *t, double *loss_out, double *acc_out, double *barrier)
{
    if (n < 2) return tdl_fail(TDL_EINVAL, "a curve needs at least 2 points");
    if (kind != TDL_CURVE_LINE && !bend) return tdl_fail(TDL_EINVAL, "a %s curve needs its bend", tdl_curve_name(kind));
    double *coef = tdl_malloc(3 * n * sizeof(double), "curve coefficients");
    if (!coef) return TDL_ENOMEM;
    tdl_linspace(0.0, 1.0, n, t);
    for (size_t i = 0; i < n; i++) tdl_curve_coef(kind, t[i], coef + 3 * i);
    const double *basis[3] = {w1, kind == TDL_CURVE_LINE ? w1 : bend, w2};
    int st = eval(m, loss, ds, 3, basis, n, coef, NULL, threads, loss_out, acc_out);
    free(coef);
    if (st != TDL_OK) return st;
    if (barrier) {
        double mx = loss_out[0];
        for (size_t i = 1; i < n; i++) mx = fmax(mx, loss_out[i]);
        *barrier = mx - 0.5 * (loss_out[0] + loss_out[n - 1]);
    }
    return TDL_OK;
}

int tdl_curve_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_curve_kind kind,
                   const double *w1, const double *bend, const double *w2, size_t n, size_t threads, double *t,
                   double *loss_out, double *acc_out, double *barrier)
{
    return tdl_curve_eval_with(tdl_landscape_eval, m, loss, ds, kind, w1, bend, w2, n, threads, t, loss_out, acc_out,
                               barrier);
}
