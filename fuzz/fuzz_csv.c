/* fuzz_csv.c — libFuzzer harness of tdl_csv_read_mem.  A parsed CSV is a
 * rows x cols matrix of finite numbers (NaN and infinity are rejected). */
#include <math.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdl_tensor *t = NULL;
    if (tdl_csv_read_mem((const char *)data, size, "fuzz.csv", &t) != TDL_OK) {
        if (t != NULL) __builtin_trap();
        return 0;
    }
    fuzz_check_tensor(t);
    if (t->ndim != 2 || t->numel == 0 || t->dtype != TDL_F64) __builtin_trap();
    for (size_t i = 0; i < t->numel; i++)
        if (!isfinite(t->data[i])) __builtin_trap();
    tdl_tensor_free(&t);
    return 0;
}
