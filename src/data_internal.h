/* data_internal.h — pieces of the data module shared by data.c and synthetic.c. */
#ifndef TDL_DATA_INTERNAL_H
#define TDL_DATA_INTERNAL_H

#include <stddef.h>
#include "tdl/data.h"

/* One `key=value` of a data spec; `used` marks keys some part consumed. */
typedef struct tdl_spec_kv {
    char *key;
    char *value;
    int used;
} tdl_spec_kv;

typedef struct tdl_spec {
    char *name;          /* the part before the first ':' */
    size_t count;
    tdl_spec_kv *kv;
    const char *text;    /* the whole spec, for messages */
} tdl_spec;

/* Parse NAME[:key=value[,key=value...]] (tdl/data.h) without loading
 * anything: the grammar the loader itself uses (tdl_dataset_load,
 * tdl_dataset_spec_files), split out for fuzz/fuzz_dataspec.c.  On TDL_OK
 * *s owns name and kv (free with tdl_data_spec_free) and s->text borrows
 * `text`, which must outlive it.  Keys are non-empty and unique, values
 * non-empty; an empty item (",,") or one without '=' is TDL_EINVAL, a
 * trailing ',' is accepted.  On failure *s owns nothing (message set). */
int tdl_data_spec_parse(const char *text, tdl_spec *s);
/* Free what tdl_data_spec_parse allocated and zero *s. */
void tdl_data_spec_free(tdl_spec *s);

/* Typed lookups: return TDL_OK and leave *out untouched when the key is
 * absent; fail with TDL_EINVAL naming the spec when the value is bad. */
int tdl_spec_size(tdl_spec *s, const char *key, size_t lo, size_t hi, size_t *out);
int tdl_spec_double(tdl_spec *s, const char *key, double lo, double hi, double *out);
const char *tdl_spec_string(tdl_spec *s, const char *key);

/* The public tdl_dataset_create (tdl/data.h), under its older internal name. */
#define tdl_dataset_alloc tdl_dataset_create

/* Synthetic generators (synthetic.c).  `name` is one of gauss, sphere,
 * teacher, spirals, xor; the spec's keys are consumed. */
int tdl_synthetic_generate(tdl_spec *s, tdl_dataset **out);
int tdl_is_synthetic(const char *name);

#endif
