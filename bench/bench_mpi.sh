#!/bin/bash
# bench_mpi.sh — `tdl hessian --method exact` under MPI (issue 20; tdl/dist.h).
#   1. one node, one process: LAPACK dsyevd_2stage against ELPA 2-stage,
#      and at P = 4810 ScaLAPACK pdsyevr and pdsyevd (mpirun -np 1) on the dense Hessian of a fresh
#      64-H-10 net on digits (P = 4810 with H = 64, 9610 with H = 128):
#      decides the default solver (tdl/dist.h: TDL_DIST_SOLVER_AUTO) and
#      whether ELPA should replace LAPACK without MPI;
#   2. the whole command (values of H): one process without mpirun (closed
#      forms + LAPACK), then mpirun -np 1, 2, 3 (HVP columns + ELPA): wall
#      seconds and the peak resident memory of every rank (GNU time %M);
#   3. tdl ntk, spectrum and kernel regression (n = 8000; --quick: 2000):
#      one process, then mpirun -np 1, 2, 3, seconds and peak RSS per rank;
#   the flop rates of part 1 ((4/3) P^3 flops of the values-only
#   tridiagonal reduction over the seconds) feed the README's capacity model.
# usage: bash bench/bench_mpi.sh [BUILD_DIR] [--quick]
#   --quick: P = 4810 only (a few minutes on 2 cores); else 4810 and 9610
# The load average is printed beside each measurement: on a shared machine
# the times are upper bounds.
set -u
BUILD=${1:-build}
QUICK=0
for a in "$@"; do [ "$a" = --quick ] && QUICK=1; done
TDL=$BUILD/tdl
DB=$BUILD/bench/dist_bench
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # as root: see README (MPI)
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI="mpirun --oversubscribe"
[ -x "$TDL" ] && [ -x "$DB" ] || { echo "bench_mpi: build $BUILD first (ninja -C $BUILD)" >&2; exit 1; }
ldd "$TDL" | grep -q 'libmpi\.so' || { echo "bench_mpi: $TDL was built without MPI" >&2; exit 1; }
load() { cut -d' ' -f1 /proc/loadavg; }
hidden="64"
[ "$QUICK" = 1 ] || hidden="64 128"

echo "== 1. the eigenvalues of the dense Hessian on one process (seconds, load average)"
for h in $hidden; do
    P=$((64 * h + h + h * 10 + 10))
    # the ScaLAPACK drivers, 2-8x slower than ELPA at P = 4810, only there
    solvers="lapack elpa"
    [ "$h" = 64 ] && solvers="lapack elpa scalapack pdsyevd"
    for s in $solvers; do
        l=$(load)
        r=$($MPI -np 1 "$DB" eigen digits:normalize=standard "64-$h-10" $s) || { echo "failed: $s P=$P"; continue; }
        # r: "DRIVER... SECONDS MAX|LAMBDA|"; the rate counts (4/3) P^3 flops
        echo "$r" | awk -v P="$P" -v l="$l" '{ t = $(NF - 1); d = $1; for (i = 2; i < NF - 1; i++) d = d " " $i
            printf "P=%s  %-18s %8.2f s  %6.1f GFlop/s ((4/3) P^3 / s)  max|lambda| %s  (load %s)\n", P, d, t, 4 / 3 * P * P * P / t / 1e9, $NF, l }'
    done
done

echo
echo "== 2. tdl hessian --method exact (values of H): wall seconds, peak RSS per rank"
for h in $hidden; do
    P=$((64 * h + h + h * 10 + 10))
    l=$(load)
    /usr/bin/time -f "%e %M" -o /tmp/bench_mpi.$$ "$TDL" hessian --arch "64-$h-10" --data digits:normalize=standard -o /tmp/bench_mpi_1.$$.npy >/dev/null
    read -r t m </tmp/bench_mpi.$$
    echo "P=$P  one process (LAPACK)       $t s   peak $((m / 1024)) MB   (load $l)"
    for np in 1 2 3; do
        l=$(load)
        rm -f /tmp/bench_mpi.$$.r*
        s0=$(date +%s.%N)
        # the cores shared out: --threads nproc / np per rank (at least 1)
        th=$(( $(nproc) / np )); [ "$th" -ge 1 ] || th=1
        $MPI -np $np sh -c 'exec /usr/bin/time -f "%e %M" -o "$0.r$OMPI_COMM_WORLD_RANK" "$@"' /tmp/bench_mpi.$$ \
            "$TDL" hessian --arch "64-$h-10" --data digits:normalize=standard --threads $th -o /tmp/bench_mpi_n.$$.npy >/dev/null
        s1=$(date +%s.%N)
        peaks=$(for f in /tmp/bench_mpi.$$.r*; do awk '{ printf "%d ", $2 / 1024 }' "$f"; done)
        echo "P=$P  mpirun -np $np (ELPA)      $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s   peak per rank MB: $peaks  (load $l)"
        /usr/bin/python3 -c "
import numpy as np, sys
a = np.load('/tmp/bench_mpi_1.$$.npy'); b = np.load('/tmp/bench_mpi_n.$$.npy')
print('        max |diff| / max|lambda| = %.2e' % (abs(a - b).max() / abs(a).max()))" 2>/dev/null
    done
done

echo
echo "== 3. tdl ntk (the traced empirical NTK of 784-100-10 on MNIST, n = 8000; --quick: 2000):"
echo "      spectrum and kernel regression (--predict, ridge 1e-3, 1000 test images):"
echo "      one process (LAPACK) against mpirun -np 1, 2, 3 (tdl_dist_gram: ELPA, pdpotrf/pdpotrs)"
[ "$QUICK" = 1 ] && n=2000 || n=8000
NTK_ARGS="--arch 784-100-10 --data mnist:n=$n --test mnist:split=test,n=1000 --predict --ridge 1e-3 --json"
l=$(load)
/usr/bin/time -f "%e %M" -o /tmp/bench_mpi.$$ "$TDL" ntk $NTK_ARGS >/tmp/bench_mpi_1.$$.json
read -r t m </tmp/bench_mpi.$$
echo "n=$n  one process (LAPACK)       $t s   peak $((m / 1024)) MB   (load $l)"
for np in 1 2 3; do
    l=$(load)
    rm -f /tmp/bench_mpi.$$.r*
    th=$(( $(nproc) / np )); [ "$th" -ge 1 ] || th=1
    s0=$(date +%s.%N)
    $MPI -np $np sh -c 'exec /usr/bin/time -f "%e %M" -o "$0.r$OMPI_COMM_WORLD_RANK" "$@"' /tmp/bench_mpi.$$ \
        "$TDL" ntk $NTK_ARGS --threads $th >/tmp/bench_mpi_n.$$.json
    s1=$(date +%s.%N)
    peaks=$(for f in /tmp/bench_mpi.$$.r*; do awk '{ printf "%d ", $2 / 1024 }' "$f"; done)
    echo "n=$n  mpirun -np $np (ELPA)      $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s   peak per rank MB: $peaks  (load $l)"
    /usr/bin/python3 -c "
import json
a = json.load(open('/tmp/bench_mpi_1.$$.json')); b = json.load(open('/tmp/bench_mpi_n.$$.json'))
e = max(abs(x - y) for x, y in zip(a['eigenvalues'], b['eigenvalues'])) / a['lambda_max']
p, q = a['predict']['test_predictions'], b['predict']['test_predictions']
print('        eigenvalues: max |diff| / lambda_max = %.2e; test predictions: %.2e of max |f|' % (e, max(abs(x - y) for x, y in zip(p, q)) / max(abs(x) for x in p)))" 2>/dev/null
done
rm -f /tmp/bench_mpi.$$* /tmp/bench_mpi_1.$$.npy /tmp/bench_mpi_n.$$.npy /tmp/bench_mpi_1.$$.json /tmp/bench_mpi_n.$$.json
