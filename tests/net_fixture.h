/* net_fixture.h — golden derivative fixtures (tests/fixtures/net/, made by
 * tests/fixtures/make_net_fixtures.py with PyTorch float64) and small numeric
 * helpers shared by the Check suites that use them (net, hessian). */
#ifndef TDL_TEST_NET_FIXTURE_H
#define TDL_TEST_NET_FIXTURE_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "tdl/tdl.h"

#define NCASES 17
extern const char *const case_names[NCASES];

typedef struct fixture {
    const char *name;
    tdl_mlp *m;
    tdl_dataset *ds;
    tdl_loss_kind loss;
    tdl_tensors *ref;
    size_t n, d, C, P, k;
    double loss_ref;
    const double *grad, *J, *H, *G, *V, *HV, *GV;
} fixture;

const double *ref_array(const fixture *fx, const char *name, size_t ndim, size_t s0, size_t s1);
void fixture_load(const char *name, fixture *fx);
void fixture_free(fixture *fx);
double max_abs(const double *a, size_t n);
double max_diff(const double *a, const double *b, size_t n);
/* max |got - ref| / max |ref| (absolute when the reference is exactly zero). */
double rel_err(const double *got, const double *ref, size_t n);
double dot(const double *a, const double *b, size_t n);
double *dalloc(size_t n);
void random_unit(gsl_rng *r, double *u, size_t n);
tdl_net_work *work(const tdl_mlp *m, size_t cap);
/* The dense H (or G) assembled column by column from products with unit vectors. */
double *assemble(const fixture *fx, tdl_net_work *w, int gauss_newton);

#endif
