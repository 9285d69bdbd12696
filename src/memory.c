/* memory.c — how much memory there is, and the one guard that refuses a
 * request before it is allocated (tdl/memory.h).  Every size guard of the
 * library (dense matrices, landscape grids, ...) is built on
 * tdl_memory_require, so they share one rule: count * size + extra bytes,
 * overflow-checked, against what this process may still use
 * (tdl_memory_available). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "tdl/memory.h"
#include "internal.h"

/* A number of bytes with an optional suffix k, M, G, T (powers of 1024) or
 * "max" (no limit: SIZE_MAX); 0 when the text is not one. */
static int parse_bytes(const char *text, size_t *out)
{
    if (!strcmp(text, "max")) { *out = SIZE_MAX; return 1; }
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !(v >= 0)) return 0;
    double scale = 1;
    switch (*end) {
    case 'k': case 'K': scale = 1024.0; end++; break;
    case 'm': case 'M': scale = 1024.0 * 1024; end++; break;
    case 'g': case 'G': scale = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return 0;
    v *= scale;
    *out = v >= (double)SIZE_MAX ? SIZE_MAX : (size_t)v;
    return 1;
}

/* The first line of a small file as a byte count (cgroup files). */
static int read_bytes_file(const char *path, size_t *out)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    char line[64];
    int okay = fgets(line, sizeof line, fp) != NULL;
    fclose(fp);
    if (!okay) return 0;
    line[strcspn(line, "\n")] = '\0';
    return parse_bytes(line, out);
}

/* "Name:   N kB" of a /proc file, in bytes; 0 when absent. */
static int read_kb_field(const char *path, const char *name, size_t *out)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    char line[256], fmt[64];
    snprintf(fmt, sizeof fmt, "%s: %%llu kB", name);
    unsigned long long kb = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, fp)) found = sscanf(line, fmt, &kb) == 1;
    fclose(fp);
    if (!found) return 0;
    *out = kb > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kb * 1024;
    return 1;
}

/* The least of what the machine, the control group, the address-space limit
 * and TDL_MEMORY_LIMIT leave to this process:
 *   MemAvailable (/proc/meminfo);
 *   a control-group limit (the slice a batch scheduler such as SLURM gives a
 *     job): memory.max - memory.current of this process's group (cgroup v2),
 *     memory.limit_in_bytes - memory.usage_in_bytes (v1);
 *   RLIMIT_AS (ulimit -v): the soft limit minus this process's VmSize;
 *   TDL_MEMORY_LIMIT=BYTES (suffix k, M, G, T: powers of 1024): a cap per
 *     process, so that the ranks of one node can share it (under mpirun the
 *     guard is per rank) and so that a refusal can be tested.
 * SIZE_MAX when none is known. */
size_t tdl_memory_available(void)
{
    size_t avail = SIZE_MAX, v;
    if (read_kb_field("/proc/meminfo", "MemAvailable", &v)) avail = v;
    {
        /* /proc/self/cgroup: "0::/PATH" on cgroup v2 (memory.max,
         * memory.current), "N:memory:/PATH" on v1 (memory.limit_in_bytes,
         * memory.usage_in_bytes); the path is relative to the mount, which a
         * container may have rebased: when it does not exist, the mount's root */
        FILE *fp = fopen("/proc/self/cgroup", "r");
        char line[512];
        while (fp && fgets(line, sizeof line, fp)) {
            line[strcspn(line, "\n")] = '\0';
            const char *rel, *root, *fmax, *fcur;
            if (!strncmp(line, "0::", 3)) {
                rel = line + 3, root = "/sys/fs/cgroup", fmax = "memory.max", fcur = "memory.current";
            } else {
                const char *c = strstr(line, ":memory:");
                if (!c) continue;
                rel = c + 8, root = "/sys/fs/cgroup/memory", fmax = "memory.limit_in_bytes", fcur = "memory.usage_in_bytes";
            }
            char path[700];
            size_t max, cur;
            snprintf(path, sizeof path, "%s%s/%s", root, rel, fmax);
            if (access(path, R_OK) != 0) rel = "";
            snprintf(path, sizeof path, "%s%s/%s", root, rel, fmax);
            if (!read_bytes_file(path, &max) || max == SIZE_MAX) continue;
            snprintf(path, sizeof path, "%s%s/%s", root, rel, fcur);
            if (!read_bytes_file(path, &cur)) continue;
            size_t left = cur < max ? max - cur : 0;
            if (left < avail) avail = left;
        }
        if (fp) fclose(fp);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        size_t vm = 0;
        size_t lim = rl.rlim_cur > SIZE_MAX ? SIZE_MAX : (size_t)rl.rlim_cur;
        read_kb_field("/proc/self/status", "VmSize", &vm);
        size_t left = vm < lim ? lim - vm : 0;
        if (left < avail) avail = left;
    }
    const char *cap = getenv("TDL_MEMORY_LIMIT");
    if (cap && *cap && parse_bytes(cap, &v) && v < avail) avail = v;
    return avail;
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
