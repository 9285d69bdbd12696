/* memory.c — how much memory there is, and the guard that refuses a request
 * before it is allocated (tdl/memory.h). */
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

int tdl_dense_memory_check(size_t dim, size_t count, size_t extra, const char *what)
{
    size_t bytes;
    int over = tdl_mul_size(dim, dim, &bytes) || tdl_mul_size(bytes, sizeof(double), &bytes) ||
               tdl_mul_size(bytes, count, &bytes) || tdl_add_size(bytes, extra, &bytes);
    size_t avail = tdl_memory_available();
    if (over || bytes > avail) {
        double need = over ? INFINITY : (double)bytes / 1e9;
        return tdl_fail(TDL_ETOOBIG,
                        "%s needs %.3g GB (%zu x %zu doubles x %zu) but %.3g GB are available: use --method lanczos (top/bottom eigenvalues) or --method slq (spectral density)",
                        what, need, dim, dim, count, (double)avail / 1e9);
    }
    return TDL_OK;
}
