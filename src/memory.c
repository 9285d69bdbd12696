/* memory.c — how much memory there is, and the one guard that refuses a
 * request before it is allocated (tdl/memory.h).  Every size guard of the
 * library (dense matrices, landscape grids, ...) is built on
 * tdl_memory_require, so they share one rule: count * size + extra bytes,
 * overflow-checked, against MemAvailable. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include "tdl/memory.h"
#include "internal.h"

size_t tdl_memory_available(void)
{
    FILE *fp = fopen("/proc/meminfo", "r");
    if (!fp) return SIZE_MAX;
    char line[256];
    unsigned long long kb = 0;
    int found = 0;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            found = 1;
            break;
        }
    fclose(fp);
    if (!found || kb > SIZE_MAX / 1024) return SIZE_MAX;
    return (size_t)kb * 1024;
}

int tdl_memory_require_detail(size_t count, size_t size, size_t extra, const char *what, const char *detail)
{
    size_t bytes;
    int over = tdl_mul_size(count, size, &bytes) || tdl_add_size(bytes, extra, &bytes);
    size_t avail = tdl_memory_available();
    if (!over && bytes <= avail) return TDL_OK;
    double need = over ? INFINITY : (double)bytes / 1e9;
    if (detail && *detail)
        return tdl_fail(TDL_ETOOBIG, "%s needs %.3g GB (%s) but %.3g GB are available", what, need, detail,
                        (double)avail / 1e9);
    return tdl_fail(TDL_ETOOBIG, "%s needs %.3g GB but %.3g GB are available", what, need, (double)avail / 1e9);
}

int tdl_memory_require(size_t count, size_t size, size_t extra, const char *what)
{
    return tdl_memory_require_detail(count, size, extra, what, NULL);
}

int tdl_dense_memory_check(size_t dim, size_t count, size_t extra, const char *what)
{
    /* count dim x dim matrices of doubles: dim * dim * count elements of 8 bytes */
    size_t cells;
    char detail[96];
    snprintf(detail, sizeof detail, "%zu x %zu doubles x %zu", dim, dim, count);
    if (tdl_mul_size(dim, dim, &cells) || tdl_mul_size(cells, count, &cells))
        return tdl_memory_require_detail(SIZE_MAX, SIZE_MAX, extra, what, detail);
    return tdl_memory_require_detail(cells, sizeof(double), extra, what, detail);
}
