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

/* The forward pass of examples [r0, r0 + nr) of a net of depth <= 2 in the
 * augmented coordinates of hessian.c's legend: the rows x~ = [s1 x ; t1]
 * into Xt (nr x d1); unless the net is linear (depth 1), z = s1 W1 x + t1 b1
 * with phi(z) into Z (nr x h), phi'(z), phi''(z) into D1, D2 and the rows
 * a~ = [s2 phi(z) ; t2] into At (nr x h1); then f = W~2 a~ into F (nr x C),
 * with a~ = x~ (Xt) for a linear net (At is not written).  Shared by the
 * dense assembly (hessian.c) and the entries (hessian_entries.c), so both
 * see the same bits. */
void tdl_shallow_forward(const tdl_mlp *m, const tdl_dataset *ds, size_t r0, size_t nr, double *Xt, double *Z,
                         double *D1, double *D2, double *At, double *F);

#endif
