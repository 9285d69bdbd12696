/* sweep_internal.h — the parts of tdl_sweep_run_all (sweep.c) that the
 * distributed sweep (tdl_dist_sweep_run_all, dist_ops.c) shares: set up,
 * one run, the progress call, the summary.  Not installed. */
#ifndef TDL_SWEEP_INTERNAL_H
#define TDL_SWEEP_INTERNAL_H
#include "tdl/sweep.h"

/* The per-run measures (tdl_bounds_compute's tables) until the summary
 * turns them into the result's columns. */
typedef struct sweep_work {
    size_t total;            /* cfg->count x cfg->repeats */
    tdl_measure **meas;      /* total tables (malloc'ed, NULL when none) */
    size_t *n_meas;          /* their lengths */
    double t0;               /* when the sweep started */
} sweep_work;

/* Check cfg, allocate out->runs (value and repeat of every run set) and w.
 * On failure nothing is left allocated. */
int tdl_sweep_begin(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                    tdl_sweep_result *out, sweep_work *w);
/* Run i of the sweep: build, train (or fit), evaluate, measure; fills
 * out->runs[i] and w->meas[i], w->n_meas[i].  Deterministic: the same on
 * any process. */
int tdl_sweep_run_one(const tdl_sweep_config *cfg, const tdl_dataset *train, const tdl_dataset *test,
                      tdl_sweep_result *out, sweep_work *w, size_t i);
/* cfg->callback for run i (done): TDL_EINTR when it asks to stop. */
int tdl_sweep_report(const tdl_sweep_config *cfg, const tdl_sweep_result *out, size_t i);
/* The measure columns, the correlations, the threshold, the time; frees
 * w.  On failure out is freed too. */
int tdl_sweep_finish(const tdl_sweep_config *cfg, tdl_sweep_result *out, sweep_work *w);
/* Frees w (idempotent). */
void tdl_sweep_work_free(sweep_work *w);
#endif
