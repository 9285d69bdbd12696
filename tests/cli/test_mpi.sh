#!/bin/bash
# CLI tests of `tdl` under `mpirun` (issue 20; tdl/dist.h): the exact Hessian,
# G and R = H - G on 2 and 3 ranks (a 1 x 2 and a 1 x 3 BLACS grid; with 3 the
# block-cyclic split is uneven) and under `mpirun -np 1`, against one process
# without mpirun; index ranges, --which magnitude with eigenvectors and
# residuals; one JSON document and one written file; the NTK Gram spectrum,
# NTK kernel ridge regression (pdpotrf / pdpotrs) and
# data-parallel Lanczos / Hutch++ and a landscape grid split over the ranks
# (through bench/dist_bench); tdl ntk (empirical, analytic NTK and NNGP,
# H_inf; spectrum, Arora's complexity, predictions at t = infinity and at a
# finite time) against one process; and errors: a malformed
# file (every rank fails alike), the memory guard on rank 1 alone
# (TDL_MEMORY_LIMIT) and an allocation failure on rank 1 alone (each
# gives one "tdl: error:" line, a non-zero exit and no hang: every mpirun runs
# under `timeout`), and a file that only rank 1 cannot read.
# Skips (exit 77) when tdl was built without MPI or mpirun is missing.
# As root (CI): OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;
# --oversubscribe: 3 ranks on a 2-core machine.
# usage: test_mpi.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

mpi_setup # skip without MPI; $MPI: mpirun under a timeout, oversubscribed (lib.sh)

# max |a_i - b_i| / max |a_i| over the numbers of two CSV files (header skipped)
rel_diff() {
    paste -d, <(tail -n +2 "$1") <(tail -n +2 "$2") | awk -F, '
        { h = NF / 2; if (h != int(h) || NF == 0) { bad = 1; exit }
          for (i = 1; i <= h; i++) { d = $i - $(i + h); if (d < 0) d = -d; if (d > dd) dd = d
                                     a = $i < 0 ? -$i : $i; if (a > mx) mx = a } ; n++ }
        END { if (bad || n == 0) print "nan"; else printf "%.3g\n", dd / (mx > 0 ? mx : 1) }'
}
# rel_ok VALUE BOUND: VALUE a number <= BOUND
rel_ok() { awk -v v="$1" -v b="$2" 'BEGIN { exit !(v ~ /^[0-9.e+-]+$/ && v + 0 <= b + 0) }'; }
# The bound: each side's eigenvalues are within dim eps ||H||_2 of those of
# the matrix it solved (tdl/linalg.h, both solvers backward stable), and the
# two matrices differ by the assembly's rounding, at most (n + P) eps ||H||_F
# (the roundoff level of `tdl hessian`); with ||H||_F <= sqrt(P) ||H||_2:
# |diff| <= 2 (n + P) eps sqrt(P) max|lambda|.  Iris: n = 150.
bound() { awk -v n="$1" -v p="$2" 'BEGIN { printf "%.3g\n", 2 * (n + p) * 2 ^ -52 * sqrt(p) }'; }

# json_same ONE.json MPI.json: every number of one process's JSON and of the
# run under mpirun equal within 1e-10, relative to the largest |value| of
# its array (the issue's contract), but the timings; what only a run under
# mpirun has (ranks, eigen_solver) is checked and dropped; a kernel's
# lambda_min is compared within its PSD tolerance n eps ||K|| (each solver's
# error bound), its condition number (or its null and reason) only when
# lambda_min is well above it (else both are rounding noise)
json_same() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
if 'ranks' in b and 'ranks' not in a:
    assert b.pop('ranks') >= 1 and 'BLACS grid' in b.pop('eigen_solver')
tol = a.get('psd_tolerance')
if tol is not None and not a['lambda_min'] > 1e6 * tol:
    # lambda_min at rounding level: its sign, and so whether the condition
    # number is a number or null with a reason, is noise on either side
    for d in (a, b):
        d.pop('condition_number', None)
        d.pop('condition_number_reason', None)
def cmp(x, y, path):
    if isinstance(x, dict):
        assert set(x) == set(y), (path, set(x) ^ set(y))
        for k in x:
            if k.startswith('seconds'): continue
            if k == 'lambda_min' and tol is not None:
                assert abs(x[k] - y[k]) <= 2 * tol, (path, x[k], y[k])
                continue
            cmp(x[k], y[k], path + '.' + k)
    elif isinstance(x, list) and x and all(isinstance(v, (int, float)) for v in x):
        m = max(abs(v) for v in x) or 1
        assert len(x) == len(y) and max(abs(p - q) for p, q in zip(x, y)) <= 1e-10 * m, path
    elif isinstance(x, list):
        assert len(x) == len(y), path
        for i, (p, q) in enumerate(zip(x, y)): cmp(p, q, '%s[%d]' % (path, i))
    elif isinstance(x, float):
        assert abs(x - y) <= 1e-10 * max(abs(x), 1e-300), (path, x, y)
    else:
        assert x == y, (path, str(x)[:80], str(y)[:80])
cmp(a, b, '')
EOF
}

D=iris:normalize=standard
# a deep net (HVP columns in both paths) and a shallow one (closed forms in
# both: tdl_hessian_dense in one process, tdl_hessian_entries on each rank's
# blocks under MPI): P = 4*8+8+8*5+5+5*3+3 = 103, 4*16+16+16*3+3 = 131
for arch in 4-8-5-3 4-16-3; do
    P=$(echo "$arch" | awk -F- '{ p = 0; for (i = 2; i <= NF; i++) p += $(i - 1) * $i + $i; print p }')
    B=$(bound 150 "$P")
    run "$TDL" hessian --arch "$arch" --data "$D" --gn -o "$WORK/one.csv"
    expect_status 0 "$arch: one process"
    for np in 1 2 3; do
        run $MPI -np $np "$TDL" hessian --arch "$arch" --data "$D" --gn -o "$WORK/np$np.csv"
        expect_status 0 "$arch: mpirun -np $np"
        expect_out "BLACS grid of $np MPI ranks" "$arch -np $np: the driver says the grid"
        [ "$(grep -c '^method' "$WORK/out")" -eq 1 ] && ok || bad "$arch -np $np: stdout printed once, by rank 0"
        r=$(rel_diff "$WORK/one.csv" "$WORK/np$np.csv")
        rel_ok "$r" "$B" && ok || bad "$arch -np $np: H, G, R differ by $r of max|lambda| (bound $B)"
        ! ls "$WORK/np$np.csv".tmp.* >/dev/null 2>&1 && ok || bad "$arch -np $np: a temporary left"
    done
done

# a matrix smaller than the grid (P = 2 on 3 ranks: a process column without
# a block, which ELPA cannot take) goes to pdsyevr, with the same values
printf 'x,y\n1,0\n2,1\n3,0\n' >"$WORK/tiny.csv"
run "$TDL" hessian --arch 1-1 --data "$WORK/tiny.csv" --loss mse -o "$WORK/t1.csv"
run $MPI -np 3 "$TDL" hessian --arch 1-1 --data "$WORK/tiny.csv" --loss mse -o "$WORK/t3.csv"
expect_status 0 "P = 2 on 3 ranks"
expect_out "ScaLAPACK pdsyevr, 1 x 3 BLACS grid" "P = 2 on 3 ranks: pdsyevr"
r=$(rel_diff "$WORK/t1.csv" "$WORK/t3.csv")
rel_ok "$r" "$(bound 3 2)" && ok || bad "P = 2 on 3 ranks: differ by $r"

# an index range and the scalapack solver: the 5 smallest of H on 3 ranks
run "$TDL" hessian --arch 4-8-5-3 --data "$D" --k 5 --which bottom -o "$WORK/b1.csv"
TDL_DIST_SOLVER=scalapack run $MPI -np 3 "$TDL" hessian --arch 4-8-5-3 --data "$D" --k 5 --which bottom -o "$WORK/b3.csv"
expect_status 0 "--k 5 --which bottom on 3 ranks"
expect_out "ScaLAPACK pdsyevr" "TDL_DIST_SOLVER=scalapack is reported"
r=$(rel_diff "$WORK/b1.csv" "$WORK/b3.csv")
rel_ok "$r" "$(bound 150 103)" && ok || bad "--k 5 bottom: differ by $r"
[ "$(tail -n +2 "$WORK/b3.csv" | wc -l)" -eq 5 ] && ok || bad "--k 5: 5 values written"
# one layer's block of a shallow net (closed forms on rows and columns offset
# into theta): layer 1 of 4-16-3 on 3 ranks, H, G and R
run "$TDL" hessian --arch 4-16-3 --data "$D" --gn --layer 1 -o "$WORK/l1.csv"
run $MPI -np 3 "$TDL" hessian --arch 4-16-3 --data "$D" --gn --layer 1 -o "$WORK/l3.csv"
expect_status 0 "--layer 1 on 3 ranks"
r=$(rel_diff "$WORK/l1.csv" "$WORK/l3.csv")
rel_ok "$r" "$(bound 150 51)" && ok || bad "--layer 1 on 3 ranks: differ by $r"
[ "$(tail -n +2 "$WORK/l3.csv" | wc -l)" -eq 51 ] && ok || bad "--layer 1: the block's 51 values"
# ScaLAPACK's divide and conquer (pdsyevd: every pair, then the range kept)
TDL_DIST_SOLVER=pdsyevd run $MPI -np 2 "$TDL" hessian --arch 4-8-5-3 --data "$D" --k 5 --which bottom -o "$WORK/b2.csv"
expect_status 0 "pdsyevd on 2 ranks"
expect_out "ScaLAPACK pdsyevd, 1 x 2 BLACS grid" "TDL_DIST_SOLVER=pdsyevd is reported"
r=$(rel_diff "$WORK/b1.csv" "$WORK/b2.csv")
rel_ok "$r" "$(bound 150 103)" && ok || bad "pdsyevd --k 5 bottom: differ by $r"

# --which magnitude with eigenvectors: the same values; residuals in the JSON
# (one document on stdout); each vector equal up to sign to one process's
run "$TDL" hessian --arch 4-8-5-3 --data "$D" --k 4 --which magnitude --vectors "$WORK/v1.npy" -o "$WORK/m1.csv"
run $MPI -np 2 "$TDL" hessian --arch 4-8-5-3 --data "$D" --k 4 --which magnitude --vectors "$WORK/v2.npy" -o "$WORK/m2.csv" --json
expect_status 0 "--which magnitude --vectors on 2 ranks"
[ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "--json: one JSON line on stdout"
expect_out '"residuals":[' "--json: the residuals"
r=$(rel_diff "$WORK/m1.csv" "$WORK/m2.csv")
rel_ok "$r" "$(bound 150 103)" && ok || bad "--which magnitude: differ by $r"
# vectors: |v1_j . v2_j| = 1 within the angle bound eps ||H|| / gap (Davis-Kahan);
# the top values of this net are separated by > 1e-3 ||H||: 1e-9 is ample
if /usr/bin/python3 - "$WORK/v1.npy" "$WORK/v2.npy" <<'EOF'
import struct, sys
def load(p):
    b = open(p, 'rb').read()
    hl = struct.unpack('<H', b[8:10])[0]
    h = b[10:10 + hl].decode()
    shape = eval(h)['shape']
    n = shape[0] * shape[1]
    return shape, struct.unpack('<%dd' % n, b[10 + hl:10 + hl + 8 * n])
s1, a = load(sys.argv[1]); s2, b = load(sys.argv[2])
assert s1 == s2, (s1, s2)
rows, cols = s1
for j in range(cols):
    d = sum(a[i * cols + j] * b[i * cols + j] for i in range(rows))
    assert abs(abs(d) - 1) < 1e-9, (j, d)
EOF
then ok; else bad "eigenvectors on 2 ranks differ from one process's"; fi

# tdl hessian --method lanczos / slq on 3 ranks (data-parallel products, the
# same iteration on every rank) against one process: every number of the
# JSON but the timings; eigenvalues, residuals and bounds relative to the
# largest |value| of their array, within 1e-10 (the issue's contract; the
# products differ by the order of sums over examples: observed 1e-15)
for args in "--method lanczos --k 4 --gn" "--method slq --runs 3 --steps 20"; do
    run "$TDL" hessian --arch 4-8-5-3 --data "$D" $args --json
    cp "$WORK/out" "$WORK/mf1.json"
    run $MPI -np 3 "$TDL" hessian --arch 4-8-5-3 --data "$D" $args --json
    expect_status 0 "$args on 3 ranks"
    if json_same "$WORK/mf1.json" "$WORK/out"
    then ok; else bad "$args: 3 ranks differ from one process"; fi
done

# the traced empirical NTK Gram matrix of iris (n = 150) on 2 and 3 ranks,
# by bench/dist_bench (tdl_dist_gram_eigenvalues against tdl_ntk_empirical +
# LAPACK on rank 0; exit 1 beyond the bound): entries of the two sides differ
# by rounding of sums over h + d = 20 terms, and each solver is within n eps
# ||K||: 2 (n + 20) eps sqrt(n) of max|lambda| as above
DB=$(dirname "$TDL")/bench/dist_bench
if [ -x "$DB" ]; then
    for np in 2 3; do
        run $MPI -np $np "$DB" ntk "$D" 4-16-3 "$(bound 150 20 | awk -v n=150 '{ printf "%.3g", $1 * sqrt(n) / sqrt(20) }')"
        expect_status 0 "NTK Gram spectrum on $np ranks: $(head -c 200 "$WORK/out") $(head -c 200 "$WORK/err")"
        expect_out "BLACS grid of $np MPI ranks" "NTK on $np ranks: the driver"
    done
    # NTK kernel ridge regression by pdpotrf / pdpotrs (ridge 1e-3 trace/n)
    # against an eigendecomposition on one process: both backward stable, so
    # they differ by ~ n eps cond(K + ridge I) (observed 2e-12); 1e-10 is the
    # issue's contract
    for np in 2 3; do
        run $MPI -np $np "$DB" krr "$D" 4-16-3 1e-10
        expect_status 0 "NTK ridge regression on $np ranks: $(head -c 200 "$WORK/out") $(head -c 200 "$WORK/err")"
        expect_out "$np ranks" "ridge regression on $np ranks"
    done
    # data-parallel Hessian-vector products (tdl_dist_hessian_operator: the
    # examples split over the ranks): the 5 largest eigenvalues by Lanczos
    # and Hutch++'s trace (same seeds) against one process; the products
    # differ by the order of the sums over examples, rounding that the
    # converged Ritz values carry at the same order; 1e-10 is the issue's
    # contract (observed: 1e-15)
    for np in 2 3; do
        run $MPI -np $np "$DB" lanczos "$D" 4-8-5-3 5 1e-10
        expect_status 0 "Lanczos + Hutch++ data-parallel on $np ranks: $(head -c 200 "$WORK/out") $(head -c 200 "$WORK/err")"
        expect_out "$np ranks" "Lanczos on $np ranks ran on $np ranks"
    done
    # a 7 x 5 landscape grid (35 cells: 18/17 and 12/12/11 per rank), cells
    # round-robin over the ranks (tdl_dist_landscape_eval): each cell is the
    # same computation as on one process, so equal bit for bit
    for np in 2 3; do
        run $MPI -np $np "$DB" landscape "$D" 4-8-5-3 7 5
        expect_status 0 "landscape grid on $np ranks: $(head -c 200 "$WORK/out") $(head -c 200 "$WORK/err")"
        expect_out "0 cells differ" "landscape grid on $np ranks: every cell bit for bit"
    done
else
    bad "no $DB (ninja builds bench/)"
fi

# errors: a malformed file on every rank -> one message, exit 1
printf '\020\0\0\0\0\0\0\0{"a":' >"$WORK/bad.safetensors" # a header of 16 bytes cut at 5
run $MPI -np 2 "$TDL" hessian --model "$WORK/bad.safetensors" --data "$D"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "malformed file: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "malformed file: not one tdl error line: $(head -c 300 "$WORK/err")"
grep -q "bad.safetensors: truncated" "$WORK/err" && ok || bad "malformed file: the message names the file and the fault"
expect_empty_out "malformed file: nothing on stdout"

# a file that only rank 1 cannot read (as on a node without the shared
# disk; mpirun's MPMD form gives rank 1 other arguments): rank 0 waits at the
# checkpoint before the work, learns rank 1's error there and prints it once
run $MPI -np 1 "$TDL" hessian --arch 4-8-5-3 --data "$D" : -np 1 "$TDL" hessian --arch 4-8-5-3 --data "$WORK/nowhere/x.csv"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "unreadable file on rank 1: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "unreadable file on rank 1: not one tdl error line: $(head -c 300 "$WORK/err")"
grep -q "^tdl: error: rank 1 of 2: .*nowhere/x.csv" "$WORK/err" && ok || bad "unreadable file on rank 1: whose and which file: $(head -c 300 "$WORK/err")"
expect_empty_out "unreadable file on rank 1: nothing on stdout"

# tdl ntk under mpirun (tdl_dist_gram: the Gram matrix block-cyclic, its
# spectrum by ELPA / pdsyevr, ridge solves by pdpotrf / pdpotrs, the flow at
# a finite time from the eigenvectors, the test kernel split by examples)
# against one process (json_same; observed <= 8e-14: the kernels' entries
# differ by the rounding of their inner products, the solvers are backward
# stable, and the predictions carry cond(K + ridge I) times that)
for args in "--arch 4-16-3 --predict --ridge 1e-3" "--arch 4-16-3 --predict --time 3 --lr 0.5" \
            "--arch 4-16-1 --ntk-outputs sum --predict --time 5" "--arch 4-16-3 --analytic --predict --ridge 1e-2" \
            "--arch 4-16-3 --analytic --nngp --predict --time 2 --ridge 1e-2" "--h-inf --predict --ridge 1e-2"; do
    run "$TDL" ntk $args --data "$D" --test "$D" --json
    cp "$WORK/out" "$WORK/ntk1.json"
    for np in 2 3; do
        run $MPI -np $np "$TDL" ntk $args --data "$D" --test "$D" --json
        expect_status 0 "ntk $args on $np ranks"
        if json_same "$WORK/ntk1.json" "$WORK/out" 2>"$WORK/why"; then ok; else bad "ntk $args: $np ranks differ from one process: $(tail -c 300 "$WORK/why")"; fi
    done
done
run $MPI -np 2 "$TDL" ntk --arch 4-16-1 --data "$D" --plot "$WORK/ntk.png"
expect_status 0 "ntk text and figure on 2 ranks"
expect_out "ranks        ELPA 2-stage, 1 x 2 BLACS grid of 2 MPI ranks" "ntk text: the grid and the solver"
[ "$(grep -c '^lambda_max' "$WORK/out")" -eq 1 ] && ok || bad "ntk on 2 ranks: stdout printed once, by rank 0"
[ -s "$WORK/ntk.png" ] && ok || bad "ntk on 2 ranks: no figure"
! ls "$WORK"/ntk.png.tmp.* >/dev/null 2>&1 && ok || bad "ntk on 2 ranks: a temporary left"
# tdl hessian --method dual: one process's job, refused under mpirun
run $MPI -np 2 "$TDL" hessian --arch 4-16-3 --data "$D" --gn --method dual
expect_status 2 "hessian --method dual under mpirun"
grep -q "^tdl hessian: --method dual runs on one process" "$WORK/err" && ok || bad "dual under mpirun: why: $(head -c 300 "$WORK/err")"
# what needs the whole matrix on one process says so (usage, exit 2)
run $MPI -np 2 "$TDL" ntk --arch 4-16-3 --data "$D" -o "$WORK/never.npy"
expect_status 2 "ntk -o under mpirun"
grep -q "^tdl ntk: -o needs the whole Gram matrix on one process" "$WORK/err" && ok || bad "ntk -o under mpirun: why: $(head -c 300 "$WORK/err")"
expect_no_file "$WORK/never.npy" "ntk -o under mpirun: no file"
# a kernel that is not positive definite at ridge 0: lambda_min and the advice
run $MPI -np 2 "$TDL" ntk --arch 4-16-3 --data "$D" --test "$D" --predict --ridge 0
expect_status 1 "ntk --ridge 0 on 2 ranks"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "ntk --ridge 0: not one error line: $(head -c 300 "$WORK/err")"
grep -q "not positive definite (lambda_min = .*tdl ntk --ridge takes the relative value" "$WORK/err" && ok ||
    bad "ntk --ridge 0: lambda_min and the advice: $(head -c 300 "$WORK/err")"
expect_empty_out "ntk --ridge 0: nothing on stdout"
# the memory guard per rank: rank 1 capped by TDL_MEMORY_LIMIT (tdl/memory.h)
# below its share of digits' 1797 x 1797 Gram matrix (2 x 1797 x 899 doubles
# = 25.8 MB) but above the data (0.9 MB): rank 1 refuses before allocating,
# rank 0 prints rank 1's message once, every rank exits
run $MPI -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then export TDL_MEMORY_LIMIT=8M; fi; exec "$0" "$@"' \
    "$TDL" ntk --arch 64-16-10 --data digits --json
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "guard on rank 1: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "guard on rank 1: not one tdl error line: $(head -c 400 "$WORK/err")"
grep -q "^tdl: error: rank 1 of 2: rank 1's share of the 1797 x 1797 Gram matrix needs 0.0258 GB" "$WORK/err" && ok ||
    bad "guard on rank 1: whose share, how much: $(head -c 300 "$WORK/err")"
expect_empty_out "guard on rank 1: nothing on stdout"
# the same cap on rank 1 of tdl hessian: its share of the dense Hessian
run $MPI -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then export TDL_MEMORY_LIMIT=100k; fi; exec "$0" "$@"' \
    "$TDL" hessian --arch 4-16-3 --data "$D" --gn -o "$WORK/never.csv"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "hessian guard on rank 1: exit $status (124: hung)"
grep -q "^tdl: error: rank 1 of 2: rank 1's share of the dense Hessian needs" "$WORK/err" && ok ||
    bad "hessian guard on rank 1: whose share: $(head -c 300 "$WORK/err")"
expect_no_file "$WORK/never.csv" "hessian guard on rank 1: no output file"

# a memory refusal on rank 1 alone (its address space capped by ulimit -v):
# P = 64*160+160+160*10+10 = 12010, each rank's share 2 x 12010 x 6005
# doubles = 1.15 GB; rank 1 may map 0.8 GB in all: its guard, which counts
# the address-space limit less what the process has mapped (tdl/memory.h),
# refuses (or, were the guard to let it pass, its allocation fails); rank 0's
# succeeds, and rank 0 reports rank 1's message; nothing is computed
# (not under AddressSanitizer: its shadow memory is terabytes of address
# space, which ulimit -v cannot leave room for)
if ldd "$TDL" | grep -q libasan; then echo "finish: the refusal on one rank is not run under ASan"; finish; exit; fi
run $MPI -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then ulimit -v 800000; fi; exec "$0" "$@"' \
    "$TDL" hessian --arch 64-160-10 --data digits --threads 1 -o "$WORK/never.csv"
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && ok || bad "refusal on rank 1: exit $status (124: hung)"
[ "$(grep -c '^tdl: error:' "$WORK/err")" -eq 1 ] && ok || bad "refusal on rank 1: not one tdl error line: $(head -c 400 "$WORK/err")"
grep -q -e "^tdl: error: rank 1 of 2: rank 1's share of the dense Hessian needs 1.15 GB" \
        -e "^tdl: error: rank 1 of 2: out of memory allocating [0-9]* bytes for" "$WORK/err" && ok ||
    bad "refusal on rank 1: rank 0 does not say whose and what: $(head -c 300 "$WORK/err")"
expect_empty_out "refusal on rank 1: nothing on stdout"
expect_no_file "$WORK/never.csv" "refusal on rank 1: no output file"

# a command without a distributed path runs on rank 0 alone (main.c): one
# output, the same as without mpirun, and one model file written once
run "$TDL" info --data "$D"
cp "$WORK/out" "$WORK/info-one.txt"
run $MPI -np 3 "$TDL" info --data "$D"
expect_status 0 "tdl info under mpirun -np 3"
cmp -s "$WORK/out" "$WORK/info-one.txt" && ok || bad "tdl info under mpirun: not the one-process output once: $(head -c 300 "$WORK/out")"
run $MPI -np 2 "$TDL" train --data "$D" --arch 4-8-3 --epochs 3 --quiet -o "$WORK/mpi-train.safetensors"
expect_status 0 "tdl train under mpirun -np 2"
run "$TDL" train --data "$D" --arch 4-8-3 --epochs 3 --quiet -o "$WORK/one-train.safetensors"
cmp -s "$WORK/mpi-train.safetensors" "$WORK/one-train.safetensors" && ok || bad "tdl train under mpirun: not the one-process model"

finish
