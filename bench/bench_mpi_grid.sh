#!/bin/bash
# bench_mpi_grid.sh — `tdl landscape` and `tdl sweep` under MPI (issue 20;
# tdl_dist_landscape_eval, tdl_dist_sweep_run_all in tdl/dist.h): wall
# seconds of one process without mpirun against mpirun -np 1, 2, 3, and
# whether the outputs agree (bit for bit but the timings):
#   1. a 41 x 41 random plane (1681 cells, each a forward pass over the 1797
#      digits) of a fresh 64-512-10 net;
#   2. a width sweep 32,64,128,256 x 2 repeats (8 runs, 30 epochs each, the
#      bounds table per run) on digits.
# One process runs with --threads 1 (the reference: the ranks compute
# exactly what it does, so their outputs must equal its bit for bit) and
# with --threads nproc (all the cores, as a user would); every rank with
# --threads 1, so that np = nproc uses the cores and np > nproc
# oversubscribes.
# usage: bash bench/bench_mpi_grid.sh [BUILD_DIR] [--quick]
#   --quick: a 21 x 21 plane and 2 values x 2 repeats
# The load average is printed beside each measurement: on a shared machine
# the times are upper bounds.
set -u
BUILD=${1:-build}
QUICK=0
for a in "$@"; do [ "$a" = --quick ] && QUICK=1; done
TDL=$BUILD/tdl
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # as root: see README (MPI)
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI="mpirun --oversubscribe"
[ -x "$TDL" ] || { echo "bench_mpi_grid: build $BUILD first (ninja -C $BUILD)" >&2; exit 1; }
ldd "$TDL" | grep -q 'libmpi\.so' || { echo "bench_mpi_grid: $TDL was built without MPI" >&2; exit 1; }
TMP=$(mktemp -d /tmp/bench_mpi_grid.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
load() { cut -d' ' -f1 /proc/loadavg; }
NPROC=$(nproc)
D=digits:normalize=standard
GRID=41
VALUES=32,64,128,256
[ "$QUICK" = 1 ] && GRID=21 && VALUES=32,128

# time_it LABEL NP THREADS CMD...: wall seconds of CMD (NP 0: without mpirun)
time_it() {
    local label=$1 np=$2 th=$3
    shift 3
    local l s0 s1
    l=$(load)
    s0=$(date +%s.%N)
    if [ "$np" = 0 ]; then "$@" --threads "$th" >"$TMP/out" 2>"$TMP/err"
    else $MPI -np "$np" "$@" --threads "$th" >"$TMP/out" 2>"$TMP/err"; fi
    local rc=$?
    s1=$(date +%s.%N)
    [ $rc -eq 0 ] || { echo "$label: failed: $(head -c 300 "$TMP/err")"; return 1; }
    awk -v a="$s0" -v b="$s1" -v lab="$label" -v th="$th" -v l="$l" \
        'BEGIN { printf "  %-16s %8.2f s  (--threads %s; load %s)\n", lab, b - a, th, l }'
}

echo "== 1. tdl landscape: a $GRID x $GRID random plane of a fresh 64-512-10 net on $D"
L="landscape --arch 64-512-10 --data $D --plane random --grid $GRID"
time_it "one process" 0 1 "$TDL" $L -o "$TMP/g0.npz"
time_it "one process" 0 "$NPROC" "$TDL" $L -o "$TMP/gall.npz"
for np in 1 2 3; do time_it "mpirun -np $np" $np 1 "$TDL" $L -o "$TMP/g$np.npz"; done
/usr/bin/python3 - "$TMP" <<'PY'
import sys, numpy as np
d = sys.argv[1]
a = np.load(d + '/g0.npz')
for np_ in (1, 2, 3):
    b = np.load('%s/g%d.npz' % (d, np_))
    same = all(np.array_equal(a[k], b[k], equal_nan=True) for k in a.files)
    print('  -np %d: the .npz %s one process\'s at --threads 1' % (np_, 'equals' if same else 'DIFFERS from'))
PY

echo
echo "== 2. tdl sweep width: values $VALUES x 2 repeats, 30 epochs, on $D"
S="sweep width --arch 64-W-10 --data $D --values $VALUES --repeats 2 --epochs 30 --quiet"
time_it "one process" 0 1 "$TDL" $S --out "$TMP/s0"
time_it "one process" 0 "$NPROC" "$TDL" $S --out "$TMP/sall"
for np in 1 2 3; do time_it "mpirun -np $np" $np 1 "$TDL" $S --out "$TMP/s$np"; done
/usr/bin/python3 - "$TMP" <<'PY'
import csv, sys
d = sys.argv[1]
a = list(csv.reader(open(d + '/s0/sweep.csv')))
s = a[0].index('seconds')
for np_ in (1, 2, 3):
    b = list(csv.reader(open('%s/s%d/sweep.csv' % (d, np_))))
    same = len(a) == len(b) and all(p[:s] + p[s + 1:] == q[:s] + q[s + 1:] for p, q in zip(a, b))
    print('  -np %d: sweep.csv %s one process\'s at --threads 1 (the seconds column aside)' % (np_, 'equals' if same else 'DIFFERS from'))
PY
