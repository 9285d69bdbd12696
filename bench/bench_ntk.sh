#!/bin/bash
# bench_ntk.sh — the empirical NTK Gram matrix of a shallow ReLU net with
# scalar output on MNIST, tdl (structured formula, BLAS-3, never forms J) vs
# functorch's Jacobian contraction (the torch.func NTK tutorial), float64,
# same threads:
#  1. n = 1000, d = 784, width 1024 (P = 804,865)
#  2. n = 2000, width 4096 (P = 3,219,457): functorch needs 51.5 GB per Jacobian
#     (refused by the script when they do not fit, rather than swapping)
# usage: bench/bench_ntk.sh [BUILD_DIR] [THREADS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
py=/usr/bin/python3
num() { sed -n "s/.*\"$1\": *\([^,}]*\).*/\1/p"; }

t1=$(OPENBLAS_NUM_THREADS=$threads "$build/bench/ntk_bench" 1000 1024 3)
p1=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_ntk.py" "$top/data" 1000 1024 "$threads")
t2=$(OPENBLAS_NUM_THREADS=$threads "$build/bench/ntk_bench" 2000 4096 1)
p2=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_ntk.py" "$top/data" 2000 4096 "$threads")

awk -v a="$(echo "$t1" | num seconds)" -v am="$(echo "$t1" | num peak_rss_mb)" \
    -v b="$(echo "$p1" | num seconds)" \
    -v c="$(echo "$t2" | num seconds)" -v cm="$(echo "$t2" | num peak_rss_mb)" \
    -v dg="$(echo "$p2" | num needs_gb)" -v ds="$(echo "$p2" | num seconds)" -v t="$threads" 'BEGIN {
  printf "bench ntk (%d threads)\n", t;
  printf "  empirical NTK Gram, 784-1024-1 relu, n = 1000 (P = 804865)\n";
  printf "    tdl (structured)     %8.3f s, peak RSS %.0f MB\n", a, am;
  if (b != "") printf "    functorch            %8.2f s (Jacobian contraction)\n    ratio functorch/tdl = %.0f (target >= 50)\n", b, b / a;
  else printf "    functorch            not run\n";
  printf "  empirical NTK Gram, 784-4096-1 relu, n = 2000 (P = 3219457)\n";
  printf "    tdl (structured)     %8.3f s, peak RSS %.0f MB\n", c, cm;
  if (ds != "") printf "    functorch            %8.2f s\n", ds;
  else printf "    functorch            needs %.1f GB for its Jacobians: not run\n", dg;
}'
