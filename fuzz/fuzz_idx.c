/* fuzz_idx.c — libFuzzer harness of tdl_idx_read_mem (IDX, plain or gzip).
 *
 * Beyond the common promises (fuzz_common.h), a successful parse of a plain
 * (not gzip) input must have consumed it exactly: 4 + 4 ndim header bytes
 * plus numel values of the dtype's size, since the reader refuses both
 * truncated data and trailing bytes.  An integer dtype's values must be
 * integers within its range. */
#include <math.h>
#include <stdlib.h>
#include "tdl/error.h"
#include "tdl/datasets.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdl_tensor *t = NULL;
    if (tdl_idx_read_mem(data, size, "fuzz.idx", &t) != TDL_OK) {
        if (t != NULL) __builtin_trap();
        return 0;
    }
    fuzz_check_tensor(t);
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!gz && size != 4 + 4 * t->ndim + t->numel * tdl_dtype_size(t->dtype)) __builtin_trap();
    double lo = 0, hi = 0;
    switch (t->dtype) {
    case TDL_U8: lo = 0; hi = 255; break;
    case TDL_I8: lo = -128; hi = 127; break;
    case TDL_I16: lo = -32768; hi = 32767; break;
    case TDL_I32: lo = -2147483648.0; hi = 2147483647.0; break;
    case TDL_F32: case TDL_F64: break;
    default: __builtin_trap();  /* no other IDX type */
    }
    if (hi > lo)
        for (size_t i = 0; i < t->numel; i++)
            if (!(t->data[i] >= lo && t->data[i] <= hi && t->data[i] == floor(t->data[i]))) __builtin_trap();
    tdl_tensor_free(&t);
    return 0;
}
