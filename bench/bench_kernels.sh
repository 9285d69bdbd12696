#!/bin/bash
# bench_kernels.sh — the OpenBLAS kernels side by side on this machine: the
# generic Prescott kernels that OpenBLAS 0.3.21 falls back to on a CPU it does
# not recognize, Haswell's AVX2 kernels (tdl's automatic choice there), and
# SkylakeX's AVX-512 kernels (TDL_BLAS_CORE=SkylakeX), plus this machine's own
# detection (OPENBLAS_CORETYPE unset).  For each: the dgemm rate, the exact
# Hessian spectrum (64-64-10 relu on digits, P = 4810, n = 1797) and the
# empirical NTK Gram (784-1024-1 relu on the sphere, n = 4000, d = 784).
# Each timing is the best of REPEATS runs, all with the same thread count.
# The last rows time tdl's own switch: OpenBLAS starts on Prescott and tdl
# re-executes itself onto Haswell (driven by TDL_BLAS_CORE, since this CPU is
# recognized; on an unrecognized one the same path runs with nothing set), to
# show that the switch costs nothing against Haswell pinned by hand.
# usage: bench/bench_kernels.sh [BUILD_DIR] [THREADS] [REPEATS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
reps=${3:-3}
tdl=$build/tdl
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE TDL_BLAS_CORE TDL_BLAS_REPLACED

"$tdl" train --data digits --arch 64-64-10 --act relu --epochs 5 --quiet -o "$out/m.safetensors" >/dev/null

# best wall time of REPEATS runs of a command (seconds)
best() {
    local b=1e30 s t0 t1
    for _ in $(seq "$reps"); do
        t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        b=$(awk -v a="$b" -v s="$s" 'BEGIN { print (s < a ? s : a) }')
    done
    echo "$b"
}
hessian() { "$tdl" hessian --model "$out/m.safetensors" --data digits --threads "$threads"; }
ntk() { "$tdl" ntk --arch 784-1024-1 --data sphere:n=4000,d=784 --threads "$threads"; }

native=$(env -u OPENBLAS_CORETYPE "$tdl" --version | sed -n 's/^BLAS kernel: \([^ ]*\).*/\1/p')
printf "bench kernels (%d threads, best of %d)\n" "$threads" "$reps"
printf "  %-34s %12s %12s %12s\n" "kernel" "dgemm GF/s" "hessian s" "ntk s"
declare -A H N
for core in Prescott Haswell SkylakeX native; do
    if [ "$core" = native ]; then envs=(env -u OPENBLAS_CORETYPE TDL_BLAS_CORE=keep); label="$native (unset: detected)"
    else envs=(env OPENBLAS_CORETYPE=$core TDL_BLAS_CORE=keep); label="$core (pinned)"; fi
    g=$("${envs[@]}" OPENBLAS_NUM_THREADS="$threads" "$build/bench/dgemm_rate" 2000 "$reps")
    H[$core]=$(best "${envs[@]}" bash -c "$(declare -f hessian); tdl='$tdl' out='$out' threads=$threads hessian")
    N[$core]=$(best "${envs[@]}" bash -c "$(declare -f ntk); tdl='$tdl' threads=$threads ntk")
    printf "  %-34s %12.1f %12.2f %12.2f\n" "$label" "$g" "${H[$core]}" "${N[$core]}"
done
sh=$(best env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell bash -c "$(declare -f hessian); tdl='$tdl' out='$out' threads=$threads hessian")
sn=$(best env OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=Haswell bash -c "$(declare -f ntk); tdl='$tdl' threads=$threads ntk")
printf "  %-34s %12s %12.2f %12.2f\n" "Prescott -> Haswell (tdl switches)" "-" "$sh" "$sn"
awk -v ph="${H[Prescott]}" -v pn="${N[Prescott]}" -v hh="${H[Haswell]}" -v hn="${N[Haswell]}" \
    -v sh="$sh" -v sn="$sn" 'BEGIN {
  printf "  generic/Haswell time ratio: hessian %.2fx, ntk %.2fx\n", ph / hh, pn / hn;
  printf "  switched/pinned Haswell:    hessian %.3f, ntk %.3f (target <= 1.10)\n", sh / hh, sn / hn;
}'
