/* infoplane.c — information-plane estimators and trajectories (tdl/infoplane.h).
 *
 * References:
 *   Shwartz-Ziv and Tishby 2017 (arXiv 1703.00810), Sec. 2-3: binning of the
 *     tanh activations into 30 intervals, the 12-bit task, net 12-10-7-5-4-3-2.
 *   Saxe, Bansal, Dapello, Advani, Kolchinsky, Tracey, Cox 2018 (ICLR), Sec. 2:
 *     the KDE upper bound with additive Gaussian noise; tanh vs ReLU.
 *   Kolchinsky and Tracey 2017 (Entropy 19:361), pairwise-distance bounds on
 *     the entropy of mixtures (KL between equal-covariance Gaussians).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/infoplane.h"
#include "internal.h"

const tdl_name tdl_mi_estimator_names[] = {{"binning", TDL_MI_BINNING}, {"kde", TDL_MI_KDE}, {NULL, 0}};

int tdl_infoplane_task12(tdl_dataset **out)
{
    *out = NULL;
    const size_t n = 4096, d = 12;
    const double phi = 0.5 * (1 + sqrt(5.0)), nrm = sqrt(1 + phi * phi);
    double V[12][3];
    size_t v = 0;
    for (int a = -1; a <= 1; a += 2)
        for (int b = -1; b <= 1; b += 2) {
            double A = a, B = b * phi;
            V[v][0] = 0; V[v][1] = A; V[v][2] = B; v++;
            V[v][0] = A; V[v][1] = B; V[v][2] = 0; v++;
            V[v][0] = B; V[v][1] = 0; V[v][2] = A; v++;
        }
    for (size_t j = 0; j < 12; j++)
        for (size_t k = 0; k < 3; k++) V[j][k] /= nrm;
    tdl_dataset *ds = tdl_calloc(1, sizeof *ds, "a data set");
    double *f = tdl_malloc(n * sizeof(double), "scores"), *sorted = tdl_malloc(n * sizeof(double), "scores");
    int st = TDL_OK;
    if (!ds || !f || !sorted) { st = TDL_ENOMEM; goto fail; }
    ds->n = n;
    ds->d = d;
    ds->classes = 2;
    ds->X = gsl_matrix_alloc(n, d);
    ds->labels = tdl_malloc(n * sizeof(size_t), "labels");
    ds->spec = tdl_strdup("task12");
    ds->description = tdl_strdup("the 12-bit task of Shwartz-Ziv and Tishby 2017 (reconstructed: icosahedron dipole score, median split)");
    if (!ds->X || !ds->labels || !ds->spec || !ds->description) { st = tdl_fail(TDL_ENOMEM, "out of memory for the 12-bit task"); goto fail; }
    for (size_t p = 0; p < n; p++) {
        double s3[3] = {0, 0, 0};
        for (size_t j = 0; j < d; j++) {
            double bit = (double)((p >> j) & 1u), s = 2 * bit - 1;
            gsl_matrix_set(ds->X, p, j, bit);
            for (size_t k = 0; k < 3; k++) s3[k] += s * V[j][k];
        }
        /* rounded so that equal scores compare equal whatever the summation order */
        f[p] = round((s3[0] * s3[0] + s3[1] * s3[1] + s3[2] * s3[2]) * 1e9) / 1e9;
        sorted[p] = f[p];
    }
    /* threshold: the distinct value whose cumulative fraction is closest to 1/2 */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) { double t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t; }
    double theta = sorted[n / 2], best = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && sorted[i + 1] == sorted[i]) continue;
        double frac = (double)(i + 1) / (double)n;
        if (fabs(frac - 0.5) < best) { best = fabs(frac - 0.5); theta = sorted[i]; }
    }
    for (size_t p = 0; p < n; p++) ds->labels[p] = f[p] > theta ? 1 : 0;
    free(f);
    free(sorted);
    *out = ds;
    return TDL_OK;
fail:
    free(f);
    free(sorted);
    tdl_dataset_free(&ds);
    return st == TDL_ENOMEM ? tdl_fail(TDL_ENOMEM, "out of memory for the 12-bit task") : st;
}

/* ---- binning ------------------------------------------------------------ */

typedef struct binned_row { const int *bins; size_t label; } binned_row;
static _Thread_local size_t sort_dim;

static int cmp_rows(const void *pa, const void *pb)
{
    const binned_row *a = pa, *b = pb;
    for (size_t j = 0; j < sort_dim; j++)
        if (a->bins[j] != b->bins[j]) return a->bins[j] < b->bins[j] ? -1 : 1;
    return (a->label > b->label) - (a->label < b->label);
}

int tdl_mi_binning(const double *T, size_t n, size_t dim, const size_t *labels, size_t classes, double lo, double hi,
                   size_t bins, double *ixt, double *ity)
{
    if (!T || n == 0 || dim == 0) return tdl_fail(TDL_EINVAL, "binning estimator: no activations");
    if (!(lo < hi) || !isfinite(lo) || !isfinite(hi)) return tdl_fail(TDL_EINVAL, "binning estimator: need lo < hi, got [%g, %g]", lo, hi);
    if (bins < 1 || bins > 1000000) return tdl_fail(TDL_EINVAL, "binning estimator: bins must be in 1..1000000, got %zu", bins);
    if (labels && classes < 1) return tdl_fail(TDL_EINVAL, "binning estimator: labels need classes >= 1");
    size_t cells;
    if (tdl_mul_size(n, dim, &cells)) return tdl_fail(TDL_ETOOBIG, "binning estimator: %zu x %zu overflows", n, dim);
    int *B = tdl_malloc(cells * sizeof(int), "binned activations");
    binned_row *rows = tdl_malloc(n * sizeof *rows, "binned activations");
    double *py = labels ? tdl_calloc(classes, sizeof(double), "label counts") : NULL;
    double *pty = labels ? tdl_calloc(classes, sizeof(double), "label counts") : NULL;
    int st = TDL_OK;
    if (!B || !rows || (labels && (!py || !pty))) { st = TDL_ENOMEM; goto cleanup; }
    const double width = (hi - lo) / (double)bins;
    for (size_t i = 0; i < cells; i++) {
        double t = T[i];
        if (isnan(t)) { st = tdl_fail(TDL_ENONFINITE, "binning estimator: NaN activation at row %zu", i / dim); goto cleanup; }
        double k = floor((t - lo) / width);
        B[i] = k < 0 ? 0 : k >= (double)bins ? (int)bins - 1 : (int)k;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].bins = B + i * dim;
        rows[i].label = labels ? labels[i] : 0;
        if (labels && labels[i] >= classes) { st = tdl_fail(TDL_EINVAL, "binning estimator: label %zu >= %zu classes", labels[i], classes); goto cleanup; }
        if (labels) py[labels[i]] += 1.0 / (double)n;
    }
    sort_dim = dim;
    qsort(rows, n, sizeof *rows, cmp_rows);
    double h = 0, mi = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && memcmp(rows[j].bins, rows[i].bins, dim * sizeof(int)) == 0) j++;
        double pt = (double)(j - i) / (double)n;
        h -= pt * log2(pt);
        if (labels) {
            memset(pty, 0, classes * sizeof(double));
            for (size_t k = i; k < j; k++) pty[rows[k].label] += 1.0 / (double)n;
            for (size_t y = 0; y < classes; y++)
                if (pty[y] > 0) mi += pty[y] * log2(pty[y] / (pt * py[y]));
        }
        i = j;
    }
    if (ixt) *ixt = h;
    if (ity) *ity = labels ? mi : NAN;
cleanup:
    if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "binning estimator: out of memory for %zu x %zu activations", n, dim);
    free(B); free(rows); free(py); free(pty);
    return st;
}

/* ---- KDE upper bound ------------------------------------------------------ */

/* -(1/m) sum_{i in S} log2 (1/m) sum_{j in S} exp(-|h_i - h_j|^2 / (2 s2)) over
 * the subset S (mask == want, or all when mask NULL), m = |S|. */
static int kde_bound(const double *T, size_t n, size_t dim, const size_t *mask, size_t want, double s2, double *out)
{
    const size_t blk = 256;
    double *G = tdl_malloc(blk * n * sizeof(double), "a block of distances");
    double *sq = tdl_malloc(n * sizeof(double), "squared norms");
    if (!G || !sq) { free(G); free(sq); return tdl_fail(TDL_ENOMEM, "KDE estimator: out of memory for %zu rows", n); }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < dim; k++) s += T[i * dim + k] * T[i * dim + k];
        sq[i] = s;
        if (!mask || mask[i] == want) m++;
    }
    double acc = 0;
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t nb = n - r0 < blk ? n - r0 : blk;
        /* G = T_block T^T (BLAS-3); |h_i - h_j|^2 = sq_i + sq_j - 2 G_ij */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)n, (int)dim, 1.0, T + r0 * dim, (int)dim, T,
                    (int)dim, 0.0, G, (int)n);
        for (size_t a = 0; a < nb; a++) {
            size_t i = r0 + a;
            if (mask && mask[i] != want) continue;
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                if (mask && mask[j] != want) continue;
                double d2 = sq[i] + sq[j] - 2 * G[a * n + j];
                if (d2 < 0 || j == i) d2 = 0; /* roundoff; exact 0 on the diagonal */
                s += exp(-d2 / (2 * s2));
            }
            acc += log2(s / (double)m);
        }
    }
    free(G);
    free(sq);
    *out = m ? -acc / (double)m : 0;
    return TDL_OK;
}

int tdl_mi_kde(const double *T, size_t n, size_t dim, const size_t *labels, size_t classes, double noise_var, double *ixt,
               double *ity)
{
    if (!T || n == 0 || dim == 0) return tdl_fail(TDL_EINVAL, "KDE estimator: no activations");
    if (!(noise_var > 0) || !isfinite(noise_var)) return tdl_fail(TDL_EINVAL, "KDE estimator: noise variance must be > 0, got %g", noise_var);
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(T[i])) return tdl_fail(TDL_ENONFINITE, "KDE estimator: non-finite activation at row %zu", i / dim);
    double hx = 0;
    int st = kde_bound(T, n, dim, NULL, 0, noise_var, &hx);
    if (st) return st;
    if (ixt) *ixt = hx;
    if (ity) {
        if (!labels) { *ity = NAN; return TDL_OK; }
        double cond = 0;
        for (size_t y = 0; y < classes; y++) {
            size_t ny = 0;
            for (size_t i = 0; i < n; i++) {
                if (labels[i] >= classes) return tdl_fail(TDL_EINVAL, "KDE estimator: label %zu >= %zu classes", labels[i], classes);
                if (labels[i] == y) ny++;
            }
            if (!ny) continue;
            double hy = 0;
            if ((st = kde_bound(T, n, dim, labels, y, noise_var, &hy)) != TDL_OK) return st;
            cond += (double)ny / (double)n * hy;
        }
        *ity = hx - cond;
    }
    return TDL_OK;
}

/* ---- trajectories (the hidden activations: tdl_mlp_hidden, net.c) ---------- */

void tdl_infoplane_config_default(tdl_infoplane_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    tdl_train_config_default(&cfg->train);
    cfg->train.loss = TDL_LOSS_CE;
    cfg->train.opt = TDL_OPT_SGD;
    cfg->train.lr = 0.1;
    cfg->train.epochs = 1000;
    cfg->train.batch = 256;
    cfg->snapshots = 30;
    cfg->estimator = TDL_MI_BINNING;
    cfg->bins = 30;
    cfg->lo = NAN;
    cfg->hi = NAN;
    cfg->noise_var = 0.1;
}

void tdl_infoplane_result_free(tdl_infoplane_result *r)
{
    if (!r) return;
    free(r->epochs); free(r->ixt); free(r->ity); free(r->loss); free(r->accuracy);
    memset(r, 0, sizeof *r);
}

typedef struct ip_state {
    tdl_mlp *m;
    const tdl_dataset *ds;
    const tdl_infoplane_config *cfg;
    tdl_infoplane_result *res;
    double *T;
    size_t next;     /* next snapshot index */
    int status;
} ip_state;

static int record(ip_state *s, double loss, double acc)
{
    tdl_infoplane_result *r = s->res;
    const tdl_mlp *m = s->m;
    size_t k = s->next;
    for (size_t l = 0; l + 1 < m->depth; l++) {
        size_t w = m->layers[l].out;
        int st = tdl_mlp_hidden(m, s->ds->X, l, s->T);
        if (st) return st;
        double ixt, ity;
        if (s->cfg->estimator == TDL_MI_KDE) {
            st = tdl_mi_kde(s->T, s->ds->n, w, s->ds->labels, s->ds->classes, s->cfg->noise_var, &ixt, &ity);
        } else {
            double lo = s->cfg->lo, hi = s->cfg->hi;
            size_t nbins = s->cfg->bins;
            if (isnan(lo) || isnan(hi)) {
                switch (m->act.kind) {
                case TDL_ACT_TANH: case TDL_ACT_ERF: lo = -1; hi = 1; break;
                case TDL_ACT_SIGMOID: lo = 0; hi = 1; break;
                default: {
                    /* unbounded: bins of the fixed width 2/bins (tanh's), on a
                     * grid anchored at 0 and covering the observed range, so
                     * that growing activations are not squeezed into fewer bins */
                    double bw = 2.0 / (double)s->cfg->bins, mn = INFINITY, mx = -INFINITY;
                    for (size_t i = 0; i < s->ds->n * w; i++) { mn = fmin(mn, s->T[i]); mx = fmax(mx, s->T[i]); }
                    lo = floor(mn / bw) * bw;
                    double count = fmax(1.0, ceil((mx - lo) / bw + 1e-12));
                    if (count > 1e6) return tdl_fail(TDL_ETOOBIG, "binning: activations span %g, more than 1e6 bins of width %g", mx - mn, bw);
                    nbins = (size_t)count;
                    hi = lo + (double)nbins * bw;
                }
                }
            }
            st = tdl_mi_binning(s->T, s->ds->n, w, s->ds->labels, s->ds->classes, lo, hi, nbins, &ixt, &ity);
        }
        if (st) return st;
        r->ixt[k * r->n_layers + l] = ixt;
        r->ity[k * r->n_layers + l] = ity;
    }
    r->loss[k] = loss;
    r->accuracy[k] = acc;
    s->next++;
    return TDL_OK;
}

static int on_epoch(const tdl_train_progress *p, void *user)
{
    ip_state *s = user;
    if (s->next < s->res->n_snapshots && p->epoch == s->res->epochs[s->next]) {
        s->status = record(s, p->loss, p->accuracy);
        if (s->status) return 1;
    }
    return 0;
}

int tdl_infoplane_run(tdl_mlp *m, const tdl_dataset *ds, const tdl_infoplane_config *cfg, tdl_infoplane_result *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !ds || !cfg) return tdl_fail(TDL_EINVAL, "information plane: missing argument");
    if (m->depth < 2) return tdl_fail(TDL_EINVAL, "information plane: the net has no hidden layer (depth %zu)", m->depth);
    if (!ds->classes || !ds->labels) return tdl_fail(TDL_EINVAL, "information plane: needs class labels (I(T;Y))");
    if (ds->d != m->layers[0].in) return tdl_fail(TDL_ESHAPE, "information plane: %zu features but the net takes %zu", ds->d, m->layers[0].in);
    if (cfg->train.epochs < 1 || cfg->train.steps) return tdl_fail(TDL_EINVAL, "information plane: give a number of epochs >= 1 (not steps)");
    if (cfg->snapshots < 2) return tdl_fail(TDL_EINVAL, "information plane: need >= 2 snapshots, got %zu", cfg->snapshots);
    if (cfg->estimator == TDL_MI_KDE && !(cfg->noise_var > 0)) return tdl_fail(TDL_EINVAL, "information plane: kde noise variance must be > 0");
    const size_t E = cfg->train.epochs;
    size_t S = cfg->snapshots, H = m->depth - 1, wmax = 0;
    for (size_t l = 0; l < H; l++) wmax = m->layers[l].out > wmax ? m->layers[l].out : wmax;
    /* snapshot epochs: 0, then round(E^(k/(S-1))), deduplicated, ending at E */
    out->epochs = tdl_malloc(S * sizeof(size_t), "snapshot epochs");
    if (!out->epochs) return TDL_ENOMEM;
    size_t cnt = 0;
    out->epochs[cnt++] = 0;
    for (size_t k = 1; k < S; k++) {
        size_t e = (size_t)llround(pow((double)E, (double)k / (double)(S - 1)));
        if (e < 1) e = 1;
        if (e > E) e = E;
        if (e > out->epochs[cnt - 1]) out->epochs[cnt++] = e;
    }
    out->n_snapshots = cnt;
    out->n_layers = H;
    out->ixt = tdl_calloc(cnt * H, sizeof(double), "information-plane points");
    out->ity = tdl_calloc(cnt * H, sizeof(double), "information-plane points");
    out->loss = tdl_calloc(cnt, sizeof(double), "losses");
    out->accuracy = tdl_calloc(cnt, sizeof(double), "accuracies");
    ip_state s = {m, ds, cfg, out, tdl_malloc(ds->n * wmax * sizeof(double), "hidden activations"), 0, TDL_OK};
    int st = TDL_OK;
    if (!out->ixt || !out->ity || !out->loss || !out->accuracy || !s.T) { st = TDL_ENOMEM; goto fail; }
    {
        /* the snapshot at initialization */
        tdl_net_work *w = NULL;
        double loss = NAN;
        tdl_eval_stats es;
        memset(&es, 0, sizeof es);
        if ((st = tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w)) != TDL_OK) goto fail;
        st = tdl_mlp_evaluate(m, cfg->train.loss, ds, w, &es);
        tdl_net_work_free(&w);
        if (st) goto fail;
        loss = es.loss;
        double acc = es.accuracy;
        tdl_eval_stats_free(&es);
        if ((st = record(&s, loss, acc)) != TDL_OK) goto fail;
    }
    tdl_train_config tc = cfg->train;
    tc.eval_every = 1;
    tc.callback = on_epoch;
    tc.user = &s;
    tdl_train_result tr;
    st = tdl_train(m, ds, &tc, &tr);
    if (st == TDL_EINTR && s.status) st = s.status;
    if (st) goto fail;
    out->n_snapshots = s.next; /* fewer when training stopped at a target */
    free(s.T);
    return TDL_OK;
fail:
    free(s.T);
    tdl_infoplane_result_free(out);
    return st == TDL_ENOMEM ? tdl_fail(TDL_ENOMEM, "information plane: out of memory") : st;
}
