/* landscape_internal.h — what landscape.c shares with dist_ops.c; not
 * installed. */
#ifndef TDL_LANDSCAPE_INTERNAL_H
#define TDL_LANDSCAPE_INTERNAL_H
#include "tdl/landscape.h"

/* tdl_curve_eval (tdl/landscape.h) with the grid evaluated by `eval`:
 * tdl_landscape_eval on one process, tdl_dist_landscape_eval over the ranks. */
typedef int (*tdl_grid_eval_fn)(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, size_t K,
                                const double *const *basis, size_t ncells, const double *coef,
                                const unsigned char *todo, size_t threads, double *loss_out, double *acc_out);
int tdl_curve_eval_with(tdl_grid_eval_fn eval, const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                        tdl_curve_kind kind, const double *w1, const double *bend, const double *w2, size_t n,
                        size_t threads, double *t, double *loss_out, double *acc_out, double *barrier);

#endif
