/* blas.c — the OpenBLAS kernel in use, and the choice of a tuned one (tdl/blas.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "tdl/blas.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS's own introspection (declared in its cblas.h, which Debian ships
 * under a per-variant path; we declare the two functions we use). */
char *openblas_get_corename(void);
char *openblas_get_config(void);

const char *tdl_blas_core(void) { return openblas_get_corename(); }

const char *tdl_blas_config(void) { return openblas_get_config(); }

/* The cores tdl knows, with the instructions their double-precision kernels
 * need (OpenBLAS 0.3.21, driver/others/dynamic.c and kernel/x86_64/KERNEL.*):
 * Sandybridge uses AVX; Haswell, Zen and Excavator AVX2 + FMA3; SkylakeX
 * AVX-512 F/CD/BW/DQ/VL; Cooperlake SkylakeX's plus AVX512_BF16 (its dgemm is
 * SkylakeX's).  The generic x86-64 cores need SSE2/SSE3 only. */
enum need { NEED_SSE, NEED_AVX, NEED_AVX2, NEED_AVX512, NEED_AVX512_BF16, NEED_UNKNOWN };
static const struct {
    const char *name;
    enum need need;
    int tuned; /* AVX2 or AVX-512 double-precision kernels */
} cores[] = {
    {"Prescott", NEED_SSE, 0},       {"Core2", NEED_SSE, 0},         {"Penryn", NEED_SSE, 0},
    {"Dunnington", NEED_SSE, 0},     {"Nehalem", NEED_SSE, 0},       {"Atom", NEED_SSE, 0},
    {"Opteron", NEED_SSE, 0},        {"Opteron(SSE3)", NEED_SSE, 0}, {"Barcelona", NEED_SSE, 0},
    {"Nano", NEED_SSE, 0},           {"Bobcat", NEED_SSE, 0},        {"Sandybridge", NEED_AVX, 0},
    {"Bulldozer", NEED_UNKNOWN, 0},  {"Piledriver", NEED_UNKNOWN, 0}, {"Steamroller", NEED_UNKNOWN, 0},
    {"Haswell", NEED_AVX2, 1},       {"Zen", NEED_AVX2, 1},          {"Excavator", NEED_AVX2, 1},
    {"SkylakeX", NEED_AVX512, 1},    {"Cooperlake", NEED_AVX512_BF16, 1},
    {"SapphireRapids", NEED_UNKNOWN, 1},
};
#define N_CORES (sizeof cores / sizeof cores[0])

static int core_index(const char *name)
{
    if (!name) return -1;
    for (size_t i = 0; i < N_CORES; i++)
        if (strcasecmp(name, cores[i].name) == 0) return (int)i;
    return -1;
}

int tdl_blas_core_is_tuned(const char *core)
{
    int i = core_index(core);
    return i >= 0 && cores[i].tuned;
}

static int cpu_has(const tdl_cpu_features *cpu, enum need need)
{
    switch (need) {
    case NEED_SSE: return 1; /* every x86-64 CPU */
    case NEED_AVX: return cpu->avx;
    case NEED_AVX2: return cpu->avx2_fma;
    case NEED_AVX512: return cpu->avx512;
    case NEED_AVX512_BF16: return cpu->avx512 && cpu->avx512_bf16;
    default: return 0; /* tdl does not vouch for it: the user sets OPENBLAS_CORETYPE */
    }
}

void tdl_cpu_features_detect(tdl_cpu_features *f)
{
    memset(f, 0, sizeof *f);
#if defined(__x86_64__) && defined(__GNUC__)
    /* libgcc's CPU model checks the OS's XSAVE support (XGETBV) for the AVX
     * and AVX-512 states, so these mean "usable", not only "present". */
    __builtin_cpu_init();
    f->avx = __builtin_cpu_supports("avx") != 0;
    f->avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f->avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512vl");
    f->avx512_bf16 = __builtin_cpu_supports("avx512bf16") != 0;
#endif
}

__attribute__((format(printf, 4, 5))) static void set_choice(tdl_blas_choice *out, tdl_blas_action action,
                                                               const char *core, const char *fmt, ...)
{
    out->action = action;
    snprintf(out->core, sizeof out->core, "%s", core ? core : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

void tdl_blas_choose(const char *current, const char *coretype, const char *request, const tdl_cpu_features *cpu,
                     tdl_blas_choice *out)
{
    static const tdl_cpu_features none = {0, 0, 0, 0};
    if (!cpu) cpu = &none;
    if (!current) current = "unknown";
    const int automatic = !request || !request[0] || strcasecmp(request, "auto") == 0;
    if (!automatic && strcasecmp(request, "keep") == 0) {
        set_choice(out, TDL_BLAS_KEEP, NULL, TDL_BLAS_CORE_ENV "=keep: OpenBLAS's %s kernels are kept", current);
        return;
    }
    if (!automatic) {
        int i = core_index(request);
        if (i < 0 || cores[i].need == NEED_UNKNOWN) {
            set_choice(out, TDL_BLAS_REFUSED, NULL,
                       TDL_BLAS_CORE_ENV "=%s is not a core tdl selects (Haswell, SkylakeX, Cooperlake, Zen, "
                       "Sandybridge, Nehalem, Prescott, keep or auto); keeping %s",
                       request, current);
            return;
        }
        if (!cpu_has(cpu, cores[i].need)) {
            set_choice(out, TDL_BLAS_REFUSED, NULL,
                       TDL_BLAS_CORE_ENV "=%s needs instructions this CPU lacks; keeping %s", cores[i].name,
                       current);
            return;
        }
        if (strcasecmp(current, cores[i].name) == 0) {
            set_choice(out, TDL_BLAS_KEEP, cores[i].name, TDL_BLAS_CORE_ENV "=%s: already in use", cores[i].name);
            return;
        }
        set_choice(out, TDL_BLAS_SWITCH, cores[i].name, TDL_BLAS_CORE_ENV "=%s asks for it in place of %s",
                   cores[i].name, current);
        return;
    }
    if (coretype && coretype[0]) {
        set_choice(out, TDL_BLAS_KEEP, NULL, "OPENBLAS_CORETYPE=%s is the user's choice", coretype);
        return;
    }
    if (tdl_blas_core_is_tuned(current)) {
        set_choice(out, TDL_BLAS_KEEP, NULL, "OpenBLAS detected this CPU and runs its %s kernels", current);
        return;
    }
    if (!cpu->avx2_fma) {
        set_choice(out, TDL_BLAS_KEEP, NULL, "OpenBLAS runs its %s kernels; this CPU has no AVX2/FMA", current);
        return;
    }
    set_choice(out, TDL_BLAS_SWITCH, "Haswell",
               "OpenBLAS picked its generic %s kernels on a CPU with AVX2 and FMA; tdl runs Haswell's", current);
}

tdl_blas_action tdl_blas_select_kernel(char **argv, tdl_blas_choice *out)
{
    tdl_blas_choice local;
    if (!out) out = &local;
    memset(out, 0, sizeof *out);
    if (getenv(TDL_BLAS_REPLACED_ENV)) { /* this process is the re-execution */
        out->action = TDL_BLAS_KEEP;
        return TDL_BLAS_KEEP;
    }
    tdl_cpu_features cpu;
    tdl_cpu_features_detect(&cpu);
    const char *current = tdl_blas_core();
    const char *before = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "";
    if (before) snprintf(saved, sizeof saved, "%s", before);
    tdl_blas_choose(current, before, getenv(TDL_BLAS_CORE_ENV), &cpu, out);
    if (out->action != TDL_BLAS_SWITCH) return out->action;
    if (argv && argv[0] && setenv("OPENBLAS_CORETYPE", out->core, 1) == 0 &&
        setenv(TDL_BLAS_REPLACED_ENV, current ? current : "unknown", 1) == 0) {
        fflush(NULL);
        execv("/proc/self/exe", argv);
    }
    /* still here: the exec failed (no /proc, say); go on with the current core */
    unsetenv(TDL_BLAS_REPLACED_ENV);
    if (before) setenv("OPENBLAS_CORETYPE", saved, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    out->action = TDL_BLAS_REFUSED;
    snprintf(out->reason, sizeof out->reason, "cannot re-execute /proc/self/exe to switch to %s; keeping %s",
             out->core, current);
    return out->action;
}

const char *tdl_blas_core_origin(void)
{
    static char line[256];
    const char *replaced = getenv(TDL_BLAS_REPLACED_ENV), *coretype = getenv("OPENBLAS_CORETYPE");
    const char *request = getenv(TDL_BLAS_CORE_ENV), *core = tdl_blas_core();
    int asked = request && request[0] && strcasecmp(request, "auto") != 0;
    if (replaced && coretype && strcasecmp(core, coretype) == 0 && asked)
        snprintf(line, sizeof line, "set by %s=%s in place of OpenBLAS's %s", TDL_BLAS_CORE_ENV, request, replaced);
    else if (replaced && coretype && strcasecmp(core, coretype) == 0)
        snprintf(line, sizeof line, "chosen by tdl in place of OpenBLAS's generic %s; %s=keep opts out", replaced,
                 TDL_BLAS_CORE_ENV);
    else if (coretype && coretype[0])
        snprintf(line, sizeof line, "set by OPENBLAS_CORETYPE=%s", coretype);
    else
        snprintf(line, sizeof line, "OpenBLAS's detection of this CPU");
    return line;
}

void openblas_set_num_threads(int num_threads);

void tdl_set_threads(size_t threads)
{
    if (threads == 0) return;
    if (threads > 1024) threads = 1024;
#ifdef _OPENMP
    omp_set_num_threads((int)threads);
#endif
    openblas_set_num_threads((int)threads);
}
