#!/bin/bash
# bench_gn_dual.sh — the exact Gauss-Newton spectrum through the kernel dual
# (tdl hessian --gn --method dual) at the size of issue 22: a fresh
# 784-4096-10 ReLU net (He init, seed 0, ce, P = 3,256,330) on n = 1000 MNIST
# training examples, so the dual K is n C = 10,000 square (0.8 GB).
#  1. the dual, values only: Gram assembly, eigen-solve, total, peak memory
#     (/usr/bin/time -v; target: total <= 120 s);
#  2. its top 10 against tdl hessian --gn --method lanczos --k 10 on the same
#     net (both printed, with the differences);
#  3. the class / cross-class split of the same G (--class-split).
# usage: bench/bench_gn_dual.sh [BUILD_DIR] [THREADS] [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
n=${3:-1000}
tdl=$build/tdl
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
num() { sed -n "s/.*\"$1\": *\([^,}]*\).*/\1/p" | head -n 1 | tr -d '"'; }
arr() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" | head -n 1 | tr ',' '\n'; }
net=(--arch 784-4096-10 --act relu --init he --seed 0 --data "mnist:split=train,n=$n" --loss ce --threads "$threads")

echo "bench gn_dual: 784-4096-10 relu (fresh, He, seed 0), mnist train n = $n, ce, $threads threads; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. the dual, values only
/usr/bin/time -v "$tdl" hessian "${net[@]}" --gn --method dual --json >"$out/dual.json" 2>"$out/time.txt"
peak_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$out/time.txt")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$out/time.txt")
cpu=$(awk -F': *' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$out/time.txt")
awk -v s="$(num seconds <"$out/dual.json")" -v g="$(num seconds_gram <"$out/dual.json")" \
    -v e="$(num seconds_eigen <"$out/dual.json")" -v N="$(num gram_order <"$out/dual.json")" \
    -v P="$(num params <"$out/dual.json")" -v r="$(num gn_rank <"$out/dual.json")" \
    -v d="$(num driver <"$out/dual.json")" -v gm="$(num gram_method <"$out/dual.json")" \
    -v kb="$peak_kb" -v w="$wall" -v cpu="$cpu" 'BEGIN {
  printf "  dual K: n C = %d (P = %d), Gram %s, eigen-solve %s\n", N, P, gm, d;
  printf "    Gram assembly   %8.2f s\n    eigen-solve     %8.2f s\n    spectrum total  %8.2f s (target <= 120 s); process wall %s, CPU (user + system) %s s\n", g, e, s, w, cpu;
  printf "    peak memory     %8.2f GB (8 (n C)^2 = %.2f GB for K); rank(G) = %d\n", kb * 1024 / 1e9, 8 * N * N / 1e9, r;
}'
arr gn_eigenvalues <"$out/dual.json" | tail -n 10 | sort -g -r >"$out/dual_top.txt"
arr error_bounds <"$out/dual.json" | tail -n 1 >"$out/dual_bound.txt"

# 2. Lanczos on G (the matrix-free Gauss-Newton products), top 10
"$tdl" hessian "${net[@]}" --gn --method lanczos --k 10 --probes 0 --json >"$out/lanczos.json"
arr gn_eigenvalues <"$out/lanczos.json" | sort -g -r >"$out/lan_top.txt"
arr gn_error_bounds <"$out/lanczos.json" | tac >"$out/lan_bound.txt"
echo "  top 10 of G: dual (exact) vs Lanczos (--gn --method lanczos --k 10, $(num seconds <"$out/lanczos.json") s for H and G)"
paste "$out/dual_top.txt" "$out/lan_top.txt" "$out/lan_bound.txt" | awk -v db="$(cat "$out/dual_bound.txt")" '{ d = $1 - $2; if (d < 0) d = -d;
  within = d <= db + $3 ? "within the bounds" : "OUTSIDE the bounds";
  printf "    %2d  dual %.15g  lanczos %.15g  |diff| %.3g <= %.3g + %.3g? %s\n", NR, $1, $2, d, db, $3, within }'

# 3. the class / cross-class split (eigenvectors of K for the top C: a second, partial solve)
"$tdl" hessian "${net[@]}" --gn --method dual --class-split --k 10 | sed -n '/^method/p;/^class split/,$p'
