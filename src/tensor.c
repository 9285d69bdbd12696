/* tensor.c — named tensor sets, dtype tables, half-precision conversion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tensor.h"
#include "internal.h"

static const char *const dtype_names[TDL_DTYPE_COUNT] = {
    "BOOL", "U8", "I8", "U16", "I16", "U32", "I32",
    "U64", "I64", "F16", "BF16", "F32", "F64",
};
static const size_t dtype_sizes[TDL_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};

const char *tdl_dtype_name(tdl_dtype dt)
{
    return ((unsigned)dt < TDL_DTYPE_COUNT) ? dtype_names[dt] : "?";
}

size_t tdl_dtype_size(tdl_dtype dt)
{
    return ((unsigned)dt < TDL_DTYPE_COUNT) ? dtype_sizes[dt] : 0;
}

int tdl_shape_numel(size_t ndim, const size_t *shape, size_t *numel)
{
    size_t n = 1;
    if (ndim > TDL_MAX_NDIM)
        return tdl_fail(TDL_ETOOBIG, "%zu dimensions (at most %d)", ndim, TDL_MAX_NDIM);
    for (size_t i = 0; i < ndim; i++)
        if (tdl_mul_size(n, shape[i], &n) != 0)
            return tdl_fail(TDL_ETOOBIG, "shape product overflows");
    *numel = n;
    return TDL_OK;
}

void *tdl_malloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) tdl_fail(TDL_ENOMEM, "out of memory allocating %zu bytes for %s", bytes, what);
    return p;
}

void *tdl_calloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) tdl_fail(TDL_ENOMEM, "out of memory allocating %zu x %zu bytes for %s", count, size, what);
    return p;
}

char *tdl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tdl_malloc(n, "a string");
    if (d) memcpy(d, s, n);
    return d;
}

tdl_tensors *tdl_tensors_new(void)
{
    return tdl_calloc(1, sizeof(tdl_tensors), "a tensor set");
}

const tdl_tensor *tdl_tensors_find(const tdl_tensors *set, const char *name)
{
    for (size_t i = 0; set && i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0) return &set->items[i];
    return NULL;
}

const char *tdl_tensors_meta(const tdl_tensors *set, const char *key)
{
    for (size_t i = 0; set && i < set->meta_count; i++)
        if (strcmp(set->meta_keys[i], key) == 0) return set->meta_values[i];
    return NULL;
}

int tdl_tensors_add(tdl_tensors *set, const char *name, size_t ndim,
                    const size_t *shape, const double *data)
{
    size_t numel, bytes;
    int st;
    if (tdl_tensors_find(set, name))
        return tdl_fail(TDL_EINVAL, "duplicate tensor name '%s'", name);
    if ((st = tdl_shape_numel(ndim, shape, &numel)) != TDL_OK) return st;
    if (tdl_mul_size(numel, sizeof(double), &bytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "tensor '%s' too large", name);
    tdl_tensor *items = set->items;
    if (set->count + 1 > set->capacity) {
        size_t cap = set->capacity ? 2 * set->capacity : 4;
        items = realloc(set->items, cap * sizeof *items);
        if (!items) return tdl_fail(TDL_ENOMEM, "out of memory adding tensor '%s'", name);
        set->items = items;
        set->capacity = cap;
    }
    tdl_tensor *t = &items[set->count];
    memset(t, 0, sizeof *t);
    t->name = tdl_strdup(name);
    t->data = tdl_malloc(bytes, "tensor data");
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return TDL_ENOMEM;
    }
    if (numel) memcpy(t->data, data, bytes);
    t->dtype = TDL_F64;
    t->ndim = ndim;
    for (size_t i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->numel = numel;
    set->count++;
    return TDL_OK;
}

int tdl_tensors_set_meta(tdl_tensors *set, const char *key, const char *value)
{
    for (size_t i = 0; i < set->meta_count; i++) {
        if (strcmp(set->meta_keys[i], key) == 0) {
            char *v = tdl_strdup(value);
            if (!v) return TDL_ENOMEM;
            free(set->meta_values[i]);
            set->meta_values[i] = v;
            return TDL_OK;
        }
    }
    char **keys = realloc(set->meta_keys, (set->meta_count + 1) * sizeof *keys);
    if (!keys) return tdl_fail(TDL_ENOMEM, "out of memory adding metadata");
    set->meta_keys = keys;
    char **values = realloc(set->meta_values, (set->meta_count + 1) * sizeof *values);
    if (!values) return tdl_fail(TDL_ENOMEM, "out of memory adding metadata");
    set->meta_values = values;
    char *k = tdl_strdup(key), *v = tdl_strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return TDL_ENOMEM;
    }
    keys[set->meta_count] = k;
    values[set->meta_count] = v;
    set->meta_count++;
    return TDL_OK;
}

void tdl_tensor_free(tdl_tensor **t)
{
    if (!t || !*t) return;
    free((*t)->name);
    free((*t)->data);
    free(*t);
    *t = NULL;
}

void tdl_tensors_free(tdl_tensors **set)
{
    if (!set || !*set) return;
    tdl_tensors *s = *set;
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].name);
        free(s->items[i].data);
    }
    free(s->items);
    for (size_t i = 0; i < s->meta_count; i++) {
        free(s->meta_keys[i]);
        free(s->meta_values[i]);
    }
    free(s->meta_keys);
    free(s->meta_values);
    free(s);
    *set = NULL;
}

/* IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
double tdl_f16_to_double(uint16_t h)
{
    int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0) v = ldexp((double)man, -24);                  /* subnormal */
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexp((double)(man | 0x400), exp - 25);
    return sign ? -v : v;
}

/* bfloat16: the upper 16 bits of an IEEE binary32. */
double tdl_bf16_to_double(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return (double)f;
}

void tdl_symmetrize(double *M, size_t n, size_t ld)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            double v = 0.5 * (M[i * ld + j] + M[j * ld + i]);
            M[i * ld + j] = v;
            M[j * ld + i] = v;
        }
}

int tdl_name_index(const char *const *names, size_t count, const char *text)
{
    for (size_t i = 0; text && i < count; i++)
        if (strcmp(text, names[i]) == 0) return (int)i;
    return -1;
}
