/* tdl/blas.h — the BLAS kernel in use, and the choice of a tuned one.
 *
 * libtdl does its dense work through Debian's OpenBLAS, built with
 * DYNAMIC_ARCH: when the library loads, OpenBLAS picks the kernels of the
 * CPU it recognizes ("core": Haswell, SkylakeX, Zen, ...), or the one named by
 * the environment variable OPENBLAS_CORETYPE.  On a CPU it does not recognize,
 * OpenBLAS 0.3.21 falls back to its generic Prescott (SSE3) kernels without a
 * word: dgemm then runs at a third to a fifth of the machine's rate (measured
 * in the README).  The choice is made once, when OpenBLAS starts, so a program
 * that wants other kernels must set OPENBLAS_CORETYPE before OpenBLAS loads;
 * tdl_blas_select_kernel() does that by re-executing the program.
 *
 * The rule (tdl_blas_choose), steered by the environment variable
 * TDL_BLAS_CORE:
 *   unset, "" or "auto"  if OPENBLAS_CORETYPE is unset and OpenBLAS picked a
 *                        generic core (one without AVX2 kernels) on a CPU with
 *                        AVX2 and FMA, switch to Haswell — the AVX2 kernels,
 *                        the safe default on any such CPU;
 *   "keep"               never switch (opt out);
 *   a core name          switch to that core (e.g. SkylakeX, whose AVX-512
 *                        kernels are faster on CPUs that have AVX-512), if the
 *                        CPU has the instructions it needs; overrides
 *                        OPENBLAS_CORETYPE.
 * A library caller that cannot re-execute (a Python process, say) sets
 * OPENBLAS_CORETYPE itself before libtdl loads; tdl_blas_choose tells which.
 */
#ifndef TDL_BLAS_H
#define TDL_BLAS_H
#include <stddef.h>
#include "tdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Environment variables read here. */
#define TDL_BLAS_CORE_ENV "TDL_BLAS_CORE"
/* Set by tdl_blas_select_kernel on re-execution, to OpenBLAS's own choice
 * (so the new process does not re-execute again and can say what it replaced). */
#define TDL_BLAS_REPLACED_ENV "TDL_BLAS_REPLACED"

/* The OpenBLAS core whose kernels run in this process ("Haswell", ...). */
TDL_API const char *tdl_blas_core(void);
/* OpenBLAS's build configuration string (version, DYNAMIC_ARCH, core, threads). */
TDL_API const char *tdl_blas_config(void);
/* One line on how the core was chosen: by OpenBLAS's CPU detection, by
 * OPENBLAS_CORETYPE, or by tdl in place of OpenBLAS's generic choice. */
TDL_API const char *tdl_blas_core_origin(void);

/* 1 if the core's double-precision kernels use AVX2 or AVX-512 (Haswell, Zen,
 * SkylakeX, Cooperlake, SapphireRapids, Excavator), 0 for the generic and
 * older cores (Prescott, Core2, Nehalem, Sandybridge, ...). Case-insensitive. */
TDL_API int tdl_blas_core_is_tuned(const char *core);

typedef struct tdl_cpu_features {
    int avx;        /* AVX, with OS support for the YMM state (Sandybridge's kernels) */
    int avx2_fma;   /* AVX2 and FMA3 (Haswell's and Zen's kernels) */
    int avx512;     /* AVX-512 F, CD, BW, DQ and VL, with OS support (SkylakeX's kernels) */
    int avx512_bf16; /* and AVX512_BF16 (Cooperlake's kernels) */
} tdl_cpu_features;

/* The running CPU's features (all 0 off x86-64). */
TDL_API void tdl_cpu_features_detect(tdl_cpu_features *f);

typedef enum tdl_blas_action {
    TDL_BLAS_KEEP = 0,   /* run on the current core */
    TDL_BLAS_SWITCH,     /* re-execute with OPENBLAS_CORETYPE = core */
    TDL_BLAS_REFUSED     /* TDL_BLAS_CORE asked for something this CPU or OpenBLAS cannot run; keep */
} tdl_blas_action;

typedef struct tdl_blas_choice {
    tdl_blas_action action;
    char core[32];       /* the core to switch to (TDL_BLAS_SWITCH) */
    char reason[256];    /* why, in one line */
} tdl_blas_choice;

/* The decision alone, from its inputs (pure; tested with every case):
 * current   the core OpenBLAS runs now (tdl_blas_core());
 * coretype  the value of OPENBLAS_CORETYPE, or NULL when unset;
 * request   the value of TDL_BLAS_CORE, or NULL when unset;
 * cpu       the CPU's features. */
TDL_API void tdl_blas_choose(const char *current, const char *coretype, const char *request,
                             const tdl_cpu_features *cpu, tdl_blas_choice *out);

/* For a program's main(), before any other work: apply tdl_blas_choose to
 * this process and, on TDL_BLAS_SWITCH, set OPENBLAS_CORETYPE and re-execute
 * /proc/self/exe with argv (this call then does not return).  Returns the
 * action taken: TDL_BLAS_KEEP, or TDL_BLAS_REFUSED with the reason in
 * out->reason for the caller to print as a warning; a failed exec also returns
 * TDL_BLAS_REFUSED ("cannot re-execute ...") and the program goes on with the
 * current core.  Does nothing in a process that was already re-executed. */
TDL_API tdl_blas_action tdl_blas_select_kernel(char **argv, tdl_blas_choice *out);

/* Threads for the library's OpenMP loops and for OpenBLAS (0: leave both
 * as they are, all cores by default; at most 1024).  Results do not depend
 * on it beyond rounding (tests/cli/test_threads.sh). */
TDL_API void tdl_set_threads(size_t threads);

#ifdef __cplusplus
}
#endif
#endif
