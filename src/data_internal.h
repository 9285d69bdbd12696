/* data_internal.h — pieces of the data module shared by data.c, synthetic.c and datasets_external.c. */
#ifndef TDL_DATA_INTERNAL_H
#define TDL_DATA_INTERNAL_H

#include <stddef.h>
#include "tdl/data.h"

/* The spec grammar (tdl_data_spec_parse, the typed lookups) is public: tdl/data.h. */

/* The public tdl_dataset_create (tdl/data.h), under its older internal name. */
#define tdl_dataset_alloc tdl_dataset_create

/* Synthetic generators (synthetic.c).  `name` is one of gauss, sphere,
 * teacher, spirals, xor; the spec's keys are consumed. */
int tdl_synthetic_generate(tdl_spec *s, tdl_dataset **out);
int tdl_is_synthetic(const char *name);

/* The sets in their distributed formats (datasets_external.c): idx:,
 * mnist:root=, fashion-mnist:root=, cifar10:root=.  Public in
 * tdl/datasets.h; declared here as well so that the loader's dispatch
 * (data.c) does not include that header, which includes tdl/data.h (the
 * layering test refuses the cycle data <-> datasets). */
int tdl_dataset_is_external(const tdl_spec *s);
int tdl_dataset_load_external(tdl_spec *s, tdl_dataset **out, char *desc, size_t desc_len);

#endif
