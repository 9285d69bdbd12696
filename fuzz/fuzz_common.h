/* fuzz_common.h — shared checks of the libFuzzer harnesses.
 *
 * Beyond "no crash, no leak, no undefined behaviour" (ASan + UBSan), the
 * harnesses check what every successful parse promises: at most
 * TDL_MAX_NDIM dimensions, numel == prod(shape), and every value readable.
 * A broken promise calls __builtin_trap() so libFuzzer records the input.
 */
#ifndef TDL_FUZZ_COMMON_H
#define TDL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "tdl/tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_check_tensor(const tdl_tensor *t)
{
    size_t n = 1;
    volatile double sink = 0.0;
    if (!t->name || t->ndim > TDL_MAX_NDIM || (unsigned)t->dtype >= TDL_DTYPE_COUNT)
        __builtin_trap();
    for (size_t k = 0; k < t->ndim; k++) {
        if (t->shape[k] != 0 && n > SIZE_MAX / t->shape[k]) __builtin_trap();
        n *= t->shape[k];
    }
    if (n != t->numel || (n && !t->data)) __builtin_trap();
    for (size_t i = 0; i < n; i++) sink += t->data[i];  /* ASan sees short buffers */
    (void)sink;
}

static inline void fuzz_check_set(const tdl_tensors *s)
{
    for (size_t i = 0; i < s->count; i++) {
        fuzz_check_tensor(&s->items[i]);
        if (tdl_tensors_find(s, s->items[i].name) != &s->items[i]) __builtin_trap();  /* unique */
    }
    for (size_t i = 0; i < s->meta_count; i++)
        if (!s->meta_keys[i] || !s->meta_values[i]) __builtin_trap();
}

#endif
