/* fuzz_safetensors.c — libFuzzer harness of tdl_safetensors_read_mem. */
#include "tdl/error.h"
#include "tdl/io.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdl_tensors *set = NULL;
    if (tdl_safetensors_read_mem(data, size, "fuzz.safetensors", &set) == TDL_OK) {
        fuzz_check_set(set);
        tdl_tensors_free(&set);
    } else if (set != NULL) {
        __builtin_trap();  /* failure must leave *out NULL */
    }
    return 0;
}
