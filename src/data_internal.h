/* data_internal.h — pieces of the data module shared by data.c and synthetic.c. */
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

#endif
