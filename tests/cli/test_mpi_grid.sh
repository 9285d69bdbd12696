#!/bin/bash
# CLI tests of `tdl landscape` and `tdl sweep` under `mpirun` (issue 20;
# tdl_dist_landscape_eval, tdl_dist_curve_eval, tdl_dist_sweep_run_all in
# tdl/dist.h): on 2 and 3 ranks (oversubscribed) against one process without
# mpirun, a 2D random plane with --test, an interpolation, a Hessian plane,
# a trained Bezier curve, --max-cells / --resume across rank counts, a width
# sweep and a params sweep; an MPMD run whose rank 1 reads other data shows
# that the cells (runs) really are dealt round-robin and that rank 1 writes
# nothing; errors: a malformed data file (every rank alike), a memory refusal
# on rank 1 before the work (landscape) and inside a run (sweep): one
# "tdl: error:" line, a non-zero exit, no hang (every mpirun under timeout).
#
# Equality: each grid cell, curve point and sweep run is the same
# computation on the rank that does it as on one process, so the numbers
# are compared bit for bit (the contract of tdl/dist.h).  That holds for the
# same thread count only (test_threads.sh: 1 vs 2 threads changes the last
# bits of BLAS sums), and mpirun binds its ranks to cores, so both sides run
# with --threads 1.  Timings ("seconds") and the "mpi_ranks" key, which only
# a run under mpirun has, are left out of the comparisons.
# Skips (exit 77) when tdl was built without MPI or mpirun is missing.
# usage: test_mpi_grid.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

mpi_setup # skip without MPI; $MPI: mpirun under a timeout, oversubscribed (lib.sh)
PY=/usr/bin/python3

# same_npz A B: every array of A equal bit for bit to B's, same names: each
# member of the .npz is an .npy file (header and raw values), so equal bytes
# after decompression are equal arrays (the standard library only)
same_npz() {
    $PY - "$1" "$2" <<'EOF'
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
assert sorted(a.namelist()) == sorted(b.namelist()), (a.namelist(), b.namelist())
for k in a.namelist():
    assert a.read(k) == b.read(k), k
EOF
}
# npz_f64 FILE NAME (python): the float64 values of one array of an .npz
NPZ_F64='
import ast, struct, zipfile
def npz_f64(path, name):
    raw = zipfile.ZipFile(path).read(name + ".npy")
    hl = struct.unpack("<H", raw[8:10])[0]
    head = ast.literal_eval(raw[10:10 + hl].decode())
    assert head["descr"] == "<f8" and not head["fortran_order"], head
    n = 1
    for d in head["shape"]: n *= d
    return struct.unpack("<%dd" % n, raw[10 + hl:10 + hl + 8 * n])
'
# same_json A B NP: the JSON documents equal but for timings; B (under
# mpirun -np NP) says "mpi_ranks": NP, A has no such key
same_json() {
    $PY - "$1" "$2" "$3" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert 'mpi_ranks' not in a and b.pop('mpi_ranks') == int(sys.argv[3])
def cmp(x, y, path):
    if isinstance(x, dict):
        assert set(x) == set(y), (path, set(x) ^ set(y))
        for k in x:
            if k != 'seconds': cmp(x[k], y[k], path + '.' + k)
    elif isinstance(x, list):
        assert len(x) == len(y), path
        for i, (p, q) in enumerate(zip(x, y)): cmp(p, q, '%s[%d]' % (path, i))
    else:
        assert x == y, (path, x, y)
cmp(a, b, '')
EOF
}
# same_csv A B: sweep.csv files equal but for the column "seconds"
same_csv() {
    $PY - "$1" "$2" <<'EOF'
import csv, sys
a = list(csv.reader(open(sys.argv[1]))); b = list(csv.reader(open(sys.argv[2])))
assert a[0] == b[0] and len(a) == len(b) > 1
s = a[0].index('seconds')
for i, (p, q) in enumerate(zip(a, b)):
    assert p[:s] + p[s + 1:] == q[:s] + q[s + 1:], i
EOF
}
no_temporaries() { ! ls "$WORK"/*.tmp.* "$WORK"/*/*.tmp.* >/dev/null 2>&1; }

D=iris:normalize=standard
T1="--threads 1"
run "$TDL" train --data "$D" --arch 4-8-3 --epochs 3 --seed 1 --quiet -o "$WORK/m1.safetensors"
run "$TDL" train --data "$D" --arch 4-8-3 --epochs 3 --seed 2 --quiet -o "$WORK/m2.safetensors"
M1=$WORK/m1.safetensors
M2=$WORK/m2.safetensors

# ---- tdl landscape ----------------------------------------------------------
# a 9 x 9 random plane with --test (81 cells: two rounds, 64 + 17, so the
# round size rank 0 picks and the checkpoint are exercised), -o and --json
L="landscape --model $M1 --data $D --test $D --plane random --grid 9 $T1"
run "$TDL" $L -o "$WORK/p1.npz" --json
expect_status 0 "random plane: one process"
cp "$WORK/out" "$WORK/p1.json"
for np in 2 3; do
    run $MPI -np $np "$TDL" $L -o "$WORK/p$np.npz" --json
    expect_status 0 "random plane on $np ranks"
    [ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "random plane on $np ranks: not one JSON line on stdout"
    same_json "$WORK/p1.json" "$WORK/out" $np && ok || bad "random plane on $np ranks: the JSON differs from one process's"
    same_npz "$WORK/p1.npz" "$WORK/p$np.npz" && ok || bad "random plane on $np ranks: the .npz differs from one process's"
    no_temporaries && ok || bad "random plane on $np ranks: a temporary left"
done

# an interpolation (41 points and the two end points), text output: the same
# lines but the time, which says the ranks
run "$TDL" landscape --model "$M1" --to "$M2" --data "$D" --test "$D" $T1
cp "$WORK/out" "$WORK/i1.txt"
for np in 2 3; do
    run $MPI -np $np "$TDL" landscape --model "$M1" --to "$M2" --data "$D" --test "$D" $T1
    expect_status 0 "interpolation on $np ranks"
    [ "$(grep -c '^time' "$WORK/out")" -eq 1 ] && ok || bad "interpolation on $np ranks: stdout not printed once"
    expect_out "dealt over $np MPI ranks" "interpolation on $np ranks: the time line says the ranks"
    cmp -s <(grep -v '^time' "$WORK/i1.txt") <(grep -v '^time' "$WORK/out") && ok ||
        bad "interpolation on $np ranks: differs from one process: $(diff "$WORK/i1.txt" "$WORK/out" | head -c 300)"
done

# a Hessian plane: the top two eigenvectors by Lanczos on rank 0, broadcast
run "$TDL" landscape --model "$M1" --data "$D" --plane hessian --grid 7 $T1 -o "$WORK/h1.npz" --json
cp "$WORK/out" "$WORK/h1.json"
run $MPI -np 2 "$TDL" landscape --model "$M1" --data "$D" --plane hessian --grid 7 $T1 -o "$WORK/h2.npz" --json
expect_status 0 "Hessian plane on 2 ranks"
same_json "$WORK/h1.json" "$WORK/out" 2 && ok || bad "Hessian plane on 2 ranks: the JSON differs"
same_npz "$WORK/h1.npz" "$WORK/h2.npz" && ok || bad "Hessian plane on 2 ranks: the .npz differs"

# mode connectivity: the Bezier bend trained on rank 0 and broadcast, the
# points of the line and the curve (train and test) dealt over the ranks
C="landscape --model $M1 --to $M2 --curve bezier --curve-epochs 3 --data $D --test $D --grid 11 $T1"
run "$TDL" $C -o "$WORK/c1.npz" --json
cp "$WORK/out" "$WORK/c1.json"
run $MPI -np 3 "$TDL" $C -o "$WORK/c3.npz" --json
expect_status 0 "Bezier curve on 3 ranks"
same_json "$WORK/c1.json" "$WORK/out" 3 && ok || bad "Bezier curve on 3 ranks: the JSON differs"
same_npz "$WORK/c1.npz" "$WORK/c3.npz" && ok || bad "Bezier curve on 3 ranks: the .npz differs"

# --max-cells on 3 ranks, --resume on 2: the grid of one process
G="landscape --model $M1 --data $D --plane random --grid 9 $T1"
run $MPI -np 3 "$TDL" $G --max-cells 30 -o "$WORK/r.npz"
expect_status 0 "--max-cells 30 on 3 ranks"
expect_out "30 of 81 cells filled" "--max-cells 30 on 3 ranks"
run $MPI -np 2 "$TDL" $G --resume "$WORK/r.npz" -o "$WORK/r.npz"
expect_status 0 "--resume on 2 ranks"
expect_out "81 of 81 cells filled" "--resume on 2 ranks"
run "$TDL" $G -o "$WORK/r1.npz"
same_npz "$WORK/r1.npz" "$WORK/r.npz" && ok || bad "--max-cells on 3 ranks then --resume on 2: not one process's grid"

# the cells are dealt round-robin: rank 1 reads the raw iris data (mpirun's
# MPMD form), so the odd cells of a 5 x 5 grid are that data's losses and
# the even ones the standardized data's; rank 1's -o is never written
G="landscape --model $M1 --plane random --grid 5 $T1"
run "$TDL" $G --data "$D" -o "$WORK/even.npz"
run "$TDL" $G --data iris -o "$WORK/odd.npz"
run $MPI -np 1 "$TDL" $G --data "$D" -o "$WORK/mixed.npz" : -np 1 "$TDL" $G --data iris -o "$WORK/rank1.npz"
expect_status 0 "MPMD landscape"
$PY -c "$NPZ_F64"'
import sys
e, o, m = (npz_f64(p, "loss") for p in sys.argv[1:])
assert all(x != y for x, y in zip(e, o))
for c in range(len(m)): assert m[c] == (e[c] if c % 2 == 0 else o[c]), c
' "$WORK/even.npz" "$WORK/odd.npz" "$WORK/mixed.npz" && ok || bad "MPMD landscape: cells not dealt round-robin"
expect_no_file "$WORK/rank1.npz" "MPMD landscape: rank 1 wrote its -o"

# ---- tdl sweep --------------------------------------------------------------
S="sweep width --arch 4-W-3 --data $D --test $D --values 2,4,8 --repeats 2 --epochs 3 $T1 --quiet"
run "$TDL" $S --out "$WORK/s1" --json
expect_status 0 "width sweep: one process"
cp "$WORK/out" "$WORK/s1.json"
for np in 2 3; do
    run $MPI -np $np "$TDL" $S --out "$WORK/s$np" --json
    expect_status 0 "width sweep on $np ranks"
    [ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "width sweep on $np ranks: not one JSON line on stdout"
    same_json "$WORK/s1.json" "$WORK/out" $np && ok || bad "width sweep on $np ranks: the JSON differs from one process's"
    same_csv "$WORK/s1/sweep.csv" "$WORK/s$np/sweep.csv" && ok || bad "width sweep on $np ranks: sweep.csv differs"
    same_json "$WORK/s1/sweep.json" "$WORK/s$np/sweep.json" $np && ok || bad "width sweep on $np ranks: sweep.json differs"
    no_temporaries && ok || bad "width sweep on $np ranks: a temporary left"
done
run $MPI -np 2 "$TDL" $S
expect_out "runs dealt over 2 MPI ranks" "width sweep on 2 ranks: the text says the ranks"
[ "$(grep -c '^sweep width' "$WORK/out")" -eq 1 ] && ok || bad "width sweep on 2 ranks: stdout not printed once"

# a params sweep (random-features least squares, no measures) on 3 ranks
P="sweep params --data teacher:n=80,d=6,k=3,seed=2,split=train --test teacher:n=80,d=6,k=3,seed=2,split=test
   --arch 6-W-1 --no-bias --param ntk --seed 3 --repeats 2 --values 32,80,512 $T1 --quiet"
run "$TDL" $P --out "$WORK/q1"
run $MPI -np 3 "$TDL" $P --out "$WORK/q3"
expect_status 0 "params sweep on 3 ranks"
same_csv "$WORK/q1/sweep.csv" "$WORK/q3/sweep.csv" && ok || bad "params sweep on 3 ranks: sweep.csv differs"

# the runs are dealt round-robin: rank 1 reads the raw iris data, so runs 1,
# 3, 5 are those of a sweep on it; rank 1's --out is never made
S="sweep width --arch 4-W-3 --test $D --values 2,4,8 --repeats 2 --epochs 2 $T1 --quiet"
run "$TDL" $S --data "$D" --out "$WORK/se"
run "$TDL" $S --data iris --out "$WORK/so"
run $MPI -np 1 "$TDL" $S --data "$D" --out "$WORK/sm" : -np 1 "$TDL" $S --data iris --out "$WORK/rank1"
expect_status 0 "MPMD sweep"
$PY - "$WORK/se/sweep.csv" "$WORK/so/sweep.csv" "$WORK/sm/sweep.csv" <<'EOF' && ok || bad "MPMD sweep: runs not dealt round-robin"
import csv, sys
e, o, m = (list(csv.reader(open(p))) for p in sys.argv[1:])
s = e[0].index('seconds')
strip = lambda r: r[:s] + r[s + 1:]
for i in range(1, len(m)):
    assert strip(e[i]) != strip(o[i]), i
    assert strip(m[i]) == strip(e[i] if (i - 1) % 2 == 0 else o[i]), i
EOF
[ ! -e "$WORK/rank1" ] && ok || bad "MPMD sweep: rank 1 made its --out directory"

# ---- errors -----------------------------------------------------------------
# a malformed data file (every rank fails alike): one message from rank 0
printf 'a,b,label\n1,2,0\n3,x,1\n' >"$WORK/bad.csv"
for cmd in "landscape --arch 2-3-2 --grid 5" "sweep width --arch 2-W-2 --values 2,3"; do
    run $MPI -np 2 "$TDL" $cmd --data "$WORK/bad.csv"
    [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "${cmd%% *} malformed file: exit $status (124: hung)"
    [ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "${cmd%% *} malformed file: not one tdl error line: $(head -c 300 "$WORK/err")"
    grep -q "bad.csv: line 3, column 2" "$WORK/err" && ok || bad "${cmd%% *} malformed file: the message names the file and the fault"
    expect_empty_out "${cmd%% *} malformed file: nothing on stdout"
done
# a memory refusal on rank 1 alone (TDL_MEMORY_LIMIT, the guard per rank):
# the landscape's 41 x 41 grid (0.13 MB) before the work; rank 0 says whose
G="landscape --model $M1 --data $D --plane random --grid 41"
run $MPI -np 1 "$TDL" $G -o "$WORK/never.npz" : -np 1 env TDL_MEMORY_LIMIT=50k "$TDL" $G -o "$WORK/never.npz"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "landscape refusal on rank 1: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "landscape refusal on rank 1: not one tdl error line: $(head -c 300 "$WORK/err")"
grep -q "^tdl: error: rank 1 of 2: a 41 x 41 grid needs" "$WORK/err" && ok || bad "landscape refusal on rank 1: $(head -c 300 "$WORK/err")"
expect_empty_out "landscape refusal on rank 1: nothing on stdout"
expect_no_file "$WORK/never.npz" "landscape refusal on rank 1: no output file"
# inside a run: run 1 of a params sweep (p = 512, 0.5 MB of least squares)
# on rank 1 with 100 kB; run 0 (p = 32) on rank 0 fits
P="sweep params --data teacher:n=80,d=6,k=3,seed=2,split=train --arch 6-W-1 --no-bias --values 32,512 --quiet"
run $MPI -np 1 "$TDL" $P --out "$WORK/qq" : -np 1 env TDL_MEMORY_LIMIT=100k "$TDL" $P --out "$WORK/qq"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "sweep refusal in a run on rank 1: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "sweep refusal in a run on rank 1: not one tdl error line: $(head -c 300 "$WORK/err")"
grep -q "^tdl: error: rank 1 of 2: random-features regression needs" "$WORK/err" && ok ||
    bad "sweep refusal in a run on rank 1: $(head -c 300 "$WORK/err")"
expect_empty_out "sweep refusal in a run on rank 1: nothing on stdout"
[ -z "$(ls -A "$WORK/qq" 2>/dev/null)" ] && ok || bad "sweep refusal in a run on rank 1: files in --out"

finish
