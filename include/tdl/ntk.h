/* tdl/ntk.h — neural tangent kernels (NTK) and NNGP kernels: everything of
 * the kernel modules in one include.
 *
 *   tdl/ntk_empirical.h      empirical NTK Gram matrices of a finite net, drift
 *   tdl/kernel_dual.h        analytic infinite-width kernels: dual maps of an
 *                            activation, the NNGP / NTK recursion
 *   tdl/du_arora.h           Du et al.'s H_inf and H(W), Arora et al.'s complexity
 *   tdl/kernel_regression.h  spectra, eta_max, kernel regression, the kernel
 *                            regime's predictions, Monte Carlo kernels
 *
 * Each header states its shape legend and conventions.
 */
#ifndef TDL_NTK_H
#define TDL_NTK_H

#include "tdl/ntk_empirical.h"
#include "tdl/kernel_dual.h"
#include "tdl/du_arora.h"
#include "tdl/kernel_regression.h"
#include "tdl/net.h"

#endif
