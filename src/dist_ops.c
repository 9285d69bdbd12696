/* dist_ops.c — data-parallel Hessian-vector products (tdl/dist.h): the
 * examples split over the ranks, the products summed by an allreduce; and
 * landscape grids, curves and sweeps split over the ranks.  The same code
 * with or without MPI (one rank: the whole data set, every cell, every run). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/dist.h"
#include "tdl/hessian.h"
#include "tdl/data.h"
#include "internal.h"
#include "landscape_internal.h"
#include "sweep_internal.h"

struct tdl_dist_hessian_operator {
    tdl_dataset *slice;           /* this rank's examples (NULL: none) */
    tdl_hessian_operator *local;  /* over the slice (NULL: none) */
    double scale;                 /* n_r / n (mean reduction) or 1 */
    size_t dim, P, products;
};

/* This rank's examples [lo, hi) as a data set of their own. */
static int make_slice(const tdl_dataset *ds, size_t lo, size_t hi, tdl_dataset **out)
{
    *out = NULL;
    if (hi <= lo) return TDL_OK;
    const gsl_matrix *X = ds->X;
    tdl_matrix_view xv = {X->data + lo * X->tda, hi - lo, X->size2, (ptrdiff_t)X->tda, 1};
    if (ds->classes) {
        long long *lab = tdl_malloc((hi - lo) * sizeof(long long), "this rank's labels");
        if (!lab) return TDL_ENOMEM;
        for (size_t i = lo; i < hi; i++) lab[i - lo] = (long long)ds->labels[i];
        int st = tdl_dataset_from_arrays(xv, lab, ds->classes, NULL, ds->description, out);
        free(lab);
        return st;
    }
    const gsl_matrix *Y = ds->Y;
    tdl_matrix_view yv = {Y->data + lo * Y->tda, hi - lo, Y->size2, (ptrdiff_t)Y->tda, 1};
    return tdl_dataset_from_arrays(xv, NULL, 0, &yv, ds->description, out);
}

int tdl_dist_hessian_operator_create(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                                     int gauss_newton, tdl_dist_hessian_operator **out)
{
    *out = NULL;
    size_t N = tdl_dist_size(), r = tdl_dist_rank(), n = ds->n;
    size_t lo = (size_t)((unsigned long long)n * r / N), hi = (size_t)((unsigned long long)n * (r + 1) / N);
    tdl_dist_hessian_operator *op = tdl_calloc(1, sizeof *op, "the data-parallel Hessian operator");
    int st = op ? TDL_OK : TDL_ENOMEM;
    if (st == TDL_OK) {
        op->P = op->dim = m->n_params;
        tdl_loss_convention conv;
        int summed = tdl_mlp_loss_convention(m, &conv) == TDL_OK && conv.reduction == TDL_REDUCTION_SUM;
        op->scale = summed || n == 0 ? 1.0 : (double)(hi - lo) / (double)n;
        /* a slice of the whole set: the loss's checks see the same data */
        if (N == 1) st = tdl_hessian_operator_create(m, loss, ds, gauss_newton, &op->local);
        else if ((st = make_slice(ds, lo, hi, &op->slice)) == TDL_OK && op->slice)
            st = tdl_hessian_operator_create(m, loss, op->slice, gauss_newton, &op->local);
    }
    st = tdl_dist_agree(st);
    if (st != TDL_OK) {
        tdl_dist_hessian_operator_free(&op);
        return st;
    }
    *out = op;
    return TDL_OK;
}

int tdl_dist_hessian_operator_set_block(tdl_dist_hessian_operator *op, size_t off, size_t len)
{
    if (off > op->P || len > op->P - off || len == 0)
        return tdl_fail(TDL_EINVAL, "Hessian block [%zu, %zu) outside the %zu parameters", off, off + len, op->P);
    int st = op->local ? tdl_hessian_operator_set_block(op->local, off, len) : TDL_OK;
    if (st == TDL_OK) op->dim = len;
    return st;
}

void tdl_dist_hessian_operator_set_gauss_newton(tdl_dist_hessian_operator *op, int gauss_newton)
{
    if (op->local) tdl_hessian_operator_set_gauss_newton(op->local, gauss_newton);
}

size_t tdl_dist_hessian_operator_dim(const tdl_dist_hessian_operator *op) { return op->dim; }
size_t tdl_dist_hessian_operator_products(const tdl_dist_hessian_operator *op) { return op->products; }

int tdl_dist_hessian_operator_apply(const double *x, double *y, void *ctx)
{
    tdl_dist_hessian_operator *op = ctx;
    int st = TDL_OK;
    if (op->local) {
        st = tdl_hessian_operator_apply(x, y, op->local);
        if (op->scale != 1.0)
            for (size_t i = 0; i < op->dim; i++) y[i] *= op->scale;
    } else {
        memset(y, 0, op->dim * sizeof(double));
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) return st;
    op->products++;
    return tdl_dist_agree(tdl_dist_allreduce_sum(y, op->dim));
}

void tdl_dist_hessian_operator_free(tdl_dist_hessian_operator **op)
{
    if (!op || !*op) return;
    tdl_hessian_operator_free(&(*op)->local);
    tdl_dataset_free(&(*op)->slice);
    free(*op);
    *op = NULL;
}

int tdl_dist_landscape_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t K,
                            const double *const *basis, size_t ncells, const double *coef,
                            const unsigned char *todo, size_t threads, double *loss_out, double *acc_out)
{
    size_t N = tdl_dist_size(), r = tdl_dist_rank();
    if (N == 1)
        return tdl_landscape_eval(m, loss, ds, K, basis, ncells, coef, todo, threads, loss_out, acc_out);
    /* mine: the cells to do with c mod N == r; results [loss | acc] summed */
    unsigned char *mine = tdl_calloc(ncells ? ncells : 1, 1, "this rank's landscape cells");
    double *sum = tdl_calloc(2 * (ncells ? ncells : 1), sizeof(double), "this rank's landscape values");
    int st = mine && sum ? TDL_OK : TDL_ENOMEM;
    if (st == TDL_OK) {
        size_t count = 0;
        for (size_t c = r; c < ncells; c += N)
            if (!todo || todo[c]) { mine[c] = 1; count++; }
        if (count)
            st = tdl_landscape_eval(m, loss, ds, K, basis, ncells, coef, mine, threads, sum, acc_out ? sum + ncells : NULL);
        /* evaluated cells hold their values; the others must add nothing */
        for (size_t c = 0; c < ncells; c++)
            if (!mine[c]) sum[c] = sum[ncells + c] = 0;
    }
    if ((st = tdl_dist_agree(st)) == TDL_OK) st = tdl_dist_agree(tdl_dist_allreduce_sum(sum, 2 * ncells));
    if (st == TDL_OK)
        for (size_t c = 0; c < ncells; c++)
            if (!todo || todo[c]) {
                loss_out[c] = sum[c];
                if (acc_out) acc_out[c] = sum[ncells + c];
            }
    free(mine);
    free(sum);
    return st;
}

int tdl_dist_curve_eval(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, tdl_curve_kind kind,
                        const double *w1, const double *bend, const double *w2, size_t n, size_t threads, double *t,
                        double *loss_out, double *acc_out, double *barrier)
{
    /* tdl_curve_eval's points and coefficients, the cells dealt over the ranks */
    return tdl_curve_eval_with(tdl_dist_landscape_eval, m, loss, ds, kind, w1, bend, w2, n, threads, t, loss_out,
                               acc_out, barrier);
}

/* Round k of a distributed sweep (runs base .. end - 1, run j computed by
 * rank j - base): every run's record and measures from the rank that
 * computed it to all.  Collective; the status agreed. */
static int sweep_share_round(tdl_sweep_result *out, sweep_work *w, size_t base, size_t end)
{
    const size_t r = tdl_dist_rank();
    int st = TDL_OK;
    /* the records (their measure columns are not made yet: NULL) and the
     * lengths of the measure tables */
    for (size_t j = base; j < end && st == TDL_OK; j++) {
        st = tdl_dist_bcast(&out->runs[j], sizeof out->runs[j], j - base);
        if (st == TDL_OK) st = tdl_dist_bcast(&w->n_meas[j], sizeof w->n_meas[j], j - base);
    }
    if ((st = tdl_dist_agree(st)) != TDL_OK) return st;
    for (size_t j = base; j < end && st == TDL_OK; j++)
        if (j - base != r && w->n_meas[j] &&
            !(w->meas[j] = tdl_malloc(w->n_meas[j] * sizeof(tdl_measure), "a run's measures from another rank")))
            st = TDL_ENOMEM;
    if ((st = tdl_dist_agree(st)) != TDL_OK) return st;
    /* tdl_measure holds no pointer: its bytes are the table */
    for (size_t j = base; j < end && st == TDL_OK; j++)
        if (w->n_meas[j]) st = tdl_dist_bcast(w->meas[j], w->n_meas[j] * sizeof(tdl_measure), j - base);
    return tdl_dist_agree(st);
}

int tdl_dist_sweep_run_all(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                           tdl_sweep_result *out)
{
    const size_t N = tdl_dist_size(), r = tdl_dist_rank();
    if (N == 1) return tdl_sweep_run_all(cfg, train, test, out);
    sweep_work w;
    int st = tdl_dist_agree(tdl_sweep_begin(cfg, train, test, out, &w));
    if (st != TDL_OK) goto fail;
    /* rounds of N runs, one a rank, in run order */
    for (size_t base = 0; base < w.total; base += N) {
        const size_t end = base + N < w.total ? base + N : w.total;
        st = base + r < end ? tdl_sweep_run_one(cfg, train, test, out, &w, base + r) : TDL_OK;
        if (st == TDL_ENOMEM) st = tdl_fail(TDL_ENOMEM, "sweep: out of memory");
        if ((st = tdl_dist_agree(st)) != TDL_OK) goto fail;
        if ((st = sweep_share_round(out, &w, base, end)) != TDL_OK) goto fail;
        /* progress for the round's runs, in order, on every rank */
        for (size_t j = base; j < end && st == TDL_OK; j++) st = tdl_sweep_report(cfg, out, j);
        if ((st = tdl_dist_agree(st)) != TDL_OK) goto fail;
    }
    /* every rank holds every run: the same summary everywhere */
    st = tdl_sweep_finish(cfg, out, &w);
    int all = tdl_dist_agree(st);
    if (all != TDL_OK && st == TDL_OK) tdl_sweep_result_free(out);
    return all;
fail:
    tdl_sweep_work_free(&w);
    tdl_sweep_result_free(out);
    return st;
}
