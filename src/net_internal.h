/* net_internal.h — pieces of net.c that other modules of libtdl use. */
#ifndef TDL_NET_INTERNAL_H
#define TDL_NET_INTERNAL_H

#include "tdl/net.h"

/* As tdl_mlp_batch_grad, but grad is OVERWRITTEN with scale * sum_i dl_i/dtheta
 * (no need to zero it first; every entry is written). */
int tdl_net_batch_grad_set(const tdl_mlp *m, tdl_loss_kind loss, const tdl_batch *b, double scale,
                           tdl_net_work *w, double *loss_acc, double *grad);

#endif
