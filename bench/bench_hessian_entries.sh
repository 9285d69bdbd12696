#!/bin/bash
# bench_hessian_entries.sh — tdl_hessian_entries (any submatrix of the exact
# Hessian, for the distributed assembly of issue 20) against
# tdl_hessian_dense (the single-process closed-form assembly), one process:
# the full index set, and the local shares of ranks of a 1 x 2 and a 2 x 2
# block-cyclic grid (nb = 64), on the nets of bench/bench_mpi.sh: fresh
# 64-H-10 nets (default init and activation) on digits (n = 1797, mean ce),
# P = 4810 (H = 64) and P = 9610 (H = 128), then a 100-40-10 net on
# Gaussian data (P = 4450, n = 2000) whose units straddle the blocks.
# Times are the best of REPS
# runs; each line also gives the largest |entry - dense| / max|H|.
# usage: bash bench/bench_hessian_entries.sh [BUILD_DIR] [--quick] [REPS]
#   --quick: P = 4810 only
# OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 measures the work alone (a
# single thread is the least disturbed by a loaded machine).
# The load average is printed beside each net: on a shared machine the
# times are upper bounds.
set -u
BUILD=${1:-build}
QUICK=0
REPS=3
for a in "${@:2}"; do
    case "$a" in
        --quick) QUICK=1 ;;
        *) REPS=$a ;;
    esac
done
B=$BUILD/bench/hessian_entries_bench
[ -x "$B" ] || { echo "bench_hessian_entries: build $BUILD first (ninja -C $BUILD)" >&2; exit 1; }
hidden="64 128"
[ "$QUICK" = 1 ] && hidden="64"
echo "threads: OMP_NUM_THREADS=${OMP_NUM_THREADS:-all} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-all} ($(nproc) cores)"
for h in $hidden; do
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$B" digits:normalize=standard "64-$h-10" "$REPS" 64 || exit 1
done
if [ "$QUICK" = 0 ]; then
    # units of 101 parameters that blocks of 64 cut anywhere (many feature
    # patterns: the grouped dgemms are smaller)
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$B" gauss:n=2000,d=100,classes=10 100-40-10 "$REPS" 64 || exit 1
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
