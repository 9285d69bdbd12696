/* fuzz_npy.c — libFuzzer harness of tdl_npy_read_mem.
 *
 * A successful parse is also written back (tdl_npy_write_mem, '<f8') and
 * parsed again: the second parse must give the same shape and the same
 * bits, i.e. read(write(read(x))) == read(x). */
#include <stdlib.h>
#include <string.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdl_tensor *t = NULL, *u = NULL;
    unsigned char *img = NULL;
    size_t len = 0;
    if (tdl_npy_read_mem(data, size, "fuzz.npy", &t) != TDL_OK) {
        if (t != NULL) __builtin_trap();
        return 0;
    }
    fuzz_check_tensor(t);
    if (tdl_npy_write_mem(t, &img, &len) == TDL_OK) {
        if (tdl_npy_read_mem(img, len, "again.npy", &u) != TDL_OK) __builtin_trap();
        if (u->ndim != t->ndim || u->numel != t->numel || u->dtype != TDL_F64) __builtin_trap();
        for (size_t k = 0; k < t->ndim; k++)
            if (u->shape[k] != t->shape[k]) __builtin_trap();
        if (t->numel && memcmp(u->data, t->data, t->numel * sizeof(double)) != 0)
            __builtin_trap();
        tdl_tensor_free(&u);
        free(img);
    }
    tdl_tensor_free(&t);
    return 0;
}
