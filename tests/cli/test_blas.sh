#!/bin/bash
# CLI tests of the BLAS kernel choice (tdl/blas.h): the re-execution onto a
# tuned core, TDL_BLAS_CORE, the kernel named by --version and every --json,
# and results that agree across kernels within tolerances derived from the
# computation.  The automatic switch itself (generic core on an AVX2 CPU) needs
# a CPU that OpenBLAS does not recognize; its rule is unit-tested in
# tests/check_blas.c, and here the same re-execution path is driven through
# TDL_BLAS_CORE.
# usage: test_blas.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; if (s < 1e-300) s = 1; exit !(d <= t * s) }'; }
has_avx2=0; grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && has_avx2=1
has_avx512=0; for f in avx512f avx512cd avx512bw avx512dq avx512vl; do grep -qw $f /proc/cpuinfo || has_avx512=-1; done
[ $has_avx512 -eq 0 ] && has_avx512=1 || has_avx512=0
export -n OPENBLAS_CORETYPE TDL_BLAS_CORE TDL_BLAS_REPLACED 2>/dev/null
unset OPENBLAS_CORETYPE TDL_BLAS_CORE TDL_BLAS_REPLACED

# --version names the kernel and how it was chosen
run env OPENBLAS_CORETYPE=Prescott "$TDL" --version
expect_status 0 "version"
expect_out "BLAS kernel: Prescott (set by OPENBLAS_CORETYPE=Prescott)" "a pinned core is named with its origin"
run env TDL_BLAS_CORE=keep OPENBLAS_CORETYPE=Prescott "$TDL" --version
expect_out "BLAS kernel: Prescott" "keep opts out"

if [ $has_avx2 -eq 1 ]; then
    # the re-execution: TDL_BLAS_CORE replaces the pinned generic core
    run env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell "$TDL" --version
    expect_status 0 "re-executed"
    expect_out "BLAS kernel: Haswell (set by TDL_BLAS_CORE=Haswell in place of OpenBLAS's Prescott)" "switched to Haswell"
    # arguments and standard input survive the re-execution
    printf '1,2,0\n3,4,1\n5,6,0\n7,8,1\n' >"$WORK/d.csv"
    run env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell "$TDL" info --data "$WORK/d.csv" --json
    expect_status 0 "info after re-execution"
    expect_json blas_core '"Haswell"' "JSON names the kernel after re-execution"
    expect_json n 4 "arguments survive the re-execution"
    # the standalone check programs re-execute the same way
    check=$(dirname "$TDL")/proofs-checks/linear-regression-hessian
    if [ -x "$check" ]; then
        run env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell "$check" --quick --json
        expect_status 0 "standalone check re-executed"
        expect_json blas_core '"Haswell"' "standalone check names its kernel"
    fi
else
    run env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell "$TDL" --version
    expect_out "BLAS kernel: Prescott" "no AVX2: Haswell refused"
    expect_err "lacks" "says why"
fi
if [ $has_avx512 -eq 0 ]; then
    run env TDL_BLAS_CORE=SkylakeX "$TDL" --version
    expect_status 0 "SkylakeX refused without AVX-512, not fatal"
    expect_err "TDL_BLAS_CORE=SkylakeX needs instructions this CPU lacks" "refusal says why"
fi
# unknown names: a warning, the run goes on
run env TDL_BLAS_CORE=Pentium9 "$TDL" info --data iris --json
expect_status 0 "unknown core name is not fatal"
expect_err "TDL_BLAS_CORE=Pentium9 is not a core tdl selects" "names the bad value"

# every --json names the kernel: one command of each JSON writer
core=$("$TDL" --version | sed -n 's/^BLAS kernel: \([^ ]*\).*/\1/p')
"$TDL" train --data iris:normalize=standard --arch 4-6-3 --act tanh --epochs 20 --quiet -o "$WORK/m.safetensors" >/dev/null
for cmd in "info --data iris" "eval --model $WORK/m.safetensors --data iris:normalize=standard" \
    "hessian --model $WORK/m.safetensors --data iris:normalize=standard --k 3" \
    "ntk --arch 5-8-1 --data sphere:n=10,d=5" "check linear-regression-hessian --quick"; do
    run "$TDL" $cmd --json
    expect_status 0 "$cmd"
    expect_json blas_core "\"$core\"" "$cmd --json names the kernel"
done

# results agree across kernels: the exact Hessian spectrum (P = 51) and the
# empirical NTK under the generic and the AVX2 kernels.  Each is a sum of
# O(n P) products in another order, so the entries differ by a few n*eps
# relative to the largest; the eigenvalues by ||H|| * P * eps (Weyl).  1e-12
# relative to the largest eigenvalue is well above both and far below any
# real difference.
spectrum() { sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | head -n 1; }
run env TDL_BLAS_CORE=keep OPENBLAS_CORETYPE=Prescott "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --json
a=$(spectrum)
run env TDL_BLAS_CORE=keep OPENBLAS_CORETYPE=$([ $has_avx2 -eq 1 ] && echo Haswell || echo Nehalem) "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --json
b=$(spectrum)
if [ -n "$a" ] && awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x, ","); m = split(b, y, ","); if (n != m || n != 51) exit 1;
      s = 0; for (i = 1; i <= n; i++) { v = x[i] < 0 ? -x[i] : x[i]; if (v > s) s = v }
      for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-12 * s) exit 1 } }'; then ok
else bad "Hessian spectra differ across kernels beyond 1e-12 * lambda_max"; fi
run env TDL_BLAS_CORE=keep OPENBLAS_CORETYPE=Prescott "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --json
ta=$(json_get trace)
run env TDL_BLAS_CORE=keep OPENBLAS_CORETYPE=$([ $has_avx2 -eq 1 ] && echo Haswell || echo Nehalem) "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --json
tb=$(json_get trace)
if [ -n "$ta" ] && close "$ta" "$tb" 1e-13; then ok; else bad "NTK trace $ta vs $tb across kernels"; fi
finish
