/* net_internal.h — pieces of net.c that other modules of libtdl use. */
#ifndef TDL_NET_INTERNAL_H
#define TDL_NET_INTERNAL_H

#include "tdl/net.h"

/* As tdl_mlp_batch_grad, but grad is OVERWRITTEN with scale * sum_i dl_i/dtheta
 * (no need to zero it first; every entry is written). */
int tdl_net_batch_grad_set(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                           tdl_net_work *w, double *loss_acc, double *grad);

/* Loss of one example with C outputs f; dl/df into g when not NULL.
 * label for classification, y (C targets) for regression (then label unused). */
double tdl_net_example_loss(tdl_loss_kind loss, size_t C, const double *f, size_t label,
                            const double *y, double *g);
/* r = H_l(f) u, the Hessian of the example loss in the outputs times u. */
void tdl_net_example_loss_hess(tdl_loss_kind loss, size_t C, const double *f, int regression,
                               const double *u, double *r);

#endif
