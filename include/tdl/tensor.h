/* tdl/tensor.h — named n-dimensional arrays as read from and written to files.
 *
 * A tdl_tensor is what a file holds under one name: its dtype AS STORED, its
 * shape, and its values converted to double (computing is always double
 * precision).  A tdl_tensors is an ordered set of them plus string metadata
 * (safetensors "__metadata__").  Ownership: tdl_tensors owns every name,
 * shape and data buffer in it; free with tdl_tensors_free(&set).
 */
#ifndef TDL_TENSOR_H
#define TDL_TENSOR_H
#include "tdl/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TDL_MAX_NDIM 8

typedef enum tdl_dtype {
    TDL_BOOL, TDL_U8, TDL_I8, TDL_U16, TDL_I16, TDL_U32, TDL_I32,
    TDL_U64, TDL_I64, TDL_F16, TDL_BF16, TDL_F32, TDL_F64,
    TDL_DTYPE_COUNT
} tdl_dtype;

typedef struct tdl_tensor {
    char *name;                    /* owned, NUL-terminated */
    tdl_dtype dtype;               /* dtype as stored in the file */
    size_t ndim;                   /* 0 for a scalar */
    size_t shape[TDL_MAX_NDIM];
    size_t numel;                  /* product of shape (1 for a scalar, may be 0) */
    double *data;                  /* owned; numel values, row-major (C order) */
} tdl_tensor;

typedef struct tdl_tensors {
    size_t count;
    tdl_tensor *items;             /* count tensors, in file order */
    size_t meta_count;
    char **meta_keys;              /* owned */
    char **meta_values;            /* owned */
    size_t capacity;               /* room in items (the library's bookkeeping) */
} tdl_tensors;

/* "F64", "BF16", ... (safetensors spelling). */
TDL_API const char *tdl_dtype_name(tdl_dtype dt);
/* Bytes per element (BOOL = 1). */
TDL_API size_t tdl_dtype_size(tdl_dtype dt);

/* An empty set; NULL when out of memory. */
TDL_API tdl_tensors *tdl_tensors_new(void);

/* Append a copy of data (numel = prod(shape) doubles, may be NULL when
 * numel == 0) under name, with dtype F64.  Fails with TDL_EINVAL on a
 * duplicate name, TDL_ETOOBIG on shape overflow. */
TDL_API int tdl_tensors_add(tdl_tensors *set, const char *name, size_t ndim,
                    const size_t *shape, const double *data);

/* Move a whole tensor (as tdl_npy_read or tdl_csv_read return it, dtype
 * kept) to the end of set: *t is consumed and set to NULL, on failure too.
 * Names are not checked here (the writers refuse duplicates). */
TDL_API int tdl_tensors_append(tdl_tensors *set, tdl_tensor **t);

/* Set (or replace) a metadata entry; both strings are copied. */
TDL_API int tdl_tensors_set_meta(tdl_tensors *set, const char *key, const char *value);

/* Lookups; NULL when absent. */
TDL_API const tdl_tensor *tdl_tensors_find(const tdl_tensors *set, const char *name);
TDL_API const char *tdl_tensors_meta(const tdl_tensors *set, const char *key);

/* Free the set and everything in it; *set becomes NULL. */
TDL_API void tdl_tensors_free(tdl_tensors **set);

/* Free one tensor allocated by tdl_npy_read; *t becomes NULL. */
TDL_API void tdl_tensor_free(tdl_tensor **t);

/* prod(shape) with overflow check: TDL_OK or TDL_ETOOBIG. */
TDL_API int tdl_shape_numel(size_t ndim, const size_t *shape, size_t *numel);

#ifdef __cplusplus
}
#endif
#endif
