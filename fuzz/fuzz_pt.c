/* fuzz_pt.c — libFuzzer harness of tdl_torch_read_mem (torch.save .pt).
 *
 * An input that starts "PK" is parsed as it is (the zip container).  Any
 * other input is the pickle itself: the harness stores it as
 * archive/data.pkl in a zip next to storages archive/data/0 .. data/7 of 96
 * bytes each (12 F64, 24 F32, 48 F16/BF16 elements), so that mutations reach
 * the pickle interpreter without breaking the zip's sizes and offsets. */
#include <stdlib.h>
#include <string.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "fuzz_common.h"

#define N_STORAGES 8
#define STORAGE_BYTES 96

static void put16(unsigned char *p, size_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, size_t v) { put16(p, v & 0xffff); put16(p + 2, (v >> 16) & 0xffff); }

/* A zip of stored members (CRC fields 0: the reader skips zero CRCs). */
static unsigned char *zip_of(const uint8_t *pkl, size_t len, size_t *out_len)
{
    static unsigned char storage[STORAGE_BYTES];
    const char *names[1 + N_STORAGES] = {"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2",
                                         "archive/data/3", "archive/data/4", "archive/data/5", "archive/data/6",
                                         "archive/data/7"};
    size_t n = 1 + N_STORAGES, total = 22, offs[1 + N_STORAGES];
    for (size_t k = 0; k < STORAGE_BYTES; k++) storage[k] = (unsigned char)(k * 37 + 11);
    for (size_t i = 0; i < n; i++) total += 30 + 46 + 2 * strlen(names[i]) + (i ? STORAGE_BYTES : len);
    unsigned char *z = calloc(total, 1), *p = z;
    if (!z) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(names[i]), sz = i ? STORAGE_BYTES : len;
        offs[i] = (size_t)(p - z);
        put32(p, 0x04034b50u);
        put32(p + 18, sz);
        put32(p + 22, sz);
        put16(p + 26, nl);
        memcpy(p + 30, names[i], nl);
        memcpy(p + 30 + nl, i ? storage : pkl, sz);
        p += 30 + nl + sz;
    }
    size_t cd = (size_t)(p - z);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(names[i]), sz = i ? STORAGE_BYTES : len;
        put32(p, 0x02014b50u);
        put32(p + 20, sz);
        put32(p + 24, sz);
        put16(p + 28, nl);
        put32(p + 42, offs[i]);
        memcpy(p + 46, names[i], nl);
        p += 46 + nl;
    }
    put32(p, 0x06054b50u);
    put16(p + 8, n);
    put16(p + 10, n);
    put32(p + 12, (size_t)(p - z) - cd);
    put32(p + 16, cd);
    *out_len = (size_t)(p + 22 - z);
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdl_tensors *set = NULL;
    unsigned char *zip = NULL;
    const unsigned char *buf = data;
    size_t len = size;
    if (!(size >= 2 && data[0] == 'P' && data[1] == 'K')) {
        zip = zip_of(data, size, &len);
        if (!zip) return 0;
        buf = zip;
    }
    if (tdl_torch_read_mem(buf, len, "fuzz.pt", &set) == TDL_OK) {
        fuzz_check_set(set);
        tdl_tensors_free(&set);
    } else if (set != NULL) {
        __builtin_trap(); /* failure must leave *out NULL */
    }
    free(zip);
    return 0;
}
